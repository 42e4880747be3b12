/*
 * cmd_ask.c - clarify ask: send prompts through the configured provider.
 *
 * The way to check an endpoint, a key and the limits before a long run,
 * and the driver of the LLM client's integration tests and benchmarks.
 * Replies are cached in the store (llm.cache) unless --no-cache.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../llm/llm.h"
#include "cli.h"

#define CACHE_BATCH 64

struct ask {
	struct llm_request *reqs;
	char (*keys)[HASH_SHA256_HEX];
	json_t *owned;          /* the strings the requests point into */
	size_t n, cap;
	struct store s;
	int have_store, can_write, use_cache;
	unsigned char *done;    /* returned by the client */
	size_t *to_cache;       /* indexes of replies to write */
	size_t ncache;
	uint64_t hits;
};

static void usage(FILE *f)
{
	fprintf(f, "usage: clarify ask [options] [PROMPT...]\n\n"
		   "Send each PROMPT (or each line of --file) through the configured LLM\n"
		   "provider (llm.* in the config), many at once, and print the replies in\n"
		   "order.  Use it to check an endpoint and key before a long run.  Replies\n"
		   "are kept in the store's cache unless --no-cache or llm.cache is false;\n"
		   "a cached reply is printed without a request.\n\n"
		   "With the offline provider a PROMPT is the problem to rewrite.\n\n"
		   "options:\n"
		   "  --system TEXT      the system message\n"
		   "  --file FILE        JSONL, one request a line: {\"user\", \"system\",\n"
		   "                     \"temperature\", \"max_tokens\", \"stage\", \"category\",\n"
		   "                     \"original\", \"modified\"}; - for standard input\n"
		   "  --temperature T    sampling temperature\n"
		   "  --max-tokens N     reply length limit\n"
		   "  --category C       ambiguous, inconsistent or incomplete (offline)\n"
		   "  --stage S          modify or clarify (offline)\n"
		   "  --no-cache         neither read nor write the cache\n"
		   "  --json             one JSON object per reply, then a summary object\n"
		   "  -h, --help         this help\n\n"
		   "Exit status: 0 when every request succeeded, 1 otherwise, 2 for usage.\n");
}

static struct llm_request *add(struct ask *a)
{
	if (ARRAY_GROW(a->reqs, a->cap, a->n, 16))
		return NULL;
	memset(&a->reqs[a->n], 0, sizeof(a->reqs[0]));
	a->reqs[a->n].temperature = -1;
	a->reqs[a->n].top_p = -1;
	a->reqs[a->n].seed = -1;
	return &a->reqs[a->n++];
}

/* Keep s alive as long as the requests, and return it. */
static const char *keep(struct ask *a, const char *s)
{
	json_t *v;

	if (!s)
		return NULL;
	v = json_string(s);
	if (!v)
		return NULL;
	json_array_append_new(a->owned, v);
	return json_string_value(v);
}

static int read_file(struct ask *a, const char *path, const struct llm_request *dflt)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
	char *line = NULL;
	size_t cap = 0, lineno = 0;
	ssize_t len;
	int rc = 0;

	if (!f) {
		log_err("cannot open '%s': %s", path, strerror(errno));
		return EXIT_FAIL;
	}
	for (;;) {
		struct llm_request *r;
		const char *cat, *stage;
		json_t *v;
		char what[64];

		len = getline(&line, &cap, f);
		if (len < 0)
			break;
		lineno++;
		if (len <= 1)
			continue;
		snprintf(what, sizeof(what), "line %zu", lineno);
		v = jsonx_parse(line, (size_t)len, what);
		if (!v || !json_is_object(v)) {
			log_err("'%s': %s", path, v ? "expected a JSON object" : err_msg(CL_EPARSE));
			json_decref(v);
			rc = EXIT_USAGE;
			break;
		}
		r = add(a);
		if (!r) {
			json_decref(v);
			rc = EXIT_FAIL;
			break;
		}
		*r = *dflt;
		r->user = keep(a, jsonx_str(v, "user"));
		if (!r->user)
			r->user = keep(a, jsonx_str(v, "original"));
		r->system = jsonx_str(v, "system") ? keep(a, jsonx_str(v, "system")) : dflt->system;
		r->original = keep(a, jsonx_str(v, "original"));
		if (!r->original)
			r->original = r->user;
		r->modified = keep(a, jsonx_str(v, "modified"));
		if (json_is_number(json_object_get(v, "temperature")))
			r->temperature = json_number_value(json_object_get(v, "temperature"));
		r->max_tokens = (int)jsonx_int(v, "max_tokens", dflt->max_tokens);
		cat = jsonx_str(v, "category");
		stage = jsonx_str(v, "stage");
		if (cat)
			r->category = category_parse(cat);
		if (stage)
			r->stage = strcmp(stage, "clarify") == 0 ? LLM_STAGE_CLARIFY : LLM_STAGE_MODIFY;
		json_decref(v);
		if (!r->user || r->category < 0) {
			log_err("'%s': line %zu: needs \"user\" (or \"original\") and a known category",
				path, lineno);
			rc = EXIT_USAGE;
			break;
		}
	}
	free(line);
	if (f != stdin)
		fclose(f);
	return rc;
}

