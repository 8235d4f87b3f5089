#!/usr/bin/python3
"""zk_tree.py - make a varied ZooKeeper tree with kazoo, or dump a tree.

  zk_tree.py make PORT HOLDFILE   build the tree; keep the session (and its
                                  ephemerals) open until HOLDFILE is removed
                                  or the server goes away
  zk_tree.py dump PORT            every node below / (sorted), one line each:
                                  path, data (hex or null), ACL, every stat
                                  field; "/zookeeper" is included
  zk_tree.py compare ZK QFS       compare two dumps: ZooKeeper's (the truth)
                                  and quorumfs's; prints the differences
  zk_tree.py count DUMP           the number of nodes in a dump
  zk_tree.py seq PORT PATH        create PATH as a sequential node; print its name
  zk_tree.py logrecs FILE         each record of a ZooKeeper log: its offset
                                  and entry length (to damage it precisely)
  zk_tree.py flip FILE OFFSET     invert the byte at OFFSET (a sure change)
  zk_tree.py sqlite FILE          a quorumfs snapshot file in dump form, each
                                  stat as clients are shown it (copyStat)
Exit status non-zero on any failure.
"""
import os
import sys
import time

from kazoo.client import KazooClient
from kazoo.protocol.serialization import Create2, int_struct, long_struct
from kazoo.security import ACL, Id, OPEN_ACL_UNSAFE, make_digest_acl


class CreateContainer(Create2):
    """kazoo 2.8 has no containers: createContainer is create2's body with
    CreateMode CONTAINER (4) under opcode 19."""
    type = 19


class CreateTTL(Create2):
    """createTTL (opcode 21): create2's body plus a long ttl."""
    type = 21

    def __new__(cls, path, data, acl, flags, ttl):
        self = Create2.__new__(cls, path, data, acl, flags)
        self.ttl = ttl
        return self

    def serialize(self):
        return Create2.serialize(self) + long_struct.pack(self.ttl)


def call(zk, req):
    res = zk.handler.async_result()
    zk._call(req, res)
    return res.get(timeout=20)

P = ["czxid", "mzxid", "ctime", "mtime", "version", "cversion", "aversion",
     "ephemeralOwner", "dataLength", "numChildren", "pzxid"]


def client(port, timeout=30.0):
    zk = KazooClient(hosts="127.0.0.1:%s" % port, timeout=timeout)
    zk.start(timeout=20)
    return zk


def make(port, hold):
    zk = client(port)
    zk.add_auth("digest", "ops:secret")
    zk.create("/app/config/a/b/c", b"nested", makepath=True)
    zk.create("/bin", bytes(range(256)) * 3)
    zk.create("/empty", b"")
    zk.create("/big", os.urandom(1024 * 1024 - 64))
    for i in range(12):
        zk.set("/app/config", b"version %d" % i)
    zk.create("/acl-digest", b"d", acl=[make_digest_acl("ops", "secret", all=True)])
    zk.create("/acl-ip", b"i", acl=[ACL(31, Id("ip", "127.0.0.1")),
                                    ACL(1, Id("ip", "10.0.0.0/8"))])
    zk.create("/acl-world", b"w", acl=[ACL(1 | 2, Id("world", "anyone"))])
    zk.create("/acl-auth", b"a", acl=[ACL(31, Id("auth", ""))])
    zk.set_acls("/app", [ACL(31, Id("world", "anyone"))])
    zk.set_acls("/app", [ACL(15, Id("world", "anyone")),
                         ACL(16, Id("digest", "ops:x"))])
    zk.create("/queue", b"")
    for i in range(25):
        zk.create("/queue/item-", b"%d" % i, sequence=True)
    for i in range(0, 25, 3):
        zk.delete("/queue/item-%010d" % i)
    zk.create("/eph", b"mine", ephemeral=True)
    zk.create("/app/eph-seq-", b"", ephemeral=True, sequence=True)
    call(zk, CreateContainer("/container", b"c", OPEN_ACL_UNSAFE, 4))
    zk.create("/container/child", b"x")
    call(zk, CreateTTL("/ttl", b"t", OPEN_ACL_UNSAFE, 5, 3600 * 1000))
    call(zk, CreateTTL("/ttl-seq", b"s", OPEN_ACL_UNSAFE, 6, 7200 * 1000))
    zk.create("/create2", b"two", include_data=True)
    t = zk.transaction()
    t.create("/multi", b"m")
    t.create("/multi/one", b"1")
    t.set_data("/empty", b"now full")
    t.commit()
    t = zk.transaction()   # a failed multi (error txn in the log)
    t.create("/multi/two", b"2")
    t.create("/multi/one", b"dup")
    t.commit()
    zk.create("/gone/deep", b"", makepath=True)
    zk.delete("/gone", recursive=True)
    for i in range(40):
        zk.create("/many/n%03d" % i, b"v%d" % i, makepath=True)
    # A second session that closes: its ephemerals go (closeSession txn).
    z2 = client(port)
    z2.create("/short-lived", b"", ephemeral=True)
    z2.stop()
    z2.close()
    print("session 0x%x" % zk.client_id[0], flush=True)
    with open(hold + ".ready", "w") as f:
        f.write("ready\n")
    while os.path.exists(hold) and zk.connected:
        time.sleep(0.1)
    os._exit(0)   # never close the session: its ephemerals stay in the data


