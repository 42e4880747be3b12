/*
 * checks.c - the n-gram map and the built-in checks: unchanged,
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

static double pow_i(double b, int e)
{
	double x = 1;

	while (e-- > 0)
		x *= b;
	return x;
}

static double pow10i(int e)
{
	return pow_i(10, e);
}

/* ---- the n-gram map -------------------------------------------------------- */

/*
 * n-grams as 32-bit keys with two counts in each 64-bit slot: how often
 * the n-gram is in the original, and in the modified problem.  A slot's
 * index comes from the low bits of the n-gram's mixed hash and its key
 * from the high bits, so two n-grams collide only when 32 more bits
 * agree.  Open addressing at a load of at most a quarter (probes end at
 * the first slot, mostly), sized before use, so an insert never rehashes.
 */
#define GM_CMAX 0xffffU

static uint64_t mix(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	return h;
}

static uint64_t gm_key(uint64_t mixed)
{
	return (mixed | (1ULL << 32)) & 0xffffffff00000000ULL;
}

static unsigned gm_orig(uint64_t slot)
{
	return (unsigned)(slot >> 16) & GM_CMAX;
}

static unsigned gm_mod(uint64_t slot)
{
	return (unsigned)slot & GM_CMAX;
}

int gmap_reset(struct gmap *m, size_t entries)
{
	size_t cap = 256;

	while (cap < entries * 4)
		cap *= 2;
	if (cap > m->cap) {
		free(m->v);
		free(m->touched);
		m->v = calloc(cap, sizeof(*m->v));
		m->touched = malloc(cap / 4 * sizeof(*m->touched));
		m->cap = m->v && m->touched ? cap : 0;
		m->used = m->cap;
		m->ntouched = 0;
		return m->cap ? 0 : CL_ENOMEM;
	}
	/* keep a big table, and clear only the slots the last record used */
	for (size_t i = 0; i < m->ntouched; i++)
		m->v[m->touched[i]] = 0;
	m->ntouched = 0;
	m->used = cap;
	return 0;
}

void gmap_release(struct gmap *m)
{
	free(m->v);
	free(m->touched);
	free(m->g);
	memset(m, 0, sizeof(*m));
}

/* An n-gram's slot, 0 when it is in neither text. */
static uint64_t gmap_find(const struct gmap *m, uint64_t mixed)
{
	size_t mask = m->used - 1, i = (size_t)mixed & mask;
	uint64_t key = gm_key(mixed);

	while (m->v[i] && (m->v[i] & 0xffffffff00000000ULL) != key)
		i = (i + 1) & mask;
	return m->v[i];
}

