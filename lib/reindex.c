/*
 * reindex.c - `winnow reindex`: the index built again from the data files alone.
 *
 * The data files are the catalog and the index is derived from them (FORMAT.md 12), so
 * a damaged, old or absent index can be rebuilt, and a bare folder of data files (a
 * mirror) can be made into a catalog. What is authoritative: MANIFEST.json (the sealed
 * files with their sizes, counts, XXH128 and SHA-256, and the catalog's counts and
 * generation), catalog.json (the options that shape ids and fingerprints), SHA256SUMS
 * (whether the catalog keeps it), and the files themselves. The old index is never read.
 *
 * Each file is proven before anything of it is indexed: its size and XXH128 are
 * MANIFEST.json's (its SHA-256 too, where there is one), its seek table reads and has
 * the frames MANIFEST.json counts. Then its frames are decoded on the worker pool through
 * the frame layer (frame.c: zstd checks every content checksum against the seek table's)
 * and each record is keyed with the parser set-up every reader uses (record.c); the
 * calling thread takes the frames in order and replays what ingest decided:
 *
 *   shards    ordinals, frames and files rows, an id entry and an fp pair per record and
 *             an isrc pair per track with an ISRC; an id met again at a later ordinal is
 *             a revision that won: the earlier ordinal is superseded by the later one and
 *             the entry is flagged REVISED
 *   ledger    duplicates and revisions counted; a revision that lost adds the pair of
 *             its fingerprint and the survivor it lost to, and flags the id REVISED (the
 *             ledger of a revision that won must match the superseded records)
 *   rejects   counted
 *
 * The maps are written by the LSM code ingest uses (lsm.c): the memtable filled and
 * written as a run every `checkpoint` records, runs merged when due, so memory is the
 * memtable and the filters whatever the catalog's size. Everything goes into a new LMDB
 * environment beside the old one (index.reindex/, without syncs until the end), which
 * is synced and then swapped with index/ by one rename (RENAME_EXCHANGE): a crash leaves
 * the old index or the new one, and the next run removes what a crash left behind.
 *
 * wn_reindex_fed is the same build for a writer that knows the shards' keys (the
 * scale-out's merge, which wrote the files from partitions that keyed every record): the
 * files are proven as above, the ledger and rejects read as above, and each shard frame's
 * records and keys come from the feed instead of the frame decoded and parsed.
 */
#include "internal.h"
#include "contrib.h"
#include "ledger.h"
#include "manifest.h"
#include "pool.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define NEW_INDEX "index.reindex"   /* where the new index is built */
#define MAX_MANIFEST (256u << 20)

void wn_reindex_opts_init(wn_reindex_opts *o)
{
	memset(o, 0, sizeof *o);
	o->memory = 1ull << 30;
}

/* ---- what MANIFEST.json lists ---- */

typedef struct rfile {
	char rel[128];
	int role, kind;
	uint32_t seq;
	wn_mfile m;
	int absent;
} rfile;

/* What a shard record says (keyed by a worker). */
typedef struct rkey {
	uint64_t hash;
	uint32_t isrc_at;       /* its ISRC hashes: isrc[isrc_at ..] of its task */
	uint16_t check;
	uint8_t n_isrc;
	uint8_t gone;           /* a forgotten record's placeholder: nothing to index */
	uint8_t fp[16];
} rkey;

/* What a ledger entry says. */
typedef struct lent {
	uint64_t hash, survivor;
	int64_t superseded;
	uint16_t check;
	uint8_t revision;
	uint8_t fp[16];
} lent;

typedef struct rsup {
	uint64_t old, by;
} rsup;

struct rx;

/* One frame decoded on the pool. */
typedef struct rtask {
	wn_task task;
	struct rx *x;
	const rfile *f;
	int fd;
	wn_frameinfo fi;
	wn_buf raw, scratch;
	wn_catalog *ec;         /* its errors: ec->err */
	int rc;
	uint32_t nrec;
	rkey *k;
	uint64_t *isrc;         /* the records' ISRC hashes */
	size_t nisrc, capisrc;
	lent *l;
	size_t capk, capl;
	char (*who)[33];        /* the contributors' pseudonyms its lines hold (FORMAT.md 18.5) */
	size_t nwho, capwho;
} rtask;

typedef struct rworker {
	wn_json *json[WN_KINDS_MAX];   /* one per kind of the manifest */
	wn_buf dec;
	int bad;
} rworker;

typedef struct rx {
	wn_catalog *c;          /* the new index, on the catalog's data files */
	const wn_reindex_opts *o;
	wn_reindex_result *res;
	const char *dir, *mdir; /* the catalog; where its manifests are read */
	rfile *f;
	size_t nf, capf;
	wn_mjson mj, cj;
	wn_kinds kinds;         /* the kinds of the manifests and file names, in their order */
	int have_cj, digest, nabsent, badver;
	char *profiles_text;          /* catalog.json's "profiles" (cj.profiles points here) */
	char *tombs_text;             /* ... and its "tombstones" */
	wn_profile prof[WN_KINDS_MAX];   /* the profiles the keys are taken with */
	int have_prof[WN_KINDS_MAX];     /* stored in the catalog (else: the kind's default) */
	wn_hasher *h;
	wn_pool *pool;
	rworker *ws;
	int nw;
	rtask *t;
	int nt;
	/* the kind being indexed */
	int kind;
	struct rhold { char who[33]; uint8_t role; uint32_t seq; } *holds;   /* holds.<kind>.<who> to add */
	size_t nholds, capholds;
	wn_lsm *lsm;
	MDB_txn *rtxn;
	uint64_t next_ord, since, ckpt_every, winners, entries[WN_NROLES];
	uint64_t forgotten;     /* placeholders of forgotten records (meta forgotten.<kind>) */
	int kind_absent;        /* shards of the kind that are not there (ignore_missing) */
	wn_frameinfo *fr;       /* rows since the last checkpoint */
	size_t nfr, capfr;
	wn_fileinfo *rows;
	size_t nrows, caprows;
	rsup *sup;
	size_t nsup, capsup;
	uint32_t contrib_next;  /* the kind's contributions: the number after the highest */
	uint64_t contrib_plays; /* ... and the plays they count */
	const wn_reindex_feed *feed;   /* the shards' keys, given (wn_reindex_fed), or NULL */
	int fed;                /* the kind being indexed takes them (it has no contributor part) */
} rx;

static int cancelled(const rx *x)
{
	return x->o->cancel && __atomic_load_n(x->o->cancel, __ATOMIC_RELAXED);
}

