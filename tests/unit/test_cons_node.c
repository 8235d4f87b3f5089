/*
 * test_cons_node.c - the host driver: recovery from the store and the
 * host's snapshot, and a store that completes inside its own calls.
 */
#include <errno.h>
#include <string.h>

#include "cons_node.h"
#include "tap.h"

static struct cons_entry disk[3] = {
    {0x100000000ull, CONS_ENTRY_EPOCH, 0, NULL},
    {0x100000001ull, CONS_ENTRY_TXN, 1, (const uint8_t *)"a"},
    {0x300000000ull, CONS_ENTRY_EPOCH, 0, NULL}};
static size_t disk_n;
static zxid_t host_snap;
static uint64_t now, applied, writes;

static zxid_t disk_commit, stored_commit;

static int st_load(struct cons_store *s, struct cons_meta *meta, zxid_t *snap,
		   zxid_t *commit, const struct cons_entry **e, size_t *n)
{
	meta->epoch = 3;
	meta->vote = 0;
	*snap = 0;
	*commit = disk_commit;
	*e = disk;
	*n = disk_n;
	return 0;
}

/* Completes inside the call: the driver must queue, not recurse. */
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
	writes++;
	if (commit > stored_commit)
		stored_commit = commit;
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
	return 0;
}

static void tr_set_recv(struct cons_transport *t, cons_recv_fn fn, void *arg)
{
}

static void tr_close(struct cons_transport *t)
{
}

static uint64_t h_now(void *arg)
{
	return now;
}

static struct cons_node *self_node;
static int reentered;

static void h_apply(void *arg, const struct cons_entry *e, size_t n)
{
	struct cons_payload p = {(const uint8_t *)"z", 1};

	applied += n;
	/* Propose from inside a callback once: queued, not refused. */
	if (self_node && !reentered && e[n - 1].type == CONS_ENTRY_TXN) {
		reentered = 1;
		TAP_EQ(cons_node_propose(self_node, &p, 1), 0);
	}
}

static int h_snap_get(void *arg, zxid_t *zxid, const uint8_t **blob, uint32_t *len)
{
	*zxid = host_snap;
	*blob = (const uint8_t *)"";
	*len = 0;
	return 0;
}

static int h_snap_install(void *arg, zxid_t zxid, const uint8_t *blob, uint32_t len)
{
	return 0;
}

static uint64_t read_token;
static zxid_t read_zxid;
static int read_status = 1;

static void h_read_ready(void *arg, uint64_t token, zxid_t zxid, int status)
{
	read_token = token;
	read_zxid = zxid;
	read_status = status;
}

static uint32_t ready_epoch;
static int ready_calls;

static void h_prepare_ready(void *arg, uint32_t epoch)
{
	ready_epoch = epoch;
	ready_calls++;
	/* The epoch entry was applied before this. */
	TAP_ASSERT(applied > 0);
}

static struct cons_store store = {NULL,	      st_load,	st_meta, st_append,
				  st_compact, st_reset, st_close};
static struct cons_transport tr = {NULL, tr_send, tr_set_recv, tr_close};
static const struct cons_node_host host = {
    .now = h_now,
    .apply = h_apply,
    .snap_get = h_snap_get,
    .snap_install = h_snap_install,
    .read_ready = h_read_ready,
    .prepare_ready = h_prepare_ready,
};
static struct cons_member one[1] = {{1}};

static struct cons_node *start(void)
{
	struct cons_config cfg = {0};
	struct cons_node *n;

	cfg.self = 1;
	cfg.members = one;
	cfg.n_members = 1;
	cfg.quorum = QUORUM_MAJORITY;
	cfg.election_timeout_ms = 100;
	cfg.heartbeat_ms = 20;
	TAP_EQ(cons_node_new(&cfg, &store, &tr, &host, &n), 0);
	return n;
}

static void test_recover_log(void)
{
	struct cons_status st;
	struct cons_node *n;

	disk_n = 3;
	host_snap = 0x100000001ull; /* in the log: what follows is kept */
	n = start();
	cons_status(cons_node_core(n), &st);
	TAP_EQ(st.snap_zxid, 0x100000001ull);
	TAP_EQ(st.last_zxid, 0x300000000ull);
	TAP_EQ(st.epoch, 3);
	cons_node_free(n);
}

