#!/bin/sh
# daemon.sh - invocation as DESIGN.md section 0 describes it: arguments,
# configuration errors, backgrounding, clean stops (SIGTERM, SIGINT,
# fusermount3 -u) and mounting through mount(8) / fstab syntax.
. "$QFS_SRCDIR/tests/lib.sh"
qfs_init

# No mountpoint: usage on stderr, status 2.
"$QUORUMFS" >"$T/out" 2>&1
t_eq "no arguments: exit status 2" 2 $?
t_check "no arguments: usage printed" grep -q "usage: quorumfs" "$T/out"

# A malformed configuration names the file and line and refuses to start.
printf 'dataDir=%s/d0\nclientPort=0\ntickTime=fast\n' "$T" >"$T/bad.cfg"
mkdir -p "$T/m0"
"$QUORUMFS" -f "$T/bad.cfg" "$T/m0" >"$T/out" 2>&1
t_eq "bad config: exit status 1" 1 $?
t_check "bad config: message names file:line" grep -q "bad.cfg:3: tickTime=fast" "$T/out"
t_check "bad config: nothing mounted" sh -c "! grep -q ' $T/m0 ' /proc/mounts"

# Backgrounded: the parent returns only once the mount is live.
mkdir -p "$T/m1"
"$QUORUMFS" -o "dataDir=$T/d1,clientPort=0,noSuchKey=1" "$T/m1" 2>"$T/bg.err"
t_eq "background start: exit status 0" 0 $?
t_check "background start: mounted when the command returns" is_mounted "$T/m1"
sed 's/^/# /' "$T/bg.err"
t_check "background start: an unknown key is reported on the terminal it started from" \
	grep -q "quorumfs: config: -o: unknown key 'noSuchKey'" "$T/bg.err"
pid=$(pgrep -f "quorumfs -o dataDir=$T/d1" | head -1)
QFS_PIDS="$QFS_PIDS $pid"
QFS_MOUNTS="$QFS_MOUNTS $T/m1"
echo kept >"$T/m1/f"
t_eq "background daemon serves files" kept "$(cat "$T/m1/f")"
fusermount3 -u "$T/m1"
wait_until 10 sh -c "! kill -0 $pid"
t_check "fusermount3 -u stops the daemon" sh -c "! kill -0 $pid 2>/dev/null"

# Foreground, SIGTERM and SIGINT: clean exit, mount gone, data kept.
for sig in TERM INT; do
	qfs_start "$T/m2" "$T/d2" -o clientPort=0 || { t_fail "start for SIG$sig"; continue; }
	echo "$sig" >"$T/m2/last"
	kill -"$sig" "$QFS_PID"
	i=0
	while kill -0 "$QFS_PID" 2>/dev/null && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
	wait "$QFS_PID"
	t_eq "SIG$sig: exit status 0" 0 $?
	t_check "SIG$sig: unmounted" sh -c "! grep -q ' $T/m2 ' /proc/mounts"
done
qfs_start "$T/m2" "$T/d2" -o clientPort=0
t_eq "data survives clean restarts" INT "$(cat "$T/m2/last")"
qfs_stop "$QFS_PID" "$T/m2"

# fstab syntax: for type fuse.quorumfs, mount(8) runs mount.fuse3, which runs
# `quorumfs CONFIG MNT -o opts`. mount(8) itself resets PATH, so the test calls
# mount.fuse3 the way mount(8) does, with the build directory on PATH.
if command -v mount.fuse3 >/dev/null; then
	printf 'dataDir=%s/d3\nclientPort=0\n' "$T" >"$T/zoo.cfg"
	mkdir -p "$T/m3"
	if PATH="$QFS_BUILDDIR:$PATH" mount.fuse3 "$T/zoo.cfg" "$T/m3" -t fuse.quorumfs -o defaults,_netdev 2>"$T/mount.err"; then
		QFS_MOUNTS="$QFS_MOUNTS $T/m3"
		t_check "mount.fuse3 -t fuse.quorumfs: mounted" is_mounted "$T/m3"
		pid=$(pgrep -f "quorumfs $T/zoo.cfg" | head -1)
		[ -n "$pid" ] && QFS_PIDS="$QFS_PIDS $pid"
		umount "$T/m3"
		wait_until 10 sh -c "! kill -0 ${pid:-0} 2>/dev/null"
		t_check "umount stops the daemon" sh -c "! kill -0 ${pid:-0} 2>/dev/null"
	else
		t_fail "mount.fuse3 -t fuse.quorumfs" "$(cat "$T/mount.err")"
	fi
else
	t_skip "mount.fuse3 -t fuse.quorumfs" "mount.fuse3 not installed"
fi
