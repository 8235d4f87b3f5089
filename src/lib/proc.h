/*
 * proc.h - what a child forked by the daemon does first, so that it can
 * never keep the daemon (or its mount) alive after the daemon is gone.
 *
 * The daemon forks helpers (the snapshot writer, the replay helper). A
 * child that kept a copy of /dev/fuse would keep the FUSE connection open
 * after a kill -9 of the daemon, and every request on the mount -- its own
 * included -- would then wait forever for an answer (D state in
 * fuse_flush, an unmountable mount point, a data-directory lock held).
 */
#ifndef QFS_PROC_H
#define QFS_PROC_H

#include <sys/types.h>

/*
 * In a freshly forked child: die with the parent (PR_SET_PDEATHSIG, which
 * fires when the thread that forked exits, so fork from a thread that
 * lives as long as the daemon), exit at once if the parent is already gone
 * (parent is the pid the parent had before the fork -- not 1: a subreaper
 * may adopt the child), put the parent's signal handlers back to their
 * defaults, and close every descriptor but keep (0-2 go to /dev/null),
 * /dev/fuse first, and take the name `name` (at most 15 bytes, what ps and
 * pgrep -x show), so operators and tests can tell the children apart.
 * Exits the child with status 2 if the parent is gone.
 */
void proc_child_detach(pid_t parent, int keep, const char *name);

#endif
