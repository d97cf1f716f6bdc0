/*
 * norm.h - the matching keys of a record and the match predicates (norm.c; internal).
 *
 * Two records are the same recording under different ids when their keys say so: the
 * normalised primary artist, the title core, the qualifier set (live, remix, ...), the
 * valid ISRCs and the duration. This header computes those keys from text and decides,
 * for two records, whether an automatic edge joins them and whether they may share a
 * cluster at all. The rules are norm version WN_NORM_VERSION, written out in
 * doc/FORMAT.md section 14 so that anyone can recompute the keys; they also depend on the
 * Unicode version of utf8proc (wn_norm_unicode_version()), so a catalog stores both.
 *
 * Speed: the cluster builder calls this for every record (hundreds of millions). All
 * work happens in a wn_norm workspace that the caller owns (one per thread): its buffers
 * grow to the longest input seen and are then reused, so a call allocates nothing once
 * warm. Results point into the workspace and are valid until the next call on it.
 */
#ifndef WN_NORM_H
#define WN_NORM_H

#include <stddef.h>
#include <stdint.h>

/* The version of the rules below (doc/FORMAT.md section 14). Any change to a key that
 * any input can produce bumps it: stored keys and clusters of another version are not
 * comparable and must be built again. */
#define WN_NORM_VERSION 1

/* The Unicode version of the tables normalisation uses (utf8proc's), e.g. "13.0.0". A
 * new Unicode version can change keys too, so it is stored beside WN_NORM_VERSION. */
const char *wn_norm_unicode_version(void);

/* A piece of UTF-8 text, not NUL-terminated. */
typedef struct wn_str {
	const char *p;
	size_t n;
} wn_str;

/* The workspace. Zero it (or wn_norm_init) before the first call; wn_norm_free releases
 * its buffers (and leaves it zeroed, ready for reuse). One thread at a time. */
typedef struct wn_norm {
	int32_t *cp;                 /* code points of the text being normalised */
	size_t cpcap;
	char *fix;                   /* input with invalid UTF-8 replaced by U+FFFD */
	size_t fixcap;
	char *text;                  /* the normalised text (section 14.1) */
	size_t textlen, textcap;
	char *work;                  /* title analysis: the text with removed parts blanked */
	size_t workcap;
	char *key;                   /* the keys of the last call, one after the other */
	size_t keylen, keycap;
	uint64_t *fast[256];         /* what each code point of the BMP normalises to alone */
	wn_str *list[2];             /* the last call's lists: qualifiers or artists; featured */
	size_t nlist[2], listcap[2];
} wn_norm;

void wn_norm_init(wn_norm *w);
void wn_norm_free(wn_norm *w);

/* What a text is: the key of an artist name drops a leading "the". */
enum { WN_NORM_TITLE = 0, WN_NORM_ARTIST = 1 };

/* The normalised text of s[0..n) (FORMAT.md 14.1): NFKC, case folded, dashes, quotes and
 * spaces lumped, Latin, Greek and Cyrillic diacritics dropped. Any bytes are accepted;
 * invalid UTF-8 counts as U+FFFD. *out points into w. 0 or WN_E_NOMEM. */
int wn_norm_text(wn_norm *w, const char *s, size_t n, wn_str *out);
/* The same, always through utf8proc: the definition that wn_norm_text's per-character
 * fast path must equal (for the tests). */
int wn_norm_text_unicode(wn_norm *w, const char *s, size_t n, wn_str *out);

/* The key of s[0..n) as a title or an artist name (FORMAT.md 14.2): its normalised
 * text with `&` read as "and", for an artist a leading "the " dropped, then only
 * letters, marks and digits kept. *out points into w (n 0 when the text is empty).
 * 0 or WN_E_NOMEM. */
int wn_norm_key(wn_norm *w, const char *s, size_t n, int what, wn_str *out);

/* A title taken apart (FORMAT.md 14.3). core: the key of what remains once featured
 * artists, neutral parts and qualifiers are taken out. qual: the keys of the
 * distinguishing parts, sorted bytewise, without repeats. feat: the artist keys of the
 * featured artists, sorted, without repeats. All point into the workspace. */
typedef struct wn_title {
	wn_str core;
	const wn_str *qual;
	size_t nqual;
	const wn_str *feat;
	size_t nfeat;
} wn_title;

/* Analyse the title s[0..n) into *t. 0 or WN_E_NOMEM. */
int wn_norm_title(wn_norm *w, const char *s, size_t n, wn_title *t);

/* The artists of a record (FORMAT.md 14.4), as artist keys in credit order, without
 * repeats or empty keys: key[0] is the primary artist (n 0: none). */
typedef struct wn_artists {
	const wn_str *key;
	size_t n;
} wn_artists;

/* From the structured list names[0..nnames) (each one artist, never split) when nnames
 * is not 0, else from the credit string credit[0..clen) split on ",", " & ", " x ",
 * " feat. " (and " feat ", " ft. ", " ft ", " featuring "). 0 or WN_E_NOMEM. */
int wn_norm_artists(wn_norm *w, const wn_str *names, size_t nnames, const char *credit, size_t clen,
	wn_artists *a);

