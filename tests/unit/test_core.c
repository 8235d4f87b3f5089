/*
 * test_core.c - the write pipeline: deferred completions, FIFO order,
 * subscribers before replies, sync, sessions (ids, passwords, expiry,
 * recovery, close by owner) and the reaper.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "session.h"
#include "tap.h"
#include "test_core_util.h"
/* The chunked snapshot install is internal to libqcore. */
#include "core_int.h"
#include "core_req.h"
#include "zerr.h"

struct order_log {
	char ev[64][128];
	int n;
};

static void log_event(void *arg, const struct tree_event *ev)
{
	struct order_log *l = arg;

	if (l->n < 64)
		snprintf(l->ev[l->n++], 128, "%c %s",
			 ev->type == TREE_CREATED   ? 'C'
			 : ev->type == TREE_DELETED ? 'D'
			 : ev->type == TREE_DATA    ? 'M'
						    : '?',
			 ev->path);
}

struct rec_done {
	struct order_log *l;
	int err;
	int done;
	zxid_t zxid;
};

static void rec_done_cb(void *arg, const struct zresult *res)
{
	struct rec_done *r = arg;

	r->done = 1;
	r->err = res->err;
	r->zxid = res->zxid;
	if (r->l && r->l->n < 64)
		snprintf(r->l->ev[r->l->n++], 128, "done %s", zerr_str(res->err));
}

static void create_req(struct zreq *r, const char *path)
{
	memset(r, 0, sizeof(*r));
	r->op = ZOP_CREATE;
	r->path = path;
	r->acl = acl_open_unsafe();
	r->version = -1;
	r->child_kind = -1;
}

static void test_submit_deferred_and_ordered(void)
{
	struct tc t;
	struct order_log l = {0};
	struct rec_done a = {&l}, b = {&l}, c = {&l};
	struct zreq r;

	tc_init(&t);
	TAP_EQ(tc_open(&t), 0);
	TAP_EQ(qcore_subscribe(t.c, log_event, &l), 0);
	create_req(&r, "/a");
	TAP_EQ(qcore_submit(t.c, 0, 1, &r, NULL, rec_done_cb, &a), 0);
	/* Fails in prepare (no parent), but must wait for /a before it. */
	create_req(&r, "/x/y");
	TAP_EQ(qcore_submit(t.c, 0, 2, &r, NULL, rec_done_cb, &b), 0);
	create_req(&r, "/a/b");
	TAP_EQ(qcore_submit(t.c, 0, 3, &r, NULL, rec_done_cb, &c), 0);
	TAP_EQ(a.done + b.done + c.done, 0);
	TAP_ASSERT(tc_wait(&t, &c.done, 10000));
	TAP_EQ(a.err, ZOK);
	TAP_EQ(b.err, ZNONODE);
	TAP_EQ(c.err, ZOK);
	TAP_EQ(l.n, 5);
	TAP_STREQ(l.ev[0], "C /a");
	TAP_STREQ(l.ev[1], "done OK");
	TAP_STREQ(l.ev[2], "done NONODE");
	TAP_STREQ(l.ev[3], "C /a/b");
	TAP_STREQ(l.ev[4], "done OK");
	TAP_EQ(zxid_epoch(a.zxid), 1);
	TAP_EQ(c.zxid, a.zxid + 1);
	tc_done(&t);
}

static void test_prepare_failure_deferred(void)
{
	struct tc t;
	struct rec_done a = {0};
	struct zreq r;

	tc_init(&t);
	TAP_EQ(tc_open(&t), 0);
	create_req(&r, "bad path");
	TAP_EQ(qcore_submit(t.c, 0, 1, &r, NULL, rec_done_cb, &a), 0);
	TAP_EQ(a.done, 0);
	TAP_ASSERT(tc_wait(&t, &a.done, 5000));
	TAP_EQ(a.err, ZBADARGUMENTS);
	tc_done(&t);
}

