/*
 * acl.h - ZooKeeper ACLs: lists of (perms, scheme, id), their text form, and
 * the permission check.
 *
 * Permissions (ZooDefs.Perms): READ 1, WRITE 2, CREATE 4, DELETE 8, ADMIN 16.
 * Schemes: world (id "anyone"), auth (the caller's own ids, expanded at
 * create/setACL time), digest (id "user:base64(sha1(user:password))"),
 * sasl (id: the user name a SASL DIGEST-MD5 login proved),
 * ip (id "a.b.c.d" or "a.b.c.d/bits"), super (the superuser, all rights).
 *
 * Text form, as zkCli prints and `user.quorumfs.acl` shows and takes:
 *   world:anyone:cdrwa,digest:ops:XyZ...=:rw,ip:10.0.0.0/8:r
 */
#ifndef QFS_ACL_H
#define QFS_ACL_H

#include <stddef.h>
#include <stdint.h>

#define ZPERM_READ 1
#define ZPERM_WRITE 2
#define ZPERM_CREATE 4
#define ZPERM_DELETE 8
#define ZPERM_ADMIN 16
#define ZPERM_ALL 31

struct zacl {
	int32_t perms;
	char *scheme;
	char *id;
};

struct acl_list {
	int32_t n;
	struct zacl *v;
};

/* One identity a caller has proved: ("ip", "127.0.0.1"), ("digest", "ops:hash"),
 * ("super", ""). */
struct zid {
	char *scheme;
	char *id;
};

struct zauth {
	int32_t n;
	struct zid *v;
	int super; /* bypasses every check, as ZooKeeper's superDigest does */
};

/* world:anyone:cdrwa, ZooDefs.Ids.OPEN_ACL_UNSAFE. Borrowed, static. */
const struct acl_list *acl_open_unsafe(void);

/* Deep copy; returns 0 or -ENOMEM. dst is overwritten (not freed). */
int acl_copy(struct acl_list *dst, const struct acl_list *src);
void acl_free(struct acl_list *a);
int acl_equal(const struct acl_list *a, const struct acl_list *b);

/* Parse the text form into *out (caller frees with acl_free). Returns ZOK or
 * ZINVALIDACL; on error errbuf says what was wrong. */
int acl_parse(const char *text, struct acl_list *out, char *errbuf, size_t errlen);
/* Format into a malloc'd string (caller frees); NULL on ENOMEM. */
char *acl_format(const struct acl_list *a);

/* Validate an ACL given in a create/setACL and expand "auth" entries with the
 * caller's ids, as ZooKeeper's PrepRequestProcessor.fixupACL does. Returns ZOK
 * (with *out owned by the caller) or ZINVALIDACL. */
int acl_fixup(const struct acl_list *in, const struct zauth *auth, struct acl_list *out);

/* Does auth hold perm on a node with this ACL? Returns ZOK or ZNOAUTH. */
int acl_check(const struct acl_list *acl, const struct zauth *auth, int32_t perm);

/* "user:password" -> "user:base64(sha1(user:password))" (malloc'd), as
 * DigestAuthenticationProvider.generateDigest. NULL on bad input/ENOMEM. */
char *acl_digest(const char *user_colon_password);

int zauth_add(struct zauth *a, const char *scheme, const char *id);
void zauth_free(struct zauth *a);

#endif
