/* cmd_shards.c - clarify shards: a sharded run's plan and progress; the shard stores */
#include <ctype.h>
#include <dirent.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "../pipeline/apps.h"
#include "cli.h"

/*
 * A sharded run keeps shard K of N in the store BASE/shard-K, whose meta
 * "shard" record says {"index": K, "count": N}: clarify import --shards
 * writes it, clarifyd checks --shard against it, and the export and the
 * status below read it.  Nothing else about the run is kept in BASE.
 */

int shard_dir(char *out, size_t n, const char *base, unsigned k)
{
	int w = snprintf(out, n, "%s/shard-%u", base, k);

	if (w < 0 || (size_t)w >= n)
		return err_set(CL_ETOOBIG, "the shard folders of '%s' have too long a name", base);
	return 0;
}

void shards_close(struct store *stores, unsigned count)
{
	for (unsigned k = 0; k < count; k++)
		store_close(&stores[k]);
}

/* The shard record of an open store; CL_ENOTFOUND when it is not a shard. */
static int shard_of_store(struct store *s, unsigned *k, unsigned *n)
{
	MDB_txn *txn;
	int rc = store_read_begin(s, &txn);

	if (rc)
		return rc;
	rc = store_shard_get(s, txn, k, n);
	store_read_end(txn);
	return rc;
}

/* The lowest and highest K of the folders BASE/shard-K; -1 when none. */
static void shard_span(const char *base, long *lo, long *hi)
{
	DIR *d = opendir(base);
	struct dirent *e;

	*lo = *hi = -1;
	if (!d)
		return;
	while ((e = readdir(d))) {
		const char *p = e->d_name;
		char *end;
		unsigned long k;

		if (strncmp(p, "shard-", 6) != 0 || !isdigit((unsigned char)p[6]))
			continue;
		k = strtoul(p + 6, &end, 10);
		if (*end || k > SHARDS_MAX)
			continue;
		if (*lo < 0 || (long)k < *lo)
			*lo = (long)k;
		if ((long)k > *hi)
			*hi = (long)k;
	}
	closedir(d);
}

static int open_one(struct cli *c, const char *base, unsigned k, unsigned flags,
		    struct store *s)
{
	struct store_options opt;
	char dir[4096];
	int rc;

	cli_store_options(c, &opt);
	err_clear();
	rc = shard_dir(dir, sizeof(dir), base, k);
	if (!rc)
		rc = store_open(s, dir, flags, &opt);
	if (rc)
		log_err("%s", err_msg(rc));
	return rc;
}

/* The count that BASE/shard-lo records; prints the reason when none. */
static int recorded_count(struct cli *c, const char *base, long lo, unsigned *count)
{
	struct store s;
	unsigned k, n;
	int rc;

	if (open_one(c, base, (unsigned)lo, STORE_RDONLY, &s))
		return EXIT_FAIL;
	err_clear();
	rc = shard_of_store(&s, &k, &n);
	if (rc == CL_ENOTFOUND)
		log_err("'%s' is not a shard (it has no shard record): make the shards with "
			"clarify import PATH --shards N --out '%s'", s.path, base);
	else if (rc)
		log_err("%s", err_msg(rc));
	else if (k != (unsigned)lo)
		log_err("'%s' holds shard %u/%u, not shard %ld", s.path, k, n, lo);
	store_close(&s);
	if (rc || k != (unsigned)lo)
		return EXIT_FAIL;
	*count = n;
	return 0;
}

int shards_count(struct cli *c, const char *base, unsigned *count)
{
	long lo, hi;
	unsigned n;
	int rc;

	rc = cli_load_config(c);
	if (rc)
		return rc;
	shard_span(base, &lo, &hi);
	if (lo < 0) {
		log_err("'%s' holds no shard (no shard-K folder): make them with clarify import "
			"PATH --shards N --out '%s'", base, base);
		return EXIT_FAIL;
	}
	rc = recorded_count(c, base, lo, &n);
	if (rc)
		return rc;
	if (hi >= (long)n) {
		log_err("'%s' holds shard-%ld, beyond its %u shards (shard-0 ... shard-%u)", base,
			hi, n, n - 1);
		return EXIT_FAIL;
	}
	*count = n;
	return 0;
}

