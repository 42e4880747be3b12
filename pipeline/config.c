/*
 * config.c - the table-driven configuration loader (after tmux's
 * options-table.c and redis's static_configs[]).
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <yaml.h>

#include "config.h"
#include "../llm/llm.h"
#include "../filters/filter.h"
#include "../stats/stats.h"

enum cfg_type {
	CFG_STR,        /* a non-empty string */
	CFG_STR0,       /* a string, may be empty */
	CFG_JSON,       /* a string holding a JSON object, may be empty */
	CFG_INT,        /* int64_t within [min, max] */
	CFG_DOUBLE,     /* double within [min, max] */
	CFG_BOOL,       /* int64_t 0 or 1: true/false, yes/no, on/off */
	CFG_LEVEL,      /* a log level name */
	CFG_PROVIDER,   /* offline, openai, gemini */
	CFG_CHOICE,     /* one of the key's words: int64_t, its index */
	CFG_CATEGORIES, /* a list of category names */
	CFG_STAGES,     /* [modify, clarify] or [modify, clarify, answer]: int64_t 2 or 3 */
	CFG_ACTIONS,    /* a mapping of rule ids to reject, flag (soft) or off */
};

struct cfg_key {
	const char *name;
	enum cfg_type type;
	size_t off;
	double min, max;           /* CFG_INT's bounds are whole numbers below 2^53 */
	const char *dflt;
	const char *help;
};

#define OFF(f) offsetof(struct config, f)
/* an integer key's bound for none: 2^63, read as INT64_MAX (as_i64) */
#define NO_LIMIT 0x1p63

