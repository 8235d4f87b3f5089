#!/bin/sh
# members_one.sh - an ensemble reconfigured down to one member and back
# (`quorumctl members remove` of two of 3, then `members add`): the sole
# member is the leader of a one-member ensemble, not "standalone", and
# takes writes; the removed ones say "removed" and refuse writes; once
# added back they follow again, without a restart, and replicate. The
# modes are checked with srvr, mntr's zk_server_state and quorumctl status.
. "${QFS_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/cluster/lib.sh"
. "$QFS_SRCDIR/tests/cluster/members_lib.sh"
QUORUMCTL="$QFS_BUILDDIR/quorumctl"

mb_init 3 || exit 1
qc_start_all || { t_fail "3 members start"; exit 1; }
qc_wait_leader 30 || { t_fail "a leader"; exit 1; }
t_ok "3 members, leader $QC_LEADER"

# Keep a follower: the leader removes itself too, so the sole member is
# elected after the change, the harder way to one member.
for i in 1 2 3; do
	[ "$i" != "$QC_LEADER" ] && { K=$i; break; }
done
gone=""
for i in 1 2 3; do
	[ "$i" != "$K" ] && gone="$gone $i"
done
set -- $gone
A=$1
B=$2

# modes_are I MODE ...: srvr's Mode and mntr's zk_server_state of each I.
modes_are() {
	while [ $# -ge 2 ]; do
		[ "$(qc_mode "$1")" = "$2" ] && [ "$(qc_mntr "$1" zk_server_state)" = "$2" ] ||
			return 1
		shift 2
	done
}
show_modes() {
	for i in 1 2 3; do
		echo "#   member $i: srvr $(qc_mode $i), mntr $(qc_mntr $i zk_server_state)"
	done
}
status_leaders() {
	"$QUORUMCTL" status -c "$QC_CFG" -j | jq -e ".leaders == $1" >/dev/null
}

out=$(mb_ctl members remove "$A" "$B")
rc=$?
echo "$out" | sed 's/^/#   remove: /'
# The leader is among them: it stops leading as the change commits, before
# it answers; quorumctl sees the change committed and says so.
t_eq "members remove $A $B (the leader $QC_LEADER among them): exit 0" 0 "$rc"
t_check "  and the new configuration is shown, without $A and $B" \
	sh -c 'echo "$1" | grep -q "^$2 " && ! echo "$1" | grep -Eq "^($3|$4) "' - "$out" "$K" "$A" "$B"
if wait_until 30 modes_are "$K" leader "$A" removed "$B" removed; then
	t_ok "members remove $A $B: $K says leader, $A and $B removed"
else
	t_fail "members remove $A $B: $K leader, $A and $B removed" "$(show_modes)"
fi
t_check "quorumctl status: one leader" wait_until 10 status_leaders 1
"$QUORUMCTL" status -c "$QC_CFG" | sed 's/^/#   /'
t_check "quorumctl status names server.$K the leader" \
	sh -c '"$1" status -c "$2" | grep -q "^leader: .*(server\.$3)"' - "$QUORUMCTL" "$QC_CFG" "$K"

MK=$(qc_get QC_MNT "$K")
t_check "a write on the sole member $K" qc_put "$MK/alone" one
t_eq "it reads back" "one" "$(cat "$MK/alone" 2>&1)"
if qc_put "$(qc_get QC_MNT "$A")/nope" x 2>/dev/null; then
	t_fail "a write on the removed member $A fails"
else
	t_ok "a write on the removed member $A fails"
fi
out=$("$QUORUMCTL" -s "$(qc_get QC_ADDR "$A"):$(qc_get QC_CPORT "$A")" create /nope x 2>&1)
echo "$out" | sed 's/^/#   create on removed: /'
t_check "quorumctl create on the removed member says it was removed" \
	sh -c 'echo "$1" | grep -q "removed from the ensemble"' - "$out"

# Back to three, without restarts. Each add is a change of its own, as an
# operator adding them one by one would make it.
out=$(mb_ctl members add "server.$A=$(mb_spec "$A")")
echo "$out" | sed 's/^/#   add: /'
out=$(mb_ctl members add "server.$B=$(mb_spec "$B")")
echo "$out" | sed 's/^/#   add: /'
if qc_wait_leader 30 && [ "$(qc_mntr "$QC_LEADER" zk_server_state)" = leader ]; then
	t_ok "members add $A $B: leader $QC_LEADER, the others follow"
else
	show_modes
	t_fail "members add $A $B: leader and followers" "$(mb_ctl members list)"
fi
all_follow() {
	for i in 1 2 3; do
		[ "$i" = "$QC_LEADER" ] && continue
		modes_are "$i" follower || return 1
	done
}
t_check "mntr zk_server_state of the others: follower" wait_until 10 all_follow
t_check "quorumctl status: one leader" wait_until 10 status_leaders 1
"$QUORUMCTL" status -c "$QC_CFG" | sed 's/^/#   /'

ML=$(qc_get QC_MNT "$QC_LEADER")
t_check "a write on the leader" qc_put "$ML/back" three
# both_writes I: member I's mount has the write made alone and the one
# made after the adds.
both_writes() {
	[ "$(cat "$(qc_get QC_MNT "$1")/alone" 2>/dev/null)" = one ] &&
		[ "$(cat "$(qc_get QC_MNT "$1")/back" 2>/dev/null)" = three ]
}
for i in 1 2 3; do
	t_check "member $i has both writes" wait_until 20 both_writes $i
done
t_check "the digests agree" qc_wait_converged 30
