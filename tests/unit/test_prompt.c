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
			assert_true(t->outputs & (s == PROMPT_MODIFY ? PROMPT_MODIFIED : PROMPT_QUESTIONS));
		}
	}
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
		{ "stage: clarify\n", "stage: review\n", "t.yaml:3:8:", "modify or clarify" },
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
	assert_non_null(strstr(err_msg(rc), "clarify stage only"));
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
	struct prompt_vars v = { "Sum a and b.", "Sum them.", "", "interview", CAT_INCOMPLETE };
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
	assert_int_equal(prompt_parse_reply(&t, "<questions>\n \n</questions>", &r), CL_EPARSE);
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
