#!/usr/bin/python3
"""workload.py - ZooKeeper-protocol clients for the chaos harness.

Runs CLIENTS concurrent kazoo sessions against a connect string for SECONDS
and writes what they did, one JSON object per line, to OUT:

- registers: each client picks one of KEYS registers (/chaos/r/N) and does
  one of: read (sync, then getData: must be linearizable), plain read
  (getData without sync: checked against the session guarantees), write
  (setData), compare-and-set (setData with the version it last read).
  Lines have the format lincheck.py reads, plus "sync": false on plain
  reads, which lincheck leaves out and sessions.py checks.
- appends: sequential creates under /chaos/q with a unique payload; the
  line records the payload and the outcome, so lost.py can check after
  healing that every acknowledged append is there exactly once.
- readers (--readers N): N more clients, reader i connected to member
  i % members alone, doing nothing but sync-then-read. A client that also
  writes leaves a member cut off from its quorum at its first write (the
  write waits, its pings queue behind it, it reconnects elsewhere); a
  reader stays, so whatever a cut-off member answers after sync is in the
  history for as long as the cut lasts.
- --avoid I: the CLIENTS leave member I (0-based, in HOSTS) out of their
  connect string, so its readers are the only sessions there: a write
  pending on a cut-off member holds back every later sync on it (one queue
  per member), and a writer that reaches it would end what its reader can
  show within one write.

An operation that raises ConnectionLoss, OperationTimeout or SessionExpired
has an unknown outcome ("status": "unknown"): it may or may not have taken
effect. BadVersion is a definite failure of a cas. Times come from
time.monotonic() in this one process, so all clients share a clock.

Usage: workload.py HOSTS OUT [--clients N] [--readers N] [--keys K]
                   [--seconds S] [--seed N] [--timeout-ms T] [--avoid I]
"""
import argparse
import json
import logging
import random
import threading
import time

from kazoo.client import KazooClient
from kazoo.exceptions import (BadVersionError, ConnectionLoss, KazooException,
                              NodeExistsError, OperationTimeoutError,
                              SessionExpiredError)
from kazoo.handlers.threading import KazooTimeoutError

UNKNOWN = (ConnectionLoss, OperationTimeoutError, SessionExpiredError, KazooTimeoutError)
INITIAL = b""


def setup(hosts, keys, timeout_s):
    zk = KazooClient(hosts=hosts, timeout=timeout_s)
    zk.start(timeout=30)
    zk.ensure_path("/chaos/q")
    for k in range(keys):
        try:
            zk.create("/chaos/r/%d" % k, INITIAL, makepath=True)
        except NodeExistsError:
            zk.set("/chaos/r/%d" % k, INITIAL)
    # The registers start at version 0 with empty data for the checker.
    for k in range(keys):
        data, st = zk.get("/chaos/r/%d" % k)
        if st.version != 0:
            raise SystemExit("register /chaos/r/%d exists already at version %d: "
                             "use a fresh ensemble" % (k, st.version))
    zk.stop()
    zk.close()


def server(zk):
    """The member this client is connected to now (after the operation: a
    hint for reading an anomaly, not part of any check)."""
    try:
        return zk._connection._socket.getpeername()[0]
    except Exception:  # noqa: BLE001 - kazoo internals, best effort
        return None


