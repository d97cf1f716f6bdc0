/*
 * cmd_ingest.c - `winnow ingest`: records in, a deduplicated catalog out.
 */
#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cli.h"

static const char usage[] =
	"usage: winnow ingest -C CATALOG [options] [FILE ...]\n"
	"\n"
	"Reads records from each FILE, or standard input when there is none or FILE is '-':\n"
	"JSONL (one JSON object a line), JSON documents, CSV/TSV or SQLite (the format comes\n"
	"from the name, else from the first bytes); zstd-compressed text is decompressed.\n"
	"Every record is kept, or dropped as a duplicate or revision (noted in the ledger), or\n"
	"rejected (noted with its reason and raw bytes in CATALOG/rejects/). An interrupted run\n"
	"(kill, power loss, full disk) resumes when the same command is run again.\n"
	"\n"
	"  -C, --catalog DIR        the catalog (created if missing)\n"
	"  -k, --kind KIND          the records' kind: track (default), artist, or any name of\n"
	"                           [a-z][a-z0-9_]{0,31} (recording, release, label, ...); each\n"
	"                           kind has its own shards, ledger, rejects, ids and counts\n"
	"      --json               print the counts as one JSON object on stdout\n"
	"      --cluster            bring the kind's clusters up to date at the end (winnow\n"
	"                           cluster; --json then adds \"cluster\" with its counts)\n"
	"      --on-conflict P      when an id comes again with other content: first (default:\n"
	"                           keep the stored version), last (keep the new one), or\n"
	"                           newest:FIELD (keep the one with the greater FIELD)\n"
	"      --ignore-field PATH  leave PATH (e.g. fetched_at, album.popularity) out of the\n"
	"                           fingerprint; repeatable; fixed when the catalog is created\n"
	"      --id SPEC            the identity: PATH (default: id, or the kind's built-in\n"
	"                           profile's), PATH+PATH+... (a composite id, e.g. date+rank),\n"
	"                           or content (the fingerprint is the id: duplicates only);\n"
	"                           --id-field is the same\n"
	"      --isrc PATH          where the ISRC is, a string or an array of them (default:\n"
	"                           external_ids.isrc or external_id_isrc); --isrc-field too\n"
	"      --profile NAME       start from a built-in profile: spotify-track, spotify-artist,\n"
	"                           spotify-album, musicbrainz-recording, musicbrainz-artist,\n"
	"                           musicbrainz-release, discogs-release, discogs-master,\n"
	"                           discogs-artist, discogs-label (default: by kind and format)\n"
	"\n"
	"Transforms, applied before the fingerprint in this order. With any of them the record\n"
	"stored is the transformed JSON (compact where it was rebuilt), not the input's bytes:\n"
	"      --rename OLD=NEW     the member at path OLD takes the name NEW (repeatable): a run\n"
	"                           may name its own, to pool sources whose fields differ\n"
	"      --drop PATH,...      remove these members: stored nowhere, not even in rejects\n"
	"      --keep PATH,...      keep only these members (a projection)\n"
	"      --pseudonymise PATH,...  replace these values by keyed pseudonyms (HMAC-SHA256)\n"
	"      --key-file FILE      the pseudonymisation key (its bytes, at least 16); only its\n"
	"                           identifier is stored, and a run with another key is refused\n"
	"      --contributor NAME   whose records these are (kind listen: required); stored only\n"
	"                           as its keyed pseudonym, the member \"contributor\" of each record\n"
	"      --allow-forgotten    take the records of a contributor winnow forget took out\n"
	"                           (refused without it); its tombstone goes\n"
	"      --input-name LABEL   what ledger and reject entries name the (one) input; with a\n"
	"                           profile that hides fields they never hold a path: they name\n"
	"                           the file without its folders, or an archive's member\n"
	"The profile (id, keys, transforms, and --types, --empty-null, --csv-unwrap,\n"
	"--encoding, --delimiter, --ignore-field) is fixed by the first run that keeps a record\n"
	"of the kind; later runs use it without being told, and one that names another value\n"
	"is refused (winnow stats --json shows it as \"profile\").\n"
	"\n"
	"      --strict             stop at the first rejected record (exit status 1)\n"
	"  -l, --level N            zstd level (default 3)\n"
	"      --frame-size SIZE    uncompressed bytes per zstd frame (default 1M)\n"
	"      --shard-size SIZE    uncompressed bytes per shard (default 256M)\n"
	"      --max-line SIZE      longer lines are rejected (default 16M)\n"
	"      --memory SIZE        memory budget (default 1G)\n"
	"      --checkpoint N       records between checkpoints (default: from --memory)\n"
	"  -j, --threads N          compression threads (default: number of cores)\n"
	"      --progress, --no-progress   progress on stderr (default: when it is a terminal)\n"
	"      --digest sha256      also keep CATALOG/SHA256SUMS (for sha256sum -c), from now on\n"
	"  -q, --quiet              do not list rejected records on stderr\n"
	"  -h, --help               print this text\n"
	"\n"
	"Input formats (README.md, \"Input formats\"):\n"
	"      --format F           jsonl, json, csv, tsv, xml or sqlite (default: from the name:\n"
	"                           .jsonl .ndjson .json .csv .tsv .xml .sqlite3 .sqlite .db, each\n"
	"                           maybe .zst;\n"
	"                           else from the first bytes)\n"
	"      --member GLOB        archives (.tar, .tar.gz/.xz/.bz2/.zst, .tgz, .zip: found by\n"
	"                           their first bytes) are read member by member, each an input\n"
	"                           named ARCHIVE!MEMBER; read only the members GLOB matches (may\n"
	"                           be repeated; default: every regular member, passing over with\n"
	"                           a remark one that is not records, such as a README)\n"
	"      --map K=NAME,...     name the fields: id (the id; as --id-field), isrc (as\n"
	"                           --isrc-field), title and artist (csv/tsv: columns the header\n"
	"                           must have; nothing else uses them yet), e.g. --map id=track_id\n"
	"      --encoding E         utf-8 (default: invalid UTF-8 is rejected), cp1252 or latin1\n"
	"                           (transcoded before parsing)\n"
	"      --records-path P     json: where the records are, e.g. playlists[].tracks[]\n"
	"                           (default: the elements of a top-level array)\n"
	"      --types SPEC         csv/tsv: auto (values that are JSON numbers become numbers)\n"
	"                           and/or COLUMN=string|int|number|bool, comma-separated, e.g.\n"
	"                           auto,explicit=bool (default: every value a string); use the\n"
	"                           same every run: it changes the records' fingerprints\n"
	"      --empty-null         csv/tsv: unquoted empty fields are null (default: \"\")\n"
	"      --delimiter SEP      csv/tsv: the field separator, 1 to 16 bytes: ';', tab, '<SEP>'\n"
	"                           (default ',' or tab); with no --format, a first line that\n"
	"                           holds it makes the input CSV\n"
	"      --columns A,B,...    csv/tsv: the file has no header: these are its column names,\n"
	"                           and its first line is a row\n"
	"      --csv-unwrap         csv/tsv: every line is one quoted field holding a CSV line\n"
	"      --sqlite-table T     sqlite: read table T's rows as they are (default: the rows of\n"
	"                           the dump's tracks, or artists with --kind artist: the same\n"
	"                           records as its JSONL tables tracks.jsonl, artists.jsonl)\n"
	"      --sqlite-join        sqlite: each of the dump's tracks with its artists and album,\n"
	"                           each artist with its genres (other records than the rows:\n"
	"                           never duplicates of the JSONL tables' rows)\n";

