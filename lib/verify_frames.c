/*
 * verify_frames.c - deep mode's view of a file as frames: the frame list (from the seek
 * table, the index's list for an unsealed file, or by walking the frame headers when the
 * table is unusable), decoding each frame (the task run in parallel across frames: zstd
 * checks its content checksum, the seek table entry is checked against it, its lines are
 * counted, and a catalog's shard records have their keys recomputed, a ledger's entries
 * read), then the frames against MANIFEST.json and the files row, and the shard records
 * placed by ordinal into the per-kind arrays, checked against the <kind>.frames rows.
 *
 * The per-record loop (frame_records) is the hot one: where the frames rows tile the
 * ordinals, a frame writes its records straight into its range of vkind.o.
 */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>
#include <xxhash.h>
#include <zstd_errors.h>

#include "internal.h"
#include "verify.h"
#include "contrib.h"
#include "ledger.h"

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
			wn_vprob(x, PK_CHECKSUM, &l, "read error at byte %llu: %s", (unsigned long long)off, strerror(errno));
			break;
		}
		if (got < 8) {
			l.length = (uint64_t)got;
			wn_vprob(x, PK_TRUNCATED, &l, "%zd stray bytes after the last frame", got);
			break;
		}
		uint32_t magic = wn_get_le32(buf);
		if ((magic & 0xFFFFFFF0u) == 0x184D2A50u) {
			uint64_t sz = 8 + (uint64_t)wn_get_le32(buf + 4);
			if (magic == WN_SKIPPABLE_SEEK)
				break;    /* the seek table (or what is left of it) */
			l.length = sz;
			wn_vprob(x, PK_FRAME, &l, "an unexpected skippable frame (magic %08x)", magic);
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
				wn_vprob(x, PK_TRUNCATED, &l, "frame %u starting at byte %llu is cut short", f->nfr, (unsigned long long)off);
			else
				wn_vprob(x, PK_FRAME, &l, "no zstd frame can be read at byte %llu: %s", (unsigned long long)off,
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
int wn_vplan_frames(vctx *x, vfile *f)
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
			wn_vprob(x, PK_IXMISMATCH, &l, "index: the frame list of the unsealed file adds up to %llu bytes, its row says %llu",
				(unsigned long long)off, (unsigned long long)f->row.data_len);
		}
		f->frames_known = !rc;
		return rc;
	}
	int fd = wn_vopen_in(x, f->path);
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
			wn_vprob(x, PK_SEEK, &l, "seek table entry %u says frame %u has %u compressed bytes, the frame has %u", i, i,
				e[i].csize, f->fr[i].csize);
		else
			wn_vprob(x, PK_SEEK, &l, "the seek table lists %u frames adding up to %llu bytes; the file holds %u frames in %llu bytes",
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
			wn_vprob(x, PK_SEEK, &l, "the seek table's footer says %u frames, a table from byte %llu, but the frames end at "
				"byte %llu (%s)", nf, (unsigned long long)tstart, (unsigned long long)data_end, err);
		} else {
			if (tstart != UINT64_MAX && strstr(err, "header")) {
				l.offset = (int64_t)tstart;
				l.length = 8;
			}
			wn_vprob(x, PK_SEEK, &l, "%s", err);
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
		wn_vprob(x, PK_CHECKSUM, &l, "cannot read the seek table: %s", rc > 0 ? strerror(rc) : wn_strerror(rc));
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

/* The fingerprint and id of every record of a shard frame (catalog, deep mode); raw
 * holds fr->nrec lines, ending where w->lend says. */
static void frame_records(vworker *w, vfile *f, uint32_t fi, const char *raw)
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
			wn_vfail(x, WN_E_NOMEM, "out of memory");
			return;
		}
	}
	const char *p = raw;
	for (uint32_t i = 0; i < fr->nrec; i++) {
		const char *nl = raw + w->lend[i];
		size_t ll = (size_t)(nl - p);
		vloc l = at_frame(f, fi);
		l.record = fr->ord0 >= 0 ? fr->ord0 + i : -1;
		int gone = wn_is_forgotten_line(p, ll);
		int rc = gone ? 0 : wn_json_record(jp, p, ll, &w->jr);
		wn_keys k;
		char why[200];
		uint64_t d = 0, fpkey = 0, isrc = 0;
		uint8_t flags;
		if (rc == WN_E_NOMEM) {
			wn_vfail(x, rc, "out of memory");
			return;
		}
		if (gone) {
			flags = RF_GONE;
		} else if (rc) {
			wn_vprob(x, PK_FRAME, &l, "line %u of the frame is not a valid record: %s at byte %zu", i + 1, w->jr.err,
				w->jr.err_offset);
			flags = RF_BADID;
		} else if (wn_record_keys(&w->jr, wn_catalog_profile(x->c, f->kind), &k, w->idbuf, why, sizeof why)) {
			wn_vprob(x, PK_FRAME, &l, "line %u of the frame has no usable id: %s", i + 1, why);
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
			if (k.n_isrc == 1) {
				isrc = k.isrc_hash[0];
				flags |= RF_ISRC;
			} else if (k.n_isrc > 1) {
				for (int s = 0; s < k.n_isrc; s++)
					isrc ^= k.isrc_hash[s];
				isrc = (isrc & ~(uint64_t)0xff) | (uint64_t)k.n_isrc;
				flags |= RF_ISRC | RF_MULTI;
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

/* What a frame that is not a zstd frame starts with, for a message: the bytes it has,
 * at most 4 (a seek table entry may give it fewer; the buffer beyond them holds nothing
 * of this frame). */
static const char *first_bytes(char out[40], const uint8_t *p, uint32_t n)
{
	static const char *const lead[5] = { "it has no bytes", "its only byte", "its only 2 bytes", "its only 3 bytes",
		"first bytes" };
	int o = snprintf(out, 40, "%s", lead[n < 4 ? n : 4]);
	for (uint32_t i = 0; i < n && i < 4; i++)
		o += snprintf(out + o, (size_t)(40 - o), "%s%02x", i ? " " : n < 4 ? ": " : " ", p[i]);
	return out;
}

void wn_vtask_frame(vworker *w, vfile *f, uint32_t fi)
{
	vctx *x = w->x;
	vframe *fr = &f->fr[fi];
	vloc l = at_frame(f, fi);
	fr->bad = 1;
	int fd = wn_vworker_fd(w, f);
	if (fd < 0)
		return;
	if (wn_vgrow((void **)&w->in, &w->incap, fr->csize + 1)) {
		wn_vfail(x, WN_E_NOMEM, "out of memory");
		return;
	}
	int rc = wn_pread_all(fd, w->in, fr->csize, fr->off);
	atomic_fetch_add(&x->bytes_done, fr->csize);
	if (rc == WN_E_CORRUPT) {
		wn_vprob(x, PK_TRUNCATED, &l, "frame %u is cut short: it needs bytes %llu-%llu, the file has %llu", fi,
			(unsigned long long)fr->off, (unsigned long long)(fr->off + fr->csize - 1), (unsigned long long)f->size);
		return;
	}
	if (rc) {
		wn_vprob(x, PK_CHECKSUM, &l, "read error in frame %u: %s", fi, strerror(rc));
		return;
	}
	unsigned long long cs = ZSTD_getFrameContentSize(w->in, fr->csize);
	if (cs == ZSTD_CONTENTSIZE_ERROR) {
		char what[40];
		wn_vprob(x, PK_FRAME, &l, "frame %u: not a zstd frame header (%s)", fi, first_bytes(what, w->in, fr->csize));
		return;
	}
	if (cs == ZSTD_CONTENTSIZE_UNKNOWN || cs > MAX_FRAME_RAW) {
		wn_vprob(x, PK_FRAME, &l, "frame %u: the frame header %s", fi,
			cs == ZSTD_CONTENTSIZE_UNKNOWN ? "has no content size" : "declares an implausible content size");
		return;
	}
	size_t fs = ZSTD_findFrameCompressedSize(w->in, fr->csize);
	if (!ZSTD_isError(fs) && fs != fr->csize) {
		if (f->sealed) {
			vloc e = l;
			e.offset = (int64_t)(f->table_off + 8 + (uint64_t)fi * WN_SEEK_ENTRY);
			e.length = WN_SEEK_ENTRY;
			wn_vprob(x, PK_SEEK, &e, "seek table entry %u says frame %u has %u compressed bytes, the frame has %zu", fi, fi,
				fr->csize, fs);
		} else {
			wn_vprob(x, PK_IXMISMATCH, &l, "index: the frame list says frame %u has %u bytes, the frame has %zu", fi,
				fr->csize, fs);
		}
		return;
	}
	if (wn_vgrow((void **)&w->out, &w->outcap, (size_t)cs + 1)) {
		wn_vfail(x, WN_E_NOMEM, "out of memory");
		return;
	}
	size_t r = ZSTD_decompressDCtx(w->dctx, w->out, (size_t)cs, w->in, fr->csize);
	if (ZSTD_isError(r)) {
		wn_vprob(x, PK_FRAME, &l, "the frame does not decode: %s", ZSTD_getErrorName(r));
		return;
	}
	if (r != cs) {
		wn_vprob(x, PK_FRAME, &l, "frame %u decodes to %zu bytes, its header says %llu", fi, r, cs);
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
				wn_vprob(x, PK_SEEK, &e, "seek table entry %u gives frame %u %u raw bytes, the frame has %u (the frame "
					"itself checks out)", fi, fi, said, is);
			else
				wn_vprob(x, PK_SEEK, &e, "seek table entry %u gives frame %u the checksum 0x%08x, the frame's content has "
					"0x%08x (the frame itself checks out)", fi, fi, said, is);
		} else {
			wn_vprob(x, PK_IXMISMATCH, &e, "index: the frame list gives frame %u the %s %u, the frame has %u", fi, what, said, is);
		}
	}
	if (!r || w->out[r - 1] != '\n') {
		wn_vprob(x, PK_FRAME, &l, "frame %u %s", fi, r ? "does not end with a newline" : "is empty");
		return;
	}
	/* the lines, found once: where each ends */
	uint32_t n = 0;
	for (const char *p = w->out, *end = w->out + r; (p = memchr(p, '\n', (size_t)(end - p))); p++) {
		size_t need = ((size_t)n + 1) * sizeof *w->lend;
		if (need > w->lendcap && wn_vgrow((void **)&w->lend, &w->lendcap, need)) {
			wn_vfail(x, WN_E_NOMEM, "out of memory");
			return;
		}
		w->lend[n++] = (uint32_t)(p - w->out);
	}
	fr->nrec = n;
	if (x->c && keyed_records(f)) {
		frame_records(w, f, fi, w->out);
	} else if (f->role == WN_ROLE_CONTRIB) {
		/* each line must read back as written (contrib.c); its value's hash and plays are
		 * held against the index's contributions (verify_counts.c) */
		const char *p = w->out;
		wn_contrib *c1 = malloc(sizeof *c1);
		wn_buf sb = { 0 }, vb = { 0 };
		if (!c1) {
			wn_vfail(x, WN_E_NOMEM, "out of memory");
			return;
		}
		for (uint32_t i = 0; i < n; i++) {
			const char *nl = w->out + w->lend[i];
			if (wn_contrib_line_parse(p, (size_t)(nl - p), c1, &sb) || wn_contrib_value(c1, &vb)) {
				wn_vprob(x, PK_FRAME, &l, "line %u of the frame is not a contribution as winnow writes it", i + 1);
			} else {
				fr->cplays += c1->plays;
				fr->csum += XXH64(vb.p, vb.len, 0);
			}
			p = nl + 1;
		}
		free(c1);
		wn_buf_free(&sb);
		wn_buf_free(&vb);
	} else if (f->role == WN_ROLE_LEDGER) {
		const char *p = w->out;
		for (uint32_t i = 0; i < n; i++) {
			const char *nl = w->out + w->lend[i];
			wn_ledger_entry le;
			if (wn_ledger_decode(p, (size_t)(nl - p), WN_LEDGER_HEAD, &le, NULL)) {
				wn_vprob(x, PK_FRAME, &l, "line %u of the frame is not a ledger entry", i + 1);
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

/* Deep mode: a file's frames against its seek table, MANIFEST.json and its files row. */
void wn_vcheck_file_frames(vctx *x, vfile *f)
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
			wn_vprob(x, PK_COUNT, &l, "MANIFEST.json says %llu records, the file holds %llu", (unsigned long long)f->j.records,
				(unsigned long long)recs);
		if (f->j.have[WN_MF_FRAMES] && f->j.frames != f->nfr)
			wn_vprob(x, PK_COUNT, &l, "MANIFEST.json says %llu frames, the file has %u", (unsigned long long)f->j.frames, f->nfr);
		if (f->j.have[WN_MF_RAW_BYTES] && f->j.raw_bytes != raw)
			wn_vprob(x, PK_COUNT, &l, "MANIFEST.json says %llu raw bytes, the frames hold %llu", (unsigned long long)f->j.raw_bytes,
				(unsigned long long)raw);
		if (f->role == WN_ROLE_SHARD && recs && f->j.have[WN_MF_FIRST_ORDINAL] && f->j.last_ordinal != f->j.first_ordinal + recs - 1)
			wn_vprob(x, PK_COUNT, &l, "MANIFEST.json gives ordinals %llu-%llu, for %llu records",
				(unsigned long long)f->j.first_ordinal, (unsigned long long)f->j.last_ordinal, (unsigned long long)recs);
	}
	if (f->have_row) {
		if (f->row.nrecords != recs)
			wn_vprob(x, PK_COUNT, &l, "the index says %llu records, the file holds %llu", (unsigned long long)f->row.nrecords,
				(unsigned long long)recs);
		if (f->row.nframes != f->nfr)
			wn_vprob(x, PK_COUNT, &l, "the index says %u frames, the file has %u", f->row.nframes, f->nfr);
		if (f->row.raw_bytes != raw)
			wn_vprob(x, PK_COUNT, &l, "the index says %llu raw bytes, the frames hold %llu",
				(unsigned long long)f->row.raw_bytes, (unsigned long long)raw);
		if (f->row.data_len != f->data_len)
			wn_vprob(x, PK_IXMISMATCH, &l, "index: the files row says the frames end at byte %llu, they end at %llu",
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
vfile **wn_vshards_of(vctx *x, int kd, size_t *n)
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

/* Do the files rows of shards that are not there hold exactly records from..to-1? Such
 * records have no frames rows: the index was built of a partial mirror (winnow reindex
 * --ignore-missing), and the absent files are reported as missing, not the rows. */
static int absent_span(vctx *x, int kd, uint64_t from, uint64_t to)
{
	size_t n;
	vfile **s = wn_vshards_of(x, kd, &n);
	for (size_t i = 0; s && i < n && from < to; i++)
		if (s[i]->have_row && s[i]->absent && s[i]->row.nrecords && s[i]->row.first_ord == from)
			from += s[i]->row.nrecords;
	free(s);
	return s && from == to;
}

/* Before decoding: each shard frame's first ordinal according to the index, so that
 * problems found in it can name records. */
int wn_vset_ord0(vctx *x)
{
	for (int kd = 0; kd < x->kinds.n; kd++) {
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
int wn_valloc_kinds(vctx *x)
{
	for (int kd = 0; kd < x->kinds.n; kd++) {
		vkind *K = &x->k[kd];
		K->n = x->ks[kd].next_ord;
		K->o = zalloc(K->n * sizeof *K->o);
		if (!K->o)
			return wn_vfail(x, WN_E_NOMEM, "out of memory for %llu records", (unsigned long long)K->n);
	}
	return 0;
}

static int span_push(vkind *K, uint64_t first, uint32_t nrec, vfile *f, uint32_t fi)
{
	if (WN_GROW(K->span, K->nspan, K->capspan, 256))
		return WN_E_NOMEM;
	K->span[K->nspan++] = (vspan){ first, nrec, f, fi };
	return 0;
}

/* Where record `ord` is, as far as the decoded frames tell. */
vloc wn_vrec_loc(vctx *x, int kd, uint64_t ord)
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

int wn_vplace_kind(vctx *x, int kd)
{
	vkind *K = &x->k[kd];
	wn_catalog *c = x->c;
	/* superseded versions */
	MDB_cursor *cur;
	MDB_val k, v;
	int rc = mdb_cursor_open(x->txn, c->db_super[kd], &cur);
	if (rc)
		return wn_vlmdb_fail(x, rc, "superseded");
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); !rc; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		K->nsup++;
		if (k.mv_size != 8 || v.mv_size != 8) {
			wn_vprob(x, PK_IXMISMATCH, &NOLOC, "index: a %s.superseded row has a %zu-byte key and a %zu-byte value",
				wn_kinds_name(&x->kinds, kd), k.mv_size, v.mv_size);
			continue;
		}
		uint64_t old = wn_get_be64(k.mv_data), by = wn_get_be64(v.mv_data);
		vloc l = NOLOC;
		l.record = (int64_t)old;
		if (old >= K->n || by >= K->n || by <= old)
			wn_vprob(x, PK_DANGLING, &l, "index: %s.superseded says record %llu was replaced by record %llu (records go up to %llu)",
				wn_kinds_name(&x->kinds, kd), (unsigned long long)old, (unsigned long long)by, (unsigned long long)K->n);
		else
			K->o[old].st |= RF_SUPER;
	}
	mdb_cursor_close(cur);
	if (rc != MDB_NOTFOUND)
		return wn_vlmdb_fail(x, rc, "superseded");
	if (K->nsup != x->ks[kd].superseded)
		wn_vprob(x, PK_METADATA, &NOLOC, "index: %s.superseded has %llu rows, the counters say %llu superseded",
			wn_kinds_name(&x->kinds, kd), (unsigned long long)K->nsup, (unsigned long long)x->ks[kd].superseded);
	/* the shards, in order */
	size_t ns;
	vfile **sh = wn_vshards_of(x, kd, &ns);
	rowref *ix = rows_index(K);
	if (!sh || !ix) {
		free(sh);
		free(ix);
		return wn_vfail(x, WN_E_NOMEM, "out of memory");
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
			wn_vprob(x, PK_IXMISMATCH, &fl, "index: the files row says the first record is %llu, the shards before hold %llu",
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
					wn_vprob(x, PK_IXMISMATCH, &l, "index: the %s.frames row of frame %u says%s", wn_kinds_name(&x->kinds, kd), i, why + 1);
				}
			} else {
				wn_vprob(x, PK_UNINDEXED, &l, "frame %u has no %s.frames row: its records cannot be found by ordinal", i,
					wn_kinds_name(&x->kinds, kd));
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
				return wn_vfail(x, WN_E_NOMEM, "out of memory");
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
				wn_vprob(x, PK_COUNT, &rl, "the shards hold records beyond the last one the index knows (%llu)",
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
		wn_vprob(x, PK_COUNT, &NOLOC, "the %s shards hold %llu records, the index counts %llu (next ordinal)",
			wn_kinds_name(&x->kinds, kd), (unsigned long long)running, (unsigned long long)K->n);
	/* rows that point at no frame; the rows must tile the ordinals */
	uint64_t expect = 0;
	for (size_t i = 0; i < K->nrows; i++) {
		wn_frameinfo *r = &K->rows[i];
		vloc l = NOLOC;
		l.record = (int64_t)r->first_ord;
		if (!r->nrec || K->rowkey[i] != r->first_ord + r->nrec - 1)
			wn_vprob(x, PK_IXMISMATCH, &l, "index: the %s.frames row keyed %llu covers records %llu-%llu",
				wn_kinds_name(&x->kinds, kd), (unsigned long long)K->rowkey[i], (unsigned long long)r->first_ord,
				(unsigned long long)(r->first_ord + r->nrec - 1));
		else if (r->first_ord != expect && !(r->first_ord > expect && absent_span(x, kd, expect, r->first_ord))) {
			l.record = (int64_t)expect;
			wn_vprob(x, PK_IXMISMATCH, &l, "index: %s.frames rows %s at record %llu", wn_kinds_name(&x->kinds, kd),
				r->first_ord > expect ? "leave a gap" : "overlap", (unsigned long long)expect);
		}
		expect = r->first_ord + r->nrec;
		if (K->rowused[i])
			continue;
		char rel[128];
		wn_file_relpath(rel, sizeof rel, WN_ROLE_SHARD, wn_kinds_name(&x->kinds, kd), r->shard_seq);
		vfile *f = wn_vfile_find(x, rel);
		if (f && f->checked && f->frames_known) {
			l = at_file(f);
			l.record = (int64_t)r->first_ord;
			wn_vprob(x, PK_DANGLING, &l, "index: a %s.frames row points at frame %u at byte %llu, which the shard does not have",
				wn_kinds_name(&x->kinds, kd), r->frame_no, (unsigned long long)r->offset);
		} else if (!f || !(f->listed || f->have_row)) {
			wn_vprob(x, PK_DANGLING, &l, "index: a %s.frames row points at %s, which the index does not list", wn_kinds_name(&x->kinds, kd),
				rel);
		}
	}
	if (K->nrows && expect != K->n && !(expect < K->n && absent_span(x, kd, expect, K->n)))
		wn_vprob(x, PK_IXMISMATCH, &NOLOC, "index: %s.frames rows end at record %llu, the next ordinal is %llu",
			wn_kinds_name(&x->kinds, kd), (unsigned long long)expect, (unsigned long long)K->n);
	free(sh);
	free(ix);
	return 0;
}
