/*
 * filter_corpus - the labelled rows of the filters' evaluation corpus,
 * built at test time from real APPS statements and a file of recipes.
 *
 *   filter_corpus [--split NAME] [--all-errors] STATEMENTS.jsonl RECIPES.jsonl
 *
 * STATEMENTS.jsonl holds {"n", "question"} (../shared/data/apps-corpus);
 * none of its text is kept in the repository.  Each line of RECIPES.jsonl
 * says how to turn statement n into one generated record, the way an LLM's
 * rewrite would come out:
 *
 *   {"id": "t-amb-017-para", "n": 17, "category": "ambiguous",
 *    "label": "clean", "kind": "heavy_paraphrase",
 *    "ops": [{"op": "synonyms", "level": 3}, {"op": "sub", "re": "\\bminimum\\b",
 *             "with": "best"}],
 *    "questions": ["Is the best answer the smallest {var}, or any valid one?"],
 *    "finish_reason": "stop"}
 *
 * The ops, applied in order to the modified text (which starts as the
 * statement); every one must apply, or the recipe is refused with its
 * line and why, so that a recipe never silently yields the original:
 *
 *   sub        re, with [, all]   replace the first (every) match; $1..$9 in with
 *                                 are its groups (a literal $ before a digit:
 *                                 capture it, "(\$)", and write $1)
 *   drop       re                 remove the sentence holding the first match
 *   insert     text, at           add a sentence (positions below)
 *   task       text, at           the same, in the original too (the task's own words)
 *   constraint with               replace the first math range ($1 \le n \le 10^5$)
 *   number     k, with            replace the k-th number of two or more digits
 *   markdown   style              -----Input----- as "## Input", "**Input**" or "Input:"
 *   latex      mode               strip: $n$ as n, \le as <=; unicode: \le as a sign
 *   synonyms   level [, seed]     reword with a small lexicon (1: a third, 2: two
 *                                 thirds, 3: every word it knows)
 *   shuffle    what [, seed]      sentences within, or the order of, the story's
 *                                 paragraphs (the part before the Input section)
 *   summarize                     keep the first sentence of each story paragraph
 *   examples   mode               restate (the first example again, in prose), repeat
 *                                 (the section twice), reformat (Example 1: ...), drop
 *   prefix, append  text          raw text before or after
 *   truncate   keep               cut at that share of the length, mid-word
 *   loop       what, times        repeat the last sentence, line or paragraph
 *   other      n                  another statement in its place (drift)
 *   whitespace                    trailing spaces and doubled blank lines only
 *   replace    text               the whole modified text
 *
 * Positions (at): start, end (a paragraph of its own), line-end (after the
 * last sentence), mid (after the middle sentence of the first paragraph),
 * input / output (after the first sentence of that section), after:RE
 * (after the sentence holding RE's match), paren:RE (inside it, before its
 * full stop, in parentheses).
 *
 * Placeholders in text, with, and questions: {var} (the statement's first
 * one-letter variable), {name} (its first proper name), {removed} (what
 * the last op took out), {value} (the last number in it).  One that cannot
 * be filled refuses the recipe.  They are filled when their op runs: in
 * sub's with, {removed} is what an earlier op took out; in constraint's
 * and number's with, what this one takes out.  markdown, like sub, sets
 * {removed} (to the last header it rewrote): put it before the edit.
 * line-end is after the text's last sentence, which in an APPS statement
 * is its sample output or note: end is usually what is meant.
 *
 * Each row printed: {"id", "split", "n", "category", "label", "kind",
 * "original", "modified", "questions", "finish_reason"}, as
 * clarify filters check reads it.  Exit 0, 2 on a refused recipe (with
 * --all-errors, after reporting every one), 1 on I/O errors.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <errno.h>
#include <jansson.h>
#include <pcre2.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_N 100000

static char *statements[MAX_N];
static size_t nstatements;

struct row {
	const char *id;
	char *orig, *mod;
	char removed[1024];
	char why[512];
	uint64_t seed;
};

static void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p) {
		fprintf(stderr, "filter_corpus: out of memory\n");
		exit(1);
	}
	return p;
}

static char *xstrndup(const char *s, size_t n)
{
	char *p = xmalloc(n + 1);

	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

static int refuse(struct row *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int refuse(struct row *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->why, sizeof(r->why), fmt, ap);
	va_end(ap);
	return -1;
}

/* Replace [a, b) of *s with ins. */
static void splice(char **s, size_t a, size_t b, const char *ins)
{
	size_t len = strlen(*s), n = strlen(ins);
	char *p = xmalloc(len - (b - a) + n + 1);

	memcpy(p, *s, a);
	memcpy(p + a, ins, n);
	memcpy(p + a + n, *s + b, len - b + 1);
	free(*s);
	*s = p;
}

static void set_removed(struct row *r, const char *s, size_t n)
{
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\n' || s[n - 1] == '.'))
		n--;
	while (n && (*s == ' ' || *s == '\n')) {
		s++;
		n--;
	}
	if (n >= sizeof(r->removed))
		n = sizeof(r->removed) - 1;
	memcpy(r->removed, s, n);
	r->removed[n] = '\0';
}

/* ---- regexes ------------------------------------------------------------ */

static pcre2_code *compile(struct row *r, const char *re)
{
	int err;
	PCRE2_SIZE off;
	pcre2_code *c = pcre2_compile((PCRE2_SPTR)re, PCRE2_ZERO_TERMINATED, PCRE2_UTF, &err, &off,
				      NULL);

	if (!c) {
		PCRE2_UCHAR msg[256];

		pcre2_get_error_message(err, msg, sizeof(msg));
		refuse(r, "pattern '%s': %s at offset %zu", re, (char *)msg, (size_t)off);
	}
	return c;
}

/* The first match of re in s at or after from: 1 with its bounds (and
 * groups in ov), 0 when none. */
