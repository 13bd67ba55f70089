#!/usr/bin/env bash
# bench-encode.sh: CLK encoding throughput of `pprl encode` (part of make bench).
#
# 200,000 distinct records made from FEBRL4's columns (each field of a record
# drawn from a different FEBRL record, street numbers, postcodes and dates of
# birth drawn at random, seed fixed), encoded with FEBRL's clkhash schema, on
# 1 and on 2 threads; records per second side by side with the figure clkhash
# publishes (9,000 to 19,000 CLKs/s on one process).  Needs ../shared/data.
set -euo pipefail
cd "$(dirname "$0")/.."
data=${SHARED_DATA:-../shared/data}/febrl4
if [ ! -f "$data/dataset4a.csv" ]; then
	echo "bench-encode: $data absent, skipped"
	exit 0
fi
n=${BENCH_ENCODE_N:-200000}
tmp=$(mktemp -d /tmp/pprl-benchenc.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
python3 scripts/febrl_like.py "$data" "$n" "$tmp/records.csv" 4 rec
echo "$n records ($(du -h "$tmp/records.csv" | cut -f1)), schema febrl_schema_v3.json"
echo "| threads | seconds | records/s | vs clkhash's published 9,000 to 19,000 per second |"
echo "|---|---|---|---|"
for t in 1 2; do
	start=$(date +%s.%N)
	build/pprl encode --schema "$data/febrl_schema_v3.json" --secret-file "$data/clkhash/secret.txt" \
		--format binary --threads "$t" "$tmp/records.csv" >"$tmp/out.bin" 2>/dev/null
	end=$(date +%s.%N)
	python3 -c "s=$end-$start; r=$n/s; print('| $t | %.2f | %.0f | %.0fx to %.0fx |' % (s, r, r/19000, r/9000))"
done
test "$(stat -c %s "$tmp/out.bin")" -eq $((n * 128)) || { echo "bench-encode: wrong output size"; exit 1; }
