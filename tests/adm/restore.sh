#!/bin/sh
# restore.sh - quorumadm restore: a snapshot written by a running quorumfs
# restored into a new data directory; a daemon started on it serves exactly
# the file's tree (every node, data, ACL and stat field over the protocol),
# carries a new cluster identity, and takes new writes above the file's
# zxid. A non-empty directory is refused without --force and moved aside
# with it, and refused even then while a daemon runs on it; a symbolic link
# is followed; a damaged file is refused and nothing is written.
set -u
. "${QFS_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib.sh"
. "$QFS_SRCDIR/tests/adm/adm_lib.sh"
qfs_init
P=$(free_port)
qfs_start "$T/mnt" "$T/data" -o "clientPort=$P,clientPortAddress=127.0.0.1,snapCount=10" || {
	t_fail "daemon starts"
	exit 0
}
mkdir -p "$T/mnt/a/b/c"
i=0
while [ $i -lt 25 ]; do
	head -c $((i * 37)) /dev/urandom >"$T/mnt/a/b/f$i"
	i=$((i + 1))
done
echo hello >"$T/mnt/a/b/c/leaf"
qfs_stop "$QFS_PID" "$T/mnt"
snap=$(ls "$T/data"/snapshot.*.db | sort | tail -1)
cp "$snap" "$T/backup.db"
$ZK_TREE sqlite "$T/backup.db" >"$T/file.dump"
fz=$(sqlite3 "$T/backup.db" "select value from meta where key='zxid'")

"$QUORUMADM" restore "$T/backup.db" --data-dir "$T/new" --name restored-1 >"$T/out" 2>&1
t_eq "restore exits 0" 0 "$?"
sed 's/^/# /' "$T/out"
t_check "a new cluster identity with the given name" grep -q "^name restored-1" "$T/new/CLUSTER"
"$QUORUMADM" restore "$T/backup.db" --data-dir "$T/new2" >/dev/null 2>&1
id1=$(sed -n 's/^id //p' "$T/new/CLUSTER")
id2=$(sed -n 's/^id //p' "$T/new2/CLUSTER")
t_check "each restore gets its own identity" test -n "$id1" -a "$id1" != "$id2"
t_check "no temporary directory left" sh -c "! ls -d '$T'/new.quorumadm-tmp.* 2>/dev/null"

P=$(free_port)
if ! qfs_start "$T/mnt2" "$T/new" -o "clientPort=$P,clientPortAddress=127.0.0.1,clusterName=restored-1"; then
	t_fail "a daemon starts on the restored directory"
	exit 0
fi
t_ok "a daemon starts on the restored directory"
wait_until 10 zk_ruok "$P"
$ZK_TREE dump "$P" >"$T/served.dump"
# The sessions of the file (the old mount's) still own nothing; the daemon's
# own mount adds no node. So the trees must be equal line for line.
if cmp -s "$T/file.dump" "$T/served.dump"; then
	t_ok "the daemon serves exactly the file's tree"
else
	t_fail "the daemon serves exactly the file's tree"
	diff "$T/file.dump" "$T/served.dump" | head -10 | sed 's/^/# /'
fi
echo new >"$T/mnt2/after-restore"
$ZK_TREE dump "$P" | grep '^/after-restore ' >"$T/after"
cz=$(sed 's/.* czxid=\([0-9]*\) .*/\1/' "$T/after")
t_check "a new write gets a zxid above the file's ($fz)" test "${cz:-0}" -gt "$fz"
# Restoring over the directory of a running daemon, even with --force, is
# refused: the daemon would go on writing into the moved-aside directory
# and then put its snapshots into the restored one by path.
ls "$T/new" >"$T/ls.before"
"$QUORUMADM" restore "$T/backup.db" --data-dir "$T/new" --force >/dev/null 2>"$T/err"
t_eq "restore --force over a running daemon's directory is refused (exit 1)" 1 "$?"
sed 's/^/# /' "$T/err"
t_check "the refusal says a quorumfs runs there" grep -q "in use by a running quorumfs" "$T/err"
t_check "the directory is not moved aside" sh -c "! ls -d '$T'/new.replaced-* 2>/dev/null"
t_check "nor changed" sh -c "ls '$T/new' | cmp -s - '$T/ls.before'"
t_check "the daemon still serves" zk_ruok "$P"
qfs_stop "$QFS_PID" "$T/mnt2"

# Refusals.
"$QUORUMADM" restore "$T/backup.db" --data-dir "$T/new" >/dev/null 2>"$T/err"
t_eq "a non-empty data dir is refused (exit 1)" 1 "$?"
t_check "and the message says --force" grep -q -- "--force" "$T/err"
"$QUORUMADM" restore "$T/backup.db" --data-dir "$T/new" --force >/dev/null 2>"$T/err"
t_eq "--force restores over it" 0 "$?"
t_check "--force moved the old one aside" sh -c "ls -d '$T'/new.replaced-* >/dev/null"
off=$(grep -obUa '/a/b/f1' "$T/backup.db" | head -1 | cut -d: -f1)
off=$((${off:?} + 5))
cp "$T/backup.db" "$T/bad.db"
printf 'J' | dd of="$T/bad.db" bs=1 seek="$off" conv=notrunc 2>/dev/null
"$QUORUMADM" restore "$T/bad.db" --data-dir "$T/from-bad" >/dev/null 2>"$T/err"
t_eq "a damaged file is refused (exit 1)" 1 "$?"
sed 's/^/# /' "$T/err"
t_check "and nothing is written" test ! -e "$T/from-bad"

# A data directory given as a symbolic link to an empty directory (a disk
# mounted elsewhere) is restored where the link points; the link stays.
mkdir "$T/disk"
ln -s "$T/disk" "$T/linked"
"$QUORUMADM" restore "$T/backup.db" --data-dir "$T/linked" >"$T/out" 2>&1
t_eq "restore into a symbolic link to an empty directory exits 0" 0 "$?"
sed 's/^/# /' "$T/out"
t_check "the link is still a link" test -L "$T/linked"
t_check "and the data is where it points" test -f "$T/disk/CLUSTER"
"$QUORUMADM" restore "$T/backup.db" --data-dir "$T/no/such/dir" >/dev/null 2>"$T/err"
t_eq "a data directory whose parent is missing is refused (exit 1)" 1 "$?"
sed 's/^/# /' "$T/err"
t_check "the refusal names the missing parent, not a temporary path" \
	sh -c "grep -q 'parent directory $T/no/such is not there' '$T/err' && ! grep -q quorumadm-tmp '$T/err'"
exit 0
