/*
 * test_snapshot.c - snapshots on real files: background snapshots are
 * consistent at their zxid, restart = snapshot + log, purge keeps the right
 * files and log records, a damaged snapshot is refused (naming the file and
 * repair=yes) and repair falls back to the previous one without losing a
 * transaction.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "buf.h"
#include "crc32c.h"
#include "snapshot.h"
#include "snapshot_codec.h"
#include "tap.h"
#include "test_core_util.h"
#include "zerr.h"

static int64_t sql_int(const char *db, const char *stmt)
{
	sqlite3 *h = NULL;
	sqlite3_stmt *st = NULL;
	int64_t v = -1;

	if (sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
	    sqlite3_prepare_v2(h, stmt, -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	else
		printf("# %s: %s: %s\n", db, stmt, h ? sqlite3_errmsg(h) : "?");
	sqlite3_finalize(st);
	sqlite3_close(h);
	return v;
}

static int sql_exec(const char *db, const char *stmt)
{
	sqlite3 *h = NULL;
	int rc;

	rc = sqlite3_open(db, &h);
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(h, stmt, NULL, NULL, NULL);
	sqlite3_close(h);
	return rc;
}

static void writes(struct tc *t, const char *prefix, int n)
{
	char path[64];
	int i;

	for (i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "/%s%d", prefix, i);
		TAP_EQ(tc_create(t, path, path, ZCM_PERSISTENT), ZOK);
	}
}

static void wait_snapshots(struct tc *t, uint64_t want)
{
	struct qcore_stats st;
	int i;

	/* Up to 30 s: a forked snapshot of an ASan build on a loaded CI
	 * machine once took longer than the 5 s this allowed. */
	for (i = 0; i < 1200; i++) {
		qcore_stats(t->c, &st);
		if (st.snapshots >= want)
			return;
		tc_run_for(t, 25);
	}
	TAP_ASSERT(0);
}

static void test_background_snapshots_and_replay(void)
{
	struct tc t;
	zxid_t *z = NULL;
	size_t n = 0, i;
	char path[512], cmd[700];
	uint32_t before;
	int64_t sid;

	tc_init(&t);
	t.o.snap_count = 50;
	TAP_EQ(tc_open(&t), 0);
	sid = tc_session_open(&t, 30000, "host/mnt");
	TAP_EQ(tc_create_s(&t, sid, "/eph", "e", ZCM_EPHEMERAL), ZOK);
	writes(&t, "a", 175);
	wait_snapshots(&t, 3);
	before = tc_digest(&t);
	tc_close(&t);

	TAP_EQ(snapshot_list(t.dir, &z, &n), 0);
	TAP_ASSERT(n >= 3);
	for (i = 0; i < n; i++) {
		snapshot_path(path, sizeof(path), t.dir, z[i]);
		TAP_EQ(sql_int(path, "SELECT value FROM meta WHERE key = 'zxid'"),
		       (int64_t)z[i]);
		/* One create per transaction after the first two (session,
		 * ephemeral): the node count tells the snapshot's zxid. */
		if (zxid_counter(z[i]) >= 2)
			TAP_EQ(sql_int(path, "SELECT count(*) FROM nodes"),
			       4 + zxid_counter(z[i]) - 1);
	}
	if (system("command -v sqlite3 >/dev/null 2>&1") == 0) {
		snapshot_path(path, sizeof(path), t.dir, z[0]);
		snprintf(cmd, sizeof(cmd), "sqlite3 '%s' 'select count(*) from nodes'",
			 path);
		TAP_EQ(system(cmd), 0);
	}
	free(z);

	TAP_EQ(tc_open(&t), 0);
	TAP_EQ(tc_digest(&t), before);
	TAP_STREQ(tc_data(&t, "/eph"), "e");
	TAP_STREQ(tc_data(&t, "/a174"), "/a174");
	tc_done(&t);
}

