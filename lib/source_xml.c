/*
 * source_xml.c - records in an XML document, such as the Discogs dumps
 * (discogs_YYYYMMDD_releases.xml.gz: <releases><release id="1">...</release>...): every
 * child element of the root element is one record, turned into one JSON object by the
 * mapping of doc/INPUTS.md ("XML documents"):
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
 * The document is parsed by libxml2's push parser with SAX2 callbacks, fed from the
 * input (input.c, so that compressed input and the input's identity are the same as for
 * every text format) in chunks. The callbacks build the record element in a small tree
 * of our own (nodes, attributes and text pieces in flat arrays, names as libxml2's
 * interned strings, so that two names are equal when their pointers are), which is
 * written as JSON when the element ends and emptied for the next: no libxml2 tree is
 * ever built, and memory is one record, whatever the size of the dump. The tree keeps
 * what libxml2's tree would have held, down to its namespace identities, so that the
 * JSON is the one a DOM walk gives. An element whose tree would outgrow a quarter of
 * --memory (or twice --max-line, if that is more) is not held: it is rejected as too
 * long.
 *
 * No external entity, DTD or network access is ever made; an entity reference libxml2
 * leaves unexpanded rejects its record (the parser expands an entity's text once to
 * check it, into a context of its own: the callbacks ignore every context but ours). A
 * document that is not well-formed stops the run with libxml2's message and line, like
 * a broken JSON document; the records that ended before the error are handed out first.
 * libxml2's own limits hold as they do for its tree: a text node over 10 MB
 * (XML_MAX_TEXT_LENGTH) stops the run with the message its tree builder gives.
 *
 * One chunk can end many records, which wait in a batch until next() hands them out;
 * records point into their batch, so next() goes on to another batch (or fills this one
 * again) only with may_move. From a regular file, a thread of the source's own parses
 * ahead into the other batches (two at most), so that parsing the XML and what the
 * caller does with the records (ingest: parsing the JSON) run side by side; from a pipe
 * the caller's thread parses (a read may wait for ever there, and closing the source
 * must not).
 *
 * Positions: a record's line is the line its start tag begins on, its offset the byte of
 * its '<' (of the decoded document: the input's bytes for UTF-8), and the position to
 * resume from is its number: a resumed run parses the document again up to there
 * without building records.
 */
#include "source.h"
#include "input.h"

#include <errno.h>
#include <pthread.h>
#include <libxml/parser.h>
#include <libxml/parserInternals.h>
#include <libxml/tree.h>
#include <stdarg.h>
#include <stdlib.h>

#define FEED (64u << 10)        /* bytes given to the parser at a time */
#define FEED_ENCODED 4096       /* ... for a document libxml2 transcodes (see rec_start) */
#define MAX_DEPTH 200           /* deeper elements reject their record */
#define OVER 1                  /* a record's tree would outgrow x->cap */
#define NBATCH 3                /* batches of records: one handed out, two read ahead */
#define BATCH_BYTES (256u << 10) /* a batch is handed over at this much JSON ... */
#define BATCH_RECS 512          /* ... or this many records */

/* One element of the record being read. Nodes, attributes and text pieces are numbered
 * from 1 in their arrays; 0 is "none". */
typedef struct xnode {
	const xmlChar *name;    /* local name, or "prefix:local" when the prefix is undeclared */
	const xmlChar *prefix;  /* the declared prefix it is written with, or NULL */
	uintptr_t ns;           /* its namespace, as libxml2's tree tells them apart (ns_id) */
	uint32_t parent, first, last, next;   /* element children and the next sibling */
	uint32_t attr, nattr;   /* its attributes: x->attrs[attr .. attr + nattr) */
	uint32_t text, tlast;   /* its text: a chain of pieces */
	uint32_t done;          /* written already, in the member of an earlier sibling */
} xnode;

typedef struct xattr {
	const xmlChar *name;    /* as xnode.name */
	const xmlChar *prefix;
	uint32_t off, len;      /* the value in x->bytes */
} xattr;

typedef struct xpiece {
	uint32_t off, len, next;   /* text in x->bytes; the next piece of the same element */
} xpiece;

/* A record that has ended, waiting in the queue. */
typedef struct xrec {
	size_t at, len;         /* its JSON in its batch's ready */
	uint64_t line, off, recno;
	size_t toolong_len;
	int code;
	const char *why;
} xrec;

/* Records that have ended, in the order they ended: their JSON one after the other, and
 * how the document went on after them. */
typedef struct xbatch {
	wn_buf ready;
	xrec *q;
	size_t nq, capq, qhead;
	int err;                /* the error after these records (its text in s.err), or 0 */
	int end;                /* the document ended after these records */
} xbatch;

