/*
 * cons_node.c - carry out the core's actions over the store and transport
 * vtables; see cons_node.h.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "codec.h"
#include "cons_node.h"

/* A completion or frame that arrived while the node was busy. */
struct pending {
	struct pending *next;
	enum cons_event_type type;
	uint64_t seq;
	int status;
	zxid_t zxid;
	uint32_t from;
	size_t len;
	uint32_t n_payloads; /* PROPOSE/FORWARD: u32 lengths, then the bytes */
	uint8_t frame[];
};

struct node_req {
	struct cons_store_req req; /* first: the store hands it back */
	struct node_req *next, *prev;
	struct cons_node *node;
	enum cons_event_type type;
	zxid_t zxid;
};

struct cons_node {
	struct cons *core;
	struct cons_store *store;
	struct cons_transport *tr;
	struct cons_node_host host;
	struct buf out;
	int busy;
	int flushing; /* inside host.flush: a proposal steps at once */
	struct pending *head, **tail;
	struct node_req reqs; /* outstanding store requests (list head) */
	uint64_t queued;      /* payloads proposed while busy, not yet stepped */
	uint8_t *chunk;	      /* one snapshot chunk being sent */
	uint32_t chunk_cap;
	int snap_bad;	 /* a snapshot being received failed to be written */
	uint8_t *rbuf;	 /* hosts without snap_begin: the snapshot received */
	uint64_t rtotal; /* its size */
};

static void run(struct cons_node *n, const struct cons_event *ev);

/*
 * Before the core steps anything but a proposal, the host proposes what it
 * has prepared (host.flush). A host prepares txns with the zxids
 * cons_next_zxid gives and proposes them a little later, in batches; a
 * step in between may append an entry of the core's own (the final
 * configuration, when a joint one commits), after which the prepared
 * zxids are taken and the proposal fails with CONS_ESTALE. Flushing first
 * closes that window: nothing steps between the host's prepare and its
 * proposal but other proposals.
 */
static void host_flush(struct cons_node *n)
{
	if (!n->host.flush || n->flushing)
		return;
	n->flushing = 1;
	n->host.flush(n->host.arg);
	n->flushing = 0;
}

static void queue(struct cons_node *n, struct pending *p)
{
	p->next = NULL;
	*n->tail = p;
	n->tail = &p->next;
}

static void store_done(struct cons_store_req *r, int status)
{
	struct node_req *nr = (struct node_req *)r;
	struct cons_node *n = nr->node;
	struct cons_event ev = {.type = nr->type};

	nr->prev->next = nr->next;
	nr->next->prev = nr->prev;
	ev.now_ms = n->host.now(n->host.arg);
	switch (nr->type) {
	case CONS_EV_LOG_DONE:
		ev.log_done.seq = nr->req.seq;
		ev.log_done.status = status;
		break;
	case CONS_EV_META_DONE:
		ev.meta_done.status = status;
		break;
	case CONS_EV_SNAP_DONE:
		ev.snap_done.zxid = nr->zxid;
		ev.snap_done.status = status;
		break;
	default:
		break;
	}
	free(nr);
	run(n, &ev);
}

static struct node_req *new_req(struct cons_node *n, enum cons_event_type t)
{
	struct node_req *r = calloc(1, sizeof(*r));

	if (r) {
		r->node = n;
		r->type = t;
		r->next = n->reqs.next;
		r->prev = &n->reqs;
		r->next->prev = r;
		n->reqs.next = r;
	}
	return r;
}

static void drop_req(struct node_req *r)
{
	r->prev->next = r->next;
	r->next->prev = r->prev;
	free(r);
}

static void fail_now(struct cons_node *n, enum cons_event_type t, uint64_t seq,
		     zxid_t zxid, int status)
{
	struct pending *p = calloc(1, sizeof(*p));

	/* Without memory even for this the core waits: its write never
	 * completes and a restart is the way out. */
	if (!p)
		return;
	p->type = t;
	p->seq = seq;
	p->zxid = zxid;
	p->status = status;
	queue(n, p);
}

/* The host's newest snapshot: through snap_open, or snap_get's blob. */
static int snap_info(struct cons_node *n, zxid_t *zxid, uint64_t *total)
{
	const uint8_t *blob;
	uint32_t len;
	int rc;

	if (n->host.snap_open)
		return n->host.snap_open(n->host.arg, zxid, total);
	rc = n->host.snap_get(n->host.arg, zxid, &blob, &len);
	*total = len;
	return rc;
}

