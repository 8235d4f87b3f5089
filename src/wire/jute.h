/*
 * jute.h - the records of ZooKeeper's client protocol (zookeeper.jute), declared
 * once; structs, encoders, decoders and destructors are all derived from the
 * lists below (STYLE.md rule 7).
 *
 * Byte format (jute's BinaryOutputArchive), all integers big-endian:
 *   int     4 bytes, two's complement
 *   long    8 bytes
 *   bool    1 byte, 0 or 1 (any non-zero byte decodes as true)
 *   buffer  int length (-1: null), then that many bytes
 *   ustring as buffer, UTF-8 (embedded NULs are refused on decode)
 *   vector  int count (-1: null), then the elements back to back
 *   record  its fields in order, no header, no padding
 *
 * Framing (ClientCnxnSocket / NIOServerCnxn): every message in either direction
 * is an int length followed by that many bytes. The first frame from a client
 * is a ConnectRequest with no header, answered by a ConnectResponse. After it a
 * request is RequestHeader + the body for its opcode, and a reply is
 * ReplyHeader + the body for the request's opcode (no body when err != 0,
 * except for multi). A watch notification is a reply with xid JUTE_XID_WATCH
 * and a WatcherEvent body.
 *
 * Types reused from elsewhere: Stat is struct zstat (tree.h), ACL is struct
 * zacl, vector<ACL> is struct acl_list and Id is struct zid (acl.h). jute's ACL
 * is {int perms; Id id}; flattened to {perms, scheme, id} it has the same
 * bytes, which is how struct zacl is laid out.
 *
 * Decoding: every length and count is checked against the bytes left and
 * against `max` (jute.maxbuffer) before anything is used or allocated.
 * Lengths below -1 are refused. A null vector decodes as an empty one.
 *
 * Ownership: a decoded record owns all its strings, buffers and vectors;
 * release them with jute_free_NAME(), which also accepts a zeroed or partly
 * decoded record. A record built by a caller for encoding may point at
 * borrowed memory and must then not be passed to jute_free_NAME().
 */
#ifndef QFS_JUTE_H
#define QFS_JUTE_H

#include <stdint.h>

#include "acl.h"
#include "buf.h"
#include "tree.h"

/* Reserved xids (ClientCnxn). */
#define JUTE_XID_WATCH	     (-1)
#define JUTE_XID_PING	     (-2)
#define JUTE_XID_AUTH	     (-4)
#define JUTE_XID_SET_WATCHES (-8)

/* WatcherEvent.type (Watcher.Event.EventType). */
enum jute_event_type {
	JUTE_EVENT_NONE = -1,
	JUTE_EVENT_CREATED = 1,
	JUTE_EVENT_DELETED = 2,
	JUTE_EVENT_DATA_CHANGED = 3,
	JUTE_EVENT_CHILD_CHANGED = 4,
	JUTE_EVENT_DATA_WATCH_REMOVED = 5,
	JUTE_EVENT_CHILD_WATCH_REMOVED = 6,
	JUTE_EVENT_PERSISTENT_WATCH_REMOVED = 7,
};

/* WatcherEvent.state (Watcher.Event.KeeperState). */
enum jute_state {
	JUTE_STATE_DISCONNECTED = 0,
	JUTE_STATE_SYNC_CONNECTED = 3,
	JUTE_STATE_AUTH_FAILED = 4,
	JUTE_STATE_CONNECTED_READONLY = 5,
	JUTE_STATE_SASL_AUTHENTICATED = 6,
	JUTE_STATE_EXPIRED = -112,
	JUTE_STATE_CLOSED = 7,
};

/* RemoveWatchesRequest / CheckWatchesRequest .type (Watcher.WatcherType). */
enum jute_watcher_type {
	JUTE_WATCHER_CHILDREN = 1,
	JUTE_WATCHER_DATA = 2,
	JUTE_WATCHER_ANY = 3,
	JUTE_WATCHER_PERSISTENT = 4,
	JUTE_WATCHER_PERSISTENT_RECURSIVE = 5,
};

