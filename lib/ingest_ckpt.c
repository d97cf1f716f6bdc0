/*
 * ingest_ckpt.c - checkpoints of an ingest, and "pending", the record of where an
 * interrupted run stood.
 *
 * Every checkpoint_records records the ingesting thread makes the files durable, takes
 * what the checkpoint records (series snapshots, counters, input positions, superseded
 * ordinals), freezes the memtable and hands the transaction to the checkpoint thread,
 * then goes on deciding into a new memtable. The next checkpoint, or the ingesting
 * thread as soon as it sees the job done, installs the result: the new runs become
 * readable, the series forget what was recorded, runs are merged where due. The final
 * checkpoint and a --strict stop run the same job on the ingesting thread. Either way
 * the transaction holds what was decided up to the checkpoint's record and nothing
 * after, so the bytes written do not depend on timing.
 *
 * "pending" (meta "pending.KIND", written by every checkpoint but the final one) lists
 * the run's counters and, per input, whether it is done and where it stands, so that a
 * rerun of the same inputs resumes where the last checkpoint was.
 */
#include "ingest.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <xxhash.h>

/* ---- the run's own renames, noted at its end ---- */

/* Record, in meta "renames.<kind>", the run's own renames of its inputs' fields when they
 * are not the profile's (FORMAT.md 15.2, input_renames). 0 or an error. */
static int note_run_renames(ing *g, MDB_txn *txn)
{
	wn_catalog *c = g->c;
	const wn_profile *p = &g->prof, *s = c->prof[g->kind];
	if (!g->fixed || !s)
		return 0;
	int same = p->n_rename == s->n_rename;
	for (int i = 0; same && i < p->n_rename; i++)
		same = !strcmp(p->rename_from[i], s->rename_from[i]) && !strcmp(p->rename_to[i], s->rename_to[i]);
	if (same)
		return 0;
	char key[WN_KIND_NAME_MAX + 16];
	snprintf(key, sizeof key, "renames.%s", g->kname);
	MDB_val v;
	wn_buf b = { 0 };
	int rc = wn_meta_get(c, txn, key, &v);
	if (rc && rc != WN_E_NOTFOUND)
		return rc;
	/* a JSON array, one object a run: its generation, its inputs, its renames */
	rc = rc ? wn_buf_puts(&b, "[") : wn_buf_put(&b, v.mv_data, v.mv_size - 1) || wn_buf_puts(&b, ",");
	rc |= wn_buf_printf(&b, "{\"generation\":%llu,\"inputs\":[", (unsigned long long)c->generation + 1);
	for (size_t i = 0; i < g->n_in; i++) {
		rc |= wn_buf_puts(&b, i ? "," : "");
		const char *nm = g->hide_names ? g->in[i].label : g->in[i].name;
		rc |= wn_buf_json_bytes(&b, nm, strlen(nm));
	}
	rc |= wn_buf_puts(&b, "],\"rename\":[");
	for (int i = 0; i < p->n_rename; i++) {
		rc |= wn_buf_puts(&b, i ? ",[" : "[");
		rc |= wn_buf_json_str(&b, p->rename_from[i], strlen(p->rename_from[i]));
		rc |= wn_buf_puts(&b, ",");
		rc |= wn_buf_json_str(&b, p->rename_to[i], strlen(p->rename_to[i]));
		rc |= wn_buf_puts(&b, "]");
	}
	rc |= wn_buf_puts(&b, "]}]");
	rc = rc ? WN_E_NOMEM : wn_meta_put(c, txn, key, b.p, b.len);
	wn_buf_free(&b);
	return rc;
}