static void note(rx *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(rx *x, const char *fmt, ...)
{
	char msg[600];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (x->o->on_note)
		x->o->on_note(msg, x->o->note_ud);
}

/* The role, kind and number of a winnow data file name ("shards/track-000001.jsonl.zst"),
 * which must be exactly the name winnow gives it. Its kind is added to the manifest's
 * table if it is not there (the files of a kind MANIFEST.json does not count are then
 * refused for that). 0, or -1. */
static int parse_name(rx *x, const char *rel, int *role, int *kind, uint32_t *seq)
{
	for (int r = 0; r < WN_NROLES; r++) {
		size_t rl = strlen(wn_role_dir(r)), kl;
		char back[128];
		if (strncmp(rel, wn_role_dir(r), rl) || rel[rl] != '/' || wn_kind_file_name(rel + rl + 1, &kl, seq))
			continue;
		int k = wn_kinds_add(&x->kinds, rel + rl + 1, kl);
		if (k < 0)
			return -1;
		wn_file_relpath(back, sizeof back, r, x->kinds.name[k], *seq);
		if (strcmp(back, rel))
			return -1;
		*role = r;
		*kind = k;
		return 0;
	}
	return -1;
}

static int mj_file(void *ud, size_t idx, const char *path, size_t plen, int have_path, const wn_mfile *m)
{
	rx *x = ud;
	rfile f;
	memset(&f, 0, sizeof f);
	if (!have_path || plen >= sizeof f.rel || parse_name(x, path, &f.role, &f.kind, &f.seq))
		return wn_seterr(x->c, WN_E_CORRUPT, "%s/MANIFEST.json files[%zu]: \"%.*s\" is not the name of a winnow data file",
			x->mdir, idx, (int)(plen > 200 ? 200 : plen), path);
	memcpy(f.rel, path, plen);
	f.m = *m;
	static const int need[] = { WN_MF_BYTES, WN_MF_RAW_BYTES, WN_MF_RECORDS, WN_MF_FRAMES, WN_MF_XXH128 };
	static const char *const need_name[] = { "bytes", "raw_bytes", "records", "frames", "xxh128" };
	for (size_t i = 0; i < sizeof need / sizeof *need; i++)
		if (!m->have[need[i]])
			return wn_seterr(x->c, WN_E_CORRUPT, "%s/MANIFEST.json files[%zu] (%s): no usable \"%s\"", x->mdir, idx,
				f.rel, need_name[i]);
	if (m->role != f.role || m->kind != f.kind)
		return wn_seterr(x->c, WN_E_CORRUPT, "%s/MANIFEST.json files[%zu] (%s): its role or kind is not its name's",
			x->mdir, idx, f.rel);
	if (f.role == WN_ROLE_SHARD && m->records && (!m->have[WN_MF_FIRST_ORDINAL] || !m->have[WN_MF_LAST_ORDINAL] ||
	    m->last_ordinal - m->first_ordinal + 1 != m->records))
		return wn_seterr(x->c, WN_E_CORRUPT, "%s/MANIFEST.json files[%zu] (%s): no usable ordinal range", x->mdir, idx,
			f.rel);
	for (size_t i = 0; i < x->nf; i++)
		if (!strcmp(x->f[i].rel, f.rel))
			return wn_seterr(x->c, WN_E_CORRUPT, "%s/MANIFEST.json lists %s twice", x->mdir, f.rel);
	if (WN_GROW(x->f, x->nf, x->capf, 64))
		return WN_E_NOMEM;
	x->f[x->nf++] = f;
	return 0;
}

static void mj_version(void *ud, const char *key)
{
	rx *x = ud;
	wn_seterr(x->c, WN_E_VERSION, "%s: %s is not 1 (this winnow reads version 1)", x->mdir, key);
	x->badver = 1;
}

static int cmp_file(const void *a, const void *b)
{
	const rfile *p = a, *q = b;
	if (p->kind != q->kind)
		return p->kind - q->kind;
	if (p->role != q->role)
		return p->role - q->role;
	return p->seq < q->seq ? -1 : p->seq > q->seq;
}

/* A profile of catalog.json's "profiles" (wn_profiles_decode). */
static int take_profile(void *ud, const char *kind, const wn_profile *p)
{
	rx *x = ud;
	int k = wn_kinds_find(&x->kinds, kind, strlen(kind));
	if (k < 0)
		return 0;   /* a kind with no file and no count: nothing was kept under it */
	x->prof[k] = *p;
	x->have_prof[k] = 1;
	return 0;
}

/* Read one of the manifests (name) of x->mdir: 0, ENOENT, or an error. */
static int read_json(rx *x, const char *name, int catalog, wn_mjson *out)
{
	char path[4400];
	wn_buf b = { 0 };
	snprintf(path, sizeof path, "%s/%s", x->mdir, name);
	int e = wn_read_text(path, &b, MAX_MANIFEST);
	if (e) {
		wn_buf_free(&b);
		return e == ENOENT ? ENOENT : wn_seterr(x->c, wn_open_code(e), "%s: %s", path, wn_open_why(e));
	}
	wn_json *jp = wn_json_new();
	wn_jresult jr;
	int rc = jp ? wn_json_record(jp, b.p, b.len, &jr) : WN_E_NOMEM;
	wn_json_free(jp);
	if (rc && rc != WN_E_NOMEM)
		rc = wn_seterr(x->c, WN_E_CORRUPT, "%s is not a valid JSON object: %s at byte %zu", path, jr.err, jr.err_offset);
	if (!rc) {
		wn_mjson_cb cb = { .file = catalog ? NULL : mj_file, .version = mj_version, .catalog = catalog,
			.kinds = &x->kinds, .ud = x };
		rc = wn_mjson_read(b.p, b.len, &cb, out);
		if (!rc && out->profiles) {
			/* it points into the text, which goes now */
			free(x->profiles_text);
			if (!(x->profiles_text = malloc(out->profiles_len ? out->profiles_len : 1)))
				rc = WN_E_NOMEM;
			else
				out->profiles = memcpy(x->profiles_text, out->profiles, out->profiles_len);
		}
		if (!rc && out->tombstones) {
			free(x->tombs_text);
			if (!(x->tombs_text = malloc(out->tombstones_len ? out->tombstones_len : 1)))
				rc = WN_E_NOMEM;
			else
				out->tombstones = memcpy(x->tombs_text, out->tombstones, out->tombstones_len);
		}
		if (!rc && x->badver)
			rc = WN_E_VERSION;
		else if (!rc && out->bad)
			rc = wn_seterr(x->c, WN_E_CORRUPT, "%s: unexpected layout near byte %zu", path, out->bad_at);
	}
	wn_buf_free(&b);
	return rc;
}

/* The manifests, the files they list (in the order they are indexed) and the options. */
static int load_manifests(rx *x)
{
	wn_kinds_init(&x->kinds);
	int rc = read_json(x, "MANIFEST.json", 0, &x->mj);
	if (rc == ENOENT)
		return wn_seterr(x->c, WN_E_USAGE, "%s: no MANIFEST.json: not a catalog or a mirror of one", x->mdir);
	if (rc)
		return rc;
	rc = read_json(x, "catalog.json", 1, &x->cj);
	if (rc && rc != ENOENT)
		return rc;
	x->have_cj = !rc;
	if (x->nf)
		qsort(x->f, x->nf, sizeof *x->f, cmp_file);
	/* a series is numbered 1, 2, 3 ... without a gap */
	for (size_t i = 0; i < x->nf; i++) {
		const rfile *p = i ? &x->f[i - 1] : NULL, *f = &x->f[i];
		uint32_t want = p && p->kind == f->kind && p->role == f->role ? p->seq + 1 : 1;
		if (f->seq != want) {
			char rel[128];
			wn_file_relpath(rel, sizeof rel, f->role, x->kinds.name[f->kind], want);
			return wn_seterr(x->c, WN_E_CORRUPT, "%s/MANIFEST.json lists %s but not %s", x->mdir, f->rel, rel);
		}
	}
	for (int k = 0; k < WN_KINDS_MAX; k++)
		wn_profile_default(&x->prof[k], k < x->kinds.n ? x->kinds.name[k] : "", NULL);
	if (x->have_cj && x->cj.profiles) {
		char why[200];
		rc = wn_profiles_decode(x->cj.profiles, x->cj.profiles_len, take_profile, x, why, sizeof why);
		if (rc == -1)
			return wn_seterr(x->c, WN_E_CORRUPT, "%s/catalog.json: %s", x->mdir, why);
		if (rc)
			return rc;
	} else if (x->have_cj && x->cj.have_options) {
		/* written before profiles */
		for (int k = 0; k < WN_NBUILTIN_KINDS; k++) {
			if (!*x->cj.options.id_field[k])
				return wn_seterr(x->c, WN_E_CORRUPT, "%s/catalog.json: options: no id field for %s", x->mdir,
					x->kinds.name[k]);
			wn_profile_from_catopts(&x->prof[k], &x->cj.options, k);
			x->have_prof[k] = 1;
		}
	} else if (!x->have_cj) {
		/* no catalog.json (a mirror without it): the defaults, stored */
		for (int k = 0; k < x->kinds.n; k++)
			x->have_prof[k] = 1;
	}
	char path[4400];
	struct stat st;
	snprintf(path, sizeof path, "%s/SHA256SUMS", x->mdir);
	x->digest = !stat(path, &st);
	return 0;
}

/* Every data file in the catalog's role folders must be listed: one that is not is the
 * unsealed file of an interrupted run (or does not belong here), whose committed length
 * only the old index knew. */
static int check_unlisted(rx *x)
{
	char path[4400];
	for (int r = 0; r < WN_NROLES; r++) {
		snprintf(path, sizeof path, "%s/%s", x->dir, wn_role_dir(r));
		DIR *d = opendir(path);
		if (!d)
			continue;
		struct dirent *de;
		int rc = 0;
		while (!rc && (de = readdir(d))) {
			char rel[300];
			int role, kind;
			uint32_t seq;
			snprintf(rel, sizeof rel, "%s/%s", wn_role_dir(r), de->d_name);
			if (parse_name(x, rel, &role, &kind, &seq))
				continue;
			size_t i = 0;
			while (i < x->nf && strcmp(x->f[i].rel, rel))
				i++;
			if (i == x->nf)
				rc = wn_seterr(x->c, WN_E_CORRUPT, "%s/%s is not in MANIFEST.json: an unsealed file of an interrupted "
					"ingest (whose committed length only the old index knew), or a file that does not belong "
					"here; finish the ingest, or move the file away", x->dir, rel);
		}
		closedir(d);
		if (rc)
			return rc;
	}
	return 0;
}

/* ---- the workers: frames decoded and their lines read ---- */

static void *worker_state(void *ud, int i)
{
	rworker *w = (rworker *)ud + i;
	return w->bad ? NULL : w;
}

/* Note the contributor pseudonym at s (32 hex digits and a quote) in t's list. */
static int note_who(rtask *t, const char *s, const char *end)
{
	if (end - s < 33 || s[32] != '"')
		return 0;
	for (int i = 0; i < 32; i++)
		if (wn_hexval(s[i]) < 0 || (s[i] >= 'A' && s[i] <= 'F'))
			return 0;
	for (size_t i = t->nwho; i-- > 0;)
		if (!memcmp(t->who[i], s, 32))
			return 0;
	if (WN_GROW(t->who, t->nwho, t->capwho, 4))
		return WN_E_NOMEM;
	memcpy(t->who[t->nwho], s, 32);
	t->who[t->nwho++][32] = 0;
	return 0;
}
#define CONTRIB_PRE "{\"contributor\":\""

/* Record i of t's frame has keys k: its entry, and its ISRC hashes. 0 or WN_E_NOMEM. */
static int take_keys(rtask *t, uint32_t i, const wn_keys *k)
{
	rkey *o = &t->k[i];
	o->gone = 0;
	o->hash = k->hash;
	o->check = k->check;
	memcpy(o->fp, k->fp, 16);
	o->n_isrc = (uint8_t)k->n_isrc;
	o->isrc_at = (uint32_t)t->nisrc;
	for (int s = 0; s < k->n_isrc; s++) {
		if (WN_GROW(t->isrc, t->nisrc, t->capisrc, 1024))
			return WN_E_NOMEM;
		t->isrc[t->nisrc++] = k->isrc_hash[s];
	}
	t->nrec = i + 1;
	return 0;
}

static int shard_lines(rtask *t, rworker *w, const char *p, const char *end)
{
	const rfile *f = t->f;
	for (uint32_t i = 0; p < end; i++) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		if (WN_GROW(t->k, i, t->capk, 1024))
			return WN_E_NOMEM;
		wn_jresult jr;
		wn_keys k;
		char why[200], idbuf[WN_ID_BUF];
		if (wn_is_forgotten_line(p, (size_t)(nl - p))) {
			t->k[i].gone = 1;
			t->nrec = i + 1;
			p = nl + 1;
			continue;
		}
		int rc = wn_json_record(w->json[f->kind], p, (size_t)(nl - p), &jr);
		if (rc == WN_E_NOMEM)
			return rc;
		if (rc)
			return wn_frame_damaged(t->ec, f->rel, &t->fi, "line %u is not a valid record: %s at byte %zu", i + 1, jr.err,
				jr.err_offset);
		if (!strncmp(p, CONTRIB_PRE, strlen(CONTRIB_PRE)) && (rc = note_who(t, p + strlen(CONTRIB_PRE), nl)))
			return rc;
		if (wn_record_keys(&jr, &t->x->prof[f->kind], &k, idbuf, why, sizeof why))
			return wn_frame_damaged(t->ec, f->rel, &t->fi, "line %u: %s", i + 1, why);
		if (take_keys(t, i, &k))
			return WN_E_NOMEM;
		p = nl + 1;
	}
	return 0;
}

