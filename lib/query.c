/*
 * query.c - getting records back: export (every survivor in catalog order), get by id or
 * ISRC (one frame read per record), and the numbers behind `winnow stats`.
 *
 * Readers work from one read-only LMDB snapshot, so they see the catalog as of the last
 * checkpoint even while a writer is appending beyond it. Records are found by their
 * ordinals through the frame layer (frame.c) and read with the record's own parser
 * set-up (record.c).
 */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- export ---- */

/* wn_shard_keep() for a reader with a snapshot: a shard that is not there is
 * WN_E_MISSING, named with the records it holds. */
static int keep_shard(wn_catalog *c, MDB_txn *txn, int kind, uint32_t seq, int *fd, uint32_t *fd_seq, char *rel,
	size_t rl)
{
	int rc = wn_shard_keep(c, kind, seq, fd, fd_seq, rel, rl);
	return rc == ENOENT ? wn_shard_missing(c, txn, kind, rel) : rc;
}

/* A shard export skips: its name, the ordinals of the frames that were skipped, and
 * how many of them are survivors. */
typedef struct skipped {
	int on;
	uint32_t seq;
	char rel[128];
	uint64_t first, last, survivors;
} skipped;

/* How many records of first..last are superseded (keys of <kind>.superseded). */
static int count_superseded(wn_catalog *c, MDB_txn *txn, int kind, uint64_t first, uint64_t last, uint64_t *n)
{
	MDB_cursor *cur;
	uint8_t kb[8];
	MDB_val k = { 8, kb }, v;
	*n = 0;
	wn_put_be64(kb, first);
	int rc = mdb_cursor_open(txn, c->db_super[kind], &cur);
	if (rc)
		return wn_lmdb_err(c, rc, "superseded");
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); !rc && k.mv_size == 8 && wn_get_be64(k.mv_data) <= last;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT))
		++*n;
	mdb_cursor_close(cur);
	return rc && rc != MDB_NOTFOUND ? wn_lmdb_err(c, rc, "superseded") : 0;
}

/* Records first..last have no frame rows: the shards that hold them were not there when
 * the index was built (winnow reindex --ignore-missing of a partial mirror). Each is
 * reported (or skipped) as a missing shard is; a shard that is there but has no frame
 * rows is damage to the index. */
static int gap(wn_catalog *c, MDB_txn *txn, int kind, uint64_t first, uint64_t last, wn_missing_fn missing, void *ud)
{
	while (first <= last) {
		wn_fileinfo f;
		char rel[128];
		uint64_t dead;
		int rc = wn_shard_of(c, txn, kind, first, &f, rel, sizeof rel);
		if (rc < 0)
			return rc;
		if (!rc || wn_shard_present(c, rel))
			return wn_seterr(c, WN_E_CORRUPT, "index: no frame row holds %s record %llu: the index is damaged; "
				"rebuild it from the data files with `winnow reindex -C %s`", wn_catalog_kind_name(c, kind),
				(unsigned long long)first, c->dir);
		if (!missing)
			return wn_shard_missing(c, txn, kind, rel);
		uint64_t end = f.first_ord + f.nrecords - 1;
		if ((rc = count_superseded(c, txn, kind, f.first_ord, end, &dead)) ||
		    (rc = missing(rel, f.first_ord, end, f.nrecords - dead, ud)))
			return rc;
		first = end + 1;
	}
	return 0;
}

