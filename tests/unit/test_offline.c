/*
 * test_offline.c - the offline provider: a rewrite has the reply's shape,
 * differs from the problem, never says it is a rewrite, does what its
 * category asks and is deterministic; the questions are 1-4 questions that
 * never speak of an earlier text and never quote what the rewrite took out.
 * Also run on the APPS sample problems of the shared data when present.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../../llm/provider.h"

/* ---- problems ------------------------------------------------------------- */

/* Codeforces layout: sections, LaTeX bounds in parentheses, two examples. */
static const char p_codeforces[] =
	"Vasya has an array $a$ of $n$ integers. In one move he can choose an index $i$ and "
	"increase $a_i$ by exactly $1$. Find the minimum number of moves needed to make all "
	"elements of the array distinct.\n"
	"\n"
	"-----Input-----\n"
	"\n"
	"The first line contains one integer $n$ ($1 \\le n \\le 2 \\cdot 10^5$) \xe2\x80\x94 the "
	"length of the array.\n"
	"\n"
	"The second line contains $n$ integers $a_1, a_2, \\ldots, a_n$ ($1 \\le a_i \\le 10^9$).\n"
	"\n"
	"-----Output-----\n"
	"\n"
	"Print one integer \xe2\x80\x94 the minimum number of moves. It is guaranteed that the "
	"answer fits into a signed 64-bit integer.\n"
	"\n"
	"-----Examples-----\n"
	"Input\n"
	"3\n"
	"1 2 2\n"
	"\n"
	"Output\n"
	"1\n"
	"\n"
	"Input\n"
	"4\n"
	"5 5 5 5\n"
	"\n"
	"Output\n"
	"6\n"
	"\n"
	"-----Note-----\n"
	"\n"
	"In the first example it is enough to increase the last element by $1$, so the array "
	"becomes $[1, 2, 3]$.\n";

/* LeetCode layout: "Example 1:", "Constraints:", non-breaking spaces. */
static const char p_leetcode[] =
	"Given an array of integers nums sorted in non-decreasing order and an integer target, "
	"return the number of elements of nums that are at most target.\n"
	"\xc2\xa0\n"
	"Example 1:\n"
	"\n"
	"Input: nums = [1,2,2,4,7], target = 3\n"
	"Output: 3\n"
	"Explanation: The elements 1, 2 and 2 are at most 3.\n"
	"\n"
	"Example 2:\n"
	"\n"
	"Input: nums = [5,6], target = 1\n"
	"Output: 0\n"
	"\n"
	"\xc2\xa0\n"
	"Constraints:\n"
	"\n"
	"1 <= nums.length <= 10^5\n"
	"-10^9 <= nums[i] <= 10^9\n"
	"nums is sorted in non-decreasing order.\n"
	"-10^9 <= target <= 10^9\n";

/* AtCoder layout: a "Constraints" section with full-width signs, modulo. */
static const char p_atcoder[] =
	"There are N towns numbered 1 to N. Takahashi wants to visit each town exactly once, "
	"starting from town 1. Count the number of possible orders of visiting, modulo 10^9+7.\n"
	"\n"
	"-----Constraints-----\n"
	" - 1 \xe2\x89\xa6 N \xe2\x89\xa6 2000\n"
	" - All values in input are integers.\n"
	"\n"
	"-----Input-----\n"
	"Input is given from Standard Input in the following format:\n"
	"N\n"
	"\n"
	"-----Output-----\n"
	"Print the number of orders, modulo 10^9+7.\n"
	"\n"
	"-----Sample Input-----\n"
	"3\n"
	"\n"
	"-----Sample Output-----\n"
	"2\n"
	"\n"
	"The two orders are 1, 2, 3 and 1, 3, 2.\n";

/* One line with a bound in prose. */
static const char p_tiny[] = "Print the sum of two integers a and b, where 0 <= a, b <= 1000.";

/* One line, no number, no term to blur. */
static const char p_words[] = "Reverse the given string.";