static void test_snapshot_consistent_under_load(void)
{
	struct tc t;
	struct tree *tr;
	zxid_t *z = NULL, got;
	size_t n = 0, i;
	char path[512], err[512], name[64];
	int done = 0, errs = 0, k;

	tc_init(&t);
	t.o.snap_count = 100;
	t.o.snap_retain = 50;
	TAP_EQ(tc_open(&t), 0);
	for (k = 0; k < 1500; k++) {
		snprintf(name, sizeof(name), "/load%d", k);
		TAP_EQ(tc_create_async(&t, name, "x", 1, &done, &errs), 0);
		if (k % 50 == 49)
			tc_run_for(&t, 1);
	}
	TAP_ASSERT(tc_wait_count(&t, &done, 1500, 30000));
	TAP_EQ(errs, 0);
	wait_snapshots(&t, 2);
	tc_run_for(&t, 200);
	tc_close(&t);
	TAP_EQ(snapshot_list(t.dir, &z, &n), 0);
	TAP_ASSERT(n >= 3);
	for (i = 0; i < n; i++) {
		snapshot_path(path, sizeof(path), t.dir, z[i]);
		tr = tree_new();
		TAP_EQ(snapshot_load(path, tr, &got, err, sizeof(err)), 0);
		TAP_EQ(got, z[i]);
		/* Taken between two transactions, never inside one. */
		TAP_EQ(tree_node_count(tr), 4 + zxid_counter(z[i]));
		tree_free(tr);
	}
	free(z);
	tc_done(&t);
}

static void test_purge_keeps_retained(void)
{
	struct tc t;
	zxid_t *z = NULL, taken[8];
	size_t n = 0;
	char path[512], prefix[8];
	uint32_t before;
	int i;

	tc_init(&t);
	t.o.snap_retain = 3;
	TAP_EQ(tc_open(&t), 0);
	for (i = 0; i < 6; i++) {
		snprintf(prefix, sizeof(prefix), "p%d_", i);
		writes(&t, prefix, 10);
		TAP_EQ(qcore_snapshot_now(t.c, t.err, sizeof(t.err)), 0);
		taken[i] = tree_last_zxid(qcore_tree(t.c));
	}
	writes(&t, "tail", 5);
	before = tc_digest(&t);
	tc_run_for(&t, 100); /* the writer purges between batches */
	tc_close(&t);
	TAP_EQ(snapshot_list(t.dir, &z, &n), 0);
	TAP_EQ(n, 3);
	TAP_EQ(z[0], taken[5]);
	TAP_EQ(z[1], taken[4]);
	TAP_EQ(z[2], taken[3]);
	free(z);
	snprintf(path, sizeof(path), "%s/txnlog.db", t.dir);
	/* The oldest kept snapshot can still replay to the end. */
	TAP_EQ(sql_int(path, "SELECT min(zxid) FROM log"), (int64_t)taken[3] + 1);
	TAP_EQ(tc_open(&t), 0);
	TAP_EQ(tc_digest(&t), before);
	tc_done(&t);
}

static void damage_newest(struct tc *t, int how)
{
	zxid_t *z = NULL;
	size_t n = 0;
	char path[512];
	int fd;

	TAP_EQ(snapshot_list(t->dir, &z, &n), 0);
	TAP_ASSERT(n >= 2);
	snapshot_path(path, sizeof(path), t->dir, z[0]);
	free(z);
	if (how == 0) {
		/* Well-formed SQLite, wrong contents: only the checksum sees it. */
		TAP_EQ(
		    sql_exec(path, "UPDATE nodes SET mtime = mtime + 1 WHERE rowid = 6"),
		    SQLITE_OK);
	} else {
		fd = open(path, O_WRONLY);
		TAP_ASSERT(fd >= 0);
		TAP_EQ(pwrite(fd, "not a database at all, sorry!!", 30, 0), 30);
		close(fd);
	}
}

