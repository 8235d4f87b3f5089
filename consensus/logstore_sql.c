/*
 * logstore_sql.c - the log store's SQLite side: schema, verification on
 * open, and the statements each request runs. Called from one thread at a
 * time (the writer thread, or the caller in synchronous mode). The byte
 * formats the CRCs cover are in logstore.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "crc32c.h"
#include "logstore_int.h"

#define LOGSTORE_APP_ID	 0x5146534c /* "QFSL" */
#define LOGSTORE_VERSION 2	    /* 2: meta.commit_zxid */

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static void put_be64(uint8_t *p, uint64_t v)
{
	put_be32(p, (uint32_t)(v >> 32));
	put_be32(p + 4, (uint32_t)v);
}

static uint32_t record_crc(zxid_t zxid, uint32_t epoch, uint8_t type, const void *data,
			   size_t len)
{
	uint8_t hdr[13];

	put_be64(hdr, zxid);
	put_be32(hdr + 8, epoch);
	hdr[12] = type;
	return crc32c(crc32c(0, hdr, sizeof(hdr)), data, len);
}

static uint32_t meta_crc(const struct logstore_meta *m)
{
	uint8_t b[32];

	put_be32(b, m->accepted_epoch);
	put_be32(b + 4, m->current_epoch);
	put_be64(b + 8, m->vote);
	put_be64(b + 16, m->snapshot_zxid);
	put_be64(b + 24, m->commit_zxid);
	return crc32c(0, b, sizeof(b));
}

static int sql_fail(struct logstore *ls, char *errmsg, size_t len, const char *what)
{
	snprintf(errmsg, len, "log store %s: %s: %s", ls->path, what,
		 sqlite3_errmsg(ls->db));
	return -EIO;
}

static int exec(struct logstore *ls, const char *sql, char *errmsg, size_t len)
{
	char *msg = NULL;

	if (sqlite3_exec(ls->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		snprintf(errmsg, len, "log store %s: %s: %s", ls->path, sql,
			 msg ? msg : sqlite3_errmsg(ls->db));
		sqlite3_free(msg);
		return -EIO;
	}
	return 0;
}

/* The single integer (or text, into txt) a pragma returns. */
static int pragma(struct logstore *ls, const char *sql, sqlite3_int64 *val, char *txt,
		  size_t txt_len, char *errmsg, size_t len)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(ls->db, sql, -1, &st, NULL) != SQLITE_OK)
		return sql_fail(ls, errmsg, len, sql);
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		sqlite3_finalize(st);
		return sql_fail(ls, errmsg, len, sql);
	}
	if (val)
		*val = sqlite3_column_int64(st, 0);
	if (txt) {
		const unsigned char *t = sqlite3_column_text(st, 0);
		snprintf(txt, txt_len, "%s", t ? (const char *)t : "");
	}
	sqlite3_finalize(st);
	return 0;
}

static const char schema[] =
    "CREATE TABLE log(zxid INTEGER PRIMARY KEY, epoch INTEGER NOT NULL,"
    " type INTEGER NOT NULL, data BLOB NOT NULL, crc INTEGER NOT NULL);"
    "CREATE TABLE meta(id INTEGER PRIMARY KEY CHECK (id = 1),"
    " accepted_epoch INTEGER NOT NULL, current_epoch INTEGER NOT NULL,"
    " vote INTEGER NOT NULL, snapshot_zxid INTEGER NOT NULL,"
    " commit_zxid INTEGER NOT NULL, crc INTEGER NOT NULL);";

