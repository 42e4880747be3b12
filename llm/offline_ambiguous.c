/*
 * offline_ambiguous.c - stage 1, ambiguous: blur a bound or a precise
 * term (exactly, minimum, distinct, modulo, indexed...).
 */
#include "offline_int.h"

/* ---- stage 1: ambiguous --------------------------------------------------- */

/* Keep the capital of the word replaced: "Exactly" -> "About". */
void off_cased(char *out, size_t cap, const char *repl, const char *orig)
{
	off_copy_text(out, cap, repl, strlen(repl));
	if (out[0] && orig[0] >= 'A' && orig[0] <= 'Z')
		out[0] = (char)off_upper((unsigned char)out[0]);
}

/* The operand after a limit phrase: "$k$", "10^5", "n_i", "one". */
static size_t limit_operand(const char *p, size_t i, size_t hi, int *word_num)
{
	static const char *const words[] = { "one",  "two", "three", "four",
					     "five", "ten", "once",  "twice" };
	size_t s = off_skip_sp(p, i, hi), e;

	*word_num = 0;
	if (s == i || s >= hi)
		return 0;
	if (p[s] == '$') {
		for (e = s + 1; e < hi && e - s < 48 && p[e] != '$'; e++)
			;
		return e < hi && p[e] == '$' ? e + 1 : 0;
	}
	for (size_t k = 0; k < CL_ARRAY_SIZE(words); k++) {
		size_t m = off_phrase_at(p, s, hi, words[k]);

		if (m) {
			*word_num = k == 0 ? 1 : k >= 6 ? 3 : 2;
			return s + m;
		}
	}
	e = off_operand_fwd(p, s, hi);
	if (e == s)
		return 0;
	if (off_numeric(p, s, e))
		return off_numeric_more(p, e, hi);
	/* a short name: k, n_i, K */
	if (e - s <= 4 && (e - s == 1 || memchr(p + s, '_', e - s) || off_is_digit(off_at(p, e - 1, hi))) &&
	    !(e - s == 1 && (p[s] == 'a' || p[s] == 'A')))
		return e;
	return 0;
}

/* Does a noun follow p[i] ("at most $k$ moves")? */
static int noun_after(const char *p, size_t i, size_t hi)
{
	static const char *const stop[] = {
		"and", "or", "of", "in", "on", "for", "to", "is", "are", "the", "a", "an", "that",
		"which", "from", "with", "by", "than", "per", "if", "at", "as", "so", "it", "be",
	};
	size_t s = off_skip_sp(p, i, hi), e = s;

	if (s == i)
		return 0;
	while (e < hi && off_is_alpha((unsigned char)p[e]))
		e++;
	if (e == s || (e < hi && off_is_wordc((unsigned char)p[e])))
		return 0;
	for (size_t k = 0; k < CL_ARRAY_SIZE(stop); k++)
		if (off_same_ci(p + s, e - s, stop[k]))
			return 0;
	return 1;
}

static int amb_scan(struct amb *a, amb_fn f, struct edit *e)
{
	int added = 0;

	for (size_t li = 0; li < a->x->d.nlines; li++) {
		const struct line *l = &a->x->d.lines[li];
		size_t hi = l->off + l->len;

		if (!off_editable(l->sec))
			continue;
		for (size_t i = l->off; i < hi; i++) {
			int r;

			if (a->x->d.url[i])
				continue;
			r = f(a, i, hi, e);
			if (r < 0)
				return r;
			added += r;
		}
	}
	return added;
}

static int amb_put(struct amb *a, size_t off, size_t len, const char *repl, struct edit *e)
{
	int rc = off_spans_add(a->sp, off, len, repl);
	size_t fa = off, fb = off + len;

	if (rc)
		return rc < 0 ? rc : 0;
	if (!e->from[0]) {
		off_copy_text(e->what, sizeof(e->what), repl, strlen(repl));
		off_trim(a->x->d.p, &fa, &fb);
		off_copy_text(e->from, sizeof(e->from), a->x->d.p + fa, fb - fa);
	}
	return 1;
}

/* Take out the word p[i..i+m) and the blank after it, turning "a" into
 * "an" (or back) before the word that follows. */