/* AddWatchRequest.mode (AddWatchMode). */
enum jute_add_watch_mode {
	JUTE_ADD_WATCH_PERSISTENT = 0,
	JUTE_ADD_WATCH_PERSISTENT_RECURSIVE = 1,
};

/* Value types of record fields. */
struct jute_buffer {
	int32_t len;   /* -1: null */
	uint8_t *data; /* NULL when len <= 0 */
};

struct jute_strvec {
	int32_t n;
	char **v;
};

struct jute_client_info;
struct jute_civec {
	int32_t n;
	struct jute_client_info *v;
};

#define JUTE_CTYPE_int	   int32_t
#define JUTE_CTYPE_long	   int64_t
#define JUTE_CTYPE_bool	   int32_t
/* A bool that old peers leave out at the end of a record (ConnectRequest and
 * ConnectResponse readOnly, added in 3.4): always encoded, decoded as 0 when
 * the input ends before it. */
#define JUTE_CTYPE_optbool int32_t
#define JUTE_CTYPE_buffer  struct jute_buffer
#define JUTE_CTYPE_ustring char *
#define JUTE_CTYPE_strvec  struct jute_strvec /* vector<ustring> */
#define JUTE_CTYPE_aclvec  struct acl_list    /* vector<ACL> */
#define JUTE_CTYPE_civec   struct jute_civec  /* vector<ClientInfo> */
#define JUTE_CTYPE_stat	   struct zstat	      /* Stat */

/*
 * The fields of each record, in zookeeper.jute order: F(type, name).
 */

/* org.apache.zookeeper.data */
#define JUTE_F_id(F)  F(ustring, scheme) F(ustring, id)
#define JUTE_F_acl(F) F(int, perms) F(ustring, scheme) F(ustring, id)
#define JUTE_F_stat(F)                                                                   \
	F(long, czxid)                                                                   \
	F(long, mzxid)                                                                   \
	F(long, ctime)                                                                   \
	F(long, mtime)                                                                   \
	F(int, version)                                                                  \
	F(int, cversion)                                                                 \
	F(int, aversion) F(long, ephemeral_owner) F(int, data_length)                    \
		F(int, num_children) F(long, pzxid)
#define JUTE_F_client_info(F) F(ustring, auth_scheme) F(ustring, user)

/* org.apache.zookeeper.proto */
#define JUTE_F_connect_request(F)                                                        \
	F(int, protocol_version)                                                         \
	F(long, last_zxid_seen)                                                          \
	F(int, time_out) F(long, session_id) F(buffer, passwd) F(optbool, read_only)
#define JUTE_F_connect_response(F)                                                       \
	F(int, protocol_version)                                                         \
	F(int, time_out) F(long, session_id) F(buffer, passwd) F(optbool, read_only)
#define JUTE_F_set_watches(F)                                                            \
	F(long, relative_zxid)                                                           \
	F(strvec, data_watches) F(strvec, exist_watches) F(strvec, child_watches)
#define JUTE_F_set_watches2(F)                                                           \
	F(long, relative_zxid)                                                           \
	F(strvec, data_watches)                                                          \
	F(strvec, exist_watches)                                                         \
	F(strvec, child_watches)                                                         \
	F(strvec, persistent_watches) F(strvec, persistent_recursive_watches)
#define JUTE_F_request_header(F) F(int, xid) F(int, type)
#define JUTE_F_multi_header(F)	 F(int, type) F(bool, done) F(int, err)
#define JUTE_F_auth_packet(F)	 F(int, type) F(ustring, scheme) F(buffer, auth)
#define JUTE_F_reply_header(F)	 F(int, xid) F(long, zxid) F(int, err)
#define JUTE_F_get_data_request(F) F(ustring, path) F(bool, watch)
#define JUTE_F_set_data_request(F) F(ustring, path) F(buffer, data) F(int, version)
#define JUTE_F_reconfig_request(F)                                                       \
	F(ustring, joining_servers)                                                      \
	F(ustring, leaving_servers) F(ustring, new_members) F(long, cur_config_id)