static int ledger_lines(rtask *t, rworker *w, const char *p, const char *end)
{
	for (uint32_t i = 0; p < end; i++) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		if (WN_GROW(t->l, i, t->capl, 1024))
			return WN_E_NOMEM;
		wn_ledger_entry e;
		int rc = wn_ledger_decode(p, (size_t)(nl - p), WN_LEDGER_ALL, &e, &w->dec);
		if (rc == WN_E_NOMEM)
			return rc;
		if (rc)
			return wn_frame_damaged(t->ec, t->f->rel, &t->fi, "line %u is not a ledger entry", i + 1);
		lent *o = &t->l[i];
		/* an id whose first part is the contributor: ["<pseudonym>",...] */
		const wn_profile *pf = &t->x->prof[t->f->kind];
		if (pf->n_id > 1 && wn_profile_contributor_part(pf) == 0 && e.id_len > 2 && !memcmp(e.id, "[\"", 2) &&
		    (rc = note_who(t, e.id + 2, e.id + e.id_len)))
			return rc;
		wn_id_hash(e.id, e.id_len, &o->hash, &o->check);
		o->survivor = e.survivor;
		o->superseded = e.superseded;
		o->revision = (uint8_t)e.revision;
		memcpy(o->fp, e.fp, 16);
		t->nrec = i + 1;
		p = nl + 1;
	}
	return 0;
}

/* A contributions file's lines (FORMAT.md 15.7): each must read back as written; the
 * calling thread stores them (take_contribs), the contributor's pseudonym is noted. */
static int contrib_lines(rtask *t, rworker *w, const char *p, const char *end)
{
	wn_contrib *x = malloc(sizeof *x);
	if (!x)
		return WN_E_NOMEM;
	int rc = 0;
	for (uint32_t i = 0; p < end && !rc; i++) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		rc = wn_contrib_line_parse(p, (size_t)(nl - p), x, &w->dec);
		if (rc == WN_E_CORRUPT)
			rc = wn_frame_damaged(t->ec, t->f->rel, &t->fi, "line %u is not a contribution as winnow writes it", i + 1);
		if (!rc && strlen(x->who) == 32)
			rc = note_who(t, p + strlen(CONTRIB_PRE), nl);
		t->nrec = i + 1;
		p = nl + 1;
	}
	free(x);
	return rc;
}

static void run_frame(wn_task *task, void *state)
{
	rtask *t = (rtask *)task;
	rworker *w = state;
	t->nrec = 0;
	t->nisrc = 0;
	t->nwho = 0;
	t->ec->err[0] = 0;
	if (!w) {
		t->rc = WN_E_NOMEM;
		return;
	}
	if ((t->rc = wn_frame_load_fd(t->ec, t->fd, t->f->rel, &t->fi, &t->raw, &t->scratch)))
		return;
	const char *p = t->raw.p, *end = p + t->raw.len;
	if (p == end || end[-1] != '\n') {
		t->rc = wn_frame_damaged(t->ec, t->f->rel, &t->fi, "does not end with a line end");
		return;
	}
	if (t->f->role == WN_ROLE_SHARD)
		t->rc = shard_lines(t, w, p, end);
	else if (t->f->role == WN_ROLE_LEDGER)
		t->rc = ledger_lines(t, w, p, end);
	else if (t->f->role == WN_ROLE_CONTRIB)
		t->rc = contrib_lines(t, w, p, end);
	else
		for (const char *l = p; !t->rc && (p = memchr(p, '\n', (size_t)(end - p))); l = ++p) {
			t->nrec++;
			/* a run's contributor, after "input" */
			wn_reject_entry e;
			if (memmem(l, (size_t)(p - l), ",\"contributor\":\"", 16) && !wn_reject_decode(l, (size_t)(p - l), &e, &w->dec) &&
			    e.contributor)
				t->rc = note_who(t, e.contributor, e.contributor + e.contributor_len + 1);
		}
}

static int workers_start(rx *x)
{
	x->nw = x->o->threads > 0 ? x->o->threads : wn_ncores();
	if (x->nw > 64)
		x->nw = 64;
	x->nt = 2 * x->nw + 2;
	x->ws = calloc((size_t)x->nw, sizeof *x->ws);
	x->t = calloc((size_t)x->nt, sizeof *x->t);
	if (!x->ws || !x->t)
		return WN_E_NOMEM;
	for (int i = 0; i < x->nw; i++)
		for (int k = 0; k < x->kinds.n; k++) {
			rworker *w = &x->ws[i];
			int rc = (w->json[k] = wn_json_new()) ? wn_record_parser(w->json[k], &x->prof[k], WN_RECORD_FP) : WN_E_NOMEM;
			if (rc)
				return rc == WN_E_NOMEM ? rc : wn_seterr(x->c, rc, "catalog.json: profiles: a field path winnow refuses");
		}
	for (int i = 0; i < x->nt; i++) {
		x->t[i].task.run = run_frame;
		x->t[i].x = x;
		if (!(x->t[i].ec = calloc(1, sizeof *x->t[i].ec)))
			return WN_E_NOMEM;
		x->t[i].ec->dir = x->c->dir;
	}
	wn_pool_opts po = { .threads = x->nw, .name = "winnow-reindex", .worker_new = worker_state, .ud = x->ws };
	return wn_pool_new(&po, &x->pool);
}

