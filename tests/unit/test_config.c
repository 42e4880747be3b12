/*
 * test_config.c - the clarifyd.yaml loader: defaults, overrides, and every
 * refusal reported as CL_ECONFIG with "NAME:LINE:COLUMN: ..." naming the key.
 */
#include <ftw.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <setjmp.h>
#include <cmocka.h>

#include "../../common/common.h"
#include "../../pipeline/config.h"
#include "../../filters/filter.h"
#include "testutil.h"

#define NAME "cfg.yaml"

/* ---- fixtures --------------------------------------------------------- */


static int group_setup(void **state)
{
	(void)state;
	return test_tmpdir(tmp_root, sizeof(tmp_root), "test_config");
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

/* Load text under NAME; on success the caller releases cfg. */
static int load(struct config *cfg, const char *text)
{
	err_clear();
	return config_load_buffer(cfg, text, strlen(text), NAME);
}

/* text must be refused with exactly the message expect. */
static void assert_refused(const char *text, const char *expect)
{
	struct config cfg;
	int rc = load(&cfg, text);

	if (rc == 0) {
		config_release(&cfg);
		fail_msg("accepted: %s", text);
	}
	assert_int_equal(rc, CL_ECONFIG);
	assert_string_equal(err_msg(rc), expect);
	/* a refused load leaves nothing to release */
	assert_null(cfg.store.path);
	assert_null(cfg.file);
	err_clear();
}

/* Every key except store.path holds its built-in default. */
static void assert_defaults_but_path(const struct config *cfg)
{
	assert_true(cfg->store.map_size_mb == 256);
	assert_true(cfg->store.batch_records == 512);
	assert_true(cfg->store.zstd_level == 3);
	assert_true(cfg->store.max_record_mb == 64);
	assert_true(cfg->store.dict_after == 1000);
	assert_true(cfg->import.max_file_mb == 32);
	assert_int_equal(cfg->jobs.categories, CAT_ALL);
	assert_true(cfg->log.level == LOG_INFO);
}

static void assert_defaults(const struct config *cfg)
{
	assert_non_null(cfg->store.path);
	assert_string_equal(cfg->store.path, "/var/lib/clarifyd");
	assert_defaults_but_path(cfg);
}

/* config_print into a string the caller frees. */
static char *print_to_string(const struct config *cfg)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	assert_non_null(f);
	config_print(cfg, f);
	assert_int_equal(fclose(f), 0);
	assert_non_null(text);
	return text;
}

/* ---- defaults and overrides ------------------------------------------ */

static void config_init_sets_documented_defaults(void **state)
{
	struct config cfg;

	(void)state;
	assert_int_equal(config_init(&cfg), 0);
	assert_defaults(&cfg);
	assert_int_equal(cfg.jobs.categories, 7);
	assert_null(cfg.file);
	config_release(&cfg);
}

static void config_release_clears_and_may_be_repeated(void **state)
{
	struct config cfg;

	(void)state;
	assert_int_equal(config_init(&cfg), 0);
	config_release(&cfg);
	assert_null(cfg.store.path);
	assert_null(cfg.file);
	config_release(&cfg);
	assert_null(cfg.store.path);
}

static void load_buffer_overrides_given_keys_and_keeps_the_rest(void **state)
{
	static const char text[] =
		"# a comment\n"
		"store:\n"
		"  path: /srv/clarify\n"
		"  zstd_level: 9\n"
		"  batch_records: 100000\n"
		"jobs:\n"
		"  categories: [incomplete, ambiguous]\n"
		"log:\n"
		"  level: debug\n";
	struct config cfg;

	(void)state;
	assert_int_equal(load(&cfg, text), 0);
	assert_string_equal(cfg.store.path, "/srv/clarify");
	assert_true(cfg.store.zstd_level == 9);
	assert_true(cfg.store.batch_records == 100000);
	assert_int_equal(cfg.jobs.categories, (1u << CAT_AMBIGUOUS) | (1u << CAT_INCOMPLETE));
	assert_true(cfg.log.level == LOG_DEBUG);
	/* untouched keys keep their defaults */
	assert_true(cfg.store.map_size_mb == 256);
	assert_true(cfg.store.max_record_mb == 64);
	assert_true(cfg.import.max_file_mb == 32);
	assert_string_equal(cfg.file, NAME);
	config_release(&cfg);
}

