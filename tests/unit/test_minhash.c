/*
 * test_minhash.c - MinHash signatures and LSH bands: equal texts give
 * equal signatures (case and punctuation aside), disjoint ones next to
 * nothing in common, a known Jaccard similarity is estimated within the
 * sampling error, near-duplicates share a band and unrelated texts do not.
 */
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <setjmp.h>
#include <cmocka.h>

#include "../../filters/minhash.h"

/* "w<base> w<base+1> ... " of n words into out */
static void words(char *out, size_t cap, int base, int n)
{
	size_t len = 0;

	out[0] = '\0';
	for (int i = 0; i < n && len + 16 < cap; i++)
		len += (size_t)snprintf(out + len, cap - len, "w%d ", base + i);
}

static double sim(const char *a, const char *b)
{
	struct minhash x, y;

	minhash_text(&x, a, strlen(a));
	minhash_text(&y, b, strlen(b));
	return minhash_similarity(&x, &y);
}

static void equal_texts_are_similar_one_whatever_case_and_punctuation(void **state)
{
	(void)state;
	assert_true(sim("The first line holds n, the number of lanterns.",
			"the FIRST line holds n -- the number of lanterns!") == 1.0);
	assert_true(sim("a b", "a b") == 1.0);
}

static void the_same_text_gives_the_same_signature_every_time(void **state)
{
	static const char t[] = "Print a single integer: the number of times the child shouts.";
	struct minhash x, y;

	(void)state;
	minhash_text(&x, t, sizeof(t) - 1);
	minhash_text(&y, t, sizeof(t) - 1);
	assert_memory_equal(x.v, y.v, sizeof(x.v));
	assert_int_equal(x.shingles, 7);
	for (int b = 0; b < MINHASH_BANDS; b++)
		assert_true(minhash_band(&x, b) == minhash_band(&y, b));
}

static void disjoint_texts_share_next_to_nothing(void **state)
{
	char a[8192], b[8192];

	(void)state;
	words(a, sizeof(a), 0, 300);
	words(b, sizeof(b), 10000, 300);
	assert_true(sim(a, b) < 0.05);
}

/* Two texts of 400 words with 300 in common: of the 396 shingles of each,
 * those wholly in the shared run are 296: J = 296 / (396 + 396 - 296). */
static void a_known_jaccard_is_estimated_within_the_sampling_error(void **state)
{
	char a[16384], b[16384];
	double j = 296.0 / (396 + 396 - 296), s;

	(void)state;
	words(a, sizeof(a), 0, 400);
	words(b, sizeof(b), 100, 400);
	s = sim(a, b);
	/* 128 places: a standard error of sqrt(j (1 - j) / 128) = 0.044 */
	assert_true(fabs(s - j) < 0.15);
}

static void near_duplicates_share_a_band_and_unrelated_texts_do_not(void **state)
{
	char a[16384], b[16384], c[16384];
	struct minhash x, y, z;
	int xy = 0, xz = 0;

	(void)state;
	words(a, sizeof(a), 0, 500);
	memcpy(b, a, sizeof(a));
	b[strlen(b) / 2] = 'X';  /* one word changed: J = 491/501 ~ 0.98 */
	words(c, sizeof(c), 250, 500); /* half in common: J ~ 0.33 */
	minhash_text(&x, a, strlen(a));
	minhash_text(&y, b, strlen(b));
	minhash_text(&z, c, strlen(c));
	assert_true(minhash_similarity(&x, &y) >= 0.9);
	for (int k = 0; k < MINHASH_BANDS; k++) {
		xy += minhash_band(&x, k) == minhash_band(&y, k);
		xz += minhash_band(&x, k) == minhash_band(&z, k);
	}
	assert_true(xy >= 1);
	assert_int_equal(xz, 0);
}

static void short_and_empty_texts(void **state)
{
	struct minhash m;

	(void)state;
	minhash_text(&m, "", 0);
	assert_int_equal(m.shingles, 0);
	minhash_text(&m, " -- ", 4);
	assert_int_equal(m.shingles, 0);
	minhash_text(&m, "two words", 9);
	assert_int_equal(m.shingles, 1);
	assert_true(sim("two words", "two words.") == 1.0);
	assert_true(sim("two words", "other words") < 0.1);
}

/* Two edits of one text share most shingles; what each changed tells the
 * same edit from another. */
static void the_change_tells_the_same_edit_from_another(void **state)
{
	char base[16384], e1[16384], e2[16384], e3[16384];
	struct minhash f1, c1, f2, c2, f3, c3, f0, c0;

	(void)state;
	words(base, sizeof(base), 0, 300);
	memcpy(e1, base, sizeof(base));
	memcpy(e2, base, sizeof(base));
	memcpy(e3, base, sizeof(base));
	memcpy(strstr(e1, "w100 "), "zz00 ", 5);   /* one edit ... */
	memcpy(strstr(e2, "w100 "), "zz00 ", 5);   /* ... the same one again */
	memcpy(strstr(e3, "w200 "), "yy00 ", 5);   /* another */
	assert_int_equal(minhash_pair(&f1, &c1, e1, strlen(e1), base, strlen(base)), 0);
	assert_int_equal(minhash_pair(&f2, &c2, e2, strlen(e2), base, strlen(base)), 0);
	assert_int_equal(minhash_pair(&f3, &c3, e3, strlen(e3), base, strlen(base)), 0);
	assert_int_equal(c1.shingles, 5);     /* the shingles over the new word */
	assert_true(minhash_similarity(&f1, &f3) >= 0.9);
	assert_true(minhash_similarity(&c1, &c2) == 1.0);
	assert_true(minhash_similarity(&c1, &c3) < 0.1);
	/* the full signature is minhash_text's */
	minhash_text(&f0, e1, strlen(e1));
	assert_memory_equal(f0.v, f1.v, sizeof(f0.v));
	assert_int_equal(minhash_pair(&f0, &c0, base, strlen(base), base, strlen(base)), 0);
	assert_int_equal(c0.shingles, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(equal_texts_are_similar_one_whatever_case_and_punctuation),
		cmocka_unit_test(the_same_text_gives_the_same_signature_every_time),
		cmocka_unit_test(disjoint_texts_share_next_to_nothing),
		cmocka_unit_test(a_known_jaccard_is_estimated_within_the_sampling_error),
		cmocka_unit_test(near_duplicates_share_a_band_and_unrelated_texts_do_not),
		cmocka_unit_test(short_and_empty_texts),
		cmocka_unit_test(the_change_tells_the_same_edit_from_another),
	};

	return cmocka_run_group_tests_name("minhash", tests, NULL, NULL);
}