/* ---- "pending": where an interrupted run stood ----
 * Text, one item a line (FORMAT.md 11.6):
 *   counts READ KEPT DUPLICATES REVISIONS REJECTED SUPERSEDED BYTES
 *   file DONE OFFSET LINE SIZE HEADHASH REGULAR DEV INO PATH NAME
 * PATH (the realpath of a regular file, "-" when there is none) and NAME (as named, "-"
 * for standard input) are words: bytes outside '!'..'~', and '%', written as %XX.
 * Entries of the first format, "input DONE OFFSET LINE SIZE HEADHASH NAME" (NAME to the
 * end of the line), are still read: they are matched by name, size and head hash.
 *
 * An input of this run is the same as one of the interrupted run when its size and the
 * hash of its first 64 KiB are the same and, for a regular file, it is the same file:
 * the same device and inode (so big.jsonl and /abs/path/big.jsonl are one input), or,
 * as a device number may change across a reboot, the same realpath; anything else
 * (a pipe, standard input) by the name it was given. */

/* A private profile's "pending" holds no path: a path or name is "~" and the hex of its
 * XXH128 (which a later run's inputs are compared with). */
static void hash_word(char out[34], const char *w)
{
	XXH128_canonical_t c;
	XXH128_canonicalFromHash(&c, XXH3_128bits(w, strlen(w)));
	out[0] = '~';
	wn_hex(out + 1, c.digest, 16);
}

/* Does the word stored in "pending" (a name, or its hash) stand for w? */
static int word_is(const char *stored, const char *w)
{
	if (!stored || !w)
		return 0;
	if (stored[0] == '~' && strlen(stored) == 33) {
		char h[34];
		hash_word(h, w);
		if (!strcmp(h, stored))
			return 1;
	}
	return !strcmp(stored, w);
}

static void put_word(wn_buf *b, const char *w)
{
	if (!w) {
		wn_buf_puts(b, "-");
		return;
	}
	for (const unsigned char *p = (const unsigned char *)w; *p; p++) {
		if (*p > ' ' && *p < 0x7f && *p != '%')
			wn_buf_put(b, p, 1);
		else
			wn_buf_printf(b, "%%%02x", *p);
	}
}

/* The word at *p (advanced past it and one space), malloc'd; NULL on error (*bad: 1
 * malformed, 2 no memory) or, if dash_none, for "-" (no such thing). */
static char *get_word(const char **p, int *bad, int dash_none)
{
	const char *s = *p, *e = s;
	while (*e && *e != ' ')
		e++;
	*p = *e ? e + 1 : e;
	if (e == s || (dash_none && e - s == 1 && *s == '-'))
		return (*bad |= e == s, NULL);
	char *w = malloc((size_t)(e - s) + 1), *o = w;
	if (!w)
		return (*bad |= 2, NULL);
	for (; s < e; s++) {
		if (*s != '%') {
			*o++ = *s;
			continue;
		}
		int hi = s + 2 < e ? wn_hexval(s[1]) : -1, lo = hi >= 0 ? wn_hexval(s[2]) : -1;
		if (hi < 0 || lo < 0 || (!hi && !lo)) {
			free(w);
			return (*bad |= 1, NULL);
		}
		*o++ = (char)(hi << 4 | lo);
		s += 2;
	}
	*o = 0;
	return w;
}

static int parse_entry(const char *ln, pending_in *p)
{
	int done = 0, regular = 0, pos = 0, bad = 0;
	if (!strncmp(ln, "input ", 6)) {
		/* the first format */
		if (sscanf(ln + 6, "%d %" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNx64 " %n", &done, &p->offset, &p->line,
			   &p->size, &p->head, &pos) != 5 || !pos || !ln[6 + pos])
			return WN_E_CORRUPT;
		p->by_name = 1;
		p->done = done;
		return (p->name = strdup(ln + 6 + pos)) ? 0 : WN_E_NOMEM;
	}
	if (sscanf(ln + 5, "%d %" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNx64 " %d %" SCNu64 " %" SCNu64 " %n", &done,
		   &p->offset, &p->line, &p->size, &p->head, &regular, &p->dev, &p->ino, &pos) != 8 || !pos)
		return WN_E_CORRUPT;
	p->done = done;
	p->regular = regular;
	const char *q = ln + 5 + pos;
	p->path = get_word(&q, &bad, 1);
	p->name = get_word(&q, &bad, 0);
	if (bad || *q || !p->name)
		return bad & 2 ? WN_E_NOMEM : WN_E_CORRUPT;
	return 0;
}