static int rejects_shown;
static uint64_t rejects_seen, rejects_noid;   /* all, and for a missing id: the hint when nothing is kept */
static int quiet;

static void on_reject(const char *msg, void *ud)
{
	progress *pr = ud;
	rejects_seen++;
	if (strstr(msg, wn_strerror(WN_E_NOID)))
		rejects_noid++;
	if (quiet)
		return;
	if (rejects_shown < 20) {
		progress_clear(pr);
		fprintf(stderr, "winnow: rejected: %s\n", msg);
	}
	rejects_shown++;
}

/* Are the inputs JSON documents (--format json, or every name ends in .json, maybe
 * compressed)? Then one record read and rejected is most likely a document that holds
 * its records deeper, read whole. */
static int json_documents(const char *format, char **names, int n)
{
	static const char *const packed[] = { "", ".zst", ".gz", ".xz", ".bz2" };
	if (format)
		return !strcmp(format, "json");
	for (int i = 0; i < n; i++) {
		size_t l = strlen(names[i]);
		int is = 0;
		for (size_t k = 0; k < sizeof packed / sizeof *packed && !is; k++) {
			size_t pl = strlen(packed[k]);
			is = l >= 5 + pl && !strcmp(names[i] + l - pl, packed[k]) && !strncmp(names[i] + l - pl - 5, ".json", 5);
		}
		if (!is)
			return 0;
	}
	return n > 0;
}

