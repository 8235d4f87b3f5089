#!/usr/bin/env python3
"""checkers.py - the chaos harness's checks besides linearizability.

Each takes the workload's history (a list of dicts, see workload.py) and
returns a list of anomalies, each a one-line string naming the operations
involved; an empty list means the promise held.

sessions(history)
    ZooKeeper's session guarantees for every read, synced or not: within one
    session, reads of a register never go back in version (monotonic reads,
    across reconnects to other servers, since a client never connects to a
    server behind what it has seen) and a read after the session's own
    acknowledged write sees that write or a later one (read your writes).
appends(history, found)
    found: {payload: count} of the sequential nodes under /chaos/q read
    after healing. Every acknowledged append is there exactly once; none is
    there twice; nothing is there that no client tried.
locks(events)
    events: [(zxid, "acquire"|"release", lock, session)] in committed order
    (from the log). At no point do two sessions hold one lock.
"""


def sessions(history):
    out = []
    seen = {}  # (session, key) -> (version, op) last observed or written
    for d in sorted(history, key=lambda d: d.get("ret") or d["call"]):
        if d.get("status") != "ok" or d.get("op") not in ("read", "write", "cas"):
            continue
        s = d.get("session")
        if not s:
            continue
        k = (s, d["key"])
        v = d["result"][1] if d["op"] == "read" else d["result"]
        prev = seen.get(k)
        if prev and v < prev[0]:
            what = "went back in time" if prev[1]["op"] == "read" else "missed its own write"
            out.append("session 0x%x %s on %s: version %d after version %d (ops at %.3f, %.3f)"
                       % (s, what, d["key"], v, prev[0], prev[1]["call"], d["call"]))
        if not prev or v >= prev[0]:
            seen[k] = (v, d)
    return out


def appends(history, found):
    out = []
    tried = {}
    for d in history:
        if d.get("op") == "append":
            tried[d["arg"]] = d
    for payload, d in sorted(tried.items()):
        n = found.get(payload, 0)
        if d["status"] == "ok" and n == 0:
            out.append("acknowledged append %s (%s) is lost" % (payload, d.get("result")))
        if n > 1:
            out.append("append %s is there %d times" % (payload, n))
    for payload in sorted(set(found) - set(tried)):
        out.append("%s is there but no client appended it" % payload)
    return out


def locks(events):
    out = []
    holder = {}
    for zxid, kind, lock, session in events:
        if kind == "acquire":
            if lock in holder and holder[lock] != session:
                out.append("lock %s taken by 0x%x at zxid 0x%x while 0x%x holds it"
                           % (lock, session, zxid, holder[lock]))
            holder[lock] = session
        elif holder.get(lock) == session:
            del holder[lock]
    return out
