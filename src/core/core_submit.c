/*
 * core_submit.c - the write pipeline: prepare, hand to the log writer, and
 * once durable apply in zxid order, notify subscribers, complete. The FIFO
 * rules are in core_int.h.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "core_int.h"
#include "log.h"
#include "storage_sql.h"
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

void qitem_free(struct qitem *it)
{
	if (it->txn)
		txn_free(it->txn);
	buf_free(&it->rec);
	zresult_free(&it->res);
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

/* A request whose outcome is known now; completed from the loop later. */
static void complete_later(struct qcore *c, struct qitem *it, int err)
{
	it->kind = QI_RESULT;
	it->res.err = err;
	enqueue(c, it);
	core_kick(c);
}

int core_submit(struct qcore *c, int64_t session_id, int32_t cxid, const struct zreq *req,
		const struct zauth *auth, qcore_done_fn done, void *arg)
{
	struct qitem *it;
	uint32_t epoch = c->epoch, counter = c->counter;
	zxid_t zxid;
	int rc;

	it = calloc(1, sizeof(*it));
	if (!it)
		return -ENOMEM;
	buf_init(&it->rec);
	it->done = done;
	it->arg = arg;
	if (c->closing) {
		complete_later(c, it, ZCLOSING);
		return 0;
	}
	/* A counter about to wrap needs a new epoch, as ZooKeeper's leader
	 * forces an election then; standalone we just move on. */
	if (counter == UINT32_MAX) {
		epoch++;
		counter = 0;
	}
	zxid = zxid_make(epoch, counter + 1);
	rc = txn_prepare(c->prep, req, auth ? auth : &no_auth, session_id, cxid, zxid,
			 core_wall_ms(), &it->txn, &it->res);
	if (rc != ZOK) {
		complete_later(c, it, rc);
		return 0;
	}
	if (txn_encode(it->txn, &it->rec) || buf_failed(&it->rec)) {
		/* Nothing depends on it yet: forget just this one. */
		prep_abort(c->prep, zxid - 1);
		qitem_free(it);
		return -ENOMEM;
	}
	c->epoch = epoch;
	c->counter = counter + 1;
	it->kind = QI_TXN;
	it->si.zxid = zxid;
	it->si.rec = it->rec.data;
	it->si.len = it->rec.len;
	it->si.gen = c->gen;
	enqueue(c, it);
	c->outstanding++;
	storage_submit(c->st, &it->si);
	return 0;
}

int qcore_submit(struct qcore *c, int64_t session_id, int32_t cxid,
		 const struct zreq *req, const struct zauth *auth, qcore_done_fn done,
		 void *arg)
{
	return core_submit(c, session_id, cxid, req, auth, done, arg);
}

int qcore_sync(struct qcore *c, qcore_done_fn done, void *arg)
{
	struct qitem *it;

	it = calloc(1, sizeof(*it));
	if (!it)
		return -ENOMEM;
	buf_init(&it->rec);
	it->kind = QI_MARKER;
	it->done = done;
	it->arg = arg;
	it->res.zxid = c->applied;
	enqueue(c, it);
	core_kick(c);
	return 0;
}

void core_collect(struct qcore *c)
{
	struct storage_item *si, *next;
	uint64_t cnt;

	/* The count itself does not matter: the list does. */
	if (read(c->efd, &cnt, sizeof(cnt)) < 0 && errno != EAGAIN)
		log_warn("reading the log writer's eventfd");
	for (si = storage_take_done(c->st); si; si = next) {
		next = si->next;
		qitem_of(si)->back = 1;
	}
}

/*
 * A transaction the log could not keep. Everything prepared after it was
 * prepared on top of it and fails too (the writer refuses their gen); the
 * first failure of a gen rewinds the prepared state and the zxid counter to
 * the applied tree, so new requests are prepared against what really is.
 */
static void txn_failed(struct qcore *c, struct qitem *it)
{
	if (it->si.gen == c->gen) {
		prep_abort(c->prep, c->applied);
		if (zxid_epoch(c->applied) == c->epoch)
			c->counter = zxid_counter(c->applied);
		else
			c->counter = 0;
		c->gen++;
		log_warnx("log write of zxid 0x%llx failed (%s); %llu later writes fail "
			  "with it",
			  (unsigned long long)it->si.zxid, strerror(-it->si.err),
			  (unsigned long long)(c->outstanding));
	}
	c->io_errno = -it->si.err;
	zresult_free(&it->res);
	memset(&it->res, 0, sizeof(it->res));
	it->res.err = ZSYSTEMERROR;
}

static void txn_apply(struct qcore *c, struct qitem *it)
{
	zxid_t z = it->si.zxid;
	int rc;

	/* Safety invariants: fatal in every build. Applying out of order or
	 * twice would make this replica differ from every other. */
	if (!storage_zxid_follows(c->applied, z))
		fatalx("apply: zxid 0x%llx does not follow 0x%llx", (unsigned long long)z,
		       (unsigned long long)c->applied);
	zresult_free(&it->res);
	memset(&it->res, 0, sizeof(it->res));
	rc = tree_apply(c->tree, c->prep, it->txn, &it->res);
	if (rc != ZOK)
		fatalx(
		    "apply: zxid 0x%llx does not fit the tree (%s): the tree and the log "
		    "disagree",
		    (unsigned long long)z, zerr_str(rc));
	c->applied = z;
	c->txns++;
	c->since_snap++;
	if (!it->res.zxid)
		it->res.zxid = z;
	core_session_applied(c, it->txn, &it->res);
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
		if (it->kind == QI_TXN) {
			c->outstanding--;
			if (it->si.err)
				txn_failed(c, it);
			else
				txn_apply(c, it);
		} else if (it->kind == QI_MARKER) {
			it->res.zxid = c->applied;
		}
		if (it->done)
			it->done(it->arg, &it->res);
		qitem_free(it);
	}
	c->draining = 0;
	core_snap_maybe(c);
}
