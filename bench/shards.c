/*
 * bench/shards - four clarifyd shards of one run against one tests/fakellm:
 * whether the shards share anything that holds them back.
 *
 * The problems are imported as four stores, BASE/shard-0 ... shard-3
 * (clarify import --shards 4 --out BASE).  fakellm answers after a fixed
 * 1 s; the four `clarifyd -c CFG -s BASE/shard-K --shard K/4 --once` run
 * at once, each 128 requests in flight, the stages modify and clarify (two
 * requests a job), no rate limits.  Four shards that contend on nothing
 * make 4 x 128 / (2 x 1 s) = 256 jobs/s in all; the goal is 0.9 of it,
 * 230.4 jobs/s.  Measured:
 *
 *   - jobs/s in all in the steady state: requests/s from 10% to 90% of
 *     them, timed by fakellm's log of arrivals, over 2 requests a job
 *     (also shown at the run's own requests a job, as a record rejected
 *     at stage 1 takes one); the ratio to the goal is what is judged;
 *   - jobs/s start to end: the jobs that ended over the time from the
 *     start of the first shard to the exit of the last;
 *   - each shard's own steady rate (its requests, told apart by the model
 *     name each shard asks for), which alone should be near 128 / 2 =
 *     64 jobs/s, and its jobs, time and peak RSS;
 *   - the CPU time of the shards and of fakellm over the run's wall time
 *     (two cores), to tell when the machine rather than the shards is the
 *     bound.
 *
 * The problems are the APPS statements of ../shared/data/apps-corpus (or
 * the project's own sample when that is missing), repeated under new ids.
 * It exits non-zero on an error only; a goal missed is printed as such.
 *
 * usage: bench/shards [BUILD_DIR]   (default build/release)
 *        BENCH_PROBLEMS=N sets the problems in all (default 2000: three jobs each)
 *        BENCH_KEEP=1 keeps the temporary directory
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

#define SHARDS 4
#define IN_FLIGHT 128 /* a shard's */
#define STAGES 2      /* requests a job that passes both */
#define LATENCY_S 1.0
#define GOAL_SHARE 0.9

struct paths {
	char clarify[512], clarifyd[512], fakellm[512];
	char dir[256], base[300], log[320], fakelog[320];
};

struct shard {
	char store[320], cfg[320], model[32];
	pid_t pid;
	double seconds, rss_mb, cpu_s;
	double steady;          /* its requests/s from 10% to 90% of them */
	size_t requests_seen;   /* at fakellm */
	struct bench_status st;
};

static double ru_cpu(const struct rusage *ru)
{
	return (double)ru->ru_utime.tv_sec + (double)ru->ru_utime.tv_usec * 1e-6 +
	       (double)ru->ru_stime.tv_sec + (double)ru->ru_stime.tv_usec * 1e-6;
}

/* The four stores of n problems by import --shards, and each one's LM
 * trained; 0 or -1. */
static int make_stores(const struct paths *p, const char *corpus, int n, struct shard *sh)
{
	char jsonl[320], count[16];
	char *imp[] = { (char *)p->clarify, "import", jsonl, "--shards", count, "--out",
			(char *)p->base, "--split", "train", NULL };

	snprintf(jsonl, sizeof(jsonl), "%s/problems.jsonl", p->dir);
	snprintf(count, sizeof(count), "%d", SHARDS);
	if (bench_write_problems(corpus, jsonl, n))
		return -1;
	if (bench_exec(imp, NULL, p->log, NULL)) {
		fprintf(stderr, "bench/shards: import --shards failed (see %s)\n", p->log);
		return -1;
	}
	for (int k = 0; k < SHARDS; k++) {
		char *lm[] = { (char *)p->clarify, "-s", sh[k].store, "lm", "train", NULL };

		if (bench_exec(lm, NULL, p->log, NULL)) {
			fprintf(stderr, "bench/shards: lm train of %s failed (see %s)\n", sh[k].store,
				p->log);
			return -1;
		}
	}
	return 0;
}

/* Shard k's config: its own model name, so that fakellm's log tells its
 * requests apart. */
static int write_config(const struct shard *s, int port)
{
	FILE *f = fopen(s->cfg, "w");

	if (!f)
		return -1;
	fprintf(f, "store:\n  batch_records: 512\nllm:\n  provider: openai\n"
		   "  base_url: http://127.0.0.1:%d/v1\n  model: %s\n  api_key_env: B_KEY\n"
		   "  max_in_flight: %d\n  request_timeout_s: 60\n"
		   "  requests_per_min: 0\n  tokens_per_min: 0\nlog:\n  level: warn\n"
		   "jobs:\n  stages: [modify, clarify]\n",
		port, s->model, IN_FLIGHT);
	return fclose(f) == 0 ? 0 : -1;
}

