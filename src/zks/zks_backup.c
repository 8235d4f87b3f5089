/*
 * zks_backup.c - QOP_BACKUP, quorumfs's own client request: an online
 * backup of this server's replica streamed to the client (quorumctl
 * backup, quorumctl(8)).
 *
 * Request QfsBackupRequest{long offset, int maxLen}, reply
 * QfsBackupResponse{long zxid, long size, int crc, buffer data} (jute.h):
 *   offset -1    start a backup: the core forks a writer (core_backup.c);
 *                the reply, once the file is complete, carries its zxid,
 *                size and CRC-32C and no data. A backup started earlier on
 *                the connection is dropped.
 *   offset >= 0  up to maxLen bytes (at most ZKS_BACKUP_CHUNK) of the file
 *                from offset; fewer only at its end. After the last byte is
 *                read the file is released.
 * The file is kept open, already unlinked, by the connection until it is
 * read to the end or the connection goes, so nothing is left on disk by a
 * client that vanishes.
 *
 * Who may: a session with every permission on "/" (the tree's root ACL
 * grants cdrwa to one of its identities) or super, as the backup holds the
 * whole tree, ACL-protected data included; anyone else gets ZNOAUTH, and the
 * refusal is logged.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core.h"
#include "log.h"
#include "zerr.h"
#include "zks_int.h"

/* Largest chunk per reply: well inside a client's default 1 MiB frame. */
#define ZKS_BACKUP_CHUNK (512 * 1024)

struct zks_backup {
	int fd; /* the unlinked file, or -1 once read to the end */
	zxid_t zxid;
	uint64_t size;
	uint32_t crc;
};

void zks_backup_free(struct zks_backup *b)
{
	if (!b)
		return;
	if (b->fd >= 0)
		close(b->fd);
	free(b);
}

static int zks_backup_allowed(struct zks_conn *c)
{
	const struct znode *root = tree_lookup(qcore_tree(c->srv->core), "/");

	if (c->auth.super)
		return 1;
	if (!root)
		return 0;
	/* acl_check grants a mask if any of its bits is granted: ask bit by
	 * bit, since every one is needed. */
	for (int32_t bit = 1; bit & ZPERM_ALL; bit <<= 1)
		if (acl_check(&root->acl, &c->auth, bit) != ZOK)
			return 0;
	return 1;
}

static void zks_backup_reply(struct zks_req *r, const struct zks_backup *b,
			     const uint8_t *data, int32_t len)
{
	struct jute_qfs_backup_response res = {
	    .zxid = (int64_t)b->zxid,
	    .size = (int64_t)b->size,
	    .crc = (int32_t)b->crc,
	    .data = {len, len > 0 ? (uint8_t *)data : NULL},
	};

	jute_put_qfs_backup_response(&r->body, &res);
	r->err = buf_failed(&r->body) ? ZSYSTEMERROR : ZOK;
}

static void zks_backup_done(void *arg, int rc, const struct qcore_backup_result *res)
{
	struct zks_req *r = arg;
	struct zks_conn *c = r->conn;
	struct zks_backup *b;

	r->zxid = (int64_t)tree_last_zxid(qcore_tree(c->srv->core));
	if (rc) {
		log_warnx("zk: %s: backup failed: %s", c->peer, res->msg);
		r->err = ZSYSTEMERROR;
		goto out;
	}
	if (c->dead) {
		r->err = ZCONNECTIONLOSS;
		goto out;
	}
	b = calloc(1, sizeof(*b));
	if (!b) {
		r->err = ZSYSTEMERROR;
		goto out;
	}
	/* Open now: the core removes the file when we return. */
	b->fd = open(res->path, O_RDONLY | O_CLOEXEC);
	if (b->fd < 0) {
		log_warn("zk: %s: backup: %s", c->peer, res->path);
		free(b);
		r->err = ZSYSTEMERROR;
		goto out;
	}
	b->zxid = res->zxid;
	b->size = res->size;
	b->crc = res->crc;
	zks_backup_free(c->backup);
	c->backup = b;
	zks_backup_reply(r, b, NULL, 0);
	log_info("zk: %s: backup 0x%llx ready, %llu bytes", c->peer,
		 (unsigned long long)b->zxid, (unsigned long long)b->size);
out:
	zks_req_finish(r);
}

static int zks_backup_read(struct zks_req *r, int64_t offset, int32_t max_len)
{
	struct zks_backup *b = r->conn->backup;
	uint8_t *data;
	ssize_t n = 0;
	size_t want;

	if (!b || b->fd < 0 || offset < 0 || (uint64_t)offset > b->size || max_len <= 0) {
		r->err = ZBADARGUMENTS;
		return ZKS_DONE;
	}
	want = (size_t)(max_len < ZKS_BACKUP_CHUNK ? max_len : ZKS_BACKUP_CHUNK);
	if (want > b->size - (uint64_t)offset)
		want = (size_t)(b->size - (uint64_t)offset);
	data = malloc(want ? want : 1);
	if (!data) {
		r->err = ZSYSTEMERROR;
		return ZKS_DONE;
	}
	while ((size_t)n < want) {
		ssize_t k = pread(b->fd, data + n, want - (size_t)n, offset + n);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0) {
			log_warn("zk: %s: backup: reading at %lld", r->conn->peer,
				 (long long)(offset + n));
			free(data);
			r->err = ZSYSTEMERROR;
			return ZKS_DONE;
		}
		n += k;
	}
	zks_backup_reply(r, b, data, (int32_t)n);
	free(data);
	if ((uint64_t)offset + (uint64_t)n == b->size) {
		/* Read to the end: give the space back now. */
		close(b->fd);
		b->fd = -1;
	}
	return ZKS_DONE;
}

int zks_op_backup(struct zks_req *r)
{
	const struct jute_qfs_backup_request *q = &r->jr.body.qfs_backup_request;
	struct zks_conn *c = r->conn;
	char why[512];
	zxid_t z;
	int rc;

	if (!zks_backup_allowed(c)) {
		log_warnx("zk: %s: backup refused: the session has neither every "
			  "permission on / nor super",
			  c->peer);
		r->err = ZNOAUTH;
		return ZKS_DONE;
	}
	if (q->offset != -1)
		return zks_backup_read(r, q->offset, q->max_len);
	zks_backup_free(c->backup);
	c->backup = NULL;
	rc = qcore_backup_start(c->srv->core, zks_backup_done, r, &z, why, sizeof(why));
	if (rc) {
		log_warnx("zk: %s: cannot start a backup: %s", c->peer, why);
		r->err = ZSYSTEMERROR;
		return ZKS_DONE;
	}
	log_info("zk: %s: backup 0x%llx started", c->peer, (unsigned long long)z);
	return ZKS_PENDING;
}
