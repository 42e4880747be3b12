/*
 * bench/filters - every shipped rule and check over the 220 APPS
 * statements of ../shared/data/apps-corpus, as modified problems and as
 * questions, on one core: MB/s (goal 200).  Time is the thread's CPU time,
 * so other load on the machine does not count against it; the best of
 * twenty short trials is the figure.
 *
 * usage: bench/filters [CORPUS.jsonl [RULES_DIR]]
 */
#include <stdlib.h>
#include <string.h>

#include "../filters/filter.h"

#define GOAL_MBS 200.0
#define TRIALS 20

struct corpus {
	char **text;
	size_t n;
	size_t bytes;
};

static int load(const char *path, struct corpus *c)
{
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;

	if (!f)
		return -1;
	c->text = calloc(1024, sizeof(*c->text));
	while (c->n < 1024 && (len = getline(&line, &cap, f)) > 0) {
		json_t *v = json_loadb(line, (size_t)len, 0, NULL);
		const char *q = jsonx_str(v, "question");

		if (q) {
			c->text[c->n++] = strdup(q);
			c->bytes += strlen(q);
		}
		json_decref(v);
	}
	free(line);
	fclose(f);
	return c->n ? 0 : -1;
}

int main(int argc, char **argv)
{
	const char *path = argc > 1 ? argv[1] : "../shared/data/apps-corpus/questions.jsonl";
	const char *rules = argc > 2 ? argv[2] : "filters";
	struct filter_set fs;
	struct filter_scratch *s;
	struct filter_result res;
	struct corpus c = { 0 };
	double t0, t, mbs, best = 0;
	size_t bytes = 0, rejected = 0;
	int rounds = 0;

	log_init("bench/filters", LOG_WARN);
	if (load(path, &c)) {
		fprintf(stderr, "bench/filters: cannot read '%s' (skipped)\n", path);
		return EXIT_SUCCESS;
	}
	if (filter_set_load_dir(&fs, rules)) {
		fprintf(stderr, "bench/filters: %s\n", err_msg(CL_ECONFIG));
		return EXIT_FAILURE;
	}
	s = filter_scratch_new(&fs);
	filter_result_init(&res);
	/* best of TRIALS: on a shared machine, a trial's CPU time still
	 * suffers from caches and cores that others use */
	for (int trial = 0; trial < TRIALS; trial++) {
		size_t tb = 0;

		t0 = time_cpu();
		do {
			for (size_t i = 0; i < c.n; i++) {
				/* as the modified problem of the next statement, and
				 * as its question */
				const char *q = c.text[i];
				struct filter_input in = {
					.original = c.text[(i + 1) % c.n],
					.modified = c.text[i],
					.questions = &q,
					.nquestions = 1,
					.questions_expected = 1,
				};

				filter_result_reset(&res);
				filter_run(&fs, s, &in, &res);
				rejected += res.rejected;
				tb += 2 * strlen(c.text[i]);
			}
			rounds++;
			t = time_cpu() - t0;
		} while (t < 0.1);
		if (!best || (double)tb / t > (double)bytes / best) {
			bytes = tb;
			best = t;
		}
	}
	t = best;
	mbs = (double)bytes / t / 1e6;
	printf("filters: %zu rules and 10 checks, %zu statements (%.1f KB) x %d rounds in %d "
	       "trials, as modified problems and as questions\n", fs.n, c.n, c.bytes / 1e3,
	       rounds, TRIALS);
	printf("filters: %.1f MB/s on one core (goal %.0f): ratio %.2f of the goal\n", mbs,
	       GOAL_MBS, mbs / GOAL_MBS);
	printf("(%zu of %zu records rejected: unrelated statements drift, as they should)\n",
	       rejected, c.n * (size_t)rounds);
	filter_result_release(&res);
	filter_scratch_free(s);
	filter_set_release(&fs);
	for (size_t i = 0; i < c.n; i++)
		free(c.text[i]);
	free(c.text);
	return mbs >= GOAL_MBS ? EXIT_SUCCESS : EXIT_FAILURE;
}
