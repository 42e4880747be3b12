/* test_report.c - clarify stats' data: grouping, what counts in the
 * distributions, shared-range histograms, HTML escaping and SVG bars */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../stats/report.h"

/* A result record as clarifyd writes it; stats are left out when ppl < 0
 * (a record rejected at stage 1 has none). */
static json_t *result(const char *cat, int accepted, double ppl, double qppl, int qcount,
		      const char *rule)
{
	json_t *r = json_pack("{s:s, s:s, s:b, s:[{s:s, s:i}, {s:s, s:i}], "
			      "s:{s:i, s:i, s:b, s:f}, s:[]}",
			      "category", cat, "model", "m1", "accepted", accepted, "templates",
			      "name", "modify-x", "version", 1, "name", "clarify-x", "version", 2,
			      "usage", "tokens_in", 100, "tokens_out", 10, "cached", 0, "latency",
			      0.5, "verdicts");

	assert_non_null(r);
	if (ppl >= 0)
		json_object_set_new(r, "stats",
				    json_pack("{s:{s:f, s:f, s:i}, s:{s:f, s:f, s:i}, s:i}",
					      "modified", "perplexity", ppl, "entropy", 4.0,
					      "tokens", 300, "questions", "perplexity", qppl,
					      "entropy", 3.0, "tokens", 30, "question_count",
					      qcount));
	if (rule)
		json_array_append_new(json_object_get(r, "verdicts"),
				      json_pack("{s:s, s:s}", "rule", rule, "action", "reject"));
	return r;
}

static void add(struct report *r, const char *key, json_t *rec)
{
	assert_int_equal(report_add(r, key, strlen(key), rec), 0);
	json_decref(rec);
}

static const json_t *path(const json_t *o, const char *a, const char *b, const char *c)
{
	o = json_object_get(o, a);
	if (b)
		o = json_object_get(o, b);
	if (c)
		o = json_object_get(o, c);
	return o;
}

static double real(const json_t *o, const char *k)
{
	return json_number_value(json_object_get(o, k));
}

static void by_names_parse_and_unknown_ones_are_refused(void **state)
{
	(void)state;
	assert_int_equal(report_by_parse("category"), REPORT_BY_CATEGORY);
	assert_int_equal(report_by_parse("template"), REPORT_BY_TEMPLATE);
	assert_int_equal(report_by_parse("model"), REPORT_BY_MODEL);
	assert_int_equal(report_by_parse("Category"), -1);
	assert_int_equal(report_by_parse(""), -1);
	assert_string_equal(report_by_name(REPORT_BY_MODEL), "model");
}

