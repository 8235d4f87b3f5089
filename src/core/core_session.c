/*
 * core_session.c - sessions through the pipeline: createSession and
 * closeSession are transactions like any other; the session clock
 * (session.c) decides when one has expired and then logs its closeSession.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "cons_node.h"
#include "core_int.h"
#include "core_req.h"
#include "log.h"
#include "zerr.h"

void core_session_applied(struct qcore *c, const struct ztxn *txn, struct zresult *res)
{
	const struct tree_session *ts;
	int64_t id = txn_session(txn);

	switch (txn_type(txn)) {
	case ZOP_CREATESESSION:
		res->session_id = id;
		ts = tree_session_get(c->tree, id);
		if (ts && sesstrack_add(c->sess, id, ts->timeout_ms, core_mono_ms()) < 0)
			log_warnx("session 0x%llx: out of memory; it will not expire",
				  (unsigned long long)id);
		break;
	case ZOP_CLOSESESSION:
		sesstrack_remove(c->sess, id);
		break;
	default:
		break;
	}
}

static int track_recovered(void *arg, const struct tree_session *s);

static int32_t clamp_timeout(const struct qcore *c, int32_t t)
{
	if (t < c->o.min_session_timeout_ms)
		return c->o.min_session_timeout_ms;
	if (t > c->o.max_session_timeout_ms)
		return c->o.max_session_timeout_ms;
	return t;
}

int qcore_session_open(struct qcore *c, int32_t timeout_ms, const char *owner,
		       qcore_done_fn done, void *arg)
{
	struct zreq req;

	memset(&req, 0, sizeof(req));
	req.op = ZOP_CREATESESSION;
	req.timeout_ms = clamp_timeout(c, timeout_ms);
	req.owner = owner ? owner : "";
	return core_submit(c, sesstrack_next_id(c->sess), 0, &req, &core_server_auth,
			   done, arg);
}

int qcore_session_touch(struct qcore *c, int64_t id)
{
	if (sesstrack_touch(c->sess, id, core_mono_ms()))
		return ZSESSIONEXPIRED;
	if (!c->standalone)
		core_view_local(c, id);
	/* Only the leader expires sessions: tell it, batched (touch_cb). */
	if (!c->standalone && c->role != CONS_LEADER) {
		if (c->n_touched == c->cap_touched) {
			size_t cap = c->cap_touched ? c->cap_touched * 2 : 64;
			int64_t *v = realloc(c->touched, cap * sizeof(*v));

			if (!v)
				return ZOK; /* the next touch tries again */
			c->touched = v;
			c->cap_touched = cap;
		}
		for (size_t i = 0; i < c->n_touched; i++)
			if (c->touched[i] == id)
				return ZOK;
		c->touched[c->n_touched++] = id;
	}
	return ZOK;
}

/* Report the sessions touched here to the leader. */
static void touch_cb(evutil_socket_t fd, short what, void *arg)
{
	struct qcore *c = arg;
	struct cons_payload p;
	struct buf b;

	if (!c->n_touched || !c->node || c->store_closed)
		return;
	buf_init(&b);
	core_req_encode_hdr(&b, CR_TOUCH, c->self, 0);
	buf_put_u32(&b, (uint32_t)c->n_touched);
	for (size_t i = 0; i < c->n_touched; i++)
		buf_put_u64(&b, (uint64_t)c->touched[i]);
	if (!buf_failed(&b)) {
		p.data = b.data;
		p.len = (uint32_t)b.len;
		if (cons_node_forward(c->node, &p, 1) == 0)
			c->n_touched = 0;
	}
	buf_free(&b);
}

void core_leader_became_ready(struct qcore *c)
{
	log_info("replica: leading epoch %u, zxid 0x%llx", c->role_epoch,
		 (unsigned long long)c->applied);
	/* Every session gets a full timeout from now (its touches went to
	 * the old leader). */
	if (tree_session_foreach(c->tree, track_recovered, c))
		log_warnx("out of memory re-arming the session clock");
	c->n_touched = 0;
	core_release_soon(c);
}

int qcore_session_expiries(struct qcore *c,
			   void (*fn)(void *arg, int64_t id, int64_t expire_ms), void *arg)
{
	if (!core_leader_ready(c))
		return -EAGAIN;
	sesstrack_foreach(c->sess, fn, arg);
	return 0;
}

void qcore_session_password(const struct qcore *c, int64_t id, uint8_t pw[16])
{
	sesstrack_password(c->sess, id, pw);
}

int qcore_session_close(struct qcore *c, int64_t id, qcore_done_fn done, void *arg)
{
	struct zreq req;

	/* Unknown to the clock (already expiring) is fine: the prepare step
	 * decides whether the session is still open. */
	sesstrack_set_closing(c->sess, id);
	memset(&req, 0, sizeof(req));
	req.op = ZOP_CLOSESESSION;
	return core_submit(c, id, 0, &req, &core_server_auth, done, arg);
}

/* qcore_session_close_owner: one done call after all the closes. */
struct close_all {
	qcore_done_fn done;
	void *arg;
	int left;
	int err;
	int submitted; /* all closes queued: the last one back may finish */
};

static void close_all_finish(struct close_all *ca)
{
	struct zresult res;

	memset(&res, 0, sizeof(res));
	res.err = ca->err;
	if (ca->done)
		ca->done(ca->arg, &res);
	free(ca);
}