static int amb_drop_word(struct amb *a, size_t i, size_t m, size_t hi, struct edit *e)
{
	const char *p = a->x->d.p;
	size_t end = off_skip_sp(p, i + m, hi), s = i;
	int vowel = end < hi && strchr("aeiouAEIOU", p[end]) != NULL, had = e->from[0] != '\0', r;
	const char *repl = "";
	size_t w = end;

	while (w < hi && off_is_alpha((unsigned char)p[w]))
		w++;
	if (off_spans_touch(a->sp, end, w))
		return 0;
	if (i >= 2 && off_phrase_at(p, i - 2, hi, "a ") && vowel) {
		s = i - 2;
		repl = p[s] == 'A' ? "An " : "an ";
	} else if (i >= 3 && off_phrase_at(p, i - 3, hi, "an ") && !vowel) {
		s = i - 3;
		repl = p[s] == 'A' ? "A " : "a ";
	}
	r = amb_put(a, s, end - s, repl, e);
	if (r == 1 && !had) {
		e->what[0] = '\0';
		off_copy_text(e->from, sizeof(e->from), p + i, m);
	}
	return r;
}

/* A number as a bound writes it: "-5", "10,000", "10^9", "10^{18}". */
static size_t plain_number(const char *p, size_t k, size_t hi)
{
	size_t e = k;

	if (off_at(p, e, hi) == '-')
		e++;
	if (!off_is_digit(off_at(p, e, hi)))
		return k;
	while (off_is_digit(off_at(p, e, hi)))
		e++;
	while (off_at(p, e, hi) == ',' && off_is_digit(off_at(p, e + 1, hi)) && off_is_digit(off_at(p, e + 2, hi)) &&
	       off_is_digit(off_at(p, e + 3, hi)) && !off_is_digit(off_at(p, e + 4, hi)))
		e += 4;
	if (off_at(p, e, hi) == '^') {
		size_t t = e + 1;

		if (off_at(p, t, hi) == '{')
			t++;
		if (!off_is_digit(off_at(p, t, hi)))
			return e;
		while (off_is_digit(off_at(p, t, hi)))
			t++;
		if (off_at(p, t, hi) == '}')
			t++;
		e = t;
	}
	return off_word_after(p, e, hi) ? k : e;
}

/* The names on the line before a range, for the question about it. */
static void range_vars(struct amb *a, size_t pos, struct edit *e)
{
	const struct doc *d = &a->x->d;

	if (e->from[0])
		return; /* the rule's first match names it */
	for (size_t li = 0; li < d->nlines; li++) {
		const struct line *l = &d->lines[li];

		if (pos >= l->off && pos <= l->off + l->len) {
			off_text_vars(d->p + l->off, pos - l->off, e->var, sizeof(e->var));
			return;
		}
	}
}

/* "in the range [1, 10,000]" -> "in a reasonable range",
 * "between 1 and 100" -> "within reasonable limits". */
static int amb_range(struct amb *a, size_t i, size_t hi, struct edit *e)
{
	const char *p = a->x->d.p;
	size_t m = off_phrase_at(p, i, hi, "between"), k, n1, n2, s = i;

	if (m) {
		k = off_skip_sp(p, i + m, hi);
		if (off_at(p, k, hi) == '$')
			return 0;
		n1 = plain_number(p, k, hi);
		if (n1 == k)
			return 0;
		k = off_skip_sp(p, n1, hi);
		if (!off_phrase_at(p, k, hi, "and"))
			return 0;
		k = off_skip_sp(p, k + 3, hi);
		n2 = plain_number(p, k, hi);
		if (n2 == k)
			return 0;
		range_vars(a, i, e);
		return amb_put(a, i, n2 - i, "within reasonable limits", e);
	}
	if (p[i] != '[' && p[i] != '(')
		return 0;
	k = off_skip_sp(p, i + 1, hi);
	n1 = plain_number(p, k, hi);
	if (n1 == k)
		return 0;
	k = off_skip_sp(p, n1, hi);
	if (off_at(p, k, hi) != ',')
		return 0;
	k = off_skip_sp(p, k + 1, hi);
	n2 = plain_number(p, k, hi);
	if (n2 == k)
		return 0;
	k = off_skip_sp(p, n2, hi);
	if (off_at(p, k, hi) != ']' && off_at(p, k, hi) != ')')
		return 0;
	/* only where it names a range: "range [1, 10]", "within [0, 9]" */
	m = s;
	while (m > 0 && p[m - 1] == ' ')
		m--;
	if (m >= 8 && off_phrase_at(p, m - 8, hi, "range of")) {
		m -= 8;
		while (m > 0 && p[m - 1] == ' ')
			m--;
	}
	if (m >= 5 && off_phrase_at(p, m - 5, hi, "range")) {
		s = m - 5;
		if (s >= 4 && off_phrase_at(p, s - 4, hi, "the "))
			s -= 4;
	} else if (!(m >= 6 && off_phrase_at(p, m - 6, hi, "within"))) {
		return 0;
	}
	range_vars(a, s, e);
	return amb_put(a, s, k + 1 - s, "a reasonable range", e);
}

