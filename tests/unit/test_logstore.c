/*
 * test_logstore.c - the SQLite log store: append, read, restart, truncate,
 * compact, durable metadata, the asynchronous writer thread, and corrupt
 * records caught by their CRC on open and on read. Crash tests are in
 * test_logstore_crash.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/event.h>

#include "logstore.h"
#include "logstore_cons.h"
#include "logstore_int.h" /* the test_full case limits the db */
#include "tap.h"

static char dir[256], dbpath[300];

static void fresh_dir(void)
{
	tap_tmpdir(dir, sizeof(dir), "logstore");
	snprintf(dbpath, sizeof(dbpath), "%s/log.db", dir);
}

static void cleanup_dir(void)
{
	tap_rmdir(dir);
}

/* Payload of zxid z: "entry-<z>-" then bytes derived from z. */
static size_t payload(zxid_t z, char *out, size_t cap)
{
	int n = snprintf(out, cap, "entry-%llx-", (unsigned long long)z);
	size_t len = (size_t)n + (z % 37);

	for (size_t i = (size_t)n; i < len && i < cap; i++)
		out[i] = (char)('a' + (z + i) % 26);
	return len < cap ? len : cap;
}

static int last_status;
static int n_done;

static void done_cb(struct logstore_req *req, int status)
{
	last_status = status;
	n_done++;
	if (status < 0)
		printf("# %s\n", req->errmsg);
}

static struct logstore *open_sync(struct logstore_state *st)
{
	struct logstore *ls;
	char err[LOGSTORE_ERRMSG];
	int rc = logstore_open(dbpath, NULL, &ls, st, err, sizeof(err));

	if (rc < 0)
		printf("# open: %s\n", err);
	TAP_EQ(rc, 0);
	return ls;
}

/* Appends zxids from..to (epoch 1) as batches of batch entries. */
static void append_range(struct logstore *ls, zxid_t from, zxid_t to, size_t batch)
{
	static char bufs[64][128];
	struct logstore_entry e[64];
	struct logstore_req req;

	TAP_ASSERT(batch <= 64);
	for (zxid_t z = from; z <= to;) {
		size_t n = 0;
		for (; n < batch && z <= to; n++, z++) {
			e[n].zxid = z;
			e[n].epoch = zxid_epoch(z);
			e[n].data = bufs[n];
			e[n].len = payload(z, bufs[n], sizeof(bufs[n]));
		}
		last_status = 1;
		TAP_EQ(logstore_append(ls, &req, e, n, done_cb), 0);
		TAP_EQ(last_status, 0); /* synchronous: done before return */
	}
}

/* Reads from..to and checks every entry is there with its payload. */
static void check_range(struct logstore *ls, zxid_t from, zxid_t to)
{
	struct logstore_req req;
	char want[128];
	size_t i = 0;

	TAP_EQ(logstore_read(ls, &req, from, to, 1000000, done_cb), 0);
	TAP_EQ(last_status, 0);
	TAP_EQ(req.n_entries, to - from + 1);
	for (zxid_t z = from; z <= to; z++, i++) {
		size_t n = payload(z, want, sizeof(want));
		TAP_EQ(req.entries[i].zxid, z);
		TAP_EQ(req.entries[i].len, n);
		TAP_ASSERT(memcmp(req.entries[i].data, want, n) == 0);
	}
	logstore_req_release(&req);
}

static void test_append_read_restart(void)
{
	struct logstore_state st;
	struct logstore *ls;
	zxid_t base = zxid_make(1, 0);

	fresh_dir();
	ls = open_sync(&st);
	TAP_EQ(st.count, 0);
	TAP_EQ(st.last_zxid, 0);
	append_range(ls, base + 1, base + 100, 7);
	check_range(ls, base + 1, base + 100);
	check_range(ls, base + 40, base + 60);
	logstore_close(ls);

	ls = open_sync(&st);
	TAP_EQ(st.count, 100);
	TAP_EQ(st.first_zxid, base + 1);
	TAP_EQ(st.last_zxid, base + 100);
	check_range(ls, base + 1, base + 100);
	/* A read with a limit stops early. */
	{
		struct logstore_req req;
		TAP_EQ(logstore_read(ls, &req, base + 1, base + 100, 5, done_cb), 0);
		TAP_EQ(req.n_entries, 5);
		TAP_EQ(req.entries[4].zxid, base + 5);
		logstore_req_release(&req);
	}
	logstore_close(ls);
	cleanup_dir();
}

