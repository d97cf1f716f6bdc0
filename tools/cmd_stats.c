/*
 * cmd_stats.c - `winnow stats`: what a catalog holds and what it costs.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"

static const char usage[] =
	"usage: winnow stats -C CATALOG [--json] [--top N]\n"
	"\n"
	"Counts per kind, for every kind the catalog holds (kept, duplicates, revisions,\n"
	"rejected), bytes raw and compressed,\n"
	"shards and frames, index bytes per kept record, and the ISRCs on most track ids.\n"
	"\n"
	"  -C, --catalog DIR        the catalog\n"
	"      --json               print one JSON object on stdout\n"
	"      --top N              list the N ISRCs on most tracks (default 10, 0: none)\n"
	"  -h, --help               print this text\n";

typedef struct topctx {
	outbuf *o;
	int json, n;
} topctx;

static int top_fn(const char *isrc, size_t len, uint64_t count, void *ud)
{
	topctx *t = ud;
	if (t->json) {
		out_str(t->o, t->n++ ? "," : "");
		out_str(t->o, "{\"isrc\":");
		out_json_str(t->o, isrc, len);
		out_fmt(t->o, ",\"tracks\":%llu}", (unsigned long long)count);
	} else {
		out_fmt(t->o, "  %.*s  %llu tracks\n", (int)len, isrc, (unsigned long long)count);
	}
	return 0;
}

int cmd_stats(int argc, char **argv)
{
	static const struct option lo[] = { { "catalog", 1, 0, 'C' }, { "json", 0, 0, 'J' }, { "top", 1, 0, 't' },
		{ "help", 0, 0, 'h' }, { 0, 0, 0, 0 } };
	const char *dir = NULL;
	int json = 0, top = 10, c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "C:h", lo, NULL)) != -1) {
		switch (c) {
		case 'C': dir = optarg; break;
		case 'J': json = 1; break;
		case 't': top = atoi(optarg); if (top < 0) top = 0; break;
		case 'h': fputs(usage, stdout); return EXIT_OK;
		default: return usage_error("stats", "bad option");
		}
	}
	if (!dir)
		return usage_error("stats", "-C CATALOG is required");
	wn_catalog *cat;
	int rc = open_catalog(&cat, dir, WN_OPEN_READ);
	if (rc)
		return rc;
	wn_stats s;
	rc = wn_catalog_stats(cat, &s);
	if (rc) {
		int e = report(cat, rc, "stats");
		wn_catalog_close(cat);
		return e;
	}
	outbuf o;
	out_init(&o);
	uint64_t live = 0;
	for (int k = 0; k < s.nkinds; k++)
		live += s.kind[k].records;
	double per = live ? (double)s.index_file_bytes / live : 0, per_used = live ? (double)s.index_used_bytes / live : 0;
	topctx t = { &o, json, 0 };
	if (json) {
		out_fmt(&o, "{\"format_version\":%u,\"fingerprint_version\":%u,\"generation\":%llu,\"kinds\":{",
			s.format_version, s.fingerprint_version, (unsigned long long)s.generation);
		for (int k = 0; k < s.nkinds; k++) {
			wn_kind_stats *x = &s.kind[k];
			out_fmt(&o, "%s\"%s\":{\"records\":%llu", k ? "," : "", x->name, (unsigned long long)x->records);
#define WN_X(n) out_fmt(&o, ",\"" #n "\":%llu", (unsigned long long)x->n);
			WN_OUTCOMES(WN_X)
#undef WN_X
			out_fmt(&o, ",\"forgotten\":%llu", (unsigned long long)x->forgotten);
			out_fmt(&o, ",\"shards\":%llu,\"frames\":%llu,\"raw_bytes\":%llu,"
				"\"compressed_bytes\":%llu,\"ratio\":%.3f,\"id_entries\":%llu,\"fp_entries\":%llu,\"isrc_entries\":%llu,"
				"\"index_runs\":%llu", (unsigned long long)x->shards,
				(unsigned long long)x->frames, (unsigned long long)x->raw_bytes, (unsigned long long)x->stored_bytes,
				x->stored_bytes ? (double)x->raw_bytes / x->stored_bytes : 0, (unsigned long long)x->id_entries,
				(unsigned long long)x->fp_entries, (unsigned long long)x->isrc_entries, (unsigned long long)x->runs);
			char *prof;
			if ((rc = wn_catalog_profile_json(cat, x->name, &prof)))
				break;
			out_fmt(&o, ",\"profile\":%s}", prof);
			free(prof);
		}
		out_fmt(&o, "},\"index_bytes\":%llu,\"index_used_bytes\":%llu,\"index_bytes_per_record\":%.1f,"
			"\"index_used_bytes_per_record\":%.1f,\"ledger_bytes\":%llu,\"rejects_bytes\":%llu,\"top_isrcs\":[",
			(unsigned long long)s.index_file_bytes, (unsigned long long)s.index_used_bytes, per, per_used,
			(unsigned long long)s.ledger_bytes, (unsigned long long)s.reject_bytes);
		rc = wn_top_isrcs(cat, (size_t)top, top_fn, &t);
		out_str(&o, "]}\n");
	} else {
		for (int k = 0; k < s.nkinds; k++) {
			wn_kind_stats *x = &s.kind[k];
			if (!x->read)
				continue;
			out_fmt(&o, "%ss: %llu records (read %llu: kept %llu, duplicates %llu, revisions %llu, rejected %llu",
				x->name, (unsigned long long)x->records, (unsigned long long)x->read, (unsigned long long)x->kept,
				(unsigned long long)x->duplicates, (unsigned long long)x->revisions, (unsigned long long)x->rejected);
			if (x->superseded)
				out_fmt(&o, "; %llu versions superseded", (unsigned long long)x->superseded);
			if (x->forgotten)
				out_fmt(&o, "; %llu forgotten", (unsigned long long)x->forgotten);
			out_fmt(&o, ")\n  %llu shards, %llu frames, %.1f MiB raw, %.1f MiB compressed (ratio %.2f)\n",
				(unsigned long long)x->shards, (unsigned long long)x->frames, x->raw_bytes / 1048576.0,
				x->stored_bytes / 1048576.0, x->stored_bytes ? (double)x->raw_bytes / x->stored_bytes : 0);
			char *prof;
			if (!wn_catalog_profile_json(cat, x->name, &prof))
				out_fmt(&o, "  profile: %s\n", prof);
			free(prof);
		}
		out_fmt(&o, "index: %.1f MiB, %.1f bytes per kept record (%.1f in use)\n", s.index_file_bytes / 1048576.0, per,
			per_used);
		out_fmt(&o, "ledger: %.1f MiB, rejects: %.1f MiB\n", s.ledger_bytes / 1048576.0, s.reject_bytes / 1048576.0);
		if (s.kind[0].records && top) {
			out_str(&o, "ISRCs on most track ids:\n");
			rc = wn_top_isrcs(cat, (size_t)top, top_fn, &t);
		}
	}
	int status = out_end(&o, &rc);
	if (rc)
		status = report(cat, rc, "stats");
	wn_catalog_close(cat);
	return status;
}