#define JUTE_F_set_data_response(F) F(stat, stat)
#define JUTE_F_get_sasl_request(F)  F(buffer, token)
#define JUTE_F_set_sasl_response(F) F(buffer, token)
#define JUTE_F_create_request(F)                                                         \
	F(ustring, path) F(buffer, data) F(aclvec, acl) F(int, flags)
#define JUTE_F_create_ttl_request(F)                                                     \
	F(ustring, path) F(buffer, data) F(aclvec, acl) F(int, flags) F(long, ttl)
#define JUTE_F_delete_request(F)		    F(ustring, path) F(int, version)
#define JUTE_F_get_children_request(F)		    F(ustring, path) F(bool, watch)
#define JUTE_F_get_all_children_number_request(F) F(ustring, path)
#define JUTE_F_get_children2_request(F)		    F(ustring, path) F(bool, watch)
#define JUTE_F_check_version_request(F)		    F(ustring, path) F(int, version)
#define JUTE_F_sync_request(F)			    F(ustring, path)
#define JUTE_F_sync_response(F)			    F(ustring, path)
#define JUTE_F_get_acl_request(F)		    F(ustring, path)
#define JUTE_F_set_acl_request(F)		    F(ustring, path) F(aclvec, acl) F(int, version)
#define JUTE_F_set_acl_response(F)		    F(stat, stat)
#define JUTE_F_add_watch_request(F)		    F(ustring, path) F(int, mode)
#define JUTE_F_watcher_event(F)			    F(int, type) F(int, state) F(ustring, path)
#define JUTE_F_error_response(F)		    F(int, err)
#define JUTE_F_create_response(F)		    F(ustring, path)
#define JUTE_F_create2_response(F)		    F(ustring, path) F(stat, stat)
#define JUTE_F_exists_request(F)		    F(ustring, path) F(bool, watch)
#define JUTE_F_exists_response(F)		    F(stat, stat)
#define JUTE_F_get_data_response(F)		    F(buffer, data) F(stat, stat)
#define JUTE_F_get_children_response(F)		    F(strvec, children)
#define JUTE_F_get_all_children_number_response(F) F(int, total_number)
#define JUTE_F_get_children2_response(F)	    F(strvec, children) F(stat, stat)
#define JUTE_F_get_acl_response(F)		    F(aclvec, acl) F(stat, stat)
#define JUTE_F_check_watches_request(F)		    F(ustring, path) F(int, type)
#define JUTE_F_remove_watches_request(F)	    F(ustring, path) F(int, type)
#define JUTE_F_get_ephemerals_request(F)	    F(ustring, prefix_path)
#define JUTE_F_get_ephemerals_response(F)	    F(strvec, ephemerals)
#define JUTE_F_who_am_i_response(F)		    F(civec, client_info)
/* quorumfs's own (QOP_BACKUP, src/zks/zks_backup.c): offset -1 starts a
 * backup (the reply: its zxid, size and CRC-32C, no data), offset >= 0 reads
 * up to max_len bytes of it. */
#define JUTE_F_qfs_backup_request(F) F(long, offset) F(int, max_len)
#define JUTE_F_qfs_backup_response(F)                                                    \
	F(long, zxid) F(long, size) F(int, crc) F(buffer, data)

/*
 * Records whose C type is declared elsewhere: X(name, C type).
 */
#define JUTE_EXTERNAL_RECORDS(X)                                                         \
	X(id, struct zid)                                                                \
	X(acl, struct zacl)                                                              \
	X(stat, struct zstat)

/*
 * Records that get a generated `struct jute_NAME`: X(name).
 */
