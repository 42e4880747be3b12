/*
 * cmd_filters.c - clarify filters: the auditor's view of the leak and
 * quality filters.
 *
 *   clarify filters check FILE.jsonl [--rules DIR] [--json]
 *   clarify filters list [--rules DIR]
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../filters/filter.h"
#include "../stats/stats.h"
#include "cli.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: clarify filters check FILE.jsonl [--rules DIR] [--arpa FILE] [--json] [--errors]\n"
		   "       clarify filters list [--rules DIR]\n\n"
		   "check runs every rule and built-in check over rows of\n"
		   "{\"id\", \"category\", \"original\", \"modified\", \"questions\": [...]}\n"
		   "(optional \"reasoning\", \"finish_reason\") and prints, per row, accepted or\n"
		   "rejected with the rules that fired, then the count per rule.  Rows with a\n"
		   "\"label\" (\"clean\", or \"leak\" or any other class name for what must be\n"
		   "rejected) also give precision and recall, recall per \"kind\", a table per\n"
		   "class (rejected, flagged, accepted, the share handled) and the rows each\n"
		   "rule took per class, so that a rule's cost on clean rows shows.\n\n"
		   "options:\n"
		   "  --rules DIR  rule files to use (default: filters.dir, or the shipped rules)\n"
		   "  --arpa FILE  the language model for perplexity (default: the store's, if\n"
		   "               it has one); with it each row gets its signals, checked\n"
		   "               against the stats.* bounds of the config\n"
		   "  --json       one JSON object per row, then a summary object\n"
		   "  --errors     print only the rows the labels disagree with\n"
		   "  -h, --help   this help\n");
}

struct tally {
	json_t *per_rule;    /* rule -> count */
	json_t *per_kind;    /* kind -> {"rows", "rejected"} */
	json_t *per_label;   /* label -> {"rows", "rejected", "flagged", "accepted"} */
	json_t *rules;       /* rule -> {"rows", "only", "labels": {label -> rows}} */
	uint64_t rows, rejected, tp, fp, fn, tn, labelled;
};

static void tally_release(struct tally *t)
{
	json_decref(t->per_rule);
	json_decref(t->per_kind);
	json_decref(t->per_label);
	json_decref(t->rules);
}

/* o[key] as an object, made when missing */
static json_t *child(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	if (!v) {
		v = json_object();
		json_object_set_new(o, key, v);
	}
	return v;
}

static void count(json_t *o, const char *key);

/* What one row adds to the tables per label and per rule: which rules
 * took it (a rule that fired with reject), and whether it was the only one. */
static void tally_row(struct tally *t, const struct filter_result *res, const char *label)
{
	size_t rejecting = 0;
	int flagged = 0;

	if (label) {
		json_t *l = child(t->per_label, label);

		count(l, "rows");
		for (size_t i = 0; i < res->n; i++)
			flagged |= res->v[i].action == FILTER_FLAG;
		count(l, res->rejected ? "rejected" : flagged ? "flagged" : "accepted");
	}
	for (size_t i = 0; i < res->n; i++)
		rejecting += res->v[i].action == FILTER_REJECT;
	for (size_t i = 0; i < res->n; i++) {
		json_t *r;
		int seen = 0;

		/* a rule that fired on two fields takes the row once */
		for (size_t j = 0; j < i; j++)
			seen |= strcmp(res->v[j].rule, res->v[i].rule) == 0;
		if (seen)
			continue;
		r = child(t->rules, res->v[i].rule);
		count(r, "rows");
		if (res->v[i].action == FILTER_REJECT && rejecting == 1)
			count(r, "only");
		if (label)
			count(child(r, "labels"), label);
	}
}

