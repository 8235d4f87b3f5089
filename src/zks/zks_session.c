/*
 * zks_session.c - the session handshake, ping, closeSession and expiry.
 *
 * ConnectRequest{protocolVersion, lastZxidSeen, timeOut, sessionId, passwd,
 * readOnly} (readOnly missing from clients older than 3.4) is answered by
 * ConnectResponse{protocolVersion 0, timeOut, sessionId, passwd(16),
 * readOnly}, the readOnly byte sent only to clients that sent one
 * (ZooKeeperServer.finishSessionInit). A sessionId of 0 asks for a new
 * session; otherwise the client re-attaches with id and password. A wrong
 * password or a session that is gone is answered with timeOut 0, sessionId 0
 * and a zero password, then the connection is closed: the client reports
 * its session expired. A client that has seen a zxid newer than ours is
 * refused without a reply (it must find a more recent server).
 *
 * Read-only sessions (ZooKeeper's read-only mode): when the createSession
 * transaction fails (a full or failing disk; later, no quorum), a client
 * that set canBeReadOnly gets a local session the log never hears of: an id
 * with top byte 0xff (never a server id, those are 0..254), the readOnly
 * flag in its ConnectResponse, no expiry by the core (it lives as long as
 * its connection, closed when silent for its timeout, clamped to 4..40 s),
 * reads and watches as usual, and ZNOTREADONLY for every write
 * and sync (ReadOnlyRequestProcessor). Its client reconnects with session
 * id 0 once it finds a writable server. Any other client is told nothing
 * the protocol could carry: its connection is closed and the log says why.
 *
 * Expiry is the core's: it logs closeSession when a session is not touched
 * for its timeout. The periodic scan notices a live connection whose session
 * is gone, sends an Expired state event and closes the connection.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"
#include "log.h"
#include "zerr.h"
#include "zks_int.h"

static int zks_session_respond(struct zks_conn *c, int32_t timeout_ms, int64_t id)
{
	struct jute_connect_response rsp;
	uint8_t pw[16];
	struct buf b;
	size_t off;
	int rc;

	memset(pw, 0, sizeof(pw));
	if (id)
		qcore_session_password(c->srv->core, id, pw);
	rsp.protocol_version = 0;
	rsp.time_out = timeout_ms;
	rsp.session_id = id;
	rsp.passwd.len = sizeof(pw);
	rsp.passwd.data = pw;
	rsp.read_only = c->read_only;
	buf_init(&b);
	off = jute_frame_begin(&b);
	jute_put_connect_response(&b, &rsp);
	/* The readOnly byte is always encoded; old clients never read it and
	 * would take it for the next frame's first byte. */
	if (c->old_client && !buf_failed(&b))
		b.len--;
	jute_frame_end(&b, off);
	rc = buf_failed(&b) ? -ENOMEM : zks_conn_write_frame(c, b.data, b.len);
	buf_free(&b);
	return rc;
}

static void zks_session_established(struct zks_conn *c, int64_t id, int32_t timeout_ms)
{
	struct zks_conn *o, *next;

	/* The session moves here: an older connection still holding it would
	 * otherwise get its replies and events. */
	for (o = TAILQ_FIRST(&c->srv->conns); o; o = next) {
		next = TAILQ_NEXT(o, link);
		if (o != c && o->session_id == id && !o->dead)
			zks_conn_close(o, "session re-attached on another connection");
	}
	c->session_id = id;
	c->timeout_ms = timeout_ms;
	c->state = ZKS_CONN_OPEN;
	if (zks_session_respond(c, timeout_ms, id) < 0) {
		zks_conn_close(c, "out of memory answering the handshake");
		return;
	}
	log_debug("zk: %s session 0x%llx established, timeout %d ms", c->peer,
		  (unsigned long long)id, timeout_ms);
	zks_conn_progress(c); /* resumes reading */
}

static void zks_session_refuse(struct zks_conn *c, const char *why)
{
	log_info("zk: %s: %s", c->peer, why);
	c->state = ZKS_CONN_OPEN; /* so the drain below sends the response */
	if (zks_session_respond(c, 0, 0) < 0)
		zks_conn_close(c, "out of memory answering the handshake");
	else
		zks_conn_drain(c);
}

/*
 * A read-only local session for a client that set canBeReadOnly, when no
 * session can be logged now (why: the disk is full or failing, or there is
 * no quorum): reads are served from this replica, writes get NOTREADONLY,
 * as ZooKeeper's read-only mode does.
 */
