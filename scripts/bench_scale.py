#!/usr/bin/env python3
"""Scale-out benchmark on the local stack (part of make bench; bench-scale.sh runs it).

usage: bench_scale.py SERVER N

Uploads two parties of N random 1024-bit CLKs (a tenth of the second party
noisy copies of the first) through the REST API, then runs the same
linkage with 1 worker and with 2 workers (stack.sh scale), each worker on
its own replica and using one core.  Prints, side by side, each run's
comparisons per second (from POST to completion, as a client sees it),
the speed-up, and the work balance: tasks, comparisons and busy seconds
per worker (run_tasks on the primary).  Checks that both runs found the
same groups.
"""
import os
import random
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pprl_testlib as t  # noqa: E402

t.setup(sys.argv[1])
N = int(sys.argv[2])
SIZE = 128
rng = random.Random(7)
a = [rng.randbytes(SIZE) for _ in range(N)]
b = []
for i in range(N):
    if i % 10 == 0:
        raw = bytearray(a[i])
        for _ in range(20):
            k = rng.randrange(SIZE * 8)
            raw[k // 8] ^= 1 << (k % 8)
        b.append(bytes(raw))
    else:
        b.append(rng.randbytes(SIZE))
p = t.project("groups")
for i, data in enumerate((a, b)):
    s, r, _ = t.upload_bin(p, i, b"".join(data), N, SIZE)
    assert s == 201, r


def scale(n):
    subprocess.run([os.path.join(os.path.dirname(os.path.abspath(__file__)), "stack.sh"), "scale", str(n)],
                   check=True, capture_output=True)
    time.sleep(1)


def one_run(workers):
    scale(workers)
    t0 = time.time()
    rid, st = t.run(p, 0.8)
    secs = time.time() - t0
    s, res, _ = t.result(p, rid)
    balance = t.sql("SELECT string_agg(format('%%s: %%s tasks, %%sM comparisons, %%s s busy', worker, n, c, s), "
                    "'; ' ORDER BY worker) FROM (SELECT worker, count(*) AS n, round(sum(comparisons) / 1e6) AS c, "
                    "round(sum(seconds)::numeric, 2) AS s FROM run_tasks WHERE run_id = '%s' GROUP BY 1) x" % rid)
    return st, secs, sorted(sorted(map(tuple, g)) for g in res["groups"]), balance


rows = []
for w in (1, 2):
    st, secs, groups, balance = one_run(w)
    assert st["state"] == "completed", st
    cmp = st["total_number_comparisons"]
    rows.append((w, secs, cmp / secs / 1e6, len(groups), balance, groups))
print("%d x %d CLKs, threshold 0.8, %d comparisons, one core per worker" % (N, N, cmp))
print("| workers | seconds | M comparisons/s | speed-up | groups | balance (tasks, comparisons, busy time per worker) |")
print("|---|---|---|---|---|---|")
for w, secs, rate, ng, balance, _ in rows:
    print("| %d | %.2f | %.0f | %.2fx | %d | %s |" % (w, secs, rate, rate / rows[0][2], ng, balance))
if rows[0][5] != rows[1][5]:
    print("bench-scale: the two runs found different groups")
    sys.exit(1)
