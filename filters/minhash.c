/*
 * minhash.c - MinHash signatures over word shingles and their LSH bands
 * (see minhash.h).
 *
 * The MINHASH_PERM hash functions are h_i(x) = (h1(x) + i * h2(x)) ^ c_i in
 * 32 bits (Kirsch and Mitzenmacher's double hashing, whitened by a constant
 * per place): one 64-bit mix per shingle, then additions that the compiler
 * turns into vector code.
 */
#include <stdlib.h>
#include <string.h>

#include "minhash.h"

static uint64_t mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

static uint32_t whiten[MINHASH_PERM];
static int whitened;

static void whiten_init(void)
{
	/* a fixed sequence: the same text gives the same signature everywhere */
	uint64_t s = 0x5bd1e995u;

	for (int i = 0; i < MINHASH_PERM; i++) {
		s = mix64(s + 0x9e3779b97f4a7c15ULL);
		whiten[i] = (uint32_t)s;
	}
	__atomic_store_n(&whitened, 1, __ATOMIC_RELEASE);
}

static int word_byte(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c >= 0x80;
}

/* Fold one shingle's hash into the signature. */
static void fold(uint32_t *v, uint64_t x)
{
	uint64_t h = mix64(x);
	uint32_t h1 = (uint32_t)h, h2 = (uint32_t)(h >> 32) | 1, a = h1;

	for (int i = 0; i < MINHASH_PERM; i++) {
		uint32_t y = a ^ whiten[i];

		v[i] = y < v[i] ? y : v[i];
		a += h2;
	}
}

/* Call fn(x, arg) for the hash of each shingle of text; the number of words. */
static size_t each_shingle(const char *text, size_t len, void (*fn)(uint64_t, void *), void *arg)
{
	uint64_t ring[MINHASH_SHINGLE] = { 0 };
	size_t words = 0, i = 0;

	while (i < len) {
		uint64_t w = 0xcbf29ce484222325ULL;

		while (i < len && !word_byte((unsigned char)text[i]))
			i++;
		if (i == len)
			break;
		while (i < len && word_byte((unsigned char)text[i])) {
			unsigned char c = (unsigned char)text[i++];

			if (c >= 'A' && c <= 'Z')
				c = (unsigned char)(c + 32);
			w = (w ^ c) * 0x100000001b3ULL;
		}
		ring[words % MINHASH_SHINGLE] = w;
		words++;
		if (words >= MINHASH_SHINGLE) {
			/* the shingle's words in order, oldest first */
			uint64_t x = 0;

			for (size_t k = 0; k < MINHASH_SHINGLE; k++)
				x = mix64(x + ring[(words + k) % MINHASH_SHINGLE]);
			fn(x, arg);
		}
	}
	if (words && words < MINHASH_SHINGLE) {
		uint64_t x = 0;

		for (size_t k = 0; k < words; k++)
			x = mix64(x + ring[k]);
		fn(x, arg);
	}
	return words;
}

static void start(struct minhash *m)
{
	if (!__atomic_load_n(&whitened, __ATOMIC_ACQUIRE))
		whiten_init(); /* idempotent: a race writes the same values */
	memset(m->v, 0xff, sizeof(m->v));
	m->shingles = 0;
}

static void fold_into(uint64_t x, void *arg)
{
	struct minhash *m = arg;

	fold(m->v, x);
	m->shingles++;
}

void minhash_text(struct minhash *m, const char *text, size_t len)
{
	start(m);
	each_shingle(text, len, fold_into, m);
}

/* The base's shingles, sorted, for the change's membership test. */
struct shingle_set {
	uint64_t *x;
	size_t n, cap;
	int oom;
};

static void set_add(uint64_t x, void *arg)
{
	struct shingle_set *s = arg;

	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 512;
		uint64_t *p = realloc(s->x, cap * sizeof(*p));

		if (!p) {
			s->oom = 1;
			return;
		}
		s->x = p;
		s->cap = cap;
	}
	s->x[s->n++] = x;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

struct change_ctx {
	struct minhash *m;
	const struct shingle_set *base;
};

static void fold_new(uint64_t x, void *arg)
{
	struct change_ctx *c = arg;

	if (!bsearch(&x, c->base->x, c->base->n, sizeof(x), cmp_u64))
		fold_into(x, c->m);
}

int minhash_change(struct minhash *m, const char *text, size_t len, const char *base,
		   size_t blen)
{
	struct shingle_set set = { 0 };
	struct change_ctx c = { m, &set };

	start(m);
	each_shingle(base, blen, set_add, &set);
	if (set.oom) {
		free(set.x);
		return -1;
	}
	qsort(set.x, set.n, sizeof(*set.x), cmp_u64);
	each_shingle(text, len, fold_new, &c);
	free(set.x);
	return 0;
}

double minhash_similarity(const struct minhash *a, const struct minhash *b)
{
	int same = 0;

	for (int i = 0; i < MINHASH_PERM; i++)
		same += a->v[i] == b->v[i];
	return (double)same / MINHASH_PERM;
}

uint64_t minhash_band(const struct minhash *m, int b)
{
	uint64_t h = (uint64_t)b * 0x9e3779b97f4a7c15ULL;

	for (int r = 0; r < MINHASH_ROWS; r++)
		h = mix64(h + m->v[b * MINHASH_ROWS + r]);
	return h;
}
