/*
 * test_checks.c - the filters' built-in checks on a minimal case and a
 * near miss each (unchanged, drift, hidden-leak, repetition, shape,
 * inline-commentary), the shipped rules on hard positives and hard
 * negatives, and one set shared by two threads.
 *
 * The tests run from the repository root (make check does): the shipped
 * rules are read from filters/.
 */
#define TEST_NAME "test_checks"
#include "filter_test.h"

/* ---- built-in checks ---------------------------------------------------- */

static void sound_record_gets_no_verdict(void **state)
{
	struct filter_set fs;
	struct filter_input in = base_input();
	struct filter_result r;

	(void)state;
	set_builtin(&fs);
	run(&fs, &in, &r);
	assert_no_verdict(&r);
	filter_result_release(&r);
	filter_set_release(&fs);

	load_shipped(&fs);
	run(&fs, &in, &r);
	assert_no_verdict(&r);
	filter_result_release(&r);
	filter_set_release(&fs);
}

/* Run the built-in checks over in; did rule fire? */
static int check_fires(const struct filter_input *in, const struct filter_limits *limits,
		       const char *rule)
{
	struct filter_set fs;
	struct filter_result r;
	int hit;

	set_builtin(&fs);
	if (limits)
		fs.limits = *limits;
	run(&fs, in, &r);
	hit = find(&r, rule, -1) != NULL;
	filter_result_release(&r);
	filter_set_release(&fs);
	return hit;
}

static void unchanged_fires_on_case_space_and_punctuation_only(void **state)
{
	struct filter_input in = base_input();

	(void)state;
	in.modified = "  given an array of N integers print the sum of the EVEN ones\n\n"
		      "The first line contains n 1 <= n <= 100 . The second line contains "
		      "the n integers each between 1 and 1000!";
	assert_true(check_fires(&in, NULL, "unchanged"));
	in.modified = ORIGINAL;
	assert_true(check_fires(&in, NULL, "unchanged"));
	/* one word changed is a rewrite */
	in.modified = "Given an array of n integers, print the sum of the odd ones.\n"
		      "The first line contains n (1 <= n <= 100). The second line contains "
		      "the n integers, each between 1 and 1000.";
	assert_false(check_fires(&in, NULL, "unchanged"));
	/* a number changed too */
	in.modified = "Given an array of n integers, print the sum of the even ones.\n"
		      "The first line contains n (1 <= n <= 100). The second line contains "
		      "the n integers, each between 1 and 10000.";
	assert_false(check_fires(&in, NULL, "unchanged"));
	/* without an original there is nothing to compare */
	in.original = NULL;
	in.modified = ORIGINAL;
	assert_false(check_fires(&in, NULL, "unchanged"));
}

static void drift_fires_on_another_problem(void **state)
{
	struct filter_input in = base_input();
	struct filter_set fs;
	struct filter_result r;

	(void)state;
	in.modified = "A robot walks on a grid of h rows and w columns and must reach the "
		      "bottom right corner in the fewest moves, avoiding the blocked cells.";
	set_builtin(&fs);
	run(&fs, &in, &r);
	assert_fires(&r, "drift", 0);
	assert_non_null(strstr(find(&r, "drift", 0)->detail, "5-word runs"));
	filter_result_release(&r);
	filter_set_release(&fs);
	/* the near miss: a rewrite that keeps most of the text */
	in.modified = MODIFIED;
	assert_false(check_fires(&in, NULL, "drift"));
	/* too short to judge (fewer than 8 runs) */
	in.modified = "Sort the list of words please.";
	assert_false(check_fires(&in, NULL, "drift"));
}

static void hidden_leak_fires_on_a_question_quoting_removed_text(void **state)
{
	static const char *const leak[] = { "Which integers count?",
					    "Is each between 1 and 1000 still the range?" };
	static const char *const four[] = { "Which integers count?",
					    "Is each between 1 and a thousand?" };
	static const char *const value[] = { "Which integers count?",
					     "Can a value be as large as 1000?" };
	struct filter_input in = base_input();
	struct filter_limits l;
	struct filter_set fs;
	struct filter_result r;
	const struct filter_verdict *v;

	(void)state;
	in.modified = MODIFIED_NO_RANGE;
	in.questions = leak;
	set_builtin(&fs);
	run(&fs, &in, &r);
	v = find(&r, "hidden-leak", FIELD_QUESTIONS);
	assert_non_null(v);
	assert_non_null(strstr(v->detail, "each between 1 and 1000"));
	assert_int_equal(r.n, 1);
	filter_result_release(&r);
	filter_set_release(&fs);

	/* not when the modified problem still says it */
	in.modified = MODIFIED;
	assert_false(check_fires(&in, NULL, "hidden-leak"));
	/* not with 4 words of it */
	in.modified = MODIFIED_NO_RANGE;
	in.questions = four;
	assert_false(check_fires(&in, NULL, "hidden-leak"));
	/* unless leak_ngram says 4 */
	filter_limits_default(&l);
	l.leak_ngram = 4;
	assert_true(check_fires(&in, &l, "hidden-leak"));
	/* a bound of the original that the modified problem no longer has,
	 * in any notation, leaks with no words around it */
	in.questions = value;
	set_builtin(&fs);
	run(&fs, &in, &r);
	v = find(&r, "hidden-leak", FIELD_QUESTIONS);
	assert_non_null(v);
	assert_non_null(strstr(v->detail, "gives the value 1000"));
	filter_result_release(&r);
	filter_set_release(&fs);
	in.modified = MODIFIED;
	assert_false(check_fires(&in, NULL, "hidden-leak"));
	in.modified = MODIFIED_NO_RANGE;
	/* no original, no leak */
	in.original = NULL;
	in.questions = leak;
	assert_false(check_fires(&in, NULL, "hidden-leak"));
}

/* Every n-gram of texts of every length is found, wherever it sits: the
 * n-gram hashes are computed in two chains, and an off-by-one at either
 * end or in the middle would lose one. */
static void hidden_leak_finds_every_ngram_of_texts_of_every_length(void **state)
{
	char orig[1024], mod[1024], q[128];
	const char *qs[1] = { q };
	struct filter_input in = { .original = orig, .modified = mod, .questions = qs,
				   .nquestions = 1 };

	(void)state;
	for (int len = 5; len <= 41; len++) {
		size_t o = 0, m = 0;

		for (int w = 0; w < len; w++) {
			o += (size_t)snprintf(orig + o, sizeof(orig) - o, "w%d ", w);
			/* the modified problem lacks the word in the middle */
			if (w != len / 2)
				m += (size_t)snprintf(mod + m, sizeof(mod) - m, "w%d ", w);
		}
		for (int at = 0; at + 5 <= len; at++) {
			snprintf(q, sizeof(q), "w%d w%d w%d w%d w%d?", at, at + 1, at + 2, at + 3,
				 at + 4);
			/* a run over the missing word is hidden; any other is not */
			if ((at <= len / 2 && len / 2 < at + 5) != check_fires(&in, NULL, "hidden-leak"))
				fail_msg("length %d, run at %d: %s", len, at, q);
		}
	}
}

