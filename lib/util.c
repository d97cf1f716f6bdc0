/*
 * util.c - the small things every other file needs: error text, growable buffers,
 * JSON string output, hex both ways, UTF-8 output, whole-buffer I/O that survives EINTR and short writes,
 * opening the files of a catalog (never through a link, never a FIFO or a device), and
 * durable file replacement (tmp, fsync, rename, fsync of the folder).
 */
#include "internal.h"
#include "encoding.h"   /* wn_utf8_seq */

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <xxhash.h>

const char *wn_strerror(int code)
{
	switch (code) {
	case WN_OK: return "success";
	case WN_E_USAGE: return "invalid argument";
	case WN_E_NOMEM: return "out of memory";
	case WN_E_CORRUPT: return "catalog is damaged";
	case WN_E_VERSION: return "catalog format version not supported";
	case WN_E_LMDB: return "index error";
	case WN_E_ZSTD: return "compression error";
	case WN_E_INTERRUPTED: return "interrupted";
	case WN_E_NOTFOUND: return "not found";
	case WN_E_BUSY: return "catalog is locked by another writer";
	case WN_E_MISMATCH: return "options conflict with the catalog";
	case WN_E_REJECTED: return "record rejected";
	case WN_E_MISSING: return "a data file is missing";
	case WN_E_STALE: return "the clusters are not current";
	case WN_E_PARSE: return "malformed JSON";
	case WN_E_UTF8: return "invalid UTF-8";
	case WN_E_DEPTH: return "nesting too deep";
	case WN_E_DUPKEY: return "duplicate object key";
	case WN_E_NOTOBJECT: return "record is not a JSON object";
	case WN_E_NOID: return "missing id";
	case WN_E_TOOLONG: return "line too long";
	case WN_E_EMPTY: return "empty line";
	case WN_E_ROW: return "row does not fit the header";
	case WN_E_EXCLUDED: return "excluded by the profile";
	}
	if (code > 0)
		return strerror(code);
	return "unknown error";
}

/* Grow *pp to at least need elements of size bytes, doubling from first. New slots of a
 * typed array are zeroed when zero is set (WN_GROW's callers rely on it); a byte buffer's
 * are not, because only its first len bytes are ever read, and zeroing a frame-sized
 * buffer would touch every page of it (a get decodes on average half a frame). */
static int grow(void *pp, size_t *cap, size_t need, size_t size, size_t first, int zero)
{
	size_t c = *cap ? *cap : first;
	while (c < need)
		c *= 2;
	if (c > SIZE_MAX / size)
		return WN_E_NOMEM;
	void *p;
	memcpy(&p, pp, sizeof p);   /* pp is the address of any object pointer */
	if (!(p = realloc(p, c * size)))
		return WN_E_NOMEM;
	if (zero)
		memset((char *)p + *cap * size, 0, (c - *cap) * size);
	memcpy(pp, &p, sizeof p);
	*cap = c;
	return 0;
}

int wn_grow(void *pp, size_t *cap, size_t need, size_t size, size_t first)
{
	return grow(pp, cap, need, size, first, 1);
}

int wn_buf_reserve(wn_buf *b, size_t extra)
{
	return b->len + extra <= b->cap ? 0 : grow(&b->p, &b->cap, b->len + extra, 1, 256, 0);
}

int wn_buf_put(wn_buf *b, const void *p, size_t n)
{
	if (wn_buf_reserve(b, n + 1))
		return WN_E_NOMEM;
	memcpy(b->p + b->len, p, n);
	b->len += n;
	b->p[b->len] = 0;
	return 0;
}

int wn_buf_puts(wn_buf *b, const char *s)
{
	return wn_buf_put(b, s, strlen(s));
}

int wn_buf_put_u64(wn_buf *b, uint64_t v)
{
	char t[20];
	size_t n = 0;
	do {
		t[sizeof t - ++n] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	return wn_buf_put(b, t + sizeof t - n, n);
}

int wn_buf_printf(wn_buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || wn_buf_reserve(b, (size_t)n + 1))
		return WN_E_NOMEM;
	va_start(ap, fmt);
	vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return 0;
}

/* ---- JSON strings: the library's one escaper (declared in json.h) ---- */

size_t wn_json_quote(char *out, const char *s, size_t n)
{
	out[0] = '"';
	size_t l = 1 + wn_json_escape(out + 1, s, n);
	out[l] = '"';
	return l + 1;
}

