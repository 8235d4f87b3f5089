/*
 * fuzz_sasl.c - libFuzzer target for the SASL DIGEST-MD5 digest-response
 * decoder (zks_sasl_parse, zks_sasl_field): the first thing the server
 * reads from a client that has not authenticated.
 *
 * Properties: any bytes (cut at the first NUL, as the server refuses a
 * token holding one) decode without a crash or an overrun, every field
 * NUL-terminated inside its buffer; and a response that decodes, written
 * out again with every field quoted and escaped, decodes to the same
 * fields. Seeds: tests/fuzz/corpus/sasl/.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "zks_sasl_msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Appends key="value" (escaped) and a comma; the caller sized out. */
static size_t put(char *out, size_t off, const char *key, const char *v)
{
	size_t k = strlen(key);

	memcpy(out + off, key, k);
	off += k;
	out[off++] = '=';
	out[off++] = '"';
	for (; *v; v++) {
		if (*v == '"' || *v == '\\')
			out[off++] = '\\';
		out[off++] = *v;
	}
	out[off++] = '"';
	out[off++] = ',';
	out[off] = 0;
	return off;
}

static void check_fields(const struct zks_sasl_resp *m)
{
	/* A field without its NUL inside the buffer would make strlen run
	 * off the end: ASan sees it. */
	if (strlen(m->user) >= sizeof(m->user) || strlen(m->realm) >= sizeof(m->realm) ||
	    strlen(m->nonce) >= sizeof(m->nonce) || strlen(m->cnonce) >= sizeof(m->cnonce) ||
	    strlen(m->nc) >= sizeof(m->nc) || strlen(m->qop) >= sizeof(m->qop) ||
	    strlen(m->uri) >= sizeof(m->uri) || strlen(m->resp) >= sizeof(m->resp) ||
	    strlen(m->authzid) >= sizeof(m->authzid))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *msg = malloc(size + 1);
	struct zks_sasl_resp a, b;
	const char *why = NULL;
	char one[8], *again;
	size_t off = 0;

	if (!msg)
		return 0;
	memcpy(msg, data, size);
	msg[size] = 0;
	/* One field alone, into a small buffer: never past it. */
	if (zks_sasl_field(msg, "nc", one, sizeof(one)) == 0 && strlen(one) >= sizeof(one))
		abort();
	memset(&a, 0x5a, sizeof(a));
	if (zks_sasl_parse(msg, &a, &why) != 0) {
		if (!why)
			abort();
		free(msg);
		return 0;
	}
	check_fields(&a);
	/* Written out again: each byte at most doubled, plus the keys. */
	again = malloc(2 * sizeof(a) + 256);
	if (!again)
		abort();
	off = put(again, off, "username", a.user);
	off = put(again, off, "realm", a.realm);
	off = put(again, off, "nonce", a.nonce);
	off = put(again, off, "cnonce", a.cnonce);
	off = put(again, off, "nc", a.nc);
	off = put(again, off, "qop", a.qop);
	off = put(again, off, "digest-uri", a.uri);
	off = put(again, off, "response", a.resp);
	put(again, off, "authzid", a.authzid);
	memset(&b, 0x33, sizeof(b));
	if (zks_sasl_parse(again, &b, &why) != 0)
		abort();
	if (strcmp(a.user, b.user) || strcmp(a.realm, b.realm) || strcmp(a.nonce, b.nonce) ||
	    strcmp(a.cnonce, b.cnonce) || strcmp(a.nc, b.nc) || strcmp(a.qop, b.qop) ||
	    strcmp(a.uri, b.uri) || strcmp(a.resp, b.resp) || strcmp(a.authzid, b.authzid))
		abort();
	free(again);
	free(msg);
	return 0;
}
