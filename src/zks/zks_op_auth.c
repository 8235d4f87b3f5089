/*
 * zks_op_auth.c - who a connection is.
 *
 * Every connection starts with the identity ("ip", peer address), as
 * ZooKeeper's IPAuthenticationProvider gives it. AuthPacket{type, scheme,
 * auth} with scheme "digest" and auth "user:password" adds ("digest",
 * "user:base64(sha1(user:password))"), and also ("super", "") when that
 * digest is the configured superDigest (DigestAuthenticationProvider). Any
 * other scheme, or a digest that cannot be made, is answered with
 * ZAUTHFAILED (xid -4) and the connection is closed after the reply
 * (ZooKeeperServer.processPacket). whoAmI lists the identities as
 * ClientInfo{authScheme, user}.
 *
 * SASL (opcode 102) is zks_sasl.c's.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "zerr.h"
#include "zks_int.h"

int zks_auth_init(struct zks_conn *c)
{
	memset(&c->auth, 0, sizeof(c->auth));
	return zauth_add(&c->auth, "ip", c->ip) < 0 ? -ENOMEM : 0;
}

static int zks_auth_fail(struct zks_req *r, const char *why)
{
	log_warnx("zk: %s: authentication failed: %s", r->conn->peer, why);
	r->err = ZAUTHFAILED;
	r->zxid = 0;
	r->close_after = 1;
	return ZKS_DONE;
}

int zks_op_auth(struct zks_req *r)
{
	const struct jute_auth_packet *a = &r->jr.body.auth_packet;
	struct zks_conn *c = r->conn;
	char *cred, *digest;
	int rc;

	r->zxid = 0;
	if (!a->scheme || strcmp(a->scheme, "digest") != 0)
		return zks_auth_fail(r, "unsupported scheme");
	if (a->auth.len <= 0 || memchr(a->auth.data, 0, (size_t)a->auth.len))
		return zks_auth_fail(r, "empty or binary digest credentials");
	cred = strndup((const char *)a->auth.data, (size_t)a->auth.len);
	if (!cred)
		return zks_auth_fail(r, "out of memory");
	digest = acl_digest(cred);
	free(cred);
	if (!digest)
		return zks_auth_fail(r, "malformed digest credentials");
	/* The user only: the hash is as good as a password offline, and for
	 * super it is the configured superDigest, a secret. */
	log_debug("zk: %s authenticated as digest user %.*s", c->peer,
		  (int)strcspn(digest, ":"), digest);
	rc = zauth_add(&c->auth, "digest", digest);
	if (rc == 0 && c->srv->super_digest &&
	    strcmp(digest, c->srv->super_digest) == 0) {
		rc = zauth_add(&c->auth, "super", "");
		c->auth.super = 1;
	}
	free(digest);
	if (rc < 0)
		return zks_auth_fail(r, "out of memory");
	r->err = ZOK;
	return ZKS_DONE;
}

int zks_op_whoami(struct zks_req *r)
{
	const struct zauth *a = &r->conn->auth;

	buf_put_u32(&r->body, (uint32_t)a->n);
	for (int32_t i = 0; i < a->n; i++) {
		struct jute_client_info ci = {a->v[i].scheme, a->v[i].id};

		jute_put_client_info(&r->body, &ci);
	}
	r->err = ZOK;
	return ZKS_DONE;
}
