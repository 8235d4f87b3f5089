#!/bin/sh
# failover.sh - kill -9 the leader of 3 participants during a stream of
# writes through the mounts and through ZooKeeper clients (issue 8,
# "Failover"): a new leader is elected, writes resume, no acknowledged write
# is lost, and every replica converges to the same tree.
. "${QFS_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/cluster/lib.sh"
qc_init 3
if ! qc_start_all || ! qc_wait_leader 30; then
	t_fail "3 participants elect a leader"
	exit 1
fi
t_ok "3 participants elect a leader (member $QC_LEADER)"
OLD=$QC_LEADER
mkdir "$QC_MNT_1/fo" && wait_until 10 test -d "$QC_MNT_2/fo" -a -d "$QC_MNT_3/fo" ||
	t_fail "the directory for the writes is on every member"

# Mount writers: one per member, each writing new files fo/mI-K and logging
# K, when the write started and when it returned, once close() returned 0
# (acknowledged: the mount commits at close, and a shell's `echo >f` would
# ignore the close's error). They stop when $T/stop exists.
for i in 1 2 3; do
	"$QC_PY" - "$(qc_get QC_MNT $i)/fo" "$i" "$T" <<'PY' &
import os, sys, time
d, i, t = sys.argv[1], sys.argv[2], sys.argv[3]
log = open(os.path.join(t, "acked.m" + i), "a")
errs = open(os.path.join(t, "errors.m" + i), "a")
k = 0
end = time.time() + 900  # bounded, should the test be killed
while not os.path.exists(os.path.join(t, "stop")) and time.time() < end:
    t0 = time.time()
    try:
        f = open(os.path.join(d, "m%s-%d" % (i, k)), "w")
        try:
            f.write("%d\n" % k)
        finally:
            f.close()
        log.write("%d %f %f\n" % (k, t0, time.time()))
        log.flush()
    except OSError as e:
        errs.write("%d %f %f %s\n" % (k, t0, time.time(), e.strerror))
        errs.flush()
        time.sleep(0.02)
    k += 1
PY
	QFS_PIDS="$QFS_PIDS $!"
	eval "WPID_$i=$!"
done
# A ZooKeeper client per member, connect string = every server (kazoo moves
# on when its server dies); an acknowledged create is logged.
qc_zkpy "
import threading
def writer(i):
    hosts = os.environ['QC_ADDR_%d' % i] + ',' + os.environ['QC_HOSTS']
    c = KazooClient(hosts=hosts, randomize_hosts=False, timeout=6,
                    connection_retry={'max_tries': -1, 'delay': 0.05, 'max_delay': 0.5},
                    command_retry={'max_tries': -1, 'delay': 0.05, 'max_delay': 0.5})
    c.start(timeout=20)
    log = open('$T/acked.z%d' % i, 'a')
    k = 0
    end = time.time() + 900  # bounded, should the test be killed
    while not os.path.exists('$T/stop') and time.time() < end:
        try:
            c.create('/fo/z%d-%d' % (i, k), b'%d' % k)
            log.write('%d %f\n' % (k, time.time())); log.flush()
        except NodeExistsError:
            # created by an earlier try whose answer was lost: acknowledged now
            log.write('%d %f\n' % (k, time.time())); log.flush()
        except KazooException:
            time.sleep(0.05)
            continue
        k += 1
    c.stop()
ts = [threading.Thread(target=writer, args=(i,)) for i in (1, 2, 3)]
for t in ts: t.start()
for t in ts: t.join()
" >"$T/zkwriters.out" 2>&1 &
ZPID=$!
QFS_PIDS="$QFS_PIDS $ZPID"

count() { cat "$@" 2>/dev/null | wc -l; }
t_check "writes flow before the kill" wait_until 20 sh -c "[ \$(cat $T/acked.* 2>/dev/null | wc -l) -ge 100 ]"
sleep 1
T_KILL=$(date +%s.%N)
qc_kill9 "$OLD"
echo "# killed leader $OLD at $T_KILL"
if qc_wait_leader 30; then
	t_ok "a new leader is elected after kill -9 of the leader (member $QC_LEADER)"
else
	t_fail "a new leader is elected after kill -9 of the leader"
