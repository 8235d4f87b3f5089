/*
 * zks_sasl_msg.c - the digest-response decoder; see zks_sasl_msg.h.
 */
#include <stdio.h>
#include <string.h>

#include "zks_sasl_msg.h"

int zks_sasl_field(const char *msg, const char *key, char *out, size_t n)
{
	size_t klen = strlen(key);
	const char *p = msg;

	while (*p) {
		size_t i = 0;

		while (*p == ' ' || *p == ',')
			p++;
		if (strncmp(p, key, klen) == 0 && p[klen] == '=') {
			p += klen + 1;
			if (*p == '"') {
				for (p++; *p && *p != '"'; p++) {
					if (*p == '\\' && p[1])
						p++;
					if (i + 1 >= n)
						return -1;
					out[i++] = *p;
				}
			} else {
				for (; *p && *p != ','; p++) {
					if (i + 1 >= n)
						return -1;
					out[i++] = *p;
				}
			}
			out[i] = 0;
			return 0;
		}
		/* Not this pair: skip it, minding a quoted value's commas. */
		while (*p && *p != '=')
			p++;
		if (*p == '=')
			p++;
		if (*p == '"') {
			for (p++; *p && *p != '"'; p++)
				if (*p == '\\' && p[1])
					p++;
			if (*p)
				p++;
		}
		while (*p && *p != ',')
			p++;
	}
	return -1;
}

int zks_sasl_parse(const char *msg, struct zks_sasl_resp *out, const char **why)
{
	if (zks_sasl_field(msg, "username", out->user, sizeof(out->user)) ||
	    zks_sasl_field(msg, "nonce", out->nonce, sizeof(out->nonce)) ||
	    zks_sasl_field(msg, "cnonce", out->cnonce, sizeof(out->cnonce)) ||
	    zks_sasl_field(msg, "nc", out->nc, sizeof(out->nc)) ||
	    zks_sasl_field(msg, "digest-uri", out->uri, sizeof(out->uri)) ||
	    zks_sasl_field(msg, "response", out->resp, sizeof(out->resp))) {
		*why = "malformed digest-response";
		return -1;
	}
	if (zks_sasl_field(msg, "realm", out->realm, sizeof(out->realm)))
		snprintf(out->realm, sizeof(out->realm), "%s", ZKS_SASL_REALM);
	if (zks_sasl_field(msg, "qop", out->qop, sizeof(out->qop)))
		snprintf(out->qop, sizeof(out->qop), "auth");
	if (zks_sasl_field(msg, "authzid", out->authzid, sizeof(out->authzid)))
		out->authzid[0] = 0;
	return 0;
}
