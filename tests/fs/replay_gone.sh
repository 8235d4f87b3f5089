#!/bin/sh
# replay_gone.sh - changes made elsewhere to a node that is deleted before
# their replays run still raise their events (fs/attr.c, replay_lookup):
# the replayed write and setxattr meet the name as it was, not ENOENT. Seen
# in CI on a cluster observer: a setfattr then rm on another member raised
# DELETE but no ATTRIB, the ACL's replay having found the name gone.
#
# The test build tests/chaos/quorumfs_mutant with
# QUORUMFS_TEST_REPLAY_DELAY_MS=1000 holds each replay of a foreign change
# for a second, so a create, set, setacl and delete through the ZooKeeper
# protocol are all in the tree before the first of them is replayed (the
# test checks that no event came before the four returned).
. "$QFS_SRCDIR/tests/lib.sh"
qfs_init
M=$T/m
need_mutant
PORT=$(free_port)
ZK=127.0.0.1:$PORT
QUORUMFS=$MUTANT QUORUMFS_TEST_REPLAY_DELAY_MS=1000 qfs_start "$M" "$T/d" \
	-o "clientPort=$PORT" || { t_fail "mount"; exit 1; }
mkdir "$M/w" || t_fail "mkdir through the mount"
EV=modify,close_write,create,delete,delete_self,attrib,open
# events FILE NAME: NAME's events, adjacent duplicates folded (inotify
# merges an event equal to the unread last one).
events() {
	awk -v n="$2" '$2 == n { print $1 }' "$1" | uniq | tr '\n' ' ' | sed 's/ $//'
}
# all_events FILE: every event in FILE, folded the same way.
all_events() {
	awk '{ print $1 }' "$1" | uniq | tr '\n' ' ' | sed 's/ $//'
}
# zk_ops "OP ARGS" ...: quorumctl commands through the client port, each
# once the one before has returned.
zk_ops() {
	for op in "$@"; do
		# shellcheck disable=SC2086 # OP ARGS are words
		"$QUORUMCTL" -s "$ZK" $op >/dev/null || return 1
	done
}

# 1. A watch on the directory: the events of the same four changes made
# on this mount (tests/fs/inotify.sh's reference).
watch_up "$M/w" "$EV" "$T/ev"
t_check "create, set, setacl, delete of /w/f through the ZooKeeper protocol" \
	zk_ops "create /w/f one" "set /w/f two" "setacl /w/f world:anyone:cdrwa" "delete /w/f"
t_eq "... all in the tree before the first replay (no event yet)" "" "$(events "$T/ev" f)"
t_check "the deletion is replayed" wait_until 20 grep -qx "DELETE f" "$T/ev"
t_eq "each change raised the events it raises when made on the mount" \
	"CREATE OPEN MODIFY CLOSE_WRITE,CLOSE OPEN MODIFY CLOSE_WRITE,CLOSE ATTRIB DELETE" \
	"$(events "$T/ev" f)"

# 2. A watch on the file itself holds its inode: the replays reach that
# inode, the one the kernel has, though the node is gone.
echo x >"$M/w/g" && echo x >"$M/w/l" || t_fail "two files through the mount"
watch_up "$M/w/l" "$EV" "$T/evl"
setfattr -n user.quorumfs.acl -v 'world:anyone:cdrwa' "$M/w/l" && rm "$M/w/l" ||
	t_fail "setfattr and rm through the mount"
t_check "the local rm's events" wait_until 10 grep -q "DELETE_SELF" "$T/evl"
watch_up "$M/w/g" "$EV" "$T/evg"
watch_up "$M/w" "$EV" "$T/evw" # a fresh one: only g's changes from now
t_check "set, setacl, delete of /w/g through the ZooKeeper protocol" \
	zk_ops "set /w/g two" "setacl /w/g world:anyone:cdrwa" "delete /w/g"
t_eq "... all in the tree before the first replay (no event yet)" "" "$(cat "$T/evg" "$T/evw")"
t_check "the deletion is replayed (the file's watch)" wait_until 20 grep -q "DELETE_SELF" "$T/evg"
t_check "... (the directory's watch)" wait_until 20 grep -qx "DELETE g" "$T/evw"
t_eq "the watch on the file: the write's, the ACL's and the deletion's events" \
	"OPEN MODIFY CLOSE_WRITE,CLOSE $(all_events "$T/evl")" "$(all_events "$T/evg")"
t_eq "the watch on the directory too" \
	"OPEN MODIFY CLOSE_WRITE,CLOSE ATTRIB DELETE" "$(events "$T/evw" g)"

# 3. A watch on a directory that is deleted with its children: the
# replays below it reach the inode the watch holds, through the name the
# deletion's own replay (queued behind) will drop.
mkdir "$M/w/d" && echo x >"$M/w/d/c" || t_fail "a directory and a file in it"
watch_up "$M/w/d" "$EV" "$T/evd"
t_check "set, create below, setacl, delete all of /w/d through the ZooKeeper protocol" \
	zk_ops "set /w/d dd" "create /w/d/n" "setacl /w/d world:anyone:cdrwa" \
	"delete /w/d/c" "delete /w/d/n" "delete /w/d"
t_eq "... all in the tree before the first replay (no event yet)" "" "$(cat "$T/evd")"
t_check "the deletion is replayed" wait_until 30 grep -q "DELETE_SELF" "$T/evd"
t_eq "the watch on the directory: its data's, the create's, the ACL's and the deletions' events" \
	"OPEN .data|MODIFY .data|CLOSE_WRITE,CLOSE .data|CREATE n|ATTRIB,ISDIR |DELETE c|DELETE n|DELETE_SELF " \
	"$(uniq "$T/evd" | tr '\n' '|' | sed 's/|$//')"
t_check "the daemon stops cleanly" qfs_stop "$QFS_PID" "$M"