/*
 * Regression (simulator seed 1014133): after a crash between installing a
 * snapshot and resetting the log, the entries after the snapshot's zxid
 * are kept even though the log lacks that zxid: they may have been written
 * and acknowledged after the install, and the core's log must match the
 * store's. Dropping them lost acknowledged entries and misaligned writes.
 */
static void test_recover_after_install(void)
{
	struct cons_status st;
	struct cons_node *n;

	disk_n = 3;
	host_snap = 0x200000005ull;
	n = start();
	cons_status(cons_node_core(n), &st);
	TAP_EQ(st.snap_zxid, 0x200000005ull);
	TAP_EQ(st.last_zxid, 0x300000000ull);
	TAP_EQ(st.n_entries, 1);
	cons_node_free(n);
}

/* The watermark is applied to the host from inside cons_node_new, before
 * it returns; the tail after it is not. */
static void test_recover_watermark(void)
{
	struct cons_status st;
	struct cons_node *n;

	disk_n = 3;
	host_snap = 0;
	disk_commit = 0x100000001ull;
	applied = 0;
	n = start();
	TAP_EQ(applied, 2);
	cons_status(cons_node_core(n), &st);
	TAP_EQ(st.applied_zxid, 0x100000001ull);
	TAP_EQ(st.commit_zxid, 0x100000001ull);
	TAP_EQ(st.last_zxid, 0x300000000ull);
	cons_node_free(n);
	disk_commit = 0;
}

static void test_sync_store(void)
{
	struct cons_payload p[2] = {{(const uint8_t *)"x", 1}, {(const uint8_t *)"y", 1}};
	struct cons_status st;
	struct cons_node *n;

	disk_n = 0;
	host_snap = 0;
	applied = writes = 0;
	n = start();
	for (now = 0; now < 1000; now += 10)
		cons_node_tick(n);
	cons_status(cons_node_core(n), &st);
	TAP_EQ(st.state, CONS_LEADER);
	TAP_EQ(ready_calls, 1);
	TAP_EQ(ready_epoch, 4);
	TAP_EQ(cons_node_can_prepare(n), 1);
	TAP_EQ(cons_node_next_zxid(n), 0x400000001ull);
	/* The epoch entry, then its commit point written alone at an idle
	 * tick (the durable watermark, no entries). */
	TAP_EQ(writes, 2);
	self_node = n;
	TAP_EQ(cons_node_propose(n, p, 2), 0);
	self_node = NULL;
	/* The epoch entry, both proposals, and the one made from apply; the
	 * proposals in one write, the one from apply in another. */
	TAP_EQ(applied, 4);
	TAP_EQ(writes, 4);
	TAP_EQ(cons_node_next_zxid(n), 0x400000004ull);
	/* The store was told the commit point with each write. */
	TAP_EQ(stored_commit, 0x400000002ull);
	/* A one-member ensemble is its own quorum: the read index is answered
	 * inside the call, at the commit point. */
	TAP_EQ(cons_node_read_index(n, 77), 0);
	TAP_EQ(read_status, 0);
	TAP_EQ(read_token, 77);
	TAP_EQ(read_zxid, 0x400000003ull);
	TAP_EQ(cons_node_compact(n, 0x400000002ull), 0);
	TAP_EQ(cons_node_compact(n, 0x400000009ull), -EINVAL); /* not applied */
	cons_status(cons_node_core(n), &st);
	TAP_EQ(st.snap_zxid, 0x400000002ull);
	cons_node_free(n);
}

static const struct tap_case cases[] = {
    {"cons_node applies up to the store's commit watermark at start",
     test_recover_watermark},
    {"cons_node recovers the log after the host's snapshot", test_recover_log},
    {"cons_node regression: keeps the log after an interrupted snapshot install",
     test_recover_after_install},
    {"cons_node queues completions a store makes inside its calls, and proposals made "
     "from callbacks; a read index completes through read_ready",
     test_sync_store},
};

TAP_MAIN(cases)
