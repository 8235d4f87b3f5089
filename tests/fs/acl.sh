#!/bin/sh
# acl.sh - the mount enforces every ACL right for the local user behind each
# request (quorumfs(8), PERMISSIONS): READ on read, listing and the acl
# attribute, the others on writes; on a shared mount (allow_other) each user
# has the identities mountUserMap gives it (the mounting user also the
# mount's own), unmapped users only world:anyone, and ls -l shows each user
# its own rights.
. "$QFS_SRCDIR/tests/lib.sh"
qfs_init
command -v setpriv >/dev/null || { t_skip "acl" "setpriv(1) missing"; exit 0; }
[ "$(id -u)" = 0 ] || { t_skip "acl" "needs root (allow_other, setpriv)"; exit 0; }
chmod 755 "$T" # other users must reach the mount point
M=$T/m
h() { python3 -c "import hashlib,base64,sys; print(base64.b64encode(hashlib.sha1(sys.argv[1].encode()).digest()).decode())" "$1"; }
HA=$(h alice:pa)
HB=$(h bob:pb)
HO=$(h ops:po)
# The daemon (root, the mounting user) is digest:ops; uid 1000 is alice;
# group 2000 is ip:10.2.2.2; uid 1003 has the mount's identities, uid 1004
# is super; uid 1002 is not in the map.
qfs_start "$M" "$T/d" -o clientPort=0,allow_other,mountAuth=digest:ops:po \
	-o "mountUserMap=uid:1000=digest:alice:$HA;gid:2000=ip:10.2.2.2;uid:1003=mount;uid:1004=super" ||
	{ t_fail "mount"; exit 1; }
as() { u=$1 g=$2; shift 2; setpriv --reuid "$u" --regid "$g" --clear-groups "$@"; }
as_g() { u=$1 g=$2 gs=$3; shift 3; setpriv --reuid "$u" --regid "$g" --groups "$gs" "$@"; }
# err CMD...: the first line of CMD's stderr when it fails, "OK" otherwise
err() { if "$@" >/dev/null 2>"$T/err"; then echo OK; else sed -n '1s/.*: //p' "$T/err"; fi; }

echo secret >"$M/ip"
echo bobs >"$M/bob"
echo alices >"$M/alice"
echo open >"$M/world"
echo grp >"$M/grp"
mkdir "$M/bobdir" "$M/alicedir"
echo inner >"$M/bobdir/f"
setfattr -n user.quorumfs.acl -v "ip:10.1.1.1:cdrwa" "$M/ip"
setfattr -n user.quorumfs.acl -v "digest:bob:$HB:cdrwa" "$M/bob"
setfattr -n user.quorumfs.acl -v "digest:alice:$HA:r,digest:ops:$HO:rw" "$M/alice"
setfattr -n user.quorumfs.acl -v "ip:10.2.2.2:r" "$M/grp"
setfattr -n user.quorumfs.acl -v "digest:bob:$HB:cdrwa" "$M/bobdir"
setfattr -n user.quorumfs.acl -v "digest:alice:$HA:rc" "$M/alicedir"

# The mounting user: a node only another identity may read stays unread.
t_eq "cat of a node whose ACL names only ip:10.1.1.1" "Permission denied" "$(err cat "$M/ip")"
t_eq "cat of a node only digest:bob may read" "Permission denied" "$(err cat "$M/bob")"
t_eq "ls of a directory without READ" "Permission denied" "$(err ls "$M/bobdir")"
t_eq "getfattr of its acl" "Permission denied" \
	"$(err getfattr -n user.quorumfs.acl "$M/bob")"
t_eq "getfattr -d leaves the acl out instead of failing" "OK no-acl" \
	"$(err getfattr --absolute-names -d -m - "$M/bob") $(getfattr --absolute-names -d -m - "$M/bob" |
		grep -q acl || echo no-acl)"
t_eq "its stat fields need no right (exists)" 1 \
	"$(getfattr --absolute-names --only-values -n user.quorumfs.version "$M/bob")"
echo adm >"$M/adminonly"
setfattr -n user.quorumfs.acl -v "world:anyone:a" "$M/adminonly"
t_eq "ADMIN without READ: the data stays unread" "Permission denied" \
	"$(err cat "$M/adminonly")"
t_eq "ADMIN without READ: the acl is readable (getACL needs READ or ADMIN)" \
	"world:anyone:a" "$(getfattr --absolute-names --only-values -n user.quorumfs.acl "$M/adminonly")"
t_eq "a file inside a directory without READ is still guarded by its own ACL" inner \
	"$(cat "$M/bobdir/f")"
t_eq "mode bits: no right" "----------" "$(stat -c %A "$M/bob")"
t_eq "mode bits: directory without rights" "d--x--x--x" "$(stat -c %A "$M/bobdir")"
t_eq "the mount's identity (ops) reads" alices "$(cat "$M/alice")"
t_eq "mode bits: ops has rw" "-rw-rw-rw-" "$(stat -c %A "$M/alice")"
t_eq "the mounting user is not alice" "Permission denied" "$(err ls "$M/alicedir")"
t_eq "the mounting user is not in group 2000" "Permission denied" "$(err cat "$M/grp")"

# alice (uid 1000): exactly digest:alice.
t_eq "alice reads her node" alices "$(as 1000 1000 cat "$M/alice")"
t_eq "alice's mode bits" "-r--r--r--" "$(as 1000 1000 stat -c %A "$M/alice")"
t_eq "the next stat by the mounting user is not alice's (no shared attr cache)" \
	"-rw-rw-rw-" "$(stat -c %A "$M/alice")"
t_eq "alice cannot write it (no WRITE)" "Permission denied" \
	"$(err as 1000 1000 sh -c "echo x >'$M/alice'")"
