/*
 * source.h - where records come from (internal). A source turns an input (file, stdin,
 * .zst) into records: JSON object texts with a position for messages and for resuming.
 * The files from the bottom up; each calls only the ones listed before it, and input.c,
 * arena.c and encoding.c, which are below them all:
 *   source.c        what every source shares (wn_source_fail, wn_source_close)
 *   source_jsonl.c, source_csv.c (and TSV), source_json.c (documents), source_sqlite.c,
 *                   source_xml.c (XML documents, libxml2):
 *                   one source a format
 *   transcode.c     a source that wraps another and transcodes its records to UTF-8
 *   source_open.c   wn_source_open(): chooses the format and the source
 * A new format adds its own source_*.c and a line in wn_source_open().
 */
#ifndef WN_SOURCE_H
#define WN_SOURCE_H

#include "internal.h"
#include "arena.h"
#include "encoding.h"

typedef struct wn_srec {
	const char *rec;        /* the record: a JSON object text, or the raw bytes of a rejected one */
	size_t len;
	uint64_t off;           /* byte offset where it starts in the (decompressed) input */
	uint64_t lineno;        /* its line (first line, for records over several lines) or row number */
	uint64_t end;           /* position to resume from after it (source-defined; bytes for text) */
	size_t toolong_len;     /* > 0: longer than the limit; rec holds its first bytes only */
	int code;               /* 0, or a WN_E_* reason when the source itself rejects it */
	const char *why;        /* the reason in words when code != 0 (valid like rec) */
} wn_srec;

typedef struct wn_source wn_source;
struct wn_source {
	const char *name;       /* for messages: the path as given, "(stdin)" */
	/* identity for resuming (ingest_ckpt.c "pending" says how it is matched) */
	int regular;            /* read from a regular file (not a pipe, a terminal, a device) */
	uint64_t size;          /* size of a regular file, else 0 */
	uint64_t dev, ino;      /* a regular file's device and inode, else 0 */
	uint64_t head_hash;     /* XXH3-64 of its first 64 KiB (decompressed) */
	/* Next record: 1 = one in *r, 0 = end of input, 2 = only with may_move (records
	 * returned since the last call with may_move must stay valid until the next such
	 * call), < 0 or errno = error (text in err). */
	int (*next)(wn_source *s, wn_srec *r, int may_move);
	/* Go on from a position an earlier run reached: `pos` as in wn_srec.end, `recno` the
	 * line or row number of the last record done. */
	int (*skip)(wn_source *s, uint64_t pos, uint64_t recno);
	uint64_t (*consumed)(wn_source *s);   /* input bytes read so far (progress) */
	void (*close)(wn_source *s);
	char err[256];
	/* with an error from next(): the line it is at, when the source knows it better than
	 * "the line after the last record" (a JSON document's structure); else 0 */
	uint64_t err_line;
	/* set by wn_source_reopen: the input is a tar or zip archive, whose members are the
	 * inputs (wn_source_open_member); next() gives no record */
	int archive;
};

/* ---- every source (source.c) ---- */
/* Set s->err from the format, and return code (for `return wn_source_fail(...)`). */
int wn_source_fail(wn_source *s, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void wn_source_close(wn_source *s);   /* s->close(s); accepts NULL */
/* A remark on the input that changes no count (o->on_note, if set): "NAME: " and the
 * format. Called where the sources are opened and closed, in the calling thread, so the
 * callback never runs beside another one of the run's. */
void wn_source_note(const wn_ingest_opts *o, const char *name, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* A text source's name, size and head hash are its input's (input.c says why these). */
struct wn_input;
void wn_source_identity(wn_source *s, const struct wn_input *in);

/* ---- the sources ---- */

/* The JSONL source (source_jsonl.c). It opens the input itself (and says why it cannot);
 * wn_source_jsonl_input() is that input, for wn_source_open() to look at its first bytes
 * and to move it on to the source of another format. */
int wn_source_jsonl(wn_source **out, const char *path, const wn_ingest_opts *o);
struct wn_input *wn_source_jsonl_input(wn_source *s);
/* The same over the current member of an archive input (input.c), named name. */
int wn_source_jsonl_member(wn_source **out, struct wn_input *archive, const char *name, const wn_ingest_opts *o);

/* The other sources. The text ones take over an input that wn_source_open() has already
 * opened (and looked at, to tell the format): *in is moved into the source, which closes
 * it, also on error. On error *out is set when a source was made (close it). */
int wn_source_csv(wn_source **out, struct wn_input *in, const wn_ingest_opts *o, int tsv);   /* source_csv.c */
/* Why d cannot be a CSV/TSV field separator (--delimiter), or NULL when it can: 1 to
 * WN_DELIM_MAX bytes, none of them a quote, CR or LF. NULL (the default) can. */
const char *wn_csv_delimiter_why(const char *d);                                           /* source_csv.c */
int wn_source_json(wn_source **out, struct wn_input *in, const wn_ingest_opts *o);           /* source_json.c */
int wn_source_sqlite(wn_source **out, const char *path, const wn_ingest_opts *o);            /* source_sqlite.c */
int wn_source_xml(wn_source **out, struct wn_input *in, const wn_ingest_opts *o);            /* source_xml.c */

/* ---- transcoding (transcode.c) ---- */
/* Wrap a source of JSON texts in one that transcodes each record from enc to UTF-8 (JSONL
 * and nested JSON; CSV transcodes as it parses). Takes ownership of inner, also on error. */
int wn_source_transcode(wn_source **out, wn_source *inner, int enc);

/* ---- choosing the source (source_open.c) ---- */
/* Open `path` ("-" = stdin) as records of the format o->format (detected when NULL or
 * "auto"). On error returns a code and, if a source was made, *out to close. */
int wn_source_open(wn_source **out, const char *path, const wn_ingest_opts *o);
/* The same; with again set, for an input opened before in the same run (ingest checks
 * every input first): the remarks made at opening (o->on_note) are not made again. */
int wn_source_reopen(wn_source **out, const char *path, const wn_ingest_opts *o, int again);
/* The member of an archive that wn_input_next_member just gave (member: its name in the
 * archive, which chooses the format as a file name would; name: how it is named,
 * "ARCHIVE!MEMBER"), as records. archive stays the caller's. With not_records not NULL
 * (no --member chose the members), a member that is not records by its name or its
 * first line (a README) sets *not_records, with the reason in (*out)->err, and returns 0;
 * with it NULL such a member fails as a file would. Else as wn_source_reopen. */
int wn_source_open_member(wn_source **out, struct wn_input *archive, const char *name, const char *member,
	const wn_ingest_opts *o, int again, int *not_records);

#endif
