#!/usr/bin/env python3
"""End-to-end suite through the REST API only (make e2e; the Helm test Job).

usage: test_e2e.py SERVER [SHARED_DATA_DIR]

Needs nothing but HTTP access to SERVER (standard library only), so it runs
against the local stack or any deployment.  For each data set with
anonlink's reference results in SHARED_DATA_DIR (../shared/data), it links
the two parties through the API and checks:

  groups equal anonlink's greedy groups;
  similarity_scores equal anonlink's candidates, in anonlink's order;
  permutations and mask describe exactly anonlink's matched pairs;
  blocking where every pair shares some block (several blocks per record)
    gives the unblocked results; blocking with one block per record gives
    the reference candidates of pairs in a common block, and the greedy
    solution of those;
  three parties (the third a copy of the first): every group holds a
    record, its copy and the second party's record anonlink matched it to.

Without SHARED_DATA_DIR it generates CLKs with planted matches and computes
the reference itself (Dice on Python integers, anonlink's 2-party greedy).
Prints "e2e: N passed, N failed".
"""
import base64
import csv
import json
import os
import random
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pprl_testlib as t  # noqa: E402

t.setup(sys.argv[1])
SHARED = sys.argv[2] if len(sys.argv) > 2 else ""


def load_set(folder, files, ref):
    """(name, clks_a, clks_b, threshold, reference candidates) of a shared data set."""
    d = os.path.join(SHARED, folder)
    if not all(os.path.isfile(os.path.join(d, f)) for f in files):
        return None
    clks = [json.load(open(os.path.join(d, f)))["clks"] for f in files]
    th = float(ref.split("-")[1])
    cands = [(float(r["score"]), int(r["ds_a"]), int(r["row_a"]), int(r["ds_b"]), int(r["row_b"]))
             for r in csv.DictReader(open(os.path.join(d, ref, "candidates.csv")))]
    groups = json.load(open(os.path.join(d, ref, "groups.json")))["groups"]
    return folder, clks[0], clks[1], th, cands, groups


def dice_reference(a, b, th):
    """Every pair at or above th, in anonlink's order (for generated data)."""
    ia = [int.from_bytes(base64.b64decode(c), "big") for c in a]
    ib = [int.from_bytes(base64.b64decode(c), "big") for c in b]
    pa = [x.bit_count() for x in ia]
    pb = [x.bit_count() for x in ib]
    out = []
    for i, x in enumerate(ia):
        for j, y in enumerate(ib):
            s = pa[i] + pb[j]
            score = 2 * (x & y).bit_count() / s if s else 0.0
            if score >= th:
                out.append((score, 0, i, 1, j))
    out.sort(key=lambda c: (-c[0], c[1], c[3], c[2], c[4]))
    return out


def greedy_pairs(cands):
    """anonlink's two-party greedy solution: take a pair while both are free."""
    used_a, used_b, pairs = set(), set(), []
    for _, _, a, _, b in cands:
        if a not in used_a and b not in used_b:
            used_a.add(a)
            used_b.add(b)
            pairs.append((a, b))
    return sorted(pairs)


