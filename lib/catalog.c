/*
 * catalog.c - the catalog folder: opening it, the writer lock, the LMDB environment and
 * its metadata, the kinds table (a kind's name and number), rolling back what an
 * interrupted writer left behind, and writing the manifests (MANIFEST, MANIFEST.json,
 * catalog.json) from the index.
 *
 * The index is the source of truth. Every data file (shard, ledger, rejects) has a row
 * in DB "files" giving its committed length; bytes beyond it were written after the last
 * checkpoint and are cut off when a writer opens the catalog. Files that the index does
 * not know, under names winnow would have given them, were created after the last
 * checkpoint and are removed. The manifests are derived from the index and rewritten
 * after each completed run, and at open if an interrupted run left them stale.
 */
#include "internal.h"
#include "manifest.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include <xxhash.h>

int wn_seterr(wn_catalog *c, int code, const char *fmt, ...)
{
	if (!c)
		return code;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(c->err, sizeof c->err, fmt, ap);
	va_end(ap);
	return code;
}

int wn_catalog_open_file(wn_catalog *c, const char *rel, int flags, int *fd)
{
	*fd = wn_open_in(c->dirfd, rel, flags, 0644);
	if (*fd >= 0)
		return 0;
	int code = *fd;
	*fd = -1;
	wn_seterr(c, 0, "%s/%s: %s", c->dir, rel, wn_open_why(code));
	return wn_open_code(code);
}

int wn_lmdb_err(wn_catalog *c, int rc, const char *what)
{
	if (rc == MDB_MAP_FULL)
		return wn_seterr(c, ENOSPC, "index: %s: map full", what);
	if (rc == EIO && c && c->dir) {
		/* LMDB turns a short write into EIO: say so when the disk is full */
		struct statvfs sv;
		if (!statvfs(c->dir, &sv) && (uint64_t)sv.f_bavail * sv.f_frsize < (16u << 20))
			return wn_seterr(c, ENOSPC, "index: %s: %s", what, strerror(ENOSPC));
	}
	if (rc > 0)
		return wn_seterr(c, rc, "index: %s: %s", what, strerror(rc));
	return wn_seterr(c, WN_E_LMDB, "index: %s: %s", what, mdb_strerror(rc));
}

int wn_index_damaged(wn_catalog *c, const char *fmt, ...)
{
	char what[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof what, fmt, ap);
	va_end(ap);
	return wn_seterr(c, WN_E_CORRUPT, "index: %s fails its checksum: the index is damaged; "
		"rebuild it from the data files with `winnow reindex -C %s`", what, c && c->dir ? c->dir : "CATALOG");
}

/* ---- checksums of index values ---- */

uint64_t wn_sum(const void *key, size_t klen, const void *val, size_t n)
{
	return XXH3_64bits_withSeed(val, n, XXH3_64bits(key, klen));
}

void wn_sum_seal(const void *key, size_t klen, uint8_t *val, size_t n)
{
	wn_put_be64(val + n, wn_sum(key, klen, val, n));
}

int wn_sum_ok(const void *key, size_t klen, const void *val, size_t n)
{
	return n >= WN_SUM_BYTES &&
		wn_get_be64((const uint8_t *)val + n - WN_SUM_BYTES) == wn_sum(key, klen, val, n - WN_SUM_BYTES);
}

const char *wn_catalog_errmsg(const wn_catalog *c)
{
	return c ? c->err : "";
}

const char *wn_map_name(int map)
{
	static const char *const name[WN_NMAPS] = { "id", "fp", "isrc" };
	return name[map];
}

void wn_file_relpath(char *out, size_t cap, int role, const char *kind, uint32_t seq)
{
	snprintf(out, cap, "%s/%s-%06u.jsonl.zst", wn_role_dir(role), kind, seq);
}

/* ---- kinds (the table itself is util.c's: manifest.c and reindex.c read it too) ---- */

const char *wn_catalog_kind_name(const wn_catalog *c, int k)
{
	return wn_kinds_name(&c->kinds, k);
}

/* The table of meta "kinds", checked: every name a kind name, none twice, track and
 * artist first. 0 or WN_E_CORRUPT (wn_index_damaged when its checksum fails). */
static int load_kinds(wn_catalog *c, MDB_txn *txn)
{
	MDB_val v;
	wn_kinds_init(&c->kinds);
	int rc = wn_meta_get(c, txn, "kinds", &v);
	if (rc == WN_E_NOTFOUND)
		return 0;
	if (rc)
		return rc;
	wn_kinds t;
	memset(&t, 0, sizeof t);
	const char *p = v.mv_data, *end = p + v.mv_size;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		int k = nl ? wn_kinds_find(&t, p, (size_t)(nl - p)) : -1;
		if (!nl || k >= 0 || wn_kinds_add(&t, p, (size_t)(nl - p)) < 0)
			return wn_seterr(c, WN_E_CORRUPT, "index: meta kinds holds %s \"%.*s\": the index is damaged; rebuild it "
				"from the data files with `winnow reindex -C %s`", !nl ? "an unterminated name" : k >= 0 ? "twice the kind" :
				"what is not a kind name", (int)((nl ? nl : end) - p > 40 ? 40 : (nl ? nl : end) - p), p, c->dir);
		p = nl + 1;
	}
	wn_kinds builtin;
	wn_kinds_init(&builtin);
	for (int k = 0; k < WN_NBUILTIN_KINDS; k++)
		if (t.n <= k || strcmp(t.name[k], builtin.name[k]))
			return wn_seterr(c, WN_E_CORRUPT, "index: meta kinds does not begin with track and artist: the index is "
				"damaged; rebuild it from the data files with `winnow reindex -C %s`", c->dir);
	c->kinds = t;
	return 0;
}

static int open_kind_dbs(wn_catalog *c, MDB_txn *txn, int k, unsigned fl)
{
	char name[WN_KIND_NAME_MAX + 32];
	const char *kn = c->kinds.name[k];
	int rc;
	snprintf(name, sizeof name, "%s.frames", kn);
	if ((rc = mdb_dbi_open(txn, name, fl, &c->db_frames[k])))
		return rc;
	snprintf(name, sizeof name, "%s.superseded", kn);
	if ((rc = mdb_dbi_open(txn, name, fl, &c->db_super[k])))
		return rc;
	for (int m = 0; m < WN_NMAPS; m++) {
		snprintf(name, sizeof name, "%s.%s", kn, wn_map_name(m));
		if ((rc = mdb_dbi_open(txn, name, fl, &c->db_map[k][m])))
			return rc;
	}
	return 0;
}

/* The kinds the catalog has, as they go into MANIFEST.json and catalog.json. */
static const char *kinds_list(const wn_catalog *c, char *out, size_t cap)
{
	size_t o = 0;
	out[0] = 0;
	for (int k = 0; k < c->kinds.n && o < cap; k++)
		o += (size_t)snprintf(out + o, cap - o, "%s%s", k ? ", " : "", c->kinds.name[k]);
	return out;
}

