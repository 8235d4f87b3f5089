/*
 * cons_follower.c - a follower's (and observer's) side of synchronisation
 * and broadcast (Zab phases 2-3; Raft §5.3), and the log writes of every
 * role.
 *
 * An append names the zxid just before its entries. A follower that holds
 * that zxid holds the leader's log up to it (zxids are unique per leader),
 * so it keeps the entries it already has, truncates the first one that
 * differs and everything after (uncommitted proposals of an old leader:
 * Zab's TRUNC), appends the rest and acknowledges once they are durable
 * (persist before acknowledging). A follower that lacks it answers with the
 * newest zxid it holds at or below it, and the leader backs up to there.
 *
 * A follower commits min(leader's commit, newest zxid verified against this
 * leader): it never applies an entry the leader has not shown it to share.
 *
 * It may also commit without waiting for the leader to count acks, when
 * the leader and itself make a quorum (3 members, say): every append and
 * notice names how far the leader's log is durable (stable_zxid), and an
 * entry of the current epoch that is durable on a quorum is committed
 * (Raft §5.4.2: the rule is about where the entry is, not about who
 * counts). A write sent to a follower is then answered once the follower's
 * own flush ends and the leader's notice has arrived, two hops sooner
 * than after its ack went to the leader and the commit notice came back
 * (cons_fast_commit). The leader's read index covers what it has told
 * followers is durable (cons_read.c), so a sync still sees such a write.
 */
#include <errno.h>
#include <stdlib.h>

#include "cons_int.h"

static int push_write(struct cons *c, uint64_t seq, zxid_t last)
{
	if (c->w_n == c->w_cap) {
		size_t cap = c->w_cap ? c->w_cap * 2 : 16, i;
		struct cons_write *nw = malloc(cap * sizeof(*nw));

		if (!nw)
			return -ENOMEM;
		for (i = 0; i < c->w_n; i++)
			nw[i] = c->writes[(c->w_head + i) % c->w_cap];
		free(c->writes);
		c->writes = nw;
		c->w_cap = cap;
		c->w_head = 0;
	}
	c->writes[(c->w_head + c->w_n) % c->w_cap] = (struct cons_write){seq, last};
	c->w_n++;
	return 0;
}

/*
 * Write the log from position pos to its end, after truncating what follows
 * the entry before pos when truncate is set. After a failed write the
 * store's tail is unknown beyond stable, so the next write rewrites from
 * there.
 */
void cons_persist(struct cons *c, int truncate, size_t pos)
{
	struct cons_action *a;

	if (c->resync) {
		size_t s = cons_log_after(&c->log, c->stable);

		if (s < pos)
			pos = s;
		truncate = 1;
	}
	if (pos == c->log.n && !truncate)
		return;
	a = cons_act(c, CONS_ACT_PERSIST_LOG, pos);
	if (!a) {
		c->resync = 1; /* a later write covers these entries */
		return;
	}
	if (push_write(c, c->wseq, cons_log_last(&c->log))) {
		c->n_acts--;
		c->oom = 1;
		c->resync = 1;
		return;
	}
	a->log.seq = c->wseq++;
	a->log.truncate = truncate;
	a->log.truncate_after = pos ? c->log.e[pos - 1].zxid : c->log.base;
	a->log.n = c->log.n - pos;
	/* Every entry up to commit is in the store once this write is (it or
	 * an earlier write in order holds it), so the watermark rides along. */
	a->log.commit_zxid = c->commit;
	if (c->commit > c->mark)
		c->mark = c->commit;
	c->unpersisted = c->log.n;
	c->resync = 0;
}

/*
 * The watermark rides with the entries, so the commit learned after the
 * last batch (from a heartbeat or the leader's next append) would reach the
 * store only with the next batch: a member killed while idle would restart
 * one batch behind. When nothing is being written and the commit has moved
 * past what the store was last told, write it alone: an append of no
 * entries, which the store commits without an fsync of its own (it survives
 * a crash of the process; a power loss may take it back to the last fsync,
 * which only costs a replay from the leader). At most one is queued at a
 * time, behind every entry it covers.
 */
void cons_persist_mark(struct cons *c)
{
	struct cons_action *a;

	if (c->commit <= c->mark || c->w_n || c->resync || c->installing ||
	    c->commit > c->stable || c->cfg.mutant == 12)
		return;
	a = cons_act(c, CONS_ACT_PERSIST_LOG, SIZE_MAX);
	if (!a)
		return;
	if (push_write(c, c->wseq, c->stable)) {
		c->n_acts--;
		c->oom = 1;
		return;
	}
	a->log.seq = c->wseq++;
	a->log.truncate = 0;
	a->log.truncate_after = 0;
	a->log.entries = NULL;
	a->log.n = 0;
	a->log.commit_zxid = c->commit;
	c->mark = c->commit;
}

