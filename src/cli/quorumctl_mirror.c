/*
 * quorumctl_mirror.c - `mirror [--once] [--keep] [--rescan S] [--from-auth
 * SCHEME:CRED] SOURCE [PATH [TO]]`: copy a live ZooKeeper or quorumfs
 * cluster's tree (or the subtree PATH) into the cluster of -s (at TO), then
 * keep the copy in step until interrupted, for a move to the new cluster:
 * once clients are pointed at it, the mirror is stopped.
 *
 * How: a persistent recursive watch on the source's PATH is set first, then
 * a full pass walks the source and makes every node of the copy equal (data
 * and ACL), creating what is missing (parents first) and deleting what the
 * source no longer has (unless --keep). After that each watch event names a
 * node, which is read again and made equal the same way, so events that
 * arrive while an earlier one is handled cost nothing extra and changes are
 * never applied out of order: the copy always takes the source's present
 * state. A watch does not fire for an ACL change, so a full pass also runs
 * every --rescan seconds (default 60). A lost connection to either side is
 * made again (every second, until interrupted), with the watch, and
 * followed by a full pass: nothing that happened meanwhile is missed.
 *
 * What is not copied: ephemeral nodes (they belong to the source's
 * sessions; their clients make them again after moving) and the system
 * subtree /zookeeper. Containers and TTL nodes arrive as persistent nodes:
 * the client protocol does not show a node's kind. Stats (zxids, versions,
 * times) are the copy's own: quorumadm import-zk keeps them, for an offline
 * move.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "quorumctl.h"
#include "txn.h"
#include "zerr.h"

#define MIRROR_RETRY_S	 1
#define MIRROR_RESCAN_S	 60
#define MIRROR_PATH_MAX	 4096
#define MIRROR_LOOKAHEAD 256
#define MIRROR_WINDOW	 256 /* copy writes in flight */
/* The scratch child that raises a copy's sequential counter, and how many
 * of its create-delete pairs one multi carries. */
#define MIRROR_SEQ_NAME	 ".quorumctl-mirror-seq"
#define MIRROR_SEQ_BATCH 500

/* A node as one side has it. */
struct mnode {
	int err; /* ZOK, ZNONODE, or the read's error */
	struct jute_buffer data;
	struct zstat st;
	struct acl_list acl;
	struct jute_strvec kids;
};

struct mirror {
	struct ctl *dst;
	struct ctl src;
	const char *from, *to;
	int keep, once;
	int64_t rescan_s;
	/* source paths named by watch events, in arrival order */
	char **q;
	size_t qn, qcap;
	int q_oom; /* an event was dropped for memory: a full pass is due */
	/* counts of the current pass, or of the follow phase */
	uint64_t nodes, created, updated, deleted, skipped, failed, counters;
	/* copy nodes whose sequential counter the pass checks at its end */
	struct seqwant {
		char *dpath;
		int64_t want;
	} *sw;
	size_t swn, swcap;
	int inflight;  /* copy writes submitted, not yet answered */
	int follow;    /* print each change (after the first pass) */
	int reconnect; /* a side lost its session: reconnect, full pass */
};

static struct mirror *the_mirror; /* for the source's watch callback */

static void mnode_free(struct mnode *n)
{
	free(n->data.data);
	acl_free(&n->acl);
	for (int32_t i = 0; i < n->kids.n; i++)
		free(n->kids.v[i]);
	free(n->kids.v);
	memset(n, 0, sizeof(*n));
}

static int is_system(const char *path)
{
	return !strcmp(path, "/zookeeper") || !strncmp(path, "/zookeeper/", 11);
}

/* dst = TO + (path without FROM). 0, or -1 when it does not fit. */
static int map_path(const struct mirror *m, const char *path, char *out, size_t len)
{
	const char *rest = path + (strcmp(m->from, "/") ? strlen(m->from) : 0);
	int n;

	if (!strcmp(rest, "/")) /* FROM is "/" and path is it */
		rest = "";
	if (!strcmp(m->to, "/"))
		n = snprintf(out, len, "%s", *rest ? rest : "/");
	else
		n = snprintf(out, len, "%s%s", m->to, rest);
	return n < 0 || (size_t)n >= len ? -1 : 0;
}