static int amb_limit(struct amb *a, size_t i, size_t hi, struct edit *e)
{
	static const struct {
		const char *w;
		int most;
		const char *fixed; /* a replacement that needs no noun test */
	} lim[] = {
		{ "does not exceed", 1, "stays reasonably small" },
		{ "doesn't exceed", 1, "stays reasonably small" },
		{ "do not exceed", 1, "stay reasonably small" },
		{ "not exceed", 1, "stay reasonably small" },
		{ "never exceeds", 1, "stays reasonably small" },
		{ "at most", 1, NULL }, { "no more than", 1, NULL }, { "not more than", 1, NULL },
		{ "at least", 0, NULL }, { "no less than", 0, NULL }, { "not less than", 0, NULL },
	};
	const char *p = a->x->d.p;
	int want_most = e->kind == EK_VAGUE_ATMOST;

	for (size_t k = 0; k < CL_ARRAY_SIZE(lim); k++) {
		size_t m = off_phrase_at(p, i, hi, lim[k].w), end;
		int wn;
		const char *r;
		char buf[64];

		if (!m || lim[k].most != want_most)
			continue;
		end = limit_operand(p, i + m, hi, &wn);
		if (!end)
			return 0;
		if (lim[k].fixed)
			r = lim[k].fixed;
		else if (want_most)
			r = wn == 3		     ? "only a few times"
			    : noun_after(p, end, hi) ? "not too many"
						     : "not too large";
		else
			r = wn == 3 ? "a few times" : wn == 1 ? "some" :
			    noun_after(p, end, hi) ? "several" : "large enough";
		off_cased(buf, sizeof(buf), r, p + i);
		return amb_put(a, i, end - i, buf, e);
	}
	return 0;
}

static int amb_sorted(struct amb *a, size_t i, size_t hi, struct edit *e)
{
	static const char *const dir[] = { "non-decreasing", "non-increasing", "non-descending",
					   "non-ascending", "increasing", "decreasing", "ascending",
					   "descending", "lexicographical", "lexicographic",
					   "alphabetical" };
	static const char *const filler[] = { "a", "an", "the", "strictly" };
	const char *p = a->x->d.p;
	size_t m = off_phrase_at(p, i, hi, "sorted"), j, s;
	int words = 0, dirs = 0;

	s = i;
	if (m)
		j = off_skip_sp(p, i + m, hi);
	else
		j = i;
	if (!off_phrase_at(p, j, hi, "in"))
		return 0;
	if (!m)
		s = j;
	j = off_skip_sp(p, j + 2, hi);
	while (words < 4) {
		size_t w = 0;

		for (size_t k = 0; k < CL_ARRAY_SIZE(dir) && !w; k++) {
			w = off_phrase_at(p, j, hi, dir[k]);
			dirs += w > 0;
		}
		for (size_t k = 0; k < CL_ARRAY_SIZE(filler) && !w; k++)
			w = off_phrase_at(p, j, hi, filler[k]);
		if (!w)
			break;
		j = off_skip_sp(p, j + w, hi);
		words++;
	}
	if (!dirs || !off_phrase_at(p, j, hi, "order"))
		return 0;
	j += 5;
	return amb_put(a, s, j - s, m ? "sorted" : "in some order", e);
}

