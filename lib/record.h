/*
 * record.h - what a record's keys are: its id, its ISRC, its fingerprint (record.c).
 *
 * Ingest decides with these keys, the readers (get, export, top ISRCs) check what they
 * hand out against them, and verify recomputes them from the shards: all three read a
 * record with the parser that wn_record_parser() sets up and take its keys with
 * wn_record_keys(), so a record means the same thing to the writer and to its checkers.
 * A new key (a normalised title, say) is added here and nowhere else.
 */
#ifndef WN_RECORD_H
#define WN_RECORD_H

#include <stddef.h>
#include <stdint.h>
#include "json.h"

struct wn_profile;

/* WN_MAX_ID (winnow.h): longer ids are never stored (they are rejected as "missing id") */
#define WN_MAX_ISRC 64    /* bytes of an ISRC value that take part in its normal form */
#define WN_MAX_ISRCS 32   /* ISRCs of one record that are indexed (the first ones) */
#define WN_ID_BUF (WN_MAX_ID + 1)   /* a composite or content id is built in a buffer of this size */

/* The parser slots wn_record_parser() fills: the ISRC paths, the id's parts, then (with
 * WN_RECORD_MATCH) the profile's title, artists and duration and the link path; a caller
 * may use slots from WN_SLOT_FREE on for its own paths (ingest's newest:FIELD, the
 * cluster builder's survivor fields). */
#define WN_ID_SLOTS 12   /* paths of an id, its parts' alternatives counted (profile.h) */
enum {
	WN_SLOT_ISRC, WN_SLOT_ISRC2, WN_SLOT_ID,
	WN_SLOT_TITLE = WN_SLOT_ID + WN_ID_SLOTS, WN_SLOT_ARTISTS, WN_SLOT_DURATION, WN_SLOT_LINK,
	WN_SLOT_FREE
};

/* What the parser must compute besides the id and ISRC slots. */
#define WN_RECORD_FP 1    /* the profile's --ignore-field paths, so fingerprints are the catalog's */
#define WN_RECORD_MATCH 2 /* the fields matching reads (wn_record_fields) */

/* Where a record names the id it was relinked from (the Web API's track relinking): its
 * id and this one are the same recording (FORMAT.md 14.5, the link edge). */
#define WN_LINK_PATH "linked_from.id"

/* Set parser j up to read records as the profile p says: the id's paths (each part's
 * alternatives in turn) from WN_SLOT_ID on, the ISRC paths in WN_SLOT_ISRC/WN_SLOT_ISRC2, and with WN_RECORD_FP
 * the ignore paths that shape the fingerprint. Returns 0, WN_E_USAGE (a path the parser
 * refuses) or WN_E_NOMEM. */
int wn_record_parser(wn_json *j, const struct wn_profile *p, unsigned what);

/* The keys of one parsed record. id points into the parser's result or into the
 * caller's id buffer (valid as long as both are); the hashes are those the index is
 * keyed by. */
typedef struct wn_keys {
	const char *id;
	size_t id_len;
	uint64_t hash;          /* XXH3-128 of the id: high half */
	uint16_t check;         /* and 16 bits of the low half, to tell colliding ids apart */
	uint8_t fp[16];
	int n_isrc;             /* ISRCs indexed (distinct normal forms) */
	int isrc_over;          /* the record had more than WN_MAX_ISRCS */
	uint64_t isrc_hash[WN_MAX_ISRCS];
} wn_keys;

/* Take the keys of a record wn_json_record() accepted (jr), as profile p says: a plain
 * id is the value at its path; a composite id the parts' values as text, joined as a
 * JSON array of strings (["2024-01-01","7"]); a content id the fingerprint in hex. A
 * part with alternatives (profile.h) takes the value of the first that has a non-empty
 * string or a number; an optional part that has none is left out of the array. buf
 * (WN_ID_BUF bytes) holds the last two. Returns 0, or WN_E_NOID when the record has no
 * usable id (a part absent, not a string or number, empty; longer than WN_MAX_ID): then
 * why (if not NULL) says which, naming the path. */
