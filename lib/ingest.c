/*
 * ingest.c - the ingest pipeline: lines in, every record accounted for.
 *
 * The stages: the parsing threads read, parse, fingerprint and key records ahead
 * (ingest_parse.c); the ingesting thread, here, decides each one in input order (kept /
 * duplicate / revision / rejected) and writes it to its series (shards, ledger,
 * rejects), whose frames the pool compresses in parallel; every checkpoint_records
 * records (and at the end, and at a --strict stop) a checkpoint (ingest_ckpt.c):
 *
 *   1. all frames written so far are written and fdatasync'ed (shards, ledger, rejects)
 *   2. one LMDB transaction records: the memtable as new sorted runs, the new frames
 *      and file lengths, the catalog counters, and where each input stands ("pending")
 *   3. at the end of the run, files are sealed before that transaction, "pending" is
 *      deleted in it, and the manifests are rewritten after it
 *
 * A crash before step 2 commits leaves the index at the previous checkpoint; the next
 * writer to open the catalog cuts the files back to the lengths it records, and an
 * ingest of the same inputs skips what "pending" says was done. Checkpoints fall on
 * record counts, never on time, and a stop on request does not checkpoint (it drops the
 * work since the last one, like a crash), so a resumed run writes the same bytes as one
 * that was never interrupted.
 */
#include "ingest.h"
#include "transform.h"
#include "ledger.h"
#include "input.h"

#include <errno.h>
#include <fnmatch.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

void wn_ingest_opts_init(wn_ingest_opts *o)
{
	memset(o, 0, sizeof *o);
	o->kind = "track";
	o->level = 3;
	o->frame_bytes = 1u << 20;
	o->shard_bytes = 256ull << 20;
	o->max_line = 16u << 20;
	o->memory = 1ull << 30;
	o->threads = 0;
	o->on_conflict = WN_CONFLICT_FIRST;
}

/* ---- the record profile (profile.c) ---- */

/* The format of the first input, as its name says ("xml" picks Discogs's profiles). */
const char *wn_ingest_first_format(const wn_ingest_opts *o, const char *const *paths, size_t n)
{
	if (o->format && strcmp(o->format, "auto"))
		return o->format;
	return n && strstr(paths[0], ".xml") ? "xml" : NULL;
}

/* What this run reads records with: the kind's fixed profile (and the run's own renames),
 * or, while no record of the kind is kept, its built-in profile with the run's options.
 * Then the options the sources see: the run's, with the profile's shaping options. */
static int run_profile(ing *g, const char *const *paths, size_t n)
{
	wn_catalog *c = g->c;
	const wn_ingest_opts *o = g->o_user;
	const char *kind = g->kname;
	char why[512];
	int rc;
	g->fixed = c->prof[g->kind] && c->ks[g->kind].kept > 0;
	if (g->fixed) {
		rc = wn_profile_check(c->prof[g->kind], o, kind, &g->prof, why, sizeof why);
	} else {
		wn_profile_default(&g->prof, kind, wn_ingest_first_format(o, paths, n));
		rc = wn_profile_apply(&g->prof, o, why, sizeof why);
	}
	if (rc)
		return wn_seterr(c, rc, "%s", why);
	if ((rc = wn_ingest_shape(&g->prof, o, kind, &g->eo, &g->xf, why, sizeof why)))
		return wn_seterr(c, rc, "%s", why);
	if (o->contributor && wn_xform_contributor(g->xf, g->contrib))
		return wn_seterr(c, WN_E_USAGE, "cannot set the contributor");
	g->o = &g->eo;
	const wn_profile *p = &g->prof;
	g->cpart = wn_profile_contributor_part(p);
	g->hide_names = wn_profile_private(p);
	g->tpart = -1;
	for (int i = 0; i < p->n_id && *p->time; i++)
		if (!strcmp(p->id[i], p->time))
			g->tpart = i;
	return 0;
}

/* The options the sources see (eo): o's, with profile p's shaping options; and p's
 * transforms (*xf, NULL when it has none). 0, or a code with why. */
int wn_ingest_shape(const wn_profile *p, const wn_ingest_opts *o, const char *kind, wn_ingest_opts *eo,
	struct wn_xform **xf, char *why, size_t wl)
{
	*xf = NULL;
	*eo = *o;
	eo->csv_types = *p->types ? p->types : NULL;
	eo->encoding = *p->encoding ? p->encoding : NULL;
	eo->csv_delimiter = *p->delimiter ? p->delimiter : NULL;
	eo->csv_empty_null = p->empty_null;
	eo->csv_unwrap = p->csv_unwrap;
	eo->sqlite_join = p->sqlite_join && !o->sqlite_table;
	/* a CSV's columns are the names before the renames */
	const char **cols[] = { &eo->id_field, &eo->isrc_field, &eo->title_field, &eo->artist_field };
	/* (a content or composite id is no one column: the record's check names what is missing) */
	const char *want[] = { p->id_content || p->n_id > 1 ? "" : p->id[0], o->isrc_field ? p->isrc[0] : NULL,
		o->title_field ? p->title : NULL, o->artist_field ? p->artists : NULL };
	for (int i = 0; i < 4; i++) {
		*cols[i] = want[i];
		for (int r = 0; want[i] && r < p->n_rename; r++)
			if (!strcmp(p->rename_to[r], want[i]) && !strchr(p->rename_from[r], '.'))
				*cols[i] = p->rename_from[r];
	}
	if (o->contributor && (!*o->contributor || !p->n_pseudo)) {
		snprintf(why, wl, "%s", !*o->contributor ? "--contributor needs a name" :
			"--contributor needs a profile that pseudonymises (its name is stored only as a keyed pseudonym)");
		return WN_E_USAGE;
	}
	return wn_ingest_new_xform(p, o, xf, why, wl);
}