/* Not English, multi-byte text around the bound. */
static const char p_utf8[] =
	"\xd0\x94\xd0\xb0\xd0\xbd\xd0\xbe \xd1\x87\xd0\xb8\xd1\x81\xd0\xbb\xd0\xbe n "
	"(1 \xe2\x89\xa4 n \xe2\x89\xa4 100). \xd0\x92\xd1\x8b\xd0\xb2\xd0\xb5\xd0\xb4\xd0\xb8"
	"\xd1\x82\xd0\xb5 n\xc2\xb2 \xe2\x80\x94 \xd0\xba\xd0\xb2\xd0\xb0\xd0\xb4\xd1\x80\xd0\xb0"
	"\xd1\x82 \xd1\x87\xd0\xb8\xd1\x81\xd0\xbb\xd0\xb0.\n"
	"\n"
	"-----Examples-----\n"
	"Input\n"
	"3\n"
	"\n"
	"Output\n"
	"9\n";

static const char *const problems[] = {
	p_codeforces, p_leetcode, p_atcoder, p_tiny, p_words, p_utf8,
};

static const uint64_t seeds[] = { 0, 1, 7, 42, 20260501, UINT64_MAX };

/* ---- helpers -------------------------------------------------------------- */

static int reply(const char *orig, const char *mod, int cat, int stage, uint64_t seed, char **out)
{
	struct llm_request r;
	struct buf b;
	int rc;

	memset(&r, 0, sizeof(r));
	r.original = orig;
	r.modified = mod;
	r.category = cat;
	r.stage = stage;
	buf_init(&b, 1 << 20);
	rc = llm_offline_reply(&r, seed, &b);
	*out = rc ? NULL : buf_detach(&b, NULL);
	buf_release(&b);
	return rc;
}

static size_t count_str(const char *s, const char *needle)
{
	size_t n = 0, m = strlen(needle);

	for (const char *p = strstr(s, needle); p; p = strstr(p + m, needle))
		n++;
	return n;
}

static size_t count_ci(const char *s, const char *needle)
{
	size_t n = 0, m = strlen(needle);

	for (; *s; s++)
		if (strncasecmp(s, needle, m) == 0)
			n++;
	return n;
}

/* The text between open and close, without the newline after open and the
 * one before close; asserts each tag appears once, in that order. */
static char *between(const char *s, const char *open, const char *close)
{
	const char *a, *b;
	char *r;
	size_t n;

	assert_int_equal(count_str(s, open), 1);
	assert_int_equal(count_str(s, close), 1);
	a = strstr(s, open);
	b = strstr(s, close);
	assert_true(a < b);
	a += strlen(open);
	if (*a == '\n')
		a++;
	n = (size_t)(b - a);
	if (n && a[n - 1] == '\n')
		n--;
	r = malloc(n + 1);
	assert_non_null(r);
	memcpy(r, a, n);
	r[n] = '\0';
	return r;
}

static int utf8_valid(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	while (*p) {
		int n = *p < 0x80 ? 0 : (*p & 0xe0) == 0xc0 ? 1 : (*p & 0xf0) == 0xe0 ? 2 :
			(*p & 0xf8) == 0xf0 ? 3 : -1;

		if (n < 0 || (n == 1 && *p < 0xc2))
			return 0;
		p++;
		for (int i = 0; i < n; i++, p++)
			if ((*p & 0xc0) != 0x80)
				return 0;
	}
	return 1;
}

/* Equal once runs of white space count as one blank and the ends are trimmed. */
static int same_text(const char *a, const char *b)
{
	for (;;) {
		int sa = 0, sb = 0;

		while (*a == ' ' || *a == '\n' || *a == '\t' || *a == '\r') {
			a++;
			sa = 1;
		}
		while (*b == ' ' || *b == '\n' || *b == '\t' || *b == '\r') {
			b++;
			sb = 1;
		}
		if (!*a || !*b)
			return !*a && !*b;
		if (sa != sb || *a != *b)
			return 0;
		a++;
		b++;
	}
}

/* ---- the leak check: a run of 4 tokens in the original, not in the rewrite */

struct toks {
	const char *s[4096];
	size_t n[4096];
	size_t count;
};

static int word_byte(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       c == '_' || c >= 0x80;
}

/* Words, or (punct) words and single punctuation marks; U+00A0 is a blank. */
static void tokenize(const char *s, int punct, struct toks *t)
{
	const unsigned char *p = (const unsigned char *)s;

	t->count = 0;
	while (*p && t->count < 4096) {
		if (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r') {
			p++;
			continue;
		}
		if (p[0] == 0xc2 && p[1] == 0xa0) {
			p += 2;
			continue;
		}
		if (word_byte(*p)) {
			const unsigned char *e = p;

			while (*e && word_byte(*e) && !(e[0] == 0xc2 && e[1] == 0xa0))
				e++;
			t->s[t->count] = (const char *)p;
			t->n[t->count++] = (size_t)(e - p);
			p = e;
			continue;
		}
		if (punct) {
			t->s[t->count] = (const char *)p;
			t->n[t->count++] = 1;
		}
		p++;
	}
}

