#!/bin/sh
# zk_damage.sh - damaged ZooKeeper data directories given to import-zk, each
# with a clear outcome: a torn tail of the newest log (zeroed or truncated mid-record) is
# imported up to the record before it with a notice; a damaged record with
# records after it, a gap after a log cut short (both named), a damaged
# snapshot with no whole older one, a gap in the
# logs and a directory that is not ZooKeeper's are refused (exit 1, a message
# naming the file and the problem, nothing written); a damaged newest
# snapshot falls back to the older one and, the logs covering it, gives the
# same tree as the undamaged directory.
set -u
. "${QFS_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib.sh"
. "$QFS_SRCDIR/tests/adm/adm_lib.sh"
qfs_init
if ! zk_make_tree "$T/zk"; then
	t_skip "zk damage" "$ZK_WHY"
	exit 0
fi
V=version-2
"$QUORUMADM" import-zk "$T/zk/data" --data-dir "$T/clean" >"$T/clean.out" 2>&1 || {
	t_fail "the undamaged directory imports"
	exit 0
}
$ZK_TREE sqlite "$T"/clean/snapshot.*.db >"$T/clean.dump"
clean_zxid=$(sed -n 's/.*= zxid \(0x[0-9a-f]*\),.*/\1/p' "$T/clean.out")
echo "# undamaged: $(cat "$T/clean.out")"

fresh() { # fresh NAME: a copy of the ZooKeeper data directory
	rm -rf "$T/$1"
	cp -a "$T/zk/data" "$T/$1"
}
newest_log() { ls "$T/$1/$V" | grep '^log\.' | sort -t. -k2,2 | while read -r f; do
	printf '%d %s\n' "0x${f#log.}" "$f"; done | sort -n | tail -1 | cut -d' ' -f2; }
imp() { # imp NAME: import a damaged copy; sets rc, output in $T/NAME.out/.err
	"$QUORUMADM" import-zk "$T/$1" --data-dir "$T/$1-q" >"$T/$1.out" 2>"$T/$1.err"
	rc=$?
	sed 's/^/# /' "$T/$1.err"
}

