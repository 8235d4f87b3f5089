#!/bin/sh
# backup.sh - quorumctl backup: an online backup taken under a steady write
# load is a consistent, complete snapshot (every write acknowledged before
# the command started is in it; each load transaction is in it whole or not
# at all), quorumadm verify accepts it, and a new cluster restored from it
# (quorumadm restore) serves exactly its tree (digest of the two dumps).
# The load's write latency during the backup is reported and bounded. A
# session without every permission on / is refused with a clear message,
# super and the root's digest identity are let through, a bad --auth is
# refused, and nothing is left in the dataDir.
#
# QFS_BACKUP_NODES / QFS_BACKUP_BYTES size the tree (default 5000 x 2000).
set -u
. "${QFS_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib.sh"
. "$QFS_SRCDIR/tests/adm/adm_lib.sh"
LOAD="/usr/bin/python3 $QFS_SRCDIR/tests/adm/backup_load.py"
NODES=${QFS_BACKUP_NODES:-5000}
BYTES=${QFS_BACKUP_BYTES:-2000}
qfs_init
if ! /usr/bin/python3 -c 'import kazoo' 2>/dev/null; then
	t_skip "online backup" "python3-kazoo not installed"
	exit 0
fi
digest() { printf '%s' "$1" | openssl dgst -sha1 -binary | base64; }
OPS_D=$(digest ops:secret)
SUPER_D=$(digest super:s3cret)
P=$(free_port)
qfs_start "$T/mnt" "$T/data" -o "clientPort=$P,clientPortAddress=127.0.0.1,superDigest=super:$SUPER_D" || {
	t_fail "daemon starts"
	exit 0
}
S="127.0.0.1:$P"
$LOAD fill "$P" "$NODES" "$BYTES" || {
	t_fail "the tree is made"
	exit 0
}
# Only ops (and super) may do everything at /; the rest may read.
"$QUORUMCTL" -s "$S" setacl / "digest:ops:$OPS_D:cdrwa,world:anyone:r" >/dev/null
t_eq "root ACL restricted" 0 "$?"

# Refusals first, with no load running.
"$QUORUMCTL" -s "$S" backup "$T/noauth.db" >"$T/out" 2>"$T/err"
t_eq "a backup without every permission on / is refused (exit 1)" 1 "$?"
sed 's/^/# /' "$T/err"
t_check "and the message says why and what to do" grep -q "refused: a backup needs a session with every permission on / or super (--auth" "$T/err"
t_check "and no file is written" test ! -e "$T/noauth.db" -a ! -e "$T/noauth.db.tmp"
"$QUORUMCTL" -s "$S" --auth digest:ops:wrong backup "$T/wrong.db" >/dev/null 2>"$T/err"
t_eq "a digest that is not the root's is refused too" 1 "$?"
"$QUORUMCTL" -s "$S" --auth bogus:x backup "$T/bogus.db" >/dev/null 2>"$T/err"
t_eq "an unknown auth scheme is refused (exit 1)" 1 "$?"
t_check "with a clear message" grep -q -- "--auth: the server refused the bogus credentials" "$T/err"
"$QUORUMCTL" -s "$S" --auth nocolon get / >/dev/null 2>"$T/err"
t_eq "a malformed --auth is a usage error (exit 2)" 2 "$?"
QUORUMCTL_AUTH=digest:super:s3cret "$QUORUMCTL" -s "$S" backup "$T/super.db" >"$T/out" 2>"$T/err"
t_eq "super may (QUORUMCTL_AUTH)" 0 "$?"
"$QUORUMCTL" -s "$S" --auth digest:ops:secret backup "$T/super.db" >/dev/null 2>"$T/err"
t_eq "an existing file is not replaced without --force (exit 2)" 2 "$?"
mkdir "$T/bdir"
QUORUMCTL_AUTH=digest:super:s3cret "$QUORUMCTL" -s "$S" backup --force "$T/bdir" >/dev/null 2>"$T/err"
t_eq "a directory as the backup file: usage error (exit 2), even with --force" 2 "$?"
t_check "  saying it is a directory" grep -q "bdir is a directory" "$T/err"
# A symbolic link planted at the temporary name (FILE.tmp, predictable, in
# what may be a shared backup directory) must not send the backup into the
# file it points to.
echo VICTIM >"$T/victim"
ln -s "$T/victim" "$T/linked.db.tmp"
QUORUMCTL_AUTH=digest:super:s3cret "$QUORUMCTL" -s "$S" backup "$T/linked.db" >/dev/null 2>"$T/err"
t_eq "a backup past a link planted at FILE.tmp exits 0" 0 "$?"
t_check "the file the link pointed to is untouched" grep -qx VICTIM "$T/victim"
t_check "the backup is a file of its own, not the link" sh -c "test -f '$T/linked.db' && ! test -L '$T/linked.db'"
t_eq "and is private (0600)" 600 "$(stat -c %a "$T/linked.db")"

