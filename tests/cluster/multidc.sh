#!/bin/sh
# multidc.sh - an ensemble spread over datacenters (issue 10, "Multi-
# datacenter"): ZooKeeper's hierarchical quorum (group.X) decides, not a
# flat majority; one whole datacenter is lost and writes go on; an
# observer in a fourth site serves reads and its mount locally, forwards
# writes, and its inotify watchers see every change; the lost datacenter
# comes back and catches up.
#
# Layout (tests/cluster/lib.sh qc_dc_*), QC_DC_DELAY ms one way between
# datacenters (the transport's test hook, consensus/transport_fault.c):
#
#   datacenter 1: members 1, 2, 3   group.1=1:2:3
#   datacenter 2: member 4          group.2=4
#   datacenter 3: member 5          group.3=5
#   site 4:       member 6, an observer (no group)
#
# The layout is chosen so that the hierarchical rule (a majority of the
# groups, each by a majority of its own weight) and a flat majority of the
# five participants disagree both ways:
#   - datacenters 2 and 3 lost: 3 of 5 up, a flat majority would write;
#     1 group of 3 is not a quorum, so writes must be refused;
#   - datacenter 1 lost: 2 of 5 up, a flat majority would refuse; 2 groups
#     of 3 are a quorum, so writes must go on.
# The datacenters are lost by kill -9 (qc_kill9) and restarted, so the test
# runs on 127.0.0.1 (the default) and with QC_NET=netns (one network
# namespace a member) alike. QC_DC_DELAY (default 20) sets the delay; the
# test passes with 50 as well (about 50 s on a loaded 2-core machine).
. "${QFS_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/cluster/lib.sh"
QC_DC_DELAY=${QC_DC_DELAY:-20}
NW=${MDC_WRITES:-20}
qc_init 5 1
qc_dc_init "1 2 3" "4" "5" "6"
qc_dc_groups
echo "# zoo.cfg groups: $(grep '^group\.' "$QC_CFG" | tr '\n' ' ')"
echo "# inter-datacenter delay: $QC_DC_DELAY ms each way"

for i in 1 2 3 4 5 6; do
	qc_dc_spawn $i || exit 1
done
for i in 1 2 3 4 5 6; do
	qc_wait_up $i || {
		t_fail "6 members come up"
		exit 1
	}
done
if ! qc_wait_leader 30; then
	t_fail "5 participants in 3 datacenters and an observer elect a leader"
	exit 1
fi
t_ok "5 participants in 3 datacenters and an observer elect a leader (member $QC_LEADER)"
t_eq "member 6 is an observer" observer "$(qc_mode 6)"
grep -q "test fault hook on" "$QC_DATA_1.log" ||
	t_fail "the delay hook is on at member 1" "QC_DC_DELAY=$QC_DC_DELAY"

# A refused write goes outside app: the observer's watcher on app counts
# only committed changes (a create refused with EROFS in a mount still
# raises IN_CREATE there).
refuses() { # MOUNT: a write there fails with EROFS
	rf_err=$(sh -c "echo x >'$1/refused'" 2>&1)
	case "$rf_err" in *"Read-only file system"*) return 0 ;; esac
	return 1
}
# The mount commits at close, and a shell ignores the close of a
# redirection: the write and the close are checked here.
writes() { # MOUNT NAME VALUE: the write, committed at close, succeeds
	"$QC_PY" -c '
import sys
f = open(sys.argv[1], "w")
f.write(sys.argv[2] + "\n")
f.close()' "$1/app/$2" "$3" 2>/dev/null
}
no_leader() { # MEMBERS...: none of them says leader
	for nl_i in "$@"; do
		[ "$(qc_mode "$nl_i")" = leader ] && return 1
	done
	return 0
}

mkdir "$QC_MNT_1/app" || t_fail "mkdir app on member 1"
t_check "app reaches the observer" wait_until 15 test -d "$QC_MNT_6/app"

# The observer's watchers: everything under app, for the whole test.
: >"$T/w6.err"
inotifywait -m -e close_write,create,delete --format '%e %f' "$QC_MNT_6/app" \
	>"$T/w6" 2>"$T/w6.err" &
WPID=$!
QFS_PIDS="$QFS_PIDS $WPID"
wait_until 10 grep -q "Watches established" "$T/w6.err" ||
	t_fail "inotifywait watches the observer's app"

# The observer forwards a write made through its own mount.
if writes "$QC_MNT_6" from-observer o1; then
	t_ok "a write through the observer's mount commits (forwarded to the leader)"
else
	t_fail "a write through the observer's mount commits (forwarded to the leader)"
fi
t_check "member 4 (datacenter 2) reads it" wait_until 10 \
	sh -c "[ \"\$(cat '$QC_MNT_4/app/from-observer')\" = o1 ]"
