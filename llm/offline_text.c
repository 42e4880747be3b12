/*
 * offline_text.c - bytes, the offline provider's seeded generator, and
 * comparison chains ("1 \le n \le 10^5") with their operands.
 */
#include "offline_int.h"

/* ---- bytes ------------------------------------------------------------ */

int off_is_digit(int c)
{
	return c >= '0' && c <= '9';
}

int off_is_alpha(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

int off_is_alnum(int c)
{
	return off_is_digit(c) || off_is_alpha(c);
}

static int lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

int off_upper(int c)
{
	return c >= 'a' && c <= 'z' ? c - 32 : c;
}

unsigned char off_at(const char *p, size_t i, size_t n)
{
	return i < n ? (unsigned char)p[i] : 0;
}

/* Bytes of the white space at p[i]: ASCII blanks and U+00A0. */
size_t off_space_len(const char *p, size_t i, size_t n)
{
	unsigned char c = off_at(p, i, n);

	if (c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f')
		return 1;
	if (c == 0xc2 && off_at(p, i + 1, n) == 0xa0)
		return 2;
	return 0;
}

/* A byte of a word: ASCII letters, digits, '_' and every byte of a
 * multi-byte character, so that a word never ends inside a character. */
int off_is_wordc(int c)
{
	return off_is_alnum(c) || c == '_' || c >= 0x80;
}

/* Is the character that ends just before p[i] part of a word? */
int off_word_before(const char *p, size_t i)
{
	if (i == 0)
		return 0;
	if (i >= 2 && (unsigned char)p[i - 2] == 0xc2 && (unsigned char)p[i - 1] == 0xa0)
		return 0;
	return off_is_wordc((unsigned char)p[i - 1]);
}

int off_word_after(const char *p, size_t i, size_t n)
{
	return i < n && !off_space_len(p, i, n) && off_is_wordc((unsigned char)p[i]);
}

/* ASCII case-insensitive comparisons of n bytes. */
int off_eq_ci(const char *a, const char *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (lower((unsigned char)a[i]) != lower((unsigned char)b[i]))
			return 0;
	return 1;
}

int off_same_ci(const char *p, size_t n, const char *s)
{
	return strlen(s) == n && off_eq_ci(p, s, n);
}

int off_starts_ci(const char *p, size_t n, const char *s)
{
	size_t m = strlen(s);

	return m <= n && off_eq_ci(p, s, m);
}

int off_contains_ci(const char *p, size_t n, const char *s)
{
	size_t m = strlen(s);

	for (size_t i = 0; i + m <= n; i++)
		if (off_eq_ci(p + i, s, m))
			return 1;
	return 0;
}

/* The length of phrase s at p[i] as whole words (case-insensitive), or 0. */
size_t off_phrase_at(const char *p, size_t i, size_t n, const char *s)
{
	size_t m = strlen(s);

	if (m > n - i || !off_eq_ci(p + i, s, m))
		return 0;
	if (off_is_wordc((unsigned char)s[0]) && off_word_before(p, i))
		return 0;
	if (off_is_wordc((unsigned char)s[m - 1]) && off_word_after(p, i + m, n))
		return 0;
	return m;
}

/* Occurrences of the whole-word phrase s in p[0..n). */
size_t off_count_phrase(const char *p, size_t n, const char *s)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++)
		if (off_phrase_at(p, i, n, s))
			k++;
	return k;
}

int off_has_digit(const char *p, size_t a, size_t b)
{
	for (size_t i = a; i < b; i++)
		if (off_is_digit((unsigned char)p[i]))
			return 1;
	return 0;
}

/* Cut s (of length len) so it does not end inside a UTF-8 character. */
void off_u8_cut(char *s, size_t len)
{
	size_t start = len, need;
	unsigned char c;

	while (start > 0 && ((unsigned char)s[start - 1] & 0xc0) == 0x80)
		start--;
	if (start == 0) {
		s[len] = '\0';
		return;
	}
	c = (unsigned char)s[start - 1];
	need = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
	if (start - 1 + need > len)
		len = start - 1;
	s[len] = '\0';
}

