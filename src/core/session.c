/* session.c - session ids, passwords and the bucketed expiry clock; see
 * session.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "session.h"

struct sess {
	int64_t id;
	int32_t timeout_ms;
	int64_t expire_at; /* bucket time; 0 while closing */
	struct sess *hnext;
	struct sess *prev, *next; /* bucket list */
};

struct sesstrack {
	int64_t server_id;
	int64_t next_id;
	int32_t tick;
	uint8_t secret[SESSION_SECRET_LEN];
	struct sess **hash;
	size_t nhash, count;
	struct sess **ring; /* bucket lists */
	size_t nring;
	int64_t next_expiry; /* the next bucket time to expire */
};

static size_t hash_of(int64_t id, size_t n)
{
	uint64_t x = (uint64_t)id * 0x9e3779b97f4a7c15ull;

	return (size_t)(x >> 32) & (n - 1);
}

static int64_t round_up(const struct sesstrack *st, int64_t t)
{
	return (t / st->tick + 1) * st->tick;
}

struct sesstrack *sesstrack_new(int64_t server_id, int32_t tick_ms,
				int32_t max_timeout_ms,
				const uint8_t secret[SESSION_SECRET_LEN], int64_t wall_ms)
{
	struct sesstrack *st;

	st = calloc(1, sizeof(*st));
	if (!st)
		return NULL;
	st->server_id = server_id;
	st->tick = tick_ms > 0 ? tick_ms : 2000;
	memcpy(st->secret, secret, SESSION_SECRET_LEN);
	/* ZooKeeper's initializeNextSessionId: the low 56 bits from the clock. */
	st->next_id = (int64_t)((uint64_t)((uint64_t)wall_ms << 24) >> 8) |
		      (int64_t)((uint64_t)server_id << 56);
	st->nhash = 256;
	st->hash = calloc(st->nhash, sizeof(*st->hash));
	st->nring = (size_t)(max_timeout_ms / st->tick) + 3;
	st->ring = calloc(st->nring, sizeof(*st->ring));
	if (!st->hash || !st->ring) {
		sesstrack_free(st);
		return NULL;
	}
	return st;
}

void sesstrack_free(struct sesstrack *st)
{
	struct sess *s, *n;
	size_t i;

	if (!st)
		return;
	for (i = 0; st->hash && i < st->nhash; i++)
		for (s = st->hash[i]; s; s = n) {
			n = s->hnext;
			free(s);
		}
	free(st->hash);
	free(st->ring);
	free(st);
}

int64_t sesstrack_next_id(struct sesstrack *st)
{
	return st->next_id++;
}

static struct sess *find(const struct sesstrack *st, int64_t id)
{
	struct sess *s;

	for (s = st->hash[hash_of(id, st->nhash)]; s; s = s->hnext)
		if (s->id == id)
			return s;
	return NULL;
}

static void unbucket(struct sesstrack *st, struct sess *s)
{
	size_t b;

	if (!s->expire_at)
		return;
	b = (size_t)(s->expire_at / st->tick) % st->nring;
	if (s->prev)
		s->prev->next = s->next;
	else
		st->ring[b] = s->next;
	if (s->next)
		s->next->prev = s->prev;
	s->prev = s->next = NULL;
	s->expire_at = 0;
}

static void bucket(struct sesstrack *st, struct sess *s, int64_t at)
{
	size_t b = (size_t)(at / st->tick) % st->nring;

	s->expire_at = at;
	s->prev = NULL;
	s->next = st->ring[b];
	if (s->next)
		s->next->prev = s;
	st->ring[b] = s;
}

static int grow(struct sesstrack *st)
{
	struct sess **nh, *s, *n;
	size_t i, nn = st->nhash * 2, h;

	nh = calloc(nn, sizeof(*nh));
	if (!nh)
		return -ENOMEM;
	for (i = 0; i < st->nhash; i++)
		for (s = st->hash[i]; s; s = n) {
			n = s->hnext;
			h = hash_of(s->id, nn);
			s->hnext = nh[h];
			nh[h] = s;
		}
	free(st->hash);
	st->hash = nh;
	st->nhash = nn;
	return 0;
}

