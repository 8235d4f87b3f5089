/*
 * core_submit.c - the origin's half of the pipeline: prepare at the leader,
 * batch the proposals of one loop turn, and complete items in FIFO order
 * once their entries are applied (core_apply.c). The rules are in
 * core_int.h.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "cons_node.h"
#include "core_int.h"
#include "core_req.h"
#include "log.h"
#include "zerr.h"

const struct zauth core_server_auth = {0, NULL, 1};
static const struct zauth no_auth = {0, NULL, 0};

int64_t core_wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t core_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void core_entry_hdr(uint8_t *p, uint8_t kind, uint32_t origin, uint64_t reqid)
{
	p[0] = kind;
	for (int i = 0; i < 4; i++)
		p[1 + i] = (uint8_t)(origin >> (24 - 8 * i));
	for (int i = 0; i < 8; i++)
		p[5 + i] = (uint8_t)(reqid >> (56 - 8 * i));
}

int core_entry_parse(const uint8_t *p, size_t len, uint8_t *kind, uint32_t *origin,
		     uint64_t *reqid)
{
	uint32_t o = 0;
	uint64_t r = 0;

	if (len < CORE_ENTRY_HDR || (p[0] != CE_TXN && p[0] != CE_NOP && p[0] != CE_ERR))
		return -EBADMSG;
	for (int i = 0; i < 4; i++)
		o = o << 8 | p[1 + i];
	for (int i = 0; i < 8; i++)
		r = r << 8 | p[5 + i];
	*kind = p[0];
	*origin = o;
	*reqid = r;
	return 0;
}

void qitem_free(struct qitem *it)
{
	zresult_free(&it->res);
	buf_free(&it->fwd);
	free(it);
}

static void enqueue(struct qcore *c, struct qitem *it)
{
	it->next = NULL;
	*c->tail = it;
	c->tail = &it->next;
}

void core_kick(struct qcore *c)
{
	event_active(c->drain_ev, EV_TIMEOUT, 0);
}

static struct qitem *item_new(qcore_done_fn done, void *arg)
{
	struct qitem *it = calloc(1, sizeof(*it));

	if (!it)
		return NULL;
	buf_init(&it->fwd);
	it->done = done;
	it->arg = arg;
	return it;
}

/* A request whose outcome is known now; completed from the loop later. */
static void complete_later(struct qcore *c, struct qitem *it, int err)
{
	it->kind = QI_RESULT;
	it->res.err = err;
	enqueue(c, it);
	core_kick(c);
}

/* A waiting item's outcome is known (res already filled or err). */
static void resolve(struct qcore *c, struct qitem *it, int err)
{
	if (err != ZOK) {
		it->res.err = err;
		if (!it->res.zxid)
			it->res.zxid = c->applied;
	}
	if (it->wait_apply) {
		it->wait_apply = 0;
		c->n_wait_apply--;
	}
	it->back = 1;
	it->held = 0;
	c->outstanding--;
	core_kick(c);
}

/* ---- the batch ---- */

static int batch_slot(struct qcore *c)
{
	uint32_t *v;

	if (c->batch_n < c->batch_cap)
		return 0;
	size_t cap = c->batch_cap ? c->batch_cap * 2 : 64;

	v = realloc(c->batch_len, cap * sizeof(*v));
	if (!v)
		return -ENOMEM;
	c->batch_len = v;
	c->batch_cap = cap;
	return 0;
}

static void batch_close(struct qcore *c, size_t before)
{
	if (!c->batch_n)
		c->batch_first = c->node ? cons_node_next_zxid(c->node) : 0;
	c->batch_len[c->batch_n++] = (uint32_t)(c->batch.len - before);
	if (c->batch_n == 1)
		event_active(c->flush_ev, EV_TIMEOUT, 0);
}

/*
 * The engine appended an entry of its own after this batch was prepared
 * (CONS_ESTALE): its zxids are taken and nothing of it was appended. The
 * node's flush callback makes this unreachable; should it happen, the
 * prepared view forgets the batch and its local writers hear connection
 * loss (outcome unknown to them, though in fact nothing was written);
 * forwarded ones time out at their origin, as after a lost leader.
 */