static void test_order_enforced(void)
{
	struct logstore_state st;
	struct logstore *ls;
	struct logstore_entry e[2] = {{zxid_make(1, 5), 1, 1, "x", 1},
				      {zxid_make(1, 4), 1, 1, "y", 1}};
	struct logstore_req req;

	fresh_dir();
	ls = open_sync(&st);
	TAP_EQ(logstore_append(ls, &req, e, 2, done_cb), -EINVAL);
	TAP_EQ(logstore_append(ls, &req, e, 1, done_cb), 0);
	TAP_EQ(logstore_append(ls, &req, e, 1, done_cb), -EINVAL); /* same zxid */
	TAP_EQ(logstore_append(ls, &req, e, 0, done_cb), -EINVAL);
	logstore_close(ls);
	cleanup_dir();
}

static void test_truncate(void)
{
	struct logstore_state st;
	struct logstore *ls;
	struct logstore_req req;
	zxid_t b1 = zxid_make(1, 0), b2 = zxid_make(2, 0);

	fresh_dir();
	ls = open_sync(&st);
	append_range(ls, b1 + 1, b1 + 20, 5);
	TAP_EQ(logstore_truncate(ls, &req, b1 + 12, done_cb), 0);
	TAP_EQ(last_status, 0);
	/* The new leader's entries follow the truncation point. */
	append_range(ls, b2 + 1, b2 + 3, 3);
	logstore_close(ls);

	ls = open_sync(&st);
	TAP_EQ(st.count, 15);
	TAP_EQ(st.last_zxid, b2 + 3);
	check_range(ls, b1 + 1, b1 + 12);
	check_range(ls, b2 + 1, b2 + 3);
	TAP_EQ(logstore_read(ls, &req, b1 + 13, b1 + 20, 100, done_cb), 0);
	TAP_EQ(req.n_entries, 0);
	logstore_req_release(&req);
	/* Truncating below everything empties the log. */
	TAP_EQ(logstore_truncate(ls, &req, 0, done_cb), 0);
	TAP_EQ(last_status, 0);
	append_range(ls, b1 + 1, b1 + 2, 2);
	logstore_close(ls);
	ls = open_sync(&st);
	TAP_EQ(st.count, 2);
	logstore_close(ls);
	cleanup_dir();
}

static void test_compact(void)
{
	struct logstore_state st;
	struct logstore *ls;
	struct logstore_req req;
	zxid_t b = zxid_make(3, 0);

	fresh_dir();
	ls = open_sync(&st);
	append_range(ls, b + 1, b + 50, 10);
	TAP_EQ(logstore_compact(ls, &req, b + 31, done_cb), 0);
	TAP_EQ(last_status, 0);
	logstore_close(ls);
	ls = open_sync(&st);
	TAP_EQ(st.first_zxid, b + 31);
	TAP_EQ(st.last_zxid, b + 50);
	TAP_EQ(st.count, 20);
	check_range(ls, b + 31, b + 50);
	logstore_close(ls);
	cleanup_dir();
}

/* Appends from..to, one 4000-byte entry per transaction: about a page each. */
static void append_big(struct logstore *ls, zxid_t from, zxid_t to)
{
	static char big[4000];
	struct logstore_entry e = {0, zxid_epoch(from), 1, big, sizeof(big)};
	struct logstore_req req;

	for (zxid_t z = from; z <= to; z++) {
		e.zxid = z;
		TAP_EQ(logstore_append(ls, &req, &e, 1, done_cb), 0);
	}
}

/* A compaction that frees less than half the file keeps its pages for the
 * appends that follow: the file does not grow back, and nothing is moved. */
static void test_compact_reuses_pages(void)
{
	struct logstore_state st;
	struct logstore *ls;
	struct logstore_req req;
	struct stat full, compacted, refilled;
	zxid_t b = zxid_make(3, 0);

	fresh_dir();
	ls = open_sync(&st);
	append_big(ls, b + 1, b + 600);
	TAP_EQ(sqlite3_wal_checkpoint_v2(ls->db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL,
					 NULL),
	       SQLITE_OK);
	TAP_EQ(stat(dbpath, &full), 0);
	TAP_EQ(logstore_compact(ls, &req, b + 201, done_cb), 0);
	TAP_EQ(last_status, 0);
	TAP_EQ(sqlite3_wal_checkpoint_v2(ls->db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL,
					 NULL),
	       SQLITE_OK);
	TAP_EQ(stat(dbpath, &compacted), 0);
	append_big(ls, b + 601, b + 800);
	TAP_EQ(sqlite3_wal_checkpoint_v2(ls->db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL,
					 NULL),
	       SQLITE_OK);
	TAP_EQ(stat(dbpath, &refilled), 0);
	printf("# db file %lld bytes full, %lld compacted by a third, %lld refilled\n",
	       (long long)full.st_size, (long long)compacted.st_size,
	       (long long)refilled.st_size);
	TAP_EQ(compacted.st_size, full.st_size);
	/* A few pages of slack: a new interior page, a pointer-map page. */
	TAP_ASSERT(refilled.st_size <= full.st_size + 8 * 4096);
	logstore_close(ls);
	ls = open_sync(&st);
	TAP_EQ(st.first_zxid, b + 201);
	TAP_EQ(st.count, 600);
	TAP_EQ(st.last_zxid, b + 800);
	logstore_close(ls);
	cleanup_dir();
}

