#!/bin/sh
# killed.sh - a daemon killed with -9 dies whole even when one of its own
# threads is stuck in a request on its mount (fs/watchdog.c says why that
# keeps it alive). The test build tests/chaos/quorumfs_mutant with
# QUORUMFS_TEST_STUCK makes such a thread on purpose: it looks up a name its
# own mount never answers. First without the watchdog (QUORUMFS_TEST_NO_WATCHDOG):
# the killed daemon must still be there 5 s later, which shows the case is
# real and the check below can fail; then with it: gone within 5 s, its
# mount dead (ENOTCONN), nothing lost.
# Last, a clean stop leaves no watchdog behind and aborts nothing.
. "$QFS_SRCDIR/tests/lib.sh"
qfs_init
M=$T/m
D=$T/d
MUTANT=$QFS_BUILDDIR/tests/chaos/quorumfs_mutant
OPTS="clientPort=0"
if [ ! -x "$MUTANT" ]; then
	t_fail "test build" "$MUTANT not built (make check builds it)"
	exit 1
fi

# gone PID: exited, or a zombie whose threads have all exited.
gone() {
	! kill -0 "$1" 2>/dev/null ||
		{ grep -q '^State:.*Z' "/proc/$1/status" 2>/dev/null &&
			[ "$(ls "/proc/$1/task" 2>/dev/null | wc -l)" -le 1 ]; }
}
conn_of() { awk -v m="$1" '$5 == m { split($3, d, ":"); print d[2] }' /proc/self/mountinfo | tail -1; }
stuck_seen() { grep -q "is left unanswered" "$D.log"; }
enotconn() { ! stat "$M" >/dev/null 2>&1 && stat "$M" 2>&1 | grep -q "not connected"; }

# 1. Without the watchdog: the killed daemon cannot finish dying.
QUORUMFS=$MUTANT QUORUMFS_TEST_STUCK=1 QUORUMFS_TEST_NO_WATCHDOG=1 \
	qfs_start "$M" "$D" -o "$OPTS" || { t_fail "mount (test build)"; exit 1; }
pid=$QFS_PID
wait_until 20 stuck_seen || echo "# the stuck lookup never reached the daemon"
echo v1 >"$M/kept"
t_eq "the daemon serves its mount beside the stuck thread" v1 "$(cat "$M/kept")"
dev=$(conn_of "$M")
kill -KILL "$pid"
if wait_until 5 gone "$pid"; then
	t_fail "without the watchdog, the killed daemon is still there 5 s later" \
		"it exited: the stuck thread did not keep it (the test proves nothing)"
else
	t_ok "without the watchdog, the killed daemon is still there 5 s later ($(ls /proc/$pid/task | wc -l) threads)"
fi
# Clean up by hand, as an operator would have to.
grep -q " /sys/fs/fuse/connections " /proc/mounts ||
	mount -t fusectl none /sys/fs/fuse/connections 2>/dev/null
[ -n "$dev" ] && echo 1 >"/sys/fs/fuse/connections/$dev/abort" 2>/dev/null
wait_until 5 gone "$pid" || echo "# pid $pid still there after the abort by hand"
wait "$pid" 2>/dev/null
fusermount3 -u -z "$M" 2>/dev/null

# 2. With the watchdog.
: >"$D.log"
QUORUMFS=$MUTANT QUORUMFS_TEST_STUCK=1 qfs_start "$M" "$D" -o "$OPTS" ||
	{ t_fail "mount (test build, watchdog)"; exit 1; }
pid=$QFS_PID
wait_until 20 stuck_seen || echo "# the stuck lookup never reached the daemon"
wd=$(pgrep -x -P "$pid" qfs-watchdog)
t_check "the watchdog process runs beside the daemon" test -n "$wd"
echo v2 >"$M/kept"
kill -KILL "$pid"
if wait_until 5 gone "$pid"; then
	t_ok "the killed daemon exits within 5 s although a thread of it was stuck on its mount"
else
	t_fail "the killed daemon exits within 5 s although a thread of it was stuck on its mount" \
		"still there ($(ls /proc/$pid/task 2>/dev/null | wc -l) threads)"
	dev=$(conn_of "$M")
	[ -n "$dev" ] && echo 1 >"/sys/fs/fuse/connections/$dev/abort" 2>/dev/null
fi
wait "$pid" 2>/dev/null
t_check "the watchdog said what it did" grep -q "FUSE connection [0-9]* (.*) aborted" "$D.log"
grep "aborted\|aborting" "$D.log" | sed 's/^/# /'
t_check "the watchdog exits with the daemon" wait_until 5 sh -c "! kill -0 $wd 2>/dev/null"
t_check "the dead mount answers ENOTCONN" enotconn
fusermount3 -u -z "$M"
: >"$D.log"
qfs_start "$M" "$D" -o "$OPTS" || { t_fail "restart"; exit 1; }
t_eq "after a restart the last write is there" v2 "$(cat "$M/kept")"

# 3. A clean stop: no watchdog left, no abort.
pid=$QFS_PID
wd=$(pgrep -x -P "$pid" qfs-watchdog)
t_check "this build starts a watchdog too" test -n "$wd"
qfs_stop "$pid" "$M"
t_check "a clean stop ends the watchdog" sh -c "! kill -0 ${wd:-0} 2>/dev/null"
t_check "a clean stop aborts nothing" sh -c "! grep -q 'aborted' '$D.log'"
