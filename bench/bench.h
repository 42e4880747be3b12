/*
 * bench.h - what the benchmarks that run the real clarify binary share: a
 * deterministic PRNG for their generated data, running a child with its
 * output read as JSON and its time and peak RSS measured, and removing
 * their temporary tree.  Header-only: each bench is a program of its own.
 */
#ifndef CLARIFY_BENCH_H
#define CLARIFY_BENCH_H

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../common/common.h"

/* ---- a deterministic PRNG (splitmix64) ------------------------------------- */

struct rng {
	uint64_t s;
};

static inline uint64_t rng_next(struct rng *r)
{
	uint64_t z;

	r->s += UINT64_C(0x9e3779b97f4a7c15);
	z = r->s;
	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

/* Uniform in [lo, hi]. */
static inline int64_t rng_range(struct rng *r, int64_t lo, int64_t hi)
{
	return lo + (int64_t)(rng_next(r) % (uint64_t)(hi - lo + 1));
}

/* ---- running the binary ------------------------------------------------------ */

/*
 * Run argv[0] with argv, a clean environment (no system config) and
 * /dev/null for input; its standard output, parsed as JSON, into *out
 * (what names it in errors: `what`).  *seconds is the wall time from fork
 * to exit, *rss_mb the child's peak RSS.  A non-zero exit is an error.
 */
static inline int bench_run_json(char *const argv[], const char *what, double *seconds,
				 double *rss_mb, json_t **out)
{
	char *envp[] = { "CLARIFY_CONFIG=/dev/null", "PATH=/usr/bin:/bin", "LC_ALL=C", NULL };
	struct rusage ru;
	struct buf text;
	int fds[2], devnull, status, rc = 0;
	double t0;
	pid_t pid;

	*out = NULL;
	devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (devnull < 0)
		return err_set(CL_EIO, "cannot open '/dev/null': %s", strerror(errno));
	if (pipe2(fds, O_CLOEXEC) != 0) {
		close(devnull);
		return err_set(CL_EIO, "cannot make a pipe: %s", strerror(errno));
	}
	fflush(stdout);
	t0 = time_mono();
	pid = fork();
	if (pid < 0) {
		rc = err_set(CL_EIO, "cannot fork: %s", strerror(errno));
		close(fds[0]);
		close(fds[1]);
		close(devnull);
		return rc;
	}
	if (pid == 0) {
		if (dup2(devnull, STDIN_FILENO) < 0 || dup2(fds[1], STDOUT_FILENO) < 0)
			_exit(127);
		execve(argv[0], argv, envp);
		_exit(127);
	}
	close(fds[1]);
	close(devnull);
	buf_init(&text, 1 << 20);
	for (;;) {
		char chunk[4096];
		ssize_t n = read(fds[0], chunk, sizeof(chunk));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (!rc)
			rc = buf_add(&text, chunk, (size_t)n); /* keep draining past the cap */
	}
	close(fds[0]);
	while (wait4(pid, &status, 0, &ru) < 0) {
		if (errno != EINTR) {
			buf_release(&text);
			return err_set(CL_EIO, "cannot wait for '%s': %s", argv[0], strerror(errno));
		}
	}
	*seconds = time_mono() - t0;
	*rss_mb = (double)ru.ru_maxrss / 1024.0; /* Linux: KiB */
	if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
		rc = err_set(CL_EIO, "cannot run '%s' (exit status 127)", argv[0]);
	else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		rc = err_set(CL_EIO, "'%s' failed: %s %d", what,
			     WIFEXITED(status) ? "exit status" : "signal",
			     WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
	else if (rc)
		rc = err_set(rc, "output of '%s' is over %zu bytes", what, text.max);
	else if (!(*out = jsonx_parse(text.data ? text.data : "", text.len, what)))
		rc = CL_EPARSE;
	buf_release(&text);
	return rc;
}

/* ---- what a bench of the daemon starts from ------------------------------------ */

/*
 * The binaries of the build directory (clarify, clarifyd and
 * tests/fakellm/fakellm, into buffers of 512 bytes), the APPS statements
 * (../shared/data/apps-corpus, else the project's own sample) into *corpus
 * and a new temporary directory /tmp/bench-NAME.XXXXXX (a buffer of 256):
 * 0, or -1 with the reason on stderr.
 */
static inline int bench_setup(const char *name, const char *build, char *clarify,
			      char *clarifyd, char *fakellm, char *dir, const char **corpus)
{
	snprintf(clarify, 512, "%s/clarify", build);
	snprintf(clarifyd, 512, "%s/clarifyd", build);
	snprintf(fakellm, 512, "%s/tests/fakellm/fakellm", build);
	if (access(fakellm, X_OK) || access(clarifyd, X_OK) || access(clarify, X_OK)) {
		fprintf(stderr, "bench/%s: no %s, %s or %s (make test-bins)\n", name, fakellm,
			clarifyd, clarify);
		return -1;
	}
	*corpus = "../shared/data/apps-corpus/questions.jsonl";
	if (access(*corpus, R_OK))
		*corpus = "tests/data/apps-hf/train.jsonl";
	snprintf(dir, 256, "/tmp/bench-%s.XXXXXX", name);
	if (!mkdtemp(dir)) {
		fprintf(stderr, "bench/%s: cannot make %s: %s\n", name, dir, strerror(errno));
		return -1;
	}
	return 0;
}

/* ---- the temporary tree -------------------------------------------------------- */

static inline int bench_rm_entry(const char *path, const struct stat *st, int type,
				 struct FTW *ftw)
{
	(void)st;
	(void)type;
	(void)ftw;
	return remove(path) != 0 ? -1 : 0;
}

/* Remove root and everything under it; 0, or -1 with errno. */
static inline int bench_rm_tree(const char *root)
{
	return nftw(root, bench_rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* ---- children and generated problems --------------------------------------- */

/* Start argv with stdout to out (NULL: /dev/null) and stderr to a log,
 * without waiting: its pid, or -1.  The child has B_KEY=bench-key, the
 * benches' fakellm key, and no system config. */
static inline pid_t bench_spawn(char *const argv[], const char *out, const char *err)
{
	pid_t pid = fork();

	if (pid == 0) {
		int o = open(out ? out : "/dev/null", O_WRONLY | O_CREAT | O_TRUNC, 0644);
		int e = open(err ? err : "/dev/null", O_WRONLY | O_CREAT | O_APPEND, 0644);

		dup2(o, 1);
		dup2(e, 2);
		setenv("B_KEY", "bench-key", 1);
		setenv("CLARIFY_CONFIG", "/dev/null", 1);
		execv(argv[0], argv);
		_exit(127);
	}
	return pid;
}

/* Wait for a child of bench_spawn: its exit status, or -1 (a signal);
 * ru (may be NULL) gets its resource use. */
static inline int bench_wait(pid_t pid, struct rusage *ru)
{
	int status;

	while (wait4(pid, &status, 0, ru) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* Run argv as bench_spawn starts it and wait for it: the exit status,
 * or -1.  ru (may be NULL) gets the child's resource use. */
static inline int bench_exec(char *const argv[], const char *out, const char *err, struct rusage *ru)
{
	pid_t pid = bench_spawn(argv, out, err);

	return pid < 0 ? -1 : bench_wait(pid, ru);
}

/* ---- what a run did: the store's status, fakellm's log --------------------- */

struct bench_status {
	long long ended, done, rejected, failed, requests;
};

/* clarify status --json of store into *st (its output kept in dir, its
 * errors appended to log); 0 or -1 */
static inline int bench_store_status(const char *clarify, const char *store, const char *dir,
				     const char *log, struct bench_status *st)
{
	char out[320];
	struct buf b;
	json_t *v, *jobs;
	char *s[] = { (char *)clarify, "-s", (char *)store, "status", "--json", NULL };

	snprintf(out, sizeof(out), "%s/status.json", dir);
	if (bench_exec(s, out, log, NULL))
		return -1;
	buf_init(&b, 1 << 20);
	if (file_read(out, &b)) {
		buf_release(&b);
		return -1;
	}
	v = json_loadb(b.data, b.len, 0, NULL);
	buf_release(&b);
	if (!v)
		return -1;
	jobs = json_object_get(v, "jobs");
	st->done = json_integer_value(json_object_get(jobs, "done"));
	st->rejected = json_integer_value(json_object_get(jobs, "rejected"));
	st->failed = json_integer_value(json_object_get(jobs, "failed"));
	st->requests = json_integer_value(json_object_get(json_object_get(v, "daemon"),
							    "requests"));
	st->ended = st->done + st->rejected + st->failed;
	json_decref(v);
	return 0;
}

static inline int bench_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/*
 * Requests/s in the steady state, from fakellm's log of arrivals (--log):
 * from the request at 10% of them to the one at 90%, of those for model
 * (NULL: all).  *count (may be NULL) gets how many there were.  (A daemon
 * commits in batches, so a store shows progress in steps; the server
 * sees every request as it comes.)
 */
static inline double bench_steady_rate(const char *log, const char *model, size_t *count)
{
	char *line = NULL;
	double *t = NULL, rate = 0;
	size_t n = 0, cap = 0, lcap = 0;
	ssize_t len;
	FILE *f = fopen(log, "r");

	if (count)
		*count = 0;
	if (!f)
		return 0;
	while ((len = getline(&line, &lcap, f)) > 0) {
		json_t *v = json_loadb(line, (size_t)len, 0, NULL);
		const char *m = jsonx_str(v, "model");

		if (v && (!model || (m && strcmp(m, model) == 0)) &&
		    ARRAY_GROW(t, cap, n, 1024) == 0)
			t[n++] = json_number_value(json_object_get(v, "t"));
		json_decref(v);
	}
	free(line);
	fclose(f);
	if (n >= 20) {
		size_t a = n / 10, b = n * 9 / 10;

		qsort(t, n, sizeof(*t), bench_cmp_double);
		if (t[b] > t[a])
			rate = (double)(b - a) / (t[b] - t[a]);
	}
	if (count)
		*count = n;
	free(t);
	return rate;
}

/* n problems, as HF JSONL, from the statements of the corpus, each made
 * unique by "(Set i.)" so that no prompt is another's: 0 or -1 */
static inline int bench_write_problems(const char *corpus, const char *path, int n)
{
	FILE *in = fopen(corpus, "r"), *out;
	char **text = NULL, *line = NULL;
	size_t ntext = 0, cap = 0, lcap = 0;
	ssize_t len;

	if (!in)
		return -1;
	while ((len = getline(&line, &lcap, in)) > 0) {
		json_t *v = json_loadb(line, (size_t)len, 0, NULL);
		const char *q = jsonx_str(v, "question");

		if (q && ARRAY_GROW(text, cap, ntext, 64) == 0)
			text[ntext++] = strdup(q);
		json_decref(v);
	}
	free(line);
	fclose(in);
	out = fopen(path, "w");
	if (!out || !ntext) {
		if (out)
			fclose(out);
		for (size_t i = 0; i < ntext; i++)
			free(text[i]);
		free(text);
		return -1;
	}
	for (int i = 0; i < n; i++) {
		/* each problem's own text, so that no prompt is another's and
		 * the response cache answers none of them */
		char *q = NULL;
		json_t *rec;

		if (asprintf(&q, "%s\n\n(Set %d.)", text[(size_t)i % ntext], i) < 0)
			break;
		rec = json_pack("{s:i, s:s, s:s, s:s, s:s, s:s, s:s}", "problem_id", i,
					"question", q, "solutions",
					"[\"print(int(input()) * 2)\"]", "input_output",
					"{\"inputs\": [\"1\\n\"], \"outputs\": [\"2\\n\"]}",
					"difficulty", "interview", "url", "", "starter_code", "");
		char *s = json_dumps(rec, JSON_COMPACT);

		fprintf(out, "%s\n", s);
		free(s);
		free(q);
		json_decref(rec);
	}
	fclose(out);
	for (size_t i = 0; i < ntext; i++)
		free(text[i]);
	free(text);
	return 0;
}

/*
 * tests/fakellm with the benches' key and extra arguments (NULL-ended,
 * at most 12), its port file in dir, its output to /dev/null: its pid with
 * *port once it listens, or -1 (it is killed when it does not start).
 */
static inline pid_t bench_fakellm_start(const char *fakellm, const char *dir,
					 const char *const extra[], int *port)
{
	char portfile[320];
	const char *argv[20] = { fakellm, "--port-file", portfile, "--key", "bench-key" };
	size_t n = 5;
	pid_t pid;

	for (size_t i = 0; extra && extra[i] && n < 18; i++)
		argv[n++] = extra[i];
	argv[n] = NULL;
	snprintf(portfile, sizeof(portfile), "%s/port", dir);
	unlink(portfile);
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);

		dup2(null, 1);
		dup2(null, 2);
		execv(fakellm, (char *const *)argv);
		_exit(127);
	}
	for (int i = 0; i < 400; i++) {
		struct buf b;

		buf_init(&b, 64);
		if (file_read(portfile, &b) == 0 && b.len) {
			*port = atoi(b.data);
			buf_release(&b);
			return pid;
		}
		buf_release(&b);
		usleep(25000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	return -1;
}

#endif
