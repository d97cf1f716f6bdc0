/*
 * seekable.c - the zstd side of a shard: independent frames with content checksums, and
 * the seek table of zstd's seekable format (contrib/seekable_format in the zstd sources)
 * that ends every sealed file.
 *
 * A frame is compressed with the content size written in its header and the content
 * checksum (XXH64, low 32 bits) on: the library default is off, but without it a flipped
 * bit inside a literal section can decode to wrong bytes without any error. The seek
 * table is a skippable frame, so stock `zstd -d` and `zstd -t` read a shard as plain
 * concatenated frames and ignore it:
 *
 *   u32le 0x184D2A5E | u32le size of what follows
 *   nframes x { u32le compressed size, u32le decompressed size, u32le checksum }
 *   u32le nframes | u8 descriptor (0x80: checksums present) | u32le 0x8F92EAB1
 */
#include "internal.h"

#include <errno.h>
#include <stdlib.h>

size_t wn_seektable_size(uint32_t nframes)
{
	return 8 + (size_t)nframes * WN_SEEK_ENTRY + WN_SEEK_FOOTER;
}

void wn_seektable_write(uint8_t *dst, const wn_seekent *e, uint32_t n)
{
	wn_put_le32(dst, WN_SKIPPABLE_SEEK);
	wn_put_le32(dst + 4, (uint32_t)(wn_seektable_size(n) - 8));
	uint8_t *p = dst + 8;
	for (uint32_t i = 0; i < n; i++, p += WN_SEEK_ENTRY) {
		wn_put_le32(p, e[i].csize);
		wn_put_le32(p + 4, e[i].dsize);
		wn_put_le32(p + 8, e[i].checksum);
	}
	wn_put_le32(p, n);
	p[4] = 0x80;
	wn_put_le32(p + 5, WN_SEEK_MAGIC);
}

int wn_seektable_read(int fd, uint64_t fsize, wn_seekent **out, uint32_t *n, uint64_t *table_bytes,
	char *err, size_t errlen)
{
	uint8_t foot[WN_SEEK_FOOTER];
	*out = NULL;
	*n = 0;
	if (fsize < 8 + WN_SEEK_FOOTER) {
		snprintf(err, errlen, "file too short for a seek table (%llu bytes)", (unsigned long long)fsize);
		return WN_E_CORRUPT;
	}
	int rc = wn_pread_all(fd, foot, sizeof foot, fsize - WN_SEEK_FOOTER);
	if (rc)
		return rc;
	if (wn_get_le32(foot + 5) != WN_SEEK_MAGIC) {
		snprintf(err, errlen, "no seek table: last 4 bytes are not the seekable magic number");
		return WN_E_CORRUPT;
	}
	uint32_t nf = wn_get_le32(foot);
	int has_ck = (foot[4] & 0x80) != 0;
	if (foot[4] & 0x7C) {
		snprintf(err, errlen, "seek table descriptor has reserved bits set (0x%02x)", foot[4]);
		return WN_E_CORRUPT;
	}
	size_t esz = has_ck ? 12 : 8;
	uint64_t tsize = 8 + (uint64_t)nf * esz + WN_SEEK_FOOTER;
	if (nf > 0x8000000u || tsize > fsize) {
		snprintf(err, errlen, "seek table claims %u frames, more than the file can hold", nf);
		return WN_E_CORRUPT;
	}
	uint8_t *buf = malloc(tsize);
	wn_seekent *e = calloc(nf ? nf : 1, sizeof *e);
	if (!buf || !e) {
		free(buf);
		free(e);
		return WN_E_NOMEM;
	}
	rc = wn_pread_all(fd, buf, tsize, fsize - tsize);
	if (rc)
		goto fail;
	if (wn_get_le32(buf) != WN_SKIPPABLE_SEEK || wn_get_le32(buf + 4) != tsize - 8) {
		snprintf(err, errlen, "seek table skippable-frame header is wrong");
		rc = WN_E_CORRUPT;
		goto fail;
	}
	for (uint32_t i = 0; i < nf; i++) {
		const uint8_t *p = buf + 8 + (size_t)i * esz;
		e[i].csize = wn_get_le32(p);
		e[i].dsize = wn_get_le32(p + 4);
		e[i].checksum = has_ck ? wn_get_le32(p + 8) : 0;
	}
	free(buf);
	*out = e;
	*n = nf;
	if (table_bytes)
		*table_bytes = tsize;
	return 0;
fail:
	free(buf);
	free(e);
	return rc;
}