static void close_all_one(void *arg, const struct zresult *res)
{
	struct close_all *ca = arg;

	if (res->err != ZOK && res->err != ZSESSIONEXPIRED && ca->err == ZOK)
		ca->err = res->err;
	if (--ca->left == 0 && ca->submitted)
		close_all_finish(ca);
}

struct owner_ids {
	const char *owner;
	int64_t *ids;
	size_t n, cap;
	int oom;
};

static int collect_owner(void *arg, const struct tree_session *s)
{
	struct owner_ids *o = arg;
	int64_t *v;

	if (!s->owner || strcmp(s->owner, o->owner) != 0)
		return 0;
	if (o->n == o->cap) {
		o->cap = o->cap ? o->cap * 2 : 8;
		v = realloc(o->ids, o->cap * sizeof(*v));
		if (!v) {
			o->oom = 1;
			return 1;
		}
		o->ids = v;
	}
	o->ids[o->n++] = s->id;
	return 0;
}

int qcore_session_close_owner(struct qcore *c, const char *owner, qcore_done_fn done,
			      void *arg)
{
	struct owner_ids o = {owner, NULL, 0, 0, 0};
	struct close_all *ca;
	size_t i;
	int rc = 0;

	tree_session_foreach(c->tree, collect_owner, &o);
	if (o.oom) {
		free(o.ids);
		return -ENOMEM;
	}
	ca = calloc(1, sizeof(*ca));
	if (!ca) {
		free(o.ids);
		return -ENOMEM;
	}
	ca->done = done;
	ca->arg = arg;
	/* The sync marker makes the final callback deferred even when there
	 * is nothing to close, and keeps it after every close. */
	ca->left = 1;
	for (i = 0; i < o.n; i++) {
		log_info("closing session 0x%llx of %s (left over from an earlier run)",
			 (unsigned long long)o.ids[i], owner);
		if (qcore_session_close(c, o.ids[i], close_all_one, ca) == 0)
			ca->left++;
		else
			ca->err = ZSYSTEMERROR;
	}
	free(o.ids);
	rc = qcore_sync(c, close_all_one, ca);
	if (rc) {
		/* Nothing queued will call back for the marker: drop its share. */
		ca->left--;
		if (ca->left == 0) {
			free(ca);
			return rc;
		}
		ca->err = ZSYSTEMERROR;
	}
	ca->submitted = 1;
	return 0;
}

static void expired_done(void *arg, const struct zresult *res)
{
	struct qcore *c = arg;

	(void)c;
	if (res->err != ZOK && res->err != ZCLOSING)
		log_warnx("closing an expired session failed: %s", zerr_str(res->err));
}

static void tick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct qcore *c = arg;
	struct zreq req;
	int64_t ids[64], now = core_mono_ms();
	size_t n, i;

	/*
	 * A loop held up for several ticks (a slow request, a stopped
	 * process, a swap storm) heard no client meanwhile: their pings wait
	 * unread in the sockets. Expiring them now would take every
	 * session's ephemerals -- the mount's locks first -- for the server's
	 * own silence. Give every session its full timeout again instead, as
	 * a new leader does.
	 */
	if (c->last_tick_ms && now - c->last_tick_ms > 3 * (int64_t)c->o.tick_ms) {
		log_warnx("the server did not run for %lld ms: every session gets its "
			  "full timeout again",
			  (long long)(now - c->last_tick_ms));
		sesstrack_touch_all(c->sess, now);
	}
	c->last_tick_ms = now;
	core_view_tick(c, now);
	if (c->closing || !core_leader_ready(c))
		return;
	/* Mutant 11 (tests/chaos/chaos_check.sh, a test build only) is a
	 * cut-off leader that keeps leading. Its closeSessions for the
	 * majority's sessions could never commit, and every later local item
	 * (the mount's syncs) would wait behind them in the FIFO, hiding the
	 * stale reads the checker must show it catches. It expires nothing. */
	if (c->o.mutant == 11)
		return;
	memset(&req, 0, sizeof(req));
	req.op = ZOP_CLOSESESSION;
	do {
		n = sesstrack_expire(c->sess, now, ids, 64);
		for (i = 0; i < n; i++) {
			log_info("session 0x%llx expired", (unsigned long long)ids[i]);
			if (core_submit(c, ids[i], 0, &req, &core_server_auth,
					expired_done, c))
				log_warnx("session 0x%llx: out of memory closing it",
					  (unsigned long long)ids[i]);
		}
	} while (n == 64);
}

static int track_recovered(void *arg, const struct tree_session *s)
{
	struct qcore *c = arg;

	/* A full timeout from now to come back, as ZooKeeper gives. */
	return sesstrack_add(c->sess, s->id, s->timeout_ms, core_mono_ms());
}

int core_session_start(struct qcore *c)
{
	struct timeval tv = {c->o.tick_ms / 1000, (c->o.tick_ms % 1000) * 1000};
	int rc;

	rc = tree_session_foreach(c->tree, track_recovered, c);
	if (rc)
		return rc < 0 ? rc : -ENOMEM;
	c->tick_ev = event_new(c->base, -1, EV_PERSIST, tick_cb, c);
	if (!c->tick_ev || event_add(c->tick_ev, &tv) < 0)
		return -ENOMEM;
	if (!c->standalone) {
		struct timeval half = {c->o.tick_ms / 2000,
				       (c->o.tick_ms / 2 % 1000) * 1000};

		c->touch_ev = event_new(c->base, -1, EV_PERSIST, touch_cb, c);
		if (!c->touch_ev || event_add(c->touch_ev, &half) < 0)
			return -ENOMEM;
	}
	return 0;
}
