/*
 * winnow.h - libwinnow: deduplicated, checksummed, indexed catalogs of music metadata.
 *
 * A catalog is a folder. Records (one JSON object each: a track, an artist, a release,
 * ... of one kind per run) go in through wn_ingest(); every record read ends up in
 * exactly one of four places:
 *
 *   kept        stored in a shard (seekable zstd, CATALOG/shards/) and indexed
 *   duplicate   its canonical fingerprint is already in the catalog: noted in the ledger
 *   revision    its id is in the catalog with another fingerprint: noted in the ledger
 *               with its bytes (or, with WN_CONFLICT_LAST/NEWEST, it replaces the old
 *               version, whose bytes stay in their shard and are listed as superseded)
 *   rejected    unreadable (bad JSON, bad UTF-8, no id, too long, empty): noted with its
 *               raw bytes and the reason in CATALOG/rejects/
 *
 * so that for every run read == kept + duplicates + revisions + rejected.
 * doc/FORMAT.md describes every byte on disk and the commit protocol.
 *
 * Conventions (as in LMDB): every call returns an int, 0 on success, a negative WN_E_*
 * code for winnow's own errors, or a positive errno value. After an error on a handle,
 * wn_catalog_errmsg() says what and where ("tracks.jsonl line 18342: ..."); that text is
 * owned by the handle and valid until the next call on it. The library never prints and
 * never exits; progress reaches the caller through callbacks. A handle must be used by
 * one thread at a time; the library runs its own worker threads internally.
 */
#ifndef WINNOW_H
#define WINNOW_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Version of this header, MAJOR.MINOR.PATCH. The Makefile reads VERSION (and so
 * winnow.pc's) from these three lines. wn_version() gives the version of the library a
 * program runs with, which can differ from the header it was compiled with. */
#define WN_VERSION_MAJOR 0
#define WN_VERSION_MINOR 1
#define WN_VERSION_PATCH 0
#define WN_VERSTR_(x) #x
#define WN_VERSTR(x) WN_VERSTR_(x)
#define WN_VERSION_STRING \
	WN_VERSTR(WN_VERSION_MAJOR) "." WN_VERSTR(WN_VERSION_MINOR) "." WN_VERSTR(WN_VERSION_PATCH)
#define WINNOW_VERSION WN_VERSION_STRING  /* the same string, under its first name */

/* The library's version, "MAJOR.MINOR.PATCH" (WN_VERSION_STRING of the header it was
 * built with): never NULL, static storage. Cannot fail. */
const char *wn_version(void);

/* Return codes. 0 is success; negative values are winnow's own (pinned: their numbers
 * never change once released); positive values are errno values. */
#define WN_OK            0
#define WN_E_USAGE      (-1)  /* bad argument or option */
#define WN_E_NOMEM      (-2)  /* out of memory */
#define WN_E_CORRUPT    (-3)  /* catalog is damaged or inconsistent */
#define WN_E_VERSION    (-4)  /* catalog written by an incompatible format version */
#define WN_E_LMDB       (-5)  /* the index (LMDB) reported an error */
#define WN_E_ZSTD       (-6)  /* compressed data does not decode (zstd; gzip, xz, bzip2 input) */
#define WN_E_INTERRUPTED (-7) /* stopped on request; the catalog is at its last checkpoint */
#define WN_E_NOTFOUND   (-8)  /* no such record, catalog or key */
#define WN_E_BUSY       (-9)  /* another process is writing to the catalog */
#define WN_E_MISMATCH   (-10) /* options conflict with those the catalog was built with */
#define WN_E_REJECTED   (-11) /* a record was rejected and strict mode is on */
#define WN_E_MISSING    (-12) /* a data file the index lists is not there (a partial mirror) */
#define WN_E_STALE      (-13) /* derived data (the clusters) is not current: rebuild it */
/* Why a record was rejected: each entry of the rejects file has one (its "reason",
 * doc/FORMAT.md section 6), and wn_strerror() gives its text. wn_ingest() returns
 * WN_E_PARSE itself when a JSON document is broken outside its records. */
#define WN_E_PARSE      (-20) /* JSON syntax error */
#define WN_E_UTF8       (-21) /* invalid UTF-8 */
#define WN_E_DEPTH      (-22) /* nesting too deep */
#define WN_E_DUPKEY     (-23) /* an object has the same key twice */
#define WN_E_NOTOBJECT  (-24) /* the record is not a JSON object */
#define WN_E_NOID       (-25) /* the record has no usable id */
#define WN_E_TOOLONG    (-26) /* the line is longer than the limit */
#define WN_E_EMPTY      (-27) /* the line is empty */
#define WN_E_ROW        (-28) /* a CSV/TSV row that does not fit its header: field count,
                                 an unclosed quote, a value not of its --types type */
#define WN_E_EXCLUDED   (-29) /* the profile excludes the record (a play in incognito mode) */

/* Text for a return code: never NULL, static storage. */
const char *wn_strerror(int code);

/* Write s[0..n) to `out` as a JSON string literal, quotes included: '"' as \", '\\' as
 * \\, BS FF LF CR TAB as \b \f \n \r \t, other bytes below 0x20 as \u00xx, every other
 * byte as it is, except a lone surrogate (ED A0..BF xx, as a parsed \ud800 escape comes
 * out) which is written back as its \uXXXX escape. So valid UTF-8 comes out as valid
 * UTF-8 that reads back to the same bytes; bytes that are not UTF-8 are copied as they
 * are (and the output is then not valid JSON text). `out` must have room for 6*n+2
 * bytes. Returns the bytes written (no NUL added). Cannot fail. Every JSON string
 * winnow writes, in the library and in the winnow tool, comes from here. */
size_t wn_json_quote(char *out, const char *s, size_t n);

/* Record kinds. A kind is named by the caller: "track", "artist", "album", "recording",
 * "release", "label", ... any name of 1 to WN_KIND_NAME_MAX bytes that matches
 * [a-z][a-z0-9_]* (it becomes part of file names: shards/<kind>-000001.jsonl.zst). Each
 * kind has its own shards, ledger, rejects, ordinals, maps and counters. A catalog holds
 * at most WN_KINDS_MAX kinds; track and artist are always among them, every other kind
 * from the first wn_ingest() of it on. Only tracks have ISRCs (wn_get_isrc). */
#define WN_KIND_NAME_MAX 32
#define WN_KINDS_MAX     64

/* The longest id a record may have, in bytes (a composite id as its JSON array text):
 * a record with a longer one is rejected, so no longer id is ever found. */
#define WN_MAX_ID 512

/* Is `name` a kind name (the rule above)? 1 or 0; NULL is not. Cannot fail. */
int wn_kind_valid(const char *name);

/* ------------------------------------------------------------------------------------
 * Catalog handle
 */
typedef struct wn_catalog wn_catalog;

#define WN_OPEN_READ   0  /* read-only; concurrent readers and one writer are fine */
#define WN_OPEN_WRITE  1  /* create the catalog if missing; takes the writer lock, and
                             rolls back whatever an interrupted writer left beyond its
                             last checkpoint */

/* Open the catalog in folder `dir`. On success *out is a new handle (close it with
 * wn_catalog_close). On failure *out is still set when a handle could be made, so that
 * wn_catalog_errmsg() can explain; close it too.
 * Errors: WN_E_NOTFOUND (read mode: no catalog there, or an empty one), WN_E_BUSY
 * (write mode: another writer holds the lock), WN_E_VERSION (another format, index or
 * fingerprint version; an index of version 1, without checksums, is refused with advice
 * to run winnow reindex), WN_E_CORRUPT (the index is damaged: a value fails its checksum
 * or is malformed, and the message names winnow reindex; write mode: a data file it
 * lists is missing or shorter than its committed length), WN_E_LMDB, WN_E_NOMEM, errno (the
 * folder cannot be created or read, the lock file cannot be opened; write mode: the
 * rollback or the manifests cannot be written, e.g. ENOSPC). */
