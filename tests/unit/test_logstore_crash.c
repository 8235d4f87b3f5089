/*
 * test_logstore_crash.c - the log store loses nothing it acknowledged
 * (STYLE.md rule 16).
 *
 * kill_during_appends: a child process appends batches through the
 * asynchronous store and reports each acknowledged batch over a pipe; the
 * parent SIGKILLs it at a random moment, reopens the store and checks that
 * every acknowledged entry is there, intact, in one gapless sequence. Many
 * rounds, each continuing the same file. Each batch also records its last
 * zxid as the commit watermark (logstore_append_commit): after any crash
 * the watermark must be exactly the last entry present, never ahead of the
 * log nor behind it, since it is written in the entries' transaction.
 *
 * torn_wal / torn_db: the last bytes of the -wal file (a crash in the
 * middle of writing the last batch) or of the database file are cut off;
 * the store must come back with whole batches only, or refuse to open with
 * a clear message, never return damaged entries.
 */
#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "logstore.h"
#include "tap.h"

static char dir[256], dbpath[300], walpath[310];

static void fresh_dir(void)
{
	tap_tmpdir(dir, sizeof(dir), "lscrash");
	snprintf(dbpath, sizeof(dbpath), "%s/log.db", dir);
	snprintf(walpath, sizeof(walpath), "%s-wal", dbpath);
}

static void cleanup_dir(void)
{
	tap_rmdir(dir);
}

static size_t payload(zxid_t z, char *out, size_t cap)
{
	size_t len = 16 + (z * 7919) % 200;

	if (len > cap)
		len = cap;
	for (size_t i = 0; i < len; i++)
		out[i] = (char)((z * 31 + i * 7) & 0xff);
	memcpy(out, &z, sizeof(z) < len ? sizeof(z) : len);
	return len;
}

static int read_status, watermark_checked;
static void read_cb(struct logstore_req *req, int status)
{
	read_status = status;
}

/* Opens synchronously and checks the log is 1..last of epoch 1 with the
 * right payloads. Returns last. */
static zxid_t verify_entries(void)
{
	struct logstore *ls;
	struct logstore_state st;
	struct logstore_req req;
	char err[LOGSTORE_ERRMSG], want[256];
	int rc = logstore_open(dbpath, NULL, &ls, &st, err, sizeof(err));

	if (rc < 0)
		printf("# reopen: %s\n", err);
	TAP_EQ(rc, 0);
	if (st.count == 0) {
		logstore_close(ls);
		return 0;
	}
	TAP_EQ(st.first_zxid, zxid_make(1, 1));
	TAP_EQ(st.count, zxid_counter(st.last_zxid));
	if (watermark_checked)
		TAP_EQ(st.meta.commit_zxid, st.last_zxid);
	TAP_EQ(logstore_read(ls, &req, st.first_zxid, st.last_zxid, SIZE_MAX, read_cb),
	       0);
	TAP_EQ(read_status, 0);
	TAP_EQ(req.n_entries, st.count);
	for (size_t i = 0; i < req.n_entries; i++) {
		size_t n = payload(req.entries[i].zxid, want, sizeof(want));
		TAP_EQ(req.entries[i].zxid, zxid_make(1, (uint32_t)i + 1));
		TAP_EQ(req.entries[i].len, n);
		TAP_ASSERT(memcmp(req.entries[i].data, want, n) == 0);
	}
	logstore_req_release(&req);
	logstore_close(ls);
	return st.last_zxid;
}

/* --- power loss: a VFS that lets the parent undo unsynced writes ---
 *
 * SIGKILL alone loses nothing the kernel has: the page cache survives. To
 * test that an append is acknowledged only after its fsync, the child
 * runs on this VFS, which before every write to the database or WAL file
 * appends the bytes it overwrites (and the file size) to FILE-undo, and
 * empties FILE-undo when the file is synced. After killing the child the
 * parent puts back the pre-images of writes not yet synced, all of them or
 * a random subset (a disk may persist some unsynced writes and not
 * others), and cuts the file to its size at the last sync: what a power
 * cut would leave. Every acknowledged entry must still be there.
 */
struct pl_file {
	sqlite3_file base;
	int undo_fd; /* -1: not tracked */
	sqlite3_file *real;
};

static sqlite3_vfs *pl_real_vfs;

struct pl_rec {
	int64_t off, old_size;
	uint32_t len; /* pre-image bytes that follow */
};

static int pl_close(sqlite3_file *f)
{
	struct pl_file *p = (struct pl_file *)f;
	int rc = p->real->pMethods ? p->real->pMethods->xClose(p->real) : SQLITE_OK;

	if (p->undo_fd >= 0)
		close(p->undo_fd);
	sqlite3_free(p->real);
	return rc;
}

