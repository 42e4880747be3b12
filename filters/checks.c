/*
 * checks.c - tokens, the n-gram map, and the built-in checks: unchanged,
 * drift, hidden-leak, repeated-lines, repeated-ngrams, repeated-questions,
 * empty, truncated, no-questions, not-a-question.
 *
 * Everything here is one pass over bytes (the tokenizer) and then work on
 * 64-bit token hashes, so that the checks keep up with the regexes.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "filter_int.h"

/* ---- tokens ------------------------------------------------------------ */

/*
 * One table per byte: the lower-case byte, and its class (a word byte, or
 * white space; else punctuation).  A UTF-8 multi-byte character counts as
 * a word character: close to \w with Unicode properties for letters, and
 * cheap on bytes.
 */
#define WORD 0x100
#define SPACE 0x200

static uint16_t byte_tab[256];

static void tables_init(void)
{
	for (int c = 0; c < 256; c++) {
		int lower = c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;

		byte_tab[c] = (uint16_t)lower;
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '_' || c >= 0x80)
			byte_tab[c] |= WORD;
		else if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v')
			byte_tab[c] |= SPACE;
	}
}

static pthread_once_t tables_once = PTHREAD_ONCE_INIT;

static int is_word(unsigned char c)
{
	return (byte_tab[c] & WORD) != 0;
}

static int is_space(unsigned char c)
{
	return (byte_tab[c] & SPACE) != 0;
}

/* A token's hash: a multiply-add over its lower-case bytes (a short
 * dependency chain per byte), finished by a mixer once per token. */
#define TOK_SEED 0x9e3779b97f4a7c15ULL
#define ROLL_P 0x100000001b3ULL

static uint64_t tok_finish(uint64_t h)
{
	h ^= h >> 31;
	h *= 0x7fb5d329728ea185ULL;
	h ^= h >> 27;
	return h ? h : 1;
}

uint64_t filter_word_hash(const char *w, size_t n)
{
	uint64_t h = TOK_SEED;

	pthread_once(&tables_once, tables_init);
	for (size_t i = 0; i < n; i++)
		h = h * 33 + (byte_tab[(unsigned char)w[i]] & 0xff);
	return tok_finish(h);
}

/* Close the line that ended before byte i: its tokens from t->line_tok. */
static int end_line(struct toks *t, uint64_t lh)
{
	const struct tok *a, *b;

	if (t->line_tok == t->n)
		return 0;
	if (t->nlines == t->lcap && ARRAY_GROW(t->lines, t->lcap, t->nlines, 256))
		return CL_ENOMEM;
	a = &t->v[t->line_tok];
	b = &t->v[t->n - 1];
	t->lines[t->nlines].h = lh ? lh : 1;
	t->lines[t->nlines].off = a->off;
	t->lines[t->nlines].len = b->off + b->len - a->off;
	t->nlines++;
	t->line_tok = t->n;
	return 0;
}

int toks_fill(struct toks *t, const char *text, int lines)
{
	const unsigned char *p = (const unsigned char *)text;
	struct tok *v;
	size_t i = 0, n = 0, cap;
	uint64_t lh = 0;

	pthread_once(&tables_once, tables_init);
	t->n = 0;
	t->nlines = 0;
	t->line_tok = 0;
	if (!text)
		return 0;
	/* the hot loop works on locals: stores to v cannot alias them */
	v = t->v;
	cap = t->cap;
	while (p[i]) {
		size_t start = i;
		uint64_t h = TOK_SEED;
		unsigned e = byte_tab[p[i]];

		if (e & SPACE) {
			if (p[i] == '\n') {
				if (lines) {
					t->v = v;
					t->n = n;
					if (end_line(t, lh))
						return CL_ENOMEM;
				}
				lh = 0;
			}
			i++;
			continue;
		}
		if (e & WORD) {
			do {
				h = h * 33 + (e & 0xff);
				e = byte_tab[p[++i]];
			} while (e & WORD);
		} else {
			h = h * 33 + p[i++];
		}
		if (n == cap) {
			t->v = v;
			t->cap = cap;
			if (ARRAY_GROW(t->v, t->cap, n, 256))
				return CL_ENOMEM;
			v = t->v;
			cap = t->cap;
		}
		h = tok_finish(h);
		v[n].off = (uint32_t)start;
		v[n].len = (uint32_t)(i - start);
		v[n].h = h;
		n++;
		lh = lh * ROLL_P + h;
	}
	t->v = v;
	t->cap = cap;
	t->n = n;
	if (lines && end_line(t, lh))
		return CL_ENOMEM;
	return 0;
}

