/* test_export.c - the export's arithmetic: the target counts for a ratio
 * (exact to half a record, in both sampling modes), the seeded selection
 * (exact totals, deterministic, uniform), the rows' bytes and the test
 * file's name. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../../export/export.h"

#define TX(s) { (s), sizeof(s) - 1 }

static void targets_of_the_sample_store(void **state)
{
	uint64_t tc, to;

	(void)state;
	/* 36 clarify records, 12 originals, as tests/data/apps gives */
	assert_int_equal(export_targets(0.5, EXPORT_DOWN, 36, 12, &tc, &to), 0);
	assert_int_equal(tc, 12);
	assert_int_equal(to, 12);
	assert_int_equal(export_targets(0.5, EXPORT_OVER, 36, 12, &tc, &to), 0);
	assert_int_equal(tc, 36);
	assert_int_equal(to, 36);
	assert_int_equal(export_targets(0.2, EXPORT_DOWN, 36, 12, &tc, &to), 0);
	assert_int_equal(tc, 3);
	assert_int_equal(to, 12);
	assert_int_equal(export_targets(0.2, EXPORT_OVER, 36, 12, &tc, &to), 0);
	assert_int_equal(tc, 36);
	assert_int_equal(to, 144);
	assert_int_equal(export_targets(0.9, EXPORT_DOWN, 36, 12, &tc, &to), 0);
	assert_int_equal(tc, 36);
	assert_int_equal(to, 4);
	assert_int_equal(export_targets(0.9, EXPORT_OVER, 36, 12, &tc, &to), 0);
	assert_int_equal(tc, 108);
	assert_int_equal(to, 12);
	/* 1: every clarify record and no original, whatever the sampling */
	assert_int_equal(export_targets(1.0, EXPORT_OVER, 36, 12, &tc, &to), 0);
	assert_int_equal(tc, 36);
	assert_int_equal(to, 0);
	assert_int_equal(export_targets(1.0, EXPORT_DOWN, 36, 0, &tc, &to), 0);
	assert_int_equal(tc, 36);
	assert_int_equal(to, 0);
}

static void targets_hold_the_ratio_within_half_a_record(void **state)
{
	static const double ratios[] = { 0.01, 0.1, 0.2, 0.25, 1.0 / 3, 0.5, 0.6, 2.0 / 3,
					 0.75, 0.8, 0.9, 0.99, 0.999 };

	(void)state;
	for (size_t i = 0; i < sizeof(ratios) / sizeof(ratios[0]); i++) {
		double r = ratios[i];

		for (uint64_t nc = 1; nc <= 70; nc += 3) {
			for (uint64_t no = 1; no <= 70; no += 2) {
				uint64_t tc, to;
				double err;

				assert_int_equal(export_targets(r, EXPORT_DOWN, nc, no, &tc, &to), 0);
				assert_true(tc <= nc && to <= no);
				assert_true(tc == nc || to == no);
				err = fabs((double)tc - r * (double)(tc + to));
				assert_true(err <= 0.5 + 1e-9);

				assert_int_equal(export_targets(r, EXPORT_OVER, nc, no, &tc, &to), 0);
				assert_true(tc >= nc && to >= no);
				assert_true(tc == nc || to == no);
				err = fabs((double)tc - r * (double)(tc + to));
				assert_true(err <= 0.5 + 1e-9);
			}
		}
	}
}

static void targets_refuse_what_cannot_be_mixed(void **state)
{
	uint64_t tc = 9, to = 9;

	(void)state;
	assert_int_equal(export_targets(0, EXPORT_DOWN, 10, 10, &tc, &to), CL_EINVAL);
	assert_int_equal(tc, 0);
	assert_int_equal(to, 0);
	assert_int_equal(export_targets(1.5, EXPORT_DOWN, 10, 10, &tc, &to), CL_EINVAL);
	assert_int_equal(export_targets(-0.5, EXPORT_OVER, 10, 10, &tc, &to), CL_EINVAL);
	assert_int_equal(export_targets(NAN, EXPORT_OVER, 10, 10, &tc, &to), CL_EINVAL);
	/* no originals, or no clarify records: nothing to mix below 1 */
	assert_int_equal(export_targets(0.5, EXPORT_DOWN, 10, 0, &tc, &to), CL_EINVAL);
	assert_int_equal(export_targets(0.5, EXPORT_OVER, 0, 10, &tc, &to), CL_EINVAL);
	assert_int_equal(export_targets(0.5, 7, 10, 10, &tc, &to), CL_EINVAL);
}

