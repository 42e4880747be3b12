/*
 * lm.c - the n-gram language model: ARPA in and out, interpolated modified
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

static const char *const lm_special[3] = { "<unk>", "<s>", "</s>" };

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

/* ---- the block -------------------------------------------------------- */

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

static uint64_t lm_align(uint64_t x)
{
	return (x + LM_ALIGN - 1) & ~(uint64_t)(LM_ALIGN - 1);
}

/* Where the arrays of a block with header h go; -1 when a size is out of
 * bounds (so a saved block can be checked before it is trusted). */
static int lm_layout(const struct lm_header *h, struct lm_layout *l)
{
	uint64_t pos = lm_align(sizeof(*h));
	uint32_t n;

	if (h->order < 1 || h->order > MAXO || h->vocab < 3 || h->vocab > LM_MAX_N ||
	    h->strings > UINT32_MAX || h->strings < 2 * (uint64_t)h->vocab ||
	    h->vslots <= h->vocab || h->vslots > 4 * LM_MAX_N || (h->vslots & (h->vslots - 1)) ||
	    h->count[0] != h->vocab || h->records[0] != h->vocab)
		return -1;
	memset(l, 0, sizeof(*l));
	l->uni = pos;
	pos = lm_align(pos + h->vocab * sizeof(struct lm_pb));
	l->off = pos;
	pos = lm_align(pos + (h->vocab + 1ULL) * sizeof(uint32_t));
	l->str = pos;
	pos = lm_align(pos + h->strings);
	l->vslot = pos;
	pos = lm_align(pos + h->vslots * sizeof(struct lm_vslot));
	for (n = 2; n <= MAXO; n++) {
		uint64_t r = h->records[n - 1], s = h->slots[n - 1];

		if (n > h->order) {
			if (r || s || h->count[n - 1])
				return -1;
			continue;
		}
		if (r > 2 * LM_MAX_N || h->count[n - 1] > r || s <= r || s > 4 * r + 16)
			return -1;
		l->tab[n - 1] = pos;
		pos = lm_align(pos + s * sizeof(struct lm_entry));
		l->rec[n - 1] = pos;
		pos = lm_align(pos + r * sizeof(struct lm_rec));
	}
	l->total = pos;
	return pos <= SIZE_MAX ? 0 : -1;
}

static void lm_bind(struct stats_lm *lm, unsigned char *block)
{
	struct lm_layout l;
	uint32_t n;

	lm->block = block;
	lm->h = (struct lm_header *)block;
	(void)lm_layout(lm->h, &l); /* checked by the caller */
	lm->uni = (struct lm_pb *)(block + l.uni);
	lm->off = (uint32_t *)(block + l.off);
	lm->str = (char *)(block + l.str);
	lm->vslot = (struct lm_vslot *)(block + l.vslot);
	lm->vmask = lm->h->vslots - 1;
	lm->vocab = lm->h->vocab;
	lm->order = (int)lm->h->order;
	for (n = 2; n <= lm->h->order; n++) {
		lm->tab[n - 1].slot = (struct lm_entry *)(block + l.tab[n - 1]);
		lm->tab[n - 1].size = lm->h->slots[n - 1];
		lm->rec[n - 1] = (struct lm_rec *)(block + l.rec[n - 1]);
	}
}

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

/* 0, or -1 when an entry with that hash is there already */
static int lm_insert(struct lm_table *t, uint64_t key, float prob, float backoff)
{
	size_t i = lm_slot(key, t->size);

	for (;;) {
		struct lm_entry *e = &t->slot[i];

		if (!e->key) {
			e->key = key;
			e->prob = prob;
			e->backoff = backoff;
			return 0;
		}
		if ((e->key ^ key) <= 1)
			return -1;
		if (++i == t->size)
			i = 0;
	}
}

/* ---- words ------------------------------------------------------------ */

static uint32_t lm_vfind(const struct lm_vslot *slot, size_t mask, const uint32_t *off,
			 const char *str, const char *w, size_t n, uint64_t h, size_t *where)
{
	uint32_t tag = (uint32_t)(h >> 32);
	size_t i = (size_t)h & mask;

	for (;; i = (i + 1) & mask) {
		const struct lm_vslot *s = &slot[i];

		if (!s->id1) {
			if (where)
				*where = i;
			return LM_NONE;
		}
		if (s->tag == tag) {
			uint32_t id = s->id1 - 1;

			if (off[id + 1] - off[id] == n + 1 && memcmp(str + off[id], w, n) == 0)
				return id;
		}
	}
}

static uint32_t lm_word_find(const struct stats_lm *lm, const char *w, size_t n)
{
	return lm_vfind(lm->vslot, lm->vmask, lm->off, lm->str, w, n, hash_fnv1a64(w, n), NULL);
}

uint32_t stats_lm_word(const struct stats_lm *lm, const char *word, size_t n)
{
	uint32_t id = lm_word_find(lm, word, n);

	return id == LM_NONE ? STATS_LM_UNK : id;
}

const char *stats_lm_word_text(const struct stats_lm *lm, uint32_t id)
{
	return id < lm->vocab ? lm->str + lm->off[id] : NULL;
}

/* ---- scoring ---------------------------------------------------------- */

void stats_lm_begin(const struct stats_lm *lm, struct stats_lm_state *st)
{
	memset(st, 0, sizeof(*st));
	st->words[0] = STATS_LM_BOS;
	st->backoff[0] = lm->uni[STATS_LM_BOS].backoff;
	st->len = lm->order > 1 && !lm_stops(st->backoff[0]) ? 1 : 0;
}

static inline float lm_score(const struct stats_lm *lm, const struct stats_lm_state *in,
			     uint32_t w, struct stats_lm_state *out)
{
	uint32_t words[MAXO - 1];
	float bo[MAXO - 1];
	unsigned k = in->len, j, m = 1, len, top = (unsigned)lm->order - 1;
	const struct lm_pb *u;
	uint64_t h;
	float p;

	if (k > top)
		k = top;
	for (j = 0; j < k; j++) {
		words[j] = in->words[j];
		bo[j] = in->backoff[j];
	}
	if (w >= lm->vocab)
		w = STATS_LM_UNK;
	u = &lm->uni[w];
	p = u->prob;
	out->words[0] = w;
	out->backoff[0] = u->backoff;
	len = top > 0 && !lm_stops(u->backoff) ? 1 : 0;
	h = lm_h1(w);
	for (j = 0; j < k; j++) {
		const struct lm_entry *e;

		h = lm_ext(h, words[j]);
		e = lm_find(&lm->tab[j + 1], lm_key(h));
		if (!e)
			break;
		p = e->prob;
		m = j + 2;
		if (len == j + 1 && j + 1 < top) {
			out->words[j + 1] = words[j];
			out->backoff[j + 1] = e->backoff;
			if (!lm_stops(e->backoff))
				len = j + 2;
		}
	}
	/* the contexts longer than the match back off */
	for (j = m - 1; j < k; j++)
		p += bo[j];
	out->len = len;
	return p;
}

float stats_lm_score(const struct stats_lm *lm, const struct stats_lm_state *in, uint32_t word,
		     struct stats_lm_state *out)
{
	return lm_score(lm, in, word, out);
}

