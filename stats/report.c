/* report.c - the results aggregated by category, template pair or model */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"

static const char *const by_names[] = {
	[REPORT_BY_CATEGORY] = "category",
	[REPORT_BY_TEMPLATE] = "template",
	[REPORT_BY_MODEL] = "model",
};

int report_by_parse(const char *name)
{
	for (size_t i = 0; i < CL_ARRAY_SIZE(by_names); i++)
		if (strcmp(name, by_names[i]) == 0)
			return (int)i;
	return -1;
}

const char *report_by_name(int by)
{
	return by >= 0 && (size_t)by < CL_ARRAY_SIZE(by_names) ? by_names[by] : "?";
}

/* ---- groups -------------------------------------------------------------- */

static void field_init(struct report_field *f)
{
	stats_agg_init(&f->perplexity);
	stats_agg_init(&f->entropy);
	stats_agg_init(&f->tokens);
}

static void field_release(struct report_field *f)
{
	stats_agg_release(&f->perplexity);
	stats_agg_release(&f->entropy);
	stats_agg_release(&f->tokens);
}

/* name is copied, cut to REPORT_NAME_MAX - 1 bytes at a UTF-8 boundary */
static int group_init(struct report_group *g, const char *name)
{
	size_t n = strlen(name);

	memset(g, 0, sizeof(*g));
	if (n >= sizeof(g->name)) {
		n = sizeof(g->name) - 1;
		while (n > 0 && ((unsigned char)name[n] & 0xC0) == 0x80)
			n--;
	}
	memcpy(g->name, name, n);
	g->name[n] = '\0';
	field_init(&g->modified);
	field_init(&g->questions);
	stats_agg_init(&g->per_record);
	stats_agg_init(&g->answer_tokens);
	stats_agg_init(&g->answers_per_record);
	g->by_rule = json_object();
	return g->by_rule ? 0 : CL_ENOMEM;
}

static void group_release(struct report_group *g)
{
	field_release(&g->modified);
	field_release(&g->questions);
	stats_agg_release(&g->per_record);
	stats_agg_release(&g->answer_tokens);
	stats_agg_release(&g->answers_per_record);
	json_decref(g->by_rule);
	g->by_rule = NULL;
}

static int group_new(struct report *r, const char *name, struct report_group **out)
{
	int rc;

	rc = ARRAY_GROW(r->groups, r->cap, r->n, 8);
	if (rc)
		return rc;
	rc = group_init(&r->groups[r->n], name);
	if (rc) {
		group_release(&r->groups[r->n]);
		return rc;
	}
	*out = &r->groups[r->n++];
	return 0;
}

static int group_find(struct report *r, const char *name, struct report_group **out)
{
	for (size_t i = 0; i < r->n; i++) {
		if (strncmp(r->groups[i].name, name, sizeof(r->groups[i].name) - 1) == 0) {
			*out = &r->groups[i];
			return 0;
		}
	}
	if (r->n >= REPORT_GROUPS_MAX)
		name = "(other)";
	if (r->n >= REPORT_GROUPS_MAX + 1) {
		*out = &r->groups[r->n - 1]; /* "(other)" was the last one made */
		return 0;
	}
	return group_new(r, name, out);
}

int report_init(struct report *r, int by, int include_rejected)
{
	struct report_group *g;
	int rc;

	memset(r, 0, sizeof(*r));
	r->by = by;
	r->include_rejected = include_rejected;
	rc = group_init(&r->overall, "overall");
	if (rc)
		goto fail;
	if (by == REPORT_BY_CATEGORY) {
		for (int c = 0; c < CAT_COUNT; c++) {
			rc = group_new(r, category_name(c), &g);
			if (rc)
				goto fail;
		}
	}
	return 0;
fail:
	report_release(r);
	return rc;
}

void report_release(struct report *r)
{
	for (size_t i = 0; i < r->n; i++)
		group_release(&r->groups[i]);
	free(r->groups);
	group_release(&r->overall);
	r->groups = NULL;
	r->n = r->cap = 0;
}

/* ---- adding a record -------------------------------------------------------- */

/* Cut a UTF-8 sequence that snprintf left incomplete at the end of s. */
static void utf8_trim(char *s)
{
	size_t len = strlen(s), i = len, need;
	unsigned char c;

	while (i > 0 && len - i < 4 && ((unsigned char)s[i - 1] & 0xC0) == 0x80)
		i--;
	if (i == 0)
		return;
	c = (unsigned char)s[i - 1];
	if (c < 0x80)
		return;
	need = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
	if (len - (i - 1) < need)
		s[i - 1] = '\0';
}

