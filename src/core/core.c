/*
 * core.c - opening and closing the core, the tree's listener fanning out to
 * subscribers, and figures. The pipeline itself is core_submit.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/event.h>

#include "core_int.h"
#include "log.h"
#include "zerr.h"

static void on_change(void *arg, const struct tree_event *ev)
{
	struct qcore *c = arg;
	int i;

	for (i = 0; i < c->nsubs; i++)
		c->subs[i].fn(c->subs[i].arg, ev);
}

static void efd_cb(evutil_socket_t fd, short what, void *arg)
{
	struct qcore *c = arg;

	core_collect(c);
	core_drain(c);
}

static void drain_cb(evutil_socket_t fd, short what, void *arg)
{
	core_drain(arg);
}

static void fill_defaults(struct qcore_opts *o)
{
	if (o->tick_ms <= 0)
		o->tick_ms = 2000;
	if (o->min_session_timeout_ms <= 0)
		o->min_session_timeout_ms = 2 * o->tick_ms;
	if (o->max_session_timeout_ms <= 0)
		o->max_session_timeout_ms = 20 * o->tick_ms;
	if (o->max_session_timeout_ms < o->min_session_timeout_ms)
		o->max_session_timeout_ms = o->min_session_timeout_ms;
	if (o->snap_count <= 0)
		o->snap_count = 100000;
	/* Fewer than 3 leaves nothing to fall back to from a damaged newest
	 * snapshot but one, as ZooKeeper's autopurge.snapRetainCount. */
	if (o->snap_retain < 3)
		o->snap_retain = 3;
	if (o->container_check_ms <= 0)
		o->container_check_ms = 60000;
}

/* One daemon per dataDir: two writers would interleave zxids. */
static int lock_dir(struct qcore *c, char *errbuf, size_t errlen)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/lock", c->dir);
	c->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (c->lock_fd < 0) {
		snprintf(errbuf, errlen, "%s: %s", path, strerror(errno));
		return -errno;
	}
	if (flock(c->lock_fd, LOCK_EX | LOCK_NB) < 0) {
		int e = errno;

		snprintf(errbuf, errlen, "%s: %s (is another quorumfs using %s?)", path,
			 strerror(e), c->dir);
		close(c->lock_fd);
		c->lock_fd = -1;
		return -e;
	}
	return 0;
}

static void free_core(struct qcore *c)
{
	if (c->efd_ev)
		event_free(c->efd_ev);
	if (c->drain_ev)
		event_free(c->drain_ev);
	if (c->tick_ev)
		event_free(c->tick_ev);
	if (c->reap_ev)
		event_free(c->reap_ev);
	if (c->purge_ev)
		event_free(c->purge_ev);
	if (c->efd >= 0)
		close(c->efd);
	storage_close(c->st);
	sesstrack_free(c->sess);
	if (c->prep)
		prep_free(c->prep);
	if (c->tree)
		tree_free(c->tree);
	if (c->lock_fd >= 0)
		close(c->lock_fd);
	free(c->dir);
	free(c);
}

