/* cmd_export.c - clarify export: the training set as JSONL, with a manifest */
#include <math.h>
#include <signal.h>
#include <string.h>

#include "../export/export.h"
#include "cli.h"

_Static_assert(SHARDS_MAX <= EXPORT_MAX_STORES, "an export reads every shard");

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: clarify export [-o FILE] [--format paper|chat|dialogue]\n"
		   "                      [--ratio R]\n"
		   "                      [--sampling down|over] [--seed N] [--category C]...\n"
		   "                      [--min-perplexity X] [--max-perplexity X]\n"
		   "                      [--min-entropy X] [--max-entropy X]\n"
		   "                      [--min-tokens N] [--max-tokens N] [--include-rejected]\n"
		   "                      [--test-fraction F] [--store DIR]... [--shards BASE]\n"
		   "                      [--strict]"
		   " [--provenance] [--no-card] [--json]\n\n"
		   "Write the accepted clarify records (D_clarify), mixed with the original\n"
		   "problems and a human solution each (D_og) when --ratio is below 1, as\n"
		   "JSONL: to a temporary file beside FILE, then renamed into place with the\n"
		   "manifest FILE.manifest.json and the dataset card README.md (Hugging Face\n"
		   "layout) beside it.  FILE ending in .zst is zstd-compressed.\n"
		   "Without -o (or with -o -) the rows go to standard output, with no manifest.\n\n"
		   "options:\n"
		   "  -o, --output FILE     the output file; '-' for standard output (default)\n"
		   "  --format F            paper: {\"problem\", \"answer\", \"type\"} (default);\n"
		   "                        chat: {\"messages\", \"category\", \"id\"};\n"
		   "                        dialogue: the same, messages system, user: the\n"
		   "                        rewrite, assistant: the questions, user: stage 3's\n"
		   "                        answers, assistant: the human solution (records\n"
		   "                        without answers or a solution are left out)\n"
		   "  --ratio R             0 < R <= 1: R = |D_clarify| / (|D_og| + |D_clarify|),\n"
		   "                        each side's count rounded to the nearest record\n"
		   "                        (within half a record of R); without it (or 1):\n"
		   "                        clarify records only\n"
		   "  --sampling S          down: cut the side in excess (default);\n"
		   "                        over: repeat records of the side in shortage\n"
		   "  --seed N              the seed of the sampling (default 0); the same seed\n"
		   "                        gives the same bytes\n"
		   "  --category C          only this category (repeatable): ambiguous,\n"
		   "                        inconsistent, incomplete\n"
		   "  --min-perplexity X, --max-perplexity X, --min-entropy X, --max-entropy X,\n"
		   "  --min-tokens N, --max-tokens N\n"
		   "                        bounds on the modified problem's stats; a record\n"
		   "                        without the stat is left out when it is bounded\n"
		   "  --include-rejected    also the records the filters rejected\n"
		   "  --test-fraction F     0 <= F < 1: that share of the problems, chosen by a\n"
		   "                        hash of their key, goes to FILE's test file\n"
		   "                        (out.jsonl -> out.test.jsonl), all of a problem's\n"
		   "                        records on one side\n"
		   "  --store DIR           read this store (repeatable: shards); default -s\n"
		   "  --shards BASE         read every shard of a sharded run (clarify import\n"
		   "                        --shards N --out BASE), after checking that none is\n"
		   "                        missing, that each problem and job is in its own\n"
		   "                        shard only, and that the shards agree on the schema\n"
		   "                        and the templates; refused with the reason if not\n"
		   "  --strict              exit 1 when a record could not be read (the files\n"
		   "                        are written all the same, without it)\n"
		   "  --provenance          each row also has \"model\" and \"template\"\n"
		   "                        (\"modify-x@1 clarify-x@1 answer-x@1\"; null for\n"
		   "                        an original)\n"
		   "  --no-card             no README.md; without it, README.md in FILE's\n"
		   "                        folder is the dataset card (YAML header: configs,\n"
		   "                        splits, features, counts), replaced only when an\n"
		   "                        export wrote it\n"
		   "  --json                print the manifest as JSON (needs -o FILE); its\n"
		   "                        usage has the written records' tokens, and their\n"
		   "                        money at llm.price_in_per_mtok, price_out_per_mtok\n"
		   "  -h, --help            this help\n");
}

