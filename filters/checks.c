/*
 * checks.c - tokens, hash sets, and the built-in checks: unchanged, drift,
 * hidden-leak, repeated-lines, repeated-ngrams, empty, truncated,
 * no-questions, not-a-question.
 */
#include <stdlib.h>
#include <string.h>

#include "filter_int.h"

/* ---- tokens ------------------------------------------------------------ */

static int is_word(unsigned char c)
{
	/* a UTF-8 multi-byte character counts as a word character: close to
	 * \w with Unicode properties for letters, cheap on bytes */
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c >= 0x80;
}

static int is_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

#define FNV_OFFSET 0xcbf29ce484222325ULL
#define FNV_PRIME 0x100000001b3ULL

static int toks_push(struct toks *t, uint32_t off, uint32_t len, uint64_t h)
{
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 256;
		struct tok *v = realloc(t->v, cap * sizeof(*v));

		if (!v)
			return CL_ENOMEM;
		t->v = v;
		t->cap = cap;
	}
	t->v[t->n].off = off;
	t->v[t->n].len = len;
	t->v[t->n].h = h ? h : 1;
	t->n++;
	return 0;
}

int toks_fill(struct toks *t, const char *text)
{
	const unsigned char *p = (const unsigned char *)text;
	size_t i = 0;

	t->n = 0;
	if (!text)
		return 0;
	while (p[i]) {
		size_t start = i;
		uint64_t h = FNV_OFFSET;

		if (is_space(p[i])) {
			i++;
			continue;
		}
		if (is_word(p[i])) {
			for (; p[i] && is_word(p[i]); i++) {
				unsigned char c = p[i];

				if (c >= 'A' && c <= 'Z')
					c = (unsigned char)(c - 'A' + 'a');
				h = (h ^ c) * FNV_PRIME;
			}
		} else {
			h = (h ^ p[i]) * FNV_PRIME;
			i++;
		}
		if (toks_push(t, (uint32_t)start, (uint32_t)(i - start), h))
			return CL_ENOMEM;
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

uint64_t ngram_hash(const struct tok *t, size_t n)
{
	uint64_t h = 0x9ae16a3b2f90404fULL;

	for (size_t i = 0; i < n; i++) {
		h ^= t[i].h + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
		h *= 0xff51afd7ed558ccdULL;
	}
	return h ? h : 1;
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

int check_drift(struct check_ctx *c)
{
	size_t shared = 0, total = 0;
	int rc;

	if (!c->in->original || c->mod->n < 12 || c->orig->n < 2)
		return 0;
	hset_clear(c->set_a);
	for (size_t i = 0; i + 1 < c->orig->n; i++)
		if (hset_add(c->set_a, ngram_hash(&c->orig->v[i], 2)) < 0)
			return CL_ENOMEM;
	hset_clear(c->set_b);
	for (size_t i = 0; i + 1 < c->mod->n; i++) {
		uint64_t h = ngram_hash(&c->mod->v[i], 2);

		rc = hset_add(c->set_b, h);
		if (rc < 0)
			return CL_ENOMEM;
		if (rc == 1) {
			total++;
			shared += hset_has(c->set_a, h);
		}
	}
	if (total && (double)shared / (double)total < c->limits->drift_min_overlap) {
		char why[96];

		snprintf(why, sizeof(why), "only %.0f%% of its word pairs are in the original",
			 100.0 * (double)shared / (double)total);
		return c->verdict(c, "drift", 0, why);
	}
	return 0;
}

/* n-grams of the original that the modified problem lacks: the hidden
 * information a question must not quote.  Built once per record. */
int check_hidden_prepare(struct check_ctx *c)
{
	size_t n = (size_t)c->limits->leak_ngram;

	hset_clear(c->set_b);
	hset_clear(c->hidden);
	c->hidden_ready = 0;
	if (!c->in->original || c->orig->n < n)
		return 0;
	for (size_t i = 0; i + n <= c->mod->n; i++)
		if (hset_add(c->set_b, ngram_hash(&c->mod->v[i], n)) < 0)
			return CL_ENOMEM;
	for (size_t i = 0; i + n <= c->orig->n; i++) {
		uint64_t h = ngram_hash(&c->orig->v[i], n);

		if (!hset_has(c->set_b, h) && hset_add(c->hidden, h) < 0)
			return CL_ENOMEM;
	}
	c->hidden_ready = 1;
	return 0;
}

int check_hidden_question(struct check_ctx *c, const char *q, const struct toks *qt)
{
	size_t n = (size_t)c->limits->leak_ngram;

	if (!c->hidden_ready || !c->hidden->n)
		return 0;
	for (size_t i = 0; i + n <= qt->n; i++) {
		if (hset_has(c->hidden, ngram_hash(&qt->v[i], n))) {
			char quoted[120], why[192];

			quote(q, &qt->v[i], n, quoted, sizeof(quoted));
			snprintf(why, sizeof(why), "quotes \"%s\", which the modified problem "
				 "no longer has", quoted);
			return c->verdict(c, "hidden-leak", FIELD_QUESTIONS, why);
		}
	}
	return 0;
}

int check_repeated_lines(struct check_ctx *c)
{
	const char *p = c->in->modified;

	if (!p)
		return 0;
	hset_clear(c->set_a);
	hset_clear(c->set_b);
	while (*p) {
		const char *e = strchr(p, '\n'), *a = p, *b;
		uint64_t h;
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
		h = hash_fnv1a64(a, len);
		h = h ? h : 1;
		/* a long line (a paragraph) twice, or a line three times */
		if (hset_add(c->set_a, h) == 0) {
			int twice_long = len >= 80;

			if (twice_long || hset_add(c->set_b, h) == 0 || c->limits->max_line_repeats <= 2) {
				char line[100], why[160];

				snprintf(line, sizeof(line), "%.*s", (int)(len < 60 ? len : 60), a);
				snprintf(why, sizeof(why), "repeats the %s \"%s%s\"",
					 twice_long ? "paragraph" : "line", line, len > 60 ? "..." : "");
				return c->verdict(c, "repeated-lines", FIELD_MODIFIED, why);
			}
		}
	}
	return 0;
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

int check_repeated_ngrams(struct check_ctx *c)
{
	const struct toks *t = c->mod;
	size_t total = 0, dup = 0, run = 1;

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
	if (t->n < 40)
		return 0;
	hset_clear(c->set_a);
	for (size_t i = 0; i + 4 <= t->n; i++) {
		int rc = hset_add(c->set_a, ngram_hash(&t->v[i], 4));

		if (rc < 0)
			return CL_ENOMEM;
		total++;
		dup += rc == 0;
	}
	if ((double)dup / (double)total > c->limits->max_ngram_repeat) {
		char why[96];

		snprintf(why, sizeof(why), "%.0f%% of its 4-word runs are repeats",
			 100.0 * (double)dup / (double)total);
		return c->verdict(c, "repeated-ngrams", FIELD_MODIFIED, why);
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
