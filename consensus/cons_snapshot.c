/*
 * cons_snapshot.c - full-state transfer and log compaction (Zab's SNAP).
 *
 * The host owns snapshots: it takes one of its applied state when it likes
 * and tells the core (CONS_EV_COMPACT), which drops the entries it covers.
 * A snapshot only ever holds committed txns, so it never conflicts with any
 * leader's log.
 *
 * Transfer, in chunks so that no snapshot is ever one frame or one buffer
 * and a transfer never holds up heartbeats or appends to other peers: a
 * peer that needs entries compacted away gets the host's newest snapshot.
 * The leader asks its host which one that is (SNAP_SEND, answered by
 * CONS_EV_SNAP_OFFER with its zxid and size), then has it read and send
 * chunks (SNAP_CHUNK: zxid, offset, total, bytes) with at most snap_window
 * in flight. The follower hands each chunk that continues what it has to
 * its host (SNAP_BEGIN, SNAP_WRITE) and answers every chunk with how many
 * bytes it holds in order (SNAP_ACK); a chunk out of order or lost is
 * answered with the same count, and the leader goes back to it (go-back-N:
 * once per offset on a repeated count, as TCP's fast retransmit, and
 * after two heartbeats without progress; never more than once per
 * heartbeat; after four election timeouts
 * without progress it asks its host again, perhaps for a newer snapshot). When every byte
 * is there the follower installs it (SNAP_INSTALL) and, once installed, restarts its log
 * after its zxid and answers the leader like any append, which resumes replication.
 */
#include <string.h>

#include "cons_int.h"

/* ---- the leader's side ---- */

void cons_snap_start(struct cons *c, struct cons_peer *p)
{
	struct cons_action *a;

	if (p->mode == PEER_SNAPSHOT &&
	    c->now < p->snap_at + 4ull * c->cfg.election_timeout_ms)
		return;
	if (!cons_meta_ready(c))
		return;
	p->mode = PEER_SNAPSHOT;
	p->snap_at = c->now;
	p->inflight = 0;
	p->probe_out = 0;
	p->snap_zxid = 0;
	p->snap_total = p->snap_sent = p->snap_acked = 0;
	p->snap_empty = 0;
	CONS_TRACE(c, "snapshot to %u (needs after %llx, log starts after %llx)", p->id,
		   (unsigned long long)p->next, (unsigned long long)c->log.base);
	a = cons_act(c, CONS_ACT_SNAP_SEND, SIZE_MAX);
	if (a)
		a->snap_send.to = p->id;
}

static void chunk(struct cons *c, struct cons_peer *p, uint64_t offset, uint32_t len)
{
	struct cons_action *a = cons_act(c, CONS_ACT_SNAP_CHUNK, SIZE_MAX);

	if (!a)
		return;
	a->snap_chunk.to = p->id;
	a->snap_chunk.zxid = p->snap_zxid;
	a->snap_chunk.offset = offset;
	a->snap_chunk.total = p->snap_total;
	a->snap_chunk.len = len;
	a->snap_chunk.epoch = c->meta.epoch; /* pump checked it is durable */
}

/* Keep up to snap_window chunks in flight. */
static void pump(struct cons *c, struct cons_peer *p)
{
	uint64_t win = (uint64_t)c->cfg.snap_window * c->cfg.snap_chunk;

	if (!p->snap_zxid || !cons_meta_ready(c))
		return;
	if (p->snap_total == 0) {
		if (!p->snap_empty)
			chunk(c, p, 0, 0);
		p->snap_empty = 1;
		return;
	}
	while (p->snap_sent < p->snap_total && p->snap_sent - p->snap_acked < win) {
		uint64_t len = p->snap_total - p->snap_sent;

		if (len > c->cfg.snap_chunk)
			len = c->cfg.snap_chunk;
		chunk(c, p, p->snap_sent, (uint32_t)len);
		p->snap_sent += len;
	}
}

