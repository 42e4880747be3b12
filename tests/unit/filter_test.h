/*
 * filter_test.h - what the filters' unit tests share (test_filters.c,
 * test_checks.c): rule sets from text, a run with a fresh scratch, finding
 * a verdict, and the base record of the built-in check tests.  Define
 * TEST_NAME (the temporary folder's name) before including it.
 */
#ifndef CLARIFY_FILTER_TEST_H
#define CLARIFY_FILTER_TEST_H

#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <setjmp.h>
#include <cmocka.h>

#include "../../filters/filter.h"
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include "testutil.h"

#define NAME "t.yaml"
#define SHIPPED "filters"

/* ---- fixtures --------------------------------------------------------- */


static inline int group_setup(void **state)
{
	(void)state;
	log_threshold = LOG_ERR; /* no JIT warning in the TAP output */
	return test_tmpdir(tmp_root, sizeof(tmp_root), TEST_NAME);
}

/* dir/name into out */
static inline void join(char *out, size_t n, const char *dir, const char *name)
{
	int len = snprintf(out, n, "%s/%s", dir, name);

	assert_true(len > 0 && (size_t)len < n);
}

static inline void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "wb");
	size_t n = strlen(text);

	assert_non_null(f);
	if (n)
		assert_int_equal(fwrite(text, 1, n, f), n);
	assert_int_equal(fclose(f), 0);
}

/* A rule file of one rule; extra holds optional lines ("    keywords: [bar]\n"). */
static inline void one_rule(char *out, size_t n, const char *id, const char *applies,
		     const char *pattern, const char *extra, const char *action)
{
	int len = snprintf(out, n,
			   "rules:\n"
			   "  - id: %s\n"
			   "    description: a test rule\n"
			   "    applies_to: [%s]\n"
			   "    pattern: '%s'\n"
			   "%s"
			   "    action: %s\n",
			   id, applies, pattern, extra, action);

	assert_true(len > 0 && (size_t)len < n);
}

/* A set from one rule file held in text; the caller releases it. */
static inline void set_from(struct filter_set *fs, const char *text)
{
	int rc;

	filter_set_init(fs);
	err_clear();
	rc = filter_set_add_buffer(fs, text, strlen(text), NAME);
	if (rc)
		fail_msg("refused: %s", err_msg(rc));
	assert_int_equal(filter_set_finish(fs), 0);
}

/* A set of one rule (see one_rule). */
static inline void set_of_rule(struct filter_set *fs, const char *applies, const char *pattern,
			const char *extra, const char *action)
{
	char text[2048];

	one_rule(text, sizeof(text), "r", applies, pattern, extra, action);
	set_from(fs, text);
}

/* A set without rules: only the built-in checks run. */
static inline void set_builtin(struct filter_set *fs)
{
	filter_set_init(fs);
	assert_int_equal(filter_set_finish(fs), 0);
}

static inline void load_shipped(struct filter_set *fs)
{
	int rc;

	err_clear();
	rc = filter_set_load_dir(fs, SHIPPED);
	if (rc)
		fail_msg("cannot load the shipped rules: %s", err_msg(rc));
}

/* filter_run over in with a fresh scratch; out is initialised here and
 * released by the caller. */
static inline void run(const struct filter_set *fs, const struct filter_input *in,
		struct filter_result *out)
{
	struct filter_scratch *s = filter_scratch_new(fs);

	assert_non_null(s);
	filter_result_init(out);
	assert_int_equal(filter_run(fs, s, in, out), 0);
	filter_scratch_free(s);
}

/* The verdict of rule (on field, or any field when field < 0), or NULL. */
static const struct filter_verdict *find(const struct filter_result *r, const char *rule,
					 int field)
{
	for (size_t i = 0; i < r->n; i++)
		if (strcmp(r->v[i].rule, rule) == 0 && (field < 0 || r->v[i].field == field))
			return &r->v[i];
	return NULL;
}

/* "rule rule ..." of a result, for failure messages. */
static const char *rules_of(const struct filter_result *r)
{
	static char out[1024];
	size_t len = 0;

	out[0] = '\0';
	for (size_t i = 0; i < r->n && len < sizeof(out); i++) {
		int k = snprintf(out + len, sizeof(out) - len, "%s%s", i ? " " : "", r->v[i].rule);

		if (k < 0)
			break;
		len += (size_t)k;
	}
	return r->n ? out : "(none)";
}

