#!/bin/sh
# restore_ensemble.sh - one backup restored into every member of a new
# 3-member ensemble (each member its own restored copy): the members elect
# a leader, each serves exactly the file's tree over the protocol, and a new
# write made through one member reaches the others with a zxid above the
# file's.
set -u
. "${QFS_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib.sh"
. "$QFS_SRCDIR/tests/adm/adm_lib.sh"
qfs_init
# The backup: the newest snapshot of a standalone daemon.
P=$(free_port)
qfs_start "$T/mnt" "$T/data" -o "clientPort=$P,clientPortAddress=127.0.0.1,snapCount=5" || {
	t_fail "daemon starts"
	exit 0
}
mkdir -p "$T/mnt/app/conf"
for i in 1 2 3 4 5 6 7 8 9 10 11 12; do echo "value $i" >"$T/mnt/app/conf/k$i"; done
qfs_stop "$QFS_PID" "$T/mnt"
snap=$(ls "$T/data"/snapshot.*.db | sort | tail -1)
cp "$snap" "$T/backup.db"
$ZK_TREE sqlite "$T/backup.db" >"$T/file.dump"
fz=$(sqlite3 "$T/backup.db" "select value from meta where key='zxid'")

head -c 32 /dev/urandom | base64 >"$T/secret"
CFG=$T/zoo.cfg
{
	echo "tickTime=100"
	echo "initLimit=10"
	echo "syncLimit=5"
	echo "clusterName=restored"
	echo "clusterSecretFile=$T/secret"
	for i in 1 2 3; do echo "server.$i=127.0.0.1:$(free_port):$(free_port)"; done
} >"$CFG"
for i in 1 2 3; do
	"$QUORUMADM" restore "$T/backup.db" --data-dir "$T/d$i" --name restored >/dev/null 2>"$T/r$i.err" ||
		t_fail "restore for member $i" "$(cat "$T/r$i.err")"
done
for i in 1 2 3; do
	mkdir -p "$T/m$i"
	eval "CP$i=$(free_port)"
	eval "cp=\$CP$i"
	"$QUORUMFS" -f -d -o "dataDir=$T/d$i,myid=$i,clientPort=$cp,clientPortAddress=127.0.0.1" \
		"$CFG" "$T/m$i" >>"$T/d$i.log" 2>&1 &
	QFS_PIDS="$QFS_PIDS $!"
	QFS_MOUNTS="$QFS_MOUNTS $T/m$i"
done
for i in 1 2 3; do
	if ! wait_until 30 is_mounted "$T/m$i"; then
		t_fail "member $i starts on its restored directory" "$(tail -5 "$T/d$i.log")"
		exit 0
	fi
done
t_ok "3 members start on restored directories"
t_check "a write through member 1 (the ensemble has a leader)" \
	wait_until 30 sh -c "echo new >'$T/m1/after'"
for i in 1 2 3; do
	eval "cp=\$CP$i"
	wait_until 20 sh -c "$ZK_TREE dump $cp >'$T/s$i.dump' 2>/dev/null && grep -q '^/after ' '$T/s$i.dump'"
	# Every node as in the file; "/" changed only by the new child, and
	# /zookeeper/config now holding the ensemble's member list (its
	# leader writes it; the file came from a standalone server).
	grep -v '^/after \|^/ \|^/zookeeper/config ' "$T/s$i.dump" >"$T/s$i.old"
	grep -v '^/ \|^/zookeeper/config ' "$T/file.dump" >"$T/file.old"
	t_check "member $i: /zookeeper/config lists the ensemble" \
		grep -q "^/zookeeper/config $(printf 'server.1=' | od -An -tx1 | tr -d ' \n')" "$T/s$i.dump"
	root_f=$(sed -n 's/^\/ .* numChildren=\([0-9]*\) .*/\1/p' "$T/file.dump")
	root_s=$(sed -n 's/^\/ .* numChildren=\([0-9]*\) .*/\1/p' "$T/s$i.dump")
	if cmp -s "$T/file.old" "$T/s$i.old" && [ "$root_s" = $((root_f + 1)) ]; then
		t_ok "member $i serves exactly the file's tree (and the new write)"
	else
		t_fail "member $i serves exactly the file's tree (and the new write)"
		diff "$T/file.old" "$T/s$i.old" | head -6 | sed 's/^/# /'
	fi
done
cz=$(sed -n 's/^\/after .* czxid=\([0-9]*\) .*/\1/p' "$T/s3.dump")
t_check "the new write's zxid ($cz) is above the file's ($fz)" test "${cz:-0}" -gt "$fz"
exit 0
