/*
 * cmd_contributors.c - `winnow contributors`: who brought what to a pool of listening
 * histories, the same export sent twice, the same history under two names, and the
 * released values too rare to publish as they are.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"

static const char usage[] =
	"usage: winnow contributors -C POOL [--kind KIND] [--json] [--k N] [--threshold PCT]\n"
	"\n"
	"Every ingest run into a pool (kind listen, or any kind whose id has a contributor\n"
	"part) is a contribution of each contributor it read. Lists per contributor (its keyed\n"
	"pseudonym): contributions, plays kept, duplicates, first and last time, and for each\n"
	"contribution its overlap with that contributor's earlier ones (\"the same export as\n"
	"3\", \"repeats 96% of 4\"); then the contributions whose plays overlap another\n"
	"contributor's by PCT or more (the same history under two names); then the values of\n"
	"the released fields (conn_country, platform) that fewer than N contributors share.\n"
	"Overlaps are estimated from each contribution's sketch: exact up to 256 distinct\n"
	"plays, within a few percent beyond.\n"
	"\n"
	"  -C, --catalog DIR        the pool\n"
	"  -k, --kind KIND          the kind (default listen)\n"
	"      --json               print one JSON object on stdout\n"
	"      --k N                the least number of contributors a released value needs\n"
	"                           to be left out of the rare list (default 5)\n"
	"      --threshold PCT      the least overlap reported across contributors (default 90)\n"
	"  -h, --help               print this text\n";

static void json_time(outbuf *o, const char *key, const char *t)
{
	out_fmt(o, ",\"%s\":", key);
	if (t && *t)
		out_json_str(o, t, strlen(t));
	else
		out_str(o, "null");
}

static void print_json(outbuf *o, const char *kind, const wn_contrib_report *r, unsigned k, double th)
{
	out_str(o, "{\"kind\":");
	out_json_str(o, kind, strlen(kind));
	out_fmt(o, ",\"contributions\":%zu,\"contributors\":[", r->ncontributions);
	for (size_t i = 0; i < r->ncontributors; i++) {
		const wn_contributor *p = &r->contributor[i];
		out_str(o, i ? ",{\"contributor\":" : "{\"contributor\":");
		out_json_str(o, p->who, strlen(p->who));
		out_fmt(o, ",\"contributions\":%zu,\"plays\":%llu,\"kept\":%llu,\"duplicates\":%llu", p->n,
			(unsigned long long)p->plays, (unsigned long long)p->kept, (unsigned long long)p->duplicates);
		json_time(o, "first_ts", p->first);
		json_time(o, "last_ts", p->last);
		out_str(o, ",\"items\":[");
		for (size_t j = 0; j < p->n; j++) {
			const wn_contribution *x = &p->contrib[j];
			out_fmt(o, "%s{\"contribution\":%u,\"generation\":%llu,\"plays\":%llu,\"kept\":%llu,\"duplicates\":%llu,"
				"\"revisions\":%llu,\"distinct\":%llu", j ? "," : "", x->no, (unsigned long long)x->generation,
				(unsigned long long)x->plays, (unsigned long long)x->kept, (unsigned long long)x->duplicates,
				(unsigned long long)x->revisions, (unsigned long long)x->distinct);
			json_time(o, "first_ts", x->first);
			json_time(o, "last_ts", x->last);
			if (x->same_as)
				out_fmt(o, ",\"same_as\":%u,\"repeats\":%u,\"repeats_share\":1", x->same_as, x->same_as);
			else if (x->repeats)
				out_fmt(o, ",\"same_as\":null,\"repeats\":%u,\"repeats_share\":%.4f", x->repeats, x->repeats_share);
			else
				out_str(o, ",\"same_as\":null,\"repeats\":null,\"repeats_share\":0");
			out_str(o, "}");
		}
		out_str(o, "]}");
	}
	out_fmt(o, "],\"overlap_threshold\":%.4f,\"candidate_pairs\":%llu,\"overlaps\":[", th,
		(unsigned long long)r->candidate_pairs);
	for (size_t i = 0; i < r->noverlaps; i++) {
		const wn_overlap *v = &r->overlaps[i];
		out_fmt(o, "%s{\"a\":%u,\"b\":%u,\"contributor_a\":", i ? "," : "", v->a, v->b);
		out_json_str(o, v->who_a, strlen(v->who_a));
		out_str(o, ",\"contributor_b\":");
		out_json_str(o, v->who_b, strlen(v->who_b));
		out_fmt(o, ",\"overlap\":%.4f}", v->overlap);
	}
	out_fmt(o, "],\"k\":%u,\"rare_values\":{", k);
	for (size_t i = 0; i < r->nrare;) {
		const char *f = r->rare[i].field;
		out_str(o, i ? "," : "");
		out_json_str(o, f, strlen(f));
		out_str(o, ":[");
		for (size_t j = i; i < r->nrare && !strcmp(r->rare[i].field, f); i++) {
			out_str(o, i > j ? ",{\"value\":" : "{\"value\":");
			out_json_str(o, r->rare[i].value, strlen(r->rare[i].value));
			out_fmt(o, ",\"contributors\":%u}", r->rare[i].contributors);
		}
		out_str(o, "]");
	}
	out_str(o, "}}\n");
}

static void print_text(outbuf *o, const wn_contrib_report *r, unsigned k, double th)
{
	for (size_t i = 0; i < r->ncontributors; i++) {
		const wn_contributor *p = &r->contributor[i];
		out_fmt(o, "contributor %s: %zu contribution%s, %llu plays kept, %llu duplicates", p->who, p->n,
			p->n == 1 ? "" : "s", (unsigned long long)p->kept, (unsigned long long)p->duplicates);
		if (*p->first)
			out_fmt(o, ", %s to %s", p->first, p->last);
		out_str(o, "\n");
		for (size_t j = 0; j < p->n; j++) {
			const wn_contribution *x = &p->contrib[j];
			out_fmt(o, "  contribution %u: %llu plays, %llu kept, %llu duplicates", x->no,
				(unsigned long long)x->plays, (unsigned long long)x->kept, (unsigned long long)x->duplicates);
			if (x->same_as)
				out_fmt(o, ": the same export as %u", x->same_as);
			else if (x->repeats)
				out_fmt(o, ": repeats %.0f%% of %u", x->repeats_share * 100, x->repeats);
			out_str(o, "\n");
		}
	}
	out_fmt(o, "contributions overlapping another contributor's by %.0f%% or more: %zu\n", th * 100, r->noverlaps);
	for (size_t i = 0; i < r->noverlaps; i++) {
		const wn_overlap *v = &r->overlaps[i];
		out_fmt(o, "  contribution %u (%s) and contribution %u (%s): %.0f%% of plays shared\n", v->a, v->who_a, v->b,
			v->who_b, v->overlap * 100);
	}
	out_fmt(o, "released values shared by fewer than %u contributors: %zu\n", k, r->nrare);
	for (size_t i = 0; i < r->nrare; i++) {
		out_fmt(o, "  %s ", r->rare[i].field);
		out_name(o, r->rare[i].value);
		out_fmt(o, ": %u contributor%s\n", r->rare[i].contributors, r->rare[i].contributors == 1 ? "" : "s");
	}
}

int cmd_contributors(int argc, char **argv)
{
	enum { O_JSON = 256, O_K, O_THRESHOLD };
	static const struct option lo[] = { { "catalog", 1, 0, 'C' }, { "kind", 1, 0, 'k' }, { "json", 0, 0, O_JSON },
		{ "k", 1, 0, O_K }, { "threshold", 1, 0, O_THRESHOLD }, { "help", 0, 0, 'h' }, { 0, 0, 0, 0 } };
	const char *dir = NULL, *kind = "listen";
	int json = 0, c;
	unsigned k = 5;
	double th = 0.9;
	char *end;
	optind = 1;
	while ((c = getopt_long(argc, argv, "C:k:h", lo, NULL)) != -1) {
		switch (c) {
		case 'C': dir = optarg; break;
		case 'k':
			if ((c = parse_kind("contributors", optarg, &kind)))
				return c;
			break;
		case O_JSON: json = 1; break;
		case O_K: {
			unsigned long v = strtoul(optarg, &end, 10);
			if (*end || end == optarg || !v || v > 1000000)
				return usage_error("contributors", "bad --k \"%s\" (a number of contributors, at least 1)", optarg);
			k = (unsigned)v;
			break;
		}
		case O_THRESHOLD: {
			double v = strtod(optarg, &end);
			if (*end || end == optarg || !(v > 0 && v <= 100))
				return usage_error("contributors", "bad --threshold \"%s\" (a percentage above 0, at most 100)", optarg);
			th = v / 100;
			break;
		}
		case 'h': fputs(usage, stdout); return EXIT_OK;
		default: return usage_error("contributors", "bad option");
		}
	}
	if (!dir)
		return usage_error("contributors", "-C CATALOG is required");
	if (optind < argc)
		return usage_error("contributors", "unexpected argument \"%s\"", argv[optind]);
	wn_catalog *cat;
	int rc = open_catalog(&cat, dir, WN_OPEN_READ);
	if (rc)
		return rc;
	wn_contrib_report *r;
	rc = wn_contributors(cat, kind, th, k, &r);
	if (rc) {
		int e = report(cat, rc, "contributors");
		wn_catalog_close(cat);
		return e;
	}
	outbuf o;
	out_init(&o);
	if (json)
		print_json(&o, kind, r, k, th);
	else
		print_text(&o, r, k, th);
	wn_contrib_report_free(r);
	wn_catalog_close(cat);
	return out_end(&o, NULL);
}
