/*
 * cons_leader.c - broadcast (Zab phase 3; Raft §5.3): the leader numbers
 * proposals epoch<<32|counter, writes them in batches (every proposal of a
 * step is one PERSIST_LOG) and pipelines appends to each peer without
 * waiting for earlier ones to be answered. A peer's progress is probed
 * until its log is found to match (Zab's DIFF/TRUNC decision, made one
 * append at a time), then replicated, or a snapshot is sent when the
 * entries it needs were compacted away (Zab's SNAP).
 *
 * Prepare gating: a new leader's host may prepare (and cons_next_zxid is
 * non-zero) only once the epoch entry is committed and applied, i.e. its
 * state holds every txn committed by earlier leaders (the "a new
 * leader prepares nothing until it has applied every entry of the old
 * epochs"; Raft thesis §6.4's first step serves reads, the same rule).
 *
 * Commit rule: the newest zxid of the current epoch that is durable on a
 * quorum (the leader counts its own durable log) is committed, and with it
 * everything before it. Entries of older epochs are never committed by
 * counting (Raft §5.4.2): the epoch entry appended on election carries them.
 */
#include <errno.h>

#include "cons_int.h"

enum { SEND_NEW = 0, SEND_HEARTBEAT, SEND_COMMIT, SEND_STABLE };

static void check_prepare_ready(struct cons *c);

void cons_become_leader(struct cons *c)
{
	zxid_t last = cons_log_last(&c->log);
	unsigned i;

	CONS_INVARIANT(zxid_epoch(last) < c->meta.epoch);
	CONS_INVARIANT(c->meta.vote == c->cfg.self);
	cons_set_role(c, CONS_LEADER, c->cfg.self);
	c->counter = 0;
	c->prep_ready = 0;
	c->unpersisted = c->log.n;
	c->quorum_check = c->now + c->cfg.election_timeout_ms;
	for (i = 0; i < c->n_peers; i++) {
		struct cons_peer *p = &c->peers[i];

		p->mode = PEER_PROBE;
		p->next = last;
		p->match = 0;
		p->inflight = 0;
		p->probe_out = 0;
		p->acked = 1;
		p->last_heard = c->now;
		p->last_sent = 0;
		p->read_ack = 0;
		p->stable_sent = 0;
	}
	if (cons_log_append(&c->log, zxid_make(c->meta.epoch, 0), CONS_ENTRY_EPOCH, NULL,
			    0)) {
		c->oom = 1;
		cons_become_follower(c, c->meta.epoch, 0);
	}
}

int cons_propose(struct cons *c, const struct cons_payload *p, size_t n, zxid_t first)
{
	struct cons_msg m = {.type = CONS_MSG_FORWARD};
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i].len > CONS_MAX_PAYLOAD)
			return -EINVAL;
	if (c->state != CONS_LEADER) {
		if (!c->leader || !cons_meta_ready(c) || c->cfg.forward_to_host)
			return CONS_ENOTLEADER;
		m.forward.payloads = p;
		m.forward.n = (uint32_t)n;
		cons_send(c, c->leader, &m, SIZE_MAX);
		return 0;
	}
	if (c->xfer_to) {
		/* Handing over: hold raw requests, refuse prepared ones. */
		if (c->cfg.forward_to_host)
			return CONS_ETRANSFER;
		return cons_transfer_hold(c, c->cfg.self, p, n);
	}
	/* The host numbered these txns itself when it prepared them: they go
	 * in at those zxids or not at all. Between its prepare and this call
	 * the core may have appended an entry of its own (the final
	 * configuration, on committing a joint one), and a txn committed one
	 * slot later than it says corrupts every replica's tree the same way
	 * (found by the chaos harness: DATAINCONSISTENCY after a membership
	 * change; mutant 13 skips the check). */
	if (first && first != zxid_make(c->meta.epoch, c->counter + 1) && c->cfg.mutant != 13)
		return CONS_ESTALE;
	for (i = 0; i < n; i++) {
		if (c->counter >= UINT32_MAX - 1) {
			/* The counter is spent: a new epoch restarts it (as
			 * ZooKeeper does on rollover). */
			cons_become_follower(c, c->meta.epoch, 0);
			return CONS_ENOTLEADER;
		}
		if (cons_log_append(&c->log, zxid_make(c->meta.epoch, c->counter + 1),
				    CONS_ENTRY_TXN, p[i].data, p[i].len))
			return -ENOMEM;
		c->counter++;
	}
	return 0;
}

