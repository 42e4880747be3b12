/*
 * offline.c - the offline provider: deterministic rule-based rewrites
 * and template questions, without a network or a model.
 *
 * This is a hand-written rule engine (no library does this).  It reads a
 * statement as lines in sections (APPS "-----Input-----" headers, LeetCode
 * "Example 1:" and "Constraints:"), finds bounds ("1 \le n \le 10^5",
 * "1 <= n <= 100", "(2 ≤ n, m ≤ 2 500)") and condition sentences, and
 * replaces byte spans.  Every span starts and ends on an ASCII byte, so a
 * multi-byte UTF-8 character is never split.  Each choice comes from a
 * generator seeded with FNV-1a of the statement, the category and the seed:
 * the same request always gets the same reply.
 *
 * Stage 2 recomputes stage 1 for the same statement, category and seed; when
 * that gives the rewritten problem it knows exactly what was edited,
 * otherwise it compares the two texts line by line.  Candidate questions
 * that would quote four consecutive words the rewrite took out, or that
 * speak of an earlier text, are replaced by more generic ones.
 */
#include <stdlib.h>
#include <string.h>

#include "provider.h"

#define MAX_EDITS 6
#define MAX_QUESTIONS 4
#define LEAK_RUN 4

/* ---- bytes ------------------------------------------------------------ */

static int is_digit(int c)
{
	return c >= '0' && c <= '9';
}

static int is_alpha(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int is_alnum(int c)
{
	return is_digit(c) || is_alpha(c);
}

static int lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

static int upper(int c)
{
	return c >= 'a' && c <= 'z' ? c - 32 : c;
}

static unsigned char at(const char *p, size_t i, size_t n)
{
	return i < n ? (unsigned char)p[i] : 0;
}

/* Bytes of the white space at p[i]: ASCII blanks and U+00A0. */
static size_t space_len(const char *p, size_t i, size_t n)
{
	unsigned char c = at(p, i, n);

	if (c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f')
		return 1;
	if (c == 0xc2 && at(p, i + 1, n) == 0xa0)
		return 2;
	return 0;
}

/* A byte of a word: ASCII letters, digits, '_' and every byte of a
 * multi-byte character, so that a word never ends inside a character. */
static int is_wordc(int c)
{
	return is_alnum(c) || c == '_' || c >= 0x80;
}

/* Is the character that ends just before p[i] part of a word? */
static int word_before(const char *p, size_t i)
{
	if (i == 0)
		return 0;
	if (i >= 2 && (unsigned char)p[i - 2] == 0xc2 && (unsigned char)p[i - 1] == 0xa0)
		return 0;
	return is_wordc((unsigned char)p[i - 1]);
}

static int word_after(const char *p, size_t i, size_t n)
{
	return i < n && !space_len(p, i, n) && is_wordc((unsigned char)p[i]);
}

/* ASCII case-insensitive comparisons of n bytes. */
static int eq_ci(const char *a, const char *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (lower((unsigned char)a[i]) != lower((unsigned char)b[i]))
			return 0;
	return 1;
}

static int same_ci(const char *p, size_t n, const char *s)
{
	return strlen(s) == n && eq_ci(p, s, n);
}

static int starts_ci(const char *p, size_t n, const char *s)
{
	size_t m = strlen(s);

	return m <= n && eq_ci(p, s, m);
}

static int contains_ci(const char *p, size_t n, const char *s)
{
	size_t m = strlen(s);

	for (size_t i = 0; i + m <= n; i++)
		if (eq_ci(p + i, s, m))
			return 1;
	return 0;
}

/* The length of phrase s at p[i] as whole words (case-insensitive), or 0. */
static size_t phrase_at(const char *p, size_t i, size_t n, const char *s)
{
	size_t m = strlen(s);

	if (m > n - i || !eq_ci(p + i, s, m))
		return 0;
	if (is_wordc((unsigned char)s[0]) && word_before(p, i))
		return 0;
	if (is_wordc((unsigned char)s[m - 1]) && word_after(p, i + m, n))
		return 0;
	return m;
}

/* Occurrences of the whole-word phrase s in p[0..n). */
static size_t count_phrase(const char *p, size_t n, const char *s)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++)
		if (phrase_at(p, i, n, s))
			k++;
	return k;
}

static int has_digit(const char *p, size_t a, size_t b)
{
	for (size_t i = a; i < b; i++)
		if (is_digit((unsigned char)p[i]))
			return 1;
	return 0;
}