static void workers_end(rx *x)
{
	wn_pool_free(x->pool);
	for (int i = 0; x->ws && i < x->nw; i++) {
		for (int k = 0; k < WN_KINDS_MAX; k++)
			wn_json_free(x->ws[i].json[k]);
		wn_buf_free(&x->ws[i].dec);
	}
	for (int i = 0; x->t && i < x->nt; i++) {
		wn_buf_free(&x->t[i].raw);
		wn_buf_free(&x->t[i].scratch);
		free(x->t[i].k);
		free(x->t[i].isrc);
		free(x->t[i].l);
		free(x->t[i].who);
		free(x->t[i].ec);
	}
	free(x->ws);
	free(x->t);
	free(x->holds);
	x->holds = NULL;
	x->nholds = x->capholds = 0;
}

/* ---- checkpoints: the memtable as runs, and the rows, in one transaction ---- */

static int put_rows(rx *x, MDB_txn *txn)
{
	wn_catalog *c = x->c;
	int rc = 0;
	for (size_t i = 0; i < x->nfr && !rc; i++) {
		uint8_t kb[8], vb[WN_FRAMEINFO_BYTES];
		wn_put_be64(kb, x->fr[i].first_ord + x->fr[i].nrec - 1);
		wn_frameinfo_pack(vb, &x->fr[i]);
		MDB_val k = { 8, kb }, v = { sizeof vb, vb };
		if ((rc = mdb_put(txn, c->db_frames[x->kind], &k, &v, MDB_APPEND)))
			rc = wn_lmdb_err(c, rc, "frames");
	}
	for (size_t i = 0; i < x->nrows && !rc; i++) {
		char rel[128], key[200];
		uint8_t vb[WN_FILEINFO_BYTES];
		const wn_fileinfo *f = &x->rows[i];
		wn_file_relpath(rel, sizeof rel, f->role, wn_catalog_kind_name(c, f->kind), f->seq);
		wn_fileinfo_pack(vb, f, rel);
		MDB_val k = { strlen(rel), rel }, v = { sizeof vb, vb };
		if ((rc = mdb_put(txn, c->db_files, &k, &v, 0)))
			rc = wn_lmdb_err(c, rc, "files");
		snprintf(key, sizeof key, "sha256:%s", rel);
		if (!rc && f->has_sha256)
			rc = wn_meta_put(c, txn, key, f->sha256, 32);
	}
	for (size_t i = 0; i < x->nsup && !rc; i++) {
		uint8_t kb[8], vb[8];
		wn_put_be64(kb, x->sup[i].old);
		wn_put_be64(vb, x->sup[i].by);
		MDB_val k = { 8, kb }, v = { 8, vb };
		if ((rc = mdb_put(txn, c->db_super[x->kind], &k, &v, 0)))
			rc = wn_lmdb_err(c, rc, "superseded");
	}
	x->nfr = x->nrows = x->nsup = 0;
	return rc;
}

static int checkpoint(rx *x)
{
	wn_catalog *c = x->c;
	MDB_txn *txn;
	int rc = mdb_txn_begin(c->env, NULL, 0, &txn);
	if (rc)
		return wn_lmdb_err(c, rc, "begin");
	uint8_t fb[8];
	char key[WN_KIND_NAME_MAX + 16];
	wn_put_be64(fb, x->forgotten);
	snprintf(key, sizeof key, "forgotten.%s", wn_catalog_kind_name(c, x->kind));
	for (size_t i = 0; i < x->nholds && !rc; i++)
		rc = wn_holds_add(c, txn, x->kind, x->holds[i].who, x->holds[i].role, x->holds[i].seq);
	x->nholds = 0;
	if (rc || (rc = wn_lsm_flush(x->lsm, txn)) || (rc = put_rows(x, txn)) ||
	    (rc = wn_meta_put_kstate(c, txn, x->kind, &c->ks[x->kind])) ||
	    (x->forgotten && (rc = wn_meta_put(c, txn, key, fb, 8)))) {
		mdb_txn_abort(txn);
		return rc;
	}
	if ((rc = mdb_txn_commit(txn)))
		return wn_lmdb_err(c, rc, "commit");
	wn_lsm_committed(x->lsm);
	mdb_txn_reset(x->rtxn);
	wn_index_release_pages(c);
	rc = wn_lsm_compact(x->lsm);
	int rr = mdb_txn_renew(x->rtxn);
	x->since = 0;
	return rc ? rc : rr ? wn_lmdb_err(c, rr, "renew") : 0;
}

/* ---- taking the frames in order ---- */

static int take_shard(rx *x, const rtask *t)
{
	wn_kstate *ks = &x->c->ks[x->kind];
	int rc = 0;
	for (uint32_t i = 0; i < t->nrec && !rc; i++) {
		const rkey *k = &t->k[i];
		if (i + 16 < t->nrec)
			wn_lsm_prefetch(x->lsm, t->k[i + 16].hash);
		uint64_t ord = x->next_ord++;
		if (k->gone) {
			x->forgotten++;
			continue;
		}
		wn_idrec old, e = { .hash = k->hash, .check = k->check, .ord = ord };
		memcpy(e.fp, k->fp, 16);
		int known = wn_lsm_find_id(x->lsm, x->rtxn, k->hash, k->check, &old);
		if (known < 0)
			return known;
		if (known) {
			/* a later version of the id: it replaced the earlier one */
			if ((rc = WN_GROW(x->sup, x->nsup, x->capsup, 1024)))
				return rc;
			x->sup[x->nsup++] = (rsup){ old.ord, ord };
			ks->superseded++;
			e.flags = WN_IDF_REVISED;
		}
		if ((rc = wn_lsm_put_id(x->lsm, &e, known)) || (rc = wn_lsm_put_pair(x->lsm, WN_MAP_FP, wn_fp_key(k->fp), ord)))
			return rc;
		for (int s = 0; s < k->n_isrc && !rc; s++)
			rc = wn_lsm_put_pair(x->lsm, WN_MAP_ISRC, t->isrc[k->isrc_at + s], ord);
		if (rc)
			return rc;
		if (++x->since >= x->ckpt_every)
			rc = checkpoint(x);
	}
	return rc;
}

static int take_ledger(rx *x, const rtask *t)
{
	wn_kstate *ks = &x->c->ks[x->kind];
	int rc = 0;
	for (uint32_t i = 0; i < t->nrec && !rc; i++) {
		const lent *e = &t->l[i];
		uint64_t n = x->entries[WN_ROLE_LEDGER] + i;
		if (e->survivor >= x->next_ord || (e->superseded >= 0 && (uint64_t)e->superseded >= x->next_ord))
			return wn_frame_damaged(x->c, t->f->rel, &t->fi, "entry %" PRIu64 " names ordinal %" PRIu64
				", which no shard holds", n, e->superseded >= 0 ? (uint64_t)e->superseded : e->survivor);
		if (!e->revision) {
			ks->duplicates++;
			continue;
		}
		ks->revisions++;
		if (e->superseded >= 0) {
			x->winners++;
			continue;
		}
		/* a revision that lost: its fingerprint is the id's too */
		wn_idrec old;
		int found = wn_lsm_find_id(x->lsm, x->rtxn, e->hash, e->check, &old);
		if (found < 0)
			return found;
		if (!found && x->kind_absent)
			continue;   /* its versions are in shards that are not there */
		if (!found)
			return wn_frame_damaged(x->c, t->f->rel, &t->fi, "entry %" PRIu64 ": its id is in no shard", n);
		if (!(old.flags & WN_IDF_REVISED)) {
			old.flags |= WN_IDF_REVISED;
			if ((rc = wn_lsm_put_id(x->lsm, &old, 1)))
				return rc;
		}
		rc = wn_lsm_put_pair(x->lsm, WN_MAP_FP, wn_fp_key(e->fp), e->survivor);
	}
	return rc;
}