void toks_release(struct toks *t)
{
	free(t->v);
	free(t->lines);
	memset(t, 0, sizeof(*t));
}

size_t filter_tokens(const char *text, void (*fn)(const char *, size_t, void *), void *arg)
{
	struct toks t = { 0 };
	size_t n;

	if (toks_fill(&t, text, 0))
		return 0;
	for (size_t i = 0; i < t.n; i++)
		fn(text + t.v[i].off, t.v[i].len, arg);
	n = t.n;
	toks_release(&t);
	return n;
}

/* ---- the n-gram map -------------------------------------------------------- */

/*
 * n-gram hashes with two flag bits in the low bits of each slot: in the
 * original, in the modified problem.  Open addressing, sized before use,
 * so an insert never rehashes.
 */
#define GM_ORIG 1ULL
#define GM_MOD 2ULL
#define GM_FLAGS 3ULL

static uint64_t mix(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h &= ~GM_FLAGS;
	return h ? h : 4;
}

int gmap_reset(struct gmap *m, size_t entries)
{
	size_t cap = 256;

	while (cap < entries * 2)
		cap *= 2;
	if (cap > m->cap) {
		free(m->v);
		m->v = calloc(cap, sizeof(*m->v));
		m->cap = m->v ? cap : 0;
		m->used = m->cap;
		return m->v ? 0 : CL_ENOMEM;
	}
	/* keep a big table, but clear only what this record will use */
	m->used = cap;
	memset(m->v, 0, cap * sizeof(*m->v));
	return 0;
}

void gmap_release(struct gmap *m)
{
	free(m->v);
	memset(m, 0, sizeof(*m));
}

static uint64_t *gmap_slot(const struct gmap *m, uint64_t key)
{
	size_t mask = m->used - 1, i = (size_t)(key >> 7) & mask;

	while (m->v[i] && (m->v[i] & ~GM_FLAGS) != key)
		i = (i + 1) & mask;
	return &m->v[i];
}

/* The rolling hash of the n tokens starting at t[0]. */
static uint64_t first_ngram(const struct tok *t, size_t n, uint64_t *pn)
{
	uint64_t h = 0;

	*pn = 1;
	for (size_t i = 0; i < n; i++) {
		h = h * ROLL_P + t[i].h;
		*pn *= ROLL_P;
	}
	return h;
}

/* ---- the checks ------------------------------------------------------- */

static int is_blank(const char *s)
{
	for (; s && *s; s++)
		if (!is_space((unsigned char)*s))
			return 0;
	return 1;
}

/* Equal once case, spaces and punctuation are set aside. */
static int same_words(const char *a, const char *b)
{
	const unsigned char *p = (const unsigned char *)a, *q = (const unsigned char *)b;

	pthread_once(&tables_once, tables_init);
	for (;;) {
		while (*p && !is_word(*p))
			p++;
		while (*q && !is_word(*q))
			q++;
		if (!*p || !*q)
			return !*p && !*q;
		if ((byte_tab[*p] & 0xff) != (byte_tab[*q] & 0xff))
			return 0;
		p++;
		q++;
	}
}

/* Quote tokens [0, n) of t from text into out, for a verdict's detail. */
static void quote(const char *text, const struct tok *t, size_t n, char *out, size_t cap)
{
	size_t a = t[0].off, b = t[n - 1].off + t[n - 1].len;

	if (b - a > cap - 1)
		b = a + cap - 1;
	/* do not cut a UTF-8 character */
	while (b > a && ((unsigned char)text[b] & 0xc0) == 0x80)
		b--;
	memcpy(out, text + a, b - a);
	out[b - a] = '\0';
}

int check_unchanged(struct check_ctx *c)
{
	if (!c->in->original || !c->in->modified || is_blank(c->in->modified))
		return 0;
	if (same_words(c->in->original, c->in->modified))
		return c->verdict(c, "unchanged", 0, "the modified problem is the original one");
	return 0;
}

