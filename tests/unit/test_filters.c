/*
 * test_filters.c - the leak and quality filters: the rule file loader and
 * its refusals ("NAME:LINE:COLUMN: rule 'ID': why"), loading files and
 * folders, the keyword prefilter, applies_to and actions, the verdicts as
 * JSON and invalid UTF-8.  The built-in checks, the shipped rules and one
 * set shared by two threads are test_checks.c's.
 *
 * The tests run from the repository root (make check does): the shipped
 * rules are read from filters/.
 */
#define TEST_NAME "test_filters"
#include "filter_test.h"

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
	assert_refused("rules:\n\t- id: a\n", NAME ":2:1: ", "tabs cannot indent YAML");
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
		cmocka_unit_test(filter_result_json_has_rule_action_field_and_detail),
		cmocka_unit_test(json_keeps_verdicts_whose_detail_is_cut_inside_a_character),
		cmocka_unit_test(run_with_null_reasoning_and_no_questions_works),
		cmocka_unit_test(invalid_utf8_gives_a_verdict_not_a_crash),
		cmocka_unit_test(invalid_utf8_outside_a_keyword_window_is_still_caught),
		cmocka_unit_test(filter_tokens_splits_words_and_punctuation),
	};

	return cmocka_run_group_tests_name("filters", tests, group_setup, test_group_teardown);
}