static int parse_bound(const char *opt, const char *arg, double *out)
{
	if (parse_double(arg, out) != 0)
		return cli_usage_error("export", "%s must be a number, not '%s'", opt, arg);
	return 0;
}

static int open_stores(struct cli *c, const char **dirs, size_t n, struct store *stores)
{
	struct store_options opt;
	int rc;

	rc = cli_load_config(c);
	if (rc)
		return rc;
	cli_store_options(c, &opt);
	for (size_t i = 0; i < n; i++) {
		err_clear();
		rc = store_open(&stores[i], dirs[i] ? dirs[i] : c->cfg.store.path, STORE_RDONLY,
				&opt);
		if (rc) {
			log_err("%s", err_msg(rc));
			for (size_t j = 0; j < i; j++)
				store_close(&stores[j]);
			return EXIT_FAIL;
		}
	}
	return 0;
}

static int count_unended(const char *key, size_t klen, json_t *v, int rc, void *arg)
{
	int st = rc ? -1 : job_state_parse(jsonx_str(v, "state") ? jsonx_str(v, "state") : "");

	(void)key;
	(void)klen;
	if (st != JOB_DONE && st != JOB_REJECTED && st != JOB_FAILED)
		(*(uint64_t *)arg)++;
	return 0;
}

/* A writer at work on a store: the export holds what was done when it
 * began, and says so, with what is still to come. */
static void warn_if_writing(struct store *s)
{
	long pid = store_writer_pid(s->path);
	uint64_t pending = 0;
	MDB_txn *txn;

	if (!pid)
		return;
	if (store_read_begin(s, &txn) == 0) {
		(void)store_each(s, txn, STORE_JOBS, "", count_unended, &pending);
		store_read_end(txn);
	}
	log_warn("store '%s' has a writer running (pid %ld) and %llu jobs pending: the export "
		 "holds the records made so far", s->path, pid, (unsigned long long)pending);
}

static void print_summary(const struct export_result *r, const char *path)
{
	for (int sp = 0; sp < 2; sp++) {
		const struct export_file *f = &r->file[sp];

		if (!f->path[0])
			continue;
		printf("%s: %llu records (", f->path, (unsigned long long)f->records);
		for (int i = 0; i < EXPORT_TYPE_COUNT; i++) {
			int t = (i + EXPORT_ORIGINAL) % EXPORT_TYPE_COUNT;

			printf("%s%llu %s", i ? ", " : "", (unsigned long long)f->by_type[t],
			       export_type_name(t));
		}
		printf("), %llu bytes, sha256 %s\n", (unsigned long long)f->bytes, f->sha256);
	}
	printf("manifest: %s.manifest.json\n", path);
	printf("skipped: %llu rejected, %llu by category, %llu by stat bounds, %llu incomplete, "
	       "%llu unreadable, %llu problems without a solution, %llu orphans, "
	       "%llu duplicates, %llu without answers\n",
	       (unsigned long long)r->skipped.rejected, (unsigned long long)r->skipped.category,
	       (unsigned long long)r->skipped.stat_bounds,
	       (unsigned long long)r->skipped.incomplete,
	       (unsigned long long)r->skipped.unreadable,
	       (unsigned long long)r->skipped.no_solution, (unsigned long long)r->skipped.orphan,
	       (unsigned long long)r->skipped.duplicate,
	       (unsigned long long)r->skipped.unanswered);
}