static int has_run(const struct toks *t, const struct toks *q, size_t qi)
{
	for (size_t i = 0; i + 4 <= t->count; i++) {
		size_t k = 0;

		while (k < 4 && t->n[i + k] == q->n[qi + k] &&
		       strncasecmp(t->s[i + k], q->s[qi + k], t->n[i + k]) == 0)
			k++;
		if (k == 4)
			return 1;
	}
	return 0;
}

static int leaks(const char *question, const char *orig, const char *mod)
{
	static struct toks q, o, m;

	for (int punct = 0; punct < 2; punct++) {
		tokenize(question, punct, &q);
		tokenize(orig, punct, &o);
		tokenize(mod, punct, &m);
		for (size_t i = 0; i + 4 <= q.count; i++)
			if (has_run(&o, &q, i) && !has_run(&m, &q, i))
				return 1;
	}
	return 0;
}

/* ---- what each category must do ------------------------------------------ */

static const char *const commentary[] = {
	"original", "modified", "rewrite", "ambiguous", "inconsistent", "incomplete", "removed",
};

/* Comparison signs a bound is written with. */
static size_t bound_signs(const char *s)
{
	static const char *const ops[] = { "\\le", "\\ge", "\xe2\x89\xa4", "\xe2\x89\xa5",
					   "\xe2\x89\xa6", "\xe2\x89\xa7", "<", ">" };
	size_t n = 0;

	for (size_t k = 0; k < sizeof(ops) / sizeof(ops[0]); k++)
		n += count_str(s, ops[k]);
	return n;
}

static int has_digit(const char *s)
{
	return strpbrk(s, "0123456789") != NULL;
}

/* The digits of s in order, each run of other bytes as one ',' (malloc'd). */
static char *number_sequence(const char *s)
{
	size_t o = 0;
	int gap = 0;
	char *out = malloc(2 * strlen(s) + 1);

	assert_non_null(out);
	for (; *s; s++) {
		if (*s >= '0' && *s <= '9') {
			if (gap && o)
				out[o++] = ',';
			out[o++] = *s;
			gap = 0;
		} else {
			gap = 1;
		}
	}
	out[o] = '\0';
	return out;
}

/* A precise term fewer, or a vague one more. */
static int blurred(const char *orig, const char *mod)
{
	static const char *const vague[] = {
		"not too large", "reasonable", "can be large", "not too many", "best", "about",
		"suitable form", "some value", "several", "a few", "large enough", "some",
		"mostly different", "number", "indexed", "Solve the task",
	};
	static const char *const precise[] = {
		"distinct", "lexicographically", "lowercase", "lower case", "uppercase",
		"upper case", "positive", "non-negative", "exactly", "minimum", "maximum",
		"minimal", "maximal", "smallest", "largest", "sorted in", "modulo", "integer",
		"at most", "at least", "no more than",
	};

	for (size_t k = 0; k < sizeof(vague) / sizeof(vague[0]); k++)
		if (count_ci(mod, vague[k]) > count_ci(orig, vague[k]))
			return 1;
	for (size_t k = 0; k < sizeof(precise) / sizeof(precise[0]); k++)
		if (count_ci(mod, precise[k]) < count_ci(orig, precise[k]))
			return 1;
	return bound_signs(mod) < bound_signs(orig);
}

static void check_questions(const char *reply_text, const char *orig, const char *mod)
{
	static const char *const banned[] = { "original", "previous", "removed", "changed" };
	char *qs, *save = NULL;
	int n = 0;

	assert_true(utf8_valid(reply_text));
	assert_int_equal(strncmp(reply_text, "<reasoning>\n", 12), 0);
	free(between(reply_text, "<reasoning>", "</reasoning>"));
	assert_true(strstr(reply_text, "</reasoning>") < strstr(reply_text, "<questions>"));
	qs = between(reply_text, "<questions>", "</questions>");
	for (char *q = strtok_r(qs, "\n", &save); q; q = strtok_r(NULL, "\n", &save)) {
		n++;
		assert_true(strlen(q) > 1);
		if (q[strlen(q) - 1] != '?')
			fail_msg("not a question: '%s'", q);
		for (size_t k = 0; k < sizeof(banned) / sizeof(banned[0]); k++)
			if (count_ci(q, banned[k]))
				fail_msg("question mentions '%s': '%s'", banned[k], q);
		if (leaks(q, orig, mod))
			fail_msg("question quotes text the rewrite took out: '%s'", q);
	}
	free(qs);
	assert_true(n >= 1 && n <= 4);
}

