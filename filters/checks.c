/*
 * checks.c - tokens, hash sets, and the built-in checks: unchanged, drift,
 * hidden-leak, repeated-lines, repeated-ngrams, empty, truncated,
 * no-questions, not-a-question.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "filter_int.h"

/* ---- tokens ------------------------------------------------------------ */

/* Byte classes: 1 a word byte (a UTF-8 multi-byte character counts as a
 * word character: close to \w with Unicode properties for letters, and
 * cheap on bytes), 2 white space, 0 punctuation. */
static unsigned char byte_class[256];
static unsigned char byte_lower[256];

static void tables_init(void)
{
	for (int c = 0; c < 256; c++) {
		byte_lower[c] = (unsigned char)(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '_' || c >= 0x80)
			byte_class[c] = 1;
		else if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v')
			byte_class[c] = 2;
	}
}

static pthread_once_t tables_once = PTHREAD_ONCE_INIT;

static int is_word(unsigned char c)
{
	return byte_class[c] == 1;
}

static int is_space(unsigned char c)
{
	return byte_class[c] == 2;
}

/* A token's hash: a cheap multiply-add over its lower-case bytes (a short
 * dependency chain per byte), finished by a mixer per token. */
#define TOK_SEED 0x9e3779b97f4a7c15ULL

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
		h = h * 33 + byte_lower[(unsigned char)w[i]];
	return tok_finish(h);
}

static int toks_grow(struct toks *t)
{
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 256;
		struct tok *v = realloc(t->v, cap * sizeof(*v));

		if (!v)
			return CL_ENOMEM;
		t->v = v;
		t->cap = cap;
	}
	return 0;
}

int toks_fill(struct toks *t, const char *text)
{
	const unsigned char *p = (const unsigned char *)text;
	size_t i = 0;

	pthread_once(&tables_once, tables_init);
	t->n = 0;
	if (!text)
		return 0;
	while (p[i]) {
		size_t start = i;
		uint64_t h = TOK_SEED;
		unsigned char cls = byte_class[p[i]];

		if (cls == 2) {
			i++;
			continue;
		}
		if (cls == 1) {
			do
				h = h * 33 + byte_lower[p[i++]];
			while (byte_class[p[i]] == 1);
		} else {
			h = h * 33 + p[i++];
		}
		if (t->n == t->cap && toks_grow(t))
			return CL_ENOMEM;
		t->v[t->n].off = (uint32_t)start;
		t->v[t->n].len = (uint32_t)(i - start);
		t->v[t->n].h = tok_finish(h);
		t->n++;
	}
	return 0;
}

void toks_release(struct toks *t)
{
	free(t->v);
	memset(t, 0, sizeof(*t));
}

size_t filter_tokens(const char *text, void (*fn)(const char *, size_t, void *), void *arg)
{
	struct toks t = { 0 };
	size_t n;

	if (toks_fill(&t, text))
		return 0;
	for (size_t i = 0; i < t.n; i++)
		fn(text + t.v[i].off, t.v[i].len, arg);
	n = t.n;
	toks_release(&t);
	return n;
}

/* A polynomial hash of n token hashes, finished with a mixer so that
 * near-equal sums spread over the table. */
#define ROLL_P 0x100000001b3ULL

static uint64_t mix(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	return h ? h : 1;
}

uint64_t ngram_hash(const struct tok *t, size_t n)
{
	uint64_t h = 0;

	for (size_t i = 0; i < n; i++)
		h = h * ROLL_P + t[i].h;
	return mix(h);
}

/* Call fn for every n-gram of t, in O(1) each: the hash rolls. */
static int each_ngram(const struct toks *t, size_t n, int (*fn)(uint64_t h, size_t i, void *),
		      void *arg)
{
	uint64_t h = 0, pn = 1;

	if (t->n < n)
		return 0;
	for (size_t i = 0; i < n; i++) {
		h = h * ROLL_P + t->v[i].h;
		pn *= ROLL_P;
	}
	for (size_t i = 0;; i++) {
		int rc = fn(mix(h), i, arg);

		if (rc)
			return rc;
		if (i + n >= t->n)
			return 0;
		h = h * ROLL_P + t->v[i + n].h - pn * t->v[i].h;
	}
}