static void print_reply(const struct llm_request *r, size_t i, int json, int many)
{
	if (json) {
		json_t *o = json_pack("{s:I, s:s, s:s, s:s?, s:s, s:I, s:I, s:f, s:i, s:i, s:b}",
				      "index", (json_int_t)i, "status", llm_status_name(r->status),
				      "error", r->error, "text", r->text, "finish_reason",
				      r->finish_reason, "tokens_in", (json_int_t)r->tokens_in,
				      "tokens_out", (json_int_t)r->tokens_out, "latency", r->latency,
				      "attempts", r->attempts, "http_status", r->http_status,
				      "cached", r->cached);

		jsonx_print(stdout, o, 0);
		json_decref(o);
		return;
	}
	if (many)
		printf("== %zu: %s%s\n", i, llm_status_name(r->status), r->cached ? " (cached)" : "");
	if (r->status == LLM_OK)
		printf("%s\n", r->text);
	else
		log_err("request %zu: %s", i, r->error);
}

static int cache_write(struct store *s, MDB_txn *txn, void *arg)
{
	struct ask *a = arg;

	for (size_t i = 0; i < a->ncache; i++) {
		size_t k = a->to_cache[i];
		json_t *v = llm_response_json(&a->reqs[k]);
		int rc = v ? store_put(s, txn, STORE_CACHE, a->keys[k], v) : CL_ENOMEM;

		json_decref(v);
		if (rc)
			return rc;
	}
	return 0;
}

static void cache_flush(struct ask *a)
{
	int rc;

	if (!a->ncache)
		return;
	rc = store_write(&a->s, cache_write, a);
	if (rc)
		log_warn("cannot write the response cache: %s", err_msg(rc));
	a->ncache = 0;
}

/* Open the store for the cache: as the writer when we can, else to read. */
static void open_cache(struct cli *c, struct ask *a)
{
	struct store_options opt;
	int rc;

	cli_store_options(c, &opt);
	rc = store_open(&a->s, c->cfg.store.path, STORE_WRITER, &opt);
	if (rc == 0) {
		a->have_store = a->can_write = 1;
		return;
	}
	if (rc == CL_ELOCKED && store_open(&a->s, c->cfg.store.path, STORE_RDONLY, &opt) == 0) {
		a->have_store = 1;
		log_info("another writer holds the store: replies are not cached this time");
		return;
	}
	log_warn("no response cache: %s", err_msg(rc));
}

static int lookup(struct ask *a, size_t i)
{
	MDB_txn *txn;
	json_t *v = NULL;
	int hit = 0;

	if (store_read_begin(&a->s, &txn))
		return 0;
	if (store_get(&a->s, txn, STORE_CACHE, a->keys[i], &v) == 0 &&
	    llm_response_from_json(&a->reqs[i], v) == 0) {
		a->reqs[i].cached = 1;
		hit = 1;
	}
	json_decref(v);
	store_read_end(txn);
	return hit;
}