/* The group a result belongs to, into name[n]. */
static void group_name(const struct report *r, const char *key, size_t klen, const json_t *res,
		       char *name, size_t n)
{
	const char *s;

	if (r->by == REPORT_BY_CATEGORY) {
		const char *hash = memchr(key, '#', klen);

		s = jsonx_str(res, "category");
		if (s)
			snprintf(name, n, "%s", s);
		else if (hash)
			snprintf(name, n, "%.*s", (int)(key + klen - hash - 1), hash + 1);
		else
			snprintf(name, n, "(unknown)");
	} else if (r->by == REPORT_BY_MODEL) {
		s = jsonx_str(res, "model");
		snprintf(name, n, "%s", s && *s ? s : "(unknown)");
	} else {
		const json_t *t;
		size_t i, used = 0;

		name[0] = '\0';
		json_array_foreach(json_object_get(res, "templates"), i, t) {
			const char *tn = jsonx_str(t, "name");
			int len = snprintf(name + used, n - used, "%s%s@%lld", i ? " + " : "",
					   tn ? tn : "?", (long long)jsonx_int(t, "version", 0));

			if (len < 0 || (size_t)len >= n - used)
				break;
			used += (size_t)len;
		}
		if (!used)
			snprintf(name, n, "(unknown)");
	}
	utf8_trim(name);
}

static uint64_t count_of(const json_t *o, const char *k)
{
	int64_t v = jsonx_int(o, k, 0);

	return v > 0 ? (uint64_t)v : 0;
}

static int field_add(struct report_field *f, const json_t *t)
{
	const json_t *v;
	int rc = 0;

	if (!json_is_object(t))
		return 0;
	v = json_object_get(t, "perplexity");
	if (json_is_number(v))
		rc = stats_agg_add(&f->perplexity, json_number_value(v));
	v = json_object_get(t, "entropy");
	if (!rc && json_is_number(v))
		rc = stats_agg_add(&f->entropy, json_number_value(v));
	v = json_object_get(t, "tokens");
	if (!rc && json_is_number(v))
		rc = stats_agg_add(&f->tokens, json_number_value(v));
	return rc;
}

/* Rejections by rule, counted as clarify status counts them. */
static int count_rules(struct report_group *g, const json_t *res)
{
	const json_t *it;
	size_t i;

	json_array_foreach(json_object_get(res, "verdicts"), i, it) {
		const char *rule = jsonx_str(it, "rule");
		const char *action = jsonx_str(it, "action");
		int rc;

		if (rule && !strcmp(rule, "near-duplicate"))
			g->near_dup++;
		if (!rule || !action || strcmp(action, "reject") != 0)
			continue;
		rc = json_object_set_new(g->by_rule, rule,
					 json_integer(jsonx_int(g->by_rule, rule, 0) + 1));
		if (rc)
			return CL_ENOMEM;
	}
	return 0;
}

/* Stage 3's verdict, when the record has one. */
static void count_judge(struct report_group *g, const json_t *judge)
{
	const json_t *tc = json_object_get(judge, "targets_change"), *it;
	int targeted = 0;
	size_t i;

	if (!json_is_object(judge))
		return;
	g->judged++;
	g->recovered += json_is_true(json_object_get(judge, "recovers"));
	g->self_announced += json_is_true(json_object_get(judge, "self_announced"));
	g->mentions_original += json_is_true(json_object_get(judge, "mentions_original"));
	json_array_foreach(tc, i, it)
		targeted |= json_is_true(it);
	g->off_target += !targeted;
}

static int group_add(struct report_group *g, int include_rejected, const json_t *res)
{
	const json_t *usage = json_object_get(res, "usage");
	const json_t *sig = json_object_get(res, "stats");
	const json_t *qc = json_object_get(sig, "question_count");
	const json_t *lat = json_object_get(usage, "latency"), *at;
	int accepted = json_is_true(json_object_get(res, "accepted"));
	int rc;

	g->records++;
	if (accepted) {
		const json_t *it;
		size_t i;

		g->accepted++;
		/* a near-duplicate kept by a flag is counted too */
		json_array_foreach(json_object_get(res, "verdicts"), i, it)
			if (jsonx_str(it, "rule") && !strcmp(jsonx_str(it, "rule"), "near-duplicate"))
				g->near_dup++;
	} else {
		g->rejected++;
		rc = count_rules(g, res);
		if (rc)
			return rc;
	}
	g->tokens_in += count_of(usage, "tokens_in");
	g->tokens_out += count_of(usage, "tokens_out");
	if (json_is_true(json_object_get(usage, "cached")))
		g->cached++;
	if (json_is_true(json_object_get(usage, "batch"))) {
		/* a record with a reply from a batch: its tokens at batch price */
		g->batch_records++;
		g->batch_in += count_of(usage, "tokens_in");
		g->batch_out += count_of(usage, "tokens_out");
	}
	if (json_is_number(lat) && isfinite(json_number_value(lat)))
		g->latency += json_number_value(lat);
	count_judge(g, json_object_get(res, "judge"));
	if ((!accepted && !include_rejected) || !json_is_object(sig))
		return 0;
	rc = field_add(&g->modified, json_object_get(sig, "modified"));
	if (!rc)
		rc = field_add(&g->questions, json_object_get(sig, "questions"));
	if (!rc && json_is_number(qc))
		rc = stats_agg_add(&g->per_record, json_number_value(qc));
	at = json_object_get(json_object_get(sig, "answers"), "tokens");
	if (!rc && json_is_number(at))
		rc = stats_agg_add(&g->answer_tokens, json_number_value(at));
	if (!rc && json_is_array(json_object_get(res, "answers")))
		rc = stats_agg_add(&g->answers_per_record,
				   (double)json_array_size(json_object_get(res, "answers")));
	return rc;
}

