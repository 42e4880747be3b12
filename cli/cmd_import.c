/* cmd_import.c - clarify import: APPS problems into the store, idempotently */
#include <getopt.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "../pipeline/apps.h"
#include "cli.h"

/*
 * Two threads: a reader turns files into records (reading and parsing
 * JSON, the larger half of the work) and hands full batches through a
 * small queue to the main thread, which encodes and writes them (zstd and
 * LMDB).  Each batch is owned by one thread at a time.
 */
#define QUEUE_DEPTH 3

struct batch {
	struct store_problem *items;
	size_t n;
};

struct importer {
	/* shared, under mu */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct batch queue[QUEUE_DEPTH];
	size_t head, count;
	int reader_done;
	int writer_failed;
	uint64_t total;

	/* the reader's own */
	const char *path;
	struct apps_opts ao;
	struct batch cur;
	size_t cap;
	uint64_t skipped;
	int read_rc;
	char read_msg[1024];
};

static void usage(FILE *f)
{
	fprintf(f, "usage: clarify import PATH [--split train|test] [--limit N]\n"
		   "                    [--shards N --out BASE] [--json]\n\n"
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
		   "  --shards N, --out BASE\n"
		   "              split the import into N stores BASE/shard-0 ... shard-(N-1), each\n"
		   "              problem (and its jobs) in the shard its key hashes to, as\n"
		   "              clarifyd --shard K/N takes them (1 <= N <= %d); see clarify\n"
		   "              shards --help\n"
		   "  --json      print the counts as JSON\n"
		   "  -h, --help  this help\n", SHARDS_MAX);
}

static void batch_release(struct batch *b)
{
	for (size_t i = 0; i < b->n; i++)
		json_decref(b->items[i].rec);
	free(b->items);
	b->items = NULL;
	b->n = 0;
}

/* Reader: hand the current batch to the writer, waiting for room. */
static int push(struct importer *im)
{
	int rc = 0;

	pthread_mutex_lock(&im->mu);
	while (im->count == QUEUE_DEPTH && !im->writer_failed)
		pthread_cond_wait(&im->cv, &im->mu);
	if (im->writer_failed) {
		rc = CL_EINVAL; /* the writer has said why */
	} else {
		im->queue[(im->head + im->count) % QUEUE_DEPTH] = im->cur;
		im->count++;
		pthread_cond_broadcast(&im->cv);
	}
	pthread_mutex_unlock(&im->mu);
	if (rc)
		batch_release(&im->cur);
	im->cur.items = NULL;
	im->cur.n = 0;
	return rc;
}

static int on_problem(void *arg, const char *key, json_t *rec)
{
	struct importer *im = arg;

	if (!im->cur.items) {
		im->cur.items = calloc(im->cap, sizeof(*im->cur.items));
		if (!im->cur.items) {
			json_decref(rec);
			return CL_ENOMEM;
		}
	}
	snprintf(im->cur.items[im->cur.n].key, sizeof(im->cur.items[0].key), "%s", key);
	im->cur.items[im->cur.n].rec = rec;
	im->cur.n++;
	return im->cur.n == im->cap ? push(im) : 0;
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

	pthread_mutex_lock(&im->mu);
	im->total += n;
	pthread_mutex_unlock(&im->mu);
}

static void *reader_main(void *arg)
{
	struct importer *im = arg;
	struct apps_sink sink = { on_total, on_problem, on_skip, im };
	int rc;

	err_clear();
	rc = apps_read(im->path, &im->ao, &sink);
	if (!rc && im->cur.n)
		rc = push(im);
	batch_release(&im->cur);
	pthread_mutex_lock(&im->mu);
	im->reader_done = 1;
	im->read_rc = im->writer_failed ? 0 : rc; /* the writer reports its own */
	if (im->read_rc) /* messages are per thread: carry it over */
		snprintf(im->read_msg, sizeof(im->read_msg), "%s", err_msg(rc));
	pthread_cond_broadcast(&im->cv);
	pthread_mutex_unlock(&im->mu);
	return NULL;
}

