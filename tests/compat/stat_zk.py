"""stat_zk.py PORT OUT - one fixed sequence of operations through kazoo on
the server at 127.0.0.1:PORT; writes, for every node it made and for every
stat a reply carried, the stat's fields that do not depend on when or by
which session the sequence ran (stat_zk.sh runs it against Apache ZooKeeper
and quorumfs and compares the two files line by line).

Zxids and times differ between the servers; of ephemeralOwner only whether it
is 0 is compared for ephemerals (a session id differs), the exact value for
every other kind (ZooKeeper shows 0 for containers and TTL nodes)."""
import sys
import logging
logging.basicConfig(level=logging.CRITICAL)
from kazoo.client import KazooClient
from kazoo.protocol.serialization import Create2, long_struct
from kazoo.security import OPEN_ACL_UNSAFE


class CreateContainer(Create2):
    """kazoo 2.8 has no containers: createContainer (opcode 19) is
    create2's body with CreateMode CONTAINER (4)."""
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

port, out = sys.argv[1], sys.argv[2]
zk = KazooClient(hosts="127.0.0.1:" + port, timeout=10)
zk.start(timeout=15)
lines = []


def show(what, st, eph=False):
    owner = ("eph" if st.ephemeralOwner else "0") if eph else "%d" % st.ephemeralOwner
    lines.append("%s version=%d cversion=%d aversion=%d ephemeralOwner=%s "
                 "dataLength=%d numChildren=%d" % (
                     what, st.version, st.cversion, st.aversion, owner,
                     st.dataLength, st.numChildren))


def call(req):
    res = zk.handler.async_result()
    zk._call(req, res)
    return res.get(timeout=20)


def created(path, data=b"", container=False, ttl=0, **kw):
    if container:
        p, st = call(CreateContainer(path, data, OPEN_ACL_UNSAFE, 4))
    elif ttl:
        # CreateMode PERSISTENT_WITH_TTL 5, PERSISTENT_SEQUENTIAL_WITH_TTL 6
        flags = 6 if kw.get("sequence") else 5
        p, st = call(CreateTTL(path, data, OPEN_ACL_UNSAFE, flags, ttl))
    else:
        p, st = zk.create(path, data, include_data=True, **kw)
    show("create2 " + p, st, kw.get("ephemeral", False))
    return p


created("/p", b"x")
for c in "abc":
    created("/p/" + c)
zk.delete("/p/b")
created("/p/s-", sequence=True)
show("set /p/a", zk.set("/p/a", b"yy"))
show("setacl /p/c", zk.set_acls("/p/c", zk.get_acls("/p/c")[0]))

created("/c", b"", container=True)
for c in "xyz":
    created("/c/" + c)
zk.delete("/c/x")
created("/c/q-", sequence=True)
show("set /c", zk.set("/c", b"d"))

created("/t", b"t", ttl=600000)
created("/t/k")
created("/t/k2")
zk.delete("/t/k")
show("set /t", zk.set("/t", b"tt"))
created("/ts-", b"", ttl=600000, sequence=True)

created("/e", b"e", ephemeral=True)
show("set /e", zk.set("/e", b"ee"), True)

t = zk.transaction()
t.create("/m", b"1")
t.create("/m/a")
t.set_data("/m", b"2")
t.delete("/m/a")
for i, r in enumerate(t.commit()):
    if hasattr(r, "version"):
        show("multi %d" % i, r)


def walk(path):
    for c in sorted(zk.get_children(path)):
        p = path.rstrip("/") + "/" + c
        if p == "/zookeeper":
            continue
        d, st = zk.get(p)
        show("get " + p, st, p == "/e")
        show("exists " + p, zk.exists(p), p == "/e")
        walk(p)


walk("/")
zk.stop()
open(out, "w").write("\n".join(lines) + "\n")