int wn_catalog_open(wn_catalog **out, const char *dir, int flags);

/* Close a handle; NULL is accepted. */
void wn_catalog_close(wn_catalog *c);

/* What went wrong in the last failed call on `c` (never NULL; "" if nothing). */
const char *wn_catalog_errmsg(const wn_catalog *c);

/* ------------------------------------------------------------------------------------
 * Ingest
 */
#define WN_CONFLICT_FIRST  0  /* the version already in the catalog survives */
#define WN_CONFLICT_LAST   1  /* the version read last survives */
#define WN_CONFLICT_NEWEST 2  /* the version with the greater value of newest_field survives */

typedef struct wn_progress {
	uint64_t records;       /* records read so far in this run */
	uint64_t bytes;         /* input bytes consumed so far */
	uint64_t total_bytes;   /* input bytes in all, 0 when unknown (stdin, .zst) */
	double elapsed;         /* seconds since the run started */
	const char *input;      /* name of the input being read */
} wn_progress;

/* The longest CSV/TSV field separator, in bytes (wn_ingest_opts.csv_delimiter). */
#define WN_DELIM_MAX 16

typedef struct wn_ingest_opts {
	const char *kind;             /* the records' kind: "track" (the default, also for NULL),
	                                 "artist", or any name wn_kind_valid() accepts */
	int level;                    /* zstd level, default 3 */
	size_t frame_bytes;           /* uncompressed bytes per zstd frame, default 1 MiB */
	uint64_t shard_bytes;         /* uncompressed bytes per shard, default 256 MiB */
	size_t max_line;              /* longer input lines are rejected, default 16 MiB */
	size_t memory;                /* memory budget in bytes, default 1 GiB */
	uint64_t checkpoint_records;  /* records between checkpoints; 0 = from the budget */
	int threads;                  /* compression threads, default: number of cores */
	int strict;                   /* stop at the first rejected record */
	int on_conflict;              /* WN_CONFLICT_*, default FIRST */
	const char *newest_field;     /* dotted path, with WN_CONFLICT_NEWEST */
	/* Fingerprint and id settings. They are stored in the catalog when it is created;
	 * a later run must use the same (WN_E_MISMATCH otherwise). NULL/0 = defaults. */
	const char *const *ignore;    /* dotted paths left out of the fingerprint */
	size_t n_ignore;
	const char *id_field;         /* the id: "PATH" (default "id"), "PATH+PATH+..." (a
	                                 composite id: the values, as text, joined as a JSON
	                                 array), or "content" (the fingerprint is the id) */
	const char *isrc_field;       /* default: "external_ids.isrc", else "external_id_isrc"; its
	                                 value may be a string or an array of strings */
	/* The rest of the kind's record profile (doc/FORMAT.md, "Record profiles"): stored
	 * with the id, ISRC and ignore settings by the first run that keeps a record of the
	 * kind, and used by later runs that do not name them. NULL/0 = the stored value, or
	 * for a kind with no record yet the built-in profile's. */
	const char *profile;          /* a built-in profile by name (wn_profile_names()) */
	const char *duration_field;   /* descriptive paths (title_field, artist_field below) */
	/* Transforms, applied in this order before a record is fingerprinted; with any of
	 * them the record stored is the transformed JSON. */
	const char *const *rename;    /* "OLD=NEW": the member at path OLD takes the key NEW */
	size_t n_rename;
	const char *const *drop;      /* paths removed: stored nowhere, not even in rejects */
	size_t n_drop;
	const char *const *keep;      /* paths kept: everything else is removed */
	size_t n_keep;
	const char *const *pseudonymise;  /* paths whose values become keyed pseudonyms */
	size_t n_pseudonymise;
	const uint8_t *key;           /* the pseudonymisation key (never stored), key_len bytes */
	size_t key_len;
	const char *contributor;      /* whose records these are: stored only as its keyed pseudonym, injected as
	                               * the member "contributor" of each record (needs a pseudonymising profile) */
	/* A contributor the catalog forgot (wn_forget) is refused (WN_E_USAGE) unless this is
	 * set; then the run takes the contributor back and removes its tombstone. */
	int allow_forgotten;
	const char *input_name;       /* the name ledger and reject entries give the (one) input. With a profile
	                               * that hides fields, entries never hold a path: they name the input by
	                               * this label, else by its file name without its folders, and an archive's
	                               * member by its name in the archive; "pending" keeps only hashes of paths */
	/* Called a few times a second from the ingesting thread (may be NULL). */
	void (*progress)(const wn_progress *p, void *ud);
	void *progress_ud;
	/* Called once per rejected record with "NAME line N: reason" (may be NULL). */
	void (*on_reject)(const char *msg, void *ud);
	void *reject_ud;
	/* Called with a remark on an input that is not a rejection and changes no count,
	 * "NAME: ..." (valid UTF-8 read with --encoding cp1252 or latin1; CSV rows whose
	 * quoted field held a quote that was not doubled), at most once per input and kind of
	 * remark, from the calling thread (may be NULL). */
	void (*on_note)(const char *msg, void *ud);
	void *note_ud;
	/* When *cancel becomes non-zero (e.g. from a signal handler) the run stops within a
	 * few records, or within 0.1 s when its reader is waiting on a pipe, a terminal or a
	 * socket that sends nothing or is inside a line that never ends (the reader polls
	 * the fd and looks at *cancel before every read), drops what it did since the last
	 * checkpoint (as a crash would, so that running it again writes the same bytes as an
	 * uninterrupted run) and returns WN_E_INTERRUPTED. May be NULL. */
	volatile const int *cancel;
	/* Input formats (README.md "Input formats"; doc/INPUTS.md says what record a row
	 * becomes). Every input of a run is read with the same settings. NULL/0 = default. */
	const char *format;           /* "jsonl", "json", "csv", "tsv" or "sqlite"; NULL or "auto":
	                                 from the file name (.jsonl .ndjson .json .csv .tsv .sqlite3
	                                 .sqlite .db, after any .zst), else from the first bytes */
	const char *records_path;     /* json: where the records are, e.g. "playlists[].tracks[]",
	                                 "items[].track" (a member of each element), "data.track"
	                                 (one record); NULL = the elements of a top-level array,
	                                 or the document itself when it is one object */
	const char *encoding;         /* text input: "utf-8" (default: invalid UTF-8 is rejected),
	                                 "cp1252" or "latin1" (transcoded to UTF-8 before parsing) */
	const char *csv_types;        /* csv/tsv: "auto" (values that are JSON numbers become
	                                 numbers) and/or "COLUMN=string|int|number|bool", comma-
	                                 separated; NULL = every value a string. It changes the
	                                 records, hence their fingerprints: use the same every run */
	const char *csv_delimiter;    /* csv/tsv: the field separator, 1 to WN_DELIM_MAX bytes
	                                 ("," ";" "\t" "<SEP>"), none a quote, CR or LF (else
	                                 WN_E_USAGE); NULL = "," (csv) or "\t" (tsv). A quoted
	                                 field may hold it, as it may hold ',' */
	const char *csv_columns;      /* csv/tsv: the header of a file that has none, as
	                                 "NAME,NAME,..." (a name may be quoted as in a CSV
	                                 header); the first line is then a row. NULL = the
	                                 first row is the header */
	int csv_unwrap;               /* csv/tsv: every line is one quoted field that holds a CSV
	                                 line (a double-encoded file): parse the inner line */
	int csv_empty_null;           /* csv/tsv: an unquoted empty field becomes null, not "" */
	const char *sqlite_table;     /* sqlite: read this table's rows as they are; NULL = the dump's
	                                 "tracks" table (o->kind WN_KIND_ARTIST: "artists"), whose
	                                 rows then give the same records as the dump's JSONL tables */
	int sqlite_join;              /* sqlite, the dump (sqlite_table NULL): each track joined
	                                 with its artists and album, each artist with its genres,
	                                 without the join columns (doc/INPUTS.md 2); a record
	                                 other than the table's row, so never a duplicate of it.
	                                 With sqlite_table set: WN_E_USAGE */
	const char *title_field;      /* where the title is (--map title=PATH): stored in the
	                                 profile; csv/tsv: a column the header must have */
	const char *artist_field;     /* likewise, for the artist(s) (--map artist=) */
	/* Archives (a .tar, plain or compressed, or a .zip, found by its first bytes): each
	 * regular member is an input named "ARCHIVE!MEMBER", its format chosen as for a file
	 * of the member's name. members (n_members globs, fnmatch(3) on the member's name, `*`
	 * matching '/' too): read only the members one of them matches, each of which must be
	 * records; NULL: every regular member, except that one whose name has no extension
	 * winnow reads and whose first line is no JSON or XML (a README) is passed over with a
	 * remark (on_note) that names it. */
	const char *const *members;
	size_t n_members;
	/* Threads that parse records (JSON, transforms, keys) while one reads each input and
	 * another decides; 0 = the number of cores, at most 16. The records, their order and
	 * every result are the same whatever the number. */
	int parse_threads;
} wn_ingest_opts;