static void print_tables(const struct tally *t)
{
	const char *key, *lk;
	json_t *v, *lv;

	if (json_object_size(t->per_label)) {
		printf("\n%-16s %6s %9s %8s %9s %8s\n", "class (label)", "rows", "rejected", "flagged",
		       "accepted", "handled");
		json_object_foreach(t->per_label, key, v) {
			long long n = jsonx_int(v, "rows", 0), r = jsonx_int(v, "rejected", 0);
			long long f = jsonx_int(v, "flagged", 0), a = jsonx_int(v, "accepted", 0);
			int clean = strcmp(key, "clean") == 0;

			printf("%-16s %6lld %9lld %8lld %9lld %8.3f\n", key, n, r, f, a,
			       n ? (double)(clean ? a + f : r) / (double)n : 0.0);
		}
		printf("(handled: accepted or flagged for clean rows, rejected for the others)\n");
	}
	if (!json_object_size(t->rules))
		return;
	printf("\n%-28s %6s %6s", "rule: rows it took", "rows", "only");
	json_object_foreach(t->per_label, lk, lv)
		printf(" %9.9s", lk);
	printf("\n");
	json_object_foreach(t->rules, key, v) {
		json_t *labels = json_object_get(v, "labels");

		printf("%-28s %6lld %6lld", key, (long long)jsonx_int(v, "rows", 0),
		       (long long)jsonx_int(v, "only", 0));
		json_object_foreach(t->per_label, lk, lv)
			printf(" %9lld", (long long)jsonx_int(labels, lk, 0));
		printf("\n");
	}
	printf("(only: rows no other rejecting rule took; a clean row a rule took is what "
	       "it costs)\n");
}

static void count(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	json_object_set_new(o, key, json_integer(json_integer_value(v) + 1));
}

static int load_rules(struct cli *c, const char *dir, struct filter_set *fs)
{
	int rc = cli_load_config(c);

	if (rc)
		return rc;
	err_clear();
	rc = config_filter_set(&c->cfg, dir, fs);
	if (rc) {
		log_err("%s", err_msg(rc));
		return EXIT_USAGE;
	}
	return 0;
}

/* The language model for the signals: --arpa, else the store's when it has
 * one (quietly none otherwise). */
static struct stats_lm *signals_model(struct cli *c, const char *arpa)
{
	struct stats_lm *lm = NULL;
	struct store_options opt;
	struct store s;
	MDB_txn *txn;
	const void *data;
	size_t len;

	if (arpa) {
		if (stats_lm_read_arpa(&lm, arpa)) {
			log_err("%s", err_msg(CL_EPARSE));
			return NULL;
		}
		return lm;
	}
	cli_store_options(c, &opt);
	if (store_open(&s, c->cfg.store.path, STORE_RDONLY, &opt))
		return NULL;
	if (store_read_begin(&s, &txn) == 0) {
		if (store_get_raw(&s, txn, STORE_META, STORE_META_LM, &data, &len) == 0 &&
		    stats_lm_load(&lm, data, len) != 0)
			lm = NULL;
		store_read_end(txn);
	}
	store_close(&s);
	return lm;
}

static int run_row(const struct filter_set *fs, struct filter_scratch *s, json_t *row,
		   struct filter_result *res, const char **qs, size_t *nq)
{
	struct filter_input in = { 0 };
	json_t *questions = json_object_get(row, "questions");
	json_t *q;
	size_t i;

	in.original = jsonx_str(row, "original");
	in.modified = jsonx_str(row, "modified");
	in.reasoning = jsonx_str(row, "reasoning");
	in.finish_reason = jsonx_str(row, "finish_reason");
	in.category = jsonx_str(row, "category") ? category_parse(jsonx_str(row, "category")) : -1;
	*nq = 0;
	json_array_foreach(questions, i, q)
		if (json_is_string(q) && *nq < 1024)
			qs[(*nq)++] = json_string_value(q);
	in.questions = qs;
	in.nquestions = *nq;
	in.questions_expected = json_is_array(questions);
	filter_result_reset(res);
	return filter_run(fs, s, &in, res);
}

