/* progress.c - progress lines on a terminal (progress.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "progress.h"

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void progress_begin(struct progress *p, const char *what, const char *unit,
		    uint64_t total)
{
	const char *force = getenv("QUORUMADM_PROGRESS");

	memset(p, 0, sizeof(*p));
	p->what = what;
	p->unit = unit;
	p->total = total;
	p->on = force ? strcmp(force, "1") == 0 : isatty(STDERR_FILENO);
	p->start = p->last = now_s();
}

static void draw(struct progress *p, uint64_t done, double t, const char *end)
{
	double el = t - p->start, rate = el > 0 ? (double)done / el : 0;

	fprintf(stderr, "\r%s: %llu %s, %.0f/s, %.1f s", p->what,
		(unsigned long long)done, p->unit, rate, el);
	if (p->total && rate > 0 && done < p->total)
		fprintf(stderr, ", %.0f s left", (double)(p->total - done) / rate);
	fputs(end, stderr);
	p->drawn = 1;
}

void progress_update(struct progress *p, uint64_t done)
{
	double t;

	if (!p->on)
		return;
	t = now_s();
	if (t - p->last < 0.2)
		return;
	p->last = t;
	draw(p, done, t, "\033[K");
}

void progress_end(struct progress *p, uint64_t done)
{
	if (p->on)
		draw(p, done, now_s(), "\033[K\n");
}

void progress_cb(void *arg, uint64_t done)
{
	progress_update(arg, done);
}