/* Store the run's profile while the kind has no record kept (a run that keeps nothing
 * fixes nothing: the next run sets it again). */
static int store_profile(ing *g, MDB_txn *txn)
{
	wn_catalog *c = g->c;
	if (g->fixed)
		return 0;
	if (c->prof[g->kind] && !memcmp(c->prof[g->kind], &g->prof, sizeof g->prof))
		return 0;
	return wn_catalog_put_profile(c, txn, g->kind, &g->prof);
}

/* ---- ledger and rejects ---- */

static int add_entry(ing *g, wn_series *s)
{
	int rc = wn_series_add(s, g->ent.p, g->ent.len);
	g->ent.len = 0;
	return rc;
}

/* A reject entry for a line with no record in it (FORMAT.md 6). */
static int reject(ing *g, const wn_source *src, const prep *r, const char *raw, size_t len, int code,
	const char *why, size_t err_off, int has_off)
{
	/* a pool whose profile hides fields keeps no rejected line's bytes: its reason, place
	 * and keyed hash (doc/FORMAT.md 6) */
	int withheld = r->withheld || (g->xf && wn_profile_private(&g->prof));
	char hmac[33];
	if (withheld && g->xf && g->prof.n_pseudo)
		wn_xform_keyed_hex(g->xf, r->in_line, r->in_len, hmac);
	wn_reject_entry e = { .input_json = g->name_json.p, .input_json_len = g->name_json.len, .line = r->lineno,
		.offset = r->off, .code = code, .detail = why, .detail_len = strlen(why), .has_error_offset = has_off,
		.error_offset = err_off, .truncated = code == WN_E_TOOLONG && !withheld, .length = r->toolong_len,
		.withheld = withheld, .raw_hmac = withheld && g->xf && g->prof.n_pseudo ? hmac : NULL, .raw_hmac_len = 32,
		.raw = withheld ? "" : raw, .raw_len = withheld ? 0 : len, .contributor = *g->contrib ? g->contrib : NULL,
		.contributor_len = strlen(g->contrib) };
	g->rc.rejected++;
	g->ks->rejected++;
	g->ent.len = 0;
	if (wn_reject_encode(&e, &g->ent))
		return WN_E_NOMEM;
	g->ks->reject_entries++;
	int rc = add_entry(g, g->rejects);
	if (rc)
		return rc;
	if (g->o->on_reject) {
		g->tmp.len = 0;
		wn_buf_printf(&g->tmp, "%s line %" PRIu64 ": %s", src->name, r->lineno, why);
		g->o->on_reject(g->tmp.p, g->o->reject_ud);
	}
	if (g->o->strict)
		return wn_seterr(g->c, WN_E_REJECTED, "%s line %" PRIu64 ": %s", src->name, r->lineno, why);
	return 0;
}

/* A ledger entry for record r (FORMAT.md 5): the common part; the caller adds the
 * superseded ordinal or the record's bytes where the case has them. */
static wn_ledger_entry entry_for(const ing *g, const prep *r, int revision, uint64_t survivor, const uint8_t fp[16])
{
	wn_ledger_entry e = { .input_json = g->name_json.p, .input_json_len = g->name_json.len, .line = r->lineno,
		.revision = revision, .id = r->key.id, .id_len = r->key.id_len, .survivor = survivor, .superseded = -1 };
	memcpy(e.fp, fp, 16);
	return e;
}

static int ledger(ing *g, const wn_ledger_entry *e)
{
	g->ent.len = 0;
	if (wn_ledger_encode(e, &g->ent))
		return WN_E_NOMEM;
	g->ks->ledger_entries++;
	return add_entry(g, g->ledger);
}

/* ---- conflict policy ---- */

/* Fetch the stored record with ordinal ord (for newest:FIELD). */
static int fetch_record(ing *g, uint64_t ord)
{
	int rc = wn_series_fetch(g->shard, ord, &g->fetched, &g->tmp2);
	if (rc)
		return rc < 0 ? rc : 0;
	wn_frameinfo fi;
	if ((rc = wn_record_locate(g->c, g->rtxn, g->kind, ord, &fi)))
		return rc;
	if ((rc = wn_frame_load(g->c, g->kind, &fi, &g->tmp2, &g->fetched)))
		return rc;
	const char *line;
	size_t len;
	if (wn_frame_line(g->tmp2.p, g->tmp2.len, (uint32_t)(ord - fi.first_ord), &line, &len))
		return wn_seterr(g->c, WN_E_CORRUPT, "record %" PRIu64 " not in its frame", ord);
	g->fetched.len = 0;
	return wn_buf_put(&g->fetched, line, len);
}

/* Compare two values of the newest field: numbers numerically, strings bytewise; a
 * present value is newer than an absent one. >0 when a is newer than b. */
static int newer(const wn_jslot *a, const char *bp, size_t bl, int btype)
{
	if (a->type == WN_JT_NONE || a->type == WN_JT_NULL)
		return (btype == WN_JT_NONE || btype == WN_JT_NULL) ? 0 : -1;
	if (btype == WN_JT_NONE || btype == WN_JT_NULL)
		return 1;
	if (a->type == WN_JT_NUMBER && btype == WN_JT_NUMBER) {
		double x = strtod(a->ptr, NULL), y = strtod(bp, NULL);
		return x > y ? 1 : x < y ? -1 : 0;
	}
	size_t n = a->len < bl ? a->len : bl;
	int cmp = memcmp(a->ptr, bp, n);
	return cmp ? cmp : (a->len > bl) - (a->len < bl);
}

/* ---- one record ---- */

/* One more record with this outcome (a WN_OUTCOMES name), in this run and in the catalog. */
#define COUNT(g, outcome) ((g)->rc.outcome++, (g)->ks->outcome++)

