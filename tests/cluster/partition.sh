#!/bin/sh
# partition.sh - a minority cut off (issue 8, "Partitions"): 3 participants,
# each in its own network namespace (QC_NET=netns, see lib.sh). A follower
# cut off keeps serving reads from its replica, refuses writes (EROFS in the
# mount, an error on the wire), expires its own mount session's ephemerals in
# its view, while the majority goes on; then the leader is cut off: the other
# two elect a new leader, the old one refuses writes. No split brain: no
# write is ever accepted on the minority side. After healing every member
# converges to the majority's tree.
. "${QFS_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/cluster/lib.sh"
if [ "$(id -u)" != 0 ] || ! command -v nsenter >/dev/null; then
	t_fail "partition tests" "need root and nsenter for network namespaces"
	exit 0
fi
QC_NET=netns
qc_init 3 || { t_fail "network namespaces for 3 members"; exit 1; }
if ! qc_start_all || ! qc_wait_leader 30; then
	t_fail "3 participants, each in its own network namespace, elect a leader"
	exit 1
fi
t_ok "3 participants, each in its own network namespace, elect a leader (member $QC_LEADER)"
L=$QC_LEADER
F=""
for i in 1 2 3; do [ $i != "$L" ] && { F=$i; break; }; done
G=""
for i in 1 2 3; do [ $i != "$L" ] && [ $i != "$F" ] && G=$i; done
ML=$(qc_get QC_MNT "$L")
MF=$(qc_get QC_MNT "$F")
MG=$(qc_get QC_MNT "$G")

mkdir "$ML/p" && echo before >"$ML/p/conf"
mkdir "$ML/eph" && setfattr -n user.quorumfs.child_kind -v ephemeral "$ML/eph"
wait_until 10 test -d "$MF/eph"
mkdir "$MF/eph/held-by-$F" || t_fail "member $F takes an ephemeral lock"
t_check "everyone has the value and member $F's lock before the cut" wait_until 10 \
	sh -c "[ \"\$(cat '$MF/p/conf' 2>/dev/null)\" = before ] && [ -d '$ML/eph/held-by-$F' ] && [ -d '$MG/eph/held-by-$F' ]"

inotifywait -m -e delete "$MF/eph" >"$T/eph.events" 2>"$T/eph.err" &
IW=$!
QFS_PIDS="$QFS_PIDS $IW"
wait_until 10 grep -q "Watches established" "$T/eph.err"

# --- cut a follower off ---
qc_cut "$F"
T0=$(date +%s%N)
refuses() { # MOUNT: a write there fails with EROFS
	err=$(sh -c "echo x >'$1/p/minority-$(date +%s%N)'" 2>&1)
	case "$err" in *"Read-only file system"*) return 0 ;; esac
	return 1
}
t_check "the cut follower's mount refuses writes with EROFS (within 30 s)" wait_until 30 refuses "$MF"
echo "# member $F refused writes with EROFS $((($(date +%s%N) - T0) / 1000000)) ms after the cut; mode now: $(qc_mode "$F")"
is_ro() { [ "$(qc_mode "$1")" = read-only ] && [ "$(qc_mntr "$1" zk_server_state)" = read-only ]; }
t_check "the cut follower reports itself read-only (srvr Mode:, mntr zk_server_state), not follower" \
	wait_until 10 is_ro "$F"
