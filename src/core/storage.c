/* storage.c - the SQLite transaction log and its group-commit writer; see
 * storage.h for the format and the threading rules. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "log.h"
#include "storage.h"
#include "crc32c.h"
#include "storage_sql.h"

struct storage {
	sqlite3 *db;
	char *path;
	char *dir;
	struct storage_opts o;
	sqlite3_stmt *ins, *begin, *commit, *rollback, *purge;

	pthread_t thread;
	int started;
	int notify_fd;

	/* mu guards the queues, the flags and the figures below. */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct storage_item *q_head, **q_tail; /* queued, not yet taken by the writer */
	struct storage_item *d_head, **d_tail; /* finished, for the loop */
	int stop;
	zxid_t purge_upto;
	struct storage_stats st;
	int last_errno;

	/* Writer-thread state, also read under mu. */
	int have_bad;
	uint64_t bad_gen;
	int broken; /* positive errno: the disk failed in a way we cannot trust */

	/* Held by the writer around every SQLite call; see storage_fork_lock. */
	pthread_mutex_t sql_mu;
};

static const char log_schema[] =
    "CREATE TABLE IF NOT EXISTS log (zxid INTEGER PRIMARY KEY, crc INTEGER NOT NULL,"
    " rec BLOB NOT NULL)";

uint32_t storage_record_crc(zxid_t zxid, const void *rec, size_t len)
{
	return crc32c(crc32c_u64(0, zxid), rec, len);
}

int storage_zxid_follows(zxid_t prev, zxid_t z)
{
	if (z == prev + 1 && zxid_counter(z) != 0)
		return 1;
	return zxid_epoch(z) > zxid_epoch(prev) && zxid_counter(z) == 1;
}

int storage_sql_errno(sqlite3 *db, int rc)
{
	int e;

	switch (rc & 0xff) {
	case SQLITE_OK:
		return 0;
	case SQLITE_FULL:
		return -ENOSPC;
	case SQLITE_NOMEM:
		return -ENOMEM;
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
		return -EBADMSG;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return -EBUSY;
	case SQLITE_READONLY:
		return -EROFS;
	case SQLITE_PERM:
	case SQLITE_AUTH:
		return -EACCES;
	case SQLITE_IOERR:
	case SQLITE_CANTOPEN:
		e = db ? sqlite3_system_errno(db) : 0;
		return e > 0 ? -e : -EIO;
	default:
		return -EIO;
	}
}

int storage_exec(sqlite3 *db, const char *sql, const char *path, char *errbuf,
		 size_t errlen)
{
	char *msg = NULL;
	int rc;

	rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
	if (rc == SQLITE_OK)
		return 0;
	snprintf(errbuf, errlen, "%s: %s: %s", path, sql, msg ? msg : sqlite3_errstr(rc));
	sqlite3_free(msg);
	return storage_sql_errno(db, rc);
}

int storage_fsync_dir(const char *dir)
{
	int fd, rc = 0;

	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fsync(fd) < 0)
		rc = -errno;
	close(fd);
	return rc;
}

static int64_t mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* PRAGMA quick_check: the file's b-trees are whole. A log cut short or
 * overwritten by garbage fails here rather than half way through replay. */
static int quick_check(sqlite3 *db, const char *path, char *errbuf, size_t errlen)
{
	sqlite3_stmt *st = NULL;
	const char *res;
	int rc, ret = 0;

	rc = sqlite3_prepare_v2(db, "PRAGMA quick_check(1)", -1, &st, NULL);
	if (rc != SQLITE_OK)
		goto err_sql;
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW)
		goto err_sql;
	res = (const char *)sqlite3_column_text(st, 0);
	if (!res || strcmp(res, "ok") != 0) {
		snprintf(errbuf, errlen, "%s: corrupt (%s)", path, res ? res : "?");
		ret = -EBADMSG;
	}
	goto out;
err_sql:
	snprintf(errbuf, errlen, "%s: %s", path, sqlite3_errmsg(db));
	ret = storage_sql_errno(db, rc);
out:
	sqlite3_finalize(st);
	return ret;
}

static void db_close(struct storage *s)
{
	sqlite3_finalize(s->ins);
	sqlite3_finalize(s->begin);
	sqlite3_finalize(s->commit);
	sqlite3_finalize(s->rollback);
	sqlite3_finalize(s->purge);
	s->ins = s->begin = s->commit = s->rollback = s->purge = NULL;
	if (s->db && sqlite3_close(s->db) != SQLITE_OK)
		log_warnx("%s: close: %s", s->path, sqlite3_errmsg(s->db));
	s->db = NULL;
}