/* Set every field of *o to its default. */
void wn_ingest_opts_init(wn_ingest_opts *o);

/* The outcome counters, in the order they are stored and printed: every record read is
 * kept, a duplicate, a revision or rejected (read = kept + duplicates + revisions +
 * rejected); superseded counts kept records that a newer version replaced. The fields of
 * wn_ingest_result and wn_kind_stats carry these names, so WN_OUTCOMES(X) with X(name)
 * expanding to `r->name` walks them all. */
#define WN_OUTCOMES(X) X(read) X(kept) X(duplicates) X(revisions) X(rejected) X(superseded)

typedef struct wn_ingest_result {
	uint64_t read, kept, duplicates, revisions, rejected;
	uint64_t superseded;          /* kept records replaced by a newer version this run */
	uint64_t bytes_in;            /* input bytes (decompressed) */
	uint64_t resumed_records;     /* records already done by an interrupted earlier run */
	/* An interrupted earlier run of the kind that this one does not continue (its inputs
	 * were not the same files, in the same order): its records up to its last checkpoint
	 * stay in the catalog, this run reads its own inputs from their start. abandoned is
	 * 1 then; abandoned_records is what it had read; abandoned_inputs (n of them) its
	 * inputs as they were named, strings owned by the catalog handle until the next
	 * wn_ingest() on it or its close. o->on_note says the same when the run starts. */
	int abandoned;
	uint64_t abandoned_records;
	const char *const *abandoned_inputs;
	size_t abandoned_ninputs;
	/* An earlier run of the same inputs was interrupted before its first checkpoint:
	 * nothing of it was kept, and this run started over (o->on_note says so too). */
	int restarted;
	/* When the call fails (but for WN_E_REJECTED), the counts above are those the catalog
	 * holds, up to the run's last checkpoint (what a rerun goes on from), and dropped is
	 * the number of records read after it, whose work was thrown away. */
	uint64_t dropped;
	double seconds;               /* wall time of the run */
	/* time split by stage: reading and parsing in the reading and parsing threads (their
	 * times summed), the rest in the ingesting thread, which waits t_input_wait for parsed
	 * records */
	double t_read, t_parse, t_dedup, t_store, t_commit, t_compress_wait;
	double t_compress;            /* CPU seconds spent compressing, all threads */
	double t_merge;               /* the part of t_commit spent merging runs of the index */
	double t_input_wait;
} wn_ingest_result;

/* Ingest the inputs (paths; "-" is standard input; .zst inputs are decompressed) as
 * records of o->kind into the catalog, which must be open for writing. A kind the
 * catalog does not have yet is added to it when the run starts; its records use the id
 * field "id" (o->id_field is taken for track and artist only). The catalog is
 * made durable at checkpoints and at the end; if the run is interrupted (kill -9, power,
 * full disk, WN_E_INTERRUPTED), running the same ingest again continues after the last
 * checkpoint and ends with the same catalog contents and the same totals as an
 * uninterrupted run. Rejected records are not errors (unless o->strict). *res (may be
 * NULL) receives the counts, also on WN_E_INTERRUPTED and WN_E_REJECTED.
 * Every input is opened and checked (format, header, columns) before the first is read:
 * an input that cannot be read fails the call before anything is. An interrupted run is
 * continued when the inputs are the same files in the same order (by what they are, not
 * by their names: FORMAT.md 11.6); else it is abandoned (res->abandoned).
 * Errors: WN_E_USAGE (the handle is read-only; an option out of range or unknown; a
 * kind that is not a kind name, a new kind in a catalog of WN_KINDS_MAX kinds, an id
 * field other than "id" for a kind other than track and artist; an input that cannot be read as asked: no id column in a CSV header, a --map or --types
 * column that is not there, no such SQLite table, a --records-path that matches nothing,
 * a database on standard input; standard input named twice), WN_E_MISMATCH (id field,
 * ISRC field or ignore set other than the catalog's; an input that no longer matches
 * what the interrupted run it resumes had read, or that changed between its check and
 * its reading), WN_E_PARSE (a JSON document broken outside its records: the run
 * stops at its line), WN_E_REJECTED (o->strict), WN_E_INTERRUPTED, WN_E_CORRUPT (the
 * index or a stored record is damaged; an SQLite table's rows changed order while it was
 * read), WN_E_ZSTD (a .zst input that does not decode), WN_E_LMDB, WN_E_NOMEM, errno
 * (I/O: ENOENT for a missing input, ENOSPC, EIO also for SQLite errors). */
int wn_ingest(wn_catalog *c, const wn_ingest_opts *o, const char *const *paths, size_t n,
	wn_ingest_result *res);

/* ------------------------------------------------------------------------------------
 * Reading
 */

/* The reading calls work on any open handle, from one read-only snapshot of the index:
 * the catalog as of its last checkpoint, even while a writer appends beyond it.
 * Every record they hand out is proven: it comes from a frame whose content checksum
 * (the one the index recorded) was checked, or its fingerprint was computed again and
 * is the one the index holds for it. Damage is an error, never a wrong record and never
 * "not found". They share these errors: WN_E_CORRUPT (the index or a shard is damaged:
 * a row or map block that fails its checksum (the message names winnow reindex) or is
 * malformed, a frame that does not decode, fails its checksum or holds fewer
 * records than the index says, a record that is not the one the index holds, a shard
 * shorter than its frames; the message names the shard, the frame and its bytes),
 * WN_E_MISSING (a shard the index lists is not there, as in a partial mirror; the
 * message names it and the ordinals of the records it holds; also an id that is not in
 * the shards that are there while a shard is not: "not found" would not be proven), WN_E_LMDB, WN_E_NOMEM,
 * errno (a shard cannot be opened or read; or LMDB reported one).
 * After an error, emit or fn may already have been called for some records. */

/* Receives one record (its stored bytes, no line terminator; valid only during the
 * call). Return 0 to go on, any other value to stop (the calling function then returns
 * that value). */
typedef int (*wn_emit_fn)(const char *rec, size_t len, void *ud);

/* Every surviving record of `kind` (a kind name; NULL is "track"), in the order in
 * which the catalog accepted them. A kind the catalog was never given is an error (track
 * and artist it always has, empty or not), so that a misspelt name is noticed.
 * Errors: WN_E_USAGE (kind is not a kind name), WN_E_NOTFOUND (the catalog has no such
 * kind: the message lists those it has), the reading errors above, or the value emit
 * returned. */
int wn_export(wn_catalog *c, const char *kind, wn_emit_fn emit, void *ud);

/* Receives a shard that wn_export_partial() skipped because it is not there: its name
 * relative to the catalog ("shards/track-000002.jsonl.zst"; valid only during the call),
 * the ordinals of the records it holds (first..last) and how many of them are surviving
 * records, which were therefore not exported. Return 0 to go on, any other value to stop
 * (the calling function then returns that value). */
