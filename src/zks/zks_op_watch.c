/*
 * zks_op_watch.c - watch registration opcodes.
 *
 * setWatches / setWatches2 (xid -8) re-register a reconnecting client's
 * watches, checked against relativeZxid, the last zxid the client saw, as
 * ZooKeeper's DataTree.setWatches does; an event that happened while the
 * client was away fires at once instead of registering:
 *   data watch:  node gone -> NodeDeleted; mzxid > rel -> NodeDataChanged
 *   exist watch: node there -> NodeCreated
 *   child watch: node gone -> NodeDeleted; pzxid > rel -> NodeChildrenChanged
 *   persistent and persistent-recursive watches: registered as they are
 * Those events leave before the setWatches reply.
 *
 * A reconnecting client may send 100,000 paths in one setWatches. It is
 * worked through in slices (ZKS_SLICE_ITEMS paths or ZKS_SLICE_US, whichever
 * comes first), each continued from a zero-timeout event, so the loop serves
 * other connections, the mount and the session clock in between; the request
 * keeps its place in its connection's queue and nothing behind it runs until
 * it is answered. Notifications go straight before it (zks_conn.running)
 * instead of walking the queue, which made 90,000 paths cost 20 s.
 *
 * addWatch{path, mode}: persistent (0) or persistent-recursive (1); answered
 * with ErrorResponse{0} as FinalRequestProcessor does.
 * removeWatches / checkWatches{path, type}: ZNOWATCHER when this connection
 * holds no such watch on the path.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "core.h"
#include "log.h"
#include "zerr.h"
#include "zks_int.h"

/* The five watch lists of a setWatches or setWatches2, in the order they
 * are worked through; the last two are empty for setWatches. */
struct zks_setw {
	int64_t rel;
	const struct jute_strvec *v[5];
};

static void zks_setw_lists(struct zks_req *r, struct zks_setw *w)
{
	memset(w, 0, sizeof(*w));
	if (r->type == ZOP_SETWATCHES2) {
		struct jute_set_watches2 *q = &r->jr.body.set_watches2;

		w->rel = q->relative_zxid;
		w->v[0] = &q->data_watches;
		w->v[1] = &q->exist_watches;
		w->v[2] = &q->child_watches;
		w->v[3] = &q->persistent_watches;
		w->v[4] = &q->persistent_recursive_watches;
	} else {
		struct jute_set_watches *q = &r->jr.body.set_watches;

		w->rel = q->relative_zxid;
		w->v[0] = &q->data_watches;
		w->v[1] = &q->exist_watches;
		w->v[2] = &q->child_watches;
	}
}

static size_t zks_setw_total(const struct zks_setw *w)
{
	size_t n = 0;

	for (int l = 0; l < 5; l++)
		n += w->v[l] ? (size_t)w->v[l]->n : 0;
	return n;
}

static const unsigned zks_setw_kind[5] = {ZKS_W_DATA, ZKS_W_DATA, ZKS_W_CHILD,
					  ZKS_W_PERSIST, ZKS_W_RECURSIVE};

/* One path of list `list`: fire its missed event, or register its watch.
 * Returns ZOK, ZKS_WATCH_FULL or -ENOMEM. */
static int zks_setw_one(struct zks_req *r, const struct zks_setw *w, int list,
			const char *path)
{
	struct zks_conn *c = r->conn;
	const struct znode *n = NULL;
	int32_t fire = 0;

	if (list <= 2)
		n = tree_lookup(qcore_tree(c->srv->core), path);
	switch (list) {
	case 0: /* data */
		fire = !n ? ZKS_EV_DELETED : n->stat.mzxid > w->rel ? ZKS_EV_DATA : 0;
		break;
	case 1: /* exist */
		fire = n ? ZKS_EV_CREATED : 0;
		break;
	case 2: /* child */
		fire = !n ? ZKS_EV_DELETED : n->stat.pzxid > w->rel ? ZKS_EV_CHILDREN : 0;
		break;
	default:
		break;
	}
	if (fire)
		return zks_conn_notify(c, fire, ZKS_STATE_SYNC_CONNECTED, path);
	if (!c->srv->watches)
		return ZOK;
	return zks_watch_add(c->srv->watches, path, c, zks_setw_kind[list]);
}

/*
 * Work through at most ZKS_SLICE_ITEMS paths (or ZKS_SLICE_US), from
 * r->slice_pos, an index into the five lists laid end to end. Returns 1
 * when every path is done (r->err set), 0 when more remain.
 */
