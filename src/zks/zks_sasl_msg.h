/*
 * zks_sasl_msg.h - the fields of a DIGEST-MD5 digest-response (RFC 2831
 * 2.1.2), as a client's SASL token carries them: key=value pairs separated
 * by commas, a value bare or a quoted string with backslash escapes.
 *
 * A pure decoder of what any unauthenticated client sends, so it is kept
 * apart from the exchange (zks_sasl.c) and fuzzed on its own
 * (tests/fuzz/fuzz_sasl.c). No allocation, no I/O.
 */
#ifndef QFS_ZKS_SASL_MSG_H
#define QFS_ZKS_SASL_MSG_H

#include <stddef.h>

#define ZKS_SASL_REALM "zk-sasl-md5"

/* Each field NUL-terminated; a value that does not fit is an error. */
struct zks_sasl_resp {
	char user[128], realm[128], nonce[64], cnonce[128], nc[16], qop[16];
	char uri[256], resp[64], authzid[128];
};

/*
 * The value of key in msg (the first pair with that key), unescaped into
 * out (n bytes, NUL-terminated). Returns 0, or -1 when the key is missing
 * or its value does not fit.
 */
int zks_sasl_field(const char *msg, const char *key, char *out, size_t n);

/*
 * Every field of a digest-response. username, nonce, cnonce, nc,
 * digest-uri and response are required; realm defaults to
 * ZKS_SASL_REALM, qop to "auth", authzid to "". Returns 0, or -1 with the
 * reason in *why (a static string).
 */
int zks_sasl_parse(const char *msg, struct zks_sasl_resp *out, const char **why);

#endif
