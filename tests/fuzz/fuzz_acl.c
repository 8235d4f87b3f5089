/*
 * fuzz_acl.c - libFuzzer target for the ACL text form (acl_parse), what
 * a user writes to a node's ACL attribute through the mount
 * (setfattr -n user.quorumfs.acl -v ...), and for acl_fixup of what it accepts.
 *
 * Properties: any text (cut at the first NUL) parses or is refused with a
 * reason, never a crash or a leak; what parses formats (acl_format) to
 * text that parses to an equal ACL; acl_fixup of it, for a caller with one
 * digest identity, either refuses it or gives an ACL that formats and
 * parses back the same way. Seeds: tests/fuzz/corpus/acl/.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "acl.h"
#include "zerr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* a formats to text that parses to an ACL equal to a */
static void round_trip(const struct acl_list *a)
{
	struct acl_list b;
	char why[256];
	char *text = acl_format(a);

	if (!text)
		abort();
	if (acl_parse(text, &b, why, sizeof(why)) != ZOK || !acl_equal(a, &b))
		abort();
	acl_free(&b);
	free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct zid ids[] = {{"digest", "ops:Rk5kW8rkcbVAb7ld1+MxFbRFqXY="}};
	struct zauth auth = {1, ids, 0};
	struct acl_list a, f;
	char why[256], *text = malloc(size + 1);

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = 0;
	why[0] = 0;
	if (acl_parse(text, &a, why, sizeof(why)) != ZOK) {
		if (!why[0])
			abort(); /* refused without a reason */
		free(text);
		return 0;
	}
	free(text);
	round_trip(&a);
	if (acl_fixup(&a, &auth, &f) == ZOK) {
		round_trip(&f);
		acl_free(&f);
	}
	acl_free(&a);
	return 0;
}