static int db_open(struct storage *s, char *errbuf, size_t errlen)
{
	static const struct {
		size_t off;
		const char *sql;
	} stmts[] = {
	    {offsetof(struct storage, ins),
	     "INSERT INTO log (zxid, crc, rec) VALUES (?, ?, ?)"},
	    {offsetof(struct storage, begin), "BEGIN IMMEDIATE"},
	    {offsetof(struct storage, commit), "COMMIT"},
	    {offsetof(struct storage, rollback), "ROLLBACK"},
	    {offsetof(struct storage, purge), "DELETE FROM log WHERE zxid <= ?"},
	};
	char sync_sql[64];
	size_t i;
	int rc, ret;

	/* NOMUTEX: the connection is used by one thread at a time (the loop
	 * until storage_start, the writer after), handed over by
	 * pthread_create/pthread_join. */
	rc = sqlite3_open_v2(
	    s->path, &s->db,
	    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		snprintf(errbuf, errlen, "%s: open: %s", s->path,
			 s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc));
		ret = storage_sql_errno(s->db, rc);
		goto err_after_open;
	}
	sqlite3_extended_result_codes(s->db, 0);
	ret = storage_exec(s->db, "PRAGMA journal_mode=WAL", s->path, errbuf, errlen);
	if (ret)
		goto err_after_open;
	snprintf(sync_sql, sizeof(sync_sql), "PRAGMA synchronous=%s",
		 s->o.sync_full ? "FULL" : "NORMAL");
	ret = storage_exec(s->db, sync_sql, s->path, errbuf, errlen);
	if (ret)
		goto err_after_open;
	/* The WAL is reused from its start after each checkpoint but never
	 * shrinks by itself; one big batch must not keep its size forever. */
	ret = storage_exec(s->db, "PRAGMA journal_size_limit=67108864", s->path, errbuf,
			   errlen);
	if (ret)
		goto err_after_open;
	ret = quick_check(s->db, s->path, errbuf, errlen);
	if (ret)
		goto err_after_open;
	ret = storage_exec(s->db, log_schema, s->path, errbuf, errlen);
	if (ret)
		goto err_after_open;
	for (i = 0; i < sizeof(stmts) / sizeof(stmts[0]); i++) {
		sqlite3_stmt **sp = (sqlite3_stmt **)((char *)s + stmts[i].off);

		rc = sqlite3_prepare_v3(s->db, stmts[i].sql, -1,
					SQLITE_PREPARE_PERSISTENT, sp, NULL);
		if (rc != SQLITE_OK) {
			snprintf(errbuf, errlen, "%s: %s: %s", s->path, stmts[i].sql,
				 sqlite3_errmsg(s->db));
			ret = storage_sql_errno(s->db, rc);
			goto err_after_open;
		}
	}
	return 0;
err_after_open:
	db_close(s);
	return ret;
}

int storage_open(const char *dir, const struct storage_opts *o, struct storage **out,
		 char *errbuf, size_t errlen)
{
	struct storage *s;
	char why[512];
	int ret;

	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->o = *o;
	s->notify_fd = -1;
	s->q_tail = &s->q_head;
	s->d_tail = &s->d_head;
	if (asprintf(&s->path, "%s/log.db", dir) < 0) {
		s->path = NULL;
		ret = -ENOMEM;
		goto err_after_alloc;
	}
	s->dir = strdup(dir);
	if (!s->dir) {
		ret = -ENOMEM;
		goto err_after_alloc;
	}
	pthread_mutex_init(&s->mu, NULL);
	pthread_mutex_init(&s->sql_mu, NULL);
	pthread_cond_init(&s->cv, NULL);

	ret = db_open(s, why, sizeof(why));
	if (ret == -EBADMSG && o->repair) {
		log_warnx("REPAIR: %s; salvaging its readable records (repair=yes)", why);
		ret = storage_salvage(s->path, s->dir, why, sizeof(why));
		if (!ret)
			ret = db_open(s, why, sizeof(why));
	}
	if (ret == -EBADMSG)
		snprintf(errbuf, errlen,
			 "%s; the transaction log is damaged: start with -o repair=yes "
			 "to keep "
			 "its readable records and move the file aside",
			 why);
	else if (ret)
		snprintf(errbuf, errlen, "%s", why);
	if (ret)
		goto err_after_init;
	*out = s;
	return 0;
err_after_init:
	pthread_cond_destroy(&s->cv);
	pthread_mutex_destroy(&s->sql_mu);
	pthread_mutex_destroy(&s->mu);
err_after_alloc:
	free(s->dir);
	free(s->path);
	free(s);
	return ret;
}