/* The contributions of t's frame (read by contrib_lines) into meta contrib.<kind>.<N>,
 * in a transaction of their own (the index is not synced before the swap). Numbers go
 * up across the files of the kind, each once. */
static int take_contribs(rx *x, const rtask *t)
{
	wn_contrib *c1 = malloc(sizeof *c1);
	wn_buf scratch = { 0 };
	MDB_txn *txn = NULL;
	int rc = c1 ? mdb_txn_begin(x->c->env, NULL, 0, &txn) : WN_E_NOMEM;
	if (rc > 0) {
		txn = NULL;
		rc = wn_lmdb_err(x->c, rc, "begin");
	}
	const char *p = t->raw.p, *end = p + t->raw.len;
	for (uint32_t i = 0; !rc && p < end; i++) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		if (!(rc = wn_contrib_line_parse(p, (size_t)(nl - p), c1, &scratch))) {
			if (c1->no < x->contrib_next)
				rc = wn_frame_damaged(x->c, t->f->rel, &t->fi, "line %u: contribution %" PRIu32 " after contribution %"
					PRIu32, i + 1, c1->no, x->contrib_next - 1);
			else if (!(rc = wn_contrib_put(x->c, txn, x->kind, c1))) {
				x->contrib_next = c1->no + 1;
				x->contrib_plays += c1->plays;
				x->res->contributions++;
			}
		}
		p = nl + 1;
	}
	if (txn && rc)
		mdb_txn_abort(txn);
	else if (txn && (rc = mdb_txn_commit(txn)))
		rc = wn_lmdb_err(x->c, rc, "commit");
	wn_buf_free(&scratch);
	free(c1);
	return rc;
}

/* ---- one file ---- */

static int open_file(rx *x, rfile *f, int *fdo, uint64_t *size)
{
	char path[4400];
	snprintf(path, sizeof path, "%s/%s", x->dir, f->rel);
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	struct stat st;
	if (fd < 0) {
		int e = errno;
		if (e == ENOENT)
			return WN_E_MISSING;
		return wn_seterr(x->c, e == ELOOP ? WN_E_CORRUPT : e, "%s: %s", path,
			e == ELOOP ? "a symbolic link: refused" : strerror(e));
	}
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		close(fd);
		return wn_seterr(x->c, WN_E_CORRUPT, "%s: not a regular file", path);
	}
	*fdo = fd;
	*size = (uint64_t)st.st_size;
	return 0;
}

/* The file is MANIFEST.json's: size, hashes, seek table. */
static int prove_file(rx *x, rfile *f, int fd, uint64_t size, wn_fileinfo *fi, wn_seekent **ents, uint64_t *tbytes)
{
	char hx[65], hy[65], why[200];
	uint64_t got;
	const wn_mfile *m = &f->m;
	if (size != m->bytes)
		return wn_seterr(x->c, WN_E_CORRUPT, "%s/%s: %" PRIu64 " bytes, MANIFEST.json says %" PRIu64 ": refused",
			x->dir, f->rel, size, m->bytes);
	int rc = wn_hasher_fd(x->h, fd, fi->xxh128, x->digest ? fi->sha256 : NULL, &got, NULL, NULL);
	if (rc)
		return wn_seterr(x->c, rc, "%s/%s: %s", x->dir, f->rel, rc > 0 ? strerror(rc) : wn_strerror(rc));
	x->res->bytes += got;
	if (memcmp(fi->xxh128, m->xxh128, 16)) {
		wn_hex(hx, fi->xxh128, 16);
		wn_hex(hy, m->xxh128, 16);
		return wn_seterr(x->c, WN_E_CORRUPT, "%s/%s: XXH128 %s, MANIFEST.json says %s: the file is damaged; refused",
			x->dir, f->rel, hx, hy);
	}
	if (x->digest && m->have[WN_MF_SHA256] && memcmp(fi->sha256, m->sha256, 32)) {
		wn_hex(hx, fi->sha256, 32);
		return wn_seterr(x->c, WN_E_CORRUPT, "%s/%s: SHA-256 %s is not MANIFEST.json's: refused", x->dir, f->rel, hx);
	}
	fi->has_sha256 = (uint8_t)x->digest;
	uint32_t n;
	if ((rc = wn_seektable_read(fd, size, ents, &n, tbytes, why, sizeof why)))
		return rc == WN_E_CORRUPT ? wn_seterr(x->c, rc, "%s/%s: %s", x->dir, f->rel, why)
		                          : wn_seterr(x->c, rc, "%s/%s: %s", x->dir, f->rel, strerror(rc));
	if (n != m->frames)
		return wn_seterr(x->c, WN_E_CORRUPT, "%s/%s: %u frames, MANIFEST.json says %" PRIu64, x->dir, f->rel, n, m->frames);
	fi->nframes = n;
	return 0;
}

/* What the files row says of a file that is not there: MANIFEST.json's word. */
static int absent_file(rx *x, rfile *f, wn_fileinfo *fi)
{
	const wn_mfile *m = &f->m;
	/* a mirror may leave out the ledger and rejects (queries do not read them); a shard
	 * it leaves out only with ignore_missing */
	if (!x->o->ignore_missing && f->role == WN_ROLE_SHARD) {
		if (m->records)
			return wn_seterr(x->c, WN_E_MISSING, "%s/%s is missing: it holds %s records %" PRIu64 "-%" PRIu64
				" (use --ignore-missing to index the files that are there)", x->mdir, f->rel, wn_catalog_kind_name(x->c, f->kind),
				m->first_ordinal, m->last_ordinal);
		return wn_seterr(x->c, WN_E_MISSING, "%s/%s is missing (use --ignore-missing to index the files that are there)",
			x->mdir, f->rel);
	}
	if (m->bytes < wn_seektable_size((uint32_t)m->frames) || m->frames > UINT32_MAX)
		return wn_seterr(x->c, WN_E_CORRUPT, "%s/MANIFEST.json: %s: its sizes do not add up", x->mdir, f->rel);
	if (x->digest && !m->have[WN_MF_SHA256])
		return wn_seterr(x->c, WN_E_CORRUPT, "%s/MANIFEST.json: %s is missing and its SHA-256 is not listed", x->mdir,
			f->rel);
	f->absent = 1;
	x->nabsent++;
	x->res->files_absent++;
	fi->size = m->bytes;
	fi->data_len = m->bytes - wn_seektable_size((uint32_t)m->frames);
	fi->nframes = (uint32_t)m->frames;
	fi->nrecords = m->records;
	fi->raw_bytes = m->raw_bytes;
	memcpy(fi->xxh128, m->xxh128, 16);
	fi->has_sha256 = (uint8_t)x->digest;
	memcpy(fi->sha256, m->sha256, 32);
	if (f->role == WN_ROLE_SHARD) {
		x->kind_absent++;
		x->res->records_absent += m->records;
		x->next_ord += m->records;
		if (m->records)
			note(x, "%s is missing: %s records %" PRIu64 "-%" PRIu64 " are not in the catalog", f->rel,
				wn_catalog_kind_name(x->c, f->kind), m->first_ordinal, m->last_ordinal);
		else
			note(x, "%s is missing", f->rel);
	} else {
		note(x, "%s is missing: its %" PRIu64 " entries are counted as MANIFEST.json says", f->rel, m->records);
	}
	return 0;
}

/* Frame t of file f, decoded and keyed (or fed), taken: its row, records and entries. */
static int take_frame(rx *x, const rfile *f, const rtask *t, wn_fileinfo *fi)
{
	int rc = 0;
	fi->nrecords += t->nrec;
	fi->raw_bytes += t->fi.dsize;
	for (size_t i = 0; i < t->nwho && !rc; i++) {
		struct rhold *h = x->nholds ? &x->holds[x->nholds - 1] : NULL;
		if (h && h->role == f->role && h->seq == f->seq && !strcmp(h->who, t->who[i]))
			continue;
		if ((rc = WN_GROW(x->holds, x->nholds, x->capholds, 64)))
			return rc;
		h = &x->holds[x->nholds++];
		memcpy(h->who, t->who[i], 33);
		h->role = (uint8_t)f->role;
		h->seq = f->seq;
	}
	if (f->role == WN_ROLE_SHARD) {
		wn_frameinfo r = t->fi;
		r.first_ord = x->next_ord;
		r.nrec = t->nrec;
		if ((rc = WN_GROW(x->fr, x->nfr, x->capfr, 256)))
			return rc;
		x->fr[x->nfr++] = r;
		x->res->records += t->nrec;
		return take_shard(x, t);
	}
	if (f->role != WN_ROLE_CONTRIB)
		x->res->entries += t->nrec;
	if (f->role == WN_ROLE_LEDGER)
		rc = take_ledger(x, t);
	else if (f->role == WN_ROLE_CONTRIB)
		rc = take_contribs(x, t);
	else
		x->c->ks[x->kind].rejected += t->nrec;
	x->entries[f->role] += t->nrec;
	return rc;
}