/* SNAP_SEND: tell the core which snapshot to send (queued: we are busy). */
static void offer_snapshot(struct cons_node *n, uint32_t to)
{
	struct pending *p = calloc(1, sizeof(*p));
	uint64_t total = 0;
	zxid_t zxid = 0;

	if (!p)
		return; /* the core asks again after a while */
	p->type = CONS_EV_SNAP_OFFER;
	p->status = snap_info(n, &zxid, &total);
	p->from = to;
	p->zxid = zxid;
	p->seq = total;
	queue(n, p);
}

/* SNAP_CHUNK: read one chunk (snap_read, or a slice of snap_get's blob)
 * and send it. A chunk that cannot be read is dropped: the core resends. */
static void send_chunk(struct cons_node *n, const struct cons_action *a)
{
	uint32_t len = a->snap_chunk.len;
	const uint8_t *data = n->chunk;
	struct cons_msg m;

	if (n->host.snap_read) {
		if (len > n->chunk_cap) {
			uint8_t *nc = realloc(n->chunk, len);

			if (!nc)
				return;
			n->chunk = nc;
			n->chunk_cap = len;
		}
		if (len && n->host.snap_read(n->host.arg, a->snap_chunk.zxid,
					     a->snap_chunk.offset, n->chunk, len))
			return;
		data = n->chunk;
	} else {
		const uint8_t *blob;
		uint32_t blen;
		zxid_t zxid;

		if (n->host.snap_get(n->host.arg, &zxid, &blob, &blen) ||
		    zxid != a->snap_chunk.zxid || blen != a->snap_chunk.total ||
		    a->snap_chunk.offset + len > blen)
			return;
		data = blob + a->snap_chunk.offset;
	}
	cons_snap_chunk_msg(n->core, a->snap_chunk.zxid, a->snap_chunk.offset,
			    a->snap_chunk.total, data, len, &m);
	/* The epoch of the step that issued it, never a later one not yet
	 * durable. */
	m.epoch = a->snap_chunk.epoch;
	buf_reset(&n->out);
	if (cons_encode(&n->out, &m) == 0)
		n->tr->send(n->tr, NULL, a->snap_chunk.to, n->out.data, n->out.len, NULL);
}

/* SNAP_BEGIN / SNAP_WRITE: to the host's file, or (hosts without
 * snap_begin) into one buffer for snap_install. */
static int snap_begin(struct cons_node *n, zxid_t zxid, uint64_t total)
{
	n->snap_bad = 0;
	free(n->rbuf);
	n->rbuf = NULL;
	n->rtotal = total;
	if (n->host.snap_begin)
		return n->host.snap_begin(n->host.arg, zxid, total);
	if (total > UINT32_MAX)
		return -EFBIG;
	n->rbuf = malloc(total ? total : 1);
	return n->rbuf ? 0 : -ENOMEM;
}

static int snap_write(struct cons_node *n, const struct cons_action *a)
{
	if (n->host.snap_write)
		return n->host.snap_write(n->host.arg, a->snap_write.zxid,
					  a->snap_write.offset, a->snap_write.data,
					  a->snap_write.len);
	if (!n->rbuf || a->snap_write.offset + a->snap_write.len > n->rtotal)
		return -EINVAL;
	memcpy(n->rbuf + a->snap_write.offset, a->snap_write.data, a->snap_write.len);
	return 0;
}

static int snap_finish(struct cons_node *n, zxid_t zxid, uint64_t total)
{
	int rc;

	if (n->snap_bad || total != n->rtotal)
		return -EIO;
	if (n->host.snap_finish)
		return n->host.snap_finish(n->host.arg, zxid);
	if (!n->rbuf)
		return -EIO;
	rc = n->host.snap_install(n->host.arg, zxid, n->rbuf, (uint32_t)total);
	free(n->rbuf);
	n->rbuf = NULL;
	return rc;
}

