/*
 * verify.c - proving a catalog whole, or finding exactly what is broken in it, for
 * receivers who got it by torrent, partial mirror, tape or years on disk.
 *
 * Fast mode reads every data file once, in parallel across files, and compares its size
 * and XXH3-128 (and its SHA-256 when SHA256SUMS exists) with MANIFEST, MANIFEST.json and,
 * for a catalog, the index's file rows; it lists the role folders to find files nobody
 * listed. Deep mode adds, per frame and in parallel across frames: decoding (zstd checks
 * each frame's content checksum), the seek table checked against the frames, records
 * counted, and, for a catalog, every shard record's fingerprint recomputed. The index is
 * then cross-checked both ways with one sequential pass over each map (id, fp, isrc),
 * comparing entries with compact per-ordinal arrays of what the records say, instead of
 * one LMDB lookup per record; the ledger and the counters must add up.
 *
 * Everything found is a located problem (kind, file, frame, byte range, record, id,
 * detail) collected under a mutex and handed to the caller's callback from the calling
 * thread at the end, sorted by place, so output does not depend on thread timing. Damage
 * is not an error: wn_verify returns 0 once the checks ran. Paths read from manifests are
 * never opened if they are absolute or contain "..", and files are opened with
 * RESOLVE_BENEATH where the kernel has it, so a manifest cannot make us read outside the
 * folder. The library never prints.
 */
#include "internal.h"
#include "ledger.h"
#include "manifest.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include <openssl/evp.h>
#include <xxhash.h>
#include <zstd_errors.h>
#if defined(__has_include)
#if __has_include(<linux/openat2.h>)
#include <linux/openat2.h>
#define HAVE_OPENAT2 1
#endif
#endif

/* ---- problem kinds: the strings are part of the interface (winnow.h, --json) ---- */
enum {
	PK_MISSING, PK_EXTRA, PK_SIZE, PK_CHECKSUM, PK_TRUNCATED, PK_FRAME, PK_SEEK, PK_COUNT,
	PK_DANGLING, PK_UNINDEXED, PK_IXMISMATCH, PK_METADATA, PK_NOTE, PK_N
};
static const char *const pk_name[PK_N] = {
	"missing", "extra", "size", "checksum", "truncated", "frame-corrupt", "seek-table", "count",
	"index-dangling", "record-unindexed", "index-mismatch", "metadata", "note"
};

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

/* All that deep mode keeps per stored record: 32 bytes, so a map entry costs one cache
 * miss. The scans of the three maps run in parallel, each writing only its own byte. */
typedef struct vord {
	uint64_t d, fpkey, isrc;        /* as vrec */
	uint8_t st;                     /* RF_*, set before the scans */
	uint8_t idm;                    /* id scan: current entries pointing here (low 7 bits), 0x80 REVISED */
	uint8_t fpm;                    /* fp scan: the pair of its own fingerprint was seen */
	uint8_t ism;                    /* isrc scan: the pair of its ISRC was seen */
	uint32_t pad;
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
	uint64_t pseq;
	uint64_t problems, notes;
	/* index */
	MDB_txn *txn;
	wn_kstate ks[WN_NKINDS];
	uint64_t generation;
	int have_sums, sums_expected;
	/* manifests */
	int have_mjson, have_cjson, interrupted;   /* interrupted: -1 unknown */
	int mj_counts, cj_counts;
	uint64_t mjc[WN_NKINDS][WN_NCOUNTS], cjc[WN_NKINDS][WN_NCOUNTS];
	uint64_t mj_gen, cj_gen;
	int mj_have_gen, cj_have_gen;
	vkind k[WN_NKINDS];
	/* the worker pool */
	vtask *task;
	size_t ntask;
	atomic_size_t next;
	atomic_uint_fast64_t bytes_done, recs_done;
	atomic_int stop;
	atomic_int running;
	pthread_cond_t done;            /* signalled (under mu) when the last worker finishes */
	int fatal;
	char fatal_msg[256];
	uint64_t total_bytes;
	const char *stage;
	double t0;
	uint8_t scan_redo[WN_NKINDS * 3];   /* index scans to run again on the main snapshot */
} vctx;

/* ---- small helpers ---- */

static uint64_t fnv(const char *s)
{
	uint64_t h = 1469598103934665603ull;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

static int cancelled(vctx *x)
{
	if (atomic_load(&x->stop))
		return 1;
	if (x->o->cancel && __atomic_load_n(x->o->cancel, __ATOMIC_RELAXED)) {
		atomic_store(&x->stop, 1);
		return 1;
	}
	return 0;
}

/* A fatal error (the check cannot go on): the first one wins. */
static int fail(vctx *x, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(vctx *x, int code, const char *fmt, ...)
{
	pthread_mutex_lock(&x->mu);
	if (!x->fatal) {
		x->fatal = code;
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(x->fatal_msg, sizeof x->fatal_msg, fmt, ap);
		va_end(ap);
	}
	pthread_mutex_unlock(&x->mu);
	atomic_store(&x->stop, 1);
	return code;
}

/* ---- problems ---- */

static const vloc NOLOC = { NULL, -1, -1, -1, 0, NULL, 0 };

static vloc at_file(vfile *f)
{
	vloc l = NOLOC;
	l.f = f;
	return l;
}

static vloc at_frame(vfile *f, uint32_t i)
{
	vloc l = at_file(f);
	if (f->fr && i < f->nfr) {
		l.frame = i;
		l.offset = (int64_t)f->fr[i].off;
		l.length = f->fr[i].csize;
	}
	return l;
}

static unsigned *prob_counter(vctx *x, int kind, vfile *f)
{
	return f ? &f->nprob[kind] : &x->nprob_nofile[kind];
}

/* Is there room to show one more problem of this kind here? (Caller holds nothing.) */
static int prob_room(vctx *x, int kind, vfile *f)
{
	unsigned max = x->o->max_per_kind;
	pthread_mutex_lock(&x->mu);
	int room = !max || *prob_counter(x, kind, f) < max;
	pthread_mutex_unlock(&x->mu);
	return room;
}

/* force: shown whatever the count (the notes that sum up what was not shown) */
static void probv(vctx *x, int kind, const vloc *l, int force, const char *fmt, va_list ap)
{
	char buf[1024];
	vsnprintf(buf, sizeof buf, fmt, ap);
	pthread_mutex_lock(&x->mu);
	if (kind == PK_NOTE)
		x->notes++;
	else
		x->problems++;
	unsigned *cnt = prob_counter(x, kind, l->f);
	unsigned max = x->o->max_per_kind;
	if (!force)
		(*cnt)++;
	if (!force && max && *cnt > max) {
		pthread_mutex_unlock(&x->mu);
		return;
	}
	if (x->npr == x->cappr) {
		size_t cap = x->cappr ? x->cappr * 2 : 64;
		vprob *p = realloc(x->pr, cap * sizeof *p);
		if (!p) {
			pthread_mutex_unlock(&x->mu);
			return;   /* counted, not shown */
		}
		x->pr = p;
		x->cappr = cap;
	}
	vprob *p = &x->pr[x->npr];
	memset(p, 0, sizeof *p);
	p->kind = kind;
	p->f = l->f;
	p->frame = l->frame;
	p->offset = l->offset;
	p->record = l->record;
	p->length = l->length;
	p->detail = strdup(buf);
	if (l->id && (p->id = malloc(l->idlen + 1))) {
		memcpy(p->id, l->id, l->idlen);
		p->id[l->idlen] = 0;
		p->idlen = l->idlen;
	}
	p->seq = x->pseq++;
	if (p->detail)
		x->npr++;
	pthread_mutex_unlock(&x->mu);
}

static void prob(vctx *x, int kind, const vloc *l, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void prob(vctx *x, int kind, const vloc *l, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	probv(x, kind, l, 0, fmt, ap);
	va_end(ap);
}

static void prob_force(vctx *x, int kind, const vloc *l, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void prob_force(vctx *x, int kind, const vloc *l, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	probv(x, kind, l, 1, fmt, ap);
	va_end(ap);
}

static int cmp_prob(const void *a, const void *b)
{
	const vprob *p = a, *q = b;
	int pn = p->kind == PK_NOTE, qn = q->kind == PK_NOTE;
	if (pn != qn)
		return pn - qn;
	int pf = p->f ? p->f->order : 1 << 30, qf = q->f ? q->f->order : 1 << 30;
	if (pf != qf)
		return pf < qf ? -1 : 1;
	if (p->frame != q->frame)
		return p->frame < q->frame ? -1 : 1;
	if (p->offset != q->offset)
		return p->offset < q->offset ? -1 : 1;
	if (p->record != q->record)
		return p->record < q->record ? -1 : 1;
	if (p->kind != q->kind)
		return p->kind - q->kind;
	return p->seq < q->seq ? -1 : p->seq > q->seq;
}

/* ---- the file table ---- */

static vfile *file_find(vctx *x, const char *path)
{
	if (!x->htcap)
		return NULL;
	for (size_t i = fnv(path) & (x->htcap - 1);; i = (i + 1) & (x->htcap - 1)) {
		if (!x->ht[i])
			return NULL;
		if (!strcmp(x->ht[i]->path, path))
			return x->ht[i];
	}
}

static int ht_insert(vctx *x, vfile *f)
{
	if ((x->nf + 1) * 2 > x->htcap) {
		size_t cap = x->htcap ? x->htcap * 2 : 64;
		vfile **t = calloc(cap, sizeof *t);
		if (!t)
			return WN_E_NOMEM;
		for (size_t i = 0; i < x->htcap; i++) {
			if (!x->ht[i])
				continue;
			size_t j = fnv(x->ht[i]->path) & (cap - 1);
			while (t[j])
				j = (j + 1) & (cap - 1);
			t[j] = x->ht[i];
		}
		free(x->ht);
		x->ht = t;
		x->htcap = cap;
	}
	size_t j = fnv(f->path) & (x->htcap - 1);
	while (x->ht[j])
		j = (j + 1) & (x->htcap - 1);
	x->ht[j] = f;
	return 0;
}

/* Parse "<role dir>/<kind>-<seq>.jsonl.zst". */
static void name_parse(vfile *f)
{
	f->role = f->kind = -1;
	f->seq = 0;
	for (int r = 0; r < WN_NROLES; r++) {
		size_t rl = strlen(wn_role_dir(r));
		if (strncmp(f->path, wn_role_dir(r), rl) || f->path[rl] != '/')
			continue;
		const char *n = f->path + rl + 1;
		for (int k = 0; k < WN_NKINDS; k++) {
			const char *kn = wn_kind_name(k);
			size_t kl = strlen(kn);
			if (strncmp(n, kn, kl) || n[kl] != '-')
				continue;
			const char *d = n + kl + 1, *e = d;
			uint64_t v = 0;
			while (*e >= '0' && *e <= '9' && e - d < 10)
				v = v * 10 + (uint64_t)(*e++ - '0');
			if (e - d < 6 || strcmp(e, ".jsonl.zst") || v == 0 || v > UINT32_MAX)
				continue;
			f->role = r;
			f->kind = k;
			f->seq = (uint32_t)v;
			return;
		}
	}
}

static vfile *file_get(vctx *x, const char *path)
{
	vfile *f = file_find(x, path);
	if (f)
		return f;
	if (x->nf == x->capf) {
		size_t cap = x->capf ? x->capf * 2 : 64;
		vfile **p = realloc(x->f, cap * sizeof *p);
		if (!p)
			return NULL;
		x->f = p;
		x->capf = cap;
	}
	f = calloc(1, sizeof *f);
	if (!f || !(f->path = strdup(path))) {
		free(f);
		return NULL;
	}
	if (ht_insert(x, f)) {
		free(f->path);
		free(f);
		return NULL;
	}
	name_parse(f);
	f->j.role = f->j.kind = -1;
	x->f[x->nf++] = f;
	return f;
}

static void file_free(vfile *f)
{
	if (!f)
		return;
	for (uint32_t i = 0; f->fr && i < f->nfr; i++) {
		free(f->fr[i].recs);
		free(f->fr[i].rflags);
	}
	free(f->fr);
	free(f->olist);
	free(f->path);
	free(f);
}

static int cmp_file(const void *a, const void *b)
{
	return strcmp((*(vfile *const *)a)->path, (*(vfile *const *)b)->path);
}

/* Normalise a path read from a manifest into out (cap bytes): relative, no "." or empty
 * segments. Returns NULL, or why it is refused (absolute, "..", empty, too long). */
static const char *path_norm(const char *p, size_t n, char *out, size_t cap)
{
	if (!n)
		return "empty path";
	if (memchr(p, 0, n))
		return "path contains a NUL byte";
	if (p[0] == '/')
		return "absolute path";
	size_t o = 0;
	for (size_t i = 0; i < n;) {
		size_t j = i;
		while (j < n && p[j] != '/')
			j++;
		size_t sl = j - i;
		if (sl == 2 && p[i] == '.' && p[i + 1] == '.')
			return "path goes up (\"..\")";
		if (sl && !(sl == 1 && p[i] == '.')) {
			if (o + sl + 2 > cap)
				return "path too long";
			if (o)
				out[o++] = '/';
			memcpy(out + o, p + i, sl);
			o += sl;
		}
		i = j + 1;
	}
	if (!o)
		return "empty path";
	out[o] = 0;
	return NULL;
}

static int selected(vctx *x, const char *path)
{
	if (!x->o->only || !x->o->n_only)
		return 1;
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	for (size_t i = 0; i < x->o->n_only; i++) {
		const char *pat = x->o->only[i];
		if (!pat)
			continue;
		if (!fnmatch(pat, path, 0) || !fnmatch(pat, base, 0))
			return 1;
	}
	return 0;
}

/* Open a file of the folder for reading without leaving it: RESOLVE_BENEATH refuses
 * "..", absolute paths and symbolic links that point outside. Returns fd or -errno. */
static int open_in(vctx *x, const char *rel)
{
#if defined(HAVE_OPENAT2) && defined(SYS_openat2)
	struct open_how how;
	memset(&how, 0, sizeof how);
	how.flags = O_RDONLY | O_CLOEXEC;
	how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
	long fd = syscall(SYS_openat2, x->dirfd, rel, &how, sizeof how);
	if (fd >= 0)
		return (int)fd;
	if (errno != ENOSYS && errno != EPERM)
		return -errno;
#endif
	int fd2 = openat(x->dirfd, rel, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	return fd2 < 0 ? -errno : fd2;
}

static int read_text(const char *path, wn_buf *b)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno;
	struct stat st;
	if (fstat(fd, &st)) {
		int e = errno;
		close(fd);
		return e;
	}
	if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size > MAX_TEXT) {
		close(fd);
		return S_ISREG(st.st_mode) ? EFBIG : EISDIR;
	}
	b->len = 0;
	if (wn_buf_reserve(b, (size_t)st.st_size + 1)) {
		close(fd);
		return ENOMEM;
	}
	for (;;) {
		if (wn_buf_reserve(b, 65536)) {
			close(fd);
			return ENOMEM;
		}
		ssize_t r = read(fd, b->p + b->len, b->cap - b->len - 1);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			int e = errno;
			close(fd);
			return e;
		}
		if (!r)
			break;
		b->len += (size_t)r;
		if (b->len > MAX_TEXT) {
			close(fd);
			return EFBIG;
		}
	}
	close(fd);
	b->p[b->len] = 0;
	return 0;
}

/* A printable excerpt of untrusted text for a message: at most 60 bytes, anything but
 * printable ASCII shown as '?'. */
static const char *snip(char *out, size_t cap, const char *s, size_t n)
{
	size_t o = 0;
	for (size_t i = 0; i < n && o + 4 < cap && i < 60; i++)
		out[o++] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
	if (n > 60 && o + 4 < cap) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = 0;
	return out;
}

/* ---- MANIFEST and SHA256SUMS ---- */

typedef const char *(*line_parser)(const char *, size_t, const char **, size_t *, uint8_t *);

/* Read a checksum file line by line. which: 0 MANIFEST, 1 SHA256SUMS. */
static int load_sumfile(vctx *x, const wn_buf *b, int which)
{
	const char *name = which ? "SHA256SUMS" : "MANIFEST";
	line_parser parse = which ? wn_manifest_parse_sha : wn_manifest_parse_xxh;
	unsigned lineno = 0;
	char s1[80], norm[4096];
	for (const char *p = b->p, *end = b->p + b->len; p < end;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p)), *le = nl ? nl : end;
		size_t n = (size_t)(le - p);
		const char *path = NULL, *why;
		size_t plen = 0;
		uint8_t h[32];
		lineno++;
		if (n > 65536)
			why = "line too long";
		else if (n && p[n - 1] == '\r')
			why = "line ends with a carriage return";
		else if (memchr(p, 0, n))
			why = "line contains a NUL byte";
		else
			why = parse(p, n, &path, &plen, h);
		if (why) {
			prob(x, PK_METADATA, &NOLOC, "%s line %u is malformed: %s: \"%s\"", name, lineno, why, snip(s1, sizeof s1, p, n));
		} else if ((why = path_norm(path, plen, norm, sizeof norm))) {
			prob(x, PK_METADATA, &NOLOC, "%s line %u: %s (\"%s\"): refused, not opened", name, lineno, why,
				snip(s1, sizeof s1, path, plen));
		} else {
			vfile *f = file_get(x, norm);
			if (!f)
				return WN_E_NOMEM;
			vloc l = at_file(f);
			if (which ? f->have_sum : f->listed) {
				prob(x, PK_METADATA, &l, "%s line %u lists the file a second time", name, lineno);
			} else if (which) {
				f->have_sum = 1;
				memcpy(f->sum_sha, h, 32);
			} else {
				f->listed = 1;
				f->line = lineno;
				memcpy(f->xxh, h, 16);
			}
		}
		p = nl ? nl + 1 : end;
	}
	return 0;
}

