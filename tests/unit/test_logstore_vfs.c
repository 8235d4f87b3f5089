/*
 * test_logstore_vfs.c - the log store's VFS shim (consensus/logstore_vfs.c),
 * which keeps a commit's WAL frames in memory and writes them in one call:
 * what it writes is what SQLite asked for, at every commit size (across the
 * unix VFS's 128 KiB limit per write and the shim's own buffer limit), and
 * another connection never sees a commit whose frames are not in the file,
 * synced (FULL) or not (NORMAL). Under the shim sits a counting VFS, so the
 * tests also see how many writes reached the WAL.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "logstore_int.h"
#include "tap.h"

static char dir[256], dbpath[300];

static void fresh_dir(void)
{
	tap_tmpdir(dir, sizeof(dir), "lsvfs");
	snprintf(dbpath, sizeof(dbpath), "%s/log.db", dir);
}

static void cleanup_dir(void)
{
	tap_rmdir(dir);
}

/* --- a default VFS that counts the writes reaching each WAL file --- */
struct cnt_file {
	sqlite3_file base;
	sqlite3_file *real;
	int is_wal;
};

static sqlite3_vfs *cnt_real;
static sqlite3_vfs cnt_vfs;
static sqlite3_io_methods cnt_methods;
static long wal_writes, wal_syncs;
/* Writes to the WAL of at least this many bytes fail as on a full disk
 * (0: none fail). */
static int fail_from;

static int cnt_write(sqlite3_file *f, const void *p, int n, sqlite3_int64 off)
{
	struct cnt_file *c = (struct cnt_file *)f;

	if (c->is_wal)
		wal_writes++;
	if (c->is_wal && fail_from && n >= fail_from)
		return SQLITE_FULL;
	return c->real->pMethods->xWrite(c->real, p, n, off);
}

static int cnt_sync(sqlite3_file *f, int flags)
{
	struct cnt_file *c = (struct cnt_file *)f;

	if (c->is_wal)
		wal_syncs++;
	return c->real->pMethods->xSync(c->real, flags);
}

static int cnt_close(sqlite3_file *f)
{
	struct cnt_file *c = (struct cnt_file *)f;
	int rc = c->real->pMethods->xClose(c->real);

	sqlite3_free(c->real);
	return rc;
}

/* The remaining methods go straight to the real file. */
#define FWD(name, args, call)                                                            \
	static int cnt_##name args                                                       \
	{                                                                                \
		struct cnt_file *c = (struct cnt_file *)f;                               \
		return c->real->pMethods->call;                                          \
	}
FWD(read, (sqlite3_file * f, void *p, int n, sqlite3_int64 o), xRead(c->real, p, n, o))
FWD(truncate, (sqlite3_file * f, sqlite3_int64 s), xTruncate(c->real, s))
FWD(size, (sqlite3_file * f, sqlite3_int64 *s), xFileSize(c->real, s))
FWD(lock, (sqlite3_file * f, int l), xLock(c->real, l))
FWD(unlock, (sqlite3_file * f, int l), xUnlock(c->real, l))
FWD(reserved, (sqlite3_file * f, int *o), xCheckReservedLock(c->real, o))
FWD(fctl, (sqlite3_file * f, int op, void *a), xFileControl(c->real, op, a))
FWD(sector, (sqlite3_file * f), xSectorSize(c->real))
FWD(devchar, (sqlite3_file * f), xDeviceCharacteristics(c->real))
FWD(shmmap, (sqlite3_file * f, int a, int b, int e, void volatile **pp),
    xShmMap(c->real, a, b, e, pp))
FWD(shmlock, (sqlite3_file * f, int o, int n, int fl), xShmLock(c->real, o, n, fl))
FWD(shmunmap, (sqlite3_file * f, int d), xShmUnmap(c->real, d))

static void cnt_barrier(sqlite3_file *f)
{
	struct cnt_file *c = (struct cnt_file *)f;

	c->real->pMethods->xShmBarrier(c->real);
}

