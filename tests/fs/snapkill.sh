#!/bin/sh
# snapkill.sh - kill -9 while a snapshot child is running leaves nothing
# behind. The daemon snapshots often (snapCount=100) a tree made big enough
# (16 MB) that a child lives a while; files are written through the mount
# and set through the protocol at once (so the daemon's replay thread has
# files of its own mount open). In each round the daemon is killed with -9
# at a moment when /proc shows a snapshot child; then the daemon must be
# gone (not stuck in D state in fuse_flush), the child gone too, the mount
# unmountable with a plain fusermount3 -u, and a restart must serve the tree.
# A forked child that kept /dev/fuse and the other descriptors hung the
# daemon's exit in about 1 run in 12.
#
# Also: the child holds no descriptor of the parent's (no /dev/fuse, no
# socket, no dataDir lock), and a child that stops making progress is
# noticed, logged and killed (QUORUMFS_SNAPSHOT_STALL_MS).
#
# QFS_SNAPKILL_ROUNDS (default 12) rounds, stopping early after 40 s.
. "$QFS_SRCDIR/tests/lib.sh"
qfs_init
M=$T/m
D=$T/d
PORT=$(free_port)
OPTS="clientPort=$PORT,snapCount=100"
ROUNDS=${QFS_SNAPKILL_ROUNDS:-12}
Q="$QUORUMCTL -s 127.0.0.1:$PORT"