static int create_schema(struct logstore *ls, char *errmsg, size_t len)
{
	struct logstore_meta m = {0};
	char sql[256];
	int rc;

	if ((rc = exec(ls, "BEGIN IMMEDIATE", errmsg, len)) < 0)
		return rc;
	if ((rc = exec(ls, schema, errmsg, len)) < 0)
		goto err_rollback;
	snprintf(sql, sizeof(sql),
		 "INSERT INTO meta VALUES(1, 0, 0, 0, 0, 0, %u);"
		 "PRAGMA application_id = %d; PRAGMA user_version = %d;",
		 meta_crc(&m), LOGSTORE_APP_ID, LOGSTORE_VERSION);
	if ((rc = exec(ls, sql, errmsg, len)) < 0)
		goto err_rollback;
	return exec(ls, "COMMIT", errmsg, len);
err_rollback:
	sqlite3_exec(ls->db, "ROLLBACK", NULL, NULL, NULL);
	return rc;
}

static int prepare(struct logstore *ls, sqlite3_stmt **st, const char *sql, char *errmsg,
		   size_t len)
{
	if (sqlite3_prepare_v3(ls->db, sql, -1, SQLITE_PREPARE_PERSISTENT, st, NULL) !=
	    SQLITE_OK)
		return sql_fail(ls, errmsg, len, "preparing statements");
	return 0;
}

static int prepare_all(struct logstore *ls, char *errmsg, size_t len)
{
	static const struct {
		size_t off;
		const char *sql;
	} stmts[] = {
	    {offsetof(struct logstore, st_begin), "BEGIN IMMEDIATE"},
	    {offsetof(struct logstore, st_commit), "COMMIT"},
	    {offsetof(struct logstore, st_rollback), "ROLLBACK"},
	    {offsetof(struct logstore, st_insert),
	     "INSERT INTO log(zxid, epoch, type, data, crc) VALUES(?1, ?2, ?3, ?4, ?5)"},
	    {offsetof(struct logstore, st_truncate), "DELETE FROM log WHERE zxid > ?1"},
	    {offsetof(struct logstore, st_compact), "DELETE FROM log WHERE zxid < ?1"},
	    {offsetof(struct logstore, st_meta),
	     "UPDATE meta SET accepted_epoch = ?1, current_epoch = ?2, vote = ?3,"
	     " snapshot_zxid = ?4, commit_zxid = ?5, crc = ?6 WHERE id = 1"},
	    {offsetof(struct logstore, st_read),
	     "SELECT zxid, epoch, type, data, crc FROM log WHERE zxid >= ?1 AND zxid <= "
	     "?2"
	     " ORDER BY zxid LIMIT ?3"},
	    {offsetof(struct logstore, st_reset), "DELETE FROM log"},
	    {offsetof(struct logstore, st_vacuum), "PRAGMA incremental_vacuum"},
	};
	int rc;

	for (size_t i = 0; i < sizeof(stmts) / sizeof(stmts[0]); i++) {
		sqlite3_stmt **st = (sqlite3_stmt **)((char *)ls + stmts[i].off);
		if ((rc = prepare(ls, st, stmts[i].sql, errmsg, len)) < 0)
			return rc;
	}
	return 0;
}

static int load_meta(struct logstore *ls, struct logstore_meta *m, char *errmsg,
		     size_t len)
{
	sqlite3_stmt *st;
	uint32_t stored;
	int rc;

	if (sqlite3_prepare_v2(
		ls->db,
		"SELECT accepted_epoch, current_epoch, vote, snapshot_zxid,"
		" commit_zxid, crc FROM meta WHERE id = 1",
		-1, &st, NULL) != SQLITE_OK)
		return sql_fail(ls, errmsg, len, "reading metadata");
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		if (rc == SQLITE_DONE)
			snprintf(errmsg, len, "log store %s: the metadata row is missing",
				 ls->path);
		else
			sql_fail(ls, errmsg, len, "reading metadata");
		sqlite3_finalize(st);
		return rc == SQLITE_DONE ? -EILSEQ : -EIO;
	}
	m->accepted_epoch = (uint32_t)sqlite3_column_int64(st, 0);
	m->current_epoch = (uint32_t)sqlite3_column_int64(st, 1);
	m->vote = (uint64_t)sqlite3_column_int64(st, 2);
	m->snapshot_zxid = (zxid_t)sqlite3_column_int64(st, 3);
	m->commit_zxid = (zxid_t)sqlite3_column_int64(st, 4);
	stored = (uint32_t)sqlite3_column_int64(st, 5);
	sqlite3_finalize(st);
	if (stored != meta_crc(m)) {
		snprintf(errmsg, len,
			 "log store %s: the metadata fails its checksum (stored %08x, "
			 "computed %08x)",
			 ls->path, stored, meta_crc(m));
		return -EILSEQ;
	}
	return 0;
}

