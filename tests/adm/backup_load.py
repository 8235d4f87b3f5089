#!/usr/bin/python3
"""backup_load.py - the steady write load of tests/adm/backup.sh (kazoo).

  backup_load.py fill PORT N BYTES   create /load/fN (N nodes of BYTES random
                                     bytes), in transactions of 200
  backup_load.py run PORT OUT STOP   until the file STOP exists: one
                                     transaction after another, each creating
                                     /load/wK and setting /load/last to K
                                     (K = 1, 2, ...); after each is
                                     acknowledged, append "K START_S LAT_MS"
                                     to OUT (wall-clock start, latency)
  backup_load.py stats OUT FROM TO   p50/p99/max latency (ms) and count of
                                     the writes started in [FROM, TO] (unix
                                     seconds), and of the others

Every acknowledged K is in OUT, so a backup taken after the line K appeared
must hold /load/wK; and since each transaction makes /load/wK and sets
/load/last together, a consistent backup has /load/w1../load/wL exactly,
L being /load/last's value.
"""
import os
import sys
import time

from kazoo.client import KazooClient


def client(port):
    zk = KazooClient(hosts="127.0.0.1:%s" % port, timeout=30.0)
    zk.start(timeout=20)
    return zk


def fill(port, n, size):
    zk = client(port)
    zk.ensure_path("/load")
    zk.create("/load/last", b"0")
    i = 0
    while i < n:
        t = zk.transaction()
        for j in range(i, min(n, i + 200)):
            t.create("/load/f%d" % j, os.urandom(size))
        res = t.commit()
        bad = [r for r in res if isinstance(r, Exception)]
        if bad:
            sys.exit("fill: %r" % bad[0])
        i += 200
    zk.stop()


def run(port, out, stop):
    zk = client(port)
    k = 0
    with open(out, "a") as f:
        end = time.time() + 900  # bounded, should the test be killed
        while not os.path.exists(stop) and time.time() < end:
            k += 1
            t0 = time.time()
            t = zk.transaction()
            t.create("/load/w%d" % k, b"w")
            t.set_data("/load/last", b"%d" % k)
            res = t.commit()
            lat = (time.time() - t0) * 1000.0
            bad = [r for r in res if isinstance(r, Exception)]
            if bad:
                sys.exit("run: write %d: %r" % (k, bad[0]))
            f.write("%d %.6f %.3f\n" % (k, t0, lat))
            f.flush()
    zk.stop()


def pct(v, p):
    if not v:
        return 0.0
    v = sorted(v)
    return v[min(len(v) - 1, int(len(v) * p))]


def stats(out, lo, hi):
    inside, outside = [], []
    for line in open(out):
        k, t0, lat = line.split()
        (inside if lo <= float(t0) <= hi else outside).append(float(lat))
    for name, v in (("during", inside), ("outside", outside)):
        print("%s n=%d p50_ms=%.2f p99_ms=%.2f max_ms=%.2f" %
              (name, len(v), pct(v, 0.5), pct(v, 0.99), max(v) if v else 0.0))


if __name__ == "__main__":
    if sys.argv[1] == "fill":
        fill(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    elif sys.argv[1] == "run":
        run(sys.argv[2], sys.argv[3], sys.argv[4])
    elif sys.argv[1] == "stats":
        stats(sys.argv[2], float(sys.argv[3]), float(sys.argv[4]))
    else:
        sys.exit(__doc__)
