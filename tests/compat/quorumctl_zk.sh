# quorumctl_zk.sh - start and stop a standalone Apache ZooKeeper (Debian's
# `zookeeper` package) for the wire-protocol tests and benchmarks (sourced,
# POSIX sh, after tests/lib.sh and qfs_init).
#
# zk_start DIR: a fresh server with its own zoo.cfg and dataDir under DIR, on a
# free 127.0.0.1 port; sets ZK_PORT and ZK_PID (also added to QFS_PIDS so the
# EXIT trap stops it). Returns 1 (with the reason in ZK_WHY) when ZooKeeper is
# not installed or does not come up.
ZK_JAR=/usr/share/java/zookeeper.jar

# zk_ruok PORT: the server answers requests. ZooKeeper says "imok" to ruok
# while it is still loading, so ask srvr, which names the mode only once the
# server is serving.
zk_ruok() {
	timeout 3 python3 -c 'import socket,sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), 2)
s.sendall(b"srvr")
out = b""
while True:
    d = s.recv(4096)
    if not d:
        break
    out += d
sys.exit(0 if b"Mode: " in out else 1)' "$1" 2>/dev/null
}

zk_start() {
	zk_dir=$1
	ZK_WHY=""
	if [ ! -f "$ZK_JAR" ] || ! command -v java >/dev/null; then
		ZK_WHY="Apache ZooKeeper (Debian package zookeeper) or java not installed"
		return 1
	fi
	mkdir -p "$zk_dir/data" "$zk_dir/conf"
	ZK_PORT=$(free_port)
	cat >"$zk_dir/conf/zoo.cfg" <<CFG
tickTime=2000
dataDir=$zk_dir/data
clientPort=$ZK_PORT
clientPortAddress=127.0.0.1
maxClientCnxns=0
admin.enableServer=false
4lw.commands.whitelist=*
CFG
	cp /etc/zookeeper/conf/log4j.properties "$zk_dir/conf/" 2>/dev/null
	java -Xmx512m -cp "$zk_dir/conf:$ZK_JAR:/usr/share/java/*" \
		-Dzookeeper.log.dir="$zk_dir" -Dzookeeper.root.logger=WARN,CONSOLE \
		-Dzookeeper.extendedTypesEnabled=true \
		org.apache.zookeeper.server.ZooKeeperServerMain "$zk_dir/conf/zoo.cfg" \
		>"$zk_dir/zk.log" 2>&1 &
	ZK_PID=$!
	QFS_PIDS="$QFS_PIDS $ZK_PID"
	if ! wait_until 60 zk_ruok "$ZK_PORT"; then
		ZK_WHY="ZooKeeper was not serving on port $ZK_PORT within 60 s (srvr)"
		sed 's/^/#   /' "$zk_dir/zk.log" | tail -20
		return 1
	fi
}

# zk_stop: stop the server started by zk_start (by its pid), bounded.
zk_stop() {
	[ -n "${ZK_PID:-}" ] || return 0
	kill -TERM "$ZK_PID" 2>/dev/null
	i=0
	while kill -0 "$ZK_PID" 2>/dev/null && [ $i -lt 100 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	kill -KILL "$ZK_PID" 2>/dev/null
	wait "$ZK_PID" 2>/dev/null
	ZK_PID=""
}

# qfs_zk_start DIR: quorumfs standalone serving clientPort, for the same
# tests; sets QFS_ZK_PORT. Returns 1 with QFS_ZK_WHY when the daemon is not
# built or does not answer ruok on the client port.
qfs_zk_start() {
	QFS_ZK_WHY=""
	if [ ! -x "$QUORUMFS" ]; then
		QFS_ZK_WHY="quorumfs not built at $QUORUMFS"
		return 1
	fi
	QFS_ZK_PORT=$(free_port)
	if ! qfs_start "$1/mnt" "$1/data" -o "clientPort=$QFS_ZK_PORT" >/dev/null 2>&1; then
		QFS_ZK_WHY="quorumfs did not start (see $1/data.log)"
		return 1
	fi
	if ! wait_until 10 zk_ruok "$QFS_ZK_PORT"; then
		QFS_ZK_WHY="quorumfs is not serving on clientPort $QFS_ZK_PORT (srvr)"
		return 1
	fi
}
