/*
 * zks_dispatch.c - from a decoded request to its opcode handler.
 *
 * Every frame after the handshake is RequestHeader{xid, type} + the body of
 * its opcode (jute_request_decode). Each packet touches the session, as
 * ZooKeeper's ZooKeeperServer.processPacket does (touchSession). An unknown
 * opcode is answered with ZUNIMPLEMENTED and the connection is closed after
 * the reply (UnimplementedRequestProcessor). When a request runs is decided
 * by the connection's queue (zks_conn.c); auth alone runs on arrival, since
 * ZooKeeper applies it before later requests enter the pipeline.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"
#include "log.h"
#include "zerr.h"
#include "zks_int.h"

struct zks_op {
	int32_t type;
	zks_op_fn fn;
	const char *name; /* cons "lop", as FinalRequestProcessor's lastOp */
	int write;	  /* goes through the core: runs behind earlier requests
			     but need not wait for earlier writes to apply */
};

static const struct zks_op zks_ops[] = {
    {ZOP_CREATE, zks_op_create, "CREA", 1},
    {ZOP_CREATE2, zks_op_create, "CREA", 1},
    {ZOP_CREATECONTAINER, zks_op_create, "CREA", 1},
    {ZOP_CREATETTL, zks_op_create, "CREA", 1},
    {ZOP_DELETE, zks_op_delete, "DELE", 1},
    {ZOP_SETDATA, zks_op_set_data, "SETD", 1},
    {ZOP_SETACL, zks_op_set_acl, "SETA", 1},
    {ZOP_CHECK, zks_op_check, "CHEC", 1},
    {ZOP_MULTI, zks_op_multi, "MULT", 1},
    {ZOP_SYNC, zks_op_sync, "SYNC", 1},
    {ZOP_RECONFIG, zks_op_reconfig, "RECO", 1},
    {ZOP_CLOSESESSION, zks_op_close_session, "CLOS", 1},
    {ZOP_EXISTS, zks_op_exists, "EXIS", 0},
    {ZOP_GETDATA, zks_op_get_data, "GETD", 0},
    {ZOP_GETCHILDREN, zks_op_get_children, "GETC", 0},
    {ZOP_GETCHILDREN2, zks_op_get_children, "GETC", 0},
    {ZOP_GETACL, zks_op_get_acl, "GETA", 0},
    {ZOP_GETEPHEMERALS, zks_op_get_ephemerals, "GETE", 0},
    {ZOP_GETALLCHILDRENNUMBER, zks_op_get_all_children_number, "GETN", 0},
    {ZOP_MULTIREAD, zks_op_multi_read, "MLTR", 0},
    {ZOP_PING, zks_op_ping, "PING", 0},
    {ZOP_SETWATCHES, zks_op_set_watches, "SETW", 0},
    {ZOP_SETWATCHES2, zks_op_set_watches, "SETW", 0},
    {ZOP_ADDWATCH, zks_op_add_watch, "ADDW", 0},
    {ZOP_REMOVEWATCHES, zks_op_remove_watches, "REMW", 0},
    {ZOP_CHECKWATCHES, zks_op_remove_watches, "CHKW", 0},
    {ZOP_AUTH, zks_op_auth, "AUTH", 0},
    {ZOP_SASL, zks_op_sasl, "SASL", 0},
    {ZOP_WHOAMI, zks_op_whoami, "WHOA", 0},
    {QOP_BACKUP, zks_op_backup, "BKUP", 0},
};

static const struct zks_op *zks_op_find(int32_t type)
{
	for (size_t i = 0; i < sizeof(zks_ops) / sizeof(zks_ops[0]); i++)
		if (zks_ops[i].type == type)
			return &zks_ops[i];
	return NULL;
}

const char *zks_op_name(int32_t type)
{
	const struct zks_op *op = zks_op_find(type);

	return op ? op->name : "NA";
}

int zks_op_is_write(int32_t type)
{
	const struct zks_op *op = zks_op_find(type);

	return op && op->write;
}

int zks_dispatch_run(struct zks_req *r)
{
	struct zks_conn *c = r->conn;
	const struct zks_op *op = zks_op_find(r->type);
	int rc;

	if (!op) {
		r->err = ZUNIMPLEMENTED;
		r->state = ZKS_REQ_DONE;
		return ZKS_DONE;
	}
	if (c->read_only && zks_session_ro_refuses(r->type)) {
		r->zxid = (int64_t)tree_last_zxid(qcore_tree(c->srv->core));
		r->err = ZNOTREADONLY;
		r->state = ZKS_REQ_DONE;
		return ZKS_DONE;
	}
	/* Reads report the zxid of the replica they read (FinalRequestProcessor
	 * uses the last processed zxid). */
	r->zxid = (int64_t)tree_last_zxid(qcore_tree(c->srv->core));
	/* A read runs only when all before it are DONE (zks_conn_progress);
	 * auth alone runs on arrival. */
	if (!op->write && r->type != ZOP_AUTH)
		c->running = r;
	rc = op->fn(r);
	c->running = NULL;
	if (rc < 0)
		return rc;
	if (rc == ZKS_PENDING) {
		r->state = ZKS_REQ_SUBMITTED;
		c->n_submitted++;
		zks_conn_ref(c);
	} else {
		r->state = ZKS_REQ_DONE;
	}
	return rc;
}