/* ---- hash sets ----------------------------------------------------------- */

void hset_clear(struct hset *s)
{
	if (s->v && s->n)
		memset(s->v, 0, s->cap * sizeof(*s->v));
	s->n = 0;
}

static int hset_grow(struct hset *s)
{
	struct hset big = { 0 };

	big.cap = s->cap ? s->cap * 2 : 1024;
	big.v = calloc(big.cap, sizeof(*big.v));
	if (!big.v)
		return CL_ENOMEM;
	for (size_t i = 0; i < s->cap; i++)
		if (s->v[i])
			hset_add(&big, s->v[i]);
	free(s->v);
	*s = big;
	return 0;
}

int hset_add(struct hset *s, uint64_t h)
{
	size_t i;

	if ((s->n + 1) * 2 > s->cap && hset_grow(s))
		return CL_ENOMEM;
	for (i = (size_t)(h ^ (h >> 29)) & (s->cap - 1); s->v[i]; i = (i + 1) & (s->cap - 1))
		if (s->v[i] == h)
			return 0;
	s->v[i] = h;
	s->n++;
	return 1;
}

int hset_has(const struct hset *s, uint64_t h)
{
	if (!s->cap)
		return 0;
	for (size_t i = (size_t)(h ^ (h >> 29)) & (s->cap - 1); s->v[i]; i = (i + 1) & (s->cap - 1))
		if (s->v[i] == h)
			return 1;
	return 0;
}

void hset_release(struct hset *s)
{
	free(s->v);
	memset(s, 0, sizeof(*s));
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

	for (;;) {
		while (*p && !is_word(*p))
			p++;
		while (*q && !is_word(*q))
			q++;
		if (!*p || !*q)
			return !*p && !*q;
		if ((*p | 0x20 * (*p >= 'A' && *p <= 'Z')) != (*q | 0x20 * (*q >= 'A' && *q <= 'Z')))
			return 0;
		p++;
		q++;
	}
}

/* Quote tokens [from, from+n) of text into out, for a verdict's detail. */
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
 * The n-gram checks share two sets: O, the original's n-grams, and M, the
 * modified problem's.  drift: too few of M's n-grams are in O.  repeated
 * n-grams: too many of M's are repeats.  hidden-leak: a question quotes
 * an n-gram in O but not in M (checked per question).
 */
struct ngram_pass {
	struct check_ctx *c;
	size_t total, dup, shared;
};

static int add_original(uint64_t h, size_t i, void *arg)
{
	struct check_ctx *c = arg;

	(void)i;
	return hset_add(c->hidden, h) < 0 ? CL_ENOMEM : 0;
}

static int add_modified(uint64_t h, size_t i, void *arg)
{
	struct ngram_pass *p = arg;
	int rc = hset_add(p->c->set_b, h);

	(void)i;
	if (rc < 0)
		return CL_ENOMEM;
	p->total++;
	p->dup += rc == 0;
	p->shared += hset_has(p->c->hidden, h);
	return 0;
}

int check_ngrams(struct check_ctx *c)
{
	size_t n = (size_t)c->limits->leak_ngram;
	struct ngram_pass p = { c, 0, 0, 0 };
	char why[96];
	int rc;

	hset_clear(c->hidden);
	hset_clear(c->set_b);
	c->hidden_ready = 0;
	rc = each_ngram(c->orig, n, add_original, c);
	if (!rc)
		rc = each_ngram(c->mod, n, add_modified, &p);
	if (rc)
		return rc;
	c->hidden_ready = c->in->original != NULL;
	if (c->in->original && c->orig->n >= n && p.total >= 8 &&
	    (double)p.shared / (double)p.total < c->limits->drift_min_overlap) {
		snprintf(why, sizeof(why), "only %.0f%% of its %zu-word runs are in the original",
			 100.0 * (double)p.shared / (double)p.total, n);
		rc = c->verdict(c, "drift", 0, why);
		if (rc)
			return rc;
	}
	if (c->mod->n >= 40 && (double)p.dup / (double)p.total > c->limits->max_ngram_repeat) {
		snprintf(why, sizeof(why), "%.0f%% of its %zu-word runs are repeats",
			 100.0 * (double)p.dup / (double)p.total, n);
		return c->verdict(c, "repeated-ngrams", FIELD_MODIFIED, why);
	}
	return 0;
}