static void repeated_lines_fires_on_a_line_four_times(void **state)
{
	struct filter_input in = base_input();
	struct filter_limits l;

	(void)state;
	in.modified = MODIFIED "\nEach value is printed on its own line.\n"
		      "Each value is printed on its own line.\n"
		      "Each value is printed on its own line.\n"
		      "Each value is printed on its own line.\n";
	assert_true(check_fires(&in, NULL, "repeated-lines"));
	/* white space and case do not hide a repeat */
	in.modified = MODIFIED "\nEach value is printed on its own line.\n"
		      "each value is  printed on its own line.\n"
		      "  Each value is printed on its own line.\n"
		      "EACH VALUE IS PRINTED ON ITS OWN LINE.\n";
	assert_true(check_fires(&in, NULL, "repeated-lines"));
	/* three times is allowed */
	in.modified = MODIFIED "\nEach value is printed on its own line.\n"
		      "Each value is printed on its own line.\n"
		      "Each value is printed on its own line.\n";
	assert_false(check_fires(&in, NULL, "repeated-lines"));
	/* ... unless max_line_repeats says 3 */
	filter_limits_default(&l);
	l.max_line_repeats = 3;
	assert_true(check_fires(&in, &l, "repeated-lines"));
	/* short lines (sample output) may repeat */
	in.modified = MODIFIED "\nOutput\nYES\nYES\nYES\nYES\nYES\n1 2 3\n1 2 3\n1 2 3\n1 2 3\n";
	assert_false(check_fires(&in, NULL, "repeated-lines"));
}

static void repeated_lines_fires_on_a_long_paragraph_twice(void **state)
{
	struct filter_input in = base_input();

	(void)state;
	/* 80 characters twice */
	in.modified = MODIFIED "\n"
		      "Each of the following q lines describes one query as a pair of integers l and r.\n"
		      "Each of the following q lines describes one query as a pair of integers l and r.\n";
	assert_true(check_fires(&in, NULL, "repeated-lines"));
	/* 57 characters twice is not a paragraph */
	in.modified = MODIFIED "\n"
		      "Each following line holds one query as two integers l, r.\n"
		      "Each following line holds one query as two integers l, r.\n";
	assert_false(check_fires(&in, NULL, "repeated-lines"));
}

static void repeated_ngrams_fires_on_a_word_four_times_in_a_row(void **state)
{
	struct filter_input in = base_input();
	struct filter_set fs;
	struct filter_result r;

	(void)state;
	in.modified = MODIFIED " Print the the the the answer.";
	set_builtin(&fs);
	run(&fs, &in, &r);
	assert_fires(&r, "repeated-ngrams", FIELD_MODIFIED);
	assert_non_null(strstr(find(&r, "repeated-ngrams", -1)->detail, "\"the\" 4 times"));
	filter_result_release(&r);
	filter_set_release(&fs);
	/* three times is a typo, not a loop */
	in.modified = MODIFIED " Print the the the answer.";
	assert_false(check_fires(&in, NULL, "repeated-ngrams"));
	/* numbers and one-letter words repeat in samples */
	in.modified = MODIFIED "\nOutput: 0 0 0 0 0\nx x x x";
	assert_false(check_fires(&in, NULL, "repeated-ngrams"));
}

static void repeated_ngrams_fires_on_heavy_repetition(void **state)
{
	struct filter_input in = { 0 };
	struct filter_limits l;

	(void)state;
	/* 8 x 7 = 56 tokens, nearly all of its runs repeats */
	in.modified = "sum the numbers and print the result sum the numbers and print the result "
		      "sum the numbers and print the result sum the numbers and print the result "
		      "sum the numbers and print the result sum the numbers and print the result "
		      "sum the numbers and print the result sum the numbers and print the result";
	assert_true(check_fires(&in, NULL, "repeated-ngrams"));
	/* a threshold above the share does not let it pass: one phrase eight
	 * times over is a loop, whatever the share */
	filter_limits_default(&l);
	l.max_ngram_repeat = 0.95;
	assert_true(check_fires(&in, &l, "repeated-ngrams"));
	/* under 40 tokens is too short to judge: 5 x 7 = 35 */
	in.modified = "sum the numbers and print the result sum the numbers and print the result "
		      "sum the numbers and print the result sum the numbers and print the result "
		      "sum the numbers and print the result";
	assert_false(check_fires(&in, NULL, "repeated-ngrams"));
	/* the sound rewrite has no repeats */
	in.modified = MODIFIED;
	assert_false(check_fires(&in, NULL, "repeated-ngrams"));
}

/* drift and repeated-ngrams count runs of leak_ngram words (the config's
 * help says so): with 2-word runs a paraphrase keeps most of them. */
static void leak_ngram_sets_the_run_length_of_drift_and_repeats(void **state)
{
	struct filter_input in = { 0 };
	struct filter_limits l;

	(void)state;
	in.original = "Given an array of n integers print the sum of all the even values in the "
		      "array and then print the count of the odd values in it";
	in.modified = "Given a forest of n oak and pine trees print the height of all the tall "
		      "trees in the forest and then print the count of the short trees in it";
	assert_true(check_fires(&in, NULL, "drift"));
	filter_limits_default(&l);
	l.leak_ngram = 2;
	assert_false(check_fires(&in, &l, "drift"));
}

static void repeated_questions_fires_on_the_same_question_twice(void **state)
{
	static const char *const same[] = { "Is n positive?", "Can k be zero?",
					    "is N positive ?" };
	static const char *const near[] = { "Is n positive?", "Is m positive?" };
	struct filter_input in = base_input();
	struct filter_set fs;
	struct filter_result r;

	(void)state;
	in.questions = same;
	in.nquestions = 3;
	set_builtin(&fs);
	run(&fs, &in, &r);
	assert_fires(&r, "repeated-questions", FIELD_QUESTIONS);
	assert_string_equal(find(&r, "repeated-questions", -1)->detail,
			    "question 3 repeats question 1");
	filter_result_release(&r);
	filter_set_release(&fs);
	in.questions = near;
	in.nquestions = 2;
	assert_false(check_fires(&in, NULL, "repeated-questions"));
}

