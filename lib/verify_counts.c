/*
 * verify_counts.c - the counters: what the index's counters say (read = kept + duplicates
 * + revisions + rejected, and the like), what the files rows, the decoded files, the
 * ledger and MANIFEST.json/catalog.json hold, and whether they all add up; for a bare
 * folder, the manifests' own numbers against each other and the files.
 */
#include <stdlib.h>

#include "internal.h"
#include "verify.h"
#include "contrib.h"

#include <xxhash.h>

/* ---- the counters ---- */

typedef struct rolesum {
	uint64_t rows, counted, dup, rev, max_survivor, json, cplays, csum;
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
			t->cplays += fr->cplays;
			t->csum += fr->csum;
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
static void manifest_counts(vctx *x, const char *name, uint64_t m[WN_KINDS_MAX][WN_NCOUNTS], int stale)
{
	for (int kd = 0; kd < x->kinds.n; kd++) {
		const wn_kstate *s = &x->ks[kd];
		uint64_t want[WN_NCOUNTS];
		wn_counts_of(s, want);
		for (int i = 0; i < WN_NCOUNTS; i++) {
			if (m[kd][i] == want[i])
				continue;
			if (stale)
				wn_vprob(x, PK_NOTE, &NOLOC, "%s says %s %s %llu, the index %llu (it is rewritten when the next ingest opens "
					"the catalog)", name, wn_kinds_name(&x->kinds, kd), wn_count_name(i), (unsigned long long)m[kd][i],
					(unsigned long long)want[i]);
			else
				wn_vprob(x, PK_METADATA, &NOLOC, "%s says %s %s %llu, the index %llu", name, wn_kinds_name(&x->kinds, kd), wn_count_name(i),
					(unsigned long long)m[kd][i], (unsigned long long)want[i]);
			break;
		}
	}
}

/* The contributions files of kind kd against the index's contributions (meta
 * contrib.<kind>.<N>, FORMAT.md 15.7): as many lines as contributions, and (deep) the
 * same values. Contributions that no file holds are those of runs written before the
 * files: a note, since reindex cannot rebuild them. */
static void check_contribs(vctx *x, int kd, const rolesum *s)
{
	uint64_t n = 0, plays = 0, sum = 0;
	const char *kn = wn_kinds_name(&x->kinds, kd);
	if (wn_contribs_sums(x->c, x->txn, kd, &n, &plays, &sum)) {
		wn_vprob(x, PK_METADATA, &NOLOC, "index: the %s contributions cannot be read: %s", kn, x->c->err);
		return;
	}
	if (s->rows > n)
		wn_vprob(x, PK_METADATA, &NOLOC, "index: the %s contributions files rows hold %llu contributions, the index %llu",
			kn, (unsigned long long)s->rows, (unsigned long long)n);
	else if (s->rows < n)
		wn_vprob(x, PK_NOTE, &NOLOC, "%llu of the %llu %s contributions are in no contributions file (runs written "
			"before them): winnow reindex cannot rebuild them", (unsigned long long)(n - s->rows), (unsigned long long)n, kn);
	if (x->deep && s->any && s->all_decoded && s->counted == n && (s->cplays != plays || s->csum != sum))
		wn_vprob(x, PK_COUNT, &NOLOC, "the %s contributions files do not hold the index's contributions (%llu plays, "
			"the index %llu)", kn, (unsigned long long)s->cplays, (unsigned long long)plays);
	else if (x->deep && s->any && s->all_decoded && s->counted != s->rows)
		wn_vprob(x, PK_COUNT, &NOLOC, "the %s contributions files hold %llu lines, their rows %llu", kn,
			(unsigned long long)s->counted, (unsigned long long)s->rows);
}

void wn_vcheck_counters(vctx *x)
{
	static const char *const what[WN_NSTREAMS] = { "shard records", "ledger entries", "reject entries" };
	int stale = x->stale;
	for (int kd = 0; kd < x->kinds.n; kd++) {
		rolesum s[WN_NROLES];
		sums_of(x, kd, s);
		const char *kn = wn_kinds_name(&x->kinds, kd);
		if (x->c) {
			const wn_kstate *k = &x->ks[kd];
			const uint64_t want[WN_NSTREAMS] = { k->next_ord, k->ledger_entries, k->reject_entries };
			if (k->read != k->kept + k->duplicates + k->revisions + k->rejected)
				wn_vprob(x, PK_METADATA, &NOLOC, "index: %s read %llu is not kept + duplicates + revisions + rejected = %llu",
					kn, (unsigned long long)k->read,
					(unsigned long long)(k->kept + k->duplicates + k->revisions + k->rejected));
			if (k->next_ord != k->kept + k->superseded + x->forgotten[kd])
				wn_vprob(x, PK_METADATA, &NOLOC, "index: %s next ordinal %llu is not kept + superseded + forgotten = %llu",
					kn, (unsigned long long)k->next_ord,
					(unsigned long long)(k->kept + k->superseded + x->forgotten[kd]));
			if (k->ledger_entries != k->duplicates + k->revisions)
				wn_vprob(x, PK_METADATA, &NOLOC, "index: %s ledger entries %llu are not duplicates + revisions = %llu", kn,
					(unsigned long long)k->ledger_entries, (unsigned long long)(k->duplicates + k->revisions));
			if (k->reject_entries != k->rejected)
				wn_vprob(x, PK_METADATA, &NOLOC, "index: %s reject entries %llu are not rejected = %llu", kn,
					(unsigned long long)k->reject_entries, (unsigned long long)k->rejected);
			check_contribs(x, kd, &s[WN_ROLE_CONTRIB]);
			for (int r = 0; r < WN_NSTREAMS; r++) {
				if (s[r].rows != want[r])
					wn_vprob(x, PK_METADATA, &NOLOC, "index: the %s files rows hold %llu %s, the counters say %llu", kn,
						(unsigned long long)s[r].rows, what[r], (unsigned long long)want[r]);
				if (x->deep && s[r].all_decoded && r && s[r].counted != want[r])
					wn_vprob(x, PK_COUNT, &NOLOC, "the %s files hold %llu %s, the index counts %llu", kn,
						(unsigned long long)s[r].counted, what[r], (unsigned long long)want[r]);
			}
			if (x->deep && s[WN_ROLE_LEDGER].all_decoded) {
				if (s[1].dup != k->duplicates || s[1].rev != k->revisions)
					wn_vprob(x, PK_COUNT, &NOLOC, "the %s ledger has %llu duplicates and %llu revisions, the index counts "
						"%llu and %llu", kn, (unsigned long long)s[1].dup, (unsigned long long)s[1].rev,
						(unsigned long long)k->duplicates, (unsigned long long)k->revisions);
				if (s[1].have_survivor && s[1].max_survivor >= k->next_ord)
					wn_vprob(x, PK_DANGLING, &NOLOC, "the %s ledger names record %llu as a survivor; records go up to %llu", kn,
						(unsigned long long)s[1].max_survivor, (unsigned long long)(k->next_ord ? k->next_ord - 1 : 0));
			}
			continue;
		}
		/* a bare folder: the manifests' own numbers must agree */
		uint64_t (*m)[WN_NCOUNTS] = x->mj_counts ? x->mjc : x->cj_counts ? x->cjc : NULL;
		if (!m || x->interrupted == 1)
			continue;
		uint64_t gone = x->mj_counts ? x->mjf[kd] : x->cjf[kd];
		const uint64_t want[WN_NSTREAMS] = { m[kd][WN_C_kept] + m[kd][WN_C_superseded] + gone,
			m[kd][WN_C_duplicates] + m[kd][WN_C_revisions], m[kd][WN_C_rejected] };
		if (m[kd][WN_C_read] != m[kd][WN_C_kept] + m[kd][WN_C_duplicates] + m[kd][WN_C_revisions] + m[kd][WN_C_rejected])
			wn_vprob(x, PK_METADATA, &NOLOC, "%s: %s read %llu is not kept + duplicates + revisions + rejected",
				x->mj_counts ? "MANIFEST.json" : "catalog.json", kn, (unsigned long long)m[kd][WN_C_read]);
		for (int r = 0; r < WN_NSTREAMS; r++) {
			if (s[r].json_all && (s[r].any || want[r]) && s[r].json != want[r])
				wn_vprob(x, PK_COUNT, &NOLOC, "MANIFEST.json: the %s files hold %llu %s, its counts say %llu", kn,
					(unsigned long long)s[r].json, what[r], (unsigned long long)want[r]);
			if (x->deep && s[r].any && s[r].all_decoded && s[r].counted != want[r])
				wn_vprob(x, PK_COUNT, &NOLOC, "the %s files hold %llu %s, the manifest's counts say %llu", kn,
					(unsigned long long)s[r].counted, what[r], (unsigned long long)want[r]);
		}
		if (x->deep && s[1].all_decoded && s[1].any && (s[1].dup != m[kd][WN_C_duplicates] || s[1].rev != m[kd][WN_C_revisions]))
			wn_vprob(x, PK_COUNT, &NOLOC, "the %s ledger has %llu duplicates and %llu revisions, the manifest's counts say "
				"%llu and %llu", kn, (unsigned long long)s[1].dup, (unsigned long long)s[1].rev,
				(unsigned long long)m[kd][WN_C_duplicates], (unsigned long long)m[kd][WN_C_revisions]);
		/* the shards' ordinal ranges follow each other */
		size_t ns;
		vfile **sh = wn_vshards_of(x, kd, &ns);
		uint64_t running = 0;
		for (size_t i = 0; sh && i < ns; i++) {
			vfile *f = sh[i];
			if (!f->have_json || !f->j.have[WN_MF_RECORDS])
				break;
			if (f->j.records && (!f->j.have[WN_MF_FIRST_ORDINAL] || f->j.first_ordinal != running)) {
				vloc l = at_file(f);
				wn_vprob(x, PK_METADATA, &l, "MANIFEST.json gives the first ordinal %llu, the shards before hold %llu",
					(unsigned long long)f->j.first_ordinal, (unsigned long long)running);
				break;
			}
			running += f->j.records;
		}
		free(sh);
	}
	if (x->c) {
		/* a kind the catalog has and the manifests lack: added by a run that is going on
		 * or was cut short (they are rewritten at its end), else damage */
		for (int kd = WN_NBUILTIN_KINDS; kd < x->kinds.n; kd++)
			for (int d = 1; d <= 2; d++)
				if (x->uncounted[kd] & d)
					wn_vprob(x, stale ? PK_NOTE : PK_METADATA, &NOLOC, "%s has no counts of %s%s",
						d == 1 ? "MANIFEST.json" : "catalog.json", wn_kinds_name(&x->kinds, kd),
						stale ? " yet (it is rewritten when the run that added the kind ends, or when the next ingest "
						"opens the catalog)" : "");
		if (x->cj_counts)
			manifest_counts(x, "catalog.json", x->cjc, stale);
		if (x->mj_counts)
			manifest_counts(x, "MANIFEST.json", x->mjc, stale);
		if (x->cj_have_gen && x->cj_gen != x->generation && !stale)
			wn_vprob(x, PK_METADATA, &NOLOC, "catalog.json says generation %llu, the index %llu",
				(unsigned long long)x->cj_gen, (unsigned long long)x->generation);
		if (x->mj_have_gen && x->mj_gen != x->generation && !stale)
			wn_vprob(x, PK_METADATA, &NOLOC, "MANIFEST.json says generation %llu, the index %llu",
				(unsigned long long)x->mj_gen, (unsigned long long)x->generation);
		if (stale && !x->writer_active)
			wn_vprob(x, PK_NOTE, &NOLOC, "the manifests predate the last ingest run, which was cut short; the next ingest "
				"rewrites them (what they list was checked)");
	}
}
