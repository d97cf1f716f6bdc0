/*
 * ingest.h - what the stages of the ingest pipeline share (never installed).
 *
 *   ingest.c        the run: options, inputs, the decision on each record, ledger and
 *                   reject entries, the conflict policy
 *   ingest_parse.c  the parsing threads: records read, parsed and keyed ahead of the
 *                   decisions, in slots
 *   ingest_ckpt.c   checkpoints (on the ingesting thread or in the background) and the
 *                   "pending" record of where an interrupted run stood
 *
 * The ingesting thread owns `ing`; the reading and parsing threads touch only their
 * parser, their parsing context and the slots not handed over; the checkpoint thread
 * only its job (see ingest_ckpt.c).
 */
#ifndef WN_INGEST_H
#define WN_INGEST_H

#include "internal.h"
#include "source.h"
#include "series.h"
#include "contrib.h"

#include <pthread.h>

/* json slots: the record's keys (record.h), then ours */
enum { SLOT_NEWEST = WN_SLOT_FREE, SLOT_EXCLUDE, SLOT_TALLY, SLOT_TALLY_END = SLOT_TALLY + WN_TALLY_MAX };
_Static_assert(SLOT_TALLY_END <= WN_JSON_MAX_SLOTS, "the parser has a slot for each path ingest reads");

/* An input of the interrupted run that "pending" describes (ingest_ckpt.c). */
typedef struct pending_in {
	char *name;             /* as it was named ("-": standard input) */
	char *path;             /* its realpath, when it was a regular file (NULL if unknown) */
	int done, regular;
	int by_name;            /* an entry of the first format: matched by name, size and head */
	uint64_t offset, line, size, head, dev, ino;
	int has_member;         /* an archive: offset and line are those of member number member */
	uint64_t member;
	char *member_name;      /* its name in the archive */
} pending_in;

typedef struct run_counts {
#define WN_X(n) uint64_t n;
	WN_OUTCOMES(WN_X)
#undef WN_X
	uint64_t bytes;
} run_counts;

/* An input of this run: what it is (checked, with every other, before the first is
 * read), where it stands, and the interrupted run's entry it continues. */
typedef struct run_in {
	const char *name;       /* as given, "-" for standard input */
	char *path;             /* realpath of a regular file (NULL: none or unknown) */
	int regular, done;
	int archive;            /* a tar or zip: its members are read in turn */
	uint64_t member;        /* archive: the number of the member (0, 1, ... of those read) that
	                           offset and line are in */
	char *member_name;      /* ... and its name, once it is known */
	const char *label;      /* what entries name it (--input-name, or its file name: private profiles) */
	uint64_t offset, line;  /* consumed up to the last record decided */
	uint64_t size, dev, ino, head;   /* identity (source.h) */
	wn_source *src;         /* still open from the check (inputs that cannot be opened twice) */
	const pending_in *resume;   /* the entry of "pending" it continues, or NULL */
} run_in;

/* A record between parsing and deciding (see "parsing ahead"). */
typedef struct prep {
	const char *line;
	size_t len;
	const char *in_line;         /* the line as read (line is the transformed record) */
	size_t in_len;
	uint64_t off, lineno, end;   /* byte offset of the line, its number, offset after it */
	size_t toolong_len;
	int code;                    /* 0, or why it is rejected (WN_E_*) */
	size_t err_off;              /* error offset in the record */
	const char *err;             /* error text (in the slot's arena) */
	int has_err_off;
	int nocontrib;               /* rejected as WN_E_NOID: its contributor part has no value */
	int withheld;                /* rejected, and its bytes are not kept: the profile hides
	                                fields of records and could not find them in this one */
	wn_keys key;                 /* the record's keys (record.c); its id copied into the slot's arena */
	int has_play;                /* a kind with contributions: play is the record's (strings in the arena) */
	wn_play play;
	wn_jslot newest;             /* newest:FIELD only; ptr in the slot's arena, NUL-terminated */
} prep;

typedef struct supers {
	uint64_t old, by;
} supers;

