#!/usr/bin/env python3
"""pprl_encode() in SQL against clkhash 0.18.3, on the differential test's cases,
in a C and a C.UTF-8 database.

usage: build/peers/bin/python scripts/test_encode_sql.py
       (plain python3 re-runs itself under the peers' venv, as test_encode_diff.py does)

The cases are scripts/test_encode_diff.py's (same generator, same seed and count:
ENCODE_DIFF_SEED, ENCODE_DIFF_CASES, default 1 and 800).  One throwaway cluster
(scripts/pgtmp.sh start-staged: the freshly built extension) holds two databases,
LC_COLLATE/LC_CTYPE 'C' and 'C.UTF-8', each with pg_pprl.  For every case:
  - clkhash accepts it: every record, as Python's csv module read it, goes through
    pprl_encode(record text[], schema jsonb, secret) in both databases, and each CLK
    must equal clkhash's (or, where one of test_encode_diff's DOCUMENTED_REFUSALS
    holds, the function may raise);
  - clkhash refuses the schema: the function must raise in both databases (or,
    for text that is not JSON, the cast to jsonb);
  - clkhash refuses a record of the file: each record is then given to clkhash alone
    (clkhash.clk.hash_chunk, validating), and SQL must give the same CLK for each record
    clkhash takes and raise for each it refuses;
  - a secret or value SQL text cannot carry (NUL), or a secret ending in a line
    break (psql's \\set strips it): skipped, and counted.
One check per case and database; ends with "encode-sql: N passed, M failed".
"""
import base64
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
PEERS_PY = os.path.join(ROOT, "build", "peers", "bin", "python")
# under the peers' venv before test_encode_diff is imported (its import needs clkhash)
if os.path.realpath(sys.prefix) != os.path.realpath(os.path.join(ROOT, "build", "peers")) and \
        os.access(PEERS_PY, os.X_OK) and not os.environ.get("ENCODE_SQL_REEXEC"):
    os.environ["ENCODE_SQL_REEXEC"] = "1"
    os.execv(PEERS_PY, [PEERS_PY, os.path.abspath(__file__)] + sys.argv[1:])
sys.path.insert(0, HERE)
import test_encode_diff as diff  # noqa: E402
from pprl_testlib import check, summary  # noqa: E402

SUITE = "encode-sql"
DATABASES = (("C", "pprl_enc_c"), ("C.UTF-8", "pprl_enc_utf8"))

# Each record in its own subtransaction: a refusal is the error's text, not the end of the query.
TRY_ENCODE = r"""
CREATE FUNCTION try_encode(recs jsonb, schema jsonb, secret text) RETURNS SETOF text
LANGUAGE plpgsql AS $$
DECLARE
	r jsonb;
	a text[];
BEGIN
	FOR r IN SELECT value FROM jsonb_array_elements(recs) LOOP
		SELECT coalesce(array_agg(x ORDER BY o), ARRAY[]::text[]) INTO a
		  FROM jsonb_array_elements_text(r) WITH ORDINALITY t(x, o);
		BEGIN
			RETURN NEXT 'OK ' || encode(pprl_encode(a, schema, secret)::bytea, 'hex');
		EXCEPTION WHEN others THEN
			RETURN NEXT 'ERR ' || replace(SQLERRM, E'\n', ' ');
		END;
	END LOOP;
END $$;
"""


def psql(db, args, stdin=None):
    """psql on one database of the cluster; (returncode, stdout, stderr)."""
    r = subprocess.run(["psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", db] + args,
                       input=stdin, capture_output=True, text=True)
    return r.returncode, r.stdout, r.stderr


