#!/usr/bin/env python3
"""Black-box tests of external uploads and object-store result addresses.

Usage: test_external.py SERVER SHARED_DATA_DIR
Against a service whose object store is S3 with an STS role (scripts/
test-api.sh with OBJECT_STORE=s3).  The parties act as upstream's clients
do: ask for temporary credentials (authorize-external-upload), put their
encodings in the bucket themselves (curl's SigV4 signing with the session
token, user metadata hash-count and hash-size), then post a pointer to
them; a similarity-score result is fetched straight from the store with
RETURN-OBJECT-STORE-ADDRESS.  Prints "external: N passed, N failed".
"""
import atexit
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile

import pprl_testlib as t
from pprl_testlib import b64, check, listing, project, req, result, rows, run

SERVER, SHARED = sys.argv[1], sys.argv[2]
t.setup(SERVER)
REGION = os.environ.get("S3_REGION", "us-east-1")
tmp = tempfile.mkdtemp(prefix="pprl-external.")
atexit.register(shutil.rmtree, tmp, True)


def authorize(p, i, token=None):
    return req("GET", "/projects/%s/authorize-external-upload" % p["project_id"],
               headers={"Authorization": token or p["update_tokens"][i]})


def s3(grant, method, bucket, path, data=None, meta=None):
    """One S3 request with granted credentials (curl signs it); (status, body)."""
    c, where = grant["credentials"], grant.get("upload") or grant.get("object")
    url = "%s://%s/%s/%s" % ("https" if where["secure"] else "http", where["endpoint"], bucket, path)
    out = os.path.join(tmp, "out")
    cmd = ["curl", "-s", "-o", out, "-w", "%{http_code}", "-X", method,
           "--aws-sigv4", "aws:amz:%s:s3" % REGION,
           "--user", "%s:%s" % (c["AccessKeyId"], c["SecretAccessKey"]),
           "-H", "x-amz-security-token: " + c["SessionToken"],
           "-H", "x-amz-content-sha256: UNSIGNED-PAYLOAD"]
    for k, v in (meta or {}).items():
        cmd += ["-H", "x-amz-meta-%s: %s" % (k, v)]
    if data is not None:
        src = os.path.join(tmp, "in")
        with open(src, "wb") as f:
            f.write(data)
        cmd += ["--data-binary", "@" + src]
    code = subprocess.run(cmd + [url], capture_output=True, text=True).stdout
    with open(out, "rb") as f:
        return int(code or 0), f.read()


def put(grant, name, data, meta=None, path=None):
    u = grant["upload"]
    return s3(grant, "PUT", u["bucket"], path or (u["path"] + "/" + name), data, meta)[0]


def pointer(p, i, bucket, path, blocks=None, token=None):
    body = {"encodings": {"file": {"bucket": bucket, "path": path}}}
    if blocks is not None:
        body["blocks"] = blocks
    return req("POST", "/projects/%s/clks" % p["project_id"], body,
               {"Authorization": token or p["update_tokens"][i]})


with open(os.path.join(SHARED, "entity-service", "clks_128B_1k.bin"), "rb") as f:
    clks1k = f.read()
meta1k = {"hash-count": 1000, "hash-size": 128}

# --- credentials ---------------------------------------------------------------
p = project()
pid = p["project_id"]
s, g0, _ = authorize(p, 0)
check("authorize-external-upload 201", s == 201)
check("... with credentials and where to upload",
      set(g0.get("credentials", {})) == {"AccessKeyId", "SecretAccessKey", "SessionToken", "Expiration"}
      and set(g0.get("upload", {})) == {"endpoint", "secure", "bucket", "path"})
check("... the path is the party's own folder", g0["upload"]["path"].endswith("external/%s/0" % pid))
s, g1, _ = authorize(p, 1)
check("each party gets its own folder", s == 201 and g1["upload"]["path"].endswith("/1"))
check("no Authorization 400", req("GET", "/projects/%s/authorize-external-upload" % pid)[0] == 400)
check("a wrong token 403", authorize(p, 0, token="f" * 48)[0] == 403)
check("the result token is not an update token: 403", authorize(p, 0, token=p["result_token"])[0] == 403)
check("POST 405", req("POST", "/projects/%s/authorize-external-upload" % pid,
                      headers={"Authorization": p["update_tokens"][0]})[0] == 405)
