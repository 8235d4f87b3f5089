#!/bin/sh
# recover.sh - quorumadm recover --force-new-ensemble: a 3-member ensemble
# with a membership change in its log loses two members for good (killed,
# data directories destroyed); the
# survivor's directory is turned into the first member of a new ensemble
# from its committed data (refused while its daemon runs, and without the
# flag), two fresh members
# with empty directories join it, and every write acknowledged before the
# loss is served by all three; new writes work.
set -u
. "${QFS_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib.sh"
. "$QFS_SRCDIR/tests/adm/adm_lib.sh"
qfs_init
head -c 32 /dev/urandom | base64 >"$T/secret"
CFG=$T/zoo.cfg
{
	echo "tickTime=100"
	echo "initLimit=10"
	echo "syncLimit=5"
	echo "clusterName=prod"
	echo "clusterSecretFile=$T/secret"
	echo "reconfigEnabled=true"
	echo "superDigest=$(/usr/bin/python3 -c 'import hashlib,base64; print("super:" + base64.b64encode(hashlib.sha1(b"super:rec").digest()).decode())')"
	for i in 1 2 3; do echo "server.$i=127.0.0.1:$(free_port):$(free_port)"; done
} >"$CFG"
# start_member I: the member's daemon on $T/dI, mounted on $T/mI.
start_member() {
	mkdir -p "$T/m$1"
	eval "cp=\$CP$1"
	"$QUORUMFS" -f -d -o "dataDir=$T/d$1,myid=$1,clientPort=$cp,clientPortAddress=127.0.0.1" \
		"$CFG" "$T/m$1" >>"$T/d$1.log" 2>&1 &
	eval "PID$1=$!"
	QFS_PIDS="$QFS_PIDS $!"
	QFS_MOUNTS="$QFS_MOUNTS $T/m$1"
}
for i in 1 2 3; do
	eval "CP$i=$(free_port)"
	start_member $i
done
for i in 1 2 3; do
	wait_until 30 is_mounted "$T/m$i" || {
		t_fail "member $i starts" "$(tail -5 "$T/d$i.log")"
		exit 0
	}
done
t_check "the ensemble takes writes" wait_until 30 sh -c "mkdir -p '$T/m1/w'"
# A write refused (EROFS while a busy machine makes the ensemble elect
# again) is tried again; each ends acknowledged.
i=0
ok=1
while [ $i -lt 50 ]; do
	wait_until 30 sh -c "echo 'value $i' >'$T/m1/w/k$i'" 2>/dev/null || ok=0
	i=$((i + 1))
	# A membership change among the writes: its log entry (not a tree
	# transaction) is replayed by recover like any other (it once stopped
	# recover and export-zk with "does not apply (MARSHALLINGERROR)").
	if [ $i -eq 25 ]; then
		QUORUMCTL_AUTH=digest:super:rec "$QUORUMCTL" -s "127.0.0.1:$CP1" members add \
			"server.4=127.0.0.1:$(free_port):$(free_port):observer" >"$T/add.out" 2>&1
		t_eq "a membership change (an observer added) among the writes" 0 "$?"
		sed 's/^/# /' "$T/add.out"
	fi
done
t_eq "50 writes acknowledged through member 1" 1 "$ok"
$ZK_TREE dump "$CP1" | grep '^/w' >"$T/before.dump"
t_eq "member 1 has them" 51 "$(wc -l <"$T/before.dump")"

# Two members lost for good.
for i in 2 3; do
	eval "qfs_kill9 \$PID$i '$T/m$i'"
	rm -rf "$T/d$i"
done
t_check "without a quorum member 1 refuses writes" sh -c "! (echo x >'$T/m1/w/nope') 2>/dev/null"
"$QUORUMADM" recover --force-new-ensemble --data-dir "$T/d1" >/dev/null 2>"$T/err"
t_eq "recover is refused while the daemon runs" 1 "$?"
t_check "saying so" grep -q "in use by a running quorumfs" "$T/err"
qfs_stop "$PID1" "$T/m1" || qfs_kill9 "$PID1" "$T/m1"
"$QUORUMADM" recover --data-dir "$T/d1" >/dev/null 2>"$T/err"
t_eq "recover without --force-new-ensemble is refused (usage)" 2 "$?"
"$QUORUMADM" recover --force-new-ensemble --data-dir "$T/d1" >/dev/null 2>"$T/err"
t_eq "a directory without CLUSTER needs --name (usage)" 2 "$?"
t_check "saying so" grep -q "give --name with the ensemble's clusterName" "$T/err"
t_check "and leaving it as it was" test ! -e "$T/d1/CLUSTER"
"$QUORUMADM" recover --force-new-ensemble --data-dir "$T/d1" --name prod >"$T/out" 2>"$T/err"
t_eq "recover --force-new-ensemble exits 0" 0 "$?"
sed 's/^/# /' "$T/err" "$T/out"
t_check "it says loudly what it did" grep -q "FORCED RECOVERY" "$T/err"
t_check "the old data is kept aside" sh -c "ls -d '$T'/d1.replaced-* >/dev/null"
t_check "the cluster keeps its name" grep -q "^name prod" "$T/d1/CLUSTER"

# The empty members first, the survivor last (the order a busy machine
# may give anyway): the empty two are a majority, but they must not elect
# an empty leader between them; they wait for every voter, and say so.
for i in 1 2 3; do mv "$T/d$i.log" "$T/d$i.log.before"; done
for i in 2 3; do start_member $i; done
for i in 2 3; do
	wait_until 30 is_mounted "$T/m$i" || t_fail "member $i starts again" "$(tail -5 "$T/d$i.log")"
done
LED='replica: (leader|follower), epoch [0-9]+, leader [1-9]'
for i in 2 3; do
	wait_until 30 sh -c "grep -q 'member 1 has not been heard' '$T/d$i.log' ||
		grep -Eq '$LED' '$T/d$i.log'"
	t_check "empty member $i waits for member 1 and says so" \
		grep -q "member 1 has not been heard" "$T/d$i.log"
	t_check "empty member $i elected no leader without it" \
		sh -c "! grep -Eq '$LED' '$T/d$i.log'"
done
start_member 1
wait_until 30 is_mounted "$T/m1" || t_fail "member 1 starts again" "$(tail -5 "$T/d1.log")"
t_check "the new ensemble takes writes" wait_until 30 sh -c "echo after >'$T/m2/after' 2>/dev/null"
for i in 1 2 3; do
	eval "cp=\$CP$i"
	wait_until 30 sh -c "$ZK_TREE dump $cp >'$T/s$i.dump' 2>/dev/null && grep -q '^/after ' '$T/s$i.dump'"
	grep '^/w' "$T/s$i.dump" >"$T/s$i.w"
	# (/w/nope, refused for want of a quorum, lies past the commit
	# watermark: dropped, so /w is as it was too.)
	if cmp -s "$T/before.dump" "$T/s$i.w"; then
		t_ok "member $i serves every acknowledged write"
	else
		t_fail "member $i serves every acknowledged write"
		diff "$T/before.dump" "$T/s$i.w" | head -5 | sed 's/^/# /'
	fi
done
exit 0