static void on_note(const char *msg, void *ud)
{
	progress_clear(ud);
	fprintf(stderr, "winnow: warning: %s\n", msg);
}

/* ---- the ingest options: one parser, for ingest and for plan (cmd_dist.c) ---- */

enum { O_JSON = 256, O_CONFLICT, O_IGNORE, O_IDF, O_ISRCF, O_STRICT, O_FRAME, O_SHARD, O_MAXLINE, O_MEM,
	O_CKPT, O_PROGRESS, O_NOPROGRESS, O_DIGEST, O_FORMAT, O_MAP, O_ENCODING, O_RPATH, O_TYPES, O_EMPTYNULL, O_DELIM,
	O_UNWRAP, O_TABLE, O_JOIN, O_COLUMNS, O_MEMBER, O_PROFILE, O_RENAME, O_DROP, O_KEEP, O_PSEUDO, O_KEYFILE, O_CLUSTER,
	O_CONTRIB, O_ALLOWF, O_INPUTNAME };

/* the options that shape how records are read and stored (the kind, the profile, the
 * formats, the transforms, sizes and threads): what a plan stores */
const struct option ingest_options[] = {
	{ "kind", 1, 0, 'k' },
	{ "on-conflict", 1, 0, O_CONFLICT }, { "ignore-field", 1, 0, O_IGNORE }, { "id-field", 1, 0, O_IDF },
	{ "isrc-field", 1, 0, O_ISRCF }, { "strict", 0, 0, O_STRICT }, { "level", 1, 0, 'l' },
	{ "frame-size", 1, 0, O_FRAME }, { "shard-size", 1, 0, O_SHARD }, { "max-line", 1, 0, O_MAXLINE },
	{ "memory", 1, 0, O_MEM }, { "checkpoint", 1, 0, O_CKPT }, { "threads", 1, 0, 'j' },
	{ "format", 1, 0, O_FORMAT }, { "map", 1, 0, O_MAP }, { "encoding", 1, 0, O_ENCODING },
	{ "records-path", 1, 0, O_RPATH }, { "types", 1, 0, O_TYPES }, { "empty-null", 0, 0, O_EMPTYNULL },
	{ "delimiter", 1, 0, O_DELIM }, { "csv-unwrap", 0, 0, O_UNWRAP }, { "sqlite-table", 1, 0, O_TABLE },
	{ "sqlite-join", 0, 0, O_JOIN },
	{ "columns", 1, 0, O_COLUMNS }, { "member", 1, 0, O_MEMBER },
	{ "id", 1, 0, O_IDF }, { "isrc", 1, 0, O_ISRCF }, { "profile", 1, 0, O_PROFILE },
	{ "rename", 1, 0, O_RENAME }, { "drop", 1, 0, O_DROP }, { "keep", 1, 0, O_KEEP },
	{ "pseudonymise", 1, 0, O_PSEUDO }, { "pseudonymize", 1, 0, O_PSEUDO }, { "key-file", 1, 0, O_KEYFILE },
	{ "contributor", 1, 0, O_CONTRIB }, { "allow-forgotten", 0, 0, O_ALLOWF },
	{ "input-name", 1, 0, O_INPUTNAME },
	{ 0, 0, 0, 0 } };

const int ingest_noptions = (int)(sizeof ingest_options / sizeof *ingest_options) - 1;

static const char *const lname[INGEST_NLISTS] = { "--drop", "--keep", "--pseudonymise", "--rename" };

void ingest_args_init(ingest_args *a)
{
	memset(a, 0, sizeof *a);
	wn_ingest_opts_init(&a->o);
}