static void zks_session_read_only(struct zks_conn *c, const char *why)
{
	log_warnx("zk: %s: cannot create a session (%s): a read-only session "
		  "instead (the client set canBeReadOnly); its writes get NOTREADONLY",
		  c->peer, why);
	c->read_only = 1;
	/* What a session would get: tickTime-based bounds are the core's, so
	 * only keep the client's value sane. */
	if (c->timeout_ms < 4000 || c->timeout_ms > 40000)
		c->timeout_ms = c->timeout_ms < 4000 ? 4000 : 40000;
	zks_session_established(c, (int64_t)(0xffull << 56 | ++c->srv->ro_sessions),
				c->timeout_ms);
}

static void zks_on_session_open(void *arg, const struct zresult *res)
{
	struct zks_conn *c = arg;
	const struct tree_session *ts;

	if (c->dead) {
		/* Nobody to tell: the new session expires on its own. */
		zks_conn_unref(c);
		return;
	}
	if (c->read_only) {
		/* Already given a read-only session while this one waited for
		 * a leader; the logged one expires on its own. */
		zks_conn_unref(c);
		return;
	}
	if (res->err != ZOK) {
		int e = qcore_last_io_errno(c->srv->core);
		const char *why = e ? strerror(e) : zerr_str(res->err);

		c->srv->degraded = 1;
		if (c->can_be_ro) {
			zks_session_read_only(c, why);
		} else {
			log_warnx("zk: %s: cannot create a session (%s): closing the "
				  "connection (a client that sets canBeReadOnly gets a "
				  "read-only session)",
				  c->peer, why);
			zks_conn_close(c, "session creation failed");
		}
		zks_conn_unref(c);
		return;
	}
	c->srv->degraded = 0;
	ts = tree_session_get(qcore_tree(c->srv->core), res->session_id);
	zks_session_established(c, res->session_id, ts ? ts->timeout_ms : c->timeout_ms);
	zks_conn_unref(c);
}

int zks_session_connect(struct zks_conn *c, const uint8_t *p, size_t n)
{
	struct zk_server *s = c->srv;
	struct jute_connect_request cr;
	struct rd in;
	zxid_t last = tree_last_zxid(qcore_tree(s->core));
	int rc = 0;

	rd_init(&in, p, n);
	if (jute_get_connect_request(&in, &cr, s->max_buffer) != ZOK)
		return -EPROTO;
	/* Fixed fields 28 bytes + password; a readOnly byte makes one more. */
	c->old_client = n == 28 + (size_t)(cr.passwd.len > 0 ? cr.passwd.len : 0);
	c->can_be_ro = !c->old_client && cr.read_only;
	if (in.left != 0) {
		rc = -EPROTO;
		goto out;
	}
	if ((zxid_t)cr.last_zxid_seen > last) {
		log_warnx("zk: refusing %s: it has seen zxid 0x%llx, our last is 0x%llx",
			  c->peer, (unsigned long long)cr.last_zxid_seen,
			  (unsigned long long)last);
		zks_conn_close(c, "client is ahead of this server");
		goto out;
	}
	c->timeout_ms = cr.time_out;
	if (cr.session_id == 0) {
		struct qcore_replica r;

		/* No leader: a session cannot be logged until one is elected,
		 * which may be never (a lone member whose disk is full stands
		 * down; a minority waits for the partition to heal). A client
		 * that accepts read-only is served now, as ZooKeeper's
		 * read-only mode serves it; any other is turned away at once,
		 * as a ZooKeeper server that is looking does, so that it tries
		 * the next server of its connect string. */
		qcore_replica(s->core, &r);
		if (!r.leader || r.role == QCORE_LOOKING || r.role == QCORE_REMOVED) {
			int e = qcore_last_io_errno(s->core);
			const char *why =
			    r.role == QCORE_REMOVED
				? "this server was removed from the ensemble"
			    : e ? strerror(e)
				: "no quorum";

			s->degraded = 1;
			if (c->can_be_ro) {
				zks_session_read_only(c, why);
			} else {
				log_warnx("zk: %s: cannot create a session (%s): closing the "
					  "connection (a client that sets canBeReadOnly gets a "
					  "read-only session)",
					  c->peer, why);
				zks_conn_close(c, "no session can be created now");
			}
			goto out;
		}
	}
	if (cr.session_id == 0) {
		c->state = ZKS_CONN_OPENING;
		zks_conn_set_reading(c, 0);
		zks_conn_ref(c);
		rc = qcore_session_open(s->core, cr.time_out, c->peer,
					zks_on_session_open, c);
		if (rc < 0) {
			zks_conn_unref(c);
			goto out;
		}
	} else {
		const struct tree_session *ts =
		    tree_session_get(qcore_tree(s->core), cr.session_id);
		uint8_t pw[16];

		qcore_session_password(s->core, cr.session_id, pw);
		if (!ts)
			zks_session_refuse(c, "re-attach to a session that has expired");
		else if (cr.passwd.len != 16 || memcmp(pw, cr.passwd.data, 16) != 0)
			zks_session_refuse(c, "re-attach with a wrong session password");
		else if (qcore_session_touch(s->core, cr.session_id) != ZOK)
			zks_session_refuse(c, "re-attach to a session that is expiring");
		else
			zks_session_established(c, cr.session_id, ts->timeout_ms);
	}
out:
	jute_free_connect_request(&cr);
	return rc;
}