class Client(threading.Thread):
    def __init__(self, n, args, out, lock, deadline, hosts=None, reader=False):
        super().__init__(daemon=True)
        self.n = n
        self.args = args
        self.hosts = hosts or args.hosts
        self.reader = reader
        self.out = out
        self.lock = lock
        self.deadline = deadline
        self.rng = random.Random(args.seed * 1000 + n)
        self.last_version = {}
        self.ops = 0

    def record(self, d):
        d["process"] = self.n
        with self.lock:
            self.out.write(json.dumps(d) + "\n")
        self.ops += 1

    def run(self):
        zk = KazooClient(hosts=self.hosts, timeout=self.args.timeout_ms / 1000.0)
        try:
            zk.start(timeout=30)
        except Exception as e:  # noqa: BLE001 - any start failure ends the client
            self.record({"key": "-", "op": "start", "status": "error", "error": repr(e)})
            return
        session = zk.client_id[0] if zk.client_id else 0
        i = 0
        while time.monotonic() < self.deadline:
            i += 1
            try:
                self.one(zk, session, i)
            except KazooException:
                time.sleep(0.05)
            if not zk.connected:
                time.sleep(0.05)
            # A session that expired is replaced by a new one; the session
            # checks hold per session.
            if zk.client_id and zk.client_id[0] != session:
                session = zk.client_id[0]
        try:
            zk.stop()
            zk.close()
        except Exception:  # noqa: BLE001 - best effort at the end
            pass

    def one(self, zk, session, i):
        r = self.rng.random()
        if self.reader:
            r = 0.15 + r * 0.30  # sync-then-read only
        if r < 0.15:
            return self.append(zk, session, i)
        key = "/chaos/r/%d" % self.rng.randrange(self.args.keys)
        value = "c%d-%d" % (self.n, i)
        d = {"key": key, "session": session}
        d["call"] = time.monotonic()
        try:
            if r < 0.45:
                d["op"] = "read"
                d["arg"] = None
                zk.sync(key)
                data, st = zk.get(key)
                d["result"] = [data.decode(), st.version]
            elif r < 0.55:
                d["op"] = "read"
                d["sync"] = False
                d["arg"] = None
                data, st = zk.get(key)
                d["result"] = [data.decode(), st.version]
            elif r < 0.75:
                d["op"] = "write"
                d["arg"] = value
                st = zk.set(key, value.encode())
                d["result"] = st.version
            else:
                ev = self.last_version.get(key, 0)
                d["op"] = "cas"
                d["arg"] = [ev, value]
                st = zk.set(key, value.encode(), version=ev)
                d["result"] = st.version
            d["status"] = "ok"
            if d["op"] == "read":
                self.last_version[key] = d["result"][1]
            else:
                self.last_version[key] = d["result"]
        except BadVersionError:
            d["status"] = "fail"
            d["result"] = None
            self.last_version[key] = ev + 1
        except UNKNOWN as e:
            d["status"] = "unknown"
            d["result"] = None
            d["error"] = type(e).__name__
        d["ret"] = time.monotonic()
        d["server"] = server(zk)
        self.record(d)

    def append(self, zk, session, i):
        payload = "a%d-%d" % (self.n, i)
        d = {"key": "/chaos/q", "op": "append", "arg": payload, "session": session}
        d["call"] = time.monotonic()
        try:
            path = zk.create("/chaos/q/e-", payload.encode(), sequence=True)
            d["status"] = "ok"
            d["result"] = path
        except UNKNOWN as e:
            d["status"] = "unknown"
            d["result"] = None
            d["error"] = type(e).__name__
        d["ret"] = time.monotonic()
        self.record(d)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("hosts")
    ap.add_argument("out")
    ap.add_argument("--clients", type=int, default=5)
    ap.add_argument("--readers", type=int, default=0)
    ap.add_argument("--keys", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=30)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--timeout-ms", type=int, default=4000)
    ap.add_argument("--avoid", type=int, default=-1)
    args = ap.parse_args()
    # kazoo logs every dropped connection; the history says what matters.
    logging.basicConfig(filename=args.out + ".kazoo.log", level=logging.WARNING)
    setup(args.hosts, args.keys, args.timeout_ms / 1000.0)
    lock = threading.Lock()
    deadline = time.monotonic() + args.seconds
    with open(args.out, "w") as out:
        members = args.hosts.split(",")
        general = ",".join(h for i, h in enumerate(members) if i != args.avoid)
        if not general:
            raise SystemExit("workload: --avoid leaves no member for the clients")
        clients = [Client(n, args, out, lock, deadline, hosts=general)
                   for n in range(args.clients)]
        clients += [Client(args.clients + n, args, out, lock, deadline,
                           hosts=members[n % len(members)], reader=True)
                    for n in range(args.readers)]
        for c in clients:
            c.start()
        for c in clients:
            # Bounded: a client stuck in a call past the deadline is left
            # (daemon thread) rather than waited for forever.
            c.join(timeout=args.seconds + 60)
    print("workload: %d operations by %d clients" % (sum(c.ops for c in clients),
                                                    len(clients)))


if __name__ == "__main__":
    main()