static void empty_fires_on_a_blank_modified_problem(void **state)
{
	struct filter_input in = base_input();

	(void)state;
	in.modified = " \n\t \r\n";
	assert_true(check_fires(&in, NULL, "empty"));
	in.modified = NULL;
	assert_true(check_fires(&in, NULL, "empty"));
	in.modified = "";
	assert_true(check_fires(&in, NULL, "empty"));
	/* a blank problem is empty, not unchanged */
	assert_false(check_fires(&in, NULL, "unchanged"));
	in.modified = MODIFIED;
	assert_false(check_fires(&in, NULL, "empty"));
}

static void truncated_fires_on_finish_reason_length(void **state)
{
	struct filter_input in = base_input();

	(void)state;
	in.finish_reason = "length";
	assert_true(check_fires(&in, NULL, "truncated"));
	in.finish_reason = "stop";
	assert_false(check_fires(&in, NULL, "truncated"));
	in.finish_reason = NULL;
	assert_false(check_fires(&in, NULL, "truncated"));
}

static void no_questions_fires_only_when_questions_are_expected(void **state)
{
	static const char *const many[21] = {
		"Q1 ok?", "Q2 ok?", "Q3 ok?", "Q4 ok?", "Q5 ok?", "Q6 ok?", "Q7 ok?",
		"Q8 ok?", "Q9 ok?", "Q10 ok?", "Q11 ok?", "Q12 ok?", "Q13 ok?", "Q14 ok?",
		"Q15 ok?", "Q16 ok?", "Q17 ok?", "Q18 ok?", "Q19 ok?", "Q20 ok?", "Q21 ok?",
	};
	struct filter_input in = base_input();
	struct filter_limits l;

	(void)state;
	in.questions = NULL;
	in.nquestions = 0;
	assert_true(check_fires(&in, NULL, "no-questions"));
	in.questions_expected = 0;
	assert_false(check_fires(&in, NULL, "no-questions"));
	/* min_questions 0 allows none */
	in.questions_expected = 1;
	filter_limits_default(&l);
	l.min_questions = 0;
	assert_false(check_fires(&in, &l, "no-questions"));
	/* one is too few when min_questions is 2 */
	in.questions = good_questions;
	in.nquestions = 1;
	l.min_questions = 2;
	assert_true(check_fires(&in, &l, "no-questions"));
	/* and more than max_questions is refused too */
	in.questions = many;
	in.nquestions = 21;
	assert_true(check_fires(&in, NULL, "no-questions"));
	filter_limits_default(&l);
	l.max_questions = 21;
	assert_false(check_fires(&in, &l, "no-questions"));
}

static int is_question(const char *q)
{
	const char *qs[] = { q };
	struct filter_input in = base_input();

	in.questions = qs;
	in.nquestions = 1;
	return !check_fires(&in, NULL, "not-a-question");
}

static void not_a_question_fires_on_statements(void **state)
{
	(void)state;
	assert_true(is_question("Which integers count as large?"));
	assert_true(is_question("Is the bound inclusive?  \n"));
	assert_true(is_question("Why?"));
	assert_false(is_question("Print the answer modulo 7."));
	assert_false(is_question("The bound is inclusive"));
	assert_false(is_question("## Questions"));
	assert_false(is_question("1. Yes: the bound is inclusive (see above)"));
	assert_false(is_question(""));
	assert_false(is_question("N?"));
	assert_false(is_question("Is it? Yes it is."));
}

static void question_mark_may_sit_inside_closing_quotes_or_brackets(void **state)
{
	(void)state;
	assert_true(is_question("Does \"sum\" mean \"the total?\""));
	assert_true(is_question("Is the answer 'yes?'"));
	assert_true(is_question("(Is n even?)"));
	assert_true(is_question("**Is n even?**"));
	assert_true(is_question("Is the answer \"x (or y?)\" "));
}

/* "closing quote or bracket" includes ] and the typographic quotes */
static void question_mark_may_sit_inside_square_brackets_and_curly_quotes(void **state)
{
	(void)state;
	assert_true(is_question("[Is n even?]"));
	assert_true(is_question("Does \xe2\x80\x9csum\xe2\x80\x9d mean \xe2\x80\x9cthe total?\xe2\x80\x9d"));
	assert_true(is_question("Is it \xe2\x80\x98" "big?\xe2\x80\x99"));
}

static void thresholds_from_filter_limits_change_the_outcome(void **state)
{
	struct filter_input in = base_input();
	struct filter_limits l;

	(void)state;
	/* drift: the sound rewrite shares most runs, not all */
	filter_limits_default(&l);
	assert_false(check_fires(&in, &l, "drift"));
	l.drift_min_overlap = 1.0;
	l.drift_min_content = 1.0;
	assert_true(check_fires(&in, &l, "drift"));
	l.drift_min_overlap = 0.0;
	in.modified = "A robot walks on a grid of h rows and w columns and must reach the "
		      "bottom right corner in the fewest moves, avoiding the blocked cells.";
	assert_false(check_fires(&in, &l, "drift"));
}

/* ---- the shipped rules ----------------------------------------------------- */

struct positive {
	const char *text;
	const char *rule;
	int field;     /* where to put text: FIELD_MODIFIED or FIELD_QUESTIONS */
};