int wn_export_partial(wn_catalog *c, const char *kind_name, wn_emit_fn emit, wn_missing_fn missing, void *ud)
{
	MDB_txn *txn;
	MDB_cursor *cur = NULL, *sup = NULL;
	MDB_val k, v, sk, sv;
	wn_buf raw = { 0 }, scratch = { 0 };
	char rel[128];
	int fd = -1;
	uint32_t fd_seq = 0;
	skipped skip = { 0 };
	c->err[0] = 0;
	int kind = wn_catalog_kind(c, NULL, kind_name ? kind_name : "track", 0);
	if (kind < 0)
		return kind;
	int rc = mdb_txn_begin(c->env, NULL, MDB_RDONLY, &txn);
	if (rc)
		return wn_lmdb_err(c, rc, "begin");
	if ((rc = mdb_cursor_open(txn, c->db_frames[kind], &cur)) || (rc = mdb_cursor_open(txn, c->db_super[kind], &sup))) {
		rc = wn_lmdb_err(c, rc, "cursor");
		goto out;
	}
	/* superseded ordinals, walked in step with the frames */
	uint64_t next_dead = UINT64_MAX, want = 0;
	int sr = mdb_cursor_get(sup, &sk, &sv, MDB_FIRST);
	if (!sr && sk.mv_size == 8)
		next_dead = wn_get_be64(sk.mv_data);
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); !rc; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		wn_frameinfo fi;
		if ((rc = wn_frame_row(c, &k, &v, &fi)))
			goto out;
		if (skip.on && skip.seq != fi.shard_seq) {
			skip.on = 0;
			if ((rc = missing(skip.rel, skip.first, skip.last, skip.survivors, ud)))
				goto out;
		}
		if (fi.first_ord > want && (rc = gap(c, txn, kind, want, fi.first_ord - 1, missing, ud)))
			goto out;
		want = fi.first_ord + fi.nrec;
		int present = !(skip.on && skip.seq == fi.shard_seq);
		if (present) {
			rc = keep_shard(c, txn, kind, fi.shard_seq, &fd, &fd_seq, rel, sizeof rel);
			if (rc == WN_E_MISSING && missing) {
				skip = (skipped){ .on = 1, .seq = fi.shard_seq, .first = fi.first_ord };
				snprintf(skip.rel, sizeof skip.rel, "%s", rel);
				present = 0;
				rc = 0;
			}
			if (rc || (present && (rc = wn_frame_load_fd(c, fd, rel, &fi, &raw, &scratch))))
				goto out;
		}
		const char *p = present ? raw.p : NULL, *end = present ? raw.p + raw.len : NULL;
		for (uint32_t i = 0; i < fi.nrec; i++) {
			const char *nl = present ? memchr(p, '\n', (size_t)(end - p)) : NULL;
			if (present && !nl) {
				rc = wn_frame_damaged(c, rel, &fi, "holds fewer records than the index says");
				goto out;
			}
			uint64_t ord = fi.first_ord + i;
			while (next_dead < ord) {
				sr = mdb_cursor_get(sup, &sk, &sv, MDB_NEXT);
				next_dead = (!sr && sk.mv_size == 8) ? wn_get_be64(sk.mv_data) : UINT64_MAX;
			}
			/* (a forgotten record's place holds its placeholder: no record) */
			if (ord != next_dead) {
				if (!present)
					skip.survivors++;
				else if (!wn_is_forgotten_line(p, (size_t)(nl - p)) && (rc = emit(p, (size_t)(nl - p), ud)))
					goto out;
			}
			if (present)
				p = nl + 1;
		}
		if (!present)
			skip.last = fi.first_ord + fi.nrec - 1;
	}
	if (rc == MDB_NOTFOUND) {
		wn_kstate ks;
		rc = skip.on ? missing(skip.rel, skip.first, skip.last, skip.survivors, ud) : 0;
		if (!rc && !(rc = wn_meta_get_kstate(c, txn, kind, &ks)) && ks.next_ord > want)
			rc = gap(c, txn, kind, want, ks.next_ord - 1, missing, ud);
	} else if (rc > 0 || rc < -30000)
		rc = wn_lmdb_err(c, rc, "frames");
out:
	if (fd >= 0)
		close(fd);
	if (cur)
		mdb_cursor_close(cur);
	if (sup)
		mdb_cursor_close(sup);
	mdb_txn_abort(txn);
	wn_buf_free(&raw);
	wn_buf_free(&scratch);
	return rc;
}

int wn_export(wn_catalog *c, const char *kind, wn_emit_fn emit, void *ud)
{
	return wn_export_partial(c, kind, emit, NULL, ud);
}

/* ---- get ---- */

