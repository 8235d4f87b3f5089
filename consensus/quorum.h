/*
 * quorum.h - quorum systems behind one interface: is this set of voters a
 * quorum?
 *
 *   majority      more than half of the participants (ZooKeeper's
 *                 QuorumMaj).
 *   weighted      the weights (weight.N) of the set sum to more than half
 *                 of the total weight. Members of weight 0 never count.
 *   hierarchical  ZooKeeper's QuorumHierarchical (group.X=a:b:c, weight.N):
 *                 a set is a quorum when, in more than half of the groups
 *                 that carry weight, it holds more than half of the group's
 *                 weight.
 *
 * Any two quorums of one system intersect, which is all the protocol needs.
 * Sets are bitmasks over member slots 0..63 in the order given at init.
 */
#ifndef QFS_QUORUM_H
#define QFS_QUORUM_H

#include <stdint.h>

#include "cons.h"

struct quorum {
	enum quorum_kind kind;
	unsigned n;	 /* member slots */
	uint64_t voters; /* slots that may count */
	uint32_t id[CONS_MAX_MEMBERS];
	uint32_t weight[CONS_MAX_MEMBERS];
	uint32_t group[CONS_MAX_MEMBERS]; /* group index per slot */
	unsigned n_groups;
	uint64_t group_total[CONS_MAX_MEMBERS]; /* weight per group */
	uint64_t total;				/* weighted: total weight */
	int (*contains)(const struct quorum *q, uint64_t set);
};

/*
 * Build the system for members (observers never count). For majority the
 * weights and groups are ignored; weights of participants default to 1 when
 * all are 0. Returns 0 or -EINVAL (too many members, no voter, duplicate id,
 * hierarchical with a participant in no group).
 */
int quorum_init(struct quorum *q, enum quorum_kind kind,
		const struct cons_member *members, unsigned n);
/* The slot of server id, or -1. */
int quorum_slot(const struct quorum *q, uint32_t id);
/* 1 if set (a bitmask of slots) contains a quorum, else 0. */
static inline int quorum_contains(const struct quorum *q, uint64_t set)
{
	return q->contains(q, set & q->voters);
}

/*
 * Parse ZooKeeper's "group.X=a:b:c" value: the ids a, b, c join group gid
 * in members (matched by id). Returns 0 or -EINVAL.
 */
int quorum_parse_group(struct cons_member *members, unsigned n, uint32_t gid,
		       const char *value);

#endif