/* Hard positives, at least two per shipped rule (none from labelled.jsonl). */
static const struct positive positives[] = {
	{ "Unlike the earlier version, n may now be zero.", "ref-original-problem",
	  FIELD_MODIFIED },
	{ "As stated in the initial problem statement, the grid is square.",
	  "ref-original-problem", FIELD_MODIFIED },
	{ "Should we keep the limits from the source task statement?", "ref-original-problem",
	  FIELD_QUESTIONS },
	{ "The bounds are tighter than in the original.", "ref-original-bare", FIELD_MODIFIED },
	{ "The output format is the same as in the original;\nonly the input changes.",
	  "ref-original-bare", FIELD_MODIFIED },
	{ "Is k still bounded as in the original?", "ref-original-bare", FIELD_QUESTIONS },
	{ "Compared to the first version, queries are now answered online.",
	  "ref-compared-to-original", FIELD_MODIFIED },
	{ "This differs from the previous statement in one respect.",
	  "ref-compared-to-original", FIELD_MODIFIED },
	{ "In this rewrite, the tie-breaking rule is left open.", "ref-rewrite", FIELD_MODIFIED },
	{ "Which value does the revised statement intend for k?", "ref-rewrite",
	  FIELD_QUESTIONS },
	{ "Print the answer for our rewritten task exactly as before.", "ref-rewrite",
	  FIELD_MODIFIED },
	{ "In this new version of the problem, k can be negative.", "ref-new-version",
	  FIELD_MODIFIED },
	{ "Does the new version of the task allow repeated values?", "ref-new-version",
	  FIELD_QUESTIONS },
	{ "Before the statement was modified, the answer was unique.", "ref-before-change",
	  FIELD_MODIFIED },
	{ "Before it was made ambiguous, was the limit on n explicit?", "ref-before-change",
	  FIELD_QUESTIONS },
	{ "### Final version (constraints hidden)\nGiven n boxes, stack them.", "echoed-header",
	  FIELD_MODIFIED },
	{ "> The updated task:\nGiven n boxes, stack them.", "echoed-header", FIELD_MODIFIED },
	{ "Stacking boxes\n\n**New question**\nGiven n boxes, stack them.", "echoed-header",
	  FIELD_MODIFIED },
	{ "Revised Description:\nGiven n boxes, stack them.", "echoed-header-statement",
	  FIELD_MODIFIED },
	{ "**Incomplete Statement**:\nGiven n boxes, stack them.", "echoed-header-statement",
	  FIELD_MODIFIED },
	{ "Given n boxes, stack them.\n\n=== Contradiction ===\nThe two limits disagree.",
	  "explanation-section", FIELD_MODIFIED },
	{ "Given n boxes, stack them.\n\nWhy this is now unclear: the height is not given.",
	  "explanation-label", FIELD_MODIFIED },
	{ "Given n boxes, stack them.\n\n**Source of ambiguity:** the word \"tall\".",
	  "explanation-label", FIELD_MODIFIED },
	{ "Given n boxes, stack them.\n\n### Removed constraint\nThe bound on n.",
	  "explanation-removed", FIELD_MODIFIED },
	{ "Given n boxes, stack them.\n\nOmitted details: the bound on the height.",
	  "removed-label", FIELD_MODIFIED },
	{ "Given n boxes, stack them by the tall rule [vague] and print the height.",
	  "inline-marker", FIELD_MODIFIED },
	{ "Given n boxes (Contradiction: n is both odd and even) stack them.", "inline-marker",
	  FIELD_MODIFIED },
	{ "We've dropped the upper limit on k.\nGiven n boxes, stack them.",
	  "announces-change", FIELD_MODIFIED },
	{ "I rephrased the sentence about ties so that it reads two ways.",
	  "announces-change", FIELD_MODIFIED },
	{ "I removed the constraint on n; may n be zero?", "announces-change",
	  FIELD_QUESTIONS },
	{ "Given n boxes, stack them.\nNote that the statement deliberately leaves out the modulus.",
	  "note-this-version", FIELD_MODIFIED },
	{ "Given n boxes, stack them.\nNOTE: this task does not specify the tie rule.",
	  "note-this-version", FIELD_MODIFIED },
	{ "Here is an updated statement for you.\nGiven n boxes, stack them.", "here-is-rewrite",
	  FIELD_MODIFIED },
	{ "Given n boxes, stack them.\n\nHere is my rewritten version; the sizes are up to you.",
	  "here-is-rewrite", FIELD_MODIFIED },
	{ "Given n boxes, stack them. The value of k has intentionally been left unspecified.",
	  "changes-made", FIELD_MODIFIED },
	{ "Given n boxes, stack them. The omission lies in the input section.", "changes-made",
	  FIELD_MODIFIED },
	{ "Given n boxes, stack them; the order is open to interpretation.", "clarity-idiom",
	  FIELD_MODIFIED },
	{ "Depending on how you read it, a box may hold several others.", "clarity-idiom",
	  FIELD_MODIFIED },
	{ "<modified_problem>\nGiven n boxes, stack them.", "echoed-tag", FIELD_MODIFIED },
	{ "Is the stack sorted?</questions>", "echoed-tag", FIELD_QUESTIONS },
	{ "**Reasoning:** the bound decides the method.\n\nGiven n boxes, stack them.",
	  "reasoning-section", FIELD_MODIFIED },
	{ "Thought process: the bound decides it.\nGiven n boxes, stack them.",
	  "reasoning-section", FIELD_MODIFIED },
	{ "Given n boxes, stack them. The constraints on n have been removed so that the solver "
	  "has to ask.", "announces-removal", FIELD_MODIFIED },
	{ "Given n boxes, stack them. Some details have been deliberately withheld.",
	  "announces-removal", FIELD_MODIFIED },
	{ "Given n boxes, stack them.\n\nChanges made: the bound on the height is gone.",
	  "removed-label", FIELD_MODIFIED },
	{ "Given n boxes, stack them.\n\n### What was removed\nThe bound on the height.",
	  "explanation-removed", FIELD_MODIFIED },
	{ "Given n boxes, stack them.\n\n-----Ambiguity-----\nThe word tall is vague now.",
	  "explanation-section", FIELD_MODIFIED },
	{ "Given n boxes, stack them.\n\n### Note on the modification\nThe bound was raised.",
	  "explanation-heading", FIELD_MODIFIED },
	{ "Given n boxes, stack them.\n\n**What changed**\nThe order is gone.",
	  "explanation-heading", FIELD_MODIFIED },
	{ "Approach:\n1. Sort the boxes.\n2. Stack them greedily.", "solution-instead",
	  FIELD_MODIFIED },
	{ "def solve(n):\n    return n", "solution-instead", FIELD_MODIFIED },
	{ "Was the requirement that the boxes are sorted removed?", "ref-edit-in-question",
	  FIELD_QUESTIONS },
	{ "Has the limit on n been relaxed?", "ref-edit-in-question", FIELD_QUESTIONS },
	{ "Was the bound softened in this edit?", "ref-the-edit", FIELD_QUESTIONS },
	{ "Before the change, could a box be empty?", "ref-the-edit", FIELD_QUESTIONS },
	{ "A box may hold only smaller boxes, right?", "question-states-answer",
	  FIELD_QUESTIONS },
	{ "The stack is built bottom up, isn't it?", "question-states-answer", FIELD_QUESTIONS },
	{ "Is n still at most 100 as before?", "ref-earlier-in-question", FIELD_QUESTIONS },
	{ "Should we keep the previous bound on n?", "ref-earlier-in-question", FIELD_QUESTIONS },
	{ "Previously the boxes had to be sorted; is that still so?", "ref-earlier-in-question",
	  FIELD_QUESTIONS },
	{ "Must the sum be even, as the statement specified before?", "ref-earlier-in-question",
	  FIELD_QUESTIONS },
	{ "The original asked for the tallest stack; is any stack fine?", "ref-original-problem",
	  FIELD_QUESTIONS },
	{ "Given n boxes, stack them.\n\nThe height bound was dropped to make the problem incomplete.",
	  "announces-purpose", FIELD_MODIFIED },
	{ "Given n boxes, stack them.\n\nNote: the exact height limit was replaced with a looser "
	  "phrase.", "announces-purpose", FIELD_MODIFIED },
	{ "Rewritten (incomplete) problem:\n\nGiven n boxes, stack them.", "echoed-header",
	  FIELD_MODIFIED },
	{ "Given n boxes, stack them.\n\nWhat I removed: the bound on n.", "removed-label",
	  FIELD_MODIFIED },
};

