/* cmd_compact.c - clarify compact: the store's records onto its zstd dictionaries */
#include <string.h>

#include "cli.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: clarify compact [--json]\n\n"
		   "Train the store's zstd dictionaries where it has none yet (one for the\n"
		   "problems, one for the rest, from the records there are), then rewrite\n"
		   "every record written before them with them: about half the size, and\n"
		   "twice as quick to read.  clarify import and clarifyd train them on their\n"
		   "own once store.dict_after records exist; this is for the records from\n"
		   "before.  data.mdb keeps its size (LMDB reuses the freed pages for what\n"
		   "is written next); 'mdb_copy -c STORE DIR' writes a compact copy.  The\n"
		   "store must not be open by clarifyd meanwhile.\n\n"
		   "options:\n"
		   "  --json      print the counts as JSON\n"
		   "  -h, --help  this help\n");
}

static const enum store_db dbs[] = { STORE_PROBLEMS, STORE_RESULTS, STORE_JOBS, STORE_CACHE };

static void on_progress(uint64_t done, void *arg)
{
	progress_update(arg, done);
}

/* db's dictionary: there, or trained now (1), or not to be had (reason logged) */
static int dict_for(struct store *s, enum store_db db, int *trained)
{
	/* jobs and the cache share the results' dictionary: train it from results */
	enum store_db from = db == STORE_PROBLEMS ? STORE_PROBLEMS : STORE_RESULTS;
	int rc;

	*trained = 0;
	if (store_dict_id(s, from))
		return 0;
	err_clear();
	rc = store_dict_create(s, from);
	if (rc == CL_EINVAL) {
		log_warn("%s: no dictionary: %s", store_db_name(db), err_msg(rc));
		return 0;
	}
	*trained = rc == 0;
	return rc;
}

int cmd_compact(struct cli *c, int argc, char **argv)
{
	struct store_recompress r[CL_ARRAY_SIZE(dbs)];
	int trained[CL_ARRAY_SIZE(dbs)];
	json_t *o = NULL;
	struct store s;
	int json = 0, rc = 0, status;

	status = cli_json_opts("compact", argc, argv, usage, &json);
	if (status >= 0)
		return status;
	if (optind != argc)
		return cli_usage_error("compact", "takes no arguments");
	status = cli_open_store(c, &s, STORE_WRITER);
	if (status)
		return status;
	memset(r, 0, sizeof(r));
	for (size_t i = 0; !rc && i < CL_ARRAY_SIZE(dbs); i++) {
		struct progress prog;
		MDB_txn *txn = NULL;
		uint64_t total = 0;

		rc = dict_for(&s, dbs[i], &trained[i]);
		if (!rc)
			rc = store_read_begin(&s, &txn);
		if (!rc)
			rc = store_count(&s, txn, dbs[i], &total);
		store_read_end(txn);
		if (rc)
			break;
		progress_init(&prog, store_db_name(dbs[i]), total, !json);
		rc = store_recompress(&s, dbs[i], (size_t)c->cfg.store.batch_records, &r[i],
				      on_progress, &prog);
		progress_finish(&prog);
	}
	if (rc) {
		log_err("%s", err_msg(rc));
		store_close(&s);
		return EXIT_FAIL;
	}
	if (json)
		o = json_object();
	for (size_t i = 0; i < CL_ARRAY_SIZE(dbs); i++) {
		const char *name = store_db_name(dbs[i]);
		unsigned id = store_dict_id(&s, dbs[i]);

		if (json) {
			json_object_set_new(o, name, json_pack("{s:o, s:b, s:I, s:I, s:I, s:I, s:I}",
				"dictionary", id ? json_integer(id) : json_null(),
				"trained", trained[i], "rewritten", (json_int_t)r[i].rewritten,
				"kept", (json_int_t)r[i].kept, "unreadable",
				(json_int_t)r[i].unreadable, "bytes_before",
				(json_int_t)r[i].bytes_before, "bytes_after",
				(json_int_t)r[i].bytes_after));
			continue;
		}
		if (!id) {
			printf("%-9s no dictionary: left as they are\n", name);
			continue;
		}
		printf("%-9s %llu rewritten (%.1f MB -> %.1f MB), %llu already on dictionary %u%s",
		       name, (unsigned long long)r[i].rewritten, (double)r[i].bytes_before / 1e6,
		       (double)r[i].bytes_after / 1e6, (unsigned long long)r[i].kept, id,
		       trained[i] ? " (trained now)" : "");
		if (r[i].unreadable)
			printf(", %llu unreadable (left as they are: see clarify verify)",
			       (unsigned long long)r[i].unreadable);
		printf("\n");
	}
	if (json) {
		jsonx_print(stdout, o, 1);
		json_decref(o);
	}
	store_close(&s);
	return EXIT_OK;
}