static void batch_stale(struct qcore *c, zxid_t first, size_t n)
{
	struct qitem *it;

	log_warnx("%zu prepared entries from zxid 0x%llx lost their zxids to an entry of the "
		  "engine's own: their writers hear connection loss",
		  n, (unsigned long long)first);
	for (it = c->head; it; it = it->next) {
		if (it->kind != QI_TXN || it->back || it->held || it->zxid < first)
			continue;
		zresult_free(&it->res);
		memset(&it->res, 0, sizeof(it->res));
		resolve(c, it, ZCONNECTIONLOSS);
	}
	prep_abort(c->prep, first - 1);
	if (c->last_prepared >= first)
		c->last_prepared = first - 1;
}

/* One entry: header, then a txn record (txn) or raw bytes. */
static int batch_add(struct qcore *c, uint8_t kind, uint32_t origin, uint64_t reqid,
		     const struct ztxn *txn, const struct buf *raw)
{
	uint8_t hdr[CORE_ENTRY_HDR];
	size_t before = c->batch.len;

	if (batch_slot(c))
		return -ENOMEM;
	core_entry_hdr(hdr, kind, origin, reqid);
	buf_put(&c->batch, hdr, sizeof(hdr));
	if (txn && txn_encode(txn, &c->batch))
		c->batch.failed = 1;
	if (raw && raw->len)
		buf_put(&c->batch, raw->data, raw->len);
	if (buf_failed(&c->batch)) {
		c->batch.len = before;
		c->batch.failed = 0;
		return -ENOMEM;
	}
	batch_close(c, before);
	return 0;
}

void core_flush(struct qcore *c)
{
	struct cons_payload stackp[64], *p = stackp;
	struct buf b;
	const uint8_t *d;
	size_t n = c->batch_n, i;
	zxid_t first = c->batch_first;
	int rc;

	if (!n)
		return;
	if (n > 64) {
		p = calloc(n, sizeof(*p));
		if (!p) {
			/* Try again next turn; nothing is lost yet. */
			event_active(c->flush_ev, EV_TIMEOUT, 0);
			return;
		}
	}
	/* Taken out of the core first: the proposal's step may run callbacks
	 * that prepare into a new batch (or flush again). The two buffers
	 * swap, so neither is reallocated batch after batch. */
	b = c->batch;
	c->batch = c->batch_spare;
	buf_init(&c->batch_spare);
	buf_reset(&c->batch);
	d = b.data;
	for (i = 0; i < n; i++) {
		p[i].data = d;
		p[i].len = c->batch_len[i];
		d += c->batch_len[i];
	}
	c->batch_n = 0;
	rc = cons_node_propose_at(c->node, first, p, n);
	if (!c->batch_spare.data)
		c->batch_spare = b;
	else
		buf_free(&b);
	if (p != stackp)
		free(p);
	if (rc == CONS_ESTALE && first) {
		batch_stale(c, first, n);
	} else if (rc) {
		/* Lost the leadership since preparing (or out of memory): fail
		 * what was handed to this leader; the held wait on. */
		log_warnx("proposing %zu entries failed (%d)", n, rc);
		core_leader_changed(c);
	}
}

/* The zxid the next prepared txn will get, 0 when not a ready leader. */
static zxid_t next_zxid(struct qcore *c)
{
	zxid_t z;

	if (!core_leader_ready(c))
		return 0;
	z = cons_node_next_zxid(c->node);
	return z ? z + c->batch_n : 0;
}

/*
 * Leader: prepare one request and batch its entry. Returns ZOK, or the
 * prepare's error with *res filled (nothing batched).
 */
static int prepare_one(struct qcore *c, uint32_t origin, uint64_t reqid,
		       int64_t session_id, int32_t cxid, const struct zreq *req,
		       const struct zauth *auth, struct zresult *res, zxid_t *zxid_out)
{
	struct ztxn *txn = NULL;
	zxid_t zxid = next_zxid(c);
	int rc;

	if (!zxid)
		return ZCONNECTIONLOSS;
	rc = txn_prepare(c->prep, req, auth ? auth : &no_auth, session_id, cxid, zxid,
			 core_wall_ms(), &txn, res);
	if (rc != ZOK)
		return rc;
	if (batch_add(c, CE_TXN, origin, reqid, txn, NULL)) {
		/* Nothing depends on it yet: forget just this one. */
		prep_abort(c->prep, zxid - 1);
		txn_free(txn);
		return ZSYSTEMERROR;
	}
	txn_free(txn);
	c->last_prepared = zxid;
	if (zxid_out)
		*zxid_out = zxid;
	return ZOK;
}

