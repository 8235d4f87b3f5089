#!/usr/bin/env python3
"""test_lincheck.py - the linearizability checker's own tests (TAP).

Hand-made histories with a known answer, then randomised ones: histories
produced by a simulated atomic register (linearizable by construction) must
pass, and the same histories with one read made stale must fail. The seed is
printed and can be given as QFS_SEED to replay.
"""
import os
import random
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lincheck  # noqa: E402

n_fail = 0


def tap(ok, name):
    global n_fail
    print("%s - %s" % ("ok" if ok else "not ok", name))
    if not ok:
        n_fail += 1


def H(*ops):
    out = []
    for i, (p, kind, arg, call, ret, status, result) in enumerate(ops):
        out.append(lincheck.Op(i, {"process": p, "key": "/r", "op": kind, "arg": arg,
                                   "call": call, "ret": ret, "status": status,
                                   "result": result}))
    return out


def lin(ops):
    return all(ok for _, ok, _ in lincheck.check(ops, "a"))


# Sequential and obviously right.
tap(lin(H((1, "write", "b", 0, 1, "ok", 1), (1, "read", None, 2, 3, "ok", ["b", 1]))),
    "a sequential write then read of its value")
# A read that starts after a write returned must see it (stale read).
tap(not lin(H((1, "write", "b", 0, 1, "ok", 1), (2, "read", None, 2, 3, "ok", ["a", 0]))),
    "a read after an acknowledged write that returns the old value is refused")
# Concurrent write and read: either value is fine.
tap(lin(H((1, "write", "b", 0, 5, "ok", 1), (2, "read", None, 1, 2, "ok", ["a", 0]))),
    "a read concurrent with a write may see the old value")
tap(lin(H((1, "write", "b", 0, 5, "ok", 1), (2, "read", None, 1, 2, "ok", ["b", 1]))),
    "a read concurrent with a write may see the new value")
# Reads going back in time across processes.
tap(not lin(H((1, "write", "b", 0, 10, "ok", 1), (2, "read", None, 1, 2, "ok", ["b", 1]),
              (3, "read", None, 3, 4, "ok", ["a", 0]))),
    "once one read saw the new value, a later read may not see the old one")
# Unknown outcomes.
tap(lin(H((1, "write", "b", 0, None, "unknown", None), (2, "read", None, 5, 6, "ok", ["b", 1]))),
    "a write with unknown outcome may have taken effect")
tap(lin(H((1, "write", "b", 0, None, "unknown", None), (2, "read", None, 5, 6, "ok", ["a", 0]))),
    "a write with unknown outcome may never have taken effect")
tap(not lin(H((1, "write", "b", 5, None, "unknown", None), (2, "read", None, 1, 2, "ok", ["b", 1]))),
    "a write with unknown outcome cannot be seen before it was called")
# Compare-and-set.
tap(not lin(H((1, "cas", [0, "b"], 0, 1, "ok", 1), (2, "cas", [0, "c"], 2, 3, "ok", 1))),
    "two successful cas from the same version (split brain) are refused")
tap(lin(H((1, "cas", [0, "b"], 0, 5, "ok", 1), (2, "cas", [0, "c"], 1, 4, "fail", None),
          (3, "read", None, 6, 7, "ok", ["b", 1]))),
    "concurrent cas: one wins, the other gets BADVERSION")
tap(not lin(H((1, "cas", [0, "b"], 0, 1, "fail", None))),
    "a cas refused with BADVERSION while the version matched is refused")
tap(lin(H((1, "cas", [0, "b"], 0, None, "unknown", None), (2, "cas", [1, "c"], 5, 6, "ok", 2))),
    "a cas with unknown outcome that took effect explains a later cas")
tap(lin(H((1, "cas", [0, "b"], 0, None, "unknown", None), (2, "read", None, 5, 6, "ok", ["a", 0]))),
    "a cas with unknown outcome may never have taken effect")
# Many unknown cas that never matched (clients retrying against a member
# cut off): the search must not try every subset of them as no-ops, which
# would never end on a history that is not linearizable.
many = [(10 + j, "cas", [1000 + j, "x"], 0.5 + j * 0.01, None, "unknown", None)
        for j in range(60)]
seq = [(1, "write", "v%d" % j, 1 + j, 1.5 + j, "ok", j + 1) for j in range(30)]
t0 = time.monotonic()
res = lincheck.check(H(*(many + seq + [(2, "read", None, 40, 41, "ok", ["v3", 4])])), "a", 20)
tap(res[0][1] is False and time.monotonic() - t0 < 20,
    "a stale read among 60 unknown cas is refused, in %.2f s" % (time.monotonic() - t0))