/*
 * Resend from what the peer acknowledged, at most once per `gap` ms: a
 * go-back sends a whole window and every chunk is answered, so going back
 * on every answer that asks for it (a burst of them after a pause, stale
 * ones interleaved with new ones, duplicates) multiplies the traffic
 * without bound (found by the simulator: seed 27 with mutant 4, a storm
 * growing to 50 000 frames per ms).
 */
static void go_back(struct cons *c, struct cons_peer *p, uint64_t gap)
{
	if (p->snap_resent && c->now < p->snap_resent + gap)
		return;
	p->snap_sent = p->snap_acked;
	p->snap_empty = 0;
	p->snap_resent = c->now;
}

void cons_on_snap_offer(struct cons *c, uint32_t to, zxid_t zxid, uint64_t total,
			int status)
{
	struct cons_peer *p = cons_peer(c, to);

	if (!p || c->state != CONS_LEADER || p->mode != PEER_SNAPSHOT || p->snap_zxid)
		return;
	/* No snapshot, or one older than the log's start (the host compacts
	 * only after a durable snapshot, so this is a race): ask again later. */
	if (status || !zxid || zxid < c->log.base)
		return;
	p->snap_zxid = zxid;
	p->snap_total = total;
	p->snap_sent = p->snap_acked = 0;
	p->snap_fast = 0;
	p->snap_resent = 0;
	p->snap_empty = 0;
	p->snap_at = c->now;
	CONS_TRACE(c, "snapshot %llx (%llu bytes) to %u", (unsigned long long)zxid,
		   (unsigned long long)total, to);
	pump(c, p);
}

/* leader_send for a peer in SNAPSHOT mode. */
void cons_snap_send(struct cons *c, struct cons_peer *p, int heartbeat)
{
	uint64_t quiet = p->snap_at > p->snap_resent ? p->snap_at : p->snap_resent;

	cons_snap_start(c, p); /* asks the host again after a long stall */
	if (!p->snap_zxid)
		return;
	if (heartbeat && p->snap_sent > p->snap_acked &&
	    c->now >= quiet + 2ull * c->cfg.heartbeat_ms)
		go_back(c, p, 0); /* nothing acknowledged for a while: resend */
	pump(c, p);
}

void cons_on_snap_ack(struct cons *c, const struct cons_msg *m)
{
	struct cons_peer *p = cons_peer(c, m->from);
	uint64_t next = m->snap_ack.next;

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
	if (p->mode != PEER_SNAPSHOT || !p->snap_zxid ||
	    m->snap_ack.zxid != p->snap_zxid || next > p->snap_total)
		return;
	if (next > p->snap_acked) {
		p->snap_acked = next;
		p->snap_at = c->now; /* progress */
		if (p->snap_sent < next)
			p->snap_sent = next;
	} else if (next == 0 && p->snap_acked) {
		/* The follower started over (a failed write, a new leader). */
		if (p->snap_resent && c->now < p->snap_resent + c->cfg.heartbeat_ms)
			return; /* a burst of them: once per heartbeat */
		p->snap_acked = 0;
		go_back(c, p, 0);
	} else if (next == p->snap_acked && next < p->snap_sent &&
		   p->snap_fast != next + 1) {
		/* The chunk at next was lost or is late: resend from there,
		 * once for this offset (a storm of resends otherwise makes
		 * more repeated counts). */
		p->snap_fast = next + 1;
		go_back(c, p, 1); /* not twice in one burst */
	}
	if (p->snap_sent < p->snap_acked)
		p->snap_sent = p->snap_acked;
	pump(c, p);
}

/* ---- the follower's side ---- */

static void snap_ack(struct cons *c, uint32_t to, zxid_t zxid, uint64_t next)
{
	struct cons_msg r = {.type = CONS_MSG_SNAP_ACK};

	r.snap_ack.zxid = zxid;
	r.snap_ack.next = next;
	cons_send(c, to, &r, SIZE_MAX);
}

