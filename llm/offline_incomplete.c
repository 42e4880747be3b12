/*
 * offline_incomplete.c - stage 1, incomplete: drop a bound or a
 * condition sentence.
 */
#include "offline_int.h"

/* ---- stage 1: incomplete -------------------------------------------------- */

static int add_reasoning_drop(struct rewrite *w, const struct edit *e)
{
	static const char *const why[] = {
		[KW_NONE] = "it states a condition that restricts the valid inputs or outputs",
		[KW_GUAR_ANSWER] = "it guarantees that an answer exists, which spares the solver a "
				   "whole branch of the output",
		[KW_GUAR] = "it guarantees a property of the input that a solution may rely on",
		[KW_MOD] = "it fixes the modulus, so without it the exact form of the answer is "
			   "unknown",
		[KW_DISTINCT] = "it says whether values can repeat, which changes the algorithm "
				"and its edge cases",
		[KW_LIMIT] = "it limits how far a quantity can go, which bounds the search space",
		[KW_ORDER] = "it says how the data is ordered, which a solution may exploit",
		[KW_IF] = "it covers a special case that the solver must handle",
		[KW_EACH] = "it states a condition that every element satisfies",
		[KW_REL] = "it states how the values relate to each other",
	};

	if (e->kind == EK_DROP_BOUND)
		return buf_addf(&w->why,
				"The statement bounds %s explicitly, and that bound decides which "
				"algorithm is fast enough and which integer type is needed.\n"
				"It is stated in one place only, so taking it out leaves the "
				"problem well-formed but underspecified: a solver can no longer "
				"tell how large %s can be.\n"
				"I take out only that bound and keep every other sentence, the "
				"input format and the examples unchanged, so the text still reads "
				"as a complete problem.",
				e->var[0] ? e->var : "the input", e->var[0] ? e->var : "the input");
	if (e->kind == EK_DROP_SENT)
		return buf_addf(&w->why,
				"I look for a condition that a correct solution depends on and "
				"that appears only once.\n"
				"The sentence I choose matters because %s.\n"
				"I take out that one sentence and keep the rest of the text as it "
				"is, so the problem still reads naturally but no longer settles "
				"that point.",
				why[e->cls]);
	return buf_adds(&w->why, "The statement has no explicit bound or condition sentence to "
				 "take out, so I take out its last requirement.\n"
				 "The rest of the text stays as it is and still reads as a "
				 "problem, but the solver now lacks part of the specification.");
}

/* A sentence that bounds a number in words: "in the range [1, 10,000]". */
static int range_sentence(const struct ctx *x, const struct sent *se)
{
	static const char *const range[] = { "range", "between", "up to", "exceed", "exceeds",
					     "less than", "greater than", "more than", "fewer than",
					     "at most", "at least", "no more than", "larger than" };
	const char *p = x->d.p;

	if (se->first || off_line_is_bound(x, se->line) || !off_has_digit(p, se->off, se->off + se->len) ||
	    off_first_op(p, se->off, se->off + se->len) < se->off + se->len)
		return 0;
	for (size_t k = 0; k < CL_ARRAY_SIZE(range); k++)
		if (off_count_phrase(p + se->off, se->len, range[k]))
			return 1;
	return 0;
}

