/* cmd_verify.c - clarify verify: every record decodes, jobs and results agree */
#include <string.h>

#include "../stats/stats.h"
#include "cli.h"

#define MAX_REPORTED 50

struct verifier {
	struct store *s;
	MDB_txn *txn;
	enum store_db db;
	uint64_t records[STORE_DB_COUNT];
	uint64_t problems_ok;
	json_t *issues;     /* list of {"db", "key", "problem"} */
	uint64_t nissues;
	json_t *repair;     /* job key -> why: the jobs --repair requeues */
};

static void usage(FILE *f)
{
	fprintf(f, "usage: clarify verify [--repair] [--json]\n\n"
		   "Decode every record of every database and check that they agree:\n"
		   "each job names a problem in the store and a known category and state,\n"
		   "each done or rejected job has a result, each result has its job.\n"
		   "Exits 1 when anything is wrong.\n\n"
		   "options:\n"
		   "  --repair    requeue (as pending, their results deleted) the jobs whose\n"
		   "              record or result cannot be read, or that are done without\n"
		   "              a result; takes the store's writer lock.  Exits 0 when\n"
		   "              that mends every issue found\n"
		   "  --json      print the report as JSON\n"
		   "  -h, --help  this help\n");
}

static void issue(struct verifier *v, const char *key, size_t klen, const char *fmt, ...)
	CL_PRINTF(4, 5);

static void issue(struct verifier *v, const char *key, size_t klen, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	v->nissues++;
	if (v->nissues > MAX_REPORTED)
		return;
	json_array_append_new(v->issues, json_pack("{s:s, s:s%, s:s}", "db",
						   store_db_name(v->db), "key", key, klen,
						   "problem", msg));
}

static int exists(struct verifier *v, enum store_db db, const char *key, size_t klen);

/* The job of KEY is to be requeued by --repair (when its key is a job's). */
static void to_repair(struct verifier *v, const char *key, size_t klen, const char *why)
{
	const char *hash = memchr(key, '#', klen);
	char k[STORE_KEY_MAX];

	if (!hash || klen >= sizeof(k))
		return;
	memcpy(k, key, klen);
	k[klen] = '\0';
	if (category_parse(hash + 1) < 0 ||
	    !exists(v, STORE_PROBLEMS, key, (size_t)(hash - key)))
		return; /* requeued, it could only fail */
	if (!json_object_get(v->repair, k))
		json_object_set_new(v->repair, k, json_string(why));
}

static int exists(struct verifier *v, enum store_db db, const char *key, size_t klen)
{
	MDB_val k = { klen, (void *)key }, val;

	return mdb_get(v->txn, v->s->dbi[db], &k, &val) == 0;
}

static int check_problem(const char *key, size_t klen, const json_t *rec, struct verifier *v)
{
	const char *q = jsonx_str(rec, "question");

	if (!json_is_object(rec))
		issue(v, key, klen, "not an object");
	else if (!q || !*q)
		issue(v, key, klen, "no question");
	else if (klen < 6 || memcmp(key, "apps/", 5) != 0)
		issue(v, key, klen, "key is not of the form apps/<split>/<id>");
	else
		v->problems_ok++;
	return 0;
}

static int check_job(const char *key, size_t klen, const json_t *rec, struct verifier *v)
{
	const char *hash = memchr(key, '#', klen);
	const char *state = jsonx_str(rec, "state");
	char cat[32];
	size_t catlen;
	int st;

	if (!hash) {
		issue(v, key, klen, "job key has no '#<category>'");
		return 0;
	}
	catlen = (size_t)(key + klen - hash - 1);
	cat[0] = '\0';
	if (catlen < sizeof(cat))
		snprintf(cat, sizeof(cat), "%.*s", (int)catlen, hash + 1);
	if (category_parse(cat) < 0)
		issue(v, key, klen, "unknown category");
	if (!exists(v, STORE_PROBLEMS, key, (size_t)(hash - key)))
		issue(v, key, klen, "its problem is not in the store");
	st = state ? job_state_parse(state) : -1;
	if (st < 0) {
		issue(v, key, klen, "unknown state '%s'", state ? state : "(none)");
		return 0;
	}
	if ((st == JOB_DONE || st == JOB_REJECTED || st == JOB_ANSWER) &&
	    !exists(v, STORE_RESULTS, key, klen)) {
		issue(v, key, klen, "job is %s but has no result", state);
		to_repair(v, key, klen, "no result");
	}
	if (jsonx_int(rec, "attempts", -1) < 0)
		issue(v, key, klen, "missing or negative attempts");
	return 0;
}

