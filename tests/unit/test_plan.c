/* test_plan.c - the cost before the run (pipeline/plan.c): the token
 * estimate, the price arithmetic, the priors and what the history says */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <string.h>

#include "../../pipeline/plan.h"

static void tokens_are_bytes_over_four_rounded_up(void **state)
{
	(void)state;
	assert_int_equal(plan_tokens(0), 0);
	assert_int_equal(plan_tokens(1), 1);
	assert_int_equal(plan_tokens(4), 1);
	assert_int_equal(plan_tokens(5), 2);
	assert_int_equal(plan_tokens(4000), 1000);
	/* bytes, not characters: "é" is two */
	assert_int_equal(plan_tokens(strlen("\xc3\xa9\xc3\xa9\xc3\xa9")), 2);
}

static void money_is_tokens_times_price_per_million(void **state)
{
	(void)state;
	assert_true(plan_money(0, 2.5) == 0);
	assert_true(fabs(plan_money(1000000, 0.15) - 0.15) < 1e-12);
	assert_true(fabs(plan_money(2500, 0.60) - 0.0015) < 1e-12);
	assert_true(plan_money(123456, 0) == 0);
}

static struct plan three_stages(void)
{
	struct plan p;

	memset(&p, 0, sizeof(p));
	p.stages = 3;
	return p;
}

static void priors_price_a_job_through_every_stage(void **state)
{
	const struct plan_history none = { 0 };
	const int64_t t_in[3] = { 500, 400, 450 }, max_out[3] = { 2048, 1024, 1024 };
	struct plan p = three_stages();
	struct plan_expect e;

	(void)state;
	plan_expect_from(&none, &e);
	assert_false(e.from_history);
	plan_add_job(&p, &e, PROMPT_MODIFY, t_in, 300, max_out);
	assert_int_equal(p.jobs, 1);
	for (int k = 0; k < 3; k++)
		assert_true(p.st[k].requests == 1);
	/* stage 1: its prompt; the rewrite as long as the original + reasoning */
	assert_true(p.st[0].tokens_in == 500);
	assert_true(p.st[0].tokens_out == 300 + PLAN_PRIOR_REASONING);
	/* stage 2: its template plus the expected rewrite */
	assert_true(p.st[1].tokens_in == 400 + 300);
	assert_true(p.st[1].tokens_out == PLAN_PRIOR_CLARIFY);
	/* stage 3: plus the questions too */
	assert_true(p.st[2].tokens_in == 450 + 300 + PLAN_PRIOR_QUESTIONS);
	assert_true(p.st[2].tokens_out == PLAN_PRIOR_ANSWER);
	assert_int_equal(p.st[0].max_out, 2048);
}

static void replies_stay_within_max_tokens(void **state)
{
	const struct plan_history none = { 0 };
	const int64_t t_in[3] = { 10, 10, 10 }, max_out[3] = { 100, 50, 0 };
	struct plan p = three_stages();
	struct plan_expect e;

	(void)state;
	plan_expect_from(&none, &e);
	plan_add_job(&p, &e, PROMPT_MODIFY, t_in, 5000, max_out);
	assert_true(p.st[0].tokens_out == 100);
	assert_true(p.st[1].tokens_out == 50);
	assert_true(p.st[2].tokens_out == PLAN_PRIOR_ANSWER); /* no max_tokens: no cap */
}

static void two_stages_leave_stage_three_out(void **state)
{
	const struct plan_history none = { 0 };
	const int64_t t_in[3] = { 10, 10, 10 }, max_out[3] = { 0, 0, 0 };
	struct plan p = three_stages();
	struct plan_expect e;

	(void)state;
	p.stages = 2;
	plan_expect_from(&none, &e);
	plan_add_job(&p, &e, PROMPT_MODIFY, t_in, 40, max_out);
	assert_true(p.st[1].requests == 1);
	assert_true(p.st[2].requests == 0 && p.st[2].tokens_in == 0);
}

