/*
 * core_snap.c - taking snapshots every snap_count transactions, and purging.
 *
 * A snapshot is written by a fork()ed child from its copy-on-write image of
 * the tree, as redis's BGSAVE does. The alternative, serializing in chunks
 * between loop iterations, would need the tree to keep old versions of
 * nodes changed meanwhile (or a fuzzy snapshot made consistent by replaying
 * the log over it, as ZooKeeper does), which tree.h does not offer; fork
 * gives an exact image at one zxid for the price of copying page tables
 * (milliseconds for a million znodes) and of the pages the loop dirties
 * while the child runs. The loop is stopped only for the fork itself and
 * for the rest of the log store's current transaction (core_fork).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <event2/event.h>

#include "cons_node.h"
#include "core_int.h"
#include "log.h"
#include "logstore.h"
#include "proc.h"
#include "snapshot.h"

/*
 * A child that makes no visible progress (its .tmp file neither appears,
 * grows, changes nor goes away) for this long is taken for hung, logged
 * and killed: a snapshot then is simply not taken, and the next one is
 * tried snapCount writes later. The environment variable
 * QUORUMFS_SNAPSHOT_STALL_MS overrides it (tests; quorumfs(8)).
 */
#define SNAP_STALL_MS_DEFAULT (120 * 1000)

/*
 * How long the loop waits for the log store's writer to leave SQLite
 * before a fork (normally the rest of one group commit: milliseconds),
 * and how long after such a wait timed out (a disk slow to fsync) the
 * snapshot is tried again.
 */
#define FORK_QUIESCE_MS 200
#define SNAP_RETRY_MS 1000

/*
 * What a running snapshot needs besides struct qcore's fields: the
 * watchdog. It is the pipe event's argument (c->snap_ev), so it lives and
 * dies with that event.
 */
struct snap_job {
	struct qcore *c;
	struct event *watch_ev;
	char tmp[4200];
	struct stat last;
	int had_tmp;
	int64_t last_change_ms;
	int64_t stall_ms;
	int killed;
};

static int64_t snap_stall_ms(void)
{
	const char *e = getenv("QUORUMFS_SNAPSHOT_STALL_MS");
	long long v;
	char *end;

	if (!e || !*e)
		return SNAP_STALL_MS_DEFAULT;
	v = strtoll(e, &end, 10);
	if (*end || v < 100)
		return SNAP_STALL_MS_DEFAULT;
	return v;
}

static void snap_child(struct qcore *c, int wfd, zxid_t z, pid_t parent)
{
	char why[512];
	size_t len;
	ssize_t w;

	/* Forked by the loop thread, which lives as long as the daemon. */
	proc_child_detach(parent, wfd, "qfs-snapshot");
	if (snapshot_write(c->tree, c->dir, z, why, sizeof(why)) == 0)
		_exit(0);
	len = strlen(why);
	w = write(wfd, why, len);
	(void)w;
	_exit(1);
}

static void snap_finished(struct qcore *c)
{
	struct snap_job *job = event_get_callback_arg(c->snap_ev);
	int status = 0, killed = job->killed;
	pid_t r;

	do
		r = waitpid(c->snap_pid, &status, 0);
	while (r < 0 && errno == EINTR);
	event_free(job->watch_ev);
	free(job);
	event_free(c->snap_ev);
	c->snap_ev = NULL;
	close(c->snap_fd);
	c->snap_fd = -1;
	c->snap_pid = 0;
	if (r > 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		c->snapshots++;
		c->snap_zxid = c->snap_pending;
		log_info("snapshot 0x%llx written", (unsigned long long)c->snap_pending);
		core_archive_kick(c);
		if (c->o.purge_interval_h <= 0)
			core_purge(c);
		/* snap_count more went by while this one was written (a
		 * large batch applies many at once): the next one now. */
		core_snap_maybe(c);
		return;
	}
	c->snap_msg[c->snap_msg_len] = '\0';
	log_warnx("snapshot 0x%llx failed: %s", (unsigned long long)c->snap_pending,
		  c->snap_msg_len ? c->snap_msg
		  : killed	  ? "the child was killed for making no progress"
				  : "the child died");
}