int report_add(struct report *r, const char *key, size_t klen, const json_t *result)
{
	char name[REPORT_NAME_MAX];
	struct report_group *g;
	int rc;

	group_name(r, key, klen, result, name, sizeof(name));
	rc = group_find(r, name, &g);
	if (rc)
		return rc;
	rc = group_add(g, r->include_rejected, result);
	if (rc)
		return rc;
	return group_add(&r->overall, r->include_rejected, result);
}

/* ---- the document ------------------------------------------------------------ */

/* x on the histogram's axis: as is, or its logarithm */
static double axis(double x, int log_scale)
{
	return log_scale ? log(x) : x;
}

static json_t *bin_counts(const struct stats_agg *a, double lo, double hi, int bins,
			  int log_scale, uint64_t *above)
{
	double alo = axis(lo, log_scale), ahi = axis(hi, log_scale);
	double width = ahi > alo ? (ahi - alo) / bins : 1.0;
	json_t *arr = json_array();
	uint64_t *c = calloc((size_t)bins, sizeof(*c));

	if (!arr || !c)
		goto fail;
	for (size_t i = 0; i < a->n; i++) {
		double b = floor((axis(a->v[i], log_scale) - alo) / width);
		int k = b < 0 ? 0 : b >= bins ? bins - 1 : (int)b;

		c[k]++;
		if (a->v[i] > hi)
			(*above)++;
	}
	for (int k = 0; k < bins; k++)
		if (json_array_append_new(arr, json_integer((json_int_t)c[k])))
			goto fail;
	free(c);
	return arr;
fail:
	free(c);
	json_decref(arr);
	return NULL;
}

json_t *report_histogram(struct stats_agg *modified, struct stats_agg *questions, int bins,
			 int log_scale)
{
	struct stats_agg *both[2] = { modified, questions };
	double lo = 0, hi = 0, top = 0;
	uint64_t above = 0;
	json_t *m, *q;
	int any = 0;

	if (bins < 1)
		bins = 1;
	if (bins > 200)
		bins = 200;
	for (int i = 0; i < 2; i++) {
		struct stats_agg *a = both[i];
		double p99;

		if (!a->n)
			continue;
		stats_agg_sort(a);
		p99 = stats_agg_percentile(a, 99);
		if (!any || a->v[0] < lo)
			lo = a->v[0];
		if (!any || p99 > hi)
			hi = p99;
		if (!any || a->v[a->n - 1] > top)
			top = a->v[a->n - 1];
		any = 1;
	}
	if (!(lo > 0))
		log_scale = 0;
	/* the whole range unless the top 1% would squeeze the rest into a
	 * third of the axis or less */
	if (axis(top, log_scale) - axis(lo, log_scale) <=
	    3 * (axis(hi, log_scale) - axis(lo, log_scale)))
		hi = top;
	m = bin_counts(modified, lo, hi, bins, log_scale, &above);
	q = bin_counts(questions, lo, hi, bins, log_scale, &above);
	if (!m || !q) {
		json_decref(m);
		json_decref(q);
		return NULL;
	}
	return json_pack("{s:f, s:f, s:s, s:i, s:I, s:o, s:o}", "lo", lo, "hi", hi, "scale",
			 log_scale ? "log" : "linear", "bins", bins, "above", (json_int_t)above,
			 "modified", m, "questions", q);
}

/* stats_agg_json() with every key present: null when there is no value */
static json_t *agg_json(struct stats_agg *a, int bins)
{
	static const char *const keys[] = { "mean", "sd", "min", "p5", "p50", "p95", "max",
					    "histogram" };
	json_t *o = stats_agg_json(a, bins);

	for (size_t i = 0; o && i < CL_ARRAY_SIZE(keys); i++) {
		if (json_object_get(o, keys[i]))
			continue;
		if (json_object_set_new(o, keys[i], json_null())) {
			json_decref(o);
			o = NULL;
		}
	}
	return o;
}