/* The slot of an n-gram, with its key set (counts 0 when new). */
static inline __attribute__((always_inline)) uint64_t *gmap_slot(struct gmap *m, uint64_t mixed)
{
	size_t mask = m->used - 1, i = (size_t)mixed & mask;
	uint64_t key = gm_key(mixed);

	while (m->v[i] && (m->v[i] & 0xffffffff00000000ULL) != key)
		i = (i + 1) & mask;
	if (!m->v[i]) {
		m->v[i] = key;
		m->touched[m->ntouched++] = (uint32_t)i;
	}
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

/* Move the rolling hash of the n tokens at t[j] on to those at t[j + 1]. */
static uint64_t roll(const struct tok *t, size_t j, size_t n, uint64_t h, uint64_t pn)
{
	return h * ROLL_P + t[j + n].h - pn * t[j].h;
}

/*
 * The mixed hashes of t's n-token runs into m->g; returns how many (0
 * when t is shorter than n), or -1 when out of memory.  Two rolling
 * chains, over each half of t, so that the multiplies of one overlap
 * those of the other; the map's probes come after, with no chain between
 * them.
 */
static ssize_t ngram_hashes(struct gmap *m, const struct toks *t, size_t n)
{
	size_t k = t->n >= n ? t->n - n + 1 : 0, half = k / 2;
	uint64_t a, b, pn;

	if (k > m->gcap) {
		uint64_t *g = malloc(k * sizeof(*g));

		if (!g)
			return -1;
		free(m->g);
		m->g = g;
		m->gcap = k;
	}
	if (k < 4) {
		a = k ? first_ngram(t->v, n, &pn) : 0;
		for (size_t i = 0; i < k; i++) {
			if (i)
				a = roll(t->v, i - 1, n, a, pn);
			m->g[i] = mix(a);
		}
		return (ssize_t)k;
	}
	a = first_ngram(t->v, n, &pn);
	b = first_ngram(t->v + half, n, &pn);
	for (size_t i = 0; i < half; i++) {
		if (i) {
			a = roll(t->v, i - 1, n, a, pn);
			b = roll(t->v, half + i - 1, n, b, pn);
		}
		m->g[i] = mix(a);
		m->g[half + i] = mix(b);
	}
	if (k & 1)
		m->g[k - 1] = mix(roll(t->v, k - 2, n, b, pn));
	return (ssize_t)k;
}

/* ---- the checks ------------------------------------------------------- */

static int is_blank(const char *s)
{
	for (; s && *s; s++)
		if (!is_space((unsigned char)*s))
			return 0;
	return 1;
}

/* The length of a math sign that formatting swaps for ASCII or LaTeX,
 * or drops: the signs of U+2010..U+22FF, the middle dot, the
 * multiplication sign, a no-break space. */
static size_t math_sign(const unsigned char *p)
{
	if (p[0] == 0xc2 && (p[1] == 0xb7 || p[1] == 0xa0))
		return 2;
	if (p[0] == 0xc3 && p[1] == 0x97)
		return 2;
	if (p[0] == 0xe2 && p[1] >= 0x80 && p[1] <= 0x8b && p[2] >= 0x80 && p[2] <= 0xbf)
		return 3;
	if (p[0] == 0xe2 && p[1] == 0xa9 && (p[2] == 0xbd || p[2] == 0xbe))
		return 3;                               /* slanted <= and >= */
	return 0;
}

enum { REL_NONE, REL_LE, REL_GE, REL_NE, REL_LT, REL_GT, REL_EQ, OP_PLUS, OP_MINUS, OP_MUL, OP_DIV, OP_PM };

/* The relation a LaTeX command names: \\le and \\leq are <=. */
static int latex_relation(const unsigned char *p, size_t n)
{
	static const struct { const char *name; int rel; } cmds[] = {
		{ "le", REL_LE }, { "leq", REL_LE }, { "leqslant", REL_LE }, { "ge", REL_GE },
		{ "geq", REL_GE }, { "geqslant", REL_GE }, { "ne", REL_NE }, { "neq", REL_NE },
		{ "lt", REL_LT }, { "gt", REL_GT }, { "cdot", OP_MUL }, { "times", OP_MUL },
		{ "ast", OP_MUL }, { "div", OP_DIV }, { "pm", OP_PM },
	};

	for (size_t i = 0; i < CL_ARRAY_SIZE(cmds); i++)
		if (strlen(cmds[i].name) == n && memcmp(cmds[i].name, p, n) == 0)
			return cmds[i].rel;
	return REL_NONE;
}

/* Is the ASCII + - * at p an operator, not a hyphen ("non-negative"), a
 * rule ("-----Input-----"), a bullet ("- item") or emphasis ("**Input**")? */
static int ascii_op(const unsigned char *start, const unsigned char *p)
{
	const unsigned char *q = p, *b = p, *f = p + 1;
	unsigned char prev, next;

	if ((p > start && p[-1] == *p) || p[1] == *p)
		return 0;
	/* past the $ of inline math: "$j$-th" is "j-th" */
	while (b > start && b[-1] == '$')
		b--;
	while (*f == '$')
		f++;
	prev = b > start ? b[-1] : '\n';
	next = *f;
	while (q > start && (q[-1] == ' ' || q[-1] == '\t'))
		q--;
	if ((q == start || q[-1] == '\n') && next == ' ')
		return 0;                               /* a bullet */
	if (*p == '-')
		return !(((prev | 32) >= 'a' && (prev | 32) <= 'z') &&
			 ((next | 32) >= 'a' && (next | 32) <= 'z'));
	if (*p == '*') {
		int lp = ((prev | 32) >= 'a' && (prev | 32) <= 'z'), ln = ((next | 32) >= 'a' && (next | 32) <= 'z');

		/* "a * b", "2*10^5", "2* 6"; not the ends of "*word*" */
		return !((prev == ' ' || prev == '\n') && ln) &&
		       !(lp && (next == ' ' || next == '\n' || next == '\0' || next == ',' || next == '.'));
	}
	return 1;
}

/*
 * Past what formatting changes, to the next word, relation or operator:
 * white space, punctuation, LaTeX commands (\\dots, \\left) and other
 * math signs go; a relation (<=, \\le, U+2264; !=, \\neq, U+2260; =, <, >)
 * or an arithmetic operator (+, -, U+2212; *, \\cdot, \\times, U+00B7,
 * U+00D7) is kept as one, since "a = b" for "a \\neq b", or "a - b" for
 * "a \\cdot b", is an edit.  *rel gets it, or REL_NONE before a word (or
 * at the end).  start is the text's first byte.
 */
static const unsigned char *skip_format(const unsigned char *start, const unsigned char *p,
					int *rel)
{
	*rel = REL_NONE;
	for (;;) {
		size_t k;

		if ((*p == '+' || *p == '-' || *p == '*') && ascii_op(start, p)) {
			*rel = *p == '+' ? OP_PLUS : *p == '-' ? OP_MINUS : OP_MUL;
			return p + 1;
		}
		if ((p[0] == 0xc2 && p[1] == 0xb7) || (p[0] == 0xc3 && p[1] == 0x97)) {
			*rel = OP_MUL;
			return p + 2;
		}
		if (p[0] == 0xe2 && p[1] == 0x88 && p[2] == 0x92) {
			*rel = OP_MINUS;
			return p + 3;
		}

		if (*p == '\\' && ((p[1] >= 'a' && p[1] <= 'z') || (p[1] >= 'A' && p[1] <= 'Z'))) {
			const unsigned char *q = ++p;

			while ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z'))
				p++;
			*rel = latex_relation(q, (size_t)(p - q));
			if (*rel)
				return p;
		} else if (p[0] == 0xe2 && p[1] == 0x89 && (p[2] == 0xa4 || p[2] == 0xa5 || p[2] == 0xa0)) {
			*rel = p[2] == 0xa4 ? REL_LE : p[2] == 0xa5 ? REL_GE : REL_NE;
			return p + 3;
		} else if (p[0] == 0xe2 && p[1] == 0xa9 && (p[2] == 0xbd || p[2] == 0xbe)) {
			*rel = p[2] == 0xbd ? REL_LE : REL_GE;
			return p + 3;
		} else if (*p == '<' || *p == '>' || *p == '=' || (*p == '!' && p[1] == '=')) {
			int two = p[1] == '=' || (p[0] == '<' && p[1] == '>');

			*rel = *p == '=' ? REL_EQ : *p == '!' || (p[0] == '<' && p[1] == '>') ? REL_NE :
			       *p == '<' ? (two ? REL_LE : REL_LT) : (two ? REL_GE : REL_GT);
			p += two ? 2 : 1;
			while (*p == '=')
				p++;                    /* "==" is "=" */
			return p;
		} else if ((k = math_sign(p)) != 0) {
			p += k;
		} else if (*p && !is_word(*p)) {
			p++;
		} else {
			return p;
		}
	}
}

/* Equal once case, spaces, punctuation and formatting are set aside: the
 * statement with Markdown headers, LaTeX as signs or signs as LaTeX is
 * still the statement. */
static int same_words(const char *a, size_t la, const char *b, size_t lb)
{
	const unsigned char *p = (const unsigned char *)a, *q = (const unsigned char *)b;
	size_t n = la < lb ? la : lb, i = 0;

	/* the bytes they share first, eight at a time, then from the start of that
	 * word (and of a LaTeX command, a sign or a relation, which are
	 * words' neighbours) */
	for (; i + 8 <= n; i += 8) {
		uint64_t x, y;

		memcpy(&x, p + i, 8);
		memcpy(&y, q + i, 8);
		if (x != y)
			break;
	}
	p += i;
	q += i;
	while (*p && *p == *q) {
		p++;
		q++;
	}
	while (p > (const unsigned char *)a && (is_word(p[-1]) || p[-1] == '\\' || p[-1] >= 0x80 ||
						 strchr("<>=!", p[-1]))) {
		p--;
		q--;
	}
	for (;;) {
		int rp, rq;

		p = skip_format((const unsigned char *)a, p, &rp);
		q = skip_format((const unsigned char *)b, q, &rq);
		if (rp != rq)
			return 0;
		if (rp)
			continue;
		if (!*p || !*q)
			return !*p && !*q;
		/* a word ends at a non-word byte on both sides at once */
		while (*p && *q && is_word(*p) && is_word(*q) && !math_sign(p) && !math_sign(q) &&
		       !(p[0] == 0xe2 && (p[1] == 0x89 || p[1] == 0xa9)) &&
		       !(q[0] == 0xe2 && (q[1] == 0x89 || q[1] == 0xa9))) {
			if (lower(*p) != lower(*q))
				return 0;
			p++;
			q++;
		}
		if ((is_word(*p) && !math_sign(p)) != (is_word(*q) && !math_sign(q)))
			return 0;
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
	if (same_words(c->in->original, c->orig->len, c->in->modified, c->mod->len))
		return c->verdict(c, "unchanged", 0, "the modified problem is the original one");
	return 0;
}

/* ---- drift: the words the modified problem keeps ----------------------- */

/*
 * Words every problem statement has, English's and competitive
 * programming's: a rewrite about something else still has them, so drift
 * counts only the others (the names, objects and rules of this problem).
 * Written by hand from general knowledge of the genre, not from a corpus.
 */
static const char *const stop_words[] = {
	"a", "about", "above", "after", "again", "all", "also", "am", "an", "and", "any", "are", "as",
	"at", "be", "because", "been", "before", "being", "below", "between", "both", "but", "by",
	"can", "cannot", "could", "did", "do", "does", "doing", "down", "during", "each", "either",
	"else", "even", "every", "few", "for", "from", "further", "had", "has", "have", "having",
	"he", "her", "here", "hers", "him", "his", "how", "i", "if", "in", "into", "is", "it",
	"its", "itself", "just", "let", "like", "may", "me", "might", "more", "most", "much", "must",
	"my", "neither", "no", "nor", "not", "now", "of", "off", "on", "once", "one", "only", "or",
	"other", "our", "out", "over", "own", "per", "same", "she", "should", "so", "some", "such",
	"than", "that", "the", "their", "them", "then", "there", "these", "they", "this", "those",
	"through", "to", "too", "under", "until", "up", "upon", "us", "very", "was", "we", "were",
	"what", "when", "where", "whether", "which", "while", "who", "whom", "why", "will", "with",
	"within", "without", "would", "you", "your", "yours", "s", "t", "ll", "re", "ve", "d",
	"given", "find", "print", "output", "input", "return", "returns", "line", "lines", "first",
	"second", "third", "next", "last", "following", "contains", "contain", "containing",
	"consists", "integer", "integers", "number", "numbers", "value", "values", "test", "tests",
	"case", "cases", "example", "examples", "note", "notes", "explanation", "answer", "answers",
	"single", "two", "three", "four", "five", "exactly", "least", "most", "maximum", "minimum",
	"possible", "impossible", "total", "sum", "equal", "different", "distinct", "separated",
	"space", "spaces", "guaranteed", "constraints", "constraint", "problem", "task", "statement",
	"each", "such", "denote", "denotes", "respectively", "required", "need", "needs", "want",
	"wants", "make", "makes", "made", "get", "gets", "use", "used", "using", "way", "ways",
	"time", "times", "order", "string", "strings", "array", "arrays", "length", "size",
	"element", "elements", "index", "indices", "query", "queries", "operation", "operations",
	"le", "leq", "ge", "geq", "ne", "neq", "lt", "gt", "cdot", "dots", "ldots", "cdots", "times",
	"frac", "mathrm", "text", "texttt", "textbf", "bf", "it", "left", "right", "max", "min",
	"mod", "modulo", "yes", "no", "true", "false", "new", "old", "many", "any", "all", "none",
	"known", "called", "called", "help", "calculate", "determine", "compute", "count",
	"description", "format", "standard", "stdin", "stdout",
};

static struct hset stop_set;
static pthread_once_t stop_once = PTHREAD_ONCE_INIT;

static size_t hset_slot(const struct hset *s, uint64_t h)
{
	size_t mask = s->cap - 1, i = (size_t)(h ^ (h >> 31)) & mask;

	while (s->v[i] && s->v[i] != h)
		i = (i + 1) & mask;
	return i;
}

/* Empty s, with room for n hashes at a quarter load. */
static int hset_reset(struct hset *s, size_t n)
{
	size_t cap = 64;

	while (cap < 4 * n)
		cap *= 2;
	if (cap > s->cap) {
		uint64_t *v = calloc(cap, sizeof(*v));

		if (!v)
			return CL_ENOMEM;
		free(s->v);
		s->v = v;
		s->cap = cap;
	} else {
		memset(s->v, 0, s->cap * sizeof(*s->v));
	}
	s->n = 0;
	return 0;
}

/* Add h; 1 when it was not there yet. */
static int hset_add(struct hset *s, uint64_t h)
{
	size_t i = hset_slot(s, h);

	if (s->v[i])
		return 0;
	s->v[i] = h;
	s->n++;
	return 1;
}

static int hset_has(const struct hset *s, uint64_t h)
{
	return s->cap && s->v[hset_slot(s, h)] == h;
}

void hset_release(struct hset *s)
{
	free(s->v);
	memset(s, 0, sizeof(*s));
}

static void stop_init(void)
{
	size_t n = CL_ARRAY_SIZE(stop_words);

	if (hset_reset(&stop_set, n))
		return;
	for (size_t i = 0; i < n; i++)
		hset_add(&stop_set, filter_word_hash(stop_words[i], strlen(stop_words[i])));
}

/* A word that says what the problem is about: two or more bytes, not only
 * digits, not a stop word. */
static int content_word(const struct toks *t, const char *text, size_t i)
{
	const struct tok *k = &t->v[i];
	const unsigned char *p = (const unsigned char *)text + k->off;
	int digits = 1;

	if (k->len < 2 || !is_word(p[0]))
		return 0;
	for (uint32_t j = 0; j < k->len && digits; j++)
		digits = p[j] >= '0' && p[j] <= '9';
	return !digits && !hset_has(&stop_set, k->h);
}

/*
 * The share of the modified problem's content words (each counted once)
 * that the original has.  It survives reordering and rewording, which a
 * rewrite may do freely: the names, objects and rules of a problem stay.
 * The sets are Bloom filters of one hash (16384 bits each, cleared per
 * record): at a few hundred words a false "kept" or "seen" is under 2%,
 * which moves the share by as little.  -1 when the modified problem has
 * too few content words to tell.
 */
#define TYPE_BITS 16384

static int bloom_set(uint64_t *b, uint64_t h)
{
	size_t i = (size_t)(h >> 50) & (TYPE_BITS - 1);
	uint64_t bit = 1ULL << (i % 64), old = b[i / 64];

	b[i / 64] = old | bit;
	return !(old & bit);
}

static int bloom_has(const uint64_t *b, uint64_t h)
{
	size_t i = (size_t)(h >> 50) & (TYPE_BITS - 1);

	return (b[i / 64] >> (i % 64)) & 1;
}

static double content_kept(struct check_ctx *c)
{
	const struct toks *o = c->orig, *m = c->mod;
	uint64_t *bo = c->types, *bm = c->types + TYPE_BITS / 64;
	size_t kept = 0, types = 0;

	pthread_once(&stop_once, stop_init);
	if (!stop_set.cap)
		return -1;
	memset(c->types, 0, 2 * TYPE_BITS / 8);
	for (size_t i = 0; i < o->n; i++)
		bloom_set(bo, o->v[i].h);
	for (size_t i = 0; i < m->n; i++)
		if (content_word(m, c->in->modified, i) && bloom_set(bm, m->v[i].h)) {
			types++;
			kept += bloom_has(bo, m->v[i].h);
		}
	if (types < 6)
		return -1;
	return (double)kept / (double)types;
}

#define LOOP_CANDIDATES 16

/*
 * How often the original has the most frequent of the three-word runs
 * inside the modified problem's n-gram at token at: a phrase the original
 * repeats that often, reworded ("one stick with length" as "one stick with
 * size"), is the problem's own structure, not a loop.
 */
static unsigned orig_subgrams(const struct check_ctx *c, size_t at, size_t n)
{
	const struct tok *m = &c->mod->v[at], *o = c->orig->v;
	unsigned best = 0;

	for (size_t s = 0; s + 3 <= n; s++) {
		unsigned count = 0;

		for (size_t j = 0; j + 3 <= c->orig->n; j++)
			count += o[j].h == m[s].h && o[j + 1].h == m[s + 1].h && o[j + 2].h == m[s + 2].h;
		if (count > best)
			best = count;
	}
	return best;
}

/*
 * Whether the n-gram whose occurrence at token at is one of four in a row comes back
 * as a loop does: its four occurrences at one period, and the tokens of
 * each period the same as the next's: the period in tokens, or 0.  A
 * problem's own repeated phrasing
 * ("... and then he ...", a step of a list) has other words between.
 */
static size_t periodic(const struct check_ctx *c, size_t at)
{
	const uint64_t *g = c->map->g;
	const struct tok *t = c->mod->v;
	size_t p[4], n = 0, d;

	/* the last four occurrences up to at */
	for (ssize_t i = (ssize_t)at; i >= 0 && n < 4; i--)
		if (g[i] == g[at])
			p[3 - n++] = (size_t)i;
	if (n < 4)
		return 0;
	d = p[1] - p[0];
	if (p[2] - p[1] != d || p[3] - p[2] != d)
		return 0;
	for (size_t i = p[0]; i < p[0] + 3 * d; i++)
		if (t[i].h != t[i + d].h)
			return 0;
	return d;
}

/* Whether most of the n tokens at t are words of letters: a phrase that
 * loops, not a run of dashes, digits or an example's brackets. */
static int wordy(const char *text, const struct tok *t, size_t n)
{
	size_t words = 0;

	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)text[t[i].off];

		words += t[i].len >= 2 && ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z'));
	}
	return 2 * words > n;
}

