/*
 * offline_clarify.c - stage 2: what the rewrite changed (known, or from
 * a line diff), the questions about it, and the reasoning.
 */
#include "offline_int.h"

/* ---- stage 2: what changed, from a line diff ------------------------------ */

static void line_trimmed(const struct doc *d, size_t li, size_t *a, size_t *b)
{
	*a = d->lines[li].off;
	*b = *a + d->lines[li].len;
	off_trim(d->p, a, b);
}

static void widen_to_words(const char *p, size_t lo, size_t hi, size_t *a, size_t *b)
{
	while (*a > lo && off_is_wordc((unsigned char)p[*a - 1]))
		(*a)--;
	while (*b < hi && off_is_wordc((unsigned char)p[*b]))
		(*b)++;
}

int off_diff_units(const struct doc *o, const struct doc *m, struct unit *u, int max)
{
	unsigned char *used_o, *used_m;
	int nu = 0;

	used_o = calloc(o->nlines + 1, 1);
	used_m = calloc(m->nlines + 1, 1);
	if (!used_o || !used_m) {
		free(used_o);
		free(used_m);
		return CL_ENOMEM;
	}
	for (size_t i = 0; i < o->nlines; i++) {
		size_t a, b;

		line_trimmed(o, i, &a, &b);
		if (a == b) {
			used_o[i] = 1;
			continue;
		}
		for (size_t j = 0; j < m->nlines; j++) {
			size_t c, d;

			if (used_m[j])
				continue;
			line_trimmed(m, j, &c, &d);
			if (b - a == d - c && memcmp(o->p + a, m->p + c, b - a) == 0) {
				used_o[i] = used_m[j] = 1;
				break;
			}
		}
	}
	for (size_t j = 0; j < m->nlines; j++)
		if (off_line_blank(m, j))
			used_m[j] = 1;
	/* pair a line taken out with the most similar new line */
	for (size_t i = 0; i < o->nlines && nu < max; i++) {
		size_t a, b, bestj = m->nlines, bestpre = 0, bestsuf = 0, bestscore = 0;
		struct unit *x;

		if (used_o[i])
			continue;
		line_trimmed(o, i, &a, &b);
		for (size_t j = 0; j < m->nlines; j++) {
			size_t c, d, pre = 0, suf = 0, lim;

			if (used_m[j])
				continue;
			line_trimmed(m, j, &c, &d);
			lim = b - a < d - c ? b - a : d - c;
			while (pre < lim && o->p[a + pre] == m->p[c + pre])
				pre++;
			while (suf < lim - pre && o->p[b - 1 - suf] == m->p[d - 1 - suf])
				suf++;
			if (pre + suf > bestscore && (pre + suf) * 3 >= lim && pre + suf >= 4) {
				bestscore = pre + suf;
				bestj = j;
				bestpre = pre;
				bestsuf = suf;
			}
		}
		x = &u[nu++];
		memset(x, 0, sizeof(*x));
		if (bestj < m->nlines) {
			size_t c, d;

			line_trimmed(m, bestj, &c, &d);
			used_m[bestj] = 1;
			x->oa = a + bestpre;
			x->ob = b - bestsuf;
			x->ma = c + bestpre;
			x->mb = d - bestsuf;
			widen_to_words(o->p, a, b, &x->oa, &x->ob);
			widen_to_words(m->p, c, d, &x->ma, &x->mb);
			x->has_m = 1;
			x->mline = bestj;
			x->msec = m->lines[bestj].sec;
			x->mex = m->lines[bestj].ex;
			x->mexline = m->lines[bestj].exline;
			x->mexlines = x->msec == SEC_EX_OUT ? off_output_lines(m, bestj) : 0;
		} else {
			x->oa = a;
			x->ob = b;
			x->msec = o->lines[i].sec;
			x->mex = o->lines[i].ex;
		}
	}
	for (size_t j = 0; j < m->nlines && nu < max; j++) {
		struct unit *x;
		size_t c, d;

		if (used_m[j])
			continue;
		line_trimmed(m, j, &c, &d);
		x = &u[nu++];
		memset(x, 0, sizeof(*x));
		x->ma = c;
		x->mb = d;
		x->has_m = 1;
		x->mline = j;
		x->msec = m->lines[j].sec;
		x->mex = m->lines[j].ex;
		x->mexline = m->lines[j].exline;
		x->mexlines = x->msec == SEC_EX_OUT ? off_output_lines(m, j) : 0;
	}
	free(used_o);
	free(used_m);
	return nu;
}

