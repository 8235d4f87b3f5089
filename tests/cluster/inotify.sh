#!/bin/sh
# inotify.sh - inotify on one member for changes made on another (DESIGN.md
# section 3, issue 8): exactly the events the same change made locally
# raises. The reference lists are the ones tests/fs/inotify.sh checks on a
# single mount; here the watches are on member 3 (a participant) and member
# 4 (an observer) and the changes are made on member 1's mount and through
# member 2's client port.
. "${QFS_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/cluster/lib.sh"
qc_init 3 1
if ! qc_start_all || ! qc_wait_leader 30; then
	t_fail "3 participants and an observer elect a leader"
	exit 1
fi
t_ok "3 participants and an observer elect a leader (member $QC_LEADER)"
EVENTS=modify,close_write,create,delete,delete_self,attrib,open,moved_from,moved_to

# watch_start NAME PATH...: inotifywait in the background into $T/NAME.
watch_start() {
	ws=$1
	shift
	: >"$T/$ws.err"
	inotifywait -m -e "$EVENTS" --format '%e %f' "$@" >"$T/$ws" 2>"$T/$ws.err" &
	eval "WPID_$ws=$!"
	QFS_PIDS="$QFS_PIDS $!"
	wait_until 10 grep -q "Watches established" "$T/$ws.err"
}
watch_stop() { # NAME
	sleep 0.3
	kill "$(qc_get WPID "$1")" 2>/dev/null
}
# events FILE NAME: the events about NAME, adjacent duplicates folded (as in
# tests/fs/inotify.sh: inotify merges an event equal to the unread last one).
events() {
	awk -v n="$2" '$2 == n { print $1 " X" }' "$1" | uniq | tr '\n' ' ' | sed 's/ $//'
}
REF_FILE="CREATE X OPEN X MODIFY X CLOSE_WRITE,CLOSE X OPEN X MODIFY X CLOSE_WRITE,CLOSE X ATTRIB X DELETE X"
REF_DIR="CREATE,ISDIR X DELETE,ISDIR X"

mkdir "$QC_MNT_1/w"
wait_until 10 test -d "$QC_MNT_3/w" -a -d "$QC_MNT_4/w" || t_fail "w on members 3 and 4"
watch_start loc "$QC_MNT_1/w"
watch_start f3 "$QC_MNT_3/w"
watch_start f4 "$QC_MNT_4/w"
echo one >"$QC_MNT_1/w/f"
echo two >"$QC_MNT_1/w/f"
setfattr -n user.quorumfs.acl -v 'world:anyone:cdrwa' "$QC_MNT_1/w/f"
rm "$QC_MNT_1/w/f"
mkdir "$QC_MNT_1/w/d"
rmdir "$QC_MNT_1/w/d"
for w in f3 f4; do
	wait_until 10 grep -q "^DELETE,ISDIR d" "$T/$w"
done
for w in loc f3 f4; do watch_stop $w; done
t_eq "member 1 (local): create, write, rewrite, setfattr acl, rm" "$REF_FILE" "$(events "$T/loc" f)"
t_eq "member 3 sees member 1's file changes with exactly those events" "$REF_FILE" "$(events "$T/f3" f)"
t_eq "member 4 (observer) sees them with exactly those events" "$REF_FILE" "$(events "$T/f4" f)"
t_eq "member 3 sees member 1's mkdir, rmdir" "$REF_DIR" "$(events "$T/f3" d)"
t_eq "member 4 sees member 1's mkdir, rmdir" "$REF_DIR" "$(events "$T/f4" d)"

# through member 2's client port: the same events on members 1, 3 and 4
watch_start z1 "$QC_MNT_1/w"
watch_start z3 "$QC_MNT_3/w"
watch_start z4 "$QC_MNT_4/w"
ZK2="$QC_ADDR_2:$QC_CPORT_2"
"$QUORUMCTL" -s "$ZK2" create /w/rem one >/dev/null &&
	"$QUORUMCTL" -s "$ZK2" set /w/rem two >/dev/null &&
	"$QUORUMCTL" -s "$ZK2" setacl /w/rem world:anyone:cdrwa >/dev/null &&
	"$QUORUMCTL" -s "$ZK2" delete /w/rem >/dev/null ||
	t_fail "quorumctl create/set/setacl/delete on member 2"