/*
 * The n-gram checks, on one map of the original's and the modified
 * problem's n-grams and their counts:
 *
 *  - drift: few of the modified problem's n-grams are the original's, and
 *    few of its content words either: a rewrite about something else, not
 *    one that reorders or rewords;
 *  - repeated-ngrams: too many n-grams are repeats, or one n-gram comes
 *    four times or more (a reply that loops), where what the original
 *    itself repeats is the problem's own: an n-gram counts as repeated
 *    only past twice its count in the original;
 *  - per question (check_hidden_question), hidden-leak.
 */
int check_ngrams(struct check_ctx *c)
{
	const struct toks *o = c->orig, *m = c->mod;
	size_t n = (size_t)c->limits->leak_ngram, total = 0, dup = 0, shared = 0;
	size_t loops[LOOP_CANDIDATES], nloops = 0;
	ssize_t k;
	char why[192];
	int rc;

	c->hidden_ready = 0;
	c->values_ready = 0;
	rc = gmap_reset(c->map, (o->n + m->n));
	if (rc)
		return rc;
	k = ngram_hashes(c->map, o, n);
	if (k < 0)
		return CL_ENOMEM;
	for (ssize_t i = 0; i < k; i++) {
		uint64_t *slot = gmap_slot(c->map, c->map->g[i]);

		if (gm_orig(*slot) < GM_CMAX)
			*slot += 1U << 16;
	}
	k = ngram_hashes(c->map, m, n);
	if (k < 0)
		return CL_ENOMEM;
	for (ssize_t i = 0; i < k; i++) {
		uint64_t *slot = gmap_slot(c->map, c->map->g[i]);
		unsigned oc = gm_orig(*slot), mc = gm_mod(*slot) + (gm_mod(*slot) < GM_CMAX);

		*slot = (*slot & ~(uint64_t)GM_CMAX) | mc;
		total++;
		shared += oc > 0;
		dup += mc > 1 && mc > 2 * oc;
		/* a phrase four times, and more than twice as often as the
		 * original has it: maybe a loop (judged once its counts are all in) */
		if (mc == (oc < 1 ? 4 : 2 * oc + 2) && nloops < LOOP_CANDIDATES)
			loops[nloops++] = (size_t)i;
	}
	c->hidden_ready = c->in->original != NULL && o->n >= n;
	if (c->hidden_ready && total >= 8 &&
	    (double)shared / (double)total < c->limits->drift_min_overlap) {
		double kept = content_kept(c);

		/* too few content words to tell: the runs decide alone */
		if (kept < c->limits->drift_min_content) {
			if (kept >= 0)
				snprintf(why, sizeof(why), "only %.0f%% of its %zu-word runs and %.0f%% "
					 "of its content words are in the original", 100.0 *
					 (double)shared / (double)total, n, 100.0 * kept);
			else
				snprintf(why, sizeof(why), "only %.0f%% of its %zu-word runs are in the "
					 "original", 100.0 * (double)shared / (double)total, n);
			rc = c->verdict(c, "drift", 0, why);
			if (rc)
				return rc;
		}
	}
	if (m->n >= 40 && total && (double)dup / (double)total > c->limits->max_ngram_repeat) {
		snprintf(why, sizeof(why), "%.0f%% of its %zu-word runs are repeats",
			 100.0 * (double)dup / (double)total, n);
		return c->verdict(c, "repeated-ngrams", FIELD_MODIFIED, why);
	}
	for (size_t l = 0; l < nloops && m->n >= 40; l++) {
		uint64_t slot = gmap_find(c->map, c->map->g[loops[l]]);
		unsigned mc = gm_mod(slot), oc = gm_orig(slot);
		char quoted[100];

		size_t d;

		/* a phrase of words, or a block of three tokens or more ("1 <= c
		 * <= 10^9"), at one period, beyond what the original has */
		if (mc <= 2 * oc + 1 || !(d = periodic(c, loops[l])) ||
		    (!wordy(c->in->modified, &m->v[loops[l]], n) && d < 3) ||
		    2 * orig_subgrams(c, loops[l], n) >= mc)
			continue;
		quote(c->in->modified, &m->v[loops[l]], n, quoted, sizeof(quoted));
		snprintf(why, sizeof(why), "repeats \"%s\" %u times", quoted, mc);
		return c->verdict(c, "repeated-ngrams", FIELD_MODIFIED, why);
	}
	return 0;
}