# snap_child PID: the pid of a child of PID (a snapshot child), if any.
# The snapshot child names itself qfs-snapshot (the replay helper, qfs-replay).
snap_child() { pgrep -x -P "$1" qfs-snapshot | head -1; }
# dead PID: gone, or a zombie waiting for us -- every thread of it (a
# zombie leader can have a thread still stuck in exit).
dead() {
	for ds in /proc/$1/task/*/stat; do
		[ -e "$ds" ] || continue
		case "$(awk '{print $3}' "$ds" 2>/dev/null)" in Z | "") ;; *) return 1 ;; esac
	done
	return 0
}
state() { awk '{print $3}' "/proc/$1/stat" 2>/dev/null; }

qfs_start "$M" "$D" -o "$OPTS" || { t_fail "first start"; exit 1; }
mkdir "$M/big" "$M/k"
i=1
while [ $i -le 16 ]; do
	head -c 1000000 /dev/urandom >"$M/big/b$i" || break
	i=$((i + 1))
done
for f in 1 2 3 4; do echo 0 >"$M/k/f$f"; done
# One snapshot of the big tree completes, so that restarts load it instead
# of replaying 16 MB of log each round.
i=1
while [ $i -le 110 ]; do echo "$i" >"$M/k/s$i" && i=$((i + 1)) || break; done
wait_until 30 grep -q "snapshot 0x.* written" "$D.log" ||
	{ t_fail "a first snapshot of the big tree"; exit 1; }
DEADLINE=$(($(date +%s) + 40))

# The writers run until the daemon is gone; each round starts new ones.
mount_writer() {
	n=0
	while echo "$n" >"$M/k/f1" 2>/dev/null && cat "$M/k/f3" >/dev/null 2>&1; do
		echo "$n" >"$M/k/f2" 2>/dev/null || break
		n=$((n + 1))
	done
}
proto_writer() {
	n=0
	while $Q set /k/f3 "p$n" >/dev/null 2>&1 && $Q set /k/f4 "p$n" >/dev/null 2>&1; do
		cat "$M/k/f4" >/dev/null 2>&1
		n=$((n + 1))
	done
}

hung=0 selfhang=0 childs=0 rounds=0 fdbad=0 fdchecked=""
r=1
while [ $r -le $ROUNDS ] && [ "$(date +%s)" -lt "$DEADLINE" ]; do
	mount_writer &
	w1=$!
	proto_writer &
	w2=$!
	child=""
	i=0
	while [ $i -lt 400 ] && [ -z "$child" ]; do
		child=$(snap_child "$QFS_PID")
		[ -z "$child" ] && sleep 0.01
		i=$((i + 1))
	done
	if [ -n "$child" ] && [ -z "$fdchecked" ]; then
		fdchecked=1
		# Only what it needs: no /dev/fuse, no socket, not the lock.
		# Looked at once it has its snapshot file open: it closes what
		# it inherited before that, and a 16 MB snapshot can be done
		# in under 50 ms, so there is no time to wait for.
		fds="" k=0
		while [ $k -lt 300 ] && [ -d "/proc/$child/fd" ]; do
			fds=$(ls -l "/proc/$child/fd" 2>/dev/null | awk 'NR > 1 {print $NF}')
			echo "$fds" | grep -q '\.tmp$' && break
			fds="" k=$((k + 1))
		done
		echo "# round $r: child $child holds: $(echo $fds | tr '\n' ' ')"
		if [ -z "$fds" ]; then
			fdchecked="" # it finished meanwhile: look again next round
		elif echo "$fds" | grep -Eq '/dev/fuse|socket:|/lock$|log\.db'; then
			fdbad=1
		fi
		[ -n "$fdchecked" ] &&
			t_eq "the snapshot child holds none of the daemon's descriptors" 0 "$fdbad"
	fi
	kill -KILL "$QFS_PID"
	[ -n "$child" ] && childs=$((childs + 1))
	if ! wait_until 5 dead "$QFS_PID"; then
		echo "# round $r: daemon $QFS_PID still there in state $(state "$QFS_PID")" \
			"(child ${child:-none}: $(state "${child:-0}"))"
		for ts in /proc/$QFS_PID/task/*; do
			[ "$(awk '{print $3}' "$ts/stat" 2>/dev/null)" = Z ] && continue
			echo "#   thread ${ts##*/} ($(cat "$ts/comm" 2>/dev/null)):" \
				$(head -6 "$ts/stack" 2>/dev/null | awk '{print $2}' | tr '\n' ' ')
		done
		# A thread of the daemon that is closing a file of the daemon's
		# own mount while exiting waits for an answer that only the
		# daemon could give (the connection lives until the last thread
		# releases /dev/fuse): that is not the snapshot child's doing.
		if grep -qs fuse_flush /proc/$QFS_PID/task/*/stack && dead "${child:-0}"; then
			echo "#   (the snapshot child is gone: the daemon's own I/O on its mount)"
			selfhang=$((selfhang + 1))
		fi
		hung=$((hung + 1))
		# Free it: aborting the connection ends the wait in fuse_flush.
		umount -f "$M" 2>/dev/null || umount -l "$M" 2>/dev/null
		[ -n "$child" ] && kill -KILL "$child" 2>/dev/null
		wait_until 5 dead "$QFS_PID"
	fi
	if [ -n "$child" ] && ! wait_until 5 dead "$child"; then
		echo "# round $r: snapshot child $child outlived the daemon (state $(state "$child"))"
		hung=$((hung + 1))
		kill -KILL "$child" 2>/dev/null
	fi
	# Never wait(1) for a process that may be stuck: it would block.
	dead "$QFS_PID" && wait "$QFS_PID" 2>/dev/null
	# The writers have no daemon left to write to: stop them and what they
	# run (a quorumctl would keep trying to reconnect).
	for p in $w1 $w2; do
		for c in $(pgrep -P "$p"); do kill -KILL "$c" 2>/dev/null; done
		kill -KILL "$p" 2>/dev/null
		wait_until 5 dead "$p" && wait "$p" 2>/dev/null
	done
	if is_mounted "$M" && ! fusermount3 -u "$M" 2>"$T/umount.err"; then
		echo "# round $r: fusermount3 -u: $(cat "$T/umount.err")"
		hung=$((hung + 1))
		fusermount3 -u -z "$M" 2>/dev/null
	fi
	qfs_start "$M" "$D" -o "$OPTS" || { t_fail "round $r: restart after kill -9"; exit 1; }
	rounds=$r
	r=$((r + 1))
done
echo "# $rounds rounds, $childs of them killed with a snapshot child running;" \
	"$hung left something behind ($selfhang of them the daemon waiting on its own mount)"
[ -n "$fdchecked" ] || t_fail "the snapshot child's descriptors" "no child seen to look at"
t_eq "kill -9 with a snapshot child: daemon and child gone, mount released ($rounds rounds)" \
	0 "$hung"
t_check "a snapshot child existed at the kill in most rounds ($childs of $rounds)" \
	test $((childs * 2)) -ge "$rounds"
t_eq "the tree survived every round" 16 "$(ls "$M/big" | wc -l)"
t_check "a big file reads back whole" test "$(wc -c <"$M/big/b7")" -eq 1000000
qfs_stop "$QFS_PID" "$M"

# A child that stops making progress is killed, and the daemon goes on.
export QUORUMFS_SNAPSHOT_STALL_MS=600
qfs_start "$M" "$D" -o "$OPTS" || { t_fail "start with a short stall limit"; exit 1; }
mount_writer &
w1=$!
# A child that is really running (not one already exiting) is stopped.
child=""
i=0
while [ $i -lt 500 ] && [ -z "$child" ]; do
	c=$(snap_child "$QFS_PID")
	if [ -n "$c" ] && kill -STOP "$c" 2>/dev/null && [ "$(state "$c")" = T ]; then
		child=$c
	else
		sleep 0.01
	fi
	i=$((i + 1))
done
if [ -n "$child" ]; then
	t_check "a stopped snapshot child is killed" wait_until 10 dead "$child"
	t_check "and the log says why" wait_until 5 grep -q "made no progress" "$D.log"
	t_check "the daemon serves on" sh -c "echo after >'$M/k/after' && test \"\$(cat '$M/k/after')\" = after"
	n0=$(grep -c "snapshot 0x.* written" "$D.log")
	t_check "and the next snapshot is written" \
		wait_until 20 sh -c "test \$(grep -c 'snapshot 0x.* written' '$D.log') -gt $n0"
else
	t_fail "a running snapshot child to stop" "none seen"
fi
qfs_stop "$QFS_PID" "$M"
kill "$w1" 2>/dev/null
wait "$w1" 2>/dev/null