void cons_on_snap(struct cons *c, const struct cons_msg *m)
{
	struct cons_msg r = {.type = CONS_MSG_APPEND_RESP};
	struct cons_action *a;
	zxid_t zxid = m->snap.zxid;

	if (m->epoch < c->meta.epoch) {
		cons_send(c, m->from, &r, SIZE_MAX);
		return;
	}
	if (zxid_epoch(zxid) > m->epoch || m->snap.offset > m->snap.total ||
	    m->snap.len > m->snap.total - m->snap.offset)
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
	if (zxid <= c->commit) {
		snap_ack(c, m->from, zxid, m->snap.total); /* no more of it */
		cons_follower_ack(c, 0);
		return;
	}
	if (cons_log_find(&c->log, zxid) >= 0) {
		/* Our log holds the snapshot's zxid, so everything up to it is
		 * the committed history: commit it from the log and keep what
		 * follows (Raft §7), which the leader may count as acked. */
		if (zxid > c->verified)
			c->verified = zxid;
		c->commit = zxid;
		cons_apply(c);
		snap_ack(c, m->from, zxid, m->snap.total);
		cons_follower_ack(c, 0);
		return;
	}
	if (zxid != c->rs_zxid || m->from != c->rs_from || m->snap.total != c->rs_total) {
		if (m->snap.offset != 0) {
			snap_ack(c, m->from, zxid, 0); /* start from the beginning */
			return;
		}
		a = cons_act(c, CONS_ACT_SNAP_BEGIN, SIZE_MAX);
		if (!a)
			return;
		a->snap_install.zxid = zxid;
		a->snap_install.total = m->snap.total;
		c->rs_zxid = zxid;
		c->rs_from = m->from;
		c->rs_total = m->snap.total;
		c->rs_next = 0;
		c->rs_conf_len =
		    m->snap.conf_len <= sizeof(c->rs_conf) ? m->snap.conf_len : 0;
		if (c->rs_conf_len)
			memcpy(c->rs_conf, m->snap.conf, c->rs_conf_len);
		CONS_TRACE(c, "receive snapshot %llx (%llu bytes) from %u",
			   (unsigned long long)zxid, (unsigned long long)m->snap.total,
			   m->from);
	}
	if (m->snap.offset == c->rs_next && m->snap.len) {
		a = cons_act(c, CONS_ACT_SNAP_WRITE, SIZE_MAX);
		if (!a)
			return;
		a->snap_write.zxid = zxid;
		a->snap_write.offset = m->snap.offset;
		a->snap_write.data = m->snap.blob;
		a->snap_write.len = m->snap.len;
		c->rs_next += m->snap.len;
	}
	snap_ack(c, m->from, zxid, c->rs_next);
	if (c->rs_next < c->rs_total)
		return;
	a = cons_act(c, CONS_ACT_SNAP_INSTALL, SIZE_MAX);
	if (!a)
		return;
	CONS_TRACE(c, "install snapshot %llx from %u", (unsigned long long)zxid, m->from);
	a->snap_install.zxid = zxid;
	a->snap_install.total = c->rs_total;
	memcpy(c->in_conf, c->rs_conf, c->rs_conf_len);
	c->in_conf_len = c->rs_conf_len;
	a->snap_install.conf = c->in_conf;
	a->snap_install.conf_len = c->in_conf_len;
	c->installing = 1;
	c->install_zxid = zxid;
	c->rs_zxid = 0;
}

void cons_on_snap_done(struct cons *c, zxid_t zxid, int status)
{
	if (!c->installing) {
		/* A chunk could not be written: start the transfer over. */
		if (status && zxid == c->rs_zxid)
			c->rs_zxid = 0;
		return;
	}
	if (zxid != c->install_zxid)
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
	cons_conf_installed(c);
	cons_follower_ack(c, 0);
}

void cons_on_compact(struct cons *c, zxid_t zxid)
{
	if (zxid > c->applied || zxid <= c->log.base)
		return;
	cons_conf_compact(c, zxid);
	cons_log_compact(&c->log, zxid);
	if (c->stable < zxid)
		c->stable = zxid;
	c->unpersisted = c->log.n;
}
