#!/usr/bin/env python3
"""A big binary upload streamed through the API, with the server's memory watched.

Usage: test_big_upload.py SERVER MEGABYTES API_PID
Creates a project, streams MEGABYTES of 128-byte encodings to .../binaryclks
(generated on the fly, never held whole), samples the API process's RSS
(/proc/PID/status VmRSS) every 50 ms throughout, and checks: 201, every
record imported (the PG* environment points at the database), and the peak
RSS at most 64 MB above the RSS before the upload.  Prints the figures.
"""
import http.client
import json
import os
import subprocess
import sys
import threading
import time
import urllib.parse

server, mb, pid = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
url = urllib.parse.urlparse(server)
SIZE, CHUNK = 128, 1 << 20
count = mb * CHUNK // SIZE
LIMIT_MB = 64


def rss_kb():
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


c = http.client.HTTPConnection(url.hostname, url.port, timeout=600)
c.request("POST", "/api/v1/projects", json.dumps({"schema": {}, "result_type": "groups"}),
          {"Content-Type": "application/json"})
proj = json.loads(c.getresponse().read())
idle = rss_kb()
peak = [idle]
done = threading.Event()


def sample():
    while not done.is_set():
        peak[0] = max(peak[0], rss_kb())
        time.sleep(0.05)


def body():
    block = os.urandom(CHUNK)
    for i in range(mb):
        # a different 1 MB each time, cheaply: rotate the random block
        k = (i * 4099) % CHUNK
        yield block[k:] + block[:k]


c.close()
c = http.client.HTTPConnection(url.hostname, url.port, timeout=600)
t = threading.Thread(target=sample)
t.start()
start = time.time()
c.putrequest("POST", "/api/v1/projects/%s/binaryclks" % proj["project_id"])
for k, v in (("Authorization", proj["update_tokens"][0]), ("Content-Type", "application/octet-stream"),
             ("Hash-Count", str(count)), ("Hash-Size", str(SIZE)), ("Content-Length", str(mb * CHUNK))):
    c.putheader(k, v)
c.endheaders()
for piece in body():
    c.send(piece)
r = c.getresponse()
reply = r.read()
secs = time.time() - start
done.set()
t.join()
rows = int(subprocess.run(["psql", "-X", "-At", "-c", "SELECT count(*) FROM enc_%s_0" % proj["project_id"]],
                          capture_output=True, text=True, check=True).stdout)
grew = (peak[0] - idle) / 1024
print("big upload: %d MB, %d encodings in %.1f s (%.0f MB/s); API RSS %.1f MB idle, %.1f MB peak (+%.1f MB)"
      % (mb, count, secs, mb / secs, idle / 1024, peak[0] / 1024, grew))
ok = r.status == 201 and rows == count and grew <= LIMIT_MB
if not ok:
    print("big upload: status %d, %d rows of %d, RSS growth %.1f MB (limit %d): %s"
          % (r.status, rows, count, grew, LIMIT_MB, reply[:300]))
c.request("DELETE", "/api/v1/projects/%s" % proj["project_id"], headers={"Authorization": proj["result_token"]})
c.getresponse().read()
sys.exit(0 if ok else 1)