t_eq "the cut follower still serves reads from its replica" before "$(cat "$MF/p/conf" 2>&1)"
out=$(qc_zkpy "
c = KazooClient(hosts=os.environ['QC_ADDR_$F'], read_only=True, timeout=10)
c.start(timeout=20)
d = c.get('/p/conf')[0].decode().strip()
try:
    c.create('/p/from-minority', b'x')
    w = 'accepted'
except KazooException as e:
    w = 'refused'
c.stop()
print(d, w)
" 2>&1 | tail -1)
t_eq "a read-only ZooKeeper session on the cut follower reads, and its write is refused" "before refused" "$out"
qc_put "$ML/p/conf" during || t_fail "the majority writes while the follower is cut off"
t_check "the majority's write is seen on the other majority member" wait_until 10 \
	sh -c "[ \"\$(cat '$MG/p/conf')\" = during ]"
t_eq "the cut follower does not see it (no quorum, no new data)" before "$(cat "$MF/p/conf" 2>&1)"
t_check "the cut follower's mount-session lock expires on the majority within the session timeout + 5 s" \
	wait_until $((QC_SESSION_MS / 1000 + 5)) sh -c "[ ! -e '$ML/eph/held-by-$F' ] && [ ! -e '$MG/eph/held-by-$F' ]"
t_check "and in the cut follower's own view" \
	wait_until $((QC_SESSION_MS / 1000 + 5)) test ! -e "$MF/eph/held-by-$F"
t_check "where inotify sees it deleted (IN_DELETE)" \
	wait_until 5 grep -q "DELETE,ISDIR held-by-$F" "$T/eph.events"
kill "$IW" 2>/dev/null
t_check "the majority can take that lock now" mkdir "$MG/eph/held-by-$F"
rmdir "$MG/eph/held-by-$F"

# --- heal: the follower catches up ---
qc_heal "$F"
t_check "after healing, the follower reads the majority's value" wait_until 30 \
	sh -c "timeout 5 sync '$MF/p/conf' 2>/dev/null; [ \"\$(cat '$MF/p/conf')\" = during ]"
t_check "and takes writes again" wait_until 30 qc_put "$MF/p/conf" healed
t_eq "and says follower again" follower "$(qc_mode "$F")"
t_check "no write made on the minority side exists anywhere" sh -c \
	"! ls '$ML/p' | grep -q minority && ! ls '$MF/p' | grep -q minority && ! test -e '$ML/p/from-minority'"
t_check "all three converge" qc_wait_converged 30

# --- cut the leader off ---
qc_wait_leader 30
L=$QC_LEADER
ML=$(qc_get QC_MNT "$L")
all_healed() {
	for i in 1 2 3; do
		[ "$(cat "$(qc_get QC_MNT $i)/p/conf")" = healed ] || return 1
	done
}
t_check "before the leader is cut, every member reads the last value through its mount" wait_until 10 all_healed
qc_cut "$L"
T0=$(date +%s%N)
newleader() {
	for i in 1 2 3; do
		[ $i = "$L" ] && continue
		[ "$(qc_mode $i)" = leader ] && { NL=$i; return 0; }
	done
	return 1
}
if wait_until 30 newleader; then
	t_ok "cut the leader (member $L) off: the other two elect member $NL ($((($(date +%s%N) - T0) / 1000000)) ms)"
else
	t_fail "cut the leader (member $L) off: the other two elect a new leader"
fi
t_check "the old leader's mount refuses writes with EROFS" wait_until 30 refuses "$ML"
t_check "the old leader no longer says leader, but read-only" wait_until 30 is_ro "$L"
echo "# modes: $(for i in 1 2 3; do printf '%s=%s ' $i "$(qc_mode $i)"; done)"
MN=$(qc_get QC_MNT "${NL:-$G}")
t_check "the new majority takes writes" qc_put "$MN/p/conf" majority2
t_eq "the old leader still serves reads, the old value" healed "$(cat "$ML/p/conf" 2>&1)"
qc_heal "$L"
t_check "healed: the old leader reads the new majority's value" wait_until 30 \
	sh -c "timeout 5 sync '$ML/p/conf' 2>/dev/null; [ \"\$(cat '$ML/p/conf')\" = majority2 ]"
qc_wait_leader 30
t_check "one leader, the others follow" qc_leader_now
t_check "no minority write anywhere" sh -c "! ls '$MN/p' | grep -q minority"
t_check "all three converge after healing" qc_wait_converged 30