typedef struct fetcher {
	wn_catalog *c;
	MDB_txn *txn;
	int kind;
	wn_buf raw, scratch;
	wn_json *json;
} fetcher;

static int fetch(fetcher *f, uint64_t ord, const char **line, size_t *len)
{
	wn_frameinfo fi;
	int rc = wn_record_locate(f->c, f->txn, f->kind, ord, &fi);
	if (rc)
		return rc;
	if ((rc = wn_frame_load(f->c, f->kind, &fi, &f->raw, &f->scratch))) {
		if (rc != ENOENT)
			return rc;
		char rel[128];
		wn_file_relpath(rel, sizeof rel, WN_ROLE_SHARD, wn_catalog_kind_name(f->c, f->kind), fi.shard_seq);
		return wn_shard_missing(f->c, f->txn, f->kind, rel);
	}
	if (wn_frame_line(f->raw.p, f->raw.len, (uint32_t)(ord - fi.first_ord), line, len))
		return wn_seterr(f->c, WN_E_CORRUPT, "record %llu is not in its frame", (unsigned long long)ord);
	return 0;
}

typedef struct wanted {
	size_t i;          /* position in the caller's list */
	uint64_t ord;
	wn_frameinfo fi;
	uint8_t fp[16];    /* the fingerprint the index holds for it */
	char *rec;         /* found record (copy), NULL if not found */
	size_t len;
} wanted;

static int cmp_want_ord(const void *a, const void *b)
{
	const wanted *x = a, *y = b;
	return x->ord < y->ord ? -1 : x->ord > y->ord;
}

static int cmp_want_i(const void *a, const void *b)
{
	const wanted *x = a, *y = b;
	return x->i < y->i ? -1 : x->i > y->i;
}

