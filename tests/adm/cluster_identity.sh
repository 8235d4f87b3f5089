#!/bin/sh
# cluster_identity.sh - the daemon checks the cluster identity that
# quorumadm restore writes (dataDir/CLUSTER): data restored for cluster
# "other" is refused by a server configured for another clusterName (the
# default "quorumfs" included), with a message naming both clusters, and
# served by one configured for "other"; a damaged CLUSTER file is refused
# too; a dataDir the daemon made itself (no CLUSTER) starts as before.
set -u
. "${QFS_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib.sh"
. "$QFS_SRCDIR/tests/adm/adm_lib.sh"
qfs_init
P=$(free_port)
qfs_start "$T/mnt" "$T/data" -o "clientPort=$P,clientPortAddress=127.0.0.1,snapCount=5" || {
	t_fail "daemon starts"
	exit 0
}
mkdir -p "$T/mnt/app"
echo v >"$T/mnt/app/k"
for i in 1 2 3 4 5 6 7 8 9 10; do echo "$i" >"$T/mnt/app/f$i"; done
"$QUORUMCTL" -s "127.0.0.1:$P" backup "$T/b.db" >/dev/null
t_eq "a backup of it" 0 "$?"
qfs_stop "$QFS_PID" "$T/mnt"
t_check "a dataDir without CLUSTER (the daemon's own) has none" test ! -e "$T/data/CLUSTER"
"$QUORUMADM" restore "$T/b.db" --data-dir "$T/other" --name other >/dev/null 2>&1
t_eq "restored for cluster other" 0 "$?"
cp "$T/other/CLUSTER" "$T/cluster.orig"

# refuses START_ARGS...: the daemon exits non-zero without mounting.
refuses() {
	mkdir -p "$T/m"
	"$QUORUMFS" -f "$@" "$T/m" >"$T/refused.log" 2>&1 &
	rp=$!
	QFS_PIDS="$QFS_PIDS $rp"
	wait_until 20 sh -c "! kill -0 $rp"
	wait "$rp"
	rc=$?
	fusermount3 -u -z "$T/m" 2>/dev/null
	[ "$rc" -ne 0 ]
}
P=$(free_port)
t_check "a server with the default clusterName refuses it" \
	refuses -o "dataDir=$T/other,clientPort=$P,clientPortAddress=127.0.0.1"
sed 's/^/# /' "$T/refused.log" | grep -i cluster | head -3
t_check "naming both clusters and what to do" \
	grep -q 'belongs to cluster "other" (id [0-9a-f-]*, from restore .*b.db), but this server is configured for cluster "quorumfs" (clusterName).*Set clusterName=other' "$T/refused.log"
t_check "and its identity is untouched" cmp -s "$T/cluster.orig" "$T/other/CLUSTER"
P=$(free_port)
t_check "a server configured for another name (prod) refuses it too" \
	refuses -o "dataDir=$T/other,clientPort=$P,clientPortAddress=127.0.0.1,clusterName=prod"
P=$(free_port)
if qfs_start "$T/mnt2" "$T/other" -o "clientPort=$P,clientPortAddress=127.0.0.1,clusterName=other"; then
	t_ok "a server configured for cluster other serves it"
	t_eq "with its data" "v" "$(cat "$T/mnt2/app/k")"
	qfs_stop "$QFS_PID" "$T/mnt2"
else
	t_fail "a server configured for cluster other serves it"
fi
printf 'garbage\n' >"$T/other/CLUSTER"
P=$(free_port)
t_check "a damaged CLUSTER file is refused" \
	refuses -o "dataDir=$T/other,clientPort=$P,clientPortAddress=127.0.0.1,clusterName=other"
t_check "naming the file" grep -q "$T/other/CLUSTER: not a cluster identity file" "$T/refused.log"
P=$(free_port)
if qfs_start "$T/mnt3" "$T/data" -o "clientPort=$P,clientPortAddress=127.0.0.1,clusterName=prod"; then
	t_ok "a dataDir without CLUSTER starts under any clusterName"
	qfs_stop "$QFS_PID" "$T/mnt3"
else
	t_fail "a dataDir without CLUSTER starts under any clusterName"
fi
exit 0
