/*
 * cons_config.c - membership changes at runtime by joint consensus (Raft
 * §4.3; Ongaro's thesis §4.3, "Arbitrary configuration changes using
 * joint consensus"), which allows ZooKeeper's reconfig in full: a whole
 * new member list, participants and observers swapped, groups and
 * weights changed, all in one change.
 *
 * CONFIGURATIONS ARE LOG ENTRIES (CONS_ENTRY_CONFIG, encoded by
 * cons_membership_encode in codec.c). Every server uses the newest
 * configuration in its log, committed or not (Raft §4.1): for elections
 * (the votes a candidate counts, whether it may stand at all), for the
 * leader's commit rule and check-quorum, and for read index rounds. A
 * configuration's version is the zxid of its entry (ZooKeeper's
 * version=); the static one of cons_config is version 0 until a change.
 * The configuration as of a snapshot travels with it (SNAP chunk 0) and is
 * stored with it by the host (cons_boot.conf), so a restart finds it.
 *
 * THE CHANGE (leader only, CONS_EV_RECONFIG with the whole new list and
 * ZooKeeper's fromConfig version check):
 *   1. catch-up: the new voters are replicated to as learners (counted in
 *      no quorum) until each holds the log up to the commit point, so that
 *      the change does not stall writes while they fetch the log or a
 *      snapshot (Raft §4.2.1); after ten election timeouts it fails.
 *   2. the joint configuration C(old,new) is appended: from then on every
 *      decision needs a quorum of old AND a quorum of new.
 *   3. once C(old,new) is committed, C(new) is appended; once C(new) is
 *      committed the change is done (CONS_ACT_CONFIG status 0 everywhere)
 *      and a leader that is not a voter of C(new) steps down.
 * A new leader that finds a committed C(old,new) in force appends C(new)
 * itself; one that finds it uncommitted commits it with its epoch entry.
 *
 * SAFETY ARGUMENT. Two decisions (elections, commits) can only conflict
 * if they were made by disjoint sets of voters. Let C1, C2 be consecutive
 * configurations in a log. (a) Non-joint C(old) -> joint C(old,new): a
 * quorum of C(old,new) contains a quorum of C(old), so it meets every
 * quorum of C(old) (quorum.h: any two quorums of one system intersect).
 * (b) C(old,new) -> C(new): likewise a quorum of C(old,new) contains one of
 * C(new). So any decision in one configuration and any decision in the
 * next share a voter. Moreover a configuration is appended only when the
 * one before it is committed (one change in flight), so by the time
 * C(new) exists, C(old,new) is on a quorum of both halves, and no server
 * whose log lacks C(old,new) can win an election (a quorum of C(old)
 * and of C(new) would refuse it: their logs are newer) -- so no leader
 * decides by C(old) alone once C(new) can decide alone (Raft §4.3).
 * A new leader may start a change only after committing an entry of its
 * epoch (its epoch entry: PREPARE_READY), so a change of a deposed leader
 * that never committed cannot be overtaken by a second change (the bug
 * in single-server changes found in 2015, thesis errata).
 * The rules are checked as fatal invariants wherever a configuration is
 * adopted from a log (conf_step_ok): a joint one follows the non-joint one
 * that is its old half, a non-joint one follows the joint one whose new
 * half it is; and the leader appends one only over a committed one.
 * A removed server never counts: quorums are computed only over the
 * voters of the configuration in force, masked by quorum_contains.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cons_int.h"

#define CHG_TIMEOUTS 10 /* election timeouts a learner has to catch up */

static const struct cons_member *find(const struct cons_member *m, unsigned n,
				      uint32_t id)
{
	unsigned i;

	for (i = 0; i < n; i++)
		if (m[i].id == id)
			return &m[i];
	return NULL;
}

static int is_voter(const struct cons_member *m, unsigned n, uint32_t id)
{
	const struct cons_member *x = find(m, n, id);

	return x && !x->observer;
}