static void load_buffer_accepts_every_key_at_its_bounds(void **state)
{
	static const char text[] =
		"store:\n"
		"  map_size_mb: 4194304\n"
		"  batch_records: 1\n"
		"  zstd_level: 19\n"
		"  max_record_mb: 1024\n"
		"import:\n"
		"  max_file_mb: 4096\n"
		"jobs:\n"
		"  categories:\n"
		"    - inconsistent\n"
		"log:\n"
		"  level: error\n";
	struct config cfg;

	(void)state;
	assert_int_equal(load(&cfg, text), 0);
	assert_true(cfg.store.map_size_mb == 4194304);
	assert_true(cfg.store.batch_records == 1);
	assert_true(cfg.store.zstd_level == 19);
	assert_true(cfg.store.max_record_mb == 1024);
	assert_true(cfg.import.max_file_mb == 4096);
	assert_int_equal(cfg.jobs.categories, 1u << CAT_INCONSISTENT);
	assert_true(cfg.log.level == LOG_ERR);
	config_release(&cfg);
}

static void load_buffer_accepts_dotted_keys_at_top_level(void **state)
{
	struct config cfg;

	(void)state;
	assert_int_equal(load(&cfg, "store.path: /x\nlog.level: warn\n"), 0);
	assert_string_equal(cfg.store.path, "/x");
	assert_true(cfg.log.level == LOG_WARN);
	config_release(&cfg);
}

static void load_buffer_of_empty_document_gives_defaults(void **state)
{
	struct config cfg;

	(void)state;
	assert_int_equal(load(&cfg, ""), 0);
	assert_defaults(&cfg);
	config_release(&cfg);
}

static void load_buffer_of_comments_only_gives_defaults(void **state)
{
	struct config cfg;

	(void)state;
	assert_int_equal(load(&cfg, "# nothing set here\n\n# nor here\n"), 0);
	assert_defaults(&cfg);
	config_release(&cfg);
	assert_int_equal(load(&cfg, "---\n"), 0);
	assert_defaults(&cfg);
	config_release(&cfg);
}

/* The header: "file: the file loaded, NULL for built-in defaults". */
static void load_buffer_of_empty_document_records_the_name(void **state)
{
	struct config cfg;
	int rc, named;

	(void)state;
	rc = load(&cfg, "");
	named = rc == 0 && cfg.file && strcmp(cfg.file, NAME) == 0;
	if (rc == 0)
		config_release(&cfg); /* before asserting, so a failure leaks nothing */
	assert_int_equal(rc, 0);
	assert_true(named);
}

/* ---- refusals --------------------------------------------------------- */

static void unknown_top_level_key_is_refused(void **state)
{
	(void)state;
	assert_refused("colour: red\n", NAME ":1:1: unknown key 'colour'");
	assert_refused("stor:\n  path: x\n", NAME ":1:1: unknown key 'stor'");
}

static void unknown_nested_key_is_refused_at_its_line_and_column(void **state)
{
	(void)state;
	assert_refused("store:\n  pth: x\n", NAME ":2:3: unknown key 'store.pth'");
	assert_refused("log:\n  level: info\n  colour: red\n",
		       NAME ":3:3: unknown key 'log.colour'");
}

static void non_integer_value_is_refused(void **state)
{
	(void)state;
	assert_refused("store:\n  zstd_level: fast\n",
		       NAME ":2:15: 'store.zstd_level' must be an integer, got 'fast'");
	assert_refused("store:\n  batch_records: 1.5\n",
		       NAME ":2:18: 'store.batch_records' must be an integer, got '1.5'");
	assert_refused("store:\n  zstd_level: 0x10\n",
		       NAME ":2:15: 'store.zstd_level' must be an integer, got '0x10'");
}

static void quoted_integer_is_refused(void **state)
{
	(void)state;
	assert_refused("store:\n  zstd_level: \"5\"\n",
		       NAME ":2:15: 'store.zstd_level' must be an integer, got a quoted string");
	assert_refused("store:\n  zstd_level: '5'\n",
		       NAME ":2:15: 'store.zstd_level' must be an integer, got a quoted string");
}