static void forwarded(struct cons *c, uint32_t from, const struct cons_payload *p,
		      uint32_t n)
{
	struct cons_action *a = cons_act(c, CONS_ACT_FORWARDED, SIZE_MAX);

	if (!a)
		return;
	a->forwarded.from = from;
	a->forwarded.p = p;
	a->forwarded.n = n;
}

void cons_on_forward(struct cons *c, const struct cons_msg *m)
{
	if (c->state != CONS_LEADER) {
		/* Sent to a leader that has since stepped down (a transfer, an
		 * election): relay them to the leader it learns of, rather than
		 * fail writes the sender's host counts as handed on. */
		(void)cons_transfer_hold(c, m->from, m->forward.payloads, m->forward.n);
		return;
	}
	if (c->cfg.forward_to_host && c->xfer_to)
		(void)cons_transfer_hold(c, m->from, m->forward.payloads, m->forward.n);
	else if (c->cfg.forward_to_host)
		forwarded(c, m->from, m->forward.payloads, m->forward.n);
	else
		(void)cons_propose(c, m->forward.payloads, m->forward.n, 0);
}

int cons_forward(struct cons *c, const struct cons_payload *p, size_t n)
{
	struct cons_msg m = {.type = CONS_MSG_FORWARD};
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i].len > CONS_MAX_PAYLOAD)
			return -EINVAL;
	if (c->state == CONS_LEADER && c->xfer_to)
		return cons_transfer_hold(c, c->cfg.self, p, n);
	if (c->state == CONS_LEADER) {
		forwarded(c, c->cfg.self, p, (uint32_t)n);
		return 0;
	}
	if (!c->leader || !cons_meta_ready(c))
		return CONS_ENOTLEADER;
	m.forward.payloads = p;
	m.forward.n = (uint32_t)n;
	cons_send(c, c->leader, &m, SIZE_MAX);
	return 0;
}

/* Once per leadership, as soon as the epoch entry is applied. */
static void check_prepare_ready(struct cons *c)
{
	struct cons_action *a;

	if (c->state != CONS_LEADER || c->prep_ready ||
	    (c->applied < zxid_make(c->meta.epoch, 0) && c->cfg.mutant != 8))
		return;
	a = cons_act(c, CONS_ACT_PREPARE_READY, SIZE_MAX);
	if (!a)
		return;
	a->prepare_ready.epoch = c->meta.epoch;
	c->prep_ready = 1;
	CONS_TRACE(c, "ready to prepare in epoch %u", c->meta.epoch);
}

zxid_t cons_next_zxid(const struct cons *c)
{
	if (c->state != CONS_LEADER || c->counter >= UINT32_MAX - 1 || !c->prep_ready ||
	    c->xfer_to)
		return 0;
	return zxid_make(c->meta.epoch, c->counter + 1);
}

/* Send the entries after prev (at most one batch). Returns the number sent,
 * or -1 when prev is compacted away and a snapshot was started. */
static long send_after(struct cons *c, struct cons_peer *p, zxid_t prev)
{
	struct cons_msg m = {.type = CONS_MSG_APPEND};
	size_t pos, n;
	long i;

	if (prev < c->log.base) {
		cons_snap_start(c, p);
		return -1;
	}
	if (prev == c->log.base) {
		pos = 0;
	} else {
		i = cons_log_find(&c->log, prev);
		if (i < 0) {
			/* Not ours (a stale hint): back up to what we hold. */
			prev = cons_log_floor(&c->log, prev);
			i = prev == c->log.base ? -1 : cons_log_find(&c->log, prev);
			p->next = prev;
		}
		pos = (size_t)(i + 1);
	}
	n = c->log.n - pos;
	if (n > c->cfg.max_batch)
		n = c->cfg.max_batch;
	m.append.prev_zxid = prev;
	m.append.commit_zxid = c->commit;
	m.append.stable_zxid = c->stable;
	m.append.n = (uint32_t)n;
	cons_send(c, p->id, &m, pos);
	p->last_sent = c->now;
	p->stable_sent = c->stable;
	if (n)
		p->next = c->log.e[pos + n - 1].zxid;
	return (long)n;
}