int shards_open(struct cli *c, const char *base, struct store *stores, unsigned *count)
{
	unsigned n, k, rk, rn;
	int rc;

	rc = shards_count(c, base, &n);
	if (rc)
		return rc;
	for (k = 0; k < n; k++) {
		if (open_one(c, base, k, STORE_RDONLY, &stores[k]))
			break;
		err_clear();
		rc = shard_of_store(&stores[k], &rk, &rn);
		if (rc || rk != k || rn != n) {
			if (rc == CL_ENOTFOUND)
				log_err("'%s' is not a shard (it has no shard record)", stores[k].path);
			else if (rc)
				log_err("%s", err_msg(rc));
			else
				log_err("'%s' holds shard %u/%u, not %u/%u", stores[k].path, rk, rn, k,
					n);
			store_close(&stores[k]);
			break;
		}
	}
	if (k < n) {
		shards_close(stores, k);
		return EXIT_FAIL;
	}
	*count = n;
	return 0;
}

static int put_shard(struct store *s, MDB_txn *txn, void *arg)
{
	const unsigned *kn = arg;

	return store_shard_set(s, txn, kn[0], kn[1]);
}

int shards_create(struct cli *c, const char *base, unsigned count, struct store *stores)
{
	unsigned k, rk, rn;
	long lo, hi;
	int rc;

	rc = cli_load_config(c);
	if (rc)
		return rc;
	shard_span(base, &lo, &hi);
	if (lo >= 0 && (rc = recorded_count(c, base, lo, &rn)) != 0)
		return rc;
	if (lo >= 0 && rn != count) {
		log_err("'%s' holds %u shards, not %u: import into a new folder, or with "
			"--shards %u", base, rn, count, rn);
		return EXIT_FAIL;
	}
	if (hi >= (long)count) {
		log_err("'%s' holds shard-%ld, beyond its %u shards", base, hi, count);
		return EXIT_FAIL;
	}
	for (k = 0; k < count; k++) {
		unsigned kn[2] = { k, count };

		if (open_one(c, base, k, STORE_WRITER, &stores[k]))
			break;
		err_clear();
		rc = shard_of_store(&stores[k], &rk, &rn);
		if (rc == CL_ENOTFOUND)
			rc = store_write(&stores[k], put_shard, kn);
		else if (!rc && (rk != k || rn != count))
			rc = err_set(CL_EINVAL, "'%s' holds shard %u/%u, not %u/%u: import into a "
				     "new folder, or with --shards %u", stores[k].path, rk, rn, k,
				     count, rn);
		if (rc) {
			log_err("%s", err_msg(rc));
			store_close(&stores[k]);
			break;
		}
	}
	if (k < count) {
		shards_close(stores, k);
		return EXIT_FAIL;
	}
	return 0;
}

/* ---- clarify shards plan ------------------------------------------------ */

static void usage(FILE *f)
{
	fprintf(f, "usage: clarify shards plan --shards N [PATH] [--split S] [--limit N] [--json]\n"
		   "       clarify shards status BASE [--json]\n\n"
		   "A run split into N shards, each with its own store BASE/shard-K, as clarify\n"
		   "import PATH --shards N --out BASE makes them and a Slurm job array\n"
		   "(etc/clarifyd.sbatch) or a Kubernetes Indexed Job runs them:\n"
		   "clarifyd -s BASE/shard-K --shard K/N --once per shard.  A problem belongs\n"
		   "to the shard its key hashes to (FNV-1a modulo N).\n\n"
		   "  plan     the problems and jobs of each shard, to size the array: of the\n"
		   "           APPS rows at PATH (as clarify import reads them), or without PATH\n"
		   "           of the store (-s)\n"
		   "  status   every shard's jobs by state, whether a clarifyd is at work on it,\n"
		   "           and which shards stopped unfinished (to resubmit those only)\n\n"
		   "options:\n"
		   "  --shards N  the number of shards (1 to %d)\n"
		   "  --split S   with PATH: train or test (default: from the folder or file name)\n"
		   "  --limit N   with PATH: at most N problems\n"
		   "  --json      print it as JSON\n"
		   "  -h, --help  this help\n", SHARDS_MAX);
}

struct plan_count {
	unsigned n;
	uint64_t problems[SHARDS_MAX], jobs[SHARDS_MAX];
	uint64_t skipped;
	int ncats;
};

static int plan_problem(void *arg, const char *key, json_t *rec)
{
	struct plan_count *p = arg;
	unsigned k = hash_shard(key, p->n);

	json_decref(rec);
	p->problems[k]++;
	p->jobs[k] += (uint64_t)p->ncats;
	return 0;
}

static void plan_skip(void *arg, const char *where, const char *why)
{
	struct plan_count *p = arg;

	p->skipped++;
	log_warn("skipped '%s': %s", where, why);
}

