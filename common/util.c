/* util.c - time, files and strict number parsing */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common.h"

int64_t time_now(void)
{
	return (int64_t)time(NULL);
}

double time_mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

double time_cpu(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void time_iso(int64_t t, char *out, size_t n)
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(out, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

int file_read(const char *path, struct buf *out)
{
	size_t start = out->len;
	struct stat st;
	int fd, rc = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return err_set(CL_ENOTFOUND, "'%s': no such file", path);
		return err_set(CL_EIO, "cannot open '%s': %s", path, strerror(errno));
	}
	if (fstat(fd, &st) != 0) {
		rc = err_set(CL_EIO, "cannot stat '%s': %s", path, strerror(errno));
		goto close_fd;
	}
	if (S_ISDIR(st.st_mode)) {
		rc = err_set(CL_EINVAL, "'%s' is a directory", path);
		goto close_fd;
	}
	if (S_ISREG(st.st_mode) && (uint64_t)st.st_size > out->max - out->len) {
		rc = err_set(CL_ETOOBIG, "'%s' is %lld bytes, over the %zu byte limit",
			     path, (long long)st.st_size, out->max);
		goto close_fd;
	}
	rc = buf_reserve(out, S_ISREG(st.st_mode) ? (size_t)st.st_size : 0);
	if (rc)
		goto close_fd;
	for (;;) {
		ssize_t n;

		if (out->len == out->max) {
			char probe;

			n = read(fd, &probe, 1);
			if (n < 0 && errno == EINTR)
				continue;
			if (n == 0)
				break;
			rc = err_set(CL_ETOOBIG, "'%s' is over the %zu byte limit", path, out->max);
			break;
		}
		if (out->cap - out->len < 2) {
			rc = buf_reserve(out, 4096 < out->max - out->len ? 4096 : 1);
			if (rc)
				break;
		}
		n = read(fd, out->data + out->len, out->cap - out->len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = err_set(CL_EIO, "cannot read '%s': %s", path, strerror(errno));
			break;
		}
		if (n == 0)
			break;
		out->len += (size_t)n;
	}
	if (rc)
		out->len = start; /* nothing half-read is left behind */
	out->data[out->len] = '\0';
close_fd:
	close(fd);
	return rc;
}

int file_exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

int dir_exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

int dir_make(const char *path, int mode)
{
	char tmp[4096];
	size_t n = strlen(path);

	if (n == 0 || n >= sizeof(tmp))
		return err_set(CL_EINVAL, "invalid directory name '%s'", path);
	memcpy(tmp, path, n + 1);
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, (mode_t)mode) != 0 && errno != EEXIST)
			return err_set(CL_EIO, "cannot create '%s': %s", tmp, strerror(errno));
		*p = '/';
	}
	if (mkdir(tmp, (mode_t)mode) != 0 && errno != EEXIST)
		return err_set(CL_EIO, "cannot create '%s': %s", tmp, strerror(errno));
	if (!dir_exists(tmp))
		return err_set(CL_EIO, "'%s' exists and is not a directory", tmp);
	return 0;
}

int parse_i64(const char *s, int64_t min, int64_t max, int64_t *out)
{
	char *end;
	long long v;

	if (!s || !*s || isspace((unsigned char)*s))
		return CL_EPARSE;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno == ERANGE || *end != '\0' || end == s)
		return CL_EPARSE;
	if (v < min || v > max)
		return CL_EINVAL;
	*out = v;
	return 0;
}

int parse_double(const char *s, double *out)
{
	char *end;
	double v;

	if (!s || !*s || s[strspn(s, "0123456789+-.eE")] != '\0')
		return CL_EPARSE;
	errno = 0;
	v = strtod(s, &end);
	if (errno == ERANGE || *end != '\0' || end == s || !isfinite(v))
		return CL_EPARSE;
	*out = v;
	return 0;
}

const char *yaml_problem(const char *problem, const char *data, size_t len, size_t line)
{
	size_t i = 0;

	if (!problem)
		return "malformed YAML";
	for (size_t l = 0; l < line && i < len; i++)
		if (data[i] == '\n')
			l++;
	/* a tab in the line's indentation: block YAML never allows one */
	for (; i < len && (data[i] == ' ' || data[i] == '\t'); i++)
		if (data[i] == '\t')
			return "tabs cannot indent YAML (use spaces)";
	return problem;
}