/* ---- MANIFEST.json, catalog.json (read by manifest.c) ---- */

/* Check that text is one valid JSON object; a problem if not. 1 valid, 0 not, <0 error. */
static int json_valid(vctx *x, const char *name, const wn_buf *b)
{
	wn_json *jp = wn_json_new();
	if (!jp)
		return WN_E_NOMEM;
	wn_jresult jr;
	int rc = wn_json_record(jp, b->p, b->len, &jr);
	wn_json_free(jp);
	if (rc == WN_E_NOMEM)
		return rc;
	if (rc) {
		prob(x, PK_METADATA, &NOLOC, "%s is not a valid JSON object: %s at byte %zu", name, jr.err, jr.err_offset);
		return 0;
	}
	return 1;
}

typedef struct mjdoc {
	vctx *x;
	const char *name;
} mjdoc;

/* One element of MANIFEST.json's files[]. */
static int mj_file(void *ud, size_t idx, const char *path, size_t plen, int have_path, const wn_mfile *m)
{
	vctx *x = ((const mjdoc *)ud)->x;
	char norm[4096], s1[80];
	const char *why = have_path ? path_norm(path, plen, norm, sizeof norm) : "no \"path\"";
	if (why) {
		prob(x, PK_METADATA, &NOLOC, "MANIFEST.json files[%zu]: %s (\"%s\"): refused, not opened", idx, why,
			snip(s1, sizeof s1, path, plen));
		return 0;
	}
	vfile *f = file_get(x, norm);
	if (!f)
		return WN_E_NOMEM;
	if (f->have_json) {
		vloc l = at_file(f);
		prob(x, PK_METADATA, &l, "MANIFEST.json lists the file a second time (files[%zu])", idx);
		return 0;
	}
	f->j = *m;
	f->have_json = 1;
	return 0;
}

static void mj_version(void *ud, const char *key)
{
	const mjdoc *d = ud;
	prob(d->x, PK_METADATA, &NOLOC, "%s: %s is not 1 (this winnow reads version 1)", d->name, key);
}

/* Read MANIFEST.json (catalog 0) or catalog.json (1) into *m; *have: it is there and is
 * JSON. 0, or WN_E_NOMEM. */
static int load_mjson(vctx *x, int catalog, int *have, wn_mjson *m)
{
	wn_buf b = { 0 };
	char path[4400];
	const char *name = catalog ? "catalog.json" : "MANIFEST.json";
	if (catalog)
		snprintf(path, sizeof path, "%s/catalog.json", x->mdir);
	else
		snprintf(path, sizeof path, "%s.json", x->manifest);
	int e = read_text(path, &b);
	if (e) {
		if (e != ENOENT || x->c)
			prob(x, PK_METADATA, &NOLOC, "%s: %s", name, strerror(e));
		wn_buf_free(&b);
		return 0;
	}
	int rc = json_valid(x, name, &b);
	if (rc > 0) {
		mjdoc d = { x, name };
		wn_mjson_cb cb = { catalog ? NULL : mj_file, mj_version, catalog, &d };
		*have = 1;
		rc = wn_mjson_read(b.p, b.len, &cb, m);
		if (!rc && m->bad)
			prob(x, PK_METADATA, &NOLOC, "%s: unexpected layout near byte %zu", name, m->bad_at);
	}
	wn_buf_free(&b);
	return rc < 0 ? rc : 0;
}

static int load_manifests_json(vctx *x)
{
	wn_mjson mj, cj;
	x->interrupted = -1;
	int rc = load_mjson(x, 0, &x->have_mjson, &mj);
	if (!rc && x->have_mjson) {
		x->mj_counts = mj.have_counts;
		memcpy(x->mjc, mj.counts, sizeof x->mjc);
		x->mj_have_gen = mj.have_generation;
		x->mj_gen = mj.generation;
	}
	if (!rc)
		rc = load_mjson(x, 1, &x->have_cjson, &cj);
	if (!rc && x->have_cjson) {
		x->cj_counts = cj.have_counts;
		memcpy(x->cjc, cj.counts, sizeof x->cjc);
		x->cj_have_gen = cj.have_generation;
		x->cj_gen = cj.generation;
		x->interrupted = cj.interrupted;
	}
	return rc;
}

/* ---- the index (catalog mode) ---- */

static int lmdb_fail(vctx *x, int rc, const char *what)
{
	int code = wn_lmdb_err(x->c, rc, what);
	return fail(x, code, "%s", x->c->err);
}

static int load_index(vctx *x)
{
	wn_catalog *c = x->c;
	MDB_cursor *cur;
	MDB_val k, v;
	char key[4200], norm[4096], s1[80];
	int rc = mdb_txn_begin(c->env, NULL, MDB_RDONLY, &x->txn);
	if (rc)
		return lmdb_fail(x, rc, "begin");
	for (int kd = 0; kd < WN_NKINDS; kd++)
		if ((rc = wn_meta_get_kstate(c, x->txn, kd, &x->ks[kd])))
			return fail(x, rc, "%s", c->err);
	if (!wn_meta_get(c, x->txn, "generation", &v) && v.mv_size == 8)
		x->generation = wn_get_be64(v.mv_data);
	for (int kd = 0; kd < WN_NKINDS; kd++) {
		snprintf(key, sizeof key, "pending.%s", wn_kind_name(kd));
		if (!wn_meta_get(c, x->txn, key, &v))
			x->pending = 1;
	}
	/* files */
	if ((rc = mdb_cursor_open(x->txn, c->db_files, &cur)))
		return lmdb_fail(x, rc, "files");
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); !rc; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		const char *why = path_norm(k.mv_data, k.mv_size, norm, sizeof norm);
		if (why) {
			prob(x, PK_METADATA, &NOLOC, "index: files row \"%s\": %s: refused, not opened",
				snip(s1, sizeof s1, k.mv_data, k.mv_size), why);
			continue;
		}
		vfile *f = file_get(x, norm);
		if (!f) {
			mdb_cursor_close(cur);
			return fail(x, WN_E_NOMEM, "out of memory");
		}
		if (v.mv_size != WN_FILEINFO_BYTES) {
			vloc l = at_file(f);
			prob(x, PK_IXMISMATCH, &l, "index: the files row has %zu bytes, not %d", v.mv_size, WN_FILEINFO_BYTES);
			continue;
		}
		wn_fileinfo_unpack(&f->row, v.mv_data);
		f->have_row = 1;
		if (!f->row.sealed) {
			snprintf(key, sizeof key, "open:%s", f->path);
			MDB_val ov;
			int r2 = wn_meta_get(c, x->txn, key, &ov);
			if (!r2 && ov.mv_size % WN_SEEK_ENTRY == 0) {
				f->nolist = (uint32_t)(ov.mv_size / WN_SEEK_ENTRY);
				f->olist = calloc(f->nolist ? f->nolist : 1, sizeof *f->olist);
				if (!f->olist) {
					mdb_cursor_close(cur);
					return fail(x, WN_E_NOMEM, "out of memory");
				}
				for (uint32_t i = 0; i < f->nolist; i++) {
					const uint8_t *p = (const uint8_t *)ov.mv_data + (size_t)i * WN_SEEK_ENTRY;
					f->olist[i].csize = wn_get_be32(p);
					f->olist[i].dsize = wn_get_be32(p + 4);
					f->olist[i].checksum = wn_get_be32(p + 8);
				}
				f->have_olist = 1;
			} else {
				vloc l = at_file(f);
				prob(x, PK_IXMISMATCH, &l, "index: the unsealed file has no usable frame list (meta %s)", key);
			}
		} else {
			snprintf(key, sizeof key, "sha256:%s", f->path);
			MDB_val sv;
			if (!wn_meta_get(c, x->txn, key, &sv) && sv.mv_size == 32) {
				memcpy(f->meta_sha, sv.mv_data, 32);
				f->have_meta_sha = 1;
			}
		}
	}
	mdb_cursor_close(cur);
	if (rc != MDB_NOTFOUND)
		return lmdb_fail(x, rc, "files");
	/* the frame rows, per kind (deep mode) */
	for (int kd = 0; kd < WN_NKINDS && x->deep; kd++) {
		vkind *K = &x->k[kd];
		if ((rc = mdb_cursor_open(x->txn, c->db_frames[kd], &cur)))
			return lmdb_fail(x, rc, "frames");
		size_t cap = 0;
		for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); !rc; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
			if (K->nrows == cap) {
				cap = cap ? cap * 2 : 256;
				wn_frameinfo *r = realloc(K->rows, cap * sizeof *r);
				uint64_t *rk = realloc(K->rowkey, cap * sizeof *rk);
				if (r)
					K->rows = r;
				if (rk)
					K->rowkey = rk;
				if (!r || !rk) {
					mdb_cursor_close(cur);
					return fail(x, WN_E_NOMEM, "out of memory");
				}
			}
			if (k.mv_size != 8 || v.mv_size != WN_FRAMEINFO_BYTES) {
				prob(x, PK_IXMISMATCH, &NOLOC, "index: a %s.frames row has a %zu-byte key and a %zu-byte value",
					wn_kind_name(kd), k.mv_size, v.mv_size);
				continue;
			}
			wn_frameinfo_unpack(&K->rows[K->nrows], v.mv_data);
			K->rowkey[K->nrows++] = wn_get_be64(k.mv_data);
		}
		mdb_cursor_close(cur);
		if (rc != MDB_NOTFOUND)
			return lmdb_fail(x, rc, "frames");
		K->rowused = calloc(K->nrows ? K->nrows : 1, 1);
		if (!K->rowused)
			return fail(x, WN_E_NOMEM, "out of memory");
	}
	return 0;
}

/* Is a writer at work on the catalog right now? (Its MANIFEST may then lag behind.) */
static int writer_active(vctx *x)
{
	char p[4400];
	if (!x->c || x->c->writable)
		return 0;
	snprintf(p, sizeof p, "%s/index/writer.lock", x->dir);
	int fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	int busy = flock(fd, LOCK_SH | LOCK_NB) && errno == EWOULDBLOCK;
	close(fd);
	return busy;
}

/* ---- files nobody listed ---- */

static int scan_folder(vctx *x, const char *folder, uint32_t maxseq[WN_NROLES][WN_NKINDS])
{
	int dfd = openat(x->dirfd, folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (dfd < 0)
		return 0;
	DIR *d = fdopendir(dfd);
	if (!d) {
		close(dfd);
		return 0;
	}
	struct dirent *de;
	char rel[4400];
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		snprintf(rel, sizeof rel, "%s/%s", folder, de->d_name);
		vfile *f = file_find(x, rel);
		if (f && (f->listed || f->have_row || f->have_json || f->have_sum))
			continue;
		if (!selected(x, rel))
			continue;
		vfile probe;
		memset(&probe, 0, sizeof probe);
		probe.path = rel;
		name_parse(&probe);
		struct stat st;
		int isdir = !fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) && S_ISDIR(st.st_mode);
		if (!(f = file_get(x, rel))) {
			closedir(d);
			return WN_E_NOMEM;
		}
		vloc l = at_file(f);
		if (!x->c && x->interrupted == 1 && probe.role >= 0 && probe.seq > maxseq[probe.role][probe.kind])
			prob(x, PK_NOTE, &l, "not in MANIFEST: the unsealed file of an interrupted run (catalog.json); not checked");
		else if (x->writer_active && probe.role >= 0)
			prob(x, PK_NOTE, &l, "not in MANIFEST or the index: a file an ingest running now is writing; not checked");
		else
			prob(x, PK_EXTRA, &l, "%s that MANIFEST does not list", isdir ? "a folder" : "a file");
	}
	closedir(d);
	return 0;
}

