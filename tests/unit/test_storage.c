/*
 * test_storage.c - the transaction log (the consensus log store,
 * dataDir/txnlog.db, under a one-member ensemble) on real SQLite files:
 * restart restores exactly, damaged logs are refused with a message naming
 * the file, kill -9 during writes loses nothing acknowledged, a full disk
 * fails writes without corrupting and nothing of a failed write is ever
 * applied, the dataDir's format version is checked.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <sqlite3.h>

#include "crc32c.h"
#include "tap.h"
#include "test_core_util.h"
#include "zerr.h"

/* A little of everything: creates, data changes, deletes, an ephemeral. */
static void make_history(struct tc *t, int n)
{
	char path[64], data[64];
	int64_t sid;
	int i;

	TAP_EQ(tc_create(t, "/app", "root", ZCM_PERSISTENT), ZOK);
	for (i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "/app/n%03d", i);
		snprintf(data, sizeof(data), "value %d", i);
		TAP_EQ(tc_create(t, path, data, ZCM_PERSISTENT), ZOK);
		if (i % 3 == 0)
			TAP_EQ(tc_set(t, path, "changed"), ZOK);
		if (i % 7 == 0)
			TAP_EQ(tc_delete(t, path), ZOK);
	}
	sid = tc_session_open(t, 30000, "host/mnt");
	TAP_ASSERT(sid > 0);
	TAP_EQ(tc_create_s(t, sid, "/app/lock", "", ZCM_EPHEMERAL), ZOK);
}

static int sql(const char *db, const char *stmt)
{
	sqlite3 *h = NULL;
	char *msg = NULL;
	int rc;

	rc = sqlite3_open(db, &h);
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(h, stmt, NULL, NULL, &msg);
	if (rc != SQLITE_OK)
		printf("# %s: %s: %s\n", db, stmt, msg ? msg : sqlite3_errstr(rc));
	sqlite3_free(msg);
	sqlite3_close(h);
	return rc;
}

static void test_crc32c(void)
{
	static const char v[] = "123456789";
	uint8_t buf[1000];
	size_t i, off;

	/* The check value of CRC-32C (RFC 3720 B.4). */
	TAP_EQ(crc32c(0, v, 9), 0xe3069283u);
	TAP_EQ(crc32c_sw(0, v, 9), 0xe3069283u);
	for (i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 7 + 3);
	/* Any length and alignment, in pieces or whole: the same value. */
	for (off = 0; off < 9; off++)
		for (i = 0; i + off <= sizeof(buf); i += 37)
			TAP_EQ(crc32c(crc32c(0, buf + off, i / 2), buf + off + i / 2,
				      i - i / 2),
			       crc32c_sw(0, buf + off, i));
}

static void test_append_restart(void)
{
	struct tc t;
	uint32_t before;
	zxid_t z;

	tc_init(&t);
	TAP_EQ(tc_open(&t), 0);
	make_history(&t, 60);
	before = tc_digest(&t);
	z = tree_last_zxid(qcore_tree(t.c));
	tc_close(&t);
	TAP_EQ(tc_open(&t), 0);
	TAP_EQ(tree_last_zxid(qcore_tree(t.c)), z);
	TAP_EQ(tc_digest(&t), before);
	TAP_STREQ(tc_data(&t, "/app/n003"), "changed");
	TAP_STREQ(tc_data(&t, "/app/n004"), "value 4");
	TAP_ASSERT(tc_data(&t, "/app/n007") == NULL);
	TAP_ASSERT(tc_data(&t, "/app/lock") != NULL);
	/* And it goes on from there, in the next epoch (a restart elects
	 * the lone member again). */
	TAP_EQ(tc_create(&t, "/after", "x", ZCM_PERSISTENT), ZOK);
	TAP_ASSERT(zxid_epoch(tree_last_zxid(qcore_tree(t.c))) > zxid_epoch(z));
	TAP_EQ(zxid_counter(tree_last_zxid(qcore_tree(t.c))), 1);
	tc_close(&t);
	TAP_EQ(tc_open(&t), 0);
	TAP_STREQ(tc_data(&t, "/after"), "x");
	tc_done(&t);
}