static int pl_read(sqlite3_file *f, void *b, int n, sqlite3_int64 off)
{
	struct pl_file *p = (struct pl_file *)f;
	return p->real->pMethods->xRead(p->real, b, n, off);
}

static int pl_save(struct pl_file *p, sqlite3_int64 off, int n)
{
	struct pl_rec rec = {off, 0, 0};
	sqlite3_int64 size;
	char *old = NULL;

	if (p->undo_fd < 0)
		return SQLITE_OK;
	if (p->real->pMethods->xFileSize(p->real, &size) != SQLITE_OK)
		return SQLITE_IOERR;
	rec.old_size = size;
	if (off < size) {
		rec.len = (uint32_t)(off + n <= size ? n : size - off);
		old = malloc(rec.len);
		if (!old || p->real->pMethods->xRead(p->real, old, (int)rec.len, off) !=
				SQLITE_OK) {
			free(old);
			return SQLITE_IOERR;
		}
	}
	if (write(p->undo_fd, &rec, sizeof(rec)) != sizeof(rec) ||
	    (rec.len && write(p->undo_fd, old, rec.len) != (ssize_t)rec.len)) {
		free(old);
		return SQLITE_IOERR;
	}
	free(old);
	return SQLITE_OK;
}

static int pl_write(sqlite3_file *f, const void *b, int n, sqlite3_int64 off)
{
	struct pl_file *p = (struct pl_file *)f;

	if (pl_save(p, off, n) != SQLITE_OK)
		return SQLITE_IOERR_WRITE;
	return p->real->pMethods->xWrite(p->real, b, n, off);
}

static int pl_truncate(sqlite3_file *f, sqlite3_int64 size)
{
	struct pl_file *p = (struct pl_file *)f;
	sqlite3_int64 cur;

	if (p->real->pMethods->xFileSize(p->real, &cur) == SQLITE_OK && size < cur &&
	    pl_save(p, size, (int)(cur - size)) != SQLITE_OK)
		return SQLITE_IOERR_TRUNCATE;
	return p->real->pMethods->xTruncate(p->real, size);
}

static int pl_sync(sqlite3_file *f, int flags)
{
	struct pl_file *p = (struct pl_file *)f;
	int rc = p->real->pMethods->xSync(p->real, flags);

	if (rc == SQLITE_OK && p->undo_fd >= 0 && ftruncate(p->undo_fd, 0) < 0)
		rc = SQLITE_IOERR_FSYNC;
	if (p->undo_fd >= 0)
		lseek(p->undo_fd, 0, SEEK_SET);
	return rc;
}

#define PL_FWD(name, proto, args)                                                        \
	static int pl_##name proto                                                       \
	{                                                                                \
		struct pl_file *p = (struct pl_file *)f;                                 \
		return p->real->pMethods->x##name args;                                  \
	}
PL_FWD(FileSize, (sqlite3_file * f, sqlite3_int64 *s), (p->real, s))
PL_FWD(Lock, (sqlite3_file * f, int l), (p->real, l))
PL_FWD(Unlock, (sqlite3_file * f, int l), (p->real, l))
PL_FWD(CheckReservedLock, (sqlite3_file * f, int *r), (p->real, r))
PL_FWD(FileControl, (sqlite3_file * f, int op, void *a), (p->real, op, a))
PL_FWD(SectorSize, (sqlite3_file * f), (p->real))
PL_FWD(DeviceCharacteristics, (sqlite3_file * f), (p->real))
PL_FWD(ShmMap, (sqlite3_file * f, int pg, int sz, int ext, void volatile **pp),
       (p->real, pg, sz, ext, pp))
PL_FWD(ShmLock, (sqlite3_file * f, int o, int n, int fl), (p->real, o, n, fl))
PL_FWD(ShmUnmap, (sqlite3_file * f, int del), (p->real, del))

static void pl_ShmBarrier(sqlite3_file *f)
{
	struct pl_file *p = (struct pl_file *)f;
	p->real->pMethods->xShmBarrier(p->real);
}

static const sqlite3_io_methods pl_methods = {
    2,
    pl_close,
    pl_read,
    pl_write,
    pl_truncate,
    pl_sync,
    pl_FileSize,
    pl_Lock,
    pl_Unlock,
    pl_CheckReservedLock,
    pl_FileControl,
    pl_SectorSize,
    pl_DeviceCharacteristics,
    pl_ShmMap,
    pl_ShmLock,
    pl_ShmBarrier,
    pl_ShmUnmap,
    NULL,
    NULL,
};

