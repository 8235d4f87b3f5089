/*
 * core_req.h - requests as bytes, for what travels from a member to the
 * leader's host (cons_node_forward) or waits at a member with no leader:
 *
 *   u8 kind, u32 origin server id, u64 request id (big-endian), then
 *   CR_WRITE: i64 session, i32 cxid, u32 epoch (of the leader it was sent
 *             to; 0 while held), auth (i32 n or -1, n x (str scheme,
 *             str id), u8 super), the zreq (op, path, data, acl, mode, ttl,
 *             version, dir, child_kind, child_ttl, timeout, owner, ops[]
 *             one level deep) in jute-style strings and vectors;
 *   CR_SYNC:  nothing (the leader proposes a void entry the origin waits
 *             for: everything committed before the sync reached the leader
 *             is applied at the origin when it returns);
 *   CR_TOUCH: u32 n, n x i64 session ids heard from at the origin;
 *   CR_RECONFIG: auth (as CR_WRITE's), str joining, str leaving, str
 *             members, i64 fromConfig (-1: none): ZooKeeper's reconfig (or
 *             quorumfs's leader transfer, in members), run by the leader
 *             (core_members.c), which answers with an entry of no effect
 *             for the origin and request id: CE_NOP once the leader has
 *             /zookeeper/config showing the change, CE_ERR otherwise.
 *
 * The origin and request id name the request in the entry the leader
 * proposes for it (core_int.h's entry header), so the origin can answer.
 */
#ifndef QFS_CORE_REQ_H
#define QFS_CORE_REQ_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "txn.h"

enum core_req_kind {
	CR_WRITE = 'W',
	CR_SYNC = 'S',
	CR_TOUCH = 'T',
	CR_RECONFIG = 'R',
};

/* A decoded request. Owns what allocs lists; req.data and body point into
 * the decoded bytes, which must outlive it. */
struct core_req {
	uint8_t kind;
	uint32_t origin;
	uint64_t reqid;
	const uint8_t *body; /* after the header */
	size_t body_len;
	int64_t session;
	int32_t cxid;
	uint32_t epoch; /* CR_WRITE: the epoch of the leader it was sent to */
	struct zreq req;
	struct zauth auth;
	int has_auth; /* 0: the request had no identity at all */
	/* CR_RECONFIG */
	const char *joining, *leaving, *members;
	int64_t from_version;
	void **allocs;
	size_t n_allocs, cap_allocs;
	int oom;
};

/* Append a CR_WRITE request to b. 0 or -ENOMEM. */
int core_req_encode(struct buf *b, uint32_t origin, uint64_t reqid, int64_t session,
		    int32_t cxid, const struct zreq *r, const struct zauth *auth);
/* Append a CR_RECONFIG request to b. 0 or -ENOMEM. */
int core_req_encode_reconfig(struct buf *b, uint32_t origin, uint64_t reqid,
			     const struct zauth *auth, const char *joining,
			     const char *leaving, const char *members,
			     int64_t from_version);
/*
 * Stamp an encoded CR_WRITE with the epoch of the leader it is being sent
 * to (others are left alone). The origin fails what it forwarded when its
 * leader changes; a leader of a later epoch that still receives it (a
 * stepped-down leader relays what reached it late, cons_transfer.c) must
 * not commit a write its origin already answered, after the session's
 * later writes.
 */
#define CORE_REQ_EPOCH_AT (13 + 8 + 4)
void core_req_set_epoch(struct buf *b, uint32_t epoch);
/* Append the header of another kind (the caller adds the body). */
void core_req_encode_hdr(struct buf *b, uint8_t kind, uint32_t origin, uint64_t reqid);
/* 0, -EBADMSG or -ENOMEM (q is then empty). Free with core_req_free. */
int core_req_decode(const void *p, size_t len, struct core_req *q);
void core_req_free(struct core_req *q);

#endif
