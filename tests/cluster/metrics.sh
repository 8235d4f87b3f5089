#!/bin/sh
# metrics.sh - Prometheus metrics as ZooKeeper's PrometheusMetricsProvider
# serves them (metricsProvider.className, httpHost, httpPort): the endpoint
# of a standalone server and of each member of an ensemble, its figures
# agreeing with mntr's, what else it refuses, and configuration errors.
. "${QFS_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/cluster/lib.sh"
PROM=org.apache.zookeeper.metrics.prometheus.PrometheusMetricsProvider

http() { qc_http "$@"; }
# metric FILE NAME: the value of an unlabelled sample.
metric() { awk -v k="$2" '$1 == k { print $2 }' "$1"; }
mntr_of() { # PORT KEY
	fourlw_at 127.0.0.1 "$1" mntr | awk -F '\t' -v k="$2" '$1 == k { print $2 }'
}

qc_init 3

# --- A standalone server.
PORT=$(free_port)
MP=$(free_port)
if ! qfs_start "$T/s/mnt" "$T/s/data" -o "clientPort=$PORT,4lw.commands.whitelist=*" \
	-o "metricsProvider.className=$PROM,metricsProvider.httpPort=$MP" \
	-o "metricsProvider.httpHost=127.0.0.1"; then
	t_fail "a standalone server starts with metrics on"
	exit 0
fi
SPID=$QFS_PID
mkdir "$T/s/mnt/app" && echo v1 >"$T/s/mnt/app/conf" && echo v2 >"$T/s/mnt/app/conf"
http "$MP" /metrics >"$T/out1"
sed -n '1,12s/^/# metrics: /p' "$T/out1"
t_check "GET /metrics answers 200 in Prometheus's text format" \
	grep -qx "200 text/plain; version=0.0.4; charset=utf-8" "$T/out1"
t_check "server_info names the version and the state" \
	grep -q '^server_info{version="3.8.0-quorumfs-[^"]*",state="standalone"} 1$' "$T/out1"
t_check "counters are typed as counters" grep -qx "# TYPE txns_applied counter" "$T/out1"
t_check "gauges are typed as gauges" grep -qx "# TYPE znode_count gauge" "$T/out1"
# Nothing writes between the two reads, so they must agree exactly.
want_nodes=$(mntr_of "$PORT" zk_znode_count)
want_zxid=$(printf '%d' "$(mntr_of "$PORT" zk_last_zxid)")
t_check "znode_count is mntr's ($want_nodes)" [ "$(metric "$T/out1" znode_count)" = "$want_nodes" ]
t_check "last_zxid is mntr's, as a number ($want_zxid)" \
	[ "$(metric "$T/out1" last_zxid)" = "$want_zxid" ]
t_check "txns_applied counts the three writes" [ "$(metric "$T/out1" txns_applied)" -ge 3 ]
# A ZooKeeper client's packets show up.
"$QC_PY" - "$PORT" <<'PY' >"$T/kz.out" 2>&1
import sys
from kazoo.client import KazooClient
zk = KazooClient(hosts="127.0.0.1:" + sys.argv[1])
zk.start(timeout=10)
for i in range(5):
    zk.get("/app/conf")
for i in range(3):
    zk.set("/app/conf", b"v%d" % i)
zk.stop()
PY
http "$MP" /metrics >"$T/out2"
t_check "packets_received counts a client's requests" \
	[ "$(metric "$T/out2" packets_received)" -ge 5 ]
# Latency summaries, as ZooKeeper's readlatency and updatelatency.
t_check "readlatency is a summary" grep -qx "# TYPE readlatency summary" "$T/out2"
t_check "readlatency_count counts the five reads" [ "$(metric "$T/out2" readlatency_count)" -ge 5 ]
# Three sets and the closeSession: a transaction, as in ZooKeeper.
t_check "updatelatency_count counts the three writes and the close (4)" \
	[ "$(metric "$T/out2" updatelatency_count)" = 4 ]
