/*
 * filter.c - running a filter set over a record: the keyword prefilter,
 * the patterns of each field, the built-in checks, the verdicts.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "filter_int.h"

/* ---- the keyword prefilter -------------------------------------------- */

/* word -> the rules (a bit each) that need it; open addressing */
struct kw_entry {
	uint64_t h;             /* 0: empty */
	uint64_t *bits;         /* rules with this word among keywords */
	uint64_t *also;         /* rules with it among and_keywords */
};

#define BLOOM_BITS 16384

struct kwtab {
	struct kw_entry *v;
	size_t cap;
	size_t words;           /* uint64_t words per bit set */
	uint64_t *always;       /* rules without keywords: they always run */
	uint64_t *need_also;    /* rules with and_keywords */
	uint64_t bloom[BLOOM_BITS / 64]; /* a cheap "not a keyword" for most words */
};

void filter_keywords_free(void *p)
{
	struct kwtab *k = p;

	if (!k)
		return;
	for (size_t i = 0; k->v && i < k->cap; i++) {
		free(k->v[i].bits);
		free(k->v[i].also);
	}
	free(k->v);
	free(k->always);
	free(k->need_also);
	free(k);
}

static uint64_t word_hash(const char *w)
{
	return filter_word_hash(w, strlen(w)); /* the same as a token's */
}

static struct kw_entry *kw_slot(struct kwtab *k, uint64_t h)
{
	size_t i;

	for (i = (size_t)(h ^ (h >> 29)) & (k->cap - 1); k->v[i].h && k->v[i].h != h;
	     i = (i + 1) & (k->cap - 1))
		;
	return &k->v[i];
}

static int kw_add(struct kwtab *k, const char *word, size_t rule, int also)
{
	uint64_t h = word_hash(word);
	struct kw_entry *e = kw_slot(k, h);
	uint64_t **bits;

	if (!e->h) {
		e->h = h;
		e->bits = calloc(k->words, sizeof(uint64_t));
		e->also = calloc(k->words, sizeof(uint64_t));
		if (!e->bits || !e->also)
			return CL_ENOMEM;
		k->bloom[(h >> 50) / 64] |= 1ULL << ((h >> 50) % 64);
	}
	bits = also ? &e->also : &e->bits;
	(*bits)[rule / 64] |= 1ULL << (rule % 64);
	return 0;
}

int filter_set_finish(struct filter_set *fs)
{
	struct kwtab *k;
	size_t nkw = 0;
	int rc = 0;

	filter_keywords_free(fs->keywords);
	fs->keywords = NULL;
	k = calloc(1, sizeof(*k));
	if (!k)
		return CL_ENOMEM;
	for (size_t i = 0; i < fs->n; i++)
		nkw += fs->rules[i].nkeywords + fs->rules[i].nalso;
	k->words = fs->n / 64 + 1;
	for (k->cap = 16; k->cap < nkw * 2; k->cap *= 2)
		;
	k->v = calloc(k->cap, sizeof(*k->v));
	k->always = calloc(k->words, sizeof(uint64_t));
	k->need_also = calloc(k->words, sizeof(uint64_t));
	if (!k->v || !k->always || !k->need_also) {
		filter_keywords_free(k);
		return CL_ENOMEM;
	}
	for (size_t i = 0; !rc && i < fs->n; i++) {
		const struct filter_rule *r = &fs->rules[i];

		if (!r->nkeywords)
			k->always[i / 64] |= 1ULL << (i % 64);
		if (r->nalso)
			k->need_also[i / 64] |= 1ULL << (i % 64);
		for (size_t j = 0; !rc && j < r->nkeywords; j++)
			rc = kw_add(k, r->keywords[j], i, 0);
		for (size_t j = 0; !rc && j < r->nalso; j++)
			rc = kw_add(k, r->also[j], i, 1);
	}
	if (rc) {
		filter_keywords_free(k);
		return rc;
	}
	fs->keywords = k;
	return 0;
}