/* Copy p[0..n) into out (cap bytes) whole characters only. */
void off_copy_text(char *out, size_t cap, const char *p, size_t n)
{
	if (n >= cap) {
		memcpy(out, p, cap - 1);
		off_u8_cut(out, cap - 1);
		return;
	}
	memcpy(out, p, n);
	out[n] = '\0';
}

/* ---- a small deterministic generator ------------------------------------ */

static uint64_t rng_next(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

size_t off_rng_pick(uint64_t *s, size_t n)
{
	return n ? (size_t)(rng_next(s) % n) : 0;
}

/* ---- comparison operators and operands ---------------------------------- */

static const char *const cmp_ops[] = {
	"\\leqslant", "\\geqslant", "\\leq", "\\geq", "\\le", "\\ge", "\\lt", "\\gt",
	"&lt;=", "&gt;=", "&le;", "&ge;", "&lt;", "&gt;", "<=", ">=",
	"\xe2\x89\xa4", "\xe2\x89\xa5", "\xe2\x89\xa6", "\xe2\x89\xa7", /* ≤ ≥ ≦ ≧ */
	"\xe2\xa9\xbd", "\xe2\xa9\xbe",                                 /* ⩽ ⩾ */
	"<", ">",
};

/* The length of a comparison operator at p[i], or 0. */
size_t off_op_at(const char *p, size_t i, size_t n)
{
	for (size_t k = 0; k < CL_ARRAY_SIZE(cmp_ops); k++) {
		const char *o = cmp_ops[k];
		size_t m = strlen(o);
		int prev, next, next2;

		if (m > n - i || memcmp(p + i, o, m) != 0)
			continue;
		if (o[0] == '\\' && off_is_alpha(off_at(p, i + m, n)))
			continue; /* \left, \ler... */
		if (m == 1) {
			prev = i ? (unsigned char)p[i - 1] : ' ';
			next = off_at(p, i + 1, n);
			next2 = off_at(p, i + 2, n);
			if (o[0] == '<') {
				if (next == '<' || next == '-' || next == '/' || next == '!' ||
				    prev == '<' || next == '>')
					return 0;
				/* "<b>", "<sup>": markup, not a comparison */
				if (off_is_alpha(next) && (off_is_alpha(next2) || next2 == '>'))
					return 0;
			} else {
				if (prev == '-' || prev == '=' || prev == '>' || prev == '<' ||
				    next == '>')
					return 0;
				if (!(next == ' ' || next == 0 || off_is_digit(next) || next == '$' ||
				      next == '-' || next == '=' || next == '\t'))
					return 0;
			}
		}
		return m;
	}
	return 0;
}

static int operand_byte(int c)
{
	return off_is_wordc(c) || c == '.' || c == '[' || c == ']' || c == '{' || c == '}' ||
	       c == '^' || c == '|' || c == '\'' || c == '-';
}

/* Has p[a..b) a digit and, once LaTeX commands are dropped, no letter
 * (a number such as "10^{18}", "2 \cdot 10^5", "-10^9", "1e9")? */
int off_numeric(const char *p, size_t a, size_t b)
{
	int digit = 0;

	for (size_t i = a; i < b; i++) {
		unsigned char c = (unsigned char)p[i];

		if (c == '\\') {
			while (i + 1 < b && off_is_alpha(off_at(p, i + 1, b)))
				i++;
			continue;
		}
		if (off_is_digit(c))
			digit = 1;
		else if (c == 'e' && i > a && off_is_digit(off_at(p, i - 1, b)) &&
			 off_is_digit(off_at(p, i + 1, b)))
			continue;
		else if (off_is_alpha(c) || c >= 0x80)
			return 0;
	}
	return digit;
}

/* The operand that ends at e (exclusive), not before lo. */
static size_t operand_back(const char *p, size_t lo, size_t e)
{
	size_t s = e;

	while (s > lo) {
		unsigned char c = (unsigned char)p[s - 1];

		if (c >= 0x80) {
			size_t k = s - 1;

			while (k > lo && ((unsigned char)p[k] & 0xc0) == 0x80)
				k--;
			if (off_space_len(p, k, e) || off_op_at(p, k, e))
				break;
			s = k;
			continue;
		}
		if (!operand_byte(c))
			break;
		s--;
	}
	while (s < e &&
	       (p[s] == '.' || p[s] == '\'' || (p[s] == '-' && !off_is_digit(off_at(p, s + 1, e)))))
		s++;
	return s;
}

/* The operand that starts at s, not past hi: its end. */
size_t off_operand_fwd(const char *p, size_t s, size_t hi)
{
	size_t e = s;

	while (e < hi) {
		unsigned char c = (unsigned char)p[e];

		if (off_op_at(p, e, hi) || off_space_len(p, e, hi))
			break;
		if (c == '\\' && off_at(p, e + 1, hi) == ',' && off_is_digit(off_at(p, e + 2, hi))) {
			e += 2; /* 10\,000 */
			continue;
		}
		if (!operand_byte(c))
			break;
		e++;
	}
	while (e > s && (p[e - 1] == '.' || p[e - 1] == '-' || p[e - 1] == '\''))
		e--;
	return e;
}

/* Past the blanks at p[i], newlines included. */
size_t off_skip_ws(const char *p, size_t i, size_t n)
{
	while (i < n && off_space_len(p, i, n))
		i += off_space_len(p, i, n);
	return i;
}

/* Past the blanks at p[i] on the same line. */
size_t off_skip_sp(const char *p, size_t i, size_t hi)
{
	while (i < hi && p[i] != '\n' && off_space_len(p, i, hi))
		i += off_space_len(p, i, hi);
	return i;
}

/* A number goes on: "2 \cdot 10^5", "2 500", "10^9 + 7". */
size_t off_numeric_more(const char *p, size_t e, size_t hi)
{
	static const char *const times[] = { "\\cdot", "\\times", "\xc2\xb7", "\xc3\x97", "*" };

	for (;;) {
		size_t k = off_skip_sp(p, e, hi), m = 0, t;

		for (size_t j = 0; j < CL_ARRAY_SIZE(times) && !m; j++)
			if (off_starts_ci(p + k, hi - k, times[j]))
				m = strlen(times[j]);
		if (!m && (off_at(p, k, hi) == '+' || off_at(p, k, hi) == '-') && k > e)
			m = 1;
		if (m) {
			t = off_skip_sp(p, k + m, hi);
			if (!off_is_digit(off_at(p, t, hi)))
				return e;
			e = off_operand_fwd(p, t, hi);
			continue;
		}
		if (k == e + 1 && p[e] == ' ' && off_is_digit(off_at(p, e - 1, hi)) &&
		    off_is_digit(off_at(p, k, hi)) && off_is_digit(off_at(p, k + 1, hi)) &&
		    off_is_digit(off_at(p, k + 2, hi)) && !off_is_wordc(off_at(p, k + 3, hi))) {
			e = k + 3; /* 2 500 */
			continue;
		}
		return e;
	}
}

int off_chain_at(const char *p, size_t lo, size_t hi, size_t i, struct chain *c)
{
	size_t e, s, pos = i, m;

	memset(c, 0, sizeof(*c));
	e = i;
	while (e > lo && p[e - 1] == ' ')
		e--;
	s = operand_back(p, lo, e);
	if (s == e)
		return 0;
	/* "n_i, m_i \le 10": a list on the left */
	for (;;) {
		size_t j = s, t;

		while (j > lo && p[j - 1] == ' ')
			j--;
		if (j == lo || p[j - 1] != ',')
			break;
		j--;
		while (j > lo && p[j - 1] == ' ')
			j--;
		t = operand_back(p, lo, j);
		if (t == j || off_numeric(p, t, j) || j - t > 12)
			break;
		s = t;
	}
	c->a[0] = s;
	c->b[0] = e;
	c->na = 1;
	for (;;) {
		size_t r0, r1, k;

		m = off_op_at(p, pos, hi);
		if (!m || c->na >= CL_ARRAY_SIZE(c->a))
			break;
		r0 = off_skip_sp(p, pos + m, hi);
		if (off_at(p, r0, hi) == '-' && off_is_digit(off_at(p, r0 + 1, hi)))
			r1 = off_operand_fwd(p, r0 + 1, hi);
		else
			r1 = off_operand_fwd(p, r0, hi);
		if (r1 == r0)
			break;
		if (off_numeric(p, r0, r1))
			r1 = off_numeric_more(p, r1, hi);
		/* "0 <= a, b <= 1000": a list before the next operator */
		for (k = r1; off_at(p, k, hi) == ',';) {
			size_t t0 = off_skip_sp(p, k + 1, hi), t1 = off_operand_fwd(p, t0, hi);

			if (t1 == t0 || !off_op_at(p, off_skip_sp(p, t1, hi), hi))
				break;
			r1 = k = t1;
		}
		c->a[c->na] = r0;
		c->b[c->na] = r1;
		c->na++;
		pos = off_skip_sp(p, r1, hi);
	}
	return c->na >= 2;
}

int off_chain_has_number(const char *p, const struct chain *c)
{
	for (size_t k = 0; k < c->na; k++)
		if (off_numeric(p, c->a[k], c->b[k]))
			return 1;
	return 0;
}

/* Math as a reader says it: no '$', braces or LaTeX commands. */
void off_clean_math(const char *p, size_t n, char *out, size_t cap)
{
	size_t o = 0;

	for (size_t i = 0; i < n && o + 4 < cap; i++) {
		unsigned char c = (unsigned char)p[i];

		if (c == '$' || c == '{' || c == '}')
			continue;
		if (c == '\\') {
			size_t k = i + 1;

			while (k < n && off_is_alpha(off_at(p, k, n)))
				k++;
			if (k - i - 1 >= 3 && (off_starts_ci(p + i, n - i, "\\ldots") ||
					       off_starts_ci(p + i, n - i, "\\dots"))) {
				memcpy(out + o, "...", 3);
				o += 3;
			} else if (k == i + 1 && k < n) {
				k++; /* "\,", "\{" */
			} else if (o && out[o - 1] != ' ') {
				out[o++] = ' ';
			}
			i = k - 1;
			continue;
		}
		if (off_space_len(p, i, n)) {
			if (o && out[o - 1] != ' ')
				out[o++] = ' ';
			i += off_space_len(p, i, n) - 1;
			continue;
		}
		out[o++] = (char)c;
	}
	while (o && (out[o - 1] == ' ' || out[o - 1] == ','))
		o--;
	out[o] = '\0';
	off_u8_cut(out, o);
	/* trim a leading blank */
	if (out[0] == ' ')
		memmove(out, out + 1, strlen(out));
}

/* "a,b, c" -> "a, b and c": a list as a sentence says it. */
static void listify(char *var, size_t cap)
{
	char out[64], *t, *save = NULL, copy[64];
	const char *items[8];
	size_t n = 0, o = 0;

	if (!strchr(var, ','))
		return;
	snprintf(copy, sizeof(copy), "%s", var);
	for (t = strtok_r(copy, ",", &save); t && n < CL_ARRAY_SIZE(items);
	     t = strtok_r(NULL, ",", &save)) {
		while (*t == ' ')
			t++;
		if (*t)
			items[n++] = t;
	}
	out[0] = '\0';
	for (size_t i = 0; i < n && o + 1 < sizeof(out); i++)
		o += (size_t)snprintf(out + o, sizeof(out) - o, "%s%s",
				      i == 0 ? "" : i + 1 == n ? " and " : ", ", items[i]);
	if (o < sizeof(out))
		off_copy_text(var, cap, out, o);
}

/* The quantity a chain is about: its first operand that is not a number. */
void off_chain_var(const char *p, const struct chain *c, char *var, size_t cap, char *raw,
		      size_t rawcap, int *plural)
{
	size_t spaces = 0;

	var[0] = '\0';
	if (raw)
		raw[0] = '\0';
	*plural = 0;
	for (size_t k = 0; k < c->na; k++) {
		if (off_numeric(p, c->a[k], c->b[k]))
			continue;
		off_clean_math(p + c->a[k], c->b[k] - c->a[k], var, cap);
		if (raw)
			off_copy_text(raw, rawcap, p + c->a[k], c->b[k] - c->a[k]);
		break;
	}
	for (const char *s = var; *s; s++)
		spaces += *s == ' ';
	if (spaces > 4) {
		var[0] = '\0';
		if (raw)
			raw[0] = '\0';
	}
	*plural = strchr(var, ',') != NULL || strstr(var, " and ") != NULL;
	listify(var, cap);
}