static void snap_cb(evutil_socket_t fd, short what, void *arg)
{
	struct snap_job *job = arg;
	struct qcore *c = job->c;
	ssize_t n;

	n = read(fd, c->snap_msg + c->snap_msg_len,
		 sizeof(c->snap_msg) - 1 - c->snap_msg_len);
	if (n > 0) {
		c->snap_msg_len += (size_t)n;
		if (c->snap_msg_len < sizeof(c->snap_msg) - 1)
			return;
	} else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
		return;
	}
	/* EOF: the child is gone (or said all it can). */
	snap_finished(c);
}

/*
 * The watchdog: progress is any change of the child's .tmp file (created,
 * grown, rewritten, renamed away). Killing is all it does; the pipe's EOF
 * then reaps the child as for any other end, so a child in
 * uninterruptible sleep is reaped whenever the kernel lets it die, without
 * blocking the loop.
 */
static void snap_watch_cb(evutil_socket_t fd, short what, void *arg)
{
	struct snap_job *job = arg;
	struct qcore *c = job->c;
	struct stat st;
	int64_t now = core_mono_ms();
	int has = stat(job->tmp, &st) == 0;

	if (has != job->had_tmp ||
	    (has &&
	     (st.st_size != job->last.st_size || st.st_blocks != job->last.st_blocks ||
	      st.st_mtim.tv_sec != job->last.st_mtim.tv_sec ||
	      st.st_mtim.tv_nsec != job->last.st_mtim.tv_nsec))) {
		job->had_tmp = has;
		if (has)
			job->last = st;
		job->last_change_ms = now;
		return;
	}
	if (job->killed || now - job->last_change_ms < job->stall_ms)
		return;
	log_warnx("snapshot 0x%llx: child pid %d made no progress on %s for %lld ms; "
		  "killing it (the next snapshot is tried %lld writes later)",
		  (unsigned long long)c->snap_pending, (int)c->snap_pid, job->tmp,
		  (long long)(now - job->last_change_ms), (long long)c->o.snap_count);
	job->killed = 1;
	kill(c->snap_pid, SIGKILL);
}

pid_t core_fork(struct qcore *c)
{
	pid_t pid;
	int rc;

	if (c->ls && (rc = logstore_quiesce(c->ls, FORK_QUIESCE_MS)) < 0)
		return rc;
	if ((rc = core_archive_hold(c, FORK_QUIESCE_MS)) < 0) {
		if (c->ls)
			logstore_resume(c->ls);
		return rc;
	}
	pid = fork();
	if (pid == 0)
		return 0;
	rc = pid < 0 ? -errno : 0;
	core_archive_release(c);
	if (c->ls)
		logstore_resume(c->ls);
	return rc ? rc : pid;
}

static int snap_start(struct qcore *c)
{
	struct snap_job *job;
	struct timeval tv;
	pid_t pid, parent = getpid();
	int64_t tick;
	int fds[2];

	job = calloc(1, sizeof(*job));
	if (!job)
		return -ENOMEM;
	job->c = c;
	job->stall_ms = snap_stall_ms();
	job->last_change_ms = core_mono_ms();
	snapshot_path(job->tmp, sizeof(job->tmp) - 4, c->dir, c->applied);
	strcat(job->tmp, ".tmp");
	if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) < 0) {
		free(job);
		return -errno;
	}
	pid = core_fork(c);
	if (pid == 0) {
		close(fds[0]);
		snap_child(c, fds[1], c->applied, parent);
	}
	close(fds[1]);
	if (pid < 0) {
		close(fds[0]);
		free(job);
		return (int)pid;
	}
	c->snap_ev = event_new(c->base, fds[0], EV_READ | EV_PERSIST, snap_cb, job);
	job->watch_ev = event_new(c->base, -1, EV_PERSIST, snap_watch_cb, job);
	/* Look four times per stall period, at most every 10 s. */
	tick = job->stall_ms / 4 < 10000 ? job->stall_ms / 4 : 10000;
	tv.tv_sec = (time_t)(tick / 1000);
	tv.tv_usec = (suseconds_t)(tick % 1000) * 1000;
	if (!c->snap_ev || !job->watch_ev || event_add(c->snap_ev, NULL) < 0 ||
	    event_add(job->watch_ev, &tv) < 0) {
		/* Without the event nobody would reap it: wait now. */
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		close(fds[0]);
		if (c->snap_ev)
			event_free(c->snap_ev);
		if (job->watch_ev)
			event_free(job->watch_ev);
		free(job);
		c->snap_ev = NULL;
		return -ENOMEM;
	}
	c->snap_pid = pid;
	c->snap_fd = fds[0];
	c->snap_pending = c->applied;
	core_members_snap_taken(c, c->applied);
	c->snap_msg_len = 0;
	log_debug("snapshot 0x%llx started in pid %d", (unsigned long long)c->applied,
		  (int)pid);
	return 0;
}

