#!/bin/sh
# bench_replay.sh - how fast one host's mount replays changes made on other
# hosts (inotify by replay, fs/replay.c), and what a backlog costs that
# host's own mount writes.
#
# 3 participants. zkload makes create/delete pairs through member A's
# client port under its root /zkload-PID; on member B (another member),
# `inotifywait -m` watches that directory, as an operator would, which makes
# B's kernel hold it, so B replays every change in it. Meanwhile a writer
# on B's mount writes its own files and times each close, which returns
# only once the replays queued before it are done (fs/file.c, commit_done:
# the kernel's caches must not hold values older than the write). The
# writer either rewrites 50 files of its own elsewhere (local "other") or
# creates a new file each time in the watched directory (local "same", the
# pattern of tests/cluster/failover.sh). Per load (sessions of zkload, one
# request outstanding each) and writer, it prints:
#
#   remote_ops/s   creates and deletes committed per second (zkload's)
#   seen/s         of them, inotify events B's watcher saw per second,
#                  during the run
#   drain_s        after the load stopped, the seconds until B's watcher
#                  had seen them all (the backlog the replay had left)
#   close p50/p99/max (ms), n
#                  B's own mount writes during the run
#
# Why it exists (stop 22): under three ZooKeeper clients creating ~700
# nodes/s in a directory that a follower's mount held, that follower's own
# closes grew from milliseconds to seconds, while ZooKeeper writes through
# the same member stayed fast. Each close's answer was queued behind every
# replay queued before it (1500 of them, 1.5 s, in the daemon's log); the
# mount's own items now go ahead once the queue is long (fs/replay.c,
# RP_BACKLOG). Before, on this machine: close p99 0.9 to 1.3 s, 11 to 122
# closes in 5 s; after: p99 11 to 13 ms, 1225 to 1915 closes.
# BENCH_SECS (default 5), BENCH_LOADS (default "1 4"), BENCH_LOCAL (default
# "other same").
set -u
. "${QFS_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/cluster/lib.sh"
secs=${BENCH_SECS:-5}
LOADS=${BENCH_LOADS:-"1 4"}
LOCALS=${BENCH_LOCAL:-"other same"}
ZKLOAD="$QFS_BUILDDIR/tests/bench/zkload"
if [ ! -x "$ZKLOAD" ]; then
	echo "bench_replay: $ZKLOAD not built (make check builds it)"
	exit 1
fi
if ! command -v inotifywait >/dev/null; then
	echo "bench_replay: inotifywait not installed (apt-get install inotify-tools)"
	exit 1
fi
qc_init 3
if ! qc_start_all || ! qc_wait_leader 30; then
	echo "bench_replay: the ensemble did not come up"
	exit 1
fi
A=$QC_LEADER
B=$((A % 3 + 1))
MB=$(qc_get QC_MNT $B)
mkdir "$MB/bench-local"
echo "# load through member $A (leader), replay watched on member $B ($(qc_mode $B))"
printf '%-8s %-5s | %12s %8s %8s | %8s %8s %8s %6s\n' sessions local remote_ops/s seen/s \
	drain_s close_p50 close_p99 close_max n

for c in $LOADS; do
for local in $LOCALS; do
	out=$T/load.$c.$local
	"$ZKLOAD" -s "127.0.0.1:$(qc_get QC_CPORT $A)" -c "$c" -p 1 -d "$secs" -o create \
		>"$out" 2>&1 &
	zp=$!
	QFS_PIDS="$QFS_PIDS $zp"
	# zkload makes its root before its timed run; watch it as soon as B has it
	root=""
	n=0
	while [ -z "$root" ] && [ $n -lt 200 ]; do
		root=$(ls -d "$MB"/zkload-$zp 2>/dev/null)
		[ -n "$root" ] || sleep 0.05
		n=$((n + 1))
	done
	if [ -z "$root" ]; then
		echo "$c $local: zkload's root never appeared on member $B"
		kill $zp 2>/dev/null
		continue
	fi
	inotifywait -m -q -e create,delete --format '%e %f' "$root" >"$T/events.$c.$local" 2>/dev/null &
	ip=$!
	QFS_PIDS="$QFS_PIDS $ip"
	# B's own writes: one file after another, each close timed
	case $local in same) ld=$root ;; *) ld=$MB/bench-local ;; esac
	"$QC_PY" - "$ld" "$T/closes.$c.$local" "$zp" "$local" <<'PY' &
import os, sys, time
d, out, zp, mode = sys.argv[1], open(sys.argv[2], "w"), int(sys.argv[3]), sys.argv[4]
k = 0
end = time.time() + 300
while time.time() < end:
    try:
        os.kill(zp, 0)
    except OSError:
        break
    f = open(os.path.join(d, "l%d" % (k if mode == "same" else k % 50)), "w")
    f.write("%d\n" % k)
    t0 = time.time()
    f.close()
    out.write("%.3f\n" % ((time.time() - t0) * 1000)); out.flush()
    k += 1
PY
	wp=$!
	QFS_PIDS="$QFS_PIDS $wp"
	wait $zp
	t_end=$(date +%s.%N)
	seen_end=$(wc -l <"$T/events.$c.$local")
	# drain: until the watcher's count stops growing for a second (at most 120 s)
	last=-1 cur=$seen_end stable=0 n=0
	while [ $stable -lt 10 ] && [ $n -lt 1200 ]; do
		sleep 0.1
		cur=$(wc -l <"$T/events.$c.$local")
		if [ "$cur" = "$last" ]; then stable=$((stable + 1)); else stable=0; fi
		last=$cur
		n=$((n + 1))
	done
	drain=$(awk -v a="$t_end" -v b="$(date +%s.%N)" 'BEGIN { d = b - a - 1; printf "%.1f", d < 0 ? 0 : d }')
	wait $wp
	kill $ip 2>/dev/null
	ops=$(sed -n 's/.* ops=\([0-9]*\).*/\1/p' "$out")
	run=$(sed -n 's/.* secs=\([0-9.]*\).*/\1/p' "$out")
	[ -n "$ops" ] || { echo "$c $local: zkload failed: $(tail -1 "$out")"; continue; }
	# zkload counts only its timed run; the watcher also saw the setup
	# (the keys) and the tail, so seen/s is an upper bound on the replay
	# rate during the run
	sort -n "$T/closes.$c.$local" | awk -v c="$c" -v l="$local" -v ops="$ops" -v run="$run" -v seen="$seen_end" \
		-v drain="$drain" '{ a[NR] = $1 } END {
		printf "%-8s %-5s | %12.0f %8.0f %8s | %8.1f %8.1f %8.1f %6d\n", c, l, ops / run,
			seen / run, drain, a[int(NR * 0.5) + 1], a[int(NR * 0.99) + 1], a[NR], NR }'
done
done
exit 0