int ingest_option(ingest_args *a, const char *cmd, int c, char *arg)
{
	uint64_t v;
	int e;
	switch (c) {
	case 'k':
		if ((e = parse_kind(cmd, arg, &a->o.kind)))
			return e;
		break;
	case O_CONFLICT:
		if (!strcmp(arg, "first"))
			a->o.on_conflict = WN_CONFLICT_FIRST;
		else if (!strcmp(arg, "last"))
			a->o.on_conflict = WN_CONFLICT_LAST;
		else if (!strncmp(arg, "newest:", 7) && arg[7]) {
			a->o.on_conflict = WN_CONFLICT_NEWEST;
			a->o.newest_field = arg + 7;
		} else
			return usage_error(cmd, "--on-conflict takes first, last or newest:FIELD, not '%s'", arg);
		break;
	case O_IGNORE:
		if (a->nign == 16)
			return usage_error(cmd, "at most 16 --ignore-field");
		if (!*arg)
			return usage_error(cmd, "--ignore-field needs a field path");
		a->ignore[a->nign++] = arg;
		break;
	case O_IDF: a->o.id_field = arg; break;
	case O_ISRCF: a->o.isrc_field = arg; break;
	case O_STRICT: a->o.strict = 1; break;
	case 'l':
		a->o.level = atoi(arg);
		if (a->o.level < 1 || a->o.level > 22)
			return usage_error(cmd, "--level takes 1 to 22");
		break;
	case O_FRAME:
		if (parse_size(arg, &v) || v < 4096 || v > (1u << 30))
			return usage_error(cmd, "bad --frame-size '%s' (4K to 1G)", arg);
		a->o.frame_bytes = v;
		break;
	case O_SHARD:
		if (parse_size(arg, &v) || v < 4096)
			return usage_error(cmd, "bad --shard-size '%s'", arg);
		a->o.shard_bytes = v;
		break;
	case O_MAXLINE:
		if (parse_size(arg, &v) || v < 16 || v > (1ull << 31))
			return usage_error(cmd, "bad --max-line '%s'", arg);
		a->o.max_line = v;
		break;
	case O_MEM:
		if (parse_size(arg, &v) || v < (16u << 20))
			return usage_error(cmd, "bad --memory '%s' (at least 16M)", arg);
		a->o.memory = v;
		break;
	case O_CKPT:
		if (parse_size(arg, &v) || v < 1)
			return usage_error(cmd, "bad --checkpoint '%s'", arg);
		a->o.checkpoint_records = v;
		break;
	case 'j':
		a->o.threads = atoi(arg);
		if (a->o.threads < 1 || a->o.threads > 256)
			return usage_error(cmd, "--threads takes 1 to 256");
		break;
	case O_MEMBER:
		if (a->nmem >= sizeof a->members / sizeof *a->members)
			return usage_error(cmd, "at most %zu --member", sizeof a->members / sizeof *a->members);
		if (!*arg)
			return usage_error(cmd, "--member needs a pattern");
		a->members[a->nmem++] = arg;
		break;
	case O_FORMAT:
		if (strcmp(arg, "jsonl") && strcmp(arg, "json") && strcmp(arg, "csv") && strcmp(arg, "tsv") &&
		    strcmp(arg, "xml") && strcmp(arg, "sqlite") && strcmp(arg, "auto"))
			return usage_error(cmd, "--format takes jsonl, json, csv, tsv, xml or sqlite, not '%s'", arg);
		a->o.format = arg;
		break;
	case O_MAP:
		/* K=NAME,K=NAME: split in place (argv is ours to change) */
		for (char *item = arg, *next; item && *item; item = next) {
			next = strchr(item, ',');
			if (next)
				*next++ = 0;
			char *eq = strchr(item, '=');
			if (!eq || !eq[1])
				return usage_error(cmd, "--map takes KEY=NAME items (id, isrc, title, artist, duration), not '%s'", item);
			*eq = 0;
			if (!strcmp(item, "id"))
				a->o.id_field = eq + 1;
			else if (!strcmp(item, "isrc"))
				a->o.isrc_field = eq + 1;
			else if (!strcmp(item, "title"))
				a->o.title_field = eq + 1;
			else if (!strcmp(item, "artist"))
				a->o.artist_field = eq + 1;
			else if (!strcmp(item, "duration"))
				a->o.duration_field = eq + 1;
			else
				return usage_error(cmd, "--map: unknown key '%s' (id, isrc, title, artist or duration)", item);
		}
		break;
	case O_PROFILE: a->o.profile = arg; break;
	case O_DROP: case O_KEEP: case O_PSEUDO: case O_RENAME: {
		int l = c == O_DROP ? L_DROP : c == O_KEEP ? L_KEEP : c == O_PSEUDO ? L_PSEUDO : L_RENAME;
		for (char *item = arg, *next; item; item = next) {
			next = l == L_RENAME ? NULL : strchr(item, ',');
			if (next)
				*next++ = 0;
			if (!*item)
				return usage_error(cmd, "%s needs a field path", lname[l]);
			if (a->nlist[l] == 16)
				return usage_error(cmd, "at most 16 %s paths", lname[l]);
			a->lists[l][a->nlist[l]++] = item;
		}
		break;
	}
	case O_KEYFILE: a->key_file = arg; break;
	case O_CONTRIB: a->o.contributor = arg; break;
	case O_ALLOWF: a->o.allow_forgotten = 1; break;
	case O_INPUTNAME: a->o.input_name = arg; break;
	case O_ENCODING: a->o.encoding = arg; break;
	case O_RPATH: a->o.records_path = arg; break;
	case O_TYPES: a->o.csv_types = arg; break;
	case O_EMPTYNULL: a->o.csv_empty_null = 1; break;
	case O_DELIM:
		/* refused here, before the catalog is made, as wn_ingest() would refuse it */
		a->o.csv_delimiter = !strcmp(arg, "\\t") || !strcmp(arg, "tab") ? "\t" : arg;
		if (!*arg || strlen(arg) > WN_DELIM_MAX || strpbrk(arg, "\"\r\n"))
			return usage_error(cmd, "--delimiter takes 1 to %d bytes, none a quote or a line end, not '%s'",
				WN_DELIM_MAX, arg);
		break;
	case O_COLUMNS: a->o.csv_columns = arg; break;
	case O_UNWRAP: a->o.csv_unwrap = 1; break;
	case O_TABLE: a->o.sqlite_table = arg; break;
	case O_JOIN: a->o.sqlite_join = 1; break;
	default: return -1;
	}
	return 0;
}