/* As KenLM's query: the sentence total in float, the corpus in double. */
/* One sentence, its words as ids or (ids NULL) as strings. */
static double score_words(const struct stats_lm *lm, const uint32_t *ids,
			  const char *const *tokens, size_t n, int *oov, struct stats_lm_ppl *acc)
{
	struct stats_lm_state s[2];
	double oov_total = 0;
	float total = 0;
	int noov = 0, cur = 0;

	stats_lm_begin(lm, &s[0]);
	for (size_t i = 0; i < n; i++) {
		uint32_t w = ids ? (ids[i] < lm->vocab ? ids[i] : STATS_LM_UNK)
				 : stats_lm_word(lm, tokens[i], strlen(tokens[i]));
		float p = lm_score(lm, &s[cur], w, &s[cur ^ 1]);

		total += p;
		if (w == STATS_LM_UNK) {
			noov++;
			oov_total += p;
		}
		cur ^= 1;
	}
	total += lm_score(lm, &s[cur], STATS_LM_EOS, &s[cur ^ 1]);
	if (oov)
		*oov = noov;
	if (acc) {
		acc->log10_total += total;
		acc->log10_oov += oov_total;
		acc->tokens += n + 1;
		acc->oov += (uint64_t)noov;
		acc->sentences++;
	}
	return total;
}

double stats_lm_score_ids(const struct stats_lm *lm, const uint32_t *ids, size_t n, int *oov,
			  struct stats_lm_ppl *acc)
{
	return score_words(lm, ids, NULL, n, oov, acc);
}

double stats_lm_score_sentence(const struct stats_lm *lm, const char *const *tokens, size_t n,
			       int *oov, struct stats_lm_ppl *acc)
{
	return score_words(lm, NULL, tokens, n, oov, acc);
}

struct text_ctx {
	const struct stats_lm *lm;
	struct stats_lm_ppl *acc;
	struct stats_lm_state st;
	float total;
	double oov_total;
	uint64_t n, oov;
};

static void text_token(const char *tok, size_t n, void *arg)
{
	struct text_ctx *c = arg;
	uint32_t w;
	float p;

	if (!tok) {
		c->total += lm_score(c->lm, &c->st, STATS_LM_EOS, &c->st);
		c->acc->log10_total += c->total;
		c->acc->log10_oov += c->oov_total;
		c->acc->tokens += c->n + 1;
		c->acc->oov += c->oov;
		c->acc->sentences++;
		stats_lm_begin(c->lm, &c->st);
		c->total = 0;
		c->oov_total = 0;
		c->n = c->oov = 0;
		return;
	}
	w = stats_lm_word(c->lm, tok, n);
	p = lm_score(c->lm, &c->st, w, &c->st);
	c->total += p;
	c->n++;
	if (w == STATS_LM_UNK) {
		c->oov++;
		c->oov_total += p;
	}
}

int stats_lm_score_text(const struct stats_lm *lm, const char *text, size_t len,
			struct stats_lm_ppl *acc)
{
	struct text_ctx c;

	memset(&c, 0, sizeof(c));
	c.lm = lm;
	c.acc = acc;
	stats_lm_begin(lm, &c.st);
	return stats_tokenize(text, len, text_token, &c);
}

double stats_lm_ppl_incl(const struct stats_lm_ppl *p)
{
	if (!p->tokens)
		return NAN;
	return pow(10.0, -(p->log10_total / (double)p->tokens));
}

double stats_lm_ppl_excl(const struct stats_lm_ppl *p)
{
	if (p->tokens <= p->oov)
		return NAN;
	return pow(10.0, -((p->log10_total - p->log10_oov) / (double)(p->tokens - p->oov)));
}

/* ---- looking n-grams up ------------------------------------------------ */

/* The word ids of record i of order n, first word first. */
static void lm_rec_words(struct lm_rec *const *rec, int n, uint32_t i, uint32_t *ids)
{
	for (int m = n; m >= 2; m--) {
		ids[m - 1] = rec[m - 1][i].word;
		i = rec[m - 1][i].prefix;
	}
	ids[0] = i;
}

static uint64_t lm_ids_hash(const uint32_t *ids, int n)
{
	uint64_t h = lm_h1(ids[n - 1]);

	for (int i = n - 2; i >= 0; i--)
		h = lm_ext(h, ids[i]);
	return h;
}

static float lm_plain(float v)
{
	return v == 0.0f ? 0.0f : v; /* -0.0 is only a mark */
}

int stats_lm_lookup(const struct stats_lm *lm, const char *const *words, int n, float *prob,
		    float *backoff)
{
	uint32_t ids[MAXO];
	const struct lm_entry *e;

	if (n < 1 || n > lm->order)
		return CL_ENOTFOUND;
	for (int i = 0; i < n; i++) {
		ids[i] = lm_word_find(lm, words[i], strlen(words[i]));
		if (ids[i] == LM_NONE)
			return CL_ENOTFOUND;
	}
	if (n == 1) {
		*prob = lm->uni[ids[0]].prob;
		*backoff = lm_plain(lm->uni[ids[0]].backoff);
		return 0;
	}
	e = lm_find(&lm->tab[n - 1], lm_key(lm_ids_hash(ids, n)));
	if (!e || (e->key & 1))
		return CL_ENOTFOUND;
	*prob = e->prob;
	*backoff = lm_plain(e->backoff);
	return 0;
}

int stats_lm_foreach(const struct stats_lm *lm, int n, stats_lm_ngram_fn fn, void *arg)
{
	const char *words[MAXO];
	uint32_t ids[MAXO];
	int rc;

	if (n < 1 || n > lm->order)
		return 0;
	if (n == 1) {
		for (uint32_t i = 0; i < lm->vocab; i++) {
			words[0] = lm->str + lm->off[i];
			rc = fn(words, 1, lm->uni[i].prob, lm_plain(lm->uni[i].backoff), arg);
			if (rc)
				return rc;
		}
		return 0;
	}
	for (uint64_t i = 0; i < lm->h->count[n - 1]; i++) {
		const struct lm_entry *e;

		lm_rec_words(lm->rec, n, (uint32_t)i, ids);
		for (int k = 0; k < n; k++)
			words[k] = lm->str + lm->off[ids[k]];
		e = lm_find(&lm->tab[n - 1], lm_key(lm_ids_hash(ids, n)));
		if (!e)
			continue; /* cannot happen */
		rc = fn(words, n, e->prob, lm_plain(e->backoff), arg);
		if (rc)
			return rc;
	}
	return 0;
}

void stats_lm_info(const struct stats_lm *lm, struct stats_lm_info *info)
{
	memset(info, 0, sizeof(*info));
	info->order = lm->order;
	info->vocab = lm->vocab;
	for (int n = 1; n <= lm->order; n++) {
		info->count[n - 1] = lm->h->count[n - 1];
		info->ngrams += lm->h->count[n - 1];
		memcpy(info->discount[n - 1], lm->h->discount[n - 1], sizeof(info->discount[0]));
	}
	info->fallback = lm->h->fallback;
	info->bytes = (size_t)lm->h->total + sizeof(*lm);
}

void stats_lm_free(struct stats_lm *lm)
{
	if (!lm)
		return;
	free(lm->block);
	free(lm);
}

/* ---- building --------------------------------------------------------- */

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

static int lm_grow(void **p, size_t *cap, size_t need, size_t size)
{
	size_t c = *cap ? *cap : 16;
	void *q;

	if (need <= *cap)
		return 0;
	while (c < need)
		c *= 2;
	q = realloc(*p, c * size);
	if (!q)
		return CL_ENOMEM;
	*p = q;
	*cap = c;
	return 0;
}

static int lm_vocab_rehash(struct lm_vocab *v, size_t slots)
{
	struct lm_vslot *s = calloc(slots, sizeof(*s));

	if (!s)
		return CL_ENOMEM;
	for (uint32_t id = 0; id < v->n; id++) {
		const char *w = v->str + v->off[id];
		uint64_t h = hash_fnv1a64(w, v->off[id + 1] - v->off[id] - 1);
		size_t i = (size_t)h & (slots - 1);

		while (s[i].id1)
			i = (i + 1) & (slots - 1);
		s[i].id1 = id + 1;
		s[i].tag = (uint32_t)(h >> 32);
	}
	free(v->slot);
	v->slot = s;
	v->mask = slots - 1;
	return 0;
}