/* The 64-bit hash the match keys are compared by: XXH3-64 (seed 0) of the key's bytes,
 * 1 in the place of 0; 0 for an empty key, which matches nothing. */
uint64_t wn_norm_hash(const char *p, size_t n);
/* The hash of a qualifier set: XXH3-64 of its keys in order, each followed by a 0 byte
 * (1 in the place of 0); 0 for the empty set. */
uint64_t wn_norm_set_hash(const wn_str *s, size_t n);

/* ---- match predicates (FORMAT.md 14.5) ----
 * What the cluster builder keeps of each record, and the pure functions over two of
 * them. A zero field means "not known" and never matches. */
#define WN_MATCH_ISRCS 2
#define WN_MATCH_NODUR UINT32_MAX

typedef struct wn_match {
	uint64_t id;                    /* wn_id_hash of the id (high half); 0: none */
	uint16_t id_check;              /* and its 16 check bits */
	uint32_t dur_ms;                /* duration in ms, WN_MATCH_NODUR when unknown */
	uint64_t isrc[WN_MATCH_ISRCS];  /* valid ISRCs, wn_isrc_valid() packed; 0: none */
	uint64_t artist;                /* wn_norm_hash of the primary artist key */
	uint64_t core;                  /* wn_norm_hash of the title core */
	uint64_t quals;                 /* wn_norm_set_hash of the qualifier set */
	/* for the scored candidates (FORMAT.md 14.6): the bigram sets of the title core and of
	 * the primary artist key (wn_norm_sig), the hash of the core's first three
	 * characters (0: no core) */
	uint64_t tsig[2], asig, pfx;
} wn_match;

/* Empty: no id, no ISRC, unknown duration, no keys. */
void wn_match_init(wn_match *m);
/* Add the ISRC value s[0..n) if it is valid and not there yet: 1 if added, 0 if not
 * (invalid, a repeat, or WN_MATCH_ISRCS already held). */
int wn_match_add_isrc(wn_match *m, const char *s, size_t n);
/* Set artist, core, quals, tsig, asig and pfx from an analysed title and artist list. */
void wn_match_set_text(wn_match *m, const wn_artists *a, const wn_title *t);

/* The bigram set of the key p[0..n) in bits bits (64 or 128: sig[0..bits/64)): bit (hash
 * of bytes i, i+1) mod bits for each pair of adjacent bytes (the one byte of a one-byte
 * key); all 0 for an empty key. */
void wn_norm_sig(const char *p, size_t n, uint64_t *sig, int bits);

/* ---- scored candidates (FORMAT.md 14.6) ----
 * Pairs that no automatic edge joins but that look alike: in one block (the same primary
 * artist and first three characters of the title core, or the same title core and
 * duration in the same 5 s bucket), with equal qualifier sets, scored
 * 0.4 x title + 0.3 x artist + 0.3 x duration, where title and artist are 1 for equal keys
 * and else the Dice coefficient of their bigram sets (128 bits for titles, 64 for
 * artists), and duration is 1 - |a - b| / 10 s (at least 0; 0.5 when one is unknown). A
 * score of at least WN_SCORE_MIN whose title part is at least WN_SCORE_TITLE_MIN is
 * reported; wn_match_score returns 0 below that title part. */
#define WN_SCORE_MIN 0.85
#define WN_SCORE_TITLE_MIN 0.85
#define WN_SCORE_BUCKET_MS 5000
double wn_match_score(const wn_match *a, const wn_match *b);

/* Same id (hash and check bits): the records are versions of one id. */
int wn_match_id_edge(const wn_match *a, const wn_match *b);
/* An ISRC edge: a valid ISRC in common, both durations known and at most 3000 ms apart,
 * equal qualifier sets. */
int wn_match_isrc_edge(const wn_match *a, const wn_match *b);
/* A text edge: equal non-empty primary artist and title core keys, equal qualifier sets,
 * both durations known and at most 2000 ms apart. */
int wn_match_text_edge(const wn_match *a, const wn_match *b);

/* The chain guard: may a and b be members of one cluster? 0 if they may, else why not:
 * WN_GUARD_QUALS (different qualifier sets) or WN_GUARD_ISRC (each has a valid ISRC,
 * none in common, and both durations are known and more than 2000 ms apart). A cluster
 * builder checks every pair an edge would bring together; an edge that would put a
 * forbidden pair in one cluster is not made (a candidate instead). */
enum { WN_GUARD_OK = 0, WN_GUARD_QUALS = 1, WN_GUARD_ISRC = 2 };
/* Not the guard's, but stored and shown the same way: two artists with the same name
 * that no track cluster credits both of (cluster.c). */
#define WN_GUARD_NAME 3
/* A scored candidate (not a refusal: a pair that looks alike). */
#define WN_GUARD_SIMILAR 4
int wn_match_guard(const wn_match *a, const wn_match *b);
const char *wn_guard_name(int why);   /* "ok", "qualifiers differ", "isrc and duration differ",
                                        "no shared track cluster", "similar" */

#endif
