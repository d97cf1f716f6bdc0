/*
 * verify.h - what the files of the verifier share (verify.c and verify_*.c); internal.
 *
 * One check is one vctx: the table of files (vfile, from the manifests, the index and the
 * folder), the problems found (vprob, under vctx.mu), per kind the compact per-ordinal
 * arrays of deep mode (vkind), and the pool of workers (vworker, one per thread) that run
 * the tasks. The files call down only: verify.c (the call, planning, the pool) uses
 * verify_counts.c, verify_index.c, verify_frames.c and verify_files.c, which all report
 * through verify_report.c.
 */
#ifndef WN_VERIFY_H
#define WN_VERIFY_H

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>

#include "internal.h"
#include "manifest.h"

/* ---- problem kinds: the strings are part of the interface (winnow.h, --json) ---- */
enum {
	PK_MISSING, PK_EXTRA, PK_SIZE, PK_CHECKSUM, PK_TRUNCATED, PK_FRAME, PK_SEEK, PK_COUNT,
	PK_DANGLING, PK_UNINDEXED, PK_IXMISMATCH, PK_METADATA, PK_NOTE, PK_N
};
extern const char *const wn_vpk_name[PK_N];

#define MAX_TEXT (256u << 20)       /* larger manifests are refused */
#define MAX_FRAME_RAW (1ull << 31)  /* larger declared frame contents are implausible */
#define MAX_SUSPECT 100000          /* index entries kept for a closer look, per map */

/* What a shard record says, per ordinal: d = XXH3-64 of (id hash u64be, check u16be,
 * fingerprint), which is also computable from an id entry's bytes 0-9 and 16-31. */
typedef struct vrec {
	uint64_t d, fpkey, isrc;
} vrec;
#define RF_KNOWN 1    /* decoded */
#define RF_SUPER 2    /* a key of <kind>.superseded */
#define RF_ISRC  4    /* has an ISRC */
#define RF_BADID 8    /* no usable id */
#define RF_GONE  32   /* a forgotten record's placeholder (FORMAT.md 18.3): nothing indexes it */
#define RF_MULTI 16   /* has several ISRCs: isrc is then the XOR of their hashes, its low
                         byte replaced by their count (each pair is checked at the end) */

/* All that deep mode keeps per stored record: 32 bytes, so a map entry costs one cache
 * miss. The scans of the three maps run in parallel, each writing only its own byte. */
typedef struct vord {
	uint64_t d, fpkey, isrc;        /* as vrec */
	uint8_t st;                     /* RF_*, set before the scans */
	uint8_t idm;                    /* id scan: current entries pointing here (low 7 bits), 0x80 REVISED */
	uint8_t fpm;                    /* fp scan: the pair of its own fingerprint was seen */
	uint8_t ism;                    /* isrc scan: pairs of its ISRCs seen */
	uint32_t isx;                   /* RF_MULTI: XOR of the seen pairs' hashes, bits 8-31 */
} vord;

typedef struct vframe {
	uint64_t off;
	uint32_t csize;
	uint32_t e_dsize, e_checksum;   /* its seek table entry (or index frame list entry) */
	uint8_t have_entry;
	int64_t ord0;                   /* shards: ordinal of its first record per the index, -1 */
	uint32_t direct;                /* deep, catalog: records per the index; the worker writes them
	                                   straight into vkind.o at ord0 if it finds as many (else 0) */
	uint8_t in_place;               /* it did */
	/* written by the worker that decodes it */
	uint8_t done, bad;
	uint32_t dsize, checksum, nrec;
	vrec *recs;                     /* shard frames of a catalog, deep: one per record */
	uint8_t *rflags;
	uint64_t dup, rev, max_survivor;
	uint8_t has_survivor;
	uint64_t cplays, csum;          /* contributions: their plays, the sum of XXH64 of their values */
} vframe;

typedef struct vfile {
	char *path;
	int order;
	int role, kind;                 /* from the name; -1 when it is not a winnow name */
	uint32_t seq;
	unsigned line;                  /* MANIFEST line number, 0 if not listed */
	uint8_t listed, have_json, have_sum, have_row, have_meta_sha, have_olist;
	uint8_t checked, sealed;
	uint8_t xxh[16];                /* MANIFEST */
	uint8_t sum_sha[32];            /* SHA256SUMS */
	uint8_t meta_sha[32];           /* index */
	wn_mfile j;                     /* MANIFEST.json */
	wn_fileinfo row;                /* index */
	wn_seekent *olist;              /* unsealed: the committed frames (meta open:<path>) */
	uint32_t nolist;
	uint64_t size;                  /* on disk */
	uint8_t absent;                 /* it is not there (ENOENT) */
	/* fast */
	uint8_t want_hash, want_sha, hashed;
	uint8_t got_xxh[16], got_sha[32];
	uint64_t got_size;
	/* deep */
	vframe *fr;
	uint32_t nfr;
	uint8_t frames_known;
	uint64_t data_len, table_off, table_len;
	unsigned nprob[PK_N];
	struct vshown *shown;           /* per problem kind: the problems kept to show (verify_report.c) */
} vfile;