/* Every check on one problem, category and seed; returns the rewrite. */
static char *check_one(const char *orig, int cat, uint64_t seed)
{
	char *m1, *m2, *c1, *c2, *mod, *a, *b;

	assert_int_equal(reply(orig, NULL, cat, LLM_STAGE_MODIFY, seed, &m1), 0);
	assert_int_equal(reply(orig, NULL, cat, LLM_STAGE_MODIFY, seed, &m2), 0);
	assert_string_equal(m1, m2);
	assert_true(utf8_valid(m1));
	/* exactly the two tag pairs, in order, and nothing around them */
	assert_int_equal(strncmp(m1, "<reasoning>\n", 12), 0);
	free(between(m1, "<reasoning>", "</reasoning>"));
	assert_true(strstr(m1, "</reasoning>") < strstr(m1, "<modified_problem>"));
	mod = between(m1, "<modified_problem>", "</modified_problem>");
	assert_string_equal(m1 + strlen(m1) - strlen("</modified_problem>"), "</modified_problem>");
	assert_int_equal(count_str(mod, "<reasoning>") + count_str(mod, "<questions>"), 0);
	if (same_text(orig, mod))
		fail_msg("the rewrite equals the problem (category %s, seed %llu)",
			 category_name(cat), (unsigned long long)seed);
	for (size_t k = 0; k < sizeof(commentary) / sizeof(commentary[0]); k++)
		if (count_ci(mod, commentary[k]) > count_ci(orig, commentary[k]))
			fail_msg("the rewrite says '%s'", commentary[k]);
	switch (cat) {
	case CAT_INCOMPLETE:
		if (bound_signs(orig))
			assert_true(bound_signs(mod) < bound_signs(orig));
		assert_true(strlen(mod) < strlen(orig));
		break;
	case CAT_AMBIGUOUS:
		assert_true(blurred(orig, mod));
		break;
	case CAT_INCONSISTENT:
		if (has_digit(orig)) {
			a = number_sequence(orig);
			b = number_sequence(mod);
			if (strcmp(a, b) == 0 && count_ci(mod, "yes") == count_ci(orig, "yes") &&
			    count_ci(mod, "true") == count_ci(orig, "true"))
				fail_msg("no number changed:\n%s", mod);
			free(a);
			free(b);
		}
		break;
	default:
		break;
	}
	/* stage 2 on stage 1's rewrite */
	assert_int_equal(reply(orig, mod, cat, LLM_STAGE_CLARIFY, seed, &c1), 0);
	assert_int_equal(reply(orig, mod, cat, LLM_STAGE_CLARIFY, seed, &c2), 0);
	assert_string_equal(c1, c2);
	check_questions(c1, orig, mod);
	free(c2);
	/* and with another seed, whose own rewrite usually differs: then the
	 * edits come from the line diff */
	assert_int_equal(reply(orig, mod, cat, LLM_STAGE_CLARIFY, seed ^ 0x5bd1e995, &c2), 0);
	check_questions(c2, orig, mod);
	free(c1);
	free(c2);
	free(m1);
	free(m2);
	return mod;
}

static void check_problem(const char *orig)
{
	for (int cat = 0; cat < CAT_COUNT; cat++)
		for (size_t s = 0; s < sizeof(seeds) / sizeof(seeds[0]); s++)
			free(check_one(orig, cat, seeds[s]));
}

/* ---- tests -------------------------------------------------------------- */

static void rewrites_and_questions_hold_for_each_layout(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(problems) / sizeof(problems[0]); i++)
		check_problem(problems[i]);
}

