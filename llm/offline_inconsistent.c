/*
 * offline_inconsistent.c - stage 1, inconsistent: make a number
 * disagree with the rest (an example's output, a bound, a note); the
 * fallbacks that always change something; the rewrite of a statement.
 */
#include "offline_int.h"

/* ---- stage 1: inconsistent ------------------------------------------------ */

/* "41" -> "42", "-1" -> "0", "-15" -> "-14": another plausible number. */
static void bump_number(const char *p, size_t n, char *out, size_t cap)
{
	char d[48];
	size_t len = 0, k;
	int neg = n && p[0] == '-';
	const char *s = p + neg;
	size_t m = n - (size_t)neg;

	if (m + 3 > sizeof(d) || m + 3 > cap) {
		off_copy_text(out, cap, "0", 1);
		return;
	}
	if (memchr(s, ',', m)) { /* 500,000 -> 500,001 */
		off_copy_text(out, cap, p, n);
		out[n - 1] = out[n - 1] == '9' ? '8' : (char)(out[n - 1] + 1);
		return;
	}
	memcpy(d, s, m);
	len = m;
	if (!neg) {
		for (k = len; k-- > 0;) {
			if (d[k] != '9') {
				d[k]++;
				break;
			}
			d[k] = '0';
		}
		if (k == (size_t)-1) {
			memmove(d + 1, d, len);
			d[0] = '1';
			len++;
		}
		d[len] = '\0';
		off_copy_text(out, cap, d, len);
		return;
	}
	for (k = len; k-- > 0;) {
		if (d[k] != '0') {
			d[k]--;
			break;
		}
		d[k] = '9';
	}
	d[len] = '\0';
	k = 0;
	while (k + 1 < len && d[k] == '0')
		k++;
	if (strcmp(d + k, "0") == 0)
		snprintf(out, cap, "0");
	else
		snprintf(out, cap, "-%s", d + k);
}

/* Integer tokens in p[a..b): not part of a word, a decimal or a URL. */
static int next_number(const struct doc *d, size_t *i, size_t b, size_t *s, size_t *e)
{
	const char *p = d->p;

	for (size_t k = *i; k < b; k++) {
		size_t t = k, u;

		if (!off_is_digit((unsigned char)p[k]) || d->url[k])
			continue;
		if (off_word_before(p, k) || (k > 0 && p[k - 1] == '.' && off_is_digit(off_at(p, k - 2, b)))) {
			while (k < b && off_is_digit((unsigned char)p[k]))
				k++;
			continue;
		}
		u = k;
		while (u < b && off_is_digit((unsigned char)p[u]))
			u++;
		/* 500,000 is one number */
		while (off_at(p, u, b) == ',' && off_is_digit(off_at(p, u + 1, b)) &&
		       off_is_digit(off_at(p, u + 2, b)) && off_is_digit(off_at(p, u + 3, b)) &&
		       !off_is_digit(off_at(p, u + 4, b)) && u - k <= 3)
			u += 4;
		if (off_word_after(p, u, b) || (off_at(p, u, b) == '.' && off_is_digit(off_at(p, u + 1, b)))) {
			k = u;
			continue;
		}
		if (t > 0 && p[t - 1] == '-' && !off_word_before(p, t - 1))
			t--;
		*s = t;
		*e = u;
		*i = u;
		return 1;
	}
	*i = b;
	return 0;
}

static struct ncand *ncand_new(struct ncands *c)
{
	if (ARRAY_GROW(c->v, c->cap, c->n, 32))
		return NULL;
	memset(&c->v[c->n], 0, sizeof(c->v[0]));
	return &c->v[c->n++];
}

static int add_number_cand(struct ncands *c, const struct doc *d, size_t s, size_t e, int kind,
			   const struct line *l, size_t li)
{
	struct ncand *nc = ncand_new(c);

	if (!nc)
		return CL_ENOMEM;
	nc->off = s;
	nc->len = e - s;
	bump_number(d->p + s, e - s, nc->repl, sizeof(nc->repl));
	nc->e.kind = kind;
	nc->e.ex = l ? l->ex : 0;
	nc->e.exline = l ? l->exline : 0;
	nc->e.exlines = l && l->sec == SEC_EX_OUT ? off_output_lines(d, li) : 0;
	nc->e.nex = d->nex;
	nc->e.leetcode = d->leetcode;
	off_copy_text(nc->e.from, sizeof(nc->e.from), d->p + s, e - s);
	off_copy_text(nc->e.what, sizeof(nc->e.what), nc->repl, strlen(nc->repl));
	return 0;
}

