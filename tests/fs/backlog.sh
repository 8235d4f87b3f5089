#!/bin/sh
# backlog.sh - a close on the mount does not wait behind a long replay
# backlog (fs/replay.c, RP_BACKLOG), and the backlog still raises every
# event it owes.
#
# The test build tests/chaos/quorumfs_mutant with
# QUORUMFS_TEST_REPLAY_DELAY_MS=100 makes each replay of a foreign change
# wait 100 ms first. 120 nodes created through the ZooKeeper protocol in a
# directory an inotify watch holds are then 12 s of replay. A file written
# through the mount meanwhile must be closed while most of those events are
# still owed (before, its answer waited behind all of them); then the
# watcher must see every foreign create once, and the local file's own
# events; and replayed values read back as they are.
. "$QFS_SRCDIR/tests/lib.sh"
qfs_init
M=$T/m
CTL=$QUORUMCTL
N=120
need_mutant
PORT=$(free_port)
QUORUMFS=$MUTANT QUORUMFS_TEST_REPLAY_DELAY_MS=100 qfs_start "$M" "$T/d" -o "clientPort=$PORT" ||
	{ t_fail "mount"; exit 1; }
mkdir "$M/w" || t_fail "mkdir through the mount"

watch_up "$M/w" create,close_write "$T/ev"
multi_creates "$PORT" /w $N
foreign() { grep -c '^CREATE z' "$T/ev"; }

# The local write, in the background: it must return while the replay is
# still behind (the wait is bounded; the backlog lasts ~12 s).
(echo mine >"$M/w/mine" && foreign >"$T/seen_at_close") &
wp=$!
if wait_until 8 test -s "$T/seen_at_close"; then
	seen=$(cat "$T/seen_at_close")
	if [ "$seen" -lt $((N / 2)) ]; then
		t_ok "a close returns ahead of the backlog ($seen of $N foreign events replayed then)"
	else
		t_fail "a close returns ahead of the backlog" "$seen of $N foreign events were replayed first"
	fi
else
	t_fail "a close returns ahead of the backlog" "no answer in 8 s; $(foreign) of $N replayed"
fi
wait $wp 2>/dev/null
t_check "the local write is in the tree" sh -c "'$CTL' -s 127.0.0.1:$PORT get /w/mine | grep -qx mine"

t_check "every foreign create is replayed" wait_until 60 sh -c "[ \$(grep -c '^CREATE z' '$T/ev') -ge $N ]"
sleep 0.5 # a duplicate would land now
dups=$(grep '^CREATE z' "$T/ev" | sort | uniq -d | wc -l)
names=$(grep '^CREATE z' "$T/ev" | sort -u | wc -l)
if [ "$names" -eq $N ] && [ "$dups" -eq 0 ]; then
	t_ok "each of the $N foreign creates raised IN_CREATE once"
else
	t_fail "each of the $N foreign creates raised IN_CREATE once" "$names names, $dups duplicated"
fi
t_check "the local file raised IN_CREATE and IN_CLOSE_WRITE" \
	sh -c "grep -qx 'CREATE mine' '$T/ev' && grep -q '^CLOSE_WRITE,CLOSE mine' '$T/ev'"
# A replay writes zeros of the value's length (replay_proc.c): what is read
# back is the value all the same, after a create and after a change.
t_eq "a replayed create reads back its value" x7 "$(cat "$M/w/z7")"
t_check "a value set through the ZooKeeper protocol" "$CTL" -s 127.0.0.1:$PORT set /w/z8 changed
t_check "its replay raises IN_CLOSE_WRITE" wait_until 30 grep -q '^CLOSE_WRITE,CLOSE z8' "$T/ev"
t_eq "and it reads back as set" changed "$(cat "$M/w/z8")"
t_check "the daemon stops cleanly" qfs_stop "$QFS_PID" "$M"
