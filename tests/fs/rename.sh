#!/bin/sh
# rename.sh - rename(2) of a file that is still open for writing (DESIGN.md
# section 1: "mv tmp conf" is atomic; quorumfs.8, Writes). The "atomic
# replace" idiom - write a temporary file, rename it over the target, close
# it - must leave the target with the bytes written, and the descriptor
# must follow the file to its new name, as on a local disk. Every step is a
# syscall that returns after its commit, so outcomes are compared at once.
. "$QFS_SRCDIR/tests/lib.sh"
qfs_init
M=$T/m
xv() { getfattr --only-values -n "user.quorumfs.$1" "$2" 2>/dev/null; }

qfs_start "$M" "$T/d" -o clientPort=0 || { t_fail "mount"; exit 1; }
t_ok "mounted"
mkdir "$M/app" || { t_fail "mkdir"; exit 1; }

# py NAME SCRIPT: run SCRIPT (python3) in $M/app; its last line of output
# is the result compared by the caller. Errors print as their errno name.
py() {
	(cd "$M/app" && python3 -c "
import errno, os, sys, tempfile
def read(p):
    with open(p) as f:
        return f.read()
def err(fn):
    try:
        fn()
        return 'OK'
    except OSError as e:
        return errno.errorcode[e.errno]
$1" 2>&1 | tail -n 1)
}

# The report's case: tempfile, write, flush (to the kernel, not fsync),
# os.replace, close.
echo 'important=1' >"$M/app/conf.ini"
t_eq "tempfile + os.replace before close: close succeeds" OK "$(py "
def f():
    with tempfile.NamedTemporaryFile('w', dir='.', delete=False) as t:
        t.write('important=2\n'); t.flush(); os.replace(t.name, 'conf.ini')
print(err(f))")"
t_eq "tempfile + os.replace before close: the target has the bytes" \
	"important=2" "$(cat "$M/app/conf.ini")"
t_eq "tempfile + os.replace before close: no temporary left" \
	"conf.ini" "$(ls "$M/app")"

# open + write + rename + close of a file that existed before the open
# (the handle started from its value, conditionally on its version).
printf 'old' >"$M/app/t"
printf 'target' >"$M/app/dst"
t_eq "write, rename over a file, read the new name before close" \
	"OK oldnew" "$(py "
fd = os.open('t', os.O_WRONLY | os.O_APPEND)
os.write(fd, b'new')
os.rename('t', 'dst')
seen = read('dst')
print(err(lambda: os.close(fd)), seen)")"
t_eq "... and after close" "oldnew" "$(cat "$M/app/dst")"
t_check "... the old name is gone" test ! -e "$M/app/t"

# Writes through the descriptor after the rename go to the new name.
t_eq "write, rename, write again, fsync, close" "OK ab ab" "$(py "
fd = os.open('w', os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
os.write(fd, b'a')
os.rename('w', 'w2')
os.write(fd, b'b')
os.fsync(fd)
seen = read('w2')
print(err(lambda: os.close(fd)), seen, read('w2'))")"
t_check "... the old name stays gone" test ! -e "$M/app/w"
t_eq "write after the rename, committed by close only" "OK x xy" "$(py "
fd = os.open('c', os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
os.write(fd, b'x')
os.rename('c', 'c2')
os.write(fd, b'y')
seen = read('c2')
print(err(lambda: os.close(fd)), seen, read('c2'))")"

# O_TRUNC of an existing file (an unconditional commit) renamed over a target.
printf 'stale' >"$M/app/o"
printf 'keep?' >"$M/app/o2"
t_eq "O_TRUNC, write, rename over a file, close" "OK fresh" "$(py "
fd = os.open('o', os.O_WRONLY | os.O_TRUNC)
os.write(fd, b'fresh')
os.rename('o', 'o2')
print(err(lambda: os.close(fd)), read('o2'))")"

# Renamed twice while open: the bytes and the descriptor follow both moves.
t_eq "write, rename twice, write, close" "OK 12" "$(py "
fd = os.open('r1', os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
os.write(fd, b'1')
os.rename('r1', 'r2')
os.rename('r2', 'r3')
os.write(fd, b'2')
print(err(lambda: os.close(fd)), read('r3'))")"
t_eq "... only the last name is left" "r3" "$(ls "$M/app" | grep '^r')"

# A directory's .data: renamed onto, and renamed away, while written.
mkdir "$M/app/dir" "$M/app/dir2"
t_eq "write, rename onto a directory's .data, write, close" "OK de" "$(py "
fd = os.open('dd', os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
os.write(fd, b'd')
os.rename('dd', 'dir/.data')
os.write(fd, b'e')
print(err(lambda: os.close(fd)), read('dir/.data'))")"
t_eq "write a .data, rename it away, write, close" "OK de+fg ''" "$(py "
fd = os.open('dir/.data', os.O_WRONLY | os.O_APPEND)
os.write(fd, b'+f')
os.rename('dir/.data', 'moved')
os.write(fd, b'g')
print(err(lambda: os.close(fd)), read('moved'), repr(read('dir/.data')))")"

# A second writer on the renamed file that started from the value before
# the moved bytes must not overwrite them silently: its close conflicts
# (ESTALE), as it would have without the rename.
printf 'base' >"$M/app/two"
t_eq "another writer of the renamed file: its close is ESTALE" "ESTALE mine" "$(py "
a = os.open('two', os.O_WRONLY | os.O_TRUNC)
b = os.open('two', os.O_RDWR)
os.write(a, b'mine')
os.rename('two', 'two2')
os.write(b, b'theirs')
os.close(a)
print(err(lambda: os.close(b)), read('two2'))")"
# A writer that started from a value changed since (its close was already
# due to conflict) still conflicts at the new name, whose versions restart.
printf 'v0' >"$M/app/st"
t_eq "a stale writer of the renamed file: its close is ESTALE" "ESTALE v1" "$(py "
b = os.open('st', os.O_RDWR)
with open('st', 'w') as f:
    f.write('v1')
os.rename('st', 'st2')
os.write(b, b'late')
print(err(lambda: os.close(b)), read('st2'))")"
# A writer whose own value is already stale cannot carry it: the rename
# is refused (ESTALE) and nothing moves.
printf 'v0' >"$M/app/sr"
t_eq "rename of a file written from a stale value: ESTALE, nothing moved" \
	"ESTALE v1 ESTALE" "$(py "
b = os.open('sr', os.O_RDWR)
os.write(b, b'mine')
with open('sr', 'w') as f:
    f.write('v1')
r = err(lambda: os.rename('sr', 'sr2'))
print(r, read('sr'), err(lambda: os.close(b)))")"
t_check "... the new name was not made" test ! -e "$M/app/sr2"

# A reader open on the file follows it too (reads the new name's value).
printf 'rd' >"$M/app/rd"
t_eq "a reader open across the rename" "rd rd" "$(py "
r = open('rd')
os.rename('rd', 'rd2')
print(r.read(), read('rd2'))")"


qfs_stop "$QFS_PID" "$M" || t_fail "clean stop"
t_ok "stopped"