int ingest_args_finish(ingest_args *a, const char *cmd)
{
	wn_ingest_opts *o = &a->o;
	if (o->shard_bytes < o->frame_bytes)
		return usage_error(cmd, "--shard-size must be at least --frame-size");
	if (o->sqlite_join && o->sqlite_table)
		return usage_error(cmd, "--sqlite-join joins the dump's tracks or artists: not with --sqlite-table");
	o->ignore = a->ignore;
	o->n_ignore = a->nign;
	o->drop = a->lists[L_DROP];
	o->n_drop = a->nlist[L_DROP];
	o->keep = a->lists[L_KEEP];
	o->n_keep = a->nlist[L_KEEP];
	o->pseudonymise = a->lists[L_PSEUDO];
	o->n_pseudonymise = a->nlist[L_PSEUDO];
	o->rename = a->lists[L_RENAME];
	o->n_rename = a->nlist[L_RENAME];
	if (a->key_file) {
		/* the key is the file's bytes, as they are; it is never stored or shown */
		FILE *kf = fopen(a->key_file, "rb");
		if (!kf)
			return usage_error(cmd, "--key-file %s: %s", a->key_file, strerror(errno));
		size_t kn = fread(a->key, 1, sizeof a->key, kf);
		int more = fgetc(kf) != EOF, bad = ferror(kf);
		fclose(kf);
		if (bad || more || kn < 16)
			return usage_error(cmd, "--key-file %s: %s", a->key_file,
				bad ? "cannot be read" : more ? "longer than 4096 bytes" : "a key has at least 16 bytes "
				"(e.g. head -c 32 /dev/urandom > KEY)");
		o->key = a->key;
		o->key_len = kn;
	}
	o->members = a->nmem ? a->members : NULL;
	o->n_members = a->nmem;
	/* the parsing threads (winnow-ingest(1), ENVIRONMENT): the results are the same with
	 * any number, which the tests check by comparing 1 with several */
	const char *pt = getenv("WINNOW_PARSE_THREADS");
	if (pt && *pt) {
		char *end;
		long v = strtol(pt, &end, 10);
		if (*end || v < 1 || v > 16)
			return usage_error(cmd, "WINNOW_PARSE_THREADS takes 1 to 16");
		o->parse_threads = (int)v;
	}
	return 0;
}

