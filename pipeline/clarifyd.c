/*
 * clarifyd.c - the daemon's entry point.
 *
 * The command line and the configuration (checked whole, exit 2 when
 * refused); the store opened as its single writer; then the generation
 * loop of daemon.c until SIGTERM, or with --once until no job is left.
 * On SIGHUP the daemon asks for the configuration again (on_reload).
 */
#include <getopt.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "../store/store.h"
#include "config.h"
#include "daemon.h"
#include "plan.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: clarifyd [-c FILE] [-s DIR] [-v | -q] [--once] [--shard K/N]\n"
		   "                [--no-cache] [--no-progress] [--check-config] [--print-config]\n"
		   "                [--dry-run [--json]]\n\n"
		   "The clarifyd daemon: turns the store's job queue into clarification data.\n\n"
		   "options:\n"
		   "  -c, --config FILE  configuration file (default: built-in defaults)\n"
		   "  -s, --store DIR    store directory (overrides store.path and $CLARIFY_STORE)\n"
		   "      --once         exit when no job is left\n"
		   "      --shard K/N    only the problems whose key hashes to shard K of N\n"
		   "      --no-cache     neither read nor write the response cache\n"
		   "      --no-progress  no live progress line (drawn on a terminal otherwise)\n"
		   "      --check-config validate the configuration and exit (0 valid, 2 not)\n"
		   "      --print-config print every key with its value and exit\n"
		   "      --dry-run      print what the pending jobs will cost, per stage:\n"
		   "                     requests, tokens in and out, and money at\n"
		   "                     llm.price_in_per_mtok and llm.price_out_per_mtok;\n"
		   "                     sends nothing, opens the store read-only.  Tokens\n"
		   "                     are estimated as ceil(bytes / 4) of the rendered\n"
		   "                     prompts (no byte-pair tokenizer); stages 2 and 3\n"
		   "                     as their template plus the expected rewrite and\n"
		   "                     questions; replies from the store's results, else\n"
		   "                     priors within the templates' max_tokens\n"
		   "      --json         with --dry-run: the estimate as JSON\n"
		   "  -v, --verbose      log debug messages\n"
		   "  -q, --quiet        log errors only\n"
		   "  -h, --help         this help\n"
		   "  -V, --version      print the version\n");
}

/* What the command line fixed, for every reading of the configuration. */
struct boot {
	const char *config_path;   /* NULL: the built-in defaults */
	const char *store_dir;     /* -s */
	int once, no_cache, shard, shards, verbose, quiet, no_progress;
	int dry;                   /* --dry-run: no LLM client, so no API key needed */
	char store_path[4096];     /* the store this run writes */
};

/* One reading of the configuration, and the daemon's options from it. */
struct run {
	struct config cfg;
	struct daemon_opts d;
	char prompts[4096], filters[4096];
};

static void run_free(struct run *r)
{
	if (!r)
		return;
	llm_options_release(&r->d.llm);
	config_release(&r->cfg);
	free(r);
}

static int on_reload(void *arg, struct daemon_opts **out);
static void on_release(void *arg, struct daemon_opts *o);

/* llm.limits_per all: the provider's limits are the account's, and each of
 * the shards that run at once takes its part. */
static void share_limits(struct run *r, int shards)
{
	if (shards <= 1 || r->cfg.llm.limits_per != 0)
		return;
	r->d.llm.requests_per_min /= shards;
	r->d.llm.tokens_per_min /= shards;
}

/*
 * A store made by clarify import --shards knows its shard: --shard must
 * name the same one, and without --shard the store's is taken (with its
 * share of the limits).  Exit status 2 when they differ, else 0.
 */
static int check_shard(struct boot *b, struct run *r, struct store *s)
{
	unsigned k, n;
	MDB_txn *txn;
	int rc;

	rc = store_read_begin(s, &txn);
	if (!rc) {
		rc = store_shard_get(s, txn, &k, &n);
		store_read_end(txn);
	}
	if (rc == CL_ENOTFOUND)
		return 0;
	if (rc) {
		log_err("%s", err_msg(rc));
		return EXIT_FAILURE;
	}
	if (b->shards > 1 && ((unsigned)b->shard != k || (unsigned)b->shards != n)) {
		log_err("store '%s' holds shard %u/%u (clarify import --shards), not --shard %d/%d",
			s->path, k, n, b->shard, b->shards);
		return 2;
	}
	if (b->shards <= 1 && n > 1) {
		b->shard = (int)k;
		b->shards = (int)n;
		r->d.shard = b->shard;
		r->d.shards = b->shards;
		share_limits(r, b->shards);
		log_info("store '%s' is shard %u/%u: its jobs only", s->path, k, n);
	}
	return 0;
}

