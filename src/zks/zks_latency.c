/*
 * zks_latency.c - a latency summary, as ZooKeeper keeps one for reads and
 * one for updates (readlatency, updatelatency): count, sum, min and max
 * since the start (or srst), and quantiles over the last ten minutes.
 *
 * Why a window: a p99 since the start says nothing about the last incident
 * once a server has run for a week. Prometheus's client summaries, which
 * ZooKeeper's PrometheusMetricsProvider uses, answer over a sliding window
 * of ten minutes in five steps; so does this, so that a dashboard shows the
 * same thing for both.
 *
 * Values go into log-linear buckets: exact below 64 us, then 32 buckets
 * per power of two, so a quantile is within 1/32 (3%) of the true value,
 * and adding one costs a few instructions and no allocation. The loop
 * thread alone uses a summary.
 */
#include <string.h>

#include "zks_int.h"

#define LAT_LINEAR 64			    /* exact below this many us */
#define LAT_SUB	   32			    /* buckets per power of two above */
#define LAT_TOP	   40			    /* values are capped below 2^40 us */
#define LAT_STEP_MS (ZKS_LAT_WINDOW_MS / ZKS_LAT_AGES)

_Static_assert(ZKS_LAT_BUCKETS == LAT_LINEAR + (LAT_TOP - 6) * LAT_SUB,
	       "ZKS_LAT_BUCKETS must cover [0, 2^40) us");

static unsigned bucket_of(uint64_t us)
{
	unsigned e;

	if (us < LAT_LINEAR)
		return (unsigned)us;
	if (us >= (1ull << LAT_TOP))
		us = (1ull << LAT_TOP) - 1;
	e = 63u - (unsigned)__builtin_clzll(us); /* 6 .. LAT_TOP - 1 */
	return LAT_LINEAR + (e - 6) * LAT_SUB + (unsigned)((us >> (e - 5)) - LAT_SUB);
}

/* The middle of bucket i, in us. */
static uint64_t bucket_value(unsigned i)
{
	unsigned e, m;
	uint64_t lo;

	if (i < LAT_LINEAR)
		return i;
	e = (i - LAT_LINEAR) / LAT_SUB + 6;
	m = (i - LAT_LINEAR) % LAT_SUB + LAT_SUB;
	lo = (uint64_t)m << (e - 5);
	return lo + ((1ull << (e - 5)) >> 1);
}

void zks_lat_reset(struct zks_lat *l, int64_t now_ms)
{
	memset(l, 0, sizeof(*l));
	l->min_us = -1;
	l->step_start_ms = now_ms;
}

/* Moves the window to now: steps that fell out of it are emptied. */
static void advance(struct zks_lat *l, int64_t now_ms)
{
	int64_t steps = (now_ms - l->step_start_ms) / LAT_STEP_MS;

	if (steps <= 0)
		return;
	if (steps >= ZKS_LAT_AGES) {
		memset(l->hist, 0, sizeof(l->hist));
		l->cur = 0;
	} else {
		for (int64_t i = 0; i < steps; i++) {
			l->cur = (l->cur + 1) % ZKS_LAT_AGES;
			memset(l->hist[l->cur], 0, sizeof(l->hist[l->cur]));
		}
	}
	l->step_start_ms += steps * LAT_STEP_MS;
}

void zks_lat_add(struct zks_lat *l, int64_t us, int64_t now_ms)
{
	if (us < 0)
		us = 0;
	advance(l, now_ms);
	l->hist[l->cur][bucket_of((uint64_t)us)]++;
	l->count++;
	l->sum_us += (uint64_t)us;
	if (l->min_us < 0 || us < l->min_us)
		l->min_us = us;
	if (us > l->max_us)
		l->max_us = us;
}

void zks_lat_quantiles(const struct zks_lat *l, int64_t now_ms, const double *q, size_t n,
		       int64_t *out_us)
{
	int64_t steps = (now_ms - l->step_start_ms) / LAT_STEP_MS;
	int live[ZKS_LAT_AGES];
	uint64_t total = 0, seen = 0;
	size_t k = 0;

	/* As advance() would leave it, without changing it (mntr and
	 * /metrics read a const server): a step d steps older than the
	 * current one is still in the window while d + steps < AGES. */
	if (steps < 0)
		steps = 0;
	for (unsigned a = 0; a < ZKS_LAT_AGES; a++) {
		unsigned d = (l->cur + ZKS_LAT_AGES - a) % ZKS_LAT_AGES;
		live[a] = (int64_t)d + steps < ZKS_LAT_AGES;
		if (live[a])
			for (unsigned i = 0; i < ZKS_LAT_BUCKETS; i++)
				total += l->hist[a][i];
	}
	for (size_t j = 0; j < n; j++)
		out_us[j] = 0;
	if (total == 0)
		return;
	/* q ascends: one walk answers them all. The rank of q is the
	 * ceiling of q * total, at least 1. */
	for (unsigned i = 0; i < ZKS_LAT_BUCKETS && k < n; i++) {
		for (unsigned a = 0; a < ZKS_LAT_AGES; a++)
			if (live[a])
				seen += l->hist[a][i];
		while (k < n) {
			double want = q[k] * (double)total;
			uint64_t rank = (uint64_t)want;

			if ((double)rank < want)
				rank++;
			if (rank == 0)
				rank = 1;
			if (seen < rank)
				break;
			out_us[k++] = (int64_t)bucket_value(i);
		}
	}
}