int wn_get_many(wn_catalog *c, const char *kind_name, const char *const *ids, const size_t *lens, size_t n, wn_get_fn fn,
	void *ud)
{
	MDB_txn *txn;
	wn_buf raw = { 0 }, scratch = { 0 };
	char rel[128];
	int fd = -1;
	uint32_t fd_seq = 0;
	c->err[0] = 0;
	int kind = wn_catalog_kind(c, NULL, kind_name ? kind_name : "track", 0);
	if (kind < 0)
		return kind;
	wanted *w = calloc(n ? n : 1, sizeof *w);
	wn_json *json = wn_json_new();
	ZSTD_DCtx *dctx = ZSTD_createDCtx();
	int rc = (!w || !json || !dctx) ? WN_E_NOMEM : mdb_txn_begin(c->env, NULL, MDB_RDONLY, &txn);
	if (rc) {
		free(w);
		wn_json_free(json);
		ZSTD_freeDCtx(dctx);
		return rc == WN_E_NOMEM ? rc : wn_lmdb_err(c, rc, "begin");
	}
	/* the record's keys as the catalog computes them: its fingerprint proves it */
	const wn_profile *prof = wn_catalog_profile(c, kind);
	rc = wn_record_parser(json, prof, WN_RECORD_FP);
	/* index lookups, then frames in ordinal order: each frame is read once */
	size_t nw = 0;
	for (size_t i = 0; i < n && !rc; i++) {
		uint64_t hash;
		uint16_t check;
		wn_idrec r;
		wn_id_hash(ids[i], lens[i], &hash, &check);
		int f = wn_map_find_id(c, txn, kind, hash, check, &r);
		if (f < 0)
			rc = f;
		else if (f) {
			w[nw].i = i;
			w[nw].ord = r.ord;
			memcpy(w[nw].fp, r.fp, 16);
			nw++;
		}
	}
	if (!rc)
		qsort(w, nw, sizeof *w, cmp_want_ord);
	/* the wanted records of a frame come in ordinal order: each line is found from the
	 * one before (cur, its line number cur_n), so a frame is scanned once, not once per id */
	const char *cur = NULL;
	uint32_t cur_n = 0;
	for (size_t k = 0; k < nw && !rc; k++) {
		if (!k || w[k].ord > w[k - 1].fi.first_ord + w[k - 1].fi.nrec - 1) {
			/* a new frame: how far into it do the wanted records go? */
			if ((rc = wn_record_locate(c, txn, kind, w[k].ord, &w[k].fi)))
				break;
			uint32_t upto = (uint32_t)(w[k].ord - w[k].fi.first_ord);
			for (size_t j = k + 1; j < nw && w[j].ord < w[k].fi.first_ord + w[k].fi.nrec; j++)
				upto = (uint32_t)(w[j].ord - w[k].fi.first_ord);
			/* with ignore paths the fingerprint does not cover every value: then the
			 * frame is read whole, for its checksum */
			if ((rc = keep_shard(c, txn, kind, w[k].fi.shard_seq, &fd, &fd_seq, rel, sizeof rel)) ||
			    (rc = prof->n_ignore ? wn_frame_load_fd(c, fd, rel, &w[k].fi, &raw, &scratch)
			                           : wn_frame_load_upto(c, fd, rel, &w[k].fi, upto, &raw, &scratch, dctx)))
				break;
			cur = raw.p;
			cur_n = 0;
		} else {
			w[k].fi = w[k - 1].fi;
		}
		const char *line;
		size_t len;
		uint32_t nth = (uint32_t)(w[k].ord - w[k].fi.first_ord);
		if (wn_frame_line(cur, (size_t)(raw.p + raw.len - cur), nth - cur_n, &line, &len)) {
			rc = wn_frame_damaged(c, rel, &w[k].fi, "record %llu (line %u of the frame) is not there",
				(unsigned long long)w[k].ord, nth + 1);
			break;
		}
		cur = line;
		cur_n = nth;
		/* the frame was not checked: the record must be the one the index holds */
		wn_jresult jr;
		if (wn_json_record(json, line, len, &jr)) {
			rc = wn_frame_damaged(c, rel, &w[k].fi, "record %llu (line %u of the frame) does not parse: %s",
				(unsigned long long)w[k].ord, nth + 1, jr.err);
			break;
		}
		if (memcmp(jr.fp, w[k].fp, 16)) {
			rc = wn_frame_damaged(c, rel, &w[k].fi,
				"record %llu (line %u of the frame) is not the one the index holds: its fingerprint differs",
				(unsigned long long)w[k].ord, nth + 1);
			break;
		}
		/* the index is keyed by a hash of the id: the intact record of another id
		 * whose hash is the same means that this id is not in the catalog */
		size_t i = w[k].i;
		wn_keys key;
		char idbuf[WN_ID_BUF];
		if (wn_record_keys(&jr, prof, &key, idbuf, NULL, 0) || key.id_len != lens[i] || memcmp(key.id, ids[i], lens[i]))
			continue;
		w[k].rec = malloc(len ? len : 1);
		if (!w[k].rec) {
			rc = WN_E_NOMEM;
			break;
		}
		memcpy(w[k].rec, line, len);
		w[k].len = len;
	}
	if (fd >= 0)
		close(fd);
	/* answer in the caller's order */
	qsort(w, nw, sizeof *w, cmp_want_i);
	/* "not found" is an answer only if every shard is there: in a partial mirror the id
	 * may be in one that is not */
	for (size_t i = 0, k = 0; i < n && !rc; i++) {
		while (k < nw && w[k].i < i)
			k++;
		if (k < nw && w[k].i == i && w[k].rec)
			continue;
		char desc[300];
		int na = wn_shards_absent(c, txn, kind, desc, sizeof desc);
		if (na < 0)
			rc = na;
		else if (na)
			rc = wn_seterr(c, WN_E_MISSING, "%s id \"%.*s\" is not in the shards that are here, and %s%s",
				wn_catalog_kind_name(c, kind), (int)(lens[i] > 200 ? 200 : lens[i]), ids[i], desc,
				na > 1 ? " (and more shards are missing)" : "");
		break;
	}
	mdb_txn_abort(txn);
	size_t k = 0;
	for (size_t i = 0; i < n && !rc; i++) {
		while (k < nw && w[k].i < i)
			k++;
		if (k < nw && w[k].i == i && w[k].rec)
			rc = fn(i, w[k].rec, w[k].len, ud);
		else
			rc = fn(i, NULL, 0, ud);
	}
	for (size_t j = 0; j < nw; j++)
		free(w[j].rec);
	free(w);
	wn_json_free(json);
	ZSTD_freeDCtx(dctx);
	wn_buf_free(&raw);
	wn_buf_free(&scratch);
	return rc;
}