t_eq "the observer reads it back locally" o1 "$(cat "$QC_MNT_6/app/from-observer")"

# --- datacenters 2 and 3 lost: 3 of 5 up, but 1 group of 3 ---
qc_kill9 4
qc_kill9 5
t_check "without datacenters 2 and 3, member 1's mount refuses writes (EROFS)" \
	wait_until 30 refuses "$QC_MNT_1"
# A flat majority (3 of 5) would elect within an election's time: give it
# that time and check that nothing changed.
sleep 4
t_check "still refused 4 s later: 3 of 5 participants are not a hierarchical quorum" \
	refuses "$QC_MNT_1"
t_check "and none of members 1, 2, 3 says leader" no_leader 1 2 3
t_check "the observer still serves reads" \
	sh -c "[ \"\$(cat '$QC_MNT_6/app/from-observer')\" = o1 ]"
t_check "and refuses writes too (EROFS)" refuses "$QC_MNT_6"

qc_dc_start 4 && qc_dc_start 5 || t_fail "members 4 and 5 restart"
if ! qc_wait_leader 30; then
	t_fail "datacenters 2 and 3 back: a leader again"
	exit 1
fi
t_check "datacenters 2 and 3 back: member 1's mount writes again" \
	wait_until 30 writes "$QC_MNT_1" back23 1

# --- datacenter 1 lost: 2 of 5 up, but 2 groups of 3 ---
T0=$(date +%s%N)
qc_kill9 1
qc_kill9 2
qc_kill9 3
if wait_until 30 writes "$QC_MNT_4" first-without-dc1 1; then
	t_ok "without datacenter 1 (3 of 5 participants gone), writes go on: 2 of 3 groups ($((($(date +%s%N) - T0) / 1000000)) ms to the first committed write)"
else
	t_fail "without datacenter 1 (3 of 5 participants gone), writes go on: 2 of 3 groups"
	for i in 4 5 6; do echo "#   member $i: $(qc_mode $i)"; done
fi
t_check "a leader among members 4 and 5" qc_wait_leader 20
# alternately through datacenter 2's mount and the observer's, in one
# process (a python start costs more than a write on a loaded machine)
out=$("$QC_PY" - "$QC_MNT_4/app" "$QC_MNT_6/app" "$NW" <<'PY'
import sys, time
a, b, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
bad = 0
t0 = time.monotonic()
for k in range(1, n + 1):
    try:
        f = open("%s/k%d" % (b if k % 2 else a, k), "w")
        f.write("v%d\n" % k)
        f.close()
    except OSError:
        bad += 1
print(bad, int((time.monotonic() - t0) * 1000 / n))
PY
)
bad=${out% *}
echo "# $NW writes without datacenter 1 (half forwarded by the observer): ${out#* } ms each"
t_eq "all $NW writes without datacenter 1 commit" 0 "$bad"
observer_has_all() {
	oh_k=1
	while [ $oh_k -le "$NW" ]; do
		[ "$(cat "$QC_MNT_6/app/k$oh_k" 2>/dev/null)" = "v$oh_k" ] || return 1
		oh_k=$((oh_k + 1))
	done
}
t_check "the observer reads every one of them locally" wait_until 10 observer_has_all
watched_all() {
	wa_k=1
	while [ $wa_k -le "$NW" ]; do
		grep -qx "CLOSE_WRITE,CLOSE k$wa_k" "$T/w6" || return 1
		wa_k=$((wa_k + 1))
	done
	grep -qx "CLOSE_WRITE,CLOSE from-observer" "$T/w6" &&
		grep -qx "CLOSE_WRITE,CLOSE back23" "$T/w6"
}
t_check "the observer's watcher saw IN_CLOSE_WRITE for every change (its own and the others')" \
	wait_until 10 watched_all
t_eq "and IN_CREATE once for each new file" "$((NW + 3))" \
	"$(grep -c '^CREATE ' "$T/w6")"

# --- datacenter 1 comes back and catches up ---
qc_dc_start 1 && qc_dc_start 2 && qc_dc_start 3 || t_fail "members 1, 2, 3 restart"
t_check "datacenter 1 rejoins: one leader, every participant follows" qc_wait_leader 30
if qc_wait_converged 40 1 2 3 4 5 6; then
	t_ok "datacenter 1 caught up: the tree's digest is equal on all 6 members"
else
	t_fail "datacenter 1 caught up: the tree's digest is equal on all 6 members"
fi
t_eq "member 2 reads the last write made while it was down" "v$NW" \
	"$(cat "$QC_MNT_2/app/k$NW" 2>/dev/null)"
kill "$WPID" 2>/dev/null
exit 0
