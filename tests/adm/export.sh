#!/bin/sh
# export.sh - export-zk of a standalone quorumfs data directory whose writes
# are still only in its log (no snapshot after them): the log is replayed
# (this fails if quorumadm's reading of the core's log entries and
# src/core part ways), ZooKeeper 3.8 loads the export and serves the tree
# quorumfs served, field by field (cversion and the owner of containers/TTL
# nodes as ZooKeeper presents them, see zk_tree.py compare). Entries past
# the commit watermark are named; --committed-only leaves them out.
set -u
. "${QFS_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib.sh"
. "$QFS_SRCDIR/tests/adm/adm_lib.sh"
qfs_init
if [ ! -f "$ZK_JAR" ]; then
	t_skip "export" "Apache ZooKeeper (Debian package zookeeper) not installed"
	exit 0
fi
P=$(free_port)
qfs_start "$T/mnt" "$T/data" -o "clientPort=$P,clientPortAddress=127.0.0.1" || {
	t_fail "daemon starts"
	exit 0
}
mkdir -p "$T/mnt/x/y"
for i in 1 2 3 4 5 6 7; do printf 'data %d' $i >"$T/mnt/x/y/f$i"; done
rm "$T/mnt/x/y/f3"
$ZK_TREE dump "$P" >"$T/live.dump"
qfs_stop "$QFS_PID" "$T/mnt"
t_eq "the writes are only in the log (one snapshot, of the empty tree)" \
	"snapshot.0000000000000000.db" "$(ls "$T/data" | grep '^snapshot\.')"

# A link planted at the temporary file's name must not be written through.
mkdir -p "$T/zk/data/version-2"
echo VICTIM >"$T/victim"
ln -s "$T/victim" "$T/zk/data/version-2/.quorumadm-export.tmp"
"$QUORUMADM" export-zk "$T/data" --to "$T/zk/data" >"$T/out" 2>"$T/err"
t_eq "export-zk exits 0" 0 "$?"
t_check "a link planted at its temporary file's name is not written through" grep -qx VICTIM "$T/victim"
t_check "nor left behind" sh -c "! ls -A '$T/zk/data/version-2' | grep -q quorumadm-export"
sed 's/^/# /' "$T/out" "$T/err"
"$QUORUMADM" export-zk "$T/data" --to "$T/zk-c/data" --committed-only >/dev/null 2>"$T/err2"
t_eq "export-zk --committed-only exits 0" 0 "$?"
t_check "--committed-only gives no notice" test ! -s "$T/err2"
if zk_start_dir "$T/zk"; then
	$ZK_TREE dump "$ZK_PORT" >"$T/zk.dump"
	zk_stop
	$ZK_TREE compare "$T/zk.dump" "$T/live.dump" >"$T/cmp" 2>&1
	rc=$?
	sed 's/^/# /' "$T/cmp" | tail -5
	t_eq "ZooKeeper serves the tree quorumfs served" 0 "$rc"
	t_check "with the log's writes" grep -q '^/x/y/f7 ' "$T/zk.dump"
	t_check "and the log's delete" sh -c "! grep -q '^/x/y/f3 ' '$T/zk.dump'"
else
	t_fail "ZooKeeper starts on the export" "$ZK_WHY"
fi
exit 0