int cons_membership_check(const struct cons_membership *m)
{
	struct quorum q;

	if (m->n == 0 || m->n > CONS_MAX_MEMBERS ||
	    quorum_init(&q, m->quorum, m->m, m->n))
		return -EINVAL;
	if (!m->joint)
		return m->n_old == 0 ? 0 : -EINVAL;
	if (m->n_old == 0 || m->n_old > CONS_MAX_MEMBERS ||
	    quorum_init(&q, m->old_quorum, m->old, m->n_old))
		return -EINVAL;
	{
		unsigned i, u = m->n;

		for (i = 0; i < m->n_old; i++)
			if (!find(m->m, m->n, m->old[i].id))
				u++;
		if (u > CONS_MAX_MEMBERS)
			return -EINVAL;
	}
	return 0;
}

/* The same members (as sets), roles, groups and weights, and system. */
static int same_list(enum quorum_kind ka, const struct cons_member *a, unsigned na,
		     enum quorum_kind kb, const struct cons_member *b, unsigned nb)
{
	unsigned i;

	if (ka != kb || na != nb)
		return 0;
	for (i = 0; i < na; i++) {
		const struct cons_member *x = find(b, nb, a[i].id);

		if (!x || x->observer != a[i].observer || x->group != a[i].group ||
		    x->weight != a[i].weight)
			return 0;
	}
	return 1;
}

/* May configuration next follow prev in a log? (The safety argument.) */
static int conf_step_ok(const struct cons *c, const struct cons_membership *prev,
			const struct cons_membership *next)
{
	if (c->cfg.mutant == 9)
		return 1;
	if (next->joint)
		return !prev->joint &&
		       same_list(prev->quorum, prev->m, prev->n, next->old_quorum,
				 next->old, next->n_old);
	return prev->joint &&
	       same_list(prev->quorum, prev->m, prev->n, next->quorum, next->m, next->n);
}

int cons_quorum(const struct cons *c, uint64_t set)
{
	return quorum_contains(&c->q, set) &&
	       (!c->conf.joint || quorum_contains(&c->q_old, set));
}

uint64_t cons_self_bit(const struct cons *c)
{
	return c->self_slot < 0 ? 0 : 1ull << c->self_slot;
}

/*
 * Raft §4.1 (thesis §4.2.2): a server answers vote requests whatever its
 * own configuration says (the candidate's decides whom it counts): a
 * voter promoted by a configuration it has not received yet must be able
 * to elect the leader that will send it. And a server whose newest
 * configuration leaves it out may still be needed while that
 * configuration is uncommitted -- the leader of C(old,new) that C(new)
 * removes, or the voters of the old half that hold C(new) while the one
 * voter of C(new) lacks it -- so until then it may stand (counting only
 * the voters of its own configuration). Once it knows the configuration
 * committed it never stands, and no candidate that could win counts it: a
 * quorum of C(new) holds C(new) and refuses any candidate whose log lacks
 * it (a removed member never counts).
 */
int cons_may_vote(const struct cons *c)
{
	(void)c;
	return 1;
}

int cons_may_stand(const struct cons *c)
{
	return !c->observer || (c->conf.version > c->commit && !c->conf.joint);
}

enum cons_state cons_idle_state(const struct cons *c)
{
	return c->removed ? CONS_REMOVED : c->observer ? CONS_OBSERVER : CONS_FOLLOWER;
}

/*
 * Rebuild members[], the quorums and the peers from conf (and the
 * learners of a change in catch-up), keeping the progress of peers that
 * stay. A leader keeps telling removed peers until they hold conf.
 */
