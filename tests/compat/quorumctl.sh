#!/bin/sh
# quorumctl.sh - quorumctl end to end against Apache ZooKeeper (Debian's
# package, started here on a free loopback port) and against quorumfs when
# its daemon serves clientPort. The same checks run against each server.
set -u
. "${QFS_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib.sh"
. "$QFS_SRCDIR/tests/compat/quorumctl_zk.sh"
qfs_init

# checks LABEL PORT
checks() {
	L=$1
	Q="$QUORUMCTL -s 127.0.0.1:$2"
	t_eq "$L create prints the path" /qc "$($Q create /qc hello)"
	t_eq "$L get" hello "$($Q get /qc)"
	t_check "$L set with the right version" $Q set --version 0 /qc v2
	$Q set --version 0 /qc v3 2>"$T/err"
	t_eq "$L set with a stale version fails with exit 1" 1 $?
	t_eq "$L stale version names BADVERSION" "quorumctl: /qc: BADVERSION" "$(cat "$T/err")"
	t_eq "$L data after the failed set" v2 "$($Q get /qc)"
	t_eq "$L stat dataVersion" "dataVersion    = 1" "$($Q stat /qc | grep dataVersion)"
	$Q get /qc/none 2>"$T/err"
	t_eq "$L missing node: exit 1" 1 $?
	t_eq "$L missing node names NONODE" "quorumctl: /qc/none: NONODE" "$(cat "$T/err")"
	s=$($Q create -s /qc/seq- x)
	t_eq "$L sequential name" /qc/seq-0000000000 "$s"
	t_check "$L ephemeral create" $Q create -e /qc/eph
	t_check "$L ephemeral gone with its session" sh -c "! $Q stat /qc/eph >/dev/null 2>&1"
	t_check "$L container create" $Q create -c /qc/cont
	t_check "$L ttl create" $Q create --ttl 60000 /qc/ttl
	t_eq "$L ls sorted" "cont seq-0000000000 ttl" "$($Q ls /qc | tr '\n' ' ' | sed 's/ $//')"
	t_eq "$L getacl" world:anyone:cdrwa "$($Q getacl /qc)"
	t_check "$L setacl" $Q setacl /qc world:anyone:cdrwa,ip:127.0.0.1:r
	t_eq "$L getacl after setacl" world:anyone:cdrwa,ip:127.0.0.1:r "$($Q getacl /qc)"
	t_check "$L setacl with a bad permission is refused" sh -c "! $Q setacl /qc world:anyone:xyz 2>/dev/null"

	printf 'create /qc/m1 one\n# a comment\n\nset /qc v3 1\ncheck /qc 2\ndelete /qc/m1\n' >"$T/multi"
	t_check "$L multi" $Q multi "$T/multi"
	t_eq "$L multi applied" v3 "$($Q get /qc)"
	printf 'create /qc/m2\ncheck /qc 99\n' >"$T/multi2"
	$Q multi "$T/multi2" >"$T/out" 2>&1
	t_eq "$L failed multi: exit 1" 1 $?
	t_check "$L failed multi names BADVERSION" grep -q "BADVERSION check /qc" "$T/out"
	t_check "$L failed multi rolled back" sh -c "! $Q stat /qc/m2 >/dev/null 2>&1"

	$Q watch -n 3 -r /qc >"$T/events" 2>"$T/watch.err" &
	w=$!
	wait_until 10 grep -q watching "$T/watch.err"
	$Q set /qc w1 && $Q create /qc/new && $Q delete /qc/new
	i=0
	while kill -0 $w 2>/dev/null && [ $i -lt 100 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	kill $w 2>/dev/null
	t_eq "$L watch events" "NodeDataChanged /qc|NodeCreated /qc/new|NodeDeleted /qc/new" \
		"$(tr '\n' '|' <"$T/events" | sed 's/|$//')"

	$Q delete --version 5 /qc/cont 2>/dev/null
	t_eq "$L delete with a wrong version: exit 1" 1 $?
	$Q delete /qc 2>"$T/err"
	t_eq "$L delete of a parent names NOTEMPTY" "quorumctl: /qc: NOTEMPTY" "$(cat "$T/err")"
	for n in cont seq-0000000000 ttl; do $Q delete /qc/$n; done
	t_check "$L delete" $Q delete /qc
	t_check "$L status shows the mode" sh -c "$Q status | grep -q 'mode '"
	$Q nosuchcommand 2>/dev/null
	t_eq "$L usage error: exit 2" 2 $?
}

if [ ! -x "$QUORUMCTL" ]; then
	t_fail quorumctl "not built at $QUORUMCTL"
	exit 0
fi
"$QUORUMCTL" -s 127.0.0.1:1 get / 2>/dev/null
t_eq "no server: exit 3" 3 $?

if zk_start "$T/zk"; then
	checks zookeeper "$ZK_PORT"
	zk_stop
else
	t_skip "quorumctl against ZooKeeper" "$ZK_WHY"
fi

if qfs_zk_start "$T/qfs"; then
	checks quorumfs "$QFS_ZK_PORT"
else
	t_skip "quorumctl against quorumfs" "$QFS_ZK_WHY"
fi
exit 0
