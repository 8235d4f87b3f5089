# fs/fs.mk - the FUSE side: libqfs.a, its tests, benchmarks and man page.
noinst_LIBRARIES += libqfs.a
libqfs_a_SOURCES = fs/fs.h fs/fs_int.h fs/mount.c fs/inode.c fs/paths.c fs/attr.c \
	fs/dir.c fs/file.c fs/xattr.c fs/rename.c fs/submit.c fs/defer.c fs/replay.c fs/replay_proc.c \
	fs/ident.c fs/watchdog.c
libqfs_a_CFLAGS = $(QFS_BASE_CFLAGS) $(QFS_I_FS) $(FUSE_CFLAGS) $(EVENT_CFLAGS)

dist_man_MANS += man/quorumfs.8

QFS_TESTS += tests/fs/files.sh tests/fs/errors.sh tests/fs/xattr.sh \
	tests/fs/inotify.sh tests/fs/ephemeral.sh tests/fs/crash.sh tests/fs/acl.sh \
	tests/fs/killed.sh tests/fs/backlog.sh tests/fs/replay_limit.sh tests/fs/replay_gone.sh \
	tests/fs/writers.sh tests/fs/atomic.sh tests/fs/zknames.sh tests/fs/rename.sh
EXTRA_DIST += tests/fs/files.sh tests/fs/errors.sh tests/fs/xattr.sh \
	tests/fs/inotify.sh tests/fs/ephemeral.sh tests/fs/crash.sh tests/fs/acl.sh \
	tests/fs/killed.sh tests/fs/backlog.sh tests/fs/replay_limit.sh tests/fs/replay_gone.sh \
	tests/fs/writers.sh tests/fs/atomic.sh tests/fs/zknames.sh tests/fs/rename.sh \
	tests/bench/bench_fs.sh
QFS_BENCHES += tests/bench/bench_fs.sh