static int keep(ing *g, const prep *r, uint8_t flags, uint64_t *ord_out, int known)
{
	uint64_t ord = g->shard->next_ord;
	int rc = wn_series_add(g->shard, r->line, r->len);
	if (rc)
		return rc;
	wn_idrec e = { .hash = r->key.hash, .check = r->key.check, .flags = flags, .ord = ord };
	memcpy(e.fp, r->key.fp, 16);
	if ((rc = wn_lsm_put_id(g->lsm, &e, known)) || (rc = wn_lsm_put_pair(g->lsm, WN_MAP_FP, wn_fp_key(r->key.fp), ord)))
		return rc;
	for (int i = 0; i < r->key.n_isrc && !rc; i++)
		rc = wn_lsm_put_pair(g->lsm, WN_MAP_ISRC, r->key.isrc_hash[i], ord);
	if (rc)
		return rc;
	*ord_out = ord;
	return 0;
}

/* Does the new record win against the stored one? */
static int new_wins(ing *g, const prep *r, const wn_idrec *old)
{
	if (g->o->on_conflict == WN_CONFLICT_LAST)
		return 1;
	if (g->o->on_conflict == WN_CONFLICT_FIRST)
		return 0;
	int rc = fetch_record(g, old->ord);
	if (rc)
		return rc;
	wn_jresult r2;
	if (wn_json_record(g->json2, g->fetched.p, g->fetched.len, &r2))
		return wn_seterr(g->c, WN_E_CORRUPT, "stored record %" PRIu64 " does not parse", old->ord);
	wn_jslot mine = r->newest;
	const wn_jslot *theirs = &r2.slot[0];
	return newer(&mine, theirs->ptr, theirs->len, theirs->type) > 0;
}

static int decide(ing *g, const wn_source *src, const prep *r)
{
	int rc;
	COUNT(g, read);
	if (r->code == WN_E_NOID && r->nocontrib && !g->rc_done.read && !g->ck.busy &&
	    !(g->rc.kept + g->rc.duplicates + g->rc.revisions)) {
		/* the run's first play (nothing but rejects before it, nothing committed) says
		 * whose it is not: a usage error, and what the run wrote is cut back (a play
		 * without a contributor after others is rejected with the same reason) */
		g->nocontrib_stop = 1;
		return wn_seterr(g->c, WN_E_USAGE, "%s line %" PRIu64 ": whose records are these? %s: --contributor NAME "
			"says", src->name, r->lineno, r->err);
	}
	if (r->code) {
		char why[128];
		const char *msg = why;
		if (r->code == WN_E_TOOLONG && !r->err) {
			snprintf(why, sizeof why, "record of %zu bytes is longer than the limit of %zu", r->toolong_len, g->o->max_line);
		} else if (r->code == WN_E_EMPTY) {
			msg = "empty line";
		} else {
			msg = r->err;
		}
		return reject(g, src, r, r->withheld ? "" : r->line, r->withheld ? 0 : r->len, r->code, msg, r->err_off,
			r->has_err_off);
	}
	g->isrc_seen += r->key.n_isrc > 0;
	g->isrc_over += r->key.isrc_over;
	double t0 = g->sample ? wn_now() : 0;
	wn_idrec old;
	rc = wn_lsm_find_id(g->lsm, g->rtxn, r->key.hash, r->key.check, &old);
	if (rc < 0)
		return rc;
	if (g->sample) {
		double t1 = wn_now();
		g->t_dedup += (t1 - t0) * 16;
		t0 = t1;
	}
	uint64_t ord;
	if (!rc) {
		COUNT(g, kept);
		rc = keep(g, r, 0, &ord, 0);
		if (g->sample)
			g->t_store += (wn_now() - t0) * 16;
		return rc;
	}
	if (!memcmp(old.fp, r->key.fp, 16)) {
		COUNT(g, duplicates);
		wn_ledger_entry e = entry_for(g, r, 0, old.ord, r->key.fp);
		return ledger(g, &e);
	}
	if (old.flags & WN_IDF_REVISED) {
		rc = wn_lsm_has_fp(g->lsm, g->rtxn, r->key.fp, old.ord);
		if (rc < 0)
			return rc;
		if (rc) {
			COUNT(g, duplicates);
			wn_ledger_entry e = entry_for(g, r, 0, old.ord, r->key.fp);
			return ledger(g, &e);
		}
	}
	/* a revision */
	COUNT(g, revisions);
	int wins = new_wins(g, r, &old);
	if (wins < 0)
		return wins;
	if (!wins) {
		/* the stored version stays; this one goes to the ledger with its bytes */
		old.flags |= WN_IDF_REVISED;
		if (!(rc = wn_lsm_put_id(g->lsm, &old, 1)) &&
		    !(rc = wn_lsm_put_pair(g->lsm, WN_MAP_FP, wn_fp_key(r->key.fp), old.ord)) &&
		    !(rc = wn_lsm_note_revfp(g->lsm, r->key.fp))) {
			wn_ledger_entry e = entry_for(g, r, 1, old.ord, r->key.fp);
			e.record = r->line;
			e.record_len = r->len;
			rc = ledger(g, &e);
		}
		return rc;
	}
	/* this version replaces the stored one, whose bytes stay in their shard */
	rc = keep(g, r, WN_IDF_REVISED, &ord, 1);
	if (!rc)
		rc = wn_lsm_note_revfp(g->lsm, old.fp);
	if (!rc)
		rc = WN_GROW(g->sup, g->nsup, g->capsup, 1024);
	if (rc)
		return rc;
	g->sup[g->nsup].old = old.ord;
	g->sup[g->nsup].by = ord;
	g->nsup++;
	COUNT(g, superseded);
	wn_ledger_entry e = entry_for(g, r, 1, ord, old.fp);
	e.superseded = (int64_t)old.ord;
	return ledger(g, &e);
}

/* ---- the run ---- */