def fmt_acl(acls):
    return ",".join("%s:%s:%d" % (a.id.scheme, a.id.id, a.perms) for a in acls)


def dump(port):
    zk = client(port)
    zk.add_auth("digest", "ops:secret")
    out = []
    todo = ["/"]
    while todo:
        p = todo.pop()
        data, st = zk.get(p)
        acl, _ = zk.get_acls(p)
        kids = zk.get_children(p)
        line = [p, "null" if data is None else data.hex(), fmt_acl(acl)]
        line += ["%s=%s" % (k, getattr(st, k)) for k in P]
        out.append(" ".join(line))
        for k in kids:
            todo.append(p.rstrip("/") + "/" + k)
    for line in sorted(out):
        print(line)
    zk.stop()


def sqlite_dump(path):
    import sqlite3
    import struct
    db = sqlite3.connect("file:%s?mode=ro" % path, uri=True)
    out = []
    for row in db.execute("SELECT path, data, acl, flags, czxid, mzxid, ctime,"
                          " mtime, version, cversion, aversion, ephemeral_owner,"
                          " data_length, num_children, pzxid FROM nodes"):
        path, data, acl, flags = row[:4]
        n, = struct.unpack_from(">i", acl, 0)
        off, acls = 4, []
        for _ in range(n):
            perms, = struct.unpack_from(">i", acl, off)
            off += 4
            ids = []
            for _ in range(2):
                ln, = struct.unpack_from(">i", acl, off)
                off += 4
                ids.append(acl[off:off + max(ln, 0)].decode())
                off += max(ln, 0)
            acls.append("%s:%s:%d" % (ids[0], ids[1], perms))
        d = "null" if flags & 4 else bytes(data or b"").hex()
        line = [path, d, ",".join(acls)]
        st = dict(zip(P, row[4:]))
        # What a client is shown (DataNode.copyStat, as the server does):
        # the stored cversion counts creates, the shown one creates and
        # deletes; containers and TTL nodes show no owner.
        st["cversion"] = 2 * st["cversion"] - st["numChildren"]
        eo = st["ephemeralOwner"]
        if eo == -2**63 or (eo >> 56) == -1:
            st["ephemeralOwner"] = 0
        line += ["%s=%s" % (k, st[k]) for k in P]
        out.append(" ".join(line))
    for line in sorted(out):
        print(line)


def logrecs(path):
    import struct
    b = open(path, "rb").read()
    off = 16
    while off + 12 <= len(b):
        crc, ln = struct.unpack_from(">qi", b, off)
        if ln <= 0 or off + 12 + ln + 1 > len(b):
            break
        print(off, ln)
        off += 12 + ln + 1


def parse(path):
    out = {}
    for line in open(path):
        f = line.rstrip("\n").split(" ")
        st = dict(kv.split("=") for kv in f[3:])
        out[f[0]] = (f[1], f[2], st)
    return out


def compare(zk_path, q_path):
    """Exact: data, ACL and every stat field as clients are shown them."""
    zk, q = parse(zk_path), parse(q_path)
    bad = 0
    for p in sorted(set(zk) | set(q)):
        if p not in q or p not in zk:
            print("only in %s: %s" % ("ZooKeeper" if p in zk else "quorumfs", p))
            bad += 1
            continue
        (zd, za, zs), (qd, qa, qs) = zk[p], q[p]
        if zd != qd:
            print("%s: data differs" % p)
            bad += 1
        if za != qa:
            print("%s: ACL %s vs %s" % (p, za, qa))
            bad += 1
        for k in P:
            if zs[k] != qs[k]:
                print("%s: %s %s vs %s" % (p, k, zs[k], qs[k]))
                bad += 1
    print("# compared %d nodes, %d differences" % (len(zk), bad))
    return bad == 0


if __name__ == "__main__":
    if sys.argv[1] == "make":
        make(sys.argv[2], sys.argv[3])
    elif sys.argv[1] == "compare":
        sys.exit(0 if compare(sys.argv[2], sys.argv[3]) else 1)
    elif sys.argv[1] == "seq":
        zk = client(sys.argv[2])
        print(zk.create(sys.argv[3], b"", sequence=True))
        zk.stop()
    elif sys.argv[1] == "logrecs":
        logrecs(sys.argv[2])
    elif sys.argv[1] == "flip":
        with open(sys.argv[2], "r+b") as f:
            f.seek(int(sys.argv[3]))
            c = f.read(1)
            f.seek(int(sys.argv[3]))
            f.write(bytes([c[0] ^ 0xff]))
    elif sys.argv[1] == "sqlite":
        sqlite_dump(sys.argv[2])
    elif sys.argv[1] == "count":
        print(len(parse(sys.argv[2])))
    else:
        dump(sys.argv[2])
