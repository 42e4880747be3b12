/*
 * bench/lm - the language model on one core: scoring test.txt repeated to
 * at least 3 million tokens with KenLM's order-4 model (tokens already word
 * ids; goal 20 million tokens/s), training order 4 on train.txt repeated
 * to at least 1 million tokens, and the memory per n-gram (goal 40 bytes).
 * Exit status 0 iff both goals are met.
 *
 * usage: bench/lm [SHARED_DATA]   (default $SHARED_DATA, else ../shared/data)
 */
#include <stdlib.h>
#include <string.h>

#include "../stats/stats.h"

#define GOAL_TOKENS_PER_S 20e6
#define GOAL_BYTES_PER_NGRAM 40.0
#define SCORE_TOKENS 3000000u
#define TRAIN_TOKENS 1000000u

struct corpus {
	uint32_t *ids;  /* every sentence's word ids */
	size_t *start;  /* sentence i is ids[start[i] .. start[i + 1]) */
	size_t n, sentences;
	size_t tokens;  /* words + one </s> per sentence */
	size_t copies;  /* of the text */
};

/* test.txt as word ids of lm, repeated until it has min_tokens */
static int load_ids(const struct stats_lm *lm, const char *text, size_t len, size_t min_tokens,
		    struct corpus *c)
{
	size_t cap_ids = 1 << 16, cap_s = 1 << 12, one = 0;

	memset(c, 0, sizeof(*c));
	c->ids = malloc(cap_ids * sizeof(*c->ids));
	c->start = malloc(cap_s * sizeof(*c->start));
	if (!c->ids || !c->start)
		return -1;
	while (c->tokens < min_tokens) {
		size_t i = 0;

		while (i < len) {
			const char *nl = memchr(text + i, '\n', len - i);
			size_t end = nl ? (size_t)(nl - text) : len;

			if (c->sentences + 2 > cap_s) {
				cap_s *= 2;
				c->start = realloc(c->start, cap_s * sizeof(*c->start));
				if (!c->start)
					return -1;
			}
			c->start[c->sentences++] = c->n;
			while (i < end) {
				size_t j = i;

				while (j < end && text[j] != ' ')
					j++;
				if (j > i) {
					if (c->n + 1 > cap_ids) {
						cap_ids *= 2;
						c->ids = realloc(c->ids, cap_ids * sizeof(*c->ids));
						if (!c->ids)
							return -1;
					}
					c->ids[c->n++] = stats_lm_word(lm, text + i, j - i);
					c->tokens++;
				}
				i = j + 1;
			}
			c->tokens++; /* </s> */
			i = end + 1;
		}
		if (!one)
			one = c->tokens;
		if (!one)
			return -1;
		c->copies++;
	}
	c->start[c->sentences] = c->n;
	return 0;
}

static double score_all(const struct stats_lm *lm, const struct corpus *c)
{
	double total = 0;

	for (size_t s = 0; s < c->sentences; s++)
		total += stats_lm_score_ids(lm, c->ids + c->start[s], c->start[s + 1] - c->start[s],
					    NULL, NULL);
	return total;
}

static int read_file(const char *dir, const char *name, struct buf *b)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/lm-reference/%s", dir, name);
	buf_init(b, 0);
	return file_read(path, b);
}

int main(int argc, char **argv)
{
	const char *env = getenv("SHARED_DATA");
	const char *dir = argc > 1 ? argv[1] : env ? env : "../shared/data";
	struct buf test, train, big;
	struct stats_lm *lm = NULL, *trained = NULL;
	struct stats_lm_info info;
	struct corpus c;
	double t0, best = 1e30, total = 0, tps, bpn, train_s;
	size_t train_tokens = 0;
	char path[4096];
	int rc, ok;

	log_init("bench/lm", LOG_WARN);
	snprintf(path, sizeof(path), "%s/lm-reference/kenlm-o4.arpa", dir);
	if (!file_exists(path)) {
		fprintf(stderr, "bench/lm: no '%s' (skipped)\n", path);
		return EXIT_SUCCESS;
	}
	rc = stats_lm_read_arpa(&lm, path);
	if (rc) {
		fprintf(stderr, "bench/lm: %s\n", err_msg(rc));
		return EXIT_FAILURE;
	}
	if (read_file(dir, "test.txt", &test) || read_file(dir, "train.txt", &train) ||
	    load_ids(lm, test.data, test.len, SCORE_TOKENS, &c)) {
		fprintf(stderr, "bench/lm: cannot read test.txt and train.txt\n");
		return EXIT_FAILURE;
	}

	/* scoring: the best of five passes */
	total = score_all(lm, &c); /* warm up */
	for (int r = 0; r < 5; r++) {
		double t;

		t0 = time_mono();
		total = score_all(lm, &c);
		t = time_mono() - t0;
		if (t < best)
			best = t;
	}
	tps = (double)c.tokens / best;
	stats_lm_info(lm, &info);
	bpn = (double)info.bytes / (double)info.ngrams;
	printf("score: %zu tokens (test.txt x%zu) in %.3f s: %.1f M tokens/s "
	       "(goal %.0f M: ratio %.2f), log10 total %.1f\n",
	       c.tokens, c.copies, best, tps / 1e6, GOAL_TOKENS_PER_S / 1e6,
	       tps / GOAL_TOKENS_PER_S, total);
	printf("memory: %llu n-grams (order 4) in %zu bytes: %.1f bytes/n-gram "
	       "(goal %.0f: ratio %.2f)\n",
	       (unsigned long long)info.ngrams, info.bytes, bpn, GOAL_BYTES_PER_NGRAM,
	       GOAL_BYTES_PER_NGRAM / bpn);

	/* training: train.txt repeated to 1M tokens */
	buf_init(&big, 0);
	while (train_tokens < TRAIN_TOKENS) {
		size_t words = 0;

		for (size_t i = 0; i < train.len; i++)
			words += train.data[i] == ' ' || train.data[i] == '\n';
		if (buf_add(&big, train.data, train.len))
			return EXIT_FAILURE;
		train_tokens += words; /* words + </s> per line */
	}
	t0 = time_mono();
	rc = stats_lm_train(&trained, 4, big.data, big.len);
	train_s = time_mono() - t0;
	if (rc) {
		fprintf(stderr, "bench/lm: %s\n", err_msg(rc));
		return EXIT_FAILURE;
	}
	stats_lm_info(trained, &info);
	printf("train: order 4 on %zu tokens (train.txt x%zu) in %.3f s: %.2f M tokens/s, "
	       "%llu n-grams%s\n",
	       train_tokens, big.len / train.len, train_s, (double)train_tokens / train_s / 1e6,
	       (unsigned long long)info.ngrams,
	       info.fallback ? " (repeated text: some orders use the fallback discounts)" : "");

	ok = tps >= GOAL_TOKENS_PER_S && bpn <= GOAL_BYTES_PER_NGRAM;
	printf("%s\n", ok ? "goals met" : "GOALS NOT MET");
	stats_lm_free(lm);
	stats_lm_free(trained);
	free(c.ids);
	free(c.start);
	buf_release(&test);
	buf_release(&train);
	buf_release(&big);
	return ok ? EXIT_SUCCESS : EXIT_FAILURE;
}