static uint64_t pick_all(uint64_t n, uint64_t target, uint64_t seed, uint64_t *copies)
{
	struct export_pick p;
	uint64_t sum = 0;

	export_pick_init(&p, n, target, seed, 0);
	for (uint64_t i = 0; i < n; i++) {
		uint64_t c = export_pick_next(&p);

		if (copies)
			copies[i] = c;
		sum += c;
	}
	assert_int_equal(export_pick_next(&p), 0); /* past the last record */
	return sum;
}

static void pick_hits_the_target_exactly(void **state)
{
	static const uint64_t sizes[] = { 1, 2, 3, 7, 12, 36, 100, 1001 };
	uint64_t copies[1001];

	(void)state;
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		uint64_t n = sizes[i];
		const uint64_t targets[] = { 0, 1, n / 3, n / 2, n, n + 1, 2 * n + n / 3, 10 * n };

		for (size_t j = 0; j < sizeof(targets) / sizeof(targets[0]); j++) {
			uint64_t t = targets[j];

			for (uint64_t seed = 0; seed < 5; seed++) {
				assert_int_equal(pick_all(n, t, seed, copies), t);
				for (uint64_t k = 0; k < n; k++)
					assert_true(copies[k] == t / n || copies[k] == t / n + 1);
			}
		}
	}
	assert_int_equal(pick_all(0, 0, 1, NULL), 0);
}

static void pick_is_deterministic_and_depends_on_the_seed(void **state)
{
	uint64_t a[200], b[200], c[200];
	struct export_pick p, q;

	(void)state;
	pick_all(200, 70, 42, a);
	pick_all(200, 70, 42, b);
	pick_all(200, 70, 43, c);
	assert_memory_equal(a, b, sizeof(a));
	assert_memory_not_equal(a, c, sizeof(a));
	/* the streams (split, side) are independent sequences */
	export_pick_init(&p, 200, 70, 42, 0);
	export_pick_init(&q, 200, 70, 42, 1);
	assert_true(export_rng_next(&p.rng) != export_rng_next(&q.rng));
}

static void pick_is_uniform(void **state)
{
	enum { N = 10, T = 3, RUNS = 20000 };
	uint64_t hits[N] = { 0 }, copies[N];

	(void)state;
	for (uint64_t seed = 0; seed < RUNS; seed++) {
		pick_all(N, T, seed, copies);
		for (int i = 0; i < N; i++)
			hits[i] += copies[i];
	}
	/* each record is chosen with probability T/N = 0.3: 6,000 of 20,000,
	 * standard deviation about 65 */
	for (int i = 0; i < N; i++)
		assert_true(hits[i] > 5600 && hits[i] < 6400);
}

static void rng_below_stays_in_range(void **state)
{
	struct export_rng r;
	uint64_t seen[7] = { 0 };

	(void)state;
	export_rng_seed(&r, 1, 2);
	assert_int_equal(export_rng_below(&r, 0), 0);
	for (int i = 0; i < 7000; i++) {
		uint64_t x = export_rng_below(&r, 7);

		assert_true(x < 7);
		seen[x]++;
	}
	for (int i = 0; i < 7; i++)
		assert_true(seen[i] > 800 && seen[i] < 1200);
	for (int i = 0; i < 1000; i++)
		assert_true(export_rng_below(&r, UINT64_MAX) < UINT64_MAX);
}