typedef int (*wn_missing_fn)(const char *shard, uint64_t first_ord, uint64_t last_ord, uint64_t survivors, void *ud);

/* wn_export() for a partial mirror: a shard that is not there is skipped and passed to
 * `missing` after the records before it were emitted; the others are exported as
 * wn_export() does (emit and missing get the same ud). With missing == NULL this is
 * wn_export(), which fails with WN_E_MISSING at the first missing shard.
 * Errors: those of wn_export(), or the value missing returned. */
int wn_export_partial(wn_catalog *c, const char *kind, wn_emit_fn emit, wn_missing_fn missing, void *ud);

/* The surviving record of `kind` (as for wn_export) with this id (idlen bytes, compared
 * exactly). Reads one frame.
 * Errors: WN_E_NOTFOUND (no surviving record of `kind` has this id; the catalog has no
 * such kind), WN_E_USAGE (kind is not a kind name), the reading errors above, or the
 * value emit returned. */
int wn_get(wn_catalog *c, const char *kind, const char *id, size_t idlen, wn_emit_fn emit, void *ud);

/* Receives the answer for ids[i]: the record (valid only during the call), or
 * rec == NULL if there is none. Return 0 to go on; any other value stops the call,
 * which returns it. */
typedef int (*wn_get_fn)(size_t i, const char *rec, size_t len, void *ud);

/* The surviving records of n ids (lens[i] bytes each), answered in the order given.
 * When some id has no record and a shard of the kind is not there (a partial mirror),
 * the call fails with WN_E_MISSING before any answer, naming the id and the shard.
 * Each frame involved is read once, and only as far as the last record wanted from it,
 * so asking for many ids at once is much faster than one call per id; the frames are
 * decoded on up to one thread per core (8 at most), with the outcome of a reading in
 * order (after damage, the first damaged frame is the one named). An id without a
 * record is an answer (rec == NULL), not an error. All the reading is done before the
 * first answer, so after an error fn has not been called.
 * Errors: WN_E_USAGE (kind is not a kind name), WN_E_NOTFOUND (the catalog has no such
 * kind, as for wn_export), the reading errors above, or the value fn returned. */
int wn_get_many(wn_catalog *c, const char *kind, const char *const *ids, const size_t *lens, size_t n, wn_get_fn fn,
	void *ud);

/* Every surviving record of `kind` (NULL: "track") that carries the ISRC `isrc`
 * (compared upper-case, alphanumerics only; a record may carry several: its profile's
 * ISRC path may hold an array), in catalog order.
 * Errors: WN_E_NOTFOUND (no surviving record carries it; also for an `isrc` longer than
 * 64 bytes; no such kind), the reading errors above, or the value emit returned. */
int wn_get_isrc(wn_catalog *c, const char *kind, const char *isrc, size_t len, wn_emit_fn emit, void *ud);

typedef struct wn_kind_stats {
	char name[WN_KIND_NAME_MAX + 1];   /* the kind */
	uint64_t records;        /* surviving records */
	uint64_t read, kept, duplicates, revisions, rejected, superseded;
	uint64_t forgotten;      /* placeholders of records winnow forget took out (they hold no record) */
	uint64_t shards, frames;
	uint64_t raw_bytes;      /* uncompressed bytes in shards */
	uint64_t stored_bytes;   /* bytes of shard files */
	uint64_t ledger_entries, reject_entries;
	uint64_t id_entries, fp_entries, isrc_entries, runs;
} wn_kind_stats;

typedef struct wn_stats {
	int nkinds;                  /* the catalog's kinds: track, artist, then the others in the */
	wn_kind_stats kind[WN_KINDS_MAX];   /* order of their first ingest run */
	uint64_t index_file_bytes;   /* size of index/data.mdb */
	uint64_t index_used_bytes;   /* pages in use (free pages excluded) */
	uint64_t ledger_bytes, reject_bytes;
	uint32_t format_version, fingerprint_version;
	uint64_t generation;         /* completed ingest runs */
} wn_stats;

/* The record profile of `kind` as JSON text (doc/FORMAT.md, "Record profiles"): into
 * *out, malloc'd and NUL-terminated (free it), or "null" when the kind has none stored
 * yet. Errors: WN_E_USAGE (no such kind), WN_E_NOMEM. */
int wn_catalog_profile_json(wn_catalog *c, const char *kind, char **out);

/* Counts and sizes of the catalog as of its last checkpoint, from the index alone (no
 * data file is read). *out is cleared first; after an error it is incomplete.
 * Errors: WN_E_CORRUPT (the counters or run lists in the index are malformed),
 * WN_E_LMDB, WN_E_NOMEM, errno (from LMDB). */
int wn_catalog_stats(wn_catalog *c, wn_stats *out);

/* The ISRCs carried by the most surviving track records: calls fn with each ISRC and its
 * count, most first, at most `limit` times (with limit 0, not at all). The ISRC is the
 * text of the record of lowest ordinal that carries it, which may be a superseded
 * version; it is valid only during the call. fn returns 0 to go on, any other value to
 * stop the call, which returns it.
 * Errors: the reading errors above, or the value fn returned. */
int wn_top_isrcs(wn_catalog *c, size_t limit,
	int (*fn)(const char *isrc, size_t len, uint64_t count, void *ud), void *ud);

/* ------------------------------------------------------------------------------------
 * Contributions: who brought what (kinds whose id has a contributor part, such as listen)
 *
 * Every ingest run of such a kind stores, per contributor it met, a contribution: its
 * number in the kind (1, 2, ... in the order they were stored), its counts, the span of
 * its plays' times and a sketch of its set of (time, item) pairs (doc/FORMAT.md 15.4).
 * wn_contributors() reads them back: per contributor its contributions and how each
 * overlaps its earlier ones; the contributions whose plays overlap another contributor's
 * by at least the threshold (the same history under two names); and the values of the
 * profile's released fields that fewer than k contributors share. Overlaps are
 * estimated from the sketches (exact while a contribution has at most 256 distinct
 * plays; about +-6% beyond), and the cross-contributor check looks only at pairs whose
 * sketches share hashes, never at every pair.
 */
typedef struct wn_contribution {
	uint32_t no;                 /* its number in the kind */
	uint64_t generation;         /* the catalog generation of its run */
	uint64_t plays, kept, duplicates, revisions;   /* plays = kept + duplicates + revisions */
	uint64_t distinct;           /* distinct (time, item) pairs: exact up to 256, else estimated */
	const char *first, *last;    /* the span of its plays' times ("" none) */
	uint32_t same_as;            /* an earlier contribution of the same contributor with the same plays, or 0 */
	uint32_t repeats;            /* else the earlier one it repeats most of, or 0 */
	double repeats_share;        /* ... the share of that one's plays it repeats, 0 to 1 */
} wn_contribution;

typedef struct wn_contributor {
	const char *who;             /* the contributor part's value: a keyed pseudonym */
	size_t n;                    /* its contributions, oldest first */
	const wn_contribution *contrib;
	uint64_t plays, kept, duplicates;
	const char *first, *last;
} wn_contributor;

typedef struct wn_overlap {
	uint32_t a, b;               /* two contributions of different contributors, a < b */
	const char *who_a, *who_b;
	double overlap;              /* shared plays / the plays of the smaller one, 0 to 1 */
} wn_overlap;

typedef struct wn_rare_value {
	const char *field, *value;   /* a released field of the profile and one of its values */
	uint32_t contributors;       /* how many contributors have it (fewer than k) */
} wn_rare_value;

typedef struct wn_contributors {
	size_t ncontributors;        /* sorted by pseudonym */
	const wn_contributor *contributor;
	size_t ncontributions;
	size_t noverlaps;            /* by overlap, largest first */
	const wn_overlap *overlaps;
	size_t nrare;                /* by field, then value */
	const wn_rare_value *rare;
	uint64_t candidate_pairs;    /* pairs the overlap check looked at */
	void *priv_;
} wn_contrib_report;