static int scan_extras(vctx *x)
{
	uint32_t maxseq[WN_NROLES][WN_NKINDS] = { { 0 } };
	char (*folders)[256] = calloc(x->nf + WN_NROLES, sizeof *folders);
	size_t nfold = 0;
	if (!folders)
		return WN_E_NOMEM;
	for (int r = 0; r < WN_NROLES; r++)
		snprintf(folders[nfold++], 256, "%s", wn_role_dir(r));
	size_t nfiles = x->nf;
	for (size_t i = 0; i < nfiles; i++) {
		vfile *f = x->f[i];
		if (f->listed && f->role >= 0 && f->seq > maxseq[f->role][f->kind])
			maxseq[f->role][f->kind] = f->seq;
		const char *sl = strchr(f->path, '/');
		if (!sl || (size_t)(sl - f->path) >= 255 || !(f->listed || f->have_row))
			continue;
		size_t fl = (size_t)(sl - f->path), j;
		for (j = 0; j < nfold; j++)
			if (strlen(folders[j]) == fl && !memcmp(folders[j], f->path, fl))
				break;
		if (j == nfold) {
			memcpy(folders[nfold], f->path, fl);
			folders[nfold++][fl] = 0;
		}
	}
	int rc = 0;
	for (size_t j = 0; j < nfold && !rc; j++)
		rc = scan_folder(x, folders[j], maxseq);
	free(folders);
	return rc;
}

/* ---- which files to read ---- */

static uint64_t expected_bytes(const vfile *f)
{
	if (f->have_json && f->j.have[WN_MF_BYTES])
		return f->j.bytes;
	if (f->have_row)
		return f->row.sealed ? f->row.size : f->row.data_len;
	return 0;
}

static int plan_files(vctx *x)
{
	if (x->nf)
		qsort(x->f, x->nf, sizeof *x->f, cmp_file);
	for (size_t i = 0; i < x->nf; i++)
		x->f[i]->order = (int)i;
	for (size_t i = 0; i < x->nf; i++) {
		vfile *f = x->f[i];
		if (!f->listed && !f->have_row)
			continue;
		f->sealed = f->listed || f->row.sealed;
		vloc l = at_file(f);
		if (!selected(x, f->path)) {
			x->res->files_skipped++;
			x->res->bytes_skipped += expected_bytes(f);
			continue;
		}
		int fd = open_in(x, f->path);
		if (fd < 0) {
			int e = -fd;
			if (e == ENOENT && x->o->ignore_missing) {
					x->res->files_skipped++;
				x->res->bytes_skipped += expected_bytes(f);
			} else if (e == ENOENT && !f->sealed && x->writer_active) {
				prob(x, PK_NOTE, &l, "not there yet: a file an ingest running now is writing");
			} else if (e == ENOENT) {
				if (f->listed)
					prob(x, PK_MISSING, &l, "the file is missing (MANIFEST line %u)", f->line);
				else
					prob(x, PK_MISSING, &l, "the file is missing (the index has a row for it)");
			} else if (e == EXDEV || e == ELOOP) {
				prob(x, PK_METADATA, &l, "refused: the path leaves the folder through a symbolic link");
			} else {
				prob(x, PK_MISSING, &l, "cannot open: %s", strerror(e));
			}
			continue;
		}
		struct stat st;
		int isreg = !fstat(fd, &st) && S_ISREG(st.st_mode);
		close(fd);
		if (!isreg) {
			prob(x, PK_MISSING, &l, "not a regular file");
			continue;
		}
		f->size = (uint64_t)st.st_size;
		f->checked = 1;
		x->res->files_checked++;
		if (f->sealed) {
			f->want_hash = 1;
			f->want_sha = f->have_sum || f->have_meta_sha;
			continue;
		}
		/* an unsealed file: its committed bytes are what counts */
		if (x->writer_active)
			prob(x, PK_NOTE, &l, "unsealed: an ingest running now is writing it; its %llu committed bytes are checked",
				(unsigned long long)f->row.data_len);
		else
			prob(x, PK_NOTE, &l, "unsealed: left by an interrupted ingest run, not in MANIFEST; its %llu committed bytes "
				"are checked (the next ingest seals it)", (unsigned long long)f->row.data_len);
		if (f->size < f->row.data_len) {
			l.offset = (int64_t)f->size;
			l.length = f->row.data_len - f->size;
			prob(x, PK_TRUNCATED, &l, "the file has %llu bytes, fewer than the %llu committed bytes",
				(unsigned long long)f->size, (unsigned long long)f->row.data_len);
		}
		x->res->bytes_checked += f->row.data_len < f->size ? f->row.data_len : f->size;
	}
	return 0;
}

/* ---- frame lists (deep mode) ---- */

static int push_frame(vfile *f, uint32_t *cap, uint64_t off, uint32_t csize)
{
	if (f->nfr == *cap) {
		uint32_t c = *cap ? *cap * 2 : 64;
		vframe *p = realloc(f->fr, (size_t)c * sizeof *p);
		if (!p)
			return WN_E_NOMEM;
		f->fr = p;
		*cap = c;
	}
	vframe *fr = &f->fr[f->nfr++];
	memset(fr, 0, sizeof *fr);
	fr->off = off;
	fr->csize = csize;
	fr->ord0 = -1;
	return 0;
}

/* Find the frames by their headers when there is no usable seek table: from byte 0, each
 * frame's size from zstd, up to the seek table's skippable frame, `end`, or stop_at (where
 * the footer says the table begins, if the walk lands there). */
static int walk_frames(vctx *x, vfile *f, int fd, uint64_t end, uint64_t stop_at, uint64_t *data_end)
{
	size_t cap = 1 << 20;
	uint8_t *buf = malloc(cap);
	uint32_t fcap = 0;
	uint64_t off = 0;
	int rc = 0;
	if (!buf)
		return WN_E_NOMEM;
	free(f->fr);
	f->fr = NULL;
	f->nfr = 0;
	while (off < end && off != stop_at) {
		size_t want = end - off < cap ? (size_t)(end - off) : cap;
		ssize_t got = pread(fd, buf, want, (off_t)off);
		vloc l = at_file(f);
		l.frame = f->nfr;
		l.offset = (int64_t)off;
		if (got < 0) {
			if (errno == EINTR)
				continue;
			prob(x, PK_CHECKSUM, &l, "read error at byte %llu: %s", (unsigned long long)off, strerror(errno));
			break;
		}
		if (got < 8) {
			l.length = (uint64_t)got;
			prob(x, PK_TRUNCATED, &l, "%zd stray bytes after the last frame", got);
			break;
		}
		uint32_t magic = wn_get_le32(buf);
		if ((magic & 0xFFFFFFF0u) == 0x184D2A50u) {
			uint64_t sz = 8 + (uint64_t)wn_get_le32(buf + 4);
			if (magic == WN_SKIPPABLE_SEEK)
				break;    /* the seek table (or what is left of it) */
			l.length = sz;
			prob(x, PK_FRAME, &l, "an unexpected skippable frame (magic %08x)", magic);
			off += sz;
			continue;
		}
		size_t fs = ZSTD_findFrameCompressedSize(buf, (size_t)got);
		if (ZSTD_isError(fs)) {
			if ((uint64_t)got < end - off && cap < MAX_FRAME_RAW) {
				uint8_t *nb = realloc(buf, cap * 4);
				if (!nb) {
					rc = WN_E_NOMEM;
					break;
				}
				buf = nb;
				cap *= 4;
				continue;
			}
			l.length = end - off;
			if (ZSTD_getErrorCode(fs) == ZSTD_error_srcSize_wrong)
				prob(x, PK_TRUNCATED, &l, "frame %u starting at byte %llu is cut short", f->nfr, (unsigned long long)off);
			else
				prob(x, PK_FRAME, &l, "no zstd frame can be read at byte %llu: %s", (unsigned long long)off,
					ZSTD_getErrorName(fs));
			break;
		}
		if ((rc = push_frame(f, &fcap, off, (uint32_t)fs)))
			break;
		off += fs;
	}
	free(buf);
	*data_end = off;
	return rc;
}

/* The frames of a file: from its seek table (sealed) or the index's frame list
 * (unsealed); when the seek table is unusable, by walking the frames. */
static int plan_frames(vctx *x, vfile *f)
{
	uint32_t fcap = 0;
	int rc = 0;
	if (!f->sealed) {
		if (!f->have_olist)
			return 0;
		uint64_t off = 0;
		for (uint32_t i = 0; i < f->nolist && !rc; i++) {
			if ((rc = push_frame(f, &fcap, off, f->olist[i].csize)))
				break;
			f->fr[i].e_dsize = f->olist[i].dsize;
			f->fr[i].e_checksum = f->olist[i].checksum;
			f->fr[i].have_entry = 1;
			off += f->olist[i].csize;
		}
		f->data_len = off;
		if (off != f->row.data_len) {
			vloc l = at_file(f);
			prob(x, PK_IXMISMATCH, &l, "index: the frame list of the unsealed file adds up to %llu bytes, its row says %llu",
				(unsigned long long)off, (unsigned long long)f->row.data_len);
		}
		f->frames_known = !rc;
		return rc;
	}
	int fd = open_in(x, f->path);
	if (fd < 0)
		return 0;   /* reported by the hash task */
	wn_seekent *e = NULL;
	uint32_t n = 0;
	uint64_t tb = 0, sum = 0, data_end = 0;
	char err[200];
	rc = wn_seektable_read(fd, f->size, &e, &n, &tb, err, sizeof err);
	vloc l = at_file(f);
	if (!rc) {
		for (uint32_t i = 0; i < n; i++)
			sum += e[i].csize;
		f->table_off = f->size - tb;
		f->table_len = tb;
		if (sum == f->size - tb) {
			uint64_t off = 0;
			for (uint32_t i = 0; i < n && !rc; i++) {
				if ((rc = push_frame(f, &fcap, off, e[i].csize)))
					break;
				f->fr[i].e_dsize = e[i].dsize;
				f->fr[i].e_checksum = e[i].checksum;
				f->fr[i].have_entry = 1;
				off += e[i].csize;
			}
			f->data_len = off;
			f->frames_known = !rc;
			free(e);
			close(fd);
			return rc;
		}
		/* the entries do not describe the frames: find them, then the entry at fault */
		rc = walk_frames(x, f, fd, f->size - tb, UINT64_MAX, &data_end);
		uint32_t i = 0;
		while (i < n && i < f->nfr && e[i].csize == f->fr[i].csize)
			i++;
		l.frame = i;
		l.offset = (int64_t)(f->table_off + 8 + (uint64_t)i * WN_SEEK_ENTRY);
		l.length = WN_SEEK_ENTRY;
		if (i < n && i < f->nfr)
			prob(x, PK_SEEK, &l, "seek table entry %u says frame %u has %u compressed bytes, the frame has %u", i, i,
				e[i].csize, f->fr[i].csize);
		else
			prob(x, PK_SEEK, &l, "the seek table lists %u frames adding up to %llu bytes; the file holds %u frames in %llu bytes",
				n, (unsigned long long)sum, f->nfr, (unsigned long long)data_end);
		/* the entries that agree with the frames still give sizes and checksums to check */
		for (uint32_t k = 0; k < n && k < f->nfr; k++)
			if (e[k].csize == f->fr[k].csize) {
				f->fr[k].e_dsize = e[k].dsize;
				f->fr[k].e_checksum = e[k].checksum;
				f->fr[k].have_entry = 1;
			}
	} else if (rc == WN_E_CORRUPT) {
		/* If the footer is sound, it says where the table starts and its entries may still
		 * be read; the frames are found by walking them. */
		uint8_t foot[WN_SEEK_FOOTER];
		uint64_t tstart = UINT64_MAX, tsize = 0;
		uint32_t nf = 0;
		size_t esz = 12;
		if (f->size >= 8 + WN_SEEK_FOOTER && !wn_pread_all(fd, foot, sizeof foot, f->size - WN_SEEK_FOOTER) &&
		    wn_get_le32(foot + 5) == WN_SEEK_MAGIC && !(foot[4] & 0x7C)) {
			nf = wn_get_le32(foot);
			esz = (foot[4] & 0x80) ? 12 : 8;
			tsize = 8 + (uint64_t)nf * esz + WN_SEEK_FOOTER;
			if (tsize <= f->size)
				tstart = f->size - tsize;
		}
		rc = walk_frames(x, f, fd, f->size, tstart, &data_end);
		f->table_off = data_end;
		f->table_len = f->size - data_end;
		l.offset = f->size >= WN_SEEK_FOOTER ? (int64_t)(f->size - WN_SEEK_FOOTER) : 0;
		l.length = f->size >= WN_SEEK_FOOTER ? WN_SEEK_FOOTER : f->size;
		if (tstart != UINT64_MAX && data_end != tstart) {
			prob(x, PK_SEEK, &l, "the seek table's footer says %u frames, a table from byte %llu, but the frames end at "
				"byte %llu (%s)", nf, (unsigned long long)tstart, (unsigned long long)data_end, err);
		} else {
			if (tstart != UINT64_MAX && strstr(err, "header")) {
				l.offset = (int64_t)tstart;
				l.length = 8;
			}
			prob(x, PK_SEEK, &l, "%s", err);
		}
		if (!rc && tstart != UINT64_MAX && data_end == tstart && nf) {
			/* the entries themselves may be fine: check the frames against them too */
			uint8_t *eb = malloc((size_t)nf * esz);
			if (eb && !wn_pread_all(fd, eb, (size_t)nf * esz, tstart + 8))
				for (uint32_t k = 0; k < nf && k < f->nfr; k++) {
					const uint8_t *p = eb + (size_t)k * esz;
					if (wn_get_le32(p) != f->fr[k].csize)
						continue;
					f->fr[k].e_dsize = wn_get_le32(p + 4);
					f->fr[k].e_checksum = esz == 12 ? wn_get_le32(p + 8) : 0;
					f->fr[k].have_entry = esz == 12;
				}
			free(eb);
		}
	} else {
		prob(x, PK_CHECKSUM, &l, "cannot read the seek table: %s", rc > 0 ? strerror(rc) : wn_strerror(rc));
		rc = rc == WN_E_NOMEM ? rc : 0;
		free(e);
		close(fd);
		return rc;
	}
	free(e);
	close(fd);
	f->data_len = data_end;
	f->frames_known = !rc;
	return rc;
}

/* ---- the workers ---- */

enum { T_HASH, T_FRAME, T_SCAN };

typedef struct vworker {
	vctx *x;
	pthread_t th;
	ZSTD_DCtx *dctx;
	wn_json *json[WN_NKINDS];
	uint8_t *in;
	size_t incap;
	char *out;
	size_t outcap;
	wn_hasher *hasher;
	vfile *fd_file;          /* the file fd is open on */
	int fd;
	wn_jresult jr;
} vworker;

/* A parser set up as ingest sets it up for this kind (record.c). */
static int json_for_kind(wn_catalog *c, int kind, wn_json **out)
{
	wn_json *j = wn_json_new();
	*out = j;
	return j ? wn_record_parser(j, &c->opts, kind, WN_RECORD_FP) : WN_E_NOMEM;
}

