#!/usr/bin/env python3
"""The API under hostile clients (scripts/test-adversarial.sh starts PostgreSQL and Redis).

usage: test_adversarial.py [CASE ...]   (no CASE: all, in order)

Starts build/pprl-api (and build/pprl-worker) itself, so that it can kill
and restart them, with short deadlines (see API_ENV) and the file object
store.  Every case is an attack seen against the service, and checks that
the attacked part holds and that everyone else is still served:

  nesting     JSON nested deeper than the bound, everywhere client JSON enters
  idle        16, then 1,000 idle and slowloris connections (4 source addresses)
              while a client uploads and runs; /healthz p99 under 100 ms
  deadlines   idle, head and body deadlines cut connections on time;
              the per-client connection limit holds
  pool        trickling run bodies and stalled result downloads hold no
              database connection: /status and /readyz answer meanwhile
  crash       kill -9 of the API mid-upload: the re-upload with the same
              token works, the unfinished object is removed
  delete      DELETE of a project during its upload, while another project
              uploads: the others answer within a second
  keepalive   a keep-alive request answers in under 2 ms
  http        Connection: close, pipelining, HEAD, 405, smuggling headers,
              garbage request lines, every request logged
  bounds      a 64-bit-overflowing block key, per-client project rate, run
              bounds (429 with Retry-After), failed uploads leave nothing
  uploads     slow uploads: at most 4 per client address, cut under the
              minimum rate, their tokens usable again
  limits      projects, kept runs and runs in flight in all (429)
  workers     a worker killed mid-run (retried within 30 s), Redis emptied
              mid-run (recovered within 60 s): results as without the fault;
              the job stream trimmed; a small run not held up by a project
              with many queued runs

Standard library only; loopback only; every loop bounded in time.
"""
import base64
import hashlib
import http.client
import json
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import http_attack  # noqa: E402
import pprl_testlib as t  # noqa: E402

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
TMP = os.environ["ADV_TMP"]
PORT = int(os.environ["ADV_PORT"])
URL = "http://127.0.0.1:%d" % PORT
API_LOG = os.path.join(TMP, "api.log")
API_ENV = {
    "PPRL_API_LISTEN": "127.0.0.1:%d" % PORT,
    "PPRL_KEEPALIVE_TIMEOUT_SECONDS": "3",
    "PPRL_HEADER_TIMEOUT_SECONDS": "3",
    "PPRL_BODY_TIMEOUT_SECONDS": "4",
    "PPRL_IO_TIMEOUT_SECONDS": "10",
    "PPRL_MAX_CONNECTIONS_PER_CLIENT": "300",
    "PPRL_PROJECTS_PER_MINUTE": "60",
    "PPRL_MAX_ACTIVE_RUNS_PER_PROJECT": "3",
    "PPRL_JANITOR_SECONDS": "1",
    "PPRL_MAX_ENCODING_SIZE": "256",
}
check = t.check


class Proc:
    """A daemon of the test (API or worker), started and killed at will."""

    def __init__(self, argv, env, log):
        self.argv, self.env, self.log, self.p = argv, env, log, None

    def start(self):
        env = dict(os.environ)
        env.update(self.env)
        self.p = subprocess.Popen(self.argv, env=env, stdout=subprocess.DEVNULL,
                                  stderr=open(self.log, "ab"))
        return self

    def kill(self, sig=signal.SIGKILL):
        if self.p and self.p.poll() is None:
            self.p.send_signal(sig)
            self.p.wait(timeout=30)

    def alive(self):
        return self.p is not None and self.p.poll() is None


API = Proc([os.environ.get("ADV_API", os.path.join(ROOT, "build", "pprl-api"))], API_ENV, API_LOG)
WORKER_ENV = {"PPRL_TASK_COMPARISONS": "20000", "PPRL_WORKER_NAME": "worker-0"}
WORKERS = [Proc([os.path.join(ROOT, "build", "pprl-worker")], WORKER_ENV, os.path.join(TMP, "worker-0.log"))]