/*
 * Answer the leader with what this member holds. A quiet answer is one the
 * leader did not ask for: after a commit notice, or after a write that made
 * nothing newer durable (a watermark). It is left out when it would repeat,
 * word for word, an answer sent to this leader less than half a heartbeat
 * ago: every commit drew one such echo from every follower, a message and
 * a wake-up of the leader per follower per commit that told it nothing.
 * Safety never rests on an answer arriving (they may be lost); liveness
 * does not either: a heartbeat half an interval later is answered.
 */
void cons_follower_ack(struct cons *c, int quiet)
{
	struct cons_msg r = {.type = CONS_MSG_APPEND_RESP};

	if (!c->leader || c->state == CONS_LEADER || c->installing)
		return;
	r.append_resp.ok = 1;
	r.append_resp.last_zxid = c->verified;
	r.append_resp.match_zxid = c->stable < c->verified ? c->stable : c->verified;
	if (c->cfg.mutant == 2)
		r.append_resp.match_zxid = c->verified;
	if (quiet && c->acked.to == c->leader && c->acked.epoch == c->meta.epoch &&
	    c->acked.last == r.append_resp.last_zxid &&
	    c->acked.match == r.append_resp.match_zxid &&
	    c->acked.read_seq == c->lead_ctx &&
	    c->now < c->acked.at + c->cfg.heartbeat_ms / 2)
		return;
	cons_send(c, c->leader, &r, SIZE_MAX);
	if (!cons_meta_ready(c))
		return; /* not sent */
	c->acked.to = c->leader;
	c->acked.epoch = c->meta.epoch;
	c->acked.last = r.append_resp.last_zxid;
	c->acked.match = r.append_resp.match_zxid;
	c->acked.read_seq = c->lead_ctx;
	c->acked.at = c->now;
}

/*
 * Commit what is durable both here and on the leader, when the two of us
 * are a quorum: min(leader's stable, ours, verified) is an entry of the
 * leader's log (ours equals it up to verified) on disk on both. Only an
 * entry of the current epoch commits this way, as on the leader (an older
 * one on a quorum may still be overwritten: Raft's figure 8). Without that
 * rule a new leader's first append, naming its stable before its epoch
 * entry is durable, would commit here the old epoch's tail, which a
 * candidate with a newer tail can still win votes over. (The simulator
 * did not catch that planted bug in 6000 seeds: the window is one
 * append wide. It catches a read index that misses these commits,
 * mutant 15.)
 */
void cons_fast_commit(struct cons *c)
{
	struct cons_peer *p;
	zxid_t z;

	if (c->state != CONS_FOLLOWER || c->observer || !c->leader || c->installing)
		return;
	z = c->lead_stable < c->stable ? c->lead_stable : c->stable;
	if (c->verified < z)
		z = c->verified;
	if (z <= c->commit || zxid_epoch(z) != c->meta.epoch || !cons_log_has(&c->log, z))
		return;
	p = cons_peer(c, c->leader);
	if (!p || !cons_quorum(c, cons_self_bit(c) | 1ull << p->slot))
		return;
	c->commit = z;
	cons_apply(c);
}

void cons_on_log_done(struct cons *c, uint64_t seq, int status)
{
	struct cons_write w;

	if (seq < c->wvalid || !c->w_n || c->writes[c->w_head].seq != seq)
		return;
	w = c->writes[c->w_head];
	c->w_head = (c->w_head + 1) % c->w_cap;
	c->w_n--;
	if (status) {
		/* The store fails what is queued behind this write; forget
		 * those and rewrite from the last durable entry on a tick. */
		CONS_TRACE(c, "log write %llu failed (%d)", (unsigned long long)seq,
			   status);
		c->wvalid = c->wseq;
		c->w_n = 0;
		c->resync = 1;
		/* A leader that cannot write should not hold the cluster up:
		 * step down; with a broken disk it cannot persist a vote either,
		 * so it cannot come back until the disk does. */
		if (c->state == CONS_LEADER) {
			cons_become_follower(c, c->meta.epoch, 0);
			/* A full disk fails every leadership the same way:
			 * without a back-off a lone member stood again every
			 * election timeout (30 ms standalone), its epoch
			 * climbing, its log filling with role changes. Wait
			 * twice as long after each failure, up to 64 timeouts;
			 * a durable write resets it. */
			if (c->write_fails < 6)
				c->write_fails++;
			c->deadline += (uint64_t)c->cfg.election_timeout_ms *
				       ((1u << c->write_fails) - 1);
		}
		return;
	}
	c->write_fails = 0;
	if (w.last > c->stable && cons_log_has(&c->log, w.last))
		c->stable = w.last;
	if (c->state == CONS_LEADER) {
		cons_advance_commit(c);
		cons_leader_stable(c);
	} else {
		cons_fast_commit(c);
		cons_follower_ack(c, 1);
	}
}