t_eq "the value is unchanged" alices "$(cat "$M/alice")"
t_eq "alice cannot read bob's node" "Permission denied" "$(err as 1000 1000 cat "$M/bob")"
t_eq "alice cannot read the ip-only node" "Permission denied" "$(err as 1000 1000 cat "$M/ip")"
t_eq "alice cannot get bob's acl" "Permission denied" \
	"$(err as 1000 1000 getfattr -n user.quorumfs.acl "$M/bob")"
t_eq "alice lists her directory" "" "$(as 1000 1000 ls "$M/alicedir")"
t_eq "alice's directory mode bits (READ, CREATE)" "drwxrwxrwx" \
	"$(as 1000 1000 stat -c %A "$M/alicedir")"
t_check "alice creates in it (CREATE)" as 1000 1000 mkdir "$M/alicedir/sub"
t_eq "alice cannot remove from it (no DELETE)" "Permission denied" \
	"$(err as 1000 1000 rmdir "$M/alicedir/sub")"
t_eq "alice cannot list bob's directory" "Permission denied" \
	"$(err as 1000 1000 ls "$M/bobdir")"
t_eq "alice reads an open node" open "$(as 1000 1000 cat "$M/world")"
t_eq "alice's append is refused at open" \
	"Permission denied" "$(err as 1000 1000 sh -c "echo x >>'$M/alice'")"
t_eq "alice writes an open node" OK "$(err as 1000 1000 sh -c "echo byalice >'$M/world'")"
t_eq "and it is written" byalice "$(cat "$M/world")"
# The commit at close is the opener's: alice opens an open node, loses
# WRITE before her close, and her close fails though the mount's own
# identity could still write.
mkdir -m 1777 "$T/x"
echo open2 >"$M/w2"
as 1000 1000 /usr/bin/python3 -c "
import os, sys, time
fd = os.open('$M/w2', os.O_WRONLY | os.O_TRUNC)
os.write(fd, b'byalice2')
open('$T/x/written', 'w').close()
for i in range(200):
    if os.path.exists('$T/x/go'): break
    time.sleep(0.05)
try:
    os.close(fd); print('OK')
except OSError as e:
    print(os.strerror(e.errno))
" >"$T/x/out" 2>&1 &
APID=$!
wait_until 10 test -e "$T/x/written"
setfattr -n user.quorumfs.acl -v "digest:ops:$HO:cdrwa,digest:alice:$HA:r" "$M/w2"
touch "$T/x/go"
wait "$APID"
t_eq "alice's close commits as alice: EACCES once she lost WRITE" "Permission denied" \
	"$(cat "$T/x/out")"
t_eq "and nothing was written" open2 "$(cat "$M/w2")"

# Groups: gid 2000, primary or supplementary, is ip:10.2.2.2.
t_eq "primary group 2000 reads" grp "$(as 1001 2000 cat "$M/grp")"
t_eq "supplementary group 2000 reads" grp "$(as_g 1001 3000 2000 cat "$M/grp")"
t_eq "group 2000's mode bits" "-r--r--r--" "$(as 1001 2000 stat -c %A "$M/grp")"
t_eq "without group 2000: denied" "Permission denied" "$(err as 1001 3000 cat "$M/grp")"

# "mount" and "super" in the map.
t_eq "uid 1003 (mapped to mount) reads what ops may" alices "$(as 1003 1003 cat "$M/alice")"
t_eq "uid 1003 has ops's mode bits" "-rw-rw-rw-" "$(as 1003 1003 stat -c %A "$M/alice")"
t_eq "uid 1003 cannot read bob's node" "Permission denied" "$(err as 1003 1003 cat "$M/bob")"
t_eq "uid 1004 (super) reads bob's node" bobs "$(as 1004 1004 cat "$M/bob")"
t_eq "uid 1004 lists bob's directory" f "$(as 1004 1004 ls "$M/bobdir")"
t_eq "uid 1004's mode bits: everything" "-rw-rw-rw-" "$(as 1004 1004 stat -c %A "$M/bob")"

# Unmapped (uid 1002): world:anyone only, not even the mount's ip:127.0.0.1.
t_eq "unmapped user reads an open node" byalice "$(as 1002 1002 cat "$M/world")"
t_eq "unmapped user's mode bits on an open node" "-rw-rw-rw-" \
	"$(as 1002 1002 stat -c %A "$M/world")"
t_eq "unmapped user cannot read alice's node" "Permission denied" \
	"$(err as 1002 1002 cat "$M/alice")"
t_eq "unmapped user's mode bits there" "----------" "$(as 1002 1002 stat -c %A "$M/alice")"
setfattr -n user.quorumfs.acl -v "ip:127.0.0.1:cdrwa" "$M/world"
t_eq "the mount's ip:127.0.0.1 is the mounting user's, not everyone's" "Permission denied" \
	"$(err as 1002 1002 cat "$M/world")"
t_eq "while the mounting user keeps it" byalice "$(cat "$M/world")"
t_eq "ls -l of the root as the unmapped user" \
	"---------- adminonly|---------- alice|---------- bob|d--x--x--x bobdir|---------- grp|---------- ip|---------- w2|---------- world" \
	"$(as 1002 1002 ls -l "$M" | awk '$NF != "zookeeper" && $NF != "alicedir" && NR > 1 {print $1 " " $NF}' | paste -sd'|')"

# A bad map is refused at start, naming the entry.
"$QUORUMFS" -f -o "dataDir=$T/d2,clientPort=0,mountUserMap=uid:x=digest:a" "$T/m2" \
	>"$T/bad.log" 2>&1
t_eq "a bad mountUserMap entry stops the start with status 1" 1 "$?"
t_check "and the message names it" grep -q "mountUserMap: 'uid:x=digest:a'" "$T/bad.log"