/* Leader: the failed prepare of another member's request, as an entry. */
static int batch_error(struct qcore *c, uint32_t origin, uint64_t reqid,
		       const struct zresult *res, int err)
{
	struct buf b;
	int rc;

	buf_init(&b);
	buf_put_u32(&b, (uint32_t)err);
	buf_put_u32(&b, (uint32_t)res->n_ops);
	for (int32_t i = 0; i < res->n_ops; i++) {
		buf_put_u32(&b, (uint32_t)res->ops[i].op);
		buf_put_u32(&b, (uint32_t)res->ops[i].err);
	}
	rc = buf_failed(&b) ? -ENOMEM : batch_add(c, CE_ERR, origin, reqid, NULL, &b);
	buf_free(&b);
	return rc;
}

void core_answer(struct qcore *c, uint32_t origin, uint64_t reqid, int err)
{
	struct zresult res = {0};
	struct buf none;
	int rc;

	if (!core_leader_ready(c)) {
		/* The origin hears of the leader change instead. */
		log_info("request %u/%llu: %s not sent back: this server no longer leads",
			 origin, (unsigned long long)reqid, zerr_str(err));
		return;
	}
	buf_init(&none);
	rc = err == ZOK ? batch_add(c, CE_NOP, origin, reqid, NULL, &none)
			: batch_error(c, origin, reqid, &res, err);
	if (rc)
		log_warnx("out of memory answering request %u/%llu", origin,
			  (unsigned long long)reqid);
}

/* Hold an item until a leader can take it. */
static void hold(struct qcore *c, struct qitem *it)
{
	it->held = 1;
	it->held_since = core_mono_ms();
	if (!it->hold_ms)
		it->hold_ms = c->hold_ms;
	c->held++;
}

static void fail_after_prepared(struct qcore *c, struct qitem *it, int err);

int core_submit(struct qcore *c, int64_t session_id, int32_t cxid, const struct zreq *req,
		const struct zauth *auth, qcore_done_fn done, void *arg)
{
	struct qitem *it;
	int rc;

	it = item_new(done, arg);
	if (!it)
		return -ENOMEM;
	if (c->closing) {
		complete_later(c, it, ZCLOSING);
		return 0;
	}
	if (c->io_dead) {
		c->io_errno = c->io_dead;
		complete_later(c, it, ZSYSTEMERROR);
		return 0;
	}
	it->kind = QI_TXN;
	it->reqid = ++c->next_reqid;
	if (core_leader_ready(c) && !c->held) {
		/* This server leads: prepare here, no copy of the request. */
		rc = prepare_one(c, c->self, it->reqid, session_id, cxid, req, auth,
				 &it->res, &it->zxid);
		enqueue(c, it);
		c->outstanding++;
		/* A failure resting on a change prepared but not yet applied
		 * waits for it, as in take() (chaos: a cas refused on the
		 * leader, then another client's sync-then-read there saw the
		 * version it expected). */
		if (rc != ZOK)
			fail_after_prepared(c, it, rc);
		return 0;
	}
	/* A new session (the mount's at start, a client connecting while the
	 * ensemble forms) waits longer for a quorum than a write does. */
	if (req->op == ZOP_CREATESESSION)
		it->hold_ms = c->hold_ms > 60000 ? c->hold_ms : 60000;
	if (core_req_encode(&it->fwd, c->self, it->reqid, session_id, cxid, req, auth)) {
		qitem_free(it);
		return -ENOMEM;
	}
	enqueue(c, it);
	c->outstanding++;
	hold(c, it);
	core_release_soon(c);
	return 0;
}

int qcore_submit(struct qcore *c, int64_t session_id, int32_t cxid,
		 const struct zreq *req, const struct zauth *auth, qcore_done_fn done,
		 void *arg)
{
	return core_submit(c, session_id, cxid, req, auth, done, arg);
}