/* Does any of the 8 bytes in x need a look: '"', '\\', a byte below 0x20, or 0xed (which
 * may start a lone surrogate)? The test may also flag a byte next to one that does (the
 * borrow of the subtraction), never miss one: a flagged block is done byte by byte. */
static inline int block_special(uint64_t x)
{
	const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
	uint64_t q = x ^ (ones * '"'), b = x ^ (ones * '\\'), d = x ^ (ones * 0xed);
	return (((q - ones) & ~q) | ((b - ones) & ~b) | ((d - ones) & ~d) | ((x - ones * 0x20) & ~x)) & highs ? 1 : 0;
}

size_t wn_json_escape(char *out, const char *str, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	const uint8_t *s = (const uint8_t *)str;
	char *o = out;
	size_t i = 0;

	while (i < n) {
		/* the bytes that need nothing, 8 at a time (most text is all of them) */
		while (n - i >= 8) {
			uint64_t x;
			memcpy(&x, s + i, 8);
			if (block_special(x))
				break;
			memcpy(o, s + i, 8);
			o += 8;
			i += 8;
		}
		if (i == n)
			break;
		uint8_t c = s[i];
		unsigned cp = c;

		if (c >= 0x20 && c != '"' && c != '\\') {
			if (c != 0xed || i + 2 >= n || s[i + 1] < 0xa0 || s[i + 1] > 0xbf) {
				*o++ = (char)c;
				i++;
				continue;
			}
			/* A lone surrogate, as wn_json_record() decodes a \uXXXX escape that
			 * is not part of a pair: write the escape back, so that the output is
			 * valid UTF-8 and reads back to the same bytes. */
			cp = 0xd000u | (unsigned)(s[i + 1] & 0x3f) << 6 | (s[i + 2] & 0x3fu);
			i += 2;
		}
		i++;
		*o++ = '\\';
		switch (cp) {
		case '"': *o++ = '"'; continue;
		case '\\': *o++ = '\\'; continue;
		case '\b': *o++ = 'b'; continue;
		case '\f': *o++ = 'f'; continue;
		case '\n': *o++ = 'n'; continue;
		case '\r': *o++ = 'r'; continue;
		case '\t': *o++ = 't'; continue;
		}
		*o++ = 'u';
		*o++ = hex[cp >> 12 & 0xf];
		*o++ = hex[cp >> 8 & 0xf];
		*o++ = hex[cp >> 4 & 0xf];
		*o++ = hex[cp & 0xf];
	}
	return (size_t)(o - out);
}

/* Appends s[0..n) escaped for the inside of a JSON string (wn_json_escape). */
static int json_escape(wn_buf *b, const char *s, size_t n)
{
	if (wn_buf_reserve(b, n * 6 + 1))
		return WN_E_NOMEM;
	b->len += wn_json_escape(b->p + b->len, s, n);
	b->p[b->len] = 0;
	return 0;
}

int wn_buf_json_str(wn_buf *b, const char *s, size_t n)
{
	if (wn_buf_put(b, "\"", 1) || json_escape(b, s, n) || wn_buf_put(b, "\"", 1))
		return WN_E_NOMEM;
	return 0;
}

/* Length of the UTF-8 sequence at s (ASCII: 1), or 0 if it is not well-formed
 * (wn_utf8_seq, encoding.h: the one check). */
static inline size_t utf8_seq(const unsigned char *s, size_t n)
{
	return s[0] < 0x80 ? 1 : wn_utf8_seq(s, n);
}

int wn_utf8_valid(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;
	while (i < n) {
		if (p[i] < 0x80) { i++; continue; }
		size_t l = utf8_seq(p + i, n - i);
		if (!l)
			return 0;
		i += l;
	}
	return 1;
}

/* Like wn_buf_json_str, but a byte that does not start a valid UTF-8 sequence is
 * written as \u00XX (so the text is readable, though no longer byte-exact: callers
 * that must keep bytes exact store them in base64 beside it). */
int wn_buf_json_bytes(wn_buf *b, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	if (wn_buf_put(b, "\"", 1))
		return WN_E_NOMEM;
	size_t i = 0;
	while (i < n) {
		size_t j = i;
		while (j < n) {   /* longest run json_escape writes back exactly */
			size_t l = utf8_seq(p + j, n - j);
			/* a lone surrogate as the parser decodes \uD800: json_escape writes its escape */
			if (!l && p[j] == 0xed && n - j >= 3 && p[j + 1] >= 0xa0 && p[j + 1] <= 0xbf && (p[j + 2] & 0xc0) == 0x80)
				l = 3;
			if (!l)
				break;
			j += l;
		}
		if (json_escape(b, s + i, j - i))
			return WN_E_NOMEM;
		if (j < n && wn_buf_printf(b, "\\u%04x", p[j]))
			return WN_E_NOMEM;
		i = j + 1;
	}
	return wn_buf_put(b, "\"", 1);
}

