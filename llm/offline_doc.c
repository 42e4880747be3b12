/*
 * offline_doc.c - a statement as lines in sections, its sentences, the
 * edits of a rewrite and their byte spans, what a text is about, and the
 * bounds and condition sentences the rewrites work on.
 */
#include "offline_int.h"

/* ---- the statement: lines in sections ----------------------------------- */

int off_editable(int sec)
{
	return sec == SEC_STMT || sec == SEC_INPUT || sec == SEC_OUTPUT || sec == SEC_CONSTR;
}

static int in_example(int sec)
{
	return sec == SEC_EXAMPLE || sec == SEC_EX_IN || sec == SEC_EX_OUT || sec == SEC_EXPL;
}

void off_trim(const char *p, size_t *a, size_t *b)
{
	*a = off_skip_ws(p, *a, *b);
	while (*b > *a) {
		if (*b - *a >= 2 && (unsigned char)p[*b - 2] == 0xc2 &&
		    (unsigned char)p[*b - 1] == 0xa0)
			*b -= 2;
		else if (off_space_len(p, *b - 1, *b) == 1)
			*b -= 1;
		else
			break;
	}
}

/* Is t a line of text after "Input:" / "Output:"? */
static int inline_after(const char *t, size_t n, const char *label)
{
	size_t m = strlen(label), a, b;

	if (!off_starts_ci(t, n, label))
		return 0;
	a = m;
	b = n;
	off_trim(t, &a, &b);
	return b > a;
}

static int header_kind(const char *t, size_t n)
{
	size_t m, b;

	if (n >= 6 && memcmp(t, "---", 3) == 0 && memcmp(t + n - 3, "---", 3) == 0) {
		const char *s = t;

		m = n;
		while (m && (*s == '-' || *s == ' ')) {
			s++;
			m--;
		}
		while (m && (s[m - 1] == '-' || s[m - 1] == ' '))
			m--;
		if (m == 0)
			return H_NONE;
		if (off_contains_ci(s, m, "sample input") || off_contains_ci(s, m, "example input") ||
		    off_contains_ci(s, m, "input example"))
			return H_EX_IN;
		if (off_contains_ci(s, m, "sample output") || off_contains_ci(s, m, "example output") ||
		    off_contains_ci(s, m, "output example"))
			return H_EX_OUT;
		if (off_contains_ci(s, m, "example") || off_contains_ci(s, m, "sample"))
			return H_EXAMPLE;
		if (off_contains_ci(s, m, "input"))
			return H_INPUT;
		if (off_contains_ci(s, m, "output"))
			return H_OUTPUT;
		if (off_contains_ci(s, m, "constraint"))
			return H_CONSTR;
		if (off_contains_ci(s, m, "note") || off_contains_ci(s, m, "explanation"))
			return H_NOTE;
		return H_STMT;
	}
	if (inline_after(t, n, "input:"))
		return H_IN_INLINE;
	if (inline_after(t, n, "output:"))
		return H_OUT_INLINE;
	if (inline_after(t, n, "explanation:"))
		return H_EXPL_INLINE;
	if (off_starts_ci(t, n, "follow up") || off_starts_ci(t, n, "follow-up"))
		return H_FOLLOW;
	if (n > 32)
		return H_NONE;
	m = n;
	while (m && (t[m - 1] == ':' || t[m - 1] == ' '))
		m--;
	b = m;
	while (b && (off_is_digit((unsigned char)t[b - 1]) || t[b - 1] == ' '))
		b--;
	if (off_same_ci(t, b, "example") || off_same_ci(t, b, "examples"))
		return H_LC_EXAMPLE;
	if (off_same_ci(t, m, "constraints") || off_same_ci(t, m, "constraint"))
		return H_CONSTR;
	if (off_same_ci(t, m, "note") || off_same_ci(t, m, "notes"))
		return H_LC_NOTE;
	if (off_same_ci(t, b, "sample input") || off_same_ci(t, b, "example input"))
		return H_EX_IN;
	if (off_same_ci(t, b, "sample output") || off_same_ci(t, b, "example output"))
		return H_EX_OUT;
	if (off_same_ci(t, m, "input") || off_same_ci(t, m, "input format"))
		return H_PLAIN_IN;
	if (off_same_ci(t, m, "output") || off_same_ci(t, m, "output format"))
		return H_PLAIN_OUT;
	if (off_same_ci(t, m, "explanation"))
		return H_EXPL;
	return H_NONE;
}

/* Enough words to be a sentence rather than data? */
static int looks_prose(const char *t, size_t n)
{
	int words = 0;

	for (size_t i = 0; i < n;) {
		size_t k = i;

		while (k < n && off_is_alpha((unsigned char)t[k]))
			k++;
		if (k - i >= 3)
			words++;
		i = k > i ? k : i + 1;
	}
	return words >= 3;
}

