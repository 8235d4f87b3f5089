#!/bin/sh
# zkcli.sh - scripted sessions with ZooKeeper's own clients against
# quorumfs's client port: zkCli.sh (Java, Debian `zookeeper`) and the C
# client's cli_mt (Debian `zookeeper-bin`). Each step is checked: create,
# get, set, ls, delete, ephemeral and sequential creates, a watch firing,
# and what one client wrote is what the other reads.
. "${QFS_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib.sh"
. "$QFS_SRCDIR/tests/compat/zks_lib.sh"

ZKCLI=${ZKCLI:-/usr/share/zookeeper/bin/zkCli.sh}
CLIMT=${CLIMT:-/usr/lib/zookeeper/bin/cli_mt}
qfs_init
if ! zks_server_start; then
	t_fail "server starts" "quorumfs does not serve the client port"
	exit 0
fi
echo "# clients against $ZKS_KIND on 127.0.0.1:$ZKS_PORT"
HP="127.0.0.1:$ZKS_PORT"

# feed CMD... one every 0.4 s (the clients answer asynchronously), then quit
feed() {
	for c in "$@"; do
		echo "$c"
		sleep 0.4
	done
	echo quit
	sleep 0.5
}

has() { grep -qF -- "$1" "$2"; }

# --- zkCli.sh ---
if [ ! -x "$ZKCLI" ]; then
	t_skip "zkCli session" "no $ZKCLI (Debian package zookeeper)"
else
	feed "create /zc v1" "get /zc" "set /zc v2" "get -w /zc" "set /zc v3" \
		"create -e /zc/eph e" "create -s /zc/seq- s" "ls /zc" "stat /zc" \
		"delete /zc/seq-0000000001" "ls /zc" |
		timeout 60 "$ZKCLI" -server "$HP" >"$T/zkcli.out" 2>&1
	o="$T/zkcli.out"
	t_check "zkCli connects" has "type:None path:null" "$o"
	t_check "zkCli create" has "Created /zc" "$o"
	t_check "zkCli get" grep -qx "v1" "$o"
	t_check "zkCli set, get" grep -qx "v2" "$o"
	t_check "zkCli data watch fires" has "type:NodeDataChanged path:/zc" "$o"
	t_check "zkCli ephemeral create" has "Created /zc/eph" "$o"
	t_check "zkCli sequential create" has "Created /zc/seq-0000000001" "$o"
	t_check "zkCli ls" has "[eph, seq-0000000001]" "$o"
	t_check "zkCli stat" has "dataVersion = 2" "$o"
	t_check "zkCli delete" grep -qx "\[eph\]" "$o"
	# the session ended with quit: its ephemeral is gone, the rest stays
	timeout 60 "$ZKCLI" -server "$HP" ls /zc >"$T/zkcli2.out" 2>&1
	t_check "zkCli ephemeral gone with its session" grep -qx "\[\]" "$T/zkcli2.out"
	timeout 60 "$ZKCLI" -server "$HP" get /zc >"$T/zkcli3.out" 2>&1
	t_check "zkCli single command get" grep -qx "v3" "$T/zkcli3.out"
	[ -n "${QFS_VERBOSE:-}" ] && sed 's/^/#   /' "$o"
fi

# --- cli_mt (the C client) ---
if [ ! -x "$CLIMT" ]; then
	t_skip "cli_mt session" "no $CLIMT (Debian package zookeeper-bin)"
else
	feed "create /cm" "get /cm" "set /cm world" "get /cm" "ls /" "create +e /cm-eph" \
		"create +s /cm/seq-" "wexists /cm-x" "create /cm-x" "ls /cm" "delete /cm-x" \
		"exists /cm-x" "get /zc" |
		timeout 60 "$CLIMT" "$HP" >"$T/climt.out" 2>&1
	o="$T/climt.out"
	t_check "cli_mt connects" has "state = CONNECTED_STATE" "$o"
	t_check "cli_mt create" has "[/cm]: rc = 0" "$o"
	t_check "cli_mt get" grep -qx "new" "$o"
	t_check "cli_mt set, get" grep -qx "world" "$o"
	t_check "cli_mt ls" grep -qx "	cm" "$o"
	t_check "cli_mt ephemeral create" has "name = /cm-eph" "$o"
	t_check "cli_mt sequential create" has "name = /cm/seq-0000000000" "$o"
	t_check "cli_mt exists watch fires" has "CREATED_EVENT state = CONNECTED_STATE for path /cm-x" "$o"
	t_check "cli_mt ls child" grep -qx "	seq-0000000000" "$o"
	# delete answers rc = 0, the exists after it -101 (ZNONODE)
	t_check "cli_mt delete" sh -c "grep -A1 -x '/cm-x: rc = 0' '$o' | grep -qx 'Error -101 for /cm-x'"
	t_check "cli_mt reads what zkCli wrote" grep -qx "v3" "$o"
	[ -n "${QFS_VERBOSE:-}" ] && sed 's/^/#   /' "$o"
	if [ -x "$ZKCLI" ]; then
		timeout 60 "$ZKCLI" -server "$HP" ls / >"$T/zkcli4.out" 2>&1
		t_check "zkCli sees cli_mt's node, not its ephemeral" \
			sh -c "grep -q 'cm, ' '$T/zkcli4.out' && ! grep -q 'cm-eph' '$T/zkcli4.out'"
	fi
fi

# --- one tree, two doors: the mount and the protocol see each other ---
if [ "$ZKS_KIND" = quorumfs ] && [ -x "$CLIMT" ]; then
	t_check "mount shows what the clients made" test -d "$T/mnt/cm"
	t_eq "mount reads data set by cli_mt" "world" "$(cat "$T/mnt/cm/.data" 2>/dev/null)"
	{
		echo "wexists /fromfs"
		sleep 0.5
		echo "made in the mount" >"$T/mnt/fromfs"
		sleep 0.5
		echo "get /fromfs"
		sleep 0.4
		echo quit
		sleep 0.5
	} | timeout 60 "$CLIMT" "$HP" >"$T/climt2.out" 2>&1
	t_check "a write in the mount fires a protocol watch" \
		has "CREATED_EVENT state = CONNECTED_STATE for path /fromfs" "$T/climt2.out"
	t_check "the protocol reads what the mount wrote" grep -qx "made in the mount" "$T/climt2.out"
else
	t_skip "mount and protocol see each other" "needs the daemon and cli_mt"
fi
zks_server_stop_check
exit 0