static void do_actions(struct cons_node *n, const struct cons_action *a, size_t cnt)
{
	struct node_req *r;
	size_t i;
	int rc;

	for (i = 0; i < cnt; i++, a++) {
		switch (a->type) {
		case CONS_ACT_PERSIST_META:
			r = new_req(n, CONS_EV_META_DONE);
			if (!r) {
				fail_now(n, CONS_EV_META_DONE, 0, 0, -ENOMEM);
				break;
			}
			rc = n->store->set_meta(n->store, &r->req, &a->meta, store_done);
			if (rc) {
				drop_req(r);
				fail_now(n, CONS_EV_META_DONE, 0, 0, rc);
			}
			break;
		case CONS_ACT_PERSIST_LOG:
			r = new_req(n, CONS_EV_LOG_DONE);
			if (!r) {
				fail_now(n, CONS_EV_LOG_DONE, a->log.seq, 0, -ENOMEM);
				break;
			}
			r->req.seq = a->log.seq;
			rc = n->store->append(n->store, &r->req, a->log.truncate,
					      a->log.truncate_after, a->log.entries,
					      a->log.n, a->log.commit_zxid, store_done);
			if (rc) {
				drop_req(r);
				fail_now(n, CONS_EV_LOG_DONE, a->log.seq, 0, rc);
			}
			break;
		case CONS_ACT_SEND:
			buf_reset(&n->out);
			if (cons_encode(&n->out, &a->send.msg) == 0)
				n->tr->send(n->tr, NULL, a->send.to, n->out.data,
					    n->out.len, NULL);
			break;
		case CONS_ACT_APPLY:
			n->host.apply(n->host.arg, a->apply.entries, a->apply.n);
			break;
		case CONS_ACT_SNAP_SEND:
			offer_snapshot(n, a->snap_send.to);
			break;
		case CONS_ACT_SNAP_CHUNK:
			send_chunk(n, a);
			break;
		case CONS_ACT_SNAP_BEGIN:
			rc = snap_begin(n, a->snap_install.zxid, a->snap_install.total);
			if (rc) {
				n->snap_bad = 1;
				fail_now(n, CONS_EV_SNAP_DONE, 0, a->snap_install.zxid,
					 rc);
			}
			break;
		case CONS_ACT_SNAP_WRITE:
			if (n->snap_bad)
				break;
			rc = snap_write(n, a);
			if (rc) {
				n->snap_bad = 1;
				fail_now(n, CONS_EV_SNAP_DONE, 0, a->snap_write.zxid, rc);
			}
			break;
		case CONS_ACT_SNAP_INSTALL:
			rc = 0;
			if (n->host.snap_config)
				rc = n->host.snap_config(
				    n->host.arg, a->snap_install.zxid,
				    a->snap_install.conf, a->snap_install.conf_len);
			if (rc == 0)
				rc = snap_finish(n, a->snap_install.zxid,
						 a->snap_install.total);
			r = rc ? NULL : new_req(n, CONS_EV_SNAP_DONE);
			if (!r) {
				fail_now(n, CONS_EV_SNAP_DONE, 0, a->snap_install.zxid,
					 rc ? rc : -ENOMEM);
				break;
			}
			r->zxid = a->snap_install.zxid;
			rc = n->store->reset(n->store, &r->req, a->snap_install.zxid,
					     store_done);
			if (rc) {
				drop_req(r);
				fail_now(n, CONS_EV_SNAP_DONE, 0, a->snap_install.zxid,
					 rc);
			}
			break;
		case CONS_ACT_FORWARDED:
			if (n->host.forwarded)
				n->host.forwarded(n->host.arg, a->forwarded.from,
						  a->forwarded.p, a->forwarded.n);
			break;
		case CONS_ACT_PREPARE_READY:
			if (n->host.prepare_ready)
				n->host.prepare_ready(n->host.arg,
						      a->prepare_ready.epoch);
			break;
		case CONS_ACT_READ_READY:
			if (n->host.read_ready)
				n->host.read_ready(n->host.arg, a->read_ready.token,
						   a->read_ready.read_zxid,
						   a->read_ready.status);
			break;
		case CONS_ACT_CONFIG:
			if (n->host.config)
				n->host.config(n->host.arg, a->config.version,
					       a->config.status);
			break;
		case CONS_ACT_ROLE:
			if (n->host.role)
				n->host.role(n->host.arg, a->role.state, a->role.epoch,
					     a->role.leader);
			break;
		}
	}
}

static int step(struct cons_node *n, const struct cons_event *ev)
{
	const struct cons_action *a;
	size_t cnt;
	int rc;

	rc = cons_step(n->core, ev, &a, &cnt);
	do_actions(n, a, cnt);
	return rc;
}