/* ---- scratch ------------------------------------------------------------ */

/*
 * A rule with keywords runs in a window around each of them: a match
 * holds a keyword and reaches at most MATCH_MARGIN bytes beyond it (see
 * filter.h).  Windows that overlap are merged, and a text has at most
 * NWIN of them per rule (the last takes in the rest).
 */
#define MATCH_MARGIN 200
#define NWIN 8

struct kwin {
	uint32_t a, b;          /* from the first keyword's start to the last's end */
};

struct filter_scratch {
	pcre2_match_data *md;
	uint64_t *mask;
	uint64_t *also;
	struct kwin *win;       /* per rule: NWIN windows around its keywords */
	uint8_t *nwin;          /* and how many it has */
	size_t words;
	struct toks orig, mod, q;
	struct gmap map;
	uint64_t types[2 * 16384 / 64];
	double orig_values[MAX_VALUES], mod_values[MAX_VALUES];
	uint32_t orig_at[2 * MAX_VALUES], mod_at[2 * MAX_VALUES];
	uint64_t *cls;          /* inline-commentary's word classes, per token */
	size_t ncls;
	struct lcount *ltab;    /* repeated-lines' counts */
	size_t nltab;
};

struct filter_scratch *filter_scratch_new(const struct filter_set *fs)
{
	struct filter_scratch *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->words = fs->n / 64 + 1;
	s->mask = calloc(s->words, sizeof(uint64_t));
	s->also = calloc(s->words, sizeof(uint64_t));
	s->win = calloc((fs->n + 1) * NWIN, sizeof(*s->win));
	s->nwin = calloc(fs->n + 1, 1);
	s->md = pcre2_match_data_create(1, NULL);
	if (!s->mask || !s->also || !s->win || !s->nwin || !s->md) {
		filter_scratch_free(s);
		return NULL;
	}
	return s;
}

void filter_scratch_free(struct filter_scratch *s)
{
	if (!s)
		return;
	pcre2_match_data_free(s->md);
	free(s->mask);
	free(s->also);
	free(s->win);
	free(s->nwin);
	toks_release(&s->orig);
	toks_release(&s->mod);
	toks_release(&s->q);
	gmap_release(&s->map);
	free(s->cls);
	free(s->ltab);
	free(s);
}

/* ---- results ------------------------------------------------------------ */

void filter_result_init(struct filter_result *r)
{
	memset(r, 0, sizeof(*r));
}

void filter_result_reset(struct filter_result *r)
{
	r->n = 0;
	r->rejected = 0;
}

void filter_result_release(struct filter_result *r)
{
	free(r->v);
	filter_result_init(r);
}

static const char *field_name(int f)
{
	switch (f) {
	case FIELD_MODIFIED: return "modified";
	case FIELD_QUESTIONS: return "questions";
	case FIELD_REASONING: return "reasoning";
	}
	return "record";
}

json_t *filter_result_json(const struct filter_result *r)
{
	json_t *a = json_array();

	for (size_t i = 0; i < r->n; i++)
		json_array_append_new(a, json_pack("{s:s, s:s, s:s, s:s}", "rule", r->v[i].rule,
						   "action", r->v[i].action == FILTER_REJECT ?
						   "reject" : "flag", "field",
						   field_name(r->v[i].field), "detail", r->v[i].detail));
	return a;
}

/* The length of the valid UTF-8 character at p (as jansson checks it), or 0. */
static size_t utf8_char(const unsigned char *p)
{
	uint32_t c;
	size_t n;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf) {
		n = 2;
		c = p[0] & 0x1f;
	} else if ((p[0] & 0xf0) == 0xe0) {
		n = 3;
		c = p[0] & 0x0f;
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		n = 4;
		c = p[0] & 0x07;
	} else {
		return 0;
	}
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (p[i] & 0x3f);
	}
	if ((n == 3 && (c < 0x800 || (c >= 0xd800 && c <= 0xdfff))) ||
	    (n == 4 && (c < 0x10000 || c > 0x10ffff)))
		return 0;
	return n;
}