static int output_candidates(const struct doc *d, struct ncands *c)
{
	static const char *const swap[][2] = {
		{ "Yes", "No" }, { "No", "Yes" }, { "YES", "NO" }, { "NO", "YES" },
		{ "yes", "no" }, { "no", "yes" }, { "True", "False" }, { "False", "True" },
		{ "true", "false" }, { "false", "true" }, { "TRUE", "FALSE" }, { "FALSE", "TRUE" },
	};

	for (size_t li = 0; li < d->nlines; li++) {
		const struct line *l = &d->lines[li];
		size_t a = l->off, b = l->off + l->len, i, s, e;

		if (l->sec != SEC_EX_OUT)
			continue;
		off_trim(d->p, &a, &b);
		if (off_starts_ci(d->p + a, b - a, "output:"))
			a += 7;
		for (i = a; next_number(d, &i, b, &s, &e);)
			if (add_number_cand(c, d, s, e, EK_CONFLICT_OUTPUT, l, li))
				return CL_ENOMEM;
		for (i = a; i < b; i++) {
			for (size_t k = 0; k < CL_ARRAY_SIZE(swap); k++) {
				size_t m = strlen(swap[k][0]);
				struct ncand *nc;

				if (m > b - i || memcmp(d->p + i, swap[k][0], m) != 0 ||
				    off_word_before(d->p, i) || off_word_after(d->p, i + m, b))
					continue;
				nc = ncand_new(c);
				if (!nc)
					return CL_ENOMEM;
				nc->off = i;
				nc->len = m;
				snprintf(nc->repl, sizeof(nc->repl), "%s", swap[k][1]);
				nc->e.kind = EK_CONFLICT_OUTPUT;
				nc->e.ex = l->ex;
				nc->e.exline = l->exline;
				nc->e.exlines = off_output_lines(d, li);
				nc->e.nex = d->nex;
				nc->e.leetcode = d->leetcode;
				snprintf(nc->e.from, sizeof(nc->e.from), "%s", swap[k][0]);
				snprintf(nc->e.what, sizeof(nc->e.what), "%s", swap[k][1]);
				i += m;
				break;
			}
		}
	}
	/* code examples: "isPrime(5) => true", "solution(10) # should return 23" */
	for (size_t li = 0; li < d->nlines; li++) {
		const struct line *l = &d->lines[li];
		size_t a = l->off, b = l->off + l->len, i, s, e, mark = b;
		static const char *const marks[] = {
			"=>", "==", "->", "should return", "should equal", "returns"
		};

		if (l->sec != SEC_CODE && l->sec != SEC_STMT)
			continue;
		if (l->len > 160)
			continue;
		for (size_t k = 0; k < CL_ARRAY_SIZE(marks); k++) {
			const char *f = NULL;

			for (size_t j = a; j + strlen(marks[k]) <= b && !f; j++)
				if (memcmp(d->p + j, marks[k], strlen(marks[k])) == 0 && !d->url[j])
					f = d->p + j;
			if (f && (size_t)(f - d->p) < mark)
				mark = (size_t)(f - d->p) + strlen(marks[k]);
		}
		if (mark == b || (l->sec == SEC_STMT && !off_contains_ci(d->p + a, b - a, "(")))
			continue;
		for (i = mark; next_number(d, &i, b, &s, &e);) {
			if (add_number_cand(c, d, s, e, EK_CONFLICT_OUTPUT, NULL, li))
				return CL_ENOMEM;
			break;
		}
	}
	return 0;
}