static int pl_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *f, int flags,
		   int *out)
{
	struct pl_file *p = (struct pl_file *)f;
	int rc;

	p->undo_fd = -1;
	p->base.pMethods = NULL;
	p->real = sqlite3_malloc(pl_real_vfs->szOsFile);
	if (!p->real)
		return SQLITE_NOMEM;
	memset(p->real, 0, (size_t)pl_real_vfs->szOsFile);
	rc = pl_real_vfs->xOpen(pl_real_vfs, name, p->real, flags, out);
	if (rc != SQLITE_OK) {
		sqlite3_free(p->real);
		return rc;
	}
	if (name && (flags & (SQLITE_OPEN_MAIN_DB | SQLITE_OPEN_WAL))) {
		char undo[600];
		snprintf(undo, sizeof(undo), "%s-undo", name);
		p->undo_fd = open(undo, O_RDWR | O_CREAT | O_TRUNC | O_APPEND, 0600);
	}
	p->base.pMethods = &pl_methods;
	return SQLITE_OK;
}

static sqlite3_vfs pl_vfs;

static void pl_register(void)
{
	pl_real_vfs = sqlite3_vfs_find(NULL);
	pl_vfs = *pl_real_vfs;
	pl_vfs.zName = "powerloss";
	pl_vfs.szOsFile = sizeof(struct pl_file);
	pl_vfs.xOpen = pl_open;
	pl_vfs.pNext = NULL;
	sqlite3_vfs_register(&pl_vfs, 1);
}

/* In the parent, after the kill: undo what was not synced. Returns the
 * number of unsynced writes found. */
static int pl_power_cut(const char *path, unsigned *seed, int keep_some)
{
	char undo[600];
	struct stat sb;
	struct pl_rec *recs = NULL;
	char *data = NULL;
	size_t n = 0, cap = 0, pos = 0;
	int fd, ufd;

	snprintf(undo, sizeof(undo), "%s-undo", path);
	ufd = open(undo, O_RDONLY);
	if (ufd < 0)
		return 0;
	if (fstat(ufd, &sb) < 0 || sb.st_size == 0) {
		close(ufd);
		unlink(undo);
		return 0;
	}
	data = malloc((size_t)sb.st_size);
	TAP_ASSERT(data && read(ufd, data, (size_t)sb.st_size) == sb.st_size);
	close(ufd);
	/* Index the records; a torn last one never reached the real file. */
	while (pos + sizeof(struct pl_rec) <= (size_t)sb.st_size) {
		struct pl_rec r;
		memcpy(&r, data + pos, sizeof(r));
		if (pos + sizeof(r) + r.len > (size_t)sb.st_size)
			break;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			recs = realloc(recs, cap * sizeof(*recs));
			TAP_ASSERT(recs != NULL);
		}
		recs[n++] = r;
		pos += sizeof(r) + r.len;
	}
	fd = open(path, O_RDWR);
	TAP_ASSERT(fd >= 0);
	/* Walk back, restoring pre-images (the data of record i follows it). */
	{
		size_t *at = malloc((n + 1) * sizeof(*at)), p2 = 0;
		TAP_ASSERT(at != NULL);
		for (size_t i = 0; i < n; i++) {
			at[i] = p2 + sizeof(struct pl_rec);
			p2 = at[i] + recs[i].len;
		}
		for (size_t i = n; i-- > 0;) {
			if (keep_some && rand_r(seed) % 2)
				continue;
			if (recs[i].len)
				TAP_EQ(pwrite(fd, data + at[i], recs[i].len, recs[i].off),
				       (ssize_t)recs[i].len);
		}
		free(at);
	}
	if (n && (!keep_some || rand_r(seed) % 2))
		TAP_EQ(ftruncate(fd, recs[0].old_size), 0);
	close(fd);
	free(recs);
	free(data);
	unlink(undo);
	return (int)n;
}

/* --- the child: appends forever, reports acknowledged batches --- */

#define INFLIGHT  8
#define BATCH_MAX 32

struct slot {
	struct logstore_req req;
	struct logstore_entry e[BATCH_MAX];
	char data[BATCH_MAX][256];
};

static struct {
	struct logstore *ls;
	struct slot slots[INFLIGHT];
	zxid_t next;
	int fd;
	unsigned seed;
} ch;

static void child_submit(struct slot *s);

static void child_cb(struct logstore_req *req, int status)
{
	struct slot *s = req->data;
	zxid_t last = s->e[s->req.n_in - 1].zxid;

	if (status < 0) {
		fprintf(stderr, "child: %s\n", req->errmsg);
		_exit(3);
	}
	/* Acknowledged: durable from here on. */
	if (write(ch.fd, &last, sizeof(last)) != sizeof(last))
		_exit(4);
	child_submit(s);
}