/*
 * The n-gram checks, on one map of the original's and the modified
 * problem's n-grams: drift (too few of the modified problem's n-grams are
 * the original's), repeated n-grams (too many are repeats), and, per
 * question, hidden-leak (a question quotes an n-gram that only the
 * original has).
 */
int check_ngrams(struct check_ctx *c)
{
	const struct toks *o = c->orig, *m = c->mod;
	size_t n = (size_t)c->limits->leak_ngram, total = 0, dup = 0, shared = 0;
	uint64_t h, pn;
	char why[96];
	int rc;

	c->hidden_ready = 0;
	rc = gmap_reset(c->map, (o->n + m->n));
	if (rc)
		return rc;
	if (o->n >= n) {
		h = first_ngram(o->v, n, &pn);
		for (size_t i = 0;; i++) {
			uint64_t *slot = gmap_slot(c->map, mix(h));

			*slot = (*slot ? *slot : mix(h)) | GM_ORIG;
			if (i + n >= o->n)
				break;
			h = h * ROLL_P + o->v[i + n].h - pn * o->v[i].h;
		}
	}
	if (m->n >= n) {
		h = first_ngram(m->v, n, &pn);
		for (size_t i = 0;; i++) {
			uint64_t key = mix(h), *slot = gmap_slot(c->map, key);

			total++;
			if (*slot) {
				dup += (*slot & GM_MOD) != 0;
				shared += (*slot & GM_ORIG) != 0;
			}
			*slot = (*slot ? *slot : key) | GM_MOD;
			if (i + n >= m->n)
				break;
			h = h * ROLL_P + m->v[i + n].h - pn * m->v[i].h;
		}
	}
	c->hidden_ready = c->in->original != NULL && o->n >= n;
	if (c->hidden_ready && total >= 8 &&
	    (double)shared / (double)total < c->limits->drift_min_overlap) {
		snprintf(why, sizeof(why), "only %.0f%% of its %zu-word runs are in the original",
			 100.0 * (double)shared / (double)total, n);
		rc = c->verdict(c, "drift", 0, why);
		if (rc)
			return rc;
	}
	if (m->n >= 40 && total && (double)dup / (double)total > c->limits->max_ngram_repeat) {
		snprintf(why, sizeof(why), "%.0f%% of its %zu-word runs are repeats",
			 100.0 * (double)dup / (double)total, n);
		return c->verdict(c, "repeated-ngrams", FIELD_MODIFIED, why);
	}
	return 0;
}

