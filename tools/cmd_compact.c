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

/* The options both rewrites take (how the new files are written): 0 when c is one of them
 * and arg is good, a usage error's status when arg is bad, -1 when c is another option. */
static int rewrite_option(const char *cmd, int c, const char *arg, size_t *frame_size, int *level, int *threads)
{
	uint64_t v;
	switch (c) {
	case O_FRAME:
		if (parse_size(arg, &v) || v < 4096 || v > (1u << 30))
			return usage_error(cmd, "bad --frame-size '%s' (4K to 1G)", arg);
		*frame_size = (size_t)v;
		return 0;
	case O_LEVEL:
		*level = atoi(arg);
		if (*level < 1 || *level > 19)
			return usage_error(cmd, "bad --level '%s' (1 to 19)", arg);
		return 0;
	case 'j':
		*threads = atoi(arg);
		if (*threads < 1)
			return usage_error(cmd, "bad --threads '%s'", arg);
		return 0;
	default:
		return -1;
	}
}

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
		case O_JSON: json = 1; break;
		case 'q': quiet = 1; break;
		case 'h': fputs(compact_usage, stdout); return EXIT_OK;
		default:
			if ((e = rewrite_option("compact", c, optarg, &o.frame_size, &o.level, &o.threads)) < 0)
				return usage_error("compact", "bad option");
			if (e)
				return e;
			break;
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

static const char forget_usage[] =
	"usage: winnow forget -C POOL --contributor NAME --key-file KEY [--json] [-q]\n"
	"\n"
	"Takes every record, ledger entry and reject entry of a contributor out of POOL:\n"
	"only the files that hold them are rewritten (the index lists them per contributor),\n"
	"each record's line left as a placeholder so that no ordinal moves; its ids leave\n"
	"the index and its counts the counters; MANIFEST, MANIFEST.json and SHA256SUMS are\n"
	"rewritten. get and export no longer find them. A tombstone keeps the pseudonym and\n"
	"the date: a later ingest of the contributor is refused unless it allows the\n"
	"forgotten (see winnow ingest).\n"
	"Killed at any moment, the same command again finishes with the same pool.\n"
	"\n"
	"  -C, --catalog DIR        the pool\n"
	"      --contributor NAME   the contributor, as named to ingest\n"
	"      --key-file FILE      the pool's pseudonymisation key\n"
	"      --frame-size SIZE    decompressed bytes per zstd frame (default 1M)\n"
	"      --level N            zstd level of the rewritten files (default 3)\n"
	"  -j, --threads N          compressing threads (default: number of cores)\n"
	"      --json               print the result as one JSON object on stdout\n"
	"  -q, --quiet              print nothing on success\n"
	"  -h, --help               print this text\n"
	"\n"
	"exit status: 0 done, 1 a data file is damaged or missing, 2 usage error (another\n"
	"key than the pool's), 3 could not run, 130 interrupted\n";

enum { O_CONTRIB = 300, O_KEYFILE };

int cmd_forget(int argc, char **argv)
{
	static const struct option lo[] = { { "catalog", 1, 0, 'C' }, { "contributor", 1, 0, O_CONTRIB },
		{ "key-file", 1, 0, O_KEYFILE }, { "frame-size", 1, 0, O_FRAME }, { "level", 1, 0, O_LEVEL },
		{ "threads", 1, 0, 'j' }, { "json", 0, 0, O_JSON }, { "quiet", 0, 0, 'q' }, { "help", 0, 0, 'h' },
		{ 0, 0, 0, 0 } };
	static uint8_t key[4096];
	wn_forget_opts o;
	wn_forget_opts_init(&o);
	const char *dir = NULL, *key_file = NULL;
	int json = 0, quiet = 0, c, e;
	optind = 1;
	while ((c = getopt_long(argc, argv, "C:j:qh", lo, NULL)) != -1) {
		switch (c) {
		case 'C': dir = optarg; break;
		case O_CONTRIB: o.contributor = optarg; break;
		case O_KEYFILE: key_file = optarg; break;
		case O_JSON: json = 1; break;
		case 'q': quiet = 1; break;
		case 'h': fputs(forget_usage, stdout); return EXIT_OK;
		default:
			if ((e = rewrite_option("forget", c, optarg, &o.frame_size, &o.level, &o.threads)) < 0)
				return usage_error("forget", "bad option");
			if (e)
				return e;
			break;
		}
	}
	if (!dir)
		return usage_error("forget", "-C POOL is required");
	if (!o.contributor || !*o.contributor)
		return usage_error("forget", "--contributor NAME is required");
	if (!key_file)
		return usage_error("forget", "--key-file KEY is required (the pool's key)");
	if (optind < argc)
		return usage_error("forget", "unexpected argument '%s'", argv[optind]);
	int rc = read_key_file("forget", key_file, key, sizeof key, &o.key_len);
	if (rc)
		return rc;
	o.key = key;
	wn_catalog *cat;
	if ((rc = open_existing(&cat, dir)))
		return rc;
	o.on_step = on_step;
	o.step_ud = getenv("WINNOW_TEST_KILL");
	o.cancel = &wn_interrupted;
	catch_signals();
	wn_forget_result r;
	rc = wn_forget(cat, &o, &r);
	if (rc) {
		int status = report(cat, rc, "forget");
		wn_catalog_close(cat);
		return status;
	}
	wn_catalog_close(cat);
	outbuf out;
	out_init(&out);
	if (json)
		out_fmt(&out, "{\"contributor\":\"%s\",\"files_rewritten\":%llu,\"records\":%llu,\"ledger_entries\":%llu,"
			"\"rejects\":%llu,\"bytes_read\":%llu,\"bytes_written\":%llu,\"already_forgotten\":%s,\"seconds\":%.3f}\n",
			r.pseudonym, (unsigned long long)r.files_rewritten, (unsigned long long)r.records,
			(unsigned long long)r.ledger_entries, (unsigned long long)r.rejects, (unsigned long long)r.bytes_read,
			(unsigned long long)r.bytes_written, r.already ? "true" : "false", r.seconds);
	else if (!quiet)
		out_fmt(&out, "forgot contributor %s: %llu records, %llu ledger entries, %llu rejects out of %llu files; "
			"%.2f s\n", r.pseudonym, (unsigned long long)r.records, (unsigned long long)r.ledger_entries,
			(unsigned long long)r.rejects, (unsigned long long)r.files_rewritten, r.seconds);
	return out_end(&out, NULL);
}
