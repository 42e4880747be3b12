/* test_signals.c - per-record signals, validation bounds, aggregates */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../../filters/filter.h"
#include "../../stats/stats.h"

static const char *shared(const char *name, char *buf, size_t n)
{
	const char *env = getenv("SHARED_DATA");

	snprintf(buf, n, "%s/%s", env ? env : "../shared/data", name);
	return buf;
}

static void entropy_is_in_nats_of_the_token_unigrams(void **state)
{
	struct stats_text t;

	(void)state;
	assert_int_equal(stats_text(NULL, "a b a b", &t), 0);
	assert_int_equal(t.tokens, 4);
	assert_true(fabs(t.entropy - log(2.0)) < 1e-12);
	assert_int_equal(stats_text(NULL, "x x x x x", &t), 0);
	assert_true(fabs(t.entropy) < 1e-12);
	/* four equally likely tokens, case folded: ln 4 */
	assert_int_equal(stats_text(NULL, "One two THREE four\none Two three FOUR", &t), 0);
	assert_true(fabs(t.entropy - log(4.0)) < 1e-12);
	assert_int_equal(t.sentences, 2);
	assert_true(isnan(t.perplexity));
}

static void sizes_and_repetition_are_measured(void **state)
{
	struct stats_text t;

	(void)state;
	assert_int_equal(stats_text(NULL, "Print the sum.\nPrint the sum.\n\nThen stop.\n", &t), 0);
	assert_int_equal(t.sentences, 3);
	assert_int_equal(t.tokens, 11);
	assert_true(fabs(t.repeated_lines - 1.0 / 3.0) < 1e-12);
	assert_int_equal(stats_text(NULL, "naïve café", &t), 0);
	assert_int_equal(t.chars, 10);
	assert_int_equal(stats_text(NULL, "a b c d a b c d a b c d", &t), 0);
	/* 9 4-grams, 5 of them seen before */
	assert_true(fabs(t.repeated_ngrams - 5.0 / 9.0) < 1e-12);
	assert_int_equal(stats_text(NULL, "", &t), 0);
	assert_int_equal(t.tokens, 0);
}

static void perplexity_is_kenlms_including_oovs(void **state)
{
	char path[4096], tpath[4096];
	struct stats_lm *lm;
	struct stats_text t;
	struct stats_lm_ppl acc = { 0 };
	struct buf b;

	(void)state;
	shared("lm-reference/kenlm-o3.arpa", path, sizeof(path));
	if (!file_exists(path)) {
		fprintf(stderr, "shared data missing: %s\n", path);
		skip();
	}
	assert_int_equal(stats_lm_read_arpa(&lm, path), 0);
	buf_init(&b, 0);
	assert_int_equal(file_read(shared("lm-reference/test.txt", tpath, sizeof(tpath)), &b), 0);
	assert_int_equal(stats_text(lm, b.data, &t), 0);
	assert_int_equal(stats_lm_score_text(lm, b.data, b.len, &acc), 0);
	/* the summary of expected-o3.tsv: 63.682033 over 11,413 tokens */
	assert_true(fabs(t.perplexity - 63.682033253121986) < 1e-6);
	assert_int_equal(t.oov, 617);
	/* exp(-(1/N) sum ln p) is 10^(-(1/N) sum log10 p) */
	assert_true(fabs(t.perplexity - exp(-log(10.0) * acc.log10_total / (double)acc.tokens)) <
		    1e-9);
	buf_release(&b);
	stats_lm_free(lm);
}

static void similarity_is_one_for_the_same_and_zero_for_nothing_shared(void **state)
{
	(void)state;
	assert_true(fabs(stats_similarity("sort the array", "Sort the array") - 1.0) < 1e-12);
	assert_true(stats_similarity("sort the array", "print every vowel") == 0.0);
	assert_true(stats_similarity("sort the array quickly", "sort the array slowly") > 0.5);
	assert_true(stats_similarity(NULL, "x") == 0.0);
}