static void conf_apply(struct cons *c)
{
	struct cons_member u[CONS_MAX_MEMBERS], qm[CONS_MAX_MEMBERS];
	struct cons_peer old[CONS_MAX_MEMBERS];
	const struct cons_membership *cf = &c->conf;
	unsigned n = 0, i, n_old_peers = c->n_peers;
	int was_voter = !c->observer, rc;

	for (i = 0; i < cf->n; i++)
		u[n++] = cf->m[i];
	for (i = 0; cf->joint && i < cf->n_old; i++)
		if (!find(u, n, cf->old[i].id))
			u[n++] = cf->old[i];
	if (c->state == CONS_LEADER && c->chg == CHG_CATCHUP)
		for (i = 0; i < c->chg_to.n && n < CONS_MAX_MEMBERS; i++)
			if (!find(u, n, c->chg_to.m[i].id)) {
				u[n] = c->chg_to.m[i];
				u[n++].observer = 1; /* a learner for now */
			}
	for (i = 0; i < n; i++) {
		qm[i] = u[i];
		qm[i].observer = !is_voter(cf->m, cf->n, u[i].id);
		u[i].observer = qm[i].observer &&
				!(cf->joint && is_voter(cf->old, cf->n_old, u[i].id));
	}
	rc = quorum_init(&c->q, cf->quorum, qm, n);
	CONS_INVARIANT(rc == 0);
	if (cf->joint) {
		for (i = 0; i < n; i++) {
			const struct cons_member *x = find(cf->old, cf->n_old, u[i].id);

			qm[i] = x ? *x : u[i];
			qm[i].observer = !x || x->observer;
		}
		rc = quorum_init(&c->q_old, cf->old_quorum, qm, n);
		CONS_INVARIANT(rc == 0);
	}
	memcpy(c->members, u, n * sizeof(u[0]));
	c->cfg.n_members = n;
	c->self_slot = -1;
	for (i = 0; i < n; i++)
		if (u[i].id == c->cfg.self)
			c->self_slot = (int)i;
	c->removed = c->self_slot < 0;
	c->observer = c->removed || u[c->self_slot].observer;

	memcpy(old, c->peers, n_old_peers * sizeof(old[0]));
	c->n_peers = 0;
	c->heard_empty = 0; /* slots are dealt again */
	for (i = 0; i < n; i++) {
		struct cons_peer *p;
		unsigned j;

		if (u[i].id == c->cfg.self)
			continue;
		p = &c->peers[c->n_peers++];
		for (j = 0; j < n_old_peers; j++)
			if (old[j].id == u[i].id)
				break;
		if (j < n_old_peers) {
			*p = old[j];
		} else {
			memset(p, 0, sizeof(*p));
			p->id = u[i].id;
			p->mode = PEER_PROBE;
			p->next = cons_log_last(&c->log);
			p->acked = 1;
			p->last_heard = c->now;
		}
		p->slot = (int)i;
		p->observer = u[i].observer;
		p->departing = 0;
	}
	for (i = 0; c->state == CONS_LEADER && i < n_old_peers; i++) {
		struct cons_peer *p;

		if (find(u, n, old[i].id) || old[i].match >= cf->version ||
		    c->n_peers >= CONS_MAX_MEMBERS)
			continue;
		p = &c->peers[c->n_peers++];
		*p = old[i];
		p->slot = -1;
		p->observer = 1;
		p->departing = 1;
	}
	c->votes = c->prevotes = 0;
	c->prevoting = 0;
	if (c->state == CONS_CANDIDATE && !cons_may_stand(c))
		cons_become_follower(c, c->meta.epoch, 0);
	else if (c->state != CONS_LEADER && c->state != CONS_CANDIDATE &&
		 (was_voter != !c->observer || c->state != cons_idle_state(c)))
		cons_set_role(c, cons_idle_state(c), c->leader);
	CONS_TRACE(c, "config %llx%s: %u members, %s", (unsigned long long)cf->version,
		   cf->joint ? " (joint)" : "", n,
		   c->removed	 ? "removed"
		   : c->observer ? "not voting"
				 : "voting");
}

