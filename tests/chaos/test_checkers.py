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
print("# %d failed" % n_fail)
sys.exit(1 if n_fail else 0)