/* The id of w, added when new (*added says so). */
static int lm_vocab_add(struct lm_vocab *v, const char *w, size_t n, uint32_t *id, int *added)
{
	uint64_t h = hash_fnv1a64(w, n);
	size_t where;
	int rc;

	*added = 0;
	if (!v->slot || (v->n + 1) * 2 > v->mask + 1) {
		rc = lm_vocab_rehash(v, v->slot ? 2 * (v->mask + 1) : 64);
		if (rc)
			return rc;
	}
	*id = lm_vfind(v->slot, v->mask, v->off, v->str, w, n, h, &where);
	if (*id != LM_NONE)
		return 0;
	if (v->n >= LM_MAX_N || v->len + n + 1 > UINT32_MAX)
		return err_set(CL_ETOOBIG, "too many words");
	if (lm_grow((void **)&v->str, &v->cap, v->len + n + 1, 1) ||
	    lm_grow((void **)&v->off, &v->ncap, (size_t)v->n + 2, sizeof(uint32_t)))
		return err_set(CL_ENOMEM, "out of memory");
	memcpy(v->str + v->len, w, n);
	v->str[v->len + n] = '\0';
	v->off[v->n] = (uint32_t)v->len;
	v->len += n + 1;
	v->off[v->n + 1] = (uint32_t)v->len;
	v->slot[where].id1 = v->n + 1;
	v->slot[where].tag = (uint32_t)(h >> 32);
	*id = v->n++;
	*added = 1;
	return 0;
}

static uint32_t lm_vocab_get(const struct lm_vocab *v, const char *w, size_t n)
{
	return lm_vfind(v->slot, v->mask, v->off, v->str, w, n, hash_fnv1a64(w, n), NULL);
}

static inline uint64_t lm_mkey(uint32_t prefix, uint32_t word)
{
	return (uint64_t)prefix << 32 | word;
}

static size_t lm_map_pos(const struct lm_map *m, uint64_t key)
{
	size_t i = (size_t)lm_mix(key) & m->mask;

	while (m->val[i] && m->key[i] != key)
		i = (i + 1) & m->mask;
	return i;
}

static uint32_t lm_map_get(const struct lm_map *m, uint32_t prefix, uint32_t word)
{
	size_t i;

	if (!m->val)
		return LM_NONE;
	i = lm_map_pos(m, lm_mkey(prefix, word));
	return m->val[i] ? m->val[i] - 1 : LM_NONE;
}

static int lm_map_reserve(struct lm_map *m, size_t n)
{
	size_t slots = 16;
	struct lm_map g;

	if (m->val && n * 2 <= m->mask + 1)
		return 0;
	while (slots < n * 2)
		slots *= 2;
	g.key = malloc(slots * sizeof(*g.key));
	g.val = calloc(slots, sizeof(*g.val));
	if (!g.key || !g.val) {
		free(g.key);
		free(g.val);
		return CL_ENOMEM;
	}
	g.mask = slots - 1;
	g.used = m->used;
	for (size_t i = 0; m->val && i <= m->mask; i++) {
		if (m->val[i]) {
			size_t j = lm_map_pos(&g, m->key[i]);

			g.key[j] = m->key[i];
			g.val[j] = m->val[i];
		}
	}
	free(m->key);
	free(m->val);
	*m = g;
	return 0;
}

static int lm_border_reserve(struct lm_border *o, size_t n)
{
	size_t c = o->cap;

	if (n <= o->cap)
		return 0;
	if (lm_grow((void **)&o->rec, &c, n, sizeof(*o->rec)))
		return CL_ENOMEM;
	c = o->cap;
	if (lm_grow((void **)&o->prob, &c, n, sizeof(float)))
		return CL_ENOMEM;
	c = o->cap;
	if (lm_grow((void **)&o->bo, &c, n, sizeof(float)))
		return CL_ENOMEM;
	o->cap = c;
	return 0;
}

/*
 * The record (prefix, word) of order n: its index in *idx; 1 when added,
 * 0 when it was there, or an error code.
 */
static int lm_badd(struct lm_builder *b, int n, uint32_t prefix, uint32_t word, uint32_t *idx)
{
	struct lm_border *o = &b->o[n];
	uint64_t key = lm_mkey(prefix, word);
	size_t i;

	if (lm_map_reserve(&o->map, o->map.used + 1))
		return err_set(CL_ENOMEM, "out of memory");
	i = lm_map_pos(&o->map, key);
	if (o->map.val[i]) {
		*idx = o->map.val[i] - 1;
		return 0;
	}
	if (o->n >= 2 * LM_MAX_N - 1)
		return err_set(CL_ETOOBIG, "too many %d-grams", n);
	if (lm_border_reserve(o, o->n + 1))
		return err_set(CL_ENOMEM, "out of memory");
	o->map.key[i] = key;
	o->map.val[i] = (uint32_t)o->n + 1;
	o->map.used++;
	o->rec[o->n].prefix = prefix;
	o->rec[o->n].word = word;
	o->prob[o->n] = 0;
	o->bo[o->n] = 0;
	*idx = (uint32_t)o->n++;
	return 1;
}

static int lm_unigrams_reserve(struct lm_builder *b, size_t n)
{
	size_t c = b->ucap;

	if (n <= b->ucap)
		return 0;
	if (lm_grow((void **)&b->uprob, &c, n, sizeof(float)))
		return CL_ENOMEM;
	c = b->ucap;
	if (lm_grow((void **)&b->ubo, &c, n, sizeof(float)))
		return CL_ENOMEM;
	b->ucap = c;
	return 0;
}

static void lm_builder_release(struct lm_builder *b)
{
	free(b->v.str);
	free(b->v.off);
	free(b->v.slot);
	free(b->uprob);
	free(b->ubo);
	for (int n = 2; n <= MAXO; n++) {
		free(b->o[n].rec);
		free(b->o[n].prob);
		free(b->o[n].bo);
		free(b->o[n].map.key);
		free(b->o[n].map.val);
	}
	memset(b, 0, sizeof(*b));
}

/* <unk> <s> </s> as ids 0 1 2 */
static int lm_builder_init(struct lm_builder *b, int order)
{
	memset(b, 0, sizeof(*b));
	b->order = order;
	for (uint32_t i = 0; i < 3; i++) {
		uint32_t id;
		size_t n = strlen(lm_special[i]);
		int added, rc = lm_vocab_add(&b->v, lm_special[i], n, &id, &added);

		if (rc)
			return rc;
	}
	if (lm_unigrams_reserve(b, 64))
		return err_set(CL_ENOMEM, "out of memory");
	return 0;
}

/* ---- finishing: hidden suffixes, extension marks, the block ------------- */

struct lm_fin {
	struct lm_builder *b;
	uint32_t *suf[MAXO + 1]; /* suf[n][i]: index in order n-1 of the last n-1 words */
	size_t scap[MAXO + 1];
};

/*
 * The index in order m of the n-gram (prefix q, word w), adding it as a
 * hidden entry when absent: an SRILM model may drop "b c" and keep "a b c";
 * KenLM then inserts "b c" with the backed-off probability p(c|b) and no
 * back-off, so that "a b c" can be reached.  The records of a hidden entry
 * come after the real ones; its table key has bit 0 set.
 */
static int lm_ensure(struct lm_fin *f, int m, uint32_t q, uint32_t w, uint32_t *idx)
{
	struct lm_builder *b = f->b;
	uint32_t s, got = lm_map_get(&b->o[m].map, q, w);
	float prob;
	int rc;

	if (got != LM_NONE) {
		*idx = got;
		return 0;
	}
	if (m == 2) {
		s = w;
		prob = b->uprob[s] + b->ubo[q];
	} else {
		rc = lm_ensure(f, m - 1, f->suf[m - 1][q], w, &s);
		if (rc)
			return rc;
		prob = b->o[m - 1].prob[s] + b->o[m - 1].bo[q];
	}
	rc = lm_badd(b, m, q, w, idx);
	if (rc < 0)
		return rc;
	b->o[m].prob[*idx] = prob;
	b->o[m].bo[*idx] = 0;
	if (lm_grow((void **)&f->suf[m], &f->scap[m], (size_t)*idx + 1, sizeof(uint32_t)))
		return err_set(CL_ENOMEM, "out of memory");
	f->suf[m][*idx] = s;
	return 0;
}

