/*
 * clarifyd.c - the daemon's entry point.
 *
 * What exists so far: the command line, the configuration (checked whole,
 * exit 2 when refused), and the store opened as its single writer.  The
 * worker pool that drains the jobs arrives with the pipeline issue; until
 * then a run reports the queue and exits 1, saying so.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "../store/store.h"
#include "config.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: clarifyd [-c FILE] [-s DIR] [--once] [--check-config] [--print-config]\n\n"
		   "The clarifyd daemon: turns the store's job queue into clarification data.\n\n"
		   "options:\n"
		   "  -c, --config FILE  configuration file (default: built-in defaults)\n"
		   "  -s, --store DIR    store directory (overrides store.path and $CLARIFY_STORE)\n"
		   "      --once         exit when no job is left\n"
		   "      --check-config validate the configuration and exit (0 valid, 2 not)\n"
		   "      --print-config print every key with its value and exit\n"
		   "  -v, --verbose      log debug messages\n"
		   "  -h, --help         this help\n"
		   "  -V, --version      print the version\n");
}

static int count_pending(const char *key, size_t klen, json_t *v, int rc, void *arg)
{
	uint64_t *n = arg;

	(void)key;
	(void)klen;
	if (!rc && jsonx_str(v, "state") && strcmp(jsonx_str(v, "state"), "pending") == 0)
		(*n)++;
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "store", required_argument, NULL, 's' },
		{ "once", no_argument, NULL, 'o' },
		{ "check-config", no_argument, NULL, 'k' },
		{ "print-config", no_argument, NULL, 'p' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *config_path = NULL, *store_dir = NULL, *env_store;
	int check = 0, print = 0, verbose = 0, opt, rc;
	struct store_options so;
	struct config cfg;
	struct store s;
	MDB_txn *txn;
	uint64_t pending = 0;

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
	rc = store_open(&s, cfg.store.path, STORE_WRITER, &so);
	if (rc) {
		log_err("%s", err_msg(rc));
		config_release(&cfg);
		return EXIT_FAILURE;
	}
	rc = store_read_begin(&s, &txn);
	if (!rc) {
		rc = store_each(&s, txn, STORE_JOBS, "", count_pending, &pending);
		store_read_end(txn);
	}
	if (rc)
		log_err("%s", err_msg(rc));
	else
		log_err("store '%s' has %llu pending jobs, but the worker pool is not built yet "
			"(see the README)", s.path, (unsigned long long)pending);
	store_close(&s);
	config_release(&cfg);
	return EXIT_FAILURE;
}