static int find(pcre2_code *re, const char *s, size_t from, size_t *ov, int nov)
{
	pcre2_match_data *md = pcre2_match_data_create_from_pattern(re, NULL);
	int m = pcre2_match(re, (PCRE2_SPTR)s, strlen(s), from, 0, md, NULL);

	if (m > 0) {
		PCRE2_SIZE *v = pcre2_get_ovector_pointer(md);

		for (int i = 0; i < 2 * nov; i++)
			ov[i] = i < 2 * m ? v[i] : PCRE2_UNSET;
	}
	pcre2_match_data_free(md);
	return m > 0;
}

static int find_re(struct row *r, const char *pattern, const char *s, size_t *a, size_t *b)
{
	pcre2_code *re = compile(r, pattern);
	size_t ov[2];
	int hit;

	if (!re)
		return -1;
	hit = find(re, s, 0, ov, 1);
	pcre2_code_free(re);
	if (!hit)
		return refuse(r, "'%s' does not match", pattern);
	*a = ov[0];
	*b = ov[1];
	return 0;
}

/* ---- the statement's parts ------------------------------------------------- */

static int is_end(const char *s, size_t i)
{
	return (s[i] == '.' || s[i] == '?' || s[i] == '!') &&
	       (s[i + 1] == ' ' || s[i + 1] == '\n' || s[i + 1] == '\0');
}

/* The sentence around offset p: [*a, *b), b past its full stop. */
static void sentence_at(const char *s, size_t p, size_t *a, size_t *b)
{
	size_t i = p, n = strlen(s);

	while (i > 0 && s[i - 1] != '\n' && !(i >= 2 && is_end(s, i - 2) && s[i - 1] == ' '))
		i--;
	while (s[i] == ' ')
		i++;
	*a = i;
	for (i = p; i < n && s[i] != '\n' && !is_end(s, i); i++)
		;
	*b = i < n && s[i] != '\n' ? i + 1 : i;
}

/* Where the story ends: the first section header or Input line. */
static size_t story_end(const char *s)
{
	const char *marks[] = { "\n-----", "\nInput\n", "\nInput:", "\n## ", "\n**Input", "\nExample",
				"\nConstraints", NULL };
	size_t end = strlen(s);

	for (int i = 0; marks[i]; i++) {
		const char *p = strstr(s, marks[i]);

		if (p && (size_t)(p - s) < end)
			end = (size_t)(p - s);
	}
	return end;
}

/* The paragraphs of s[0, end): their starts and ends, at most max. */
static size_t paragraphs(const char *s, size_t end, size_t *pa, size_t *pb, size_t max)
{
	size_t n = 0, i = 0;

	while (i < end && n < max) {
		size_t j;

		while (i < end && s[i] == '\n')
			i++;
		if (i >= end)
			break;
		for (j = i; j < end && !(s[j] == '\n' && j + 1 < end && s[j + 1] == '\n'); j++)
			;
		while (j > i && (s[j - 1] == ' ' || s[j - 1] == '\n'))
			j--;
		pa[n] = i;
		pb[n] = j;
		n++;
		i = j + 1;
	}
	return n;
}

/* The sentences of s[a, b): their ends, at most max. */
static size_t sentence_ends(const char *s, size_t a, size_t b, size_t *ends, size_t max)
{
	size_t n = 0;

	for (size_t i = a; i < b && n < max; i++)
		if (is_end(s, i) || s[i] == '\n')
			ends[n++] = i + (s[i] != '\n');
	if (n < max && (n == 0 || ends[n - 1] < b))
		ends[n++] = b;
	return n;
}

/* A section header line "-----NAME-----" or "NAME" alone; its end. */
static int section_after(const char *s, const char *name, size_t *at)
{
	char pat[128];
	size_t a, b;
	pcre2_code *re;
	size_t ov[2];
	int hit;
	struct row scratch = { 0 };

	snprintf(pat, sizeof(pat), "(?m)^(?:-{3,}\\s*%s\\s*-{3,}|%s:?)\\s*$", name, name);
	re = compile(&scratch, pat);
	if (!re)
		return 0;
	hit = find(re, s, 0, ov, 1);
	pcre2_code_free(re);
	if (!hit)
		return 0;
	a = ov[1];
	while (s[a] == '\n' || s[a] == ' ')
		a++;
	sentence_at(s, a, &a, &b);
	*at = b;
	return 1;
}

/* ---- placeholders ---------------------------------------------------------- */

static int first_var(const char *s, char *out)
{
	pcre2_code *re;
	size_t ov[4];
	struct row scratch = { 0 };
	const char *pats[] = { "\\$([a-zA-Z])\\$", "\\$([a-zA-Z])[ _,^]", "\\b(?!a\\b|I\\b|A\\b)([a-zA-Z])\\b",
			       NULL };

	for (int i = 0; pats[i]; i++) {
		re = compile(&scratch, pats[i]);
		if (re && find(re, s, 0, ov, 2)) {
			out[0] = s[ov[2]];
			out[1] = '\0';
			pcre2_code_free(re);
			return 0;
		}
		pcre2_code_free(re);
	}
	return -1;
}

static int first_name(const char *s, char *out, size_t cap)
{
	static const char *skip[] = { "The", "Input", "Output", "Example", "Examples", "Note",
				      "Print", "Each", "For", "If", "In", "It", "You", "Your", "Given",
				      "Constraints", "Find", "Return", "There", "This", "Then",
				      "Let", "All", "One", "Two", "Its", "An", "At", "On", "As", NULL };
	pcre2_code *re;
	size_t ov[4], from = 0;
	struct row scratch = { 0 };

	re = compile(&scratch, "(?<=[a-z,] )([A-Z][a-z]{2,})\\b");
	while (re && find(re, s, from, ov, 2)) {
		size_t n = ov[3] - ov[2];
		int common = 0;

		for (int i = 0; skip[i]; i++)
			common |= strlen(skip[i]) == n && memcmp(skip[i], s + ov[2], n) == 0;
		if (!common && n < cap) {
			memcpy(out, s + ov[2], n);
			out[n] = '\0';
			pcre2_code_free(re);
			return 0;
		}
		from = ov[1];
	}
	pcre2_code_free(re);
	return -1;
}

