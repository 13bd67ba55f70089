#!/usr/bin/env python3
"""Hostile HTTP clients and a latency probe, for the adversarial tests and the bench.

    http_attack.py hold URL MODE N SECONDS [--interval S] [--source IP] [--path P] [--token T]
        Hold N connections to URL's host for SECONDS (bounded), as MODE:
          idle       connect and send nothing
          slowloris  a request line, then one header line every --interval seconds
          slowbody   a POST with a large Content-Length, one byte every --interval seconds
          slowread   a GET of --path (with --token as Authorization), read 1 byte per --interval
        A connection the server closes is opened again (as an attacker does),
        at most N per second.  Prints one JSON line: connections opened, closed by
        the server, open at the end.
    http_attack.py probe URL SECONDS [--interval S] [--path P]
        GET --path (default /healthz) on a new connection every --interval
        seconds (default 0.05) for SECONDS; prints one JSON line with the count,
        failures and latency p50/p99/max in milliseconds.

Standard library only; loopback only in the project's tests.  Every loop is
bounded by SECONDS.
"""
import json
import selectors
import socket
import sys
import time
import urllib.parse


def parse_args(argv):
    """Positional arguments and --name value options."""
    pos, opt = [], {}
    i = 0
    while i < len(argv):
        if argv[i].startswith("--"):
            opt[argv[i][2:]] = argv[i + 1]
            i += 2
        else:
            pos.append(argv[i])
            i += 1
    return pos, opt


def connect(host, port, source):
    """A non-blocking connection in progress (None when the OS refuses one)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setblocking(False)
    try:
        if source:
            s.bind((source, 0))
        s.connect_ex((host, port))
    except OSError:
        s.close()
        return None
    return s


def hold(url, mode, n, seconds, interval, source, path, token):
    """Keep n hostile connections open for seconds; a summary dict."""
    u = urllib.parse.urlparse(url)
    host, port = u.hostname, u.port or 80
    sel = selectors.DefaultSelector()
    conns = {}  # socket -> [next time to act, whether the first bytes went out]
    opened = closed = 0
    end = time.monotonic() + seconds
    hostline = "Host: %s:%d\r\n" % (host, port)
    if mode == "slowbody":
        first = ("POST /api/v1/projects HTTP/1.1\r\n" + hostline +
                 "Content-Type: application/json\r\nContent-Length: 1000000\r\n\r\n{")
    elif mode == "slowread":
        first = "GET %s HTTP/1.1\r\n%sAuthorization: %s\r\n\r\n" % (path, hostline, token or "x")
    else:
        first = "GET /healthz HTTP/1.1\r\n" + hostline
    follow = {"slowloris": b"X-a: b\r\n", "slowbody": b" "}.get(mode)

    def drop(s):
        nonlocal closed
        try:
            sel.unregister(s)
        except (KeyError, ValueError):
            pass
        s.close()
        del conns[s]
        closed += 1

    budget, tick = n, time.monotonic()
    while time.monotonic() < end:
        now = time.monotonic()
        if now - tick >= 1:
            budget, tick = n, now
        while len(conns) < n and budget > 0:
            budget -= 1
            s = connect(host, port, source)
            if s is None:
                break
            if mode == "slowread":
                s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            opened += 1
            conns[s] = [now if mode != "idle" else float("inf"), False]
            sel.register(s, selectors.EVENT_READ)
        for key, _ in sel.select(timeout=0.1):
            s = key.fileobj
            if s not in conns:
                continue
            try:
                data = s.recv(1 if mode == "slowread" else 65536)
            except (BlockingIOError, InterruptedError):
                continue
            except OSError:
                data = b""
            if mode == "slowread" and data:
                sel.unregister(s)  # read again at the next interval only
                conns[s][0] = time.monotonic() + interval
            else:
                drop(s)  # the server answered (an error) or closed: reopen later
        now = time.monotonic()
        for s, st in list(conns.items()):
            if st[0] > now:
                continue
            try:
                if not st[1]:
                    s.send(first.encode())
                    st[1] = True
                elif follow:
                    s.send(follow)
                elif mode == "slowread":
                    sel.register(s, selectors.EVENT_READ)
                st[0] = now + interval
            except (BlockingIOError, InterruptedError):
                st[0] = now + 0.1
            except (OSError, ValueError, KeyError):
                drop(s)
    still = len(conns)
    for s in conns:
        s.close()
    return {"mode": mode, "opened": opened, "closed_by_server": closed, "open_at_end": still}


def probe(url, seconds, interval, path):
    """Latency of one request per interval on a fresh connection."""
    u = urllib.parse.urlparse(url)
    host, port = u.hostname, u.port or 80
    lat, fails, statuses = [], 0, {}
    end = time.monotonic() + seconds
    req = ("GET %s HTTP/1.1\r\nHost: %s:%d\r\nConnection: close\r\n\r\n" % (path, host, port)).encode()
    while time.monotonic() < end:
        t0 = time.monotonic()
        try:
            with socket.create_connection((host, port), timeout=5) as s:
                s.sendall(req)
                buf = b""
                while True:
                    d = s.recv(65536)
                    if not d:
                        break
                    buf += d
            status = int(buf.split(b" ", 2)[1]) if buf.startswith(b"HTTP/1.1 ") else 0
            statuses[status] = statuses.get(status, 0) + 1
            if status != 200:
                fails += 1
            else:
                lat.append((time.monotonic() - t0) * 1000)
        except (OSError, ValueError, IndexError):
            fails += 1
        rest = interval - (time.monotonic() - t0)
        if rest > 0:
            time.sleep(rest)
    lat.sort()

    def pct(p):
        return round(lat[min(len(lat) - 1, int(p * len(lat)))], 2) if lat else None
    return {"path": path, "count": len(lat) + fails, "failures": fails, "p50_ms": pct(0.5),
            "p99_ms": pct(0.99), "max_ms": round(lat[-1], 2) if lat else None,
            "statuses": {str(k): v for k, v in statuses.items()}}


def main():
    pos, opt = parse_args(sys.argv[1:])
    if len(pos) >= 5 and pos[0] == "hold":
        r = hold(pos[1], pos[2], int(pos[3]), float(pos[4]), float(opt.get("interval", "5")),
                 opt.get("source"), opt.get("path", "/healthz"), opt.get("token"))
    elif len(pos) >= 3 and pos[0] == "probe":
        r = probe(pos[1], float(pos[2]), float(opt.get("interval", "0.05")), opt.get("path", "/healthz"))
    else:
        print(__doc__, file=sys.stderr)
        return 2
    print(json.dumps(r), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
