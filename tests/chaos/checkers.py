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

The mount workload's checkers (mountload.py; ops are its history lines):
files(ops)
    whole-file values (DESIGN.md 1): every value read is whole (its CRC
    holds) and was written (or is the initial one) by a write called
    before the read returned; a read after fsync returns no value already
    overwritten by a write acknowledged before the read began; no reader
    goes back in time on its mount (reset when its mount failed it).
mount_locks(ops, faults, timeout)
    mkdir locks (DESIGN.md 2), from the holders' times: no hold B begins
    between another hold A's acquisition and its release, unless A's lock
    may rightly have gone: A's member was killed before B's mkdir
    returned, or it was paused, cut off or slowed (faults: [{"start": T,
    "member": N, "kind": K}]) before, and B's mkdir returned at least the
    session timeout after A's mount was last heard by the leader (the call
    of its last acknowledged write). Returns (anomalies, excused holds).
ledger(ops, lines, excused)
    the ensemble's own order of the holds: the ledger file, appended to
    inside the lock, read after healing: every acknowledged line there
    exactly once, and each hold's "enter" followed by its own "exit";
    holds in `excused` are left out.
inotify(counts, committed, local_notok, local_all)
    every watcher saw every committed change (DESIGN.md 3): its
    CLOSE_WRITE events on a file number the committed changes, give or
    take the writes through its own mount: one more for each whose
    outcome is not known (a failed close raises the event locally whether
    or not it committed), one fewer for each write through it at all (the
    kernel merges two identical events queued back to back, so a local
    close can swallow a replayed one). A file no write went through the
    mount to must show exactly one event per committed change.
