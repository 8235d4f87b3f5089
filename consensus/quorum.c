/*
 * quorum.c - majority, weighted and hierarchical quorum systems; see
 * quorum.h for the rules (ZooKeeper's QuorumMaj and QuorumHierarchical).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "quorum.h"

static int contains_majority(const struct quorum *q, uint64_t set)
{
	return 2 * __builtin_popcountll(set) > __builtin_popcountll(q->voters);
}

static int contains_weighted(const struct quorum *q, uint64_t set)
{
	uint64_t w = 0;
	unsigned i;

	for (i = 0; i < q->n; i++)
		if (set >> i & 1)
			w += q->weight[i];
	return 2 * w > q->total;
}

static int contains_hierarchical(const struct quorum *q, uint64_t set)
{
	uint64_t w[CONS_MAX_MEMBERS] = {0};
	unsigned i, won = 0, groups = 0;

	for (i = 0; i < q->n; i++)
		if (set >> i & 1)
			w[q->group[i]] += q->weight[i];
	for (i = 0; i < q->n_groups; i++) {
		if (!q->group_total[i])
			continue;
		groups++;
		if (2 * w[i] > q->group_total[i])
			won++;
	}
	return 2 * won > groups;
}

int quorum_init(struct quorum *q, enum quorum_kind kind, const struct cons_member *m,
		unsigned n)
{
	uint32_t gid[CONS_MAX_MEMBERS];
	unsigned i, j, any_weight = 0;

	memset(q, 0, sizeof(*q));
	if (n == 0 || n > CONS_MAX_MEMBERS)
		return -EINVAL;
	q->kind = kind;
	q->n = n;
	for (i = 0; i < n; i++) {
		if (m[i].id == 0)
			return -EINVAL;
		for (j = 0; j < i; j++)
			if (m[j].id == m[i].id)
				return -EINVAL;
		q->id[i] = m[i].id;
		if (!m[i].observer)
			any_weight |= m[i].weight != 0;
	}
	for (i = 0; i < n; i++) {
		if (m[i].observer)
			continue;
		q->weight[i] = kind == QUORUM_MAJORITY ? 1 : any_weight ? m[i].weight : 1;
		if (q->weight[i])
			q->voters |= 1ull << i;
		q->total += q->weight[i];
	}
	if (!q->voters)
		return -EINVAL;
	switch (kind) {
	case QUORUM_MAJORITY:
		q->contains = contains_majority;
		break;
	case QUORUM_WEIGHTED:
		q->contains = contains_weighted;
		break;
	case QUORUM_HIERARCHICAL:
		for (i = 0; i < n; i++) {
			if (m[i].observer)
				continue;
			if (m[i].group == 0)
				return -EINVAL;
			for (j = 0; j < q->n_groups; j++)
				if (gid[j] == m[i].group)
					break;
			if (j == q->n_groups)
				gid[q->n_groups++] = m[i].group;
			q->group[i] = j;
			q->group_total[j] += q->weight[i];
		}
		q->contains = contains_hierarchical;
		break;
	default:
		return -EINVAL;
	}
	return 0;
}

int quorum_slot(const struct quorum *q, uint32_t id)
{
	unsigned i;

	for (i = 0; i < q->n; i++)
		if (q->id[i] == id)
			return (int)i;
	return -1;
}

int quorum_parse_group(struct cons_member *members, unsigned n, uint32_t gid,
		       const char *value)
{
	const char *p = value;
	char *end;
	unsigned long id;
	unsigned i;

	if (!gid || !*p)
		return -EINVAL;
	for (;;) {
		if (*p < '0' || *p > '9')
			return -EINVAL;
		id = strtoul(p, &end, 10);
		if (id == 0 || id > UINT32_MAX)
			return -EINVAL;
		for (i = 0; i < n; i++)
			if (members[i].id == id)
				break;
		if (i == n || (members[i].group && members[i].group != gid))
			return -EINVAL;
		members[i].group = gid;
		if (*end == 0)
			return 0;
		if (*end != ':')
			return -EINVAL;
		p = end + 1;
	}
}
