#!/bin/sh
# inotify.sh - watches are inotify events (DESIGN.md section 3): a change
# made elsewhere raises exactly the events the same change made through the
# mount raises. Compared as event lists: local changes on one name, the
# same changes from elsewhere on another (the daemon itself: TTL expiry,
# container cleanup; the ZooKeeper protocol through quorumctl).
. "$QFS_SRCDIR/tests/lib.sh"
qfs_init
M=$T/m
PORT=$(free_port)
qfs_start "$M" "$T/d" -o "clientPort=$PORT,containerCheckInterval=100" ||
	{ t_fail "mount"; exit 1; }
EVENTS=modify,close_write,create,delete,delete_self,attrib,open,moved_from,moved_to

# watch_start OUT PATH...: inotifywait in the background, ready when it returns.
watch_start() {
	ws_out=$1
	shift
	: >"$ws_out.err"
	inotifywait -m -e "$EVENTS" --format '%e %f' "$@" >"$ws_out" 2>"$ws_out.err" &
	WPID=$!
	QFS_PIDS="$QFS_PIDS $WPID"
	wait_until 10 grep -q "Watches established" "$ws_out.err"
}
# watch_stop: once the expected events are in (watch_wait), watch a while
# longer: an extra, duplicated or late event then lands in the list
# compared, so the settle period can only make the test stricter.
SETTLE=0.5
watch_stop() {
	sleep "$SETTLE"
	kill "$WPID" 2>/dev/null
	wait "$WPID" 2>/dev/null
}
# ev_lines OUT NAME: the events about NAME, one a line, the name replaced by
# X. Nothing is folded but one thing: open(O_TRUNC) of an existing file
# raises IN_MODIFY for the truncation and the write raises another, and
# inotify merges the second into the first when the first is still unread,
# which depends on the reader's timing, not on what happened. So a run of
# IN_MODIFY counts as one; every other duplicate shows.
ev_lines() {
	awk -v n="$2" 'n != "" && $2 == n { print $1 " X" } n == "" && $2 == "" { print $1 }' "$1" |
		awk '!($0 == prev && $1 == "MODIFY") { print } { prev = $0 }'
}
events() { ev_lines "$@" | tr '\n' ' ' | sed 's/ $//'; }
# watch_wait OUT NAME COUNT: wait (10 s at most) until COUNT events about
# NAME have arrived.
ev_count_ge() { [ "$(ev_lines "$1" "$2" | wc -l)" -ge "$3" ]; }
watch_wait() { wait_until 10 ev_count_ge "$@"; }

# stat_of NAME: a counter of the mount's user.quorumfs.stats
stat_of() { getfattr --absolute-names --only-values -n user.quorumfs.stats "$M" | tr ' ' '\n' | sed -n "s/^$1=//p"; }
stat_ge() { [ "$(stat_of "$1")" -ge "$2" ]; }

mkdir "$M/w"

# --- local changes through the mount: the reference lists ---
watch_start "$T/loc" "$M/w"
echo one >"$M/w/loc"
echo two >"$M/w/loc"
setfattr -n user.quorumfs.acl -v 'world:anyone:cdrwa' "$M/w/loc"
rm "$M/w/loc"
mkdir "$M/w/locd"
rmdir "$M/w/locd"
watch_wait "$T/loc" loc 9
watch_wait "$T/loc" locd 2
watch_stop
t_eq "local: create, write, rewrite, setfattr, rm" \
	"CREATE X OPEN X MODIFY X CLOSE_WRITE,CLOSE X OPEN X MODIFY X CLOSE_WRITE,CLOSE X ATTRIB X DELETE X" \
	"$(events "$T/loc" loc)"
t_eq "local: mkdir, rmdir" "CREATE,ISDIR X DELETE,ISDIR X" "$(events "$T/loc" locd)"
REF_FILE=$(events "$T/loc" loc)

# --- daemon-made: a TTL file and a TTL directory expire ---
mkdir "$M/ttl"
setfattr -n user.quorumfs.child_kind -v ttl:400 "$M/ttl"
watch_start "$T/ttl" "$M/ttl"
echo x >"$M/ttl/f"
mkdir "$M/ttl/d"
wait_until 10 test ! -e "$M/ttl/f" -a ! -e "$M/ttl/d"
watch_wait "$T/ttl" f 5
watch_wait "$T/ttl" d 2
watch_stop
t_eq "TTL file: made here, expired by the daemon: the events of echo then rm" \
	"CREATE X OPEN X MODIFY X CLOSE_WRITE,CLOSE X DELETE X" "$(events "$T/ttl" f)"
t_eq "TTL directory expired: IN_DELETE|IN_ISDIR as rmdir gives" \
	"CREATE,ISDIR X DELETE,ISDIR X" "$(events "$T/ttl" d)"
t_check "the expired names are gone from listings" test -z "$(ls "$M/ttl")"

