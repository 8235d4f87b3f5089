/*
 * sim_check.c - the simulator's checker.
 *
 * Safety, checked as it happens (every step that applies, elects or
 * installs):
 *   - at most one leader per epoch;
 *   - a new leader holds the newest committed entry (so no committed zxid
 *     is lost);
 *   - every replica's applied sequence is a prefix of one global sequence
 *     (same zxids, same payloads, in the same order), so a committed zxid
 *     never changes and every replica delivers in the same order;
 *   - zxids strictly increase along every replica's applied sequence;
 *   - an installed snapshot is a prefix of the global sequence;
 *   - a leader cut off from a quorum steps down within an election
 *     timeout and two ticks (check-quorum);
 *   - a txn the leader's host prepared was prepared against the state it
 *     is applied to (its counter value is the next one) and for the zxid
 *     it is committed at (prepare gating on a new leader);
 *   - a restarted server is at least at its durable commit watermark (and,
 *     by the prefix check, never past what is committed);
 *   - the watermark does not lag what is applied once the server is idle:
 *     after a tick that found nothing being written and wrote nothing, the
 *     store's watermark is at least the applied zxid (else a kill -9 of an
 *     idle member would restart it a batch behind);
 *   - membership: every quorum of a newly committed configuration meets
 *     every quorum of the one committed before it; the newest committed
 *     entry is durable on a quorum of the configuration as of it; a
 *     leader's check-quorum is judged by its own configuration; liveness
 *     asks only the members of the committed configuration;
 *   - a read index is no older than any commit acknowledged (applied
 *     anywhere) before the request was issued, and each request is
 *     answered once (linearizable sync, including on a leader paused or
 *     partitioned past an election). An index may name an entry not yet
 *     committed (the leader's stable: followers commit alone up to it,
 *     cons_follower.c); the reader waits until it has applied that far.
 *     One below a committed entry of its own epoch must be committed.
 * Liveness, once the faults stop: a leader is elected, the probe
 * proposals commit on every replica within bounded virtual time, and
 * every server answers a read index.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "sim.h"

void sim_violation(struct sim *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(s->why, sizeof(s->why), fmt, ap);
	va_end(ap);
	s->violations++;
	sim_tracef(s, "VIOLATION: %s", s->why);
	longjmp(s->jmp, 1);
}

static uint64_t mix(uint64_t h, uint64_t v)
{
	h ^= v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
	h *= 0xff51afd7ed558ccdull;
	return h ^ (h >> 33);
}

uint64_t sim_payload_hash(const struct cons_entry *e)
{
	uint64_t h = 1469598103934665603ull ^ e->type;
	uint32_t i;

	for (i = 0; i < e->len; i++)
		h = (h ^ e->data[i]) * 1099511628211ull;
	return h;
}

static int push_global(struct sim *s, zxid_t zxid, uint64_t ph, uint64_t prefix)
{
	if (s->g_n == s->g_cap) {
		size_t cap = s->g_cap ? s->g_cap * 2 : 1024;
		struct sim_gent *ng = realloc(s->g, cap * sizeof(*ng));

		if (!ng)
			return -1;
		s->g = ng;
		s->g_cap = cap;
	}
	s->g[s->g_n++] = (struct sim_gent){zxid, ph, prefix, s->max_lead_epoch};
	return 0;
}

int sim_conf_member(const struct cons_membership *m, uint32_t id)
{
	unsigned i;

	for (i = 0; i < m->n; i++)
		if (m->m[i].id == id)
			return 1;
	for (i = 0; m->joint && i < m->n_old; i++)
		if (m->old[i].id == id)
			return 1;
	return 0;
}

/* One half over the node indices (a node not in it counts as an observer). */
static int half_quorum(const struct sim *s, enum quorum_kind kind,
		       const struct cons_member *m, unsigned n, uint64_t set)
{
	struct cons_member all[SIM_MAX_NODES];
	struct quorum q;
	int i;
	unsigned j;

	for (i = 0; i < s->n; i++) {
		memset(&all[i], 0, sizeof(all[i]));
		all[i].id = (uint32_t)i + 1;
		all[i].observer = 1;
		for (j = 0; j < n; j++)
			if (m[j].id == all[i].id)
				all[i] = m[j];
	}
	if (quorum_init(&q, kind, all, (unsigned)s->n))
		return 0;
	return quorum_contains(&q, set);
}