static void incomplete_takes_out_a_bound(void **state)
{
	char *mod, *c;

	(void)state;
	for (size_t s = 0; s < sizeof(seeds) / sizeof(seeds[0]); s++) {
		mod = check_one(p_tiny, CAT_INCOMPLETE, seeds[s]);
		assert_null(strstr(mod, "1000"));
		assert_null(strstr(mod, "<="));
		assert_non_null(strstr(mod, "Print the sum of two integers a and b"));
		assert_int_equal(reply(p_tiny, mod, CAT_INCOMPLETE, LLM_STAGE_CLARIFY, seeds[s],
				       &c), 0);
		assert_non_null(strstr(c, "values of a"));
		free(c);
		free(mod);

		/* one of the two bounds in parentheses, and only that */
		mod = check_one(p_codeforces, CAT_INCOMPLETE, seeds[s]);
		assert_int_equal(bound_signs(mod), bound_signs(p_codeforces) - 2);
		assert_non_null(strstr(mod, "-----Examples-----\nInput\n3\n1 2 2"));
		free(mod);

		mod = check_one(p_leetcode, CAT_INCOMPLETE, seeds[s]);
		assert_int_equal(count_str(mod, "<="), count_str(p_leetcode, "<=") - 2);
		free(mod);

		mod = check_one(p_utf8, CAT_INCOMPLETE, seeds[s]);
		assert_null(strstr(mod, "100"));
		free(mod);
	}
}

static void ambiguous_blurs_a_precise_term(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(problems) / sizeof(problems[0]); i++) {
		for (size_t s = 0; s < sizeof(seeds) / sizeof(seeds[0]); s++) {
			char *mod = check_one(problems[i], CAT_AMBIGUOUS, seeds[s]);

			assert_true(blurred(problems[i], mod));
			free(mod);
		}
	}
}

static void inconsistent_changes_a_number(void **state)
{
	char *mod, *a, *b;

	(void)state;
	for (size_t s = 0; s < sizeof(seeds) / sizeof(seeds[0]); s++) {
		/* LeetCode: an output or a constraint, never the statement's prose */
		mod = check_one(p_leetcode, CAT_INCONSISTENT, seeds[s]);
		a = number_sequence(p_leetcode);
		b = number_sequence(mod);
		assert_string_not_equal(a, b);
		free(a);
		free(b);
		assert_non_null(strstr(mod, "Given an array of integers nums sorted in "
					    "non-decreasing order"));
		free(mod);

		mod = check_one(p_codeforces, CAT_INCONSISTENT, seeds[s]);
		assert_non_null(strstr(mod, "Find the minimum number of moves"));
		free(mod);

		/* no number at all: still something that contradicts */
		mod = check_one(p_words, CAT_INCONSISTENT, seeds[s]);
		assert_false(same_text(mod, p_words));
		free(mod);
	}
}

static void same_seed_same_reply_and_seeds_vary(void **state)
{
	char *outs[16];
	size_t distinct = 0;

	(void)state;
	for (int i = 0; i < 16; i++) {
		char *again;

		uint64_t seed = (uint64_t)i;

		assert_int_equal(reply(p_codeforces, NULL, CAT_AMBIGUOUS, LLM_STAGE_MODIFY, seed,
				       &outs[i]), 0);
		assert_int_equal(reply(p_codeforces, NULL, CAT_AMBIGUOUS, LLM_STAGE_MODIFY, seed,
				       &again), 0);
		assert_string_equal(outs[i], again);
		free(again);
	}
	for (int i = 0; i < 16; i++) {
		int seen = 0;

		for (int j = 0; j < i; j++)
			seen |= strcmp(outs[i], outs[j]) == 0;
		distinct += !seen;
	}
	assert_true(distinct >= 2);
	for (int i = 0; i < 16; i++)
		free(outs[i]);
}

