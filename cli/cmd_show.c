/* cmd_show.c - clarify show KEY: one problem, its jobs and results */
#include <string.h>

#include "cli.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: clarify show KEY [--json]\n\n"
		   "Print a problem (KEY as apps/train/0001, or a job key such as\n"
		   "apps/train/0001#ambiguous) with its jobs and results.\n\n"
		   "options:\n"
		   "  --json      print the records as JSON\n"
		   "  -h, --help  this help\n");
}

static void print_time(const char *label, const json_t *o, const char *key)
{
	int64_t t = jsonx_int(o, key, 0);
	char iso[32];

	if (!t)
		return;
	time_iso(t, iso, sizeof(iso));
	printf("%-13s %s\n", label, iso);
}

static void print_problem(const char *key, const json_t *p)
{
	const json_t *io = json_object_get(p, "input_output");
	const json_t *inputs = json_object_get(io, "inputs");
	const char *starter = jsonx_str(p, "starter_code");

	printf("problem       %s\n", key);
	printf("difficulty    %s\n", jsonx_str(p, "difficulty") ? jsonx_str(p, "difficulty") : "");
	printf("url           %s\n", jsonx_str(p, "url") ? jsonx_str(p, "url") : "");
	printf("source        %s\n", jsonx_str(p, "source") ? jsonx_str(p, "source") : "");
	print_time("imported", p, "imported");
	print_time("updated", p, "updated");
	printf("solutions     %zu\n", json_array_size(json_object_get(p, "solutions")));
	printf("tests         %zu%s\n", json_array_size(inputs),
	       json_object_get(io, "fn_name") ? " (call-based)" : "");
	printf("\n%s\n", jsonx_str(p, "question") ? jsonx_str(p, "question") : "");
	if (starter && *starter)
		printf("\n-----Starter code-----\n%s\n", starter);
}

static void print_text_stats(const char *what, const json_t *t)
{
	const json_t *ppl = json_object_get(t, "perplexity");

	if (!json_is_object(t))
		return;
	printf("  %-11s %lld tokens, entropy %.3f", what, (long long)jsonx_int(t, "tokens", 0),
	       json_number_value(json_object_get(t, "entropy")));
	if (json_is_number(ppl))
		printf(", perplexity %.2f", json_number_value(ppl));
	printf("\n");
}

/* Who made the record, from what, what it scored and what the rules said. */
static void print_result_facts(const json_t *r)
{
	const json_t *st = json_object_get(r, "stats"), *it;
	size_t i;

	printf("  model       %s (%s)\n", jsonx_str(r, "model") ? jsonx_str(r, "model") : "?",
	       jsonx_str(r, "provider") ? jsonx_str(r, "provider") : "?");
	printf("  stages      ");
	if (json_is_array(json_object_get(r, "stages")))
		json_array_foreach(json_object_get(r, "stages"), i, it)
			printf("%s%s", i ? ", " : "", json_string_value(it) ? json_string_value(it) : "?");
	else
		printf("modify, clarify");
	printf("\n  templates   ");
	json_array_foreach(json_object_get(r, "templates"), i, it)
		printf("%s%s v%lld", i ? ", " : "", jsonx_str(it, "name") ? jsonx_str(it, "name") : "?",
		       (long long)jsonx_int(it, "version", 0));
	printf("\n");
	print_text_stats("problem", json_object_get(st, "modified"));
	print_text_stats("questions", json_object_get(st, "questions"));
	print_text_stats("answers", json_object_get(st, "answers"));
	if (json_is_number(json_object_get(st, "similarity")))
		printf("  similarity  %.3f to the original\n",
		       json_number_value(json_object_get(st, "similarity")));
	if (json_is_array(json_object_get(r, "verdicts")) &&
	    !json_array_size(json_object_get(r, "verdicts")))
		printf("  verdicts    none (no rule or check fired)\n");
	json_array_foreach(json_object_get(r, "verdicts"), i, it) {
		printf("  verdict     %s %s", jsonx_str(it, "action") ? jsonx_str(it, "action") : "?",
		       jsonx_str(it, "rule") ? jsonx_str(it, "rule") : "?");
		if (jsonx_str(it, "detail"))
			printf(": %s", jsonx_str(it, "detail"));
		printf("\n");
	}
}

/* Stage 3: each question's answer, and the judge's verdict. */
static void print_answers(const json_t *r)
{
	const json_t *as = json_object_get(r, "answers"), *judge = json_object_get(r, "judge");
	const json_t *tc = json_object_get(judge, "targets_change"), *a;
	size_t i;

	if (json_array_size(as))
		printf("\n  answers (from the original):\n");
	json_array_foreach(as, i, a)
		printf("  %zu. %s\n", i + 1, json_string_value(a) ? json_string_value(a) : "");
	if (!json_is_object(judge))
		return;
	printf("\n  judge:\n");
	printf("    recovers           %s\n", json_is_true(json_object_get(judge, "recovers")) ? "yes" : "no");
	printf("    targets the change ");
	json_array_foreach(tc, i, a)
		printf("%sq%zu %s", i ? ", " : "", i + 1, json_is_true(a) ? "yes" : "no");
	printf("\n    self-announced     %s\n",
	       json_is_true(json_object_get(judge, "self_announced")) ? "yes" : "no");
	printf("    mentions original  %s\n",
	       json_is_true(json_object_get(judge, "mentions_original")) ? "yes" : "no");
	if (jsonx_str(judge, "reason"))
		printf("    reason             %s\n", jsonx_str(judge, "reason"));
}