int wn_catalog_kind(wn_catalog *c, MDB_txn *txn, const char *name, int create)
{
	char list[WN_KINDS_MAX * (WN_KIND_NAME_MAX + 2) + 1];
	size_t n = name ? strlen(name) : 0;
	if (!wn_kind_name_ok(name, n))
		return wn_seterr(c, WN_E_USAGE, "bad kind \"%.*s\": a kind is a name of 1 to %d characters a-z, 0-9 and _, "
			"starting with a letter ([a-z][a-z0-9_]{0,%d})", (int)(n > 64 ? 64 : n), name ? name : "",
			WN_KIND_NAME_MAX, WN_KIND_NAME_MAX - 1);
	int k = wn_kinds_find(&c->kinds, name, n);
	if (k >= 0)
		return k;
	if (!create)
		return wn_seterr(c, WN_E_NOTFOUND, "%s: the catalog has no %s records (its kinds: %s)", c->dir, name,
			kinds_list(c, list, sizeof list));
	if (c->kinds.n >= WN_KINDS_MAX)
		return wn_seterr(c, WN_E_USAGE, "%s: the catalog has %d kinds, the most it can hold: no room for %s", c->dir,
			WN_KINDS_MAX, name);
	if (!c->writable || !txn)
		return wn_seterr(c, WN_E_USAGE, "catalog is open read-only");
	/* the new kind's databases and the table, in the caller's transaction */
	k = wn_kinds_add(&c->kinds, name, n);
	memset(&c->ks[k], 0, sizeof c->ks[k]);
	wn_buf b = { 0 };
	for (int i = 0; i < c->kinds.n; i++)
		wn_buf_printf(&b, "%s\n", c->kinds.name[i]);
	uint8_t ver[4];
	wn_put_be32(ver, WN_INDEX_VERSION_KINDS);
	int rc = open_kind_dbs(c, txn, k, MDB_CREATE);
	if (rc)
		rc = wn_lmdb_err(c, rc, "create the databases of a kind");
	else if (!(rc = b.p ? wn_meta_put(c, txn, "kinds", b.p, b.len) : WN_E_NOMEM))
		rc = wn_meta_put(c, txn, "index_version", ver, 4);
	wn_buf_free(&b);
	if (rc) {
		c->kinds.n = k;
		return rc;
	}
	return k;
}

/* ---- packing of index values (layouts in doc/FORMAT.md) ---- */

void wn_fileinfo_pack(uint8_t *p, const wn_fileinfo *f, const char *rel)
{
	memset(p, 0, WN_FILEINFO_BYTES);
	p[0] = f->role;
	p[1] = f->kind;
	p[2] = f->sealed;
	wn_put_be32(p + 4, f->seq);
	wn_put_be64(p + 8, f->data_len);
	wn_put_be64(p + 16, f->size);
	wn_put_be32(p + 24, f->nframes);
	wn_put_be64(p + 32, f->nrecords);
	wn_put_be64(p + 40, f->raw_bytes);
	wn_put_be64(p + 48, f->first_ord);
	memcpy(p + 56, f->xxh128, 16);
	wn_sum_seal(rel, strlen(rel), p, WN_FILEINFO_BYTES - WN_SUM_BYTES);
}

void wn_fileinfo_unpack(wn_fileinfo *f, const uint8_t *p)
{
	f->role = p[0];
	f->kind = p[1];
	f->sealed = p[2];
	f->seq = wn_get_be32(p + 4);
	f->data_len = wn_get_be64(p + 8);
	f->size = wn_get_be64(p + 16);
	f->nframes = wn_get_be32(p + 24);
	f->nrecords = wn_get_be64(p + 32);
	f->raw_bytes = wn_get_be64(p + 40);
	f->first_ord = wn_get_be64(p + 48);
	memcpy(f->xxh128, p + 56, 16);
	f->has_sha256 = 0;   /* not in the row (meta "sha256:<path>") */
	memset(f->sha256, 0, sizeof f->sha256);
}

void wn_frameinfo_pack(uint8_t *p, const wn_frameinfo *f)
{
	wn_put_be32(p, f->shard_seq);
	wn_put_be32(p + 4, f->frame_no);
	wn_put_be64(p + 8, f->offset);
	wn_put_be32(p + 16, f->csize);
	wn_put_be32(p + 20, f->dsize);
	wn_put_be32(p + 24, f->checksum);
	wn_put_be32(p + 28, f->nrec);
	wn_put_be64(p + 32, f->first_ord);
	uint8_t kb[8];
	wn_put_be64(kb, f->first_ord + f->nrec - 1);
	wn_sum_seal(kb, 8, p, WN_FRAMEINFO_BYTES - WN_SUM_BYTES);
}

void wn_frameinfo_unpack(wn_frameinfo *f, const uint8_t *p)
{
	f->shard_seq = wn_get_be32(p);
	f->frame_no = wn_get_be32(p + 4);
	f->offset = wn_get_be64(p + 8);
	f->csize = wn_get_be32(p + 16);
	f->dsize = wn_get_be32(p + 20);
	f->checksum = wn_get_be32(p + 24);
	f->nrec = wn_get_be32(p + 28);
	f->first_ord = wn_get_be64(p + 32);
}

int wn_file_row(wn_catalog *c, const MDB_val *k, const MDB_val *v, wn_fileinfo *f)
{
	if (v->mv_size != WN_FILEINFO_BYTES)
		return wn_seterr(c, WN_E_CORRUPT, "index: the files row of %.*s has %zu bytes: the index is damaged; "
			"rebuild it from the data files with `winnow reindex -C %s`", (int)(k->mv_size < 200 ? k->mv_size : 200),
			(const char *)k->mv_data, v->mv_size, c->dir);
	if (!wn_sum_ok(k->mv_data, k->mv_size, v->mv_data, v->mv_size))
		return wn_index_damaged(c, "the files row of %.*s", (int)(k->mv_size < 200 ? k->mv_size : 200),
			(const char *)k->mv_data);
	wn_fileinfo_unpack(f, v->mv_data);
	/* the row's role and kind must name the file it is the row of */
	char rel[128];
	wn_file_relpath(rel, sizeof rel, f->role, wn_kinds_name(&c->kinds, f->kind), f->seq);
	if (f->role >= WN_NROLES || f->kind >= c->kinds.n || strlen(rel) != k->mv_size || memcmp(rel, k->mv_data, k->mv_size))
		return wn_seterr(c, WN_E_CORRUPT, "index: the files row of %.*s says role %u, kind %u (%s), number %u: the "
			"index is damaged; rebuild it from the data files with `winnow reindex -C %s`",
			(int)(k->mv_size < 200 ? k->mv_size : 200), (const char *)k->mv_data, f->role, f->kind,
			wn_kinds_name(&c->kinds, f->kind), f->seq, c->dir);
	return 0;
}

int wn_frame_row(wn_catalog *c, const MDB_val *k, const MDB_val *v, wn_frameinfo *fi)
{
	if (v->mv_size != WN_FRAMEINFO_BYTES || k->mv_size != 8)
		return wn_seterr(c, WN_E_CORRUPT, "index: a frame row of %zu bytes: the index is damaged; "
			"rebuild it from the data files with `winnow reindex -C %s`", v->mv_size, c->dir);
	if (!wn_sum_ok(k->mv_data, k->mv_size, v->mv_data, v->mv_size))
		return wn_index_damaged(c, "the frame row of record %llu", (unsigned long long)wn_get_be64(k->mv_data));
	wn_frameinfo_unpack(fi, v->mv_data);
	return 0;
}

/* ---- metadata ---- */

int wn_meta_get(wn_catalog *c, MDB_txn *txn, const char *key, MDB_val *v)
{
	MDB_val k = { strlen(key), (void *)key };
	int rc = mdb_get(txn, c->db_meta, &k, v);
	if (rc == MDB_NOTFOUND)
		return WN_E_NOTFOUND;
	if (rc)
		return wn_lmdb_err(c, rc, key);
	if (!wn_sum_ok(k.mv_data, k.mv_size, v->mv_data, v->mv_size))
		return wn_index_damaged(c, "meta %s", key);
	v->mv_size -= WN_SUM_BYTES;
	return 0;
}

int wn_meta_put(wn_catalog *c, MDB_txn *txn, const char *key, const void *p, size_t n)
{
	MDB_val k = { strlen(key), (void *)key }, v = { n + WN_SUM_BYTES, NULL };
	int rc = mdb_put(txn, c->db_meta, &k, &v, MDB_RESERVE);
	if (rc)
		return wn_lmdb_err(c, rc, key);
	if (n)
		memcpy(v.mv_data, p, n);
	wn_sum_seal(k.mv_data, k.mv_size, v.mv_data, n);
	return 0;
}