int off_modify_incomplete(struct ctx *x, struct rewrite *w, struct spans *sp)
{
	struct cand *cv;
	size_t nc = 0, nc_bounds, cap = x->bs.n + x->ss.n + x->cs.n + 4;
	int best = 9, rc = 0;
	struct cand *c;

	cv = calloc(cap, sizeof(*cv));
	if (!cv)
		return CL_ENOMEM;
	/* tier 1: numeric bounds */
	for (size_t i = 0; i < x->bs.n; i++) {
		const struct bound *bd = &x->bs.v[i];

		if (!bd->drop_len && !bd->drop_sentence)
			continue;
		c = &cv[nc++];
		c->off = bd->drop_off;
		c->len = bd->drop_len;
		c->s = bd->drop_sentence ? off_sentence_of(&x->ss, bd->drop_off) : NULL;
		c->e.kind = EK_DROP_BOUND;
		memcpy(c->e.var, bd->var, sizeof(c->e.var));
		c->e.plural = bd->plural;
	}
	nc_bounds = nc;
	/* "The length of s is in the range [1, 10,000]." when there is no
	 * comparison to take out */
	for (size_t i = 0; i < x->ss.n && !nc_bounds; i++) {
		const struct sent *se = &x->ss.v[i];

		if (!range_sentence(x, se))
			continue;
		c = &cv[nc++];
		c->s = se;
		c->e.kind = EK_DROP_SENT;
		c->e.cls = KW_LIMIT;
		off_text_vars(x->d.p + se->off, se->len, c->e.var, sizeof(c->e.var));
	}
	if (nc)
		best = 1;
	/* tier 2 and 3: condition lines and sentences */
	for (size_t i = 0; i < x->cs.n && best > 1; i++) {
		const struct line *l = &x->d.lines[x->cs.v[i].line];

		c = &cv[nc++];
		c->off = l->off;
		c->len = l->end - l->off;
		c->e.kind = EK_DROP_SENT;
		c->e.cls = x->cs.v[i].cls;
		off_copy_text(c->e.var, sizeof(c->e.var), x->cs.v[i].vars, strlen(x->cs.v[i].vars));
		best = 2;
	}
	for (int tier = 2; tier <= 3 && best >= tier; tier++) {
		for (size_t i = 0; i < x->ss.n; i++) {
			const struct sent *s = &x->ss.v[i];
			const struct line *l = &x->d.lines[s->line];
			int cls, t;

			if (s->first || off_line_is_bound(x, s->line) ||
			    off_words_in(x->d.p + s->off, s->len) < 3)
				continue;
			if (off_first_op(x->d.p, s->off, s->off + s->len) < s->off + s->len)
				continue;
			t = off_classify_condition(x->d.p + s->off, s->len, &cls);
			if (l->sec == SEC_CONSTR && t == 0) {
				t = 2;
				cls = KW_NONE;
			}
			if (t != tier)
				continue;
			c = &cv[nc++];
			c->s = s;
			c->e.kind = EK_DROP_SENT;
			c->e.cls = cls;
			off_text_vars(x->d.p + s->off, s->len, c->e.var, sizeof(c->e.var));
			best = tier;
		}
		if (best == tier)
			break;
	}
	if (nc) {
		size_t k = off_rng_pick(&x->rng, nc);

		c = &cv[k];
		if (c->s)
			off_sentence_drop_span(&x->d, c->s, &c->off, &c->len);
		rc = off_spans_add(sp, c->off, c->len, "");
		if (rc < 0)
			goto out;
		w->e[w->ne++] = c->e;
		off_copy_text(w->e[w->ne - 1].from, sizeof(w->e[0].from), x->d.p + c->off, c->len);
		rc = add_reasoning_drop(w, &c->e);
	}
out:
	free(cv);
	return rc;
}

/* Nothing matched: take out the last sentence of the prose; in a single
 * sentence, a parenthesis, the clause after its last comma, or its last word. */
int off_fallback_incomplete(struct ctx *x, struct rewrite *w, struct spans *sp)
{
	const char *p = x->d.p;
	const struct sent *one;
	struct edit *e;
	size_t off = 0, len = 0, a, b;
	int rc;

	for (size_t i = x->ss.n; i-- > 0;) {
		if (x->ss.v[i].first)
			continue;
		off_sentence_drop_span(&x->d, &x->ss.v[i], &off, &len);
		break;
	}
	one = x->ss.n ? &x->ss.v[0] : NULL;
	if (!len && one) {
		a = one->off;
		b = one->off + one->len;
		while (b > a && (p[b - 1] == '.' || p[b - 1] == '!' || p[b - 1] == '?'))
			b--;
		for (size_t k = a; k < b && !len; k++) {
			size_t depth = 0, c;

			if (p[k] != '(' || k == a)
				continue;
			for (c = k; c < b; c++) {
				if (p[c] == '(')
					depth++;
				else if (p[c] == ')' && --depth == 0)
					break;
			}
			if (c < b && off_words_in(p + k, c - k) >= 1) {
				off = k;
				while (off > a && p[off - 1] == ' ')
					off--;
				len = c + 1 - off;
			}
		}
		for (size_t k = a; k < b && !len; k++) {
			static const char *const conn[] = { "where", "such that", "so that",
							    "which", "given in",  "if" };

			for (size_t c = 0; c < CL_ARRAY_SIZE(conn) && !len; c++) {
				if (!off_phrase_at(p, k, b, conn[c]) || off_words_in(p + a, k - a) < 4)
					continue;
				off = k;
				while (off > a && (p[off - 1] == ' ' || p[off - 1] == ','))
					off--;
				len = b - off;
			}
		}
		for (size_t k = b; k > a && !len; k--)
			if (p[k - 1] == ',' && off_words_in(p + a, k - 1 - a) >= 4) {
				off = k - 1;
				len = b - off;
			}
		if (!len) {
			size_t k = b;

			while (k > a && !off_space_len(p, k - 1, b))
				k--;
			if (k > a) {
				off = k;
				while (off > a && p[off - 1] == ' ')
					off--;
				len = b - off;
			}
		}
	}
	if (!len)
		return 1; /* one word: see fallback_text() */
	rc = off_spans_add(sp, off, len, "");
	if (rc)
		return rc < 0 ? rc : 1;
	e = off_edit_new(w, EK_DROP_GENERIC);
	if (!e)
		return 1;
	off_copy_text(e->from, sizeof(e->from), p + off, len);
	/* say what the words taken out were about, when they tell */
	off_text_vars(p + off, len, e->var, sizeof(e->var));
	if (off_classify_condition(p + off, len, &e->cls) || e->var[0])
		e->kind = EK_DROP_SENT;
	return add_reasoning_drop(w, e);
}