/* Compaction gives the space back: a big log, compacted, shrinks. */
static void test_compact_shrinks(void)
{
	struct logstore_state st;
	struct logstore *ls;
	struct logstore_req req;
	struct stat before, after;
	zxid_t b = zxid_make(3, 0);

	fresh_dir();
	ls = open_sync(&st);
	append_big(ls, b + 1, b + 500);
	logstore_close(ls);
	TAP_EQ(stat(dbpath, &before), 0);
	ls = open_sync(&st);
	TAP_EQ(logstore_compact(ls, &req, b + 495, done_cb), 0);
	TAP_EQ(last_status, 0);
	logstore_close(ls);
	TAP_EQ(stat(dbpath, &after), 0);
	printf("# db file %lld bytes before compaction, %lld after\n",
	       (long long)before.st_size, (long long)after.st_size);
	TAP_ASSERT(after.st_size < before.st_size / 10);
	ls = open_sync(&st);
	TAP_EQ(st.first_zxid, b + 495);
	TAP_EQ(st.count, 6);
	TAP_EQ(st.meta.snapshot_zxid, b + 494);
	logstore_close(ls);
	cleanup_dir();
}

static void test_meta_durable(void)
{
	struct logstore_state st;
	struct logstore *ls;
	struct logstore_req req;
	struct logstore_meta m = {7, 6, 0x0000000300000042ull, zxid_make(5, 99)};

	fresh_dir();
	ls = open_sync(&st);
	TAP_EQ(st.meta.accepted_epoch, 0);
	TAP_EQ(st.meta.vote, 0);
	TAP_EQ(logstore_set_meta(ls, &req, &m, done_cb), 0);
	TAP_EQ(last_status, 0);
	logstore_close(ls);
	ls = open_sync(&st);
	TAP_EQ(st.meta.accepted_epoch, 7);
	TAP_EQ(st.meta.current_epoch, 6);
	TAP_EQ(st.meta.vote, m.vote);
	TAP_EQ(st.meta.snapshot_zxid, m.snapshot_zxid);
	logstore_close(ls);
	cleanup_dir();
}

/* The asynchronous store: many appends in flight, callbacks in order on the
 * loop, group commit sharing transactions. */
#define ASYNC_REQS 200
static struct {
	struct logstore_req req[ASYNC_REQS];
	struct logstore_entry e[ASYNC_REQS][4];
	char data[ASYNC_REQS][4][64];
	int next_expected;
	int bad_order;
	struct event_base *base;
} as;

static void async_cb(struct logstore_req *req, int status)
{
	int i = (int)(req - as.req);

	if (status < 0 || i != as.next_expected)
		as.bad_order++;
	as.next_expected++;
}

static void async_meta_cb(struct logstore_req *req, int status)
{
	if (status < 0 || as.next_expected != ASYNC_REQS)
		as.bad_order++;
	as.next_expected++;
	event_base_loopbreak(as.base);
}

static void test_async_modes(int mixed);

static void test_async(void)
{
	test_async_modes(0);
}

/*
 * The same, switching between the writer thread and inline runs every
 * three requests, sometimes letting the loop run in between: completions
 * stay in submission order across the switches, and every entry is there.
 */
static void test_async_inline(void)
{
	test_async_modes(1);
}

/* One append of n entries at zxid z, the loop run until it completes. */
static void append_wait(struct logstore *ls, zxid_t z, int n)
{
	int before = as.next_expected;

	for (int k = 0; k < n; k++) {
		as.e[before][k].zxid = z + (zxid_t)k;
		as.e[before][k].epoch = 1;
		as.e[before][k].data = as.data[before][k];
		as.e[before][k].len =
		    payload(z + (zxid_t)k, as.data[before][k], sizeof(as.data[before][k]));
	}
	TAP_EQ(logstore_append(ls, &as.req[before], as.e[before], (size_t)n, async_cb), 0);
	while (as.next_expected == before)
		event_base_loop(as.base, EVLOOP_ONCE);
}