static void child_submit(struct slot *s)
{
	size_t n = 1 + (size_t)rand_r(&ch.seed) % BATCH_MAX;

	for (size_t i = 0; i < n; i++) {
		zxid_t z = zxid_make(1, (uint32_t)ch.next++);
		s->e[i].zxid = z;
		s->e[i].epoch = 1;
		s->e[i].data = s->data[i];
		s->e[i].len = payload(z, s->data[i], sizeof(s->data[i]));
	}
	s->req.data = s;
	if (logstore_append_commit(ch.ls, &s->req, 0, 0, s->e, n, s->e[n - 1].zxid,
				   child_cb) < 0)
		_exit(5);
}

static int use_powerloss;

static void child_main(int fd, unsigned seed)
{
	struct event_base *base;

	if (use_powerloss)
		pl_register();
	base = event_base_new();
	struct logstore_state st;
	char err[LOGSTORE_ERRMSG];

	ch.fd = fd;
	ch.seed = seed;
	if (!base || logstore_open(dbpath, base, &ch.ls, &st, err, sizeof(err)) < 0) {
		fprintf(stderr, "child: %s\n", err);
		_exit(2);
	}
	ch.next = zxid_counter(st.last_zxid) + 1;
	for (int i = 0; i < INFLIGHT; i++)
		child_submit(&ch.slots[i]);
	event_base_dispatch(base);
	_exit(6);
}

/* Runs a child for about delay_us, kills it, returns the highest zxid it
 * acknowledged (0 if none). */
