#!/usr/bin/env python3
"""The main job through the REST API: two parties encode and upload CLKs, a run links them.

Usage: demo_api.py SERVER SHARED_DATA_DIR [PPRL_BINARY]
With SHARED_DATA_DIR/febrl4 (FEBRL4's records and truth), each party encodes
its CSV file with `pprl encode` (clkhash-compatible; the FEBRL schema and a
secret the two parties share, drawn fresh for the demo) and uploads the CLKs;
else with SHARED_DATA_DIR/febrl4-clks it uploads those precomputed CLKs; else
two parties' CLKs with 400 planted matches are generated.  Prints the steps,
the result's size and its precision and recall against the truth.
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

server, shared = sys.argv[1], sys.argv[2]
pprl = sys.argv[3] if len(sys.argv) > 3 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                                                          "build", "pprl")
records = os.path.join(shared, "febrl4")
data = os.path.join(shared, "febrl4-clks")
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


if os.path.isfile(os.path.join(records, "dataset4a.csv")) and os.access(pprl, os.X_OK):
    import subprocess
    import tempfile
    with tempfile.TemporaryDirectory() as tmp:
        secret = os.path.join(tmp, "secret")
        with open(os.open(secret, os.O_WRONLY | os.O_CREAT, 0o600), "w") as f:
            f.write(base64.b64encode(os.urandom(24)).decode())
        clks = []
        for part in ("a", "b"):
            t = time.time()
            out = subprocess.run([pprl, "encode", "--schema", os.path.join(records, "febrl_schema_v3.json"),
                                  "--secret-file", secret, os.path.join(records, "dataset4%s.csv" % part)],
                                 capture_output=True, check=True).stdout
            clks.append(json.loads(out)["clks"])
            print("demo: party %d encoded dataset4%s.csv with pprl encode: %d records in %.2f s"
                  % (len(clks) - 1, part, len(clks[-1]), time.time() - t))
    a, b = clks
    truth = {(int(r["row_a"]), int(r["row_b"])) for r in csv.DictReader(open(os.path.join(records, "truth.csv")))}
    source = "FEBRL4 records from %s, encoded here" % records
elif os.path.isfile(os.path.join(data, "clks_a.json")):
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
