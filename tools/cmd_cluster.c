/*
 * cmd_cluster.c - `winnow cluster`: bring a catalog's same-recording clusters up to date,
 * and `winnow dups`: print them, one JSON line per cluster (or per candidate pair).
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"

static const char usage[] =
	"usage: winnow cluster -C CATALOG [--kind KIND] [--rebuild] [--survivor POLICY]\n"
	"                      [--merge-candidates | --no-merge-candidates] [--json]\n"
	"\n"
	"Groups the records of a kind into clusters of the same recording under different ids:\n"
	"records joined by the same id, a linked_from id, a shared valid ISRC (durations within\n"
	"3 s) or equal primary artist, title core and qualifiers (durations within 2 s), never\n"
	"two records that differ in qualifiers (live, remix, ...) or that carry different ISRCs\n"
	"more than 2 s apart: such a pair is a candidate, reported and not merged. Tracks that\n"
	"look alike (same artist and title start, or same title and 5 s duration bucket;\n"
	"scored by title, artist and duration) are candidates too. Artists of one name join\n"
	"only through a shared track cluster. Only the records added since the last run are\n"
	"looked at; a no-op when the clusters are current.\n"
	"The clusters are stored in CATALOG/clusters/, where winnow dups, get and export\n"
	"read them.\n"
	"\n"
	"  -C, --catalog DIR        the catalog\n"
	"  -k, --kind KIND          the records' kind: track (default), artist, or any other\n"
	"                           kind the catalog holds\n"
	"      --rebuild            build the clusters from every record (after a change of\n"
	"                           norm or Unicode version, or damage)\n"
	"      --survivor POLICY    which member of a cluster survives: first (acceptance order,\n"
	"                           the default), canonical (album, then single, then\n"
	"                           compilation; the earliest release date; album id and track\n"
	"                           number), complete (most non-empty fields) or priority:FIELD\n"
	"                           (the greatest number at FIELD). Stored; another policy\n"
	"                           rebuilds the clusters\n"
	"      --merge-candidates   merge the scored candidates too (edge similar), where the\n"
	"                           chain guard allows. Stored; another setting rebuilds\n"
	"      --no-merge-candidates  only report them again (the default)\n"
	"      --json               print the counts as one JSON object on stdout\n"
	"  -h, --help               print this text\n"
	"\n"
	"exit status: 0 done, 1 a shard or the stored clusters are damaged or missing,\n"
	"2 usage error, 3 could not run, 130 interrupted\n";

enum { O_REBUILD = 256, O_SURVIVOR, O_JSON, O_MERGE, O_NOMERGE };

int cmd_cluster(int argc, char **argv)
{
	static const struct option lo[] = { { "catalog", 1, 0, 'C' }, { "kind", 1, 0, 'k' },
		{ "rebuild", 0, 0, O_REBUILD }, { "survivor", 1, 0, O_SURVIVOR }, { "json", 0, 0, O_JSON },
		{ "merge-candidates", 0, 0, O_MERGE }, { "no-merge-candidates", 0, 0, O_NOMERGE },
		{ "help", 0, 0, 'h' }, { 0, 0, 0, 0 } };
	const char *dir = NULL;
	int json = 0, c, e;
	wn_cluster_opts o;
	wn_cluster_opts_init(&o);
	optind = 1;
	while ((c = getopt_long(argc, argv, "C:k:h", lo, NULL)) != -1) {
		switch (c) {
		case 'C': dir = optarg; break;
		case 'k':
			if ((e = parse_kind("cluster", optarg, &o.kind)))
				return e;
			break;
		case O_REBUILD: o.rebuild = 1; break;
		case O_SURVIVOR: o.survivor = optarg; break;
		case O_JSON: json = 1; break;
		case O_MERGE: o.merge_candidates = 1; break;
		case O_NOMERGE: o.merge_candidates = -1; break;
		case 'h': fputs(usage, stdout); return EXIT_OK;
		default: return usage_error("cluster", "bad option");
		}
	}
	if (!dir)
		return usage_error("cluster", "-C CATALOG is required");
	if (optind < argc)
		return usage_error("cluster", "unexpected argument '%s'", argv[optind]);
	if (o.survivor && strcmp(o.survivor, "first") && strcmp(o.survivor, "canonical") &&
	    strcmp(o.survivor, "complete") && (strncmp(o.survivor, "priority:", 9) || !o.survivor[9]))
		return usage_error("cluster", "--survivor takes first, canonical, complete or priority:FIELD, not '%s'",
			o.survivor);
	catch_signals();
	o.cancel = &wn_interrupted;
	wn_catalog *cat;
	int rc = open_catalog(&cat, dir, WN_OPEN_WRITE);
	if (rc)
		return rc;
	wn_cluster_result r;
	rc = wn_cluster(cat, &o, &r);
	if (rc) {
		int x = report(cat, rc, "cluster");
		wn_catalog_close(cat);
		return x;
	}
	outbuf out;
	out_init(&out);
	if (json) {
		out_fmt(&out, "{\"kind\":\"%s\",\"records\":%llu,\"added\":%llu,\"rebuilt\":%s,\"clusters\":%llu,"
			"\"merged\":%llu,\"edges\":{", o.kind,
			(unsigned long long)r.records, (unsigned long long)r.added, r.rebuilt ? "true" : "false",
			(unsigned long long)r.clusters, (unsigned long long)r.merged);
		for (int k = 1; k < WN_NEDGES; k++)
			out_fmt(&out, "%s\"%s\":%llu", k > 1 ? "," : "", wn_edge_name(k), (unsigned long long)r.edges[k]);
		out_fmt(&out, "},\"candidates\":%llu,\"blocks_capped\":%llu,\"merge_candidates\":%s,\"survivor\":",
			(unsigned long long)r.candidates, (unsigned long long)r.blocks_capped, r.merge_candidates ? "true" : "false");
		out_json_str(&out, r.survivor, strlen(r.survivor));
		out_fmt(&out, ",\"seconds\":%.3f,\"records_per_second\":%.0f}\n", r.seconds,
			r.seconds > 0 ? r.added / r.seconds : 0);
	} else {
		out_fmt(&out, "%llu %s records in %llu clusters: %llu merged (", (unsigned long long)r.records,
			o.kind, (unsigned long long)r.clusters,
			(unsigned long long)r.merged);
		for (int k = 1; k < WN_NEDGES; k++)
			out_fmt(&out, "%s%s %llu", k > 1 ? ", " : "", wn_edge_name(k), (unsigned long long)r.edges[k]);
		out_fmt(&out, "), %llu candidates; %s%.2f s\n", (unsigned long long)r.candidates,
			r.added ? "" : "already current, ", r.seconds);
	}
	int os = out_end(&out, NULL);
	wn_catalog_close(cat);
	return os;
}

/* ---- dups ---- */