static const struct cfg_key cfg_keys[] = {
	{ "store.path", CFG_STR, OFF(store.path), 0, 0, "/var/lib/clarifyd",
	  "directory of the LMDB store (also -s DIR or CLARIFY_STORE)" },
	{ "store.map_size_mb", CFG_INT, OFF(store.map_size_mb), 1, 1 << 22, "256",
	  "initial LMDB map size in MiB; doubled whenever it fills" },
	{ "store.batch_records", CFG_INT, OFF(store.batch_records), 1, 100000, "512",
	  "records written per LMDB write transaction" },
	{ "store.zstd_level", CFG_INT, OFF(store.zstd_level), 1, 19, "3",
	  "zstd compression level of stored records" },
	{ "store.dict_after", CFG_INT, OFF(store.dict_after), 0, 1000000000, "1000",
	  "train the store's zstd dictionaries once this many problems (clarify import) "
	  "or results (clarifyd) exist (0: never)" },
	{ "store.max_record_mb", CFG_INT, OFF(store.max_record_mb), 1, 1024, "64",
	  "largest decompressed record accepted" },
	{ "import.max_file_mb", CFG_INT, OFF(import.max_file_mb), 1, 4096, "32",
	  "largest APPS file or JSONL line imported; larger ones are skipped" },
	{ "jobs.categories", CFG_CATEGORIES, OFF(jobs.categories), 0, 0,
	  "ambiguous, inconsistent, incomplete",
	  "categories a job is created for, per problem" },
	{ "jobs.stages", CFG_STAGES, OFF(jobs.stages), 0, 0, "modify, clarify, answer",
	  "the stages a job goes through: [modify, clarify] or [modify, clarify, answer] "
	  "(stage 3 answers the questions from the original and judges the record)" },
	{ "jobs.workers", CFG_INT, OFF(jobs.workers), 0, 256, "0",
	  "threads for the CPU work (parsing, filters, scores); 0: one per CPU" },
	{ "jobs.target_accepted.ambiguous", CFG_INT, OFF(jobs.target_accepted[CAT_AMBIGUOUS]),
	  0, NO_LIMIT, "0",
	  "stop taking ambiguous jobs once this many are accepted (0: no target)" },
	{ "jobs.target_accepted.inconsistent", CFG_INT,
	  OFF(jobs.target_accepted[CAT_INCONSISTENT]), 0, NO_LIMIT, "0",
	  "stop taking inconsistent jobs once this many are accepted (0: no target)" },
	{ "jobs.target_accepted.incomplete", CFG_INT, OFF(jobs.target_accepted[CAT_INCOMPLETE]),
	  0, NO_LIMIT, "0",
	  "stop taking incomplete jobs once this many are accepted (0: no target)" },
	{ "log.level", CFG_LEVEL, OFF(log.level), 0, 0, "info",
	  "least severe level logged: error, warn, info or debug" },
	{ "llm.provider", CFG_PROVIDER, OFF(llm.provider), 0, 0, "offline",
	  "offline (no network), openai (any OpenAI-compatible server) or gemini" },
	{ "llm.base_url", CFG_STR0, OFF(llm.base_url), 0, 0, "",
	  "API base URL; empty for the provider's default" },
	{ "llm.model", CFG_STR, OFF(llm.model), 0, 0, "gpt-4o-mini", "model name" },
	{ "llm.api_key_env", CFG_STR0, OFF(llm.api_key_env), 0, 0, "CLARIFY_API_KEY",
	  "environment variable that holds the API key" },
	{ "llm.api_key_file", CFG_STR0, OFF(llm.api_key_file), 0, 0, "",
	  "file that holds the API key (wins over api_key_env)" },
	{ "llm.extra_body", CFG_JSON, OFF(llm.extra_body), 0, 0, "",
	  "JSON object merged into every request body" },
	{ "llm.max_in_flight", CFG_INT, OFF(llm.max_in_flight), 1, 4096, "64",
	  "requests in flight at once, at most" },
	{ "llm.requests_per_min", CFG_DOUBLE, OFF(llm.requests_per_min), 0, 10000000, "0",
	  "request rate limit; 0 for none" },
	{ "llm.tokens_per_min", CFG_DOUBLE, OFF(llm.tokens_per_min), 0, 1000000000, "0",
	  "token rate limit (prompt estimate plus max_tokens); 0 for none" },
	{ "llm.limits_per", CFG_CHOICE, OFF(llm.limits_per), 0, 0, "all",
	  "all: requests_per_min and tokens_per_min are the account's, and clarifyd --shard "
	  "K/N takes 1/N of them; shard: they are each shard's own" },
	{ "llm.connect_timeout_s", CFG_DOUBLE, OFF(llm.connect_timeout_s), 0, 600, "10",
	  "connect timeout, seconds" },
	{ "llm.request_timeout_s", CFG_DOUBLE, OFF(llm.request_timeout_s), 1, 86400, "600",
	  "deadline of one request attempt, seconds" },
	{ "llm.stall_timeout_s", CFG_DOUBLE, OFF(llm.stall_timeout_s), 1, 86400, "120",
	  "an attempt that receives nothing for this long is retried" },
	{ "llm.max_response_mb", CFG_INT, OFF(llm.max_response_mb), 1, 1024, "8",
	  "largest response body accepted, MiB" },
	{ "llm.max_retries", CFG_INT, OFF(llm.max_retries), 0, 100, "8",
	  "retries of a retryable failure before the request fails" },
	{ "llm.backoff_base_s", CFG_DOUBLE, OFF(llm.backoff_base_s), 0, 3600, "1",
	  "first retry delay (exponential, full jitter), seconds" },
	{ "llm.backoff_max_s", CFG_DOUBLE, OFF(llm.backoff_max_s), 0, 86400, "60",
	  "largest retry delay, seconds" },
	{ "llm.circuit_failures", CFG_INT, OFF(llm.circuit_failures), 1, 100000, "20",
	  "consecutive failures that pause the endpoint" },
	{ "llm.circuit_cooldown_s", CFG_DOUBLE, OFF(llm.circuit_cooldown_s), 0, 3600, "10",
	  "first pause of a failing endpoint (doubles while it keeps failing, to 32 times), seconds" },
	{ "llm.max_total_tokens", CFG_INT, OFF(llm.max_total_tokens), 0, NO_LIMIT, "0",
	  "stop new work once this many tokens were used; 0 for no budget" },
	{ "llm.price_in_per_mtok", CFG_DOUBLE, OFF(llm.price_in_per_mtok), 0, 1000000, "0",
	  "price of a million prompt tokens of llm.model (clarifyd --dry-run, clarify plan, "
	  "stats and the export manifest); 0: not priced" },
	{ "llm.price_out_per_mtok", CFG_DOUBLE, OFF(llm.price_out_per_mtok), 0, 1000000, "0",
	  "price of a million completion tokens of llm.model; 0: not priced" },
	{ "llm.mode", CFG_CHOICE, OFF(llm.mode), 0, 0, "online",
	  "online: requests one by one; batch: gathered into the provider's batches (OpenAI's "
	  "Batch API: half the price, answered within 24 h)" },
	{ "llm.batch_max_requests", CFG_INT, OFF(llm.batch_max_requests), 1, 50000, "50000",
	  "requests in one batch at most (the provider's limit is 50,000 and 200 MB)" },
	{ "llm.batch_poll_s", CFG_DOUBLE, OFF(llm.batch_poll_s), 0.01, 86400, "60",
	  "first wait between polls of a batch, seconds (grows to 16 times while it "
	  "does not change)" },
	{ "llm.batch_discount", CFG_DOUBLE, OFF(llm.batch_discount), 0, 1, "0.5",
	  "price of a batch token as a share of llm.price_*_per_mtok" },
	{ "llm.cache", CFG_BOOL, OFF(llm.cache), 0, 1, "true",
	  "answer repeated requests from the store's cache" },
	{ "llm.seed", CFG_INT, OFF(llm.seed), 0, NO_LIMIT, "0",
	  "seed of retry jitter and of the offline provider" },
	{ "prompts.dir", CFG_STR0, OFF(prompts.dir), 0, 0, "",
	  "folder of the six prompt templates; empty for the shipped ones" },
	{ "prompts.max_parse_retries", CFG_INT, OFF(prompts.max_parse_retries), 0, 20, "2",
	  "a reply without a required tag is asked again this many times" },
	{ "filters.dir", CFG_STR0, OFF(filters.dir), 0, 0, "",
	  "folder of rule files (*.yaml); empty for the shipped rules" },
	{ "filters.actions", CFG_ACTIONS, OFF(filters.actions), 0, 0, "",
	  "what a rule or built-in check does when it fires, by id: reject, flag (soft: "
	  "accepted, the verdict kept) or off, e.g. {inline-commentary: soft}" },
	{ "filters.drift_min_content", CFG_DOUBLE, OFF(filters.drift_min_content), 0, 1, "0.3",
	  "or share of its content words (each once) that must be in the original: drift "
	  "needs both shares low" },
	{ "filters.leak_ngram", CFG_INT, OFF(filters.leak_ngram), 3, 50, "5",
	  "tokens in a row a question may not quote from what the original alone has" },
	{ "filters.drift_min_overlap", CFG_DOUBLE, OFF(filters.drift_min_overlap), 0, 1, "0.2",
	  "share of the modified problem's leak_ngram-word runs that must be in the original" },
	{ "filters.max_line_repeats", CFG_INT, OFF(filters.max_line_repeats), 2, 1000, "4",
	  "a line of 20+ characters this many times is degenerate" },
	{ "filters.max_ngram_repeat", CFG_DOUBLE, OFF(filters.max_ngram_repeat), 0, 1, "0.4",
	  "largest share of repeated leak_ngram-word runs in a modified problem" },
	{ "filters.min_questions", CFG_INT, OFF(filters.min_questions), 0, 1000, "1",
	  "fewest clarifying questions a record may have" },
	{ "filters.max_questions", CFG_INT, OFF(filters.max_questions), 1, 1000, "20",
	  "most clarifying questions a record may have" },
	{ "filters.near_duplicate", CFG_DOUBLE, OFF(filters.near_duplicate), 0, 1, "0.9",
	  "a record whose modified problem has this estimated Jaccard similarity (MinHash "
	  "of word 5-shingles) with an earlier accepted one is a near-duplicate (0: no check)" },
	{ "stats.order", CFG_INT, OFF(stats.order), 2, 5, "4",
	  "order of the language model 'clarify lm train' builds" },
	{ "stats.modified_ppl_min", CFG_DOUBLE, OFF(stats.modified_ppl_min), 0, 1000000000, "0",
	  "reject a modified problem of lower perplexity (0: no bound)" },
	{ "stats.modified_ppl_max", CFG_DOUBLE, OFF(stats.modified_ppl_max), 0, 1000000000, "0",
	  "reject a modified problem of higher perplexity (0: no bound)" },
	{ "stats.questions_ppl_min", CFG_DOUBLE, OFF(stats.questions_ppl_min), 0, 1000000000, "0",
	  "reject questions of lower perplexity (0: no bound)" },
	{ "stats.questions_ppl_max", CFG_DOUBLE, OFF(stats.questions_ppl_max), 0, 1000000000, "0",
	  "reject questions of higher perplexity (0: no bound)" },
	{ "stats.modified_entropy_min", CFG_DOUBLE, OFF(stats.modified_entropy_min), 0, 100, "0",
	  "reject a modified problem of lower token entropy, nats (0: no bound)" },
	{ "stats.modified_entropy_max", CFG_DOUBLE, OFF(stats.modified_entropy_max), 0, 100, "0",
	  "reject a modified problem of higher token entropy, nats (0: no bound)" },
	{ "stats.questions_entropy_min", CFG_DOUBLE, OFF(stats.questions_entropy_min), 0, 100, "0",
	  "reject questions of lower token entropy, nats (0: no bound)" },
	{ "stats.questions_entropy_max", CFG_DOUBLE, OFF(stats.questions_entropy_max), 0, 100, "0",
	  "reject questions of higher token entropy, nats (0: no bound)" },
};

