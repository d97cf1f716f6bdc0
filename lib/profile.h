/*
 * profile.h - a kind's record profile (profile.c): where its id, keys and descriptive
 * fields are, the transforms applied to every record before it is fingerprinted, and
 * the options that shape records from their sources. One per kind, stored in the
 * catalog (meta "profile.<kind>" and catalog.json), fixed by the first run that keeps a
 * record of the kind (doc/FORMAT.md, "Record profiles").
 *
 * Everything that decides what a record of a kind is comes from here: record.c reads
 * the id and ISRC paths, transform.c the transforms, ingest the shaping options. A new
 * per-kind setting is added here and nowhere else.
 */
#ifndef WN_PROFILE_H
#define WN_PROFILE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include "winnow.h"

struct wn_buf;

#define WN_PROFILE_VERSION 1
#define WN_PATH_MAX 128      /* bytes of a field path, NUL included */
#define WN_ID_PARTS 8        /* parts of a composite id */
#define WN_ISRC_PATHS 2      /* paths tried for the ISRC, in order */
#define WN_NPATHS 16         /* paths per transform list and ignore set */
#define WN_TYPES_MAX 512     /* bytes of a --types spec */
#define WN_KEY_ID_HEX 16     /* hex digits of a pseudonymisation key's identifier */
#define WN_TALLY_MAX 4       /* released fields of a profile (contributions count their values) */
#define WN_FAMILY_MAX 4      /* paths whose device names are generalised to their family */

typedef char wn_path[WN_PATH_MAX];

typedef struct wn_profile {
	char builtin[32];               /* the built-in profile it started from, or "" */
	int id_content;                 /* --id content: the fingerprint is the identity */
	int n_id;                       /* 1: a plain path; more: a composite id */
	wn_path id[WN_ID_PARTS];        /* each a path, or alternatives "a|b|c" (the first with a
	                                   value), ending in '?' when the part may be absent */
	uint8_t id_alts[WN_ID_PARTS];   /* derived from id (wn_id_alts; 0 reads as 1): the parser's
	                                   slots per part, so that a record's keys cost no scan */
	int n_isrc;                     /* paths tried for the ISRC (a string or an array of them) */
	wn_path isrc[WN_ISRC_PATHS];
	wn_path title, artists, duration, upc;   /* descriptive paths ("" none), stored for matching */
	int n_ignore;
	wn_path ignore[WN_NPATHS];      /* left out of the fingerprint */
	/* transforms, applied in this order (transform.c) */
	int n_rename;
	wn_path rename_from[WN_NPATHS], rename_to[WN_NPATHS];
	int n_drop, n_keep, n_pseudo, n_family;
	wn_path drop[WN_NPATHS], keep[WN_NPATHS], pseudo[WN_NPATHS];
	wn_path family[WN_FAMILY_MAX];  /* device names generalised to their family (transform.c) */
	char key_id[WN_KEY_ID_HEX + 1]; /* of the pseudonymisation key, "" without one */
	wn_path exclude;                /* a record whose value here is true is rejected (excluded), "" none */
	/* contributions (contrib.c), kept for kinds whose id has a contributor part */
	wn_path time;                   /* the id part that is a record's time ("" none): a contribution's span */
	int n_tally;
	wn_path tally[WN_TALLY_MAX];    /* released fields whose values are counted per contributor */
	/* shaping options of the sources ("" / 0: the default) */
	char types[WN_TYPES_MAX];
	char encoding[16];
	char delimiter[WN_DELIM_MAX + 1];
	int empty_null, csv_unwrap, sqlite_join;
} wn_profile;

/* Does the profile change the stored bytes of a record (any transform)? */
static inline int wn_profile_transforms(const wn_profile *p)
{
	return p->n_rename || p->n_drop || p->n_keep || p->n_pseudo || p->n_family;
}
/* Does it hide values (a reject then keeps no raw bytes)? */
static inline int wn_profile_private(const wn_profile *p)
{
	return p->n_drop || p->n_keep || p->n_pseudo || p->n_family;
}

/* Id part alternatives: how many paths part (a "a|b|c[?]" spec) names, and the k-th
 * of them into out (NUL-terminated, no '?'). An optional part ends in '?'. */
int wn_id_alts(const char *part);
void wn_id_alt(const char *part, int k, char out[WN_PATH_MAX]);
static inline int wn_id_optional(const char *part)
{
	size_t n = strlen(part);
	return n && part[n - 1] == '?';
}

/* The id part whose first path is "contributor" (whose records these are: ingest's
 * --contributor, a contribution's owner), or -1. */
int wn_profile_contributor_part(const wn_profile *p);

/* A kind's profile before any option: its built-in one when the kind (and the format of
 * the first input, "xml" or NULL) has one, else id "id" and nothing else. */
void wn_profile_default(wn_profile *p, const char *kind, const char *format);
/* The name of the built-in profile for kind and format, or NULL. */
const char *wn_profile_builtin(const char *kind, const char *format);
/* Set a built-in profile by name ("spotify-track", "musicbrainz-recording", ...): 0, or
 * WN_E_USAGE for an unknown name. */
int wn_profile_set_builtin(wn_profile *p, const char *name);

/* Apply the options of o to p: those o names replace p's. why (whylen bytes) says what
 * is wrong on WN_E_USAGE (a bad path or id spec, too many paths). */
int wn_profile_apply(wn_profile *p, const wn_ingest_opts *o, char *why, size_t whylen);

/* Is a run with options o compatible with the fixed profile p? 0 and *eff, what the run
 * uses: p with the run's own --rename (recorded per input) and the renames its --map
 * names imply (--map id=track_id where p's id is "id": track_id is renamed id); or
 * WN_E_MISMATCH with why naming the option, the stored value and the run's, or
 * WN_E_USAGE. Options o does not name are taken from p. */
int wn_profile_check(const wn_profile *p, const wn_ingest_opts *o, const char *kind, wn_profile *eff, char *why,
	size_t whylen);
/* The built-in profiles' names, ", "-separated. */
const char *wn_profile_names(void);

/* The profile as JSON (FORMAT.md "Record profiles"), appended to b. 0 or WN_E_NOMEM. */
int wn_profile_encode(const wn_profile *p, struct wn_buf *b);
/* The JSON of wn_profile_encode read back: 0, or -1 when it is not one (why says where). */
int wn_profile_decode(wn_profile *p, const char *s, size_t n, char *why, size_t whylen);

/* The profiles object of catalog.json ({"kind":{profile},...} or null): fn called with
 * each. 0, fn's non-zero return, or -1 when it is malformed (why says where). */
int wn_profiles_decode(const char *s, size_t n, int (*fn)(void *ud, const char *kind, const wn_profile *p), void *ud,
	char *why, size_t whylen);

/* The id spec as the user writes it ("id", "date+rank", "content"), into out. */
void wn_profile_id_spec(const wn_profile *p, char *out, size_t cap);

/* The key identifier of a pseudonymisation key (hex, WN_KEY_ID_HEX digits + NUL). */
void wn_key_id(const uint8_t *key, size_t n, char out[WN_KEY_ID_HEX + 1]);
/* The id of a forgotten contributor's tombstone (meta tombstone:<id>, FORMAT.md 18.4):
 * 32 hex digits of SHA-256("winnow tombstone 1\n" || the pseudonym's hex), so that not
 * even the pseudonym stays in the catalog. */
void wn_tombstone_id(const char *pseudonym, char out[33]);

#endif
