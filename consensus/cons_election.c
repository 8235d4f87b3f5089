/*
 * cons_election.c - leader election (Raft §5.2, §5.4.1; the part of Zab's
 * discovery that picks the prospective leader).
 *
 * A follower that hears nothing from a leader for a randomised timeout
 * moves to epoch+1, votes for itself and, once that (epoch, vote) is
 * durable, asks every participant. A participant grants at most one vote
 * per epoch, durably, and only to a candidate whose last zxid is at least
 * its own: since a committed txn is on a quorum, and two quorums
 * intersect, the winner holds every committed txn (Zab's "the new leader's
 * history contains every committed proposal"). zxids compare as (epoch,
 * counter), which is Raft's (last term, last index) order because one
 * leader writes all entries of an epoch in counter order.
 *
 * A participant that heard from a live leader within the minimum election
 * timeout ignores vote requests (Raft §6), so a server rejoining from a
 * partition with a high epoch does not depose a healthy leader by voting
 * alone.
 *
 * Pre-vote (Raft thesis §9.6): a timed-out server first asks, without
 * changing any durable or volatile state anywhere, whether a quorum would
 * vote for it in epoch+1 (PREVOTE_REQ); a participant says yes only if it
 * too has not heard from a leader for the minimum timeout, is not the
 * leader, is at or below that epoch and the asker's log is at least as
 * up to date. Only with a quorum of yeses does it raise its epoch and
 * stand. So a server cut off by a partition never raises its epoch, and
 * when it comes back its higher epoch cannot make a healthy leader step
 * down (it would have, through the append answers that carry its epoch).
 * Check-quorum (cons_leader.c) is the other half: a leader that cannot
 * hear a quorum steps down, so the majority side can elect and pre-vote
 * cannot keep a dead leader in place.
 *
 * The first election (first_with_all). The log rule above protects what a
 * quorum holds; it cannot protect data that no quorum has ever seen. That
 * is the case after `quorumadm recover --force-new-ensemble`: one survivor
 * holds the whole tree and its partners start with empty directories. If
 * the empty ones meet first they are a majority, grant each other's votes
 * (an empty log is as up to date as an empty log) and serve an empty tree
 * beside the survivor, which can never join them. So an empty member grants
 * an empty candidate only once it has heard a pre-vote request with an
 * empty log from every voter of its configuration since that voter's
 * connection opened (CONS_EV_PEER_DOWN forgets it: a restart may bring
 * data): an ensemble is born with all its voters, and afterwards any
 * majority runs it, as the log rule then covers everything. To be heard
 * without delay, an empty member that hears an empty voter for the first
 * time asks for pre-votes itself at once, and once it has heard them all
 * the members stand in id order, as after a leader's crash.
 */
#include "cons_int.h"

static int log_empty(const struct cons *c)
{
	return c->log.base == 0 && c->log.n == 0;
}

/* A voter's bit in heard_empty; 0 for an observer or learner (no slot). */
static uint64_t voter_bit(const struct cons_peer *p)
{
	return p && !p->observer && p->slot >= 0 ? 1ull << p->slot : 0;
}

static uint64_t voter_slots(const struct cons *c)
{
	uint64_t m = 0;
	unsigned i;

	for (i = 0; i < c->n_peers; i++)
		m |= voter_bit(&c->peers[i]);
	return m;
}

/* Is an empty member still waiting to hear every voter empty? */
static int birth_waiting(const struct cons *c)
{
	uint64_t v = voter_slots(c);

	return c->cfg.first_with_all && log_empty(c) && (c->heard_empty & v) != v;
}

/* May this member vote for m's sender (a pre-vote or vote request)? */
static int birth_allows(const struct cons *c, const struct cons_msg *m)
{
	return m->vote_req.last_zxid != 0 || !birth_waiting(c);
}

