/*
 * fuzz_index.c - libFuzzer target for the values of the index as winnow reads them from
 * LMDB (lib/catalog.c rows, lib/lsm_run.c blocks): a files row, a frames row, a block of
 * the id map, a block of a pair map (fp, isrc).
 *
 * Input: a flags byte, a key length byte, the key, the value. Flag 0x80 seals the value
 * with its checksum first, so the decoders behind the checksum are reached too (a
 * damaged index never gets there; a crafted one might). Whatever the bytes: an unsealed
 * value that is not exactly what the packer writes is refused as damage with a message
 * naming winnow reindex; a files row must also name the file of its key (role, kind of
 * the catalog's table, number); a value that is accepted decodes without reading outside
 * it, and a row packed again from what was decoded decodes to the same fields.
 */
#include "fuzz.h"
#include "internal.h"
#include "lsm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static wn_catalog c;
	if (size < 2 || (size_t)data[1] + 2 > size)
		return 0;
	c.dir = "CATALOG";
	c.err[0] = 0;
	if (!c.kinds.n)
		wn_kinds_init(&c.kinds);
	uint8_t flags = data[0];
	size_t kl = data[1], vl = size - 2 - kl;
	uint8_t *key = malloc(kl ? kl : 1), *val = malloc(vl ? vl : 1);
	FUZZ_ASSERT(key && val);
	memcpy(key, data + 2, kl);
	memcpy(val, data + 2 + kl, vl);
	if ((flags & 0x80) && vl >= WN_SUM_BYTES)
		wn_sum_seal(key, kl, val, vl - WN_SUM_BYTES);
	MDB_val k = { kl, key }, v = { vl, val };
	int rc;
	switch (flags & 3) {
	case 0: {
		wn_fileinfo a, b;
		memset(&a, 0, sizeof a);
		memset(&b, 0, sizeof b);
		if ((rc = wn_file_row(&c, &k, &v, &a)))
			break;
		FUZZ_ASSERT(vl == WN_FILEINFO_BYTES && wn_sum_ok(key, kl, val, vl));
		/* an accepted row is the row of the file its key names */
		uint8_t again[WN_FILEINFO_BYTES];
		char rel[128];
		wn_file_relpath(rel, sizeof rel, a.role, wn_catalog_kind_name(&c, a.kind), a.seq);
		FUZZ_ASSERT(strlen(rel) == kl && !memcmp(rel, key, kl));
		wn_fileinfo_pack(again, &a, rel);
		wn_fileinfo_unpack(&b, again);
		FUZZ_ASSERT(!memcmp(&a, &b, sizeof a));
		break;
	}
	case 1: {
		wn_frameinfo a, b;
		memset(&a, 0, sizeof a);
		memset(&b, 0, sizeof b);
		if ((rc = wn_frame_row(&c, &k, &v, &a)))
			break;
		FUZZ_ASSERT(vl == WN_FRAMEINFO_BYTES && kl == 8);
		uint8_t again[WN_FRAMEINFO_BYTES];
		wn_frameinfo_pack(again, &a);
		wn_frameinfo_unpack(&b, again);
		FUZZ_ASSERT(!memcmp(&a, &b, sizeof a));
		break;
	}
	default: {
		size_t es = (flags & 3) == 2 ? WN_ID_ENTRY : WN_PAIR_ENTRY;
		const uint8_t *b;
		size_t n;
		if ((rc = wn_block_entries(&c, es, &k, &v, &b, &n)))
			break;
		FUZZ_ASSERT(n && b == val && n * es + WN_SUM_BYTES == vl);
		/* look up the first entry's hash, as a reader would (entries may be unsorted) */
		uint64_t h = wn_get_be64(b);
		if (es == WN_ID_ENTRY) {
			wn_idrec r;
			(void)wn_block_find_id(b, n, h, (uint16_t)(b[8] << 8 | b[9]), &r);
		} else {
			size_t hits = 0;
			for (size_t i = 0; i < n; i++)
				hits += wn_get_be64(b + i * es) == h && wn_get_be40(b + i * es + 8) <= 0xffffffffffull;
			FUZZ_ASSERT(hits >= 1);
		}
		break;
	}
	}
	if (rc) {
		FUZZ_ASSERT(rc == WN_E_CORRUPT && strstr(c.err, "winnow reindex"));
		/* a sealed value is refused for its size, or (a files row) for naming another file */
		FUZZ_ASSERT(!(flags & 0x80) || vl < WN_SUM_BYTES || strstr(c.err, "bytes") ||
			((flags & 3) == 0 && strstr(c.err, " says role ")));
	}
	free(key);
	free(val);
	return 0;
}
