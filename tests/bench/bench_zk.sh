#!/bin/sh
# bench_zk.sh - the ZooKeeper-protocol load generator (zkload) against Apache
# ZooKeeper (Debian's package, standalone, fsync on as by default) and
# against quorumfs standalone serving clientPort, side by side: get, set,
# create/delete and a 90/10 read/write mix; ops/s and p50/p99 latency, with
# quorumfs/ZooKeeper ratios (ops/s: higher is better; latency: lower).
#
# BENCH_ZK_SECS (default 5), BENCH_ZK_SESSIONS (16), BENCH_ZK_PIPELINE (8).
set -u
. "${QFS_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib.sh"
. "$QFS_SRCDIR/tests/compat/quorumctl_zk.sh"
secs=${BENCH_ZK_SECS:-5}
sessions=${BENCH_ZK_SESSIONS:-16}
pipeline=${BENCH_ZK_PIPELINE:-8}
ZKLOAD="$QFS_BUILDDIR/tests/bench/zkload"
OPS="get set create mix"
qfs_init

if [ ! -x "$ZKLOAD" ]; then
	echo "bench_zk: $ZKLOAD not built (make tests/bench/zkload)"
	exit 1
fi

# run_all LABEL PORT: one zkload run per op; results in $T/LABEL.OP
run_all() {
	for op in $OPS; do
		"$ZKLOAD" -s "127.0.0.1:$2" -c "$sessions" -p "$pipeline" -d "$secs" -o "$op" \
			>"$T/$1.$op" 2>"$T/$1.$op.err" || true
		grep RESULT "$T/$1.$op" | sed "s/^/# $1 /"
	done
}

# val LABEL OP KEY: a field of the RESULT line, or "-"
val() {
	v=$(sed -n "s/.* $3=\([0-9.]*\).*/\1/p" "$T/$1.$2" 2>/dev/null)
	echo "${v:--}"
}

ratio() {
	if [ "$1" = - ] || [ "$2" = - ]; then echo -; else
		awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'
	fi
}

have_zk=0
if zk_start "$T/zk"; then
	have_zk=1
	echo "# Apache ZooKeeper on 127.0.0.1:$ZK_PORT: $sessions sessions x $pipeline outstanding, ${secs}s per op"
	run_all zk "$ZK_PORT"
	zk_stop
else
	echo "bench_zk: ZooKeeper not measured: $ZK_WHY"
fi

have_qfs=0
if qfs_zk_start "$T/qfs"; then
	have_qfs=1
	echo "# quorumfs on 127.0.0.1:$QFS_ZK_PORT"
	run_all qfs "$QFS_ZK_PORT"
	qfs_stop "$QFS_PID" "$T/qfs/mnt"
else
	echo "bench_zk: quorumfs was not measured: $QFS_ZK_WHY"
fi

printf '%-8s %12s %10s %10s %12s %10s %10s %9s %9s %9s\n' op zk_ops/s zk_p50us zk_p99us \
	qfs_ops/s qfs_p50us qfs_p99us ops_ratio p50_ratio p99_ratio
for op in $OPS; do
	zo=$(val zk "$op" ops_per_s) z5=$(val zk "$op" p50_us) z9=$(val zk "$op" p99_us)
	qo=$(val qfs "$op" ops_per_s) q5=$(val qfs "$op" p50_us) q9=$(val qfs "$op" p99_us)
	printf '%-8s %12s %10s %10s %12s %10s %10s %9s %9s %9s\n' "$op" "$zo" "$z5" "$z9" \
		"$qo" "$q5" "$q9" "$(ratio "$qo" "$zo")" "$(ratio "$q5" "$z5")" "$(ratio "$q9" "$z9")"
done
[ "$have_zk" = 1 ] || [ "$have_qfs" = 1 ]