static int lm_pack(struct lm_builder *b, const uint64_t *real, struct stats_lm **out)
{
	struct lm_header h;
	struct lm_layout l;
	struct stats_lm *lm;
	unsigned char *block;
	int n, rc = 0;

	memset(&h, 0, sizeof(h));
	memcpy(h.magic, LM_MAGIC, sizeof(h.magic));
	h.endian = LM_ENDIAN;
	h.order = (uint32_t)b->order;
	h.vocab = b->v.n;
	h.fallback = b->fallback;
	h.strings = b->v.len;
	h.vslots = 8;
	while (h.vslots < 2 * (uint64_t)h.vocab)
		h.vslots *= 2;
	h.count[0] = h.records[0] = h.vocab;
	for (n = 2; n <= b->order; n++) {
		h.records[n - 1] = b->o[n].n;
		h.count[n - 1] = real[n];
		h.slots[n - 1] = b->o[n].n + b->o[n].n / 2 + 1;
	}
	memcpy(h.discount, b->discount, sizeof(h.discount));
	if (lm_layout(&h, &l))
		return err_set(CL_ETOOBIG, "the model is too large");
	h.total = l.total;
	lm = calloc(1, sizeof(*lm));
	block = aligned_alloc(LM_ALIGN, (size_t)l.total);
	if (!lm || !block) {
		free(lm);
		free(block);
		return err_set(CL_ENOMEM, "out of memory for a model of %llu bytes",
			       (unsigned long long)l.total);
	}
	memset(block, 0, (size_t)l.total);
	memcpy(block, &h, sizeof(h));
	lm_bind(lm, block);
	for (uint32_t i = 0; i < h.vocab; i++) {
		lm->uni[i].prob = b->uprob[i];
		lm->uni[i].backoff = b->ubo[i];
	}
	memcpy(lm->off, b->v.off, (h.vocab + 1ULL) * sizeof(uint32_t));
	memcpy(lm->str, b->v.str, b->v.len);
	for (uint32_t id = 0; id < h.vocab; id++) {
		const char *w = lm->str + lm->off[id];
		uint64_t hh = hash_fnv1a64(w, lm->off[id + 1] - lm->off[id] - 1);
		size_t i = (size_t)hh & lm->vmask;

		while (lm->vslot[i].id1)
			i = (i + 1) & lm->vmask;
		lm->vslot[i].id1 = id + 1;
		lm->vslot[i].tag = (uint32_t)(hh >> 32);
	}
	for (n = 2; n <= b->order && !rc; n++) {
		const struct lm_border *o = &b->o[n];

		if (o->n) /* an order of no n-grams has no array to copy */
			memcpy(lm->rec[n - 1], o->rec, o->n * sizeof(*o->rec));
		for (size_t i = 0; i < o->n; i++) {
			uint32_t ids[MAXO];
			uint64_t key;

			lm_rec_words(lm->rec, n, (uint32_t)i, ids);
			key = lm_key(lm_ids_hash(ids, n)) | (i >= real[n]);
			if (lm_insert(&lm->tab[n - 1], key, o->prob[i], o->bo[i])) {
				rc = err_set(CL_EINVAL, "two %d-grams have the same 64-bit hash", n);
				break;
			}
		}
	}
	if (rc) {
		stats_lm_free(lm);
		return rc;
	}
	*out = lm;
	return 0;
}

/*
 * Make the model from a filled builder: hidden suffixes, then the -0.0
 * marks on zero back-offs that nothing extends, then the block.
 */
static int lm_finish(struct lm_builder *b, struct stats_lm **out)
{
	struct lm_fin f;
	uint64_t real[MAXO + 1] = { 0 };
	unsigned char *ext[MAXO + 1] = { 0 };
	int n, rc = 0;

	memset(&f, 0, sizeof(f));
	f.b = b;
	for (n = 2; n <= b->order; n++)
		real[n] = b->o[n].n;
	for (n = 2; n <= b->order && !rc; n++) {
		size_t cnt = b->o[n].n;

		if (lm_grow((void **)&f.suf[n], &f.scap[n], cnt + 1, sizeof(uint32_t))) {
			rc = err_set(CL_ENOMEM, "out of memory");
			break;
		}
		for (size_t i = 0; i < cnt && !rc; i++) {
			struct lm_rec r = b->o[n].rec[i];
			uint32_t s = r.word;

			if (n > 2)
				rc = lm_ensure(&f, n - 1, f.suf[n - 1][r.prefix], r.word, &s);
			f.suf[n][i] = s;
		}
	}
	for (n = 1; n <= b->order && !rc; n++) {
		size_t cnt = n == 1 ? b->v.n : b->o[n].n;

		ext[n] = calloc(cnt + 1, 1);
		if (!ext[n])
			rc = err_set(CL_ENOMEM, "out of memory");
	}
	for (n = 2; n <= b->order && !rc; n++)
		for (size_t i = 0; i < b->o[n].n; i++)
			ext[n - 1][b->o[n].rec[i].prefix] = 1;
	for (n = 1; n <= b->order && !rc; n++) {
		size_t cnt = n == 1 ? b->v.n : b->o[n].n;
		float *bo = n == 1 ? b->ubo : b->o[n].bo;

		for (size_t i = 0; i < cnt; i++)
			if (n == b->order || (bo[i] == 0.0f && !ext[n][i]))
				bo[i] = -0.0f;
			else if (bo[i] == 0.0f)
				bo[i] = 0.0f;
	}
	if (!rc)
		rc = lm_pack(b, real, out);
	for (n = 0; n <= MAXO; n++) {
		free(f.suf[n]);
		free(ext[n]);
	}
	return rc;
}

/* ---- reading ARPA ------------------------------------------------------ */

struct lm_reader {
	const char *p, *end, *name;
	size_t line;   /* number of the current line */
	const char *s; /* its text, trailing white space cut */
	size_t n;
	int again;     /* give the current line once more */
};

static int rd_next(struct lm_reader *r)
{
	const char *nl;

	if (r->again) {
		r->again = 0;
		return 1;
	}
	if (r->p >= r->end)
		return 0;
	nl = memchr(r->p, '\n', (size_t)(r->end - r->p));
	r->s = r->p;
	r->n = (size_t)((nl ? nl : r->end) - r->p);
	r->p = nl ? nl + 1 : r->end;
	r->line++;
	while (r->n && (r->s[r->n - 1] == ' ' || r->s[r->n - 1] == '\t' || r->s[r->n - 1] == '\r'))
		r->n--;
	while (r->n && (r->s[0] == ' ' || r->s[0] == '\t')) {
		r->s++;
		r->n--;
	}
	return 1;
}

static int rd_is(const struct lm_reader *r, const char *text)
{
	return r->n == strlen(text) && memcmp(r->s, text, r->n) == 0;
}

/* s[0..n) quoted for a message: at most 40 bytes, control bytes as '?' */
static const char *lm_quote(char *out, size_t size, const char *s, size_t n)
{
	size_t k = 0;

	for (size_t i = 0; i < n && k + 4 < size; i++) {
		if (i == 40) {
			memcpy(out + k, "...", 3);
			k += 3;
			break;
		}
		out[k++] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? '?' : s[i];
	}
	out[k] = '\0';
	return out;
}

static int rd_err(const struct lm_reader *r, const char *fmt, ...) CL_PRINTF(2, 3);

