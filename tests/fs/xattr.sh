#!/bin/sh
# xattr.sh - the znode's stat, ACL and kind as user.quorumfs.* attributes:
# getfattr -d -m - lists them, setfattr sets acl and child_kind.
. "$QFS_SRCDIR/tests/lib.sh"
qfs_init
M=$T/m
qfs_start "$M" "$T/d" -o clientPort=0,containerCheckInterval=100 || { t_fail "mount"; exit 1; }
xv() { getfattr --only-values -n "user.quorumfs.$1" "$2" 2>/dev/null; }

mkdir "$M/app"
echo hello >"$M/app/f"
getfattr -d -m - "$M/app/f" 2>/dev/null | sed -n 's/^user\.quorumfs\.\([a-z_]*\)=.*/\1/p' |
	sort | tr '\n' ' ' >"$T/names"
t_eq "getfattr -d -m - lists every stat field, acl and kind" \
	"acl aversion ctime cversion czxid data_length ephemeral_owner kind mtime mzxid num_children pzxid version " \
	"$(cat "$T/names")"
t_check "a directory also lists child_kind" sh -c \
	"getfattr -d -m - '$M/app' 2>/dev/null | grep -q '^user.quorumfs.child_kind='"
t_eq "version" 1 "$(xv version "$M/app/f")"
t_eq "data_length" 6 "$(xv data_length "$M/app/f")"
t_eq "num_children" 1 "$(xv num_children "$M/app")"
t_eq "kind" persistent "$(xv kind "$M/app/f")"
t_eq "ephemeral_owner of a persistent node" 0x0 "$(xv ephemeral_owner "$M/app/f")"
t_check "czxid is a hex zxid" sh -c "getfattr --only-values -n user.quorumfs.czxid '$M/app/f' | grep -Eq '^0x[0-9a-f]+\$'"
t_check "mzxid moved past czxid after the write" python3 -c "
import os; p='$M/app/f'
c=int(os.getxattr(p,'user.quorumfs.czxid'),16); m=int(os.getxattr(p,'user.quorumfs.mzxid'),16)
assert m > c"
t_check "mtime (ms) matches st_mtime" python3 -c "
import os; p='$M/app/f'
assert int(os.getxattr(p,'user.quorumfs.mtime')) // 1000 == int(os.stat(p).st_mtime)"
t_eq "a directory and its .data show the same znode" "$(xv czxid "$M/app")" \
	"$(xv czxid "$M/app/.data")"
t_eq "acl default" "world:anyone:cdrwa" "$(xv acl "$M/app/f")"

setfattr -n user.quorumfs.acl -v 'world:anyone:cdra' "$M/app/f"
t_eq "setfattr acl" "world:anyone:cdra" "$(xv acl "$M/app/f")"
t_eq "aversion counts ACL changes" 1 "$(xv aversion "$M/app/f")"
t_eq "mode bits follow at once" "-r--r--r--" "$(stat -c %A "$M/app/f")"
setfattr -n user.quorumfs.acl -v 'world:anyone:cdrwa' "$M/app/f"
t_eq "mode bits back" "-rw-rw-rw-" "$(stat -c %A "$M/app/f")"

t_eq "child_kind default" persistent "$(xv child_kind "$M/app")"
for k in ephemeral container ttl:60000 persistent; do
	setfattr -n user.quorumfs.child_kind -v "$k" "$M/app"
	t_eq "child_kind set to $k" "$k" "$(xv child_kind "$M/app")"
done
setfattr -n user.quorumfs.child_kind -v container "$M/app"
mkdir "$M/app/c"
t_eq "mkdir under child_kind=container makes a container" container "$(xv kind "$M/app/c")"
setfattr -n user.quorumfs.child_kind -v ttl:60000 "$M/app"
echo t >"$M/app/t"
t_eq "a file under child_kind=ttl:N is a TTL node" ttl "$(xv kind "$M/app/t")"
setfattr -n user.quorumfs.child_kind -v ephemeral "$M/app"
mkdir "$M/app/e"
t_eq "mkdir under child_kind=ephemeral makes an ephemeral" ephemeral "$(xv kind "$M/app/e")"
t_check "an ephemeral lists owner" sh -c \
	"getfattr -d -m - '$M/app/e' 2>/dev/null | grep -q '^user.quorumfs.owner='"
t_check "owner names this host's mount and session" sh -c \
	"getfattr --only-values -n user.quorumfs.owner '$M/app/e' | grep -q '$M session 0x'"
t_eq "ephemeral_owner is the mount's session" \
	"$(getfattr --only-values -n user.quorumfs.owner "$M/app/e" | sed 's/.* session //')" \
	"$(xv ephemeral_owner "$M/app/e")"
setfattr -x user.quorumfs.child_kind "$M/app"
t_eq "removing child_kind means persistent" persistent "$(xv child_kind "$M/app")"
t_check "the root has request counters (stats)" sh -c \
	"getfattr --only-values -n user.quorumfs.stats '$M' | grep -q 'reads='"
qfs_stop "$QFS_PID" "$M"