static int valid_entries(const struct cons_msg *m)
{
	zxid_t prev = m->append.prev_zxid;
	uint32_t i;

	for (i = 0; i < m->append.n; i++) {
		const struct cons_entry *e = &m->append.entries[i];

		if (e->zxid <= prev || zxid_epoch(e->zxid) > m->epoch ||
		    (e->type != CONS_ENTRY_TXN && e->type != CONS_ENTRY_EPOCH &&
		     e->type != CONS_ENTRY_CONFIG) ||
		    (e->type == CONS_ENTRY_CONFIG && !cons_conf_entry_ok(e)) ||
		    e->len > CONS_MAX_PAYLOAD)
			return 0;
		prev = e->zxid;
	}
	return 1;
}

void cons_on_append(struct cons *c, const struct cons_msg *m)
{
	struct cons_msg r = {.type = CONS_MSG_APPEND_RESP};
	const struct cons_entry *e = m->append.entries;
	zxid_t prev = m->append.prev_zxid, mlast, nc;
	uint32_t i = 0, n = m->append.n;
	size_t pos, first;
	int trunc = 0, wrote = 0, quiet;

	if (m->epoch < c->meta.epoch) {
		cons_send(c, m->from, &r, SIZE_MAX); /* tells it our epoch */
		return;
	}
	if (!valid_entries(m))
		return;
	/* One leader per epoch: a second one is a safety violation. */
	CONS_INVARIANT(!(c->state == CONS_LEADER && m->epoch == c->meta.epoch));
	if (m->epoch > c->meta.epoch || c->leader != m->from ||
	    c->state == CONS_CANDIDATE)
		cons_become_follower(c, m->epoch, m->from);
	c->heard_leader = c->now;
	c->prevoting = 0;
	cons_reset_deadline(c);
	if (m->append.read_seq > c->lead_ctx)
		c->lead_ctx = m->append.read_seq;
	if (c->installing)
		return;
	if (!cons_log_has(&c->log, prev)) {
		r.append_resp.match_zxid = cons_log_floor(&c->log, prev);
		cons_send(c, m->from, &r, SIZE_MAX);
		return;
	}
	pos = prev <= c->log.base ? 0 : (size_t)cons_log_find(&c->log, prev) + 1;
	while (i < n && e[i].zxid <= c->log.base)
		i++;
	while (i < n && pos < c->log.n && c->log.e[pos].zxid == e[i].zxid) {
		i++;
		pos++;
	}
	if (i < n) {
		if (pos < c->log.n) {
			CONS_INVARIANT(c->log.e[pos].zxid > c->commit);
			CONS_TRACE(c, "truncate after %llx (%zu entries)",
				   (unsigned long long)(pos ? c->log.e[pos - 1].zxid
							    : c->log.base),
				   c->log.n - pos);
			cons_log_truncate(&c->log, pos);
			trunc = 1;
			if (c->stable > cons_log_last(&c->log))
				c->stable = cons_log_last(&c->log);
			if (c->verified > cons_log_last(&c->log))
				c->verified = cons_log_last(&c->log);
			cons_conf_sync(c);
		}
		first = pos;
		for (; i < n; i++)
			if (cons_log_append(&c->log, e[i].zxid, e[i].type, e[i].data,
					    e[i].len)) {
				c->oom = 1;
				break;
			}
		cons_persist(c, trunc, first);
		cons_conf_sync(c);
		wrote = 1;
	}
	mlast = n ? e[n - 1].zxid : prev;
	if (mlast > c->verified && cons_log_has(&c->log, mlast))
		c->verified = mlast;
	if (m->append.stable_zxid > c->lead_stable)
		c->lead_stable = m->append.stable_zxid;
	nc = m->append.commit_zxid < c->verified ? m->append.commit_zxid : c->verified;
	/* New entries are acknowledged when durable (cons_on_log_done). A
	 * notice (of the commit, or of the leader's stable) or an append that
	 * only moved the commit may be answered quietly. A heartbeat or probe
	 * always gets its answer. */
	quiet = !n && (m->append.notice || nc > c->commit);
	if (nc > c->commit) {
		c->commit = nc;
		cons_apply(c);
	}
	cons_fast_commit(c);
	if (!wrote)
		cons_follower_ack(c, quiet);
}
