/*
 * core_backup.c - online backups: a snapshot of the applied tree written,
 * on request, into a private directory by a fork()ed child, for a caller
 * that streams it elsewhere (src/zks/zks_backup.c, quorumctl backup).
 *
 * The child writes the same file the periodic snapshots are (snapshot.h)
 * from its copy-on-write image of the tree, as core_snap.c does and for the
 * same reasons: the image is exact at one zxid and the loop is stopped only
 * for the fork, so writes go on while the file is written. The child then
 * reads the file back for its size and CRC-32C, so that the caller can
 * check the copy it streams end to end without hashing on the loop.
 *
 * Unlike the periodic snapshots a backup never lands in dataDir itself
 * (recovery and purge would take it for one of theirs): it goes to
 * dataDir/backup.XXXXXX/, which is removed right after the completion
 * callback. Directories left by a crash are removed when the next backup
 * starts with none running.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <event2/event.h>

#include "core_int.h"
#include "crc32c.h"
#include "log.h"
#include "proc.h"
#include "snapshot.h"

/* A child whose file does not change for this long is taken for hung and
 * killed (the same default and override as core_snap.c's watchdog). */
#define BACKUP_STALL_MS_DEFAULT (120 * 1000)
#define BACKUP_WATCH_MS		1000

/* One backup being written. Owned by the core's list (c->backups). */
struct core_backup {
	struct core_backup *next;
	struct qcore *c;
	qcore_backup_fn done;
	void *arg;
	pid_t pid;
	int fd; /* the child's pipe: its result, then EOF */
	struct event *pipe_ev, *watch_ev;
	zxid_t zxid;
	char dir[4200];
	char path[4300];
	char msg[512];
	size_t msg_len;
	off_t last_size;
	int64_t last_change_ms, stall_ms;
	int killed;
};

/* What a successful child writes to its pipe: 'K', then these. */
struct backup_ok {
	uint64_t size;
	uint32_t crc;
};

static int64_t backup_stall_ms(void)
{
	const char *e = getenv("QUORUMFS_SNAPSHOT_STALL_MS");
	char *end;
	long long v;

	if (!e || !*e)
		return BACKUP_STALL_MS_DEFAULT;
	v = strtoll(e, &end, 10);
	return *end || v < 100 ? BACKUP_STALL_MS_DEFAULT : v;
}

/* The file's size and CRC-32C, read back from disk (what the caller will
 * stream is what is on disk, not what the writer meant to put there). */
static int backup_sum(const char *path, uint64_t *size, uint32_t *crc)
{
	static uint8_t b[1 << 16];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	*size = 0;
	*crc = 0;
	while ((n = read(fd, b, sizeof(b))) > 0) {
		*crc = crc32c(*crc, b, (size_t)n);
		*size += (uint64_t)n;
	}
	close(fd);
	return n < 0 ? -EIO : 0;
}

static void backup_child(struct core_backup *b, int wfd, pid_t parent)
{
	char why[512], out[1 + sizeof(struct backup_ok)];
	struct backup_ok ok;
	ssize_t w;
	int rc;

	/* Forked by the loop thread, which lives as long as the daemon. */
	proc_child_detach(parent, wfd, "qfs-backup");
	rc = snapshot_write(b->c->tree, b->dir, b->zxid, why, sizeof(why));
	if (rc == 0) {
		rc = backup_sum(b->path, &ok.size, &ok.crc);
		if (rc)
			snprintf(why, sizeof(why), "reading back %.400s: %s", b->path,
				 strerror(-rc));
	}
	if (rc == 0) {
		out[0] = 'K';
		memcpy(out + 1, &ok, sizeof(ok));
		w = write(wfd, out, sizeof(out));
		_exit(w == (ssize_t)sizeof(out) ? 0 : 1);
	}
	w = write(wfd, why, strlen(why));
	(void)w;
	_exit(1);
}