int wn_meta_del(wn_catalog *c, MDB_txn *txn, const char *key)
{
	MDB_val k = { strlen(key), (void *)key };
	int rc = mdb_del(txn, c->db_meta, &k, NULL);
	if (rc && rc != MDB_NOTFOUND)
		return wn_lmdb_err(c, rc, key);
	return 0;
}

#define KSTATE_FIELDS 10
int wn_meta_get_kstate(wn_catalog *c, MDB_txn *txn, int kind, wn_kstate *ks)
{
	char key[WN_KIND_NAME_MAX + 8];
	MDB_val v;
	memset(ks, 0, sizeof *ks);
	snprintf(key, sizeof key, "state.%s", wn_catalog_kind_name(c, kind));
	int rc = wn_meta_get(c, txn, key, &v);
	if (rc == WN_E_NOTFOUND)
		return 0;
	if (rc)
		return rc;
	if (v.mv_size < KSTATE_FIELDS * 8)
		return wn_seterr(c, WN_E_CORRUPT, "index: meta %s has %zu bytes", key, v.mv_size);
	const uint8_t *p = v.mv_data;
#define WN_X(n) &ks->n,
	uint64_t *f[KSTATE_FIELDS - 1] = { &ks->next_ord, WN_OUTCOMES(WN_X) &ks->ledger_entries, &ks->reject_entries };
#undef WN_X
	for (int i = 0; i < KSTATE_FIELDS - 1; i++)
		*f[i] = wn_get_be64(p + 8 * i);
	ks->runs_next = (uint32_t)wn_get_be64(p + 8 * (KSTATE_FIELDS - 1));
	return wn_meta_forgotten(c, txn, kind, &ks->forgotten);
}

int wn_meta_put_kstate(wn_catalog *c, MDB_txn *txn, int kind, const wn_kstate *ks)
{
	char key[WN_KIND_NAME_MAX + 8];
	uint8_t p[KSTATE_FIELDS * 8];
#define WN_X(n) ks->n,
	const uint64_t f[KSTATE_FIELDS] = { ks->next_ord, WN_OUTCOMES(WN_X) ks->ledger_entries, ks->reject_entries, ks->runs_next };
#undef WN_X
	for (int i = 0; i < KSTATE_FIELDS; i++)
		wn_put_be64(p + 8 * i, f[i]);
	snprintf(key, sizeof key, "state.%s", wn_catalog_kind_name(c, kind));
	return wn_meta_put(c, txn, key, p, sizeof p);
}

/* ---- record profiles ---- */

static wn_profile default_prof;
static pthread_once_t default_once = PTHREAD_ONCE_INIT;

static void default_init(void)
{
	wn_profile_default(&default_prof, "", NULL);
}

/* A kind with no stored profile has no record either (the run that keeps its first
 * stores it): the plain default serves to read nothing. */
const wn_profile *wn_catalog_profile(wn_catalog *c, int kind)
{
	if (c && kind >= 0 && kind < WN_KINDS_MAX && c->prof[kind])
		return c->prof[kind];
	pthread_once(&default_once, default_init);
	return &default_prof;
}

int wn_catalog_put_profile(wn_catalog *c, MDB_txn *txn, int kind, const wn_profile *p)
{
	char key[48];
	wn_buf js = { 0 };
	if (!c->prof[kind] && !(c->prof[kind] = malloc(sizeof *p)))
		return WN_E_NOMEM;
	int rc = wn_profile_encode(p, &js);
	snprintf(key, sizeof key, "profile.%s", wn_catalog_kind_name(c, kind));
	if (!rc)
		rc = wn_meta_put(c, txn, key, js.p, js.len);
	wn_buf_free(&js);
	if (!rc)
		*c->prof[kind] = *p;
	return rc;
}

int wn_profiles_encode(const wn_catalog *c, wn_buf *b)
{
	int rc = 0, n = 0;
	for (int k = 0; k < c->kinds.n; k++) {
		if (!c->prof[k])
			continue;
		const char *name = wn_catalog_kind_name(c, k);
		rc |= wn_buf_puts(b, n++ ? "," : "{");
		rc |= wn_buf_json_str(b, name, strlen(name));
		rc |= wn_buf_puts(b, ":");
		rc |= wn_profile_encode(c->prof[k], b);
	}
	rc |= wn_buf_puts(b, n ? "}" : "null");
	return rc ? WN_E_NOMEM : 0;
}

void wn_profile_from_catopts(wn_profile *p, const wn_catopts *o, int kind)
{
	wn_profile_default(p, kind == WN_KIND_TRACK ? "track" : "artist", NULL);
	p->builtin[0] = 0;
	if (*o->id_field[kind])
		snprintf(p->id[0], sizeof p->id[0], "%s", o->id_field[kind]);
	if (kind == WN_KIND_TRACK && *o->isrc_field) {
		p->n_isrc = 1;
		snprintf(p->isrc[0], sizeof p->isrc[0], "%s", o->isrc_field);
	}
	p->n_ignore = o->n_ignore;
	for (int i = 0; i < o->n_ignore; i++)
		snprintf(p->ignore[i], sizeof p->ignore[i], "%s", o->ignore[i]);
}

int wn_catalog_profile_json(wn_catalog *c, const char *name, char **out)
{
	wn_buf b = { 0 };
	*out = NULL;
	int kind = wn_kinds_find(&c->kinds, name, strlen(name));
	if (kind < 0)
		return wn_seterr(c, WN_E_USAGE, "no %s records in this catalog", name);
	int rc = c->prof[kind] ? wn_profile_encode(c->prof[kind], &b) : wn_buf_puts(&b, "null") ? WN_E_NOMEM : 0;
	/* and the runs that renamed their inputs' fields otherwise (meta renames.<kind>) */
	MDB_txn *txn;
	char key[WN_KIND_NAME_MAX + 16];
	snprintf(key, sizeof key, "renames.%s", name);
	if (!rc && c->prof[kind] && !(rc = mdb_txn_begin(c->env, NULL, MDB_RDONLY, &txn))) {
		MDB_val v;
		int g = wn_meta_get(c, txn, key, &v);
		b.len--;   /* the profile's closing brace */
		rc = wn_buf_puts(&b, ",\"input_renames\":");
		rc |= g ? wn_buf_puts(&b, "[]") : wn_buf_put(&b, v.mv_data, v.mv_size);
		rc |= wn_buf_puts(&b, "}");
		mdb_txn_abort(txn);
		if (g && g != WN_E_NOTFOUND) {
			wn_buf_free(&b);
			return g;
		}
	} else if (rc > 0) {
		rc = wn_lmdb_err(c, rc, "begin");
		wn_buf_free(&b);
		return rc;
	}
	if (rc) {
		wn_buf_free(&b);
		return wn_seterr(c, WN_E_NOMEM, "out of memory");
	}
	*out = b.p;
	return 0;
}

/* The stored profiles; a catalog written before them has its options in binary. */
static int load_profiles(wn_catalog *c, MDB_txn *txn)
{
	MDB_val v;
	char key[48], why[160];
	for (int k = 0; k < c->kinds.n; k++) {
		snprintf(key, sizeof key, "profile.%s", wn_catalog_kind_name(c, k));
		int rc = wn_meta_get(c, txn, key, &v);
		if (rc == WN_E_NOTFOUND)
			continue;
		if (rc)
			return rc;
		if (!(c->prof[k] = malloc(sizeof *c->prof[k])))
			return WN_E_NOMEM;
		if (wn_profile_decode(c->prof[k], v.mv_data, v.mv_size, why, sizeof why))
			return wn_seterr(c, WN_E_CORRUPT, "index: meta %s: %s", key, why);
	}
	int rc = wn_meta_get(c, txn, "options.bin", &v);
	if (rc == WN_E_NOTFOUND)
		return 0;
	if (rc)
		return rc;
	wn_catopts o;
	if (v.mv_size != sizeof o)
		return wn_seterr(c, WN_E_CORRUPT, "index: meta options.bin has %zu bytes", v.mv_size);
	memcpy(&o, v.mv_data, sizeof o);
	for (int k = 0; k < WN_NBUILTIN_KINDS; k++)
		if (!c->prof[k]) {
			if (!(c->prof[k] = malloc(sizeof *c->prof[k])))
				return WN_E_NOMEM;
			wn_profile_from_catopts(c->prof[k], &o, k);
		}
	return 0;
}

