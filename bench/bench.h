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
#include <stdint.h>
#include <stdio.h>
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

#endif