static void test_corrupt_record(void)
{
	struct tc t;
	char db[512], stmt[256];
	zxid_t z, bad;

	tc_init(&t);
	TAP_EQ(tc_open(&t), 0);
	make_history(&t, 30);
	z = tree_last_zxid(qcore_tree(t.c));
	tc_close(&t);
	bad = z - 5;
	snprintf(db, sizeof(db), "%s/txnlog.db", t.dir);
	snprintf(stmt, sizeof(stmt),
		 "UPDATE log SET data = substr(data, 1, length(data) - 1) || x'ff' WHERE "
		 "zxid = %lld",
		 (long long)bad);
	TAP_EQ(sql(db, stmt), SQLITE_OK);
	TAP_ASSERT(tc_open(&t) < 0);
	printf("# %s\n", t.err);
	TAP_ASSERT(strstr(t.err, "txnlog.db") != NULL);
	/* Still refused: nothing was changed by the failed open. */
	TAP_ASSERT(tc_open(&t) < 0);
	tc_done(&t);
}

static void test_gap_detected(void)
{
	struct tc t;
	char db[512], stmt[256];
	zxid_t z;

	tc_init(&t);
	TAP_EQ(tc_open(&t), 0);
	make_history(&t, 20);
	z = tree_last_zxid(qcore_tree(t.c));
	tc_close(&t);
	snprintf(db, sizeof(db), "%s/txnlog.db", t.dir);
	snprintf(stmt, sizeof(stmt), "DELETE FROM log WHERE zxid = %lld",
		 (long long)(z - 3));
	TAP_EQ(sql(db, stmt), SQLITE_OK);
	TAP_ASSERT(tc_open(&t) == -EBADMSG);
	printf("# %s\n", t.err);
	TAP_ASSERT(strstr(t.err, "does not follow") != NULL);
	TAP_ASSERT(strstr(t.err, "txnlog.db") != NULL);
	tc_done(&t);
}

static void test_truncated_log(void)
{
	struct tc t;
	char db[512];
	struct stat st;

	tc_init(&t);
	TAP_EQ(tc_open(&t), 0);
	make_history(&t, 400);
	tc_close(&t);
	snprintf(db, sizeof(db), "%s/txnlog.db", t.dir);
	TAP_EQ(stat(db, &st), 0);
	TAP_EQ(truncate(db, st.st_size / 2), 0);
	TAP_ASSERT(tc_open(&t) < 0);
	printf("# %s\n", t.err);
	TAP_ASSERT(strstr(t.err, "txnlog.db") != NULL);
	tc_done(&t);
}

static void test_garbage_log(void)
{
	struct tc t;
	char db[512];
	int fd;

	tc_init(&t);
	TAP_EQ(tc_open(&t), 0);
	make_history(&t, 10);
	tc_close(&t);
	snprintf(db, sizeof(db), "%s/txnlog.db", t.dir);
	fd = open(db, O_WRONLY);
	TAP_ASSERT(fd >= 0);
	TAP_EQ(pwrite(fd, "garbage garbage garbage garbage", 31, 0), 31);
	close(fd);
	TAP_ASSERT(tc_open(&t) < 0);
	printf("# %s\n", t.err);
	TAP_ASSERT(strstr(t.err, "txnlog.db") != NULL);
	tc_done(&t);
}

/*
 * kill -9 during writes: a child submits creates (several in flight),
 * reports each acknowledged zxid and path over a pipe, and is killed at a
 * random moment; every acknowledged one must be there after reopening.
 */
struct ack_ctx {
	int fd;
	int *inflight;
	char path[48];
};

static void ack_cb(void *arg, const struct zresult *res)
{
	struct ack_ctx *a = arg;
	char line[96];
	int n;

	(*a->inflight)--;
	if (res->err == ZOK) {
		n = snprintf(line, sizeof(line), "%s\n", a->path);
		if (write(a->fd, line, (size_t)n) != n)
			_exit(3);
	}
	free(a);
}

