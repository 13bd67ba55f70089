"""The Python tests' one harness, and helpers for the black-box service tests.

Call setup(SERVER) first.  check() counts; summary(label) prints
"label: N passed, N failed" and gives the exit status.  Standard library
only; the object store is read with build/pprl-store (OBJECT_STORE_URL and
S3_* in the environment), the database with psql (PG* variables).
"""
import base64
import http.client
import json
import os
import subprocess
import time
import urllib.parse

STORE_TOOL = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "build", "pprl-store")
URL = None
passed = failed = 0


def setup(server):
    """Point the helpers at the service."""
    global URL
    URL = urllib.parse.urlparse(server)


def summary(label):
    """Print the counts; the exit status for them."""
    print("%s: %d passed, %d failed" % (label, passed, failed))
    return 1 if failed else 0


def check(name, cond, detail=None):
    """Count one assertion; print it (with detail, when given) when it fails."""
    global passed, failed
    if cond:
        passed += 1
    else:
        failed += 1
        print("FAIL:", name, "" if detail is None else detail, flush=True)


def req(method, path, body=None, headers=None, raw=False):
    """One request; (status, parsed JSON or bytes, response headers)."""
    conn = http.client.HTTPSConnection if URL.scheme == "https" else http.client.HTTPConnection
    c = conn(URL.hostname, URL.port, timeout=120)
    h = dict(headers or {})
    if isinstance(body, (dict, list)):
        body = json.dumps(body).encode()
        h.setdefault("Content-Type", "application/json")
    # SERVER may carry a path prefix (an ingress path) before /api/v1
    c.request(method, URL.path.rstrip("/") + "/api/v1" + path, body=body, headers=h)
    r = c.getresponse()
    data = r.read()
    c.close()
    if raw:
        return r.status, data, r
    try:
        return r.status, json.loads(data) if data else None, r
    except ValueError:
        return r.status, data, r


def sql(q):
    return subprocess.run(["psql", "-X", "-At", "-c", q], capture_output=True, text=True,
                          check=True).stdout.strip()


def project(result_type="groups", parties=2, **kw):
    s, p, _ = req("POST", "/projects", {"schema": {}, "result_type": result_type,
                                        "number_parties": parties, **kw})
    assert s == 201, p
    return p


def upload_json(p, i, body, headers=None):
    h = {"Authorization": p["update_tokens"][i]}
    h.update(headers or {})
    if not isinstance(body, (bytes, str)):
        body = json.dumps(body)
    if isinstance(body, str):
        body = body.encode()
    h.setdefault("Content-Type", "application/json")
    return req("POST", "/projects/%s/clks" % p["project_id"], body, h)


def upload_bin(p, i, data, count, size):
    return req("POST", "/projects/%s/binaryclks" % p["project_id"], data,
               {"Authorization": p["update_tokens"][i], "Content-Type": "application/octet-stream",
                "Hash-Count": str(count), "Hash-Size": str(size)})


def rows(p, i):
    return int(sql("SELECT count(*) FROM enc_%s_%d" % (p["project_id"], i)))


def run(p, threshold, wait=True):
    s, r, _ = req("POST", "/projects/%s/runs" % p["project_id"], {"threshold": threshold},
                  {"Authorization": p["result_token"]})
    assert s == 201, r
    if wait:
        return r["run_id"], wait_run(p, r["run_id"])
    return r["run_id"], None


def wait_run(p, rid, token=None, timeout=120):
    """Poll the status until completed or error; check progress is monotone."""
    old, end = None, time.time() + timeout
    while time.time() < end:
        s, st, _ = req("GET", "/projects/%s/runs/%s/status" % (p["project_id"], rid),
                       headers={"Authorization": token or p["result_token"]})
        assert s == 200, st
        if old:
            a, b = old["current_stage"]["number"], st["current_stage"]["number"]
            check("stage never goes back", b >= a)
            if a == b and "progress" in old["current_stage"] and "progress" in st["current_stage"]:
                check("progress monotone", st["current_stage"]["progress"]["relative"] >=
                      old["current_stage"]["progress"]["relative"])
        if st["state"] in ("completed", "error"):
            return st
        old = st
        time.sleep(0.2)
    raise TimeoutError(rid)


def result(p, rid, token=None):
    return req("GET", "/projects/%s/runs/%s/result" % (p["project_id"], rid),
               headers={"Authorization": token or p["result_token"]})


def rand_clks(n, size, rng):
    return [bytes(rng.getrandbits(8) for _ in range(size)) for _ in range(n)]


def b64(clks):
    return [base64.b64encode(c).decode() for c in clks]


def store(*args):
    """Run pprl-store; its stdout (bytes), or None when it failed."""
    r = subprocess.run([STORE_TOOL] + list(args), capture_output=True)
    return r.stdout if r.returncode == 0 else None


def listing(prefix):
    """Keys (relative to prefix) under an object-store prefix."""
    out = store("ls", prefix)
    return sorted(line.split(" ")[0][len(prefix) + 1:] for line in out.decode().splitlines())


def objects(p):
    return listing("uploads/" + p["project_id"])
