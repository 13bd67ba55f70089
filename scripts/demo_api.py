#!/usr/bin/env python3
"""The main job through the REST API: two parties upload CLKs, a run links them.

Usage: demo_api.py SERVER DATA_DIR
DATA_DIR holds clks_a.json, clks_b.json and truth.csv (FEBRL4 CLKs); when it
does not, two parties' CLKs with 400 planted matches are generated.  Prints the
steps, the result's size and its precision and recall against the truth.
"""
import base64
import csv
import http.client
import json
import os
import random
import sys
import time
import urllib.parse

server, data = sys.argv[1], sys.argv[2]
url = urllib.parse.urlparse(server)


def call(method, path, body=None, token=None):
    c = http.client.HTTPConnection(url.hostname, url.port, timeout=600)
    h = {"Content-Type": "application/json"}
    if token:
        h["Authorization"] = token
    c.request(method, "/api/v1" + path, json.dumps(body) if body is not None else None, h)
    r = c.getresponse()
    out = json.loads(r.read() or b"null")
    c.close()
    if r.status >= 400:
        sys.exit("demo: %s %s -> %d %s" % (method, path, r.status, out))
    return out


if os.path.isfile(os.path.join(data, "clks_a.json")):
    a = json.load(open(os.path.join(data, "clks_a.json")))["clks"]
    b = json.load(open(os.path.join(data, "clks_b.json")))["clks"]
    truth = {(int(r["row_a"]), int(r["row_b"])) for r in csv.DictReader(open(os.path.join(data, "truth.csv")))}
    source = "FEBRL4 CLKs from %s" % data
else:
    rng = random.Random(7)
    base = [bytes(rng.getrandbits(8) for _ in range(128)) for _ in range(1000)]
    noisy = []
    for i in range(400):     # planted: the first 400 of A appear in B with 2% of bits flipped
        v = bytearray(base[i])
        for _ in range(20):
            v[rng.randrange(128)] ^= 1 << rng.randrange(8)
        noisy.append(bytes(v))
    others = [bytes(rng.getrandbits(8) for _ in range(128)) for _ in range(600)]
    b_rows = noisy + others
    order = list(range(1000))
    rng.shuffle(order)
    a = [base64.b64encode(c).decode() for c in base]
    b = [base64.b64encode(b_rows[i]).decode() for i in order]
    truth = {(i, order.index(i)) for i in range(400)}
    source = "generated CLKs with 400 planted matches (../shared/data absent)"

print("demo: %s; %d + %d records" % (source, len(a), len(b)))
p = call("POST", "/projects", {"schema": {}, "result_type": "groups", "name": "demo"})
print("demo: project %s created" % p["project_id"])
t0 = time.time()
for i, clks in enumerate((a, b)):
    r = call("POST", "/projects/%s/clks" % p["project_id"], {"clks": clks}, p["update_tokens"][i])
    print("demo: party %d uploaded %d CLKs (receipt %s...)" % (i, len(clks), r["receipt_token"][:8]))
run = call("POST", "/projects/%s/runs" % p["project_id"], {"threshold": 0.8}, p["result_token"])
while True:
    st = call("GET", "/projects/%s/runs/%s/status" % (p["project_id"], run["run_id"]), token=p["result_token"])
    if st["state"] in ("completed", "error"):
        break
    time.sleep(0.1)
if st["state"] != "completed":
    sys.exit("demo: the run failed: %s" % st.get("message"))
res = call("GET", "/projects/%s/runs/%s/result" % (p["project_id"], run["run_id"]), token=p["result_token"])
secs = time.time() - t0
found = set()
for g in res["groups"]:
    d = dict((ds, row) for ds, row in g)
    found.add((d[0], d[1]))
tp = len(found & truth)
print("demo: run completed: %d comparisons, %d groups at Dice >= 0.8 (upload to result %.2f s)"
      % (st["total_number_comparisons"], len(found), secs))
print("demo: precision %.4f, recall %.4f (%d of %d true pairs found)"
      % (tp / len(found) if found else 0.0, tp / len(truth), tp, len(truth)))
call("DELETE", "/projects/%s" % p["project_id"], token=p["result_token"])