static int join(const char *dir, const char *kid, char *out, size_t len)
{
	int n = snprintf(out, len, "%s/%s", strcmp(dir, "/") ? dir : "", kid);

	return n < 0 || (size_t)n >= len ? -1 : 0;
}

/* The three reads of one node, in flight together (a session answers in
 * order, so one round trip instead of three). */
struct nread {
	struct mnode *n;
	int left;
};

/* The first error wins: a node deleted between the reads is gone. */
static int read_failed(struct nread *w, const struct zkc_reply *r)
{
	w->left--;
	if (r->err && !w->n->err)
		w->n->err = r->err;
	return r->err != ZOK;
}

static void got_data(void *arg, const struct zkc_reply *r)
{
	struct nread *w = arg;
	struct mnode *n = w->n;
	const struct jute_buffer *d = &r->body.get_data_response.data;

	if (read_failed(w, r))
		return;
	n->st = r->body.get_data_response.stat;
	n->data.len = d->len;
	if (d->len > 0) {
		n->data.data = malloc((size_t)d->len);
		if (n->data.data)
			memcpy(n->data.data, d->data, (size_t)d->len);
		else
			n->err = ZSYSTEMERROR;
	}
}

static void got_acl(void *arg, const struct zkc_reply *r)
{
	struct nread *w = arg;

	if (!read_failed(w, r) && acl_copy(&w->n->acl, &r->body.get_acl_response.acl) < 0)
		w->n->err = ZSYSTEMERROR;
}

static void got_kids(void *arg, const struct zkc_reply *r)
{
	struct nread *w = arg;
	struct mnode *n = w->n;
	const struct jute_strvec *v = &r->body.get_children_response.children;

	if (read_failed(w, r) || v->n <= 0)
		return;
	n->kids.v = calloc((size_t)v->n, sizeof(char *));
	if (!n->kids.v) {
		n->err = ZSYSTEMERROR;
		return;
	}
	for (int32_t i = 0; i < v->n; i++) {
		n->kids.v[i] = strdup(v->v[i]);
		if (!n->kids.v[i]) {
			n->err = ZSYSTEMERROR;
			return;
		}
		n->kids.n++;
	}
}

/* Read a node's data, stat, ACL and children; n->err says how it went. */
static void node_read(struct ctl *c, const char *path, struct mnode *n)
{
	struct jute_get_data_request gd = {.path = (char *)path};
	struct jute_get_acl_request ga = {.path = (char *)path};
	struct jute_get_children_request gc = {.path = (char *)path};
	struct nread w = {.n = n};

	memset(n, 0, sizeof(*n));
	if (zkc_submit(c->zk, ZOP_GETDATA, &gd, got_data, &w) >= 0)
		w.left++;
	if (zkc_submit(c->zk, ZOP_GETACL, &ga, got_acl, &w) >= 0)
		w.left++;
	if (zkc_submit(c->zk, ZOP_GETCHILDREN, &gc, got_kids, &w) >= 0)
		w.left++;
	if (w.left < 3 && !n->err)
		n->err = ZCONNECTIONLOSS;
	/* Every callback runs, also when the connection drops (ZCONNECTIONLOSS):
	 * w must outlive them. */
	while (w.left > 0)
		event_base_loop(c->base, EVLOOP_ONCE);
}

static int data_equal(const struct jute_buffer *a, const struct jute_buffer *b)
{
	int32_t la = a->len > 0 ? a->len : 0, lb = b->len > 0 ? b->len : 0;

	return la == lb && (!la || !memcmp(a->data, b->data, (size_t)la));
}

static void changed(struct mirror *m, const char *what, const char *path)
{
	if (!m->follow)
		return;
	printf("%s %s\n", what, path);
	fflush(stdout);
}

/* An error of the destination or source session itself (not of a node):
 * reconnect and make a full pass. */
static int session_err(int err)
{
	return err == ZCONNECTIONLOSS || err == ZSESSIONEXPIRED || err == ZCLOSING ||
	       err == ZNOTREADONLY || err == ZOPERATIONTIMEOUT;
}