static int amb_word(struct amb *a, size_t i, size_t hi, struct edit *e)
{
	const char *p = a->x->d.p;
	char buf[64];
	size_t m;

	switch (e->kind) {
	case EK_VAGUE_EXACTLY:
		m = off_phrase_at(p, i, hi, "exactly");
		if (!m)
			return 0;
		off_cased(buf, sizeof(buf), "about", p + i);
		return amb_put(a, i, m, buf, e);
	case EK_VAGUE_BEST: {
		static const struct {
			const char *w;
			int fam;
		} best[] = {
			{ "minimum", FAM_MINMAX },  { "maximum", FAM_MINMAX },
			{ "minimal", FAM_MINMAX },  { "maximal", FAM_MINMAX },
			{ "smallest", FAM_SIZE },   { "largest", FAM_SIZE },
			{ "shortest", FAM_LENGTH }, { "longest", FAM_LENGTH },
			{ "fewest", FAM_COUNT },
		};

		for (size_t k = 0; k < CL_ARRAY_SIZE(best); k++) {
			int r;
			size_t ls = i;

			m = off_phrase_at(p, i, hi, best[k].w);
			if (!m)
				continue;
			if (e->from[0] && !off_same_ci(e->from, strlen(e->from), best[k].w))
				return 0; /* one word per rewrite: "minimum" or "maximum" */
			while (ls > 0 && p[ls - 1] != '\n')
				ls--;
			if (off_count_phrase(p + ls, hi - ls, best[k ^ 1].w) && k < 8)
				return 0; /* "between the maximum and the minimum" */
			off_cased(buf, sizeof(buf), "best", p + i);
			r = amb_put(a, i, m, buf, e);
			if (r == 1 && !e->cls)
				e->cls = best[k].fam + 1;
			return r;
		}
		return 0;
	}
	case EK_VAGUE_DISTINCT: {
		size_t s = i, j;

		m = off_phrase_at(p, i, hi, "pairwise distinct");
		if (!m)
			m = off_phrase_at(p, i, hi, "distinct");
		if (!m)
			return 0;
		j = i + m;
		if (noun_after(p, j, hi) && !(i >= 4 && (off_phrase_at(p, i - 4, hi, "are ") ||
							 off_phrase_at(p, i - 3, hi, "be "))))
			return amb_drop_word(a, s, m, hi, e);
		return amb_put(a, s, m, "mostly different", e);
	}
	case EK_VAGUE_MODULO: {
		static const char *const mods[] = { "by modulo", "modulo", "mod" };
		int wn;

		for (size_t k = 0; k < CL_ARRAY_SIZE(mods); k++) {
			size_t end;

			m = off_phrase_at(p, i, hi, mods[k]);
			if (!m)
				continue;
			end = limit_operand(p, i + m, hi, &wn);
			if (!end || wn)
				return 0;
			return amb_put(a, i, end - i, "in a suitable form", e);
		}
		return 0;
	}
	case EK_VAGUE_LEX:
		m = off_phrase_at(p, i, hi, "lexicographical order");
		if (!m)
			m = off_phrase_at(p, i, hi, "lexicographic order");
		if (m)
			return amb_put(a, i, m, "some order", e);
		m = off_phrase_at(p, i, hi, "lexicographically");
		if (!m || !noun_after(p, i + m, hi))
			return 0;
		return amb_drop_word(a, i, m, hi, e);
	case EK_VAGUE_INDEXED: {
		static const char *const idx[] = {
			"0-indexed", "1-indexed", "zero-indexed", "one-indexed", "0-based",
			"1-based",
		};

		for (size_t k = 0; k < CL_ARRAY_SIZE(idx); k++) {
			m = off_phrase_at(p, i, hi, idx[k]);
			if (!m)
				continue;
			if (k >= 4 && noun_after(p, i + m, hi))
				return amb_drop_word(a, i, m, hi, e);
			return amb_put(a, i, m, "indexed", e);
		}
		return 0;
	}
	case EK_VAGUE_INTEGER: {
		size_t s = i;
		int an = 0;

		m = off_phrase_at(p, i, hi, "integers");
		if (!m) {
			size_t k;

			m = off_phrase_at(p, i, hi, "integer");
			/* "integer minutes", "integer array": an adjective, leave it */
			k = off_skip_sp(p, i + m, hi);
			if (m && off_is_alpha(off_at(p, k + 1, hi)) && noun_after(p, i + m, hi))
				return 0;
		}
		if (!m)
			return 0;
		if (i >= 3 && off_phrase_at(p, i - 3, hi, "an ")) {
			s = i - 3;
			an = 1;
		}
		if (off_spans_touch(a->sp, i >= 12 ? i - 12 : 0, i))
			return 0; /* "a positive integer": the article is settled there */
		if (an)
			off_cased(buf, sizeof(buf), m == 8 ? "a numbers" : "a number", p + s);
		else
			off_cased(buf, sizeof(buf), m == 8 ? "numbers" : "number", p + s);
		return amb_put(a, s, i + m - s, buf, e);
	}
	case EK_VAGUE_CASE: {
		static const char *const cases[] = { "lowercase",  "lower-case", "lower case",
						     "uppercase",  "upper-case", "upper case",
						     "small Latin" };

		for (size_t k = 0; k < CL_ARRAY_SIZE(cases); k++) {
			m = off_phrase_at(p, i, hi, cases[k]);
			if (m && k == 6)
				m = 5; /* "small" */
			if (m && noun_after(p, i + m, hi))
				return amb_drop_word(a, i, m, hi, e);
		}
		return 0;
	}
	case EK_VAGUE_SIGN: {
		static const char *const sign[] = { "non-negative", "nonnegative", "positive",
						    "non-zero", "nonzero" };
		static const char *const noun[] = { "integer", "number", "value", "real", "weight",
						    "length", "element", "cost", "amount", "time",
						    "coordinate", "size", "price", "distance" };

		for (size_t k = 0; k < CL_ARRAY_SIZE(sign); k++) {
			size_t j;

			m = off_phrase_at(p, i, hi, sign[k]);
			if (!m)
				continue;
			j = off_skip_sp(p, i + m, hi);
			if (j == i + m)
				return 0;
			for (size_t t = 0; t < CL_ARRAY_SIZE(noun); t++)
				if (off_starts_ci(p + j, hi - j, noun[t]))
					return amb_drop_word(a, i, m, hi, e);
			return 0;
		}
		return 0;
	}
	default:
		return 0;
	}
}

