/*
 * cons_transfer.c - leadership transfer (Raft thesis §3.10), for planned
 * maintenance (quorumctl leader transfer N) without failed writes.
 *
 *   1. The leader stops appending new requests: raw ones (proposals
 *      without forward_to_host, CONS_EV_FORWARD, FORWARD messages) are
 *      held here; prepared ones (forward_to_host proposals) are refused
 *      with CONS_ETRANSFER, and cons_next_zxid is 0 so the host prepares
 *      nothing meanwhile.
 *   2. It replicates as usual until the target holds, durably, its last
 *      entry, then sends it TIMEOUT_NOW.
 *   3. The target stands at once, without pre-vote, and its vote requests
 *      carry the transfer flag, so voters that still hear the leader
 *      answer them (cons_election.c). Its log is the leader's, so it wins
 *      every vote the leader would; the leader steps down on its higher
 *      epoch and, once it hears the new leader, forwards what it held.
 *   4. If the target has not caught up within an election timeout, or
 *      not taken over within one after TIMEOUT_NOW, the leader resumes:
 *      it appends what it held and carries on.
 *
 * A server that is no longer leader relays FORWARD messages that reach it
 * (sent to it while it led) to the leader it learns of, the same way.
 *
 * Safety is the election's: the target is elected by the ordinary rule (a
 * quorum whose logs are not newer than its own), so no committed entry
 * can be lost; the transfer only decides who stands first. Held requests
 * are dropped only if no leader is known two election timeouts after the
 * transfer gave up (the host's clients then time out, as they would with
 * any lost leader).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cons_int.h"

void cons_transfer_free(struct cons *c)
{
	size_t i;

	for (i = 0; i < c->n_held; i++)
		free(c->held[i].data);
	free(c->held);
	c->held = NULL;
	c->n_held = c->cap_held = 0;
}

int cons_on_transfer(struct cons *c, uint32_t to)
{
	struct cons_peer *p = NULL;
	unsigned i;

	if (c->state != CONS_LEADER)
		return CONS_ENOTLEADER;
	if (c->xfer_to || c->chg != CHG_NONE || c->conf.joint)
		return -EBUSY;
	if (to == c->cfg.self)
		return -EINVAL;
	if (to == 0) {
		for (i = 0; i < c->n_peers; i++)
			if (!c->peers[i].observer && !c->peers[i].departing &&
			    (!p || c->peers[i].match > p->match))
				p = &c->peers[i];
	} else {
		p = cons_peer(c, to);
	}
	if (!p || p->observer || p->departing || quorum_slot(&c->q, p->id) < 0 ||
	    !(c->q.voters >> p->slot & 1))
		return -EINVAL;
	c->xfer_to = p->id;
	c->xfer_sent = 0;
	c->xfer_deadline = c->now + c->cfg.election_timeout_ms;
	c->held_until = c->xfer_deadline + 2ull * c->cfg.election_timeout_ms;
	CONS_TRACE(c, "transfer leadership to %u (it holds %llx, last %llx)", p->id,
		   (unsigned long long)p->match,
		   (unsigned long long)cons_log_last(&c->log));
	return 0;
}

int cons_transfer_hold(struct cons *c, uint32_t from, const struct cons_payload *p,
		       size_t n)
{
	size_t i;

	CONS_INVARIANT(!c->held_done); /* released only at a step's end */
	if (c->now + 2ull * c->cfg.election_timeout_ms > c->held_until)
		c->held_until = c->now + 2ull * c->cfg.election_timeout_ms;
	if (c->n_held + n > c->cap_held) {
		size_t cap = c->cap_held ? c->cap_held : 16;
		struct cons_held *nh;

		while (cap < c->n_held + n)
			cap *= 2;
		nh = realloc(c->held, cap * sizeof(*nh));
		if (!nh)
			return -ENOMEM;
		c->held = nh;
		c->cap_held = cap;
	}
	for (i = 0; i < n; i++) {
		struct cons_held *h = &c->held[c->n_held];

		h->data = malloc(p[i].len ? p[i].len : 1);
		if (!h->data)
			return -ENOMEM;
		memcpy(h->data, p[i].data, p[i].len);
		h->len = p[i].len;
		h->from = from;
		c->n_held++;
	}
	return 0;
}

