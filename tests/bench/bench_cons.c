/*
 * bench_cons.c - committed proposals per second of CPU for a 3-node cluster
 * of cores driven through cons_node (codec included) with zero-latency I/O:
 * stores that complete at once and a loopback network. Shows the core is
 * not the bottleneck.
 *
 *   bench_cons [PROPOSALS] [BATCH]     (defaults 2000000, 256)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cons_node.h"

#define NODES 3

struct frame {
	struct frame *next;
	int to;
	uint32_t from;
	size_t len;
	uint8_t data[];
};

struct bnode {
	int idx;
	struct cons_node *node;
	struct cons_store store;
	struct cons_transport tr;
	cons_recv_fn recv;
	void *recv_arg;
	uint64_t applied;
	zxid_t last;
	uint8_t snap[1];
};

static struct bnode nodes[NODES];
static struct frame *head, **tail = &head;
static struct cons_member members[NODES] = {{1}, {2}, {3}};
static uint64_t now_ms;

static int st_load(struct cons_store *s, struct cons_meta *meta, zxid_t *snap,
		   zxid_t *commit, const struct cons_entry **e, size_t *n)
{
	memset(meta, 0, sizeof(*meta));
	*snap = 0;
	*commit = 0;
	*e = NULL;
	*n = 0;
	return 0;
}

static int st_meta(struct cons_store *s, struct cons_store_req *req,
		   const struct cons_meta *meta, cons_store_cb cb)
{
	cb(req, 0);
	return 0;
}

static int st_append(struct cons_store *s, struct cons_store_req *req, int truncate,
		     zxid_t after, const struct cons_entry *e, size_t n, zxid_t commit,
		     cons_store_cb cb)
{
	cb(req, 0);
	return 0;
}

static int st_compact(struct cons_store *s, zxid_t zxid)
{
	return 0;
}

static int st_reset(struct cons_store *s, struct cons_store_req *req, zxid_t zxid,
		    cons_store_cb cb)
{
	cb(req, 0);
	return 0;
}

static void st_close(struct cons_store *s)
{
}

static int tr_send(struct cons_transport *t, struct cons_send_req *req, uint32_t to,
		   const uint8_t *frame, size_t len, cons_send_cb cb)
{
	struct bnode *b = t->impl;
	struct frame *f = malloc(sizeof(*f) + len);

	if (!f)
		return -1;
	f->next = NULL;
	f->to = (int)to - 1;
	f->from = (uint32_t)b->idx + 1;
	f->len = len;
	memcpy(f->data, frame, len);
	*tail = f;
	tail = &f->next;
	return 0;
}

static void tr_set_recv(struct cons_transport *t, cons_recv_fn fn, void *arg)
{
	struct bnode *b = t->impl;

	b->recv = fn;
	b->recv_arg = arg;
}

static void tr_close(struct cons_transport *t)
{
}

static uint64_t h_now(void *arg)
{
	return now_ms;
}

static void h_apply(void *arg, const struct cons_entry *e, size_t n)
{
	struct bnode *b = arg;

	b->applied += n;
	b->last = e[n - 1].zxid;
}

static int h_snap_get(void *arg, zxid_t *zxid, const uint8_t **blob, uint32_t *len)
{
	struct bnode *b = arg;

	*zxid = 0;
	*blob = b->snap;
	*len = 0;
	return 0;
}

static int h_snap_install(void *arg, zxid_t zxid, const uint8_t *blob, uint32_t len)
{
	return 0;
}

static uint64_t reads_ok, reads_bad, frames;

static void h_read_ready(void *arg, uint64_t token, zxid_t zxid, int status)
{
	if (status == 0 && zxid)
		reads_ok++;
	else
		reads_bad++;
}

static void deliver_all(void)
{
	struct frame *f;

	while ((f = head)) {
		head = f->next;
		if (!head)
			tail = &head;
		nodes[f->to].recv(nodes[f->to].recv_arg, f->from, f->data, f->len);
		free(f);
		frames++;
	}
}

static double cpu(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	uint64_t total = argc > 1 ? strtoull(argv[1], NULL, 10) : 2000000;
	uint32_t batch = argc > 2 ? (uint32_t)strtoul(argv[2], NULL, 10) : 256;
	struct cons_node_host host = {.now = h_now,
				      .apply = h_apply,
				      .snap_get = h_snap_get,
				      .snap_install = h_snap_install,
				      .read_ready = h_read_ready};
	struct cons_payload *p;
	uint8_t(*data)[16];
	struct cons_status st;
	uint64_t sent = 0, base;
	int leader = -1, i;
	double t0, dt;
	uint32_t k;

	p = calloc(batch, sizeof(*p));
	data = calloc(batch, sizeof(*data));
	if (!p || !data)
		return 1;
	for (i = 0; i < NODES; i++) {
		struct cons_config cfg = {.self = (uint32_t)i + 1,
					  .members = members,
					  .n_members = NODES,
					  .quorum = QUORUM_MAJORITY,
					  .election_timeout_ms = 100 + 100 * (uint32_t)i,
					  .heartbeat_ms = 20,
					  .max_batch = 4096,
					  .max_inflight = 64,
					  .seed = (uint64_t)i};
		struct bnode *b = &nodes[i];

		b->idx = i;
		b->store = (struct cons_store){b,	   st_load,  st_meta, st_append,
					       st_compact, st_reset, st_close};
		b->tr = (struct cons_transport){b, tr_send, tr_set_recv, tr_close};
		host.arg = b;
		if (cons_node_new(&cfg, &b->store, &b->tr, &host, &b->node))
			return 1;
	}
	for (now_ms = 0; leader < 0 && now_ms < 10000; now_ms += 5) {
		for (i = 0; i < NODES; i++)
			cons_node_tick(nodes[i].node);
		deliver_all();
		for (i = 0; i < NODES; i++) {
			cons_status(cons_node_core(nodes[i].node), &st);
			if (st.state == CONS_LEADER && st.commit_zxid)
				leader = i;
		}
	}
	if (leader < 0) {
		fprintf(stderr, "bench_cons: no leader\n");
		return 1;
	}
	base = nodes[0].applied < nodes[1].applied ? nodes[0].applied : nodes[1].applied;
	t0 = cpu();
	while (sent < total) {
		for (k = 0; k < batch; k++) {
			uint64_t id = sent + k;

			memcpy(data[k], &id, sizeof(id));
			p[k].data = data[k];
			p[k].len = sizeof(data[k]);
		}
		if (cons_node_propose(nodes[leader].node, p, batch))
			return 1;
		sent += batch;
		deliver_all();
		if ((sent / batch) % 256 == 0)
			for (i = 0; i < NODES; i++)
				cons_node_compact(nodes[i].node, nodes[i].last);
	}
	deliver_all();
	dt = cpu() - t0;
	for (i = 0; i < NODES; i++) {
		if (nodes[i].applied - base < sent) {
			fprintf(stderr, "bench_cons: n%d applied %llu of %llu\n", i + 1,
				(unsigned long long)(nodes[i].applied - base),
				(unsigned long long)sent);
			return 1;
		}
	}
	printf(
	    "bench_cons: %llu proposals committed and applied on all 3 nodes in %.3f s "
	    "CPU (batch %u): %.0f proposals/s of CPU\n",
	    (unsigned long long)sent, dt, batch, (double)sent / dt);

	/* Read indexes (linearizable syncs): a batch at a time, half asked on
	 * the leader, half on a follower; all of a batch share one round. */
	{
		uint64_t want = total / 4, asked = 0, f0;
		int follower = (leader + 1) % NODES;

		frames = 0;
		f0 = frames;
		t0 = cpu();
		while (asked < want) {
			for (k = 0; k < batch; k++, asked++)
				cons_node_read_index(
				    nodes[k % 2 ? follower : leader].node, asked);
			deliver_all();
		}
		dt = cpu() - t0;
		if (reads_ok != asked || reads_bad) {
			fprintf(stderr,
				"bench_cons: %llu of %llu read indexes answered\n",
				(unsigned long long)reads_ok, (unsigned long long)asked);
			return 1;
		}
		printf("bench_cons: %llu read indexes (half on a follower) in %.3f s CPU "
		       "(batch %u): %.0f/s of CPU, %.2f frames each\n",
		       (unsigned long long)asked, dt, batch, (double)asked / dt,
		       (double)(frames - f0) / (double)asked);
	}
	for (i = 0; i < NODES; i++)
		cons_node_free(nodes[i].node);
	free(p);
	free(data);
	return 0;
}
