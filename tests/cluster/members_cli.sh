#!/bin/sh
# members_cli.sh - the membership commands people use (issue 10):
# `quorumctl members list|demote|promote|remove|add` on 3 participants + 1
# observer, and Apache ZooKeeper's zkCli.sh unchanged (Debian package
# zookeeper): `config` prints /zookeeper/config, `reconfig -remove` and
# `reconfig -add` as the superuser (addauth digest) change the ensemble.
. "${QFS_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/cluster/lib.sh"
. "$QFS_SRCDIR/tests/cluster/members_lib.sh"
QUORUMCTL="$QFS_BUILDDIR/quorumctl"
ZKCLI=${ZKCLI:-/usr/share/zookeeper/bin/zkCli.sh}
has() { echo "$2" | grep -q -- "$1"; }
ctl() { mb_ctl "$@"; }

mb_init 3 1 || exit 1
qc_start_all || { t_fail "4 members start"; exit 1; }
qc_wait_leader 30 || { t_fail "a leader"; exit 1; }
t_ok "3 participants + 1 observer, leader $QC_LEADER"

listed() { [ "$(ctl members list | grep -c "^[0-9]")" -eq "$1" ]; }
wait_until 10 listed 4
out=$(ctl members list)
echo "$out" | sed 's/^/#   /'
t_check "members list: 4 members, 4 an observer, version 0" \
	sh -c 'echo "$1" | grep -q "^4 *observer" && echo "$1" | grep -q "^version 0"' - "$out"

out=$(ctl members promote 4)
if has "^4 *participant" "$out" && qc_wait_mode 4 follower 20; then
	t_ok "members promote 4: it follows"
else
	t_fail "members promote 4" "$out / mode $(qc_mode 4)"
fi
out=$(ctl members demote 4)
if has "^4 *observer" "$out" && qc_wait_mode 4 observer 20; then
	t_ok "members demote 4: it observes"
else
	t_fail "members demote 4" "$out / mode $(qc_mode 4)"
fi
out=$("$QUORUMCTL" -s "$QC_HOSTS" members remove 4 2>&1)
t_check "members remove without the superuser: refused" has NOAUTH "$out"
mb_observer_rejoin 4
# Server 255 would give its sessions' ephemeral nodes an owner whose top
# byte marks a TTL node: refused, as zoo.cfg refuses it.
out=$(ctl members add "server.255=127.0.0.1:1:2:observer")
echo "$out" | sed 's/^/#   server.255: /' | head -3
t_check "members add server.255: refused (BADARGUMENTS), nothing added" \
	sh -c 'echo "$1" | grep -q BADARGUMENTS && ! echo "$2" | grep -q "^255 "' - "$out" "$(ctl members list)"

if [ ! -x "$ZKCLI" ]; then
	t_skip "zkCli config and reconfig" "no $ZKCLI (Debian package zookeeper)"
	exit 0
fi
qc_wait_leader 20
L="$(qc_get QC_ADDR "$QC_LEADER"):$(qc_get QC_CPORT "$QC_LEADER")"
timeout 60 "$ZKCLI" -server "$L" config >"$T/zkcli1.out" 2>&1
t_check "zkCli config prints the servers and the version" \
	sh -c 'grep -q "^server.4=.*:observer;" "$1" && grep -q "^version=" "$1"' - "$T/zkcli1.out"
printf 'addauth digest %s\nreconfig -remove 4\nquit\n' "$MB_PW" |
	timeout 90 "$ZKCLI" -server "$L" >"$T/zkcli2.out" 2>&1
if grep -q "Committed new configuration" "$T/zkcli2.out" && ! grep -q "^server.4=" "$T/zkcli2.out" &&
	qc_wait_mode 4 removed 20; then
	t_ok "zkCli reconfig -remove 4"
else
	t_fail "zkCli reconfig -remove 4" "$(grep -v '^[0-9-]* [0-9:,]* \[' "$T/zkcli2.out" | tail -5)"
fi
printf 'addauth digest %s\nreconfig -add server.4=%s\nquit\n' "$MB_PW" "$(mb_spec 4 observer)" |
	timeout 90 "$ZKCLI" -server "$L" >"$T/zkcli3.out" 2>&1
if grep -q "Committed new configuration" "$T/zkcli3.out" && grep -q "^server.4=" "$T/zkcli3.out" &&
	qc_wait_mode 4 observer 20; then
	t_ok "zkCli reconfig -add server.4"
else
	t_fail "zkCli reconfig -add server.4" "$(grep -v '^[0-9-]* [0-9:,]* \[' "$T/zkcli3.out" | tail -5)"
fi