/* Read the configuration; the reason is in err_msg() when it is refused. */
static int run_load(struct boot *b, struct run **out)
{
	struct run *r = calloc(1, sizeof(*r));
	const char *env_store = getenv("CLARIFY_STORE");
	int rc;

	*out = NULL;
	if (!r)
		return CL_ENOMEM;
	rc = b->config_path ? config_load(&r->cfg, b->config_path) : config_init(&r->cfg);
	if (rc) {
		free(r);
		return rc;
	}
	if (env_store && *env_store)
		rc = config_set_store(&r->cfg, env_store);
	if (!rc && b->store_dir)
		rc = config_set_store(&r->cfg, b->store_dir);
	if (!rc && !b->dry) {
		err_clear();
		rc = config_llm_options(&r->cfg, &r->d.llm);
		if (!rc)
			share_limits(r, b->shards);
	}
	if (rc) {
		config_release(&r->cfg);
		free(r);
		return rc;
	}
	config_data_dir(r->cfg.prompts.dir, "prompts", r->prompts, sizeof(r->prompts));
	config_data_dir(r->cfg.filters.dir, "filters", r->filters, sizeof(r->filters));
	r->d.prompts_dir = r->prompts;
	r->d.filters_dir = r->filters;
	config_filter_limits(&r->cfg, &r->d.limits);
	config_stats_bounds(&r->cfg, &r->d.bounds);
	r->d.cache = r->cfg.llm.cache && !b->no_cache;
	r->d.max_parse_retries = (int)r->cfg.prompts.max_parse_retries;
	r->d.stages = (int)r->cfg.jobs.stages;
	for (int c = 0; c < CAT_COUNT; c++)
		r->d.target[c] = r->cfg.jobs.target_accepted[c];
	r->d.filter_actions = r->cfg.filters.actions;
	r->d.config_file = r->cfg.file;
	r->d.once = b->once;
	r->d.shard = b->shard;
	r->d.shards = b->shards;
	r->d.batch = (int)r->cfg.store.batch_records;
	r->d.dict_after = r->cfg.store.dict_after;
	r->d.workers = (int)r->cfg.jobs.workers;
	r->d.drain_seconds = 30;
	r->d.progress = b->no_progress ? 0 : -1;
	r->d.near_dup = r->cfg.filters.near_duplicate;
	r->d.price_in = r->cfg.llm.price_in_per_mtok;
	r->d.price_out = r->cfg.llm.price_out_per_mtok;
	r->d.batch_mode = (int)r->cfg.llm.mode;
	r->d.batch_max_requests = (size_t)r->cfg.llm.batch_max_requests;
	r->d.batch_poll_s = r->cfg.llm.batch_poll_s;
	r->d.batch_discount = r->cfg.llm.batch_discount;
	r->d.log_level = b->verbose ? LOG_DEBUG : b->quiet ? LOG_ERR : (int)r->cfg.log.level;
	r->d.reload = on_reload;
	r->d.release = on_release;
	r->d.reload_arg = b;
	*out = r;
	return 0;
}

static int on_reload(void *arg, struct daemon_opts **out)
{
	struct boot *b = arg;
	struct run *r;
	int rc;

	err_clear();
	rc = run_load(b, &r);
	if (rc) {
		log_err("%s", err_msg(rc));
		return rc;
	}
	if (strcmp(r->cfg.store.path, b->store_path) != 0)
		log_warn("store.path is now '%s': the store changes at the next start",
			 r->cfg.store.path);
	*out = &r->d;
	return 0;
}

static void on_release(void *arg, struct daemon_opts *o)
{
	(void)arg;
	run_free((struct run *)(void *)((char *)o - offsetof(struct run, d)));
}