int wn_record_keys(const wn_jresult *jr, const struct wn_profile *p, wn_keys *k, char *buf, char *why, size_t whylen);

/* The value of id part i of a parsed record (its first alternative with a value), or
 * NULL when it has none. */
const struct wn_jslot *wn_record_id_part(const wn_jresult *jr, const struct wn_profile *p, int i);
/* The same for every part at once (NULL past the last part). */
void wn_record_id_values(const wn_jresult *jr, const struct wn_profile *p, const struct wn_jslot *out[8]);

/* The ISRC values of a parsed record: the first ISRC slot that holds a string or an
 * array; an array gives each of its strings (unescaped into the list's buffer). */
typedef struct wn_isrcs {
	int n;
	int over;               /* more strings than WN_MAX_ISRCS */
	const char *p[WN_MAX_ISRCS];
	size_t len[WN_MAX_ISRCS];
	char buf[WN_MAX_ISRCS * WN_MAX_ISRC];
} wn_isrcs;
void wn_record_isrcs(const wn_jresult *jr, wn_isrcs *out);

/* Hashes of the keys, as the index stores them. */
void wn_id_hash(const char *id, size_t n, uint64_t *hash, uint16_t *check);
uint64_t wn_isrc_hash(const char *isrc, size_t n);    /* of the normal form */
size_t wn_isrc_norm(char *out, const char *isrc, size_t n); /* upper-case, [A-Z0-9] only; out >= n bytes */
/* Is the ISRC value a valid ISRC? Its normal form (wn_isrc_norm of the first WN_MAX_ISRC
 * bytes) must match ^[A-Z]{2}[A-Z0-9]{3}[0-9]{7}$ and not begin with "TC" (the code of
 * test and placeholder ISRCs). Returns the normal form packed as a base-36 number (digits
 * 0-9, letters 10-35, first character most significant): exact, never 0, below 2^63; or 0
 * when the value is not a valid ISRC. */
uint64_t wn_isrc_valid(const char *isrc, size_t n);
uint64_t wn_fp_key(const uint8_t fp[16]);             /* the fp map's key: the first 8 bytes */

/* ---- the fields matching reads (parser set up with WN_RECORD_MATCH) ---- */
#define WN_MAX_NAMES 16         /* artists of a structured list that are read (the first ones) */
#define WN_MAX_NAME 256         /* bytes of one name that are read */
#define WN_MAX_AID 64           /* bytes of an artist object's id that are read */
#define WN_NODUR UINT32_MAX     /* no usable duration */

typedef struct wn_fields {
	const char *title;          /* a string at the title path, or NULL */
	size_t title_len;
	int nnames;                 /* a structured list: an array of names or of objects with "name" */
	const char *name[WN_MAX_NAMES];
	size_t name_len[WN_MAX_NAMES];
	const char *credit;         /* else a string at the artists path (a credit to split), or NULL */
	size_t credit_len;
	uint32_t dur_ms;            /* a number (or a string of digits) at the duration path, in ms,
	                               its integer part; WN_NODUR when absent, negative or >= 2^32-1 */
	const char *link;           /* a string or number at WN_LINK_PATH, or NULL */
	size_t link_len;
	/* the "id" string of each object of a structured list (aid_len 0: none, or longer
	 * than WN_MAX_AID - 1 bytes), beside name[i]: which artist records a track credits */
	const char *aid[WN_MAX_NAMES];
	size_t aid_len[WN_MAX_NAMES];
	char buf[WN_MAX_NAMES * WN_MAX_NAME];   /* unescaped names */
	char aidbuf[WN_MAX_NAMES * WN_MAX_AID];
} wn_fields;
/* Read the matching fields of a record parsed with WN_RECORD_MATCH; pointers go into jr
 * and f->buf. Cannot fail: a field of another shape counts as absent. */
void wn_record_fields(const wn_jresult *jr, wn_fields *f);

#endif