/* The contributions of `kind` (NULL: "listen"), as above: threshold is the least overlap
 * reported across contributors (0 < threshold <= 1; 0.9 is the usual), k the number of
 * contributors a released value needs to be left out of the rare list (k >= 1; 5 is the
 * usual). *out is allocated (free it with wn_contrib_report_free), and all it points to
 * lives until then. Errors: WN_E_USAGE (bad threshold or k), WN_E_NOTFOUND (no such
 * kind), WN_E_CORRUPT (a stored contribution is malformed or fails its checksum),
 * WN_E_NOMEM, WN_E_LMDB. */
int wn_contributors(wn_catalog *c, const char *kind, double threshold, unsigned k, wn_contrib_report **out);
void wn_contrib_report_free(wn_contrib_report *r);   /* NULL is accepted */

/* ------------------------------------------------------------------------------------
 * Clusters: the same recording under several ids
 *
 * wn_cluster() groups the records of a kind into clusters by the automatic edges of
 * doc/FORMAT.md section 14.5 (same id, a linked_from id, a shared valid ISRC, equal
 * primary artist, title core and qualifiers), never joining two records the chain guard
 * keeps apart; such a blocked pair is a candidate, reported and never merged. The result
 * is stored beside the index (CATALOG/clusters/<kind>.bin, FORMAT.md section 16) and kept
 * current incrementally: a call looks only at the records added since the last one, and
 * the clusters are the same as those of a rebuild. Every record (superseded versions too)
 * is a member; the readers below show the surviving ones. A cluster's id is 32 hex digits,
 * the XXH3-128 of its kind and the ordinal of its first member (FORMAT.md 16.3): it stays
 * the same as records are added and across winnow reindex, and when two clusters merge
 * the merged one keeps the id of the older.
 */

/* How a member joined its cluster (the edge kinds, in the order they are tried). */
#define WN_EDGE_FIRST 0   /* the first member: it joined nothing */
#define WN_EDGE_ID    1   /* the same id (a revision of it) */
#define WN_EDGE_LINK  2   /* one's linked_from id is the other's id */
#define WN_EDGE_ISRC  3   /* a valid ISRC in common, durations within 3 s, equal qualifiers */
#define WN_EDGE_TEXT  4   /* equal primary artist, title core, qualifiers; durations within 2 s */
#define WN_EDGE_SIMILAR 5 /* a scored candidate (only merged with merge_candidates) */
#define WN_NEDGES     6
/* "first", "id", "linked", "isrc", "text" (anything else "?"); static storage. */
const char *wn_edge_name(int edge);

typedef struct wn_cluster_opts {
	const char *kind;             /* the records' kind (NULL: "track") */
	int rebuild;                  /* forget the stored clusters and build them from every record */
	/* The survivor policy: "first" (acceptance order), "canonical" (album before single
	 * before compilation by album.album_type, then the earliest album.release_date, then
	 * album.id and track_number), "complete" (most non-empty top-level fields) or
	 * "priority:FIELD" (the greatest number at FIELD); ties go to the earliest record.
	 * NULL: the stored one ("first" when there is none). Another policy than the stored
	 * one rebuilds the clusters. */
	const char *survivor;
	/* When *cancel becomes non-zero the call stops soon and returns WN_E_INTERRUPTED,
	 * leaving the stored clusters as they were. May be NULL. */
	volatile const int *cancel;
	/* 1: merge the scored candidates (doc/FORMAT.md 14.6) too, as edges "similar", where
	 * the chain guard allows; -1: only report them (the default); 0: as stored. Another
	 * setting than the stored one rebuilds the clusters. */
	int merge_candidates;
} wn_cluster_opts;

/* Set every field of *o to its default. */
void wn_cluster_opts_init(wn_cluster_opts *o);

typedef struct wn_cluster_result {
	uint64_t records;             /* records clustered: every ordinal, superseded ones too */
	uint64_t added;               /* of them, looked at by this call (0: it was current) */
	uint64_t clusters;            /* clusters holding a surviving record, singletons included */
	uint64_t merged;              /* surviving records that are not their cluster's survivor */
	uint64_t edges[WN_NEDGES];    /* joins made, by edge kind (edges[WN_EDGE_FIRST] is 0) */
	uint64_t candidates;          /* pairs an edge would have joined that the guard kept apart,
	                                 and scored candidates, still in different clusters */
	uint64_t blocks_capped;       /* scored-candidate blocks cut at 8 records (hot blocks) */
	int merge_candidates;         /* the stored setting */
	int rebuilt;                  /* the clusters were built from every record */
	char survivor[160];           /* the policy in use */
	double seconds;
} wn_cluster_result;

/* Bring the clusters of o->kind up to date. The handle must be open for writing (the
 * writer lock keeps ingest out while it runs). The stored clusters are replaced by one
 * atomic rename, so an interruption (kill -9 included) leaves the old ones, and running
 * it again gives the result an uninterrupted run gives. A no-op when they are current.
 * Memory: about 210 bytes per record of the kind (an incremental run: 185).
 * Errors: WN_E_USAGE (read-only handle, not a kind name, bad policy), WN_E_NOTFOUND (no
 * such kind), WN_E_CORRUPT (a shard, or the
 * stored clusters, fail their checksums: the message says which; stored clusters that
 * are damaged or of another norm or Unicode version need o->rebuild), WN_E_MISSING (a
 * shard is not there), WN_E_INTERRUPTED, WN_E_LMDB, WN_E_NOMEM, errno (I/O, ENOSPC). */
int wn_cluster(wn_catalog *c, const wn_cluster_opts *o, wn_cluster_result *res);

/* One member of a cluster, as the readers below hand it out (valid during the call). */
typedef struct wn_cluster_member {
	const char *id;               /* the record's id */
	size_t id_len;
	uint64_t ordinal;
	int edge;                     /* WN_EDGE_*: how it joined (WN_EDGE_FIRST: the first member) */
	const char *to, *via;         /* the edge ran from via (a member of the part that joined:
	                                 this one, or one that joined it) to `to`, the member it
	                                 joined through; NULL for the first member */
	size_t to_len, via_len;
	const char *evidence;         /* the edge's evidence as a JSON object: {"id":...},
	                                 {"linked_from":...}, {"isrc":...,"duration_ms":[...]},
	                                 {"artist":...,"title":...,"qualifiers":[...],"duration_ms":[...]};
	                                 "null" for the first member */
	size_t evidence_len;
	const char *rec;              /* the record's bytes (wn_cluster_get only, else NULL) */
	size_t rec_len;
} wn_cluster_member;

typedef struct wn_cluster_view {
	char id[33];                  /* the cluster id, 32 lower-case hex digits */
	const char *kind;
	size_t n;                     /* surviving members, survivor first, then in catalog order */
	const wn_cluster_member *m;
} wn_cluster_view;

typedef int (*wn_cluster_fn)(const wn_cluster_view *v, void *ud);

/* The readers of clusters take a kind name (NULL: "track") and share these errors
 * besides the reading errors above: WN_E_USAGE (not a kind name), WN_E_NOTFOUND (the
 * catalog has no such kind),
 * WN_E_STALE (the clusters are not current: none yet, records added since, or built by
 * another norm or Unicode version or survivor policy; the message names the winnow
 * command to run), WN_E_CORRUPT (the stored clusters fail their checksum). */

/* Every cluster of kind with at least min_size surviving members (0 counts as 2), in
 * the order of their first members, passed to fn. With edge >= 0 only the clusters in
 * which some member joined by that edge kind.
 * Errors: WN_E_USAGE (bad kind or edge), those above, or the value fn returned. */
int wn_dups(wn_catalog *c, const char *kind, uint64_t min_size, int edge, wn_cluster_fn fn, void *ud);

/* A candidate: two records an edge (via_edge) would have joined, kept apart by the chain
 * guard for `reason` ("qualifiers differ", "isrc and duration differ"; for artists "no
 * shared track cluster"), or a scored pair (via_edge WN_EDGE_SIMILAR, reason "similar"). */
