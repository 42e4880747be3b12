/*
 * bench/dedup - MinHash over 100,000 records on one core: the signature
 * (word 5-shingles, 128 hash functions) and the 16 LSH band keys of each
 * record, as clarifyd's near-duplicate check computes them.  The records
 * are generated: 150 to 450 words (APPS statements run about 300) from a
 * 5,000-word vocabulary, one in ten a near copy of an earlier one.
 *
 * Judged by records/s over the 20,000 records/s of issue 17; also prints
 * how many of the near copies share a band with their source (the LSH's
 * recall at J ~ 0.9+) and how many unrelated pairs do (its false hits).
 *
 * usage: bench/dedup [RECORDS]
 */
#include <stdlib.h>

#include "../filters/minhash.h"
#include "bench.h"

#define VOCAB 5000

static size_t make_text(struct rng *r, char *out, size_t cap)
{
	int n = (int)rng_range(r, 150, 450);
	size_t len = 0;

	for (int i = 0; i < n && len + 16 < cap; i++)
		len += (size_t)snprintf(out + len, cap - len, "%sw%d", i ? " " : "",
					(int)rng_range(r, 0, VOCAB - 1));
	return len;
}

int main(int argc, char **argv)
{
	size_t n = argc > 1 ? (size_t)strtoull(argv[1], NULL, 10) : 100000;
	size_t cap = 8192, total_bytes = 0, copies = 0, found = 0, false_hits = 0;
	char *texts = malloc(n * cap);
	size_t *lens = malloc(n * sizeof(*lens));
	uint64_t *bands = malloc(n * MINHASH_BANDS * sizeof(*bands));
	size_t *src = malloc(n * sizeof(*src));
	struct rng r = { 17 };
	struct minhash m;
	double t0, secs, rate;

	if (!texts || !lens || !bands || !src) {
		fprintf(stderr, "bench/dedup: out of memory\n");
		return 1;
	}
	for (size_t i = 0; i < n; i++) {
		char *t = texts + i * cap;

		src[i] = SIZE_MAX;
		if (i > 10 && i % 10 == 0) {
			/* a near copy: an earlier record with one word changed */
			size_t from = (size_t)rng_range(&r, 0, (int64_t)i - 1), at;

			memcpy(t, texts + from * cap, lens[from] + 1);
			lens[i] = lens[from];
			src[i] = from;
			at = (size_t)rng_range(&r, 0, (int64_t)lens[i] - 1);
			while (at < lens[i] && t[at] != 'w')
				at++;
			if (at < lens[i])
				t[at] = 'v';
		} else {
			lens[i] = make_text(&r, t, cap);
		}
		total_bytes += lens[i];
	}
	t0 = time_mono();
	for (size_t i = 0; i < n; i++) {
		minhash_text(&m, texts + i * cap, lens[i]);
		for (int b = 0; b < MINHASH_BANDS; b++)
			bands[i * MINHASH_BANDS + b] = minhash_band(&m, b);
	}
	secs = time_mono() - t0;
	rate = (double)n / secs;
	/* recall: the near copies that share a band with their source; false
	 * hits: the records that share one with their unrelated neighbour */
	for (size_t i = 1; i < n; i++) {
		int share = 0;
		size_t k = src[i] != SIZE_MAX ? src[i] : i - 1;

		for (int b = 0; b < MINHASH_BANDS && !share; b++)
			share = bands[k * MINHASH_BANDS + b] == bands[i * MINHASH_BANDS + b];
		if (src[i] != SIZE_MAX) {
			copies++;
			found += share;
		} else if (src[i - 1] != i && share) {
			false_hits++;
		}
	}
	printf("dedup: %zu records, %.1f MB of text, %d-word shingles, %d hash functions, "
	       "%d bands of %d\n", n, (double)total_bytes / 1e6, MINHASH_SHINGLE, MINHASH_PERM,
	       MINHASH_BANDS, MINHASH_ROWS);
	printf("dedup: signatures and band keys in %.3f s on one core: %.0f records/s "
	       "(%.1f MB/s)\n", secs, rate, (double)total_bytes / 1e6 / secs);
	printf("dedup: near copies sharing a band with their source: %zu of %zu; unrelated "
	       "neighbours sharing one: %zu of %zu\n", found, copies, false_hits, n - 1 - copies);
	printf("ratio: %.2f (records/s / 20,000 records/s)\n", rate / 20000.0);
	free(texts);
	free(lens);
	free(bands);
	free(src);
	return rate >= 20000 ? 0 : 1;
}