/*
 * The rule of the inline mode: a store set inline runs a write on the
 * loop only while the last flush wrote a single entry (nothing arrived
 * while it ran); after a batch the writer takes the next write, and a
 * single-entry write done by it brings the loop back.
 */
static void test_inline_rule(void)
{
	struct logstore_state st;
	struct logstore *ls;
	char err[LOGSTORE_ERRMSG];
	zxid_t z = zxid_make(1, 1);

	fresh_dir();
	memset(&as, 0, sizeof(as));
	as.base = event_base_new();
	TAP_ASSERT(as.base != NULL);
	TAP_EQ(logstore_open(dbpath, as.base, &ls, &st, err, sizeof(err)), 0);
	logstore_set_inline(ls, 1);
	for (int i = 0; i < 3; i++, z++)
		append_wait(ls, z, 1);
	TAP_EQ(logstore_inline_runs(ls), 3);
	append_wait(ls, z, 4); /* still inline: the last flush wrote one */
	z += 4;
	TAP_EQ(logstore_inline_runs(ls), 4);
	append_wait(ls, z++, 1); /* after a batch of 4: the writer */
	TAP_EQ(logstore_inline_runs(ls), 4);
	append_wait(ls, z++, 1); /* the writer's flush wrote one: inline */
	TAP_EQ(logstore_inline_runs(ls), 5);
	logstore_set_inline(ls, 0);
	append_wait(ls, z++, 1);
	TAP_EQ(logstore_inline_runs(ls), 5);
	TAP_EQ(as.bad_order, 0);
	logstore_close(ls);
	event_base_free(as.base);
	ls = open_sync(&st);
	TAP_EQ(st.count, 10);
	check_range(ls, zxid_make(1, 1), zxid_make(1, 10));
	logstore_close(ls);
	cleanup_dir();
}

static void test_async_modes(int mixed)
{
	struct logstore_state st;
	struct logstore *ls;
	char err[LOGSTORE_ERRMSG];
	uint64_t commits, entries;
	zxid_t z = zxid_make(1, 0);
	struct logstore_meta m = {1, 1, 0, 0};
	static struct logstore_req meta_req;

	fresh_dir();
	memset(&as, 0, sizeof(as));
	as.base = event_base_new();
	TAP_ASSERT(as.base != NULL);
	TAP_EQ(logstore_open(dbpath, as.base, &ls, &st, err, sizeof(err)), 0);
	for (int i = 0; i < ASYNC_REQS; i++) {
		for (int k = 0; k < 4; k++) {
			as.e[i][k].zxid = ++z;
			as.e[i][k].epoch = 1;
			as.e[i][k].data = as.data[i][k];
			as.e[i][k].len = payload(z, as.data[i][k], sizeof(as.data[i][k]));
		}
		if (mixed) {
			int before = as.next_expected;

			logstore_set_inline(ls, (i / 3) % 2);
			TAP_EQ(logstore_append(ls, &as.req[i], as.e[i], 4, async_cb), 0);
			/* Inline or not, nothing completes inside the call. */
			TAP_EQ(as.next_expected, before);
			if (i % 5 == 4)
				event_base_loop(as.base, EVLOOP_NONBLOCK);
			continue;
		}
		TAP_EQ(logstore_append(ls, &as.req[i], as.e[i], 4, async_cb), 0);
		/* Nothing completes inside the submit call. */
		TAP_EQ(as.next_expected, 0);
	}
	/* The metadata write is ordered after the appends. */
	TAP_EQ(logstore_set_meta(ls, &meta_req, &m, async_meta_cb), 0);
	event_base_dispatch(as.base);
	TAP_EQ(as.bad_order, 0);
	logstore_stats(ls, &commits, &entries);
	TAP_EQ(entries, ASYNC_REQS * 4);
	printf("# %d appends of 4 entries in %llu transactions\n", ASYNC_REQS,
	       (unsigned long long)commits);
	TAP_ASSERT(commits <= ASYNC_REQS + 1);
	logstore_close(ls);
	event_base_free(as.base);

	ls = open_sync(&st);
	TAP_EQ(st.count, ASYNC_REQS * 4);
	TAP_EQ(st.meta.accepted_epoch, 1);
	check_range(ls, zxid_make(1, 1), zxid_make(1, ASYNC_REQS * 4));
	logstore_close(ls);
	cleanup_dir();
}

