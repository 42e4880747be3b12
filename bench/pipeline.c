/*
 * bench/pipeline - clarifyd end to end against tests/fakellm: import,
 * the three stages, filters, scores and store, as `clarifyd --once` runs
 * them.
 *
 *   1. fakellm answers after a fixed 1 s, 512 requests in flight: requests/s
 *      in the steady state (from 10% to 90% of the requests, timed by
 *      fakellm's log of arrivals) over the limit in_flight / latency, the
 *      ratio judged (goal 0.95); in jobs, that limit is in_flight / (3 x
 *      latency) for a job that takes all three stages (a record rejected
 *      at stage 1 or 2 takes fewer, so jobs/s is also shown by the run's
 *      own requests per job); and the daemon's peak RSS (goal under 256 MB).
 *   2. fakellm answers at once: jobs/s end to end counting all three
 *      stages, fakellm on the same two cores (goal 2,000); three runs,
 *      each shown, judged by their median (the machine's neighbours make
 *      one run vary by 20%).
 *
 * The problems are the APPS statements of ../shared/data/apps-corpus (or
 * the project's own sample when that is missing), repeated under new ids.
 *
 * usage: bench/pipeline [BUILD_DIR]   (default build/release)
 *        BENCH_PROBLEMS=N1,N2 sets the problems of each run
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../common/common.h"
#include "bench.h"

#define GOAL_RATIO 0.95
#define GOAL_RSS_MB 256.0
#define GOAL_JOBS 2000.0
#define IN_FLIGHT 512
#define ZERO_RUNS 3

struct paths {
	char clarify[512], clarifyd[512], fakellm[512];
	char dir[256];
};

/* Requests/s in the steady state, at fakellm, from 10% to 90% of them. */
static double steady_rate(const struct paths *p)
{
	char path[320];

	snprintf(path, sizeof(path), "%s/fake.log", p->dir);
	return bench_steady_rate(path, NULL, NULL);
}

/*
 * fakellm at latency: a thread per connection, its log of arrivals kept,
 * when it holds requests for a time; at zero latency a pool of two
 * threads and no log, as a server that answers at once would run, so
 * that the two cores go to the pipeline rather than to 512 threads.
 */
static pid_t fake_start(const struct paths *p, const char *latency, int *port)
{
	char logfile[320];
	const char *at_once[] = { "--latency", latency, "--threads", "2", NULL };
	const char *held[] = { "--latency", latency, "--log", logfile, NULL };

	snprintf(logfile, sizeof(logfile), "%s/fake.log", p->dir);
	return bench_fakellm_start(p->fakellm, p->dir,
				   strcmp(latency, "fixed:0") == 0 ? at_once : held, port);
}

struct result {
	double seconds, rss_mb;
	double steady;          /* requests/s from 10% to 90% of them, at fakellm */
	struct bench_status st;
};

/* One run: a fresh store of n problems, fakellm at latency, clarifyd --once. */
static int bench_run(const struct paths *p, const char *corpus, int n, const char *latency,
		     struct result *res)
{
	char store[320], jsonl[320], cfg[320], log[320];
	struct rusage ru = { 0 };
	pid_t fake;
	FILE *f;
	double t0;
	int port, rc;

	snprintf(store, sizeof(store), "%s/store-%s", p->dir, latency);
	snprintf(jsonl, sizeof(jsonl), "%s/problems.jsonl", p->dir);
	snprintf(cfg, sizeof(cfg), "%s/clarifyd.yaml", p->dir);
	snprintf(log, sizeof(log), "%s/log", p->dir);
	if (bench_write_problems(corpus, jsonl, n))
		return -1;
	{
		char cmd[400];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", store); /* a fresh one each run */
		if (system(cmd) != 0)
			return -1;
	}
	{
		char *imp[] = { (char *)p->clarify, "-s", store, "import", "--split", "train", jsonl,
				NULL };
		char *lm[] = { (char *)p->clarify, "-s", store, "lm", "train", NULL };

		if (bench_exec(imp, NULL, log, NULL) || bench_exec(lm, NULL, log, NULL)) {
			fprintf(stderr, "bench/pipeline: import or lm train failed (see %s)\n", log);
			return -1;
		}
	}
	fake = fake_start(p, latency, &port);
	if (fake < 0)
		return -1;
	f = fopen(cfg, "w");
	if (!f)
		return -1;
	fprintf(f, "store:\n  batch_records: 512\nllm:\n  provider: openai\n"
		   "  base_url: http://127.0.0.1:%d/v1\n  model: bench\n  api_key_env: B_KEY\n"
		   "  max_in_flight: %d\n  request_timeout_s: 60\nlog:\n  level: warn\n"
		   "jobs:\n  stages: [modify, clarify, answer]\n"
		   "filters:\n  near_duplicate: %s\n",
		port, IN_FLIGHT, getenv("BENCH_NEAR_DUP") ? getenv("BENCH_NEAR_DUP") : "0.9");
	fclose(f);
	t0 = time_mono();
	{
		char *d[] = { (char *)p->clarifyd, "-c", cfg, "-s", store, "--once", NULL };

		rc = bench_exec(d, NULL, log, &ru);
	}
	res->seconds = time_mono() - t0;
	res->rss_mb = (double)ru.ru_maxrss / 1024.0;
	kill(fake, SIGTERM);
	waitpid(fake, NULL, 0);
	res->steady = steady_rate(p);
	if (rc) {
		fprintf(stderr, "bench/pipeline: clarifyd exited %d (see %s)\n", rc, log);
		return -1;
	}
	if (bench_store_status(p->clarify, store, p->dir, log, &res->st))
		return -1;
	return 0;
}

