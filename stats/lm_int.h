/*
 * lm_int.h - the n-gram language model's insides, shared by lm_table.c (the
 * block: tables, words, look-ups, save and load), lm_score.c, lm_build.c
 * (building the block), lm_arpa.c (ARPA in and out) and lm_train.c: ARPA in and out, interpolated modified
 * Kneser-Ney training as KenLM's lmplz does it, scoring as KenLM's query
 * does it, and a flat serialized form.
 *
 * Written by hand: no C library in Debian reads, trains and queries ARPA
 * models (KenLM is C++ and not packaged as a library, SRILM is not free
 * software, and neither is callable from C).  The estimator follows
 * KenLM's published pipeline step by step, in the same float arithmetic,
 * so that a model trained here prints the numbers lmplz prints:
 *
 *  - counts: each sentence is <s> w1 .. wk </s>; the highest order counts
 *    every n-gram; a lower-order n-gram gets its adjusted count, the number
 *    of distinct words seen before it, except that one starting with <s>
 *    keeps its raw count; the unigrams <unk> and <s> get 0;
 *  - discounts per order from the count-of-counts n1..n4 of those counts
 *    (Chen and Goodman, eq. 26): Y = n1/(n1+2 n2), Dk = k - (k+1) Y n(k+1)/nk;
 *  - per context c: gamma(c) = (D1 N1(c.) + D2 N2(c.) + D3 N3+(c.)) / sum a(c.),
 *    p(w|c) = (a(cw) - D(a(cw))) / sum a(c.) + gamma(c) p(w|c'), the unigrams
 *    interpolated with the uniform 1/(|V|-1) (<s> excluded), <unk> getting
 *    only the interpolation mass and <s> probability 1;
 *  - the back-off of an n-gram is the gamma of it as a context, 0 (log10)
 *    when it is not one or ends in </s> or <unk>; the highest order has none.
 *
 * Layout (KenLM's "probing" structure): unigrams are an array indexed by
 * word id; every higher order is an open-addressing table of 16-byte
 * entries {64-bit hash of the word ids, log10 prob, log10 back-off} with
 * 1.5 slots per entry, plus an array of (index of the first n-1 words, last
 * word) records to print the model back.  The hash is chained from the last
 * word backwards, so scoring a word is one chain of probes: w, then c1 w,
 * then c2 c1 w, ... (c1 the previous word), stopping at the first miss.
 * Like KenLM we keep only the 64-bit hash, not the words, in a table.  A
 * back-off of -0.0 marks an n-gram that no longer n-gram extends (the state
 * stops there, as KenLM's does).  Everything lives in one block that
 * stats_lm_save() writes as is.
 */
#ifndef CLARIFY_STATS_LM_INT_H
#define CLARIFY_STATS_LM_INT_H

#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "stats.h"

#define MAXO STATS_LM_MAX_ORDER
#define LM_MAGIC "CLLMv001"
#define LM_ENDIAN 0x01020304u
#define LM_ALIGN 64
#define LM_MAX_N ((uint64_t)1 << 31)        /* words; n-grams of one order */
#define LM_MAX_TOKENS ((size_t)UINT32_MAX - 2) /* counts are 32-bit */
#define LM_NONE UINT32_MAX

extern const char *const lm_special[3]; /* <unk>, <s>, </s> */

/* ---- hashing ---------------------------------------------------------- */

/* The chain: h(w) for the last word, then h = ext(h, previous word)... */
static inline uint64_t lm_h1(uint32_t w)
{
	return ((uint64_t)w + 1) * 0x9e3779b97f4a7c15ULL;
}

static inline uint64_t lm_ext(uint64_t h, uint32_t w)
{
	return (h * 0xbf58476d1ce4e5b9ULL) ^ (((uint64_t)w + 1) * 0x94d049bb133111ebULL);
}

/* What a table stores: the chain value mixed, bit 0 clear (bit 0 set marks
 * a hidden entry, see lm_ensure), never 0 (an empty slot). */
static inline uint64_t lm_key(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h &= ~(uint64_t)1;
	return h ? h : 2;
}

static inline size_t lm_slot(uint64_t key, size_t size)
{
	return (size_t)(((unsigned __int128)key * size) >> 64);
}

static inline uint64_t lm_mix(uint64_t h)
{
	h ^= h >> 31;
	h *= 0x7fb5d329728ea185ULL;
	h ^= h >> 27;
	h *= 0x81dadef4bc2dd44dULL;
	h ^= h >> 33;
	return h;
}

/* -0.0: a zero back-off on an n-gram that nothing extends */
static inline int lm_stops(float bo)
{
	uint32_t u;

	memcpy(&u, &bo, sizeof(u));
	return u == 0x80000000u;
}

