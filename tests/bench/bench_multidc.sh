#!/bin/sh
# bench_multidc.sh - latency of an ensemble spread over three datacenters,
# with 0, 10 and 50 ms of one-way inter-datacenter delay (the transport's
# test hook, consensus/transport_fault.c; a round trip is twice that).
#
# Layout: one participant in each of datacenters 1, 2, 3 (group.1=1,
# group.2=2, group.3=3: the hierarchical quorum, 2 of 3 datacenters) and an
# observer, member 4, in a fourth site with the same delay to all three.
# Every member runs on 127.0.0.1 with fsync on. For each delay:
#   - write latency (setData, one session, one request at a time, zkload -c1
#     -p1) from a client at the leader's datacenter and from a client at the
#     observer (forwarded to the leader);
#   - write throughput at the leader with 8 sessions x 8 outstanding;
#   - read latency (getData, 1x1) at the observer: served locally;
#   - a write through the observer's mount (open, write, close: committed on
#     close) and a read of it through the same mount.
# Prints one "# DELAY ..." line a measurement and a table at the end.
#
# BENCH_SECS (default 4 per run), BENCH_DELAYS (default "0 10 50"),
# BENCH_TICK (tickTime, default 2000 as ZooKeeper's sample zoo.cfg),
# BENCH_ONLY=qfs|zk.
#
# Then Apache ZooKeeper (Debian's zookeeper package) in the same layout
# (3 participants, majority = 2 of 3 datacenters as the groups of one
# member each, and an observer): it has no delay hook, so every directed
# link between its servers goes through a small delaying TCP proxy
# (python asyncio, below) with the same one-way delay.
set -u
. "${QFS_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/cluster/lib.sh"
secs=${BENCH_SECS:-4}
DELAYS=${BENCH_DELAYS:-"0 10 50"}
ZKLOAD="$QFS_BUILDDIR/tests/bench/zkload"
if [ ! -x "$ZKLOAD" ]; then
	echo "bench_multidc: $ZKLOAD not built (make tests/bench/zkload)"
	exit 1
fi
QC_TICK=${BENCH_TICK:-2000}
qc_init 3 1
qc_dc_init "1" "2" "3" "4"
qc_dc_groups
echo "# groups: $(grep '^group\.' "$QC_CFG" | tr '\n' ' ')observer: member 4"

# load PORT OP SHAPE: zkload's RESULT line fields as "p50 p99 ops/s errors"
load() {
	ld_f=$T/load.out
	"$ZKLOAD" -s "127.0.0.1:$1" -c "${3%x*}" -p "${3#*x}" -d "$secs" -o "$2" \
		>"$ld_f" 2>"$ld_f.err" || true
	sed -n 's/.*ops_per_s=\([0-9.]*\) p50_us=\([0-9]*\) p99_us=\([0-9]*\) errors=\([0-9]*\).*/\2 \3 \1 \4/p' "$ld_f"
}
us_ms() { awk -v u="$1" 'BEGIN { printf "%.2f", u / 1000 }'; }

# mount_lat MOUNT N: median and p99 (ms) of N writes (open, write, close)
# then of N reads of the same file, through the mount.
mount_lat() {
	"$QC_PY" - "$1" "$2" <<'PY'
import os, sys, time
d, n = sys.argv[1], int(sys.argv[2])
os.makedirs(os.path.join(d, "bench"), exist_ok=True)
p = os.path.join(d, "bench", "f")
w, r = [], []
for k in range(n):
    t = time.monotonic()
    with open(p, "w") as f:
        f.write("v%d" % k)
    w.append(time.monotonic() - t)
    t = time.monotonic()
    with open(p) as f:
        assert f.read() == "v%d" % k
    r.append(time.monotonic() - t)
def q(a, x):
    a = sorted(a)
    return a[min(len(a) - 1, int(len(a) * x))] * 1000
print("%.2f %.2f %.2f %.2f" % (q(w, .5), q(w, .99), q(r, .5), q(r, .99)))
PY
}

