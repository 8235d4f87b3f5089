#!/bin/sh
# zk_roundtrip.sh - a real Apache ZooKeeper 3.8 tree into quorumfs and back.
#
# ZooKeeper (snapCount small: several snapshots and logs) gets a varied tree
# from kazoo (nested nodes, binary and 1 MiB data, digest/ip/world/auth ACLs,
# many versions, sequential, ephemeral, container and TTL nodes, multis, a
# closed session) and is stopped with the maker's session still open.
# quorumadm import-zk makes a quorumfs data directory; quorumfs serves it
# and every node's data, ACL and stat fields are compared with what
# ZooKeeper served. Then export-zk writes a ZooKeeper snapshot, ZooKeeper
# 3.8 serves it, and the tree is compared again (exactly). Last, quorumfs
# on the imported directory expires the imported session after its timeout
# and deletes its ephemerals, as documented.
set -u
. "${QFS_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib.sh"
. "$QFS_SRCDIR/tests/adm/adm_lib.sh"
qfs_init
if ! zk_make_tree "$T/zk"; then
	t_skip "zk roundtrip" "$ZK_WHY"
	exit 0
fi
nzk=$($ZK_TREE count "$T/zk/zk.dump")
nsnap=$(ls "$T/zk/data/version-2" | grep -c '^snapshot\.')
nlog=$(ls "$T/zk/data/version-2" | grep -c '^log\.')
echo "# ZooKeeper served $nzk nodes; its data dir has $nsnap snapshots, $nlog logs"
t_check "ZooKeeper left several snapshots and logs" test "$nsnap" -ge 2 -a "$nlog" -ge 2

start=$(date +%s%N)
QUORUMADM_PROGRESS=1 "$QUORUMADM" import-zk "$T/zk/data" --data-dir "$T/q" >"$T/imp.out" 2>"$T/imp.err"
rc=$?
end=$(date +%s%N)
t_eq "import-zk exits 0" 0 "$rc"
sed 's/^/# /' "$T/imp.out" "$T/imp.err"
echo "# import took $(((end - start) / 1000000)) ms"
t_check "progress is shown when asked for" grep -q "reading ZooKeeper snapshot: .* nodes" "$T/imp.err"
"$QUORUMADM" import-zk "$T/zk/data" --data-dir "$T/q-quiet" >/dev/null 2>"$T/quiet.err"
t_check "quiet when stderr is not a terminal" test ! -s "$T/quiet.err"
t_check "the import verifies" "$QUORUMADM" verify "$T"/q/snapshot.*.db
t_check "the data directory has a format and a cluster identity" \
	grep -q "^quorumfs-data 2" "$T/q/VERSION"
t_check "CLUSTER names the origin" grep -q "^origin import-zk" "$T/q/CLUSTER"
t_check "a non-empty data dir is refused" sh -c "! '$QUORUMADM' import-zk '$T/zk/data' --data-dir '$T/q' 2>/dev/null"

# quorumfs serves the imported tree.
cp -a "$T/q" "$T/q-run"
P=$(free_port)
if ! qfs_start "$T/mnt" "$T/q-run" -o "clientPort=$P,clientPortAddress=127.0.0.1"; then
	t_fail "quorumfs starts on the imported data directory"
	exit 0
fi
t_ok "quorumfs starts on the imported data directory"
wait_until 10 zk_ruok "$P"
$ZK_TREE dump "$P" >"$T/q.dump"
$ZK_TREE compare "$T/zk/zk.dump" "$T/q.dump" >"$T/cmp1" 2>&1
rc=$?
sed 's/^/# /' "$T/cmp1" | tail -15
t_eq "quorumfs serves ZooKeeper's tree: data, ACLs, every stat field" 0 "$rc"
t_check "the ephemerals of the open session are there" grep -q "^/eph " "$T/q.dump"
t_check "the closed session's ephemeral is not" sh -c "! grep -q '^/short-lived ' '$T/q.dump'"
# Sequence numbers continue where ZooKeeper left them (the stored cversion).
zkseq=$(sed -n 's/^\/queue .* cversion=\([0-9]*\) .* numChildren=\([0-9]*\) .*/\1 \2/p' "$T/zk/zk.dump")
next=$(( (${zkseq% *} + ${zkseq#* }) / 2 ))
t_eq "a sequential create continues ZooKeeper's numbering" \
	"$(printf '/queue/item-%010d' $next)" "$($ZK_TREE seq "$P" /queue/item-)"
qfs_stop "$QFS_PID" "$T/mnt"
# The export below is then of a tree with one more node.
echo "$(printf '/queue/item-%010d' $next)" >"$T/extra"

# Export back to ZooKeeper (from the directory quorumfs has run on).
"$QUORUMADM" export-zk "$T/q-run" --to "$T/zk2/data" >"$T/exp.out" 2>"$T/exp.err"
t_eq "export-zk exits 0" 0 "$?"
sed 's/^/# /' "$T/exp.out" "$T/exp.err"
t_check "the export is a ZooKeeper snapshot that verifies" \
	"$QUORUMADM" verify "$T"/zk2/data/version-2/snapshot.*
t_check "export-zk refuses a ZooKeeper dir that has files" \
	sh -c "! '$QUORUMADM' export-zk '$T/q-run' --to '$T/zk2/data' 2>/dev/null"
if zk_start_dir "$T/zk2"; then
	t_ok "ZooKeeper 3.8 starts on the export"
	$ZK_TREE dump "$ZK_PORT" >"$T/zk2.all"
	t_check "ZooKeeper continues the numbering too" \
		test "$($ZK_TREE seq "$ZK_PORT" /queue/item-)" = "$(printf '/queue/item-%010d' $((next + 1)))"
	# Apart from the node created on quorumfs and the parent it changed,
	# exactly ZooKeeper's original tree.
	grep -v "^$(cat "$T/extra") \|^/queue " "$T/zk2.all" >"$T/zk2.dump"
	grep -v "^/queue " "$T/zk/zk.dump" >"$T/zk1.dump"
	if cmp -s "$T/zk1.dump" "$T/zk2.dump"; then
		t_ok "ZooKeeper serves the exported tree exactly as the original"
	else
		t_fail "ZooKeeper serves the exported tree exactly as the original"
		diff "$T/zk1.dump" "$T/zk2.dump" | cut -c1-200 | head -20 | sed 's/^/# /'
	fi
	zk_stop
else
	t_fail "ZooKeeper 3.8 starts on the export" "$ZK_WHY"
	tail -20 "$T/zk2/zk.log" | sed 's/^/# /'
fi

# The imported session expires one timeout after quorumfs starts.
P=$(free_port)
qfs_start "$T/mnt" "$T/q-run" -o "clientPort=$P,clientPortAddress=127.0.0.1" || exit 0
wait_until 10 zk_ruok "$P"
gone() {
	$ZK_TREE dump "$P" >"$T/q3.dump" 2>/dev/null && ! grep -q "^/eph " "$T/q3.dump" &&
		! grep -q "^/app/eph-seq-" "$T/q3.dump"
}
t_check "the imported session expires and its ephemerals go" wait_until 90 gone
t_eq "and only they" $((nzk - 2 + 1)) "$($ZK_TREE count "$T/q3.dump")"
exit 0