static void record_signals_have_both_fields(void **state)
{
	const char *qs[] = { "What is the range of n?", "Can n be zero?" };
	json_t *r = stats_record(NULL, "Print n. 1 <= n <= 9", "Print n.", qs, 2);

	(void)state;
	assert_non_null(r);
	assert_int_equal(jsonx_int(r, "question_count", 0), 2);
	assert_int_equal(jsonx_int(json_object_get(r, "questions"), "sentences", 0), 2);
	assert_int_equal(jsonx_int(json_object_get(r, "modified"), "tokens", 0), 3);
	assert_true(json_is_real(json_object_get(r, "similarity")));
	assert_null(json_object_get(json_object_get(r, "modified"), "perplexity"));
	json_decref(r);
}

static void bounds_reject_outliers_as_verdicts(void **state)
{
	struct stats_bounds b;
	struct filter_result res;
	json_t *sig = json_pack("{s:{s:f, s:f}, s:{s:f, s:f}}", "modified", "perplexity", 900.0,
				"entropy", 4.0, "questions", "perplexity", 20.0, "entropy", 0.5);

	(void)state;
	stats_bounds_init(&b);
	filter_result_init(&res);
	assert_int_equal(stats_validate(&b, sig, &res), 0);
	assert_int_equal(res.n, 0); /* no bounds, no verdicts */
	b.modified_ppl_max = 500;
	b.questions_entropy_min = 1.0;
	assert_int_equal(stats_validate(&b, sig, &res), 0);
	assert_int_equal(res.n, 2);
	assert_true(res.rejected);
	assert_string_equal(res.v[0].rule, "lm-perplexity");
	assert_int_equal(res.v[0].field, FIELD_MODIFIED);
	assert_non_null(strstr(res.v[0].detail, "above 500"));
	assert_string_equal(res.v[1].rule, "lm-entropy");
	assert_int_equal(res.v[1].field, FIELD_QUESTIONS);
	assert_non_null(strstr(res.v[1].detail, "below 1"));
	filter_result_release(&res);
	json_decref(sig);
}

static void aggregate_gives_moments_percentiles_and_a_histogram(void **state)
{
	struct stats_agg a;
	json_t *j, *h;

	(void)state;
	stats_agg_init(&a);
	for (int i = 100; i >= 1; i--)
		assert_int_equal(stats_agg_add(&a, i), 0);
	assert_int_equal(stats_agg_add(&a, NAN), 0); /* skipped */
	j = stats_agg_json(&a, 10);
	assert_int_equal(jsonx_int(j, "count", 0), 100);
	assert_true(fabs(json_real_value(json_object_get(j, "mean")) - 50.5) < 1e-12);
	assert_true(fabs(json_real_value(json_object_get(j, "sd")) - 29.011491975882016) < 1e-9);
	assert_true(fabs(json_real_value(json_object_get(j, "p50")) - 50.5) < 1e-12);
	assert_true(fabs(json_real_value(json_object_get(j, "p5")) - 5.95) < 1e-9);
	assert_true(fabs(json_real_value(json_object_get(j, "p95")) - 95.05) < 1e-9);
	h = json_object_get(json_object_get(j, "histogram"), "counts");
	assert_int_equal(json_array_size(h), 10);
	for (size_t i = 0; i < 10; i++)
		assert_int_equal(json_integer_value(json_array_get(h, i)), 10);
	json_decref(j);
	stats_agg_release(&a);
	j = stats_agg_json(&a, 10);
	assert_int_equal(jsonx_int(j, "count", -1), 0);
	json_decref(j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(entropy_is_in_nats_of_the_token_unigrams),
		cmocka_unit_test(sizes_and_repetition_are_measured),
		cmocka_unit_test(perplexity_is_kenlms_including_oovs),
		cmocka_unit_test(similarity_is_one_for_the_same_and_zero_for_nothing_shared),
		cmocka_unit_test(record_signals_have_both_fields),
		cmocka_unit_test(bounds_reject_outliers_as_verdicts),
		cmocka_unit_test(aggregate_gives_moments_percentiles_and_a_histogram),
	};

	log_init("test_signals", LOG_ERR);
	return cmocka_run_group_tests_name("signals", tests, NULL, NULL);
}
