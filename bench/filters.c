/*
 * bench/filters - the shipped rules and checks on one core, and how well
 * they judge.
 *
 * The judged figure is the speed over the labelled corpus that
 * tests/tools/filter_corpus builds from the 220 APPS statements of
 * ../shared/data/apps-corpus and the recipes of tests/data/filters
 * (tune.jsonl and heldout.jsonl): rewrites in the styles models write, with
 * their questions, each filtered against its original.  MB/s counts the
 * bytes the filters read (original, modified problem and questions), goal 200; time is the
 * thread's CPU time, so other load does not count against it, and the
 * figure is the best of twenty short trials.  Printed beside it: each
 * split's share handled per class (clean rows accepted, leaks and inline
 * commentary rejected), and the worst case of the first wave's bench (each
 * statement filtered as the rewrite of another, and as its own question:
 * everything drifts, and every question is a whole statement), not judged.
 *
 * usage: bench/filters [CORPUS.jsonl [RULES_DIR [DATA_DIR [once]]]]
 *
 * "once" filters each row once and prints nothing else: a workload for
 * valgrind --tool=callgrind, whose instruction counts do not swing with
 * the machine's load as its time does.
 */
#include <libgen.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../filters/filter.h"

#define GOAL_MBS 200.0
#define TRIALS 20
#define MAX_ROWS 4096
#define MAX_QS 64

struct row {
	const char *label;
	struct filter_input in;
	const char *qs[MAX_QS];
};

struct rows {
	json_t *all;              /* owns the strings */
	struct row *v;
	size_t n, bytes;
};

/* The rows of a split, built by tests/tools/filter_corpus beside this program. */
static int build_split(const char *self, const char *corpus, const char *recipes,
		       struct rows *out)
{
	char tool[PATH_MAX], cmd[3 * PATH_MAX + 64], dir[PATH_MAX];
	FILE *p;
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;

	snprintf(dir, sizeof(dir), "%s", self);
	snprintf(tool, sizeof(tool), "%s/../tests/tools/filter_corpus", dirname(dir));
	if (access(tool, X_OK) != 0 || access(recipes, R_OK) != 0)
		return -1;
	snprintf(cmd, sizeof(cmd), "'%s' '%s' '%s'", tool, corpus, recipes);
	p = popen(cmd, "r");
	if (!p)
		return -1;
	if (!out->all) {
		out->all = json_array();
		out->v = calloc(MAX_ROWS, sizeof(*out->v));
	}
	while (out->n < MAX_ROWS && (len = getline(&line, &cap, p)) > 0) {
		json_t *o = json_loadb(line, (size_t)len, 0, NULL), *q;
		struct row *r = &out->v[out->n];
		size_t i;

		if (!o)
			continue;
		json_array_append_new(out->all, o);
		r->label = jsonx_str(o, "label");
		r->in.original = jsonx_str(o, "original");
		r->in.modified = jsonx_str(o, "modified");
		r->in.finish_reason = jsonx_str(o, "finish_reason");
		r->in.questions = r->qs;
		r->in.questions_expected = json_is_array(json_object_get(o, "questions"));
		/* the bytes the filters read: original, rewrite and questions */
		out->bytes += (r->in.modified ? strlen(r->in.modified) : 0) +
			      (r->in.original ? strlen(r->in.original) : 0);
		json_array_foreach(json_object_get(o, "questions"), i, q)
			if (json_is_string(q) && r->in.nquestions < MAX_QS) {
				r->qs[r->in.nquestions++] = json_string_value(q);
				out->bytes += strlen(json_string_value(q));
			}
		out->n++;
	}
	free(line);
	return pclose(p) == 0 ? 0 : -1;
}

/* MB/s over the rows, the best of TRIALS; *verdicts the rejected count */
static double speed(const struct filter_set *fs, const struct rows *rs, size_t *rejected,
		    int *rounds)
{
	struct filter_scratch *s = filter_scratch_new(fs);
	struct filter_result res;
	double best = 0;

	filter_result_init(&res);
	*rounds = 0;
	for (int trial = 0; trial < TRIALS; trial++) {
		double t0 = time_cpu(), t;
		size_t tb = 0;

		do {
			for (size_t i = 0; i < rs->n; i++) {
				filter_result_reset(&res);
				filter_run(fs, s, &rs->v[i].in, &res);
				*rejected += res.rejected;
			}
			tb += rs->bytes;
			(*rounds)++;
			t = time_cpu() - t0;
		} while (t < 0.1);
		if ((double)tb / t > best)
			best = (double)tb / t;
	}
	filter_result_release(&res);
	filter_scratch_free(s);
	return best / 1e6;
}

/* Each class's share handled, as the test suite counts it. */
static void quality(const struct filter_set *fs, const char *split, const struct rows *rs,
		    size_t from, size_t to)
{
	static const char *const classes[] = { "clean", "leak", "commentary" };
	struct filter_scratch *s = filter_scratch_new(fs);
	struct filter_result res;

	filter_result_init(&res);
	printf("filters: %s split, %zu rows:", split, to - from);
	for (size_t c = 0; c < CL_ARRAY_SIZE(classes); c++) {
		size_t rows = 0, handled = 0;

		for (size_t i = from; i < to; i++) {
			if (!rs->v[i].label || strcmp(rs->v[i].label, classes[c]) != 0)
				continue;
			filter_result_reset(&res);
			filter_run(fs, s, &rs->v[i].in, &res);
			rows++;
			handled += c == 0 ? !res.rejected : res.rejected;
		}
		printf(" %s %s %.3f (%zu)", classes[c], c == 0 ? "accepted" : "rejected",
		       rows ? (double)handled / (double)rows : 0.0, rows);
	}
	printf("\n");
	filter_result_release(&res);
	filter_scratch_free(s);
}