/* ---- open / recover ---- */

/* LMDB opens index/, data.mdb and lock.mdb by name, following links, and resizes
 * lock.mdb: each must be there as itself (a folder, regular files) or not at all.
 * st[0], st[1]: what data.mdb and lock.mdb are (st_ino 0 when absent). */
static int index_files_plain(wn_catalog *c, struct stat st[2])
{
	char names[2][48];
	snprintf(names[0], sizeof names[0], "%s/data.mdb", c->index);
	snprintf(names[1], sizeof names[1], "%s/lock.mdb", c->index);
	int fd = wn_open_in(c->dirfd, c->index, O_RDONLY | O_DIRECTORY, 0);
	if (fd < 0)
		return fd == -ENOENT ? wn_seterr(c, WN_E_NOTFOUND, "%s: not a catalog (no index)", c->dir) :
			wn_seterr(c, wn_open_code(fd), "%s/%s: %s", c->dir, c->index, wn_open_why(fd));
	close(fd);
	for (int i = 0; i < 2; i++) {
		memset(&st[i], 0, sizeof st[i]);
		if (fstatat(c->dirfd, names[i], &st[i], AT_SYMLINK_NOFOLLOW)) {
			if (errno != ENOENT)
				return wn_seterr(c, errno, "%s/%s: %s", c->dir, names[i], strerror(errno));
			memset(&st[i], 0, sizeof st[i]);
		} else if (!S_ISREG(st[i].st_mode)) {
			return wn_seterr(c, WN_E_CORRUPT, "%s/%s: %s", c->dir, names[i],
				wn_open_why(S_ISLNK(st[i].st_mode) ? WN_OPEN_SYMLINK : WN_OPEN_NOTREG));
		}
	}
	return 0;
}

static int open_env(wn_catalog *c)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/%s", c->dir, c->index);
	if (c->writable) {
		int e = wn_mkdir_p(path);
		if (e)
			return wn_seterr(c, e, "%s: %s", path, strerror(e));
	}
	int rc = mdb_env_create(&c->env);
	if (rc)
		return wn_lmdb_err(c, rc, "create");
	mdb_env_set_maxdbs(c->env, WN_MAX_DBS);
	mdb_env_set_mapsize(c->env, (size_t)1 << 40);   /* address space only; the file grows as needed */
	mdb_env_set_maxreaders(c->env, 126);
	struct stat before[2];
	if ((rc = index_files_plain(c, before)))
		return rc;
	rc = mdb_env_open(c->env, path, MDB_NORDAHEAD | MDB_NOTLS | c->env_flags | (c->writable ? 0 : MDB_RDONLY), 0644);
	if (rc) {
		if (rc == ENOENT)
			return wn_seterr(c, WN_E_NOTFOUND, "%s: not a catalog (no index)", c->dir);
		return wn_lmdb_err(c, rc, path);
	}
	/* LMDB follows links: the data.mdb it opened must be the plain file there by that name */
	struct stat st;
	int fd;
	if ((rc = index_files_plain(c, before)))
		return rc;
	if (mdb_env_get_fd(c->env, &fd) || fstat(fd, &st) || st.st_ino != before[0].st_ino || st.st_dev != before[0].st_dev)
		return wn_seterr(c, WN_E_CORRUPT, "%s/%s/data.mdb: replaced while it was opened", c->dir, c->index);
	return 0;
}

static int open_dbs(wn_catalog *c, MDB_txn *txn)
{
	unsigned fl = c->writable ? MDB_CREATE : 0;
	int rc;
	if ((rc = mdb_dbi_open(txn, "meta", fl, &c->db_meta)) || (rc = mdb_dbi_open(txn, "files", fl, &c->db_files)))
		goto fail;
	/* the kinds table is read before the format is checked: a damaged one stops the open */
	if ((rc = load_kinds(c, txn)))
		return rc;
	for (int k = 0; k < c->kinds.n; k++)
		if ((rc = open_kind_dbs(c, txn, k, fl)))
			goto fail;
	return 0;
fail:
	if (rc == MDB_NOTFOUND)
		return wn_seterr(c, WN_E_CORRUPT, "index: a database is missing (not a winnow catalog?)");
	return wn_lmdb_err(c, rc, "open databases");
}

static int check_format(wn_catalog *c, MDB_txn *txn)
{
	MDB_val v, k = { 13, "index_version" };
	uint8_t b[4];
	int rc = wn_meta_get(c, txn, "format_version", &v);
	if (rc == WN_E_NOTFOUND) {
		if (!c->writable)
			return wn_seterr(c, WN_E_NOTFOUND, "%s: catalog is empty", c->dir);
		wn_put_be32(b, WN_FORMAT_VERSION);
		if ((rc = wn_meta_put(c, txn, "format_version", b, 4)))
			return rc;
		wn_put_be32(b, WN_INDEX_VERSION);
		if ((rc = wn_meta_put(c, txn, "index_version", b, 4)))
			return rc;
		wn_put_be32(b, WN_FP_VERSION);
		return wn_meta_put(c, txn, "fingerprint_version", b, 4);
	}
	/* an index written before index_version existed (version 1) has no checksums: its
	 * values cannot be checked, so it is not read; the data files are unchanged */
	if (mdb_get(txn, c->db_meta, &k, &v) == MDB_NOTFOUND)
		return wn_seterr(c, WN_E_VERSION, "%s: the index is version 1 (without checksums), this winnow reads "
			"version %d: rebuild it from the data files with `winnow reindex -C %s`", c->dir, WN_INDEX_VERSION, c->dir);
	if (rc)
		return rc;
	if ((rc = wn_meta_get(c, txn, "index_version", &v)))
		return rc;
	if (v.mv_size != 4 || (wn_get_be32(v.mv_data) != WN_INDEX_VERSION && wn_get_be32(v.mv_data) != WN_INDEX_VERSION_KINDS))
		return wn_seterr(c, WN_E_VERSION, "%s: index version %u, this winnow reads versions %d and %d", c->dir,
			v.mv_size == 4 ? wn_get_be32(v.mv_data) : 0, WN_INDEX_VERSION, WN_INDEX_VERSION_KINDS);
	if ((rc = wn_meta_get(c, txn, "format_version", &v)))
		return rc;
	if (v.mv_size != 4 || wn_get_be32(v.mv_data) != WN_FORMAT_VERSION)
		return wn_seterr(c, WN_E_VERSION, "%s: catalog format version %u, this winnow reads version %d",
			c->dir, v.mv_size == 4 ? wn_get_be32(v.mv_data) : 0, WN_FORMAT_VERSION);
	rc = wn_meta_get(c, txn, "fingerprint_version", &v);
	if (rc)
		return rc == WN_E_NOTFOUND ? wn_seterr(c, WN_E_CORRUPT, "index: no fingerprint_version") : rc;
	if (v.mv_size != 4 || wn_get_be32(v.mv_data) != WN_FP_VERSION)
		return wn_seterr(c, WN_E_VERSION, "%s: fingerprint version %u, this winnow computes version %d",
			c->dir, v.mv_size == 4 ? wn_get_be32(v.mv_data) : 0, WN_FP_VERSION);
	return 0;
}