bucket, path0 = g0["upload"]["bucket"], g0["upload"]["path"]

# --- what the credentials may do ----------------------------------------------
check("party 0 puts its encodings in its folder", put(g0, "data.bin", clks1k, meta1k) == 200)
check("... not in party 1's folder", put(g0, "x", b"x", path=g1["upload"]["path"] + "/x") == 403)
check("... nor anywhere else", put(g0, "x", b"x", path="uploads/x") == 403)
check("... and cannot read back", s3(g0, "GET", bucket, path0 + "/data.bin")[0] == 403)
check("... nor delete", s3(g0, "DELETE", bucket, path0 + "/data.bin")[0] == 403)

# --- pointer uploads: refused ones leave the token usable ----------------------
s, r, _ = pointer(p, 0, bucket, g1["upload"]["path"] + "/data.bin")
check("a pointer into another party's folder 403", s == 403 and "not allowed" in r.get("detail", ""))
check("a pointer to another bucket 403", pointer(p, 0, "other-bucket", path0 + "/data.bin")[0] == 403)
check("a pointer outside the folders 403", pointer(p, 0, bucket, "uploads/x.bin")[0] == 403)
s, r, _ = pointer(p, 0, bucket, path0 + "/missing.bin")
check("a pointer to a missing object 400", s == 400 and "no object" in r.get("detail", ""))
check("a pointer without a path 400", req("POST", "/projects/%s/clks" % pid,
                                           {"encodings": {"file": {"bucket": bucket}}},
                                           {"Authorization": p["update_tokens"][0]})[0] == 400)
check("inline blocks with an encodings file 400", pointer(p, 0, bucket, path0 + "/data.bin",
                                                          blocks={"0": ["1"]})[0] == 400)
check("a binary object without metadata 400",
      put(g0, "bare.bin", clks1k) == 200 and pointer(p, 0, bucket, path0 + "/bare.bin")[0] == 400)
check("metadata that disagrees with the size 400",
      put(g0, "wrong.bin", clks1k, {"hash-count": 99, "hash-size": 128}) == 200 and
      pointer(p, 0, bucket, path0 + "/wrong.bin")[0] == 400)
check("nothing stored by the refused pointers", rows(p, 0) == 0)

# --- accepted: binary for party 0, JSON for party 1 ----------------------------
s, r, _ = pointer(p, 0, bucket, path0 + "/data.bin")
check("binary pointer upload 201 with a receipt", s == 201 and "receipt_token" in r)
check("... imported 1000 encodings", rows(p, 0) == 1000)
check("the token is used now: pointer again 403", pointer(p, 0, bucket, path0 + "/data.bin")[0] == 403)
check("... and no more credentials for it", authorize(p, 0)[0] == 403)
clks = [clks1k[i * 128:(i + 1) * 128] for i in range(1000)]
doc = json.dumps({"clks": b64(clks)}).encode()
check("a JSON object whose hash-size metadata disagrees 400",
      put(g1, "sized.json", doc, {"hash-count": 1000, "hash-size": 64}) == 200 and
      pointer(p, 1, bucket, g1["upload"]["path"] + "/sized.json")[0] == 400)
check("... nothing stored", rows(p, 1) == 0)
check("party 1 puts a JSON object", put(g1, "data.json", doc, {"hash-count": 1000, "hash-size": 128}) == 200)
s, r, _ = pointer(p, 1, bucket, g1["upload"]["path"] + "/data.json")
check("JSON pointer upload 201", s == 201 and rows(p, 1) == 1000)
rid, st = run(p, 0.99)
check("the run completes", st["state"] == "completed")
s, res, _ = result(p, rid)
groups = res.get("groups", []) if s == 200 else []
check("identical parties: 1000 groups, row i with row i",
      len(groups) == 1000 and all(sorted(map(tuple, g)) == [(0, g[0][1]), (1, g[0][1])] for g in groups))
check("the objects stay in the parties' folders",
      listing("external/" + pid) == ["0/bare.bin", "0/data.bin", "0/wrong.bin", "1/data.json", "1/sized.json"])

