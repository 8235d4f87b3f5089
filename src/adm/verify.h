/*
 * verify.h - checking a snapshot or backup file offline (quorumadm verify).
 *
 * A quorumfs snapshot (snapshot.h) is loaded as the daemon would (checksum,
 * counts, every row a valid node whose parent came before it), then checked
 * further: SQLite's integrity_check, every stored child count, zxids
 * (czxid <= mzxid, czxid <= pzxid, none above the file's zxid), versions
 * not negative, kind matching ephemeral_owner, every ephemeral owned by a
 * session in the file. A ZooKeeper snapshot (ZKSN) gets its seals, structure
 * and ephemeral owners checked.
 */
#ifndef QFS_ADM_VERIFY_H
#define QFS_ADM_VERIFY_H

#include <stdarg.h>
#include <stdint.h>

#include "zxid.h"

struct verify_report {
	int zookeeper; /* the file is a ZooKeeper snapshot */
	zxid_t zxid;
	int64_t created; /* unix time, -1 unknown */
	uint64_t nodes, sessions;
	unsigned nproblems;
	char problems[4096]; /* the first 20, one a line */
};

/* 0 with r filled (r->nproblems == 0: good), or a negative errno when the
 * file cannot be read at all (r->problems says why). */
int adm_verify(const char *path, struct verify_report *r);

#endif
