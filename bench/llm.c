/*
 * bench/llm - the LLM client's throughput against tests/fakellm.
 *
 *   1. fakellm answers after a fixed 1 s; 256 requests in flight: the
 *      achieved requests/s over the limit in_flight / latency (goal 0.95).
 *   2. fakellm answers at once: requests/s, client and server on this
 *      machine (goal 5,000).
 *   3. 1,024 in flight at 1 s: the client's peak RSS (goal < 128 MB).
 *
 * usage: bench/llm [FAKELLM]   (default build/release/tests/fakellm/fakellm)
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../llm/llm.h"

struct fake {
	pid_t pid;
	int port;
};

static int fake_start(struct fake *f, const char *bin, const char *latency)
{
	char portfile[] = "/tmp/bench-llm-port.XXXXXX";
	int fd = mkstemp(portfile);

	if (fd < 0)
		return -1;
	close(fd);
	unlink(portfile);
	f->pid = fork();
	if (f->pid < 0)
		return -1;
	if (f->pid == 0) {
		int null = open("/dev/null", O_WRONLY);

		dup2(null, 1);
		execl(bin, bin, "--port-file", portfile, "--latency", latency, (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 200; i++) {
		struct buf b;

		buf_init(&b, 64);
		if (file_read(portfile, &b) == 0 && b.len) {
			f->port = atoi(b.data);
			buf_release(&b);
			unlink(portfile);
			return 0;
		}
		buf_release(&b);
		usleep(25000);
	}
	kill(f->pid, SIGKILL);
	return -1;
}

static void fake_stop(struct fake *f)
{
	kill(f->pid, SIGTERM);
	waitpid(f->pid, NULL, 0);
}

/* n requests through a client with cap in flight; seconds, or -1 */
static double run(int port, int cap, int n, int *failed)
{
	struct llm_options o;
	struct llm_client *c;
	struct llm_request *reqs = calloc((size_t)n, sizeof(*reqs));
	char url[64];
	double t0, t;

	llm_options_init(&o);
	o.provider = LLM_OPENAI;
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/v1", port);
	o.base_url = strdup(url);
	o.model = strdup("bench");
	o.api_key = strdup("bench-key");
	o.max_in_flight = cap;
	o.request_timeout = 60;
	if (!reqs || llm_client_new(&c, &o) != 0) {
		llm_options_release(&o);
		free(reqs);
		return -1;
	}
	llm_options_release(&o);
	for (int i = 0; i < n; i++) {
		reqs[i].system = "You rewrite programming problems.";
		reqs[i].user = "Given n, print the sum 1 + 2 + ... + n.\n1 <= n <= 100";
		reqs[i].temperature = -1;
		reqs[i].top_p = -1;
		reqs[i].seed = -1;
	}
	*failed = 0;
	t0 = time_mono();
	for (int i = 0; i < n; i++)
		llm_submit(c, &reqs[i]);
	while (llm_outstanding(c)) {
		struct llm_request *r = llm_wait(c, -1);

		if (!r)
			break;
		*failed += r->status != LLM_OK;
		llm_request_release(r);
	}
	t = time_mono() - t0;
	llm_client_free(c);
	free(reqs);
	return t;
}

int main(int argc, char **argv)
{
	const char *bin = argc > 1 ? argv[1] : "build/release/tests/fakellm/fakellm";
	struct rlimit rl;
	struct rusage ru;
	struct fake f;
	double t, rate, ratio, rss;
	int failed, ok = 1;

	log_init("bench/llm", LOG_WARN);
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}

	/* 1. 256 in flight at 1 s */
	if (fake_start(&f, bin, "fixed:1000")) {
		fprintf(stderr, "bench/llm: cannot start '%s'\n", bin);
		return EXIT_FAILURE;
	}
	t = run(f.port, 256, 256 * 8, &failed);
	rate = 256 * 8 / t;
	ratio = rate / (256 / 1.0);
	printf("latency 1 s, 256 in flight: %d requests in %.2f s = %.1f requests/s, "
	       "limit 256/s: ratio %.3f (goal >= 0.95)%s\n", 256 * 8, t, rate, ratio,
	       failed ? " FAILURES" : "");
	ok &= ratio >= 0.95 && !failed;

	/* 3. 1,024 in flight: the client's memory */
	t = run(f.port, 1024, 1024 * 3, &failed);
	getrusage(RUSAGE_SELF, &ru);
	rss = ru.ru_maxrss / 1024.0;
	printf("latency 1 s, 1024 in flight: %d requests in %.2f s; client peak RSS %.1f MB "
	       "(goal < 128 MB): ratio %.2f of the cap%s\n", 1024 * 3, t, rss, rss / 128,
	       failed ? " FAILURES" : "");
	ok &= rss < 128 && !failed;
	fake_stop(&f);

	/* 2. zero latency */
	if (fake_start(&f, bin, "fixed:0")) {
		fprintf(stderr, "bench/llm: cannot start '%s'\n", bin);
		return EXIT_FAILURE;
	}
	t = run(f.port, 64, 50000, &failed);
	rate = 50000 / t;
	printf("latency 0, 64 in flight: 50000 requests in %.2f s = %.0f requests/s "
	       "(goal >= 5000): ratio %.2f of the goal%s\n", t, rate, rate / 5000,
	       failed ? " FAILURES" : "");
	ok &= rate >= 5000 && !failed;
	fake_stop(&f);
	printf("%s\n", ok ? "goals met" : "GOALS NOT MET");
	return ok ? EXIT_SUCCESS : EXIT_FAILURE;
}