/* Rebuild and step a proposal queued while the node was busy. */
static void step_payloads(struct cons_node *n, struct cons_event *ev, struct pending *p)
{
	struct cons_payload *pl = calloc(p->n_payloads ? p->n_payloads : 1, sizeof(*pl));
	const uint8_t *data = p->frame + 4 * (size_t)p->n_payloads;
	uint32_t i;

	if (ev->type == CONS_EV_PROPOSE)
		n->queued -= p->n_payloads;
	if (!pl)
		return;
	for (i = 0; i < p->n_payloads; i++) {
		memcpy(&pl[i].len, p->frame + 4 * (size_t)i, 4);
		pl[i].data = data;
		data += pl[i].len;
	}
	ev->propose.p = pl;
	ev->propose.n = p->n_payloads;
	ev->propose.first = p->zxid;
	step(n, ev);
	free(pl);
}

static void drain(struct cons_node *n)
{
	struct pending *p;

	while ((p = n->head)) {
		struct cons_event ev = {.type = p->type};
		struct cons_msg m;

		n->head = p->next;
		if (!n->head)
			n->tail = &n->head;
		if (p->type != CONS_EV_PROPOSE)
			host_flush(n);
		ev.now_ms = n->host.now(n->host.arg);
		switch (p->type) {
		case CONS_EV_RECV:
			if (cons_decode(p->frame, p->len, &m) == 0) {
				ev.msg = &m;
				step(n, &ev);
				cons_msg_release(&m);
			}
			break;
		case CONS_EV_LOG_DONE:
			ev.log_done.seq = p->seq;
			ev.log_done.status = p->status;
			step(n, &ev);
			break;
		case CONS_EV_META_DONE:
			ev.meta_done.status = p->status;
			step(n, &ev);
			break;
		case CONS_EV_SNAP_DONE:
			ev.snap_done.zxid = p->zxid;
			ev.snap_done.status = p->status;
			step(n, &ev);
			break;
		case CONS_EV_PROPOSE:
		case CONS_EV_FORWARD:
			step_payloads(n, &ev, p);
			break;
		case CONS_EV_READ_INDEX:
			ev.read_index.token = p->seq;
			step(n, &ev);
			break;
		case CONS_EV_PEER_DOWN:
			ev.peer_down.id = p->from;
			step(n, &ev);
			break;
		case CONS_EV_SNAP_OFFER:
			ev.snap_offer.to = p->from;
			ev.snap_offer.zxid = p->zxid;
			ev.snap_offer.total = p->seq;
			ev.snap_offer.status = p->status;
			step(n, &ev);
			break;
		default:
			break;
		}
		free(p);
	}
}

/*
 * Steps an event on an idle node, then whatever its callbacks queued
 * meanwhile. flush_first: the host's buffered output goes first (a
 * proposal skips it, so that a burst of them shares one flush).
 */
static int step_idle(struct cons_node *n, const struct cons_event *ev, int flush_first)
{
	int rc;

	if (flush_first)
		host_flush(n);
	n->busy = 1;
	rc = step(n, ev);
	drain(n);
	n->busy = 0;
	return rc;
}

static void run(struct cons_node *n, const struct cons_event *ev)
{
	struct pending *p;

	if (n->busy) {
		p = calloc(1, sizeof(*p));
		if (!p)
			return;
		p->type = ev->type;
		p->seq = ev->type == CONS_EV_LOG_DONE	  ? ev->log_done.seq
			 : ev->type == CONS_EV_READ_INDEX ? ev->read_index.token
							  : 0;
		p->status = ev->type == CONS_EV_LOG_DONE    ? ev->log_done.status
			    : ev->type == CONS_EV_META_DONE ? ev->meta_done.status
			    : ev->type == CONS_EV_SNAP_DONE ? ev->snap_done.status
							    : 0;
		p->zxid = ev->type == CONS_EV_SNAP_DONE ? ev->snap_done.zxid : 0;
		if (ev->type == CONS_EV_PEER_DOWN)
			p->from = ev->peer_down.id;
		queue(n, p);
		return;
	}
	(void)step_idle(n, ev, 1);
}

