/* cmd_batches.c - clarify batches: the store's provider batches, and cancel */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "../llm/batch.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: clarify batches [--json]\n"
		   "       clarify batches cancel ID\n\n"
		   "List the provider batches clarifyd made in llm.mode batch: their state\n"
		   "(written, uploaded, submitted, done), the provider's status, requests,\n"
		   "what came back, and their age.  A live batch holds its jobs: no pass\n"
		   "of clarifyd takes them until its replies are in the response cache.\n\n"
		   "'cancel ID' asks the provider to cancel the batch ID (the store's name\n"
		   "for it, or the provider's batch id); the running clarifyd sees it\n"
		   "cancelled at its next poll, keeps what was answered and puts the rest\n"
		   "of its jobs back to pending.  It needs the API key, as clarifyd does.\n\n"
		   "options:\n"
		   "  --json      print the batches as a JSON array\n"
		   "  -h, --help  this help\n");
}

struct list_ctx {
	json_t *all;
	const char *want;  /* cancel: the batch to find */
	json_t *found;
};

static int each(const char *key, size_t klen, json_t *v, int drc, void *arg)
{
	struct list_ctx *l = arg;
	json_t *row;

	if (drc || !json_is_object(v)) {
		log_warn("batch '%.*s': its record cannot be read: %s", (int)klen, key,
			 err_msg(drc ? drc : CL_EPARSE));
		return 0;
	}
	row = json_deep_copy(v);
	if (!row)
		return CL_ENOMEM;
	json_object_del(row, "jobs"); /* thousands of keys: the count says it */
	json_object_set_new(row, "id", json_stringn(key, klen));
	if (l->want && !l->found &&
	    (strlen(l->want) == klen && !memcmp(l->want, key, klen)))
		l->found = json_incref(row);
	else if (l->want && !l->found && jsonx_str(v, "batch_id") &&
		 !strcmp(l->want, jsonx_str(v, "batch_id")))
		l->found = json_incref(row);
	json_array_append_new(l->all, row);
	return 0;
}

static void age(int64_t secs, char *out, size_t n)
{
	if (secs < 120)
		snprintf(out, n, "%llds", (long long)secs);
	else if (secs < 7200)
		snprintf(out, n, "%lldm", (long long)(secs / 60));
	else if (secs < 172800)
		snprintf(out, n, "%lldh", (long long)(secs / 3600));
	else
		snprintf(out, n, "%lldd", (long long)(secs / 86400));
}

static void print_table(const json_t *all)
{
	int64_t now = time_now();
	size_t i, live = 0;
	json_t *b;

	if (!json_array_size(all)) {
		printf("no batches (llm.mode is online, or none was made yet)\n");
		return;
	}
	printf("%-40s %-8s %-10s %-11s %8s %8s %8s %5s\n", "batch", "stage", "state",
	       "status", "requests", "answered", "failed", "age");
	json_array_foreach(all, i, b) {
		char a[32];

		age(now - jsonx_int(b, "created", now), a, sizeof(a));
		printf("%-40s %-8s %-10s %-11s %8lld %8lld %8lld %5s\n", jsonx_str(b, "id"),
		       jsonx_str(b, "stage") ? jsonx_str(b, "stage") : "?",
		       jsonx_str(b, "state") ? jsonx_str(b, "state") : "?",
		       jsonx_str(b, "status") && *jsonx_str(b, "status") ? jsonx_str(b, "status")
									  : "-",
		       (long long)jsonx_int(b, "requests", 0),
		       (long long)jsonx_int(b, "completed", 0),
		       (long long)jsonx_int(b, "failed_count", 0), a);
		if (jsonx_str(b, "reason") && *jsonx_str(b, "reason"))
			printf("    %s\n", jsonx_str(b, "reason"));
		live += !jsonx_str(b, "state") || strcmp(jsonx_str(b, "state"), "done");
	}
	printf("%zu batches, %zu live\n", json_array_size(all), live);
}

static int cancel(struct cli *c, const json_t *b, int json)
{
	const char *id = jsonx_str(b, "batch_id");
	struct llm_batch_info info;
	struct llm_options o;
	int rc;

	if (!id || !*id) {
		fprintf(stderr, "clarify batches: %s was not submitted yet: nothing to cancel "
				"(clarifyd sends it when it runs)\n", jsonx_str(b, "id"));
		return EXIT_FAIL;
	}
	if (jsonx_str(b, "state") && !strcmp(jsonx_str(b, "state"), "done")) {
		fprintf(stderr, "clarify batches: %s is done: nothing to cancel\n",
			jsonx_str(b, "id"));
		return EXIT_FAIL;
	}
	rc = config_llm_options(&c->cfg, &o);
	if (rc) {
		fprintf(stderr, "clarify batches: %s\n", err_msg(rc));
		return EXIT_USAGE;
	}
	rc = llm_batch_cancel(&o, id, &info);
	llm_options_release(&o);
	if (rc) {
		fprintf(stderr, "clarify batches: cannot cancel %s: %s\n", id, err_msg(rc));
		return EXIT_FAIL;
	}
	if (json)
		printf("{\"id\": \"%s\", \"batch_id\": \"%s\", \"status\": \"%s\"}\n",
		       jsonx_str(b, "id"), info.id, info.status);
	else
		printf("%s (%s): %s\n", jsonx_str(b, "id"), info.id, info.status);
	return EXIT_OK;
}

int cmd_batches(struct cli *c, int argc, char **argv)
{
	struct list_ctx l = { 0 };
	struct store s;
	MDB_txn *txn;
	int json = 0, status, rc;

	status = cli_json_opts("batches", argc, argv, usage, &json);
	if (status >= 0)
		return status;
	if (optind < argc && strcmp(argv[optind], "cancel"))
		return cli_usage_error("batches", "unknown subcommand '%s'", argv[optind]);
	if (optind < argc && optind + 2 != argc)
		return cli_usage_error("batches", "cancel takes one batch id");
	if (optind < argc)
		l.want = argv[optind + 1];
	status = cli_open_store(c, &s, STORE_RDONLY);
	if (status)
		return status;
	l.all = json_array();
	rc = store_read_begin(&s, &txn);
	if (!rc) {
		rc = store_each(&s, txn, STORE_BATCHES, "", each, &l);
		store_read_end(txn);
	}
	store_close(&s);
	if (rc) {
		fprintf(stderr, "clarify batches: %s\n", err_msg(rc));
		status = EXIT_FAIL;
	} else if (l.want) {
		if (!l.found) {
			fprintf(stderr, "clarify batches: no batch '%s' in the store\n", l.want);
			status = EXIT_FAIL;
		} else {
			status = cancel(c, l.found, json);
		}
	} else if (json) {
		char *text = json_dumps(l.all, JSON_INDENT(2));

		printf("%s\n", text ? text : "[]");
		free(text);
	} else {
		print_table(l.all);
	}
	json_decref(l.found);
	json_decref(l.all);
	return status;
}