void wn_buf_free(wn_buf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}

int wn_hexval(int ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

int wn_unhex(uint8_t *out, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int a = wn_hexval((unsigned char)s[2 * i]), b = wn_hexval((unsigned char)s[2 * i + 1]);
		if (a < 0 || b < 0)
			return -1;
		out[i] = (uint8_t)(a << 4 | b);
	}
	return 0;
}

size_t wn_utf8_put(char *o, uint32_t cp)
{
	if (cp < 0x80) {
		o[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (char)(0xC0 | cp >> 6);
		o[1] = (char)(0x80 | (cp & 0x3F));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (char)(0xE0 | cp >> 12);
		o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
		o[2] = (char)(0x80 | (cp & 0x3F));
		return 3;
	}
	o[0] = (char)(0xF0 | cp >> 18);
	o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
	o[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
	o[3] = (char)(0x80 | (cp & 0x3F));
	return 4;
}

void wn_hex(char *out, const uint8_t *p, size_t n)
{
	static const char d[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = d[p[i] >> 4];
		out[2 * i + 1] = d[p[i] & 15];
	}
	out[2 * n] = 0;
}

int wn_write_all(int fd, const void *p, size_t n)
{
	const char *c = p;
	while (n) {
		ssize_t w = write(fd, c, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return errno;
		}
		c += w;
		n -= (size_t)w;
	}
	return 0;
}

int wn_pread_all(int fd, void *p, size_t n, uint64_t off)
{
	char *c = p;
	while (n) {
		ssize_t r = pread(fd, c, n, (off_t)off);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return errno;
		}
		if (r == 0)
			return WN_E_CORRUPT;
		c += r;
		n -= (size_t)r;
		off += (uint64_t)r;
	}
	return 0;
}

/* ---- files inside a folder: never through a link, never anything but a file ----
 *
 * Everything winnow writes or reads inside a catalog (or a bare folder of its files) is
 * opened here: a symbolic link planted in the folder must not make a writer truncate or
 * rewrite a file elsewhere, nor a reader hand out bytes from outside; a FIFO must not
 * make a reader wait for ever, nor a device be opened at all. So each component of the
 * path is opened from the one before with O_NOFOLLOW; the last is looked at (fstatat,
 * not following) before it is opened, opened with O_NONBLOCK (a FIFO put there since
 * cannot block), looked at again (fstat), and only then is O_NONBLOCK cleared. */

/* Of a component that O_NOFOLLOW refused or that is not a folder: what it is. */
static int refusal(int dirfd, const char *name, int e)
{
	struct stat st;
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW))
		return -e;
	return S_ISLNK(st.st_mode) ? WN_OPEN_SYMLINK : e == ENOTDIR || e == ELOOP ? WN_OPEN_NOTREG : -e;
}

int wn_open_in(int dirfd, const char *rel, int flags, mode_t mode)
{
	char comp[256];
	int cur = dirfd, rc = 0, want_dir = (flags & O_DIRECTORY) != 0;
	const char *p = rel;
	if (!*rel || *rel == '/')
		return WN_OPEN_OUTSIDE;
	for (;;) {
		const char *sl = strchr(p, '/');
		size_t n = sl ? (size_t)(sl - p) : strlen(p);
		if (n >= sizeof comp) {
			rc = -ENAMETOOLONG;
			goto out;
		}
		if (!n || (n == 2 && p[0] == '.' && p[1] == '.')) {
			rc = WN_OPEN_OUTSIDE;
			goto out;
		}
		memcpy(comp, p, n);
		comp[n] = 0;
		if (!sl)
			break;
		int next = openat(cur, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (next < 0) {
			rc = refusal(cur, comp, errno);
			goto out;
		}
		if (cur != dirfd)
			close(cur);
		cur = next;
		p = sl + 1;
	}
	struct stat st;
	if (!fstatat(cur, comp, &st, AT_SYMLINK_NOFOLLOW)) {
		if (S_ISLNK(st.st_mode))
			rc = WN_OPEN_SYMLINK;
		else if (want_dir ? !S_ISDIR(st.st_mode) : !S_ISREG(st.st_mode))
			rc = WN_OPEN_NOTREG;
	} else if (errno != ENOENT || !(flags & O_CREAT)) {
		rc = -errno;
	}
	if (rc)
		goto out;
	int fd = openat(cur, comp, flags | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, mode);
	if (fd < 0) {
		rc = errno == ELOOP ? WN_OPEN_SYMLINK : -errno;
		goto out;
	}
	if (fstat(fd, &st))
		rc = -errno;
	else if (want_dir ? !S_ISDIR(st.st_mode) : !S_ISREG(st.st_mode))
		rc = WN_OPEN_NOTREG;   /* it was replaced between the two looks */
	else if (!(flags & O_NONBLOCK) && fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK))
		rc = -errno;
	if (rc) {
		close(fd);
		goto out;
	}
	rc = fd;
out:
	if (cur != dirfd)
		close(cur);
	return rc;
}