/* A plain integer value of a bound: "1000", "10^5", "2 \cdot 10^5", "-10^9". */
static int bound_value(const char *p, size_t n, int64_t *out)
{
	int64_t v = 0, mant = 1, sign = 1;
	size_t i = 0;

	if (i < n && p[i] == '-') {
		sign = -1;
		i++;
	}
	if (i >= n || !off_is_digit((unsigned char)p[i]))
		return 0;
	while (i < n &&
	       (off_is_digit((unsigned char)p[i]) || p[i] == ' ' || p[i] == ',' || p[i] == '\\')) {
		if (off_is_digit((unsigned char)p[i])) {
			if (v > INT64_MAX / 10 - 10)
				return 0;
			v = v * 10 + (p[i] - '0');
		} else if (p[i] == ' ' && !(off_is_digit(off_at(p, i + 1, n)))) {
			break;
		}
		i++;
	}
	i = off_skip_sp(p, i, n);
	if (off_starts_ci(p + i, n - i, "\\cdot") || off_starts_ci(p + i, n - i, "*") ||
	    off_starts_ci(p + i, n - i, "\\times")) {
		mant = v;
		i += p[i] == '*' ? 1 : p[i + 1] == 'c' ? 5 : 6;
		i = off_skip_sp(p, i, n);
		v = 0;
		while (i < n && off_is_digit((unsigned char)p[i]))
			v = v * 10 + (p[i++] - '0');
	}
	if (i < n && p[i] == '^') {
		int64_t e = 0, r = 1;

		i++;
		if (i < n && p[i] == '{')
			i++;
		while (i < n && off_is_digit((unsigned char)p[i]) && e < 100)
			e = e * 10 + (p[i++] - '0');
		if (i < n && p[i] == '}')
			i++;
		if (v != 10 || e > 17)
			return 0;
		while (e-- > 0)
			r *= 10;
		v = r;
	}
	if (i != n || mant > 100000)
		return 0;
	*out = sign * mant * v;
	return 1;
}

/* Example values "name = 5", "name = [1,2]", "name = \"ab\"" per example. */
static int example_value(const struct doc *d, const char *name, size_t nlen, int what,
			 int64_t *best, int *ex)
{
	const char *p = d->p;
	int found = 0;

	for (size_t li = 0; li < d->nlines; li++) {
		const struct line *l = &d->lines[li];
		size_t a = l->off, b = l->off + l->len;

		if (l->sec != SEC_EX_IN)
			continue;
		for (size_t i = a; i + nlen < b; i++) {
			size_t j;
			int64_t v = 0, len = 0, mx = INT64_MIN;
			int ok = 0;

			if (memcmp(p + i, name, nlen) != 0 || off_word_before(p, i) ||
			    off_word_after(p, i + nlen, b))
				continue;
			j = off_skip_sp(p, i + nlen, b);
			if (off_at(p, j, b) != '=')
				continue;
			j = off_skip_sp(p, j + 1, b);
			if (what == 0 && (off_is_digit(off_at(p, j, b)) || off_at(p, j, b) == '-')) {
				int sign = 1;

				if (p[j] == '-') {
					sign = -1;
					j++;
				}
				while (j < b && off_is_digit((unsigned char)p[j]) &&
				       v < INT64_MAX / 10 - 10)
					v = v * 10 + (p[j++] - '0');
				v *= sign;
				ok = !off_word_after(p, j, b) && off_at(p, j, b) != '.';
			} else if (off_at(p, j, b) == '[' && off_at(p, j + 1, b) != '[') {
				j++;
				while (j < b && p[j] != ']') {
					int64_t x = 0;
					int sign = 1, dig = 0;

					j = off_skip_sp(p, j, b);
					if (off_at(p, j, b) == '-') {
						sign = -1;
						j++;
					}
					while (j < b && off_is_digit((unsigned char)p[j]) &&
					       x < INT64_MAX / 10 - 10) {
						x = x * 10 + (p[j++] - '0');
						dig = 1;
					}
					if (!dig)
						break;
					len++;
					if (sign * x > mx)
						mx = sign * x;
					j = off_skip_sp(p, j, b);
					if (off_at(p, j, b) == ',')
						j++;
				}
				if (off_at(p, j, b) == ']' && len) {
					ok = what != 0;
					v = what == 1 ? len : mx;
				}
			} else if (off_at(p, j, b) == '"' && what == 1) {
				size_t k = j + 1;

				while (k < b && p[k] != '"')
					k++;
				if (k < b) {
					ok = 1;
					v = (int64_t)(k - j - 1);
				}
			}
			if (ok && (!found || v > *best)) {
				*best = v;
				*ex = l->ex;
				found = 1;
			}
		}
	}
	return found;
}