void core_snap_maybe(struct qcore *c)
{
	int rc;

	if (c->since_snap < (uint64_t)c->o.snap_count || c->snap_pid || c->closing ||
	    c->view_diverged || core_mono_ms() < c->snap_retry_ms)
		return;
	rc = snap_start(c);
	if (rc == -ETIMEDOUT) {
		/* The log store sat in one slow transaction: try again at a
		 * write a second from now rather than snapCount writes on. */
		c->snap_retry_ms = core_mono_ms() + SNAP_RETRY_MS;
		log_debug("snapshot deferred: the log store's writer stayed in one "
			  "transaction for %d ms",
			  FORK_QUIESCE_MS);
		return;
	}
	c->since_snap = 0;
	if (rc)
		log_warnx(
		    "cannot start a snapshot: %s (tried again after %lld more writes)",
		    strerror(-rc), (long long)c->o.snap_count);
}

void core_snap_stop(struct qcore *c)
{
	if (!c->snap_pid)
		return;
	/* Its .tmp file is removed at the next open. */
	kill(c->snap_pid, SIGKILL);
	c->snap_msg_len = 0;
	snap_finished(c);
}

int qcore_snapshot_now(struct qcore *c, char *errbuf, size_t errlen)
{
	int ret;

	if (c->view_diverged) {
		/* The tree holds expiries the log does not (core_view.c). */
		snprintf(errbuf, errlen,
			 "no leader: this member's tree is its own view until it "
			 "rejoins; try again then");
		return -EAGAIN;
	}
	/* A background child may be writing the same zxid's .tmp file; this
	 * snapshot replaces it (and none is started as that one ends). */
	c->since_snap = 0;
	core_snap_stop(c);
	core_members_snap_taken(c, c->applied);
	ret = snapshot_write(c->tree, c->dir, c->applied, errbuf, errlen);
	if (ret)
		return ret;
	c->snapshots++;
	c->snap_zxid = c->applied;
	c->since_snap = 0;
	core_archive_kick(c);
	if (c->o.purge_interval_h <= 0)
		core_purge(c);
	return 0;
}

void core_purge(struct qcore *c)
{
	char path[4096];
	zxid_t *zxids = NULL;
	size_t n = 0, i, keep = (size_t)c->o.snap_retain;
	int rc;

	rc = snapshot_list(c->dir, &zxids, &n);
	if (rc) {
		log_warnx("purge: listing %s: %s", c->dir, strerror(-rc));
		return;
	}
	if (n > keep) {
		for (i = keep; i < n; i++) {
			snapshot_path(path, sizeof(path), c->dir, zxids[i]);
			if (unlink(path) < 0)
				log_warn("purge: %s", path);
			else
				log_debug("purge: removed %s", path);
		}
	}
	/* The oldest snapshot kept must be able to replay to now. */
	if (n && c->node && !c->store_closed)
		cons_node_compact(
		    c->node, core_archive_keep(c, zxids[n > keep ? keep - 1 : n - 1]));
	free(zxids);
}

static void purge_cb(evutil_socket_t fd, short what, void *arg)
{
	core_purge(arg);
}

int core_purge_timer_start(struct qcore *c)
{
	struct timeval tv = {(time_t)c->o.purge_interval_h * 3600, 0};

	if (c->o.purge_interval_h <= 0)
		return 0;
	c->purge_ev = event_new(c->base, -1, EV_PERSIST, purge_cb, c);
	if (!c->purge_ev || event_add(c->purge_ev, &tv) < 0)
		return -ENOMEM;
	return 0;
}