static void out_of_range_value_is_refused(void **state)
{
	(void)state;
	assert_refused("store:\n  zstd_level: 20\n",
		       NAME ":2:15: 'store.zstd_level' must be between 1 and 19, got 20");
	assert_refused("store:\n  zstd_level: 0\n",
		       NAME ":2:15: 'store.zstd_level' must be between 1 and 19, got 0");
	assert_refused("import:\n  max_file_mb: -1\n",
		       NAME ":2:16: 'import.max_file_mb' must be between 1 and 4096, got -1");
	assert_refused("llm:\n  model: m\n  price_in_per_mtok: -0.15\n",
		       NAME ":3:22: 'llm.price_in_per_mtok' must be between 0 and 1000000, got -0.15");
	assert_refused("llm.price_out_per_mtok: -1\n",
		       NAME ":1:25: 'llm.price_out_per_mtok' must be between 0 and 1000000, got -1");
	/* a bound below 1 holds as written (0 would poll without pause) */
	assert_refused("llm:\n  batch_poll_s: 0\n",
		       NAME ":2:17: 'llm.batch_poll_s' must be between 0.01 and 86400, got 0");
	assert_refused("llm:\n  batch_poll_s: 0.001\n",
		       NAME ":2:17: 'llm.batch_poll_s' must be between 0.01 and 86400, got 0.001");
	assert_refused("store:\n  map_size_mb: 99999999999999999999\n",
		       NAME ":2:16: 'store.map_size_mb' must be an integer, "
		       "got '99999999999999999999'");
}

static void duplicate_key_is_refused(void **state)
{
	(void)state;
	assert_refused("store:\n  path: /a\n  path: /b\n",
		       NAME ":3:3: duplicate key 'store.path'");
	/* the dotted and the nested spelling are the same key */
	assert_refused("store.path: /a\nstore:\n  path: /b\n",
		       NAME ":3:3: duplicate key 'store.path'");
}

static void scalar_where_a_section_is_expected_is_refused(void **state)
{
	(void)state;
	assert_refused("store: 5\n", NAME ":1:8: 'store' is a section and takes keys");
	assert_refused("log: [info]\n", NAME ":1:6: 'log' is a section and takes keys");
}

static void list_for_a_scalar_key_is_refused(void **state)
{
	(void)state;
	assert_refused("store:\n  zstd_level: [3]\n",
		       NAME ":2:15: 'store.zstd_level' takes a single value, not a list");
	assert_refused("log:\n  level:\n    - info\n",
		       NAME ":3:5: 'log.level' takes a single value, not a list");
}

/* A known key given a mapping is not an "unknown key": say what is wrong. */
static void mapping_for_a_scalar_key_names_the_key_as_known(void **state)
{
	struct config cfg;
	const char *m;
	int rc;

	(void)state;
	rc = load(&cfg, "store:\n  path:\n    x: 1\n");
	assert_int_equal(rc, CL_ECONFIG);
	m = err_msg(rc);
	assert_true(strncmp(m, NAME ":", strlen(NAME ":")) == 0);
	assert_non_null(strstr(m, "'store.path'"));
	if (strstr(m, "unknown key"))
		fail_msg("a known key is reported as unknown: %s", m);
	err_clear();
}

static void unknown_category_is_refused(void **state)
{
	(void)state;
	assert_refused("jobs:\n  categories: [ambiguous, vague]\n",
		       NAME ":2:27: unknown category 'vague' in 'jobs.categories' "
		       "(ambiguous, inconsistent, incomplete)");
}

static void duplicate_category_is_refused(void **state)
{
	(void)state;
	assert_refused("jobs:\n  categories: [ambiguous, incomplete, ambiguous]\n",
		       NAME ":2:39: category 'ambiguous' listed twice in 'jobs.categories'");
}

static void empty_category_list_is_refused(void **state)
{
	(void)state;
	assert_refused("jobs:\n  categories: []\n",
		       NAME ":2:15: 'jobs.categories' must name at least one category");
}