/* ---- values: the numbers a question may not give away ---------------------- */

/*
 * The numbers of a text, as values: 100000, 10^5, 10^{5}, 1e5 and
 * 2 \\cdot 10^5 (or 2*10^5, 2·10^5) are read as what they are, so that
 * a question's "10^5" is the original's "100000"; digit groups with
 * commas ("100,000") are one number.  Values under 10 are left out: a
 * question may well ask about 0, 1 or 2 without giving anything away.
 */
static int read_number(const unsigned char *p, double *v, const unsigned char **end)
{
	double x = 0;

	if (*p < '0' || *p > '9')
		return 0;
	while ((*p >= '0' && *p <= '9') || (*p == ',' && p[1] >= '0' && p[1] <= '9' &&
					     p[2] >= '0' && p[2] <= '9' && p[3] >= '0' &&
					     p[3] <= '9' && !(p[4] >= '0' && p[4] <= '9'))) {
		if (*p != ',')
			x = x * 10 + (*p - '0');
		p++;
	}
	*v = x;
	*end = p;
	return 1;
}

/* An exponent after a number: ^5, ^{5}, **5, e5 (only after 1..9). */
static const unsigned char *exponent(const unsigned char *p, double base, double *v)
{
	const unsigned char *q = p;
	double e;

	while (*q == ' ')
		q++;
	if (*q == '^' || (q[0] == '*' && q[1] == '*')) {
		q += *q == '^' ? 1 : 2;
		while (*q == ' ' || *q == '{')
			q++;
	} else if ((*q == 'e' || *q == 'E') && base >= 1 && base < 10 && q == p) {
		q++;
	} else {
		*v = base;
		return p;
	}
	if (!read_number(q, &e, &q) || e > 18) {
		*v = base;
		return p;
	}
	if (*p == 'e' || *p == 'E')
		*v = base * pow10i((int)e);
	else
		*v = pow_i(base, (int)e);
	while (*q == '}')
		q++;
	return q;
}