static int set_base(struct cons *c, const struct cons_membership *m)
{
	uint8_t *enc = malloc(CONS_MEMBERSHIP_MAX);

	if (!enc)
		return -ENOMEM;
	free(c->base_enc);
	c->base_enc = enc;
	c->base_enc_len = (uint32_t)cons_membership_encode(m, enc);
	if (&c->base_conf != m)
		c->base_conf = *m;
	return 0;
}

int cons_conf_init(struct cons *c, const struct cons_boot *boot)
{
	struct cons_membership *s = &c->static_conf;
	int rc;

	memset(s, 0, sizeof(*s));
	s->quorum = c->cfg.quorum;
	s->n = c->cfg.n_members;
	memcpy(s->m, c->cfg.members, s->n * sizeof(s->m[0]));
	if (cons_membership_check(s))
		return -EINVAL;
	if (boot && boot->conf_len) {
		if (cons_membership_decode(boot->conf, boot->conf_len, &c->base_conf))
			return -EINVAL;
	} else {
		c->base_conf = *s;
	}
	rc = set_base(c, &c->base_conf);
	if (rc)
		return rc;
	c->conf = c->base_conf;
	c->conf_scan = c->log.base;
	c->conf_reported = c->conf.version;
	c->self_slot = -1;
	conf_apply(c);
	cons_conf_sync(c);
	c->conf_reported = c->conf.joint ? c->base_conf.version : c->conf.version;
	/* A server must know itself a member unless a log or snapshot told
	 * it otherwise (then it starts removed, and says so). */
	if (c->removed && !(boot && boot->conf_len) && c->conf.version == 0)
		return -EINVAL;
	c->state = c->role_state = cons_idle_state(c);
	return 0;
}

void cons_conf_free(struct cons *c)
{
	free(c->base_enc);
	c->base_enc = NULL;
}

static int decode_entry(const struct cons_entry *e, struct cons_membership *out)
{
	if (cons_membership_decode(e->data, e->len, out))
		return -EINVAL;
	return out->version == e->zxid ? 0 : -EINVAL;
}

int cons_conf_entry_ok(const struct cons_entry *e)
{
	struct cons_membership m;

	return decode_entry(e, &m) == 0;
}

/*
 * Make the newest configuration in the log the one in force. Called after
 * the log grew or was truncated; only the entries after conf_scan are
 * looked at, unless the one in force was truncated away.
 */
void cons_conf_sync(struct cons *c)
{
	zxid_t last = cons_log_last(&c->log), was = c->conf.version;
	uint8_t was_joint = c->conf.joint;
	struct cons_membership m;
	size_t pos, i;
	long k;

	if (c->conf_scan > last)
		c->conf_scan = last;
	if (c->conf_scan < c->log.base)
		c->conf_scan = c->log.base;
	pos = cons_log_after(&c->log, c->conf_scan);
	if (c->conf.version > c->conf_scan) {
		/* Truncated (an uncommitted change of a deposed leader). */
		CONS_INVARIANT(c->conf.version > c->commit);
		for (k = (long)pos - 1; k >= 0; k--)
			if (c->log.e[k].type == CONS_ENTRY_CONFIG)
				break;
		if (k >= 0) {
			int rc = decode_entry(&c->log.e[k], &c->conf);

			CONS_INVARIANT(rc == 0);
		} else {
			c->conf = c->base_conf;
		}
	}
	for (i = pos; i < c->log.n; i++) {
		if (c->log.e[i].type != CONS_ENTRY_CONFIG)
			continue;
		k = decode_entry(&c->log.e[i], &m);
		CONS_INVARIANT(k == 0);
		CONS_INVARIANT(conf_step_ok(c, &c->conf, &m));
		c->conf = m;
	}
	c->conf_scan = last;
	if (c->conf.version != was || c->conf.joint != was_joint)
		conf_apply(c);
}

static void report(struct cons *c, zxid_t version, int status)
{
	struct cons_action *a = cons_act(c, CONS_ACT_CONFIG, SIZE_MAX);

	if (!a)
		return;
	a->config.version = version;
	a->config.status = status;
}

