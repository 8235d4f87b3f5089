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
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "cons_node.h"
#include "core_int.h"
#include "logstore.h"
#include "log.h"
#include "snapshot.h"
#include "zerr.h"

void core_emit(struct qcore *c, const struct tree_event *ev)
{
	int i;

	for (i = 0; i < c->nsubs; i++)
		c->subs[i].fn(c->subs[i].arg, ev);
}

void core_tree_listener(void *arg, const struct tree_event *ev)
{
	core_emit(arg, ev);
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
	if (o->init_limit <= 0)
		o->init_limit = 10;
	if (o->sync_limit <= 0)
		o->sync_limit = 5;
	if (o->archive_interval_ms <= 0)
		o->archive_interval_ms = 5000;
}

/* The ensemble from the options: standalone is a one-member ensemble. */
static int members(struct qcore *c, char *errbuf, size_t errlen)
{
	size_t i;
	int self = 0;

	if (c->o.server_id <= 0)
		c->o.server_id = 1;
	c->self = (uint32_t)c->o.server_id;
	if (c->o.n_members == 0) {
		c->members[0] = (struct cons_member){.id = c->self, .weight = 1};
		c->n_members = 1;
		c->standalone = 1;
		return 0;
	}
	if (c->o.n_members > CONS_MAX_MEMBERS) {
		snprintf(errbuf, errlen, "%zu servers: at most %d", c->o.n_members,
			 CONS_MAX_MEMBERS);
		return -EINVAL;
	}
	for (i = 0; i < c->o.n_members; i++) {
		const struct qcore_member *m = &c->o.members[i];

		if (m->id <= 0 || m->id > 255) {
			snprintf(errbuf, errlen, "server.%lld: ids are 1..255",
				 (long long)m->id);
			return -EINVAL;
		}
		c->members[i] = (struct cons_member){
		    .id = (uint32_t)m->id,
		    .observer = (uint8_t)m->observer,
		    .group = m->group,
		    .weight = c->o.quorum == QCORE_QUORUM_MAJORITY ? 1 : m->weight};
		if (m->id == c->o.server_id)
			self = 1;
	}
	c->n_members = (unsigned)c->o.n_members;
	c->standalone = c->n_members == 1;
	if (!self) {
		snprintf(errbuf, errlen, "myid %lld is not among the server.N lines",
			 (long long)c->o.server_id);
		return -EINVAL;
	}
	return 0;
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
	core_archive_close(c);
	core_repl_free(c);
	if (c->recv_fd >= 0)
		close(c->recv_fd);
	if (c->touch_ev)
		event_free(c->touch_ev);
	free(c->touched);
	free(c->view_local);
	buf_free(&c->lq);
	if (c->drain_ev)
		event_free(c->drain_ev);
	if (c->tick_ev)
		event_free(c->tick_ev);
	if (c->reap_ev)
		event_free(c->reap_ev);
	if (c->purge_ev)
		event_free(c->purge_ev);
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
	c->lock_fd = -1;
	c->snap_fd = -1;
	c->recv_fd = -1;
	c->tail = &c->head;
	c->fault_skip_create = getenv("QUORUMFS_FAULT_SKIP_CREATE");
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
	ret = core_cluster_check(c->dir, c->o.cluster_name, errbuf, errlen);
	if (ret)
		goto err_after_alloc;
	if (c->o.n_members > 1 && c->o.cluster_secret && c->o.cluster_secret_len) {
		/* Passwords hold on every member: derived from the cluster's
		 * secret, not this dataDir's. */
		unsigned int mdlen = SESSION_SECRET_LEN;

		if (!HMAC(EVP_sha256(), c->o.cluster_secret, (int)c->o.cluster_secret_len,
			  (const unsigned char *)"quorumfs session passwords", 26, secret,
			  &mdlen)) {
			snprintf(errbuf, errlen, "deriving the session secret failed");
			ret = -EIO;
			goto err_after_alloc;
		}
	} else {
		ret = session_secret_load(c->dir, secret, errbuf, errlen);
		if (ret)
			goto err_after_alloc;
	}
	c->sess = sesstrack_new(c->o.server_id, c->o.tick_ms, c->o.max_session_timeout_ms,
				secret, core_wall_ms());
	if (!c->sess) {
		ret = -ENOMEM;
		goto err_after_alloc;
	}
	ret = members(c, errbuf, errlen);
	if (ret)
		goto err_after_alloc;
	ret = core_recover(c, errbuf, errlen);
	if (ret)
		goto err_after_alloc;
	c->drain_ev = event_new(c->base, -1, 0, drain_cb, c);
	if (!c->drain_ev) {
		ret = -ENOMEM;
		snprintf(errbuf, errlen, "qcore_open: out of memory");
		goto err_after_alloc;
	}
	/* Events of the replayed log are nobody's yet: listen from here. */
	ret = core_repl_open(c, errbuf, errlen);
	if (ret)
		goto err_after_alloc;
	ret = core_archive_open(c, errbuf, errlen);
	if (ret)
		goto err_after_alloc;
	tree_set_listener(c->tree, core_tree_listener, c);
	ret = core_session_start(c);
	if (!ret)
		ret = reaper_start(c);
	if (!ret)
		ret = core_purge_timer_start(c);
	if (ret) {
		snprintf(errbuf, errlen, "qcore_open: timers: %s", strerror(-ret));
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
	core_backup_stop(c);
	/* Flush: the log store commits what is queued and its completions
	 * apply what that commits (a lone member is its own quorum); what a
	 * quorum elsewhere has not confirmed fails with ZCLOSING. */
	core_repl_stop(c);
	core_fail_outstanding(c, ZCLOSING);
	core_drain(c);
}

void qcore_close(struct qcore *c)
{
	if (!c)
		return;
	qcore_quiesce(c);
	core_archive_close(c);
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
	uint64_t commits = 0, entries = 0;
	char path[4200];
	struct stat sb;

	memset(out, 0, sizeof(*out));
	if (c->ls)
		logstore_stats(c->ls, &commits, &entries);
	out->txns = c->txns;
	out->apply_failed = c->apply_failed;
	out->apply_failed_zxid = c->apply_failed_zxid;
	out->fsyncs = commits;
	out->outstanding = c->outstanding;
	out->last_zxid = c->applied;
	snprintf(path, sizeof(path), "%s/txnlog.db", c->dir);
	if (stat(path, &sb) == 0)
		out->log_bytes = (uint64_t)sb.st_size;
	snprintf(path, sizeof(path), "%s/txnlog.db-wal", c->dir);
	if (stat(path, &sb) == 0)
		out->log_bytes += (uint64_t)sb.st_size;
	out->snapshots = c->snapshots;
	out->log_txns = entries;
	out->log_failed = c->log_failed;
	out->snap_zxid = c->snap_zxid;
	snapshot_path(path, sizeof(path), c->dir, c->snap_zxid);
	if (stat(path, &sb) == 0)
		out->snap_time = (int64_t)sb.st_mtime;
	out->snap_running = c->snap_pid != 0;
	out->sessions = sesstrack_count(c->sess);
	out->nodes = tree_node_count(c->tree);
}
