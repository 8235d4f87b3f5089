/*
 * zks_sasl.c - SASL (opcode 102) with the DIGEST-MD5 mechanism, as
 * ZooKeeper's server does it with a JAAS DigestLoginModule
 * (user_<name>="password" entries): the shared secret lives in the server's
 * configuration (zk_server_opts.sasl_users, "user:password,...").
 *
 * Exchange (RFC 2831), each step a GetSASLRequest{token} answered by
 * SetSASLResponse{token}:
 *   1. the client sends an empty token; the server answers the
 *      digest-challenge: realm="zk-sasl-md5",nonce="...",qop="auth",
 *      charset=utf-8,algorithm=md5-sess
 *   2. the client sends the digest-response (username, realm, nonce,
 *      cnonce, nc, qop, digest-uri, response); the server checks
 *        HA1 = MD5(MD5(user:realm:password) ":" nonce ":" cnonce [":" authzid])
 *        HA2 = MD5("AUTHENTICATE:" digest-uri)
 *        response = HEX(MD5(HEX(HA1):nonce:nc:cnonce:qop:HEX(HA2)))
 *      and answers rspauth= the same with HA2 = MD5(":" digest-uri);
 *      the connection gains the identity ("sasl", authzid or user).
 * Any failure is ZAUTHFAILED and the connection is closed after the reply,
 * as ZooKeeper drops a client whose SASL exchange fails.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "log.h"
#include "zerr.h"
#include "zks_int.h"
#include "zks_sasl_msg.h"

struct zks_sasl {
	int step; /* 0: no challenge sent, 1: challenge sent, 2: done */
	char nonce[40];
};

void zks_sasl_free(struct zks_sasl *x)
{
	free(x);
}

static void zks_md5(const void *p, size_t n, uint8_t out[16])
{
	unsigned int len = 16;

	EVP_Digest(p, n, out, &len, EVP_md5(), NULL);
}

static void zks_hex(const uint8_t in[16], char out[33])
{
	static const char digits[] = "0123456789abcdef";

	for (int i = 0; i < 16; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[32] = 0;
}

/* The configured password of user, copied into out; 0 or -1. */
static int zks_sasl_password(const char *users, const char *user, char *out, size_t n)
{
	size_t ulen = strlen(user);
	const char *p = users;

	while (p && *p) {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);

		if (len > ulen && strncmp(p, user, ulen) == 0 && p[ulen] == ':') {
			size_t plen = len - ulen - 1;

			if (plen + 1 > n)
				return -1;
			memcpy(out, p + ulen + 1, plen);
			out[plen] = 0;
			return 0;
		}
		p = end ? end + 1 : NULL;
	}
	return -1;
}

static int zks_sasl_fail(struct zks_req *r, const char *why)
{
	log_warnx("zk: %s: SASL authentication failed: %s", r->conn->peer, why);
	r->err = ZAUTHFAILED;
	r->close_after = 1;
	return ZKS_DONE;
}

static int zks_sasl_challenge(struct zks_req *r, struct zks_sasl *x)
{
	uint8_t rnd[16];
	char hex[33];
	char msg[160];

	if (RAND_bytes(rnd, sizeof(rnd)) != 1)
		return zks_sasl_fail(r, "no randomness for a nonce");
	zks_hex(rnd, hex);
	snprintf(x->nonce, sizeof(x->nonce), "%s", hex);
	snprintf(msg, sizeof(msg),
		 "realm=\"" ZKS_SASL_REALM "\",nonce=\"%s\",qop=\"auth\",charset=utf-8,"
		 "algorithm=md5-sess",
		 x->nonce);
	buf_put_bytes(&r->body, msg, (int32_t)strlen(msg));
	x->step = 1;
	r->err = ZOK;
	return ZKS_DONE;
}

/* HEX(MD5(HEX(HA1):nonce:nc:cnonce:qop:HEX(MD5(a2)))) into out. */
static void zks_sasl_digest(const char *ha1_hex, const char *nonce, const char *nc,
			    const char *cnonce, const char *qop, const char *a2,
			    char out[33])
{
	uint8_t h[16];
	char ha2[33];
	char buf[1024];
	int n;

	zks_md5(a2, strlen(a2), h);
	zks_hex(h, ha2);
	n = snprintf(buf, sizeof(buf), "%s:%s:%s:%s:%s:%s", ha1_hex, nonce, nc, cnonce,
		     qop, ha2);
	zks_md5(buf, n > 0 && (size_t)n < sizeof(buf) ? (size_t)n : 0, h);
	zks_hex(h, out);
}