/* A CFG_CHOICE key's words, in the order of the values they stand for. */
static const char *const *choice_words(const struct cfg_key *k)
{
	static const char *const mode[] = { "online", "batch", NULL };
	static const char *const limits[] = { "all", "shard", NULL };

	return !strcmp(k->name, "llm.mode") ? mode : limits;
}

struct cfg_loader {
	struct config *cfg;
	const char *name;
	yaml_document_t doc;
	unsigned char seen[CL_ARRAY_SIZE(cfg_keys)];
};

static int cfg_error(const struct cfg_loader *l, const yaml_node_t *n, const char *fmt, ...)
	CL_PRINTF(3, 4);

static int cfg_error(const struct cfg_loader *l, const yaml_node_t *n, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return err_set(CL_ECONFIG, "%s:%zu:%zu: %s", l->name,
		       n ? n->start_mark.line + 1 : 1,
		       n ? n->start_mark.column + 1 : 1, msg);
}

/* A CFG_INT bound: INT64_MAX is 2^63 as a double. */
static int64_t as_i64(double v)
{
	return v >= 0x1p63 ? INT64_MAX : v <= -0x1p63 ? INT64_MIN : (int64_t)v;
}

/* A bound as the user wrote it: 1000000, 0.01. */
static const char *bound(double v, char out[32])
{
	if (v >= 0x1p63 || v <= -0x1p63 || v == (double)(int64_t)v)
		snprintf(out, 32, "%lld", (long long)as_i64(v));
	else
		snprintf(out, 32, "%g", v);
	return out;
}

static const struct cfg_key *cfg_find(const char *name)
{
	for (size_t i = 0; i < CL_ARRAY_SIZE(cfg_keys); i++)
		if (strcmp(cfg_keys[i].name, name) == 0)
			return &cfg_keys[i];
	return NULL;
}

static int cfg_is_section(const char *prefix)
{
	size_t n = strlen(prefix);

	for (size_t i = 0; i < CL_ARRAY_SIZE(cfg_keys); i++)
		if (strncmp(cfg_keys[i].name, prefix, n) == 0 && cfg_keys[i].name[n] == '.')
			return 1;
	return 0;
}

/* "modify, clarify[, answer]": the number of stages, or -1. */
static int parse_stages_words(const char *const *w, size_t n)
{
	static const char *const names[] = { "modify", "clarify", "answer" };

	if (n < 2 || n > 3)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (strcmp(w[i], names[i]) != 0)
			return -1;
	return (int)n;
}