static void paper_row_bytes(void **state)
{
	const struct export_text qs[] = { TX("What is \"n\"?"), TX("Tab\there?") };
	struct export_row row = { .problem = TX("Sum a\\b.\nDone"), .starter_code = TX("def f():\n"),
				  .answer = qs, .nanswer = 2, .type = CAT_AMBIGUOUS };
	struct buf b;
	json_t *v;

	(void)state;
	buf_init(&b, 1 << 20);
	assert_int_equal(export_row_append(&b, EXPORT_PAPER, &row), 0);
	assert_string_equal(b.data, "{\"problem\":\"Sum a\\\\b.\\nDone\\ndef f():\\n\","
				    "\"answer\":\"What is \\\"n\\\"?\\nTab\\there?\","
				    "\"type\":\"Ambiguous\"}\n");
	v = jsonx_parse(b.data, b.len, "row");
	assert_non_null(v);
	assert_string_equal(jsonx_str(v, "problem"), "Sum a\\b.\nDone\ndef f():\n");
	json_decref(v);

	/* no starter code: the problem alone; an original's type */
	buf_reset(&b);
	row.starter_code.n = 0;
	row.type = EXPORT_ORIGINAL;
	row.nanswer = 1;
	assert_int_equal(export_row_append(&b, EXPORT_PAPER, &row), 0);
	assert_string_equal(b.data, "{\"problem\":\"Sum a\\\\b.\\nDone\","
				    "\"answer\":\"What is \\\"n\\\"?\",\"type\":\"Original\"}\n");
	buf_release(&b);
}

static void chat_row_shape_and_control_characters(void **state)
{
	const struct export_text sol[] = { TX("print(1)\x01") };
	struct export_row row = { .problem = TX("P\x1f"), .answer = sol, .nanswer = 1,
				  .type = CAT_INCOMPLETE, .id = "apps/train/0001#incomplete" };
	struct buf b;
	json_t *v, *msgs;

	(void)state;
	buf_init(&b, 1 << 20);
	assert_int_equal(export_row_append(&b, EXPORT_CHAT, &row), 0);
	assert_non_null(strstr(b.data, "\"content\":\"P\\u001f\""));
	v = jsonx_parse(b.data, b.len, "row");
	assert_non_null(v);
	msgs = json_object_get(v, "messages");
	assert_int_equal(json_array_size(msgs), 3);
	assert_string_equal(jsonx_str(json_array_get(msgs, 0), "role"), "system");
	assert_string_equal(jsonx_str(json_array_get(msgs, 0), "content"), export_chat_system);
	assert_string_equal(jsonx_str(json_array_get(msgs, 1), "role"), "user");
	assert_string_equal(jsonx_str(json_array_get(msgs, 1), "content"), "P\x1f");
	assert_string_equal(jsonx_str(json_array_get(msgs, 2), "role"), "assistant");
	assert_string_equal(jsonx_str(json_array_get(msgs, 2), "content"), "print(1)\x01");
	assert_string_equal(jsonx_str(v, "category"), "incomplete");
	assert_string_equal(jsonx_str(v, "id"), "apps/train/0001#incomplete");
	json_decref(v);
	buf_release(&b);
}

static void escaped_texts_are_copied_as_they_are(void **state)
{
	const struct export_text qs[] = { TX("Is \\\"n\\\" even?"), TX("caf\\u00e9?") };
	struct export_row row = { .problem = TX("line\\nnext"), .starter_code = TX("def f():\\n"),
				  .answer = qs, .nanswer = 2, .type = CAT_INCOMPLETE,
				  .escaped = 1 };
	struct buf b;
	json_t *v;

	(void)state;
	buf_init(&b, 1 << 20);
	assert_int_equal(export_row_append(&b, EXPORT_PAPER, &row), 0);
	assert_string_equal(b.data, "{\"problem\":\"line\\nnext\\ndef f():\\n\","
				    "\"answer\":\"Is \\\"n\\\" even?\\ncaf\\u00e9?\","
				    "\"type\":\"Incomplete\"}\n");
	v = jsonx_parse(b.data, b.len, "row");
	assert_non_null(v);
	assert_string_equal(jsonx_str(v, "problem"), "line\nnext\ndef f():\n");
	assert_string_equal(jsonx_str(v, "answer"), "Is \"n\" even?\ncaf\xc3\xa9?");
	json_decref(v);
	buf_release(&b);
}