int sim_conf_quorum(const struct sim *s, const struct cons_membership *m, uint64_t set,
		    int new_half)
{
	if (!half_quorum(s, m->quorum, m->m, m->n, set))
		return 0;
	return new_half || !m->joint ||
	       half_quorum(s, m->old_quorum, m->old, m->n_old, set);
}

/*
 * A configuration newly committed: every quorum of it must intersect every
 * quorum of the one committed before it (else two leaders, or a leader
 * and a lost commit, could each have a quorum). A set and its complement
 * being quorums of the two is the counterexample.
 */
static void check_config(struct sim *s, const struct cons_entry *e)
{
	struct cons_membership m;
	uint64_t full = (1ull << s->n) - 1, a;

	if (cons_membership_decode(e->data, e->len, &m) || m.version != e->zxid)
		sim_violation(s, "committed config %llx does not decode",
			      (unsigned long long)e->zxid);
	for (a = 0; a <= full; a++)
		if (sim_conf_quorum(s, &s->gconf, a, 0) &&
		    sim_conf_quorum(s, &m, full & ~a, 0))
			sim_violation(
			    s,
			    "quorums of consecutive configs %llx and %llx do not "
			    "intersect (%llx and %llx)",
			    (unsigned long long)s->gconf.version,
			    (unsigned long long)m.version, (unsigned long long)a,
			    (unsigned long long)(full & ~a));
	sim_tracef(s, "config %llx committed%s", (unsigned long long)m.version,
		   m.joint ? " (joint)" : "");
	s->gconf = m;
	s->configs_committed++;
}

static uint64_t payload_id(const struct cons_entry *e)
{
	uint64_t id = 0;
	uint32_t i;

	for (i = 0; i < 8 && i < e->len; i++)
		id = id << 8 | e->data[i];
	return id & ~(1ull << 63); /* the "prepared by the leader" mark */
}

/* A request the leader's host prepared carries the zxid it expected. */
static void check_prepared(struct sim *s, const struct cons_entry *e)
{
	zxid_t want = 0;
	uint32_t i;

	if (e->type != CONS_ENTRY_TXN || e->len < 24 || !(e->data[0] & 0x80))
		return;
	for (i = e->len - 8; i < e->len; i++)
		want = want << 8 | e->data[i];
	if (want != e->zxid)
		sim_violation(s, "a txn prepared for zxid %llx was committed at %llx",
			      (unsigned long long)want, (unsigned long long)e->zxid);
}

/*
 * A prepared txn sets the counter to the value it was prepared with, which
 * must be one more than the counter it is applied to: a leader that
 * prepared before applying the txns of earlier epochs repeats a value one
 * of them set (a lost update) or skips one.
 */
static void apply_cas(struct sim_node *n, const struct cons_entry *e)
{
	uint64_t v = 0;
	uint32_t i;

	if (e->type != CONS_ENTRY_TXN || e->len < 24 || !(e->data[0] & 0x80))
		return;
	for (i = e->len - 16; i < e->len - 8; i++)
		v = v << 8 | e->data[i];
	if (v != n->st.cas + 1)
		sim_violation(n->sim,
			      "n%u applies %llx prepared to set the counter to %llu, but "
			      "the counter is %llu: prepared against a stale state",
			      n->id, (unsigned long long)e->zxid, (unsigned long long)v,
			      (unsigned long long)n->st.cas);
	n->st.cas = v;
}