static int parse_stages(const char *s)
{
	char tmp[256], *p, *save = NULL;
	const char *w[4];
	size_t n = 0;

	if (strlen(s) >= sizeof(tmp))
		return -1;
	memcpy(tmp, s, strlen(s) + 1);
	for (p = strtok_r(tmp, ", []", &save); p; p = strtok_r(NULL, ", []", &save)) {
		if (n == 4)
			return -1;
		w[n++] = p;
	}
	return parse_stages_words(w, n);
}

static int parse_categories(const char *s, unsigned *out, const char **bad)
{
	char tmp[256], *p, *save = NULL;
	unsigned set = 0;

	if (strlen(s) >= sizeof(tmp))
		return CL_EINVAL;
	memcpy(tmp, s, strlen(s) + 1);
	for (p = strtok_r(tmp, ", ", &save); p; p = strtok_r(NULL, ", ", &save)) {
		int c = category_parse(p);

		if (c < 0) {
			*bad = s;
			return CL_EINVAL;
		}
		set |= 1u << c;
	}
	*out = set;
	return 0;
}

/* Set one key from its text form; the message describes what is wrong. */
static int cfg_set(struct config *cfg, const struct cfg_key *k, const char *text,
		   char *why, size_t whylen)
{
	char *field = (char *)cfg + k->off;
	int64_t v;
	int rc;

	switch (k->type) {
	case CFG_STR:
	case CFG_STR0:
	case CFG_ACTIONS:
	case CFG_JSON: {
		char *dup;

		if (k->type == CFG_STR && !*text) {
			snprintf(why, whylen, "'%s' must not be empty", k->name);
			return CL_EINVAL;
		}
		if (k->type == CFG_JSON && *text) {
			json_error_t e;
			json_t *obj = json_loads(text, 0, &e);
			int isobj = json_is_object(obj);

			json_decref(obj);
			if (!isobj) {
				snprintf(why, whylen, "'%s' must be a JSON object: %s", k->name,
					 obj ? "not an object" : e.text);
				return CL_EINVAL;
			}
		}
		dup = strdup(text);
		if (!dup)
			return CL_ENOMEM;
		free(*(char **)field);
		*(char **)field = dup;
		return 0;
	}
	case CFG_DOUBLE: {
		double d;

		if (parse_double(text, &d)) {
			snprintf(why, whylen, "'%s' must be a number, got '%s'", k->name, text);
			return CL_EPARSE;
		}
		if (d < k->min || d > k->max) {
			char lo[32], hi[32];

			snprintf(why, whylen, "'%s' must be between %s and %s, got %s", k->name,
				 bound(k->min, lo), bound(k->max, hi), text);
			return CL_EINVAL;
		}
		*(double *)field = d;
		return 0;
	}
	case CFG_BOOL:
		if (!strcmp(text, "true") || !strcmp(text, "yes") || !strcmp(text, "on")) {
			*(int64_t *)field = 1;
		} else if (!strcmp(text, "false") || !strcmp(text, "no") || !strcmp(text, "off")) {
			*(int64_t *)field = 0;
		} else {
			snprintf(why, whylen, "'%s' must be true or false, got '%s'", k->name, text);
			return CL_EINVAL;
		}
		return 0;
	case CFG_CHOICE:
		for (v = 0; choice_words(k)[v]; v++)
			if (!strcmp(text, choice_words(k)[v])) {
				*(int64_t *)field = v;
				return 0;
			}
		snprintf(why, whylen, "'%s' must be %s or %s, got '%s'", k->name,
			 choice_words(k)[0], choice_words(k)[1], text);
		return CL_EINVAL;
	case CFG_PROVIDER:
		v = llm_provider_parse(text);
		if (v < 0) {
			snprintf(why, whylen, "'%s' must be offline, openai or gemini, got '%s'",
				 k->name, text);
			return CL_EINVAL;
		}
		*(int64_t *)field = v;
		return 0;
	case CFG_INT:
		rc = parse_i64(text, as_i64(k->min), as_i64(k->max), &v);
		if (rc == CL_EPARSE) {
			snprintf(why, whylen, "'%s' must be an integer, got '%s'", k->name, text);
			return rc;
		}
		if (rc) {
			char lo[32], hi[32];

			snprintf(why, whylen, "'%s' must be between %s and %s, got %s", k->name,
				 bound(k->min, lo), bound(k->max, hi), text);
			return rc;
		}
		*(int64_t *)field = v;
		return 0;
	case CFG_LEVEL:
		v = log_level_parse(text);
		if (v < 0) {
			snprintf(why, whylen, "'%s' must be error, warn, info or debug, got '%s'",
				 k->name, text);
			return CL_EINVAL;
		}
		*(int64_t *)field = v;
		return 0;
	case CFG_STAGES:
		v = parse_stages(text);
		if (v < 0) {
			snprintf(why, whylen, "'%s' takes [modify, clarify] or [modify, clarify, answer]; "
				 "got '%s'", k->name, text);
			return CL_EINVAL;
		}
		*(int64_t *)field = v;
		return 0;
	case CFG_CATEGORIES: {
		const char *bad = NULL;

		rc = parse_categories(text, (unsigned *)field, &bad);
		if (rc) {
			snprintf(why, whylen, "'%s' takes ambiguous, inconsistent, incomplete; got '%s'",
				 k->name, text);
			return rc;
		}
		return 0;
	}
	}
	return CL_EINVAL;
}