/* Cut unsealed files back to their committed length; remove files created after the
 * last checkpoint. Runs with the writer lock held. */
static int recover(wn_catalog *c, MDB_txn *txn)
{
	MDB_cursor *cur;
	MDB_val k, v;
	char path[4096];
	int rc = mdb_cursor_open(txn, c->db_files, &cur);
	if (rc)
		return wn_lmdb_err(c, rc, "files cursor");
	uint32_t maxseq[WN_NROLES][WN_KINDS_MAX] = { { 0 } };
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); !rc; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		wn_fileinfo f;
		if (k.mv_size > 200) {
			mdb_cursor_close(cur);
			return wn_seterr(c, WN_E_CORRUPT, "index: bad row in files");
		}
		if ((rc = wn_file_row(c, &k, &v, &f))) {
			mdb_cursor_close(cur);
			return rc;
		}
		if (f.seq > maxseq[f.role][f.kind])
			maxseq[f.role][f.kind] = f.seq;
		if (f.sealed)
			continue;
		snprintf(path, sizeof path, "%s/%.*s", c->dir, (int)k.mv_size, (char *)k.mv_data);
		char rel[256];
		snprintf(rel, sizeof rel, "%.*s", (int)k.mv_size, (char *)k.mv_data);
		struct stat st;
		int fd, e = wn_catalog_open_file(c, rel, O_WRONLY, &fd);
		if (e) {
			char why[sizeof c->err];
			snprintf(why, sizeof why, "%s", c->err);
			mdb_cursor_close(cur);
			if (e != ENOENT)
				return e;
			return wn_seterr(c, WN_E_CORRUPT, "%s (the index says it holds %llu committed bytes)", why,
				(unsigned long long)f.data_len);
		}
		if (fstat(fd, &st)) {
			e = errno;
			close(fd);
			mdb_cursor_close(cur);
			return wn_seterr(c, e, "%s: %s", path, strerror(e));
		}
		if ((uint64_t)st.st_size < f.data_len) {
			close(fd);
			mdb_cursor_close(cur);
			return wn_seterr(c, WN_E_CORRUPT, "%s: %llu bytes, shorter than the %llu committed bytes",
				path, (unsigned long long)st.st_size, (unsigned long long)f.data_len);
		}
		if ((uint64_t)st.st_size > f.data_len && ftruncate(fd, (off_t)f.data_len)) {
			e = errno;
			close(fd);
			mdb_cursor_close(cur);
			return wn_seterr(c, e, "%s: cannot roll back to %llu bytes: %s", path, (unsigned long long)f.data_len, strerror(e));
		}
		close(fd);
	}
	mdb_cursor_close(cur);
	if (rc != MDB_NOTFOUND)
		return wn_lmdb_err(c, rc, "files");
	/* a rewrite's journal: its files are not yet where the index says (the caller
	 * finishes it, then comes back here) */
	if (!(rc = wn_meta_get(c, txn, WN_REWRITE_KEY, &v)))
		return 0;
	if (rc != WN_E_NOTFOUND)
		return rc;
	/* files past the highest committed number of their series were never committed */
	for (int r = 0; r < WN_NROLES; r++) {
		snprintf(path, sizeof path, "%s/%s", c->dir, wn_role_dir(r));
		int dfd = wn_open_in(c->dirfd, wn_role_dir(r), O_RDONLY | O_DIRECTORY, 0);
		if (dfd == -ENOENT)
			continue;
		if (dfd < 0)
			return wn_seterr(c, wn_open_code(dfd), "%s: %s", path, wn_open_why(dfd));
		DIR *d = fdopendir(dfd);
		if (!d) {
			close(dfd);
			continue;
		}
		struct dirent *de;
		while ((de = readdir(d))) {
			/* only names of the catalog's own kinds: another file is not winnow's to remove */
			size_t kl, nl = strlen(de->d_name), sl = strlen(WN_STAGED_SUFFIX);
			uint32_t seq;
			char name[256];
			/* a staged file of a rewrite that never committed (none is when there is no
			 * journal: the caller skips this while there is one) */
			int staged = nl > sl && nl - sl < sizeof name && !strcmp(de->d_name + nl - sl, WN_STAGED_SUFFIX);
			snprintf(name, sizeof name, "%.*s", (int)(staged ? nl - sl : nl), de->d_name);
			int kd = wn_kind_file_name(name, &kl, &seq) ? -1 : wn_kinds_find(&c->kinds, name, kl);
			if (kd >= 0 && (staged || seq > maxseq[r][kd]))
				unlinkat(dfd, de->d_name, 0);   /* a link is removed, never followed */
		}
		closedir(d);
	}
	return 0;
}

/* ---- rewrites: the journal (internal.h, doc/FORMAT.md section 18) ---- */

int wn_rewrite_line(wn_buf *b, const char *op, const char *a, const char *b2)
{
	return wn_buf_printf(b, "%s %s%s%s\n", op, a, b2 ? " " : "", b2 ? b2 : "");
}

static int name_there(wn_catalog *c, const char *rel)
{
	struct stat st;
	return !fstatat(c->dirfd, rel, &st, AT_SYMLINK_NOFOLLOW);
}

/* Rename from to to inside the catalog, unless it was done: from is gone and to is there.
 * Both are plain relative names the journal holds; a link is renamed, never followed. */
static int journal_rename(wn_catalog *c, const char *from, const char *to)
{
	if (!renameat(c->dirfd, from, c->dirfd, to))
		return 0;
	int e = errno;
	if (e == ENOENT && name_there(c, to))
		return 0;
	return wn_seterr(c, e == ENOENT ? WN_E_CORRUPT : e, "%s/%s: cannot rename to %s: %s (an unfinished rewrite, meta %s)",
		c->dir, from, to, strerror(e), WN_REWRITE_KEY);
}

/* One phase of the journal text j (its lines after the first). */
static int journal_phase(wn_catalog *c, const char *j, int phase)
{
	char line[600], op[8], a[260], b[260], staged[270];
	for (const char *p = j; *p;) {
		const char *e = strchr(p, '\n');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		snprintf(line, sizeof line, "%.*s", (int)(n < sizeof line ? n : sizeof line - 1), p);
		p += n + (e != NULL);
		*b = 0;
		int f = sscanf(line, "%7s %259s %259s", op, a, b);
		if (f < 2 || strstr(a, "..") || *a == '/' || strstr(b, "..") || *b == '/')
			return wn_seterr(c, WN_E_CORRUPT, "index: meta %s: bad line \"%s\"", WN_REWRITE_KEY, line);
		int rc = 0;
		if (!strcmp(op, "move") && f == 3) {
			snprintf(staged, sizeof staged, "%s%s", b, WN_STAGED_SUFFIX);
			if (phase == 1)
				rc = journal_rename(c, a, staged);
			else if (phase == 2)
				rc = journal_rename(c, staged, b);
		} else if (!strcmp(op, "put") && f == 2) {
			snprintf(staged, sizeof staged, "%s%s", a, WN_STAGED_SUFFIX);
			if (phase == 2)
				rc = journal_rename(c, staged, a);
		} else if (!strcmp(op, "drop") && f == 2) {
			if (phase == 3 && unlinkat(c->dirfd, a, 0) && errno != ENOENT)
				rc = wn_seterr(c, errno, "%s/%s: cannot remove: %s", c->dir, a, strerror(errno));
		} else {
			return wn_seterr(c, WN_E_CORRUPT, "index: meta %s: bad line \"%s\"", WN_REWRITE_KEY, line);
		}
		if (rc)
			return rc;
	}
	for (int r = 0; r < WN_NROLES; r++) {
		int e = wn_fsync_in(c->dirfd, wn_role_dir(r));
		if (e && e != -ENOENT)
			return wn_seterr(c, wn_open_code(e), "%s/%s: fsync: %s", c->dir, wn_role_dir(r), wn_open_why(e));
	}
	return 0;
}

