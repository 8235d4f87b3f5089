/*
 * transport_fault.c - a delay and loss hook on the peer transport, for
 * testing only: this kernel has no netem, so tests that put members into
 * "datacenters" (tests/cluster/multidc.sh, tests/bench/bench_multidc.sh)
 * add the inter-datacenter delay here.
 *
 * Two environment variables, read once by transport_new:
 *
 *   QUORUMFS_PEER_DELAY=ID:MS[,ID:MS...]   hold every message received
 *                                         from server ID for MS ms
 *   QUORUMFS_PEER_LOSS=ID:PCT[,ID:PCT...]  drop PCT percent of them
 *
 * ID "*" stands for every peer not named otherwise. The hook acts where
 * messages are received, after the MAC check, so it models the one-way
 * delay of the link from ID to this server; a symmetric inter-datacenter
 * delay D is D set on both ends (a round trip of 2D). Messages from one
 * peer keep their order (one FIFO per peer, one delay per peer). The
 * handshake and the peer up/down callbacks are not delayed: only what the
 * consensus core sees. Loss drops whole messages, which the core tolerates
 * (transport.h). With neither variable set, nothing is allocated and
 * messages go straight to the receive callback.
 *
 * A message still held when the transport is freed is dropped, as one in
 * flight on a dying host would be.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "log.h"
#include "transport_int.h"

#define FAULT_IDS 256 /* server ids are 1..255 */

struct held {
	struct held *next;
	uint64_t due_us;
	size_t len;
	uint8_t msg[];
};

struct fault_queue {
	struct transport_fault *f;
	uint32_t from;
	struct held *head, *tail;
	struct event *ev; /* fires when head is due */
};

struct transport_fault {
	struct transport *t;
	unsigned delay_ms[FAULT_IDS];
	unsigned loss_pct[FAULT_IDS];
	struct fault_queue *q[FAULT_IDS]; /* made on a peer's first held message */
	unsigned seed;
};

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* "ID:N,ID:N,*:N" into per-id values; max bounds N. */
static int parse_spec(const char *name, const char *spec, unsigned *out, unsigned max)
{
	char *copy = strdup(spec), *p = copy, *tok;
	unsigned dflt = 0, set[FAULT_IDS] = {0};
	int have_dflt = 0, rc = 0;

	if (!copy)
		return -ENOMEM;
	while ((tok = strsep(&p, ",")) != NULL) {
		char *colon = strchr(tok, ':'), *end;
		unsigned long id = 0, v;

		if (!*tok)
			continue;
		if (!colon)
			goto err_bad;
		*colon = 0;
		if (strcmp(tok, "*")) {
			id = strtoul(tok, &end, 10);
			if (*end || id == 0 || id >= FAULT_IDS)
				goto err_bad;
		}
		v = strtoul(colon + 1, &end, 10);
		if (*end || colon[1] == 0 || v > max)
			goto err_bad;
		if (id == 0) {
			dflt = (unsigned)v;
			have_dflt = 1;
		} else {
			out[id] = (unsigned)v;
			set[id] = 1;
		}
	}
	if (have_dflt)
		for (unsigned i = 1; i < FAULT_IDS; i++)
			if (!set[i])
				out[i] = dflt;
	goto out;
err_bad:
	log_warnx("%s=%s: expected ID:N[,ID:N...] (ID 1..255 or *, N at most %u)", name,
		  spec, max);
	rc = -EINVAL;
out:
	free(copy);
	return rc;
}

int transport_fault_new(struct transport *t)
{
	const char *delay = getenv("QUORUMFS_PEER_DELAY");
	const char *loss = getenv("QUORUMFS_PEER_LOSS");
	struct transport_fault *f;
	int rc;

	t->fault = NULL;
	if ((!delay || !*delay) && (!loss || !*loss))
		return 0;
	f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	f->t = t;
	f->seed = (unsigned)now_us() ^ t->self_id;
	if ((delay &&
	     (rc = parse_spec("QUORUMFS_PEER_DELAY", delay, f->delay_ms, 600000)) < 0) ||
	    (loss &&
	     (rc = parse_spec("QUORUMFS_PEER_LOSS", loss, f->loss_pct, 100)) < 0)) {
		free(f);
		return rc;
	}
	log_warnx("peer transport: test fault hook on (QUORUMFS_PEER_DELAY=%s "
		  "QUORUMFS_PEER_LOSS=%s)",
		  delay ? delay : "", loss ? loss : "");
	t->fault = f;
	return 0;
}

void transport_fault_free(struct transport *t)
{
	struct transport_fault *f = t->fault;

	if (!f)
		return;
	for (unsigned i = 0; i < FAULT_IDS; i++) {
		struct fault_queue *q = f->q[i];

		if (!q)
			continue;
		while (q->head) {
			struct held *h = q->head;
			q->head = h->next;
			free(h);
		}
		event_free(q->ev);
		free(q);
	}
	free(f);
	t->fault = NULL;
}

static void arm(struct fault_queue *q)
{
	uint64_t now = now_us(), wait = q->head->due_us > now ? q->head->due_us - now : 0;
	struct timeval tv = {.tv_sec = (time_t)(wait / 1000000u),
			     .tv_usec = (suseconds_t)(wait % 1000000u)};

	evtimer_add(q->ev, &tv);
}

/* Delivers every due message of one peer, oldest first. */
static void due_cb(evutil_socket_t fd, short what, void *arg)
{
	struct fault_queue *q = arg;
	struct transport *t = q->f->t;
	uint64_t now = now_us();

	(void)fd;
	(void)what;
	while (q->head && q->head->due_us <= now) {
		struct held *h = q->head;

		q->head = h->next;
		if (!q->head)
			q->tail = NULL;
		if (t->recv_fn)
			t->recv_fn(t->recv_arg, q->from, h->msg, h->len);
		free(h);
	}
	if (q->head)
		arm(q);
}

void transport_fault_deliver(struct transport *t, uint32_t from, const uint8_t *msg,
			     size_t len)
{
	struct transport_fault *f = t->fault;
	struct fault_queue *q;
	struct held *h;

	if (!f || from >= FAULT_IDS) {
		if (t->recv_fn)
			t->recv_fn(t->recv_arg, from, msg, len);
		return;
	}
	if (f->loss_pct[from] && (unsigned)(rand_r(&f->seed) % 100) < f->loss_pct[from])
		return;
	q = f->q[from];
	if (!f->delay_ms[from] && (!q || !q->head)) {
		if (t->recv_fn)
			t->recv_fn(t->recv_arg, from, msg, len);
		return;
	}
	if (!q) {
		q = calloc(1, sizeof(*q));
		if (!q)
			return; /* lost, as under memory pressure a packet is */
		q->f = f;
		q->from = from;
		q->ev = evtimer_new(t->base, due_cb, q);
		if (!q->ev) {
			free(q);
			return;
		}
		f->q[from] = q;
	}
	h = malloc(sizeof(*h) + len);
	if (!h)
		return;
	h->next = NULL;
	h->due_us = now_us() + (uint64_t)f->delay_ms[from] * 1000u;
	h->len = len;
	memcpy(h->msg, msg, len);
	if (q->tail)
		q->tail->next = h;
	else {
		q->head = h;
		arm(q);
	}
	q->tail = h;
}