static int cfg_scalar(struct cfg_loader *l, const struct cfg_key *k, yaml_node_t *v)
{
	const char *text = (const char *)v->data.scalar.value;
	char why[400];
	int rc;

	if (k->type == CFG_CATEGORIES) {
		return cfg_error(l, v, "'%s' must be a list, such as [ambiguous, incomplete]",
				 k->name);
	}
	if (k->type == CFG_STAGES)
		return cfg_error(l, v, "'%s' must be a list: [modify, clarify] or [modify, clarify, "
				 "answer]", k->name);
	if (k->type == CFG_ACTIONS && v->data.scalar.length)
		return cfg_error(l, v, "'%s' must be a mapping, such as {inline-commentary: soft}",
				 k->name);
	if ((k->type == CFG_INT || k->type == CFG_DOUBLE || k->type == CFG_BOOL) &&
	    v->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return cfg_error(l, v, "'%s' must be %s, got a quoted string", k->name,
				 k->type == CFG_BOOL ? "true or false" :
				 k->type == CFG_INT ? "an integer" : "a number");
	rc = cfg_set(l->cfg, k, text, why, sizeof(why));
	if (rc == CL_ENOMEM)
		return rc;
	if (rc)
		return cfg_error(l, v, "%s", why);
	return 0;
}

static int cfg_sequence(struct cfg_loader *l, const struct cfg_key *k, yaml_node_t *v)
{
	unsigned set = 0;

	if (k->type == CFG_STAGES) {
		const char *w[4];
		size_t n = 0;
		int stages;

		for (yaml_node_item_t *it = v->data.sequence.items.start;
		     it < v->data.sequence.items.top; it++) {
			yaml_node_t *item = yaml_document_get_node(&l->doc, *it);

			if (!item || item->type != YAML_SCALAR_NODE || n == 4)
				return cfg_error(l, item ? item : v, "'%s' items must be stage names",
						 k->name);
			w[n++] = (const char *)item->data.scalar.value;
		}
		stages = parse_stages_words(w, n);
		if (stages < 0)
			return cfg_error(l, v, "'%s' must be [modify, clarify] or [modify, clarify, "
					 "answer], in that order", k->name);
		*(int64_t *)((char *)l->cfg + k->off) = stages;
		return 0;
	}
	if (k->type != CFG_CATEGORIES)
		return cfg_error(l, v, "'%s' takes a single value, not a list", k->name);
	for (yaml_node_item_t *it = v->data.sequence.items.start;
	     it < v->data.sequence.items.top; it++) {
		yaml_node_t *item = yaml_document_get_node(&l->doc, *it);
		int c;

		if (!item || item->type != YAML_SCALAR_NODE)
			return cfg_error(l, item, "'%s' items must be category names", k->name);
		c = category_parse((const char *)item->data.scalar.value);
		if (c < 0)
			return cfg_error(l, item, "unknown category '%s' in '%s' "
					 "(ambiguous, inconsistent, incomplete)",
					 (const char *)item->data.scalar.value, k->name);
		if (set & (1u << c))
			return cfg_error(l, item, "category '%s' listed twice in '%s'",
					 category_name(c), k->name);
		set |= 1u << c;
	}
	if (!set)
		return cfg_error(l, v, "'%s' must name at least one category", k->name);
	*(unsigned *)((char *)l->cfg + k->off) = set;
	return 0;
}

/* filters.actions: {ID: ACTION, ...}, kept as "ID=ACTION@LINE,..." for
 * config_filter_set, which knows the rule files' ids and names the line
 * of one that no rule or check has. */
static int cfg_actions(struct cfg_loader *l, const struct cfg_key *k, yaml_node_t *map)
{
	struct buf b;
	char why[400];
	int rc;

	buf_init(&b, 1 << 20);
	for (yaml_node_pair_t *pair = map->data.mapping.pairs.start;
	     pair < map->data.mapping.pairs.top; pair++) {
		yaml_node_t *kn = yaml_document_get_node(&l->doc, pair->key);
		yaml_node_t *vn = yaml_document_get_node(&l->doc, pair->value);
		const char *id = kn && kn->type == YAML_SCALAR_NODE ?
				 (const char *)kn->data.scalar.value : NULL;
		const char *act = vn && vn->type == YAML_SCALAR_NODE ?
				  (const char *)vn->data.scalar.value : NULL;

		if (!id || !*id || strpbrk(id, "=@,")) {
			buf_release(&b);
			return cfg_error(l, kn, "'%s' takes rule ids as keys", k->name);
		}
		if (!act || filter_action_parse(act) < 0) {
			buf_release(&b);
			return cfg_error(l, vn ? vn : kn, "'%s': the action of '%s' must be reject, "
					 "flag (or soft) or off", k->name, id);
		}
		rc = buf_addf(&b, "%s%s=%s@%zu", b.len ? "," : "", id, act,
			      (size_t)kn->start_mark.line + 1);
		if (rc) {
			buf_release(&b);
			return rc;
		}
	}
	rc = cfg_set(l->cfg, k, b.len ? b.data : "", why, sizeof(why));
	buf_release(&b);
	return rc;
}

/* Whether the key of pair is an earlier key of map too: a second section
 * of one name would otherwise merge into the first without a word. */
static int key_repeated(struct cfg_loader *l, yaml_node_t *map, yaml_node_pair_t *pair)
{
	yaml_node_t *kn = yaml_document_get_node(&l->doc, pair->key);

	for (yaml_node_pair_t *q = map->data.mapping.pairs.start; q < pair; q++) {
		yaml_node_t *qn = yaml_document_get_node(&l->doc, q->key);

		if (qn && qn->type == YAML_SCALAR_NODE &&
		    qn->data.scalar.length == kn->data.scalar.length &&
		    memcmp(qn->data.scalar.value, kn->data.scalar.value,
			   kn->data.scalar.length) == 0)
			return 1;
	}
	return 0;
}

static int cfg_mapping(struct cfg_loader *l, yaml_node_t *map, const char *prefix)
{
	for (yaml_node_pair_t *pair = map->data.mapping.pairs.start;
	     pair < map->data.mapping.pairs.top; pair++) {
		yaml_node_t *kn = yaml_document_get_node(&l->doc, pair->key);
		yaml_node_t *vn = yaml_document_get_node(&l->doc, pair->value);
		const struct cfg_key *k;
		char name[256];
		int rc;

		if (!kn || kn->type != YAML_SCALAR_NODE)
			return cfg_error(l, kn, "keys must be plain names");
		if (snprintf(name, sizeof(name), "%s%s%s", prefix, *prefix ? "." : "",
			     (const char *)kn->data.scalar.value) >= (int)sizeof(name))
			return cfg_error(l, kn, "key too long");
		if (!vn)
			return cfg_error(l, kn, "missing value for '%s'", name);
		if (key_repeated(l, map, pair))
			return cfg_error(l, kn, "duplicate key '%s'", name);
		k = cfg_find(name);
		if (vn->type == YAML_MAPPING_NODE && k && k->type == CFG_ACTIONS) {
			if (l->seen[k - cfg_keys])
				return cfg_error(l, kn, "duplicate key '%s'", name);
			l->seen[k - cfg_keys] = 1;
			rc = cfg_actions(l, k, vn);
			if (rc)
				return rc;
			continue;
		}
		if (vn->type == YAML_MAPPING_NODE) {
			if (!cfg_is_section(name)) {
				if (cfg_find(name))
					return cfg_error(l, vn, "'%s' takes a single value, not a mapping",
							 name);
				return cfg_error(l, kn, "unknown key '%s'", name);
			}
			rc = cfg_mapping(l, vn, name);
			if (rc)
				return rc;
			continue;
		}
		k = cfg_find(name);
		if (!k) {
			if (cfg_is_section(name))
				return cfg_error(l, vn, "'%s' is a section and takes keys", name);
			return cfg_error(l, kn, "unknown key '%s'", name);
		}
		if (l->seen[k - cfg_keys])
			return cfg_error(l, kn, "duplicate key '%s'", name);
		l->seen[k - cfg_keys] = 1;
		if (vn->type == YAML_SEQUENCE_NODE)
			rc = cfg_sequence(l, k, vn);
		else
			rc = cfg_scalar(l, k, vn);
		if (rc)
			return rc;
	}
	return 0;
}

/* A config file is one YAML document: a second one would be ignored
 * silently, so it is refused. */
static int cfg_single_document(yaml_parser_t *parser, const char *name)
{
	yaml_document_t next;
	yaml_node_t *root;
	size_t line = 0, col = 0;
	int more;

	if (!yaml_parser_load(parser, &next))
		return err_set(CL_ECONFIG, "%s:%zu:%zu: %s", name, parser->problem_mark.line + 1,
			       parser->problem_mark.column + 1,
			       parser->problem ? parser->problem : "malformed YAML");
	root = yaml_document_get_root_node(&next);
	more = root && !(root->type == YAML_SCALAR_NODE && root->data.scalar.length == 0);
	if (more) {
		line = root->start_mark.line + 1;
		col = root->start_mark.column + 1;
	}
	yaml_document_delete(&next);
	if (more)
		return err_set(CL_ECONFIG, "%s:%zu:%zu: only one YAML document is allowed",
			       name, line, col);
	return 0;
}

int config_init(struct config *cfg)
{
	char why[400];

	memset(cfg, 0, sizeof(*cfg));
	for (size_t i = 0; i < CL_ARRAY_SIZE(cfg_keys); i++) {
		int rc = cfg_set(cfg, &cfg_keys[i], cfg_keys[i].dflt, why, sizeof(why));

		if (rc) {
			config_release(cfg);
			return rc;
		}
	}
	return 0;
}

void config_release(struct config *cfg)
{
	for (size_t i = 0; i < CL_ARRAY_SIZE(cfg_keys); i++)
		if (cfg_keys[i].type == CFG_STR || cfg_keys[i].type == CFG_STR0 ||
		    cfg_keys[i].type == CFG_JSON || cfg_keys[i].type == CFG_ACTIONS)
			free(*(char **)((char *)cfg + cfg_keys[i].off));
	free(cfg->file);
	memset(cfg, 0, sizeof(*cfg));
}

int config_load_buffer(struct config *cfg, const char *data, size_t len, const char *name)
{
	struct cfg_loader l = { .cfg = cfg, .name = name };
	yaml_parser_t parser;
	yaml_node_t *root;
	int rc;

	rc = config_init(cfg);
	if (rc)
		return rc;
	if (!yaml_parser_initialize(&parser)) {
		config_release(cfg);
		return CL_ENOMEM;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)data, len);
	if (!yaml_parser_load(&parser, &l.doc)) {
		rc = err_set(CL_ECONFIG, "%s:%zu:%zu: %s", name,
			     parser.problem_mark.line + 1, parser.problem_mark.column + 1,
			     yaml_problem(parser.problem, data, len, parser.problem_mark.line));
		goto parser_delete;
	}
	rc = cfg_single_document(&parser, name);
	if (rc)
		goto doc_delete;
	root = yaml_document_get_root_node(&l.doc);
	if (!root)
		goto set_name; /* an empty file: the defaults */
	if (root->type == YAML_SCALAR_NODE && root->data.scalar.length == 0)
		goto set_name;
	if (root->type != YAML_MAPPING_NODE) {
		rc = cfg_error(&l, root, "the top level must be a mapping of sections");
		goto doc_delete;
	}
	rc = cfg_mapping(&l, root, "");
	if (rc)
		goto doc_delete;
set_name:
	cfg->file = strdup(name);
	if (!cfg->file)
		rc = CL_ENOMEM;
doc_delete:
	yaml_document_delete(&l.doc);
parser_delete:
	yaml_parser_delete(&parser);
	if (rc)
		config_release(cfg);
	return rc;
}

