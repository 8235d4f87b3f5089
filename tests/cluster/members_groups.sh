#!/bin/sh
# members_groups.sh - a reconfig that changes the quorum system (issue 10,
# "Hierarchical quorums ... wired to the config"): ZooKeeper's new member
# list (reconfig -members / -file) with group.X and weight.N lines moves a
# running 6-participant hierarchical ensemble to other groups and weights;
# the quorum in force is then the new one, proven by stopping members:
#
#   before: group.1=1:2  group.2=3:4  group.3=5:6        (zoo.cfg)
#   after:  group.1=1    group.2=2    group.3=3:4:5:6, weight.6=0
#
#   members 1, 2 stopped (3..6 up): a flat majority (4 of 6) and the old
#     groups (2 whole groups of 3) would write; under the new groups only
#     1 group of 3 is there: writes must be refused;
#   members 3..6 stopped (1, 2 up): a flat majority (2 of 6) and the old
#     groups (1 group of 3) would refuse; the new groups (2 of 3) write.
#
# Then a list without groups makes it a majority again: 1 and 2 stopped,
# 3..6 write (4 of 6), where the groups refused.
#
# Also: bad lists are refused with ZBADARGUMENTS and a log line saying why;
# an incremental reconfig of a hierarchical ensemble is refused, as
# ZooKeeper refuses it; /zookeeper/config and dataDir/zoo.cfg.dynamic show
# the group/weight lines on every member; members 1 and 2 restart from a
# zoo.cfg whose groups are the old ones (zoo.cfg.dynamic's are taken).
. "${QFS_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/cluster/lib.sh"
. "$QFS_SRCDIR/tests/cluster/members_lib.sh"

mb_init 6 || exit 1
{
	echo "group.1=1:2"
	echo "group.2=3:4"
	echo "group.3=5:6"
} >>"$QC_CFG"
qc_start_all || { t_fail "6 members start"; exit 1; }
qc_wait_leader 30 || { t_fail "a leader among 6 in 3 groups"; exit 1; }
t_ok "6 participants in 3 groups of 2, leader $QC_LEADER"

groups_of() { mb_config "$1" | grep -E '^(group|weight)\.' | tr '\n' ' '; }
OLD="group.1=1:2 group.2=3:4 group.3=5:6 weight.1=1 weight.2=1 weight.3=1 weight.4=1 weight.5=1 weight.6=1 "
shows_old() { [ "$(groups_of 1)" = "$OLD" ]; }
t_check "/zookeeper/config shows zoo.cfg's groups and weights" wait_until 10 shows_old

servers=""
for i in 1 2 3 4 5 6; do
	servers="${servers:+$servers,}server.$i=$(mb_spec $i)"
done
# said LINE: a member's log has it (the leader's: a leader change on a
# loaded machine sends the request through another member, which forwards).
said() { cat "$T"/d*.log | grep -qF "$1"; }

# refused REASON MEMBERS: the list is BadArguments, the leader says why.
refused() {
	rf_out=$(mb_reconfig "new_members=$2")
	if [ "$rf_out" = "ERROR BadArgumentsError" ] &&
		wait_until 5 said "reconfig refused: $1"; then
		t_ok "refused: $1"
	else
		t_fail "refused: $1" "answer: $rf_out"
	fi
}
refused "server.6 is in no group" "$servers,group.1=1:2,group.2=3:4,group.3=5"
refused "server.2 is in two groups" "$servers,group.1=1:2,group.2=2:3:4,group.3=5:6"
refused "group.3: '7' is not a server of the new list" "$servers,group.1=1:2,group.2=3:4,group.3=5:6:7"
refused "weight.3=-1: a weight is a number" "$servers,group.1=1:2:3,group.2=4,group.3=5:6,weight.3=-1"
refused "every participant has weight 0" \
	"$servers,group.1=1:2,group.2=3:4,group.3=5:6,weight.1=0,weight.2=0,weight.3=0,weight.4=0,weight.5=0,weight.6=0"