static void categories_group_and_only_accepted_records_make_the_distributions(void **state)
{
	struct report r;
	json_t *j;
	const json_t *amb, *inc, *all;

	(void)state;
	assert_int_equal(report_init(&r, REPORT_BY_CATEGORY, 0), 0);
	add(&r, "apps/train/0001#ambiguous", result("ambiguous", 1, 10, 100, 2, NULL));
	add(&r, "apps/train/0002#ambiguous", result("ambiguous", 1, 20, 200, 4, NULL));
	add(&r, "apps/train/0003#ambiguous", result("ambiguous", 0, 90, 900, 1, "lm-perplexity"));
	add(&r, "apps/train/0004#ambiguous", result("ambiguous", 0, -1, 0, 0, "everything"));
	/* no category field: the key tells */
	j = result("x", 1, 30, 300, 3, NULL);
	json_object_del(j, "category");
	add(&r, "apps/train/0001#incomplete", j);
	j = report_json(&r, 10);
	assert_non_null(j);
	assert_string_equal(jsonx_str(j, "by"), "category");
	assert_int_equal(jsonx_int(j, "records", 0), 5);
	assert_int_equal(jsonx_int(j, "accepted", 0), 3);
	assert_int_equal(jsonx_int(j, "rejected", 0), 2);
	/* every category shows, in category order, even without records */
	assert_int_equal(json_object_size(json_object_get(j, "groups")), 3);
	assert_string_equal(json_object_iter_key(json_object_iter(json_object_get(j, "groups"))),
			    "ambiguous");
	assert_int_equal(jsonx_int(path(j, "groups", "inconsistent", NULL), "records", -1), 0);
	assert_true(json_is_null(json_object_get(
		json_object_get(path(j, "groups", "inconsistent", "modified"), "perplexity"), "mean")));
	amb = path(j, "groups", "ambiguous", NULL);
	assert_int_equal(jsonx_int(amb, "records", 0), 4);
	assert_int_equal(jsonx_int(amb, "accepted", 0), 2);
	assert_int_equal(jsonx_int(amb, "rejected", 0), 2);
	assert_int_equal(jsonx_int(path(amb, "rejected_by_rule", NULL, NULL), "lm-perplexity", 0), 1);
	assert_int_equal(jsonx_int(path(amb, "rejected_by_rule", NULL, NULL), "everything", 0), 1);
	/* distributions: the two accepted ones only */
	assert_int_equal(jsonx_int(path(amb, "modified", "perplexity", NULL), "count", 0), 2);
	assert_true(fabs(real(path(amb, "modified", "perplexity", NULL), "mean") - 15) < 1e-12);
	assert_true(fabs(real(path(amb, "modified", "perplexity", NULL), "p50") - 15) < 1e-12);
	assert_true(fabs(real(path(amb, "questions", "perplexity", NULL), "mean") - 150) < 1e-12);
	assert_true(fabs(real(path(amb, "questions", "per_record", NULL), "mean") - 3) < 1e-12);
	/* usage: every result */
	assert_int_equal(jsonx_int(path(amb, "usage", NULL, NULL), "tokens", 0), 4 * 110);
	assert_true(fabs(real(path(amb, "usage", NULL, NULL), "latency_s") - 2.0) < 1e-12);
	inc = path(j, "groups", "incomplete", NULL);
	assert_int_equal(jsonx_int(inc, "accepted", 0), 1);
	all = json_object_get(j, "overall");
	assert_int_equal(jsonx_int(all, "records", 0), 5);
	assert_int_equal(jsonx_int(path(all, "modified", "tokens", NULL), "count", 0), 3);
	assert_true(fabs(real(path(all, "modified", "perplexity", NULL), "mean") - 20) < 1e-12);
	assert_int_equal(jsonx_int(path(all, "rejected_by_rule", NULL, NULL), "everything", 0), 1);
	assert_int_equal(jsonx_int(path(all, "usage", NULL, NULL), "tokens_in", 0), 500);
	json_decref(j);
	report_release(&r);
}

static void include_rejected_adds_the_rejected_records_that_have_signals(void **state)
{
	struct report r;
	json_t *j;
	const json_t *all;

	(void)state;
	assert_int_equal(report_init(&r, REPORT_BY_CATEGORY, 1), 0);
	add(&r, "a#ambiguous", result("ambiguous", 1, 10, 100, 2, NULL));
	add(&r, "b#ambiguous", result("ambiguous", 0, 40, 400, 2, "lm-perplexity"));
	add(&r, "c#ambiguous", result("ambiguous", 0, -1, 0, 0, "everything"));
	j = report_json(&r, 10);
	assert_true(json_is_true(json_object_get(j, "include_rejected")));
	all = json_object_get(j, "overall");
	assert_int_equal(jsonx_int(all, "rejected", 0), 2);
	assert_int_equal(jsonx_int(path(all, "modified", "perplexity", NULL), "count", 0), 2);
	assert_true(fabs(real(path(all, "modified", "perplexity", NULL), "mean") - 25) < 1e-12);
	json_decref(j);
	report_release(&r);
}

static void templates_and_models_group_by_name_sorted(void **state)
{
	struct report r;
	json_t *j, *rec;
	void *it;

	(void)state;
	assert_int_equal(report_init(&r, REPORT_BY_TEMPLATE, 0), 0);
	add(&r, "a#ambiguous", result("ambiguous", 1, 10, 100, 2, NULL));
	rec = result("ambiguous", 1, 10, 100, 2, NULL);
	json_object_set_new(rec, "templates", json_pack("[{s:s, s:i}]", "name", "alpha", "version", 7));
	add(&r, "b#ambiguous", rec);
	rec = result("ambiguous", 1, 10, 100, 2, NULL);
	json_object_del(rec, "templates");
	add(&r, "c#ambiguous", rec);
	j = report_json(&r, 10);
	it = json_object_iter(json_object_get(j, "groups"));
	assert_string_equal(json_object_iter_key(it), "(unknown)");
	it = json_object_iter_next(json_object_get(j, "groups"), it);
	assert_string_equal(json_object_iter_key(it), "alpha@7");
	it = json_object_iter_next(json_object_get(j, "groups"), it);
	assert_string_equal(json_object_iter_key(it), "modify-x@1 + clarify-x@2");
	assert_null(json_object_iter_next(json_object_get(j, "groups"), it));
	json_decref(j);
	report_release(&r);

	assert_int_equal(report_init(&r, REPORT_BY_MODEL, 0), 0);
	rec = result("ambiguous", 1, 10, 100, 2, NULL);
	json_object_set_new(rec, "model", json_string("gpt-x"));
	add(&r, "a#ambiguous", rec);
	add(&r, "b#incomplete", result("incomplete", 1, 10, 100, 2, NULL));
	add(&r, "c#incomplete", result("incomplete", 0, 10, 100, 2, "r"));
	j = report_json(&r, 10);
	assert_int_equal(json_object_size(json_object_get(j, "groups")), 2);
	assert_int_equal(jsonx_int(path(j, "groups", "m1", NULL), "records", 0), 2);
	assert_int_equal(jsonx_int(path(j, "groups", "gpt-x", NULL), "records", 0), 1);
	json_decref(j);
	report_release(&r);
}