uint32_t cons_birth_wait(const struct cons *c)
{
	uint32_t id = 0;
	unsigned i;

	if (c->leader || !birth_waiting(c))
		return 0;
	for (i = 0; i < c->n_peers; i++)
		if (voter_bit(&c->peers[i]) && !(c->heard_empty & voter_bit(&c->peers[i])) &&
		    (!id || c->peers[i].id < id))
			id = c->peers[i].id;
	return id;
}

void cons_reset_deadline(struct cons *c)
{
	uint64_t t = c->cfg.election_timeout_ms;

	c->deadline = c->now + t + cons_rand(c) % t;
}

static void start_prevote(struct cons *c);

static void send_vote_requests(struct cons *c)
{
	struct cons_msg m = {.type = CONS_MSG_VOTE_REQ};
	unsigned i;

	m.vote_req.last_zxid = cons_log_last(&c->log);
	m.vote_req.transfer = c->campaign_transfer;
	for (i = 0; i < c->n_peers; i++) {
		if (c->peers[i].observer || (c->votes >> c->peers[i].slot & 1))
			continue;
		cons_send(c, c->peers[i].id, &m, SIZE_MAX);
	}
}

static void check_won(struct cons *c)
{
	if (c->state == CONS_CANDIDATE && cons_meta_ready(c) && cons_quorum(c, c->votes))
		cons_become_leader(c);
}

void cons_start_election(struct cons *c, int transfer)
{
	c->campaign_transfer = (uint8_t)transfer;
	c->prevoting = 0;
	cons_set_meta(c, c->meta.epoch + 1, c->cfg.self);
	c->votes = cons_self_bit(c);
	c->verified = c->commit;
	c->lead_stable = 0;
	cons_set_role(c, CONS_CANDIDATE, 0);
	cons_reset_deadline(c);
	CONS_TRACE(c, "election epoch %u last %llx", c->meta.epoch,
		   (unsigned long long)cons_log_last(&c->log));
	send_vote_requests(c);
	check_won(c);
}

static void check_prevotes(struct cons *c)
{
	if (c->prevoting && cons_quorum(c, c->prevotes))
		cons_start_election(c, 0);
}

static void start_prevote(struct cons *c)
{
	struct cons_msg m = {.type = CONS_MSG_PREVOTE_REQ};
	unsigned i;

	c->prevoting = 1;
	c->prevotes = cons_self_bit(c);
	cons_reset_deadline(c);
	CONS_TRACE(c, "pre-vote for epoch %u last %llx", c->meta.epoch + 1,
		   (unsigned long long)cons_log_last(&c->log));
	m.vote_req.last_zxid = cons_log_last(&c->log);
	for (i = 0; i < c->n_peers; i++)
		if (!c->peers[i].observer)
			cons_send(c, c->peers[i].id, &m, SIZE_MAX);
	check_prevotes(c);
}

/*
 * Stop naming the leader, so the host reports this member as read-only (not
 * "follower") and forwards nothing to it; its next append makes it the
 * leader again (cons_on_append). What was verified against it is kept only
 * up to the commit, as for a new one. Without a leader this member grants
 * pre-votes (cons_on_prevote_req).
 */
static void leader_lost(struct cons *c, const char *why)
{
	CONS_TRACE(c, "leader %u %s", c->leader, why);
	c->verified = c->commit;
	c->lead_ctx = 0;
	c->lead_stable = 0;
	cons_set_role(c, c->state, 0);
}

/* Stand soon, after the voters (but `skip`) with lower ids had their turn. */
static void stand_in_turn(struct cons *c, uint32_t skip)
{
	uint64_t gap = c->cfg.heartbeat_ms / 2 ? c->cfg.heartbeat_ms / 2 : 1;
	uint64_t rank = 0, at;
	unsigned i;

	for (i = 0; i < c->n_peers; i++)
		if (!c->peers[i].observer && c->peers[i].id != skip &&
		    c->peers[i].id < c->cfg.self)
			rank++;
	at = c->now + 1 + rank * gap + cons_rand(c) % (gap / 16 + 1);
	if (at < c->deadline)
		c->deadline = at;
}