/* Rewrites made elsewhere (a model): the questions come from a diff. */
static void clarify_reads_a_foreign_rewrite(void **state)
{
	static const char *const foreign[][2] = {
		/* incomplete: the bound on n taken out */
		{ "($1 \\le n \\le 2 \\cdot 10^5$) ", "" },
		/* ambiguous: "minimum" blurred */
		{ "Find the minimum number", "Find the optimal number" },
		/* inconsistent: the second example's answer */
		{ "Output\n6\n", "Output\n7\n" },
	};
	static const int cat[] = { CAT_INCOMPLETE, CAT_AMBIGUOUS, CAT_INCONSISTENT };
	static const char *const expect[] = { "values of n", "minimum or the maximum",
					      "example 2" };

	(void)state;
	for (int k = 0; k < 3; k++) {
		const char *at = strstr(p_codeforces, foreign[k][0]);
		char mod[4096], *c;
		size_t pre;

		assert_non_null(at);
		pre = (size_t)(at - p_codeforces);
		snprintf(mod, sizeof(mod), "%.*s%s%s", (int)pre, p_codeforces, foreign[k][1],
			 at + strlen(foreign[k][0]));
		assert_int_equal(reply(p_codeforces, mod, cat[k], LLM_STAGE_CLARIFY, 3, &c), 0);
		check_questions(c, p_codeforces, mod);
		if (!strstr(c, expect[k]))
			fail_msg("expected '%s' in:\n%s", expect[k], c);
		free(c);
	}
}

static void questions_never_quote_what_was_taken_out(void **state)
{
	/* a bound sentence whose words would make a natural question */
	static const char orig[] =
		"You are given a list of numbers. Find the range of the list.\n"
		"The length of the list is at most 100 and the values are between 1 and 1000.\n"
		"It is guaranteed that the answer always exists for every list.\n";
	char *mod, *c;

	(void)state;
	for (int cat = 0; cat < CAT_COUNT; cat++) {
		for (uint64_t s = 0; s < 24; s++) {
			mod = check_one(orig, cat, s);
			assert_int_equal(reply(orig, mod, cat, LLM_STAGE_CLARIFY, s, &c), 0);
			check_questions(c, orig, mod);
			free(c);
			free(mod);
		}
	}
	/* the first wording of the question would quote the dropped line:
	 * another wording must be chosen */
	for (uint64_t s = 0; s < 8; s++) {
		static const char trap[] =
			"Find the sum of the digits of n.\n"
			"\n"
			"Constraints:\n"
			"1 <= n <= 100 (the smallest and largest possible values of n)\n";

		mod = check_one(trap, CAT_INCOMPLETE, s);
		assert_null(strstr(mod, "100"));
		assert_int_equal(reply(trap, mod, CAT_INCOMPLETE, LLM_STAGE_CLARIFY, s, &c), 0);
		assert_null(strstr(c, "smallest and largest possible"));
		assert_non_null(strstr(c, " n?"));
		free(c);
		free(mod);
	}
	/* the leak check itself */
	assert_true(leaks("Is it true that the answer always exists?", orig, "Find the range."));
	assert_false(leaks("Does an answer exist?", orig, "Find the range."));
}

/* llm/offline.yaml: the shipped file loads; a bad one is refused with
 * its line and why */
#define RULES_HEAD "questions:\n  - edit: any\n    ask:\n      - [\"What is {v}?\"]\n" \
	"generic_questions: [\"Could you clarify the task?\"]\n" \
	"reasoning:\n  - edit: any\n    say: \"Unclear.\"\n" \
	"reasoning_close: \"I ask.\"\n" \
	"vague_bounds:\n  paren: [a]\n  paren_plural: [b]\n  singular: [c]\n  plural: [d]\n"

static void assert_rules_refused(const char *text, const char *want)
{
	int rc;

	err_clear();
	rc = llm_offline_check_text(text, strlen(text), "r.yaml");
	assert_int_equal(rc, CL_ECONFIG);
	if (!strstr(err_msg(rc), want))
		fail_msg("wanted \"%s\", got \"%s\"", want, err_msg(rc));
}