ROWS=""
QDELAYS=$DELAYS
[ "${BENCH_ONLY:-}" = zk ] && QDELAYS=""
for D in $QDELAYS; do
	QC_DC_DELAY=$D
	for i in 1 2 3 4; do
		qc_dc_spawn $i || exit 1
	done
	for i in 1 2 3 4; do
		qc_wait_up $i 30 || exit 1
	done
	if ! qc_wait_leader 60; then
		echo "bench_multidc: no leader with $D ms"
		exit 1
	fi
	L=$QC_LEADER
	LP=$(qc_get QC_CPORT "$L")
	OP=$QC_CPORT_4
	load "$LP" mix 8x8 >/dev/null # warm-up, not reported (as for ZooKeeper)
	set -- $(load "$LP" set 1x1)
	wl50=$(us_ms "$1") wl99=$(us_ms "$2")
	echo "# $D ms: write at the leader (member $L) 1x1: p50 $wl50 ms p99 $wl99 ms ($3 ops/s, $4 errors)"
	set -- $(load "$OP" set 1x1)
	wo50=$(us_ms "$1") wo99=$(us_ms "$2")
	echo "# $D ms: write at the observer 1x1: p50 $wo50 ms p99 $wo99 ms ($3 ops/s, $4 errors)"
	set -- $(load "$LP" set 8x8)
	tput=$3
	echo "# $D ms: write at the leader 8x8: $tput ops/s p50 $(us_ms "$1") ms p99 $(us_ms "$2") ms ($4 errors)"
	set -- $(load "$OP" get 1x1)
	ro50=$(us_ms "$1") ro99=$(us_ms "$2")
	echo "# $D ms: read at the observer 1x1: p50 $ro50 ms p99 $ro99 ms ($3 ops/s, $4 errors)"
	set -- $(mount_lat "$QC_MNT_4" 50)
	echo "# $D ms: observer's mount: write+close p50 $1 ms p99 $2 ms; read p50 $3 ms p99 $4 ms"
	mw50=$1 mr50=$3
	ROWS="$ROWS$D $wl50 $wl99 $wo50 $wo99 $tput $ro50 $ro99 $mw50 $mr50
"
	# kill -9: the last members to stop would wait for a quorum to close
	# their mounts' sessions; the next round reuses the data directories.
	for i in 1 2 3 4; do
		qc_kill9 $i
	done
done

# --- Apache ZooKeeper, the same layout, behind delaying TCP proxies ---
# Every directed link between two ZooKeeper servers (quorum port and
# election port) goes through a proxy that holds each chunk D ms before
# passing it on, in order: server I's zoo.cfg names the proxies to J, its
# own line the real ports (ZooKeeper dials peers from its own view).
ZK_JAR=/usr/share/java/zookeeper.jar
ZROWS=""
zk_ok=1
if [ "${BENCH_ZK:-1}" = 0 ] || [ "${BENCH_ONLY:-}" = qfs ]; then
	zk_ok=0
elif [ ! -f "$ZK_JAR" ] || ! command -v java >/dev/null; then
	echo "# Apache ZooKeeper (Debian package zookeeper) or java not installed: skipped"
	zk_ok=0
fi
cat >"$T/delayproxy.py" <<'PY'
# delayproxy.py DELAY_MS LISTEN:TARGET ...: TCP proxies on 127.0.0.1 that
# deliver every chunk DELAY_MS after it arrived, in order, both ways.
import asyncio, sys, time
delay = int(sys.argv[1]) / 1000.0
async def pump(r, w):
    q = asyncio.Queue()
    async def writer():
        while True:
            due, data = await q.get()
            if data is None:
                break
            wait = due - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            w.write(data)
            await w.drain()
        w.close()
    t = asyncio.ensure_future(writer())
    try:
        while True:
            data = await r.read(65536)
            if not data:
                break
            q.put_nowait((time.monotonic() + delay, data))
    except Exception:
        pass
    q.put_nowait((0, None))
    try:
        await t
    except Exception:
        pass