static const char dups_usage[] =
	"usage: winnow dups -C CATALOG [--kind KIND] [--min-size N] [--edge E]\n"
	"\n"
	"Prints the clusters of the same recording under several ids (winnow cluster makes\n"
	"them), one JSON object a line in the order of their first records:\n"
	"  {\"cluster\":ID,\"kind\":\"track\",\"survivor\":ID,\"size\":N,\"members\":[{\"id\":...,\n"
	"   \"edge\":\"id|linked|isrc|text|similar\",\"to\":ID,\"via\":ID,\"evidence\":{...}},...]}\n"
	"survivor first. With --edge candidate, the candidate pairs instead: records an edge\n"
	"would have joined that the chain guard kept apart, and tracks that look alike\n"
	"(similar, with a score), with the reason and the keys as evidence. Exit status 1\n"
	"when the clusters are not current (the message says what to run) or damaged.\n"
	"\n"
	"  -C, --catalog DIR        the catalog\n"
	"  -k, --kind KIND          the records' kind: track (default), artist, or any other\n"
	"                           kind the catalog holds\n"
	"      --min-size N         clusters of at least N surviving records (default 2)\n"
	"      --edge E             only clusters in which a member joined by edge E: id,\n"
	"                           linked, isrc, text or similar; or candidate: the\n"
	"                           candidate pairs\n"
	"  -h, --help               print this text\n";