static void mark_urls(struct doc *d)
{
	for (size_t i = 0; i < d->n; i++) {
		size_t e;

		if (!off_starts_ci(d->p + i, d->n - i, "http://") &&
		    !off_starts_ci(d->p + i, d->n - i, "https://") &&
		    !off_starts_ci(d->p + i, d->n - i, "www."))
			continue;
		e = i;
		while (e < d->n && !off_space_len(d->p, e, d->n) && d->p[e] != ')' && d->p[e] != ']')
			e++;
		memset(d->url + i, 1, e - i);
		i = e;
	}
}

static void classify(struct doc *d, struct line *l, struct parse_state *st)
{
	size_t a = l->off, b = l->off + l->len;
	const char *t;
	size_t tn;
	int h, ctx = in_example(st->sec) || (st->sec == SEC_NOTE && st->ex > 0);

	off_trim(d->p, &a, &b);
	t = d->p + a;
	tn = b - a;
	if (tn >= 3 && memcmp(t, "```", 3) == 0) {
		st->code = !st->code;
		l->sec = SEC_CODE;
		return;
	}
	if (st->code) {
		l->sec = SEC_CODE;
		return;
	}
	h = tn ? header_kind(t, tn) : H_NONE;
	l->sec = SEC_HEADER;
	switch (h) {
	case H_STMT: st->sec = SEC_STMT; return;
	case H_INPUT: st->sec = SEC_INPUT; return;
	case H_OUTPUT: st->sec = SEC_OUTPUT; return;
	case H_CONSTR: st->sec = SEC_CONSTR; return;
	case H_LC_NOTE: st->sec = ctx || d->leetcode ? SEC_CONSTR : SEC_STMT; return;
	case H_NOTE: st->sec = SEC_NOTE; return;
	case H_EXAMPLE: st->sec = SEC_EXAMPLE; return;
	case H_LC_EXAMPLE:
		st->sec = SEC_EXAMPLE;
		st->ex++;
		st->pending = 1;
		d->leetcode = 1;
		return;
	case H_EX_IN:
		st->sec = SEC_EX_IN;
		st->ex++;
		st->pending = 0;
		return;
	case H_EX_OUT:
		st->sec = SEC_EX_OUT;
		if (!st->ex)
			st->ex = 1;
		st->exline = 0;
		st->gap = 0;
		return;
	case H_PLAIN_IN:
		if (ctx) {
			if (!st->pending)
				st->ex++;
			st->pending = 0;
			st->sec = SEC_EX_IN;
		} else {
			st->sec = SEC_INPUT;
		}
		return;
	case H_PLAIN_OUT:
		if (ctx) {
			st->sec = SEC_EX_OUT;
			if (!st->ex)
				st->ex = 1;
			st->exline = 0;
			st->gap = 0;
		} else {
			st->sec = SEC_OUTPUT;
		}
		return;
	case H_EXPL:
		st->sec = ctx ? SEC_EXPL : SEC_NOTE;
		return;
	case H_FOLLOW:
		st->sec = SEC_NOTE;
		l->sec = SEC_NOTE;
		return;
	case H_IN_INLINE:
		if (ctx || d->leetcode) {
			if (!st->pending || st->sec == SEC_EX_OUT)
				st->ex++;
			st->pending = 0;
			st->sec = SEC_EX_IN;
			l->sec = SEC_EX_IN;
			l->ex = st->ex;
		} else {
			st->sec = SEC_INPUT;
			l->sec = SEC_INPUT;
		}
		return;
	case H_OUT_INLINE:
		if (ctx || d->leetcode) {
			st->sec = SEC_EX_OUT;
			if (!st->ex)
				st->ex = 1;
			st->exline = 1;
			st->gap = 0;
			l->sec = SEC_EX_OUT;
			l->ex = st->ex;
			l->exline = 1;
		} else {
			st->sec = SEC_OUTPUT;
			l->sec = SEC_OUTPUT;
		}
		return;
	case H_EXPL_INLINE:
		st->sec = ctx || d->leetcode ? SEC_EXPL : SEC_NOTE;
		l->sec = st->sec;
		l->ex = st->ex;
		return;
	default:
		break;
	}
	if (st->sec == SEC_EX_OUT) {
		if (!tn) {
			if (st->exline)
				st->gap = 1;
		} else if ((st->gap || d->leetcode) && st->exline && looks_prose(t, tn)) {
			st->sec = d->leetcode ? SEC_EXPL : SEC_NOTE;
		} else {
			st->exline++;
			l->exline = st->exline;
		}
	} else if (st->sec == SEC_EXPL && d->leetcode && tn && off_starts_ci(t, tn, "note:")) {
		st->sec = SEC_CONSTR;
	}
	l->sec = st->sec;
	l->ex = in_example(st->sec) || st->sec == SEC_NOTE ? st->ex : 0;
}

void off_doc_release(struct doc *d)
{
	free(d->lines);
	free(d->url);
	memset(d, 0, sizeof(*d));
}