void sim_check_apply(struct sim_node *n, const struct cons_entry *e, size_t cnt)
{
	struct sim *s = n->sim;
	size_t i;
	int k;

	for (i = 0; i < cnt; i++, e++) {
		apply_cas(n, e);
		uint64_t ph = sim_payload_hash(e), pos = n->st.count;
		uint64_t prefix = mix(mix(n->st.hash, e->zxid), ph);

		if (e->zxid <= n->st.zxid)
			sim_violation(s, "n%u applied zxid %llx after %llx", n->id,
				      (unsigned long long)e->zxid,
				      (unsigned long long)n->st.zxid);
		if (pos < s->g_n) {
			if (s->g[pos].zxid != e->zxid || s->g[pos].ph != ph)
				sim_violation(
				    s,
				    "n%u applied %llx at position %llu where the "
				    "committed sequence has %llx",
				    n->id, (unsigned long long)e->zxid,
				    (unsigned long long)pos,
				    (unsigned long long)s->g[pos].zxid);
			if (s->g[pos].prefix != prefix)
				sim_violation(s, "n%u state diverged at %llu", n->id,
					      (unsigned long long)pos);
		} else if (pos == s->g_n) {
			check_prepared(s, e);
			if (e->type == CONS_ENTRY_CONFIG)
				check_config(s, e);
			if (push_global(s, e->zxid, ph, prefix))
				sim_violation(s, "out of memory");
			s->commits++;
			if (e->type == CONS_ENTRY_TXN && s->xfer_first &&
			    payload_id(e) >= s->xfer_first &&
			    payload_id(e) <= s->xfer_last)
				s->xfer_committed++;
			for (k = 0; k < SIM_PROBES; k++)
				if (e->type == CONS_ENTRY_TXN &&
				    payload_id(e) == s->probe_id[k] &&
				    s->probe_pos[k] < 0)
					s->probe_pos[k] = (long)pos;
		} else {
			sim_violation(s, "n%u applied past the committed sequence",
				      n->id);
		}
		n->st.count++;
		n->st.hash = prefix;
		n->st.zxid = e->zxid;
	}
}

void sim_check_leader(struct sim_node *n, uint32_t epoch)
{
	struct sim *s = n->sim;
	const struct cons_entry *e;
	struct cons_status st;
	const struct sim_gent *last;

	if (epoch >= s->l_cap) {
		size_t cap = s->l_cap ? s->l_cap : 64;
		uint32_t *nl;

		while (cap <= epoch)
			cap *= 2;
		nl = realloc(s->leaders, cap * sizeof(*nl));
		if (!nl)
			sim_violation(s, "out of memory");
		memset(nl + s->l_cap, 0, (cap - s->l_cap) * sizeof(*nl));
		s->leaders = nl;
		s->l_cap = cap;
	}
	if (s->leaders[epoch] && s->leaders[epoch] != n->id)
		sim_violation(s, "two leaders in epoch %u: n%u and n%u", epoch,
			      s->leaders[epoch], n->id);
	s->leaders[epoch] = n->id;
	if (epoch > s->max_lead_epoch)
		s->max_lead_epoch = epoch;
	/* Leader completeness: the newest entry committed in an earlier epoch
	 * is in its log. (A candidate paused past later epochs may still win
	 * its old epoch with votes granted before; it can commit nothing.) */
	last = s->g_n ? &s->g[s->g_n - 1] : NULL;
	while (last && last->epoch >= epoch)
		last = last > s->g ? last - 1 : NULL;
	if (!last)
		return;
	cons_status(cons_node_core(n->node), &st);
	if (last->zxid <= st.snap_zxid)
		return;
	e = cons_find(cons_node_core(n->node), last->zxid);
	if (!e || sim_payload_hash(e) != last->ph)
		sim_violation(s, "leader n%u of epoch %u lacks committed %llx", n->id,
			      epoch, (unsigned long long)last->zxid);
}

void sim_check_snapshot(struct sim_node *n, const struct sim_state *st)
{
	struct sim *s = n->sim;

	if (st->count == 0)
		return;
	if (st->count > s->g_n || s->g[st->count - 1].zxid != st->zxid ||
	    s->g[st->count - 1].prefix != st->hash)
		sim_violation(
		    s, "n%u installed a snapshot at %llx that is not a committed prefix",
		    n->id, (unsigned long long)st->zxid);
}

