/*
 * minhash.h - near-duplicate detection: MinHash signatures over word
 * shingles, and the bands of locality-sensitive hashing that find the
 * candidates.
 *
 * A text's shingles are its runs of MINHASH_SHINGLE words (lower-cased
 * letters and digits; 5 as datatrove uses), each hashed to 64 bits.  The
 * signature keeps, for each of MINHASH_PERM hash functions, the least hash
 * of any shingle: the share of equal places in two signatures estimates the
 * Jaccard similarity of the shingle sets.  The LSH splits a signature into
 * MINHASH_BANDS bands of MINHASH_ROWS places: two texts of Jaccard J share
 * at least one band with probability 1 - (1 - J^ROWS)^BANDS, 0.9999 at
 * J = 0.9, 0.06 at J = 0.5.  Written by hand: no Debian library does it.
 *
 * A rewrite is by design within a few words of its original, so two
 * rewrites of one problem share most shingles whatever each changed:
 * minhash_pair() also signs only the shingles a rewrite has and its original
 * has not, what it changed, for telling the same rewrite from another.
 */
#ifndef CLARIFY_MINHASH_H
#define CLARIFY_MINHASH_H

#include <stddef.h>
#include <stdint.h>

#define MINHASH_SHINGLE 5
#define MINHASH_PERM 128
#define MINHASH_BANDS 16
#define MINHASH_ROWS (MINHASH_PERM / MINHASH_BANDS)

struct minhash {
	uint32_t v[MINHASH_PERM];
	size_t shingles;          /* 0 for a text without words; a text of fewer
				     words than a shingle is one shingle */
};

/* The signature of text[0..len) (UTF-8; bytes >= 0x80 are word letters). */
void minhash_text(struct minhash *m, const char *text, size_t len);
/* In one pass, the signature of text into full and of what it changed in
 * base into change: of its shingles that base has not (shingles 0 when
 * none).  0, or -1 out of memory. */
int minhash_pair(struct minhash *full, struct minhash *change, const char *text, size_t len,
		 const char *base, size_t blen);
/* The estimated Jaccard similarity of two signatures, in [0, 1]. */
double minhash_similarity(const struct minhash *a, const struct minhash *b);
/* The 64-bit key of band b (0 .. MINHASH_BANDS-1), the band's index in it. */
uint64_t minhash_band(const struct minhash *m, int b);

#endif