/* Whether the number at p reads as a bound: a comparison or a word of
 * limits just before it, or a comparison just after ("10^5 >= n"). */
static int bound_context(const char *text, const unsigned char *p, const unsigned char *end)
{
	static const char *const cues[] = {
		"<", ">", "\\le", "\\ge", "\\lt", "\\gt", "\xe2\x89\xa4", "\xe2\x89\xa5", "most",
		"least", "up to", "exceed", "mod", "between", "limit", "maximum", "minimum", "bound",
		"than", "within", "range", "from", "under", "below", "above", "over", "beyond",
	};
	const unsigned char *lo = p - 24 > (const unsigned char *)text ? p - 24 :
				  (const unsigned char *)text;
	char win[64];
	size_t n = 0;

	for (const unsigned char *q = lo; q < p; q++)
		win[n++] = (char)lower(*q);
	win[n] = '\0';
	for (size_t i = 0; i < CL_ARRAY_SIZE(cues); i++)
		if (strstr(win, cues[i]))
			return 1;
	while (*end == ' ' || *end == '$' || *end == '}')
		end++;
	return *end == '<' || *end == '>' || (end[0] == '\\' && (end[1] == 'l' || end[1] == 'g')) ||
	       (end[0] == 0xe2 && end[1] == 0x89);
}