/* A detail cut to fit may end inside a character, and one may quote
 * invalid text: what is not UTF-8 becomes '?', so that it stays a JSON
 * string. */
static void utf8_scrub(char *s)
{
	unsigned char *p = (unsigned char *)s;

	while (*p) {
		size_t n = utf8_char(p);

		if (n)
			p += n;
		else
			*p++ = '?';
	}
}

int filter_result_add(struct filter_result *out, const char *rule, int action, int field,
		      const char *detail)
{
	struct filter_verdict *v;

	/* one verdict per rule and field */
	for (size_t i = 0; i < out->n; i++)
		if (out->v[i].field == field && strcmp(out->v[i].rule, rule) == 0)
			return 0;
	if (ARRAY_GROW(out->v, out->cap, out->n, 8))
		return CL_ENOMEM;
	v = &out->v[out->n++];
	snprintf(v->rule, sizeof(v->rule), "%s", rule);
	v->action = action;
	v->field = field;
	snprintf(v->detail, sizeof(v->detail), "%s", detail);
	utf8_scrub(v->detail);
	if (action == FILTER_REJECT)
		out->rejected = 1;
	return 0;
}

static int check_verdict(struct check_ctx *c, const char *rule, int field, const char *detail)
{
	int k = filter_check_index(rule);
	int action = k >= 0 ? c->actions[k] : FILTER_REJECT;

	if (action == FILTER_OFF)
		return 0;
	return filter_result_add(c->arg, rule, action, field, detail);
}

/* ---- patterns ------------------------------------------------------------ */

/* Mark the rules of which the word with hash h (at bytes [a, b)) is a
 * keyword, and add [a, b) to each one's windows. */
static void prefilter_word(const struct kwtab *k, struct filter_scratch *s, uint64_t h,
			   uint32_t a, uint32_t b)
{
	const struct kw_entry *e;
	size_t j;

	if (!(k->bloom[(h >> 50) / 64] & (1ULL << ((h >> 50) % 64))))
		return;
	for (j = (size_t)(h ^ (h >> 29)) & (k->cap - 1); k->v[j].h && k->v[j].h != h;
	     j = (j + 1) & (k->cap - 1))
		;
	e = &k->v[j];
	if (!e->h)
		return;
	for (size_t w = 0; w < s->words; w++) {
		uint64_t all = e->bits[w];

		while (all) {
			size_t r = w * 64 + (size_t)__builtin_ctzll(all);
			struct kwin *v = &s->win[r * NWIN];
			uint8_t n = s->nwin[r];

			all &= all - 1;
			if (n && a <= v[n - 1].b + 2 * MATCH_MARGIN) {
				v[n - 1].b = b;
			} else if (n < NWIN) {
				v[n].a = a;
				v[n].b = b;
				s->nwin[r] = (uint8_t)(n + 1);
			} else {
				v[n - 1].b = b;
			}
		}
		s->mask[w] |= e->bits[w];
		s->also[w] |= e->also[w];
	}
}

/* Which rules can match text: the always-on ones, and those with a
 * keyword among its words (and one of their and_keywords, if any). */