/* Writer: the next batch, or 0 when the reader is done and all is written. */
static int pop(struct importer *im, struct batch *b, uint64_t *total)
{
	int got = 0;

	pthread_mutex_lock(&im->mu);
	while (im->count == 0 && !im->reader_done)
		pthread_cond_wait(&im->cv, &im->mu);
	if (im->count) {
		*b = im->queue[im->head];
		im->head = (im->head + 1) % QUEUE_DEPTH;
		im->count--;
		got = 1;
		pthread_cond_broadcast(&im->cv);
	}
	*total = im->total;
	pthread_mutex_unlock(&im->mu);
	return got;
}

static void writer_fail(struct importer *im)
{
	pthread_mutex_lock(&im->mu);
	im->writer_failed = 1;
	pthread_cond_broadcast(&im->cv);
	pthread_mutex_unlock(&im->mu);
}

/* Where the import writes: the store, or the N shards of --out BASE. */
struct dest {
	struct store *s;              /* n of them */
	unsigned n;                   /* 1 without --shards */
	const char *base;             /* --out, or NULL */
	int dict_tried[SHARDS_MAX];
	struct store_problem *part;   /* a batch's problems of one shard */
	unsigned *shard;              /* of each problem of the batch */
	int opened;
};

static int dest_open(struct cli *c, struct dest *d)
{
	int status;

	status = d->base ? shards_create(c, d->base, d->n, d->s)
			 : cli_open_store(c, &d->s[0], STORE_WRITER);
	d->opened = !status;
	return status;
}

static void dest_close(struct dest *d)
{
	if (d->opened)
		shards_close(d->s, d->n);
	d->opened = 0;
}

/* A batch into the store, or each of its problems into its shard. */
static int dest_write(const struct cli *c, struct dest *d, const struct batch *b,
		      struct import_counts *counts)
{
	if (d->base) /* each key hashed once, not once per shard */
		for (size_t i = 0; i < b->n; i++)
			d->shard[i] = hash_shard(b->items[i].key, d->n);
	for (unsigned k = 0; k < d->n; k++) {
		struct store_problem *items = b->items;
		size_t m = b->n;
		int rc, drc;

		if (d->base) {
			items = d->part;
			m = 0;
			for (size_t i = 0; i < b->n; i++)
				if (d->shard[i] == k)
					d->part[m++] = b->items[i]; /* rec shared, not owned */
		}
		if (!m)
			continue;
		rc = store_import(&d->s[k], items, m, c->cfg.jobs.categories, counts);
		if (rc) {
			log_err("%s", err_msg(rc));
			return rc;
		}
		drc = store_dict_when(&d->s[k], STORE_PROBLEMS, (uint64_t)c->cfg.store.dict_after,
				      &d->dict_tried[k]);
		if (drc) /* only the dictionary is lost */
			log_warn("going on without a zstd dictionary: %s", err_msg(drc));
		/* mapped pages of the store are the file's, not ours to keep */
		store_drop_pages(&d->s[k]);
	}
	return 0;
}

