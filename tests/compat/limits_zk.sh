#!/bin/sh
# limits_zk.sh - the largest value on the wire (issue 7, item 8). Every
# default ZooKeeper client -- the Java client (zkCli, Debian's zookeeper
# package), the C client (libzookeeper_mt, as cli_mt uses it) and kazoo --
# writes ZNODE_MAX_DATA bytes and reads them back, and reads a value of
# that size written through the mount; one byte more is refused clearly
# (ZBADARGUMENTS, a log line naming the length and the limit) without
# dropping the connection, as is exactly 1 MiB, which used to close it as a
# "malformed frame".
. "${QFS_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib.sh"
qfs_init

MAX=$(sed -n 's/^#define ZNODE_MAX_DATA \([0-9]*\).*/\1/p' "$QFS_SRCDIR/src/tree/tree.h")
ZKCLI=/usr/share/zookeeper/bin/zkCli.sh
CLI_MT=/usr/lib/zookeeper/bin/cli_mt
PORT=$(free_port)
if ! qfs_start "$T/mnt" "$T/data" -o "clientPort=$PORT"; then
	t_fail "daemon starts"
	exit 0
fi
printf '%*s' "$MAX" '' | tr ' ' f >"$T/mnt/frommount"
t_eq "the mount holds a value of the largest size" "$MAX" "$(stat -c %s "$T/mnt/frommount")"

# kazoo
if /usr/bin/python3 -c 'import kazoo' 2>/dev/null; then
	timeout 60 /usr/bin/python3 - "$PORT" "$MAX" >"$T/kazoo.out" 2>&1 <<'PY'
import sys
from kazoo.client import KazooClient
from kazoo.exceptions import BadArgumentsError
zk = KazooClient(hosts="127.0.0.1:" + sys.argv[1])
zk.start(timeout=10)
n = int(sys.argv[2])
zk.create("/k", b"k" * n)
d, st = zk.get("/k")
print("roundtrip %s" % ("ok" if d == b"k" * n else "bad %d" % len(d)))
d, st = zk.get("/frommount")
print("frommount %d" % len(d))
for size in (n + 1, 1 << 20):
    try:
        zk.create("/k%d" % size, b"k" * size)
        print("over %d: created" % size)
    except BadArgumentsError:
        print("over %d: BadArgumentsError" % size)
print("still connected %s" % zk.connected)
print("exists after %s" % (zk.exists("/k") is not None))
zk.stop()
PY
	sed 's/^/# kazoo: /' "$T/kazoo.out"
	t_check "kazoo writes and reads back $MAX bytes" grep -qx "roundtrip ok" "$T/kazoo.out"
	t_check "kazoo reads $MAX bytes written through the mount" grep -qx "frommount $MAX" "$T/kazoo.out"
	t_check "kazoo: one byte more is BadArgumentsError" grep -qx "over $((MAX + 1)): BadArgumentsError" "$T/kazoo.out"
	t_check "kazoo: exactly 1 MiB is BadArgumentsError" grep -qx "over 1048576: BadArgumentsError" "$T/kazoo.out"
	t_check "kazoo: the connection stays open" grep -qx "still connected True" "$T/kazoo.out"
	t_check "the log names the length and the limit" \
		grep -q "value of 1048576 bytes, over the largest value ($MAX bytes)" "$T/data.log"
	if grep -q "malformed" "$T/data.log"; then
		t_fail "no 'malformed frame' for a value over the limit" "$(grep -m1 malformed "$T/data.log")"
	else
		t_ok "no 'malformed frame' for a value over the limit"
	fi
else
	t_fail "kazoo is installed (python3-kazoo)"
fi

# The Java client: zkCli writes the value (one command line on its standard
# input) and reads it back; reads the one from the mount.
if [ -x "$ZKCLI" ] && command -v java >/dev/null; then
	{ printf 'create /j '; printf '%*s' "$MAX" '' | tr ' ' j; printf '\nquit\n'; } |
		timeout 120 "$ZKCLI" -server "127.0.0.1:$PORT" >"$T/zkw.out" 2>&1
	t_check "zkCli writes $MAX bytes" grep -q "^Created /j" "$T/zkw.out"
	for node in j frommount; do
		timeout 120 "$ZKCLI" -server "127.0.0.1:$PORT" get "/$node" >"$T/zkr.out" 2>&1
		t_eq "zkCli reads $MAX bytes back from /$node" "$MAX" \
			"$(grep -a '^[jf]\{100\}' "$T/zkr.out" | tr -d '\n' | wc -c)"
	done
else
	t_fail "zkCli is installed (Debian package zookeeper, java)"
fi

# The C client: the library cli_mt is built on (cli_mt itself takes no
# value over 4 KiB on its command line), and cli_mt reading.
if [ -x "$CLI_MT" ] && cc -o "$T/zkrt" "$QFS_SRCDIR/tests/compat/zk_c_roundtrip.c" \
	-lzookeeper_mt 2>"$T/cc.err"; then
	t_eq "the C client writes and reads back $MAX bytes" ok \
		"$("$T/zkrt" "127.0.0.1:$PORT" /c "$MAX" 2>&1 | tail -1)"
	{ printf 'get /frommount\n'; sleep 3; } | timeout 30 "$CLI_MT" "127.0.0.1:$PORT" >"$T/mt.out" 2>&1
	t_check "cli_mt reads $MAX bytes written through the mount" \
		grep -q "value_len = $MAX\$" "$T/mt.out"
else
	t_fail "the C client is installed (zookeeper-bin, libzookeeper-mt-dev)" "$(cat "$T/cc.err" 2>/dev/null)"
fi
qfs_stop "$QFS_PID" "$T/mnt" || t_fail "daemon stops cleanly"
