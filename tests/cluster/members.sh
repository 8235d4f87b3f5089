#!/bin/sh
# members.sh - membership changes on a running ensemble (issue 10), through
# ZooKeeper's reconfig (kazoo) as the superuser, with a writer running all
# along: a 4th member joins a 3-member ensemble (started with a zoo.cfg
# naming the 4, as a ZooKeeper joiner is), catches up and votes; an
# observer is demoted/promoted; a member is removed and says so; every
# acknowledged write is on every remaining member; /zookeeper/config shows
# each configuration (ZooKeeper's text, version=) on every member, a watch
# on it fires, and dataDir/zoo.cfg.dynamic follows it.
. "${QFS_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/cluster/lib.sh"
. "$QFS_SRCDIR/tests/cluster/members_lib.sh"

mb_init 3 0 1 || exit 1
QC_STARTED=""
for i in 1 2 3; do
	mb_start_with "$MB_CFG0" $i || { t_fail "member $i starts"; exit 1; }
done
qc_wait_leader 30 || { t_fail "a leader among 1..3"; exit 1; }
t_ok "3 members, leader $QC_LEADER"

# The static configuration is in /zookeeper/config from the first leader on.
has_lines() { [ "$(mb_config "$1" | grep -c '^server\.')" -eq "$2" ]; }
if wait_until 10 has_lines 1 3 && mb_config 1 | grep -q '^version=0$'; then
	t_ok "/zookeeper/config shows the 3 servers, version=0"
else
	t_fail "/zookeeper/config shows the 3 servers" "$(mb_config 1)"
fi

