#!/bin/sh
# errors.sh - every error a shell user can meet maps to the errno DESIGN.md
# section 1 promises; unsupported operations fail with a clear errno.
. "$QFS_SRCDIR/tests/lib.sh"
qfs_init
M=$T/m
qfs_start "$M" "$T/d" -o clientPort=0 || { t_fail "mount"; exit 1; }

# errno OP ARGS...: the errno name a call fails with ("OK" on success).
errno_of() {
	python3 - "$@" <<'PY'
import errno, os, sys
op, args = sys.argv[1], sys.argv[2:]
def wr(p, data, flags=os.O_WRONLY | os.O_TRUNC):
    fd = os.open(p, flags)
    try:
        os.write(fd, data.encode())
    finally:
        os.close(fd)
try:
    if op == "mkdir": os.mkdir(args[0])
    elif op == "rmdir": os.rmdir(args[0])
    elif op == "unlink": os.unlink(args[0])
    elif op == "open": os.close(os.open(args[0], os.O_RDONLY))
    elif op == "creat_excl": os.close(os.open(args[0], os.O_WRONLY | os.O_CREAT | os.O_EXCL))
    elif op == "openw": os.close(os.open(args[0], os.O_WRONLY))
    elif op == "write": wr(args[0], args[1])
    elif op == "bigwrite": wr(args[0], "x" * int(args[1]))
    elif op == "rename": os.rename(args[0], args[1])
    elif op == "rename_noreplace":
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.renameat2(-100, args[0].encode(), -100, args[1].encode(), 1) != 0:
            raise OSError(ctypes.get_errno(), "")
    elif op == "symlink": os.symlink(args[0], args[1])
    elif op == "link": os.link(args[0], args[1])
    elif op == "chown": os.chown(args[0], 1000, 1000)
    elif op == "chmod": os.chmod(args[0], int(args[1], 8))
    elif op == "mkfifo": os.mkfifo(args[0])
    elif op == "mknod": os.mknod(args[0], 0o644 | __import__("stat").S_IFREG)
    elif op == "utime": os.utime(args[0], (1000000, 1000000))
    elif op == "utime_now": os.utime(args[0])
    elif op == "setxattr": os.setxattr(args[0], args[1], args[2].encode())
    elif op == "getxattr": os.getxattr(args[0], args[1])
    elif op in ("flock", "lockf", "getlk"):
        import fcntl, struct
        fd = os.open(args[0], os.O_RDWR)
        try:
            if op == "flock": fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            elif op == "lockf": fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            else: fcntl.fcntl(fd, fcntl.F_GETLK, struct.pack("hhqqi", fcntl.F_WRLCK, 0, 0, 0, 0))
        finally:
            os.close(fd)
    elif op == "conflict":
        # read-modify-write through one handle while someone else writes
        fd = os.open(args[0], os.O_RDWR)
        os.write(fd, b"mine")
        wr(args[0], "theirs")
        os.close(fd)
    print("OK")
    sys.exit(0)
except OSError as e:
    print(errno.errorcode.get(e.errno, str(e.errno)))
PY
}

mkdir "$M/a"
echo v >"$M/a/f"
t_eq "mkdir of an existing name: EEXIST" EEXIST "$(errno_of mkdir "$M/a")"
t_eq "O_CREAT|O_EXCL of an existing file: EEXIST" EEXIST "$(errno_of creat_excl "$M/a/f")"
t_eq "open of a missing file: ENOENT" ENOENT "$(errno_of open "$M/a/nope")"
t_eq "mkdir under a missing directory: ENOENT" ENOENT "$(errno_of mkdir "$M/nope/x")"
t_eq "rmdir of a directory with children: ENOTEMPTY" ENOTEMPTY "$(errno_of rmdir "$M/a")"
t_eq "unlink of a missing file: ENOENT" ENOENT "$(errno_of unlink "$M/a/nope")"
t_eq "rmdir of a file: ENOTDIR" ENOTDIR "$(errno_of rmdir "$M/a/f")"
t_eq "unlink of a directory: EISDIR" EISDIR "$(errno_of unlink "$M/a")"

