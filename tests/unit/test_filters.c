/*
 * test_filters.c - the leak and quality filters: the rule file loader and
 * its refusals ("NAME:LINE:COLUMN: rule 'ID': why"), the keyword
 * prefilter, applies_to and actions, every built-in check on a minimal
 * case and a near miss, the shipped rules on hard positives and hard
 * negatives, the verdicts as JSON, invalid UTF-8, and one set shared by
 * two threads.
 *
 * The tests run from the repository root (make check does): the shipped
 * rules are read from filters/.
 */
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


static int group_setup(void **state)
{
	(void)state;
	log_threshold = LOG_ERR; /* no JIT warning in the TAP output */
	return test_tmpdir(tmp_root, sizeof(tmp_root), "test_filters");
}

/* dir/name into out */
static void join(char *out, size_t n, const char *dir, const char *name)
{
	int len = snprintf(out, n, "%s/%s", dir, name);

	assert_true(len > 0 && (size_t)len < n);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "wb");
	size_t n = strlen(text);

	assert_non_null(f);
	if (n)
		assert_int_equal(fwrite(text, 1, n, f), n);
	assert_int_equal(fclose(f), 0);
}

/* A rule file of one rule; extra holds optional lines ("    keywords: [bar]\n"). */
static void one_rule(char *out, size_t n, const char *id, const char *applies,
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
static void set_from(struct filter_set *fs, const char *text)
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
static void set_of_rule(struct filter_set *fs, const char *applies, const char *pattern,
			const char *extra, const char *action)
{
	char text[2048];

	one_rule(text, sizeof(text), "r", applies, pattern, extra, action);
	set_from(fs, text);
}

/* A set without rules: only the built-in checks run. */
static void set_builtin(struct filter_set *fs)
{
	filter_set_init(fs);
	assert_int_equal(filter_set_finish(fs), 0);
}

static void load_shipped(struct filter_set *fs)
{
	int rc;

	err_clear();
	rc = filter_set_load_dir(fs, SHIPPED);
	if (rc)
		fail_msg("cannot load the shipped rules: %s", err_msg(rc));
}

/* filter_run over in with a fresh scratch; out is initialised here and
 * released by the caller. */
static void run(const struct filter_set *fs, const struct filter_input *in,
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

static void assert_fires(const struct filter_result *r, const char *rule, int field)
{
	if (!find(r, rule, field))
		fail_msg("'%s' did not fire (field %d); verdicts: %s", rule, field, rules_of(r));
}

static void assert_silent(const struct filter_result *r, const char *rule)
{
	const struct filter_verdict *v = find(r, rule, -1);

	if (v)
		fail_msg("'%s' fired: %s", rule, v->detail);
}

static void assert_no_verdict(const struct filter_result *r)
{
	if (r->n)
		fail_msg("expected no verdict, got %s (%s)", rules_of(r), r->v[0].detail);
	assert_false(r->rejected);
}

/* Does rule fire on text as the modified problem (no original, no
 * questions expected)? */
static int fires_on_modified(const struct filter_set *fs, const char *rule, const char *text)
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
static int utf8_valid(const char *s)
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

static struct filter_input base_input(void)
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

/* ---- the loader ------------------------------------------------------- */

#define RULE_HEAD "rules:\n  - id: r1\n    description: d\n    applies_to: [modified]\n"

static const char valid_file[] =
	"# two rules, every key\n"
	"rules:\n"
	"  - id: alpha-1\n"
	"    description: the first rule\n"
	"    applies_to: [modified, questions]\n"
	"    pattern: '\\bfoo\\s+bar\\b'\n"
	"    flags: [caseless, multiline]\n"
	"    keywords: [foo, Bar]\n"
	"    and_keywords: [baz]\n"
	"    action: reject\n"
	"  - id: beta_2\n"
	"    description: the second rule\n"
	"    applies_to: [reasoning]\n"
	"    pattern: 'qux'\n"
	"    action: flag\n";

static void valid_rule_file_loads_ids_descriptions_and_actions(void **state)
{
	struct filter_set fs;
	uint32_t jit = 0;

	(void)state;
	set_from(&fs, valid_file);
	assert_int_equal(fs.n, 2);
	assert_string_equal(filter_rule_id(&fs, 0), "alpha-1");
	assert_string_equal(filter_rule_id(&fs, 1), "beta_2");
	assert_string_equal(filter_rule_description(&fs, 0), "the first rule");
	assert_string_equal(filter_rule_description(&fs, 1), "the second rule");
	assert_int_equal(filter_rule_action(&fs, 0), FILTER_REJECT);
	assert_int_equal(filter_rule_action(&fs, 1), FILTER_FLAG);
	/* out of range reads "?" and flag, not memory */
	assert_string_equal(filter_rule_id(&fs, 2), "?");
	assert_string_equal(filter_rule_description(&fs, 99), "?");
	assert_int_equal(filter_rule_action(&fs, 2), FILTER_FLAG);
	/* the JIT flag says what PCRE2 did: here it can, so every pattern is JIT-compiled */
	assert_int_equal(pcre2_config(PCRE2_CONFIG_JIT, &jit), 0);
	assert_int_equal(fs.jit, jit ? 1 : 0);
	/* a buffer has no fingerprint: only the file loaders compute it */
	assert_string_equal(fs.fingerprint, "");
	filter_set_release(&fs);
	assert_int_equal(fs.n, 0);
	assert_null(fs.rules);
}

static void empty_rule_list_loads_and_runs_the_built_in_checks(void **state)
{
	struct filter_set fs;
	struct filter_input in = base_input();
	struct filter_result r;

	(void)state;
	set_from(&fs, "rules: []\n");
	assert_int_equal(fs.n, 0);
	run(&fs, &in, &r);
	assert_no_verdict(&r);
	in.modified = "";
	filter_result_release(&r);
	run(&fs, &in, &r);
	assert_fires(&r, "empty", FIELD_MODIFIED);
	filter_result_release(&r);
	filter_set_release(&fs);
}

/* text must be refused with CL_ECONFIG, a message starting with prefix
 * ("t.yaml:L:C: " and, where a rule is known, "rule 'ID': ") and holding
 * why; nothing of it is kept. */
static void assert_refused(const char *text, const char *prefix, const char *why)
{
	struct filter_set fs;
	const char *msg;
	int rc;

	filter_set_init(&fs);
	err_clear();
	rc = filter_set_add_buffer(&fs, text, strlen(text), NAME);
	if (rc == 0) {
		filter_set_release(&fs);
		fail_msg("accepted: %s", text);
	}
	assert_int_equal(rc, CL_ECONFIG);
	msg = err_msg(rc);
	if (strncmp(msg, prefix, strlen(prefix)) != 0 || !strstr(msg, why))
		fail_msg("message '%s', wanted '%s...%s'", msg, prefix, why);
	assert_int_equal(fs.n, 0);
	filter_set_release(&fs);
}

static void malformed_yaml_is_refused_at_its_line_and_column(void **state)
{
	(void)state;
	assert_refused("rules:\n  - id: [a\n", NAME ":3:1: ", "did not find expected");
	assert_refused("rules:\n  - id: a\n   x: b\n", NAME ":3:4: ", "expected");
	assert_refused("rules:\n\t- id: a\n", NAME ":2:1: ", "cannot start any token");
}

static void top_level_other_than_rules_is_refused(void **state)
{
	(void)state;
	assert_refused("patterns:\n  - id: a\n", NAME ":1:1: ", "unknown key 'patterns'");
	assert_refused("rules: []\nextra: 1\n", NAME ":2:1: ", "unknown key 'extra'");
	assert_refused("- id: a\n", NAME ":1:1: ", "expected 'rules:' with a list of rules");
	assert_refused("rules: 3\n", NAME ":1:8: ", "expected 'rules:' with a list of rules");
	assert_refused("", NAME ":1:1: ", "expected 'rules:'");
	assert_refused("rules:\n  - just a string\n", NAME ":2:5: ", "a rule must be a mapping");
}

static void unknown_rule_key_is_refused_naming_the_rule(void **state)
{
	(void)state;
	assert_refused("rules:\n  - id: r1\n    bogus: 1\n", NAME ":3:5: rule 'r1': ",
		       "unknown key 'bogus'");
	/* before the id is read, the rule cannot be named */
	assert_refused("rules:\n  - sytem: 1\n    id: r1\n", NAME ":2:5: ", "unknown key 'sytem'");
}

static void missing_required_keys_are_refused_naming_the_rule(void **state)
{
	(void)state;
	assert_refused("rules:\n  - id: r1\n    applies_to: [modified]\n    pattern: a\n"
		       "    action: reject\n",
		       NAME ":2:5: rule 'r1': ", "missing 'description'");
	assert_refused("rules:\n  - id: r1\n    description: d\n    pattern: a\n"
		       "    action: reject\n",
		       NAME ":2:5: rule 'r1': ", "missing 'applies_to'");
	assert_refused(RULE_HEAD "    action: reject\n", NAME ":2:5: rule 'r1': ",
		       "missing 'pattern'");
	assert_refused(RULE_HEAD "    pattern: a\n", NAME ":2:5: rule 'r1': ", "missing 'action'");
	assert_refused("rules:\n  - description: d\n    applies_to: [modified]\n    pattern: a\n"
		       "    action: reject\n",
		       NAME ":2:5: ", "rule without an 'id'");
	assert_refused(RULE_HEAD "    pattern: ''\n    action: reject\n", NAME ":5:14: rule 'r1': ",
		       "'pattern' must be a non-empty string");
	assert_refused("rules:\n  - id: r1\n    description: ''\n", NAME ":3:18: rule 'r1': ",
		       "'description' must be text");
}

static void bad_id_is_refused(void **state)
{
	(void)state;
	assert_refused("rules:\n  - id: Bad Id\n", NAME ":2:9: ", "rule id must be lower-case");
	assert_refused("rules:\n  - id: a.b\n", NAME ":2:9: ", "rule id must be lower-case");
	assert_refused("rules:\n  - id: [a]\n", NAME ":2:9: ", "rule id must be lower-case");
	assert_refused("rules:\n  - id: "
		       "a234567890123456789012345678901234567890123456789012345678901234\n",
		       NAME ":2:9: ", "at most 63");
}

static void unknown_applies_to_value_is_refused(void **state)
{
	(void)state;
	assert_refused("rules:\n  - id: r1\n    description: d\n    applies_to: [title]\n",
		       NAME ":4:18: rule 'r1': ", "unknown applies_to 'title'");
	assert_refused("rules:\n  - id: r1\n    description: d\n    applies_to: modified\n",
		       NAME ":4:17: rule 'r1': ", "'applies_to' must be a list");
}

static void unknown_flag_is_refused(void **state)
{
	(void)state;
	assert_refused(RULE_HEAD "    pattern: a\n    flags: [caseless, global]\n"
		       "    action: reject\n",
		       NAME ":6:23: rule 'r1': ", "'global'");
}

static void bad_action_is_refused(void **state)
{
	(void)state;
	assert_refused(RULE_HEAD "    pattern: a\n    action: drop\n", NAME ":6:13: rule 'r1': ",
		       "'action' must be reject, flag (or soft) or off");
}

static void duplicate_id_in_one_file_is_refused_naming_the_first(void **state)
{
	(void)state;
	assert_refused(RULE_HEAD "    pattern: a\n    action: reject\n"
		       "  - id: r1\n    description: d\n    applies_to: [questions]\n"
		       "    pattern: b\n    action: flag\n",
		       NAME ":7:5: rule 'r1': ", "duplicate id (first in " NAME ":2)");
}

static void duplicate_id_across_two_files_is_refused(void **state)
{
	static const char a[] = RULE_HEAD "    pattern: a\n    action: reject\n";
	static const char b[] = "rules:\n  - id: r2\n    description: d\n"
				"    applies_to: [modified]\n    pattern: b\n    action: reject\n"
				"  - id: r1\n    description: d\n    applies_to: [modified]\n"
				"    pattern: c\n    action: reject\n";
	struct filter_set fs;
	int rc;

	(void)state;
	filter_set_init(&fs);
	assert_int_equal(filter_set_add_buffer(&fs, a, strlen(a), "a.yaml"), 0);
	err_clear();
	rc = filter_set_add_buffer(&fs, b, strlen(b), "b.yaml");
	assert_int_equal(rc, CL_ECONFIG);
	assert_string_equal(err_msg(rc), "b.yaml:7:5: rule 'r1': duplicate id (first in a.yaml:2)");
	filter_set_release(&fs);
}

/* The loader's message for pattern holds PCRE2's own text and offset. */
static void assert_pattern_refused(const char *pattern, size_t want_offset)
{
	char text[1024], want[512], offset[64];
	PCRE2_UCHAR pmsg[256];
	PCRE2_SIZE off;
	struct filter_set fs;
	pcre2_code *re;
	int err, rc;

	re = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED, PCRE2_UTF | PCRE2_UCP, &err,
			   &off, NULL);
	assert_null(re);
	assert_int_equal(off, want_offset);
	assert_true(pcre2_get_error_message(err, pmsg, sizeof(pmsg)) > 0);

	one_rule(text, sizeof(text), "r1", "modified", pattern, "", "reject");
	filter_set_init(&fs);
	err_clear();
	rc = filter_set_add_buffer(&fs, text, strlen(text), NAME);
	assert_int_equal(rc, CL_ECONFIG);
	assert_int_equal(fs.n, 0);
	snprintf(want, sizeof(want), NAME ":5:14: rule 'r1': ");
	snprintf(offset, sizeof(offset), "offset %zu", want_offset);
	if (strncmp(err_msg(rc), want, strlen(want)) != 0 ||
	    !strstr(err_msg(rc), (const char *)pmsg) || !strstr(err_msg(rc), offset))
		fail_msg("message '%s', wanted '%s' with '%s' and '%s'", err_msg(rc), want,
			 (const char *)pmsg, offset);
	filter_set_release(&fs);
}

static void bad_pcre2_pattern_is_refused_with_pcre2_text_and_offset(void **state)
{
	(void)state;
	assert_pattern_refused("a(b", 3);
	assert_pattern_refused("ab[c", 4);
	assert_pattern_refused("x*+*", 3);
	assert_pattern_refused("(?<n>a)\\k<m>", 10);
}

static void keyword_that_is_not_one_word_is_refused(void **state)
{
	(void)state;
	assert_refused(RULE_HEAD "    pattern: a\n    keywords: [two words]\n    action: reject\n",
		       NAME ":6:16: rule 'r1': ", "keyword 'two words' is not one word");
	assert_refused(RULE_HEAD "    pattern: a\n    keywords: [ok, a-b]\n    action: reject\n",
		       NAME ":6:20: rule 'r1': ", "keyword 'a-b' is not one word");
	assert_refused(RULE_HEAD "    pattern: a\n    keywords: ['']\n    action: reject\n",
		       NAME ":6:16: rule 'r1': ", "one word of 1 to 31 bytes");
	assert_refused(RULE_HEAD "    pattern: a\n    keywords: []\n    action: reject\n",
		       NAME ":6:15: rule 'r1': ", "must not be empty");
	assert_refused(RULE_HEAD "    pattern: a\n    keywords: foo\n    action: reject\n",
		       NAME ":6:15: rule 'r1': ", "'keywords' must be a list of words");
	assert_refused(RULE_HEAD "    pattern: a\n    keywords: [x]\n    and_keywords: [y z]\n"
		       "    action: reject\n",
		       NAME ":7:20: rule 'r1': ", "keyword 'y z' is not one word");
}

static void and_keywords_without_keywords_is_refused(void **state)
{
	(void)state;
	assert_refused(RULE_HEAD "    pattern: a\n    and_keywords: [x]\n    action: reject\n",
		       NAME ":2:5: rule 'r1': ", "'and_keywords' needs 'keywords'");
}

static void failed_file_leaves_the_set_as_it_was(void **state)
{
	static const char good[] =
		"rules:\n"
		"  - id: kept-1\n    description: d\n    applies_to: [modified]\n"
		"    pattern: 'alpha'\n    action: reject\n"
		"  - id: kept-2\n    description: d\n    applies_to: [modified]\n"
		"    pattern: 'beta'\n    action: reject\n";
	/* two good rules, then one with a bad pattern */
	static const char bad[] =
		"rules:\n"
		"  - id: lost-1\n    description: d\n    applies_to: [modified]\n"
		"    pattern: 'gamma'\n    action: reject\n"
		"  - id: lost-2\n    description: d\n    applies_to: [modified]\n"
		"    pattern: 'delta'\n    action: reject\n"
		"  - id: lost-3\n    description: d\n    applies_to: [modified]\n"
		"    pattern: 'eps(ilon'\n    action: reject\n";
	/* the same, mended */
	static const char fixed[] =
		"rules:\n"
		"  - id: lost-1\n    description: d\n    applies_to: [modified]\n"
		"    pattern: 'gamma'\n    action: reject\n"
		"  - id: lost-2\n    description: d\n    applies_to: [modified]\n"
		"    pattern: 'delta'\n    action: reject\n";
	struct filter_set fs;
	struct filter_input in = { .modified = "alpha beta gamma delta" };
	struct filter_result r;

	(void)state;
	filter_set_init(&fs);
	assert_int_equal(filter_set_add_buffer(&fs, good, strlen(good), "good.yaml"), 0);
	assert_int_equal(filter_set_add_buffer(&fs, bad, strlen(bad), "bad.yaml"), CL_ECONFIG);
	assert_int_equal(fs.n, 2);
	assert_string_equal(filter_rule_id(&fs, 0), "kept-1");
	assert_string_equal(filter_rule_id(&fs, 1), "kept-2");
	/* and a failed file does not poison the next one */
	assert_int_equal(filter_set_add_buffer(&fs, fixed, strlen(fixed), "fixed.yaml"), 0);
	assert_int_equal(fs.n, 4);
	assert_int_equal(filter_set_finish(&fs), 0);
	run(&fs, &in, &r);
	assert_fires(&r, "kept-1", FIELD_MODIFIED);
	assert_fires(&r, "kept-2", FIELD_MODIFIED);
	assert_fires(&r, "lost-1", FIELD_MODIFIED);
	assert_fires(&r, "lost-2", FIELD_MODIFIED);
	assert_int_equal(r.n, 4);
	filter_result_release(&r);
	filter_set_release(&fs);
}

/* ---- loading files and folders ------------------------------------------ */

/* the shipped rules, in load order: clarity.yaml, commentary.yaml, references.yaml */
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

static void load_dir_of_the_shipped_rules_names_every_rule(void **state)
{
	const char *const *ids = shipped_ids;
	struct filter_set fs;

	(void)state;
	load_shipped(&fs);
	/* files in name order: clarity.yaml, commentary.yaml, then references.yaml */
	assert_int_equal(fs.n, CL_ARRAY_SIZE(shipped_ids));
	for (size_t i = 0; i < fs.n; i++) {
		assert_string_equal(filter_rule_id(&fs, i), ids[i]);
		assert_int_equal(filter_rule_action(&fs, i), FILTER_REJECT);
		assert_true(strlen(filter_rule_description(&fs, i)) > 10);
	}
	assert_int_equal(strlen(fs.fingerprint), 64);
	filter_set_release(&fs);
}

static void load_dir_skips_other_files_and_fingerprints_contents(void **state)
{
	char dir[PATH_MAX], path[PATH_MAX], first[HASH_SHA256_HEX];
	char text[1024];
	struct filter_set fs;

	(void)state;
	tmp_path(dir, sizeof(dir), "fingerprint");
	assert_int_equal(mkdir(dir, 0700), 0);
	one_rule(text, sizeof(text), "only", "modified", "x", "", "reject");
	join(path, sizeof(path), dir, "a.yaml");
	write_file(path, text);
	join(path, sizeof(path), dir, "notes.txt");
	write_file(path, "rules: nonsense");
	join(path, sizeof(path), dir, ".hidden.yaml");
	write_file(path, "rules: nonsense");
	assert_int_equal(filter_set_load_dir(&fs, dir), 0);
	assert_int_equal(fs.n, 1);
	snprintf(first, sizeof(first), "%s", fs.fingerprint);
	filter_set_release(&fs);

	one_rule(text, sizeof(text), "only", "modified", "y", "", "reject");
	join(path, sizeof(path), dir, "a.yaml");
	write_file(path, text);
	assert_int_equal(filter_set_load_dir(&fs, dir), 0);
	assert_string_not_equal(fs.fingerprint, first);
	filter_set_release(&fs);
}

static void load_file_reads_one_rule_file(void **state)
{
	struct filter_set fs;

	(void)state;
	assert_int_equal(filter_set_load_file(&fs, SHIPPED "/references.yaml"), 0);
	assert_int_equal(fs.n, 10);
	assert_string_equal(filter_rule_id(&fs, 0), "ref-original-problem");
	assert_int_equal(strlen(fs.fingerprint), 64);
	filter_set_release(&fs);
}

static void load_dir_without_yaml_files_is_enotfound(void **state)
{
	char dir[PATH_MAX], path[PATH_MAX];
	struct filter_set fs;
	int rc;

	(void)state;
	tmp_path(dir, sizeof(dir), "no-yaml");
	assert_int_equal(mkdir(dir, 0700), 0);
	join(path, sizeof(path), dir, "rules.yml.txt");
	write_file(path, "rules: []\n");
	err_clear();
	rc = filter_set_load_dir(&fs, dir);
	assert_int_equal(rc, CL_ENOTFOUND);
	assert_non_null(strstr(err_msg(rc), dir));
	assert_non_null(strstr(err_msg(rc), "no rule files"));
	assert_int_equal(fs.n, 0);
}

static void load_dir_of_missing_folder_names_it(void **state)
{
	char dir[PATH_MAX];
	struct filter_set fs;
	int rc;

	(void)state;
	tmp_path(dir, sizeof(dir), "does-not-exist");
	err_clear();
	rc = filter_set_load_dir(&fs, dir);
	assert_int_equal(rc, CL_ENOTFOUND);
	assert_non_null(strstr(err_msg(rc), dir));
	assert_int_equal(fs.n, 0);
	assert_null(fs.rules);
}

static void load_dir_with_one_bad_file_keeps_nothing_and_names_the_file(void **state)
{
	char dir[PATH_MAX], path[PATH_MAX], want[PATH_MAX + 64], text[1024];
	struct filter_set fs;
	int rc;

	(void)state;
	tmp_path(dir, sizeof(dir), "one-bad");
	assert_int_equal(mkdir(dir, 0700), 0);
	one_rule(text, sizeof(text), "fine", "modified", "x", "", "reject");
	join(path, sizeof(path), dir, "a.yaml");
	write_file(path, text);
	join(path, sizeof(path), dir, "b.yaml");
	write_file(path, "rules:\n  - id: r1\n    bogus: 1\n");
	err_clear();
	rc = filter_set_load_dir(&fs, dir);
	assert_int_equal(rc, CL_ECONFIG);
	snprintf(want, sizeof(want), "%s/b.yaml:3:5: rule 'r1': unknown key 'bogus'", dir);
	assert_non_null(strstr(err_msg(rc), want));
	assert_int_equal(fs.n, 0);
	assert_null(fs.rules);
	assert_null(fs.keywords);
}

/* ---- the keyword prefilter ---------------------------------------------- */

static int fires(const struct filter_set *fs, const char *text)
{
	return fires_on_modified(fs, "r", text);
}

static void rule_with_keywords_needs_one_of_them_in_the_text(void **state)
{
	struct filter_set fs;

	(void)state;
	set_of_rule(&fs, "modified", "foo", "    keywords: [bar, quux]\n", "reject");
	assert_false(fires(&fs, "foo"));
	assert_false(fires(&fs, "foo foo foo and more foo"));
	assert_true(fires(&fs, "foo bar"));
	assert_true(fires(&fs, "quux, then foo"));
	/* the keyword alone does not make the pattern match */
	assert_false(fires(&fs, "bar quux"));
	filter_set_release(&fs);
}

static void keywords_match_whole_words_in_any_case(void **state)
{
	struct filter_set fs;

	(void)state;
	set_of_rule(&fs, "modified", "foo", "    keywords: [Bar]\n", "reject");
	assert_true(fires(&fs, "foo Bar"));
	assert_true(fires(&fs, "foo BAR"));
	assert_true(fires(&fs, "foo bar."));
	assert_true(fires(&fs, "foo (bar)"));
	assert_true(fires(&fs, "foo bar-like"));
	assert_false(fires(&fs, "foo barn"));
	assert_false(fires(&fs, "foo rebar"));
	assert_false(fires(&fs, "foo bar_code"));
	assert_false(fires(&fs, "foo bar2"));
	filter_set_release(&fs);
}

static void and_keywords_need_one_word_of_each_list(void **state)
{
	struct filter_set fs;

	(void)state;
	set_of_rule(&fs, "modified", "foo", "    keywords: [bar, baz]\n    and_keywords: [qux, zot]\n",
		    "reject");
	assert_false(fires(&fs, "foo"));
	assert_false(fires(&fs, "foo bar baz"));
	assert_false(fires(&fs, "foo qux zot"));
	assert_true(fires(&fs, "foo bar qux"));
	assert_true(fires(&fs, "ZOT foo BAZ"));
	filter_set_release(&fs);
}

static void rule_without_keywords_always_runs(void **state)
{
	struct filter_set fs;

	(void)state;
	set_of_rule(&fs, "modified", "foo", "", "reject");
	assert_true(fires(&fs, "foo"));
	assert_true(fires(&fs, "xfoox"));
	assert_false(fires(&fs, "fo o"));
	filter_set_release(&fs);
}

/* unless_in_original: a match whose text the original holds too is passed
 * over (the next one counts); without it, an original's words are no
 * excuse: an operator's rule means what it says. */
static int fires_with_original(const struct filter_set *fs, const char *orig, const char *mod)
{
	struct filter_input in = { .original = orig, .modified = mod };
	struct filter_result r;
	int hit;

	run(fs, &in, &r);
	hit = find(&r, "r", FIELD_MODIFIED) != NULL;
	filter_result_release(&r);
	return hit;
}

static void unless_in_original_passes_over_the_originals_words(void **state)
{
	struct filter_set fs;

	(void)state;
	set_of_rule(&fs, "modified", "this version[^.]*", "", "reject");
	assert_true(fires_with_original(&fs, "In this version, q = 0.", "In this version, q = 0."));
	filter_set_release(&fs);
	set_of_rule(&fs, "modified", "this version[^.]*", "    unless_in_original: true\n", "reject");
	assert_false(fires_with_original(&fs, "In this version, q = 0.", "In this version, q = 0."));
	assert_true(fires_with_original(&fs, "Count the boxes.", "In this version, q = 0."));
	/* the original's match is passed over, a second one of the rewrite's own is not */
	assert_true(fires_with_original(&fs, "In this version, q = 0.",
					"In this version, q = 0. Unlike the first, in this version k is vague."));
	filter_set_release(&fs);
	assert_refused(RULE_HEAD "    pattern: a\n    action: reject\n    unless_in_original: yes\n",
		       NAME ":7:25: rule 'r1': ", "'unless_in_original' must be true or false");
}

/*
 * filter.h: keywords decide whether a pattern runs "at all"; they say
 * nothing of where it matches.  A match well before the first keyword or
 * well after the last one, on another line, must still be found.
 */
/* A rule with keywords runs near them only (filter.h): within a line or
 * so a match is found on either side; far away it is not looked for. */
static void keyword_rules_run_near_their_keywords(void **state)
{
	struct filter_set fs;
	char text[1024];

	(void)state;
	set_of_rule(&fs, "modified", "foo", "    keywords: [bar]\n", "reject");
	snprintf(text, sizeof(text), "foo\n%0150d\nbar", 0);
	assert_true(fires(&fs, text));
	snprintf(text, sizeof(text), "bar\n%0150d\nfoo", 0);
	assert_true(fires(&fs, text));
	snprintf(text, sizeof(text), "foo\n%0400d\nbar", 0);
	assert_false(fires(&fs, text));
	snprintf(text, sizeof(text), "bar\n%0400d\nfoo", 0);
	assert_false(fires(&fs, text));
	filter_set_release(&fs);
	/* without keywords a rule looks everywhere */
	set_of_rule(&fs, "modified", "foo", "", "reject");
	snprintf(text, sizeof(text), "bar\n%0400d\nfoo", 0);
	assert_true(fires(&fs, text));
	filter_set_release(&fs);
}

/* Rules past the first 64 (a second word of every bit set) work too. */
static void set_of_seventy_rules_runs_each_of_them(void **state)
{
	struct buf b;
	struct filter_set fs;
	struct filter_input in = { 0 };
	struct filter_result r;

	(void)state;
	buf_init(&b, 0);
	assert_int_equal(buf_adds(&b, "rules:\n"), 0);
	for (int i = 0; i < 70; i++) {
		/* even rules need their keyword, odd ones always run */
		assert_int_equal(buf_addf(&b, "  - id: r%d\n    description: d\n"
					  "    applies_to: [modified]\n    pattern: '\\bw%d\\b'\n"
					  "%s    action: reject\n", i, i,
					  i % 2 ? "" : "    keywords: [k]\n"), 0);
	}
	filter_set_init(&fs);
	assert_int_equal(filter_set_add_buffer(&fs, b.data, b.len, NAME), 0);
	assert_int_equal(filter_set_finish(&fs), 0);
	assert_int_equal(fs.n, 70);

	in.modified = "w68 w69 w3";
	run(&fs, &in, &r);
	assert_fires(&r, "r69", FIELD_MODIFIED);
	assert_fires(&r, "r3", FIELD_MODIFIED);
	assert_silent(&r, "r68");
	assert_int_equal(r.n, 2);
	filter_result_release(&r);

	in.modified = "w68 w69 w3 k w0";
	run(&fs, &in, &r);
	assert_fires(&r, "r68", FIELD_MODIFIED);
	assert_fires(&r, "r0", FIELD_MODIFIED);
	assert_int_equal(r.n, 4);
	filter_result_release(&r);
	assert_string_equal(filter_rule_id(&fs, 69), "r69");
	filter_set_release(&fs);
	buf_release(&b);
}

/* ---- applies_to and actions --------------------------------------------- */

static const char fields_file[] =
	"rules:\n"
	"  - id: in-questions\n    description: d\n    applies_to: [questions]\n"
	"    pattern: 'secret'\n    action: reject\n"
	"  - id: in-modified\n    description: d\n    applies_to: [modified]\n"
	"    pattern: 'secret'\n    action: reject\n"
	"  - id: in-reasoning\n    description: d\n    applies_to: [reasoning]\n"
	"    pattern: 'secret'\n    action: reject\n";

static void rule_fires_only_on_the_fields_it_applies_to(void **state)
{
	static const char *const qs[] = { "Is the limit inclusive?", "What is the secret value?" };
	static const char *const clean_qs[] = { "Is the limit inclusive?" };
	struct filter_set fs;
	struct filter_input in = { .modified = "Print the secret number." };
	struct filter_result r;
	const struct filter_verdict *v;

	(void)state;
	set_from(&fs, fields_file);

	/* in the modified problem only */
	in.questions = clean_qs;
	in.nquestions = 1;
	run(&fs, &in, &r);
	assert_fires(&r, "in-modified", FIELD_MODIFIED);
	assert_silent(&r, "in-questions");
	assert_silent(&r, "in-reasoning");
	v = find(&r, "in-modified", FIELD_MODIFIED);
	assert_string_equal(v->detail, "\"secret\"");
	filter_result_release(&r);

	/* in the second question only */
	in.modified = "Print the hidden number.";
	in.questions = qs;
	in.nquestions = 2;
	run(&fs, &in, &r);
	assert_fires(&r, "in-questions", FIELD_QUESTIONS);
	assert_silent(&r, "in-modified");
	v = find(&r, "in-questions", FIELD_QUESTIONS);
	assert_string_equal(v->detail, "question 2: \"secret\"");
	filter_result_release(&r);

	/* in the reasoning only */
	in.questions = clean_qs;
	in.nquestions = 1;
	in.reasoning = "The secret is the missing bound.";
	run(&fs, &in, &r);
	assert_fires(&r, "in-reasoning", FIELD_REASONING);
	assert_int_equal(r.n, 1);
	filter_result_release(&r);
	filter_set_release(&fs);
}

static void a_rule_gives_one_verdict_per_field(void **state)
{
	static const char *const qs[] = { "secret one?", "secret two?", "secret three?" };
	struct filter_set fs;
	struct filter_input in = { .modified = "secret secret", .questions = qs, .nquestions = 3 };
	struct filter_result r;

	(void)state;
	set_of_rule(&fs, "modified, questions", "secret", "", "reject");
	run(&fs, &in, &r);
	assert_int_equal(r.n, 2);
	assert_fires(&r, "r", FIELD_MODIFIED);
	assert_string_equal(find(&r, "r", FIELD_QUESTIONS)->detail, "question 1: \"secret\"");
	filter_result_release(&r);
	filter_set_release(&fs);
}

static void flag_verdict_does_not_reject(void **state)
{
	struct filter_set fs;
	struct filter_input in = { .modified = "a secret here" };
	struct filter_result r;

	(void)state;
	set_of_rule(&fs, "modified", "secret", "", "flag");
	run(&fs, &in, &r);
	assert_int_equal(r.n, 1);
	assert_int_equal(r.v[0].action, FILTER_FLAG);
	assert_false(r.rejected);
	filter_result_release(&r);
	filter_set_release(&fs);

	set_of_rule(&fs, "modified", "secret", "", "reject");
	run(&fs, &in, &r);
	assert_int_equal(r.v[0].action, FILTER_REJECT);
	assert_true(r.rejected);
	/* reset forgets the verdicts and the rejection */
	filter_result_reset(&r);
	assert_int_equal(r.n, 0);
	assert_false(r.rejected);
	filter_result_release(&r);
	filter_set_release(&fs);
}

static void flags_caseless_and_multiline_change_matching(void **state)
{
	struct filter_set fs;

	(void)state;
	set_of_rule(&fs, "modified", "^secret", "", "reject");
	assert_false(fires(&fs, "SECRET"));
	assert_false(fires(&fs, "x\nsecret"));
	filter_set_release(&fs);
	set_of_rule(&fs, "modified", "^secret", "    flags: [caseless, multiline]\n", "reject");
	assert_true(fires(&fs, "SECRET"));
	assert_true(fires(&fs, "x\nSecret"));
	filter_set_release(&fs);
}

/* ---- built-in checks ---------------------------------------------------- */

static void sound_record_gets_no_verdict(void **state)
{
	struct filter_set fs;
	struct filter_input in = base_input();
	struct filter_result r;

	(void)state;
	set_builtin(&fs);
	run(&fs, &in, &r);
	assert_no_verdict(&r);
	filter_result_release(&r);
	filter_set_release(&fs);

	load_shipped(&fs);
	run(&fs, &in, &r);
	assert_no_verdict(&r);
	filter_result_release(&r);
	filter_set_release(&fs);
}

/* Run the built-in checks over in; did rule fire? */
static int check_fires(const struct filter_input *in, const struct filter_limits *limits,
		       const char *rule)
{
	struct filter_set fs;
	struct filter_result r;
	int hit;

	set_builtin(&fs);
	if (limits)
		fs.limits = *limits;
	run(&fs, in, &r);
	hit = find(&r, rule, -1) != NULL;
	filter_result_release(&r);
	filter_set_release(&fs);
	return hit;
}

static void unchanged_fires_on_case_space_and_punctuation_only(void **state)
{
	struct filter_input in = base_input();

	(void)state;
	in.modified = "  given an array of N integers print the sum of the EVEN ones\n\n"
		      "The first line contains n 1 <= n <= 100 . The second line contains "
		      "the n integers each between 1 and 1000!";
	assert_true(check_fires(&in, NULL, "unchanged"));
	in.modified = ORIGINAL;
	assert_true(check_fires(&in, NULL, "unchanged"));
	/* one word changed is a rewrite */
	in.modified = "Given an array of n integers, print the sum of the odd ones.\n"
		      "The first line contains n (1 <= n <= 100). The second line contains "
		      "the n integers, each between 1 and 1000.";
	assert_false(check_fires(&in, NULL, "unchanged"));
	/* a number changed too */
	in.modified = "Given an array of n integers, print the sum of the even ones.\n"
		      "The first line contains n (1 <= n <= 100). The second line contains "
		      "the n integers, each between 1 and 10000.";
	assert_false(check_fires(&in, NULL, "unchanged"));
	/* without an original there is nothing to compare */
	in.original = NULL;
	in.modified = ORIGINAL;
	assert_false(check_fires(&in, NULL, "unchanged"));
}

static void drift_fires_on_another_problem(void **state)
{
	struct filter_input in = base_input();
	struct filter_set fs;
	struct filter_result r;

	(void)state;
	in.modified = "A robot walks on a grid of h rows and w columns and must reach the "
		      "bottom right corner in the fewest moves, avoiding the blocked cells.";
	set_builtin(&fs);
	run(&fs, &in, &r);
	assert_fires(&r, "drift", 0);
	assert_non_null(strstr(find(&r, "drift", 0)->detail, "5-word runs"));
	filter_result_release(&r);
	filter_set_release(&fs);
	/* the near miss: a rewrite that keeps most of the text */
	in.modified = MODIFIED;
	assert_false(check_fires(&in, NULL, "drift"));
	/* too short to judge (fewer than 8 runs) */
	in.modified = "Sort the list of words please.";
	assert_false(check_fires(&in, NULL, "drift"));
}

static void hidden_leak_fires_on_a_question_quoting_removed_text(void **state)
{
	static const char *const leak[] = { "Which integers count?",
					    "Is each between 1 and 1000 still the range?" };
	static const char *const four[] = { "Which integers count?",
					    "Is each between 1 and a thousand?" };
	static const char *const value[] = { "Which integers count?",
					     "Can a value be as large as 1000?" };
	struct filter_input in = base_input();
	struct filter_limits l;
	struct filter_set fs;
	struct filter_result r;
	const struct filter_verdict *v;

	(void)state;
	in.modified = MODIFIED_NO_RANGE;
	in.questions = leak;
	set_builtin(&fs);
	run(&fs, &in, &r);
	v = find(&r, "hidden-leak", FIELD_QUESTIONS);
	assert_non_null(v);
	assert_non_null(strstr(v->detail, "each between 1 and 1000"));
	assert_int_equal(r.n, 1);
	filter_result_release(&r);
	filter_set_release(&fs);

	/* not when the modified problem still says it */
	in.modified = MODIFIED;
	assert_false(check_fires(&in, NULL, "hidden-leak"));
	/* not with 4 words of it */
	in.modified = MODIFIED_NO_RANGE;
	in.questions = four;
	assert_false(check_fires(&in, NULL, "hidden-leak"));
	/* unless leak_ngram says 4 */
	filter_limits_default(&l);
	l.leak_ngram = 4;
	assert_true(check_fires(&in, &l, "hidden-leak"));
	/* a bound of the original that the modified problem no longer has,
	 * in any notation, leaks with no words around it */
	in.questions = value;
	set_builtin(&fs);
	run(&fs, &in, &r);
	v = find(&r, "hidden-leak", FIELD_QUESTIONS);
	assert_non_null(v);
	assert_non_null(strstr(v->detail, "gives the value 1000"));
	filter_result_release(&r);
	filter_set_release(&fs);
	in.modified = MODIFIED;
	assert_false(check_fires(&in, NULL, "hidden-leak"));
	in.modified = MODIFIED_NO_RANGE;
	/* no original, no leak */
	in.original = NULL;
	in.questions = leak;
	assert_false(check_fires(&in, NULL, "hidden-leak"));
}

/* Every n-gram of texts of every length is found, wherever it sits: the
 * n-gram hashes are computed in two chains, and an off-by-one at either
 * end or in the middle would lose one. */
static void hidden_leak_finds_every_ngram_of_texts_of_every_length(void **state)
{
	char orig[1024], mod[1024], q[128];
	const char *qs[1] = { q };
	struct filter_input in = { .original = orig, .modified = mod, .questions = qs,
				   .nquestions = 1 };

	(void)state;
	for (int len = 5; len <= 41; len++) {
		size_t o = 0, m = 0;

		for (int w = 0; w < len; w++) {
			o += (size_t)snprintf(orig + o, sizeof(orig) - o, "w%d ", w);
			/* the modified problem lacks the word in the middle */
			if (w != len / 2)
				m += (size_t)snprintf(mod + m, sizeof(mod) - m, "w%d ", w);
		}
		for (int at = 0; at + 5 <= len; at++) {
			snprintf(q, sizeof(q), "w%d w%d w%d w%d w%d?", at, at + 1, at + 2, at + 3,
				 at + 4);
			/* a run over the missing word is hidden; any other is not */
			if ((at <= len / 2 && len / 2 < at + 5) != check_fires(&in, NULL, "hidden-leak"))
				fail_msg("length %d, run at %d: %s", len, at, q);
		}
	}
}

static void repeated_lines_fires_on_a_line_four_times(void **state)
{
	struct filter_input in = base_input();
	struct filter_limits l;

	(void)state;
	in.modified = MODIFIED "\nEach value is printed on its own line.\n"
		      "Each value is printed on its own line.\n"
		      "Each value is printed on its own line.\n"
		      "Each value is printed on its own line.\n";
	assert_true(check_fires(&in, NULL, "repeated-lines"));
	/* white space and case do not hide a repeat */
	in.modified = MODIFIED "\nEach value is printed on its own line.\n"
		      "each value is  printed on its own line.\n"
		      "  Each value is printed on its own line.\n"
		      "EACH VALUE IS PRINTED ON ITS OWN LINE.\n";
	assert_true(check_fires(&in, NULL, "repeated-lines"));
	/* three times is allowed */
	in.modified = MODIFIED "\nEach value is printed on its own line.\n"
		      "Each value is printed on its own line.\n"
		      "Each value is printed on its own line.\n";
	assert_false(check_fires(&in, NULL, "repeated-lines"));
	/* ... unless max_line_repeats says 3 */
	filter_limits_default(&l);
	l.max_line_repeats = 3;
	assert_true(check_fires(&in, &l, "repeated-lines"));
	/* short lines (sample output) may repeat */
	in.modified = MODIFIED "\nOutput\nYES\nYES\nYES\nYES\nYES\n1 2 3\n1 2 3\n1 2 3\n1 2 3\n";
	assert_false(check_fires(&in, NULL, "repeated-lines"));
}

static void repeated_lines_fires_on_a_long_paragraph_twice(void **state)
{
	struct filter_input in = base_input();

	(void)state;
	/* 80 characters twice */
	in.modified = MODIFIED "\n"
		      "Each of the following q lines describes one query as a pair of integers l and r.\n"
		      "Each of the following q lines describes one query as a pair of integers l and r.\n";
	assert_true(check_fires(&in, NULL, "repeated-lines"));
	/* 57 characters twice is not a paragraph */
	in.modified = MODIFIED "\n"
		      "Each following line holds one query as two integers l, r.\n"
		      "Each following line holds one query as two integers l, r.\n";
	assert_false(check_fires(&in, NULL, "repeated-lines"));
}

static void repeated_ngrams_fires_on_a_word_four_times_in_a_row(void **state)
{
	struct filter_input in = base_input();
	struct filter_set fs;
	struct filter_result r;

	(void)state;
	in.modified = MODIFIED " Print the the the the answer.";
	set_builtin(&fs);
	run(&fs, &in, &r);
	assert_fires(&r, "repeated-ngrams", FIELD_MODIFIED);
	assert_non_null(strstr(find(&r, "repeated-ngrams", -1)->detail, "\"the\" 4 times"));
	filter_result_release(&r);
	filter_set_release(&fs);
	/* three times is a typo, not a loop */
	in.modified = MODIFIED " Print the the the answer.";
	assert_false(check_fires(&in, NULL, "repeated-ngrams"));
	/* numbers and one-letter words repeat in samples */
	in.modified = MODIFIED "\nOutput: 0 0 0 0 0\nx x x x";
	assert_false(check_fires(&in, NULL, "repeated-ngrams"));
}

static void repeated_ngrams_fires_on_heavy_repetition(void **state)
{
	struct filter_input in = { 0 };
	struct filter_limits l;

	(void)state;
	/* 8 x 7 = 56 tokens, nearly all of its runs repeats */
	in.modified = "sum the numbers and print the result sum the numbers and print the result "
		      "sum the numbers and print the result sum the numbers and print the result "
		      "sum the numbers and print the result sum the numbers and print the result "
		      "sum the numbers and print the result sum the numbers and print the result";
	assert_true(check_fires(&in, NULL, "repeated-ngrams"));
	/* a threshold above the share does not let it pass: one phrase eight
	 * times over is a loop, whatever the share */
	filter_limits_default(&l);
	l.max_ngram_repeat = 0.95;
	assert_true(check_fires(&in, &l, "repeated-ngrams"));
	/* under 40 tokens is too short to judge: 5 x 7 = 35 */
	in.modified = "sum the numbers and print the result sum the numbers and print the result "
		      "sum the numbers and print the result sum the numbers and print the result "
		      "sum the numbers and print the result";
	assert_false(check_fires(&in, NULL, "repeated-ngrams"));
	/* the sound rewrite has no repeats */
	in.modified = MODIFIED;
	assert_false(check_fires(&in, NULL, "repeated-ngrams"));
}

/* drift and repeated-ngrams count runs of leak_ngram words (the config's
 * help says so): with 2-word runs a paraphrase keeps most of them. */
static void leak_ngram_sets_the_run_length_of_drift_and_repeats(void **state)
{
	struct filter_input in = { 0 };
	struct filter_limits l;

	(void)state;
	in.original = "Given an array of n integers print the sum of all the even values in the "
		      "array and then print the count of the odd values in it";
	in.modified = "Given a forest of n oak and pine trees print the height of all the tall "
		      "trees in the forest and then print the count of the short trees in it";
	assert_true(check_fires(&in, NULL, "drift"));
	filter_limits_default(&l);
	l.leak_ngram = 2;
	assert_false(check_fires(&in, &l, "drift"));
}

static void repeated_questions_fires_on_the_same_question_twice(void **state)
{
	static const char *const same[] = { "Is n positive?", "Can k be zero?",
					    "is N positive ?" };
	static const char *const near[] = { "Is n positive?", "Is m positive?" };
	struct filter_input in = base_input();
	struct filter_set fs;
	struct filter_result r;

	(void)state;
	in.questions = same;
	in.nquestions = 3;
	set_builtin(&fs);
	run(&fs, &in, &r);
	assert_fires(&r, "repeated-questions", FIELD_QUESTIONS);
	assert_string_equal(find(&r, "repeated-questions", -1)->detail,
			    "question 3 repeats question 1");
	filter_result_release(&r);
	filter_set_release(&fs);
	in.questions = near;
	in.nquestions = 2;
	assert_false(check_fires(&in, NULL, "repeated-questions"));
}

static void empty_fires_on_a_blank_modified_problem(void **state)
{
	struct filter_input in = base_input();

	(void)state;
	in.modified = " \n\t \r\n";
	assert_true(check_fires(&in, NULL, "empty"));
	in.modified = NULL;
	assert_true(check_fires(&in, NULL, "empty"));
	in.modified = "";
	assert_true(check_fires(&in, NULL, "empty"));
	/* a blank problem is empty, not unchanged */
	assert_false(check_fires(&in, NULL, "unchanged"));
	in.modified = MODIFIED;
	assert_false(check_fires(&in, NULL, "empty"));
}

static void truncated_fires_on_finish_reason_length(void **state)
{
	struct filter_input in = base_input();

	(void)state;
	in.finish_reason = "length";
	assert_true(check_fires(&in, NULL, "truncated"));
	in.finish_reason = "stop";
	assert_false(check_fires(&in, NULL, "truncated"));
	in.finish_reason = NULL;
	assert_false(check_fires(&in, NULL, "truncated"));
}

static void no_questions_fires_only_when_questions_are_expected(void **state)
{
	static const char *const many[21] = {
		"Q1 ok?", "Q2 ok?", "Q3 ok?", "Q4 ok?", "Q5 ok?", "Q6 ok?", "Q7 ok?",
		"Q8 ok?", "Q9 ok?", "Q10 ok?", "Q11 ok?", "Q12 ok?", "Q13 ok?", "Q14 ok?",
		"Q15 ok?", "Q16 ok?", "Q17 ok?", "Q18 ok?", "Q19 ok?", "Q20 ok?", "Q21 ok?",
	};
	struct filter_input in = base_input();
	struct filter_limits l;

	(void)state;
	in.questions = NULL;
	in.nquestions = 0;
	assert_true(check_fires(&in, NULL, "no-questions"));
	in.questions_expected = 0;
	assert_false(check_fires(&in, NULL, "no-questions"));
	/* min_questions 0 allows none */
	in.questions_expected = 1;
	filter_limits_default(&l);
	l.min_questions = 0;
	assert_false(check_fires(&in, &l, "no-questions"));
	/* one is too few when min_questions is 2 */
	in.questions = good_questions;
	in.nquestions = 1;
	l.min_questions = 2;
	assert_true(check_fires(&in, &l, "no-questions"));
	/* and more than max_questions is refused too */
	in.questions = many;
	in.nquestions = 21;
	assert_true(check_fires(&in, NULL, "no-questions"));
	filter_limits_default(&l);
	l.max_questions = 21;
	assert_false(check_fires(&in, &l, "no-questions"));
}

static int is_question(const char *q)
{
	const char *qs[] = { q };
	struct filter_input in = base_input();

	in.questions = qs;
	in.nquestions = 1;
	return !check_fires(&in, NULL, "not-a-question");
}

static void not_a_question_fires_on_statements(void **state)
{
	(void)state;
	assert_true(is_question("Which integers count as large?"));
	assert_true(is_question("Is the bound inclusive?  \n"));
	assert_true(is_question("Why?"));
	assert_false(is_question("Print the answer modulo 7."));
	assert_false(is_question("The bound is inclusive"));
	assert_false(is_question("## Questions"));
	assert_false(is_question("1. Yes: the bound is inclusive (see above)"));
	assert_false(is_question(""));
	assert_false(is_question("N?"));
	assert_false(is_question("Is it? Yes it is."));
}

static void question_mark_may_sit_inside_closing_quotes_or_brackets(void **state)
{
	(void)state;
	assert_true(is_question("Does \"sum\" mean \"the total?\""));
	assert_true(is_question("Is the answer 'yes?'"));
	assert_true(is_question("(Is n even?)"));
	assert_true(is_question("**Is n even?**"));
	assert_true(is_question("Is the answer \"x (or y?)\" "));
}

/* "closing quote or bracket" includes ] and the typographic quotes */
static void question_mark_may_sit_inside_square_brackets_and_curly_quotes(void **state)
{
	(void)state;
	assert_true(is_question("[Is n even?]"));
	assert_true(is_question("Does \xe2\x80\x9csum\xe2\x80\x9d mean \xe2\x80\x9cthe total?\xe2\x80\x9d"));
	assert_true(is_question("Is it \xe2\x80\x98" "big?\xe2\x80\x99"));
}

static void thresholds_from_filter_limits_change_the_outcome(void **state)
{
	struct filter_input in = base_input();
	struct filter_limits l;

	(void)state;
	/* drift: the sound rewrite shares most runs, not all */
	filter_limits_default(&l);
	assert_false(check_fires(&in, &l, "drift"));
	l.drift_min_overlap = 1.0;
	l.drift_min_content = 1.0;
	assert_true(check_fires(&in, &l, "drift"));
	l.drift_min_overlap = 0.0;
	in.modified = "A robot walks on a grid of h rows and w columns and must reach the "
		      "bottom right corner in the fewest moves, avoiding the blocked cells.";
	assert_false(check_fires(&in, &l, "drift"));
}

/* ---- the shipped rules ----------------------------------------------------- */

struct positive {
	const char *text;
	const char *rule;
	int field;     /* where to put text: FIELD_MODIFIED or FIELD_QUESTIONS */
};

/* Hard positives, at least two per shipped rule (none from labelled.jsonl). */
static const struct positive positives[] = {
	{ "Unlike the earlier version, n may now be zero.", "ref-original-problem",
	  FIELD_MODIFIED },
	{ "As stated in the initial problem statement, the grid is square.",
	  "ref-original-problem", FIELD_MODIFIED },
	{ "Should we keep the limits from the source task statement?", "ref-original-problem",
	  FIELD_QUESTIONS },
	{ "The bounds are tighter than in the original.", "ref-original-bare", FIELD_MODIFIED },
	{ "The output format is the same as in the original;\nonly the input changes.",
	  "ref-original-bare", FIELD_MODIFIED },
	{ "Is k still bounded as in the original?", "ref-original-bare", FIELD_QUESTIONS },
	{ "Compared to the first version, queries are now answered online.",
	  "ref-compared-to-original", FIELD_MODIFIED },
	{ "This differs from the previous statement in one respect.",
	  "ref-compared-to-original", FIELD_MODIFIED },
	{ "In this rewrite, the tie-breaking rule is left open.", "ref-rewrite", FIELD_MODIFIED },
	{ "Which value does the revised statement intend for k?", "ref-rewrite",
	  FIELD_QUESTIONS },
	{ "Print the answer for our rewritten task exactly as before.", "ref-rewrite",
	  FIELD_MODIFIED },
	{ "In this new version of the problem, k can be negative.", "ref-new-version",
	  FIELD_MODIFIED },
	{ "Does the new version of the task allow repeated values?", "ref-new-version",
	  FIELD_QUESTIONS },
	{ "Before the statement was modified, the answer was unique.", "ref-before-change",
	  FIELD_MODIFIED },
	{ "Before it was made ambiguous, was the limit on n explicit?", "ref-before-change",
	  FIELD_QUESTIONS },
	{ "### Final version (constraints hidden)\nGiven n boxes, stack them.", "echoed-header",
	  FIELD_MODIFIED },
	{ "> The updated task:\nGiven n boxes, stack them.", "echoed-header", FIELD_MODIFIED },
	{ "Stacking boxes\n\n**New question**\nGiven n boxes, stack them.", "echoed-header",
	  FIELD_MODIFIED },
	{ "Revised Description:\nGiven n boxes, stack them.", "echoed-header-statement",
	  FIELD_MODIFIED },
	{ "**Incomplete Statement**:\nGiven n boxes, stack them.", "echoed-header-statement",
	  FIELD_MODIFIED },
	{ "Given n boxes, stack them.\n\n=== Contradiction ===\nThe two limits disagree.",
	  "explanation-section", FIELD_MODIFIED },
	{ "Given n boxes, stack them.\n\nWhy this is now unclear: the height is not given.",
	  "explanation-label", FIELD_MODIFIED },
	{ "Given n boxes, stack them.\n\n**Source of ambiguity:** the word \"tall\".",
	  "explanation-label", FIELD_MODIFIED },
	{ "Given n boxes, stack them.\n\n### Removed constraint\nThe bound on n.",
	  "explanation-removed", FIELD_MODIFIED },
	{ "Given n boxes, stack them.\n\nOmitted details: the bound on the height.",
	  "removed-label", FIELD_MODIFIED },
	{ "Given n boxes, stack them by the tall rule [vague] and print the height.",
	  "inline-marker", FIELD_MODIFIED },
	{ "Given n boxes (Contradiction: n is both odd and even) stack them.", "inline-marker",
	  FIELD_MODIFIED },
	{ "We've dropped the upper limit on k.\nGiven n boxes, stack them.",
	  "announces-change", FIELD_MODIFIED },
	{ "I rephrased the sentence about ties so that it reads two ways.",
	  "announces-change", FIELD_MODIFIED },
	{ "I removed the constraint on n; may n be zero?", "announces-change",
	  FIELD_QUESTIONS },
	{ "Given n boxes, stack them.\nNote that the statement deliberately leaves out the modulus.",
	  "note-this-version", FIELD_MODIFIED },
	{ "Given n boxes, stack them.\nNOTE: this task does not specify the tie rule.",
	  "note-this-version", FIELD_MODIFIED },
	{ "Here is an updated statement for you.\nGiven n boxes, stack them.", "here-is-rewrite",
	  FIELD_MODIFIED },
	{ "Given n boxes, stack them.\n\nHere is my rewritten version; the sizes are up to you.",
	  "here-is-rewrite", FIELD_MODIFIED },
	{ "Given n boxes, stack them. The value of k has intentionally been left unspecified.",
	  "changes-made", FIELD_MODIFIED },
	{ "Given n boxes, stack them. The omission lies in the input section.", "changes-made",
	  FIELD_MODIFIED },
	{ "Given n boxes, stack them; the order is open to interpretation.", "clarity-idiom",
	  FIELD_MODIFIED },
	{ "Depending on how you read it, a box may hold several others.", "clarity-idiom",
	  FIELD_MODIFIED },
	{ "<modified_problem>\nGiven n boxes, stack them.", "echoed-tag", FIELD_MODIFIED },
	{ "Is the stack sorted?</questions>", "echoed-tag", FIELD_QUESTIONS },
	{ "**Reasoning:** the bound decides the method.\n\nGiven n boxes, stack them.",
	  "reasoning-section", FIELD_MODIFIED },
	{ "Thought process: the bound decides it.\nGiven n boxes, stack them.",
	  "reasoning-section", FIELD_MODIFIED },
	{ "Given n boxes, stack them. The constraints on n have been removed so that the solver "
	  "has to ask.", "announces-removal", FIELD_MODIFIED },
	{ "Given n boxes, stack them. Some details have been deliberately withheld.",
	  "announces-removal", FIELD_MODIFIED },
	{ "Given n boxes, stack them.\n\nChanges made: the bound on the height is gone.",
	  "removed-label", FIELD_MODIFIED },
	{ "Given n boxes, stack them.\n\n### What was removed\nThe bound on the height.",
	  "explanation-removed", FIELD_MODIFIED },
	{ "Given n boxes, stack them.\n\n-----Ambiguity-----\nThe word tall is vague now.",
	  "explanation-section", FIELD_MODIFIED },
	{ "Given n boxes, stack them.\n\n### Note on the modification\nThe bound was raised.",
	  "explanation-heading", FIELD_MODIFIED },
	{ "Given n boxes, stack them.\n\n**What changed**\nThe order is gone.",
	  "explanation-heading", FIELD_MODIFIED },
	{ "Approach:\n1. Sort the boxes.\n2. Stack them greedily.", "solution-instead",
	  FIELD_MODIFIED },
	{ "def solve(n):\n    return n", "solution-instead", FIELD_MODIFIED },
	{ "Was the requirement that the boxes are sorted removed?", "ref-edit-in-question",
	  FIELD_QUESTIONS },
	{ "Has the limit on n been relaxed?", "ref-edit-in-question", FIELD_QUESTIONS },
	{ "Was the bound softened in this edit?", "ref-the-edit", FIELD_QUESTIONS },
	{ "Before the change, could a box be empty?", "ref-the-edit", FIELD_QUESTIONS },
	{ "A box may hold only smaller boxes, right?", "question-states-answer",
	  FIELD_QUESTIONS },
	{ "The stack is built bottom up, isn't it?", "question-states-answer", FIELD_QUESTIONS },
	{ "Is n still at most 100 as before?", "ref-earlier-in-question", FIELD_QUESTIONS },
	{ "Should we keep the previous bound on n?", "ref-earlier-in-question", FIELD_QUESTIONS },
	{ "Previously the boxes had to be sorted; is that still so?", "ref-earlier-in-question",
	  FIELD_QUESTIONS },
	{ "Must the sum be even, as the statement specified before?", "ref-earlier-in-question",
	  FIELD_QUESTIONS },
	{ "The original asked for the tallest stack; is any stack fine?", "ref-original-problem",
	  FIELD_QUESTIONS },
	{ "Given n boxes, stack them.\n\nThe height bound was dropped to make the problem incomplete.",
	  "announces-purpose", FIELD_MODIFIED },
	{ "Given n boxes, stack them.\n\nNote: the exact height limit was replaced with a looser "
	  "phrase.", "announces-purpose", FIELD_MODIFIED },
	{ "Rewritten (incomplete) problem:\n\nGiven n boxes, stack them.", "echoed-header",
	  FIELD_MODIFIED },
	{ "Given n boxes, stack them.\n\nWhat I removed: the bound on n.", "removed-label",
	  FIELD_MODIFIED },
};

static const char *const hard_negatives[] = {
	"Restore the original string from its encoded form.",
	"The robot returns to the initial position after all the commands.",
	"Use a modified version of Dijkstra's algorithm to find the cheapest path.",
	"Apply the rewrite rules of the grammar until no rule matches.",
	"-----Note-----\n\nIn the first example the answer is 3.",
	"Count the ambiguous pairs (i, j) with i < j and a_i = a_j.",
	"I have n apples and m oranges; how many full baskets can I make?",
	"Print the changes made to the array by each operation.",
	"This is the easy version of the problem. The only difference is the bound on n.",
	"Each element must be greater than the previous element.",
	"If the answer is ambiguous, print AMBIGUOUS.",
	"The registers are in an inconsistent state; print INCONSISTENT in that case.",
	"Incomplete rows of the matrix are padded with zeros.",
	"Answer the earlier queries first, then the later ones.",
	"Given the original array a and the modified array b, count where they differ.",
	"Compared to the previous day, did the price rise?",
	"The element that was removed last is printed first.",
	"Example 1:\nInput: s = \"abc\"\nOutput: 3\nExplanation: the substrings are a, b and c.",
	"Follow-up: can you solve it in O(n) time?",
	"Note: the answer may be large, so print it modulo 10^9+7.",
	"Output the unchanged elements in their initial order.",
	"Here is how the game works: Alice moves first.",
	"The first version of the file has n lines; each later version changes one line.",
	"We removed nothing: print the list as it is.",
	"Clarification: the input string may be empty.",
	"A rewrite of a string replaces one letter; find the fewest rewrites.",
	"The new version number is the old one plus one.",
	"The interpretation of each command is given in the table below.",
	"Can a previously visited cell be entered again?",
	"Boxes that were removed are not counted; to make the stack stable, sort them first.",
	"To make the array sorted, you may swap two elements; the swapped ones were chosen at random.",
	"Is the element that was removed counted in the answer?",
	"Does the array stay the same as before the operation?",
	"Print the solution as n integers.",
	"The answer is the sum of the values; note that it may not fit in 32 bits.",
	"In this version, q = 0: there are no updates.",
};

static void shipped_rules_fire_on_hard_positives(void **state)
{
	struct filter_set fs;
	size_t covered = 0;
	int missed = 0;

	(void)state;
	load_shipped(&fs);
	for (size_t i = 0; i < CL_ARRAY_SIZE(positives); i++) {
		const struct positive *p = &positives[i];
		const char *qs[] = { p->text };
		struct filter_input in = { .modified = "Given n boxes, stack them." };
		struct filter_result r;

		if (p->field == FIELD_MODIFIED)
			in.modified = p->text;
		else {
			in.questions = qs;
			in.nquestions = 1;
		}
		run(&fs, &in, &r);
		if (!find(&r, p->rule, p->field) || !r.rejected) {
			print_error("'%s' did not fire on \"%s\"; verdicts: %s\n", p->rule, p->text,
				    rules_of(&r));
			missed++;
		}
		filter_result_release(&r);
	}
	assert_int_equal(missed, 0);
	/* every shipped rule has at least two */
	for (size_t k = 0; k < fs.n; k++) {
		size_t n = 0;

		for (size_t i = 0; i < CL_ARRAY_SIZE(positives); i++)
			n += strcmp(positives[i].rule, filter_rule_id(&fs, k)) == 0;
		if (n < 2)
			fail_msg("rule '%s' has %zu hard positives", filter_rule_id(&fs, k), n);
		covered++;
	}
	assert_int_equal(covered, CL_ARRAY_SIZE(shipped_ids));
	filter_set_release(&fs);
}

/*
 * The prefilter must not hide what a pattern matches: explanation-section
 * matches 'inconsisten\w*' and 'contradict\w*', note-this-version
 * 'ambigu\w*', 'remov\w*' and 'inconsisten\w*', so the inflected words
 * must be among their keywords.
 */
static void shipped_rules_fire_on_inflected_trigger_words(void **state)
{
	static const struct positive inflected[] = {
		{ "Given n boxes, stack them.\n\n-----Inconsistencies-----\nThe limits disagree.",
		  "explanation-section", FIELD_MODIFIED },
		{ "Given n boxes, stack them.\n\n-----Contradictions-----\nThe limits disagree.",
		  "explanation-section", FIELD_MODIFIED },
		{ "Given n boxes, stack them.\n\n## Contradicting limits\nThe limits disagree.",
		  "explanation-section", FIELD_MODIFIED },
		{ "Given n boxes, stack them.\nNote: this version is ambiguously worded.",
		  "note-this-version", FIELD_MODIFIED },
		{ "Given n boxes, stack them.\nNote: this version has ambiguities in the limits.",
		  "note-this-version", FIELD_MODIFIED },
		{ "Given n boxes, stack them.\nNote: the statement has inconsistencies in the limits.",
		  "note-this-version", FIELD_MODIFIED },
	};
	struct filter_set fs;
	int missed = 0;

	(void)state;
	load_shipped(&fs);
	for (size_t i = 0; i < CL_ARRAY_SIZE(inflected); i++) {
		if (!fires_on_modified(&fs, inflected[i].rule, inflected[i].text)) {
			print_error("'%s' did not fire on \"%s\"\n", inflected[i].rule,
				    inflected[i].text);
			missed++;
		}
	}
	assert_int_equal(missed, 0);
	filter_set_release(&fs);
}

/*
 * echoed-header and echoed-header-statement accept markdown bold in
 * underscores ("__Modified Problem__"), but '_' is a word character to the
 * tokenizer: the token is "__modified", not the keyword "modified".
 */
static void shipped_rules_fire_on_headers_in_underscore_bold(void **state)
{
	static const struct positive underscored[] = {
		{ "__Modified Problem__\nGiven n boxes, stack them.", "echoed-header",
		  FIELD_MODIFIED },
		{ "Stacking boxes\n\n__New question__\nGiven n boxes, stack them.", "echoed-header",
		  FIELD_MODIFIED },
		{ "__Incomplete Statement__:\nGiven n boxes, stack them.", "echoed-header-statement",
		  FIELD_MODIFIED },
		{ "Given n boxes, stack them.\n\n__Ambiguity introduced__: the word tall.",
		  "explanation-label", FIELD_MODIFIED },
	};
	struct filter_set fs;
	int missed = 0;

	(void)state;
	load_shipped(&fs);
	for (size_t i = 0; i < CL_ARRAY_SIZE(underscored); i++) {
		if (!fires_on_modified(&fs, underscored[i].rule, underscored[i].text)) {
			print_error("'%s' did not fire on \"%s\"\n", underscored[i].rule,
				    underscored[i].text);
			missed++;
		}
	}
	assert_int_equal(missed, 0);
	filter_set_release(&fs);
}

static void shipped_rules_do_not_fire_on_hard_negatives(void **state)
{
	struct filter_set fs;
	int fired = 0;

	(void)state;
	load_shipped(&fs);
	for (size_t i = 0; i < CL_ARRAY_SIZE(hard_negatives); i++) {
		const char *qs[] = { hard_negatives[i] };
		struct filter_input in = { .modified = hard_negatives[i], .questions = qs,
					   .nquestions = 1 };
		struct filter_result r;

		run(&fs, &in, &r);
		if (r.n) {
			print_error("'%s' fired on \"%s\": %s\n", r.v[0].rule, hard_negatives[i],
				    r.v[0].detail);
			fired++;
		}
		filter_result_release(&r);
	}
	assert_int_equal(fired, 0);
	assert_true(CL_ARRAY_SIZE(hard_negatives) >= 15);
	filter_set_release(&fs);
}


/* ---- the second wave's checks ------------------------------------------------ */

#define STORY "Polycarp has n binary words. He wants to reverse as few of them as " \
	      "possible so that they can be put in an order where each word starts with " \
	      "the last letter of the previous one.\n\nInput\nThe first line contains t, " \
	      "the number of test cases."

/* inline-commentary reads what a sentence says about the text, in many words */
static void inline_commentary_fires_on_a_text_that_talks_about_its_clarity(void **state)
{
	static const char *const remarks[] = {
		"It is not specified whether the words are distinct.",
		"The statement does not say how ties are broken.",
		"This can be interpreted in two ways.",
		"There are several interpretations of a valid order.",
		"It's unclear whether a word may be reversed twice.",
		"Whether empty words are allowed is left open.",
		"The exact bound on n is not given.",
		"Note: the behaviour when no answer exists is not specified.",
		"No upper bound is given for t.",
		"The description is silent on the order of the output.",
		"These two limits cannot both hold.",
		"The example does not match the rule stated above.",
		"The requirements are phrased loosely on purpose.",
		"What to print if no order exists is not mentioned.",
	};
	char text[1024];
	struct filter_input in = { .original = STORY };

	(void)state;
	for (size_t i = 0; i < CL_ARRAY_SIZE(remarks); i++) {
		snprintf(text, sizeof(text), "%s %s", STORY, remarks[i]);
		in.modified = text;
		if (!check_fires(&in, NULL, "inline-commentary"))
			fail_msg("inline-commentary did not fire on \"%s\"", remarks[i]);
	}
}

/* ... and not on a problem's own words, nor on what the original says too */
static void inline_commentary_passes_a_problems_own_words(void **state)
{
	static const char *const own[] = {
		"If the answer is not uniquely determined, print AMBIGUOUS.",
		"A pair is ambiguous if both words are equal.",
		"If the records are inconsistent, print -1.",
		"A value that is not specified in the input is assumed to be zero.",
		"It is not guaranteed that all words are distinct.",
		"The array is not given to you; ask queries instead.",
		"Print the word \"unclear\" if no order exists.",
		"Vasya does not say anything during the game.",
		"The answer may not fit in a 32-bit integer.",
		"The interpretation of each command is given in the table below.",
	};
	char text[1024];
	struct filter_input in = { .original = STORY };

	(void)state;
	for (size_t i = 0; i < CL_ARRAY_SIZE(own); i++) {
		snprintf(text, sizeof(text), "%s %s", STORY, own[i]);
		in.modified = text;
		if (check_fires(&in, NULL, "inline-commentary"))
			fail_msg("inline-commentary fired on \"%s\"", own[i]);
	}
	/* a remark the original makes itself is the problem's own */
	snprintf(text, sizeof(text), "%s It is not specified whether the words are distinct.",
		 STORY);
	in.original = text;
	in.modified = text;
	assert_false(check_fires(&in, NULL, "inline-commentary"));
}

/* drift: a rewrite that reorders and rewords keeps the problem's words */
static void drift_passes_a_reordered_paraphrase_and_catches_another_problem(void **state)
{
	struct filter_input in = { .original = STORY };

	(void)state;
	in.modified = "Input: the opening line holds t, the count of scenarios. Polycarp owns n "
		      "binary words and would like to flip the fewest of them, so that they can be "
		      "arranged with every word beginning with the previous word's last letter.";
	assert_false(check_fires(&in, NULL, "drift"));
	in.modified = "A gardener plants tulips along a fence of length L. Each tulip needs d "
		      "centimetres of free soil on both sides. How many tulips fit along the fence "
		      "if the first and last tulips may touch its ends?";
	assert_true(check_fires(&in, NULL, "drift"));
}

/* what the original repeats is its own; a reply that loops is not */
static void repetition_is_judged_against_the_original(void **state)
{
	static const char *orig = "Print the sum.\n\nExample\nInput\n1 2 3 4 5 6 7 8 9 10 11 12 "
				  "13 14 15 16 17 18 19 20 21 22 23 24 25 26 27\nOutput\n378\n";
	char text[2048];
	struct filter_input in = { .original = orig };

	(void)state;
	/* the examples section shown twice, as some models do */
	snprintf(text, sizeof(text), "Print the total.\n\nExample\nInput\n1 2 3 4 5 6 7 8 9 10 11 "
		 "12 13 14 15 16 17 18 19 20 21 22 23 24 25 26 27\nOutput\n378\n\nExample (again)\n"
		 "Input\n1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25 26 27\n"
		 "Output\n378\n");
	in.modified = text;
	assert_false(check_fires(&in, NULL, "repeated-lines"));
	assert_false(check_fires(&in, NULL, "repeated-ngrams"));
	/* a sentence four times over, at one period */
	in.original = STORY;
	snprintf(text, sizeof(text), "%s Each word may be reversed at most once. Each word may be "
		 "reversed at most once. Each word may be reversed at most once. Each word may be "
		 "reversed at most once.", STORY);
	in.modified = text;
	assert_true(check_fires(&in, NULL, "repeated-ngrams"));
	/* one short line over and over */
	snprintf(text, sizeof(text), "%s\n\nOutput\n42\n42\n42\n42\n42\n42\n42\n", STORY);
	in.modified = text;
	assert_true(check_fires(&in, NULL, "repeated-lines"));
}

/* formatting is no edit, a changed relation is */
static void unchanged_sees_through_formatting_but_not_a_changed_relation(void **state)
{
	struct filter_input in = { .original = "Print n ($1 \\le n \\le 10^5$) numbers with "
					      "$a_i \\neq a_{i+1}$.\n\n-----Input-----\nOne line." };

	(void)state;
	in.modified = "Print n (1 ≤ n ≤ 10^5) numbers with a_i ≠ a_{i+1}.\n\n## Input\nOne line.";
	assert_true(check_fires(&in, NULL, "unchanged"));
	in.modified = "Print n (1 <= n <= 10^5) numbers with a_i != a_{i+1}.\n\n**Input**\nOne line.";
	assert_true(check_fires(&in, NULL, "unchanged"));
	in.modified = "Print n ($1 \\le n \\le 10^5$) numbers with $a_i = a_{i+1}$.\n\n"
		      "-----Input-----\nOne line.";
	assert_false(check_fires(&in, NULL, "unchanged"));
}

/* an arithmetic operator is part of the task ("a - b" for "a \\cdot b",
 * "print 1" for "print -1"); hyphens, rules, bullets and emphasis are not */
static void unchanged_sees_a_changed_operator(void **state)
{
	struct filter_input in = { .original = "Find real $a$ and $b$ with $a + b = d$ and "
					      "$a \\cdot b = d$; the $i$-th query is $2 \\cdot 10^5$ "
					      "at most. Print -1 if there is none.\n\n-----Input-----\n"
					      "- one line\n*One* number." };

	(void)state;
	in.modified = "Find real a and b with a + b = d and a * b = d; the i-th query is 2*10^5 at "
		      "most. Print -1 if there is none.\n\n**Input**\n- one line\n*One* number.";
	assert_true(check_fires(&in, NULL, "unchanged"));
	in.modified = "Find real a and b with a + b = d and a · b = d; the i-th query is 2 × 10^5 "
		      "at most. Print −1 if there is none.\n\n## Input\n- one line\nOne number.";
	assert_true(check_fires(&in, NULL, "unchanged"));
	in.modified = "Find real $a$ and $b$ with $a + b = d$ and $a - b = d$; the $i$-th query is "
		      "$2 \\cdot 10^5$ at most. Print -1 if there is none.\n\n-----Input-----\n"
		      "- one line\n*One* number.";
	assert_false(check_fires(&in, NULL, "unchanged"));
	in.modified = "Find real $a$ and $b$ with $a + b = d$ and $a \\cdot b = d$; the $i$-th query "
		      "is $2 \\cdot 10^5$ at most. Print 1 if there is none.\n\n-----Input-----\n"
		      "- one line\n*One* number.";
	assert_false(check_fires(&in, NULL, "unchanged"));
}

/* a bound the rewrite dropped leaks from a question in any notation;
 * an example's number does not make it the rewrite's bound */
static void questions_may_not_give_a_dropped_bound(void **state)
{
	static const char *const q1[] = { "Can n be as large as 100000?" };
	static const char *const q2[] = { "Is n at most 2 \\cdot 10^5?" };
	static const char *const q3[] = { "Is the output 41 under the stated rule?" };
	struct filter_input in = {
		.original = "Read n ($1 \\le n \\le 10^5$), then n more ($n \\le 2 \\cdot 10^5$ in "
			    "total).\n\nExample\nInput\n41\nOutput\n41",
		.modified = "Read n, then n more.\n\nExample\nInput\n100000\nOutput\n40",
		.questions = q1, .nquestions = 1,
	};

	(void)state;
	assert_true(check_fires(&in, NULL, "hidden-leak"));
	in.questions = q2;
	assert_true(check_fires(&in, NULL, "hidden-leak"));
	in.questions = q3;
	assert_false(check_fires(&in, NULL, "hidden-leak"));
}

/* reject, flag (soft) and off, for built-in checks and for rules */
static void actions_make_a_check_soft_or_turn_it_off(void **state)
{
	struct filter_set fs;
	struct filter_result r;
	char text[1024];
	struct filter_input in = { .original = STORY };

	(void)state;
	snprintf(text, sizeof(text), "%s It is not specified whether words repeat.", STORY);
	in.modified = text;
	assert_int_equal(filter_action_parse("soft"), FILTER_FLAG);
	assert_int_equal(filter_action_parse("flag"), FILTER_FLAG);
	assert_int_equal(filter_action_parse("off"), FILTER_OFF);
	assert_int_equal(filter_action_parse("maybe"), -1);
	load_shipped(&fs);
	assert_int_equal(filter_set_action(&fs, "inline-commentary", FILTER_FLAG), 0);
	run(&fs, &in, &r);
	assert_non_null(find(&r, "inline-commentary", FIELD_MODIFIED));
	assert_int_equal(find(&r, "inline-commentary", FIELD_MODIFIED)->action, FILTER_FLAG);
	assert_false(r.rejected);
	filter_result_release(&r);
	assert_int_equal(filter_set_action(&fs, "inline-commentary", FILTER_OFF), 0);
	run(&fs, &in, &r);
	assert_null(find(&r, "inline-commentary", -1));
	filter_result_release(&r);
	/* a rule file's rule too */
	in.modified = "Here is the modified problem: print the sum of n numbers.";
	assert_int_equal(filter_set_action(&fs, "here-is-rewrite", FILTER_OFF), 0);
	run(&fs, &in, &r);
	assert_null(find(&r, "here-is-rewrite", -1));
	filter_result_release(&r);
	assert_int_equal(filter_set_action(&fs, "no-such-rule", FILTER_OFF), CL_ENOTFOUND);
	filter_set_release(&fs);
}

/* a rule's match that the original has too is the problem's own */
static void a_match_the_original_has_is_the_problems_own(void **state)
{
	struct filter_set fs;
	struct filter_result r;
	struct filter_input in = {
		.original = "This is the hard version of the problem. Unlike the easy version, n "
			    "may be large.",
		.modified = "This is the hard version of the problem. Unlike the easy version, n "
			    "may be quite large.",
	};

	(void)state;
	load_shipped(&fs);
	run(&fs, &in, &r);
	assert_false(r.rejected);
	filter_result_release(&r);
	in.original = "This is a problem about n.";
	run(&fs, &in, &r);
	assert_true(r.rejected);
	filter_result_release(&r);
	filter_set_release(&fs);
}

/* ---- results, edge inputs -------------------------------------------------- */

static void filter_result_json_has_rule_action_field_and_detail(void **state)
{
	static const char *const qs[] = { "What is the secret?" };
	struct filter_set fs;
	struct filter_input in = { .modified = "a flagged secret", .questions = qs,
				   .nquestions = 1, .finish_reason = "length" };
	struct filter_result r;
	json_t *a, *v;

	(void)state;
	set_of_rule(&fs, "modified, questions", "secret", "", "flag");
	run(&fs, &in, &r);
	a = filter_result_json(&r);
	assert_non_null(a);
	assert_true(json_is_array(a));
	assert_int_equal(json_array_size(a), 3);

	v = json_array_get(a, 0);
	assert_string_equal(jsonx_str(v, "rule"), "truncated");
	assert_string_equal(jsonx_str(v, "action"), "reject");
	assert_string_equal(jsonx_str(v, "field"), "record");
	assert_string_equal(jsonx_str(v, "detail"), "the reply was cut off at the length limit");
	v = json_array_get(a, 1);
	assert_string_equal(jsonx_str(v, "rule"), "r");
	assert_string_equal(jsonx_str(v, "action"), "flag");
	assert_string_equal(jsonx_str(v, "field"), "modified");
	assert_string_equal(jsonx_str(v, "detail"), "\"secret\"");
	v = json_array_get(a, 2);
	assert_string_equal(jsonx_str(v, "field"), "questions");
	assert_string_equal(jsonx_str(v, "detail"), "question 1: \"secret\"");
	assert_int_equal(json_object_size(v), 4);
	json_decref(a);
	filter_result_release(&r);

	/* no verdicts: an empty array */
	filter_result_init(&r);
	a = filter_result_json(&r);
	assert_int_equal(json_array_size(a), 0);
	json_decref(a);
	filter_set_release(&fs);
}

/*
 * A detail is cut to fit; cut inside a UTF-8 character it would be
 * invalid, and jansson refuses invalid strings: the verdict must still
 * be in the JSON, with valid text.
 */
static void json_keeps_verdicts_whose_detail_is_cut_inside_a_character(void **state)
{
	char q[256], m[512];
	const char *qs[] = { q };
	struct filter_set fs;
	struct filter_input in = { 0 };
	struct filter_result r;
	json_t *a;

	(void)state;
	/* not-a-question quotes 100 bytes of the item: byte 100 is inside "é" */
	memset(q, 'a', 99);
	snprintf(q + 99, sizeof(q) - 99, "%s", "\xc3\xa9\xc3\xa9 is the rest of it");
	/* a pattern's detail quotes 120 bytes of the match: byte 120 is inside "é" */
	memset(m, 'b', 119);
	snprintf(m + 119, sizeof(m) - 119, "%s", "\xc3\xa9\xc3\xa9 and more text");
	in.modified = m;
	in.questions = qs;
	in.nquestions = 1;
	in.questions_expected = 1;
	set_of_rule(&fs, "modified", "b+\\S+", "", "reject");
	run(&fs, &in, &r);
	assert_fires(&r, "not-a-question", FIELD_QUESTIONS);
	assert_fires(&r, "r", FIELD_MODIFIED);
	for (size_t i = 0; i < r.n; i++)
		if (!utf8_valid(r.v[i].detail))
			fail_msg("the detail of '%s' is not valid UTF-8", r.v[i].rule);
	a = filter_result_json(&r);
	assert_int_equal(json_array_size(a), r.n);
	json_decref(a);
	filter_result_release(&r);
	filter_set_release(&fs);
}

static void run_with_null_reasoning_and_no_questions_works(void **state)
{
	struct filter_set fs;
	struct filter_input in = { .original = ORIGINAL, .modified = MODIFIED };
	struct filter_result r;
	struct filter_scratch *s;

	(void)state;
	load_shipped(&fs);
	run(&fs, &in, &r);
	assert_no_verdict(&r);
	filter_result_release(&r);

	/* everything NULL but modified */
	in.original = NULL;
	run(&fs, &in, &r);
	assert_no_verdict(&r);
	filter_result_release(&r);

	/* one scratch and one result, reused over records of different sizes */
	s = filter_scratch_new(&fs);
	assert_non_null(s);
	filter_result_init(&r);
	for (int i = 0; i < 3; i++) {
		struct filter_input big = base_input();

		filter_result_reset(&r);
		assert_int_equal(filter_run(&fs, s, &big, &r), 0);
		assert_int_equal(r.n, 0);
		filter_result_reset(&r);
		in.modified = "";
		assert_int_equal(filter_run(&fs, s, &in, &r), 0);
		assert_fires(&r, "empty", FIELD_MODIFIED);
	}
	filter_result_release(&r);
	filter_scratch_free(s);
	filter_scratch_free(NULL);
	filter_set_release(&fs);
}

static void invalid_utf8_gives_a_verdict_not_a_crash(void **state)
{
	static const char *const qs[] = { "Is the original problem \xc3\x28 still valid?" };
	struct filter_set fs;
	struct filter_input in = { .modified = "Solve the original problem \xff\xfe now.",
				   .questions = qs, .nquestions = 1 };
	struct filter_result r;
	json_t *a;

	(void)state;
	load_shipped(&fs);
	run(&fs, &in, &r);
	assert_fires(&r, "invalid-utf8", FIELD_MODIFIED);
	assert_fires(&r, "invalid-utf8", FIELD_QUESTIONS);
	assert_int_equal(find(&r, "invalid-utf8", FIELD_MODIFIED)->action, FILTER_REJECT);
	assert_true(r.rejected);
	a = filter_result_json(&r);
	assert_int_equal(json_array_size(a), r.n);
	json_decref(a);
	filter_result_release(&r);

	/* a truncated sequence at the very end */
	in.modified = "the original problem \xe2\x80";
	in.nquestions = 0;
	run(&fs, &in, &r);
	assert_fires(&r, "invalid-utf8", FIELD_MODIFIED);
	filter_result_release(&r);
	filter_set_release(&fs);
}

/*
 * The UTF-8 check must cover the whole text before a pattern runs with
 * PCRE2_NO_UTF_CHECK: a rule that runs on part of the text (from near its
 * first keyword to near its last) checks only that part, so an invalid
 * byte outside it must still be caught by the next rule, which runs on
 * the whole text.
 */
static void invalid_utf8_outside_a_keyword_window_is_still_caught(void **state)
{
	static const char two_rules[] =
		"rules:\n"
		"  - id: late\n    description: d\n    applies_to: [modified]\n"
		"    pattern: 'zzz'\n    keywords: [bar]\n    action: reject\n"
		"  - id: early\n    description: d\n    applies_to: [modified]\n"
		"    pattern: 'q'\n    action: reject\n";
	struct filter_set fs;
	struct filter_input in = { 0 };
	struct filter_result r;
	char text[1024];

	(void)state;
	set_from(&fs, two_rules);
	snprintf(text, sizeof(text), "\xff\n%0500d\nbar", 0);
	in.modified = text;
	run(&fs, &in, &r);
	assert_fires(&r, "invalid-utf8", FIELD_MODIFIED);
	filter_result_release(&r);
	snprintf(text, sizeof(text), "bar\n%0500d\n\xff", 0);
	run(&fs, &in, &r);
	assert_fires(&r, "invalid-utf8", FIELD_MODIFIED);
	filter_result_release(&r);
	filter_set_release(&fs);
}

struct tokens {
	char s[256];
	size_t len;
};

static void add_token(const char *t, size_t n, void *arg)
{
	struct tokens *k = arg;
	int w = snprintf(k->s + k->len, sizeof(k->s) - k->len, "%s%.*s", k->len ? "|" : "",
			 (int)n, t);

	if (w > 0)
		k->len += (size_t)w;
}

static void filter_tokens_splits_words_and_punctuation(void **state)
{
	struct tokens k = { "", 0 };

	(void)state;
	assert_int_equal(filter_tokens("Hello, World!  a_b \xc3\xa9t\xc3\xa9 <=", add_token, &k), 8);
	/* the callback sees the text's own bytes (case is folded in the hashes) */
	assert_string_equal(k.s, "Hello|,|World|!|a_b|\xc3\xa9t\xc3\xa9|<|=");
	assert_int_equal(filter_tokens("", add_token, &k), 0);
	assert_int_equal(filter_tokens(NULL, add_token, &k), 0);
}

/* ---- threads ------------------------------------------------------------ */

#define THREAD_ROUNDS 20

struct worker {
	const struct filter_set *fs;
	const struct filter_input *inputs;
	size_t n;
	char (*want)[512];
	int mismatches;
	int errors;
};

/* "rule/field/action;..." of one run */
static void signature(const struct filter_result *r, char *out, size_t cap)
{
	size_t len = 0;

	out[0] = '\0';
	for (size_t i = 0; i < r->n; i++) {
		int k = snprintf(out + len, cap - len, "%s/%d/%d;", r->v[i].rule, r->v[i].field,
				 r->v[i].action);

		if (k < 0 || (size_t)k >= cap - len)
			break;
		len += (size_t)k;
	}
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct filter_scratch *s = filter_scratch_new(w->fs);
	struct filter_result r;
	char got[512];

	if (!s) {
		w->errors++;
		return NULL;
	}
	filter_result_init(&r);
	for (int round = 0; round < THREAD_ROUNDS; round++) {
		for (size_t i = 0; i < w->n; i++) {
			filter_result_reset(&r);
			if (filter_run(w->fs, s, &w->inputs[i], &r)) {
				w->errors++;
				continue;
			}
			signature(&r, got, sizeof(got));
			w->mismatches += strcmp(got, w->want[i]) != 0;
		}
	}
	filter_result_release(&r);
	filter_scratch_free(s);
	return NULL;
}

static void two_threads_sharing_a_set_give_the_verdicts_of_one(void **state)
{
	enum { NPOS = CL_ARRAY_SIZE(positives), NNEG = CL_ARRAY_SIZE(hard_negatives) };
	static const char *const leak[] = { "Is each between 1 and 1000 still the range?" };
	static struct filter_input inputs[NPOS + NNEG + 4];
	static char want[NPOS + NNEG + 4][512];
	static const char *pos_q[NPOS][1];
	struct filter_set fs;
	struct worker w[2];
	pthread_t t[2];
	size_t n = 0;
	int fired = 0;

	(void)state;
	load_shipped(&fs);
	for (size_t i = 0; i < NPOS; i++) {
		struct filter_input in = base_input();

		if (positives[i].field == FIELD_MODIFIED) {
			in.modified = positives[i].text;
		} else {
			pos_q[i][0] = positives[i].text;
			in.questions = pos_q[i];
			in.nquestions = 1;
		}
		inputs[n++] = in;
	}
	for (size_t i = 0; i < NNEG; i++) {
		struct filter_input in = { .original = ORIGINAL, .modified = hard_negatives[i] };

		inputs[n++] = in;
	}
	inputs[n] = base_input();
	inputs[n++].modified = ORIGINAL;           /* unchanged */
	inputs[n] = base_input();
	inputs[n].modified = MODIFIED_NO_RANGE;    /* hidden-leak */
	inputs[n].questions = leak;
	inputs[n++].nquestions = 1;
	inputs[n] = base_input();
	inputs[n++].finish_reason = "length";      /* truncated */
	inputs[n++] = base_input();                /* clean */

	/* one thread first: the expected verdicts */
	for (size_t i = 0; i < n; i++) {
		struct filter_result r;

		run(&fs, &inputs[i], &r);
		signature(&r, want[i], sizeof(want[i]));
		fired += r.n > 0;
		filter_result_release(&r);
	}
	assert_true(fired > (int)NPOS);

	for (int i = 0; i < 2; i++) {
		w[i] = (struct worker){ .fs = &fs, .inputs = inputs, .n = n, .want = want };
		assert_int_equal(pthread_create(&t[i], NULL, worker_main, &w[i]), 0);
	}
	for (int i = 0; i < 2; i++) {
		assert_int_equal(pthread_join(t[i], NULL), 0);
		assert_int_equal(w[i].errors, 0);
		assert_int_equal(w[i].mismatches, 0);
	}
	filter_set_release(&fs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(valid_rule_file_loads_ids_descriptions_and_actions),
		cmocka_unit_test(empty_rule_list_loads_and_runs_the_built_in_checks),
		cmocka_unit_test(malformed_yaml_is_refused_at_its_line_and_column),
		cmocka_unit_test(top_level_other_than_rules_is_refused),
		cmocka_unit_test(unknown_rule_key_is_refused_naming_the_rule),
		cmocka_unit_test(missing_required_keys_are_refused_naming_the_rule),
		cmocka_unit_test(bad_id_is_refused),
		cmocka_unit_test(unknown_applies_to_value_is_refused),
		cmocka_unit_test(unknown_flag_is_refused),
		cmocka_unit_test(bad_action_is_refused),
		cmocka_unit_test(duplicate_id_in_one_file_is_refused_naming_the_first),
		cmocka_unit_test(duplicate_id_across_two_files_is_refused),
		cmocka_unit_test(bad_pcre2_pattern_is_refused_with_pcre2_text_and_offset),
		cmocka_unit_test(keyword_that_is_not_one_word_is_refused),
		cmocka_unit_test(and_keywords_without_keywords_is_refused),
		cmocka_unit_test(failed_file_leaves_the_set_as_it_was),

		cmocka_unit_test(load_dir_of_the_shipped_rules_names_every_rule),
		cmocka_unit_test(load_dir_skips_other_files_and_fingerprints_contents),
		cmocka_unit_test(load_file_reads_one_rule_file),
		cmocka_unit_test(load_dir_without_yaml_files_is_enotfound),
		cmocka_unit_test(load_dir_of_missing_folder_names_it),
		cmocka_unit_test(load_dir_with_one_bad_file_keeps_nothing_and_names_the_file),

		cmocka_unit_test(rule_with_keywords_needs_one_of_them_in_the_text),
		cmocka_unit_test(keywords_match_whole_words_in_any_case),
		cmocka_unit_test(and_keywords_need_one_word_of_each_list),
		cmocka_unit_test(rule_without_keywords_always_runs),
		cmocka_unit_test(unless_in_original_passes_over_the_originals_words),
		cmocka_unit_test(keyword_rules_run_near_their_keywords),
		cmocka_unit_test(set_of_seventy_rules_runs_each_of_them),

		cmocka_unit_test(rule_fires_only_on_the_fields_it_applies_to),
		cmocka_unit_test(a_rule_gives_one_verdict_per_field),
		cmocka_unit_test(flag_verdict_does_not_reject),
		cmocka_unit_test(flags_caseless_and_multiline_change_matching),

		cmocka_unit_test(sound_record_gets_no_verdict),
		cmocka_unit_test(unchanged_fires_on_case_space_and_punctuation_only),
		cmocka_unit_test(drift_fires_on_another_problem),
		cmocka_unit_test(hidden_leak_fires_on_a_question_quoting_removed_text),
		cmocka_unit_test(hidden_leak_finds_every_ngram_of_texts_of_every_length),
		cmocka_unit_test(repeated_lines_fires_on_a_line_four_times),
		cmocka_unit_test(repeated_lines_fires_on_a_long_paragraph_twice),
		cmocka_unit_test(repeated_ngrams_fires_on_a_word_four_times_in_a_row),
		cmocka_unit_test(repeated_ngrams_fires_on_heavy_repetition),
		cmocka_unit_test(leak_ngram_sets_the_run_length_of_drift_and_repeats),
		cmocka_unit_test(repeated_questions_fires_on_the_same_question_twice),
		cmocka_unit_test(empty_fires_on_a_blank_modified_problem),
		cmocka_unit_test(truncated_fires_on_finish_reason_length),
		cmocka_unit_test(no_questions_fires_only_when_questions_are_expected),
		cmocka_unit_test(not_a_question_fires_on_statements),
		cmocka_unit_test(question_mark_may_sit_inside_closing_quotes_or_brackets),
		cmocka_unit_test(question_mark_may_sit_inside_square_brackets_and_curly_quotes),
		cmocka_unit_test(thresholds_from_filter_limits_change_the_outcome),

		cmocka_unit_test(shipped_rules_fire_on_hard_positives),
		cmocka_unit_test(shipped_rules_fire_on_inflected_trigger_words),
		cmocka_unit_test(shipped_rules_fire_on_headers_in_underscore_bold),
		cmocka_unit_test(shipped_rules_do_not_fire_on_hard_negatives),

		cmocka_unit_test(inline_commentary_fires_on_a_text_that_talks_about_its_clarity),
		cmocka_unit_test(inline_commentary_passes_a_problems_own_words),
		cmocka_unit_test(drift_passes_a_reordered_paraphrase_and_catches_another_problem),
		cmocka_unit_test(repetition_is_judged_against_the_original),
		cmocka_unit_test(unchanged_sees_through_formatting_but_not_a_changed_relation),
		cmocka_unit_test(unchanged_sees_a_changed_operator),
		cmocka_unit_test(questions_may_not_give_a_dropped_bound),
		cmocka_unit_test(actions_make_a_check_soft_or_turn_it_off),
		cmocka_unit_test(a_match_the_original_has_is_the_problems_own),

		cmocka_unit_test(filter_result_json_has_rule_action_field_and_detail),
		cmocka_unit_test(json_keeps_verdicts_whose_detail_is_cut_inside_a_character),
		cmocka_unit_test(run_with_null_reasoning_and_no_questions_works),
		cmocka_unit_test(invalid_utf8_gives_a_verdict_not_a_crash),
		cmocka_unit_test(invalid_utf8_outside_a_keyword_window_is_still_caught),
		cmocka_unit_test(filter_tokens_splits_words_and_punctuation),

		cmocka_unit_test(two_threads_sharing_a_set_give_the_verdicts_of_one),
	};

	return cmocka_run_group_tests_name("filters", tests, group_setup, test_group_teardown);
}
