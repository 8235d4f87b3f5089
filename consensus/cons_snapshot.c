/*
 * cons_snapshot.c - full-state transfer and log compaction (Zab's SNAP).
 *
 * The host owns snapshots: it takes one of its applied state when it likes
 * and tells the core (CONS_EV_COMPACT), which drops the entries it covers.
 * A peer that needs entries compacted away gets the host's newest snapshot
 * (SNAP_SEND). A follower hands a received snapshot to its host
 * (SNAP_INSTALL) and, once installed, restarts its log after its zxid. A
 * snapshot only ever holds committed txns, so it never conflicts with any
 * leader's log.
 */
#include "cons_int.h"

void cons_on_snap(struct cons *c, const struct cons_msg *m)
{
	struct cons_msg r = {.type = CONS_MSG_APPEND_RESP};
	struct cons_action *a;

	if (m->epoch < c->meta.epoch) {
		cons_send(c, m->from, &r, SIZE_MAX);
		return;
	}
	if (zxid_epoch(m->snap.zxid) > m->epoch)
		return;
	CONS_INVARIANT(!(c->state == CONS_LEADER && m->epoch == c->meta.epoch));
	if (m->epoch > c->meta.epoch || c->leader != m->from ||
	    c->state == CONS_CANDIDATE)
		cons_become_follower(c, m->epoch, m->from);
	c->heard_leader = c->now;
	c->prevoting = 0;
	cons_reset_deadline(c);
	if (c->installing)
		return;
	if (m->snap.zxid <= c->commit) {
		cons_follower_ack(c);
		return;
	}
	if (cons_log_find(&c->log, m->snap.zxid) >= 0) {
		/* Our log holds the snapshot's zxid, so everything up to it is
		 * the committed history: commit it from the log and keep what
		 * follows (Raft §7), which the leader may count as acked. */
		if (m->snap.zxid > c->verified)
			c->verified = m->snap.zxid;
		c->commit = m->snap.zxid;
		cons_apply(c);
		cons_follower_ack(c);
		return;
	}
	a = cons_act(c, CONS_ACT_SNAP_INSTALL, SIZE_MAX);
	if (!a)
		return;
	CONS_TRACE(c, "install snapshot %llx from %u", (unsigned long long)m->snap.zxid,
		   m->from);
	a->snap_install.zxid = m->snap.zxid;
	a->snap_install.blob = m->snap.blob;
	a->snap_install.len = m->snap.len;
	c->installing = 1;
	c->install_zxid = m->snap.zxid;
}

void cons_on_snap_done(struct cons *c, zxid_t zxid, int status)
{
	if (!c->installing || zxid != c->install_zxid)
		return;
	c->installing = 0;
	if (status)
		return;
	CONS_INVARIANT(zxid > c->commit);
	cons_log_reset(&c->log, zxid);
	c->stable = c->verified = c->commit = c->applied = zxid;
	c->unpersisted = 0;
	/* The store was reset behind every earlier write. */
	c->wvalid = c->wseq;
	c->w_n = 0;
	c->resync = 0;
	cons_follower_ack(c);
}

void cons_on_compact(struct cons *c, zxid_t zxid)
{
	if (zxid > c->applied || zxid <= c->log.base)
		return;
	cons_log_compact(&c->log, zxid);
	if (c->stable < zxid)
		c->stable = zxid;
	c->unpersisted = c->log.n;
}