int check_hidden_question(struct check_ctx *c, const char *q, const struct toks *qt)
{
	size_t n = (size_t)c->limits->leak_ngram;
	char quoted[120], why[192];
	uint64_t h, pn;

	if (!c->hidden_ready || qt->n < n)
		return 0;
	h = first_ngram(qt->v, n, &pn);
	for (size_t i = 0;; i++) {
		if ((*gmap_slot(c->map, mix(h)) & GM_FLAGS) == GM_ORIG) {
			quote(q, &qt->v[i], n, quoted, sizeof(quoted));
			snprintf(why, sizeof(why), "quotes \"%s\", which the modified problem "
				 "no longer has", quoted);
			return c->verdict(c, "hidden-leak", FIELD_QUESTIONS, why);
		}
		if (i + n >= qt->n)
			return 0;
		h = h * ROLL_P + qt->v[i + n].h - pn * qt->v[i].h;
	}
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

/* Lines of 20+ characters (their tokens' hash); a long one (a paragraph)
 * counts double, so that it twice is as bad as a short line four times. */
int check_repeated_lines(struct check_ctx *c)
{
	const struct toks *t = c->mod;
	const struct tline *worst = NULL;
	uint64_t *h;
	size_t n = 0, run = 1;
	char why[160];

	if (t->nlines < 2)
		return 0;
	h = malloc(2 * t->nlines * sizeof(*h));
	if (!h)
		return CL_ENOMEM;
	for (size_t i = 0; i < t->nlines; i++) {
		if (t->lines[i].len < 20)
			continue;
		h[n++] = t->lines[i].h;
		if (t->lines[i].len >= 80)
			h[n++] = t->lines[i].h;
	}
	qsort(h, n, sizeof(*h), cmp_u64);
	for (size_t i = 1; i < n && !worst; i++) {
		run = h[i] == h[i - 1] ? run + 1 : 1;
		if (run < (size_t)c->limits->max_line_repeats)
			continue;
		for (size_t j = 0; j < t->nlines && !worst; j++)
			if (t->lines[j].h == h[i] && t->lines[j].len >= 20)
				worst = &t->lines[j];
	}
	free(h);
	if (!worst)
		return 0;
	snprintf(why, sizeof(why), "repeats the %s \"%.*s%s\"",
		 worst->len >= 80 ? "paragraph" : "line", (int)(worst->len < 60 ? worst->len : 60),
		 c->in->modified + worst->off, worst->len > 60 ? "..." : "");
	return c->verdict(c, "repeated-lines", FIELD_MODIFIED, why);
}

static int alpha_token(const char *text, const struct tok *t)
{
	if (t->len < 2)
		return 0;
	for (uint32_t i = 0; i < t->len; i++) {
		unsigned char ch = (unsigned char)text[t->off + i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z')))
			return 0;
	}
	return 1;
}

int check_repeated_words(struct check_ctx *c)
{
	const struct toks *t = c->mod;
	size_t run = 1;

	/* the same word four times in a row: "the the the the" */
	for (size_t i = 1; i < t->n; i++) {
		run = t->v[i].h == t->v[i - 1].h ? run + 1 : 1;
		if (run >= 4 && alpha_token(c->in->modified, &t->v[i])) {
			char why[120];

			snprintf(why, sizeof(why), "repeats the word \"%.*s\" %zu times in a row",
				 (int)(t->v[i].len < 40 ? t->v[i].len : 40),
				 c->in->modified + t->v[i].off, run);
			return c->verdict(c, "repeated-ngrams", FIELD_MODIFIED, why);
		}
	}
	return 0;
}

int check_shape(struct check_ctx *c)
{
	const struct filter_input *in = c->in;
	int rc;

	if (in->finish_reason && strcmp(in->finish_reason, "length") == 0) {
		rc = c->verdict(c, "truncated", 0, "the reply was cut off at the length limit");
		if (rc)
			return rc;
	}
	if (is_blank(in->modified)) {
		rc = c->verdict(c, "empty", FIELD_MODIFIED, "the modified problem is empty");
		if (rc)
			return rc;
	}
	if (!in->questions_expected)
		return 0;
	if (in->nquestions < (size_t)c->limits->min_questions) {
		char why[64];

		snprintf(why, sizeof(why), "%zu questions, fewer than %d", in->nquestions,
			 c->limits->min_questions);
		return c->verdict(c, "no-questions", FIELD_QUESTIONS, why);
	}
	if (in->nquestions > (size_t)c->limits->max_questions) {
		char why[64];

		snprintf(why, sizeof(why), "%zu questions, more than %d", in->nquestions,
			 c->limits->max_questions);
		return c->verdict(c, "no-questions", FIELD_QUESTIONS, why);
	}
	for (size_t i = 0; i < in->nquestions; i++) {
		const char *q = in->questions[i] ? in->questions[i] : "";
		size_t n = strlen(q);

		for (size_t j = 0; j < i; j++) {
			if (in->questions[j] && same_words(in->questions[j], q)) {
				char why[96];

				snprintf(why, sizeof(why), "question %zu repeats question %zu", i + 1,
					 j + 1);
				return c->verdict(c, "repeated-questions", FIELD_QUESTIONS, why);
			}
		}
		/* a question ends with '?', maybe inside closing quotes or brackets */
		for (;;) {
			if (n && (is_space((unsigned char)q[n - 1]) || strchr("\"')]*_", q[n - 1])))
				n--;
			else if (n >= 3 && (memcmp(q + n - 3, "\xe2\x80\x9d", 3) == 0 ||
					    memcmp(q + n - 3, "\xe2\x80\x99", 3) == 0))
				n -= 3; /* a closing curly quote */
			else if (n >= 2 && memcmp(q + n - 2, "\xc2\xbb", 2) == 0)
				n -= 2; /* a closing guillemet */
			else
				break;
		}
		if (n < 4 || q[n - 1] != '?') {
			char why[160];

			snprintf(why, sizeof(why), "item %zu is not a question: \"%.100s\"", i + 1, q);
			return c->verdict(c, "not-a-question", FIELD_QUESTIONS, why);
		}
	}
	return 0;
}
