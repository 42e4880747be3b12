/* cmd_stats.c - clarify stats: perplexity, entropy and sizes by group, as a
 * table, JSON or an HTML page (the paper's Table 6 and more) */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../pipeline/plan.h"
#include "../stats/report.h"
#include "cli.h"

#define STATS_BINS 20
#define STATS_HTML_MAX ((size_t)64 << 20)

static void usage(FILE *f)
{
	fprintf(f, "usage: clarify stats [--by category|template|model] [--include-rejected]\n"
		   "                     [--json] [--html FILE]\n\n"
		   "Aggregate the results in the store, per group and overall: for the\n"
		   "modified problems and for the questions, the records counted and their\n"
		   "perplexity (mean, median, 5th and 95th percentiles), entropy (nats),\n"
		   "tokens and questions per record; accepted and rejected records,\n"
		   "rejections by rule, tokens used (and their money at llm.price_in_per_mtok\n"
		   "and llm.price_out_per_mtok, when set), and clarifyd's requests.  The\n"
		   "distributions are over the accepted records (what export writes) unless\n"
		   "--include-rejected is given; the counts are over every result.\n\n"
		   "options:\n"
		   "  --by G              group by category (default), template (the\n"
		   "                      modify and clarify templates' name@version) or model\n"
		   "  --include-rejected  rejected records count in the distributions too\n"
		   "  --json              print the report as JSON (see README, \"Stats\")\n"
		   "  --html FILE         also write a self-contained HTML page with the\n"
		   "                      tables and histograms (replaced atomically)\n"
		   "  -h, --help          this help\n");
}

/* The results are read in read transactions of STATS_CHUNK records, with
 * the pages of the map let go between them, so that the resident size does
 * not grow with the store; add_result returns STATS_NEXT_CHUNK to end one. */
#define STATS_CHUNK 8192
#define STATS_NEXT_CHUNK 1

struct walk {
	struct report *r;
	const char *store;
	struct progress p;
	uint64_t seen;
	unsigned chunk;
	char last[512]; /* the last key read (LMDB keys are at most 511 bytes) */
};

static int add_result(const char *key, size_t klen, json_t *v, int rc, void *arg)
{
	struct walk *w = arg;

	progress_update(&w->p, ++w->seen);
	if (klen >= sizeof(w->last))
		klen = sizeof(w->last) - 1;
	memcpy(w->last, key, klen);
	w->last[klen] = '\0';
	if (rc) {
		/* one bad record costs only itself: counted, named, skipped */
		log_warn("store '%s': result '%.*s' is unreadable (%s): skipped", w->store,
			 (int)klen, key, err_msg(rc));
		w->r->unreadable++;
		rc = 0;
	} else {
		rc = report_add(w->r, key, klen, v);
	}
	if (rc)
		return rc;
	return ++w->chunk == STATS_CHUNK ? STATS_NEXT_CHUNK : 0;
}

/* Feed every result to w->r, one chunk per read transaction. */
static int read_results(struct store *s, struct walk *w)
{
	MDB_txn *txn;
	uint64_t total = 0;
	int rc;

	rc = store_read_begin(s, &txn);
	if (rc)
		return rc;
	rc = store_count(s, txn, STORE_RESULTS, &total);
	progress_init(&w->p, "results", total, 1);
	for (;;) {
		w->chunk = 0;
		if (!rc)
			rc = store_each_after(s, txn, STORE_RESULTS, w->last, add_result, w);
		store_read_end(txn);
		if (rc != STATS_NEXT_CHUNK)
			break;
		store_drop_pages(s);
		rc = store_read_begin(s, &txn);
		if (rc)
			break;
	}
	progress_finish(&w->p);
	return rc;
}

/* Write len bytes to path through a temporary file in the same folder,
 * flushed to disk, then renamed over it (mode 0666 less the umask). */
static int write_atomic(const char *path, const char *data, size_t len)
{
	char tmp[4096];
	size_t off = 0;
	mode_t mask = umask(0);
	int fd, n, rc = 0;

	umask(mask);
	n = snprintf(tmp, sizeof(tmp), "%s.tmp.XXXXXX", path);
	if (n < 0 || (size_t)n >= sizeof(tmp))
		return err_set(CL_EINVAL, "file name '%s' is too long", path);
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return err_set(CL_EIO, "cannot create a temporary file for '%s': %s", path,
			       strerror(errno));
	while (off < len) {
		ssize_t w = write(fd, data + off, len - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			rc = err_set(CL_EIO, "cannot write '%s': %s", tmp, strerror(errno));
			goto close_fd;
		}
		off += (size_t)w;
	}
	if (fchmod(fd, 0666 & ~mask) != 0 || fsync(fd) != 0)
		rc = err_set(CL_EIO, "cannot write '%s': %s", tmp, strerror(errno));
close_fd:
	if (close(fd) != 0 && !rc)
		rc = err_set(CL_EIO, "cannot write '%s': %s", tmp, strerror(errno));
	if (!rc && rename(tmp, path) != 0)
		rc = err_set(CL_EIO, "cannot rename '%s' to '%s': %s", tmp, path, strerror(errno));
	if (rc)
		unlink(tmp);
	return rc;
}