/*
 * The four shards at once: each one's time, peak RSS and CPU time into
 * sh, the time from the first start to the last exit into *wall; 0, or -1
 * when one could not start or did not exit 0 (the others are killed).
 */
static int run_shards(const struct paths *p, struct shard *sh, pid_t fake, double *wall)
{
	char spec[SHARDS][16];
	double t0 = time_mono();
	int left = 0, rc = 0;

	for (int k = 0; k < SHARDS; k++) {
		char *d[] = { (char *)p->clarifyd, "-c", sh[k].cfg, "-s", sh[k].store, "--shard",
			      spec[k], "--once", NULL };

		snprintf(spec[k], sizeof(spec[k]), "%d/%d", k, SHARDS);
		sh[k].pid = bench_spawn(d, NULL, p->log);
		if (sh[k].pid < 0) {
			fprintf(stderr, "bench/shards: cannot fork: %s\n", strerror(errno));
			rc = -1;
			break;
		}
		left++;
	}
	while (left > 0) {
		struct rusage ru;
		int status, k;
		pid_t pid = wait4(-1, &status, 0, &ru);

		if (pid < 0) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "bench/shards: wait: %s\n", strerror(errno));
			return -1;
		}
		if (pid == fake) {
			fprintf(stderr, "bench/shards: fakellm exited during the run\n");
			rc = -1;
			continue;
		}
		for (k = 0; k < SHARDS && sh[k].pid != pid; k++)
			;
		if (k == SHARDS)
			continue;
		left--;
		sh[k].pid = -1;
		sh[k].seconds = time_mono() - t0;
		sh[k].rss_mb = (double)ru.ru_maxrss / 1024.0;
		sh[k].cpu_s = ru_cpu(&ru);
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
			fprintf(stderr, "bench/shards: clarifyd --shard %d/%d: %s %d (see %s)\n", k,
				SHARDS, WIFEXITED(status) ? "exit status" : "signal",
				WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status), p->log);
			rc = -1;
		}
		if (rc) /* no waiting for the others */
			for (int j = 0; j < SHARDS; j++)
				if (sh[j].pid > 0)
					kill(sh[j].pid, SIGKILL);
	}
	*wall = time_mono() - t0;
	return rc;
}

