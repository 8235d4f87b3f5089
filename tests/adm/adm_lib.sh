# adm_lib.sh - helpers for the quorumadm tests (sourced after lib.sh).
#
# zk_start_dir DIR [EXTRA_CFG_LINE...]: Apache ZooKeeper standalone on a
# free port with dataDir DIR/data and a small snapCount (so a run leaves
# several snapshots and logs); sets ZK_PORT and ZK_PID (added to QFS_PIDS).
# Returns 1 with ZK_WHY when ZooKeeper is missing or does not serve.
. "$QFS_SRCDIR/tests/compat/quorumctl_zk.sh"
QUORUMADM="$QFS_BUILDDIR/quorumadm"
ZK_TREE="/usr/bin/python3 $QFS_SRCDIR/tests/adm/zk_tree.py"

zk_start_dir() {
	zk_dir=$1
	shift
	ZK_WHY=""
	if [ ! -f "$ZK_JAR" ] || ! command -v java >/dev/null; then
		ZK_WHY="Apache ZooKeeper (Debian package zookeeper) or java not installed"
		return 1
	fi
	mkdir -p "$zk_dir/data" "$zk_dir/conf"
	ZK_PORT=$(free_port)
	{
		echo "tickTime=2000"
		echo "dataDir=$zk_dir/data"
		echo "clientPort=$ZK_PORT"
		echo "clientPortAddress=127.0.0.1"
		echo "maxClientCnxns=0"
		echo "admin.enableServer=false"
		echo "4lw.commands.whitelist=*"
		echo "snapCount=40"
		echo "autopurge.snapRetainCount=20"
		for l in "$@"; do echo "$l"; done
	} >"$zk_dir/conf/zoo.cfg"
	cp /etc/zookeeper/conf/log4j.properties "$zk_dir/conf/" 2>/dev/null
	java -Xmx512m -cp "$zk_dir/conf:$ZK_JAR:/usr/share/java/*" \
		-Dzookeeper.log.dir="$zk_dir" -Dzookeeper.root.logger=WARN,CONSOLE \
		-Dzookeeper.extendedTypesEnabled=true \
		org.apache.zookeeper.server.ZooKeeperServerMain "$zk_dir/conf/zoo.cfg" \
		>>"$zk_dir/zk.log" 2>&1 &
	ZK_PID=$!
	QFS_PIDS="$QFS_PIDS $ZK_PID"
	if ! wait_until 60 zk_ruok "$ZK_PORT"; then
		ZK_WHY="ZooKeeper was not serving on port $ZK_PORT within 60 s (srvr)"
		sed 's/^/#   /' "$zk_dir/zk.log" | tail -20
		return 1
	fi
}

# zk_make_tree DIR: start ZooKeeper on DIR, build the tree (zk_tree.py make),
# dump it to DIR/zk.dump, and stop the server while the maker's session is
# still open, so its ephemerals and session are in the data directory.
zk_make_tree() {
	zk_start_dir "$1" || return 1
	touch "$1/hold"
	$ZK_TREE make "$ZK_PORT" "$1/hold" >"$1/make.out" 2>&1 &
	mk_pid=$!
	QFS_PIDS="$QFS_PIDS $mk_pid"
	wait_until 60 test -f "$1/hold.ready" || { ZK_WHY="tree maker failed: $(tail -3 "$1/make.out")"; return 1; }
	$ZK_TREE dump "$ZK_PORT" >"$1/zk.dump" || { ZK_WHY="dump failed"; return 1; }
	zk_stop
	rm -f "$1/hold"
	wait "$mk_pid" 2>/dev/null
	return 0
}
