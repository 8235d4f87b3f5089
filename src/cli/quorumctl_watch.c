/*
 * quorumctl_watch.c - `watch [-r] [-n COUNT] PATH`: a persistent watch
 * (addWatch, ZooKeeper 3.6+) on PATH, or on its whole subtree with -r, whose
 * events are printed one a line ("TYPE PATH") until interrupted or COUNT
 * events were seen. Output is flushed per event so pipes see it at once.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include <event2/event.h>

#include "quorumctl.h"
#include "txn.h"
#include "zerr.h"

static const char *event_name(int32_t type)
{
	switch (type) {
	case JUTE_EVENT_CREATED:
		return "NodeCreated";
	case JUTE_EVENT_DELETED:
		return "NodeDeleted";
	case JUTE_EVENT_DATA_CHANGED:
		return "NodeDataChanged";
	case JUTE_EVENT_CHILD_CHANGED:
		return "NodeChildrenChanged";
	case JUTE_EVENT_DATA_WATCH_REMOVED:
		return "DataWatchRemoved";
	case JUTE_EVENT_CHILD_WATCH_REMOVED:
		return "ChildWatchRemoved";
	case JUTE_EVENT_PERSISTENT_WATCH_REMOVED:
		return "PersistentWatchRemoved";
	}
	return "None";
}

static void print_event(struct ctl *x, const struct jute_watcher_event *ev)
{
	if (ev->type == JUTE_EVENT_NONE)
		return;
	printf("%s %s\n", event_name(ev->type), ev->path ? ev->path : "");
	fflush(stdout);
	x->events++;
}

int ctl_cmd_watch(struct ctl *x, int argc, char **argv)
{
	struct jute_add_watch_request q = {0};
	int64_t count = 0;
	int opt, err, rc = CTL_EXIT_OK;

	q.mode = JUTE_ADD_WATCH_PERSISTENT;
	while ((opt = getopt(argc, argv, "rn:")) != -1) {
		switch (opt) {
		case 'r':
			q.mode = JUTE_ADD_WATCH_PERSISTENT_RECURSIVE;
			break;
		case 'n':
			if (ctl_parse_int("-n", optarg, 1, INT64_MAX, &count))
				return CTL_EXIT_USAGE;
			break;
		default:
			return CTL_EXIT_USAGE;
		}
	}
	if (argc - optind != 1) {
		fprintf(stderr, "quorumctl watch: expected one PATH\n");
		return CTL_EXIT_USAGE;
	}
	q.path = argv[optind];
	x->on_watch = print_event;
	err = ctl_call(x, ZOP_ADDWATCH, &q, NULL, NULL);
	if (err)
		return ctl_zk_fail(x, q.path, err);
	rc = ctl_signals_on(x);
	if (rc)
		return rc;
	/* Tell a script the watch is in place before it makes changes. */
	fprintf(stderr, "quorumctl: watching %s\n", q.path);
	while (!x->interrupted && !x->lost && (!count || x->events < count))
		event_base_loop(x->base, EVLOOP_ONCE);
	if (x->lost) {
		fprintf(stderr, "quorumctl: watch %s: %s\n", q.path, zkc_error(x->zk));
		rc = CTL_EXIT_CONNECT;
	}
	ctl_signals_off(x);
	return rc;
}