size_t text_values(const char *text, const struct toks *t, double *out, uint32_t *at,
		   size_t max)
{
	const unsigned char *base = (const unsigned char *)text, *done = base;
	size_t n = 0;

	if (!text)
		return 0;
	/* numbers start tokens: only those are read, each once */
	for (size_t i = 0; i < t->n && n < max; i++) {
		const unsigned char *p = base + t->v[i].off, *q;
		double v, w;

		if (p < done || *p < '0' || *p > '9' || (p > base && p[-1] == '.'))
			continue;
		read_number(p, &v, &q);
		if (*q == '.' && q[1] >= '0' && q[1] <= '9') {
			/* a decimal: its digits are no values of their own */
			for (q++; *q >= '0' && *q <= '9'; q++)
				;
			done = q;
			continue;
		}
		q = exponent(q, v, &v);
		/* 2 \\cdot 10^5, 2*10^5, 2 x 10^5 */
		{
			const unsigned char *r = q;

			while (*r == ' ')
				r++;
			if (r[0] == '\\' && r[1] == 'c' && memcmp(r, "\\cdot", 5) == 0)
				r += 5;
			else if (r[0] == '\\' && r[1] == 't' && memcmp(r, "\\times", 6) == 0)
				r += 6;
			else if (*r == '*' && r[1] != '*')
				r++;
			else if (r[0] == 0xc2 && r[1] == 0xb7)
				r += 2;
			else if (r[0] == 0xc3 && r[1] == 0x97)
				r += 2;
			else
				r = NULL;
			if (r) {
				while (*r == ' ')
					r++;
				if (r[0] == '1' && r[1] == '0' && !(r[2] >= '0' && r[2] <= '9')) {
					const unsigned char *e = exponent(r + 2, 10, &w);

					if (e != r + 2) {
						v *= w;
						q = e;
					}
				}
			}
		}
		if (v >= 10) {
			if (at) {
				at[2 * n] = (uint32_t)(p - base);
				at[2 * n + 1] = (uint32_t)(q - base);
			}
			out[n++] = v;
		}
		done = q;
	}
	return n;
}