/* The first bound in p[a..b): its quantity. */
static int text_bound_var(const char *p, size_t a, size_t b, char *var, size_t cap, int *plural)
{
	for (size_t i = a; i < b; i++) {
		struct chain c;

		if (!off_op_at(p, i, b))
			continue;
		if (off_chain_at(p, a, b, i, &c) && off_chain_has_number(p, &c)) {
			off_chain_var(p, &c, var, cap, NULL, 0, plural);
			return 1;
		}
	}
	return 0;
}

/* Precise terms that are in o but fewer in m: an ambiguous rewrite. */
static void infer_vague(const char *o, size_t oa, size_t ob, const char *m, size_t ma, size_t mb,
			struct rewrite *w)
{
	static const struct {
		const char *w;
		int kind, cls;
	} terms[] = {
		{ "exactly", EK_VAGUE_EXACTLY, 0 },
		{ "minimum", EK_VAGUE_BEST, FAM_MINMAX }, { "maximum", EK_VAGUE_BEST, FAM_MINMAX },
		{ "minimal", EK_VAGUE_BEST, FAM_MINMAX }, { "maximal", EK_VAGUE_BEST, FAM_MINMAX },
		{ "smallest", EK_VAGUE_BEST, FAM_SIZE }, { "largest", EK_VAGUE_BEST, FAM_SIZE },
		{ "shortest", EK_VAGUE_BEST, FAM_LENGTH }, { "longest", EK_VAGUE_BEST, FAM_LENGTH },
		{ "at most", EK_VAGUE_ATMOST, 0 }, { "no more than", EK_VAGUE_ATMOST, 0 },
		{ "not exceed", EK_VAGUE_ATMOST, 0 }, { "at least", EK_VAGUE_ATLEAST, 0 },
		{ "distinct", EK_VAGUE_DISTINCT, 0 }, { "modulo", EK_VAGUE_MODULO, 0 },
		{ "lexicographically", EK_VAGUE_LEX, 0 }, { "lexicographical", EK_VAGUE_LEX, 0 },
		{ "0-indexed", EK_VAGUE_INDEXED, 0 }, { "1-indexed", EK_VAGUE_INDEXED, 0 },
		{ "0-based", EK_VAGUE_INDEXED, 0 }, { "1-based", EK_VAGUE_INDEXED, 0 },
		{ "increasing", EK_VAGUE_SORTED, 0 }, { "decreasing", EK_VAGUE_SORTED, 0 },
		{ "ascending", EK_VAGUE_SORTED, 0 }, { "descending", EK_VAGUE_SORTED, 0 },
		{ "integer", EK_VAGUE_INTEGER, 0 }, { "integers", EK_VAGUE_INTEGER, 0 },
		{ "lowercase", EK_VAGUE_CASE, 0 }, { "uppercase", EK_VAGUE_CASE, 0 },
		{ "lower case", EK_VAGUE_CASE, 0 }, { "upper case", EK_VAGUE_CASE, 0 },
		{ "positive", EK_VAGUE_SIGN, 0 }, { "non-negative", EK_VAGUE_SIGN, 0 },
	};
	static const char *const vague[] = {
		"not too many", "not too large", "reasonable", "suitable", "some value",
		"large enough", "several", "a few", "best", "about", "roughly", "approximately",
		"appropriate", "enough", "small", "large", "certain", "some",
	};
	int before = w->ne;