static int check_result(const char *key, size_t klen, struct verifier *v)
{
	MDB_val k = { klen, (void *)key }, val;
	json_t *job = NULL;
	const char *state;
	int rc;

	if (mdb_get(v->txn, v->s->dbi[STORE_JOBS], &k, &val) != 0) {
		issue(v, key, klen, "result without a job");
		return 0;
	}
	rc = store_decode(v->s, val.mv_data, val.mv_size, &job);
	if (rc)
		return 0; /* reported when the jobs are walked */
	state = jsonx_str(job, "state");
	if (!state || (strcmp(state, "done") != 0 && strcmp(state, "rejected") != 0 &&
		       strcmp(state, "answer") != 0))
		issue(v, key, klen, "result exists but its job is '%s'", state ? state : "?");
	json_decref(job);
	return 0;
}

static int check_one(const char *key, size_t klen, json_t *rec, int rc, void *arg)
{
	struct verifier *v = arg;

	v->records[v->db]++;
	if (rc) {
		issue(v, key, klen, "cannot decode: %s", err_msg(rc));
		if (v->db == STORE_JOBS)
			to_repair(v, key, klen, "job unreadable");
		else if (v->db == STORE_RESULTS)
			to_repair(v, key, klen, "result unreadable");
		return 0;
	}
	switch (v->db) {
	case STORE_PROBLEMS:
		return check_problem(key, klen, rec, v);
	case STORE_JOBS:
		return check_job(key, klen, rec, v);
	case STORE_RESULTS:
		return check_result(key, klen, v);
	default:
		return 0;
	}
}

static int repair_fn(struct store *s, MDB_txn *txn, void *arg)
{
	struct verifier *v = arg;
	const char *key;
	json_t *why;
	int64_t now = time_now();

	json_object_foreach(v->repair, key, why) {
		json_t *job = NULL;
		int rc = store_get(s, txn, STORE_JOBS, key, &job);

		if (rc) { /* unreadable (or gone): a new job in its place */
			err_clear();
			job = store_job_new(now);
		}
		json_object_set_new(job, "state", json_string("pending"));
		json_object_set_new(job, "last_error", json_null());
		json_object_set_new(job, "updated", json_integer(now));
		rc = store_put(s, txn, STORE_JOBS, key, job);
		json_decref(job);
		if (!rc)
			rc = store_del(s, txn, STORE_RESULTS, key);
		if (rc && rc != CL_ENOTFOUND)
			return rc;
	}
	return 0;
}

