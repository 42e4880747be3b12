/* cmd_status.c - clarify status: problems, and jobs by state and category */
#include <string.h>

#include "cli.h"

/* Rejections by rule, over the results. */
static int count_rules(const char *key, size_t klen, json_t *v, int rc, void *arg)
{
	json_t *by = arg, *it;
	size_t i;

	(void)key;
	(void)klen;
	if (rc || json_is_true(json_object_get(v, "accepted")))
		return 0;
	json_array_foreach(json_object_get(v, "verdicts"), i, it) {
		const char *rule = jsonx_str(it, "rule");
		const char *action = jsonx_str(it, "action");

		if (rule && action && !strcmp(action, "reject"))
			json_object_set_new(by, rule, json_integer(jsonx_int(by, rule, 0) + 1));
	}
	return 0;
}

struct tally {
	uint64_t by[CAT_COUNT + 1][JOB_STATE_COUNT]; /* [CAT_COUNT]: unknown */
	uint64_t jobs;
	uint64_t bad;
};

/* The store's zstd dictionary for db: {id, bytes}, or null. */
static json_t *dict_json(const struct store *s, enum store_db db)
{
	if (!store_dict_id(s, db))
		return json_null();
	return json_pack("{s:I, s:I}", "id", (json_int_t)store_dict_id(s, db), "bytes",
			 (json_int_t)store_dict_size(s, db));
}

static void dict_print(const struct store *s, const char *name, enum store_db db)
{
	if (store_dict_id(s, db))
		printf("%s %u (%zu KiB)", name, store_dict_id(s, db), store_dict_size(s, db) >> 10);
	else
		printf("%s none yet", name);
}

static void usage(FILE *f)
{
	fprintf(f, "usage: clarify status [--json]\n\n"
		   "Count the problems in the store, and the jobs by state and category.\n\n"
		   "options:\n"
		   "  --json      print the counts as JSON\n"
		   "  -h, --help  this help\n");
}

static int count_job(const char *key, size_t klen, json_t *v, int rc, void *arg)
{
	struct tally *t = arg;
	const char *hash = memchr(key, '#', klen);
	char cat[32];
	int c = CAT_COUNT, st;

	t->jobs++;
	if (rc) {
		t->bad++;
		return 0;
	}
	if (hash && (size_t)(key + klen - hash - 1) < sizeof(cat)) {
		size_t n = (size_t)(key + klen - hash - 1);

		memcpy(cat, hash + 1, n);
		cat[n] = '\0';
		c = category_parse(cat);
		if (c < 0)
			c = CAT_COUNT;
	}
	st = jsonx_str(v, "state") ? job_state_parse(jsonx_str(v, "state")) : -1;
	if (st < 0) {
		t->bad++;
		return 0;
	}
	t->by[c][st]++;
	return 0;
}

static json_t *states_json(const uint64_t *by)
{
	json_t *o = json_object();

	for (int st = 0; st < JOB_STATE_COUNT; st++)
		json_object_set_new(o, job_state_name(st), json_integer((json_int_t)by[st]));
	return o;
}

/* The last run's requests per stage (and replies from the cache). */
static void print_by_stage(const json_t *by)
{
	static const char *const stages[] = { "modify", "clarify", "answer" };

	if (!json_is_object(by))
		return;
	printf("requests by stage:");
	for (size_t i = 0; i < CL_ARRAY_SIZE(stages); i++) {
		const json_t *s = json_object_get(by, stages[i]);

		printf("%s %s %lld", i ? "," : "", stages[i], (long long)jsonx_int(s, "requests", 0));
		if (jsonx_int(s, "cached", 0))
			printf(" (+%lld cached)", (long long)jsonx_int(s, "cached", 0));
	}
	printf("\n");
}

struct batch_list {
	uint64_t total, live, requests;
};

static int batch_each(const char *key, size_t klen, json_t *v, int drc, void *arg)
{
	struct batch_list *bl = arg;
	const char *state = jsonx_str(v, "state");

	(void)key;
	(void)klen;
	if (drc)
		return 0;
	bl->total++;
	if (state && strcmp(state, "done")) {
		bl->live++;
		bl->requests += (uint64_t)jsonx_int(v, "requests", 0);
	}
	return 0;
}