for w in z1 z3 z4; do
	wait_until 10 grep -q "^DELETE rem" "$T/$w"
done
for w in z1 z3 z4; do watch_stop $w; done
for w in 1 3 4; do
	t_eq "member $w: member 2's client create/set/setacl/delete raise the events of the same changes made locally" \
		"$REF_FILE" "$(events "$T/z$w" rem)"
done

# an ephemeral of a client session on member 2: made, then gone when the
# session closes, as echo then rm
watch_start e3 "$QC_MNT_3/w"
"$QUORUMCTL" -s "$ZK2" create -e /w/eph one >/dev/null
wait_until 10 grep -q "^DELETE eph" "$T/e3"
watch_stop e3
t_eq "member 3: member 2's client ephemeral comes and goes with echo-then-rm's events" \
	"CREATE X OPEN X MODIFY X CLOSE_WRITE,CLOSE X DELETE X" "$(events "$T/e3" eph)"

# latency: commit on member 1 to IN_CLOSE_WRITE on member 3 (informational)
timeout 60 "$QC_PY" - "$QC_MNT_1/w" "$QC_MNT_3/w" <<'PY' | sed 's/^/# /'
import os, select, subprocess, sys, time
src, dst = sys.argv[1], sys.argv[2]
p = subprocess.Popen(["inotifywait", "-m", "-e", "close_write", "--format", "%f", dst],
                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, bufsize=0)
err = b""
while b"Watches established" not in err:
    err += p.stderr.read(1)
fd = p.stdout.fileno()
def lines(timeout):
    """the event lines that arrive within timeout (s) of the first one"""
    out = b""
    while select.select([fd], [], [], timeout)[0]:
        b = os.read(fd, 4096)
        if not b:
            break
        out += b
        timeout = 0.02
    return out
lat = []
for k in range(100):
    lines(0.05)                  # nothing left over from the last round
    with open(os.path.join(src, "lat"), "w") as f:
        f.write(str(k))
    t1 = time.monotonic()        # close returned: committed
    while True:
        r = select.select([fd], [], [], 10)[0]
        if not r:
            break
        if b"lat" in os.read(fd, 4096):
            break
    lat.append((time.monotonic() - t1) * 1000)
p.kill()
lat.sort()
print("commit on member 1 (close returned) -> IN_CLOSE_WRITE on member 3, 100 writes: p50 %.2f ms, p99 %.2f ms"
      % (lat[49], lat[98]))
PY

# With nobody watching or looking on member 2, a directory made on member 1
# replays there once (its parent is the root), and the files written in it
# afterwards replay nothing: a replay's own lookups do not keep the names.
# (They did: the directory stayed held, and every change below it was
# replayed through the helper, a third of a member's CPU under load.)
stat2() { getfattr --absolute-names --only-values -n user.quorumfs.stats "$QC_MNT_2" | tr ' ' '\n' | sed -n "s/^$1=//p"; }
r0=$(stat2 replays)
mkdir "$QC_MNT_1/quiet"
for i in 1 2 3 4 5 6 7 8 9 10; do
	qc_put "$QC_MNT_1/quiet/f$i" one
	qc_put "$QC_MNT_1/quiet/f$i" two
done
# Replays run in order: once a watcher on member 2's root has seen a
# creation made after all the above, they have all run.
watch_start sent "$QC_MNT_2"
mkdir "$QC_MNT_1/quietsent"
wait_until 10 grep -q "quietsent" "$T/sent"
watch_stop sent
t_eq "member 2, nobody watching: 10 files made and rewritten in a new directory replay nothing" \
	$((r0 + 2)) "$(stat2 replays)"
timeout 10 sync "$QC_MNT_2/quiet/f4" 2>/dev/null
t_eq "member 2 reads them all the same" two "$(cat "$QC_MNT_2/quiet/f4")"

t_check "every member's tree is the same" qc_wait_converged 30