/* Whether text gives x as a bound somewhere (of its n values v at at). */
static int is_bound(const char *text, const double *v, const uint32_t *at, size_t n, double x)
{
	const unsigned char *t = (const unsigned char *)text;

	for (size_t i = 0; i < n; i++)
		if (v[i] == x && bound_context(text, t + at[2 * i], t + at[2 * i + 1]))
			return 1;
	return 0;
}

int check_hidden_question(struct check_ctx *c, const char *q, const struct toks *qt)
{
	size_t n = (size_t)c->limits->leak_ngram, nq;
	char quoted[120], why[192];
	double qv[32];
	ssize_t k;

	if (!c->hidden_ready)
		return 0;
	if (qt->n >= n) {
		k = ngram_hashes(c->map, qt, n);
		if (k < 0)
			return CL_ENOMEM;
		for (ssize_t i = 0; i < k; i++) {
			uint64_t slot = gmap_find(c->map, c->map->g[i]);

			/* a quote starts and ends with a word: "from left to
			 * right," is the four words the rewrite may well name */
			if (!is_word((unsigned char)q[qt->v[i].off]) ||
			    !is_word((unsigned char)q[qt->v[i + n - 1].off]))
				continue;
			if (gm_orig(slot) && !gm_mod(slot)) {
				quote(q, &qt->v[i], n, quoted, sizeof(quoted));
				snprintf(why, sizeof(why), "quotes \"%s\", which the modified problem "
					 "no longer has", quoted);
				return c->verdict(c, "hidden-leak", FIELD_QUESTIONS, why);
			}
		}
	}
	/* a bound the original has and the modified problem does not */
	nq = text_values(q, qt, qv, NULL, CL_ARRAY_SIZE(qv));
	if (!nq)
		return 0;
	if (!c->values_ready) {
		/* only bounds count: an example's output may be worked out from
		 * the rules, and a question may well give it */
		c->norig_values = text_values(c->in->original, c->orig, c->orig_values, c->orig_at,
					      MAX_VALUES);
		c->nmod_values = text_values(c->in->modified, c->mod, c->mod_values, c->mod_at,
					     MAX_VALUES);
		c->values_ready = 1;
	}
	for (size_t i = 0; i < nq; i++) {
		/* a bound of the original that the modified problem does not
		 * give as one (an example's 100000 is no bound) */
		if (is_bound(c->in->original, c->orig_values, c->orig_at, c->norig_values, qv[i]) &&
		    !is_bound(c->in->modified, c->mod_values, c->mod_at, c->nmod_values, qv[i])) {
			snprintf(why, sizeof(why), "gives the value %.15g, which the modified problem "
				 "no longer has", qv[i]);
			return c->verdict(c, "hidden-leak", FIELD_QUESTIONS, why);
		}
	}
	return 0;
}