static int cnt_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *f, int flags,
		    int *out)
{
	struct cnt_file *c = (struct cnt_file *)f;
	int rc;

	(void)vfs;
	memset(c, 0, sizeof(*c));
	c->real = sqlite3_malloc(cnt_real->szOsFile);
	if (!c->real)
		return SQLITE_NOMEM;
	memset(c->real, 0, (size_t)cnt_real->szOsFile);
	rc = cnt_real->xOpen(cnt_real, name, c->real, flags, out);
	if (rc != SQLITE_OK) {
		sqlite3_free(c->real);
		return rc;
	}
	c->is_wal = (flags & SQLITE_OPEN_WAL) != 0;
	c->base.pMethods = &cnt_methods;
	return SQLITE_OK;
}

static void cnt_register(void)
{
	static const sqlite3_io_methods m = {
	    .iVersion = 2,
	    .xClose = cnt_close,
	    .xRead = cnt_read,
	    .xWrite = cnt_write,
	    .xTruncate = cnt_truncate,
	    .xSync = cnt_sync,
	    .xFileSize = cnt_size,
	    .xLock = cnt_lock,
	    .xUnlock = cnt_unlock,
	    .xCheckReservedLock = cnt_reserved,
	    .xFileControl = cnt_fctl,
	    .xSectorSize = cnt_sector,
	    .xDeviceCharacteristics = cnt_devchar,
	    .xShmMap = cnt_shmmap,
	    .xShmLock = cnt_shmlock,
	    .xShmBarrier = cnt_barrier,
	    .xShmUnmap = cnt_shmunmap,
	};

	if (cnt_real)
		return;
	cnt_real = sqlite3_vfs_find("unix");
	cnt_methods = m;
	cnt_vfs = *cnt_real;
	cnt_vfs.zName = "counting";
	cnt_vfs.szOsFile = sizeof(struct cnt_file);
	cnt_vfs.xOpen = cnt_open;
	cnt_vfs.pNext = NULL;
	sqlite3_vfs_register(&cnt_vfs, 1);
}

/* --- helpers --- */

static sqlite3 *open_db(const char *vfs, const char *sync)
{
	sqlite3 *db = NULL;
	char sql[100];

	TAP_EQ(sqlite3_open_v2(dbpath, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
			       vfs),
	       SQLITE_OK);
	TAP_EQ(sqlite3_exec(db, "PRAGMA journal_mode = WAL", NULL, NULL, NULL),
	       SQLITE_OK);
	snprintf(sql, sizeof(sql), "PRAGMA synchronous = %s", sync);
	TAP_EQ(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	return db;
}

/* Row i's blob: len bytes derived from i. */
static void fill(unsigned char *b, int len, int i)
{
	for (int k = 0; k < len; k++)
		b[k] = (unsigned char)(i * 31 + k * 7 + (k >> 8));
}

static int insert(sqlite3 *db, sqlite3_stmt *ins, int i, int len)
{
	unsigned char *b = malloc((size_t)len);
	int rc;

	fill(b, len, i);
	sqlite3_bind_int(ins, 1, i);
	sqlite3_bind_blob(ins, 2, b, len, SQLITE_TRANSIENT);
	rc = sqlite3_step(ins);
	sqlite3_reset(ins);
	free(b);
	(void)db;
	return rc;
}

/* Every row 0..n-1 read back through a separate connection on the plain
 * unix VFS, with its length and bytes. */
static int check_rows(int n, const int *lens)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st;
	int bad = 0, seen = 0;

	if (sqlite3_open_v2(dbpath, &db, SQLITE_OPEN_READONLY, "unix") != SQLITE_OK)
		return -1;
	if (sqlite3_prepare_v2(db, "SELECT id, data FROM t ORDER BY id", -1, &st,
			       NULL) != SQLITE_OK) {
		sqlite3_close(db);
		return -1;
	}
	while (sqlite3_step(st) == SQLITE_ROW) {
		int id = sqlite3_column_int(st, 0);
		int len = sqlite3_column_bytes(st, 1);
		const unsigned char *d = sqlite3_column_blob(st, 1);
		unsigned char *want;

		if (id != seen || id >= n || len != lens[id]) {
			bad++;
			seen = id + 1;
			continue;
		}
		want = malloc((size_t)len);
		fill(want, len, id);
		if (memcmp(want, d, (size_t)len) != 0)
			bad++;
		free(want);
		seen++;
	}
	sqlite3_finalize(st);
	sqlite3_close(db);
	return bad ? -bad : seen;
}