/* Flips one byte of the first occurrence of pattern in the file. */
static int flip_in_file(const char *path, const char *pattern)
{
	FILE *f = fopen(path, "r+b");
	static char data[1 << 20];
	size_t n, plen = strlen(pattern);

	if (!f)
		return -1;
	n = fread(data, 1, sizeof(data), f);
	for (size_t i = 0; i + plen <= n; i++)
		if (memcmp(data + i, pattern, plen) == 0) {
			fseek(f, (long)(i + plen - 1), SEEK_SET);
			fputc(data[i + plen - 1] ^ 0x20, f);
			fclose(f);
			return 0;
		}
	fclose(f);
	return -1;
}

static void test_corrupt_on_open(void)
{
	struct logstore_state st;
	struct logstore *ls;
	char err[LOGSTORE_ERRMSG];
	zxid_t b = zxid_make(1, 0);

	fresh_dir();
	ls = open_sync(&st);
	append_range(ls, b + 1, b + 30, 10);
	logstore_close(ls); /* checkpoints the WAL into the db file */
	TAP_EQ(flip_in_file(dbpath, "entry-10000000f-"), 0);
	TAP_EQ(logstore_open(dbpath, NULL, &ls, &st, err, sizeof(err)), -EILSEQ);
	printf("# %s\n", err);
	TAP_ASSERT(strstr(err, "checksum") != NULL);
	TAP_ASSERT(strstr(err, dbpath) != NULL);
	TAP_ASSERT(strstr(err, "0x10000000f") != NULL);
	cleanup_dir();
}

/* A record altered behind the store's back is caught when read. */
static void test_corrupt_on_read(void)
{
	struct logstore_state st;
	struct logstore *ls;
	struct logstore_req req;
	sqlite3 *db;
	zxid_t b = zxid_make(1, 0);

	fresh_dir();
	ls = open_sync(&st);
	append_range(ls, b + 1, b + 10, 10);
	TAP_EQ(sqlite3_open(dbpath, &db), SQLITE_OK);
	TAP_EQ(sqlite3_exec(db,
			    "UPDATE log SET data = x'00112233' WHERE zxid = 4294967303",
			    NULL, NULL, NULL),
	       SQLITE_OK);
	sqlite3_close(db);
	TAP_EQ(logstore_read(ls, &req, b + 1, b + 10, 100, done_cb), 0);
	TAP_EQ(last_status, -EILSEQ);
	TAP_ASSERT(strstr(req.errmsg, "0x100000007") != NULL);
	logstore_req_release(&req);
	/* Entries before the bad one are still readable. */
	check_range(ls, b + 1, b + 6);
	logstore_close(ls);
	cleanup_dir();
}

static void test_corrupt_meta(void)
{
	struct logstore_state st;
	struct logstore *ls;
	char err[LOGSTORE_ERRMSG];
	sqlite3 *db;

	fresh_dir();
	ls = open_sync(&st);
	logstore_close(ls);
	TAP_EQ(sqlite3_open(dbpath, &db), SQLITE_OK);
	TAP_EQ(sqlite3_exec(db, "UPDATE meta SET current_epoch = 9", NULL, NULL, NULL),
	       SQLITE_OK);
	sqlite3_close(db);
	TAP_EQ(logstore_open(dbpath, NULL, &ls, &st, err, sizeof(err)), -EILSEQ);
	printf("# %s\n", err);
	TAP_ASSERT(strstr(err, "metadata") != NULL);
	cleanup_dir();
}