def generated_set():
    rng = random.Random(2024)
    a = t.rand_clks(400, 64, rng)
    b = []
    for c in a[:300]:
        raw = bytearray(c)
        for _ in range(rng.randrange(0, 12)):
            k = rng.randrange(len(raw) * 8)
            raw[k // 8] ^= 1 << (k % 8)
        b.append(bytes(raw))
    b += t.rand_clks(150, 64, rng)
    rng.shuffle(b)
    a64, b64 = t.b64(a), t.b64(b)
    cands = dice_reference(a64, b64, 0.85)
    return "generated", a64, b64, 0.85, cands, [[[0, x], [1, y]] for x, y in greedy_pairs(cands)]


def pairs_of(groups):
    """Sorted (row_a, row_b) of two-party groups."""
    return sorted(tuple(r for _, r in sorted(map(tuple, g))) for g in groups)


def link(result_type, parties, threshold, blocking=False):
    """Create a project, upload every party's body, run; (project, run id, status, receipts)."""
    p = t.project(result_type, len(parties), uses_blocking=blocking)
    receipts = []
    for i, body in enumerate(parties):
        s, r, _ = t.upload_json(p, i, body)
        t.check("upload %d of %s: 201" % (i, result_type), s == 201)
        receipts.append(r.get("receipt_token"))
    rid, st = t.run(p, threshold, wait=False)
    st = t.wait_run(p, rid, timeout=600)
    t.check("%s run completed" % result_type, st["state"] == "completed")
    return p, rid, st, receipts


def scores(p, rid):
    s, res, _ = t.result(p, rid)
    return [(sc, a[0], a[1], b[0], b[1]) for a, b, sc in res["similarity_scores"]] if s == 200 else None


def groups(p, rid):
    s, res, _ = t.result(p, rid)
    return res["groups"] if s == 200 else None


sets = [x for x in (load_set("febrl4-clks", ("clks_a.json", "clks_b.json"), "anonlink-0.8"),
                    load_set("anonlink-example", ("clks-1.json", "clks-2.json"), "anonlink-0.81"),
                    load_set("febrl4", ("clkhash/clks_a.json", "clkhash/clks_b.json"), "anonlink-0.8"))
        if x]
if not sets:
    print("e2e: no reference data in %r; using generated CLKs" % SHARED)
    sets = [generated_set()]

for n, (name, a, b, th, cands, ref_groups) in enumerate(sets):
    t0 = time.time()
    ref_pairs = pairs_of(ref_groups)
    p, rid, st, _ = link("groups", [{"clks": a}, {"clks": b}], th)
    t.check("%s: groups equal anonlink's" % name, pairs_of(groups(p, rid) or []) == ref_pairs)
    t.check("%s: comparisons reported" % name, st.get("total_number_comparisons") == len(a) * len(b))
    p, rid, st, _ = link("similarity_scores", [{"clks": a}, {"clks": b}], th)
    t.check("%s: similarity scores equal anonlink's, in order" % name, scores(p, rid) == cands)
    if n > 0:
        print("e2e: %s in %.1f s" % (name, time.time() - t0))
        continue
    # permutations: the mask's positions are exactly the matched pairs
    p, rid, st, rec = link("permutations", [{"clks": a}, {"clks": b}], th)
    s, mask, _ = t.result(p, rid)
    s0, pa, _ = t.result(p, rid, rec[0])
    s1, pb, _ = t.result(p, rid, rec[1])
    if s == s0 == s1 == 200:
        pos_a = {pos: r for r, pos in enumerate(pa["permutation"])}
        pos_b = {pos: r for r, pos in enumerate(pb["permutation"])}
        got = sorted((pos_a[i], pos_b[i]) for i, m in enumerate(mask["mask"]) if m)
        t.check("%s: permutations and mask give anonlink's pairs" % name, got == ref_pairs)
        t.check("%s: permutations are permutations" % name,
                sorted(pa["permutation"]) == list(range(len(a))) and
                sorted(pb["permutation"]) == list(range(len(b))))
    else:
        t.check("%s: permutation results readable" % name, False)
    # blocking, every pair in some common block (and often in several)
    ba = {"clknblocks": [[c, str(i % 3), "all"] for i, c in enumerate(a)]}
    bb = {"clknblocks": [[c, str(j % 2), "all"] for j, c in enumerate(b)]}
    p, rid, st, _ = link("similarity_scores", [ba, bb], th, blocking=True)
    t.check("%s: blocks shared by every pair: anonlink's scores, once each" % name, scores(p, rid) == cands)
    p, rid, st, _ = link("groups", [ba, bb], th, blocking=True)
    t.check("%s: blocks shared by every pair: anonlink's groups" % name,
            pairs_of(groups(p, rid) or []) == ref_pairs)
    # blocking, one block per record: only pairs in a common block
    blk_a = [random.Random(i).randrange(4) for i in range(len(a))]
    blk_b = [random.Random(10 ** 6 + j).randrange(4) for j in range(len(b))]
    ba = {"clknblocks": [[c, "k%d" % blk_a[i]] for i, c in enumerate(a)]}
    bb = {"clknblocks": [[c, "k%d" % blk_b[j]] for j, c in enumerate(b)]}
    kept = [c for c in cands if blk_a[c[2]] == blk_b[c[4]]]
    p, rid, st, _ = link("similarity_scores", [ba, bb], th, blocking=True)
    t.check("%s: one block per record: the reference pairs in a common block" % name,
            scores(p, rid) == kept and len(kept) < len(cands))
    p, rid, st, _ = link("groups", [ba, bb], th, blocking=True)
    t.check("%s: one block per record: their greedy solution" % name,
            pairs_of(groups(p, rid) or []) == greedy_pairs(kept))
    # three parties: the third is a copy of the first
    p, rid, st, _ = link("groups", [{"clks": a}, {"clks": b}, {"clks": a}], th)
    g3 = groups(p, rid) or []
    members = [sorted(map(tuple, g)) for g in g3]
    trios = sorted((m[0][1], m[1][1]) for m in members if len(m) == 3)
    t.check("3 parties: every group holds a record and its copy",
            len(members) > 0 and all(m[0][0] == 0 and m[-1] == (2, m[0][1]) for m in members))
    t.check("3 parties: the second party joins as anonlink matched it", trios == ref_pairs)
    t.check("3 parties: every first-party record is grouped with its copy", len(members) == len(a))
    print("e2e: %s in %.1f s" % (name, time.time() - t0))

sys.exit(t.summary("e2e"))