static int rd_err(const struct lm_reader *r, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return err_set(CL_EPARSE, "%s:%zu: %s", r->name, r->line ? r->line : 1, msg);
}

/* a decimal count, 0 or -1 */
static int lm_digits(const char *s, size_t n, uint64_t *out)
{
	uint64_t v = 0;

	if (!n || n > 18)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	*out = v;
	return 0;
}

/* a log10 value: a decimal that fits a float, or "-inf" (probability 0,
 * which KenLM reads too); 0 or -1 */
static int lm_number(const char *s, size_t n, float *out)
{
	char tmp[64];
	char *end;
	float v;

	if ((n == 4 && strncasecmp(s, "-inf", 4) == 0) ||
	    (n == 9 && strncasecmp(s, "-infinity", 9) == 0)) {
		*out = -INFINITY;
		return 0;
	}
	if (!n || n >= sizeof(tmp))
		return -1;
	for (size_t i = 0; i < n; i++)
		if (!strchr("0123456789+-.eE", s[i]) || s[i] == '\0')
			return -1;
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	errno = 0;
	v = strtof(tmp, &end);
	if (end != tmp + n || !isfinite(v) || (errno == ERANGE && fabsf(v) > 1.0f))
		return -1;
	*out = v;
	return 0;
}

struct lm_field {
	const char *s;
	size_t n;
};

/* split the current line on spaces and tabs; the field count, or -1 when
 * there are more than max */
static int rd_fields(const struct lm_reader *r, struct lm_field *f, int max)
{
	size_t i = 0;
	int k = 0;

	while (i < r->n) {
		size_t j;

		while (i < r->n && (r->s[i] == ' ' || r->s[i] == '\t'))
			i++;
		if (i == r->n)
			break;
		j = i;
		while (j < r->n && r->s[j] != ' ' && r->s[j] != '\t')
			j++;
		if (k == max)
			return -1;
		f[k].s = r->s + i;
		f[k].n = j - i;
		k++;
		i = j;
	}
	return k;
}

/* "w1 w2 ... wn" of fields into out, quoted */
static const char *lm_quote_words(char *out, size_t size, const struct lm_field *f, int n)
{
	const char *a = f[0].s, *z = f[n - 1].s + f[n - 1].n;

	return lm_quote(out, size, a, (size_t)(z - a));
}

/* lm_digits() of [a, z) without the spaces and tabs around */
static int lm_digits_trim(const char *a, const char *z, uint64_t *out)
{
	while (a < z && (*a == ' ' || *a == '\t'))
		a++;
	while (z > a && (z[-1] == ' ' || z[-1] == '\t'))
		z--;
	return lm_digits(a, (size_t)(z - a), out);
}

static int lm_read_counts(struct lm_reader *r, uint64_t *count, int *order, size_t len)
{
	for (;;) {
		const char *eq;
		uint64_t n, c;

		if (!rd_next(r)) {
			if (!*order)
				return rd_err(r, "no 'ngram N=COUNT' lines after '\\data\\'");
			return 0;
		}
		if (!r->n) {
			if (*order)
				return 0;
			continue;
		}
		if (r->s[0] == '\\' && *order) {
			r->again = 1;
			return 0;
		}
		if (r->n < 6 || memcmp(r->s, "ngram", 5) != 0 ||
		    (r->s[5] != ' ' && r->s[5] != '\t')) {
			char q[64];

			return rd_err(r, "expected 'ngram N=COUNT', found '%s'",
				      lm_quote(q, sizeof(q), r->s, r->n));
		}
		eq = memchr(r->s, '=', r->n);
		if (!eq || lm_digits_trim(r->s + 6, eq, &n) ||
		    lm_digits_trim(eq + 1, r->s + r->n, &c))
			return rd_err(r, "expected 'ngram N=COUNT'");
		if (n != (uint64_t)*order + 1)
			return rd_err(r, "expected the count of %d-grams, found one of %llu-grams",
				      *order + 1, (unsigned long long)n);
		if (n > MAXO)
			return rd_err(r, "order %llu is over the maximum %d", (unsigned long long)n,
				      MAXO);
		if (c > LM_MAX_N || c > len / 2)
			return rd_err(r, "%llu %llu-grams: more than the file can hold",
				      (unsigned long long)c, (unsigned long long)n);
		count[n] = c;
		*order = (int)n;
	}
}

static int lm_read_unigram(struct lm_builder *b, struct lm_reader *r, unsigned char *seen)
{
	struct lm_field f[4];
	int k = rd_fields(r, f, 3), added, rc;
	uint32_t id;
	float prob, bo = 0;
	char q[64];

	if (k < 2 || (k == 3 && b->order == 1) || k < 0)
		return rd_err(r, "a 1-gram line is 'log10prob word%s'",
			      b->order > 1 ? " [backoff]" : "");
	if (lm_number(f[0].s, f[0].n, &prob))
		return rd_err(r, "'%s' is not a log10 probability",
			      lm_quote(q, sizeof(q), f[0].s, f[0].n));
	if (prob > 0)
		return rd_err(r, "positive log10 probability %s",
			      lm_quote(q, sizeof(q), f[0].s, f[0].n));
	if (k == 3 && lm_number(f[2].s, f[2].n, &bo))
		return rd_err(r, "'%s' is not a log10 back-off",
			      lm_quote(q, sizeof(q), f[2].s, f[2].n));
	rc = lm_vocab_add(&b->v, f[1].s, f[1].n, &id, &added);
	if (rc)
		return rc;
	if (!added && (id >= 3 || seen[id]))
		return rd_err(r, "duplicate 1-gram '%s'", lm_quote(q, sizeof(q), f[1].s, f[1].n));
	if (id < 3)
		seen[id] = 1;
	if (lm_unigrams_reserve(b, (size_t)id + 1))
		return err_set(CL_ENOMEM, "out of memory");
	b->uprob[id] = prob;
	b->ubo[id] = bo;
	return 0;
}

static int lm_read_ngram(struct lm_builder *b, struct lm_reader *r, int n)
{
	struct lm_field f[MAXO + 3];
	uint32_t ids[MAXO], q, idx;
	int k = rd_fields(r, f, n + 2), rc;
	float prob, bo = 0;
	char qs[64];

	if (k < 0 || k < n + 1 || (k == n + 2 && n == b->order))
		return rd_err(r, "a %d-gram line is 'log10prob %d words%s'", n, n,
			      n < b->order ? " [backoff]" : "");
	if (lm_number(f[0].s, f[0].n, &prob))
		return rd_err(r, "'%s' is not a log10 probability",
			      lm_quote(qs, sizeof(qs), f[0].s, f[0].n));
	if (prob > 0)
		return rd_err(r, "positive log10 probability %s",
			      lm_quote(qs, sizeof(qs), f[0].s, f[0].n));
	if (k == n + 2 && lm_number(f[n + 1].s, f[n + 1].n, &bo))
		return rd_err(r, "'%s' is not a log10 back-off",
			      lm_quote(qs, sizeof(qs), f[n + 1].s, f[n + 1].n));
	for (int i = 0; i < n; i++) {
		ids[i] = lm_vocab_get(&b->v, f[1 + i].s, f[1 + i].n);
		if (ids[i] == LM_NONE)
			return rd_err(r, "'%s' of a %d-gram is not a 1-gram",
				      lm_quote(qs, sizeof(qs), f[1 + i].s, f[1 + i].n), n);
	}
	q = ids[0];
	for (int m = 2; m < n; m++) {
		q = lm_map_get(&b->o[m].map, q, ids[m - 1]);
		if (q == LM_NONE)
			return rd_err(r, "the context '%s' of this %d-gram is not a %d-gram",
				      lm_quote_words(qs, sizeof(qs), f + 1, n - 1), n, n - 1);
	}
	rc = lm_badd(b, n, q, ids[n - 1], &idx);
	if (rc < 0)
		return rc;
	if (rc == 0)
		return rd_err(r, "duplicate %d-gram '%s'", n,
			      lm_quote_words(qs, sizeof(qs), f + 1, n));
	b->o[n].prob[idx] = prob;
	b->o[n].bo[idx] = bo;
	return 0;
}

