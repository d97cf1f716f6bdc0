/*
 * fuzz_jsondoc.c - libFuzzer target for lib/source_json.c (records inside JSON documents).
 *
 * The first byte picks a --records-path and an encoding; the rest is the document.
 * Whatever the input, the source must not crash, and:
 * - a record the strict parser accepts holds no line end and no whitespace outside its
 *   strings (records are stored one a line, compact);
 * - positions only go forward, and a record's text is never longer than its span in the
 *   input (only whitespace is dropped; transcoding aside);
 * - errors come with a message.
 *
 * Build: make fuzz; run: build-fuzz/fuzz_jsondoc tests/data
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "source.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_compact(const char *p, size_t n)
{
	int in_str = 0, esc = 0;
	for (size_t i = 0; i < n; i++) {
		char c = p[i];
		if (in_str) {
			if (esc)
				esc = 0;
			else if (c == '\\')
				esc = 1;
			else if (c == '"')
				in_str = 0;
			continue;
		}
		if (c == '"')
			in_str = 1;
		else if (c == ' ' || c == '\t' || c == '\n' || c == '\r')
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const paths[] = { NULL, "a[]", "[].b[]", "a.b[]", "a[].b[].c[]", "x[]", "[]", "a" };
	static wn_json *js;
	if (!size)
		return 0;
	if (!js)
		js = wn_json_new();
	uint8_t flags = data[0];
	data++;
	size--;
	int fd = memfd_create("fuzz.json", 0);
	if (fd < 0)
		abort();
	if (size && write(fd, data, size) != (ssize_t)size)
		abort();
	lseek(fd, 0, SEEK_SET);
	char path[64];
	snprintf(path, sizeof path, "/proc/self/fd/%d", fd);

	wn_ingest_opts o;
	wn_ingest_opts_init(&o);
	o.format = "json";
	o.records_path = paths[flags & 7];
	o.encoding = flags & 8 ? "cp1252" : NULL;
	o.max_line = 512;

	wn_source *s;
	int rc = wn_source_open(&s, path, &o);
	if (rc) {
		if (s && !*s->err)
			abort();
	} else {
		wn_srec r;
		uint64_t last_end = 0;
		for (int i = 0;; i++) {
			int got = s->next(s, &r, i % 5 == 0);
			if (got == 2)
				got = s->next(s, &r, 1);
			if (got == 0)
				break;
			if (got != 1) {
				if (!*s->err)
					abort();
				break;
			}
			if (r.end < last_end || r.off >= r.end)
				abort();
			last_end = r.end;
			if (r.toolong_len || r.code)
				continue;
			if (!(flags & 8) && r.len > r.end - r.off)
				abort();
			wn_jresult jr;
			if (!wn_json_record(js, r.rec, r.len, &jr))
				check_compact(r.rec, r.len);
		}
	}
	wn_source_close(s);
	close(fd);
	return 0;
}