static const char *const hard_negatives[] = {
	"Restore the original string from its encoded form.",
	"The robot returns to the initial position after all the commands.",
	"Use a modified version of Dijkstra's algorithm to find the cheapest path.",
	"Apply the rewrite rules of the grammar until no rule matches.",
	"-----Note-----\n\nIn the first example the answer is 3.",
	"Count the ambiguous pairs (i, j) with i < j and a_i = a_j.",
	"I have n apples and m oranges; how many full baskets can I make?",
	"Print the changes made to the array by each operation.",
	"This is the easy version of the problem. The only difference is the bound on n.",
	"Each element must be greater than the previous element.",
	"If the answer is ambiguous, print AMBIGUOUS.",
	"The registers are in an inconsistent state; print INCONSISTENT in that case.",
	"Incomplete rows of the matrix are padded with zeros.",
	"Answer the earlier queries first, then the later ones.",
	"Given the original array a and the modified array b, count where they differ.",
	"Compared to the previous day, did the price rise?",
	"The element that was removed last is printed first.",
	"Example 1:\nInput: s = \"abc\"\nOutput: 3\nExplanation: the substrings are a, b and c.",
	"Follow-up: can you solve it in O(n) time?",
	"Note: the answer may be large, so print it modulo 10^9+7.",
	"Output the unchanged elements in their initial order.",
	"Here is how the game works: Alice moves first.",
	"The first version of the file has n lines; each later version changes one line.",
	"We removed nothing: print the list as it is.",
	"Clarification: the input string may be empty.",
	"A rewrite of a string replaces one letter; find the fewest rewrites.",
	"The new version number is the old one plus one.",
	"The interpretation of each command is given in the table below.",
	"Can a previously visited cell be entered again?",
	"Boxes that were removed are not counted; to make the stack stable, sort them first.",
	"To make the array sorted, you may swap two elements; the swapped ones were chosen at random.",
	"Is the element that was removed counted in the answer?",
	"Does the array stay the same as before the operation?",
	"Print the solution as n integers.",
	"The answer is the sum of the values; note that it may not fit in 32 bits.",
	"In this version, q = 0: there are no updates.",
};

static void shipped_rules_fire_on_hard_positives(void **state)
{
	struct filter_set fs;
	size_t covered = 0;
	int missed = 0;

	(void)state;
	load_shipped(&fs);
	for (size_t i = 0; i < CL_ARRAY_SIZE(positives); i++) {
		const struct positive *p = &positives[i];
		const char *qs[] = { p->text };
		struct filter_input in = { .modified = "Given n boxes, stack them." };
		struct filter_result r;

		if (p->field == FIELD_MODIFIED)
			in.modified = p->text;
		else {
			in.questions = qs;
			in.nquestions = 1;
		}
		run(&fs, &in, &r);
		if (!find(&r, p->rule, p->field) || !r.rejected) {
			print_error("'%s' did not fire on \"%s\"; verdicts: %s\n", p->rule, p->text,
				    rules_of(&r));
			missed++;
		}
		filter_result_release(&r);
	}
	assert_int_equal(missed, 0);
	/* every shipped rule has at least two */
	for (size_t k = 0; k < fs.n; k++) {
		size_t n = 0;

		for (size_t i = 0; i < CL_ARRAY_SIZE(positives); i++)
			n += strcmp(positives[i].rule, filter_rule_id(&fs, k)) == 0;
		if (n < 2)
			fail_msg("rule '%s' has %zu hard positives", filter_rule_id(&fs, k), n);
		covered++;
	}
	assert_int_equal(covered, CL_ARRAY_SIZE(shipped_ids));
	filter_set_release(&fs);
}

/*
 * The prefilter must not hide what a pattern matches: explanation-section
 * matches 'inconsisten\w*' and 'contradict\w*', note-this-version
 * 'ambigu\w*', 'remov\w*' and 'inconsisten\w*', so the inflected words
 * must be among their keywords.
 */
static void shipped_rules_fire_on_inflected_trigger_words(void **state)
{
	static const struct positive inflected[] = {
		{ "Given n boxes, stack them.\n\n-----Inconsistencies-----\nThe limits disagree.",
		  "explanation-section", FIELD_MODIFIED },
		{ "Given n boxes, stack them.\n\n-----Contradictions-----\nThe limits disagree.",
		  "explanation-section", FIELD_MODIFIED },
		{ "Given n boxes, stack them.\n\n## Contradicting limits\nThe limits disagree.",
		  "explanation-section", FIELD_MODIFIED },
		{ "Given n boxes, stack them.\nNote: this version is ambiguously worded.",
		  "note-this-version", FIELD_MODIFIED },
		{ "Given n boxes, stack them.\nNote: this version has ambiguities in the limits.",
		  "note-this-version", FIELD_MODIFIED },
		{ "Given n boxes, stack them.\nNote: the statement has inconsistencies in the limits.",
		  "note-this-version", FIELD_MODIFIED },
	};
	struct filter_set fs;
	int missed = 0;

	(void)state;
	load_shipped(&fs);
	for (size_t i = 0; i < CL_ARRAY_SIZE(inflected); i++) {
		if (!fires_on_modified(&fs, inflected[i].rule, inflected[i].text)) {
			print_error("'%s' did not fire on \"%s\"\n", inflected[i].rule,
				    inflected[i].text);
			missed++;
		}
	}
	assert_int_equal(missed, 0);
	filter_set_release(&fs);
}

/*
 * echoed-header and echoed-header-statement accept markdown bold in
 * underscores ("__Modified Problem__"), but '_' is a word character to the
 * tokenizer: the token is "__modified", not the keyword "modified".
 */