static void node_failed(struct mirror *m, const char *side, const char *path, int err)
{
	if (session_err(err)) {
		m->reconnect = 1;
		return;
	}
	fprintf(stderr, "quorumctl: mirror: %s %s: %s\n", side, path, zerr_str(err));
	m->failed++;
}

/* Delete the copy's node at dpath and everything under it. */
static void dst_remove(struct mirror *m, const char *dpath)
{
	struct jute_delete_request q = {.path = (char *)dpath, .version = -1};
	char kid[MIRROR_PATH_MAX];
	struct mnode d;
	int err;

	if (is_system(dpath) || !strcmp(dpath, "/"))
		return;
	node_read(m->dst, dpath, &d);
	if (d.err == ZNONODE || d.err) {
		if (d.err != ZNONODE)
			node_failed(m, "copy", dpath, d.err);
		mnode_free(&d);
		return;
	}
	for (int32_t i = 0; i < d.kids.n && !m->reconnect; i++)
		if (join(dpath, d.kids.v[i], kid, sizeof(kid)) == 0)
			dst_remove(m, kid);
	mnode_free(&d);
	err = ctl_call(m->dst, ZOP_DELETE, &q, NULL, NULL);
	if (err == ZOK) {
		m->deleted++;
		changed(m, "deleted", dpath);
	} else if (err != ZNONODE) {
		node_failed(m, "copy", dpath, err);
	}
}

/*
 * Writes to the copy are pipelined, up to MIRROR_WINDOW in flight: a
 * session's requests run in the order sent, so a child's create sent after
 * its parent's needs no wait, and a read sent later sees them all. Their
 * replies are counted (and printed) as they come, in that order.
 */
struct wop {
	struct mirror *m;
	const char *what; /* "created", "updated", "acl" */
	char path[];
};

static void wop_done(void *arg, const struct zkc_reply *r)
{
	struct wop *w = arg;
	struct mirror *m = w->m;

	m->inflight--;
	if (r->err == ZOK) {
		if (!strcmp(w->what, "created"))
			m->created++;
		else
			m->updated++;
		changed(m, w->what, w->path);
	} else {
		node_failed(m, "copy", w->path, r->err);
	}
	free(w);
}

static void dst_async(struct mirror *m, int32_t op, const void *body, const char *what,
		      const char *dpath)
{
	size_t len = strlen(dpath) + 1;
	struct wop *w = malloc(sizeof(*w) + len);

	if (!w) {
		node_failed(m, "copy", dpath, ZSYSTEMERROR);
		return;
	}
	w->m = m;
	w->what = what;
	memcpy(w->path, dpath, len);
	if (zkc_submit(m->dst->zk, op, body, wop_done, w) < 0) {
		free(w);
		node_failed(m, "copy", dpath, ZCONNECTIONLOSS);
		return;
	}
	m->inflight++;
	while (m->inflight >= MIRROR_WINDOW)
		event_base_loop(m->dst->base, EVLOOP_ONCE);
}

/* Wait for every write in flight (each callback runs, also on a drop). */
static void dst_drain(struct mirror *m)
{
	while (m->inflight > 0)
		event_base_loop(m->dst->base, EVLOOP_ONCE);
}

static int sync_node(struct mirror *m, const char *path, struct mnode *s, int missing);

/* Create the missing ancestors of dpath in the copy, empty, open. */
static void dst_make_parents(struct mirror *m, const char *dpath)
{
	struct zacl open = {.perms = ZPERM_ALL, .scheme = "world", .id = "anyone"};
	char p[MIRROR_PATH_MAX];

	snprintf(p, sizeof(p), "%s", dpath);
	for (char *slash = strchr(p + 1, '/'); slash; slash = strchr(slash + 1, '/')) {
		struct jute_create_request c = {
		    .path = p, .acl = {.n = 1, .v = &open}, .flags = ZCM_PERSISTENT};
		int err;

		*slash = 0;
		c.data.len = -1;
		err = ctl_call(m->dst, ZOP_CREATE, &c, NULL, NULL);
		*slash = '/';
		if (err == ZOK)
			changed(m, "created", p);
		else if (err != ZNODEEXISTS) {
			node_failed(m, "copy", dpath, err);
			return;
		}
	}
}

/*
 * Make the copy of source node path equal to s (read already). missing:
 * the copy cannot have it (its parent was created in this pass), so it is
 * created without reading it first. Returns 1 when the copy's node is new.
 */