static void row_over_the_cap_leaves_the_buffer_as_it_was(void **state)
{
	const struct export_text qs[] = { TX("why?") };
	struct export_row row = { .problem = TX("a long enough problem statement"), .answer = qs,
				  .nanswer = 1, .type = CAT_INCONSISTENT };
	struct buf b;

	(void)state;
	buf_init(&b, 40);
	assert_int_equal(buf_adds(&b, "kept"), 0);
	assert_int_equal(export_row_append(&b, EXPORT_PAPER, &row), CL_ETOOBIG);
	assert_int_equal(b.len, 4);
	assert_string_equal(b.data, "kept");
	buf_release(&b);
}

static void test_file_names(void **state)
{
	char out[64];

	(void)state;
	assert_int_equal(export_test_path("out.jsonl", out, sizeof(out)), 0);
	assert_string_equal(out, "out.test.jsonl");
	assert_int_equal(export_test_path("d.x/out.jsonl.zst", out, sizeof(out)), 0);
	assert_string_equal(out, "d.x/out.test.jsonl.zst");
	assert_int_equal(export_test_path("/tmp/out", out, sizeof(out)), 0);
	assert_string_equal(out, "/tmp/out.test");
	assert_int_equal(export_test_path("rows.json", out, sizeof(out)), 0);
	assert_string_equal(out, "rows.test.json");
	assert_int_equal(export_test_path("a/.jsonl", out, sizeof(out)), 0);
	assert_string_equal(out, "a/.jsonl.test");
	assert_int_equal(export_test_path("x.zst", out, sizeof(out)), 0);
	assert_string_equal(out, "x.test.zst");
	assert_int_equal(export_test_path("a-name-that-is-far-too-long-for-the-buffer.jsonl",
					  out, 16), CL_ETOOBIG);
}

static void names_parse_both_ways(void **state)
{
	(void)state;
	assert_int_equal(export_format_parse("paper"), EXPORT_PAPER);
	assert_int_equal(export_format_parse("chat"), EXPORT_CHAT);
	assert_int_equal(export_format_parse("csv"), -1);
	assert_int_equal(export_sampling_parse("over"), EXPORT_OVER);
	assert_int_equal(export_sampling_parse("up"), -1);
	assert_string_equal(export_type_name(EXPORT_ORIGINAL), "Original");
	assert_string_equal(export_type_name(CAT_INCONSISTENT), "Inconsistent");
	assert_string_equal(export_type_category(EXPORT_ORIGINAL), "original");
	assert_string_equal(export_type_category(CAT_AMBIGUOUS), "ambiguous");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(targets_of_the_sample_store),
		cmocka_unit_test(targets_hold_the_ratio_within_half_a_record),
		cmocka_unit_test(targets_refuse_what_cannot_be_mixed),
		cmocka_unit_test(pick_hits_the_target_exactly),
		cmocka_unit_test(pick_is_deterministic_and_depends_on_the_seed),
		cmocka_unit_test(pick_is_uniform),
		cmocka_unit_test(rng_below_stays_in_range),
		cmocka_unit_test(paper_row_bytes),
		cmocka_unit_test(chat_row_shape_and_control_characters),
		cmocka_unit_test(escaped_texts_are_copied_as_they_are),
		cmocka_unit_test(row_over_the_cap_leaves_the_buffer_as_it_was),
		cmocka_unit_test(test_file_names),
		cmocka_unit_test(names_parse_both_ways),
	};

	log_init("test_export", LOG_ERR);
	return cmocka_run_group_tests_name("export", tests, NULL, NULL);
}