static void test_sync(void)
{
	struct tc t;
	struct rec_done a = {0}, s = {0};
	struct zreq r;

	tc_init(&t);
	TAP_EQ(tc_open(&t), 0);
	create_req(&r, "/s");
	TAP_EQ(qcore_submit(t.c, 0, 1, &r, NULL, rec_done_cb, &a), 0);
	TAP_EQ(qcore_sync(t.c, rec_done_cb, &s), 0);
	TAP_EQ(s.done, 0);
	TAP_ASSERT(tc_wait(&t, &s.done, 5000));
	TAP_EQ(a.done, 1);
	TAP_ASSERT(tree_lookup(qcore_tree(t.c), "/s") != NULL);
	/* Nothing pending: still deferred. */
	s.done = 0;
	TAP_EQ(qcore_sync(t.c, rec_done_cb, &s), 0);
	TAP_EQ(s.done, 0);
	TAP_ASSERT(tc_wait(&t, &s.done, 5000));
	tc_done(&t);
}

static void test_group_commit(void)
{
	struct tc t;
	struct qcore_stats st;
	char path[64];
	int done = 0, errs = 0, i;

	tc_init(&t);
	TAP_EQ(tc_open(&t), 0);
	for (i = 0; i < 500; i++) {
		snprintf(path, sizeof(path), "/n%d", i);
		TAP_EQ(tc_create_async(&t, path, "v", 1, &done, &errs), 0);
	}
	tc_wait_count(&t, &done, 500, 20000);
	TAP_EQ(done, 500);
	TAP_EQ(errs, 0);
	qcore_stats(t.c, &st);
	TAP_EQ(st.txns, 500);
	/* And the leader's epoch entry. */
	TAP_EQ(st.log_txns, 501);
	TAP_EQ(st.outstanding, 0);
	printf("# 500 txns in %llu fsyncs\n", (unsigned long long)st.fsyncs);
	TAP_ASSERT(st.fsyncs < 500);
	tc_done(&t);
}

static void test_session_ids_and_password(void)
{
	struct tc t;
	uint8_t pw1[16], pw2[16];
	int64_t id, id2;

	tc_init(&t);
	t.o.server_id = 7;
	TAP_EQ(tc_open(&t), 0);
	id = tc_session_open(&t, 30000, "host/mnt");
	TAP_ASSERT(id > 0);
	TAP_EQ((uint64_t)id >> 56, 7);
	id2 = tc_session_open(&t, 30000, "host/mnt");
	TAP_ASSERT(id2 != id);
	TAP_ASSERT(tree_session_get(qcore_tree(t.c), id) != NULL);
	qcore_session_password(t.c, id, pw1);
	TAP_EQ(qcore_session_touch(t.c, id), ZOK);
	TAP_EQ(qcore_session_touch(t.c, 12345), ZSESSIONEXPIRED);
	tc_close(&t);
	TAP_EQ(tc_open(&t), 0);
	qcore_session_password(t.c, id, pw2);
	TAP_ASSERT(memcmp(pw1, pw2, 16) == 0);
	qcore_session_password(t.c, id2, pw2);
	TAP_ASSERT(memcmp(pw1, pw2, 16) != 0);
	TAP_ASSERT(tree_session_get(qcore_tree(t.c), id) != NULL);
	tc_done(&t);
}

static void test_session_close_removes_ephemerals(void)
{
	struct tc t;
	struct rec_done d = {0};
	int64_t id;

	tc_init(&t);
	TAP_EQ(tc_open(&t), 0);
	id = tc_session_open(&t, 30000, "me");
	TAP_ASSERT(id > 0);
	TAP_EQ(tc_create_s(&t, id, "/e", "x", ZCM_EPHEMERAL), ZOK);
	TAP_ASSERT(tree_lookup(qcore_tree(t.c), "/e") != NULL);
	TAP_EQ(qcore_session_close(t.c, id, rec_done_cb, &d), 0);
	TAP_ASSERT(tc_wait(&t, &d.done, 5000));
	TAP_EQ(d.err, ZOK);
	TAP_ASSERT(tree_lookup(qcore_tree(t.c), "/e") == NULL);
	TAP_ASSERT(tree_session_get(qcore_tree(t.c), id) == NULL);
	TAP_EQ(qcore_session_touch(t.c, id), ZSESSIONEXPIRED);
	tc_done(&t);
}

struct del_watch {
	int deleted;
};

static void watch_delete(void *arg, const struct tree_event *ev)
{
	struct del_watch *w = arg;

	if (ev->type == TREE_DELETED)
		w->deleted++;
}

