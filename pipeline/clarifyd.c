/*
 * clarifyd.c - the daemon's entry point.
 *
 * The command line and the configuration (checked whole, exit 2 when
 * refused); the store opened as its single writer; then the generation
 * loop of daemon.c until SIGTERM, or with --once until no job is left.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "../store/store.h"
#include "config.h"
#include "daemon.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: clarifyd [-c FILE] [-s DIR] [--once] [--shard K/N] [--no-cache]\n"
		   "                [--check-config] [--print-config]\n\n"
		   "The clarifyd daemon: turns the store's job queue into clarification data.\n\n"
		   "options:\n"
		   "  -c, --config FILE  configuration file (default: built-in defaults)\n"
		   "  -s, --store DIR    store directory (overrides store.path and $CLARIFY_STORE)\n"
		   "      --once         exit when no job is left\n"
		   "      --shard K/N    only the problems whose key hashes to shard K of N\n"
		   "      --no-cache     neither read nor write the response cache\n"
		   "      --check-config validate the configuration and exit (0 valid, 2 not)\n"
		   "      --print-config print every key with its value and exit\n"
		   "  -v, --verbose      log debug messages\n"
		   "  -h, --help         this help\n"
		   "  -V, --version      print the version\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "store", required_argument, NULL, 's' },
		{ "once", no_argument, NULL, 'o' },
		{ "shard", required_argument, NULL, 'S' },
		{ "no-cache", no_argument, NULL, 'n' },
		{ "check-config", no_argument, NULL, 'k' },
		{ "print-config", no_argument, NULL, 'p' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *config_path = NULL, *store_dir = NULL, *env_store;
	int check = 0, print = 0, verbose = 0, once = 0, no_cache = 0, shard = 0, shards = 1;
	int opt, rc;
	struct store_options so;
	struct daemon_opts d = { 0 };
	struct daemon_counts n;
	char prompts[4096], filters[4096];
	struct config cfg;
	struct store s;

	log_init("clarifyd", LOG_INFO);
	for (;;) {
		opt = getopt_long(argc, argv, "c:s:vhV", opts, NULL);
		if (opt == -1)
			break;
		switch (opt) {
		case 'c':
			config_path = optarg;
			break;
		case 's':
			store_dir = optarg;
			break;
		case 'o':
			once = 1;
			break;
		case 'n':
			no_cache = 1;
			break;
		case 'S':
			if (sscanf(optarg, "%d/%d", &shard, &shards) != 2 || shards < 1 || shard < 0 ||
			    shard >= shards) {
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
		case 'v':
			verbose = 1;
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
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	rc = config_path ? config_load(&cfg, config_path) : config_init(&cfg);
	if (rc) {
		log_err("%s", err_msg(rc));
		return 2;
	}
	env_store = getenv("CLARIFY_STORE");
	rc = 0;
	if (env_store && *env_store)
		rc = config_set_store(&cfg, env_store);
	if (!rc && store_dir)
		rc = config_set_store(&cfg, store_dir);
	if (rc) {
		log_err("%s", err_msg(rc));
		config_release(&cfg);
		return 2;
	}
	log_init("clarifyd", verbose ? LOG_DEBUG : (int)cfg.log.level);
	if (print)
		config_print(&cfg, stdout);
	if (check)
		printf("config '%s' is valid\n", cfg.file ? cfg.file : "(built-in defaults)");
	if (check || print) {
		config_release(&cfg);
		return EXIT_SUCCESS;
	}

	so.map_size = (size_t)cfg.store.map_size_mb << 20;
	so.zstd_level = (int)cfg.store.zstd_level;
	so.max_record = (size_t)cfg.store.max_record_mb << 20;
	err_clear();
	rc = config_llm_options(&cfg, &d.llm);
	if (rc) {
		log_err("%s", err_msg(rc));
		config_release(&cfg);
		return 2;
	}
	rc = store_open(&s, cfg.store.path, STORE_WRITER, &so);
	if (rc) {
		log_err("%s", err_msg(rc));
		llm_options_release(&d.llm);
		config_release(&cfg);
		return EXIT_FAILURE;
	}
	config_data_dir(cfg.prompts.dir, "prompts", prompts, sizeof(prompts));
	config_data_dir(cfg.filters.dir, "filters", filters, sizeof(filters));
	d.prompts_dir = prompts;
	d.filters_dir = filters;
	config_filter_limits(&cfg, &d.limits);
	config_stats_bounds(&cfg, &d.bounds);
	d.cache = cfg.llm.cache && !no_cache;
	d.max_parse_retries = (int)cfg.prompts.max_parse_retries;
	d.once = once;
	d.shard = shard;
	d.shards = shards;
	d.batch = (int)cfg.store.batch_records;
	d.workers = (int)cfg.jobs.workers;
	d.drain_seconds = 30;
	memset(&n, 0, sizeof(n));
	rc = daemon_run(&d, &s, &n);
	log_info("%llu accepted, %llu rejected, %llu failed; %llu requests, %llu from the cache, "
		 "%llu tokens", (unsigned long long)n.accepted, (unsigned long long)n.rejected,
		 (unsigned long long)n.failed, (unsigned long long)n.requests,
		 (unsigned long long)n.cache_hits, (unsigned long long)n.tokens);
	store_close(&s);
	llm_options_release(&d.llm);
	config_release(&cfg);
	return rc ? EXIT_FAILURE : EXIT_SUCCESS;
}