/* A checkpoint's index transaction and what it records (see "checkpoint"). */
typedef struct ckjob {
	wn_series_snap snap[WN_NROLES];   /* shards, ledger, rejects; contributions (final) */
	wn_kstate ks;
	run_counts rc;              /* the run's counts at the checkpoint */
	uint64_t partial;           /* bytes consumed of inputs not done, at the checkpoint */
	int final;
	wn_buf pending;             /* meta "pending.KIND" (not final) */
	wn_buf contrib;             /* the run's contributions so far (contrib.c), when the kind has them */
	char (*who)[33];            /* the pseudonyms of the contributors the run has met (its contributions'), */
	size_t nwho, capwho;        /* which the files it wrote hold: meta holds (FORMAT.md 18.5) */
	supers *sup;                /* superseded ordinals */
	size_t nsup, capsup;
} ckjob;

/* The checkpoint thread: runs one job at a time while the ingesting thread goes on. */
typedef struct ckthread {
	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int started;
	int busy, done, quit, rc;   /* guarded by mu */
	ckjob job;
} ckthread;

typedef struct ing {
	wn_catalog *c;
	const wn_ingest_opts *o;     /* what the sources read with: eo */
	const wn_ingest_opts *o_user;   /* the caller's */
	wn_ingest_opts eo;           /* the caller's options with the profile's shaping options */
	wn_profile prof;             /* what this run reads records with (profile.h) */
	int fixed;                   /* prof is the kind's fixed profile (records were kept) */
	const char *kname;           /* the kind's name */
	struct wn_xform *xf;         /* its transforms, or NULL */
	char contrib[33];            /* the contributor's pseudonym (hex), or "" */
	uint64_t isrc_seen, isrc_over;   /* records with an ISRC, with more than WN_MAX_ISRCS */
	int kind;
	wn_json *json;          /* the first parsing thread's (the others have their own: team) */
	struct pteam *team;     /* the parsing threads (ingest_parse.c) */
	wn_json *json2;         /* parses stored records (newest:FIELD) without disturbing json */
	wn_jresult jr;
	wn_lsm *lsm;
	wn_pool *pool;
	wn_series *shard, *ledger, *rejects;
	MDB_txn *rtxn;
	wn_kstate *ks;
	run_counts rc;          /* this run, including what a resumed run had done */
	run_counts rc_done;     /* ... of which committed by the last checkpoint */
	uint64_t partial_done;  /* bytes of unfinished inputs that checkpoint recorded */
	pending_in *pend;       /* "pending" as the run found it */
	size_t npend, cap_pend;
	run_counts pend_rc;     /* its counts */
	supers *sup;
	size_t nsup, capsup;
	wn_buf ent, tmp, tmp2, fetched;
	wn_buf name_json;       /* the current input's name as a JSON string (entries) */
	run_in *in;             /* the inputs of this run */
	size_t n_in;
	uint64_t since_ckpt;
	uint64_t ckpt_every;
	uint64_t early_bytes;   /* record bytes decided before the first checkpoint; UINT64_MAX
	                           once there is one (see "the first checkpoint" in ingest.c) */
	ckthread ck;
	double t0, t_last_progress, t_mark;
	int sample;             /* time the stages of this record (one in 16) */
	double t_input_wait;    /* waiting for parsed records */
	uint64_t total_bytes, bytes_before;
	uint64_t partial_bytes;     /* consumed of an input left unfinished */
	double t_read, t_parse, t_dedup, t_store, t_commit, t_merge;
	int newest_numeric;
	int cpart;              /* the profile's contributor part (wn_profile_contributor_part), or -1 */
	int tpart;              /* its time part, or -1 */
	wn_contribs contribs;   /* the run's contributions (cpart >= 0) */
	int nocontrib_stop;     /* the run stopped at its first record: it has no contributor */
	int hide_names;         /* the profile hides fields: entries hold no path, "pending" only hashes */
	wn_ingest_result *res;
	/* NULL: inputs are opened by name (wn_source_reopen); else input i is open(open_ud, i,
	 * &src), and paths[] are only their names (wn_ingest_from) */
	int (*open)(void *ud, size_t i, wn_source **out);
	void *open_ud;
	/* NULL, or told the outcome of every record decided, in order (WN_OUTCOME_*), with
	 * the keys it was indexed by when it was stored */
	void (*decided)(void *ud, int outcome, const wn_keys *k);
	void *decided_ud;
} ing;