/*
 * The host saw its connection to peer id close (a crashed process: the
 * kernel closes its sockets). If that is the leader, waiting out the
 * election timeout (syncLimit * tickTime, 10 s with ZooKeeper's sample
 * zoo.cfg) only delays the next leader: drop it and stand soon instead.
 * The other followers see the same close, so they grant the pre-vote; one
 * that still hears the leader refuses it, so a broken link alone does not
 * depose a live leader.
 *
 * Who stands first: the survivors stand in id order, half a heartbeat
 * apart (with a little jitter), the lowest at once. Two that stood within
 * one vote's round trip of each other would split the votes and leave
 * the ensemble leaderless for a whole election timeout; a random delay
 * over half a heartbeat made that rare, but cost a quarter of a heartbeat
 * on average (250 ms at tickTime 2000). In id order the first usually
 * wins at once; one whose log is behind fails its pre-vote without
 * changing anything, and the next stands half a heartbeat later. A
 * survivor that granted a vote meanwhile has its deadline reset by the
 * grant and does not stand.
 *
 * Any peer's close also forgets that it was heard empty (first_with_all):
 * the process that connects next may hold data.
 */
void cons_on_peer_down(struct cons *c, uint32_t id)
{
	c->heard_empty &= ~voter_bit(cons_peer(c, id));
	if (!id || id != c->leader || c->state == CONS_LEADER || c->installing)
		return;
	leader_lost(c, "connection closed");
	if (!cons_may_stand(c) || c->prevoting)
		return;
	c->deadline = UINT64_MAX;
	stand_in_turn(c, id);
}

/*
 * A pre-vote request says how far its sender's log goes. Note who
 * is empty (first_with_all). Hearing one for the first time, an empty
 * member that is not standing asks for pre-votes itself, so that the
 * others hear it now rather than at its election timeout; having heard
 * every voter, it stands in id order.
 */
static void note_log(struct cons *c, const struct cons_msg *m)
{
	uint64_t bit = voter_bit(cons_peer(c, m->from));
	int waiting;

	if (!bit || !c->cfg.first_with_all)
		return;
	if (m->vote_req.last_zxid) {
		c->heard_empty &= ~bit;
		return;
	}
	if (c->heard_empty & bit)
		return;
	waiting = birth_waiting(c);
	c->heard_empty |= bit;
	if (!log_empty(c) || c->leader || c->state != CONS_FOLLOWER ||
	    !cons_may_stand(c) || c->installing)
		return;
	CONS_TRACE(c, "heard %u empty", m->from);
	if (!birth_waiting(c) && waiting)
		stand_in_turn(c, 0);
	else if (!c->prevoting)
		start_prevote(c);
}

void cons_election_tick(struct cons *c)
{
	if (c->installing || c->now < c->deadline)
		return;
	if (c->leader && c->state != CONS_LEADER)
		/* The leader has been silent for an election timeout. */
		leader_lost(c, "silent");
	if (!cons_may_stand(c))
		return;
	if (c->cfg.mutant == 6)
		cons_start_election(c, 0); /* the planted bug: no pre-vote */
	else
		start_prevote(c);
}

/* Would we vote for m's sender in the epoch after its own? Nothing changes. */
void cons_on_prevote_req(struct cons *c, const struct cons_msg *m)
{
	struct cons_peer *p = cons_peer(c, m->from);
	struct cons_msg r = {.type = CONS_MSG_PREVOTE_RESP};

	/* A voter answers any server (it may stand in a configuration this
	 * one has not seen yet); the candidate counts only its voters. */
	(void)p;
	if (!cons_may_vote(c))
		return;
	note_log(c, m);
	r.vote_resp.granted =
	    m->epoch >= c->meta.epoch && c->state != CONS_LEADER &&
	    !(c->leader && c->now < c->heard_leader + c->cfg.election_timeout_ms) &&
	    (m->vote_req.last_zxid >= cons_log_last(&c->log) || c->cfg.mutant == 3) &&
	    birth_allows(c, m);
	cons_send(c, m->from, &r, SIZE_MAX);
}

