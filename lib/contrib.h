/*
 * contrib.h - contributions (contrib.c): what each ingest run brought of each contributor,
 * kept for the kinds whose id has a contributor part (doc/FORMAT.md 15.4).
 *
 * The ingesting thread notes every play it decides in the run's accumulators (one per
 * contributor the run meets); every checkpoint stores them with the run's other state
 * (meta "contribs_pending.<kind>"), so a resumed run goes on with the same ones; the
 * final checkpoint stores each as contribution N (meta "contrib.<kind>.<N>"). A
 * contribution keeps a sketch of its (time, item) set: the WN_SKETCH_K smallest of
 * their 64-bit hashes (a bottom-k MinHash), from which the overlap of two contributions
 * is estimated without their plays.
 */
#ifndef WN_CONTRIB_H
#define WN_CONTRIB_H

#include "internal.h"

#define WN_SKETCH_K 256        /* hashes of a contribution's sketch */
#define WN_TALLY_VALUES 16     /* distinct values of one released field kept per contribution */
#define WN_TALLY_LEN 32        /* bytes of one such value (longer ones are cut) */
#define WN_WHO_MAX 64          /* bytes of a contributor (a pseudonym is 32) */
#define WN_TIME_MAX 40         /* bytes of a time value */

typedef struct wn_contrib {
	uint32_t no;               /* its number in the kind (1, 2, ...); 0 until it is stored */
	uint64_t generation;       /* the catalog generation of its run */
	char who[WN_WHO_MAX + 1];
	uint64_t plays, kept, duplicates, revisions;
	char first[WN_TIME_MAX + 1], last[WN_TIME_MAX + 1];
	uint32_t nsk;
	uint64_t sk[WN_SKETCH_K];  /* while the run goes on a max-heap; stored ascending */
	uint8_t ntally[WN_TALLY_MAX];
	char tally[WN_TALLY_MAX][WN_TALLY_VALUES][WN_TALLY_LEN + 1];
} wn_contrib;

/* The accumulators of one run, found by contributor through an open-addressing table of
 * indices + 1 (a run of a multi-member export meets thousands of contributors). */
typedef struct wn_contribs {
	wn_contrib *v;
	size_t n, cap, last;
	uint32_t *tab;
	size_t tabcap;             /* a power of two, at least twice n; 0: none yet */
} wn_contribs;
void wn_contribs_free(wn_contribs *a);

/* One play of a run, decided: who (its contributor part), its outcome (a WN_OUTCOMES
 * index: 1 kept, 2 duplicate, 3 revision), its time, the hash of its other id parts,
 * and the values of the profile's released fields (NULL: absent). 0 or WN_E_NOMEM. */
typedef struct wn_play {
	const char *who, *time;
	size_t who_len, time_len;
	uint64_t hash;
	const char *tally[WN_TALLY_MAX];
	size_t tally_len[WN_TALLY_MAX];
} wn_play;
int wn_contribs_note(wn_contribs *a, const wn_play *p, int outcome, int ntally);

/* The accumulators as bytes (a checkpoint's job carries them), and back. 0, WN_E_NOMEM,
 * or (decode) WN_E_CORRUPT. */
int wn_contribs_encode(const wn_contribs *a, wn_buf *b);
int wn_contribs_decode(wn_contribs *a, const void *p, size_t n);

/* In the checkpoint's transaction: the encoded accumulators blob[0..n) stored as the
 * run's pending ones, or (final) each stored as the next contribution of kind, with the
 * generation gen, and the pending ones deleted. 0 or an error (c->err). */
int wn_contribs_commit(wn_catalog *c, MDB_txn *txn, int kind, const void *blob, size_t n, int final, uint64_t gen);
/* The pending accumulators of kind (a resumed run), into a: 0 (none is 0 too), or an error. */
int wn_contribs_resume(wn_catalog *c, MDB_txn *txn, int kind, wn_contribs *a);

/* Contribution x (a part: one partition's) folded into the accumulator of its
 * contributor in a (made if there is none), which then holds what one contribution of
 * all the parts holds; *at is its index in a->v (in the order contributors first came).
 * The sketch is kept ascending. 0 or WN_E_NOMEM. */
int wn_contribs_fold(wn_contribs *a, const wn_contrib *x, size_t *at);

/* The contributions files (FORMAT.md 15.7). */
struct wn_pool;
struct wn_series_snap;
/* The final checkpoint's: the run's accumulators a, numbered from meta contrib_next (as
 * wn_contribs_commit numbers them in the transaction after) with generation gen, written
 * as the lines of a new file of the kind's contributions series and sealed; *out is the
 * series' snapshot for that transaction (empty when a has none). 0 or an error. */
int wn_contribs_write(wn_catalog *c, MDB_txn *txn, int kind, struct wn_pool *pool, const wn_contribs *a, uint64_t gen,
	size_t frame_bytes, uint64_t file_bytes, struct wn_series_snap *out);
/* x as a line of such a file (no line end) into b. 0 or WN_E_NOMEM. */
int wn_contrib_line(const wn_contrib *x, wn_buf *b);
/* Line p[0..n) (no line end) into x: 0, WN_E_NOMEM or WN_E_CORRUPT (not a line as
 * wn_contrib_line writes it). scratch is the caller's. */
int wn_contrib_line_parse(const char *p, size_t n, wn_contrib *x, wn_buf *scratch);
/* x's meta value (15.6, without its checksum) into b. 0 or WN_E_NOMEM. */
int wn_contrib_value(const wn_contrib *x, wn_buf *b);
/* x stored as meta contrib.<kind>.<x->no>, in txn; 0 or an error. */
int wn_contrib_put(wn_catalog *c, MDB_txn *txn, int kind, const wn_contrib *x);
/* Contribution no of kind from meta: 0, WN_E_NOTFOUND, or an error (damage). */
int wn_contrib_get(wn_catalog *c, MDB_txn *txn, int kind, uint32_t no, wn_contrib *x);

/* The kind's contributions in meta: how many, their plays, and the sum of XXH64 of their
 * values (wn_contrib_value): what verify holds the files against. 0 or an error. */
int wn_contribs_sums(wn_catalog *c, MDB_txn *txn, int kind, uint64_t *n, uint64_t *plays, uint64_t *sum);

/* In a forget's transaction: every contribution of kind made by who (its pseudonym)
 * deleted (meta "contrib.<kind>.<N>"; the numbers of the others stay). 0 or an error. */
int wn_contribs_forget(wn_catalog *c, MDB_txn *txn, int kind, const char *who);
#endif
