#!/bin/sh
# locks.sh - mkdir in an ephemeral directory is a cluster-wide try-lock
# (DESIGN.md section 2, issue 8): taken on member 2, EEXIST on the others;
# member 2 killed with -9, the lock disappears on every other member within
# the session timeout, with IN_DELETE|IN_ISDIR seen there by inotifywait.
. "${QFS_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/cluster/lib.sh"
qc_init 3
# Member 1 first, alone: its mount serves reads at once (its session open
# waits for a quorum; the mount served nothing for that minute before),
# and a write made then waits for the open and lands once the quorum forms.
qc_start 1
t_check "member 1 alone: its mount lists the tree within 10 s" timeout 10 ls "$QC_MNT_1"
(
	echo early >"$QC_MNT_1/early"
	echo "rc=$?" >"$T/early.rc"
) &
QFS_PIDS="$QFS_PIDS $!"
(
	mkdir "$QC_MNT_1/earlydir"
	echo "rc=$?" >"$T/earlydir.rc"
) &
QFS_PIDS="$QFS_PIDS $!"
if ! qc_start 2 || ! qc_start 3 || ! qc_wait_leader 30; then
	t_fail "3 participants elect a leader"
	exit 1
fi
t_check "the write made before the quorum lands (no EROFS)" wait_until 30 grep -qx "rc=0" "$T/early.rc"
t_check "and is read on member 3" wait_until 10 grep -qx early "$QC_MNT_3/early"
t_check "a mkdir made then lands too" wait_until 30 grep -qx "rc=0" "$T/earlydir.rc"
t_ok "3 participants elect a leader (member $QC_LEADER)"

mkdir "$QC_MNT_1/locks" && setfattr -n user.quorumfs.child_kind -v ephemeral "$QC_MNT_1/locks"
timeout 10 sync "$QC_MNT_3/locks" 2>/dev/null
t_check "the lock directory's child_kind is seen on member 3" wait_until 10 sh -c \
	"[ \"\$(getfattr --absolute-names --only-values -n user.quorumfs.child_kind '$QC_MNT_3/locks' 2>/dev/null)\" = ephemeral ]"
wait_until 10 test -d "$QC_MNT_2/locks"
t_check "member 2 takes the lock (mkdir)" mkdir "$QC_MNT_2/locks/deploy"
for i in 1 3; do
	m=$(qc_get QC_MNT $i)
	timeout 10 sync "$m/locks" 2>/dev/null
	err=$(mkdir "$m/locks/deploy" 2>&1)
	case "$err" in
	*"File exists"*) t_ok "member $i: mkdir of the held lock fails with EEXIST" ;;
	*) t_fail "member $i: mkdir of the held lock fails with EEXIST" "got [$err]" ;;
	esac
done
t_eq "the lock is ephemeral on member 3" ephemeral \
	"$(getfattr --absolute-names --only-values -n user.quorumfs.kind "$QC_MNT_3/locks/deploy" 2>&1)"
owner=$(getfattr --absolute-names --only-values -n user.quorumfs.owner "$QC_MNT_3/locks/deploy" 2>&1)
echo "# owner seen on member 3: $owner"
t_check "user.quorumfs.owner on member 3 names the holder" test -n "$owner"

for i in 1 3; do
	: >"$T/w$i.err"
	inotifywait -m -e create,delete,delete_self --format '%e %f' "$(qc_get QC_MNT $i)/locks" \
		>"$T/w$i" 2>"$T/w$i.err" &
	eval "WP_$i=$!"
	QFS_PIDS="$QFS_PIDS $!"
	wait_until 10 grep -q "Watches established" "$T/w$i.err"
done

WAS_LEADER=no
[ "$QC_LEADER" = 2 ] && WAS_LEADER=yes
t0=$(date +%s%N)
qc_kill9 2
gone13() { test ! -e "$QC_MNT_1/locks/deploy" && test ! -e "$QC_MNT_3/locks/deploy"; }
# Bound: the session timeout plus a tick of slack; when member 2 led, a new
# leader gives every session a full timeout, so the election adds its time.
bound=$((QC_SESSION_MS + 1000))
[ $WAS_LEADER = yes ] && bound=$((bound + 10 * QC_TICK * 5))
if wait_until $((bound / 1000 + 10)) gone13; then
	ms=$((($(date +%s%N) - t0) / 1000000))
	echo "# lock gone on members 1 and 3 $ms ms after kill -9 of member 2 (was leader: $WAS_LEADER; session timeout $QC_SESSION_MS ms)"
	if [ $ms -le $bound ]; then
		t_ok "the lock is gone on members 1 and 3 within the session timeout ($ms ms <= $bound ms)"
	else
		t_fail "the lock is gone on members 1 and 3 within the session timeout" "$ms ms > $bound ms"
	fi
else
	t_fail "the lock is gone on members 1 and 3 after kill -9 of its holder"
fi
for i in 1 3; do
	wait_until 5 grep -q "deploy" "$T/w$i"
	sleep 0.3
	kill "$(qc_get WP $i)" 2>/dev/null
	t_eq "member $i: inotifywait saw exactly IN_DELETE|IN_ISDIR deploy" "DELETE,ISDIR deploy" \
		"$(grep deploy "$T/w$i" | uniq | tr '\n' ' ' | sed 's/ $//')"
done
t_check "member 3 takes the lock now" mkdir "$QC_MNT_3/locks/deploy"
timeout 10 sync "$QC_MNT_1/locks" 2>/dev/null
err=$(mkdir "$QC_MNT_1/locks/deploy" 2>&1)
case "$err" in
*"File exists"*) t_ok "member 1: EEXIST again" ;;
*) t_fail "member 1: EEXIST again" "got [$err]" ;;
esac
rmdir "$QC_MNT_3/locks/deploy"
t_check "released by rmdir on member 3, taken on member 1" wait_until 10 mkdir "$QC_MNT_1/locks/deploy"

# sync after a change of leader, with nothing written since: the new
# leader's only commit is its epoch entry, and a sync's read index names
# it. sync in a mount must answer then, not wait for the next write (it
# waited until the dead leader's sessions expired; after a transfer on an
# idle ensemble, for good). The dead leader's lock tells which: it must
# still be held when the sync returns.
rmdir "$QC_MNT_1/locks/deploy"
t_check "member 2 restarts" qc_start 2
qc_wait_leader 30
L=$QC_LEADER
ML=$(qc_get QC_MNT "$L")
O=""
for i in 1 2 3; do [ $i != "$L" ] && { O=$i; break; }; done
MO=$(qc_get QC_MNT "$O")
t_check "the leader (member $L) takes a lock" mkdir "$ML/locks/lead"
t_check "member $O sees it" wait_until 10 test -d "$MO/locks/lead"
qc_kill9 "$L"
t_check "a new leader without member $L" qc_wait_leader 30
t_check "then sync in member $O's mount answers" timeout 20 sync "$MO/locks"
t_check "before the dead leader's session expired (its lock still held)" test -d "$MO/locks/lead"