static void history_gives_means_retries_and_reach(void **state)
{
	/* 10 results: all asked stage 1 (12 requests, a re-ask or two), 8
	 * reached stage 2, 4 stage 3 */
	const struct plan_history h = {
		.results = 10, .reached = { 10, 8, 4 }, .requests = { 12, 8, 4 },
		.tokens_out = { 2400, 400, 400 }, .modified_tokens = 1500,
		.questions_tokens = 300, .with_text = 10,
	};
	const int64_t t_in[3] = { 100, 100, 100 }, max_out[3] = { 0, 0, 0 };
	struct plan p = three_stages();
	struct plan_expect e;

	(void)state;
	plan_expect_from(&h, &e);
	assert_true(e.from_history);
	assert_true(fabs(e.reply[0] - 200) < 1e-9);
	assert_true(fabs(e.tries[0] - 1.2) < 1e-9);
	assert_true(fabs(e.reach[1] - 0.8) < 1e-9 && fabs(e.reach[2] - 0.4) < 1e-9);
	assert_true(fabs(e.modified - 150) < 1e-9 && fabs(e.questions - 30) < 1e-9);
	plan_add_job(&p, &e, PROMPT_MODIFY, t_in, 999, max_out);
	assert_true(fabs(p.st[0].requests - 1.2) < 1e-9);
	assert_true(fabs(p.st[0].tokens_in - 120) < 1e-9);
	assert_true(fabs(p.st[0].tokens_out - 240) < 1e-9);
	assert_true(fabs(p.st[1].tokens_in - 0.8 * (100 + 150)) < 1e-9);
	assert_true(fabs(p.st[2].tokens_in - 0.4 * (100 + 150 + 30)) < 1e-9);
	assert_true(fabs(p.st[2].tokens_out - 0.4 * 100) < 1e-9);
}

static void stage_never_asked_reaches_as_many_as_the_one_before(void **state)
{
	const struct plan_history h = {
		.results = 4, .reached = { 4, 2, 0 }, .requests = { 4, 2, 0 },
		.tokens_out = { 400, 100, 0 },
	};
	struct plan_expect e;

	(void)state;
	plan_expect_from(&h, &e);
	assert_true(fabs(e.reach[2] - 0.5) < 1e-9);
	assert_true(isnan(e.reply[2]));    /* the prior */
	assert_true(isnan(e.modified));    /* no texts: the original's size */
}

static void job_waiting_for_stage_three_costs_stage_three_only(void **state)
{
	const struct plan_history none = { 0 };
	const int64_t t_in[3] = { 0, 0, 700 }, max_out[3] = { 0, 0, 0 };
	struct plan p = three_stages();
	struct plan_expect e;

	(void)state;
	plan_expect_from(&none, &e);
	plan_add_job(&p, &e, PROMPT_ANSWER, t_in, 300, max_out);
	assert_int_equal(p.resumed, 1);
	assert_true(p.st[0].requests == 0 && p.st[1].requests == 0);
	assert_true(p.st[2].tokens_in == 700); /* its prompt is whole */
}

static void json_report_prices_each_stage_and_the_total(void **state)
{
	const struct plan_history none = { 0 };
	const int64_t t_in[3] = { 1000000, 0, 0 }, max_out[3] = { 0, 0, 0 };
	const struct plan_price pr = { "openai", "m", 0.15, 0.60 }, free_ = { "offline", "m", 0, 0 };
	struct plan p = three_stages();
	json_t *j, *m;

	(void)state;
	p.stages = 1;
	plan_expect_from(&none, &p.e);
	plan_add_job(&p, &p.e, PROMPT_MODIFY, t_in, 1000000 - PLAN_PRIOR_REASONING, max_out);
	j = plan_json(&p, &pr, "s");
	assert_non_null(j);
	m = json_object_get(json_object_get(j, "total"), "money");
	assert_true(fabs(json_real_value(json_object_get(m, "in")) - 0.15) < 1e-9);
	assert_true(fabs(json_real_value(json_object_get(m, "out")) - 0.60) < 1e-9);
	assert_true(fabs(json_real_value(json_object_get(m, "total")) - 0.75) < 1e-9);
	json_decref(j);
	j = plan_json(&p, &free_, "s");
	assert_true(json_is_null(json_object_get(json_object_get(j, "total"), "money")));
	json_decref(j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(tokens_are_bytes_over_four_rounded_up),
		cmocka_unit_test(money_is_tokens_times_price_per_million),
		cmocka_unit_test(priors_price_a_job_through_every_stage),
		cmocka_unit_test(replies_stay_within_max_tokens),
		cmocka_unit_test(two_stages_leave_stage_three_out),
		cmocka_unit_test(history_gives_means_retries_and_reach),
		cmocka_unit_test(stage_never_asked_reaches_as_many_as_the_one_before),
		cmocka_unit_test(job_waiting_for_stage_three_costs_stage_three_only),
		cmocka_unit_test(json_report_prices_each_stage_and_the_total),
	};

	return cmocka_run_group_tests_name("plan", tests, NULL, NULL);
}
