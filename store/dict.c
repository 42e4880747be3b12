/*
 * dict.c - training the store's zstd dictionary from its own results.
 *
 * The samples are the decoded JSON of up to STORE_DICT_SAMPLES results,
 * taken at an even stride over the whole database, so that every category
 * and template that is there is seen; each is cut to its first 64 KiB, and
 * all of them to 16 MiB.
 * zstd's trainer (ZDICT_trainFromBuffer) does the rest.
 */
#include <stdlib.h>
#include <string.h>
#include <zdict.h>

#include "store.h"

#define SAMPLE_MAX ((size_t)64 << 10)
#define SAMPLES_MAX ((size_t)16 << 20) /* all of them: enough to train on */

struct samples {
	struct buf text;    /* the samples, end to end */
	size_t *sizes;
	unsigned n;
};

static int sample(struct store *s, MDB_txn *txn, struct samples *sm)
{
	MDB_cursor *cur;
	MDB_val k, v;
	uint64_t count, step, i = 0;
	int mrc, rc;

	rc = store_count(s, txn, STORE_RESULTS, &count);
	if (rc)
		return rc;
	step = count / STORE_DICT_SAMPLES + 1;
	sm->sizes = calloc(STORE_DICT_SAMPLES, sizeof(*sm->sizes));
	if (!sm->sizes)
		return CL_ENOMEM;
	mrc = mdb_cursor_open(txn, s->dbi[STORE_RESULTS], &cur);
	if (mrc)
		return err_set(CL_ESTORE, "store '%s': cannot read results: %s", s->path,
			       mdb_strerror(mrc));
	for (mrc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); mrc == 0 && sm->n < STORE_DICT_SAMPLES;
	     mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		const char *text;
		size_t n;

		if (i++ % step != 0)
			continue;
		/* one unreadable record is not a reason to go without */
		if (store_decompress(s, v.mv_data, v.mv_size, &text, &n) != 0)
			continue;
		if (n > SAMPLE_MAX)
			n = SAMPLE_MAX;
		rc = buf_add(&sm->text, text, n);
		if (rc) {
			if (rc == CL_ETOOBIG)
				rc = 0; /* as many as fit */
			break;
		}
		sm->sizes[sm->n++] = n;
	}
	mdb_cursor_close(cur);
	return rc;
}

static int put_dict(struct store *s, MDB_txn *txn, void *arg)
{
	const struct buf *d = arg;

	return store_put_raw(s, txn, STORE_META, STORE_META_DICT, d->data, d->len);
}

int store_dict_create(struct store *s)
{
	struct samples sm = { .n = 0 };
	struct buf dict;
	MDB_txn *txn;
	size_t len;
	int rc;

	if (store_dict_id(s))
		return 0;
	if (!(s->flags & STORE_WRITER))
		return err_set(CL_EINVAL, "store '%s' is open read-only", s->path);
	buf_init(&sm.text, SAMPLES_MAX);
	buf_init(&dict, STORE_DICT_BYTES);
	rc = store_read_begin(s, &txn);
	if (rc)
		goto out;
	rc = sample(s, txn, &sm);
	store_read_end(txn);
	if (!rc)
		rc = buf_reserve(&dict, STORE_DICT_BYTES);
	if (rc)
		goto out;
	len = ZDICT_trainFromBuffer(dict.data, STORE_DICT_BYTES, sm.text.data, sm.sizes, sm.n);
	if (ZDICT_isError(len)) {
		rc = err_set(CL_EINVAL, "store '%s': cannot train a zstd dictionary on %u results: %s",
			     s->path, sm.n, ZDICT_getErrorName(len));
		goto out;
	}
	dict.len = len;
	rc = store_write(s, put_dict, &dict);
	if (!rc)
		rc = store_dict_use(s, dict.data, dict.len);
	if (!rc)
		log_info("store '%s': zstd dictionary %u of %zu bytes, trained on %u results",
			 s->path, store_dict_id(s), len, sm.n);
out:
	buf_release(&dict);
	buf_release(&sm.text);
	free(sm.sizes);
	return rc;
}