/* Cut the log at zxid `from` (repair mode), saying how much goes. */
static int cut_tail(struct storage *s, zxid_t from, const char *why, char *errbuf,
		    size_t errlen)
{
	char sql[128];

	log_warnx("REPAIR: %s: %s at zxid 0x%llx; DELETING that record and every later "
		  "one (repair=yes)",
		  s->path, why, (unsigned long long)from);
	snprintf(sql, sizeof(sql), "DELETE FROM log WHERE zxid >= %lld", (long long)from);
	return storage_exec(s->db, sql, s->path, errbuf, errlen);
}

int storage_replay(struct storage *s, zxid_t after, storage_replay_fn fn, void *arg,
		   char *errbuf, size_t errlen)
{
	sqlite3_stmt *st = NULL;
	zxid_t prev = after, z;
	const void *rec;
	const char *bad = NULL;
	uint32_t crc;
	size_t len;
	int rc, ret = 0;

	rc = sqlite3_prepare_v2(s->db,
				"SELECT zxid, crc, rec FROM log WHERE zxid > ? "
				"ORDER BY zxid",
				-1, &st, NULL);
	if (rc != SQLITE_OK)
		goto err_sql;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)after);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		z = (zxid_t)sqlite3_column_int64(st, 0);
		crc = (uint32_t)sqlite3_column_int64(st, 1);
		rec = sqlite3_column_blob(st, 2);
		len = (size_t)sqlite3_column_bytes(st, 2);
		if (storage_record_crc(z, rec, len) != crc) {
			bad = "bad checksum";
			break;
		}
		if (!storage_zxid_follows(prev, z)) {
			bad = "gap in the zxid sequence";
			break;
		}
		ret = fn(arg, z, rec, len);
		if (ret)
			goto out;
		prev = z;
	}
	if (!bad && rc != SQLITE_DONE)
		goto err_sql;
	if (!bad)
		goto out;
	sqlite3_finalize(st);
	st = NULL;
	if (!s->o.repair) {
		snprintf(errbuf, errlen,
			 "%s: %s at zxid 0x%llx (after 0x%llx); start with -o repair=yes "
			 "to cut "
			 "the log there (the record and all later ones are dropped)",
			 s->path, bad, (unsigned long long)z, (unsigned long long)prev);
		ret = -EBADMSG;
		goto out;
	}
	ret = cut_tail(s, z, bad, errbuf, errlen);
	goto out;
err_sql:
	snprintf(errbuf, errlen,
		 "%s: reading the log: %s; start with -o repair=yes to salvage it",
		 s->path, sqlite3_errmsg(s->db));
	ret = storage_sql_errno(s->db, rc);
out:
	sqlite3_finalize(st);
	return ret;
}

int storage_bounds(struct storage *s, zxid_t *lo, zxid_t *hi)
{
	sqlite3_stmt *st = NULL;
	int rc;

	rc = sqlite3_prepare_v2(
	    s->db, "SELECT ifnull(min(zxid), 0), ifnull(max(zxid), 0) FROM log", -1, &st,
	    NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		sqlite3_finalize(st);
		return storage_sql_errno(s->db, rc);
	}
	*lo = (zxid_t)sqlite3_column_int64(st, 0);
	*hi = (zxid_t)sqlite3_column_int64(st, 1);
	sqlite3_finalize(st);
	return 0;
}

/* Marks an item the writer is to write in this batch (err is otherwise 0
 * or negative). */
#define ITEM_TO_WRITE 1

/*
 * One SQLite transaction over the items to write from `first` on (all of
 * them, or only the first). Returns SQLITE_DONE, or the failing code with
 * the transaction rolled back.
 */
static int commit_items(struct storage *s, struct storage_item *first, int just_one)
{
	struct storage_item *it;
	int rc;

	rc = sqlite3_step(s->begin);
	sqlite3_reset(s->begin);
	if (rc != SQLITE_DONE)
		goto err_in_txn;
	for (it = first; it; it = it->next) {
		if (it->err != ITEM_TO_WRITE)
			continue;
		sqlite3_bind_int64(s->ins, 1, (sqlite3_int64)it->zxid);
		sqlite3_bind_int64(s->ins, 2,
				   storage_record_crc(it->zxid, it->rec, it->len));
		sqlite3_bind_blob(s->ins, 3, it->rec, (int)it->len, SQLITE_STATIC);
		rc = sqlite3_step(s->ins);
		sqlite3_clear_bindings(s->ins);
		sqlite3_reset(s->ins);
		if (rc != SQLITE_DONE)
			goto err_in_txn;
		if (just_one)
			break;
	}
	/* The one fsync that all of these share. */
	rc = sqlite3_step(s->commit);
	sqlite3_reset(s->commit);
	if (rc != SQLITE_DONE)
		goto err_in_txn;
	return SQLITE_DONE;
err_in_txn:
	if (!sqlite3_get_autocommit(s->db)) {
		sqlite3_step(s->rollback);
		sqlite3_reset(s->rollback);
	}
	return rc;
}