static void writer_child(const char *dir, int fd, int round)
{
	struct tc t;
	struct zreq r;
	int inflight = 0, i = 0;
	struct ack_ctx *a;

	memset(&t, 0, sizeof(t));
	t.base = event_base_new();
	t.o.base = t.base;
	t.o.data_dir = dir;
	t.o.server_id = 1;
	t.o.force_sync = 1;
	t.o.snap_count = 97; /* snapshots during the run too */
	if (tc_open(&t))
		_exit(2);
	for (;;) {
		while (inflight < 8) {
			a = calloc(1, sizeof(*a));
			a->fd = fd;
			a->inflight = &inflight;
			snprintf(a->path, sizeof(a->path), "/r%d-%d", round, i++);
			memset(&r, 0, sizeof(r));
			r.op = ZOP_CREATE;
			r.path = a->path;
			r.data = a->path;
			r.data_len = (int32_t)strlen(a->path);
			r.acl = acl_open_unsafe();
			r.child_kind = -1;
			if (qcore_submit(t.c, 0, 0, &r, NULL, ack_cb, a))
				_exit(4);
			inflight++;
		}
		event_base_loop(t.base, EVLOOP_ONCE);
	}
}

static void test_kill_during_writes(void)
{
	struct tc t;
	static char buf[1 << 20];
	char *line, *save, *nl;
	char **acked;
	int nacked = 0, round, fds[2], status, i, flags;
	size_t len;
	ssize_t n;
	pid_t pid;
	int64_t deadline;
	struct timespec ts;

	acked = calloc(1 << 16, sizeof(*acked));
	tc_init(&t);
	srand((unsigned)time(NULL) ^ (unsigned)getpid());
	for (round = 0; round < 6; round++) {
		TAP_EQ(pipe(fds), 0);
		pid = fork();
		TAP_ASSERT(pid >= 0);
		if (pid == 0) {
			close(fds[0]);
			writer_child(t.dir, fds[1], round);
		}
		close(fds[1]);
		flags = fcntl(fds[0], F_GETFL);
		fcntl(fds[0], F_SETFL, flags | O_NONBLOCK);
		/* Keep the pipe drained so the child never blocks on it. */
		clock_gettime(CLOCK_MONOTONIC, &ts);
		deadline = ts.tv_sec * 1000 + ts.tv_nsec / 1000000 + 50 + rand() % 400;
		len = 0;
		for (;;) {
			n = read(fds[0], buf + len, sizeof(buf) - 1 - len);
			if (n > 0)
				len += (size_t)n;
			clock_gettime(CLOCK_MONOTONIC, &ts);
			if (ts.tv_sec * 1000 + ts.tv_nsec / 1000000 >= deadline)
				break;
			if (n <= 0)
				usleep(2000);
		}
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		TAP_ASSERT(WIFSIGNALED(status));
		fcntl(fds[0], F_SETFL, flags);
		while ((n = read(fds[0], buf + len, sizeof(buf) - 1 - len)) > 0)
			len += (size_t)n;
		close(fds[0]);
		buf[len] = '\0';
		/* A line cut by the kill was never reported whole: ignore it. */
		nl = strrchr(buf, '\n');
		if (nl)
			nl[1] = '\0';
		else
			buf[0] = '\0';
		for (line = strtok_r(buf, "\n", &save); line;
		     line = strtok_r(NULL, "\n", &save))
			if (nacked < (1 << 16))
				acked[nacked++] = strdup(line);
		TAP_EQ(tc_open(&t), 0);
		for (i = 0; i < nacked; i++) {
			if (!tc_data(&t, acked[i]))
				printf("# round %d: acknowledged %s is missing\n", round,
				       acked[i]);
			TAP_ASSERT(tc_data(&t, acked[i]) != NULL);
		}
		printf("# round %d: %d acknowledged so far, all present; zxid 0x%llx\n",
		       round, nacked,
		       (unsigned long long)tree_last_zxid(qcore_tree(t.c)));
		tc_close(&t);
	}
	TAP_ASSERT(nacked > 0);
	for (i = 0; i < nacked; i++)
		free(acked[i]);
	free(acked);
	tc_done(&t);
}

/*
 * A full disk, for real: the dataDir on a 2 MiB tmpfs. Writes fail with
 * ZSYSTEMERROR and ENOSPC, the tree holds exactly what was acknowledged,
 * and after a restart too.
 */