	for (size_t k = 0; k < CL_ARRAY_SIZE(terms); k++) {
		int dup = 0;
		struct edit *e;

		if (off_count_phrase(o + oa, ob - oa, terms[k].w) <=
		    off_count_phrase(m + ma, mb - ma, terms[k].w))
			continue;
		for (int i = 0; i < w->ne; i++)
			dup |= w->e[i].kind == terms[k].kind;
		if (dup)
			continue;
		e = off_edit_new(w, terms[k].kind);
		if (!e)
			return;
		e->cls = terms[k].cls;
		if (terms[k].kind == EK_VAGUE_EXACTLY)
			snprintf(e->what, sizeof(e->what), "%s",
				 off_count_phrase(m + ma, mb - ma, "about") ? "about" : "");
	}
	if (off_has_digit(o, oa, ob) && !off_has_digit(m, ma, mb) && off_first_op(o, oa, ob) < ob) {
		struct edit *e = off_edit_new(w, EK_VAGUE_BOUND);

		if (e)
			text_bound_var(o, oa, ob, e->var, sizeof(e->var), &e->plural);
	}
	if (w->ne > before)
		return;
	for (size_t k = 0; k < CL_ARRAY_SIZE(vague); k++) {
		struct edit *e;

		if (off_count_phrase(m + ma, mb - ma, vague[k]) <=
		    off_count_phrase(o + oa, ob - oa, vague[k]))
			continue;
		e = off_edit_new(w, EK_VAGUE_GENERIC);
		if (e)
			snprintf(e->what, sizeof(e->what), "%s", vague[k]);
		return;
	}
}

static void infer_edits(const struct doc *o, const struct doc *m, int cat, const struct unit *u,
			int nu, struct rewrite *w)
{
	for (int i = 0; i < nu && w->ne < MAX_EDITS; i++) {
		const struct unit *x = &u[i];
		struct edit *e;
		int cls;

		if (cat == CAT_INCOMPLETE) {
			if (x->ob <= x->oa)
				continue;
			if (off_first_op(o->p, x->oa, x->ob) < x->ob && off_has_digit(o->p, x->oa, x->ob)) {
				e = off_edit_new(w, EK_DROP_BOUND);
				if (e)
					text_bound_var(o->p, x->oa, x->ob, e->var, sizeof(e->var),
						       &e->plural);
				continue;
			}
			e = off_edit_new(w, EK_DROP_SENT);
			if (!e)
				return;
			off_classify_condition(o->p + x->oa, x->ob - x->oa, &cls);
			e->cls = cls;
			off_text_vars(o->p + x->oa, x->ob - x->oa, e->var, sizeof(e->var));
		} else if (cat == CAT_AMBIGUOUS) {
			infer_vague(o->p, x->oa, x->ob, m->p, x->ma, x->mb, w);
		} else {
			int kind = EK_CONFLICT_GENERIC;
			size_t la = 0, lb = 0;

			if (x->has_m)
				line_trimmed(m, x->mline, &la, &lb);
			if (x->msec == SEC_EX_OUT)
				kind = EK_CONFLICT_OUTPUT;
			else if (x->msec == SEC_NOTE || x->msec == SEC_EXPL)
				kind = EK_CONFLICT_NOTE;
			else if (x->msec == SEC_EX_IN)
				kind = EK_CONFLICT_OUTPUT;
			else if (x->has_m && off_first_op(m->p, la, lb) < lb && off_has_digit(m->p, la, lb))
				kind = EK_CONFLICT_BOUND;
			e = off_edit_new(w, kind);
			if (!e)
				return;
			e->ex = x->mex;
			e->exline = x->msec == SEC_EX_OUT ? x->mexline : 0;
			e->exlines = x->mexlines;
			e->nex = m->nex;
			e->leetcode = m->leetcode;
			if (kind == EK_CONFLICT_BOUND) {
				text_bound_var(m->p, la, lb, e->var, sizeof(e->var), &e->plural);
				e->ex = 0;
			} else if (kind == EK_CONFLICT_GENERIC && x->has_m) {
				off_text_vars(m->p + x->ma, x->mb - x->ma, e->var, sizeof(e->var));
			}
		}
	}
	if (w->ne == 0)
		off_edit_new(w, cat == CAT_AMBIGUOUS ? EK_VAGUE_GENERIC :
			    cat == CAT_INCONSISTENT ? EK_CONFLICT_GENERIC : EK_DROP_GENERIC);
}

/* ---- stage 2: questions ---------------------------------------------------- */

static void toks_release(struct toks *t)
{
	free(t->off);
	free(t->len);
	memset(t, 0, sizeof(*t));
}