struct question_pass {
	struct check_ctx *c;
	size_t at;          /* the first token of a leaked n-gram, or SIZE_MAX */
};

static int find_hidden(uint64_t h, size_t i, void *arg)
{
	struct question_pass *q = arg;

	if (hset_has(q->c->hidden, h) && !hset_has(q->c->set_b, h)) {
		q->at = i;
		return 1;
	}
	return 0;
}

int check_hidden_question(struct check_ctx *c, const char *q, const struct toks *qt)
{
	struct question_pass pass = { c, SIZE_MAX };
	size_t n = (size_t)c->limits->leak_ngram;
	char quoted[120], why[192];

	if (!c->hidden_ready || !c->hidden->n)
		return 0;
	each_ngram(qt, n, find_hidden, &pass);
	if (pass.at == SIZE_MAX)
		return 0;
	quote(q, &qt->v[pass.at], n, quoted, sizeof(quoted));
	snprintf(why, sizeof(why), "quotes \"%s\", which the modified problem no longer has",
		 quoted);
	return c->verdict(c, "hidden-leak", FIELD_QUESTIONS, why);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

/* Lines of 20+ characters, as hashes; a long one (a paragraph) counts
 * double, so that it twice is as bad as a short line four times. */
int check_repeated_lines(struct check_ctx *c)
{
	const char *p = c->in->modified, *worst = NULL;
	uint64_t *h = NULL;
	size_t n = 0, cap = 0, worst_len = 0, run = 1;
	int rc = 0;

	if (!p)
		return 0;
	while (*p) {
		const char *e = strchr(p, '\n'), *a = p, *b;
		size_t len;

		if (!e)
			e = p + strlen(p);
		b = e;
		while (a < b && is_space((unsigned char)*a))
			a++;
		while (b > a && is_space((unsigned char)b[-1]))
			b--;
		len = (size_t)(b - a);
		p = *e ? e + 1 : e;
		if (len < 20)
			continue;
		if (n + 2 > cap) {
			uint64_t *nh = realloc(h, (cap ? cap * 2 : 64) * sizeof(*h));

			if (!nh) {
				free(h);
				return CL_ENOMEM;
			}
			h = nh;
			cap = cap ? cap * 2 : 64;
		}
		h[n++] = filter_word_hash(a, len);
		if (len >= 80)
			h[n++] = filter_word_hash(a, len);
	}
	qsort(h, n, sizeof(*h), cmp_u64);
	for (size_t i = 1; i < n; i++) {
		run = h[i] == h[i - 1] ? run + 1 : 1;
		if (run >= (size_t)c->limits->max_line_repeats) {
			/* find the line again, to show it */
			for (p = c->in->modified; *p && !worst;) {
				const char *e = strchr(p, '\n'), *a = p, *b;

				if (!e)
					e = p + strlen(p);
				b = e;
				while (a < b && is_space((unsigned char)*a))
					a++;
				while (b > a && is_space((unsigned char)b[-1]))
					b--;
				if ((size_t)(b - a) >= 20 && filter_word_hash(a, (size_t)(b - a)) == h[i]) {
					worst = a;
					worst_len = (size_t)(b - a);
				}
				p = *e ? e + 1 : e;
			}
			break;
		}
	}
	free(h);
	if (worst) {
		char why[160];

		snprintf(why, sizeof(why), "repeats the %s \"%.*s%s\"",
			 worst_len >= 80 ? "paragraph" : "line", (int)(worst_len < 60 ? worst_len : 60),
			 worst, worst_len > 60 ? "..." : "");
		rc = c->verdict(c, "repeated-lines", FIELD_MODIFIED, why);
	}
	return rc;
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
		while (n && (is_space((unsigned char)q[n - 1]) || q[n - 1] == '"' ||
			     q[n - 1] == ')' || q[n - 1] == '\'' || q[n - 1] == '*'))
			n--;
		if (n < 4 || q[n - 1] != '?') {
			char why[160];

			snprintf(why, sizeof(why), "item %zu is not a question: \"%.100s\"", i + 1, q);
			return c->verdict(c, "not-a-question", FIELD_QUESTIONS, why);
		}
	}
	return 0;
}
