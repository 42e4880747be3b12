/* testutil.h - temporary folders for the unit tests */
#ifndef CLARIFY_TESTUTIL_H
#define CLARIFY_TESTUTIL_H

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

static inline int testutil_rm_entry(const char *path, const struct stat *st, int flag,
				    struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* A fresh folder $TMPDIR/NAME.XXXXXX (or under /tmp) into out; 0 or -1. */
static inline int test_tmpdir(char *out, size_t n, const char *name)
{
	const char *base = getenv("TMPDIR");

	snprintf(out, n, "%s/%s.XXXXXX", base && *base ? base : "/tmp", name);
	return mkdtemp(out) ? 0 : -1;
}

/* rm -rf path */
static inline int test_rmtree(const char *path)
{
	return nftw(path, testutil_rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* A group's temporary root folder (a test file's own), and paths in it. */
static char tmp_root[4096];

static inline int test_group_teardown(void **state)
{
	(void)state;
	return test_rmtree(tmp_root);
}

static inline void tmp_path(char *out, size_t n, const char *name)
{
	int len = snprintf(out, n, "%s/%s", tmp_root, name);

	if (len < 0 || (size_t)len >= n)
		abort();
}

#endif