/* Do the current phase of the rewrite the journal describes, if there is one, and commit
 * the next (or delete the journal after phase 3): *done the phase done, 0 if there was no
 * journal. A phase is never done after a later one began. */
int wn_rewrite_step(wn_catalog *c, int *done)
{
	MDB_txn *txn;
	MDB_val v;
	*done = 0;
	int rc = mdb_txn_begin(c->env, NULL, 0, &txn);
	if (rc)
		return wn_lmdb_err(c, rc, "begin");
	rc = wn_meta_get(c, txn, WN_REWRITE_KEY, &v);
	if (rc) {
		mdb_txn_abort(txn);
		return rc == WN_E_NOTFOUND ? 0 : rc;
	}
	char *j = malloc(v.mv_size + 1);
	if (!j) {
		mdb_txn_abort(txn);
		return WN_E_NOMEM;
	}
	memcpy(j, v.mv_data, v.mv_size);
	j[v.mv_size] = 0;
	int phase = 0;
	char *body = strchr(j, '\n');
	if (sscanf(j, "phase %d", &phase) != 1 || phase < 1 || phase > 3 || !body) {
		free(j);
		mdb_txn_abort(txn);
		return wn_seterr(c, WN_E_CORRUPT, "index: meta %s: no phase", WN_REWRITE_KEY);
	}
	rc = journal_phase(c, body + 1, phase);
	if (!rc && phase < 3) {
		j[6] = (char)('0' + phase + 1);   /* "phase N" */
		rc = wn_meta_put(c, txn, WN_REWRITE_KEY, j, v.mv_size);
	} else if (!rc) {
		rc = wn_meta_del(c, txn, WN_REWRITE_KEY);
	}
	free(j);
	if (rc) {
		mdb_txn_abort(txn);
		return rc;
	}
	if ((rc = mdb_txn_commit(txn)))
		return wn_lmdb_err(c, rc, "commit");
	*done = phase;
	return 0;
}

int wn_rewrite_finish(wn_catalog *c, int *did)
{
	int done, rc;
	*did = 0;
	while (!(rc = wn_rewrite_step(c, &done)) && done)
		*did = 1;
	return rc;
}

int wn_meta_forgotten(wn_catalog *c, MDB_txn *txn, int kind, uint64_t *n)
{
	char key[WN_KIND_NAME_MAX + 16];
	MDB_val v;
	snprintf(key, sizeof key, "forgotten.%s", wn_catalog_kind_name(c, kind));
	*n = 0;
	int rc = wn_meta_get(c, txn, key, &v);
	if (rc == WN_E_NOTFOUND)
		return 0;
	if (!rc && v.mv_size != 8)
		return wn_seterr(c, WN_E_CORRUPT, "index: meta %s has %zu bytes", key, v.mv_size);
	if (!rc)
		*n = wn_get_be64(v.mv_data);
	return rc;
}

int wn_holds_add(wn_catalog *c, MDB_txn *txn, int kind, const char *hex, int role, uint32_t seq)
{
	char key[WN_KIND_NAME_MAX + 64];
	uint8_t e[WN_HOLD_ENTRY];
	MDB_val v;
	snprintf(key, sizeof key, "%s%s.%s", WN_HOLDS_PREFIX, wn_catalog_kind_name(c, kind), hex);
	e[0] = (uint8_t)role;
	wn_put_be32(e + 1, seq);
	int rc = wn_meta_get(c, txn, key, &v);
	if (rc && rc != WN_E_NOTFOUND)
		return rc;
	size_t n = rc ? 0 : v.mv_size / WN_HOLD_ENTRY, at = 0;
	const uint8_t *p = rc ? NULL : v.mv_data;
	while (at < n && memcmp(p + at * WN_HOLD_ENTRY, e, WN_HOLD_ENTRY) < 0)
		at++;
	if (at < n && !memcmp(p + at * WN_HOLD_ENTRY, e, WN_HOLD_ENTRY))
		return 0;
	uint8_t *nv = malloc((n + 1) * WN_HOLD_ENTRY);
	if (!nv)
		return WN_E_NOMEM;
	if (at)
		memcpy(nv, p, at * WN_HOLD_ENTRY);
	memcpy(nv + at * WN_HOLD_ENTRY, e, WN_HOLD_ENTRY);
	if (n > at)
		memcpy(nv + (at + 1) * WN_HOLD_ENTRY, p + at * WN_HOLD_ENTRY, (n - at) * WN_HOLD_ENTRY);
	rc = wn_meta_put(c, txn, key, nv, (n + 1) * WN_HOLD_ENTRY);
	free(nv);
	return rc;
}

int wn_catalog_rollback(wn_catalog *c)
{
	MDB_txn *txn;
	int rc = mdb_txn_begin(c->env, NULL, MDB_RDONLY, &txn);
	if (rc)
		return wn_lmdb_err(c, rc, "begin");
	rc = recover(c, txn);
	mdb_txn_abort(txn);
	return rc;
}

