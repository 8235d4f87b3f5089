#!/usr/bin/env python3
"""lincheck.py - is a history of register operations linearizable?

The chaos harness records every operation its clients make on ZooKeeper
registers (znodes read after sync, written with setData, compare-and-set with
setData's expected version) and hands the history to this checker.

History: JSON lines, one operation each:
  {"process": 3, "key": "/r/1", "op": "read"|"write"|"cas",
   "arg": VALUE | [EXPECTED_VERSION, VALUE] | null,
   "call": T0, "ret": T1 | null,
   "status": "ok" | "fail" | "unknown",
   "result": [VALUE, VERSION] | VERSION | null}
- call/ret are times from one clock (the harness's monotonic clock); an
  operation A precedes B in real time only when A.ret < B.call (equal times
  are taken as concurrent, which can only hide an anomaly, never invent one).
- status "ok": the operation took effect with `result` (a read's value and
  version; a write's or cas's new version). "fail": it definitely did not take
  effect (a cas answered BADVERSION; only for cas, where the answer tells
  something about the state). "unknown": the client does not know (timeout,
  connection loss): it may have taken effect at any moment after its call,
  or never. ret is ignored for unknown operations.

The model: a znode holding (value, version), initially (INITIAL, 0) -- the
harness creates every register before the history starts.
  read            -> ok iff (value, version) == result
  write v         -> (v, version + 1); ok iff result == version + 1
  cas (ev, v)     -> ok: version == ev and result == ev + 1, then (v, ev + 1)
                     fail: version != ev, state unchanged

The search is Wing & Gong's, with Lowe's memoisation of (linearized set,
state) pairs, run per key. The memo names a linearized set by a Zobrist
hash (the XOR of a random 128-bit word per operation, kept as operations
are linearized and undone), not by the set itself: constant size and
constant time where a bitset costs a bit per operation of the history. Two
sets share a name with odds of 2^-128 per pair, and a shared name could
only prune a branch, so report an anomaly that is not there, never hide
one. (P-compositionality: a history of independent
registers is linearizable iff each register's sub-history is). An unknown
operation gets an infinite return time: it can be linearized anywhere after
its call, and placing it after everything is the same as its never having
happened.

Usage: lincheck.py HISTORY.jsonl [--initial VALUE]
Prints one line per key and exits 0 when every key is linearizable, 1 when
one is not (with the operations involved), 2 on a malformed history.
"""
import json
import random
import sys
import time

INF = float("inf")

# The memo holds at most this many (linearized set, state) pairs, about
# 150 bytes each; past it the key is reported as not checked, as when time
# runs out, rather than the checker taking the machine's memory (a long
# chaos run once grew it to 7 GB).
CACHE_MAX = 4000000


class Op:
    __slots__ = ("idx", "process", "key", "kind", "arg", "call", "ret", "status", "result")

    def __init__(self, idx, d):
        self.idx = idx
        self.process = d.get("process")
        self.key = d["key"]
        self.kind = d["op"]
        if self.kind not in ("read", "write", "cas"):
            raise ValueError("unknown op %r" % self.kind)
        self.arg = d.get("arg")
        self.call = float(d["call"])
        self.status = d.get("status", "ok")
        if self.status not in ("ok", "fail", "unknown"):
            raise ValueError("unknown status %r" % self.status)
        if self.status == "fail" and self.kind != "cas":
            # A failed read or write tells nothing and changed nothing.
            raise ValueError("only cas may have status fail")
        ret = d.get("ret")
        self.ret = INF if self.status == "unknown" or ret is None else float(ret)
        if self.ret < self.call:
            raise ValueError("op %d returns before its call" % idx)
        r = d.get("result")
        self.result = tuple(r) if isinstance(r, list) else r

    def __repr__(self):
        ret = "?" if self.ret == INF else "%g" % self.ret
        return "#%d p%s %s %s %s -> %s %s [%g, %s]" % (
            self.idx, self.process, self.key, self.kind, json.dumps(self.arg),
            self.status, json.dumps(self.result), self.call, ret)


def step(state, op):
    """The sequential specification: (legal, new_state)."""
    value, version = state
    if op.kind == "read":
        return (tuple(op.result) == (value, version), state)
    if op.kind == "write":
        if op.status == "unknown":
            return (True, (op.arg, version + 1))
        return (op.result == version + 1, (op.arg, version + 1))
    ev, v = op.arg
    if op.status == "ok":
        return (version == ev and op.result == ev + 1, (v, ev + 1))
    if op.status == "fail":
        return (version != ev, state)
    # unknown: if it took effect here, the version decided its outcome
    return (True, (v, ev + 1) if version == ev else state)


