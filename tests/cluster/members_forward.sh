#!/bin/sh
# members_forward.sh - reconfig asked of a member that does not lead (issue
# 10): ZooKeeper takes it on any server, so a follower or an observer
# forwards it to the leader and answers with the new /zookeeper/config.
# On 3 participants + 1 observer (4):
#   - kazoo's reconfig through the observer (promote itself) and through a
#     follower (demote 4 again), the reply naming the change;
#   - a wrong fromConfig through a follower: BADVERSION, nothing changes;
#   - quorumctl members remove/add and leader transfer given only a
#     follower (-s);
#   - the leader killed while a reconfig forwarded by a follower is under
#     way: the client hears connection loss, not a hang;
#   - zkCli's reconfig -remove through a follower;
#   - a removed member is no longer dialled nor kept connected: no
#     established peer connection to its peer port stays, and the leader
#     says so once.
# Before the forwarding, a non-leader answered ZRECONFIGINPROGRESS.
. "${QFS_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/cluster/lib.sh"
. "$QFS_SRCDIR/tests/cluster/members_lib.sh"
QUORUMCTL="$QFS_BUILDDIR/quorumctl"
ZKCLI=${ZKCLI:-/usr/share/zookeeper/bin/zkCli.sh}
has() { echo "$2" | grep -q -- "$1"; }

mb_init 3 1 || exit 1
qc_start_all || { t_fail "4 members start"; exit 1; }
qc_wait_leader 30 || { t_fail "a leader"; exit 1; }
F=1
[ "$QC_LEADER" = 1 ] && F=2
FH="$(qc_get QC_ADDR $F):$(qc_get QC_CPORT $F)"
t_ok "3 participants + 1 observer, leader $QC_LEADER, follower $F"
ctl() { QUORUMCTL_AUTH="digest:$MB_PW" "$QUORUMCTL" -s "$FH" "$@" 2>&1; }
in_cfg() { mb_config "$2" | grep -q "^server.4=.*:$1;"; }

# Through the observer: promote itself.
out=$(MB_AT=4 mb_reconfig "joining=server.4=$(mb_spec 4 participant)")
if has "^server.4=.*:participant;" "$out" && qc_wait_mode 4 follower 20; then
	t_ok "reconfig through the observer: 4 promoted, it follows"
else
	t_fail "reconfig through the observer" "$out / mode $(qc_mode 4)"
fi

# Through a follower: demote 4.
out=$(MB_AT=$F mb_reconfig "joining=server.4=$(mb_spec 4 observer)")
if has "^server.4=.*:observer;" "$out" && qc_wait_mode 4 observer 20; then
	t_ok "reconfig through follower $F: 4 demoted, it observes"
else
	t_fail "reconfig through follower $F" "$out / mode $(qc_mode 4)"
fi

# A wrong fromConfig through a follower: BADVERSION, no change.
ver=$(mb_config "$F" | sed -n 's/^version=//p')
bad=$(printf '%x' $((0x${ver:-0} + 1)))
out=$(MB_AT=$F mb_reconfig "leaving=4" "from_config=$bad")
t_check "a wrong fromConfig through a follower: BadVersionError" has "ERROR BadVersionError" "$out"
wait_until 5 in_cfg observer "$QC_LEADER"
t_check "and 4 is still a member" in_cfg observer "$QC_LEADER"
# The right one through the same follower is taken.
out=$(MB_AT=$F mb_reconfig "joining=server.4=$(mb_spec 4 participant)" "from_config=$ver")
if has "^server.4=.*:participant;" "$out" && qc_wait_mode 4 follower 20; then
	t_ok "the fromConfig in force through a follower: taken"
else
	t_fail "the fromConfig in force through a follower" "$out / mode $(qc_mode 4)"
fi

# quorumctl given only a follower.
out=$(ctl members demote 4)
if has "^4 *observer" "$out" && qc_wait_mode 4 observer 20; then
	t_ok "quorumctl -s <follower> members demote 4"
else
	t_fail "quorumctl -s <follower> members demote 4" "$out / mode $(qc_mode 4)"
fi
# Member 4's peer connections, found by its pid (it dials the others
# itself: the higher id's connection is the one both sides keep).
PID4=$(qc_get QC_PID 4)
peers() { # established connections of member 4's process to members 1..3
	ss -Htnp state established 2>/dev/null | grep "pid=$PID4," |
		grep -cE "127.0.0.1:($(sed -n 's/^server\.[123]=[^:]*:\([0-9]*\):.*/\1/p' "$QC_CFG" | paste -sd'|'))[^0-9]"
}
some4() { [ "$(peers)" -gt 0 ]; }
none4() { [ "$(peers)" -eq 0 ]; }
wait_until 10 some4
t_check "the probe sees member 4's peer connections while it is a member" [ "$(peers)" -gt 0 ]
out=$(ctl members remove 4)
if ! has "^4 " "$out" && qc_wait_mode 4 removed 20; then
	t_ok "quorumctl -s <follower> members remove 4: it says removed"
else
	t_fail "quorumctl -s <follower> members remove 4" "$out / mode $(qc_mode 4)"
fi