int off_doc_parse(struct doc *d, const char *p, size_t n)
{
	struct parse_state st = { SEC_STMT, 0, 0, 0, 0, 0 };
	size_t cap = 1, start = 0;

	memset(d, 0, sizeof(*d));
	d->p = p;
	d->n = n;
	for (size_t i = 0; i < n; i++)
		cap += p[i] == '\n';
	d->lines = calloc(cap, sizeof(*d->lines));
	d->url = calloc(n + 1, 1);
	if (!d->lines || !d->url) {
		off_doc_release(d);
		return CL_ENOMEM;
	}
	mark_urls(d);
	for (;;) {
		size_t e = start;
		struct line *l;

		while (e < n && p[e] != '\n')
			e++;
		l = &d->lines[d->nlines++];
		l->off = start;
		l->len = e - start;
		l->end = e < n ? e + 1 : e;
		classify(d, l, &st);
		if (l->ex > d->nex)
			d->nex = l->ex;
		if (e >= n)
			break;
		start = e + 1;
	}
	return 0;
}

int off_line_blank(const struct doc *d, size_t li)
{
	size_t a = d->lines[li].off, b = a + d->lines[li].len;

	off_trim(d->p, &a, &b);
	return a == b;
}

/* The example that owns line li: its number of output data lines. */
int off_output_lines(const struct doc *d, size_t li)
{
	int k = 0;
	size_t j = li;

	while (j > 0 && d->lines[j - 1].sec == SEC_EX_OUT && d->lines[j - 1].ex == d->lines[li].ex)
		j--;
	for (; j < d->nlines && (d->lines[j].sec == SEC_EX_OUT || off_line_blank(d, j)) &&
	       d->lines[j].ex == d->lines[li].ex; j++)
		if (d->lines[j].exline > k)
			k = d->lines[j].exline;
	return k;
}

/* ---- sentences ------------------------------------------------------------ */

/* The end of the sentence that starts at s (past its full stop). */
static size_t sentence_end(const char *p, size_t s, size_t e)
{
	static const char *const abbrev[] = {
		"e.g", "i.e", "etc", "vs", "Mr", "Mrs", "Dr", "St", "cf",
	};

	for (size_t i = s; i < e; i++) {
		size_t k, w;
		unsigned char c = (unsigned char)p[i], nx;

		if (c != '.' && c != '!' && c != '?')
			continue;
		if (i + 1 < e && !off_space_len(p, i + 1, e))
			continue;
		k = off_skip_sp(p, i + 1, e);
		nx = off_at(p, k, e);
		if (k < e && !(nx >= 'A' && nx <= 'Z') && nx != '$' && !off_is_digit(nx) && nx != '(' &&
		    nx != '"' && nx != '*' && nx != '`' && nx < 0x80)
			continue;
		w = i;
		while (w > s && (off_is_alpha((unsigned char)p[w - 1]) || p[w - 1] == '.'))
			w--;
		for (size_t a = 0; a < CL_ARRAY_SIZE(abbrev) && c == '.'; a++)
			if (i - w == strlen(abbrev[a]) && memcmp(p + w, abbrev[a], i - w) == 0)
				goto next;
		return i + 1;
next:
		;
	}
	return e;
}

static int sents_add(struct sents *s, size_t off, size_t len, size_t line)
{
	if (ARRAY_GROW(s->v, s->cap, s->n, 32))
		return CL_ENOMEM;
	s->v[s->n].off = off;
	s->v[s->n].len = len;
	s->v[s->n].line = line;
	s->v[s->n].first = s->n == 0;
	s->n++;
	return 0;
}

static int split_sentences(const struct doc *d, struct sents *out)
{
	for (size_t li = 0; li < d->nlines; li++) {
		const struct line *l = &d->lines[li];
		size_t a = l->off, b = l->off + l->len;

		if (!off_editable(l->sec))
			continue;
		off_trim(d->p, &a, &b);
		while (a < b) {
			size_t e = sentence_end(d->p, a, b);
			size_t ta = a, tb = e;
			int rc;

			off_trim(d->p, &ta, &tb);
			if (tb > ta) {
				rc = sents_add(out, ta, tb - ta, li);
				if (rc)
					return rc;
			}
			a = off_skip_sp(d->p, e, b);
		}
	}
	return 0;
}

int off_words_in(const char *p, size_t n)
{
	int w = 0;

	for (size_t i = 0; i < n;) {
		size_t k = i;

		while (k < n && off_is_alpha((unsigned char)p[k]))
			k++;
		if (k - i >= 2)
			w++;
		i = k > i ? k : i + 1;
	}
	return w;
}

/* The span that removes a sentence with its spacing, or its whole line. */
void off_sentence_drop_span(const struct doc *d, const struct sent *s, size_t *off, size_t *len)
{
	const struct line *l = &d->lines[s->line];
	size_t a = l->off, b = l->off + l->len, e = s->off + s->len, k;

	off_trim(d->p, &a, &b);
	if (s->off == a && e == b) {
		*off = l->off;
		*len = l->end - l->off;
		/* no double blank line where it was */
		if ((s->line == 0 || off_line_blank(d, s->line - 1)) && s->line + 1 < d->nlines &&
		    off_line_blank(d, s->line + 1))
			*len = d->lines[s->line + 1].end - l->off;
		return;
	}
	if (e < b) {
		k = off_skip_sp(d->p, e, b);
		*off = s->off;
		*len = k - s->off;
		return;
	}
	k = s->off;
	while (k > a && off_space_len(d->p, k - 1, b) == 1)
		k--;
	*off = k;
	*len = e - k;
}