fi
T_LEAD=$(date +%s.%N)
[ "$QC_LEADER" != "$OLD" ] || t_fail "the new leader is not the killed one"
# writes resume: acknowledged after the kill, on the survivors' mounts and
# through the clients
resumed() {
	for f in "$@"; do
		awk -v t="$T_KILL" '$2 > t { n++ } END { exit !(n >= 20) }' "$f" 2>/dev/null || return 1
	done
}
SURV=""
for i in 1 2 3; do [ $i != "$OLD" ] && SURV="$SURV $i"; done
MF=""
for i in $SURV; do MF="$MF $T/acked.m$i"; done
if wait_until 30 resumed $MF; then
	t_ok "writes resume through the survivors' mounts"
else
	# Seen once in 21 runs and not reproduced: keep what would explain it.
	t_fail "writes resume through the survivors' mounts"
	for i in $SURV; do
		echo "# member $i ($(qc_mode "$i")): $(awk -v t="$T_KILL" '$2 > t' "$T/acked.m$i" | wc -l) writes acknowledged after the kill, the last: $(tail -1 "$T/acked.m$i")"
		echo "# its writer's errors after the kill: $(awk -v t="$T_KILL" '$2 > t' "$T/errors.m$i" 2>/dev/null | wc -l), the last:"
		tail -3 "$T/errors.m$i" 2>/dev/null | sed 's/^/#   /'
		wp=$(qc_get WPID "$i")
		echo "# its writer (pid $wp) waits in: $(cat "/proc/$wp/wchan" 2>/dev/null)"
		echo "# its log's last warnings and role changes:"
		grep -E " (warn|error) | replica: " "$(qc_get QC_DATA "$i").log" | tail -15 | sed 's/^/#   /'
	done
fi
t_check "writes resume through ZooKeeper clients (all three, the dead server's client moved on)" \
	wait_until 30 resumed "$T/acked.z1" "$T/acked.z2" "$T/acked.z3"
# the first write begun after the kill to be acknowledged, in ms after it
FIRST=$(cat "$T"/acked.* | awk -v t="$T_KILL" '$2 + 0 > t + 0 && NF >= 3 { d = ($3 - t) * 1000; if (m == "" || d < m) m = d }
	END { if (m == "") print "n/a"; else printf "%.0f", m }')
echo "# kill -9 to the first write begun after it and acknowledged: $FIRST ms; to a leader seen by srvr: $(echo "$T_LEAD $T_KILL" | awk '{ printf "%.0f", ($1 - $2) * 1000 }') ms"
touch "$T/stop"
for i in $SURV; do wait "$(qc_get WPID $i)" 2>/dev/null; done
wait_until 30 sh -c "! kill -0 $ZPID"
kill "$(qc_get WPID "$OLD")" 2>/dev/null

# the old leader comes back as a follower
qc_start "$OLD"
if qc_wait_leader 30; then
	t_eq "the old leader rejoins as a follower" follower "$(qc_mode "$OLD")"
else
	t_fail "the old leader rejoins"
fi

# no acknowledged write lost: on every member (after sync), every K logged
lost() { # MEMBER: print how many acknowledged writes member M lacks
	m=$(qc_get QC_MNT "$1")
	timeout 10 sync "$m/fo" 2>/dev/null
	"$QC_PY" - "$m/fo" "$T" <<'PY'
import os, sys
d, t = sys.argv[1], sys.argv[2]
n = 0
miss = []
for w in ("m1", "m2", "m3", "z1", "z2", "z3"):
    try:
        lines = open(os.path.join(t, "acked." + w)).read().split("\n")
    except OSError:
        continue
    for l in lines:
        if not l:
            continue
        k = l.split()[0]
        try:
            ok = open(os.path.join(d, "%s-%s" % (w, k))).read().strip() == k
        except OSError:
            ok = False
        if not ok:
            n += 1
            miss.append("%s-%s" % (w, k))
print(n)
if miss:
    sys.stderr.write("# missing: %s\n" % " ".join(miss[:5]))
PY
}
echo "# acknowledged: $(count "$T"/acked.m*) through mounts, $(count "$T"/acked.z*) through clients"
for i in 1 2 3; do
	t_eq "member $i has every acknowledged write" 0 "$(lost $i 2>"$T/lost.$i")"
	cat "$T/lost.$i"
done
t_check "every member's tree is the same (digest through the mounts)" qc_wait_converged 60
a=$(qc_zk_digest 1)
b=$(qc_zk_digest 2)
c=$(qc_zk_digest 3)
t_check "and through the client ports" test -n "$a" -a "$a" = "$b" -a "$b" = "$c"
