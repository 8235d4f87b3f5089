#!/usr/bin/env python3
"""zks_fuzz.py PORT SEED CONNECTIONS - hostile sessions against a
ZooKeeper-protocol server: a valid handshake, then frames with a valid
header (real, reserved and unknown opcodes, odd xids) and bodies built from
random jute-ish pieces (strings of bad lengths, NULs, huge counts, raw
bytes). The server may answer or close each connection as it likes; it must
stay up. Prints "alive" and exits 0 if it still answers ruok at the end."""
import random
import socket
import struct
import sys

port, seed, n = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
rnd = random.Random(seed)
OPS = [1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21,
       22, 100, 101, 102, 103, 104, 105, 106, 107, -11, 0, 999]


def jstr(x):
    b = x.encode()
    return struct.pack(">i", len(b)) + b


def rstr():
    c = rnd.random()
    if c < 0.1:
        return struct.pack(">i", -1)
    if c < 0.2:
        return struct.pack(">i", rnd.randint(-5, 1 << 30))
    return jstr(rnd.choice(["/", "/a", "/a/b", "", "bad", "/zookeeper", "/a\x00b",
                            "/" + "x" * rnd.randint(0, 300)]))


def body():
    parts = []
    for _ in range(rnd.randint(0, 8)):
        k = rnd.random()
        if k < 0.4:
            parts.append(rstr())
        elif k < 0.7:
            parts.append(struct.pack(">i", rnd.choice(
                [-1, 0, 1, 2, 3, 5, 100, -100, 1 << 20])))
        elif k < 0.8:
            parts.append(struct.pack(">q", rnd.randint(-5, 1 << 40)))
        else:
            parts.append(bytes(rnd.randint(0, 255)
                               for _ in range(rnd.randint(0, 20))))
    return b"".join(parts)


def vstr():
    """a string that decodes, often a real path"""
    return jstr(rnd.choice(["/", "/f", "/f/a", "/f/b", "/f/a/c", "", "x", "/zookeeper",
                            "/zookeeper/config", "/f/" + "y" * rnd.randint(0, 40)]))


def i32():
    return struct.pack(">i", rnd.choice([-2, -1, 0, 1, 2, 3, 4, 5, 6, 7, 100, -100]))


def i64():
    return struct.pack(">q", rnd.choice([-1, 0, 1, 1000, 1 << 40, -(1 << 40)]))


def jbuf():
    if rnd.random() < 0.2:
        return struct.pack(">i", -1)
    return jstr("d" * rnd.randint(0, 64))


def aclvec():
    k = rnd.randint(0, 3)
    out = struct.pack(">i", k)
    for _ in range(k):
        out += i32() + jstr(rnd.choice(["world", "auth", "digest", "ip", "sasl", "x"])) + \
            jstr(rnd.choice(["anyone", "", "u:p", "u:AAAAAAAAAAAAAAAAAAAAAAAAAAA=",
                             "127.0.0.1", "10.0.0.0/8", "1.2.3.4/99"]))
    return out


def strvec():
    k = rnd.randint(0, 4)
    return struct.pack(">i", k) + b"".join(vstr() for _ in range(k))


def flag():
    return bytes([rnd.choice([0, 1])])


TEMPLATES = {
    1: lambda: vstr() + jbuf() + aclvec() + i32(),
    15: lambda: vstr() + jbuf() + aclvec() + i32(),
    19: lambda: vstr() + jbuf() + aclvec() + i32(),
    21: lambda: vstr() + jbuf() + aclvec() + i32() + i64(),
    2: lambda: vstr() + i32(),
    13: lambda: vstr() + i32(),
    3: lambda: vstr() + flag(),
    4: lambda: vstr() + flag(),
    8: lambda: vstr() + flag(),
    12: lambda: vstr() + flag(),
    5: lambda: vstr() + jbuf() + i32(),
    6: lambda: vstr(),
    9: lambda: vstr(),
    103: lambda: vstr(),
    104: lambda: vstr(),
    7: lambda: vstr() + aclvec() + i32(),
    106: lambda: vstr() + i32(),
    17: lambda: vstr() + i32(),
    18: lambda: vstr() + i32(),
    101: lambda: i64() + strvec() + strvec() + strvec(),
    105: lambda: i64() + strvec() + strvec() + strvec() + strvec() + strvec(),
    100: lambda: i32() + jstr(rnd.choice(["digest", "ip", "x"])) + jstr(rnd.choice(["u:p", "", "nocolon"])),
    16: lambda: vstr() + vstr() + vstr() + i64(),
}


def multi(read):
    out = b""
    for _ in range(rnd.randint(0, 5)):
        op = rnd.choice([4, 8] if read else [1, 2, 5, 13, 15, 19, 21])
        out += struct.pack(">ibi", op, 0, -1) + TEMPLATES[op]()
    return out + struct.pack(">ibi", -1, 1, -1)


def frame_body(op):
    if rnd.random() < 0.7:
        if op in (14, 22):
            return multi(op == 22)
        if op in TEMPLATES:
            return TEMPLATES[op]()
    return body()


for i in range(n):
    try:
        c = socket.create_connection(("127.0.0.1", port), timeout=2)
        cr = struct.pack(">iqiqi", 0, 0, 2000, 0, 16) + b"\0" * 17
        c.sendall(struct.pack(">i", len(cr)) + cr)
        c.recv(4)
        for j in range(rnd.randint(1, 20)):
            op = rnd.choice(OPS)
            p = struct.pack(">ii", rnd.randint(-10, 100), op) + frame_body(op)
            c.sendall(struct.pack(">i", len(p)) + p)
        c.settimeout(0.2)
        while c.recv(65536):
            pass
    except OSError:
        pass  # closed on us: allowed
    finally:
        c.close()

s = socket.create_connection(("127.0.0.1", port), timeout=5)
s.sendall(b"ruok")
ok = s.recv(4) == b"imok"
print("alive" if ok else "dead")
sys.exit(0 if ok else 1)