static int worker_init(vctx *x, vworker *w)
{
	memset(w, 0, sizeof *w);
	w->x = x;
	w->fd = -1;
	w->dctx = ZSTD_createDCtx();
	w->hasher = wn_hasher_new();
	if (!w->dctx || !w->hasher)
		return WN_E_NOMEM;
	if (x->c && x->deep && x->c->have_opts)
		for (int k = 0; k < WN_NKINDS; k++) {
			int rc = json_for_kind(x->c, k, &w->json[k]);
			if (rc)
				return rc;
		}
	return 0;
}

static void worker_free(vworker *w)
{
	ZSTD_freeDCtx(w->dctx);
	wn_hasher_free(w->hasher);
	free(w->in);
	free(w->out);
	for (int k = 0; k < WN_NKINDS; k++)
		wn_json_free(w->json[k]);
	if (w->fd >= 0)
		close(w->fd);
}

static int worker_fd(vworker *w, vfile *f)
{
	if (w->fd >= 0 && w->fd_file == f)
		return w->fd;
	if (w->fd >= 0)
		close(w->fd);
	w->fd_file = f;
	w->fd = open_in(w->x, f->path);
	return w->fd;
}

static int grow(void **p, size_t *cap, size_t need)
{
	if (*cap >= need)
		return 0;
	size_t c = *cap ? *cap : 1 << 16;
	while (c < need)
		c *= 2;
	void *q = realloc(*p, c);
	if (!q)
		return WN_E_NOMEM;
	*p = q;
	*cap = c;
	return 0;
}

/* After each chunk a file's hash reads: progress, and every 64 MiB a look at the cancel flag. */
static int hash_step(uint64_t done, size_t n, void *ud)
{
	vctx *x = ud;
	atomic_fetch_add(&x->bytes_done, (uint64_t)n);
	return !(done & ((64u << 20) - 1)) && cancelled(x);
}

static void task_hash(vworker *w, vfile *f)
{
	vctx *x = w->x;
	vloc l = at_file(f);
	int fd = open_in(x, f->path);
	if (fd < 0) {
		prob(x, PK_MISSING, &l, "cannot open: %s", strerror(-fd));
		return;
	}
	posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	uint64_t off = 0;
	int rc = wn_hasher_fd(w->hasher, fd, f->got_xxh, f->want_sha ? f->got_sha : NULL, &off, hash_step, x);
	close(fd);
	if (rc == WN_E_INTERRUPTED)
		return;
	if (rc) {
		l.offset = (int64_t)off;
		prob(x, PK_CHECKSUM, &l, "read error at byte %llu: %s", (unsigned long long)off, strerror(rc));
		return;
	}
	f->got_size = off;
	f->hashed = 1;
}

/* The fingerprint and id of every record of a shard frame (catalog, deep mode). */
static void frame_records(vworker *w, vfile *f, uint32_t fi, const char *raw, size_t len)
{
	vctx *x = w->x;
	vframe *fr = &f->fr[fi];
	wn_json *jp = w->json[f->kind];
	/* Where the index's frame rows tile the ordinals, each frame owns its range and writes
	 * its records there itself (no copy, no second array); otherwise into arrays of its own
	 * that place_kind copies where the records turn out to belong. */
	vord *dst = NULL;
	if (fr->direct && fr->direct == fr->nrec) {
		dst = &x->k[f->kind].o[fr->ord0];
		fr->in_place = 1;
	} else {
		fr->recs = malloc((size_t)fr->nrec * sizeof *fr->recs + 1);
		fr->rflags = calloc((size_t)fr->nrec + 1, 1);
		if (!fr->recs || !fr->rflags) {
			fail(x, WN_E_NOMEM, "out of memory");
			return;
		}
	}
	const char *p = raw, *end = raw + len;
	for (uint32_t i = 0; i < fr->nrec; i++) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t ll = (size_t)(nl - p);
		vloc l = at_frame(f, fi);
		l.record = fr->ord0 >= 0 ? fr->ord0 + i : -1;
		int rc = wn_json_record(jp, p, ll, &w->jr);
		wn_keys k;
		uint64_t d = 0, fpkey = 0, isrc = 0;
		uint8_t flags;
		if (rc == WN_E_NOMEM) {
			fail(x, rc, "out of memory");
			return;
		}
		if (rc) {
			prob(x, PK_FRAME, &l, "line %u of the frame is not a valid record: %s at byte %zu", i + 1, w->jr.err,
				w->jr.err_offset);
			flags = RF_BADID;
		} else if (wn_record_keys(&w->jr, f->kind, NULL, &k, NULL, 0)) {
			prob(x, PK_FRAME, &l, "line %u of the frame has no usable id in \"%s\"", i + 1, x->c->opts.id_field[f->kind]);
			flags = RF_BADID;
		} else {
			uint8_t key[26];
			wn_put_be64(key, k.hash);
			key[8] = (uint8_t)(k.check >> 8);
			key[9] = (uint8_t)k.check;
			memcpy(key + 10, k.fp, 16);
			d = XXH3_64bits(key, sizeof key);
			fpkey = wn_fp_key(k.fp);
			flags = RF_KNOWN;
			if (k.has_isrc) {
				isrc = k.isrc_hash;
				flags |= RF_ISRC;
			}
		}
		if (dst) {
			dst[i].d = d;
			dst[i].fpkey = fpkey;
			dst[i].isrc = isrc;
			dst[i].st = flags;
		} else {
			fr->recs[i] = (vrec){ d, fpkey, isrc };
			fr->rflags[i] = flags;
		}
		p = nl + 1;
	}
}

static void task_frame(vworker *w, vfile *f, uint32_t fi)
{
	vctx *x = w->x;
	vframe *fr = &f->fr[fi];
	vloc l = at_frame(f, fi);
	fr->bad = 1;
	int fd = worker_fd(w, f);
	if (fd < 0)
		return;
	if (grow((void **)&w->in, &w->incap, fr->csize + 1)) {
		fail(x, WN_E_NOMEM, "out of memory");
		return;
	}
	int rc = wn_pread_all(fd, w->in, fr->csize, fr->off);
	atomic_fetch_add(&x->bytes_done, fr->csize);
	if (rc == WN_E_CORRUPT) {
		prob(x, PK_TRUNCATED, &l, "frame %u is cut short: it needs bytes %llu-%llu, the file has %llu", fi,
			(unsigned long long)fr->off, (unsigned long long)(fr->off + fr->csize - 1), (unsigned long long)f->size);
		return;
	}
	if (rc) {
		prob(x, PK_CHECKSUM, &l, "read error in frame %u: %s", fi, strerror(rc));
		return;
	}
	unsigned long long cs = ZSTD_getFrameContentSize(w->in, fr->csize);
	if (cs == ZSTD_CONTENTSIZE_ERROR) {
		prob(x, PK_FRAME, &l, "frame %u: not a zstd frame header (first bytes %02x %02x %02x %02x)", fi, w->in[0],
			w->in[1], w->in[2], w->in[3]);
		return;
	}
	if (cs == ZSTD_CONTENTSIZE_UNKNOWN || cs > MAX_FRAME_RAW) {
		prob(x, PK_FRAME, &l, "frame %u: the frame header %s", fi,
			cs == ZSTD_CONTENTSIZE_UNKNOWN ? "has no content size" : "declares an implausible content size");
		return;
	}
	size_t fs = ZSTD_findFrameCompressedSize(w->in, fr->csize);
	if (!ZSTD_isError(fs) && fs != fr->csize) {
		if (f->sealed) {
			vloc e = l;
			e.offset = (int64_t)(f->table_off + 8 + (uint64_t)fi * WN_SEEK_ENTRY);
			e.length = WN_SEEK_ENTRY;
			prob(x, PK_SEEK, &e, "seek table entry %u says frame %u has %u compressed bytes, the frame has %zu", fi, fi,
				fr->csize, fs);
		} else {
			prob(x, PK_IXMISMATCH, &l, "index: the frame list says frame %u has %u bytes, the frame has %zu", fi,
				fr->csize, fs);
		}
		return;
	}
	if (grow((void **)&w->out, &w->outcap, (size_t)cs + 1)) {
		fail(x, WN_E_NOMEM, "out of memory");
		return;
	}
	size_t r = ZSTD_decompressDCtx(w->dctx, w->out, (size_t)cs, w->in, fr->csize);
	if (ZSTD_isError(r)) {
		prob(x, PK_FRAME, &l, "the frame does not decode: %s", ZSTD_getErrorName(r));
		return;
	}
	if (r != cs) {
		prob(x, PK_FRAME, &l, "frame %u decodes to %zu bytes, its header says %llu", fi, r, cs);
		return;
	}
	fr->dsize = (uint32_t)r;
	/* zstd has just checked the frame's content checksum (low 32 bits of XXH64), which
	 * ends the frame when its header says so: no need to hash the content again */
	if (fr->csize >= 9 && (w->in[4] & 0x04))   /* Frame_Header_Descriptor: Content_Checksum_flag (RFC 8878) */
		fr->checksum = wn_get_le32(w->in + fr->csize - 4);
	else
		fr->checksum = (uint32_t)XXH64(w->out, r, 0);
	if (fr->have_entry && (fr->e_dsize != fr->dsize || fr->e_checksum != fr->checksum)) {
		vloc e = l;
		const char *what = fr->e_dsize != fr->dsize ? "decompressed size" : "checksum";
		uint32_t said = fr->e_dsize != fr->dsize ? fr->e_dsize : fr->e_checksum;
		uint32_t is = fr->e_dsize != fr->dsize ? fr->dsize : fr->checksum;
		if (f->sealed) {
			e.offset = (int64_t)(f->table_off + 8 + (uint64_t)fi * WN_SEEK_ENTRY);
			e.length = WN_SEEK_ENTRY;
			if (fr->e_dsize != fr->dsize)
				prob(x, PK_SEEK, &e, "seek table entry %u gives frame %u %u raw bytes, the frame has %u (the frame "
					"itself checks out)", fi, fi, said, is);
			else
				prob(x, PK_SEEK, &e, "seek table entry %u gives frame %u the checksum 0x%08x, the frame's content has "
					"0x%08x (the frame itself checks out)", fi, fi, said, is);
		} else {
			prob(x, PK_IXMISMATCH, &e, "index: the frame list gives frame %u the %s %u, the frame has %u", fi, what, said, is);
		}
	}
	if (!r || w->out[r - 1] != '\n') {
		prob(x, PK_FRAME, &l, "frame %u %s", fi, r ? "does not end with a newline" : "is empty");
		return;
	}
	uint32_t n = 0;
	for (const char *p = w->out, *end = w->out + r; (p = memchr(p, '\n', (size_t)(end - p))); p++)
		n++;
	fr->nrec = n;
	if (f->role == WN_ROLE_SHARD && x->c && x->c->have_opts && f->kind >= 0) {
		frame_records(w, f, fi, w->out, r);
	} else if (f->role == WN_ROLE_LEDGER) {
		const char *p = w->out, *end = w->out + r;
		for (uint32_t i = 0; i < n; i++) {
			const char *nl = memchr(p, '\n', (size_t)(end - p));
			wn_ledger_entry le;
			if (wn_ledger_decode(p, (size_t)(nl - p), WN_LEDGER_HEAD, &le, NULL)) {
				prob(x, PK_FRAME, &l, "line %u of the frame is not a ledger entry", i + 1);
			} else {
				if (le.revision)
					fr->rev++;
				else
					fr->dup++;
				if (!fr->has_survivor || le.survivor > fr->max_survivor)
					fr->max_survivor = le.survivor;
				fr->has_survivor = 1;
			}
			p = nl + 1;
		}
	}
	atomic_fetch_add(&x->recs_done, n);
	fr->bad = 0;
	fr->done = 1;
}

static void task_scan(vworker *w, int kind, int map);

static void *worker_main(void *arg)
{
	vworker *w = arg;
	vctx *x = w->x;
	for (;;) {
		if (cancelled(x))
			break;
		size_t i = atomic_fetch_add(&x->next, 1);
		if (i >= x->ntask)
			break;
		vtask *t = &x->task[i];
		if (t->f && t->frame < 0)
			task_hash(w, t->f);
		else if (t->f)
			task_frame(w, t->f, (uint32_t)t->frame);
		else
			task_scan(w, (int)(-t->frame - 1) / 3, (int)(-t->frame - 1) % 3);
	}
	if (w->fd >= 0) {
		close(w->fd);
		w->fd = -1;
		w->fd_file = NULL;
	}
	pthread_mutex_lock(&x->mu);
	if (atomic_fetch_sub(&x->running, 1) == 1)
		pthread_cond_signal(&x->done);
	pthread_mutex_unlock(&x->mu);
	return NULL;
}

static void report_progress(vctx *x)
{
	if (!x->o->progress)
		return;
	wn_verify_progress p = { atomic_load(&x->bytes_done), x->total_bytes, atomic_load(&x->recs_done),
		wn_now() - x->t0, x->stage };
	x->o->progress(&p, x->o->progress_ud);
}

/* Run the task list on n workers; the calling thread reports progress meanwhile. */
static int run_pool(vctx *x, vworker *ws, int n)
{
	if (!x->ntask)
		return 0;
	if ((size_t)n > x->ntask)
		n = (int)x->ntask;
	atomic_store(&x->next, 0);
	atomic_store(&x->running, n);
	int started = 0;
	for (; started < n; started++)
		if (pthread_create(&ws[started].th, NULL, worker_main, &ws[started]))
			break;
	if (started < n)
		atomic_fetch_sub(&x->running, n - started);
	if (!started)
		return fail(x, WN_E_NOMEM, "cannot start a thread");
	double last = 0;
	for (;;) {
		/* wake at the end, or every 50 ms to report progress and watch *cancel */
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 50 * 1000 * 1000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		pthread_mutex_lock(&x->mu);
		if (atomic_load(&x->running) > 0)
			pthread_cond_timedwait(&x->done, &x->mu, &ts);
		int left = atomic_load(&x->running);
		pthread_mutex_unlock(&x->mu);
		if (!left)
			break;
		cancelled(x);
		double t = wn_now();
		if (t - last >= 0.25) {
			report_progress(x);
			last = t;
		}
	}
	for (int i = 0; i < started; i++)
		pthread_join(ws[i].th, NULL);
	report_progress(x);
	return 0;
}

/* ---- what the files say, compared with what the manifests and the index say ---- */