/* The first data line of an example's input, when it is one integer. */
static int first_input_integer(const struct doc *d, int64_t *v)
{
	for (size_t li = 0; li < d->nlines; li++) {
		const struct line *l = &d->lines[li];
		size_t a = l->off, b = l->off + l->len;

		if (l->sec != SEC_EX_IN || l->ex != 1)
			continue;
		off_trim(d->p, &a, &b);
		if (a == b)
			continue;
		*v = 0;
		for (size_t i = a; i < b; i++) {
			if (!off_is_digit((unsigned char)d->p[i]) || *v > 1000000000)
				return 0;
			*v = *v * 10 + (d->p[i] - '0');
		}
		return 1;
	}
	return 0;
}

/* An example value that breaks a tightened upper bound. */
static int bound_candidates(const struct ctx *x, struct ncands *c)
{
	const struct doc *d = &x->d;
	int64_t first = 0;
	int have_first = first_input_integer(d, &first);

	for (size_t i = 0; i < x->bs.n; i++) {
		const struct bound *bd = &x->bs.v[i];
		int64_t lo = INT64_MIN, up, v = 0;
		int ex = 1, what = 0, found = 0;
		const char *var = bd->raw[0] ? bd->raw : bd->cvar;
		size_t vl = strlen(var);
		const char *dot;
		struct ncand *nc;

		if (!bd->up_len || !bound_value(d->p + bd->up_off, bd->up_len, &up))
			continue;
		if (bd->lo_len && !bound_value(d->p + bd->lo_off, bd->lo_len, &lo))
			continue;
		if (d->leetcode && vl) {
			dot = memchr(var, '.', vl);
			if (dot && strcmp(dot, ".length") == 0) {
				what = 1;
				vl = (size_t)(dot - var);
			} else if (vl > 3 && strcmp(var + vl - 3, "[i]") == 0) {
				what = 2;
				vl -= 3;
			}
			for (size_t k = 0; k < vl; k++)
				if (!off_is_alnum((unsigned char)var[k]) && var[k] != '_')
					vl = 0;
			if (vl)
				found = example_value(d, var, vl, what, &v, &ex);
		} else if (!d->leetcode && have_first && bd->first_line_bound &&
			   d->lines[bd->line].sec == SEC_INPUT && !bd->cplural) {
			v = first;
			found = 1;
		}
		if (!found || v - 1 < lo || v > up || v - 1 < 0)
			continue;
		nc = ncand_new(c);
		if (!nc)
			return CL_ENOMEM;
		nc->off = bd->up_off;
		nc->len = bd->up_len;
		snprintf(nc->repl, sizeof(nc->repl), "%lld", (long long)(v - 1));
		nc->e.kind = EK_CONFLICT_BOUND;
		nc->e.ex = ex;
		nc->e.nex = d->nex;
		nc->e.leetcode = d->leetcode;
		memcpy(nc->e.var, bd->cvar, sizeof(nc->e.var));
		off_copy_text(nc->e.from, sizeof(nc->e.from), d->p + bd->up_off, bd->up_len);
		snprintf(nc->e.what, sizeof(nc->e.what), "%s", nc->repl);
	}
	return 0;
}

static int note_candidates(const struct doc *d, struct ncands *c)
{
	for (size_t li = 0; li < d->nlines; li++) {
		const struct line *l = &d->lines[li];
		size_t a = l->off, b = l->off + l->len, i, s, e;

		if (l->sec != SEC_NOTE && l->sec != SEC_EXPL)
			continue;
		if (l->sec == SEC_NOTE && !d->nex)
			continue;
		for (i = a; next_number(d, &i, b, &s, &e);)
			if (add_number_cand(c, d, s, e, EK_CONFLICT_NOTE, l, li))
				return CL_ENOMEM;
	}
	return 0;
}

static int numtok_cmp(const void *a, const void *b)
{
	const struct numtok *x = a, *y = b;

	if (x->h != y->h)
		return x->h < y->h ? -1 : 1;
	return x->s < y->s ? -1 : x->s > y->s;
}

