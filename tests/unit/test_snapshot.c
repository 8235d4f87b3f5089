/*
 * test_snapshot.c - snapshots on real files: background snapshots are
 * consistent at their zxid, restart = snapshot + log, purge keeps the right
 * files and log records, a damaged snapshot is refused (naming the file and
 * repair=yes) and repair falls back to the previous one without losing a
 * transaction.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "snapshot.h"
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

	for (i = 0; i < 200; i++) {
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

static const struct tap_case cases[] = {
    {"background_snapshots_and_replay", test_background_snapshots_and_replay},
    {"snapshot_consistent_under_load", test_snapshot_consistent_under_load},
    {"purge_keeps_retained", test_purge_keeps_retained},
    {"corrupt_snapshot_checksum", test_corrupt_snapshot_checksum},
    {"corrupt_snapshot_garbage", test_corrupt_snapshot_garbage},
    {"truncated_snapshot_tmp_ignored", test_truncated_snapshot_tmp_ignored},
    {"missing_log_detected", test_missing_log_detected},
};

TAP_MAIN(cases)
