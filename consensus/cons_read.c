/*
 * cons_read.c - the read index: a linearizable read barrier (Raft thesis
 * §6.4; etcd's ReadIndex). ZooKeeper's sync only queues behind the
 * leader's pending proposals, so a leader paused past an election answers
 * it from a stale state when it resumes; this one does not.
 *
 * On the leader, a request is answered with the commit point it had when
 * the request arrived (read_zxid), but only
 *   1. once the leader has committed an entry of its own epoch (before
 *      that its commit point may lag what earlier leaders committed:
 *      Raft §5.4.2 / thesis §6.4 step 1), and
 *   2. after a quorum has answered a heartbeat round sent after the
 *      request arrived: every append carries the leader's newest round
 *      number (read_seq) and every answer echoes the newest one its sender
 *      heard from this leader in this epoch. An answer in our epoch proves
 *      its sender had not moved to a later epoch when it sent it, and a
 *      quorum of them, all sent after the request arrived, proves no other
 *      leader could have committed anything before the request that this
 *      leader lacks (thesis §6.4 step 3).
 * Requests arriving while a round is in flight wait for the next one, so
 * any number of them share one round per round trip. A follower or an
 * observer asks the leader (READ_REQ) and relays its answer; a request
 * fails with CONS_ENOTLEADER when no leader is known or the role, epoch or
 * leader changes before the answer, and with -ETIMEDOUT when the leader
 * does not answer within two election timeouts.
 */
#include <errno.h>
#include <stdlib.h>

#include "cons_int.h"

static struct cons_read *push_read(struct cons *c)
{
	struct cons_read *r;

	if (c->n_reads == c->cap_reads) {
		size_t cap = c->cap_reads ? c->cap_reads * 2 : 16;
		struct cons_read *nr = realloc(c->reads, cap * sizeof(*nr));

		if (!nr)
			return NULL;
		c->reads = nr;
		c->cap_reads = cap;
	}
	r = &c->reads[c->n_reads++];
	*r = (struct cons_read){0};
	return r;
}

static void ready(struct cons *c, uint64_t token, zxid_t zxid, int status)
{
	struct cons_action *a = cons_act(c, CONS_ACT_READ_READY, SIZE_MAX);

	if (!a)
		return;
	a->read_ready.token = token;
	a->read_ready.read_zxid = zxid;
	a->read_ready.status = status;
}

static void answer(struct cons *c, uint32_t to, uint64_t id, zxid_t zxid, int ok)
{
	struct cons_msg m = {.type = CONS_MSG_READ_RESP};

	m.read_resp.id = id;
	m.read_resp.ok = (uint8_t)ok;
	m.read_resp.read_zxid = zxid;
	cons_send(c, to, &m, SIZE_MAX);
}

/* Complete request i (0 = served at zxid, else the error) and drop it. */
static void finish(struct cons *c, size_t i, zxid_t zxid, int status)
{
	struct cons_read r = c->reads[i];

	c->reads[i] = c->reads[--c->n_reads];
	if (r.kind == READ_REMOTE)
		answer(c, r.peer, r.token, zxid, status == 0);
	else
		ready(c, r.token, zxid, status);
}

int cons_read_index(struct cons *c, uint64_t token)
{
	struct cons_msg m = {.type = CONS_MSG_READ_REQ};
	struct cons_read *r;

	if (c->state == CONS_LEADER) {
		r = push_read(c);
		if (!r)
			return -ENOMEM;
		r->kind = READ_LOCAL;
		r->token = token;
		cons_read_progress(c);
		return 0;
	}
	if (!c->leader || !cons_meta_ready(c)) {
		ready(c, token, 0, CONS_ENOTLEADER);
		return 0;
	}
	r = push_read(c);
	if (!r)
		return -ENOMEM;
	r->kind = READ_ASKED;
	r->peer = c->leader;
	r->token = token;
	r->seq = ++c->read_id;
	r->deadline = c->now + 2ull * c->cfg.election_timeout_ms;
	m.read_req.id = r->seq;
	cons_send(c, c->leader, &m, SIZE_MAX);
	return 0;
}