/* ---- the block and the builder ---------------------------------------- */

struct lm_pb {
	float prob;
	float backoff;
};

struct lm_entry {
	uint64_t key;
	float prob;
	float backoff;
};

struct lm_rec {
	uint32_t prefix; /* index of the first n-1 words in order n-1 (a word id for n = 2) */
	uint32_t word;
};

struct lm_vslot {
	uint32_t id1; /* word id + 1; 0 is an empty slot */
	uint32_t tag; /* high half of the word's hash */
};

/* The first bytes of the block, and of a saved model. */
struct lm_header {
	char magic[8];
	uint32_t endian;
	uint32_t order;
	uint32_t vocab;    /* words */
	uint32_t fallback; /* orders trained with the fallback discounts */
	uint64_t strings;  /* bytes of the words, each NUL-terminated */
	uint64_t vslots;   /* slots of the word hash (a power of two) */
	uint64_t count[MAXO];   /* n-grams per order, hidden entries excluded */
	uint64_t records[MAXO]; /* records per order, hidden entries included */
	uint64_t slots[MAXO];   /* table slots per order ([0] unused) */
	float discount[MAXO][3];
	uint64_t total; /* bytes of the block */
};

struct lm_table {
	struct lm_entry *slot;
	size_t size;
};

struct stats_lm {
	unsigned char *block; /* owned: the header, then the arrays */
	struct lm_header *h;
	struct lm_pb *uni;
	uint32_t *off; /* vocab + 1 offsets into str */
	char *str;
	struct lm_vslot *vslot;
	size_t vmask;
	struct lm_table tab[MAXO]; /* tab[n - 1] for order n >= 2 */
	struct lm_rec *rec[MAXO];  /* rec[n - 1] for order n >= 2 */
	uint32_t vocab;
	int order;
};

struct lm_layout {
	uint64_t uni, off, str, vslot, tab[MAXO], rec[MAXO], total;
};

/* Growable vocabulary (the same hash as the model's). */
struct lm_vocab {
	char *str;
	size_t len, cap;
	uint32_t *off; /* n + 1 */
	uint32_t n;
	size_t ncap;
	struct lm_vslot *slot;
	size_t mask;
};

/* An exact map from (prefix, word) to a record index. */
struct lm_map {
	uint64_t *key;
	uint32_t *val; /* index + 1; 0 is empty */
	size_t mask, used;
};

struct lm_border {
	struct lm_rec *rec;
	float *prob, *bo;
	size_t n, cap;
	struct lm_map map;
};

struct lm_builder {
	int order;
	struct lm_vocab v;
	float *uprob, *ubo;
	size_t ucap;
	struct lm_border o[MAXO + 1]; /* o[n] for order n >= 2 */
	float discount[MAXO][3];
	unsigned fallback;
};

static inline const struct lm_entry *lm_find(const struct lm_table *t, uint64_t key)
{
	size_t i = lm_slot(key, t->size);

	for (;;) {
		const struct lm_entry *e = &t->slot[i];

		if ((e->key ^ key) <= 1)
			return e;
		if (!e->key)
			return NULL;
		if (++i == t->size)
			i = 0;
	}
}

int lm_layout(const struct lm_header *h, struct lm_layout *l);
void lm_bind(struct stats_lm *lm, unsigned char *block);
int lm_insert(struct lm_table *t, uint64_t key, float prob, float backoff);
uint32_t lm_vfind(const struct lm_vslot *slot, size_t mask, const uint32_t *off,
			 const char *str, const char *w, size_t n, uint64_t h, size_t *where);
void lm_rec_words(struct lm_rec *const *rec, int n, uint32_t i, uint32_t *ids);
uint64_t lm_ids_hash(const uint32_t *ids, int n);
int lm_grow(void **p, size_t *cap, size_t need, size_t size);
int lm_vocab_add(struct lm_vocab *v, const char *w, size_t n, uint32_t *id, int *added);
uint32_t lm_vocab_get(const struct lm_vocab *v, const char *w, size_t n);
uint32_t lm_map_get(const struct lm_map *m, uint32_t prefix, uint32_t word);
int lm_map_reserve(struct lm_map *m, size_t n);
int lm_border_reserve(struct lm_border *o, size_t n);
int lm_badd(struct lm_builder *b, int n, uint32_t prefix, uint32_t word, uint32_t *idx);
int lm_unigrams_reserve(struct lm_builder *b, size_t n);
void lm_builder_release(struct lm_builder *b);
int lm_builder_init(struct lm_builder *b, int order);
int lm_finish(struct lm_builder *b, struct stats_lm **out);
const char *lm_quote(char *out, size_t size, const char *s, size_t n);

#endif