int wn_open_code(int code)
{
	return code <= WN_OPEN_SYMLINK ? WN_E_CORRUPT : code < 0 ? -code : code;
}

const char *wn_open_why(int code)
{
	switch (code) {
	case WN_OPEN_SYMLINK: return "a symbolic link (not followed: winnow opens only the files it wrote)";
	case WN_OPEN_NOTREG: return "not a regular file";
	case WN_OPEN_OUTSIDE: return "the path leaves the folder";
	}
	return strerror(code < 0 ? -code : code);
}

int wn_open_path(const char *path, int flags, mode_t mode)
{
	const char *sl = strrchr(path, '/');
	if (!sl)
		return wn_open_in(AT_FDCWD, path, flags, mode);
	char dir[4096];
	size_t dl = sl == path ? 1 : (size_t)(sl - path);
	if (dl >= sizeof dir)
		return -ENAMETOOLONG;
	memcpy(dir, path, dl);
	dir[dl] = 0;
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return -errno;
	int fd = wn_open_in(dfd, sl + 1, flags, mode);
	close(dfd);
	return fd;
}

int wn_fsync_in(int dirfd, const char *rel)
{
	int fd = rel ? wn_open_in(dirfd, rel, O_RDONLY | O_DIRECTORY, 0) : dirfd;
	if (fd < 0)
		return fd;
	int rc = fsync(fd) ? -errno : 0;
	if (fd != dirfd)
		close(fd);
	return rc;
}

int wn_write_file_atomic(int dirfd, const char *name, const void *p, size_t n)
{
	char tmp[4096];
	if (strchr(name, '/') || snprintf(tmp, sizeof tmp, "%s.tmp", name) >= (int)sizeof tmp)
		return WN_OPEN_OUTSIDE;
	/* a stale tmp of a crash (or a link planted in its place) goes first: it is never opened */
	if (unlinkat(dirfd, tmp, 0) && errno != ENOENT)
		return -errno;
	int fd = wn_open_in(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL, 0644);
	if (fd < 0)
		return fd;
	int rc = wn_write_all(fd, p, n);
	if (!rc && fsync(fd))
		rc = errno;
	if (close(fd) && !rc)
		rc = errno;
	if (!rc && renameat(dirfd, tmp, dirfd, name))
		rc = errno;
	if (rc) {
		unlinkat(dirfd, tmp, 0);
		return -rc;
	}
	return wn_fsync_in(dirfd, NULL);
}

int wn_read_text(const char *path, wn_buf *b, uint64_t max)
{
	int fd = wn_open_path(path, O_RDONLY, 0);   /* no link, no FIFO: a regular file */
	if (fd < 0)
		return fd <= WN_OPEN_SYMLINK ? fd : -fd;
	struct stat st;
	if (fstat(fd, &st)) {
		int e = errno;
		close(fd);
		return e;
	}
	if ((uint64_t)st.st_size > max) {
		close(fd);
		return EFBIG;
	}
	b->len = 0;
	if (wn_buf_reserve(b, (size_t)st.st_size + 1)) {
		close(fd);
		return ENOMEM;
	}
	for (;;) {
		if (wn_buf_reserve(b, 65536)) {
			close(fd);
			return ENOMEM;
		}
		ssize_t r = read(fd, b->p + b->len, b->cap - b->len - 1);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			int e = errno;
			close(fd);
			return e;
		}
		if (!r)
			break;
		b->len += (size_t)r;
		if (b->len > max) {
			close(fd);
			return EFBIG;
		}
	}
	close(fd);
	b->p[b->len] = 0;
	return 0;
}