void cons_on_prevote_resp(struct cons *c, const struct cons_msg *m)
{
	struct cons_peer *p = cons_peer(c, m->from);

	if (!p || p->observer || !c->prevoting)
		return;
	if (m->epoch > c->meta.epoch && !m->vote_resp.granted) {
		/* A later epoch exists: join it rather than stand below it. */
		cons_become_follower(c, m->epoch, 0);
		return;
	}
	if (!m->vote_resp.granted || m->epoch > c->meta.epoch)
		return;
	c->prevotes |= 1ull << p->slot;
	check_prevotes(c);
}

/* Once (epoch, vote) is durable: send what had to wait for it. */
void cons_on_meta_durable(struct cons *c)
{
	struct cons_msg m = {0};
	unsigned i;

	switch (c->state) {
	case CONS_CANDIDATE:
		send_vote_requests(c);
		check_won(c);
		break;
	case CONS_LEADER:
		for (i = 0; i < c->n_peers; i++)
			cons_leader_send(c, &c->peers[i], 1);
		break;
	default:
		if (c->grant_to) {
			m.type = CONS_MSG_VOTE_RESP;
			m.vote_resp.granted = c->meta.vote == c->grant_to;
			cons_send(c, c->grant_to, &m, SIZE_MAX);
			c->grant_to = 0;
		}
		if (c->leader)
			cons_follower_ack(c, 0);
		break;
	}
}

void cons_on_vote_req(struct cons *c, const struct cons_msg *m)
{
	struct cons_peer *p = cons_peer(c, m->from);
	struct cons_msg r = {.type = CONS_MSG_VOTE_RESP};

	if (!cons_may_vote(c))
		return;
	if (m->vote_req.last_zxid)
		c->heard_empty &= ~voter_bit(p);
	if (!birth_allows(c, m)) {
		/* Refused before anything changes, the epoch included. */
		CONS_TRACE(c, "refuse %u: not every voter heard empty", m->from);
		cons_send(c, m->from, &r, SIZE_MAX);
		return;
	}
	if (m->epoch > c->meta.epoch) {
		/* A leader, or one that hears it, ignores a higher epoch (a
		 * server back from a partition), unless the leader itself asked
		 * for this election (a transfer, cons_transfer.c). */
		if (!m->vote_req.transfer &&
		    (c->state == CONS_LEADER ||
		     (c->leader &&
		      c->now < c->heard_leader + c->cfg.election_timeout_ms)))
			return;
		cons_become_follower(c, m->epoch, 0);
	}
	if (m->epoch == c->meta.epoch && (c->meta.vote == 0 || c->meta.vote == m->from) &&
	    c->state != CONS_LEADER && c->state != CONS_CANDIDATE &&
	    (m->vote_req.last_zxid >= cons_log_last(&c->log) || c->cfg.mutant == 3)) {
		cons_set_meta(c, c->meta.epoch, m->from);
		cons_reset_deadline(c);
		CONS_TRACE(c, "vote for %u epoch %u", m->from, c->meta.epoch);
		r.vote_resp.granted = 1;
		if (!cons_meta_ready(c)) {
			c->grant_to = m->from;
			return;
		}
	}
	cons_send(c, m->from, &r, SIZE_MAX);
}

void cons_on_vote_resp(struct cons *c, const struct cons_msg *m)
{
	struct cons_peer *p = cons_peer(c, m->from);

	if (!p || p->observer)
		return;
	if (m->epoch > c->meta.epoch) {
		cons_become_follower(c, m->epoch, 0);
		return;
	}
	if (c->state != CONS_CANDIDATE || m->epoch != c->meta.epoch ||
	    !m->vote_resp.granted)
		return;
	c->votes |= 1ull << p->slot;
	check_won(c);
}