static void test_not_a_log(void)
{
	struct logstore *ls;
	struct logstore_state st;
	char err[LOGSTORE_ERRMSG];
	sqlite3 *db;
	int fd;

	fresh_dir();
	TAP_EQ(sqlite3_open(dbpath, &db), SQLITE_OK);
	TAP_EQ(sqlite3_exec(db, "CREATE TABLE t(x)", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	TAP_EQ(logstore_open(dbpath, NULL, &ls, &st, err, sizeof(err)), -EILSEQ);
	printf("# %s\n", err);
	TAP_ASSERT(strstr(err, "not a quorumfs log") != NULL);
	unlink(dbpath);

	/* A log of format 1 (no commit watermark) is refused by name. */
	TAP_EQ(sqlite3_open(dbpath, &db), SQLITE_OK);
	TAP_EQ(sqlite3_exec(db,
			    "CREATE TABLE t(x); PRAGMA application_id = 1363563340;"
			    " PRAGMA user_version = 1;",
			    NULL, NULL, NULL),
	       SQLITE_OK);
	sqlite3_close(db);
	TAP_EQ(logstore_open(dbpath, NULL, &ls, &st, err, sizeof(err)), -EILSEQ);
	printf("# %s\n", err);
	TAP_ASSERT(strstr(err, "unsupported format version 1") != NULL);
	unlink(dbpath);

	fd = open(dbpath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	TAP_ASSERT(fd >= 0);
	for (int i = 0; i < 64; i++)
		TAP_EQ(
		    write(fd,
			  "garbage garbage garbage garbage garbage garbage garbage!!\n",
			  58),
		    58);
	close(fd);
	TAP_ASSERT(logstore_open(dbpath, NULL, &ls, &st, err, sizeof(err)) < 0);
	printf("# %s\n", err);
	TAP_ASSERT(strstr(err, dbpath) != NULL);
	cleanup_dir();
}

/* Truncation and the new suffix land in one transaction. */
static void test_append_after(void)
{
	struct logstore_state st;
	struct logstore *ls;
	struct logstore_req req;
	zxid_t b1 = zxid_make(1, 0), b2 = zxid_make(2, 0);
	struct logstore_entry e[2] = {{b2, 2, 2, NULL, 0}, {b2 + 1, 2, 1, "new", 3}};

	fresh_dir();
	ls = open_sync(&st);
	append_range(ls, b1 + 1, b1 + 10, 10);
	/* The first entry must be above the truncation point. */
	TAP_EQ(logstore_append_after(ls, &req, b2 + 5, e, 2, done_cb), -EINVAL);
	TAP_EQ(logstore_append_after(ls, &req, b1 + 4, e, 2, done_cb), 0);
	TAP_EQ(last_status, 0);
	logstore_close(ls);
	ls = open_sync(&st);
	TAP_EQ(st.count, 6);
	TAP_EQ(st.last_zxid, b2 + 1);
	check_range(ls, b1 + 1, b1 + 4);
	TAP_EQ(logstore_read(ls, &req, b2, b2 + 1, 10, done_cb), 0);
	TAP_EQ(req.n_entries, 2);
	TAP_EQ(req.entries[0].type, 2);
	TAP_EQ(req.entries[0].len, 0);
	TAP_EQ(req.entries[1].type, 1);
	TAP_ASSERT(memcmp(req.entries[1].data, "new", 3) == 0);
	logstore_req_release(&req);
	logstore_close(ls);
	cleanup_dir();
}

/* Compaction records the snapshot point; reset empties the log. */
static void test_reset_and_snapshot_zxid(void)
{
	struct logstore_state st;
	struct logstore *ls;
	struct logstore_req req;
	struct logstore_meta m;
	zxid_t b = zxid_make(4, 0);

	fresh_dir();
	ls = open_sync(&st);
	append_range(ls, b + 1, b + 10, 5);
	TAP_EQ(logstore_compact(ls, &req, b + 6, done_cb), 0);
	TAP_EQ(logstore_meta(ls)->snapshot_zxid, b + 5);
	/* Changing the epoch keeps the snapshot point. */
	m = *logstore_meta(ls);
	m.current_epoch = m.accepted_epoch = 4;
	TAP_EQ(logstore_set_meta(ls, &req, &m, done_cb), 0);
	logstore_close(ls);
	ls = open_sync(&st);
	TAP_EQ(st.meta.snapshot_zxid, b + 5);
	TAP_EQ(st.meta.current_epoch, 4);
	TAP_EQ(st.first_zxid, b + 6);
	TAP_EQ(logstore_reset(ls, &req, b + 100, done_cb), 0);
	TAP_EQ(last_status, 0);
	append_range(ls, b + 101, b + 102, 2);
	logstore_close(ls);
	ls = open_sync(&st);
	TAP_EQ(st.meta.snapshot_zxid, b + 100);
	TAP_EQ(st.meta.current_epoch, 4);
	TAP_EQ(st.count, 2);
	TAP_EQ(st.first_zxid, b + 101);
	logstore_close(ls);
	cleanup_dir();
}

/* A watermark alone: durable across a reopen, no entry, no fsync counted;
 * never beyond the log. */
static void test_mark_commit(void)
{
	struct logstore_state st;
	struct logstore *ls;
	struct logstore_req req;
	zxid_t b = zxid_make(1, 0);
	uint64_t commits, entries;

	fresh_dir();
	ls = open_sync(&st);
	append_range(ls, b + 1, b + 4, 2);
	TAP_EQ(logstore_mark_commit(ls, &req, b + 5, done_cb), -EINVAL);
	TAP_EQ(logstore_mark_commit(ls, &req, 0, done_cb), -EINVAL);
	logstore_stats(ls, &commits, &entries);
	last_status = 1;
	TAP_EQ(logstore_mark_commit(ls, &req, b + 3, done_cb), 0);
	TAP_EQ(last_status, 0);
	TAP_EQ(logstore_meta(ls)->commit_zxid, b + 3);
	{
		uint64_t c2, e2;

		logstore_stats(ls, &c2, &e2);
		TAP_EQ(c2, commits);
		TAP_EQ(e2, entries);
	}
	append_range(ls, b + 5, b + 5, 1); /* an append after it is still FULL */
	logstore_close(ls);
	ls = open_sync(&st);
	TAP_EQ(st.meta.commit_zxid, b + 3);
	TAP_EQ(st.last_zxid, b + 5);
	TAP_EQ(st.count, 5);
	logstore_close(ls);
	cleanup_dir();
}

/* A full disk is ENOSPC with a message that says so, not EIO. */
static void test_full(void)
{
	static char big[256 << 10];
	struct logstore_state st;
	struct logstore *ls;
	struct logstore_req req;
	struct logstore_entry e = {zxid_make(1, 1), 1, 1, big, sizeof(big)};

	fresh_dir();
	ls = open_sync(&st);
	/* The database cannot grow past its pages now: SQLITE_FULL. */
	TAP_EQ(sqlite3_exec(ls->db, "PRAGMA max_page_count = 20", NULL, NULL, NULL),
	       SQLITE_OK);
	last_status = 1;
	TAP_EQ(logstore_append(ls, &req, &e, 1, done_cb), 0);
	TAP_EQ(last_status, -ENOSPC);
	TAP_ASSERT(strstr(req.errmsg, "no space left") != NULL);
	logstore_close(ls);
	cleanup_dir();
}

/* A failed write fails the log writes behind it until a truncating one. */
static void test_failure_until_resync(void)
{
	struct logstore_state st;
	struct logstore *ls;
	struct logstore_req req;
	struct logstore_meta m = {2, 2, 1, 0};
	sqlite3 *db;
	zxid_t b = zxid_make(1, 0);
	struct logstore_entry e = {b + 3, 1, 1, "x", 1};

	fresh_dir();
	ls = open_sync(&st);
	append_range(ls, b + 1, b + 2, 2);
	/* Another connection holds the write lock: our BEGIN fails. */
	TAP_EQ(sqlite3_open(dbpath, &db), SQLITE_OK);
	TAP_EQ(sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
	TAP_EQ(logstore_append(ls, &req, &e, 1, done_cb), 0);
	TAP_EQ(last_status, -EIO);
	printf("# %s\n", req.errmsg);
	TAP_ASSERT(strstr(req.errmsg, dbpath) != NULL);
	TAP_EQ(sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	e.zxid = b + 4;
	TAP_EQ(logstore_append(ls, &req, &e, 1, done_cb), 0);
	TAP_EQ(last_status, -EIO);
	TAP_ASSERT(strstr(req.errmsg, "earlier write failed") != NULL);
	/* Metadata is not a log write: it goes through. */
	TAP_EQ(logstore_set_meta(ls, &req, &m, done_cb), 0);
	TAP_EQ(last_status, 0);
	e.zxid = b + 3;
	TAP_EQ(logstore_append_after(ls, &req, b + 2, &e, 1, done_cb), 0);
	TAP_EQ(last_status, 0);
	logstore_close(ls);
	ls = open_sync(&st);
	TAP_EQ(st.count, 3);
	TAP_EQ(st.last_zxid, b + 3);
	TAP_EQ(st.meta.vote, 1);
	logstore_close(ls);
	cleanup_dir();
}

static int cons_status_seen;
static void cons_cb(struct cons_store_req *req, int status)
{
	cons_status_seen = status;
	(*(int *)req->data)++;
}

/* The core's vtable over the store: load, append (plain and truncating)
 * with the commit watermark, set_meta, compact and reset, surviving a
 * restart. */
static void test_cons_vtable(void)
{
	struct logstore_state st;
	struct cons_store *cs;
	struct cons_store_req creq;
	struct cons_meta meta = {3, 2};
	const struct cons_entry *got;
	size_t n;
	zxid_t snap, commit;
	int calls = 0;
	uint8_t payload_a[3] = {1, 2, 3};
	struct cons_entry e[3] = {{zxid_make(3, 0), CONS_ENTRY_EPOCH, 0, NULL},
				  {zxid_make(3, 1), CONS_ENTRY_TXN, 3, payload_a},
				  {zxid_make(3, 2), CONS_ENTRY_TXN, 3, payload_a}};
	struct cons_entry e4 = {zxid_make(4, 0), CONS_ENTRY_EPOCH, 0, NULL};

	fresh_dir();
	TAP_EQ(logstore_cons_new(open_sync(&st), &cs), 0);
	creq.data = &calls;
	TAP_EQ(cs->load(cs, &meta, &snap, &commit, &got, &n), 0);
	TAP_EQ(n, 0);
	TAP_EQ(meta.epoch, 0);
	TAP_EQ(commit, 0);
	meta = (struct cons_meta){3, 2};
	TAP_EQ(cs->set_meta(cs, &creq, &meta, cons_cb), 0);
	TAP_EQ(cs->append(cs, &creq, 0, 0, e, 3, zxid_make(3, 1), cons_cb), 0);
	payload_a[0] = 99; /* the store copied it */
	TAP_EQ(calls, 2);
	TAP_EQ(cons_status_seen, 0);
	/* A new leader's epoch replaces zxid 3:2. A lower watermark in a later write
	 * never lowers the stored one. */
	TAP_EQ(
	    cs->append(cs, &creq, 1, zxid_make(3, 1), &e4, 1, zxid_make(3, 0), cons_cb),
	    0);
	/* A later set_meta keeps the watermark. */
	meta = (struct cons_meta){3, 2};
	TAP_EQ(cs->set_meta(cs, &creq, &meta, cons_cb), 0);
	TAP_EQ(cs->compact(cs, zxid_make(3, 0)), 0);
	TAP_EQ(calls, 4);
	cs->close(cs);

	TAP_EQ(logstore_cons_new(open_sync(&st), &cs), 0);
	TAP_EQ(cs->load(cs, &meta, &snap, &commit, &got, &n), 0);
	TAP_EQ(commit, zxid_make(3, 1));
	TAP_EQ(meta.epoch, 3);
	TAP_EQ(meta.vote, 2);
	TAP_EQ(snap, zxid_make(3, 0));
	TAP_EQ(n, 2);
	TAP_EQ(got[0].zxid, zxid_make(3, 1));
	TAP_EQ(got[0].type, CONS_ENTRY_TXN);
	TAP_EQ(got[0].len, 3);
	TAP_EQ(got[0].data[0], 1);
	TAP_EQ(got[1].zxid, zxid_make(4, 0));
	TAP_EQ(got[1].type, CONS_ENTRY_EPOCH);
	TAP_EQ(cs->reset(cs, &creq, zxid_make(5, 7), cons_cb), 0);
	TAP_EQ(cons_status_seen, 0);
	cs->close(cs);
	TAP_EQ(logstore_cons_new(open_sync(&st), &cs), 0);
	TAP_EQ(cs->load(cs, &meta, &snap, &commit, &got, &n), 0);
	TAP_EQ(n, 0);
	TAP_EQ(snap, zxid_make(5, 7));
	TAP_EQ(commit, zxid_make(5, 7)); /* a snapshot is committed */
	TAP_EQ(meta.epoch, 3);
	cs->close(cs);
	cleanup_dir();
}

static const struct tap_case cases[] = {
    {"cons_vtable", test_cons_vtable},
    {"append_after_atomic", test_append_after},
    {"reset_and_snapshot_zxid", test_reset_and_snapshot_zxid},
    {"mark_commit", test_mark_commit},
    {"full_is_enospc", test_full},
    {"failure_until_resync", test_failure_until_resync},
    {"append_read_restart", test_append_read_restart},
    {"order_enforced", test_order_enforced},
    {"truncate", test_truncate},
    {"compact", test_compact},
    {"compact_reuses_pages", test_compact_reuses_pages},
    {"compact_shrinks_file", test_compact_shrinks},
    {"meta_durable", test_meta_durable},
    {"async_group_commit", test_async},
    {"async_inline_switching", test_async_inline},
    {"inline_only_while_writes_come_singly", test_inline_rule},
    {"corrupt_record_on_open", test_corrupt_on_open},
    {"corrupt_record_on_read", test_corrupt_on_read},
    {"corrupt_metadata", test_corrupt_meta},
    {"not_a_log", test_not_a_log},
};

TAP_MAIN(cases)