/* Words (punct 0), or words and single punctuation marks (punct 1). */
static int toks_build(struct toks *t, const char *p, size_t n, int punct)
{
	memset(t, 0, sizeof(*t));
	t->off = malloc((n + 1) * sizeof(size_t));
	t->len = malloc((n + 1) * sizeof(size_t));
	if (!t->off || !t->len) {
		toks_release(t);
		return CL_ENOMEM;
	}
	for (size_t i = 0; i < n;) {
		size_t k = off_space_len(p, i, n), e;

		if (k) {
			i += k;
			continue;
		}
		if (off_is_wordc((unsigned char)p[i])) {
			e = i;
			while (e < n && !off_space_len(p, e, n) && off_is_wordc((unsigned char)p[e]))
				e++;
		} else {
			e = i + 1;
			if (!punct) {
				i = e;
				continue;
			}
		}
		t->off[t->n] = i;
		t->len[t->n] = e - i;
		t->n++;
		i = e;
	}
	return 0;
}

static int tok_eq(const char *a, size_t al, const char *b, size_t bl)
{
	return al == bl && off_eq_ci(a, b, al);
}

/* Does the run of k tokens q[0..k) of text qp appear in text p? */
static int run_in(const char *qp, const struct toks *q, size_t qi, const char *p,
		  const struct toks *t)
{
	for (size_t i = 0; i + LEAK_RUN <= t->n; i++) {
		size_t k = 0;

		while (k < LEAK_RUN && tok_eq(qp + q->off[qi + k], q->len[qi + k],
					      p + t->off[i + k], t->len[i + k]))
			k++;
		if (k == LEAK_RUN)
			return 1;
	}
	return 0;
}

/* Would the question quote text that only the statement before the
 * rewrite has, or speak of an earlier text? */
static int question_bad(const struct checker *ck, const char *q)
{
	static const char *const banned[] = {
		"original", "previous", "removed", "changed", "modified", "rewrite", "rewritten",
		"earlier version", "deleted",
	};
	size_t n = strlen(q);
	int bad = 0;

	if (n < 2 || q[n - 1] != '?' || strchr(q, '\n'))
		return 1;
	for (size_t k = 0; k < CL_ARRAY_SIZE(banned); k++)
		if (off_contains_ci(q, n, banned[k]))
			return 1;
	for (int mode = 0; mode < 2 && !bad; mode++) {
		struct toks qt;

		if (toks_build(&qt, q, n, mode))
			return 1;
		for (size_t i = 0; i + LEAK_RUN <= qt.n && !bad; i++)
			if (run_in(q, &qt, i, ck->o, &ck->ot[mode]) &&
			    !run_in(q, &qt, i, ck->m, &ck->mt[mode]))
				bad = 1;
		toks_release(&qt);
	}
	return bad;
}

/* Fill a template: {v} the quantity, {w} the words now in the text, {x}
 * the example ("the example", "Example 2"), {X} the same capitalised,
 * {k} the output line. */
static void expand(char *out, size_t cap, const char *t, const struct edit *e)
{
	size_t o = 0;
	char ex[32], tmp[80];

	if (e->ex && (e->nex > 1 || e->leetcode))
		snprintf(ex, sizeof(ex), e->leetcode ? "Example %d" : "example %d", e->ex);
	else
		snprintf(ex, sizeof(ex), "the example");
	for (; *t && o + 1 < cap; t++) {
		const char *s = NULL;

		if (t[0] == '{' && t[1] && t[2] == '}') {
			switch (t[1]) {
			case 'v': s = e->var; break;
			case 'w': s = e->what; break;
			case 'x': s = ex; break;
			case 'X':
				snprintf(tmp, sizeof(tmp), "%s", ex);
				tmp[0] = (char)off_upper((unsigned char)tmp[0]);
				s = tmp;
				break;
			case 'k':
				snprintf(tmp, sizeof(tmp), "%d", e->exline);
				s = tmp;
				break;
			default: break;
			}
		}
		if (s) {
			size_t m = strlen(s);

			if (o + m + 1 >= cap)
				break;
			memcpy(out + o, s, m);
			o += m;
			t += 2;
			continue;
		}
		out[o++] = *t;
	}
	out[o] = '\0';
	off_u8_cut(out, o);
}

static int add_question(struct buf *qs, char (*seen)[256], int *nq, const char *q)
{
	for (int i = 0; i < *nq; i++)
		if (strcmp(seen[i], q) == 0)
			return 0;
	snprintf(seen[*nq], 256, "%s", q);
	(*nq)++;
	return buf_addf(qs, "%s\n", q);
}