static void category_scalar_instead_of_list_is_refused(void **state)
{
	(void)state;
	assert_refused("jobs:\n  categories: ambiguous\n",
		       NAME ":2:15: 'jobs.categories' must be a list, such as "
		       "[ambiguous, incomplete]");
	assert_refused("jobs:\n  categories: [[ambiguous]]\n",
		       NAME ":2:16: 'jobs.categories' items must be category names");
}

static void unknown_log_level_is_refused(void **state)
{
	(void)state;
	assert_refused("log:\n  level: loud\n",
		       NAME ":2:10: 'log.level' must be error, warn, info or debug, got 'loud'");
}

static void limits_per_takes_all_or_shard(void **state)
{
	struct config cfg;

	(void)state;
	config_init(&cfg);
	assert_int_equal(cfg.llm.limits_per, 0); /* all: the account's, shared by the shards */
	config_release(&cfg);
	assert_int_equal(load(&cfg, "llm:\n  limits_per: shard\n"), 0);
	assert_int_equal(cfg.llm.limits_per, 1);
	config_release(&cfg);
	assert_int_equal(load(&cfg, "llm:\n  limits_per: all\n  mode: batch\n"), 0);
	assert_int_equal(cfg.llm.limits_per, 0);
	assert_int_equal(cfg.llm.mode, 1);
	config_release(&cfg);
	assert_refused("llm:\n  limits_per: each\n",
		       NAME ":2:15: 'llm.limits_per' must be all or shard, got 'each'");
	assert_refused("llm:\n  mode: bulk\n",
		       NAME ":2:9: 'llm.mode' must be online or batch, got 'bulk'");
}

static void empty_store_path_is_refused(void **state)
{
	(void)state;
	assert_refused("store:\n  path: ''\n", NAME ":2:9: 'store.path' must not be empty");
}

static void malformed_yaml_is_refused_with_a_line_number(void **state)
{
	(void)state;
	/* the unclosed '[' is noticed where the next line starts */
	assert_refused("store: [a, b\nlog:\n  level: info\n",
		       NAME ":2:4: did not find expected ',' or ']'");
	assert_refused("store:\n  path: \"unterminated\n",
		       NAME ":3:1: found unexpected end of stream");
	assert_refused("store:\n  path: a: b\n",
		       NAME ":2:10: mapping values are not allowed in this context");
}

static void top_level_that_is_not_a_mapping_is_refused(void **state)
{
	(void)state;
	assert_refused("- store\n- log\n", NAME ":1:1: the top level must be a mapping of sections");
	assert_refused("hello\n", NAME ":1:1: the top level must be a mapping of sections");
}

static void non_scalar_key_is_refused(void **state)
{
	(void)state;
	assert_refused("? [store]\n: x\n", NAME ":1:3: keys must be plain names");
}

/* "validated whole": a second YAML document must not be silently ignored. */
static void second_yaml_document_is_refused(void **state)
{
	struct config cfg;
	int rc;

	(void)state;
	rc = load(&cfg, "store:\n  path: /a\n---\nstore:\n  pth: x\n");
	if (rc == 0) {
		config_release(&cfg);
		fail_msg("a second document with an unknown key was accepted");
	}
	assert_int_equal(rc, CL_ECONFIG);
	assert_true(strncmp(err_msg(rc), NAME ":", strlen(NAME ":")) == 0);
	err_clear();
}

static void failed_load_leaves_cfg_released(void **state)
{
	struct config cfg;

	(void)state;
	/* the first key is applied before the second fails */
	assert_int_equal(load(&cfg, "store:\n  path: /applied\n  zstd_level: 99\n"), CL_ECONFIG);
	assert_null(cfg.store.path);
	assert_null(cfg.file);
	assert_int_equal(cfg.jobs.categories, 0);
	config_release(&cfg); /* harmless */
	err_clear();
}

/* ---- files ------------------------------------------------------------ */

static void config_load_reads_a_file_and_records_its_name(void **state)
{
	char path[PATH_MAX];
	struct config cfg;

	(void)state;
	tmp_path(path, sizeof(path), "good.yaml");
	write_file(path, "store:\n  path: /from/file\nlog:\n  level: warn\n");
	err_clear();
	assert_int_equal(config_load(&cfg, path), 0);
	assert_string_equal(cfg.store.path, "/from/file");
	assert_true(cfg.log.level == LOG_WARN);
	assert_string_equal(cfg.file, path);
	config_release(&cfg);
}