static int lm_read(struct lm_builder *b, struct lm_reader *r, size_t len)
{
	uint64_t count[MAXO + 1] = { 0 };
	unsigned char seen[3] = { 0 };
	int order = 0, rc;
	char q[64], want[32];

	for (;;) {
		if (!rd_next(r))
			return rd_err(r, "no '\\data\\' header");
		if (!r->n)
			continue;
		if (rd_is(r, "\\data\\"))
			break;
		return rd_err(r, "expected '\\data\\', found '%s'",
			      lm_quote(q, sizeof(q), r->s, r->n));
	}
	rc = lm_read_counts(r, count, &order, len);
	if (rc)
		return rc;
	b->order = order;
	if (lm_unigrams_reserve(b, count[1] + 4))
		return err_set(CL_ENOMEM, "out of memory");
	for (int n = 1; n <= order; n++) {
		snprintf(want, sizeof(want), "\\%d-grams:", n);
		do {
			if (!rd_next(r))
				return rd_err(r, "end of file before '%s'", want);
		} while (!r->n);
		if (!rd_is(r, want))
			return rd_err(r, "expected '%s', found '%s'", want,
				      lm_quote(q, sizeof(q), r->s, r->n));
		if (n > 1 && (lm_border_reserve(&b->o[n], count[n]) ||
			      lm_map_reserve(&b->o[n].map, count[n])))
			return err_set(CL_ENOMEM, "out of memory");
		for (uint64_t i = 0; i < count[n]; i++) {
			if (!rd_next(r) || !r->n || r->s[0] == '\\') {
				return rd_err(r, "%llu %d-grams where the header says %llu",
					      (unsigned long long)i, n,
					      (unsigned long long)count[n]);
			}
			rc = n == 1 ? lm_read_unigram(b, r, seen) : lm_read_ngram(b, r, n);
			if (rc)
				return rc;
		}
		if (n == 1) {
			if (!seen[STATS_LM_BOS] || !seen[STATS_LM_EOS])
				return rd_err(r, "no '%s' among the 1-grams",
					      seen[STATS_LM_BOS] ? "</s>" : "<s>");
			if (!seen[STATS_LM_UNK]) { /* as KenLM */
				b->uprob[STATS_LM_UNK] = -100.0f;
				b->ubo[STATS_LM_UNK] = 0;
			}
		}
	}
	do {
		if (!rd_next(r))
			return rd_err(r, "no '\\end\\' after the %d-grams", order);
	} while (!r->n);
	if (!rd_is(r, "\\end\\"))
		return rd_err(r, "expected '\\end\\', found '%s'",
			      lm_quote(q, sizeof(q), r->s, r->n));
	while (rd_next(r))
		if (r->n)
			return rd_err(r, "text after '\\end\\'");
	return 0;
}

int stats_lm_read_arpa_buffer(struct stats_lm **out, const char *data, size_t len,
			      const char *name)
{
	struct lm_builder b;
	struct lm_reader r;
	int rc;

	*out = NULL;
	if (memchr(data, '\0', len)) {
		const char *z = memchr(data, '\0', len);
		size_t line = 1;

		for (const char *p = data; p < z; p++)
			line += *p == '\n';
		return err_set(CL_EPARSE, "%s:%zu: NUL byte", name, line);
	}
	rc = lm_builder_init(&b, 1);
	if (rc)
		goto out;
	memset(&r, 0, sizeof(r));
	r.p = data;
	r.end = data + len;
	r.name = name;
	rc = lm_read(&b, &r, len);
	if (!rc)
		rc = lm_finish(&b, out);
out:
	lm_builder_release(&b);
	return rc;
}

int stats_lm_read_arpa(struct stats_lm **out, const char *path)
{
	struct buf data;
	int rc;

	*out = NULL;
	buf_init(&data, (size_t)1 << 34);
	rc = file_read(path, &data);
	if (!rc)
		rc = stats_lm_read_arpa_buffer(out, data.data ? data.data : "", data.len, path);
	buf_release(&data);
	return rc;
}

/* ---- writing ARPA ------------------------------------------------------ */

/* The shortest decimal that reads back as v (KenLM prints floats so). */
static void lm_fmt(char *out, size_t size, float v)
{
	if (v == 0.0f) {
		snprintf(out, size, "0");
		return;
	}
	for (int p = 6; p <= 9; p++) {
		snprintf(out, size, "%.*g", p, (double)v);
		if (strtof(out, NULL) == v)
			return;
	}
}

struct write_ctx {
	FILE *f;
	int order;
};

static int write_ngram(const char *const *words, int n, float prob, float backoff, void *arg)
{
	struct write_ctx *c = arg;
	char num[32];

	lm_fmt(num, sizeof(num), prob);
	fputs(num, c->f);
	for (int i = 0; i < n; i++) {
		fputc(i ? ' ' : '\t', c->f);
		fputs(words[i], c->f);
	}
	if (n < c->order) {
		lm_fmt(num, sizeof(num), backoff);
		fputc('\t', c->f);
		fputs(num, c->f);
	}
	fputc('\n', c->f);
	return 0;
}

int stats_lm_write_arpa(const struct stats_lm *lm, FILE *f)
{
	struct write_ctx c = { f, lm->order };

	fputs("\\data\\\n", f);
	for (int n = 1; n <= lm->order; n++)
		fprintf(f, "ngram %d=%llu\n", n, (unsigned long long)lm->h->count[n - 1]);
	for (int n = 1; n <= lm->order; n++) {
		fprintf(f, "\n\\%d-grams:\n", n);
		stats_lm_foreach(lm, n, write_ngram, &c);
	}
	fputs("\n\\end\\\n", f);
	if (fflush(f) != 0 || ferror(f))
		return err_set(CL_EIO, "cannot write the ARPA model: %s", strerror(errno));
	return 0;
}

/* ---- training ---------------------------------------------------------- */

struct stats_lm_trainer {
	struct lm_builder b;
	uint32_t *ids; /* the corpus: each sentence's words, then </s> */
	size_t n, cap;
	int open; /* a sentence has words and no </s> yet */
	int rc;
	int done;
	char msg[160];
};

static void tr_fail(struct stats_lm_trainer *t, int rc, const char *msg)
{
	if (t->rc)
		return;
	t->rc = rc;
	snprintf(t->msg, sizeof(t->msg), "%s", msg);
}

static void tr_push(struct stats_lm_trainer *t, uint32_t id)
{
	if (t->n >= LM_MAX_TOKENS) {
		tr_fail(t, CL_ETOOBIG, "too many tokens to train on");
		return;
	}
	if (lm_grow((void **)&t->ids, &t->cap, t->n + 1, sizeof(uint32_t))) {
		tr_fail(t, CL_ENOMEM, "out of memory");
		return;
	}
	t->ids[t->n++] = id;
}

int stats_lm_trainer_new(struct stats_lm_trainer **out, int order)
{
	struct stats_lm_trainer *t;
	int rc;

	*out = NULL;
	if (order < 2 || order > 5)
		return err_set(CL_EINVAL, "order %d: a model is trained with order 2 to 5", order);
	t = calloc(1, sizeof(*t));
	if (!t)
		return err_set(CL_ENOMEM, "out of memory");
	rc = lm_builder_init(&t->b, order);
	if (rc) {
		lm_builder_release(&t->b);
		free(t);
		return rc;
	}
	*out = t;
	return 0;
}

