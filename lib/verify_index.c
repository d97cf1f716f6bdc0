/*
 * verify_index.c - the index, read and checked both ways (deep mode, catalog): its files
 * and frames rows and counters are loaded first; then each map (id, fp, isrc) of each
 * kind is read in one sequential merged pass, in parallel across maps, and every entry is
 * compared with the compact per-ordinal record of what the shard record says (vord),
 * instead of one LMDB lookup per record; entries and records that do not match are
 * looked at again, reading the record back, to say what differs.
 */
#include <stdlib.h>
#include <xxhash.h>

#include "internal.h"
#include "verify.h"

/* ---- the index (catalog mode) ---- */

int wn_vload_index(vctx *x)
{
	wn_catalog *c = x->c;
	MDB_cursor *cur;
	MDB_val k, v;
	char key[4200], norm[4096], s1[80];
	int rc = mdb_txn_begin(c->env, NULL, MDB_RDONLY, &x->txn);
	if (rc)
		return wn_vlmdb_fail(x, rc, "begin");
	for (int kd = 0; kd < x->kinds.n; kd++)
		if ((rc = wn_meta_get_kstate(c, x->txn, kd, &x->ks[kd])) ||
		    (rc = wn_meta_forgotten(c, x->txn, kd, &x->forgotten[kd])))
			return wn_vfail(x, rc, "%s", c->err);
	if (!wn_meta_get(c, x->txn, "generation", &v) && v.mv_size == 8)
		x->generation = wn_get_be64(v.mv_data);
	for (int kd = 0; kd < x->kinds.n; kd++) {
		snprintf(key, sizeof key, "pending.%s", wn_kinds_name(&x->kinds, kd));
		if (!wn_meta_get(c, x->txn, key, &v))
			x->pending = x->pending_kind[kd] = 1;
	}
	/* files */
	if ((rc = mdb_cursor_open(x->txn, c->db_files, &cur)))
		return wn_vlmdb_fail(x, rc, "files");
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); !rc; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		const char *why = wn_vpath_norm(k.mv_data, k.mv_size, norm, sizeof norm);
		if (why) {
			wn_vprob(x, PK_METADATA, &NOLOC, "index: files row \"%s\": %s: refused, not opened",
				wn_vsnip(s1, sizeof s1, k.mv_data, k.mv_size), why);
			continue;
		}
		vfile *f = wn_vfile_get(x, norm);
		if (!f) {
			mdb_cursor_close(cur);
			return wn_vfail(x, WN_E_NOMEM, "out of memory");
		}
		if (v.mv_size != WN_FILEINFO_BYTES) {
			vloc l = at_file(f);
			wn_vprob(x, PK_IXMISMATCH, &l, "index: the files row has %zu bytes, not %d", v.mv_size, WN_FILEINFO_BYTES);
			continue;
		}
		if (!wn_sum_ok(k.mv_data, k.mv_size, v.mv_data, v.mv_size)) {
			vloc l = at_file(f);
			wn_vprob(x, PK_IXMISMATCH, &l, "index: the files row fails its checksum");
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
					return wn_vfail(x, WN_E_NOMEM, "out of memory");
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
				wn_vprob(x, PK_IXMISMATCH, &l, "index: the unsealed file has no usable frame list (meta %s)", key);
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
		return wn_vlmdb_fail(x, rc, "files");
	/* the frame rows, per kind (deep mode) */
	for (int kd = 0; kd < x->kinds.n && x->deep; kd++) {
		vkind *K = &x->k[kd];
		if ((rc = mdb_cursor_open(x->txn, c->db_frames[kd], &cur)))
			return wn_vlmdb_fail(x, rc, "frames");
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
					return wn_vfail(x, WN_E_NOMEM, "out of memory");
				}
			}
			if (k.mv_size != 8 || v.mv_size != WN_FRAMEINFO_BYTES) {
				wn_vprob(x, PK_IXMISMATCH, &NOLOC, "index: a %s.frames row has a %zu-byte key and a %zu-byte value",
					wn_kinds_name(&x->kinds, kd), k.mv_size, v.mv_size);
				continue;
			}
			if (!wn_sum_ok(k.mv_data, k.mv_size, v.mv_data, v.mv_size)) {
				wn_vprob(x, PK_IXMISMATCH, &NOLOC, "index: the %s.frames row of record %llu fails its checksum",
					wn_kinds_name(&x->kinds, kd), (unsigned long long)wn_get_be64(k.mv_data));
				continue;
			}
			wn_frameinfo_unpack(&K->rows[K->nrows], v.mv_data);
			K->rowkey[K->nrows++] = wn_get_be64(k.mv_data);
		}
		mdb_cursor_close(cur);
		if (rc != MDB_NOTFOUND)
			return wn_vlmdb_fail(x, rc, "frames");
		K->rowused = calloc(K->nrows ? K->nrows : 1, 1);
		if (!K->rowused)
			return wn_vfail(x, WN_E_NOMEM, "out of memory");
	}
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
		wn_vprob(x, PK_DANGLING, &l, "index: the id entry %016llx.%04x points at record %llu; records go up to %llu",
			(unsigned long long)wn_get_be64(e), e[8] << 8 | e[9], (unsigned long long)ord,
			(unsigned long long)(K->n ? K->n - 1 : 0));
		return;
	}
	vord *o = &K->o[ord];
	if (o->st & RF_GONE) {
		vloc l = wn_vrec_loc(x, s->kind, ord);
		wn_vprob(x, PK_DANGLING, &l, "index: the id entry %016llx.%04x points at record %llu, which was forgotten",
			(unsigned long long)wn_get_be64(e), e[8] << 8 | e[9], (unsigned long long)ord);
		return;
	}
	if (!(o->st & RF_KNOWN) || (o->st & RF_BADID))
		return;
	if (o->st & RF_SUPER) {
		vloc l = wn_vrec_loc(x, s->kind, ord);
		wn_vprob(x, PK_DANGLING, &l, "index: the id entry %016llx.%04x points at record %llu, a superseded version",
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
		wn_vprob(x, PK_DANGLING, &l, "index: the %s map pairs %016llx with record %llu; records go up to %llu",
			s->map == WN_MAP_FP ? "fp" : "isrc", (unsigned long long)h, (unsigned long long)ord,
			(unsigned long long)(K->n ? K->n - 1 : 0));
		return;
	}
	vord *o = &K->o[ord];
	if (o->st & RF_GONE) {
		vloc l = wn_vrec_loc(x, s->kind, ord);
		wn_vprob(x, PK_DANGLING, &l, "index: the %s map pairs %016llx with record %llu, which was forgotten",
			s->map == WN_MAP_FP ? "fp" : "isrc", (unsigned long long)h, (unsigned long long)ord);
		return;
	}
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
	} else if ((o->st & RF_ISRC) && (o->st & RF_MULTI)) {
		o->ism++;
		o->isx ^= (uint32_t)(h >> 8) & 0xffffff;
	} else if ((o->st & RF_ISRC) && o->isrc == h) {
		o->ism = 1;
	} else {
		vloc l = wn_vrec_loc(x, s->kind, ord);
		wn_vprob(x, PK_DANGLING, &l, "index: the isrc map pairs ISRC hash %016llx with record %llu, which %s",
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
int wn_vscan_map(vctx *x, wn_catalog *c, MDB_txn *txn, int kind, int map)
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
		wn_vprob(x, PK_IXMISMATCH, &NOLOC, "%s (the %s %s map could not be read to its end)", c->err, wn_kinds_name(&x->kinds, kind),
			map == WN_MAP_ID ? "id" : map == WN_MAP_FP ? "fp" : "isrc");
		rc = 0;
	}
	return rc;
}