/* The keys of db, each counted on its problem's shard. */
static int plan_keys(struct store *s, MDB_txn *txn, enum store_db db, struct plan_count *p,
		     uint64_t *by)
{
	char key[STORE_KEY_MAX + 32];
	MDB_cursor *cur;
	MDB_val k, v;
	int mrc;

	if (s->absent & (1u << db))
		return 0;
	mrc = mdb_cursor_open(txn, s->dbi[db], &cur);
	if (mrc)
		return err_set(CL_ESTORE, "cannot read '%s': %s", s->path, mdb_strerror(mrc));
	for (mrc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); mrc == 0;
	     mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		size_t n = k.mv_size < sizeof(key) ? k.mv_size : sizeof(key) - 1;
		char *hash;

		memcpy(key, k.mv_data, n);
		key[n] = '\0';
		hash = strchr(key, '#'); /* a job's key: its problem's, then the category */
		if (hash)
			*hash = '\0';
		by[hash_shard(key, p->n)]++;
	}
	mdb_cursor_close(cur);
	if (mrc != MDB_NOTFOUND)
		return err_set(CL_ESTORE, "cannot read '%s': %s", s->path, mdb_strerror(mrc));
	return 0;
}

static int plan_store(struct cli *c, struct plan_count *p, char *source, size_t n)
{
	struct store s;
	MDB_txn *txn;
	int status, rc;

	status = cli_open_store(c, &s, STORE_RDONLY);
	if (status)
		return status;
	snprintf(source, n, "%s", s.path);
	err_clear();
	rc = store_read_begin(&s, &txn);
	if (!rc) {
		rc = plan_keys(&s, txn, STORE_PROBLEMS, p, p->problems);
		if (!rc)
			rc = plan_keys(&s, txn, STORE_JOBS, p, p->jobs);
		store_read_end(txn);
	}
	store_close(&s);
	if (rc) {
		log_err("%s", err_msg(rc));
		return EXIT_FAIL;
	}
	return 0;
}

static void plan_print(const struct plan_count *p, const char *source, int json)
{
	uint64_t problems = 0, jobs = 0, most = 0;
	json_t *o, *arr;

	for (unsigned k = 0; k < p->n; k++) {
		problems += p->problems[k];
		jobs += p->jobs[k];
		if (p->problems[k] > most)
			most = p->problems[k];
	}
	if (json) {
		arr = json_array();
		for (unsigned k = 0; k < p->n; k++)
			json_array_append_new(arr, json_pack("{s:I, s:I, s:I}", "index",
							     (json_int_t)k, "problems",
							     (json_int_t)p->problems[k], "jobs",
							     (json_int_t)p->jobs[k]));
		o = json_pack("{s:s, s:I, s:I, s:I, s:I, s:o}", "source", source, "count",
			      (json_int_t)p->n, "problems", (json_int_t)problems, "jobs",
			      (json_int_t)jobs, "largest", (json_int_t)most, "shards", arr);
		jsonx_print(stdout, o, 1);
		json_decref(o);
		return;
	}
	printf("%s in %u shards:\n\n%5s %10s %10s\n", source, p->n, "shard", "problems", "jobs");
	for (unsigned k = 0; k < p->n; k++)
		printf("%5u %10llu %10llu\n", k, (unsigned long long)p->problems[k],
		       (unsigned long long)p->jobs[k]);
	printf("%5s %10llu %10llu\n\n", "all", (unsigned long long)problems,
	       (unsigned long long)jobs);
	if (problems)
		printf("largest shard: %llu problems, %.0f%% of the mean\n",
		       (unsigned long long)most, 100.0 * (double)most * p->n / (double)problems);
	printf("run it: clarify import PATH --shards %u --out BASE, then\n"
	       "        sbatch --array=0-%u etc/clarifyd.sbatch (or the Kubernetes Indexed Job\n"
	       "        of etc/k8s with completions: %u)\n", p->n, p->n - 1, p->n);
}