static void leader_send(struct cons *c, struct cons_peer *p, int kind)
{
	zxid_t last = cons_log_last(&c->log);
	struct cons_msg m = {.type = CONS_MSG_APPEND};
	int sent = 0;

	if (!cons_meta_ready(c) || (p->departing && p->match >= c->conf.version))
		return;
	switch (p->mode) {
	case PEER_SNAPSHOT:
		cons_snap_send(c, p, kind == SEND_HEARTBEAT);
		if (kind == SEND_HEARTBEAT) {
			/* Keep the follower from timing out while it installs. */
			m.append.prev_zxid = p->match;
			m.append.commit_zxid = c->commit;
			m.append.stable_zxid = c->stable;
			cons_send(c, p->id, &m, SIZE_MAX);
			p->last_sent = c->now;
		}
		return;
	case PEER_PROBE:
		if ((p->probe_out && kind != SEND_HEARTBEAT) || kind == SEND_STABLE)
			return;
		if (send_after(c, p, p->next) >= 0)
			p->probe_out = 1;
		return;
	case PEER_REPLICATE:
		while (p->inflight < c->cfg.max_inflight && p->next < last) {
			if (send_after(c, p, p->next) <= 0)
				return;
			p->inflight++;
			sent = 1;
		}
		if (sent || kind == SEND_NEW)
			return;
		/* No commit notice to a follower that commits this by itself:
		 * it has the entries on disk, our notice that they are on ours
		 * (cons_fast_commit) and our configuration (it judges the
		 * quorum by the newest one in its log). Were that notice lost,
		 * the next heartbeat carries the commit. */
		if (kind == SEND_COMMIT && cons_commits_alone(c, p) &&
		    p->stable_sent >= c->commit && p->match >= c->commit &&
		    p->match >= c->conf.version)
			return;
		/* A heartbeat names the newest entry sent, so a lost append is
		 * noticed (rejected); a notice names one surely held. */
		m.append.prev_zxid = kind == SEND_HEARTBEAT ? p->next : p->match;
		m.append.commit_zxid = c->commit;
		m.append.stable_zxid = c->stable;
		m.append.notice = kind != SEND_HEARTBEAT;
		cons_send(c, p->id, &m, SIZE_MAX);
		p->last_sent = c->now;
		p->stable_sent = c->stable;
		return;
	}
}

/* The peer and this leader are a quorum: it commits what both of us hold
 * durably without being told (cons_fast_commit). */
int cons_commits_alone(const struct cons *c, const struct cons_peer *p)
{
	return !p->observer && cons_quorum(c, cons_self_bit(c) | 1ull << p->slot);
}

/*
 * Our log write finished: tell each follower that commits alone how far
 * our log is now durable, unless the commit already covers it (its notice
 * carried it). A follower whose own flush ended first then commits on
 * this notice, without its ack going here and a commit notice coming back.
 */
void cons_leader_stable(struct cons *c)
{
	unsigned i;

	if (c->state != CONS_LEADER || c->commit >= c->stable)
		return;
	for (i = 0; i < c->n_peers; i++) {
		struct cons_peer *p = &c->peers[i];

		if (p->mode == PEER_REPLICATE && p->stable_sent < c->stable &&
		    cons_commits_alone(c, p))
			leader_send(c, p, SEND_STABLE);
	}
}

void cons_leader_send(struct cons *c, struct cons_peer *p, int heartbeat)
{
	leader_send(c, p, heartbeat ? SEND_HEARTBEAT : SEND_NEW);
}

void cons_leader_flush(struct cons *c)
{
	unsigned i;

	if (c->unpersisted < c->log.n)
		cons_persist(c, 0, c->unpersisted);
	for (i = 0; i < c->n_peers; i++)
		leader_send(c, &c->peers[i], SEND_NEW);
	check_prepare_ready(c);
}

void cons_apply(struct cons *c)
{
	struct cons_action *a;
	size_t from, to;

	if (c->applied >= c->commit || c->installing)
		return;
	from = cons_log_after(&c->log, c->applied);
	to = cons_log_after(&c->log, c->commit);
	CONS_INVARIANT(to > from && c->log.e[to - 1].zxid == c->commit);
	a = cons_act(c, CONS_ACT_APPLY, from);
	if (!a)
		return;
	a->apply.n = to - from;
	c->applied = c->commit;
	check_prepare_ready(c);
	cons_conf_committed(c);
}

static void set_commit(struct cons *c, zxid_t z)
{
	unsigned i;

	if (z <= c->commit)
		return;
	CONS_INVARIANT(cons_log_has(&c->log, z));
	c->commit = z;
	cons_apply(c);
	for (i = 0; i < c->n_peers; i++)
		leader_send(c, &c->peers[i], SEND_COMMIT);
}

