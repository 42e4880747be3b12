/* cmd_requeue.c - clarify requeue: put ended jobs back in the queue */
#include <string.h>

#include "cli.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: clarify requeue [--failed] [--rejected] [--stage answer]\n"
		   "                       [--category C] [--json]\n\n"
		   "Put jobs back to pending so that clarifyd runs them again: the failed\n"
		   "ones, the rejected ones, or both (the default is --failed).  A requeued\n"
		   "job's result is removed; its attempts are kept.  The store must not be\n"
		   "open by clarifyd meanwhile.\n\n"
		   "With --stage answer, the accepted records made without stage 3 (by\n"
		   "jobs.stages [modify, clarify], or by a clarifyd before it) go to state\n"
		   "answer instead, their result kept: clarifyd asks only stage 3 for them,\n"
		   "filters and scores the stored texts again, and writes the record anew\n"
		   "with the answers and the judge's verdict (or rejects it).  A stage 3 that\n"
		   "fails leaves the record as it was, done, with the reason in last_error.\n\n"
		   "options:\n"
		   "  --failed        jobs that failed\n"
		   "  --rejected      jobs whose result the filters rejected\n"
		   "  --stage answer  accepted records without stage 3: run it over them\n"
		   "  --category C    only this category\n"
		   "  --json          print the count as JSON\n"
		   "  -h, --help      this help\n");
}

struct requeue {
	unsigned states;      /* 1 << JOB_* */
	int answer;           /* --stage answer: done jobs without stage 3 */
	struct store *s;
	MDB_txn *txn;         /* the read transaction of the walk (--stage answer) */
	int category;         /* -1: all */
	json_t *keys;         /* the jobs to requeue */
	uint64_t n;
};

/* An accepted result without "answer" among its stages. */
static int needs_answer(struct requeue *q, const char *key, size_t klen)
{
	char k[STORE_KEY_MAX + 32];
	json_t *res = NULL, *st, *it;
	int need = 0;
	size_t i;

	if (klen >= sizeof(k))
		return 0;
	memcpy(k, key, klen);
	k[klen] = '\0';
	if (store_get(q->s, q->txn, STORE_RESULTS, k, &res) != 0)
		return 0; /* unreadable: clarify verify tells */
	need = json_is_true(json_object_get(res, "accepted")) &&
	       json_array_size(json_object_get(res, "questions")) > 0;
	st = json_object_get(res, "stages");
	json_array_foreach(st, i, it)
		if (json_is_string(it) && strcmp(json_string_value(it), "answer") == 0)
			need = 0;
	json_decref(res);
	return need;
}

static int pick(const char *key, size_t klen, json_t *v, int rc, void *arg)
{
	struct requeue *q = arg;
	const char *state = jsonx_str(v, "state"), *hash = memchr(key, '#', klen);
	int st;

	if (rc || !state || !hash)
		return 0;
	st = job_state_parse(state);
	if (st < 0 || !(q->states & (1u << st)))
		return 0;
	if (q->category >= 0) {
		const char *name = category_name(q->category);

		if ((size_t)(key + klen - hash - 1) != strlen(name) ||
		    memcmp(hash + 1, name, strlen(name)) != 0)
			return 0;
	}
	if (q->answer && !needs_answer(q, key, klen))
		return 0;
	json_array_append_new(q->keys, json_stringn(key, klen));
	return 0;
}

static int requeue_fn(struct store *s, MDB_txn *txn, void *arg)
{
	struct requeue *q = arg;
	size_t i;
	json_t *k;

	q->n = 0;
	json_array_foreach(q->keys, i, k) {
		const char *key = json_string_value(k);
		json_t *job = NULL;
		int rc = store_get(s, txn, STORE_JOBS, key, &job);

		if (rc == CL_ENOTFOUND)
			continue;
		if (rc)
			return rc;
		json_object_set_new(job, "state", json_string(q->answer ? "answer" : "pending"));
		json_object_set_new(job, "last_error", json_null());
		json_object_set_new(job, "updated", json_integer(time_now()));
		rc = store_put(s, txn, STORE_JOBS, key, job);
		json_decref(job);
		if (rc)
			return rc;
		if (q->answer) {
			q->n++;
			continue; /* stage 3 reads it */
		}
		rc = store_del(s, txn, STORE_RESULTS, key);
		if (rc && rc != CL_ENOTFOUND)
			return rc;
		q->n++;
	}
	return 0;
}

int cmd_requeue(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "failed", no_argument, NULL, 'f' },
		{ "rejected", no_argument, NULL, 'r' },
		{ "category", required_argument, NULL, 'c' },
		{ "stage", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct requeue q = { .category = -1 };
	MDB_txn *txn = NULL;
	struct store s;
	int json = 0, rc, status;

	optind = 0;
	for (;;) {
		int opt = getopt_long(argc, argv, "h", opts, NULL);

		if (opt == -1)
			break;
		switch (opt) {
		case 'f':
			q.states |= 1u << JOB_FAILED;
			break;
		case 'r':
			q.states |= 1u << JOB_REJECTED;
			break;
		case 's':
			if (strcmp(optarg, "answer") != 0)
				return cli_usage_error("requeue", "--stage takes 'answer', not '%s'",
						       optarg);
			q.answer = 1;
			break;
		case 'c':
			q.category = category_parse(optarg);
			if (q.category < 0)
				return cli_usage_error("requeue", "unknown category '%s'", optarg);
			break;
		case 'j':
			json = 1;
			break;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		default:
			return cli_usage_error("requeue", "unknown option");
		}
	}
	if (optind != argc)
		return cli_usage_error("requeue", "takes no arguments");
	if (q.answer && q.states)
		return cli_usage_error("requeue", "--stage answer goes without --failed and --rejected");
	if (q.answer)
		q.states = 1u << JOB_DONE;
	if (!q.states)
		q.states = 1u << JOB_FAILED;
	status = cli_open_store(c, &s, STORE_WRITER);
	if (status)
		return status;
	q.keys = json_array();
	rc = store_read_begin(&s, &txn);
	q.s = &s;
	q.txn = txn;
	if (!rc)
		rc = store_each(&s, txn, STORE_JOBS, "", pick, &q);
	store_read_end(txn);
	if (!rc)
		rc = store_write(&s, requeue_fn, &q);
	if (rc) {
		log_err("%s", err_msg(rc));
		status = EXIT_FAIL;
	} else if (json) {
		json_t *o = json_pack("{s:I}", "requeued", (json_int_t)q.n);

		jsonx_print(stdout, o, 0);
		json_decref(o);
	} else {
		printf("requeued %llu jobs in '%s'%s\n", (unsigned long long)q.n, s.path,
		       q.answer ? " for stage 3" : "");
	}
	json_decref(q.keys);
	store_close(&s);
	return status;
}
