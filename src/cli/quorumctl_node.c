/*
 * quorumctl_node.c - the commands on one node: get, set, create, delete, ls,
 * stat, getacl, setacl.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "quorumctl.h"
#include "txn.h"
#include "zerr.h"

enum { OPT_VERSION = 256, OPT_TTL };

static const struct option version_opts[] = {
	{"version", required_argument, NULL, OPT_VERSION},
	{NULL, 0, NULL, 0},
};

/* Parse "[--version N]" and leave the operands at argv[optind]. Returns 0,
 * or -1 after printing why. */
static int parse_version(int argc, char **argv, int32_t *version)
{
	int64_t v;
	int opt;

	*version = -1;
	while ((opt = getopt_long(argc, argv, "", version_opts, NULL)) != -1) {
		if (opt != OPT_VERSION)
			return -1;
		if (ctl_parse_int("--version", optarg, -1, INT32_MAX, &v))
			return -1;
		*version = (int32_t)v;
	}
	return 0;
}

static int want_args(const char *cmd, int argc, int n_min, int n_max)
{
	int n = argc - optind;

	if (n < n_min || n > n_max) {
		fprintf(stderr, "quorumctl %s: wrong number of arguments (see quorumctl -h)\n",
			cmd);
		return -1;
	}
	return 0;
}

static void print_data(struct ctl *x, const struct zkc_reply *r, void *arg)
{
	const struct jute_buffer *d = &r->body.get_data_response.data;

	if (r->err == ZOK && d->len > 0)
		fwrite(d->data, 1, (size_t)d->len, stdout);
}

int ctl_cmd_get(struct ctl *x, int argc, char **argv)
{
	struct jute_get_data_request q = {0};
	int err;

	if (want_args("get", argc, 1, 1))
		return CTL_EXIT_USAGE;
	q.path = argv[optind];
	err = ctl_call(x, ZOP_GETDATA, &q, print_data, NULL);
	return err ? ctl_zk_fail(x, q.path, err) : CTL_EXIT_OK;
}

int ctl_cmd_set(struct ctl *x, int argc, char **argv)
{
	struct jute_set_data_request q = {0};
	int err;

	if (parse_version(argc, argv, &q.version) || want_args("set", argc, 2, 2))
		return CTL_EXIT_USAGE;
	q.path = argv[optind];
	q.data.data = (uint8_t *)argv[optind + 1];
	q.data.len = (int32_t)strlen(argv[optind + 1]);
	err = ctl_call(x, ZOP_SETDATA, &q, NULL, NULL);
	return err ? ctl_zk_fail(x, q.path, err) : CTL_EXIT_OK;
}

static void print_created(struct ctl *x, const struct zkc_reply *r, void *arg)
{
	if (r->err == ZOK)
		printf("%s\n", r->body.create2_response.path);
}

int ctl_cmd_create(struct ctl *x, int argc, char **argv)
{
	static const struct option opts[] = {
		{"ttl", required_argument, NULL, OPT_TTL},
		{"ephemeral", no_argument, NULL, 'e'},
		{"sequential", no_argument, NULL, 's'},
		{"container", no_argument, NULL, 'c'},
		{NULL, 0, NULL, 0},
	};
	struct zacl open = {.perms = ZPERM_ALL, .scheme = "world", .id = "anyone"};
	struct jute_create_ttl_request q = {0};
	int ephemeral = 0, sequential = 0, container = 0, opt, err;
	int64_t ttl = 0;
	int32_t op;

	while ((opt = getopt_long(argc, argv, "esc", opts, NULL)) != -1) {
		switch (opt) {
		case 'e':
			ephemeral = 1;
			break;
		case 's':
			sequential = 1;
			break;
		case 'c':
			container = 1;
			break;
		case OPT_TTL:
			if (ctl_parse_int("--ttl", optarg, 1, INT64_MAX, &ttl))
				return CTL_EXIT_USAGE;
			break;
		default:
			return CTL_EXIT_USAGE;
		}
	}
	if (want_args("create", argc, 1, 2))
		return CTL_EXIT_USAGE;
	if (ephemeral + container + (ttl > 0) > 1 || (container && sequential)) {
		fprintf(stderr, "quorumctl create: -e, -c and --ttl exclude each other "
				"(and -c excludes -s)\n");
		return CTL_EXIT_USAGE;
	}
	q.path = argv[optind];
	if (argc - optind == 2) {
		q.data.data = (uint8_t *)argv[optind + 1];
		q.data.len = (int32_t)strlen(argv[optind + 1]);
	}
	q.acl.n = 1;
	q.acl.v = &open;
	/* CreateMode values; create2 so every kind answers alike. */
	op = ZOP_CREATE2;
	if (container) {
		q.flags = ZCM_CONTAINER;
		op = ZOP_CREATECONTAINER;
	} else if (ttl > 0) {
		q.flags = sequential ? ZCM_PERSISTENT_SEQUENTIAL_WITH_TTL
				     : ZCM_PERSISTENT_WITH_TTL;
		q.ttl = ttl;
		op = ZOP_CREATETTL;
	} else if (ephemeral) {
		q.flags = sequential ? ZCM_EPHEMERAL_SEQUENTIAL : ZCM_EPHEMERAL;
	} else {
		q.flags = sequential ? ZCM_PERSISTENT_SEQUENTIAL : ZCM_PERSISTENT;
	}
	/* CreateRequest is CreateTTLRequest without its last field. */
	if (op == ZOP_CREATETTL) {
		err = ctl_call(x, op, &q, print_created, NULL);
	} else {
		struct jute_create_request c = {
			.path = q.path, .data = q.data, .acl = q.acl, .flags = q.flags};

		err = ctl_call(x, op, &c, print_created, NULL);
	}
	if (err == ZOK && ephemeral)
		fprintf(stderr, "quorumctl: note: the ephemeral node goes away with "
				"this command's session, now\n");
	return err ? ctl_zk_fail(x, q.path, err) : CTL_EXIT_OK;
}

