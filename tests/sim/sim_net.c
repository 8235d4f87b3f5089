/*
 * sim_net.c - the simulated network behind struct cons_transport: every
 * frame is copied and delivered after a delay drawn from the seed (so
 * frames reorder), unless the link is cut (partition, asymmetric or
 * flapping) or the frame is lost; some frames are delivered twice.
 */
#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "sim.h"

static int link_up(struct sim *s, int from, int to)
{
	if (s->block[from][to])
		return 0;
	if (s->flapping && s->flap_on && s->flap[from][to])
		return 0;
	return 1;
}

static int net_send(struct cons_transport *t, struct cons_send_req *req, uint32_t to,
		    const uint8_t *frame, size_t len, cons_send_cb cb)
{
	struct sim_node *n = t->impl;
	struct sim *s = n->sim;
	int dst = -1, copies = 1, i;

	for (i = 0; i < s->n; i++)
		if (s->nodes[i].id == to)
			dst = i;
	if (dst < 0)
		return -1;
	s->msgs++;
	/* A protocol that answers one frame with several can grow a storm
	 * that never ends (simulated time barely moves): fail, not hang. */
	if (s->burst_ms != s->now) {
		s->burst_ms = s->now;
		s->burst = 0;
	}
	if (++s->burst > 20000)
		sim_violation(s, "message storm: more than 20000 frames in 1 ms");
	if (sim_chance(s, s->loss_pct))
		copies = 0;
	else if (sim_chance(s, s->dup_pct))
		copies = 2;
	for (i = 0; i < copies; i++) {
		uint64_t t_at =
		    s->now + 1 + (s->max_delay ? sim_rand(s) % s->max_delay : 0);
		uint8_t *copy = malloc(len);

		if (!copy)
			break;
		memcpy(copy, frame, len);
		sim_push_msg(s, t_at, dst, (uint32_t)n->idx, copy, len);
	}
	if (cb)
		cb(req, 0);
	return 0;
}

static void net_set_recv(struct cons_transport *t, cons_recv_fn fn, void *arg)
{
	struct sim_node *n = t->impl;

	n->recv = fn;
	n->recv_arg = arg;
}

static void net_close(struct cons_transport *t)
{
	(void)t;
}

void sim_net_init(struct sim_node *n)
{
	n->tr.impl = n;
	n->tr.send = net_send;
	n->tr.set_recv = net_set_recv;
	n->tr.close = net_close;
}

/* The link is judged at delivery, so a partition also cuts frames already
 * in flight, as a broken TCP connection would. */
static void trace_msg(struct sim *s, struct sim_event *ev, const char *what)
{
	static const char *names[] = {"?",	 "VOTE_REQ",	"VOTE_RESP",
				      "APPEND",	 "APPEND_RESP", "SNAP",
				      "FORWARD", "READ_REQ",	"READ_RESP"};
	struct cons_msg m;

	if (cons_decode(ev->frame, ev->len, &m))
		return;
	switch (m.type) {
	case CONS_MSG_VOTE_REQ:
		sim_tracef(s, "n%u -> n%u %s %s epoch %u last %llx", m.from,
			   s->nodes[ev->node].id, what, names[m.type], m.epoch,
			   (unsigned long long)m.vote_req.last_zxid);
		break;
	case CONS_MSG_VOTE_RESP:
		sim_tracef(s, "n%u -> n%u %s %s epoch %u granted %u", m.from,
			   s->nodes[ev->node].id, what, names[m.type], m.epoch,
			   m.vote_resp.granted);
		break;
	case CONS_MSG_APPEND:
		sim_tracef(s, "n%u -> n%u %s %s epoch %u prev %llx n %u commit %llx",
			   m.from, s->nodes[ev->node].id, what, names[m.type], m.epoch,
			   (unsigned long long)m.append.prev_zxid, m.append.n,
			   (unsigned long long)m.append.commit_zxid);
		break;
	case CONS_MSG_APPEND_RESP:
		sim_tracef(s, "n%u -> n%u %s %s epoch %u ok %u match %llx last %llx",
			   m.from, s->nodes[ev->node].id, what, names[m.type], m.epoch,
			   m.append_resp.ok, (unsigned long long)m.append_resp.match_zxid,
			   (unsigned long long)m.append_resp.last_zxid);
		break;
	case CONS_MSG_SNAP:
		sim_tracef(
		    s, "n%u -> n%u %s SNAP epoch %u zxid %llx offset %llu len %u of %llu",
		    m.from, s->nodes[ev->node].id, what, m.epoch,
		    (unsigned long long)m.snap.zxid, (unsigned long long)m.snap.offset,
		    m.snap.len, (unsigned long long)m.snap.total);
		break;
	case CONS_MSG_SNAP_ACK:
		sim_tracef(s, "n%u -> n%u %s SNAP_ACK epoch %u zxid %llx next %llu",
			   m.from, s->nodes[ev->node].id, what, m.epoch,
			   (unsigned long long)m.snap_ack.zxid,
			   (unsigned long long)m.snap_ack.next);
		break;
	default:
		sim_tracef(
		    s, "n%u -> n%u %s %s epoch %u", m.from, s->nodes[ev->node].id, what,
		    m.type < sizeof(names) / sizeof(names[0]) ? names[m.type] : "?",
		    m.epoch);
	}
	cons_msg_release(&m);
}

void sim_net_deliver(struct sim *s, struct sim_event *ev)
{
	struct sim_node *dst = &s->nodes[ev->node];
	int ok = dst->up && dst->recv && link_up(s, (int)ev->from, ev->node);

	if (s->o.trace > 1)
		trace_msg(s, ev, ok ? "" : "(dropped)");
	if (ok) {
		dst->heard[ev->from] = sim_node_clock(dst);
		dst->recv(dst->recv_arg, s->nodes[ev->from].id, ev->frame, ev->len);
	}
}