def start_api():
    """(Re)start the API and wait until it answers."""
    API.start()
    for _ in range(100):
        try:
            if request("GET", "/healthz", timeout=1)[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError("the API did not start")


def request(method, path, body=None, headers=None, source=None, timeout=30):
    """One request on a new connection: (status, parsed JSON or bytes, headers)."""
    c = http.client.HTTPConnection("127.0.0.1", PORT, timeout=timeout,
                                   source_address=(source, 0) if source else None)
    h = dict(headers or {})
    if isinstance(body, (dict, list)):
        body = json.dumps(body).encode()
        h.setdefault("Content-Type", "application/json")
    c.request(method, path if path.startswith("/healthz") or path.startswith("/readyz")
              or path.startswith("/metrics") else "/api/v1" + path, body=body, headers=h)
    r = c.getresponse()
    data = r.read()
    c.close()
    try:
        return r.status, json.loads(data) if data else None, r
    except ValueError:
        return r.status, data, r


def raw(data, source=None, timeout=5, read_all=True):
    """Send raw bytes, return everything the server sends until it closes (or timeout)."""
    s = socket.create_connection(("127.0.0.1", PORT), timeout=timeout,
                                 source_address=(source, 0) if source else None)
    s.sendall(data)
    out = b""
    try:
        while True:
            d = s.recv(65536)
            if not d:
                break
            out += d
            if not read_all and b"\r\n\r\n" in out:
                break
    except socket.timeout:
        out += b"<timeout>"
    s.close()
    return out


def project(parties=2, source=None, **kw):
    s, p, _ = request("POST", "/projects", {"schema": {}, "result_type": kw.pop("result_type", "groups"),
                                            "number_parties": parties, **kw}, source=source)
    assert s == 201, (s, p)
    return p


def clks(n, seed, size=128):
    rng = random.Random(seed)
    return [bytes(rng.getrandbits(8) for _ in range(size)) for _ in range(n)]


def planted(n, seed):
    """Two parties' CLKs, record i of each a noisy copy of the other."""
    a = clks(n, seed)
    rng = random.Random(seed + 1)
    b = []
    for c in a:
        x = bytearray(c)
        for _ in range(20):
            x[rng.randrange(len(x))] ^= 1 << rng.randrange(8)
        b.append(bytes(x))
    return a, b


def b64(cs):
    return [base64.b64encode(c).decode() for c in cs]


def upload(p, i, cs, source=None):
    return request("POST", "/projects/%s/clks" % p["project_id"], {"clks": b64(cs)},
                   {"Authorization": p["update_tokens"][i]}, source=source)


def run(p, threshold, source=None):
    s, r, h = request("POST", "/projects/%s/runs" % p["project_id"], {"threshold": threshold},
                      {"Authorization": p["result_token"]}, source=source)
    return s, r, h


def wait_run(p, rid, timeout=120):
    end = time.time() + timeout
    while time.time() < end:
        s, st, _ = request("GET", "/projects/%s/runs/%s/status" % (p["project_id"], rid),
                           headers={"Authorization": p["result_token"]})
        if s == 200 and st["state"] in ("completed", "error"):
            return st
        time.sleep(0.2)
    return None


def groups(p, rid):
    s, r, _ = request("GET", "/projects/%s/runs/%s/result" % (p["project_id"], rid),
                      headers={"Authorization": p["result_token"]})
    return sorted(sorted(tuple(m) for m in g) for g in r["groups"]) if s == 200 else None


def sql(q):
    return subprocess.run(["psql", "-X", "-At", "-c", q], capture_output=True, text=True,
                          check=True).stdout.strip()


def objects(prefix):
    base = os.path.join(TMP, "objects", prefix)
    out = []
    for d, _, fs in os.walk(base):
        out += [os.path.join(d, f) for f in fs]
    return out


def log_lines():
    out = []
    with open(API_LOG, "rb") as f:
        for line in f:
            try:
                out.append(json.loads(line))
            except ValueError:
                pass
    return out


def timed(fn, *a, **kw):
    t0 = time.monotonic()
    r = fn(*a, **kw)
    return r, time.monotonic() - t0


# ---- cases ----------------------------------------------------------------


def case_nesting():
    """Client JSON nested past the bound is a 400 wherever it enters; at the bound it works."""
    deep = lambda n: "[" * n + "]" * n  # noqa: E731
    for n in (33, 300, 100000):
        body = '{"schema": {"a": %s}, "result_type": "groups"}' % deep(n)
        s, r, _ = request("POST", "/projects", body.encode(), {"Content-Type": "application/json"})
        check("project schema nested %d: 400" % n, s == 400 and "nested" in r.get("detail", ""), (s, r))
    s, r, _ = request("POST", "/projects", ('{"schema": {"a": %s}, "result_type": "groups"}' % deep(30)).encode(),
                      {"Content-Type": "application/json"})
    check("project schema nested to the bound: 201", s == 201, (s, r))
    if s == 201:
        s2, d, _ = request("GET", "/projects/%s" % r["project_id"], headers={"Authorization": r["result_token"]})
        check("its description comes back", s2 == 200 and json.dumps(d["schema"]).count("[") == 30)
    p = project()
    for n in (1000, 20000):
        s, r, _ = request("POST", "/projects/%s/runs" % p["project_id"],
                          ('{"threshold": 0.8, "name": %s}' % deep(n)).encode(),
                          {"Authorization": p["result_token"], "Content-Type": "application/json"})
        check("run body nested %d: 400" % n, s == 400, (s, r))
    s, r, _ = request("POST", "/projects/%s/clks" % p["project_id"],
                      ('{"encodings": {"file": %s}}' % deep(5000)).encode(),
                      {"Authorization": p["update_tokens"][0], "Content-Type": "application/json"})
    check("pointer upload nested 5000: refused (4xx/501)", s in (400, 501), s)
    s, r, _ = request("POST", "/projects/%s/clks" % p["project_id"], ('{"clks": %s}' % deep(5000)).encode(),
                      {"Authorization": p["update_tokens"][0], "Content-Type": "application/json"})
    check("upload nested 5000: 400", s == 400, s)
    check("the API is alive after all of it", API.alive() and request("GET", "/healthz")[0] == 200)


def legit_work(results, seed):
    """What a real party does: a project, two uploads, a run to completion."""
    try:
        a, b = planted(300, seed)
        p = project()
        s1 = upload(p, 0, a)[0]
        s2 = upload(p, 1, b)[0]
        s3, r, _ = run(p, 0.8)
        st = wait_run(p, r["run_id"], timeout=60) if s3 == 201 else None
        results.append((s1, s2, s3, st and st["state"]))
    except Exception as e:  # noqa: BLE001 - recorded as a failure
        results.append(("exception", repr(e)))


def case_idle():
    """Idle and slowloris connections cannot starve anyone."""
    out = {}

    def hold(name, mode, n, secs, source):
        out[name] = http_attack.hold(URL, mode, n, secs, 1.0, source, "/healthz", None)

    t = threading.Thread(target=hold, args=("idle16", "idle", 16, 6, "127.0.0.2"))
    t.start()
    time.sleep(1)
    pr = http_attack.probe(URL, 3, 0.05, "/healthz")
    t.join()
    check("16 idle connections: /healthz answers", pr["failures"] == 0 and pr["count"] > 20, pr)
    check("16 idle connections: /healthz p99 under 100 ms", pr["p99_ms"] is not None and pr["p99_ms"] < 100, pr)

    threads = []
    for i, mode in enumerate(("idle", "slowloris", "idle", "slowloris")):
        th = threading.Thread(target=hold, args=("h%d" % i, mode, 250, 14, "127.0.0.%d" % (4 + i)))
        th.start()
        threads.append(th)
    time.sleep(3)
    held = len(os.listdir("/proc/%d/fd" % API.p.pid))
    check("1,000 hostile connections are held open", held >= 900, held)
    legit = []
    lt = threading.Thread(target=legit_work, args=(legit, 7))
    lt.start()
    pr = http_attack.probe(URL, 6, 0.05, "/healthz")
    lt.join(timeout=60)
    for th in threads:
        th.join()
    check("1,000 hostile connections: /healthz never fails", pr["failures"] == 0 and pr["count"] > 50, pr)
    check("1,000 hostile connections: /healthz p99 under 100 ms", pr["p99_ms"] is not None and pr["p99_ms"] < 100,
          pr)
    check("1,000 hostile connections: a party uploads and runs to completion",
          legit == [(201, 201, 201, "completed")], legit)
    opened = sum(out["h%d" % i]["opened"] for i in range(4))
    check("the slowloris connections were cut by the head deadline and came back",
          out["h1"]["closed_by_server"] > 0 and out["h3"]["closed_by_server"] > 0, out)
    check("the attackers kept about 1,000 connections", opened >= 1000, opened)


def case_deadlines():
    """Each phase's deadline closes a connection on time; the per-client limit holds."""
    def closed_after(sock, limit):
        sock.settimeout(limit)
        t0 = time.monotonic()
        try:
            while sock.recv(4096):
                pass
        except socket.timeout:
            return None
        except OSError:
            pass
        return time.monotonic() - t0

    s = socket.create_connection(("127.0.0.1", PORT))
    took = closed_after(s, 10)
    check("an idle connection is closed after the keep-alive deadline (3 s)", took is not None and 2 < took < 6, took)
    def trickle(first, more, every, limit):
        """Send first, then more every `every` seconds: seconds until the server cut it (or limit)."""
        s = socket.create_connection(("127.0.0.1", PORT))
        s.sendall(first)
        t0 = time.monotonic()
        while time.monotonic() - t0 < limit:
            try:
                s.sendall(more)
                s.settimeout(every)
                if s.recv(1) == b"":
                    break
            except socket.timeout:
                pass
            except OSError:
                break
        s.close()
        return time.monotonic() - t0

    took = trickle(b"GET /healthz HTTP/1.1\r\nHost: x\r\n", b"X-a: b\r\n", 1, 10)
    check("a head trickling a line a second is cut by the head deadline (3 s)", took < 6, took)
    p = project()
    took = trickle(("POST /api/v1/projects/%s/runs HTTP/1.1\r\nHost: x\r\nAuthorization: %s\r\n"
                    "Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"
                    % (p["project_id"], p["result_token"])).encode(), b" ", 0.5, 12)
    check("a body trickling a byte every half second is cut by the body deadline (4 s)", took < 8, took)
    # the per-client connection limit (300 in this test) from one address
    socks, refused = [], 0
    for _ in range(320):
        try:
            socks.append(socket.create_connection(("127.0.0.1", PORT), timeout=2, source_address=("127.0.0.9", 0)))
        except OSError:
            refused += 1
    time.sleep(0.5)
    closed = 0
    for x in socks:
        x.setblocking(False)
        try:
            if x.recv(1) == b"":
                closed += 1
        except BlockingIOError:
            pass
        except OSError:
            closed += 1
    check("one address gets at most its connection limit", refused + closed >= 20, (refused, closed))
    check("others are served meanwhile", request("GET", "/healthz")[0] == 200)
    for x in socks:
        x.close()


def slow_body(path, token, length, stop, source="127.0.0.2"):
    """A request whose body trickles (a byte every 0.5 s) until stop is set."""
    try:
        s = socket.create_connection(("127.0.0.1", PORT), source_address=(source, 0))
        s.sendall(("POST %s HTTP/1.1\r\nHost: x\r\nAuthorization: %s\r\nContent-Type: application/json\r\n"
                   "Content-Length: %d\r\n\r\n{" % (path, token, length)).encode())
        while not stop.is_set():
            s.sendall(b" ")
            stop.wait(0.5)
        s.close()
    except OSError:
        pass


def case_pool():
    """Slow bodies and stalled downloads hold no database connection."""
    p = project()
    stop = threading.Event()
    ths = [threading.Thread(target=slow_body, args=("/api/v1/projects/%s/runs" % p["project_id"], p["result_token"],
                                                     5000, stop)) for _ in range(8)]
    for th in ths:
        th.start()
    time.sleep(1)
    worst = 0
    for _ in range(10):
        (st, _, _), took = timed(request, "GET", "/status")
        (rd, _, _), took2 = timed(request, "GET", "/readyz")
        worst = max(worst, took, took2)
        check("/status and /readyz answer while 8 run bodies trickle", st == 200 and rd == 200, (st, rd))
    check("... each within a second", worst < 1, worst)
    stop.set()
    for th in ths:
        th.join()

    # a similarity-score result of ~25 MB, read by 8 clients that stop reading
    q = project(result_type="similarity_scores")
    same = clks(1, 3)[0]
    upload(q, 0, [same] * 1000)
    upload(q, 1, [same] * 1000)
    s, r, _ = run(q, 0.5)
    st = wait_run(q, r["run_id"], timeout=120)
    check("a 1,000,000-pair similarity-score run completes", st and st["state"] == "completed", st)
    stalled = []
    for _ in range(8):
        x = socket.socket()
        x.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        x.connect(("127.0.0.1", PORT))
        x.sendall(("GET /api/v1/projects/%s/runs/%s/result HTTP/1.1\r\nHost: x\r\nAuthorization: %s\r\n\r\n"
                   % (q["project_id"], r["run_id"], q["result_token"])).encode())
        x.recv(100)
        stalled.append(x)
    time.sleep(2)
    worst = 0
    for _ in range(10):
        (st, _, _), took = timed(request, "GET", "/status")
        (st2, _, _), took2 = timed(request, "GET", "/projects/%s/runs" % q["project_id"],
                                   headers={"Authorization": q["result_token"]})
        worst = max(worst, took, took2)
        check("/status and the runs list answer while 8 downloads stall", st == 200 and st2 == 200, (st, st2))
    check("... each within a second", worst < 1, worst)
    for x in stalled:
        x.close()
    s, res, _ = request("GET", "/projects/%s/runs/%s/result" % (q["project_id"], r["run_id"]),
                        headers={"Authorization": q["result_token"]})
    check("a full download still works afterwards", s == 200 and len(res["similarity_scores"]) == 1000000,
          s)


def case_crash():
    """kill -9 of the API mid-upload: the party re-uploads with the same token."""
    p = project()
    n = 131072  # 128 MB of 1024-byte encodings would be slow here: 128-byte ones, 16 MB
    rec = os.urandom(128)
    body = rec * n
    s = socket.create_connection(("127.0.0.1", PORT))
    s.sendall(("POST /api/v1/projects/%s/binaryclks HTTP/1.1\r\nHost: x\r\nAuthorization: %s\r\n"
               "Content-Type: application/octet-stream\r\nHash-Count: %d\r\nHash-Size: 128\r\n"
               "Content-Length: %d\r\n\r\n" % (p["project_id"], p["update_tokens"][0], n, len(body))).encode())
    s.sendall(body[:len(body) // 2])
    time.sleep(1)
    tmp_before = [f for f in objects("uploads/" + p["project_id"]) if ".tmp" in f]
    check("the upload is being written (a temporary object exists)", len(tmp_before) == 1, tmp_before)
    API.kill(signal.SIGKILL)
    s.close()
    start_api()
    check("no claim is left behind", sql("SELECT count(*) FROM dataproviders WHERE project_id = '%s' "
                                         "AND uploaded <> 'not_started'" % p["project_id"]) == "0")
    s2, r, _ = request("POST", "/projects/%s/binaryclks" % p["project_id"], body,
                       {"Authorization": p["update_tokens"][0], "Content-Type": "application/octet-stream",
                        "Hash-Count": str(n), "Hash-Size": "128"}, timeout=120)
    check("the re-upload with the same token is 201", s2 == 201, (s2, r))
    check("its rows are all there, once", sql("SELECT count(*) FROM enc_%s_0" % p["project_id"]) == str(n))
    end = time.time() + 10
    while time.time() < end and any(f in objects("uploads/" + p["project_id"]) for f in tmp_before):
        time.sleep(0.2)
    left = [f for f in objects("uploads/" + p["project_id"]) if ".tmp" in f]
    check("the dead upload's temporary object is removed", not left, left)
    check("no upload session is left", sql("SELECT count(*) FROM upload_sessions") == "0")


def case_delete():
    """Deleting a project during its upload never stalls other projects."""
    x, y = project(), project()
    stop = threading.Event()
    done = {}

    def trickle(p, key):
        # a binary upload sent fast enough to pass the rate bound, slowly enough to last
        n = 4096
        body = os.urandom(128) * n
        try:
            s = socket.create_connection(("127.0.0.1", PORT))
            s.sendall(("POST /api/v1/projects/%s/binaryclks HTTP/1.1\r\nHost: x\r\nAuthorization: %s\r\n"
                       "Content-Type: application/octet-stream\r\nHash-Count: %d\r\nHash-Size: 128\r\n"
                       "Content-Length: %d\r\n\r\n" % (p["project_id"], p["update_tokens"][0], n, len(body))).encode())
            for i in range(0, len(body), 32768):
                s.sendall(body[i:i + 32768])
                time.sleep(0.25 if not stop.is_set() else 0)
            s.settimeout(20)
            done[key] = s.recv(4096)
            s.close()
        except OSError as e:
            done[key] = repr(e).encode()

    tx = threading.Thread(target=trickle, args=(x, "x"))
    ty = threading.Thread(target=trickle, args=(y, "y"))
    tx.start()
    ty.start()
    time.sleep(1.5)
    (sd, _, _), took = timed(request, "DELETE", "/projects/%s" % x["project_id"],
                             headers={"Authorization": x["result_token"]})
    check("DELETE during an upload answers 204 within 2 s", sd == 204 and took < 2, (sd, took))
    worst = 0
    for _ in range(5):
        (sp, _, _), t1 = timed(request, "POST", "/projects", {"schema": {}, "result_type": "groups"})
        (ss, _, _), t2 = timed(request, "GET", "/status")
        worst = max(worst, t1, t2)
        check("other requests succeed meanwhile", sp == 201 and ss == 200, (sp, ss))
    check("... each within a second", worst < 1, worst)
    stop.set()
    tx.join(timeout=30)
    ty.join(timeout=30)
    check("the other project's upload completes", done.get("y", b"").startswith(b"HTTP/1.1 201"), done.get("y"))
    check("the deleted project's upload does not", not done.get("x", b"").startswith(b"HTTP/1.1 201"), done.get("x"))
    end = time.time() + 10
    while time.time() < end and sql("SELECT count(*) FROM pg_class WHERE relname LIKE 'enc_%s%%'" % x["project_id"]) != "0":
        time.sleep(0.2)
    check("the deleted project's tables are gone",
          sql("SELECT count(*) FROM pg_class WHERE relname LIKE 'enc_%s%%'" % x["project_id"]) == "0")
    check("... and its rows", sql("SELECT count(*) FROM projects WHERE project_id = '%s'" % x["project_id"]) == "0")
    end = time.time() + 10
    while time.time() < end and objects("uploads/" + x["project_id"]):
        time.sleep(0.2)
    check("... and its objects", not objects("uploads/" + x["project_id"]))


def case_keepalive():
    """A keep-alive request is answered in well under 2 ms (no Nagle stall)."""
    c = http.client.HTTPConnection("127.0.0.1", PORT, timeout=5)
    for path, name in (("/healthz", "/healthz"), ("/api/v1/status", "/status")):
        lat = []
        for _ in range(200):
            t0 = time.perf_counter()
            c.request("GET", path)
            r = c.getresponse()
            r.read()
            lat.append((time.perf_counter() - t0) * 1000)
        lat.sort()
        check("keep-alive %s median under 2 ms" % name, lat[100] < 2, lat[100])
        # /status runs a query (on the sanitizer build): its tail is the database's, not Nagle's 40 ms
        limit = 2 if name == "/healthz" else 10
        check("keep-alive %s p90 under %d ms" % (name, limit), lat[180] < limit, lat[180])
    c.close()


def case_http():
    """HTTP/1.1 as it should be; nothing a proxy could read two ways."""
    out = raw(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    check("Connection: close is answered with it", b"\r\nConnection: close\r\n" in out and out.startswith(b"HTTP/1.1 200"))
    check("... and the connection is closed", not out.endswith(b"<timeout>"), out[-40:])
    out = raw(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\nGET /api/v1/version HTTP/1.1\r\nHost: x\r\n\r\n"
              b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", timeout=5)
    check("pipelined requests are answered in order", out.count(b"HTTP/1.1 200") == 3 and
          out.index(b"entityservice") > out.index(b"HTTP/1.1 200"), out[:200])
    check("only the last pipelined answer says close", out.count(b"Connection: close") == 1)
    out = raw(b"HEAD /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    head, _, body = out.partition(b"\r\n\r\n")
    check("HEAD: 200 with no body", head.startswith(b"HTTP/1.1 200") and body == b"", out)
    for method in ("DELETE", "POST", "PUT"):
        s, r, h = request(method, "/healthz")
        check("%s /healthz is 405 with Allow" % method, s == 405 and "GET" in (h.getheader("Allow") or ""), s)
    s, r, h = request("DELETE", "/projects")
    check("DELETE /projects is 405 with Allow: GET, HEAD, POST", s == 405 and h.getheader("Allow") == "GET, POST, HEAD",
          h.getheader("Allow"))
    s, r, h = request("GET", "/projects/%s/clks" % ("a" * 48))
    check("GET on an upload route is 405", s == 405, s)
    for name, req in (
            ("Content-Length with Transfer-Encoding", b"POST /api/v1/projects HTTP/1.1\r\nHost: x\r\n"
             b"Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
            ("two different Content-Lengths", b"POST /api/v1/projects HTTP/1.1\r\nHost: x\r\n"
             b"Content-Length: 2\r\nContent-Length: 40\r\n\r\n{}"),
            ("a Content-Length list", b"POST /api/v1/projects HTTP/1.1\r\nHost: x\r\nContent-Length: 2, 2\r\n\r\n{}"),
            ("Transfer-Encoding twice", b"POST /api/v1/projects HTTP/1.1\r\nHost: x\r\n"
             b"Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n")):
        out = raw(req)
        check("%s: 400" % name, out.startswith(b"HTTP/1.1 400"), out[:60])
        check("%s: connection closed" % name, not out.endswith(b"<timeout>"))
    out = raw(b"POST /api/v1/projects HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n")
    check("Transfer-Encoding other than chunked: 501", out.startswith(b"HTTP/1.1 501"), out[:60])
    out = raw(b"POST /api/v1/projects HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 2\r\n"
              b"Connection: close\r\n\r\n{}")
    check("the same Content-Length twice is one (a 400 from the body, not the framing)",
          out.startswith(b"HTTP/1.1 400") and b"schema" in out, out[:300])
    chunked = b'{"schema": {}, "result_type": "groups"}'
    out = raw(b"POST /api/v1/projects HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n"
              b"Content-Type: application/json\r\n\r\n%x\r\n%s\r\n0\r\n\r\n" % (len(chunked), chunked))
    check("a chunked body works", out.startswith(b"HTTP/1.1 201"), out[:80])
    out = raw(b"\x16\x03\x01\x02\x00garbage\r\n\r\n")
    check("a garbage request line is refused", out.startswith(b"HTTP/1.1 400") or out == b"", out[:60])
    raw(b"BREW /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    time.sleep(0.3)
    lines = [x for x in log_lines() if x.get("msg") == "request"]
    check("every request log line has method, route and status",
          lines and all(all(k in x for k in ("method", "route", "status")) for x in lines), lines[-3:])
    check("the HTTP layer's refusals are logged with their status",
          any(x.get("status") == 400 and x.get("route") == "other" for x in lines))
    check("an unknown method is logged as such",
          any(x.get("method") == "BREW" and x.get("status") == 405 for x in lines))
    check("a Content-Length + Transfer-Encoding request is logged with method and 400",
          any(x.get("method") == "POST" and x.get("route") == "other" and x.get("status") == 400 for x in lines)
          or any(x.get("method") == "POST" and x.get("status") == 400 for x in lines))


def case_bounds():
    """Client-controlled growth is bounded, with clear answers."""
    p = project(uses_blocking=True)
    a = b64(clks(3, 11))
    s, r, _ = request("POST", "/projects/%s/clks" % p["project_id"],
                      {"encodings": a, "blocks": {"0": ["x"], "18446744073709551616": ["y"]}},
                      {"Authorization": p["update_tokens"][0]})
    check("a block key over 64 bits: 400 naming it", s == 400 and "out of range" in r.get("detail", ""), (s, r))
    check("... and nothing stored", sql("SELECT count(*) FROM enc_%s_0" % p["project_id"]) == "0")
    # project creation per client address: 60 a minute here, from 127.0.0.3
    codes = [request("POST", "/projects", {"schema": {}, "result_type": "groups"}, source="127.0.0.3")
             for _ in range(62)]
    limited = [c for c in codes if c[0] == 429]
    check("project creation beyond the per-client rate: 429", len(limited) >= 1, [c[0] for c in codes][-5:])
    check("... with Retry-After", limited and int(limited[0][2].getheader("Retry-After") or 0) >= 1)
    check("... naming the setting", limited and "PPRL_PROJECTS_PER_MINUTE" in limited[0][1]["detail"])
    check("another address still creates projects", request("POST", "/projects", {"schema": {}, "result_type": "groups"})[0] == 201)
    # runs: at most 3 not yet finished per project here
    q = project()
    codes = [run(q, 0.9) for _ in range(4)]
    check("a fourth unfinished run of a project: 429", [c[0] for c in codes] == [201, 201, 201, 429],
          [c[0] for c in codes])
    check("... with Retry-After and the setting", codes[3][2].getheader("Retry-After") and
          "PPRL_MAX_ACTIVE_RUNS_PER_PROJECT" in codes[3][1]["detail"])
    # an oversized JSON upload (encodings over PPRL_MAX_ENCODING_SIZE) is an error that keeps nothing
    big = b64(clks(3, 12, size=512))
    s, r, _ = request("POST", "/projects/%s/clks" % q["project_id"], {"clks": big}, {"Authorization": q["update_tokens"][0]})
    check("oversized encodings: recorded as an error (201 as upstream)", s == 201, (s, r))
    check("... with no object kept", not objects("uploads/" + q["project_id"]))
    for bad in ({"clks": ["not base64"]}, b'{"clks": ["AAAA", '):
        request("POST", "/projects/%s/clks" % q["project_id"], bad, {"Authorization": q["update_tokens"][1],
                                                                     "Content-Type": "application/json"})
    check("failed uploads leave no object", not objects("uploads/" + q["project_id"]))


def case_uploads():
    """Slow uploads cannot take every upload slot: a per-client bound, and a minimum rate."""
    projects = [project() for _ in range(5)]
    stop = threading.Event()
    cut = {}

    def slow_upload(i):
        p = projects[i]
        try:
            s = socket.create_connection(("127.0.0.1", PORT), source_address=("127.0.0.7", 0))
            s.sendall(("POST /api/v1/projects/%s/clks HTTP/1.1\r\nHost: x\r\nAuthorization: %s\r\n"
                       "Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n{\"clks\": ["
                       % (p["project_id"], p["update_tokens"][0])).encode())
            t0 = time.monotonic()
            s.settimeout(0.5)
            while not stop.is_set() and time.monotonic() - t0 < 30:
                s.sendall(b" ")
                try:
                    if s.recv(4096) == b"":
                        break
                except socket.timeout:
                    pass
            cut[i] = time.monotonic() - t0
            s.close()
        except OSError:
            cut[i] = time.monotonic() - t0

    ths = [threading.Thread(target=slow_upload, args=(i,)) for i in range(4)]
    for th in ths:
        th.start()
    time.sleep(1)
    p = projects[4]
    s, r, h = request("POST", "/projects/%s/clks" % p["project_id"], {"clks": b64(clks(2, 5))},
                      {"Authorization": p["update_tokens"][0]}, source="127.0.0.7")
    check("a fifth upload from one address while four trickle: 429", s == 429, (s, r))
    check("... with Retry-After, naming the setting", h.getheader("Retry-After") and
          "PPRL_MAX_UPLOADS_PER_CLIENT" in r.get("detail", ""))
    s, r, _ = upload(p, 0, clks(2, 5))
    check("another address uploads meanwhile", s == 201, (s, r))
    for th in ths:
        th.join(timeout=40)
    stop.set()
    check("uploads trickling under PPRL_MIN_UPLOAD_RATE are cut (window of 5 s here)",
          len(cut) == 4 and all(t < 15 for t in cut.values()), cut)
    # the server lets go of a cut upload as soon as its thread sees the connection gone
    got = []
    wait_for(lambda: got.append(upload(projects[0], 0, clks(2, 5), source="127.0.0.7")) or got[-1][0] == 201, 5, 0.2)
    check("the cut uploads' tokens and slots are usable again (within 5 s)", got and got[-1][0] == 201, got[-1][:2])
    check("they left no object behind", not objects("uploads/" + projects[1]["project_id"]))


def case_limits():
    """The bounds in all: projects, kept runs, runs in flight (429 with Retry-After)."""
    n = int(sql("SELECT count(*) FROM projects"))
    active = int(sql("SELECT count(*) FROM runs WHERE state IN ('queued', 'running')"))
    API.kill(signal.SIGTERM)
    API.env = dict(API_ENV, PPRL_MAX_PROJECTS=str(n + 2), PPRL_MAX_RUNS_PER_PROJECT="2",
                   PPRL_MAX_ACTIVE_RUNS=str(active + 1))
    start_api()
    try:
        codes = [request("POST", "/projects", {"schema": {}, "result_type": "groups"})[0] for _ in range(3)]
        check("projects beyond PPRL_MAX_PROJECTS: 429", codes == [201, 201, 429], codes)
        sql("DELETE FROM projects WHERE project_id IN (SELECT project_id FROM projects ORDER BY time_added DESC LIMIT 2)")
        p = project()
        codes = [run(p, 0.9) for _ in range(3)]
        check("runs beyond PPRL_MAX_RUNS_PER_PROJECT: 429", [c[0] for c in codes] == [201, 201, 429],
              [c[0] for c in codes])
        check("... naming the setting", "PPRL_MAX_RUNS_PER_PROJECT" in codes[2][1]["detail"])
        q = linked_project(50, 41)
        sql("UPDATE runs SET state = 'queued', enqueued = true WHERE project_id = '%s'" % p["project_id"])
        s, r, h = run(q, 0.9)
        check("runs beyond PPRL_MAX_ACTIVE_RUNS in all: 429", s == 429 and "PPRL_MAX_ACTIVE_RUNS" in r["detail"], (s, r))
        check("... with Retry-After", h.getheader("Retry-After"))
        sql("UPDATE runs SET state = 'error' WHERE project_id = '%s'" % p["project_id"])
    finally:
        API.kill(signal.SIGTERM)
        API.env = API_ENV
        start_api()


def redis(*args):
    return subprocess.run(["redis-cli", "-u", os.environ["REDIS_URL"]] + list(args), capture_output=True,
                          text=True, check=True).stdout.strip()


def linked_project(n, seed, source=None):
    """A project with two uploaded parties of n planted records."""
    a, b = planted(n, seed)
    p = project(source=source)
    assert upload(p, 0, a, source=source)[0] == 201 and upload(p, 1, b, source=source)[0] == 201
    return p


def wait_for(cond, secs, step=0.1):
    end = time.time() + secs
    while time.time() < end:
        if cond():
            return True
        time.sleep(step)
    return False


def freeze_holding(proc, name, secs):
    """Stop (SIGSTOP) a worker at a moment it holds a job, so that a kill lands while it does."""
    end = time.time() + secs
    while time.time() < end:
        if name in redis("XPENDING", "pprl:jobs", "workers"):
            proc.p.send_signal(signal.SIGSTOP)
            time.sleep(0.05)
            if name in redis("XPENDING", "pprl:jobs", "workers"):
                return True
            proc.p.send_signal(signal.SIGCONT)
        time.sleep(0.01)
    return False


def case_workers():
    """Workers die, Redis forgets: runs still complete once, soon, with the same results."""
    if len(WORKERS) == 1:
        WORKERS.append(Proc(WORKERS[0].argv, dict(WORKER_ENV, PPRL_WORKER_NAME="worker-1"),
                            os.path.join(TMP, "worker-1.log")).start())
    time.sleep(1)
    ref = linked_project(2000, 21)
    s, r, _ = run(ref, 0.8)
    st = wait_run(ref, r["run_id"])
    check("a fault-free run completes", st and st["state"] == "completed", st)
    want = groups(ref, r["run_id"])
    check("... with the planted groups", want and len(want) >= 1900, len(want or []))

    # a worker killed while it holds a job
    p = linked_project(2000, 21)
    s, r, _ = run(p, 0.8)
    held = freeze_holding(WORKERS[1], "worker-1", 20)
    check("the second worker holds a job (frozen while it does)", held)
    t_kill = time.time()
    WORKERS[1].kill(signal.SIGKILL)
    st = wait_run(p, r["run_id"], timeout=60)
    took = time.time() - t_kill
    check("a worker killed mid-run: the run completes", st and st["state"] == "completed", st)
    check("... within 30 s of the kill", took < 30, took)
    check("... with the same groups", groups(p, r["run_id"]) == want)
    check("... its job taken over as the dead worker's",
          "took over the jobs of a dead worker" in open(os.path.join(TMP, "worker-0.log")).read())
    WORKERS[1].start()

    # Redis emptied in the middle of a run
    p = linked_project(2000, 21)
    s, r, _ = run(p, 0.8)
    wait_for(lambda: sql("SELECT count(*) FROM run_tasks WHERE run_id = '%s' AND state = 'done'" % r["run_id"]) not in ("", "0"), 20, 0.01)
    t_flush = time.time()
    redis("FLUSHALL")
    st = wait_run(p, r["run_id"], timeout=90)
    took = time.time() - t_flush
    check("Redis emptied mid-run: the run completes", st and st["state"] == "completed", st)
    check("... within 60 s", took < 60, took)
    check("... with the same groups", groups(p, r["run_id"]) == want)
    check("... completed once", sql("SELECT count(*) FROM run_results WHERE run_id = '%s'" % r["run_id"]) == "1")
    check("... the loss noticed as such", any("Redis lost its data" in open(w.log).read() for w in WORKERS))

    # fairness: a project with three big runs queued does not hold up a small run
    a = linked_project(4000, 31)
    rids = [run(a, 0.8)[1]["run_id"] for _ in range(3)]
    small = linked_project(100, 32)
    wait_for(lambda: sql("SELECT count(*) FROM run_tasks WHERE run_id = '%s' AND state = 'done'" % rids[0]) not in ("", "0"), 30, 0.01)
    t0 = time.time()
    s, r, _ = run(small, 0.8)
    st = wait_run(small, r["run_id"], timeout=60)
    took = time.time() - t0
    first = sql("SELECT state FROM runs WHERE run_id = '%s'" % rids[0])
    left = sql("SELECT count(*) FROM run_tasks WHERE run_id IN ('%s') AND state = 'pending'" % "','".join(rids))
    check("a small run behind a project's three big runs completes", st and st["state"] == "completed", st)
    check("... while the big project's first run is still running", first == "running", (first, left, took))
    check("... in a few seconds (%.1f s)" % took, took < 5, took)
    check("the big project's runs go one at a time",
          sql("SELECT count(*) FROM runs WHERE run_id IN ('%s') AND state = 'running'" % "','".join(rids)) in ("0", "1"))
    for rid in rids:
        st = wait_run(a, rid, timeout=120)
        check("... and all complete", st and st["state"] == "completed", st)
    # the job stream holds only work not yet done
    check("the job stream is empty once all is done", wait_for(lambda: redis("XLEN", "pprl:jobs") == "0", 10),
          redis("XLEN", "pprl:jobs"))


CASES = ["nesting", "idle", "deadlines", "pool", "crash", "delete", "keepalive", "http", "bounds", "uploads",
         "limits", "workers"]


def main():
    want = sys.argv[1:] or CASES
    start_api()
    WORKERS[0].start()
    try:
        for name in want:
            t0 = time.monotonic()
            before = t.failed
            globals()["case_" + name]()
            print("%-10s %s in %.1f s" % (name, "ok" if t.failed == before else "FAILED", time.monotonic() - t0),
                  flush=True)
            if not API.alive():
                check("the API is still running after %s" % name, False)
                start_api()
    finally:
        API.kill(signal.SIGTERM)
        for w in WORKERS:
            w.kill(signal.SIGTERM)
    check("the API stops cleanly on SIGTERM", API.p.returncode == 0, API.p.returncode)
    with open(API_LOG, errors="replace") as f:
        report = [x for x in f if "Sanitizer" in x or "runtime error" in x]
    check("no sanitizer report from the API", not report, report[:5])
    return t.summary("adversarial")


if __name__ == "__main__":
    sys.exit(main())