static void check_file(vctx *x, vfile *f)
{
	char a[65], b[65];
	vloc l = at_file(f);
	/* the manifests and the index against each other */
	if (!f->listed && (f->have_json || (f->have_row && f->row.sealed))) {
		const char *who = f->have_json && f->have_row && f->row.sealed ? "MANIFEST.json and the index have it" :
			f->have_json ? "MANIFEST.json has it" : "the index has it, sealed";
		if (f->have_row && f->row.sealed && x->stale)
			prob(x, PK_NOTE, &l, "not in MANIFEST yet (%s; an ingest is running or was interrupted)", who);
		else
			prob(x, PK_METADATA, &l, "MANIFEST does not list the file (%s)", who);
	}
	if (f->listed && x->have_mjson && !f->have_json)
		prob(x, PK_METADATA, &l, "MANIFEST line %u lists the file, MANIFEST.json does not", f->line);
	if (f->have_sum && !f->listed)
		prob(x, PK_METADATA, &l, "SHA256SUMS lists the file, MANIFEST does not");
	if (f->listed && x->have_sums && !f->have_sum)
		prob(x, PK_METADATA, &l, "MANIFEST line %u lists the file, SHA256SUMS does not", f->line);
	if (f->listed && f->have_json && f->j.have[WN_MF_XXH128] && memcmp(f->j.xxh128, f->xxh, 16)) {
		wn_hex(a, f->xxh, 16), wn_hex(b, f->j.xxh128, 16);
		prob(x, PK_METADATA, &l, "MANIFEST says XXH128 %s, MANIFEST.json %s", a, b);
	}
	if (f->have_sum && f->have_json && f->j.have[WN_MF_SHA256] && memcmp(f->j.sha256, f->sum_sha, 32))
		prob(x, PK_METADATA, &l, "SHA256SUMS and MANIFEST.json give different SHA-256");
	if (f->listed && f->role >= 0 && f->have_json &&
	    ((f->j.role >= 0 && f->j.role != f->role) || (f->j.kind >= 0 && f->j.kind != f->kind)))
		prob(x, PK_METADATA, &l, "MANIFEST.json gives the file another role or kind than its name");
	if (f->have_row) {
		if (f->role >= 0 && (f->row.role != f->role || f->row.kind != f->kind || f->row.seq != f->seq))
			prob(x, PK_IXMISMATCH, &l, "index: the files row says role %u, kind %u, number %u, unlike the file's name",
				f->row.role, f->row.kind, f->row.seq);
		if (f->row.sealed && f->listed && memcmp(f->row.xxh128, f->xxh, 16)) {
			wn_hex(a, f->xxh, 16), wn_hex(b, f->row.xxh128, 16);
			prob(x, PK_METADATA, &l, "MANIFEST line %u says XXH128 %s, the index %s", f->line, a, b);
		}
		if (f->row.sealed && f->have_json && f->j.have[WN_MF_BYTES] && f->j.bytes != f->row.size)
			prob(x, PK_METADATA, &l, "MANIFEST.json says %llu bytes, the index %llu", (unsigned long long)f->j.bytes,
				(unsigned long long)f->row.size);
		if (f->row.sealed && f->have_sum && f->have_meta_sha && memcmp(f->meta_sha, f->sum_sha, 32))
			prob(x, PK_METADATA, &l, "SHA256SUMS and the index give different SHA-256");
		if (!x->deep && f->have_json && f->row.sealed) {
			/* fast mode: the counts of MANIFEST.json against the index's (deep mode counts) */
			if (f->j.have[WN_MF_RECORDS] && f->j.records != f->row.nrecords)
				prob(x, PK_COUNT, &l, "MANIFEST.json says %llu records, the index %llu", (unsigned long long)f->j.records,
					(unsigned long long)f->row.nrecords);
			if (f->j.have[WN_MF_FRAMES] && f->j.frames != f->row.nframes)
				prob(x, PK_COUNT, &l, "MANIFEST.json says %llu frames, the index %u", (unsigned long long)f->j.frames,
					f->row.nframes);
			if (f->j.have[WN_MF_RAW_BYTES] && f->j.raw_bytes != f->row.raw_bytes)
				prob(x, PK_COUNT, &l, "MANIFEST.json says %llu raw bytes, the index %llu", (unsigned long long)f->j.raw_bytes,
					(unsigned long long)f->row.raw_bytes);
		}
	}
	if (!f->checked || !f->sealed)
		return;
	/* the file against them */
	uint64_t want = f->have_json && f->j.have[WN_MF_BYTES] ? f->j.bytes : f->have_row && f->row.sealed ? f->row.size : f->size;
	const char *src = f->have_json && f->j.have[WN_MF_BYTES] ? "MANIFEST.json" : "the index";
	uint64_t size = f->hashed ? f->got_size : f->size;
	if (size < want) {
		l.offset = (int64_t)size;
		l.length = want - size;
		prob(x, PK_TRUNCATED, &l, "the file has %llu bytes, %s says %llu: the last %llu are missing",
			(unsigned long long)size, src, (unsigned long long)want, (unsigned long long)(want - size));
		l = at_file(f);
	} else if (size > want) {
		l.offset = (int64_t)want;
		l.length = size - want;
		prob(x, PK_SIZE, &l, "the file has %llu bytes, %s says %llu", (unsigned long long)size, src,
			(unsigned long long)want);
		l = at_file(f);
	}
	if (!f->hashed)
		return;
	x->res->bytes_checked += f->got_size;
	if (f->listed && memcmp(f->got_xxh, f->xxh, 16)) {
		wn_hex(a, f->got_xxh, 16), wn_hex(b, f->xxh, 16);
		prob(x, PK_CHECKSUM, &l, "XXH128 is %s, MANIFEST line %u says %s", a, f->line, b);
	} else if (!f->listed && f->have_row && memcmp(f->got_xxh, f->row.xxh128, 16)) {
		wn_hex(a, f->got_xxh, 16), wn_hex(b, f->row.xxh128, 16);
		prob(x, PK_CHECKSUM, &l, "XXH128 is %s, the index says %s", a, b);
	}
	if (f->want_sha) {
		const uint8_t *ws = f->have_sum ? f->sum_sha : f->meta_sha;
		if (memcmp(f->got_sha, ws, 32)) {
			wn_hex(a, f->got_sha, 32);
			prob(x, PK_CHECKSUM, &l, "SHA-256 is %s, %s says otherwise", a, f->have_sum ? "SHA256SUMS" : "the index");
		}
	}
}

/* Deep mode: a file's frames against its seek table, MANIFEST.json and its files row. */
static void check_file_frames(vctx *x, vfile *f)
{
	if (!f->checked || !f->frames_known)
		return;
	vloc l = at_file(f);
	uint64_t recs = 0, raw = 0;
	int all = 1;
	for (uint32_t i = 0; i < f->nfr; i++) {
		vframe *fr = &f->fr[i];
		if (!fr->done)
			all = 0;
		recs += fr->nrec;
		raw += fr->dsize;
		x->res->frames_checked += fr->done;
	}
	if (!all)
		return;     /* a frame could not be decoded: counts would only repeat that */
	if (f->have_json) {
		if (f->j.have[WN_MF_RECORDS] && f->j.records != recs)
			prob(x, PK_COUNT, &l, "MANIFEST.json says %llu records, the file holds %llu", (unsigned long long)f->j.records,
				(unsigned long long)recs);
		if (f->j.have[WN_MF_FRAMES] && f->j.frames != f->nfr)
			prob(x, PK_COUNT, &l, "MANIFEST.json says %llu frames, the file has %u", (unsigned long long)f->j.frames, f->nfr);
		if (f->j.have[WN_MF_RAW_BYTES] && f->j.raw_bytes != raw)
			prob(x, PK_COUNT, &l, "MANIFEST.json says %llu raw bytes, the frames hold %llu", (unsigned long long)f->j.raw_bytes,
				(unsigned long long)raw);
		if (f->role == WN_ROLE_SHARD && recs && f->j.have[WN_MF_FIRST_ORDINAL] && f->j.last_ordinal != f->j.first_ordinal + recs - 1)
			prob(x, PK_COUNT, &l, "MANIFEST.json gives ordinals %llu-%llu, for %llu records",
				(unsigned long long)f->j.first_ordinal, (unsigned long long)f->j.last_ordinal, (unsigned long long)recs);
	}
	if (f->have_row) {
		if (f->row.nrecords != recs)
			prob(x, PK_COUNT, &l, "the index says %llu records, the file holds %llu", (unsigned long long)f->row.nrecords,
				(unsigned long long)recs);
		if (f->row.nframes != f->nfr)
			prob(x, PK_COUNT, &l, "the index says %u frames, the file has %u", f->row.nframes, f->nfr);
		if (f->row.raw_bytes != raw)
			prob(x, PK_COUNT, &l, "the index says %llu raw bytes, the frames hold %llu",
				(unsigned long long)f->row.raw_bytes, (unsigned long long)raw);
		if (f->row.data_len != f->data_len)
			prob(x, PK_IXMISMATCH, &l, "index: the files row says the frames end at byte %llu, they end at %llu",
				(unsigned long long)f->row.data_len, (unsigned long long)f->data_len);
	}
}

/* ---- placing shard records by ordinal, and the frames rows (deep mode, catalog) ---- */

typedef struct rowref {
	uint64_t key;     /* shard_seq << 32 | frame_no */
	size_t i;
} rowref;

static int cmp_rowref(const void *a, const void *b)
{
	const rowref *p = a, *q = b;
	return p->key < q->key ? -1 : p->key > q->key;
}

static rowref *rows_index(vkind *K)
{
	rowref *r = malloc((K->nrows ? K->nrows : 1) * sizeof *r);
	if (!r)
		return NULL;
	for (size_t i = 0; i < K->nrows; i++) {
		r[i].key = (uint64_t)K->rows[i].shard_seq << 32 | K->rows[i].frame_no;
		r[i].i = i;
	}
	qsort(r, K->nrows, sizeof *r, cmp_rowref);
	return r;
}

static wn_frameinfo *row_for(vkind *K, const rowref *ix, uint32_t seq, uint32_t fno, size_t *at)
{
	rowref want = { (uint64_t)seq << 32 | fno, 0 };
	const rowref *r = bsearch(&want, ix, K->nrows, sizeof *ix, cmp_rowref);
	if (!r)
		return NULL;
	*at = r->i;
	return &K->rows[r->i];
}

static int cmp_seq(const void *a, const void *b)
{
	const vfile *p = *(vfile *const *)a, *q = *(vfile *const *)b;
	return p->seq < q->seq ? -1 : p->seq > q->seq;
}

/* The shard files of a kind in number order (those the index or MANIFEST knows). */
static vfile **shards_of(vctx *x, int kd, size_t *n)
{
	vfile **s = malloc((x->nf ? x->nf : 1) * sizeof *s);
	*n = 0;
	if (!s)
		return NULL;
	for (size_t i = 0; i < x->nf; i++) {
		vfile *f = x->f[i];
		if (f->role == WN_ROLE_SHARD && f->kind == kd && (f->listed || f->have_row))
			s[(*n)++] = f;
	}
	qsort(s, *n, sizeof *s, cmp_seq);
	return s;
}

/* Before decoding: each shard frame's first ordinal according to the index, so that
 * problems found in it can name records. */
static int set_ord0(vctx *x)
{
	for (int kd = 0; kd < WN_NKINDS; kd++) {
		vkind *K = &x->k[kd];
		rowref *ix = rows_index(K);
		if (!ix)
			return WN_E_NOMEM;
		/* rows that tile 0 .. next_ord-1 give each frame a range of its own */
		uint64_t expect = 0;
		int tiled = 1;
		for (size_t i = 0; i < K->nrows && tiled; i++) {
			tiled = K->rows[i].nrec && K->rows[i].first_ord == expect && K->rowkey[i] == expect + K->rows[i].nrec - 1;
			expect += K->rows[i].nrec;
		}
		tiled = tiled && expect == K->n && K->o;
		for (size_t i = 0; i < x->nf; i++) {
			vfile *f = x->f[i];
			if (f->role != WN_ROLE_SHARD || f->kind != kd)
				continue;
			for (uint32_t j = 0; j < f->nfr; j++) {
				size_t at;
				wn_frameinfo *r = row_for(K, ix, f->seq, j, &at);
				f->fr[j].ord0 = r ? (int64_t)r->first_ord : -1;
				f->fr[j].direct = r && tiled ? r->nrec : 0;
			}
		}
		free(ix);
	}
	return 0;
}

static void *zalloc(size_t n)
{
	return wn_big_alloc(n ? n : 1);
}

/* The per-ordinal arrays, before decoding (deep mode, catalog). */
static int alloc_kinds(vctx *x)
{
	for (int kd = 0; kd < WN_NKINDS; kd++) {
		vkind *K = &x->k[kd];
		K->n = x->ks[kd].next_ord;
		K->o = zalloc(K->n * sizeof *K->o);
		if (!K->o)
			return fail(x, WN_E_NOMEM, "out of memory for %llu records", (unsigned long long)K->n);
	}
	return 0;
}

static int span_push(vkind *K, uint64_t first, uint32_t nrec, vfile *f, uint32_t fi)
{
	if (K->nspan == K->capspan) {
		size_t cap = K->capspan ? K->capspan * 2 : 256;
		vspan *p = realloc(K->span, cap * sizeof *p);
		if (!p)
			return WN_E_NOMEM;
		K->span = p;
		K->capspan = cap;
	}
	K->span[K->nspan++] = (vspan){ first, nrec, f, fi };
	return 0;
}

/* Where record `ord` is, as far as the decoded frames tell. */
static vloc rec_loc(vctx *x, int kd, uint64_t ord)
{
	vkind *K = &x->k[kd];
	vloc l = NOLOC;
	l.record = (int64_t)ord;
	size_t lo = 0, hi = K->nspan;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (K->span[mid].first + K->span[mid].nrec <= ord)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < K->nspan && K->span[lo].first <= ord) {
		l = at_frame(K->span[lo].f, K->span[lo].fi);
		l.record = (int64_t)ord;
	}
	return l;
}