static void corrupt_snapshot_case(int how)
{
	struct tc t;
	uint32_t before;
	zxid_t last;

	tc_init(&t);
	TAP_EQ(tc_open(&t), 0);
	writes(&t, "b", 20);
	TAP_EQ(qcore_snapshot_now(t.c, t.err, sizeof(t.err)), 0);
	writes(&t, "c", 20);
	TAP_EQ(qcore_snapshot_now(t.c, t.err, sizeof(t.err)), 0);
	writes(&t, "d", 5);
	before = tc_digest(&t);
	last = tree_last_zxid(qcore_tree(t.c));
	tc_close(&t);
	damage_newest(&t, how);
	TAP_ASSERT(tc_open(&t) == -EBADMSG);
	printf("# %s\n", t.err);
	TAP_ASSERT(strstr(t.err, "snapshot.") != NULL);
	TAP_ASSERT(strstr(t.err, "repair=yes") != NULL);
	t.o.repair = 1;
	TAP_EQ(tc_open(&t), 0);
	/* Nothing lost: the previous snapshot plus the log. */
	TAP_EQ(tree_last_zxid(qcore_tree(t.c)), last);
	TAP_EQ(tc_digest(&t), before);
	tc_close(&t);
	/* The damaged file was moved aside: a normal start works again. */
	t.o.repair = 0;
	TAP_EQ(tc_open(&t), 0);
	TAP_EQ(tc_digest(&t), before);
	tc_done(&t);
}

static void test_corrupt_snapshot_checksum(void)
{
	corrupt_snapshot_case(0);
}

static void test_corrupt_snapshot_garbage(void)
{
	corrupt_snapshot_case(1);
}

static void test_truncated_snapshot_tmp_ignored(void)
{
	struct tc t;
	char path[512];
	int fd;

	tc_init(&t);
	TAP_EQ(tc_open(&t), 0);
	writes(&t, "e", 5);
	tc_close(&t);
	/* A crash while a snapshot was being written leaves only a .tmp. */
	snprintf(path, sizeof(path), "%s/snapshot.00000001000000ff.db.tmp", t.dir);
	fd = open(path, O_WRONLY | O_CREAT, 0600);
	TAP_ASSERT(fd >= 0);
	TAP_EQ(write(fd, "half", 4), 4);
	close(fd);
	TAP_EQ(tc_open(&t), 0);
	TAP_ASSERT(access(path, F_OK) < 0);
	TAP_STREQ(tc_data(&t, "/e4"), "/e4");
	tc_done(&t);
}

static void test_missing_log_detected(void)
{
	struct tc t;
	char path[512];

	tc_init(&t);
	TAP_EQ(tc_open(&t), 0);
	writes(&t, "f", 10);
	TAP_EQ(qcore_snapshot_now(t.c, t.err, sizeof(t.err)), 0);
	tc_close(&t);
	snprintf(path, sizeof(path), "%s/txnlog.db", t.dir);
	TAP_EQ(unlink(path), 0);
	TAP_ASSERT(tc_open(&t) == -EBADMSG);
	printf("# %s\n", t.err);
	TAP_ASSERT(strstr(t.err, "repair=yes") != NULL);
	tc_done(&t);
}

/*
 * Many sessions, snapshotted in the background and on demand, survive a
 * restart. The sessions live in a hash table; the loader reads them in id
 * order: a checksum that followed the table's order failed as soon as two
 * sessions sat in it out of id order.
 */
