/*
 * replay_proc.c - the replay helper process: the one that does the replay's
 * VFS operations on the mount (replay.c decides what to replay and when).
 *
 * Why a process and not the replay thread itself: a request on the mount
 * that the daemon's loop has read but not answered when the daemon is
 * killed (kill -9) can only end when the FUSE connection is aborted, which
 * happens when the last holder of /dev/fuse closes it. A thread of the
 * daemon stuck in such a request keeps the daemon's descriptor table, and
 * so /dev/fuse, alive: the daemon never finishes dying (D state in
 * fuse_flush), its lock stays held and the mount cannot be unmounted. A
 * separate process holds no /dev/fuse (proc_child_detach closes it), so
 * the daemon dies whole, the connection is aborted, the helper's request
 * fails with ENOTCONN, and the helper dies with its parent.
 *
 * The FUSE handlers know the helper's requests by the caller's pid (it is
 * single-threaded, so pid = tid), as they knew the thread's.
 *
 * Wire, over a stream socketpair, one request at a time (the replay thread
 * waits for each answer, which keeps the replay's order):
 *   request: u32 op, u32 path_len, u32 name_len, u32 data_len (host order;
 *            both ends are this binary), then the path, the xattr name and
 *            the data, none NUL-terminated. RPROC_DATA and RPROC_CREATE
 *            carry no data: the helper writes data_len zeros, since the
 *            daemon ignores a replay's bytes (replay.c, RP_DATA).
 *   answer:  i32 errno of the operation (0 = done)
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "fs_int.h"
#include "log.h"
#include "proc.h"

#define RPROC_MAX_PATH 65536
#define RPROC_MAX_DATA (ZNODE_MAX_DATA_STORED + 4096)

struct rproc_hdr {
	uint32_t op;
	uint32_t path_len;
	uint32_t name_len;
	uint32_t data_len;
};

static int io_full(int fd, void *buf, size_t n, int writing)
{
	char *p = buf;
	ssize_t r;

	while (n) {
		r = writing ? write(fd, p, n) : read(fd, p, n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return r == 0 ? -EPIPE : -errno;
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

static int do_write(const char *path, int flags, const char *data, size_t len)
{
	int fd = open(path, flags | O_CLOEXEC, 0644), err = 0;

	if (fd < 0)
		return errno;
	if (len && io_full(fd, (void *)data, len, 1) < 0)
		err = errno ? errno : EIO;
	if (close(fd) != 0 && !err)
		err = errno;
	return err;
}

/* Only the length of a value goes over the wire (see the top). */
static int carries_data(uint32_t op)
{
	return op != RPROC_DATA && op != RPROC_CREATE;
}

static int do_op(const struct rproc_hdr *h, const char *path, const char *name,
		 const char *data, const char *zeros)
{
	switch (h->op) {
	case RPROC_DATA:
		return do_write(path, O_WRONLY | O_TRUNC, zeros, h->data_len);
	case RPROC_CREATE:
		return do_write(path, O_WRONLY | O_CREAT | O_EXCL, zeros, h->data_len);
	case RPROC_MKNOD:
		return mknod(path, S_IFREG | 0644, 0) == 0 ? 0 : errno;
	case RPROC_MKDIR:
		return mkdir(path, 0755) == 0 || errno == EEXIST ? 0 : errno;
	case RPROC_UNLINK:
		return unlink(path) == 0 ? 0 : errno;
	case RPROC_RMDIR:
		return rmdir(path) == 0 ? 0 : errno;
	case RPROC_SETXATTR:
		return setxattr(path, name, data, h->data_len, 0) == 0 ? 0 : errno;
	}
	return EINVAL;
}

static void helper_main(int sock)
{
	struct rproc_hdr h;
	char *buf = malloc(RPROC_MAX_PATH * 2 + RPROC_MAX_DATA + 2);
	char *zeros = calloc(1, RPROC_MAX_DATA); /* untouched: the zero page */
	char *path, *name, *data;
	int32_t err;

	if (!buf || !zeros)
		_exit(1);
	path = buf;
	name = path + RPROC_MAX_PATH + 1;
	data = name + RPROC_MAX_PATH + 1;
	for (;;) {
		if (io_full(sock, &h, sizeof(h), 0) < 0)
			_exit(0); /* the daemon closed its end */
		if (h.path_len > RPROC_MAX_PATH || h.name_len > RPROC_MAX_PATH ||
		    h.data_len > RPROC_MAX_DATA)
			_exit(1);
		if (io_full(sock, path, h.path_len, 0) < 0 ||
		    io_full(sock, name, h.name_len, 0) < 0 ||
		    (carries_data(h.op) && io_full(sock, data, h.data_len, 0) < 0))
			_exit(0);
		path[h.path_len] = 0;
		name[h.name_len] = 0;
		err = do_op(&h, path, name, data, zeros);
		if (io_full(sock, &err, sizeof(err), 1) < 0)
			_exit(0);
	}
}

int qfs_replay_proc_start(struct qfs_mount *m)
{
	pid_t parent = getpid(), pid;
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return -errno;
	pid = fork();
	if (pid < 0) {
		int e = errno;

		close(sv[0]);
		close(sv[1]);
		return -e;
	}
	if (pid == 0) {
		proc_child_detach(parent, sv[1], "qfs-replay");
		helper_main(sv[1]);
		_exit(0);
	}
	close(sv[1]);
	m->rp_sock = sv[0];
	m->rp_pid = pid;
	return 0;
}

int qfs_replay_proc_do(struct qfs_mount *m, enum rproc_op op, const char *path,
		       const char *xname, const void *data, size_t len)
{
	struct rproc_hdr h = {op, (uint32_t)strlen(path),
			      xname ? (uint32_t)strlen(xname) : 0, (uint32_t)len};
	int32_t err;

	if (m->rp_sock < 0)
		return ENOTCONN;
	if (h.path_len > RPROC_MAX_PATH || h.name_len > RPROC_MAX_PATH ||
	    len > RPROC_MAX_DATA)
		return ENAMETOOLONG;
	if (io_full(m->rp_sock, &h, sizeof(h), 1) < 0 ||
	    io_full(m->rp_sock, (void *)path, h.path_len, 1) < 0 ||
	    (h.name_len && io_full(m->rp_sock, (void *)xname, h.name_len, 1) < 0) ||
	    (len && carries_data(op) && io_full(m->rp_sock, (void *)data, len, 1) < 0) ||
	    io_full(m->rp_sock, &err, sizeof(err), 0) < 0) {
		/* Only a killed helper gets here; the replay of this and later
		 * changes is lost (the tree and the mount's answers are not). */
		log_warnx(
		    "fs: the replay helper (pid %d) is gone: changes made elsewhere "
		    "no longer raise inotify events on this mount",
		    (int)m->rp_pid);
		close(m->rp_sock);
		m->rp_sock = -1;
		return ENOTCONN;
	}
	return err;
}

void qfs_replay_proc_stop(struct qfs_mount *m)
{
	int i;

	if (m->rp_sock >= 0) {
		close(m->rp_sock); /* the helper reads EOF and exits */
		m->rp_sock = -1;
	}
	if (m->rp_pid <= 0)
		return;
	/* Bounded: 2 s for the helper to finish its operation and go. */
	for (i = 0; i < 200; i++) {
		if (waitpid(m->rp_pid, NULL, WNOHANG) == m->rp_pid) {
			m->rp_pid = 0;
			return;
		}
		usleep(10000);
	}
	kill(m->rp_pid, SIGKILL);
	waitpid(m->rp_pid, NULL, 0);
	m->rp_pid = 0;
}
