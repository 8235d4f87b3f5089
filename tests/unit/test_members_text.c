/* test_members_text.c - group.X/weight.N in a reconfig's member list and in
 * /zookeeper/config (src/core/members_text.c): parse, check, render. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "members_text.h"
#include "tap.h"

/* n participants 1..n (the last `obs` of them observers), weight 1. */
static void members(struct cons_membership *m, unsigned n, unsigned obs)
{
	memset(m, 0, sizeof(*m));
	m->n = n;
	for (unsigned i = 0; i < n; i++)
		m->m[i] = (struct cons_member){
		    .id = i + 1, .observer = i >= n - obs, .weight = 1};
}

static void test_kinds(void)
{
	TAP_EQ(members_text_kind("server.1=a:1:2"), MT_SERVER);
	TAP_EQ(members_text_kind(" 3=a:1:2"), MT_SERVER);
	TAP_EQ(members_text_kind("group.1=1:2"), MT_GROUP);
	TAP_EQ(members_text_kind("weight.2=0"), MT_WEIGHT);
	TAP_EQ(members_text_kind("version=10000000a"), MT_VERSION);
	TAP_EQ(members_text_kind("tickTime=2"), MT_UNKNOWN);
}

static void test_hierarchical_round_trip(void)
{
	struct cons_membership m, back;
	char why[256], text[1024];
	size_t off = 0;

	members(&m, 7, 1);
	TAP_EQ(members_text_quorum(&m,
				   "server.1=x,group.3=3:4:5:6\ngroup.1=1,group.2=2,"
				   "weight.6=0,version=1",
				   why, sizeof(why)),
	       0);
	TAP_EQ(m.quorum, QUORUM_HIERARCHICAL);
	TAP_EQ(m.m[0].group, 1);
	TAP_EQ(m.m[5].group, 3);
	TAP_EQ(m.m[5].weight, 0);
	TAP_EQ(m.m[6].group, 0); /* the observer */
	TAP_EQ(members_text_render(&m, text, sizeof(text), &off), 0);
	TAP_STREQ(text, "group.1=1\ngroup.2=2\ngroup.3=3:4:5:6\nweight.1=1\nweight.2=1\n"
			"weight.3=1\nweight.4=1\nweight.5=1\nweight.6=0\n");
	TAP_EQ(off, strlen(text));
	/* What is rendered parses back to the same. */
	members(&back, 7, 1);
	TAP_EQ(members_text_quorum(&back, text, why, sizeof(why)), 0);
	TAP_EQ(back.quorum, m.quorum);
	for (unsigned i = 0; i < 7; i++) {
		TAP_EQ(back.m[i].group, m.m[i].group);
		TAP_EQ(back.m[i].weight, m.m[i].weight);
	}
}

static void test_kinds_of_quorum(void)
{
	struct cons_membership m;
	char why[256], text[256];
	size_t off = 0;

	members(&m, 3, 0);
	TAP_EQ(members_text_quorum(&m, "server.1=x,server.2=y", why, sizeof(why)), 0);
	TAP_EQ(m.quorum, QUORUM_MAJORITY);
	TAP_EQ(members_text_render(&m, text, sizeof(text), &off), 0);
	TAP_EQ(off, 0); /* a majority: no lines */
	members(&m, 3, 0);
	TAP_EQ(members_text_quorum(&m, "weight.1=2", why, sizeof(why)), 0);
	TAP_EQ(m.quorum, QUORUM_WEIGHTED);
	TAP_EQ(m.m[0].weight, 2);
	TAP_EQ(members_text_render(&m, text, sizeof(text), &off), 0);
	TAP_STREQ(text, "weight.1=2\nweight.2=1\nweight.3=1\n");
	/* Too small a buffer. */
	off = 0;
	TAP_EQ(members_text_render(&m, text, 8, &off), -ENOSPC);
}

/* list is refused, and why says `says`. */
static void refused(unsigned n, unsigned obs, const char *list, const char *says)
{
	struct cons_membership m;
	char why[256];

	members(&m, n, obs);
	TAP_EQ(members_text_quorum(&m, list, why, sizeof(why)), -EINVAL);
	if (!strstr(why, says))
		printf("# '%s': got '%s'\n", list, why);
	TAP_ASSERT(strstr(why, says));
}