static void test_many_sessions_restart(void)
{
	struct tc t;
	zxid_t *z = NULL, got;
	size_t n = 0, i;
	char path[512], err[512], name[64], prefix[8];
	struct tree *tr;
	uint32_t before;
	int64_t sid[40];
	int k, round, rc;

	tc_init(&t);
	t.o.snap_count = 20;
	t.o.snap_retain = 100;
	TAP_EQ(tc_open(&t), 0);
	for (round = 0; round < 3; round++) {
		for (k = 0; k < 40; k++) {
			snprintf(name, sizeof(name), "owner%d/%d", round, k);
			sid[k] = tc_session_open(&t, 30000, name);
			snprintf(name, sizeof(name), "/e%d_%d", round, k);
			TAP_EQ(tc_create_s(&t, sid[k], name, name, ZCM_EPHEMERAL), ZOK);
		}
		snprintf(prefix, sizeof(prefix), "r%d_", round);
		writes(&t, prefix, 30);
		wait_snapshots(&t, (uint64_t)round + 1);
		TAP_EQ(qcore_snapshot_now(t.c, t.err, sizeof(t.err)), 0);
		before = tc_digest(&t);
		tc_close(&t);
		TAP_EQ(snapshot_list(t.dir, &z, &n), 0);
		TAP_ASSERT(n >= 2);
		for (i = 0; i < n; i++) {
			snapshot_path(path, sizeof(path), t.dir, z[i]);
			tr = tree_new();
			rc = snapshot_load(path, tr, &got, err, sizeof(err));
			if (rc)
				printf("# %s\n", err);
			TAP_EQ(rc, 0);
			tree_free(tr);
		}
		snapshot_path(path, sizeof(path), t.dir, z[0]);
		TAP_EQ(sql_int(path, "SELECT count(*) FROM sessions"), 40 * (round + 1));
		free(z);
		TAP_EQ(tc_open(&t), 0);
		TAP_EQ(tc_digest(&t), before);
	}
	tc_done(&t);
}

/* Sessions straight into a tree (ids spread over the whole int64 range,
 * negative ones too), written and loaded back: the same set. */
static int count_session(void *arg, const struct tree_session *s)
{
	(*(size_t *)arg)++;
	return 0;
}

static void test_sessions_roundtrip_any_ids(void)
{
	struct tree *a, *b;
	const struct tree_session *s;
	char dir[] = "/tmp/qcore-snapids.XXXXXX", path[512], err[512], owner[32];
	uint64_t x = 0x9e3779b97f4a7c15ULL;
	int64_t ids[500];
	size_t i, cnt = 0;
	zxid_t got;
	int rc;

	TAP_ASSERT(mkdtemp(dir) != NULL);
	a = tree_new();
	for (i = 0; i < 500; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		ids[i] = (int64_t)x;
		snprintf(owner, sizeof(owner), "10.0.0.%zu:%zu", i % 250, i);
		TAP_EQ(tree_load_session(a, ids[i], (int32_t)(1000 + i), owner), 0);
	}
	tree_set_last_zxid(a, 0x100000007ULL);
	TAP_EQ(snapshot_write(a, dir, 0x100000007ULL, err, sizeof(err)), 0);
	snapshot_path(path, sizeof(path), dir, 0x100000007ULL);
	b = tree_new();
	rc = snapshot_load(path, b, &got, err, sizeof(err));
	if (rc)
		printf("# %s\n", err);
	TAP_EQ(rc, 0);
	TAP_EQ(got, 0x100000007ULL);
	tree_session_foreach(b, count_session, &cnt);
	TAP_EQ(cnt, 500);
	for (i = 0; i < 500; i++) {
		s = tree_session_get(b, ids[i]);
		TAP_ASSERT(s != NULL);
		if (!s)
			continue;
		TAP_EQ(s->timeout_ms, (int32_t)(1000 + i));
		snprintf(owner, sizeof(owner), "10.0.0.%zu:%zu", i % 250, i);
		TAP_STREQ(s->owner, owner);
	}
	tree_free(a);
	tree_free(b);
	tc_rmrf(dir);
}

/* The checksum the writer of 0eaee6f computed: nodes in walk order, then
 * sessions in the order the tree's hash table yields them. */
struct old_crc {
	struct buf acl;
	uint32_t crc;
};

static int old_crc_node(void *arg, const struct znode *n)
{
	struct old_crc *o = arg;

	buf_reset(&o->acl);
	snapshot_acl_encode(&n->acl, &o->acl);
	o->crc = snapshot_node_crc(o->crc, n, n->data, o->acl.data, o->acl.len);
	return 0;
}

