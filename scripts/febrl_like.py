#!/usr/bin/env python3
"""febrl_like.py: distinct FEBRL-like person records for benchmarks.

Usage: febrl_like.py FEBRL4_DIR N OUT.csv SEED PREFIX

Each field of a record comes from a different FEBRL4 record (datasets A
and B), street numbers, postcodes and dates of birth are drawn at random,
and rec_id is PREFIX-i; the header is FEBRL4's.  The seed fixes the output.
"""
import csv
import random
import sys


def main():
    src, n, out, seed, prefix = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), sys.argv[5]
    rows = []
    for f in ("dataset4a.csv", "dataset4b.csv"):
        r = list(csv.reader(open(src + "/" + f)))
        header, rows = r[0], rows + r[1:]
    rng = random.Random(seed)
    with open(out, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        for i in range(n):
            rec = [rng.choice(rows)[c] for c in range(len(header))]
            rec[0] = "%s-%d" % (prefix, i)
            rec[3] = str(rng.randrange(1, 300))
            rec[7] = str(rng.randrange(800, 9999))
            rec[9] = "%04d%02d%02d" % (rng.randrange(1920, 2005), rng.randrange(1, 13), rng.randrange(1, 29))
            w.writerow(rec)


if __name__ == "__main__":
    main()