static void test_refused(void)
{
	refused(3, 0, "group.1=1:2", "server.3 is in no group");
	refused(3, 0, "group.1=1:2,group.2=2:3", "server.2 is in two groups");
	refused(3, 0, "group.1=1:2,group.1=3", "group.1 is given twice");
	refused(3, 0, "group.1=1:2:9,group.2=3", "'9' is not a server");
	refused(3, 1, "group.1=1:2:3", "server.3 is an observer");
	refused(3, 0, "group.0=1:2:3", "the group id is not a number");
	refused(3, 0, "group.1=", "group.1 is empty");
	refused(3, 0, "weight.1=-1", "a weight is a number from 0");
	refused(3, 0, "weight.1=1000001", "a weight is a number from 0");
	refused(3, 0, "weight.1=x", "a weight is a number from 0");
	refused(3, 0, "weight.7=1", "names no server");
	refused(3, 1, "weight.3=1", "observers never vote");
	refused(3, 0, "weight.1=1,weight.1=2", "weight.1 is given twice");
	refused(3, 0, "weight.1=0,weight.2=0,weight.3=0",
		"every participant has weight 0");
	refused(3, 0, "group.1=1,group.2=2:3,weight.1=0,weight.2=0,weight.3=0",
		"every participant has weight 0");
	refused(3, 0, "tickTime=3", "unrecognised entry");
	refused(3, 0, "group.1", "unrecognised entry");
}

static void test_server(void)
{
	struct mt_server v;
	char host[300], why[320];

	TAP_EQ(members_text_server(" server.3=h.example:2888:3888:observer;2181\n", &v, 255, why, sizeof(why)), 0);
	TAP_EQ(v.id, 3);
	TAP_STREQ(v.host, "h.example");
	TAP_EQ(v.peer_port, 2888);
	TAP_EQ(v.election_port, 3888);
	TAP_EQ(v.observer, 1);
	TAP_STREQ(v.client, "2181");
	TAP_EQ(members_text_server("7=[::1]:1:2;[::1]:5", &v, 255, why, sizeof(why)), 0);
	TAP_STREQ(v.host, "::1"); /* brackets dropped: getaddrinfo takes it */
	TAP_EQ(v.observer, 0);
	TAP_STREQ(v.client, "[::1]:5");
	TAP_EQ(members_text_server("server.1=h:1:2:participant", &v, 255, why, sizeof(why)), 0);
	TAP_EQ(v.observer, 0);
	TAP_STREQ(v.client, "");
	/* Refused: no '=', a bad id, missing or bad ports, an unknown role, an
	 * unclosed [, and a host longer than its field (once cut short, it
	 * would have named another host). */
	TAP_EQ(members_text_server("server.1", &v, 255, why, sizeof(why)), -EINVAL);
	TAP_EQ(members_text_server("server.0=h:1:2", &v, 255, why, sizeof(why)), -EINVAL);
	TAP_EQ(members_text_server("server.256=h:1:2", &v, 255, why, sizeof(why)), -EINVAL);
	TAP_EQ(members_text_server("server.256=h:1:2", &v, 0x7fffffffL, why, sizeof(why)), 0);
	TAP_EQ(members_text_server("server.x=h:1:2", &v, 255, why, sizeof(why)), -EINVAL);
	TAP_EQ(members_text_server("server.1=h:1", &v, 255, why, sizeof(why)), -EINVAL);
	TAP_EQ(members_text_server("server.1=h:0:2", &v, 255, why, sizeof(why)), -EINVAL);
	TAP_EQ(members_text_server("server.1=h:1:65536", &v, 255, why, sizeof(why)), -EINVAL);
	TAP_EQ(members_text_server("server.1=:1:2", &v, 255, why, sizeof(why)), -EINVAL);
	TAP_EQ(members_text_server("server.1=h:1:2:leader", &v, 255, why, sizeof(why)), -EINVAL);
	TAP_EQ(members_text_server("server.1=[::1:1:2", &v, 255, why, sizeof(why)), -EINVAL);
	memset(host, 'a', sizeof(host));
	memcpy(host, "server.1=", 9);
	snprintf(host + 9 + 256, sizeof(host) - 9 - 256, ":1:2");
	TAP_EQ(members_text_server(host, &v, 255, why, sizeof(why)), -EINVAL);
	host[9 + 255] = ':';
	snprintf(host + 9 + 255, sizeof(host) - 9 - 255, ":1:2");
	TAP_EQ(members_text_server(host, &v, 255, why, sizeof(why)), 0);
	TAP_EQ(strlen(v.host), 255);
}

static const struct tap_case cases[] = {
    {"server", test_server},
    {"kinds", test_kinds},
    {"hierarchical_round_trip", test_hierarchical_round_trip},
    {"kinds_of_quorum", test_kinds_of_quorum},
    {"refused", test_refused},
};

TAP_MAIN(cases)