def check_key(ops, initial, seconds=None, cache_max=CACHE_MAX):
    """Returns (True, None) or (False, info) for one register's operations,
    or (None, info) when the search ran longer than `seconds` or its memo
    grew past `cache_max` entries: not known either way (a bounded run must
    not hang on a hard history, nor take the machine's memory)."""
    # Unknown reads observe nothing: drop them.
    ops = [o for o in ops if not (o.kind == "read" and o.status == "unknown")]
    n = len(ops)
    if n == 0:
        return True, None
    # Two prunings, both for operations whose outcome is unknown. Once every
    # known operation is linearized the rest can be put after everything,
    # where nothing observes them: done. So an unknown operation never has
    # to be linearized, and an unknown cas is only tried where its version
    # matches (elsewhere it would change nothing: the same as leaving it
    # out). Without them each unknown cas doubles the states searched.
    known_left = sum(1 for o in ops if o.status != "unknown")
    give_up = None if seconds is None else time.monotonic() + seconds
    steps = 0
    # Events: (time, is_return, op index). Calls sort before returns at
    # equal times, so equal times count as concurrent.
    events = []
    for i, o in enumerate(ops):
        events.append((o.call, 0, i))
        events.append((o.ret, 1, i))
    events.sort(key=lambda e: (e[0], e[1]))
    # A doubly linked list over the events, with a head sentinel at m.
    m = len(events)
    nxt = list(range(1, m + 1)) + [0]
    prv = [m] + list(range(0, m))
    nxt[m] = 0
    prv[0] = m
    nxt[m - 1] = -1
    call_ev = [0] * n
    ret_ev = [0] * n
    for k, (_, is_ret, i) in enumerate(events):
        if is_ret:
            ret_ev[i] = k
        else:
            call_ev[i] = k

    def unlink(k):
        p, q = prv[k], nxt[k]
        nxt[p] = q
        if q != -1:
            prv[q] = p

    def relink(k):
        p, q = prv[k], nxt[k]
        nxt[p] = k
        if q != -1:
            prv[q] = k

    state = (initial, 0)
    rng = random.Random(n)  # the same names on every run of one history
    zob = [rng.getrandbits(128) for _ in range(n)]
    linearized = 0  # Zobrist hash of the linearized set
    cache = set()
    stack = []  # (op index, state before)
    best = (0, [])
    k = nxt[m]
    while nxt[m] != -1 and known_left:
        if k == -1:
            raise AssertionError("search ran off the end")
        steps += 1
        if give_up is not None and steps % 20000 == 0 and time.monotonic() > give_up:
            return None, "the search gave up after %g s (%d steps, %d of %d operations " \
                "linearized at best)" % (seconds, steps, best[0], n)
        _, is_ret, i = events[k]
        if not is_ret:
            o = ops[i]
            if o.status == "unknown" and o.kind == "cas" and state[1] != o.arg[0]:
                k = nxt[k]
                continue
            ok, new_state = step(state, o)
            if ok:
                bits = linearized ^ zob[i]
                key = (bits, new_state)
                if key not in cache:
                    if len(cache) >= cache_max:
                        return None, "the search gave up with %d states remembered " \
                            "(%d steps, %d of %d operations linearized at best)" % (
                                len(cache), steps, best[0], n)
                    cache.add(key)
                    stack.append((i, state))
                    state = new_state
                    linearized = bits
                    if o.status != "unknown":
                        known_left -= 1
                    unlink(call_ev[i])
                    unlink(ret_ev[i])
                    if len(stack) > best[0]:
                        best = (len(stack), [s[0] for s in stack])
                    k = nxt[m]
                    continue
            k = nxt[k]
        else:
            # A return reached with its call still pending: undo the
            # last choice and try the next candidate after it.
            if not stack:
                return False, describe(ops, best, state)
            i, state = stack.pop()
            linearized ^= zob[i]
            if ops[i].status != "unknown":
                known_left += 1
            relink(ret_ev[i])
            relink(call_ev[i])
            k = nxt[call_ev[i]]
    return True, None


def describe(ops, best, _state):
    """The longest linearizable prefix found and the operations that could
    not follow it: what a person needs to see the anomaly."""
    depth, order = best
    done = set(order)
    lines = []
    for i in order[-5:]:
        lines.append("  linearized: %r" % ops[i])
    pending = [o for j, o in enumerate(ops) if j not in done]
    pending.sort(key=lambda o: o.call)
    for o in pending[:8]:
        lines.append("  cannot follow: %r" % o)
    return "longest linearizable prefix: %d of %d operations\n%s" % (
        depth, len(ops), "\n".join(lines))


def check(ops, initial, seconds=None):
    """Per key. Returns a list of (key, ok, info); ok is None for a key
    whose search took longer than `seconds`."""
    bykey = {}
    for o in ops:
        bykey.setdefault(o.key, []).append(o)
    return [(key,) + check_key(bykey[key], initial, seconds) for key in sorted(bykey)]


def load(lines):
    """Register operations from a history; other lines of the workload's
    history (appends, plain reads without sync, which linearizability does
    not promise) are left to the other checkers."""
    ops = []
    for n, line in enumerate(lines, 1):
        line = line.strip()
        if not line:
            continue
        try:
            d = json.loads(line)
            if d.get("op") not in ("read", "write", "cas") or d.get("sync", True) is False:
                continue
            ops.append(Op(len(ops), d))
        except (ValueError, KeyError, TypeError) as e:
            raise ValueError("line %d: %s" % (n, e))
    return ops


def main(argv):
    if len(argv) < 2 or argv[1] in ("-h", "--help"):
        print(__doc__.split("Usage:")[1].strip())
        return 0 if len(argv) >= 2 else 2
    initial = ""
    if "--initial" in argv:
        initial = argv[argv.index("--initial") + 1]
    try:
        with open(argv[1]) as f:
            ops = load(f)
    except (OSError, ValueError) as e:
        print("lincheck: %s: %s" % (argv[1], e), file=sys.stderr)
        return 2
    bad = 0
    for key, ok, info in check(ops, initial):
        n = sum(1 for o in ops if o.key == key)
        if ok:
            print("linearizable: %s (%d operations)" % (key, n))
        elif ok is None:
            print("not checked: %s (%d operations): %s" % (key, n, info))
        else:
            bad += 1
            print("NOT linearizable: %s (%d operations)\n%s" % (key, n, info))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