int cmd_import(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "split", required_argument, NULL, 'S' },
		{ "limit", required_argument, NULL, 'n' },
		{ "shards", required_argument, NULL, 'N' },
		{ "out", required_argument, NULL, 'O' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct importer im = { .mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER };
	struct import_counts counts = { 0 };
	struct progress prog;
	struct dest d = { 0 };
	struct store one;
	struct batch b;
	pthread_t reader;
	int json = 0, opt, rc = 0, status = 0;
	int64_t limit = 0, shards = 0;
	uint64_t total, done = 0;
	double t0;

	optind = 0;
	for (;;) {
		opt = getopt_long(argc, argv, "h", opts, NULL);
		if (opt == -1)
			break;
		switch (opt) {
		case 'S':
			im.ao.split = optarg;
			if (strcmp(optarg, "train") != 0 && strcmp(optarg, "test") != 0)
				return cli_usage_error("import", "--split takes train or test, not '%s'",
						       optarg);
			break;
		case 'n':
			if (parse_i64(optarg, 1, INT64_MAX, &limit))
				return cli_usage_error("import", "--limit takes a positive number, not '%s'",
						       optarg);
			break;
		case 'N':
			if (parse_i64(optarg, 1, SHARDS_MAX, &shards))
				return cli_usage_error("import", "--shards takes 1 to %d, not '%s'",
						       SHARDS_MAX, optarg);
			break;
		case 'O':
			d.base = optarg;
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
	if (!shards != !d.base)
		return cli_usage_error("import", "--shards N and --out BASE go together");
	if (d.base && !*d.base)
		return cli_usage_error("import", "--out needs a folder");
	d.n = d.base ? (unsigned)shards : 1;

	/* the store is opened (and so created) only once there is something to
	 * put in it: an import refused (no such path, no split) leaves nothing */
	status = cli_load_config(c);
	if (status)
		return status;
	im.path = argv[optind];
	im.cap = (size_t)c->cfg.store.batch_records;
	d.s = d.base ? calloc(d.n, sizeof(*d.s)) : &one;
	d.part = d.base ? calloc(im.cap, sizeof(*d.part)) : NULL;
	d.shard = d.base ? calloc(im.cap, sizeof(*d.shard)) : NULL;
	if (!d.s || (d.base && (!d.part || !d.shard))) {
		log_err("out of memory");
		status = EXIT_FAIL;
		goto out;
	}
	im.ao.max_file = (size_t)c->cfg.import.max_file_mb << 20;
	im.ao.limit = (uint64_t)limit;
	/* standard input with its split cannot be refused for its path or
	 * split: take the store (and its lock) before waiting for lines */
	if (!strcmp(im.path, "-") && im.ao.split) {
		status = dest_open(c, &d);
		if (status)
			goto out;
	}
	progress_init(&prog, "importing", 0, !json);
	t0 = time_mono();
	if (pthread_create(&reader, NULL, reader_main, &im) != 0) {
		log_err("cannot start the reader thread");
		status = EXIT_FAIL;
		goto out;
	}
	while (pop(&im, &b, &total)) {
		if (!rc && !d.opened) {
			status = dest_open(c, &d);
			if (status) {
				rc = CL_EIO; /* dest_open said why */
				writer_fail(&im);
			}
		}
		if (!rc) {
			rc = dest_write(c, &d, &b, &counts);
			if (rc)
				writer_fail(&im);
		}
		done += b.n;
		batch_release(&b);
		prog.total = total;
		progress_update(&prog, done);
	}
	pthread_join(reader, NULL);
	progress_finish(&prog);
	if (!rc && im.read_rc) {
		rc = im.read_rc;
		log_err("%s", im.read_msg);
	}
	im.skipped += counts.skipped;
	if (!rc && !d.opened) { /* a read that found nothing still makes the store */
		status = dest_open(c, &d);
		if (status)
			goto out;
	}

	if (!rc) {
		double secs = time_mono() - t0;

		if (json) {
			json_t *o = json_pack("{s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:f}",
					      "path", im.path, "store", d.base ? d.base : d.s[0].path,
					      "new", (json_int_t)counts.added,
					      "updated", (json_int_t)counts.updated,
					      "unchanged", (json_int_t)counts.unchanged,
					      "skipped", (json_int_t)im.skipped,
					      "jobs_added", (json_int_t)counts.jobs_added,
					      "seconds", secs);
			if (d.base)
				json_object_set_new(o, "shards", json_integer((json_int_t)d.n));
			jsonx_print(stdout, o, 1);
			json_decref(o);
		} else {
			if (d.base)
				printf("imported '%s' into %u shards under '%s': ", im.path, d.n,
				       d.base);
			else
				printf("imported '%s' into '%s': ", im.path, d.s[0].path);
			printf("%llu new, %llu updated, %llu unchanged, "
			       "%llu skipped; %llu jobs added (%.2f s)\n",
			       (unsigned long long)counts.added,
			       (unsigned long long)counts.updated,
			       (unsigned long long)counts.unchanged,
			       (unsigned long long)im.skipped,
			       (unsigned long long)counts.jobs_added, secs);
		}
	}
	if (rc)
		status = status ? status : EXIT_FAIL;
	else if (im.skipped && !done) /* every record was bad: say so with the exit status */
		status = EXIT_FAIL;
	else
		status = EXIT_OK;
out:
	dest_close(&d);
	if (d.base) {
		free(d.s);
		free(d.part);
		free(d.shard);
	}
	return status;
}