static void progress(ing *g, const char *name, uint64_t consumed, int force)
{
	if (!g->o->progress)
		return;
	double now = wn_now();
	if (!force && now - g->t_last_progress < 0.25)
		return;
	g->t_last_progress = now;
	wn_progress p = { .records = g->rc.read, .bytes = g->bytes_before + consumed,
		.total_bytes = g->total_bytes, .elapsed = now - g->t0, .input = name ? name : "" };
	g->o->progress(&p, g->o->progress_ud);
}

/* ---- the first checkpoint ----
 * Checkpoints come every ckpt_every records (1.4M with the default budget: 600 MB of
 * typical records), so a run killed before the first would lose everything it did. The
 * first comes early: at the record that brings the records' bytes to EARLY_CKPT, if that
 * comes before ckpt_every records. Like every checkpoint it falls on a record, never on
 * time, and only a run that starts from nothing counts towards it: a resumed run goes
 * on from a checkpoint, after which they come every ckpt_every records in either case,
 * so it cuts frames where an uninterrupted run does. */
#define EARLY_CKPT (64ull << 20)

static int first_due(ing *g, const prep *r)
{
	if (g->early_bytes == UINT64_MAX)
		return 0;
	g->early_bytes += r->len;
	return g->early_bytes >= EARLY_CKPT;
}

/* ---- the inputs: every one opened and checked before the first is read ---- */

static const char *shown(const char *name)
{
	return strcmp(name, "-") ? name : "(stdin)";
}

static int open_input(ing *g, const run_in *in, wn_source **out, int again)
{
	*out = NULL;
	int rc = g->open ? g->open(g->open_ud, (size_t)(in - g->in), out) : wn_source_reopen(out, in->name, g->o, again);
	if (rc) {
		wn_seterr(g->c, rc, "%s: %s", shown(in->name), *out ? (*out)->err : wn_strerror(rc));
		wn_source_close(*out);
		*out = NULL;
	}
	return rc;
}

/* Open each input as it will be read (format, header, mapping), and take what it is, so
 * that an input that cannot be read stops the run before any other is, and the run can
 * tell whether it continues an interrupted one. Regular files are closed again and
 * reopened in turn (a run may have thousands); anything else (standard input, a pipe)
 * cannot be read twice and stays open. */
static int check_inputs(ing *g, const char *const *paths)
{
	int stdin_seen = 0;
	if (g->o->input_name && g->n_in != 1)
		return wn_seterr(g->c, WN_E_USAGE, "--input-name names one input, and this run has %zu", g->n_in);
	if (g->o->input_name && (!*g->o->input_name || *g->o->input_name == '/'))
		return wn_seterr(g->c, WN_E_USAGE, "--input-name needs a label that is not an absolute path");
	for (size_t i = 0; i < g->n_in; i++) {
		run_in *in = &g->in[i];
		in->name = paths[i];
		/* a private profile's entries name an input by its label: never its folders */
		const char *base = strrchr(paths[i], '/');
		in->label = g->o->input_name ? g->o->input_name : base && base[1] ? base + 1 : paths[i];
		if (!strcmp(paths[i], "-") && stdin_seen++)
			return wn_seterr(g->c, WN_E_USAGE, "standard input (-) is named more than once");
		wn_source *src;
		int rc = open_input(g, in, &src, 0);
		if (rc)
			return rc;
		in->regular = src->regular;
		in->size = src->size;
		in->dev = src->dev;
		in->ino = src->ino;
		in->head = src->head_hash;
		in->archive = src->archive;
		if (in->regular && strcmp(in->name, "-")) {
			in->path = realpath(in->name, NULL);   /* NULL: matched by device and inode only */
			wn_source_close(src);
		} else {
			in->src = src;
		}
	}
	return 0;
}

/* The source of input i, open: the one the check left open, or opened again, which
 * must still be the file that was checked. */
static int reopen_input(ing *g, run_in *in, wn_source **out)
{
	if (in->src) {
		*out = in->src;
		in->src = NULL;
		return 0;
	}
	int rc = open_input(g, in, out, 1);
	if (rc)
		return rc;
	const wn_source *s = *out;
	if (s->regular != in->regular || s->size != in->size || s->dev != in->dev || s->ino != in->ino ||
	    s->head_hash != in->head) {
		wn_source_close(*out);
		*out = NULL;
		return wn_seterr(g->c, WN_E_MISMATCH, "%s: changed after the run checked it (before it was read): "
			"another file, size or first 64 KiB", shown(in->name));
	}
	return 0;
}

/* Read the records of src (input in, or a member of it) to its end, deciding each;
 * resume: skip what the interrupted run's last checkpoint had done of it. */