static int zks_setw_slice(struct zks_req *r)
{
	struct zks_setw w;
	int64_t t0 = zks_now_us();
	size_t pos = 0, done = 0;

	zks_setw_lists(r, &w);
	for (int l = 0; l < 5; l++) {
		size_t n = w.v[l] ? (size_t)w.v[l]->n : 0;

		if (r->slice_pos >= pos + n) {
			pos += n;
			continue;
		}
		for (size_t i = r->slice_pos - pos; i < n; i++) {
			int rc = zks_setw_one(r, &w, l, w.v[l]->v[i]);

			if (rc == ZKS_WATCH_FULL && r->err == ZOK) {
				/* The rest are still tried: events for missed
				 * changes still fire, watches already held stay. */
				/* zks_watch_add logged it */
				r->err = ZSYSTEMERROR;
			} else if (rc < 0) {
				r->err = ZSYSTEMERROR;
			}
			r->slice_pos++;
			if (++done % 64 == 0 && (done >= ZKS_SLICE_ITEMS ||
						 zks_now_us() - t0 >= ZKS_SLICE_US))
				return r->slice_pos >= zks_setw_total(&w) ? 1 : 0;
		}
		pos += n;
	}
	return 1;
}
/* The next slice, one loop turn later: other connections, the mount and
 * the session ticks ran in between. */
static void zks_setw_continue(evutil_socket_t fd, short what, void *arg)
{
	struct zks_req *r = arg;
	struct zks_conn *c = r->conn;
	static const struct timeval now = {0, 0};
	int finished;

	(void)fd;
	(void)what;
	if (c->dead || c->state == ZKS_CONN_DRAINING) {
		zks_req_finish(r); /* frees r */
		return;
	}
	c->running = r;
	finished = zks_setw_slice(r);
	c->running = NULL;
	if (finished) {
		zks_req_finish(r); /* DONE: its reply follows its events */
		return;
	}
	/* Send this slice's events now rather than holding them all. */
	zks_conn_flush(c);
	if (c->dead) {
		zks_req_finish(r);
		return;
	}
	event_add(r->slice_ev, &now);
}

int zks_op_set_watches(struct zks_req *r)
{
	static const struct timeval now = {0, 0};

	if (zks_setw_slice(r))
		return ZKS_DONE;
	/* More than one slice: continue from the loop. Until it is DONE the
	 * request holds its place; nothing behind it runs (r->sliced). */
	r->slice_ev = event_new(r->conn->srv->base, -1, 0, zks_setw_continue, r);
	if (!r->slice_ev)
		return -ENOMEM;
	r->sliced = 1;
	event_add(r->slice_ev, &now);
	return ZKS_PENDING;
}

int zks_op_add_watch(struct zks_req *r)
{
	const struct jute_add_watch_request *q = &r->jr.body.add_watch_request;
	struct zks_conn *c = r->conn;
	unsigned kind;

	if (!q->path)
		return -EPROTO;
	if (q->mode == JUTE_ADD_WATCH_PERSISTENT)
		kind = ZKS_W_PERSIST;
	else if (q->mode == JUTE_ADD_WATCH_PERSISTENT_RECURSIVE)
		kind = ZKS_W_RECURSIVE;
	else
		return -EPROTO; /* AddWatchMode.fromMode throws: no reply */
	if (c->srv->watches && zks_watch_add(c->srv->watches, q->path, c, kind) != ZOK) {
		r->err = ZSYSTEMERROR; /* as a read's watch (zks_op_read.c) */
		return ZKS_DONE;
	}
	r->err = ZOK;
	buf_put_u32(&r->body, 0);
	return ZKS_DONE;
}

int zks_op_remove_watches(struct zks_req *r)
{
	struct zks_conn *c = r->conn;
	const char *path;
	int32_t type;

	/* CheckWatchesRequest and RemoveWatchesRequest have the same fields. */
	if (r->type == ZOP_CHECKWATCHES) {
		path = r->jr.body.check_watches_request.path;
		type = r->jr.body.check_watches_request.type;
	} else {
		path = r->jr.body.remove_watches_request.path;
		type = r->jr.body.remove_watches_request.type;
	}
	if (!path)
		return -EPROTO;
	if (type < ZKS_WT_CHILDREN || type > ZKS_WT_PERSISTENT_RECURSIVE) {
		r->err = ZBADARGUMENTS;
		return ZKS_DONE;
	}
	r->err = c->srv->watches ? zks_watch_remove(c->srv->watches, path, c, type,
						    r->type == ZOP_CHECKWATCHES)
				 : ZNOWATCHER;
	return ZKS_DONE;
}
