/*
 * signals.c - what is measured of each record (perplexity, entropy,
 * sizes, repetition, similarity), its validation bounds, and aggregates
 * over many records for auditors.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../filters/filter.h"
#include "stats.h"

/* ---- counting tokens -------------------------------------------------- */

/* token -> count, open addressing on a 64-bit hash of the token */
struct counter {
	uint64_t *h;
	uint32_t *n;
	size_t cap, used;
	uint64_t tokens, sentences;
	/* repeated n-grams: the last three token hashes and a second table */
	uint64_t last[3];
	size_t inrow;
	uint64_t *g;
	size_t gcap, gused;
	uint64_t grams, grams_dup;
};

static int counter_grow(uint64_t **h, uint32_t **n, size_t *cap)
{
	size_t ncap = *cap ? *cap * 2 : 1024;
	uint64_t *nh = calloc(ncap, sizeof(*nh));
	uint32_t *nn = n ? calloc(ncap, sizeof(*nn)) : NULL;

	if (!nh || (n && !nn)) {
		free(nh);
		free(nn);
		return CL_ENOMEM;
	}
	for (size_t i = 0; i < *cap; i++) {
		size_t j;

		if (!(*h)[i])
			continue;
		for (j = (*h)[i] & (ncap - 1); nh[j]; j = (j + 1) & (ncap - 1))
			;
		nh[j] = (*h)[i];
		if (n)
			nn[j] = (*n)[i];
	}
	free(*h);
	*h = nh;
	if (n) {
		free(*n);
		*n = nn;
	}
	*cap = ncap;
	return 0;
}

/* The slot of h (inserting it when absent); NULL when out of memory. */
static size_t *slot_of(uint64_t **tab, uint32_t **cnt, size_t *cap, size_t *used, uint64_t h,
		       size_t *at, int *fresh)
{
	size_t j;

	if ((*used + 1) * 2 > *cap && counter_grow(tab, cnt, cap))
		return NULL;
	for (j = h & (*cap - 1); (*tab)[j] && (*tab)[j] != h; j = (j + 1) & (*cap - 1))
		;
	*fresh = !(*tab)[j];
	if (*fresh) {
		(*tab)[j] = h;
		(*used)++;
	}
	*at = j;
	return at;
}

static void count_token(const char *tok, size_t n, void *arg)
{
	struct counter *c = arg;
	uint64_t h, gh;
	size_t at;
	int fresh;

	if (!tok) {
		c->sentences++;
		c->inrow = 0;
		return;
	}
	h = hash_fnv1a64(tok, n);
	h = h ? h : 1;
	if (!slot_of(&c->h, &c->n, &c->cap, &c->used, h, &at, &fresh))
		return;
	c->n[at]++;
	c->tokens++;
	/* 4-grams within a sentence */
	if (c->inrow >= 3) {
		gh = ((c->last[0] * 31 + c->last[1]) * 31 + c->last[2]) * 31 + h;
		gh = gh ? gh : 1;
		if (slot_of(&c->g, NULL, &c->gcap, &c->gused, gh, &at, &fresh)) {
			c->grams++;
			c->grams_dup += !fresh;
		}
	}
	c->last[0] = c->last[1];
	c->last[1] = c->last[2];
	c->last[2] = h;
	c->inrow++;
}

static void counter_release(struct counter *c)
{
	free(c->h);
	free(c->n);
	free(c->g);
	memset(c, 0, sizeof(*c));
}

/* ---- one text --------------------------------------------------------- */