static void config_load_names_the_file_in_refusals(void **state)
{
	char path[PATH_MAX], expect[PATH_MAX + 64];
	struct config cfg;

	(void)state;
	tmp_path(path, sizeof(path), "bad.yaml");
	write_file(path, "store:\n  pth: x\n");
	snprintf(expect, sizeof(expect), "%s:2:3: unknown key 'store.pth'", path);
	err_clear();
	assert_int_equal(config_load(&cfg, path), CL_ECONFIG);
	assert_string_equal(err_msg(CL_ECONFIG), expect);
	assert_null(cfg.store.path);
	err_clear();
}

static void config_load_of_missing_file_is_enotfound(void **state)
{
	char path[PATH_MAX];
	struct config cfg;

	(void)state;
	tmp_path(path, sizeof(path), "missing.yaml");
	err_clear();
	assert_int_equal(config_load(&cfg, path), CL_ENOTFOUND);
	assert_non_null(strstr(err_msg(CL_ENOTFOUND), path));
	assert_null(cfg.store.path);
	assert_null(cfg.file);
	config_release(&cfg);
	err_clear();
}

static void config_load_of_directory_is_an_error(void **state)
{
	struct config cfg;
	int rc;

	(void)state;
	err_clear();
	rc = config_load(&cfg, tmp_root);
	assert_true(rc < 0);
	assert_null(cfg.store.path);
	err_clear();
}

/* tests/run.sh exports CLARIFY_CONFIG=/dev/null to mean "no config file". */
static void config_load_of_dev_null_gives_defaults(void **state)
{
	struct config cfg;
	int rc;

	(void)state;
	err_clear();
	rc = config_load(&cfg, "/dev/null");
	if (rc)
		fail_msg("config_load(\"/dev/null\") = %d: %s", rc, err_msg(rc));
	assert_defaults(&cfg);
	config_release(&cfg);
}

static void shipped_config_matches_defaults_but_store_path(void **state)
{
	const char *root = getenv("CLARIFY_ROOT");
	char path[PATH_MAX];
	struct config cfg;
	int rc;

	(void)state;
	snprintf(path, sizeof(path), "%s/etc/clarifyd.yaml", root && *root ? root : ".");
	if (!file_exists(path)) {
		skip();
		return;
	}
	err_clear();
	rc = config_load(&cfg, path);
	if (rc)
		fail_msg("%s: %s", path, err_msg(rc));
	assert_non_null(cfg.store.path);
	assert_true(cfg.store.path[0] == '/');
	assert_defaults_but_path(&cfg);
	assert_string_equal(cfg.file, path);
	config_release(&cfg);
}

/* ---- store override and printing -------------------------------------- */

static void config_set_store_replaces_store_path(void **state)
{
	struct config cfg;

	(void)state;
	assert_int_equal(config_init(&cfg), 0);
	assert_int_equal(config_set_store(&cfg, "/tmp/elsewhere"), 0);
	assert_string_equal(cfg.store.path, "/tmp/elsewhere");
	assert_int_equal(config_set_store(&cfg, "relative/dir"), 0);
	assert_string_equal(cfg.store.path, "relative/dir");
	assert_defaults_but_path(&cfg);
	config_release(&cfg);
}

static void config_set_store_refuses_empty_and_keeps_path(void **state)
{
	struct config cfg;

	(void)state;
	assert_int_equal(config_init(&cfg), 0);
	assert_int_equal(config_set_store(&cfg, ""), CL_EINVAL);
	assert_string_equal(cfg.store.path, "/var/lib/clarifyd");
	config_release(&cfg);
}