q() { sed -n "s/^$2{quantile=\"$3\"} \([0-9.]*\)\$/\1/p" "$1"; }
u5=$(q "$T/out2" updatelatency 0.5) u9=$(q "$T/out2" updatelatency 0.9)
u99=$(q "$T/out2" updatelatency 0.99)
echo "# updatelatency quantiles (ms): 0.5 $u5, 0.9 $u9, 0.99 $u99"
t_check "updatelatency has its 0.5, 0.9 and 0.99 quantiles, in order, and above 0" \
	awk -v a="$u5" -v b="$u9" -v c="$u99" \
	'BEGIN { exit !(a != "" && b != "" && c != "" && a > 0 && a <= b && b <= c) }'
t_check "mntr counts the same writes (zk_cnt_updatelatency)" \
	[ "$(mntr_of "$PORT" zk_cnt_updatelatency)" = 4 ]
t_check "mntr gives the percentiles (zk_p99_updatelatency)" \
	[ -n "$(mntr_of "$PORT" zk_p99_updatelatency)" ]
fourlw_at 127.0.0.1 "$PORT" srst >/dev/null
t_check "srst resets them" [ "$(mntr_of "$PORT" zk_cnt_updatelatency)" = 0 ]
t_check "HEAD /metrics answers" grep -q "^200 " "$(http "$MP" /metrics HEAD >"$T/h"; echo "$T/h")"
t_check "another path is 404" grep -q "^404 " "$(http "$MP" /nope >"$T/n"; echo "$T/n")"
t_check "POST is refused" sh -c "! grep -q '^200 ' '$(http "$MP" /metrics POST >"$T/p"; echo "$T/p")'"
# Hostile input: an oversized header, a garbage request line, a silent
# client. Each is refused or dropped, and the endpoint still answers.
"$QC_PY" - "$MP" <<'PY' >"$T/hostile" 2>&1
import socket, sys
port = int(sys.argv[1])
def talk(data):
    s = socket.create_connection(("127.0.0.1", port), timeout=15)
    s.sendall(data)
    try:
        r = s.recv(100)
    except OSError as e:
        r = repr(e).encode()
    s.close()
    return r.split(b"\r\n")[0].decode(errors="replace")
print("big header:", talk(b"GET /metrics HTTP/1.1\r\nX: " + b"a" * 100000 + b"\r\n\r\n"))
print("garbage:", talk(b"\x00\xff\x16\x03 nonsense\r\n\r\n"))
PY
sed 's/^/# /' "$T/hostile"
t_check "an oversized header is refused" grep -q "^big header: HTTP/1.1 4" "$T/hostile"
t_check "a garbage request line is refused" grep -q "^garbage: HTTP/1.1 4" "$T/hostile"
t_check "the endpoint answers after hostile input" \
	grep -q "^200 " "$(http "$MP" /metrics >"$T/after"; echo "$T/after")"
t_check "... and the daemon is still up" kill -0 "$SPID"

# --- The same port taken: a second server says which key and why.
"$QUORUMFS" -f -o "dataDir=$T/s2/data,clientPort=$(free_port)" \
	-o "metricsProvider.className=$PROM,metricsProvider.httpPort=$MP" \
	-o "metricsProvider.httpHost=127.0.0.1" "$T/s2/mnt" >"$T/s2.log" 2>&1 &
S2=$!
mkdir -p "$T/s2/mnt"
wait_until 20 sh -c "! kill -0 $S2" || kill -9 $S2
wait $S2
rc=$?
sed 's/^/# second server: /' "$T/s2.log" | tail -3
t_check "a taken metrics port stops the daemon (exit $rc)" [ "$rc" -ne 0 ]
t_check "... with a message naming metricsProvider.httpPort and the cause" \
	grep -q "metricsProvider.httpPort: cannot serve metrics on 127.0.0.1:$MP: Address already in use" "$T/s2.log"
qfs_stop "$SPID" "$T/s/mnt"

# --- Configuration: a class quorumfs cannot serve is an error naming it;
# ZooKeeper's default provider serves nothing, as in ZooKeeper.
"$QUORUMFS" -f -o "dataDir=$T/s3/data,clientPort=0" \
	-o "metricsProvider.className=com.example.MyProvider" "$T/s3/mnt" >"$T/s3.log" 2>&1