/* The last number-like value in s: 10^5, 2 \cdot 10^5, 1000, 3.5 */
static int last_value(const char *s, char *out, size_t cap)
{
	pcre2_code *re;
	size_t ov[2], from = 0, a = 0, b = 0;
	struct row scratch = { 0 };

	re = compile(&scratch, "\\d[\\d,]*(?:\\.\\d+)?(?:\\s*(?:\\\\cdot|\\*|×|·)\\s*10)?"
			       "(?:\\s*\\^\\s*\\{?\\d+\\}?)?");
	while (re && find(re, s, from, ov, 1)) {
		a = ov[0];
		b = ov[1];
		from = ov[1];
	}
	pcre2_code_free(re);
	while (b > a && s[b - 1] == ',')
		b--;
	if (b == a || b - a >= cap)
		return -1;
	memcpy(out, s + a, b - a);
	out[b - a] = '\0';
	return 0;
}

/* text with its placeholders filled, or NULL (r->why says which). */
static char *expand(struct row *r, const char *text)
{
	size_t len = strlen(text), cap = len + 1;
	char *out = NULL, val[1024];
	size_t n = 0;

	for (const char *p = text; *p; p++)
		cap += *p == '{' ? sizeof(r->removed) : 0;
	out = xmalloc(cap);
	for (const char *p = text; *p;) {
		const char *v = NULL;
		size_t skip = 0;

		if (strncmp(p, "{var}", 5) == 0) {
			skip = 5;
			if (first_var(r->orig, val) == 0)
				v = val;
		} else if (strncmp(p, "{name}", 6) == 0) {
			skip = 6;
			if (first_name(r->orig, val, sizeof(val)) == 0)
				v = val;
		} else if (strncmp(p, "{removed}", 9) == 0) {
			skip = 9;
			if (*r->removed)
				v = r->removed;
		} else if (strncmp(p, "{value}", 7) == 0) {
			skip = 7;
			if (last_value(r->removed, val, sizeof(val)) == 0)
				v = val;
		} else {
			out[n++] = *p++;
			continue;
		}
		if (!v) {
			free(out);
			refuse(r, "cannot fill %.*s", (int)skip, p);
			return NULL;
		}
		memcpy(out + n, v, strlen(v));
		n += strlen(v);
		p += skip;
	}
	out[n] = '\0';
	return out;
}

/* ---- ops ---------------------------------------------------------------- */

static uint64_t rnd(uint64_t *s)
{
	*s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
	return *s >> 33;
}

static int op_sub(struct row *r, const char *pattern, const char *with, int all)
{
	pcre2_code *re = compile(r, pattern);
	size_t ov[20], from = 0;
	int hits = 0;

	if (!re)
		return -1;
	while (find(re, r->mod, from, ov, 10)) {
		char ins[4096];
		size_t n = 0;

		if (!hits)
			set_removed(r, r->mod + ov[0], ov[1] - ov[0]);
		for (const char *p = with; *p && n < sizeof(ins) - 1; p++) {
			if (*p == '$' && p[1] >= '0' && p[1] <= '9') {
				int g = p[1] - '0';

				p++;
				if (ov[2 * g] != PCRE2_UNSET) {
					size_t k = ov[2 * g + 1] - ov[2 * g];

					if (k > sizeof(ins) - 1 - n)
						k = sizeof(ins) - 1 - n;
					memcpy(ins + n, r->mod + ov[2 * g], k);
					n += k;
				}
				continue;
			}
			ins[n++] = *p;
		}
		ins[n] = '\0';
		splice(&r->mod, ov[0], ov[1], ins);
		from = ov[0] + n + (ov[1] == ov[0]);
		hits++;
		if (!all || from > strlen(r->mod))
			break;
	}
	pcre2_code_free(re);
	return hits ? 0 : refuse(r, "'%s' does not match", pattern);
}

static int op_drop(struct row *r, const char *pattern)
{
	size_t a, b, sa, sb;

	if (find_re(r, pattern, r->mod, &a, &b))
		return -1;
	sentence_at(r->mod, a, &sa, &sb);
	set_removed(r, r->mod + sa, sb - sa);
	while (r->mod[sb] == ' ')
		sb++;
	splice(&r->mod, sa, sb, "");
	return 0;
}

/* Insert text into *s at the position 'at'. */
static int insert_at(struct row *r, char **s, const char *text, const char *at)
{
	char buf[8192];
	size_t a, b;

	if (strcmp(at, "start") == 0) {
		snprintf(buf, sizeof(buf), "%s ", text);
		splice(s, 0, 0, buf);
	} else if (strcmp(at, "end") == 0) {
		size_t n = strlen(*s);

		while (n && ((*s)[n - 1] == '\n' || (*s)[n - 1] == ' '))
			n--;
		snprintf(buf, sizeof(buf), "\n\n%s", text);
		splice(s, n, strlen(*s), buf);
	} else if (strcmp(at, "line-end") == 0) {
		size_t n = strlen(*s);

		while (n && ((*s)[n - 1] == '\n' || (*s)[n - 1] == ' '))
			n--;
		snprintf(buf, sizeof(buf), " %s", text);
		splice(s, n, strlen(*s), buf);
	} else if (strcmp(at, "mid") == 0) {
		size_t pa[64], pb[64], ends[256], np, ns;

		np = paragraphs(*s, story_end(*s), pa, pb, 64);
		if (!np)
			return refuse(r, "no paragraph for 'mid'");
		for (size_t i = 0; i < np; i++) {
			ns = sentence_ends(*s, pa[i], pb[i], ends, 256);
			if (ns >= 2 || i == np - 1) {
				snprintf(buf, sizeof(buf), " %s", text);
				splice(s, ends[ns > 1 ? (ns - 1) / 2 : 0], ends[ns > 1 ? (ns - 1) / 2 : 0], buf);
				return 0;
			}
		}
	} else if (strcmp(at, "input") == 0 || strcmp(at, "output") == 0) {
		if (!section_after(*s, strcmp(at, "input") == 0 ? "Input" : "Output", &b))
			return refuse(r, "no %s section", at);
		snprintf(buf, sizeof(buf), " %s", text);
		splice(s, b, b, buf);
	} else if (strncmp(at, "after:", 6) == 0 || strncmp(at, "paren:", 6) == 0) {
		size_t sa, sb;

		if (find_re(r, at + 6, *s, &a, &b))
			return -1;
		sentence_at(*s, a, &sa, &sb);
		if (at[0] == 'a') {
			snprintf(buf, sizeof(buf), " %s", text);
			splice(s, sb, sb, buf);
		} else {
			size_t at_end = sb;

			if (at_end > sa && strchr(".?!", (*s)[at_end - 1]))
				at_end--;
			snprintf(buf, sizeof(buf), " (%s)", text);
			splice(s, at_end, at_end, buf);
		}
	} else {
		return refuse(r, "unknown position '%s'", at);
	}
	return 0;
}

