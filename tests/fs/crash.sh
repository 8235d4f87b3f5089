#!/bin/sh
# crash.sh - kill -9 loses nothing acknowledged. Writer loops rewrite their
# own files (value i = the i-th write since creation, so value == version);
# a write counts as acknowledged only once close() succeeded. The daemon is
# killed with -9 at random moments, several rounds, and restarted; every
# file must hold at least its last acknowledged value, and its version must
# equal its value (one setData per close, none lost, none doubled).
#
# The kill moments come from a seed, printed first; QFS_SEED=N replays a
# run's moments (the rest -- scheduling, how far the writers got -- is not
# reproducible, but the moments are).
. "$QFS_SRCDIR/tests/lib.sh"
qfs_init
M=$T/m
D=$T/d
OPTS="clientPort=0"
WRITERS=4
ROUNDS=${QFS_CRASH_ROUNDS:-5}
SEED=${QFS_SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}
echo "# seed $SEED (QFS_SEED=$SEED QFS_CRASH_ROUNDS=$ROUNDS replays these kill moments)"

cat >"$T/writer.py" <<'PY'
import os, sys, time
path, ack = sys.argv[1], sys.argv[2]
try:
    i = int(open(path).read() or "0")
except OSError:
    sys.exit(0)
while True:
    i += 1
    try:
        fd = os.open(path, os.O_WRONLY | os.O_TRUNC)
        os.write(fd, str(i).encode())
        os.close(fd)
    except OSError:
        sys.exit(0) # the daemon died: this write is not acknowledged
    with open(ack, "a") as a:
        a.write("%d\n" % i)
        a.flush()
        os.fsync(a.fileno())
PY

qfs_start "$M" "$D" -o "$OPTS" || { t_fail "mount"; exit 1; }
mkdir "$M/crash"
w=1
while [ $w -le $WRITERS ]; do
	touch "$M/crash/f$w" # version 0, empty: value 0
	: >"$T/ack$w"
	w=$((w + 1))
done

r=1
while [ $r -le $ROUNDS ]; do
	pids=""
	w=1
	while [ $w -le $WRITERS ]; do
		python3 "$T/writer.py" "$M/crash/f$w" "$T/ack$w" &
		pids="$pids $!"
		w=$((w + 1))
	done
	# Every writer is writing (python3 can take a second to start; a kill
	# before the first write would test nothing), then a random moment
	# between 0.3 and 1.5 s later.
	w=1
	while [ $w -le $WRITERS ]; do
		n0=$(wc -l <"$T/ack$w")
		wait_until 20 sh -c "test \$(wc -l <'$T/ack$w') -gt $n0" ||
			echo "# round $r: writer $w acknowledged nothing in 20 s"
		w=$((w + 1))
	done
	moment=$(awk -v s="$SEED" -v r="$r" 'BEGIN { srand(s + r); printf "%.2f", 0.3 + rand() * 1.2 }')
	echo "# round $r: kill -9 after ${moment} s"
	sleep "$moment"
	qfs_kill9 "$QFS_PID" "$M"
	for p in $pids; do
		i=0
		while kill -0 "$p" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
		kill -KILL "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	qfs_start "$M" "$D" -o "$OPTS" || { t_fail "restart after kill -9 (round $r)"; exit 1; }
	bad=0
	acked=0
	w=1
	while [ $w -le $WRITERS ]; do
		last=$(tail -1 "$T/ack$w")
		last=${last:-0}
		acked=$((acked + $(wc -l <"$T/ack$w")))
		val=$(cat "$M/crash/f$w")
		ver=$(getfattr --only-values -n user.quorumfs.version "$M/crash/f$w")
		if [ "${val:-0}" -lt "$last" ] || [ "${val:-0}" != "$ver" ]; then
			echo "# round $r f$w: last acknowledged $last, value '$val', version $ver"
			bad=$((bad + 1))
		fi
		w=$((w + 1))
	done
	t_eq "round $r: every acknowledged write present with its version ($acked acknowledged so far)" \
		0 "$bad"
	t_check "round $r: the writers had writes acknowledged ($acked)" test "$acked" -ge $((r * WRITERS))
	r=$((r + 1))
done
qfs_stop "$QFS_PID" "$M"
