/*
 * quorumctl_members.c - `members list|add|remove|promote|demote` and
 * `leader transfer`: the ensemble's membership, for people, over
 * ZooKeeper's reconfig request (zks_reconfig.c).
 *
 * list reads /zookeeper/config from any server. The changes go to the
 * leader when it is among the -s servers (found with the srvr four-letter
 * word), else to any of them, which forwards them there, as the superuser,
 * whose credentials come
 * from --auth or $QUORUMCTL_AUTH ("digest:super:PASSWORD", as zkCli's addauth).
 * promote/demote re-send the member's line with the other role; set sends
 * a whole new list (zkCli's reconfig -members), the way to change groups
 * and weights (group.X=, weight.N= entries), and the only way to change a
 * hierarchical or weighted ensemble, which refuses add/remove/promote/
 * demote as ZooKeeper does; leader transfer is quorumfs's extension of
 * reconfig.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "quorumctl.h"
#include "txn.h"
#include "zerr.h"

#define CFG_PATH "/zookeeper/config"

/* The mode srvr reports for host:port ("leader", ...) into mode. */
static int srvr_mode(const char *hostport, char *mode, size_t len)
{
	char *buf, *p;
	int rc = ctl_four_letter(hostport, "srvr", 3, 8191, &buf);

	if (rc)
		return rc;
	p = strstr(buf, "Mode: ");
	if (p)
		snprintf(mode, len, "%.*s", (int)strcspn(p + 6, "\r\n"), p + 6);
	free(buf);
	return p ? 0 : -EHOSTUNREACH;
}

/* Point x at the leader among its servers (x->hosts is rewritten): one
 * hop fewer. When none of them leads, x keeps them all. */
static int find_leader(struct ctl *x, char *buf, size_t len)
{
	char list[4096], *save = NULL, *h, mode[64];

	snprintf(list, sizeof(list), "%s", x->hosts);
	for (h = strtok_r(list, ",", &save); h; h = strtok_r(NULL, ",", &save)) {
		if (!strchr(h, ':') || h[strlen(h) - 1] == ']') {
			snprintf(buf, len, "%s:2181", h);
		} else
			snprintf(buf, len, "%s", h);
		if (srvr_mode(buf, mode, sizeof(mode)) == 0 && !strcmp(mode, "leader")) {
			x->hosts = buf;
			return 0;
		}
	}
	/* Any member takes a reconfig and forwards it to the leader. */
	snprintf(buf, len, "%s", x->hosts);
	return 0;
}

struct text {
	char s[65536];
	int64_t version;
};

static void keep_data(struct ctl *x, const struct zkc_reply *r, void *arg)
{
	struct text *t = arg;
	int32_t n;

	if (r->err != ZOK)
		return;
	n = r->body.get_data_response.data.len;
	if (n < 0)
		n = 0;
	if ((size_t)n >= sizeof(t->s))
		n = sizeof(t->s) - 1;
	memcpy(t->s, r->body.get_data_response.data.data, (size_t)n);
	t->s[n] = 0;
}

static int get_config(struct ctl *x, struct text *t)
{
	struct jute_get_data_request q = {.path = (char *)CFG_PATH};
	int err;

	t->s[0] = 0;
	err = ctl_call(x, ZOP_GETDATA, &q, keep_data, t);
	return err ? ctl_zk_fail(x, CFG_PATH, err) : 0;
}

/* The server.WANT lines of s as table rows (ZooKeeper's client part in the
 * last column), or with WANT 256 every other line. */
static void print_config_lines(const char *s, int want)
{
	const char *p = s;

	while (*p) {
		size_t n = strcspn(p, "\n");
		char line[1024], *eq, *semi, *role;
		int id;

		snprintf(line, sizeof(line), "%.*s", (int)n, p);
		p += n + (p[n] == '\n');
		if (sscanf(line, "server.%d=", &id) != 1 || !(eq = strchr(line, '='))) {
			if (want < 256)
				continue;
			if (!strncmp(line, "version=", 8))
				printf("version %s\n", line + 8);
			else if (!strncmp(line, "group.", 6) || !strncmp(line, "weight.", 7))
				printf("%s\n", line); /* the quorum system, as given */
			continue;
		}
		if (id != want)
			continue;
		semi = strchr(eq, ';');
		if (semi)
			*semi++ = 0;
		role = strrchr(eq + 1, ':');
		if (role &&
		    (!strcmp(role + 1, "observer") || !strcmp(role + 1, "participant")))
			*role++ = 0;
		else
			role = (char *)"participant";
		printf("%-4d %-12s %-28s %s\n", id, role, eq + 1, semi ? semi : "-");
	}
}

/*
 * The config as a table: the servers by id (the configuration lists them
 * in the order the changes left them), then the quorum system and the
 * version as given.
 */
