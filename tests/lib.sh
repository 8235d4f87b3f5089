# lib.sh - shared helpers for the shell tests (sourced, POSIX sh).
#
# Reporting: t_ok NAME, t_fail NAME [why], t_skip NAME why, or
# t_check NAME COMMAND... (ok when COMMAND succeeds). The runner counts the
# lines these print. Every daemon started with qfs_start is stopped, and
# every mount unmounted, by the EXIT trap that qfs_init installs.
#
# Environment: QFS_BUILDDIR (binaries), QFS_SRCDIR (sources).

QFS_BUILDDIR=${QFS_BUILDDIR:-$(pwd)}
QFS_SRCDIR=${QFS_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
QUORUMFS="${QUORUMFS:-$QFS_BUILDDIR/quorumfs}"
QUORUMCTL="$QFS_BUILDDIR/quorumctl"

t_ok() { echo "ok - $1"; }
t_fail() { echo "not ok - $1"; [ $# -gt 1 ] && echo "# $2"; return 0; }
t_skip() { echo "ok - $1 # SKIP $2"; }
t_check() {
	t_name=$1
	shift
	if "$@"; then t_ok "$t_name"; else t_fail "$t_name" "command failed: $*"; fi
}
# t_eq NAME EXPECTED ACTUAL
t_eq() {
	if [ "$2" = "$3" ]; then t_ok "$1"; else
		t_fail "$1" "expected [$2] got [$3]"
	fi
}

# wait_until SECONDS COMMAND... : poll COMMAND every 0.05 s until it succeeds
# or SECONDS pass. Returns COMMAND's last status.
wait_until() {
	wu_limit=$(($1 * 20))
	shift
	wu_i=0
	while [ "$wu_i" -lt "$wu_limit" ]; do
		"$@" 2>/dev/null && return 0
		sleep 0.05
		wu_i=$((wu_i + 1))
	done
	"$@"
}

# qfs_init: a private scratch directory ($T) and the cleanup trap.
qfs_init() {
	T=$(mktemp -d "${QFS_TMP:-/tmp}/qfs-test.XXXXXX")
	QFS_PIDS=""
	QFS_MOUNTS=""
	trap qfs_cleanup EXIT
	trap 'exit 130' INT TERM
}

qfs_cleanup() {
	for m in $QFS_MOUNTS; do
		fusermount3 -u -z "$m" 2>/dev/null
	done
	for p in $QFS_PIDS; do
		kill -TERM "$p" 2>/dev/null
	done
	for p in $QFS_PIDS; do
		i=0
		while kill -0 "$p" 2>/dev/null && [ $i -lt 100 ]; do
			sleep 0.05
			i=$((i + 1))
		done
		kill -KILL "$p" 2>/dev/null
	done
	for m in $QFS_MOUNTS; do
		fusermount3 -u -z "$m" 2>/dev/null
	done
	[ -n "${T:-}" ] && [ -z "${QFS_KEEP:-}" ] && rm -rf "$T"
}

is_mounted() { grep -q " $1 fuse" /proc/mounts; }

# qfs_start MOUNTPOINT DATADIR [-o OPTS] [CONFIG]: start a foreground daemon,
# wait until its mount is live, and set QFS_PID. Log in DATADIR.log.
qfs_start() {
	qs_mnt=$1
	qs_data=$2
	shift 2
	mkdir -p "$qs_mnt" "$qs_data"
	"$QUORUMFS" -f -d -o "dataDir=$qs_data" "$@" "$qs_mnt" >>"$qs_data.log" 2>&1 &
	QFS_PID=$!
	QFS_PIDS="$QFS_PIDS $QFS_PID"
	QFS_MOUNTS="$QFS_MOUNTS $qs_mnt"
	if ! wait_until 20 is_mounted "$qs_mnt"; then
		echo "# quorumfs did not mount $qs_mnt; log follows"
		sed 's/^/#   /' "$qs_data.log" | tail -30
		return 1
	fi
}

# qfs_stop PID MOUNTPOINT: SIGTERM, wait for exit and unmount (bounded).
qfs_stop() {
	kill -TERM "$1" 2>/dev/null
	i=0
	while kill -0 "$1" 2>/dev/null && [ $i -lt 200 ]; do
		sleep 0.05
		i=$((i + 1))
	done
	if kill -0 "$1" 2>/dev/null; then
		echo "# pid $1 ignored SIGTERM for 10 s"
		kill -KILL "$1"
		fusermount3 -u -z "$2" 2>/dev/null
		return 1
	fi
	wait "$1" 2>/dev/null
	! is_mounted "$2"
}

# qfs_kill9 PID MOUNTPOINT: crash the daemon and clear the dead mount. The
# wait is bounded (10 s): a daemon that cannot finish dying (fs/watchdog.c)
# is named rather than waited for.
qfs_kill9() {
	kill -KILL "$1" 2>/dev/null
	k9_i=0
	# Gone, or a zombie whose other threads have exited too (wait would
	# block on one that has threads left).
	while [ $k9_i -lt 200 ] && kill -0 "$1" 2>/dev/null &&
		! { grep -q '^State:.*Z' "/proc/$1/status" 2>/dev/null &&
			[ "$(ls "/proc/$1/task" 2>/dev/null | wc -l)" -le 1 ]; }; do
		sleep 0.05
		k9_i=$((k9_i + 1))
	done
	if [ $k9_i -ge 200 ]; then
		echo "# pid $1 still there 10 s after kill -9"
	else
		wait "$1" 2>/dev/null
	fi
	fusermount3 -u -z "$2" 2>/dev/null
	return 0
}

# fourlw_at ADDR PORT WORD: a server's answer to a four-letter word (empty
# if none).
fourlw_at() {
	/usr/bin/python3 - "$1" "$2" "$3" <<'PY' 2>/dev/null
import socket, sys
try:
    s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=2)
    s.settimeout(2)
    s.sendall(sys.argv[3].encode())
    out = b""
    while True:
        b = s.recv(65536)
        if not b:
            break
        out += b
    sys.stdout.write(out.decode("utf-8", "replace"))
except OSError:
    pass
PY
}

# free_port: a TCP port on 127.0.0.1 nobody listens on right now.
free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# watch_up DIR EVENTS OUT: inotifywait -m on DIR for EVENTS (a comma list),
# one "%e %f" line an event into OUT, stopped with the test; checks that
# the watch is up before going on.
watch_up() {
	: >"$3.err"
	inotifywait -m -e "$2" --format '%e %f' "$1" >"$3" 2>"$3.err" &
	QFS_PIDS="$QFS_PIDS $!"
	t_check "the watch is up" wait_until 10 grep -q "Watches established" "$3.err"
}

# multi_creates PORT DIR N: one ZooKeeper multi, through quorumctl, that
# creates DIR/z0 .. DIR/z(N-1) with the values x0 .. x(N-1).
multi_creates() {
	mc_i=0
	while [ $mc_i -lt "$3" ]; do
		echo "create $2/z$mc_i x$mc_i"
		mc_i=$((mc_i + 1))
	done >"$T/multi"
	t_check "$3 nodes created through the ZooKeeper protocol in one multi" \
		sh -c "'$QUORUMCTL' -s 127.0.0.1:$1 multi '$T/multi' >'$T/multi.out' 2>&1"
}

# need_mutant: MUTANT, the daemon's test build (tests/chaos/quorumfs_mutant,
# with the QUORUMFS_TEST_* hooks), and quorumctl, or the test ends failed.
need_mutant() {
	MUTANT=$QFS_BUILDDIR/tests/chaos/quorumfs_mutant
	if [ ! -x "$MUTANT" ] || [ ! -x "$QUORUMCTL" ]; then
		t_fail "test build" "$MUTANT or $QUORUMCTL not built (make check builds them)"
		exit 1
	fi
}