static int amb_rule(struct amb *a, int rule)
{
	static const int kind[R_COUNT] = {
		[R_BOUND] = EK_VAGUE_BOUND, [R_ATMOST] = EK_VAGUE_ATMOST,
		[R_ATLEAST] = EK_VAGUE_ATLEAST, [R_SORTED] = EK_VAGUE_SORTED,
		[R_EXACTLY] = EK_VAGUE_EXACTLY, [R_DISTINCT] = EK_VAGUE_DISTINCT,
		[R_BEST] = EK_VAGUE_BEST, [R_MODULO] = EK_VAGUE_MODULO, [R_LEX] = EK_VAGUE_LEX,
		[R_INDEXED] = EK_VAGUE_INDEXED, [R_INTEGER] = EK_VAGUE_INTEGER,
		[R_CASE] = EK_VAGUE_CASE, [R_SIGN] = EK_VAGUE_SIGN, [R_RANGE] = EK_VAGUE_BOUND,
	};
	struct edit e;
	int r;

	memset(&e, 0, sizeof(e));
	e.kind = kind[rule];
	if (rule == R_BOUND) {
		size_t idx[64], n = 0;
		const struct bound *bd;
		char repl[160];
		const struct off_rules *R = off_rules_shipped();
		size_t ph = off_rng_pick(&a->x->rng, R->nvague);
		char *const *paren_phrase = R->vague[OFF_VAGUE_PAREN];
		char *const *paren_plural = R->vague[OFF_VAGUE_PAREN_PLURAL];
		char *const *sing_phrase = R->vague[OFF_VAGUE_SINGULAR];
		char *const *plur_phrase = R->vague[OFF_VAGUE_PLURAL];

		for (size_t i = 0; i < a->x->bs.n && n < CL_ARRAY_SIZE(idx); i++)
			if (a->x->bs.v[i].amb)
				idx[n++] = i;
		if (!n)
			return 0;
		bd = &a->x->bs.v[idx[off_rng_pick(&a->x->rng, n)]];
		switch (bd->amb) {
		case AMB_PAREN:
			snprintf(repl, sizeof(repl), "(%s)",
				 bd->plural ? paren_plural[ph] : paren_phrase[ph]);
			snprintf(e.what, sizeof(e.what), "%s",
				 bd->plural ? paren_plural[ph] : paren_phrase[ph]);
			break;
		case AMB_MATH:
			snprintf(repl, sizeof(repl), "$%s$ %s", bd->raw,
				 bd->cplural ? plur_phrase[ph] : sing_phrase[ph]);
			snprintf(e.what, sizeof(e.what), "%s",
				 bd->cplural ? plur_phrase[ph] : sing_phrase[ph]);
			break;
		default:
			snprintf(repl, sizeof(repl), "%s %s",
				 bd->kind == B_LINE ? bd->cvar : bd->raw,
				 bd->cplural ? plur_phrase[ph] : sing_phrase[ph]);
			snprintf(e.what, sizeof(e.what), "%s",
				 bd->cplural ? plur_phrase[ph] : sing_phrase[ph]);
			break;
		}
		off_u8_cut(repl, strlen(repl));
		r = off_spans_add(a->sp, bd->amb_off, bd->amb_len, repl);
		if (r)
			return r < 0 ? r : 0;
		memcpy(e.var, bd->var, sizeof(e.var));
		e.plural = bd->plural;
		off_copy_text(e.from, sizeof(e.from), a->x->d.p + bd->amb_off, bd->amb_len);
		r = 1;
	} else if (rule == R_ATMOST || rule == R_ATLEAST) {
		r = amb_scan(a, amb_limit, &e);
	} else if (rule == R_SORTED) {
		r = amb_scan(a, amb_sorted, &e);
	} else if (rule == R_RANGE) {
		r = amb_scan(a, amb_range, &e);
	} else {
		r = amb_scan(a, amb_word, &e);
	}
	if (r <= 0)
		return r;
	if (e.kind == EK_VAGUE_BEST && e.cls)
		e.cls--;
	if (a->w->ne < MAX_EDITS)
		a->w->e[a->w->ne++] = e;
	return 1;
}