static int place_kind(vctx *x, int kd)
{
	vkind *K = &x->k[kd];
	wn_catalog *c = x->c;
	/* superseded versions */
	MDB_cursor *cur;
	MDB_val k, v;
	int rc = mdb_cursor_open(x->txn, c->db_super[kd], &cur);
	if (rc)
		return lmdb_fail(x, rc, "superseded");
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); !rc; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		K->nsup++;
		if (k.mv_size != 8 || v.mv_size != 8) {
			prob(x, PK_IXMISMATCH, &NOLOC, "index: a %s.superseded row has a %zu-byte key and a %zu-byte value",
				wn_kind_name(kd), k.mv_size, v.mv_size);
			continue;
		}
		uint64_t old = wn_get_be64(k.mv_data), by = wn_get_be64(v.mv_data);
		vloc l = NOLOC;
		l.record = (int64_t)old;
		if (old >= K->n || by >= K->n || by <= old)
			prob(x, PK_DANGLING, &l, "index: %s.superseded says record %llu was replaced by record %llu (records go up to %llu)",
				wn_kind_name(kd), (unsigned long long)old, (unsigned long long)by, (unsigned long long)K->n);
		else
			K->o[old].st |= RF_SUPER;
	}
	mdb_cursor_close(cur);
	if (rc != MDB_NOTFOUND)
		return lmdb_fail(x, rc, "superseded");
	if (K->nsup != x->ks[kd].superseded)
		prob(x, PK_METADATA, &NOLOC, "index: %s.superseded has %llu rows, the counters say %llu superseded",
			wn_kind_name(kd), (unsigned long long)K->nsup, (unsigned long long)x->ks[kd].superseded);
	/* the shards, in order */
	size_t ns;
	vfile **sh = shards_of(x, kd, &ns);
	rowref *ix = rows_index(K);
	if (!sh || !ix) {
		free(sh);
		free(ix);
		return fail(x, WN_E_NOMEM, "out of memory");
	}
	uint64_t running = 0;
	int chain = 1;
	K->complete = 1;
	for (size_t s = 0; s < ns; s++) {
		vfile *f = sh[s];
		vloc fl = at_file(f);
		uint64_t first = f->have_row ? f->row.first_ord : f->have_json && f->j.have[WN_MF_FIRST_ORDINAL] ? f->j.first_ordinal : running;
		uint64_t claimed = f->have_row ? f->row.nrecords : f->j.records;
		if (chain && f->have_row && first != running)
			prob(x, PK_IXMISMATCH, &fl, "index: the files row says the first record is %llu, the shards before hold %llu",
				(unsigned long long)first, (unsigned long long)running);
		if (!f->checked || !f->frames_known) {
			K->complete = 0;
			chain = 0;
			running = first + claimed;
			continue;
		}
		uint64_t o = first;
		int placing = 1;
		for (uint32_t i = 0; i < f->nfr; i++) {
			vframe *fr = &f->fr[i];
			vloc l = at_frame(f, i);
			size_t at;
			wn_frameinfo *r = row_for(K, ix, f->seq, i, &at);
			if (r) {
				K->rowused[at] = 1;
				x->res->index_entries_checked++;
				char why[256];
				size_t wl = 0;
				why[0] = 0;
#define DIFF(cond, ...) if (cond && wl < sizeof why) wl += (size_t)snprintf(why + wl, sizeof why - wl, __VA_ARGS__)
				DIFF(r->offset != fr->off, ", offset %llu (the frame is at %llu)", (unsigned long long)r->offset,
					(unsigned long long)fr->off);
				DIFF(r->csize != fr->csize, ", %u compressed bytes (the frame has %u)", r->csize, fr->csize);
				DIFF(fr->done && r->dsize != fr->dsize, ", %u raw bytes (the frame has %u)", r->dsize, fr->dsize);
				DIFF(fr->done && r->checksum != fr->checksum, ", checksum 0x%08x (the frame's is 0x%08x)", r->checksum,
					fr->checksum);
				DIFF(fr->done && r->nrec != fr->nrec, ", %u records (the frame holds %u)", r->nrec, fr->nrec);
				DIFF(placing && r->first_ord != o, ", first record %llu (it is %llu)", (unsigned long long)r->first_ord,
					(unsigned long long)o);
#undef DIFF
				if (wl) {
					l.record = (int64_t)r->first_ord;
					prob(x, PK_IXMISMATCH, &l, "index: the %s.frames row of frame %u says%s", wn_kind_name(kd), i, why + 1);
				}
			} else {
				prob(x, PK_UNINDEXED, &l, "frame %u has no %s.frames row: its records cannot be found by ordinal", i,
					wn_kind_name(kd));
			}
			if (!placing)
				continue;
			if (!fr->done) {
				K->complete = 0;
				if (r && r->first_ord == o)
					o += r->nrec;
				else
					placing = 0;
				continue;
			}
			if (fr->in_place && (uint64_t)fr->ord0 != o) {
				/* the index put this frame elsewhere (reported above): its records are where
				 * the index says, not where they are; leave them out of the index checks */
				for (uint32_t j = 0; j < fr->nrec; j++)
					K->o[fr->ord0 + j].st &= (uint8_t)~RF_KNOWN;
				K->misplaced = 1;
				o += fr->nrec;
				continue;
			}
			if (span_push(K, o, fr->nrec, f, i)) {
				free(sh);
				free(ix);
				return fail(x, WN_E_NOMEM, "out of memory");
			}
			for (uint32_t j = 0; !fr->in_place && j < fr->nrec; j++) {
				uint64_t ord = o + j;
				if (ord >= K->n)
					break;
				if (fr->recs) {
					K->o[ord].d = fr->recs[j].d;
					K->o[ord].fpkey = fr->recs[j].fpkey;
					K->o[ord].isrc = fr->recs[j].isrc;
				}
				K->o[ord].st |= fr->rflags ? fr->rflags[j] : 0;
			}
			if (o + fr->nrec > K->n && o <= K->n) {
				vloc rl = l;
				rl.record = (int64_t)K->n;
				prob(x, PK_COUNT, &rl, "the shards hold records beyond the last one the index knows (%llu)",
					(unsigned long long)K->n);
			}
			o += fr->nrec;
			free(fr->recs);
			free(fr->rflags);
			fr->recs = NULL;
			fr->rflags = NULL;
		}
		if (!placing)
			chain = 0;
		running = placing ? o : first + claimed;
	}
	if (K->complete && chain && running != K->n)
		prob(x, PK_COUNT, &NOLOC, "the %s shards hold %llu records, the index counts %llu (next ordinal)",
			wn_kind_name(kd), (unsigned long long)running, (unsigned long long)K->n);
	/* rows that point at no frame; the rows must tile the ordinals */
	uint64_t expect = 0;
	for (size_t i = 0; i < K->nrows; i++) {
		wn_frameinfo *r = &K->rows[i];
		vloc l = NOLOC;
		l.record = (int64_t)r->first_ord;
		if (!r->nrec || K->rowkey[i] != r->first_ord + r->nrec - 1)
			prob(x, PK_IXMISMATCH, &l, "index: the %s.frames row keyed %llu covers records %llu-%llu",
				wn_kind_name(kd), (unsigned long long)K->rowkey[i], (unsigned long long)r->first_ord,
				(unsigned long long)(r->first_ord + r->nrec - 1));
		else if (r->first_ord != expect) {
			l.record = (int64_t)expect;
			prob(x, PK_IXMISMATCH, &l, "index: %s.frames rows %s at record %llu", wn_kind_name(kd),
				r->first_ord > expect ? "leave a gap" : "overlap", (unsigned long long)expect);
		}
		expect = r->first_ord + r->nrec;
		if (K->rowused[i])
			continue;
		char rel[128];
		wn_file_relpath(rel, sizeof rel, WN_ROLE_SHARD, kd, r->shard_seq);
		vfile *f = file_find(x, rel);
		if (f && f->checked && f->frames_known) {
			l = at_file(f);
			l.record = (int64_t)r->first_ord;
			prob(x, PK_DANGLING, &l, "index: a %s.frames row points at frame %u at byte %llu, which the shard does not have",
				wn_kind_name(kd), r->frame_no, (unsigned long long)r->offset);
		} else if (!f || !(f->listed || f->have_row)) {
			prob(x, PK_DANGLING, &l, "index: a %s.frames row points at %s, which the index does not list", wn_kind_name(kd),
				rel);
		}
	}
	if (K->nrows && expect != K->n)
		prob(x, PK_IXMISMATCH, &NOLOC, "index: %s.frames rows end at record %llu, the next ordinal is %llu",
			wn_kind_name(kd), (unsigned long long)expect, (unsigned long long)K->n);
	free(sh);
	free(ix);
	return 0;
}

/* ---- the index against the records (deep mode, catalog) ---- */

static uint64_t entry_digest(const uint8_t *e)
{
	uint8_t key[26];
	memcpy(key, e, 10);
	memcpy(key + 10, e + 16, 16);
	return XXH3_64bits(key, sizeof key);
}

#define SCAN_BATCH 32    /* entries whose records are fetched from memory together */

typedef struct scanctx {
	vctx *x;
	vkind *K;
	int kind, map;
	int err;
	uint8_t last[WN_ID_ENTRY];
	int have_last;
	/* id map: the entries sharing one hash, oldest run first */
	uint8_t grp[64][WN_ID_ENTRY];
	int ngrp;
	/* entries to check, their records prefetched */
	uint8_t bat[SCAN_BATCH][WN_ID_ENTRY];
	int nbat;
} scanctx;

static void id_entry(scanctx *s, const uint8_t *e)
{
	vctx *x = s->x;
	vkind *K = s->K;
	uint64_t ord = wn_get_be40(e + 11);
	K->id_entries++;
	if (ord >= K->n) {
		vloc l = NOLOC;
		l.record = (int64_t)ord;
		prob(x, PK_DANGLING, &l, "index: the id entry %016llx.%04x points at record %llu; records go up to %llu",
			(unsigned long long)wn_get_be64(e), e[8] << 8 | e[9], (unsigned long long)ord,
			(unsigned long long)(K->n ? K->n - 1 : 0));
		return;
	}
	vord *o = &K->o[ord];
	if (!(o->st & RF_KNOWN) || (o->st & RF_BADID))
		return;
	if (o->st & RF_SUPER) {
		vloc l = rec_loc(x, s->kind, ord);
		prob(x, PK_DANGLING, &l, "index: the id entry %016llx.%04x points at record %llu, a superseded version",
			(unsigned long long)wn_get_be64(e), e[8] << 8 | e[9], (unsigned long long)ord);
		return;
	}
	if (entry_digest(e) != o->d) {
		if (K->nsus == K->capsus) {
			size_t cap = K->capsus ? K->capsus * 2 : 64;
			vsuspect *p = cap <= MAX_SUSPECT ? realloc(K->sus, cap * sizeof *p) : NULL;
			if (!p) {
				K->sus_dropped++;
				return;
			}
			K->sus = p;
			K->capsus = cap;
		}
		K->sus[K->nsus].ord = ord;
		memcpy(K->sus[K->nsus++].e, e, WN_ID_ENTRY);
		return;
	}
	uint8_t c = o->idm & 0x7f;
	o->idm = (uint8_t)((c < 0x7f ? c + 1 : c) | (o->idm & 0x80) | (e[10] & WN_IDF_REVISED ? 0x80 : 0));
}

static void pair_entry(scanctx *s, const uint8_t *e)
{
	vctx *x = s->x;
	vkind *K = s->K;
	uint64_t h = wn_get_be64(e), ord = wn_get_be40(e + 8);
	if (s->map == WN_MAP_FP)
		K->fp_entries++;
	else
		K->isrc_entries++;
	if (ord >= K->n) {
		vloc l = NOLOC;
		l.record = (int64_t)ord;
		prob(x, PK_DANGLING, &l, "index: the %s map pairs %016llx with record %llu; records go up to %llu",
			s->map == WN_MAP_FP ? "fp" : "isrc", (unsigned long long)h, (unsigned long long)ord,
			(unsigned long long)(K->n ? K->n - 1 : 0));
		return;
	}
	vord *o = &K->o[ord];
	if (!(o->st & RF_KNOWN) || (o->st & RF_BADID))
		return;
	if (s->map == WN_MAP_FP) {
		if (h == o->fpkey) {
			o->fpm = 1;
		} else if (K->nxfp < MAX_SUSPECT * 4) {
			if (K->nxfp == K->capxfp) {
				size_t cap = K->capxfp ? K->capxfp * 2 : 256;
				vpair *p = realloc(K->xfp, cap * sizeof *p);
				if (!p) {
					s->err = WN_E_NOMEM;
					return;
				}
				K->xfp = p;
				K->capxfp = cap;
			}
			K->xfp[K->nxfp++] = (vpair){ ord, h };
		} else {
			K->xfp_dropped++;
		}
	} else if ((o->st & RF_ISRC) && o->isrc == h) {
		o->ism = 1;
	} else {
		vloc l = rec_loc(x, s->kind, ord);
		prob(x, PK_DANGLING, &l, "index: the isrc map pairs ISRC hash %016llx with record %llu, which %s",
			(unsigned long long)h, (unsigned long long)ord, (o->st & RF_ISRC) ? "has another ISRC" : "has no ISRC");
	}
}

/* Entries point at records in random order: ask for all their records at once, so that
 * the memory latencies overlap, then check them. */
static void batch_run(scanctx *s)
{
	vkind *K = s->K;
	for (int i = 0; i < s->nbat; i++) {
		uint64_t ord = wn_get_be40(s->bat[i] + (s->map == WN_MAP_ID ? 11 : 8));
		if (ord < K->n)
			__builtin_prefetch(&K->o[ord], 1);
	}
	for (int i = 0; i < s->nbat; i++) {
		if (s->map == WN_MAP_ID)
			id_entry(s, s->bat[i]);
		else
			pair_entry(s, s->bat[i]);
	}
	s->nbat = 0;
}

static void batch_add(scanctx *s, const uint8_t *e)
{
	memcpy(s->bat[s->nbat++], e, s->map == WN_MAP_ID ? WN_ID_ENTRY : WN_PAIR_ENTRY);
	if (s->nbat == SCAN_BATCH)
		batch_run(s);
}

/* Only the newest entry of each (hash, check) counts: within a group of equal hashes the
 * merged scan gives older runs first, so an entry counts if no later one has its check. */
static void id_group_flush(scanctx *s)
{
	for (int i = 0; i < s->ngrp; i++) {
		int shadowed = 0;
		for (int j = i + 1; j < s->ngrp && !shadowed; j++)
			shadowed = s->grp[i][8] == s->grp[j][8] && s->grp[i][9] == s->grp[j][9];
		if (!shadowed)
			batch_add(s, s->grp[i]);
	}
	s->ngrp = 0;
}

static int scan_fn(const uint8_t *e, void *ud)
{
	scanctx *s = ud;
	if (s->map == WN_MAP_ID) {
		if (s->ngrp && memcmp(s->grp[0], e, 8))
			id_group_flush(s);
		if (s->ngrp == 64)
			id_group_flush(s);
		memcpy(s->grp[s->ngrp++], e, WN_ID_ENTRY);
	} else if (!s->have_last || memcmp(s->last, e, WN_PAIR_ENTRY)) {
		/* the same pair may sit in two runs (a merge in progress): once is enough */
		memcpy(s->last, e, WN_PAIR_ENTRY);
		s->have_last = 1;
		batch_add(s, e);
	}
	if (s->err)
		return s->err;
	return (s->nbat == 0 && cancelled(s->x)) ? WN_E_INTERRUPTED : 0;
}

