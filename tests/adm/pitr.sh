#!/bin/sh
# pitr.sh - the continuous archive (archiveDir=) and point-in-time restore
# (quorumadm restore --archive). A daemon archives while it takes writes, a
# subtree is deleted by mistake, more writes follow; restores to just before
# the deletion (by zxid and by time) give back exactly the tree as it was
# (every node, data, ACL and stat field, compared with what the daemon
# served then), without the later writes; --subtree gives only that part. A
# daemon killed -9 while its archive lagged (and whose snapshots would have
# compacted the log) resumes without a gap. Damaged, truncated and missing
# archive files are refused with their names; a real gap (archiving off for
# a while) is logged as GAP by the daemon and never crossed by a restore.
set -u
. "${QFS_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib.sh"
. "$QFS_SRCDIR/tests/adm/adm_lib.sh"
qfs_init
QFS_KEEP=${QFS_KEEP:-}

# The zxid the server is at (srvr's "Zxid: 0x...").
zxid_of() {
	python3 - "$1" <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), 5)
s.sendall(b"srvr")
out = b""
while True:
    d = s.recv(4096)
    if not d:
        break
    out += d
for l in out.decode().splitlines():
    if l.startswith("Zxid:"):
        print(l.split()[1])
PY
}
now_iso() { date -u +%Y-%m-%dT%H:%M:%S.%3NZ; }
# The newest archived segment's last zxid (0x...), or 0x0.
arch_end() {
	ls "$1" | sed -n 's/^log\.[0-9a-f]*-\([0-9a-f]*\)\.qfa$/0x\1/p' | sort | tail -1
}
# Is the archive's log contiguous (each segment follows the previous)?
arch_contiguous() {
	python3 - "$1" <<'PY'
import os, sys
segs = sorted((int(a, 16), int(b, 16)) for a, b in
              (n[4:-4].split("-") for n in os.listdir(sys.argv[1])
               if n.startswith("log.") and n.endswith(".qfa")))
def follows(p, z):
    if z == p + 1 and z & 0xffffffff:
        return True
    return (z >> 32) > (p >> 32) and (z & 0xffffffff) <= 1
bad = [(p, z) for (_, p), (z, _) in zip(segs, segs[1:]) if not follows(p, z)]
for p, z in bad:
    print("gap after 0x%x before 0x%x" % (p, z))
sys.exit(1 if bad or not segs else 0)
PY
}
restored_dump() { $ZK_TREE sqlite "$(ls "$1"/snapshot.*.db | tail -1)"; }

A="$T/arch"
P=$(free_port)
OPTS="clientPort=$P,clientPortAddress=127.0.0.1,snapCount=15,archiveDir=$A,archiveInterval=100"
qfs_start "$T/mnt" "$T/data" -o "$OPTS" || {
	t_fail "daemon starts with archiveDir"
	exit 0
}
PID1=$QFS_PID
wait_until 10 zk_ruok "$P"
M="$T/mnt"
mkdir -p "$M/app/keep" "$M/app/victim/deep"
i=0
while [ $i -lt 20 ]; do
	echo "keep $i" >"$M/app/keep/k$i"
	head -c $((i * 50)) /dev/urandom >"$M/app/victim/v$i"
	i=$((i + 1))
done
echo leaf >"$M/app/victim/deep/leaf"
echo v2 >"$M/app/keep/k3"
$ZK_TREE dump "$P" >"$T/before.dump"
zb=$(zxid_of "$P")
sleep 0.05
tb=$(now_iso)
sleep 0.05
rm -rf "$M/app/victim"
za=$(zxid_of "$P")
i=0
while [ $i -lt 20 ]; do
	echo "later $i" >"$M/app/keep/later$i"
	i=$((i + 1))