static void out_member(outbuf *o, const wn_cluster_member *m)
{
	out_str(o, "{\"id\":");
	out_json_str(o, m->id, m->id_len);
	if (m->edge == WN_EDGE_FIRST) {
		out_str(o, ",\"edge\":null,\"to\":null,\"evidence\":null}");
		return;
	}
	out_fmt(o, ",\"edge\":\"%s\",\"to\":", wn_edge_name(m->edge));
	out_json_str(o, m->to, m->to_len);
	if (m->via_len != m->id_len || memcmp(m->via, m->id, m->id_len)) {
		out_str(o, ",\"via\":");
		out_json_str(o, m->via, m->via_len);
	}
	out_str(o, ",\"evidence\":");
	out_put(o, m->evidence, m->evidence_len);
	out_str(o, "}");
}

static int dups_line(const wn_cluster_view *v, void *ud)
{
	outbuf *o = ud;
	out_fmt(o, "{\"cluster\":\"%s\",\"kind\":", v->id);
	out_json_str(o, v->kind, strlen(v->kind));
	out_str(o, ",\"survivor\":");
	out_json_str(o, v->m[0].id, v->m[0].id_len);
	out_fmt(o, ",\"size\":%zu,\"members\":[", v->n);
	for (size_t i = 0; i < v->n; i++) {
		if (i)
			out_str(o, ",");
		out_member(o, &v->m[i]);
	}
	out_str(o, "]}\n");
	return o->err ? o->err : 0;
}

static int cand_line(const wn_candidate *x, void *ud)
{
	outbuf *o = ud;
	out_str(o, "{\"candidate\":true,\"kind\":");
	out_json_str(o, x->kind, strlen(x->kind));
	out_fmt(o, ",\"edge\":\"%s\",\"reason\":\"%s\",\"members\":[{\"id\":", wn_edge_name(x->via_edge), x->reason);
	out_json_str(o, x->a, x->a_len);
	out_fmt(o, ",\"cluster\":\"%s\"},{\"id\":", x->cluster_a);
	out_json_str(o, x->b, x->b_len);
	out_fmt(o, ",\"cluster\":\"%s\"}]", x->cluster_b);
	if (x->score >= 0)
		out_fmt(o, ",\"score\":%.3f", x->score);
	out_str(o, ",\"evidence\":");
	out_put(o, x->evidence, x->evidence_len);
	out_str(o, "}\n");
	return o->err ? o->err : 0;
}

enum { O_MIN = 256, O_EDGE };

int cmd_dups(int argc, char **argv)
{
	static const struct option lo[] = { { "catalog", 1, 0, 'C' }, { "kind", 1, 0, 'k' },
		{ "min-size", 1, 0, O_MIN }, { "edge", 1, 0, O_EDGE }, { "help", 0, 0, 'h' }, { 0, 0, 0, 0 } };
	const char *dir = NULL;
	const char *kind = "track";
	int edge = -1, candidates = 0, c, e;
	uint64_t min = 2;
	optind = 1;
	while ((c = getopt_long(argc, argv, "C:k:h", lo, NULL)) != -1) {
		switch (c) {
		case 'C': dir = optarg; break;
		case 'k':
			if ((e = parse_kind("dups", optarg, &kind)))
				return e;
			break;
		case O_MIN: {
			char *end;
			min = strtoull(optarg, &end, 10);
			if (*end || !*optarg || optarg[0] == '-' || min < 1)
				return usage_error("dups", "--min-size takes a number of at least 1, not '%s'", optarg);
			break;
		}
		case O_EDGE:
			if (!strcmp(optarg, "candidate")) {
				candidates = 1;
				break;
			}
			for (int k = 1; k < WN_NEDGES; k++)
				if (!strcmp(optarg, wn_edge_name(k)))
					edge = k;
			if (edge < 0)
				return usage_error("dups", "--edge takes id, linked, isrc, text, similar or candidate, not '%s'",
					optarg);
			break;
		case 'h': fputs(dups_usage, stdout); return EXIT_OK;
		default: return usage_error("dups", "bad option");
		}
	}
	if (!dir)
		return usage_error("dups", "-C CATALOG is required");
	if (optind < argc)
		return usage_error("dups", "unexpected argument '%s'", argv[optind]);
	wn_catalog *cat;
	int rc = open_catalog(&cat, dir, WN_OPEN_READ);
	if (rc)
		return rc;
	outbuf out;
	out_init(&out);
	rc = candidates ? wn_candidates(cat, kind, cand_line, &out) : wn_dups(cat, kind, min, edge, dups_line, &out);
	int status = out_end(&out, &rc);
	if (rc)
		status = report(cat, rc, "dups");
	wn_catalog_close(cat);
	return status;
}