static int shards_plan(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "shards", required_argument, NULL, 'N' },
		{ "split", required_argument, NULL, 'S' },
		{ "limit", required_argument, NULL, 'n' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct plan_count *p = calloc(1, sizeof(*p));
	struct apps_opts ao = { 0 };
	struct apps_sink sink = { NULL, plan_problem, plan_skip, p };
	char source[4096];
	int64_t v = 0;
	int json = 0, opt, status = 0, rc;

	if (!p)
		return EXIT_FAIL;
	optind = 0;
	while (!status && (opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 'N':
			if (parse_i64(optarg, 1, SHARDS_MAX, &v))
				status = cli_usage_error("shards", "--shards takes 1 to %d, not '%s'",
							 SHARDS_MAX, optarg);
			p->n = (unsigned)v;
			break;
		case 'S':
			ao.split = optarg;
			if (strcmp(optarg, "train") != 0 && strcmp(optarg, "test") != 0)
				status = cli_usage_error("shards", "--split takes train or test, "
							 "not '%s'", optarg);
			break;
		case 'n':
			if (parse_i64(optarg, 1, INT64_MAX, &v))
				status = cli_usage_error("shards", "--limit takes a positive number, "
							 "not '%s'", optarg);
			ao.limit = (uint64_t)v;
			break;
		case 'j':
			json = 1;
			break;
		case 'h':
			usage(stdout);
			free(p);
			return EXIT_OK;
		default:
			status = cli_usage_error("shards", "unknown option");
		}
	}
	if (!status && !p->n)
		status = cli_usage_error("shards", "plan needs --shards N");
	if (!status && argc - optind > 1)
		status = cli_usage_error("shards", "plan takes at most one PATH");
	if (!status && argc - optind == 0 && (ao.split || ao.limit))
		status = cli_usage_error("shards", "--split and --limit go with a PATH");
	if (!status)
		status = cli_load_config(c);
	if (!status && argc - optind == 1) {
		p->ncats = __builtin_popcount(c->cfg.jobs.categories);
		ao.max_file = (size_t)c->cfg.import.max_file_mb << 20;
		snprintf(source, sizeof(source), "%s", argv[optind]);
		err_clear();
		rc = apps_read(argv[optind], &ao, &sink);
		if (rc) {
			log_err("%s", err_msg(rc));
			status = EXIT_FAIL;
		}
	} else if (!status) {
		status = plan_store(c, p, source, sizeof(source));
	}
	if (!status)
		plan_print(p, source, json);
	free(p);
	return status;
}

/* ---- clarify shards status ---------------------------------------------- */

struct shard_row {
	uint64_t by[JOB_STATE_COUNT];
	uint64_t jobs, bad;
	long writer;
	int unreadable;       /* the store would not open */
};

static int count_state(const char *key, size_t klen, json_t *v, int rc, void *arg)
{
	struct shard_row *r = arg;
	int st = rc || !jsonx_str(v, "state") ? -1 : job_state_parse(jsonx_str(v, "state"));

	(void)key;
	(void)klen;
	r->jobs++;
	if (st < 0)
		r->bad++;
	else
		r->by[st]++;
	return 0;
}

static uint64_t row_running(const struct shard_row *r)
{
	return r->by[JOB_MODIFY] + r->by[JOB_CLARIFY] + r->by[JOB_ANSWER];
}

static uint64_t row_ended(const struct shard_row *r)
{
	return r->by[JOB_DONE] + r->by[JOB_REJECTED] + r->by[JOB_FAILED];
}

/* finished: every job ended; running: a clarifyd holds the store; not
 * started: no job ended or taken yet; stopped: its task ended (or was
 * killed) before its jobs did. */
static const char *row_state(const struct shard_row *r)
{
	if (r->unreadable)
		return "unreadable";
	if (r->writer)
		return "running";
	if (row_ended(r) + r->bad == r->jobs)
		return "finished";
	return row_ended(r) || row_running(r) ? "stopped" : "not started";
}

/* A shard whose task must be (re)submitted. */
static int row_idle(const struct shard_row *r)
{
	return !r->writer && strcmp(row_state(r), "finished") != 0;
}

static int status_row(struct cli *c, const char *base, unsigned k, struct shard_row *r)
{
	struct store s;
	MDB_txn *txn;
	int rc;

	memset(r, 0, sizeof(*r));
	if (open_one(c, base, k, STORE_RDONLY, &s)) {
		r->unreadable = 1;
		return EXIT_FAIL;
	}
	r->writer = store_writer_pid(s.path);
	err_clear();
	rc = store_read_begin(&s, &txn);
	if (!rc) {
		rc = store_each(&s, txn, STORE_JOBS, "", count_state, r);
		store_read_end(txn);
	}
	store_close(&s);
	if (rc) {
		log_err("%s", err_msg(rc));
		r->unreadable = 1;
		return EXIT_FAIL;
	}
	return 0;
}