/* ---- the text table ------------------------------------------------------------ */

static double num(const json_t *o, const char *k)
{
	return json_number_value(json_object_get(o, k));
}

static void print_number(double v, int width, int present)
{
	if (present)
		printf(" %*.2f", width, v);
	else
		printf(" %*s", width, "-");
}

static void print_field_row(const char *name, int w, const json_t *f, int per_record)
{
	const json_t *ppl = json_object_get(f, "perplexity");
	const json_t *ent = json_object_get(f, "entropy");
	const json_t *tok = json_object_get(f, "tokens");
	const json_t *qpr = json_object_get(f, "per_record");
	int hp = jsonx_int(ppl, "count", 0) > 0;

	printf("%-*s %7lld", w, name, (long long)jsonx_int(tok, "count", 0));
	print_number(num(ppl, "mean"), 10, hp);
	print_number(num(ppl, "p50"), 10, hp);
	print_number(num(ppl, "p5"), 10, hp);
	print_number(num(ppl, "p95"), 10, hp);
	print_number(num(ent, "mean"), 8, jsonx_int(ent, "count", 0) > 0);
	print_number(num(tok, "mean"), 8, jsonx_int(tok, "count", 0) > 0);
	if (per_record)
		print_number(num(qpr, "mean"), 10, jsonx_int(qpr, "count", 0) > 0);
	printf("\n");
}

static void print_field_table(const json_t *rep, const char *field, const char *title, int w)
{
	const json_t *groups = json_object_get(rep, "groups"), *g;
	int per_record = !strcmp(field, "questions");
	const char *name;

	printf("%-*s %7s %10s %10s %10s %10s %8s %8s%s\n", w, title, "count", "ppl mean",
	       "ppl median", "ppl p5", "ppl p95", "entropy", "tokens",
	       per_record ? " per record" : "");
	json_object_foreach((json_t *)groups, name, g)
		print_field_row(name, w, json_object_get(g, field), per_record);
	print_field_row("overall", w, json_object_get(json_object_get(rep, "overall"), field),
			per_record);
}

static void print_records_row(const char *name, int w, const json_t *g)
{
	const json_t *u = json_object_get(g, "usage");
	const json_t *m = json_object_get(u, "money");

	printf("%-*s %8lld %8lld %8lld %12lld %12lld %7lld", w, name,
	       (long long)jsonx_int(g, "records", 0), (long long)jsonx_int(g, "accepted", 0),
	       (long long)jsonx_int(g, "rejected", 0), (long long)jsonx_int(u, "tokens_in", 0),
	       (long long)jsonx_int(u, "tokens_out", 0), (long long)jsonx_int(u, "cached", 0));
	if (json_is_object(m))
		printf(" %10.4f", num(m, "total"));
	printf("\n");
}

/* usage.money of one group: its tokens at the configured prices */
static int add_money(json_t *usage, const struct config *cfg)
{
	const json_t *b = json_object_get(usage, "batch");
	int64_t bin = jsonx_int(b, "tokens_in", 0), bout = jsonx_int(b, "tokens_out", 0);
	double disc = cfg->llm.batch_discount;
	/* the tokens of records from a batch at llm.batch_discount of the price */
	double in = plan_money(jsonx_int(usage, "tokens_in", 0) - bin, cfg->llm.price_in_per_mtok) +
		    plan_money(bin, cfg->llm.price_in_per_mtok * disc);
	double out = plan_money(jsonx_int(usage, "tokens_out", 0) - bout,
				cfg->llm.price_out_per_mtok) +
		     plan_money(bout, cfg->llm.price_out_per_mtok * disc);

	return json_object_set_new(usage, "money",
				   json_pack("{s:f, s:f, s:f, s:f}", "in", in, "out", out, "total",
					     in + out, "batch_share", disc));
}