static int make_equal(struct mirror *m, const char *path, const char *dpath,
		      const struct mnode *s, int missing)
{
	struct jute_create_request c = {.path = (char *)dpath,
					.data = s->data,
					.acl = s->acl,
					.flags = ZCM_PERSISTENT};
	struct mnode d;
	int err;

	if (missing) {
		dst_async(m, ZOP_CREATE, &c, "created", dpath);
		return 1;
	}
	node_read(m->dst, dpath, &d);
	if (d.err == ZNONODE) {
		err = ctl_call(m->dst, ZOP_CREATE, &c, NULL, NULL);
		if (err == ZNONODE && !strcmp(path, m->from)) {
			/* TO's parents are the copy's own: made empty. */
			dst_make_parents(m, dpath);
			err = ctl_call(m->dst, ZOP_CREATE, &c, NULL, NULL);
		} else if (err == ZNONODE) {
			/* The copy's parent is missing: copy the source's first. */
			char parent[MIRROR_PATH_MAX];
			struct mnode ps;

			snprintf(parent, sizeof(parent), "%s", path);
			*strrchr(parent, '/') = 0;
			if (!parent[0]) /* path is "/x": its parent is FROM, "/" */
				strcpy(parent, "/");
			sync_node(m, parent, &ps, 0);
			mnode_free(&ps);
			err = ctl_call(m->dst, ZOP_CREATE, &c, NULL, NULL);
		}
		mnode_free(&d);
		if (err == ZOK) {
			m->created++;
			changed(m, "created", dpath);
			return 1;
		}
		if (err != ZNODEEXISTS)
			node_failed(m, "copy", dpath, err);
		return 0;
	}
	if (d.err) {
		node_failed(m, "copy", dpath, d.err);
		mnode_free(&d);
		return 0;
	}
	if (d.st.ephemeral_owner) {
		/* The copy's own client made it: not the mirror's to change. */
		m->skipped++;
		mnode_free(&d);
		return 0;
	}
	if (!data_equal(&s->data, &d.data)) {
		struct jute_set_data_request q = {
		    .path = (char *)dpath, .data = s->data, .version = -1};

		dst_async(m, ZOP_SETDATA, &q, "updated", dpath);
	}
	if (!acl_equal(&s->acl, &d.acl)) {
		struct jute_set_acl_request q = {
		    .path = (char *)dpath, .acl = s->acl, .version = -1};

		dst_async(m, ZOP_SETACL, &q, "acl", dpath);
	}
	if (!m->keep)
		for (int32_t i = 0; i < d.kids.n && !m->reconnect; i++) {
			char kid[MIRROR_PATH_MAX];
			int found = 0;

			if (!strcmp(dpath, "/") && !strcmp(d.kids.v[i], "zookeeper"))
				continue;
			for (int32_t j = 0; j < s->kids.n && !found; j++)
				found = !strcmp(d.kids.v[i], s->kids.v[j]);
			if (!found && join(dpath, d.kids.v[i], kid, sizeof(kid)) == 0)
				dst_remove(m, kid);
		}
	mnode_free(&d);
	return 0;
}

/*
 * Make the copy of one source node equal to it, not its subtree; s is left
 * holding the source's node (children included) for a caller that walks
 * on. A node the source no longer has is removed from the copy.
 */
static int sync_node(struct mirror *m, const char *path, struct mnode *s, int missing)
{
	char dpath[MIRROR_PATH_MAX];

	memset(s, 0, sizeof(*s));
	if (is_system(path) || map_path(m, path, dpath, sizeof(dpath)) < 0)
		return 0;
	node_read(&m->src, path, s);
	if (s->err == ZNONODE) {
		if (!m->keep && !missing)
			dst_remove(m, dpath);
		return 0;
	}
	if (s->err) {
		node_failed(m, "source", path, s->err);
		return 0;
	}
	m->nodes++;
	if (s->st.ephemeral_owner) {
		m->skipped++;
		return 0;
	}
	return make_equal(m, path, dpath, s, missing);
}

