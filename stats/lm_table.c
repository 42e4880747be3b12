/*
 * lm_table.c - the model's block: its layout, the n-gram tables, the words,
 * looking n-grams up, saving and loading.
 */
#include "lm_int.h"

const char *const lm_special[3] = { "<unk>", "<s>", "</s>" };

/* ---- the block -------------------------------------------------------- */

static uint64_t lm_align(uint64_t x)
{
	return (x + LM_ALIGN - 1) & ~(uint64_t)(LM_ALIGN - 1);
}

/* Where the arrays of a block with header h go; -1 when a size is out of
 * bounds (so a saved block can be checked before it is trusted). */
int lm_layout(const struct lm_header *h, struct lm_layout *l)
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

void lm_bind(struct stats_lm *lm, unsigned char *block)
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

/* 0, or -1 when an entry with that hash is there already */
int lm_insert(struct lm_table *t, uint64_t key, float prob, float backoff)
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

uint32_t lm_vfind(const struct lm_vslot *slot, size_t mask, const uint32_t *off,
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

/* ---- looking n-grams up ------------------------------------------------ */

/* The word ids of record i of order n, first word first. */
void lm_rec_words(struct lm_rec *const *rec, int n, uint32_t i, uint32_t *ids)
{
	for (int m = n; m >= 2; m--) {
		ids[m - 1] = rec[m - 1][i].word;
		i = rec[m - 1][i].prefix;
	}
	ids[0] = i;
}

uint64_t lm_ids_hash(const uint32_t *ids, int n)
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
