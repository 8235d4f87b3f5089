/*
 * hmac.c - HMAC-SHA256 (RFC 2104) over libcrypto's SHA-256.
 *
 * A key keeps the SHA-256 states after its inner and outer padded blocks
 * (key ^ ipad, key ^ opad); a MAC copies them by value, hashes the message
 * into the inner one and its digest into the outer one. Nothing is
 * allocated per MAC.
 *
 * Why not EVP_MAC: every message between members carries a MAC, and OpenSSL
 * 3's EVP_MAC_CTX_dup allocates and frees a MAC context, an HMAC context
 * and three digest contexts per call. With 8 sessions x 8 writes that was
 * 6% of the members' CPU (perf, stop 27), most of it malloc and free around
 * a few SHA-256 blocks. SHA256_Init/Update/Final are deprecated in OpenSSL
 * 3 in favour of EVP, but they run the same SHA-256 code (SHA-NI where the
 * CPU has it) and are in every libcrypto from 1.1 on, which configure asks
 * for; if a libcrypto ever drops them, the EVP_MAC version is in this file's
 * history (03ff0df and before).
 */
#define OPENSSL_SUPPRESS_DEPRECATED 1

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include "hmac.h"

struct hmac_key {
	SHA256_CTX inner; /* after (key ^ ipad) */
	SHA256_CTX outer; /* after (key ^ opad) */
};

struct hmac_key *hmac_key_new(const void *key, size_t key_len)
{
	unsigned char block[SHA256_CBLOCK], kh[SHA256_DIGEST_LENGTH];
	struct hmac_key *k = calloc(1, sizeof(*k));
	int ok;

	if (!k)
		return NULL;
	/* RFC 2104 section 2: a key longer than the block is hashed first. */
	if (key_len > SHA256_CBLOCK) {
		if (!SHA256(key, key_len, kh)) {
			free(k);
			return NULL;
		}
		key = kh;
		key_len = sizeof(kh);
	}
	memset(block, 0x36, sizeof(block));
	for (size_t i = 0; i < key_len; i++)
		block[i] ^= ((const unsigned char *)key)[i];
	ok = SHA256_Init(&k->inner) && SHA256_Update(&k->inner, block, sizeof(block));
	for (size_t i = 0; i < sizeof(block); i++)
		block[i] ^= 0x36 ^ 0x5c;
	ok = ok && SHA256_Init(&k->outer) && SHA256_Update(&k->outer, block, sizeof(block));
	OPENSSL_cleanse(block, sizeof(block));
	OPENSSL_cleanse(kh, sizeof(kh));
	if (!ok) {
		hmac_key_free(k);
		return NULL;
	}
	return k;
}

void hmac_key_free(struct hmac_key *k)
{
	if (!k)
		return;
	OPENSSL_cleanse(k, sizeof(*k));
	free(k);
}

int hmac_sha256(const struct hmac_key *k, const struct hmac_part *parts, size_t n,
		uint8_t out[HMAC_SHA256_LEN])
{
	SHA256_CTX c = k->inner;
	unsigned char ih[SHA256_DIGEST_LENGTH];
	int ok = 1;

	for (size_t i = 0; i < n && ok; i++)
		if (parts[i].n)
			ok = SHA256_Update(&c, parts[i].p, parts[i].n);
	ok = ok && SHA256_Final(ih, &c);
	c = k->outer;
	ok = ok && SHA256_Update(&c, ih, sizeof(ih)) && SHA256_Final(out, &c);
	OPENSSL_cleanse(&c, sizeof(c));
	OPENSSL_cleanse(ih, sizeof(ih));
	return ok ? 0 : -EIO;
}

int hmac_equal(const void *a, const void *b, size_t n)
{
	return CRYPTO_memcmp(a, b, n) == 0;
}

int hmac_random(void *out, size_t n)
{
	return RAND_bytes(out, (int)n) == 1 ? 0 : -EIO;
}