/*
 * THE SEQUENTIAL COUNTER. A sequential create takes its number from the
 * parent's count of children ever created, which the stat shows folded
 * into cversion: ZooKeeper shows 2 x creates - children (DataNode.copyStat),
 * and so does quorumfs. A copy whose parent counted fewer creates than the
 * source's (children deleted before the copy was made, ephemerals never
 * copied) would hand out old numbers again: a sequential node that sorts
 * before an old one, or a create that fails with NodeExists. Each create
 * counts one, so the mirror raises the copy's count by creating and
 * deleting a scratch child, many pairs in one multi; never lowers it.
 */
static int64_t seq_count(const struct zstat *st)
{
	return ((int64_t)st->cversion + st->num_children) / 2;
}

static void got_stat(struct ctl *x, const struct zkc_reply *r, void *arg)
{
	(void)x;
	*(struct zstat *)arg = r->body.exists_response.stat;
}

static void seq_catch_up(struct mirror *m, const char *dpath, int64_t want)
{
	struct zacl open = {.perms = ZPERM_ALL, .scheme = "world", .id = "anyone"};
	struct jute_exists_request q = {.path = (char *)dpath};
	struct jute_multi_op *ops;
	char scratch[MIRROR_PATH_MAX];
	struct zstat st;
	int64_t have;
	int err;

	memset(&st, 0, sizeof(st));
	err = ctl_call(m->dst, ZOP_EXISTS, &q, got_stat, &st);
	if (err == ZNONODE)
		return; /* gone meanwhile: a later event or pass says more */
	if (err) {
		node_failed(m, "copy", dpath, err);
		return;
	}
	have = seq_count(&st);
	if (have >= want || st.ephemeral_owner ||
	    join(dpath, MIRROR_SEQ_NAME, scratch, sizeof(scratch)) < 0)
		return;
	ops = calloc(2 * MIRROR_SEQ_BATCH, sizeof(*ops));
	if (!ops) {
		node_failed(m, "copy", dpath, ZSYSTEMERROR);
		return;
	}
	while (have < want && !m->reconnect) {
		int n = want - have < MIRROR_SEQ_BATCH ? (int)(want - have) : MIRROR_SEQ_BATCH;
		struct jute_multi req = {.n = 2 * n, .ops = ops};

		memset(ops, 0, 2 * MIRROR_SEQ_BATCH * sizeof(*ops));
		for (int i = 0; i < n; i++) {
			struct jute_multi_op *c = &ops[2 * i], *d = &ops[2 * i + 1];

			c->type = ZOP_CREATE;
			c->err = -1;
			c->body.create_request.path = scratch;
			c->body.create_request.data.len = -1;
			c->body.create_request.acl.n = 1;
			c->body.create_request.acl.v = &open;
			d->type = ZOP_DELETE;
			d->err = -1;
			d->body.delete_request.path = scratch;
			d->body.delete_request.version = -1;
		}
		err = ctl_call(m->dst, ZOP_MULTI, &req, NULL, NULL);
		if (err) {
			node_failed(m, "copy", dpath, err);
			break;
		}
		have += n;
	}
	free(ops);
	if (have >= want) {
		m->counters++;
		changed(m, "counter", dpath);
	}
}

/* A copy node whose counter the pass checks once its writes are done. */
static void seq_note(struct mirror *m, const char *dpath, int64_t want)
{
	char *p;

	if (m->swn == m->swcap) {
		size_t cap = m->swcap ? 2 * m->swcap : 64;
		struct seqwant *v = realloc(m->sw, cap * sizeof(*v));

		if (!v) {
			node_failed(m, "copy", dpath, ZSYSTEMERROR);
			return;
		}
		m->sw = v;
		m->swcap = cap;
	}
	p = strdup(dpath);
	if (!p) {
		node_failed(m, "copy", dpath, ZSYSTEMERROR);
		return;
	}
	m->sw[m->swn].dpath = p;
	m->sw[m->swn++].want = want;
}

/*
 * While following: an event names a node with a sequential create's name
 * (ten digits at the end). Its parent's count moved on the source, maybe
 * with nothing to copy (an ephemeral, or a node deleted before the mirror
 * read it), so the parent's counter is checked as a pass would check it.
 * Events come in bursts under one parent (a queue): the last note for the
 * same parent is raised rather than repeated.
 */
