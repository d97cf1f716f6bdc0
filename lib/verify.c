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

#define READ_CHUNK (256u << 10)     /* file hashing: stays in L2 between read and hash */
#define MAX_TEXT (256u << 20)       /* larger manifests are refused */
#define MAX_FRAME_RAW (1ull << 31)  /* larger declared frame contents are implausible */
#define MAX_ID 512                  /* as ingest: longer ids are never stored */
#define MAX_SUSPECT 100000          /* index entries kept for a closer look, per map */

static const char *const role_dir[WN_NROLES] = { "shards", "ledger", "rejects" };
static const char *const role_json[WN_NROLES] = { "shard", "ledger", "rejects" };

/* What a shard record says, per ordinal: d = XXH3-64 of (id hash u64be, check u16be,
 * fingerprint), which is also computable from an id entry's bytes 0-9 and 16-31. */
typedef struct vrec {
	uint64_t d, fpkey, isrc;
} vrec;
#define RF_KNOWN 1    /* decoded */
#define RF_SUPER 2    /* a key of <kind>.superseded */
#define RF_ISRC  4    /* has an ISRC */
#define RF_BADID 8    /* no usable id */

typedef struct vframe {
	uint64_t off;
	uint32_t csize;
	uint32_t e_dsize, e_checksum;   /* its seek table entry (or index frame list entry) */
	uint8_t have_entry;
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
	uint8_t selected, present, checked, skipped, sealed;
	uint8_t xxh[16];                /* MANIFEST */
	uint8_t sum_sha[32];            /* SHA256SUMS */
	uint8_t meta_sha[32];           /* index */
	struct {
		uint64_t bytes, raw, records, frames, first, last;
		uint8_t have_bytes, have_raw, have_records, have_frames, have_first, have_xxh, have_sha;
		int role, kind;
		uint8_t xxh[16], sha[32];
	} j;                            /* MANIFEST.json */
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
	vrec *rec;
	uint8_t *st, *idm, *fpm, *ism;  /* st: RF_*; idm: current id entries (low 7 bits), 0x80 REVISED */
	vspan *span;
	size_t nspan, capspan;
	wn_frameinfo *rows;             /* <kind>.frames */
	uint64_t *rowkey;
	uint8_t *rowused;
	size_t nrows;
	uint64_t nsup;
	int placed;                     /* records were placed: the index can be checked */
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
	int deep, threads, writer_active;
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
	uint64_t mjc[WN_NKINDS][7], cjc[WN_NKINDS][7];
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
	int fatal;
	char fatal_msg[256];
	uint64_t total_bytes;
	const char *stage;
	double t0;
} vctx;

/* ---- small helpers ---- */

static int hexval(int ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* n bytes from 2n hex digits of either case; 0 or -1 */
static int unhex_any(uint8_t *out, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int a = hexval((unsigned char)s[2 * i]), b = hexval((unsigned char)s[2 * i + 1]);
		if (a < 0 || b < 0)
			return -1;
		out[i] = (uint8_t)(a << 4 | b);
	}
	return 0;
}