static uint64_t utf8_chars(const char *s)
{
	uint64_t n = 0;

	for (; *s; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return n;
}

/* Share of non-empty lines that repeat an earlier line. */
static double repeated_lines(const char *text)
{
	uint64_t *tab = NULL;
	size_t cap = 0, used = 0, at;
	uint64_t lines = 0, dup = 0;
	const char *p = text;
	int fresh;

	while (*p) {
		const char *e = strchr(p, '\n'), *a = p, *b;

		if (!e)
			e = p + strlen(p);
		b = e;
		while (a < b && (*a == ' ' || *a == '\t' || *a == '\r'))
			a++;
		while (b > a && (b[-1] == ' ' || b[-1] == '\t' || b[-1] == '\r'))
			b--;
		if (b > a) {
			uint64_t h = hash_fnv1a64(a, (size_t)(b - a));

			lines++;
			if (slot_of(&tab, NULL, &cap, &used, h ? h : 1, &at, &fresh))
				dup += !fresh;
		}
		p = *e ? e + 1 : e;
	}
	free(tab);
	return lines ? (double)dup / (double)lines : 0.0;
}

int stats_text(const struct stats_lm *lm, const char *text, struct stats_text *out)
{
	struct counter c = { 0 };
	size_t len = text ? strlen(text) : 0;
	int rc;

	memset(out, 0, sizeof(*out));
	out->perplexity = NAN;
	if (!text)
		return 0;
	rc = stats_tokenize(text, len, count_token, &c);
	if (rc) {
		counter_release(&c);
		return rc;
	}
	out->tokens = c.tokens;
	out->sentences = c.sentences;
	out->chars = utf8_chars(text);
	for (size_t i = 0; i < c.cap; i++) {
		if (c.h[i] && c.n[i]) {
			double p = (double)c.n[i] / (double)c.tokens;

			out->entropy -= p * log(p);
		}
	}
	out->repeated_ngrams = c.grams ? (double)c.grams_dup / (double)c.grams : 0.0;
	out->repeated_lines = repeated_lines(text);
	counter_release(&c);
	if (lm && out->tokens) {
		struct stats_lm_ppl acc = { 0 };

		rc = stats_lm_score_text(lm, text, len, &acc);
		if (rc)
			return rc;
		/* exp(-(1/N) sum ln p) over the tokens and each line's </s>,
		 * which is 10^(-(1/N) sum log10 p) */
		out->perplexity = stats_lm_ppl_incl(&acc);
		out->oov = acc.oov;
	}
	return 0;
}

/* Token-bigram Dice similarity: 1 for the same text, 0 for nothing shared. */
struct bigrams {
	uint64_t *tab;
	size_t cap, used;
	uint64_t prev;
	int have;
	int collect;       /* 1: add to tab; 0: count hits in tab */
	uint64_t n, hits;
};

static void bigram_token(const char *tok, size_t n, void *arg)
{
	struct bigrams *b = arg;
	uint64_t h;
	size_t at;
	int fresh;

	if (!tok) {
		b->have = 0;
		return;
	}
	h = hash_fnv1a64(tok, n);
	if (b->have) {
		uint64_t g = b->prev * 0x100000001b3ULL ^ h;

		g = g ? g : 1;
		b->n++;
		if (b->collect) {
			slot_of(&b->tab, NULL, &b->cap, &b->used, g, &at, &fresh);
		} else if (b->cap) {
			size_t j;

			for (j = g & (b->cap - 1); b->tab[j] && b->tab[j] != g; j = (j + 1) & (b->cap - 1))
				;
			b->hits += b->tab[j] == g;
		}
	}
	b->prev = h;
	b->have = 1;
}

double stats_similarity(const char *a, const char *b)
{
	struct bigrams x = { .collect = 1 };
	uint64_t na;
	double sim;

	if (!a || !b)
		return 0.0;
	stats_tokenize(a, strlen(a), bigram_token, &x);
	na = x.n;
	x.collect = 0;
	x.n = 0;
	x.have = 0;
	stats_tokenize(b, strlen(b), bigram_token, &x);
	sim = na + x.n ? 2.0 * (double)x.hits / (double)(na + x.n) : 1.0;
	free(x.tab);
	return sim > 1.0 ? 1.0 : sim;
}

static json_t *text_json(const struct stats_text *t)
{
	json_t *o = json_pack("{s:I, s:I, s:I, s:f, s:f, s:f}", "tokens", (json_int_t)t->tokens,
			      "chars", (json_int_t)t->chars, "sentences", (json_int_t)t->sentences,
			      "entropy", t->entropy, "repeated_lines", t->repeated_lines,
			      "repeated_ngrams", t->repeated_ngrams);

	if (!isnan(t->perplexity)) {
		json_object_set_new(o, "perplexity", json_real(t->perplexity));
		json_object_set_new(o, "oov", json_integer((json_int_t)t->oov));
	}
	return o;
}

/* lines[0..n), joined one a line, scored into *out. */
static int lines_text(const struct stats_lm *lm, const char *const *lines, size_t n,
		      struct stats_text *out)
{
	struct buf q;
	int rc = 0;

	buf_init(&q, 0);
	for (size_t i = 0; !rc && i < n; i++) {
		rc = buf_adds(&q, lines[i] ? lines[i] : "");
		if (!rc)
			rc = buf_addc(&q, '\n');
	}
	if (!rc)
		rc = stats_text(lm, q.data ? q.data : "", out);
	buf_release(&q);
	return rc;
}

int stats_record_answers(const struct stats_lm *lm, json_t *signals, const char *const *answers,
			 size_t nanswers)
{
	struct stats_text ta;
	int rc = lines_text(lm, answers, nanswers, &ta);

	if (!rc && json_object_set_new(signals, "answers", text_json(&ta)))
		rc = CL_ENOMEM;
	return rc;
}

json_t *stats_record(const struct stats_lm *lm, const char *original, const char *modified,
		     const char *const *questions, size_t nquestions)
{
	struct stats_text tm, tq;
	json_t *o;

	if (stats_text(lm, modified, &tm) || lines_text(lm, questions, nquestions, &tq))
		return NULL;
	o = json_pack("{s:o, s:o, s:I, s:f}", "modified", text_json(&tm), "questions",
		      text_json(&tq), "question_count", (json_int_t)nquestions,
		      "similarity", stats_similarity(original, modified));
	return o;
}

/* ---- validation ------------------------------------------------------- */

void stats_bounds_init(struct stats_bounds *b)
{
	memset(b, 0, sizeof(*b)); /* 0: no bound */
}

static int bound(struct filter_result *out, const char *rule, int field, const char *what,
		 double v, double lo, double hi)
{
	char why[160];

	if (isnan(v))
		return 0;
	if (lo > 0 && v < lo) {
		snprintf(why, sizeof(why), "%s %.3g is below %.3g", what, v, lo);
		return filter_result_add(out, rule, FILTER_REJECT, field, why);
	}
	if (hi > 0 && v > hi) {
		snprintf(why, sizeof(why), "%s %.3g is above %.3g", what, v, hi);
		return filter_result_add(out, rule, FILTER_REJECT, field, why);
	}
	return 0;
}

int stats_validate(const struct stats_bounds *b, const json_t *signals,
		   struct filter_result *out)
{
	static const struct {
		const char *field;
		int fbit;
	} fields[] = { { "modified", FIELD_MODIFIED }, { "questions", FIELD_QUESTIONS } };
	int rc = 0;

	for (size_t i = 0; !rc && i < CL_ARRAY_SIZE(fields); i++) {
		const json_t *t = json_object_get(signals, fields[i].field);
		const json_t *ppl = json_object_get(t, "perplexity");
		double e = json_number_value(json_object_get(t, "entropy"));
		char what[64];

		snprintf(what, sizeof(what), "perplexity of the %s text", fields[i].field);
		if (json_is_number(ppl))
			rc = bound(out, "lm-perplexity", fields[i].fbit, what,
				   json_number_value(ppl), i ? b->questions_ppl_min : b->modified_ppl_min,
				   i ? b->questions_ppl_max : b->modified_ppl_max);
		snprintf(what, sizeof(what), "entropy of the %s text", fields[i].field);
		if (!rc && json_is_number(json_object_get(t, "entropy")))
			rc = bound(out, "lm-entropy", fields[i].fbit, what, e,
				   i ? b->questions_entropy_min : b->modified_entropy_min,
				   i ? b->questions_entropy_max : b->modified_entropy_max);
	}
	return rc;
}

/* ---- aggregates -------------------------------------------------------- */

void stats_agg_init(struct stats_agg *a)
{
	memset(a, 0, sizeof(*a));
}

void stats_agg_release(struct stats_agg *a)
{
	free(a->v);
	stats_agg_init(a);
}

int stats_agg_add(struct stats_agg *a, double x)
{
	if (isnan(x) || isinf(x))
		return 0;
	if (a->n == a->cap) {
		size_t cap = a->cap ? a->cap * 2 : 64;
		double *v = realloc(a->v, cap * sizeof(*v));

		if (!v)
			return CL_ENOMEM;
		a->v = v;
		a->cap = cap;
	}
	a->v[a->n++] = x;
	return 0;
}

static int cmp_double(const void *x, const void *y)
{
	double a = *(const double *)x, b = *(const double *)y;

	return (a > b) - (a < b);
}

/* The p-th percentile by linear interpolation between closest ranks. */
static double percentile(const double *v, size_t n, double p)
{
	double r = p / 100.0 * (double)(n - 1);
	size_t lo = (size_t)floor(r), hi = lo + 1 < n ? lo + 1 : lo;

	return v[lo] + (v[hi] - v[lo]) * (r - (double)lo);
}

void stats_agg_sort(struct stats_agg *a)
{
	qsort(a->v, a->n, sizeof(*a->v), cmp_double);
}

double stats_agg_percentile(const struct stats_agg *a, double p)
{
	return percentile(a->v, a->n, p);
}

json_t *stats_agg_json(struct stats_agg *a, int bins)
{
	double sum = 0, sq = 0, mean, sd, lo, hi, width;
	json_t *o, *counts;

	if (a->n == 0)
		return json_pack("{s:i}", "count", 0);
	qsort(a->v, a->n, sizeof(*a->v), cmp_double);
	for (size_t i = 0; i < a->n; i++)
		sum += a->v[i];
	mean = sum / (double)a->n;
	for (size_t i = 0; i < a->n; i++)
		sq += (a->v[i] - mean) * (a->v[i] - mean);
	sd = a->n > 1 ? sqrt(sq / (double)(a->n - 1)) : 0.0;
	lo = a->v[0];
	hi = a->v[a->n - 1];
	if (bins < 1)
		bins = 1;
	width = hi > lo ? (hi - lo) / bins : 1.0;
	counts = json_array();
	for (int b = 0; b < bins; b++)
		json_array_append_new(counts, json_integer(0));
	for (size_t i = 0; i < a->n; i++) {
		int b = (int)((a->v[i] - lo) / width);
		json_t *c;

		if (b >= bins)
			b = bins - 1;
		c = json_array_get(counts, (size_t)b);
		json_integer_set(c, json_integer_value(c) + 1);
	}
	o = json_pack("{s:I, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:{s:f, s:f, s:o}}",
		      "count", (json_int_t)a->n, "mean", mean, "sd", sd, "min", lo,
		      "p5", percentile(a->v, a->n, 5), "p50", percentile(a->v, a->n, 50),
		      "p95", percentile(a->v, a->n, 95), "max", hi, "histogram", "lo", lo,
		      "hi", hi, "counts", counts);
	return o;
}