typedef struct wn_candidate {
	const char *kind;
	const char *a, *b;            /* their ids (a the later one) */
	size_t a_len, b_len;
	char cluster_a[33], cluster_b[33];
	int via_edge;                 /* WN_EDGE_SIMILAR for a scored candidate */
	const char *reason;
	double score;                 /* the similarity (FORMAT.md 14.6); -1 for a guard's refusal */
	const char *evidence;         /* {"artists":[a,b],"titles":[a,b],"duration_ms":[a,b]}, keys */
	size_t evidence_len;
} wn_candidate;

/* Every candidate of kind whose records are still in different clusters, in the order
 * they were found, passed to fn. Errors: as wn_dups. */
int wn_candidates(wn_catalog *c, const char *kind, int (*fn)(const wn_candidate *x, void *ud), void *ud);

/* The cluster `cluster_id` (32 hex digits): fn once, with every surviving member and its
 * record (survivor first). Errors: WN_E_NOTFOUND (no cluster of kind has that id, or none
 * of its members survives), those above, or the value fn returned. */
int wn_cluster_get(wn_catalog *c, const char *kind, const char *cluster_id, wn_cluster_fn fn, void *ud);

/* The cluster of the surviving record with this id: *cluster receives its id (33 bytes),
 * and survivor (survivor_cap bytes, NUL-terminated, truncated) the survivor's id.
 * Errors: WN_E_NOTFOUND (no surviving record has the id), those above. */
int wn_cluster_of(wn_catalog *c, const char *kind, const char *id, size_t idlen, char cluster[33], char *survivor,
	size_t survivor_cap);

/* One record per cluster: each cluster's survivor, in catalog order (singletons
 * included). survivor: the policy (NULL: the stored one); a policy other than the stored
 * one must be "first", the others need their values, which wn_cluster stores: WN_E_STALE
 * naming the command otherwise. Errors: those above, or the value emit returned. */
int wn_export_clusters(wn_catalog *c, const char *kind, const char *survivor, wn_emit_fn emit, void *ud);

/* ------------------------------------------------------------------------------------
 * Tamper evidence: SHA-256 beside XXH128
 */

/* Keep CATALOG/SHA256SUMS (the SHA-256 of every sealed data file, in the format that
 * `sha256sum -c` reads) from now on. `algo` must be "sha256". The setting is stored in
 * the catalog: every later ingest run computes SHA-256 as it writes and rewrites the
 * file. Files sealed before the call are read once, their XXH128 checked against the
 * index, and their SHA-256 added. The handle must be open for writing.
 * Errors: WN_E_USAGE (unknown algorithm, read-only handle), WN_E_CORRUPT (a sealed file
 * no longer matches its XXH128: it is not vouched for; run wn_verify), WN_E_LMDB,
 * WN_E_NOMEM, errno (I/O). */
int wn_catalog_set_digest(wn_catalog *c, const char *algo);

/* ------------------------------------------------------------------------------------
 * Scale-out: plan, map, reduce, merge (doc/FORMAT.md section 17)
 *
 * One ingest split into tasks that a scheduler (a Slurm job array) runs anywhere, in any
 * order within a stage, each any number of times. All of them work in one folder WORK on
 * storage every task sees:
 *
 *   plan    WORK/plan.json: the partition count N, the partition function (the id's
 *           hash), the inputs (name, path, size, head hash), their slices (whole files,
 *           or line-aligned byte ranges of large plain JSONL files), the map task each
 *           slice belongs to, and the ingest options (as arguments, given back verbatim)
 *   map     task I reads its slices and writes one run file per partition
 *           (WORK/map/I/P.run) with a done.json that holds each run's XXH128
 *   reduce  task P ingests the runs of partition P, in map-task order, into the catalog
 *           WORK/part/P (the normal ingest: the same decisions, ledger and rejects)
 *   merge   one catalog from the partition catalogs: data files linked in, not
 *           rewritten (ledgers rewritten with their ordinals moved), the index rebuilt
 *
 * Each task writes into a temporary folder and renames it into place when it is complete,
 * so a task killed at any moment and run again gives the same result, and a task whose
 * output is there already does nothing (res->done_before). Every stage checks the digests
 * the one before it wrote and refuses what does not match (WN_E_CORRUPT, naming the file),
 * and map and reduce refuse inputs that changed since the plan (WN_E_MISMATCH).
 * res (may be NULL) receives the outcome and, on failure, the reason in res->err. */

typedef struct wn_dist_plan_opts {
	unsigned parts;                /* partitions, 1 to 4096 */
	unsigned tasks;                /* map tasks wanted (0: parts); fewer when there are fewer slices */
	uint64_t slice_bytes;          /* plain JSONL files larger than this are cut into byte ranges
	                                  of about this size (0: total input bytes / tasks) */
	const char *const *args;       /* the ingest options as command-line arguments: stored */
	size_t nargs;
	const wn_ingest_opts *ingest;  /* the same, parsed: format and max_line are used */
} wn_dist_plan_opts;

typedef struct wn_dist_result {
	unsigned parts, tasks;         /* the plan's */
	int done_before;               /* the task's output was complete already: nothing done */
	uint64_t records;              /* map: records read; merge: records (survivors) */
	uint64_t bytes;                /* map: input bytes read; merge: bytes of the data files */
	uint64_t linked, rewritten;    /* merge: data files linked (or copied), ledger files rewritten */
	wn_ingest_result ingest;       /* reduce: the ingest of the partition's runs */
	double seconds;
	double index_seconds;          /* merge: of seconds, those building the index */
	char err[512];                 /* when the call fails: why ("" otherwise) */
} wn_dist_result;

/* Write WORK/plan.json (WORK is created if missing) for the inputs files[0..n) (paths of
 * regular files; not "-"). A plan that is there already must be the same (then nothing is
 * written and res->done_before is 1): a WORK holds one plan. res->tasks: the map tasks.
 * Errors: WN_E_USAGE (bad options, no inputs, standard input), WN_E_MISMATCH (WORK holds
 * another plan), WN_E_NOMEM, errno (an input cannot be read, I/O). */
int wn_dist_plan(const char *work, const wn_dist_plan_opts *o, const char *const *files, size_t n,
	wn_dist_result *res);

/* The ingest options plan.json stores, as arguments: *args (n of them) is one malloc'd
 * block, freed with free(*args). Errors: WN_E_NOTFOUND (no plan.json), WN_E_CORRUPT (a
 * plan.json winnow did not write), WN_E_NOMEM, errno. */
int wn_dist_plan_args(const char *work, char ***args, size_t *n, wn_dist_result *res);

/* Map task `task` of the plan in WORK, with the ingest options o (parsed from
 * wn_dist_plan_args; its callbacks on_note and cancel are used). Errors: WN_E_USAGE (no
 * such task), WN_E_MISMATCH (an input changed since the plan), what wn_ingest would
 * return for an input that cannot be read, WN_E_INTERRUPTED, WN_E_NOMEM, errno. */
int wn_dist_map(const char *work, unsigned task, const wn_ingest_opts *o, wn_dist_result *res);

/* Reduce task `part`: the catalog WORK/part/<part> from partition part's runs of every
 * map task. Errors: WN_E_USAGE (no such partition), WN_E_NOTFOUND (a map task has not
 * completed: res->err names it), WN_E_CORRUPT (a run file is damaged or not the one its
 * map task wrote), WN_E_MISMATCH (an input changed since the plan), and wn_ingest's. */
int wn_dist_reduce(const char *work, unsigned part, const wn_ingest_opts *o, wn_dist_result *res);