static int op_constraint(struct row *r, const char *with)
{
	size_t a, b;
	char *w;
	pcre2_code *re = compile(r, "\\$[^$\\n]*\\\\le[^$\\n]*\\$|\\(\\s*\\d[^()\\n]*(?:<=|≤)[^()\\n]*\\)");
	size_t ov[2];

	if (!re)
		return -1;
	if (!find(re, r->mod, 0, ov, 1)) {
		pcre2_code_free(re);
		return refuse(r, "no range constraint to replace");
	}
	pcre2_code_free(re);
	a = ov[0];
	b = ov[1];
	set_removed(r, r->mod + a, b - a);
	w = expand(r, with);
	if (!w)
		return -1;
	splice(&r->mod, a, b, w);
	free(w);
	return 0;
}

static int op_number(struct row *r, long k, const char *with)
{
	pcre2_code *re = compile(r, "(?<![\\w.^{])\\d{2,}(?![\\w])");
	size_t ov[2] = { 0, 0 }, from = 0;
	char *w;

	if (!re)
		return -1;
	if (k < 1) {
		pcre2_code_free(re);
		return refuse(r, "k counts from 1");
	}
	for (long i = 0; i < k; i++) {
		if (!find(re, r->mod, from, ov, 1)) {
			pcre2_code_free(re);
			return refuse(r, "no number %ld of two or more digits", k);
		}
		from = ov[1];
	}
	pcre2_code_free(re);
	set_removed(r, r->mod + ov[0], ov[1] - ov[0]);
	w = expand(r, with);
	if (!w)
		return -1;
	splice(&r->mod, ov[0], ov[1], w);
	free(w);
	return 0;
}

static int op_markdown(struct row *r, const char *style)
{
	const char *with = strcmp(style, "hash") == 0 ? "## $1" : strcmp(style, "bold") == 0 ?
			   "**$1**" : strcmp(style, "colon") == 0 ? "$1:" : NULL;

	if (!with)
		return refuse(r, "markdown style must be hash, bold or colon");
	return op_sub(r, "(?m)^-{3,}[ \\t]*([^\\n-][^\\n]*?)[ \\t]*-{3,}[ \\t]*$", with, 1);
}

static void sub_all_quiet(struct row *r, const char *pattern, const char *with)
{
	char save[sizeof(r->removed)];

	memcpy(save, r->removed, sizeof(save));
	op_sub(r, pattern, with, 1);
	memcpy(r->removed, save, sizeof(save));
	r->why[0] = '\0';
}

static int op_latex(struct row *r, const char *mode)
{
	int uni = strcmp(mode, "unicode") == 0;

	if (!uni && strcmp(mode, "strip") != 0)
		return refuse(r, "latex mode must be strip or unicode");
	if (!strchr(r->mod, '$'))
		return refuse(r, "no $...$ math to rewrite");
	sub_all_quiet(r, "\\\\le(?:q)?\\b", uni ? "≤" : "<=");
	sub_all_quiet(r, "\\\\ge(?:q)?\\b", uni ? "≥" : ">=");
	sub_all_quiet(r, "\\\\ne(?:q)?\\b", uni ? "≠" : "!=");
	sub_all_quiet(r, "\\\\cdot\\b", uni ? "·" : "*");
	sub_all_quiet(r, "\\\\times\\b", uni ? "×" : "x");
	sub_all_quiet(r, "\\\\(?:l|c)?dots\\b", uni ? "…" : "...");
	sub_all_quiet(r, "\\$\\$?", "");
	return 0;
}

/* A small lexicon of the rewording an LLM does; both columns are plain words. */
static const char *const lexicon[][2] = {
	{ "given", "provided" }, { "find", "determine" }, { "print", "output" },
	{ "contains", "holds" }, { "minimum", "smallest" }, { "maximum", "largest" },
	{ "each", "every" }, { "distinct", "different" }, { "determine", "figure out" },
	{ "calculate", "compute" }, { "required", "needed" }, { "possible", "feasible" },
	{ "consists of", "is made up of" }, { "wants to", "would like to" }, { "however", "but" },
	{ "exactly", "precisely" }, { "at least", "no fewer than" }, { "at most", "no more than" },
	{ "following", "next" }, { "obtain", "get" }, { "choose", "pick" }, { "select", "pick" },
	{ "total", "overall" }, { "consider", "look at" }, { "integer", "whole number" },
	{ "integers", "whole numbers" }, { "sequence", "list" }, { "number of", "count of" },
	{ "help him", "assist him" }, { "help her", "assist her" }, { "denote", "write" },
	{ "respectively", "in that order" }, { "initially", "at the start" }, { "also", "additionally" },
	{ "then", "after that" }, { "such that", "so that" }, { "only", "just" },
	{ "should", "must" }, { "answer", "result" }, { "operation", "move" }, { "operations", "moves" },
	{ "query", "request" }, { "queries", "requests" }, { "single", "one" }, { "describe", "explain" },
	{ "describes", "explains" }, { "description", "explanation" }, { "called", "named" },
	{ "equal to", "the same as" }, { "positive", "greater than zero" }, { "separated", "split" },
	{ "the first line", "the opening line" }, { "the next line", "the line after" },
	{ "it is guaranteed", "you may assume" }, { "guaranteed", "promised" }, { "lowercase", "small" },
	{ "uppercase", "capital" }, { "characters", "symbols" }, { "character", "symbol" },
	{ "numbers", "values" }, { "value", "amount" }, { "values", "amounts" }, { "length", "size" },
	{ "order", "arrangement" }, { "different", "distinct" }, { "problem", "task" },
	{ "task", "job" }, { "friends", "pals" }, { "game", "contest" }, { "win", "succeed" },
	{ "cost", "price" }, { "costs", "prices" }, { "time", "moment" }, { "times", "occasions" },
	{ "line", "row" }, { "lines", "rows" }, { "test case", "scenario" }, { "test cases", "scenarios" },
	{ "the input", "the data" }, { "contain", "hold" }, { "satisfy", "meet" },
	{ "satisfies", "meets" }, { "condition", "requirement" }, { "conditions", "requirements" },
	{ "instead", "rather" }, { "therefore", "so" }, { "because", "since" }, { "big", "large" },
	{ "small", "little" }, { "begin", "start" }, { "begins", "starts" }, { "end", "finish" },
	{ "ends", "finishes" }, { "way", "manner" }, { "ways", "manners" }, { "new", "fresh" },
	{ "note that", "observe that" }, { "can", "may" }, { "cannot", "may not" },
	{ "make", "create" }, { "makes", "creates" }, { "needs", "has" }, { "need", "have" },
};

