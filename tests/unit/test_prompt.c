/* test_prompt.c - prompt templates: the shipped six load, strict refusals
 * with FILE:LINE:COLUMN, rendering, and reply parsing */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "../../prompts/prompt.h"
#include "testutil.h"

static const char *good =
	"name: t\n"
	"version: 2\n"
	"stage: clarify\n"
	"category: incomplete\n"
	"params: { temperature: 0.2, max_tokens: 64, seed: 7 }\n"
	"system: |\n"
	"  You ask about {{category}} problems.\n"
	"user: |\n"
	"  Original: {{original}}\n"
	"  Statement: {{modified}}\n"
	"  Level: {{difficulty}}\n"
	"output: [reasoning, questions]\n";

static int load(struct prompt_template *t, const char *text)
{
	err_clear();
	return prompt_template_load_buffer(t, text, strlen(text), "t.yaml");
}

static void shipped_templates_load_one_per_stage_and_category(void **state)
{
	struct prompt_set ps;

	(void)state;
	assert_int_equal(prompt_set_load_dir(&ps, "prompts"), 0);
	for (int s = 0; s < PROMPT_STAGES; s++) {
		for (int c = 0; c < CAT_COUNT; c++) {
			const struct prompt_template *t = prompt_set_get(&ps, s, c);

			assert_non_null(t);
			assert_int_equal(t->stage, s);
			assert_int_equal(t->category, c);
			assert_int_equal(strlen(t->hash), 64);
			assert_true(t->outputs & PROMPT_REASONING);
			assert_true(t->outputs & (s == PROMPT_MODIFY	? PROMPT_MODIFIED :
						  s == PROMPT_CLARIFY ? PROMPT_QUESTIONS :
									PROMPT_ANSWERS | PROMPT_VERDICT));
		}
	}
	assert_int_equal(ps.stages, 3);
	assert_int_equal(strlen(ps.fingerprint), 64);
	prompt_set_release(&ps);
}

static void a_valid_template_loads_with_its_params(void **state)
{
	struct prompt_template t;

	(void)state;
	assert_int_equal(load(&t, good), 0);
	assert_string_equal(t.name, "t");
	assert_int_equal(t.version, 2);
	assert_int_equal(t.stage, PROMPT_CLARIFY);
	assert_int_equal(t.category, CAT_INCOMPLETE);
	assert_true(t.temperature > 0.19 && t.temperature < 0.21);
	assert_int_equal(t.max_tokens, 64);
	assert_int_equal(t.seed, 7);
	assert_true(t.top_p < 0);
	prompt_template_release(&t);
}

static void refusals_name_file_line_and_column(void **state)
{
	static const struct {
		const char *from, *to, *where, *why;
	} cases[] = {
		{ "version: 2\n", "versoin: 2\n", "t.yaml:2:1:", "unknown key 'versoin'" },
		{ "  Level: {{difficulty}}\n", "  Level: {{level}}\n", "t.yaml:11:10:",
		  "unknown variable '{{level}}'" },
		{ "stage: clarify\n", "stage: review\n", "t.yaml:3:8:", "modify, clarify or answer" },
		{ "category: incomplete\n", "category: vague\n", "t.yaml:4:11:", "unknown category" },
		{ "output: [reasoning, questions]\n", "output: [reasoning, answer]\n", "t.yaml:12:21:",
		  "unknown output field 'answer'" },
		{ "max_tokens: 64", "max_tokens: -1", "t.yaml:5:41:", "max_tokens" },
		{ "seed: 7 }", "top_k: 7 }", "t.yaml:5:45:", "unknown param 'top_k'" },
		{ "output: [reasoning, questions]\n", "output: [reasoning]\n", "t.yaml:1:1:",
		  "must include questions" },
		{ "name: t\n", "", "t.yaml:1:1:", "missing 'name'" },
	};
	char text[2048];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct prompt_template t;
		const char *at = strstr(good, cases[i].from);
		int rc;

		assert_non_null(at);
		snprintf(text, sizeof(text), "%.*s%s%s", (int)(at - good), good, cases[i].to,
			 at + strlen(cases[i].from));
		rc = load(&t, text);
		assert_int_equal(rc, CL_ECONFIG);
		if (!strstr(err_msg(rc), cases[i].where) || !strstr(err_msg(rc), cases[i].why))
			fail_msg("case %zu: got '%s', wanted %s ... %s", i, err_msg(rc),
				 cases[i].where, cases[i].why);
	}
}

static void modified_is_a_clarify_variable_only(void **state)
{
	struct prompt_template t;
	const char *text = "name: m\nversion: 1\nstage: modify\ncategory: ambiguous\n"
			   "system: s\nuser: |\n  {{original}}\n  then {{modified}}\n"
			   "output: [reasoning, modified_problem]\n";
	int rc;

	(void)state;
	rc = load(&t, text);
	assert_int_equal(rc, CL_ECONFIG);
	assert_non_null(strstr(err_msg(rc), "t.yaml:8:8:"));
	assert_non_null(strstr(err_msg(rc), "clarify and answer stages only"));
}