refused "unrecognised entry 'tickTime=3'" "$servers,group.1=1:2,group.2=3:4,group.3=5:6,tickTime=3"
out=$(mb_reconfig "leaving=6")
t_eq "an incremental reconfig of a hierarchical ensemble" "ERROR BadArgumentsError" "$out"
t_check "... and the leader says why" \
	said "reconfig refused: incremental reconfiguration (-add/-remove) of an ensemble with a hierarchical quorum" "$LOG"
t_check "nothing changed" shows_old

# The good one, as zkCli's -file sends it: newline-separated, version= too.
T0=$(date +%s%N)
out=$(MB_LIST="$servers" qc_zkpy "
lst = os.environ['MB_LIST'].split(',') + ['group.1=1', 'group.2=2', 'group.3=3:4:5:6',
       'weight.6=0', 'version=100000000']
c = zk($QC_LEADER, timeout=10, auth_data=[('digest', '$MB_PW')])
try:
    data, st = c.reconfig(joining=None, leaving=None, new_members='\n'.join(lst))
    sys.stdout.write(data.decode())
except KazooException as e:
    sys.stdout.write('ERROR ' + type(e).__name__)
c.stop()
")
echo "# reconfig -file with new groups took $((($(date +%s%N) - T0) / 1000000)) ms"
NEW="group.1=1 group.2=2 group.3=3:4:5:6 weight.1=1 weight.2=1 weight.3=1 weight.4=1 weight.5=1 weight.6=0 "
t_eq "the reconfig answers the new configuration" "$NEW" \
	"$(echo "$out" | grep -E '^(group|weight)\.' | tr '\n' ' ')"
VERSION=$(echo "$out" | sed -n 's/^version=//p')
all_show_new() {
	for sn_i in 1 2 3 4 5 6; do
		[ "$(groups_of $sn_i)" = "$NEW" ] || return 1
		mb_config $sn_i | grep -qx "version=$VERSION" || return 1
	done
}
if wait_until 15 all_show_new; then
	t_ok "every member's /zookeeper/config shows the new groups and weights (version=$VERSION)"
else
	t_fail "every member's /zookeeper/config shows the new groups and weights" \
		"$(for i in 1 2 3 4 5 6; do echo "$i: $(groups_of $i)"; done)"
fi
dyn_new() {
	for dn_i in 1 2 3 4 5 6; do
		[ "$(grep -E '^(group|weight)\.' "$(qc_get QC_DATA $dn_i)/zoo.cfg.dynamic" |
			tr '\n' ' ')" = "$NEW" ] || return 1
	done
}
t_check "every member's dataDir/zoo.cfg.dynamic has them" wait_until 10 dyn_new

# quorumctl: list shows the groups; remove (incremental) is refused; set
# (a whole list) with a bad one is refused; the same list is no change.
QUORUMCTL="$QFS_BUILDDIR/quorumctl"
ctl() { mb_ctl "$@"; }
out=$(ctl members list)
t_check "quorumctl members list shows group.3=3:4:5:6 and weight.6=0" \
	sh -c "echo '$out' | grep -qx 'group.3=3:4:5:6' && echo '$out' | grep -qx 'weight.6=0'"
out=$(ctl members remove 6)
rc=$?
case "$out" in *BADARGUMENTS* | *"bad arguments"* | *"Bad arguments"*) ok=1 ;; *) ok=0 ;; esac
if [ $rc -ne 0 ] && [ $ok -eq 1 ]; then
	t_ok "quorumctl members remove on a hierarchical ensemble: refused (exit $rc)"
else
	t_fail "quorumctl members remove on a hierarchical ensemble: refused" "exit $rc: $out"
fi
set -- $(echo "$servers" | tr ',' ' ')
out=$(ctl members set "$@" group.1=1 group.2=2 group.3=3:4:5 weight.6=0)
rc=$?
if [ $rc -ne 0 ] && wait_until 5 said "reconfig refused: server.6 is in no group"; then
	t_ok "quorumctl members set with server 6 in no group: refused (exit $rc)"
