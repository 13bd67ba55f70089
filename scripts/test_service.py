#!/usr/bin/env python3
"""Black-box tests of the running service (API + worker) over HTTP.

Usage: test_service.py SERVER SHARED_DATA_DIR
The PG* environment variables point at the service's database, and
OBJECT_STORE_URL (with S3_* for an s3:// store) at its object store, for
checks of what uploads and deletions leave behind; the store is read with
build/pprl-store, so the same checks hold for either backend.  Standard
library only.
Prints one line per failure and "service: N passed, N failed".
"""
import base64
import http.client
import json
import os
import random
import socket
import sys
import threading
import time

import pprl_testlib as t
from pprl_testlib import (b64, check, listing, objects, project, rand_clks, req, result, rows, store,
                          run, sql, upload_bin, upload_json, wait_run)

SERVER, SHARED = sys.argv[1], sys.argv[2]
t.setup(SERVER)
URL = t.URL


rng = random.Random(20261125)
febrl = os.path.join(SHARED, "febrl4-clks")
have_febrl = os.path.isfile(os.path.join(febrl, "clks_a.json"))
if have_febrl:
    clks_a = json.load(open(os.path.join(febrl, "clks_a.json")))["clks"]
    clks_b = json.load(open(os.path.join(febrl, "clks_b.json")))["clks"]
else:
    print("service: ../shared/data absent; using generated CLKs for the reference checks")
    base_clks = rand_clks(300, 128, rng)
    clks_a, clks_b = b64(base_clks), b64(base_clks[::-1])

# --- uploads: every form, status codes, nothing stored on failure -------------
p = project()
pid = p["project_id"]
s, r, _ = upload_json(p, 0, {"clks": clks_a})
check("clks upload 201", s == 201 and r["message"] == "Updated" and len(r["receipt_token"]) == 48)
check("clks rows imported", rows(p, 0) == len(clks_a))
check("the upload's commit WAL position recorded", sql(
    "SELECT count(*) FROM uploads u JOIN dataproviders d USING (dp_id) WHERE d.project_id = '%s' "
    "AND u.commit_lsn IS NOT NULL AND u.state = 'ready'" % p["project_id"]) == "1")
check("unblocked rows get block {1}", sql("SELECT count(*) FROM enc_%s_0 WHERE blocks = '{1}'" % pid)
      == str(len(clks_a)))
body = json.dumps({"clks": clks_a}).encode()
stored = objects(p)
check("upload written through to the object store", len(stored) == 1 and
      store("cat", "uploads/%s/%s" % (pid, stored[0])) == body)
s, r, _ = upload_json(p, 0, {"clks": clks_a})
check("token reuse 403", s == 403 and "already been used" in r["detail"])
s, r, _ = upload_json(p, 1, {"clks": ["not base64!"]})
check("bad base64 400", s == 400 and r["status"] == 400 and "detail" in r)
s, r, _ = upload_json(p, 1, b'{"clks": ["AAAA", ')
check("truncated JSON 400", s == 400)
s, r, _ = upload_json(p, 1, {"clks": ["AAAAAAAAAAA=", "AAAA"]})
check("mixed sizes 400", s == 400)
s, r, _ = upload_json(p, 1, {"clks": []})
check("empty clks 400", s == 400)
s, r, _ = upload_json(p, 1, {"clknblocks": [[clks_b[0], "1"]]})
check("blocks on an unblocked project 400", s == 400)
s, r, _ = upload_json(p, 1, {"clks": clks_b[:2]}, {"Content-Type": "text/plain"})
check("wrong content type 400", s == 400)
s, r, _ = req("POST", "/projects/%s/clks" % pid, {"clks": clks_b})
check("no Authorization 400", s == 400)
s, r, _ = req("POST", "/projects/%s/clks" % pid, {"clks": clks_b}, {"Authorization": "0" * 48})
check("unknown update token 403", s == 403)
other = project()
s, r, _ = req("POST", "/projects/%s/clks" % pid, {"clks": clks_b},
              {"Authorization": other["update_tokens"][0]})
