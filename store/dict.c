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
#include <zstd.h>

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

	if (!store_dict_key(db))
		return err_set(CL_EINVAL, "meta has no zstd dictionary");
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

/* ---- rewriting the records from before the dictionary ------------------------ */

struct recompress {
	enum store_db db;
	unsigned want;              /* the dictionary the frames should name */
	size_t batch;
	char after[STORE_KEY_MAX * 4]; /* the last key looked at ("" at first) */
	size_t alen;
	/* this transaction's: */
	char next[STORE_KEY_MAX * 4];
	size_t nlen;
	int end;                    /* the walk reached the last record */
	struct store_recompress c;
};

static int recompress_fn(struct store *s, MDB_txn *txn, void *arg)
{
	struct recompress *r = arg;
	MDB_cursor *cur;
	MDB_val k = { r->alen, r->after }, v;
	json_t *todo = json_object();
	const char *key;
	json_t *val;
	size_t n = 0;
	int mrc, rc = 0;

	memset(&r->c, 0, sizeof(r->c));
	memcpy(r->next, r->after, r->alen);
	r->nlen = r->alen;
	r->end = 0;
	if (!todo)
		return CL_ENOMEM;
	mrc = mdb_cursor_open(txn, s->dbi[r->db], &cur);
	if (mrc) {
		json_decref(todo);
		return err_set(CL_ESTORE, "store '%s': cannot read %s: %s", s->path,
			       store_db_name(r->db), mdb_strerror(mrc));
	}
	mrc = r->alen ? mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE)
		      : mdb_cursor_get(cur, &k, &v, MDB_FIRST);
	if (mrc == 0 && r->alen && k.mv_size == r->alen && memcmp(k.mv_data, r->after, r->alen) == 0)
		mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
	for (; mrc == 0 && n < r->batch; mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		json_t *rec = NULL;

		if (k.mv_size >= sizeof(r->next))
			continue; /* not a key this store writes */
		memcpy(r->next, k.mv_data, k.mv_size);
		r->nlen = k.mv_size;
		if (ZSTD_getDictID_fromFrame(v.mv_data, v.mv_size) == r->want) {
			r->c.kept++;
			continue;
		}
		err_clear();
		if (store_decode(s, v.mv_data, v.mv_size, &rec) != 0) {
			r->c.unreadable++; /* left as it is: one bad record costs no other */
			continue;
		}
		r->c.bytes_before += v.mv_size;
		r->next[r->nlen] = '\0';
		if (json_object_set_new(todo, r->next, rec)) {
			rc = CL_ENOMEM;
			break;
		}
		n++;
	}
	if (!rc && mrc && mrc != MDB_NOTFOUND)
		rc = err_set(CL_ESTORE, "store '%s': cannot read %s: %s", s->path,
			     store_db_name(r->db), mdb_strerror(mrc));
	r->end = mrc == MDB_NOTFOUND;
	mdb_cursor_close(cur);
	json_object_foreach(todo, key, val) {
		if (rc)
			break;
		rc = store_put(s, txn, r->db, key, val);
		if (!rc) {
			r->c.bytes_after += s->zbuf.len; /* what store_put wrote */
			r->c.rewritten++;
		}
	}
	json_decref(todo);
	return rc;
}

int store_recompress(struct store *s, enum store_db db, size_t batch,
		     struct store_recompress *c, void (*progress)(uint64_t done, void *arg),
		     void *arg)
{
	struct recompress *r;
	uint64_t done = 0;
	int rc = 0;

	memset(c, 0, sizeof(*c));
	if (!(s->flags & STORE_WRITER))
		return err_set(CL_EINVAL, "store '%s' is open read-only", s->path);
	if (!store_dict_id(s, db))
		return 0;
	r = calloc(1, sizeof(*r));
	if (!r)
		return CL_ENOMEM;
	r->db = db;
	r->want = store_dict_id(s, db);
	r->batch = batch ? batch : 512;
	while (!rc && !r->end) {
		rc = store_write(s, recompress_fn, r);
		if (rc)
			break;
		c->rewritten += r->c.rewritten;
		c->kept += r->c.kept;
		c->unreadable += r->c.unreadable;
		c->bytes_before += r->c.bytes_before;
		c->bytes_after += r->c.bytes_after;
		memcpy(r->after, r->next, r->nlen);
		r->alen = r->nlen;
		done += r->c.rewritten + r->c.kept + r->c.unreadable;
		store_drop_pages(s);
		if (progress)
			progress(done, arg);
	}
	free(r);
	return rc;
}
