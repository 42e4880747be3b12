/* clarify.c - the command-line tool: global options and dispatch */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const struct command {
	const char *name;
	int (*run)(struct cli *c, int argc, char **argv);
	const char *summary;
} commands[] = {
	{ "import", cmd_import, "load APPS problems (folders or JSONL) and create their jobs" },
	{ "status", cmd_status, "count problems, and jobs by state and category" },
	{ "show", cmd_show, "print one problem with its jobs and results" },
	{ "verify", cmd_verify, "decode every record and check that jobs and results agree" },
	{ "ask", cmd_ask, "send prompts through the configured LLM provider" },
	{ "filters", cmd_filters, "check rows against the leak and quality filters; list them" },
	{ "lm", cmd_lm, "train, score and describe the n-gram language model" },
	{ "try", cmd_try, "run one problem through both stages, store nothing, show everything" },
	{ "plan", cmd_plan, "what the pending jobs will cost: requests, tokens, money per stage" },
	{ "requeue", cmd_requeue, "put failed or rejected jobs back in the queue" },
	{ "stats", cmd_stats, "perplexity, entropy and sizes by category, template or model" },
	{ "batches", cmd_batches, "the provider batches of llm.mode batch; cancel one" },
	{ "samples", cmd_samples, "examples of what a rule caught, its span highlighted; failures by reason" },
	{ "shards", cmd_shards, "plan a sharded run, and show every shard's progress" },
	{ "export", cmd_export, "write the training set (JSONL, .zst) with its manifest" },
	{ "compact", cmd_compact, "rewrite the records from before the store's zstd dictionaries" },
};

static void usage(FILE *f)
{
	fprintf(f, "usage: clarify [-c FILE] [-s DIR] [-v | -q] COMMAND [ARGS]\n\n"
		   "Build and inspect clarification-aware training data.\n\n"
		   "options:\n"
		   "  -c, --config FILE  configuration file (default: $CLARIFY_CONFIG,\n"
		   "                     else /etc/clarifyd/clarifyd.yaml when present)\n"
		   "  -s, --store DIR    store directory (overrides store.path and $CLARIFY_STORE)\n"
		   "  -v, --verbose      log debug messages\n"
		   "  -q, --quiet        log errors only\n"
		   "  -h, --help         this help; 'clarify COMMAND --help' for a command\n"
		   "  -V, --version      print the version\n\n"
		   "commands:\n");
	for (size_t i = 0; i < CL_ARRAY_SIZE(commands); i++)
		fprintf(f, "  %-8s %s\n", commands[i].name, commands[i].summary);
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "clarify %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n(see 'clarify %s --help')\n", cmd);
	return EXIT_USAGE;
}

int cli_json_opts(const char *cmd, int argc, char **argv, void (*help)(FILE *), int *json)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};

	optind = 0;
	for (;;) {
		int opt = getopt_long(argc, argv, "h", opts, NULL);

		if (opt == -1)
			return -1;
		if (opt == 'j') {
			*json = 1;
		} else if (opt == 'h') {
			help(stdout);
			return EXIT_OK;
		} else {
			return cli_usage_error(cmd, "unknown option");
		}
	}
}

void cli_store_options(const struct cli *c, struct store_options *opt)
{
	opt->map_size = (size_t)c->cfg.store.map_size_mb << 20;
	opt->zstd_level = (int)c->cfg.store.zstd_level;
	opt->max_record = (size_t)c->cfg.store.max_record_mb << 20;
}

int cli_open_store(struct cli *c, struct store *s, unsigned flags)
{
	struct store_options opt;
	int rc;

	rc = cli_load_config(c);
	if (rc)
		return rc;
	cli_store_options(c, &opt);
	err_clear();
	rc = store_open(s, c->cfg.store.path, flags, &opt);
	if (rc) {
		log_err("%s", err_msg(rc));
		return EXIT_FAIL;
	}
	return 0;
}

/* -c FILE, else $CLARIFY_CONFIG, else the system file when it exists,
 * else the built-in defaults. */
int cli_load_config(struct cli *c)
{
	const char *path = c->config_path;
	const char *env_store = getenv("CLARIFY_STORE");
	int rc;

	if (c->loaded)
		return 0;
	if (!path)
		path = getenv("CLARIFY_CONFIG");
	if (!path && file_exists("/etc/clarifyd/clarifyd.yaml"))
		path = "/etc/clarifyd/clarifyd.yaml";
	err_clear();
	rc = path ? config_load(&c->cfg, path) : config_init(&c->cfg);
	if (rc) {
		log_err("%s", err_msg(rc));
		return EXIT_USAGE;
	}
	if (env_store && *env_store)
		rc = config_set_store(&c->cfg, env_store);
	if (!rc && c->store_dir)
		rc = config_set_store(&c->cfg, c->store_dir);
	if (rc) {
		log_err("%s", err_msg(rc));
		return EXIT_USAGE;
	}
	log_init("clarify", c->log_level >= 0 ? c->log_level : (int)c->cfg.log.level);
	c->loaded = 1;
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "store", required_argument, NULL, 's' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct cli c = { .log_level = -1 };
	int opt, rc;

	log_init("clarify", LOG_INFO);
	for (;;) {
		opt = getopt_long(argc, argv, "+c:s:vqhV", opts, NULL);
		if (opt == -1)
			break;
		switch (opt) {
		case 'c':
			c.config_path = optarg;
			break;
		case 's':
			c.store_dir = optarg;
			break;
		case 'v':
			c.log_level = LOG_DEBUG;
			break;
		case 'q':
			c.log_level = LOG_ERR;
			break;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		case 'V':
			printf("clarify %s\n", CLARIFY_VERSION);
			return EXIT_OK;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (strcmp(argv[optind], "help") == 0) {
		usage(stdout);
		return EXIT_OK;
	}
	for (size_t i = 0; i < CL_ARRAY_SIZE(commands); i++) {
		if (strcmp(argv[optind], commands[i].name) != 0)
			continue;
		optind++;
		/* the command sees argv[0] = its name */
		rc = commands[i].run(&c, argc - optind + 1, argv + optind - 1);
		config_release(&c.cfg);
		return rc;
	}
	fprintf(stderr, "clarify: unknown command '%s'\n\n", argv[optind]);
	usage(stderr);
	return EXIT_USAGE;
}