int config_load(struct config *cfg, const char *path)
{
	struct buf b;
	int rc;

	buf_init(&b, 4 << 20);
	rc = file_read(path, &b);
	if (rc) {
		memset(cfg, 0, sizeof(*cfg));
		if (rc == CL_ENOTFOUND)
			err_set(rc, "cannot read config '%s': no such file", path);
		buf_release(&b);
		return rc;
	}
	rc = config_load_buffer(cfg, b.data, b.len, path);
	buf_release(&b);
	return rc;
}

int config_set_store(struct config *cfg, const char *dir)
{
	char why[400];
	int rc = cfg_set(cfg, cfg_find("store.path"), dir, why, sizeof(why));

	if (rc && rc != CL_ENOMEM)
		return err_set(rc, "invalid store directory: %s", why);
	return rc;
}

void config_print(const struct config *cfg, FILE *f)
{
	for (size_t i = 0; i < CL_ARRAY_SIZE(cfg_keys); i++) {
		const struct cfg_key *k = &cfg_keys[i];
		const char *field = (const char *)cfg + k->off;

		fprintf(f, "%s: ", k->name);
		switch (k->type) {
		case CFG_STR:
		case CFG_STR0:
		case CFG_JSON:
			fputc('\'', f);
			for (const char *s = *(char *const *)field; *s; s++) {
				if (*s == '\'')
					fputc('\'', f);
				fputc(*s, f);
			}
			fputc('\'', f);
			break;
		case CFG_INT:
			fprintf(f, "%lld", (long long)*(const int64_t *)field);
			break;
		case CFG_LEVEL:
			fprintf(f, "%s", log_level_name((int)*(const int64_t *)field));
			break;
		case CFG_DOUBLE:
			fprintf(f, "%g", *(const double *)field);
			break;
		case CFG_BOOL:
			fprintf(f, "%s", *(const int64_t *)field ? "true" : "false");
			break;
		case CFG_PROVIDER:
			fprintf(f, "%s", llm_provider_name((int)*(const int64_t *)field));
			break;
		case CFG_CHOICE:
			fprintf(f, "%s", choice_words(k)[*(const int64_t *)field]);
			break;
		case CFG_ACTIONS: {
			const char *p = *(char *const *)field;

			fputc('{', f);
			while (*p) {
				size_t id = strcspn(p, "="), act;

				act = strcspn(p + id + 1, "@");
				fprintf(f, "%s%.*s: %.*s", *(char *const *)field == p ? "" : ", ",
					(int)id, p, (int)act, p + id + 1);
				p += strcspn(p, ",");
				if (*p)
					p++;
			}
			fputc('}', f);
			break;
		}
		case CFG_STAGES:
			fprintf(f, "[modify, clarify%s]", *(const int64_t *)field == 3 ? ", answer" : "");
			break;
		case CFG_CATEGORIES: {
			const char *sep = "";

			fputc('[', f);
			for (int c = 0; c < CAT_COUNT; c++) {
				if (*(const unsigned *)field & (1u << c)) {
					fprintf(f, "%s%s", sep, category_name(c));
					sep = ", ";
				}
			}
			fputc(']', f);
			break;
		}
		}
		fprintf(f, "    # %s\n", k->help);
	}
}