static void group_names_and_counts_have_ceilings(void **state)
{
	char name[1024] = "", key[64];
	struct report r;
	json_t *rec;

	(void)state;
	assert_int_equal(report_init(&r, REPORT_BY_MODEL, 0), 0);
	for (int i = 0; i < 300; i++)
		strcat(name, "\xC3\xA9"); /* é, two bytes */
	rec = result("ambiguous", 1, 10, 100, 2, NULL);
	json_object_set_new(rec, "model", json_string(name));
	add(&r, "a#ambiguous", rec);
	assert_int_equal(r.n, 1);
	assert_int_equal(strlen(r.groups[0].name), REPORT_NAME_MAX - 2); /* whole characters */
	for (int i = 0; i < REPORT_GROUPS_MAX + 10; i++) {
		snprintf(key, sizeof(key), "model-%05d", i);
		rec = result("ambiguous", 1, 10, 100, 2, NULL);
		json_object_set_new(rec, "model", json_string(key));
		add(&r, "x#ambiguous", rec);
	}
	assert_int_equal(r.n, REPORT_GROUPS_MAX + 1);
	assert_string_equal(r.groups[REPORT_GROUPS_MAX].name, "(other)");
	assert_int_equal(r.groups[REPORT_GROUPS_MAX].records, 11);
	assert_int_equal(r.overall.records, REPORT_GROUPS_MAX + 11);
	report_release(&r);
}