uint64_t sim_read_issue(struct sim *s, struct sim_node *n)
{
	struct sim_read *r;

	if (s->r_n == s->r_cap) {
		size_t cap = s->r_cap ? s->r_cap * 2 : 256;
		struct sim_read *nr = realloc(s->reads, cap * sizeof(*nr));

		if (!nr)
			sim_violation(s, "out of memory");
		s->reads = nr;
		s->r_cap = cap;
	}
	r = &s->reads[s->r_n];
	r->node = n->idx;
	r->floor = s->g_n;
	r->after_heal = s->healed;
	r->done = 0;
	return s->r_n++;
}

/* How many committed entries are below z. */
static size_t below(const struct sim *s, zxid_t z)
{
	size_t lo = 0, hi = s->g_n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (s->g[mid].zxid < z)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}


void sim_check_read(struct sim_node *n, uint64_t token, zxid_t zxid, int status)
{
	struct sim *s = n->sim;
	struct sim_read *r;
	size_t pos;

	if (token >= s->r_n || s->reads[token].node != n->idx)
		sim_violation(s, "n%u answered read %llu it was not asked", n->id,
			      (unsigned long long)token);
	r = &s->reads[token];
	if (r->done)
		sim_violation(s, "n%u answered read %llu twice", n->id,
			      (unsigned long long)token);
	r->done = 1;
	if (status) {
		s->reads_failed++;
		return;
	}
	/* The reader's state will hold every committed entry up to zxid. */
	pos = below(s, zxid);
	if (pos < s->g_n && s->g[pos].zxid == zxid)
		pos++;
	else if (pos < s->g_n && zxid_epoch(s->g[pos].zxid) == zxid_epoch(zxid))
		sim_violation(s, "n%u read index %llx is not a committed zxid", n->id,
			      (unsigned long long)zxid);
	if (pos < r->floor)
		sim_violation(s,
			      "n%u read index %llx is older than %llx, committed before "
			      "the request",
			      n->id, (unsigned long long)zxid,
			      (unsigned long long)s->g[r->floor - 1].zxid);
	s->reads_ok++;
	if (r->after_heal)
		n->read_ok = 1;
}

static int durable_has(const struct sim_node *n, zxid_t z);

/* The clock as the core sees it: it ignores steps back. */
uint64_t sim_node_clock(struct sim_node *n)
{
	uint64_t t = sim_node_now(n);

	if (t > n->clock_max)
		n->clock_max = t;
	return n->clock_max;
}

/*
 * Check-quorum: a leader that has heard nothing from a quorum (counting
 * itself) for an election timeout plus two ticks has stepped down (the
 * core checks at every tick for answers within one timeout); "heard" here
 * is any frame delivered
 * (the core counts only answers in its epoch), so this never accuses a
 * correct leader. Run after each of its ticks.
 */
void sim_check_quorum_heard(struct sim_node *n)
{
	struct sim *s = n->sim;
	uint64_t now = sim_node_clock(n), bound = s->election_ms + 20;
	uint32_t ids[SIM_MAX_NODES];
	struct cons_status st;
	size_t k = 0;
	int j;

	cons_status(cons_node_core(n->node), &st);
	if (st.state != CONS_LEADER || now < n->lead_since + bound)
		return;
	ids[k++] = n->id;
	for (j = 0; j < s->n; j++)
		if (j != n->idx && n->heard[j] + bound > now)
			ids[k++] = s->nodes[j].id;
	/* By the leader's own configuration (non-voters never count). */
	if (!cons_is_quorum(cons_node_core(n->node), ids, k))
		sim_violation(
		    s,
		    "n%u still leads epoch %u without hearing a quorum for %llu "
		    "ms",
		    n->id, st.epoch, (unsigned long long)bound);
}

/* Restart never goes back in time: a server that starts has applied, from
 * inside cons_node_new, everything up to the watermark its store holds
 * (when the durable log reaches it); applying beyond it, or anything not
 * committed, is caught by sim_check_apply. */
