#!/bin/sh
# chaos_check.sh - the chaos harness in `make check`, bounded (about two
# minutes): a checker that cannot catch a real bug proves nothing, so a
# build with a planted bug (tests/chaos/quorumfs_mutant, QUORUMFS_MUTANT=11:
# a leader cut off from its quorum keeps leading and serves sync without a
# quorum round) runs against a schedule that isolates the leader, with
# sync-then-read clients pinned to every member; its history must show
# anomalies (a reader on the cut-off leader reads, after sync, values the
# majority has written over). The longer run against this build itself is
# `make chaos` (and `make chaos MINUTES=N`).
#
# The control: this build's own quorumfs on the same schedule must show
# none (QFS_CHAOS_CONTROL=0 skips it). It found, on seed 5, a cas refused
# on the leader and then another client's sync-then-read there returning
# the version the cas expected: core_submit answered a failed prepare at
# once, before the change it rested on was applied (fixed with it).
#
# The mounts (mountload.py, --mounts): the same planted bug must show in
# what a mount serves after fsync, in a run of the mount workload alone
# whose first leader's mount only reads (a member's own pending write would
# hold its fsync back, so a cut-off leader with writers never serves one);
# and the control runs the ZooKeeper and mount workloads together (the
# first leader's mount read-only there too). The mount run found, on seed
# 3, a cut-off member answering fsync once its sync had timed out and the
# read after it returning values overwritten seconds before (fs/file.c
# ignored the sync's result; fixed with it): the control catches that
# build (seeds 3 and 4: 1 and 3 anomalies).
#
# Needs root (network namespaces), iptables, inotifywait and kazoo; each
# run is bounded.
# QFS_CHAOS_SECONDS (default 15) and QFS_SEED change the run.
. "$(dirname "$0")/../lib.sh"

chaos=$QFS_SRCDIR/tests/chaos/chaos.py
secs=${QFS_CHAOS_SECONDS:-15}
seed=${QFS_SEED:-$(($(date +%s) % 100000))}
echo "# seed $seed (QFS_SEED=$seed replays the schedules)"
if [ "$(id -u)" != 0 ]; then
	t_fail "chaos runs" "needs root for network namespaces"
	exit 1
fi
if ! command -v iptables >/dev/null || ! command -v inotifywait >/dev/null ||
	! /usr/bin/python3 -c 'import kazoo' 2>/dev/null; then
	t_fail "chaos runs" "iptables, inotifywait or python3-kazoo missing (contrib/install-deps.sh --test)"
	exit 1
fi

run() { # NAME EXPECT(0|1) ARGS...
	name=$1 expect=$2
	shift 2
	out=$(mktemp -d /tmp/qfs-chaos-check.XXXXXX)
	timeout -k 10 $((secs + 240)) /usr/bin/python3 "$chaos" --seconds "$secs" \
		--seed "$seed" --out "$out" --check-seconds 60 "$@" >"$out/run.log" 2>&1
	rc=$?
	grep -E 'summary|ANOMALY|run failed|nemesis:|not checked|^chaos:' "$out/run.log" |
		head -30 | sed 's/^/# /'
	if [ "$rc" = "$expect" ]; then
		t_ok "$name"
	else
		t_fail "$name" "chaos.py exited $rc, expected $expect (output in $out)"
		return
	fi
	rm -rf "$out"
}

# Two isolations of the leader, 5 to 8 s each, in a 15 s run. Only the
# pinned reader uses the first leader's ZooKeeper port: a write pending on
# a cut-off leader holds back every later sync there (one queue per
# member), so with the other clients free to connect to it the reader
# there got a sync answered only until their first write arrived (CI, once:
# 17,896 operations and no stale read on two seeds; before, 1 or 2
# anomalies a run). A second seed still comes before it counts as not
# caught.
mutant_run() {
	run "a planted bug (a cut-off leader serves sync without a quorum) is caught" 1 \
		--system quorumfs --quorumfs "$QFS_BUILDDIR/tests/chaos/quorumfs_mutant" \
		--mutant 11 --members 3 --nemesis isolate-leader --zk-readonly-leader
}
seed0=$seed
rc=1
for seed in $seed0 $((seed0 + 1)); do
	if [ "$seed" != "$seed0" ]; then
		echo "# not caught with seed $seed0; trying seed $seed"
	fi
	# Run in a subshell so only the last attempt prints ok/not ok.
	out=$(mutant_run)
	if echo "$out" | grep -q '^ok - '; then
		rc=0
		break
	fi
done
echo "$out"
seed=$seed0
# Stale reads after fsync through the cut-off leader's mount: at least one
# "synced read ... overwritten" anomaly (checkers.files).
mount_mutant() {
	run "a planted bug (a cut-off leader serves sync without a quorum) is caught through the mounts" 1 \
		--system quorumfs --quorumfs "$QFS_BUILDDIR/tests/chaos/quorumfs_mutant" \
		--mutant 11 --members 3 --nemesis isolate-leader --mounts --no-zk \
		--mount-readonly-leader
}
# Up to three seeds before it counts as not caught: on a loaded machine the
# cut-off leader's mount reader may get too few reads in (once: 1,308
# operations, none stale; the same seed alone: 68 anomalies). The mutant
# expires no session (core_session.c): a cut-off leader that does queues
# its syncs behind closeSessions that never commit, and the window was
# often empty (CI, under load: two seeds, 1,646 and 1,175 operations,
# none). Since, 5 seeds of 5 caught it, 94 to 179 stale reads each. Those
# runs also found a sync held until the next write after a change of
# leader (core_submit.c, reached()): three fsyncs through the mounts were
# never answered and the run hung.
caught=0
for seed in $seed0 $((seed0 + 1)) $((seed0 + 2)); do
	[ "$seed" != "$seed0" ] && echo "# not caught through the mounts with seed $((seed - 1)); trying seed $seed"
	out=$(mount_mutant)
	echo "$out" | grep -v '^ok - \|^not ok - '
	if echo "$out" | grep -q '^ok - ' && echo "$out" | grep -q 'ANOMALY.*synced read of file'; then
		caught=1
		break
	fi
done
seed=$seed0
if [ "$caught" = 1 ]; then
	t_ok "a planted bug (a cut-off leader serves sync without a quorum) is caught through the mounts"
else
	t_fail "a planted bug (a cut-off leader serves sync without a quorum) is caught through the mounts" \
		"no stale read after fsync in the mount history"
fi
# The control: this build on the same schedule, ZooKeeper clients and
# mounts. It once found a write a mount's close() failed with EROFS (a
# forwarded write its member gave up on when the leader changed) relayed by
# the stepped-down leader and committed seconds later, after the same mount
# session's later writes (seed 3: lost ledger lines); the leader now refuses
# a write sent to an earlier epoch (test_core
# relayed_write_of_an_earlier_epoch).
if [ "${QFS_CHAOS_CONTROL:-1}" = 1 ]; then
	run "this build on the same schedule shows no anomaly (ZooKeeper clients and mounts)" 0 \
		--system quorumfs --quorumfs "$QFS_BUILDDIR/quorumfs" --members 3 \
		--nemesis isolate-leader --mounts --mount-readonly-leader
else
	t_skip "this build on the same schedule shows no anomaly" "QFS_CHAOS_CONTROL=0"
fi