typedef struct wn_dist_merge_opts {
	const wn_ingest_opts *ingest;  /* the plan's ingest options (wn_dist_plan_args, parsed): level,
	                                  frame and shard sizes of the new files; NULL: defaults */
	size_t memory;                 /* for building the index (wn_reindex_opts), default 1 GiB */
	int threads;                   /* default: number of cores */
	volatile const int *cancel;    /* as wn_reindex_opts */
} wn_dist_merge_opts;
void wn_dist_merge_opts_init(wn_dist_merge_opts *o);

/* Merge the partition catalogs into the new catalog `out` (which must not exist, unless
 * it is this plan's merged catalog already: then nothing is done). It is built beside
 * it in `out`.tmp and renamed into place. Errors: WN_E_NOTFOUND (a reduce task has not
 * completed), WN_E_CORRUPT (a partition catalog is not the one its task wrote or is
 * damaged), WN_E_USAGE (out exists), wn_reindex's. */
int wn_dist_merge(const char *work, const char *out, const wn_dist_merge_opts *o, wn_dist_result *res);

/* ------------------------------------------------------------------------------------
 * Reindex: the index built again from the data files
 *
 * The data files are the catalog; the index (CATALOG/index/) is derived from them, so it
 * can be rebuilt when it is damaged (a value fails its checksum), of an old version, or
 * absent, and a bare folder of data files (a mirror: MANIFEST.json and the shards, with or
 * without ledger and rejects) can be made into a catalog that answers queries. The
 * existing index is never read.
 */

typedef struct wn_reindex_opts {
	/* NULL: rebuild the index of the catalog from its own data files. Else a folder laid
	 * out as a catalog (MANIFEST.json, catalog.json if there, shards/, ledger/, rejects/)
	 * whose files the catalog is made of: they are hard-linked into it (copied when
	 * another file system holds them); it may be the catalog's own folder. */
	const char *from;
	/* A file MANIFEST.json lists that is not there is recorded as absent (its row says
	 * what it held), instead of failing with WN_E_MISSING: reading a record of an absent
	 * shard fails with WN_E_MISSING naming the shard and its ordinals, and the counts are
	 * MANIFEST.json's. */
	int ignore_missing;
	size_t memory;                /* memory budget for the maps being built, default 1 GiB */
	int threads;                  /* decoding threads, default: number of cores */
	/* Called with "PATH: ..." for each absent file, from the calling thread (may be NULL). */
	void (*on_note)(const char *msg, void *ud);
	void *note_ud;
	/* When *cancel becomes non-zero the call stops soon and returns WN_E_INTERRUPTED;
	 * the catalog keeps the index it had. May be NULL. */
	volatile const int *cancel;
} wn_reindex_opts;

/* Set every field of *o to its default. */
void wn_reindex_opts_init(wn_reindex_opts *o);

typedef struct wn_reindex_result {
	uint64_t files;               /* data files read */
	uint64_t bytes;               /* their bytes */
	uint64_t records;             /* shard records indexed, all kinds */
	uint64_t entries;             /* ledger and reject entries read */
	uint64_t files_absent;        /* files listed but not there (ignore_missing) */
	uint64_t records_absent;      /* records of the absent shards */
	uint64_t contributions;       /* contributions taken back from the contributions files */
	uint64_t contrib_plays_lost;  /* plays whose contributions no file holds (runs written before
	                               * contributions files: those cannot be rebuilt; a note says so) */
	double seconds;
	char err[512];                /* when the call fails: why ("" otherwise) */
} wn_reindex_result;

/* Build the index of the catalog in folder `dir` from its data files, as the ingest runs
 * that wrote them left it: the same files, frames and superseded rows, id entries and
 * pairs, counters, options and generation, so that export, get and stats answer as
 * before (the maps' runs differ: stats' index sizes and run counts). Every file
 * MANIFEST.json lists is checked before it is indexed: its size and XXH128 (and SHA-256
 * where the catalog keeps SHA256SUMS) must be MANIFEST.json's, every frame must decode
 * with its checksum and every record must have its id. The new index is built beside the
 * old one (dir/index.reindex/), synced, and swapped in by one atomic rename, so that a
 * crash at any moment leaves the old index or the new one; running it again finishes.
 * It takes the writer lock. Memory: the maps' memtable (o->memory) and a filter of about
 * 1.25 bytes per id. *res (may be NULL) receives counts, and the reason on failure.
 * Errors: WN_E_USAGE (bad options; the folder is not a catalog or mirror: no
 * MANIFEST.json), WN_E_BUSY (another winnow is writing), WN_E_MISSING (a listed file is
 * not there, without o->ignore_missing), WN_E_CORRUPT (a data file is damaged or not what
 * MANIFEST.json says; MANIFEST.json or catalog.json is malformed; a file of an interrupted
 * run, not sealed, is not in MANIFEST.json; the ledger contradicts the shards),
 * WN_E_VERSION (another format or fingerprint version), WN_E_INTERRUPTED, WN_E_LMDB,
 * WN_E_NOMEM, errno (I/O, e.g. ENOSPC). */
int wn_reindex(const char *dir, const wn_reindex_opts *o, wn_reindex_result *res);

/* ------------------------------------------------------------------------------------
 * Compact and forget: rewrites of sealed data files
 *
 * Both rewrite sealed files (doc/FORMAT.md section 18): the new files are written beside
 * the old ones under staged names, then one index transaction switches to them together
 * with a journal of the renames and removals left to do, which this call (or, after a
 * crash, the next writer open) does. Interrupted at any moment, the catalog is the old
 * one or the new one once a writer has opened it, and the same call again ends with the
 * same catalog as an uninterrupted one. Ordinals never change. The handle must be open
 * for writing (wn_catalog_open with WN_OPEN_WRITE), and no run of a kind concerned may be
 * interrupted (its unsealed file: WN_E_USAGE; an ingest of the kind finishes it). While
 * the journal's renames are being done (milliseconds), a reader may find a file that is
 * not the one its snapshot describes: it reports damage (checksums), never other bytes.
 */

typedef struct wn_compact_opts {
	const char *kind;             /* only this kind's files; NULL: every kind */
	size_t frame_size;            /* frames of the new files, default 1 MiB (4 KiB .. 1 GiB) */
	uint64_t shard_size;          /* a new file holds at most this many decompressed bytes, default 256 MiB */
	int level;                    /* zstd level of the new files, default 3 */
	int threads;                  /* compressing threads, default: number of cores */
	/* Called at each step ("planned", the name of each file written, "committed",
	 * "phase 1" .. "phase 3"), from the calling thread; may be NULL. */
	void (*on_step)(const char *step, void *ud);
	void *step_ud;
	volatile const int *cancel;   /* non-zero: stop soon (WN_E_INTERRUPTED), catalog unchanged */
} wn_compact_opts;

void wn_compact_opts_init(wn_compact_opts *o);

typedef struct wn_compact_result {
	uint64_t files_before;        /* data files of the series looked at */
	uint64_t files_after;         /* ... and after */
	uint64_t files_written;       /* files written anew */
	uint64_t files_renamed;       /* files kept, under a new number */
	uint64_t bytes_read, bytes_written;   /* of the files rewritten (compressed, whole files) */
	uint64_t records;             /* lines rewritten (records and entries) */
	double seconds;
} wn_compact_result;

/* Rewrite each run of consecutive sealed files of a series (shards, ledger, rejects of a
 * kind) whose records fit in one file of o->shard_size bytes into one file, and number
 * the files of the series 1, 2, ... again; frames of o->frame_size. Records, ordinals,
 * entries and counts are unchanged, and so is every answer of get, export and stats but
 * the file counts; MANIFEST, MANIFEST.json and SHA256SUMS are rewritten. Nothing to
 * merge: nothing is written (res->files_written 0). Every file read is checked against
 * its XXH128 and its frames' checksums first.
 * Errors: WN_E_USAGE (bad options, read-only handle, an interrupted run), WN_E_NOTFOUND (no
 * such kind), WN_E_CORRUPT (a file is not what the index says), WN_E_MISSING (a file is
 * not there), WN_E_INTERRUPTED, WN_E_LMDB, WN_E_NOMEM, errno (I/O, e.g. ENOSPC). */