int cmd_ingest(int argc, char **argv)
{
	/* the ingest options, then those of this command */
	enum { NING = sizeof ingest_options / sizeof *ingest_options - 1 };
	struct option lo[NING + 9];
	memcpy(lo, ingest_options, sizeof ingest_options);
	const struct option own[] = {
		{ "catalog", 1, 0, 'C' }, { "json", 0, 0, O_JSON }, { "cluster", 0, 0, O_CLUSTER },
		{ "progress", 0, 0, O_PROGRESS }, { "no-progress", 0, 0, O_NOPROGRESS }, { "quiet", 0, 0, 'q' },
		{ "digest", 1, 0, O_DIGEST }, { "help", 0, 0, 'h' }, { 0, 0, 0, 0 } };
	memcpy(lo + NING, own, sizeof own);
	static ingest_args ia;
	ingest_args_init(&ia);
	wn_ingest_opts *po = &ia.o;
	const char *dir = NULL;
	int json = 0, cluster = 0;
	const char *digest = NULL;
	progress pr = { .on = isatty(2) };
	int c, e;
	optind = 1;
	while ((c = getopt_long(argc, argv, "C:k:l:j:qh", lo, NULL)) != -1) {
		switch (c) {
		case 'C': dir = optarg; break;
		case O_JSON: json = 1; break;
		case O_CLUSTER: cluster = 1; break;
		case O_PROGRESS: pr.on = 1; break;
		case O_NOPROGRESS: pr.on = 0; break;
		case O_DIGEST:
			if (strcmp(optarg, "sha256"))
				return usage_error("ingest", "--digest takes sha256, not '%s'", optarg);
			digest = optarg;
			break;
		case 'q': quiet = 1; break;
		case 'h': fputs(usage, stdout); return EXIT_OK;
		case '?': return usage_error("ingest", "bad option");
		default:
			if ((e = ingest_option(&ia, "ingest", c, optarg)))
				return e < 0 ? usage_error("ingest", "bad option") : e;
		}
	}
	if (!dir)
		return usage_error("ingest", "-C CATALOG is required");
	if ((e = ingest_args_finish(&ia, "ingest")))
		return e;
	wn_ingest_opts o = *po;
	o.progress = progress_ingest;
	o.progress_ud = &pr;
	o.on_reject = on_reject;
	o.reject_ud = &pr;
	o.on_note = on_note;
	o.note_ud = &pr;
	o.cancel = &wn_interrupted;
	catch_signals();

	wn_catalog *cat;
	int rc = wn_catalog_open(&cat, dir, WN_OPEN_WRITE);
	if (!rc && digest)
		rc = wn_catalog_set_digest(cat, digest);
	if (rc) {
		e = report(cat, rc, dir);
		wn_catalog_close(cat);
		return e;
	}
	wn_ingest_result r;
	rc = wn_ingest(cat, &o, (const char *const *)argv + optind, (size_t)(argc - optind), &r);
	progress_clear(&pr);
	if (rejects_shown > 20)
		fprintf(stderr, "winnow: ... and %d more rejected records\n", rejects_shown - 20);
	if (rejects_shown)
		fprintf(stderr, "winnow: rejected records are in %s/rejects/ with their reasons\n", dir);
	int status = EXIT_OK;
	wn_cluster_result cr;
	int crc = -1;
	if (!rc && cluster) {
		wn_cluster_opts co;
		wn_cluster_opts_init(&co);
		co.kind = o.kind;
		co.cancel = &wn_interrupted;
		if ((crc = wn_cluster(cat, &co, &cr)))
			status = report(cat, crc, "cluster");
	}
	if (rc)
		status = report(cat, rc, "ingest");
	else if (r.read && !r.kept && r.rejected == r.read) {
		/* a run that rejects every record has read its input wrong, or the input is not what
		 * it was meant to be: not a success */
		if (r.read == 1 && !o.records_path && json_documents(o.format, argv + optind, argc - optind))
			fprintf(stderr, "winnow: nothing kept: the document was read as one record, and rejected; if its "
				"records are inside it, say where with --records-path (e.g. items[] or playlists[].tracks[]) "
				"(the record is in %s/rejects/)\n", dir);
		else if (rejects_seen && rejects_noid == rejects_seen)
			fprintf(stderr, "winnow: nothing kept: every record was rejected for a missing id; if the id is "
				"under another name, say which with --map id=FIELD (the records are in %s/rejects/)\n", dir);
		else
			fprintf(stderr, "winnow: nothing kept: every record was rejected (their reasons are in %s/rejects/); "
				"is the input in the format and encoding it was read as (--format, --encoding, --map id=FIELD)?\n", dir);
		status = EXIT_DATA;
	}
	outbuf out;
	out_init(&out);
	if (json) {
		const char *sep = "{";
#define WN_X(n) out_fmt(&out, "%s\"" #n "\":%llu", sep, (unsigned long long)r.n), sep = ",";
		WN_OUTCOMES(WN_X)
#undef WN_X
		out_fmt(&out, ",\"dropped\":%llu,\"restarted\":%s,\"abandoned\":", (unsigned long long)r.dropped,
			r.restarted ? "true" : "false");
		if (r.abandoned) {
			out_fmt(&out, "{\"records\":%llu,\"inputs\":[", (unsigned long long)r.abandoned_records);
			for (size_t i = 0; i < r.abandoned_ninputs; i++) {
				if (i)
					out_str(&out, ",");
				out_json_str(&out, r.abandoned_inputs[i], strlen(r.abandoned_inputs[i]));
			}
			out_str(&out, "]}");
		} else {
			out_str(&out, "null");
		}
		out_fmt(&out, ",\"resumed\":%llu,\"bytes\":%llu,\"seconds\":%.3f,\"records_per_second\":%.0f,"
			"\"complete\":%s,\"stage_seconds\":{\"read\":%.3f,\"parse\":%.3f,\"dedup\":%.3f,\"store\":%.3f,"
			"\"commit\":%.3f,\"merge\":%.3f,\"input_wait\":%.3f,\"compress_wait\":%.3f,\"compress_cpu\":%.3f}}\n",
			(unsigned long long)r.resumed_records, (unsigned long long)r.bytes_in, r.seconds,
			r.seconds > 0 ? (r.read - r.resumed_records) / r.seconds : 0, rc ? "false" : "true",
			r.t_read, r.t_parse, r.t_dedup, r.t_store, r.t_commit, r.t_merge, r.t_input_wait, r.t_compress_wait, r.t_compress);
		if (crc == 0) {
			out.len--;   /* the closing brace and newline: add the clusters' counts */
			out.len--;
			out_fmt(&out, ",\"cluster\":{\"records\":%llu,\"added\":%llu,\"clusters\":%llu,\"merged\":%llu,"
				"\"edges\":{", (unsigned long long)cr.records, (unsigned long long)cr.added,
				(unsigned long long)cr.clusters, (unsigned long long)cr.merged);
			for (int k = 1; k < WN_NEDGES; k++)
				out_fmt(&out, "%s\"%s\":%llu", k > 1 ? "," : "", wn_edge_name(k), (unsigned long long)cr.edges[k]);
			out_fmt(&out, "},\"candidates\":%llu,\"blocks_capped\":%llu,\"seconds\":%.3f}}\n",
				(unsigned long long)cr.candidates, (unsigned long long)cr.blocks_capped, cr.seconds);
		}
	} else if (!rc || r.read) {
		/* after a failure: what the catalog holds, up to the last checkpoint */
		if (rc && rc != WN_E_REJECTED)
			out_str(&out, "up to the last checkpoint, ");
		out_fmt(&out, "read %llu: kept %llu, duplicates %llu, revisions %llu, rejected %llu",
			(unsigned long long)r.read, (unsigned long long)r.kept, (unsigned long long)r.duplicates,
			(unsigned long long)r.revisions, (unsigned long long)r.rejected);
		if (r.resumed_records)
			out_fmt(&out, " (%llu of them read before an interruption)", (unsigned long long)r.resumed_records);
		out_fmt(&out, "; %.2f s, %.0f records/s\n", r.seconds,
			r.seconds > 0 ? (r.read - r.resumed_records) / r.seconds : 0);
		if (crc == 0)
			out_fmt(&out, "clusters: %llu records in %llu clusters, %llu merged, %llu candidates; %.2f s\n",
				(unsigned long long)cr.records, (unsigned long long)cr.clusters, (unsigned long long)cr.merged,
				(unsigned long long)cr.candidates, cr.seconds);
	}
	int os = out_end(&out, NULL);
	wn_catalog_close(cat);
	return status ? status : os;
}
