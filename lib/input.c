/*
 * input.c - input: a file, standard input or a .zst of either, cut into lines.
 *
 * One buffer, allocated once and reused: lines are found with memchr and handed out as
 * pointers into it (getline() was 5x slower here). A line longer than max_line is not
 * buffered whole: its first bytes are returned with `toolong` set and the rest skipped.
 * Compressed input is recognised by its magic number, not by its name: zstd is decoded
 * here with libzstd (the format winnow writes, and the fastest path); gzip, xz and bzip2
 * through libarchive's filters, which read concatenated streams (pigz, pbzip2, pixz
 * output) as one. Offsets and lines are those of the decompressed stream in every case.
 *
 * For resuming an interrupted run, an input is identified by what it is: a regular file
 * by its device, inode and size, anything else by its name, and either by XXH3-64 of its
 * first 64 KiB (decompressed) (ingest_ckpt.c matches them); the position to go on from
 * is a byte offset in the decompressed stream that falls on a line boundary.
 */
#include "internal.h"
#include "input.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>
#include <archive.h>
#include <archive_entry.h>

#define CHUNK (1u << 20)
#define HEAD_BYTES 65536
#define POLL_MS 100     /* how often a read that waits on a pipe looks at the cancel flag */

/* Has the caller asked us to stop? Then in->err says so. */
static int cancelled(wn_input *in)
{
	if (!in->cancel || !__atomic_load_n(in->cancel, __ATOMIC_RELAXED))
		return 0;
	snprintf(in->err, sizeof in->err, "%s", wn_strerror(WN_E_INTERRUPTED));
	return 1;
}

/* A read(2) that a cancel request ends within POLL_MS: a pipe, a terminal or a socket may
 * keep read() waiting for ever (a signal need not reach the thread that waits, and
 * SA_RESTART would restart it anyway), so such an fd is polled first. A regular file
 * never blocks for long; an endless one (/dev/zero) is stopped by the check before every
 * read. Returns 0, errno, or WN_E_INTERRUPTED. */
static int read_raw(wn_input *in, char *dst, size_t cap, size_t *got)
{
	*got = 0;
	for (;;) {
		if (cancelled(in))
			return WN_E_INTERRUPTED;
		if (in->cancel && !in->regular) {
			struct pollfd pf = { .fd = in->fd, .events = POLLIN };
			int pr = poll(&pf, 1, POLL_MS);
			if (pr < 0 && errno != EINTR)
				return errno;
			if (pr <= 0)
				continue;
		}
		ssize_t r = read(in->fd, dst, cap);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return errno;
		}
		*got = (size_t)r;
		in->raw_read += (uint64_t)r;
		return 0;
	}
}