int wn_catalog_open(wn_catalog **out, const char *dir, int flags)
{
	wn_catalog *c = calloc(1, sizeof *c);
	*out = c;
	if (!c)
		return WN_E_NOMEM;
	c->lockfd = c->dirfd = -1;
	strcpy(c->index, "index");
	c->writable = (flags & WN_OPEN_WRITE) != 0;
	c->dir = strdup(dir);
	if (!c->dir)
		return WN_E_NOMEM;
	size_t dl = strlen(c->dir);
	while (dl > 1 && c->dir[dl - 1] == '/')
		c->dir[--dl] = 0;
	struct stat st;
	if (c->writable) {
		int e = wn_mkdir_p(c->dir);
		if (e)
			return wn_seterr(c, e, "%s: %s", c->dir, strerror(e));
	}
	/* the folder the user named (it may be reached through a link); nothing inside is */
	if ((c->dirfd = open(c->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return errno == ENOENT && !c->writable ? wn_seterr(c, WN_E_NOTFOUND, "%s: not a catalog (no such folder)", c->dir)
			: wn_seterr(c, errno, "%s: %s", c->dir, strerror(errno));
	if (!c->writable) {
		if (fstatat(c->dirfd, "index/data.mdb", &st, AT_SYMLINK_NOFOLLOW))
			return wn_seterr(c, WN_E_NOTFOUND, "%s: not a catalog (no index/data.mdb)", c->dir);
	} else {
		for (int r = 0; r <= WN_NROLES; r++) {
			const char *sub = r < WN_NROLES ? wn_role_dir(r) : "index";
			if (mkdirat(c->dirfd, sub, 0755) && errno != EEXIST)
				return wn_seterr(c, errno, "%s/%s: %s", c->dir, sub, strerror(errno));
			int dfd = wn_open_in(c->dirfd, sub, O_RDONLY | O_DIRECTORY, 0);
			if (dfd < 0)
				return wn_seterr(c, wn_open_code(dfd), "%s/%s: %s", c->dir, sub, wn_open_why(dfd));
			close(dfd);
		}
		int e = wn_catalog_open_file(c, "index/writer.lock", O_RDWR | O_CREAT, &c->lockfd);
		if (e)
			return e;
		if (flock(c->lockfd, LOCK_EX | LOCK_NB))
			return wn_seterr(c, WN_E_BUSY, "%s: another winnow is writing to this catalog", c->dir);
	}
	int rc = open_env(c);
	if (rc)
		return rc;
	MDB_txn *txn;
	rc = mdb_txn_begin(c->env, NULL, c->writable ? 0 : MDB_RDONLY, &txn);
	if (rc)
		return wn_lmdb_err(c, rc, "begin");
	if ((rc = open_dbs(c, txn)) || (rc = check_format(c, txn)) || (rc = load_profiles(c, txn)))
		goto abort;
	for (int k = 0; k < c->kinds.n; k++)
		if ((rc = wn_meta_get_kstate(c, txn, k, &c->ks[k])))
			goto abort;
	MDB_val v;
	if (!(rc = wn_meta_get(c, txn, "generation", &v)) && v.mv_size == 8)
		c->generation = wn_get_be64(v.mv_data);
	if (rc == WN_E_CORRUPT)
		goto abort;
	if (!(rc = wn_meta_get(c, txn, "digest", &v)) && v.mv_size == 6 && !memcmp(v.mv_data, "sha256", 6))
		c->digest = 1;
	if (rc == WN_E_CORRUPT)
		goto abort;
	if (c->writable) {
		if ((rc = recover(c, txn)))
			goto abort;
		rc = mdb_txn_commit(txn);
		if (rc)
			return wn_lmdb_err(c, rc, "commit");
		/* a rewrite a crash interrupted is finished, and then what recover left for it */
		int did;
		if ((rc = wn_rewrite_finish(c, &did)) || (did && (rc = wn_catalog_rollback(c))))
			return rc;
		/* an interrupted run may have committed without rewriting the manifests */
		return wn_catalog_write_manifests(c);
	}
	/* commit, not abort: DBI handles opened in an aborted transaction are closed */
	rc = mdb_txn_commit(txn);
	return rc ? wn_lmdb_err(c, rc, "commit") : 0;
abort:
	mdb_txn_abort(txn);
	return rc;
}

int wn_index_create(wn_catalog **out, const char *dir, const char *index, unsigned env_flags)
{
	wn_catalog *c = calloc(1, sizeof *c);
	*out = c;
	if (!c || !(c->dir = strdup(dir)))
		return WN_E_NOMEM;
	c->lockfd = -1;
	c->writable = 1;
	c->env_flags = env_flags;
	if ((c->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return wn_seterr(c, errno, "%s: %s", dir, strerror(errno));
	snprintf(c->index, sizeof c->index, "%s", index);
	int rc = open_env(c);
	if (rc)
		return rc;
	MDB_txn *txn;
	if ((rc = mdb_txn_begin(c->env, NULL, 0, &txn)))
		return wn_lmdb_err(c, rc, "begin");
	MDB_val v;
	if ((rc = open_dbs(c, txn)) || (rc = wn_meta_get(c, txn, "format_version", &v)) != WN_E_NOTFOUND ||
	    (rc = check_format(c, txn))) {
		mdb_txn_abort(txn);
		return rc ? rc : wn_seterr(c, WN_E_USAGE, "%s/%s: already holds an index", dir, index);
	}
	rc = mdb_txn_commit(txn);
	return rc ? wn_lmdb_err(c, rc, "commit") : 0;
}

void wn_catalog_forget_abandoned(wn_catalog *c)
{
	for (size_t i = 0; i < c->nabandoned; i++)
		free(c->abandoned[i]);
	free(c->abandoned);
	c->abandoned = NULL;
	c->nabandoned = 0;
}

void wn_catalog_close(wn_catalog *c)
{
	if (!c)
		return;
	wn_catalog_forget_abandoned(c);
	for (int k = 0; k < WN_KINDS_MAX; k++)
		free(c->prof[k]);
	if (c->env)
		mdb_env_close(c->env);
	if (c->lockfd >= 0)
		close(c->lockfd);
	if (c->dirfd >= 0)
		close(c->dirfd);
	free(c->dir);
	free(c);
}

/* LMDB reads through a shared read-only map of data.mdb. Pages we touched count in our
 * resident set although they are clean page cache that the kernel may drop at any time;
 * with an index of many GB, every merge and lookup would grow RSS towards the index size.
 * Between transactions no pointer into the map is live, so we drop our page-table
 * entries for it: the pages stay in the page cache and come back on the next touch. */
/* Resident bytes of file-backed mappings (mostly the index map: "shared" in
 * /proc/self/statm) and of the rest (anonymous memory). 0 when it cannot be read. */
uint64_t wn_mapped_file_bytes(uint64_t *anon)
{
	char buf[128];
	if (anon)
		*anon = 0;
	int fd = open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = 0;
	unsigned long long size, res, shared;
	if (sscanf(buf, "%llu %llu %llu", &size, &res, &shared) != 3)
		return 0;
	uint64_t pg = (uint64_t)sysconf(_SC_PAGESIZE);
	if (anon)
		*anon = res > shared ? (res - shared) * pg : 0;
	return (uint64_t)shared * pg;
}

/* Where LMDB mapped data.mdb: mdb_env_info() gives the address only for MDB_FIXEDMAP,
 * so find the mapping of that file (by device and inode) in /proc/self/maps. */
static void find_map(wn_catalog *c)
{
	char line[4600];
	struct stat st;
	int fd;
	c->map_searched = 1;
	if (mdb_env_get_fd(c->env, &fd) || fstat(fd, &st))
		return;
	FILE *f = fopen("/proc/self/maps", "re");
	if (!f)
		return;
	while (fgets(line, sizeof line, f)) {
		unsigned long lo, hi, ino, maj, min;
		if (sscanf(line, "%lx-%lx %*s %*s %lx:%lx %lu", &lo, &hi, &maj, &min, &ino) != 5)
			continue;
		if (ino == (unsigned long)st.st_ino && makedev(maj, min) == st.st_dev && hi - lo > c->map_len) {
			c->map_addr = (void *)lo;
			c->map_len = hi - lo;
		}
	}
	fclose(f);
}

const uint8_t *wn_index_map(wn_catalog *c)
{
	if (!c->map_searched)
		find_map(c);
	return c->map_addr;
}

void wn_index_release_pages(wn_catalog *c)
{
	MDB_envinfo info;
	if (!c->env || mdb_env_info(c->env, &info))
		return;
	if (!c->map_searched)
		find_map(c);
	if (!c->map_addr)
		return;
	size_t used = (size_t)(info.me_last_pgno + 1) * (size_t)sysconf(_SC_PAGESIZE);
	madvise(c->map_addr, used < c->map_len ? used : c->map_len, MADV_DONTNEED);
}

/* ---- manifests ---- */

/* The SHA-256 of a sealed file for SHA256SUMS: from meta "sha256:<path>", written when the
 * file was sealed; for a file sealed before the catalog kept SHA256SUMS, read the file
 * (its XXH128 must still match: a damaged file is not vouched for) and note it in *add
 * (path, NUL, 32 bytes) to be stored. */
static int file_sha256(wn_catalog *c, MDB_txn *txn, const char *rel, size_t rl, wn_fileinfo *f, wn_buf *add)
{
	char key[200], path[4400];
	MDB_val v;
	if (rl > 150)
		return wn_seterr(c, WN_E_CORRUPT, "index: a file name of %zu bytes", rl);
	snprintf(key, sizeof key, "sha256:%.*s", (int)rl, rel);
	int rc = wn_meta_get(c, txn, key, &v);
	if (!rc && v.mv_size == 32) {
		memcpy(f->sha256, v.mv_data, 32);
		f->has_sha256 = 1;
		return 0;
	}
	if (rc && rc != WN_E_NOTFOUND)
		return rc;
	uint8_t xxh[16];
	char r0[256];
	snprintf(path, sizeof path, "%s/%.*s", c->dir, (int)rl, rel);
	snprintf(r0, sizeof r0, "%.*s", (int)rl, rel);
	rc = wn_file_digests(c->dirfd, r0, xxh, f->sha256, NULL);
	if (rc)
		return wn_seterr(c, rc < 0 && rc > WN_OPEN_SYMLINK ? rc : wn_open_code(rc), "%s: %s", path,
			rc < 0 && rc > WN_OPEN_SYMLINK ? wn_strerror(rc) : wn_open_why(rc));
	if (memcmp(xxh, f->xxh128, 16))
		return wn_seterr(c, WN_E_CORRUPT, "%s: its XXH128 no longer matches the index: not adding its SHA-256 "
			"(run winnow verify)", path);
	f->has_sha256 = 1;
	if (wn_buf_put(add, rel, rl) || wn_buf_put(add, "", 1) || wn_buf_put(add, f->sha256, 32))
		return WN_E_NOMEM;
	return 0;
}

/* Store the SHA-256 that file_sha256 computed (writer only). */
static int store_sha256(wn_catalog *c, const wn_buf *add)
{
	MDB_txn *txn;
	char key[200];
	if (!add->len || !c->writable)
		return 0;
	int rc = mdb_txn_begin(c->env, NULL, 0, &txn);
	if (rc)
		return wn_lmdb_err(c, rc, "begin");
	for (size_t i = 0; i < add->len && !rc;) {
		size_t n = strlen(add->p + i);
		snprintf(key, sizeof key, "sha256:%s", add->p + i);
		rc = wn_meta_put(c, txn, key, add->p + i + n + 1, 32);
		i += n + 1 + 32;
	}
	if (rc) {
		mdb_txn_abort(txn);
		return rc;
	}
	rc = mdb_txn_commit(txn);
	return rc ? wn_lmdb_err(c, rc, "commit") : 0;
}

int wn_catalog_set_digest(wn_catalog *c, const char *algo)
{
	if (!algo || strcmp(algo, "sha256"))
		return wn_seterr(c, WN_E_USAGE, "unknown digest \"%s\" (sha256 is the one there is)", algo ? algo : "");
	if (!c->writable)
		return wn_seterr(c, WN_E_USAGE, "the catalog must be open for writing to keep SHA256SUMS");
	if (c->digest)
		return 0;
	MDB_txn *txn;
	int rc = mdb_txn_begin(c->env, NULL, 0, &txn);
	if (rc)
		return wn_lmdb_err(c, rc, "begin");
	if ((rc = wn_meta_put(c, txn, "digest", "sha256", 6))) {
		mdb_txn_abort(txn);
		return rc;
	}
	if ((rc = mdb_txn_commit(txn)))
		return wn_lmdb_err(c, rc, "commit");
	c->digest = 1;
	return wn_catalog_write_manifests(c);
}

/* {"<pseudonym>":"YYYY-MM-DD",...} of meta tombstone:<pseudonym> into b (left empty, p
 * NULL, when there is none): catalog.json keeps them, so that reindex does too. */
static int tombstones_json(wn_catalog *c, wn_buf *b)
{
	MDB_txn *txn;
	MDB_cursor *cur;
	size_t pl = strlen(WN_TOMBSTONE_PREFIX);
	MDB_val k = { pl, (void *)WN_TOMBSTONE_PREFIX }, v;
	int rc = mdb_txn_begin(c->env, NULL, MDB_RDONLY, &txn);
	if (rc)
		return wn_lmdb_err(c, rc, "begin");
	if ((rc = mdb_cursor_open(txn, c->db_meta, &cur))) {
		mdb_txn_abort(txn);
		return wn_lmdb_err(c, rc, "meta cursor");
	}
	int n = 0, err = 0;
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); !rc && !err; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (k.mv_size < pl || memcmp(k.mv_data, WN_TOMBSTONE_PREFIX, pl))
			break;
		if (!wn_sum_ok(k.mv_data, k.mv_size, v.mv_data, v.mv_size) || v.mv_size != 10 + WN_SUM_BYTES ||
		    k.mv_size != pl + 32) {
			err = wn_index_damaged(c, "meta %.*s", (int)k.mv_size, (const char *)k.mv_data);
			break;
		}
		err = wn_buf_printf(b, "%s\"%.32s\":\"%.10s\"", n++ ? "," : "{", (const char *)k.mv_data + pl,
			(const char *)v.mv_data);
	}
	mdb_cursor_close(cur);
	mdb_txn_abort(txn);
	if (!err && n)
		err = wn_buf_puts(b, "}");
	if (err)
		return err;
	return rc && rc != MDB_NOTFOUND ? wn_lmdb_err(c, rc, "meta") : 0;
}

int wn_catalog_write_manifests(wn_catalog *c)
{
	MDB_txn *txn;
	MDB_cursor *cur;
	MDB_val k, v;
	wn_buf man = { 0 }, js = { 0 }, cat = { 0 }, sums = { 0 }, add = { 0 }, opts = { 0 };
	int rc = mdb_txn_begin(c->env, NULL, MDB_RDONLY, &txn);
	if (rc)
		return wn_lmdb_err(c, rc, "begin");
	if ((rc = mdb_cursor_open(txn, c->db_files, &cur))) {
		mdb_txn_abort(txn);
		return wn_lmdb_err(c, rc, "files cursor");
	}
	wn_manifest_json_begin(&js, c->generation);
	int first = 1, open_files = 0, ferr = 0;
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); !rc; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		wn_fileinfo f;
		if ((ferr = wn_file_row(c, &k, &v, &f)))
			break;
		if (!f.sealed) {
			open_files++;
			continue;
		}
		wn_manifest_xxh_line(&man, k.mv_data, k.mv_size, f.xxh128);
		f.has_sha256 = 0;
		if (c->digest) {
			if ((ferr = file_sha256(c, txn, k.mv_data, k.mv_size, &f, &add)))
				break;
			wn_manifest_sha_line(&sums, k.mv_data, k.mv_size, f.sha256);
		}
		wn_manifest_json_file(&js, k.mv_data, k.mv_size, &f, wn_catalog_kind_name(c, f.kind), first);
		first = 0;
	}
	mdb_cursor_close(cur);
	mdb_txn_abort(txn);
	if (ferr)
		rc = ferr;
	else if (rc == MDB_NOTFOUND)
		rc = store_sha256(c, &add);
	else
		rc = wn_lmdb_err(c, rc, "files");
	wn_buf_free(&add);
	if (rc) {
		wn_buf_free(&man);
		wn_buf_free(&js);
		wn_buf_free(&sums);
		return rc;
	}
	wn_manifest_json_end(&js, &c->kinds, c->ks);
	wn_buf tombs = { 0 };
	if ((rc = tombstones_json(c, &tombs))) {
		wn_buf_free(&man);
		wn_buf_free(&js);
		wn_buf_free(&sums);
		return rc;
	}
	if (!wn_profiles_encode(c, &opts))
		wn_catalog_json(&cat, c->generation, open_files, opts.p, tombs.p, &c->kinds, c->ks);
	wn_buf_free(&tombs);
	wn_buf_free(&opts);
	if (!man.p)
		wn_buf_puts(&man, "");
	if (!sums.p)
		wn_buf_puts(&sums, "");
	rc = WN_E_NOMEM;
	if (js.p && cat.p && man.p && sums.p) {
		/* MANIFEST last: what `xxhsum -c` reads is replaced only when the rest is */
		const struct { const char *name; const wn_buf *b; int on; } w[] = {
			{ "MANIFEST.json", &js, 1 }, { "catalog.json", &cat, 1 },
			{ "SHA256SUMS", &sums, c->digest },   /* what `sha256sum -c SHA256SUMS` reads, in MANIFEST's order */
			{ "MANIFEST", &man, 1 },
		};
		rc = 0;
		for (size_t i = 0; i < sizeof w / sizeof w[0] && !rc; i++) {
			if (!w[i].on)
				continue;
			int e = wn_write_file_atomic(c->dirfd, w[i].name, w[i].b->p, w[i].b->len);
			if (e)
				rc = wn_seterr(c, wn_open_code(e), "%s/%s: %s", c->dir, w[i].name, wn_open_why(e));
		}
	}
	wn_buf_free(&man);
	wn_buf_free(&js);
	wn_buf_free(&cat);
	wn_buf_free(&sums);
	return rc;
}