int cmd_verify(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "repair", no_argument, NULL, 'r' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct verifier v = { 0 };
	struct store s;
	int json = 0, repair = 0, rc = 0, status, opt;
	uint64_t total = 0, repaired = 0;

	optind = 0;
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (opt == 'r') {
			repair = 1;
		} else if (opt == 'j') {
			json = 1;
		} else if (opt == 'h') {
			usage(stdout);
			return EXIT_OK;
		} else {
			return cli_usage_error("verify", "unknown option");
		}
	}
	if (optind != argc)
		return cli_usage_error("verify", "takes no arguments");
	status = cli_open_store(c, &s, repair ? STORE_WRITER : STORE_RDONLY);
	if (status)
		return status;
	v.s = &s;
	v.issues = json_array();
	v.repair = json_object();
	rc = store_read_begin(&s, &v.txn);
	for (int db = 0; !rc && db < STORE_DB_COUNT; db++) {
		if (db == STORE_LSH) { /* raw entries, not records: counted only */
			rc = store_count(&s, v.txn, STORE_LSH, &v.records[db]);
			total += v.records[db];
			continue;
		}
		v.db = (enum store_db)db;
		rc = store_each(&s, v.txn, v.db, "", check_one, &v);
		total += v.records[db];
	}
	if (!rc) {
		/* the language model, when there is one, must load */
		const void *data;
		size_t len;
		struct stats_lm *lm = NULL;
		int lrc = store_get_raw(&s, v.txn, STORE_META, STORE_META_LM, &data, &len);

		if (!lrc) {
			err_clear();
			lrc = stats_lm_load(&lm, data, len);
			v.db = STORE_META;
			if (lrc)
				issue(&v, STORE_META_LM, strlen(STORE_META_LM),
				      "the language model cannot be loaded: %s", err_msg(lrc));
			stats_lm_free(lm);
		}
	}
	store_read_end(v.txn);
	if (!rc && repair && json_object_size(v.repair)) {
		rc = store_write(&s, repair_fn, &v);
		if (!rc)
			repaired = json_object_size(v.repair);
	}
	if (rc) {
		log_err("%s", err_msg(rc));
		json_decref(v.issues);
		json_decref(v.repair);
		store_close(&s);
		return EXIT_FAIL;
	}
	if (json) {
		json_t *o = json_object(), *counts = json_object();

		for (int db = 0; db < STORE_DB_COUNT; db++)
			json_object_set_new(counts, store_db_name((enum store_db)db),
					    json_integer((json_int_t)v.records[db]));
		json_object_set_new(o, "store", json_string(s.path));
		json_object_set_new(o, "records", counts);
		json_object_set_new(o, "ok", json_boolean(v.nissues == 0));
		json_object_set_new(o, "issues", json_integer((json_int_t)v.nissues));
		json_object_set_new(o, "reported", json_incref(v.issues));
		if (repair)
			json_object_set_new(o, "requeued", json_incref(v.repair));
		jsonx_print(stdout, o, 1);
		json_decref(o);
	} else {
		size_t i;
		json_t *it;

		json_array_foreach(v.issues, i, it)
			printf("%s '%s': %s\n", jsonx_str(it, "db"), jsonx_str(it, "key"),
			       jsonx_str(it, "problem"));
		if (v.nissues > MAX_REPORTED)
			printf("... and %llu more\n", (unsigned long long)(v.nissues - MAX_REPORTED));
		printf("%s store '%s': %llu records (%llu problems, %llu jobs, %llu results, "
		       "%llu cached), %llu issues\n",
		       v.nissues ? "FAILED" : "verified", s.path, (unsigned long long)total,
		       (unsigned long long)v.records[STORE_PROBLEMS],
		       (unsigned long long)v.records[STORE_JOBS],
		       (unsigned long long)v.records[STORE_RESULTS],
		       (unsigned long long)v.records[STORE_CACHE], (unsigned long long)v.nissues);
		if (repair) {
			const char *key;
			json_t *why;

			json_object_foreach(v.repair, key, why)
				printf("requeued '%s' (%s)\n", key, json_string_value(why));
			printf("repaired: %llu jobs requeued, %llu issues left\n",
			       (unsigned long long)repaired,
			       (unsigned long long)(v.nissues - repaired));
		} else if (json_object_size(v.repair)) {
			printf("clarify verify --repair requeues %llu of these jobs\n",
			       (unsigned long long)json_object_size(v.repair));
		}
	}
	json_decref(v.issues);
	json_decref(v.repair);
	store_close(&s);
	return v.nissues > repaired ? EXIT_FAIL : EXIT_OK;
}
