/*
 * zerr.h - ZooKeeper's error codes (KeeperException.Code), the one error
 * vocabulary of the tree, the transaction layer and the wire protocol.
 *
 * Functions of the tree and transaction layer return ZOK (0) or one of these
 * negative codes; system-level functions (storage, config, network) return a
 * negative errno instead, and say so in their header. The two ranges overlap,
 * so a function never mixes them.
 */
#ifndef QFS_ZERR_H
#define QFS_ZERR_H

enum zerr {
	ZOK = 0,
	ZSYSTEMERROR = -1,
	ZRUNTIMEINCONSISTENCY = -2,
	ZDATAINCONSISTENCY = -3,
	ZCONNECTIONLOSS = -4,
	ZMARSHALLINGERROR = -5,
	ZUNIMPLEMENTED = -6,
	ZOPERATIONTIMEOUT = -7,
	ZBADARGUMENTS = -8,
	ZNEWCONFIGNOQUORUM = -13,
	ZRECONFIGINPROGRESS = -14,
	ZUNKNOWNSESSION = -12,
	ZAPIERROR = -100,
	ZNONODE = -101,
	ZNOAUTH = -102,
	ZBADVERSION = -103,
	ZNOCHILDRENFOREPHEMERALS = -108,
	ZNODEEXISTS = -110,
	ZNOTEMPTY = -111,
	ZSESSIONEXPIRED = -112,
	ZINVALIDCALLBACK = -113,
	ZINVALIDACL = -114,
	ZAUTHFAILED = -115,
	ZCLOSING = -116,
	ZNOTHING = -117,
	ZSESSIONMOVED = -118,
	ZNOTREADONLY = -119,
	ZEPHEMERALONLOCALSESSION = -120,
	ZNOWATCHER = -121,
	ZREQUESTTIMEOUT = -122,
	ZRECONFIGDISABLED = -123,
	ZSESSIONCLOSEDREQUIRESASLAUTH = -124,
	ZQUOTAEXCEEDED = -125,
	ZTHROTTLEDOP = -127,
};

/* The code's name ("NONODE"), or "UNKNOWN" for a value not in the list. */
const char *zerr_str(int code);

/*
 * The errno a shell user expects for a ZooKeeper error (DESIGN.md section 1):
 * ZNONODE -> ENOENT, ZNODEEXISTS -> EEXIST, ZNOTEMPTY -> ENOTEMPTY,
 * ZNOAUTH -> EACCES, ZBADVERSION -> ESTALE, ZNOTREADONLY/ZCONNECTIONLOSS ->
 * EROFS, ZBADARGUMENTS -> EINVAL, ZNOCHILDRENFOREPHEMERALS -> EPERM, ... .
 * Returns a positive errno; EIO for anything without a better match.
 */
int zerr_to_errno(int code);

#endif
