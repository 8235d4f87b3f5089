/* test_quorum.c - majority, weighted and hierarchical quorum systems. */
#include <errno.h>

#include "quorum.h"
#include "tap.h"

static uint64_t bits(const struct quorum *q, const uint32_t *ids, unsigned n)
{
	uint64_t s = 0;
	unsigned i;

	for (i = 0; i < n; i++)
		s |= 1ull << quorum_slot(q, ids[i]);
	return s;
}

static void test_majority(void)
{
	struct cons_member m[6] = {{1}, {2}, {3}, {4}, {5}, {6, 1}};
	struct quorum q;
	uint32_t a[] = {1, 2}, b[] = {1, 2, 3}, c[] = {1, 2, 6};

	TAP_EQ(quorum_init(&q, QUORUM_MAJORITY, m, 6), 0);
	TAP_EQ(quorum_contains(&q, bits(&q, a, 2)), 0);
	TAP_EQ(quorum_contains(&q, bits(&q, b, 3)), 1);
	/* The observer never counts. */
	TAP_EQ(quorum_contains(&q, bits(&q, c, 3)), 0);
	TAP_EQ(quorum_slot(&q, 9), -1);
}

static void test_weighted(void)
{
	struct cons_member m[3] = {{1, 0, 0, 3}, {2, 0, 0, 1}, {3, 0, 0, 1}};
	struct quorum q;
	uint32_t a[] = {1}, b[] = {2, 3}, c[] = {1, 2};

	TAP_EQ(quorum_init(&q, QUORUM_WEIGHTED, m, 3), 0);
	/* 3 of 5 is a quorum alone; 2 of 5 is not. */
	TAP_EQ(quorum_contains(&q, bits(&q, a, 1)), 1);
	TAP_EQ(quorum_contains(&q, bits(&q, b, 2)), 0);
	TAP_EQ(quorum_contains(&q, bits(&q, c, 2)), 1);
}

static void test_hierarchical(void)
{
	/* ZooKeeper's example: 3 groups of 3, weight 1 each. */
	struct cons_member m[9];
	struct quorum q;
	uint32_t two_groups[] = {1, 2, 4, 5}, one_group[] = {1, 2, 3},
		 spread[] = {1, 4, 7};
	unsigned i;

	for (i = 0; i < 9; i++)
		m[i] = (struct cons_member){.id = i + 1, .weight = 1};
	TAP_EQ(quorum_parse_group(m, 9, 1, "1:2:3"), 0);
	TAP_EQ(quorum_parse_group(m, 9, 2, "4:5:6"), 0);
	TAP_EQ(quorum_parse_group(m, 9, 3, "7:8:9"), 0);
	TAP_EQ(quorum_init(&q, QUORUM_HIERARCHICAL, m, 9), 0);
	TAP_EQ(quorum_contains(&q, bits(&q, two_groups, 4)), 1);
	TAP_EQ(quorum_contains(&q, bits(&q, one_group, 3)), 0);
	TAP_EQ(quorum_contains(&q, bits(&q, spread, 3)), 0);
	/* Bad group lines. */
	TAP_EQ(quorum_parse_group(m, 9, 4, "1:x"), -EINVAL);
	TAP_EQ(quorum_parse_group(m, 9, 4, "10"), -EINVAL);
	TAP_EQ(quorum_parse_group(m, 9, 4, "1"), -EINVAL); /* already in group 1 */
}

/* Any two quorums intersect, for every system, over every pair of sets. */
static void test_intersection(void)
{
	struct cons_member m[5];
	enum quorum_kind kinds[] = {QUORUM_MAJORITY, QUORUM_WEIGHTED,
				    QUORUM_HIERARCHICAL};
	struct quorum q;
	unsigned k, i;
	uint64_t a, b;

	for (i = 0; i < 5; i++)
		m[i] = (struct cons_member){
		    .id = i + 1, .weight = i % 3 + 1, .group = i % 2 + 1};
	for (k = 0; k < 3; k++) {
		TAP_EQ(quorum_init(&q, kinds[k], m, 5), 0);
		for (a = 0; a < 32; a++)
			for (b = 0; b < 32; b++)
				if (quorum_contains(&q, a) && quorum_contains(&q, b))
					TAP_ASSERT(a & b);
	}
}

static void test_bad(void)
{
	struct cons_member dup[2] = {{1}, {1}}, obs[1] = {{1, 1}},
			   nogroup[2] = {{1}, {2}};
	struct quorum q;

	TAP_EQ(quorum_init(&q, QUORUM_MAJORITY, dup, 2), -EINVAL);
	TAP_EQ(quorum_init(&q, QUORUM_MAJORITY, obs, 1), -EINVAL);
	TAP_EQ(quorum_init(&q, QUORUM_HIERARCHICAL, nogroup, 2), -EINVAL);
}

static const struct tap_case cases[] = {
    {"quorum majority counts participants only", test_majority},
    {"quorum weighted sums weights", test_weighted},
    {"quorum hierarchical needs a majority of groups", test_hierarchical},
    {"quorum every two quorums intersect", test_intersection},
    {"quorum refuses bad memberships", test_bad},
};

TAP_MAIN(cases)