int cons_on_reconfig(struct cons *c, const struct cons_membership *to, zxid_t from)
{
	struct cons_membership t;

	if (c->state != CONS_LEADER)
		return CONS_ENOTLEADER;
	if (!to)
		return -EINVAL;
	t = *to;
	t.version = 0;
	t.joint = 0;
	t.n_old = 0;
	if (cons_membership_check(&t))
		return -EINVAL;
	if (from != (zxid_t)-1 && from != c->conf.version)
		return -ESTALE;
	if (!c->prep_ready || c->chg || c->conf.joint || c->conf.version > c->commit)
		return -EBUSY;
	/* The joint configuration must fit: old and new together. */
	{
		struct cons_membership j = t;

		j.joint = 1;
		j.old_quorum = c->conf.quorum;
		j.n_old = c->conf.n;
		memcpy(j.old, c->conf.m, j.n_old * sizeof(j.old[0]));
		if (cons_membership_check(&j))
			return -EINVAL;
	}
	c->chg_to = t;
	c->chg = CHG_CATCHUP;
	c->chg_deadline = c->now + (uint64_t)CHG_TIMEOUTS * c->cfg.election_timeout_ms;
	CONS_TRACE(c, "reconfig from %llx: %u members",
		   (unsigned long long)c->conf.version, t.n);
	conf_apply(c); /* the learners */
	return 0;
}

/* Append a configuration as the leader and put it in force. */
static int append_conf(struct cons *c, struct cons_membership *m)
{
	uint8_t enc[CONS_MEMBERSHIP_MAX];
	size_t len;

	/* One change at a time: the one in force is committed. */
	CONS_INVARIANT(c->conf.version <= c->commit);
	CONS_INVARIANT(conf_step_ok(c, &c->conf, m));
	if (c->counter >= UINT32_MAX - 1)
		return -ERANGE;
	m->version = zxid_make(c->meta.epoch, c->counter + 1);
	len = cons_membership_encode(m, enc);
	if (cons_log_append(&c->log, m->version, CONS_ENTRY_CONFIG, enc, (uint32_t)len)) {
		c->oom = 1;
		return -ENOMEM;
	}
	c->counter++;
	cons_conf_sync(c);
	return 0;
}

static void fail_change(struct cons *c, int status)
{
	c->chg = CHG_NONE;
	report(c, 0, status);
	conf_apply(c); /* drop the learners */
}

static int caught_up(struct cons *c)
{
	unsigned i;

	for (i = 0; i < c->chg_to.n; i++) {
		const struct cons_member *x = &c->chg_to.m[i];
		struct cons_peer *p;

		if (x->observer || x->id == c->cfg.self ||
		    is_voter(c->conf.m, c->conf.n, x->id))
			continue;
		p = cons_peer(c, x->id);
		if (!p || p->mode != PEER_REPLICATE || p->match < c->commit)
			return 0;
	}
	return 1;
}

/* Drive a change; called at the end of every step of a leader. */
void cons_conf_leader(struct cons *c)
{
	struct cons_membership m;

	if (c->state != CONS_LEADER || !c->prep_ready)
		return;
	switch (c->chg) {
	case CHG_NONE:
		/* Finish a change a deposed leader left joint and committed. */
		if (!c->conf.joint || c->conf.version > c->commit)
			return;
		memset(&m, 0, sizeof(m));
		m.quorum = c->conf.quorum;
		m.n = c->conf.n;
		memcpy(m.m, c->conf.m, m.n * sizeof(m.m[0]));
		if (append_conf(c, &m) == 0)
			c->chg = CHG_NEW;
		return;
	case CHG_CATCHUP:
		if (c->now >= c->chg_deadline) {
			CONS_TRACE(c, "reconfig: learners did not catch up");
			fail_change(c, -ETIMEDOUT);
			return;
		}
		if (!caught_up(c))
			return;
		m = c->chg_to;
		if (c->cfg.mutant != 9) {
			/* The joint configuration: new half, old half. */
			m.joint = 1;
			m.old_quorum = c->conf.quorum;
			m.n_old = c->conf.n;
			memcpy(m.old, c->conf.m, m.n_old * sizeof(m.old[0]));
		}
		c->chg = m.joint ? CHG_JOINT : CHG_NEW;
		if (append_conf(c, &m))
			fail_change(c, -ENOMEM);
		return;
	case CHG_JOINT:
		if (c->conf.version > c->commit)
			return;
		m = c->chg_to;
		if (append_conf(c, &m) == 0)
			c->chg = CHG_NEW;
		return;
	default:
		return;
	}
}