static int read_source(ing *g, run_in *in, wn_source *src, int resume, const char *label)
{
	int rc;
	const char *stored = g->hide_names ? label : src->name;
	g->name_json.len = 0;
	if (wn_buf_json_bytes(&g->name_json, stored, strlen(stored)))
		return wn_seterr(g->c, WN_E_NOMEM, "%s: out of memory", src->name);
	/* resume where the interrupted run's last checkpoint was */
	if (resume && (in->offset || in->line) && (rc = src->skip(src, in->offset, in->line)))
		return wn_seterr(g->c, rc, "%s: cannot resume: %s", src->name, src->err);
	parser *ps = wn_parser_new(g, src);
	if (!ps)
		return wn_seterr(g->c, WN_E_NOMEM, "%s: %s", src->name, wn_strerror(WN_E_NOMEM));
	uint64_t n = 0, consumed = 0;
	int eof = 0;
	while (!eof && !rc) {
		pslot *sl = wn_parser_take(g, ps);
		if (!sl) {
			rc = wn_seterr(g->c, WN_E_NOMEM, "%s: cannot start the parsing threads", src->name);
			break;
		}
		/* decide, in order; the memory a decision needs (bloom filter block, memtable
		 * slot) is prefetched a few records ahead: those are cache misses, and hiding
		 * them is worth ~20% */
		for (int i = 0; i < PREFETCH && i < sl->n; i++)
			if (!sl->r[i].code)
				wn_lsm_prefetch(g->lsm, sl->r[i].key.hash);
		for (int i = 0; i < sl->n && !rc; i++) {
			if (i + PREFETCH < sl->n && !sl->r[i + PREFETCH].code)
				wn_lsm_prefetch(g->lsm, sl->r[i + PREFETCH].key.hash);
			g->sample = (n % 16) == 0;
			n++;
			uint64_t ords0 = g->shard->next_ord, led = g->ks->ledger_entries, rej = g->ks->reject_entries;
			uint64_t k0 = g->rc.kept, d0 = g->rc.duplicates;
			rc = decide(g, src, &sl->r[i]);
			if (g->decided && (rc == 0 || rc == WN_E_REJECTED))
				g->decided(g->decided_ud, (g->shard->next_ord != ords0 ? WN_OUTCOME_STORED : 0) |
					(g->ks->ledger_entries != led ? WN_OUTCOME_LEDGER : 0) |
					(g->ks->reject_entries != rej ? WN_OUTCOME_REJECT : 0),
					g->shard->next_ord != ords0 ? &sl->r[i].key : NULL);
			if (!rc && sl->r[i].has_play && !sl->r[i].code)
				rc = wn_contribs_note(&g->contribs, &sl->r[i].play, g->rc.kept > k0 ? 1 : g->rc.duplicates > d0 ? 2 : 3,
					g->prof.n_tally);
			if (rc == 0 || rc == WN_E_REJECTED) {
				/* a record rejected under --strict is accounted for too: consumed */
				in->offset = sl->r[i].end;
				in->line = sl->r[i].lineno;
			}
			if (rc) {
				if (rc != WN_E_REJECTED && !*g->c->err)
					wn_seterr(g->c, rc, "%s line %" PRIu64 ": %s", src->name, sl->r[i].lineno, wn_strerror(rc));
				break;
			}
			if ((++g->since_ckpt >= g->ckpt_every || first_due(g, &sl->r[i])) && (rc = wn_checkpoint_bg(g)))
				break;
		}
		if (rc)
			break;
		if (sl->status) {
			eof = 1;
			if (sl->status != END)
				rc = wn_seterr(g->c, sl->status, "%s line %" PRIu64 ": %s", src->name,
					src->err_line ? src->err_line : in->line + 1, *sl->err ? sl->err : wn_strerror(sl->status));
		}
		consumed = sl->consumed;
		wn_parser_give_back(ps);
		if (!rc)
			rc = wn_ckpt_poll(g);
		progress(g, src->name, consumed, 0);
		/* Lookups of ids already in the catalog map index pages, which count in our
		 * resident set although the kernel may drop them at will. Keep the whole within
		 * the budget by letting go of the mappings when they fill what the rest of our
		 * memory leaves (at least 1/16 of the budget). */
		if ((n & 4095) < SLOT_RECS) {
			uint64_t anon, mapped = wn_mapped_file_bytes(&anon);
			uint64_t room = g->o->memory > anon + g->o->memory / 16 ? g->o->memory - anon - g->o->memory / 16 : 0;
			if (room < g->o->memory / 16)
				room = g->o->memory / 16;
			if (mapped > room)
				wn_index_release_pages(g->c);
			/* while the whole index fits in half that room, lookups read it through the
			 * map (no system call); past that, with pread (no faults that map 16 pages
			 * at a time, nothing that counts in the resident set) */
			MDB_envinfo info;
			if (!mdb_env_info(g->c->env, &info))
				wn_lsm_via_map(g->lsm, (uint64_t)(info.me_last_pgno + 1) * (uint64_t)sysconf(_SC_PAGESIZE) <= room / 2);
		}
		if (g->o->cancel && __atomic_load_n(g->o->cancel, __ATOMIC_RELAXED))
			rc = WN_E_INTERRUPTED;
	}
	wn_parser_end(g, ps);
	return rc;
}

/* Is the member of an archive one that --member chose (or are they all chosen)? */
int wn_ingest_member_chosen(const wn_ingest_opts *o, const char *member)
{
	if (!o->n_members)
		return 1;
	for (size_t i = 0; i < o->n_members; i++)
		if (!fnmatch(o->members[i], member, 0))
			return 1;
	return 0;
}

/* The members of the archive src, one input after the other, each named ARCHIVE!MEMBER;
 * in->member counts the members read (regular, chosen, records), and a resumed run
 * passes over those the interrupted one finished, which must have the same names. */