static void print_summary(const struct tally *t, int json)
{
	double precision = t->tp + t->fp ? (double)t->tp / (double)(t->tp + t->fp) : 1.0;
	double recall = t->tp + t->fn ? (double)t->tp / (double)(t->tp + t->fn) : 1.0;
	const char *key;
	json_t *v;

	if (json) {
		json_t *o = json_pack("{s:b, s:I, s:I, s:I, s:O, s:O, s:O, s:O}", "summary", 1,
				      "rows", (json_int_t)t->rows,
				      "accepted", (json_int_t)(t->rows - t->rejected),
				      "rejected", (json_int_t)t->rejected, "per_rule", t->per_rule,
				      "per_kind", t->per_kind, "per_label", t->per_label,
				      "rules", t->rules);

		if (t->labelled)
			json_object_set_new(o, "labels", json_pack("{s:I, s:I, s:I, s:I, s:f, s:f}",
				"true_positives", (json_int_t)t->tp, "false_positives", (json_int_t)t->fp,
				"false_negatives", (json_int_t)t->fn, "true_negatives", (json_int_t)t->tn,
				"precision", precision, "recall", recall));
		jsonx_print(stdout, o, 0);
		json_decref(o);
		return;
	}
	printf("\n%llu rows: %llu accepted, %llu rejected\n", (unsigned long long)t->rows,
	       (unsigned long long)(t->rows - t->rejected), (unsigned long long)t->rejected);
	if (json_object_size(t->per_rule))
		printf("\n%-28s %s\n", "rule", "rows");
	json_object_foreach(t->per_rule, key, v)
		printf("%-28s %lld\n", key, (long long)json_integer_value(v));
	if (!t->labelled)
		return;
	print_tables(t);
	printf("\nagainst the labels (%llu rows): precision %.3f, recall %.3f "
	       "(%llu true positives, %llu false positives, %llu false negatives, "
	       "%llu true negatives)\n", (unsigned long long)t->labelled, precision, recall,
	       (unsigned long long)t->tp, (unsigned long long)t->fp, (unsigned long long)t->fn,
	       (unsigned long long)t->tn);
	if (json_object_size(t->per_kind))
		printf("\n%-24s %6s %9s\n", "kind", "rows", "rejected");
	json_object_foreach(t->per_kind, key, v)
		printf("%-24s %6lld %9lld\n", key, (long long)jsonx_int(v, "rows", 0),
		       (long long)jsonx_int(v, "rejected", 0));
}

static int check(struct cli *c, const char *path, const char *dir, const char *arpa, int json,
		 int errors_only)
{
	struct stats_lm *lm = NULL;
	struct stats_bounds bounds;
	struct filter_set fs;
	struct filter_scratch *s;
	struct filter_result res;
	struct tally t = { json_object(), json_object(), json_object(), json_object(),
			   0, 0, 0, 0, 0, 0, 0 };
	const char **qs = calloc(1024, sizeof(*qs));
	FILE *f;
	char *line = NULL;
	size_t cap = 0, lineno = 0;
	int status = EXIT_OK, rc;

	if (!qs)
		return EXIT_FAIL;
	rc = load_rules(c, dir, &fs);
	if (rc) {
		tally_release(&t);
		free(qs);
		return rc;
	}
	config_stats_bounds(&c->cfg, &bounds);
	lm = signals_model(c, arpa);
	if (arpa && !lm) {
		tally_release(&t);
		filter_set_release(&fs);
		free(qs);
		return EXIT_FAIL;
	}
	f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
	if (!f) {
		log_err("cannot open '%s': %s", path, strerror(errno));
		tally_release(&t);
		filter_set_release(&fs);
		stats_lm_free(lm);
		free(qs);
		return EXIT_FAIL;
	}
	s = filter_scratch_new(&fs);
	filter_result_init(&res);
	for (;;) {
		ssize_t len = getline(&line, &cap, f);
		const char *label, *kind, *id;
		json_t *row;
		size_t nq;
		char what[64];
		int wrong;
		json_t *signals = NULL;

		if (len < 0)
			break;
		lineno++;
		if (len <= 1)
			continue;
		snprintf(what, sizeof(what), "%s:%zu", path, lineno);
		row = jsonx_parse(line, (size_t)len, what);
		if (!row || !json_is_object(row)) {
			if (row)
				log_err("%s: expected a JSON object", what);
			else
				log_err("%s", err_msg(CL_EPARSE));
			json_decref(row);
			status = EXIT_USAGE;
			break;
		}
		rc = run_row(&fs, s, row, &res, qs, &nq);
		if (rc) {
			log_err("%s: %s", what, err_str(rc));
			json_decref(row);
			status = EXIT_FAIL;
			break;
		}
		if (lm) {
			signals = stats_record(lm, jsonx_str(row, "original"), jsonx_str(row, "modified"),
					       qs, nq);
			if (signals && stats_validate(&bounds, signals, &res)) {
				json_decref(signals);
				json_decref(row);
				status = EXIT_FAIL;
				break;
			}
		}
		t.rows++;
		t.rejected += res.rejected;
		for (size_t i = 0; i < res.n; i++)
			count(t.per_rule, res.v[i].rule);
		label = jsonx_str(row, "label");
		kind = jsonx_str(row, "kind");
		id = jsonx_str(row, "id");
		tally_row(&t, &res, label);
		wrong = 0;
		if (label) {
			int positive = strcmp(label, "clean") != 0;

			t.labelled++;
			t.tp += positive && res.rejected;
			t.fn += positive && !res.rejected;
			t.fp += !positive && res.rejected;
			t.tn += !positive && !res.rejected;
			wrong = positive != res.rejected;
		}
		if (kind) {
			json_t *k = json_object_get(t.per_kind, kind);

			if (!k) {
				k = json_pack("{s:i, s:i}", "rows", 0, "rejected", 0);
				json_object_set_new(t.per_kind, kind, k);
			}
			count(k, "rows");
			if (res.rejected)
				count(k, "rejected");
		}
		if (!errors_only || wrong) {
			if (json) {
				json_t *o = json_pack("{s:s?, s:I, s:s, s:o}", "id", id,
						      "line", (json_int_t)lineno, "verdict",
						      res.rejected ? "rejected" : "accepted",
						      "verdicts", filter_result_json(&res));

				if (label)
					json_object_set_new(o, "label", json_string(label));
				if (signals)
					json_object_set(o, "signals", signals);
				jsonx_print(stdout, o, 0);
				json_decref(o);
			} else {
				printf("%-24s %s%s", id ? id : what, res.rejected ? "rejected" : "accepted",
				       wrong ? " (label says otherwise)" : "");
				for (size_t i = 0; i < res.n; i++)
					printf("%s%s", i ? ", " : ": ", res.v[i].rule);
				printf("\n");
				for (size_t i = 0; wrong && i < res.n; i++)
					printf("    %s: %s\n", res.v[i].rule, res.v[i].detail);
			}
		}
		json_decref(signals);
		json_decref(row);
	}
	free(line);
	stats_lm_free(lm);
	if (f != stdin)
		fclose(f);
	if (status == EXIT_OK)
		print_summary(&t, json);
	tally_release(&t);
	filter_result_release(&res);
	filter_scratch_free(s);
	filter_set_release(&fs);
	free(qs);
	return status;
}

