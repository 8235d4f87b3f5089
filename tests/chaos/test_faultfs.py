#!/usr/bin/env python3
"""test_faultfs.py - the disk nemeses' LD_PRELOAD shim (faultfs.c), TAP.

Runs a child python with the shim preloaded on a real file under a fault
directory and one outside it, switching the faults through the control file
as the harness does: fail-fsync must fail fsync with EIO, enospc must fail
write and pwrite with ENOSPC, slow-fsync must delay fdatasync, files outside
the directory and a healed control file must see no fault.
"""
import json
import os
import subprocess
import sys
import tempfile

CHILD = r'''
import errno, json, os, sys, time
ctl, d, outside = sys.argv[1:4]
def setf(s):
    with open(ctl + ".tmp", "w") as f:
        f.write(s)
    os.rename(ctl + ".tmp", ctl)
def err(f, *a):
    try:
        f(*a)
        return "none"
    except OSError as e:
        return errno.errorcode[e.errno]
fd = os.open(os.path.join(d, "f"), os.O_RDWR | os.O_CREAT)
out = os.open(outside, os.O_RDWR | os.O_CREAT)
r = {}
setf("")
r["clean write"] = err(os.write, fd, b"x")
r["clean fsync"] = err(os.fsync, fd)
setf("fail-fsync")
r["fail-fsync fsync"] = err(os.fsync, fd)
r["fail-fsync fdatasync"] = err(os.fdatasync, fd)
r["fail-fsync outside"] = err(os.fsync, out)
setf("enospc")
r["enospc write"] = err(os.write, fd, b"y")
r["enospc pwrite"] = err(os.pwrite, fd, b"y", 7)
r["enospc outside"] = err(os.write, out, b"y")
setf("slow-fsync 300")
t = time.monotonic()
os.fdatasync(fd)
r["slow-fsync seconds"] = time.monotonic() - t
setf("")
r["healed fsync"] = err(os.fsync, fd)
r["healed write"] = err(os.write, fd, b"z")
print(json.dumps(r))
'''


def main():
    build = os.environ.get("QFS_BUILDDIR", os.path.join(os.path.dirname(__file__), "..", ".."))
    so = os.path.abspath(os.path.join(build, "tests", "chaos", "faultfs.so"))
    if not os.path.exists(so):
        print("not ok - faultfs.so is built\n# %s missing" % so)
        return 1
    fails = 0
    with tempfile.TemporaryDirectory(prefix="qfs-faultfs.") as tmp:
        d = os.path.join(tmp, "data")
        os.mkdir(d)
        ctl = os.path.join(tmp, "ctl")
        env = dict(os.environ, LD_PRELOAD=so, QFS_FAULT_DIR=d, QFS_FAULT_CTL=ctl)
        p = subprocess.run([sys.executable, "-c", CHILD, ctl, d, os.path.join(tmp, "out")],
                           env=env, capture_output=True, text=True, timeout=60)
        if p.returncode != 0:
            print("not ok - the child runs with the shim\n# %s" % p.stderr.strip()[-500:])
            return 1
        r = json.loads(p.stdout)
    want = {"clean write": "none", "clean fsync": "none", "fail-fsync fsync": "EIO",
            "fail-fsync fdatasync": "EIO", "fail-fsync outside": "none",
            "enospc write": "ENOSPC", "enospc pwrite": "ENOSPC", "enospc outside": "none",
            "healed fsync": "none", "healed write": "none"}
    for k, v in want.items():
        ok = r.get(k) == v
        fails += not ok
        print("%s - %s: %s" % ("ok" if ok else "not ok", k, v))
        if not ok:
            print("# got %r" % r.get(k))
    ok = r["slow-fsync seconds"] >= 0.3
    fails += not ok
    print("%s - slow-fsync 300 delays fdatasync by 300 ms (%.2f s)" % (
        "ok" if ok else "not ok", r["slow-fsync seconds"]))
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
