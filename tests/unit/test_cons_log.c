/*
 * test_cons_log.c - the engine's in-memory log (consensus/cons_log.c) and
 * where its entry bytes live: segments from the host's seg_map, emptied
 * ones reused rather than mapped again (so the daemon's log writes fault
 * no fresh or copy-on-write pages), oversized ones given back, and every
 * mapped byte returned at cons_log_free. Entry bytes stay intact across
 * compaction, truncation and reuse.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cons_int.h"
#include "tap.h"

static long maps, unmaps;
static size_t mapped; /* bytes currently mapped */

static void *count_map(size_t len)
{
	void *p = malloc(len);

	if (p) {
		maps++;
		mapped += len;
		/* What a fresh mapping would not hold: reuse must not rely
		 * on it. */
		memset(p, 0xa5, len);
	}
	return p;
}

static void count_unmap(void *p, size_t len)
{
	unmaps++;
	mapped -= len;
	free(p);
}

static void new_log(struct cons_log *l)
{
	memset(l, 0, sizeof(*l));
	l->seg_map = count_map;
	l->seg_unmap = count_unmap;
	maps = unmaps = 0;
	mapped = 0;
}

/* Entry z's bytes: len derived from z, each byte from z and its index. */
static uint32_t entry_len(zxid_t z)
{
	return 100 + (uint32_t)(z % 900);
}

static void entry_fill(uint8_t *b, zxid_t z)
{
	for (uint32_t i = 0; i < entry_len(z); i++)
		b[i] = (uint8_t)(z * 131 + i);
}

static int append_range(struct cons_log *l, zxid_t from, zxid_t to)
{
	uint8_t b[1000];

	for (zxid_t z = from; z <= to; z++) {
		entry_fill(b, z);
		if (cons_log_append(l, z, CONS_ENTRY_TXN, b, entry_len(z)) < 0)
			return -1;
	}
	return 0;
}

/* Every entry from..to present with its own bytes. */
static int check_range(const struct cons_log *l, zxid_t from, zxid_t to)
{
	uint8_t b[1000];

	for (zxid_t z = from; z <= to; z++) {
		long i = cons_log_find(l, z);

		if (i < 0 || l->e[i].len != entry_len(z))
			return -1;
		entry_fill(b, z);
		if (memcmp(l->e[i].data, b, entry_len(z)) != 0)
			return -1;
	}
	return 0;
}

/* A queue's life: append, compact behind, append again. Once the log has
 * reached its size, the segments compaction empties carry the new entries
 * and nothing more is mapped. */
static void test_reuse_after_compaction(void)
{
	struct cons_log l;
	long steady;

	new_log(&l);
	/* ~550 bytes an entry: 20000 entries fill some 40 segments. */
	TAP_EQ(append_range(&l, 1, 20000), 0);
	TAP_ASSERT(maps >= 30);
	TAP_EQ(unmaps, 0);
	for (zxid_t z = 20000; z < 100000; z += 20000) {
		cons_log_compact(&l, z);
		TAP_EQ(append_range(&l, z + 1, z + 20000), 0);
		TAP_EQ(check_range(&l, z + 1, z + 20000), 0);
		TAP_ASSERT(!cons_log_has(&l, z - 1) || z - 1 <= l.base);
	}
	steady = maps;
	for (zxid_t z = 100000; z < 200000; z += 20000) {
		cons_log_compact(&l, z);
		TAP_EQ(append_range(&l, z + 1, z + 20000), 0);
		TAP_EQ(check_range(&l, z + 1, z + 20000), 0);
	}
	/* At most the segment a compaction leaves partly live each round. */
	TAP_ASSERT(maps - steady <= 5);
	TAP_EQ(unmaps, 0);
	cons_log_free(&l);
	TAP_EQ(maps, unmaps);
	TAP_EQ(mapped, 0);
}

/* A truncated tail's segments are reused too; an entry larger than a
 * segment gets one of its own size, given back when released. */
static void test_truncate_and_oversize(void)
{
	static uint8_t big[600 * 1024];
	struct cons_log l;
	long before;

	new_log(&l);
	TAP_EQ(append_range(&l, 1, 5000), 0);
	cons_log_truncate(&l, (size_t)cons_log_after(&l, 1000));
	TAP_EQ(check_range(&l, 1, 1000), 0);
	TAP_ASSERT(!cons_log_has(&l, 1001));
	before = maps;
	TAP_EQ(append_range(&l, 1001, 5000), 0);
	TAP_EQ(maps, before); /* the truncated segments, reused */
	TAP_EQ(check_range(&l, 1, 5000), 0);

	memset(big, 7, sizeof(big));
	TAP_EQ(cons_log_append(&l, 5001, CONS_ENTRY_TXN, big, sizeof(big)), 0);
	TAP_EQ(append_range(&l, 5002, 5100), 0);
	before = unmaps;
	cons_log_compact(&l, 5050);
	TAP_ASSERT(unmaps > before); /* the oversized segment went back */
	TAP_EQ(check_range(&l, 5051, 5100), 0);
	cons_log_reset(&l, 6000);
	TAP_EQ(l.n, 0);
	TAP_EQ(append_range(&l, 6001, 6100), 0);
	TAP_EQ(check_range(&l, 6001, 6100), 0);
	cons_log_free(&l);
	TAP_EQ(maps, unmaps);
	TAP_EQ(mapped, 0);
}

static const struct tap_case cases[] = {
    {"reuse_after_compaction", test_reuse_after_compaction},
    {"truncate_and_oversize", test_truncate_and_oversize},
};

TAP_MAIN(cases)