/*
 * Sync. A lone member's applied tree is the newest there is: a marker
 * behind what it submitted. In an ensemble, the read index (cons_node.h):
 * the leader confirms with a quorum, after the sync arrived, that it still
 * leads, and names the commit point; the sync returns once this member
 * has applied up to it, so a read after it sees every write acknowledged
 * anywhere before the sync (linearizable, stricter than ZooKeeper).
 */
int qcore_sync(struct qcore *c, qcore_done_fn done, void *arg)
{
	struct qitem *it;

	it = item_new(done, arg);
	if (!it)
		return -ENOMEM;
	if (c->standalone || c->closing) {
		it->kind = QI_MARKER;
		it->res.zxid = c->applied;
		enqueue(c, it);
		core_kick(c);
		return 0;
	}
	it->kind = QI_TXN;
	it->sync = 1;
	it->reqid = ++c->next_reqid;
	enqueue(c, it);
	c->outstanding++;
	c->pending_syncs++;
	core_req_encode_hdr(&it->fwd, CR_SYNC, c->self, it->reqid);
	hold(c, it);
	core_release_soon(c);
	return 0;
}

/*
 * Whether this member has applied the entry a read index names. It may
 * name a new leader's epoch entry, which does not move applied: waiting
 * for applied to pass it held every sync (and so fsync in the mount) after
 * a change of leader until the next write anywhere -- after a kill -9 of
 * the leader, until its sessions expired; after a transfer on an idle
 * cluster, for good (found by the chaos harness, a mutant leader that
 * expires nothing).
 */
static int reached(const struct qcore *c, zxid_t read_zxid)
{
	return c->applied >= read_zxid || c->epoch_applied >= read_zxid;
}

static struct qitem *find_sync(struct qcore *c, uint64_t token)
{
	for (struct qitem *it = c->head; it; it = it->next)
		if (it->sync && it->reqid == token && !it->back)
			return it;
	return NULL;
}

void core_read_ready(struct qcore *c, uint64_t token, zxid_t read_zxid, int status)
{
	struct qitem *it = find_sync(c, token);

	if (!it || it->held)
		return;
	it->forwarded = 0;
	if (status) {
		/* No leader, or it changed: ask again at the next tick (tick_cb
		 * releases while anything is held), never at once. The engine
		 * fails a read index synchronously when it has no leader or its
		 * new epoch is not yet on disk; re-activating release_ev here
		 * then made release_cb re-activate itself forever within one
		 * libevent pass (event_active during the active pass runs in
		 * the same pass), so the loop never reached epoll again: no
		 * client, peer or log store completion (the one that would make
		 * the epoch durable) was ever served. Seen as a member that
		 * stops answering srvr after a role change (chaos seed 11). */
		it->held = 1;
		c->held++;
		return;
	}
	if (reached(c, read_zxid)) {
		it->res.zxid = c->applied;
		resolve(c, it, ZOK);
		return;
	}
	it->zxid = read_zxid;
	it->wait_apply = 1;
	c->n_wait_apply++;
}

void core_syncs_applied(struct qcore *c)
{
	if (!c->n_wait_apply)
		return;
	for (struct qitem *it = c->head; it; it = it->next) {
		if (!it->wait_apply || it->back || !reached(c, it->zxid))
			continue;
		it->res.zxid = c->applied;
		resolve(c, it, ZOK);
	}
}

/*
 * Leader: a local request whose prepare failed. The failure may rest on a
 * change prepared but not yet committed (a setData with a version that an
 * outstanding write has already moved on, a create of a name an
 * outstanding create takes): answering before that change is applied
 * would let the client see an effect no read can see yet -- found by the
 * chaos checker as a compare-and-set refused, then the old version read
 * back after sync. So the answer waits until everything prepared before it
 * is applied, as a failed prepare forwarded from another member waits for
 * its error entry.
 */
static void fail_after_prepared(struct qcore *c, struct qitem *it, int err)
{
	/* The newest txn prepared here, not the log's next slot less one: that
	 * slot may hold an entry the engine wrote itself (a new epoch's first),
	 * which the core never applies, and the answer would wait for the next
	 * write (test_core prepare_failure_deferred hung so). */
	if (!next_zxid(c) || c->last_prepared <= c->applied) {
		resolve(c, it, err);
		return;
	}
	it->res.err = err;
	if (!it->res.zxid)
		it->res.zxid = c->applied;
	it->zxid = c->last_prepared;
	it->wait_apply = 1;
	c->n_wait_apply++;
}

