/*
 * quorumctl_multi.c - `multi FILE`: one atomic transaction (ZooKeeper's
 * multi) from a file with one operation a line ("-" reads stdin):
 *
 *   create PATH [DATA]
 *   delete PATH [VERSION]
 *   set PATH DATA [VERSION]
 *   check PATH VERSION
 *
 * Words are separated by blanks and may be quoted as in the shell: '...'
 * takes everything literally, "..." and unquoted text take \\, \" and \'
 * escapes, so DATA can hold blanks ("a b") and be empty (""). Blank lines
 * and lines starting with '#' are skipped. Each op's outcome is printed one
 * a line, in order.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "quorumctl.h"
#include "txn.h"
#include "zerr.h"

#define MULTI_MAX_OPS  1000
#define MULTI_MAX_WORD 4

static struct zacl open_acl = {.perms = ZPERM_ALL, .scheme = "world", .id = "anyone"};

static int32_t op_type_of(const char *w)
{
	if (!strcmp(w, "create"))
		return ZOP_CREATE;
	if (!strcmp(w, "delete"))
		return ZOP_DELETE;
	if (!strcmp(w, "set"))
		return ZOP_SETDATA;
	if (!strcmp(w, "check"))
		return ZOP_CHECK;
	return -1;
}

/* Fill op from a line's words (strings borrowed from the line copy). */
static int fill_op(struct jute_multi_op *op, char **w, int n, int lineno)
{
	int64_t v = -1;
	int32_t type = op_type_of(w[0]);

	memset(op, 0, sizeof(*op));
	op->type = type;
	op->err = -1;
	switch (type) {
	case ZOP_CREATE:
		if (n < 2 || n > 3)
			break;
		op->body.create_request.path = w[1];
		if (n == 3) {
			op->body.create_request.data.data = (uint8_t *)w[2];
			op->body.create_request.data.len = (int32_t)strlen(w[2]);
		}
		op->body.create_request.acl.n = 1;
		op->body.create_request.acl.v = &open_acl;
		return 0;
	case ZOP_DELETE:
		if (n < 2 || n > 3 ||
		    (n == 3 && ctl_parse_int("version", w[2], -1, INT32_MAX, &v)))
			break;
		op->body.delete_request.path = w[1];
		op->body.delete_request.version = (int32_t)v;
		return 0;
	case ZOP_SETDATA:
		if (n < 3 || n > 4 ||
		    (n == 4 && ctl_parse_int("version", w[3], -1, INT32_MAX, &v)))
			break;
		op->body.set_data_request.path = w[1];
		op->body.set_data_request.data.data = (uint8_t *)w[2];
		op->body.set_data_request.data.len = (int32_t)strlen(w[2]);
		op->body.set_data_request.version = (int32_t)v;
		return 0;
	case ZOP_CHECK:
		if (n != 3 || ctl_parse_int("version", w[2], -1, INT32_MAX, &v))
			break;
		op->body.check_version_request.path = w[1];
		op->body.check_version_request.version = (int32_t)v;
		return 0;
	}
	fprintf(stderr,
		"quorumctl multi: line %d: expected create PATH [DATA], delete PATH "
		"[VERSION], set PATH DATA [VERSION] or check PATH VERSION\n",
		lineno);
	return -1;
}

static const char *op_name(int32_t type)
{
	switch (type) {
	case ZOP_CREATE:
	case ZOP_CREATE2:
		return "create";
	case ZOP_DELETE:
		return "delete";
	case ZOP_SETDATA:
		return "set";
	case ZOP_CHECK:
		return "check";
	}
	return "op";
}

/*
 * Split s in place into at most max words (quoting above). Returns the
 * number of words, max + 1 if there are more, or -1 for an unterminated
 * quote. Words point into s.
 */
