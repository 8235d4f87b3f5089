/*
 * pitr.h - point-in-time recovery from a continuous archive (archiveDir=;
 * the files: src/core/archive_seg.h): the tree as it was at a zxid or a
 * time, and a part of it.
 */
#ifndef QFS_ADM_PITR_H
#define QFS_ADM_PITR_H

#include <stddef.h>
#include <stdint.h>

#include "progress.h"
#include "tree.h"
#include "zxid.h"

struct pitr_target {
	int by_time;	 /* else by zxid */
	zxid_t zxid;	 /* the last entry to include (at or below) */
	int64_t time_ms; /* every transaction with time <= this, none after */
};

struct pitr_report {
	zxid_t zxid;	   /* the state restored is the one after this entry */
	zxid_t snap;	   /* the archived snapshot it started from (0: empty) */
	int64_t last_time; /* time of the last transaction replayed (0: none) */
	int64_t next_time; /* by time: of the first one left out */
	zxid_t next_zxid;  /* by time: the first transaction left out */
	uint64_t entries;  /* log entries replayed */
	uint64_t segments; /* segment files read */
};

/*
 * Rebuild the tree at target from the archive in dir: the newest archived
 * snapshot at or below the target, then the archived entries after it up
 * to the target, each file verified before use. Refuses (-EBADMSG,
 * -ENOENT, -ERANGE) with errbuf saying why and naming the file: a damaged
 * or truncated file, a gap in the archive between the snapshot and the
 * target, a target before the oldest snapshot or after the archive's end.
 * On success *out is the tree (caller frees) and r says what was done.
 */
int adm_pitr_build(const char *dir, const struct pitr_target *tg, struct progress *pr,
		   struct tree **out, struct pitr_report *r, char *errbuf, size_t errlen);

/*
 * A new tree holding only path's subtree of t and path's ancestors (with
 * their data, ACLs and stats as in t), and no sessions: ephemeral nodes are
 * left out (their sessions are not carried). The last zxid is t's.
 * -ENOENT when path is not in t, -ENOMEM; *out to free with tree_free;
 * *nodes the number of nodes of path's subtree copied.
 */
int adm_subtree(const struct tree *t, const char *path, struct tree **out,
		uint64_t *nodes, char *errbuf, size_t errlen);

/* ISO 8601 time ("2026-11-30T14:02:00Z", ".123", "+01:00", "+0100"; a zone
 * is required) to ms since the epoch. 0 or -EINVAL. */
int adm_parse_time(const char *s, int64_t *ms);
/* ms since the epoch as "2026-11-30T14:02:00.123Z". */
void adm_fmt_time_ms(int64_t ms, char *buf, size_t len);

#endif