# 1. Torn tail: the last record's second half and end mark zeroed.
fresh torn
log=$(newest_log torn)
last=$($ZK_TREE logrecs "$T/torn/$V/$log" | tail -1)
off=${last% *}
len=${last#* }
dd if=/dev/zero of="$T/torn/$V/$log" bs=1 seek=$((off + 12 + len / 2)) \
	count=$((len - len / 2 + 1)) conv=notrunc 2>/dev/null
imp torn
t_eq "torn tail: imported (exit 0)" 0 "$rc"
t_check "torn tail: a notice names the log and the offset" \
	grep -q "$log ends in a record cut short at byte $off" "$T/torn.err"
z=$(sed -n 's/.*= zxid \(0x[0-9a-f]*\),.*/\1/p' "$T/torn.out")
t_eq "torn tail: the import ends one transaction earlier" $((clean_zxid - 1)) $((z))

# 2. Torn by truncation in the middle of the last record.
fresh cut
log=$(newest_log cut)
last=$($ZK_TREE logrecs "$T/cut/$V/$log" | tail -1)
truncate -s $((${last% *} + 20)) "$T/cut/$V/$log"
imp cut
t_eq "truncated log: imported (exit 0)" 0 "$rc"
t_check "truncated log: noticed" grep -q "cut short" "$T/cut.err"

# 3. A damaged record with records after it: only the first snapshot left
# whole, so that every log is read, and the first record of log.1 damaged.
fresh crc
for f in $(ls "$T/crc/$V" | grep '^snapshot\.' | grep -v '^snapshot\.0$'); do
	truncate -s 30 "$T/crc/$V/$f"
done
log=log.1
first=$($ZK_TREE logrecs "$T/crc/$V/$log" | sed -n 1p)
t_check "log.1 has several records" test "$($ZK_TREE logrecs "$T/crc/$V/$log" | wc -l)" -ge 2
$ZK_TREE flip "$T/crc/$V/$log" $((${first% *} + 12 + 30))
imp crc
t_eq "damaged record: refused (exit 1)" 1 "$rc"
t_check "damaged record: the message names the log, the offset and the checksum" \
	grep -q "$log: checksum mismatch in the record at byte ${first% *}" "$T/crc.err"
t_check "damaged record: nothing written" test ! -e "$T/crc-q"

# 4. The newest snapshot damaged: the older one and the logs give the same tree.
fresh snap
newest=$(ls "$T/snap/$V" | grep '^snapshot\.' | while read -r f; do
	printf '%d %s\n' "0x${f#snapshot.}" "$f"; done | sort -n | tail -1 | cut -d' ' -f2)
size=$(stat -c %s "$T/snap/$V/$newest")
$ZK_TREE flip "$T/snap/$V/$newest" $((size / 2))
imp snap
t_eq "damaged newest snapshot: imported from the older one (exit 0)" 0 "$rc"
t_check "damaged newest snapshot: named, with the checksum" \
	grep -q "$newest: checksum mismatch.*trying an older snapshot" "$T/snap.err"
$ZK_TREE sqlite "$T"/snap-q/snapshot.*.db >"$T/snap.dump"
t_check "damaged newest snapshot: the same tree as undamaged" cmp -s "$T/clean.dump" "$T/snap.dump"

# 4b. Every snapshot as the newest: ZooKeeper writes snapshots while it
# applies (fuzzy), so each start point replays a different overlap of the
# logs; all must give the one tree (a deletion whose node a fuzzy snapshot
# already lost once left the parent's pzxid behind, in 1 of ~5 CI runs).
same=0
nsnap=0
for s in $(ls "$T/zk/data/$V" | grep '^snapshot\.'); do
	nsnap=$((nsnap + 1))
	fresh each
	for o in $(ls "$T/each/$V" | grep '^snapshot\.'); do
		[ $((0x${o#snapshot.})) -gt $((0x${s#snapshot.})) ] && rm "$T/each/$V/$o"
	done
	rm -rf "$T/each-q"
	imp each >/dev/null
	$ZK_TREE sqlite "$T"/each-q/snapshot.*.db >"$T/each.dump" 2>/dev/null
	if [ "$rc" = 0 ] && cmp -s "$T/clean.dump" "$T/each.dump"; then
		same=$((same + 1))
	else
		echo "# starting from $s: exit $rc, differs:"
		diff "$T/clean.dump" "$T/each.dump" | cut -c1-200 | head -6 | sed 's/^/# /'
	fi
done
t_check "several snapshots to start from" test "$nsnap" -ge 3
t_eq "every snapshot as the newest gives the same tree" "$nsnap" "$same"

# 5. Every snapshot damaged.
fresh nosnap
for f in "$T/nosnap/$V"/snapshot.*; do
	truncate -s 30 "$f"
done
imp nosnap
t_eq "no whole snapshot: refused (exit 1)" 1 "$rc"
t_check "no whole snapshot: says so" grep -q "no older snapshot is whole" "$T/nosnap.err"

# 6. A gap: every snapshot but the first damaged, the second log gone.
fresh gap
for f in $(ls "$T/gap/$V" | grep '^snapshot\.' | grep -v '^snapshot\.0$'); do
	truncate -s 30 "$T/gap/$V/$f"
done
second=$(ls "$T/gap/$V" | grep '^log\.' | while read -r f; do
	printf '%d %s\n' "0x${f#log.}" "$f"; done | sort -n | sed -n 2p | cut -d' ' -f2)
rm "$T/gap/$V/$second"
imp gap
t_eq "a missing log: refused (exit 1)" 1 "$rc"
t_check "a missing log: the gap is named" grep -q "transactions between are missing" "$T/gap.err"

# 7. A separate dataLogDir (--log-dir): the same tree.
fresh split
mkdir -p "$T/split-logs/$V"
mv "$T/split/$V"/log.* "$T/split-logs/$V/"
"$QUORUMADM" import-zk "$T/split" --log-dir "$T/split-logs" --data-dir "$T/split-q" >/dev/null 2>&1
t_eq "--log-dir: imported (exit 0)" 0 "$?"
$ZK_TREE sqlite "$T"/split-q/snapshot.*.db >"$T/split.dump"
t_check "--log-dir: the same tree" cmp -s "$T/clean.dump" "$T/split.dump"

# The same without --log-dir: only the snapshot, with a warning naming the
# directory the logs were looked for in; a --log-dir that is not there is
# named as such.
"$QUORUMADM" import-zk "$T/split" --data-dir "$T/split-nolog" >/dev/null 2>"$T/split.err"
t_eq "logs elsewhere, no --log-dir: imported (exit 0)" 0 "$?"
sed 's/^/# /' "$T/split.err"
t_check "with a warning that no log was found there, naming --log-dir" \
	sh -c "grep -q 'warning: no ZooKeeper transaction log (log.<zxid>) in $T/split/$V' '$T/split.err' && grep -q -- --log-dir '$T/split.err'"
"$QUORUMADM" import-zk "$T/split" --log-dir "$T/no-such-logs" --data-dir "$T/split-bad" >/dev/null 2>"$T/split.err"
t_eq "a --log-dir that is not there: refused (exit 1)" 1 "$?"
t_check "naming it, not the data directory" grep -q -- "--log-dir $T/no-such-logs: No such file" "$T/split.err"

# 7b. A log cut short that is not the newest: every log is read (the
# snapshots but the first damaged) and log.1, followed by others, loses its
# last record's second half. The next log does not carry on from the last
# whole record: refused as a gap, naming log.1 as cut short too. (A crash
# and restart leave a log cut short with a next log that does carry on;
# ZooKeeper reads on, and so does the import: the clean import above has
# no such log, the torn one below its newest.)
fresh mid
for f in $(ls "$T/mid/$V" | grep '^snapshot\.' | grep -v '^snapshot\.0$'); do
	truncate -s 30 "$T/mid/$V/$f"
done
last=$($ZK_TREE logrecs "$T/mid/$V/log.1" | tail -1)
t_check "log.1 is not the newest log" test "$(newest_log mid)" != log.1
truncate -s $((${last% *} + 12 + ${last#* } / 2)) "$T/mid/$V/log.1"
imp mid
t_eq "a log cut short with logs after it: refused (exit 1)" 1 "$rc"
t_check "the message names the gap and the log cut short, with its offset" \
	sh -c "grep -q 'transactions between are missing' '$T/mid.err' && grep -q 'the log before it, $T/mid/$V/log.1, ends in a record cut short at byte ${last% *}' '$T/mid.err'"
t_check "nothing written" test ! -e "$T/mid-q"

# 8. Not ZooKeeper's.
mkdir -p "$T/empty"
imp empty
t_eq "not a ZooKeeper directory: refused (exit 1)" 1 "$rc"
t_check "not a ZooKeeper directory: says so" grep -q "no snapshot" "$T/empty.err"
exit 0