/* Every group's and the overall usage priced, when prices are set. */
static int price_report(json_t *rep, const struct config *cfg)
{
	json_t *groups = json_object_get(rep, "groups"), *g;
	const char *name;
	int rc;

	if (cfg->llm.price_in_per_mtok <= 0 && cfg->llm.price_out_per_mtok <= 0)
		return 0;
	json_object_foreach(groups, name, g) {
		rc = add_money(json_object_get(g, "usage"), cfg);
		if (rc)
			return CL_ENOMEM;
	}
	rc = add_money(json_object_get(json_object_get(rep, "overall"), "usage"), cfg);
	if (!rc)
		rc = json_object_set_new(rep, "price",
					 json_pack("{s:s, s:f, s:f}", "model", cfg->llm.model,
						   "in_per_mtok", cfg->llm.price_in_per_mtok,
						   "out_per_mtok", cfg->llm.price_out_per_mtok));
	return rc ? CL_ENOMEM : 0;
}

static void print_rate(const json_t *j, const char *rate)
{
	const json_t *v = json_object_get(j, rate);

	if (json_is_number(v))
		printf(" %9.1f%%", 100 * json_number_value(v));
	else
		printf(" %10s", "-");
}

static void print_judge_row(const char *name, int w, const json_t *g)
{
	const json_t *j = json_object_get(g, "judge");
	const json_t *at = json_object_get(json_object_get(g, "answers"), "tokens");

	printf("%-*s %7lld", w, name, (long long)jsonx_int(j, "judged", 0));
	print_rate(j, "recovered_rate");
	print_rate(j, "off_target_rate");
	print_rate(j, "self_announced_rate");
	print_rate(j, "mentions_original_rate");
	if (json_is_number(json_object_get(at, "mean")))
		printf(" %10.1f\n", json_number_value(json_object_get(at, "mean")));
	else
		printf(" %10s\n", "-");
}

/* Stage 3's verdicts per group, when any record went through it. */
static void print_judge(const json_t *rep, int w)
{
	const json_t *groups = json_object_get(rep, "groups"), *g;
	const json_t *overall = json_object_get(rep, "overall");
	const char *name;

	if (!jsonx_int(json_object_get(overall, "judge"), "judged", 0))
		return;
	printf("\n%-*s %7s %10s %10s %10s %10s %10s\n", w, "judge (stage 3)", "judged",
	       "recovered", "off-target", "self-ann.", "mentions", "ans. tok");
	json_object_foreach((json_t *)groups, name, g)
		print_judge_row(name, w, g);
	print_judge_row("overall", w, overall);
}

/* Per rule its count, then the groups it rejected records of, indented. */
static void print_rules(const json_t *rep, int w)
{
	const json_t *groups = json_object_get(rep, "groups");
	const json_t *all = json_object_get(json_object_get(rep, "overall"), "rejected_by_rule");
	const char *rule, *name;
	const json_t *n, *g;

	if (!json_object_size(all))
		return;
	w += 2;
	json_object_foreach((json_t *)all, rule, n)
		if ((int)strlen(rule) > w)
			w = (int)strlen(rule);
	printf("\n%-*s %8s\n", w, "rejected by rule", "records");
	json_object_foreach((json_t *)all, rule, n) {
		printf("%-*s %8lld\n", w, rule, (long long)json_integer_value(n));
		json_object_foreach((json_t *)groups, name, g) {
			int64_t k = jsonx_int(json_object_get(g, "rejected_by_rule"), rule, 0);

			if (k)
				printf("  %-*s %8lld\n", w - 2, name, (long long)k);
		}
	}
}

static void print_text(const json_t *rep)
{
	const json_t *groups = json_object_get(rep, "groups"), *g;
	const json_t *overall = json_object_get(rep, "overall");
	const json_t *prog = json_object_get(rep, "daemon");
	const char *name;
	int w = 17;

	json_object_foreach((json_t *)groups, name, g)
		if ((int)strlen(name) > w)
			w = (int)strlen(name);
	printf("store    %s\n", jsonx_str(rep, "store"));
	printf("records  %lld: %lld accepted, %lld rejected", (long long)jsonx_int(rep, "records", 0),
	       (long long)jsonx_int(rep, "accepted", 0), (long long)jsonx_int(rep, "rejected", 0));
	if (jsonx_int(rep, "unreadable", 0))
		printf(", %lld unreadable (run 'clarify verify')",
		       (long long)jsonx_int(rep, "unreadable", 0));
	{
		const json_t *nd = json_object_get(rep, "near_duplicates");

		printf("\nnear-duplicates  %lld (%.1f%% of the records)",
		       (long long)jsonx_int(nd, "records", 0),
		       100 * json_number_value(json_object_get(nd, "rate")));
	}
	printf("\ngrouped  by %s; distributions over the %s records\n\n", jsonx_str(rep, "by"),
	       json_is_true(json_object_get(rep, "include_rejected")) ? "accepted and rejected"
								       : "accepted");
	print_field_table(rep, "modified", "modified problem", w);
	printf("\n");
	print_field_table(rep, "questions", "questions", w);
	printf("\n%-*s %8s %8s %8s %12s %12s %7s%s\n", w, "records", "results", "accepted",
	       "rejected", "tokens in", "tokens out", "cached",
	       json_is_object(json_object_get(rep, "price")) ? "      money" : "");
	json_object_foreach((json_t *)groups, name, g)
		print_records_row(name, w, g);
	print_records_row("overall", w, overall);
	{
		const json_t *b = json_object_get(json_object_get(overall, "usage"), "batch");

		if (jsonx_int(b, "records", 0) > 0)
			printf("%-*s %8lld records from provider batches, %lld tokens at batch price\n",
			       w, "", (long long)jsonx_int(b, "records", 0),
			       (long long)(jsonx_int(b, "tokens_in", 0) +
					   jsonx_int(b, "tokens_out", 0)));
	}
	print_judge(rep, w);
	print_rules(rep, w);
	if (json_is_object(prog)) {
		char line[256];

		store_progress_line(prog, line, sizeof(line));
		printf("\n%s\n", line);
	}
}