int wn_mkdir_p(const char *path)
{
	char buf[4096];
	snprintf(buf, sizeof buf, "%s", path);
	for (char *s = buf + 1; *s; s++) {
		if (*s == '/') {
			*s = 0;
			if (mkdir(buf, 0755) && errno != EEXIST)
				return errno;
			*s = '/';
		}
	}
	if (mkdir(buf, 0755) && errno != EEXIST)
		return errno;
	return 0;
}

double wn_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}


int wn_ncores(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	return n < 1 ? 1 : (int)n;
}

/* Large buffers: anonymous mappings with transparent huge pages requested. On virtual
 * machines the first touch of a 4 KiB page can cost ~10 us; 2 MiB pages cut the number
 * of faults 512-fold. Allocate once, reuse, free at the end. */
void *wn_big_alloc(size_t n)
{
	void *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
#ifdef MADV_HUGEPAGE
	madvise(p, n, MADV_HUGEPAGE);
#endif
	return p;
}

void *wn_big_realloc(void *p, size_t old, size_t n)
{
	if (!p)
		return wn_big_alloc(n);
	void *q = mremap(p, old, n, MREMAP_MAYMOVE);
	if (q == MAP_FAILED)
		return NULL;
#ifdef MADV_HUGEPAGE
	madvise(q, n, MADV_HUGEPAGE);
#endif
	return q;
}

void wn_thread_stop(const pthread_t *th, int n, pthread_mutex_t *mu, pthread_cond_t *cv, int *flag)
{
	pthread_mutex_lock(mu);
	*flag = 1;
	pthread_cond_broadcast(cv);
	pthread_mutex_unlock(mu);
	for (int i = 0; i < n; i++)
		pthread_join(th[i], NULL);
}

void wn_big_free(void *p, size_t n)
{
	if (p)
		munmap(p, n);
}

/* ---- the kinds table (internal.h) ----
 * The table is meta "kinds": the names in number order, each followed by '\n'. A catalog
 * without it has the built-in two (every catalog written before kinds had names). */

static const char *const builtin_kinds[WN_NBUILTIN_KINDS] = { "track", "artist" };

int wn_kind_name_ok(const char *s, size_t n)
{
	if (!s || !n || n > WN_KIND_NAME_MAX || s[0] < 'a' || s[0] > 'z')
		return 0;
	for (size_t i = 1; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			return 0;
	return 1;
}

int wn_kind_valid(const char *name)
{
	return name && wn_kind_name_ok(name, strlen(name));
}

void wn_kinds_init(wn_kinds *t)
{
	memset(t, 0, sizeof *t);
	for (int k = 0; k < WN_NBUILTIN_KINDS; k++)
		strcpy(t->name[k], builtin_kinds[k]);
	t->n = WN_NBUILTIN_KINDS;
}

int wn_kinds_find(const wn_kinds *t, const char *s, size_t n)
{
	for (int k = 0; k < t->n; k++)
		if (strlen(t->name[k]) == n && !memcmp(t->name[k], s, n))
			return k;
	return -1;
}

int wn_kinds_add(wn_kinds *t, const char *s, size_t n)
{
	if (!wn_kind_name_ok(s, n))
		return WN_KINDS_BAD;
	int k = wn_kinds_find(t, s, n);
	if (k >= 0)
		return k;
	if (t->n >= WN_KINDS_MAX)
		return WN_KINDS_FULL;
	memcpy(t->name[t->n], s, n);
	t->name[t->n][n] = 0;
	return t->n++;
}

const char *wn_kinds_name(const wn_kinds *t, int k)
{
	return k >= 0 && k < t->n ? t->name[k] : "?";
}

int wn_kind_file_name(const char *name, size_t *kind_len, uint32_t *seq)
{
	const char *dash = strchr(name, '-');
	if (!dash || !wn_kind_name_ok(name, (size_t)(dash - name)))
		return -1;
	const char *d = dash + 1, *e = d;
	uint64_t v = 0;
	while (*e >= '0' && *e <= '9' && e - d < 11)
		v = v * 10 + (uint64_t)(*e++ - '0');
	if (e - d < 6 || strcmp(e, ".jsonl.zst") || v == 0 || v > UINT32_MAX)
		return -1;
	*kind_len = (size_t)(dash - name);
	*seq = (uint32_t)v;
	return 0;
}
