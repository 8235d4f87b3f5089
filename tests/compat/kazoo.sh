#!/bin/sh
# kazoo.sh - kazoo's own test suite (Debian python3-kazoo) against quorumfs's
# client port, reported as TAP: one line per kazoo test, its kazoo id in the
# name, skips with kazoo's reason. The per-file table of run-kazoo.sh follows
# as "#" comments.
#
# The shared runner ($QFS_SRCDIR/../shared/compat/kazoo/run-kazoo.sh) skips
# the tests that stop, restart or reconfigure servers. The server is the
# daemon (qfs_start with clientPort) once it serves the protocol; before
# that, or with QFS_KAZOO_SERVER=harness, tests/compat/zks_serve (the same
# server code over a core, no mount).
#
# Bounded: KAZOO_TOTAL_TIMEOUT (default 780 s, under the runner's 900 s per
# test file), 60 s per kazoo test.
. "${QFS_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib.sh"

KZ=${QFS_KAZOO_DIR:-$QFS_SRCDIR/../shared/compat/kazoo}
if [ ! -x "$KZ/run-kazoo.sh" ]; then
	t_skip "kazoo suite" "no kazoo runner at $KZ"
	exit 0
fi
qfs_init

deps_ok() { /usr/bin/python3 -c 'import kazoo.tests, pytest, mock, objgraph' 2>/dev/null; }
if ! deps_ok; then
	if [ "$(id -u)" = 0 ]; then
		timeout 600 bash "$KZ/install-deps.sh" >"$T/deps.log" 2>&1
	fi
	if ! deps_ok; then
		t_skip "kazoo suite" "kazoo's test dependencies are missing (install-deps.sh)"
		exit 0
	fi
fi

PORT=$(free_port)
SERVE="$QFS_BUILDDIR/tests/compat/zks_serve"
started=""
if [ "${QFS_KAZOO_SERVER:-daemon}" = daemon ] && [ -x "$QUORUMFS" ]; then
	if qfs_start "$T/mnt" "$T/data" \
		-o "clientPort=$PORT,4lw.commands.whitelist=*,tickTime=200" 2>/dev/null &&
		wait_until 10 sh -c "echo ruok | nc -q1 127.0.0.1 $PORT 2>/dev/null | grep -q imok"; then
		started="quorumfs"
	else
		echo "# the daemon does not serve clientPort yet; using zks_serve"
		qfs_cleanup
		qfs_init
	fi
fi
if [ -z "$started" ]; then
	if [ ! -x "$SERVE" ]; then
		t_fail "kazoo suite" "neither quorumfs nor $SERVE is usable"
		exit 0
	fi
	mkdir -p "$T/data"
	"$SERVE" "$T/data" "$PORT" >"$T/serve.log" 2>&1 &
	QFS_PIDS="$QFS_PIDS $!"
	started="zks_serve"
fi
echo "# kazoo against $started on 127.0.0.1:$PORT"

out="$T/kazoo"
KAZOO_OUT="$out" KAZOO_TOTAL_TIMEOUT="${KAZOO_TOTAL_TIMEOUT:-780}" \
	KAZOO_TEST_TIMEOUT="${KAZOO_TEST_TIMEOUT:-60}" \
	timeout -k 10 "$((${KAZOO_TOTAL_TIMEOUT:-780} + 60))" \
	bash "$KZ/run-kazoo.sh" "127.0.0.1:$PORT" >"$T/run.log" 2>&1
rc=$?

if [ ! -s "$out/outcomes.tsv" ]; then
	t_fail "kazoo suite" "run-kazoo.sh produced no outcomes (exit $rc)"
	sed 's/^/#   /' "$T/run.log" | tail -30
	[ -f "$T/serve.log" ] && sed 's/^/#   serve: /' "$T/serve.log" | tail -20
	exit 0
fi

# One TAP line per test. The reasons of failures and skips are in
# summary.txt, echoed below as comments.
while IFS='	' read -r id outcome; do
	case "$outcome" in
	passed) echo "ok - kazoo $id" ;;
	skipped) echo "ok - kazoo $id # SKIP see kazoo's skip reasons below" ;;
	*) echo "not ok - kazoo $id ($outcome)" ;;
	esac
done <"$out/outcomes.tsv"
sed 's/^/# /' "$out/summary.txt"
[ "$rc" = 124 ] && echo "# kazoo run hit its time limit; later tests are missing"
exit 0