/* The commit point advanced: report a committed configuration, end the
 * change, and have a leader that no longer votes step down. */
void cons_conf_committed(struct cons *c)
{
	if (c->conf.version > c->commit || c->conf.joint ||
	    c->conf.version <= c->conf_reported)
		return;
	c->conf_reported = c->conf.version;
	CONS_TRACE(c, "config %llx committed", (unsigned long long)c->conf.version);
	report(c, c->conf.version, 0);
	if (c->state != CONS_LEADER)
		return;
	c->chg = CHG_NONE;
	if (c->observer)
		cons_become_follower(c, c->meta.epoch, 0);
}

void cons_conf_lost_lead(struct cons *c)
{
	if (c->chg == CHG_NONE)
		return;
	c->chg = CHG_NONE;
	report(c, 0, CONS_ENOTLEADER);
}

/* Before compacting up to zxid: the configuration as of it becomes the base. */
void cons_conf_compact(struct cons *c, zxid_t zxid)
{
	long k;

	for (k = (long)cons_log_after(&c->log, zxid) - 1; k >= 0; k--)
		if (c->log.e[k].type == CONS_ENTRY_CONFIG)
			break;
	if (k < 0)
		return;
	if (decode_entry(&c->log.e[k], &c->base_conf) == 0)
		(void)set_base(c, &c->base_conf);
}

/* A snapshot was installed (the log is empty after it). */
void cons_conf_installed(struct cons *c)
{
	struct cons_membership m;

	if (c->in_conf_len && cons_membership_decode(c->in_conf, c->in_conf_len, &m) == 0)
		(void)set_base(c, &m);
	else if (!c->in_conf_len)
		(void)set_base(c, &c->static_conf);
	c->conf = c->base_conf;
	c->conf_scan = c->log.base;
	conf_apply(c);
	cons_conf_committed(c);
}

const uint8_t *cons_conf_at(const struct cons *c, zxid_t zxid, uint32_t *len)
{
	long k;

	if (zxid < c->log.base) {
		*len = 0;
		return NULL;
	}
	for (k = (long)cons_log_after(&c->log, zxid) - 1; k >= 0; k--)
		if (c->log.e[k].type == CONS_ENTRY_CONFIG) {
			*len = c->log.e[k].len;
			return c->log.e[k].data;
		}
	*len = c->base_enc_len;
	return c->base_enc;
}

void cons_get_membership(const struct cons *c, int committed, struct cons_membership *out)
{
	const uint8_t *p;
	uint32_t len;

	if (!committed || c->conf.version <= c->commit) {
		*out = c->conf;
		return;
	}
	p = cons_conf_at(c, c->commit, &len);
	if (!p || cons_membership_decode(p, len, out))
		*out = c->base_conf;
}

int cons_is_quorum(const struct cons *c, const uint32_t *ids, size_t n)
{
	uint64_t set = 0;
	size_t i;
	int s;

	for (i = 0; i < n; i++) {
		s = quorum_slot(&c->q, ids[i]);
		if (s >= 0)
			set |= 1ull << s;
	}
	return cons_quorum(c, set);
}
