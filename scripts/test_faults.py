#!/usr/bin/env python3
"""Fault tests against the local stack (scripts/test-faults.sh starts it).

usage: test_faults.py SERVER SHARED_DATA_DIR

Each case starts a run, breaks a part of the stack in the middle of it and
checks that the run still completes exactly once with the right result (or,
for a store that stays down, fails with a clear message):

  a worker killed (SIGKILL) while it holds a job: the job is reclaimed;
  a worker stopped (SIGTERM) mid-run: it hands its job back at once;
  the object store down for a few seconds: transfers retry, then finish;
  both replicas far behind (replay paused): the jobs wait, then run;
  Redis restarted: the queue comes back from its append-only file;
  Redis back without its data: the sweep queues the stalled run again;
  the object store gone: the run fails naming the store, after retries.

The stack runs with small tasks (PPRL_TASK_COMPARISONS) so that each run
has many, a short visibility timeout and stall time, and few attempts.
The reference is anonlink's (../shared/data/febrl4) when present, else
pg_pprl's own SQL solution on the primary for generated data.
"""
import json
import os
import random
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pprl_testlib as t  # noqa: E402

STACK = os.environ["PPRL_STACK_DIR"]
SCRIPTS = os.path.dirname(os.path.abspath(__file__))
t.setup(sys.argv[1])
febrl = os.path.join(sys.argv[2], "febrl4")
if os.path.isfile(os.path.join(febrl, "clkhash", "clks_a.json")):
    CLKS = [json.load(open(os.path.join(febrl, "clkhash", f)))["clks"] for f in ("clks_a.json", "clks_b.json")]
    REF_GROUPS = json.load(open(os.path.join(febrl, "anonlink-0.8", "groups.json")))["groups"]
else:
    print("faults: ../shared/data/febrl4 absent; using generated CLKs, SQL reference")
    rng = random.Random(11)
    a = t.rand_clks(4000, 128, rng)
    b = [bytes(x ^ (1 << rng.randrange(8)) if rng.random() < 0.02 else x for x in c) for c in a[:3000]]
    b += t.rand_clks(1000, 128, rng)
    CLKS = [t.b64(a), t.b64(b)]
    REF_GROUPS = None


def redis(*args):
    return subprocess.run(["redis-cli", "-p", open(os.path.join(STACK, "redis", "port")).read().strip()]
                          + list(args), capture_output=True, text=True).stdout.strip()


def pid(name):
    return int(open(os.path.join(STACK, name + ".pid")).read())


def pending(consumer):
    """Jobs pending on a consumer of the group."""
    out = redis("XPENDING", "pprl:jobs", "workers", "-", "+", "100", consumer)
    return len([line for line in out.splitlines() if "-" in line])


def tasks(rid):
    """(done, total) tasks of a run."""
    out = t.sql("SELECT count(*) FILTER (WHERE state = 'done') || ' ' || count(*) FROM run_tasks "
                "WHERE run_id = '%s'" % rid)
    return tuple(map(int, out.split()))


def prepare(result_type="groups"):
    p = t.project(result_type)
    for i in (0, 1):
        s, r, _ = t.upload_json(p, i, {"clks": CLKS[i]})
        assert s == 201, r
    return p


def start(result_type="groups"):
    p = prepare(result_type)
    rid, _ = t.run(p, 0.8, wait=False)
    return p, rid


def wait_tasks(rid, n, timeout=60):
    """Wait until n tasks of the run are done (but not all); True when so."""
    end = time.time() + timeout
    while time.time() < end:
        done, total = tasks(rid)
        if total and n <= done < total:
            return True
        if total and done == total:
            return False
        time.sleep(0.05)
    return False


def groups_of(p, rid):
    s, res, _ = t.result(p, rid)
    return sorted(sorted(map(tuple, g)) for g in res["groups"]) if s == 200 else None


def reference(p):
    if REF_GROUPS is not None:
        return sorted(sorted(map(tuple, g)) for g in REF_GROUPS)
    out = t.sql("SELECT json_agg(g ORDER BY g) FROM (SELECT json_agg(json_build_array(ds, row_id) "
                "ORDER BY ds, row_id) AS g FROM pprl_greedy_groups('{enc_%s_0,enc_%s_1}', 0.8) "
                "GROUP BY group_id) x" % (p["project_id"], p["project_id"]))
    return sorted(sorted(map(tuple, g)) for g in json.loads(out))


def completed_once(p, rid, label):
    st = t.wait_run(p, rid, timeout=300)
    t.check("%s: run completed" % label, st["state"] == "completed")
    t.check("%s: groups equal the reference" % label, groups_of(p, rid) == reference(p))
    done, total = tasks(rid)
    t.check("%s: every task done" % label, done == total > 1)
    # the merge removes the parts just after recording the completion
    for _ in range(50):
        left = t.listing("results/%s/%s/parts" % (p["project_id"], rid))
        if not left:
            break
        time.sleep(0.1)
    t.check("%s: the parts are removed" % label, left == [])
    t.check("%s: one result object per kind" % label, t.sql(
        "SELECT count(*) FROM run_results WHERE run_id = '%s'" % rid) == "1")


def stack(*args):
    subprocess.run([os.path.join(SCRIPTS, "stack.sh")] + list(args), check=True, capture_output=True)