int wn_compact(wn_catalog *c, const wn_compact_opts *o, wn_compact_result *res);

typedef struct wn_forget_opts {
	const char *contributor;      /* the contributor's name, as given to ingest (--contributor) */
	const uint8_t *key;           /* the catalog's pseudonymisation key, key_len bytes */
	size_t key_len;
	size_t frame_size;            /* frames of the rewritten files, default 1 MiB */
	int level;                    /* their zstd level, default 3 */
	int threads;                  /* compressing threads, default: number of cores */
	int64_t now;                  /* the tombstone's time (seconds since 1970, UTC); 0: now */
	void (*on_step)(const char *step, void *ud);   /* as in wn_compact_opts */
	void *step_ud;
	volatile const int *cancel;
} wn_forget_opts;

void wn_forget_opts_init(wn_forget_opts *o);

typedef struct wn_forget_result {
	char pseudonym[33];           /* the contributor's pseudonym, 32 hex digits */
	uint64_t files_rewritten;     /* the files that held its records and entries */
	uint64_t records;             /* stored records taken out (their ordinals stay, empty) */
	uint64_t ledger_entries;      /* ledger entries taken out */
	uint64_t rejects;             /* reject entries taken out */
	uint64_t bytes_read, bytes_written;
	int already;                  /* it had been forgotten before (its tombstone was there) */
	double seconds;
} wn_forget_result;

/* Take every record, ledger entry and reject entry of a contributor out of the catalog:
 * the files that hold them (and only those: the index lists them per contributor) are
 * rewritten, each record's line left as a placeholder so that no ordinal moves; its ids,
 * fingerprints and ISRCs leave the maps; the counters lose them (read, kept, duplicates,
 * revisions, rejected, superseded; meta forgotten.<kind> counts the placeholders); the
 * manifests are rewritten; a tombstone (a digest of the pseudonym and the date, in the
 * index and catalog.json) makes a later ingest of the contributor fail unless
 * allow_forgotten. Forgetting a contributor the catalog holds nothing of writes the
 * tombstone only. Crash-safe as wn_compact.
 * Errors: WN_E_USAGE (no name or key; no kind pseudonymises; read-only handle; an
 * interrupted run), WN_E_MISMATCH (another key than the catalog's), WN_E_CORRUPT,
 * WN_E_MISSING, WN_E_INTERRUPTED, WN_E_LMDB, WN_E_NOMEM, errno. */
int wn_forget(wn_catalog *c, const wn_forget_opts *o, wn_forget_result *res);

/* ------------------------------------------------------------------------------------
 * Verify
 *
 * wn_verify() proves a catalog whole, or says exactly what is broken. Fast mode: every
 * data file that MANIFEST lists exists, none exists that it does not list, sizes agree
 * with MANIFEST.json (and the index), the XXH128 of every file matches, and so does its
 * SHA-256 when SHA256SUMS exists. Deep mode also decodes every frame (zstd content
 * checksums, the seek table against the frames), recounts the records of every file,
 * recomputes every record's fingerprint and checks the index both ways (every index entry
 * points at a record with that id, fingerprint or ISRC; every record is indexed), the
 * ledger and the counters. Damage is not an error: it is reported through o->problem and
 * counted in res->problems, and the call returns 0.
 */

/* One finding. Valid only during the callback. */
typedef struct wn_problem {
	const char *kind;    /* "missing", "extra", "size", "checksum", "truncated", "frame-corrupt",
	                        "seek-table", "count", "index-dangling", "record-unindexed",
	                        "index-mismatch", "metadata"; or "note" for what is not damage
	                        (an unsealed file of an interrupted run, files left unchecked) */
	const char *path;    /* the data file, relative to the catalog; NULL if none */
	int64_t frame;       /* zstd frame number in that file (0-based), -1 if none */
	int64_t offset;      /* byte offset in that file, -1 if none */
	uint64_t length;     /* bytes concerned from offset, 0 if not known */
	int64_t record;      /* record ordinal (shards), entry number (ledger, rejects), or -1 */
	const char *id;      /* the record's id, NULL if not known */
	size_t id_len;
	const char *detail;  /* what is wrong, lower-case, no full stop */
} wn_problem;

typedef struct wn_verify_progress {
	uint64_t bytes;        /* bytes read so far (file bytes, then frame bytes in deep mode) */
	uint64_t total_bytes;  /* bytes to read in all */
	uint64_t records;      /* records decoded so far (deep mode) */
	double elapsed;        /* seconds since the call started */
	const char *stage;     /* "files", "frames" or "index" */
} wn_verify_progress;

typedef struct wn_verify_opts {
	int deep;                    /* 0: fast mode (default), 1: deep mode */
	int threads;                 /* worker threads; default 0 = number of cores */
	int ignore_missing;          /* a listed file that is absent is skipped, not damage */
	const char *const *only;     /* check only files whose path or name matches one of
	                                these shell patterns (fnmatch); NULL = all */
	size_t n_only;
	/* Bare-folder mode (wn_verify with c == NULL): the folder of data files, laid out as
	 * in a catalog (shards/, ledger/, rejects/), and the MANIFEST to check it against
	 * (default DIR/MANIFEST). MANIFEST.json is read from "<manifest>.json", SHA256SUMS and
	 * catalog.json from the manifest's folder, each if present. No index is opened. */
	const char *dir;
	const char *manifest;
	unsigned max_per_kind;       /* problems of one kind reported per file, the first by
	                                place whatever the threads (the rest are counted, and
	                                summed up in a note); default 20, 0 = all */
	/* Called for each problem and note, from the calling thread, after the checks, in
	 * file order (files by path, then frame and offset; index findings last). */
	void (*problem)(const wn_problem *p, void *ud);
	void *problem_ud;
	/* Called a few times a second from the calling thread (may be NULL). */
	void (*progress)(const wn_verify_progress *p, void *ud);
	void *progress_ud;
	/* When *cancel becomes non-zero the call stops soon and returns WN_E_INTERRUPTED. */
	volatile const int *cancel;
} wn_verify_opts;

/* Set every field of *o to its default. */
void wn_verify_opts_init(wn_verify_opts *o);

typedef struct wn_verify_result {
	uint64_t problems;        /* findings of damage, all of them (also those not reported) */
	uint64_t notes;
	uint64_t files_checked;   /* data files read */
	uint64_t bytes_checked;   /* bytes of those files */
	uint64_t frames_checked;  /* deep mode: zstd frames decoded */
	uint64_t records_checked; /* deep mode: lines decoded (records, ledger and reject entries) */
	uint64_t index_entries_checked;  /* deep mode: id, fp and isrc entries and frame rows */
	uint64_t files_skipped;   /* listed files not checked (--ignore-missing, only) */
	uint64_t bytes_skipped;   /* their sizes, as far as MANIFEST.json knows them */
	int sha256_checked;       /* SHA256SUMS was there and was checked */
	double seconds;
	char err[256];            /* when the call fails: why ("" otherwise) */
} wn_verify_result;

/* Check the catalog `c` (open for reading or writing), or, with c == NULL, the bare folder
 * o->dir against o->manifest. Returns 0 when the check ran to its end, whatever it found:
 * res->problems is 0 if and only if nothing is damaged. A catalog being written by a live
 * ingest run is checked as of its last checkpoint; its unsealed files are notes.
 * Memory: deep mode on a catalog keeps 32 bytes per stored record.
 * Errors (the check could not run; res->err and, with c, wn_catalog_errmsg() say why):
 * WN_E_USAGE (no o, no c and no o->dir), WN_E_NOTFOUND (bare folder: no such folder or
 * no MANIFEST), WN_E_INTERRUPTED, WN_E_LMDB, WN_E_NOMEM, errno (e.g. the folder cannot be
 * read). */
int wn_verify(wn_catalog *c, const wn_verify_opts *o, wn_verify_result *res);

#ifdef __cplusplus
}
#endif
#endif