static int word_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
	       c >= 0x80;
}

static int op_synonyms(struct row *r, long level, long seed)
{
	uint64_t s = r->seed ^ (uint64_t)seed;
	size_t nlex = sizeof(lexicon) / sizeof(lexicon[0]), i = 0, changed = 0;
	char *out;
	size_t n = 0, len = strlen(r->mod);

	if (level < 1 || level > 3)
		return refuse(r, "synonyms level must be 1, 2 or 3");
	out = xmalloc(len * 3 + 16);
	while (i < len) {
		size_t best = nlex, blen = 0;
		int in_math = 0;

		if (i == 0 || !word_char((unsigned char)r->mod[i - 1])) {
			for (size_t k = 0; k < nlex; k++) {
				size_t l = strlen(lexicon[k][0]);

				if (l > blen && strncasecmp(r->mod + i, lexicon[k][0], l) == 0 &&
				    !word_char((unsigned char)r->mod[i + l])) {
					best = k;
					blen = l;
				}
			}
		}
		/* words inside $...$ are math: leave them */
		for (size_t k = 0; k < i; k++)
			in_math ^= r->mod[k] == '$';
		if (best < nlex && !in_math && rnd(&s) % 3 < (uint64_t)level) {
			const char *w = lexicon[best][1];
			size_t wl = strlen(w);

			memcpy(out + n, w, wl);
			if (r->mod[i] >= 'A' && r->mod[i] <= 'Z' && out[n] >= 'a' && out[n] <= 'z')
				out[n] = (char)(out[n] - 32);
			n += wl;
			i += blen;
			changed++;
			continue;
		}
		if (best < nlex) {
			memcpy(out + n, r->mod + i, blen);
			n += blen;
			i += blen;
			continue;
		}
		out[n++] = r->mod[i++];
	}
	out[n] = '\0';
	free(r->mod);
	r->mod = out;
	return changed ? 0 : refuse(r, "no word of the lexicon to change");
}

static int op_shuffle(struct row *r, const char *what, long seed)
{
	size_t end = story_end(r->mod), pa[64], pb[64], np = paragraphs(r->mod, end, pa, pb, 64);
	uint64_t s = r->seed ^ (uint64_t)seed ^ 0x5eed;
	char *out = xmalloc(strlen(r->mod) * 2 + 64);
	size_t n = 0;
	int moved = 0;

	if (strcmp(what, "paragraphs") == 0) {
		size_t order[64];

		if (np < 2) {
			free(out);
			return refuse(r, "fewer than two story paragraphs to reorder");
		}
		for (size_t i = 0; i < np; i++)
			order[i] = i;
		/* the first paragraph goes later: what an LLM that leads with the task does */
		for (size_t i = np - 1; i > 0; i--) {
			size_t j = rnd(&s) % (i + 1), t = order[i];

			order[i] = order[j];
			order[j] = t;
		}
		if (order[0] == 0) {
			size_t t = order[0];

			order[0] = order[1];
			order[1] = t;
		}
		for (size_t i = 0; i < np; i++) {
			memcpy(out + n, r->mod + pa[order[i]], pb[order[i]] - pa[order[i]]);
			n += pb[order[i]] - pa[order[i]];
			if (i + 1 < np) {
				memcpy(out + n, "\n\n", 2);
				n += 2;
			}
		}
		moved = 1;
	} else if (strcmp(what, "sentences") == 0) {
		size_t last = 0;

		for (size_t p = 0; p < np; p++) {
			size_t ends[128], ns = sentence_ends(r->mod, pa[p], pb[p], ends, 128), order[128];
			size_t start[128];

			memcpy(out + n, r->mod + last, pa[p] - last);
			n += pa[p] - last;
			last = pb[p];
			if (memchr(r->mod + pa[p], '\n', pb[p] - pa[p])) {
				/* a list: its lines stay as they are */
				memcpy(out + n, r->mod + pa[p], pb[p] - pa[p]);
				n += pb[p] - pa[p];
				continue;
			}
			for (size_t i = 0; i < ns; i++) {
				start[i] = i ? ends[i - 1] : pa[p];
				while (start[i] < ends[i] && (r->mod[start[i]] == ' ' || r->mod[start[i]] == '\n'))
					start[i]++;
				order[i] = i;
			}
			/* rotate by one or more: every sentence keeps its words */
			if (ns >= 2) {
				size_t k = 1 + rnd(&s) % (ns - 1);

				for (size_t i = 0; i < ns; i++)
					order[i] = (i + k) % ns;
				moved = 1;
			}
			for (size_t i = 0; i < ns; i++) {
				size_t a = start[order[i]], b = ends[order[i]];

				memcpy(out + n, r->mod + a, b - a);
				n += b - a;
				if (b > a && !strchr(".?!:;", r->mod[b - 1]))
					out[n++] = '.';
				if (i + 1 < ns)
					out[n++] = ' ';
			}
		}
		if (!moved) {
			free(out);
			return refuse(r, "no story paragraph of two sentences to reorder");
		}
		memcpy(out + n, r->mod + last, end - last);
		n += end - last;
		memcpy(out + n, r->mod + end, strlen(r->mod + end));
		n += strlen(r->mod + end);
		out[n] = '\0';
		free(r->mod);
		r->mod = out;
		return 0;
	} else {
		free(out);
		return refuse(r, "shuffle what must be sentences or paragraphs");
	}
	while (r->mod[end] == '\n')
		end++;
	if (r->mod[end]) {
		memcpy(out + n, "\n\n", 2);
		n += 2;
	}
	memcpy(out + n, r->mod + end, strlen(r->mod + end) + 1);
	free(r->mod);
	r->mod = out;
	return moved ? 0 : -1;
}