/* ---- edits ---------------------------------------------------------------- */

/* Add a replacement unless it overlaps one already there: 0 added, 1 not. */
int off_spans_add(struct spans *s, size_t off, size_t len, const char *repl)
{
	for (size_t i = 0; i < s->n; i++)
		if (off < s->v[i].off + s->v[i].len + (s->v[i].len == 0) &&
		    s->v[i].off < off + len + (len == 0))
			return 1;
	if (ARRAY_GROW(s->v, s->cap, s->n, 16))
		return CL_ENOMEM;
	s->v[s->n].off = off;
	s->v[s->n].len = len;
	off_copy_text(s->v[s->n].repl, sizeof(s->v[s->n].repl), repl, strlen(repl));
	s->n++;
	return 0;
}

/* Does any replacement touch p[a..b)? */
int off_spans_touch(const struct spans *s, size_t a, size_t b)
{
	for (size_t i = 0; i < s->n; i++)
		if (a <= s->v[i].off + s->v[i].len && s->v[i].off <= b)
			return 1;
	return 0;
}

static int span_cmp(const void *a, const void *b)
{
	const struct span *x = a, *y = b;

	return x->off < y->off ? -1 : x->off > y->off;
}

int off_spans_apply(struct spans *s, const char *p, size_t n, struct buf *out)
{
	size_t pos = 0;
	int rc;

	qsort(s->v, s->n, sizeof(*s->v), span_cmp);
	for (size_t i = 0; i < s->n; i++) {
		rc = buf_add(out, p + pos, s->v[i].off - pos);
		if (rc)
			return rc;
		rc = buf_adds(out, s->v[i].repl);
		if (rc)
			return rc;
		pos = s->v[i].off + s->v[i].len;
	}
	return buf_add(out, p + pos, n - pos);
}

struct edit *off_edit_new(struct rewrite *w, int kind)
{
	struct edit *e;

	if (w->ne >= MAX_EDITS)
		return NULL;
	e = &w->e[w->ne++];
	memset(e, 0, sizeof(*e));
	e->kind = kind;
	return e;
}

/* ---- what a piece of text is about -------------------------------------- */

/* Identifier-like names in p[0..n): math between '$', `code`, "a_i", "n". */
void off_text_vars(const char *p, size_t n, char *out, size_t cap)
{
	char names[3][24];
	size_t nn = 0, o = 0;
	int math = 0, code = 0;

	out[0] = '\0';
	for (size_t i = 0; i < n && nn < 3;) {
		unsigned char c = (unsigned char)p[i];
		size_t e = i, len;
		int ok;

		if (c == '$') {
			math = !math;
			i++;
			continue;
		}
		if (c == '`') {
			code = !code;
			i++;
			continue;
		}
		if (c == '\\') { /* a LaTeX command is not a name */
			i++;
			while (i < n && off_is_alpha(off_at(p, i, n)))
				i++;
			continue;
		}
		if (!off_is_alpha(c)) {
			i++;
			continue;
		}
		while (e < n && (off_is_alnum(off_at(p, e, n)) || p[e] == '_' ||
				 ((p[e] == '{' || p[e] == '}') && math)))
			e++;
		len = e - i;
		ok = 0;
		if (math || code)
			ok = len <= 12;
		else if (len == 1)
			ok = c != 'a' && c != 'A' && c != 'I';
		else if (memchr(p + i, '_', len))
			ok = len <= 12;
		else if (len <= 3 && off_is_digit(off_at(p, e - 1, n)))
			ok = 1; /* x1, a2 */
		if (i > 0 && (p[i - 1] == '\'' || p[i - 1] == '-' || off_word_before(p, i)))
			ok = 0;
		if (off_at(p, e, n) == '-' || off_at(p, e, n) == '\'' || (off_at(p, e, n) == '(' && !math))
			ok = 0;
		if (ok) {
			char name[24];
			size_t k = 0;
			int dup = 0;

			for (size_t j = i; j < e && k + 1 < sizeof(name); j++)
				if (p[j] != '{' && p[j] != '}')
					name[k++] = p[j];
			name[k] = '\0';
			for (size_t j = 0; j < nn; j++)
				dup |= strcmp(names[j], name) == 0;
			if (!dup && k)
				memcpy(names[nn++], name, k + 1);
		}
		i = e;
	}
	for (size_t j = 0; j < nn; j++) {
		const char *sep = j == 0 ? "" : j + 1 == nn ? " and " : ", ";
		size_t need = strlen(sep) + strlen(names[j]);

		if (o + need + 1 > cap)
			break;
		memcpy(out + o, sep, strlen(sep));
		o += strlen(sep);
		memcpy(out + o, names[j], strlen(names[j]));
		o += strlen(names[j]);
		out[o] = '\0';
	}
}