int main(int argc, char **argv)
{
	const char *build = argc > 1 ? argv[1] : "build/release";
	const char *corpus;
	const char *env = getenv("BENCH_PROBLEMS");
	const char *fake_args[7];
	struct shard sh[SHARDS];
	struct bench_status all = { 0 };
	struct rusage fake_ru = { 0 };
	struct paths p;
	double wall = 0, steady, goal, ideal, rpj, shard_cpu = 0, max_rss = 0;
	int n = 2000, port, rc;
	pid_t fake;

	log_init("bench/shards", LOG_WARN);
	if (env && (n = atoi(env)) < 100) {
		fprintf(stderr, "bench/shards: BENCH_PROBLEMS must be 100 or more\n");
		return EXIT_FAILURE;
	}
	if (bench_setup("shards", build, p.clarify, p.clarifyd, p.fakellm, p.dir, &corpus))
		return EXIT_FAILURE;
	snprintf(p.base, sizeof(p.base), "%s/base", p.dir);
	snprintf(p.log, sizeof(p.log), "%s/log", p.dir);
	snprintf(p.fakelog, sizeof(p.fakelog), "%s/fake.log", p.dir);
	memset(sh, 0, sizeof(sh));
	for (int k = 0; k < SHARDS; k++) {
		snprintf(sh[k].store, sizeof(sh[k].store), "%s/shard-%d", p.base, k);
		snprintf(sh[k].cfg, sizeof(sh[k].cfg), "%s/clarifyd-%d.yaml", p.dir, k);
		snprintf(sh[k].model, sizeof(sh[k].model), "bench-shard-%d", k);
	}
	if (make_stores(&p, corpus, n, sh))
		return EXIT_FAILURE;

	fake_args[0] = "--latency";
	fake_args[1] = "fixed:1000";
	fake_args[2] = "--log";
	fake_args[3] = p.fakelog;
	fake_args[4] = NULL;
	fake = bench_fakellm_start(p.fakellm, p.dir, fake_args, &port);
	if (fake < 0) {
		fprintf(stderr, "bench/shards: fakellm did not start\n");
		return EXIT_FAILURE;
	}
	for (int k = 0; k < SHARDS; k++)
		if (write_config(&sh[k], port)) {
			fprintf(stderr, "bench/shards: cannot write %s\n", sh[k].cfg);
			kill(fake, SIGKILL);
			return EXIT_FAILURE;
		}
	rc = run_shards(&p, sh, fake, &wall);
	kill(fake, SIGTERM);
	wait4(fake, NULL, 0, &fake_ru);
	if (rc)
		return EXIT_FAILURE;
	for (int k = 0; k < SHARDS; k++) {
		if (bench_store_status(p.clarify, sh[k].store, p.dir, p.log, &sh[k].st)) {
			fprintf(stderr, "bench/shards: status of %s failed (see %s)\n", sh[k].store,
				p.log);
			return EXIT_FAILURE;
		}
		sh[k].steady = bench_steady_rate(p.fakelog, sh[k].model, &sh[k].requests_seen);
		all.ended += sh[k].st.ended;
		all.done += sh[k].st.done;
		all.rejected += sh[k].st.rejected;
		all.failed += sh[k].st.failed;
		all.requests += sh[k].st.requests;
		shard_cpu += sh[k].cpu_s;
		if (sh[k].rss_mb > max_rss)
			max_rss = sh[k].rss_mb;
	}
	steady = bench_steady_rate(p.fakelog, NULL, NULL);
	rpj = all.ended ? (double)all.requests / (double)all.ended : STAGES;
	ideal = SHARDS * IN_FLIGHT / (STAGES * LATENCY_S);
	goal = GOAL_SHARE * ideal;

	printf("shards: %d shards of %d problems (import --shards) x %d in flight, fakellm at "
	       "%.0f s, two stages\n", SHARDS, n, IN_FLIGHT, LATENCY_S);
	for (int k = 0; k < SHARDS; k++)
		printf("shards: shard %d/%d: %lld jobs (%lld done, %lld rejected, %lld failed, %lld "
		       "requests) in %.1f s; steady %.1f requests/s = %.1f jobs/s (alone it is "
		       "limited to %d / (2 x 1 s) = %.0f); peak RSS %.1f MB, CPU %.1f s\n", k,
		       SHARDS, sh[k].st.ended, sh[k].st.done, sh[k].st.rejected, sh[k].st.failed,
		       sh[k].st.requests, sh[k].seconds, sh[k].steady, sh[k].steady / STAGES,
		       IN_FLIGHT, IN_FLIGHT / (STAGES * LATENCY_S), sh[k].rss_mb, sh[k].cpu_s);
	printf("shards: in all: %lld jobs (%lld done, %lld rejected, %lld failed, %lld requests, "
	       "%.2f a job) in %.1f s from the first start to the last exit = %.1f jobs/s\n",
	       all.ended, all.done, all.rejected, all.failed, all.requests, rpj, wall,
	       (double)all.ended / wall);
	printf("shards: CPU: the four clarifyd %.1f s, fakellm %.1f s, of 2 cores x %.1f s "
	       "(%.0f%% busy)\n", shard_cpu, ru_cpu(&fake_ru), wall,
	       100.0 * (shard_cpu + ru_cpu(&fake_ru)) / (2.0 * wall));
	printf("shards: steady state (10%% to 90%% of the requests, as fakellm saw them arrive): "
	       "%.1f requests/s = %.1f jobs/s at 2 requests a job (%.1f at the run's %.2f); "
	       "%.3f of the limit %d x %d / (2 x 1 s) = %.0f\n", steady, steady / STAGES,
	       steady / rpj, rpj, steady / STAGES / ideal, SHARDS, IN_FLIGHT, ideal);
	printf("shards: %.1f jobs/s over the goal %.1f x %d x %d / (2 x 1 s) = %.1f jobs/s: "
	       "ratio %.3f (goal 1); peak RSS at most %.1f MB a shard\n", steady / STAGES,
	       GOAL_SHARE, SHARDS, IN_FLIGHT, goal, steady / STAGES / goal, max_rss);
	printf("shards: %s\n", steady / STAGES >= goal ? "goals met" : "GOALS NOT MET");
	if (!getenv("BENCH_KEEP") && bench_rm_tree(p.dir) != 0)
		fprintf(stderr, "bench/shards: could not remove %s\n", p.dir);
	else if (getenv("BENCH_KEEP"))
		printf("shards: kept %s\n", p.dir);
	return steady / STAGES >= goal ? EXIT_SUCCESS : EXIT_FAILURE;
}