static inline void assert_fires(const struct filter_result *r, const char *rule, int field)
{
	if (!find(r, rule, field))
		fail_msg("'%s' did not fire (field %d); verdicts: %s", rule, field, rules_of(r));
}

static inline void assert_silent(const struct filter_result *r, const char *rule)
{
	const struct filter_verdict *v = find(r, rule, -1);

	if (v)
		fail_msg("'%s' fired: %s", rule, v->detail);
}

static inline void assert_no_verdict(const struct filter_result *r)
{
	if (r->n)
		fail_msg("expected no verdict, got %s (%s)", rules_of(r), r->v[0].detail);
	assert_false(r->rejected);
}

/* Does rule fire on text as the modified problem (no original, no
 * questions expected)? */
static inline int fires_on_modified(const struct filter_set *fs, const char *rule, const char *text)
{
	struct filter_input in = { .modified = text };
	struct filter_result r;
	int hit;

	run(fs, &in, &r);
	hit = find(&r, rule, FIELD_MODIFIED) != NULL;
	filter_result_release(&r);
	return hit;
}

/* Is text valid UTF-8 (no overlong forms, no surrogates)? */
static inline int utf8_valid(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	while (*p) {
		size_t n;
		uint32_t c;

		if (*p < 0x80) {
			p++;
			continue;
		} else if ((*p & 0xe0) == 0xc0) {
			n = 1;
			c = *p & 0x1f;
		} else if ((*p & 0xf0) == 0xe0) {
			n = 2;
			c = *p & 0x0f;
		} else if ((*p & 0xf8) == 0xf0) {
			n = 3;
			c = *p & 0x07;
		} else {
			return 0;
		}
		for (size_t i = 1; i <= n; i++) {
			if ((p[i] & 0xc0) != 0x80)
				return 0;
			c = c << 6 | (p[i] & 0x3f);
		}
		if ((n == 1 && c < 0x80) || (n == 2 && c < 0x800) || (n == 3 && c < 0x10000) ||
		    c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
			return 0;
		p += n + 1;
	}
	return 1;
}

/* ---- the base record of the built-in check tests ------------------------ */

#define ORIGINAL                                                                            \
	"Given an array of n integers, print the sum of the even ones.\n"                  \
	"The first line contains n (1 <= n <= 100). The second line contains the n "       \
	"integers, each between 1 and 1000."

/* a sound rewrite: two words changed, the rest kept */
#define MODIFIED                                                                            \
	"Given an array of n integers, print the sum of the large ones.\n"                 \
	"The first line contains n (1 <= n <= 100). The second line contains the n "       \
	"integers, each between 1 and 1000."

/* the same with the range removed */
#define MODIFIED_NO_RANGE                                                                   \
	"Given an array of n integers, print the sum of the even ones.\n"                  \
	"The first line contains n (1 <= n <= 100). The second line contains the n "       \
	"integers."

static const char *const good_questions[] = { "Which integers count as large?",
					      "Is a value equal to the threshold large?" };

static inline struct filter_input base_input(void)
{
	struct filter_input in = {
		.original = ORIGINAL,
		.modified = MODIFIED,
		.questions = good_questions,
		.nquestions = 2,
		.finish_reason = "stop",
		.questions_expected = 1,
	};

	return in;
}


static const char *const shipped_ids[] = {
	"clarity-idiom", "echoed-header", "echoed-tag", "echoed-header-statement",
	"explanation-section", "explanation-label", "explanation-heading", "explanation-removed",
	"removed-label", "inline-marker",
	"announces-change", "note-this-version", "changes-made", "here-is-rewrite",
	"reasoning-section", "announces-purpose", "announces-removal", "solution-instead",
	"ref-original-problem",
	"ref-original-bare", "ref-compared-to-original", "ref-rewrite", "ref-new-version",
	"ref-before-change", "ref-edit-in-question", "ref-the-edit", "question-states-answer",
	"ref-earlier-in-question",
};

#endif