static void print_config(const char *s)
{
	printf("%-4s %-12s %-28s %s\n", "ID", "ROLE", "PEER:ELECTION", "CLIENT");
	for (int want = 0; want <= 256; want++)
		print_config_lines(s, want);
}

static void print_reply(struct ctl *x, const struct zkc_reply *r, void *arg)
{
	struct text t;

	if (r->err != ZOK)
		return;
	keep_data(x, r, &t);
	print_config(t.s);
}

/* The version=HEX line of a configuration text, or 0. */
static uint64_t config_version(const char *s)
{
	const char *v = strstr(s, "version=");

	while (v && v != s && v[-1] != '\n')
		v = strstr(v + 1, "version=");
	return v ? strtoull(v + 8, NULL, 16) : 0;
}

/*
 * A reconfig whose connection was lost before the answer: a leader that
 * the change removes stops leading as soon as it commits, before it can
 * answer. Ask each server of -s in turn, for up to 15 seconds (the others
 * elect a leader, which rewrites /zookeeper/config), for a version past
 * the one before the change: a removed server keeps answering with the
 * configuration it had. 0 if one shows it (t holds it), -1 if none does.
 */
static int committed_after_loss(struct ctl *x, uint64_t before, struct text *t)
{
	struct jute_get_data_request q = {.path = (char *)CFG_PATH};
	struct timespec pause = {0, 250 * 1000 * 1000};
	const char *all = x->hosts_given ? x->hosts_given : x->hosts;
	const char *saved = x->hosts;
	char hosts[4096], *h, *save;
	int rc = -1;

	for (int round = 0; round < 60 && rc; round++) {
		snprintf(hosts, sizeof(hosts), "%s", all);
		for (h = strtok_r(hosts, ",", &save); h && rc;
		     h = strtok_r(NULL, ",", &save)) {
			if (x->zk)
				zkc_free(x->zk);
			x->zk = NULL;
			x->connected = 0;
			x->lost = 0;
			x->hosts = h;
			t->s[0] = 0;
			if (ctl_connect(x) == 0 &&
			    ctl_call(x, ZOP_GETDATA, &q, keep_data, t) == ZOK &&
			    config_version(t->s) > before)
				rc = 0;
		}
		if (rc)
			nanosleep(&pause, NULL);
	}
	x->hosts = saved;
	return rc;
}

static int reconfig(struct ctl *x, const char *joining, const char *leaving,
		    const char *members)
{
	struct jute_reconfig_request q = {0};
	struct text *t;
	uint64_t before;
	int err;

	t = malloc(sizeof(*t));
	if (!t)
		return CTL_EXIT_CONNECT;
	if (get_config(x, t)) {
		free(t);
		return CTL_EXIT_ZK;
	}
	before = config_version(t->s);
	q.joining_servers = (char *)joining;
	q.leaving_servers = (char *)leaving;
	q.new_members = (char *)members;
	q.cur_config_id = -1;
	err = ctl_call(x, ZOP_RECONFIG, &q, print_reply, NULL);
	if (err == ZCONNECTIONLOSS && committed_after_loss(x, before, t) == 0) {
		fprintf(stderr, "quorumctl: reconfig: the connection was lost before "
				"the answer (a leader the change removes stops leading "
				"as it commits), but the change committed:\n");
		print_config(t->s);
		free(t);
		return CTL_EXIT_OK;
	}
	free(t);
	if (err == ZNOAUTH)
		fprintf(stderr, "quorumctl: reconfig needs the superuser: set "
				"QUORUMCTL_AUTH=digest:super:PASSWORD\n");
	return err ? ctl_zk_fail(x, "reconfig", err) : CTL_EXIT_OK;
}

/* Member id's line in the config text, with its role set to role. */
static int line_with_role(const char *s, long id, const char *role, char *out, size_t len)
{
	char want[32], line[1024], *semi, *r;
	const char *p;

	snprintf(want, sizeof(want), "server.%ld=", id);
	p = strstr(s, want);
	if (!p || (p != s && p[-1] != '\n'))
		return -ENOENT;
	snprintf(line, sizeof(line), "%.*s", (int)strcspn(p, "\n"), p);
	semi = strchr(line, ';');
	if (semi)
		*semi++ = 0;
	r = strrchr(line, ':');
	if (r && (!strcmp(r + 1, "observer") || !strcmp(r + 1, "participant")))
		*r = 0;
	snprintf(out, len, "%s:%s%s%s", line, role, semi ? ";" : "", semi ? semi : "");
	return 0;
}