/* Append decompressed (or plain) bytes to buf[end..cap). Sets eof when the input ends. */
static int fill(wn_input *in)
{
	if (in->eof)
		return 0;
	/* also here: decompression can make bytes for long without a read */
	if (cancelled(in))
		return WN_E_INTERRUPTED;
	size_t room = in->cap - in->end;
	if (!room)
		return 0;
	if (in->ar) {
		la_ssize_t n = archive_read_data(in->ar, in->buf + in->end, room);
		if (n < 0) {
			const wn_input *a = in->parent ? in->parent : in;   /* a member: its archive read */
			const char *why = a->ar_rc ? strerror(a->ar_rc) : archive_error_string(in->ar);
			if (in->parent)
				snprintf(in->err, sizeof in->err, "the archive %s is damaged or cut short: %s", a->name,
					why ? why : "read error");
			else
				snprintf(in->err, sizeof in->err, "%s: %s", wn_input_codec(in), why ? why : "read error");
			return a->ar_rc ? a->ar_rc : WN_E_ZSTD;
		}
		if (!n)
			in->eof = 1;
		in->end += (size_t)n;
		return 0;
	}
	if (!in->zst) {
		size_t got = 0;
		int rc = read_raw(in, in->buf + in->end, room, &got);
		if (rc)
			return rc;
		if (!got)
			in->eof = 1;
		in->end += got;
		return 0;
	}
	for (;;) {
		if (in->zpos == in->zlen && !in->zeof) {
			size_t got = 0;
			int rc = read_raw(in, in->zin, CHUNK, &got);
			if (rc)
				return rc;
			in->zpos = 0;
			in->zlen = got;
			if (!got)
				in->zeof = 1;
		}
		if (in->zpos == in->zlen && in->zeof && !in->zframe_open) {
			in->eof = 1;
			return 0;
		}
		/* with input left, or at the end with output still held in the decoder */
		ZSTD_inBuffer ib = { in->zin, in->zlen, in->zpos };
		ZSTD_outBuffer ob = { in->buf + in->end, room, 0 };
		size_t r = ZSTD_decompressStream(in->dctx, &ob, &ib);
		if (ZSTD_isError(r)) {
			snprintf(in->err, sizeof in->err, "zstd: %s", ZSTD_getErrorName(r));
			return WN_E_ZSTD;
		}
		in->zpos = ib.pos;
		in->end += ob.pos;
		if (ib.pos || ob.pos)
			in->zframe_open = r != 0;
		if (ob.pos)
			return 0;
		if (in->zpos == in->zlen && in->zeof && in->zframe_open) {
			snprintf(in->err, sizeof in->err, "zstd: input ends inside a frame (truncated file)");
			return WN_E_ZSTD;
		}
	}
}

/* ---- gzip, xz and bzip2, through libarchive's filters ---- */

enum { CODEC_NONE, CODEC_GZIP, CODEC_XZ, CODEC_BZIP2, CODEC_ZSTD };

static int sniff_codec(const uint8_t *p, size_t n)
{
	if (n >= 3 && p[0] == 0x1f && p[1] == 0x8b && p[2] == 8)
		return CODEC_GZIP;
	if (n >= 6 && !memcmp(p, "\xfd" "7zXZ\0", 6))
		return CODEC_XZ;
	if (n >= 4 && p[0] == 'B' && p[1] == 'Z' && p[2] == 'h' && p[3] >= '1' && p[3] <= '9')
		return CODEC_BZIP2;
	return CODEC_NONE;
}

/* A tar (the ustar or GNU magic at byte 257) or a zip (a local file header, or the end
 * record of an empty one) by its first bytes. */
static int sniff_archive(const uint8_t *p, size_t n)
{
	if (n >= 262 && !memcmp(p + 257, "ustar", 5))
		return 1;
	return n >= 4 && p[0] == 'P' && p[1] == 'K' && ((p[2] == 3 && p[3] == 4) || (p[2] == 5 && p[3] == 6));
}

const char *wn_input_codec(const wn_input *in)
{
	static const char *const name[] = { "", "gzip", "xz", "bzip2", "zstd" };
	return in->zst ? "zstd" : in->codec ? name[in->codec] : in->archive ? "archive" : "";
}

/* libarchive asks for compressed bytes: first those read while sniffing, then the fd's. */
static la_ssize_t filter_read(struct archive *a, void *ud, const void **buf)
{
	wn_input *in = *(wn_input **)ud;   /* the input may have moved since the open */
	(void)a;
	*buf = in->zin;
	if (in->zlen) {
		size_t n = in->zlen;
		in->zlen = 0;
		return (la_ssize_t)n;
	}
	size_t got = 0;
	int rc = read_raw(in, in->zin, CHUNK, &got);
	if (rc) {
		in->ar_rc = rc;
		archive_set_error(a, rc > 0 ? rc : EIO, "%s", rc > 0 ? strerror(rc) : wn_strerror(rc));
		return -1;
	}
	return (la_ssize_t)got;
}

/* The sniffed bytes in buf[0..end) move to zin, and the stream is read through the
 * filter as one "raw" entry (libarchive's name for a stream that is not an archive), or,
 * when what it holds is a tar or a zip, as that archive (in->archive), whose first
 * header is then read. Plain tar and zip come here too, with no filter. */