/* Checks one row of (zxid, epoch, type, data, crc) at column 0. */
static int check_row(struct logstore *ls, sqlite3_stmt *st, char *errmsg, size_t len)
{
	zxid_t zxid = (zxid_t)sqlite3_column_int64(st, 0);
	uint32_t epoch = (uint32_t)sqlite3_column_int64(st, 1);
	uint8_t type = (uint8_t)sqlite3_column_int64(st, 2);
	const void *data = sqlite3_column_blob(st, 3);
	size_t n = (size_t)sqlite3_column_bytes(st, 3);
	uint32_t stored = (uint32_t)sqlite3_column_int64(st, 4);
	uint32_t crc = record_crc(zxid, epoch, type, data, n);

	if (sqlite3_column_type(st, 3) != SQLITE_BLOB && n != 0) {
		snprintf(errmsg, len, "log store %s: record zxid 0x%llx is not a blob",
			 ls->path, (unsigned long long)zxid);
		return -EILSEQ;
	}
	if (crc != stored) {
		snprintf(
		    errmsg, len,
		    "log store %s: record zxid 0x%llx fails its checksum (stored %08x, "
		    "computed %08x)",
		    ls->path, (unsigned long long)zxid, stored, crc);
		return -EILSEQ;
	}
	return 0;
}

static int scan_log(struct logstore *ls, struct logstore_state *state, char *errmsg,
		    size_t len)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(
		ls->db, "SELECT zxid, epoch, type, data, crc FROM log ORDER BY zxid", -1,
		&st, NULL) != SQLITE_OK)
		return sql_fail(ls, errmsg, len, "scanning the log");
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		zxid_t z = (zxid_t)sqlite3_column_int64(st, 0);
		int err = check_row(ls, st, errmsg, len);
		if (err < 0) {
			sqlite3_finalize(st);
			return err;
		}
		if (state->count == 0)
			state->first_zxid = z;
		state->last_zxid = z;
		state->count++;
	}
	if (rc != SQLITE_DONE) {
		sql_fail(ls, errmsg, len, "scanning the log");
		sqlite3_finalize(st);
		return -EIO;
	}
	sqlite3_finalize(st);
	return 0;
}