#define JUTE_RECORDS(X)                                                                  \
	X(client_info)                                                                   \
	X(connect_request)                                                               \
	X(connect_response)                                                              \
	X(set_watches)                                                                   \
	X(set_watches2)                                                                  \
	X(request_header)                                                                \
	X(multi_header)                                                                  \
	X(auth_packet)                                                                   \
	X(reply_header)                                                                  \
	X(get_data_request)                                                              \
	X(set_data_request)                                                              \
	X(reconfig_request)                                                              \
	X(set_data_response)                                                             \
	X(get_sasl_request)                                                              \
	X(set_sasl_response)                                                             \
	X(create_request)                                                                \
	X(create_ttl_request)                                                            \
	X(delete_request)                                                                \
	X(get_children_request)                                                          \
	X(get_all_children_number_request)                                               \
	X(get_children2_request)                                                         \
	X(check_version_request)                                                         \
	X(sync_request)                                                                  \
	X(sync_response)                                                                 \
	X(get_acl_request)                                                               \
	X(set_acl_request)                                                               \
	X(set_acl_response)                                                              \
	X(add_watch_request)                                                             \
	X(watcher_event)                                                                 \
	X(error_response)                                                                \
	X(create_response)                                                               \
	X(create2_response)                                                              \
	X(exists_request)                                                                \
	X(exists_response)                                                               \
	X(get_data_response)                                                             \
	X(get_children_response)                                                         \
	X(get_all_children_number_response)                                              \
	X(get_children2_response)                                                        \
	X(get_acl_response)                                                              \
	X(check_watches_request)                                                         \
	X(remove_watches_request)                                                        \
	X(get_ephemerals_request)                                                        \
	X(get_ephemerals_response)                                                       \
	X(who_am_i_response)                                                             \
	X(qfs_backup_request)                                                            \
	X(qfs_backup_response)

/* The generated structs. */
#define JUTE_FIELD_DECL_(type, name) JUTE_CTYPE_##type name;
#define JUTE_STRUCT_DECL_(rec)                                                           \
	struct jute_##rec {                                                              \
		JUTE_F_##rec(JUTE_FIELD_DECL_)                                           \
	};
JUTE_RECORDS(JUTE_STRUCT_DECL_)
#undef JUTE_STRUCT_DECL_
#undef JUTE_FIELD_DECL_

/*
 * Per record NAME with C type T:
 *
 * int jute_put_NAME(struct buf *b, const T *v);
 *	Append the encoding. Returns 0, or -ENOMEM if b has failed.
 * int jute_get_NAME(struct rd *r, T *v, int32_t max);
 *	Decode into *v (overwritten, caller frees with jute_free_NAME).
 *	Returns ZOK, or ZMARSHALLINGERROR with *v released and zeroed and r
 *	marked bad. max bounds every buffer, string and vector.
 * void jute_free_NAME(T *v);
 *	Release what a decode allocated and zero *v.
 */
#define JUTE_PROTOS_(rec, ctype)                                                         \
	int jute_put_##rec(struct buf *b, const ctype *v);                               \
	int jute_get_##rec(struct rd *r, ctype *v, int32_t max);                         \
	void jute_free_##rec(ctype *v);
#define JUTE_PROTOS_GEN_(rec) JUTE_PROTOS_(rec, struct jute_##rec)
JUTE_EXTERNAL_RECORDS(JUTE_PROTOS_)
JUTE_RECORDS(JUTE_PROTOS_GEN_)
#undef JUTE_PROTOS_GEN_
#undef JUTE_PROTOS_

/* Every record by number, for code that picks a record at run time (the
 * request and reply dispatch below, the fuzzer, the tests). */
enum jute_rec {
	JUTE_REC_NONE = -1, /* the message has no body */
#define JUTE_ENUM_EXT_(rec, ctype) JUTE_REC_##rec,
#define JUTE_ENUM_(rec)		   JUTE_REC_##rec,
	JUTE_EXTERNAL_RECORDS(JUTE_ENUM_EXT_) JUTE_RECORDS(JUTE_ENUM_)
#undef JUTE_ENUM_
#undef JUTE_ENUM_EXT_
		JUTE_REC_COUNT
};

union jute_any {
#define JUTE_UNION_EXT_(rec, ctype) ctype rec;
#define JUTE_UNION_(rec)	    struct jute_##rec rec;
	JUTE_EXTERNAL_RECORDS(JUTE_UNION_EXT_)
	JUTE_RECORDS(JUTE_UNION_)
#undef JUTE_UNION_
#undef JUTE_UNION_EXT_
};

/* The record's name ("connect_request"); NULL for an unknown number. */
const char *jute_rec_name(int rec);
/* The generic forms of put/get/free: rec selects the member of *v. An unknown
 * rec returns -EINVAL (put) or ZMARSHALLINGERROR (get). */