/* The questions of the rule file's entry for each edit (llm/offline.yaml):
 * the first question of every edit, then the second ones, each in the
 * first wording that does not quote what was removed. */
static int make_questions(const struct off_rules *R, const struct checker *ck,
			  const struct rewrite *w, struct buf *qs)
{
	char seen[MAX_QUESTIONS][256];
	int nq = 0, rc;

	for (int round = 0; round < 2 && nq < MAX_QUESTIONS; round++) {
		for (int i = 0; i < w->ne && nq < MAX_QUESTIONS; i++) {
			const struct off_rule *s = off_rules_find(R->q, R->nq, &w->e[i]);

			if (!s || round >= s->nask)
				continue;
			for (int k = 0; k < 3 && s->ask[round][k]; k++) {
				char q[256];

				expand(q, sizeof(q), s->ask[round][k], &w->e[i]);
				if (question_bad(ck, q))
					continue;
				rc = add_question(qs, seen, &nq, q);
				if (rc)
					return rc;
				break;
			}
		}
		if (w->ne > 2)
			break; /* one question per edit is plenty */
	}
	for (size_t k = 0; k < R->ngeneric && nq == 0; k++) {
		if (question_bad(ck, R->generic[k]) && k + 1 < R->ngeneric)
			continue;
		rc = add_question(qs, seen, &nq, R->generic[k]);
		if (rc)
			return rc;
	}
	return 0;
}

/* One line of the rule file's reasoning per edit, then its closing line. */
static int clarify_reasoning(const struct off_rules *R, const struct rewrite *w, struct buf *b)
{
	int rc = 0;

	for (int i = 0; i < w->ne && !rc; i++) {
		const struct off_rule *s = off_rules_find(R->why, R->nwhy, &w->e[i]);
		char t[256];

		expand(t, sizeof(t), s ? s->say : "", &w->e[i]);
		rc = buf_addf(b, "%s\n", t);
	}
	if (!rc)
		rc = buf_adds(b, R->close);
	return rc;
}

int off_clarify(const char *o, size_t on, const char *m, size_t mn, int cat, uint64_t seed,
		   struct buf *reply)
{
	struct rewrite w;
	struct checker ck;
	const struct off_rules *R = off_rules_shipped(); /* checked by llm_offline_reply */
	struct buf qs, why;
	int rc;

	memset(&ck, 0, sizeof(ck));
	buf_init(&qs, 0);
	buf_init(&why, 0);
	rc = off_rewrite_compute(o, on, cat, seed, &w);
	if (rc)
		return rc;
	if (!off_same_text(w.text.data, w.text.len, m, mn)) {
		/* not our rewrite: find the edits in a line diff */
		struct doc od, md;
		struct unit u[16];
		int nu;

		w.ne = 0;
		rc = off_doc_parse(&od, o, on);
		if (rc)
			goto out;
		rc = off_doc_parse(&md, m, mn);
		if (rc) {
			off_doc_release(&od);
			goto out;
		}
		nu = off_diff_units(&od, &md, u, (int)CL_ARRAY_SIZE(u));
		if (nu < 0)
			rc = nu;
		else
			infer_edits(&od, &md, cat, u, nu, &w);
		off_doc_release(&od);
		off_doc_release(&md);
		if (rc)
			goto out;
	}
	ck.o = o;
	ck.on = on;
	ck.m = m;
	ck.mn = mn;
	for (int mode = 0; mode < 2 && !rc; mode++) {
		rc = toks_build(&ck.ot[mode], o, on, mode);
		if (!rc)
			rc = toks_build(&ck.mt[mode], m, mn, mode);
	}
	if (!rc)
		rc = make_questions(R, &ck, &w, &qs);
	if (!rc)
		rc = clarify_reasoning(R, &w, &why);
	if (!rc)
		rc = buf_addf(reply, "<reasoning>\n%s\n</reasoning>\n<questions>\n%s</questions>",
			      why.data, qs.data ? qs.data : "");
out:
	for (int mode = 0; mode < 2; mode++) {
		toks_release(&ck.ot[mode]);
		toks_release(&ck.mt[mode]);
	}
	buf_release(&qs);
	buf_release(&why);
	off_rewrite_release(&w);
	return rc;
}