static int seq_named(const char *path)
{
	size_t n = strlen(path);

	if (n < 12)
		return 0;
	for (size_t i = n - 10; i < n; i++)
		if (path[i] < '0' || path[i] > '9')
			return 0;
	return 1;
}

static void seq_event(struct mirror *m, const char *path)
{
	struct jute_exists_request q;
	char parent[MIRROR_PATH_MAX], dpath[MIRROR_PATH_MAX];
	const char *slash = strrchr(path, '/');
	size_t len = slash ? (size_t)(slash - path) : 0;
	struct zstat st;
	int err;

	if (!seq_named(path) || !slash || len >= sizeof(parent))
		return;
	memcpy(parent, path, len);
	parent[len ? len : 1] = '\0';
	if (!len)
		parent[0] = '/';
	if (is_system(parent) || map_path(m, parent, dpath, sizeof(dpath)) < 0)
		return;
	memset(&st, 0, sizeof(st));
	q.path = parent;
	q.watch = 0;
	err = ctl_call(&m->src, ZOP_EXISTS, &q, got_stat, &st);
	if (err == ZNONODE || (!err && seq_count(&st) <= 0))
		return;
	if (err) {
		node_failed(m, "source", parent, err);
		return;
	}
	if (m->swn && !strcmp(m->sw[m->swn - 1].dpath, dpath)) {
		if (m->sw[m->swn - 1].want < seq_count(&st))
			m->sw[m->swn - 1].want = seq_count(&st);
		return;
	}
	seq_note(m, dpath, seq_count(&st));
}

static void seq_pass(struct mirror *m)
{
	for (size_t i = 0; i < m->swn; i++) {
		if (!m->reconnect && !m->dst->interrupted)
			seq_catch_up(m, m->sw[i].dpath, m->sw[i].want);
		free(m->sw[i].dpath);
	}
	m->swn = 0;
}

