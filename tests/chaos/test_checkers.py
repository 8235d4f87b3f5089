#!/usr/bin/env python3
"""test_checkers.py - the session, append and lock checkers' own tests (TAP):
each is shown a history where its promise holds and one where it is broken."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import checkers  # noqa: E402

n_fail = 0


def tap(ok, name):
    global n_fail
    print("%s - %s" % ("ok" if ok else "not ok", name))
    if not ok:
        n_fail += 1


def op(s, kind, call, ret, result, key="/r", status="ok"):
    return {"session": s, "key": key, "op": kind, "call": call, "ret": ret,
            "status": status, "result": result}


good = [op(1, "read", 0, 1, ["a", 0]), op(1, "write", 2, 3, 1), op(1, "read", 4, 5, ["x", 1]),
        op(2, "read", 0, 1, ["a", 0]), op(1, "read", 6, 7, ["y", 3])]
tap(checkers.sessions(good) == [], "monotonic reads and own writes: no anomaly")
back = good + [op(1, "read", 8, 9, ["a", 2])]
tap(len(checkers.sessions(back)) == 1, "a session's read going back in version is reported")
own = [op(3, "write", 0, 1, 5), op(3, "read", 2, 3, ["old", 4])]
r = checkers.sessions(own)
tap(len(r) == 1 and "own write" in r[0], "a session missing its own write is reported")
tap(checkers.sessions([op(1, "read", 0, 1, ["a", 5]), op(2, "read", 2, 3, ["a", 1])]) == [],
    "different sessions may read different versions")

hist = [{"op": "append", "arg": "p1", "status": "ok", "result": "/q/e-1"},
        {"op": "append", "arg": "p2", "status": "unknown", "result": None},
        {"op": "append", "arg": "p3", "status": "ok", "result": "/q/e-3"}]
tap(checkers.appends(hist, {"p1": 1, "p3": 1}) == [], "every acknowledged append present once")
tap(checkers.appends(hist, {"p1": 1, "p2": 1, "p3": 1}) == [],
    "an append with unknown outcome may be present")
tap(len(checkers.appends(hist, {"p1": 1})) == 1, "a lost acknowledged append is reported")
tap(len(checkers.appends(hist, {"p1": 2, "p3": 1})) == 1, "a duplicated append is reported")
tap(len(checkers.appends(hist, {"p1": 1, "p3": 1, "zz": 1})) == 1,
    "a node nobody appended is reported")

ev = [(1, "acquire", "L", 10), (2, "release", "L", 10), (3, "acquire", "L", 11)]
tap(checkers.locks(ev) == [], "a lock handed over after release")
tap(len(checkers.locks(ev[:1] + ev[2:])) == 1, "two sessions holding one lock is reported")

# --- the mount workload's checkers (mountload.py histories) ---
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mountload import value  # noqa: E402


def fw(v, call, ret, status="ok", key=0, member=1):
    return {"kind": "fwrite", "key": key, "arg": v, "call": call, "ret": ret,
            "status": status, "member": member, "process": "w%d" % member}


def fr(v, call, ret, sync=True, p="r2", key=0, status="ok"):
    return {"kind": "fread", "key": key, "result": v, "call": call, "ret": ret,
            "status": status, "sync": sync, "member": 2, "process": p}


A, B, I0 = value("w1", 1), value("w1", 2), value("init", 0)
fgood = [fw(A, 1, 2), fr(I0, 0, 0.5), fr(A, 1.5, 3), fw(B, 4, 5), fr(B, 6, 7),
         fr(A, 4.5, 4.8, p="r3")]
tap(checkers.files(fgood) == [], "files: whole values, fresh synced reads: no anomaly")
r = checkers.files(fgood + [fr(A[:-3], 8, 9, p="r4")])
tap(len(r) == 1 and "torn" in r[0], "files: a torn value is reported")
r = checkers.files(fgood + [fr("", 8, 9, p="r4")])
tap(len(r) == 1 and "torn" in r[0], "files: an empty value is reported")
r = checkers.files(fgood + [fr(value("w9", 1), 8, 9, p="r4")])
tap(len(r) == 1 and "nobody wrote" in r[0], "files: a value nobody wrote is reported")
r = checkers.files(fgood + [fr(A, 8, 9, p="r4")])
tap(len(r) == 1 and "overwritten" in r[0],
    "files: a synced read of a value overwritten before it began is reported")
tap(checkers.files(fgood + [fr(A, 8, 9, sync=False, p="r4")]) == [],
    "files: a plain read may be behind")
r = checkers.files(fgood + [fr(A, 8, 9, sync=False)])
tap(len(r) == 1 and "back in time" in r[0], "files: a reader going back in time is reported")
tap(checkers.files(fgood + [fr(None, 7.5, 7.6, status="error"),
                            fr(A, 8, 9, sync=False)]) == [],
    "files: a reader whose mount failed it may start over")
tap(checkers.files([fw(A, 1, 2, status="unknown"), fw(B, 3, 4), fr(A, 5, 6)]) == [],
    "files: a write of unknown outcome may take effect late")


def acq(h, m, call, ret, status="ok"):
    return {"kind": "acquire", "hold": h, "member": m, "call": call, "ret": ret,
            "status": status}


def rel(h, m, call, ret, status="ok"):
    return {"kind": "release", "hold": h, "member": m, "call": call, "ret": ret,
            "status": status}


def led(h, m, what, call, ret, status="ok"):
    return {"kind": "ledger", "hold": h, "member": m, "arg": "%s %s" % (h, what),
            "call": call, "ret": ret, "status": status}


lk = [acq("l1-1", 1, 0, 1), led("l1-1", 1, "enter", 1, 2), led("l1-1", 1, "exit", 2, 3),
      rel("l1-1", 1, 3, 4), acq("l2-1", 2, 4.5, 5), led("l2-1", 2, "enter", 5, 6),
      led("l2-1", 2, "exit", 6, 7), rel("l2-1", 2, 7, 8)]
lines = ["l1-1 enter", "l1-1 exit", "l2-1 enter", "l2-1 exit"]
r, exc = checkers.mount_locks(lk, [], 4)
tap(r == [] and checkers.ledger(lk, lines, exc) == [], "locks: holds one after the other")
two = [acq("l1-1", 1, 0, 1), acq("l2-1", 2, 2, 3), rel("l1-1", 1, 5, 6), rel("l2-1", 2, 6, 7)]
r, exc = checkers.mount_locks(two, [], 4)
tap(len(r) == 1 and "held twice" in r[0], "locks: two overlapping holders are reported")
r, exc = checkers.mount_locks(two, [{"kind": "kill", "member": 1, "start": 1.5}], 4)
tap(r == [] and exc == {"l1-1", "l2-1"}, "locks: a killed holder's lock may go")
r, _ = checkers.mount_locks(two, [{"kind": "pause", "member": 1, "start": 1.5}], 4)
tap(len(r) == 1, "locks: a paused holder's lock may not go before its session timeout")
late = [acq("l1-1", 1, 0, 1), acq("l2-1", 2, 2, 6), rel("l1-1", 1, 7, 8)]
r, _ = checkers.mount_locks(late, [{"kind": "pause", "member": 1, "start": 1.5}], 4)
tap(r == [], "locks: a paused holder's lock may go after its session timeout")
r = checkers.ledger(lk, ["l1-1 enter", "l2-1 enter", "l1-1 exit", "l2-1 exit"], set())
tap(len(r) == 2 and "interleaved" in r[0], "ledger: interleaved holders are reported")
r = checkers.ledger(lk, ["l1-1 enter", "l1-1 exit", "l2-1 exit"], set())
tap(len(r) == 1 and "lost" in r[0], "ledger: a lost acknowledged line is reported")
r = checkers.ledger(lk, lines + ["l2-1 exit"], set())
tap(len(r) == 1 and "times" in r[0], "ledger: a duplicated line is reported")
tap(checkers.ledger(lk, ["l1-1 enter", "l2-1 enter"], {"l1-1", "l2-1"}) == [],
    "ledger: excused holds are left out")

tap(checkers.inotify({0: 5, 1: 3}, {0: 5, 1: 3}, {}) == [], "inotify: every change seen")
r = checkers.inotify({0: 4, 1: 3}, {0: 5, 1: 3}, {})
tap(len(r) == 1 and "file 0" in r[0], "inotify: a missed change is reported")
tap(len(checkers.inotify({0: 6}, {0: 5}, {})) == 1, "inotify: a duplicated event is reported")
tap(checkers.inotify({0: 6}, {0: 5}, {0: 1}) == [],
    "inotify: a local write of unknown outcome may raise an event")
tap(checkers.inotify({0: 4}, {0: 5}, {}, {0: 1}) == [],
    "inotify: a local write may merge with a replayed change")
tap(len(checkers.inotify({0: 3}, {0: 5}, {}, {0: 1})) == 1,
    "inotify: more missed changes than local writes are reported")
print("# %d failed" % n_fail)
sys.exit(1 if n_fail else 0)