/* What a condition sentence is about, and how much it matters (2 high). */
int off_classify_condition(const char *p, size_t n, int *cls)
{
	static const struct {
		const char *w;
		int cls, tier;
	} kw[] = {
		{ "guaranteed", KW_GUAR, 2 }, { "guarantee", KW_GUAR, 2 },
		{ "guarantees", KW_GUAR, 2 }, { "modulo", KW_MOD, 2 }, { "mod", KW_MOD, 2 },
		{ "distinct", KW_DISTINCT, 2 }, { "unique", KW_DISTINCT, 2 },
		{ "pairwise", KW_DISTINCT, 2 }, { "at most", KW_LIMIT, 2 },
		{ "at least", KW_LIMIT, 2 }, { "no more than", KW_LIMIT, 2 },
		{ "not exceed", KW_LIMIT, 2 }, { "no less than", KW_LIMIT, 2 },
		{ "sorted", KW_ORDER, 2 }, { "increasing", KW_ORDER, 2 },
		{ "decreasing", KW_ORDER, 2 }, { "if", KW_IF, 3 }, { "each", KW_EACH, 3 },
		{ "every", KW_EACH, 3 }, { "must", KW_NONE, 3 }, { "only", KW_NONE, 3 },
	};

	for (size_t k = 0; k < CL_ARRAY_SIZE(kw); k++) {
		if (!off_count_phrase(p, n, kw[k].w))
			continue;
		*cls = kw[k].cls;
		if (*cls == KW_GUAR &&
		    (off_contains_ci(p, n, "answer") || off_contains_ci(p, n, "exist") ||
		     off_contains_ci(p, n, "solution") || off_contains_ci(p, n, "possible")))
			*cls = KW_GUAR_ANSWER;
		return kw[k].tier;
	}
	*cls = KW_NONE;
	return 0;
}

/* ---- bounds --------------------------------------------------------------- */

static struct bound *bounds_new(struct bounds *b)
{
	if (ARRAY_GROW(b->v, b->cap, b->n, 16))
		return NULL;
	memset(&b->v[b->n], 0, sizeof(b->v[0]));
	return &b->v[b->n++];
}

/* "where", "such that", ", with": the start of the clause before pos, or pos. */
static size_t clause_start(const char *p, size_t lo, size_t pos)
{
	static const char *const conn[] = { "where", "such that", "so that", "with", "satisfying",
					    "for", "and", "if" };
	size_t j = pos;

	while (j > lo && p[j - 1] == ' ')
		j--;
	for (size_t k = 0; k < CL_ARRAY_SIZE(conn); k++) {
		size_t m = strlen(conn[k]);

		if (j - lo < m || !off_phrase_at(p, j - m, pos, conn[k]))
			continue;
		j -= m;
		while (j > lo && p[j - 1] == ' ')
			j--;
		if (j > lo && p[j - 1] == ',')
			j--;
		return j;
	}
	return pos;
}

const struct sent *off_sentence_of(const struct sents *ss, size_t pos)
{
	for (size_t i = 0; i < ss->n; i++)
		if (pos >= ss->v[i].off && pos < ss->v[i].off + ss->v[i].len)
			return &ss->v[i];
	return NULL;
}

/* Is p[a..b) a line that is all bound: "- 1 ≦ N ≦ 10^5", "1 <= k <= 1000"? */
static size_t bullet_len(const char *p, size_t a, size_t b)
{
	size_t k = a;

	if (k < b && (p[k] == '-' || p[k] == '*') && off_at(p, k + 1, b) == ' ')
		k += 2;
	else if (b - k >= 3 && memcmp(p + k, "\xe2\x80\xa2", 3) == 0)
		k += 3;
	return off_skip_sp(p, k, b) - a;
}

size_t off_first_op(const char *p, size_t a, size_t b)
{
	for (size_t i = a; i < b; i++)
		if (off_op_at(p, i, b))
			return i;
	return b;
}

static int prose_words(const char *p, size_t a, size_t b)
{
	int w = 0;

	for (size_t i = a; i < b;) {
		size_t k = i;

		while (k < b && off_is_alpha((unsigned char)p[k]))
			k++;
		if (k - i >= 4 &&
		    !(i > a && (p[i - 1] == '.' || p[i - 1] == '\\' || p[i - 1] == '_')) &&
		    !(k < b && (p[k] == '_' || p[k] == '[' || p[k] == '(')))
			w++;
		i = k > i ? k : i + 1;
	}
	return w;
}

/* Every name bounded in p[a..b): "($1 \le n \le 100$, $-10^9 \le m \le 10^9$)"
 * gives "n and m". */