def start_cluster(tmp):
    """A throwaway cluster with the two databases; its environment is exported."""
    out = subprocess.run([os.path.join(HERE, "pgtmp.sh"), "start-staged", tmp], capture_output=True, text=True,
                         check=True).stdout
    for word in out.split():
        if "=" in word:
            k, v = word.split("=", 1)
            os.environ[k] = v.strip("'\"")
    for locale, db in DATABASES:
        rc, _, err = psql("postgres", ["-c", "CREATE DATABASE %s ENCODING 'UTF8' LC_COLLATE '%s' LC_CTYPE '%s' "
                                             "TEMPLATE template0" % (db, locale, locale)])
        if rc != 0:
            raise SystemExit("%s: cannot create the %s database: %s" % (SUITE, locale, err.strip()))
        rc, _, err = psql(db, [], "CREATE EXTENSION pg_pprl;\n" + TRY_ENCODE)
        if rc != 0:
            raise SystemExit("%s: cannot set up %s: %s" % (SUITE, db, err.strip()))


def sql_encode(db, d, rows, nf):
    """pprl_encode of each row in db: a list of ('OK', hex) or ('ERR', message), or None if psql failed."""
    with open(os.path.join(d, "recs.json"), "w", encoding="utf-8") as f:
        json.dump(rows if rows is not None else [[""] * nf], f, ensure_ascii=False)
    script = ("\\set schema `cat '%s'`\n\\set secret `cat '%s'`\n\\set recs `cat '%s'`\n"
              "SELECT * FROM try_encode(:'recs'::jsonb, :'schema'::jsonb, :'secret');\n"
              % (os.path.join(d, "schema.json"), os.path.join(d, "sql-secret.txt"), os.path.join(d, "recs.json")))
    rc, out, err = psql(db, [], script)
    if rc != 0:
        return None, err.strip()
    res = []
    for line in out.split("\n"):
        if line.startswith("OK "):
            res.append(("OK", line[3:].strip()))
        elif line.startswith("ERR "):
            res.append(("ERR", line[4:]))
    return res, err.strip()


def clkhash_per_record(case, d):
    """For a case whose file clkhash refuses at a record: each record alone, as clkhash's
    hash_chunk validates and hashes it.  [(b64 CLK or None), ...], the rows and a Ctx; or None."""
    import csv
    from clkhash.clk import hash_chunk
    from clkhash.key_derivation import generate_key_lists
    from clkhash.serialization import serialize_bitarray
    try:
        schema = diff.ck_schema.from_json_dict(json.loads(case.schema_text))
        with open(os.path.join(d, "data.csv"), "r", encoding="utf-8") as f:
            rows = list(csv.reader(f))[1:]
        keys = generate_key_lists(case.secret, len(schema.fields), key_size=schema.kdf_key_size,
                                  salt=schema.kdf_salt, info=schema.kdf_info, kdf=schema.kdf_type,
                                  hash_algo=schema.kdf_hash)
    except Exception:
        return None
    out = []
    for row in rows:
        try:
            clks, _ = hash_chunk([row], keys, schema, validate_data=True)
            out.append(serialize_bitarray(clks[0]))
        except Exception:
            out.append(None)
    ctx = diff.Ctx(case, diff.ck_schema.convert_to_latest_version(json.loads(case.schema_text)), schema,
                   [r for r, c in zip(rows, out) if c is not None])
    return out, rows, ctx


def clk_hex(b64):
    return base64.b64decode(b64).hex()