int logstore_sql_open(struct logstore *ls, struct logstore_state *state, char *errmsg,
		      size_t len)
{
	sqlite3_int64 app_id, version, n_tables;
	char check[200], mode[16];
	int rc;

	memset(state, 0, sizeof(*state));
	rc = sqlite3_open_v2(
	    ls->path, &ls->db,
	    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
	    logstore_vfs());
	if (rc != SQLITE_OK) {
		snprintf(errmsg, len, "log store %s: cannot open: %s", ls->path,
			 ls->db ? sqlite3_errmsg(ls->db) : sqlite3_errstr(rc));
		return -EIO;
	}
	sqlite3_extended_result_codes(ls->db, 1);
	/* Takes effect only on a new, empty database, and only before WAL
	 * mode is set: compaction can then hand freed pages back to the file
	 * system (incremental_vacuum). A no-op on an existing log. */
	if ((rc = exec(ls, "PRAGMA auto_vacuum = INCREMENTAL", errmsg, len)) < 0)
		return rc;
	if ((rc = pragma(ls, "PRAGMA journal_mode = WAL", NULL, mode, sizeof(mode),
			 errmsg, len)) < 0)
		return rc;
	if (strcmp(mode, "wal") != 0) {
		snprintf(errmsg, len, "log store %s: cannot enable WAL (journal mode %s)",
			 ls->path, mode);
		return -EIO;
	}
	/* FULL: a WAL commit is fsync'd before COMMIT returns, which is what an
	 * acknowledged append promises. */
	if ((rc = exec(ls, "PRAGMA synchronous = FULL", errmsg, len)) < 0)
		return rc;
	if ((rc = pragma(ls, "PRAGMA application_id", &app_id, NULL, 0, errmsg, len)) <
		0 ||
	    (rc = pragma(ls, "PRAGMA user_version", &version, NULL, 0, errmsg, len)) <
		0 ||
	    (rc = pragma(ls, "SELECT count(*) FROM sqlite_master", &n_tables, NULL, 0,
			 errmsg, len)) < 0)
		return rc;
	if (n_tables == 0 && app_id == 0 && version == 0) {
		if ((rc = create_schema(ls, errmsg, len)) < 0)
			return rc;
	} else if (app_id != LOGSTORE_APP_ID) {
		snprintf(errmsg, len,
			 "log store %s: not a quorumfs log (application_id %lld)",
			 ls->path, (long long)app_id);
		return -EILSEQ;
	} else if (version != LOGSTORE_VERSION) {
		snprintf(errmsg, len, "log store %s: unsupported format version %lld",
			 ls->path, (long long)version);
		return -EILSEQ;
	}
	if ((rc = pragma(ls, "PRAGMA quick_check", NULL, check, sizeof(check), errmsg,
			 len)) < 0)
		return rc;
	if (strcmp(check, "ok") != 0) {
		for (char *c = check; *c; c++)
			if (*c == '\n')
				*c = ' ';
		snprintf(errmsg, len, "log store %s: database is corrupt: %s", ls->path,
			 check);
		return -EILSEQ;
	}
	if ((rc = prepare_all(ls, errmsg, len)) < 0)
		return rc;
	if ((rc = load_meta(ls, &state->meta, errmsg, len)) < 0)
		return rc;
	ls->meta = state->meta;
	return scan_log(ls, state, errmsg, len);
}

void logstore_sql_close(struct logstore *ls)
{
	sqlite3_stmt **all[] = {&ls->st_begin,	&ls->st_commit,	  &ls->st_rollback,
				&ls->st_insert, &ls->st_truncate, &ls->st_compact,
				&ls->st_meta,	&ls->st_read,	  &ls->st_reset,
				&ls->st_vacuum};

	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		sqlite3_finalize(*all[i]);
		*all[i] = NULL;
	}
	if (ls->db && sqlite3_close(ls->db) != SQLITE_OK)
		log_warnx("log store %s: close: %s", ls->path, sqlite3_errmsg(ls->db));
	ls->db = NULL;
}

/* Steps a statement that returns no rows and resets it. */
/* One step of a statement that returns no rows, left reset and unbound:
 * SQLite's result code. */
static int step_rc(sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc;
}

/* A failed step's error, in req->errmsg: -ENOSPC or sql_fail's. */
static int step_failed(struct logstore *ls, int rc, struct logstore_req *req,
		       const char *what)
{
	if ((rc & 0xff) == SQLITE_FULL) {
		/* Not an I/O error: the operator frees space and the member
		 * goes on (the engine retries the write). */
		snprintf(req->errmsg, sizeof(req->errmsg),
			 "log store %s: %s: no space left on the device holding the "
			 "log (%s)",
			 ls->path, what, sqlite3_errstr(rc));
		return -ENOSPC;
	}
	return sql_fail(ls, req->errmsg, sizeof(req->errmsg), what);
}

static int step_done(struct logstore *ls, sqlite3_stmt *st, struct logstore_req *req,
		     const char *what)
{
	int rc = step_rc(st);

	return rc == SQLITE_DONE ? 0 : step_failed(ls, rc, req, what);
}

