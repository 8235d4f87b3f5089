#!/bin/sh
# takeover.sh - a start after a crash needs no hand: the daemon detaches the
# dead mount its predecessor left at MOUNTPOINT ("Transport endpoint is not
# connected") and mounts again, serving the old tree; in the foreground and
# in the background (as systemd's Restart= starts it). It never touches a
# live mount: a second daemon on a mountpoint another running daemon serves
# is refused with a clear message, whichever dataDir it has, and the first
# one goes on serving.
. "$QFS_SRCDIR/tests/lib.sh"
qfs_init
M=$T/m
D=$T/d

# mounts_at DIR: how many mounts /proc/mounts lists at DIR.
mounts_at() { awk -v m="$1" '$2 == m' /proc/mounts | wc -l; }
# serves FILE TEXT: the mount answers and FILE holds TEXT.
serves() { [ "$(cat "$1" 2>/dev/null)" = "$2" ]; }
# dead_mount DIR: stat fails with ENOTCONN.
dead_mount() { stat "$1" 2>&1 | grep -q "Transport endpoint is not connected"; }

qfs_start "$M" "$D" -o clientPort=0 || { t_fail "first start"; exit 1; }
echo round0 >"$M/f"
r=1
while [ $r -le 3 ]; do
	kill -KILL "$QFS_PID"
	wait "$QFS_PID" 2>/dev/null
	# A daemon started in the background is not our child: wait for it
	# to be gone (under ASan exiting takes a while) before looking.
	wait_until 20 sh -c "! kill -0 $QFS_PID 2>/dev/null"
	t_check "round $r: kill -9 leaves a dead mount behind" wait_until 10 dead_mount "$M"
	if [ $r -eq 2 ]; then
		# In the background, as systemd (Type=forking) restarts it: the
		# command returns only once the mount is live, with status 0.
		"$QUORUMFS" -o "dataDir=$D,clientPort=0" "$M" 2>"$T/bg.err"
		t_eq "round $r: background start over the dead mount: exit status 0" 0 $?
		QFS_PID=$(pgrep -f "quorumfs -o dataDir=$D,clientPort=0 $M" | head -1)
		QFS_PIDS="$QFS_PIDS $QFS_PID"
	else
		"$QUORUMFS" -f -d -o "dataDir=$D,clientPort=0" "$M" >>"$D.log" 2>&1 &
		QFS_PID=$!
		QFS_PIDS="$QFS_PIDS $QFS_PID"
	fi
	t_check "round $r: started again without an unmount, serves the old tree" \
		wait_until 20 serves "$M/f" "round$((r - 1))"
	t_eq "round $r: one mount at the mountpoint (the dead one detached)" 1 "$(mounts_at "$M")"
	echo "round$r" >"$M/f"
	r=$((r + 1))
done
t_check "the takeover is logged" grep -q "left by a daemon that died" "$D.log"

# A live mount is never replaced: a second daemon with another dataDir...
"$QUORUMFS" -f -o "dataDir=$T/d2,clientPort=0" "$M" >"$T/second.out" 2>&1 &
p2=$!
if wait_until 10 sh -c "! kill -0 $p2 2>/dev/null"; then
	wait "$p2"
	t_eq "a second daemon (other dataDir) on a live mountpoint: exit status 1" 1 $?
else
	QFS_PIDS="$QFS_PIDS $p2"
	t_fail "a second daemon (other dataDir) on a live mountpoint is refused" "it kept running"
fi
echo "# $(cat "$T/second.out")"
t_check "and says the mountpoint is served by a running quorumfs" \
	grep -q "already mounted by a running quorumfs" "$T/second.out"
# ...or with the same one (the dataDir lock).
"$QUORUMFS" -f -o "dataDir=$D,clientPort=0" "$M" >"$T/third.out" 2>&1
t_eq "a second daemon (same dataDir): exit status 1" 1 $?
echo "# $(cat "$T/third.out")"
t_check "and names the lock" grep -q "another quorumfs using" "$T/third.out"
t_check "the first daemon still serves" serves "$M/f" round3
t_eq "still one mount at the mountpoint" 1 "$(mounts_at "$M")"
qfs_stop "$QFS_PID" "$M"
t_eq "after a clean stop, nothing is left mounted" 0 "$(mounts_at "$M")"