def main():
    seed = os.environ.get("ENCODE_DIFF_SEED", "1")
    ncases = int(os.environ.get("ENCODE_DIFF_CASES", "800"))
    timeout = float(os.environ.get("ENCODE_DIFF_TIMEOUT", "60"))
    tmp = tempfile.mkdtemp(prefix="pprl-encode-sql.")
    pgdir = tempfile.mkdtemp(prefix="pprl-encode-sql-pg.")
    skipped = {}
    counts = {"CLKs": 0, "schema refusals": 0, "record refusals": 0}
    # a SIGTERM (make interrupted) still stops the cluster: the finally below runs
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    print("%s: seed %s, %d cases, databases %s" % (SUITE, seed, ncases, ", ".join(l for l, _ in DATABASES)),
          flush=True)
    try:
        start_cluster(pgdir)
        for index in range(ncases):
            case = diff.gen_case(seed, index)
            d = os.path.join(tmp, "case")
            shutil.rmtree(d, ignore_errors=True)
            diff.write_case(case, d)
            ck = diff.run_clkhash(case, d, timeout)
            why = None
            want_b64 = ctx = None
            if ck.outcome == "accept" and ck.ctx is not None:
                rows, want_b64, ctx = ck.ctx.rows, ck.clks, ck.ctx
            elif ck.outcome == "refuse" and ck.stage == "schema":
                rows = None
            elif ck.outcome == "refuse" and (per := clkhash_per_record(case, d)):
                want_b64, rows, ctx = per      # a record refused: each record compared alone
            else:
                why = "clkhash refused the file before its records (the command line covers it)" \
                    if ck.outcome == "refuse" else "clkhash: " + ck.outcome
            secret = case.secret if isinstance(case.secret, str) else case.secret.decode("utf-8", "replace")
            if why is None and ("\0" in secret or secret.endswith("\n") or secret.endswith("\r")):
                why = "a secret psql's \\set cannot carry (NUL or a final line break)"
            if why is None and rows is not None and any("\0" in v for r in rows for v in r):
                why = "a value SQL text cannot carry (NUL)"
            if why:
                skipped[why] = skipped.get(why, 0) + 1
                continue
            with open(os.path.join(d, "sql-secret.txt"), "w", encoding="utf-8", newline="") as f:
                f.write(secret)
            try:
                nf = len(json.loads(case.schema_text).get("features", []))
            except Exception:
                nf = 0
            documented = diff.documented_refusal(ctx) if ctx is not None else None
            for locale, db in DATABASES:
                res, err = sql_encode(db, d, rows, nf)
                name = "case %s, %s database" % (case.name, locale)
                replay = "ENCODE_DIFF_REPLAY=%s build/peers/bin/python scripts/test_encode_diff.py build/pprl " \
                         "(files: build/encode-diff/%s-%d/)" % (case.name, seed, index)
                if res is None and rows is None:
                    # not even jsonb takes it (text that is not JSON): refused as well
                    counts["schema refusals"] += 1
                    check("%s: the schema clkhash refuses is refused" % name, "json" in err.lower(),
                          "%s\n      replay: %s" % (err[:300], replay))
                elif res is None:
                    check("%s: psql ran" % name, False, "%s\n      replay: %s" % (err[:300], replay))
                elif rows is None:
                    counts["schema refusals"] += 1
                    check("%s: the schema clkhash refuses is refused" % name, all(r[0] == "ERR" for r in res),
                          "clkhash: %s; sql: %s\n      replay: %s" % (ck.msg[:150], res[:1], replay))
                else:
                    # clkhash's CLK, or None where it refuses the record: then SQL must raise
                    want = [clk_hex(c) if c is not None else None for c in want_b64]
                    same = [r == ("OK", w) if w is not None else r[0] == "ERR" for r, w in zip(res, want)]
                    got_ok = len(res) == len(want) and all(same)
                    refused_ok = documented is not None and len(res) == len(want) and \
                        all(ok or r[0] == "ERR" for ok, r in zip(same, res))
                    bad = next((i for i, ok in enumerate(same) if not ok), None)
                    counts["CLKs"] += sum(1 for w in want if w is not None) if got_ok else 0
                    counts["record refusals"] += sum(1 for w in want if w is None) if got_ok else 0
                    check("%s: every CLK equals clkhash's, every record it refuses is refused" % name,
                          got_ok or refused_ok,
                          "%d records, %d answers; first difference at record %s: sql %s, clkhash %s\n"
                          "      replay: %s" % (len(want), len(res), bad, res[bad] if bad is not None and
                                                bad < len(res) else None,
                                                (want[bad] or "refused")[:40] if bad is not None else None,
                                                replay))
    finally:
        subprocess.run([os.path.join(HERE, "pgtmp.sh"), "stop", pgdir], capture_output=True)
        shutil.rmtree(tmp, ignore_errors=True)
    print("%s: %d CLKs equal to clkhash's, %d record and %d schema refusals agreed" %
          (SUITE, counts["CLKs"], counts["record refusals"], counts["schema refusals"]))
    for why, n in sorted(skipped.items()):
        print("  %4d  skipped: %s" % (n, why))
    sys.exit(summary(SUITE))


if __name__ == "__main__":
    main()
