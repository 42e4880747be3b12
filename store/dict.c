/*
 * dict.c - training the store's zstd dictionaries from its own records.
 *
 * The samples are the decoded JSON of up to STORE_DICT_SAMPLES records of
 * one database, taken at an even stride over all of it, so that every
 * category and template that is there is seen; each is cut to its first
 * 64 KiB, and all of them to 16 MiB.
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

static int sample(struct store *s, MDB_txn *txn, enum store_db db, struct samples *sm)
{
	MDB_cursor *cur;
	MDB_val k, v;
	uint64_t count, step, i = 0;
	int mrc, rc;

	rc = store_count(s, txn, db, &count);
	if (rc)
		return rc;
	step = count / STORE_DICT_SAMPLES + 1;
	sm->sizes = calloc(STORE_DICT_SAMPLES, sizeof(*sm->sizes));
	if (!sm->sizes)
		return CL_ENOMEM;
	mrc = mdb_cursor_open(txn, s->dbi[db], &cur);
	if (mrc)
		return err_set(CL_ESTORE, "store '%s': cannot read %s: %s", s->path,
			       store_db_name(db), mdb_strerror(mrc));
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

struct put_dict {
	const char *key;
	const struct buf *dict;
};

/* The dictionary into meta, and the schema to the version that has them. */
static int put_dict(struct store *s, MDB_txn *txn, void *arg)
{
	const struct put_dict *p = arg;
	json_t *schema = NULL;
	int rc;

	rc = store_put_raw(s, txn, STORE_META, p->key, p->dict->data, p->dict->len);
	if (!rc)
		rc = store_get(s, txn, STORE_META, "schema", &schema);
	if (!rc && jsonx_int(schema, "version", 0) < STORE_SCHEMA_VERSION) {
		json_object_set_new(schema, "version", json_integer(STORE_SCHEMA_VERSION));
		rc = store_put(s, txn, STORE_META, "schema", schema);
	}
	json_decref(schema);
	return rc;
}

int store_dict_create(struct store *s, enum store_db db)
{
	struct put_dict put;
	struct samples sm = { .n = 0 };
	struct buf dict;
	MDB_txn *txn;
	size_t len;
	int rc;

	if (store_dict_id(s, db))
		return 0;
	if (!(s->flags & STORE_WRITER))
		return err_set(CL_EINVAL, "store '%s' is open read-only", s->path);
	buf_init(&sm.text, SAMPLES_MAX);
	buf_init(&dict, STORE_DICT_BYTES);
	rc = store_read_begin(s, &txn);
	if (rc)
		goto out;
	rc = sample(s, txn, db, &sm);
	store_read_end(txn);
	if (!rc)
		rc = buf_reserve(&dict, STORE_DICT_BYTES);
	if (rc)
		goto out;
	len = ZDICT_trainFromBuffer(dict.data, STORE_DICT_BYTES, sm.text.data, sm.sizes, sm.n);
	if (ZDICT_isError(len)) {
		rc = err_set(CL_EINVAL, "store '%s': cannot train a zstd dictionary on %u %s: %s",
			     s->path, sm.n, store_db_name(db), ZDICT_getErrorName(len));
		goto out;
	}
	dict.len = len;
	put.key = store_dict_key(db);
	put.dict = &dict;
	rc = store_write(s, put_dict, &put);
	if (!rc)
		rc = store_dict_use(s, db, dict.data, dict.len);
	if (!rc)
		log_info("store '%s': zstd dictionary '%s' (%u) of %zu bytes, trained on %u %s",
			 s->path, put.key, store_dict_id(s, db), len, sm.n, store_db_name(db));
out:
	buf_release(&dict);
	buf_release(&sm.text);
	free(sm.sizes);
	return rc;
}

int store_dict_when(struct store *s, enum store_db db, uint64_t after, int *tried)
{
	MDB_txn *txn;
	uint64_t n = 0;
	int rc;

	if (*tried || !after || store_dict_id(s, db))
		return 0;
	rc = store_read_begin(s, &txn);
	if (!rc)
		rc = store_count(s, txn, db, &n);
	store_read_end(txn);
	if (rc || n < after || store_dict_id(s, db))
		return rc;
	*tried = 1;
	return store_dict_create(s, db);
}
