#!/bin/sh
# files.sh - the tree as files (DESIGN.md section 1) driven by ordinary
# shell tools on a real mount: echo, cat, ls -l, find, grep -r, sed -i, cp,
# mv, rm, mkdir, rmdir, tee, touch; buffered writes committed as one setData
# on close; no transient empty value; what survives a restart.
. "$QFS_SRCDIR/tests/lib.sh"
qfs_init
M=$T/m
D=$T/d
xv() { getfattr --only-values -n "user.quorumfs.$1" "$2" 2>/dev/null; }
not_mounted() { ! is_mounted "$1"; }

qfs_start "$M" "$D" -o clientPort=0 || { t_fail "mount"; exit 1; }
t_ok "mounted"

# A fresh mount, before anything looked a name up: every listing entry
# carries a real inode number (glibc hides entries with d_ino 0).
t_eq "ls -a of the root on a fresh mount" ". .. .data zookeeper" \
	"$(ls -a "$M" | tr '\n' ' ' | sed 's/ $//')"
t_eq "ls -a of /zookeeper on a fresh mount" ". .. .data config quota" \
	"$(ls -a "$M/zookeeper" | tr '\n' ' ' | sed 's/ $//')"
t_check "every entry's d_ino is the number stat gives (.. the parent's)" python3 -c "
import ctypes, os
libc = ctypes.CDLL(None)
class D(ctypes.Structure):
    _fields_ = [('ino', ctypes.c_uint64), ('off', ctypes.c_int64),
                ('reclen', ctypes.c_ushort), ('type', ctypes.c_ubyte),
                ('name', ctypes.c_char * 256)]
libc.opendir.restype = ctypes.c_void_p
libc.opendir.argtypes = [ctypes.c_char_p]
libc.readdir.restype = ctypes.POINTER(D)
libc.readdir.argtypes = [ctypes.c_void_p]
libc.closedir.argtypes = [ctypes.c_void_p]
for d, names in (('$M/zookeeper', {'.', '..', '.data', 'config', 'quota'}),
                 ('$M', {'.', '..', '.data', 'zookeeper'})):
    dp = libc.opendir(d.encode())
    assert dp, d
    seen = {}
    while True:
        e = libc.readdir(dp)
        if not e: break
        seen[e.contents.name.decode()] = e.contents.ino
    libc.closedir(dp)
    assert set(seen) == names, (d, sorted(seen))
    for name, ino in seen.items():
        want = os.stat(d if name == '.' else d if (name == '..' and d == '$M') else
                       os.path.dirname(d) if name == '..' else os.path.join(d, name)).st_ino
        assert ino == want and ino != 0, (d, name, ino, want)
"
# The root and /zookeeper have stat times 0 (as in ZooKeeper): they show
# the tree's birth, never 1970.
t_check "the root's mtime is not 1970" test "$(stat -c %Y "$M")" -gt 1700000000
t_check "/zookeeper's mtime is not 1970" test "$(stat -c %Y "$M/zookeeper")" -gt 1700000000

mkdir -p "$M/app/db" && echo 'max_conns=500' >"$M/app/db/conf"
t_eq "echo > new file, cat" "max_conns=500" "$(cat "$M/app/db/conf")"
t_eq "a new file's version after one write+close" 1 "$(xv version "$M/app/db/conf")"
t_eq "ls -l size is the data length" 14 "$(stat -c %s "$M/app/db/conf")"
t_check "ls -l: a directory and a regular file" sh -c \
	"ls -l '$M/app' | grep -q '^d.* db\$' && ls -l '$M/app/db' | grep -q '^-.* conf\$'"
t_eq "find lists nodes and .data files" \
	"$M/app $M/app/.data $M/app/db $M/app/db/.data $M/app/db/conf" \
	"$(find "$M/app" | sort | tr '\n' ' ' | sed 's/ $//')"
t_eq "grep -r" "$M/app/db/conf:max_conns=500" "$(grep -r max "$M/app")"

sed -i 's/500/600/' "$M/app/db/conf"
t_eq "sed -i (rename-based)" "max_conns=600" "$(cat "$M/app/db/conf")"
t_eq "no temporary file left by sed -i" "conf" "$(ls "$M/app/db")"

cp /etc/hosts "$M/app/hosts"
t_check "cp of a file" cmp -s /etc/hosts "$M/app/hosts"
mv "$M/app/hosts" "$M/app/hosts2"
t_check "mv of a file: new name has the data" cmp -s /etc/hosts "$M/app/hosts2"
t_check "mv of a file: old name gone" test ! -e "$M/app/hosts"
printf 'old\n' >"$M/app/target"
mv "$M/app/hosts2" "$M/app/target"
t_check "mv onto an existing file replaces it" cmp -s /etc/hosts "$M/app/target"
rm "$M/app/target"
t_check "rm" test ! -e "$M/app/target"

echo one | tee "$M/app/t1" >/dev/null
t_eq "tee" one "$(cat "$M/app/t1")"
echo two >>"$M/app/t1"
t_eq "append with >>" "one
two" "$(cat "$M/app/t1")"
t_eq "one setData per close (append)" 2 "$(xv version "$M/app/t1")"
touch "$M/app/t1"
t_eq "touch of an existing file succeeds and changes nothing" 2 "$(xv version "$M/app/t1")"
touch "$M/app/empty"
t_check "touch creates an empty file" test -f "$M/app/empty" -a ! -s "$M/app/empty"
printf 'twelve bytes' >"$M/app/ft"
truncate -s 6 "$M/app/ft"
t_eq "truncate -s (ftruncate) commits at close" "twelve" "$(cat "$M/app/ft")"
: >"$M/app/t1"
t_check "truncate with : > empties the file (at release)" wait_until 5 test ! -s "$M/app/t1"

