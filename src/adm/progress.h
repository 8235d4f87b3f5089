/*
 * progress.h - progress of a long command on a terminal: "what: N nodes,
 * R/s, S s" redrawn on stderr at most 5 times a second, and a final line.
 * Silent unless stderr is a terminal (scripts see nothing), or when
 * QUORUMADM_PROGRESS=1 forces it (for tests).
 */
#ifndef QFS_ADM_PROGRESS_H
#define QFS_ADM_PROGRESS_H

#include <stdint.h>

struct progress {
	const char *what;
	const char *unit;
	int on;
	uint64_t total; /* 0: unknown */
	double start, last;
	int drawn;
};

void progress_begin(struct progress *p, const char *what, const char *unit,
		    uint64_t total);
void progress_update(struct progress *p, uint64_t done);
void progress_end(struct progress *p, uint64_t done);
/* An adapter for zkdb.progress. */
void progress_cb(void *arg, uint64_t done);

#endif
