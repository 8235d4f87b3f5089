#!/bin/sh
# stall.sh - one huge request must not stall the others (issue 7, item 4).
#
# A client sends setWatches with 90,000 paths that do not exist (each fires
# NodeDeleted at once) and another a setWatches2 with 90,000 exist watches,
# while a third does getData/setData in a loop and the mount holds an
# ephemeral lock with a 2 s session timeout. Before the fix the setWatches
# took about 20 s (quadratic), every round trip waited for it and sessions
# expired; now it is worked in slices between which the loop serves others.
. "${QFS_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib.sh"
qfs_init

PORT=$(free_port)
if ! qfs_start "$T/mnt" "$T/data" \
	-o "clientPort=$PORT,tickTime=200,mountSessionTimeout=2000"; then
	t_fail "daemon starts"
	exit 0
fi
mkdir "$T/mnt/locks" &&
	setfattr -n user.quorumfs.child_kind -v ephemeral "$T/mnt/locks" &&
	mkdir "$T/mnt/locks/held"
owner=$(getfattr --only-values -n user.quorumfs.ephemeral_owner "$T/mnt/locks/held" 2>/dev/null)
t_check "the mount holds an ephemeral lock" test -n "$owner"

timeout 120 python3 "$QFS_SRCDIR/tests/compat/zks_stall.py" "$PORT" 90000 >"$T/stall.out" 2>&1
rc=$?
sed 's/^/# /' "$T/stall.out"
val() { awk -v k="$1" '$1 == k { print $2 }' "$T/stall.out"; }
t_eq "setWatches and setWatches2 answered, nothing closed" 0 "$rc"
t_eq "setWatches fired every missed NodeDeleted before its reply" 90000 "$(val events)"
t_eq "setWatches answered OK" 0 "$(val setwatches_err)"
t_eq "setWatches2 answered OK" 0 "$(val setwatches2_err)"
rtt=$(val max_rtt_ms)
if [ -n "$rtt" ] && [ "$rtt" -lt 1000 ]; then
	t_ok "another client's round trips stay under 1 s meanwhile (max ${rtt} ms)"
else
	t_fail "another client's round trips stay under 1 s meanwhile" "max ${rtt:-?} ms"
fi
now=$(getfattr --only-values -n user.quorumfs.ephemeral_owner "$T/mnt/locks/held" 2>/dev/null)
t_eq "the mount's ephemeral survived with its session" "$owner" "$now"
if grep -q "session.*expired" "$T/data.log"; then
	t_fail "no session expired" "$(grep -m3 'session.*expired' "$T/data.log")"
else
	t_ok "no session expired"
fi
qfs_stop "$QFS_PID" "$T/mnt" || t_fail "daemon stops cleanly"