/* Leader: take one request (held here or forwarded). For a local item
 * (it != NULL) a failed prepare completes it without a log entry. */
static void take(struct qcore *c, const uint8_t *p, size_t len, struct qitem *it)
{
	struct zresult res;
	struct core_req q;
	struct buf none;
	int rc;

	if (core_req_decode(p, len, &q)) {
		log_warnx("a forwarded request does not decode: dropped");
		if (it)
			resolve(c, it, ZMARSHALLINGERROR);
		return;
	}
	memset(&res, 0, sizeof(res));
	switch (q.kind) {
	case CR_WRITE:
		if (!it && q.epoch && q.epoch < c->role_epoch) {
			/* Sent to an earlier leader, relayed here: its origin
			 * failed it when that leader went (core_leader_changed)
			 * and its session may have written since. Committing it
			 * now would reorder the session's writes (chaos: a
			 * mount's ledger write answered EROFS, committed after
			 * the session's next writes, overwrote them). */
			log_debug("a write sent in epoch %u reached the leader of epoch %u: "
				  "refused",
				  q.epoch, c->role_epoch);
			if (batch_error(c, q.origin, q.reqid, &res, ZCONNECTIONLOSS))
				log_warnx("out of memory answering a forwarded request");
			break;
		}
		rc = prepare_one(c, q.origin, q.reqid, q.session, q.cxid, &q.req,
				 q.has_auth ? &q.auth : NULL, it ? &it->res : &res,
				 it ? &it->zxid : NULL);
		if (rc != ZOK) {
			if (it)
				fail_after_prepared(c, it, rc);
			else if (batch_error(c, q.origin, q.reqid, &res, rc))
				log_warnx("out of memory answering a forwarded request");
		}
		break;
	case CR_SYNC:
		buf_init(&none);
		if (batch_add(c, CE_NOP, q.origin, q.reqid, NULL, &none) && it)
			resolve(c, it, ZSYSTEMERROR);
		break;
	case CR_RECONFIG:
		core_members_forwarded(c, &q);
		break;
	case CR_TOUCH: {
		struct rd r;
		uint32_t n;
		int64_t now = core_mono_ms();

		rd_init(&r, q.body, q.body_len);
		n = rd_u32(&r);
		for (uint32_t i = 0; i < n && rd_ok(&r); i++)
			sesstrack_touch(c->sess, (int64_t)rd_u64(&r), now);
		break;
	}
	default:
		break;
	}
	zresult_free(&res);
	core_req_free(&q);
}

void core_forwarded(struct qcore *c, uint32_t from, const struct cons_payload *p,
		    size_t n)
{
	for (size_t i = 0; i < n; i++) {
		/* Touches need no order; everything else waits its turn. */
		if (p[i].len && p[i].data[0] == CR_TOUCH) {
			take(c, p[i].data, p[i].len, NULL);
			continue;
		}
		core_count_forwarded(c, from, 1);
		if (!core_leader_ready(c) || c->lq_n) {
			buf_put_u32(&c->lq, p[i].len);
			buf_put(&c->lq, p[i].data, p[i].len);
			c->lq_n++;
			continue;
		}
		take(c, p[i].data, p[i].len, NULL);
	}
	if (c->lq_n && core_leader_ready(c))
		core_release_soon(c);
}

