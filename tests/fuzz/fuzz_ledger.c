/*
 * fuzz_ledger.c - libFuzzer target for lib/ledger.c: ledger and reject entries as
 * verify and every later reader decode them.
 *
 * The first byte picks the decoder (ledger HEAD, ledger ALL, reject); the rest is the
 * line. Whatever the line, decoding must not crash or read outside it. An entry that
 * decodes must survive a round trip: encoded again and decoded, it gives the same
 * fields (so what a reader takes from a ledger is what a writer would have written).
 */
#include "fuzz.h"
#include "internal.h"
#include "ledger.h"

#define SAME(a, al, b, bl) ((al) == (bl) && (!(al) || !memcmp((a), (b), (al))))

static void ledger(const char *line, size_t n, int what, wn_buf *s1, wn_buf *s2, wn_buf *out)
{
	wn_ledger_entry a, b;
	if (wn_ledger_decode(line, n, what, &a, s1))
		return;
	FUZZ_ASSERT(a.input_json && a.input_json >= line && a.input_json + a.input_json_len <= line + n);
	FUZZ_ASSERT(a.id_json && a.id_json >= line && a.id_json + a.id_json_len <= line + n);
	if (what == WN_LEDGER_HEAD)
		return;
	out->len = 0;
	FUZZ_ASSERT(!wn_ledger_encode(&a, out));
	FUZZ_ASSERT(!wn_ledger_decode(out->p, out->len, WN_LEDGER_ALL, &b, s2));
	FUZZ_ASSERT(a.line == b.line && a.revision == b.revision && a.survivor == b.survivor);
	FUZZ_ASSERT(!memcmp(a.fp, b.fp, 16) && a.superseded == b.superseded);
	FUZZ_ASSERT(SAME(a.input, a.input_len, b.input, b.input_len));
	FUZZ_ASSERT(SAME(a.id, a.id_len, b.id, b.id_len));
	FUZZ_ASSERT(!a.record == !b.record && SAME(a.record, a.record_len, b.record, b.record_len));
}

static void reject(const char *line, size_t n, wn_buf *s1, wn_buf *s2, wn_buf *out)
{
	wn_reject_entry a, b;
	if (wn_reject_decode(line, n, &a, s1))
		return;
	out->len = 0;
	FUZZ_ASSERT(!wn_reject_encode(&a, out));
	FUZZ_ASSERT(!wn_reject_decode(out->p, out->len, &b, s2));
	FUZZ_ASSERT(a.line == b.line && a.offset == b.offset && a.code == b.code);
	FUZZ_ASSERT(a.has_error_offset == b.has_error_offset && a.error_offset == b.error_offset);
	FUZZ_ASSERT(a.truncated == b.truncated && a.length == b.length);
	FUZZ_ASSERT(SAME(a.input, a.input_len, b.input, b.input_len));
	FUZZ_ASSERT(SAME(a.detail, a.detail_len, b.detail, b.detail_len));
	FUZZ_ASSERT(SAME(a.raw, a.raw_len, b.raw, b.raw_len));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static wn_buf s1, s2, out;
	if (!size)
		return 0;
	size_t n = size - 1;
	char *line = fuzz_copy(data + 1, n);   /* alone in its block: reading past it is seen */
	switch (data[0] % 3) {
	case 0: ledger(line, n, WN_LEDGER_HEAD, &s1, &s2, &out); break;
	case 1: ledger(line, n, WN_LEDGER_ALL, &s1, &s2, &out); break;
	default: reject(line, n, &s1, &s2, &out); break;
	}
	free(line);
	return 0;
}
