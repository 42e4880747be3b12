/* test_offline_answer.c - the offline provider's stage 3: it answers its
 * own questions from the original and judges the record, and its judge
 * catches records broken on purpose. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../llm/provider.h"
#include "../../prompts/prompt.h"

static const char p_codeforces[] =
	"Vasya has n boxes, the i-th of them holds a_i candies. He wants to eat the candies of "
	"some boxes so that the boxes left are sorted in non-decreasing order.\n"
	"\n"
	"-----Input-----\n"
	"\n"
	"The first line contains one integer n (1 \\le n \\le 2 \\cdot 10^5) - the number of "
	"boxes.\n"
	"\n"
	"The second line contains n integers a_1, a_2, ..., a_n (1 \\le a_i \\le 10^9).\n"
	"\n"
	"-----Output-----\n"
	"\n"
	"Print the minimum number of boxes Vasya has to eat.\n"
	"\n"
	"-----Examples-----\n"
	"Input\n"
	"3\n"
	"3 1 2\n"
	"\n"
	"Output\n"
	"1\n";

static const char p_tiny[] = "Print the sum of two integers a and b, where 0 <= a, b <= 1000.";

/* The template the daemon would use: the reply's fields only matter. */
static struct prompt_template answer_tpl(void)
{
	struct prompt_template t;

	memset(&t, 0, sizeof(t));
	t.stage = PROMPT_ANSWER;
	t.outputs = PROMPT_REASONING | PROMPT_ANSWERS | PROMPT_VERDICT;
	return t;
}

static int offline(const char *orig, const char *mod, const char *const *q, size_t nq, int cat,
		   int stage, uint64_t seed, struct buf *out)
{
	struct llm_request r;

	memset(&r, 0, sizeof(r));
	r.original = orig;
	r.modified = mod;
	r.questions = q;
	r.nquestions = nq;
	r.category = cat;
	r.stage = stage;
	buf_reset(out);
	return llm_offline_reply(&r, seed, out);
}

/* Stage 3 on (orig, mod, q): the parsed reply. */
static void judge(const char *orig, const char *mod, const char *const *q, size_t nq,
		  struct prompt_reply *r)
{
	struct prompt_template t = answer_tpl();
	struct buf b;

	buf_init(&b, 1 << 20);
	assert_int_equal(offline(orig, mod, q, nq, CAT_INCOMPLETE, LLM_STAGE_ANSWER, 1, &b), 0);
	if (prompt_parse_answers(&t, b.data, nq, r) != 0)
		fail_msg("stage 3 reply does not parse: %s\n%s", err_msg(CL_EPARSE), b.data);
	buf_release(&b);
}

/* The three stages of the offline provider on one problem: 1 when the
 * judge says the record recovers the original. */
static int three_stages(const char *orig, int cat, uint64_t seed, int *announced)
{
	struct prompt_template t1, t2, t3 = answer_tpl();
	struct prompt_reply r1 = { 0 }, r2 = { 0 }, r3 = { 0 };
	struct buf b;
	int ok;

	memset(&t1, 0, sizeof(t1));
	memset(&t2, 0, sizeof(t2));
	t1.outputs = PROMPT_REASONING | PROMPT_MODIFIED;
	t2.stage = PROMPT_CLARIFY;
	t2.outputs = PROMPT_REASONING | PROMPT_QUESTIONS;
	buf_init(&b, 1 << 20);
	assert_int_equal(offline(orig, NULL, NULL, 0, cat, LLM_STAGE_MODIFY, seed, &b), 0);
	assert_int_equal(prompt_parse_reply(&t1, b.data, &r1), 0);
	assert_int_equal(offline(orig, r1.modified, NULL, 0, cat, LLM_STAGE_CLARIFY, seed, &b), 0);
	assert_int_equal(prompt_parse_reply(&t2, b.data, &r2), 0);
	assert_int_equal(offline(orig, r1.modified, (const char *const *)r2.questions,
				 r2.nquestions, cat, LLM_STAGE_ANSWER, seed, &b), 0);
	if (prompt_parse_answers(&t3, b.data, r2.nquestions, &r3) != 0)
		fail_msg("stage 3 reply does not parse: %s\n%s", err_msg(CL_EPARSE), b.data);
	assert_int_equal(r3.nanswers, r2.nquestions);
	assert_int_equal(r3.verdict.ntargets, r2.nquestions);
	assert_false(r3.verdict.mentions_original);
	*announced += r3.verdict.self_announced;
	ok = r3.verdict.recovers;
	if (!ok && getenv("JUDGE_DEBUG"))
		fprintf(stderr, "# cat %d: %s\n", cat, r3.verdict.reason);
	prompt_reply_release(&r1);
	prompt_reply_release(&r2);
	prompt_reply_release(&r3);
	buf_release(&b);
	return ok;
}