static void jobs_stages_take_two_or_three_in_order(void **state)
{
	static const struct {
		const char *yaml;
		int rc;
		int64_t stages;
		const char *why;
	} cases[] = {
		{ "jobs:\n  stages: [modify, clarify]\n", 0, 2, NULL },
		{ "jobs:\n  stages: [modify, clarify, answer]\n", 0, 3, NULL },
		{ "jobs:\n  stages: [modify, answer]\n", CL_ECONFIG, 0, "t.yaml:2:11: 'jobs.stages' must "
		  "be [modify, clarify] or [modify, clarify, answer], in that order" },
		{ "jobs:\n  stages: [clarify, modify]\n", CL_ECONFIG, 0, "in that order" },
		{ "jobs:\n  stages: modify\n", CL_ECONFIG, 0, "t.yaml:2:11: 'jobs.stages' must be a list" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct config cfg;
		int rc;

		err_clear();
		rc = config_load_buffer(&cfg, cases[i].yaml, strlen(cases[i].yaml), "t.yaml");
		if (rc != cases[i].rc || (cases[i].why && !strstr(err_msg(rc), cases[i].why)))
			fail_msg("case %zu: rc %d '%s'", i, rc, err_msg(rc));
		if (!rc) {
			assert_int_equal(cfg.jobs.stages, cases[i].stages);
			config_release(&cfg);
		}
	}
}

static void config_print_shows_every_key_with_value_and_help(void **state)
{
	static const char *const lines[] = {
		"store.path: '/var/lib/clarifyd'    # ",
		"store.map_size_mb: 256    # ",
		"store.batch_records: 512    # ",
		"store.zstd_level: 3    # ",
		"store.dict_after: 1000    # ",
		"store.max_record_mb: 64    # ",
		"import.max_file_mb: 32    # ",
		"jobs.categories: [ambiguous, inconsistent, incomplete]    # ",
		"jobs.stages: [modify, clarify, answer]    # ",
		"jobs.workers: 0    # ",
		"jobs.target_accepted.ambiguous: 0    # ",
		"jobs.target_accepted.inconsistent: 0    # ",
		"jobs.target_accepted.incomplete: 0    # ",
		"log.level: info    # ",
		"llm.provider: offline    # ",
		"llm.base_url: ''    # ",
		"llm.model: 'gpt-4o-mini'    # ",
		"llm.api_key_env: 'CLARIFY_API_KEY'    # ",
		"llm.api_key_file: ''    # ",
		"llm.extra_body: ''    # ",
		"llm.max_in_flight: 64    # ",
		"llm.requests_per_min: 0    # ",
		"llm.tokens_per_min: 0    # ",
		"llm.limits_per: all    # ",
		"llm.connect_timeout_s: 10    # ",
		"llm.request_timeout_s: 600    # ",
		"llm.stall_timeout_s: 120    # ",
		"llm.max_response_mb: 8    # ",
		"llm.max_retries: 8    # ",
		"llm.backoff_base_s: 1    # ",
		"llm.backoff_max_s: 60    # ",
		"llm.circuit_failures: 20    # ",
		"llm.circuit_cooldown_s: 10    # ",
		"llm.max_total_tokens: 0    # ",
		"llm.price_in_per_mtok: 0    # ",
		"llm.price_out_per_mtok: 0    # ",
		"llm.mode: online    # ",
		"llm.batch_max_requests: 50000    # ",
		"llm.batch_poll_s: 60    # ",
		"llm.batch_discount: 0.5    # ",
		"llm.cache: true    # ",
		"llm.seed: 0    # ",
		"prompts.dir: ''    # ",
		"prompts.max_parse_retries: 2    # ",
		"filters.dir: ''    # ",
		"filters.actions: {}    # ",
		"filters.drift_min_content: 0.3    # ",
		"filters.leak_ngram: 5    # ",
		"filters.drift_min_overlap: 0.2    # ",
		"filters.max_line_repeats: 4    # ",
		"filters.max_ngram_repeat: 0.4    # ",
		"filters.min_questions: 1    # ",
		"filters.max_questions: 20    # ",
		"filters.near_duplicate: 0.9    # ",
		"stats.order: 4    # ",
		"stats.modified_ppl_min: 0    # ",
		"stats.modified_ppl_max: 0    # ",
		"stats.questions_ppl_min: 0    # ",
		"stats.questions_ppl_max: 0    # ",
		"stats.modified_entropy_min: 0    # ",
		"stats.modified_entropy_max: 0    # ",
		"stats.questions_entropy_min: 0    # ",
		"stats.questions_entropy_max: 0    # ",
	};
	struct config cfg;
	char *text;
	int nl = 0;

	(void)state;
	assert_int_equal(config_init(&cfg), 0);
	text = print_to_string(&cfg);
	for (size_t i = 0; i < CL_ARRAY_SIZE(lines); i++)
		if (!strstr(text, lines[i]))
			fail_msg("no '%s' in:\n%s", lines[i], text);
	for (const char *p = text; *p; p++)
		nl += *p == '\n';
	assert_int_equal(nl, CL_ARRAY_SIZE(lines));
	free(text);
	config_release(&cfg);
}

/* filters.actions: a mapping of ids to reject, flag (soft) or off, applied
 * to the set when it is loaded; a bad action or an unknown id is refused
 * with its line */
static void filters_actions_set_what_a_rule_or_check_does(void **state)
{
	struct config cfg;
	struct filter_set fs;
	char *text;
	int rc;

	(void)state;
	assert_int_equal(load(&cfg, "filters:\n  actions:\n    inline-commentary: soft\n"
				    "    here-is-rewrite: off\n    drift: reject\n"), 0);
	text = print_to_string(&cfg);
	assert_non_null(strstr(text, "filters.actions: {inline-commentary: soft, "
				     "here-is-rewrite: off, drift: reject}"));
	free(text);
	assert_int_equal(config_filter_set(&cfg, "filters", &fs), 0);
	assert_int_equal(fs.check_action[filter_check_index("inline-commentary")], FILTER_FLAG);
	assert_int_equal(fs.check_action[filter_check_index("drift")], FILTER_REJECT);
	for (size_t i = 0; i < fs.n; i++)
		if (strcmp(filter_rule_id(&fs, i), "here-is-rewrite") == 0)
			assert_int_equal(filter_rule_action(&fs, i), FILTER_OFF);
	filter_set_release(&fs);
	config_release(&cfg);

	assert_refused("filters:\n  actions:\n    drift: maybe\n",
		       NAME ":3:12: 'filters.actions': the action of 'drift' must be reject, flag "
		       "(or soft) or off");
	assert_refused("filters:\n  actions: soft\n",
		       NAME ":2:12: 'filters.actions' must be a mapping, such as "
		       "{inline-commentary: soft}");
	assert_int_equal(load(&cfg, "filters:\n  actions:\n    no-such-rule: off\n"), 0);
	err_clear();
	rc = config_filter_set(&cfg, "filters", &fs);
	assert_int_equal(rc, CL_ECONFIG);
	assert_string_equal(err_msg(rc), NAME ":3: filters.actions: no rule or check "
			    "'no-such-rule' (clarify filters list names them)");
	config_release(&cfg);
}

static void config_print_shows_changed_values(void **state)
{
	struct config cfg;
	char *text;

	(void)state;
	assert_int_equal(load(&cfg, "jobs:\n  categories: [incomplete, ambiguous]\n"
				    "log:\n  level: debug\nstore:\n  zstd_level: 12\n"), 0);
	text = print_to_string(&cfg);
	assert_non_null(strstr(text, "jobs.categories: [ambiguous, incomplete]    # "));
	assert_non_null(strstr(text, "log.level: debug    # "));
	assert_non_null(strstr(text, "store.zstd_level: 12    # "));
	free(text);
	config_release(&cfg);
}

static void config_print_output_loads_back_to_the_same_config(void **state)
{
	struct config a, b;
	char *text;

	(void)state;
	assert_int_equal(load(&a, "store:\n  path: /data/x\n  batch_records: 7\n"
				  "jobs:\n  categories: [inconsistent]\nlog:\n  level: error\n"), 0);
	text = print_to_string(&a);
	if (load(&b, text) != 0) {
		print_error("printed config does not load: %s\n%s", err_msg(CL_ECONFIG), text);
		free(text);
		config_release(&a);
		fail();
	}
	assert_string_equal(b.store.path, a.store.path);
	assert_true(b.store.map_size_mb == a.store.map_size_mb);
	assert_true(b.store.batch_records == a.store.batch_records);
	assert_true(b.store.zstd_level == a.store.zstd_level);
	assert_true(b.store.max_record_mb == a.store.max_record_mb);
	assert_true(b.import.max_file_mb == a.import.max_file_mb);
	assert_int_equal(b.jobs.categories, a.jobs.categories);
	assert_true(b.log.level == a.log.level);
	free(text);
	config_release(&a);
	config_release(&b);
}

/* "as YAML": a single quote inside a single-quoted scalar must be doubled. */
static void config_print_quotes_a_path_with_an_apostrophe(void **state)
{
	struct config a, b;
	char *text;
	int rc, same;

	(void)state;
	assert_int_equal(config_init(&a), 0);
	assert_int_equal(config_set_store(&a, "/srv/bob's store"), 0);
	text = print_to_string(&a);
	config_release(&a);
	rc = load(&b, text);
	if (rc)
		print_error("printed config does not load: %s\n%s", err_msg(rc), text);
	free(text); /* before asserting, so a failure leaks nothing */
	same = rc == 0 && strcmp(b.store.path, "/srv/bob's store") == 0;
	if (rc == 0)
		config_release(&b);
	assert_int_equal(rc, 0);
	assert_true(same);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(config_init_sets_documented_defaults),
		cmocka_unit_test(config_release_clears_and_may_be_repeated),
		cmocka_unit_test(load_buffer_overrides_given_keys_and_keeps_the_rest),
		cmocka_unit_test(load_buffer_accepts_every_key_at_its_bounds),
		cmocka_unit_test(load_buffer_accepts_dotted_keys_at_top_level),
		cmocka_unit_test(load_buffer_of_empty_document_gives_defaults),
		cmocka_unit_test(load_buffer_of_comments_only_gives_defaults),
		cmocka_unit_test(load_buffer_of_empty_document_records_the_name),

		cmocka_unit_test(unknown_top_level_key_is_refused),
		cmocka_unit_test(unknown_nested_key_is_refused_at_its_line_and_column),
		cmocka_unit_test(non_integer_value_is_refused),
		cmocka_unit_test(quoted_integer_is_refused),
		cmocka_unit_test(out_of_range_value_is_refused),
		cmocka_unit_test(duplicate_key_is_refused),
		cmocka_unit_test(scalar_where_a_section_is_expected_is_refused),
		cmocka_unit_test(list_for_a_scalar_key_is_refused),
		cmocka_unit_test(mapping_for_a_scalar_key_names_the_key_as_known),
		cmocka_unit_test(unknown_category_is_refused),
		cmocka_unit_test(duplicate_category_is_refused),
		cmocka_unit_test(empty_category_list_is_refused),
		cmocka_unit_test(category_scalar_instead_of_list_is_refused),
		cmocka_unit_test(unknown_log_level_is_refused),
		cmocka_unit_test(empty_store_path_is_refused),
		cmocka_unit_test(malformed_yaml_is_refused_with_a_line_number),
		cmocka_unit_test(top_level_that_is_not_a_mapping_is_refused),
		cmocka_unit_test(non_scalar_key_is_refused),
		cmocka_unit_test(second_yaml_document_is_refused),
		cmocka_unit_test(failed_load_leaves_cfg_released),

		cmocka_unit_test(config_load_reads_a_file_and_records_its_name),
		cmocka_unit_test(config_load_names_the_file_in_refusals),
		cmocka_unit_test(config_load_of_missing_file_is_enotfound),
		cmocka_unit_test(config_load_of_directory_is_an_error),
		cmocka_unit_test(config_load_of_dev_null_gives_defaults),
		cmocka_unit_test(shipped_config_matches_defaults_but_store_path),

		cmocka_unit_test(config_set_store_replaces_store_path),
		cmocka_unit_test(config_set_store_refuses_empty_and_keeps_path),
		cmocka_unit_test(limits_per_takes_all_or_shard),
		cmocka_unit_test(config_print_shows_every_key_with_value_and_help),
		cmocka_unit_test(jobs_stages_take_two_or_three_in_order),
		cmocka_unit_test(config_print_shows_changed_values),
		cmocka_unit_test(filters_actions_set_what_a_rule_or_check_does),
		cmocka_unit_test(config_print_output_loads_back_to_the_same_config),
		cmocka_unit_test(config_print_quotes_a_path_with_an_apostrophe),
	};

	return cmocka_run_group_tests_name("config", tests, group_setup, test_group_teardown);
}
