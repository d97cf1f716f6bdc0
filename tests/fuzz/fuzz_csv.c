/*
 * fuzz_csv.c - libFuzzer target for lib/source_csv.c (and the choice of format in
 * lib/source.c).
 *
 * The first byte picks the options (TSV, --csv-unwrap, --empty-null, --types auto or a
 * typed column, --encoding cp1252 or latin1, a fixed header in front; TSV and the fixed
 * header together: --delimiter '<SEP>' --columns id,a,b); the rest is the file.
 * Whatever the input, the source must not crash, and:
 * - every record it makes (code 0) is a JSON object that the strict parser accepts, with
 *   a non-empty id;
 * - every row it rejects has a reason code and, but for over-long rows, a reason text;
 * - positions only go forward.
 *
 * Build: make fuzz; run: build-fuzz/fuzz_csv tests/data
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "source.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static wn_json *js;
	if (!size)
		return 0;
	if (!js) {
		js = wn_json_new();
		wn_json_set_slot(js, 0, "id");
	}
	uint8_t flags = data[0];
	data++;
	size--;
	int fd = memfd_create("fuzz.csv", 0);
	if (fd < 0)
		abort();
	static const char header[] = "id,a,b\n";
	if ((flags & 0x80) && write(fd, header, sizeof header - 1) != (ssize_t)(sizeof header - 1))
		abort();
	if (size && write(fd, data, size) != (ssize_t)size)
		abort();
	lseek(fd, 0, SEEK_SET);
	char path[64];
	snprintf(path, sizeof path, "/proc/self/fd/%d", fd);

	wn_ingest_opts o;
	wn_ingest_opts_init(&o);
	o.format = flags & 1 ? "tsv" : "csv";
	o.csv_unwrap = !!(flags & 2);
	o.csv_empty_null = !!(flags & 4);
	o.csv_types = (flags & 0x18) == 0x08 ? "auto" : (flags & 0x18) == 0x10 ? "a=int,b=bool" : (flags & 0x18) == 0x18 ? "auto,b=number" : NULL;
	o.encoding = (flags & 0x60) == 0x20 ? "cp1252" : (flags & 0x60) == 0x40 ? "latin1" : NULL;
	o.max_line = 256;
	if ((flags & 0x81) == 0x81) {   /* TSV with the fixed header: <SEP> and --columns instead */
		o.format = "csv";
		o.csv_delimiter = "<SEP>";
		o.csv_columns = "id,a,b";
	}

	wn_source *s;
	int rc = wn_source_open(&s, path, &o);
	if (!rc) {
		wn_srec r;
		uint64_t last_end = 0;
		for (int i = 0;; i++) {
			int got = s->next(s, &r, i % 7 == 0);
			if (got == 2)
				got = s->next(s, &r, 1);
			if (got != 1)
				break;
			if (r.end < last_end || r.off > r.end)
				abort();
			last_end = r.end;
			if (r.toolong_len) {
				if (r.code != WN_E_TOOLONG)
					abort();
				continue;
			}
			if (r.code) {
				if (!r.why || !*r.why)
					abort();
				continue;
			}
			wn_jresult jr;
			if (wn_json_record(js, r.rec, r.len, &jr)) {
				fprintf(stderr, "not JSON (%s): %.*s\n", jr.err, (int)r.len, r.rec);
				abort();
			}
			if ((jr.slot[0].type != WN_JT_STRING && jr.slot[0].type != WN_JT_NUMBER) || !jr.slot[0].len)
				abort();
		}
	}
	wn_source_close(s);
	close(fd);
	return 0;
}
