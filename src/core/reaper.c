/* reaper.c - container and TTL cleanup through the pipeline; see reaper.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "core_int.h"
#include "log.h"
#include "reaper.h"
#include "zerr.h"

/* Bounds one round's work on the loop; the rest waits for the next tick. */
#define REAP_MAX_PER_ROUND 1024

struct reap_list {
	char *paths[REAP_MAX_PER_ROUND];
	int n;
	int oom;
};

static int collect(void *arg, const struct znode *n)
{
	struct reap_list *l = arg;

	if (tree_is_special_path(n->path))
		return 0;
	l->paths[l->n] = strdup(n->path);
	if (!l->paths[l->n]) {
		l->oom = 1;
		return 1;
	}
	return ++l->n == REAP_MAX_PER_ROUND;
}

static void reaped(void *arg, const struct zresult *res)
{
	struct qcore *c = arg;

	c->reaping--;
	/* NOTEMPTY/NONODE: a client got there first; that is fine. */
	if (res->err != ZOK && res->err != ZNOTEMPTY && res->err != ZNONODE &&
	    res->err != ZBADVERSION && res->err != ZCLOSING)
		log_warnx("reaper: delete failed: %s", zerr_str(res->err));
}

int reaper_run(struct qcore *c)
{
	struct reap_list *l;
	struct zreq req;
	int i, sent = 0;

	if (c->reaping || c->closing)
		return 0;
	l = calloc(1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	tree_reap_candidates(c->tree, core_wall_ms(), collect, l);
	for (i = 0; i < l->n; i++) {
		memset(&req, 0, sizeof(req));
		req.op = ZOP_DELETECONTAINER;
		req.path = l->paths[i];
		req.version = -1;
		log_debug("reaper: deleting %s", l->paths[i]);
		if (core_submit(c, 0, 0, &req, &core_server_auth, reaped, c) == 0) {
			c->reaping++;
			sent++;
		}
		free(l->paths[i]);
	}
	if (l->oom)
		log_warnx("reaper: out of memory; the rest waits for the next round");
	free(l);
	return sent;
}

static void reap_cb(evutil_socket_t fd, short what, void *arg)
{
	reaper_run(arg);
}

int reaper_start(struct qcore *c)
{
	struct timeval tv = {(time_t)(c->o.container_check_ms / 1000),
			     (suseconds_t)(c->o.container_check_ms % 1000) * 1000};

	c->reap_ev = event_new(c->base, -1, EV_PERSIST, reap_cb, c);
	if (!c->reap_ev || event_add(c->reap_ev, &tv) < 0)
		return -ENOMEM;
	return 0;
}