static void test_enospc(void)
{
	struct tc t;
	char mnt[320], ballast[400], *big;
	char path[64];
	int done = 0, errs = 0, i, ok_count, fd;
	struct qcore_stats st;

	tc_init(&t);
	snprintf(mnt, sizeof(mnt), "%s/small", t.dir);
	TAP_EQ(mkdir(mnt, 0700), 0);
	if (mount("qcore-test", mnt, "tmpfs", 0, "size=2m") < 0) {
		tc_done(&t);
		TAP_SKIP("cannot mount a tmpfs (not root?)");
	}
	/* Ballast, removed before the restart: the log store's open writes
	 * (its pragmas), so a daemon on a full disk restarts once some
	 * space is back. */
	snprintf(ballast, sizeof(ballast), "%s/ballast", mnt);
	fd = open(ballast, O_WRONLY | O_CREAT, 0600);
	TAP_ASSERT(fd >= 0);
	big = calloc(1, 200 * 1024);
	TAP_EQ(write(fd, big, 200 * 1024), 200 * 1024);
	close(fd);
	t.o.data_dir = mnt;
	if (tc_open(&t)) {
		umount2(mnt, MNT_DETACH);
		printf("# %s\n", t.err);
		TAP_ASSERT(0);
	}
	memset(big, 'x', 200 * 1024);
	/* One at a time, so each failure is about its own write. */
	ok_count = 0;
	for (i = 0; i < 40; i++) {
		int before = done;

		snprintf(path, sizeof(path), "/big%d", i);
		TAP_EQ(tc_create_async(&t, path, big, 200 * 1024, &done, &errs), 0);
		TAP_ASSERT(tc_wait_count(&t, &done, before + 1, 20000));
		if (errs)
			break;
		ok_count++;
	}
	printf("# %d writes of 200 KiB fit; then %s\n", ok_count,
	       strerror(qcore_last_io_errno(t.c)));
	TAP_ASSERT(errs > 0);
	TAP_ASSERT(ok_count > 0);
	TAP_EQ(qcore_last_io_errno(t.c), ENOSPC);
	qcore_stats(t.c, &st);
	TAP_ASSERT(st.log_failed > 0);
	TAP_EQ(st.outstanding, 0);
	snprintf(path, sizeof(path), "/big%d", i);
	TAP_ASSERT(tree_lookup(qcore_tree(t.c), path) == NULL);
	/* A small write may still fit: the store goes on after ENOSPC. */
	(void)tc_create(&t, "/small", "s", ZCM_PERSISTENT);
	tc_close(&t);
	TAP_EQ(unlink(ballast), 0);
	if (tc_open(&t))
		printf("# reopening: %s\n", t.err);
	TAP_ASSERT(t.c != NULL);
	for (i = 0; i < ok_count; i++) {
		snprintf(path, sizeof(path), "/big%d", i);
		TAP_ASSERT(tree_lookup(qcore_tree(t.c), path) != NULL);
	}
	snprintf(path, sizeof(path), "/big%d", ok_count);
	TAP_ASSERT(tree_lookup(qcore_tree(t.c), path) == NULL);
	tc_close(&t);
	free(big);
	umount2(mnt, MNT_DETACH);
	tc_done(&t);
}

/*
 * ENOSPC with writes pipelined: the failed one and everything prepared on
 * top of it fail, none of them is applied, and once space is back (a
 * ballast file removed) writing goes on with the next zxid, no gap.
 */
