#!/usr/bin/python3
"""mountload.py - the chaos harness's clients through the FUSE mounts.

Runs for SECONDS against the mounts of several members at once (MOUNTS:
comma-separated mount points, in member order) and writes what they did,
one JSON object per line, to OUT. The promises checked (DESIGN.md 1-3;
checkers.files, checkers.locks, checkers.ledger, checkers.inotify):

- files (/chaosfs/f/K): on every mount a writer writes whole values
  "fs,WRITER,SEQ,CRC32" (open O_TRUNC, write, close: one setData at
  close) and a reader reads them back, either after `fsync` on the file
  (sync: catch up with the leader first, then open and read) or plainly.
  Every value read must be whole and one that was written; a synced read
  must not return a value already overwritten by a write acknowledged
  before the read began; no reader goes back in time on its mount.
- locks (/chaosfs/locks, child_kind=ephemeral): on every mount a locker
  takes the lock with mkdir (EEXIST: held elsewhere, try again), then,
  holding it, appends "enter" and "exit" lines to /chaosfs/ledger (synced
  read, whole write), then rmdirs the lock. The holds, with their times,
  and the ledger read after healing show whether two holders overlapped.
- inotify (/chaosfs/f): on every mount an inotifywait stream started
  before any writer; its CLOSE_WRITE events per file are compared with the
  number of committed changes (the file's version after healing). Writers
  on mount m never write file m % FILES, so that each watcher has a file
  on which it must see every committed change exactly once.

Every operation is recorded before it is issued and completed when it
returns, so a call still blocked at the end (a paused member's mount) is
in the history with an unknown outcome. Errors other than the expected
ones (EEXIST on mkdir) make an outcome unknown: a close that failed may
still have committed. Times are time.monotonic(), the same clock (Linux
CLOCK_MONOTONIC) as chaos.py's fault times.

Usage: mountload.py MOUNTS OUT [--seconds S] [--seed N] [--files K]
                    [--readonly I,...]
--readonly: those mounts (0-based) get a reader and a watcher only.
"""
import argparse
import errno
import json
import os
import random
import subprocess
import threading
import time
import zlib

ROOT = "chaosfs"


def value(writer, seq):
    body = "fs,%s,%d" % (writer, seq)
    return "%s,%08x" % (body, zlib.crc32(body.encode()))


def whole(v):
    """True when v is a value value() made (not torn, not empty)."""
    body, _, crc = v.rpartition(",")
    return body.startswith("fs,") and crc == "%08x" % zlib.crc32(body.encode())


class History:
    def __init__(self):
        self.lock = threading.Lock()
        self.ops = []

    def begin(self, **d):
        d["call"] = time.monotonic()
        d["status"] = "unknown"
        d["ret"] = None
        with self.lock:
            self.ops.append(d)
        return d

    @staticmethod
    def end(d, status, **more):
        d.update(more)
        d["ret"] = time.monotonic()
        d["status"] = status