void stats_lm_trainer_token(const char *tok, size_t n, void *trainer)
{
	struct stats_lm_trainer *t = trainer;
	uint32_t id;
	int added;

	if (t->rc)
		return;
	if (!tok) {
		tr_push(t, STATS_LM_EOS);
		t->open = 0;
		return;
	}
	if (!n)
		return;
	if (lm_vocab_add(&t->b.v, tok, n, &id, &added)) {
		tr_fail(t, CL_ENOMEM, "out of memory");
		return;
	}
	if (id < 3) {
		char msg[96], q[64];

		snprintf(msg, sizeof(msg), "token '%s' is reserved",
			 lm_quote(q, sizeof(q), tok, n));
		tr_fail(t, CL_EINVAL, msg);
		return;
	}
	tr_push(t, id);
	t->open = 1;
}

/* lmplz's token delimiters */
static int tr_delim(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\0';
}

int stats_lm_trainer_add_lines(struct stats_lm_trainer *t, const char *text, size_t len)
{
	size_t i = 0;

	while (i < len && !t->rc) {
		const char *nl = memchr(text + i, '\n', len - i);
		size_t end = nl ? (size_t)(nl - text) : len;

		while (i < end) {
			size_t j;

			while (i < end && tr_delim(text[i]))
				i++;
			j = i;
			while (j < end && !tr_delim(text[j]))
				j++;
			if (j > i)
				stats_lm_trainer_token(text + i, j - i, t);
			i = j;
		}
		stats_lm_trainer_token(NULL, 0, t);
		i = end + 1;
	}
	if (t->rc)
		return err_set(t->rc, "%s", t->msg);
	return 0;
}

void stats_lm_trainer_free(struct stats_lm_trainer *t)
{
	if (!t)
		return;
	lm_builder_release(&t->b);
	free(t->ids);
	free(t);
}

/* KenLM's discounts (adjust_counts.cc), in its float arithmetic; -1 when
 * the counts cannot give them */
static int lm_discounts(const uint64_t nn[5], float d[4])
{
	float y;

	d[0] = 0.0f;
	for (int j = 1; j < 4; j++)
		if (!nn[j])
			return -1;
	y = (float)nn[1] / (float)((double)nn[1] + 2.0 * (double)nn[2]);
	for (int j = 1; j < 4; j++) {
		d[j] = (float)j - (float)(j + 1) * y * (float)nn[j + 1] / (float)nn[j];
		if (d[j] < 0.0f || d[j] > (float)j)
			return -1;
	}
	return 0;
}

static inline float lm_log10(float p)
{
	float l = log10f(p);

	return l < 0.0f ? l : 0.0f; /* std::min(0.0f, l) */
}

/* Per-order arrays of the estimate; index n is order n. */
struct lm_est {
	uint32_t *cnt[MAXO + 1]; /* raw counts (n >= 2) */
	size_t ccap[MAXO + 1];
	uint32_t *suf[MAXO + 1];  /* index of the last n-1 words in order n-1 */
	unsigned char *bos[MAXO + 1]; /* starts with <s> */
	uint32_t *adj[MAXO + 1];  /* adjusted counts */
	uint64_t *den[MAXO + 1];  /* per context of order n: sum of adjusted counts */
	float *gam[MAXO + 1];     /* per context: interpolation weight */
	float *lp[MAXO + 1];      /* interpolated probability */
	float d[MAXO + 1][4];
};

static void lm_est_release(struct lm_est *e)
{
	for (int n = 0; n <= MAXO; n++) {
		free(e->cnt[n]);
		free(e->suf[n]);
		free(e->bos[n]);
		free(e->adj[n]);
		free(e->den[n]);
		free(e->gam[n]);
		free(e->lp[n]);
	}
}

static int tr_count(struct stats_lm_trainer *t, struct lm_est *e)
{
	struct lm_builder *b = &t->b;
	int N = b->order;
	size_t a = 0;

	while (a < t->n) {
		size_t z = a, len;

		while (t->ids[z] != STATS_LM_EOS)
			z++;
		len = z - a + 2; /* <s> words </s> */
		for (size_t j = 0; j < len; j++) {
			uint32_t q = j ? t->ids[a + j - 1] : STATS_LM_BOS;

			for (int n = 2; n <= N && j + (size_t)n - 1 < len; n++) {
				int rc = lm_badd(b, n, q, t->ids[a + j + (size_t)n - 2], &q);

				if (rc < 0)
					return rc;
				if (q >= e->ccap[n]) {
					size_t old = e->ccap[n];

					if (lm_grow((void **)&e->cnt[n], &e->ccap[n], (size_t)q + 1,
						    sizeof(uint32_t)))
						return err_set(CL_ENOMEM, "out of memory");
					memset(e->cnt[n] + old, 0,
					       (e->ccap[n] - old) * sizeof(uint32_t));
				}
				e->cnt[n][q]++;
			}
		}
		a = z + 1;
	}
	return 0;
}

