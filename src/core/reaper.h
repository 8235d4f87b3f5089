/*
 * reaper.h - deleting what ZooKeeper's ContainerManager deletes: containers
 * that had children and have none left, and TTL nodes without children
 * whose ttl has run out since their last change. Every container_check_ms
 * the candidates (tree_reap_candidates: a list the tree keeps, not a scan)
 * are deleted with ZOP_DELETECONTAINER transactions through the ordinary
 * pipeline, so their events reach subscribers like any change.
 *
 * A round starts only when the previous round's deletes have all come
 * back, so a node is never submitted twice. Loop thread only.
 */
#ifndef QFS_REAPER_H
#define QFS_REAPER_H

struct qcore;

/* Arm the timer (core_int.h has the declaration too). 0 or -ENOMEM. */
int reaper_start(struct qcore *c);

/* Run one round now (tests). Returns the number of deletes submitted. */
int reaper_run(struct qcore *c);

#endif