void zks_session_expired(struct zks_conn *c)
{
	if (c->dead)
		return;
	log_debug("zk: session 0x%llx of %s expired", (unsigned long long)c->session_id,
		  c->peer);
	/* Path "" rather than null: the Java client strips its chroot from
	 * every event path and has no null check there. */
	zks_conn_notify(c, ZKS_EV_NONE, ZKS_STATE_EXPIRED, "");
	zks_conn_progress(c);
	zks_conn_drain(c);
}

void zks_session_scan(struct zk_server *s)
{
	struct tree *t = qcore_tree(s->core);
	struct zks_conn *c, *next;
	int64_t now = zks_now_ms();

	for (c = TAILQ_FIRST(&s->conns); c; c = next) {
		next = TAILQ_NEXT(c, link);
		if (c->state == ZKS_CONN_OPEN && c->session_id && !c->closing_session &&
		    !c->read_only && !tree_session_get(t, c->session_id))
			zks_session_expired(c);
		else if (c->state == ZKS_CONN_OPEN && c->read_only &&
			 now - c->last_rx_ms > c->timeout_ms) {
			/* A read-only session is its connection: a client silent
			 * for its whole timeout (it pings every third) is gone. */
			log_info("zk: %s read-only session 0x%llx silent for %d ms: "
				 "closing",
				 c->peer, (unsigned long long)c->session_id,
				 c->timeout_ms);
			zks_session_expired(c);
		} else if (c->state == ZKS_CONN_NEW &&
			   now - c->established_ms > ZKS_SESSIONLESS_TIMEOUT_MS) {
			/* Connected but never finished a handshake
			 * (NIOServerCnxnFactory's sessionlessCnxnTimeout): it holds a
			 * slot of maxClientCnxns. */
			log_info("zk: %s sent no ConnectRequest in %d ms: closing",
				 c->peer, ZKS_SESSIONLESS_TIMEOUT_MS);
			zks_conn_close(c, "no handshake");
		}
	}
}

int zks_session_ro_refuses(int32_t type)
{
	/* ReadOnlyRequestProcessor: every write, and sync. */
	return type == ZOP_SYNC || (zks_op_is_write(type) && type != ZOP_CLOSESESSION);
}

int zks_op_ping(struct zks_req *r)
{
	r->err = ZOK;
	return ZKS_DONE;
}

static void zks_on_session_closed(void *arg, const struct zresult *res)
{
	struct zks_req *r = arg;

	/* ZooKeeper answers closeSession with OK whatever happened: the
	 * client is going away either way. */
	r->err = ZOK;
	r->zxid = (int64_t)res->zxid;
	zks_req_finish(r);
}

int zks_op_close_session(struct zks_req *r)
{
	struct zks_conn *c = r->conn;
	int rc;

	c->closing_session = 1;
	r->close_after = 1;
	if (c->read_only) {
		r->err = ZOK; /* a local session: nothing to log */
		return ZKS_DONE;
	}
	rc = qcore_session_close(c->srv->core, c->session_id, zks_on_session_closed, r);
	if (rc < 0) {
		r->err = ZSYSTEMERROR;
		return ZKS_DONE;
	}
	return ZKS_PENDING;
}