int cmd_export(struct cli *c, int argc, char **argv)
{
	enum {
		O_FORMAT = 256, O_RATIO, O_SAMPLING, O_SEED, O_CATEGORY, O_MINPPL, O_MAXPPL,
		O_MINENT, O_MAXENT, O_MINTOK, O_MAXTOK, O_REJECTED, O_TEST, O_STORE, O_JSON, O_STRICT,
		O_PROVENANCE, O_NOCARD, O_SHARDS,
	};
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "format", required_argument, NULL, O_FORMAT },
		{ "ratio", required_argument, NULL, O_RATIO },
		{ "sampling", required_argument, NULL, O_SAMPLING },
		{ "seed", required_argument, NULL, O_SEED },
		{ "category", required_argument, NULL, O_CATEGORY },
		{ "min-perplexity", required_argument, NULL, O_MINPPL },
		{ "max-perplexity", required_argument, NULL, O_MAXPPL },
		{ "min-entropy", required_argument, NULL, O_MINENT },
		{ "max-entropy", required_argument, NULL, O_MAXENT },
		{ "min-tokens", required_argument, NULL, O_MINTOK },
		{ "max-tokens", required_argument, NULL, O_MAXTOK },
		{ "include-rejected", no_argument, NULL, O_REJECTED },
		{ "test-fraction", required_argument, NULL, O_TEST },
		{ "store", required_argument, NULL, O_STORE },
		{ "shards", required_argument, NULL, O_SHARDS },
		{ "json", no_argument, NULL, O_JSON },
		{ "strict", no_argument, NULL, O_STRICT },
		{ "provenance", no_argument, NULL, O_PROVENANCE },
		{ "no-card", no_argument, NULL, O_NOCARD },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *dirs[EXPORT_MAX_STORES];
	struct store stores[EXPORT_MAX_STORES];
	struct store *sp[EXPORT_MAX_STORES];
	const char *base = NULL;
	struct export_opts o;
	struct export_result r;
	struct sigaction sa, old_int, old_term;
	size_t ndirs = 0;
	unsigned cats = 0;
	int json = 0, strict = 0, rc, status, cat;
	int64_t seed;

	export_opts_init(&o);
	o.card = 1;
	optind = 0;
	for (;;) {
		int opt = getopt_long(argc, argv, "ho:", opts, NULL);

		if (opt == -1)
			break;
		status = 0;
		switch (opt) {
		case 'o':
			o.path = optarg;
			break;
		case O_FORMAT:
			o.format = export_format_parse(optarg);
			if (o.format < 0)
				return cli_usage_error("export", "unknown format '%s' (paper, chat or dialogue)",
						       optarg);
			break;
		case O_RATIO:
			if (parse_double(optarg, &o.ratio) != 0 || !(o.ratio > 0 && o.ratio <= 1))
				return cli_usage_error("export", "--ratio must be a number in (0, 1], "
						       "not '%s'", optarg);
			break;
		case O_SAMPLING:
			o.sampling = export_sampling_parse(optarg);
			if (o.sampling < 0)
				return cli_usage_error("export", "unknown sampling '%s' (down or over)",
						       optarg);
			break;
		case O_SEED:
			if (parse_i64(optarg, 0, INT64_MAX, &seed) != 0)
				return cli_usage_error("export", "--seed must be a whole number "
						       "from 0, not '%s'", optarg);
			o.seed = (uint64_t)seed;
			break;
		case O_CATEGORY:
			cat = category_parse(optarg);
			if (cat < 0)
				return cli_usage_error("export", "unknown category '%s'", optarg);
			cats |= 1u << cat;
			break;
		case O_MINPPL:
			status = parse_bound("--min-perplexity", optarg, &o.min_perplexity);
			break;
		case O_MAXPPL:
			status = parse_bound("--max-perplexity", optarg, &o.max_perplexity);
			break;
		case O_MINENT:
			status = parse_bound("--min-entropy", optarg, &o.min_entropy);
			break;
		case O_MAXENT:
			status = parse_bound("--max-entropy", optarg, &o.max_entropy);
			break;
		case O_MINTOK:
			status = parse_bound("--min-tokens", optarg, &o.min_tokens);
			break;
		case O_MAXTOK:
			status = parse_bound("--max-tokens", optarg, &o.max_tokens);
			break;
		case O_REJECTED:
			o.include_rejected = 1;
			break;
		case O_TEST:
			if (parse_double(optarg, &o.test_fraction) != 0 ||
			    !(o.test_fraction >= 0 && o.test_fraction < 1))
				return cli_usage_error("export", "--test-fraction must be a number "
						       "in [0, 1), not '%s'", optarg);
			break;
		case O_STORE:
			if (ndirs == EXPORT_MAX_STORES)
				return cli_usage_error("export", "at most %d stores",
						       EXPORT_MAX_STORES);
			dirs[ndirs++] = optarg;
			break;
		case O_SHARDS:
			base = optarg;
			break;
		case O_JSON:
			json = 1;
			break;
		case O_STRICT:
			strict = 1;
			break;
		case O_PROVENANCE:
			o.provenance = 1;
			break;
		case O_NOCARD:
			o.card = 0;
			break;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		default:
			return cli_usage_error("export", "unknown option");
		}
		if (status)
			return status;
	}
	if (optind != argc)
		return cli_usage_error("export", "takes no arguments");
	if (cats)
		o.categories = cats;
	if (o.path && !*o.path)
		return cli_usage_error("export", "-o needs a file name");
	if (o.path && !strcmp(o.path, "-"))
		o.path = NULL;
	if (!o.path && o.test_fraction > 0)
		return cli_usage_error("export", "--test-fraction needs -o FILE");
	if (!o.path && json)
		return cli_usage_error("export", "--json prints the manifest: it needs -o FILE");
	if (base && ndirs)
		return cli_usage_error("export", "--shards BASE reads BASE's stores: no --store");
	if (base) {
		unsigned n;

		status = shards_open(c, base, stores, &n);
		ndirs = n;
	} else {
		if (ndirs == 0)
			dirs[ndirs++] = NULL; /* -s, $CLARIFY_STORE or store.path */
		status = open_stores(c, dirs, ndirs, stores);
	}
	if (status)
		return status;
	for (size_t i = 0; i < ndirs; i++) {
		sp[i] = &stores[i];
		warn_if_writing(&stores[i]);
	}
	err_clear();
	if (base && (rc = export_check_shards(sp, ndirs)) != 0) {
		log_err("cannot merge the shards of '%s': %s", base, err_msg(rc));
		shards_close(stores, (unsigned)ndirs);
		return EXIT_FAIL;
	}

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
	o.stop = &stop;
	o.progress = !json;
	o.price_in_per_mtok = c->cfg.llm.price_in_per_mtok;
	o.batch_discount = c->cfg.llm.batch_discount;   /* the config is loaded */
	o.price_out_per_mtok = c->cfg.llm.price_out_per_mtok;
	err_clear();
	rc = export_run(sp, ndirs, &o, &r);
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	if (rc) {
		log_err("cannot export%s%s%s: %s", o.path ? " to '" : "", o.path ? o.path : "",
			o.path ? "'" : "", err_msg(rc));
		status = EXIT_FAIL;
	} else if (json) {
		jsonx_print(stdout, r.manifest, 1);
	} else if (o.path) {
		print_summary(&r, o.path);
	}
	if (!rc && r.skipped.unreadable) {
		if (strict)
			log_err("%llu records could not be read and were left out (clarify verify "
				"--repair requeues their jobs): --strict fails the export",
				(unsigned long long)r.skipped.unreadable);
		else
			log_warn("%llu records could not be read and were left out (clarify verify "
				 "--repair requeues their jobs)",
				 (unsigned long long)r.skipped.unreadable);
		if (strict)
			status = EXIT_FAIL;
	}
	export_result_release(&r);
	for (size_t i = 0; i < ndirs; i++)
		store_close(&stores[i]);
	return status;
}
