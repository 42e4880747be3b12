/*
 * dedup.c - the near-duplicate check: the LSH index in the store and in
 * the batch not yet committed (see dedup.h).
 */
#include <stdlib.h>
#include <string.h>

#include "dedup.h"

void dedup_init(struct dedup *dd)
{
	memset(dd, 0, sizeof(*dd));
	dd->pending = json_object();
}

void dedup_release(struct dedup *dd)
{
	json_decref(dd->pending);
	free(dd->ent);
	memset(dd, 0, sizeof(*dd));
}

static void band_key(char *out, size_t n, const struct minhash *mh, int b)
{
	snprintf(out, n, "b%02d:%016llx", b, (unsigned long long)minhash_band(mh, b));
}

/* The signature of an indexed record: from the batch, else the store. */
static int signature_of(struct dedup *dd, struct store *s, MDB_txn *txn, const char *key,
			struct dedup_sig *out)
{
	char skey[STORE_KEY_MAX + 8];
	const void *data;
	size_t len;
	int rc;

	for (size_t i = dd->n; i-- > 0;) {
		if (!strcmp(dd->ent[i].key, key)) {
			*out = dd->ent[i].sig;
			return 0;
		}
	}
	snprintf(skey, sizeof(skey), "s:%s", key);
	rc = store_get_raw(s, txn, STORE_LSH, skey, &data, &len);
	if (rc)
		return rc;
	if (len != 2 * sizeof(out->full.v) + 1)
		return CL_ENOTFOUND; /* not a signature of this build's size */
	memcpy(out->full.v, data, sizeof(out->full.v));
	memcpy(out->change.v, (const char *)data + sizeof(out->full.v), sizeof(out->change.v));
	out->full.shingles = 1;
	out->change.shingles = ((const unsigned char *)data)[len - 1];
	return 0;
}

/* A change without shingles is the original itself: like only another. */
static double change_similarity(const struct minhash *a, const struct minhash *b)
{
	if (!a->shingles || !b->shingles)
		return !a->shingles && !b->shingles;
	return minhash_similarity(a, b);
}

int dedup_find(struct dedup *dd, struct store *s, const char *key, const struct dedup_sig *sig,
	       char *like, double *full, double *change)
{
	const struct minhash *mh = &sig->full;
	double best = -1;
	char seen[MINHASH_BANDS][STORE_KEY_MAX];
	size_t nseen = 0;
	MDB_txn *txn;
	int rc, found = 0;

	*full = *change = 0;
	like[0] = '\0';
	rc = store_read_begin(s, &txn);
	if (rc)
		return rc;
	for (int b = 0; b < MINHASH_BANDS; b++) {
		char bk[32], cand[STORE_KEY_MAX];
		const json_t *at;
		struct dedup_sig other;
		const void *data;
		size_t len, k;
		double jf, jc;

		band_key(bk, sizeof(bk), mh, b);
		at = json_object_get(dd->pending, bk);
		if (at) {
			snprintf(cand, sizeof(cand), "%s", dd->ent[json_integer_value(at)].key);
		} else {
			rc = store_get_raw(s, txn, STORE_LSH, bk, &data, &len);
			if (rc == CL_ENOTFOUND) {
				rc = 0;
				continue;
			}
			if (rc)
				break;
			if (len >= sizeof(cand))
				continue;
			memcpy(cand, data, len);
			cand[len] = '\0';
		}
		if (!strcmp(cand, key))
			continue;
		for (k = 0; k < nseen && strcmp(seen[k], cand); k++)
			;
		if (k < nseen)
			continue;
		memcpy(seen[nseen++], cand, sizeof(cand));
		rc = signature_of(dd, s, txn, cand, &other);
		if (rc == CL_ENOTFOUND) {
			rc = 0;
			continue;
		}
		if (rc)
			break;
		jf = minhash_similarity(mh, &other.full);
		jc = change_similarity(&sig->change, &other.change);
		if ((jf < jc ? jf : jc) > best) {
			best = jf < jc ? jf : jc;
			*full = jf;
			*change = jc;
			snprintf(like, STORE_KEY_MAX, "%s", cand);
			found = 1;
		}
	}
	store_read_end(txn);
	err_clear();
	return rc ? rc : found;
}

int dedup_add(struct dedup *dd, struct store *s, const char *key, const struct dedup_sig *sig,
	      int (*put)(void *arg, const char *key, void *data, size_t len), void *arg)
{
	const struct minhash *mh = &sig->full;
	unsigned char *p;
	char skey[STORE_KEY_MAX + 8];
	size_t idx = dd->n;
	MDB_txn *txn;
	int rc;

	if (dd->n == dd->cap) {
		size_t cap = dd->cap ? dd->cap * 2 : 64;
		struct dedup_entry *e = realloc(dd->ent, cap * sizeof(*e));

		if (!e)
			return CL_ENOMEM;
		dd->ent = e;
		dd->cap = cap;
	}
	snprintf(dd->ent[idx].key, sizeof(dd->ent[idx].key), "%s", key);
	dd->ent[idx].sig = *sig;
	dd->n++;
	rc = store_read_begin(s, &txn);
	if (rc)
		return rc;
	for (int b = 0; !rc && b < MINHASH_BANDS; b++) {
		char bk[32];
		const void *data;
		size_t len = strlen(key);
		char *v;

		band_key(bk, sizeof(bk), mh, b);
		/* the first record of a band keeps it */
		if (json_object_get(dd->pending, bk) ||
		    store_get_raw(s, txn, STORE_LSH, bk, &data, &len) == 0)
			continue;
		len = strlen(key);
		v = malloc(len);
		if (!v) {
			rc = CL_ENOMEM;
			break;
		}
		memcpy(v, key, len);
		rc = put(arg, bk, v, len);
		if (!rc)
			rc = json_object_set_new(dd->pending, bk, json_integer((json_int_t)idx)) ?
			     CL_ENOMEM : 0;
	}
	store_read_end(txn);
	err_clear();
	if (rc)
		return rc;
	/* the signatures, then whether the change has shingles */
	p = malloc(2 * sizeof(mh->v) + 1);
	if (!p)
		return CL_ENOMEM;
	memcpy(p, sig->full.v, sizeof(mh->v));
	memcpy(p + sizeof(mh->v), sig->change.v, sizeof(mh->v));
	p[2 * sizeof(mh->v)] = sig->change.shingles > 0;
	snprintf(skey, sizeof(skey), "s:%s", key);
	return put(arg, skey, p, 2 * sizeof(mh->v) + 1);
}

void dedup_committed(struct dedup *dd)
{
	json_object_clear(dd->pending);
	dd->n = 0;
}

int dedup_mark(struct store *s, void **data, size_t *len, const char *action, int rejected,
	       const char *detail)
{
	json_t *res = NULL;
	const void *out;
	size_t n;
	void *copy;
	int rc;

	if (store_decode(s, *data, *len, &res))
		return 0; /* cannot happen, it was just encoded: left as it is */
	json_array_append_new(json_object_get(res, "verdicts"),
			      json_pack("{s:s, s:s, s:s, s:s}", "rule", "near-duplicate", "action",
					action, "field", "modified", "detail", detail));
	if (rejected)
		json_object_set_new(res, "accepted", json_false());
	rc = store_encode(s, res, &out, &n);
	json_decref(res);
	if (rc)
		return rc == CL_ENOMEM ? rc : 0;
	copy = malloc(n);
	if (!copy)
		return CL_ENOMEM;
	memcpy(copy, out, n);
	free(*data);
	*data = copy;
	*len = n;
	return 0;
}