int qcore_open(const struct qcore_opts *opts, struct qcore **out, char *errbuf,
	       size_t errlen)
{
	uint8_t secret[SESSION_SECRET_LEN];
	struct qcore *c;
	int ret;

	if (!opts->base || !opts->data_dir) {
		snprintf(errbuf, errlen, "qcore_open: no event base or dataDir");
		return -EINVAL;
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->o = *opts;
	c->base = opts->base;
	c->efd = -1;
	c->lock_fd = -1;
	c->snap_fd = -1;
	c->tail = &c->head;
	fill_defaults(&c->o);
	c->dir = strdup(opts->data_dir);
	if (!c->dir) {
		ret = -ENOMEM;
		goto err_after_alloc;
	}
	c->o.data_dir = c->dir;
	if (mkdir(c->dir, 0700) < 0 && errno != EEXIST) {
		ret = -errno;
		snprintf(errbuf, errlen, "dataDir %s: %s", c->dir, strerror(errno));
		goto err_after_alloc;
	}
	ret = lock_dir(c, errbuf, errlen);
	if (ret)
		goto err_after_alloc;
	ret = session_secret_load(c->dir, secret, errbuf, errlen);
	if (ret)
		goto err_after_alloc;
	c->sess = sesstrack_new(c->o.server_id, c->o.tick_ms, c->o.max_session_timeout_ms,
				secret, core_wall_ms());
	if (!c->sess) {
		ret = -ENOMEM;
		goto err_after_alloc;
	}
	ret = core_recover(c, errbuf, errlen);
	if (ret)
		goto err_after_alloc;
	tree_set_listener(c->tree, on_change, c);

	c->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (c->efd < 0) {
		ret = -errno;
		snprintf(errbuf, errlen, "eventfd: %s", strerror(errno));
		goto err_after_alloc;
	}
	c->efd_ev = event_new(c->base, c->efd, EV_READ | EV_PERSIST, efd_cb, c);
	c->drain_ev = event_new(c->base, -1, 0, drain_cb, c);
	if (!c->efd_ev || !c->drain_ev || event_add(c->efd_ev, NULL) < 0) {
		ret = -ENOMEM;
		snprintf(errbuf, errlen, "qcore_open: out of memory");
		goto err_after_alloc;
	}
	ret = core_session_start(c);
	if (!ret)
		ret = reaper_start(c);
	if (!ret)
		ret = core_purge_timer_start(c);
	if (ret) {
		snprintf(errbuf, errlen, "qcore_open: timers: %s", strerror(-ret));
		goto err_after_alloc;
	}
	ret = storage_start(c->st, c->efd);
	if (ret) {
		snprintf(errbuf, errlen, "starting the log writer: %s", strerror(-ret));
		goto err_after_alloc;
	}
	log_info("dataDir %s: %zu znodes, %zu sessions, zxid 0x%llx (snapshot 0x%llx)",
		 c->dir, tree_node_count(c->tree), sesstrack_count(c->sess),
		 (unsigned long long)c->applied, (unsigned long long)c->snap_zxid);
	*out = c;
	return 0;
err_after_alloc:
	free_core(c);
	return ret;
}

void qcore_quiesce(struct qcore *c)
{
	if (c->closing)
		return;
	c->closing = 1;
	if (c->tick_ev)
		event_del(c->tick_ev);
	if (c->reap_ev)
		event_del(c->reap_ev);
	if (c->purge_ev)
		event_del(c->purge_ev);
	core_snap_stop(c);
	/* Flush: the writer commits what is queued, then everything comes
	 * back and is applied or failed, and every done callback runs. */
	storage_stop(c->st);
	core_collect(c);
	core_drain(c);
}

void qcore_close(struct qcore *c)
{
	if (!c)
		return;
	qcore_quiesce(c);
	/* Submitted after the quiesce: ZCLOSING results, nothing at the log. */
	core_drain(c);
	if (c->head)
		log_warnx("qcore_close: requests still pending after the flush");
	while (c->head) {
		struct qitem *it = c->head;

		c->head = it->next;
		qitem_free(it);
	}
	log_info("dataDir %s closed at zxid 0x%llx", c->dir,
		 (unsigned long long)c->applied);
	free_core(c);
}

struct tree *qcore_tree(struct qcore *c)
{
	return c->tree;
}

int qcore_last_io_errno(const struct qcore *c)
{
	return c->io_errno;
}

int qcore_subscribe(struct qcore *c, tree_listener_fn fn, void *arg)
{
	if (c->nsubs == CORE_MAX_SUBS)
		return -ENOMEM;
	c->subs[c->nsubs].fn = fn;
	c->subs[c->nsubs].arg = arg;
	c->nsubs++;
	return 0;
}

void qcore_unsubscribe(struct qcore *c, tree_listener_fn fn, void *arg)
{
	for (int i = 0; i < c->nsubs; i++) {
		if (c->subs[i].fn != fn || c->subs[i].arg != arg)
			continue;
		memmove(&c->subs[i], &c->subs[i + 1],
			(size_t)(c->nsubs - i - 1) * sizeof(c->subs[0]));
		c->nsubs--;
		return;
	}
}

void qcore_stats(const struct qcore *c, struct qcore_stats *out)
{
	struct storage_stats s;

	storage_stats(c->st, &s);
	memset(out, 0, sizeof(*out));
	out->txns = c->txns;
	out->fsyncs = s.commits;
	out->outstanding = c->outstanding;
	out->last_zxid = c->applied;
	out->log_bytes = s.bytes;
	out->snapshots = c->snapshots;
	out->max_commit_us = s.max_commit_us;
	out->log_txns = s.records;
	out->log_failed = s.failed;
	out->snap_zxid = c->snap_zxid;
	out->snap_running = c->snap_pid != 0;
	out->sessions = sesstrack_count(c->sess);
	out->nodes = tree_node_count(c->tree);
}