static void test_enospc_pipelined_then_recovers(void)
{
	struct tc t;
	char mnt[320], ballast[400], path[64], *big;
	int done = 0, errs = 0, i, fd;
	zxid_t before_fail, expect;

	tc_init(&t);
	snprintf(mnt, sizeof(mnt), "%s/small", t.dir);
	TAP_EQ(mkdir(mnt, 0700), 0);
	if (mount("qcore-test", mnt, "tmpfs", 0, "size=3m") < 0) {
		tc_done(&t);
		TAP_SKIP("cannot mount a tmpfs (not root?)");
	}
	snprintf(ballast, sizeof(ballast), "%s/ballast", mnt);
	fd = open(ballast, O_WRONLY | O_CREAT, 0600);
	TAP_ASSERT(fd >= 0);
	big = calloc(1, 1024 * 1024);
	TAP_EQ(write(fd, big, 1024 * 1024), 1024 * 1024);
	close(fd);
	t.o.data_dir = mnt;
	if (tc_open(&t)) {
		umount2(mnt, MNT_DETACH);
		printf("# %s\n", t.err);
		TAP_ASSERT(0);
	}
	memset(big, 'y', 200 * 1024);
	for (i = 0; i < 30; i++) {
		snprintf(path, sizeof(path), "/p%d", i);
		TAP_EQ(tc_create_async(&t, path, big, 200 * 1024, &done, &errs), 0);
	}
	TAP_ASSERT(tc_wait_count(&t, &done, 30, 30000));
	printf("# %d of 30 pipelined writes failed (%s)\n", errs,
	       strerror(qcore_last_io_errno(t.c)));
	TAP_ASSERT(errs > 0);
	TAP_EQ(qcore_last_io_errno(t.c), ENOSPC);
	/* What was applied is a prefix, with no gap. */
	for (i = 0; i < 30 - errs; i++) {
		snprintf(path, sizeof(path), "/p%d", i);
		TAP_ASSERT(tree_lookup(qcore_tree(t.c), path) != NULL);
	}
	for (; i < 30; i++) {
		snprintf(path, sizeof(path), "/p%d", i);
		TAP_ASSERT(tree_lookup(qcore_tree(t.c), path) == NULL);
	}
	before_fail = tree_last_zxid(qcore_tree(t.c));
	TAP_EQ(unlink(ballast), 0);
	TAP_EQ(tc_create(&t, "/after", "a", ZCM_PERSISTENT), ZOK);
	/* The failed writes left void entries in the log, never applied:
	 * the zxid moved past them. */
	expect = tree_last_zxid(qcore_tree(t.c));
	TAP_ASSERT(expect > before_fail);
	for (i = 0; i < 30; i++) {
		snprintf(path, sizeof(path), "/p%d", i);
		TAP_EQ(tree_lookup(qcore_tree(t.c), path) != NULL, i < 30 - errs);
	}
	tc_close(&t);
	TAP_EQ(tc_open(&t), 0);
	TAP_STREQ(tc_data(&t, "/after"), "a");
	TAP_EQ(tree_last_zxid(qcore_tree(t.c)), expect);
	for (i = 0; i < 30; i++) {
		snprintf(path, sizeof(path), "/p%d", i);
		TAP_EQ(tree_lookup(qcore_tree(t.c), path) != NULL, i < 30 - errs);
	}
	tc_close(&t);
	free(big);
	umount2(mnt, MNT_DETACH);
	tc_done(&t);
}

static const char *file_text(const char *path)
{
	static char text[256];
	FILE *f = fopen(path, "r");
	size_t n = 0;

	if (f) {
		n = fread(text, 1, sizeof(text) - 1, f);
		fclose(f);
	}
	text[n] = '\0';
	return text;
}

/* The dataDir says its format; an old or unknown one is refused. */
static void test_format_version(void)
{
	struct tc t;
	char path[512];
	FILE *f;

	tc_init(&t);
	TAP_EQ(tc_open(&t), 0);
	tc_close(&t);
	snprintf(path, sizeof(path), "%s/VERSION", t.dir);
	TAP_STREQ(file_text(path), "quorumfs-data 2\n");
	f = fopen(path, "w");
	fputs("quorumfs-data 3\n", f);
	fclose(f);
	TAP_ASSERT(tc_open(&t) == -EPROTO);
	printf("# %s\n", t.err);
	TAP_ASSERT(strstr(t.err, "format 3") != NULL);
	tc_done(&t);

	/* Format 1: log.db and snapshots, no VERSION. */
	tc_init(&t);
	snprintf(path, sizeof(path), "%s/log.db", t.dir);
	f = fopen(path, "w");
	fclose(f);
	TAP_ASSERT(tc_open(&t) == -EPROTO);
	printf("# %s\n", t.err);
	TAP_ASSERT(strstr(t.err, "format 1") != NULL);
	tc_done(&t);
}

static const struct tap_case cases[] = {
    {"crc32c", test_crc32c},
    {"format_version", test_format_version},
    {"append_restart", test_append_restart},
    {"corrupt_record", test_corrupt_record},
    {"gap_detected", test_gap_detected},
    {"truncated_log", test_truncated_log},
    {"garbage_log", test_garbage_log},
    {"kill_during_writes", test_kill_during_writes},
    {"enospc", test_enospc},
    {"enospc_pipelined_then_recovers", test_enospc_pipelined_then_recovers},
};

TAP_MAIN(cases)