int main(int argc, char **argv)
{
	const char *build = argc > 1 ? argv[1] : "build/release";
	const char *corpus;
	const char *env = getenv("BENCH_PROBLEMS");
	int n1 = 1600, n2 = 3000;
	struct paths p;
	struct result a = { 0 }, b = { 0 };
	double limit, ratio, jps, rpj;
	int ok = 1;

	log_init("bench/pipeline", LOG_WARN);
	if (env && sscanf(env, "%d,%d", &n1, &n2) != 2) {
		fprintf(stderr, "bench/pipeline: BENCH_PROBLEMS must be N1,N2\n");
		return EXIT_FAILURE;
	}
	if (bench_setup("pipeline", build, p.clarify, p.clarifyd, p.fakellm, p.dir, &corpus))
		return EXIT_FAILURE;

	/* 1. 1 s latency, 512 in flight */
	if (bench_run(&p, corpus, n1, "fixed:1000", &a)) {
		fprintf(stderr, "bench/pipeline: the 1 s run failed\n");
		return EXIT_FAILURE;
	}
	limit = IN_FLIGHT / 1.0;
	jps = (double)a.st.ended / a.seconds;
	rpj = a.st.ended ? (double)a.st.requests / (double)a.st.ended : 3;
	ratio = a.steady / limit;
	printf("pipeline: latency 1 s, %d in flight, three stages: %lld jobs (%lld done, %lld "
	       "rejected, %lld failed, %lld requests, %.2f a job) in %.1f s = %.1f jobs/s\n",
	       IN_FLIGHT, a.st.ended, a.st.done, a.st.rejected, a.st.failed, a.st.requests, rpj,
	       a.seconds, jps);
	printf("pipeline: steady state (10%% to 90%% of the requests, as fakellm saw them "
	       "arrive): %.1f requests/s over the limit in_flight / latency = %.0f: ratio %.3f "
	       "(goal %.2f)\n", a.steady, limit, ratio, GOAL_RATIO);
	printf("pipeline: in jobs: %.1f jobs/s at the run's %.2f requests a job; a job of all "
	       "three stages is limited to in_flight / (3 x latency) = %.0f jobs/s: %.3f of it "
	       "at 3 requests a job\n", a.steady / rpj, rpj, limit / 3, a.steady / 3 / (limit / 3));
	printf("pipeline: (start to end, with the first and last second of filling and "
	       "draining: %.3f)\n", jps * rpj / limit);
	printf("pipeline: clarifyd peak RSS %.1f MB (goal under %.0f)\n", a.rss_mb, GOAL_RSS_MB);
	ok = ok && ratio >= GOAL_RATIO && a.rss_mb < GOAL_RSS_MB;

	/* 2. zero latency, ZERO_RUNS runs, the median judged */
	double runs[ZERO_RUNS];

	for (int i = 0; i < ZERO_RUNS; i++) {
		if (bench_run(&p, corpus, n2, "fixed:0", &b)) {
			fprintf(stderr, "bench/pipeline: the zero-latency run failed\n");
			return EXIT_FAILURE;
		}
		runs[i] = (double)b.st.ended / b.seconds;
		printf("pipeline: latency 0, three stages, run %d of %d: %lld jobs (%lld done, %lld "
		       "rejected, %lld failed, %lld requests) in %.2f s = %.0f jobs/s end to end, "
		       "peak RSS %.1f MB\n", i + 1, ZERO_RUNS, b.st.ended, b.st.done, b.st.rejected,
		       b.st.failed, b.st.requests, b.seconds, runs[i], b.rss_mb);
	}
	qsort(runs, ZERO_RUNS, sizeof(runs[0]), bench_cmp_double);
	jps = runs[ZERO_RUNS / 2];
	printf("pipeline: latency 0, three stages: median %.0f jobs/s end to end, start to end "
	       "(runs %.0f to %.0f), fakellm on the same machine (goal %.0f): ratio %.2f\n", jps,
	       runs[0], runs[ZERO_RUNS - 1], GOAL_JOBS, jps / GOAL_JOBS);
	ok = ok && jps >= GOAL_JOBS;
	{
		char cmd[400];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", p.dir);
		if (system(cmd) != 0)
			fprintf(stderr, "bench/pipeline: could not remove %s\n", p.dir);
	}
	return ok ? EXIT_SUCCESS : EXIT_FAILURE;
}