/* One map of one kind; c may be a private copy of the handle (for its error text). */
static int scan_map(vctx *x, wn_catalog *c, MDB_txn *txn, int kind, int map)
{
	scanctx *s = calloc(1, sizeof *s);
	if (!s)
		return WN_E_NOMEM;
	s->x = x;
	s->K = &x->k[kind];
	s->kind = kind;
	s->map = map;
	int rc = wn_map_merged_scan(c, txn, kind, map, scan_fn, s);
	if (!rc && map == WN_MAP_ID)
		id_group_flush(s);
	if (!rc)
		batch_run(s);
	if (!rc)
		rc = s->err;
	free(s);
	if (rc == WN_E_CORRUPT) {
		prob(x, PK_IXMISMATCH, &NOLOC, "%s (the %s %s map could not be read to its end)", c->err, wn_kind_name(kind),
			map == WN_MAP_ID ? "id" : map == WN_MAP_FP ? "fp" : "isrc");
		rc = 0;
	}
	return rc;
}

static void task_scan(vworker *w, int kind, int map)
{
	vctx *x = w->x;
	wn_catalog sh = *x->c;   /* its own error buffer; the environment and handles are shared */
	MDB_txn *t = NULL;
	sh.err[0] = 0;
	/* a transaction of our own, on the very snapshot of the main one (else redo it there) */
	if (mdb_txn_begin(sh.env, NULL, MDB_RDONLY, &t) || mdb_txn_id(t) != mdb_txn_id(x->txn)) {
		if (t)
			mdb_txn_abort(t);
		x->scan_redo[kind * 3 + map] = 1;
		return;
	}
	int rc = scan_map(x, &sh, t, kind, map);
	mdb_txn_abort(t);
	if (rc && rc != WN_E_INTERRUPTED)
		fail(x, rc, "%s", sh.err[0] ? sh.err : wn_strerror(rc));
}

/* Read record `ord` back (rare: to describe a problem): its id and fingerprint. */
static int describe(vctx *x, vworker *w, int kd, uint64_t ord, char *id, size_t cap, size_t *idlen, uint8_t fp[16])
{
	vloc l = rec_loc(x, kd, ord);
	if (!l.f || l.frame < 0 || !w->json[kd])
		return -1;
	vfile *f = l.f;
	vframe *fr = &f->fr[l.frame];
	size_t first = 0;
	for (size_t i = 0; i < x->k[kd].nspan; i++)
		if (x->k[kd].span[i].f == f && x->k[kd].span[i].fi == (uint32_t)l.frame) {
			first = x->k[kd].span[i].first;
			break;
		}
	int fd = worker_fd(w, f);
	if (fd < 0 || grow((void **)&w->in, &w->incap, fr->csize) || grow((void **)&w->out, &w->outcap, fr->dsize + 1) ||
	    wn_pread_all(fd, w->in, fr->csize, fr->off))
		return -1;
	size_t r = ZSTD_decompressDCtx(w->dctx, w->out, fr->dsize, w->in, fr->csize);
	const char *line;
	size_t len;
	if (ZSTD_isError(r) || wn_frame_line(w->out, r, (uint32_t)(ord - first), &line, &len) ||
	    wn_json_record(w->json[kd], line, len, &w->jr))
		return -1;
	const wn_jslot *s = &w->jr.slot[WN_SLOT_ID];
	*idlen = s->len < cap ? s->len : cap;
	memcpy(id, s->ptr, *idlen);
	memcpy(fp, w->jr.fp, 16);
	return 0;
}