/* The first wave's workload: statement i as the rewrite of i + 1, and as
 * its own question. */
static struct rows worst_case(const struct rows *corpus_rows, json_t *statements)
{
	struct rows w = { 0 };
	size_t n = json_array_size(statements);

	(void)corpus_rows;
	w.v = calloc(n ? n : 1, sizeof(*w.v));
	for (size_t i = 0; i < n; i++) {
		struct row *r = &w.v[w.n++];

		r->in.original = json_string_value(json_array_get(statements, (i + 1) % n));
		r->in.modified = json_string_value(json_array_get(statements, i));
		r->qs[0] = r->in.modified;
		r->in.questions = r->qs;
		r->in.nquestions = 1;
		r->in.questions_expected = 1;
		w.bytes += 2 * strlen(r->in.modified) + strlen(r->in.original);
	}
	return w;
}

static json_t *read_statements(const char *path)
{
	FILE *f = fopen(path, "r");
	json_t *a;
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;

	if (!f)
		return NULL;
	a = json_array();
	while ((len = getline(&line, &cap, f)) > 0) {
		json_t *v = json_loadb(line, (size_t)len, 0, NULL);

		if (jsonx_str(v, "question"))
			json_array_append_new(a, json_string(jsonx_str(v, "question")));
		json_decref(v);
	}
	free(line);
	fclose(f);
	return a;
}

int main(int argc, char **argv)
{
	const char *corpus = argc > 1 ? argv[1] : "../shared/data/apps-corpus/questions.jsonl";
	const char *rules = argc > 2 ? argv[2] : "filters";
	const char *data = argc > 3 ? argv[3] : "tests/data/filters";
	struct filter_set fs;
	struct rows rs = { 0 }, w;
	json_t *statements;
	char path[PATH_MAX];
	size_t tune_rows, rejected = 0;
	double mbs, worst;
	int rounds;

	log_init("bench/filters", LOG_WARN);
	statements = read_statements(corpus);
	if (!statements || !json_array_size(statements)) {
		fprintf(stderr, "bench/filters: cannot read '%s' (skipped)\n", corpus);
		json_decref(statements);
		return EXIT_SUCCESS;
	}
	if (filter_set_load_dir(&fs, rules)) {
		fprintf(stderr, "bench/filters: %s\n", err_msg(CL_ECONFIG));
		return EXIT_FAILURE;
	}
	snprintf(path, sizeof(path), "%s/tune.jsonl", data);
	if (build_split(argv[0], corpus, path, &rs)) {
		fprintf(stderr, "bench/filters: cannot build the rows of '%s' (make "
			"build/release/tests/tools/filter_corpus)\n", path);
		return EXIT_FAILURE;
	}
	tune_rows = rs.n;
	snprintf(path, sizeof(path), "%s/heldout.jsonl", data);
	if (access(path, R_OK) == 0 && build_split(argv[0], corpus, path, &rs)) {
		fprintf(stderr, "bench/filters: cannot build the rows of '%s'\n", path);
		return EXIT_FAILURE;
	}

	if (argc > 4 && strcmp(argv[4], "once") == 0) {
		struct filter_scratch *s = filter_scratch_new(&fs);
		struct filter_result res;

		filter_result_init(&res);
		for (size_t i = 0; i < rs.n; i++) {
			filter_result_reset(&res);
			filter_run(&fs, s, &rs.v[i].in, &res);
			rejected += res.rejected;
		}
		printf("filters: %zu rows filtered once, %zu rejected\n", rs.n, rejected);
		filter_result_release(&res);
		filter_scratch_free(s);
		return EXIT_SUCCESS;
	}
	mbs = speed(&fs, &rs, &rejected, &rounds);
	printf("filters: %zu rules and %d checks, %zu corpus rows (%.1f KB of originals, "
	       "rewrites and questions) x %d rounds in %d trials\n", fs.n, FILTER_NCHECKS, rs.n, rs.bytes / 1e3,
	       rounds, TRIALS);
	printf("filters: %.1f MB/s on one core (goal %.0f): ratio %.2f of the goal\n", mbs,
	       GOAL_MBS, mbs / GOAL_MBS);
	quality(&fs, "tune", &rs, 0, tune_rows);
	if (rs.n > tune_rows)
		quality(&fs, "held-out", &rs, tune_rows, rs.n);

	w = worst_case(&rs, statements);
	rejected = 0;
	worst = speed(&fs, &w, &rejected, &rounds);
	printf("filters: worst case (each statement as another's rewrite and as its own "
	       "question): %.1f MB/s, not judged\n", worst);

	free(w.v);
	free(rs.v);
	json_decref(rs.all);
	json_decref(statements);
	filter_set_release(&fs);
	return mbs >= GOAL_MBS ? EXIT_SUCCESS : EXIT_FAILURE;
}
