#!/bin/sh
# bench_big_cluster.sh - an ensemble holding a big tree (1M znodes by
# default): per member, the time from start to the first read served on its
# client port, its RSS; then a restarted follower's time to its first read,
# and a wiped follower's time to catch up by snapshot (its first read of a
# znode written after it was wiped). Figures for issue 8's closing note.
#
# The tree is built offline, fast, by bench_restart (the real write
# pipeline in one process), then restored (quorumadm restore) into every
# member's dataDir under the ensemble's cluster name: building it through
# the ensemble would measure the load, not the member.
#
# BENCH_ZNODES (default 1000000), QFS_BENCH_DIR (default /var/tmp: the
# tree needs ~1.3 GB of disk for 1M znodes, several copies).
set -u
. "${QFS_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/cluster/lib.sh"
N=${BENCH_ZNODES:-1000000}
RESTART="$QFS_BUILDDIR/tests/bench/bench_restart"
QUORUMADM="$QFS_BUILDDIR/quorumadm"
QUORUMCTL="$QFS_BUILDDIR/quorumctl"
for b in "$RESTART" "$QUORUMADM" "$QUORUMCTL"; do
	[ -x "$b" ] || { echo "bench_big_cluster: $b not built"; exit 1; }
done
QC_SESSION_MS=10000
qc_init 3
name=$(sed -n 's/^clusterName=//p' "$QC_CFG")
work=$(mktemp -d "${QFS_BENCH_DIR:-/var/tmp}/qfs-big.XXXXXX")
trap 'rm -rf "$work"; qc_cleanup' EXIT

ms() { echo $(($(date +%s%N) / 1000000)); }
rss_mb() { awk '/^VmRSS:/ { print int($2 / 1024) }' "/proc/$1/status" 2>/dev/null; }
# first_read I PATH: poll member I's client port until PATH can be read
# (bounded: 600 s); prints nothing, returns 1 on timeout.
first_read() {
	fr_end=$(($(date +%s) + 600))
	while [ "$(date +%s)" -lt "$fr_end" ]; do
		"$QUORUMCTL" -s "127.0.0.1:$(qc_get QC_CPORT "$1")" get "$2" \
			>/dev/null 2>&1 && return 0
		sleep 0.05
	done
	return 1
}

echo "# bench_big_cluster: building $N znodes offline (bench_restart)"
out=$(QFS_BENCH_SIZES=$N QFS_BENCH_KEEP=1 QFS_BENCH_DIR=$work "$RESTART") || {
	echo "$out"; exit 1; }
echo "$out" | sed 's/^/# /'
src=$(echo "$out" | sed -n 's/^  kept \([^ ]*\) .*/\1/p')
"$RESTART" snapshot "$src" >/dev/null 2>&1 || { echo "snapshot of $src failed"; exit 1; }
snap=$(ls "$src"/snapshot.*.db | tail -1)
echo "# restoring $snap ($(du -h "$snap" | cut -f1)) for cluster $name"
QUORUMADM_PROGRESS=0 "$QUORUMADM" restore "$snap" --data-dir "$work/seed" --name "$name" || exit 1
rm -rf "$src"
for i in 1 2 3; do
	rm -rf "$(qc_get QC_DATA $i)"
	cp -a "$work/seed" "$(qc_get QC_DATA $i)"
done
probe=/d$((N / 1000 - 1))/n1

t0=$(ms)
for i in 1 2 3; do qc_spawn $i; done
for i in 1 2 3; do
	first_read $i "$probe" || { echo "member $i served no read"; exit 1; }
	echo "member $i: start to first read of $probe: $(($(ms) - t0)) ms (all three started together)"
done
qc_wait_leader 120 || exit 1
for i in 1 2 3; do
	echo "member $i ($(qc_mode $i)): VmRSS $(rss_mb "$(qc_get QC_PID $i)") MiB"
done

f=1
[ "$QC_LEADER" = 1 ] && f=2
qc_stop $f
t0=$(ms)
qc_spawn $f
first_read $f "$probe" || exit 1
echo "follower $f restarted: start to first read: $(($(ms) - t0)) ms"

# Wiped: the member comes back with an empty dataDir (same cluster) and
# must take a snapshot from the leader before it can serve the new znode.
qc_stop $f
rm -rf "$(qc_get QC_DATA $f)"
qc_wait_leader 60 || exit 1
"$QUORUMCTL" -s "127.0.0.1:$(qc_get QC_CPORT "$QC_LEADER")" create /after-wipe x >/dev/null ||
	{ echo "create /after-wipe on the leader ($QC_LEADER) failed"; exit 1; }
t0=$(ms)
qc_spawn $f
first_read $f /after-wipe || { echo "wiped member never caught up"; tail -20 "$(qc_get QC_DATA $f).log"; exit 1; }
echo "follower $f wiped: start to first read of a znode written meanwhile (snapshot catch-up): $(($(ms) - t0)) ms, VmRSS $(rss_mb "$(qc_get QC_PID $f)") MiB"