static int op_summarize(struct row *r)
{
	size_t end = story_end(r->mod), pa[64], pb[64], np = paragraphs(r->mod, end, pa, pb, 64);
	char *out = xmalloc(strlen(r->mod) + 2 * np + 16);
	size_t n = 0, cut = 0;

	for (size_t p = 0; p < np; p++) {
		size_t ends[128], ns = sentence_ends(r->mod, pa[p], pb[p], ends, 128);

		memcpy(out + n, r->mod + pa[p], ends[0] - pa[p]);
		n += ends[0] - pa[p];
		cut += ns - 1;
		memcpy(out + n, "\n\n", 2);
		n += 2;
	}
	if (!cut) {
		free(out);
		return refuse(r, "no story paragraph of two sentences to shorten");
	}
	while (end < strlen(r->mod) && r->mod[end] == '\n')
		end++;
	memcpy(out + n, r->mod + end, strlen(r->mod + end) + 1);
	free(r->mod);
	r->mod = out;
	return 0;
}

/* The examples section of s: [*a, *b), from its header to the next header or the end. */
static int examples_section(const char *s, size_t *a, size_t *b, size_t *body)
{
	struct row scratch = { 0 };
	pcre2_code *re = compile(&scratch, "(?m)^(?:-{3,}\\s*Examples?\\s*-{3,}|(?:## |\\*\\*)?Examples?:?(?:\\*\\*)?)\\s*$");
	size_t ov[2];
	int hit = re && find(re, s, 0, ov, 1);

	pcre2_code_free(re);
	if (!hit)
		return 0;
	*a = ov[0];
	*body = ov[1];
	re = compile(&scratch, "(?m)^(?:-{3,}\\s*(?!Examples?)\\w[^\\n]*-{3,}|## (?!Examples?)\\w[^\\n]*|\\*\\*(?!Examples?)\\w[^\\n]*\\*\\*|(?:Note|Notes|Explanation):?)\\s*$");
	hit = re && find(re, s, ov[1], ov, 1);
	pcre2_code_free(re);
	*b = hit ? ov[0] : strlen(s);
	return 1;
}

static int op_examples(struct row *r, const char *mode)
{
	size_t a, b, body;
	char *sec, *buf;

	if (!examples_section(r->mod, &a, &b, &body))
		return refuse(r, "no examples section");
	sec = xstrndup(r->mod + body, b - body);
	buf = xmalloc(2 * strlen(sec) + 256);
	if (strcmp(mode, "drop") == 0) {
		set_removed(r, r->mod + a, b - a);
		splice(&r->mod, a, b, "");
	} else if (strcmp(mode, "repeat") == 0) {
		size_t n = strlen(r->mod);

		sprintf(buf, "\n\nExamples (again):\n%s", sec);
		splice(&r->mod, n, n, buf);
	} else if (strcmp(mode, "restate") == 0 || strcmp(mode, "reformat") == 0) {
		/* the first example: "Input\n...\nOutput\n...\n" */
		char *in = strstr(sec, "Input"), *out = in ? strstr(in, "Output") : NULL, *stop;
		size_t inl, outl;

		if (!in || !out) {
			free(sec);
			free(buf);
			return refuse(r, "the examples have no Input and Output blocks");
		}
		in += 5;
		while (*in == ':' || *in == '\n' || *in == ' ')
			in++;
		inl = (size_t)(out - in);
		out += 6;
		while (*out == ':' || *out == '\n' || *out == ' ')
			out++;
		stop = strstr(out, "\n\n");
		{
			/* up to the next example, or with none to the end of the section */
			char *next = strstr(out, "\nInput");

			if (!stop || !next || next < stop)
				stop = next ? next : out + strlen(out);
		}
		outl = (size_t)(stop - out);
		while (inl && in[inl - 1] == '\n')
			inl--;
		while (outl && out[outl - 1] == '\n')
			outl--;
		if (strcmp(mode, "restate") == 0) {
			size_t n = strlen(r->mod);

			sprintf(buf, "\n\nFor instance, given the input\n%.*s\nthe program should print\n%.*s\n",
				(int)inl, in, (int)outl, out);
			splice(&r->mod, n, n, buf);
		} else {
			sprintf(buf, "\nExample 1:\n\nInput:\n```\n%.*s\n```\nOutput:\n```\n%.*s\n```\n\n",
				(int)inl, in, (int)outl, out);
			splice(&r->mod, body, b, buf);
		}
	} else {
		free(sec);
		free(buf);
		return refuse(r, "examples mode must be restate, repeat, reformat or drop");
	}
	free(sec);
	free(buf);
	return 0;
}

