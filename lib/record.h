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

struct wn_catopts;

#define WN_MAX_ID 512     /* longer ids are never stored (they are rejected as "missing id") */
#define WN_MAX_ISRC 64    /* bytes of an ISRC value that take part in its normal form */

/* The parser slots wn_record_parser() fills; a caller may use slots from
 * WN_SLOT_FREE on for its own paths (ingest's newest:FIELD). */
enum { WN_SLOT_ID, WN_SLOT_ISRC, WN_SLOT_ISRC2, WN_SLOT_FREE };

/* What the parser must compute besides the id and ISRC slots. */
#define WN_RECORD_FP 1    /* the catalog's --ignore-field paths, so fingerprints are the catalog's */

/* The id field of `kind` when the catalog does not say otherwise. */
const char *wn_record_default_id(int kind);
/* The id field of `kind` in the catalog options o: track and artist have their own
 * (WN_NBUILTIN_KINDS entries of wn_catopts.id_field), every other kind the default. */
const char *wn_record_id_field(const struct wn_catopts *o, int kind);

/* Set parser j up to read records of `kind` as the catalog `o` stores them: the id in
 * WN_SLOT_ID, the ISRC (tracks: the catalog's ISRC field, or the two automatic ones) in
 * WN_SLOT_ISRC/WN_SLOT_ISRC2, and with WN_RECORD_FP the ignore paths that shape the
 * fingerprint. Returns 0, WN_E_USAGE (a path the parser refuses) or WN_E_NOMEM. */
int wn_record_parser(wn_json *j, const struct wn_catopts *o, int kind, unsigned what);

/* The keys of one parsed record. id points into the parser's result (valid as long as
 * it is); the hashes are those the index is keyed by. */
typedef struct wn_keys {
	const char *id;
	size_t id_len;
	uint64_t hash;          /* XXH3-128 of the id: high half */
	uint16_t check;         /* and 16 bits of the low half, to tell colliding ids apart */
	uint8_t fp[16];
	int has_isrc;
	uint64_t isrc_hash;
} wn_keys;

/* Take the keys of a record wn_json_record() accepted (jr). Returns 0, or WN_E_NOID
 * when the record has no usable id (absent, not a string or number, empty, longer than
 * WN_MAX_ID): then why (if not NULL) says which, naming id_field. */
int wn_record_keys(const wn_jresult *jr, int kind, const char *id_field, wn_keys *k, char *why, size_t whylen);

/* The ISRC value of a parsed track (the first ISRC slot that holds a string), or NULL. */
const wn_jslot *wn_record_isrc(const wn_jresult *jr);

/* Hashes of the keys, as the index stores them. */
void wn_id_hash(const char *id, size_t n, uint64_t *hash, uint16_t *check);
uint64_t wn_isrc_hash(const char *isrc, size_t n);    /* of the normal form */
size_t wn_isrc_norm(char *out, const char *isrc, size_t n); /* upper-case, [A-Z0-9] only; out >= n bytes */
uint64_t wn_fp_key(const uint8_t fp[16]);             /* the fp map's key: the first 8 bytes */

#endif