/* The frames of shard file f with the keys the feed gives: no frame is decoded (the
 * file was proven whole against MANIFEST.json), the feed says what each holds. */
static int take_fed(rx *x, const rfile *f, const wn_seekent *ents, wn_fileinfo *fi)
{
	rtask *t = &x->t[0];
	uint64_t off = 0;
	int rc = 0;
	char why[200];
	for (uint32_t n = 0; n < fi->nframes && !rc; n++) {
		t->f = f;
		t->fi = (wn_frameinfo){ .shard_seq = f->seq, .frame_no = n, .offset = off, .csize = ents[n].csize,
			.dsize = ents[n].dsize, .checksum = ents[n].checksum };
		off += ents[n].csize;
		t->nrec = 0;
		t->nisrc = 0;
		t->nwho = 0;
		uint32_t nrec;
		*why = 0;
		if ((rc = x->feed->frame_records(x->feed->ud, f->seq, n, &nrec)))
			return wn_seterr(x->c, rc, "%s/%s: frame %u: its records are not known", x->dir, f->rel, n);
		if (WN_GROW(t->k, nrec ? nrec - 1 : 0, t->capk, 1024))
			return WN_E_NOMEM;
		for (uint32_t i = 0; i < nrec; i++) {
			wn_keys k;
			if ((rc = x->feed->next_keys(x->feed->ud, &k, why, sizeof why)))
				return wn_seterr(x->c, rc, "%s/%s: frame %u line %u: %s", x->dir, f->rel, n, i + 1,
					*why ? why : wn_strerror(rc));
			if (take_keys(t, i, &k))
				return WN_E_NOMEM;
		}
		if (cancelled(x))
			return wn_seterr(x->c, WN_E_INTERRUPTED, "interrupted: the catalog keeps the index it had");
		rc = take_frame(x, f, t, fi);
	}
	return rc;
}

/* The frames of file f (open as fd, its seek table ents), decoded on the pool a ring
 * of them ahead, taken in order: their rows, records and entries. */
static int take_frames(rx *x, const rfile *f, int fd, const wn_seekent *ents, wn_fileinfo *fi)
{
	if (f->role == WN_ROLE_SHARD && x->fed)
		return take_fed(x, f, ents, fi);
	uint64_t off = 0;
	uint32_t next = 0, done = 0, nt = (uint32_t)x->nt;
	int rc = 0;
	while (!rc && done < fi->nframes) {
		for (; next < fi->nframes && next - done < nt; next++) {
			rtask *t = &x->t[next % nt];
			t->f = f;
			t->fd = fd;
			t->fi = (wn_frameinfo){ .shard_seq = f->seq, .frame_no = next, .offset = off, .csize = ents[next].csize,
				.dsize = ents[next].dsize, .checksum = ents[next].checksum };
			off += ents[next].csize;
			wn_pool_submit(x->pool, &t->task);
		}
		rtask *t = &x->t[done++ % nt];
		wn_pool_wait(x->pool, &t->task);
		if (t->rc) {
			rc = wn_seterr(x->c, t->rc, "%s", *t->ec->err ? t->ec->err : wn_strerror(t->rc));
			break;
		}
		if (cancelled(x)) {
			rc = wn_seterr(x->c, WN_E_INTERRUPTED, "interrupted: the catalog keeps the index it had");
			break;
		}
		rc = take_frame(x, f, t, fi);
	}
	/* the tasks still running read fd: let them end first */
	while (done < next)
		wn_pool_wait(x->pool, &x->t[done++ % nt].task);
	return rc;
}

static int index_file(rx *x, rfile *f)
{
	wn_fileinfo fi;
	memset(&fi, 0, sizeof fi);
	fi.role = (uint8_t)f->role;
	fi.kind = (uint8_t)f->kind;
	fi.sealed = 1;
	fi.seq = f->seq;
	fi.first_ord = f->role == WN_ROLE_SHARD ? x->next_ord : x->entries[f->role];
	if (f->role == WN_ROLE_SHARD && f->m.records && f->m.first_ordinal != x->next_ord)
		return wn_seterr(x->c, WN_E_CORRUPT, "%s/MANIFEST.json: %s starts at ordinal %" PRIu64 ", not %" PRIu64, x->mdir,
			f->rel, f->m.first_ordinal, x->next_ord);
	int fd = -1;
	uint64_t size = 0;
	int rc = open_file(x, f, &fd, &size);
	wn_seekent *ents = NULL;
	uint64_t tbytes = 0;
	if (rc == WN_E_MISSING)
		rc = absent_file(x, f, &fi);
	else if (!rc && !(rc = prove_file(x, f, fd, size, &fi, &ents, &tbytes))) {
		fi.size = size;
		fi.data_len = size - tbytes;
		x->res->files++;
		rc = take_frames(x, f, fd, ents, &fi);
		if (!rc && (fi.nrecords != f->m.records || fi.raw_bytes != f->m.raw_bytes))
			rc = wn_seterr(x->c, WN_E_CORRUPT, "%s/%s: %" PRIu64 " lines of %" PRIu64 " bytes, MANIFEST.json says %" PRIu64
				" of %" PRIu64, x->dir, f->rel, fi.nrecords, fi.raw_bytes, f->m.records, f->m.raw_bytes);
	}
	free(ents);
	if (fd >= 0)
		close(fd);
	if (rc)
		return rc;
	if (f->absent && f->role != WN_ROLE_SHARD)
		x->entries[f->role] += f->m.records;
	if (WN_GROW(x->rows, x->nrows, x->caprows, 16))
		return WN_E_NOMEM;
	x->rows[x->nrows++] = fi;
	return 0;
}

/* ---- one kind ---- */

/* After the kind's files: the number its next contribution gets, and what its files do
 * not hold. Every record a run decided (kept, duplicate, revision) is a play of one of
 * its contributions, so the plays they count fall short of the kind's decided records
 * only when contributions are not in the files: runs written before contributions had
 * files (FORMAT.md 15.7), or a file a mirror left out. Those cannot be rebuilt: said. */
static int contribs_done(rx *x, int kind)
{
	wn_catalog *c = x->c;
	const wn_kstate *ks = &c->ks[kind];
	if (wn_profile_contributor_part(&x->prof[kind]) < 0)
		return 0;
	uint64_t decided = ks->kept + ks->duplicates + ks->revisions;
	x->res->contrib_plays_lost += decided > x->contrib_plays ? decided - x->contrib_plays : 0;
	if (decided > x->contrib_plays)
		note(x, "%s: %" PRIu64 " of the %" PRIu64 " plays have no contribution in the data files (runs written before "
			"contributions files, or files that are not there): their contributions are lost, `winnow contributors` "
			"leaves them out", wn_catalog_kind_name(c, kind), decided - x->contrib_plays, decided);
	else if (decided < x->contrib_plays)
		return wn_seterr(c, WN_E_CORRUPT, "%s: the %s contributions count %" PRIu64 " plays, the data files hold %" PRIu64
			" decided records", x->dir, wn_catalog_kind_name(c, kind), x->contrib_plays, decided);
	if (x->contrib_next == 1)
		return 0;
	MDB_txn *txn;
	char key[WN_KIND_NAME_MAX + 40];
	uint8_t nb[4];
	snprintf(key, sizeof key, "contrib_next.%s", wn_catalog_kind_name(c, kind));
	wn_put_be32(nb, x->contrib_next);
	int rc = mdb_txn_begin(c->env, NULL, 0, &txn);
	if (rc)
		return wn_lmdb_err(c, rc, "begin");
	if ((rc = wn_meta_put(c, txn, key, nb, 4))) {
		mdb_txn_abort(txn);
		return rc;
	}
	return (rc = mdb_txn_commit(txn)) ? wn_lmdb_err(c, rc, "commit") : 0;
}