void cons_on_read_req(struct cons *c, const struct cons_msg *m)
{
	struct cons_read *r;

	if (m->epoch > c->meta.epoch)
		cons_become_follower(c, m->epoch, 0);
	/* An asker in another epoch follows someone else, or will learn our
	 * epoch from the answer. */
	if (c->state != CONS_LEADER || m->epoch != c->meta.epoch) {
		answer(c, m->from, m->read_req.id, 0, 0);
		return;
	}
	r = push_read(c);
	if (!r) {
		c->oom = 1;
		return;
	}
	r->kind = READ_REMOTE;
	r->peer = m->from;
	r->token = m->read_req.id;
	cons_read_progress(c);
}

void cons_on_read_resp(struct cons *c, const struct cons_msg *m)
{
	size_t i;

	for (i = 0; i < c->n_reads; i++) {
		struct cons_read *r = &c->reads[i];

		if (r->kind != READ_ASKED || r->seq != m->read_resp.id ||
		    r->peer != m->from)
			continue;
		/* The leader's epoch is ours: a changed one failed it already. */
		if (m->read_resp.ok && m->epoch == c->meta.epoch &&
		    m->read_resp.read_zxid)
			finish(c, i, m->read_resp.read_zxid, 0);
		else
			finish(c, i, 0, CONS_ENOTLEADER);
		return;
	}
}

/* The newest round echoed by a quorum (the leader counts itself). */
static int round_confirmed(struct cons *c, uint64_t seq)
{
	uint64_t set = cons_self_bit(c);
	unsigned i;

	for (i = 0; i < c->n_peers; i++)
		if (!c->peers[i].observer && c->peers[i].read_ack >= seq)
			set |= 1ull << c->peers[i].slot;
	return cons_quorum(c, set);
}

/*
 * Leader: assign waiting requests to the next round once an entry of this
 * epoch is committed, start that round when none is in flight, and answer
 * the requests of every round a quorum has echoed. Called whenever a
 * request arrives or an answer or a commit may have moved something.
 */
void cons_read_progress(struct cons *c)
{
	int waiting = 0, i;
	size_t k;

	if (c->state != CONS_LEADER || !c->n_reads)
		return;
	if (c->commit < zxid_make(c->meta.epoch, 0))
		return;
	for (k = 0; k < c->n_reads; k++) {
		struct cons_read *r = &c->reads[k];

		if (r->seq == 0) {
			/* A follower may have committed, alone, anything up to
			 * what we told it our stable is (cons_fast_commit), and
			 * answered it: the index covers that too. */
			r->zxid = c->stable > c->commit && c->cfg.mutant != 15 ? c->stable
									     : c->commit;
			r->seq = c->read_sent + 1;
		}
		if (r->seq > c->read_sent)
			waiting = 1;
	}
	if (c->cfg.mutant == 4 || c->cfg.mutant == 11) {
		/* The planted bug: trust the leadership without asking, and
		 * answer from what is committed here. (At the stable index a
		 * cut-off leader whose log had an uncommitted tail answered
		 * nothing at all, and chaos_check.sh's ZooKeeper clients saw
		 * no stale read on two seeds in CI.) */
		while (c->n_reads)
			finish(c, 0, c->commit, 0);
		return;
	}
	for (i = 0; i < 2; i++) {
		if (waiting && c->read_acked == c->read_sent && cons_meta_ready(c)) {
			unsigned j;

			c->read_sent++;
			waiting = 0;
			for (j = 0; j < c->n_peers; j++)
				cons_leader_send(c, &c->peers[j], 1);
		}
		if (c->read_acked < c->read_sent && round_confirmed(c, c->read_sent))
			c->read_acked = c->read_sent;
	}
	for (k = c->n_reads; k-- > 0;)
		if (c->reads[k].seq <= c->read_acked)
			finish(c, k, c->reads[k].zxid, 0);
}

/* Follower: a leader that does not answer (a lost message) fails it. */
void cons_read_tick(struct cons *c)
{
	size_t k;

	for (k = c->n_reads; k-- > 0;)
		if (c->reads[k].kind == READ_ASKED && c->now >= c->reads[k].deadline)
			finish(c, k, 0, -ETIMEDOUT);
}

/* The role, epoch or leader changed: nothing waiting can be answered. */
void cons_read_fail_all(struct cons *c)
{
	while (c->n_reads)
		finish(c, c->n_reads - 1, 0, CONS_ENOTLEADER);
}