static int op_loop(struct row *r, const char *what, long times)
{
	size_t n = strlen(r->mod), a, b;
	char *piece, *buf;

	while (n && (r->mod[n - 1] == '\n' || r->mod[n - 1] == ' '))
		n--;
	if (!n || times < 2 || times > 50)
		return refuse(r, "loop needs a text and 2 to 50 times");
	b = n;
	if (strcmp(what, "sentence") == 0) {
		sentence_at(r->mod, n - 1, &a, &b);
	} else if (strcmp(what, "line") == 0) {
		for (a = n; a > 0 && r->mod[a - 1] != '\n'; a--)
			;
	} else if (strcmp(what, "paragraph") == 0) {
		const char *p = NULL;

		for (a = n; a > 1; a--)
			if (r->mod[a - 1] == '\n' && r->mod[a - 2] == '\n') {
				p = r->mod + a;
				break;
			}
		a = p ? (size_t)(p - r->mod) : 0;
	} else {
		return refuse(r, "loop what must be sentence, line or paragraph");
	}
	piece = xstrndup(r->mod + a, b - a);
	buf = xmalloc((strlen(piece) + 3) * (size_t)times + 1);
	buf[0] = '\0';
	for (long i = 1; i < times; i++) {
		strcat(buf, strcmp(what, "sentence") == 0 ? " " : strcmp(what, "line") == 0 ? "\n" : "\n\n");
		strcat(buf, piece);
	}
	splice(&r->mod, b, b, buf);
	free(piece);
	free(buf);
	return 0;
}

static int op_whitespace(struct row *r)
{
	sub_all_quiet(r, "(?m)([^\\n ])$", "$1  ");
	sub_all_quiet(r, "\\n\\n", "\n \n\n");
	return 0;
}

/* ---- a recipe ------------------------------------------------------------ */

static const char *jstr(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);

	return json_is_string(v) ? json_string_value(v) : NULL;
}

static int apply(struct row *r, json_t *op)
{
	const char *name = jstr(op, "op"), *text = jstr(op, "text"), *at = jstr(op, "at");
	json_t *jn = json_object_get(op, "n");
	char *t = NULL;
	int rc;

	if (!name)
		return refuse(r, "an op without \"op\"");
	if (text) {
		t = expand(r, text);
		if (!t)
			return -1;
	}
#define NEED(cond, what) do { if (!(cond)) { free(t); return refuse(r, "%s needs %s", name, what); } } while (0)
	if (strcmp(name, "sub") == 0) {
		const char *re = jstr(op, "re"), *with = jstr(op, "with");
		char *w;

		NEED(re && with, "re and with");
		w = expand(r, with);
		if (!w)
			return -1;
		rc = op_sub(r, re, w, json_is_true(json_object_get(op, "all")));
		free(w);
	} else if (strcmp(name, "drop") == 0) {
		NEED(jstr(op, "re"), "re");
		rc = op_drop(r, jstr(op, "re"));
	} else if (strcmp(name, "insert") == 0 || strcmp(name, "task") == 0) {
		NEED(t && at, "text and at");
		rc = insert_at(r, &r->mod, t, at);
		if (!rc && name[0] == 't')
			rc = insert_at(r, &r->orig, t, at);
	} else if (strcmp(name, "constraint") == 0) {
		NEED(jstr(op, "with"), "with");
		rc = op_constraint(r, jstr(op, "with"));
	} else if (strcmp(name, "number") == 0) {
		NEED(json_is_integer(json_object_get(op, "k")) && jstr(op, "with"), "k and with");
		rc = op_number(r, (long)json_integer_value(json_object_get(op, "k")), jstr(op, "with"));
	} else if (strcmp(name, "markdown") == 0) {
		rc = op_markdown(r, jstr(op, "style") ? jstr(op, "style") : "hash");
	} else if (strcmp(name, "latex") == 0) {
		rc = op_latex(r, jstr(op, "mode") ? jstr(op, "mode") : "strip");
	} else if (strcmp(name, "synonyms") == 0) {
		rc = op_synonyms(r, (long)json_integer_value(json_object_get(op, "level")),
				 (long)json_integer_value(json_object_get(op, "seed")));
	} else if (strcmp(name, "shuffle") == 0) {
		NEED(jstr(op, "what"), "what");
		rc = op_shuffle(r, jstr(op, "what"), (long)json_integer_value(json_object_get(op, "seed")));
	} else if (strcmp(name, "summarize") == 0) {
		rc = op_summarize(r);
	} else if (strcmp(name, "examples") == 0) {
		NEED(jstr(op, "mode"), "mode");
		rc = op_examples(r, jstr(op, "mode"));
	} else if (strcmp(name, "prefix") == 0 || strcmp(name, "append") == 0) {
		NEED(t, "text");
		splice(&r->mod, name[0] == 'p' ? 0 : strlen(r->mod), name[0] == 'p' ? 0 : strlen(r->mod), t);
		rc = 0;
	} else if (strcmp(name, "truncate") == 0) {
		double keep = json_number_value(json_object_get(op, "keep"));
		size_t n = strlen(r->mod), at_byte = (size_t)(keep * (double)n);

		NEED(keep > 0 && keep < 1, "keep between 0 and 1");
		while (at_byte < n && ((unsigned char)r->mod[at_byte] & 0xc0) == 0x80)
			at_byte++;
		r->mod[at_byte] = '\0';
		rc = 0;
	} else if (strcmp(name, "loop") == 0) {
		NEED(jstr(op, "what"), "what");
		rc = op_loop(r, jstr(op, "what"), (long)json_integer_value(json_object_get(op, "times")));
	} else if (strcmp(name, "other") == 0) {
		json_int_t m = json_integer_value(jn);

		NEED(json_is_integer(jn) && m >= 0 && (size_t)m < nstatements && statements[m], "n of a statement");
		free(r->mod);
		r->mod = strdup(statements[m]);
		rc = 0;
	} else if (strcmp(name, "whitespace") == 0) {
		rc = op_whitespace(r);
	} else if (strcmp(name, "replace") == 0) {
		NEED(t, "text");
		free(r->mod);
		r->mod = t;
		t = NULL;
		rc = 0;
	} else {
		rc = refuse(r, "unknown op '%s'", name);
	}
#undef NEED
	free(t);
	return rc;
}