static void histograms_share_one_range_and_hold_every_value(void **state)
{
	struct stats_agg m, q;
	json_t *h;
	json_int_t sm = 0, sq = 0;

	(void)state;
	stats_agg_init(&m);
	stats_agg_init(&q);
	for (int i = 0; i < 10; i++)
		assert_int_equal(stats_agg_add(&m, 1 + i * 0.1), 0); /* 1.0 .. 1.9 */
	for (int i = 0; i < 10; i++)
		assert_int_equal(stats_agg_add(&q, 3 - i * 0.1), 0); /* 2.1 .. 3.0 */
	h = report_histogram(&m, &q, 4, 0);
	assert_non_null(h);
	assert_string_equal(jsonx_str(h, "scale"), "linear");
	assert_true(fabs(real(h, "lo") - 1.0) < 1e-12);
	assert_true(fabs(real(h, "hi") - 3.0) < 1e-12);
	assert_int_equal(jsonx_int(h, "above", -1), 0);
	/* bins of 0.5: [1, 1.5) [1.5, 2) [2, 2.5) [2.5, 3] */
	assert_int_equal(json_integer_value(json_array_get(json_object_get(h, "modified"), 0)), 5);
	assert_int_equal(json_integer_value(json_array_get(json_object_get(h, "modified"), 1)), 5);
	assert_int_equal(json_integer_value(json_array_get(json_object_get(h, "modified"), 2)), 0);
	assert_int_equal(json_integer_value(json_array_get(json_object_get(h, "questions"), 0)), 0);
	for (size_t i = 0; i < 4; i++) {
		sm += json_integer_value(json_array_get(json_object_get(h, "modified"), i));
		sq += json_integer_value(json_array_get(json_object_get(h, "questions"), i));
	}
	assert_int_equal(sm, 10);
	assert_int_equal(sq, 10);
	json_decref(h);

	/* log scale, three decades: 1 | 20 | 200 and 1000 */
	stats_agg_release(&m);
	stats_agg_release(&q);
	stats_agg_add(&m, 1);
	stats_agg_add(&m, 20);
	stats_agg_add(&q, 200);
	stats_agg_add(&q, 1000);
	h = report_histogram(&m, &q, 3, 1);
	assert_string_equal(jsonx_str(h, "scale"), "log");
	assert_int_equal(json_integer_value(json_array_get(json_object_get(h, "modified"), 0)), 1);
	assert_int_equal(json_integer_value(json_array_get(json_object_get(h, "modified"), 1)), 1);
	assert_int_equal(json_integer_value(json_array_get(json_object_get(h, "questions"), 2)), 2);
	json_decref(h);

	/* one far outlier: the range stops at the 99th percentile, the outlier
	 * is counted in the last bin and as "above" */
	stats_agg_release(&m);
	stats_agg_release(&q);
	for (int i = 1; i <= 999; i++)
		stats_agg_add(&m, i);
	stats_agg_add(&m, 1e7);
	h = report_histogram(&m, &q, 10, 0);
	/* hi = the 99th percentile, 990.01: 991..999 and the outlier are above;
	 * the last bin starts at 1 + 9 * 98.901 = 891.109: 892..999 and it */
	assert_true(fabs(real(h, "hi") - 990.01) < 1e-9);
	assert_int_equal(jsonx_int(h, "above", 0), 10);
	assert_int_equal(json_integer_value(json_array_get(json_object_get(h, "modified"), 9)), 109);
	json_decref(h);

	/* nothing at all, and a single value */
	stats_agg_release(&m);
	h = report_histogram(&m, &q, 5, 1);
	assert_int_equal(json_array_size(json_object_get(h, "modified")), 5);
	assert_int_equal(json_integer_value(json_array_get(json_object_get(h, "questions"), 4)), 0);
	assert_true(real(h, "hi") == 0 && real(h, "lo") == 0);
	json_decref(h);
	stats_agg_add(&q, 7);
	h = report_histogram(&m, &q, 5, 1);
	assert_int_equal(json_integer_value(json_array_get(json_object_get(h, "questions"), 0)), 1);
	json_decref(h);
	stats_agg_release(&m);
	stats_agg_release(&q);
}

static void html_escaping_covers_markup_quotes_and_bad_bytes(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b, 0);
	assert_int_equal(report_html_escape(&b, "<a href=\"x\">&'</a>"), 0);
	assert_string_equal(b.data, "&lt;a href=&quot;x&quot;&gt;&amp;&#39;&lt;/a&gt;");
	buf_reset(&b);
	/* UTF-8 kept; a stray byte, an overlong form, a surrogate and a control
	 * character become U+FFFD; newlines and tabs stay */
	assert_int_equal(report_html_escape(&b, "é€😀\xFF|\xC0\xAF|\xED\xA0\x80|\x01\n\t"), 0);
	assert_string_equal(b.data, "é€😀\xEF\xBF\xBD|\xEF\xBF\xBD\xEF\xBF\xBD|"
				    "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD|\xEF\xBF\xBD\n\t");
	buf_reset(&b);
	/* a truncated sequence at the end */
	assert_int_equal(report_html_escape(&b, "ok\xE2\x82"), 0);
	assert_string_equal(b.data, "ok\xEF\xBF\xBD\xEF\xBF\xBD");
	buf_release(&b);
}

/* The heights of the rects of class "bar SERIES" in svg, in order. */
static size_t bar_heights(const char *svg, const char *series, double *out, size_t max)
{
	char needle[64];
	size_t n = 0;
	const char *p = svg;

	snprintf(needle, sizeof(needle), "<rect class=\"bar %s\"", series);
	while ((p = strstr(p, needle)) != NULL) {
		const char *h = strstr(p, " height=\"");

		assert_non_null(h);
		if (n < max)
			out[n] = strtod(h + 9, NULL);
		n++;
		p += strlen(needle);
	}
	return n;
}