static int old_crc_session(void *arg, const struct tree_session *s)
{
	struct old_crc *o = arg;

	o->crc = snapshot_session_crc(o->crc, s->id, s->timeout_ms, s->owner);
	return 0;
}

/*
 * A snapshot as the old writer left it (sessions checksummed in hash order)
 * still loads, since the order can be reconstructed; the same file with a
 * session changed does not.
 */
static void test_legacy_hash_order_snapshot(void)
{
	struct tc t;
	struct old_crc o;
	struct tree *tr;
	zxid_t *z = NULL, got;
	size_t n = 0;
	char path[512], err[512], sql[256], name[64];
	uint32_t before;
	int k, rc, ordered = 0;

	tc_init(&t);
	TAP_EQ(tc_open(&t), 0);
	for (k = 0; k < 6; k++) {
		snprintf(name, sizeof(name), "host/%d", k);
		tc_session_open(&t, 10000 + k, name);
	}
	writes(&t, "l", 10);
	TAP_EQ(qcore_snapshot_now(t.c, t.err, sizeof(t.err)), 0);
	memset(&o, 0, sizeof(o));
	buf_init(&o.acl);
	tree_walk(qcore_tree(t.c), old_crc_node, &o);
	tree_session_foreach(qcore_tree(t.c), old_crc_session, &o);
	buf_free(&o.acl);
	before = tc_digest(&t);
	tc_close(&t);
	TAP_EQ(snapshot_list(t.dir, &z, &n), 0);
	TAP_ASSERT(n >= 1);
	snapshot_path(path, sizeof(path), t.dir, z[0]);
	free(z);
	/* If the table's order happened to be the id order, this tests
	 * nothing: the ids are fixed by the test, so that would be every run. */
	if (sql_int(path, "SELECT value FROM meta WHERE key = 'checksum'") ==
	    (int64_t)o.crc)
		ordered = 1;
	TAP_EQ(ordered, 0);
	snprintf(sql, sizeof(sql), "UPDATE meta SET value = %lld WHERE key = 'checksum'",
		 (long long)o.crc);
	TAP_EQ(sql_exec(path, sql), SQLITE_OK);
	tr = tree_new();
	rc = snapshot_load(path, tr, &got, err, sizeof(err));
	if (rc)
		printf("# %s\n", err);
	TAP_EQ(rc, 0);
	tree_free(tr);
	TAP_EQ(tc_open(&t), 0);
	TAP_EQ(tc_digest(&t), before);
	tc_close(&t);

	TAP_EQ(sql_exec(path, "UPDATE sessions SET timeout_ms = timeout_ms + 1 WHERE "
			      "rowid = (SELECT max(rowid) FROM sessions)"),
	       SQLITE_OK);
	tr = tree_new();
	TAP_EQ(snapshot_load(path, tr, &got, err, sizeof(err)), -EBADMSG);
	printf("# %s\n", err);
	TAP_ASSERT(strstr(err, "checksum") != NULL);
	tree_free(tr);
	tc_done(&t);
}

/* Every snapshot file (damaged or not, set aside or not) with its size,
 * mtime and contents' CRC, and the number of log records: what repair must
 * not change when it refuses. */
static uint32_t dir_state(const char *dir)
{
	struct dirent **v = NULL;
	struct stat st;
	char path[600], b[8192];
	uint32_t crc = 0;
	ssize_t r;
	int n, i, fd;

	n = scandir(dir, &v, NULL, alphasort);
	for (i = 0; i < n; i++) {
		if (strncmp(v[i]->d_name, "snapshot.", 9) == 0) {
			snprintf(path, sizeof(path), "%s/%s", dir, v[i]->d_name);
			crc = crc32c(crc, v[i]->d_name, strlen(v[i]->d_name));
			if (stat(path, &st) == 0) {
				crc = crc32c_u64(crc, (uint64_t)st.st_size);
				crc = crc32c_u64(crc, (uint64_t)st.st_mtim.tv_sec);
				crc = crc32c_u64(crc, (uint64_t)st.st_mtim.tv_nsec);
			}
			fd = open(path, O_RDONLY);
			while (fd >= 0 && (r = read(fd, b, sizeof(b))) > 0)
				crc = crc32c(crc, b, (size_t)r);
			if (fd >= 0)
				close(fd);
		}
		free(v[i]);
	}
	free(v);
	snprintf(path, sizeof(path), "%s/txnlog.db", dir);
	return crc32c_u64(crc, (uint64_t)sql_int(path, "SELECT count(*) FROM log"));
}