static void bounded_names(const char *p, size_t a, size_t b, char *out, size_t cap, int *plural)
{
	char names[3][24];
	size_t nn = 0, o = 0;

	out[0] = '\0';
	for (size_t i = a; i < b && nn < 3; i++) {
		struct chain c;

		if (!off_op_at(p, i, b) || !off_chain_at(p, a, b, i, &c))
			continue;
		for (size_t k = 0; k < c.na && nn < 3; k++) {
			char v[64], *t, *save = NULL;

			if (off_numeric(p, c.a[k], c.b[k]))
				continue;
			if (c.na >= 3 && (k == 0 || k + 1 == c.na))
				continue; /* in "1 <= j <= n", n is the bound, j the quantity */
			off_clean_math(p + c.a[k], c.b[k] - c.a[k], v, sizeof(v));
			for (t = strtok_r(v, ", ", &save); t && nn < 3;
			     t = strtok_r(NULL, ", ", &save)) {
				int dup = 0;

				if (strlen(t) >= sizeof(names[0]) || strcmp(t, "and") == 0)
					continue;
				for (size_t j = 0; j < nn; j++)
					dup |= strcmp(names[j], t) == 0;
				if (!dup)
					memcpy(names[nn++], t, strlen(t) + 1);
			}
		}
		i = c.b[c.na - 1];
	}
	for (size_t j = 0; j < nn; j++) {
		const char *sep = j == 0 ? "" : j + 1 == nn ? " and " : ", ";

		if (o + strlen(sep) + strlen(names[j]) + 1 > cap)
			break;
		o += (size_t)snprintf(out + o, cap - o, "%s%s", sep, names[j]);
	}
	*plural = nn > 1;
}

static void bound_set_chain(struct bound *bd, const char *p, const struct chain *c)
{
	off_chain_var(p, c, bd->var, sizeof(bd->var), bd->raw, sizeof(bd->raw), &bd->plural);
	memcpy(bd->cvar, bd->var, sizeof(bd->cvar));
	bd->cplural = bd->plural;
	if (c->na >= 2 && off_numeric(p, c->a[c->na - 1], c->b[c->na - 1])) {
		bd->up_off = c->a[c->na - 1];
		bd->up_len = c->b[c->na - 1] - c->a[c->na - 1];
	}
	if (c->na >= 2 && off_numeric(p, c->a[0], c->b[0])) {
		bd->lo_off = c->a[0];
		bd->lo_len = c->b[0] - c->a[0];
	}
}

static int conds_add(struct conds *c, size_t line, int cls, const char *vars)
{
	if (ARRAY_GROW(c->v, c->cap, c->n, 8))
		return CL_ENOMEM;
	c->v[c->n].line = line;
	c->v[c->n].cls = cls;
	off_copy_text(c->v[c->n].vars, sizeof(c->v[c->n].vars), vars, strlen(vars));
	c->n++;
	return 0;
}

static int find_line_bound(const struct doc *d, size_t li, struct bounds *bs, struct conds *cs)
{
	const struct line *l = &d->lines[li];
	const char *p = d->p;
	size_t a = l->off, b = l->off + l->len, s, o, tok;
	struct chain c;
	struct bound *bd;

	off_trim(p, &a, &b);
	if (a == b)
		return 0;
	s = a + bullet_len(p, a, b);
	if (off_at(p, s, b) == '$')
		s++;
	o = off_first_op(p, s, b);
	if (o == b)
		return 0;
	tok = s;
	while (tok < o && !off_space_len(p, tok, o))
		tok++;
	if (off_skip_sp(p, tok, o) != o && tok != o)
		return 0; /* the line does not start "operand op" */
	if (tok - s > 24)
		return 0;
	if (l->sec != SEC_CONSTR && prose_words(p, s, b) > 2)
		return 0;
	if (!off_chain_at(p, s, b, o, &c))
		return 0;
	if (!off_chain_has_number(p, &c)) {
		char vars[64];

		off_text_vars(p + s, b - s, vars, sizeof(vars));
		if (!vars[0])
			off_chain_var(p, &c, vars, sizeof(vars), NULL, 0, &(int){ 0 });
		return conds_add(cs, li, KW_REL, vars) ? CL_ENOMEM : 1;
	}
	bd = bounds_new(bs);
	if (!bd)
		return CL_ENOMEM;
	bd->kind = B_LINE;
	bd->line = li;
	bd->drop_off = l->off;
	bd->drop_len = l->end - l->off;
	bound_set_chain(bd, p, &c);
	if (bd->var[0]) {
		bd->amb = AMB_LINE;
		bd->amb_off = a + bullet_len(p, a, b);
		bd->amb_len = (l->off + l->len) - bd->amb_off;
		while (bd->amb_len &&
		       off_space_len(p, bd->amb_off + bd->amb_len - 1, l->off + l->len) == 1)
			bd->amb_len--;
	}
	return 1;
}

/* May "x > 1" that starts at pos lose its number?  Not after "such that",
 * "if", "is": there the comparison is the whole clause. */