/* --dry-run: the pending jobs priced (plan.c), the store opened read-only */
static int dry_run(struct run *r, const struct store_options *so, int json)
{
	const struct plan_opts po = { .stages = r->d.stages, .shard = r->d.shard,
				      .shards = r->d.shards };
	const struct plan_price pr = { .provider = llm_provider_name((int)r->cfg.llm.provider),
				       .model = r->cfg.llm.model,
				       .in_per_mtok = r->cfg.llm.price_in_per_mtok,
				       .out_per_mtok = r->cfg.llm.price_out_per_mtok };
	struct store s;
	int rc;

	rc = store_open(&s, r->cfg.store.path, STORE_RDONLY, so);
	if (rc) {
		log_err("%s", err_msg(rc));
		return rc;
	}
	rc = plan_report(&s, r->prompts, &po, &pr, json, stdout);
	if (rc)
		log_err("%s", err_msg(rc));
	store_close(&s);
	return rc;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "store", required_argument, NULL, 's' },
		{ "once", no_argument, NULL, 'o' },
		{ "shard", required_argument, NULL, 'S' },
		{ "no-cache", no_argument, NULL, 'n' },
		{ "no-progress", no_argument, NULL, 'P' },
		{ "check-config", no_argument, NULL, 'k' },
		{ "print-config", no_argument, NULL, 'p' },
		{ "dry-run", no_argument, NULL, 'D' },
		{ "json", no_argument, NULL, 'J' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	static struct boot b = { .shards = 1 };
	int check = 0, print = 0, dry = 0, json = 0, opt, rc;
	struct store_options so;
	struct daemon_counts n;
	struct run *r;
	struct store s;

	log_init("clarifyd", LOG_INFO);
	for (;;) {
		opt = getopt_long(argc, argv, "c:s:vqhV", opts, NULL);
		if (opt == -1)
			break;
		switch (opt) {
		case 'c':
			b.config_path = optarg;
			break;
		case 's':
			b.store_dir = optarg;
			break;
		case 'o':
			b.once = 1;
			break;
		case 'n':
			b.no_cache = 1;
			break;
		case 'P':
			b.no_progress = 1;
			break;
		case 'S':
			if (sscanf(optarg, "%d/%d", &b.shard, &b.shards) != 2 || b.shards < 1 ||
			    b.shard < 0 || b.shard >= b.shards) {
				fprintf(stderr, "clarifyd: --shard takes K/N with 0 <= K < N, not '%s'\n",
					optarg);
				return 2;
			}
			break;
		case 'k':
			check = 1;
			break;
		case 'p':
			print = 1;
			break;
		case 'D':
			dry = b.dry = 1;
			break;
		case 'J':
			json = 1;
			break;
		case 'v':
			b.verbose = 1;
			break;
		case 'q':
			b.quiet = 1;
			break;
		case 'h':
			usage(stdout);
			return EXIT_SUCCESS;
		case 'V':
			printf("clarifyd %s\n", CLARIFY_VERSION);
			return EXIT_SUCCESS;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc || (json && !dry)) {
		usage(stderr);
		return 2;
	}
	err_clear();
	rc = run_load(&b, &r);
	if (rc) {
		log_err("%s", err_msg(rc));
		return 2;
	}
	log_init("clarifyd", r->d.log_level);
	if (check) {
		/* exactly what start-up and SIGHUP check, not only the keys */
		rc = daemon_check(&r->d);
		if (rc) {
			log_err("%s", err_msg(rc));
			run_free(r);
			return 2;
		}
	}
	if (print)
		config_print(&r->cfg, stdout);
	if (check)
		printf("config '%s' is valid\n", r->cfg.file ? r->cfg.file : "(built-in defaults)");
	if (check || print) {
		run_free(r);
		return EXIT_SUCCESS;
	}

	so.map_size = (size_t)r->cfg.store.map_size_mb << 20;
	so.zstd_level = (int)r->cfg.store.zstd_level;
	so.max_record = (size_t)r->cfg.store.max_record_mb << 20;
	snprintf(b.store_path, sizeof(b.store_path), "%s", r->cfg.store.path);
	if (dry) {
		rc = dry_run(r, &so, json);
		run_free(r);
		return rc == CL_ECONFIG ? 2 : rc ? EXIT_FAILURE : EXIT_SUCCESS;
	}
	rc = store_open(&s, r->cfg.store.path, STORE_WRITER, &so);
	if (rc) {
		log_err("%s", err_msg(rc));
		run_free(r);
		return EXIT_FAILURE;
	}
	rc = check_shard(&b, r, &s);
	if (rc) {
		store_close(&s);
		run_free(r);
		return rc;
	}
	if (b.shards > 1 && (r->d.llm.requests_per_min > 0 || r->d.llm.tokens_per_min > 0))
		log_info("shard %d/%d: %g requests and %g tokens a minute (llm.limits_per %s)",
			 b.shard, b.shards, r->d.llm.requests_per_min, r->d.llm.tokens_per_min,
			 r->cfg.llm.limits_per ? "shard" : "all: 1/N of the account's");
	memset(&n, 0, sizeof(n));
	rc = daemon_run(&r->d, &s, &n);
	log_info("%llu accepted, %llu rejected, %llu failed; %llu requests, %llu from the cache, "
		 "%llu tokens", (unsigned long long)n.accepted, (unsigned long long)n.rejected,
		 (unsigned long long)n.failed, (unsigned long long)n.requests,
		 (unsigned long long)n.cache_hits, (unsigned long long)n.tokens);
	store_close(&s);
	run_free(r);
	/* a bad template or rule file is a configuration error, as a bad key */
	return rc == CL_ECONFIG ? 2 : rc ? EXIT_FAILURE : EXIT_SUCCESS;
}