static int index_kind(rx *x, int kind)
{
	wn_catalog *c = x->c;
	wn_kstate *ks = &c->ks[kind];
	uint64_t total = 0;
	x->kind = kind;
	x->fed = x->feed && wn_profile_contributor_part(&x->prof[kind]) < 0;
	x->next_ord = x->since = x->winners = x->forgotten = 0;
	x->contrib_next = 1;
	x->contrib_plays = 0;
	x->kind_absent = 0;
	memset(x->entries, 0, sizeof x->entries);
	for (size_t i = 0; i < x->nf; i++)
		if (x->f[i].kind == kind && x->f[i].role == WN_ROLE_SHARD)
			total += x->f[i].m.records;
	int rc = wn_lsm_open(c, kind, total < x->ckpt_every ? total : x->ckpt_every, total, x->o->memory, &x->lsm);
	if (rc)
		return rc;
	if ((rc = mdb_txn_begin(c->env, NULL, MDB_RDONLY, &x->rtxn))) {
		x->rtxn = NULL;
		return wn_lmdb_err(c, rc, "begin");
	}
	for (size_t i = 0; i < x->nf && !rc; i++)
		if (x->f[i].kind == kind)
			rc = index_file(x, &x->f[i]);
	if (rc)
		return rc;
	/* the counters: as the files say, or, when some are absent, as MANIFEST.json says */
	ks->next_ord = x->next_ord;
	ks->kept = ks->next_ord - ks->superseded - x->forgotten;
	ks->forgotten = x->forgotten;
	ks->ledger_entries = x->entries[WN_ROLE_LEDGER];
	ks->reject_entries = x->entries[WN_ROLE_REJECT];
	ks->read = ks->kept + ks->duplicates + ks->revisions + ks->rejected;
	int all_there = 1;
	for (size_t i = 0; i < x->nf; i++)
		if (x->f[i].kind == kind && x->f[i].absent && x->f[i].role != WN_ROLE_REJECT)
			all_there = 0;
	if (all_there && x->winners != ks->superseded)
		return wn_seterr(c, WN_E_CORRUPT, "%s: the %s ledger records %" PRIu64 " revisions that replaced a version, the "
			"shards hold %" PRIu64 " replaced versions", x->dir, wn_catalog_kind_name(c, kind), x->winners, ks->superseded);
	if (x->mj.have_counts) {
		uint64_t have[WN_NCOUNTS];
		const uint64_t *want = x->mj.counts[kind];
		wn_counts_of(ks, have);
		if (x->nabsent) {
			ks->read = want[WN_C_read];
			ks->kept = want[WN_C_kept];
			ks->duplicates = want[WN_C_duplicates];
			ks->revisions = want[WN_C_revisions];
			ks->rejected = want[WN_C_rejected];
			ks->superseded = want[WN_C_superseded];
		} else {
			for (int i = 0; i < WN_NCOUNTS; i++)
				if (have[i] != want[i])
					return wn_seterr(c, WN_E_CORRUPT, "%s: the data files hold %" PRIu64 " %s %s, MANIFEST.json says %"
						PRIu64, x->dir, have[i], wn_catalog_kind_name(c, kind), wn_count_name(i), want[i]);
		}
	}
	rc = checkpoint(x);
	mdb_txn_abort(x->rtxn);
	x->rtxn = NULL;
	wn_lsm_close(x->lsm);
	x->lsm = NULL;
	if (!rc)
		rc = contribs_done(x, kind);
	return rc;
}

/* ---- the folders: lock, the new index, the swap ---- */

/* Remove an index folder (what LMDB and the writer lock leave in it). */
static int remove_index(const char *path)
{
	static const char *const names[] = { "data.mdb", "lock.mdb", "writer.lock" };
	char p[4400];
	for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
		snprintf(p, sizeof p, "%s/%s", path, names[i]);
		if (unlink(p) && errno != ENOENT)
			return errno;
	}
	return rmdir(path) && errno != ENOENT ? errno : 0;
}

/* The kinds of the manifest, in its order, into the new index (which has the built-in
 * ones), so that their numbers, and the order stats and the manifests list them in, are
 * the catalog's. */
static int put_kinds(rx *x)
{
	wn_catalog *c = x->c;
	MDB_txn *txn;
	if (x->kinds.n <= c->kinds.n)
		return 0;
	int rc = mdb_txn_begin(c->env, NULL, 0, &txn), nk = c->kinds.n;
	if (rc)
		return wn_lmdb_err(c, rc, "begin");
	for (int k = c->kinds.n; k < x->kinds.n && rc >= 0; k++)
		if ((rc = wn_catalog_kind(c, txn, x->kinds.name[k], 1)) >= 0 && rc != k)
			rc = wn_seterr(c, WN_E_CORRUPT, "%s: kind %s numbered %d, not %d", x->mdir, x->kinds.name[k], rc, k);
	if (rc < 0) {
		mdb_txn_abort(txn);
		c->kinds.n = nk;
		return rc;
	}
	if ((rc = mdb_txn_commit(txn))) {
		c->kinds.n = nk;
		return wn_lmdb_err(c, rc, "commit");
	}
	return 0;
}

struct tput {
	wn_catalog *c;
	MDB_txn *txn;
};

static int put_tombstone(void *ud, const char *who, const char *date)
{
	struct tput *t = ud;
	char key[64];
	snprintf(key, sizeof key, "%s%s", WN_TOMBSTONE_PREFIX, who);
	return wn_meta_put(t->c, t->txn, key, date, 10);
}

/* The metadata of the whole catalog, in the last transaction. */
static int put_meta(rx *x)
{
	wn_catalog *c = x->c;
	MDB_txn *txn;
	int rc = mdb_txn_begin(c->env, NULL, 0, &txn);
	if (rc)
		return wn_lmdb_err(c, rc, "begin");
	uint64_t gen = x->mj.have_generation ? x->mj.generation : x->cj.generation;
	if (gen) {
		uint8_t g[8];
		wn_put_be64(g, gen);
		rc = wn_meta_put(c, txn, "generation", g, 8);
		c->generation = gen;
	}
	for (int k = 0; k < x->kinds.n && !rc; k++)
		if (x->have_prof[k])
			rc = wn_catalog_put_profile(c, txn, k, &x->prof[k]);
	if (!rc && x->digest) {
		rc = wn_meta_put(c, txn, "digest", "sha256", 6);
		c->digest = 1;
	}
	if (!rc && x->have_cj && x->cj.tombstones) {
		struct tput t = { c, txn };
		rc = wn_tombstones_decode(x->cj.tombstones, x->cj.tombstones_len, put_tombstone, &t);
		if (rc == -1)
			rc = wn_seterr(c, WN_E_CORRUPT, "%s/catalog.json: \"tombstones\" is not an object of pseudonyms and dates",
				x->mdir);
	}
	if (rc) {
		mdb_txn_abort(txn);
		return rc;
	}
	rc = mdb_txn_commit(txn);
	return rc ? wn_lmdb_err(c, rc, "commit") : 0;
}

/* Make the new index durable and put it in the place of the old one. */
static int swap_in(rx *x)
{
	char nw[4300], old[4300], p[4400];
	wn_catalog *c = x->c;
	snprintf(nw, sizeof nw, "%s/%s", x->dir, NEW_INDEX);
	snprintf(old, sizeof old, "%s/index", x->dir);
	snprintf(p, sizeof p, "%s/writer.lock", nw);
	int fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		return wn_seterr(c, errno, "%s: %s", p, strerror(errno));
	close(fd);
	int rc = mdb_env_sync(c->env, 1);
	if (rc)
		return wn_lmdb_err(c, rc, "sync");
	if ((rc = wn_fsync_in(c->dirfd, NEW_INDEX)))
		return wn_seterr(c, wn_open_code(rc), "%s: %s", nw, wn_open_why(rc));
	if (renameat2(AT_FDCWD, nw, AT_FDCWD, old, RENAME_EXCHANGE))
		return wn_seterr(c, errno, "%s: cannot put the new index in place: %s", old, strerror(errno));
	if ((rc = wn_fsync_in(c->dirfd, NULL)))
		return wn_seterr(c, wn_open_code(rc), "%s: %s", x->dir, wn_open_why(rc));
	snprintf(c->index, sizeof c->index, "index");
	c->map_searched = 0;
	/* the old index is now at index.reindex/ */
	if ((rc = remove_index(nw)))
		return wn_seterr(c, rc, "%s: cannot remove the old index: %s", nw, strerror(rc));
	return 0;
}