/* Cut s (of length len) so it does not end inside a UTF-8 character. */
static void u8_cut(char *s, size_t len)
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
static void copy_text(char *out, size_t cap, const char *p, size_t n)
{
	if (n >= cap) {
		memcpy(out, p, cap - 1);
		u8_cut(out, cap - 1);
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

static size_t rng_pick(uint64_t *s, size_t n)
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
static size_t op_at(const char *p, size_t i, size_t n)
{
	for (size_t k = 0; k < CL_ARRAY_SIZE(cmp_ops); k++) {
		const char *o = cmp_ops[k];
		size_t m = strlen(o);
		int prev, next, next2;

		if (m > n - i || memcmp(p + i, o, m) != 0)
			continue;
		if (o[0] == '\\' && is_alpha(at(p, i + m, n)))
			continue; /* \left, \ler... */
		if (m == 1) {
			prev = i ? (unsigned char)p[i - 1] : ' ';
			next = at(p, i + 1, n);
			next2 = at(p, i + 2, n);
			if (o[0] == '<') {
				if (next == '<' || next == '-' || next == '/' || next == '!' ||
				    prev == '<' || next == '>')
					return 0;
				/* "<b>", "<sup>": markup, not a comparison */
				if (is_alpha(next) && (is_alpha(next2) || next2 == '>'))
					return 0;
			} else {
				if (prev == '-' || prev == '=' || prev == '>' || prev == '<' ||
				    next == '>')
					return 0;
				if (!(next == ' ' || next == 0 || is_digit(next) || next == '$' ||
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
	return is_wordc(c) || c == '.' || c == '[' || c == ']' || c == '{' || c == '}' ||
	       c == '^' || c == '|' || c == '\'' || c == '-';
}

/* Has p[a..b) a digit and, once LaTeX commands are dropped, no letter
 * (a number such as "10^{18}", "2 \cdot 10^5", "-10^9", "1e9")? */
static int numeric(const char *p, size_t a, size_t b)
{
	int digit = 0;

	for (size_t i = a; i < b; i++) {
		unsigned char c = (unsigned char)p[i];

		if (c == '\\') {
			while (i + 1 < b && is_alpha(at(p, i + 1, b)))
				i++;
			continue;
		}
		if (is_digit(c))
			digit = 1;
		else if (c == 'e' && i > a && is_digit(at(p, i - 1, b)) &&
			 is_digit(at(p, i + 1, b)))
			continue;
		else if (is_alpha(c) || c >= 0x80)
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
			if (space_len(p, k, e) || op_at(p, k, e))
				break;
			s = k;
			continue;
		}
		if (!operand_byte(c))
			break;
		s--;
	}
	while (s < e &&
	       (p[s] == '.' || p[s] == '\'' || (p[s] == '-' && !is_digit(at(p, s + 1, e)))))
		s++;
	return s;
}

/* The operand that starts at s, not past hi: its end. */
static size_t operand_fwd(const char *p, size_t s, size_t hi)
{
	size_t e = s;

	while (e < hi) {
		unsigned char c = (unsigned char)p[e];

		if (op_at(p, e, hi) || space_len(p, e, hi))
			break;
		if (c == '\\' && at(p, e + 1, hi) == ',' && is_digit(at(p, e + 2, hi))) {
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
static size_t skip_ws(const char *p, size_t i, size_t n)
{
	while (i < n && space_len(p, i, n))
		i += space_len(p, i, n);
	return i;
}

/* Past the blanks at p[i] on the same line. */
static size_t skip_sp(const char *p, size_t i, size_t hi)
{
	while (i < hi && p[i] != '\n' && space_len(p, i, hi))
		i += space_len(p, i, hi);
	return i;
}

/* A number goes on: "2 \cdot 10^5", "2 500", "10^9 + 7". */
static size_t numeric_more(const char *p, size_t e, size_t hi)
{
	static const char *const times[] = { "\\cdot", "\\times", "\xc2\xb7", "\xc3\x97", "*" };

	for (;;) {
		size_t k = skip_sp(p, e, hi), m = 0, t;

		for (size_t j = 0; j < CL_ARRAY_SIZE(times) && !m; j++)
			if (starts_ci(p + k, hi - k, times[j]))
				m = strlen(times[j]);
		if (!m && (at(p, k, hi) == '+' || at(p, k, hi) == '-') && k > e)
			m = 1;
		if (m) {
			t = skip_sp(p, k + m, hi);
			if (!is_digit(at(p, t, hi)))
				return e;
			e = operand_fwd(p, t, hi);
			continue;
		}
		if (k == e + 1 && p[e] == ' ' && is_digit(at(p, e - 1, hi)) &&
		    is_digit(at(p, k, hi)) && is_digit(at(p, k + 1, hi)) &&
		    is_digit(at(p, k + 2, hi)) && !is_wordc(at(p, k + 3, hi))) {
			e = k + 3; /* 2 500 */
			continue;
		}
		return e;
	}
}

/* "a op b op c": where each operand starts and ends. */
struct chain {
	size_t a[5], b[5];
	size_t na;
};

static int chain_at(const char *p, size_t lo, size_t hi, size_t i, struct chain *c)
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
		if (t == j || numeric(p, t, j) || j - t > 12)
			break;
		s = t;
	}
	c->a[0] = s;
	c->b[0] = e;
	c->na = 1;
	for (;;) {
		size_t r0, r1, k;

		m = op_at(p, pos, hi);
		if (!m || c->na >= CL_ARRAY_SIZE(c->a))
			break;
		r0 = skip_sp(p, pos + m, hi);
		if (at(p, r0, hi) == '-' && is_digit(at(p, r0 + 1, hi)))
			r1 = operand_fwd(p, r0 + 1, hi);
		else
			r1 = operand_fwd(p, r0, hi);
		if (r1 == r0)
			break;
		if (numeric(p, r0, r1))
			r1 = numeric_more(p, r1, hi);
		/* "0 <= a, b <= 1000": a list before the next operator */
		for (k = r1; at(p, k, hi) == ',';) {
			size_t t0 = skip_sp(p, k + 1, hi), t1 = operand_fwd(p, t0, hi);

			if (t1 == t0 || !op_at(p, skip_sp(p, t1, hi), hi))
				break;
			r1 = k = t1;
		}
		c->a[c->na] = r0;
		c->b[c->na] = r1;
		c->na++;
		pos = skip_sp(p, r1, hi);
	}
	return c->na >= 2;
}

static int chain_has_number(const char *p, const struct chain *c)
{
	for (size_t k = 0; k < c->na; k++)
		if (numeric(p, c->a[k], c->b[k]))
			return 1;
	return 0;
}

/* Math as a reader says it: no '$', braces or LaTeX commands. */
static void clean_math(const char *p, size_t n, char *out, size_t cap)
{
	size_t o = 0;

	for (size_t i = 0; i < n && o + 4 < cap; i++) {
		unsigned char c = (unsigned char)p[i];

		if (c == '$' || c == '{' || c == '}')
			continue;
		if (c == '\\') {
			size_t k = i + 1;

			while (k < n && is_alpha(at(p, k, n)))
				k++;
			if (k - i - 1 >= 3 && (starts_ci(p + i, n - i, "\\ldots") ||
					       starts_ci(p + i, n - i, "\\dots"))) {
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
		if (space_len(p, i, n)) {
			if (o && out[o - 1] != ' ')
				out[o++] = ' ';
			i += space_len(p, i, n) - 1;
			continue;
		}
		out[o++] = (char)c;
	}
	while (o && (out[o - 1] == ' ' || out[o - 1] == ','))
		o--;
	out[o] = '\0';
	u8_cut(out, o);
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
		copy_text(var, cap, out, o);
}

/* The quantity a chain is about: its first operand that is not a number. */
static void chain_var(const char *p, const struct chain *c, char *var, size_t cap, char *raw,
		      size_t rawcap, int *plural)
{
	size_t spaces = 0;

	var[0] = '\0';
	if (raw)
		raw[0] = '\0';
	*plural = 0;
	for (size_t k = 0; k < c->na; k++) {
		if (numeric(p, c->a[k], c->b[k]))
			continue;
		clean_math(p + c->a[k], c->b[k] - c->a[k], var, cap);
		if (raw)
			copy_text(raw, rawcap, p + c->a[k], c->b[k] - c->a[k]);
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

/* ---- the statement: lines in sections ----------------------------------- */

enum sec {
	SEC_STMT, SEC_INPUT, SEC_OUTPUT, SEC_CONSTR, /* prose the rules may edit */
	SEC_HEADER, SEC_EXAMPLE, SEC_EX_IN, SEC_EX_OUT, SEC_NOTE, SEC_EXPL, SEC_CODE,
};

struct line {
	size_t off, len; /* without the '\n' */
	size_t end;      /* past the '\n' */
	int sec;
	int ex;          /* the example it belongs to, from 1 */
	int exline;      /* its data line in the example's output, from 1 */
};

struct doc {
	const char *p;
	size_t n;
	struct line *lines;
	size_t nlines;
	int nex;
	int leetcode;    /* "Example 1:" layout */
	unsigned char *url; /* 1 for bytes of a URL */
};

enum hdr {
	H_NONE, H_STMT, H_INPUT, H_OUTPUT, H_CONSTR, H_EXAMPLE, H_EX_IN, H_EX_OUT, H_NOTE,
	H_LC_EXAMPLE, H_LC_NOTE, H_PLAIN_IN, H_PLAIN_OUT, H_EXPL, H_IN_INLINE, H_OUT_INLINE,
	H_EXPL_INLINE, H_FOLLOW,
};

static int editable(int sec)
{
	return sec == SEC_STMT || sec == SEC_INPUT || sec == SEC_OUTPUT || sec == SEC_CONSTR;
}

static int in_example(int sec)
{
	return sec == SEC_EXAMPLE || sec == SEC_EX_IN || sec == SEC_EX_OUT || sec == SEC_EXPL;
}

static void trim(const char *p, size_t *a, size_t *b)
{
	*a = skip_ws(p, *a, *b);
	while (*b > *a) {
		if (*b - *a >= 2 && (unsigned char)p[*b - 2] == 0xc2 &&
		    (unsigned char)p[*b - 1] == 0xa0)
			*b -= 2;
		else if (space_len(p, *b - 1, *b) == 1)
			*b -= 1;
		else
			break;
	}
}

/* Is t a line of text after "Input:" / "Output:"? */
static int inline_after(const char *t, size_t n, const char *label)
{
	size_t m = strlen(label), a, b;

	if (!starts_ci(t, n, label))
		return 0;
	a = m;
	b = n;
	trim(t, &a, &b);
	return b > a;
}

static int header_kind(const char *t, size_t n)
{
	size_t m, b;

	if (n >= 6 && memcmp(t, "---", 3) == 0 && memcmp(t + n - 3, "---", 3) == 0) {
		const char *s = t;

		m = n;
		while (m && (*s == '-' || *s == ' ')) {
			s++;
			m--;
		}
		while (m && (s[m - 1] == '-' || s[m - 1] == ' '))
			m--;
		if (m == 0)
			return H_NONE;
		if (contains_ci(s, m, "sample input") || contains_ci(s, m, "example input") ||
		    contains_ci(s, m, "input example"))
			return H_EX_IN;
		if (contains_ci(s, m, "sample output") || contains_ci(s, m, "example output") ||
		    contains_ci(s, m, "output example"))
			return H_EX_OUT;
		if (contains_ci(s, m, "example") || contains_ci(s, m, "sample"))
			return H_EXAMPLE;
		if (contains_ci(s, m, "input"))
			return H_INPUT;
		if (contains_ci(s, m, "output"))
			return H_OUTPUT;
		if (contains_ci(s, m, "constraint"))
			return H_CONSTR;
		if (contains_ci(s, m, "note") || contains_ci(s, m, "explanation"))
			return H_NOTE;
		return H_STMT;
	}
	if (inline_after(t, n, "input:"))
		return H_IN_INLINE;
	if (inline_after(t, n, "output:"))
		return H_OUT_INLINE;
	if (inline_after(t, n, "explanation:"))
		return H_EXPL_INLINE;
	if (starts_ci(t, n, "follow up") || starts_ci(t, n, "follow-up"))
		return H_FOLLOW;
	if (n > 32)
		return H_NONE;
	m = n;
	while (m && (t[m - 1] == ':' || t[m - 1] == ' '))
		m--;
	b = m;
	while (b && (is_digit((unsigned char)t[b - 1]) || t[b - 1] == ' '))
		b--;
	if (same_ci(t, b, "example") || same_ci(t, b, "examples"))
		return H_LC_EXAMPLE;
	if (same_ci(t, m, "constraints") || same_ci(t, m, "constraint"))
		return H_CONSTR;
	if (same_ci(t, m, "note") || same_ci(t, m, "notes"))
		return H_LC_NOTE;
	if (same_ci(t, b, "sample input") || same_ci(t, b, "example input"))
		return H_EX_IN;
	if (same_ci(t, b, "sample output") || same_ci(t, b, "example output"))
		return H_EX_OUT;
	if (same_ci(t, m, "input") || same_ci(t, m, "input format"))
		return H_PLAIN_IN;
	if (same_ci(t, m, "output") || same_ci(t, m, "output format"))
		return H_PLAIN_OUT;
	if (same_ci(t, m, "explanation"))
		return H_EXPL;
	return H_NONE;
}

/* Enough words to be a sentence rather than data? */
static int looks_prose(const char *t, size_t n)
{
	int words = 0;

	for (size_t i = 0; i < n;) {
		size_t k = i;

		while (k < n && is_alpha((unsigned char)t[k]))
			k++;
		if (k - i >= 3)
			words++;
		i = k > i ? k : i + 1;
	}
	return words >= 3;
}

static void mark_urls(struct doc *d)
{
	for (size_t i = 0; i < d->n; i++) {
		size_t e;

		if (!starts_ci(d->p + i, d->n - i, "http://") &&
		    !starts_ci(d->p + i, d->n - i, "https://") &&
		    !starts_ci(d->p + i, d->n - i, "www."))
			continue;
		e = i;
		while (e < d->n && !space_len(d->p, e, d->n) && d->p[e] != ')' && d->p[e] != ']')
			e++;
		memset(d->url + i, 1, e - i);
		i = e;
	}
}

struct parse_state {
	int sec, ex, exline, gap, code, pending;
};

static void classify(struct doc *d, struct line *l, struct parse_state *st)
{
	size_t a = l->off, b = l->off + l->len;
	const char *t;
	size_t tn;
	int h, ctx = in_example(st->sec) || (st->sec == SEC_NOTE && st->ex > 0);

	trim(d->p, &a, &b);
	t = d->p + a;
	tn = b - a;
	if (tn >= 3 && memcmp(t, "```", 3) == 0) {
		st->code = !st->code;
		l->sec = SEC_CODE;
		return;
	}
	if (st->code) {
		l->sec = SEC_CODE;
		return;
	}
	h = tn ? header_kind(t, tn) : H_NONE;
	l->sec = SEC_HEADER;
	switch (h) {
	case H_STMT: st->sec = SEC_STMT; return;
	case H_INPUT: st->sec = SEC_INPUT; return;
	case H_OUTPUT: st->sec = SEC_OUTPUT; return;
	case H_CONSTR: st->sec = SEC_CONSTR; return;
	case H_LC_NOTE: st->sec = ctx || d->leetcode ? SEC_CONSTR : SEC_STMT; return;
	case H_NOTE: st->sec = SEC_NOTE; return;
	case H_EXAMPLE: st->sec = SEC_EXAMPLE; return;
	case H_LC_EXAMPLE:
		st->sec = SEC_EXAMPLE;
		st->ex++;
		st->pending = 1;
		d->leetcode = 1;
		return;
	case H_EX_IN:
		st->sec = SEC_EX_IN;
		st->ex++;
		st->pending = 0;
		return;
	case H_EX_OUT:
		st->sec = SEC_EX_OUT;
		if (!st->ex)
			st->ex = 1;
		st->exline = 0;
		st->gap = 0;
		return;
	case H_PLAIN_IN:
		if (ctx) {
			if (!st->pending)
				st->ex++;
			st->pending = 0;
			st->sec = SEC_EX_IN;
		} else {
			st->sec = SEC_INPUT;
		}
		return;
	case H_PLAIN_OUT:
		if (ctx) {
			st->sec = SEC_EX_OUT;
			if (!st->ex)
				st->ex = 1;
			st->exline = 0;
			st->gap = 0;
		} else {
			st->sec = SEC_OUTPUT;
		}
		return;
	case H_EXPL:
		st->sec = ctx ? SEC_EXPL : SEC_NOTE;
		return;
	case H_FOLLOW:
		st->sec = SEC_NOTE;
		l->sec = SEC_NOTE;
		return;
	case H_IN_INLINE:
		if (ctx || d->leetcode) {
			if (!st->pending || st->sec == SEC_EX_OUT)
				st->ex++;
			st->pending = 0;
			st->sec = SEC_EX_IN;
			l->sec = SEC_EX_IN;
			l->ex = st->ex;
		} else {
			st->sec = SEC_INPUT;
			l->sec = SEC_INPUT;
		}
		return;
	case H_OUT_INLINE:
		if (ctx || d->leetcode) {
			st->sec = SEC_EX_OUT;
			if (!st->ex)
				st->ex = 1;
			st->exline = 1;
			st->gap = 0;
			l->sec = SEC_EX_OUT;
			l->ex = st->ex;
			l->exline = 1;
		} else {
			st->sec = SEC_OUTPUT;
			l->sec = SEC_OUTPUT;
		}
		return;
	case H_EXPL_INLINE:
		st->sec = ctx || d->leetcode ? SEC_EXPL : SEC_NOTE;
		l->sec = st->sec;
		l->ex = st->ex;
		return;
	default:
		break;
	}
	if (st->sec == SEC_EX_OUT) {
		if (!tn) {
			if (st->exline)
				st->gap = 1;
		} else if ((st->gap || d->leetcode) && st->exline && looks_prose(t, tn)) {
			st->sec = d->leetcode ? SEC_EXPL : SEC_NOTE;
		} else {
			st->exline++;
			l->exline = st->exline;
		}
	} else if (st->sec == SEC_EXPL && d->leetcode && tn && starts_ci(t, tn, "note:")) {
		st->sec = SEC_CONSTR;
	}
	l->sec = st->sec;
	l->ex = in_example(st->sec) || st->sec == SEC_NOTE ? st->ex : 0;
}

static void doc_release(struct doc *d)
{
	free(d->lines);
	free(d->url);
	memset(d, 0, sizeof(*d));
}

static int doc_parse(struct doc *d, const char *p, size_t n)
{
	struct parse_state st = { SEC_STMT, 0, 0, 0, 0, 0 };
	size_t cap = 1, start = 0;

	memset(d, 0, sizeof(*d));
	d->p = p;
	d->n = n;
	for (size_t i = 0; i < n; i++)
		cap += p[i] == '\n';
	d->lines = calloc(cap, sizeof(*d->lines));
	d->url = calloc(n + 1, 1);
	if (!d->lines || !d->url) {
		doc_release(d);
		return CL_ENOMEM;
	}
	mark_urls(d);
	for (;;) {
		size_t e = start;
		struct line *l;

		while (e < n && p[e] != '\n')
			e++;
		l = &d->lines[d->nlines++];
		l->off = start;
		l->len = e - start;
		l->end = e < n ? e + 1 : e;
		classify(d, l, &st);
		if (l->ex > d->nex)
			d->nex = l->ex;
		if (e >= n)
			break;
		start = e + 1;
	}
	return 0;
}

static int line_blank(const struct doc *d, size_t li)
{
	size_t a = d->lines[li].off, b = a + d->lines[li].len;

	trim(d->p, &a, &b);
	return a == b;
}

/* The example that owns line li: its number of output data lines. */
static int output_lines(const struct doc *d, size_t li)
{
	int k = 0;
	size_t j = li;

	while (j > 0 && d->lines[j - 1].sec == SEC_EX_OUT && d->lines[j - 1].ex == d->lines[li].ex)
		j--;
	for (; j < d->nlines && (d->lines[j].sec == SEC_EX_OUT || line_blank(d, j)) &&
	       d->lines[j].ex == d->lines[li].ex; j++)
		if (d->lines[j].exline > k)
			k = d->lines[j].exline;
	return k;
}

/* ---- sentences ------------------------------------------------------------ */

/* The end of the sentence that starts at s (past its full stop). */
static size_t sentence_end(const char *p, size_t s, size_t e)
{
	static const char *const abbrev[] = {
		"e.g", "i.e", "etc", "vs", "Mr", "Mrs", "Dr", "St", "cf",
	};

	for (size_t i = s; i < e; i++) {
		size_t k, w;
		unsigned char c = (unsigned char)p[i], nx;

		if (c != '.' && c != '!' && c != '?')
			continue;
		if (i + 1 < e && !space_len(p, i + 1, e))
			continue;
		k = skip_sp(p, i + 1, e);
		nx = at(p, k, e);
		if (k < e && !(nx >= 'A' && nx <= 'Z') && nx != '$' && !is_digit(nx) && nx != '(' &&
		    nx != '"' && nx != '*' && nx != '`' && nx < 0x80)
			continue;
		w = i;
		while (w > s && (is_alpha((unsigned char)p[w - 1]) || p[w - 1] == '.'))
			w--;
		for (size_t a = 0; a < CL_ARRAY_SIZE(abbrev) && c == '.'; a++)
			if (i - w == strlen(abbrev[a]) && memcmp(p + w, abbrev[a], i - w) == 0)
				goto next;
		return i + 1;
next:
		;
	}
	return e;
}

struct sent {
	size_t off, len, line;
	int first; /* the statement's first sentence */
};

struct sents {
	struct sent *v;
	size_t n, cap;
};

static int sents_add(struct sents *s, size_t off, size_t len, size_t line)
{
	if (ARRAY_GROW(s->v, s->cap, s->n, 32))
		return CL_ENOMEM;
	s->v[s->n].off = off;
	s->v[s->n].len = len;
	s->v[s->n].line = line;
	s->v[s->n].first = s->n == 0;
	s->n++;
	return 0;
}

static int split_sentences(const struct doc *d, struct sents *out)
{
	for (size_t li = 0; li < d->nlines; li++) {
		const struct line *l = &d->lines[li];
		size_t a = l->off, b = l->off + l->len;

		if (!editable(l->sec))
			continue;
		trim(d->p, &a, &b);
		while (a < b) {
			size_t e = sentence_end(d->p, a, b);
			size_t ta = a, tb = e;
			int rc;

			trim(d->p, &ta, &tb);
			if (tb > ta) {
				rc = sents_add(out, ta, tb - ta, li);
				if (rc)
					return rc;
			}
			a = skip_sp(d->p, e, b);
		}
	}
	return 0;
}

static int words_in(const char *p, size_t n)
{
	int w = 0;

	for (size_t i = 0; i < n;) {
		size_t k = i;

		while (k < n && is_alpha((unsigned char)p[k]))
			k++;
		if (k - i >= 2)
			w++;
		i = k > i ? k : i + 1;
	}
	return w;
}

/* The span that removes a sentence with its spacing, or its whole line. */
static void sentence_drop_span(const struct doc *d, const struct sent *s, size_t *off, size_t *len)
{
	const struct line *l = &d->lines[s->line];
	size_t a = l->off, b = l->off + l->len, e = s->off + s->len, k;

	trim(d->p, &a, &b);
	if (s->off == a && e == b) {
		*off = l->off;
		*len = l->end - l->off;
		/* no double blank line where it was */
		if ((s->line == 0 || line_blank(d, s->line - 1)) && s->line + 1 < d->nlines &&
		    line_blank(d, s->line + 1))
			*len = d->lines[s->line + 1].end - l->off;
		return;
	}
	if (e < b) {
		k = skip_sp(d->p, e, b);
		*off = s->off;
		*len = k - s->off;
		return;
	}
	k = s->off;
	while (k > a && space_len(d->p, k - 1, b) == 1)
		k--;
	*off = k;
	*len = e - k;
}

/* ---- edits ---------------------------------------------------------------- */

enum edit_kind {
	EK_DROP_BOUND, EK_DROP_SENT, EK_DROP_GENERIC,
	EK_VAGUE_BOUND, EK_VAGUE_ATMOST, EK_VAGUE_ATLEAST, EK_VAGUE_SORTED, EK_VAGUE_EXACTLY,
	EK_VAGUE_DISTINCT, EK_VAGUE_BEST, EK_VAGUE_MODULO, EK_VAGUE_LEX, EK_VAGUE_INDEXED,
	EK_VAGUE_INTEGER, EK_VAGUE_CASE, EK_VAGUE_SIGN, EK_VAGUE_VALUE, EK_VAGUE_GENERIC,
	EK_CONFLICT_OUTPUT, EK_CONFLICT_NOTE, EK_CONFLICT_BOUND, EK_CONFLICT_VALUE,
	EK_CONFLICT_APPEND, EK_CONFLICT_GENERIC,
};

/* What a condition sentence is about. */
enum kw {
	KW_NONE, KW_GUAR_ANSWER, KW_GUAR, KW_MOD, KW_DISTINCT, KW_LIMIT, KW_ORDER, KW_IF,
	KW_EACH, KW_REL,
};

/* Which extreme "best" hides. */
enum fam { FAM_MINMAX, FAM_SIZE, FAM_LENGTH, FAM_COUNT };

struct edit {
	int kind;
	int cls;          /* KW_* for EK_DROP_SENT, FAM_* for EK_VAGUE_BEST, ... */
	int ex, exline, exlines, nex, leetcode;
	int plural;
	char var[64];     /* the quantity, "" when unknown */
	char what[64];    /* the words the text has now */
	char from[64];    /* the words it had (for the reasoning only) */
};

struct span {
	size_t off, len;
	char repl[160];
};

struct spans {
	struct span *v;
	size_t n, cap;
};

/* Add a replacement unless it overlaps one already there: 0 added, 1 not. */
static int spans_add(struct spans *s, size_t off, size_t len, const char *repl)
{
	for (size_t i = 0; i < s->n; i++)
		if (off < s->v[i].off + s->v[i].len + (s->v[i].len == 0) &&
		    s->v[i].off < off + len + (len == 0))
			return 1;
	if (ARRAY_GROW(s->v, s->cap, s->n, 16))
		return CL_ENOMEM;
	s->v[s->n].off = off;
	s->v[s->n].len = len;
	copy_text(s->v[s->n].repl, sizeof(s->v[s->n].repl), repl, strlen(repl));
	s->n++;
	return 0;
}

/* Does any replacement touch p[a..b)? */
static int spans_touch(const struct spans *s, size_t a, size_t b)
{
	for (size_t i = 0; i < s->n; i++)
		if (a <= s->v[i].off + s->v[i].len && s->v[i].off <= b)
			return 1;
	return 0;
}

static int span_cmp(const void *a, const void *b)
{
	const struct span *x = a, *y = b;

	return x->off < y->off ? -1 : x->off > y->off;
}

static int spans_apply(struct spans *s, const char *p, size_t n, struct buf *out)
{
	size_t pos = 0;
	int rc;

	qsort(s->v, s->n, sizeof(*s->v), span_cmp);
	for (size_t i = 0; i < s->n; i++) {
		rc = buf_add(out, p + pos, s->v[i].off - pos);
		if (rc)
			return rc;
		rc = buf_adds(out, s->v[i].repl);
		if (rc)
			return rc;
		pos = s->v[i].off + s->v[i].len;
	}
	return buf_add(out, p + pos, n - pos);
}

struct rewrite {
	struct buf text;  /* the rewritten problem */
	struct buf why;   /* the reasoning */
	struct edit e[MAX_EDITS];
	int ne;
};

static struct edit *edit_new(struct rewrite *w, int kind)
{
	struct edit *e;

	if (w->ne >= MAX_EDITS)
		return NULL;
	e = &w->e[w->ne++];
	memset(e, 0, sizeof(*e));
	e->kind = kind;
	return e;
}

/* ---- what a piece of text is about -------------------------------------- */

/* Identifier-like names in p[0..n): math between '$', `code`, "a_i", "n". */
static void text_vars(const char *p, size_t n, char *out, size_t cap)
{
	char names[3][24];
	size_t nn = 0, o = 0;
	int math = 0, code = 0;

	out[0] = '\0';
	for (size_t i = 0; i < n && nn < 3;) {
		unsigned char c = (unsigned char)p[i];
		size_t e = i, len;
		int ok;

		if (c == '$') {
			math = !math;
			i++;
			continue;
		}
		if (c == '`') {
			code = !code;
			i++;
			continue;
		}
		if (c == '\\') { /* a LaTeX command is not a name */
			i++;
			while (i < n && is_alpha(at(p, i, n)))
				i++;
			continue;
		}
		if (!is_alpha(c)) {
			i++;
			continue;
		}
		while (e < n && (is_alnum(at(p, e, n)) || p[e] == '_' ||
				 ((p[e] == '{' || p[e] == '}') && math)))
			e++;
		len = e - i;
		ok = 0;
		if (math || code)
			ok = len <= 12;
		else if (len == 1)
			ok = c != 'a' && c != 'A' && c != 'I';
		else if (memchr(p + i, '_', len))
			ok = len <= 12;
		else if (len <= 3 && is_digit(at(p, e - 1, n)))
			ok = 1; /* x1, a2 */
		if (i > 0 && (p[i - 1] == '\'' || p[i - 1] == '-' || word_before(p, i)))
			ok = 0;
		if (at(p, e, n) == '-' || at(p, e, n) == '\'' || (at(p, e, n) == '(' && !math))
			ok = 0;
		if (ok) {
			char name[24];
			size_t k = 0;
			int dup = 0;

			for (size_t j = i; j < e && k + 1 < sizeof(name); j++)
				if (p[j] != '{' && p[j] != '}')
					name[k++] = p[j];
			name[k] = '\0';
			for (size_t j = 0; j < nn; j++)
				dup |= strcmp(names[j], name) == 0;
			if (!dup && k)
				memcpy(names[nn++], name, k + 1);
		}
		i = e;
	}
	for (size_t j = 0; j < nn; j++) {
		const char *sep = j == 0 ? "" : j + 1 == nn ? " and " : ", ";
		size_t need = strlen(sep) + strlen(names[j]);

		if (o + need + 1 > cap)
			break;
		memcpy(out + o, sep, strlen(sep));
		o += strlen(sep);
		memcpy(out + o, names[j], strlen(names[j]));
		o += strlen(names[j]);
		out[o] = '\0';
	}
}

/* What a condition sentence is about, and how much it matters (2 high). */
static int classify_condition(const char *p, size_t n, int *cls)
{
	static const struct {
		const char *w;
		int cls, tier;
	} kw[] = {
		{ "guaranteed", KW_GUAR, 2 }, { "guarantee", KW_GUAR, 2 },
		{ "guarantees", KW_GUAR, 2 }, { "modulo", KW_MOD, 2 }, { "mod", KW_MOD, 2 },
		{ "distinct", KW_DISTINCT, 2 }, { "unique", KW_DISTINCT, 2 },
		{ "pairwise", KW_DISTINCT, 2 }, { "at most", KW_LIMIT, 2 },
		{ "at least", KW_LIMIT, 2 }, { "no more than", KW_LIMIT, 2 },
		{ "not exceed", KW_LIMIT, 2 }, { "no less than", KW_LIMIT, 2 },
		{ "sorted", KW_ORDER, 2 }, { "increasing", KW_ORDER, 2 },
		{ "decreasing", KW_ORDER, 2 }, { "if", KW_IF, 3 }, { "each", KW_EACH, 3 },
		{ "every", KW_EACH, 3 }, { "must", KW_NONE, 3 }, { "only", KW_NONE, 3 },
	};

	for (size_t k = 0; k < CL_ARRAY_SIZE(kw); k++) {
		if (!count_phrase(p, n, kw[k].w))
			continue;
		*cls = kw[k].cls;
		if (*cls == KW_GUAR &&
		    (contains_ci(p, n, "answer") || contains_ci(p, n, "exist") ||
		     contains_ci(p, n, "solution") || contains_ci(p, n, "possible")))
			*cls = KW_GUAR_ANSWER;
		return kw[k].tier;
	}
	*cls = KW_NONE;
	return 0;
}

/* ---- bounds --------------------------------------------------------------- */

enum bound_kind { B_LINE, B_PAREN, B_MATH, B_INLINE };
enum amb_form { AMB_NONE, AMB_PAREN, AMB_LINE, AMB_MATH, AMB_CLAUSE };

struct bound {
	int kind;
	size_t line;
	size_t drop_off, drop_len;  /* what incomplete takes out (len 0: see sentence) */
	int drop_sentence;
	size_t amb_off, amb_len;    /* what ambiguous replaces */
	int amb;
	char var[64];               /* for questions: every name it bounds */
	char cvar[64];              /* the first chain's quantity */
	char raw[64];               /* the same as written, for the text */
	int plural, cplural;
	size_t up_off, up_len;      /* a plain upper bound: the last operand */
	size_t lo_off, lo_len;      /* and the first */
	int first_line_bound;       /* the first bound of a "first line" sentence */
};

struct bounds {
	struct bound *v;
	size_t n, cap;
};

static struct bound *bounds_new(struct bounds *b)
{
	if (ARRAY_GROW(b->v, b->cap, b->n, 16))
		return NULL;
	memset(&b->v[b->n], 0, sizeof(b->v[0]));
	return &b->v[b->n++];
}

/* "where", "such that", ", with": the start of the clause before pos, or pos. */
static size_t clause_start(const char *p, size_t lo, size_t pos)
{
	static const char *const conn[] = { "where", "such that", "so that", "with", "satisfying",
					    "for", "and", "if" };
	size_t j = pos;

	while (j > lo && p[j - 1] == ' ')
		j--;
	for (size_t k = 0; k < CL_ARRAY_SIZE(conn); k++) {
		size_t m = strlen(conn[k]);

		if (j - lo < m || !phrase_at(p, j - m, pos, conn[k]))
			continue;
		j -= m;
		while (j > lo && p[j - 1] == ' ')
			j--;
		if (j > lo && p[j - 1] == ',')
			j--;
		return j;
	}
	return pos;
}

static const struct sent *sentence_of(const struct sents *ss, size_t pos)
{
	for (size_t i = 0; i < ss->n; i++)
		if (pos >= ss->v[i].off && pos < ss->v[i].off + ss->v[i].len)
			return &ss->v[i];
	return NULL;
}

/* Is p[a..b) a line that is all bound: "- 1 ≦ N ≦ 10^5", "1 <= k <= 1000"? */
static size_t bullet_len(const char *p, size_t a, size_t b)
{
	size_t k = a;

	if (k < b && (p[k] == '-' || p[k] == '*') && at(p, k + 1, b) == ' ')
		k += 2;
	else if (b - k >= 3 && memcmp(p + k, "\xe2\x80\xa2", 3) == 0)
		k += 3;
	return skip_sp(p, k, b) - a;
}

static size_t first_op(const char *p, size_t a, size_t b)
{
	for (size_t i = a; i < b; i++)
		if (op_at(p, i, b))
			return i;
	return b;
}

static int prose_words(const char *p, size_t a, size_t b)
{
	int w = 0;

	for (size_t i = a; i < b;) {
		size_t k = i;

		while (k < b && is_alpha((unsigned char)p[k]))
			k++;
		if (k - i >= 4 &&
		    !(i > a && (p[i - 1] == '.' || p[i - 1] == '\\' || p[i - 1] == '_')) &&
		    !(k < b && (p[k] == '_' || p[k] == '[' || p[k] == '(')))
			w++;
		i = k > i ? k : i + 1;
	}
	return w;
}

/* Every name bounded in p[a..b): "($1 \le n \le 100$, $-10^9 \le m \le 10^9$)"
 * gives "n and m". */
static void bounded_names(const char *p, size_t a, size_t b, char *out, size_t cap, int *plural)
{
	char names[3][24];
	size_t nn = 0, o = 0;

	out[0] = '\0';
	for (size_t i = a; i < b && nn < 3; i++) {
		struct chain c;

		if (!op_at(p, i, b) || !chain_at(p, a, b, i, &c))
			continue;
		for (size_t k = 0; k < c.na && nn < 3; k++) {
			char v[64], *t, *save = NULL;

			if (numeric(p, c.a[k], c.b[k]))
				continue;
			if (c.na >= 3 && (k == 0 || k + 1 == c.na))
				continue; /* in "1 <= j <= n", n is the bound, j the quantity */
			clean_math(p + c.a[k], c.b[k] - c.a[k], v, sizeof(v));
			for (t = strtok_r(v, ", ", &save); t && nn < 3;
			     t = strtok_r(NULL, ", ", &save)) {
				int dup = 0;

				if (strlen(t) >= sizeof(names[0]) || strcmp(t, "and") == 0)
					continue;
				for (size_t j = 0; j < nn; j++)
					dup |= strcmp(names[j], t) == 0;
				if (!dup)
					memcpy(names[nn++], t, strlen(t) + 1);
			}
		}
		i = c.b[c.na - 1];
	}
	for (size_t j = 0; j < nn; j++) {
		const char *sep = j == 0 ? "" : j + 1 == nn ? " and " : ", ";

		if (o + strlen(sep) + strlen(names[j]) + 1 > cap)
			break;
		o += (size_t)snprintf(out + o, cap - o, "%s%s", sep, names[j]);
	}
	*plural = nn > 1;
}

static void bound_set_chain(struct bound *bd, const char *p, const struct chain *c)
{
	chain_var(p, c, bd->var, sizeof(bd->var), bd->raw, sizeof(bd->raw), &bd->plural);
	memcpy(bd->cvar, bd->var, sizeof(bd->cvar));
	bd->cplural = bd->plural;
	if (c->na >= 2 && numeric(p, c->a[c->na - 1], c->b[c->na - 1])) {
		bd->up_off = c->a[c->na - 1];
		bd->up_len = c->b[c->na - 1] - c->a[c->na - 1];
	}
	if (c->na >= 2 && numeric(p, c->a[0], c->b[0])) {
		bd->lo_off = c->a[0];
		bd->lo_len = c->b[0] - c->a[0];
	}
}

/* Conditions that are lines but not numeric bounds ("arr[i] < arr[j]"). */
struct cond {
	size_t line;
	int cls;
	char vars[64];
};

struct conds {
	struct cond *v;
	size_t n, cap;
};

static int conds_add(struct conds *c, size_t line, int cls, const char *vars)
{
	if (ARRAY_GROW(c->v, c->cap, c->n, 8))
		return CL_ENOMEM;
	c->v[c->n].line = line;
	c->v[c->n].cls = cls;
	copy_text(c->v[c->n].vars, sizeof(c->v[c->n].vars), vars, strlen(vars));
	c->n++;
	return 0;
}

static int find_line_bound(const struct doc *d, size_t li, struct bounds *bs, struct conds *cs)
{
	const struct line *l = &d->lines[li];
	const char *p = d->p;
	size_t a = l->off, b = l->off + l->len, s, o, tok;
	struct chain c;
	struct bound *bd;

	trim(p, &a, &b);
	if (a == b)
		return 0;
	s = a + bullet_len(p, a, b);
	if (at(p, s, b) == '$')
		s++;
	o = first_op(p, s, b);
	if (o == b)
		return 0;
	tok = s;
	while (tok < o && !space_len(p, tok, o))
		tok++;
	if (skip_sp(p, tok, o) != o && tok != o)
		return 0; /* the line does not start "operand op" */
	if (tok - s > 24)
		return 0;
	if (l->sec != SEC_CONSTR && prose_words(p, s, b) > 2)
		return 0;
	if (!chain_at(p, s, b, o, &c))
		return 0;
	if (!chain_has_number(p, &c)) {
		char vars[64];

		text_vars(p + s, b - s, vars, sizeof(vars));
		if (!vars[0])
			chain_var(p, &c, vars, sizeof(vars), NULL, 0, &(int){ 0 });
		return conds_add(cs, li, KW_REL, vars) ? CL_ENOMEM : 1;
	}
	bd = bounds_new(bs);
	if (!bd)
		return CL_ENOMEM;
	bd->kind = B_LINE;
	bd->line = li;
	bd->drop_off = l->off;
	bd->drop_len = l->end - l->off;
	bound_set_chain(bd, p, &c);
	if (bd->var[0]) {
		bd->amb = AMB_LINE;
		bd->amb_off = a + bullet_len(p, a, b);
		bd->amb_len = (l->off + l->len) - bd->amb_off;
		while (bd->amb_len &&
		       space_len(p, bd->amb_off + bd->amb_len - 1, l->off + l->len) == 1)
			bd->amb_len--;
	}
	return 1;
}

/* May "x > 1" that starts at pos lose its number?  Not after "such that",
 * "if", "is": there the comparison is the whole clause. */
static int droppable_pair(const char *p, size_t lo, size_t pos)
{
	static const char *const stop[] = {
		"that", "where", "if", "when", "while", "until", "whether", "is", "are", "be",
		"so", "unless", "and", "or", "with", "for", "iff", "because", "since", "as",
	};
	size_t e = pos, s;

	while (e > lo && p[e - 1] == ' ')
		e--;
	s = e;
	while (s > lo && is_alpha((unsigned char)p[s - 1]))
		s--;
	for (size_t k = 0; k < CL_ARRAY_SIZE(stop); k++)
		if (same_ci(p + s, e - s, stop[k]))
			return 0;
	return e > s; /* a word, not punctuation, comes before it */
}

static int find_bounds_in_line(const struct doc *d, size_t li, const struct sents *ss,
			       struct bounds *bs)
{
	const struct line *l = &d->lines[li];
	const char *p = d->p;
	size_t a = l->off, b = l->off + l->len;
	unsigned char *taken;
	int first_line = contains_ci(p + a, b - a, "first line");
	int rc = 0;

	taken = calloc(b - a + 1, 1);
	if (!taken)
		return CL_ENOMEM;
	/* (1 ≤ n ≤ 100), ($1 \le q \le 10^4$) */
	for (size_t i = a; i < b; i++) {
		size_t depth = 0, c, o, s;
		struct chain ch;
		struct bound *bd;

		if (p[i] != '(' || d->url[i])
			continue;
		for (c = i; c < b; c++) {
			if (p[c] == '(')
				depth++;
			else if (p[c] == ')' && --depth == 0)
				break;
		}
		if (c >= b || c - i > 160)
			continue;
		s = i + 1;
		while (s < c && (p[s] == '$' || p[s] == ' '))
			s++;
		o = first_op(p, s, c);
		if (o == c || o - s > 40 || !chain_at(p, s, c, o, &ch) || !chain_has_number(p, &ch))
			continue;
		if (ch.a[0] > s + 1)
			continue; /* "(the largest j such that p_j < 0)": not a bound */
		bd = bounds_new(bs);
		if (!bd) {
			rc = CL_ENOMEM;
			goto out;
		}
		bd->kind = B_PAREN;
		bd->line = li;
		bound_set_chain(bd, p, &ch);
		if (bd->var[0]) {
			char all[64];
			int pl;

			bounded_names(p, i + 1, c, all, sizeof(all), &pl);
			if (all[0]) {
				memcpy(bd->var, all, sizeof(bd->var));
				bd->plural = pl;
			}
		}
		if (i > a && p[i - 1] == '$' && at(p, c + 1, b) == '$') {
			i--; /* $(1 \le t \le 1000)$ */
			c++;
		}
		bd->drop_off = i;
		while (bd->drop_off > a && p[bd->drop_off - 1] == ' ')
			bd->drop_off--;
		bd->drop_len = c + 1 - bd->drop_off;
		if (bd->var[0]) {
			bd->amb = AMB_PAREN;
			bd->amb_off = i;
			bd->amb_len = c + 1 - i;
		}
		bd->first_line_bound = first_line;
		first_line = 0;
		memset(taken + (i - a), 1, c + 1 - i);
		i = c;
	}
	/* $1 \le n \le 10^5$ in a sentence */
	for (size_t i = a; i < b; i++) {
		size_t c, o;
		struct chain ch;
		struct bound *bd;
		const struct sent *se;

		if (p[i] != '$' || taken[i - a] || d->url[i])
			continue;
		if (at(p, i + 1, b) == '$') {
			i++;
			continue;
		}
		for (c = i + 1; c < b && p[c] != '$'; c++)
			;
		if (c >= b)
			break;
		for (size_t k = i; k <= c; k++)
			if (taken[k - a])
				goto next_math;
		memset(taken + (i - a), 2, c + 1 - i);
		o = first_op(p, i + 1, c);
		if (o == c || !chain_at(p, i + 1, c, o, &ch) || !chain_has_number(p, &ch)) {
			i = c;
			continue;
		}
		bd = bounds_new(bs);
		if (!bd) {
			rc = CL_ENOMEM;
			goto out;
		}
		bd->kind = B_MATH;
		bd->line = li;
		bound_set_chain(bd, p, &ch);
		if (ch.na == 2 && !droppable_pair(p, a, i)) {
			bs->n--;
			i = c;
			continue;
		}
		if (ch.na == 2) {
			if (numeric(p, ch.a[1], ch.b[1]) && !numeric(p, ch.a[0], ch.b[0])) {
				bd->drop_off = ch.b[0];
				bd->drop_len = ch.b[1] - ch.b[0];
			} else if (numeric(p, ch.a[0], ch.b[0]) && !numeric(p, ch.a[1], ch.b[1])) {
				bd->drop_off = ch.a[0];
				bd->drop_len = ch.a[1] - ch.a[0];
			} else {
				bs->n--;
				i = c;
				continue;
			}
		} else {
			size_t cs = clause_start(p, a, i);

			if (cs < i) {
				bd->drop_off = cs;
				bd->drop_len = c + 1 - cs;
			} else {
				se = sentence_of(ss, i);
				if (!se || se->first) {
					bd->drop_len = 0;
				} else {
					bd->drop_sentence = 1;
					bd->drop_off = i;
				}
			}
			if (bd->var[0] && bd->raw[0] && !strchr(bd->raw, '$')) {
				bd->amb = AMB_MATH;
				bd->amb_off = i;
				bd->amb_len = c + 1 - i;
			}
		}
		if (!bd->drop_len && !bd->drop_sentence && !bd->amb) {
			bs->n--;
		} else {
			bd->first_line_bound = first_line;
			first_line = 0;
		}
next_math:
		i = c;
	}
	/* k > 1, 0 <= a, b <= 1000 in prose */
	for (size_t i = a; i < b; i++) {
		size_t m;
		struct chain ch;
		struct bound *bd;

		if (taken[i - a] || d->url[i])
			continue;
		m = op_at(p, i, b);
		if (!m)
			continue;
		if (!chain_at(p, a, b, i, &ch) || !chain_has_number(p, &ch)) {
			i += m - 1;
			continue;
		}
		for (size_t k = ch.a[0]; k < ch.b[ch.na - 1]; k++)
			if (taken[k - a])
				goto skip;
		bd = bounds_new(bs);
		if (!bd) {
			rc = CL_ENOMEM;
			goto out;
		}
		bd->kind = B_INLINE;
		bd->line = li;
		bound_set_chain(bd, p, &ch);
		if (ch.na == 2 && !droppable_pair(p, a, ch.a[0])) {
			bs->n--;
			goto skip;
		}
		if (ch.na == 2) {
			size_t ls = ch.b[0];

			if (numeric(p, ch.a[1], ch.b[1]) && !numeric(p, ch.a[0], ch.b[0])) {
				bd->drop_off = ls;
				bd->drop_len = ch.b[1] - ls;
			} else if (numeric(p, ch.a[0], ch.b[0]) && !numeric(p, ch.a[1], ch.b[1])) {
				bd->drop_off = ch.a[0];
				bd->drop_len = ch.a[1] - ch.a[0];
			} else {
				bs->n--;
				goto skip;
			}
		} else {
			size_t cs = clause_start(p, a, ch.a[0]);
			const struct sent *se;

			if (cs < ch.a[0]) {
				bd->drop_off = cs;
				bd->drop_len = ch.b[ch.na - 1] - cs;
				if (bd->var[0]) {
					bd->amb = AMB_CLAUSE;
					bd->amb_off = ch.a[0];
					bd->amb_len = ch.b[ch.na - 1] - ch.a[0];
				}
			} else {
				se = sentence_of(ss, ch.a[0]);
				if (se && !se->first) {
					bd->drop_sentence = 1;
					bd->drop_off = ch.a[0];
				} else {
					bs->n--;
					goto skip;
				}
			}
		}
		bd->first_line_bound = first_line;
		first_line = 0;
		for (size_t k = ch.a[0]; k < ch.b[ch.na - 1]; k++)
			taken[k - a] = 3;
		i = ch.b[ch.na - 1];
		continue;
skip:
		i = ch.b[ch.na - 1] > i ? ch.b[ch.na - 1] : i;
	}
out:
	free(taken);
	return rc;
}

/* ---- the analysis of one statement --------------------------------------- */

struct ctx {
	struct doc d;
	struct sents ss;
	struct bounds bs;
	struct conds cs;
	uint64_t rng;
	int cat;
};

static void ctx_release(struct ctx *x)
{
	doc_release(&x->d);
	free(x->ss.v);
	free(x->bs.v);
	free(x->cs.v);
	memset(x, 0, sizeof(*x));
}

static int ctx_init(struct ctx *x, const char *p, size_t n, int cat, uint64_t seed)
{
	int rc;

	memset(x, 0, sizeof(*x));
	x->cat = cat;
	x->rng = hash_fnv1a64(p, n) ^ seed ^ ((uint64_t)(cat + 1) * 0x9e3779b97f4a7c15ULL);
	rc = doc_parse(&x->d, p, n);
	if (rc)
		return rc;
	rc = split_sentences(&x->d, &x->ss);
	if (rc)
		goto fail;
	for (size_t li = 0; li < x->d.nlines; li++) {
		if (!editable(x->d.lines[li].sec))
			continue;
		rc = find_line_bound(&x->d, li, &x->bs, &x->cs);
		if (rc < 0)
			goto fail;
		if (rc == 1)
			continue;
		rc = find_bounds_in_line(&x->d, li, &x->ss, &x->bs);
		if (rc)
			goto fail;
	}
	return 0;
fail:
	ctx_release(x);
	return rc;
}

static int line_is_bound(const struct ctx *x, size_t li)
{
	for (size_t i = 0; i < x->bs.n; i++)
		if (x->bs.v[i].line == li && x->bs.v[i].kind == B_LINE)
			return 1;
	for (size_t i = 0; i < x->cs.n; i++)
		if (x->cs.v[i].line == li)
			return 1;
	return 0;
}

/* ---- stage 1: incomplete -------------------------------------------------- */

struct cand {
	size_t off, len;
	const struct sent *s;  /* drop this sentence instead, when set */
	struct edit e;
};

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

	if (se->first || line_is_bound(x, se->line) || !has_digit(p, se->off, se->off + se->len) ||
	    first_op(p, se->off, se->off + se->len) < se->off + se->len)
		return 0;
	for (size_t k = 0; k < CL_ARRAY_SIZE(range); k++)
		if (count_phrase(p + se->off, se->len, range[k]))
			return 1;
	return 0;
}

static int modify_incomplete(struct ctx *x, struct rewrite *w, struct spans *sp)
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
		c->s = bd->drop_sentence ? sentence_of(&x->ss, bd->drop_off) : NULL;
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
		text_vars(x->d.p + se->off, se->len, c->e.var, sizeof(c->e.var));
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
		copy_text(c->e.var, sizeof(c->e.var), x->cs.v[i].vars, strlen(x->cs.v[i].vars));
		best = 2;
	}
	for (int tier = 2; tier <= 3 && best >= tier; tier++) {
		for (size_t i = 0; i < x->ss.n; i++) {
			const struct sent *s = &x->ss.v[i];
			const struct line *l = &x->d.lines[s->line];
			int cls, t;

			if (s->first || line_is_bound(x, s->line) ||
			    words_in(x->d.p + s->off, s->len) < 3)
				continue;
			if (first_op(x->d.p, s->off, s->off + s->len) < s->off + s->len)
				continue;
			t = classify_condition(x->d.p + s->off, s->len, &cls);
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
			text_vars(x->d.p + s->off, s->len, c->e.var, sizeof(c->e.var));
			best = tier;
		}
		if (best == tier)
			break;
	}
	if (nc) {
		size_t k = rng_pick(&x->rng, nc);

		c = &cv[k];
		if (c->s)
			sentence_drop_span(&x->d, c->s, &c->off, &c->len);
		rc = spans_add(sp, c->off, c->len, "");
		if (rc < 0)
			goto out;
		w->e[w->ne++] = c->e;
		copy_text(w->e[w->ne - 1].from, sizeof(w->e[0].from), x->d.p + c->off, c->len);
		rc = add_reasoning_drop(w, &c->e);
	}
out:
	free(cv);
	return rc;
}

/* Nothing matched: take out the last sentence of the prose; in a single
 * sentence, a parenthesis, the clause after its last comma, or its last word. */
static int fallback_incomplete(struct ctx *x, struct rewrite *w, struct spans *sp)
{
	const char *p = x->d.p;
	const struct sent *one;
	struct edit *e;
	size_t off = 0, len = 0, a, b;
	int rc;

	for (size_t i = x->ss.n; i-- > 0;) {
		if (x->ss.v[i].first)
			continue;
		sentence_drop_span(&x->d, &x->ss.v[i], &off, &len);
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
			if (c < b && words_in(p + k, c - k) >= 1) {
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
				if (!phrase_at(p, k, b, conn[c]) || words_in(p + a, k - a) < 4)
					continue;
				off = k;
				while (off > a && (p[off - 1] == ' ' || p[off - 1] == ','))
					off--;
				len = b - off;
			}
		}
		for (size_t k = b; k > a && !len; k--)
			if (p[k - 1] == ',' && words_in(p + a, k - 1 - a) >= 4) {
				off = k - 1;
				len = b - off;
			}
		if (!len) {
			size_t k = b;

			while (k > a && !space_len(p, k - 1, b))
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
	rc = spans_add(sp, off, len, "");
	if (rc)
		return rc < 0 ? rc : 1;
	e = edit_new(w, EK_DROP_GENERIC);
	if (!e)
		return 1;
	copy_text(e->from, sizeof(e->from), p + off, len);
	/* say what the words taken out were about, when they tell */
	text_vars(p + off, len, e->var, sizeof(e->var));
	if (classify_condition(p + off, len, &e->cls) || e->var[0])
		e->kind = EK_DROP_SENT;
	return add_reasoning_drop(w, e);
}

/* ---- stage 1: ambiguous --------------------------------------------------- */

enum rule {
	R_BOUND, R_ATMOST, R_ATLEAST, R_SORTED, R_EXACTLY, R_DISTINCT, R_BEST, R_MODULO, R_LEX,
	R_INDEXED, R_INTEGER, R_CASE, R_SIGN, R_RANGE, R_COUNT,
};

static const char *const paren_phrase[] = { "not too large", "a reasonable number",
					    "can be large" };
static const char *const paren_plural[] = { "not too large", "reasonable numbers", "can be large" };
static const char *const sing_phrase[] = { "is not too large", "is a reasonable number",
					   "can be large" };
static const char *const plur_phrase[] = { "are not too large", "are reasonable numbers",
					   "can be large" };

/* Keep the capital of the word replaced: "Exactly" -> "About". */
static void cased(char *out, size_t cap, const char *repl, const char *orig)
{
	copy_text(out, cap, repl, strlen(repl));
	if (out[0] && orig[0] >= 'A' && orig[0] <= 'Z')
		out[0] = (char)upper((unsigned char)out[0]);
}

/* The operand after a limit phrase: "$k$", "10^5", "n_i", "one". */
static size_t limit_operand(const char *p, size_t i, size_t hi, int *word_num)
{
	static const char *const words[] = { "one",  "two", "three", "four",
					     "five", "ten", "once",  "twice" };
	size_t s = skip_sp(p, i, hi), e;

	*word_num = 0;
	if (s == i || s >= hi)
		return 0;
	if (p[s] == '$') {
		for (e = s + 1; e < hi && e - s < 48 && p[e] != '$'; e++)
			;
		return e < hi && p[e] == '$' ? e + 1 : 0;
	}
	for (size_t k = 0; k < CL_ARRAY_SIZE(words); k++) {
		size_t m = phrase_at(p, s, hi, words[k]);

		if (m) {
			*word_num = k == 0 ? 1 : k >= 6 ? 3 : 2;
			return s + m;
		}
	}
	e = operand_fwd(p, s, hi);
	if (e == s)
		return 0;
	if (numeric(p, s, e))
		return numeric_more(p, e, hi);
	/* a short name: k, n_i, K */
	if (e - s <= 4 && (e - s == 1 || memchr(p + s, '_', e - s) || is_digit(at(p, e - 1, hi))) &&
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
	size_t s = skip_sp(p, i, hi), e = s;

	if (s == i)
		return 0;
	while (e < hi && is_alpha((unsigned char)p[e]))
		e++;
	if (e == s || (e < hi && is_wordc((unsigned char)p[e])))
		return 0;
	for (size_t k = 0; k < CL_ARRAY_SIZE(stop); k++)
		if (same_ci(p + s, e - s, stop[k]))
			return 0;
	return 1;
}

struct amb {
	struct ctx *x;
	struct spans *sp;
	struct rewrite *w;
};

/* Each editable line, skipping URLs: call f at every byte. */
typedef int (*amb_fn)(struct amb *a, size_t i, size_t hi, struct edit *e);

static int amb_scan(struct amb *a, amb_fn f, struct edit *e)
{
	int added = 0;

	for (size_t li = 0; li < a->x->d.nlines; li++) {
		const struct line *l = &a->x->d.lines[li];
		size_t hi = l->off + l->len;

		if (!editable(l->sec))
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
	int rc = spans_add(a->sp, off, len, repl);
	size_t fa = off, fb = off + len;

	if (rc)
		return rc < 0 ? rc : 0;
	if (!e->from[0]) {
		copy_text(e->what, sizeof(e->what), repl, strlen(repl));
		trim(a->x->d.p, &fa, &fb);
		copy_text(e->from, sizeof(e->from), a->x->d.p + fa, fb - fa);
	}
	return 1;
}

/* Take out the word p[i..i+m) and the blank after it, turning "a" into
 * "an" (or back) before the word that follows. */
static int amb_drop_word(struct amb *a, size_t i, size_t m, size_t hi, struct edit *e)
{
	const char *p = a->x->d.p;
	size_t end = skip_sp(p, i + m, hi), s = i;
	int vowel = end < hi && strchr("aeiouAEIOU", p[end]) != NULL, had = e->from[0] != '\0', r;
	const char *repl = "";
	size_t w = end;

	while (w < hi && is_alpha((unsigned char)p[w]))
		w++;
	if (spans_touch(a->sp, end, w))
		return 0;
	if (i >= 2 && phrase_at(p, i - 2, hi, "a ") && vowel) {
		s = i - 2;
		repl = p[s] == 'A' ? "An " : "an ";
	} else if (i >= 3 && phrase_at(p, i - 3, hi, "an ") && !vowel) {
		s = i - 3;
		repl = p[s] == 'A' ? "A " : "a ";
	}
	r = amb_put(a, s, end - s, repl, e);
	if (r == 1 && !had) {
		e->what[0] = '\0';
		copy_text(e->from, sizeof(e->from), p + i, m);
	}
	return r;
}

/* A number as a bound writes it: "-5", "10,000", "10^9", "10^{18}". */
static size_t plain_number(const char *p, size_t k, size_t hi)
{
	size_t e = k;

	if (at(p, e, hi) == '-')
		e++;
	if (!is_digit(at(p, e, hi)))
		return k;
	while (is_digit(at(p, e, hi)))
		e++;
	while (at(p, e, hi) == ',' && is_digit(at(p, e + 1, hi)) && is_digit(at(p, e + 2, hi)) &&
	       is_digit(at(p, e + 3, hi)) && !is_digit(at(p, e + 4, hi)))
		e += 4;
	if (at(p, e, hi) == '^') {
		size_t t = e + 1;

		if (at(p, t, hi) == '{')
			t++;
		if (!is_digit(at(p, t, hi)))
			return e;
		while (is_digit(at(p, t, hi)))
			t++;
		if (at(p, t, hi) == '}')
			t++;
		e = t;
	}
	return word_after(p, e, hi) ? k : e;
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
			text_vars(d->p + l->off, pos - l->off, e->var, sizeof(e->var));
			return;
		}
	}
}

/* "in the range [1, 10,000]" -> "in a reasonable range",
 * "between 1 and 100" -> "within reasonable limits". */
static int amb_range(struct amb *a, size_t i, size_t hi, struct edit *e)
{
	const char *p = a->x->d.p;
	size_t m = phrase_at(p, i, hi, "between"), k, n1, n2, s = i;

	if (m) {
		k = skip_sp(p, i + m, hi);
		if (at(p, k, hi) == '$')
			return 0;
		n1 = plain_number(p, k, hi);
		if (n1 == k)
			return 0;
		k = skip_sp(p, n1, hi);
		if (!phrase_at(p, k, hi, "and"))
			return 0;
		k = skip_sp(p, k + 3, hi);
		n2 = plain_number(p, k, hi);
		if (n2 == k)
			return 0;
		range_vars(a, i, e);
		return amb_put(a, i, n2 - i, "within reasonable limits", e);
	}
	if (p[i] != '[' && p[i] != '(')
		return 0;
	k = skip_sp(p, i + 1, hi);
	n1 = plain_number(p, k, hi);
	if (n1 == k)
		return 0;
	k = skip_sp(p, n1, hi);
	if (at(p, k, hi) != ',')
		return 0;
	k = skip_sp(p, k + 1, hi);
	n2 = plain_number(p, k, hi);
	if (n2 == k)
		return 0;
	k = skip_sp(p, n2, hi);
	if (at(p, k, hi) != ']' && at(p, k, hi) != ')')
		return 0;
	/* only where it names a range: "range [1, 10]", "within [0, 9]" */
	m = s;
	while (m > 0 && p[m - 1] == ' ')
		m--;
	if (m >= 8 && phrase_at(p, m - 8, hi, "range of")) {
		m -= 8;
		while (m > 0 && p[m - 1] == ' ')
			m--;
	}
	if (m >= 5 && phrase_at(p, m - 5, hi, "range")) {
		s = m - 5;
		if (s >= 4 && phrase_at(p, s - 4, hi, "the "))
			s -= 4;
	} else if (!(m >= 6 && phrase_at(p, m - 6, hi, "within"))) {
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
		size_t m = phrase_at(p, i, hi, lim[k].w), end;
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
		cased(buf, sizeof(buf), r, p + i);
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
	size_t m = phrase_at(p, i, hi, "sorted"), j, s;
	int words = 0, dirs = 0;

	s = i;
	if (m)
		j = skip_sp(p, i + m, hi);
	else
		j = i;
	if (!phrase_at(p, j, hi, "in"))
		return 0;
	if (!m)
		s = j;
	j = skip_sp(p, j + 2, hi);
	while (words < 4) {
		size_t w = 0;

		for (size_t k = 0; k < CL_ARRAY_SIZE(dir) && !w; k++) {
			w = phrase_at(p, j, hi, dir[k]);
			dirs += w > 0;
		}
		for (size_t k = 0; k < CL_ARRAY_SIZE(filler) && !w; k++)
			w = phrase_at(p, j, hi, filler[k]);
		if (!w)
			break;
		j = skip_sp(p, j + w, hi);
		words++;
	}
	if (!dirs || !phrase_at(p, j, hi, "order"))
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
		m = phrase_at(p, i, hi, "exactly");
		if (!m)
			return 0;
		cased(buf, sizeof(buf), "about", p + i);
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

			m = phrase_at(p, i, hi, best[k].w);
			if (!m)
				continue;
			if (e->from[0] && !same_ci(e->from, strlen(e->from), best[k].w))
				return 0; /* one word per rewrite: "minimum" or "maximum" */
			while (ls > 0 && p[ls - 1] != '\n')
				ls--;
			if (count_phrase(p + ls, hi - ls, best[k ^ 1].w) && k < 8)
				return 0; /* "between the maximum and the minimum" */
			cased(buf, sizeof(buf), "best", p + i);
			r = amb_put(a, i, m, buf, e);
			if (r == 1 && !e->cls)
				e->cls = best[k].fam + 1;
			return r;
		}
		return 0;
	}
	case EK_VAGUE_DISTINCT: {
		size_t s = i, j;

		m = phrase_at(p, i, hi, "pairwise distinct");
		if (!m)
			m = phrase_at(p, i, hi, "distinct");
		if (!m)
			return 0;
		j = i + m;
		if (noun_after(p, j, hi) && !(i >= 4 && (phrase_at(p, i - 4, hi, "are ") ||
							 phrase_at(p, i - 3, hi, "be "))))
			return amb_drop_word(a, s, m, hi, e);
		return amb_put(a, s, m, "mostly different", e);
	}
	case EK_VAGUE_MODULO: {
		static const char *const mods[] = { "by modulo", "modulo", "mod" };
		int wn;

		for (size_t k = 0; k < CL_ARRAY_SIZE(mods); k++) {
			size_t end;

			m = phrase_at(p, i, hi, mods[k]);
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
		m = phrase_at(p, i, hi, "lexicographical order");
		if (!m)
			m = phrase_at(p, i, hi, "lexicographic order");
		if (m)
			return amb_put(a, i, m, "some order", e);
		m = phrase_at(p, i, hi, "lexicographically");
		if (!m || !noun_after(p, i + m, hi))
			return 0;
		return amb_drop_word(a, i, m, hi, e);
	case EK_VAGUE_INDEXED: {
		static const char *const idx[] = {
			"0-indexed", "1-indexed", "zero-indexed", "one-indexed", "0-based",
			"1-based",
		};

		for (size_t k = 0; k < CL_ARRAY_SIZE(idx); k++) {
			m = phrase_at(p, i, hi, idx[k]);
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

		m = phrase_at(p, i, hi, "integers");
		if (!m) {
			size_t k;

			m = phrase_at(p, i, hi, "integer");
			/* "integer minutes", "integer array": an adjective, leave it */
			k = skip_sp(p, i + m, hi);
			if (m && is_alpha(at(p, k + 1, hi)) && noun_after(p, i + m, hi))
				return 0;
		}
		if (!m)
			return 0;
		if (i >= 3 && phrase_at(p, i - 3, hi, "an ")) {
			s = i - 3;
			an = 1;
		}
		if (spans_touch(a->sp, i >= 12 ? i - 12 : 0, i))
			return 0; /* "a positive integer": the article is settled there */
		if (an)
			cased(buf, sizeof(buf), m == 8 ? "a numbers" : "a number", p + s);
		else
			cased(buf, sizeof(buf), m == 8 ? "numbers" : "number", p + s);
		return amb_put(a, s, i + m - s, buf, e);
	}
	case EK_VAGUE_CASE: {
		static const char *const cases[] = { "lowercase",  "lower-case", "lower case",
						     "uppercase",  "upper-case", "upper case",
						     "small Latin" };

		for (size_t k = 0; k < CL_ARRAY_SIZE(cases); k++) {
			m = phrase_at(p, i, hi, cases[k]);
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

			m = phrase_at(p, i, hi, sign[k]);
			if (!m)
				continue;
			j = skip_sp(p, i + m, hi);
			if (j == i + m)
				return 0;
			for (size_t t = 0; t < CL_ARRAY_SIZE(noun); t++)
				if (starts_ci(p + j, hi - j, noun[t]))
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
		size_t ph = rng_pick(&a->x->rng, CL_ARRAY_SIZE(paren_phrase));

		for (size_t i = 0; i < a->x->bs.n && n < CL_ARRAY_SIZE(idx); i++)
			if (a->x->bs.v[i].amb)
				idx[n++] = i;
		if (!n)
			return 0;
		bd = &a->x->bs.v[idx[rng_pick(&a->x->rng, n)]];
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
		u8_cut(repl, strlen(repl));
		r = spans_add(a->sp, bd->amb_off, bd->amb_len, repl);
		if (r)
			return r < 0 ? r : 0;
		memcpy(e.var, bd->var, sizeof(e.var));
		e.plural = bd->plural;
		copy_text(e.from, sizeof(e.from), a->x->d.p + bd->amb_off, bd->amb_len);
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

static int modify_ambiguous(struct ctx *x, struct rewrite *w, struct spans *sp)
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
		int j = (int)rng_pick(&x->rng, (size_t)i + 1), t = rules[i];

		rules[i] = rules[j];
		rules[j] = t;
	}
	want = 1 + (int)rng_pick(&x->rng, (size_t)(nr < 3 ? nr : 3));
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
		copy_text(out, cap, "0", 1);
		return;
	}
	if (memchr(s, ',', m)) { /* 500,000 -> 500,001 */
		copy_text(out, cap, p, n);
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
		copy_text(out, cap, d, len);
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

		if (!is_digit((unsigned char)p[k]) || d->url[k])
			continue;
		if (word_before(p, k) || (k > 0 && p[k - 1] == '.' && is_digit(at(p, k - 2, b)))) {
			while (k < b && is_digit((unsigned char)p[k]))
				k++;
			continue;
		}
		u = k;
		while (u < b && is_digit((unsigned char)p[u]))
			u++;
		/* 500,000 is one number */
		while (at(p, u, b) == ',' && is_digit(at(p, u + 1, b)) &&
		       is_digit(at(p, u + 2, b)) && is_digit(at(p, u + 3, b)) &&
		       !is_digit(at(p, u + 4, b)) && u - k <= 3)
			u += 4;
		if (word_after(p, u, b) || (at(p, u, b) == '.' && is_digit(at(p, u + 1, b)))) {
			k = u;
			continue;
		}
		if (t > 0 && p[t - 1] == '-' && !word_before(p, t - 1))
			t--;
		*s = t;
		*e = u;
		*i = u;
		return 1;
	}
	*i = b;
	return 0;
}

struct ncand {
	size_t off, len;
	char repl[48];
	struct edit e;
};

struct ncands {
	struct ncand *v;
	size_t n, cap;
};

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
	nc->e.exlines = l && l->sec == SEC_EX_OUT ? output_lines(d, li) : 0;
	nc->e.nex = d->nex;
	nc->e.leetcode = d->leetcode;
	copy_text(nc->e.from, sizeof(nc->e.from), d->p + s, e - s);
	copy_text(nc->e.what, sizeof(nc->e.what), nc->repl, strlen(nc->repl));
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
		trim(d->p, &a, &b);
		if (starts_ci(d->p + a, b - a, "output:"))
			a += 7;
		for (i = a; next_number(d, &i, b, &s, &e);)
			if (add_number_cand(c, d, s, e, EK_CONFLICT_OUTPUT, l, li))
				return CL_ENOMEM;
		for (i = a; i < b; i++) {
			for (size_t k = 0; k < CL_ARRAY_SIZE(swap); k++) {
				size_t m = strlen(swap[k][0]);
				struct ncand *nc;

				if (m > b - i || memcmp(d->p + i, swap[k][0], m) != 0 ||
				    word_before(d->p, i) || word_after(d->p, i + m, b))
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
				nc->e.exlines = output_lines(d, li);
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
		if (mark == b || (l->sec == SEC_STMT && !contains_ci(d->p + a, b - a, "(")))
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
	if (i >= n || !is_digit((unsigned char)p[i]))
		return 0;
	while (i < n &&
	       (is_digit((unsigned char)p[i]) || p[i] == ' ' || p[i] == ',' || p[i] == '\\')) {
		if (is_digit((unsigned char)p[i])) {
			if (v > INT64_MAX / 10 - 10)
				return 0;
			v = v * 10 + (p[i] - '0');
		} else if (p[i] == ' ' && !(is_digit(at(p, i + 1, n)))) {
			break;
		}
		i++;
	}
	i = skip_sp(p, i, n);
	if (starts_ci(p + i, n - i, "\\cdot") || starts_ci(p + i, n - i, "*") ||
	    starts_ci(p + i, n - i, "\\times")) {
		mant = v;
		i += p[i] == '*' ? 1 : p[i + 1] == 'c' ? 5 : 6;
		i = skip_sp(p, i, n);
		v = 0;
		while (i < n && is_digit((unsigned char)p[i]))
			v = v * 10 + (p[i++] - '0');
	}
	if (i < n && p[i] == '^') {
		int64_t e = 0, r = 1;

		i++;
		if (i < n && p[i] == '{')
			i++;
		while (i < n && is_digit((unsigned char)p[i]) && e < 100)
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

			if (memcmp(p + i, name, nlen) != 0 || word_before(p, i) ||
			    word_after(p, i + nlen, b))
				continue;
			j = skip_sp(p, i + nlen, b);
			if (at(p, j, b) != '=')
				continue;
			j = skip_sp(p, j + 1, b);
			if (what == 0 && (is_digit(at(p, j, b)) || at(p, j, b) == '-')) {
				int sign = 1;

				if (p[j] == '-') {
					sign = -1;
					j++;
				}
				while (j < b && is_digit((unsigned char)p[j]) &&
				       v < INT64_MAX / 10 - 10)
					v = v * 10 + (p[j++] - '0');
				v *= sign;
				ok = !word_after(p, j, b) && at(p, j, b) != '.';
			} else if (at(p, j, b) == '[' && at(p, j + 1, b) != '[') {
				j++;
				while (j < b && p[j] != ']') {
					int64_t x = 0;
					int sign = 1, dig = 0;

					j = skip_sp(p, j, b);
					if (at(p, j, b) == '-') {
						sign = -1;
						j++;
					}
					while (j < b && is_digit((unsigned char)p[j]) &&
					       x < INT64_MAX / 10 - 10) {
						x = x * 10 + (p[j++] - '0');
						dig = 1;
					}
					if (!dig)
						break;
					len++;
					if (sign * x > mx)
						mx = sign * x;
					j = skip_sp(p, j, b);
					if (at(p, j, b) == ',')
						j++;
				}
				if (at(p, j, b) == ']' && len) {
					ok = what != 0;
					v = what == 1 ? len : mx;
				}
			} else if (at(p, j, b) == '"' && what == 1) {
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
		trim(d->p, &a, &b);
		if (a == b)
			continue;
		*v = 0;
		for (size_t i = a; i < b; i++) {
			if (!is_digit((unsigned char)d->p[i]) || *v > 1000000000)
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
				if (!is_alnum((unsigned char)var[k]) && var[k] != '_')
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
		copy_text(nc->e.from, sizeof(nc->e.from), d->p + bd->up_off, bd->up_len);
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

struct numtok {
	uint64_t h;
	size_t s, e, li;
};

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

		if (!editable(l->sec))
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
	nc = &c.v[rng_pick(&x->rng, c.n)];
	rc = spans_add(sp, nc->off, nc->len, nc->repl);
	if (rc)
		goto out;
	w->e[w->ne++] = nc->e;
	if (nc->e.ex && (x->d.nex > 1 || x->d.leetcode))
		snprintf(exname, sizeof(exname), x->d.leetcode ? "Example %d" : "example %d",
			 nc->e.ex);
	else
		snprintf(exname, sizeof(exname), "the example");
	snprintf(exname_cap, sizeof(exname_cap), "%s", exname);
	exname_cap[0] = (char)upper((unsigned char)exname_cap[0]);
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
		found = editable(l->sec) && next_number(d, &i, l->off + l->len, &s, &e);
	}
	if (!found)
		return 0;
	ed = edit_new(w, x->cat == CAT_AMBIGUOUS ? EK_VAGUE_VALUE : EK_CONFLICT_VALUE);
	if (!ed)
		return 0;
	if (x->cat == CAT_AMBIGUOUS)
		snprintf(repl, sizeof(repl), "some value");
	else
		bump_number(d->p + s, e - s, repl, sizeof(repl));
	rc = spans_add(sp, s, e - s, repl);
	if (rc) {
		w->ne--;
		return rc < 0 ? rc : 0;
	}
	copy_text(ed->from, sizeof(ed->from), d->p + s, e - s);
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

	trim(p, &a, &b);
	if (x->cat == CAT_AMBIGUOUS) {
		for (size_t i = a; i < b; i++) {
			size_t m = phrase_at(p, i, b, "the");
			char repl[8];

			if (!m)
				continue;
			cased(repl, sizeof(repl), "some", p + i);
			rc = spans_add(sp, i, m, repl);
			if (rc)
				return rc < 0 ? rc : 0;
			ed = edit_new(w, EK_VAGUE_GENERIC);
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
		rc = spans_add(sp, b, 0,
			       b > a ? " Use a reasonable approach."
				     : "Use a reasonable approach.");
		if (rc)
			return rc < 0 ? rc : 0;
		ed = edit_new(w, EK_VAGUE_GENERIC);
		if (ed)
			snprintf(ed->what, sizeof(ed->what), "a reasonable approach");
		rc = buf_adds(&w->why, "The statement is too short to blur a term, so I add a "
				       "vague instruction that leaves the expected behaviour "
				       "open.");
		return rc ? rc : 1;
	}
	if (x->cat == CAT_INCONSISTENT) {
		int ret = contains_ci(p, n, "return");

		rc = spans_add(sp, b, 0, ret ? " The function must return nothing." :
					       " The program must print nothing.");
		if (rc)
			return rc < 0 ? rc : 0;
		ed = edit_new(w, EK_CONFLICT_APPEND);
		if (ed)
			ed->cls = ret;
		rc = buf_adds(&w->why, "The statement has no number or example to contradict, so I "
				       "add one requirement that conflicts with the task it "
				       "describes.\n"
				       "A reader can no longer satisfy both.");
		return rc ? rc : 1;
	}
	/* incomplete, a single word: keep only what makes it a request */
	rc = spans_add(sp, a, b - a, "Solve the task.");
	if (rc)
		return rc < 0 ? rc : 0;
	ed = edit_new(w, EK_DROP_GENERIC);
	if (ed)
		copy_text(ed->from, sizeof(ed->from), p + a, b - a);
	rc = buf_adds(&w->why, "The statement is a single word; I replace it by a request that no "
			       "longer says what to do.");
	return rc ? rc : 1;
}

/* ---- stage 1 -------------------------------------------------------------- */

/* Equal once white space runs count as one blank and the ends are trimmed. */
static int same_text(const char *a, size_t an, const char *b, size_t bn)
{
	size_t i = skip_ws(a, 0, an), j = skip_ws(b, 0, bn);

	for (;;) {
		size_t i2 = skip_ws(a, i, an), j2 = skip_ws(b, j, bn);
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

static void rewrite_release(struct rewrite *w)
{
	buf_release(&w->text);
	buf_release(&w->why);
}

static int rewrite_compute(const char *p, size_t n, int cat, uint64_t seed, struct rewrite *w)
{
	struct ctx x;
	struct spans sp = { NULL, 0, 0 };
	int rc, done = 0;

	memset(w, 0, sizeof(*w));
	buf_init(&w->text, 0);
	buf_init(&w->why, 0);
	rc = ctx_init(&x, p, n, cat, seed);
	if (rc)
		return rc;
	if (cat == CAT_INCOMPLETE)
		rc = modify_incomplete(&x, w, &sp);
	else if (cat == CAT_AMBIGUOUS)
		rc = modify_ambiguous(&x, w, &sp);
	else
		rc = modify_inconsistent(&x, w, &sp);
	if (rc < 0)
		goto out;
	done = w->ne > 0 && sp.n > 0;
	for (int attempt = 0;; attempt++) {
		if (done) {
			buf_reset(&w->text);
			rc = spans_apply(&sp, p, n, &w->text);
			if (rc)
				goto out;
			if (!same_text(p, n, w->text.data, w->text.len))
				break;
		}
		if (attempt == 3)
			break;
		/* nothing applied, or it changed white space only */
		sp.n = 0;
		w->ne = 0;
		buf_reset(&w->why);
		if (attempt == 0 && cat == CAT_INCOMPLETE)
			rc = fallback_incomplete(&x, w, &sp);
		else if (attempt == 0)
			rc = fallback_value(&x, w, &sp);
		else
			rc = fallback_text(&x, w, &sp);
		if (rc < 0)
			goto out;
		done = sp.n > 0;
	}
	if (!w->text.len || same_text(p, n, w->text.data, w->text.len)) {
		/* the last resort, for a statement no rule could touch */
		buf_reset(&w->text);
		rc = buf_adds(&w->text, "Solve the task.");
		if (rc)
			goto out;
		if (!w->ne)
			edit_new(w, cat == CAT_AMBIGUOUS      ? EK_VAGUE_GENERIC
				    : cat == CAT_INCONSISTENT ? EK_CONFLICT_GENERIC
							      : EK_DROP_GENERIC);
	}
	rc = 0;
out:
	free(sp.v);
	ctx_release(&x);
	if (rc)
		rewrite_release(w);
	return rc;
}

/* ---- stage 2: what changed, from a line diff ------------------------------ */

struct unit {
	size_t oa, ob;   /* the text taken out or replaced, in the original */
	size_t ma, mb;   /* what stands there now, in the rewritten problem */
	int msec, mex, mexline, mexlines;
	size_t mline;
	int has_m;
};

static void line_trimmed(const struct doc *d, size_t li, size_t *a, size_t *b)
{
	*a = d->lines[li].off;
	*b = *a + d->lines[li].len;
	trim(d->p, a, b);
}

static void widen_to_words(const char *p, size_t lo, size_t hi, size_t *a, size_t *b)
{
	while (*a > lo && is_wordc((unsigned char)p[*a - 1]))
		(*a)--;
	while (*b < hi && is_wordc((unsigned char)p[*b]))
		(*b)++;
}

static int diff_units(const struct doc *o, const struct doc *m, struct unit *u, int max)
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
		if (line_blank(m, j))
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
			x->mexlines = x->msec == SEC_EX_OUT ? output_lines(m, bestj) : 0;
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
		x->mexlines = x->msec == SEC_EX_OUT ? output_lines(m, j) : 0;
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

		if (!op_at(p, i, b))
			continue;
		if (chain_at(p, a, b, i, &c) && chain_has_number(p, &c)) {
			chain_var(p, &c, var, cap, NULL, 0, plural);
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

		if (count_phrase(o + oa, ob - oa, terms[k].w) <=
		    count_phrase(m + ma, mb - ma, terms[k].w))
			continue;
		for (int i = 0; i < w->ne; i++)
			dup |= w->e[i].kind == terms[k].kind;
		if (dup)
			continue;
		e = edit_new(w, terms[k].kind);
		if (!e)
			return;
		e->cls = terms[k].cls;
		if (terms[k].kind == EK_VAGUE_EXACTLY)
			snprintf(e->what, sizeof(e->what), "%s",
				 count_phrase(m + ma, mb - ma, "about") ? "about" : "");
	}
	if (has_digit(o, oa, ob) && !has_digit(m, ma, mb) && first_op(o, oa, ob) < ob) {
		struct edit *e = edit_new(w, EK_VAGUE_BOUND);

		if (e)
			text_bound_var(o, oa, ob, e->var, sizeof(e->var), &e->plural);
	}
	if (w->ne > before)
		return;
	for (size_t k = 0; k < CL_ARRAY_SIZE(vague); k++) {
		struct edit *e;

		if (count_phrase(m + ma, mb - ma, vague[k]) <=
		    count_phrase(o + oa, ob - oa, vague[k]))
			continue;
		e = edit_new(w, EK_VAGUE_GENERIC);
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
			if (first_op(o->p, x->oa, x->ob) < x->ob && has_digit(o->p, x->oa, x->ob)) {
				e = edit_new(w, EK_DROP_BOUND);
				if (e)
					text_bound_var(o->p, x->oa, x->ob, e->var, sizeof(e->var),
						       &e->plural);
				continue;
			}
			e = edit_new(w, EK_DROP_SENT);
			if (!e)
				return;
			classify_condition(o->p + x->oa, x->ob - x->oa, &cls);
			e->cls = cls;
			text_vars(o->p + x->oa, x->ob - x->oa, e->var, sizeof(e->var));
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
			else if (x->has_m && first_op(m->p, la, lb) < lb && has_digit(m->p, la, lb))
				kind = EK_CONFLICT_BOUND;
			e = edit_new(w, kind);
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
				text_vars(m->p + x->ma, x->mb - x->ma, e->var, sizeof(e->var));
			}
		}
	}
	if (w->ne == 0)
		edit_new(w, cat == CAT_AMBIGUOUS ? EK_VAGUE_GENERIC :
			    cat == CAT_INCONSISTENT ? EK_CONFLICT_GENERIC : EK_DROP_GENERIC);
}

/* ---- stage 2: questions ---------------------------------------------------- */

struct toks {
	size_t *off;
	size_t *len;
	size_t n;
};

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
		size_t k = space_len(p, i, n), e;

		if (k) {
			i += k;
			continue;
		}
		if (is_wordc((unsigned char)p[i])) {
			e = i;
			while (e < n && !space_len(p, e, n) && is_wordc((unsigned char)p[e]))
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
	return al == bl && eq_ci(a, b, al);
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

struct checker {
	const char *o, *m;
	size_t on, mn;
	struct toks ot[2], mt[2];
};

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
		if (contains_ci(q, n, banned[k]))
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
				tmp[0] = (char)upper((unsigned char)tmp[0]);
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
	u8_cut(out, o);
}

/* Up to three phrasings for each question an edit raises, best first. */
struct slot {
	const char *alt[3];
};

static int edit_slots(const struct edit *e, struct slot *s)
{
	int v = e->var[0] != '\0', ns = 0;

#define SLOT(a, b, c) (s[ns].alt[0] = (a), s[ns].alt[1] = (b), s[ns].alt[2] = (c), ns++)
	switch (e->kind) {
	case EK_DROP_BOUND:
		if (v) {
			SLOT("What are the smallest and largest possible values of {v}?",
			     "What is the range of {v}?", "How large can {v} be?");
			SLOT("How large can {v} get, so that I can tell which time complexity is "
			     "fast enough?",
			     "Is there an upper limit on {v}?", NULL);
		} else {
			SLOT("What are the limits on the input values?",
			     "How large can the input be?", NULL);
			SLOT("Which time complexity should the solution aim for?", NULL, NULL);
		}
		break;
	case EK_DROP_SENT:
		switch (e->cls) {
		case KW_GUAR_ANSWER:
			SLOT("Is a valid answer always guaranteed to exist, and what should be "
			     "printed if it does not?",
			     "Can it happen that no answer exists, and what should the output be "
			     "then?",
			     NULL);
			break;
		case KW_GUAR:
			if (v)
				SLOT("What is guaranteed about {v} in the input?",
				     "Which properties of {v} may the solution rely on?", NULL);
			else
				SLOT("What properties of the input are guaranteed?",
				     "Which properties of the input may the solution rely on?",
				     NULL);
			break;
		case KW_MOD:
			SLOT("Should the answer be printed exactly, or reduced modulo some number, "
			     "and if so which one?",
			     "In what form should a very large answer be printed?", NULL);
			break;
		case KW_DISTINCT:
			if (v)
				SLOT("Can {v} contain repeated values, or are all of them "
				     "different?",
				     "May two of {v} be equal?", NULL);
			else
				SLOT("Can the input contain repeated values?",
				     "May two input values be equal?", NULL);
			break;
		case KW_LIMIT:
			if (v)
				SLOT("Is there a limit on {v}, and what exactly is it?",
				     "How large can {v} be?", NULL);
			else
				SLOT("Are there limits on the values in the input, and what are "
				     "they?",
				     "How large can the input values be?", NULL);
			break;
		case KW_ORDER:
			if (v)
				SLOT("Is {v} given in any particular order?",
				     "Is the input sorted in some way?", NULL);
			else
				SLOT("Is the input given in any particular order?",
				     "Is the input sorted in some way?", NULL);
			break;
		case KW_IF:
			if (v)
				SLOT("How should special cases involving {v} be handled?",
				     "Are there special cases for {v} that need particular "
				     "handling?",
				     NULL);
			else
				SLOT("Are there special cases that need particular handling, and "
				     "how should they be treated?",
				     "How should unusual inputs be handled?", NULL);
			break;
		case KW_EACH:
			if (v)
				SLOT("What condition must every one of {v} satisfy?",
				     "Is there a rule that applies to each of {v} individually?",
				     NULL);
			else
				SLOT("What condition must every element of the input satisfy?",
				     "Is there a rule that applies to each element individually?",
				     NULL);
			break;
		case KW_REL:
			if (v)
				SLOT("What relation, if any, holds between {v}?",
				     "Do {v} satisfy any ordering or relation?", NULL);
			else
				SLOT("Do the input values satisfy any relation to one another?",
				     NULL, NULL);
			break;
		default:
			if (v)
				SLOT("Are there further conditions on {v} that the solution may "
				     "rely on?",
				     "What else is known about {v}?", NULL);
			else
				SLOT("Are there further conditions on the input that the solution "
				     "may rely on?",
				     "What else is known about the input?", NULL);
			break;
		}
		break;
	case EK_DROP_GENERIC:
		SLOT("Is there any further requirement on the input or the output that the "
		     "solution must follow?",
		     "What exactly must the output contain?", "What exactly is the task?");
		break;
	case EK_VAGUE_BOUND:
		if (v)
			SLOT("What exactly are the bounds on {v}?",
			     "What are the exact smallest and largest values of {v}?", NULL);
		else
			SLOT("What exactly are the limits on the input?",
			     "How large can the input be exactly?", NULL);
		break;
	case EK_VAGUE_ATMOST:
		if (e->what[0])
			SLOT("What exact upper limit does \"{w}\" stand for?",
			     "How many is \"{w}\" in precise terms?", NULL);
		else
			SLOT("What is the exact upper limit the statement refers to?", NULL, NULL);
		break;
	case EK_VAGUE_ATLEAST:
		if (e->what[0])
			SLOT("What exact minimum does \"{w}\" stand for?",
			     "How many is \"{w}\" in precise terms?", NULL);
		else
			SLOT("What is the exact minimum the statement refers to?", NULL, NULL);
		break;
	case EK_VAGUE_SORTED:
		SLOT("Is the order increasing or decreasing, and can equal values be next to each "
		     "other?",
		     "Which sort order is meant, and is it strict?", NULL);
		break;
	case EK_VAGUE_EXACTLY:
		if (e->what[0])
			SLOT("Does \"{w}\" mean the amount must match precisely, or is some "
			     "tolerance allowed?",
			     "How precisely must the amount match?", NULL);
		else
			SLOT("How precisely must the amounts in the statement be matched?", NULL,
			     NULL);
		break;
	case EK_VAGUE_DISTINCT:
		SLOT("Can the values repeat, or must they all be different?",
		     "May two of the values be equal?", NULL);
		break;
	case EK_VAGUE_BEST:
		switch (e->cls) {
		case FAM_SIZE:
			SLOT("Does \"best\" mean the smallest or the largest?",
			     "Should the answer be the smallest or the largest one?", NULL);
			break;
		case FAM_LENGTH:
			SLOT("Does \"best\" mean the shortest or the longest?",
			     "Should the answer be the shortest or the longest one?", NULL);
			break;
		case FAM_COUNT:
			SLOT("Does \"best\" mean the fewest or the most?", NULL, NULL);
			break;
		default:
			SLOT("Should the answer be the minimum or the maximum?",
			     "Is the best value the smallest one or the largest one?", NULL);
			break;
		}
		break;
	case EK_VAGUE_MODULO:
		SLOT("In what exact form should the answer be printed; should it be reduced modulo "
		     "some number, and which one?",
		     "In what form should a very large answer be printed?", NULL);
		break;
	case EK_VAGUE_LEX:
		SLOT("Which ordering should be used to compare candidate answers?",
		     "How are two candidate answers compared?", NULL);
		break;
	case EK_VAGUE_INDEXED:
		SLOT("Are the indices counted from 0 or from 1?",
		     "Do positions start at 0 or at 1?", NULL);
		break;
	case EK_VAGUE_INTEGER:
		SLOT("Are the numbers always integers, or can they have a fractional part?",
		     "Can the values be fractional?", NULL);
		break;
	case EK_VAGUE_CASE:
		SLOT("Which characters can appear in the strings, and is the letter case "
		     "restricted?",
		     "Can the strings contain characters other than letters of one case?", NULL);
		break;
	case EK_VAGUE_SIGN:
		SLOT("Can the values be zero or negative?", "What sign can the values have?", NULL);
		break;
	case EK_VAGUE_VALUE:
		SLOT("Which specific value is meant by \"some value\"?",
		     "What is the exact value meant here?", NULL);
		break;
	case EK_VAGUE_GENERIC:
		if (e->what[0])
			SLOT("What exactly does \"{w}\" mean here, in precise terms?",
			     "Which precise values and conditions does the statement intend?",
			     NULL);
		else
			SLOT("Which precise values and conditions does the statement intend?",
			     "Could you state the requirements precisely?", NULL);
		break;
	case EK_CONFLICT_OUTPUT:
		if (!e->ex) {
			SLOT("One of the examples gives a result that does not seem to follow from "
			     "the statement; which one is correct?",
			     NULL, NULL);
		} else if (e->exlines > 1 && e->exline > 0) {
			SLOT("Line {k} of the expected output in {x} does not seem to follow from "
			     "the statement for its input; is the statement or the example "
			     "correct?",
			     "The expected output in {x} does not seem to follow from the "
			     "statement; which one is correct?",
			     NULL);
			SLOT("What is the correct expected output for {x}?", NULL, NULL);
		} else {
			SLOT("The output shown in {x} does not seem to follow from the statement "
			     "for that input; which one is correct?",
			     "Is the expected output in {x} right?", NULL);
			SLOT("What should the correct output of {x} be?", NULL, NULL);
		}
		break;
	case EK_CONFLICT_NOTE:
		SLOT("The explanation of {x} does not seem to agree with its input and output; "
		     "which one should be trusted?",
		     "Is the explanation of {x} consistent with its data?", NULL);
		break;
	case EK_CONFLICT_BOUND:
		if (e->ex && v) {
			SLOT("{X} uses a value of {v} outside the range allowed by the "
			     "constraints; which is correct, the example or the constraint?",
			     "Does {x} respect the limits on {v}?", NULL);
			SLOT("What is the actual upper limit on {v}?", NULL, NULL);
		} else if (v) {
			SLOT("The limits on {v} seem to disagree with other parts of the "
			     "statement; which limit applies?",
			     "Which limit on {v} applies?", NULL);
		} else {
			SLOT("The stated limits seem to disagree with other parts of the "
			     "statement; which limits apply?",
			     NULL, NULL);
		}
		break;
	case EK_CONFLICT_VALUE:
		SLOT("The statement seems to use different values for the same quantity; which "
		     "value is intended?",
		     "Which of the values given in the statement is the intended one?", NULL);
		break;
	case EK_CONFLICT_APPEND:
		if (e->cls)
			SLOT("Should the function return the result described in the statement, or "
			     "return nothing?",
			     NULL, NULL);
		else
			SLOT("Should the program print the result described in the statement, or "
			     "print nothing at all?",
			     NULL, NULL);
		break;
	default:
		if (v)
			SLOT("Two parts of the statement seem to disagree about {v}; which one is "
			     "correct?",
			     "Which of the conflicting requirements on {v} applies?", NULL);
		else
			SLOT("Two parts of the statement seem to disagree; which one is correct?",
			     "Which of the conflicting requirements applies?", NULL);
		break;
	}
#undef SLOT
	return ns;
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

static int make_questions(const struct checker *ck, const struct rewrite *w, struct buf *qs)
{
	static const char *const generic[] = {
		"Could you state every requirement on the input and the output precisely?",
		"Which limits on the input should the solution handle?",
		"What exactly must the output contain?",
		"Could you clarify the task?",
	};
	char seen[MAX_QUESTIONS][256];
	int nq = 0, rc;

	/* the first question of every edit, then the second ones */
	for (int round = 0; round < 2 && nq < MAX_QUESTIONS; round++) {
		for (int i = 0; i < w->ne && nq < MAX_QUESTIONS; i++) {
			struct slot s[2];
			int ns = edit_slots(&w->e[i], s);

			if (round >= ns)
				continue;
			for (int k = 0; k < 3 && s[round].alt[k]; k++) {
				char q[256];

				expand(q, sizeof(q), s[round].alt[k], &w->e[i]);
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
	for (size_t k = 0; k < CL_ARRAY_SIZE(generic) && nq == 0; k++) {
		if (question_bad(ck, generic[k]) && k + 1 < CL_ARRAY_SIZE(generic))
			continue;
		rc = add_question(qs, seen, &nq, generic[k]);
		if (rc)
			return rc;
	}
	return 0;
}

static int clarify_reasoning(const struct rewrite *w, struct buf *b)
{
	static const char *const need[] = {
		[KW_NONE] = "which further conditions hold",
		[KW_GUAR_ANSWER] = "whether an answer always exists",
		[KW_GUAR] = "what is guaranteed about the input",
		[KW_MOD] = "in which form a large answer must be printed",
		[KW_DISTINCT] = "whether values can repeat",
		[KW_LIMIT] = "how far a quantity can go",
		[KW_ORDER] = "whether the data comes in a particular order",
		[KW_IF] = "how special cases are handled",
		[KW_EACH] = "what every element must satisfy",
		[KW_REL] = "how the values relate to each other",
	};
	int rc = 0;

	for (int i = 0; i < w->ne && !rc; i++) {
		const struct edit *e = &w->e[i];
		char t[256];

		switch (e->kind) {
		case EK_DROP_BOUND:
			expand(t, sizeof(t),
			       e->var[0] ? "The statement does not give the range of {v}, and the "
					   "range decides both the algorithm and the integer types."
					 : "The statement does not say how large the input values "
					   "can be.",
			       e);
			break;
		case EK_DROP_SENT:
			snprintf(t, sizeof(t),
				 "A solver needs to know %s, and the statement does not settle it.",
				 need[e->cls >= 0 && e->cls <= KW_REL ? e->cls : 0]);
			break;
		case EK_DROP_GENERIC:
			snprintf(t, sizeof(t),
				 "The statement stops short of a full specification of the task.");
			break;
		case EK_VAGUE_BEST:
			snprintf(t, sizeof(t),
				 "\"best\" could mean either extreme, and the two give different "
				 "answers.");
			break;
		case EK_VAGUE_DISTINCT:
			snprintf(t, sizeof(t),
				 "The statement does not say whether the values may repeat.");
			break;
		case EK_VAGUE_SORTED:
			snprintf(t, sizeof(t),
				 "The statement says the data is ordered but not in which "
				 "direction or how strictly.");
			break;
		case EK_VAGUE_CASE:
			snprintf(t, sizeof(t),
				 "The statement does not pin down which characters the strings "
				 "use.");
			break;
		case EK_VAGUE_SIGN:
			snprintf(t, sizeof(t),
				 "The statement does not say whether the values can be zero or "
				 "negative.");
			break;
		case EK_VAGUE_INTEGER:
			snprintf(t, sizeof(t),
				 "The statement does not say whether the values are whole "
				 "numbers.");
			break;
		case EK_VAGUE_BOUND:
			expand(t, sizeof(t),
			       e->var[0] ? "The size of {v} is described only loosely, without "
					   "numbers."
					 : "The limits are described only loosely, without "
					   "numbers.",
			       e);
			break;
		case EK_CONFLICT_OUTPUT:
			expand(t, sizeof(t),
			       e->ex ? "The expected output of {x} does not agree with the rule in "
				       "the statement, so one of the two must be wrong."
				     : "A worked example does not agree with the rule in the "
				       "statement.",
			       e);
			break;
		case EK_CONFLICT_NOTE:
			expand(t, sizeof(t),
			       "The explanation of {x} uses numbers that do not match its data.",
			       e);
			break;
		case EK_CONFLICT_BOUND:
			expand(t, sizeof(t),
			       e->ex && e->var[0] ? "{X} breaks the limit on {v} given in the "
						    "constraints."
						  : "The stated limits and the rest of the "
						    "statement do not fit together.",
			       e);
			break;
		case EK_CONFLICT_VALUE:
		case EK_CONFLICT_GENERIC:
			snprintf(t, sizeof(t),
				 "Two parts of the statement give conflicting information.");
			break;
		case EK_CONFLICT_APPEND:
			snprintf(t, sizeof(t),
				 "The last requirement contradicts the task described before it.");
			break;
		default:
			expand(t, sizeof(t),
			       e->what[0] ? "The wording \"{w}\" is not precise enough to "
					    "implement."
					  : "Part of the statement is worded too loosely to "
					    "implement.",
			       e);
			break;
		}
		rc = buf_addf(b, "%s\n", t);
	}
	if (!rc)
		rc = buf_adds(b, "I ask one question per unclear point, about the statement "
				 "exactly as it is written, without assuming an answer.");
	return rc;
}

static int clarify(const char *o, size_t on, const char *m, size_t mn, int cat, uint64_t seed,
		   struct buf *reply)
{
	struct rewrite w;
	struct checker ck;
	struct buf qs, why;
	int rc;

	memset(&ck, 0, sizeof(ck));
	buf_init(&qs, 0);
	buf_init(&why, 0);
	rc = rewrite_compute(o, on, cat, seed, &w);
	if (rc)
		return rc;
	if (!same_text(w.text.data, w.text.len, m, mn)) {
		/* not our rewrite: find the edits in a line diff */
		struct doc od, md;
		struct unit u[16];
		int nu;

		w.ne = 0;
		rc = doc_parse(&od, o, on);
		if (rc)
			goto out;
		rc = doc_parse(&md, m, mn);
		if (rc) {
			doc_release(&od);
			goto out;
		}
		nu = diff_units(&od, &md, u, (int)CL_ARRAY_SIZE(u));
		if (nu < 0)
			rc = nu;
		else
			infer_edits(&od, &md, cat, u, nu, &w);
		doc_release(&od);
		doc_release(&md);
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
		rc = make_questions(&ck, &w, &qs);
	if (!rc)
		rc = clarify_reasoning(&w, &why);
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
	rewrite_release(&w);
	return rc;
}

/* ---- the provider ------------------------------------------------------------ */

/* The stage 1 reply: the reasoning, then the rewrite without its outer blanks. */
static int modify_reply(const struct rewrite *w, struct buf *out)
{
	size_t a = 0, b = w->text.len;
	int rc;

	trim(w->text.data, &a, &b);
	rc = buf_adds(out, "<reasoning>\n");
	if (!rc)
		rc = buf_add(out, w->why.data, w->why.len);
	if (!rc)
		rc = buf_adds(out, "\n</reasoning>\n<modified_problem>\n");
	if (!rc)
		rc = buf_add(out, w->text.data + a, b - a);
	if (!rc)
		rc = buf_adds(out, "\n</modified_problem>");
	return rc;
}

int llm_offline_reply(const struct llm_request *r, uint64_t seed, struct buf *out)
{
	size_t start, on, a, b;
	struct rewrite w;
	int rc;

	if (!r || !out)
		return err_set(CL_EINVAL, "no request or no buffer for the reply");
	if (!r->original || !r->original[0])
		return err_set(CL_EINVAL, "the request has no original problem");
	if (r->category < 0 || r->category >= CAT_COUNT)
		return err_set(CL_EINVAL, "unknown category %d", r->category);
	if (r->stage != LLM_STAGE_MODIFY && r->stage != LLM_STAGE_CLARIFY)
		return err_set(CL_EINVAL, "unknown stage %d", r->stage);
	if (r->stage == LLM_STAGE_CLARIFY && (!r->modified || !r->modified[0]))
		return err_set(CL_EINVAL, "stage clarify needs the modified problem");
	on = strlen(r->original);
	a = 0;
	b = on;
	trim(r->original, &a, &b);
	if (a == b)
		return err_set(CL_EINVAL, "the original problem is blank");
	start = out->len;
	if (r->stage == LLM_STAGE_MODIFY) {
		rc = rewrite_compute(r->original, on, r->category, seed, &w);
		if (!rc) {
			rc = modify_reply(&w, out);
			rewrite_release(&w);
		}
	} else {
		rc = clarify(r->original, on, r->modified, strlen(r->modified), r->category, seed,
			     out);
	}
	if (rc) {
		/* nothing half-written stays in the caller's buffer */
		out->len = start;
		if (out->data)
			out->data[start] = '\0';
		return err_set(rc, "cannot write the %s reply: %s",
			       r->stage == LLM_STAGE_MODIFY ? "modify" : "clarify", err_str(rc));
	}
	return 0;
}

const struct llm_provider llm_provider_offline = {
	.name = "offline",
	.answer = llm_offline_reply,
};