rc=$?
sed 's/^/# unknown class: /' "$T/s3.log" | tail -2
t_check "an unknown metrics provider class is refused (exit $rc)" [ "$rc" -ne 0 ]
t_check "... naming the key and the class" \
	grep -q "metricsProvider.className=com.example.MyProvider" "$T/s3.log"
MP4=$(free_port)
if qfs_start "$T/s4/mnt" "$T/s4/data" -o "clientPort=$(free_port)" \
	-o "metricsProvider.className=org.apache.zookeeper.metrics.impl.DefaultMetricsProvider" \
	-o "metricsProvider.httpPort=$MP4"; then
	t_check "the default provider serves no endpoint" \
		sh -c "! $QC_PY -c 'import socket; socket.create_connection((\"127.0.0.1\", $MP4), timeout=2)' 2>/dev/null"
	qfs_stop "$QFS_PID" "$T/s4/mnt"
else
	t_fail "a server starts with the default metrics provider"
fi

# --- No client port (a host that only mounts): the endpoint is still there.
MP5=$(free_port)
if qfs_start "$T/s5/mnt" "$T/s5/data" -o "clientPort=0" \
	-o "metricsProvider.className=$PROM,metricsProvider.httpPort=$MP5" \
	-o "metricsProvider.httpHost=127.0.0.1"; then
	http "$MP5" /metrics >"$T/out5a"
	mkdir "$T/s5/mnt/a" && echo x >"$T/s5/mnt/a/f"
	http "$MP5" /metrics >"$T/out5"
	t_check "clientPort=0: GET /metrics answers 200" grep -q "^200 " "$T/out5"
	n0=$(metric "$T/out5a" znode_count) n1=$(metric "$T/out5" znode_count)
	t_check "clientPort=0: znode_count counts the mount's /a and /a/f ($n0 -> $n1)" \
		[ "${n0:-none}" != none -a "$n1" = "$((${n0:-0} + 2))" ]
	t_check "clientPort=0: still no client port" grep -q "no client port (clientPort=0)" "$T/s5/data.log"
	qfs_stop "$QFS_PID" "$T/s5/mnt"
	t_check "clientPort=0: the daemon stops cleanly" sh -c "! kill -0 $QFS_PID 2>/dev/null"
else
	t_fail "a server without a client port starts with metrics on"
fi

# --- An ensemble: each member serves its own figures and role.
i=1
while [ $i -le 3 ]; do
	eval "MP_$i=$(free_port)"
	i=$((i + 1))
done
i=1
while [ $i -le 3 ]; do
	qc_spawn $i -o "metricsProvider.className=$PROM,metricsProvider.httpPort=$(qc_get MP $i)"
	i=$((i + 1))
done
if ! { qc_wait_up 1 && qc_wait_up 2 && qc_wait_up 3 && qc_wait_leader 30; }; then
	t_fail "the ensemble comes up with metrics on"
	exit 0
fi
L=$QC_LEADER
F=$((L % 3 + 1))
synced() { http "$(qc_get MP "$L")" /metrics | awk '$1 == "synced_followers" { print $2 }' | grep -qx 2; }
t_check "the leader's synced_followers reaches 2" wait_until 20 synced
http "$(qc_get MP "$L")" /metrics >"$T/outl"
http "$(qc_get MP "$F")" /metrics >"$T/outf"
t_check "the leader says state=\"leader\"" grep -q 'state="leader"} 1$' "$T/outl"
t_check "a follower says state=\"follower\"" grep -q 'state="follower"} 1$' "$T/outf"
t_check "quorum_size is 3 on a follower" [ "$(metric "$T/outf" quorum_size)" = 3 ]
t_check "leader_id names the leader on a follower" [ "$(metric "$T/outf" leader_id)" = "$L" ]
t_check "only the leader has synced_followers" sh -c "! grep -q '^synced_followers ' '$T/outf'"