typedef struct vprob {
	int kind;
	vfile *f;
	int64_t frame, offset, record;
	uint64_t length;
	char *id;
	size_t idlen;
	char *detail;
	uint64_t seq;
} vprob;

typedef struct vloc {
	vfile *f;
	int64_t frame, offset, record;
	uint64_t length;
	const char *id;
	size_t idlen;
} vloc;

/* a decoded shard frame, in ordinal order, for locating records */
typedef struct vspan {
	uint64_t first;
	uint32_t nrec;
	vfile *f;
	uint32_t fi;
} vspan;

typedef struct vpair {
	uint64_t ord, key;
} vpair;

typedef struct vsuspect {
	uint64_t ord;
	uint8_t e[WN_ID_ENTRY];
} vsuspect;

typedef struct vkind {
	uint64_t n;                     /* next_ord: records the arrays cover */
	vord *o;                        /* per ordinal */
	vspan *span;
	size_t nspan, capspan;
	wn_frameinfo *rows;             /* <kind>.frames */
	uint64_t *rowkey;
	uint8_t *rowused;
	size_t nrows;
	uint64_t nsup;
	int misplaced;                  /* frames rows put some decoded frames elsewhere */
	int complete;                   /* every shard decoded: counts can be checked */
	/* filled by the index scans, each touching only its own fields */
	vsuspect *sus;                  /* id entries whose digest differs from the record's */
	size_t nsus, capsus;
	vpair *xfp;                     /* fp pairs that are not their record's own fingerprint */
	size_t nxfp, capxfp;
	uint64_t id_entries, fp_entries, isrc_entries;
	uint64_t sus_dropped, xfp_dropped;
} vkind;

typedef struct vtask {
	vfile *f;
	int64_t frame;                  /* -1: hash the whole file */
} vtask;

typedef struct vctx {
	wn_catalog *c;
	const wn_verify_opts *o;
	wn_verify_result *res;
	char *dir, *manifest, *mdir;
	int dirfd;
	int deep, writer_active;
	int stale;     /* the manifests may lag behind the index: a run is going on or was cut short */
	int pending;   /* the index has pending.<kind>: a run did not finish */
	int pending_kind[WN_KINDS_MAX];   /* ... of that kind */
	/* The kinds: the catalog's; for a bare folder those its manifests and file names
	 * name (verify_files.c adds them as it meets them). mkinds: the manifests' (catalog
	 * mode: the catalog's, then those only they name). */
	wn_kinds kinds, mkinds;
	uint8_t uncounted[WN_KINDS_MAX];   /* a kind MANIFEST.json (1) or catalog.json (2) has no counts of */
	/* files, by path */
	vfile **f;
	size_t nf, capf;
	vfile **ht;
	size_t htcap;
	/* problems */
	pthread_mutex_t mu;
	vprob *pr;
	size_t npr, cappr;
	unsigned nprob_nofile[PK_N];
	struct vshown *shown_nofile;
	uint64_t pseq;
	uint64_t problems, notes;
	/* index */
	MDB_txn *txn;
	wn_kstate ks[WN_KINDS_MAX];
	uint64_t forgotten[WN_KINDS_MAX];   /* meta forgotten.<kind> */
	uint64_t generation;
	int have_sums, sums_expected;
	/* manifests */
	int have_mjson, have_cjson, interrupted;   /* interrupted: -1 unknown */
	int mj_counts, cj_counts;
	uint64_t mjc[WN_KINDS_MAX][WN_NCOUNTS], cjc[WN_KINDS_MAX][WN_NCOUNTS];
	uint64_t mjf[WN_KINDS_MAX], cjf[WN_KINDS_MAX];   /* their counts' "forgotten" */
	uint64_t mj_gen, cj_gen;
	int mj_have_gen, cj_have_gen;
	vkind k[WN_KINDS_MAX];
	/* the worker pool */
	vtask *task;
	size_t ntask;
	atomic_size_t next;
	atomic_uint_fast64_t bytes_done, recs_done;
	atomic_int stop;
	int fatal;
	char fatal_msg[256];
	uint64_t total_bytes;
	const char *stage;
	double t0;
	uint8_t scan_redo[WN_KINDS_MAX * WN_NMAPS];   /* index scans to run again on the main snapshot */
} vctx;

static inline int cancelled(vctx *x)
{
	if (atomic_load(&x->stop))
		return 1;
	if (x->o->cancel && __atomic_load_n(x->o->cancel, __ATOMIC_RELAXED)) {
		atomic_store(&x->stop, 1);
		return 1;
	}
	return 0;
}

/* A shard of a known kind: in a catalog its records' keys are recomputed (deep mode)
 * and the index is checked against them. */