/* --from: the mirror's files into the catalog (hard links, or copies). */
static int copy_file(rx *x, const char *src, const char *dst)
{
	char tmp[4500];
	snprintf(tmp, sizeof tmp, "%s.tmp", dst);
	int in = open(src, O_RDONLY | O_CLOEXEC | O_NOFOLLOW), out = -1, rc = 0;
	if (in < 0)
		return wn_seterr(x->c, errno, "%s: %s", src, strerror(errno));
	unlink(tmp);
	if ((out = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644)) < 0) {
		rc = wn_seterr(x->c, errno, "%s: %s", tmp, strerror(errno));
		close(in);
		return rc;
	}
	char *buf = malloc(1 << 20);
	ssize_t n = 0;
	while (buf && !rc && (n = read(in, buf, 1 << 20)) > 0)
		rc = wn_write_all(out, buf, (size_t)n);
	if (!buf)
		rc = WN_E_NOMEM;
	else if (n < 0)
		rc = errno;
	if (!rc && fsync(out))
		rc = errno;
	free(buf);
	close(in);
	if (close(out) && !rc)
		rc = errno;
	if (!rc && rename(tmp, dst))
		rc = errno;
	if (rc) {
		unlink(tmp);
		return rc < 0 ? rc : wn_seterr(x->c, rc, "%s: %s", dst, strerror(rc));
	}
	return 0;
}

static int bring_files(rx *x)
{
	char src[4400], dst[4400];
	struct stat ss, ds;
	if (!stat(x->mdir, &ss) && !stat(x->dir, &ds) && ss.st_dev == ds.st_dev && ss.st_ino == ds.st_ino)
		return 0;   /* the mirror is the catalog's own folder */
	for (size_t i = 0; i < x->nf; i++) {
		snprintf(src, sizeof src, "%s/%s", x->mdir, x->f[i].rel);
		snprintf(dst, sizeof dst, "%s/%s", x->dir, x->f[i].rel);
		if (lstat(src, &ss))
			continue;   /* absent: indexed as such, or refused */
		if (!lstat(dst, &ds) && ds.st_dev == ss.st_dev && ds.st_ino == ss.st_ino)
			continue;   /* done by a run before */
		if (!S_ISREG(ss.st_mode))
			return wn_seterr(x->c, WN_E_CORRUPT, "%s: not a regular file", src);
		unlink(dst);
		if (!link(src, dst))
			continue;
		int rc = copy_file(x, src, dst);
		if (rc)
			return rc;
	}
	for (int r = 0; r < WN_NROLES; r++) {
		snprintf(dst, sizeof dst, "%s/%s", x->dir, wn_role_dir(r));
		int e = wn_fsync_in(x->c->dirfd, wn_role_dir(r));
		if (e)
			return wn_seterr(x->c, wn_open_code(e), "%s: %s", dst, wn_open_why(e));
	}
	return 0;
}

static int reindex(rx *x)
{
	int rc = load_manifests(x);
	if (!rc && x->o->from)
		rc = bring_files(x);
	if (!rc)
		rc = check_unlisted(x);
	if (rc)
		return rc;
	x->ckpt_every = x->o->memory / 768;
	if (x->ckpt_every < 65536)
		x->ckpt_every = 65536;
	if (x->ckpt_every > (8u << 20))
		x->ckpt_every = 8u << 20;
	if (!(x->h = wn_hasher_new()))
		return WN_E_NOMEM;
	if ((rc = workers_start(x)))
		return rc;
	if ((rc = put_kinds(x)))
		return rc;
	for (int k = 0; k < x->c->kinds.n && !rc; k++)
		rc = index_kind(x, k);
	if (!rc)
		rc = put_meta(x);
	if (!rc)
		rc = swap_in(x);
	if (!rc)
		rc = wn_catalog_write_manifests(x->c);
	return rc;
}

static int reindex_run(const char *dir, const wn_reindex_opts *o, const wn_reindex_feed *feed, wn_reindex_result *res)
{
	wn_reindex_result dummy;
	wn_reindex_opts defaults;
	if (!res)
		res = &dummy;
	memset(res, 0, sizeof *res);
	if (!o) {
		wn_reindex_opts_init(&defaults);
		o = &defaults;
	}
	double t0 = wn_now();
	if (!dir || !*dir) {
		snprintf(res->err, sizeof res->err, "no catalog folder");
		return WN_E_USAGE;
	}
	rx x;
	memset(&x, 0, sizeof x);
	x.o = o;
	x.res = res;
	x.dir = dir;
	x.feed = feed;
	x.mdir = o->from ? o->from : dir;
	char p[4400];
	int rc = 0, lockfd = -1;
	/* nothing is made in a folder that is not a catalog or a mirror */
	struct stat st;
	snprintf(p, sizeof p, "%s/MANIFEST.json", x.mdir);
	if (stat(p, &st)) {
		snprintf(res->err, sizeof res->err, "%.400s: no MANIFEST.json: not a catalog or a mirror of one", x.mdir);
		return WN_E_USAGE;
	}
	/* the writer lock of the catalog, in its index folder (made if there is none) */
	for (int i = -1; i < WN_NROLES && !rc; i++) {
		snprintf(p, sizeof p, "%s/%s", dir, i < 0 ? "index" : wn_role_dir(i));
		if ((rc = wn_mkdir_p(p)))
			snprintf(res->err, sizeof res->err, "%.400s: %s", p, strerror(rc));
	}
	if (!rc) {
		snprintf(p, sizeof p, "%s/index/writer.lock", dir);
		if ((lockfd = open(p, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644)) < 0) {
			rc = errno;
			snprintf(res->err, sizeof res->err, "%.400s: %s", p, strerror(rc));
		} else if (flock(lockfd, LOCK_EX | LOCK_NB)) {
			rc = WN_E_BUSY;
			snprintf(res->err, sizeof res->err, "%s: another winnow is writing to this catalog", dir);
		}
	}
	if (!rc) {
		/* what a crash of an earlier run left */
		snprintf(p, sizeof p, "%s/%s", dir, NEW_INDEX);
		if ((rc = remove_index(p)))
			snprintf(res->err, sizeof res->err, "%.400s: cannot remove what an interrupted reindex left: %s", p, strerror(rc));
	}
	if (!rc) {
		rc = wn_index_create(&x.c, dir, NEW_INDEX, MDB_NOSYNC);
		if (rc)
			snprintf(res->err, sizeof res->err, "%s", x.c ? x.c->err : wn_strerror(rc));
		else if ((rc = reindex(&x)))
			snprintf(res->err, sizeof res->err, "%s", *x.c->err ? x.c->err : wn_strerror(rc));
	}
	if (x.rtxn)
		mdb_txn_abort(x.rtxn);
	wn_lsm_close(x.lsm);
	workers_end(&x);
	wn_hasher_free(x.h);
	int swapped = x.c && !strcmp(x.c->index, "index");
	wn_catalog_close(x.c);
	if (rc && !swapped && lockfd >= 0) {
		snprintf(p, sizeof p, "%s/%s", dir, NEW_INDEX);
		remove_index(p);
	}
	if (lockfd >= 0)
		close(lockfd);
	free(x.f);
	free(x.fr);
	free(x.rows);
	free(x.sup);
	free(x.profiles_text);
	free(x.tombs_text);
	res->seconds = wn_now() - t0;
	return rc;
}

int wn_reindex(const char *dir, const wn_reindex_opts *o, wn_reindex_result *res)
{
	return reindex_run(dir, o, NULL, res);
}

int wn_reindex_fed(const char *dir, const wn_reindex_opts *o, const wn_reindex_feed *feed, wn_reindex_result *res)
{
	if (o && o->from) {
		if (res) {
			memset(res, 0, sizeof *res);
			snprintf(res->err, sizeof res->err, "a fed reindex is of the catalog's own files");
		}
		return WN_E_USAGE;
	}
	return reindex_run(dir, o, feed, res);
}
