#!/usr/bin/env bash
# bench-encode.sh: CLK encoding, `pprl encode` beside clkhash itself, in one
# run on the same records (part of make bench).
#
# BENCH_ENCODE_N (default 100,000) distinct records made from FEBRL4's
# columns (each field of a record drawn from a different FEBRL record,
# street numbers, postcodes and dates of birth drawn at random, seed fixed),
# encoded with FEBRL's clkhash schema: by clkhash 0.18.3 (the peers' venv,
# build/peers; generate_clk_from_csv as `anonlink encode` calls it) on one
# process and on its default (one per CPU), and by `pprl encode` on 1 and 2
# threads.  Prints records/s and the ratios, with the CPU, and checks that
# both wrote the same CLKs.  Needs ../shared/data.
set -euo pipefail
cd "$(dirname "$0")/.."
data=${SHARED_DATA:-../shared/data}/febrl4
if [ ! -f "$data/dataset4a.csv" ]; then
	echo "bench-encode: $data absent, skipped"
	exit 0
fi
py=build/peers/bin/python
if [ ! -x "$py" ]; then
	echo "bench-encode: the peers' venv is missing: run scripts/setup-peers.sh" >&2
	exit 1
fi
n=${BENCH_ENCODE_N:-100000}
tmp=$(mktemp -d /tmp/pprl-benchenc.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
python3 scripts/febrl_like.py "$data" "$n" "$tmp/records.csv" 4 rec
cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')
echo "$n records ($(du -h "$tmp/records.csv" | cut -f1)), schema febrl_schema_v3.json, on $cpu ($(nproc) CPUs)"

# clkhash: one fresh interpreter per figure (its token caches live in the
# process); seconds written to clkhash-<workers>.s, CLKs kept for the check
for w in 1 default; do
	"$py" - "$data/febrl_schema_v3.json" "$data/clkhash/secret.txt" "$tmp/records.csv" "$tmp" "$w" <<'PY'
import base64, json, sys, time
from clkhash import clk, schema
schema_path, secret_path, csv_path, out, workers = sys.argv[1:6]
secret = open(secret_path).read()
secret = secret[:-1] if secret.endswith("\n") else secret  # as pprl reads --secret-file
s = schema.from_json_dict(json.load(open(schema_path)))
t0 = time.perf_counter()
with open(csv_path) as f:
    clks = clk.generate_clk_from_csv(f, secret, s, validate=True, header=True, progress_bar=False,
                                     max_workers=1 if workers == "1" else None)
open("%s/clkhash-%s.s" % (out, workers), "w").write("%.3f" % (time.perf_counter() - t0))
with open(out + "/clkhash.json", "w") as f:
    json.dump({"clks": [base64.b64encode(c.tobytes()).decode() for c in clks]}, f)
PY
done
for t in 1 2; do
	start=$(date +%s.%N)
	build/pprl encode --schema "$data/febrl_schema_v3.json" --secret-file "$data/clkhash/secret.txt" \
		--threads "$t" --output "$tmp/pprl.json" "$tmp/records.csv" 2>/dev/null
	end=$(date +%s.%N)
	python3 -c "print('%.3f' % ($end - $start))" >"$tmp/pprl-$t.s"
done
python3 - "$tmp" "$n" <<'PY'
import json, sys
tmp, n = sys.argv[1], int(sys.argv[2])
s = {k: float(open("%s/%s.s" % (tmp, k)).read()) for k in ("clkhash-1", "clkhash-default", "pprl-1", "pprl-2")}
print("| encoder | seconds | records/s | vs clkhash, one process | vs clkhash, default |")
print("|---|---|---|---|---|")
rows = [("clkhash 0.18.3, one process", "clkhash-1"), ("clkhash 0.18.3, default workers", "clkhash-default"),
        ("pprl encode, 1 thread", "pprl-1"), ("pprl encode, 2 threads", "pprl-2")]
for label, k in rows:
    print("| %s | %.2f | %.0f | %.1fx | %.1fx |" % (label, s[k], n / s[k], s["clkhash-1"] / s[k],
                                                 s["clkhash-default"] / s[k]))
a = json.load(open(tmp + "/clkhash.json"))["clks"]
b = json.load(open(tmp + "/pprl.json"))["clks"]
same = sum(x == y for x, y in zip(a, b))
print("identical CLKs: %d of %d" % (same, n))
sys.exit(0 if len(a) == len(b) == n and same == n else 1)
PY
