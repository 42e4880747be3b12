/*
 * lm_build.c - building a model's block from its n-grams: the vocabulary, the
 * n-gram maps, hidden suffixes and extension marks, the packing.
 */
#include "lm_int.h"

/* ---- building --------------------------------------------------------- */

int lm_grow(void **p, size_t *cap, size_t need, size_t size)
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
int lm_vocab_add(struct lm_vocab *v, const char *w, size_t n, uint32_t *id, int *added)
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

uint32_t lm_vocab_get(const struct lm_vocab *v, const char *w, size_t n)
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

uint32_t lm_map_get(const struct lm_map *m, uint32_t prefix, uint32_t word)
{
	size_t i;

	if (!m->val)
		return LM_NONE;
	i = lm_map_pos(m, lm_mkey(prefix, word));
	return m->val[i] ? m->val[i] - 1 : LM_NONE;
}

int lm_map_reserve(struct lm_map *m, size_t n)
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

int lm_border_reserve(struct lm_border *o, size_t n)
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
int lm_badd(struct lm_builder *b, int n, uint32_t prefix, uint32_t word, uint32_t *idx)
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

int lm_unigrams_reserve(struct lm_builder *b, size_t n)
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

void lm_builder_release(struct lm_builder *b)
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
int lm_builder_init(struct lm_builder *b, int order)
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
int lm_finish(struct lm_builder *b, struct stats_lm **out)
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