static void prefilter(const struct filter_set *fs, struct filter_scratch *s,
		      const struct toks *t, const char *text)
{
	const struct kwtab *k = fs->keywords;
	int under = memchr(text, '_', t->len) != NULL;

	memset(s->mask, 0, s->words * sizeof(uint64_t));
	memset(s->also, 0, s->words * sizeof(uint64_t));
	memset(s->nwin, 0, fs->n + 1);
	for (size_t i = 0; i < t->n; i++)
		prefilter_word(k, s, t->v[i].h, t->v[i].off, t->v[i].off + t->v[i].len);
	/* "__word__" is markdown emphasis: '_' is a word byte, the keyword inside */
	for (size_t i = 0; under && i < t->n; i++) {
		size_t a = t->v[i].off, b = a + t->v[i].len;

		if (text[a] != '_' && text[b - 1] != '_')
			continue;
		while (a < b && text[a] == '_')
			a++;
		while (b > a && text[b - 1] == '_')
			b--;
		if (a < b)
			prefilter_word(k, s, filter_word_hash(text + a, b - a), (uint32_t)a, (uint32_t)b);
	}
	for (size_t w = 0; w < s->words; w++)
		s->mask[w] = k->always[w] | (s->mask[w] & (~k->need_also[w] | s->also[w]));
}

/*
 * A window's bytes: PCRE2 looks before the start offset for "^", \b and
 * lookbehinds, so the start needs no care; the end is moved on past the
 * next white space, so that no word is cut, and the match is told
 * (PCRE2_NOTEOL) that the end of the window is not the end of the text.
 */
static size_t win_start(const struct kwin *w)
{
	return w->a <= MATCH_MARGIN ? 0 : w->a - MATCH_MARGIN;
}

static size_t win_end(const struct kwin *w, const char *text, size_t len)
{
	size_t at;

	if (w->b + MATCH_MARGIN >= len)
		return len;
	at = w->b + MATCH_MARGIN;
	while (at < len && !isspace((unsigned char)text[at]))
		at++;
	return at < len ? at + 1 : len;
}

/* Run rule r over the window [start, end) of text: 1 on a match (its
 * bounds in s->md), 0 on none. */
static int match_window(const struct filter_rule *r, struct filter_scratch *s, const char *text,
			size_t len, size_t start, size_t end)
{
	int m = pcre2_match(r->re, (PCRE2_SPTR)text, end, start,
			    PCRE2_NO_UTF_CHECK | (end < len ? PCRE2_NOTEOL : 0), s->md, NULL);

	if (m >= 0)
		return 1;
	if (m != PCRE2_ERROR_NOMATCH)
		log_warn("filters: rule '%s' could not run (PCRE2 error %d)", r->id, m);
	return 0;
}

/*
 * Whether the n bytes at lc (a lower-case copy) are in own's text too: a
 * phrase that the text a field was made from has ("the previous problem"
 * of a Codeforces statement, "in this version" of an easy/hard pair) is
 * that text's own, not a reference to it.
 */
static int own_phrase(const struct toks *own, const unsigned char *lc, size_t n)
{
	return own && own->len >= n && n && memmem(own->lc, own->len, lc, n) != NULL;
}

/* Run rule r over the window [start, end) of text, passing over matches
 * that are own's phrases: 1 on a match (its bounds in s->md), 0 on none. */
static int match_own(const struct filter_rule *r, struct filter_scratch *s, const char *text,
		     const struct toks *t, const struct toks *own, size_t start, size_t end)
{
	while (start < end && match_window(r, s, text, t->len, start, end)) {
		PCRE2_SIZE *ov = pcre2_get_ovector_pointer(s->md);

		if (!own_phrase(own, t->lc + ov[0], ov[1] - ov[0]))
			return 1;
		start = ov[1] > ov[0] ? ov[1] : ov[0] + 1;
	}
	return 0;
}