int wn_pending_load(ing *g, MDB_txn *txn)
{
	char key[WN_KIND_NAME_MAX + 16];
	MDB_val v;
	snprintf(key, sizeof key, "pending.%s", wn_catalog_kind_name(g->c, g->kind));
	int rc = wn_meta_get(g->c, txn, key, &v);
	if (rc == WN_E_NOTFOUND)
		return 0;
	if (rc)
		return rc;
	char *text = strndup(v.mv_data, v.mv_size);
	if (!text)
		return WN_E_NOMEM;
	char *save = NULL;
	int have_counts = 0;
	for (char *ln = strtok_r(text, "\n", &save); ln && !rc; ln = strtok_r(NULL, "\n", &save)) {
		run_counts *r = &g->pend_rc;
		if (!strncmp(ln, "counts ", 7)) {
#define WN_X(n) &r->n,
			uint64_t *f[] = { WN_OUTCOMES(WN_X) &r->bytes };
#undef WN_X
			const char *p = ln + 7;
			for (size_t i = 0; i < sizeof f / sizeof *f && !rc; i++) {
				char *e;
				*f[i] = strtoull(p, &e, 10);
				if (e == p)
					rc = WN_E_CORRUPT;
				p = e;
			}
			have_counts = 1;
		} else if (!strncmp(ln, "member ", 7)) {
			/* the position of the archive of the file line before it */
			pending_in *p = g->npend ? &g->pend[g->npend - 1] : NULL;
			int pos = 0, bad = 0;
			if (!p || p->has_member || sscanf(ln + 7, "%" SCNu64 " %n", &p->member, &pos) != 1 || !pos) {
				rc = WN_E_CORRUPT;
				break;
			}
			const char *q = ln + 7 + pos;
			p->member_name = get_word(&q, &bad, 0);
			if (bad || *q || !p->member_name)
				rc = bad & 2 ? WN_E_NOMEM : WN_E_CORRUPT;
			p->has_member = 1;
		} else if (!strncmp(ln, "input ", 6) || !strncmp(ln, "file ", 5)) {
			if ((rc = WN_GROW(g->pend, g->npend, g->cap_pend, 4)))
				break;
			pending_in *p = &g->pend[g->npend++];
			rc = parse_entry(ln, p);
		}
	}
	free(text);
	if (!rc && !have_counts)
		rc = WN_E_CORRUPT;
	if (rc == WN_E_CORRUPT)
		return wn_seterr(g->c, WN_E_CORRUPT, "index: meta %s is malformed", key);
	return rc;
}

/* Is this run's input r the interrupted run's input p? */
static int same_input(const pending_in *p, const run_in *r)
{
	if (p->size != r->size || p->head != r->head)
		return 0;
	if (p->by_name) {
		if (!strcmp(p->name, r->name))
			return 1;
		if (!r->path)
			return 0;
		char *rp = realpath(p->name, NULL);
		int same = rp && !strcmp(rp, r->path);
		free(rp);
		return same;
	}
	if (p->regular != r->regular || p->has_member != r->archive)
		return 0;
	if (!r->regular)
		return word_is(p->name, r->name);
	return (p->dev == r->dev && p->ino == r->ino) || word_is(p->path, r->path);
}

