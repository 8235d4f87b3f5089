#!/bin/sh
# verify.sh - quorumadm verify on a real snapshot written by a running
# quorumfs: a whole file is good (zxid, node count printed, exit 0); a
# flipped byte in a node's data, a truncated file and a foreign file are
# each BAD (exit 1) with a message naming the file and the problem.
set -u
. "${QFS_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib.sh"
. "$QFS_SRCDIR/tests/adm/adm_lib.sh"
qfs_init
if [ ! -x "$QUORUMADM" ]; then
	t_fail "quorumadm built" "no $QUORUMADM"
	exit 0
fi
# A daemon that snapshots every few writes; files written over the mount.
P=$(free_port)
qfs_start "$T/mnt" "$T/data" -o "clientPort=$P,clientPortAddress=127.0.0.1,snapCount=10" || {
	t_fail "daemon starts"
	exit 0
}
mkdir -p "$T/mnt/dir/sub"
i=0
while [ $i -lt 30 ]; do
	printf 'marker-%04d-payload' $i >"$T/mnt/dir/sub/f$i"
	i=$((i + 1))
done
# snapCount=10: a snapshot holding markers exists once the daemon has
# written one after the first ten writes.
has_marker() {
	for f in "$T/data"/snapshot.*.db; do
		grep -qa 'marker-' "$f" && return 0
	done
	return 1
}
wait_until 20 has_marker
qfs_stop "$QFS_PID" "$T/mnt"
snap=$(ls "$T/data"/snapshot.*.db | sort | tail -1)
t_check "the daemon wrote snapshots" test -f "$snap"
cp "$snap" "$T/backup.db"

out=$("$QUORUMADM" verify "$T/backup.db" 2>"$T/err")
rc=$?
t_eq "a whole snapshot verifies (exit 0)" 0 "$rc"
echo "# $out"
z=$(sqlite3 "$T/backup.db" "select value from meta where key='zxid'")
n=$(sqlite3 "$T/backup.db" "select count(*) from nodes")
t_check "verify prints the zxid" sh -c "echo '$out' | grep -q 'zxid 0x$(printf %x "$z")'"
t_check "verify prints the node count" sh -c "echo '$out' | grep -q ' $n nodes'"

# One flipped byte inside a node's data (whichever marker file the newest
# snapshot holds).
off=$(grep -obUa 'marker-[0-9]*-payload' "$T/backup.db" | head -1 | cut -d: -f1)
t_check "the snapshot holds marker data" test -n "$off"
off=${off:-0}
cp "$T/backup.db" "$T/flipped.db"
printf 'X' | dd of="$T/flipped.db" bs=1 seek=$((off + 7)) conv=notrunc 2>/dev/null
"$QUORUMADM" verify "$T/flipped.db" >"$T/out" 2>"$T/err"
rc=$?
t_eq "a flipped byte: exit 1" 1 "$rc"
t_check "a flipped byte: BAD on stdout" grep -q "flipped.db: BAD" "$T/out"
t_check "a flipped byte: the message names the file and the checksum" \
	grep -q "flipped.db: .*checksum" "$T/err"
sed 's/^/# /' "$T/err"

# Truncated to half.
size=$(stat -c %s "$T/backup.db")
head -c $((size / 2)) "$T/backup.db" >"$T/half.db"
"$QUORUMADM" verify "$T/half.db" >"$T/out" 2>"$T/err"
t_eq "a truncated file: exit 1" 1 "$?"
sed 's/^/# /' "$T/err"
t_check "a truncated file: a message names it" grep -q "half.db" "$T/err"

# Not a snapshot at all.
echo "hello" >"$T/foreign.db"
"$QUORUMADM" verify "$T/foreign.db" >"$T/out" 2>"$T/err"
t_eq "a foreign file: exit 1" 1 "$?"
t_check "a foreign file: says what it is not" grep -q "neither a quorumfs snapshot" "$T/err"

# A missing file is an operating-system failure, not a verdict.
"$QUORUMADM" verify "$T/nonexistent.db" >/dev/null 2>&1
t_eq "a missing file: exit 3" 3 "$?"
# A directory is named as one (mmap's ENODEV said nothing useful).
mkdir "$T/adir.db"
"$QUORUMADM" verify "$T/adir.db" >/dev/null 2>"$T/err"
t_eq "a directory: exit 3" 3 "$?"
t_check "  saying it is a directory" grep -q "adir.db: Is a directory" "$T/err"
# Help, version and options, as quorumctl and quorumfs take them.
for h in -h --help; do
	"$QUORUMADM" $h >"$T/out" 2>&1
	t_eq "quorumadm $h: exit 0" 0 "$?"
	t_check "  prints the usage" grep -q "usage: quorumadm verify" "$T/out"
	"$QUORUMADM" verify $h >"$T/out" 2>&1
	t_eq "quorumadm verify $h: exit 0 (not a file name)" 0 "$?"
done
"$QUORUMADM" -V >"$T/out" 2>&1
t_eq "quorumadm -V: exit 0" 0 "$?"
t_check "  prints the version" grep -q "^quorumadm [0-9]" "$T/out"
"$QUORUMADM" verify --bogus >/dev/null 2>"$T/err"
t_eq "verify with an unknown option: usage error (exit 2)" 2 "$?"
exit 0