static int droppable_pair(const char *p, size_t lo, size_t pos)
{
	static const char *const stop[] = {
		"that", "where", "if", "when", "while", "until", "whether", "is", "are", "be",
		"so", "unless", "and", "or", "with", "for", "iff", "because", "since", "as",
	};
	size_t e = pos, s;

	while (e > lo && p[e - 1] == ' ')
		e--;
	s = e;
	while (s > lo && off_is_alpha((unsigned char)p[s - 1]))
		s--;
	for (size_t k = 0; k < CL_ARRAY_SIZE(stop); k++)
		if (off_same_ci(p + s, e - s, stop[k]))
			return 0;
	return e > s; /* a word, not punctuation, comes before it */
}

static int find_bounds_in_line(const struct doc *d, size_t li, const struct sents *ss,
			       struct bounds *bs)
{
	const struct line *l = &d->lines[li];
	const char *p = d->p;
	size_t a = l->off, b = l->off + l->len;
	unsigned char *taken;
	int first_line = off_contains_ci(p + a, b - a, "first line");
	int rc = 0;

	taken = calloc(b - a + 1, 1);
	if (!taken)
		return CL_ENOMEM;
	/* (1 ≤ n ≤ 100), ($1 \le q \le 10^4$) */
	for (size_t i = a; i < b; i++) {
		size_t depth = 0, c, o, s;
		struct chain ch;
		struct bound *bd;

		if (p[i] != '(' || d->url[i])
			continue;
		for (c = i; c < b; c++) {
			if (p[c] == '(')
				depth++;
			else if (p[c] == ')' && --depth == 0)
				break;
		}
		if (c >= b || c - i > 160)
			continue;
		s = i + 1;
		while (s < c && (p[s] == '$' || p[s] == ' '))
			s++;
		o = off_first_op(p, s, c);
		if (o == c || o - s > 40 || !off_chain_at(p, s, c, o, &ch) || !off_chain_has_number(p, &ch))
			continue;
		if (ch.a[0] > s + 1)
			continue; /* "(the largest j such that p_j < 0)": not a bound */
		bd = bounds_new(bs);
		if (!bd) {
			rc = CL_ENOMEM;
			goto out;
		}
		bd->kind = B_PAREN;
		bd->line = li;
		bound_set_chain(bd, p, &ch);
		if (bd->var[0]) {
			char all[64];
			int pl;

			bounded_names(p, i + 1, c, all, sizeof(all), &pl);
			if (all[0]) {
				memcpy(bd->var, all, sizeof(bd->var));
				bd->plural = pl;
			}
		}
		if (i > a && p[i - 1] == '$' && off_at(p, c + 1, b) == '$') {
			i--; /* $(1 \le t \le 1000)$ */
			c++;
		}
		bd->drop_off = i;
		while (bd->drop_off > a && p[bd->drop_off - 1] == ' ')
			bd->drop_off--;
		bd->drop_len = c + 1 - bd->drop_off;
		if (bd->var[0]) {
			bd->amb = AMB_PAREN;
			bd->amb_off = i;
			bd->amb_len = c + 1 - i;
		}
		bd->first_line_bound = first_line;
		first_line = 0;
		memset(taken + (i - a), 1, c + 1 - i);
		i = c;
	}
	/* $1 \le n \le 10^5$ in a sentence */
	for (size_t i = a; i < b; i++) {
		size_t c, o;
		struct chain ch;
		struct bound *bd;
		const struct sent *se;

		if (p[i] != '$' || taken[i - a] || d->url[i])
			continue;
		if (off_at(p, i + 1, b) == '$') {
			i++;
			continue;
		}
		for (c = i + 1; c < b && p[c] != '$'; c++)
			;
		if (c >= b)
			break;
		for (size_t k = i; k <= c; k++)
			if (taken[k - a])
				goto next_math;
		memset(taken + (i - a), 2, c + 1 - i);
		o = off_first_op(p, i + 1, c);
		if (o == c || !off_chain_at(p, i + 1, c, o, &ch) || !off_chain_has_number(p, &ch)) {
			i = c;
			continue;
		}
		bd = bounds_new(bs);
		if (!bd) {
			rc = CL_ENOMEM;
			goto out;
		}
		bd->kind = B_MATH;
		bd->line = li;
		bound_set_chain(bd, p, &ch);
		if (ch.na == 2 && !droppable_pair(p, a, i)) {
			bs->n--;
			i = c;
			continue;
		}
		if (ch.na == 2) {
			if (off_numeric(p, ch.a[1], ch.b[1]) && !off_numeric(p, ch.a[0], ch.b[0])) {
				bd->drop_off = ch.b[0];
				bd->drop_len = ch.b[1] - ch.b[0];
			} else if (off_numeric(p, ch.a[0], ch.b[0]) && !off_numeric(p, ch.a[1], ch.b[1])) {
				bd->drop_off = ch.a[0];
				bd->drop_len = ch.a[1] - ch.a[0];
			} else {
				bs->n--;
				i = c;
				continue;
			}
		} else {
			size_t cs = clause_start(p, a, i);

			if (cs < i) {
				bd->drop_off = cs;
				bd->drop_len = c + 1 - cs;
			} else {
				se = off_sentence_of(ss, i);
				if (!se || se->first) {
					bd->drop_len = 0;
				} else {
					bd->drop_sentence = 1;
					bd->drop_off = i;
				}
			}
			if (bd->var[0] && bd->raw[0] && !strchr(bd->raw, '$')) {
				bd->amb = AMB_MATH;
				bd->amb_off = i;
				bd->amb_len = c + 1 - i;
			}
		}
		if (!bd->drop_len && !bd->drop_sentence && !bd->amb) {
			bs->n--;
		} else {
			bd->first_line_bound = first_line;
			first_line = 0;
		}
next_math:
		i = c;
	}
	/* k > 1, 0 <= a, b <= 1000 in prose */
	for (size_t i = a; i < b; i++) {
		size_t m;
		struct chain ch;
		struct bound *bd;

		if (taken[i - a] || d->url[i])
			continue;
		m = off_op_at(p, i, b);
		if (!m)
			continue;
		if (!off_chain_at(p, a, b, i, &ch) || !off_chain_has_number(p, &ch)) {
			i += m - 1;
			continue;
		}
		for (size_t k = ch.a[0]; k < ch.b[ch.na - 1]; k++)
			if (taken[k - a])
				goto skip;
		bd = bounds_new(bs);
		if (!bd) {
			rc = CL_ENOMEM;
			goto out;
		}
		bd->kind = B_INLINE;
		bd->line = li;
		bound_set_chain(bd, p, &ch);
		if (ch.na == 2 && !droppable_pair(p, a, ch.a[0])) {
			bs->n--;
			goto skip;
		}
		if (ch.na == 2) {
			size_t ls = ch.b[0];

			if (off_numeric(p, ch.a[1], ch.b[1]) && !off_numeric(p, ch.a[0], ch.b[0])) {
				bd->drop_off = ls;
				bd->drop_len = ch.b[1] - ls;
			} else if (off_numeric(p, ch.a[0], ch.b[0]) && !off_numeric(p, ch.a[1], ch.b[1])) {
				bd->drop_off = ch.a[0];
				bd->drop_len = ch.a[1] - ch.a[0];
			} else {
				bs->n--;
				goto skip;
			}
		} else {
			size_t cs = clause_start(p, a, ch.a[0]);
			const struct sent *se;

			if (cs < ch.a[0]) {
				bd->drop_off = cs;
				bd->drop_len = ch.b[ch.na - 1] - cs;
				if (bd->var[0]) {
					bd->amb = AMB_CLAUSE;
					bd->amb_off = ch.a[0];
					bd->amb_len = ch.b[ch.na - 1] - ch.a[0];
				}
			} else {
				se = off_sentence_of(ss, ch.a[0]);
				if (se && !se->first) {
					bd->drop_sentence = 1;
					bd->drop_off = ch.a[0];
				} else {
					bs->n--;
					goto skip;
				}
			}
		}
		bd->first_line_bound = first_line;
		first_line = 0;
		for (size_t k = ch.a[0]; k < ch.b[ch.na - 1]; k++)
			taken[k - a] = 3;
		i = ch.b[ch.na - 1];
		continue;
skip:
		i = ch.b[ch.na - 1] > i ? ch.b[ch.na - 1] : i;
	}
out:
	free(taken);
	return rc;
}

