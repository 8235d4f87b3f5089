/* test_acl.c - ACL text form, digests, fixupACL and the permission check.
 * Expected digests were computed independently:
 *   python3 -c "import hashlib,base64;
 *     print(base64.b64encode(hashlib.sha1(b'super:test').digest()))"
 * and "super:test" -> D/InIHSb7yEEbrWz8b9l71RjZJU= is the value ZooKeeper's
 * administrator guide prints. */
#include <stdlib.h>
#include <string.h>

#include "acl.h"
#include "tap.h"
#include "zerr.h"

static void test_digest(void)
{
	static const struct {
		const char *in, *out;
	} kat[] = {
	    {"super:test", "super:D/InIHSb7yEEbrWz8b9l71RjZJU="},
	    {"super:superpw", "super:g9oN2HttPfn8MMWJZ2r45Np/LIA="},
	    {"ops:secret", "ops:w4PIv8/Wzcq4qj4/MfEQ8pvUSS4="},
	    {"user:password", "user:tpUq/4Pn5A64fVZyQ0gOJ8ZWqkY="},
	    {"bob:", "bob:tK1fpNO1hB0F++FhHpSq0Fa4tv0="},
	};
	size_t i;
	char *d;

	for (i = 0; i < sizeof(kat) / sizeof(kat[0]); i++) {
		d = acl_digest(kat[i].in);
		TAP_STREQ(d, kat[i].out);
		free(d);
	}
	TAP_ASSERT(acl_digest("nocolon") == NULL);
	TAP_ASSERT(acl_digest(NULL) == NULL);
}

static void test_parse_format(void)
{
	struct acl_list a;
	char err[128], *s;

	TAP_EQ(acl_parse("world:anyone:cdrwa,digest:ops:XyZ=:rw,ip:10.0.0.0/8:r", &a, err,
			 sizeof(err)),
	       ZOK);
	TAP_EQ(a.n, 3);
	TAP_STREQ(a.v[0].scheme, "world");
	TAP_STREQ(a.v[0].id, "anyone");
	TAP_EQ(a.v[0].perms, ZPERM_ALL);
	TAP_STREQ(a.v[1].id, "ops:XyZ=");
	TAP_EQ(a.v[1].perms, ZPERM_READ | ZPERM_WRITE);
	TAP_STREQ(a.v[2].id, "10.0.0.0/8");
	s = acl_format(&a);
	TAP_STREQ(s, "world:anyone:cdrwa,digest:ops:XyZ=:rw,ip:10.0.0.0/8:r");
	free(s);
	acl_free(&a);
	/* letters in any order come out in zkCli's cdrwa order */
	TAP_EQ(acl_parse("world:anyone:awrdc\n", &a, err, sizeof(err)), ZOK);
	s = acl_format(&a);
	TAP_STREQ(s, "world:anyone:cdrwa");
	free(s);
	acl_free(&a);
	TAP_EQ(acl_parse("ip:::1:r", &a, err, sizeof(err)), ZOK);
	TAP_STREQ(a.v[0].id, "::1");
	acl_free(&a);
	TAP_EQ(acl_parse("world:anyone:", &a, err, sizeof(err)), ZOK);
	TAP_EQ(a.v[0].perms, 0);
	s = acl_format(&a);
	TAP_STREQ(s, "world:anyone:");
	free(s);
	acl_free(&a);
	TAP_EQ(acl_parse("world:anyone:x", &a, err, sizeof(err)), ZINVALIDACL);
	TAP_ASSERT(strstr(err, "permissions"));
	TAP_EQ(acl_parse("world:anyone", &a, err, sizeof(err)), ZINVALIDACL);
	TAP_EQ(acl_parse("", &a, err, sizeof(err)), ZINVALIDACL);
	TAP_EQ(acl_parse(":x:r", &a, err, sizeof(err)), ZINVALIDACL);
	TAP_EQ(acl_parse(NULL, &a, err, sizeof(err)), ZINVALIDACL);
	TAP_EQ(a.n, 0);
}

static void test_copy_equal(void)
{
	struct acl_list a, b;
	char err[64];

	TAP_EQ(acl_parse("world:anyone:r,ip:1.2.3.4:w", &a, err, sizeof(err)), ZOK);
	TAP_EQ(acl_copy(&b, &a), 0);
	TAP_ASSERT(acl_equal(&a, &b));
	b.v[1].perms = ZPERM_READ;
	TAP_ASSERT(!acl_equal(&a, &b));
	TAP_ASSERT(!acl_equal(&a, acl_open_unsafe()));
	acl_free(&a);
	acl_free(&b);
	TAP_EQ(acl_open_unsafe()->n, 1);
}