static void rule_file_loads_and_refuses_with_line_and_reason(void **state)
{
	(void)state;
	assert_int_equal(llm_offline_check(), 0);
	assert_int_equal(llm_offline_check_text(RULES_HEAD, strlen(RULES_HEAD), "r.yaml"), 0);
	assert_rules_refused(RULES_HEAD "extra: 1\n", "r.yaml:15: unknown key 'extra'");
	assert_rules_refused("questions:\n  - edit: drop-everything\n    ask: [[\"Q?\"]]\n",
			     "r.yaml:2: unknown edit 'drop-everything'");
	assert_rules_refused("questions:\n  - edit: drop-sentence\n    class: colour\n"
			     "    ask: [[\"Q?\"]]\n",
			     "r.yaml:3: unknown class 'colour' of edit 'drop-sentence'");
	assert_rules_refused("questions:\n  - edit: drop-bound\n    class: size\n    ask: [[\"Q?\"]]\n",
			     "r.yaml:3: edit 'drop-bound' has no classes");
	assert_rules_refused("questions:\n  - edit: any\n    when: [sunny]\n    ask: [[\"Q?\"]]\n",
			     "r.yaml:3: unknown condition 'sunny'");
	assert_rules_refused("questions:\n  - edit: any\n    ask: [[\"What is {y}?\"]]\n",
			     "r.yaml:3: a wording: unknown fill '{y}'");
	assert_rules_refused("questions:\n  - edit: any\n    ask: [[a, b, c, d]]\n",
			     "r.yaml:3: at most three wordings per question");
	assert_rules_refused("questions:\n  - edit: any\n    ask: [[a], [b], [c]]\n",
			     "r.yaml:3: at most two questions per entry");
	assert_rules_refused("questions:\n  - edit: vague-best\n    ask: [[a]]\n"
			     "generic_questions: [g]\nreasoning:\n  - edit: any\n    say: s\n"
			     "reasoning_close: c\nvague_bounds:\n  paren: [a]\n  paren_plural: [b]\n"
			     "  singular: [c]\n  plural: [d]\n",
			     "r.yaml:2: questions: edit 'drop-bound' has no entry without conditions");
	assert_rules_refused("questions:\n  - edit: any\n    ask: [[a]]\n  - ask: [[b]]\n",
			     "r.yaml:4: an entry without 'edit'");
	assert_rules_refused("questions: [\n", "r.yaml:");
	assert_rules_refused("questions:\n  - edit: any\n    ask: [[a]]\n", "missing 'reasoning'");
	assert_rules_refused(RULES_HEAD "questions: []\n", "duplicate key 'questions'");
	assert_rules_refused("vague_bounds:\n  paren: [a, b]\n  paren_plural: [b]\n  singular: [c]\n"
			     "  plural: [d]\n", "r.yaml:2: the lists of 'vague_bounds' must be as long as "
			     "each other (2, 1, 1, 1)");
	assert_rules_refused("vague_bounds:\n  paren: [a]\n  sideways: [b]\n",
			     "r.yaml:3: unknown key 'sideways'");
	/* the judge's phrases (optional: a file without them loads, as above) */
	{
		static const char with_judge[] = RULES_HEAD "judge:\n  self_announced: [is vague]\n";

		assert_int_equal(llm_offline_check_text(with_judge, strlen(with_judge), "r.yaml"), 0);
	}
	assert_rules_refused(RULES_HEAD "judge:\n  self_announced: [Is Vague]\n",
			     "r.yaml:16: a phrase of 'self_announced' is written in lower case");
	assert_rules_refused(RULES_HEAD "judge:\n  mentions: [x]\n", "r.yaml:16: unknown key 'mentions'");
	assert_rules_refused(RULES_HEAD "judge:\n  mentions_original: []\n",
			     "r.yaml:16: 'mentions_original' is a list of at least one phrase");
}

static void bad_requests_are_refused(void **state)
{
	struct llm_request r;
	struct buf b;

	(void)state;
	memset(&r, 0, sizeof(r));
	buf_init(&b, 0);
	r.stage = LLM_STAGE_MODIFY;
	r.category = CAT_INCOMPLETE;
	err_clear();
	assert_int_equal(llm_offline_reply(&r, 1, &b), CL_EINVAL);
	assert_non_null(strstr(err_msg(CL_EINVAL), "original"));
	r.original = "";
	assert_int_equal(llm_offline_reply(&r, 1, &b), CL_EINVAL);
	r.original = "  \n\t ";
	assert_int_equal(llm_offline_reply(&r, 1, &b), CL_EINVAL);
	r.original = p_tiny;
	r.category = CAT_COUNT;
	assert_int_equal(llm_offline_reply(&r, 1, &b), CL_EINVAL);
	r.category = CAT_AMBIGUOUS;
	r.stage = 7;
	assert_int_equal(llm_offline_reply(&r, 1, &b), CL_EINVAL);
	r.stage = LLM_STAGE_CLARIFY;
	assert_int_equal(llm_offline_reply(&r, 1, &b), CL_EINVAL); /* no rewrite to ask about */
	r.modified = "";
	assert_int_equal(llm_offline_reply(&r, 1, &b), CL_EINVAL);
	assert_int_equal(b.len, 0);
	assert_int_equal(llm_offline_reply(&r, 1, NULL), CL_EINVAL);
	assert_int_equal(llm_offline_reply(NULL, 1, &b), CL_EINVAL);
	buf_release(&b);
}