# The load, and a backup in the middle of it.
rm -f "$T/stop"
$LOAD run "$P" "$T/lat" "$T/stop" >"$T/load.err" 2>&1 &
LOAD_PID=$!
QFS_PIDS="$QFS_PIDS $LOAD_PID"
wait_until 20 sh -c "[ \$(wc -l <'$T/lat') -ge 200 ]" || t_fail "the load runs" "$(tail -3 "$T/load.err")"
acked=$(tail -1 "$T/lat" | cut -d' ' -f1)
t0=$(date +%s.%N)
"$QUORUMCTL" -s "$S" --auth digest:ops:secret backup "$T/backup.db" >"$T/out" 2>"$T/err"
rc=$?
t1=$(date +%s.%N)
t_eq "quorumctl backup under load exits 0" 0 "$rc"
sed 's/^/# /' "$T/out" "$T/err"
# Some more writes after it, which the backup must not have.
n=$(wc -l <"$T/lat")
wait_until 20 sh -c "[ \$(wc -l <'$T/lat') -ge $((n + 100)) ]"
touch "$T/stop"
wait "$LOAD_PID"
t_eq "the load saw no failed write" 0 "$?"
during=$($LOAD stats "$T/lat" "$t0" "$t1")
echo "$during" | sed 's/^/# write latency /'
echo "# backup took $(echo "$t1 - $t0" | bc) s for $NODES nodes of $BYTES bytes, $(stat -c %s "$T/backup.db") bytes"

"$QUORUMADM" verify "$T/backup.db" >"$T/v" 2>&1
t_eq "quorumadm verify accepts the backup" 0 "$?"
sed 's/^/# /' "$T/v"
t_check "sqlite3 opens it" sh -c "sqlite3 '$T/backup.db' 'select count(*) from nodes' >/dev/null"
last=$(sqlite3 "$T/backup.db" "select cast(data as text) from nodes where path='/load/last'")
ws=$(sqlite3 "$T/backup.db" "select count(*) from nodes where path like '/load/w%'")
maxw=$(sqlite3 "$T/backup.db" "select max(cast(substr(path, 8) as integer)) from nodes where path like '/load/w%'")
t_check "every write acknowledged before the backup is in it ($acked <= $last)" test "$acked" -le "${last:-0}"
t_eq "each transaction is in it whole or not at all (/load/w1..w$last)" "$last $last" "$ws $maxw"
total=$(wc -l <"$T/lat")
t_check "writes acknowledged after it are not ($last < $total)" test "${last:-0}" -lt "$total"
fz=$(sqlite3 "$T/backup.db" "select value from meta where key='zxid'")
t_check "the file's zxid is reported" grep -q "zxid 0x$(printf '%x' "$fz")" "$T/out"
max_during=$(echo "$during" | sed -n 's/^during .*max_ms=\([0-9.]*\).*/\1/p')
t_check "writes did not stall during the backup (max ${max_during} ms < 2000)" \
	sh -c "[ \$(echo '${max_during:-99999} < 2000' | bc) = 1 ]"
t_check "nothing is left in the dataDir" sh -c "! ls -d '$T'/data/backup.* 2>/dev/null"

# Two at once (no load now): both complete, with the same tree.
"$QUORUMCTL" -s "$S" --auth digest:ops:secret backup "$T/two1.db" >/dev/null 2>"$T/e1" &
b1=$!
"$QUORUMCTL" -s "$S" --auth digest:ops:secret backup "$T/two2.db" >/dev/null 2>"$T/e2"
r2=$?
wait "$b1"
r1=$?
t_eq "two backups at once both succeed" "0 0" "$r1 $r2"
$ZK_TREE sqlite "$T/two1.db" >"$T/two1.dump" 2>/dev/null
$ZK_TREE sqlite "$T/two2.db" >"$T/two2.dump" 2>/dev/null
t_check "with the same tree" cmp -s "$T/two1.dump" "$T/two2.dump"
# A client that dies while the file is written or streamed: the server
# drops it, leaves nothing behind and goes on serving.
nb=$(grep -c 'zk: .*: backup 0x[0-9a-f]* started' "$T/data.log")
QUORUMCTL_AUTH=digest:ops:secret "$QUORUMCTL" -s "$S" backup "$T/killed.db" >/dev/null 2>&1 &
kp=$!
wait_until 10 sh -c "[ \$(grep -c 'zk: .*: backup 0x[0-9a-f]* started' '$T/data.log') -gt $nb ]"
kill -KILL "$kp" 2>/dev/null
wait "$kp" 2>/dev/null
t_check "after a client killed mid-backup nothing is left in the dataDir" \
	wait_until 20 sh -c "! ls -d '$T'/data/backup.* >/dev/null 2>&1"
t_check "and the server still answers" sh -c "'$QUORUMCTL' -s '$S' get /load/last >/dev/null"

# Restore into a new cluster; it serves exactly the backup's tree.
"$QUORUMADM" restore "$T/backup.db" --data-dir "$T/new" --name from-backup >"$T/r" 2>&1
t_eq "quorumadm restore takes it" 0 "$?"
qfs_stop "$QFS_PID" "$T/mnt"
P2=$(free_port)
if ! qfs_start "$T/mnt2" "$T/new" -o "clientPort=$P2,clientPortAddress=127.0.0.1,clusterName=from-backup"; then
	t_fail "a new cluster starts from the backup"
	exit 0
fi
wait_until 10 zk_ruok "$P2"
$ZK_TREE sqlite "$T/backup.db" >"$T/file.dump"
$ZK_TREE dump "$P2" >"$T/served.dump"
d1=$(sha256sum <"$T/file.dump" | cut -c1-16)
d2=$(sha256sum <"$T/served.dump" | cut -c1-16)
if [ "$d1" = "$d2" ] && [ -s "$T/file.dump" ]; then
	t_ok "the restored cluster's tree is the backup's (digest $d1, $(wc -l <"$T/served.dump") nodes)"
else
	t_fail "the restored cluster's tree is the backup's" "digests $d1 $d2"
	diff "$T/file.dump" "$T/served.dump" | head -5 | sed 's/^/# /'
fi
exit 0