static int usage_members(void)
{
	fprintf(stderr, "usage: quorumctl members list\n"
			"       quorumctl members add "
			"server.N=HOST:PEER:ELECTION[:ROLE][;[HOST:]PORT]\n"
			"       quorumctl members remove N...\n"
			"       quorumctl members promote|demote N\n"
			"       quorumctl members set server.N=... [group.X=N:N...] "
			"[weight.N=W]...\n");
	return CTL_EXIT_USAGE;
}

int ctl_cmd_members(struct ctl *x, int argc, char **argv)
{
	char leader[300], spec[1200], ids[1024] = "";
	struct text *t;
	const char *sub;
	int rc;

	if (argc < 2)
		return usage_members();
	sub = argv[1];
	if (!strcmp(sub, "list")) {
		if (argc != 2)
			return usage_members();
		rc = ctl_connect(x);
		if (rc)
			return rc;
		t = malloc(sizeof(*t));
		if (!t)
			return CTL_EXIT_CONNECT;
		rc = get_config(x, t);
		if (!rc && !t->s[0])
			printf("(no configuration: a standalone server)\n");
		else if (!rc)
			print_config(t->s);
		free(t);
		return rc;
	}
	if (!strcmp(sub, "add") || !strcmp(sub, "remove")) {
		if (argc < 3)
			return usage_members();
		for (int i = 2; i < argc; i++) {
			if (!strcmp(sub, "remove")) {
				char *end;
				long id = strtol(argv[i], &end, 10);

				if (*end || id < 1 || id > 255) {
					fprintf(
					    stderr,
					    "quorumctl: members remove: bad id '%s'\n",
					    argv[i]);
					return CTL_EXIT_USAGE;
				}
			}
			if (strlen(ids) + strlen(argv[i]) + 2 > sizeof(ids))
				return usage_members();
			if (*ids)
				strcat(ids, ",");
			strcat(ids, argv[i]);
		}
		if ((rc = find_leader(x, leader, sizeof(leader))) ||
		    (rc = ctl_connect(x)))
			return rc;
		return !strcmp(sub, "add") ? reconfig(x, ids, NULL, NULL)
					   : reconfig(x, NULL, ids, NULL);
	}
	if (!strcmp(sub, "set")) {
		char list[16384] = "";

		if (argc < 3)
			return usage_members();
		for (int i = 2; i < argc; i++) {
			if (strlen(list) + strlen(argv[i]) + 2 > sizeof(list))
				return usage_members();
			if (*list)
				strcat(list, ",");
			strcat(list, argv[i]);
		}
		if ((rc = find_leader(x, leader, sizeof(leader))) ||
		    (rc = ctl_connect(x)))
			return rc;
		return reconfig(x, NULL, NULL, list);
	}
	if (!strcmp(sub, "promote") || !strcmp(sub, "demote")) {
		char *end;
		long id;

		if (argc != 3)
			return usage_members();
		id = strtol(argv[2], &end, 10);
		if (*end || id < 1 || id > 255)
			return usage_members();
		if ((rc = find_leader(x, leader, sizeof(leader))) ||
		    (rc = ctl_connect(x)))
			return rc;
		t = malloc(sizeof(*t));
		if (!t)
			return CTL_EXIT_CONNECT;
		rc = get_config(x, t);
		if (!rc &&
		    line_with_role(t->s, id,
				   !strcmp(sub, "promote") ? "participant" : "observer",
				   spec, sizeof(spec))) {
			fprintf(stderr, "quorumctl: server.%ld is not a member\n", id);
			rc = CTL_EXIT_ZK;
		}
		free(t);
		return rc ? rc : reconfig(x, spec, NULL, NULL);
	}
	return usage_members();
}

int ctl_cmd_leader(struct ctl *x, int argc, char **argv)
{
	char leader[300], members[64], *end;
	long to;
	int rc;

	if (argc != 3 || strcmp(argv[1], "transfer")) {
		fprintf(stderr, "usage: quorumctl leader transfer N   (0: the most up to "
				"date voter)\n");
		return CTL_EXIT_USAGE;
	}
	to = strtol(argv[2], &end, 10);
	if (*end || to < 0 || to > 255) {
		fprintf(stderr, "quorumctl: leader transfer: bad id '%s'\n", argv[2]);
		return CTL_EXIT_USAGE;
	}
	if ((rc = find_leader(x, leader, sizeof(leader))) || (rc = ctl_connect(x)))
		return rc;
	snprintf(members, sizeof(members), "quorumfs:leader.transfer=%ld", to);
	{
		struct jute_reconfig_request q = {0};
		int err;

		q.new_members = members;
		q.cur_config_id = -1;
		err = ctl_call(x, ZOP_RECONFIG, &q, NULL, NULL);
		if (err)
			return ctl_zk_fail(x, "leader transfer", err);
	}
	printf("leadership handed over by %s\n", leader);
	return CTL_EXIT_OK;
}