static int tr_estimate(struct stats_lm_trainer *t)
{
	struct lm_builder *b = &t->b;
	struct lm_est e;
	int N = b->order, rc;
	uint32_t V = b->v.n;
	float uniform;

	memset(&e, 0, sizeof(e));
	rc = tr_count(t, &e);
	if (rc)
		goto out;
	if (lm_unigrams_reserve(b, V)) {
		rc = err_set(CL_ENOMEM, "out of memory");
		goto out;
	}
	/* suffixes and <s> marks */
	for (int n = 2; n <= N; n++) {
		size_t cnt = b->o[n].n;

		e.suf[n] = malloc((cnt + 1) * sizeof(uint32_t));
		e.bos[n] = malloc(cnt + 1);
		if (!e.suf[n] || !e.bos[n]) {
			rc = err_set(CL_ENOMEM, "out of memory");
			goto out;
		}
		for (size_t i = 0; i < cnt; i++) {
			struct lm_rec r = b->o[n].rec[i];

			e.bos[n][i] = n == 2 ? r.prefix == STATS_LM_BOS : e.bos[n - 1][r.prefix];
			e.suf[n][i] = n == 2 ? r.word
					     : lm_map_get(&b->o[n - 1].map, e.suf[n - 1][r.prefix],
							  r.word);
			if (e.suf[n][i] == LM_NONE) { /* every suffix was counted */
				rc = err_set(CL_EINVAL, "a %d-gram without its suffix", n);
				goto out;
			}
		}
	}
	/* adjusted counts */
	for (int n = 1; n <= N; n++) {
		size_t cnt = n == 1 ? V : b->o[n].n;

		e.adj[n] = calloc(cnt + 1, sizeof(uint32_t));
		if (!e.adj[n]) {
			rc = err_set(CL_ENOMEM, "out of memory");
			goto out;
		}
		if (n == N) {
			if (cnt)
				memcpy(e.adj[n], e.cnt[n], cnt * sizeof(uint32_t));
			continue;
		}
		for (size_t i = 0; n > 1 && i < cnt; i++)
			if (e.bos[n][i])
				e.adj[n][i] = e.cnt[n][i];
		for (size_t i = 0; i < b->o[n + 1].n; i++) {
			uint32_t g = e.suf[n + 1][i];

			if (n == 1 || !e.bos[n][g])
				e.adj[n][g]++;
		}
	}
	e.adj[1][STATS_LM_UNK] = 0;
	e.adj[1][STATS_LM_BOS] = 0;
	/* discounts */
	for (int n = 1; n <= N; n++) {
		size_t cnt = n == 1 ? V : b->o[n].n;
		uint64_t nn[5] = { 0 };

		for (size_t i = 0; i < cnt; i++)
			if (e.adj[n][i] < 5)
				nn[e.adj[n][i]]++;
		if (lm_discounts(nn, e.d[n])) {
			e.d[n][0] = 0.0f;
			e.d[n][1] = 0.5f;
			e.d[n][2] = 1.0f;
			e.d[n][3] = 1.5f;
			b->fallback |= 1u << (n - 1);
			log_debug("stats: %d-gram discounts from n1..n4 = %llu %llu %llu %llu are "
				  "out of range: using 0.5 1 1.5", n, (unsigned long long)nn[1],
				  (unsigned long long)nn[2], (unsigned long long)nn[3],
				  (unsigned long long)nn[4]);
		}
		memcpy(b->discount[n - 1], &e.d[n][1], 3 * sizeof(float));
	}
	/* gamma per context */
	for (int n = 1; n <= N; n++) {
		size_t cnt = n == 1 ? V : b->o[n].n;
		size_t nctx = n == 1 ? 1 : n == 2 ? V : b->o[n - 1].n;
		uint32_t *c3 = calloc(3 * nctx + 3, sizeof(uint32_t));

		e.den[n] = calloc(nctx + 1, sizeof(uint64_t));
		e.gam[n] = calloc(nctx + 1, sizeof(float));
		if (!c3 || !e.den[n] || !e.gam[n]) {
			free(c3);
			rc = err_set(CL_ENOMEM, "out of memory");
			goto out;
		}
		for (size_t i = 0; i < cnt; i++) {
			uint32_t ctx = n == 1 ? 0 : b->o[n].rec[i].prefix, a = e.adj[n][i];

			e.den[n][ctx] += a;
			if (a)
				c3[3 * (size_t)ctx + (a < 3 ? a : 3) - 1]++;
		}
		for (size_t c = 0; c < nctx; c++) {
			float g = 0.0f;

			if (!e.den[n][c])
				continue;
			for (int k = 1; k <= 3; k++)
				g += e.d[n][k] * (float)c3[3 * c + (size_t)k - 1];
			g /= (float)e.den[n][c];
			e.gam[n][c] = g;
		}
		free(c3);
	}
	/* interpolated probabilities */
	uniform = (float)(1.0 / (double)(float)(V - 1));
	for (int n = 1; n <= N; n++) {
		size_t cnt = n == 1 ? V : b->o[n].n;

		e.lp[n] = malloc((cnt + 1) * sizeof(float));
		if (!e.lp[n]) {
			rc = err_set(CL_ENOMEM, "out of memory");
			goto out;
		}
		for (size_t i = 0; i < cnt; i++) {
			uint32_t a = e.adj[n][i], ctx = n == 1 ? 0 : b->o[n].rec[i].prefix;
			float lower = n == 1 ? uniform : e.lp[n - 1][e.suf[n][i]];
			float un = ((float)a - e.d[n][a < 3 ? a : 3]) / (float)e.den[n][ctx];
			float gam = e.gam[n][ctx];

			if (n == 1 && i == STATS_LM_UNK) {
				un = 0.0f;
			} else if (n == 1 && i == STATS_LM_BOS) {
				un = 1.0f;
				gam = 0.0f;
			}
			e.lp[n][i] = un + gam * lower;
		}
	}
	/* log10, back-offs */
	for (int n = 1; n <= N; n++) {
		size_t cnt = n == 1 ? V : b->o[n].n;
		float *prob = n == 1 ? b->uprob : b->o[n].prob;
		float *bo = n == 1 ? b->ubo : b->o[n].bo;

		for (size_t i = 0; i < cnt; i++) {
			uint32_t last = n == 1 ? (uint32_t)i : b->o[n].rec[i].word;

			prob[i] = lm_log10(e.lp[n][i]);
			bo[i] = 0.0f;
			if (n < N && last != STATS_LM_UNK && last != STATS_LM_EOS && e.den[n + 1][i])
				bo[i] = log10f(e.gam[n + 1][i]);
		}
	}
out:
	lm_est_release(&e);
	return rc;
}

int stats_lm_trainer_finish(struct stats_lm_trainer *t, struct stats_lm **out)
{
	int rc;

	*out = NULL;
	if (t->done)
		return err_set(CL_EINVAL, "the trainer has finished already");
	t->done = 1;
	if (t->open)
		tr_push(t, STATS_LM_EOS);
	if (t->rc)
		return err_set(t->rc, "%s", t->msg);
	if (!t->n)
		return err_set(CL_EINVAL, "no sentences to train on");
	rc = tr_estimate(t);
	if (rc)
		return rc;
	return lm_finish(&t->b, out);
}

int stats_lm_train(struct stats_lm **out, int order, const char *text, size_t len)
{
	struct stats_lm_trainer *t;
	int rc;

	*out = NULL;
	rc = stats_lm_trainer_new(&t, order);
	if (rc)
		return rc;
	rc = stats_lm_trainer_add_lines(t, text, len);
	if (!rc)
		rc = stats_lm_trainer_finish(t, out);
	stats_lm_trainer_free(t);
	return rc;
}

/* ---- saving and loading ------------------------------------------------ */

int stats_lm_save(const struct stats_lm *lm, struct buf *out)
{
	int rc = buf_add(out, lm->block, (size_t)lm->h->total);

	if (rc)
		return err_set(rc, "cannot save a model of %llu bytes",
			       (unsigned long long)lm->h->total);
	return 0;
}

/* every index in range, every table with an empty slot */
static int lm_check(const struct stats_lm *lm)
{
	const struct lm_header *h = lm->h;
	int empty;

	if (lm->off[0] != 0 || lm->off[h->vocab] != h->strings)
		return -1;
	for (uint32_t i = 0; i < h->vocab; i++)
		if (lm->off[i + 1] <= lm->off[i] || lm->off[i + 1] > h->strings ||
		    lm->str[lm->off[i + 1] - 1] != '\0')
			return -1;
	empty = 0;
	for (size_t i = 0; i <= lm->vmask; i++) {
		if (lm->vslot[i].id1 > h->vocab)
			return -1;
		empty |= !lm->vslot[i].id1;
	}
	if (!empty)
		return -1;
	for (uint32_t n = 2; n <= h->order; n++) {
		uint64_t below = n == 2 ? h->vocab : h->records[n - 2];

		for (uint64_t i = 0; i < h->records[n - 1]; i++)
			if (lm->rec[n - 1][i].prefix >= below || lm->rec[n - 1][i].word >= h->vocab)
				return -1;
		empty = 0;
		for (size_t i = 0; i < lm->tab[n - 1].size && !empty; i++)
			empty = !lm->tab[n - 1].slot[i].key;
		if (!empty)
			return -1;
	}
	return 0;
}

int stats_lm_load(struct stats_lm **out, const void *data, size_t len)
{
	struct lm_header h;
	struct lm_layout l;
	struct stats_lm *lm;
	unsigned char *block;

	*out = NULL;
	if (len < sizeof(h))
		return err_set(CL_EPARSE, "a saved model is %zu bytes: too short", len);
	memcpy(&h, data, sizeof(h));
	if (memcmp(h.magic, LM_MAGIC, sizeof(h.magic)) != 0)
		return err_set(CL_EPARSE, "not a saved model (or of another version)");
	if (h.endian != LM_ENDIAN)
		return err_set(CL_EPARSE, "a saved model of another byte order");
	if (lm_layout(&h, &l) || l.total != h.total || h.total != len)
		return err_set(CL_EPARSE, "a saved model with inconsistent sizes");
	lm = calloc(1, sizeof(*lm));
	block = aligned_alloc(LM_ALIGN, (size_t)l.total);
	if (!lm || !block) {
		free(lm);
		free(block);
		return err_set(CL_ENOMEM, "out of memory for a model of %zu bytes", len);
	}
	memcpy(block, data, len);
	lm_bind(lm, block);
	if (lm_check(lm)) {
		stats_lm_free(lm);
		return err_set(CL_EPARSE, "a saved model with an index out of range");
	}
	*out = lm;
	return 0;
}