static void print_job(const char *key, const json_t *j, const json_t *r)
{
	const char *err = jsonx_str(j, "last_error");

	printf("\njob %s\n", key);
	printf("  state       %s\n", jsonx_str(j, "state") ? jsonx_str(j, "state") : "?");
	printf("  attempts    %lld\n", (long long)jsonx_int(j, "attempts", 0));
	if (err)
		printf("  last error  %s\n", err);
	if (jsonx_str(r, "unreadable")) {
		printf("  result      unreadable: %s\n", jsonx_str(r, "unreadable"));
		return;
	}
	if (r) {
		const json_t *qs = json_object_get(r, "questions");
		size_t i;
		json_t *q;

		printf("  accepted    %s\n", json_is_true(json_object_get(r, "accepted")) ? "yes" : "no");
		print_result_facts(r);
		if (jsonx_str(r, "modified_problem"))
			printf("\n  modified problem:\n%s\n", jsonx_str(r, "modified_problem"));
		if (json_array_size(qs))
			printf("\n  clarifying questions:\n");
		json_array_foreach(qs, i, q)
			printf("  - %s\n", json_string_value(q) ? json_string_value(q) : "");
		print_answers(r);
	}
}

int cmd_show(struct cli *c, int argc, char **argv)
{
	char pkey[STORE_KEY_MAX];
	json_t *problem = NULL, *jobs = NULL, *results = NULL;
	MDB_txn *txn = NULL;
	struct store s;
	int json = 0, rc, status = EXIT_OK;
	const char *hash;

	status = cli_json_opts("show", argc, argv, usage, &json);
	if (status >= 0)
		return status;

	if (argc - optind != 1)
		return cli_usage_error("show", "expects one KEY");
	hash = strchr(argv[optind], '#');
	if (snprintf(pkey, sizeof(pkey), "%.*s",
		     hash ? (int)(hash - argv[optind]) : (int)strlen(argv[optind]),
		     argv[optind]) >= (int)sizeof(pkey))
		return cli_usage_error("show", "KEY too long");

	status = cli_open_store(c, &s, STORE_RDONLY);
	if (status)
		return status;
	rc = store_read_begin(&s, &txn);
	if (!rc)
		rc = store_get(&s, txn, STORE_PROBLEMS, pkey, &problem);
	if (rc == CL_ENOTFOUND) {
		log_err("no problem '%s' in store '%s'", pkey, s.path);
		status = EXIT_FAIL;
		goto end;
	}
	if (rc) {
		log_err("%s", err_msg(rc));
		status = EXIT_FAIL;
		goto end;
	}
	jobs = json_object();
	results = json_object();
	for (int cat = 0; cat < CAT_COUNT; cat++) {
		char jkey[STORE_KEY_MAX + 32];
		json_t *j = NULL, *r = NULL;

		store_job_key(jkey, sizeof(jkey), pkey, cat);
		if (store_get(&s, txn, STORE_JOBS, jkey, &j) == 0)
			json_object_set_new(jobs, category_name(cat), j);
		rc = store_get(&s, txn, STORE_RESULTS, jkey, &r);
		if (rc == 0) {
			json_object_set_new(results, category_name(cat), r);
		} else if (rc != CL_ENOTFOUND) {
			/* say so, and why: a job "done" with no word of its result
			 * would look whole */
			log_warn("the result of '%s' is unreadable, %s (clarify verify --repair "
				 "requeues its job)", jkey, err_msg(rc));
			json_object_set_new(results, category_name(cat),
					    json_pack("{s:s}", "unreadable", err_msg(rc)));
			status = EXIT_FAIL;
		}
		err_clear();
	}
	if (json) {
		json_t *o = json_pack("{s:s, s:O, s:O, s:O}", "key", pkey, "problem", problem,
				      "jobs", jobs, "results", results);

		jsonx_print(stdout, o, 1);
		json_decref(o);
	} else {
		print_problem(pkey, problem);
		for (int cat = 0; cat < CAT_COUNT; cat++) {
			char jkey[STORE_KEY_MAX + 32];
			json_t *j = json_object_get(jobs, category_name(cat));

			if (!j)
				continue;
			store_job_key(jkey, sizeof(jkey), pkey, cat);
			print_job(jkey, j, json_object_get(results, category_name(cat)));
		}
	}
end:
	json_decref(problem);
	json_decref(jobs);
	json_decref(results);
	store_read_end(txn);
	store_close(&s);
	return status;
}