static void note(ing *g, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(ing *g, const char *fmt, ...)
{
	if (!g->o->on_note)
		return;
	va_list ap;
	char msg[1024];
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	g->o->on_note(msg, g->o->note_ud);
}

/* The interrupted run is not continued: name it (o->on_note, res) and forget it. */
static int abandon(ing *g)
{
	wn_catalog *c = g->c;
	char more[48] = "";
	if (g->npend > 1)
		snprintf(more, sizeof more, " and %zu more input%s", g->npend - 1, g->npend > 2 ? "s" : "");
	note(g, "an interrupted run of %s%s, with %" PRIu64 " records read up to its last checkpoint, is not continued: "
		"this run's inputs are not the same files in the same order; those records stay in the catalog, and this "
		"run reads its inputs from their start", g->npend ? (strcmp(g->pend[0].name, "-") ? g->pend[0].name : "standard input") : "no input",
		more, g->pend_rc.read);
	if (!g->res)
		return 0;
	if (!(c->abandoned = calloc(g->npend ? g->npend : 1, sizeof *c->abandoned)))
		return WN_E_NOMEM;
	for (size_t i = 0; i < g->npend; i++) {
		c->abandoned[i] = g->pend[i].name;
		g->pend[i].name = NULL;
	}
	c->nabandoned = g->npend;
	g->res->abandoned = 1;
	g->res->abandoned_records = g->pend_rc.read;
	g->res->abandoned_inputs = (const char *const *)c->abandoned;
	g->res->abandoned_ninputs = c->nabandoned;
	return 0;
}

int wn_pending_decide(ing *g, MDB_txn *txn)
{
	int same = g->npend == g->n_in;
	for (size_t i = 0; i < g->n_in && same; i++)
		same = same_input(&g->pend[i], &g->in[i]);
	if (same && g->npend) {
		for (size_t i = 0; i < g->n_in; i++) {
			g->in[i].resume = &g->pend[i];
			g->in[i].offset = g->pend[i].offset;
			g->in[i].line = g->pend[i].line;
			g->in[i].done = g->pend[i].done;
			g->in[i].member = g->pend[i].member;
			if (g->pend[i].member_name && strcmp(g->pend[i].member_name, "-"))
				g->in[i].member_name = strdup(g->pend[i].member_name);   /* NULL: not checked */
		}
		g->rc = g->rc_done = g->pend_rc;
		if (g->res)
			g->res->resumed_records = g->rc.read;
		int started = g->pend_rc.read == 0;
		for (size_t i = 0; i < g->n_in; i++)
			started &= !g->pend[i].done && !g->pend[i].offset && !g->pend[i].member;
		if (started) {
			note(g, "an earlier run of these inputs was interrupted before its first checkpoint: nothing of it "
				"was kept, and this run starts over from the beginning");
			if (g->res)
				g->res->restarted = 1;
		}
		return 0;
	}
	int rc = g->npend ? abandon(g) : 0;
	/* this run's "pending", before anything is read: a run interrupted before its first
	 * checkpoint is known as such, and a later run of other inputs says it abandons it */
	if (!rc)
		rc = wn_pending_text(g, &g->tmp);
	if (!rc) {
		char key[WN_KIND_NAME_MAX + 16];
		snprintf(key, sizeof key, "pending.%s", wn_catalog_kind_name(g->c, g->kind));
		rc = wn_meta_put(g->c, txn, key, g->tmp.p, g->tmp.len);
	}
	return rc;
}

int wn_pending_text(ing *g, wn_buf *b)
{
	run_counts *r = &g->rc;
	b->len = 0;
	wn_buf_puts(b, "counts");
#define WN_X(n) wn_buf_puts(b, " "), wn_buf_put_u64(b, r->n);
	WN_OUTCOMES(WN_X)
#undef WN_X
	wn_buf_puts(b, " ");
	wn_buf_put_u64(b, r->bytes);
	wn_buf_puts(b, "\n");
	for (size_t i = 0; i < g->n_in; i++) {
		const run_in *in = &g->in[i];
		wn_buf_printf(b, "file %d %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIx64 " %d %" PRIu64 " %" PRIu64 " ", in->done,
			in->offset, in->line, in->size, in->head, in->regular, in->dev, in->ino);
		char hp[34], hn[34];
		if (g->hide_names && in->path)
			hash_word(hp, in->path);
		hash_word(hn, in->name);
		put_word(b, g->hide_names && in->path ? hp : in->path);
		wn_buf_puts(b, " ");
		put_word(b, g->hide_names ? hn : in->name);
		wn_buf_puts(b, "\n");
		if (in->archive) {
			wn_buf_printf(b, "member %" PRIu64 " ", in->member);
			put_word(b, in->member_name ? in->member_name : "-");
			wn_buf_puts(b, "\n");
		}
	}
	return b->p ? 0 : WN_E_NOMEM;
}

/* A contributor the catalog forgot comes back only when the run says so; then its
 * tombstone goes (doc/FORMAT.md 18.4). */
int wn_ingest_check_forgotten(ing *g, MDB_txn *txn, const char *hex)
{
	char key[64];
	MDB_val v;
	if (!*hex)
		return 0;
	char tid[33];
	wn_tombstone_id(hex, tid);
	snprintf(key, sizeof key, "%s%s", WN_TOMBSTONE_PREFIX, tid);
	int rc = wn_meta_get(g->c, txn, key, &v);
	if (rc)
		return rc == WN_E_NOTFOUND ? 0 : rc;
	if (g->o_user->allow_forgotten)
		return wn_meta_del(g->c, txn, key);
	return wn_seterr(g->c, WN_E_USAGE, "contributor %s was forgotten (%.*s): its records are not taken again "
		"without --allow-forgotten", hex, (int)(v.mv_size < 10 ? v.mv_size : 10), (const char *)v.mv_data);
}

/* ---- checkpoint ---- */


static int ckpt_txn(ing *g, ckjob *j)
{
	wn_catalog *c = g->c;
	MDB_txn *txn;
	int rc = mdb_txn_begin(c->env, NULL, 0, &txn);
	if (rc)
		return wn_lmdb_err(c, rc, "begin");
	rc = wn_lsm_flush_frozen(g->lsm, txn);
	for (int i = 0; i < WN_NROLES && !rc; i++)
		rc = wn_series_commit(c, &j->snap[i], txn);
	/* which files hold each contributor's records: what forget rewrites (FORMAT.md 18.5);
	 * the run's contributors are --contributor's, or those the records name (an export's
	 * username), each refused here if the catalog forgot it */
	for (size_t w = 0; w < j->nwho && !rc; w++) {
		if ((rc = wn_ingest_check_forgotten(g, txn, j->who[w])))
			break;
		for (int i = 0; i < WN_NROLES && !rc; i++) {
			const wn_series_snap *sn = &j->snap[i];
			for (size_t d = 0; d < sn->ndirty && !rc; d++)
				rc = wn_holds_add(c, txn, g->kind, j->who[w], sn->dirty[d].role, sn->dirty[d].seq);
			if (!rc && sn->open)
				rc = wn_holds_add(c, txn, g->kind, j->who[w], sn->fi.role, sn->fi.seq);
		}
	}
	if (!rc && j->nsup) {
		MDB_cursor *cur = NULL;
		if ((rc = mdb_cursor_open(txn, c->db_super[g->kind], &cur))) {
			rc = wn_lmdb_err(c, rc, "superseded");
			cur = NULL;
		}
		for (size_t i = 0; i < j->nsup && !rc; i++) {
			uint8_t kb[8], vb[8];
			wn_put_be64(kb, j->sup[i].old);
			wn_put_be64(vb, j->sup[i].by);
			MDB_val k = { 8, kb }, v = { 8, vb };
			if ((rc = mdb_cursor_put(cur, &k, &v, 0)))
				rc = wn_lmdb_err(c, rc, "superseded");
		}
		if (cur)
			mdb_cursor_close(cur);
	}
	if (!rc && g->cpart >= 0)
		rc = wn_contribs_commit(c, txn, g->kind, j->contrib.p, j->contrib.len, j->final, c->generation + 1);
	if (!rc) {
		/* the flush numbered its runs; nothing else does while it runs */
		j->ks.runs_next = c->ks[g->kind].runs_next;
		rc = wn_meta_put_kstate(c, txn, g->kind, &j->ks);
	}
	if (!rc) {
		char key[WN_KIND_NAME_MAX + 16];
		snprintf(key, sizeof key, "pending.%s", wn_catalog_kind_name(g->c, g->kind));
		if (j->final) {
			uint8_t gen[8];
			rc = wn_meta_del(c, txn, key);
			wn_put_be64(gen, c->generation + 1);
			if (!rc)
				rc = wn_meta_put(c, txn, "generation", gen, 8);
			if (!rc)
				rc = note_run_renames(g, txn);
		} else {
			rc = wn_meta_put(c, txn, key, j->pending.p, j->pending.len);
		}
	}
	if (rc) {
		mdb_txn_abort(txn);
		return rc;
	}
	if ((rc = mdb_txn_commit(txn)))
		return wn_lmdb_err(c, rc, "commit");
	return 0;
}

/* Make the files durable, take what the checkpoint records and freeze the memtable. */
static int ckpt_prepare(ing *g, ckjob *j, int final)
{
	wn_series *st[WN_NSTREAMS] = { g->shard, g->ledger, g->rejects };
	int rc = 0;
	for (int i = 0; i < WN_NSTREAMS && !rc; i++)
		rc = wn_series_sync(st[i]);
	for (int i = 0; i < WN_NSTREAMS && !rc && final; i++)
		rc = wn_series_seal(st[i]);
	for (int i = 0; i < WN_NSTREAMS && !rc; i++)
		rc = wn_series_snapshot(st[i], &j->snap[i]);
	/* the run's contributions, numbered, in a file of their own, sealed before the
	 * transaction that records it and them (FORMAT.md 15.7) */
	if (!rc && final && g->cpart >= 0)
		rc = wn_contribs_write(g->c, g->rtxn, g->kind, g->pool, &g->contribs, g->c->generation + 1, g->o->frame_bytes,
			g->o->shard_bytes, &j->snap[WN_ROLE_CONTRIB]);
	if (rc)
		return rc;
	g->ks->next_ord = g->shard->next_ord;
	j->ks = *g->ks;
	j->rc = g->rc;
	j->partial = 0;
	for (size_t i = 0; i < g->n_in; i++)
		if (!g->in[i].done)
			j->partial += g->in[i].offset;
	j->final = final;
	if (!final && (rc = wn_pending_text(g, &j->pending)))
		return rc;
	if (g->cpart >= 0 && (rc = wn_contribs_encode(&g->contribs, &j->contrib)))
		return rc;
	/* the contributors met: every one the contributions name (one accumulator each), and
	 * --contributor's, which they name once the run has a play */
	j->nwho = 0;
	int named = !*g->contrib;
	for (size_t i = 0; i <= g->contribs.n; i++) {
		const char *w = i < g->contribs.n ? g->contribs.v[i].who : g->contrib;
		if (strlen(w) != 32 || (i == g->contribs.n && named))
			continue;
		named |= !strcmp(w, g->contrib);
		if (WN_GROW(j->who, j->nwho, j->capwho, 4))
			return WN_E_NOMEM;
		memcpy(j->who[j->nwho++], w, 33);
	}
	/* the superseded pairs go with the job; its emptied array comes back */
	supers *sp = j->sup;
	size_t cap = j->capsup;
	j->sup = g->sup;
	j->nsup = g->nsup;
	j->capsup = g->capsup;
	g->sup = sp;
	g->capsup = cap;
	g->nsup = 0;
	if ((rc = wn_lsm_freeze(g->lsm)))
		return rc;
	g->since_ckpt = 0;
	g->early_bytes = UINT64_MAX;
	return 0;
}

/* The job's transaction committed (rc 0) or failed: catch up with it. */
static int ckpt_finish(ing *g, ckjob *j, int rc, int rtxn_reset)
{
	wn_series *st[WN_NSTREAMS] = { g->shard, g->ledger, g->rejects };
	if (rc) {
		wn_lsm_aborted(g->lsm);
	} else {
		if (j->final)
			g->c->generation++;
		rc = wn_lsm_install(g->lsm);
		for (int i = 0; i < WN_NSTREAMS; i++)
			wn_series_committed(st[i], &j->snap[i]);
		g->rc_done = j->rc;
		g->partial_done = j->partial;
	}
	for (int i = 0; i < WN_NROLES; i++)
		wn_series_snap_free(&j->snap[i]);
	j->nsup = 0;
	if (rc)
		return rc;
	if (!rtxn_reset)
		mdb_txn_reset(g->rtxn);
	wn_index_release_pages(g->c);
	/* merges record the counters with the run numbers: those of the checkpoint, as
	 * records decided since then are not in the catalog yet */
	wn_kstate live = *g->ks;
	*g->ks = j->ks;
	double t1 = wn_now();
	rc = wn_lsm_compact(g->lsm);
	g->t_merge += wn_now() - t1;
	live.runs_next = g->ks->runs_next;
	*g->ks = live;
	int rr = mdb_txn_renew(g->rtxn);
	if (!rc && rr)
		rc = wn_lmdb_err(g->c, rr, "renew");
	return rc;
}

static void *ckpt_thread(void *arg)
{
	ing *g = arg;
	ckthread *t = &g->ck;
	pthread_setname_np(pthread_self(), "winnow-ckpt");
	pthread_mutex_lock(&t->mu);
	for (;;) {
		while (!t->quit && !(t->busy && !t->done))
			pthread_cond_wait(&t->cv, &t->mu);
		if (t->quit)
			break;
		pthread_mutex_unlock(&t->mu);
		int rc = ckpt_txn(g, &t->job);
		pthread_mutex_lock(&t->mu);
		t->rc = rc;
		t->done = 1;
		pthread_cond_broadcast(&t->cv);
	}
	pthread_mutex_unlock(&t->mu);
	return NULL;
}

/* Wait for the checkpoint in the background, if any, and catch up with it. */
int wn_ckpt_wait(ing *g)
{
	ckthread *t = &g->ck;
	if (!t->busy)
		return 0;
	double t0 = wn_now();
	pthread_mutex_lock(&t->mu);
	while (!t->done)
		pthread_cond_wait(&t->cv, &t->mu);
	int rc = t->rc;
	t->busy = t->done = 0;
	pthread_mutex_unlock(&t->mu);
	rc = ckpt_finish(g, &t->job, rc, 0);
	g->t_commit += wn_now() - t0;
	return rc;
}

/* Catch up with the checkpoint in the background if it is done. */
int wn_ckpt_poll(ing *g)
{
	ckthread *t = &g->ck;
	if (!t->busy)
		return 0;
	pthread_mutex_lock(&t->mu);
	int done = t->done;
	pthread_mutex_unlock(&t->mu);
	return done ? wn_ckpt_wait(g) : 0;
}

void wn_ckpt_stop(ing *g)
{
	ckthread *t = &g->ck;
	if (!t->started)
		return;
	wn_thread_stop(&t->th, 1, &t->mu, &t->cv, &t->quit);
	pthread_mutex_destroy(&t->mu);
	pthread_cond_destroy(&t->cv);
	t->started = 0;
}

/* A checkpoint on the ingesting thread: the final one, or a --strict stop. */
int wn_checkpoint(ing *g, int final)
{
	double t0 = wn_now();
	int rc = wn_ckpt_wait(g);
	ckjob *j = &g->ck.job;
	if (!rc && !(rc = ckpt_prepare(g, j, final))) {
		mdb_txn_reset(g->rtxn);
		rc = ckpt_finish(g, j, ckpt_txn(g, j), 1);
	}
	g->t_commit += wn_now() - t0;
	return rc;
}

/* A checkpoint in the background (inline if the thread cannot start). */
int wn_checkpoint_bg(ing *g)
{
	ckthread *t = &g->ck;
	int rc = wn_ckpt_wait(g);
	if (rc)
		return rc;
	if (!t->started) {
		if (pthread_mutex_init(&t->mu, NULL))
			return wn_checkpoint(g, 0);
		if (pthread_cond_init(&t->cv, NULL)) {
			pthread_mutex_destroy(&t->mu);
			return wn_checkpoint(g, 0);
		}
		t->quit = t->busy = t->done = 0;
		if (pthread_create(&t->th, NULL, ckpt_thread, g)) {
			pthread_cond_destroy(&t->cv);
			pthread_mutex_destroy(&t->mu);
			return wn_checkpoint(g, 0);
		}
		t->started = 1;
	}
	double t0 = wn_now();
	if ((rc = ckpt_prepare(g, &t->job, 0)))
		return rc;
	pthread_mutex_lock(&t->mu);
	t->busy = 1;
	t->done = 0;
	pthread_cond_broadcast(&t->cv);
	pthread_mutex_unlock(&t->mu);
	g->t_commit += wn_now() - t0;
	return 0;
}
