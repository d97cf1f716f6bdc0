/*
 * jread.h - a small reader for winnow's own JSON files (MANIFEST.json, catalog.json,
 * ledger and reject entries), one token at a time. Internal to libwinnow.
 */
#ifndef WN_JREAD_H
#define WN_JREAD_H

#include <stddef.h>
#include <stdint.h>

struct wn_buf;

/* The text still to read: p up to e. Nothing is allocated; copy it freely. */
typedef struct wn_jread {
	const char *p, *e;
} wn_jread;

void wn_jread_ws(wn_jread *j);               /* skip JSON whitespace */
int wn_jread_eat(wn_jread *j, char ch);      /* whitespace, then ch: 1 and past it, or 0 */
int wn_jread_peek(wn_jread *j);              /* whitespace, then the next byte, or -1 at the end */
/* A string, unescaped into out (cap bytes, NUL-terminated, truncated: *len is the full
 * length); out and len may be NULL. 0, or -1 if it is not a well-formed string. */
int wn_jread_str(wn_jread *j, char *out, size_t cap, size_t *len);
/* The same, appended to b (NUL-terminated). 0, -1, or WN_E_NOMEM. */
int wn_jread_str_buf(wn_jread *j, struct wn_buf *b);
/* A number: 1 and *v if it is a non-negative integer that fits, 0 if it is another
 * number (passed over), -1 if it is not a number. */
int wn_jread_num(wn_jread *j, uint64_t *v);
/* A value that should be an integer from 0 to 2^64-1: 0 with *why NULL and *v, or 0 with
 * *why saying what the value is instead ("is null, not an integer", "is negative", "is
 * larger than 2^64-1", ...; static text), the value passed over; -1 if it is not a value. */
int wn_jread_u64(wn_jread *j, uint64_t *v, const char **why);
/* Pass over one value of any type, nested at most 64 deep past depth. 0 or -1. */
int wn_jread_skip(wn_jread *j, int depth);

#endif