static int read_archive(ing *g, run_in *in, wn_source *src)
{
	wn_input *a = wn_source_jsonl_input(src);
	wn_buf full = { 0 };
	uint64_t k = 0;
	int rc = 0, resume = in->resume != NULL;
	const char *m;
	int regular, more = 1;
	while (!rc && more) {
		if ((rc = wn_input_next_member(a, &m, &regular, &more))) {
			wn_seterr(g->c, rc, "%s: %s", shown(in->name), *a->err ? a->err : wn_strerror(rc));
			break;
		}
		if (!more)
			break;
		if (!regular || !wn_ingest_member_chosen(g->o, m))
			continue;
		full.len = 0;
		if (wn_buf_printf(&full, "%s!%s", shown(in->name), m)) {
			rc = wn_seterr(g->c, WN_E_NOMEM, "%s: out of memory", in->name);
			break;
		}
		int not_records = 0, here = resume && k == in->member;
		if (resume && k < in->member) {
			k++;   /* the interrupted run finished it (and passed over what it passed over) */
			continue;
		}
		wn_source *ms = NULL;
		rc = wn_source_open_member(&ms, a, full.p, m, g->o, here, g->o->n_members ? NULL : &not_records);
		if (rc) {
			wn_seterr(g->c, rc, "%s: %s", full.p, ms ? ms->err : wn_strerror(rc));
			wn_source_close(ms);
			break;
		}
		if (not_records) {
			/* not counted as a member: the count of members read stays what it was */
			if (!here)
				wn_source_note(g->o, full.p, "%s (--member GLOB to choose the members to read)", ms->err);
			wn_source_close(ms);
			continue;
		}
		if (here && in->member_name && strcmp(in->member_name, m)) {
			rc = wn_seterr(g->c, WN_E_MISMATCH, "%s: cannot resume: member %" PRIu64 " of the archive is \"%s\", "
				"and the interrupted run was reading \"%s\"", shown(in->name), k, m, in->member_name);
			wn_source_close(ms);
			break;
		}
		free(in->member_name);
		if (!(in->member_name = strdup(m))) {
			wn_source_close(ms);
			rc = wn_seterr(g->c, WN_E_NOMEM, "%s: out of memory", in->name);
			break;
		}
		if (!here)
			in->offset = in->line = 0;
		in->member = k;
		rc = read_source(g, in, ms, here, m);
		resume = resume && !here;
		wn_source_close(ms);
		if (!rc) {
			/* the next member starts at its beginning */
			in->member = ++k;
			in->offset = in->line = 0;
		}
	}
	if (!rc && resume && in->member > k)
		rc = wn_seterr(g->c, WN_E_MISMATCH, "%s: cannot resume: the archive has %" PRIu64 " members to read, and "
			"the interrupted run was reading member %" PRIu64, shown(in->name), k, in->member);
	wn_buf_free(&full);
	return rc;
}

static int ingest_input(ing *g, size_t idx)
{
	run_in *in = &g->in[idx];
	if (in->done)   /* the interrupted run read it to its end */
		return 0;
	wn_source *src;
	int rc = reopen_input(g, in, &src);
	if (rc)
		return rc;
	rc = in->archive ? read_archive(g, in, src) : read_source(g, in, src, in->resume != NULL, in->label);
	/* bytes count once an input is done; "pending" keeps the position of the others */
	if (rc == 0) {
		in->done = 1;
		g->rc.bytes += src->consumed(src);
	} else {
		g->partial_bytes = in->offset;
	}
	g->bytes_before += src->consumed(src);
	wn_source_close(src);
	return rc;
}

int wn_ingest(wn_catalog *c, const wn_ingest_opts *o, const char *const *paths, size_t n, wn_ingest_result *res)
{
	return wn_ingest_from(c, o, paths, n, NULL, NULL, NULL, NULL, res);
}