void cons_node_recv(struct cons_node *n, uint32_t from, const uint8_t *frame, size_t len)
{
	struct cons_event ev = {.type = CONS_EV_RECV};
	struct pending *p;
	struct cons_msg m;

	if (n->busy) {
		p = malloc(sizeof(*p) + len);
		if (!p)
			return;
		memset(p, 0, sizeof(*p));
		p->type = CONS_EV_RECV;
		p->from = from;
		p->len = len;
		memcpy(p->frame, frame, len);
		queue(n, p);
		return;
	}
	if (cons_decode(frame, len, &m))
		return;
	/* The transport authenticated the peer: a frame claiming another
	 * sender is dropped. */
	if (m.from != from) {
		cons_msg_release(&m);
		return;
	}
	ev.now_ms = n->host.now(n->host.arg);
	ev.msg = &m;
	(void)step_idle(n, &ev, 1);
	cons_msg_release(&m);
}

static void recv_cb(void *arg, uint32_t from, const uint8_t *frame, size_t len)
{
	cons_node_recv(arg, from, frame, len);
}

int cons_node_new(const struct cons_config *cfg, struct cons_store *store,
		  struct cons_transport *tr, const struct cons_node_host *host,
		  struct cons_node **out)
{
	struct cons_boot boot = {0};
	struct cons_node *n;
	const uint8_t *blob;
	uint32_t blen;
	zxid_t store_snap;
	int rc;

	n = calloc(1, sizeof(*n));
	if (!n)
		return -ENOMEM;
	n->store = store;
	n->tr = tr;
	n->host = *host;
	n->tail = &n->head;
	n->reqs.next = n->reqs.prev = &n->reqs;
	buf_init(&n->out);
	rc = store->load(store, &boot.meta, &store_snap, &boot.commit_zxid, &boot.entries,
			 &boot.n_entries);
	if (rc)
		goto err_free;
	if (host->snap_open) {
		uint64_t total;

		rc = host->snap_open(host->arg, &boot.snap_zxid, &total);
	} else {
		rc = host->snap_get(host->arg, &boot.snap_zxid, &blob, &blen);
	}
	if (rc)
		goto err_free;
	if (host->boot_config) {
		rc = host->boot_config(host->arg, &boot.conf, &boot.conf_len);
		if (rc)
			goto err_free;
	}
	/* The state the host recovered is the snapshot; the log must reach
	 * back to it. */
	rc = -EINVAL;
	if (boot.snap_zxid < store_snap)
		goto err_free;
	/*
	 * After a crash between installing a snapshot and resetting the log,
	 * the log may hold entries after the snapshot's zxid that are not of
	 * its history. They are kept: the core's log must be what the store
	 * holds (its writes rely on it), entries written after the install
	 * may have been acknowledged, and stale ones are truncated by the
	 * next leader (they cannot win an election: see cons_election.c).
	 */
	rc = cons_new(cfg, &boot, host->now(host->arg), &n->core);
	if (rc)
		goto err_free;
	tr->set_recv(tr, recv_cb, n);
	/* The first step applies snapshot..watermark (cons_boot): the host's
	 * state is back where it was before anything else happens. *out is
	 * set first: the host's callbacks may need the node. */
	*out = n;
	cons_node_tick(n);
	return 0;

err_free:
	free(n);
	return rc;
}

void cons_node_free(struct cons_node *n)
{
	struct pending *p;

	if (!n)
		return;
	while ((p = n->head)) {
		n->head = p->next;
		free(p);
	}
	while (n->reqs.next != &n->reqs)
		drop_req(n->reqs.next);
	cons_free(n->core);
	buf_free(&n->out);
	free(n->chunk);
	free(n->rbuf);
	free(n);
}

int cons_node_tick(struct cons_node *n)
{
	struct cons_event ev = {.type = CONS_EV_TICK};

	ev.now_ms = n->host.now(n->host.arg);
	run(n, &ev);
	return 0;
}

int cons_node_peer_down(struct cons_node *n, uint32_t id)
{
	struct cons_event ev = {.type = CONS_EV_PEER_DOWN};

	ev.now_ms = n->host.now(n->host.arg);
	ev.peer_down.id = id;
	run(n, &ev);
	return 0;
}