static int run_patterns(const struct filter_set *fs, struct filter_scratch *s, int field,
			const char *text, const struct toks *t, const struct toks *own,
			size_t question, struct filter_result *out)
{
	size_t len = t->len;

	/* toks_fill checked the UTF-8 once, so that no match checks it again */
	if (!t->utf8)
		return fs->check_action[FILTER_CHECK_UTF8] == FILTER_OFF ? 0 :
		       filter_result_add(out, "invalid-utf8", fs->check_action[FILTER_CHECK_UTF8],
					 field, "the text is not valid UTF-8");
	for (size_t i = 0; i < fs->n; i++) {
		const struct filter_rule *r = &fs->rules[i];
		PCRE2_SIZE *ov;
		char detail[192];
		int hit = 0;

		if (!(r->fields & (unsigned)field) || !(s->mask[i / 64] & (1ULL << (i % 64))) ||
		    r->action == FILTER_OFF)
			continue;
		if (!r->nkeywords) {
			hit = match_own(r, s, text, t, r->unless_original ? own : NULL, 0, len);
		} else {
			const struct kwin *w = &s->win[i * NWIN];

			for (size_t k = 0; k < s->nwin[i] && !hit; k++)
				hit = match_own(r, s, text, t, r->unless_original ? own : NULL,
						win_start(&w[k]),
						win_end(&w[k], text, len));
		}
		if (!hit)
			continue;
		ov = pcre2_get_ovector_pointer(s->md);
		if (question)
			snprintf(detail, sizeof(detail), "question %zu: \"%.*s\"", question,
				 (int)(ov[1] - ov[0] < 120 ? ov[1] - ov[0] : 120), text + ov[0]);
		else
			snprintf(detail, sizeof(detail), "\"%.*s\"",
				 (int)(ov[1] - ov[0] < 120 ? ov[1] - ov[0] : 120), text + ov[0]);
		if (filter_result_add(out, r->id, r->action, field, detail))
			return CL_ENOMEM;
	}
	return 0;
}

/* ---- one record ---------------------------------------------------------- */

int filter_run(const struct filter_set *fs, struct filter_scratch *s,
	       const struct filter_input *in, struct filter_result *out)
{
	struct check_ctx c = {
		.in = in, .limits = &fs->limits, .orig = &s->orig, .mod = &s->mod,
		.map = &s->map, .types = s->types,
		.orig_values = s->orig_values, .mod_values = s->mod_values, .orig_at = s->orig_at,
		.mod_at = s->mod_at,
		.cls = &s->cls, .ncls = &s->ncls, .actions = fs->check_action,
		.ltab = &s->ltab, .nltab = &s->nltab,
		.verdict = check_verdict, .arg = out,
	};
	int rc;

	if (toks_fill(&s->orig, in->original, 0) || toks_fill(&s->mod, in->modified, 1))
		return CL_ENOMEM;

	/* the record as a whole */
	rc = check_shape(&c);
	if (!rc)
		rc = check_unchanged(&c);
	if (!rc)
		rc = check_ngrams(&c);
	if (!rc)
		rc = check_repeated_lines(&c);
	if (!rc)
		rc = check_repeated_words(&c);
	if (!rc && fs->check_action[filter_check_index("inline-commentary")] != FILTER_OFF)
		rc = check_commentary(&c);
	if (rc)
		return rc;

	/* the modified problem */
	if (in->modified) {
		prefilter(fs, s, &s->mod, in->modified);
		rc = run_patterns(fs, s, FIELD_MODIFIED, in->modified, &s->mod,
				  in->original ? &s->orig : NULL, 0, out);
		if (rc)
			return rc;
	}

	/* each question */
	for (size_t i = 0; i < in->nquestions; i++) {
		const char *q = in->questions[i] ? in->questions[i] : "";

		if (toks_fill(&s->q, q, 0))
			return CL_ENOMEM;
		rc = check_hidden_question(&c, q, &s->q);
		if (rc)
			return rc;
		prefilter(fs, s, &s->q, q);
		rc = run_patterns(fs, s, FIELD_QUESTIONS, q, &s->q, NULL, i + 1, out);
		if (rc)
			return rc;
	}

	/* the reasoning, where a rule asks for it */
	if (in->reasoning) {
		if (toks_fill(&s->q, in->reasoning, 0))
			return CL_ENOMEM;
		prefilter(fs, s, &s->q, in->reasoning);
		rc = run_patterns(fs, s, FIELD_REASONING, in->reasoning, &s->q, NULL, 0, out);
	}
	return rc;
}