check("another project's token 403", s == 403)
check("nothing stored by failed uploads", rows(p, 1) == 0 and len(objects(p)) == 1)
check("no temporary objects left", not any(".tmp" in f for f in objects(p)))
# a body cut short: Content-Length promises more than is sent, then the client goes
sk = socket.create_connection((URL.hostname, URL.port))
half = json.dumps({"clks": clks_b}).encode()
sk.sendall(("POST /api/v1/projects/%s/clks HTTP/1.1\r\nHost: x\r\nAuthorization: %s\r\n"
            "Content-Type: application/json\r\nContent-Length: %d\r\n\r\n"
            % (pid, p["update_tokens"][1], len(half))).encode() + half[:len(half) // 2])
sk.shutdown(socket.SHUT_WR)
reply = sk.recv(4096)
sk.close()
# the server closes a request the client abandons half-way (it cannot answer it)
check("truncated upload: connection closed without an answer", reply == b"")
time.sleep(0.3)
check("truncated upload stored nothing", rows(p, 1) == 0 and len(objects(p)) == 1)
s, r, _ = req("GET", "/projects/%s" % pid, headers={"Authorization": p["result_token"]})
check("one party contributed so far", s == 200 and r["parties_contributed"] == 1 and not r["error"])
s, r, _ = upload_json(p, 1, {"encodings": clks_b})
check("token reusable after failures: encodings form 201", s == 201)
check("encodings rows imported", rows(p, 1) == len(clks_b))

# --- runs: groups equal anonlink's, status, listing, errors -------------------
rid, st = run(p, 0.8)
check("groups run completed", st["state"] == "completed" and st["stages"] == 3 and
      st["current_stage"]["number"] == 3 and "time_completed" in st)
check("total comparisons reported", st.get("total_number_comparisons") == len(clks_a) * len(clks_b))
s, res, _ = result(p, rid)
groups = sorted(sorted(map(tuple, g)) for g in res["groups"]) if s == 200 else None
if have_febrl:
    ref = json.load(open(os.path.join(febrl, "anonlink-0.8", "groups.json")))["groups"]
    check("groups equal anonlink's", groups == sorted(sorted(map(tuple, g)) for g in ref))
else:
    check("planted groups found", groups is not None and len(groups) == len(clks_a))
s, r, _ = req("GET", "/projects/%s/runs" % pid, headers={"Authorization": p["result_token"]})
check("runs listed", s == 200 and [x["run_id"] for x in r] == [rid] and r[0]["state"] == "completed")
s, r, _ = req("GET", "/projects/%s/runs/%s" % (pid, rid), headers={"Authorization": p["result_token"]})
check("run described", s == 200 and r["run_id"] == rid and r["threshold"] == 0.8 and "notes" in r)
s, r, _ = req("GET", "/projects/%s/runs" % pid)
check("runs without token 400", s == 400)
s, r, _ = req("GET", "/projects/%s/runs" % pid, headers={"Authorization": p["update_tokens"][0]})
check("runs with an update token 403", s == 403)
s, r, _ = req("GET", "/projects/%s/runs/%s" % (pid, "ab" * 24), headers={"Authorization": p["result_token"]})
check("unknown run 403", s == 403)
for bad in ({"threshold": 0}, {"threshold": 1.5}, {"threshold": "0.8"}, {}, {"threshold": 0.8, "name": 3}):
    s, r, _ = req("POST", "/projects/%s/runs" % pid, bad, {"Authorization": p["result_token"]})
    check("bad run body 400: %s" % json.dumps(bad), s == 400)
s, r, _ = req("PUT", "/projects/%s/runs/%s" % (pid, rid), b"{}", {"Authorization": p["result_token"]})
check("PUT on a run 405", s == 405)
s, r, _ = req("DELETE", "/projects/%s/runs/%s/status" % (pid, rid), headers={"Authorization": p["result_token"]})
check("DELETE on a run's status 405", s == 405)
s, r, _ = req("DELETE", "/projects/%s/runs/%s" % (pid, rid), headers={"Authorization": p["result_token"]})
check("run deleted 204", s == 204)
s, r, _ = req("GET", "/projects/%s/runs/%s" % (pid, rid), headers={"Authorization": p["result_token"]})
check("deleted run 403", s == 403)
check("deleted run's objects removed", listing("results/%s/%s" % (pid, rid)) == [])

# --- a run posted before the data: created, 404 result, then completes ---------
p2 = project("similarity_scores")
rid2, _ = run(p2, 0.8, wait=False)
s, st, _ = req("GET", "/projects/%s/runs/%s/status" % (p2["project_id"], rid2),
               headers={"Authorization": p2["result_token"]})
check("run before data: created, stage 1", s == 200 and st["state"] == "created" and
      st["current_stage"]["number"] == 1 and st["current_stage"]["progress"]["absolute"] == 0)
s, r, _ = result(p2, rid2)
check("result before completion 404", s == 404)
check("binary upload 201", upload_bin(p2, 0, b"".join(base64.b64decode(c) for c in clks_a),
                                      len(clks_a), 128)[0] == 201)
s, st, _ = req("GET", "/projects/%s/runs/%s/status" % (p2["project_id"], rid2),
               headers={"Authorization": p2["result_token"]})
check("half the parties: progress 0.5", st["current_stage"]["progress"]["relative"] == 0.5)
check("binary upload 201 (second party)", upload_bin(
    p2, 1, b"".join(base64.b64decode(c) for c in clks_b), len(clks_b), 128)[0] == 201)
st = wait_run(p2, rid2)
s, res, _ = result(p2, rid2)
check("similarity scores run completed", st["state"] == "completed" and st["stages"] == 2 and s == 200)
if have_febrl and s == 200:
    import csv
    ref = [(int(r["ds_a"]), int(r["row_a"]), int(r["ds_b"]), int(r["row_b"]), float(r["score"]))
           for r in csv.DictReader(open(os.path.join(febrl, "anonlink-0.8", "candidates.csv")))]
    got = [(a[0], a[1], b[0], b[1], sc) for a, b, sc in res["similarity_scores"]]
    check("similarity scores equal anonlink's candidates, in order", got == ref)
elif s == 200:
    check("similarity scores found", len(res["similarity_scores"]) >= len(clks_a))

# --- permutations: receipt tokens, mask -------------------------------------
p3 = project("permutations")
n_a = len(clks_a)
sb = clks_b[: n_a // 2]
s, ra, _ = upload_json(p3, 0, {"clks": clks_a})
s, rb, _ = upload_json(p3, 1, {"clks": sb})
rid3, st = run(p3, 0.8)
check("permutations run completed", st["state"] == "completed")
s, mask, _ = result(p3, rid3)
check("mask for the result token", s == 200 and len(mask["mask"]) == len(sb) and
      set(mask["mask"]) <= {0, 1})
s, pa, _ = result(p3, rid3, ra["receipt_token"])
s2, pb, _ = result(p3, rid3, rb["receipt_token"])
check("permutations for receipt tokens", s == 200 and s2 == 200 and pa["rows"] == len(sb) and
      len(pa["permutation"]) == n_a and len(pb["permutation"]) == len(sb))
check("a permutation is a permutation", sorted(pa["permutation"]) == list(range(n_a)) and
      sorted(pb["permutation"]) == list(range(len(sb))))
if s == 200 and s2 == 200:
    pairs = {(pa["permutation"].index(i) if i in pa["permutation"] else None, j)
             for j, i in enumerate(pb["permutation"]) if mask["mask"][i]}
    check("masked positions are the matched pairs", sum(mask["mask"]) == len(pairs) > 0)
s, r, _ = req("GET", "/projects/%s/runs/%s/status" % (p3["project_id"], rid3),
              headers={"Authorization": ra["receipt_token"]})
check("receipt token reads the status", s == 200)
s, r, _ = result(p, rid, "0" * 48)
check("wrong token on result 403", s == 403)

# --- blocking: clknblocks and encodings+blocks -------------------------------
p4 = project("groups", uses_blocking=True)
s, r, _ = upload_json(p4, 0, {"clks": clks_a[:10]})
check("clks on a blocking project 400", s == 400)
s, r, _ = upload_json(p4, 0, {"encodings": clks_a[:10]})
check("encodings without blocks on a blocking project 400", s == 400)
s, r, _ = upload_json(p4, 0, {"clknblocks": [[c, "x", i % 2] for i, c in enumerate(clks_a[:10])]})
check("clknblocks 201", s == 201)
check("clknblocks blocks stored", sql("SELECT string_agg(blocks::text, ' ' ORDER BY row_id) FROM enc_%s_0"
                                      % p4["project_id"]).split()[:2] == ["{x,0}", "{x,1}"])
s, r, _ = upload_json(p4, 1, {"blocks": {"1": ["y"], "0": ["x", "z"]}, "encodings": clks_a[:3]})
check("encodings with blocks (map first) 201", s == 201)
check("block map joined", sql("SELECT string_agg(blocks::text, ' ' ORDER BY row_id) FROM enc_%s_1"
                              % p4["project_id"]) == "{x,z} {y} {}")
rid4, st = run(p4, 1.0)
s, res, _ = result(p4, rid4)
check("blocked groups: only common blocks compared", st["state"] == "completed" and s == 200 and
      sorted(sorted(map(tuple, g)) for g in res["groups"]) == [[(0, 0), (1, 0)]])
p5 = project("groups", uses_blocking=True)
with open(os.path.join(SHARED, "entity-service", "test_encoding.json"), "rb") as f:
    enc = f.read() if os.path.isfile(f.name) else None
if enc:
    check("upstream's test_encoding.json 201", upload_json(p5, 0, enc)[0] == 201)

# --- binary: header and size checks --------------------------------------------
p6 = project()
data = os.path.join(SHARED, "entity-service", "clks_128B_1k.bin")
blob = open(data, "rb").read() if os.path.isfile(data) else b"".join(rand_clks(1000, 128, rng))
for cnt in ("-1", "1000000", "3", "x"):
    s, r, _ = req("POST", "/projects/%s/binaryclks" % p6["project_id"], blob,
                  {"Authorization": p6["update_tokens"][0], "Hash-Count": cnt, "Hash-Size": "128"})
    check("bad Hash-Count %s 400" % cnt, s == 400)
s, r, _ = req("POST", "/projects/%s/binaryclks" % p6["project_id"], blob,
              {"Authorization": p6["update_tokens"][0], "Hash-Count": "1000"})
check("missing Hash-Size 400", s == 400)
s, r, _ = upload_bin(p6, 0, b"\0" * 4096, 1, 4096)
check("Hash-Size above the maximum 400", s == 400)
check("after failed binary uploads nothing stored", rows(p6, 0) == 0)
s, r, _ = upload_bin(p6, 0, blob, 1000, 128)
check("binary upload 201 after failures", s == 201 and rows(p6, 0) == 1000)
s, r, _ = upload_bin(p6, 1, blob, 1000, 128)
rid6, st = run(p6, 0.99)
s, res, _ = result(p6, rid6)
check("identical binary uploads: 1000 groups, same row", s == 200 and len(res["groups"]) == 1000 and
      all(sorted(g)[0][1] == sorted(g)[1][1] for g in res["groups"]))
c = http.client.HTTPConnection(URL.hostname, URL.port, timeout=30)
c.putrequest("POST", "/api/v1/projects/%s/clks" % p6["project_id"])
c.putheader("Authorization", p6["update_tokens"][0])
c.putheader("Content-Type", "application/json")
c.putheader("Content-Length", str(1 << 50))
c.endheaders()
r = c.getresponse()
check("body above the limit 413", r.status == 413)
c.close()

# --- chunked transfer encoding, concurrent uploads, 3 parties, sizes ------------
p7 = project("groups", 3)
size8 = rand_clks(40, 8, rng)
errs = []


def up(i):
    c = http.client.HTTPConnection(URL.hostname, URL.port, timeout=60)
    chunks = [json.dumps({"clks": b64(size8)}).encode()[k:k + 100] for k in range(0, 2000, 100)]
    c.request("POST", "/api/v1/projects/%s/clks" % p7["project_id"], body=iter(chunks),
              headers={"Authorization": p7["update_tokens"][i], "Content-Type": "application/json",
                       "Transfer-Encoding": "chunked"}, encode_chunked=True)
    errs.append(c.getresponse().status)


ts = [threading.Thread(target=up, args=(i,)) for i in range(3)]
[t.start() for t in ts]
[t.join() for t in ts]
check("three concurrent chunked uploads 201", errs == [201, 201, 201])
rid7, st = run(p7, 1.0)
s, res, _ = result(p7, rid7)
check("3 parties, 8-byte encodings: every record grouped across all", s == 200 and
      len(res["groups"]) == 40 and all(len(g) == 3 for g in res["groups"]))
p8 = project()
upload_json(p8, 0, {"clks": b64(rand_clks(5, 8, rng))})
upload_json(p8, 1, {"clks": b64(rand_clks(5, 16, rng))})
rid8, st = run(p8, 0.9)
check("mismatched sizes: run error", st["state"] == "error" and "Mismatch" in st["message"])
s, r, _ = result(p8, rid8)
check("result of a failed run 409", s == 409)
p9 = project()
s, r, _ = upload_json(p9, 0, {"clks": b64(rand_clks(3, 4096, rng))})
check("too large encodings: accepted as upstream", s == 201)
s, r, _ = req("GET", "/projects/%s" % p9["project_id"], headers={"Authorization": p9["result_token"]})
check("... and the project reports the error", r["error"] is True)
check("... and none of its encodings is stored", rows(p9, 0) == 0)
s, r, _ = req("POST", "/projects/%s/runs" % p9["project_id"], {"threshold": 0.9},
              {"Authorization": p9["result_token"]})
check("no run on a project with errors 409", s == 409)
s, r, _ = req("GET", "/projects/%s/authorize-external-upload" % pid,
              headers={"Authorization": p["update_tokens"][0]})
if os.environ.get("OBJECT_STORE_URL", "").startswith("file://"):
    check("external upload disabled on the file store: 501", s == 501)
    pf = project()
    s, r, _ = upload_json(pf, 0, {"encodings": {"file": {"bucket": "b", "path": "x/0/x.bin"}}})
    check("pointer uploads disabled on the file store: 501", s == 501)
    check("... and the token stays usable", upload_json(pf, 0, {"clks": b64(rand_clks(2, 128, rng))})[0] == 201)

# --- delete the project: rows, partitions and objects go ----------------------
s, r, _ = req("DELETE", "/projects/%s" % pid, headers={"Authorization": p["result_token"]})
check("project deleted 204", s == 204)
check("its objects are gone", objects(p) == [] and listing("results/" + pid) == [])
check("its partitions are gone", sql("SELECT count(*) FROM pg_class WHERE relname LIKE 'enc_%s%%'" % pid) == "0")

sys.exit(t.summary("service"))