static const char answer_tpl[] =
	"name: a\nversion: 1\nstage: answer\ncategory: ambiguous\n"
	"system: s\nuser: |\n  {{original}}\n  {{modified}}\n  {{questions}}\n"
	"output: [reasoning, answers, verdict]\n";

/* The answer stage's templates: all three or none. */
static void a_set_has_the_answer_stage_whole_or_not_at_all(void **state)
{
	struct prompt_set ps, full;
	char dir[512], cmd[1200], path[600];
	int rc;

	(void)state;
	assert_int_equal(prompt_set_load_dir(&full, "prompts"), 0);
	assert_int_equal(test_tmpdir(dir, sizeof(dir), "prompts"), 0);
	snprintf(cmd, sizeof(cmd), "cp prompts/*.yaml '%s'/", dir);
	assert_int_equal(system(cmd), 0);
	snprintf(path, sizeof(path), "%s/answer-inconsistent.yaml", dir);
	assert_int_equal(remove(path), 0);
	err_clear();
	rc = prompt_set_load_dir(&ps, dir);
	assert_int_equal(rc, CL_ECONFIG);
	assert_non_null(strstr(err_msg(rc), "no answer template for inconsistent"));
	assert_non_null(strstr(err_msg(rc), "all three or none"));
	snprintf(path, sizeof(path), "%s/answer-ambiguous.yaml", dir);
	assert_int_equal(remove(path), 0);
	snprintf(path, sizeof(path), "%s/answer-incomplete.yaml", dir);
	assert_int_equal(remove(path), 0);
	assert_int_equal(prompt_set_load_dir(&ps, dir), 0);
	assert_int_equal(ps.stages, 2);
	assert_null(prompt_set_get(&ps, PROMPT_ANSWER, CAT_AMBIGUOUS));
	assert_string_not_equal(ps.fingerprint, full.fingerprint);
	prompt_set_release(&ps);
	prompt_set_release(&full);
	test_rmtree(dir);
}

static void the_answer_stage_is_checked_like_the_others(void **state)
{
	struct prompt_template t;
	char text[1024];
	int rc;

	(void)state;
	assert_int_equal(load(&t, answer_tpl), 0);
	assert_int_equal(t.stage, PROMPT_ANSWER);
	assert_int_equal(t.outputs, PROMPT_REASONING | PROMPT_ANSWERS | PROMPT_VERDICT);
	prompt_template_release(&t);
	/* {{questions}} belongs to the answer stage */
	rc = load(&t, "name: m\nversion: 1\nstage: clarify\ncategory: ambiguous\n"
		      "system: s\nuser: |\n  {{original}} {{modified}}\n  {{questions}}\n"
		      "output: [reasoning, questions]\n");
	assert_int_equal(rc, CL_ECONFIG);
	assert_non_null(strstr(err_msg(rc), "t.yaml:8:3:"));
	assert_non_null(strstr(err_msg(rc), "answer stage only"));
	/* the verdict is required */
	snprintf(text, sizeof(text), "%.*soutput: [reasoning, answers]\n",
		 (int)(strstr(answer_tpl, "output:") - answer_tpl), answer_tpl);
	rc = load(&t, text);
	assert_int_equal(rc, CL_ECONFIG);
	assert_non_null(strstr(err_msg(rc), "must include answers and verdict"));
	/* and so are the questions */
	snprintf(text, sizeof(text), "name: a\nversion: 1\nstage: answer\ncategory: ambiguous\n"
		 "system: s\nuser: |\n  {{original}}\n  {{modified}}\n"
		 "output: [reasoning, answers, verdict]\n");
	rc = load(&t, text);
	assert_int_equal(rc, CL_ECONFIG);
	assert_non_null(strstr(err_msg(rc), "must show '{{questions}}'"));
}

static void questions_render_numbered_one_a_line(void **state)
{
	static const char *const q[] = { "What is n?", "Is it sorted?" };
	struct prompt_template t;
	struct prompt_vars v = { .original = "O", .modified = "M", .questions = q, .nquestions = 2 };
	struct buf sys, user;

	(void)state;
	assert_int_equal(load(&t, answer_tpl), 0);
	buf_init(&sys, 0);
	buf_init(&user, 0);
	assert_int_equal(prompt_render(&t, &v, &sys, &user), 0);
	assert_string_equal(user.data, "O\nM\n1. What is n?\n2. Is it sorted?\n");
	buf_release(&sys);
	buf_release(&user);
	prompt_template_release(&t);
}