/* ---- the command ---------------------------------------------------------------- */

int cmd_stats(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "by", required_argument, NULL, 'b' },
		{ "include-rejected", no_argument, NULL, 'r' },
		{ "json", no_argument, NULL, 'j' },
		{ "html", required_argument, NULL, 'H' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct report r;
	struct walk w = { .r = &r };
	struct store s;
	struct buf html;
	MDB_txn *txn = NULL;
	json_t *rep = NULL, *prog = NULL;
	const char *html_path = NULL;
	int json = 0, by = REPORT_BY_CATEGORY, include_rejected = 0, rc, status;

	optind = 0;
	for (;;) {
		int opt = getopt_long(argc, argv, "h", opts, NULL);

		if (opt == -1)
			break;
		switch (opt) {
		case 'b':
			by = report_by_parse(optarg);
			if (by < 0)
				return cli_usage_error("stats", "unknown grouping '%s' for --by: "
						       "use category, template or model", optarg);
			break;
		case 'r':
			include_rejected = 1;
			break;
		case 'j':
			json = 1;
			break;
		case 'H':
			if (!*optarg)
				return cli_usage_error("stats", "--html needs a file name");
			html_path = optarg;
			break;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		default:
			return cli_usage_error("stats", "unknown option");
		}
	}
	if (optind != argc)
		return cli_usage_error("stats", "takes no arguments");
	status = cli_open_store(c, &s, STORE_RDONLY);
	if (status)
		return status;
	w.store = s.path;
	buf_init(&html, STATS_HTML_MAX);
	rc = report_init(&r, by, include_rejected);
	if (rc) {
		log_err("cannot aggregate the results: %s", err_msg(rc));
		goto close_store;
	}
	rc = read_results(&s, &w);
	if (!rc)
		rc = store_read_begin(&s, &txn);
	if (!rc) {
		rc = store_get(&s, txn, STORE_META, STORE_META_PROGRESS, &prog);
		if (rc == CL_ENOTFOUND)
			rc = 0;
		store_read_end(txn);
	}
	if (rc) {
		log_err("cannot read the results of store '%s': %s", s.path, err_msg(rc));
		goto release_report;
	}
	rep = report_json(&r, STATS_BINS);
	if (!rep || json_object_set_new(rep, "store", json_string(s.path)) ||
	    json_object_set_new(rep, "daemon", prog ? json_incref(prog) : json_null()) ||
	    price_report(rep, &c->cfg)) {
		rc = CL_ENOMEM;
		log_err("cannot aggregate the results: %s", err_str(rc));
		goto release_report;
	}
	if (html_path) {
		rc = report_html(&html, rep);
		if (rc) {
			log_err("cannot draw the report '%s': %s", html_path, err_msg(rc));
			goto release_report;
		}
		rc = write_atomic(html_path, html.data, html.len);
		if (rc) {
			log_err("%s", err_msg(rc));
			goto release_report;
		}
	}
	if (json)
		rc = jsonx_print(stdout, rep, 1);
	else
		print_text(rep);
	if (fflush(stdout) != 0 || rc) {
		rc = CL_EIO;
		log_err("cannot write the report to stdout: %s", strerror(errno));
	}
release_report:
	json_decref(rep);
	json_decref(prog);
	report_release(&r);
close_store:
	buf_release(&html);
	store_close(&s);
	return rc ? EXIT_FAIL : EXIT_OK;
}
