/*
 * config.h - clarifyd.yaml: one table row per key (name, type, bounds,
 * default, help), loaded with libyaml and validated whole before use.
 *
 * A file is read in full into a fresh struct config; only when every key
 * is known, typed right and in range does config_load() return 0, so a
 * caller can keep its running config when a reload fails.
 */
#ifndef CLARIFY_CONFIG_H
#define CLARIFY_CONFIG_H

#include <stdint.h>

#include "../common/common.h"

struct config {
	char *file;          /* the file loaded, NULL for built-in defaults */
	struct {
		char *path;           /* the LMDB environment directory */
		int64_t map_size_mb;  /* initial map size; grows when full */
		int64_t batch_records;
		int64_t zstd_level;
		int64_t max_record_mb;
		int64_t dict_after;
	} store;
	struct {
		int64_t max_file_mb;
	} import;
	struct {
		unsigned categories;  /* bit set of 1u << CAT_* */
		int64_t stages;       /* 2: modify, clarify; 3: and answer */
		int64_t workers;      /* CPU worker threads; 0: one per CPU */
		int64_t target_accepted[CAT_COUNT]; /* by CAT_*; 0: no target */
	} jobs;
	struct {
		int64_t level;        /* LOG_* */
	} log;
	struct {
		int64_t provider;     /* LLM_OFFLINE, LLM_OPENAI, LLM_GEMINI */
		char *base_url;       /* "" for the provider's default */
		char *model;
		char *api_key_env;    /* environment variable holding the key */
		char *api_key_file;   /* or a file (systemd credential) */
		char *extra_body;     /* JSON object merged into request bodies */
		int64_t max_in_flight;
		double requests_per_min;
		double tokens_per_min;
		double connect_timeout_s;
		double request_timeout_s;
		double stall_timeout_s;
		int64_t max_response_mb;
		int64_t max_retries;
		double backoff_base_s;
		double backoff_max_s;
		int64_t circuit_failures;
		double circuit_cooldown_s;
		int64_t max_total_tokens;
		double price_in_per_mtok;  /* money per 10^6 prompt tokens; 0: none */
		double price_out_per_mtok; /* per 10^6 completion tokens */
		int64_t cache;        /* bool */
		int64_t seed;
		int64_t mode;         /* 0 online, 1 batch */
		int64_t limits_per;   /* 0 all (the account's: a shard takes 1/N), 1 shard */
		int64_t batch_max_requests;
		double batch_poll_s;
		double batch_discount; /* a batch token's price, as a share */
	} llm;
	struct {
		char *dir;            /* templates; "" for the shipped ones */
		int64_t max_parse_retries;
	} prompts;
	struct {
		char *dir;            /* rule files; "" for the shipped ones */
		char *actions;        /* "ID=ACTION@LINE,...": filters.actions */
		int64_t leak_ngram;
		double drift_min_overlap;
		double drift_min_content;
		int64_t max_line_repeats;
		double max_ngram_repeat;
		int64_t min_questions;
		int64_t max_questions;
		double near_duplicate;  /* Jaccard threshold; 0: off */
	} filters;
	struct {
		double modified_ppl_min, modified_ppl_max;
		double questions_ppl_min, questions_ppl_max;
		double modified_entropy_min, modified_entropy_max;
		double questions_entropy_min, questions_entropy_max;
		int64_t order;
	} stats;
};

/* The built-in defaults.  Always succeeds unless memory runs out. */
int config_init(struct config *cfg);
void config_release(struct config *cfg);

/*
 * Load path over the defaults into cfg (which config_load initialises).
 * On failure cfg is released, and err_msg() reads
 * "FILE:LINE:COLUMN: unknown key 'store.pth'"; the code is CL_ECONFIG
 * (or CL_ENOTFOUND / CL_EIO when the file cannot be read).
 */
int config_load(struct config *cfg, const char *path);

/* The same from memory; name is used in messages. */
int config_load_buffer(struct config *cfg, const char *data, size_t len, const char *name);

/* Replace store.path (from -s DIR or CLARIFY_STORE). */
int config_set_store(struct config *cfg, const char *dir);

/*
 * Fill LLM options from cfg: the key is read from the file named by
 * llm.api_key_file, else from the environment variable llm.api_key_env
 * (a missing key is an error only for the HTTP providers).  A process
 * that has read a key is made non-dumpable (prctl PR_SET_DUMPABLE 0): no
 * core file, no ptrace by other users, so the key is in no core file.
 */
struct llm_options;
int config_llm_options(const struct config *cfg, struct llm_options *o);

/*
 * Where data shipped with clarifyd lives: NAME ("filters", "prompts")
 * under ./ when run from the source tree, else under the installed data
 * folder (PREFIX/share/clarifyd).  dir, when not empty, wins.
 */
void config_data_dir(const char *dir, const char *name, char *out, size_t n);

/* The filters' thresholds of the configuration. */
struct filter_limits;
void config_filter_limits(const struct config *cfg, struct filter_limits *l);

/* Load the configured filter rules and thresholds into fs. */
struct filter_set;
int config_filter_set(const struct config *cfg, const char *dir, struct filter_set *fs);
/* Apply filters.actions ("ID=ACTION@LINE,...", as the loader keeps them)
 * to fs; an id no rule or check has is CL_ECONFIG with FILE:LINE, and fs
 * is released. */
int config_filter_actions(const char *actions, const char *file, struct filter_set *fs);

/* The language-model bounds of the configuration. */
struct stats_bounds;
void config_stats_bounds(const struct config *cfg, struct stats_bounds *b);

/* Print every key with its current value and help, one "key: value" a line. */
void config_print(const struct config *cfg, FILE *f);

#endif