static int open_filter(wn_input *in)
{
	if (!(in->zin = malloc(CHUNK)) || !(in->ar_self = malloc(sizeof *in->ar_self)) || !(in->ar = archive_read_new()))
		return WN_E_NOMEM;
	*in->ar_self = in;
	memcpy(in->zin, in->buf, in->end);
	in->zlen = in->end;
	in->end = 0;
	in->eof = 0;
	struct archive_entry *e;
	if (archive_read_support_filter_gzip(in->ar) != ARCHIVE_OK ||
	    archive_read_support_filter_xz(in->ar) != ARCHIVE_OK ||
	    archive_read_support_filter_bzip2(in->ar) != ARCHIVE_OK ||
	    archive_read_support_filter_zstd(in->ar) != ARCHIVE_OK ||
	    archive_read_support_format_tar(in->ar) != ARCHIVE_OK ||
	    archive_read_support_format_zip_streamable(in->ar) != ARCHIVE_OK ||
	    archive_read_support_format_raw(in->ar) != ARCHIVE_OK ||
	    archive_read_open(in->ar, in->ar_self, NULL, filter_read, NULL) != ARCHIVE_OK) {
		snprintf(in->err, sizeof in->err, "%s: %s", wn_input_codec(in),
			in->ar_rc ? strerror(in->ar_rc) : archive_error_string(in->ar));
		return in->ar_rc ? in->ar_rc : WN_E_ZSTD;
	}
	int hr = archive_read_next_header(in->ar, &e);
	if (hr == ARCHIVE_EOF && (in->archive || (archive_format(in->ar) & ARCHIVE_FORMAT_BASE_MASK) != ARCHIVE_FORMAT_RAW)) {
		in->archive = 1;   /* an archive with no member */
		in->eof = 1;
		return 0;
	}
	if (hr != ARCHIVE_OK && hr != ARCHIVE_WARN) {
		const char *why = in->ar_rc ? strerror(in->ar_rc) : archive_error_string(in->ar);
		snprintf(in->err, sizeof in->err, "%s: %s", in->archive ? "archive" : wn_input_codec(in), why ? why : "read error");
		return in->ar_rc ? in->ar_rc : WN_E_ZSTD;
	}
	if ((archive_format(in->ar) & ARCHIVE_FORMAT_BASE_MASK) != ARCHIVE_FORMAT_RAW) {
		/* an archive: its identity's head hash is that of its first member's name and size */
		const char *nm = archive_entry_pathname(e);
		int64_t sz = archive_entry_size(e);
		XXH3_state_t *st = XXH3_createState();
		if (!st)
			return WN_E_NOMEM;
		XXH3_64bits_reset(st);
		if (nm)
			XXH3_64bits_update(st, nm, strlen(nm));
		XXH3_64bits_update(st, &sz, sizeof sz);
		in->head_hash = XXH3_64bits_digest(st);
		XXH3_freeState(st);
		in->archive = 1;
		in->hdr_ready = 1;
		in->entry = e;
		in->eof = 1;   /* its own bytes are not text */
		return 0;
	}
	if (in->archive || archive_filter_code(in->ar, 0) == ARCHIVE_FILTER_NONE) {
		/* the magic number, but a header libarchive does not take: not read as text */
		snprintf(in->err, sizeof in->err, "%s: its magic number, but not a valid header", wn_input_codec(in));
		return WN_E_ZSTD;
	}
	return 0;
}