/* Numbers of the prose; with twice set, only values that occur twice. */
static int prose_candidates(const struct doc *d, struct ncands *c, int twice)
{
	struct numtok *v = NULL;
	size_t n = 0, cap = 0;
	int rc = 0;

	for (size_t li = 0; li < d->nlines; li++) {
		const struct line *l = &d->lines[li];
		size_t i, s, e;

		if (!off_editable(l->sec))
			continue;
		for (i = l->off; next_number(d, &i, l->off + l->len, &s, &e);) {
			if (ARRAY_GROW(v, cap, n, 64)) {
				free(v);
				return CL_ENOMEM;
			}
			v[n].h = hash_fnv1a64(d->p + s, e - s);
			v[n].s = s;
			v[n].e = e;
			v[n].li = li;
			n++;
			if (!twice)
				goto add;
		}
	}
	if (!twice || n == 0)
		goto out;
	qsort(v, n, sizeof(*v), numtok_cmp);
	for (size_t i = 0; i < n && !rc; i++) {
		int dup = 0;

		for (size_t j = i > 0 ? i - 1 : i + 1; j <= i + 1 && j < n && !dup; j += 2)
			dup = v[j].h == v[i].h && v[j].e - v[j].s == v[i].e - v[i].s &&
			      memcmp(d->p + v[j].s, d->p + v[i].s, v[i].e - v[i].s) == 0;

		if (dup)
			rc = add_number_cand(c, d, v[i].s, v[i].e, EK_CONFLICT_VALUE, NULL,
					     v[i].li);
	}
	goto out;
add:
	rc = add_number_cand(c, d, v[0].s, v[0].e, EK_CONFLICT_VALUE, NULL, v[0].li);
out:
	free(v);
	return rc;
}

static int modify_inconsistent(struct ctx *x, struct rewrite *w, struct spans *sp)
{
	struct ncands c = { NULL, 0, 0 };
	int rc = 0, step;
	struct ncand *nc;
	char exname[32], exname_cap[32];

	for (step = 0; step < 4 && c.n == 0 && !rc; step++) {
		if (step == 0) {
			rc = output_candidates(&x->d, &c);
			if (!rc)
				rc = bound_candidates(x, &c);
		} else if (step == 1) {
			rc = note_candidates(&x->d, &c);
		} else {
			rc = prose_candidates(&x->d, &c, step == 2);
		}
	}
	if (rc || !c.n)
		goto out;
	nc = &c.v[off_rng_pick(&x->rng, c.n)];
	rc = off_spans_add(sp, nc->off, nc->len, nc->repl);
	if (rc)
		goto out;
	w->e[w->ne++] = nc->e;
	if (nc->e.ex && (x->d.nex > 1 || x->d.leetcode))
		snprintf(exname, sizeof(exname), x->d.leetcode ? "Example %d" : "example %d",
			 nc->e.ex);
	else
		snprintf(exname, sizeof(exname), "the example");
	snprintf(exname_cap, sizeof(exname_cap), "%s", exname);
	exname_cap[0] = (char)off_upper((unsigned char)exname_cap[0]);
	switch (nc->e.kind) {
	case EK_CONFLICT_OUTPUT:
		rc = buf_addf(&w->why,
			      "The expected output of an example is fully determined by the "
			      "statement, so changing one of its values creates a contradiction "
			      "that a careful reader will notice.\n"
			      "I change the value %s in the output of %s to %s; the statement and "
			      "the input stay as they are.\n"
			      "Now the statement and the example cannot both be right, and the "
			      "solver has to ask which one to trust.",
			      nc->e.from, nc->e.ex ? exname : "a code example", nc->e.what);
		break;
	case EK_CONFLICT_BOUND:
		rc = buf_addf(&w->why,
			      "The constraints and the examples must agree: every example has to "
			      "satisfy every bound.\n"
			      "%s uses a value of %s larger than %s, so I tighten the upper bound "
			      "on %s from %s to %s.\n"
			      "The example now breaks the stated constraint, and the solver cannot "
			      "tell which of the two is right.",
			      exname_cap, nc->e.var, nc->e.what, nc->e.var, nc->e.from, nc->e.what);
		break;
	case EK_CONFLICT_NOTE:
		rc = buf_addf(&w->why,
			      "The explanation of an example restates numbers that also appear in "
			      "its input and output.\n"
			      "I change one of them in the explanation (%s becomes %s), so the "
			      "explanation and the example disagree.\n"
			      "The statement itself stays as it is.",
			      nc->e.from, nc->e.what);
		break;
	default:
		rc = buf_addf(&w->why,
			      "The statement gives the value %s in more than one place.\n"
			      "I change one occurrence to %s, so two parts of the statement now "
			      "disagree about the same quantity.\n"
			      "Everything else stays as it is.",
			      nc->e.from, nc->e.what);
		break;
	}
	if (!rc)
		rc = 1;
out:
	free(c.v);
	return rc;
}