res = lincheck.check(H(*(many + seq + [(2, "read", None, 40, 41, "ok", ["v29", 30])])), "a", 20)
tap(res[0][1] is True, "the same history with a fresh read is linearizable")
# The memo's bound: twelve concurrent writes of unknown outcome and a read
# of a value none wrote leave about 12 x 2^11 states to search; with room
# for only 50 the key is reported as not checked, with the reason, not as
# an anomaly.
hard = H(*([(10 + j, "write", "w%d" % j, 0, None, "unknown", None) for j in range(12)] +
           [(2, "read", None, 5, 6, "ok", ["none", 3])]))
res = lincheck.check_key(hard, "a", 20, cache_max=50)
tap(res[0] is None and "states remembered" in res[1],
    "a search past its memo's bound is reported as not checked (%s)" % (res[1],))
res = lincheck.check_key(hard, "a", 60)
tap(res[0] is False, "... and the same search with room enough finds the anomaly")
tap(not lin(H((1, "write", "b", 0, 1, "ok", 5))),
    "a write acknowledging a version that skips others is refused")
# Independent keys are checked separately.
ops = H((1, "write", "b", 0, 1, "ok", 1))
ops.append(lincheck.Op(1, {"process": 2, "key": "/s", "op": "read", "call": 2, "ret": 3,
                           "status": "ok", "result": ["b", 1]}))
res = dict((k, ok) for k, ok, _ in lincheck.check(ops, "a"))
tap(res == {"/r": True, "/s": False}, "keys are independent registers")
try:
    lincheck.load(['{"key": "/r", "op": "read", "call": 5, "ret": 1, "result": ["a", 0]}'])
    tap(False, "a history with a return before its call is malformed")
except ValueError:
    tap(True, "a history with a return before its call is malformed")


def simulate(rng, n_proc, n_ops):
    """An atomic register under concurrent clients: each op takes effect at
    one instant inside [call, ret]; some outcomes are lost (unknown)."""
    t = 0.0
    value, version = "a", 0
    pending = []  # (effect time, ret, proc, kind, arg)
    hist = []
    busy = set()
    i = 0
    while len(hist) < n_ops or pending:
        t += rng.random()
        free = [p for p in range(n_proc) if p not in busy]
        if free and len(hist) + len(pending) < n_ops and rng.random() < 0.6:
            p = rng.choice(free)
            kind = rng.choice(["read", "write", "cas", "cas"])
            arg = None
            if kind == "write":
                arg = "v%d" % i
            elif kind == "cas":
                arg = [version + rng.choice([0, 0, -1, 1]), "v%d" % i]
            i += 1
            eff = t + rng.random() * 3
            ret = eff + rng.random() * 3
            busy.add(p)
            pending.append([eff, ret, p, kind, arg, t, None, None])
        pending.sort(key=lambda x: x[0])
        for e in [x for x in pending if x[0] <= t and x[6] is None]:
            kind, arg = e[3], e[4]
            if kind == "read":
                e[6], e[7] = "ok", [value, version]
            elif kind == "write":
                value, version = arg, version + 1
                e[6], e[7] = "ok", version
            elif version == arg[0]:
                value, version = arg[1], version + 1
                e[6], e[7] = "ok", version
            else:
                e[6], e[7] = "fail", None
        for e in [x for x in pending if x[1] <= t and x[6] is not None]:
            pending.remove(e)
            busy.discard(e[2])
            status, result = e[6], e[7]
            if rng.random() < 0.05:
                status, result = "unknown", None
            hist.append({"process": e[2], "key": "/r", "op": e[3], "arg": e[4],
                         "call": e[5], "ret": e[1], "status": status, "result": result})
    return hist


seed = int(os.environ.get("QFS_SEED", random.randrange(1 << 30)))
print("# seed %d (QFS_SEED=%d replays it)" % (seed, seed))
rng = random.Random(seed)
good = caught = tried = 0
for round_ in range(40):
    h = simulate(rng, rng.randint(2, 6), rng.randint(20, 150))
    ops = [lincheck.Op(j, d) for j, d in enumerate(h)]
    if lin(ops):
        good += 1
    # Make one completed read stale: it returns a value older than one a
    # write acknowledged before the read was called, which no order allows.
    writes = [d for d in h if d["op"] in ("write", "cas") and d["status"] == "ok"]
    reads = [d for d in h if d["op"] == "read" and d["status"] == "ok"
             and any(w["ret"] < d["call"] for w in writes)]
    if reads:
        d = rng.choice(reads)
        # the newest write acknowledged before this read started
        before = max(w["result"] for w in writes if w["ret"] < d["call"])
        if before >= 1:
            tried += 1
            d2 = dict(d)
            d2["result"] = ["a", 0]
            bad = [lincheck.Op(j, d2 if x is d else x) for j, x in enumerate(h)]
            if not lin(bad):
                caught += 1
tap(good == 40, "40 simulated atomic-register histories are linearizable (%d were)" % good)
tap(tried > 0 and caught == tried,
    "a read made stale is caught in every history where it must be (%d of %d)" % (caught, tried))
print("# %d failed" % n_fail)
sys.exit(1 if n_fail else 0)