# --- daemon-made: a container emptied is removed ---
mkdir "$M/ct"
setfattr -n user.quorumfs.child_kind -v container "$M/ct"
mkdir "$M/ct/c"
setfattr -n user.quorumfs.child_kind -v persistent "$M/ct/c"
mkdir "$M/ct/c/x"
watch_start "$T/ct" "$M/ct" "$M/ct/c"
rmdir "$M/ct/c/x"
wait_until 10 test ! -e "$M/ct/c"
watch_wait "$T/ct" c 1
watch_wait "$T/ct" "" 1
watch_stop
t_eq "container emptied: the daemon removes it; its parent sees IN_DELETE|IN_ISDIR" \
	"DELETE,ISDIR X" "$(events "$T/ct" c)"
t_eq "a watch on the container itself sees IN_DELETE_SELF, once" "DELETE_SELF" \
	"$(ev_lines "$T/ct" "" | grep -v '^IGNORED$' | tr '\n' ' ' | sed 's/ $//')"
t_check "container gone" test ! -e "$M/ct/c"

# --- from the ZooKeeper protocol: the same events as the local reference ---
if [ -x "$QUORUMCTL" ]; then
	zk() { "$QUORUMCTL" -s "127.0.0.1:$PORT" "$@" >/dev/null; }
	watch_start "$T/zk" "$M/w"
	zk create /w/rem one
	zk set /w/rem two
	zk setacl /w/rem world:anyone:cdrwa
	zk delete /w/rem
	wait_until 10 test ! -e "$M/w/rem"
	watch_wait "$T/zk" rem 9
	watch_stop
	t_eq "ZooKeeper client create/set/setacl/delete: the events of the same changes made here" \
		"$REF_FILE" "$(events "$T/zk" rem)"
	# A ZooKeeper client's session ends (quorumctl exits): its ephemeral
	# goes, as an rm would remove it.
	watch_start "$T/zke" "$M/w"
	zk create -e /w/eph one
	wait_until 10 test ! -e "$M/w/eph"
	watch_wait "$T/zke" eph 5
	watch_stop
	t_eq "a client's session closes: its ephemeral goes with echo-then-rm's events" \
		"CREATE X OPEN X MODIFY X CLOSE_WRITE,CLOSE X DELETE X" "$(events "$T/zke" eph)"
	echo mine >"$M/w/seen"
	zk set /w/seen theirs
	t_check "a value set elsewhere is read here" wait_until 5 \
		sh -c "[ \"\$(cat '$M/w/seen')\" = theirs ]"
	sleep 0.5
	t_eq "the replay on this mount committed nothing more (version 1 + 1)" 2 \
		"$(getfattr --absolute-names --only-values -n user.quorumfs.version "$M/w/seen")"

	# A replay looks its node up, and the kernel lets go of it afterwards:
	# with nobody watching or looking, later changes below it replay
	# nothing. (They used to replay, each, for as long as the kernel kept
	# the names a replay had looked up.)
	r0=$(stat_of replays)
	f0=$(stat_of forgets)
	zk create /rel one
	t_check "a directory made elsewhere replays (its parent is the root)" \
		wait_until 10 stat_ge replays $((r0 + 1))
	t_check "and the kernel lets go of it afterwards" wait_until 10 stat_ge forgets $((f0 + 1))
	for i in 1 2 3 4 5 6 7 8 9 10; do
		zk create /rel/n$i one
		zk set /rel/n$i two
		zk set /rel/n$i three
	done
	# The replays run in order: once the watcher on the root has seen a
	# creation that came after all the above, they have all run.
	watch_start "$T/sent" "$M"
	zk create /relsent one
	watch_wait "$T/sent" relsent 1
	watch_stop
	t_eq "nobody watching: 10 creations and 20 sets below it replay nothing" $((r0 + 2)) \
		"$(stat_of replays)"
	t_eq "the values are read all the same" three "$(cat "$M/rel/n7")"
	# Watching the directory, or a file: the same changes replay, with
	# their events.
	watch_start "$T/rel" "$M/rel"
	zk set /rel/n3 four
	zk create /rel/n11 one
	watch_wait "$T/rel" n3 3
	watch_wait "$T/rel" n11 4
	watch_stop
	t_eq "watching the directory: a set elsewhere raises its events" \
		"OPEN X MODIFY X CLOSE_WRITE,CLOSE X" "$(events "$T/rel" n3)"
	t_eq "watching the directory: a creation elsewhere raises its events" \
		"CREATE X OPEN X MODIFY X CLOSE_WRITE,CLOSE X" "$(events "$T/rel" n11)"
	watch_start "$T/relf" "$M/rel/n5"
	zk set /rel/n5 four
	zk set /rel/n5 five
	watch_wait "$T/relf" "" 6
	watch_stop
	t_eq "watching a file: each set elsewhere raises its events" \
		"OPEN MODIFY CLOSE_WRITE,CLOSE OPEN MODIFY CLOSE_WRITE,CLOSE" "$(events "$T/relf" "")"
else
	t_skip "ZooKeeper client changes" "no quorumctl built"
fi
qfs_stop "$QFS_PID" "$M"