static int run_append(struct logstore *ls, struct logstore_req *req)
{
	for (size_t i = 0; i < req->n_in; i++) {
		const struct logstore_entry *e = &req->in[i];
		sqlite3_stmt *st = ls->st_insert;
		int rc;

		sqlite3_bind_int64(st, 1, (sqlite3_int64)e->zxid);
		sqlite3_bind_int64(st, 2, e->epoch);
		sqlite3_bind_int64(st, 3, e->type);
		/* Static: the payload outlives the step, which copies it. */
		sqlite3_bind_blob64(st, 4, e->len ? e->data : "", e->len, SQLITE_STATIC);
		sqlite3_bind_int64(
		    st, 5, record_crc(e->zxid, e->epoch, e->type, e->data, e->len));
		rc = step_rc(st);
		if (rc != SQLITE_DONE) {
			/* Named only on failure: formatting it for every entry
			 * cost the writer thread a visible share of its time. */
			char what[64];

			snprintf(what, sizeof(what), "appending zxid 0x%llx",
				 (unsigned long long)e->zxid);
			return step_failed(ls, rc, req, what);
		}
	}
	return 0;
}

static int run_read(struct logstore *ls, struct logstore_req *req)
{
	sqlite3_stmt *st = ls->st_read;
	size_t cap = 0;
	int rc, err = 0;

	sqlite3_bind_int64(st, 1, (sqlite3_int64)req->arg);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)req->arg2);
	sqlite3_bind_int64(st, 3,
			   req->max > INT64_MAX ? INT64_MAX : (sqlite3_int64)req->max);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct logstore_entry *e;
		void *copy;
		size_t n = (size_t)sqlite3_column_bytes(st, 3);

		if ((err = check_row(ls, st, req->errmsg, sizeof(req->errmsg))) < 0)
			goto out;
		if (req->n_entries == cap) {
			size_t ncap = cap ? cap * 2 : 16;
			struct logstore_entry *ne =
			    realloc(req->entries, ncap * sizeof(*ne));
			if (!ne) {
				err = -ENOMEM;
				goto out_nomem;
			}
			req->entries = ne;
			cap = ncap;
		}
		copy = malloc(n ? n : 1);
		if (!copy) {
			err = -ENOMEM;
			goto out_nomem;
		}
		if (n)
			memcpy(copy, sqlite3_column_blob(st, 3), n);
		e = &req->entries[req->n_entries++];
		e->zxid = (zxid_t)sqlite3_column_int64(st, 0);
		e->epoch = (uint32_t)sqlite3_column_int64(st, 1);
		e->type = (uint8_t)sqlite3_column_int64(st, 2);
		e->data = copy;
		e->len = n;
	}
	if (rc != SQLITE_DONE)
		err = sql_fail(ls, req->errmsg, sizeof(req->errmsg), "reading the log");
	goto out;
out_nomem:
	snprintf(req->errmsg, sizeof(req->errmsg), "log store %s: out of memory reading",
		 ls->path);
out:
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return err;
}

/* Frees the pages a deletion emptied; incremental_vacuum returns a row per
 * page, so it is stepped to the end. */
static int vacuum(struct logstore *ls, struct logstore_req *req)
{
	int rc;

	while ((rc = sqlite3_step(ls->st_vacuum)) == SQLITE_ROW)
		;
	sqlite3_reset(ls->st_vacuum);
	if (rc != SQLITE_DONE)
		return sql_fail(ls, req->errmsg, sizeof(req->errmsg),
				"incremental vacuum");
	return 0;
}

/*
 * After a compaction, gives pages back to the file system only once more
 * of the file is free than in use. incremental_vacuum fills the holes by
 * moving the pages at the end of the file into them, and a compaction
 * drops the oldest rows, at the start of the file: vacuuming after every
 * one moved nearly the whole retained log each time (5,000 pages read and
 * rewritten, then checkpointed, per 100,000 entries). Pages left free are
 * taken by the next appends, so a log under a steady load keeps its size;
 * one that shrank by more than half (the load dropped) is cut down, at a
 * cost of at most the pages in use.
 */