int wn_input_open(wn_input *in, const char *path, size_t max_line, volatile const int *cancel)
{
	memset(in, 0, sizeof *in);
	in->fd = -1;
	in->max_line = max_line;
	in->cancel = cancel;
	in->name = strcmp(path, "-") ? path : "(stdin)";
	if (!strcmp(path, "-")) {
		in->fd = 0;
	} else {
		in->fd = open(path, O_RDONLY | O_CLOEXEC);
		if (in->fd < 0) {
			int e = errno;
			snprintf(in->err, sizeof in->err, "%s", strerror(e));
			return e;
		}
		in->own_fd = 1;
	}
	struct stat st;
	if (!fstat(in->fd, &st) && S_ISREG(st.st_mode)) {
		in->size = (uint64_t)st.st_size;
		in->dev = (uint64_t)st.st_dev;
		in->ino = (uint64_t)st.st_ino;
		in->regular = 1;
		posix_fadvise(in->fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	}
	in->cap = 4 * CHUNK;
	in->buf = malloc(in->cap);
	if (!in->buf)
		return WN_E_NOMEM;
	/* sniff: zstd frames start with 28 b5 2f fd. Read at most CHUNK bytes here: if the
	 * input is zstd, they move to the compressed-input buffer, which holds CHUNK. */
	int rc;
	while (in->end < 4 && !in->eof) {
		size_t got = 0;
		if ((rc = read_raw(in, in->buf + in->end, CHUNK - in->end, &got)))
			return rc;
		if (!got)
			in->eof = 1;
		in->end += got;
	}
	if (in->end >= 4 && (uint8_t)in->buf[0] == 0x28 && (uint8_t)in->buf[1] == 0xb5 &&
	    (uint8_t)in->buf[2] == 0x2f && (uint8_t)in->buf[3] == 0xfd) {
		in->zst = 1;
		in->dctx = ZSTD_createDCtx();
		in->zin = malloc(CHUNK);
		if (!in->dctx || !in->zin)
			return WN_E_NOMEM;
		memcpy(in->zin, in->buf, in->end);
		in->zlen = in->end;
		in->end = 0;
		in->eof = 0;
	} else if ((in->codec = sniff_codec((const uint8_t *)in->buf, in->end)) ||
		   (in->archive = sniff_archive((const uint8_t *)in->buf, in->end))) {
		if ((rc = open_filter(in)))
			return rc;
		if (in->archive)
			return 0;
	}
	while (in->end < HEAD_BYTES && !in->eof)
		if ((rc = fill(in)))
			return rc;
	if (in->zst && in->regular && sniff_archive((const uint8_t *)in->buf, in->end)) {
		/* a .tar.zst: read again from the start, as an archive through libarchive */
		ZSTD_freeDCtx(in->dctx);
		free(in->zin);
		in->dctx = NULL;
		in->zin = NULL;
		in->zst = 0;
		in->zpos = in->zlen = in->zeof = in->zframe_open = 0;
		in->start = in->end = 0;
		in->eof = 0;
		in->raw_read = 0;
		if (lseek(in->fd, 0, SEEK_SET) < 0)
			return errno;
		size_t got = 0;
		if ((rc = read_raw(in, in->buf, CHUNK, &got)))
			return rc;
		in->end = got;
		in->codec = CODEC_ZSTD;
		return open_filter(in);
	}
	in->head_hash = XXH3_64bits(in->buf, in->end < HEAD_BYTES ? in->end : HEAD_BYTES);
	return 0;
}

void wn_input_close(wn_input *in)
{
	if (in->own_fd && in->fd >= 0)
		close(in->fd);
	in->fd = -1;
	if (in->ar && !in->parent)
		archive_read_free(in->ar);
	in->ar = NULL;
	free(in->ar_self);
	in->ar_self = NULL;
	free(in->buf);
	free(in->zin);
	free(in->longhead);
	ZSTD_freeDCtx(in->dctx);
	in->buf = in->zin = in->longhead = NULL;
	in->dctx = NULL;
}

void wn_input_move(wn_input *to, wn_input *from)
{
	*to = *from;
	if (to->ar_self)
		*to->ar_self = to;
	memset(from, 0, sizeof *from);
	from->fd = -1;
}

int wn_input_skip_bom(wn_input *in)
{
	if (in->offset || in->end - in->start < 3 || memcmp(in->buf + in->start, "\xef\xbb\xbf", 3))
		return 0;
	in->start += 3;
	in->offset += 3;
	return 1;
}

/* ---- archive members ---- */

int wn_input_next_member(wn_input *a, const char **name, int *regular, int *more)
{
	struct archive_entry *e = a->entry;
	*more = 0;
	if (!a->archive || !a->ar)
		return 0;
	if (a->hdr_ready) {
		a->hdr_ready = 0;
	} else {
		if (cancelled(a))
			return WN_E_INTERRUPTED;
		int hr = archive_read_next_header(a->ar, &e);
		if (hr == ARCHIVE_EOF)
			return 0;
		if (hr != ARCHIVE_OK && hr != ARCHIVE_WARN) {
			const char *why = a->ar_rc ? strerror(a->ar_rc) : archive_error_string(a->ar);
			snprintf(a->err, sizeof a->err, "the archive is damaged or cut short: %s", why ? why : "read error");
			return a->ar_rc ? a->ar_rc : WN_E_ZSTD;
		}
		a->entry = e;
	}
	const char *nm = archive_entry_pathname(e);
	*name = nm ? nm : "";
	*regular = archive_entry_filetype(e) == AE_IFREG;
	*more = 1;
	return 0;
}

int wn_input_open_member(wn_input *m, wn_input *a, const char *name, size_t max_line)
{
	memset(m, 0, sizeof *m);
	m->fd = -1;
	m->name = name;
	m->max_line = max_line;
	m->cancel = a->cancel;
	m->parent = a;
	m->ar = a->ar;
	m->regular = a->regular;
	m->dev = a->dev;
	m->ino = a->ino;
	int64_t sz = a->entry ? archive_entry_size(a->entry) : 0;
	m->size = sz > 0 ? (uint64_t)sz : 0;
	m->cap = 4 * CHUNK;
	if (!(m->buf = malloc(m->cap)))
		return WN_E_NOMEM;
	int rc;
	while (m->end < HEAD_BYTES && !m->eof)
		if ((rc = fill(m)))
			return rc;
	const uint8_t *p = (const uint8_t *)m->buf;
	if (sniff_codec(p, m->end) || (m->end >= 4 && p[0] == 0x28 && p[1] == 0xb5 && p[2] == 0x2f && p[3] == 0xfd)) {
		snprintf(m->err, sizeof m->err, "a compressed member (%s): winnow reads the members of an archive that are "
			"not compressed themselves; extract it first", m->end >= 4 && p[0] == 0x28 ? "zstd" :
			(const char *[]){ "", "gzip", "xz", "bzip2" }[sniff_codec(p, m->end)]);
		return WN_E_USAGE;
	}
	m->head_hash = XXH3_64bits(m->buf, m->end < HEAD_BYTES ? m->end : HEAD_BYTES);
	return 0;
}

int wn_input_skip(wn_input *in, uint64_t bytes, uint64_t lines)
{
	while (bytes) {
		size_t have = in->end - in->start;
		if (!have) {
			in->start = in->end = 0;
			int rc = fill(in);
			if (rc)
				return rc;
			if (in->end == 0 && in->eof) {
				snprintf(in->err, sizeof in->err, "input is shorter than the %llu bytes an earlier run read",
					(unsigned long long)bytes);
				return WN_E_MISMATCH;
			}
			continue;
		}
		size_t n = have < bytes ? have : (size_t)bytes;
		in->start += n;
		bytes -= n;
		in->offset += n;
	}
	in->line = lines;
	return 0;
}

int wn_input_seek_skip(wn_input *in, uint64_t bytes, uint64_t lines)
{
	size_t buffered = in->end - in->start;
	/* a plain file read by lines from its start: the bytes not buffered are passed over by
	 * seeking, not read (a map task of the scale-out starts in the middle of a large file) */
	if (bytes > buffered && in->regular && !in->zst && !in->codec && !in->ar && !in->parent && !in->archive &&
	    in->raw_read == in->offset + buffered) {
		uint64_t at = in->raw_read + (bytes - buffered);
		if (at > in->size) {
			snprintf(in->err, sizeof in->err, "input is shorter than the %llu bytes an earlier run read",
				(unsigned long long)(in->offset + bytes));
			return WN_E_MISMATCH;
		}
		if (lseek(in->fd, (off_t)at, SEEK_SET) < 0)
			return errno;
		in->offset += bytes;
		in->raw_read = at;
		in->start = in->end = 0;
		in->line = lines;
		return 0;
	}
	return wn_input_skip(in, bytes, lines);
}

/* Hand out the l bytes at start as the next line; `term` bytes of terminator follow. */
static int give_line(wn_input *in, size_t l, size_t term, const char **line, size_t *len, int *toolong)
{
	*line = in->buf + in->start;
	in->start += l + term;
	in->offset += l + term;
	in->line++;
	if (l && (*line)[l - 1] == '\r')
		l--;
	if (l > in->max_line) {
		*toolong = 1;
		in->toolong_len = l;
		l = in->max_line < 4096 ? in->max_line : 4096;
	}
	*len = l;
	return 1;
}

static int take_line(wn_input *in, const char *nl, const char **line, size_t *len, int *toolong)
{
	return give_line(in, (size_t)(nl - (in->buf + in->start)), 1, line, len, toolong);
}

int wn_input_line_nomove(wn_input *in, const char **line, size_t *len, int *toolong)
{
	*toolong = 0;
	const char *nl = memchr(in->buf + in->start, '\n', in->end - in->start);
	return nl ? take_line(in, nl, line, len, toolong) : 2;
}

int wn_input_line(wn_input *in, const char **line, size_t *len, int *toolong)
{
	*toolong = 0;
	size_t scan_from = in->start;
	for (;;) {
		char *nl = memchr(in->buf + scan_from, '\n', in->end - scan_from);
		if (nl)
			return take_line(in, nl, line, len, toolong);
		if (in->eof) {
			if (in->start == in->end)
				return 0;
			/* a last line without a terminator */
			return give_line(in, in->end - in->start, 0, line, len, toolong);
		}
		size_t have = in->end - in->start;
		if (have > in->max_line + 1) {
			/* too long: keep the head for the rejects file, drop the rest up to '\n' */
			return wn_input_longline(in, line, len, toolong);
		}
		if (in->start) {
			memmove(in->buf, in->buf + in->start, have);
			in->start = 0;
			in->end = have;
		}
		if (in->end == in->cap) {
			size_t cap = in->cap * 2;
			char *b = realloc(in->buf, cap);
			if (!b)
				return WN_E_NOMEM;
			in->buf = b;
			in->cap = cap;
		}
		scan_from = in->end;
		int rc = fill(in);
		if (rc)
			return rc;
	}
}

/* The line at buf[start..] has no '\n' within max_line+1 bytes. Return its first
 * max_line bytes (kept in a side buffer) and consume up to and including the '\n'. */
int wn_input_longline(wn_input *in, const char **line, size_t *len, int *toolong)
{
	size_t keep = in->max_line < 4096 ? in->max_line : 4096;
	free(in->longhead);
	in->longhead = malloc(keep ? keep : 1);
	if (!in->longhead)
		return WN_E_NOMEM;
	memcpy(in->longhead, in->buf + in->start, keep);
	uint64_t total = 0;
	for (;;) {
		char *nl = memchr(in->buf + in->start, '\n', in->end - in->start);
		if (nl) {
			size_t l = (size_t)(nl - (in->buf + in->start));
			total += l;
			in->start += l + 1;
			in->offset += l + 1;
			break;
		}
		size_t l = in->end - in->start;
		total += l;
		in->offset += l;
		in->start = in->end = 0;
		if (in->eof)
			break;
		int rc = fill(in);
		if (rc)
			return rc;
		if (in->end == 0 && in->eof)
			break;
	}
	in->line++;
	in->toolong_len = total;
	*line = in->longhead;
	*len = keep;
	*toolong = 1;
	return 1;
}

int wn_input_read(wn_input *in, char *dst, size_t cap, size_t *got)
{
	*got = 0;
	if (in->start == in->end) {
		in->start = in->end = 0;
		int rc = fill(in);
		if (rc)
			return rc;
	}
	size_t n = in->end - in->start;
	if (n > cap)
		n = cap;
	memcpy(dst, in->buf + in->start, n);
	in->start += n;
	in->offset += n;
	*got = n;
	return 0;
}