static void the_buffer_cap_is_respected(void **state)
{
	struct llm_request r;
	struct buf b;

	(void)state;
	memset(&r, 0, sizeof(r));
	r.original = p_codeforces;
	r.category = CAT_INCOMPLETE;
	r.stage = LLM_STAGE_MODIFY;
	buf_init(&b, 64);
	assert_int_equal(buf_adds(&b, "kept"), 0);
	assert_int_equal(llm_offline_reply(&r, 1, &b), CL_ETOOBIG);
	assert_int_equal(b.len, 4);
	assert_string_equal(b.data, "kept");
	r.stage = LLM_STAGE_CLARIFY;
	r.modified = p_tiny;
	assert_int_equal(llm_offline_reply(&r, 1, &b), CL_ETOOBIG);
	assert_string_equal(b.data, "kept");
	buf_release(&b);
	/* a reply is appended after what the buffer holds */
	buf_init(&b, 0);
	assert_int_equal(buf_adds(&b, "x"), 0);
	r.stage = LLM_STAGE_MODIFY;
	assert_int_equal(llm_offline_reply(&r, 1, &b), 0);
	assert_int_equal(strncmp(b.data, "x<reasoning>\n", 13), 0);
	buf_release(&b);
}

static void multibyte_text_stays_whole(void **state)
{
	/* bytes of multi-byte characters right next to every edit point */
	static const char orig[] =
		"\xc3\xa9tant donn\xc3\xa9 n (1\xe2\x89\xa4n\xe2\x89\xa4" "100)\xe2\x80\x94 "
		"trouvez le minimum exactement\xc2\xa0modulo 7\xe2\x80\x94 un entier\xc3\xa9.\n"
		"-----Examples-----\nInput\n3\nOutput\n1\xc2\xa0\n";

	(void)state;
	check_problem(orig);
}

/* ---- the shared APPS sample ----------------------------------------------- */

static const char *shared(void)
{
	static char path[4096];
	const char *env = getenv("SHARED_DATA");

	snprintf(path, sizeof(path), "%s", env && *env ? env : "../shared/data");
	return path;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void shared_apps_problems(void **state)
{
	char dir[4200], path[4400], *names[256];
	size_t n = 0;
	DIR *d;
	struct dirent *de;

	(void)state;
	snprintf(dir, sizeof(dir), "%s/apps/train", shared());
	if (!dir_exists(dir)) {
		fprintf(stderr, "shared data missing: %s\n", dir);
		skip();
	}
	d = opendir(dir);
	assert_non_null(d);
	while ((de = readdir(d)) != NULL && n < 256)
		if (de->d_name[0] != '.')
			names[n++] = strdup(de->d_name);
	closedir(d);
	qsort(names, n, sizeof(names[0]), name_cmp);
	assert_true(n > 0);
	for (size_t i = 0; i < n; i++) {
		struct buf q;

		snprintf(path, sizeof(path), "%s/%s/question.txt", dir, names[i]);
		buf_init(&q, 1 << 20);
		if (file_read(path, &q) == 0 && q.len) {
			assert_true(utf8_valid(q.data));
			check_problem(q.data);
		}
		buf_release(&q);
		free(names[i]);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(rewrites_and_questions_hold_for_each_layout),
		cmocka_unit_test(incomplete_takes_out_a_bound),
		cmocka_unit_test(ambiguous_blurs_a_precise_term),
		cmocka_unit_test(inconsistent_changes_a_number),
		cmocka_unit_test(same_seed_same_reply_and_seeds_vary),
		cmocka_unit_test(clarify_reads_a_foreign_rewrite),
		cmocka_unit_test(questions_never_quote_what_was_taken_out),
		cmocka_unit_test(bad_requests_are_refused),
		cmocka_unit_test(the_buffer_cap_is_respected),
		cmocka_unit_test(multibyte_text_stays_whole),
		cmocka_unit_test(shared_apps_problems),
		cmocka_unit_test(rule_file_loads_and_refuses_with_line_and_reason),
	};

	return cmocka_run_group_tests_name("offline", tests, NULL, NULL);
}