static int fixup(const char *text, const struct zauth *auth, struct acl_list *out)
{
	struct acl_list in;
	char err[64];
	int rc;

	TAP_EQ(acl_parse(text, &in, err, sizeof(err)), ZOK);
	rc = acl_fixup(&in, auth, out);
	acl_free(&in);
	return rc;
}

static void test_fixup(void)
{
	struct zauth auth = {0};
	struct acl_list out;
	struct acl_list empty = {0, NULL};

	TAP_EQ(acl_fixup(&empty, NULL, &out), ZINVALIDACL);
	TAP_EQ(acl_fixup(NULL, NULL, &out), ZINVALIDACL);
	TAP_EQ(fixup("world:anyone:r", NULL, &out), ZOK);
	acl_free(&out);
	TAP_EQ(fixup("world:someone:r", NULL, &out), ZINVALIDACL);
	TAP_EQ(fixup("super::r", NULL, &out), ZINVALIDACL);
	TAP_EQ(fixup("sasl:x:r", NULL, &out), ZOK); /* the SASL provider */
	acl_free(&out);
	TAP_EQ(fixup("digest:a:b:r", NULL, &out), ZOK);
	acl_free(&out);
	TAP_EQ(fixup("digest:ab:r", NULL, &out), ZINVALIDACL);
	TAP_EQ(fixup("digest:a::r", NULL, &out), ZINVALIDACL);
	TAP_EQ(fixup("digest:a:b:c:r", NULL, &out), ZINVALIDACL);
	TAP_EQ(fixup("ip:10.1.2.3:r", NULL, &out), ZOK);
	acl_free(&out);
	TAP_EQ(fixup("ip:10.0.0.0/8:r", NULL, &out), ZOK);
	acl_free(&out);
	TAP_EQ(fixup("ip:10.0.0.0/33:r", NULL, &out), ZINVALIDACL);
	TAP_EQ(fixup("ip:10.0.0:r", NULL, &out), ZINVALIDACL);
	TAP_EQ(fixup("ip:fe80::/10:r", NULL, &out), ZOK);
	acl_free(&out);
	TAP_EQ(fixup("ip:host.name:r", NULL, &out), ZINVALIDACL);
	/* duplicates go */
	TAP_EQ(fixup("world:anyone:r,world:anyone:r,world:anyone:w", NULL, &out), ZOK);
	TAP_EQ(out.n, 2);
	acl_free(&out);
	/* auth expands to the caller's authenticated ids; ip ones do not count */
	TAP_EQ(zauth_add(&auth, "ip", "127.0.0.1"), 0);
	TAP_EQ(fixup("auth::rw", &auth, &out), ZINVALIDACL);
	TAP_EQ(zauth_add(&auth, "digest", "u:h1"), 0);
	TAP_EQ(zauth_add(&auth, "digest", "v:h2"), 0);
	TAP_EQ(fixup("auth::rw,world:anyone:r", &auth, &out), ZOK);
	TAP_EQ(out.n, 3);
	TAP_STREQ(out.v[0].id, "u:h1");
	TAP_STREQ(out.v[1].id, "v:h2");
	TAP_EQ(out.v[1].perms, ZPERM_READ | ZPERM_WRITE);
	TAP_STREQ(out.v[2].scheme, "world");
	acl_free(&out);
	zauth_free(&auth);
}

static int check(const char *acl_text, const char *scheme, const char *id, int perm)
{
	struct acl_list a;
	struct zauth auth = {0};
	char err[64];
	int rc;

	TAP_EQ(acl_parse(acl_text, &a, err, sizeof(err)), ZOK);
	if (scheme)
		TAP_EQ(zauth_add(&auth, scheme, id), 0);
	rc = acl_check(&a, &auth, perm);
	acl_free(&a);
	zauth_free(&auth);
	return rc;
}