/* What became of one record read (the scale-out's merge puts the partitions' records
 * back in input order with them): flags */
#define WN_OUTCOME_STORED 1     /* it got an ordinal (kept, or a revision that won) */
#define WN_OUTCOME_LEDGER 2     /* it has a ledger entry */
#define WN_OUTCOME_REJECT 4     /* it has a reject entry */

/* What parsing needs; each parsing thread has its own (see "parsing ahead"). */
typedef struct pctx {
	wn_json *json;
	wn_jresult jr;
	wn_arena *arena;        /* the slot being parsed: its records' bytes, ids, error texts */
	const wn_profile *prof;
	struct wn_xform *xf;    /* the profile's transforms, or NULL */
	char idbuf[WN_ID_BUF];  /* a composite or content id */
	int cpart, tpart;       /* the profile's contributor and time parts, or -1 */
	int newest;
	int sample;             /* time this record's parse (one in 16) */
	double t_parse;
} pctx;

/* ---- parsing ahead: slots of parsed records (ingest_parse.c says how) ---- */

#define SLOTS 8         /* slots of a parser with one parsing thread; more with more */
#define SLOT_RECS 1024
#define PREFETCH 16     /* records between the prefetch of a record's index memory and its decision */
#define END 1           /* slot status: the input ends after this slot */
#define PARSE_THREADS_MAX 16

typedef struct pslot {
	prep r[SLOT_RECS];
	wn_srec s[SLOT_RECS];   /* the records as read, their bytes copied into `bytes` */
	int n;
	int status;             /* 0 more follow, END, or the error that stopped the source */
	int ready;              /* read and parsed: the ingesting thread's to take (guarded by mu) */
	char err[256];
	uint64_t consumed;      /* input bytes read when the slot was filled */
	uint64_t first;         /* the input's record number of r[0] (one in 16 is timed) */
	double t_read, t_work, t_parse;   /* reading it, parsing it, of which the timed parse (x16) */
	wn_arena bytes;         /* the records' bytes, ids, error texts */
} pslot;

/* A run's parsing contexts (wn_parse_team_new), one for each parsing thread: x[0] has
 * the run's json and xf handles, the others their own. */
typedef struct pteam {
	int n;
	pctx *x;
} pteam;

/* The reading of one input (wn_parser_new) by team->n threads: each in turn reads the
 * next slot's records, then parses them while another reads; the ingesting thread takes
 * the slots in the order they were read. */
/* What a parsing thread is started with: its parser and its context. */
typedef struct pworker {
	struct parser *ps;
	pctx *x;
} pworker;

typedef struct parser {
	wn_source *src;
	pteam *team;
	pthread_t th[PARSE_THREADS_MAX];
	pworker w[PARSE_THREADS_MAX];
	int started;                /* threads running */
	int stop;                   /* guarded by mu, as what follows */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int reading;                /* a thread is reading the source */
	int ended;                  /* a slot read had the input's end or an error: no more */
	uint64_t next, taken;       /* the next slot to read; slots the ingesting thread is done with */
	uint64_t nrec;              /* records read (by the thread reading) */
	volatile const int *cancel;     /* a slot ends early when it is set */
	int nslots;
	pslot *slots;
} parser;

/* ---- what the scale-out's map tasks (dist.c) share with ingest (ingest.c) ---- */
/* The run of wn_ingest, with input i opened by open(open_ud, i, &src) (0 or a code, the
 * source's err saying why) instead of by name; paths[i] is then input i's name, as the
 * records' ledger and reject entries name it, and it chooses the default profile.
 * decided (may be NULL) is told each record's outcome (WN_OUTCOME_* flags), in order,
 * and k, the keys its id, fp and isrc entries were made of, when it was stored (else
 * NULL; k and what it points at are valid during the call only). */
int wn_ingest_from(wn_catalog *c, const wn_ingest_opts *o, const char *const *paths, size_t n,
	int (*open)(void *ud, size_t i, wn_source **out), void *open_ud,
	void (*decided)(void *ud, int outcome, const wn_keys *k), void *decided_ud, wn_ingest_result *res);