static int split_words(char *s, char **w, int max)
{
	char *in = s, *out;
	int n = 0;

	for (;;) {
		char q = 0;

		while (*in == ' ' || *in == '\t' || *in == '\r' || *in == '\n')
			in++;
		if (!*in)
			return n;
		if (n == max)
			return max + 1;
		w[n++] = out = in;
		while (*in && (q || !strchr(" \t\r\n", *in))) {
			if (!q && (*in == '\'' || *in == '"')) {
				q = *in++;
			} else if (q && *in == q) {
				q = 0;
				in++;
			} else if (q != '\'' && *in == '\\' && in[1] &&
				   strchr("\\\"' ", in[1])) {
				*out++ = in[1];
				in += 2;
			} else {
				*out++ = *in++;
			}
		}
		if (q)
			return -1;
		if (*in)
			in++;
		*out = 0;
	}
}

struct multi_ctx {
	struct jute_multi *req;
	int first_err;
};

static void print_results(struct ctl *x, const struct zkc_reply *r, void *arg)
{
	struct multi_ctx *m = arg;
	int32_t i;

	for (i = 0; i < r->multi.n && i < m->req->n; i++) {
		const struct jute_multi_op *res = &r->multi.ops[i];
		const struct jute_multi_op *req = &m->req->ops[i];
		const char *path = req->body.delete_request.path;

		if (res->type == ZOP_ERROR) {
			printf("%s %s %s\n", zerr_str(res->err), op_name(req->type),
			       path);
			if (res->err != ZOK && res->err != ZRUNTIMEINCONSISTENCY &&
			    !m->first_err)
				m->first_err = res->err;
		} else if (res->type == ZOP_CREATE) {
			printf("OK create %s\n", res->body.create_response.path);
		} else {
			printf("OK %s %s\n", op_name(req->type), path);
		}
	}
}

int ctl_cmd_multi(struct ctl *x, int argc, char **argv)
{
	struct jute_multi req = {0};
	struct multi_ctx m = {.req = &req};
	char *line = NULL, *copy, *w[MULTI_MAX_WORD + 1];
	char **copies = NULL;
	size_t cap = 0;
	int lineno = 0, n, rc = CTL_EXIT_USAGE, err;
	FILE *f;

	if (argc - optind != 1) {
		fprintf(stderr, "quorumctl multi: expected one FILE\n");
		return CTL_EXIT_USAGE;
	}
	f = strcmp(argv[optind], "-") ? fopen(argv[optind], "r") : stdin;
	if (!f) {
		fprintf(stderr, "quorumctl multi: %s: %s\n", argv[optind],
			strerror(errno));
		return CTL_EXIT_USAGE;
	}
	req.ops = calloc(MULTI_MAX_OPS, sizeof(*req.ops));
	copies = calloc(MULTI_MAX_OPS, sizeof(*copies));
	if (!req.ops || !copies) {
		fprintf(stderr, "quorumctl: out of memory\n");
		goto out_free;
	}
	while (getline(&line, &cap, f) > 0) {
		lineno++;
		copy = strdup(line);
		if (!copy)
			goto out_free;
		copy[strcspn(copy, "\r\n")] = 0;
		if (copy[strspn(copy, " \t")] == '#') {
			free(copy);
			continue;
		}
		n = split_words(copy, w, MULTI_MAX_WORD);
		if (n < 0) {
			free(copy);
			fprintf(stderr, "quorumctl multi: line %d: unterminated quote\n",
				lineno);
			goto out_free;
		}
		if (!n) {
			free(copy);
			continue;
		}
		if (req.n == MULTI_MAX_OPS) {
			free(copy);
			fprintf(stderr, "quorumctl multi: more than %d operations\n",
				MULTI_MAX_OPS);
			goto out_free;
		}
		copies[req.n] = copy;
		if (fill_op(&req.ops[req.n], w, n, lineno)) {
			req.n++;
			goto out_free;
		}
		req.n++;
	}
	if (!req.n) {
		fprintf(stderr, "quorumctl multi: no operations in %s\n", argv[optind]);
		goto out_free;
	}
	err = ctl_call(x, ZOP_MULTI, &req, print_results, &m);
	if (!err && m.first_err)
		err = m.first_err;
	rc = err ? ctl_zk_fail(x, "multi", err) : CTL_EXIT_OK;
out_free:
	for (n = 0; copies && n < req.n; n++)
		free(copies[n]);
	free(copies);
	free(req.ops);
	free(line);
	if (f != stdin)
		fclose(f);
	return rc;
}
