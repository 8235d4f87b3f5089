/*
 * transport_cons.c - struct cons_transport over the peer transport; see
 * transport_cons.h.
 */
#include <errno.h>
#include <stdlib.h>
#include <time.h>

#include "codec.h"
#include "log.h"
#include "transport_cons.h"

struct tc {
	struct cons_transport vt;
	struct transport *t;
	cons_recv_fn recv;
	void *recv_arg;
	/* The last frame of another engine version warned about. */
	uint32_t warned_from;
	uint8_t warned_version;
	time_t warned_at;
};

/* A send whose completion the core asked for. */
struct tc_send {
	struct transport_send_req req;
	struct cons_send_req *creq;
};

/*
 * The engine drops a frame it cannot decode, silently: a member of another
 * build (another CONS_CODEC_VERSION) would then look merely unreachable.
 * Say why, once a minute per peer and version, so an operator mixing
 * versions sees it in the log of every member.
 */
static void check_version(struct tc *s, uint32_t from, const uint8_t *msg, size_t len)
{
	time_t now;

	if (len <= CONS_FRAME_HDR || msg[CONS_FRAME_HDR] == CONS_CODEC_VERSION)
		return;
	now = time(NULL);
	if (s->warned_from == from && s->warned_version == msg[CONS_FRAME_HDR] &&
	    now - s->warned_at < 60)
		return;
	s->warned_from = from;
	s->warned_version = msg[CONS_FRAME_HDR];
	s->warned_at = now;
	log_warnx("peer %u speaks engine protocol version %u, this member %u: its "
		  "messages are dropped; run one quorumfs version on every member",
		  from, msg[CONS_FRAME_HDR], CONS_CODEC_VERSION);
}

static void tc_recv(void *arg, uint32_t from, const uint8_t *msg, size_t len)
{
	struct tc *s = arg;

	check_version(s, from, msg, len);
	if (s->recv)
		s->recv(s->recv_arg, from, msg, len);
}

static void tc_sent(struct transport_send_req *req, int status)
{
	struct tc_send *ts = req->data;
	struct cons_send_req *creq = ts->creq;

	free(ts);
	creq->cb(creq, status);
}

static int tc_send(struct cons_transport *vt, struct cons_send_req *creq, uint32_t to,
		   const uint8_t *frame, size_t len, cons_send_cb cb)
{
	struct tc *s = vt->impl;
	struct tc_send *ts;
	int rc;

	if (!creq || !cb)
		return transport_send(s->t, NULL, to, frame, len, NULL);
	ts = calloc(1, sizeof(*ts));
	if (!ts)
		return -ENOMEM;
	ts->creq = creq;
	ts->req.data = ts;
	creq->cb = cb;
	rc = transport_send(s->t, &ts->req, to, frame, len, tc_sent);
	if (rc < 0)
		free(ts);
	return rc;
}

static void tc_set_recv(struct cons_transport *vt, cons_recv_fn fn, void *arg)
{
	struct tc *s = vt->impl;

	s->recv = fn;
	s->recv_arg = arg;
}

static void tc_close(struct cons_transport *vt)
{
	struct tc *s = vt->impl;

	transport_free(s->t);
	free(s);
}

int transport_cons_new(struct transport *t, struct cons_transport **out)
{
	struct tc *s = calloc(1, sizeof(*s));

	if (!s)
		return -ENOMEM;
	s->t = t;
	s->vt = (struct cons_transport){
	    .impl = s, .send = tc_send, .set_recv = tc_set_recv, .close = tc_close};
	transport_set_recv(t, tc_recv, s);
	*out = &s->vt;
	return 0;
}