t_check "sync FILE (fsync: this host up to date)" sync "$M/app/t1"
t_check "statfs (df) works" sh -c "df -P '$M' | grep -q quorumfs"

i1=$(stat -c %i "$M/app/t1")
ls -l "$M/app" >/dev/null
t_eq "st_ino is stable" "$i1" "$(stat -c %i "$M/app/t1")"
rm "$M/app/t1"
echo again >"$M/app/t1"
t_check "a znode deleted and made again has a new inode number" \
	test "$i1" != "$(stat -c %i "$M/app/t1")"

# Directory data lives in .data.
echo dirdata >"$M/app/.data"
t_eq "a directory's data is its .data file" dirdata "$(cat "$M/app/.data")"
t_eq "a directory's data length is shown by .data" 8 "$(xv data_length "$M/app")"

# A write is buffered per open file and committed once, at close.
python3 - "$M/app/buf" <<'PY' >"$T/buf.out"
import os, sys
p = sys.argv[1]
open(p, "w").close()
fd = os.open(p, os.O_WRONLY | os.O_TRUNC)
os.write(fd, b"part1-")
print("during:" + open(p).read())
os.write(fd, b"part2")
print("during2:" + open(p).read())
os.close(fd)
print("after:" + open(p).read())
PY
t_eq "no reader sees a partial value; close commits it" "during:
during2:
after:part1-part2" "$(cat "$T/buf.out")"
t_eq "several writes, one setData" 1 "$(xv version "$M/app/buf")"

# O_TRUNC alone commits nothing until close, and a reader never sees the
# transient empty value while a writer holds the file open.
printf 'stable' >"$M/app/st"
python3 - "$M/app/st" <<'PY' >"$T/st.out"
import os, sys
p = sys.argv[1]
fd = os.open(p, os.O_WRONLY | os.O_TRUNC)
print(open(p).read())
os.close(fd)
PY
t_eq "O_TRUNC: the old value stays readable while the writer has it open" stable \
	"$(cat "$T/st.out")"
# Truncated and never written: committed when the last descriptor goes.
t_check "O_TRUNC alone: empty once closed" wait_until 5 test ! -s "$M/app/st"

# Readers racing a writer see only whole values.
printf 'AAAAAAAAAAAAAAAAAAAA' >"$M/app/race"
( i=0; while [ $i -lt 150 ]; do
	if [ $((i % 2)) = 0 ]; then printf 'BBBBBBB' >"$M/app/race"
	else printf 'AAAAAAAAAAAAAAAAAAAA' >"$M/app/race"; fi
	i=$((i + 1)); done ) &
wpid=$!
bad=0
i=0
while [ $i -lt 300 ]; do
	v=$(cat "$M/app/race")
	case "$v" in AAAAAAAAAAAAAAAAAAAA | BBBBBBB) ;; *) bad=$((bad + 1)) ;; esac
	i=$((i + 1))
done
wait $wpid
t_eq "300 reads racing 150 rewrites: no partial or empty value" 0 "$bad"

# A reader that keeps the file open reads the new value on its next pass,
# and does not leave the old one in the page cache for others.
printf 'first' >"$M/app/kept"
python3 - "$M/app/kept" <<'PY' >"$T/kept.out"
import os, sys
p = sys.argv[1]
f = open(p)
a = f.read()
fd = os.open(p, os.O_WRONLY | os.O_TRUNC)
os.write(fd, b"second")
os.close(fd)
f.seek(0)
b = f.read()
print(a, b, open(p).read())
PY
t_eq "a reader kept open sees the new value on its next pass; so does cat" \
	"first second second" "$(cat "$T/kept.out")"
t_eq "cat after it" second "$(cat "$M/app/kept")"

# mkdir / rmdir / rm -r
mkdir "$M/app/x" "$M/app/x/y"
echo z >"$M/app/x/y/z"
rmdir "$M/app/x/y/z" 2>/dev/null
t_check "rmdir of a file fails" test -f "$M/app/x/y/z"
rm -r "$M/app/x"
t_check "rm -r of a tree" test ! -e "$M/app/x"

# mv of a directory: EXDEV, then mv copies and removes.
mkdir "$M/app/src"
echo payload >"$M/app/src/f"
echo srcdata >"$M/app/src/.data"
mv "$M/app/src" "$M/app/dst" 2>"$T/mv.err"
t_eq "mv of a directory moves its files (by copy)" payload "$(cat "$M/app/dst/f" 2>&1)"
t_eq "mv of a directory moves its data" srcdata "$(cat "$M/app/dst/.data" 2>&1)"
t_check "mv of a directory removes the source" test ! -e "$M/app/src"

# Restart: everything committed is there.
v=$(xv version "$M/app/db/conf")
ino=$(stat -c %i "$M/app/db")
rootm=$(stat -c %Y "$M")
# qfs_stop returns non-zero if the daemon ignored SIGTERM or the mount is
# still in /proc/mounts after it exited.
t_check "clean stop exits and unmounts" qfs_stop "$QFS_PID" "$M"
t_check "the mount is gone from /proc/mounts" not_mounted "$M"
qfs_start "$M" "$D" -o clientPort=0 || { t_fail "remount"; exit 1; }
t_eq "data survives a restart" "max_conns=600" "$(cat "$M/app/db/conf")"
t_eq "version survives a restart" "$v" "$(xv version "$M/app/db/conf")"
t_eq "st_ino survives a restart (it comes from the creation zxid)" "$ino" \
	"$(stat -c %i "$M/app/db")"
t_eq "directory data survives a restart" dirdata "$(cat "$M/app/.data")"
t_eq "the root's time survives a restart (the oldest node's creation)" "$rootm" \
	"$(stat -c %Y "$M")"
qfs_stop "$QFS_PID" "$M"
