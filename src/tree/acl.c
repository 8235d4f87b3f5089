/*
 * acl.c - ZooKeeper ACL lists: copies, text form, fixup and the permission
 * check (ZooKeeperServer.checkACL with the ip and digest providers).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/sha.h>

#include "acl.h"
#include "zerr.h"

static struct zacl open_unsafe_v[] = {
    {ZPERM_ALL, (char *)"world", (char *)"anyone"},
};
static const struct acl_list open_unsafe = {1, open_unsafe_v};

const struct acl_list *acl_open_unsafe(void)
{
	return &open_unsafe;
}

void acl_free(struct acl_list *a)
{
	int32_t i;

	if (!a)
		return;
	for (i = 0; i < a->n; i++) {
		free(a->v[i].scheme);
		free(a->v[i].id);
	}
	free(a->v);
	a->v = NULL;
	a->n = 0;
}

/* Append one entry (copied); 0 or -ENOMEM. */
static int acl_push(struct acl_list *a, int32_t perms, const char *scheme, const char *id)
{
	struct zacl *v;
	char *s, *i;

	s = strdup(scheme);
	i = strdup(id);
	v = realloc(a->v, (size_t)(a->n + 1) * sizeof(*v));
	if (!s || !i || !v) {
		free(s);
		free(i);
		if (v)
			a->v = v;
		return -ENOMEM;
	}
	a->v = v;
	v[a->n].perms = perms;
	v[a->n].scheme = s;
	v[a->n].id = i;
	a->n++;
	return 0;
}

int acl_copy(struct acl_list *dst, const struct acl_list *src)
{
	int32_t i;

	dst->n = 0;
	dst->v = NULL;
	if (!src)
		return 0;
	for (i = 0; i < src->n; i++) {
		if (acl_push(dst, src->v[i].perms, src->v[i].scheme, src->v[i].id) < 0) {
			acl_free(dst);
			return -ENOMEM;
		}
	}
	return 0;
}

static int zacl_equal(const struct zacl *a, const struct zacl *b)
{
	return a->perms == b->perms && strcmp(a->scheme, b->scheme) == 0 &&
	       strcmp(a->id, b->id) == 0;
}

int acl_equal(const struct acl_list *a, const struct acl_list *b)
{
	int32_t i;

	if (a->n != b->n)
		return 0;
	for (i = 0; i < a->n; i++)
		if (!zacl_equal(&a->v[i], &b->v[i]))
			return 0;
	return 1;
}

/* zkCli's AclParser.getPermFromString, strict: an unknown letter is an error. */
static int perms_parse(const char *s, int32_t *out)
{
	int32_t p = 0;

	for (; *s; s++) {
		switch (*s) {
		case 'r':
			p |= ZPERM_READ;
			break;
		case 'w':
			p |= ZPERM_WRITE;
			break;
		case 'c':
			p |= ZPERM_CREATE;
			break;
		case 'd':
			p |= ZPERM_DELETE;
			break;
		case 'a':
			p |= ZPERM_ADMIN;
			break;
		default:
			return -1;
		}
	}
	*out = p;
	return 0;
}

int acl_parse(const char *text, struct acl_list *out, char *errbuf, size_t errlen)
{
	char *copy = NULL, *tok, *save = NULL, *first, *last;
	int32_t perms;
	int rc = ZINVALIDACL;

	out->n = 0;
	out->v = NULL;
	if (!text) {
		snprintf(errbuf, errlen, "no ACL given");
		return ZINVALIDACL;
	}
	copy = strdup(text);
	if (!copy) {
		snprintf(errbuf, errlen, "out of memory");
		return ZSYSTEMERROR;
	}
	/* A trailing newline is what `setfattr -v "$(cat f)"`-style tools leave. */
	if (*copy && copy[strlen(copy) - 1] == '\n')
		copy[strlen(copy) - 1] = '\0';
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		first = strchr(tok, ':');
		last = strrchr(tok, ':');
		if (!first || first == last) {
			snprintf(errbuf, errlen, "\"%s\" is not scheme:id:perms", tok);
			goto err_after_copy;
		}
		*first = '\0';
		*last = '\0';
		if (*tok == '\0') {
			snprintf(errbuf, errlen, "empty scheme");
			goto err_after_copy;
		}
		if (perms_parse(last + 1, &perms) < 0) {
			snprintf(errbuf, errlen, "bad permissions \"%s\" (use cdrwa)",
				 last + 1);
			goto err_after_copy;
		}
		if (acl_push(out, perms, tok, first + 1) < 0) {
			snprintf(errbuf, errlen, "out of memory");
			rc = ZSYSTEMERROR;
			goto err_after_copy;
		}
	}
	if (out->n == 0) {
		snprintf(errbuf, errlen, "empty ACL");
		goto err_after_copy;
	}
	free(copy);
	return ZOK;