# ACL: a read-only node refuses writers with EACCES.
setfattr -n user.quorumfs.acl -v 'world:anyone:r' "$M/a/f"
t_eq "write to a read-only ACL node: EACCES" EACCES "$(errno_of write "$M/a/f" x)"
if echo x 2>/dev/null >"$M/a/f"; then t_fail "echo > read-only file fails"; else
	t_ok "echo > read-only file fails"; fi
t_eq "the read-only node keeps its value" v "$(cat "$M/a/f")"
t_eq "mode bits show the ACL" "-r--r--r--" "$(stat -c %A "$M/a/f")"
t_eq "access(W_OK) follows the ACL" "False True" \
	"$(python3 -c "import os,sys; print(os.access(sys.argv[1], os.W_OK), os.access(sys.argv[1], os.R_OK))" "$M/a/f")"
mkdir "$M/ro"
setfattr -n user.quorumfs.acl -v 'world:anyone:rw' "$M/ro"
t_eq "create in a directory without CREATE: EACCES" EACCES "$(errno_of mkdir "$M/ro/x")"
t_eq "a directory without CREATE shows no w bits" "dr-xr-xr-x" "$(stat -c %A "$M/ro")"

# Size: ZNODE_MAX_DATA (1,048,487 bytes) at most; the file keeps its value.
# tests/fs/limits.sh checks the limit on both sides.
echo small >"$M/big"
t_eq "a write over the limit: EFBIG" EFBIG "$(errno_of bigwrite "$M/big" 1048488)"
t_eq "a failed big write commits nothing" small "$(cat "$M/big")"
t_eq "exactly the limit is fine" OK "$(errno_of bigwrite "$M/big" 1048487)"
t_eq "the limit stored" 1048487 "$(stat -c %s "$M/big")"
# A new file whose write fails leaves nothing: cp of a file over the limit
# undoes its create (an empty node was left behind before).
head -c 1100000 /dev/zero >"$T/toobig"
cp "$T/toobig" "$M/a/copied" 2>"$T/cp.err"
t_eq "cp of a file over the limit fails" 1 "$?"
t_check "with EFBIG" grep -q "File too large" "$T/cp.err"
t_eq "and leaves no file behind" ENOENT "$(errno_of open "$M/a/copied")"
t_check "nor a name in the listing" sh -c "! ls '$M/a' | grep -qx copied"
t_eq "the name is free for the next cp" OK "$(errno_of creat_excl "$M/a/copied")"
rm -f "$M/a/copied"
t_eq "a new file committed once (fsync) keeps that value when a later write fails" \
	"EFBIG 5" "$(python3 -c "
import os, sys
p = sys.argv[1]
fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_EXCL)
os.write(fd, b'first')
os.fsync(fd)
try:
    left = 1048576  # the kernel hands it over in pieces: write them all
    while left:
        left -= os.write(fd, b'x' * left)
    r = 'OK'
except OSError as e:
    r = 'EFBIG' if e.errno == 27 else str(e.errno)
try:
    os.close(fd)
except OSError:
    pass
print(r, os.stat(p).st_size)
" "$M/a/kept")"
rm -f "$M/a/kept"

# Reserved name and bad names.
t_eq "mkdir .data (exists in every directory): EEXIST" EEXIST "$(errno_of mkdir "$M/a/.data")"
t_eq "a name ZooKeeper refuses (control character): EINVAL" EINVAL \
	"$(errno_of mkdir "$M/a/bad$(printf '\001')name")"
