/*
 * ledger.h - the ledger entry and the reject entry (doc/FORMAT.md sections 5 and 6):
 * one codec that ingest writes with and every reader (verify, ...) reads with.
 * Internal to libwinnow.
 */
#ifndef WN_LEDGER_H
#define WN_LEDGER_H

#include <stddef.h>
#include <stdint.h>

struct wn_buf;

/* One ledger entry. Strings are (pointer, length), not NUL-terminated. */
typedef struct wn_ledger_entry {
	/* the input's name as its JSON string, quotes included (ingest makes it once per
	 * input); when encoding with input_json NULL, input/input_len is written instead */
	const char *input_json;
	size_t input_json_len;
	const char *input;          /* the name's bytes (decoded: unescaped, WN_LEDGER_ALL) */
	size_t input_len;
	uint64_t line;              /* 1-based line number in that input */
	int revision;               /* match: 0 "duplicate", 1 "revision" */
	const char *id_json;        /* decoded: the id's JSON string as it stands, quotes included */
	size_t id_json_len;
	const char *id;             /* the id's value (decoded: unescaped, WN_LEDGER_ALL) */
	size_t id_len;
	uint64_t survivor;          /* ordinal of the surviving record of this id */
	uint8_t fp[16];             /* fingerprint (see FORMAT.md 5 for whose) */
	int64_t superseded;         /* ordinal of the version this one replaced, or -1 */
	const char *record;         /* a revision that lost: its bytes, embedded verbatim; or NULL */
	size_t record_len;
} wn_ledger_entry;

/* Append the entry's line (no newline) to out. 0 or WN_E_NOMEM. */
int wn_ledger_encode(const wn_ledger_entry *e, struct wn_buf *out);

/* How much wn_ledger_decode reads. HEAD: input_json, line, match, id_json and survivor,
 * at the speed of a scan (what counting a ledger needs); the rest of the line is not
 * looked at. ALL: every field, the whole line checked, input and id unescaped. */
#define WN_LEDGER_HEAD 0
#define WN_LEDGER_ALL  1
/* Decode one entry (line[0..n), no newline) into *e, whose pointers then point into the
 * line or, for the unescaped strings, into scratch (valid until scratch next changes).
 * Returns 0, -1 if the line is not a ledger entry as winnow writes it (keys in the order
 * of FORMAT.md, no spaces), or WN_E_NOMEM. scratch is not used (may be NULL) with HEAD. */
int wn_ledger_decode(const char *line, size_t n, int what, wn_ledger_entry *e, struct wn_buf *scratch);

/* One reject entry. */
typedef struct wn_reject_entry {
	const char *input_json;     /* as in wn_ledger_entry */
	size_t input_json_len;
	const char *input;
	size_t input_len;
	const char *contributor;    /* the run's contributor pseudonym (hex, no quotes), or NULL */
	size_t contributor_len;
	uint64_t line;              /* 1-based line number in the input */
	uint64_t offset;            /* byte offset of the line's first byte */
	int code;                   /* why: a WN_E_* code (0 for "other" or a reason this winnow
	                               does not know); written as its reason code */
	const char *reason;         /* decoded: the reason code as it stands */
	size_t reason_len;
	const char *detail;         /* the message */
	size_t detail_len;
	int has_error_offset;
	uint64_t error_offset;      /* where in the line the parser found the fault */
	int truncated;              /* line_too_long: raw holds only the line's first bytes */
	uint64_t length;            /* ... and this is the line's full length */
	int withheld;               /* the profile hides fields, and the record could not be read
	                               to hide them: raw is empty (doc/FORMAT.md 6) */
	const char *raw_hmac;       /* with withheld in a pool whose profile hides fields: the keyed hash of
	                               the line's bytes (32 hex digits), so that a line can be told again */
	size_t raw_hmac_len;
	const char *raw;            /* the line's bytes (decoded: exact, from raw_base64 if there) */
	size_t raw_len;
} wn_reject_entry;

/* The reason code of a WN_E_* code ("malformed_json", ..., "other"). */
const char *wn_reject_reason(int code);
/* Append the entry's line (no newline) to out. 0 or WN_E_NOMEM. */
int wn_reject_encode(const wn_reject_entry *e, struct wn_buf *out);
/* Decode one entry, every field, like wn_ledger_decode with WN_LEDGER_ALL. 0, -1, WN_E_NOMEM. */
int wn_reject_decode(const char *line, size_t n, wn_reject_entry *e, struct wn_buf *scratch);

#endif
