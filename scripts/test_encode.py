#!/usr/bin/env python3
"""The encoder and the `pprl` command line against clkhash's known answers.

usage: test_encode.py PPRL_BINARY SHARED_DATA_DIR

Known answers (when ../shared/data is present): FEBRL4's 5000 + 5000
records with a v3 schema, clkhash's dirty 1000 + 1000 with a v1 schema,
every CLK bit for bit as clkhash 0.18 wrote it.  Then, on data of its own:
the same CLKs with 1 and 4 threads and as binary output; bad input (a wrong
column count, a value failing its format, an unterminated quote (read to the end
of the file, as Python's csv does), a header
that does not match, bad schemas naming the offending key) stopping with
the line and column, or skipped with --skip-bad; validate reporting every
bad row; constant memory on a large file (not measured for a sanitizer
build, whose name ends in _san).  Prints "encode: N passed, N failed".
"""
import base64
import json
import os
import resource
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pprl_testlib import check, summary  # noqa: E402

PPRL = sys.argv[1]
SHARED = sys.argv[2] if len(sys.argv) > 2 else ""


def pprl(*args, stdin=None):
    r = subprocess.run([PPRL] + list(args), input=stdin, capture_output=True)
    return r.returncode, r.stdout, r.stderr.decode()


tmp = tempfile.mkdtemp(prefix="pprl-encode.")


def write(name, text):
    path = os.path.join(tmp, name)
    with open(path, "w") as f:
        f.write(text)
    return path


# --- known answers -------------------------------------------------------------
cases = [("febrl4 a (v3 schema)", "febrl4/febrl_schema_v3.json", "febrl4/clkhash/secret.txt",
          "febrl4/dataset4a.csv", "febrl4/clkhash/clks_a.json"),
         ("febrl4 b (v3 schema)", "febrl4/febrl_schema_v3.json", "febrl4/clkhash/secret.txt",
          "febrl4/dataset4b.csv", "febrl4/clkhash/clks_b.json"),
         ("clkhash dirty 1 (v1 schema)", "clkhash-dirty/dirty-data-schema.json", "clkhash-dirty/secret.txt",
          "clkhash-dirty/dirty_1000_50_1.csv", "clkhash-dirty/clks_1.json"),
         ("clkhash dirty 2 (v1 schema)", "clkhash-dirty/dirty-data-schema.json", "clkhash-dirty/secret.txt",
          "clkhash-dirty/dirty_1000_50_2.csv", "clkhash-dirty/clks_2.json")]
for name, schema, secret, data, ref in cases:
    paths = [os.path.join(SHARED, x) for x in (schema, secret, data, ref)]
    if not all(os.path.isfile(p) for p in paths):
        print("encode: %s skipped (../shared/data absent)" % name)
        continue
    rc, out, err = pprl("encode", "--schema", paths[0], "--secret-file", paths[1], paths[2])
    want = json.load(open(paths[3]))["clks"]
    got = json.loads(out)["clks"] if rc == 0 else []
    check("%s: every CLK equals clkhash's (%d of %d)" % (name, sum(a == b for a, b in zip(got, want)), len(want)),
          rc == 0 and got == want)

# --- the same schema written as v2 and as v3 gives the same CLKs ----------------
dirty = os.path.join(SHARED, "clkhash-dirty")
if os.path.isfile(os.path.join(dirty, "dirty-data-schema.json")):
    v1 = json.load(open(os.path.join(dirty, "dirty-data-schema.json")))
    k, hsh = v1["clkConfig"]["k"], v1["clkConfig"]["hash"]
    v2 = {"version": 2, "clkConfig": {"l": v1["clkConfig"]["l"], "kdf": v1["clkConfig"]["kdf"]},
          "features": [{"identifier": f["identifier"], "format": f["format"],
                        "hashing": {"ngram": f["hashing"]["ngram"], "positional": f["hashing"].get("positional", False),
                                    "strategy": {"k": k}, "hash": hsh}} for f in v1["features"]]}
    v3 = {"version": 3, "clkConfig": v2["clkConfig"],
          "features": [{"identifier": f["identifier"], "format": f["format"],
                        "hashing": {"comparison": {"type": "ngram", "n": f["hashing"]["ngram"],
                                                   "positional": f["hashing"]["positional"]},
                                    "strategy": {"bitsPerToken": k}, "hash": hsh}} for f in v2["features"]]}
    want = json.load(open(os.path.join(dirty, "clks_1.json")))["clks"]
    for name, sch in (("v2", v2), ("v3", v3)):
        rc, out, err = pprl("encode", "--schema", write("dirty-%s.json" % name, json.dumps(sch)), "--secret-file",
                            os.path.join(dirty, "secret.txt"), os.path.join(dirty, "dirty_1000_50_1.csv"))
        check("clkhash dirty 1 with the schema written as %s: clkhash's CLKs" % name,
              rc == 0 and json.loads(out)["clks"] == want)