int wn_ingest_from(wn_catalog *c, const wn_ingest_opts *o, const char *const *paths, size_t n,
	int (*open)(void *ud, size_t i, wn_source **out), void *open_ud,
	void (*decided)(void *ud, int outcome, const wn_keys *k), void *decided_ud, wn_ingest_result *res)
{
	static const char *const stdin_only[] = { "-" };
	c->err[0] = 0;
	if (res)
		memset(res, 0, sizeof *res);
	if (!c->writable)
		return wn_seterr(c, WN_E_USAGE, "catalog is open read-only");
	/* the kind: one the catalog has, or one the first transaction below adds */
	const char *kname = o->kind ? o->kind : "track";
	int kind = wn_kinds_find(&c->kinds, kname, strlen(kname)), nkinds = c->kinds.n;
	if (kind < 0 && (!wn_kind_valid(kname) || c->kinds.n >= WN_KINDS_MAX))
		return wn_catalog_kind(c, NULL, kname, 1);
	int knum = kind >= 0 ? kind : nkinds;
	if (kind < 0)
		memset(&c->ks[nkinds], 0, sizeof c->ks[nkinds]);
	if (o->level < 1 || o->level > 22 || o->frame_bytes < 4096 || o->frame_bytes > (1u << 30) ||
	    o->shard_bytes < o->frame_bytes || o->max_line < 16)
		return wn_seterr(c, WN_E_USAGE, "bad level, frame, shard or line size");
	if (o->on_conflict == WN_CONFLICT_NEWEST && (!o->newest_field || !*o->newest_field))
		return wn_seterr(c, WN_E_USAGE, "--on-conflict newest needs a field: newest:FIELD");
	if (wn_csv_delimiter_why(o->csv_delimiter))
		return wn_seterr(c, WN_E_USAGE, "%s", wn_csv_delimiter_why(o->csv_delimiter));
	if (!n) {
		paths = stdin_only;
		n = 1;
	}
	ing g;
	memset(&g, 0, sizeof g);
	g.c = c;
	g.open = open;
	g.open_ud = open_ud;
	g.decided = decided;
	g.decided_ud = decided_ud;
	g.o = g.o_user = o;
	g.kind = knum;
	g.kname = kname;
	g.ks = &c->ks[g.kind];
	g.res = res;
	g.t0 = wn_now();
	g.ckpt_every = o->checkpoint_records;
	if (!g.ckpt_every) {
		/* two memtables (one filling, one being written) of 32-byte slots at most 70%
		 * full, a power of two of them: each takes 1/16 of the budget */
		g.ckpt_every = o->memory / 768;
		if (g.ckpt_every < 65536)
			g.ckpt_every = 65536;
		if (g.ckpt_every > (8u << 20))
			g.ckpt_every = 8u << 20;
	}
	int threads = o->threads > 0 ? o->threads : wn_ncores();
	int rc;
	wn_kstate ks_saved = *g.ks;
	wn_profile *prof_saved = c->prof[g.kind] ? malloc(sizeof *prof_saved) : NULL;
	int had_prof = c->prof[g.kind] != NULL;
	if (prof_saved)
		*prof_saved = *c->prof[g.kind];

	wn_catalog_forget_abandoned(c);
	g.in = calloc(n, sizeof *g.in);
	g.json = wn_json_new();
	if (!g.in || !g.json) {
		rc = WN_E_NOMEM;
		goto out;
	}
	g.n_in = n;
	if (had_prof && !prof_saved) {
		rc = WN_E_NOMEM;
		goto out;
	}
	if ((rc = run_profile(&g, paths, n)))
		goto out;
	/* every input opened and checked before the first is read */
	if ((rc = check_inputs(&g, paths)))
		goto out;
	/* options and resume state: does this run continue an interrupted one? */
	MDB_txn *txn;
	if ((rc = mdb_txn_begin(c->env, NULL, 0, &txn))) {
		rc = wn_lmdb_err(c, rc, "begin");
		goto out;
	}
	if ((kind < 0 && (rc = wn_catalog_kind(c, txn, kname, 1)) < 0) || (rc = wn_ingest_check_forgotten(&g, txn, g.contrib)) ||
	    (rc = store_profile(&g, txn)) ||
	    (rc = wn_pending_load(&g, txn)) || (rc = wn_pending_decide(&g, txn)) ||
	    (g.cpart >= 0 && g.n_in && g.in[0].resume && (rc = wn_contribs_resume(c, txn, g.kind, &g.contribs)))) {
		mdb_txn_abort(txn);
		c->kinds.n = nkinds;   /* a kind added in it is not there */
		goto out;
	}
	if ((rc = mdb_txn_commit(txn))) {
		c->kinds.n = nkinds;
		rc = wn_lmdb_err(c, rc, "commit");
		goto out;
	}
	if (g.rc_done.read)
		g.early_bytes = UINT64_MAX;   /* resumed from a checkpoint */
	if ((rc = wn_ingest_setup_json(&g, g.json)))
		goto out;
	if (o->on_conflict == WN_CONFLICT_NEWEST) {
		g.json2 = wn_json_new();
		if (!g.json2) {
			rc = WN_E_NOMEM;
			goto out;
		}
		if ((rc = wn_json_set_slot(g.json2, 0, o->newest_field))) {
			wn_seterr(c, rc, "bad --on-conflict field \"%s\"", o->newest_field);
			goto out;
		}
	}
	if ((rc = wn_parse_team_new(&g, o->parse_threads)))
		goto out;

	/* sizes of the inputs, for progress and for sizing the filter */
	uint64_t expect = 0;
	for (size_t i = 0; i < n; i++) {
		struct stat st;
		if (strcmp(paths[i], "-") && !stat(paths[i], &st) && S_ISREG(st.st_mode)) {
			g.total_bytes += (uint64_t)st.st_size;
			expect += (uint64_t)st.st_size / 200;
		} else {
			expect += g.ckpt_every;
		}
	}
	if ((rc = wn_series_pool_new(threads, &o->level, &g.pool)))
		goto out;
	if ((rc = mdb_txn_begin(c->env, NULL, MDB_RDONLY, &g.rtxn))) {
		rc = wn_lmdb_err(c, rc, "begin");
		goto out;
	}
	if ((rc = wn_series_open(c, g.rtxn, WN_ROLE_SHARD, g.kind, g.pool, threads * 2 + 2, o->frame_bytes, o->shard_bytes,
		     g.ks->next_ord, &g.shard)) ||
	    (rc = wn_series_open(c, g.rtxn, WN_ROLE_LEDGER, g.kind, g.pool, 3, o->frame_bytes, o->shard_bytes,
		     g.ks->ledger_entries, &g.ledger)) ||
	    (rc = wn_series_open(c, g.rtxn, WN_ROLE_REJECT, g.kind, g.pool, 2, o->frame_bytes, o->shard_bytes,
		     g.ks->reject_entries, &g.rejects)))
		goto out;
	if (g.shard->next_ord != g.ks->next_ord) {
		rc = wn_seterr(c, WN_E_CORRUPT, "index: shard ordinals disagree with the counters");
		goto out;
	}
	if ((rc = wn_lsm_open(c, g.kind, expect < g.ckpt_every ? expect : g.ckpt_every, expect, o->memory, &g.lsm)))
		goto out;
	/* a merge a crash interrupted is finished before anything else is written */
	mdb_txn_reset(g.rtxn);
	rc = wn_lsm_compact(g.lsm);
	int rr = mdb_txn_renew(g.rtxn);
	if (rc || (rr && (rc = wn_lmdb_err(c, rr, "renew"))))
		goto out;

	for (size_t i = 0; i < n && !rc; i++)
		rc = ingest_input(&g, i);
	/* a checkpoint still in the background commits (or fails) before anything else */
	int rcw = wn_ckpt_wait(&g);
	if (rcw && (!rc || rc == WN_E_INTERRUPTED))
		rc = rcw;
	progress(&g, NULL, 0, 1);
	if (!rc) {
		rc = wn_checkpoint(&g, 1);
		if (!rc)
			rc = wn_catalog_write_manifests(c);
	} else if (rc == WN_E_REJECTED) {
		/* --strict: keep the records before the bad one (and its rejects entry) */
		int rc2 = wn_checkpoint(&g, 0);
		if (rc2)
			rc = rc2;
	} else if (rc == WN_E_INTERRUPTED) {
		/* Like a crash, but tidy: work since the last checkpoint is dropped, so that the
		 * rerun writes exactly the bytes an uninterrupted run would have written. */
		wn_seterr(c, rc, "interrupted: %" PRIu64 " records are in the catalog, %" PRIu64 " more were dropped; "
			"run the same command again to finish", g.rc_done.read, g.rc.read - g.rc_done.read);
	}
	if (g.nocontrib_stop) {
		/* nothing was decided: no "pending" is left to resume or abandon */
		MDB_txn *t;
		char key[WN_KIND_NAME_MAX + 16];
		snprintf(key, sizeof key, "pending.%s", kname);
		char keep[sizeof c->err];
		memcpy(keep, c->err, sizeof keep);
		if (!mdb_txn_begin(c->env, NULL, 0, &t)) {
			if (wn_meta_del(c, t, key))
				mdb_txn_abort(t);
			else
				mdb_txn_commit(t);
		}
		memcpy(c->err, keep, sizeof keep);
	}
out:
	if (rc && rc != WN_E_REJECTED) {
		/* the catalog on disk is at its last checkpoint; so must our idea of it be */
		*g.ks = ks_saved;
		MDB_txn *t;
		if (g.kind < c->kinds.n && !mdb_txn_begin(c->env, NULL, MDB_RDONLY, &t)) {
			wn_meta_get_kstate(c, t, g.kind, g.ks);
			mdb_txn_abort(t);
		}
	}
	if (rc && rc != WN_E_REJECTED && c->prof[g.kind]) {
		/* the profile on disk is what the last committed transaction left */
		MDB_txn *t;
		MDB_val v;
		char key[48], why[160];
		snprintf(key, sizeof key, "profile.%s", kname);
		if (!mdb_txn_begin(c->env, NULL, MDB_RDONLY, &t)) {
			if (!wn_meta_get(c, t, key, &v) && !wn_profile_decode(c->prof[g.kind], v.mv_data, v.mv_size, why, sizeof why))
				;
			else if (prof_saved)
				*c->prof[g.kind] = *prof_saved;
			else {
				free(c->prof[g.kind]);
				c->prof[g.kind] = NULL;
			}
			mdb_txn_abort(t);
		}
	}
	free(prof_saved);
	if (!rc || rc == WN_E_REJECTED) {
		const wn_profile *p = &g.prof;
		uint64_t valid = g.rc.read - g.rc.rejected;
		/* a path someone named (the built-in ones are tried on every kind of input) */
		wn_profile dflt;
		wn_profile_default(&dflt, kname, NULL);
		if (*p->builtin)
			wn_profile_set_builtin(&dflt, p->builtin);
		int named = p->n_isrc != dflt.n_isrc || (p->n_isrc && strcmp(p->isrc[0], dflt.isrc[0]));
		if (p->n_isrc && named && valid && !g.isrc_seen)
			wn_source_note(o, c->dir, "no %s record of this run had an ISRC at %s%s%s (--isrc PATH says where it is)",
				kname, p->isrc[0], p->n_isrc > 1 ? " or " : "", p->n_isrc > 1 ? p->isrc[1] : "");
		if (g.isrc_over)
			wn_source_note(o, c->dir, "%" PRIu64 " records had more than %d ISRCs: the first %d of each are indexed",
				g.isrc_over, WN_MAX_ISRCS, WN_MAX_ISRCS);
	}
	if (res) {
		/* a failed run reports what the catalog holds of it, never work thrown away */
		int kept_all = !rc || rc == WN_E_REJECTED;
		const run_counts *rn = kept_all ? &g.rc : &g.rc_done;
#define WN_X(n) res->n = rn->n;
		WN_OUTCOMES(WN_X)
#undef WN_X
		res->bytes_in = kept_all ? g.rc.bytes + g.partial_bytes : g.rc_done.bytes + g.partial_done;
		res->dropped = g.rc.read - rn->read;
		res->seconds = wn_now() - g.t0;
		res->t_read = g.t_read;
		res->t_input_wait = g.t_input_wait;
		res->t_parse = g.t_parse;
		res->t_dedup = g.t_dedup;
		res->t_store = g.t_store;
		res->t_commit = g.t_commit;
		res->t_merge = g.t_merge;
		res->t_compress_wait = (g.shard ? g.shard->t_wait : 0) + (g.ledger ? g.ledger->t_wait : 0);
		res->t_compress = g.pool ? wn_pool_cpu(g.pool) : 0;
	}
	wn_series_close(g.shard);
	wn_series_close(g.ledger);
	wn_series_close(g.rejects);
	if (rc && rc != WN_E_REJECTED && ((rc != WN_E_MISMATCH && rc != WN_E_USAGE) || g.nocontrib_stop)) {
		/* cut the files back to the last checkpoint now rather than at the next open */
		char keep[sizeof c->err];
		memcpy(keep, c->err, sizeof keep);
		wn_catalog_rollback(c);
		memcpy(c->err, keep, sizeof keep);
	}
	wn_ckpt_stop(&g);
	if (g.rtxn)
		mdb_txn_abort(g.rtxn);
	wn_lsm_close(g.lsm);
	wn_pool_free(g.pool);
	wn_parse_team_free(g.team);
	wn_json_free(g.json);
	wn_json_free(g.json2);
	wn_xform_free(g.xf);
	for (size_t i = 0; i < g.npend; i++) {
		free(g.pend[i].name);
		free(g.pend[i].member_name);
		free(g.pend[i].path);
	}
	free(g.pend);
	free(g.sup);
	free(g.ck.job.sup);
	wn_buf_free(&g.ck.job.pending);
	wn_buf_free(&g.ck.job.contrib);
	free(g.ck.job.who);
	wn_contribs_free(&g.contribs);
	for (int i = 0; i < WN_NROLES; i++)
		wn_series_snap_free(&g.ck.job.snap[i]);
	for (size_t i = 0; i < g.n_in; i++) {
		wn_source_close(g.in[i].src);
		free(g.in[i].path);
		free(g.in[i].member_name);
	}
	free(g.in);
	wn_buf_free(&g.ent);
	wn_buf_free(&g.tmp);
	wn_buf_free(&g.tmp2);
	wn_buf_free(&g.fetched);
	wn_buf_free(&g.name_json);
	return rc;
}