static void check_index_kind(vctx *x, vworker *w, int kd)
{
	vkind *K = &x->k[kd];
	char id[WN_MAX_ID], a[33], b[33];
	size_t idlen;
	uint8_t fp[16];
	x->res->index_entries_checked += K->id_entries + K->fp_entries + K->isrc_entries;
	/* id entries whose digest differs from their record's: which part differs? */
	for (size_t i = 0; i < K->nsus; i++) {
		const uint8_t *e = K->sus[i].e;
		uint64_t ord = K->sus[i].ord;
		vloc l = rec_loc(x, kd, ord);
		int kind = PK_DANGLING;
		if (!prob_room(x, kind, l.f) && !prob_room(x, PK_IXMISMATCH, l.f)) {
			prob(x, kind, &l, "index: an id entry points at record %llu, which does not have its id or fingerprint",
				(unsigned long long)ord);
			continue;
		}
		if (describe(x, w, kd, ord, id, sizeof id, &idlen, fp)) {
			prob(x, kind, &l, "index: the id entry %016llx.%04x points at record %llu, which does not match it",
				(unsigned long long)wn_get_be64(e), e[8] << 8 | e[9], (unsigned long long)ord);
			continue;
		}
		uint64_t h;
		uint16_t ck;
		wn_id_hash(id, idlen, &h, &ck);
		l.id = id;
		l.idlen = idlen;
		if (h != wn_get_be64(e) || ck != (e[8] << 8 | e[9])) {
			prob(x, PK_DANGLING, &l, "index: the id entry %016llx.%04x points at record %llu, whose id is another "
				"(%016llx.%04x)", (unsigned long long)wn_get_be64(e), e[8] << 8 | e[9], (unsigned long long)ord,
				(unsigned long long)h, ck);
		} else {
			wn_hex(a, e + 16, 16);
			wn_hex(b, fp, 16);
			prob(x, PK_IXMISMATCH, &l, "index: the id entry of this record holds fingerprint %s, the record's is %s", a, b);
		}
	}
	if (K->sus_dropped)
		prob(x, PK_DANGLING, &NOLOC, "index: %llu more %s id entries point at records that do not have their id",
			(unsigned long long)K->sus_dropped, wn_kind_name(kd));
	/* fp pairs that are not their record's own fingerprint: a lost revision's, if the
	 * record's id is marked revised (or the record was itself replaced) */
	for (size_t i = 0; i < K->nxfp; i++) {
		uint64_t ord = K->xfp[i].ord;
		if ((K->o[ord].st & RF_SUPER) || (K->o[ord].idm & 0x80))
			continue;
		vloc l = rec_loc(x, kd, ord);
		prob(x, PK_DANGLING, &l, "index: the fp map pairs fingerprint prefix %016llx with record %llu, which has another "
			"fingerprint and no revision", (unsigned long long)K->xfp[i].key, (unsigned long long)ord);
	}
	if (K->xfp_dropped)
		prob(x, PK_NOTE, &NOLOC, "%llu %s fp pairs of revisions were not checked (too many)",
			(unsigned long long)K->xfp_dropped, wn_kind_name(kd));
	/* every record indexed */
	uint64_t current = 0;
	int id_trouble = K->nsus || K->sus_dropped;
	for (uint64_t ord = 0; ord < K->n; ord++) {
		uint8_t st = K->o[ord].st;
		current += (K->o[ord].idm & 0x7f) != 0;
		if (!(st & RF_KNOWN) || (st & RF_BADID))
			continue;
		int no_id = !(st & RF_SUPER) && !(K->o[ord].idm & 0x7f);
		int no_fp = !K->o[ord].fpm, no_isrc = (st & RF_ISRC) && !K->o[ord].ism;
		if (!no_id && !no_fp && !no_isrc)
			continue;
		vloc l = rec_loc(x, kd, ord);
		int have = 0;
		if (prob_room(x, PK_UNINDEXED, l.f) && !describe(x, w, kd, ord, id, sizeof id, &idlen, fp)) {
			l.id = id;
			l.idlen = idlen;
			have = 1;
		}
		if (no_id) {
			id_trouble = 1;
			wn_idrec r;
			int found = 0;
			if (have) {
				uint64_t h;
				uint16_t ck;
				wn_id_hash(id, idlen, &h, &ck);
				found = wn_map_find_id(x->c, x->txn, kd, h, ck, &r);
			}
			if (found > 0)
				prob(x, PK_UNINDEXED, &l, "the id map sends this record's id to record %llu", (unsigned long long)r.ord);
			else
				prob(x, PK_UNINDEXED, &l, "the record's id is not in the id map");
		}
		if (no_fp) {
			wn_hex(a, have ? fp : (const uint8_t *)"\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 16);
			prob(x, PK_UNINDEXED, &l, "the fp map has no pair for this record%s%s", have ? " and its fingerprint " : "",
				have ? a : "");
		}
		if (no_isrc)
			prob(x, PK_UNINDEXED, &l, "the isrc map has no pair for this record's ISRC");
	}
	if (K->complete && !K->misplaced && current != x->ks[kd].kept && !id_trouble)
		prob(x, PK_METADATA, &NOLOC, "%llu %s id entries point at surviving records, the counters say %llu kept",
			(unsigned long long)current, wn_kind_name(kd), (unsigned long long)x->ks[kd].kept);
}

/* ---- the counters ---- */

typedef struct rolesum {
	uint64_t rows, counted, dup, rev, max_survivor, json;
	int all_decoded, have_survivor, json_all, any;
} rolesum;

static void sums_of(vctx *x, int kd, rolesum s[WN_NROLES])
{
	memset(s, 0, sizeof(rolesum) * WN_NROLES);
	for (int r = 0; r < WN_NROLES; r++)
		s[r].all_decoded = s[r].json_all = 1;
	for (size_t i = 0; i < x->nf; i++) {
		vfile *f = x->f[i];
		if (f->role < 0 || f->kind != kd || !(f->listed || f->have_row))
			continue;
		rolesum *t = &s[f->role];
		t->any = 1;
		if (f->have_row)
			t->rows += f->row.nrecords;
		if (f->listed) {
			if (f->have_json && f->j.have[WN_MF_RECORDS])
				t->json += f->j.records;
			else
				t->json_all = 0;
		}
		int decoded = x->deep && f->checked && f->frames_known;
		for (uint32_t j = 0; decoded && j < f->nfr; j++) {
			vframe *fr = &f->fr[j];
			if (!fr->done) {
				decoded = 0;
				break;
			}
			t->counted += fr->nrec;
			t->dup += fr->dup;
			t->rev += fr->rev;
			if (fr->has_survivor && (!t->have_survivor || fr->max_survivor > t->max_survivor))
				t->max_survivor = fr->max_survivor;
			t->have_survivor |= fr->has_survivor;
		}
		if (!decoded)
			t->all_decoded = 0;
	}
}

/* counts in catalog.json / MANIFEST.json against the index's */
static void manifest_counts(vctx *x, const char *name, uint64_t m[WN_NKINDS][WN_NCOUNTS], int stale)
{
	for (int kd = 0; kd < WN_NKINDS; kd++) {
		const wn_kstate *s = &x->ks[kd];
		uint64_t want[WN_NCOUNTS];
		wn_counts_of(s, want);
		for (int i = 0; i < WN_NCOUNTS; i++) {
			if (m[kd][i] == want[i])
				continue;
			if (stale)
				prob(x, PK_NOTE, &NOLOC, "%s says %s %s %llu, the index %llu (it is rewritten when the next ingest opens "
					"the catalog)", name, wn_kind_name(kd), wn_count_name(i), (unsigned long long)m[kd][i],
					(unsigned long long)want[i]);
			else
				prob(x, PK_METADATA, &NOLOC, "%s says %s %s %llu, the index %llu", name, wn_kind_name(kd), wn_count_name(i),
					(unsigned long long)m[kd][i], (unsigned long long)want[i]);
			break;
		}
	}
}

static void check_counters(vctx *x)
{
	static const char *const what[WN_NROLES] = { "shard records", "ledger entries", "reject entries" };
	int stale = x->stale;
	for (int kd = 0; kd < WN_NKINDS; kd++) {
		rolesum s[WN_NROLES];
		sums_of(x, kd, s);
		const char *kn = wn_kind_name(kd);
		if (x->c) {
			const wn_kstate *k = &x->ks[kd];
			const uint64_t want[WN_NROLES] = { k->next_ord, k->ledger_entries, k->reject_entries };
			if (k->read != k->kept + k->duplicates + k->revisions + k->rejected)
				prob(x, PK_METADATA, &NOLOC, "index: %s read %llu is not kept + duplicates + revisions + rejected = %llu",
					kn, (unsigned long long)k->read,
					(unsigned long long)(k->kept + k->duplicates + k->revisions + k->rejected));
			if (k->next_ord != k->kept + k->superseded)
				prob(x, PK_METADATA, &NOLOC, "index: %s next ordinal %llu is not kept + superseded = %llu", kn,
					(unsigned long long)k->next_ord, (unsigned long long)(k->kept + k->superseded));
			if (k->ledger_entries != k->duplicates + k->revisions)
				prob(x, PK_METADATA, &NOLOC, "index: %s ledger entries %llu are not duplicates + revisions = %llu", kn,
					(unsigned long long)k->ledger_entries, (unsigned long long)(k->duplicates + k->revisions));
			if (k->reject_entries != k->rejected)
				prob(x, PK_METADATA, &NOLOC, "index: %s reject entries %llu are not rejected = %llu", kn,
					(unsigned long long)k->reject_entries, (unsigned long long)k->rejected);
			for (int r = 0; r < WN_NROLES; r++) {
				if (s[r].rows != want[r])
					prob(x, PK_METADATA, &NOLOC, "index: the %s files rows hold %llu %s, the counters say %llu", kn,
						(unsigned long long)s[r].rows, what[r], (unsigned long long)want[r]);
				if (x->deep && s[r].all_decoded && r && s[r].counted != want[r])
					prob(x, PK_COUNT, &NOLOC, "the %s files hold %llu %s, the index counts %llu", kn,
						(unsigned long long)s[r].counted, what[r], (unsigned long long)want[r]);
			}
			if (x->deep && s[WN_ROLE_LEDGER].all_decoded) {
				if (s[1].dup != k->duplicates || s[1].rev != k->revisions)
					prob(x, PK_COUNT, &NOLOC, "the %s ledger has %llu duplicates and %llu revisions, the index counts "
						"%llu and %llu", kn, (unsigned long long)s[1].dup, (unsigned long long)s[1].rev,
						(unsigned long long)k->duplicates, (unsigned long long)k->revisions);
				if (s[1].have_survivor && s[1].max_survivor >= k->next_ord)
					prob(x, PK_DANGLING, &NOLOC, "the %s ledger names record %llu as a survivor; records go up to %llu", kn,
						(unsigned long long)s[1].max_survivor, (unsigned long long)(k->next_ord ? k->next_ord - 1 : 0));
			}
			continue;
		}
		/* a bare folder: the manifests' own numbers must agree */
		uint64_t (*m)[WN_NCOUNTS] = x->mj_counts ? x->mjc : x->cj_counts ? x->cjc : NULL;
		if (!m || x->interrupted == 1)
			continue;
		const uint64_t want[WN_NROLES] = { m[kd][WN_C_kept] + m[kd][WN_C_superseded], m[kd][WN_C_duplicates] + m[kd][WN_C_revisions], m[kd][WN_C_rejected] };
		if (m[kd][WN_C_read] != m[kd][WN_C_kept] + m[kd][WN_C_duplicates] + m[kd][WN_C_revisions] + m[kd][WN_C_rejected])
			prob(x, PK_METADATA, &NOLOC, "%s: %s read %llu is not kept + duplicates + revisions + rejected",
				x->mj_counts ? "MANIFEST.json" : "catalog.json", kn, (unsigned long long)m[kd][WN_C_read]);
		for (int r = 0; r < WN_NROLES; r++) {
			if (s[r].json_all && (s[r].any || want[r]) && s[r].json != want[r])
				prob(x, PK_COUNT, &NOLOC, "MANIFEST.json: the %s files hold %llu %s, its counts say %llu", kn,
					(unsigned long long)s[r].json, what[r], (unsigned long long)want[r]);
			if (x->deep && s[r].any && s[r].all_decoded && s[r].counted != want[r])
				prob(x, PK_COUNT, &NOLOC, "the %s files hold %llu %s, the manifest's counts say %llu", kn,
					(unsigned long long)s[r].counted, what[r], (unsigned long long)want[r]);
		}
		if (x->deep && s[1].all_decoded && s[1].any && (s[1].dup != m[kd][WN_C_duplicates] || s[1].rev != m[kd][WN_C_revisions]))
			prob(x, PK_COUNT, &NOLOC, "the %s ledger has %llu duplicates and %llu revisions, the manifest's counts say "
				"%llu and %llu", kn, (unsigned long long)s[1].dup, (unsigned long long)s[1].rev,
				(unsigned long long)m[kd][WN_C_duplicates], (unsigned long long)m[kd][WN_C_revisions]);
		/* the shards' ordinal ranges follow each other */
		size_t ns;
		vfile **sh = shards_of(x, kd, &ns);
		uint64_t running = 0;
		for (size_t i = 0; sh && i < ns; i++) {
			vfile *f = sh[i];
			if (!f->have_json || !f->j.have[WN_MF_RECORDS])
				break;
			if (f->j.records && (!f->j.have[WN_MF_FIRST_ORDINAL] || f->j.first_ordinal != running)) {
				vloc l = at_file(f);
				prob(x, PK_METADATA, &l, "MANIFEST.json gives the first ordinal %llu, the shards before hold %llu",
					(unsigned long long)f->j.first_ordinal, (unsigned long long)running);
				break;
			}
			running += f->j.records;
		}
		free(sh);
	}
	if (x->c) {
		if (x->cj_counts)
			manifest_counts(x, "catalog.json", x->cjc, stale);
		if (x->mj_counts)
			manifest_counts(x, "MANIFEST.json", x->mjc, stale);
		if (x->cj_have_gen && x->cj_gen != x->generation && !stale)
			prob(x, PK_METADATA, &NOLOC, "catalog.json says generation %llu, the index %llu",
				(unsigned long long)x->cj_gen, (unsigned long long)x->generation);
		if (x->mj_have_gen && x->mj_gen != x->generation && !stale)
			prob(x, PK_METADATA, &NOLOC, "MANIFEST.json says generation %llu, the index %llu",
				(unsigned long long)x->mj_gen, (unsigned long long)x->generation);
		if (stale && !x->writer_active)
			prob(x, PK_NOTE, &NOLOC, "the manifests predate the last ingest run, which was cut short; the next ingest "
				"rewrites them (what they list was checked)");
	}
}

/* ---- the call ---- */

void wn_verify_opts_init(wn_verify_opts *o)
{
	memset(o, 0, sizeof *o);
	o->max_per_kind = 20;
}

static char *join(const char *a, const char *b)
{
	size_t n = strlen(a) + strlen(b) + 2;
	char *p = malloc(n);
	if (p)
		snprintf(p, n, "%s/%s", a, b);
	return p;
}

static int add_task(vctx *x, size_t *cap, vfile *f, int64_t frame)
{
	if (x->ntask == *cap) {
		size_t c = *cap ? *cap * 2 : 256;
		vtask *t = realloc(x->task, c * sizeof *t);
		if (!t)
			return WN_E_NOMEM;
		x->task = t;
		*cap = c;
	}
	x->task[x->ntask++] = (vtask){ f, frame };
	return 0;
}

static int cmp_task_size(const void *a, const void *b)
{
	const vtask *p = a, *q = b;
	return p->f->size > q->f->size ? -1 : p->f->size < q->f->size;
}

static int verify_run(vctx *x, vworker *ws, int nw)
{
	wn_catalog *c = x->c;
	const wn_verify_opts *o = x->o;
	wn_buf b = { 0 };
	int rc;
	if (c && (rc = load_index(x)))
		return rc;
	x->writer_active = writer_active(x);
	if (x->writer_active)
		prob(x, PK_NOTE, &NOLOC, "an ingest is writing to the catalog: it is checked as of its last checkpoint");
	/* the manifests */
	int e = read_text(x->manifest, &b);
	if (e && !c) {
		wn_buf_free(&b);
		return fail(x, e == ENOENT ? WN_E_NOTFOUND : e, "%s: %s", x->manifest, strerror(e));
	}
	if (e)
		prob(x, PK_METADATA, &NOLOC, "MANIFEST: %s", strerror(e));
	else if ((rc = load_sumfile(x, &b, 0))) {
		wn_buf_free(&b);
		return fail(x, rc, "out of memory");
	}
	char *sums = join(x->mdir, "SHA256SUMS");
	if (!sums) {
		wn_buf_free(&b);
		return fail(x, WN_E_NOMEM, "out of memory");
	}
	e = read_text(sums, &b);
	free(sums);
	if (!e) {
		x->have_sums = 1;
		x->res->sha256_checked = 1;
		if ((rc = load_sumfile(x, &b, 1))) {
			wn_buf_free(&b);
			return fail(x, rc, "out of memory");
		}
	} else if (e != ENOENT || (c && c->digest)) {
		prob(x, PK_METADATA, &NOLOC, "SHA256SUMS: %s%s", strerror(e),
			e == ENOENT ? " (the catalog keeps one: ingest --digest sha256)" : "");
	}
	wn_buf_free(&b);
	if ((rc = load_manifests_json(x)))
		return fail(x, rc, "out of memory");
	if (c) {
		x->stale = x->writer_active || x->pending || (x->cj_have_gen && x->cj_gen != x->generation) ||
			(x->mj_have_gen && x->mj_gen != x->generation);
		for (size_t i = 0; i < x->nf; i++)
			x->stale |= x->f[i]->have_row && !x->f[i]->row.sealed;
	}
	if ((rc = scan_extras(x)) || (rc = plan_files(x)))
		return fail(x, rc, "out of memory");
	/* what to read */
	size_t cap = 0;
	x->ntask = 0;
	for (size_t i = 0; i < x->nf; i++) {
		vfile *f = x->f[i];
		if (!f->want_hash)
			continue;
		if ((rc = add_task(x, &cap, f, -1)))
			return fail(x, rc, "out of memory");
		x->total_bytes += f->size;
	}
	if (x->deep) {
		for (size_t i = 0; i < x->nf; i++)
			if (x->f[i]->checked && (rc = plan_frames(x, x->f[i])))
				return fail(x, rc, "out of memory");
		if (c && c->have_opts && (rc = alloc_kinds(x)))
			return rc;
		if ((rc = set_ord0(x)))
			return fail(x, rc, "out of memory");
		for (size_t i = 0; i < x->nf; i++) {
			vfile *f = x->f[i];
			for (uint32_t j = 0; f->frames_known && j < f->nfr; j++) {
				if ((rc = add_task(x, &cap, f, j)))
					return fail(x, rc, "out of memory");
				x->total_bytes += f->fr[j].csize;
			}
		}
	}
	/* the biggest files first, so that the threads finish together */
	size_t nhash = 0;
	while (nhash < x->ntask && x->task[nhash].frame < 0)
		nhash++;
	if (nhash > 1)
		qsort(x->task, nhash, sizeof *x->task, cmp_task_size);
	x->stage = x->deep ? "frames" : "files";
	if ((rc = run_pool(x, ws, nw)) || x->fatal)
		return x->fatal ? x->fatal : rc;
	if (cancelled(x))
		return fail(x, WN_E_INTERRUPTED, "interrupted");
	for (size_t i = 0; i < x->nf; i++)
		check_file(x, x->f[i]);
	if (x->deep)
		for (size_t i = 0; i < x->nf; i++)
			check_file_frames(x, x->f[i]);
	/* the index against the records */
	if (x->deep && c && c->have_opts) {
		x->ntask = 0;
		for (int kd = 0; kd < WN_NKINDS; kd++) {
			if ((rc = place_kind(x, kd)))
				return rc;
			if (!x->k[kd].nspan)
				continue;
			for (int m = 0; m < 3; m++)
				if ((rc = add_task(x, &cap, NULL, -(int64_t)(kd * 3 + m) - 1)))
					return fail(x, rc, "out of memory");
		}
		x->stage = "index";
		if ((rc = run_pool(x, ws, nw)) || x->fatal)
			return x->fatal ? x->fatal : rc;
		for (int i = 0; i < WN_NKINDS * 3; i++)
			if (x->scan_redo[i] && (rc = scan_map(x, c, x->txn, i / 3, i % 3)))
				return fail(x, rc, "%s", c->err);
		if (cancelled(x))
			return fail(x, WN_E_INTERRUPTED, "interrupted");
		for (int kd = 0; kd < WN_NKINDS; kd++)
			if (x->k[kd].nspan)
				check_index_kind(x, &ws[nw], kd);
	}
	check_counters(x);
	if (x->res->files_skipped)
		prob(x, PK_NOTE, &NOLOC, "%llu listed file%s (%llu bytes) not checked (%s)",
			(unsigned long long)x->res->files_skipped, x->res->files_skipped == 1 ? "" : "s",
			(unsigned long long)x->res->bytes_skipped,
			o->ignore_missing && o->n_only ? "missing, or not selected" : o->ignore_missing ? "missing" : "not selected");
	/* what was not shown */
	unsigned max = o->max_per_kind;
	for (size_t i = 0; max && i <= x->nf; i++) {
		vfile *f = i < x->nf ? x->f[i] : NULL;
		for (int k = 0; k < PK_N; k++) {
			unsigned n = *prob_counter(x, k, f);
			if (n > max) {
				vloc l = f ? at_file(f) : NOLOC;
				prob_force(x, PK_NOTE, &l, "%u more %s problems%s not shown", n - max, pk_name[k], f ? " in this file" : "");
			}
		}
	}
	return 0;
}

int wn_verify(wn_catalog *c, const wn_verify_opts *o, wn_verify_result *res)
{
	wn_verify_result dummy;
	if (!res)
		res = &dummy;
	memset(res, 0, sizeof *res);
	if (!o || (!c && (!o->dir || !*o->dir))) {
		snprintf(res->err, sizeof res->err, "verify: no catalog and no folder given");
		return c ? wn_seterr(c, WN_E_USAGE, "%s", res->err) : WN_E_USAGE;
	}
	vctx *x = calloc(1, sizeof *x);
	if (!x)
		return WN_E_NOMEM;
	if (c)
		c->err[0] = 0;
	x->c = c;
	x->o = o;
	x->res = res;
	x->t0 = wn_now();
	x->dirfd = -1;
	x->deep = o->deep != 0;
	x->interrupted = -1;
	pthread_mutex_init(&x->mu, NULL);
	pthread_cond_init(&x->done, NULL);
	int nw = o->threads > 0 ? o->threads : wn_ncores();
	if (nw > 256)
		nw = 256;
	vworker *ws = calloc((size_t)nw + 1, sizeof *ws);
	int rc = 0;
	const char *d = c ? c->dir : o->dir;
	x->dir = strdup(d);
	if (x->dir) {
		size_t dl = strlen(x->dir);
		while (dl > 1 && x->dir[dl - 1] == '/')
			x->dir[--dl] = 0;
	}
	x->manifest = c || !o->manifest ? (x->dir ? join(x->dir, "MANIFEST") : NULL) : strdup(o->manifest);
	if (x->manifest) {
		x->mdir = strdup(x->manifest);
		char *sl = x->mdir ? strrchr(x->mdir, '/') : NULL;
		if (sl && sl != x->mdir)
			*sl = 0;
		else if (sl)
			sl[1] = 0;
		else if (x->mdir) {
			free(x->mdir);
			x->mdir = strdup(".");
		}
	}
	if (!ws || !x->dir || !x->manifest || !x->mdir) {
		rc = fail(x, WN_E_NOMEM, "out of memory");
		goto out;
	}
	for (int i = 0; i <= nw; i++)
		if ((rc = worker_init(x, &ws[i]))) {
			fail(x, rc, "out of memory");
			goto out;
		}
	x->dirfd = open(x->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (x->dirfd < 0) {
		rc = fail(x, errno == ENOENT ? WN_E_NOTFOUND : errno, "%s: %s", x->dir, strerror(errno));
		goto out;
	}
	rc = verify_run(x, ws, nw);
	if (!rc && x->fatal)
		rc = x->fatal;
	if (!rc) {
		if (x->npr)
			qsort(x->pr, x->npr, sizeof *x->pr, cmp_prob);
		for (size_t i = 0; i < x->npr && o->problem; i++) {
			vprob *p = &x->pr[i];
			wn_problem w = { pk_name[p->kind], p->f ? p->f->path : NULL, p->frame, p->offset, p->length, p->record,
				p->id, p->idlen, p->detail };
			o->problem(&w, o->problem_ud);
		}
	}
out:
	res->problems = x->problems;
	res->notes = x->notes;
	res->records_checked = atomic_load(&x->recs_done);
	res->seconds = wn_now() - x->t0;
	if (rc) {
		snprintf(res->err, sizeof res->err, "%s", x->fatal_msg[0] ? x->fatal_msg : wn_strerror(rc));
		if (c)
			wn_seterr(c, rc, "%s", res->err);
	}
	if (x->txn)
		mdb_txn_abort(x->txn);
	for (int i = 0; ws && i <= nw; i++)
		worker_free(&ws[i]);
	free(ws);
	for (size_t i = 0; i < x->npr; i++) {
		free(x->pr[i].detail);
		free(x->pr[i].id);
	}
	free(x->pr);
	for (size_t i = 0; i < x->nf; i++)
		file_free(x->f[i]);
	free(x->f);
	free(x->ht);
	for (int kd = 0; kd < WN_NKINDS; kd++) {
		vkind *K = &x->k[kd];
		size_t n = K->n ? K->n : 1;
		if (K->o)
			wn_big_free(K->o, n * sizeof *K->o);
		free(K->span);
		free(K->rows);
		free(K->rowkey);
		free(K->rowused);
		free(K->sus);
		free(K->xfp);
	}
	free(x->task);
	if (x->dirfd >= 0)
		close(x->dirfd);
	free(x->dir);
	free(x->manifest);
	free(x->mdir);
	pthread_mutex_destroy(&x->mu);
	pthread_cond_destroy(&x->done);
	free(x);
	return rc;
}