static uint64_t fnv(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

/* Build one row; 0 and the row printed, or -1 with r->why. */
static int build(json_t *recipe, const char *split, json_t **out, char *err, size_t errcap)
{
	struct row r = { 0 };
	json_t *jn = json_object_get(recipe, "n"), *ops = json_object_get(recipe, "ops");
	json_t *qs = json_object_get(recipe, "questions"), *eq = json_array(), *op, *q;
	const char *fields[] = { "id", "category", "label", "kind", NULL };
	size_t i;
	int rc = 0;

	r.id = jstr(recipe, "id");
	for (i = 0; fields[i]; i++)
		if (!jstr(recipe, fields[i])) {
			json_decref(eq);
			return snprintf(err, errcap, "no \"%s\"", fields[i]), -1;
		}
	if (!json_is_integer(jn) || json_integer_value(jn) < 0 ||
	    (size_t)json_integer_value(jn) >= nstatements || !statements[json_integer_value(jn)]) {
		json_decref(eq);
		return snprintf(err, errcap, "\"n\" names no statement"), -1;
	}
	if (!json_is_array(ops) || (qs && !json_is_array(qs))) {
		json_decref(eq);
		return snprintf(err, errcap, "\"ops\" and \"questions\" must be lists"), -1;
	}
	r.seed = fnv(r.id);
	r.orig = strdup(statements[json_integer_value(jn)]);
	r.mod = strdup(r.orig);
	json_array_foreach(ops, i, op) {
		if (!json_is_object(op) || apply(&r, op)) {
			snprintf(err, errcap, "op %zu (%s): %s", i + 1, jstr(op, "op") ? jstr(op, "op") : "?",
				*r.why ? r.why : "not an object");
			rc = -1;
			break;
		}
	}
	json_array_foreach(qs, i, q) {
		char *e;

		if (rc)
			break;
		if (!json_is_string(q)) {
			snprintf(err, errcap, "question %zu is not a string", i + 1);
			rc = -1;
			break;
		}
		e = expand(&r, json_string_value(q));
		if (!e) {
			snprintf(err, errcap, "question %zu: %s", i + 1, r.why);
			rc = -1;
			break;
		}
		json_array_append_new(eq, json_string(e));
		free(e);
	}
	if (!rc) {
		*out = json_pack("{s:s, s:s, s:O, s:s, s:s, s:s, s:s, s:s, s:O}", "id", r.id, "split", split,
				 "n", jn, "category", jstr(recipe, "category"), "label",
				 jstr(recipe, "label"), "kind", jstr(recipe, "kind"), "original", r.orig,
				 "modified", r.mod, "questions", qs ? eq : json_null());
		if (jstr(recipe, "finish_reason"))
			json_object_set_new(*out, "finish_reason", json_string(jstr(recipe, "finish_reason")));
	}
	json_decref(eq);
	free(r.orig);
	free(r.mod);
	return rc;
}

static int read_statements(const char *path)
{
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;

	if (!f) {
		fprintf(stderr, "filter_corpus: cannot open '%s': %s\n", path, strerror(errno));
		return -1;
	}
	while ((len = getline(&line, &cap, f)) > 0) {
		json_error_t e;
		json_t *o = json_loadb(line, (size_t)len, 0, &e);
		json_int_t n = json_integer_value(json_object_get(o, "n"));
		const char *q = jstr(o, "question");

		if (o && q && n >= 0 && n < MAX_N) {
			free(statements[n]);
			statements[n] = strdup(q);
			if ((size_t)n + 1 > nstatements)
				nstatements = (size_t)n + 1;
		}
		json_decref(o);
	}
	free(line);
	fclose(f);
	return nstatements ? 0 : -1;
}

int main(int argc, char **argv)
{
	const char *split = "corpus";
	int all_errors = 0, refused = 0, argi = 1;
	FILE *f;
	char *line = NULL;
	size_t cap = 0, lineno = 0;
	ssize_t len;
	json_t *ids;

	for (; argi < argc && argv[argi][0] == '-' && argv[argi][1] == '-'; argi++) {
		if (strcmp(argv[argi], "--split") == 0 && argi + 1 < argc)
			split = argv[++argi];
		else if (strcmp(argv[argi], "--all-errors") == 0)
			all_errors = 1;
		else
			break;
	}
	if (argc - argi != 2) {
		fprintf(stderr, "usage: filter_corpus [--split NAME] [--all-errors] STATEMENTS.jsonl "
				"RECIPES.jsonl\n");
		return 2;
	}
	if (read_statements(argv[argi]))
		return 1;
	f = fopen(argv[argi + 1], "r");
	if (!f) {
		fprintf(stderr, "filter_corpus: cannot open '%s': %s\n", argv[argi + 1], strerror(errno));
		return 1;
	}
	ids = json_object();
	while ((len = getline(&line, &cap, f)) > 0) {
		json_error_t e;
		json_t *recipe, *row = NULL;
		const char *id;

		lineno++;
		if (len <= 1 || line[0] == '#')
			continue;
		recipe = json_loadb(line, (size_t)len, 0, &e);
		if (!recipe || !json_is_object(recipe)) {
			fprintf(stderr, "%s:%zu: %s\n", argv[argi + 1], lineno,
				recipe ? "not a JSON object" : e.text);
			json_decref(recipe);
			refused++;
			if (!all_errors)
				break;
			continue;
		}
		id = jstr(recipe, "id");
		if (id && json_object_get(ids, id)) {
			fprintf(stderr, "%s:%zu: recipe '%s': the id is used twice\n", argv[argi + 1], lineno,
				id);
			refused++;
		} else {
			char why[1024];

			if (id)
				json_object_set_new(ids, id, json_true());
			if (build(recipe, split, &row, why, sizeof(why)) == 0) {
				json_dumpf(row, stdout, JSON_COMPACT | JSON_PRESERVE_ORDER);
				fputc('\n', stdout);
				json_decref(row);
			} else {
				fprintf(stderr, "%s:%zu: recipe '%s': %s\n", argv[argi + 1], lineno,
					id ? id : "?", why);
				refused++;
			}
		}
		json_decref(recipe);
		if (refused && !all_errors)
			break;
	}
	free(line);
	fclose(f);
	json_decref(ids);
	for (size_t i = 0; i < nstatements; i++)
		free(statements[i]);
	return refused ? 2 : 0;
}
