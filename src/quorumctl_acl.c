/*
 * quorumctl_acl.c - ZooKeeper's ACL text form for quorumctl: entries
 * "scheme:id:perms" separated by commas, perms a subset of "cdrwa". The id
 * may itself hold colons (digest "user:hash", ipv6), so the scheme is up to
 * the first colon and the perms after the last.
 *
 * quorumctl keeps its own small copy rather than linking the server's tree
 * library (acl.h) for two string functions.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "quorumctl.h"

static const struct {
	char c;
	int32_t bit;
} perm_chars[] = {
	{'c', ZPERM_CREATE}, {'d', ZPERM_DELETE}, {'r', ZPERM_READ},
	{'w', ZPERM_WRITE},  {'a', ZPERM_ADMIN},
};

void ctl_acl_free(struct acl_list *a)
{
	int32_t i;

	for (i = 0; i < a->n; i++) {
		free(a->v[i].scheme);
		free(a->v[i].id);
	}
	free(a->v);
	a->v = NULL;
	a->n = 0;
}

static int parse_entry(const char *s, size_t len, struct zacl *out, char *errbuf,
		       size_t errlen)
{
	const char *first = memchr(s, ':', len), *last = NULL, *p;
	size_t i, k;

	for (p = s; p < s + len; p++)
		if (*p == ':')
			last = p;
	if (!first || first == last || first == s) {
		snprintf(errbuf, errlen, "'%.*s': expected scheme:id:perms", (int)len, s);
		return -1;
	}
	out->perms = 0;
	for (p = last + 1; p < s + len; p++) {
		for (k = 0; k < sizeof(perm_chars) / sizeof(perm_chars[0]); k++)
			if (perm_chars[k].c == *p)
				break;
		if (k == sizeof(perm_chars) / sizeof(perm_chars[0])) {
			snprintf(errbuf, errlen, "'%.*s': permission '%c' is not one of cdrwa",
				 (int)len, s, *p);
			return -1;
		}
		out->perms |= perm_chars[k].bit;
	}
	i = (size_t)(first - s);
	out->scheme = strndup(s, i);
	out->id = strndup(first + 1, (size_t)(last - first - 1));
	if (!out->scheme || !out->id) {
		snprintf(errbuf, errlen, "out of memory");
		return -1;
	}
	return 0;
}

int ctl_acl_parse(const char *text, struct acl_list *out, char *errbuf, size_t errlen)
{
	const char *p = text, *e;
	struct zacl *grown;

	out->n = 0;
	out->v = NULL;
	while (*p) {
		e = strchr(p, ',');
		if (!e)
			e = p + strlen(p);
		grown = realloc(out->v, (size_t)(out->n + 1) * sizeof(*grown));
		if (!grown) {
			snprintf(errbuf, errlen, "out of memory");
			goto err_free_list;
		}
		out->v = grown;
		memset(&out->v[out->n], 0, sizeof(out->v[0]));
		out->n++;
		if (parse_entry(p, (size_t)(e - p), &out->v[out->n - 1], errbuf, errlen))
			goto err_free_list;
		p = *e ? e + 1 : e;
	}
	if (!out->n) {
		snprintf(errbuf, errlen, "empty ACL");
		return -1;
	}
	return 0;

err_free_list:
	ctl_acl_free(out);
	return -1;
}

char *ctl_acl_format(const struct acl_list *a)
{
	size_t cap = 1, len = 0, k;
	int32_t i;
	char *s;

	for (i = 0; i < a->n; i++)
		cap += strlen(a->v[i].scheme ? a->v[i].scheme : "") +
		       strlen(a->v[i].id ? a->v[i].id : "") + 8;
	s = malloc(cap);
	if (!s)
		return NULL;
	s[0] = 0;
	for (i = 0; i < a->n; i++) {
		len += (size_t)snprintf(s + len, cap - len, "%s%s:%s:", i ? "," : "",
					a->v[i].scheme ? a->v[i].scheme : "",
					a->v[i].id ? a->v[i].id : "");
		for (k = 0; k < sizeof(perm_chars) / sizeof(perm_chars[0]); k++)
			if (a->v[i].perms & perm_chars[k].bit)
				s[len++] = perm_chars[k].c;
		s[len] = 0;
	}
	return s;
}