static const char verdict_ok[] =
	"{\"recovers\": true, \"targets_change\": [true, false], \"self_announced\": false,"
	" \"mentions_original\": false, \"reason\": \"the answers give\\nthe bound back\"}";

static void answers_and_verdict_are_taken_in_order(void **state)
{
	struct prompt_template t;
	struct prompt_reply r = { 0 };
	char reply[2048];

	(void)state;
	assert_int_equal(load(&t, answer_tpl), 0);
	snprintf(reply, sizeof(reply),
		 "<reasoning>The bound went.</reasoning>\n<answers>\n1. n is at most 10^5,\n"
		 "   and at least 1.\n2) Yes, ascending.\n</answers>\n<verdict>\n```json\n%s\n```\n"
		 "</verdict>", verdict_ok);
	assert_int_equal(prompt_parse_answers(&t, reply, 2, &r), 0);
	assert_int_equal(r.nanswers, 2);
	assert_string_equal(r.answers[0], "n is at most 10^5, and at least 1.");
	assert_string_equal(r.answers[1], "Yes, ascending.");
	assert_true(r.has_verdict);
	assert_true(r.verdict.recovers);
	assert_int_equal(r.verdict.ntargets, 2);
	assert_true(r.verdict.targets_change[0]);
	assert_false(r.verdict.targets_change[1]);
	assert_false(r.verdict.self_announced);
	assert_false(r.verdict.mentions_original);
	assert_string_equal(r.verdict.reason, "the answers give the bound back");
	/* without markers each line is an answer */
	snprintf(reply, sizeof(reply), "<answers>\nAt most 10^5.\nYes.\n</answers><verdict>%s</verdict>",
		 verdict_ok);
	assert_int_equal(prompt_parse_answers(&t, reply, 2, &r), 0);
	assert_string_equal(r.answers[1], "Yes.");
	/* one answer short */
	snprintf(reply, sizeof(reply), "<answers>1. At most 10^5.</answers><verdict>%s</verdict>",
		 verdict_ok);
	err_clear();
	assert_int_equal(prompt_parse_answers(&t, reply, 2, &r), CL_EPARSE);
	assert_string_equal(err_msg(CL_EPARSE), "the reply has 1 answer for 2 questions");
	err_clear();
	assert_int_equal(prompt_parse_answers(&t, "<answers> </answers>", 2, &r), CL_EPARSE);
	assert_string_equal(err_msg(CL_EPARSE), "empty <answers>");
	err_clear();
	assert_int_equal(prompt_parse_answers(&t, "<answers>1. a\n2. b</answers>", 2, &r), CL_EPARSE);
	assert_string_equal(err_msg(CL_EPARSE), "the reply has no <verdict>");
	prompt_reply_release(&r);
	prompt_template_release(&t);
}

