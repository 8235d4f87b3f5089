/*
 * test_zks_latency.c - the latency summaries behind mntr's zk_p99_* and
 * /metrics' readlatency/updatelatency: quantiles within the buckets' 1/32,
 * count, sum, min and max, the ten-minute window sliding in its five steps,
 * and reset (srst).
 */
#include <stdint.h>

#include "tap.h"
#include "zks_int.h"

static struct zks_lat L; /* 23 KiB: not on the stack */

/* |got - want| within 1/32 of want, plus one microsecond. */
static int near(int64_t got, int64_t want)
{
	int64_t d = got > want ? got - want : want - got;

	return d <= want / 32 + 1;
}

static void quantiles_of_a_uniform_spread(void)
{
	static const double q[] = {0.5, 0.9, 0.99, 0.999};
	int64_t v[4];

	zks_lat_reset(&L, 1000);
	for (int64_t us = 1; us <= 100000; us++)
		zks_lat_add(&L, us, 1000);
	zks_lat_quantiles(&L, 1000, q, 4, v);
	TAP_ASSERT(near(v[0], 50000));
	TAP_ASSERT(near(v[1], 90000));
	TAP_ASSERT(near(v[2], 99000));
	TAP_ASSERT(near(v[3], 99900));
	TAP_EQ(L.count, 100000);
	TAP_EQ(L.sum_us, 100000LL * 100001 / 2);
	TAP_EQ(L.min_us, 1);
	TAP_EQ(L.max_us, 100000);
}

static void small_values_are_exact_and_ranks_round_up(void)
{
	static const double q[] = {0.5, 0.99};
	int64_t v[2];

	zks_lat_reset(&L, 0);
	zks_lat_add(&L, 3, 0);
	zks_lat_add(&L, 7, 0);
	zks_lat_add(&L, 40, 0);
	zks_lat_quantiles(&L, 0, q, 2, v);
	TAP_EQ(v[0], 7);  /* rank ceil(1.5) = 2 */
	TAP_EQ(v[1], 40); /* rank ceil(2.97) = 3 */
}

static void empty_and_hostile_values(void)
{
	static const double q[] = {0.5};
	int64_t v[1] = {-1};

	zks_lat_reset(&L, 0);
	zks_lat_quantiles(&L, 0, q, 1, v);
	TAP_EQ(v[0], 0);
	TAP_EQ(L.min_us, -1);
	/* A clock step backwards, and a huge value: counted, capped. */
	zks_lat_add(&L, -5, 0);
	zks_lat_add(&L, INT64_MAX, 0);
	zks_lat_quantiles(&L, 0, q, 1, v);
	TAP_EQ(v[0], 0);
	TAP_EQ(L.count, 2);
	TAP_EQ(L.min_us, 0);
	TAP_EQ(L.max_us, INT64_MAX);
}

static void the_window_slides(void)
{
	static const double q[] = {0.5};
	int64_t v[1];
	int64_t step = ZKS_LAT_WINDOW_MS / ZKS_LAT_AGES;

	zks_lat_reset(&L, 0);
	for (int i = 0; i < 100; i++)
		zks_lat_add(&L, 10000, 0); /* slow, at the start */
	zks_lat_quantiles(&L, ZKS_LAT_WINDOW_MS - 1, q, 1, v);
	TAP_ASSERT(near(v[0], 10000)); /* still in the window */
	for (int i = 0; i < 10; i++)
		zks_lat_add(&L, 100, 3 * step); /* fast, later */
	zks_lat_quantiles(&L, 3 * step, q, 1, v);
	TAP_ASSERT(near(v[0], 10000));
	/* The first step leaves the window: only the fast ones remain. */
	zks_lat_quantiles(&L, ZKS_LAT_WINDOW_MS, q, 1, v);
	TAP_ASSERT(near(v[0], 100));
	/* Long idle: nothing left, but the totals stay. */
	zks_lat_quantiles(&L, 10 * ZKS_LAT_WINDOW_MS, q, 1, v);
	TAP_EQ(v[0], 0);
	zks_lat_add(&L, 500, 10 * ZKS_LAT_WINDOW_MS);
	zks_lat_quantiles(&L, 10 * ZKS_LAT_WINDOW_MS, q, 1, v);
	TAP_ASSERT(near(v[0], 500));
	TAP_EQ(L.count, 111);
}

static void reset_forgets(void)
{
	static const double q[] = {0.5};
	int64_t v[1];

	zks_lat_reset(&L, 0);
	zks_lat_add(&L, 1234, 0);
	zks_lat_reset(&L, 5);
	zks_lat_quantiles(&L, 5, q, 1, v);
	TAP_EQ(v[0], 0);
	TAP_EQ(L.count, 0);
	TAP_EQ(L.sum_us, 0);
	TAP_EQ(L.max_us, 0);
}

static const struct tap_case cases[] = {
	{"quantiles_of_a_uniform_spread", quantiles_of_a_uniform_spread},
	{"small_values_are_exact_and_ranks_round_up", small_values_are_exact_and_ranks_round_up},
	{"empty_and_hostile_values", empty_and_hostile_values},
	{"the_window_slides", the_window_slides},
	{"reset_forgets", reset_forgets},
};
TAP_MAIN(cases)