void cons_advance_commit(struct cons *c)
{
	zxid_t best = c->commit, v;
	unsigned i, j;
	uint64_t set;

	if (c->cfg.mutant == 1) {
		if (zxid_epoch(c->stable) == c->meta.epoch)
			set_commit(c, c->stable);
		return;
	}
	for (i = 0; i <= c->n_peers; i++) {
		v = i == c->n_peers ? c->stable : c->peers[i].match;
		if (i < c->n_peers && c->peers[i].observer)
			continue;
		if (v <= best || zxid_epoch(v) != c->meta.epoch)
			continue;
		set = c->stable >= v ? cons_self_bit(c) : 0;
		for (j = 0; j < c->n_peers; j++)
			if (!c->peers[j].observer && c->peers[j].match >= v)
				set |= 1ull << c->peers[j].slot;
		if (cons_quorum(c, set))
			best = v;
	}
	set_commit(c, best);
}

void cons_on_append_resp(struct cons *c, const struct cons_msg *m)
{
	struct cons_peer *p = cons_peer(c, m->from);
	zxid_t match = m->append_resp.match_zxid, last = m->append_resp.last_zxid;

	if (!p)
		return;
	if (m->epoch > c->meta.epoch) {
		cons_become_follower(c, m->epoch, 0);
		return;
	}
	if (c->state != CONS_LEADER || m->epoch != c->meta.epoch)
		return;
	p->last_heard = c->now;
	p->acked = 1;
	if (m->append_resp.read_seq > p->read_ack) {
		/* Any answer in our epoch confirms the leadership (cons_read.c). */
		p->read_ack = m->append_resp.read_seq < c->read_sent
				  ? m->append_resp.read_seq
				  : c->read_sent;
		if (!p->observer)
			cons_read_progress(c);
	}
	if (!m->append_resp.ok) {
		/* match is the peer's newest zxid at or below the prev we sent. */
		if (p->mode == PEER_SNAPSHOT)
			return;
		if (match < p->match) {
			/* Within an epoch a follower never drops an entry it
			 * acknowledged (they are this leader's own, so never
			 * truncated): a hint below p->match says it lost its
			 * state -- a wiped or replaced dataDir -- or is an
			 * answer from an older connection read late. Believing
			 * it costs the second case a resend; ignoring it left
			 * a wiped member unsynced for ever while counted as
			 * synced. Lowering match is safe: the commit point
			 * never goes back, and every other use of match
			 * (transfer, departure, read index) only waits. */
			CONS_TRACE(c, "peer %u lost entries: it has %llx, acknowledged %llx",
				   p->id, (unsigned long long)match,
				   (unsigned long long)p->match);
			p->match = match;
		}
		p->mode = PEER_PROBE;
		p->probe_out = 0;
		p->inflight = 0;
		p->next = match < c->log.base ? match : cons_log_floor(&c->log, match);
		leader_send(c, p, SEND_NEW);
		return;
	}
	if (match > last || last > cons_log_last(&c->log))
		return; /* not an answer about our log */
	switch (p->mode) {
	case PEER_PROBE:
		p->mode = PEER_REPLICATE;
		p->probe_out = 0;
		p->inflight = 0;
		p->next = last;
		break;
	case PEER_REPLICATE:
		if (p->inflight)
			p->inflight--;
		if (last > p->next)
			p->next = last;
		break;
	case PEER_SNAPSHOT:
		if (last < c->log.base)
			return;
		p->mode = PEER_REPLICATE;
		p->inflight = 0;
		p->next = last;
		break;
	}
	if (match > p->match) {
		p->match = match;
		if (!p->observer)
			cons_advance_commit(c);
	}
	leader_send(c, p, SEND_NEW);
}

void cons_leader_tick(struct cons *c)
{
	uint64_t set = cons_self_bit(c);
	unsigned i;

	if (c->now >= c->quorum_check && c->cfg.mutant != 7 && c->cfg.mutant != 11) {
		/* Check quorum, on every tick: a leader that has heard from no
		 * quorum within the last election timeout steps down, so a
		 * minority side stops accepting writes (and answering reads)
		 * about when the majority side may start electing. */
		for (i = 0; i < c->n_peers; i++)
			if (!c->peers[i].observer &&
			    c->peers[i].last_heard + c->cfg.election_timeout_ms > c->now)
				set |= 1ull << c->peers[i].slot;
		if (!cons_quorum(c, set)) {
			CONS_TRACE(c, "lost quorum, stepping down");
			cons_become_follower(c, c->meta.epoch, 0);
			return;
		}
	}
	for (i = 0; i < c->n_peers; i++) {
		struct cons_peer *p = &c->peers[i];

		if (c->now >= p->last_sent + c->cfg.heartbeat_ms)
			leader_send(c, p, SEND_HEARTBEAT);
	}
}