/* The whole subtree from path, depth first; missing: as make_equal's. */
static void pass_tree(struct mirror *m, const char *path, int missing)
{
	struct mnode s;
	char kid[MIRROR_PATH_MAX], dpath[MIRROR_PATH_MAX];
	int created = sync_node(m, path, &s, missing);

	if (!s.err && !s.st.ephemeral_owner) {
		for (int32_t i = 0; i < s.kids.n && !m->reconnect && !m->dst->interrupted;
		     i++)
			if (join(path, s.kids.v[i], kid, sizeof(kid)) == 0)
				pass_tree(m, kid, created);
		if (seq_count(&s.st) > 0 && !is_system(path) &&
		    map_path(m, path, dpath, sizeof(dpath)) == 0)
			seq_note(m, dpath, seq_count(&s.st));
	}
	mnode_free(&s);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void full_pass(struct mirror *m)
{
	double t0 = now_s();
	int follow = m->follow;

	m->nodes = m->created = m->updated = m->deleted = m->skipped = m->failed = 0;
	m->counters = 0;
	m->follow = 0;
	pass_tree(m, m->from, 0);
	dst_drain(m);
	/* The counters once every create of the pass has landed. */
	seq_pass(m);
	m->follow = follow;
	if (m->reconnect)
		return;
	fprintf(
	    stderr,
	    "quorumctl: mirror: pass over %s: %llu nodes; %llu created, %llu updated, "
	    "%llu deleted, %llu ephemeral skipped, %llu failed, %llu counters raised "
	    "(%.1f s)\n",
	    m->from, (unsigned long long)m->nodes, (unsigned long long)m->created,
	    (unsigned long long)m->updated, (unsigned long long)m->deleted,
	    (unsigned long long)m->skipped, (unsigned long long)m->failed,
	    (unsigned long long)m->counters, now_s() - t0);
}

static void on_event(struct ctl *x, const struct jute_watcher_event *ev)
{
	struct mirror *m = the_mirror;
	char *p;

	(void)x;
	if (ev->type == JUTE_EVENT_NONE || !ev->path)
		return;
	if (m->qn == m->qcap) {
		size_t cap = m->qcap ? 2 * m->qcap : 64;
		char **v = realloc(m->q, cap * sizeof(*v));

		if (!v) {
			m->q_oom = 1;
			return;
		}
		m->q = v;
		m->qcap = cap;
	}
	p = strdup(ev->path);
	if (!p) {
		m->q_oom = 1;
		return;
	}
	m->q[m->qn++] = p;
}

static void drain_events(struct mirror *m)
{
	size_t i;

	/* Handling one event may wait on the loop, where more arrive: the
	 * queue grows while it is walked, and while the copy's writes and
	 * counters are waited for below. Those later events stay queued for
	 * the caller's next round, never dropped with the ones handled. */
	for (i = 0; i < m->qn && !m->reconnect; i++) {
		struct mnode s;

		/* The same node named again soon after is read then (a
		 * bounded look, so that a burst costs no quadratic time). */
		int later = 0;

		for (size_t j = i + 1; j < m->qn && j <= i + MIRROR_LOOKAHEAD && !later;
		     j++)
			later = !strcmp(m->q[i], m->q[j]);
		if (!later) {
			sync_node(m, m->q[i], &s, 0);
			mnode_free(&s);
			seq_event(m, m->q[i]);
		}
	}
	dst_drain(m);
	/* Counters once the copy's creates of this burst have landed. */
	seq_pass(m);
	for (size_t j = 0; j < i; j++)
		free(m->q[j]);
	if (i && m->qn > i)
		memmove(m->q, m->q + i, (m->qn - i) * sizeof(*m->q));
	m->qn -= i;
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	*(int *)arg = 1;
}

/* Connect one side, again if it was connected; 0 or an exit code. */
static int side_connect(struct ctl *x)
{
	if (x->zk)
		zkc_free(x->zk);
	x->zk = NULL;
	x->connected = 0;
	x->lost = 0;
	return ctl_connect(x);
}

static int watch_source(struct mirror *m)
{
	struct jute_add_watch_request q = {.path = (char *)m->from,
					   .mode = JUTE_ADD_WATCH_PERSISTENT_RECURSIVE};
	int err = ctl_call(&m->src, ZOP_ADDWATCH, &q, NULL, NULL);

	if (err)
		fprintf(stderr, "quorumctl: mirror: watching %s on %s: %s\n", m->from,
			m->src.hosts, zerr_str(err));
	return err;
}

/* Wait a second on the loop (signals still heard). */
static void pause_retry(struct mirror *m)
{
	struct timeval tv = {MIRROR_RETRY_S, 0};
	int done = 0;
	struct event *t = evtimer_new(m->dst->base, on_tick, &done);

	if (!t) {
		sleep(MIRROR_RETRY_S);
		return;
	}
	evtimer_add(t, &tv);
	while (!done && !m->dst->interrupted)
		event_base_loop(m->dst->base, EVLOOP_ONCE);
	event_free(t);
}

/* Both sides connected, the watch set, and a full pass made; retried until
 * it works or the command is interrupted (or, with --once, fails). */
static int start_over(struct mirror *m, int first)
{
	for (;;) {
		int rc = 0;

		dst_drain(m); /* a lost session failed them all already */
		m->reconnect = 0;
		/* The full pass below covers what the queued events named. */
		for (size_t j = 0; j < m->qn; j++)
			free(m->q[j]);
		m->qn = 0;
		if (!first || !m->src.connected)
			rc = side_connect(&m->src);
		if (!rc && (!first || !m->dst->connected))
			rc = side_connect(m->dst);
		if (!rc && !m->once && watch_source(m))
			rc = CTL_EXIT_ZK;
		if (!rc) {
			full_pass(m);
			if (!m->reconnect)
				return 0;
		}
		if (m->once || m->dst->interrupted)
			return rc ? rc : CTL_EXIT_CONNECT;
		fprintf(stderr, "quorumctl: mirror: connecting again in %d s\n",
			MIRROR_RETRY_S);
		pause_retry(m);
		first = 0;
		if (m->dst->interrupted)
			return CTL_EXIT_OK;
	}
}

int ctl_cmd_mirror(struct ctl *x, int argc, char **argv)
{
	enum { OPT_ONCE = 1000, OPT_KEEP, OPT_RESCAN, OPT_FROM_AUTH };
	static const struct option opts[] = {
	    {"once", no_argument, NULL, OPT_ONCE},
	    {"keep", no_argument, NULL, OPT_KEEP},
	    {"rescan", required_argument, NULL, OPT_RESCAN},
	    {"from-auth", required_argument, NULL, OPT_FROM_AUTH},
	    {NULL, 0, NULL, 0},
	};
	struct mirror m;
	struct event *tick = NULL;
	int opt, rc, rescan_due = 0;

	memset(&m, 0, sizeof(m));
	m.rescan_s = MIRROR_RESCAN_S;
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case OPT_ONCE:
			m.once = 1;
			break;
		case OPT_KEEP:
			m.keep = 1;
			break;
		case OPT_RESCAN:
			if (ctl_parse_int("--rescan", optarg, 1, 86400, &m.rescan_s))
				return CTL_EXIT_USAGE;
			break;
		case OPT_FROM_AUTH:
			if (!strchr(optarg, ':')) {
				fprintf(stderr, "quorumctl mirror: --from-auth: expected "
						"SCHEME:CREDENTIALS\n");
				return CTL_EXIT_USAGE;
			}
			m.src.auth = optarg;
			break;
		default:
			return CTL_EXIT_USAGE;
		}
	}
	if (argc - optind < 1 || argc - optind > 3) {
		fprintf(stderr, "quorumctl mirror: expected SOURCE [PATH [TO]]\n");
		return CTL_EXIT_USAGE;
	}
	m.src.hosts = argv[optind];
	m.from = argc - optind > 1 ? argv[optind + 1] : "/";
	m.to = argc - optind > 2 ? argv[optind + 2] : m.from;
	if (m.from[0] != '/' || m.to[0] != '/' || is_system(m.from) || is_system(m.to) ||
	    (strlen(m.from) > 1 && m.from[strlen(m.from) - 1] == '/') ||
	    (strlen(m.to) > 1 && m.to[strlen(m.to) - 1] == '/')) {
		fprintf(stderr, "quorumctl mirror: PATH and TO are absolute znode paths, "
				"outside /zookeeper\n");
		return CTL_EXIT_USAGE;
	}
	m.dst = x;
	m.src.base = x->base;
	m.src.on_watch = on_event;
	the_mirror = &m;
	rc = ctl_signals_on(x);
	if (rc)
		return rc;
	rc = start_over(&m, 1);
	if (rc || m.once || x->interrupted) {
		if (!rc && m.failed)
			rc = CTL_EXIT_ZK;
		goto out;
	}
	fprintf(stderr, "quorumctl: mirror: following %s on %s into %s on %s\n", m.from,
		m.src.hosts, m.to, x->hosts);
	m.follow = 1;
	tick = evtimer_new(x->base, on_tick, &rescan_due);
	if (!tick) {
		rc = CTL_EXIT_CONNECT;
		goto out;
	}
	for (;;) {
		struct timeval tv = {m.rescan_s, 0};

		evtimer_add(tick, &tv);
		rescan_due = 0;
		while (!rescan_due && !x->interrupted && !m.reconnect) {
			if (!m.qn)
				event_base_loop(x->base, EVLOOP_ONCE);
			m.reconnect |= m.src.lost || x->lost || m.q_oom;
			drain_events(&m);
		}
		if (x->interrupted)
			break;
		if (m.reconnect) {
			fprintf(stderr, "quorumctl: mirror: lost %s\n",
				m.q_oom	     ? "an event (out of memory)"
				: m.src.lost ? m.src.hosts
					     : x->hosts);
			m.q_oom = 0;
			m.follow = 0;
			rc = start_over(&m, 0);
			m.follow = 1;
			if (rc || x->interrupted)
				break;
		} else {
			full_pass(&m);
		}
	}
out:
	for (size_t j = 0; j < m.qn; j++)
		free(m.q[j]);
	free(m.q);
	for (size_t j = 0; j < m.swn; j++)
		free(m.sw[j].dpath);
	free(m.sw);
	if (tick)
		event_free(tick);
	ctl_signals_off(x);
	if (m.src.zk && m.src.connected && !m.src.lost)
		ctl_call(&m.src, ZOP_CLOSESESSION, NULL, NULL, NULL);
	if (m.src.zk)
		zkc_free(m.src.zk);
	return rc;
}