/* The key, from a file (a systemd credential) or the environment, without
 * its trailing newline.  Never logged. */
static int read_api_key(const struct config *cfg, char **out)
{
	const char *env;

	*out = NULL;
	if (*cfg->llm.api_key_file) {
		struct buf b;
		int rc;

		buf_init(&b, 64 << 10);
		rc = file_read(cfg->llm.api_key_file, &b);
		if (rc) {
			buf_release(&b);
			return err_set(rc, "cannot read llm.api_key_file '%s': %s",
				       cfg->llm.api_key_file, err_str(rc));
		}
		while (b.len && (b.data[b.len - 1] == '\n' || b.data[b.len - 1] == '\r' ||
				 b.data[b.len - 1] == ' '))
			b.data[--b.len] = '\0';
		*out = buf_detach(&b, NULL);
		return 0;
	}
	env = *cfg->llm.api_key_env ? getenv(cfg->llm.api_key_env) : NULL;
	if (env && *env) {
		*out = strdup(env);
		return *out ? 0 : CL_ENOMEM;
	}
	return 0;
}

int config_llm_options(const struct config *cfg, struct llm_options *o)
{
	int rc;

	llm_options_init(o);
	o->provider = (int)cfg->llm.provider;
	o->base_url = strdup(cfg->llm.base_url);
	o->model = strdup(cfg->llm.model);
	if (!o->base_url || !o->model) {
		llm_options_release(o);
		return CL_ENOMEM;
	}
	if (*cfg->llm.extra_body)
		o->extra_body = json_loads(cfg->llm.extra_body, 0, NULL);
	o->max_in_flight = (int)cfg->llm.max_in_flight;
	o->requests_per_min = cfg->llm.requests_per_min;
	o->tokens_per_min = cfg->llm.tokens_per_min;
	o->connect_timeout = cfg->llm.connect_timeout_s;
	o->request_timeout = cfg->llm.request_timeout_s;
	o->stall_timeout = cfg->llm.stall_timeout_s;
	o->max_response = (size_t)cfg->llm.max_response_mb << 20;
	o->max_retries = (int)cfg->llm.max_retries;
	o->backoff_base = cfg->llm.backoff_base_s;
	o->backoff_max = cfg->llm.backoff_max_s;
	o->circuit_failures = (int)cfg->llm.circuit_failures;
	o->circuit_cooldown = cfg->llm.circuit_cooldown_s;
	o->max_total_tokens = cfg->llm.max_total_tokens;
	o->seed = (uint64_t)cfg->llm.seed;
	rc = read_api_key(cfg, &o->api_key);
	if (!rc && o->api_key && prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0)
		log_warn("cannot make the process non-dumpable: a core file would hold the "
			 "API key");
	if (!rc && !o->api_key && o->provider != LLM_OFFLINE)
		rc = err_set(CL_ECONFIG, "no API key for the %s provider: set the environment "
			     "variable %s or llm.api_key_file", llm_provider_name(o->provider),
			     *cfg->llm.api_key_env ? cfg->llm.api_key_env : "named by llm.api_key_env");
	if (rc)
		llm_options_release(o);
	return rc;
}