static int list(struct cli *c, const char *dir)
{
	struct filter_set fs;
	int rc = load_rules(c, dir, &fs);

	if (rc)
		return rc;
	printf("%-28s %-7s %s\n", "rule", "action", "description");
	for (size_t i = 0; i < fs.n; i++)
		printf("%-28s %-7s %s\n", filter_rule_id(&fs, i),
		       filter_action_name(filter_rule_action(&fs, i)), filter_rule_description(&fs, i));
	for (int a = FILTER_REJECT; a <= FILTER_OFF; a++) {
		const char *sep = "";
		int any = 0;

		for (int k = 0; k < FILTER_NCHECKS; k++)
			any |= fs.check_action[k] == a;
		if (!any)
			continue;
		printf("%sbuilt-in checks (%s): ", a == FILTER_REJECT ? "\n" : "", filter_action_name(a));
		for (int k = 0; k < FILTER_NCHECKS; k++)
			if (fs.check_action[k] == a) {
				printf("%s%s", sep, filter_checks[k]);
				sep = ", ";
			}
		printf("\n");
	}
	printf("patterns run %s\n", fs.jit ? "JIT-compiled" : "in the PCRE2 interpreter");
	filter_set_release(&fs);
	return EXIT_OK;
}

int cmd_filters(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "rules", required_argument, NULL, 'r' },
		{ "arpa", required_argument, NULL, 'a' },
		{ "json", no_argument, NULL, 'j' },
		{ "errors", no_argument, NULL, 'e' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *dir = NULL, *arpa = NULL;
	int json = 0, errors_only = 0;

	optind = 0;
	for (;;) {
		int opt = getopt_long(argc, argv, "h", opts, NULL);

		if (opt == -1)
			break;
		switch (opt) {
		case 'r':
			dir = optarg;
			break;
		case 'a':
			arpa = optarg;
			break;
		case 'j':
			json = 1;
			break;
		case 'e':
			errors_only = 1;
			break;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		default:
			return cli_usage_error("filters", "unknown option");
		}
	}
	if (optind < argc && strcmp(argv[optind], "check") == 0) {
		if (argc - optind != 2)
			return cli_usage_error("filters", "check expects one FILE.jsonl");
		return check(c, argv[optind + 1], dir, arpa, json, errors_only);
	}
	if (optind < argc && strcmp(argv[optind], "list") == 0 && argc - optind == 1)
		return list(c, dir);
	return cli_usage_error("filters", "expects 'check FILE.jsonl' or 'list'");
}