typedef struct one {
	wn_emit_fn emit;
	void *ud;
	int found;
} one;

static int one_fn(size_t i, const char *rec, size_t len, void *ud)
{
	one *o = ud;
	if (!rec)
		return 0;
	o->found = 1;
	return o->emit(rec, len, o->ud);
}

int wn_get(wn_catalog *c, const char *kind, const char *id, size_t idlen, wn_emit_fn emit, void *ud)
{
	one o = { emit, ud, 0 };
	int rc = wn_get_many(c, kind, &id, &idlen, 1, one_fn, &o);
	if (!rc && !o.found)
		rc = wn_seterr(c, WN_E_NOTFOUND, "no %s with id \"%.*s\"", kind ? kind : "track", (int)(idlen > 200 ? 200 : idlen),
			id);
	return rc;
}

typedef struct ordvec {
	uint64_t *v;
	size_t n, cap;
} ordvec;

static int collect_ord(uint64_t ord, void *ud)
{
	ordvec *o = ud;
	if (WN_GROW(o->v, o->n, o->cap, 16))
		return WN_E_NOMEM;
	o->v[o->n++] = ord;
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

int wn_get_isrc(wn_catalog *c, const char *kind_name, const char *isrc, size_t ilen, wn_emit_fn emit, void *ud)
{
	const char *kn = kind_name ? kind_name : "track";
	int kind = wn_catalog_kind(c, NULL, kn, 0);
	if (kind < 0)
		return kind;
	fetcher f = { .c = c, .kind = kind };
	ordvec ords = { 0 };
	char want[WN_MAX_ISRC], got[WN_MAX_ISRC];
	c->err[0] = 0;
	if (ilen > sizeof want)
		return wn_seterr(c, WN_E_NOTFOUND, "no %s with ISRC \"%.*s\"", kn, WN_MAX_ISRC, isrc);
	size_t wl = wn_isrc_norm(want, isrc, ilen);
	int rc = mdb_txn_begin(c->env, NULL, MDB_RDONLY, &f.txn);
	if (rc)
		return wn_lmdb_err(c, rc, "begin");
	f.json = wn_json_new();
	if (!f.json) {
		rc = WN_E_NOMEM;
		goto out;
	}
	if ((rc = wn_map_pairs(c, f.txn, kind, WN_MAP_ISRC, wn_isrc_hash(isrc, ilen), collect_ord, &ords)))
		goto out;
	qsort(ords.v, ords.n, sizeof *ords.v, cmp_u64);
	if ((rc = wn_record_parser(f.json, wn_catalog_profile(c, kind), 0)))
		goto out;
	size_t found = 0;
	for (size_t i = 0; i < ords.n; i++) {
		if (i && ords.v[i] == ords.v[i - 1])
			continue;
		int sup = wn_is_superseded(c, f.txn, kind, ords.v[i]);
		if (sup < 0) {
			rc = sup;
			goto out;
		}
		if (sup)
			continue;
		const char *line;
		size_t len;
		if ((rc = fetch(&f, ords.v[i], &line, &len)))
			goto out;
		wn_jresult jr;
		if (wn_json_record(f.json, line, len, &jr))
			continue;
		wn_isrcs is;
		int match = 0;
		wn_record_isrcs(&jr, &is);
		for (int j = 0; j < is.n && !match; j++)
			match = is.len[j] <= sizeof got && wn_isrc_norm(got, is.p[j], is.len[j]) == wl && !memcmp(got, want, wl);
		if (!match)
			continue;
		found++;
		if ((rc = emit(line, len, ud)))
			goto out;
	}
	if (!found)
		rc = wn_seterr(c, WN_E_NOTFOUND, "no %s with ISRC \"%.*s\"", kn, (int)ilen, isrc);
out:
	free(ords.v);
	wn_json_free(f.json);
	wn_buf_free(&f.raw);
	wn_buf_free(&f.scratch);
	mdb_txn_abort(f.txn);
	return rc;
}

/* ---- stats ---- */

static uint64_t db_pages(MDB_txn *txn, MDB_dbi dbi)
{
	MDB_stat st;
	if (mdb_stat(txn, dbi, &st))
		return 0;
	return st.ms_branch_pages + st.ms_leaf_pages + st.ms_overflow_pages;
}

int wn_catalog_stats(wn_catalog *c, wn_stats *out)
{
	MDB_txn *txn;
	MDB_cursor *cur;
	MDB_val k, v;
	memset(out, 0, sizeof *out);
	c->err[0] = 0;
	out->format_version = WN_FORMAT_VERSION;
	out->fingerprint_version = WN_FP_VERSION;
	int rc = mdb_txn_begin(c->env, NULL, MDB_RDONLY, &txn);
	if (rc)
		return wn_lmdb_err(c, rc, "begin");
	MDB_val g;
	if (!(rc = wn_meta_get(c, txn, "generation", &g)) && g.mv_size == 8)
		out->generation = wn_get_be64(g.mv_data);
	if (rc == WN_E_CORRUPT)
		goto out;
	out->nkinds = c->kinds.n;
	for (int kd = 0; kd < c->kinds.n; kd++) {
		wn_kstate ks;
		wn_kind_stats *s = &out->kind[kd];
		strcpy(s->name, c->kinds.name[kd]);
		if ((rc = wn_meta_get_kstate(c, txn, kd, &ks)))
			goto out;
		s->records = ks.kept;
#define WN_X(n) s->n = ks.n;
		WN_OUTCOMES(WN_X)
#undef WN_X
		s->ledger_entries = ks.ledger_entries;
		s->reject_entries = ks.reject_entries;
		uint64_t runs;
		if ((rc = wn_map_count(c, txn, kd, WN_MAP_ID, &s->id_entries, &runs)))
			goto out;
		s->runs = runs;
		if ((rc = wn_map_count(c, txn, kd, WN_MAP_FP, &s->fp_entries, &runs)))
			goto out;
		s->runs += runs;
		if ((rc = wn_map_count(c, txn, kd, WN_MAP_ISRC, &s->isrc_entries, &runs)))
			goto out;
		s->runs += runs;
	}
	if ((rc = mdb_cursor_open(txn, c->db_files, &cur))) {
		rc = wn_lmdb_err(c, rc, "files");
		goto out;
	}
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); !rc; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		wn_fileinfo f;
		if ((rc = wn_file_row(c, &k, &v, &f))) {
			mdb_cursor_close(cur);
			goto out;
		}
		uint64_t bytes = f.sealed ? f.size : f.data_len;
		if (f.role == WN_ROLE_SHARD) {
			wn_kind_stats *s = &out->kind[f.kind];
			s->shards++;
			s->frames += f.nframes;
			s->raw_bytes += f.raw_bytes;
			s->stored_bytes += bytes;
		} else if (f.role == WN_ROLE_LEDGER) {
			out->ledger_bytes += bytes;
		} else {
			out->reject_bytes += bytes;
		}
	}
	mdb_cursor_close(cur);
	rc = 0;
	/* index size: the file, and the pages the databases use */
	struct stat st;
	int ifd;
	if (!mdb_env_get_fd(c->env, &ifd) && !fstat(ifd, &st))
		out->index_file_bytes = (uint64_t)st.st_size;
	MDB_stat est;
	mdb_env_stat(c->env, &est);
	uint64_t pages = 2 + db_pages(txn, 0) + db_pages(txn, c->db_meta) + db_pages(txn, c->db_files);
	for (int kd = 0; kd < c->kinds.n; kd++) {
		pages += db_pages(txn, c->db_frames[kd]) + db_pages(txn, c->db_super[kd]);
		for (int m = 0; m < WN_NMAPS; m++)
			pages += db_pages(txn, c->db_map[kd][m]);
	}
	out->index_used_bytes = pages * est.ms_psize;
