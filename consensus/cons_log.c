/*
 * cons_log.c - the in-memory log, addressed by zxid. Entries are kept in
 * one array in strictly increasing zxid order above the snapshot's zxid
 * (base), so a lookup is a binary search.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cons_int.h"

void cons_log_free(struct cons_log *l)
{
	cons_log_truncate(l, 0);
	free(l->e);
	l->e = NULL;
	l->cap = 0;
}

int cons_log_append(struct cons_log *l, zxid_t zxid, uint8_t type, const uint8_t *data,
		    uint32_t len)
{
	struct cons_entry *e;
	uint8_t *copy = NULL;

	CONS_INVARIANT(zxid > cons_log_last(l));
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 256;
		struct cons_entry *ne = realloc(l->e, cap * sizeof(*ne));

		if (!ne)
			return -ENOMEM;
		l->e = ne;
		l->cap = cap;
	}
	if (len) {
		copy = malloc(len);
		if (!copy)
			return -ENOMEM;
		memcpy(copy, data, len);
	}
	e = &l->e[l->n++];
	e->zxid = zxid;
	e->type = type;
	e->len = len;
	e->data = copy;
	return 0;
}

zxid_t cons_log_last(const struct cons_log *l)
{
	return l->n ? l->e[l->n - 1].zxid : l->base;
}

size_t cons_log_after(const struct cons_log *l, zxid_t zxid)
{
	size_t lo = 0, hi = l->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (l->e[mid].zxid <= zxid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

long cons_log_find(const struct cons_log *l, zxid_t zxid)
{
	size_t i = cons_log_after(l, zxid);

	if (i == 0 || l->e[i - 1].zxid != zxid)
		return -1;
	return (long)(i - 1);
}

int cons_log_has(const struct cons_log *l, zxid_t zxid)
{
	return zxid <= l->base || cons_log_find(l, zxid) >= 0;
}

zxid_t cons_log_floor(const struct cons_log *l, zxid_t zxid)
{
	size_t i = cons_log_after(l, zxid);

	return i ? l->e[i - 1].zxid : l->base;
}

void cons_log_truncate(struct cons_log *l, size_t pos)
{
	size_t i;

	for (i = pos; i < l->n; i++)
		free((void *)l->e[i].data);
	if (pos < l->n)
		l->n = pos;
}

void cons_log_compact(struct cons_log *l, zxid_t zxid)
{
	size_t k = cons_log_after(l, zxid), i;

	if (zxid <= l->base)
		return;
	for (i = 0; i < k; i++)
		free((void *)l->e[i].data);
	if (k) {
		memmove(l->e, l->e + k, (l->n - k) * sizeof(*l->e));
		l->n -= k;
	}
	l->base = zxid;
}

void cons_log_reset(struct cons_log *l, zxid_t base)
{
	cons_log_truncate(l, 0);
	l->base = base;
}