/* ---- fallbacks that always change something -------------------------------- */

static int fallback_value(struct ctx *x, struct rewrite *w, struct spans *sp)
{
	const struct doc *d = &x->d;
	size_t i = 0, s = 0, e = 0;
	struct edit *ed;
	char repl[48];
	int rc, found = 0;

	for (size_t li = 0; li < d->nlines && !found; li++) {
		const struct line *l = &d->lines[li];

		i = l->off;
		found = off_editable(l->sec) && next_number(d, &i, l->off + l->len, &s, &e);
	}
	if (!found)
		return 0;
	ed = off_edit_new(w, x->cat == CAT_AMBIGUOUS ? EK_VAGUE_VALUE : EK_CONFLICT_VALUE);
	if (!ed)
		return 0;
	if (x->cat == CAT_AMBIGUOUS)
		snprintf(repl, sizeof(repl), "some value");
	else
		bump_number(d->p + s, e - s, repl, sizeof(repl));
	rc = off_spans_add(sp, s, e - s, repl);
	if (rc) {
		w->ne--;
		return rc < 0 ? rc : 0;
	}
	off_copy_text(ed->from, sizeof(ed->from), d->p + s, e - s);
	snprintf(ed->what, sizeof(ed->what), "%s", repl);
	rc = buf_addf(&w->why,
		      "No rule of the usual kind applies to this short statement, so I change its "
		      "first number: %s becomes %s.\n"
		      "%s",
		      ed->from, ed->what,
		      x->cat == CAT_AMBIGUOUS ? "A solver can no longer tell which exact value is "
						"meant."
					      : "The changed value no longer fits the rest of the "
						"statement.");
	return rc ? rc : 1;
}

/* No number at all: make the wording vaguer, or add a contradicting line. */
static int fallback_text(struct ctx *x, struct rewrite *w, struct spans *sp)
{
	const char *p = x->d.p;
	size_t n = x->d.n, a = 0, b = n;
	struct edit *ed;
	int rc;

	off_trim(p, &a, &b);
	if (x->cat == CAT_AMBIGUOUS) {
		for (size_t i = a; i < b; i++) {
			size_t m = off_phrase_at(p, i, b, "the");
			char repl[8];

			if (!m)
				continue;
			off_cased(repl, sizeof(repl), "some", p + i);
			rc = off_spans_add(sp, i, m, repl);
			if (rc)
				return rc < 0 ? rc : 0;
			ed = off_edit_new(w, EK_VAGUE_GENERIC);
			if (ed) {
				snprintf(ed->what, sizeof(ed->what), "%s", repl);
				snprintf(ed->from, sizeof(ed->from), "the");
			}
			rc = buf_adds(&w->why, "The statement is short and has no number or "
					       "precise term to blur, so I turn a definite "
					       "reference into an indefinite one (\"the\" becomes "
					       "\"some\").\n"
					       "It still reads as a task, but it no longer says "
					       "exactly what is meant.");
			return rc ? rc : 1;
		}
		rc = off_spans_add(sp, b, 0,
			       b > a ? " Use a reasonable approach."
				     : "Use a reasonable approach.");
		if (rc)
			return rc < 0 ? rc : 0;
		ed = off_edit_new(w, EK_VAGUE_GENERIC);
		if (ed)
			snprintf(ed->what, sizeof(ed->what), "a reasonable approach");
		rc = buf_adds(&w->why, "The statement is too short to blur a term, so I add a "
				       "vague instruction that leaves the expected behaviour "
				       "open.");
		return rc ? rc : 1;
	}
	if (x->cat == CAT_INCONSISTENT) {
		int ret = off_contains_ci(p, n, "return");

		rc = off_spans_add(sp, b, 0, ret ? " The function must return nothing." :
					       " The program must print nothing.");
		if (rc)
			return rc < 0 ? rc : 0;
		ed = off_edit_new(w, EK_CONFLICT_APPEND);
		if (ed)
			ed->cls = ret;
		rc = buf_adds(&w->why, "The statement has no number or example to contradict, so I "
				       "add one requirement that conflicts with the task it "
				       "describes.\n"
				       "A reader can no longer satisfy both.");
		return rc ? rc : 1;
	}
	/* incomplete, a single word: keep only what makes it a request */
	rc = off_spans_add(sp, a, b - a, "Solve the task.");
	if (rc)
		return rc < 0 ? rc : 0;
	ed = off_edit_new(w, EK_DROP_GENERIC);
	if (ed)
		off_copy_text(ed->from, sizeof(ed->from), p + a, b - a);
	rc = buf_adds(&w->why, "The statement is a single word; I replace it by a request that no "
			       "longer says what to do.");
	return rc ? rc : 1;
}

