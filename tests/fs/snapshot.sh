#!/bin/sh
# snapshot.sh - snapshots holding many sessions survive clean restarts, over
# and over. snapCount=100; in each round 5 ZooKeeper sessions (quorumctl
# watchers) are held open while 120 files are written through the mount, so
# every snapshot of the round holds 6 or more sessions (the mount's too);
# then SIGTERM, and the daemon must start again and serve every file. A
# snapshot whose checksum depended on the order of the session hash table
# made the second start fail ("contents do not match its checksum").
#
# QFS_SNAP_ROUNDS (default 10) sets the number of stop/start rounds.
. "$QFS_SRCDIR/tests/lib.sh"
qfs_init
M=$T/m
D=$T/d
PORT=$(free_port)
OPTS="clientPort=$PORT,snapCount=100"
ROUNDS=${QFS_SNAP_ROUNDS:-10}
SESSIONS=5
Q="$QUORUMCTL -s 127.0.0.1:$PORT"

newest_sessions() {
	sqlite3 "$(ls "$D"/snapshot.*.db | sort | tail -1)" 'select count(*) from sessions'
}
newest_has_sessions() { test "$(newest_sessions)" -ge "$1"; }

command -v sqlite3 >/dev/null || { t_fail "sqlite3(1) is needed to read snapshots"; exit 1; }
qfs_start "$M" "$D" -o "$OPTS" || { t_fail "first start"; exit 1; }
mkdir "$M/snap"
failed=0
r=1
while [ $r -le $ROUNDS ]; do
	wpids=""
	s=1
	while [ $s -le $SESSIONS ]; do
		$Q watch -r -n 1000000 /snap >/dev/null 2>"$T/w$r.$s" &
		wpids="$wpids $!"
		s=$((s + 1))
	done
	s=1
	while [ $s -le $SESSIONS ]; do
		wait_until 10 grep -q watching "$T/w$r.$s" ||
			{ t_fail "round $r: watcher $s holds a session"; failed=1; }
		s=$((s + 1))
	done
	i=1
	while [ $i -le 120 ]; do
		echo "r$r.$i" >"$M/snap/r$r.$i" || { t_fail "round $r: write $i"; failed=1; break; }
		i=$((i + 1))
	done
	# A snapshot of this round (written by a child: wait for it) holds the
	# watchers' sessions and the mount's.
	wait_until 10 newest_has_sessions $((SESSIONS + 1)) ||
		{ t_fail "round $r: a snapshot with $((SESSIONS + 1)) sessions was written"; failed=1; }
	nsess=$(newest_sessions)
	if ! qfs_stop "$QFS_PID" "$M"; then
		t_fail "round $r: SIGTERM stops the daemon"
		failed=1
	fi
	for p in $wpids; do
		kill "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	if ! qfs_start "$M" "$D" -o "$OPTS"; then
		t_fail "round $r: restart after a clean stop with ${nsess:-?} sessions in the snapshot"
		grep -E "checksum|snapshot" "$D.log" | tail -5 | sed 's/^/#   /'
		exit 1
	fi
	n=$(ls "$M/snap" | wc -l)
	t_eq "round $r: restarted with every file (snapshot with ${nsess:-?} sessions)" \
		$((r * 120)) "$n"
	t_eq "round $r: a file of this round reads back" "r$r.77" "$(cat "$M/snap/r$r.77")"
	r=$((r + 1))
done
snaps=$(grep -c 'snapshot 0x.* written' "$D.log")
echo "# $snaps snapshots written over $ROUNDS rounds"
t_check "many snapshots were taken ($snaps)" test "$snaps" -ge "$ROUNDS"
qfs_stop "$QFS_PID" "$M"

# Repair. The newest snapshot damaged, an older one whole plus the log:
# a plain start refuses and says what repair would do; repair=yes starts,
# serves every file, and names the file it set aside.
newest=$(ls "$D"/snapshot.*.db | sort | tail -1)
sqlite3 "$newest" "update nodes set mtime = mtime + 1 where rowid = 5"
"$QUORUMFS" -f -o "dataDir=$D,clientPort=0" "$M" >"$T/refused.out" 2>&1
t_eq "a damaged newest snapshot: a plain start refuses (exit 1)" 1 $?
echo "# $(tail -1 "$T/refused.out")"
t_check "and says what repair=yes would do and lose" \
	grep -q "repair=yes would set aside the 1 damaged snapshot.*no transaction is lost" "$T/refused.out"
qfs_start "$M" "$D" -o "$OPTS,repair=yes" || { t_fail "start with repair=yes"; exit 1; }
t_eq "repair=yes: every file is served" $((ROUNDS * 120)) "$(ls "$M/snap" | wc -l)"
t_check "repair=yes: names the file it set aside" \
	grep -q "REPAIR: moved $newest aside" "$D.log"
qfs_stop "$QFS_PID" "$M"

# Every snapshot damaged, the log purged past them: repair refuses and
# changes nothing.
for f in "$D"/snapshot.*.db; do
	sqlite3 "$f" "update nodes set mtime = mtime + 1 where rowid = 3"
done
state() { (cd "$D" && ls -l --time-style=+%s.%N snapshot.* && cat snapshot.*) | md5sum; }
before=$(state)
"$QUORUMFS" -f -o "dataDir=$D,clientPort=0,repair=yes" "$M" >"$T/refused2.out" 2>&1
t_eq "every snapshot damaged, log purged: repair=yes refuses (exit 1)" 1 $?
echo "# $(tail -1 "$T/refused2.out")"
t_check "and explains that nothing was changed" grep -q "nothing was changed" "$T/refused2.out"
t_eq "and changed nothing" "$before" "$(state)"
