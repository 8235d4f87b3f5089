#!/bin/sh
# stat_zk.sh - the Stat a ZooKeeper client reads, compared with Apache
# ZooKeeper 3.8 (Debian's zookeeper package): the same operations through
# kazoo on both servers (stat_zk.py), and every stat field that does not
# depend on time or session must be equal. ZooKeeper's DataNode.copyStat
# shows cversion as the number of child changes (2 x creates - children, the
# stored count being of creates) and ephemeralOwner 0 for containers and TTL
# nodes, whose stored owner is a marker.
. "${QFS_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib.sh"
. "$QFS_SRCDIR/tests/compat/quorumctl_zk.sh"
qfs_init
PY=/usr/bin/python3
if ! $PY -c 'import kazoo' 2>/dev/null; then
	t_skip "stats as ZooKeeper shows them" "kazoo not installed"
	exit 0
fi
if ! zk_start "$T/zk"; then
	t_skip "stats as ZooKeeper shows them" "$ZK_WHY"
	exit 0
fi
if ! qfs_zk_start "$T/q"; then
	t_fail "quorumfs serves its client port" "$QFS_ZK_WHY"
	exit 1
fi
t_check "the sequence runs on ZooKeeper" timeout 60 $PY "$QFS_SRCDIR/tests/compat/stat_zk.py" "$ZK_PORT" "$T/zk.out"
t_check "the sequence runs on quorumfs" timeout 60 $PY "$QFS_SRCDIR/tests/compat/stat_zk.py" "$QFS_ZK_PORT" "$T/q.out"
if [ ! -s "$T/zk.out" ] || [ ! -s "$T/q.out" ]; then
	t_fail "stats to compare" "the sequence failed on a server (above)"
	exit 1
fi
t_eq "the same number of stats" "$(wc -l <"$T/zk.out")" "$(wc -l <"$T/q.out")"
# by node (persistent, container, TTL, sequential TTL, ephemeral, multi's)
for node in /p /c /t /ts- /e /m; do
	d=$(diff "$T/zk.out" "$T/q.out" | grep -E "^[<>] [a-z0-9]+ $node" | head -4)
	t_eq "stats of $node and its children as ZooKeeper's (version, cversion, aversion, ephemeralOwner, dataLength, numChildren)" "" "$d"
done
t_eq "every stat as ZooKeeper's" "" "$(diff "$T/zk.out" "$T/q.out" | head -6)"
# the mount's xattrs show the same fields as the wire
xv() { getfattr --only-values -n "user.quorumfs.$1" "$2" 2>/dev/null; }
for node in p c t; do
	t_eq "/$node: user.quorumfs.cversion is the cversion a client reads" \
		"$(sed -n "s|^get /$node version=[0-9]* cversion=\([0-9-]*\) .*|\1|p" "$T/q.out")" \
		"$(xv cversion "$T/q/mnt/$node")"
done
t_eq "a container's user.quorumfs.ephemeral_owner is 0, as ZooKeeper shows it" 0x0 "$(xv ephemeral_owner "$T/q/mnt/c")"
t_eq "a TTL node's user.quorumfs.ephemeral_owner is 0, as ZooKeeper shows it" 0x0 "$(xv ephemeral_owner "$T/q/mnt/t")"