void zks_req_finish(struct zks_req *r)
{
	struct zks_conn *c = r->conn;

	c->n_submitted--;
	if (c->dead || c->state == ZKS_CONN_DRAINING) {
		/* zks_conn_close or zks_conn_drain took it off the queue and
		 * left it to us. */
		zks_req_free(r);
		zks_conn_unref(c);
		return;
	}
	r->state = ZKS_REQ_DONE;
	zks_conn_progress(c);
	zks_conn_unref(c);
}

/*
 * A request refused by the decoder only because its path holds a NUL byte
 * (jute.h refuses embedded NULs) is ZooKeeper's ZBADARGUMENTS, not a broken
 * stream: every path-bearing record starts with the path, so mask the NULs
 * and decode again. Returns 1 if that is the case.
 */
static int zks_nul_in_path(const uint8_t *p, size_t n, int32_t max)
{
	struct jute_request jr;
	uint32_t len;
	uint8_t *copy;
	int rc, type;

	if (n < 12)
		return 0;
	len = (uint32_t)p[8] << 24 | (uint32_t)p[9] << 16 | (uint32_t)p[10] << 8 | p[11];
	if (len == 0 || len > n - 12 || !memchr(p + 12, 0, len))
		return 0;
	copy = malloc(n);
	if (!copy)
		return 0;
	memcpy(copy, p, n);
	for (uint32_t i = 0; i < len; i++)
		if (!copy[12 + i])
			copy[12 + i] = 'x';
	memset(&jr, 0, sizeof(jr));
	rc = jute_request_decode(copy, n, max, &jr);
	type = jr.hdr.type;
	free(copy);
	jute_request_free(&jr);
	return rc == ZOK && jute_request_rec(type) >= 0 && type != ZOP_AUTH &&
	       type != ZOP_SETWATCHES && type != ZOP_SETWATCHES2 && type != ZOP_SASL &&
	       type != ZOP_RECONFIG;
}

int zks_dispatch_frame(struct zks_conn *c, const uint8_t *p, size_t n)
{
	struct zk_server *s = c->srv;
	struct jute_request jr;
	struct zks_req *r;
	int rc;

	/* After closeSession nothing more is answered: the session is going
	 * (or gone), and the client must not hear it expired. */
	if (c->closing_session)
		return 0;
	memset(&jr, 0, sizeof(jr));
	/* Fields may be as long as the frame may (jute.maxbuffer + slack): a
	 * value over ZNODE_MAX_DATA then reaches the tree and is refused with
	 * ZBADARGUMENTS and a log line naming its length, instead of closing
	 * the connection as a "malformed frame". */
	rc = jute_request_decode(p, n, s->max_buffer + ZKS_FRAME_SLACK, &jr);
	if (rc == ZMARSHALLINGERROR) {
		jute_request_free(&jr);
		if (!zks_nul_in_path(p, n, s->max_buffer + ZKS_FRAME_SLACK))
			return -EPROTO;
		/* Answered in order with the header alone. */
		memset(&jr, 0, sizeof(jr));
		jr.hdr.xid = (int32_t)((uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
				       (uint32_t)p[2] << 8 | p[3]);
		jr.hdr.type = (int32_t)((uint32_t)p[4] << 24 | (uint32_t)p[5] << 16 |
					(uint32_t)p[6] << 8 | p[7]);
		jr.rec = JUTE_REC_NONE;
		rc = ZBADARGUMENTS;
	}
	/* A read-only session is local: the core does not know it. */
	if (!c->read_only &&
	    qcore_session_touch(s->core, c->session_id) == ZSESSIONEXPIRED &&
	    jr.hdr.type != ZOP_CLOSESESSION) {
		jute_request_free(&jr);
		zks_session_expired(c);
		return 0;
	}
	c->last_cxid = jr.hdr.xid;
	c->last_op = jr.hdr.type;
	r = zks_req_new(c, jr.hdr.xid, jr.hdr.type);
	if (!r) {
		jute_request_free(&jr);
		return -ENOMEM;
	}
	r->jr = jr;
	if (rc == ZBADARGUMENTS) {
		r->err = ZBADARGUMENTS;
		r->state = ZKS_REQ_DONE;
	} else if (rc == ZUNIMPLEMENTED) {
		log_warnx("zk: %s sent unknown opcode %d: closing after the reply",
			  c->peer, jr.hdr.type);
		r->err = ZUNIMPLEMENTED;
		r->state = ZKS_REQ_DONE;
		r->close_after = 1;
	} else if (r->type == ZOP_AUTH) {
		rc = zks_dispatch_run(r);
		if (rc < 0)
			return rc;
	}
	zks_conn_progress(c);
	return 0;
}