static void shipped_rules_fire_on_headers_in_underscore_bold(void **state)
{
	static const struct positive underscored[] = {
		{ "__Modified Problem__\nGiven n boxes, stack them.", "echoed-header",
		  FIELD_MODIFIED },
		{ "Stacking boxes\n\n__New question__\nGiven n boxes, stack them.", "echoed-header",
		  FIELD_MODIFIED },
		{ "__Incomplete Statement__:\nGiven n boxes, stack them.", "echoed-header-statement",
		  FIELD_MODIFIED },
		{ "Given n boxes, stack them.\n\n__Ambiguity introduced__: the word tall.",
		  "explanation-label", FIELD_MODIFIED },
	};
	struct filter_set fs;
	int missed = 0;

	(void)state;
	load_shipped(&fs);
	for (size_t i = 0; i < CL_ARRAY_SIZE(underscored); i++) {
		if (!fires_on_modified(&fs, underscored[i].rule, underscored[i].text)) {
			print_error("'%s' did not fire on \"%s\"\n", underscored[i].rule,
				    underscored[i].text);
			missed++;
		}
	}
	assert_int_equal(missed, 0);
	filter_set_release(&fs);
}

static void shipped_rules_do_not_fire_on_hard_negatives(void **state)
{
	struct filter_set fs;
	int fired = 0;

	(void)state;
	load_shipped(&fs);
	for (size_t i = 0; i < CL_ARRAY_SIZE(hard_negatives); i++) {
		const char *qs[] = { hard_negatives[i] };
		struct filter_input in = { .modified = hard_negatives[i], .questions = qs,
					   .nquestions = 1 };
		struct filter_result r;

		run(&fs, &in, &r);
		if (r.n) {
			print_error("'%s' fired on \"%s\": %s\n", r.v[0].rule, hard_negatives[i],
				    r.v[0].detail);
			fired++;
		}
		filter_result_release(&r);
	}
	assert_int_equal(fired, 0);
	assert_true(CL_ARRAY_SIZE(hard_negatives) >= 15);
	filter_set_release(&fs);
}

/* ---- the second wave's checks ------------------------------------------------ */

#define STORY "Polycarp has n binary words. He wants to reverse as few of them as " \
	      "possible so that they can be put in an order where each word starts with " \
	      "the last letter of the previous one.\n\nInput\nThe first line contains t, " \
	      "the number of test cases."

/* inline-commentary reads what a sentence says about the text, in many words */
static void inline_commentary_fires_on_a_text_that_talks_about_its_clarity(void **state)
{
	static const char *const remarks[] = {
		"It is not specified whether the words are distinct.",
		"The statement does not say how ties are broken.",
		"This can be interpreted in two ways.",
		"There are several interpretations of a valid order.",
		"It's unclear whether a word may be reversed twice.",
		"Whether empty words are allowed is left open.",
		"The exact bound on n is not given.",
		"Note: the behaviour when no answer exists is not specified.",
		"No upper bound is given for t.",
		"The description is silent on the order of the output.",
		"These two limits cannot both hold.",
		"The example does not match the rule stated above.",
		"The requirements are phrased loosely on purpose.",
		"What to print if no order exists is not mentioned.",
	};
	char text[1024];
	struct filter_input in = { .original = STORY };

	(void)state;
	for (size_t i = 0; i < CL_ARRAY_SIZE(remarks); i++) {
		snprintf(text, sizeof(text), "%s %s", STORY, remarks[i]);
		in.modified = text;
		if (!check_fires(&in, NULL, "inline-commentary"))
			fail_msg("inline-commentary did not fire on \"%s\"", remarks[i]);
	}
}

/* ... and not on a problem's own words, nor on what the original says too */
static void inline_commentary_passes_a_problems_own_words(void **state)
{
	static const char *const own[] = {
		"If the answer is not uniquely determined, print AMBIGUOUS.",
		"A pair is ambiguous if both words are equal.",
		"If the records are inconsistent, print -1.",
		"A value that is not specified in the input is assumed to be zero.",
		"It is not guaranteed that all words are distinct.",
		"The array is not given to you; ask queries instead.",
		"Print the word \"unclear\" if no order exists.",
		"Vasya does not say anything during the game.",
		"The answer may not fit in a 32-bit integer.",
		"The interpretation of each command is given in the table below.",
	};
	char text[1024];
	struct filter_input in = { .original = STORY };

	(void)state;
	for (size_t i = 0; i < CL_ARRAY_SIZE(own); i++) {
		snprintf(text, sizeof(text), "%s %s", STORY, own[i]);
		in.modified = text;
		if (check_fires(&in, NULL, "inline-commentary"))
			fail_msg("inline-commentary fired on \"%s\"", own[i]);
	}
	/* a remark the original makes itself is the problem's own */
	snprintf(text, sizeof(text), "%s It is not specified whether the words are distinct.",
		 STORY);
	in.original = text;
	in.modified = text;
	assert_false(check_fires(&in, NULL, "inline-commentary"));
}

/* drift: a rewrite that reorders and rewords keeps the problem's words */
static void drift_passes_a_reordered_paraphrase_and_catches_another_problem(void **state)
{
	struct filter_input in = { .original = STORY };

	(void)state;
	in.modified = "Input: the opening line holds t, the count of scenarios. Polycarp owns n "
		      "binary words and would like to flip the fewest of them, so that they can be "
		      "arranged with every word beginning with the previous word's last letter.";
	assert_false(check_fires(&in, NULL, "drift"));
	in.modified = "A gardener plants tulips along a fence of length L. Each tulip needs d "
		      "centimetres of free soil on both sides. How many tulips fit along the fence "
		      "if the first and last tulips may touch its ends?";
	assert_true(check_fires(&in, NULL, "drift"));
}

/* what the original repeats is its own; a reply that loops is not */
static void repetition_is_judged_against_the_original(void **state)
{
	static const char *orig = "Print the sum.\n\nExample\nInput\n1 2 3 4 5 6 7 8 9 10 11 12 "
				  "13 14 15 16 17 18 19 20 21 22 23 24 25 26 27\nOutput\n378\n";
	char text[2048];
	struct filter_input in = { .original = orig };

	(void)state;
	/* the examples section shown twice, as some models do */
	snprintf(text, sizeof(text), "Print the total.\n\nExample\nInput\n1 2 3 4 5 6 7 8 9 10 11 "
		 "12 13 14 15 16 17 18 19 20 21 22 23 24 25 26 27\nOutput\n378\n\nExample (again)\n"
		 "Input\n1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25 26 27\n"
		 "Output\n378\n");
	in.modified = text;
	assert_false(check_fires(&in, NULL, "repeated-lines"));
	assert_false(check_fires(&in, NULL, "repeated-ngrams"));
	/* a sentence four times over, at one period */
	in.original = STORY;
	snprintf(text, sizeof(text), "%s Each word may be reversed at most once. Each word may be "
		 "reversed at most once. Each word may be reversed at most once. Each word may be "
		 "reversed at most once.", STORY);
	in.modified = text;
	assert_true(check_fires(&in, NULL, "repeated-ngrams"));
	/* one short line over and over */
	snprintf(text, sizeof(text), "%s\n\nOutput\n42\n42\n42\n42\n42\n42\n42\n", STORY);
	in.modified = text;
	assert_true(check_fires(&in, NULL, "repeated-lines"));
}