/* The format of the first input as its name says (it chooses the built-in profile). */
const char *wn_ingest_first_format(const wn_ingest_opts *o, const char *const *paths, size_t n);
/* The options the sources see (eo: o's with profile p's shaping options) and p's
 * transforms (*xf, NULL if none; the caller frees it). 0 or a code, why saying it. */
int wn_ingest_shape(const wn_profile *p, const wn_ingest_opts *o, const char *kind, wn_ingest_opts *eo,
	struct wn_xform **xf, char *why, size_t wl);
/* Did --member choose this member of an archive (or are they all chosen)? */
int wn_ingest_member_chosen(const wn_ingest_opts *o, const char *member);
/* Parse, transform and key one record as the parsing thread does; the verdict is in
 * r->code. 0, or WN_E_NOMEM. x->arena receives the copies r points at. */
int wn_ingest_prepare(pctx *x, prep *r, const wn_srec *s);

/* ---- the parsing threads (ingest_parse.c) ---- */
/* The parsing contexts of the run's n parsing threads (n <= PARSE_THREADS_MAX; 0 = the
 * number of cores), set up as g's own (g->json and g->xf are x[0]'s). 0 or an error
 * (in g->c). */
int wn_parse_team_new(ing *g, int n);   /* into g->team */
void wn_parse_team_free(pteam *t);      /* NULL is accepted */
/* A parser of src for g's team, or NULL (no memory). */
parser *wn_parser_new(ing *g, wn_source *src);
/* The next slot read and parsed (waiting for it; starts the threads on first use), or
 * NULL when no thread can start. */
pslot *wn_parser_take(ing *g, parser *ps);
/* The ingesting thread is done with the slot wn_parser_take gave it. */
void wn_parser_give_back(parser *ps);
/* Stop the threads (if they run) and free the parser; the source stays open. */
void wn_parser_end(ing *g, parser *ps);
/* A parser set up as the run's (the record's keys, exclude, tally and newest slots) and
 * its transforms (*xf; NULL if the profile has none), for another parsing thread.
 * 0 or an error (in g->c). */
int wn_ingest_parser_setup(ing *g, wn_json **json, struct wn_xform **xf);
/* What wn_ingest_parser_setup() is made of: the parser's slots for the run's profile, and
 * profile p's transforms with o's key and contributor (*xf NULL when it has none; a code
 * with why). Both in ingest_parse.c, the one place a parser is set up. */
int wn_ingest_setup_json(ing *g, wn_json *j);
int wn_ingest_new_xform(const wn_profile *p, const wn_ingest_opts *o, struct wn_xform **xf, char *why, size_t wl);

/* ---- checkpoints and "pending" (ingest_ckpt.c) ---- */
int wn_pending_load(ing *g, MDB_txn *txn);   /* where an interrupted run stood, into g->pend and g->pend_rc */
/* Does this run continue the interrupted one (the same inputs, in the same order, each
 * the same file)? Then each input's `resume` is set and the counts start from its
 * counts; else the interrupted run is abandoned: named through o->on_note and in
 * res. Then writes this run's "pending" into txn (unless it continues). 0 or an error. */
int wn_pending_decide(ing *g, MDB_txn *txn);
int wn_pending_text(ing *g, wn_buf *b);      /* the same for this run, as meta "pending.KIND" */
int wn_checkpoint(ing *g, int final);        /* on the ingesting thread: the final one, or a --strict stop */
int wn_checkpoint_bg(ing *g);                /* in the background (inline if the thread cannot start) */
int wn_ckpt_wait(ing *g);                    /* wait for the one in the background, and catch up with it */
int wn_ckpt_poll(ing *g);                    /* catch up with it if it is done */
void wn_ckpt_stop(ing *g);                   /* end the checkpoint thread */
/* A contributor (its pseudonym's hex) the catalog forgot is refused, in txn, unless the
 * run allows it, which then removes its tombstone (ingest.c; FORMAT.md 18.4). 0 or an
 * error. At the start for --contributor, at each checkpoint for every contributor met. */
int wn_ingest_check_forgotten(ing *g, MDB_txn *txn, const char *hex);

#endif