/* Remove a backup directory and what is in it (one snapshot, maybe its
 * .tmp and journal). */
static void backup_rmdir(const char *dir)
{
	char p[4400];
	struct dirent *de;
	DIR *d = opendir(dir);

	if (d) {
		while ((de = readdir(d))) {
			if (de->d_name[0] == '.')
				continue;
			snprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
			unlink(p);
		}
		closedir(d);
	}
	if (rmdir(dir) < 0 && errno != ENOENT)
		log_warn("backup: removing %s", dir);
}

static void backup_clean_stale(struct qcore *c)
{
	char p[4400];
	struct dirent *de;
	DIR *d;

	if (c->backups)
		return;
	d = opendir(c->dir);
	if (!d)
		return;
	while ((de = readdir(d)))
		if (strncmp(de->d_name, "backup.", 7) == 0) {
			snprintf(p, sizeof(p), "%s/%s", c->dir, de->d_name);
			log_info("backup: removing %s, left by an earlier run", p);
			backup_rmdir(p);
		}
	closedir(d);
}

static void backup_unlink(struct core_backup *b)
{
	struct core_backup **pp;

	for (pp = &b->c->backups; *pp; pp = &(*pp)->next)
		if (*pp == b) {
			*pp = b->next;
			return;
		}
}

/* The child is gone (or cancel is 1 and it is being killed): reap it, call
 * done once, remove the directory, free. */
static void backup_finish(struct core_backup *b, int cancel)
{
	struct qcore_backup_result res;
	struct backup_ok ok;
	int status = 0;
	pid_t r;

	if (cancel)
		kill(b->pid, SIGKILL);
	do
		r = waitpid(b->pid, &status, 0);
	while (r < 0 && errno == EINTR);
	event_free(b->pipe_ev);
	event_free(b->watch_ev);
	close(b->fd);
	backup_unlink(b);
	memset(&res, 0, sizeof(res));
	res.zxid = b->zxid;
	if (!cancel && r > 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0 &&
	    b->msg_len == 1 + sizeof(ok) && b->msg[0] == 'K') {
		memcpy(&ok, b->msg + 1, sizeof(ok));
		res.path = b->path;
		res.size = ok.size;
		res.crc = ok.crc;
		log_info("backup 0x%llx written (%" PRIu64 " bytes)",
			 (unsigned long long)b->zxid, ok.size);
		b->done(b->arg, 0, &res);
	} else {
		b->msg[b->msg_len < sizeof(b->msg) ? b->msg_len : sizeof(b->msg) - 1] =
		    '\0';
		res.msg = cancel	   ? "the server is shutting down"
			  : b->killed	   ? "the writer made no progress and was killed"
			  : b->msg_len > 0 ? b->msg
					   : "the writer died";
		log_warnx("backup 0x%llx failed: %s", (unsigned long long)b->zxid,
			  res.msg);
		b->done(b->arg, cancel ? -ECANCELED : -EIO, &res);
	}
	backup_rmdir(b->dir);
	free(b);
}

static void backup_pipe_cb(evutil_socket_t fd, short what, void *arg)
{
	struct core_backup *b = arg;
	ssize_t n;

	n = read(fd, b->msg + b->msg_len, sizeof(b->msg) - 1 - b->msg_len);
	if (n > 0) {
		b->msg_len += (size_t)n;
		if (b->msg_len < sizeof(b->msg) - 1)
			return;
	} else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
		return;
	}
	backup_finish(b, 0);
}

/* The watchdog: progress is any change in the size of the .tmp file the
 * child writes (or of the finished file). Killing is all it does: the
 * pipe's EOF then finishes the backup as for any other end. */