void wn_vtask_scan(vworker *w, int kind, int map)
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
	int rc = wn_vscan_map(x, &sh, t, kind, map);
	mdb_txn_abort(t);
	if (rc && rc != WN_E_INTERRUPTED)
		wn_vfail(x, rc, "%s", sh.err[0] ? sh.err : wn_strerror(rc));
}

/* Read record `ord` back (rare: to describe a problem): its id and fingerprint. */
static int describe(vctx *x, vworker *w, int kd, uint64_t ord, char *id, size_t cap, size_t *idlen, uint8_t fp[16])
{
	vloc l = wn_vrec_loc(x, kd, ord);
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
	int fd = wn_vworker_fd(w, f);
	if (fd < 0 || wn_vgrow((void **)&w->in, &w->incap, fr->csize) || wn_vgrow((void **)&w->out, &w->outcap, fr->dsize + 1) ||
	    wn_pread_all(fd, w->in, fr->csize, fr->off))
		return -1;
	size_t r = ZSTD_decompressDCtx(w->dctx, w->out, fr->dsize, w->in, fr->csize);
	const char *line;
	size_t len;
	if (ZSTD_isError(r) || wn_frame_line(w->out, r, (uint32_t)(ord - first), &line, &len) ||
	    wn_json_record(w->json[kd], line, len, &w->jr))
		return -1;
	wn_keys k;
	if (wn_record_keys(&w->jr, wn_catalog_profile(x->c, kd), &k, w->idbuf, NULL, 0))
		return -1;
	*idlen = k.id_len < cap ? k.id_len : cap;
	memcpy(id, k.id, *idlen);
	memcpy(fp, w->jr.fp, 16);
	return 0;
}

