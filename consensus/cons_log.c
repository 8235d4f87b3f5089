/*
 * cons_log.c - the in-memory log, addressed by zxid. Entries are kept in
 * one array in strictly increasing zxid order above the snapshot's zxid
 * (base), so a lookup is a binary search.
 *
 * Their bytes live in segments, filled in zxid order and freed whole once
 * compaction has passed their newest entry. The log is a queue: appended
 * at one end, compacted at the other, truncated (rarely) at the new end.
 * One malloc per entry made it the heap's worst tenant: a snapshot's
 * compaction freed some 100k small blocks at once and left the allocator
 * sorting fragments for every other allocation of the process (malloc was
 * the largest user-space cost of a member under a stream of writes).
 *
 * Emptied segments of the usual size are kept for reuse, up to SEG_KEEP,
 * and the host may say where segments come from (cons_config.seg_map).
 * Writing entry bytes into memory the process has not written since its
 * last fork costs a page fault per page: a fresh mapping faults on first
 * write, and after a snapshot's fork every page is copy-on-write. Under a
 * stream of writes these were most of a member's page faults (70% of the
 * leader's, perf record -e page-faults), and a fault costs microseconds
 * on a virtual machine. Kept segments are memory the log reached at its
 * peak anyway; they go back at cons_log_free.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cons_int.h"

#define SEG_BYTES (256 * 1024)
#define SEG_KEEP  128 /* 32 MiB: more than a snapCount of entries fills */

struct cons_seg {
	struct cons_seg *next;
	zxid_t first, last; /* the entries whose bytes are here */
	size_t used, cap;
	uint8_t data[];
};

static struct cons_seg *seg_new(struct cons_log *l, size_t cap)
{
	size_t size = sizeof(struct cons_seg) + cap;

	return l->seg_map ? l->seg_map(size) : malloc(size);
}

static void seg_free(struct cons_log *l, struct cons_seg *s)
{
	if (l->seg_unmap)
		l->seg_unmap(s, sizeof(*s) + s->cap);
	else
		free(s);
}

/* A segment whose entries are all gone: kept for reuse or freed. */
static void seg_release(struct cons_log *l, struct cons_seg *s)
{
	if (s->cap == SEG_BYTES && l->n_free < SEG_KEEP) {
		s->next = l->seg_free;
		l->seg_free = s;
		l->n_free++;
		return;
	}
	seg_free(l, s);
}

/* Room for len bytes of entry zxid, at the end of the newest segment or in
 * a new one. NULL when out of memory. */
static uint8_t *seg_alloc(struct cons_log *l, zxid_t zxid, uint32_t len)
{
	size_t need = ((size_t)len + 7) & ~(size_t)7;
	struct cons_seg *s = l->seg_tail;
	uint8_t *p;

	if (!s || s->cap - s->used < need) {
		size_t cap = need > SEG_BYTES ? need : SEG_BYTES;

		if (cap == SEG_BYTES && l->seg_free) {
			s = l->seg_free;
			l->seg_free = s->next;
			l->n_free--;
		} else if (!(s = seg_new(l, cap))) {
			return NULL;
		}
		s->next = NULL;
		s->first = zxid;
		s->used = 0;
		s->cap = cap;
		if (l->seg_tail)
			l->seg_tail->next = s;
		else
			l->seg_head = s;
		l->seg_tail = s;
	}
	p = s->data + s->used;
	s->used += need;
	s->last = zxid;
	return p;
}

/* Entries above `last` are gone: release the segments that hold only them.
 * (Space a truncation frees inside the newest segment is not reused.) */
static void seg_truncate(struct cons_log *l, zxid_t last)
{
	struct cons_seg *s = l->seg_head, *prev = NULL;

	while (s && s->first <= last) {
		prev = s;
		s = s->next;
	}
	if (prev)
		prev->next = NULL;
	else
		l->seg_head = NULL;
	l->seg_tail = prev;
	while (s) {
		struct cons_seg *next = s->next;

		seg_release(l, s);
		s = next;
	}
	if (prev && prev->last > last)
		prev->last = last;
}

/* Entries at or below `upto` are gone: release the segments that hold
 * only them. */
static void seg_compact(struct cons_log *l, zxid_t upto)
{
	struct cons_seg *s;

	while ((s = l->seg_head) && s->last <= upto && s != l->seg_tail) {
		l->seg_head = s->next;
		seg_release(l, s);
	}
	if ((s = l->seg_head) && s == l->seg_tail && s->last <= upto) {
		seg_release(l, s);
		l->seg_head = l->seg_tail = NULL;
	}
}

void cons_log_free(struct cons_log *l)
{
	struct cons_seg *s;

	l->n = 0;
	seg_truncate(l, 0); /* every segment */
	while ((s = l->seg_free)) {
		l->seg_free = s->next;
		seg_free(l, s);
	}
	l->n_free = 0;
	free(l->alloc);
	l->e = l->alloc = NULL;
	l->skip = l->cap = 0;
}

int cons_log_append(struct cons_log *l, zxid_t zxid, uint8_t type, const uint8_t *data,
		    uint32_t len)
{
	struct cons_entry *e;
	uint8_t *copy = NULL;

	CONS_INVARIANT(zxid > cons_log_last(l));
	if (l->skip && l->skip + l->n == l->cap && l->skip >= l->n) {
		/* Half or more of the array lies before e: move down (each
		 * entry moves at most once per doubling, so O(1) amortized). */
		memmove(l->alloc, l->e, l->n * sizeof(*l->e));
		l->e = l->alloc;
		l->skip = 0;
	}
	if (l->skip + l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 256;
		struct cons_entry *ne = realloc(l->alloc, cap * sizeof(*ne));

		if (!ne)
			return -ENOMEM;
		l->alloc = ne;
		l->e = ne + l->skip;
		l->cap = cap;
	}
	if (len) {
		copy = seg_alloc(l, zxid, len);
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
	if (pos >= l->n)
		return;
	l->n = pos;
	/* Nothing left: every segment goes, also one that began at or below
	 * base (its older entries were compacted away). */
	seg_truncate(l, pos ? l->e[pos - 1].zxid : 0);
}

void cons_log_compact(struct cons_log *l, zxid_t zxid)
{
	size_t k = cons_log_after(l, zxid);

	if (zxid <= l->base)
		return;
	seg_compact(l, zxid);
	if (k) {
		/* No move: e steps over them (append moves down later). */
		l->e += k;
		l->skip += k;
		l->n -= k;
	}
	l->base = zxid;
}

void cons_log_reset(struct cons_log *l, zxid_t base)
{
	cons_log_truncate(l, 0);
	l->base = base;
}