static inline int keyed_records(const vfile *f)
{
	return f->role == WN_ROLE_SHARD && f->kind >= 0;
}

static const vloc NOLOC WN_UNUSED = { NULL, -1, -1, -1, 0, NULL, 0 };

static inline vloc at_file(vfile *f)
{
	vloc l = NOLOC;
	l.f = f;
	return l;
}

static inline vloc at_frame(vfile *f, uint32_t i)
{
	vloc l = at_file(f);
	if (f->fr && i < f->nfr) {
		l.frame = i;
		l.offset = (int64_t)f->fr[i].off;
		l.length = f->fr[i].csize;
	}
	return l;
}

/* A worker thread and what it keeps between tasks (buffers, a parser per kind, an open fd). */
typedef struct vworker {
	vctx *x;
	ZSTD_DCtx *dctx;
	wn_json *json[WN_KINDS_MAX];   /* catalog mode, deep: one per kind of the catalog */
	uint8_t *in;
	size_t incap;
	char *out;
	size_t outcap;
	uint32_t *lend;          /* deep: where each line of the frame in out ends (its newline) */
	size_t lendcap;          /* bytes */
	wn_hasher *hasher;
	vfile *fd_file;          /* the file fd is open on */
	int fd;
	wn_jresult jr;
	char idbuf[WN_ID_BUF];   /* a composite or content id */
} vworker;

/* ---- verify_report.c: problems, and the error that stops a check ---- */
/* A fatal error (the check cannot go on): the first one wins. Returns code. */
int wn_vfail(vctx *x, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int wn_vlmdb_fail(vctx *x, int rc, const char *what);
/* A located problem, counted. Of each kind, at most max_per_kind are shown per file (and
 * per catalog for those in no file): those first by place, whichever thread found them
 * first. */
void wn_vprob(vctx *x, int kind, const vloc *l, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* The same, shown whatever the count (the notes that sum up what was not shown). */
void wn_vprob_force(vctx *x, int kind, const vloc *l, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
unsigned *wn_vprob_counter(vctx *x, int kind, vfile *f);
/* Would a problem of this kind at l be shown (as things stand)? */
int wn_vprob_room(vctx *x, int kind, const vloc *l);
/* Free what the report keeps of a file. */
void wn_vprob_free_shown(struct vshown *s);
/* qsort order of problems: by place, notes last. */
int wn_vcmp_prob(const void *a, const void *b);

/* ---- verify_files.c: the file table, opening and reading files, hashing them ---- */
vfile *wn_vfile_find(vctx *x, const char *path);
/* The file of this (normalised) path, added if new; NULL when out of memory. */
vfile *wn_vfile_get(vctx *x, const char *path);
void wn_vfile_free(vfile *f);
const char *wn_vpath_norm(const char *p, size_t n, char *out, size_t cap);
const char *wn_vsnip(char *out, size_t cap, const char *s, size_t n);
int wn_vopen_in(vctx *x, const char *rel);
/* Read a manifest whole (opened with wn_open_path). 0, errno, or a WN_OPEN_* refusal. */
int wn_vread_text(const char *path, wn_buf *b);
int wn_vload_sumfile(vctx *x, const wn_buf *b, int which);
int wn_vload_manifests_json(vctx *x);
int wn_vwriter_active(vctx *x);
int wn_vscan_extras(vctx *x);
int wn_vplan_files(vctx *x);
int wn_vworker_init(vctx *x, vworker *w);
void wn_vworker_free(vworker *w);
int wn_vworker_fd(vworker *w, vfile *f);
int wn_vgrow(void **p, size_t *cap, size_t need);
void wn_vtask_hash(vworker *w, vfile *f);
void wn_vcheck_file(vctx *x, vfile *f);

/* ---- verify_frames.c: frame lists, decoding frames, placing records by ordinal ---- */
int wn_vplan_frames(vctx *x, vfile *f);
void wn_vtask_frame(vworker *w, vfile *f, uint32_t fi);
void wn_vcheck_file_frames(vctx *x, vfile *f);
vfile **wn_vshards_of(vctx *x, int kd, size_t *n);
int wn_vset_ord0(vctx *x);
int wn_valloc_kinds(vctx *x);
vloc wn_vrec_loc(vctx *x, int kd, uint64_t ord);
int wn_vplace_kind(vctx *x, int kd);

/* ---- verify_index.c: the index read, and checked against the records ---- */
int wn_vload_index(vctx *x);
void wn_vtask_scan(vworker *w, int kind, int map);
int wn_vscan_map(vctx *x, wn_catalog *c, MDB_txn *txn, int kind, int map);
void wn_vcheck_index_kind(vctx *x, vworker *w, int kd);

/* ---- verify_counts.c ---- */
/* The counters of the index, the manifests and the files must add up. */
void wn_vcheck_counters(vctx *x);

#endif