static void test_session_expiry(void)
{
	struct tc t;
	struct del_watch w = {0};
	int64_t id, id2;
	int i;

	tc_init(&t);
	t.o.tick_ms = 50;
	t.o.min_session_timeout_ms = 200;
	t.o.max_session_timeout_ms = 1000;
	TAP_EQ(tc_open(&t), 0);
	TAP_EQ(qcore_subscribe(t.c, watch_delete, &w), 0);
	id = tc_session_open(&t, 200, "a");
	id2 = tc_session_open(&t, 200, "b");
	TAP_ASSERT(id > 0 && id2 > 0);
	TAP_EQ(tc_create_s(&t, id, "/eph", "", ZCM_EPHEMERAL), ZOK);
	/* id2 is kept alive by touches, id is not. */
	for (i = 0; i < 10; i++) {
		tc_run_for(&t, 60);
		TAP_EQ(qcore_session_touch(t.c, id2), ZOK);
	}
	TAP_ASSERT(tree_session_get(qcore_tree(t.c), id) == NULL);
	TAP_ASSERT(tree_lookup(qcore_tree(t.c), "/eph") == NULL);
	TAP_EQ(w.deleted, 1);
	TAP_ASSERT(tree_session_get(qcore_tree(t.c), id2) != NULL);
	tc_done(&t);
}

static void test_recovered_session_gets_full_timeout(void)
{
	struct tc t;
	int64_t id;

	tc_init(&t);
	t.o.tick_ms = 50;
	t.o.min_session_timeout_ms = 400;
	t.o.max_session_timeout_ms = 1000;
	TAP_EQ(tc_open(&t), 0);
	id = tc_session_open(&t, 400, "a");
	TAP_ASSERT(id > 0);
	TAP_EQ(tc_create_s(&t, id, "/eph", "", ZCM_EPHEMERAL), ZOK);
	tc_close(&t);
	/* Down for longer than the timeout: the clock restarts on open. */
	usleep(600 * 1000);
	TAP_EQ(tc_open(&t), 0);
	TAP_ASSERT(tree_session_get(qcore_tree(t.c), id) != NULL);
	tc_run_for(&t, 200);
	TAP_ASSERT(tree_lookup(qcore_tree(t.c), "/eph") != NULL);
	TAP_EQ(qcore_session_touch(t.c, id), ZOK);
	tc_run_for(&t, 800);
	TAP_ASSERT(tree_lookup(qcore_tree(t.c), "/eph") == NULL);
	TAP_ASSERT(tree_session_get(qcore_tree(t.c), id) == NULL);
	tc_done(&t);
}

static void test_close_owner(void)
{
	struct tc t;
	struct rec_done d = {0};
	int64_t a, b, c;

	tc_init(&t);
	TAP_EQ(tc_open(&t), 0);
	a = tc_session_open(&t, 30000, "host/mnt");
	b = tc_session_open(&t, 30000, "host/mnt");
	c = tc_session_open(&t, 30000, "10.0.0.1:5000");
	TAP_EQ(tc_create_s(&t, a, "/la", "", ZCM_EPHEMERAL), ZOK);
	TAP_EQ(tc_create_s(&t, b, "/lb", "", ZCM_EPHEMERAL), ZOK);
	TAP_EQ(tc_create_s(&t, c, "/lc", "", ZCM_EPHEMERAL), ZOK);
	TAP_EQ(qcore_session_close_owner(t.c, "host/mnt", rec_done_cb, &d), 0);
	TAP_EQ(d.done, 0);
	TAP_ASSERT(tc_wait(&t, &d.done, 5000));
	TAP_EQ(d.err, ZOK);
	TAP_ASSERT(tree_lookup(qcore_tree(t.c), "/la") == NULL);
	TAP_ASSERT(tree_lookup(qcore_tree(t.c), "/lb") == NULL);
	TAP_ASSERT(tree_lookup(qcore_tree(t.c), "/lc") != NULL);
	/* Nobody left: still one deferred callback. */
	d.done = 0;
	TAP_EQ(qcore_session_close_owner(t.c, "host/mnt", rec_done_cb, &d), 0);
	TAP_EQ(d.done, 0);
	TAP_ASSERT(tc_wait(&t, &d.done, 5000));
	tc_done(&t);
}