/* Would the rule find anything?  Try it on a scratch list. */
static int amb_probe(struct ctx *x, int rule)
{
	struct spans sp = { NULL, 0, 0 };
	struct rewrite w;
	struct amb a = { x, &sp, &w };
	uint64_t keep = x->rng;
	int r;

	memset(&w, 0, sizeof(w));
	r = amb_rule(&a, rule);
	x->rng = keep;
	free(sp.v);
	return r;
}

int off_modify_ambiguous(struct ctx *x, struct rewrite *w, struct spans *sp)
{
	int rules[R_COUNT], nr = 0, want, done = 0, rc;
	struct amb a = { x, sp, w };

	for (int r = 0; r < R_COUNT; r++) {
		rc = amb_probe(x, r);
		if (rc < 0)
			return rc;
		if (rc > 0)
			rules[nr++] = r;
	}
	if (!nr)
		return 0;
	/* a seeded shuffle, then the first 1-3 that apply */
	for (int i = nr - 1; i > 0; i--) {
		int j = (int)off_rng_pick(&x->rng, (size_t)i + 1), t = rules[i];

		rules[i] = rules[j];
		rules[j] = t;
	}
	want = 1 + (int)off_rng_pick(&x->rng, (size_t)(nr < 3 ? nr : 3));
	for (int i = 0; i < nr && done < want; i++) {
		rc = amb_rule(&a, rules[i]);
		if (rc < 0)
			return rc;
		done += rc;
	}
	if (!done)
		return 0;
	rc = buf_adds(&w->why, "A precise requirement becomes ambiguous when its exact term is "
			       "replaced by a vague one that still reads naturally.\n"
			       "I pick the terms that decide the algorithm or the exact output:");
	for (int i = 0; i < w->ne && !rc; i++) {
		const struct edit *e = &w->e[i];

		if (e->kind == EK_VAGUE_BOUND && e->var[0])
			rc = buf_addf(&w->why, "%s the bound on %s becomes \"%s\"", i ? ";" : "",
				      e->var, e->what);
		else if (e->what[0])
			rc = buf_addf(&w->why, "%s \"%s\" becomes \"%s\"", i ? ";" : "", e->from,
				      e->what);
		else
			rc = buf_addf(&w->why, "%s \"%s\" is dropped", i ? ";" : "", e->from);
	}
	if (!rc)
		rc = buf_adds(&w->why, ".\nEverything else stays as it is, so a reader can no "
				       "longer tell which exact value or variant is meant.");
	return rc ? rc : done;
}