# --- a schema of our own exercising every comparison, format and hash ----------
schema = {
    "version": 3,
    "clkConfig": {"l": 512, "xor_folds": 1, "kdf": {"type": "HKDF", "hash": "SHA512",
                                                    "salt": "c2FsdA==", "info": "aW5mbw==", "keySize": 32}},
    "features": [
        {"identifier": "id", "ignored": True},
        {"identifier": "name", "format": {"type": "string", "encoding": "utf-8", "case": "lower", "maxLength": 20},
         "hashing": {"comparison": {"type": "ngram", "n": 2}, "strategy": {"bitsPerToken": 10},
                     "hash": {"type": "doubleHash", "prevent_singularity": True}}},
        {"identifier": "dob", "format": {"type": "date", "format": "%Y-%m-%d"},
         "hashing": {"comparison": {"type": "ngram", "n": 1, "positional": True},
                     "strategy": {"bitsPerFeature": 100}}},
        {"identifier": "sex", "format": {"type": "enum", "values": ["F", "M", "X"]},
         "hashing": {"comparison": {"type": "exact"}, "strategy": {"bitsPerToken": 20},
                     "missingValue": {"sentinel": "", "replaceWith": "U"}}},
        {"identifier": "age", "format": {"type": "integer", "minimum": 0, "maximum": 130},
         "hashing": {"comparison": {"type": "numeric", "thresholdDistance": 3, "resolution": 2},
                     "strategy": {"bitsPerToken": 8}}},
        {"identifier": "code", "format": {"type": "string", "pattern": "[A-Z]{2}[0-9]+"},
         "hashing": {"comparison": {"type": "ngram", "n": 3}, "strategy": {"bitsPerToken": 5}}},
    ]}
sp = write("schema.json", json.dumps(schema))
secret = write("secret", "s3cr3t")
rows = ["%d,%s,19%02d-0%d-1%d,%s,%d,AB%d" % (i, "jos\u00e9 %d" % (i % 50), i % 100, 1 + i % 9, i % 10,
                                           "FMX"[i % 3] if i % 7 else "", i % 120, i)
        for i in range(20000)]
data = write("data.csv", "id,name,dob,sex,age,code\n" + "\n".join(rows) + "\n")
rc1, out1, err1 = pprl("encode", "--schema", sp, "--secret-file", secret, "--threads", "1", data)
rc4, out4, _ = pprl("encode", "--schema", sp, "--secret-file", secret, "--threads", "4", data)
rcb, outb, _ = pprl("encode", "--schema", sp, "--secret-file", secret, "--format", "binary", data)
clks = json.loads(out1)["clks"] if rc1 == 0 else []
check("every comparison, format and hash: 20000 CLKs of l = 512 bits (hashed at 1024, folded once)",
      rc1 == 0 and len(clks) == 20000 and all(len(base64.b64decode(c)) == 64 for c in clks))
check("4 threads give the same CLKs in the same order", rc4 == 0 and out4 == out1)
check("binary output is the same CLKs back to back",
      rcb == 0 and outb == b"".join(base64.b64decode(c) for c in clks))
check("distinct records give distinct CLKs", len(set(clks)) > 19000)
rc, o, _ = pprl("encode", "--schema", sp, "--secret-file", write("nl", "s3cr3t\n"), data)
check("a final line break in the secret file is not part of the secret", rc == 0 and o == out1)
rc, o, _ = pprl("encode", "--schema", sp, "--secret-file", write("other", "other secret"), data)
check("another secret gives other CLKs", rc == 0 and json.loads(o)["clks"][0] != clks[0])

# --- bad input: line and column, stop or skip ------------------------------------
def bad(lines, *extra):
    path = write("bad.csv", "id,name,dob,sex,age,code\n" + "\n".join(lines) + "\n")
    return pprl("encode", "--schema", sp, "--secret-file", secret, *extra, path)


good = "1,ann,1990-01-02,F,30,AB1"
# an ascii feature whose missing-value replacement is not ASCII: clkhash fails encoding it
asc = write("ascii.json", json.dumps({"version": 3, "clkConfig": {"l": 64, "kdf": {"type": "HKDF"}}, "features": [
    {"identifier": "x", "format": {"type": "string", "encoding": "ascii"},
     "hashing": {"comparison": {"type": "ngram", "n": 2}, "strategy": {"bitsPerToken": 10},
                 "missingValue": {"sentinel": "?", "replaceWith": "\u00e9"}}}]}))
rc, o, e = pprl("encode", "--schema", asc, "--secret-file", secret, write("ascii.csv", "x\nab\n?\n"))
check("ascii feature, non-ASCII replacement of the missing value: refused at line 3",
      rc == 1 and "line 3" in e and "ascii" in e, e)
# a byte that is not UTF-8, even in a column no feature reads: clkhash cannot read the file
raw = os.path.join(tmp, "latin1.csv")
with open(raw, "wb") as f:
    f.write(("id,name,dob,sex,age,code\n" + good + "\n").encode() + b"2,b\xe9b,1990-01-02,M,30,AB2\n")