int ctl_cmd_delete(struct ctl *x, int argc, char **argv)
{
	struct jute_delete_request q = {0};
	int err;

	if (parse_version(argc, argv, &q.version) || want_args("delete", argc, 1, 1))
		return CTL_EXIT_USAGE;
	q.path = argv[optind];
	err = ctl_call(x, ZOP_DELETE, &q, NULL, NULL);
	return err ? ctl_zk_fail(x, q.path, err) : CTL_EXIT_OK;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void print_children(struct ctl *x, const struct zkc_reply *r, void *arg)
{
	const struct jute_strvec *v = &r->body.get_children_response.children;
	int32_t i;

	if (r->err != ZOK)
		return;
	/* The server's order is a hash order; people read sorted lists. */
	qsort(v->v, (size_t)v->n, sizeof(*v->v), cmp_str);
	for (i = 0; i < v->n; i++)
		printf("%s\n", v->v[i]);
}

int ctl_cmd_ls(struct ctl *x, int argc, char **argv)
{
	struct jute_get_children_request q = {0};
	int err;

	if (want_args("ls", argc, 1, 1))
		return CTL_EXIT_USAGE;
	q.path = argv[optind];
	err = ctl_call(x, ZOP_GETCHILDREN, &q, print_children, NULL);
	return err ? ctl_zk_fail(x, q.path, err) : CTL_EXIT_OK;
}

static void print_time(const char *name, int64_t ms)
{
	char when[64];
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	if (localtime_r(&t, &tm) && strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S %Z", &tm))
		printf("%-15s= %s (%" PRId64 ")\n", name, when, ms);
	else
		printf("%-15s= %" PRId64 "\n", name, ms);
}

static void print_stat(struct ctl *x, const struct zkc_reply *r, void *arg)
{
	const struct zstat *s = &r->body.exists_response.stat;

	if (r->err != ZOK)
		return;
	printf("%-15s= 0x%" PRIx64 "\n", "cZxid", (uint64_t)s->czxid);
	print_time("ctime", s->ctime);
	printf("%-15s= 0x%" PRIx64 "\n", "mZxid", (uint64_t)s->mzxid);
	print_time("mtime", s->mtime);
	printf("%-15s= 0x%" PRIx64 "\n", "pZxid", (uint64_t)s->pzxid);
	printf("%-15s= %d\n", "cversion", s->cversion);
	printf("%-15s= %d\n", "dataVersion", s->version);
	printf("%-15s= %d\n", "aclVersion", s->aversion);
	printf("%-15s= 0x%" PRIx64 "\n", "ephemeralOwner", (uint64_t)s->ephemeral_owner);
	printf("%-15s= %d\n", "dataLength", s->data_length);
	printf("%-15s= %d\n", "numChildren", s->num_children);
}

int ctl_cmd_stat(struct ctl *x, int argc, char **argv)
{
	struct jute_exists_request q = {0};
	int err;

	if (want_args("stat", argc, 1, 1))
		return CTL_EXIT_USAGE;
	q.path = argv[optind];
	err = ctl_call(x, ZOP_EXISTS, &q, print_stat, NULL);
	return err ? ctl_zk_fail(x, q.path, err) : CTL_EXIT_OK;
}

static void print_acl(struct ctl *x, const struct zkc_reply *r, void *arg)
{
	char *s;

	if (r->err != ZOK)
		return;
	s = acl_format(&r->body.get_acl_response.acl);
	if (s)
		printf("%s\n", s);
	else
		fprintf(stderr, "quorumctl: out of memory\n");
	free(s);
}

int ctl_cmd_getacl(struct ctl *x, int argc, char **argv)
{
	struct jute_get_acl_request q = {0};
	int err;

	if (want_args("getacl", argc, 1, 1))
		return CTL_EXIT_USAGE;
	q.path = argv[optind];
	err = ctl_call(x, ZOP_GETACL, &q, print_acl, NULL);
	return err ? ctl_zk_fail(x, q.path, err) : CTL_EXIT_OK;
}

int ctl_cmd_setacl(struct ctl *x, int argc, char **argv)
{
	struct jute_set_acl_request q = {0};
	char why[256];
	int err;

	if (parse_version(argc, argv, &q.version) || want_args("setacl", argc, 2, 2))
		return CTL_EXIT_USAGE;
	q.path = argv[optind];
	if (acl_parse(argv[optind + 1], &q.acl, why, sizeof(why)) != ZOK) {
		fprintf(stderr, "quorumctl setacl: %s\n", why);
		return CTL_EXIT_USAGE;
	}
	err = ctl_call(x, ZOP_SETACL, &q, NULL, NULL);
	acl_free(&q.acl);
	return err ? ctl_zk_fail(x, q.path, err) : CTL_EXIT_OK;
}
