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

/* ---- edits made in the same pass -------------------------------------------------
 * A record profile's transforms (transform.c owns what they mean) can be applied while
 * the record is parsed: the parser then also writes the record out as text, members
 * left out, keys renamed and values replaced, and its canonical form, fingerprint and
 * slots are those of that text, as if the text had been parsed instead. The edit trie
 * is the transformer's: json.c asks it, member by member of the objects it reaches,
 * what to do, and does it. */
enum wn_jedit_how {
	WN_JE_COPY = 0,   /* the value as it stands */
	WN_JE_REBUILD,    /* an object or array whose members the trie says more about */
	WN_JE_EACH,       /* every scalar in it replaced (keys kept), null kept */
	WN_JE_WHOLE       /* the value replaced as a whole, null kept */
};

typedef struct wn_jedit_member {
	int node;             /* its edit node, -1: no path reaches it */
	int skip;             /* left out of the record */
	const char *rename;   /* its new name (UTF-8), or NULL */
	size_t rename_len;
	const char *rename_text;   /* the new name as it is written: JSON, quotes and ':' included */
	size_t rename_text_len;
	int how;              /* enum wn_jedit_how, for its value */
	int kept;             /* for the members below it: inside a --keep path */
	/* For the members below it (WN_JE_REBUILD): when `copy_unlisted`, a member whose
	 * wn_json_key_filter() bit is not in `listed` is copied without asking member(). */
	int copy_unlisted;
	uint64_t listed;
} wn_jedit_member;

/* One of 64 bits for a member name, the filter of wn_jedit_member.listed. */
uint64_t wn_json_key_filter(const char *key, size_t len);

#define WN_JEDIT_REPL_MAX 64   /* bytes of a replacement */

typedef struct wn_jedit {
	void *ud;
	/* A number no other editor has had in this process, or 0. When it is not 0, member()
	 * and element() must answer the same arguments the same way for as long as the
	 * editor lives: json.c remembers their answers by uid. */
	uint64_t uid;
	/* Member key[0..klen) (unescaped) of an object whose edit node is `node` (>= 0);
	 * kept as the parent's wn_jedit_member.kept. Fills m. */
	void (*member)(void *ud, int node, int kept, const char *key, size_t klen, wn_jedit_member *m);
	/* The elements of an array whose edit node is `node` (m->skip and m->rename unused). */
	void (*element)(void *ud, int node, int kept, wn_jedit_member *m);
	/* The replacement of a value for `how` (WN_JE_EACH or WN_JE_WHOLE): type is its
	 * wn_jtype, v[0..n) a string's unescaped bytes or a number's or literal's text (NULL
	 * for an object or array). Writes a string of letters and digits (no quotes, nothing
	 * to escape, < WN_JEDIT_REPL_MAX bytes) into out and returns its length, or -1 to
	 * keep the value as it stands. */
	int (*replace)(void *ud, int how, int type, const char *v, size_t n, char *out);
	/* A member put first in the record, or inject_key NULL: key and value plain strings
	 * (nothing to escape), the value kept by the caller while records are parsed. */
	const char *inject_key, *inject_val;
	wn_jedit_member root;   /* what it says of the record itself (node 0, WN_JE_REBUILD) */
} wn_jedit;

/* wn_json_record() over the record as e edits it: 0, with the slots, canonical form and
 * fingerprint of the edited text, that text written to out[0..*outlen) (cap bytes of
 * room; the slots may point into it). Nonzero on any fault, including faults the edited
 * text would not have (a dropped value that is not strict JSON) and edits that need
 * more room than one pass has (a canonical form past its bound, a text past cap): the
 * caller then edits and parses in two passes, which decides. */
int wn_json_record_edit(wn_json *j, const char *buf, size_t len, const wn_jedit *e, wn_jresult *res, char *out,
	size_t cap, size_t *outlen);

/* wn_json_quote() (winnow.h, public: the tools use it too) without the quotes: `out`
 * needs room for 6*n bytes. The library's one JSON escaper (util.c). */
size_t wn_json_escape(char *out, const char *s, size_t n);

#endif