err_after_copy:
	acl_free(out);
	free(copy);
	return rc;
}

char *acl_format(const struct acl_list *a)
{
	size_t len = 1, off = 0;
	int32_t i;
	char *s;

	for (i = 0; i < a->n; i++)
		len += strlen(a->v[i].scheme) + strlen(a->v[i].id) + 2 + 5 + 1;
	s = malloc(len);
	if (!s)
		return NULL;
	s[0] = '\0';
	for (i = 0; i < a->n; i++) {
		const struct zacl *z = &a->v[i];

		/* Letters in zkCli's getPermString order. */
		off += (size_t)snprintf(
		    s + off, len - off, "%s%s:%s:%s%s%s%s%s", i ? "," : "", z->scheme,
		    z->id, z->perms & ZPERM_CREATE ? "c" : "",
		    z->perms & ZPERM_DELETE ? "d" : "", z->perms & ZPERM_READ ? "r" : "",
		    z->perms & ZPERM_WRITE ? "w" : "", z->perms & ZPERM_ADMIN ? "a" : "");
	}
	return s;
}

/* Java's String.split(":").length: trailing empty parts are dropped. */
static int java_split_count(const char *s, char sep)
{
	int parts = 0, nonempty_upto = 0;
	const char *start = s, *p;

	for (p = s;; p++) {
		if (*p == sep || *p == '\0') {
			parts++;
			if (p > start)
				nonempty_upto = parts;
			if (*p == '\0')
				break;
			start = p + 1;
		}
	}
	if (*s == '\0')
		return 1; /* "".split(...) is [""] */
	return nonempty_upto;
}

/* An address in network order; returns its length (4 or 16) or 0. */
static int addr_parse(const char *s, unsigned char *out)
{
	if (inet_pton(AF_INET, s, out) == 1)
		return 4;
	if (inet_pton(AF_INET6, s, out) == 1)
		return 16;
	return 0;
}

/* "addr[/bits]": fills the address and the prefix length; 0 or -1. */
static int ip_expr_parse(const char *expr, unsigned char *addr, int *alen, int *bits)
{
	char tmp[64];
	const char *slash = strchr(expr, '/');
	size_t n = slash ? (size_t)(slash - expr) : strlen(expr);
	char *end;
	long b;

	if (n >= sizeof(tmp))
		return -1;
	memcpy(tmp, expr, n);
	tmp[n] = '\0';
	*alen = addr_parse(tmp, addr);
	if (*alen == 0)
		return -1;
	*bits = *alen * 8;
	if (slash) {
		errno = 0;
		b = strtol(slash + 1, &end, 10);
		if (errno || end == slash + 1 || *end || b < 0 || b > *alen * 8)
			return -1;
		*bits = (int)b;
	}
	return 0;
}

static int ip_valid(const char *id)
{
	unsigned char a[16];
	int alen, bits;

	return ip_expr_parse(id, a, &alen, &bits) == 0;
}

/* IPAuthenticationProvider.matches: both masked to the ACL's prefix. */
static int ip_matches(const char *caller, const char *expr)
{
	unsigned char a[16], c[16];
	int alen, clen, bits, i;

	if (ip_expr_parse(expr, a, &alen, &bits) < 0)
		return 0;
	clen = addr_parse(caller, c);
	if (clen != alen)
		return 0;
	for (i = 0; i < alen; i++) {
		int keep = bits >= 8 ? 8 : (bits > 0 ? bits : 0);
		unsigned char mask = (unsigned char)(0xff00 >> keep);

		if ((a[i] & mask) != (c[i] & mask))
			return 0;
		bits -= 8;
	}
	return 1;
}

static int digest_valid(const char *id)
{
	return java_split_count(id, ':') == 2;
}