static void test_check(void)
{
	struct zauth su = {0};
	struct acl_list none = {0, NULL};

	TAP_EQ(check("world:anyone:r", NULL, NULL, ZPERM_READ), ZOK);
	TAP_EQ(check("world:anyone:r", NULL, NULL, ZPERM_WRITE), ZNOAUTH);
	TAP_EQ(check("world:anyone:cdwa", NULL, NULL, ZPERM_READ), ZNOAUTH);
	TAP_EQ(check("digest:u:h:w", "digest", "u:h", ZPERM_WRITE), ZOK);
	TAP_EQ(check("digest:u:h:w", "digest", "u:x", ZPERM_WRITE), ZNOAUTH);
	TAP_EQ(check("digest:u:h:w", "ip", "u:h", ZPERM_WRITE), ZNOAUTH);
	TAP_EQ(check("ip:10.0.0.0/8:r", "ip", "10.200.1.2", ZPERM_READ), ZOK);
	TAP_EQ(check("ip:10.0.0.0/8:r", "ip", "11.0.0.1", ZPERM_READ), ZNOAUTH);
	TAP_EQ(check("ip:192.168.1.0/25:r", "ip", "192.168.1.127", ZPERM_READ), ZOK);
	TAP_EQ(check("ip:192.168.1.0/25:r", "ip", "192.168.1.128", ZPERM_READ), ZNOAUTH);
	TAP_EQ(check("ip:1.2.3.4:r", "ip", "1.2.3.4", ZPERM_READ), ZOK);
	TAP_EQ(check("ip:1.2.3.4:r", "ip", "1.2.3.5", ZPERM_READ), ZNOAUTH);
	TAP_EQ(check("ip:0.0.0.0/0:r", "ip", "8.8.8.8", ZPERM_READ), ZOK);
	TAP_EQ(check("ip:2001:db8::/32:r", "ip", "2001:db8::1", ZPERM_READ), ZOK);
	TAP_EQ(check("ip:2001:db8::/32:r", "ip", "2001:db9::1", ZPERM_READ), ZNOAUTH);
	TAP_EQ(check("ip:2001:db8::/32:r", "ip", "10.0.0.1", ZPERM_READ), ZNOAUTH);
	TAP_EQ(check("ip:10.0.0.1:r", "ip", "garbage", ZPERM_READ), ZNOAUTH);
	/* the superuser, by flag or by a "super" id */
	TAP_EQ(check("digest:u:h:r", "super", "", ZPERM_ADMIN), ZOK);
	su.super = 1;
	TAP_EQ(acl_check(acl_open_unsafe(), &su, ZPERM_ADMIN), ZOK);
	/* an empty ACL guards nothing, as ZooKeeper's checkACL */
	TAP_EQ(acl_check(&none, NULL, ZPERM_ADMIN), ZOK);
	TAP_EQ(acl_check(acl_open_unsafe(), NULL, ZPERM_DELETE), ZOK);
}

/* sasl ids: valid in an ACL, matched exactly, expanded by "auth". */
static void test_sasl(void)
{
	struct acl_list in, out, out2;
	struct zauth who = {0}, other = {0};
	char err[128];

	TAP_EQ(acl_parse("sasl:jaasuser:cdrwa", &in, err, sizeof(err)), ZOK);
	TAP_EQ(acl_fixup(&in, NULL, &out), ZOK);
	TAP_EQ(zauth_add(&who, "sasl", "jaasuser"), 0);
	TAP_EQ(zauth_add(&other, "sasl", "jaasuser2"), 0);
	TAP_EQ(acl_check(&out, &who, ZPERM_READ), ZOK);
	TAP_EQ(acl_check(&out, &other, ZPERM_READ), ZNOAUTH);
	TAP_EQ(acl_check(&out, NULL, ZPERM_READ), ZNOAUTH);
	acl_free(&in);
	acl_free(&out);
	TAP_EQ(acl_parse("auth::rw", &in, err, sizeof(err)), ZOK);
	TAP_EQ(acl_fixup(&in, &who, &out2), ZOK);
	TAP_EQ(out2.n, 1);
	TAP_STREQ(out2.v[0].scheme, "sasl");
	TAP_STREQ(out2.v[0].id, "jaasuser");
	acl_free(&in);
	acl_free(&out2);
	TAP_EQ(acl_parse("sasl::r", &in, err, sizeof(err)), ZOK);
	TAP_EQ(acl_fixup(&in, NULL, &out), ZINVALIDACL);
	acl_free(&in);
	zauth_free(&who);
	zauth_free(&other);
}

static const struct tap_case cases[] = {
    {"sasl", test_sasl},
    {"digest_known_answers", test_digest},
    {"parse_format", test_parse_format},
    {"copy_equal", test_copy_equal},
    {"fixup", test_fixup},
    {"check", test_check},
};

TAP_MAIN(cases)