else
	t_fail "quorumctl members set with server 6 in no group: refused" "exit $rc: $out"
fi

refuses() { # MOUNT: a write there fails with EROFS
	rf_err=$(sh -c "echo x >'$1/refused'" 2>&1)
	case "$rf_err" in *"Read-only file system"*) return 0 ;; esac
	return 1
}
no_leader() { # MEMBERS...: none of them says leader
	for nl_i in "$@"; do
		[ "$(qc_mode "$nl_i")" = leader ] && return 1
	done
	return 0
}

t_check "no member found /zookeeper/config and its log at odds" \
	sh -c "! cat '$T'/d*.log | grep -q 'differs from the configuration in this server'"

# --- 1 and 2 stopped: 4 of 6 up, the old groups 2 and 3 whole ---
qc_stop 1
qc_stop 2
t_check "without members 1 and 2, member 3's mount refuses writes (EROFS)" \
	wait_until 30 refuses "$QC_MNT_3"
sleep 3 # a majority or the old groups would have elected by now
t_check "still refused 3 s later: 1 group of 3 is no quorum (4 of 6 would be)" \
	refuses "$QC_MNT_3"
t_check "and none of members 3..6 says leader" no_leader 3 4 5 6

# --- 1 and 2 back (zoo.cfg has the old groups), then 3..6 stopped ---
qc_start 1 && qc_start 2 || t_fail "members 1 and 2 restart"
qc_wait_leader 30 || t_fail "1 and 2 back: a leader again"
t_eq "member 1 restarted: its /zookeeper/config" "$NEW" "$(groups_of 1)"
t_check "members 1 and 2 restarted without a disagreement" \
	sh -c "! cat '$QC_DATA_1.log' '$QC_DATA_2.log' | grep -q 'differs from the configuration in this server'"
qc_stop 3
qc_stop 4
qc_stop 5
qc_stop 6
T0=$(date +%s%N)
if wait_until 30 qc_put "$QC_MNT_1/two-of-six" ok; then
	t_ok "members 1 and 2 alone (2 of 6) write: 2 of 3 groups ($((($(date +%s%N) - T0) / 1000000)) ms to the first write)"
else
	t_fail "members 1 and 2 alone (2 of 6) write: 2 of 3 groups"
	for i in 1 2; do echo "#   member $i: $(qc_mode $i)"; done
fi
t_check "a leader among 1 and 2" qc_wait_leader 20
t_check "member 2 reads it" wait_until 10 sh -c "[ \"\$(cat '$QC_MNT_2/two-of-six')\" = ok ]"

# --- back to a majority: a list without groups; 1, 2 stopped write now ---
for i in 3 4 5 6; do
	qc_start $i || t_fail "member $i restarts"
done
qc_wait_leader 30 || t_fail "all 6 back: a leader"
out=$(mb_reconfig "new_members=$servers")
t_eq "a list without group/weight lines: no group/weight lines in the answer" "" \
	"$(echo "$out" | grep -E '^(group|weight)\.|^ERROR')"
all_majority() {
	for am_i in 1 2 3 4 5 6; do
		[ -z "$(groups_of $am_i)" ] || return 1
		grep -qE '^(group|weight)\.' "$(qc_get QC_DATA $am_i)/zoo.cfg.dynamic" && return 1
	done
	mb_config 1 | grep -q '^server\.6='
}
t_check "every member's /zookeeper/config and zoo.cfg.dynamic drop them" wait_until 15 all_majority
qc_stop 1
qc_stop 2
if wait_until 30 qc_put "$QC_MNT_3/four-of-six" ok; then
	t_ok "a majority again: 4 of 6 write without 1 and 2 (refused under the groups above)"
else
	t_fail "a majority again: 4 of 6 write without 1 and 2"
fi
exit 0
