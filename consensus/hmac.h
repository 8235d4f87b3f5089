/*
 * hmac.h - HMAC-SHA256 (RFC 2104, FIPS 180-4) over OpenSSL's libcrypto, for
 * the peer transport's challenge/response and per-message authentication.
 */
#ifndef QFS_HMAC_H
#define QFS_HMAC_H

#include <stddef.h>
#include <stdint.h>

#define HMAC_SHA256_LEN 32

/* One piece of a message; a MAC covers the pieces concatenated. */
struct hmac_part {
	const void *p;
	size_t n;
};

struct hmac_key;

/* A key prepared once, for many MACs. key is copied. Returns NULL when
 * out of memory or libcrypto fails. */
struct hmac_key *hmac_key_new(const void *key, size_t key_len);
void hmac_key_free(struct hmac_key *k);

/* out = HMAC-SHA256(key, parts[0] || ... || parts[n-1]). Returns 0 or -EIO. */
int hmac_sha256(const struct hmac_key *k, const struct hmac_part *parts, size_t n,
		uint8_t out[HMAC_SHA256_LEN]);

/* 1 when the n bytes are equal, in time independent of where they differ. */
int hmac_equal(const void *a, const void *b, size_t n);

/* n cryptographically random bytes. Returns 0 or -EIO. */
int hmac_random(void *out, size_t n);

#endif