static json_t *row_json(const char *base, unsigned k, const struct shard_row *r)
{
	char dir[4096];

	if (shard_dir(dir, sizeof(dir), base, k))
		dir[0] = '\0';
	return json_pack("{s:I, s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:b, s:I}",
			 "index", (json_int_t)k, "path", dir, "state", row_state(r), "jobs",
			 (json_int_t)r->jobs, "pending", (json_int_t)r->by[JOB_PENDING],
			 "running", (json_int_t)row_running(r), "done",
			 (json_int_t)r->by[JOB_DONE], "rejected", (json_int_t)r->by[JOB_REJECTED],
			 "failed", (json_int_t)r->by[JOB_FAILED], "unreadable", (json_int_t)r->bad,
			 "ended", (json_int_t)row_ended(r), "finished",
			 !strcmp(row_state(r), "finished"), "writer_pid", (json_int_t)r->writer);
}

static void row_print(unsigned k, const struct shard_row *r)
{
	double pct = r->jobs ? 100.0 * (double)row_ended(r) / (double)r->jobs : 100.0;

	printf("%5u %8llu %8llu %8llu %8llu %8llu %8llu %6.1f%%  %s", k,
	       (unsigned long long)r->jobs, (unsigned long long)r->by[JOB_PENDING],
	       (unsigned long long)row_running(r), (unsigned long long)r->by[JOB_DONE],
	       (unsigned long long)r->by[JOB_REJECTED], (unsigned long long)r->by[JOB_FAILED],
	       pct, row_state(r));
	if (r->writer)
		printf(" (pid %ld)", r->writer);
	printf("\n");
}

static int shards_status(struct cli *c, int argc, char **argv)
{
	struct shard_row *rows;
	json_t *arr = NULL;
	uint64_t jobs = 0, ended = 0;
	unsigned n, k, finished = 0, running = 0, stopped = 0;
	int json = 0, status;
	const char *base;

	status = cli_json_opts("shards", argc, argv, usage, &json);
	if (status >= 0)
		return status;
	if (argc - optind != 1)
		return cli_usage_error("shards", "status takes one BASE folder");
	base = argv[optind];
	status = shards_count(c, base, &n);
	if (status)
		return status;
	rows = calloc(n, sizeof(*rows));
	if (!rows)
		return EXIT_FAIL;
	for (k = 0; k < n; k++) {
		if (status_row(c, base, k, &rows[k]))
			status = EXIT_FAIL;
		jobs += rows[k].jobs;
		ended += row_ended(&rows[k]);
		finished += !strcmp(row_state(&rows[k]), "finished");
		running += !strcmp(row_state(&rows[k]), "running");
		stopped += row_idle(&rows[k]);
	}
	if (json) {
		json_t *o;

		arr = json_array();
		for (k = 0; k < n; k++)
			json_array_append_new(arr, row_json(base, k, &rows[k]));
		o = json_pack("{s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:b, s:o}", "base", base,
			      "count", (json_int_t)n, "jobs", (json_int_t)jobs, "ended",
			      (json_int_t)ended, "finished_shards", (json_int_t)finished,
			      "running_shards", (json_int_t)running, "idle_shards",
			      (json_int_t)stopped, "finished", finished == n, "shards", arr);
		jsonx_print(stdout, o, 1);
		json_decref(o);
	} else {
		printf("%5s %8s %8s %8s %8s %8s %8s %7s  %s\n", "shard", "jobs", "pending",
		       "running", "done", "rejected", "failed", "ended", "state");
		for (k = 0; k < n; k++)
			row_print(k, &rows[k]);
		printf("\n%u shards: %u finished, %u running, %u unfinished with no clarifyd at "
		       "work; %llu of %llu jobs ended\n",
		       n, finished, running, stopped, (unsigned long long)ended,
		       (unsigned long long)jobs);
		if (stopped) {
			const char *sep = "";

			printf("(re)submit those only: sbatch --array=");
			for (k = 0; k < n; k++)
				if (row_idle(&rows[k])) {
					printf("%s%u", sep, k);
					sep = ",";
				}
			printf(" etc/clarifyd.sbatch (or scontrol requeue JOBID_K)\n");
		}
	}
	free(rows);
	return status;
}

int cmd_shards(struct cli *c, int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "plan"))
		return shards_plan(c, argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "status"))
		return shards_status(c, argc - 1, argv + 1);
	if (argc >= 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		usage(stdout);
		return EXIT_OK;
	}
	return cli_usage_error("shards", "expects plan or status");
}