static void test_reaper(void)
{
	struct tc t;
	struct del_watch w = {0};
	struct zreq r;
	struct rec_done d = {0};

	tc_init(&t);
	t.o.container_check_ms = 50;
	TAP_EQ(tc_open(&t), 0);
	TAP_EQ(qcore_subscribe(t.c, watch_delete, &w), 0);
	TAP_EQ(tc_create(&t, "/c", "", ZCM_CONTAINER), ZOK);
	TAP_EQ(tc_create(&t, "/never", "", ZCM_CONTAINER), ZOK);
	TAP_EQ(tc_create(&t, "/c/kid", "", ZCM_PERSISTENT), ZOK);
	create_req(&r, "/ttl");
	r.op = ZOP_CREATETTL;
	r.mode = ZCM_PERSISTENT_WITH_TTL;
	r.ttl_ms = 150;
	TAP_EQ(qcore_submit(t.c, 0, 0, &r, NULL, rec_done_cb, &d), 0);
	TAP_ASSERT(tc_wait(&t, &d.done, 5000));
	TAP_EQ(d.err, ZOK);
	tc_run_for(&t, 120);
	TAP_ASSERT(tree_lookup(qcore_tree(t.c), "/c") != NULL);
	TAP_ASSERT(tree_lookup(qcore_tree(t.c), "/ttl") != NULL);
	TAP_EQ(tc_delete(&t, "/c/kid"), ZOK);
	tc_run_for(&t, 400);
	TAP_ASSERT(tree_lookup(qcore_tree(t.c), "/c") == NULL);
	TAP_ASSERT(tree_lookup(qcore_tree(t.c), "/ttl") == NULL);
	/* A container that never had a child stays. */
	TAP_ASSERT(tree_lookup(qcore_tree(t.c), "/never") != NULL);
	TAP_EQ(w.deleted, 3);
	tc_done(&t);
}

static void test_closing_completes_pending(void)
{
	struct tc t;
	char path[32];
	int done = 0, errs = 0, i;

	tc_init(&t);
	TAP_EQ(tc_open(&t), 0);
	for (i = 0; i < 50; i++) {
		snprintf(path, sizeof(path), "/p%d", i);
		TAP_EQ(tc_create_async(&t, path, "v", 1, &done, &errs), 0);
	}
	tc_close(&t);
	TAP_EQ(done, 50);
	TAP_EQ(errs, 0);
	TAP_EQ(tc_open(&t), 0);
	TAP_ASSERT(tree_lookup(qcore_tree(t.c), "/p49") != NULL);
	tc_done(&t);
}

static void test_quiesce(void)
{
	struct tc t;
	struct rec_done late = {0};
	struct zreq r;
	char path[32];
	int done = 0, errs = 0, i;

	tc_init(&t);
	TAP_EQ(tc_open(&t), 0);
	for (i = 0; i < 20; i++) {
		snprintf(path, sizeof(path), "/q%d", i);
		TAP_EQ(tc_create_async(&t, path, "v", 1, &done, &errs), 0);
	}
	qcore_quiesce(t.c);
	TAP_EQ(done, 20);
	TAP_EQ(errs, 0);
	TAP_ASSERT(tree_lookup(qcore_tree(t.c), "/q19") != NULL);
	create_req(&r, "/late");
	TAP_EQ(qcore_submit(t.c, 0, 0, &r, NULL, rec_done_cb, &late), 0);
	TAP_EQ(late.done, 0);
	TAP_ASSERT(tc_wait(&t, &late.done, 5000));
	TAP_EQ(late.err, ZCLOSING);
	qcore_quiesce(t.c);
	tc_close(&t);
	TAP_EQ(tc_open(&t), 0);
	TAP_ASSERT(tree_lookup(qcore_tree(t.c), "/q19") != NULL);
	TAP_ASSERT(tree_lookup(qcore_tree(t.c), "/late") == NULL);
	tc_done(&t);
}

/* What sesstrack_foreach saw (for dump's expiry times). */
struct seen_expiry {
	int64_t c; /* the session whose expiry is kept in at_of_c */
	int n;
	int64_t sum_at, at_of_c;
};

static void note_expiry(void *arg, int64_t id, int64_t at)
{
	struct seen_expiry *x = arg;

	x->n++;
	x->sum_at += at;
	if (id == x->c)
		x->at_of_c = at;
}