typedef struct xsrc {
	wn_source s;
	wn_input in;
	xmlParserCtxtPtr ctxt;
	xmlSAXHandler sax;
	char *chunk;
	int eof;                /* the parser has been told the document ended */
	size_t max_line;
	size_t cap;             /* bytes a record's tree may take */
	/* the document */
	int level;              /* elements open: 1 in the root, 2 in a record */
	int had_root, root_closed;
	uint64_t recno;         /* records ended so far */
	uint64_t skip_to;       /* resuming: records before this number are not built */
	size_t run;             /* length of the text node libxml2's tree would be growing */
	char xerr[200];         /* libxml2's first error */
	int xline;
	int stopped;            /* stopped by a limit of our own (text in xerr) */
	/* the record being read */
	int build;              /* it is being built (else skipped, or too large) */
	int over;               /* it outgrew x->cap */
	int entity;             /* it holds an unexpanded entity reference */
	uint64_t r_line, r_off; /* where it starts */
	uint32_t cur;           /* the open element, 0 above the record */
	xnode *nodes;
	uint32_t nn, capn;
	xattr *attrs;
	uint32_t na, capa;
	xpiece *pieces;
	uint32_t np, capp;
	wn_buf bytes;           /* attribute values and text */
	size_t used;            /* bytes the tree takes (nodes, attributes, pieces, bytes) */
	wn_buf tmp;             /* an element's text, when it is in several pieces */
	/* the batch being filled; the record being written starts at ready->len == rstart,
	 * and dropped bytes of it were left out */
	xbatch *fill;
	wn_buf *ready;
	size_t rstart, dropped;
	/* batches: out is the one being handed out; the reading thread (a regular file)
	 * fills the others ahead, and without it b[0] is filled again once it is empty */
	xbatch b[NBATCH];
	xbatch *out;
	int threaded, started, stop;
	int done;               /* the thread published its last batch (under mu) */
	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	uint64_t published, released, taken;   /* batches, under mu */
	uint64_t seen;          /* records ended, under mu (for skip) */
	uint64_t consumed;      /* input bytes consumed, atomic (for progress) */
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

/* The callbacks' own source, or NULL when ctx is not our parser context but the one
 * libxml2 makes to check an entity's text (it copies _private into it). */
static inline xsrc *ours(void *ctx)
{
	xmlParserCtxtPtr c = ctx;
	xsrc *x = c->_private;
	return x && x->ctxt == c ? x : NULL;
}

static void on_error(void *ctx, xmlErrorPtr e)
{
	xsrc *x = ((xmlParserCtxtPtr)ctx)->_private;
	if (!x || x->xerr[0] || !e || e->level < XML_ERR_ERROR)
		return;
	snprintf(x->xerr, sizeof x->xerr, "%s", e->message ? e->message : "error");
	size_t n = strlen(x->xerr);
	while (n && (x->xerr[n - 1] == '\n' || x->xerr[n - 1] == ' '))
		x->xerr[--n] = 0;
	x->xline = e->line;
}

/* The parser stopped on an error: say what and where. */
static int xml_fail(xsrc *x)
{
	int line = x->ctxt && x->ctxt->input ? x->ctxt->input->line : 0;
	if (x->xerr[0]) {
		x->s.err_line = x->xline > 0 ? (uint64_t)x->xline : 0;
		return fail(x, WN_E_PARSE, "not well-formed XML: %s (line %d of the document)", x->xerr, x->xline);
	}
	x->s.err_line = line > 0 ? (uint64_t)line : 0;
	return fail(x, WN_E_PARSE, "not well-formed XML (line %d of the document)", line);
}

/* ---- the record's tree ---- */

/* Room for one more of an array (n used of *cap), within the record's budget: 0, OVER
 * (x->over is set) or WN_E_NOMEM. */
static inline int grow(xsrc *x, void **a, uint32_t n, uint32_t *cap, size_t size)
{
	if (x->used + size > x->cap) {
		x->over = 1;
		return OVER;
	}
	x->used += size;
	if (n < *cap)
		return 0;
	uint32_t nc = *cap ? *cap * 2 : 64;
	void *p = realloc(*a, (size_t)nc * size);
	if (!p)
		return WN_E_NOMEM;
	*a = p;
	*cap = nc;
	return 0;
}

/* Append bytes to x->bytes within the budget: 0, OVER or WN_E_NOMEM. */
static inline int put_bytes(xsrc *x, const void *p, size_t n, uint32_t *off)
{
	if (x->used + n > x->cap) {
		x->over = 1;
		return OVER;
	}
	x->used += n;
	wn_buf *b = &x->bytes;
	if (b->cap - b->len < n && wn_buf_reserve(b, n))
		return WN_E_NOMEM;
	*off = (uint32_t)b->len;
	memcpy(b->p + b->len, p, n);
	b->len += n;
	return 0;
}

/* Out of memory inside a callback: stop the parser, next() says so. */
static void nomem(xsrc *x)
{
	snprintf(x->xerr, sizeof x->xerr, "%s", wn_strerror(WN_E_NOMEM));
	x->stopped = WN_E_NOMEM;
	xmlStopParser(x->ctxt);
}

/* "prefix:local", interned, for a prefix no declaration binds (libxml2 names the node
 * so), or NULL without memory. */
static const xmlChar *undeclared(xsrc *x, const xmlChar *prefix, const xmlChar *local)
{
	x->tmp.len = 0;
	if (wn_buf_puts(&x->tmp, (const char *)prefix) || wn_buf_put(&x->tmp, ":", 1) ||
	    wn_buf_puts(&x->tmp, (const char *)local))
		return NULL;
	return xmlDictLookup(x->ctxt->dict, (const xmlChar *)x->tmp.p, (int)x->tmp.len);
}

/* Which namespace node libxml2's tree would give element n: none (0), one the element
 * declares itself (a node of its own: unlike any other), or one it inherits (the same
 * for all siblings with that prefix). Only siblings are ever compared. */
static uintptr_t ns_id(const xmlChar *prefix, const xmlChar *uri, int nb_ns, const xmlChar **ns, uint32_t n)
{
	if (!uri)
		return 0;
	for (int i = 0; i < nb_ns; i++)
		if (ns[2 * i] == prefix)
			return ~(uintptr_t)n;
	return prefix ? (uintptr_t)prefix : 1;
}

static int add_attrs(xsrc *x, xnode *e, int nb, const xmlChar **a)
{
	e->attr = x->na;
	for (int i = 0; i < nb; i++, a += 5) {
		int rc = grow(x, (void **)&x->attrs, x->na, &x->capa, sizeof(xattr));
		if (rc)
			return rc;
		xattr *t = &x->attrs[x->na];
		t->name = a[0];
		t->prefix = a[1];
		if (a[1] && !a[2]) {
			if (!(t->name = undeclared(x, a[1], a[0])))
				return WN_E_NOMEM;
			t->prefix = NULL;
		}
		/* as libxml2's tree holds it: a value with an entity reference in it (libxml2
		 * then ends it with a NUL, not the quote) is expanded as its tree would be */
		const xmlChar *v = a[3];
		size_t len = (size_t)(a[4] - a[3]);
		xmlChar *dec = NULL;
		if (*a[4] == 0) {
			xmlNodePtr list = xmlStringLenGetNodeList(x->ctxt->myDoc, a[3], (int)len);
			dec = xmlNodeListGetString(x->ctxt->myDoc, list, 1);
			xmlFreeNodeList(list);
			v = dec ? dec : (const xmlChar *)"";
			len = strlen((const char *)v);
		}
		rc = put_bytes(x, v, len, &t->off);
		xmlFree(dec);
		if (rc)
			return rc;
		t->len = (uint32_t)len;
		x->na++;
	}
	e->nattr = x->na - e->attr;
	return 0;
}

/* A new element in the record, as the child of x->cur. */
static int add_node(xsrc *x, const xmlChar *local, const xmlChar *prefix, const xmlChar *uri, int nb_ns,
	const xmlChar **ns, int nb_attr, const xmlChar **attrs)
{
	int rc = grow(x, (void **)&x->nodes, x->nn, &x->capn, sizeof(xnode));
	if (rc)
		return rc;
	uint32_t n = x->nn;
	xnode *e = &x->nodes[n];
	memset(e, 0, sizeof *e);
	e->name = local;
	e->prefix = prefix;
	if (prefix && !uri) {
		if (!(e->name = undeclared(x, prefix, local)))
			return WN_E_NOMEM;
		e->prefix = NULL;
	}
	e->ns = ns_id(prefix, uri, nb_ns, ns, n);
	e->parent = x->cur;
	if (x->cur) {
		xnode *p = &x->nodes[x->cur];
		if (p->last)
			x->nodes[p->last].next = n;
		else
			p->first = n;
		p->last = n;
	}
	x->nn++;
	x->cur = n;
	return add_attrs(x, e, nb_attr, attrs);
}

static int add_text(xsrc *x, const xmlChar *ch, int len)
{
	xnode *e = &x->nodes[x->cur];
	uint32_t off;
	int rc = put_bytes(x, ch, (size_t)len, &off);
	if (rc)
		return rc;
	if (e->tlast) {
		xpiece *p = &x->pieces[e->tlast];
		if (p->off + p->len == off) {   /* right after the last piece: the same text */
			p->len += (uint32_t)len;
			return 0;
		}
	}
	if ((rc = grow(x, (void **)&x->pieces, x->np, &x->capp, sizeof(xpiece))))
		return rc;
	xpiece *p = &x->pieces[x->np];
	p->off = off;
	p->len = (uint32_t)len;
	p->next = 0;
	if (e->tlast)
		x->pieces[e->tlast].next = x->np;
	else
		e->text = x->np;
	e->tlast = x->np++;
	return 0;
}

/* ---- the record as JSON (the mapping of the file's opening comment) ----
 * The JSON is written straight into the queue (x->ready, from x->rstart on); once it is
 * longer than --max-line only its first bytes are kept and the rest is counted in
 * x->dropped (the record is rejected as too long, with its length). */

static int grow_out(xsrc *x, size_t n)
{
	return wn_buf_reserve(x->ready, n + 1) ? WN_E_NOMEM : 0;
}

static inline void out_check(xsrc *x)
{
	size_t len = x->ready->len - x->rstart;
	if (len > x->max_line) {
		size_t keep = 4096 < x->max_line ? 4096 : x->max_line;
		x->dropped += len - keep;
		x->ready->len = x->rstart + keep;
	}
}

static inline int put(xsrc *x, const char *p, size_t n)
{
	wn_buf *o = x->ready;
	if (o->cap - o->len <= n && grow_out(x, n))
		return WN_E_NOMEM;
	memcpy(o->p + o->len, p, n);
	o->len += n;
	out_check(x);
	return 0;
}

static inline int put1(xsrc *x, char c)
{
	wn_buf *o = x->ready;
	if (o->cap - o->len <= 1 && grow_out(x, 1))
		return WN_E_NOMEM;
	o->p[o->len++] = c;
	out_check(x);
	return 0;
}

/* The inside of a JSON string, escaped a slice at a time (so that what is kept of an
 * over-long record stays small); slices end before a byte that starts a UTF-8 sequence. */
static int put_str(xsrc *x, const char *s, size_t n)
{
	wn_buf *o = x->ready;
	do {
		size_t k = n;
		if (k > 65536) {
			k = 65536;
			while (k < n && ((unsigned char)s[k] & 0xc0) == 0x80)
				k++;
		}
		if (o->cap - o->len <= k * 6 + 2 && grow_out(x, k * 6 + 2))
			return WN_E_NOMEM;
		o->len += wn_json_escape(o->p + o->len, s, k);
		out_check(x);
		s += k;
		n -= k;
	} while (n);
	return 0;
}

static int put_qstr(xsrc *x, const char *s, size_t n)
{
	int rc;
	if ((rc = put1(x, '"')) || (rc = put_str(x, s, n)))
		return rc;
	return put1(x, '"');
}

/* A member's name, quoted: an XML name needs no escaping (no quote, backslash or
 * control character is in one), so it is copied. */
static inline int put_key(xsrc *x, const char *name)
{
	size_t n = strlen(name);
	wn_buf *o = x->ready;
	if (o->cap - o->len <= n + 3 && grow_out(x, n + 3))
		return WN_E_NOMEM;
	char *w = o->p + o->len;
	w[0] = '"';
	memcpy(w + 1, name, n);
	w[n + 1] = '"';
	w[n + 2] = ':';
	o->len += n + 3;
	out_check(x);
	return 0;
}

static int is_space(const char *t, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (t[i] != ' ' && t[i] != '\t' && t[i] != '\n' && t[i] != '\r')
			return 0;
	return 1;
}

/* The element's name as its member is named: "prefix:local" (at most 255 bytes, as
 * written in tmp) or the name. */
static const char *qname(const xnode *n, char *tmp, size_t cap)
{
	if (n->prefix) {
		snprintf(tmp, cap, "%s:%s", (const char *)n->prefix, (const char *)n->name);
		return tmp;
	}
	return (const char *)n->name;
}

static inline int same(const xnode *a, const xnode *b)
{
	return a->name == b->name && a->ns == b->ns;
}

/* The element's own text, all its pieces: *t and *len (in x->bytes, or in x->tmp). */
static int own_text(xsrc *x, const xnode *e, const char **t, size_t *len)
{
	if (!e->text) {
		*t = "";
		*len = 0;
		return 0;
	}
	const xpiece *p = &x->pieces[e->text];
	if (!p->next) {
		*t = x->bytes.p + p->off;
		*len = p->len;
		return 0;
	}
	x->tmp.len = 0;
	for (uint32_t i = e->text; i; i = x->pieces[i].next)
		if (wn_buf_put(&x->tmp, x->bytes.p + x->pieces[i].off, x->pieces[i].len))
			return WN_E_NOMEM;
	*t = x->tmp.p;
	*len = x->tmp.len;
	return 0;
}

/* A name that reads as a plural (ends in "s" or "list": images, series, tracklist). */
static int plural(const xmlChar *name)
{
	size_t n = strlen((const char *)name);
	return (n > 1 && name[n - 1] == 's') || (n > 4 && !strcmp((const char *)name + n - 4, "list"));
}

static int put_value(xsrc *x, uint32_t ei, int record, int depth);

/* The children of their parent named like c (from c on), as one member: a value, or an
 * array when the name occurs more than once. They are marked written. */
static int put_member(xsrc *x, uint32_t ci, int depth)
{
	xnode *c = &x->nodes[ci];
	char tmp[256];
	int rc;
	uint32_t d = c->next;
	while (d && !same(&x->nodes[d], c))
		d = x->nodes[d].next;
	/* the child keeps its name; an attribute of the parent with the same name is "@name" */
	if ((rc = put_key(x, qname(c, tmp, sizeof tmp))))
		return rc;
	if (!d)
		return put_value(x, ci, 0, depth + 1);
	if ((rc = put1(x, '[')) || (rc = put_value(x, ci, 0, depth + 1)))
		return rc;
	for (; d; d = x->nodes[d].next) {
		if (!same(&x->nodes[d], &x->nodes[ci]))
			continue;
		x->nodes[d].done = 1;
		if ((rc = put1(x, ',')) || (rc = put_value(x, d, 0, depth + 1)))
			return rc;
	}
	return put1(x, ']');
}

static int put_attrs(xsrc *x, const xnode *e, int *first)
{
	char tmp[256], key[260];
	for (uint32_t i = 0; i < e->nattr; i++) {
		const xattr *a = &x->attrs[e->attr + i];
		int clash = 0, rc;
		for (uint32_t c = e->first; c && !clash; c = x->nodes[c].next)
			clash = x->nodes[c].name == a->name;
		const char *an = (const char *)a->name;
		if (a->prefix) {
			snprintf(tmp, sizeof tmp, "%s:%s", (const char *)a->prefix, (const char *)a->name);
			an = tmp;
		}
		/* "@name" when clashing, and at most 259 bytes either way */
		size_t n = strlen(an), k = clash ? 1 : 0;
		if (clash || n >= sizeof key) {
			if (n > sizeof key - 1 - k)
				n = sizeof key - 1 - k;
			key[0] = '@';
			memcpy(key + k, an, n);
			key[k + n] = 0;
			an = key;
		}
		if ((!*first && (rc = put1(x, ','))) || (rc = put_key(x, an)) ||
		    (rc = put_qstr(x, x->bytes.p + a->off, a->len)))
			return rc;
		*first = 0;
	}
	return 0;
}

static int put_value(xsrc *x, uint32_t ei, int record, int depth)
{
	if (depth > MAX_DEPTH)
		return WN_E_DEPTH;
	const xnode *e = &x->nodes[ei];
	int onename = 1, rc;
	for (uint32_t c = e->first; c; c = x->nodes[c].next)
		if (!same(&x->nodes[c], &x->nodes[e->first])) {
			onename = 0;
			break;
		}
	const char *t;
	size_t tlen;
	if ((rc = own_text(x, e, &t, &tlen)))
		return rc;
	if (!record && !e->nattr && !e->first)
		return put_qstr(x, t, tlen);
	int blank = is_space(t, tlen);
	if (!record && !e->nattr && onename && plural(e->name) && blank) {
		if ((rc = put1(x, '[')))
			return rc;
		for (uint32_t c = e->first; c; c = x->nodes[c].next) {
			if (c != e->first && (rc = put1(x, ',')))
				return rc;
			if ((rc = put_value(x, c, 0, depth + 1)))
				return rc;
		}
		return put1(x, ']');
	}
	int first = 1;
	if ((rc = put1(x, '{')) || (rc = put_attrs(x, e, &first)))
		return rc;
	if (!blank) {
		/* the text is in x->tmp when it is in pieces: write it before anything reuses it */
		if ((!first && (rc = put1(x, ','))) || (rc = put_key(x, "#text")) || (rc = put_qstr(x, t, tlen)))
			return rc;
		first = 0;
	}
	for (uint32_t c = e->first; c; c = x->nodes[c].next) {
		if (x->nodes[c].done)
			continue;
		if (!first && (rc = put1(x, ',')))
			return rc;
		first = 0;
		if ((rc = put_member(x, c, depth)))
			return rc;
	}
	return put1(x, '}');
}

/* ---- the queue of records that have ended ---- */

/* The record whose JSON is in x->ready from x->rstart on (or none: an empty one) into the
 * queue. */
static int queue(xsrc *x, size_t toolong_len, int code, const char *why)
{
	xbatch *b = x->fill;
	if (b->nq == b->capq) {
		size_t nc = b->capq ? b->capq * 2 : 64;
		xrec *q = realloc(b->q, nc * sizeof *q);
		if (!q)
			return WN_E_NOMEM;
		b->q = q;
		b->capq = nc;
	}
	xrec *r = &b->q[b->nq];
	r->at = x->rstart;
	r->len = x->ready->len - x->rstart;
	x->recno++;
	r->line = x->r_line;
	r->off = x->r_off;
	r->recno = x->recno;
	r->toolong_len = toolong_len;
	r->code = code;
	r->why = why;
	b->nq++;
	return 0;
}

/* The record element has ended: its JSON (or why not) into the queue. */
static int rec_end(xsrc *x)
{
	x->rstart = x->ready->len;
	x->dropped = 0;
	if (x->over) {
		size_t bytes = (size_t)(xmlByteConsumed(x->ctxt) - (long)x->r_off);
		return queue(x, bytes, WN_E_TOOLONG, "an XML element too large to convert in "
			"a quarter of --memory (or twice --max-line, if more)");
	}
	int rc = put_value(x, 1, 1, 0);
	if (rc == WN_E_NOMEM)
		return rc;
	/* the reasons in this order; a record rejected for one of the first two whose JSON
	 * is over --max-line keeps its first bytes only */
	if (rc == WN_E_DEPTH)
		return queue(x, 0, WN_E_DEPTH, "XML elements nested more than 200 deep");
	if (x->entity)
		return queue(x, 0, WN_E_PARSE, "an entity reference that is not expanded (winnow reads no DTD)");
	size_t total = x->ready->len - x->rstart + x->dropped;
	return queue(x, total > x->max_line ? total : 0, 0, NULL);
}

/* ---- the SAX callbacks ---- */

/* A record element starts: where, and an empty tree. */
static void rec_start(xsrc *x)
{
	xmlParserInputPtr in = x->ctxt->input;
	/* the parser is past the start tag's attributes; its '<' is the last one before
	 * (no '<' can be inside a tag), unless the buffer no longer holds it */
	const xmlChar *lt = in->cur;
	while (lt > in->base && *lt != '<')
		lt--;
	if (*lt != '<')
		lt = in->cur;
	int nl = 0;
	for (const xmlChar *p = lt; p < in->cur; p++)
		nl += *p == '\n';
	x->r_line = in->line > nl ? (uint64_t)(in->line - nl) : 1;
	long consumed = xmlByteConsumed(x->ctxt);
	x->r_off = consumed > in->cur - lt ? (uint64_t)(consumed - (in->cur - lt)) : 0;
	x->build = x->recno >= x->skip_to;
	x->over = 0;
	x->entity = 0;
	x->nn = 1;              /* node 0 is "none" */
	x->na = 0;
	x->np = 1;
	x->bytes.len = 0;
	x->used = 0;
	x->cur = 0;
}

static void on_start(void *ctx, const xmlChar *local, const xmlChar *prefix, const xmlChar *uri, int nb_ns,
	const xmlChar **ns, int nb_attr, int nb_defaulted, const xmlChar **attrs)
{
	xsrc *x = ours(ctx);
	if (!x)
		return;
	x->run = 0;
	x->level++;
	if (x->level == 1) {
		x->had_root = 1;
		return;
	}
	if (x->level == 2)
		rec_start(x);
	if (!x->build || x->over)
		return;
	/* attributes the DTD defaults are not in libxml2's tree (no XML_PARSE_DTDATTR) */
	int rc = add_node(x, local, prefix, uri, nb_ns, ns, nb_attr - nb_defaulted, attrs);
	if (rc == WN_E_NOMEM)
		nomem(x);
}

static void on_end(void *ctx, const xmlChar *local, const xmlChar *prefix, const xmlChar *uri)
{
	xsrc *x = ours(ctx);
	(void)local, (void)prefix, (void)uri;
	if (!x)
		return;
	x->run = 0;
	x->level--;
	if (x->level == 0) {
		x->root_closed = 1;
	} else if (x->level == 1) {
		if (!x->build && !x->over)
			x->recno++;     /* skipped on resuming */
		else if (rec_end(x))
			nomem(x);
	} else if (x->build && !x->over) {
		x->cur = x->nodes[x->cur].parent;
	}
}

static void on_text(void *ctx, const xmlChar *ch, int len)
{
	xsrc *x = ours(ctx);
	if (!x)
		return;
	/* libxml2's tree builder refuses to grow one text node past XML_MAX_TEXT_LENGTH */
	if (x->run && x->run + (size_t)len > XML_MAX_TEXT_LENGTH && !(x->ctxt->options & XML_PARSE_HUGE)) {
		snprintf(x->xerr, sizeof x->xerr, "xmlSAX2Characters: huge text node");
		x->xline = x->ctxt->input ? x->ctxt->input->line : 0;
		x->stopped = WN_E_PARSE;
		xmlStopParser(x->ctxt);
		return;
	}
	x->run += (size_t)len;
	if (x->level < 2 || !x->build || x->over)
		return;
	if (add_text(x, ch, len) == WN_E_NOMEM)
		nomem(x);
}

static void on_reference(void *ctx, const xmlChar *name)
{
	xsrc *x = ours(ctx);
	(void)name;
	if (!x)
		return;
	x->run = 0;
	if (x->level >= 2)
		x->entity = 1;
}

/* A comment or a processing instruction: not in the record, but a node of libxml2's
 * tree between two text nodes. */
static void on_comment(void *ctx, const xmlChar *value)
{
	xsrc *x = ours(ctx);
	(void)value;
	if (x)
		x->run = 0;
}

static void on_pi(void *ctx, const xmlChar *target, const xmlChar *data)
{
	(void)target;
	on_comment(ctx, data);
}

/* ---- feeding the parser ---- */

/* The document's next chunk into the parser (its end, at the end of the input). */
static int feed(xsrc *x)
{
	size_t cap = x->ctxt && x->ctxt->input && x->ctxt->input->buf && x->ctxt->input->buf->encoder ? FEED_ENCODED : FEED;
	size_t got = 0, n;
	int rc;
	/* the first 4 bytes make the parser: libxml2 tells the encoding by them */
	do {
		n = 0;
		if ((rc = wn_input_read(&x->in, x->chunk + got, cap - got, &n)))
			return fail(x, rc, "%s", x->in.err[0] ? x->in.err : strerror(rc > 0 ? rc : EIO));
		got += n;
	} while (!x->ctxt && n && got < 4);
	if (!x->ctxt) {
		int first = got >= 4 ? 4 : 0;
		x->ctxt = xmlCreatePushParserCtxt(&x->sax, NULL, x->chunk, first, x->in.name);
		if (!x->ctxt)
			return fail(x, WN_E_NOMEM, "cannot start the XML parser");
		x->ctxt->_private = x;
		x->ctxt->linenumbers = 1;
		/* no network, no DTD loading, no entity substitution; CDATA as text */
		xmlCtxtUseOptions(x->ctxt, XML_PARSE_NONET | XML_PARSE_NOCDATA | XML_PARSE_COMPACT);
		memmove(x->chunk, x->chunk + first, got - (size_t)first);
		got -= (size_t)first;
		if (!got && n) /* only the first bytes so far */
			return 0;
	}
	x->eof = got == 0;
	rc = xmlParseChunk(x->ctxt, x->chunk, (int)got, x->eof);
	if (x->stopped == WN_E_NOMEM)
		return fail(x, WN_E_NOMEM, "%s", wn_strerror(WN_E_NOMEM));
	if (rc || !x->ctxt->wellFormed || x->stopped)
		return xml_fail(x);
	if (x->eof && !x->had_root)
		return fail(x, WN_E_PARSE, "no root element (an empty or non-XML document)");
	if (x->eof && !x->root_closed)
		return fail(x, WN_E_PARSE, "the document ends inside its root element (truncated?)");
	return 0;
}

/* ---- batches: filled here, or ahead by the reading thread ---- */

/* Fill batch b: feed the parser until b holds a batch's worth of records (without the
 * thread: one record), the document ends or an error stops it. */
static void produce(xsrc *x, xbatch *b)
{
	b->nq = b->qhead = 0;
	b->ready.len = 0;
	b->err = b->end = 0;
	x->fill = b;
	x->ready = &b->ready;
	for (;;) {
		int rc = feed(x);
		if (rc) {
			b->err = rc;
			return;
		}
		if (x->eof) {
			b->end = 1;
			return;
		}
		if (!x->threaded) {
			if (b->nq)
				return;
			continue;
		}
		__atomic_store_n(&x->consumed, wn_input_consumed(&x->in), __ATOMIC_RELAXED);
		pthread_mutex_lock(&x->mu);
		x->seen = x->recno;
		pthread_cond_broadcast(&x->cv);
		int stop = x->stop;
		pthread_mutex_unlock(&x->mu);
		if (stop || b->nq >= BATCH_RECS || b->ready.len >= BATCH_BYTES)
			return;
	}
}

/* The reading thread: the batches in turn, each once the one NBATCH before it is
 * released; it ends at the document's end, at an error or when the source closes. */
static void *reader_main(void *arg)
{
	xsrc *x = arg;
	for (uint64_t k = 0;; k++) {
		pthread_mutex_lock(&x->mu);
		while (!x->stop && k - x->released >= NBATCH)
			pthread_cond_wait(&x->cv, &x->mu);
		int stop = x->stop;
		pthread_mutex_unlock(&x->mu);
		if (stop)
			return NULL;
		xbatch *b = &x->b[k % NBATCH];
		produce(x, b);
		__atomic_store_n(&x->consumed, wn_input_consumed(&x->in), __ATOMIC_RELAXED);
		pthread_mutex_lock(&x->mu);
		x->published = k + 1;
		x->seen = x->recno;
		x->done = b->err || b->end;
		pthread_cond_broadcast(&x->cv);
		stop = x->stop || x->done;
		pthread_mutex_unlock(&x->mu);
		if (stop)
			return NULL;
	}
}

/* Start the reading thread, once, for a regular file (whose reads never wait long, so
 * that closing the source can stop it); anything else is read in the caller's thread. */
static int start(xsrc *x)
{
	if (x->started)
		return 0;
	x->started = 1;
	if (!x->in.regular || x->in.parent)
		return 0;
	if (pthread_mutex_init(&x->mu, NULL))
		return 0;
	if (pthread_cond_init(&x->cv, NULL)) {
		pthread_mutex_destroy(&x->mu);
		return 0;
	}
	x->threaded = 1;
	if (pthread_create(&x->th, NULL, reader_main, x)) {
		x->threaded = 0;
		pthread_cond_destroy(&x->cv);
		pthread_mutex_destroy(&x->mu);
	}
	return 0;
}

/* ---- the source ---- */

static int xml_next(wn_source *s, wn_srec *r, int may_move)
{
	xsrc *x = (xsrc *)s;
	xbatch *c = x->out;
	while (!c || c->qhead == c->nq) {
		if (c && c->err)
			return c->err;
		if (c && c->end)
			return 0;
		if (!may_move)
			return 2;       /* the next records are in another batch, or in this one again */
		start(x);
		if (!x->threaded) {
			c = x->out = &x->b[0];
			produce(x, c);
			continue;
		}
		pthread_mutex_lock(&x->mu);
		if (c)
			x->released++;
		pthread_cond_broadcast(&x->cv);
		while (x->taken == x->published)
			pthread_cond_wait(&x->cv, &x->mu);
		c = x->out = &x->b[x->taken++ % NBATCH];
		pthread_mutex_unlock(&x->mu);
	}
	const xrec *q = &c->q[c->qhead++];
	r->rec = c->ready.p ? c->ready.p + q->at : "";
	r->len = q->len;
	r->lineno = q->line;
	r->off = q->off;
	r->end = q->recno;
	r->toolong_len = q->toolong_len;
	r->code = q->code;
	r->why = q->why;
	return 1;
}

/* Records before number pos are parsed, not built (rec_start): wait until the reading
 * reached it, or read up to it here. */
static int xml_skip(wn_source *s, uint64_t pos, uint64_t recno)
{
	xsrc *x = (xsrc *)s;
	(void)recno;
	if (x->started)
		return fail(x, WN_E_USAGE, "skip after reading");
	x->skip_to = pos;
	start(x);
	int err = 0, end = 0;
	if (x->threaded) {
		pthread_mutex_lock(&x->mu);
		while (x->seen < pos && !x->done)
			pthread_cond_wait(&x->cv, &x->mu);
		if (x->seen < pos) {
			const xbatch *last = &x->b[(x->published - 1) % NBATCH];
			err = last->err;
			end = last->end;
		}
		pthread_mutex_unlock(&x->mu);
	} else {
		xbatch *c = x->out = &x->b[0];
		while (x->recno < pos && !c->err && !c->end)
			produce(x, c);
		if (x->recno < pos) {
			err = c->err;
			end = c->end;
		}
	}
	if (err)
		return err;
	if (end)
		return fail(x, WN_E_MISMATCH, "the document does not match what an earlier run read (it has %llu records, "
			"not %llu)", (unsigned long long)x->recno, (unsigned long long)pos);
	return 0;
}

static uint64_t xml_consumed(wn_source *s)
{
	xsrc *x = (xsrc *)s;
	return x->threaded ? __atomic_load_n(&x->consumed, __ATOMIC_RELAXED) : wn_input_consumed(&x->in);
}

static void xml_close(wn_source *s)
{
	xsrc *x = (xsrc *)s;
	if (x->threaded) {
		pthread_mutex_lock(&x->mu);
		x->stop = 1;
		pthread_cond_broadcast(&x->cv);
		pthread_mutex_unlock(&x->mu);
		pthread_join(x->th, NULL);
		pthread_cond_destroy(&x->cv);
		pthread_mutex_destroy(&x->mu);
	}
	if (x->ctxt) {
		xmlFreeDoc(x->ctxt->myDoc);
		x->ctxt->myDoc = NULL;
		xmlFreeParserCtxt(x->ctxt);
	}
	wn_input_close(&x->in);
	free(x->chunk);
	free(x->nodes);
	free(x->attrs);
	free(x->pieces);
	for (int i = 0; i < NBATCH; i++) {
		free(x->b[i].q);
		wn_buf_free(&x->b[i].ready);
	}
	wn_buf_free(&x->bytes);
	wn_buf_free(&x->tmp);
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
	/* a record's tree: a quarter of the budget, and at least twice the JSON it may
	 * become (a node takes 56 bytes: an element list of 5M <e/> fits the default) */
	x->cap = o->memory / 4;
	if (x->cap < 2 * o->max_line + (1u << 20))
		x->cap = 2 * o->max_line + (1u << 20);
	if (x->cap > UINT32_MAX / 2)
		x->cap = UINT32_MAX / 2;
	*out = &x->s;
	LIBXML_TEST_VERSION
	if (!(x->chunk = malloc(FEED)))
		return fail(x, WN_E_NOMEM, "cannot start the XML parser");
	/* libxml2's SAX2 handler for what it keeps to itself (the DTD's entities, the
	 * document's start and end), ours for what makes records */
	xmlSAXVersion(&x->sax, 2);
	x->sax.startElementNs = on_start;
	x->sax.endElementNs = on_end;
	x->sax.startElement = NULL;
	x->sax.endElement = NULL;
	x->sax.characters = on_text;
	x->sax.ignorableWhitespace = on_text;
	x->sax.cdataBlock = NULL;
	x->sax.reference = on_reference;
	x->sax.comment = on_comment;
	x->sax.processingInstruction = on_pi;
	x->sax.serror = on_error;
	x->sax.error = NULL;
	x->sax.warning = NULL;
	return 0;
}