#ifndef CLARIFY_DATADIR
#define CLARIFY_DATADIR "/usr/local/share/clarifyd"
#endif

void config_data_dir(const char *dir, const char *name, char *out, size_t n)
{
	if (dir && *dir) {
		snprintf(out, n, "%s", dir);
		return;
	}
	/* from the source tree, as make run and the tests use it */
	snprintf(out, n, "%s", name);
	if (dir_exists(out))
		return;
	snprintf(out, n, "%s/%s", CLARIFY_DATADIR, name);
}

void config_filter_limits(const struct config *cfg, struct filter_limits *l)
{
	filter_limits_default(l);
	l->leak_ngram = (int)cfg->filters.leak_ngram;
	l->drift_min_overlap = cfg->filters.drift_min_overlap;
	l->drift_min_content = cfg->filters.drift_min_content;
	l->max_line_repeats = (int)cfg->filters.max_line_repeats;
	l->max_ngram_repeat = cfg->filters.max_ngram_repeat;
	l->min_questions = (int)cfg->filters.min_questions;
	l->max_questions = (int)cfg->filters.max_questions;
}

int config_filter_actions(const char *actions, const char *file, struct filter_set *fs)
{
	for (const char *p = actions ? actions : ""; *p;) {
		char id[128], act[16];
		size_t n = strcspn(p, "="), m = strcspn(p + n + 1, "@");
		unsigned long line = strtoul(p + n + 1 + m + 1, NULL, 10);

		snprintf(id, sizeof(id), "%.*s", (int)n, p);
		snprintf(act, sizeof(act), "%.*s", (int)m, p + n + 1);
		if (filter_set_action(fs, id, filter_action_parse(act))) {
			filter_set_release(fs);
			return err_set(CL_ECONFIG, "%s:%lu: filters.actions: no rule or check '%s' "
				       "(clarify filters list names them)",
				       file ? file : "the config", line, id);
		}
		p += strcspn(p, ",");
		if (*p)
			p++;
	}
	return 0;
}

int config_filter_set(const struct config *cfg, const char *dir, struct filter_set *fs)
{
	char path[4096];
	int rc;

	config_data_dir(dir && *dir ? dir : cfg->filters.dir, "filters", path, sizeof(path));
	rc = file_exists(path) ? filter_set_load_file(fs, path) : filter_set_load_dir(fs, path);
	if (rc)
		return rc;
	config_filter_limits(cfg, &fs->limits);
	return config_filter_actions(cfg->filters.actions, cfg->file, fs);
}

void config_stats_bounds(const struct config *cfg, struct stats_bounds *b)
{
	stats_bounds_init(b);
	b->modified_ppl_min = cfg->stats.modified_ppl_min;
	b->modified_ppl_max = cfg->stats.modified_ppl_max;
	b->questions_ppl_min = cfg->stats.questions_ppl_min;
	b->questions_ppl_max = cfg->stats.questions_ppl_max;
	b->modified_entropy_min = cfg->stats.modified_entropy_min;
	b->modified_entropy_max = cfg->stats.modified_entropy_max;
	b->questions_entropy_min = cfg->stats.questions_entropy_min;
	b->questions_entropy_max = cfg->stats.questions_entropy_max;
}
