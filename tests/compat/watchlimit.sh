#!/bin/sh
# watchlimit.sh - a connection at clientMaxWatches is told, with kazoo (a
# real client): the read that would set one watch too many fails with
# SystemZookeeperError (ZSYSTEMERROR), the watches it holds still fire, and
# the server logs why (issue 7, item 7). Before, the read answered OK and
# its event never came.
. "${QFS_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib.sh"
qfs_init

if ! /usr/bin/python3 -c 'import kazoo' 2>/dev/null; then
	t_fail "kazoo is installed (python3-kazoo)"
	exit 0
fi
PORT=$(free_port)
if ! qfs_start "$T/mnt" "$T/data" -o "clientPort=$PORT,clientMaxWatches=3"; then
	t_fail "daemon starts"
	exit 0
fi
timeout 60 /usr/bin/python3 - "$PORT" >"$T/out" 2>&1 <<'PY'
import sys, threading
from kazoo.client import KazooClient
from kazoo.exceptions import SystemZookeeperError
zk = KazooClient(hosts="127.0.0.1:%s" % sys.argv[1])
zk.start(timeout=10)
for i in range(4):
    zk.create("/w%d" % i, b"x")
fired = []
ev = threading.Event()
def w(e):
    fired.append(e.path)
    if len(fired) == 3:
        ev.set()
for i in range(3):
    zk.get("/w%d" % i, watch=w)
print("three watches set")
try:
    zk.get("/w3", watch=w)
    print("fourth watch: answered OK")
except SystemZookeeperError as e:
    print("fourth watch: refused")
try:
    zk.exists("/nothere", watch=w)
    print("exists watch: answered OK")
except SystemZookeeperError:
    print("exists watch: refused")
for i in range(4):
    zk.set("/w%d" % i, b"y")
ev.wait(10)
print("fired: %s" % " ".join(sorted(fired)))
print("still connected: %s" % zk.connected)
zk.stop()
PY
sed 's/^/# /' "$T/out"
t_check "three watches set" grep -qx "three watches set" "$T/out"
t_check "the fourth watch is refused with an error" grep -qx "fourth watch: refused" "$T/out"
t_check "an exists watch over the limit is refused too" grep -qx "exists watch: refused" "$T/out"
t_check "the three watches held still fire" grep -qx "fired: /w0 /w1 /w2" "$T/out"
t_check "the connection stays open" grep -qx "still connected: True" "$T/out"
t_check "the server logs the limit" grep -q "clientMaxWatches" "$T/data.log"
qfs_stop "$QFS_PID" "$T/mnt" || t_fail "daemon stops cleanly"
