/*
 * json.h - strict JSON record parser, canonical fingerprint and field extraction.
 *
 * Internal to libwinnow (never installed). One wn_json handle per thread; a handle
 * is reused for every record so that parsing allocates nothing on the hot path.
 */
#ifndef WN_JSON_H
#define WN_JSON_H

#include <stddef.h>
#include <stdint.h>

/* Version of the canonical form hashed into a fingerprint. Stored in every catalog;
 * any change to what json.c feeds XXH3-128 must bump it. */
#define WN_FP_VERSION 1

#define WN_JSON_MAX_SLOTS 24  /* field paths extracted per record (a node's mask is 32 bits) */
#define WN_JSON_MAX_DEPTH 64  /* deeper nesting is rejected */

typedef struct wn_json wn_json;

enum wn_jtype {
	WN_JT_NONE = 0, /* path not present in the record */
	WN_JT_NULL,
	WN_JT_FALSE,
	WN_JT_TRUE,
	WN_JT_NUMBER,
	WN_JT_STRING,
	WN_JT_ARRAY,
	WN_JT_OBJECT
};

/* One extracted value. For a string, ptr/len are the unescaped UTF-8 bytes; for a
 * number, its literal text; for true/false/null the literal; for arrays and objects,
 * the raw text of the value as it stands in the input. Valid until the next call on
 * the same handle (may point into the input buffer or into the handle's arena). */
typedef struct wn_jslot {
	int type;
	const char *ptr;
	size_t len;
} wn_jslot;

typedef struct wn_jresult {
	uint8_t fp[16];                    /* XXH3-128 of the canonical form, canonical (big-endian) bytes */
	wn_jslot slot[WN_JSON_MAX_SLOTS];  /* one per path set with wn_json_set_slot() */
	const uint8_t *canon;              /* the canonical bytes that were hashed (valid until next call) */
	size_t canon_len;
	size_t err_offset;                 /* on error: byte offset in the input where it was detected */
	char err[160];                     /* on error: reason, lower-case, no full stop */
} wn_jresult;

/* Create a parser. Returns NULL when out of memory. */
wn_json *wn_json_new(void);
/* Free a parser; NULL is accepted. */
void wn_json_free(wn_json *j);

/* Extract the value at `path` into result slot `slot` (0 <= slot < WN_JSON_MAX_SLOTS).
 * path is a dotted object path: "id", "external_ids.isrc", "album.release_date".
 * A path of NULL clears the slot. The string is copied. Returns 0, or WN_E_USAGE for
 * an empty path or a bad slot number. */
int wn_json_set_slot(wn_json *j, int slot, const char *path);

/* Leave the member at `path` (dotted, as above) out of the canonical form, so that
 * its value does not change the fingerprint. Repeatable. The string is copied.
 * Returns 0, WN_E_USAGE for an empty path, WN_E_NOMEM. */
int wn_json_add_ignore(wn_json *j, const char *path);

/* Parse buf[0..len) as exactly one JSON object (leading/trailing JSON whitespace is
 * allowed, anything else after the value is an error), validate it strictly
 * (RFC 8259 grammar, UTF-8 per RFC 3629: no overlongs, no surrogates encoded in
 * UTF-8, nothing above U+10FFFF), compute its fingerprint and fill the slots.
 * Returns 0, or a negative WN_E_* code with res->err and res->err_offset set:
 *   WN_E_UTF8      invalid UTF-8 in the input
 *   WN_E_PARSE     any grammar error (message says which: "unterminated string",
 *                  "expected ':' after object key", "trailing data after value", ...)
 *   WN_E_NOTOBJECT the value is valid JSON but not an object
 *   WN_E_DEPTH     nesting deeper than WN_JSON_MAX_DEPTH
 *   WN_E_DUPKEY    an object has the same key twice (after unescaping)
 *   WN_E_NOMEM     out of memory */
int wn_json_record(wn_json *j, const char *buf, size_t len, wn_jresult *res);

/* wn_json_quote() (winnow.h, public: the tools use it too) without the quotes: `out`
 * needs room for 6*n bytes. The library's one JSON escaper (util.c). */
size_t wn_json_escape(char *out, const char *s, size_t n);

#endif
