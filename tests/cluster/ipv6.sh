#!/bin/sh
# ipv6.sh - an ensemble whose members talk over IPv6: zoo.cfg names every
# peer as [::1]:peerPort:electionPort, as ZooKeeper writes an IPv6 address
# (before the fix zoo.cfg refused the line with "bad port number", and a
# reconfig kept the brackets in the address it then failed to resolve).
# 3 participants and an observer replicate, /zookeeper/config keeps the
# brackets, the observer leaves and joins again by an IPv6 spec, an IPv6
# address without brackets is refused with a reason, and a new leader is
# elected over IPv6 when the old one is killed.
. "${QFS_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/cluster/lib.sh"
. "$QFS_SRCDIR/tests/cluster/members_lib.sh"
ctl() { mb_ctl "$@"; }

if ! "$QC_PY" -c 'import socket; s = socket.socket(socket.AF_INET6); s.bind(("::1", 0))' 2>/dev/null; then
	t_skip "IPv6 ensemble" "no IPv6 loopback (::1) on this machine"
	exit 0
fi
QC_NET=lo6
mb_init 3 1 || exit 1
t_check "zoo.cfg names the peers in brackets" grep -q '^server\.1=\[::1\]:[0-9]*:[0-9]*:participant;' "$QC_CFG"
qc_start_all || { t_fail "4 members start on [::1]"; exit 1; }
qc_wait_leader 30 || { t_fail "a leader over IPv6"; exit 1; }
t_ok "3 participants + 1 observer on [::1], leader $QC_LEADER"
L=$QC_LEADER
# The peer connections of the leader, as the kernel has them: over ::1.
lport=$(sed -n "s/^server\.$L=\[::1\]:\([0-9]*\):.*/\1/p" "$QC_CFG")
v6peers() { [ "$(ss -Htn state established "( sport = :$lport or dport = :$lport )" | grep -c '\[::1\]')" -ge 2 ]; }
if command -v ss >/dev/null 2>&1; then
	t_check "the leader's peer port $lport has IPv6 connections" wait_until 10 v6peers
else
	t_check "the leader's peers connected" grep -q "peer [0-9]*: connected" "$T/d$L.log"
fi

qc_put "$QC_MNT_1/greeting" "over ipv6"
sync "$QC_MNT_4/greeting" 2>/dev/null
t_eq "a write on n1 reads back on the observer n4" "over ipv6" "$(cat "$QC_MNT_4/greeting" 2>&1)"
cfg=$(cat "$QC_MNT_2/zookeeper/config")
echo "$cfg" | sed 's/^/#   /'
t_check "/zookeeper/config writes the IPv6 peers in brackets" \
	sh -c 'test "$(echo "$1" | grep -c "^server\.[1-4]=\[::1\]:[0-9]*:[0-9]*:")" = 4' - "$cfg"

mb_observer_rejoin 4
out=$(ctl members add "server.5=::1:1:2:observer")
t_check "members add with an IPv6 address not in brackets: refused" \
	sh -c 'echo "$1" | grep -q BADARGUMENTS && ! echo "$2" | grep -q "^5 "' - "$out" "$(ctl members list)"
t_check "the refusal is logged with its reason" \
	sh -c 'cat "$1"/d*.log | grep -q "refused .server.5=::1:1:2:observer.: too many .:. fields (an IPv6 address goes in brackets"' - "$T"

out=$("$QFS_BUILDDIR/quorumctl" status -c "$QC_CFG" 2>&1)
echo "$out" | sed 's/^/#   /'
t_check "quorumctl status -c zoo.cfg: 4 of 4 servers answer" \
	sh -c 'echo "$1" | grep -q "4 of 4 servers answer"' - "$out"
qc_put "$QC_MNT_2/before" "1"
kill -9 "$(qc_get QC_PID "$L")"
wait_until 30 sh -c 'l=$(qc_leader_now 2>/dev/null); [ -n "$l" ] && [ "$l" != "$1" ]' - "$L" 2>/dev/null
qc_wait_leader 30
if [ -n "$QC_LEADER" ] && [ "$QC_LEADER" != "$L" ]; then
	t_ok "leader $L killed: member $QC_LEADER leads over IPv6"
else
	t_fail "a new leader after killing $L" "leader '$QC_LEADER'"
fi
W=1
[ "$W" = "$L" ] && W=2
wait_until 20 sh -c 'printf after >"$1/after" 2>/dev/null' - "$(qc_get QC_MNT "$W")"
t_eq "a write on n$W after the failover" "after" "$(cat "$(qc_get QC_MNT "$W")/after" 2>&1)"
survivors=""
for i in 1 2 3 4; do [ "$i" != "$L" ] && survivors="$survivors $i"; done
t_check "the survivors converge to one tree" qc_wait_converged 30 $survivors

# ZooKeeper 3.5's style: the client address only in the server's own line
# (no clientPort), here [::1]. The server serves there, not on 2181 and
# not on 127.0.0.1 (before, it took 2181 on every address).
cp=$(free_port)
printf 'tickTime=500\n4lw.commands.whitelist=*\nserver.1=[::1]:%s:%s:participant;[::1]:%s\n' \
	"$(free_port)" "$(free_port)" "$cp" >"$T/solo.cfg"
if qfs_start "$T/solo_m" "$T/solo_d" -o myid=1 "$T/solo.cfg"; then
	ruok_at() { [ "$(fourlw_at "$1" "$cp" ruok)" = imok ]; }
	t_check "no clientPort line: it serves on its line's [::1]:$cp" wait_until 10 ruok_at ::1
	not_v4() { ! ruok_at 127.0.0.1; }
	t_check "and not on 127.0.0.1:$cp" not_v4
	out=$(fourlw_at ::1 "$cp" conf)
	t_check "conf writes its line back in brackets" \
		sh -c 'echo "$1" | grep -q "^server\.1=\[::1\]:[0-9]*:[0-9]*:participant;\[::1\]:$2$"' - "$out" "$cp"
	out=$("$QFS_BUILDDIR/quorumctl" status -c "$T/solo.cfg" 2>&1)
	echo "$out" | sed 's/^/#   /'
	t_check "quorumctl status -c reads the IPv6 line and reaches [::1]:$cp" \
		sh -c 'echo "$1" | grep -q "^1 *\[::1\]:$2 *standalone"' - "$out" "$cp"
	out=$("$QFS_BUILDDIR/quorumctl" -s "[::1]:$cp" status 2>&1)
	t_check "quorumctl -s [::1]:$cp status reaches it" \
		sh -c 'echo "$1" | grep -q "^- *\[::1\]:$2 *standalone"' - "$out" "$cp"
else
	t_fail "a one-member server from a ZooKeeper 3.5-style line starts"
fi