async def serve(lport, tport):
    async def handle(r, w):
        try:
            tr, tw = await asyncio.open_connection("127.0.0.1", tport)
        except OSError:
            w.close()
            return
        await asyncio.gather(pump(r, tw), pump(tr, w), return_exceptions=True)
    await asyncio.start_server(handle, "127.0.0.1", lport)
async def main():
    for spec in sys.argv[2:]:
        l, t = spec.split(":")
        await serve(int(l), int(t))
    print("ready", flush=True)
    await asyncio.Event().wait()
asyncio.run(main())
PY

# zk_round D: 4 ZooKeeper servers (3 participants, an observer) with D ms
zk_round() {
	zr_d=$1
	# per server: quorum, election, client; per directed link: 2 proxies
	set -- $("$QC_PY" -c '
import socket
ss = [socket.socket() for _ in range(12 + 24)]
for s in ss:
    s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in ss))')
	for i in 1 2 3 4; do
		eval "ZQ_$i=$1 ZE_$i=$2 ZC_$i=$3"
		shift 3
	done
	zr_specs=""
	for i in 1 2 3 4; do
		for j in 1 2 3 4; do
			[ $i = $j ] && continue
			eval "ZPQ_${i}_$j=$1 ZPE_${i}_$j=$2"
			zr_specs="$zr_specs $1:$(qc_get ZQ $j) $2:$(qc_get ZE $j)"
			shift 2
		done
	done
	# shellcheck disable=SC2086
	"$QC_PY" "$T/delayproxy.py" "$zr_d" $zr_specs >"$T/proxy.log" 2>&1 &
	ZPROXY=$!
	QFS_PIDS="$QFS_PIDS $ZPROXY"
	wait_until 20 grep -q ready "$T/proxy.log" || return 1
	for i in 1 2 3 4; do
		d=$T/zk$zr_d.$i
		rm -rf "$d"
		mkdir -p "$d/data" "$d/conf"
		echo $i >"$d/data/myid"
		{
			echo "tickTime=$QC_TICK"
			echo "initLimit=10"
			echo "syncLimit=5"
			echo "dataDir=$d/data"
			echo "clientPort=$(qc_get ZC $i)"
			echo "clientPortAddress=127.0.0.1"
			echo "maxClientCnxns=0"
			echo "admin.enableServer=false"
			echo "4lw.commands.whitelist=*"
			[ $i = 4 ] && echo "peerType=observer"
			for j in 1 2 3 4; do
				role=participant
				[ $j = 4 ] && role=observer
				if [ $i = $j ]; then
					echo "server.$j=127.0.0.1:$(qc_get ZQ $j):$(qc_get ZE $j):$role"
				else
					echo "server.$j=127.0.0.1:$(qc_get ZPQ "${i}_$j"):$(qc_get ZPE "${i}_$j"):$role"
				fi
			done
		} >"$d/conf/zoo.cfg"
		cp /etc/zookeeper/conf/log4j.properties "$d/conf/" 2>/dev/null
		java -Xmx256m -cp "$d/conf:$ZK_JAR:/usr/share/java/*" \
			-Dzookeeper.log.dir="$d" -Dzookeeper.root.logger=WARN,CONSOLE \
			org.apache.zookeeper.server.quorum.QuorumPeerMain "$d/conf/zoo.cfg" \
			>"$d/zk.log" 2>&1 &
		eval "ZPID_$i=$!"
		QFS_PIDS="$QFS_PIDS $!"
	done
	zk_lead() {
		ZL=""
		zl_f=0
		for i in 1 2 3; do
			case "$(QC_ADDR_9=127.0.0.1 QC_CPORT_9=$(qc_get ZC $i) qc_mode 9)" in
			leader) ZL=$i ;;
			follower) zl_f=$((zl_f + 1)) ;;
			esac
		done
		[ -n "$ZL" ] && [ $zl_f -ge 1 ] &&
			[ "$(QC_ADDR_9=127.0.0.1 QC_CPORT_9=$ZC_4 qc_mode 9)" = observer ]
	}
	if ! wait_until 90 zk_lead; then
		echo "# ZooKeeper with $zr_d ms: no leader and observer within 90 s"
		return 1
	fi
	ZLP=$(qc_get ZC "$ZL")
	load "$ZLP" mix 8x8 >/dev/null # warm-up: the JVM compiles the hot paths
	set -- $(load "$ZLP" set 1x1)
	zwl50=$(us_ms "$1") zwl99=$(us_ms "$2")
	echo "# ZooKeeper $zr_d ms: write at the leader (server $ZL) 1x1: p50 $zwl50 ms p99 $zwl99 ms ($3 ops/s, $4 errors)"
	set -- $(load "$ZC_4" set 1x1)
	zwo50=$(us_ms "$1") zwo99=$(us_ms "$2")
	echo "# ZooKeeper $zr_d ms: write at the observer 1x1: p50 $zwo50 ms p99 $zwo99 ms ($3 ops/s, $4 errors)"
	set -- $(load "$ZLP" set 8x8)
	ztput=$3
	echo "# ZooKeeper $zr_d ms: write at the leader 8x8: $ztput ops/s p50 $(us_ms "$1") ms p99 $(us_ms "$2") ms ($4 errors)"
	set -- $(load "$ZC_4" get 1x1)
	zro50=$(us_ms "$1") zro99=$(us_ms "$2")
	echo "# ZooKeeper $zr_d ms: read at the observer 1x1: p50 $zro50 ms p99 $zro99 ms ($3 ops/s, $4 errors)"
	ZROWS="$ZROWS$zr_d $zwl50 $zwl99 $zwo50 $zwo99 $ztput $zro50 $zro99
