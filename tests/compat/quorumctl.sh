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
	printf '%s\n' 'set /qc "a value  with spaces"' "create /qc/m3 'it''s'" \
		'create /qc/m4 ""' 'create /qc/m5 a\ b\"c' >"$T/multi3"
	t_check "$L multi with quoted values" $Q multi "$T/multi3"
	t_eq "$L multi: a value with spaces" "a value  with spaces" "$($Q get /qc)"
	t_eq "$L multi: quotes joined" "its" "$($Q get /qc/m3)"
	t_eq "$L multi: an empty value" "" "$($Q get /qc/m4)"
	t_eq "$L multi: escapes" 'a b"c' "$($Q get /qc/m5)"
	for n in m3 m4 m5; do $Q delete /qc/$n; done
	printf 'set /qc "unterminated\n' >"$T/multi4"
	$Q multi "$T/multi4" 2>"$T/err"
	t_eq "$L multi: an unterminated quote is a usage error" 2 $?
	t_check "$L multi: ... and says so" grep -q "unterminated quote" "$T/err"

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

# --help, --version, -V (quorumctl and quorumfs); -s syntax.
for prog in "$QUORUMCTL" "$QUORUMFS"; do
	n=$(basename "$prog")
	"$prog" --help >"$T/out" 2>&1
	t_eq "$n --help: exit 0" 0 $?
	t_check "$n --help prints the usage" grep -q "^usage: $n" "$T/out"
	t_check "$n --help names --version" grep -q -- "--version" "$T/out"
	t_eq "$n --version" "$n $(sed -n 's/^AC_INIT(\[quorumfs\], \[\([^]]*\)\].*/\1/p' "$QFS_SRCDIR/configure.ac")" \
		"$("$prog" --version 2>&1)"
	t_eq "$n -V" "$("$prog" --version 2>&1)" "$("$prog" -V 2>&1)"
	"$prog" --no-such-option >/dev/null 2>&1
	t_eq "$n --no-such-option: usage error, exit 2" 2 $?
done
"$QUORUMCTL" -s 127.0.0.1:abc ls / 2>"$T/err"
t_eq "-s with a bad port: usage error, exit 2" 2 $?
"$QUORUMCTL" -s , ls / 2>"$T/err"
t_eq "-s with an empty entry: usage error, exit 2" 2 $?
for l in "127.0.0.1:2181," ",127.0.0.1:2181" "127.0.0.1:2181,,127.0.0.1:2181"; do
	"$QUORUMCTL" -s "$l" ls / >/dev/null 2>"$T/err"
	t_eq "-s '$l' (an empty entry at the end, start or middle): usage error, exit 2" 2 $?
	t_check "  naming the list" grep -qF "an empty entry in '$l'" "$T/err"
done
"$QUORUMCTL" -s 127.0.0.1 ls / >/dev/null 2>"$T/err"
rc=$?
# A host alone means port 2181 (ZooKeeper's default): whatever listens there,
# quorumctl tried 127.0.0.1:2181 and, if nothing does, says so once.
if [ $rc = 3 ]; then
	t_eq "-s HOST means HOST:2181, named once" "quorumctl: 127.0.0.1:2181: Connection refused" "$(cat "$T/err")"
else
	t_check "-s HOST means HOST:2181 (a server answers there)" test $rc -le 1
fi

if zk_start "$T/zk"; then
	checks zookeeper "$ZK_PORT"
	zk_stop
elif [ ! -f "$ZK_JAR" ] || ! command -v java >/dev/null; then
	t_skip "quorumctl against ZooKeeper" "$ZK_WHY"
else
	# Installed but not serving: a broken setup, not a reason to skip.
	t_fail "quorumctl against ZooKeeper: the server starts" "$ZK_WHY"
fi

# quorumfs not starting is a failure, never a skip: it is what is tested.
if qfs_zk_start "$T/qfs"; then
	checks quorumfs "$QFS_ZK_PORT"
else
	t_fail "quorumctl against quorumfs: the daemon starts and serves clientPort" "$QFS_ZK_WHY"
	sed 's/^/#   /' "$T/qfs/data.log" 2>/dev/null | tail -20
fi
exit 0
