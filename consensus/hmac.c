/*
 * hmac.c - HMAC-SHA256 with OpenSSL 3's EVP_MAC (the HMAC_CTX API is
 * deprecated there). A key keeps an initialised context; each MAC
 * duplicates it, which skips re-deriving the padded key.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include "hmac.h"

struct hmac_key {
	EVP_MAC_CTX *ctx;
};

static EVP_MAC *hmac_alg;
static pthread_once_t hmac_once = PTHREAD_ONCE_INIT;

static void hmac_init(void)
{
	hmac_alg = EVP_MAC_fetch(NULL, "HMAC", NULL);
}

struct hmac_key *hmac_key_new(const void *key, size_t key_len)
{
	char digest[] = "SHA256";
	OSSL_PARAM params[] = {
	    OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
	    OSSL_PARAM_construct_end(),
	};
	struct hmac_key *k;

	pthread_once(&hmac_once, hmac_init);
	if (!hmac_alg || !(k = calloc(1, sizeof(*k))))
		return NULL;
	k->ctx = EVP_MAC_CTX_new(hmac_alg);
	if (!k->ctx || !EVP_MAC_init(k->ctx, key, key_len, params)) {
		hmac_key_free(k);
		return NULL;
	}
	return k;
}

void hmac_key_free(struct hmac_key *k)
{
	if (!k)
		return;
	EVP_MAC_CTX_free(k->ctx);
	free(k);
}

int hmac_sha256(const struct hmac_key *k, const struct hmac_part *parts, size_t n,
		uint8_t out[HMAC_SHA256_LEN])
{
	EVP_MAC_CTX *c = EVP_MAC_CTX_dup(k->ctx);
	size_t len = 0;
	int rc = -EIO;

	if (!c)
		return -EIO;
	for (size_t i = 0; i < n; i++)
		if (parts[i].n && !EVP_MAC_update(c, parts[i].p, parts[i].n))
			goto out;
	if (EVP_MAC_final(c, out, &len, HMAC_SHA256_LEN) && len == HMAC_SHA256_LEN)
		rc = 0;
out:
	EVP_MAC_CTX_free(c);
	return rc;
}

int hmac_equal(const void *a, const void *b, size_t n)
{
	return CRYPTO_memcmp(a, b, n) == 0;
}

int hmac_random(void *out, size_t n)
{
	return RAND_bytes(out, (int)n) == 1 ? 0 : -EIO;
}