static int vacuum_if_shrunk(struct logstore *ls, struct logstore_req *req)
{
	sqlite3_int64 pages = 0, free_pages = 0;
	int rc;

	if ((rc = pragma(ls, "PRAGMA page_count", &pages, NULL, 0, req->errmsg,
			 sizeof(req->errmsg))) < 0 ||
	    (rc = pragma(ls, "PRAGMA freelist_count", &free_pages, NULL, 0, req->errmsg,
			 sizeof(req->errmsg))) < 0)
		return rc;
	if (free_pages <= pages - free_pages)
		return 0;
	return vacuum(ls, req);
}

static int write_meta(struct logstore *ls, struct logstore_req *req,
		      const struct logstore_meta *m)
{
	sqlite3_stmt *st = ls->st_meta;

	sqlite3_bind_int64(st, 1, m->accepted_epoch);
	sqlite3_bind_int64(st, 2, m->current_epoch);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)m->vote);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)m->snapshot_zxid);
	sqlite3_bind_int64(st, 5, (sqlite3_int64)m->commit_zxid);
	sqlite3_bind_int64(st, 6, meta_crc(m));
	return step_done(ls, st, req, "writing metadata");
}

/* Runs one write inside the open transaction; *meta is the metadata as it
 * will be if the transaction commits. */
static int run_one(struct logstore *ls, struct logstore_req *req,
		   struct logstore_meta *meta)
{
	sqlite3_stmt *st;
	int rc;

	switch (req->op) {
	case LOGSTORE_APPEND:
		if (req->truncate) {
			sqlite3_bind_int64(ls->st_truncate, 1, (sqlite3_int64)req->arg);
			if ((rc = step_done(ls, ls->st_truncate, req, "truncating")) < 0)
				return rc;
		}
		if ((rc = run_append(ls, req)) < 0 || req->commit <= meta->commit_zxid)
			return rc;
		/* The commit watermark rides in the append's transaction: one
		 * more row updated, no more fsync. */
		meta->commit_zxid = req->commit;
		return write_meta(ls, req, meta);
	case LOGSTORE_TRUNCATE:
		st = ls->st_truncate;
		sqlite3_bind_int64(st, 1, (sqlite3_int64)req->arg);
		return step_done(ls, st, req, "truncating");
	case LOGSTORE_COMPACT:
		st = ls->st_compact;
		sqlite3_bind_int64(st, 1, (sqlite3_int64)req->arg);
		if ((rc = step_done(ls, st, req, "compacting")) < 0 ||
		    (rc = vacuum_if_shrunk(ls, req)) < 0)
			return rc;
		if (req->arg == 0 || req->arg - 1 <= meta->snapshot_zxid)
			return 0;
		meta->snapshot_zxid = req->arg - 1;
		return write_meta(ls, req, meta);
	case LOGSTORE_RESET:
		if ((rc = step_done(ls, ls->st_reset, req, "resetting the log")) < 0 ||
		    (rc = vacuum(ls, req)) < 0)
			return rc;
		meta->snapshot_zxid = req->arg;
		meta->commit_zxid = req->arg; /* a snapshot holds only committed txns */
		return write_meta(ls, req, meta);
	case LOGSTORE_SET_META:
		*meta = req->meta;
		return write_meta(ls, req, meta);
	default:
		return 0;
	}
}

static int is_write(const struct logstore_req *req)
{
	return req->op != LOGSTORE_READ && req->op != LOGSTORE_BARRIER;
}

/* A write that moves the end of the log: after one fails, later appends
 * would build on entries that are not there. */
static int moves_end(const struct logstore_req *req)
{
	return (req->op == LOGSTORE_APPEND && !logstore_is_mark(req)) ||
	       req->op == LOGSTORE_TRUNCATE || req->op == LOGSTORE_RESET;
}