static void schedule(struct sesstrack *st, struct sess *s, int64_t now_ms)
{
	int64_t at = round_up(st, now_ms + s->timeout_ms);

	if (!st->next_expiry || st->next_expiry > round_up(st, now_ms))
		st->next_expiry = round_up(st, now_ms);
	if (s->expire_at == at)
		return;
	unbucket(st, s);
	bucket(st, s, at);
}

int sesstrack_add(struct sesstrack *st, int64_t id, int32_t timeout_ms, int64_t now_ms)
{
	struct sess *s;
	size_t h;

	s = find(st, id);
	if (!s) {
		if (st->count >= st->nhash && grow(st))
			return -ENOMEM;
		s = calloc(1, sizeof(*s));
		if (!s)
			return -ENOMEM;
		s->id = id;
		h = hash_of(id, st->nhash);
		s->hnext = st->hash[h];
		st->hash[h] = s;
		st->count++;
	}
	/* The ring only spans max_timeout; a longer one is capped there. */
	if ((int64_t)timeout_ms > (int64_t)(st->nring - 2) * st->tick)
		timeout_ms = (int32_t)((st->nring - 2) * (size_t)st->tick);
	s->timeout_ms = timeout_ms;
	unbucket(st, s);
	schedule(st, s, now_ms);
	if (id >= st->next_id && (uint64_t)id >> 56 == (uint64_t)st->server_id)
		st->next_id = id + 1;
	return 0;
}

int sesstrack_touch(struct sesstrack *st, int64_t id, int64_t now_ms)
{
	struct sess *s = find(st, id);

	if (!s || !s->expire_at)
		return -ENOENT;
	schedule(st, s, now_ms);
	return 0;
}

void sesstrack_touch_all(struct sesstrack *st, int64_t now_ms)
{
	for (size_t i = 0; i < st->nhash; i++)
		for (struct sess *s = st->hash[i]; s; s = s->hnext)
			if (s->expire_at)
				schedule(st, s, now_ms);
}

int sesstrack_set_closing(struct sesstrack *st, int64_t id)
{
	struct sess *s = find(st, id);

	if (!s || !s->expire_at)
		return -ENOENT;
	unbucket(st, s);
	return 0;
}

void sesstrack_remove(struct sesstrack *st, int64_t id)
{
	struct sess **pp, *s;

	for (pp = &st->hash[hash_of(id, st->nhash)]; (s = *pp); pp = &s->hnext) {
		if (s->id != id)
			continue;
		unbucket(st, s);
		*pp = s->hnext;
		free(s);
		st->count--;
		return;
	}
}

size_t sesstrack_count(const struct sesstrack *st)
{
	return st->count;
}

void sesstrack_foreach(const struct sesstrack *st,
		       void (*fn)(void *arg, int64_t id, int64_t expire_ms), void *arg)
{
	for (size_t i = 0; i < st->nhash; i++)
		for (const struct sess *s = st->hash[i]; s; s = s->hnext)
			if (s->expire_at)
				fn(arg, s->id, s->expire_at);
}

size_t sesstrack_expire(struct sesstrack *st, int64_t now_ms, int64_t *ids, size_t max)
{
	struct sess *s, *n;
	size_t got = 0, b;

	if (!st->next_expiry)
		return 0;
	while (st->next_expiry <= now_ms && got < max) {
		b = (size_t)(st->next_expiry / st->tick) % st->nring;
		for (s = st->ring[b]; s && got < max; s = n) {
			n = s->next;
			if (s->expire_at != st->next_expiry)
				continue;
			unbucket(st, s);
			ids[got++] = s->id;
		}
		if (got == max)
			break;
		st->next_expiry += st->tick;
	}
	return got;
}

void sesstrack_password(const struct sesstrack *st, int64_t id, uint8_t pw[16])
{
	uint8_t msg[8], mac[EVP_MAX_MD_SIZE];
	unsigned int len = 0;
	int i;

	for (i = 7; i >= 0; i--) {
		msg[i] = (uint8_t)id;
		id = (int64_t)((uint64_t)id >> 8);
	}
	if (!HMAC(EVP_sha256(), st->secret, SESSION_SECRET_LEN, msg, sizeof(msg), mac,
		  &len) ||
	    len < 16) {
		/* Only on a broken libcrypto; an all-zero password would be
		 * guessable, so refuse to go on. */
		abort();
	}
	memcpy(pw, mac, 16);
}
