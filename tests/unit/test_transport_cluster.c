/*
 * test_transport_cluster.c - the real I/O under the real engine: three
 * consensus nodes (cons_node.h) in one event loop, each with its SQLite
 * log store (asynchronous, writer thread) and its TCP transport on
 * 127.0.0.1. They elect a leader, commit proposals everywhere in one
 * order, survive the leader's shutdown, and the old leader comes back from
 * its log on disk and catches up.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "cons.h"
#include "cons_node.h"
#include "logstore_cons.h"
#include "tap.h"
#include "transport_cons.h"

#define N	    3
#define MAX_APPLIED 512

static const char secret[] = "cluster-test-secret-0123456789";
static struct event_base *base;
static char dir[256];

struct node {
	uint32_t id;
	uint16_t port;
	struct cons_store *store;
	struct cons_transport *ctr;
	struct transport *tr;
	struct cons_node *cn;
	enum cons_state state;
	uint32_t epoch;
	/* The TXN payloads applied, in order. */
	char applied[MAX_APPLIED][16];
	int n_applied;
};
static struct node nodes[N + 1];

static uint64_t now_ms(void *arg)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void apply(void *arg, const struct cons_entry *e, size_t n)
{
	struct node *nd = arg;

	for (size_t i = 0; i < n; i++) {
		if (e[i].type != CONS_ENTRY_TXN || nd->n_applied >= MAX_APPLIED)
			continue;
		snprintf(nd->applied[nd->n_applied++], 16, "%.*s", (int)e[i].len,
			 (const char *)e[i].data);
	}
}

static int snap_get(void *arg, zxid_t *zxid, const uint8_t **blob, uint32_t *len)
{
	*zxid = 0;
	*blob = NULL;
	*len = 0;
	return 0;
}

static int snap_install(void *arg, zxid_t zxid, const uint8_t *blob, uint32_t len)
{
	return -95; /* no snapshots in this test */
}

static void role(void *arg, enum cons_state s, uint32_t epoch, uint32_t leader)
{
	struct node *nd = arg;

	nd->state = s;
	nd->epoch = epoch;
}

static void start(int i)
{
	struct node *nd = &nodes[i];
	struct cons_member members[N];
	struct cons_config cfg = {
	    .self = (uint32_t)i,
	    .members = members,
	    .n_members = N,
	    .quorum = QUORUM_MAJORITY,
	    .election_timeout_ms = 300,
	    .heartbeat_ms = 50,
	    .seed = (uint64_t)i * 7919 + (uint64_t)time(NULL),
	};
	struct transport_config tc = {
	    .self_id = (uint32_t)i,
	    .cluster = "cluster-test",
	    .secret = secret,
	    .secret_len = strlen(secret),
	    .listen_host = "127.0.0.1",
	    .listen_port = nd->port,
	    .backoff_min_ms = 20,
	    .backoff_max_ms = 200,
	};
	struct cons_node_host host = {nd, now_ms, apply, snap_get, snap_install, role};
	struct logstore_state st;
	struct logstore *ls;
	char path[300], err[256];

	for (int k = 0; k < N; k++)
		members[k] = (struct cons_member){.id = (uint32_t)k + 1};
	nd->id = (uint32_t)i;
	nd->n_applied = 0;
	nd->state = 0;
	snprintf(path, sizeof(path), "%s/log-%d.db", dir, i);
	if (logstore_open(path, base, &ls, &st, err, sizeof(err)) < 0)
		printf("# %s\n", err);
	TAP_EQ(logstore_cons_new(ls, &nd->store), 0);
	if (transport_new(base, &tc, &nd->tr, err, sizeof(err)) < 0)
		printf("# %s\n", err);
	TAP_ASSERT(nd->tr != NULL);
	nd->port = transport_port(nd->tr);
	TAP_EQ(transport_cons_new(nd->tr, &nd->ctr), 0);
	TAP_EQ(cons_node_new(&cfg, nd->store, nd->ctr, &host, &nd->cn), 0);
}

static void connect_peers(int i)
{
	for (int j = 1; j <= N; j++)
		if (j != i)
			TAP_EQ(transport_add_peer(nodes[i].tr, (uint32_t)j, "127.0.0.1",
						  nodes[j].port),
			       0);
}