/* A fresh database on the shim (over the counting VFS) with table t, and
 * its insert statement. */
static sqlite3 *setup(const char *sync, sqlite3_stmt **ins)
{
	sqlite3 *db;

	cnt_register();
	fresh_dir();
	TAP_ASSERT(logstore_vfs() != NULL);
	db = open_db(logstore_vfs(), sync);
	TAP_EQ(sqlite3_exec(db, "CREATE TABLE t(id INTEGER PRIMARY KEY, data BLOB)",
			    NULL, NULL, NULL),
	       SQLITE_OK);
	TAP_EQ(sqlite3_prepare_v2(db, "INSERT INTO t VALUES(?1, ?2)", -1, ins, NULL),
	       SQLITE_OK);
	return db;
}

/* Commits of 1 to 70 pages, then one past the shim's 4 MiB buffer, each
 * read back by another connection after it commits: the frames cross the
 * 128 KiB write limit below at every alignment. */
static void test_commit_sizes(void)
{
	enum { N = 72 };
	int lens[N];
	sqlite3 *db;
	sqlite3_stmt *ins;

	db = setup("FULL", &ins);
	for (int i = 0; i < N; i++) {
		/* Row i spills over about i + 1 overflow pages; the last is
		 * 5 MiB, more than the shim buffers. */
		lens[i] = i == N - 1 ? 5 << 20 : (i + 1) * 4000 + i * 13;
		TAP_EQ(sqlite3_exec(db, "BEGIN", NULL, NULL, NULL), SQLITE_OK);
		TAP_EQ(insert(db, ins, i, lens[i]), SQLITE_DONE);
		TAP_EQ(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
		TAP_EQ(check_rows(N, lens), i + 1);
	}
	sqlite3_finalize(ins);
	TAP_EQ(sqlite3_close(db), SQLITE_OK);
	/* And after the WAL is checkpointed into the database at close. */
	TAP_EQ(check_rows(N, lens), N);
	cleanup_dir();
}

/* A commit's frames reach the WAL in one write (a small commit) and are
 * synced once; without the shim SQLite writes each frame in two. */
static void test_one_write_per_commit(void)
{
	int lens[20];
	sqlite3 *db;
	sqlite3_stmt *ins;
	long w0, s0;

	db = setup("FULL", &ins);
	for (int i = 0; i < 20; i++) {
		w0 = wal_writes;
		s0 = wal_syncs;
		lens[i] = 3 * 4096; /* a few pages: header + frames < 128 KiB */
		TAP_EQ(sqlite3_exec(db, "BEGIN", NULL, NULL, NULL), SQLITE_OK);
		TAP_EQ(insert(db, ins, i, lens[i]), SQLITE_DONE);
		TAP_EQ(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
		TAP_EQ(wal_writes - w0, 1);
		TAP_ASSERT(wal_syncs - s0 >= 1);
	}
	sqlite3_finalize(ins);
	TAP_EQ(sqlite3_close(db), SQLITE_OK);
	TAP_EQ(check_rows(20, lens), 20);
	cleanup_dir();
}

/* synchronous = NORMAL commits without a sync: the wal-index header that
 * tells other connections of the commit is published after the barrier,
 * which writes the frames first. A reader that opened before must see
 * each commit whole, right after it. */
static void test_unsynced_commit_visible(void)
{
	int lens[40];
	sqlite3 *db, *rd = NULL;
	sqlite3_stmt *ins, *q;
	long s0;

	db = setup("NORMAL", &ins);
	TAP_EQ(sqlite3_open_v2(dbpath, &rd, SQLITE_OPEN_READONLY, "unix"), SQLITE_OK);
	TAP_EQ(sqlite3_prepare_v2(rd, "SELECT count(*), sum(length(data)) FROM t", -1,
				  &q, NULL),
	       SQLITE_OK);
	s0 = wal_syncs;
	for (int i = 0; i < 40; i++) {
		lens[i] = 1000 + i * 700;
		TAP_EQ(insert(db, ins, i, lens[i]), SQLITE_DONE);
		TAP_EQ(sqlite3_step(q), SQLITE_ROW);
		TAP_EQ(sqlite3_column_int(q, 0), i + 1);
		sqlite3_reset(q);
		TAP_EQ(check_rows(40, lens), i + 1);
	}
	/* NORMAL really did not sync each commit (the test would prove
	 * nothing if every commit went through xSync). */
	TAP_ASSERT(wal_syncs - s0 < 40);
	sqlite3_finalize(q);
	sqlite3_close(rd);
	sqlite3_finalize(ins);
	TAP_EQ(sqlite3_close(db), SQLITE_OK);
	cleanup_dir();
}

/* A commit whose frames fail to write fails, and its frames never reach
 * the file afterwards: later commits go through once the disk takes them,
 * and the rows read back are the committed ones. Before, a buffer too big
 * for the disk was retried at every later commit, which all failed. */
static void test_failed_commit_dropped(void)
{
	int lens[3] = {4000, 2 << 20, 5000};
	sqlite3 *db;
	sqlite3_stmt *ins;

	db = setup("FULL", &ins);
	TAP_EQ(insert(db, ins, 0, lens[0]), SQLITE_DONE);
	fail_from = 64 * 1024; /* the 2 MiB commit's writes fail */
	TAP_ASSERT(insert(db, ins, 1, lens[1]) != SQLITE_DONE);
	/* Small commits still fit. */
	lens[1] = 3000;
	TAP_EQ(insert(db, ins, 1, lens[1]), SQLITE_DONE);
	TAP_EQ(insert(db, ins, 2, lens[2]), SQLITE_DONE);
	fail_from = 0;
	TAP_EQ(check_rows(3, lens), 3);
	sqlite3_finalize(ins);
	TAP_EQ(sqlite3_close(db), SQLITE_OK);
	TAP_EQ(check_rows(3, lens), 3);
	cleanup_dir();
}

/* A commit without a sync whose frames fail to write at the barrier:
 * SQLite has already counted it committed, so the frames stay buffered
 * and reach the file with the next write that succeeds. */
static void test_unsynced_commit_retried(void)
{
	int lens[3] = {2000, 30000, 2500};
	sqlite3 *db;
	sqlite3_stmt *ins;

	db = setup("NORMAL", &ins);
	TAP_EQ(insert(db, ins, 0, lens[0]), SQLITE_DONE);
	fail_from = 1; /* every WAL write fails */
	TAP_EQ(insert(db, ins, 1, lens[1]), SQLITE_DONE); /* not synced */
	fail_from = 0;
	TAP_EQ(insert(db, ins, 2, lens[2]), SQLITE_DONE);
	TAP_EQ(check_rows(3, lens), 3);
	sqlite3_finalize(ins);
	TAP_EQ(sqlite3_close(db), SQLITE_OK);
	TAP_EQ(check_rows(3, lens), 3);
	cleanup_dir();
}

static const struct tap_case cases[] = {
    {"commit_sizes", test_commit_sizes},
    {"one_write_per_commit", test_one_write_per_commit},
    {"unsynced_commit_visible", test_unsynced_commit_visible},
    {"failed_commit_dropped", test_failed_commit_dropped},
    {"unsynced_commit_retried", test_unsynced_commit_retried},
};

TAP_MAIN(cases)