static void svg_bars_are_one_per_bin_and_series_scaled_to_the_largest(void **state)
{
	json_t *h = json_pack("{s:f, s:f, s:s, s:i, s:i, s:[i, i, i, i], s:[i, i, i, i]}",
			      "lo", 1.0, "hi", 5.0, "scale", "linear", "bins", 4, "above", 0,
			      "modified", 1000, 500, 0, 1, "questions", 0, 250, 1000, 0);
	double mh[8], qh[8], full;
	struct buf b;

	(void)state;
	buf_init(&b, 0);
	assert_int_equal(report_svg_histogram(&b, "ambiguous <x>: perplexity", "perplexity", h), 0);
	assert_int_equal(bar_heights(b.data, "modified", mh, 8), 4);
	assert_int_equal(bar_heights(b.data, "questions", qh, 8), 4);
	full = mh[0];
	assert_true(full > 100);
	assert_true(fabs(qh[2] - full) < 0.01);
	assert_true(fabs(mh[1] - full / 2) < 0.01);
	assert_true(fabs(qh[1] - full / 4) < 0.01);
	assert_true(mh[2] == 0 && qh[0] == 0 && qh[3] == 0);
	assert_true(fabs(mh[3] - 1.0) < 1e-9); /* 1 in 1000 is still drawn */
	assert_non_null(strstr(b.data, "data-count=\"500\""));
	assert_non_null(strstr(b.data, "ambiguous &lt;x&gt;: perplexity"));
	assert_null(strstr(b.data, "<x>"));
	assert_non_null(strstr(b.data, ">records</text>"));
	assert_non_null(strstr(b.data, ">perplexity</text>"));
	assert_int_equal(strncmp(b.data, "<svg ", 5), 0);
	assert_non_null(strstr(b.data, "</svg>\n"));
	/* x ticks at lo, hi and between */
	assert_non_null(strstr(b.data, ">1</text>"));
	assert_non_null(strstr(b.data, ">3</text>"));
	assert_non_null(strstr(b.data, ">5</text>"));
	json_decref(h);

	/* unequal series are refused */
	h = json_pack("{s:f, s:f, s:[i, i], s:[i]}", "lo", 0.0, "hi", 1.0, "modified", 1, 2,
		      "questions", 1);
	assert_int_equal(report_svg_histogram(&b, "t", "x", h), CL_EINVAL);
	json_decref(h);
	buf_release(&b);
}

static void the_page_is_self_contained_escaped_and_capped(void **state)
{
	struct report r;
	struct buf b;
	json_t *j;
	const char *p;
	int svgs = 0;

	(void)state;
	assert_int_equal(report_init(&r, REPORT_BY_CATEGORY, 0), 0);
	add(&r, "a#ambiguous", result("ambiguous", 1, 10, 100, 2, NULL));
	add(&r, "b#incomplete", result("incomplete", 0, 10, 100, 2, "rule<&>"));
	j = report_json(&r, 20);
	json_object_set_new(j, "store", json_string("/srv/<store>"));
	buf_init(&b, 0);
	assert_int_equal(report_html(&b, j), 0);
	for (p = b.data; (p = strstr(p, "<svg class=\"histogram\"")) != NULL; p++)
		svgs++;
	assert_int_equal(svgs, 8); /* perplexity and entropy for 3 categories and overall */
	assert_non_null(strstr(b.data, "/srv/&lt;store&gt;"));
	assert_non_null(strstr(b.data, "rule&lt;&amp;&gt;"));
	assert_null(strstr(b.data, "<store>"));
	assert_null(strstr(b.data, "<script"));
	assert_null(strstr(b.data, "href="));
	assert_null(strstr(b.data, "src="));
	assert_non_null(strstr(b.data, "@media print"));
	assert_non_null(strstr(b.data, "No run of clarifyd"));
	assert_int_equal(strcmp(b.data + b.len - 8, "</html>\n"), 0);
	buf_release(&b);
	/* a page over the buffer's ceiling fails cleanly */
	buf_init(&b, 4096);
	assert_int_equal(report_html(&b, j), CL_ETOOBIG);
	buf_release(&b);
	json_decref(j);
	report_release(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(by_names_parse_and_unknown_ones_are_refused),
		cmocka_unit_test(categories_group_and_only_accepted_records_make_the_distributions),
		cmocka_unit_test(include_rejected_adds_the_rejected_records_that_have_signals),
		cmocka_unit_test(templates_and_models_group_by_name_sorted),
		cmocka_unit_test(group_names_and_counts_have_ceilings),
		cmocka_unit_test(histograms_share_one_range_and_hold_every_value),
		cmocka_unit_test(html_escaping_covers_markup_quotes_and_bad_bytes),
		cmocka_unit_test(svg_bars_are_one_per_bin_and_series_scaled_to_the_largest),
		cmocka_unit_test(the_page_is_self_contained_escaped_and_capped),
	};

	log_init("test_report", LOG_ERR);
	return cmocka_run_group_tests_name("report", tests, NULL, NULL);
}