static uint64_t fnv(const char *s)
{
	uint64_t h = 1469598103934665603ull;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int cancelled(vctx *x)
{
	if (atomic_load(&x->stop))
		return 1;
	if (x->o->cancel && *x->o->cancel) {
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

static void probv(vctx *x, int kind, const vloc *l, const char *fmt, va_list ap)
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
	(*cnt)++;
	if (max && *cnt > max) {
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
	probv(x, kind, l, fmt, ap);
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
		size_t rl = strlen(role_dir[r]);
		if (strncmp(f->path, role_dir[r], rl) || f->path[rl] != '/')
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

/* ---- hashing whole files ---- */

static void sha_begin(EVP_MD_CTX *m)
{
	EVP_DigestInit_ex(m, EVP_sha256(), NULL);
}

int wn_file_digests(const char *path, uint8_t xxh[16], uint8_t sha256[32], uint64_t *size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno;
	XXH3_state_t *xs = XXH3_createState();
	EVP_MD_CTX *m = EVP_MD_CTX_new();
	char *buf = malloc(READ_CHUNK);
	int rc = 0;
	uint64_t off = 0;
	if (!xs || !m || !buf) {
		rc = WN_E_NOMEM;
		goto out;
	}
	XXH3_128bits_reset(xs);
	sha_begin(m);
	for (;;) {
		ssize_t r = pread(fd, buf, READ_CHUNK, (off_t)off);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			rc = errno;
			goto out;
		}
		if (!r)
			break;
		XXH3_128bits_update(xs, buf, (size_t)r);
		EVP_DigestUpdate(m, buf, (size_t)r);
		off += (uint64_t)r;
	}
	XXH128_canonical_t canon;
	XXH128_canonicalFromHash(&canon, XXH3_128bits_digest(xs));
	memcpy(xxh, canon.digest, 16);
	unsigned sl = 32;
	EVP_DigestFinal_ex(m, sha256, &sl);
	if (size)
		*size = off;
out:
	close(fd);
	XXH3_freeState(xs);
	EVP_MD_CTX_free(m);
	free(buf);
	return rc;
}

/* ---- MANIFEST: xxhsum's format ---- */

/* One MANIFEST line as xxhsum 0.8 reads it: a BSD tag line "XXH128 (PATH) = HASH" (the
 * tag starts with XXH128; "_LE" in it means the digits are little-endian), or a GNU line
 * "HASH  PATH" (xxhsum skips whatever character follows the first space). Returns NULL
 * and the path and canonical hash, or why the line is malformed. */
static const char *parse_xxh_line(const char *line, size_t n, const char **path, size_t *plen, uint8_t h[16])
{
	const char *sp = memchr(line, ' ', n), *end = line + n, *hex;
	size_t hl;
	int le = 0;
	if (!sp || sp + 1 >= end)
		return "not a checksum line";
	if (sp[1] == '(') {
		const char *last = end - 1;
		while (last > sp && *last != ' ')
			last--;
		if (last - sp < 5 || last[-1] != '=' || last[-2] != ' ' || last[-3] != ')')
			return "not a checksum line (want \"XXH128 (PATH) = HASH\")";
		size_t tl = (size_t)(sp - line);
		if (tl < 6 || memcmp(line, "XXH128", 6))
			return "not an XXH128 line";
		le = memmem(line, tl, "_LE", 3) != NULL;
		*path = sp + 2;
		*plen = (size_t)(last - 3 - (sp + 2));
		hex = last + 1;
		hl = (size_t)(end - hex);
	} else {
		hex = line;
		hl = (size_t)(sp - line);
		*path = sp + 2;
		*plen = (size_t)(end - (sp + 2));
	}
	if (hl != 32 || unhex_any(h, hex, 16))
		return "the hash is not 32 hex digits";
	if (le)
		for (int i = 0; i < 8; i++) {
			uint8_t t = h[i];
			h[i] = h[15 - i];
			h[15 - i] = t;
		}
	if (!*plen)
		return "no file name";
	return NULL;
}

/* SHA256SUMS as sha256sum writes it: "HASH  PATH" (or "HASH *PATH"), or the BSD tag
 * form "SHA256 (PATH) = HASH". */
static const char *parse_sha_line(const char *line, size_t n, const char **path, size_t *plen, uint8_t h[32])
{
	if (n > 10 && !memcmp(line, "SHA256 (", 8)) {
		if (n < 8 + 1 + 4 + 64 || memcmp(line + n - 64 - 4, ") = ", 4))
			return "not a checksum line (want \"HASH  PATH\")";
		*path = line + 8;
		*plen = n - 64 - 4 - 8;
		if (unhex_any(h, line + n - 64, 32))
			return "the hash is not 64 hex digits";
	} else {
		if (n < 64 + 3 || line[64] != ' ' || (line[65] != ' ' && line[65] != '*'))
			return "not a checksum line (want \"HASH  PATH\")";
		if (unhex_any(h, line, 32))
			return "the hash is not 64 hex digits";
		*path = line + 66;
		*plen = n - 66;
	}
	if (!*plen)
		return "no file name";
	return NULL;
}

typedef const char *(*line_parser)(const char *, size_t, const char **, size_t *, uint8_t *);

/* Read a checksum file line by line. which: 0 MANIFEST, 1 SHA256SUMS. */
static int load_sumfile(vctx *x, const wn_buf *b, int which)
{
	const char *name = which ? "SHA256SUMS" : "MANIFEST";
	line_parser parse = which ? parse_sha_line : parse_xxh_line;
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

/* ---- MANIFEST.json, catalog.json: a small reader for text already known to be valid
 * JSON (wn_json_record checked it), which only has to be careful about bounds ---- */

typedef struct jrd {
	const char *p, *e;
} jrd;

static void j_ws(jrd *j)
{
	while (j->p < j->e && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r'))
		j->p++;
}

static int j_eat(jrd *j, char ch)
{
	j_ws(j);
	if (j->p < j->e && *j->p == ch) {
		j->p++;
		return 1;
	}
	return 0;
}

static int j_peek(jrd *j)
{
	j_ws(j);
	return j->p < j->e ? (unsigned char)*j->p : -1;
}

static size_t put_utf8(char *o, uint32_t cp)
{
	if (cp < 0x80) {
		o[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (char)(0xC0 | cp >> 6);
		o[1] = (char)(0x80 | (cp & 0x3F));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (char)(0xE0 | cp >> 12);
		o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
		o[2] = (char)(0x80 | (cp & 0x3F));
		return 3;
	}
	o[0] = (char)(0xF0 | cp >> 18);
	o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
	o[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
	o[3] = (char)(0x80 | (cp & 0x3F));
	return 4;
}

/* A string, unescaped into out (cap bytes, NUL-terminated, truncated: *len is the full
 * length); out may be NULL to skip it. 0 or -1. */
static int j_str(jrd *j, char *out, size_t cap, size_t *len)
{
	if (!j_eat(j, '"'))
		return -1;
	size_t o = 0;
	while (j->p < j->e && *j->p != '"') {
		char tmp[4];
		size_t tl = 1;
		if (*j->p == '\\') {
			if (j->e - j->p < 2)
				return -1;
			char ch = j->p[1];
			j->p += 2;
			switch (ch) {
			case 'b': tmp[0] = '\b'; break;
			case 'f': tmp[0] = '\f'; break;
			case 'n': tmp[0] = '\n'; break;
			case 'r': tmp[0] = '\r'; break;
			case 't': tmp[0] = '\t'; break;
			case 'u': {
				uint32_t cp = 0;
				if (j->e - j->p < 4)
					return -1;
				for (int i = 0; i < 4; i++) {
					int v = hexval((unsigned char)j->p[i]);
					if (v < 0)
						return -1;
					cp = cp << 4 | (uint32_t)v;
				}
				j->p += 4;
				if (cp >= 0xD800 && cp < 0xDC00 && j->e - j->p >= 6 && j->p[0] == '\\' && j->p[1] == 'u') {
					uint32_t lo = 0;
					int okp = 1;
					for (int i = 0; i < 4; i++) {
						int v = hexval((unsigned char)j->p[2 + i]);
						if (v < 0)
							okp = 0;
						lo = lo << 4 | (uint32_t)(v < 0 ? 0 : v);
					}
					if (okp && lo >= 0xDC00 && lo < 0xE000) {
						cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
						j->p += 6;
					}
				}
				tl = put_utf8(tmp, cp);
				break;
			}
			default: tmp[0] = ch; break;
			}
		} else {
			tmp[0] = *j->p++;
		}
		for (size_t i = 0; i < tl; i++, o++)
			if (out && o + 1 < cap)
				out[o] = tmp[i];
	}
	if (j->p >= j->e)
		return -1;
	j->p++;
	if (out && cap)
		out[o < cap ? o : cap - 1] = 0;
	if (len)
		*len = o;
	return 0;
}

/* A number: 1 and *v if it is a non-negative integer that fits, 0 if it is another
 * number (skipped), -1 if it is not a number. */
static int j_num(jrd *j, uint64_t *v)
{
	j_ws(j);
	const char *s = j->p;
	while (j->p < j->e && (strchr("0123456789+-.eE", *j->p)))
		j->p++;
	if (j->p == s)
		return -1;
	uint64_t x = 0;
	for (const char *q = s; q < j->p; q++) {
		if (*q < '0' || *q > '9' || x > (UINT64_MAX - 9) / 10)
			return 0;
		x = x * 10 + (uint64_t)(*q - '0');
	}
	*v = x;
	return 1;
}

static int j_skip(jrd *j, int depth)
{
	int ch = j_peek(j);
	if (depth > 64 || ch < 0)
		return -1;
	if (ch == '"')
		return j_str(j, NULL, 0, NULL);
	if (ch == '{' || ch == '[') {
		char close = ch == '{' ? '}' : ']';
		j->p++;
		if (j_eat(j, close))
			return 0;
		for (;;) {
			if (ch == '{' && (j_str(j, NULL, 0, NULL) || !j_eat(j, ':')))
				return -1;
			if (j_skip(j, depth + 1))
				return -1;
			if (j_eat(j, ','))
				continue;
			return j_eat(j, close) ? 0 : -1;
		}
	}
	while (j->p < j->e && !strchr(",]} \t\r\n", *j->p))
		j->p++;
	return 0;
}

static const char *const count_key[7] = { "records", "read", "kept", "duplicates", "revisions", "rejected", "superseded" };

/* "counts":{"track":{"records":N,...},"artist":{...}} */
static int j_counts(jrd *j, uint64_t c[WN_NKINDS][7])
{
	char key[64];
	if (!j_eat(j, '{'))
		return -1;
	if (j_eat(j, '}'))
		return 0;
	do {
		if (j_str(j, key, sizeof key, NULL) || !j_eat(j, ':'))
			return -1;
		int kd = !strcmp(key, "track") ? 0 : !strcmp(key, "artist") ? 1 : -1;
		if (kd < 0 || j_peek(j) != '{') {
			if (j_skip(j, 1))
				return -1;
			continue;
		}
		j_eat(j, '{');
		if (j_eat(j, '}'))
			continue;
		do {
			char k2[64];
			uint64_t v;
			if (j_str(j, k2, sizeof k2, NULL) || !j_eat(j, ':'))
				return -1;
			int idx = -1;
			for (int i = 0; i < 7; i++)
				if (!strcmp(k2, count_key[i]))
					idx = i;
			if (idx >= 0 && j_peek(j) != '"' && j_peek(j) != '{' && j_peek(j) != '[') {
				if (j_num(j, &v) == 1)
					c[kd][idx] = v;
			} else if (j_skip(j, 2)) {
				return -1;
			}
		} while (j_eat(j, ','));
		if (!j_eat(j, '}'))
			return -1;
	} while (j_eat(j, ','));
	return j_eat(j, '}') ? 0 : -1;
}

static int role_by_json(const char *s)
{
	for (int r = 0; r < WN_NROLES; r++)
		if (!strcmp(s, role_json[r]))
			return r;
	return -1;
}

static int kind_by_name(const char *s)
{
	return !strcmp(s, "track") ? 0 : !strcmp(s, "artist") ? 1 : -1;
}

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

static int j_file(vctx *x, jrd *j, size_t idx)
{
	char key[64], path[4096], sval[128], norm[4096], s1[80];
	size_t plen = 0;
	int have_path = 0;
	uint64_t v;
	vfile tmp;
	memset(&tmp, 0, sizeof tmp);
	tmp.j.role = tmp.j.kind = -1;
	if (!j_eat(j, '{'))
		return -1;
	if (!j_eat(j, '}')) {
		do {
			if (j_str(j, key, sizeof key, NULL) || !j_eat(j, ':'))
				return -1;
			int ch = j_peek(j);
			if (!strcmp(key, "path") && ch == '"') {
				if (j_str(j, path, sizeof path, &plen))
					return -1;
				have_path = plen < sizeof path;
			} else if (ch == '"' && (!strcmp(key, "role") || !strcmp(key, "kind") || !strcmp(key, "xxh128") ||
					   !strcmp(key, "sha256"))) {
				size_t sl;
				if (j_str(j, sval, sizeof sval, &sl))
					return -1;
				if (!strcmp(key, "role"))
					tmp.j.role = role_by_json(sval);
				else if (!strcmp(key, "kind"))
					tmp.j.kind = kind_by_name(sval);
				else if (!strcmp(key, "xxh128"))
					tmp.j.have_xxh = sl == 32 && !unhex_any(tmp.j.xxh, sval, 16);
				else
					tmp.j.have_sha = sl == 64 && !unhex_any(tmp.j.sha, sval, 32);
			} else if (ch != '"' && ch != '{' && ch != '[' && ch != 't' && ch != 'f' && ch != 'n') {
				int r = j_num(j, &v);
				if (r < 0)
					return -1;
				if (r == 1) {
					if (!strcmp(key, "bytes"))
						tmp.j.bytes = v, tmp.j.have_bytes = 1;
					else if (!strcmp(key, "raw_bytes"))
						tmp.j.raw = v, tmp.j.have_raw = 1;
					else if (!strcmp(key, "records"))
						tmp.j.records = v, tmp.j.have_records = 1;
					else if (!strcmp(key, "frames"))
						tmp.j.frames = v, tmp.j.have_frames = 1;
					else if (!strcmp(key, "first_ordinal"))
						tmp.j.first = v, tmp.j.have_first = 1;
					else if (!strcmp(key, "last_ordinal"))
						tmp.j.last = v;
				}
			} else if (j_skip(j, 2)) {
				return -1;
			}
		} while (j_eat(j, ','));
		if (!j_eat(j, '}'))
			return -1;
	}
	const char *why = have_path ? path_norm(path, plen, norm, sizeof norm) : "no \"path\"";
	if (why) {
		prob(x, PK_METADATA, &NOLOC, "MANIFEST.json files[%zu]: %s (\"%s\"): refused, not opened", idx, why,
			snip(s1, sizeof s1, path, have_path ? plen : 0));
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
	f->j = tmp.j;
	f->have_json = 1;
	return 0;
}

static int load_manifest_json(vctx *x)
{
	wn_buf b = { 0 };
	char path[4400];
	snprintf(path, sizeof path, "%s.json", x->manifest);
	int e = read_text(path, &b);
	if (e) {
		if (e != ENOENT || x->c)
			prob(x, PK_METADATA, &NOLOC, "MANIFEST.json: %s", strerror(e));
		wn_buf_free(&b);
		return 0;
	}
	int rc = json_valid(x, "MANIFEST.json", &b);
	if (rc <= 0) {
		wn_buf_free(&b);
		return rc;
	}
	jrd j = { b.p, b.p + b.len };
	char key[64];
	int bad = !j_eat(&j, '{');
	x->have_mjson = 1;
	while (!bad && j_peek(&j) == '"') {
		uint64_t v;
		if (j_str(&j, key, sizeof key, NULL) || !j_eat(&j, ':')) {
			bad = 1;
			break;
		}
		if (!strcmp(key, "files") && j_peek(&j) == '[') {
			j_eat(&j, '[');
			size_t idx = 0;
			if (!j_eat(&j, ']')) {
				do {
					if ((rc = j_file(x, &j, idx++)) < 0) {
						if (rc == WN_E_NOMEM) {
							wn_buf_free(&b);
							return rc;
						}
						bad = 1;
						break;
					}
				} while (j_eat(&j, ','));
				if (!bad && !j_eat(&j, ']'))
					bad = 1;
			}
		} else if (!strcmp(key, "counts") && j_peek(&j) == '{') {
			bad = j_counts(&j, x->mjc) != 0;
			x->mj_counts = !bad;
		} else if (!strcmp(key, "generation") && j_num(&j, &v) == 1) {
			x->mj_gen = v;
			x->mj_have_gen = 1;
		} else if ((!strcmp(key, "format_version") || !strcmp(key, "fingerprint_version")) && j_peek(&j) != '"') {
			if (j_num(&j, &v) != 1 || v != 1)
				prob(x, PK_METADATA, &NOLOC, "MANIFEST.json: %s is not 1 (this winnow reads version 1)", key);
		} else if (j_skip(&j, 1)) {
			bad = 1;
		}
		if (!bad && !j_eat(&j, ','))
			break;
	}
	if (bad)
		prob(x, PK_METADATA, &NOLOC, "MANIFEST.json: unexpected layout near byte %zu", (size_t)(j.p - b.p));
	wn_buf_free(&b);
	return 0;
}

static int load_catalog_json(vctx *x)
{
	wn_buf b = { 0 };
	char path[4400];
	snprintf(path, sizeof path, "%s/catalog.json", x->mdir);
	x->interrupted = -1;
	int e = read_text(path, &b);
	if (e) {
		if (e != ENOENT || x->c)
			prob(x, PK_METADATA, &NOLOC, "catalog.json: %s", strerror(e));
		wn_buf_free(&b);
		return 0;
	}
	int rc = json_valid(x, "catalog.json", &b);
	if (rc <= 0) {
		wn_buf_free(&b);
		return rc;
	}
	x->have_cjson = 1;
	jrd j = { b.p, b.p + b.len };
	char key[64];
	int bad = !j_eat(&j, '{');
	while (!bad && j_peek(&j) == '"') {
		uint64_t v;
		if (j_str(&j, key, sizeof key, NULL) || !j_eat(&j, ':')) {
			bad = 1;
			break;
		}
		if (!strcmp(key, "interrupted_run") && (j_peek(&j) == 't' || j_peek(&j) == 'f')) {
			x->interrupted = j_peek(&j) == 't';
			bad = j_skip(&j, 1) != 0;
		} else if (!strcmp(key, "counts") && j_peek(&j) == '{') {
			bad = j_counts(&j, x->cjc) != 0;
			x->cj_counts = !bad;
		} else if (!strcmp(key, "generation") && j_num(&j, &v) == 1) {
			x->cj_gen = v;
			x->cj_have_gen = 1;
		} else if ((!strcmp(key, "format_version") || !strcmp(key, "fingerprint_version")) && j_peek(&j) != '"') {
			if (j_num(&j, &v) != 1 || v != 1)
				prob(x, PK_METADATA, &NOLOC, "catalog.json: %s is not 1 (this winnow reads version 1)", key);
		} else if (j_skip(&j, 1)) {
			bad = 1;
		}
		if (!bad && !j_eat(&j, ','))
			break;
	}
	if (bad)
		prob(x, PK_METADATA, &NOLOC, "catalog.json: unexpected layout near byte %zu", (size_t)(j.p - b.p));
	wn_buf_free(&b);
	return 0;
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
	/* superseded and frame rows, per kind */
	for (int kd = 0; kd < WN_NKINDS; kd++) {
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
		snprintf(folders[nfold++], 256, "%s", role_dir[r]);
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
