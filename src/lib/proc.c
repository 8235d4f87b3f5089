/*
 * proc.c - a forked child's first steps (see proc.h).
 */
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "proc.h"

/*
 * Close every descriptor but keep (and 0-2, which go to /dev/null): the
 * child must not hold /dev/fuse, the dataDir lock, client sockets, the log
 * or files on the mount. /dev/fuse goes first: a descriptor of a file on
 * the mount that this child closes after its parent died would otherwise
 * wait in fuse_flush for an answer only the dead parent could give, while
 * this very child kept the connection alive.
 */
static void close_fds(int keep)
{
	char link[64], target[32];
	struct dirent *e;
	DIR *d;
	ssize_t n;
	int fd, null, pass;

	for (pass = 0; pass < 2; pass++) {
		d = opendir("/proc/self/fd");
		if (!d)
			break;
		while ((e = readdir(d))) {
			fd = atoi(e->d_name);
			if (fd < 3 || fd == keep || fd == dirfd(d))
				continue;
			if (pass == 0) {
				snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
				n = readlink(link, target, sizeof(target) - 1);
				if (n != 9 || memcmp(target, "/dev/fuse", 9) != 0)
					continue;
			}
			close(fd);
		}
		closedir(d);
		/* The rest in one call where the kernel has it (5.9+); the
		 * second pass is the fallback. */
		if (pass == 0 &&
		    (keep <= 3 || close_range(3, (unsigned)keep - 1, 0) == 0) &&
		    close_range((unsigned)keep + 1, ~0U, 0) == 0)
			break;
	}
	null = open("/dev/null", O_RDWR);
	if (null >= 0) {
		dup2(null, 0);
		dup2(null, 1);
		dup2(null, 2);
		if (null > 2)
			close(null);
	}
}

void proc_child_detach(pid_t parent, int keep, const char *name)
{
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	prctl(PR_SET_NAME, name);
	if (getppid() != parent)
		_exit(2);
	/* A SIGTERM meant for the daemon must not run the parent's libevent
	 * handler in here (it would write to the parent's signal socket). */
	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	signal(SIGPIPE, SIG_DFL);
	close_fds(keep);
}