done
$ZK_TREE dump "$P" >"$T/final.dump"
zf=$(zxid_of "$P")
echo "# before the deletion: zxid $zb, time $tb; after it $za; final $zf"
t_check "the subtree is gone from the live tree" test ! -e "$M/app/victim"
wait_until 10 sh -c "[ \"\$(printf '%d' \$(ls '$A' | sed -n 's/^log\.[0-9a-f]*-\([0-9a-f]*\)\.qfa$/0x\1/p' | sort | tail -1))\" -ge \$(printf '%d' $zf) ]"
t_check "the archive holds the final zxid within moments" \
	test "$(printf '%d' "$(arch_end "$A")")" -ge "$(printf '%d' "$zf")"
wait_until 10 sh -c "ls '$A'/snapshot.*.db >/dev/null 2>&1"
t_check "archived snapshots are there" sh -c "ls '$A'/snapshot.*.db >/dev/null"

# By zxid, to just before the deletion.
"$QUORUMADM" restore --archive "$A" --to-zxid "$zb" --data-dir "$T/r-zxid" >"$T/out" 2>&1
t_eq "restore --to-zxid exits 0" 0 "$?"
sed 's/^/# /' "$T/out"
restored_dump "$T/r-zxid" >"$T/r-zxid.dump"
if cmp -s "$T/before.dump" "$T/r-zxid.dump"; then
	t_ok "--to-zxid: exactly the tree the daemon served before the deletion"
else
	t_fail "--to-zxid: exactly the tree the daemon served before the deletion"
	diff "$T/before.dump" "$T/r-zxid.dump" | head -10 | sed 's/^/# /'
fi
t_check "--to-zxid: the subtree is back" grep -q '^/app/victim/deep/leaf ' "$T/r-zxid.dump"
t_check "--to-zxid: later writes are not there" sh -c "! grep -q '^/app/keep/later' '$T/r-zxid.dump'"

# By time, to just before the deletion; a daemon serves the result.
"$QUORUMADM" restore --archive "$A" --to-time "$tb" --data-dir "$T/r-time" --name pitr >"$T/out" 2>&1
t_eq "restore --to-time exits 0" 0 "$?"
sed 's/^/# /' "$T/out"
t_check "--to-time names the first transaction left out" grep -q "left out" "$T/out"
P2=$(free_port)
if qfs_start "$T/mnt2" "$T/r-time" -o "clientPort=$P2,clientPortAddress=127.0.0.1,clusterName=pitr"; then
	wait_until 10 zk_ruok "$P2"
	$ZK_TREE dump "$P2" >"$T/r-time.dump"
	if cmp -s "$T/before.dump" "$T/r-time.dump"; then
		t_ok "--to-time: a daemon on it serves exactly the tree before the deletion"
	else
		t_fail "--to-time: a daemon on it serves exactly the tree before the deletion"
		diff "$T/before.dump" "$T/r-time.dump" | head -10 | sed 's/^/# /'
	fi
	t_check "--to-time: the deleted file reads back through the mount" \
		grep -qx leaf "$T/mnt2/app/victim/deep/leaf"
	qfs_stop "$QFS_PID" "$T/mnt2"
else
	t_fail "a daemon starts on the --to-time restore"