out:
	mdb_txn_abort(txn);
	return rc;
}

/* ---- the ISRCs on most tracks ---- */

typedef struct topn {
	uint64_t *hash, *count;
	size_t n, limit;
	uint64_t cur_hash, cur_count;
	MDB_txn *txn;
	wn_catalog *c;
} topn;

static void top_push(topn *t)
{
	size_t i = t->n;
	if (t->n < t->limit)
		t->n++;
	else if (t->count[t->n - 1] >= t->cur_count)
		return;
	else
		i = t->n - 1;
	while (i > 0 && t->count[i - 1] < t->cur_count) {
		t->hash[i] = t->hash[i - 1];
		t->count[i] = t->count[i - 1];
		i--;
	}
	t->hash[i] = t->cur_hash;
	t->count[i] = t->cur_count;
}

static int top_fn(const uint8_t *e, void *ud)
{
	topn *t = ud;
	uint64_t h = wn_get_be64(e), ord = wn_get_be40(e + 8);
	int sup = wn_is_superseded(t->c, t->txn, WN_KIND_TRACK, ord);
	if (sup < 0)
		return sup;
	if (sup)
		return 0;
	if (h != t->cur_hash || !t->cur_count) {
		if (t->cur_count)
			top_push(t);
		t->cur_hash = h;
		t->cur_count = 0;
	}
	t->cur_count++;
	return 0;
}