static int zks_sasl_response(struct zks_req *r, struct zks_sasl *x, const char *msg)
{
	struct zks_conn *c = r->conn;
	struct zks_sasl_resp m;
	const char *why;
	char pw[256], a2[300];
	char ha1_hex[33], want[33];
	uint8_t key[16], ha1[16];
	char buf[512];
	size_t len;
	int n;

	if (zks_sasl_parse(msg, &m, &why))
		return zks_sasl_fail(r, why);
	if (strcmp(m.nonce, x->nonce) != 0 || strcmp(m.qop, "auth") != 0)
		return zks_sasl_fail(r, "nonce or qop does not match the challenge");
	if (!c->srv->sasl_users ||
	    zks_sasl_password(c->srv->sasl_users, m.user, pw, sizeof(pw)))
		return zks_sasl_fail(r, "unknown user");
	n = snprintf(buf, sizeof(buf), "%s:%s:%s", m.user, m.realm, pw);
	explicit_bzero(pw, sizeof(pw));
	if (n < 0 || (size_t)n >= sizeof(buf))
		return zks_sasl_fail(r, "credentials too long");
	zks_md5(buf, (size_t)n, key);
	explicit_bzero(buf, sizeof(buf));
	memcpy(buf, key, 16);
	len = 16;
	n = snprintf(buf + len, sizeof(buf) - len, ":%s:%s%s%s", m.nonce, m.cnonce,
		     m.authzid[0] ? ":" : "", m.authzid);
	if (n < 0 || (size_t)n >= sizeof(buf) - len)
		return zks_sasl_fail(r, "digest-response too long");
	zks_md5(buf, len + (size_t)n, ha1);
	zks_hex(ha1, ha1_hex);
	snprintf(a2, sizeof(a2), "AUTHENTICATE:%s", m.uri);
	zks_sasl_digest(ha1_hex, m.nonce, m.nc, m.cnonce, m.qop, a2, want);
	if (strcmp(want, m.resp) != 0)
		return zks_sasl_fail(r, "wrong password");
	snprintf(a2, sizeof(a2), ":%s", m.uri);
	zks_sasl_digest(ha1_hex, m.nonce, m.nc, m.cnonce, m.qop, a2, want);
	n = snprintf(buf, sizeof(buf), "rspauth=%s", want);
	if (zauth_add(&c->auth, "sasl", m.authzid[0] ? m.authzid : m.user) < 0)
		return zks_sasl_fail(r, "out of memory");
	log_debug("zk: %s authenticated by SASL as %s", c->peer,
		  m.authzid[0] ? m.authzid : m.user);
	buf_put_bytes(&r->body, buf, n);
	x->step = 2;
	r->err = ZOK;
	return ZKS_DONE;
}

int zks_op_sasl(struct zks_req *r)
{
	struct zks_conn *c = r->conn;
	const struct jute_buffer *tok = &r->jr.body.get_sasl_request.token;
	char *msg;
	int rc;

	if (!c->srv->sasl_users)
		return zks_sasl_fail(r, "SASL is not configured (no SASL users)");
	if (!c->sasl) {
		c->sasl = calloc(1, sizeof(*c->sasl));
		if (!c->sasl)
			return zks_sasl_fail(r, "out of memory");
	}
	switch (c->sasl->step) {
	case 0:
		return zks_sasl_challenge(r, c->sasl);
	case 1:
		if (tok->len <= 0 || tok->len > 4096 ||
		    memchr(tok->data, 0, (size_t)tok->len))
			return zks_sasl_fail(r, "empty or binary digest-response");
		msg = strndup((const char *)tok->data, (size_t)tok->len);
		if (!msg)
			return zks_sasl_fail(r, "out of memory");
		rc = zks_sasl_response(r, c->sasl, msg);
		free(msg);
		return rc;
	default:
		/* Already authenticated: nothing more to say. */
		buf_put_bytes(&r->body, "", 0);
		r->err = ZOK;
		return ZKS_DONE;
	}
}