fi
# The same instant written with an offset (+02:00) restores the same point.
tb2=$(python3 -c "
import datetime, sys
t = datetime.datetime.strptime(sys.argv[1], '%Y-%m-%dT%H:%M:%S.%fZ')
t += datetime.timedelta(hours=2)
print(t.strftime('%Y-%m-%dT%H:%M:%S.') + '%03d+02:00' % (t.microsecond // 1000))" "$tb")
"$QUORUMADM" restore --archive "$A" --to-time "$tb2" --data-dir "$T/r-off" >"$T/out" 2>&1
t_eq "restore --to-time $tb2 exits 0" 0 "$?"
t_check "an offset names the same instant (zxid $zb)" grep -q "to zxid $zb " "$T/out"
# A time after the deletion: the subtree stays deleted.
ta=$(date -u +%Y-%m-%dT%H:%M:%S.%3N+00:00)
"$QUORUMADM" restore --archive "$A" --to-zxid "$zf" --data-dir "$T/r-end" >/dev/null 2>&1
t_eq "restore to the final zxid exits 0" 0 "$?"
restored_dump "$T/r-end" >"$T/r-end.dump"
t_check "to the final zxid: the final tree" cmp -s "$T/final.dump" "$T/r-end.dump"
"$QUORUMADM" restore --archive "$A" --to-time "$ta" --data-dir "$T/r-future" >/dev/null 2>"$T/err"
t_eq "a time after the archive's newest transaction is refused (exit 1)" 1 "$?"
sed 's/^/# /' "$T/err"
t_check "and nothing is written" test ! -e "$T/r-future"
"$QUORUMADM" restore --archive "$A" --to-time "2026-11-30T14:02:00" --data-dir "$T/r-nozone" >/dev/null 2>&1
t_eq "a time without a zone is a usage error (exit 2)" 2 "$?"

# --subtree: only /app/victim (and its ancestors) as before the deletion.
"$QUORUMADM" restore --archive "$A" --to-time "$tb" --subtree /app/victim --data-dir "$T/r-sub" >"$T/out" 2>&1
t_eq "restore --subtree exits 0" 0 "$?"
sed 's/^/# /' "$T/out"
restored_dump "$T/r-sub" >"$T/r-sub.dump"
grep '^/app/victim[/ ]' "$T/before.dump" >"$T/want-sub"
grep '^/app/victim[/ ]' "$T/r-sub.dump" >"$T/got-sub"
t_check "--subtree: every node of the subtree, exactly as before the deletion" \
	sh -c "test -s '$T/want-sub' && cmp -s '$T/want-sub' '$T/got-sub'"
t_check "--subtree: its ancestor /app is there" grep -q '^/app ' "$T/r-sub.dump"
t_check "--subtree: nothing else of /app" sh -c "! grep -q '^/app/keep' '$T/r-sub.dump'"
"$QUORUMADM" restore --archive "$A" --to-zxid "$za" --subtree /app/victim --data-dir "$T/r-sub2" >/dev/null 2>"$T/err"
t_eq "--subtree of a path that did not exist then is refused (exit 1)" 1 "$?"
for bad in /app/victim/ /app//victim; do
	"$QUORUMADM" restore --archive "$A" --to-zxid "$zb" --subtree "$bad" --data-dir "$T/r-bad" >/dev/null 2>"$T/err"
	t_eq "--subtree $bad is a malformed path: usage error (exit 2)" 2 "$?"
	t_check "  said as such" grep -q "a znode path" "$T/err"
done
"$QUORUMADM" restore --archive "$A" --to-zxid 0x0 --data-dir "$T/r-bad" >/dev/null 2>"$T/err"
t_eq "--to-zxid 0x0: usage error (exit 2)" 2 "$?"
t_check "  saying it is before every transaction" grep -q "before every transaction" "$T/err"
qfs_stop "$PID1" "$T/mnt"

# Damaged archives, on copies.
seg=$(ls "$A" | grep '^log\.' | tail -1)
ze=$(arch_end "$A")
cp -r "$A" "$T/bad1"
python3 -c "
import sys; p=sys.argv[1]; b=bytearray(open(p,'rb').read()); b[len(b)//2]^=0xff; open(p,'wb').write(b)" "$T/bad1/$seg"
"$QUORUMADM" restore --archive "$T/bad1" --to-zxid "$ze" --data-dir "$T/r-bad1" >/dev/null 2>"$T/err"
t_eq "a damaged segment is refused (exit 1)" 1 "$?"
sed 's/^/# /' "$T/err"
t_check "the message names the file" grep -q "$seg" "$T/err"
t_check "nothing is written" test ! -e "$T/r-bad1"
cp -r "$A" "$T/bad2"
sz=$(stat -c %s "$T/bad2/$seg")
truncate -s $((sz - 7)) "$T/bad2/$seg"
"$QUORUMADM" restore --archive "$T/bad2" --to-zxid "$ze" --data-dir "$T/r-bad2" >/dev/null 2>"$T/err"
t_eq "a truncated segment is refused (exit 1)" 1 "$?"
t_check "the message names it" grep -q "$seg.*truncated" "$T/err"
snap=$(ls "$A" | grep '^snapshot\.' | tail -1)
sz=$(printf '%d' "0x$(echo "$snap" | cut -d. -f2)")
cp -r "$A" "$T/bad3"
truncate -s 4096 "$T/bad3/$snap"
"$QUORUMADM" restore --archive "$T/bad3" --to-zxid "$zf" --data-dir "$T/r-bad3" >/dev/null 2>"$T/err"
t_eq "a truncated archived snapshot is refused (exit 1)" 1 "$?"
t_check "the message names it" grep -q "$snap" "$T/err"
# A missing segment file (the one right after the snapshot a restore to
# just before the deletion starts from): a gap that must not be crossed.
cp -r "$A" "$T/hole"
s0=0
for f in $(ls "$T/hole" | sed -n 's/^snapshot\.\([0-9a-f]*\)\.db$/\1/p'); do
	[ "$(printf '%d' "0x$f")" -le "$(printf '%d' "$zb")" ] && s0=$(printf '%d' "0x$f")
done
for f in $(ls "$T/hole" | grep '^log\.'); do
	l=$(echo "$f" | sed 's/^log\.[0-9a-f]*-\([0-9a-f]*\)\.qfa$/\1/')
	if [ "$(printf '%d' "0x$l")" -gt "$s0" ]; then
		rm "$T/hole/$f"
		echo "# removed $f (after snapshot $(printf '0x%x' "$s0"))"
		break
	fi
done
"$QUORUMADM" restore --archive "$T/hole" --to-zxid "$zb" --data-dir "$T/r-hole" >/dev/null 2>"$T/err"
t_eq "a restore across a missing segment is refused (exit 1)" 1 "$?"
sed 's/^/# /' "$T/err"
t_check "the refusal says GAP" grep -q GAP "$T/err"
t_check "nothing is written" test ! -e "$T/r-hole"

# The archive fails for a while (its directory is replaced by a file) while
# snapshots would compact the log, then the daemon is killed -9; restarted
# with the archive back, it archives everything from where it stopped: no
# gap (the log was not compacted past the archived point).
A2="$T/arch2"
P=$(free_port)
OPTS2="clientPort=$P,clientPortAddress=127.0.0.1,snapCount=10,archiveDir=$A2,archiveInterval=100"
qfs_start "$T/mnt" "$T/data2" -o "$OPTS2" || {
	t_fail "daemon starts (second archive)"
	exit 0
}
wait_until 10 zk_ruok "$P"
i=0
while [ $i -lt 10 ]; do
	echo "w $i" >"$M/f$i"
	i=$((i + 1))
done
z0=$(zxid_of "$P")
wait_until 10 sh -c "[ \"\$(ls '$A2' | grep -c '^log')\" -gt 0 ] && [ \$(printf '%d' \$(ls '$A2' | sed -n 's/^log\.[0-9a-f]*-\([0-9a-f]*\)\.qfa$/0x\1/p' | sort | tail -1)) -ge \$(printf '%d' $z0) ]"
mv "$A2" "$A2.away"
: >"$A2"
# At least 50 writes, and on until three snapshots are on disk: a snapshot
# is a fork()ed child, slow under ASan, and writes made while one runs only
# start the next one when it ends, so a fixed number of writes may leave
# fewer. Bounded: 2000 writes at snapCount=10 are 200 snapshots' worth.
while [ $i -lt 60 ] || { [ "$(ls "$T/data2" | grep -c '^snapshot\.[0-9a-f]*\.db$')" -lt 3 ] && [ $i -lt 2000 ]; }; do
	echo "w $i" >"$M/f$i"
	i=$((i + 1))
done
echo "# $i writes in all before the kill"
wait_until 10 grep -q "archive $A2: .*retrying" "$T/data2.log"
t_check "a failing archive is logged" grep -q "archive $A2: .*retrying" "$T/data2.log"
t_check "snapshots went on meanwhile" test "$(ls "$T/data2" | grep -c '^snapshot\.[0-9a-f]*\.db$')" -ge 3
zk=$(zxid_of "$P")
qfs_kill9 "$QFS_PID" "$T/mnt"
rm "$A2"
mv "$A2.away" "$A2"
ae=$(arch_end "$A2")
t_check "the archive lagged (at ${ae:-nothing}) when the daemon was killed at $zk" \
	test "$(printf '%d' "${ae:-0x0}")" -lt "$(printf '%d' "$zk")"
qfs_start "$T/mnt" "$T/data2" -o "$OPTS2" || {
	t_fail "daemon restarts"
	exit 0
}
wait_until 10 zk_ruok "$P"
n=$((i + 20))
while [ $i -lt $n ]; do
	echo "w $i" >"$M/f$i"
	i=$((i + 1))
done
$ZK_TREE dump "$P" >"$T/final2.dump"
zf2=$(zxid_of "$P")
qfs_stop "$QFS_PID" "$T/mnt"
t_check "after the kill -9 and restart the archive has no gap" arch_contiguous "$A2"
t_check "the daemon logged no GAP" sh -c "! grep -q GAP '$T/data2.log'"
"$QUORUMADM" restore --archive "$A2" --to-zxid "$zf2" --data-dir "$T/r2" >"$T/out" 2>&1
t_eq "restore across the restart exits 0" 0 "$?"
sed 's/^/# /' "$T/out"
restored_dump "$T/r2" >"$T/r2.dump"
t_check "across the restart: the final tree" cmp -s "$T/final2.dump" "$T/r2.dump"

# A real gap: archiving off for a while (the log compacted meanwhile), then
# on again. The daemon says GAP; restores before it and from the next
# snapshot on work, none crosses it.
P=$(free_port)
qfs_start "$T/mnt" "$T/data2" -o "clientPort=$P,clientPortAddress=127.0.0.1,snapCount=10" || exit 0
i=0
while [ $i -lt 40 ]; do
	echo "off $i" >"$M/off$i"
	i=$((i + 1))
done
zoff=$(zxid_of "$P")
qfs_stop "$QFS_PID" "$T/mnt"
qfs_start "$T/mnt" "$T/data2" -o "clientPort=$P,clientPortAddress=127.0.0.1,snapCount=10,archiveDir=$A2,archiveInterval=100" || exit 0
echo after >"$M/after-gap"
zg=$(zxid_of "$P")
qfs_stop "$QFS_PID" "$T/mnt"
t_check "the daemon logged the GAP loudly" grep -q "GAP" "$T/data2.log"
grep GAP "$T/data2.log" | tail -1 | sed 's/^/# /'
mid=$(printf '0x%x' $(($(printf '%d' "$zf2") + 20)))
"$QUORUMADM" restore --archive "$A2" --to-zxid "$mid" --data-dir "$T/r-gap" >/dev/null 2>"$T/err"
t_eq "a restore to a point inside the gap is refused (exit 1)" 1 "$?"
sed 's/^/# /' "$T/err"
t_check "the refusal says GAP" grep -q GAP "$T/err"
"$QUORUMADM" restore --archive "$A2" --to-zxid "$zf2" --data-dir "$T/r-pre" >/dev/null 2>&1
t_eq "a point before the gap still restores" 0 "$?"
"$QUORUMADM" restore --archive "$A2" --to-zxid "$zg" --data-dir "$T/r-post" >/dev/null 2>&1
t_eq "a point after the gap (from the snapshot archived then) restores" 0 "$?"
restored_dump "$T/r-post" >"$T/r-post.dump"
t_check "and holds what was written while archiving was off" grep -q '^/off39 ' "$T/r-post.dump"
echo "# off: $zoff"
exit 0