# --- a worker killed while it holds a job -------------------------------------
p, rid = start()
killed = False
if wait_tasks(rid, 3):
    for _ in range(200):
        os.kill(pid("worker-0"), signal.SIGSTOP)
        if pending("worker-0") > 0:
            os.kill(pid("worker-0"), signal.SIGKILL)
            killed = True
            break
        os.kill(pid("worker-0"), signal.SIGCONT)
        time.sleep(0.02)
t.check("kill: worker-0 killed holding a job mid-run", killed)
completed_once(p, rid, "kill")
t.check("kill: its job was reclaimed and finished", pending("worker-0") == 0)
stack("worker", "0")

# --- a worker stopped with SIGTERM mid-run hands its job back ------------------
p, rid = start()
term = wait_tasks(rid, 3)
if term:
    os.kill(pid("worker-1"), signal.SIGTERM)
    for _ in range(100):
        try:
            os.kill(pid("worker-1"), 0)
            time.sleep(0.1)
        except ProcessLookupError:
            break
log = open(os.path.join(STACK, "worker-1.log")).read()
t.check("sigterm: worker-1 stopped mid-run", term and '"stopping"' in log)
t0 = time.time()
completed_once(p, rid, "sigterm")
t.check("sigterm: finished without waiting for the visibility timeout", time.time() - t0 < 60)
stack("worker", "1")

# --- the object store down for a few seconds -----------------------------------
p, rid = start("similarity_scores")
paused = wait_tasks(rid, 3)
if paused:
    subprocess.run([os.path.join(SCRIPTS, "rgwtmp.sh"), "pause", os.path.join(STACK, "rgw")], check=True)
    time.sleep(4)
    subprocess.run([os.path.join(SCRIPTS, "rgwtmp.sh"), "resume", os.path.join(STACK, "rgw")], check=True,
                   capture_output=True)
st = t.wait_run(p, rid, timeout=300)
t.check("store paused: mid-run", paused)
t.check("store paused: run completed", st["state"] == "completed")
s, res, _ = t.result(p, rid)
if REF_GROUPS is not None and s == 200:
    import csv
    ref = [(int(r["ds_a"]), int(r["row_a"]), int(r["ds_b"]), int(r["row_b"]), float(r["score"]))
           for r in csv.DictReader(open(os.path.join(febrl, "anonlink-0.8", "candidates.csv")))]
    got = [(a[0], a[1], b[0], b[1], sc) for a, b, sc in res["similarity_scores"]]
    t.check("store paused: scores equal anonlink's, in order", got == ref)
else:
    t.check("store paused: scores returned", s == 200 and len(res["similarity_scores"]) > 0)

# --- both replicas far behind: the jobs wait, then run -------------------------
env = dict(line.split("=", 1) for line in open(os.path.join(STACK, "stack.env")).read().splitlines() if "=" in line)
replicas = [v for k, v in env.items() if k.startswith("REPLICA_")]


def on_replicas(q):
    for url in replicas:
        subprocess.run(["psql", "-X", "-At", "-d", url, "-c", q], check=True, capture_output=True)


on_replicas("SELECT pg_wal_replay_pause()")
p, rid = start()
time.sleep(4)
s, st, _ = t.req("GET", "/projects/%s/runs/%s/status" % (p["project_id"], rid),
                 headers={"Authorization": p["result_token"]})
t.check("lagging replicas: the run waits", st["state"] in ("queued", "running") and tasks(rid)[0] == 0)
on_replicas("SELECT pg_wal_replay_resume()")
completed_once(p, rid, "lagging replicas")

# --- Redis restarted while a run's job is queued -------------------------------
workers = [pid("worker-0"), pid("worker-1")]
for w in workers:
    os.kill(w, signal.SIGSTOP)
p, rid = start()
time.sleep(0.5)
t.check("redis restart: the job is in the stream", int(redis("XLEN", "pprl:jobs")) > 0)
port = open(os.path.join(STACK, "redis", "port")).read().strip()
subprocess.run([os.path.join(SCRIPTS, "redistmp.sh"), "stop", os.path.join(STACK, "redis")], check=True)
subprocess.run([os.path.join(SCRIPTS, "redistmp.sh"), "start", os.path.join(STACK, "redis"), port], check=True,
               capture_output=True)
for w in workers:
    os.kill(w, signal.SIGCONT)
completed_once(p, rid, "redis restart")

# --- Redis back without its data: the sweep queues the run again --------------
for w in workers:
    os.kill(w, signal.SIGSTOP)
p, rid = start()
time.sleep(0.5)
redis("FLUSHALL")
for w in workers:
    os.kill(w, signal.SIGCONT)
completed_once(p, rid, "redis emptied")

# --- the object store gone: a clear run error after the retries ---------------
p = prepare()
subprocess.run([os.path.join(SCRIPTS, "rgwtmp.sh"), "pause", os.path.join(STACK, "rgw")], check=True)
rid, _ = t.run(p, 0.8, wait=False)
st = t.wait_run(p, rid, timeout=300)
t.check("store gone: run error naming the attempts", st["state"] == "error" and
        "gave up after" in st.get("message", "") and "S3" in st.get("message", ""))
print("store gone: %s" % st.get("message"))
s, r, _ = t.result(p, rid)
t.check("store gone: result 409", s == 409)
subprocess.run([os.path.join(SCRIPTS, "rgwtmp.sh"), "resume", os.path.join(STACK, "rgw")], check=True,
               capture_output=True)

sys.exit(t.summary("faults"))