static int any_moves_end(struct logstore_req **reqs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (moves_end(reqs[i]))
			return 1;
	return 0;
}

/* A group of watermark marks only: nothing in it needs an fsync. */
static int marks_only(struct logstore_req **reqs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!logstore_is_mark(reqs[i]))
			return 0;
	return 1;
}

/* A write that sets a known end of log, which ends the failed state. */
static int resyncs(const struct logstore_req *req)
{
	return req->op == LOGSTORE_TRUNCATE || req->op == LOGSTORE_RESET ||
	       (req->op == LOGSTORE_APPEND && req->truncate);
}

void logstore_sql_read(struct logstore *ls, struct logstore_req *req)
{
	req->status = run_read(ls, req);
}

/* Back to FULL after a lazy transaction: every append is fsync'd. If that
 * fails the connection is unusable for the promise, so later writes fail. */
static void restore_sync(struct logstore *ls, int lazy)
{
	if (!lazy || sqlite3_exec(ls->db, "PRAGMA synchronous = FULL", NULL, NULL,
				  NULL) == SQLITE_OK)
		return;
	snprintf(ls->failmsg, sizeof(ls->failmsg),
		 "log store %s: cannot restore synchronous=FULL: %s", ls->path,
		 sqlite3_errmsg(ls->db));
	ls->failed = 1;
}

size_t logstore_sql_run(struct logstore *ls, struct logstore_req **reqs, size_t n)
{
	struct logstore_meta meta = ls->meta;
	size_t entries = 0, i;
	int err = 0, lazy = 0;

	if (ls->failed && resyncs(reqs[0]))
		ls->failed = 0;
	if (ls->failed && any_moves_end(reqs, n)) {
		for (i = 0; i < n; i++) {
			reqs[i]->status = -EIO;
			snprintf(reqs[i]->errmsg, sizeof(reqs[i]->errmsg),
				 "an earlier write failed: %.200s", ls->failmsg);
		}
		return 0;
	}
	if (n == 1 && !is_write(reqs[0])) {
		/* A read is one statement: its own implicit transaction. */
		reqs[0]->status =
		    reqs[0]->op == LOGSTORE_READ ? run_read(ls, reqs[0]) : 0;
		return 0;
	}
	lazy = marks_only(reqs, n) && sqlite3_exec(ls->db, "PRAGMA synchronous = NORMAL",
						   NULL, NULL, NULL) == SQLITE_OK;
	if ((err = step_done(ls, ls->st_begin, reqs[0], "BEGIN")) < 0)
		goto err_fail_all;
	for (i = 0; i < n; i++) {
		if ((err = run_one(ls, reqs[i], &meta)) < 0)
			goto err_rollback;
		if (reqs[i]->op == LOGSTORE_APPEND)
			entries += reqs[i]->n_in;
	}
	if ((err = step_done(ls, ls->st_commit, reqs[0], "COMMIT")) < 0)
		goto err_rollback;
	for (i = 0; i < n; i++)
		reqs[i]->status = 0;
	ls->meta = meta;
	restore_sync(ls, lazy);
	return entries;

err_rollback:
	sqlite3_step(ls->st_rollback);
	sqlite3_reset(ls->st_rollback);
err_fail_all:
	/* The message sits in whichever request failed; give it to all. */
	for (i = 0; i < n && reqs[i]->errmsg[0] == '\0'; i++)
		;
	snprintf(ls->failmsg, sizeof(ls->failmsg), "%s",
		 i < n ? reqs[i]->errmsg : "log store: write failed");
	if (moves_end(reqs[0]))
		ls->failed = 1;
	for (i = 0; i < n; i++) {
		reqs[i]->status = err;
		snprintf(reqs[i]->errmsg, sizeof(reqs[i]->errmsg), "%s", ls->failmsg);
	}
	restore_sync(ls, lazy);
	return 0;
}