# Names: at most what statfs reports (255 bytes), for every call that makes
# one; a missing long name is ENAMETOOLONG too, as on a local disk.
n255=$(printf '%0255d' 0)
n256=$(printf '%0256d' 0)
n1025=$(printf '%01025d' 0)
n4000=$(printf '%04000d' 0)
t_eq "statfs: names of at most 255 bytes" 255 "$(stat -f -c %l "$M")"
t_eq "mkdir of a 255-byte name works" OK "$(errno_of mkdir "$M/a/$n255")"
t_eq "mkdir of a 256-byte name: ENAMETOOLONG" ENAMETOOLONG "$(errno_of mkdir "$M/a/$n256")"
t_eq "mkdir of a 1025-byte name: ENAMETOOLONG" ENAMETOOLONG "$(errno_of mkdir "$M/a/$n1025")"
t_eq "mkdir of a 4000-byte name: ENAMETOOLONG" ENAMETOOLONG "$(errno_of mkdir "$M/a/$n4000")"
t_eq "creat of a 256-byte name: ENAMETOOLONG" ENAMETOOLONG \
	"$(errno_of creat_excl "$M/a/$n256")"
t_eq "creat of a 1025-byte name: ENAMETOOLONG" ENAMETOOLONG \
	"$(errno_of creat_excl "$M/a/$n1025")"
t_eq "mknod of a 256-byte name: ENAMETOOLONG" ENAMETOOLONG "$(errno_of mknod "$M/a/$n256")"
t_eq "rename to a 256-byte name: ENAMETOOLONG" ENAMETOOLONG \
	"$(errno_of rename "$M/a/f" "$M/a/$n256")"
t_eq "symlink with a 256-byte name: ENAMETOOLONG before EPERM" ENAMETOOLONG \
	"$(errno_of symlink x "$M/a/$n256")"
t_eq "hard link with a 256-byte name: ENAMETOOLONG before EPERM" ENAMETOOLONG \
	"$(errno_of link "$M/a/f" "$M/a/$n256")"
t_eq "open of a missing 256-byte name: ENAMETOOLONG" ENAMETOOLONG \
	"$(errno_of open "$M/a/$n256")"
t_eq "no name over 255 bytes was made" "255" \
	"$(ls "$M/a" | awk '{ if (length($0) > m) m = length($0) } END { print m }')"
rmdir "$M/a/$n255"

# /zookeeper is ZooKeeper's: the mount makes and removes no names there
# (EPERM, never EINVAL, which rm -rf takes for "already gone").
zk_before=$(ls -a "$M/zookeeper" | tr '\n' ' ')
rm -rf "$M/zookeeper" 2>"$T/rmrf.err"
t_eq "rm -rf /zookeeper fails" 1 "$?"
t_check "rm -rf /zookeeper says why" grep -q "Operation not permitted" "$T/rmrf.err"
t_eq "rm -rf /zookeeper removed nothing" "$zk_before" "$(ls -a "$M/zookeeper" | tr '\n' ' ')"
t_eq "and /zookeeper still has its two children" 2 \
	"$(getfattr --absolute-names --only-values -n user.quorumfs.num_children "$M/zookeeper")"
t_eq "rmdir /zookeeper: EPERM" EPERM "$(errno_of rmdir "$M/zookeeper")"
t_eq "unlink /zookeeper/config: EPERM" EPERM "$(errno_of unlink "$M/zookeeper/config")"
t_eq "unlink /zookeeper/quota: EPERM" EPERM "$(errno_of unlink "$M/zookeeper/quota")"
t_eq "unlink /zookeeper/.data: EPERM" EPERM "$(errno_of unlink "$M/zookeeper/.data")"
t_eq "rename /zookeeper/quota away: EPERM" EPERM \
	"$(errno_of rename "$M/zookeeper/quota" "$M/a/q")"
t_eq "rename into /zookeeper: EPERM" EPERM "$(errno_of rename "$M/a/f" "$M/zookeeper/f")"
t_eq "mkdir under /zookeeper: EPERM" EPERM "$(errno_of mkdir "$M/zookeeper/mine")"
t_eq "creat under /zookeeper: EPERM" EPERM "$(errno_of creat_excl "$M/zookeeper/mine")"
t_eq "/zookeeper is unchanged after all that" "$zk_before" \
	"$(ls -a "$M/zookeeper" | tr '\n' ' ')"