/*
 * Write one batch as one SQLite transaction. Items prepared on top of an
 * earlier failure fail without being written. A full disk is reported and
 * the next batch tried again; any other I/O error leaves the writer broken:
 * after a failed fsync the page cache may hold data the disk lost, so
 * nothing later can be trusted (PostgreSQL learnt this in 2018).
 */
static void write_batch(struct storage *s, struct storage_item *batch)
{
	struct storage_item *it;
	uint64_t max_gen = 0, n = 0, bytes = 0, commits = 0, done = 0, done_bytes = 0;
	int64_t t0, dt;
	int rc, err = 0;

	pthread_mutex_lock(&s->mu);
	for (it = batch; it; it = it->next) {
		if (s->broken)
			it->err = -s->broken;
		else if (s->have_bad && it->gen <= s->bad_gen)
			it->err = s->last_errno ? -s->last_errno : -EIO;
		else
			it->err = ITEM_TO_WRITE;
		if (it->err == ITEM_TO_WRITE) {
			n++;
			bytes += it->len;
			if (it->gen > max_gen)
				max_gen = it->gen;
		}
	}
	pthread_mutex_unlock(&s->mu);
	if (!n)
		goto count;

	t0 = mono_us();
	rc = commit_items(s, batch, 0);
	if (rc == SQLITE_DONE) {
		for (it = batch; it; it = it->next)
			if (it->err == ITEM_TO_WRITE)
				it->err = 0;
		commits = 1;
		done = n;
		done_bytes = bytes;
		goto figures;
	}
	err = storage_sql_errno(s->db, rc);
	if (!err)
		err = -EIO;
	if (err == -ENOSPC && n > 1) {
		/* The batch as a whole did not fit; its first items alone may
		 * (small writes queued before a big one). One transaction each,
		 * in order, up to the first that fails: the ones after it were
		 * prepared on top of it. */
		for (it = batch; it; it = it->next) {
			if (it->err != ITEM_TO_WRITE)
				continue;
			rc = commit_items(s, it, 1);
			if (rc != SQLITE_DONE) {
				err = storage_sql_errno(s->db, rc);
				if (!err)
					err = -EIO;
				break;
			}
			it->err = 0;
			commits++;
			done++;
			done_bytes += it->len;
		}
	}
	log_warnx("%s: writing %llu of %llu records failed: %s (%s)", s->path,
		  (unsigned long long)(n - done), (unsigned long long)n,
		  sqlite3_errmsg(s->db), strerror(-err));
	for (it = batch; it; it = it->next)
		if (it->err == ITEM_TO_WRITE)
			it->err = err;
	pthread_mutex_lock(&s->mu);
	s->last_errno = -err;
	s->have_bad = 1;
	if (max_gen > s->bad_gen)
		s->bad_gen = max_gen;
	if (err != -ENOSPC && err != -EDQUOT && err != -ENOMEM && err != -EBUSY) {
		log_warnx(
		    "%s: the log is unusable after %s; every further write fails until "
		    "the daemon restarts",
		    s->path, strerror(-err));
		s->broken = -err;
	}
	pthread_mutex_unlock(&s->mu);
figures:
	dt = mono_us() - t0;
	pthread_mutex_lock(&s->mu);
	s->st.commits += commits;
	s->st.records += done;
	s->st.bytes += done_bytes;
	if (commits && dt > s->st.max_commit_us)
		s->st.max_commit_us = dt;
	pthread_mutex_unlock(&s->mu);
count:
	pthread_mutex_lock(&s->mu);
	for (it = batch; it; it = it->next)
		if (it->err)
			s->st.failed++;
	pthread_mutex_unlock(&s->mu);
}

static void do_purge(struct storage *s, zxid_t upto)
{
	int rc;

	sqlite3_bind_int64(s->purge, 1, (sqlite3_int64)upto);
	rc = sqlite3_step(s->purge);
	sqlite3_reset(s->purge);
	if (rc != SQLITE_DONE)
		log_warnx("%s: purging records up to 0x%llx: %s (tried again later)",
			  s->path, (unsigned long long)upto, sqlite3_errmsg(s->db));
	else
		log_debug("%s: purged %d records up to 0x%llx", s->path,
			  sqlite3_changes(s->db), (unsigned long long)upto);
}