static void backup_watch_cb(evutil_socket_t fd, short what, void *arg)
{
	struct core_backup *b = arg;
	char tmp[4400];
	struct stat st;
	off_t size = -1;
	int64_t now = core_mono_ms();

	snprintf(tmp, sizeof(tmp), "%s.tmp", b->path);
	if (stat(tmp, &st) == 0 || stat(b->path, &st) == 0)
		size = st.st_size;
	if (size != b->last_size) {
		b->last_size = size;
		b->last_change_ms = now;
		return;
	}
	if (b->killed || now - b->last_change_ms < b->stall_ms)
		return;
	log_warnx("backup 0x%llx: child pid %d made no progress for %lld ms; killing it",
		  (unsigned long long)b->zxid, (int)b->pid,
		  (long long)(now - b->last_change_ms));
	b->killed = 1;
	kill(b->pid, SIGKILL);
}

int qcore_backup_start(struct qcore *c, qcore_backup_fn done, void *arg, zxid_t *zxid,
		       char *errbuf, size_t errlen)
{
	struct timeval tv = {0, BACKUP_WATCH_MS * 1000};
	struct core_backup *b;
	pid_t parent = getpid();
	int fds[2], rc;

	if (c->closing) {
		snprintf(errbuf, errlen, "the server is shutting down");
		return -ECANCELED;
	}
	backup_clean_stale(c);
	b = calloc(1, sizeof(*b));
	if (!b) {
		snprintf(errbuf, errlen, "out of memory");
		return -ENOMEM;
	}
	b->c = c;
	b->done = done;
	b->arg = arg;
	b->zxid = c->applied;
	b->stall_ms = backup_stall_ms();
	b->last_change_ms = core_mono_ms();
	b->last_size = -1;
	snprintf(b->dir, sizeof(b->dir), "%s/backup.XXXXXX", c->dir);
	if (!mkdtemp(b->dir)) {
		rc = -errno;
		snprintf(errbuf, errlen, "cannot make %s: %s", b->dir, strerror(errno));
		goto err_free;
	}
	snapshot_path(b->path, sizeof(b->path), b->dir, b->zxid);
	if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) < 0) {
		rc = -errno;
		snprintf(errbuf, errlen, "pipe: %s", strerror(errno));
		goto err_rmdir;
	}
	b->pid = core_fork(c);
	if (b->pid == 0) {
		close(fds[0]);
		backup_child(b, fds[1], parent);
	}
	close(fds[1]);
	if (b->pid < 0) {
		rc = (int)b->pid;
		snprintf(errbuf, errlen, "fork: %s%s", strerror(-rc),
			 rc == -ETIMEDOUT ? " (the log store was in one slow write "
					    "throughout; try again)"
					  : "");
		close(fds[0]);
		goto err_rmdir;
	}
	b->fd = fds[0];
	b->pipe_ev = event_new(c->base, b->fd, EV_READ | EV_PERSIST, backup_pipe_cb, b);
	b->watch_ev = event_new(c->base, -1, EV_PERSIST, backup_watch_cb, b);
	if (!b->pipe_ev || !b->watch_ev || event_add(b->pipe_ev, NULL) < 0 ||
	    event_add(b->watch_ev, &tv) < 0) {
		rc = -ENOMEM;
		snprintf(errbuf, errlen, "out of memory");
		goto err_kill;
	}
	b->next = c->backups;
	c->backups = b;
	*zxid = b->zxid;
	log_info("backup 0x%llx started in pid %d (%s)", (unsigned long long)b->zxid,
		 (int)b->pid, b->dir);
	return 0;

err_kill:
	/* Without the events nobody would reap it: wait now. */
	kill(b->pid, SIGKILL);
	waitpid(b->pid, NULL, 0);
	if (b->pipe_ev)
		event_free(b->pipe_ev);
	if (b->watch_ev)
		event_free(b->watch_ev);
	close(b->fd);
err_rmdir:
	backup_rmdir(b->dir);
err_free:
	free(b);
	return rc;
}

void core_backup_stop(struct qcore *c)
{
	while (c->backups)
		backup_finish(c->backups, 1);
}