echo w >"$M/a/g"
t_eq "rename of a directory: EXDEV (mv copies instead)" EXDEV "$(errno_of rename "$M/a" "$M/b")"
echo other >"$M/a/h"
t_eq "RENAME_NOREPLACE onto an existing file: EEXIST" EEXIST \
	"$(errno_of rename_noreplace "$M/a/g" "$M/a/h")"
t_eq "RENAME_NOREPLACE to a free name works" OK "$(errno_of rename_noreplace "$M/a/g" "$M/a/g2")"

# Version conflict: a handle built on an old value loses to a newer write.
echo base >"$M/c"
t_eq "read-modify-write beaten by another writer: ESTALE at close" ESTALE \
	"$(errno_of conflict "$M/c")"
t_eq "the other writer's value stands" theirs "$(cat "$M/c")"

# What has no znode counterpart.
t_eq "symlink: EPERM" EPERM "$(errno_of symlink x "$M/s")"
t_eq "hard link: EPERM" EPERM "$(errno_of link "$M/c" "$M/c2")"
t_eq "chown: EPERM" EPERM "$(errno_of chown "$M/c")"
t_eq "chmod to another mode: EPERM" EPERM "$(errno_of chmod "$M/c" 600)"
t_eq "chmod to the mode shown: OK" OK "$(errno_of chmod "$M/c" 666)"
t_eq "mkfifo: EPERM" EPERM "$(errno_of mkfifo "$M/fifo")"
# A lock the kernel kept would hold on this host only: refused.
t_eq "flock: ENOLCK (a lock on this host only is no cluster lock)" ENOLCK "$(errno_of flock "$M/c")"
t_eq "fcntl F_SETLK: ENOLCK" ENOLCK "$(errno_of lockf "$M/c")"
t_eq "fcntl F_GETLK: ENOLCK" ENOLCK "$(errno_of getlk "$M/c")"
t_eq "utimes with explicit times: EPERM" EPERM "$(errno_of utime "$M/c")"
t_eq "utimes to now (touch): OK, a no-op" OK "$(errno_of utime_now "$M/c")"
t_eq "setting a stat attribute: ENOTSUP" ENOTSUP \
	"$(errno_of setxattr "$M/c" user.quorumfs.version 7)"
t_eq "an attribute outside user.quorumfs: ENOTSUP" ENOTSUP \
	"$(errno_of setxattr "$M/c" user.other x)"
t_eq "a bad ACL text: EINVAL" EINVAL "$(errno_of setxattr "$M/c" user.quorumfs.acl nonsense)"
t_eq "a bad child_kind: EINVAL" EINVAL \
	"$(errno_of setxattr "$M/a" user.quorumfs.child_kind sometimes)"
t_eq "getxattr of an unknown attribute: ENODATA" ENODATA \
	"$(errno_of getxattr "$M/c" user.quorumfs.nope)"
qfs_stop "$QFS_PID" "$M"

# A full disk fails the write with ENOSPC at close, and only that write.
mkdir -p "$T/small"
if mount -t tmpfs -o size=3m tmpfs "$T/small" 2>/dev/null; then
	trap 'qfs_cleanup; umount -l "$T/small" 2>/dev/null' EXIT
	M2=$T/m2
	qfs_start "$M2" "$T/small/d" -o clientPort=0 || { t_fail "mount on a small disk"; exit 1; }
	echo keep >"$M2/f"
	python3 - "$M2" >"$T/full.out" <<'PY'
import errno, os, sys
out = []
for i in range(12):
    try:
        fd = os.open(sys.argv[1] + "/f", os.O_WRONLY | os.O_TRUNC)
        os.write(fd, b"x" * 500000)
        os.close(fd)
        out.append("OK")
    except OSError as e:
        out.append(errno.errorcode[e.errno])
print(" ".join(out))
PY
	t_check "a full disk fails close() with ENOSPC" grep -q ENOSPC "$T/full.out"
	t_check "the daemon still serves reads" test -s "$M2/f"
	qfs_stop "$QFS_PID" "$M2"
	umount "$T/small"
else
	t_skip "ENOSPC on a full disk" "cannot mount a small tmpfs"
fi
