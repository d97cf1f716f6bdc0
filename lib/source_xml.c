/*
 * source_xml.c - records in an XML document, such as the Discogs dumps
 * (discogs_YYYYMMDD_releases.xml.gz: <releases><release id="1">...</release>...): every
 * child element of the root element is one record, turned into one JSON object by the
 * mapping of doc/FORMAT.md ("XML records"):
 *   - the record element is an object; its attributes are members with string values,
 *     its child elements members named after them (a name that occurs more than once
 *     becomes an array of the values, in document order);
 *   - an element with neither attributes nor child elements is its text ("" when empty);
 *   - an element named as a plural (its name ends in "s" or "list"), with no attributes
 *     and no text but white space, whose child elements all have one name, is a list:
 *     an array of its children's values, also of one child (<artists><artist>..
 *     </artist></artists> is "artists":[{..}] in every record, whatever its length);
 *   - text beside attributes or child elements is the member "#text"; an attribute whose
 *     name a child element also has is "@name".
 * Values are strings as written (character references decoded); nothing is typed.
 *
 * The document is read by libxml2's streaming reader (xmlTextReader) from the input
 * (input.c, so that compressed input and the input's identity are the same as for every
 * text format): one record element is expanded at a time and freed before the next, so
 * memory is one record, whatever the size of the dump. No external entity, DTD or
 * network access is ever made; an entity reference libxml2 leaves unexpanded rejects its
 * record. A document that is not well-formed stops the run with libxml2's message and
 * line, like a broken JSON document.
 *
 * Positions: a record's "line" is the line its element starts on, its offset the bytes
 * the parser had consumed there (approximate: the parser reads ahead), and the position
 * to resume from is its number: a resumed run walks the document again up to there
 * without converting records.
 */
#include "source.h"
#include "input.h"

#include <errno.h>
#include <libxml/xmlreader.h>
#include <stdarg.h>
#include <stdlib.h>

typedef struct xsrc {
	wn_source s;
	wn_input in;
	xmlTextReaderPtr rd;
	int started, finished;
	uint64_t recno;         /* records read so far */
	size_t max_line;
	wn_buf out;             /* the record being written */
	wn_arena arena;
	int ioerr;              /* a read error of the input, for the message */
	char xerr[200];         /* libxml2's first error */
	int xline;
	int entity;             /* the record holds an unexpanded entity reference */
} xsrc;

