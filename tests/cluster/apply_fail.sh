#!/bin/sh
# apply_fail.sh - a committed transaction that does not fit one member's
# tree never takes that member down (issue 8).
#
# Member 3 runs with the test hook QUORUMFS_FAULT_SKIP_CREATE=/af/victim:
# it consumes the creation of /af/victim without applying it, as a bug or
# a bad memory cell would, so its tree differs from the others'. The next
# write to /af/victim then does not fit member 3's tree. quorumfs used to
# exit there (and again at every restart, when replay met the same entry);
# now member 3 skips the entry as a failed transaction, logs it, counts it
# in mntr, and goes on serving, applying and voting. Restarted without the
# hook, it rebuilds its tree from its intact log and converges with the
# others.
. "${QFS_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/cluster/lib.sh"
qc_init 3
qc_spawn 1
qc_spawn 2
export QUORUMFS_FAULT_SKIP_CREATE=/af/victim
qc_spawn 3
unset QUORUMFS_FAULT_SKIP_CREATE
if ! qc_wait_up 1 || ! qc_wait_up 2 || ! qc_wait_up 3 || ! qc_wait_leader 30; then
	t_fail "3 participants elect a leader"
	exit 1
fi
t_ok "3 participants elect a leader (member $QC_LEADER)"
# The leader prepares against its own tree, so the difference must be on a
# follower: if member 3 leads, the others elect one of them while it is
# down, and it comes back as a follower.
if [ "$QC_LEADER" = 3 ]; then
	qc_stop 3
	qc_wait_leader 30
	export QUORUMFS_FAULT_SKIP_CREATE=/af/victim
	qc_start 3
	unset QUORUMFS_FAULT_SKIP_CREATE
	qc_wait_leader 30
fi
t_check "member 3 follows (member $QC_LEADER leads)" test "$QC_LEADER" != 3
LOG3=$QC_DATA_3.log

# One transaction each (kazoo), so that the count below is exact.
out=$(qc_zkpy '
c = zk(1)
c.ensure_path("/af")
c.create("/af/victim", b"one")
print("created")
')
t_eq "a client creates /af/victim through member 1" created "$out"
t_check "member 3 skipped the creation (the planted difference)" \
	wait_until 20 grep -q "QUORUMFS_FAULT_SKIP_CREATE: zxid" "$LOG3"
timeout 10 sync "$QC_MNT_3/af" 2>/dev/null
t_check "member 3's tree lacks /af/victim" test ! -e "$QC_MNT_3/af/victim"

out=$(qc_zkpy '
c = zk(1)
st = c.set("/af/victim", b"two")
print("%d" % st.mzxid)
')
set_zxid=$out
echo "# setData of /af/victim committed as zxid $set_zxid"
t_check "member 3 logs the write it could not apply" \
	wait_until 20 grep -q "does not fit this member's tree: skipped as a failed transaction" "$LOG3"
t_check "member 3 is still running" qc_running 3
t_check "member 3 still answers ruok" qc_ruok 3
t_eq "member 3 counts one apply failure (mntr zk_apply_failures)" 1 \
	"$(qc_mntr 3 zk_apply_failures)"
t_eq "member 3 names the write's zxid (zk_last_apply_failure_zxid)" "$set_zxid" \
	"$("$QC_PY" -c 'import sys; print(int(sys.argv[1], 0))' "$(qc_mntr 3 zk_last_apply_failure_zxid)")"
for i in 1 2; do
	t_eq "member $i counts none" 0 "$(qc_mntr $i zk_apply_failures)"
done
"$QUORUMCTL" status -c "$QC_CFG" >"$T/status" 2>&1
sed 's/^/# /' "$T/status"
t_check "quorumctl status warns about member 3 only" \
	test "$(grep -c "^warning: $QC_ADDR_3:$QC_CPORT_3 skipped 1 committed entry" "$T/status")" = 1 \
	-a "$(grep -c '^warning:' "$T/status")" = 1

# It goes on: later writes from anywhere apply on member 3, and writes
# through member 3 commit everywhere.
qc_put "$QC_MNT_1/af/after" "from 1"
qc_put "$QC_MNT_3/af/from3" "from 3"
timeout 10 sync "$QC_MNT_3/af/after" 2>/dev/null
t_eq "a later write through member 1 is read on member 3" "from 1" "$(cat "$QC_MNT_3/af/after" 2>&1)"
timeout 10 sync "$QC_MNT_1/af/from3" 2>/dev/null
t_eq "a write through member 3 is read on member 1" "from 3" "$(cat "$QC_MNT_1/af/from3" 2>&1)"

# It still votes: with one of the others stopped, a write needs member 3.
other=2
[ "$QC_LEADER" = 2 ] && other=1
qc_stop $other
keep=1
[ $other = 1 ] && keep=2
t_check "with member $other stopped, a write commits (member 3's vote counts)" \
	wait_until 30 qc_put "$(qc_get QC_MNT $keep)/af/quorum" "needs 3"
qc_start $other

# Restarted without the hook, member 3 rebuilds its tree from its log.
qc_stop 3
qc_start 3
if qc_wait_converged 60; then
	t_ok "after a restart without the difference every member has the same tree"
else
	t_fail "after a restart without the difference every member has the same tree"
fi
t_eq "member 3 reads /af/victim as the others do" two "$(cat "$QC_MNT_3/af/victim" 2>&1)"
t_eq "member 3 counts no apply failure after the restart" 0 "$(qc_mntr 3 zk_apply_failures)"