rc, o, e = pprl("encode", "--schema", sp, "--secret-file", secret, raw)
check("a byte that is not UTF-8: refused, names line 3", rc == 1 and "line 3" in e and "UTF-8" in e, e)
rc, o, e = bad([good, "2,bob,1990-01-02,M,30", good])
check("wrong column count: stops, names line 3", rc == 1 and "line 3" in e and "5 columns" in e)
rc, o, e = bad([good, "2,bob,1990-01-02,M,300,AB2", good])
check("integer above maximum: line 3, column 5 (age)", rc == 1 and "line 3, column 5 (age)" in e)
rc, o, e = bad([good, "2,Bob,1990-01-02,M,30,AB2"])
check("case rule: line 3, column 2 (name)", rc == 1 and "line 3, column 2 (name)" in e)
rc, o, e = bad([good, "2,bob,02/01/1990,M,30,AB2"])
check("date format: column 3 (dob)", rc == 1 and "column 3 (dob)" in e)
rc, o, e = bad([good, "2,bob,1990-01-02,Q,30,AB2"])
check("enum: column 4 (sex)", rc == 1 and "column 4 (sex)" in e)
rc, o, e = bad([good, "2,bob,1990-01-02,M,30,ab2"])
check("pattern: column 6 (code)", rc == 1 and "column 6 (code)" in e)
rc, o, e = bad([good, '2,"bob,1990-01-02,M,30,AB2'])
check("unterminated quote: read to the end as Python's csv does, the record refused with the line it starts on",
      rc == 1 and "line 3" in e and "2 columns" in e, e)
rc, o, e = bad([good, "2,bob,1990-01-02,M,300,AB2", '3,"c, d",1990-01-02,M,3,AB3', good], "--skip-bad")
check("--skip-bad: the bad record reported and left out, the rest encoded",
      rc == 0 and len(json.loads(o)["clks"]) == 3 and "line 3" in e and "1 bad records skipped" in e)
rc, o, e = pprl("encode", "--schema", sp, "--secret-file", secret,
                write("h.csv", "id,nom,dob,sex,age,code\n" + good + "\n"))
check("header not matching the schema: names the column", rc == 1 and "column 2" in e and "'name'" in e)
rc, o, e = pprl("encode", "--schema", sp, "--secret-file", secret, "--no-header", write("nh.csv", good + "\n"))
check("--no-header", rc == 0 and len(json.loads(o)["clks"]) == 1)
rc, o, e = pprl("validate", "--schema", sp,
                write("v.csv", "id,name,dob,sex,age,code\n" + "\n".join([good, "2,Bob,x,Q,300,zz", good, "4,a"]) + "\n"))
check("validate: every bad row with its line, a count", rc == 1 and "line 3" in e and "line 5" in e and
      "2 valid records, 2 bad" in e)
for name, mutate, word in [
        ("no kdf", lambda s: s["clkConfig"].pop("kdf"), "clkConfig: is missing the required key kdf"),
        ("version 4", lambda s: s.update(version=4), "version"),
        ("unknown comparison", lambda s: s["features"][1]["hashing"]["comparison"].update(type="soundex"), "'name'"),
        ("two strategies", lambda s: s["features"][2]["hashing"]["strategy"].update(bitsPerToken=3), "'dob'"),
        ("blake with l not a power of 2", lambda s: s["clkConfig"].update(l=520), "power of two"),
        ("bad format type", lambda s: s["features"][4]["format"].update(type="float"), "'age'"),
        ("a pattern Python refuses", lambda s: s["features"][5]["format"].update(pattern="\\p{L}+"), "bad escape"),
        ("ignored not a boolean", lambda s: s["features"][3].update(ignored="yes"), "'sex'")]:
    bs = json.loads(json.dumps(schema))
    mutate(bs)
    rc, o, e = pprl("encode", "--schema", write("bs.json", json.dumps(bs)), "--secret-file", secret, data)
    check("bad schema (%s): error names %s" % (name, word), rc == 1 and word in e and o == b"")
rc, o, e = pprl("encode", "--schema", write("nj.json", "{"), "--secret-file", secret, data)
check("schema not JSON: a clear error", rc == 1 and "not valid JSON" in e)

# --- constant memory on a large file ---------------------------------------------
big = os.path.join(tmp, "big.csv")
with open(big, "w") as f:
    f.write("id,name,dob,sex,age,code\n")
    for _ in range(15):
        f.write("\n".join(rows) + "\n")
before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
r = subprocess.run([PPRL, "encode", "--schema", sp, "--secret-file", secret, "--format", "binary", big],
                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print("encode: 300000 records streamed, peak RSS %.1f MB" % (rss / 1024.0))
check("300000 records streamed", r.returncode == 0)
if not PPRL.endswith("_san"):			# ASan's shadow memory makes RSS meaningless
    check("in constant memory (peak RSS under 64 MB)", rss < 64 * 1024)
subprocess.run(["rm", "-rf", tmp])
sys.exit(summary("encode"))
