/*
 * bench/batch - llm.mode batch end to end against tests/fakellm's Files and
 * Batches endpoints: reading the output of stage 2's batches into records.
 *
 * Enough problems for LINES jobs (default 100,000; three jobs a problem,
 * one per category) go through stage 1 (modify) as batches of
 * at most 50,000 requests (OpenAI's limit for one batch, and the default
 * llm.batch_max_requests) and of at most 190 MB; fakellm holds stage 2's batches
 * (--batch-hold) and the run that wrote them is stopped once they are all
 * submitted (the store's live batches hold every pending job).  When fakellm has completed them, a second `clarifyd --once` is
 * timed from fork to exit: it resumes the batches, downloads their output
 * files, reads every line into the response cache, and runs each reply
 * through the same parse, filters, scores and commits as an online one.
 * Judged: the lines of stage 2's output over that run's wall time, in
 * records/s (goal 2,000 on the 2-core machine), and its peak RSS (goal
 * under 256 MB).  fakellm runs on the same two cores.
 *
 * usage: bench/batch [BUILD_DIR]   (default build/release)
 *        BENCH_BATCH_LINES=N sets the jobs, so stage 2's lines (default 100000)
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../common/common.h"
#include "bench.h"

#define GOAL_RPS 2000.0
#define GOAL_RSS_MB 256.0
#define BATCH_SECONDS 2.0

struct paths {
	char clarify[512], clarifyd[512], fakellm[512];
	char dir[256], store[320], cfg[320], log[320], hold[320];
};

/* What a run's log says about the batches of a stage. */
struct seen {
	long long gathered[2], submitted[2], answered[2];
	int held;              /* stopped with every pending job in a live batch */
	int clarify_submitted; /* the line just seen submitted a batch of stage 2 */
};

static int stage_of(const char *line)
{
	return strstr(line, "-modify-") ? 0 : strstr(line, "-clarify-") ? 1 : -1;
}

/* One line of clarifyd's log into s. */
static void see(struct seen *s, const char *line)
{
	const char *p;
	int k = stage_of(line);

	if (k >= 0 && (p = strstr(line, " requests of stage ")) && strstr(line, " gathered")) {
		while (p > line && p[-1] >= '0' && p[-1] <= '9')
			p--;
		s->gathered[k] += atoll(p);
	}
	else if (k >= 0 && strstr(line, ": submitted as "))
		s->submitted[k]++, s->clarify_submitted = k == 1;
	else if (k >= 0 && (p = strstr(line, "): in, ")))
		s->answered[k] += atoll(p + 7);
}

static pid_t fake_start(const struct paths *p, int *port)
{
	char secs[32];
	const char *extra[] = { "--batch-seconds", secs, "--batch-hold", p->hold, NULL };

	snprintf(secs, sizeof(secs), "%.1f", BATCH_SECONDS);
	return bench_fakellm_start(p->fakellm, p->dir, extra, port);
}

/* jobs.done, rejected, failed, pending of the store, and the requests its live
 * batches hold */
static int status_of(const struct paths *p, long long out[5])
{
	char *argv[] = { (char *)p->clarify, "-s", (char *)p->store, "status", "--json", NULL };
	static const char *const names[] = { "done", "rejected", "failed", "pending" };
	double secs, rss;
	json_t *st, *jobs;

	if (bench_run_json(argv, "clarify status", &secs, &rss, &st))
		return -1;
	jobs = json_object_get(st, "jobs");
	for (int i = 0; i < 4; i++)
		out[i] = json_integer_value(json_object_get(jobs, names[i]));
	out[4] = json_integer_value(json_object_get(json_object_get(st, "batches"), "requests"));
	json_decref(st);
	return 0;
}

/*
 * clarifyd --once with its log read line by line (and kept in p->log).
 * stop_when_held: SIGTERM once stage 2's batches are submitted: when a
 * batch of stage 2 is, and the store's live batches hold every pending
 * job.  *seconds from fork to exit, *rss_mb its peak.
 */
static int daemon_run(const struct paths *p, int stop_when_held, struct seen *s,
		      double *seconds, double *rss_mb)
{
	char *argv[] = { (char *)p->clarifyd, "-c", (char *)p->cfg, "-s", (char *)p->store,
			 "--once", "--no-progress", NULL };
	struct rusage ru;
	FILE *in, *log;
	char *line = NULL;
	size_t cap = 0;
	int fds[2], status, termed = 0;
	double t0;
	pid_t pid;

	memset(s, 0, sizeof(*s));
	if (pipe(fds))
		return -1;
	t0 = time_mono();
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);

		dup2(null, 0);
		dup2(null, 1);
		dup2(fds[1], 2);
		close(fds[0]);
		setenv("B_KEY", "bench-key", 1);
		setenv("CLARIFY_CONFIG", "/dev/null", 1);
		execv(argv[0], argv);
		_exit(127);
	}
	close(fds[1]);
	in = fdopen(fds[0], "r");
	log = fopen(p->log, "a");
	while (in && getline(&line, &cap, in) > 0) {
		if (log)
			fputs(line, log);
		s->clarify_submitted = 0;
		see(s, line);
		if (stop_when_held && s->gathered[1] && access(p->hold, F_OK)) {
			/* fakellm holds the batches of stage 2 from now on */
			int fd = open(p->hold, O_WRONLY | O_CREAT, 0644);

			if (fd >= 0)
				close(fd);
		}
		if (stop_when_held && s->clarify_submitted && !termed) {
			long long st[5];

			if (status_of(p, st) == 0 && st[3] > 0 && st[3] == st[4]) {
				kill(pid, SIGTERM);
				termed = s->held = 1;
			}
		}
	}
	free(line);
	if (in)
		fclose(in);
	if (log)
		fclose(log);
	if (wait4(pid, &status, 0, &ru) < 0)
		return -1;
	*seconds = time_mono() - t0;
	*rss_mb = (double)ru.ru_maxrss / 1024.0;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "bench/batch: clarifyd exited %d (see %s)\n",
			WIFEXITED(status) ? WEXITSTATUS(status) : -1, p->log);
		return -1;
	}
	return 0;
}