int acl_fixup(const struct acl_list *in, const struct zauth *auth, struct acl_list *out)
{
	int32_t i, j, k;
	int found;

	out->n = 0;
	out->v = NULL;
	if (!in || in->n == 0)
		return ZINVALIDACL;
	for (i = 0; i < in->n; i++) {
		const struct zacl *z = &in->v[i];

		if (!z->scheme || !z->id)
			goto err_invalid;
		/* removeDuplicates: an entry equal to an earlier one goes. */
		for (k = 0; k < i; k++)
			if (zacl_equal(&in->v[k], z))
				break;
		if (k < i)
			continue;
		if (strcmp(z->scheme, "world") == 0 && strcmp(z->id, "anyone") == 0) {
			if (acl_push(out, z->perms, z->scheme, z->id) < 0)
				goto err_nomem;
		} else if (strcmp(z->scheme, "auth") == 0) {
			/* Only providers that authenticate (digest, sasl) expand;
			 * ip ids are not "authenticated" in ZooKeeper's sense. */
			found = 0;
			for (j = 0; auth && j < auth->n; j++) {
				if (strcmp(auth->v[j].scheme, "digest") != 0 &&
				    strcmp(auth->v[j].scheme, "sasl") != 0)
					continue;
				found = 1;
				if (acl_push(out, z->perms, auth->v[j].scheme,
					     auth->v[j].id) < 0)
					goto err_nomem;
			}
			if (!found)
				goto err_invalid;
		} else if (strcmp(z->scheme, "ip") == 0) {
			if (!ip_valid(z->id))
				goto err_invalid;
			if (acl_push(out, z->perms, z->scheme, z->id) < 0)
				goto err_nomem;
		} else if (strcmp(z->scheme, "digest") == 0) {
			if (!digest_valid(z->id))
				goto err_invalid;
			if (acl_push(out, z->perms, z->scheme, z->id) < 0)
				goto err_nomem;
		} else if (strcmp(z->scheme, "sasl") == 0) {
			/* SASLAuthenticationProvider takes any non-empty name. */
			if (!*z->id)
				goto err_invalid;
			if (acl_push(out, z->perms, z->scheme, z->id) < 0)
				goto err_nomem;
		} else {
			goto err_invalid; /* no provider: world:other, super, unknown */
		}
	}
	return ZOK;

err_nomem:
	acl_free(out);
	return ZSYSTEMERROR;
err_invalid:
	acl_free(out);
	return ZINVALIDACL;
}

int acl_check(const struct acl_list *acl, const struct zauth *auth, int32_t perm)
{
	int32_t i, j;

	if (!acl || acl->n == 0)
		return ZOK; /* as checkACL: an empty list guards nothing */
	if (auth && auth->super)
		return ZOK;
	for (j = 0; auth && j < auth->n; j++)
		if (strcmp(auth->v[j].scheme, "super") == 0)
			return ZOK;
	for (i = 0; i < acl->n; i++) {
		const struct zacl *z = &acl->v[i];

		if (!(z->perms & perm))
			continue;
		if (strcmp(z->scheme, "world") == 0 && strcmp(z->id, "anyone") == 0)
			return ZOK;
		for (j = 0; auth && j < auth->n; j++) {
			const struct zid *c = &auth->v[j];

			if (strcmp(c->scheme, z->scheme) != 0)
				continue;
			if ((strcmp(z->scheme, "digest") == 0 || strcmp(z->scheme, "sasl") == 0) &&
			    strcmp(c->id, z->id) == 0)
				return ZOK;
			if (strcmp(z->scheme, "ip") == 0 && ip_matches(c->id, z->id))
				return ZOK;
		}
	}
	return ZNOAUTH;
}

char *acl_digest(const char *user_colon_password)
{
	unsigned char md[SHA_DIGEST_LENGTH];
	unsigned char b64[4 * ((SHA_DIGEST_LENGTH + 2) / 3) + 1];
	const char *colon;
	size_t ulen;
	char *out;

	if (!user_colon_password)
		return NULL;
	colon = strchr(user_colon_password, ':');
	if (!colon)
		return NULL;
	ulen = (size_t)(colon - user_colon_password);
	SHA1((const unsigned char *)user_colon_password, strlen(user_colon_password), md);
	EVP_EncodeBlock(b64, md, SHA_DIGEST_LENGTH);
	out = malloc(ulen + 1 + sizeof(b64));
	if (!out)
		return NULL;
	memcpy(out, user_colon_password, ulen);
	out[ulen] = ':';
	memcpy(out + ulen + 1, b64, sizeof(b64));
	return out;
}

int zauth_add(struct zauth *a, const char *scheme, const char *id)
{
	struct zid *v;
	char *s, *i;

	s = strdup(scheme);
	i = strdup(id ? id : "");
	v = realloc(a->v, (size_t)(a->n + 1) * sizeof(*v));
	if (!s || !i || !v) {
		free(s);
		free(i);
		if (v)
			a->v = v;
		return -ENOMEM;
	}
	a->v = v;
	v[a->n].scheme = s;
	v[a->n].id = i;
	a->n++;
	return 0;
}

void zauth_free(struct zauth *a)
{
	int32_t i;

	if (!a)
		return;
	for (i = 0; i < a->n; i++) {
		free(a->v[i].scheme);
		free(a->v[i].id);
	}
	free(a->v);
	a->v = NULL;
	a->n = 0;
	a->super = 0;
}