# The removed member: no peer connection of its process stays up, none
# comes back (4 still runs and keeps dialling the others, who refuse it),
# and the leader said so once.
said() { [ "$(grep -c "server.4 is no longer a member" "$(qc_get QC_DATA "$QC_LEADER").log")" -eq 1 ]; }
if wait_until 10 none4; then
	# Stays so over several redial periods (the transport redials within
	# 5 s at most): sampled, each sample exact.
	stayed=1
	n=0
	while [ $n -lt 8 ]; do
		none4 || stayed=0
		n=$((n + 1))
		sleep 1
	done
	t_check "removed member 4: no peer connection to it comes back in 8 s" [ $stayed = 1 ]
else
	t_fail "removed member 4: its peer connections are closed" "$(ss -Htnp state established | grep "pid=$PID4,")"
fi
wait_until 5 said
t_check "the leader says once that server.4 is no longer a member" said

out=$(ctl members add "server.4=$(mb_spec 4 observer)")
if has "^4 *observer" "$out" && qc_wait_mode 4 observer 30; then
	t_ok "quorumctl -s <follower> members add server.4: it observes again"
else
	t_fail "quorumctl -s <follower> members add server.4" "$out / mode $(qc_mode 4)"
fi

# quorumctl leader transfer given only a follower: the leadership moves.
qc_wait_leader 20
old=$QC_LEADER
FH2="$(qc_get QC_ADDR $F):$(qc_get QC_CPORT $F)"
[ "$F" = "$old" ] && { F=1; [ "$old" = 1 ] && F=2; FH2="$(qc_get QC_ADDR $F):$(qc_get QC_CPORT $F)"; }
out=$(QUORUMCTL_AUTH="digest:$MB_PW" "$QUORUMCTL" -s "$FH2" leader transfer 0 2>&1)
rc=$?
moved() { qc_leader_now && [ "$QC_LEADER" != "$old" ]; }
if [ $rc = 0 ] && wait_until 20 moved; then
	t_ok "quorumctl -s <follower $F> leader transfer 0: leader $old -> $QC_LEADER"
else
	t_fail "quorumctl -s <follower $F> leader transfer 0" "exit $rc: $out; leader $(qc_leader_now; echo "$QC_LEADER")"
fi
qc_wait_leader 20
F=1
[ "$QC_LEADER" = 1 ] && F=2
FH="$(qc_get QC_ADDR $F):$(qc_get QC_CPORT $F)"

# The leader dies while a reconfig forwarded by a follower is under way
# (adding a participant, server.5, that never runs: the leader waits for it
# to catch up): the client hears connection loss once the follower sees
# the leader gone, not a hang.
P5=$("$QC_PY" -c '
import socket
ss = [socket.socket() for _ in range(3)]
for s in ss:
    s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in ss))')
set -- $P5
spec5="server.5=127.0.0.1:$1:$2:participant;127.0.0.1:$3"
L=$QC_LEADER
llog="$(qc_get QC_DATA "$L").log"
base=$(grep -c "members: reconfig started\|a snapshot first" "$llog")
(MB_AT=$F MB_TIMEOUT=30 mb_reconfig "joining=$spec5" >"$T/lost.out" 2>&1; printf "\ndone\n" >>"$T/lost.out") &
lost=$!
started() { [ "$(grep -c "members: reconfig started\|a snapshot first" "$llog")" -gt "$base" ]; }
if wait_until 10 started; then
	t0=$(date +%s%N)
	qc_kill9 "$L"
	answered() { grep -q "^done" "$T/lost.out"; }
	wait_until 60 answered
	t1=$(date +%s%N)
	wait "$lost"
	echo "# answered $(((t1 - t0) / 1000000)) ms after the leader was killed: $(head -1 "$T/lost.out")"
	t_check "the leader killed mid-reconfig: the client through follower $F hears connection loss" \
		grep -q "ERROR ConnectionLoss" "$T/lost.out"
	# Told as soon as the follower sees the leader gone (an election
	# timeout is 1 s here), not when the answer's own bound runs out.
	t_check "and within 10 s of the kill" [ $(((t1 - t0) / 1000000)) -lt 10000 ]
else
	kill "$lost" 2>/dev/null
	t_fail "the leader killed mid-reconfig" "the leader never started the change: $(cat "$T/lost.out")"
fi
qc_start "$L" || t_fail "member $L restarts"
qc_wait_leader 30 || t_fail "a leader after the restart"
F=1
[ "$QC_LEADER" = 1 ] && F=2
FH="$(qc_get QC_ADDR $F):$(qc_get QC_CPORT $F)"

if [ ! -x "$ZKCLI" ]; then
	t_skip "zkCli reconfig through a follower" "no $ZKCLI (Debian package zookeeper)"
	exit 0
fi
printf 'addauth digest %s\nreconfig -remove 4\nquit\n' "$MB_PW" |
	timeout 90 "$ZKCLI" -server "$FH" >"$T/zkcli.out" 2>&1
if grep -q "Committed new configuration" "$T/zkcli.out" && ! grep -q "^server.4=" "$T/zkcli.out" &&
	qc_wait_mode 4 removed 20; then
	t_ok "zkCli reconfig -remove 4 through follower $F"
else
	t_fail "zkCli reconfig -remove 4 through follower $F" "$(grep -v '^[0-9-]* [0-9:,]* \[' "$T/zkcli.out" | tail -5)"
fi
