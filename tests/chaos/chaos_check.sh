#!/bin/sh
# chaos_check.sh - the chaos harness in `make check`: a seeded run against a
# build with a planted bug (tests/chaos/quorumfs_mutant: sync served by a
# leader that has not checked it still leads), which the checkers must
# catch. A checker that
# cannot catch a real bug proves nothing. The run against this build itself
# is `make chaos` (longer, and against Apache ZooKeeper too).
#
# Needs root (network namespaces), iptables and kazoo; each run is bounded.
# QFS_CHAOS_SECONDS (default 40) and QFS_SEED change the run.
. "$(dirname "$0")/../lib.sh"

chaos=$QFS_SRCDIR/tests/chaos/chaos.py
secs=${QFS_CHAOS_SECONDS:-40}
seed=${QFS_SEED:-$(($(date +%s) % 100000))}
echo "# seed $seed (QFS_SEED=$seed replays the schedules)"
if [ "$(id -u)" != 0 ]; then
	t_fail "chaos runs" "needs root for network namespaces"
	exit 1
fi
if ! command -v iptables >/dev/null || ! /usr/bin/python3 -c 'import kazoo' 2>/dev/null; then
	t_fail "chaos runs" "iptables or python3-kazoo missing (contrib/install-deps.sh --test)"
	exit 1
fi

run() { # NAME EXPECT(0|1) ARGS...
	name=$1 expect=$2
	shift 2
	out=$(mktemp -d /tmp/qfs-chaos-check.XXXXXX)
	timeout -k 10 $((secs + 240)) /usr/bin/python3 "$chaos" --seconds "$secs" \
		--seed "$seed" --out "$out" "$@" >"$out/run.log" 2>&1
	rc=$?
	grep -E 'summary:|ANOMALY|run failed|nemesis:' "$out/run.log" | head -30 | sed 's/^/# /'
	if [ "$rc" = "$expect" ]; then
		t_ok "$name"
	else
		t_fail "$name" "chaos.py exited $rc, expected $expect (output in $out)"
		return
	fi
	rm -rf "$out"
}

# The planted bug (mutant 4 of cons.h: a leader answers a read index
# without confirming with a quorum that it still leads) shows when the
# leader is paused past an election or cut off: until it notices, its
# clients' sync-then-read returns values the majority has written over.
run "a planted bug (read index without a quorum round) is caught" 1 \
	--system quorumfs --quorumfs "$QFS_BUILDDIR/tests/chaos/quorumfs_mutant" \
	--mutant 4 --members 3 --nemesis pause-leader,isolate-leader