class Worker(threading.Thread):
    def __init__(self, kind, m, mnt, args, hist, deadline):
        super().__init__(daemon=True)
        self.kind = kind
        self.m = m
        self.mnt = mnt
        self.root = os.path.join(mnt, ROOT)
        self.args = args
        self.hist = hist
        self.deadline = deadline
        self.name_ = "%s%d" % (kind[0], m + 1)
        self.rng = random.Random(args.seed * 100 + m * 10 + len(kind))
        self.seq = 0

    def run(self):
        while time.monotonic() < self.deadline:
            self.seq += 1
            try:
                getattr(self, self.kind)()
            except OSError:
                time.sleep(0.2)  # a dead or stopping mount: wait a little
            time.sleep(self.rng.uniform(0, 0.05))

    def path(self, k):
        return os.path.join(self.root, "f", str(k))

    def write_file(self, path, data):
        fd = os.open(path, os.O_WRONLY | os.O_TRUNC)
        try:
            os.write(fd, data.encode())
        finally:
            os.close(fd)  # the commit; its error is the write's

    def read_file(self, path, sync):
        if sync:
            fd = os.open(path, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        with open(path, "rb") as f:
            return f.read().decode(errors="replace")

    def writer(self):
        # Never file m % files: on that file, mount m's watcher sees only
        # changes made elsewhere, which it must see exactly (inotify merges
        # a local close with an identical replayed one queued just before
        # it, so files written through the mount itself are checked within
        # bounds only).
        k = self.rng.choice([k for k in range(self.args.files)
                             if k != self.m % self.args.files])
        v = value(self.name_, self.seq)
        d = self.hist.begin(kind="fwrite", key=k, member=self.m + 1, process=self.name_,
                            arg=v)
        try:
            self.write_file(self.path(k), v)
            History.end(d, "ok")
        except OSError as e:
            History.end(d, "unknown", error=errno.errorcode.get(e.errno, str(e)))
            raise

    def reader(self):
        k = self.rng.randrange(self.args.files)
        sync = self.rng.random() < 0.7
        d = self.hist.begin(kind="fread", key=k, member=self.m + 1, process=self.name_,
                            sync=sync)
        try:
            v = self.read_file(self.path(k), sync)
            History.end(d, "ok", result=v)
        except OSError as e:
            History.end(d, "error", error=errno.errorcode.get(e.errno, str(e)))
            raise

    def locker(self):
        lock = os.path.join(self.root, "locks", "L")
        d = self.hist.begin(kind="acquire", member=self.m + 1, process=self.name_,
                            hold="%s-%d" % (self.name_, self.seq))
        try:
            os.mkdir(lock)
        except FileExistsError:
            History.end(d, "fail")
            time.sleep(self.rng.uniform(0.02, 0.2))
            return
        except OSError as e:
            History.end(d, "unknown", error=errno.errorcode.get(e.errno, str(e)))
            raise
        History.end(d, "ok")
        hold = d["hold"]
        ledger = os.path.join(self.root, "ledger")
        try:
            for what in ("enter", "exit"):
                w = self.hist.begin(kind="ledger", member=self.m + 1, process=self.name_,
                                    hold=hold, arg="%s %s" % (hold, what))
                try:
                    cur = self.read_file(ledger, True)
                    self.write_file(ledger, cur + w["arg"] + "\n")
                    History.end(w, "ok")
                except OSError as e:
                    History.end(w, "unknown", error=errno.errorcode.get(e.errno, str(e)))
                    raise
                if what == "enter":
                    time.sleep(self.rng.uniform(0, 0.3))
        finally:
            r = self.hist.begin(kind="release", member=self.m + 1, process=self.name_,
                                hold=hold)
            try:
                os.rmdir(lock)
                History.end(r, "ok")
            except OSError as e:
                History.end(r, "unknown", error=errno.errorcode.get(e.errno, str(e)))


def setup(mnt, files):
    root = os.path.join(mnt, ROOT)
    for p in (root, os.path.join(root, "f"), os.path.join(root, "locks")):
        os.makedirs(p, exist_ok=True)
    os.setxattr(os.path.join(root, "locks"), "user.quorumfs.child_kind", b"ephemeral")
    for k in range(files):
        with open(os.path.join(root, "f", str(k)), "w") as f:
            f.write(value("init", k))
    with open(os.path.join(root, "ledger"), "w") as f:
        f.write("")


def watch(m, mnt, outdir):
    """inotifywait on mount m's files directory; ready when it returns."""
    out = os.path.join(outdir, "inotify-m%d.txt" % (m + 1))
    err = open(out + ".err", "w")
    p = subprocess.Popen(["inotifywait", "-m", "-e", "close_write,modify",
                          "--format", "%e %f", os.path.join(mnt, ROOT, "f")],
                         stdout=open(out, "w"), stderr=err)
    end = time.monotonic() + 10
    while time.monotonic() < end:
        with open(out + ".err") as f:
            if "Watches established" in f.read():
                return p, out
        time.sleep(0.05)
    raise RuntimeError("inotifywait on member %d did not start" % (m + 1))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mounts")
    ap.add_argument("out")
    ap.add_argument("--seconds", type=float, default=30)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--files", type=int, default=3)
    ap.add_argument("--readonly", default="",
                    help="mounts (indexes, comma-separated) with a reader only")
    args = ap.parse_args()
    mounts = args.mounts.split(",")
    outdir = os.path.dirname(os.path.abspath(args.out))
    setup(mounts[0], args.files)
    # Every mount sees the setup before the watchers start (fsync: catch up).
    for mnt in mounts:
        for k in range(args.files):
            fd = os.open(os.path.join(mnt, ROOT, "f", str(k)), os.O_RDONLY)
            os.fsync(fd)
            os.close(fd)
    versions = {k: int(os.getxattr(os.path.join(mounts[0], ROOT, "f", str(k)),
                                   "user.quorumfs.version")) for k in range(args.files)}
    watchers = [watch(m, mnt, outdir) for m, mnt in enumerate(mounts)]
    with open(args.out + ".ready", "w"):
        pass
    hist = History()
    start = time.monotonic()
    deadline = start + args.seconds
    ro = {int(i) for i in args.readonly.split(",") if i}
    workers = [Worker(kind, m, mnt, args, hist, deadline)
               for m, mnt in enumerate(mounts) for kind in ("writer", "reader", "locker")
               if kind == "reader" or m not in ro]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=max(0, deadline - time.monotonic()) + 30)
    with hist.lock:
        ops = list(hist.ops)
    with open(args.out + ".tmp", "w") as f:
        f.write(json.dumps({"kind": "meta", "start": start, "files": args.files, "versions": versions,
                            "watchers": [o for _, o in watchers],
                            "mounts": mounts}) + "\n")
        for d in ops:
            f.write(json.dumps(d) + "\n")
    os.rename(args.out + ".tmp", args.out)
    print("mountload: %d operations on %d mounts" % (len(ops), len(mounts)), flush=True)
    # The watchers run on until chaos.py has healed the ensemble and every
    # member has caught up: it creates OUT.stop then (bounded wait).
    end = time.monotonic() + 600
    while time.monotonic() < end and not os.path.exists(args.out + ".stop"):
        time.sleep(0.1)
    for p, _ in watchers:
        p.terminate()
        p.wait(timeout=10)


if __name__ == "__main__":
    main()
