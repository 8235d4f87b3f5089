#!/usr/bin/python3
"""zk_gen_snapshot.py DIR N - a ZooKeeper 3.8 snapshot of N znodes (no log),
written in ZooKeeper's layout, for import timings at sizes a test ZooKeeper
cannot reach quickly: /gen/dNNN/nNNNNNN, 100 bytes of data each, 1000 per
directory. Writes DIR/version-2/snapshot.<zxid>."""
import os
import struct
import sys
import zlib

d, n = sys.argv[1], int(sys.argv[2])
os.makedirs(os.path.join(d, "version-2"), exist_ok=True)
out = bytearray()


def s(x):
    b = x.encode()
    return struct.pack(">i", len(b)) + b


def node(path, data, cz, owner=0, cv=0):
    return (s(path) + (struct.pack(">i", -1) if data is None else
                       struct.pack(">i", len(data)) + data) +
            struct.pack(">q", -1) +
            struct.pack(">qqqqiiiqq", cz, cz, 1700000000000 + cz,
                        1700000000000 + cz, 0, cv, 0, owner, cz))


out += struct.pack(">iiq", 0x5a4b534e, 2, -1)
out += struct.pack(">i", 0)       # sessions
out += struct.pack(">i", 0)       # ACL cache (every node -1: open)
dirs = (n + 999) // 1000
z = 1
out += node("", None, 0, cv=1)
out += node("/zookeeper", b"", 0)
out += node("/zookeeper/quota", b"", 0)
out += node("/zookeeper/config", b"", 0)
out += node("/gen", b"", z, cv=dirs)
z += 1
data = b"x" * 100
chunks = [bytes(out)]
out = bytearray()
i = 0
for k in range(dirs):
    cnt = min(1000, n - i)
    out += node("/gen/d%03d" % k, b"", z, cv=cnt)
    z += 1
    for j in range(cnt):
        out += node("/gen/d%03d/n%07d" % (k, i), data, z)
        z += 1
        i += 1
    chunks.append(bytes(out))
    out = bytearray()
body = b"".join(chunks) + s("/")
a = zlib.adler32(body)
body += struct.pack(">q", a) + s("/")
with open(os.path.join(d, "version-2", "snapshot.%x" % (z - 1)), "wb") as f:
    f.write(body)
print(z - 1)