static int fail(xsrc *x, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(xsrc *x, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(x->s.err, sizeof x->s.err, fmt, ap);
	va_end(ap);
	return code;
}

static int io_read(void *ctx, char *buf, int len)
{
	xsrc *x = ctx;
	size_t got = 0;
	int rc = wn_input_read(&x->in, buf, len > 0 ? (size_t)len : 0, &got);
	if (rc) {
		x->ioerr = rc;
		return -1;
	}
	return (int)got;
}

static int io_close(void *ctx)
{
	(void)ctx;
	return 0;
}

static void on_error(void *ctx, xmlErrorPtr e)
{
	xsrc *x = ctx;
	if (x->xerr[0] || !e || e->level < XML_ERR_ERROR)
		return;
	snprintf(x->xerr, sizeof x->xerr, "%s", e->message ? e->message : "error");
	size_t n = strlen(x->xerr);
	while (n && (x->xerr[n - 1] == '\n' || x->xerr[n - 1] == ' '))
		x->xerr[--n] = 0;
	x->xline = e->line;
}

/* The reader stopped on an error: say what and where. */
static int xml_fail(xsrc *x)
{
	if (x->ioerr)
		return fail(x, x->ioerr, "%s", x->in.err[0] ? x->in.err : strerror(x->ioerr > 0 ? x->ioerr : EIO));
	if (x->xerr[0])
		return fail(x, WN_E_PARSE, "not well-formed XML: %s (line %d of the document)", x->xerr, x->xline);
	return fail(x, WN_E_PARSE, "not well-formed XML (line %d of the document)",
		xmlTextReaderGetParserLineNumber(x->rd));
}

/* ---- one element as JSON ---- */

static int is_space(const xmlChar *t)
{
	for (; *t; t++)
		if (*t != ' ' && *t != '\t' && *t != '\n' && *t != '\r')
			return 0;
	return 1;
}

static const char *qname(const xmlNode *n, char *tmp, size_t cap)
{
	if (n->ns && n->ns->prefix) {
		snprintf(tmp, cap, "%s:%s", (const char *)n->ns->prefix, (const char *)n->name);
		return tmp;
	}
	return (const char *)n->name;
}

static int put_str(wn_buf *b, const char *s)
{
	return wn_buf_json_str(b, s, strlen(s));
}

/* The element's own text (its text and CDATA children), appended to b unquoted. */
static int own_text(xsrc *x, const xmlNode *e, wn_buf *t)
{
	for (const xmlNode *c = e->children; c; c = c->next) {
		if (c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE) {
			if (c->content && wn_buf_puts(t, (const char *)c->content))
				return WN_E_NOMEM;
		} else if (c->type == XML_ENTITY_REF_NODE) {
			x->entity = 1;
		}
	}
	return 0;
}

static int put_value(xsrc *x, const xmlNode *e, int record, int depth);

/* The children of e named like c (from c on), as one member: a value, or an array when
 * the name occurs more than once. */
static int put_member(xsrc *x, const xmlNode *c, int depth)
{
	wn_buf *b = &x->out;
	char tmp[256];
	int n = 0;
	for (const xmlNode *d = c; d; d = d->next)
		n += d->type == XML_ELEMENT_NODE && xmlStrEqual(d->name, c->name) && d->ns == c->ns;
	/* the child keeps its name; an attribute of e with the same name is "@name" */
	const char *key = qname(c, tmp, sizeof tmp);
	if (put_str(b, key) || wn_buf_put(b, ":", 1))
		return WN_E_NOMEM;
	if (n > 1 && wn_buf_put(b, "[", 1))
		return WN_E_NOMEM;
	int first = 1, rc;
	for (const xmlNode *d = c; d; d = d->next) {
		if (d->type != XML_ELEMENT_NODE || !xmlStrEqual(d->name, c->name) || d->ns != c->ns)
			continue;
		if (!first && wn_buf_put(b, ",", 1))
			return WN_E_NOMEM;
		first = 0;
		if ((rc = put_value(x, d, 0, depth + 1)))
			return rc;
	}
	if (n > 1 && wn_buf_put(b, "]", 1))
		return WN_E_NOMEM;
	return 0;
}

/* Has an earlier sibling of c the same name (so c's member is written already)? */
static int seen_before(const xmlNode *first, const xmlNode *c)
{
	for (const xmlNode *d = first; d != c; d = d->next)
		if (d->type == XML_ELEMENT_NODE && xmlStrEqual(d->name, c->name) && d->ns == c->ns)
			return 1;
	return 0;
}

/* A name that reads as a plural (ends in "s" or "list": images, series, tracklist). */
static int plural(const xmlChar *name)
{
	size_t n = strlen((const char *)name);
	return (n > 1 && name[n - 1] == 's') || (n > 4 && !strcmp((const char *)name + n - 4, "list"));
}

static int put_value(xsrc *x, const xmlNode *e, int record, int depth)
{
	wn_buf *b = &x->out;
	if (depth > 200)
		return WN_E_DEPTH;
	const xmlNode *kid = NULL;
	int nkids = 0, onename = 1;
	for (const xmlNode *c = e->children; c; c = c->next) {
		if (c->type != XML_ELEMENT_NODE)
			continue;
		if (kid && (!xmlStrEqual(c->name, kid->name) || c->ns != kid->ns))
			onename = 0;
		if (!kid)
			kid = c;
		nkids++;
	}
	wn_buf text = { 0 };
	int rc = own_text(x, e, &text);
	if (rc)
		goto out;
	const char *t = text.p ? text.p : "";
	if (!record && !e->properties && !nkids) {
		rc = wn_buf_json_str(b, t, text.len) ? WN_E_NOMEM : 0;
		goto out;
	}
	if (!record && !e->properties && onename && nkids && plural(e->name) && is_space((const xmlChar *)t)) {
		rc = WN_E_NOMEM;
		if (wn_buf_put(b, "[", 1))
			goto out;
		int first = 1;
		for (const xmlNode *c = kid; c; c = c->next) {
			if (c->type != XML_ELEMENT_NODE)
				continue;
			if (!first && wn_buf_put(b, ",", 1))
				goto out;
			first = 0;
			if ((rc = put_value(x, c, 0, depth + 1)))
				goto out;
		}
		rc = wn_buf_put(b, "]", 1) ? WN_E_NOMEM : 0;
		goto out;
	}
	rc = WN_E_NOMEM;
	if (wn_buf_put(b, "{", 1))
		goto out;
	int first = 1;
	char tmp[256];
	for (const xmlAttr *a = e->properties; a; a = a->next) {
		int clash = 0;
		for (const xmlNode *c = e->children; c && !clash; c = c->next)
			clash = c->type == XML_ELEMENT_NODE && xmlStrEqual(c->name, a->name);
		xmlChar *v = xmlNodeListGetString(e->doc, a->children, 1);
		char key[260];
		const char *an = a->ns && a->ns->prefix ? (snprintf(tmp, sizeof tmp, "%s:%s", (const char *)a->ns->prefix,
			(const char *)a->name), tmp) : (const char *)a->name;
		snprintf(key, sizeof key, "%s%s", clash ? "@" : "", an);
		int bad = (!first && wn_buf_put(b, ",", 1)) || put_str(b, key) || wn_buf_put(b, ":", 1) ||
			put_str(b, v ? (const char *)v : "");
		xmlFree(v);
		if (bad)
			goto out;
		first = 0;
	}
	if (!is_space((const xmlChar *)t)) {
		if ((!first && wn_buf_put(b, ",", 1)) || put_str(b, "#text") || wn_buf_put(b, ":", 1) ||
		    wn_buf_json_str(b, t, text.len))
			goto out;
		first = 0;
	}
	for (const xmlNode *c = e->children; c; c = c->next) {
		if (c->type != XML_ELEMENT_NODE || seen_before(e->children, c))
			continue;
		if (!first && wn_buf_put(b, ",", 1))
			goto out;
		first = 0;
		if ((rc = put_member(x, c, depth)))
			goto out;
		rc = WN_E_NOMEM;
	}
	rc = wn_buf_put(b, "}", 1) ? WN_E_NOMEM : 0;
out:
	wn_buf_free(&text);
	return rc;
}

/* ---- walking the document ---- */

/* Move to the next record element (a depth-1 element): 1 there, 0 at the end, < 0 error. */
static int next_element(xsrc *x)
{
	int rc;
	if (!x->started) {
		x->started = 1;
		/* to the root element */
		while ((rc = xmlTextReaderRead(x->rd)) == 1 && xmlTextReaderNodeType(x->rd) != XML_READER_TYPE_ELEMENT)
			;
		if (rc != 1)
			return rc == 0 ? fail(x, WN_E_PARSE, "no root element (an empty or non-XML document)") : xml_fail(x);
		if (xmlTextReaderIsEmptyElement(x->rd))
			return 0;
		rc = xmlTextReaderRead(x->rd);
	} else {
		rc = xmlTextReaderNext(x->rd);
	}
	for (; rc == 1; rc = xmlTextReaderRead(x->rd)) {
		int type = xmlTextReaderNodeType(x->rd), depth = xmlTextReaderDepth(x->rd);
		if (depth == 1 && type == XML_READER_TYPE_ELEMENT)
			return 1;
		if (depth == 0 && type == XML_READER_TYPE_END_ELEMENT) {
			/* after the root: only comments, processing instructions, white space */
			while ((rc = xmlTextReaderRead(x->rd)) == 1)
				;
			return rc == 0 ? 0 : xml_fail(x);
		}
	}
	return rc == 0 ? fail(x, WN_E_PARSE, "the document ends inside its root element (truncated?)") : xml_fail(x);
}

static int xml_next(wn_source *s, wn_srec *r, int may_move)
{
	xsrc *x = (xsrc *)s;
	if (may_move)
		wn_arena_reset(&x->arena);
	if (x->finished)
		return 0;
	int rc = next_element(x);
	if (rc == 0) {
		x->finished = 1;
		return 0;
	}
	if (rc < 0 || rc > 1)
		return rc;
	r->lineno = (uint64_t)xmlTextReaderGetParserLineNumber(x->rd);
	long consumed = xmlTextReaderByteConsumed(x->rd);
	r->off = consumed > 0 ? (uint64_t)consumed : 0;
	xmlNodePtr e = xmlTextReaderExpand(x->rd);
	if (!e)
		return xml_fail(x);
	x->out.len = 0;
	x->entity = 0;
	rc = put_value(x, e, 1, 0);
	if (rc == WN_E_NOMEM)
		return rc;
	x->recno++;
	r->end = x->recno;
	r->code = 0;
	r->why = NULL;
	r->toolong_len = 0;
	if (rc == WN_E_DEPTH) {
		r->code = WN_E_DEPTH;
		r->why = "XML elements nested more than 200 deep";
	} else if (x->entity) {
		r->code = WN_E_PARSE;
		r->why = "an entity reference that is not expanded (winnow reads no DTD)";
	} else if (x->out.len > x->max_line) {
		r->toolong_len = x->out.len;
		x->out.len = 4096 < x->max_line ? 4096 : x->max_line;
	}
	if (!(r->rec = wn_arena_copy(&x->arena, x->out.p ? x->out.p : "", x->out.len)))
		return WN_E_NOMEM;
	r->len = x->out.len;
	return 1;
}

static int xml_skip(wn_source *s, uint64_t pos, uint64_t recno)
{
	xsrc *x = (xsrc *)s;
	(void)recno;
	while (x->recno < pos) {
		int rc = next_element(x);
		if (rc == 0)
			return fail(x, WN_E_MISMATCH, "the document does not match what an earlier run read (it has %llu records, "
				"not %llu)", (unsigned long long)x->recno, (unsigned long long)pos);
		if (rc != 1)
			return rc;
		x->recno++;
	}
	return 0;
}

static uint64_t xml_consumed(wn_source *s)
{
	xsrc *x = (xsrc *)s;
	return wn_input_consumed(&x->in);
}

static void xml_close(wn_source *s)
{
	xsrc *x = (xsrc *)s;
	if (x->rd)
		xmlFreeTextReader(x->rd);
	wn_input_close(&x->in);
	wn_buf_free(&x->out);
	wn_arena_free(&x->arena);
	free(x);
}

int wn_source_xml(wn_source **out, wn_input *in, const wn_ingest_opts *o)
{
	xsrc *x = calloc(1, sizeof *x);
	*out = NULL;
	if (!x) {
		wn_input_close(in);
		return WN_E_NOMEM;
	}
	wn_input_move(&x->in, in);
	wn_source_identity(&x->s, &x->in);
	x->s.next = xml_next;
	x->s.skip = xml_skip;
	x->s.consumed = xml_consumed;
	x->s.close = xml_close;
	x->max_line = o->max_line;
	*out = &x->s;
	LIBXML_TEST_VERSION
	/* no network, no DTD loading, no entity substitution; CDATA as text */
	x->rd = xmlReaderForIO(io_read, io_close, x, x->in.name, NULL, XML_PARSE_NONET | XML_PARSE_NOCDATA |
		XML_PARSE_COMPACT);
	if (!x->rd)
		return fail(x, WN_E_NOMEM, "cannot start the XML reader");
	xmlTextReaderSetStructuredErrorHandler(x->rd, on_error, x);
	return 0;
}