/* The expiry queue alone, on a made-up clock. */
static void test_expiry_queue(void)
{
	uint8_t secret[SESSION_SECRET_LEN] = {1, 2, 3};
	struct sesstrack *st = sesstrack_new(3, 100, 1000, secret, 1700000000000);
	int64_t ids[8], a, b, c;
	uint8_t pw1[16], pw2[16];

	TAP_ASSERT(st != NULL);
	a = sesstrack_next_id(st);
	b = sesstrack_next_id(st);
	c = sesstrack_next_id(st);
	TAP_EQ((uint64_t)a >> 56, 3);
	TAP_EQ(b, a + 1);
	TAP_EQ(sesstrack_add(st, a, 300, 1000), 0); /* bucket roundUp(1300) = 1400 */
	TAP_EQ(sesstrack_add(st, b, 300, 1050), 0); /* 1400 too: same bucket */
	TAP_EQ(sesstrack_add(st, c, 500, 1000), 0); /* 1600 */
	TAP_EQ(sesstrack_expire(st, 1399, ids, 8), 0);
	{
		struct seen_expiry x = {.c = c};

		sesstrack_foreach(st, note_expiry, &x);
		TAP_EQ(x.n, 3);
		TAP_EQ(x.sum_at, 1400 + 1400 + 1600);
		TAP_EQ(x.at_of_c, 1600);
	}
	TAP_EQ(sesstrack_touch(st, b, 1250), 0); /* moves b to 1600 */
	TAP_EQ(sesstrack_expire(st, 1400, ids, 8), 1);
	TAP_EQ(ids[0], a);
	TAP_EQ(sesstrack_touch(st, a, 1400), -ENOENT); /* expiring: no way back */
	TAP_EQ(sesstrack_set_closing(st, c), 0);       /* closing: not expired again */
	{
		struct seen_expiry x = {.c = c};

		sesstrack_foreach(st, note_expiry, &x);
		TAP_EQ(x.n, 1); /* b alone: a is expiring, c closing */
		TAP_EQ(x.at_of_c, 0);
	}
	TAP_EQ(sesstrack_expire(st, 5000, ids, 8), 1);
	TAP_EQ(ids[0], b);
	TAP_EQ(sesstrack_count(st), 3);
	/* After a stall every live session starts its timeout again. */
	{
		int64_t d = sesstrack_next_id(st);

		TAP_EQ(sesstrack_add(st, d, 300, 5000), 0); /* roundUp(5300) = 5400 */
		sesstrack_touch_all(st, 9000);		    /* roundUp(9300) = 9400 */
		TAP_EQ(sesstrack_expire(st, 9399, ids, 8), 0);
		TAP_EQ(sesstrack_expire(st, 9400, ids, 8), 1);
		TAP_EQ(ids[0], d);
		sesstrack_remove(st, d);
	}
	sesstrack_remove(st, a);
	sesstrack_remove(st, b);
	sesstrack_remove(st, c);
	TAP_EQ(sesstrack_count(st), 0);
	/* A recovered id above the counter pushes it on. */
	TAP_EQ(sesstrack_add(st, c + 100, 300, 6000), 0);
	TAP_EQ(sesstrack_next_id(st), c + 101);
	/* Passwords: stable, and differ between ids. */
	sesstrack_password(st, a, pw1);
	sesstrack_password(st, a, pw2);
	TAP_ASSERT(memcmp(pw1, pw2, 16) == 0);
	sesstrack_password(st, b, pw2);
	TAP_ASSERT(memcmp(pw1, pw2, 16) != 0);
	sesstrack_free(st);
}

static void test_lock(void)
{
	struct tc t;
	struct qcore *c2 = NULL;
	char err[512];

	tc_init(&t);
	TAP_EQ(tc_open(&t), 0);
	TAP_ASSERT(qcore_open(&t.o, &c2, err, sizeof(err)) < 0);
	TAP_ASSERT(strstr(err, "lock") != NULL);
	tc_done(&t);
}

/* The changes a subscriber heard, as "C /path", "D /path", "W /path". */
struct heard {
	char ev[64][80];
	int n;
};

static void hear(void *arg, const struct tree_event *ev)
{
	struct heard *h = arg;

	if (h->n < 64)
		snprintf(h->ev[h->n++], sizeof(h->ev[0]), "%c %s",
			 ev->type == TREE_CREATED   ? 'C'
			 : ev->type == TREE_DELETED ? 'D'
			 : ev->type == TREE_DATA    ? 'W'
						    : 'O',
			 ev->path);
}

static int heard(const struct heard *h, const char *what)
{
	for (int i = 0; i < h->n; i++)
		if (!strcmp(h->ev[i], what))
			return 1;
	return 0;
}

/* Copy a snapshot file of one core into another through the chunked
 * install (what a follower too far behind gets from its leader): the tree
 * becomes the snapshot's and the subscribers hear the difference. */