/* formatting is no edit, a changed relation is */
static void unchanged_sees_through_formatting_but_not_a_changed_relation(void **state)
{
	struct filter_input in = { .original = "Print n ($1 \\le n \\le 10^5$) numbers with "
					      "$a_i \\neq a_{i+1}$.\n\n-----Input-----\nOne line." };

	(void)state;
	in.modified = "Print n (1 ≤ n ≤ 10^5) numbers with a_i ≠ a_{i+1}.\n\n## Input\nOne line.";
	assert_true(check_fires(&in, NULL, "unchanged"));
	in.modified = "Print n (1 <= n <= 10^5) numbers with a_i != a_{i+1}.\n\n**Input**\nOne line.";
	assert_true(check_fires(&in, NULL, "unchanged"));
	in.modified = "Print n ($1 \\le n \\le 10^5$) numbers with $a_i = a_{i+1}$.\n\n"
		      "-----Input-----\nOne line.";
	assert_false(check_fires(&in, NULL, "unchanged"));
}

/* an arithmetic operator is part of the task ("a - b" for "a \\cdot b",
 * "print 1" for "print -1"); hyphens, rules, bullets and emphasis are not */
static void unchanged_sees_a_changed_operator(void **state)
{
	struct filter_input in = { .original = "Find real $a$ and $b$ with $a + b = d$ and "
					      "$a \\cdot b = d$; the $i$-th query is $2 \\cdot 10^5$ "
					      "at most. Print -1 if there is none.\n\n-----Input-----\n"
					      "- one line\n*One* number." };

	(void)state;
	in.modified = "Find real a and b with a + b = d and a * b = d; the i-th query is 2*10^5 at "
		      "most. Print -1 if there is none.\n\n**Input**\n- one line\n*One* number.";
	assert_true(check_fires(&in, NULL, "unchanged"));
	in.modified = "Find real a and b with a + b = d and a · b = d; the i-th query is 2 × 10^5 "
		      "at most. Print −1 if there is none.\n\n## Input\n- one line\nOne number.";
	assert_true(check_fires(&in, NULL, "unchanged"));
	in.modified = "Find real $a$ and $b$ with $a + b = d$ and $a - b = d$; the $i$-th query is "
		      "$2 \\cdot 10^5$ at most. Print -1 if there is none.\n\n-----Input-----\n"
		      "- one line\n*One* number.";
	assert_false(check_fires(&in, NULL, "unchanged"));
	in.modified = "Find real $a$ and $b$ with $a + b = d$ and $a \\cdot b = d$; the $i$-th query "
		      "is $2 \\cdot 10^5$ at most. Print 1 if there is none.\n\n-----Input-----\n"
		      "- one line\n*One* number.";
	assert_false(check_fires(&in, NULL, "unchanged"));
}

/* a bound the rewrite dropped leaks from a question in any notation;
 * an example's number does not make it the rewrite's bound */
static void questions_may_not_give_a_dropped_bound(void **state)
{
	static const char *const q1[] = { "Can n be as large as 100000?" };
	static const char *const q2[] = { "Is n at most 2 \\cdot 10^5?" };
	static const char *const q3[] = { "Is the output 41 under the stated rule?" };
	struct filter_input in = {
		.original = "Read n ($1 \\le n \\le 10^5$), then n more ($n \\le 2 \\cdot 10^5$ in "
			    "total).\n\nExample\nInput\n41\nOutput\n41",
		.modified = "Read n, then n more.\n\nExample\nInput\n100000\nOutput\n40",
		.questions = q1, .nquestions = 1,
	};

	(void)state;
	assert_true(check_fires(&in, NULL, "hidden-leak"));
	in.questions = q2;
	assert_true(check_fires(&in, NULL, "hidden-leak"));
	in.questions = q3;
	assert_false(check_fires(&in, NULL, "hidden-leak"));
}

/* reject, flag (soft) and off, for built-in checks and for rules */
static void actions_make_a_check_soft_or_turn_it_off(void **state)
{
	struct filter_set fs;
	struct filter_result r;
	char text[1024];
	struct filter_input in = { .original = STORY };

	(void)state;
	snprintf(text, sizeof(text), "%s It is not specified whether words repeat.", STORY);
	in.modified = text;
	assert_int_equal(filter_action_parse("soft"), FILTER_FLAG);
	assert_int_equal(filter_action_parse("flag"), FILTER_FLAG);
	assert_int_equal(filter_action_parse("off"), FILTER_OFF);
	assert_int_equal(filter_action_parse("maybe"), -1);
	load_shipped(&fs);
	assert_int_equal(filter_set_action(&fs, "inline-commentary", FILTER_FLAG), 0);
	run(&fs, &in, &r);
	assert_non_null(find(&r, "inline-commentary", FIELD_MODIFIED));
	assert_int_equal(find(&r, "inline-commentary", FIELD_MODIFIED)->action, FILTER_FLAG);
	assert_false(r.rejected);
	filter_result_release(&r);
	assert_int_equal(filter_set_action(&fs, "inline-commentary", FILTER_OFF), 0);
	run(&fs, &in, &r);
	assert_null(find(&r, "inline-commentary", -1));
	filter_result_release(&r);
	/* a rule file's rule too */
	in.modified = "Here is the modified problem: print the sum of n numbers.";
	assert_int_equal(filter_set_action(&fs, "here-is-rewrite", FILTER_OFF), 0);
	run(&fs, &in, &r);
	assert_null(find(&r, "here-is-rewrite", -1));
	filter_result_release(&r);
	assert_int_equal(filter_set_action(&fs, "no-such-rule", FILTER_OFF), CL_ENOTFOUND);
	filter_set_release(&fs);
}

/* a rule's match that the original has too is the problem's own */
static void a_match_the_original_has_is_the_problems_own(void **state)
{
	struct filter_set fs;
	struct filter_result r;
	struct filter_input in = {
		.original = "This is the hard version of the problem. Unlike the easy version, n "
			    "may be large.",
		.modified = "This is the hard version of the problem. Unlike the easy version, n "
			    "may be quite large.",
	};

	(void)state;
	load_shipped(&fs);
	run(&fs, &in, &r);
	assert_false(r.rejected);
	filter_result_release(&r);
	in.original = "This is a problem about n.";
	run(&fs, &in, &r);
	assert_true(r.rejected);
	filter_result_release(&r);
	filter_set_release(&fs);
}

