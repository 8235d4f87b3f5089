/*
 * faultfs.c - an LD_PRELOAD shim for the chaos harness: disk faults on one
 * member, switched on and off while it runs.
 *
 * The member is started with LD_PRELOAD=faultfs.so, QFS_FAULT_DIR=its data
 * directory and QFS_FAULT_CTL=a control file. Before each fsync, fdatasync,
 * write, pwrite and pwrite64 on a file under QFS_FAULT_DIR the shim reads
 * the control file (a missing or empty file: no fault):
 *
 *   slow-fsync MS   every fsync/fdatasync sleeps MS milliseconds first
 *   fail-fsync      every fsync/fdatasync fails with EIO
 *   enospc          every write fails with ENOSPC (a full disk)
 *
 * The harness writes the file to start a fault and empties it to end it, so
 * no signal or restart is needed and the schedule stays in the harness.
 * Reading the file on each call costs an open per write; the data directory
 * (SQLite's log and snapshots) sees few enough of them.
 *
 * Nothing here is used outside tests: the daemon knows nothing of it.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

enum fault { F_NONE, F_SLOW_FSYNC, F_FAIL_FSYNC, F_ENOSPC };

/* The real calls, looked up once (RTLD_NEXT: the libc the shim hides). */
static int (*real_fsync)(int);
static int (*real_fdatasync)(int);
static ssize_t (*real_write)(int, const void *, size_t);
static ssize_t (*real_pwrite)(int, const void *, size_t, off_t);
static ssize_t (*real_pwrite64)(int, const void *, size_t, off_t);

static void *next_sym(const char *name)
{
	void *p = dlsym(RTLD_NEXT, name);

	if (!p)
		abort(); /* a libc without it: the shim cannot run honestly */
	return p;
}

/* Is fd a file under QFS_FAULT_DIR? */
static int ours(int fd)
{
	const char *dir = getenv("QFS_FAULT_DIR");
	char link[64], path[PATH_MAX];
	ssize_t n;
	size_t len;

	if (!dir || !*dir)
		return 0;
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, path, sizeof(path) - 1);
	if (n <= 0)
		return 0;
	path[n] = '\0';
	len = strlen(dir);
	return strncmp(path, dir, len) == 0 && (path[len] == '/' || path[len] == '\0');
}

/* The fault in force now, and its argument (ms for slow-fsync). The control
 * file is read with the real read path: open and read are not wrapped. */
static enum fault current(long *arg)
{
	const char *ctl = getenv("QFS_FAULT_CTL");
	char buf[64];
	ssize_t n;
	int fd, saved = errno;

	*arg = 0;
	if (!ctl)
		return F_NONE;
	fd = open(ctl, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		errno = saved;
		return F_NONE;
	}
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	errno = saved;
	if (n <= 0)
		return F_NONE;
	buf[n] = '\0';
	if (!strncmp(buf, "slow-fsync", 10)) {
		*arg = strtol(buf + 10, NULL, 10);
		return F_SLOW_FSYNC;
	}
	if (!strncmp(buf, "fail-fsync", 10))
		return F_FAIL_FSYNC;
	if (!strncmp(buf, "enospc", 6))
		return F_ENOSPC;
	return F_NONE;
}

/* Before a sync of fd: 0 to go on, -1 with errno set to fail it. */
static int before_sync(int fd)
{
	long ms;
	enum fault f;

	if (!ours(fd))
		return 0;
	f = current(&ms);
	if (f == F_SLOW_FSYNC && ms > 0) {
		struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

		while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
			;
	} else if (f == F_FAIL_FSYNC) {
		errno = EIO;
		return -1;
	}
	return 0;
}

static int before_write(int fd)
{
	long ms;

	if (fd > 2 && ours(fd) && current(&ms) == F_ENOSPC) {
		errno = ENOSPC;
		return -1;
	}
	return 0;
}

int fsync(int fd)
{
	if (!real_fsync)
		real_fsync = next_sym("fsync");
	return before_sync(fd) < 0 ? -1 : real_fsync(fd);
}

int fdatasync(int fd)
{
	if (!real_fdatasync)
		real_fdatasync = next_sym("fdatasync");
	return before_sync(fd) < 0 ? -1 : real_fdatasync(fd);
}

ssize_t write(int fd, const void *buf, size_t n)
{
	if (!real_write)
		real_write = next_sym("write");
	return before_write(fd) < 0 ? -1 : real_write(fd, buf, n);
}

ssize_t pwrite(int fd, const void *buf, size_t n, off_t off)
{
	if (!real_pwrite)
		real_pwrite = next_sym("pwrite");
	return before_write(fd) < 0 ? -1 : real_pwrite(fd, buf, n, off);
}

ssize_t pwrite64(int fd, const void *buf, size_t n, off_t off)
{
	if (!real_pwrite64)
		real_pwrite64 = next_sym("pwrite64");
	return before_write(fd) < 0 ? -1 : real_pwrite64(fd, buf, n, off);
}