void core_release(struct qcore *c)
{
	struct cons_payload stackp[64];
	struct qitem *it, *fwd[64];
	size_t nf = 0;
	int64_t now = core_mono_ms();
	int rc;

	if (core_leader_ready(c) && c->lq_n) {
		/* Forwarded while this leader was getting ready. */
		struct rd r;

		rd_init(&r, c->lq.data, c->lq.len);
		while (c->lq_n) {
			uint32_t len = rd_u32(&r);
			const uint8_t *d = r.p;

			r.p += len;
			r.left -= len;
			c->lq_n--;
			take(c, d, len, NULL);
		}
		buf_reset(&c->lq);
	}
	for (it = c->head; it; it = it->next) {
		if (it->forwarded && !it->back &&
		    now - it->held_since >= 3 * c->hold_ms) {
			/* No answer from the leader it was sent to (it may have
			 * lost the leadership unseen, or the frame): the outcome
			 * is unknown, as after ZooKeeper's connection loss. */
			resolve(c, it, ZCONNECTIONLOSS);
			continue;
		}
		if (!it->held)
			continue;
		if (it->sync && c->leader && !c->closing &&
		    now - it->held_since < it->hold_ms) {
			/* The read index, on the leader or through it. held_since
			 * stays the time the sync was first held: a read index
			 * that keeps failing (a leader known but not answering
			 * with a quorum) is retried until hold_ms, then the sync
			 * fails below, instead of being retried forever. */
			c->held--;
			it->held = 0;
			it->forwarded = 1;
			cons_node_read_index(c->node, it->reqid);
		} else if (core_leader_ready(c) && !it->sync) {
			c->held--;
			it->held = 0;
			take(c, it->fwd.data, it->fwd.len, it);
		} else if (!it->sync && c->leader && c->leader != c->self && nf < 64 &&
			   !c->closing && core_peer_up(c, c->leader)) {
			core_req_set_epoch(&it->fwd, c->role_epoch);
			fwd[nf] = it;
			stackp[nf].data = it->fwd.data;
			stackp[nf].len = (uint32_t)it->fwd.len;
			nf++;
		} else if (now - it->held_since >= it->hold_ms || c->closing) {
			/* No leader for too long: a member without quorum
			 * refuses writes (the mount says EROFS). A lone member
			 * whose disk failed says so. */
			c->held--;
			resolve(c, it,
				c->closing		       ? ZCLOSING
				: c->standalone && c->io_errno ? ZSYSTEMERROR
							       : ZCONNECTIONLOSS);
		}
	}
	if (!nf)
		return;
	rc = cons_node_forward(c->node, stackp, nf);
	if (rc)
		return; /* no leader after all: they wait on */
	for (size_t i = 0; i < nf; i++) {
		fwd[i]->held = 0;
		fwd[i]->forwarded = 1;
		fwd[i]->held_since = now;
		c->held--;
	}
	if (c->held)
		core_release(c);
}

int core_fail_outstanding(struct qcore *c, int err)
{
	struct qitem *it;
	int n = 0;

	for (it = c->head; it; it = it->next) {
		if (it->kind != QI_TXN || it->back)
			continue;
		if (it->held)
			c->held--;
		zresult_free(&it->res);
		memset(&it->res, 0, sizeof(it->res));
		resolve(c, it, err);
		n++;
	}
	/* The batch was never proposed: it goes with them. */
	c->batch_n = 0;
	buf_reset(&c->batch);
	prep_abort(c->prep, c->applied);
	if (n)
		log_warnx("%d pending writes failed: %s", n, zerr_str(err));
	return n;
}

void core_leader_changed(struct qcore *c)
{
	struct qitem *it;
	int n = 0;

	for (it = c->head; it; it = it->next) {
		if (it->kind != QI_TXN || it->back || it->held)
			continue;
		zresult_free(&it->res);
		memset(&it->res, 0, sizeof(it->res));
		resolve(c, it, ZCONNECTIONLOSS);
		n++;
	}
	c->batch_n = 0;
	buf_reset(&c->batch);
	buf_reset(&c->lq);
	c->lq_n = 0;
	prep_abort(c->prep, c->applied);
	if (n)
		log_warnx("%d writes handed to the previous leader: connection loss", n);
	core_release_soon(c);
}

void core_drain(struct qcore *c)
{
	struct qitem *it;

	/* A done callback that submits only appends to the FIFO; one that
	 * ends up here again (qcore_close) leaves the work to this loop. */
	if (c->draining)
		return;
	c->draining = 1;
	while ((it = c->head)) {
		if (it->kind == QI_TXN && !it->back)
			break;
		c->head = it->next;
		if (!c->head)
			c->tail = &c->head;
		if (it->kind == QI_MARKER)
			it->res.zxid = c->applied;
		if (it->sync)
			c->pending_syncs--;
		if (it->done)
			it->done(it->arg, &it->res);
		qitem_free(it);
	}
	c->draining = 0;
	core_snap_maybe(c);
}