static void notify(struct storage *s)
{
	uint64_t one = 1;
	ssize_t n;

	do
		n = write(s->notify_fd, &one, sizeof(one));
	while (n < 0 && errno == EINTR);
	/* EAGAIN means the counter is already non-zero: the loop wakes anyway. */
}

static void *writer_main(void *arg)
{
	struct storage *s = arg;
	struct storage_item *batch;
	zxid_t purge;
	sigset_t all;

	/* Signals are the loop's business. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);

	pthread_mutex_lock(&s->mu);
	for (;;) {
		while (!s->q_head && !s->purge_upto && !s->stop)
			pthread_cond_wait(&s->cv, &s->mu);
		if (!s->q_head && !s->purge_upto && s->stop)
			break;
		/* Everything queued while the last commit synced: one batch. */
		batch = s->q_head;
		s->q_head = NULL;
		s->q_tail = &s->q_head;
		purge = s->purge_upto;
		s->purge_upto = 0;
		pthread_mutex_unlock(&s->mu);

		pthread_mutex_lock(&s->sql_mu);
		if (batch)
			write_batch(s, batch);
		if (purge)
			do_purge(s, purge);
		pthread_mutex_unlock(&s->sql_mu);

		pthread_mutex_lock(&s->mu);
		if (batch) {
			*s->d_tail = batch;
			while (*s->d_tail)
				s->d_tail = &(*s->d_tail)->next;
			pthread_mutex_unlock(&s->mu);
			notify(s);
			pthread_mutex_lock(&s->mu);
		}
	}
	pthread_mutex_unlock(&s->mu);
	return NULL;
}

int storage_start(struct storage *s, int notify_fd)
{
	int rc;

	s->notify_fd = notify_fd;
	/*
	 * The log writer thread: SQLite's COMMIT blocks in fsync for
	 * milliseconds, and the loop must keep serving reads, FUSE and the
	 * network meanwhile. It owns the log connection from here until
	 * storage_stop, and hands results back through notify_fd.
	 */
	rc = pthread_create(&s->thread, NULL, writer_main, s);
	if (rc)
		return -rc;
	s->started = 1;
	return 0;
}

void storage_submit(struct storage *s, struct storage_item *it)
{
	pthread_mutex_lock(&s->mu);
	it->next = NULL;
	it->err = 0;
	*s->q_tail = it;
	s->q_tail = &it->next;
	pthread_cond_signal(&s->cv);
	pthread_mutex_unlock(&s->mu);
}

struct storage_item *storage_take_done(struct storage *s)
{
	struct storage_item *l;

	pthread_mutex_lock(&s->mu);
	l = s->d_head;
	s->d_head = NULL;
	s->d_tail = &s->d_head;
	pthread_mutex_unlock(&s->mu);
	return l;
}

void storage_purge(struct storage *s, zxid_t upto)
{
	if (!s->started) {
		do_purge(s, upto);
		return;
	}
	pthread_mutex_lock(&s->mu);
	if (upto > s->purge_upto)
		s->purge_upto = upto;
	pthread_cond_signal(&s->cv);
	pthread_mutex_unlock(&s->mu);
}

void storage_fork_lock(struct storage *s)
{
	pthread_mutex_lock(&s->sql_mu);
}

void storage_fork_unlock(struct storage *s)
{
	pthread_mutex_unlock(&s->sql_mu);
}

void storage_stats(struct storage *s, struct storage_stats *out)
{
	pthread_mutex_lock(&s->mu);
	*out = s->st;
	pthread_mutex_unlock(&s->mu);
}

int storage_last_errno(struct storage *s)
{
	int e;

	pthread_mutex_lock(&s->mu);
	e = s->last_errno;
	pthread_mutex_unlock(&s->mu);
	return e;
}

void storage_stop(struct storage *s)
{
	if (!s->started)
		return;
	pthread_mutex_lock(&s->mu);
	s->stop = 1;
	pthread_cond_signal(&s->cv);
	pthread_mutex_unlock(&s->mu);
	pthread_join(s->thread, NULL);
	s->started = 0;
}

void storage_close(struct storage *s)
{
	if (!s)
		return;
	storage_stop(s);
	db_close(s);
	pthread_cond_destroy(&s->cv);
	pthread_mutex_destroy(&s->sql_mu);
	pthread_mutex_destroy(&s->mu);
	free(s->dir);
	free(s->path);
	free(s);
}