# Without the superuser: ZNOAUTH (NoAuthError).
out=$(MB_AT=$QC_LEADER qc_zkpy "
c = zk($QC_LEADER)
try:
    c.reconfig(joining=None, leaving='3', new_members=None)
    print('changed')
except KazooException as e:
    print(type(e).__name__)
c.stop()")
t_eq "reconfig without auth" "NoAuthError" "$out"

# A watch on /zookeeper/config fires on the change.
MB_AT=1 qc_zkpy "
import threading
c = zk(1)
ev = threading.Event()
c.get('/zookeeper/config', watch=lambda e: ev.set())
open('$T/watch.ready', 'w').write('1')
sys.exit(0 if ev.wait(60) else 1)
" &
watcher=$!
wait_until 20 test -f "$T/watch.ready"

mb_writer_start "$QC_HOSTS"
wait_until 10 test -s "$T/acked"

# Join: member 4 starts with the full zoo.cfg, then the leader adds it.
mb_start_with "$MB_FULL" 4 || t_fail "member 4 starts"
t0=$(date +%s%N)
out=$(mb_reconfig "joining=server.4=$(mb_spec 4)")
t1=$(date +%s%N)
echo "# reconfig -add 4 took $(((t1 - t0) / 1000000)) ms; answered:"
echo "$out" | sed 's/^/#   /'
if echo "$out" | grep -q '^server\.4=' && echo "$out" | grep -q '^version='; then
	t_ok "reconfig adds server.4: the reply is the new config"
else
	t_fail "reconfig adds server.4" "$out"
fi
if wait "$watcher"; then t_ok "a watch on /zookeeper/config fired"; else t_fail "a watch on /zookeeper/config fired"; fi
ver=$(echo "$out" | sed -n 's/^version=//p')
if qc_wait_mode 4 follower 30; then
	t_ok "member 4 follows (it votes)"
else
	t_fail "member 4 follows" "mode $(qc_mode 4)"
fi
for i in 1 2 3 4; do
	same_ver() { mb_config "$1" | grep -q "^version=$ver\$"; }
	wait_until 20 same_ver $i || t_fail "member $i serves version $ver" "$(mb_config $i)"
done
t_ok "every member serves configuration $ver"
if grep -q "^version=$ver" "$(qc_get QC_DATA 4)/zoo.cfg.dynamic" &&
	grep -q "^server\.4=" "$(qc_get QC_DATA 1)/zoo.cfg.dynamic"; then
	t_ok "dataDir/zoo.cfg.dynamic holds it"
else
	t_fail "dataDir/zoo.cfg.dynamic holds it" "$(cat "$(qc_get QC_DATA 1)/zoo.cfg.dynamic")"
fi

# A stale fromConfig: ZBADVERSION.
out=$(mb_reconfig "leaving=4" "from_config=1")
t_eq "reconfig with a stale fromConfig" "ERROR BadVersionError" "$out"

# Demote 4 to an observer, then promote it back.
out=$(mb_reconfig "joining=server.4=$(mb_spec 4 observer)")
if echo "$out" | grep -q '^server\.4=.*:observer' && qc_wait_mode 4 observer 20; then
	t_ok "member 4 demoted to observer"
else
	t_fail "member 4 demoted to observer" "$out / mode $(qc_mode 4)"
fi
out=$(mb_reconfig "joining=server.4=$(mb_spec 4 participant)")
if echo "$out" | grep -q '^server\.4=.*:participant' && qc_wait_mode 4 follower 20; then
	t_ok "member 4 promoted back to participant"
else
	t_fail "member 4 promoted back" "$out / mode $(qc_mode 4)"
fi

# Remove a follower (not the leader): it says so, the others go on.
qc_wait_leader 20
gone=""
for i in 1 2 3 4; do [ "$i" != "$QC_LEADER" ] && gone=$i && break; done
out=$(mb_reconfig "leaving=$gone")
if echo "$out" | grep -q "^server\.$gone=" || [ -z "$out" ] || echo "$out" | grep -q ERROR; then
	t_fail "reconfig removes server.$gone" "$out"
else
	t_ok "reconfig removes server.$gone"
fi
if qc_wait_mode "$gone" removed 20 &&
	wait_until 20 grep -q "was removed from the ensemble" "$(qc_get QC_DATA "$gone").log"; then
	t_ok "member $gone says it was removed (srvr Mode: removed, log)"
else
	t_fail "member $gone says it was removed" "mode $(qc_mode "$gone")"
fi

sleep 1
mb_writer_stop
echo "# writer: $MB_WRITES writes, longest $MB_STALL ms, $MB_RETRIED retried after connection loss, $MB_FAILED failed"
t_eq "no write failed" 0 "$MB_FAILED"
for i in 1 2 3 4; do
	[ "$i" = "$gone" ] && continue
	if wait_until 20 mb_check_acked $i; then :; else t_fail "member $i has every acknowledged write" "$ca_missing missing"; fi
done
t_ok "every acknowledged write is on every member ($(wc -l <"$T/acked"))"
# A new member is "removed" for a moment while it starts from a snapshot
# older than its joining: it must not say it was removed.
if grep -q "was removed from the ensemble" "$(qc_get QC_DATA 4).log"; then
	t_fail "the new member never says it was removed"
else
	t_ok "the new member never says it was removed"
fi

# The configuration survives restarts: stop every remaining member, start
# them again with their original zoo.cfg (zoo.cfg.dynamic replaces its
# server lines); the same configuration is in force and served, member 4
# still votes and the removed member is not counted.
ver=$(mb_config "$QC_LEADER" | sed -n 's/^version=//p')
left=""
for i in 1 2 3 4; do [ "$i" != "$gone" ] && left="$left $i"; done
for i in $left; do qc_stop "$i"; done
QC_STARTED=""
for i in $left; do
	if [ "$i" = 4 ]; then c=$MB_FULL; else c=$MB_CFG0; fi
	mb_start_with "$c" "$i" || t_fail "member $i restarts"
done
if qc_wait_leader 30; then
	t_ok "the 3 remaining members elect a leader after a full restart"
else
	t_fail "a leader after the restart"
fi
for i in $left; do
	same_ver() { mb_config "$1" | grep -q "^version=$ver\$"; }
	wait_until 20 same_ver "$i" || t_fail "member $i serves version $ver after the restart" "$(mb_config "$i")"
	grep -q "members from .*zoo.cfg.dynamic" "$(qc_get QC_DATA "$i").log" ||
		t_fail "member $i took its server lines from zoo.cfg.dynamic"
done
t_ok "configuration $ver survives the restart on every member"
if grep -q "differs from configuration" "$(qc_get QC_DATA 1).log" "$(qc_get QC_DATA 4).log"; then
	t_fail "zoo.cfg.dynamic and the log agree at restart" "$(grep -h "differs from" "$(qc_get QC_DATA 1).log")"
else
	t_ok "zoo.cfg.dynamic and the log agree at restart"
fi
MB_AT=$QC_LEADER qc_zkpy "
c = zk($QC_LEADER)
c.create('/after-restart', b'1')
c.stop()" && t_ok "writes go on after the restart" || t_fail "writes go on after the restart"