int main(int argc, char **argv)
{
	const char *build = argc > 1 ? argv[1] : "build/release";
	const char *corpus;
	const char *env = getenv("BENCH_BATCH_LINES");
	int lines = env ? atoi(env) : 100000, n = (lines + 2) / 3;
	struct paths p;
	struct seen s1, s2;
	long long st[5];
	double t1, rss1, t2, rss2, rps;
	char jsonl[320];
	pid_t fake;
	int port, ok;
	FILE *f;

	log_init("bench/batch", LOG_WARN);
	if (lines < 1) {
		fprintf(stderr, "bench/batch: BENCH_BATCH_LINES must be a positive count\n");
		return EXIT_FAILURE;
	}
	if (bench_setup("batch", build, p.clarify, p.clarifyd, p.fakellm, p.dir, &corpus))
		return EXIT_FAILURE;
	snprintf(p.store, sizeof(p.store), "%s/store", p.dir);
	snprintf(p.cfg, sizeof(p.cfg), "%s/clarifyd.yaml", p.dir);
	snprintf(p.log, sizeof(p.log), "%s/log", p.dir);
	snprintf(p.hold, sizeof(p.hold), "%s/hold", p.dir);
	snprintf(jsonl, sizeof(jsonl), "%s/problems.jsonl", p.dir);

	if (bench_write_problems(corpus, jsonl, n)) {
		fprintf(stderr, "bench/batch: cannot write the problems from %s\n", corpus);
		return EXIT_FAILURE;
	}
	{
		char *imp[] = { p.clarify, "-s", p.store, "import", "--split", "train", jsonl, NULL };
		char *lm[] = { p.clarify, "-s", p.store, "lm", "train", NULL };

		if (bench_exec(imp, NULL, p.log, NULL) || bench_exec(lm, NULL, p.log, NULL)) {
			fprintf(stderr, "bench/batch: import or lm train failed (see %s)\n", p.log);
			return EXIT_FAILURE;
		}
	}
	fake = fake_start(&p, &port);
	if (fake < 0) {
		fprintf(stderr, "bench/batch: fakellm did not start\n");
		return EXIT_FAILURE;
	}
	f = fopen(p.cfg, "w");
	if (!f)
		return EXIT_FAILURE;
	fprintf(f, "store:\n  batch_records: 512\nllm:\n  provider: openai\n"
		   "  base_url: http://127.0.0.1:%d/v1\n  model: bench\n  api_key_env: B_KEY\n"
		   "  mode: batch\n  batch_poll_s: 0.2\n  request_timeout_s: 600\n"
		   "jobs:\n  stages: [modify, clarify]\n",
		port);
	fclose(f);

	/* stage 1 through batches, stage 2 written and submitted */
	if (daemon_run(&p, 1, &s1, &t1, &rss1)) {
		kill(fake, SIGTERM);
		return EXIT_FAILURE;
	}
	printf("batch: %d problems; stage 1 (modify): %lld requests in batches, %lld lines "
	       "answered; stage 2 (clarify): %lld requests gathered, %lld batches submitted; "
	       "%.1f s, peak RSS %.1f MB\n", n, s1.gathered[0], s1.answered[0], s1.gathered[1],
	       s1.submitted[1], t1, rss1);
	if (!s1.held) {
		fprintf(stderr, "bench/batch: the first run ended before stage 2's batches were "
				"submitted (see %s)\n", p.log);
		kill(fake, SIGTERM);
		return EXIT_FAILURE;
	}
	unlink(p.hold); /* fakellm completes them */
	usleep((useconds_t)(BATCH_SECONDS * 1e6));

	/* the measured run: stage 2's output read into records */
	if (daemon_run(&p, 0, &s2, &t2, &rss2)) {
		kill(fake, SIGTERM);
		return EXIT_FAILURE;
	}
	kill(fake, SIGTERM);
	waitpid(fake, NULL, 0);
	if (status_of(&p, st))
		return EXIT_FAILURE;
	rps = (double)s2.answered[1] / t2;
	printf("batch: stage 2's output: %lld lines read into records (jobs now %lld done, "
	       "%lld rejected, %lld failed, %lld pending) in %.2f s from fork to exit = "
	       "%.0f records/s (goal %.0f): ratio %.2f\n", s2.answered[1], st[0], st[1], st[2],
	       st[3], t2, rps, GOAL_RPS, rps / GOAL_RPS);
	printf("batch: clarifyd peak RSS while reading %.1f MB (goal under %.0f): ratio %.2f\n",
	       rss2, GOAL_RSS_MB, rss2 / GOAL_RSS_MB);
	ok = rps >= GOAL_RPS && rss2 < GOAL_RSS_MB && st[3] == 0 &&
	     s2.answered[1] == s1.gathered[1];
	if (s2.answered[1] != s1.gathered[1])
		fprintf(stderr, "bench/batch: %lld lines answered of %lld requests gathered\n",
			s2.answered[1], s1.gathered[1]);
	if (ok)
		bench_rm_tree(p.dir);
	else
		fprintf(stderr, "bench/batch: its files are left in %s\n", p.dir);
	printf("batch: %s\n", ok ? "goals met" : "GOALS NOT MET");
	return ok ? EXIT_SUCCESS : EXIT_FAILURE;
}
