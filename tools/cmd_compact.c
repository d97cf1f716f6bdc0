/*
 * cmd_compact.c - `winnow compact` (small sealed files merged into full ones) and
 * `winnow forget` (a contributor's records taken out of a pool): the two rewrites of
 * sealed files (wn_compact, wn_forget).
 *
 * Test hook: with WINNOW_TEST_KILL=STEP in the environment, the command kills itself
 * (SIGKILL, as kill -9 would) when the library reports that step ("planned", a file's
 * name, "committed", "phase 1" ...): the crash tests stop it at each point exactly.
 */
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cli.h"

static const char compact_usage[] =
	"usage: winnow compact -C CATALOG [--kind KIND] [--shard-size SIZE] [--frame-size SIZE]\n"
	"                      [--level N] [-j N] [--json] [-q]\n"
	"\n"
	"Rewrites the small sealed files of CATALOG (every ingest run seals its own) into full\n"
	"ones: each run of consecutive shards, ledger or rejects files of a kind whose records\n"
	"fit in one file of --shard-size becomes one file, and the files are numbered 1, 2, ...\n"
	"again. Records, ordinals, counts and every answer of get and export are unchanged;\n"
	"MANIFEST, MANIFEST.json and SHA256SUMS are rewritten. Killed at any moment, the same\n"
	"command again finishes with the same catalog. Nothing to merge: nothing is written.\n"
	"\n"
	"  -C, --catalog DIR        the catalog\n"
	"  -k, --kind KIND          only this kind's files (default: every kind)\n"
	"      --shard-size SIZE    decompressed bytes per file at most (default 256M)\n"
	"      --frame-size SIZE    decompressed bytes per zstd frame (default 1M)\n"
	"      --level N            zstd level of the new files (default 3)\n"
	"  -j, --threads N          compressing threads (default: number of cores)\n"
	"      --json               print the result as one JSON object on stdout\n"
	"  -q, --quiet              print nothing on success\n"
	"  -h, --help               print this text\n"
	"\n"
	"exit status: 0 done, 1 a data file is damaged or missing, 2 usage error,\n"
	"3 could not run, 130 interrupted\n";

static void on_step(const char *step, void *ud)
{
	const char *kill_at = ud;
	if (kill_at && !strcmp(kill_at, step))
		raise(SIGKILL);
}

/* Open dir for writing, but only if it is a catalog already. */
static int open_existing(wn_catalog **cat, const char *dir)
{
	int rc = open_catalog(cat, dir, WN_OPEN_READ);
	if (rc)
		return rc;
	wn_catalog_close(*cat);
	return open_catalog(cat, dir, WN_OPEN_WRITE);
}

enum { O_SHARD = 256, O_FRAME, O_LEVEL, O_JSON };

int cmd_compact(int argc, char **argv)
{
	static const struct option lo[] = { { "catalog", 1, 0, 'C' }, { "kind", 1, 0, 'k' },
		{ "shard-size", 1, 0, O_SHARD }, { "frame-size", 1, 0, O_FRAME }, { "level", 1, 0, O_LEVEL },
		{ "threads", 1, 0, 'j' }, { "json", 0, 0, O_JSON }, { "quiet", 0, 0, 'q' }, { "help", 0, 0, 'h' },
		{ 0, 0, 0, 0 } };
	wn_compact_opts o;
	wn_compact_opts_init(&o);
	const char *dir = NULL;
	int json = 0, quiet = 0, c, e;
	uint64_t v;
	optind = 1;
	while ((c = getopt_long(argc, argv, "C:k:j:qh", lo, NULL)) != -1) {
		switch (c) {
		case 'C': dir = optarg; break;
		case 'k':
			if ((e = parse_kind("compact", optarg, &o.kind)))
				return e;
			break;
		case O_SHARD:
			if (parse_size(optarg, &v) || v < 4096)
				return usage_error("compact", "bad --shard-size '%s'", optarg);
			o.shard_size = v;
			break;
		case O_FRAME:
			if (parse_size(optarg, &v) || v < 4096 || v > (1u << 30))
				return usage_error("compact", "bad --frame-size '%s' (4K to 1G)", optarg);
			o.frame_size = (size_t)v;
			break;
		case O_LEVEL:
			o.level = atoi(optarg);
			if (o.level < 1 || o.level > 19)
				return usage_error("compact", "bad --level '%s' (1 to 19)", optarg);
			break;
		case 'j':
			o.threads = atoi(optarg);
			if (o.threads < 1)
				return usage_error("compact", "bad --threads '%s'", optarg);
			break;
		case O_JSON: json = 1; break;
		case 'q': quiet = 1; break;
		case 'h': fputs(compact_usage, stdout); return EXIT_OK;
		default: return usage_error("compact", "bad option");
		}
	}
	if (!dir)
		return usage_error("compact", "-C CATALOG is required");
	if (optind < argc)
		return usage_error("compact", "unexpected argument '%s'", argv[optind]);
	if (o.shard_size < o.frame_size)
		return usage_error("compact", "--shard-size must be at least --frame-size");
	wn_catalog *cat;
	int rc = open_existing(&cat, dir);
	if (rc)
		return rc;
	o.on_step = on_step;
	o.step_ud = getenv("WINNOW_TEST_KILL");
	o.cancel = &wn_interrupted;
	catch_signals();
	wn_compact_result r;
	rc = wn_compact(cat, &o, &r);
	if (rc) {
		int status = report(cat, rc, "compact");
		wn_catalog_close(cat);
		return status;
	}
	wn_catalog_close(cat);
	outbuf out;
	out_init(&out);
	if (json)
		out_fmt(&out, "{\"files_before\":%llu,\"files_after\":%llu,\"files_written\":%llu,\"files_renamed\":%llu,"
			"\"bytes_read\":%llu,\"bytes_written\":%llu,\"records\":%llu,\"seconds\":%.3f}\n",
			(unsigned long long)r.files_before, (unsigned long long)r.files_after,
			(unsigned long long)r.files_written, (unsigned long long)r.files_renamed,
			(unsigned long long)r.bytes_read, (unsigned long long)r.bytes_written, (unsigned long long)r.records,
			r.seconds);
	else if (!quiet && !r.files_written)
		out_fmt(&out, "%s: nothing to compact (%llu files)\n", dir, (unsigned long long)r.files_before);
	else if (!quiet)
		out_fmt(&out, "compacted %s: %llu files into %llu (%llu written, %llu renumbered), %llu records; %.2f s\n",
			dir, (unsigned long long)r.files_before, (unsigned long long)r.files_after,
			(unsigned long long)r.files_written, (unsigned long long)r.files_renamed,
			(unsigned long long)r.records, r.seconds);
	return out_end(&out, NULL);
}