"""
import bisect
import zlib


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


def whole(v):
    """A value mountload.value() made: "fs,WRITER,SEQ,CRC32"."""
    body, _, crc = v.rpartition(",")
    return body.startswith("fs,") and crc == "%08x" % zlib.crc32(body.encode())


INF = float("inf")


def _eff_ret(w):
    """When a write certainly took effect, if it did: its return when it
    was acknowledged, else never known."""
    return w["ret"] if w["status"] == "ok" else INF


def files(ops):
    out = []
    writes = {}  # key -> {value: op}
    acked = {}  # key -> [(ret, call)] of acknowledged writes, by ret
    for d in ops:
        if d.get("kind") == "fwrite":
            writes.setdefault(d["key"], {})[d["arg"]] = d
            if d["status"] == "ok":
                acked.setdefault(d["key"], []).append((d["ret"], d["call"]))
    # For each key: acknowledged returns in order, and the latest call of
    # any acknowledged write returned by then (prefix maximum).
    index = {}
    for k, lst in acked.items():
        lst.sort()
        rets, best, m = [], [], -INF
        for r, c in lst:
            m = max(m, c)
            rets.append(r)
            best.append(m)
        index[k] = (rets, best)
    last = {}  # (process, key) -> (op read, its write or None)
    for d in sorted((d for d in ops if d.get("kind") == "fread"), key=lambda d: d["call"]):
        p = d["process"]
        if d["status"] != "ok":
            for k in [k for k in last if k[0] == p]:
                del last[k]
            continue
        k, v = d["key"], d["result"]
        where = "member %d, %s read of file %s at %.3f" % (
            d["member"], "synced" if d.get("sync") else "plain", k, d["call"])
        if not whole(v):
            out.append("%s returned a torn or empty value %r" % (where, v[:80]))
            continue
        init = v.startswith("fs,init,")
        w = None if init else writes.get(k, {}).get(v)
        if not init and w is None:
            out.append("%s returned %r, which nobody wrote" % (where, v))
            continue
        if w is not None and w["call"] > d["ret"]:
            out.append("%s returned %r, written only at %.3f" % (where, v, w["call"]))
        w_ret = -INF if init else _eff_ret(w)
        if d.get("sync") and k in index:
            rets, best = index[k]
            i = bisect.bisect_left(rets, d["call"])
            if i and best[i - 1] > w_ret:
                out.append("%s returned %r, overwritten by a write acknowledged before the "
                           "read began (the write called at %.3f)" % (where, v, best[i - 1]))
        prev = last.get((p, k))
        if prev and prev[1] is not None and w_ret < prev[1]["call"]:
            out.append("%s went back in time: %r after %r (read at %.3f)" % (
                where, v, prev[0]["result"], prev[0]["call"]))
        if not prev or prev[1] is None or not (w_ret < prev[1]["call"]):
            last[(p, k)] = (d, w)
    return out


def _holds(ops):
    holds = {}
    for d in ops:
        if d.get("kind") == "acquire" and d["status"] == "ok":
            holds[d["hold"]] = {"hold": d["hold"], "member": d["member"], "acq": d,
                                "rel": None}
    for d in ops:
        if d.get("kind") == "release" and d["hold"] in holds:
            holds[d["hold"]]["rel"] = d
    return sorted(holds.values(), key=lambda h: h["acq"]["call"])


def mount_locks(ops, faults, timeout):
    out = []
    excused = set()
    heard = {}  # member -> sorted calls of acknowledged writes through its mount
    for d in ops:
        if d.get("kind") in ("fwrite", "ledger", "acquire", "release") and \
                d["status"] == "ok":
            heard.setdefault(d["member"], []).append(d["call"])
    for v in heard.values():
        v.sort()
    holds = _holds(ops)
    for a in holds:
        a_end = a["rel"]["call"] if a["rel"] else INF
        for b in holds:
            if b is a or b["member"] == a["member"] and b["hold"] == a["hold"]:
                continue
            t = b["acq"]["ret"]
            if not (a["acq"]["ret"] < b["acq"]["call"] and t < a_end):
                continue
            calls = heard.get(a["member"], [])
            i = bisect.bisect_left(calls, t)
            last_heard = calls[i - 1] if i else a["acq"]["call"]
            ok = False
            for f in faults:
                if f["member"] != a["member"] or f["start"] >= t:
                    continue
                if f["kind"] == "kill" or t >= last_heard + timeout:
                    ok = True
            if ok:
                excused.update((a["hold"], b["hold"]))
                continue
            out.append("lock held twice: %s (member %d) took it at %.3f-%.3f while %s "
                       "(member %d, acquired at %.3f, last heard at %.3f) had not released "
                       "it and its lock could not have expired" % (
                           b["hold"], b["member"], b["acq"]["call"], t, a["hold"],
                           a["member"], a["acq"]["ret"], last_heard))
    return out, excused


def ledger(ops, lines, excused):
    out = []
    seen = {}
    for ln in lines:
        seen[ln] = seen.get(ln, 0) + 1
    for ln, n in sorted(seen.items()):
        if n > 1:
            out.append("ledger line %r is there %d times" % (ln, n))
    for d in ops:
        if d.get("kind") == "ledger" and d["status"] == "ok" and \
                d["hold"] not in excused and d["arg"] not in seen:
            out.append("acknowledged ledger line %r (written at %.3f-%.3f) is lost" % (
                d["arg"], d["call"], d["ret"]))
    for i, ln in enumerate(lines):
        hold, _, what = ln.partition(" ")
        if what != "enter" or hold in excused or i + 1 >= len(lines):
            continue
        nxt_hold, _, nxt = lines[i + 1].partition(" ")
        if nxt_hold in excused:
            continue
        if (nxt_hold, nxt) != (hold, "exit") and (hold + " exit") in seen:
            out.append("ledger: %r is followed by %r before its own exit (two holders "
                       "interleaved)" % (ln, lines[i + 1]))
    return out


def inotify(counts, committed, local_notok, local_all=None):
    out = []
    local_all = local_all or {}
    for k in sorted(committed):
        n, c, slack = counts.get(k, 0), committed[k], local_notok.get(k, 0)
        lo = c - max(slack, local_all.get(k, 0))
        if not lo <= n <= c + slack:
            out.append("file %s: %d CLOSE_WRITE events for %d committed changes (%d writes "
                       "through this mount, %d of unknown outcome)" % (
                           k, n, c, local_all.get(k, 0), slack))
    return out