# --- blocking: a binary object with a blocks file -----------------------------
pb = project(uses_blocking=True)
s, gb, _ = authorize(pb, 0)
ub = gb["upload"]
put(gb, "enc.bin", b"".join(clks[:10]), {"hash-count": 10, "hash-size": 128})
s, r, _ = pointer(pb, 0, ub["bucket"], ub["path"] + "/enc.bin")
check("a blocking project needs blocks 400", s == 400 and "blocks" in r.get("detail", ""))
blocks = {str(i): ["a" if i < 5 else "b"] for i in range(10)}
put(gb, "blocks.json", json.dumps({"blocks": blocks}).encode())
put(gb, "badblocks.json", json.dumps({"blocks": {"10": ["a"]}}).encode())
s, r, _ = pointer(pb, 0, ub["bucket"], ub["path"] + "/enc.bin",
                  blocks={"file": {"bucket": ub["bucket"], "path": ub["path"] + "/badblocks.json"}})
check("a blocks file naming a record that is not there 400", s == 400 and rows(pb, 0) == 0)
s, r, _ = pointer(pb, 0, ub["bucket"], ub["path"] + "/enc.bin",
                  blocks={"file": {"bucket": ub["bucket"], "path": ub["path"] + "/blocks.json"}})
check("binary encodings with a blocks file 201", s == 201 and rows(pb, 0) == 10)
check("... each record in its block",
      t.sql("SELECT string_agg(blocks[1], '' ORDER BY row_id) FROM enc_%s_0" % pb["project_id"])
      == "aaaaabbbbb")

# --- similarity scores straight from the store ---------------------------------
ps = project("similarity_scores")
for i in range(2):
    s, g, _ = authorize(ps, i)
    put(g, "d.bin", clks1k, meta1k)
    check("similarity project upload %d 201" % i,
          pointer(ps, i, g["upload"]["bucket"], g["upload"]["path"] + "/d.bin")[0] == 201)
rid, st = run(ps, 0.9)
s, js, _ = result(ps, rid)
scores = js["similarity_scores"]
s, addr, _ = req("GET", "/projects/%s/runs/%s/result" % (ps["project_id"], rid),
                 headers={"Authorization": ps["result_token"], "RETURN-OBJECT-STORE-ADDRESS": "1"})
check("RETURN-OBJECT-STORE-ADDRESS 200 with credentials and the object",
      s == 200 and set(addr) == {"credentials", "object"} and
      set(addr["object"]) == {"endpoint", "secure", "bucket", "path"})
o = addr["object"]
code, blob = s3(addr, "GET", o["bucket"], o["path"])
check("the object downloads with them", code == 200)
check("anonlink's binary format, version 1 (8-byte scores, 4-byte indices)",
      blob[:4] == bytes([1, 8, 4, 4]) and (len(blob) - 4) % 24 == 0)
pairs = [struct.unpack_from("<dIIII", blob, 4 + 24 * k) for k in range((len(blob) - 4) // 24)]
check("the same pairs and scores as the JSON result, in its order",
      len(pairs) == len(scores) > 0 and
      all(abs(a[0] - b[2]) < 1e-12 and (a[1], a[3]) == tuple(b[0]) and (a[2], a[4]) == tuple(b[1])
          for a, b in zip(pairs, scores)))
check("... credentials that read nothing else",
      s3(addr, "GET", o["bucket"], o["path"][:o["path"].index("results/")] +
         "external/%s/0/d.bin" % ps["project_id"])[0] == 403)
s, r, _ = req("GET", "/projects/%s/runs/%s/result" % (pid, run(p, 0.99)[0]),
              headers={"Authorization": p["result_token"], "RETURN-OBJECT-STORE-ADDRESS": "1"})
check("the header is ignored for a groups result", s == 200 and "groups" in r)

# --- deletion removes the parties' folders too ---------------------------------
for q in (p, pb, ps):
    req("DELETE", "/projects/%s" % q["project_id"], headers={"Authorization": q["result_token"]})
check("deleting projects removes their external objects",
      all(listing("external/" + q["project_id"]) == [] for q in (p, pb, ps)))
sys.exit(t.summary("external"))
