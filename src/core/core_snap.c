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
 * for the log writer's commit in flight (see storage_fork_lock).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <event2/event.h>

#include "cons_node.h"
#include "core_int.h"
#include "log.h"
#include "snapshot.h"

static void snap_child(struct qcore *c, int wfd, zxid_t z)
{
	char why[512];
	size_t len;
	ssize_t w;

	/* Do not outlive a parent killed meanwhile; and a SIGTERM meant for
	 * the daemon must not run the parent's libevent handler in here (it
	 * would write to the parent's signal socket). */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	if (getppid() == 1)
		_exit(2);
	if (snapshot_write(c->tree, c->dir, z, why, sizeof(why)) == 0)
		_exit(0);
	len = strlen(why);
	w = write(wfd, why, len);
	(void)w;
	_exit(1);
}

static void snap_finished(struct qcore *c)
{
	int status = 0;
	pid_t r;

	do
		r = waitpid(c->snap_pid, &status, 0);
	while (r < 0 && errno == EINTR);
	event_free(c->snap_ev);
	c->snap_ev = NULL;
	close(c->snap_fd);
	c->snap_fd = -1;
	c->snap_pid = 0;
	if (r > 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		c->snapshots++;
		c->snap_zxid = c->snap_pending;
		log_info("snapshot 0x%llx written", (unsigned long long)c->snap_pending);
		if (c->o.purge_interval_h <= 0)
			core_purge(c);
		/* snap_count more went by while this one was written (a
		 * large batch applies many at once): the next one now. */
		core_snap_maybe(c);
		return;
	}
	c->snap_msg[c->snap_msg_len] = '\0';
	log_warnx("snapshot 0x%llx failed: %s", (unsigned long long)c->snap_pending,
		  c->snap_msg_len ? c->snap_msg : "the child died");
}

static void snap_cb(evutil_socket_t fd, short what, void *arg)
{
	struct qcore *c = arg;
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

static int snap_start(struct qcore *c)
{
	int fds[2];
	pid_t pid;

	if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) < 0)
		return -errno;
	/* XXX the log store's writer thread has no fork lock yet: a child
	 * forked while it is inside SQLite may find a SQLite mutex held. */
	pid = fork();
	if (pid == 0) {
		close(fds[0]);
		snap_child(c, fds[1], c->applied);
	}
	close(fds[1]);
	if (pid < 0) {
		close(fds[0]);
		return -errno;
	}
	c->snap_ev = event_new(c->base, fds[0], EV_READ | EV_PERSIST, snap_cb, c);
	if (!c->snap_ev || event_add(c->snap_ev, NULL) < 0) {
		/* Without the event nobody would reap it: wait now. */
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		close(fds[0]);
		if (c->snap_ev)
			event_free(c->snap_ev);
		c->snap_ev = NULL;
		return -ENOMEM;
	}
	c->snap_pid = pid;
	c->snap_fd = fds[0];
	c->snap_pending = c->applied;
	c->snap_msg_len = 0;
	log_debug("snapshot 0x%llx started in pid %d", (unsigned long long)c->applied,
		  (int)pid);
	return 0;
}

void core_snap_maybe(struct qcore *c)
{
	int rc;

	if (c->since_snap < (uint64_t)c->o.snap_count || c->snap_pid || c->closing)
		return;
	c->since_snap = 0;
	rc = snap_start(c);
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

	ret = snapshot_write(c->tree, c->dir, c->applied, errbuf, errlen);
	if (ret)
		return ret;
	c->snapshots++;
	c->snap_zxid = c->applied;
	c->since_snap = 0;
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
		cons_node_compact(c->node, zxids[n > keep ? keep - 1 : n - 1]);
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