/* Copy payloads into the queue, to be stepped once the node is idle. */
static int queue_payloads(struct cons_node *n, enum cons_event_type t,
			  const struct cons_payload *p, size_t cnt, zxid_t first)
{
	size_t total = 0, i;
	struct pending *q;
	uint8_t *d;

	if (cnt > UINT32_MAX / 4)
		return -EINVAL;
	for (i = 0; i < cnt; i++) {
		if (p[i].len > CONS_MAX_PAYLOAD)
			return -EINVAL;
		total += p[i].len;
	}
	q = calloc(1, sizeof(*q) + 4 * cnt + total);
	if (!q)
		return -ENOMEM;
	q->type = t;
	q->zxid = first;
	q->n_payloads = (uint32_t)cnt;
	d = q->frame + 4 * cnt;
	for (i = 0; i < cnt; i++) {
		memcpy(q->frame + 4 * i, &p[i].len, 4);
		if (p[i].len)
			memcpy(d, p[i].data, p[i].len);
		d += p[i].len;
	}
	if (t == CONS_EV_PROPOSE)
		n->queued += cnt;
	queue(n, q);
	return 0;
}

static int payload_event(struct cons_node *n, enum cons_event_type t,
			 const struct cons_payload *p, size_t cnt, zxid_t first)
{
	struct cons_event ev = {.type = t};
	int rc;

	if (n->busy && !n->flushing)
		return queue_payloads(n, t, p, cnt, first);
	ev.now_ms = n->host.now(n->host.arg);
	ev.propose.p = p;
	ev.propose.n = cnt;
	ev.propose.first = first;
	if (n->busy) {
		/* host.flush from drain(), between two queued events: step it
		 * now, ahead of them (its callbacks' proposals queue). */
		n->flushing = 0;
		rc = step(n, &ev);
		n->flushing = 1;
		return rc;
	}
	return step_idle(n, &ev, t != CONS_EV_PROPOSE);
}

int cons_node_propose(struct cons_node *n, const struct cons_payload *p, size_t cnt)
{
	return payload_event(n, CONS_EV_PROPOSE, p, cnt, 0);
}

int cons_node_propose_at(struct cons_node *n, zxid_t first, const struct cons_payload *p,
			 size_t cnt)
{
	return payload_event(n, CONS_EV_PROPOSE, p, cnt, first);
}

int cons_node_forward(struct cons_node *n, const struct cons_payload *p, size_t cnt)
{
	return payload_event(n, CONS_EV_FORWARD, p, cnt, 0);
}

int cons_node_can_prepare(struct cons_node *n)
{
	struct cons_status st;

	cons_status(n->core, &st);
	return st.can_prepare;
}

zxid_t cons_node_next_zxid(struct cons_node *n)
{
	zxid_t z = cons_next_zxid(n->core);

	return z ? z + n->queued : 0;
}

int cons_node_compact(struct cons_node *n, zxid_t zxid)
{
	struct cons_event ev = {.type = CONS_EV_COMPACT};
	struct cons_status st;
	int rc;

	cons_status(n->core, &st);
	if (zxid > st.applied_zxid)
		return -EINVAL;
	if (zxid <= st.snap_zxid)
		return 0;
	ev.now_ms = n->host.now(n->host.arg);
	ev.compact.zxid = zxid;
	run(n, &ev);
	rc = n->store->compact(n->store, zxid);
	return rc;
}

int cons_node_read_index(struct cons_node *n, uint64_t token)
{
	struct cons_event ev = {.type = CONS_EV_READ_INDEX};

	ev.now_ms = n->host.now(n->host.arg);
	ev.read_index.token = token;
	run(n, &ev);
	return 0;
}

struct cons *cons_node_core(struct cons_node *n)
{
	return n->core;
}

int cons_node_reconfig(struct cons_node *n, const struct cons_membership *to,
		       zxid_t from_version)
{
	struct cons_event ev = {.type = CONS_EV_RECONFIG};

	if (n->busy)
		return -EAGAIN;
	ev.now_ms = n->host.now(n->host.arg);
	ev.reconfig.to = to;
	ev.reconfig.from_version = from_version;
	return step_idle(n, &ev, 1);
}

void cons_node_membership(struct cons_node *n, int committed, struct cons_membership *out)
{
	cons_get_membership(n->core, committed, out);
}

int cons_node_transfer(struct cons_node *n, uint32_t to)
{
	struct cons_event ev = {.type = CONS_EV_TRANSFER};

	if (n->busy)
		return -EAGAIN;
	ev.now_ms = n->host.now(n->host.arg);
	ev.transfer.to = to;
	return step_idle(n, &ev, 1);
}