int jute_put_any(struct buf *b, int rec, const union jute_any *v);
int jute_get_any(struct rd *r, int rec, union jute_any *v, int32_t max);
void jute_free_any(int rec, union jute_any *v);

/*
 * The body of a request with this opcode (client to server), e.g.
 * ZOP_GETDATA -> JUTE_REC_get_data_request; JUTE_REC_NONE for opcodes without
 * a body (ping, closeSession, whoAmI) and for multi/multiRead, whose body is
 * a sequence (struct jute_multi below). Returns -2 for an unknown opcode.
 */
int jute_request_rec(int32_t op);
/*
 * The body of a successful reply to opcode op, e.g. ZOP_CREATE2 ->
 * JUTE_REC_create2_response; JUTE_REC_NONE when the reply is the header
 * alone, and for multi/multiRead (struct jute_multi). Returns -2 for an
 * unknown opcode.
 */
int jute_response_rec(int32_t op);

/*
 * A multi (or multiRead) request or response body: a sequence of
 * MultiHeader{type, done=false, err} + op body, ended by
 * MultiHeader{-1, true, -1} (MultiOperationRecord / MultiResponse).
 *
 * Request ops: create, create2, createContainer -> CreateRequest; createTTL ->
 * CreateTTLRequest; delete, deleteContainer -> DeleteRequest; setData ->
 * SetDataRequest; check -> CheckVersionRequest; getChildren ->
 * GetChildrenRequest; getData -> GetDataRequest; err is -1.
 * Response results: create -> CreateResponse; create2 (and createTTL,
 * createContainer) -> Create2Response; setData -> SetDataResponse; delete,
 * check -> nothing; getChildren -> GetChildrenResponse; getData ->
 * GetDataResponse; error (-1) -> ErrorResponse with err again in the header.
 */
struct jute_multi_op {
	int32_t type; /* enum zop, or ZOP_ERROR in a response */
	int32_t err;  /* response: the op's error; request: -1 */
	int rec;      /* JUTE_REC_* of body, or JUTE_REC_NONE */
	union jute_any body;
};

struct jute_multi {
	int32_t n;
	struct jute_multi_op *ops;
};

/* The body record of one multi op (request: response=0, reply: response=1),
 * JUTE_REC_NONE for a bodiless one, -2 if the type may not appear there. */
int jute_multi_op_rec(int32_t type, int response);
/* Encode a multi body including the closing header. Returns 0, -EINVAL for an
 * op type that may not appear, or -ENOMEM. */
int jute_put_multi(struct buf *b, const struct jute_multi *m, int response);
/* Decode a multi body up to and including the closing header. Returns ZOK or
 * ZMARSHALLINGERROR (*m released). The op count is bounded by the input. */
int jute_get_multi(struct rd *r, struct jute_multi *m, int response, int32_t max);
void jute_free_multi(struct jute_multi *m);

/*
 * A whole request frame's payload (after the length prefix), as a server
 * reads it once the session is connected: RequestHeader + body.
 */
struct jute_request {
	struct jute_request_header hdr;
	int rec; /* JUTE_REC_* of body, JUTE_REC_NONE for none or multi */
	union jute_any body;
	struct jute_multi multi; /* multi and multiRead */
};

/*
 * Decode n bytes (borrowed) into *req (caller frees with jute_request_free).
 * Returns ZOK, ZUNIMPLEMENTED for an unknown opcode (hdr is then valid and
 * the rest unread, so a server can reply with the error), or
 * ZMARSHALLINGERROR for malformed input, including bytes left over after the
 * body.
 */
int jute_request_decode(const void *p, size_t n, int32_t max, struct jute_request *req);
void jute_request_free(struct jute_request *req);
/* Encode header + body (no length prefix). Returns 0, -EINVAL or -ENOMEM. */
int jute_request_encode(struct buf *b, const struct jute_request *req);

/*
 * Frames: jute_frame_begin() appends a placeholder length and returns its
 * offset; jute_frame_end() fills it in with the bytes written since.
 */
size_t jute_frame_begin(struct buf *b);
void jute_frame_end(struct buf *b, size_t off);

#endif