static void a_malformed_verdict_says_what_is_wrong(void **state)
{
	static const struct {
		const char *json, *why;
	} cases[] = {
		{ "recovers: yes", "the <verdict> is not JSON: " },
		{ "[true]", "must be a JSON object, not a list" },
		{ "{\"targets_change\": [true], \"self_announced\": false, \"mentions_original\": false,"
		  " \"reason\": \"r\"}", "the <verdict> has no 'recovers'" },
		{ "{\"recovers\": \"true\", \"targets_change\": [true], \"self_announced\": false,"
		  " \"mentions_original\": false, \"reason\": \"r\"}",
		  "'recovers' must be true or false, not a string" },
		{ "{\"recovers\": true, \"targets_change\": [true, true], \"self_announced\": false,"
		  " \"mentions_original\": false, \"reason\": \"r\"}",
		  "'targets_change' has 2 entries for 1 questions" },
		{ "{\"recovers\": true, \"targets_change\": [1], \"self_announced\": false,"
		  " \"mentions_original\": false, \"reason\": \"r\"}",
		  "'targets_change' entry 1 must be true or false, not a number" },
		{ "{\"recovers\": true, \"targets_change\": true, \"self_announced\": false,"
		  " \"mentions_original\": false, \"reason\": \"r\"}",
		  "'targets_change' must be a list" },
		{ "{\"recovers\": true, \"targets_change\": [true], \"self_announced\": false,"
		  " \"mentions_original\": null, \"reason\": \"r\"}",
		  "'mentions_original' must be true or false, not null" },
		{ "{\"recovers\": true, \"targets_change\": [true], \"self_announced\": false,"
		  " \"mentions_original\": false, \"reason\": \"\"}", "'reason' must be a non-empty text" },
		{ "{\"recovers\": true, \"recovers\": false, \"targets_change\": [true], "
		  "\"self_announced\": false, \"mentions_original\": false, \"reason\": \"r\"}",
		  "duplicate" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct prompt_verdict v = { 0 };
		int rc;

		err_clear();
		rc = prompt_parse_verdict(cases[i].json, 1, &v);
		if (rc != CL_EPARSE || !strstr(err_msg(rc), cases[i].why))
			fail_msg("case %zu: rc %d '%s', wanted '%s'", i, rc, err_msg(rc), cases[i].why);
		assert_null(v.targets_change);
		assert_null(v.reason);
	}
}

static void malformed_yaml_is_refused_with_its_line(void **state)
{
	struct prompt_template t;
	int rc;

	(void)state;
	rc = load(&t, "name: [unclosed\nversion: 1\n");
	assert_int_equal(rc, CL_ECONFIG);
	assert_non_null(strstr(err_msg(rc), "t.yaml:"));
}

static void render_fills_every_variable(void **state)
{
	struct prompt_template t;
	struct prompt_vars v = { .original = "Sum a and b.", .modified = "Sum them.", .starter_code = "",
				  .difficulty = "interview", .category = CAT_INCOMPLETE };
	struct buf sys, user;

	(void)state;
	assert_int_equal(load(&t, good), 0);
	buf_init(&sys, 0);
	buf_init(&user, 0);
	assert_int_equal(prompt_render(&t, &v, &sys, &user), 0);
	assert_string_equal(sys.data, "You ask about incomplete problems.\n");
	assert_string_equal(user.data, "Original: Sum a and b.\nStatement: Sum them.\nLevel: interview\n");
	buf_release(&sys);
	buf_release(&user);
	prompt_template_release(&t);
}

static void replies_give_their_fields_and_questions(void **state)
{
	struct prompt_template t;
	struct prompt_reply r = { 0 };
	const char *reply = "Sure.\n<reasoning>\nThe bound on n is gone.\n</reasoning>\n"
			    "<questions>\n1. What is the range of n?\n- Can n be zero?\n\n"
			    "* Are the values distinct?\n</questions>\n";

	(void)state;
	assert_int_equal(load(&t, good), 0);
	assert_int_equal(prompt_parse_reply(&t, reply, &r), 0);
	assert_string_equal(r.reasoning, "The bound on n is gone.");
	assert_int_equal(r.nquestions, 3);
	assert_string_equal(r.questions[0], "What is the range of n?");
	assert_string_equal(r.questions[1], "Can n be zero?");
	assert_string_equal(r.questions[2], "Are the values distinct?");
	err_clear();
	assert_int_equal(prompt_parse_reply(&t, "<reasoning>x</reasoning>", &r), CL_EPARSE);
	assert_non_null(strstr(err_msg(CL_EPARSE), "<questions>"));
	err_clear();
	assert_int_equal(prompt_parse_reply(&t, "<questions>\n \n</questions>", &r), CL_EPARSE);
	assert_string_equal(err_msg(CL_EPARSE), "empty <questions>");
	prompt_reply_release(&r);
	prompt_template_release(&t);
}

static void the_modified_problem_is_taken_from_its_tags(void **state)
{
	struct prompt_set ps;
	struct prompt_reply r = { 0 };
	const char *reply = "<reasoning>I will say <modified_problem> later.</reasoning>\n"
			    "<modified_problem>\n  Print the sum.\n</modified_problem>";

	(void)state;
	assert_int_equal(prompt_set_load_dir(&ps, "prompts"), 0);
	assert_int_equal(prompt_parse_reply(prompt_set_get(&ps, PROMPT_MODIFY, CAT_AMBIGUOUS), reply,
					    &r), 0);
	assert_string_equal(r.modified, "Print the sum.");
	assert_int_equal(prompt_parse_reply(prompt_set_get(&ps, PROMPT_MODIFY, CAT_AMBIGUOUS),
					    "no tags at all", &r), CL_EPARSE);
	prompt_reply_release(&r);
	prompt_set_release(&ps);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(shipped_templates_load_one_per_stage_and_category),
		cmocka_unit_test(the_answer_stage_is_checked_like_the_others),
		cmocka_unit_test(a_set_has_the_answer_stage_whole_or_not_at_all),
		cmocka_unit_test(questions_render_numbered_one_a_line),
		cmocka_unit_test(answers_and_verdict_are_taken_in_order),
		cmocka_unit_test(a_malformed_verdict_says_what_is_wrong),
		cmocka_unit_test(a_valid_template_loads_with_its_params),
		cmocka_unit_test(refusals_name_file_line_and_column),
		cmocka_unit_test(modified_is_a_clarify_variable_only),
		cmocka_unit_test(malformed_yaml_is_refused_with_its_line),
		cmocka_unit_test(render_fills_every_variable),
		cmocka_unit_test(replies_give_their_fields_and_questions),
		cmocka_unit_test(the_modified_problem_is_taken_from_its_tags),
	};

	log_init("test_prompt", LOG_ERR);
	return cmocka_run_group_tests_name("prompt", tests, NULL, NULL);
}