int cmd_status(struct cli *c, int argc, char **argv)
{
	struct tally t = { 0 };
	struct batch_list bl = { 0 };
	uint64_t total[JOB_STATE_COUNT] = { 0 };
	uint64_t problems = 0, results = 0, cached = 0;
	MDB_txn *txn = NULL;
	struct store s;
	int json = 0, rc, status;
	json_t *by_rule = NULL, *prog = NULL;
	double rate = 0, rrate = 0, eta = -1;

	status = cli_json_opts("status", argc, argv, usage, &json);
	if (status >= 0)
		return status;

	if (optind != argc)
		return cli_usage_error("status", "takes no arguments");
	status = cli_open_store(c, &s, STORE_RDONLY);
	if (status)
		return status;
	rc = store_read_begin(&s, &txn);
	if (!rc)
		rc = store_count(&s, txn, STORE_PROBLEMS, &problems);
	if (!rc)
		rc = store_count(&s, txn, STORE_RESULTS, &results);
	if (!rc)
		rc = store_count(&s, txn, STORE_CACHE, &cached);
	if (!rc)
		rc = store_each(&s, txn, STORE_JOBS, "", count_job, &t);
	by_rule = json_object();
	if (!rc)
		rc = store_each(&s, txn, STORE_RESULTS, "", count_rules, by_rule);
	if (!rc && store_get(&s, txn, STORE_META, STORE_META_PROGRESS, &prog) == CL_ENOTFOUND)
		prog = NULL;
	store_read_end(txn);
	if (rc) {
		log_err("%s", err_msg(rc));
		json_decref(by_rule);
		json_decref(prog);
		store_close(&s);
		return EXIT_FAIL;
	}
	/* a running clarifyd's jobs in flight are "pending" in the store: they
	 * are counted in the column of the stage they are at */
	if (prog && jsonx_int(prog, "running", 0) &&
	    store_writer_pid(s.path) > 0) {
		static const int col[] = { JOB_MODIFY, JOB_CLARIFY, JOB_ANSWER };
		static const char *const name[] = { "modify", "clarify", "answer" };

		for (int cat = 0; cat < CAT_COUNT; cat++) {
			const json_t *by = json_object_get(json_object_get(prog, "in_flight_by"),
							   category_name(cat));

			for (int k = 0; k < 3; k++) {
				uint64_t n = (uint64_t)jsonx_int(by, name[k], 0);

				if (n > t.by[cat][JOB_PENDING])
					n = t.by[cat][JOB_PENDING];
				t.by[cat][JOB_PENDING] -= n;
				t.by[cat][col[k]] += n;
			}
		}
	}
	for (int cat = 0; cat <= CAT_COUNT; cat++)
		for (int st = 0; st < JOB_STATE_COUNT; st++)
			total[st] += t.by[cat][st];
	{
		/* llm.mode batch: the batches not yet in hold their jobs */
		MDB_txn *btxn;

		if (store_read_begin(&s, &btxn) == 0) {
			store_each(&s, btxn, STORE_BATCHES, "", batch_each, &bl);
			store_read_end(btxn);
		}
	}
	if (prog) {
		/* "seconds" since the start, or whole seconds from an older clarifyd */
		json_t *sec = json_object_get(prog, "seconds");
		double span = json_is_number(sec) ? json_number_value(sec)
						  : (double)(jsonx_int(prog, "updated", 0) -
							     jsonx_int(prog, "started", 0));
		int64_t ended = jsonx_int(prog, "accepted", 0) + jsonx_int(prog, "rejected", 0) +
				jsonx_int(prog, "failed", 0);

		if (span > 0) {
			rate = (double)ended / span;
			rrate = (double)jsonx_int(prog, "requests", 0) / span;
		}
		if (rate > 0)
			eta = (double)(total[JOB_PENDING] + total[JOB_MODIFY] + total[JOB_CLARIFY] +
				       (jsonx_int(prog, "running", 0) ?
				       total[JOB_ANSWER] : 0)) / rate;
	}

	if (json) {
		json_t *o = json_object(), *jobs = states_json(total), *bycat = json_object();

		json_object_set_new(o, "store", json_string(s.path));
		json_object_set_new(o, "problems", json_integer((json_int_t)problems));
		json_object_set_new(jobs, "total", json_integer((json_int_t)t.jobs));
		json_object_set_new(o, "jobs", jobs);
		for (int cat = 0; cat < CAT_COUNT; cat++)
			json_object_set_new(bycat, category_name(cat), states_json(t.by[cat]));
		json_object_set_new(o, "by_category", bycat);
		json_object_set_new(o, "results", json_integer((json_int_t)results));
		json_object_set_new(o, "cached_responses", json_integer((json_int_t)cached));
		json_object_set_new(o, "zstd_dictionaries",
				    json_pack("{s:o, s:o}", "results", dict_json(&s, STORE_RESULTS),
					      "problems", dict_json(&s, STORE_PROBLEMS)));
		json_object_set_new(o, "unreadable_jobs", json_integer((json_int_t)t.bad));
		json_object_set(o, "rejected_by_rule", by_rule);
		json_object_set_new(o, "batches", json_pack("{s:I, s:I, s:I}", "total",
							    (json_int_t)bl.total, "live",
							    (json_int_t)bl.live, "requests",
							    (json_int_t)bl.requests));
		if (prog) {
			json_object_set(o, "daemon", prog);
			json_object_set_new(o, "jobs_per_second", json_real(rate));
			json_object_set_new(o, "requests_per_second", json_real(rrate));
			if (eta >= 0)
				json_object_set_new(o, "eta_seconds", json_real(eta));
		}
		jsonx_print(stdout, o, 1);
		json_decref(o);
	} else {
		printf("store     %s\nproblems  %llu\njobs      %llu\nresults   %llu\ncache     %llu\n",
		       s.path, (unsigned long long)problems, (unsigned long long)t.jobs,
		       (unsigned long long)results, (unsigned long long)cached);
		printf("zdict     ");
		dict_print(&s, "results", STORE_RESULTS);
		printf(", ");
		dict_print(&s, "problems", STORE_PROBLEMS);
		printf("\n\n");
		printf("%-14s", "");
		for (int st = 0; st < JOB_STATE_COUNT; st++)
			printf("%10s", job_state_name(st));
		printf("\n");
		for (int cat = 0; cat <= CAT_COUNT; cat++) {
			uint64_t row = 0;

			for (int st = 0; st < JOB_STATE_COUNT; st++)
				row += t.by[cat][st];
			if (cat == CAT_COUNT && row == 0)
				continue;
			printf("%-14s", cat < CAT_COUNT ? category_name(cat) : "(other)");
			for (int st = 0; st < JOB_STATE_COUNT; st++)
				printf("%10llu", (unsigned long long)t.by[cat][st]);
			printf("\n");
		}
		printf("%-14s", "total");
		for (int st = 0; st < JOB_STATE_COUNT; st++)
			printf("%10llu", (unsigned long long)total[st]);
		printf("\n");
		if (json_object_size(by_rule)) {
			const char *rule;
			json_t *n;

			printf("\n%-28s %s\n", "rejected by rule", "records");
			json_object_foreach(by_rule, rule, n)
				printf("%-28s %lld\n", rule, (long long)json_integer_value(n));
		}
		if (prog) {
			char line[256];

			store_progress_line(prog, line, sizeof(line));
			printf("\n%s, %lld in flight; %.2f jobs/s, %.2f requests/s", line,
			       (long long)jsonx_int(prog, "in_flight", 0), rate, rrate);
			if (eta > 0) {
				long e = (long)(eta + 0.5);

				printf(", about %ld:%02ld:%02ld to go", e / 3600, e / 60 % 60, e % 60);
			}
			printf("\n");
			print_by_stage(json_object_get(prog, "by_stage"));
		}
		if (bl.live)
			printf("\nbatches   %llu live, holding %llu requests (clarify batches)\n",
			       (unsigned long long)bl.live, (unsigned long long)bl.requests);
		if (t.bad)
			printf("\n%llu job records could not be read: run 'clarify verify'\n",
			       (unsigned long long)t.bad);
	}
	json_decref(by_rule);
	json_decref(prog);
	store_close(&s);
	return EXIT_OK;
}