/* Hand what was held to whoever leads now; the copies live until the next
 * step, as the actions that name them. */
static void release(struct cons *c)
{
	struct cons_msg m = {.type = CONS_MSG_FORWARD};
	struct cons_payload *pl;
	size_t i;

	if (!c->n_held || (c->state == CONS_LEADER && c->xfer_to))
		return;
	if (c->state != CONS_LEADER &&
	    !(c->leader && c->leader != c->cfg.self && cons_meta_ready(c))) {
		if (c->now < c->held_until)
			return;
		CONS_TRACE(c, "drop %zu held requests: no leader", c->n_held);
		c->held_done = 1;
		return;
	}
	pl = calloc(c->n_held, sizeof(*pl));
	if (!pl)
		return;
	for (i = 0; i < c->n_held; i++) {
		pl[i].data = c->held[i].data;
		pl[i].len = c->held[i].len;
	}
	c->held_views = pl;
	c->held_done = 1;
	if (c->state != CONS_LEADER) {
		/* Encoded by the host before the next step frees them. */
		m.forward.payloads = pl;
		m.forward.n = (uint32_t)c->n_held;
		cons_send(c, c->leader, &m, SIZE_MAX);
		CONS_TRACE(c, "forward %zu held requests to %u", c->n_held, c->leader);
		return;
	}
	for (i = 0; i < c->n_held; i++) {
		if (c->cfg.forward_to_host) {
			struct cons_action *a = cons_act(c, CONS_ACT_FORWARDED, SIZE_MAX);

			if (!a)
				return;
			a->forwarded.from = c->held[i].from;
			a->forwarded.p = &pl[i];
			a->forwarded.n = 1;
		} else if (cons_propose(c, &pl[i], 1, 0)) {
			return;
		}
	}
}

/* Called at the start of every step: free what the last step handed on. */
void cons_transfer_step_start(struct cons *c)
{
	size_t i;

	if (!c->held_done)
		return;
	for (i = 0; i < c->n_held; i++)
		free(c->held[i].data);
	c->n_held = 0;
	c->held_done = 0;
	free(c->held_views);
	c->held_views = NULL;
}

/* At the end of every step. */
void cons_transfer_progress(struct cons *c)
{
	struct cons_msg m = {.type = CONS_MSG_TIMEOUT_NOW};
	struct cons_peer *p;

	if (c->state == CONS_LEADER && c->xfer_to && !c->xfer_sent) {
		p = cons_peer(c, c->xfer_to);
		if (!p) {
			c->xfer_to = 0;
		} else if ((c->cfg.mutant == 10 || (p->match == cons_log_last(&c->log) &&
						    c->unpersisted == c->log.n)) &&
			   cons_meta_ready(c)) {
			CONS_TRACE(c, "timeout now to %u (it holds %llx)", p->id,
				   (unsigned long long)p->match);
			cons_send(c, p->id, &m, SIZE_MAX);
			c->xfer_sent = 1;
			/* Give its election an election timeout: resuming while it
			 * wins would append (and then lose) what was held. */
			c->xfer_deadline = c->now + c->cfg.election_timeout_ms;
		}
	}
	if (!c->held_done)
		release(c);
}

void cons_transfer_tick(struct cons *c)
{
	if (!c->xfer_to || c->now < c->xfer_deadline)
		return;
	CONS_TRACE(c, "transfer to %u did not happen, resuming", c->xfer_to);
	c->xfer_to = 0;
}

void cons_on_timeout_now(struct cons *c, const struct cons_msg *m)
{
	if (m->epoch != c->meta.epoch || m->from != c->leader || c->installing ||
	    c->state == CONS_LEADER || c->state == CONS_CANDIDATE || !cons_may_stand(c))
		return;
	CONS_TRACE(c, "timeout now from leader %u: standing", m->from);
	cons_start_election(c, 1);
}
