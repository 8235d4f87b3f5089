#!/bin/sh
# bench_fs.sh - the mount's speed (issue 2, "Speed"):
#   1. cat of a small cached file: how many requests reach the daemon, and
#      that no READ does (counters from user.quorumfs.stats on the root);
#   2. small write+close throughput from 1 and 8 concurrent writers with
#      forceSync=yes, and the transactions per fsync the group commit got.
# Figures go to stdout. QFS_BENCH_SECS sets each write phase's length.
. "$QFS_SRCDIR/tests/lib.sh"
qfs_init
M=$T/m
SECS=${QFS_BENCH_SECS:-5}
qfs_start "$M" "$T/d" -o clientPort=0,forceSync=yes || { echo "mount failed"; exit 1; }
stat_of() { getfattr --absolute-names --only-values -n user.quorumfs.stats "$M" | tr ' ' '\n' | sed -n "s/^$1=//p"; }

echo 'max_conns=500' >"$M/conf"
sleep 2.5 # a file changed in the last 2 s is read around the page cache
cat "$M/conf" >/dev/null
N=2000
r0=$(stat_of reads)
q0=$(stat_of requests)
t0=$(date +%s%N)
i=0
while [ $i -lt $N ]; do
	cat "$M/conf" >/dev/null
	i=$((i + 1))
done
t1=$(date +%s%N)
r1=$(stat_of reads)
q1=$(stat_of requests)
# the stats getfattr itself is 2 requests (lookup-free getxattr x2)
echo "cached cat: $N runs, READ requests reaching the daemon: $((r1 - r0))," \
	"all requests: $((q1 - q0 - 2)) ($(((q1 - q0 - 2) * 100 / N / 100)).$(((q1 - q0 - 2) * 100 / N % 100)) per cat: OPEN, RELEASE)," \
	"$(((t1 - t0) / N / 1000)) us per cat (fork+exec included)"

cat >"$T/w.py" <<'PY'
import os, sys, time
path, secs = sys.argv[1], float(sys.argv[2])
n, end = 0, time.time() + secs
while time.time() < end:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
    os.write(fd, b"value %d" % n)
    os.close(fd)
    n += 1
print(n)
PY
for W in 1 8; do
	tx0=$(stat_of log_txns)
	fs0=$(stat_of fsyncs)
	i=1
	wpids=""
	while [ $i -le $W ]; do
		python3 "$T/w.py" "$M/w$i" "$SECS" >"$T/n$i" &
		wpids="$wpids $!"
		i=$((i + 1))
	done
	for p in $wpids; do wait "$p"; done
	total=0
	i=1
	while [ $i -le $W ]; do total=$((total + $(cat "$T/n$i"))); i=$((i + 1)); done
	tx1=$(stat_of log_txns)
	fs1=$(stat_of fsyncs)
	dt=$((tx1 - tx0))
	df=$((fs1 - fs0))
	[ "$df" -gt 0 ] || df=1
	echo "write+close, $W writer(s), forceSync=yes: $((total / SECS)) writes/s" \
		"($total in ${SECS}s), $dt txns in $df log commits:" \
		"$((dt / df)).$((dt * 10 / df % 10)) txns per fsync"
done
qfs_stop "$QFS_PID" "$M"