/* ---- the analysis of one statement --------------------------------------- */

void off_ctx_release(struct ctx *x)
{
	off_doc_release(&x->d);
	free(x->ss.v);
	free(x->bs.v);
	free(x->cs.v);
	memset(x, 0, sizeof(*x));
}

int off_ctx_init(struct ctx *x, const char *p, size_t n, int cat, uint64_t seed)
{
	int rc;

	memset(x, 0, sizeof(*x));
	x->cat = cat;
	x->rng = hash_fnv1a64(p, n) ^ seed ^ ((uint64_t)(cat + 1) * 0x9e3779b97f4a7c15ULL);
	rc = off_doc_parse(&x->d, p, n);
	if (rc)
		return rc;
	rc = split_sentences(&x->d, &x->ss);
	if (rc)
		goto fail;
	for (size_t li = 0; li < x->d.nlines; li++) {
		if (!off_editable(x->d.lines[li].sec))
			continue;
		rc = find_line_bound(&x->d, li, &x->bs, &x->cs);
		if (rc < 0)
			goto fail;
		if (rc == 1)
			continue;
		rc = find_bounds_in_line(&x->d, li, &x->ss, &x->bs);
		if (rc)
			goto fail;
	}
	return 0;
fail:
	off_ctx_release(x);
	return rc;
}

int off_line_is_bound(const struct ctx *x, size_t li)
{
	for (size_t i = 0; i < x->bs.n; i++)
		if (x->bs.v[i].line == li && x->bs.v[i].kind == B_LINE)
			return 1;
	for (size_t i = 0; i < x->cs.n; i++)
		if (x->cs.v[i].line == li)
			return 1;
	return 0;
}