static void test_snapshot_install_raises_the_difference(void)
{
	struct tc a, b;
	struct heard h = {0};
	uint8_t buf[4096];
	uint64_t total, off;
	int same_keep;
	zxid_t z;

	tc_init(&a);
	tc_init(&b);
	TAP_EQ(tc_open(&a), 0);
	TAP_EQ(tc_open(&b), 0);
	/* b: an old state; a: where the ensemble went meanwhile. */
	TAP_EQ(tc_create(&b, "/keep", "old", ZCM_PERSISTENT), ZOK);
	TAP_EQ(tc_create(&b, "/gone", "x", ZCM_PERSISTENT), ZOK);
	TAP_EQ(tc_create(&b, "/gone/child", "y", ZCM_PERSISTENT), ZOK);
	TAP_EQ(tc_create(&a, "/keep", "old", ZCM_PERSISTENT), ZOK);
	TAP_EQ(tc_create(&a, "/new", "n", ZCM_PERSISTENT), ZOK);
	TAP_EQ(tc_create(&a, "/new/sub", "s", ZCM_PERSISTENT), ZOK);
	TAP_EQ(qcore_snapshot_now(a.c, a.err, sizeof(a.err)), 0);
	same_keep = tree_lookup(qcore_tree(a.c), "/keep")->stat.czxid ==
		    tree_lookup(qcore_tree(b.c), "/keep")->stat.czxid;
	TAP_EQ(qcore_subscribe(b.c, hear, &h), 0);
	TAP_EQ(core_snap_open(a.c, &z, &total), 0);
	TAP_ASSERT(total > 0);
	TAP_EQ(core_snap_begin(b.c, z, total), 0);
	for (off = 0; off < total; off += sizeof(buf)) {
		uint32_t len = total - off < sizeof(buf) ? (uint32_t)(total - off)
							 : (uint32_t)sizeof(buf);

		TAP_EQ(core_snap_read(a.c, z, off, buf, len), 0);
		TAP_EQ(core_snap_write(b.c, z, off, buf, len), 0);
	}
	TAP_EQ(core_snap_finish(b.c, z), 0);
	TAP_EQ(tree_last_zxid(qcore_tree(b.c)), z);
	TAP_EQ(tc_digest(&b), tc_digest(&a));
	/* /keep is the same node in both when it has the same czxid: no
	 * event then. Each core elects itself, and on a loaded machine one
	 * may need a second election (epoch 2, another czxid): then /keep was
	 * replaced, and the watchers hear exactly that. */
	if (same_keep) {
		TAP_ASSERT(!heard(&h, "D /keep") && !heard(&h, "W /keep"));
	} else {
		printf("# the cores' epochs differ: /keep was replaced\n");
		TAP_ASSERT(heard(&h, "D /keep") && heard(&h, "C /keep"));
	}
	TAP_ASSERT(heard(&h, "D /gone/child"));
	TAP_ASSERT(heard(&h, "D /gone"));
	TAP_ASSERT(heard(&h, "C /new"));
	TAP_ASSERT(heard(&h, "C /new/sub"));
	for (int i = 0; i < h.n; i++)
		printf("# heard %s\n", h.ev[i]);
	qcore_unsubscribe(b.c, hear, &h);
	/* And b goes on from there, also after a restart. */
	TAP_EQ(tc_create(&b, "/after", "a", ZCM_PERSISTENT), ZOK);
	tc_close(&b);
	TAP_EQ(tc_open(&b), 0);
	TAP_STREQ(tc_data(&b, "/new/sub"), "s");
	TAP_STREQ(tc_data(&b, "/after"), "a");
	TAP_ASSERT(tc_data(&b, "/gone") == NULL);
	tc_done(&a);
	tc_done(&b);
}

/*
 * A write another member sent to an earlier leader, relayed to this one by
 * the leader that stepped down: its origin failed it when that leader went,
 * so it must not commit now (the chaos harness saw one commit after the
 * same session's later writes). One sent to this leader's epoch is taken.
 */
static void forward_epoch(struct tc *t, const char *path, uint32_t epoch, uint64_t reqid)
{
	struct cons_payload p;
	struct zreq r;
	struct buf b;

	create_req(&r, path);
	buf_init(&b);
	TAP_EQ(core_req_encode(&b, 2, reqid, 0, (int32_t)reqid, &r, NULL), 0);
	core_req_set_epoch(&b, epoch);
	p.data = b.data;
	p.len = (uint32_t)b.len;
	core_forwarded(t->c, 2, &p, 1);
	buf_free(&b);
}