void sim_check_restart(struct sim_node *n)
{
	zxid_t mark = n->store.commit;

	if (mark > n->snap.zxid && durable_has(n, mark) && n->st.zxid < mark)
		sim_violation(
		    n->sim, "n%u restarted at %llx, behind its commit watermark %llx",
		    n->id, (unsigned long long)n->st.zxid, (unsigned long long)mark);
}

/* Called after a tick during which the store had nothing queued, before
 * and after: the engine saw no reason to write, so the watermark it wrote
 * last must cover everything applied (cons_persist_mark). */
void sim_check_watermark(struct sim_node *n)
{
	/* A durable snapshot counts as a watermark (restart starts there). */
	if (n->installing || n->failing_disk || n->store.commit >= n->st.zxid ||
	    n->snap.zxid >= n->st.zxid)
		return;
	sim_violation(n->sim, "n%u idle at %llx with its commit watermark at %llx", n->id,
		      (unsigned long long)n->st.zxid,
		      (unsigned long long)n->store.commit);
}

static int durable_has(const struct sim_node *n, zxid_t z)
{
	const struct sim_store *st = &n->store;
	size_t lo = 0, hi = st->n;

	if (z <= st->snap_zxid || z <= n->snap.zxid)
		return 1;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (st->e[mid].zxid < z)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < st->n && st->e[lo].zxid == z;
}

/*
 * After every step: the newest committed entry is on the disks of a
 * quorum; no two live servers lead the same epoch; each core's counters
 * are ordered and its host applied exactly what it says.
 */
void sim_check_step(struct sim *s)
{
	uint64_t set = 0;
	uint32_t lead_epoch[SIM_MAX_NODES];
	int i, j, nl = 0;

	for (i = 0; i < s->n; i++) {
		struct sim_node *n = &s->nodes[i];
		struct cons_status st;

		if (s->g_n && durable_has(n, s->g[s->g_n - 1].zxid))
			set |= 1ull << i;
		if (!n->up)
			continue;
		cons_status(cons_node_core(n->node), &st);
		if (st.applied_zxid > st.commit_zxid || st.commit_zxid > st.last_zxid ||
		    st.stable_zxid > st.last_zxid || st.snap_zxid > st.applied_zxid)
			sim_violation(s, "n%u counters out of order", n->id);
		if (st.applied_zxid == n->installing)
			n->installing = 0;
		if (st.applied_zxid != n->st.zxid && n->st.zxid != n->installing)
			sim_violation(s, "n%u core applied %llx, host %llx", n->id,
				      (unsigned long long)st.applied_zxid,
				      (unsigned long long)n->st.zxid);
		if (st.state == CONS_LEADER) {
			for (j = 0; j < nl; j++)
				if (lead_epoch[j] == st.epoch)
					sim_violation(s, "two live leaders in epoch %u",
						      st.epoch);
			lead_epoch[nl++] = st.epoch;
		}
	}
	/* Of the configuration as of that entry: it was committed under it,
	 * or (when it is joint) under its new half, or later ones that
	 * contain a quorum of either (cons_config.c). */
	if (s->g_n && !sim_conf_quorum(s, &s->gconf, set, 1))
		sim_violation(s, "committed %llx is durable on no quorum",
			      (unsigned long long)s->g[s->g_n - 1].zxid);
}

/* 1 once every probe committed and every replica applied them all. */
int sim_check_live(struct sim *s)
{
	long max = -1;
	int k, i;

	for (k = 0; k < SIM_PROBES; k++) {
		if (s->probe_pos[k] < 0)
			return 0;
		if (s->probe_pos[k] > max)
			max = s->probe_pos[k];
	}
	/* Every member of the committed configuration (a removed server is
	 * no longer told anything). */
	for (i = 0; i < s->n; i++)
		if (sim_conf_member(&s->gconf, s->nodes[i].id) &&
		    (!s->nodes[i].up || s->nodes[i].st.count <= (uint64_t)max ||
		     !s->nodes[i].read_ok))
			return 0;
	return 1;
}