static int count_aside(const char *dir)
{
	struct dirent *e;
	DIR *d = opendir(dir);
	int n = 0;

	while (d && (e = readdir(d)))
		if (strstr(e->d_name, ".corrupt-"))
			n++;
	if (d)
		closedir(d);
	return n;
}

static void damage_all(struct tc *t)
{
	zxid_t *z = NULL;
	size_t n = 0, i;
	char path[512];

	TAP_EQ(snapshot_list(t->dir, &z, &n), 0);
	for (i = 0; i < n; i++) {
		snapshot_path(path, sizeof(path), t->dir, z[i]);
		TAP_EQ(
		    sql_exec(path, "UPDATE nodes SET mtime = mtime + 1 WHERE rowid = 2"),
		    SQLITE_OK);
	}
	free(z);
}

/*
 * Every snapshot damaged and the log purged past them: nothing here holds
 * the whole tree. Repair must refuse, change nothing, and say so. (It used
 * to move every snapshot aside and then stop with "no usable snapshot",
 * after which the tree was gone.)
 */
static void test_repair_refuses_when_nothing_is_whole(void)
{
	struct tc t;
	uint32_t before;
	char prefix[8];
	int i, rc;

	tc_init(&t);
	t.o.snap_retain = 3;
	TAP_EQ(tc_open(&t), 0);
	for (i = 0; i < 5; i++) {
		snprintf(prefix, sizeof(prefix), "q%d_", i);
		writes(&t, prefix, 10);
		TAP_EQ(qcore_snapshot_now(t.c, t.err, sizeof(t.err)), 0);
	}
	writes(&t, "qtail", 5);
	tc_run_for(&t, 100); /* the writer purges between batches */
	tc_close(&t);
	damage_all(&t);
	before = dir_state(t.dir);
	for (i = 0; i < 2; i++) {
		t.o.repair = i;
		rc = tc_open(&t);
		printf("# repair=%d: %s\n", i, t.err);
		TAP_EQ(rc, -EBADMSG);
		TAP_ASSERT(strstr(t.err, "nothing was changed") != NULL);
		TAP_ASSERT(strstr(t.err, "backup") != NULL);
		TAP_EQ(dir_state(t.dir), before);
		TAP_EQ(count_aside(t.dir), 0);
	}
	tc_done(&t);
}

/*
 * The newest snapshot damaged, an older one whole, the log cut short
 * before the damaged one's zxid: repair says exactly which transactions
 * only the damaged file held before it drops them, and recovers the rest.
 */