/* ---- threads ------------------------------------------------------------ */

#define THREAD_ROUNDS 20

struct worker {
	const struct filter_set *fs;
	const struct filter_input *inputs;
	size_t n;
	char (*want)[512];
	int mismatches;
	int errors;
};

/* "rule/field/action;..." of one run */
static void signature(const struct filter_result *r, char *out, size_t cap)
{
	size_t len = 0;

	out[0] = '\0';
	for (size_t i = 0; i < r->n; i++) {
		int k = snprintf(out + len, cap - len, "%s/%d/%d;", r->v[i].rule, r->v[i].field,
				 r->v[i].action);

		if (k < 0 || (size_t)k >= cap - len)
			break;
		len += (size_t)k;
	}
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct filter_scratch *s = filter_scratch_new(w->fs);
	struct filter_result r;
	char got[512];

	if (!s) {
		w->errors++;
		return NULL;
	}
	filter_result_init(&r);
	for (int round = 0; round < THREAD_ROUNDS; round++) {
		for (size_t i = 0; i < w->n; i++) {
			filter_result_reset(&r);
			if (filter_run(w->fs, s, &w->inputs[i], &r)) {
				w->errors++;
				continue;
			}
			signature(&r, got, sizeof(got));
			w->mismatches += strcmp(got, w->want[i]) != 0;
		}
	}
	filter_result_release(&r);
	filter_scratch_free(s);
	return NULL;
}

static void two_threads_sharing_a_set_give_the_verdicts_of_one(void **state)
{
	enum { NPOS = CL_ARRAY_SIZE(positives), NNEG = CL_ARRAY_SIZE(hard_negatives) };
	static const char *const leak[] = { "Is each between 1 and 1000 still the range?" };
	static struct filter_input inputs[NPOS + NNEG + 4];
	static char want[NPOS + NNEG + 4][512];
	static const char *pos_q[NPOS][1];
	struct filter_set fs;
	struct worker w[2];
	pthread_t t[2];
	size_t n = 0;
	int fired = 0;

	(void)state;
	load_shipped(&fs);
	for (size_t i = 0; i < NPOS; i++) {
		struct filter_input in = base_input();

		if (positives[i].field == FIELD_MODIFIED) {
			in.modified = positives[i].text;
		} else {
			pos_q[i][0] = positives[i].text;
			in.questions = pos_q[i];
			in.nquestions = 1;
		}
		inputs[n++] = in;
	}
	for (size_t i = 0; i < NNEG; i++) {
		struct filter_input in = { .original = ORIGINAL, .modified = hard_negatives[i] };

		inputs[n++] = in;
	}
	inputs[n] = base_input();
	inputs[n++].modified = ORIGINAL;           /* unchanged */
	inputs[n] = base_input();
	inputs[n].modified = MODIFIED_NO_RANGE;    /* hidden-leak */
	inputs[n].questions = leak;
	inputs[n++].nquestions = 1;
	inputs[n] = base_input();
	inputs[n++].finish_reason = "length";      /* truncated */
	inputs[n++] = base_input();                /* clean */

	/* one thread first: the expected verdicts */
	for (size_t i = 0; i < n; i++) {
		struct filter_result r;

		run(&fs, &inputs[i], &r);
		signature(&r, want[i], sizeof(want[i]));
		fired += r.n > 0;
		filter_result_release(&r);
	}
	assert_true(fired > (int)NPOS);

	for (int i = 0; i < 2; i++) {
		w[i] = (struct worker){ .fs = &fs, .inputs = inputs, .n = n, .want = want };
		assert_int_equal(pthread_create(&t[i], NULL, worker_main, &w[i]), 0);
	}
	for (int i = 0; i < 2; i++) {
		assert_int_equal(pthread_join(t[i], NULL), 0);
		assert_int_equal(w[i].errors, 0);
		assert_int_equal(w[i].mismatches, 0);
	}
	filter_set_release(&fs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(sound_record_gets_no_verdict),
		cmocka_unit_test(unchanged_fires_on_case_space_and_punctuation_only),
		cmocka_unit_test(drift_fires_on_another_problem),
		cmocka_unit_test(hidden_leak_fires_on_a_question_quoting_removed_text),
		cmocka_unit_test(hidden_leak_finds_every_ngram_of_texts_of_every_length),
		cmocka_unit_test(repeated_lines_fires_on_a_line_four_times),
		cmocka_unit_test(repeated_lines_fires_on_a_long_paragraph_twice),
		cmocka_unit_test(repeated_ngrams_fires_on_a_word_four_times_in_a_row),
		cmocka_unit_test(repeated_ngrams_fires_on_heavy_repetition),
		cmocka_unit_test(leak_ngram_sets_the_run_length_of_drift_and_repeats),
		cmocka_unit_test(repeated_questions_fires_on_the_same_question_twice),
		cmocka_unit_test(empty_fires_on_a_blank_modified_problem),
		cmocka_unit_test(truncated_fires_on_finish_reason_length),
		cmocka_unit_test(no_questions_fires_only_when_questions_are_expected),
		cmocka_unit_test(not_a_question_fires_on_statements),
		cmocka_unit_test(question_mark_may_sit_inside_closing_quotes_or_brackets),
		cmocka_unit_test(question_mark_may_sit_inside_square_brackets_and_curly_quotes),
		cmocka_unit_test(thresholds_from_filter_limits_change_the_outcome),
		cmocka_unit_test(shipped_rules_fire_on_hard_positives),
		cmocka_unit_test(shipped_rules_fire_on_inflected_trigger_words),
		cmocka_unit_test(shipped_rules_fire_on_headers_in_underscore_bold),
		cmocka_unit_test(shipped_rules_do_not_fire_on_hard_negatives),
		cmocka_unit_test(inline_commentary_fires_on_a_text_that_talks_about_its_clarity),
		cmocka_unit_test(inline_commentary_passes_a_problems_own_words),
		cmocka_unit_test(drift_passes_a_reordered_paraphrase_and_catches_another_problem),
		cmocka_unit_test(repetition_is_judged_against_the_original),
		cmocka_unit_test(unchanged_sees_through_formatting_but_not_a_changed_relation),
		cmocka_unit_test(unchanged_sees_a_changed_operator),
		cmocka_unit_test(questions_may_not_give_a_dropped_bound),
		cmocka_unit_test(actions_make_a_check_soft_or_turn_it_off),
		cmocka_unit_test(a_match_the_original_has_is_the_problems_own),
		cmocka_unit_test(two_threads_sharing_a_set_give_the_verdicts_of_one),
	};

	return cmocka_run_group_tests_name("checks", tests, group_setup, test_group_teardown);
}
