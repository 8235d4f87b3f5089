/*
 * watchdog.c - a process that aborts this mount's FUSE connection when the
 * daemon has been killed but cannot finish dying.
 *
 * Why: a FUSE request that the daemon's loop has read but not answered when
 * the daemon is killed can only end when the connection is aborted, and the
 * kernel aborts it when the last holder of /dev/fuse closes it. A thread of
 * the daemon that is itself waiting in the kernel on the mount (a request
 * of its own, or a cache notification blocked on an inode lock that another
 * process holds while it waits for an answer the dead loop will never
 * give) keeps the daemon's descriptor table, and so /dev/fuse, alive: the
 * killed daemon never finishes dying, its dataDir lock stays held, and
 * every process on the mount hangs. Nothing inside the daemon can run after
 * SIGKILL, so a process outside it does what an operator would: write to
 * the connection's abort file under /sys/fs/fuse/connections. Every request
 * on the mount then fails with ENOTCONN and the daemon's last threads exit.
 * (tests/cluster/lib.sh qc_kill9 saw such a daemon now and then under load;
 * tests/fs/killed.sh builds one on purpose.)
 *
 * How it knows: PR_SET_PDEATHSIG (SIGTERM here, caught) wakes it when the
 * thread that forked it -- the main thread, which lives as long as the
 * daemon -- exits, and it also looks once a second. The daemon is dying
 * when its main thread is a zombie or SIGKILL is pending for it (ShdPnd);
 * it is gone when its /proc entry is, or when the zombie is alone. A daemon
 * that stops cleanly kills the watchdog before it unmounts
 * (qfs_watchdog_stop), so a connection number reused by a later mount is
 * never aborted; and the connection aborted is looked up by the mount
 * point at that moment, never remembered.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fs_int.h"
#include "log.h"
#include "proc.h"

#define FUSECTL "/sys/fs/fuse/connections"

enum parent_state { P_ALIVE, P_DYING, P_GONE };

/* Threads left in /proc/PID/task; -1 if it cannot be read. */
static int count_tasks(pid_t pid)
{
	char path[64];
	struct stat st;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	if (stat(path, &st) < 0)
		return -1;
	/* A directory's link count is 2 plus its subdirectories on procfs. */
	return (int)st.st_nlink - 2;
}

static enum parent_state parent_state(pid_t parent)
{
	char path[64], buf[4096], *p;
	unsigned long long shd = 0;
	char state = 0;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)parent);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return P_GONE;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return P_GONE;
	buf[n] = 0;
	if ((p = strstr(buf, "\nState:\t")))
		state = p[8];
	if ((p = strstr(buf, "\nShdPnd:\t")))
		shd = strtoull(p + 9, NULL, 16);
	if (state == 'Z' || state == 'X')
		return count_tasks(parent) > 1 ? P_DYING : P_GONE;
	if (shd & (1ull << (SIGKILL - 1)))
		return P_DYING;
	return P_ALIVE;
}

/* mountinfo escapes space, tab, newline and backslash as \ooo. */
static void unescape(char *s)
{
	char *d = s;

	while (*s) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' &&
		    s[2] <= '7' && s[3] >= '0' && s[3] <= '7') {
			*d++ =
			    (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
			s += 4;
		} else {
			*d++ = *s++;
		}
	}
	*d = 0;
}

/* The FUSE connection (the device's minor) mounted at mountpoint now: the
 * last such line of mountinfo, the one on top. -1 if none. */
static long conn_of(const char *mountpoint)
{
	char line[8192], *f[6], *sep, *save;
	long minor = -1;
	unsigned maj, min;
	FILE *fp = fopen("/proc/self/mountinfo", "re");
	int i;

	if (!fp)
		return -1;
	while (fgets(line, sizeof(line), fp)) {
		sep = strstr(line, " - ");
		if (!sep || strncmp(sep + 3, "fuse", 4) != 0)
			continue;
		*sep = 0;
		f[0] = strtok_r(line, " ", &save);
		for (i = 1; i < 6 && f[i - 1]; i++)
			f[i] = strtok_r(NULL, " ", &save);
		if (i < 6 || !f[4] || sscanf(f[2], "%u:%u", &maj, &min) != 2)
			continue;
		unescape(f[4]);
		if (strcmp(f[4], mountpoint) == 0)
			minor = (long)min;
	}
	fclose(fp);
	return minor;
}

static int abort_conn(long minor)
{
	char path[96];
	int fd, i;

	snprintf(path, sizeof(path), FUSECTL "/%ld/abort", minor);
	for (i = 0; i < 2; i++) {
		fd = open(path, O_WRONLY | O_CLOEXEC);
		if (fd >= 0) {
			int rc = write(fd, "1", 1) == 1 ? 0 : -errno;

			close(fd);
			return rc;
		}
		/* fusectl not mounted: mount it (root only) and try again. */
		if (errno != ENOENT || i ||
		    mount("fusectl", FUSECTL, "fusectl", 0, NULL) < 0)
			return -errno;
	}
	return -ENOENT;
}

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static void watchdog_main(pid_t parent, const char *mountpoint)
{
	struct timespec second = {1, 0};
	sigset_t term;
	long minor;
	int i, rc, left;

	sigemptyset(&term);
	sigaddset(&term, SIGTERM);
	sigprocmask(SIG_BLOCK, &term, NULL);
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	for (;;) {
		switch (parent_state(parent)) {
		case P_GONE:
			_exit(0);
		case P_ALIVE:
			sigtimedwait(&term, NULL, &second);
			continue;
		case P_DYING:
			break;
		}
		/* A daemon that dies whole does so in milliseconds. */
		for (i = 0; i < 20 && parent_state(parent) == P_DYING; i++)
			sleep_ms(10);
		if (parent_state(parent) != P_DYING)
			_exit(0);
		minor = conn_of(mountpoint);
		if (minor < 0)
			_exit(0);		/* no mount left to hold it */
		left = count_tasks(parent) - 1; /* the zombie main thread aside */
		rc = abort_conn(minor);
		if (rc < 0)
			log_warnx(
			    "quorumfs (pid %d) was killed and %d of its threads cannot "
			    "exit; aborting the FUSE connection %ld of %s failed: %s",
			    (int)parent, left, minor, mountpoint, strerror(-rc));
		else
			log_warnx(
			    "quorumfs (pid %d) was killed and %d of its threads could "
			    "not exit: FUSE connection %ld (%s) aborted",
			    (int)parent, left, minor, mountpoint);
		_exit(rc < 0);
	}
}

int qfs_watchdog_start(struct qfs_mount *m)
{
	pid_t parent = getpid(), pid;
	int errfd = dup(2);

	pid = fork();
	if (pid < 0) {
		int e = errno;

		if (errfd >= 0)
			close(errfd);
		return -e;
	}
	if (pid == 0) {
		/* Its one line of log goes where the daemon's goes. */
		proc_child_detach(parent, errfd, "qfs-watchdog");
		if (errfd >= 0) {
			dup2(errfd, 2);
			close(errfd);
		}
		watchdog_main(parent, m->mountpoint);
		_exit(0);
	}
	if (errfd >= 0)
		close(errfd);
	m->wd_pid = pid;
	return 0;
}

void qfs_watchdog_stop(struct qfs_mount *m)
{
	if (m->wd_pid <= 0)
		return;
	kill(m->wd_pid, SIGKILL);
	while (waitpid(m->wd_pid, NULL, 0) < 0 && errno == EINTR)
		;
	m->wd_pid = 0;
}