static void test_repair_names_what_it_loses(void)
{
	struct tc t;
	zxid_t older, cut;
	char path[512], sql[128];

	tc_init(&t);
	TAP_EQ(tc_open(&t), 0);
	writes(&t, "g", 10);
	TAP_EQ(qcore_snapshot_now(t.c, t.err, sizeof(t.err)), 0);
	older = tree_last_zxid(qcore_tree(t.c));
	writes(&t, "h", 10);
	cut = tree_last_zxid(qcore_tree(t.c)) - 5;
	writes(&t, "i", 2);
	TAP_EQ(qcore_snapshot_now(t.c, t.err, sizeof(t.err)), 0);
	tc_close(&t);
	damage_newest(&t, 0);
	snprintf(path, sizeof(path), "%s/txnlog.db", t.dir);
	snprintf(sql, sizeof(sql), "DELETE FROM log WHERE zxid > %lld", (long long)cut);
	TAP_EQ(sql_exec(path, sql), SQLITE_OK);
	TAP_EQ(tc_open(&t), -EBADMSG);
	printf("# %s\n", t.err);
	snprintf(sql, sizeof(sql), "0x%llx to 0x%llx", (unsigned long long)cut + 1,
		 (unsigned long long)cut + 7);
	TAP_ASSERT(strstr(t.err, sql) != NULL);
	TAP_ASSERT(strstr(t.err, "are lost") != NULL);
	TAP_EQ(count_aside(t.dir), 0);
	t.o.repair = 1;
	TAP_EQ(tc_open(&t), 0);
	TAP_EQ(tree_last_zxid(qcore_tree(t.c)), cut);
	TAP_STREQ(tc_data(&t, "/g9"), "/g9");
	TAP_ASSERT(tc_data(&t, "/h4") != NULL);
	TAP_ASSERT(tc_data(&t, "/i0") == NULL);
	tc_close(&t);
	TAP_EQ(count_aside(t.dir), 1);
	(void)older;
	/* Repaired for good: a plain start works and finds the same. */
	t.o.repair = 0;
	TAP_EQ(tc_open(&t), 0);
	TAP_EQ(tree_last_zxid(qcore_tree(t.c)), cut);
	tc_done(&t);
}

/* Every snapshot damaged, but the log still goes back to the first
 * transaction: repair rebuilds the whole tree from it, and only then sets
 * the damaged files aside. */
static void test_repair_rebuilds_from_whole_log(void)
{
	struct tc t;
	uint32_t before;

	tc_init(&t);
	TAP_EQ(tc_open(&t), 0);
	writes(&t, "j", 10);
	TAP_EQ(qcore_snapshot_now(t.c, t.err, sizeof(t.err)), 0);
	writes(&t, "k", 10);
	TAP_EQ(qcore_snapshot_now(t.c, t.err, sizeof(t.err)), 0);
	writes(&t, "m", 3);
	before = tc_digest(&t);
	tc_close(&t);
	damage_all(&t);
	TAP_EQ(tc_open(&t), -EBADMSG);
	printf("# %s\n", t.err);
	TAP_ASSERT(strstr(t.err, "rebuild the tree from the log") != NULL);
	TAP_EQ(count_aside(t.dir), 0);
	t.o.repair = 1;
	TAP_EQ(tc_open(&t), 0);
	TAP_EQ(tc_digest(&t), before);
	tc_close(&t);
	TAP_ASSERT(count_aside(t.dir) >= 2);
	t.o.repair = 0;
	TAP_EQ(tc_open(&t), 0);
	TAP_EQ(tc_digest(&t), before);
	tc_done(&t);
}

static const struct tap_case cases[] = {
    {"repair_refuses_when_nothing_is_whole", test_repair_refuses_when_nothing_is_whole},
    {"repair_names_what_it_loses", test_repair_names_what_it_loses},
    {"repair_rebuilds_from_whole_log", test_repair_rebuilds_from_whole_log},
    {"many_sessions_restart", test_many_sessions_restart},
    {"sessions_roundtrip_any_ids", test_sessions_roundtrip_any_ids},
    {"legacy_hash_order_snapshot", test_legacy_hash_order_snapshot},
    {"background_snapshots_and_replay", test_background_snapshots_and_replay},
    {"snapshot_consistent_under_load", test_snapshot_consistent_under_load},
    {"purge_keeps_retained", test_purge_keeps_retained},
    {"corrupt_snapshot_checksum", test_corrupt_snapshot_checksum},
    {"corrupt_snapshot_garbage", test_corrupt_snapshot_garbage},
    {"truncated_snapshot_tmp_ignored", test_truncated_snapshot_tmp_ignored},
    {"missing_log_detected", test_missing_log_detected},
};

TAP_MAIN(cases)
