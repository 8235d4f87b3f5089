#!/bin/sh
# rolling.sh - a rolling restart (issue 10): every member of a 3-participant
# + 1-observer ensemble is stopped (SIGTERM) and started again, one at a
# time, under a steady write load (one create every 20 ms, retried after a
# connection loss as a ZooKeeper client does); the leader first hands its
# leadership over (quorumctl leader transfer 0), as planned maintenance
# would. No acknowledged write may be lost, none may fail; the longest
# time one write took (the stall) is reported, with the connection losses.
# ROLLING_NO_TRANSFER=1 restarts the leader as it is (an election instead).
. "${QFS_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/cluster/lib.sh"
. "$QFS_SRCDIR/tests/cluster/members_lib.sh"
QUORUMCTL="$QFS_BUILDDIR/quorumctl"

mb_init 3 1 || exit 1
qc_start_all || { t_fail "4 members start"; exit 1; }
qc_wait_leader 30 || { t_fail "a leader"; exit 1; }
t_ok "3 participants + 1 observer, leader $QC_LEADER"

mb_writer_start "$QC_HOSTS"
wait_until 10 test -s "$T/acked"
sleep 1

for mi in 1 2 3 4; do
	qc_wait_leader 20
	if [ "$mi" = "$QC_LEADER" ] && [ -z "${ROLLING_NO_TRANSFER:-}" ]; then
		QUORUMCTL_AUTH="digest:$MB_PW" "$QUORUMCTL" -s "$QC_HOSTS" leader transfer 0 >/dev/null 2>&1 ||
			echo "# transfer away from $mi failed; restarting it as leader"
		qc_wait_leader 20
	fi
	role=follower
	[ $mi -eq 4 ] && role=observer
	t0=$(date +%s%N)
	qc_stop $mi || t_fail "member $mi stops"
	qc_start $mi || { t_fail "member $mi starts again"; continue; }
	if qc_wait_mode $mi $role 30; then
		t1=$(date +%s%N)
		t_ok "member $mi restarted, back as $role in $(((t1 - t0) / 1000000)) ms"
	else
		t_fail "member $mi back as $role" "mode $(qc_mode $mi)"
	fi
	sleep 1
done

mb_writer_stop
echo "# writer: $MB_WRITES writes during the rolling restart, longest write $MB_STALL ms, $MB_RETRIED connection losses (retried), $MB_FAILED failed"
t_eq "no write failed" 0 "$MB_FAILED"
for i in 1 2 3 4; do
	wait_until 20 mb_check_acked $i || t_fail "member $i has every acknowledged write" "$ca_missing missing"
done
t_ok "no acknowledged write lost: all $(wc -l <"$T/acked") on every member"
qc_wait_converged 30 && t_ok "the replicas converge"