typedef struct first_isrc {
	wn_buf *out;
	fetcher *f;
} first_isrc;

int wn_top_isrcs(wn_catalog *c, size_t limit, int (*fn)(const char *isrc, size_t len, uint64_t count, void *ud), void *ud)
{
	topn t = { .limit = limit, .c = c };
	fetcher f = { .c = c, .kind = WN_KIND_TRACK };
	ordvec ords = { 0 };
	c->err[0] = 0;
	if (!limit)
		return 0;
	t.hash = calloc(limit, 8);
	t.count = calloc(limit, 8);
	f.json = wn_json_new();
	if (!t.hash || !t.count || !f.json) {
		free(t.hash);
		free(t.count);
		wn_json_free(f.json);
		return WN_E_NOMEM;
	}
	int rc = mdb_txn_begin(c->env, NULL, MDB_RDONLY, &t.txn);
	if (rc) {
		rc = wn_lmdb_err(c, rc, "begin");
		goto out0;
	}
	f.txn = t.txn;
	rc = wn_map_merged_scan(c, t.txn, WN_KIND_TRACK, WN_MAP_ISRC, top_fn, &t);
	if (!rc && t.cur_count)
		top_push(&t);
	if (!rc)
		rc = wn_record_parser(f.json, wn_catalog_profile(c, WN_KIND_TRACK), 0);
	for (size_t i = 0; i < t.n && !rc; i++) {
		ords.n = 0;
		if ((rc = wn_map_pairs(c, t.txn, WN_KIND_TRACK, WN_MAP_ISRC, t.hash[i], collect_ord, &ords)))
			break;
		if (!ords.n)
			continue;
		qsort(ords.v, ords.n, sizeof *ords.v, cmp_u64);
		const char *line;
		size_t len;
		if ((rc = fetch(&f, ords.v[0], &line, &len)))
			break;
		wn_jresult jr;
		if (wn_json_record(f.json, line, len, &jr))
			continue;
		/* the text of the ISRC the count is of (a record may carry several) */
		wn_isrcs is;
		int j = 0;
		wn_record_isrcs(&jr, &is);
		while (j < is.n && wn_isrc_hash(is.p[j], is.len[j]) != t.hash[i])
			j++;
		rc = fn(j < is.n ? is.p[j] : "", j < is.n ? is.len[j] : 0, t.count[i], ud);
	}
	mdb_txn_abort(t.txn);
out0:
	free(ords.v);
	free(t.hash);
	free(t.count);
	wn_json_free(f.json);
	wn_buf_free(&f.raw);
	wn_buf_free(&f.scratch);
	return rc;
}