int cmd_ask(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "system", required_argument, NULL, 's' },
		{ "file", required_argument, NULL, 'f' },
		{ "temperature", required_argument, NULL, 't' },
		{ "max-tokens", required_argument, NULL, 'm' },
		{ "category", required_argument, NULL, 'c' },
		{ "stage", required_argument, NULL, 'g' },
		{ "no-cache", no_argument, NULL, 'n' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct llm_request dflt = { .temperature = -1, .top_p = -1, .seed = -1 };
	struct ask a = { 0 };
	struct llm_options o;
	struct llm_client *client = NULL;
	struct llm_stats st;
	const char *file = NULL;
	int json = 0, no_cache = 0, status = EXIT_OK, opt, rc;
	size_t printed = 0, failed = 0;
	int64_t n64;

	optind = 0;
	for (;;) {
		opt = getopt_long(argc, argv, "h", opts, NULL);
		if (opt == -1)
			break;
		switch (opt) {
		case 's':
			dflt.system = optarg;
			break;
		case 'f':
			file = optarg;
			break;
		case 't':
			if (parse_double(optarg, &dflt.temperature) || dflt.temperature < 0)
				return cli_usage_error("ask", "--temperature takes a number >= 0");
			break;
		case 'm':
			if (parse_i64(optarg, 1, 1 << 24, &n64))
				return cli_usage_error("ask", "--max-tokens takes a positive number");
			dflt.max_tokens = (int)n64;
			break;
		case 'c':
			dflt.category = category_parse(optarg);
			if (dflt.category < 0)
				return cli_usage_error("ask", "unknown category '%s'", optarg);
			break;
		case 'g':
			if (strcmp(optarg, "modify") != 0 && strcmp(optarg, "clarify") != 0)
				return cli_usage_error("ask", "--stage takes modify or clarify");
			dflt.stage = strcmp(optarg, "clarify") == 0 ? LLM_STAGE_CLARIFY
								    : LLM_STAGE_MODIFY;
			break;
		case 'n':
			no_cache = 1;
			break;
		case 'j':
			json = 1;
			break;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		default:
			return cli_usage_error("ask", "unknown option");
		}
	}
	if (!file && optind >= argc)
		return cli_usage_error("ask", "expects a PROMPT or --file");

	a.owned = json_array();
	if (file) {
		status = read_file(&a, file, &dflt);
		if (status)
			goto out;
	}
	for (int i = optind; i < argc; i++) {
		struct llm_request *r = add(&a);

		if (!r) {
			status = EXIT_FAIL;
			goto out;
		}
		*r = dflt;
		r->user = argv[i];
		r->original = argv[i];
	}

	/* the config (and the store, for the cache) */
	status = cli_load_config(c);
	if (status)
		goto out;
	err_clear();
	rc = config_llm_options(&c->cfg, &o);
	if (rc) {
		log_err("%s", err_msg(rc));
		status = EXIT_USAGE;
		goto out;
	}
	a.use_cache = c->cfg.llm.cache && !no_cache;
	if (a.use_cache)
		open_cache(c, &a);
	a.keys = calloc(a.n, sizeof(*a.keys));
	a.to_cache = calloc(a.n, sizeof(*a.to_cache));
	a.done = calloc(a.n, 1);
	rc = a.keys && a.to_cache && a.done ? llm_client_new(&client, &o) : CL_ENOMEM;
	if (rc) {
		log_err("%s", err_msg(rc));
		llm_options_release(&o);
		status = EXIT_FAIL;
		goto out;
	}
	for (size_t i = 0; i < a.n; i++) {
		llm_request_key(&o, &a.reqs[i], a.keys[i]);
		a.reqs[i].udata = (void *)(uintptr_t)i;
		if (a.have_store && lookup(&a, i)) {
			a.hits++;
			continue;
		}
		llm_submit(client, &a.reqs[i]);
	}
	llm_options_release(&o);

	/* replies in input order: print each as soon as those before it are in */
	while (llm_outstanding(client)) {
		struct llm_request *r = llm_wait(client, -1);
		size_t i;

		if (!r)
			break;
		i = (size_t)(uintptr_t)r->udata;
		a.done[i] = 1;
		if (r->status == LLM_OK && a.can_write) {
			a.to_cache[a.ncache++] = i;
			if (a.ncache == CACHE_BATCH)
				cache_flush(&a);
		}
		while (printed < a.n) {
			struct llm_request *p = &a.reqs[printed];
			if (!p->cached && !a.done[printed])
				break;
			print_reply(p, printed, json, a.n > 1);
			failed += p->status != LLM_OK;
			printed++;
		}
	}
	while (printed < a.n) {
		print_reply(&a.reqs[printed], printed, json, a.n > 1);
		failed += a.reqs[printed].status != LLM_OK;
		printed++;
	}
	cache_flush(&a);
	llm_stats(client, &st);
	if (json) {
		json_t *sum = json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}",
					"requests", (json_int_t)a.n,
					"failed", (json_int_t)failed,
					"cache_hits", (json_int_t)a.hits,
					"http_requests", (json_int_t)st.http_requests,
					"retries", (json_int_t)st.retries,
					"throttled", (json_int_t)st.throttled,
					"tokens_in", (json_int_t)st.tokens_in,
					"tokens_out", (json_int_t)st.tokens_out);

		json_object_set_new(sum, "in_flight_cap", json_integer(st.cap));
		json_object_set_new(sum, "summary", json_true());
		jsonx_print(stdout, sum, 0);
		json_decref(sum);
	} else if (a.n > 1 || st.retries || a.hits) {
		fprintf(stderr, "%zu requests, %zu failed; %llu sent, %llu retries, %llu cache hits; "
			"tokens %lld in, %lld out\n", a.n, failed,
			(unsigned long long)st.http_requests, (unsigned long long)st.retries,
			(unsigned long long)a.hits, (long long)st.tokens_in, (long long)st.tokens_out);
	}
	status = failed ? EXIT_FAIL : EXIT_OK;
out:
	llm_client_free(client);
	for (size_t i = 0; i < a.n; i++)
		llm_request_release(&a.reqs[i]);
	free(a.reqs);
	free(a.keys);
	free(a.to_cache);
	free(a.done);
	json_decref(a.owned);
	if (a.have_store)
		store_close(&a.s);
	return status;
}