static void its_own_records_recover_the_original(void **state)
{
	int announced = 0;

	(void)state;
	for (int cat = 0; cat < CAT_COUNT; cat++) {
		assert_true(three_stages(p_codeforces, cat, 7, &announced));
		assert_true(three_stages(p_tiny, cat, 7, &announced));
	}
	assert_int_equal(announced, 0);
}

static void answers_come_from_the_original(void **state)
{
	static const char orig[] = "Print the sum of a and b.\nBoth are at most 1000.\n";
	static const char mod[] = "Print the sum of a and b.\n";
	static const char *const q[] = { "How large can a and b be at most?",
					 "Which language may I use?" };
	struct prompt_reply r = { 0 };

	(void)state;
	judge(orig, mod, q, 2, &r);
	assert_string_equal(r.answers[0], "The complete problem says: Both are at most 1000.");
	assert_non_null(strstr(r.answers[1], "says nothing more"));
	assert_true(r.verdict.recovers);
	assert_true(r.verdict.targets_change[0]);
	assert_false(r.verdict.targets_change[1]);
	prompt_reply_release(&r);
}

/* Records broken on purpose: the judge says how. */
static void its_judge_catches_broken_records(void **state)
{
	static const char orig[] = "Print the sum of a and b.\nBoth are at most 1000.\n";
	static const char *const off[] = { "Which language may I use?", "Is there a time limit?" };
	static const char *const on[] = { "How large can a and b be at most?" };
	struct prompt_reply r = { 0 };

	(void)state;
	/* questions about something else: not recovered, off target */
	judge(orig, "Print the sum of a and b.\n", off, 2, &r);
	assert_false(r.verdict.recovers);
	assert_false(r.verdict.targets_change[0] || r.verdict.targets_change[1]);
	assert_non_null(strstr(r.verdict.reason, "no question asks"));
	/* a rewrite that announces what it did */
	judge(orig, "Print the sum of a and b.\nThe limit on a and b has been removed.\n", on, 1, &r);
	assert_true(r.verdict.self_announced);
	assert_false(r.verdict.mentions_original);
	/* one that speaks of the original */
	judge(orig, "Print the sum of a and b, with the limits of the original problem.\n", on, 1,
	      &r);
	assert_true(r.verdict.mentions_original);
	/* an original that says "is ambiguous" itself is no announcement */
	judge("Decide whether the grammar is ambiguous.\nn is at most 10.\n",
	      "Decide whether the grammar is ambiguous.\n", on, 1, &r);
	assert_false(r.verdict.self_announced);
	/* nothing changed: the judge says so, and no question targets a change */
	judge(orig, orig, on, 1, &r);
	assert_true(r.verdict.recovers);
	assert_false(r.verdict.targets_change[0]);
	assert_non_null(strstr(r.verdict.reason, "nothing was changed"));
	prompt_reply_release(&r);
}

static void stage_three_needs_the_questions(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b, 0);
	err_clear();
	assert_int_equal(offline(p_tiny, p_tiny, NULL, 0, CAT_AMBIGUOUS, LLM_STAGE_ANSWER, 1, &b),
			 CL_EINVAL);
	assert_non_null(strstr(err_msg(CL_EINVAL), "needs the questions"));
	assert_int_equal(offline(p_tiny, NULL, NULL, 0, CAT_AMBIGUOUS, LLM_STAGE_ANSWER, 1, &b),
			 CL_EINVAL);
	buf_release(&b);
}

/* The 220 APPS statements, three categories: how often its own records
 * recover the original, as a figure, held to a floor. */
static void apps_corpus_recovers(void **state)
{
	const char *env = getenv("SHARED_DATA");
	char path[4400], *line = NULL;
	size_t cap = 0;
	int n = 0, ok = 0, announced = 0;
	FILE *f;

	(void)state;
	snprintf(path, sizeof(path), "%s/apps-corpus/questions.jsonl",
		 env && *env ? env : "../shared/data");
	f = fopen(path, "r");
	if (!f) {
		fprintf(stderr, "# shared data missing: %s\n", path);
		skip();
	}
	while (getline(&line, &cap, f) > 0) {
		json_t *j = json_loads(line, 0, NULL);
		const char *q = j ? json_string_value(json_object_get(j, "question")) : NULL;

		for (int cat = 0; q && *q && cat < CAT_COUNT; cat++) {
			ok += three_stages(q, cat, 1, &announced);
			n++;
		}
		json_decref(j);
	}
	free(line);
	fclose(f);
	assert_true(n > 0);
	fprintf(stderr, "# figure: offline stage 3 on %d APPS records: %d recover (%.3f), %d "
		"self-announced\n", n, ok, (double)ok / n, announced);
	assert_true(ok * 10 >= n * 9);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(its_own_records_recover_the_original),
		cmocka_unit_test(answers_come_from_the_original),
		cmocka_unit_test(its_judge_catches_broken_records),
		cmocka_unit_test(stage_three_needs_the_questions),
		cmocka_unit_test(apps_corpus_recovers),
	};

	return cmocka_run_group_tests_name("offline_answer", tests, NULL, NULL);
}
