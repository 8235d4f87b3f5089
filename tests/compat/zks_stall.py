#!/usr/bin/env python3
"""zks_stall.py PORT NPATHS - does one huge request stall everyone else?

Two connections send a setWatches (type 101: NPATHS data watches on paths
that do not exist, so each fires NodeDeleted at once) and a setWatches2
(type 105: NPATHS exist watches on paths that do not exist, so each is
registered). Meanwhile a third connection does getData/setData on /stall in
a loop and times every round trip. Prints, as "key value" lines:
  setwatches_s   seconds until the setWatches reply came
  setwatches2_s  seconds until the setWatches2 reply came
  events         NodeDeleted notifications seen before the setWatches reply
  max_rtt_ms     the slowest getData/setData round trip meanwhile
  rtts           how many round trips the third client made meanwhile
Exits 1 on a protocol surprise (a reply out of order, a closed connection)."""
import socket
import struct
import sys
import threading
import time

port, npaths = int(sys.argv[1]), int(sys.argv[2])


def jstr(s):
    b = s.encode()
    return struct.pack(">i", len(b)) + b


def frame(b):
    return struct.pack(">i", len(b)) + b


class Conn:
    def __init__(self):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=120)
        self.buf = b""
        req = struct.pack(">iqiq", 0, 0, 30000, 0) + struct.pack(">i", 16) + \
            b"\0" * 16 + b"\0"
        self.s.sendall(frame(req))
        self.read_frame()

    def read_frame(self):
        while len(self.buf) < 4 or len(self.buf) < 4 + struct.unpack(">i", self.buf[:4])[0]:
            d = self.s.recv(1 << 20)
            if not d:
                raise EOFError("connection closed by the server")
            self.buf += d
        n = struct.unpack(">i", self.buf[:4])[0]
        f, self.buf = self.buf[4:4 + n], self.buf[4 + n:]
        return f

    def reply(self, xid):
        """frames until the reply to xid; returns (err, body, notifications)"""
        notes = 0
        while True:
            f = self.read_frame()
            rxid, _zxid, err = struct.unpack(">iqi", f[:16])
            if rxid == -1:
                notes += 1
                continue
            if rxid != xid:
                raise RuntimeError("reply xid %d, expected %d" % (rxid, xid))
            return err, f[16:], notes


def vec(paths):
    return struct.pack(">i", len(paths)) + b"".join(jstr(p) for p in paths)


paths_a = ["/w%05d" % i for i in range(npaths)]
paths_b = ["/v%05d" % i for i in range(npaths)]
empty = vec([])
sw = struct.pack(">ii", -8, 101) + struct.pack(">q", 0) + vec(paths_a) + empty + empty
sw2 = struct.pack(">ii", -8, 105) + struct.pack(">q", 0) + empty + vec(paths_b) + \
    empty + empty + empty

lat = Conn()
xid = 1
lat.s.sendall(frame(struct.pack(">ii", xid, 1) + jstr("/stall") + struct.pack(">i", 0) +
                    struct.pack(">ii", 1, 31) + jstr("world") + jstr("anyone") +
                    struct.pack(">i", 0)))
err, _, _ = lat.reply(xid)
if err not in (0, -110):
    print("create /stall failed: %d" % err)
    sys.exit(1)

a, b = Conn(), Conn()
result = {}
done = threading.Event()


def big(conn, req, key):
    t0 = time.monotonic()
    conn.s.sendall(frame(req))
    try:
        err, _, notes = conn.reply(-8)
    except Exception as e:  # noqa: BLE001 - reported, not hidden
        result[key + "_error"] = repr(e)
        return
    result[key + "_s"] = time.monotonic() - t0
    result[key + "_err"] = err
    if key == "setwatches":
        result["events"] = notes


ta = threading.Thread(target=big, args=(a, sw, "setwatches"))
tb = threading.Thread(target=big, args=(b, sw2, "setwatches2"))
ta.start()
tb.start()
max_rtt, n = 0.0, 0
while ta.is_alive() or tb.is_alive():
    xid += 1
    t0 = time.monotonic()
    if xid % 2:
        lat.s.sendall(frame(struct.pack(">ii", xid, 4) + jstr("/stall") + b"\0"))
    else:
        lat.s.sendall(frame(struct.pack(">ii", xid, 5) + jstr("/stall") +
                            jstr(str(xid)) + struct.pack(">i", -1)))
    err, _, _ = lat.reply(xid)
    if err != 0:
        print("round trip %d failed: %d" % (xid, err))
        sys.exit(1)
    max_rtt = max(max_rtt, time.monotonic() - t0)
    n += 1
ta.join()
tb.join()
for k in sorted(result):
    v = result[k]
    print("%s %s" % (k, ("%.3f" % v) if isinstance(v, float) else v))
print("max_rtt_ms %d" % (max_rtt * 1000))
print("rtts %d" % n)
sys.exit(1 if any(k.endswith("_error") for k in result) else 0)