"
}
zk_stop() {
	for i in 1 2 3 4; do
		zs_p=$(qc_get ZPID $i)
		[ -n "$zs_p" ] && kill -KILL "$zs_p" 2>/dev/null && wait "$zs_p" 2>/dev/null
		eval "ZPID_$i="
	done
	[ -n "${ZPROXY:-}" ] && kill "$ZPROXY" 2>/dev/null && wait "$ZPROXY" 2>/dev/null
	ZPROXY=""
}
if [ $zk_ok = 1 ]; then
	for D in $DELAYS; do
		zk_round "$D" || echo "# ZooKeeper with $D ms failed; its logs: $T/zk$D.*/zk.log"
		zk_stop
	done
fi

echo "# one-way delay between datacenters (ms); latencies in ms (p50/p99)"
printf '# %-6s %-15s %-15s %-12s %-13s %-10s %-10s\n' delay \
	"write@leader" "write@observer" "8x8 ops/s" "read@observer" "mnt-write" "mnt-read"
printf '%s' "$ROWS" | while read -r d a b c e f g h i j; do
	printf '# %-6s %-15s %-15s %-12s %-13s %-10s %-10s\n' "$d" "$a/$b" "$c/$e" "$f" \
		"$g/$h" "$i" "$j"
done
if [ -n "$ZROWS" ]; then
	echo "# Apache ZooKeeper $(dpkg-query -W -f '${Version}' zookeeper 2>/dev/null), same layout, delaying proxies"
	printf '# %-6s %-15s %-15s %-12s %-13s\n' delay \
		"write@leader" "write@observer" "8x8 ops/s" "read@observer"
	printf '%s' "$ZROWS" | while read -r d a b c e f g h; do
		printf '# %-6s %-15s %-15s %-12s %-13s\n' "$d" "$a/$b" "$c/$e" "$f" "$g/$h"
	done
fi
