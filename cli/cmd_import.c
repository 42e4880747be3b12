/* cmd_import.c - clarify import: APPS problems into the store, idempotently */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "../pipeline/apps.h"
#include "cli.h"

struct importer {
	struct store *s;
	struct store_problem *batch;
	size_t n, cap;
	unsigned cats;
	struct import_counts counts;
	uint64_t skipped;
	uint64_t seen;
	struct progress prog;
	int quiet;
};

static void usage(FILE *f)
{
	fprintf(f, "usage: clarify import PATH [--split train|test] [--limit N] [--json]\n\n"
		   "Load APPS problems into the store and create one pending job per problem\n"
		   "and configured category (jobs.categories).  PATH is the APPS tarball's\n"
		   "folder (APPS/, APPS/train, or a folder of NNNN/ problem folders) or a\n"
		   "Hugging Face codeparrot/apps JSONL file (.jsonl or .jsonl.zst), or - for\n"
		   "JSONL on standard input (with --split).\n\n"
		   "Import is idempotent: a problem already in the store with the same content\n"
		   "is counted unchanged, and a job that exists is never reset.  A bad record\n"
		   "is skipped with a warning naming it; the rest is imported.\n\n"
		   "options:\n"
		   "  --split S   train or test (default: from the folder or file name)\n"
		   "  --limit N   import at most N problems\n"
		   "  --json      print the counts as JSON\n"
		   "  -h, --help  this help\n");
}

static int flush(struct importer *im)
{
	int rc = store_import(im->s, im->batch, im->n, im->cats, &im->counts);

	for (size_t i = 0; i < im->n; i++)
		json_decref(im->batch[i].rec);
	im->n = 0;
	return rc;
}

static int on_problem(void *arg, const char *key, json_t *rec)
{
	struct importer *im = arg;

	snprintf(im->batch[im->n].key, sizeof(im->batch[im->n].key), "%s", key);
	im->batch[im->n].rec = rec;
	im->n++;
	im->seen++;
	progress_update(&im->prog, im->seen + im->skipped);
	return im->n == im->cap ? flush(im) : 0;
}

static void on_skip(void *arg, const char *where, const char *why)
{
	struct importer *im = arg;

	im->skipped++;
	log_warn("skipped '%s': %s", where, why);
}

static void on_total(void *arg, uint64_t n)
{
	struct importer *im = arg;

	im->prog.total += n;
}

int cmd_import(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "split", required_argument, NULL, 'S' },
		{ "limit", required_argument, NULL, 'n' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct apps_opts ao = { 0 };
	struct apps_sink sink = { on_total, on_problem, on_skip, NULL };
	struct importer im = { 0 };
	struct store s;
	int json = 0, opt, rc, status;
	int64_t limit = 0;
	double t0;

	optind = 0;
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 'S':
			ao.split = optarg;
			if (strcmp(optarg, "train") != 0 && strcmp(optarg, "test") != 0)
				return cli_usage_error("import", "--split takes train or test, not '%s'",
						       optarg);
			break;
		case 'n':
			if (parse_i64(optarg, 1, INT64_MAX, &limit))
				return cli_usage_error("import", "--limit takes a positive number, not '%s'",
						       optarg);
			break;
		case 'j':
			json = 1;
			break;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		default:
			return cli_usage_error("import", "unknown option");
		}
	}
	if (argc - optind != 1)
		return cli_usage_error("import", "expects one PATH");

	status = cli_open_store(c, &s, STORE_WRITER);
	if (status)
		return status;
	im.s = &s;
	im.cats = c->cfg.jobs.categories;
	im.cap = (size_t)c->cfg.store.batch_records;
	im.batch = calloc(im.cap, sizeof(*im.batch));
	if (!im.batch) {
		log_err("out of memory");
		store_close(&s);
		return EXIT_FAIL;
	}
	ao.max_file = (size_t)c->cfg.import.max_file_mb << 20;
	ao.limit = (uint64_t)limit;
	sink.arg = &im;
	progress_init(&im.prog, "importing", 0, !json);
	t0 = time_mono();
	err_clear();
	rc = apps_read(argv[optind], &ao, &sink);
	if (rc && im.n) {
		for (size_t i = 0; i < im.n; i++)
			json_decref(im.batch[i].rec);
		im.n = 0;
	}
	if (!rc && im.n)
		rc = flush(&im);
	progress_finish(&im.prog);
	if (rc)
		log_err("%s", err_msg(rc));
	im.skipped += im.counts.skipped;

	if (!rc) {
		double secs = time_mono() - t0;

		if (json) {
			json_t *o = json_pack("{s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:f}",
					      "path", argv[optind], "store", s.path,
					      "new", (json_int_t)im.counts.added,
					      "updated", (json_int_t)im.counts.updated,
					      "unchanged", (json_int_t)im.counts.unchanged,
					      "skipped", (json_int_t)im.skipped,
					      "jobs_added", (json_int_t)im.counts.jobs_added,
					      "seconds", secs);
			jsonx_print(stdout, o, 1);
			json_decref(o);
		} else {
			printf("imported '%s' into '%s': %llu new, %llu updated, %llu unchanged, "
			       "%llu skipped; %llu jobs added (%.2f s)\n",
			       argv[optind], s.path, (unsigned long long)im.counts.added,
			       (unsigned long long)im.counts.updated,
			       (unsigned long long)im.counts.unchanged,
			       (unsigned long long)im.skipped,
			       (unsigned long long)im.counts.jobs_added, secs);
		}
	}
	free(im.batch);
	store_close(&s);
	if (rc)
		return EXIT_FAIL;
	/* every record was bad: say so with the exit status */
	if (im.skipped && !im.seen)
		return EXIT_FAIL;
	return EXIT_OK;
}
