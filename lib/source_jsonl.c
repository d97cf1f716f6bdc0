/*
 * source_jsonl.c - the JSONL source: one record a line, over input.c's line splitting.
 *
 * A record is its line as input.c hands it out, a pointer into the input's buffer:
 * nothing is copied here. Lines returned without may_move stay where they are, and a
 * call with may_move may move the buffer, which is the rule of next() (source.h). A
 * record's position is the byte offset of its line and its end the offset after the
 * line end, so resuming is skipping that many bytes.
 *
 * The JSONL source is also how a text input is opened: wn_source_open() opens it as
 * JSONL, looks at its first bytes through wn_source_jsonl_input(), and for another
 * format moves the input on to that format's source.
 */
#include "source.h"
#include "input.h"

#include <stdlib.h>

typedef struct jsonl {
	wn_source s;
	wn_input in;
} jsonl;

static int jsonl_next(wn_source *s, wn_srec *r, int may_move)
{
	jsonl *j = (jsonl *)s;
	int toolong;
	r->off = j->in.offset;
	int got = may_move ? wn_input_line(&j->in, &r->rec, &r->len, &toolong)
			   : wn_input_line_nomove(&j->in, &r->rec, &r->len, &toolong);
	if (got < 0 || (got > 2)) {
		snprintf(s->err, sizeof s->err, "%s", *j->in.err ? j->in.err : wn_strerror(got));
		return got;
	}
	if (got != 1)
		return got;
	r->lineno = j->in.line;
	r->end = j->in.offset;
	r->toolong_len = toolong ? j->in.toolong_len : 0;
	r->code = 0;
	r->why = NULL;
	return 1;
}

static int jsonl_skip(wn_source *s, uint64_t pos, uint64_t recno)
{
	jsonl *j = (jsonl *)s;
	if (pos < j->in.offset) {   /* before the end of the byte-order mark */
		snprintf(s->err, sizeof s->err, "the input does not match what an earlier run read (no line ends at byte %llu)",
			(unsigned long long)pos);
		return WN_E_MISMATCH;
	}
	int rc = wn_input_seek_skip(&j->in, pos - j->in.offset, recno);
	if (rc)
		snprintf(s->err, sizeof s->err, "%s", j->in.err);
	return rc;
}

static uint64_t jsonl_consumed(wn_source *s)
{
	jsonl *j = (jsonl *)s;
	return wn_input_consumed(&j->in);
}

static void jsonl_close(wn_source *s)
{
	jsonl *j = (jsonl *)s;
	wn_input_close(&j->in);
	free(j);
}

static jsonl *jsonl_new(wn_source **out)
{
	jsonl *j = calloc(1, sizeof *j);
	*out = NULL;
	if (!j)
		return NULL;
	j->s.next = jsonl_next;
	j->s.skip = jsonl_skip;
	j->s.consumed = jsonl_consumed;
	j->s.close = jsonl_close;
	j->in.fd = -1;
	*out = &j->s;
	return j;
}

/* The input's open said rc: the source's err says why. */
static int jsonl_opened(jsonl *j, int rc)
{
	j->s.name = j->in.name;
	if (rc) {
		/* input.c words what it finds (zstd); a failed read is the system's word (EISDIR) */
		snprintf(j->s.err, sizeof j->s.err, "%s", *j->in.err ? j->in.err : wn_strerror(rc));
		return rc;
	}
	wn_source_identity(&j->s, &j->in);
	return 0;
}

int wn_source_jsonl_member(wn_source **out, struct wn_input *archive, const char *name, const wn_ingest_opts *o)
{
	jsonl *j = jsonl_new(out);
	if (!j)
		return WN_E_NOMEM;
	return jsonl_opened(j, wn_input_open_member(&j->in, archive, name, o->max_line));
}

int wn_source_jsonl(wn_source **out, const char *path, const wn_ingest_opts *o)
{
	jsonl *j = jsonl_new(out);
	if (!j)
		return WN_E_NOMEM;
	return jsonl_opened(j, wn_input_open(&j->in, path, o->max_line, o->cancel));
}

wn_input *wn_source_jsonl_input(wn_source *s)
{
	return &((jsonl *)s)->in;
}
