/* snapshot_codec.c - binary ACL and checksum of snapshot rows; see
 * snapshot_codec.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "snapshot_codec.h"
#include "crc32c.h"

#define ACL_MAX_ENTRIES 4096
#define ACL_MAX_STR	4096

void snapshot_acl_encode(const struct acl_list *acl, struct buf *out)
{
	int32_t i;

	buf_put_u32(out, (uint32_t)acl->n);
	for (i = 0; i < acl->n; i++) {
		buf_put_u32(out, (uint32_t)acl->v[i].perms);
		buf_put_str(out, acl->v[i].scheme);
		buf_put_str(out, acl->v[i].id);
	}
}

int snapshot_acl_decode(const void *p, size_t n, struct acl_list *out)
{
	struct rd r;
	int32_t cnt, i;

	out->n = 0;
	out->v = NULL;
	rd_init(&r, p, n);
	cnt = (int32_t)rd_u32(&r);
	if (!rd_ok(&r) || cnt < 0 || cnt > ACL_MAX_ENTRIES)
		return -EBADMSG;
	if (!cnt)
		goto check_end;
	out->v = calloc((size_t)cnt, sizeof(*out->v));
	if (!out->v)
		return -ENOMEM;
	for (i = 0; i < cnt; i++) {
		out->v[i].perms = (int32_t)rd_u32(&r);
		out->v[i].scheme = rd_str(&r, ACL_MAX_STR);
		out->v[i].id = rd_str(&r, ACL_MAX_STR);
		out->n = i + 1;
		if (!rd_ok(&r) || !out->v[i].scheme || !out->v[i].id)
			goto err_after_alloc;
	}
check_end:
	if (r.left == 0)
		return 0;
err_after_alloc:
	acl_free(out);
	out->n = 0;
	out->v = NULL;
	return -EBADMSG;
}

uint32_t snapshot_node_crc(uint32_t crc, const struct znode *n, const void *data,
			   const void *acl, size_t acl_len)
{
	const struct zstat *s = &n->stat;
	const int64_t f[] = {
	    s->czxid,	       s->mzxid,	s->ctime,	s->mtime,
	    s->version,	       s->cversion,	s->aversion,	s->ephemeral_owner,
	    s->pzxid,	       s->num_children, s->data_length, n->kind,
	    (int64_t)n->flags, n->ttl_ms,	n->child_kind,	n->child_ttl_ms,
	};
	uint8_t be[sizeof(f)];
	uint64_t v;
	size_t i;
	int k;

	crc = crc32c(crc, n->path, strlen(n->path) + 1);
	if (s->data_length > 0)
		crc = crc32c(crc, data, (size_t)s->data_length);
	/* The fields as 8 big-endian bytes each, checksummed in one call. */
	for (i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
		v = (uint64_t)f[i];
		for (k = 7; k >= 0; k--) {
			be[i * 8 + (size_t)k] = (uint8_t)v;
			v >>= 8;
		}
	}
	crc = crc32c(crc, be, sizeof(be));
	return crc32c(crc, acl, acl_len);
}

uint32_t snapshot_session_crc(uint32_t crc, int64_t id, int32_t timeout_ms,
			      const char *owner)
{
	crc = crc32c_u64(crc, (uint64_t)id);
	crc = crc32c_u64(crc, (uint64_t)(int64_t)timeout_ms);
	return crc32c(crc, owner, strlen(owner) + 1);
}
