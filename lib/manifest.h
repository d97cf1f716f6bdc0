/*
 * manifest.h - the manifest files of a catalog (doc/FORMAT.md section 7): MANIFEST,
 * SHA256SUMS, MANIFEST.json and catalog.json, written by catalog.c and read back by
 * verify with the same code. Internal to libwinnow.
 */
#ifndef WN_MANIFEST_H
#define WN_MANIFEST_H

#include "internal.h"

/* ---- MANIFEST and SHA256SUMS: one line per sealed file ---- */
/* Append "XXH128 (PATH) = HEX\n" / "HEX  PATH\n" to b. 0 or WN_E_NOMEM. */
int wn_manifest_xxh_line(wn_buf *b, const char *rel, size_t rl, const uint8_t xxh[16]);
int wn_manifest_sha_line(wn_buf *b, const char *rel, size_t rl, const uint8_t sha[32]);
/* Parse one line (no newline) as xxhsum -c / sha256sum -c read it. NULL, the path (in
 * the line) and the canonical hash; or why the line is malformed. */
const char *wn_manifest_parse_xxh(const char *line, size_t n, const char **path, size_t *plen, uint8_t h[16]);
const char *wn_manifest_parse_sha(const char *line, size_t n, const char **path, size_t *plen, uint8_t h[32]);

/* ---- the counts of MANIFEST.json and catalog.json, per kind ---- */
/* "records" (the survivors), then WN_OUTCOMES: WN_C_read, WN_C_kept, ... WN_C_superseded */
#define WN_C_X(n) WN_C_##n,
enum { WN_C_records, WN_OUTCOMES(WN_C_X) WN_NCOUNTS };
#undef WN_C_X
const char *wn_count_name(int i);
void wn_counts_of(const wn_kstate *s, uint64_t out[WN_NCOUNTS]);

/* ---- MANIFEST.json's files[]: the members of a file's object, in the order written ---- */
enum {
	WN_MF_PATH, WN_MF_ROLE, WN_MF_KIND, WN_MF_BYTES, WN_MF_RAW_BYTES, WN_MF_RECORDS, WN_MF_FRAMES,
	WN_MF_XXH128, WN_MF_FIRST_ORDINAL, WN_MF_LAST_ORDINAL, WN_MF_SHA256, WN_MF_N
};
/* What one element of files[] says (the path aside). have[WN_MF_*]: the member is there
 * with a usable value. why[WN_MF_*]: NULL, or why a member cannot be used (static text,
 * e.g. "is missing", "is null, not an integer", "is not 32 hex digits"): a member winnow
 * always writes (path to xxh128; first_ordinal and last_ordinal of a shard with records)
 * that is absent, or any known member whose value is not what FORMAT.md 7.2 says. */
typedef struct wn_mfile {
	int role;                       /* -1: absent or a name this winnow does not know */
	int kind;                       /* its number in the kinds table (wn_mjson_cb.kinds); -1:
	                                   absent or not a kind name */
	uint64_t bytes, raw_bytes, records, frames, first_ordinal, last_ordinal;
	uint8_t xxh128[16], sha256[32];
	uint8_t have[WN_MF_N];
	const char *why[WN_MF_N];
	unsigned line;                  /* the line of the text where the object begins (1-based) */
} wn_mfile;
const char *wn_mfield_name(int i);     /* "path", "role", ... "sha256"; "?" out of range */

/* Writing MANIFEST.json: begin, one call per sealed file (kind: its kind's name; first:
 * the first one), end with the counts of every kind of the table, in its order. */
int wn_manifest_json_begin(wn_buf *b, uint64_t generation);
int wn_manifest_json_file(wn_buf *b, const char *rel, size_t rl, const wn_fileinfo *f, const char *kind, int first);
int wn_manifest_json_end(wn_buf *b, const wn_kinds *kinds, const wn_kstate *ks);
/* catalog.json; profiles_json: the profiles object (wn_profiles_encode), NULL for null;
 * tombstones_json: the tombstones object, NULL when there is none (the member is left out). */
int wn_catalog_json(wn_buf *b, uint64_t generation, int interrupted, const char *profiles_json,
	const char *tombstones_json, const wn_kinds *kinds, const wn_kstate *ks);

/* ---- reading MANIFEST.json or catalog.json (text the strict parser accepted) ---- */
typedef struct wn_mjson_cb {
	/* One element of files[] (MANIFEST.json; NULL: files[] is passed over). path is
	 * unescaped and NUL-terminated; have_path 0 when it is missing or longer than 4095
	 * bytes. Returns 0, or a negative code that stops the read and is returned. */
	int (*file)(void *ud, size_t idx, const char *path, size_t plen, int have_path, const wn_mfile *m);
	/* format_version or fingerprint_version (key) is not 1 */
	void (*version)(void *ud, const char *key);
	/* A member of the top level that winnow always writes is missing or its value is not
	 * what FORMAT.md 7 says: field "generation", "counts.track.kept", ...; why as in
	 * wn_mfile; line: where it is (or where its object begins). NULL: not told. */
	void (*field)(void *ud, unsigned line, const char *field, const char *why);
	int catalog;                    /* read catalog.json's interrupted_run */
	/* The table kinds are numbered in: every kind it holds must have counts, and the
	 * others counts names, in its order, then those files[] names are added to it (so that
	 * the numbers the file callback sees are final, although files[] comes first; a
	 * caller may add a kind to it in the callback). NULL: wn_mjson.kinds, which begins
	 * with track and artist. */
	wn_kinds *kinds;
	void *ud;
} wn_mjson_cb;

typedef struct wn_mjson {
	int have_generation;
	uint64_t generation;
	wn_kinds kinds;                 /* the kinds, when wn_mjson_cb.kinds is NULL */
	int have_counts;                /* every count of every kind there and usable */
	uint64_t counts[WN_KINDS_MAX][WN_NCOUNTS];
	uint64_t forgotten[WN_KINDS_MAX];   /* counts.<kind>.forgotten, 0 when absent */
	int interrupted;                /* interrupted_run: 1, 0, or -1 when absent */
	const char *profiles;           /* catalog.json: the "profiles" object's text (NULL: none) */
	size_t profiles_len;
	const char *tombstones;         /* catalog.json: the "tombstones" object's text (NULL: none) */
	size_t tombstones_len;
	int have_options;               /* a catalog.json written before profiles: "options" is an */
	wn_catopts options;             /* object, read into options (zero-filled otherwise) */
	int bad;                        /* the layout is not what winnow writes ... */
	size_t bad_at;                  /* ... near this byte */
} wn_mjson;

/* Read the top level; unknown keys are passed over; every kind name is checked (a name
 * that is not one is named through the field callback). 0, or what a callback returned. */
int wn_mjson_read(const char *text, size_t n, const wn_mjson_cb *cb, wn_mjson *out);
/* The members of catalog.json's "tombstones" ({"<pseudonym>":"YYYY-MM-DD",...}, FORMAT.md
 * 7.3): fn for each. 0, -1 if the text is not such an object, or what fn returned. */
int wn_tombstones_decode(const char *s, size_t n, int (*fn)(void *ud, const char *who, const char *date), void *ud);

#endif