static json_t *field_json(struct report_field *f, int bins)
{
	return json_pack("{s:o, s:o, s:o}", "perplexity", agg_json(&f->perplexity, bins),
			 "entropy", agg_json(&f->entropy, bins), "tokens",
			 agg_json(&f->tokens, bins));
}

static json_t *rate(uint64_t n, uint64_t of)
{
	return of ? json_real((double)n / (double)of) : json_null();
}

static json_t *judge_json(const struct report_group *g)
{
	return json_pack("{s:I, s:I, s:I, s:I, s:I, s:o, s:o, s:o, s:o}", "judged",
			 (json_int_t)g->judged, "recovered", (json_int_t)g->recovered,
			 "off_target", (json_int_t)g->off_target, "self_announced",
			 (json_int_t)g->self_announced, "mentions_original",
			 (json_int_t)g->mentions_original, "recovered_rate",
			 rate(g->recovered, g->judged), "off_target_rate",
			 rate(g->off_target, g->judged), "self_announced_rate",
			 rate(g->self_announced, g->judged), "mentions_original_rate",
			 rate(g->mentions_original, g->judged));
}

static json_t *group_json(struct report_group *g, int bins)
{
	json_t *mod = field_json(&g->modified, bins);
	json_t *q = field_json(&g->questions, bins);
	json_t *usage, *hist;

	if (!mod || !q)
		goto fail;
	if (json_object_set_new(q, "per_record", agg_json(&g->per_record, bins)))
		goto fail;
	usage = json_pack("{s:I, s:I, s:I, s:I, s:f, s:{s:I, s:I, s:I}}", "tokens_in",
			  (json_int_t)g->tokens_in, "tokens_out", (json_int_t)g->tokens_out,
			  "tokens", (json_int_t)(g->tokens_in + g->tokens_out), "cached",
			  (json_int_t)g->cached, "latency_s", g->latency, "batch", "records",
			  (json_int_t)g->batch_records, "tokens_in", (json_int_t)g->batch_in,
			  "tokens_out", (json_int_t)g->batch_out);
	hist = json_pack("{s:o, s:o}", "perplexity",
			 report_histogram(&g->modified.perplexity, &g->questions.perplexity, bins,
					  1),
			 "entropy",
			 report_histogram(&g->modified.entropy, &g->questions.entropy, bins, 0));
	return json_pack("{s:I, s:I, s:I, s:O, s:o, s:o, s:o, s:{s:o, s:o}, s:o, s:o}", "records",
			 (json_int_t)g->records, "accepted", (json_int_t)g->accepted,
			 "rejected", (json_int_t)g->rejected, "rejected_by_rule", g->by_rule,
			 "usage", usage, "modified", mod, "questions", q, "answers", "tokens",
			 agg_json(&g->answer_tokens, bins), "per_record",
			 agg_json(&g->answers_per_record, bins), "judge", judge_json(g),
			 "histograms", hist);
fail:
	json_decref(mod);
	json_decref(q);
	return NULL;
}

static int cmp_group(const void *x, const void *y)
{
	return strcmp(((const struct report_group *)x)->name,
		      ((const struct report_group *)y)->name);
}

json_t *report_json(struct report *r, int bins)
{
	json_t *o, *groups;

	if (r->by != REPORT_BY_CATEGORY && r->n > 1)
		qsort(r->groups, r->n, sizeof(*r->groups), cmp_group);
	groups = json_object();
	if (!groups)
		return NULL;
	for (size_t i = 0; i < r->n; i++) {
		if (json_object_set_new(groups, r->groups[i].name, group_json(&r->groups[i], bins))) {
			json_decref(groups);
			return NULL;
		}
	}
	o = json_pack("{s:s, s:b, s:I, s:I, s:I, s:I, s:o, s:o}", "by", report_by_name(r->by),
		      "include_rejected", r->include_rejected, "records",
		      (json_int_t)r->overall.records, "accepted", (json_int_t)r->overall.accepted,
		      "rejected", (json_int_t)r->overall.rejected, "unreadable",
		      (json_int_t)r->unreadable, "groups", groups, "overall",
		      group_json(&r->overall, bins));
	if (o)
		json_object_set_new(o, "near_duplicates",
				    json_pack("{s:I, s:f}", "records", (json_int_t)r->overall.near_dup,
					      "rate", r->overall.records ?
					      (double)r->overall.near_dup /
					      (double)r->overall.records : 0.0));
	return o;
}
