/*
 * minhash.c - MinHash signatures over word shingles and their LSH bands
 * (see minhash.h).
 *
 * The MINHASH_PERM hash functions are h_i(x) = (h1(x) + i * h2(x)) ^ c_i in
 * 32 bits (Kirsch and Mitzenmacher's double hashing, whitened by a constant
 * per place): one 64-bit mix per shingle, then additions that the compiler
 * turns into vector code.
 */
#include <pthread.h>
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
static pthread_once_t whitened = PTHREAD_ONCE_INIT;

static void whiten_init(void)
{
	/* a fixed sequence: the same text gives the same signature everywhere */
	uint64_t s = 0x5bd1e995u;

	for (int i = 0; i < MINHASH_PERM; i++) {
		s = mix64(s + 0x9e3779b97f4a7c15ULL);
		whiten[i] = (uint32_t)s;
	}
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
	pthread_once(&whitened, whiten_init);
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

/* The base's shingles, an open-addressing set, for the change's test. */
struct shingle_set {
	uint64_t *x;               /* 0: empty (a shingle hash of 0 is taken as 1) */
	size_t mask, n;
	int oom;
};

static void set_put(struct shingle_set *s, uint64_t x)
{
	size_t i;

	x += !x;
	if (2 * (s->n + 1) > s->mask + 1) {
		size_t cap = s->x ? 2 * (s->mask + 1) : 1024;
		uint64_t *old = s->x, *p = calloc(cap, sizeof(*p));
		size_t omask = s->mask;

		if (!p) {
			s->oom = 1;
			return;
		}
		s->x = p;
		s->mask = cap - 1;
		s->n = 0;
		for (size_t k = 0; old && k <= omask; k++)
			if (old[k])
				set_put(s, old[k]);
		free(old);
	}
	for (i = (size_t)x & s->mask; s->x[i] && s->x[i] != x; i = (i + 1) & s->mask)
		;
	if (!s->x[i]) {
		s->x[i] = x;
		s->n++;
	}
}

static int set_has(const struct shingle_set *s, uint64_t x)
{
	x += !x;
	if (!s->x)
		return 0;
	for (size_t i = (size_t)x & s->mask; s->x[i]; i = (i + 1) & s->mask)
		if (s->x[i] == x)
			return 1;
	return 0;
}

static void set_add(uint64_t x, void *arg)
{
	set_put(arg, x);
}

struct pair_ctx {
	struct minhash *full, *change;
	const struct shingle_set *base;
};

static void fold_pair(uint64_t x, void *arg)
{
	struct pair_ctx *c = arg;

	fold_into(x, c->full);
	if (!set_has(c->base, x))
		fold_into(x, c->change);
}

int minhash_pair(struct minhash *full, struct minhash *change, const char *text, size_t len,
		 const char *base, size_t blen)
{
	struct shingle_set set = { 0 };
	struct pair_ctx c = { full, change, &set };

	start(full);
	start(change);
	each_shingle(base, blen, set_add, &set);
	if (set.oom) {
		free(set.x);
		return -1;
	}
	each_shingle(text, len, fold_pair, &c);
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