static void stop(int i)
{
	struct node *nd = &nodes[i];

	if (!nd->cn)
		return;
	/* The store first: its last callbacks still reach the node. */
	nd->store->close(nd->store);
	nd->ctr->close(nd->ctr);
	cons_node_free(nd->cn);
	nd->cn = NULL;
}

static void tick(evutil_socket_t fd, short what, void *arg)
{
	for (int i = 1; i <= N; i++)
		if (nodes[i].cn)
			cons_node_tick(nodes[i].cn);
}

static int run_until(int (*pred)(void), int ms)
{
	uint64_t end = now_ms(NULL) + (uint64_t)ms;

	while (!pred() && now_ms(NULL) < end)
		event_base_loop(base, EVLOOP_ONCE);
	return pred();
}

static int leader(void)
{
	for (int i = 1; i <= N; i++)
		if (nodes[i].cn && nodes[i].state == CONS_LEADER)
			return i;
	return 0;
}

static int want_applied;
static int all_applied(void)
{
	for (int i = 1; i <= N; i++)
		if (nodes[i].cn && nodes[i].n_applied < want_applied)
			return 0;
	return 1;
}

static int propose_range(int from, int to)
{
	for (int k = from; k < to; k++) {
		char p[16];
		struct cons_payload pl;
		int l = leader(), rc;

		if (!l)
			return -1;
		snprintf(p, sizeof(p), "op-%d", k);
		pl = (struct cons_payload){(const uint8_t *)p, (uint32_t)strlen(p)};
		rc = cons_node_propose(nodes[l].cn, &pl, 1);
		if (rc != 0) {
			printf("# propose op-%d at %d: %d\n", k, l, rc);
			return rc;
		}
	}
	return 0;
}

static void check_same(int upto)
{
	for (int i = 1; i <= N; i++) {
		if (!nodes[i].cn)
			continue;
		for (int k = 0; k < upto; k++) {
			char want[16];
			snprintf(want, sizeof(want), "op-%d", k);
			TAP_STREQ(nodes[i].applied[k], want);
		}
	}
}

static void test_cluster(void)
{
	struct timeval tv = {0, 10000};
	struct event *ticker;
	int l;

	snprintf(dir, sizeof(dir), "/tmp/qfs-cluster-XXXXXX");
	TAP_ASSERT(mkdtemp(dir) != NULL);
	base = event_base_new();
	ticker = event_new(base, -1, EV_PERSIST, tick, NULL);
	event_add(ticker, &tv);
	for (int i = 1; i <= N; i++)
		start(i);
	for (int i = 1; i <= N; i++)
		connect_peers(i);

	TAP_ASSERT(run_until(leader, 5000));
	l = leader();
	printf("# leader %d in epoch %u\n", l, nodes[l].epoch);
	TAP_EQ(propose_range(0, 100), 0);
	want_applied = 100;
	TAP_ASSERT(run_until(all_applied, 5000));
	check_same(100);

	/* The leader shuts down; the other two elect one and go on. */
	stop(l);
	nodes[l].state = 0;
	TAP_ASSERT(run_until(leader, 5000));
	printf("# new leader %d in epoch %u\n", leader(), nodes[leader()].epoch);
	TAP_EQ(propose_range(100, 120), 0);
	want_applied = 120;
	TAP_ASSERT(run_until(all_applied, 5000));

	/* The old leader restarts from its SQLite log and catches up. */
	start(l);
	connect_peers(l);
	TAP_ASSERT(run_until(all_applied, 8000));
	check_same(120);
	for (int i = 1; i <= N; i++)
		TAP_EQ(nodes[i].n_applied, 120);

	for (int i = 1; i <= N; i++)
		stop(i);
	event_free(ticker);
	event_base_free(base);
	for (int i = 1; i <= N; i++) {
		char p[320];
		snprintf(p, sizeof(p), "%s/log-%d.db", dir, i);
		unlink(p);
		strcat(p, "-wal");
		unlink(p);
		p[strlen(p) - 4] = '\0';
		strcat(p, "-shm");
		unlink(p);
	}
	rmdir(dir);
}

static const struct tap_case cases[] = {
    {"three_nodes_sqlite_tcp", test_cluster},
};

TAP_MAIN(cases)