/* ---- stage 1 -------------------------------------------------------------- */

/* Equal once white space runs count as one blank and the ends are trimmed. */
int off_same_text(const char *a, size_t an, const char *b, size_t bn)
{
	size_t i = off_skip_ws(a, 0, an), j = off_skip_ws(b, 0, bn);

	for (;;) {
		size_t i2 = off_skip_ws(a, i, an), j2 = off_skip_ws(b, j, bn);
		int sa = i2 > i, sb = j2 > j;

		i = i2;
		j = j2;
		if (i >= an || j >= bn)
			return i >= an && j >= bn;
		if (sa != sb || a[i] != b[j])
			return 0;
		i++;
		j++;
	}
}

void off_rewrite_release(struct rewrite *w)
{
	buf_release(&w->text);
	buf_release(&w->why);
}

int off_rewrite_compute(const char *p, size_t n, int cat, uint64_t seed, struct rewrite *w)
{
	struct ctx x;
	struct spans sp = { NULL, 0, 0 };
	int rc, done = 0;

	memset(w, 0, sizeof(*w));
	buf_init(&w->text, 0);
	buf_init(&w->why, 0);
	rc = off_ctx_init(&x, p, n, cat, seed);
	if (rc)
		return rc;
	if (cat == CAT_INCOMPLETE)
		rc = off_modify_incomplete(&x, w, &sp);
	else if (cat == CAT_AMBIGUOUS)
		rc = off_modify_ambiguous(&x, w, &sp);
	else
		rc = modify_inconsistent(&x, w, &sp);
	if (rc < 0)
		goto out;
	done = w->ne > 0 && sp.n > 0;
	for (int attempt = 0;; attempt++) {
		if (done) {
			buf_reset(&w->text);
			rc = off_spans_apply(&sp, p, n, &w->text);
			if (rc)
				goto out;
			if (!off_same_text(p, n, w->text.data, w->text.len))
				break;
		}
		if (attempt == 3)
			break;
		/* nothing applied, or it changed white space only */
		sp.n = 0;
		w->ne = 0;
		buf_reset(&w->why);
		if (attempt == 0 && cat == CAT_INCOMPLETE)
			rc = off_fallback_incomplete(&x, w, &sp);
		else if (attempt == 0)
			rc = fallback_value(&x, w, &sp);
		else
			rc = fallback_text(&x, w, &sp);
		if (rc < 0)
			goto out;
		done = sp.n > 0;
	}
	if (!w->text.len || off_same_text(p, n, w->text.data, w->text.len)) {
		/* the last resort, for a statement no rule could touch */
		buf_reset(&w->text);
		rc = buf_adds(&w->text, "Solve the task.");
		if (rc)
			goto out;
		if (!w->ne)
			off_edit_new(w, cat == CAT_AMBIGUOUS      ? EK_VAGUE_GENERIC
				    : cat == CAT_INCONSISTENT ? EK_CONFLICT_GENERIC
							      : EK_DROP_GENERIC);
	}
	rc = 0;
out:
	free(sp.v);
	off_ctx_release(&x);
	if (rc)
		off_rewrite_release(w);
	return rc;
}