/* How many of the lines of t of 20+ characters have hash h. */
static size_t line_count(const struct toks *t, uint64_t h)
{
	size_t n = 0;

	for (size_t i = 0; i < t->nlines; i++)
		n += t->lines[i].h == h && t->lines[i].len >= 20;
	return n;
}

/*
 * Lines of 20+ characters (their tokens' hash); a long one (a paragraph)
 * counts double, so that it twice is as bad as a short line four times.
 * What the original has is the problem's own: a line of the original may
 * come up to twice as often as there (an example restated, a section
 * shown again), and only more is a reply that loops.  The counts go in a
 * small open-addressing table: lines are few.
 */
int check_repeated_lines(struct check_ctx *c)
{
	const struct toks *t = c->mod;
	const struct tline *worst = NULL;
	struct lcount *tab;
	size_t cap = 16;
	char why[160];

	if (t->nlines < 2)
		return 0;
	/* a line of any length six times in a row, more than twice the
	 * original's longest run of it: an example's "0" lines are the
	 * problem's own, a reply that prints one line over and over is not */
	{
		size_t run = 1, best = 1, at = 0;

		for (size_t i = 1; i < t->nlines; i++) {
			run = t->lines[i].h == t->lines[i - 1].h ? run + 1 : 1;
			if (run > best) {
				best = run;
				at = i;
			}
		}
		if (best >= 6) {
			size_t orun = 0, r = 0;

			if (toks_lines(c->orig))
				return CL_ENOMEM;
			for (size_t i = 0; i < c->orig->nlines; i++) {
				r = c->orig->lines[i].h == t->lines[at].h ? r + 1 : 0;
				orun = r > orun ? r : orun;
			}
			if (best > 2 * orun + 1) {
				const struct tline *l = &t->lines[at];

				snprintf(why, sizeof(why), "repeats the line \"%.*s%s\" %zu times in a row",
					 (int)(l->len < 60 ? l->len : 60), c->in->modified + l->off,
					 l->len > 60 ? "..." : "", best);
				return c->verdict(c, "repeated-lines", FIELD_MODIFIED, why);
			}
		}
	}
	/* room for the long lines at a quarter load */
	for (size_t i = 0, long_lines = 0; i < t->nlines; i++)
		if (t->lines[i].len >= 20 && ++long_lines * 4 > cap)
			cap *= 2;
	if (cap > *c->nltab) {
		tab = realloc(*c->ltab, cap * sizeof(*tab));
		if (!tab)
			return CL_ENOMEM;
		*c->ltab = tab;
		*c->nltab = cap;
	}
	tab = *c->ltab;
	memset(tab, 0, cap * sizeof(*tab));
	for (size_t i = 0; i < t->nlines && !worst; i++) {
		const struct tline *l = &t->lines[i];
		size_t j = (size_t)(l->h ^ (l->h >> 32)) & (cap - 1);

		if (l->len < 20)
			continue;
		while (tab[j].h && tab[j].h != l->h)
			j = (j + 1) & (cap - 1);
		if (!tab[j].h) {
			tab[j].h = l->h;
			tab[j].orig = -1;
		}
		tab[j].n += l->len >= 80 ? 2 : 1;
		tab[j].raw++;
		if (tab[j].n < (size_t)c->limits->max_line_repeats)
			continue;
		if (tab[j].orig < 0) {
			/* the original's lines, only now that one is needed */
			if (toks_lines(c->orig))
				return CL_ENOMEM;
			tab[j].orig = (ssize_t)line_count(c->orig, l->h);
		}
		if (tab[j].raw > 2 * (size_t)tab[j].orig)
			worst = l;
	}
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

/* Whether t has a run of at least n tokens of hash h in a row. */
static int has_run(const struct toks *t, uint64_t h, size_t n)
{
	size_t run = 0;

	for (size_t i = 0; i < t->n; i++) {
		run = t->v[i].h == h ? run + 1 : 0;
		if (run >= n)
			return 1;
	}
	return 0;
}

int check_repeated_words(struct check_ctx *c)
{
	const struct toks *t = c->mod;
	size_t run = 1;

	/* the same word four times in a row: "the the the the", unless the
	 * original has it too (an example's output "Yes Yes Yes Yes"); any
	 * other word (a number) six times, and more than twice the original's
	 * longest run of it and one: "0 0 0 0 0 0" of an example is its own */
	for (size_t i = 1; i < t->n; i++) {
		int alpha;

		run = t->v[i].h == t->v[i - 1].h ? run + 1 : 1;
		if (run < 4)
			continue;
		alpha = alpha_token(c->in->modified, &t->v[i]);
		if (!alpha && (run < 6 || !is_word((unsigned char)c->in->modified[t->v[i].off]) ||
			       has_run(c->orig, t->v[i].h, (run - 1) / 2)))
			continue;
		if (!alpha || !has_run(c->orig, t->v[i].h, run)) {
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
			if (in->questions[j] && same_words(in->questions[j], strlen(in->questions[j]), q, n)) {
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