void wn_vcheck_index_kind(vctx *x, vworker *w, int kd)
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
		vloc l = wn_vrec_loc(x, kd, ord);
		int kind = PK_DANGLING;
		if (!wn_vprob_room(x, kind, &l) && !wn_vprob_room(x, PK_IXMISMATCH, &l)) {
			wn_vprob(x, kind, &l, "index: an id entry points at record %llu, which does not have its id or fingerprint",
				(unsigned long long)ord);
			continue;
		}
		if (describe(x, w, kd, ord, id, sizeof id, &idlen, fp)) {
			wn_vprob(x, kind, &l, "index: the id entry %016llx.%04x points at record %llu, which does not match it",
				(unsigned long long)wn_get_be64(e), e[8] << 8 | e[9], (unsigned long long)ord);
			continue;
		}
		uint64_t h;
		uint16_t ck;
		wn_id_hash(id, idlen, &h, &ck);
		l.id = id;
		l.idlen = idlen;
		if (h != wn_get_be64(e) || ck != (e[8] << 8 | e[9])) {
			wn_vprob(x, PK_DANGLING, &l, "index: the id entry %016llx.%04x points at record %llu, whose id is another "
				"(%016llx.%04x)", (unsigned long long)wn_get_be64(e), e[8] << 8 | e[9], (unsigned long long)ord,
				(unsigned long long)h, ck);
		} else {
			wn_hex(a, e + 16, 16);
			wn_hex(b, fp, 16);
			wn_vprob(x, PK_IXMISMATCH, &l, "index: the id entry of this record holds fingerprint %s, the record's is %s", a, b);
		}
	}
	if (K->sus_dropped)
		wn_vprob(x, PK_DANGLING, &NOLOC, "index: %llu more %s id entries point at records that do not have their id",
			(unsigned long long)K->sus_dropped, wn_kinds_name(&x->kinds, kd));
	/* fp pairs that are not their record's own fingerprint: a lost revision's, if the
	 * record's id is marked revised (or the record was itself replaced) */
	for (size_t i = 0; i < K->nxfp; i++) {
		uint64_t ord = K->xfp[i].ord;
		if ((K->o[ord].st & RF_SUPER) || (K->o[ord].idm & 0x80))
			continue;
		vloc l = wn_vrec_loc(x, kd, ord);
		wn_vprob(x, PK_DANGLING, &l, "index: the fp map pairs fingerprint prefix %016llx with record %llu, which has another "
			"fingerprint and no revision", (unsigned long long)K->xfp[i].key, (unsigned long long)ord);
	}
	if (K->xfp_dropped)
		wn_vprob(x, PK_NOTE, &NOLOC, "%llu %s fp pairs of revisions were not checked (too many)",
			(unsigned long long)K->xfp_dropped, wn_kinds_name(&x->kinds, kd));
	/* every record indexed */
	uint64_t current = 0, gone = 0;
	int id_trouble = K->nsus || K->sus_dropped;
	for (uint64_t ord = 0; ord < K->n; ord++) {
		uint8_t st = K->o[ord].st;
		current += (K->o[ord].idm & 0x7f) != 0;
		gone += (st & RF_GONE) != 0;
		if (!(st & RF_KNOWN) || (st & RF_BADID))
			continue;
		int no_id = !(st & RF_SUPER) && !(K->o[ord].idm & 0x7f);
		int no_fp = !K->o[ord].fpm, no_isrc = (st & RF_ISRC) && ((st & RF_MULTI) ?
			K->o[ord].ism != (uint8_t)K->o[ord].isrc || K->o[ord].isx != ((K->o[ord].isrc >> 8) & 0xffffff) :
			!K->o[ord].ism);
		if (!no_id && !no_fp && !no_isrc)
			continue;
		vloc l = wn_vrec_loc(x, kd, ord);
		int have = 0;
		if (wn_vprob_room(x, PK_UNINDEXED, &l) && !describe(x, w, kd, ord, id, sizeof id, &idlen, fp)) {
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
				wn_vprob(x, PK_UNINDEXED, &l, "the id map sends this record's id to record %llu", (unsigned long long)r.ord);
			else
				wn_vprob(x, PK_UNINDEXED, &l, "the record's id is not in the id map");
		}
		if (no_fp) {
			wn_hex(a, have ? fp : (const uint8_t *)"\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 16);
			wn_vprob(x, PK_UNINDEXED, &l, "the fp map has no pair for this record%s%s", have ? " and its fingerprint " : "",
				have ? a : "");
		}
		if (no_isrc)
			wn_vprob(x, PK_UNINDEXED, &l, "the isrc map has no pair for this record's ISRC (or not one for each of its ISRCs)");
	}
	if (K->complete && !K->misplaced && gone != x->forgotten[kd])
		wn_vprob(x, PK_COUNT, &NOLOC, "the %s shards hold %llu forgotten records' places, the index counts %llu",
			wn_kinds_name(&x->kinds, kd), (unsigned long long)gone, (unsigned long long)x->forgotten[kd]);
	if (K->complete && !K->misplaced && current != x->ks[kd].kept && !id_trouble)
		wn_vprob(x, PK_METADATA, &NOLOC, "%llu %s id entries point at surviving records, the counters say %llu kept",
			(unsigned long long)current, wn_kinds_name(&x->kinds, kd), (unsigned long long)x->ks[kd].kept);
}
