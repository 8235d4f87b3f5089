#!/bin/sh
# replay_limit.sh - the inotify replay queue is bounded (mountReplayLimit,
# fs/replay.c): past the limit, changes from elsewhere are not replayed
# until the queue drains; watchers miss exactly those events, the log says
# so when it starts and how many when it ends, reads are right within the
# kernel's entry timeout (2 s), and replays resume afterwards; and a
# lookup while a deletion's replay is owed does not swallow its IN_DELETE.
#
# The test build tests/chaos/quorumfs_mutant with
# QUORUMFS_TEST_REPLAY_DELAY_MS=100 makes each replay of a foreign change
# wait 100 ms, so 120 nodes created in one multi through the ZooKeeper
# protocol, in a directory an inotify watch holds, outrun a limit of 20.
. "$QFS_SRCDIR/tests/lib.sh"
qfs_init
M=$T/m
CTL=$QUORUMCTL
N=120
LIMIT=20
need_mutant
PORT=$(free_port)
QUORUMFS=$MUTANT QUORUMFS_TEST_REPLAY_DELAY_MS=100 qfs_start "$M" "$T/d" \
	-o "clientPort=$PORT,mountReplayLimit=$LIMIT" || { t_fail "mount"; exit 1; }
mkdir "$M/w" || t_fail "mkdir through the mount"
# The kernel caches the absence of a name the multi will create.
t_check "a name not there yet is absent" sh -c "! test -e '$M/w/z100'"

watch_up "$M/w" create,delete "$T/ev"
multi_creates "$PORT" /w $N
t_check "the log says replays stop at the limit" wait_until 10 \
	grep -q "changes queued for inotify replay (mountReplayLimit=$LIMIT): changes from elsewhere are not replayed" "$T/d.log"
# A local write meanwhile is answered as usual.
t_check "a write through the mount meanwhile" sh -c "echo mine >'$M/w/mine'"
t_check "the log says when the replay caught up" wait_until 60 \
	grep -q "inotify replay caught up: [0-9]* changes from elsewhere were not replayed" "$T/d.log"
skipped=$(sed -n 's/.*inotify replay caught up: \([0-9]*\) changes.*/\1/p' "$T/d.log" | head -1)
sleep 0.5 # a late event would land now
stat_of() { getfattr --absolute-names --only-values -n user.quorumfs.stats "$M" | tr ' ' '\n' | sed -n "s/^$1=//p"; }
t_eq "the mount's stats count the skipped changes too" "$skipped" "$(stat_of replays_skipped)"
t_check "... and an empty queue" wait_until 5 sh -c "[ \"\$(getfattr --absolute-names --only-values -n user.quorumfs.stats '$M' | tr ' ' '\n' | sed -n 's/^replay_queued=//p')\" = 0 ]"
seen=$(grep -c '^CREATE z' "$T/ev")
sed 's/^/# /' "$T/d.log" | grep -i "replay" | head -3
t_check "the watcher saw no more than the limit's worth ($seen of $N)" \
	[ "$seen" -ge 1 ] && [ "$seen" -le $((LIMIT + 1)) ]
t_eq "events seen and changes skipped add up to the $N creates" "$N" "$((seen + skipped))"
t_eq "no create raised two events" 0 "$(grep '^CREATE z' "$T/ev" | sort | uniq -d | wc -l)"
# Reads are right for replayed and skipped nodes alike, the name whose
# absence the kernel cached included (within its entry timeout, 2 s).
t_eq "the directory lists every node" $((N + 1)) "$(ls "$M/w" | wc -l)"
t_check "a skipped create reads back its value" \
	wait_until 5 sh -c "[ \"\$(cat '$M/w/z100' 2>/dev/null)\" = x100 ]"
t_eq "a replayed one too" x0 "$(cat "$M/w/z0")"
# Once drained, changes from elsewhere raise their events again.
t_check "a create after the queue drained" "$CTL" -s 127.0.0.1:$PORT create /w/after a
t_check "... is replayed: IN_CREATE" wait_until 10 grep -qx 'CREATE after' "$T/ev"
t_check "a delete from elsewhere: IN_DELETE" sh -c "'$CTL' -s 127.0.0.1:$PORT delete /w/z1"
t_check "... is replayed" wait_until 10 grep -qx 'DELETE z1' "$T/ev"
# A name looked up here while its deletion's replay is still owed (each
# waits 100 ms in this build): the absence the lookup finds must not be
# cached, or the replayed unlink meets it and raises no IN_DELETE.
t_check "a node created elsewhere" "$CTL" -s 127.0.0.1:$PORT create /w/gone a
t_check "... is replayed" wait_until 10 grep -qx 'CREATE gone' "$T/ev"
t_check "its deletion elsewhere, then a lookup here before the replay" \
	sh -c "'$CTL' -s 127.0.0.1:$PORT delete /w/gone && ! test -e '$M/w/gone'"
t_check "... still raises IN_DELETE" wait_until 10 grep -qx 'DELETE gone' "$T/ev"
t_check "the daemon stops cleanly" qfs_stop "$QFS_PID" "$M"