static void test_relayed_write_of_an_earlier_epoch(void)
{
	struct tc t;
	uint32_t e;

	tc_init(&t);
	TAP_EQ(tc_open(&t), 0);
	TAP_EQ(tc_create(&t, "/first", "", 0), ZOK);
	tc_close(&t);
	TAP_EQ(tc_open(&t), 0); /* a new election: a later epoch */
	TAP_EQ(tc_create(&t, "/second", "", 0), ZOK);
	e = t.c->role_epoch;
	TAP_ASSERT(e >= 2);
	forward_epoch(&t, "/stale", e - 1, 1);
	forward_epoch(&t, "/current", e, 2);
	forward_epoch(&t, "/held", 0, 3); /* never sent to a leader: not stale */
	TAP_EQ(tc_create(&t, "/after", "", 0), ZOK);
	TAP_ASSERT(tc_data(&t, "/stale") == NULL);
	TAP_ASSERT(tc_data(&t, "/current") != NULL);
	TAP_ASSERT(tc_data(&t, "/held") != NULL);
	tc_done(&t);
}

/* A committed write that does not fit this member's tree (made to differ
 * by the test hook) is skipped as a failed transaction and counted, and the
 * member goes on: it used to exit, and to exit again at every restart. A
 * restart without the difference applies the log whole. */
static void test_apply_failure_skipped(void)
{
	struct qcore_stats st;
	struct tc t;
	zxid_t set_zxid;

	tc_init(&t);
	TAP_EQ(setenv("QUORUMFS_FAULT_SKIP_CREATE", "/victim", 1), 0);
	TAP_EQ(tc_open(&t), 0);
	TAP_EQ(unsetenv("QUORUMFS_FAULT_SKIP_CREATE"), 0);
	TAP_EQ(tc_create(&t, "/victim", "a", 0), ZOK);
	TAP_ASSERT(tc_data(&t, "/victim") == NULL); /* the member "lost" it */
	qcore_stats(t.c, &st);
	TAP_EQ(st.apply_failed, 0);
	TAP_EQ(tc_set(&t, "/victim", "b"), ZDATAINCONSISTENCY);
	qcore_stats(t.c, &st);
	TAP_EQ(st.apply_failed, 1);
	set_zxid = st.last_zxid;
	TAP_EQ(st.apply_failed_zxid, set_zxid);
	TAP_EQ(tree_last_zxid(qcore_tree(t.c)), set_zxid);
	/* and it goes on */
	TAP_EQ(tc_create(&t, "/after", "x", 0), ZOK);
	TAP_STREQ(tc_data(&t, "/after"), "x");
	TAP_EQ(tc_set(&t, "/after", "y"), ZOK);
	tc_close(&t);
	/* restarted without the hook: the log replays whole */
	TAP_EQ(tc_open(&t), 0);
	TAP_STREQ(tc_data(&t, "/victim"), "b");
	TAP_STREQ(tc_data(&t, "/after"), "y");
	qcore_stats(t.c, &st);
	TAP_EQ(st.apply_failed, 0);
	tc_done(&t);
}

static const struct tap_case cases[] = {
    {"apply_failure_skipped", test_apply_failure_skipped},
    {"relayed_write_of_an_earlier_epoch", test_relayed_write_of_an_earlier_epoch},
    {"snapshot_install_raises_the_difference",
     test_snapshot_install_raises_the_difference},
    {"submit_deferred_and_ordered", test_submit_deferred_and_ordered},
    {"prepare_failure_deferred", test_prepare_failure_deferred},
    {"sync", test_sync},
    {"group_commit", test_group_commit},
    {"session_ids_and_password", test_session_ids_and_password},
    {"session_close_removes_ephemerals", test_session_close_removes_ephemerals},
    {"session_expiry", test_session_expiry},
    {"recovered_session_gets_full_timeout", test_recovered_session_gets_full_timeout},
    {"close_owner", test_close_owner},
    {"reaper", test_reaper},
    {"closing_completes_pending", test_closing_completes_pending},
    {"quiesce", test_quiesce},
    {"expiry_queue", test_expiry_queue},
    {"lock", test_lock},
};

TAP_MAIN(cases)
