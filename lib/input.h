/*
 * input.h - line input from files, stdin, and their zstd, gzip, xz or bzip2 compressed
 * forms (internal; see input.c).
 */
#ifndef WN_INPUT_H
#define WN_INPUT_H

#include "internal.h"

typedef struct wn_input {
	const char *name;       /* as given, "(stdin)" for "-" */
	int fd, own_fd, regular, zst;
	uint64_t size;          /* file size for regular files (compressed size for .zst) */
	uint64_t dev, ino;      /* a regular file's device and inode */
	uint64_t raw_read;      /* bytes read from fd */
	uint64_t offset;        /* decompressed bytes consumed (line terminators included) */
	uint64_t line;          /* lines consumed */
	uint64_t head_hash;     /* XXH3-64 of the first 64 KiB, decompressed */
	size_t max_line;
	size_t toolong_len;     /* length of the last over-long line */
	char *buf;
	size_t cap, start, end;
	int eof;
	ZSTD_DCtx *dctx;
	char *zin;
	size_t zpos, zlen;
	int zeof, zframe_open;
	char *longhead;
	int codec;              /* gzip, xz, bzip2 (input.c): decoded by libarchive's filter ar */
	struct archive *ar;
	struct wn_input **ar_self; /* what ar reads for: a cell that wn_input_move keeps pointing here */
	int ar_rc;              /* the read error behind a libarchive failure */
	int archive;            /* a tar or zip archive: its members are read as inputs of their own */
	struct archive_entry *entry;   /* archive: the current member's header (libarchive's) */
	int hdr_ready;          /* archive: the header of a member not yet handed out is read */
	struct wn_input *parent;    /* a member: the archive it is read from (ar is parent's) */
	volatile const int *cancel;   /* when *cancel is set, reads stop with WN_E_INTERRUPTED (may be NULL) */
	char err[256];          /* detail of the last error */
} wn_input;

/* Open path ("-" = stdin). cancel (may be NULL): when *cancel becomes non-zero, this
 * and every later call that reads stops within 0.1 s with WN_E_INTERRUPTED, also while
 * it waits on a silent pipe or skips an endless line. Returns 0, errno, WN_E_ZSTD (a
 * zstd, gzip, xz or bzip2 stream that does not decode), WN_E_NOMEM, WN_E_INTERRUPTED
 * (detail in in->err).
 * Call wn_input_close() in every case. */
int wn_input_open(wn_input *in, const char *path, size_t max_line, volatile const int *cancel);
void wn_input_close(wn_input *in);
/* Hand an open input over: *to takes it as it is, *from is left closed (closing it
 * again does nothing): how an input goes from the source chooser to a source. */
void wn_input_move(wn_input *to, wn_input *from);
/* Input bytes read so far, for progress: of a .zst the compressed bytes (in->size is its
 * compressed size too), else the bytes consumed. */
static inline uint64_t wn_input_consumed(const wn_input *in)
{
	if (in->parent)
		return in->parent->raw_read;
	return in->zst || in->codec || in->archive ? in->raw_read : in->offset;
}
/* "zstd", "gzip", "xz", "bzip2", or "" for an input that is not compressed. */
const char *wn_input_codec(const wn_input *in);
/* At the very start of the input, a UTF-8 byte-order mark (EF BB BF) is consumed: its
 * bytes count in in->offset (offsets stay those of the file), no line is counted. The
 * first 64 KiB are buffered after wn_input_open(), so it is there if there is one.
 * Returns 1 if one was skipped, else 0 (also when the input is not at its start). */
int wn_input_skip_bom(wn_input *in);
/* ---- archives (tar, plain or compressed, and zip) ----
 * wn_input_open finds an archive by its first bytes and sets in->archive; its bytes are
 * then not read as text: each regular member is read as an input of its own. */
/* The next member of archive a: 0 with *more set, *name (valid until the next call) and
 * *regular (a regular file, not a folder or a link); 0 with *more 0 at the end; or an
 * error as wn_input_line's (detail in a->err). The data of the member before it, read or
 * not, is passed over. */
int wn_input_next_member(wn_input *a, const char **name, int *regular, int *more);
/* Open the member wn_input_next_member just gave as input m named name (kept, not copied),
 * reading it from a, which must stay open, unmoved, and not be read otherwise until m is
 * closed. Offsets and lines are the member's. 0 or an error as wn_input_open's. */
int wn_input_open_member(wn_input *m, wn_input *a, const char *name, size_t max_line);
/* Skip bytes already ingested by an interrupted run, which had read `lines` lines. */
int wn_input_skip(wn_input *in, uint64_t bytes, uint64_t lines);
/* The same for an input read by lines (wn_input_line): a plain file seeks past what is not
 * buffered instead of reading it. */
int wn_input_seek_skip(wn_input *in, uint64_t bytes, uint64_t lines);
/* Next line without its terminator ("\n" or "\r\n"). 1 = a line, 0 = end of input, <0 or
 * errno = error. *line is valid until the next call. A line longer than max_line comes
 * back cut to at most 4096 bytes with *toolong set and in->toolong_len its length. */
int wn_input_line(wn_input *in, const char **line, size_t *len, int *toolong);
/* The next line only if it is whole in the buffer already: nothing moves, so lines
 * returned since the last wn_input_line() stay valid. Returns 2 when it would have to
 * read (then call wn_input_line). */
int wn_input_line_nomove(wn_input *in, const char **line, size_t *len, int *toolong);
/* Up to cap bytes of the (decompressed) input as they come, for a source that parses
 * bytes rather than lines (XML): *got = 0 at the end. Lines are not counted. */
int wn_input_read(wn_input *in, char *dst, size_t cap, size_t *got);
int wn_input_longline(wn_input *in, const char **line, size_t *len, int *toolong);

#endif