static zxid_t run_and_kill(unsigned seed, useconds_t delay_us)
{
	int p[2], status;
	zxid_t z, acked = 0;
	pid_t pid;

	TAP_EQ(pipe(p), 0);
	pid = fork();
	TAP_ASSERT(pid >= 0);
	if (pid == 0) {
		close(p[0]);
		child_main(p[1], seed);
	}
	close(p[1]);
	usleep(delay_us);
	kill(pid, SIGKILL);
	/* Everything written before the kill is still in the pipe. */
	while (read(p[0], &z, sizeof(z)) == sizeof(z))
		if (z > acked)
			acked = z;
	close(p[0]);
	TAP_EQ(waitpid(pid, &status, 0), pid);
	TAP_ASSERT(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	return acked;
}

static void test_kill_during_appends(void)
{
	unsigned seed = (unsigned)time(NULL);
	int rounds = getenv("QFS_CRASH_ROUNDS") ? atoi(getenv("QFS_CRASH_ROUNDS")) : 12;
	zxid_t total_acked = 0;

	printf("# seed %u, %d rounds\n", seed, rounds);
	fresh_dir();
	watermark_checked = 1;
	for (int r = 0; r < rounds; r++) {
		useconds_t delay = 20000 + (useconds_t)(rand_r(&seed) % 200000);
		zxid_t acked = run_and_kill(seed + (unsigned)r, delay);
		zxid_t have = verify_entries();

		if (have < acked)
			printf(
			    "# round %d: acknowledged up to 0x%llx, log ends at 0x%llx\n",
			    r, (unsigned long long)acked, (unsigned long long)have);
		TAP_ASSERT(have >= acked);
		if (acked > total_acked)
			total_acked = acked;
	}
	watermark_checked = 0;
	printf("# %u entries acknowledged over all rounds, all present, watermark at "
	       "the log's end\n",
	       zxid_counter(total_acked));
	TAP_ASSERT(total_acked > 0);
	cleanup_dir();
}

static void test_power_loss(void)
{
	unsigned seed = (unsigned)time(NULL) ^ 0xbeef;
	int rounds = getenv("QFS_CRASH_ROUNDS") ? atoi(getenv("QFS_CRASH_ROUNDS")) : 12;
	zxid_t total_acked = 0;
	int lost_writes = 0;
	char shm[320];

	printf("# seed %u, %d rounds\n", seed, rounds);
	fresh_dir();
	snprintf(shm, sizeof(shm), "%s-shm", dbpath);
	use_powerloss = 1;
	watermark_checked = 1;
	for (int r = 0; r < rounds; r++) {
		useconds_t delay = 20000 + (useconds_t)(rand_r(&seed) % 200000);
		zxid_t acked = run_and_kill(seed + (unsigned)r, delay);
		zxid_t have;

		lost_writes += pl_power_cut(walpath, &seed, r % 2);
		lost_writes += pl_power_cut(dbpath, &seed, r % 2);
		/* The shared-memory index does not survive a power cut. */
		unlink(shm);
		have = verify_entries();
		if (have < acked)
			printf(
			    "# round %d: acknowledged up to 0x%llx, log ends at 0x%llx\n",
			    r, (unsigned long long)acked, (unsigned long long)have);
		TAP_ASSERT(have >= acked);
		if (acked > total_acked)
			total_acked = acked;
	}
	use_powerloss = 0;
	watermark_checked = 0;
	printf("# %u entries acknowledged, all present; %d unsynced writes undone; "
	       "watermark at the log's end\n",
	       zxid_counter(total_acked), lost_writes);
	TAP_ASSERT(total_acked > 0);
	cleanup_dir();
}

/* A child that appends n batches of size 5 synchronously and dies without
 * closing, leaving every commit in the -wal file. */
static void append_then_die(int batches)
{
	pid_t pid = fork();
	int status;

	TAP_ASSERT(pid >= 0);
	if (pid == 0) {
		struct logstore *ls;
		struct logstore_state st;
		struct logstore_req req;
		struct logstore_entry e[5];
		char data[5][256], err[LOGSTORE_ERRMSG];
		zxid_t next;

		if (logstore_open(dbpath, NULL, &ls, &st, err, sizeof(err)) < 0)
			_exit(2);
		next = zxid_counter(st.last_zxid) + 1;
		for (int b = 0; b < batches; b++) {
			for (int i = 0; i < 5; i++) {
				zxid_t z = zxid_make(1, (uint32_t)next++);
				e[i] = (struct logstore_entry){z, 1, 0, data[i], 0};
				e[i].len = payload(z, data[i], sizeof(data[i]));
			}
			read_status = 1;
			if (logstore_append(ls, &req, e, 5, read_cb) < 0 ||
			    read_status != 0)
				_exit(3);
		}
		raise(SIGKILL);
	}
	TAP_EQ(waitpid(pid, &status, 0), pid);
	TAP_ASSERT(WIFSIGNALED(status));
}

static off_t file_size(const char *path)
{
	struct stat sb;

	return stat(path, &sb) == 0 ? sb.st_size : -1;
}

static void test_torn_wal(void)
{
	unsigned seed = (unsigned)time(NULL) ^ 0x5a5a;

	fresh_dir();
	for (int r = 0; r < 8; r++) {
		zxid_t before = verify_entries(), after;
		off_t sz;
		off_t cut = 1 + (off_t)(rand_r(&seed) % 4000);

		append_then_die(10);
		sz = file_size(walpath);
		TAP_ASSERT(sz > 4096);
		/* Less than one frame: only the last batch's commit frame is torn. */
		TAP_EQ(truncate(walpath, sz - cut), 0);
		after = verify_entries();
		if (zxid_counter(after) != zxid_counter(before) + 45)
			printf("# round %d: cut %lld bytes of %lld: log went from %u to "
			       "%u\n",
			       r, (long long)cut, (long long)sz, zxid_counter(before),
			       zxid_counter(after));
		/* The torn batch is gone as a whole; the nine before it stay. */
		TAP_EQ(zxid_counter(after), zxid_counter(before) + 45);
	}
	cleanup_dir();
}

static void test_torn_db(void)
{
	struct logstore *ls;
	struct logstore_state st;
	char err[LOGSTORE_ERRMSG];
	int refused = 0, opened = 0;
	off_t sz;

	for (int cut = 100; cut <= 100000; cut *= 10) {
		fresh_dir();
		append_then_die(200);
		verify_entries(); /* a clean close checkpoints into the db file */
		TAP_EQ(file_size(walpath), -1);
		sz = file_size(dbpath);
		TAP_ASSERT(sz > cut);
		TAP_EQ(truncate(dbpath, sz - cut), 0);
		if (logstore_open(dbpath, NULL, &ls, &st, err, sizeof(err)) < 0) {
			printf("# cut %d of %lld bytes: %s\n", cut, (long long)sz, err);
			TAP_ASSERT(strstr(err, dbpath) != NULL);
			refused++;
		} else {
			/* Whatever it kept must be whole and gapless. */
			logstore_close(ls);
			printf("# cut %d of %lld bytes: opened, log ends at %u\n", cut,
			       (long long)sz, zxid_counter(verify_entries()));
			opened++;
		}
		cleanup_dir();
	}
	TAP_ASSERT(refused + opened == 4);
}

static const struct tap_case cases[] = {
    {"kill_during_appends", test_kill_during_appends},
    {"power_loss", test_power_loss},
    {"torn_wal", test_torn_wal},
    {"torn_db", test_torn_db},
};

TAP_MAIN(cases)
