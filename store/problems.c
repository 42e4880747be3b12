/* problems.c - problem and job records, and the idempotent import batch */
#include <stdlib.h>
#include <string.h>

#include "store.h"

int store_problem_key(char *out, size_t n, const char *split, int64_t id)
{
	int w;

	if (id < 0 || id > 99999999)
		return err_set(CL_EINVAL, "invalid problem id %lld", (long long)id);
	w = snprintf(out, n, "apps/%s/%04lld", split, (long long)id);
	if (w < 0 || (size_t)w >= n)
		return err_set(CL_EINVAL, "problem key too long");
	return 0;
}

int store_shard_get(struct store *s, MDB_txn *txn, unsigned *index, unsigned *count)
{
	json_t *v = NULL;
	int64_t k, n;
	int rc;

	rc = store_get(s, txn, STORE_META, STORE_META_SHARD, &v);
	if (rc)
		return rc;
	k = jsonx_int(v, "index", -1);
	n = jsonx_int(v, "count", -1);
	json_decref(v);
	if (n < 1 || n > UINT32_MAX || k < 0 || k >= n)
		return err_set(CL_ESCHEMA, "store '%s' has an invalid shard record", s->path);
	*index = (unsigned)k;
	*count = (unsigned)n;
	return 0;
}

int store_shard_set(struct store *s, MDB_txn *txn, unsigned index, unsigned count)
{
	json_t *v = json_pack("{s:I, s:I}", "index", (json_int_t)index, "count",
			      (json_int_t)count);
	int rc;

	if (!v)
		return CL_ENOMEM;
	rc = store_put(s, txn, STORE_META, STORE_META_SHARD, v);
	json_decref(v);
	return rc;
}

int store_job_key(char *out, size_t n, const char *problem_key, int cat)
{
	int w = snprintf(out, n, "%s#%s", problem_key, category_name(cat));

	if (w < 0 || (size_t)w >= n)
		return err_set(CL_EINVAL, "job key too long");
	return 0;
}

json_t *store_job_new(int64_t now)
{
	return json_pack("{s:s, s:i, s:n, s:I, s:I, s:I}", "state", "pending",
			 "attempts", 0, "last_error", "next_attempt", (json_int_t)0,
			 "created", (json_int_t)now, "updated", (json_int_t)now);
}

/* Fields that are bookkeeping, not content: a change in them alone is
 * not an update. */
static const char *const volatile_fields[] = { "source", "imported", "updated" };

static int is_volatile(const char *key)
{
	for (size_t i = 0; i < CL_ARRAY_SIZE(volatile_fields); i++)
		if (strcmp(key, volatile_fields[i]) == 0)
			return 1;
	return 0;
}

/* Equal content: the same keys, bookkeeping aside, with equal values. */
static int same_content(json_t *a, json_t *b)
{
	size_t na = 0, nb = 0;
	const char *k;
	json_t *v;

	json_object_foreach(a, k, v) {
		if (is_volatile(k))
			continue;
		na++;
		if (!json_equal(v, json_object_get(b, k)))
			return 0;
	}
	json_object_foreach(b, k, v)
		nb += !is_volatile(k);
	return na == nb;
}

struct import_batch {
	struct store_problem *items;
	size_t n;
	unsigned cats;
	int64_t now;
	struct import_counts c; /* this attempt's counts */
};

static int import_one(struct store *s, MDB_txn *txn, struct import_batch *b,
		      struct store_problem *p)
{
	json_t *old = NULL;
	int rc, changed = 1;

	rc = store_get(s, txn, STORE_PROBLEMS, p->key, &old);
	if (rc && rc != CL_ENOTFOUND)
		log_warn("replacing unreadable record '%s': %s", p->key, err_msg(rc));
	if (!rc)
		changed = !same_content(old, p->rec);
	if (old && !changed) {
		b->c.unchanged++;
	} else {
		json_t *imported = old ? json_object_get(old, "imported") : NULL;

		json_object_set_new(p->rec, "imported", json_is_integer(imported)
				    ? json_copy(imported) : json_integer(b->now));
		json_object_set_new(p->rec, "updated", json_integer(b->now));
		rc = store_put(s, txn, STORE_PROBLEMS, p->key, p->rec);
		if (rc == CL_ETOOBIG) {
			/* one oversized record must not cost the batch */
			log_warn("skipped '%s': %s", p->key, err_msg(rc));
			b->c.skipped++;
			json_decref(old);
			return 0;
		}
		if (rc) {
			json_decref(old);
			return rc;
		}
		if (old)
			b->c.updated++;
		else
			b->c.added++;
	}
	json_decref(old);

	for (int cat = 0; cat < CAT_COUNT; cat++) {
		char jkey[STORE_KEY_MAX + 32];
		MDB_val k, v;
		json_t *job;
		int mrc;

		if (!(b->cats & (1u << cat)))
			continue;
		rc = store_job_key(jkey, sizeof(jkey), p->key, cat);
		if (rc)
			return rc;
		k.mv_size = strlen(jkey);
		k.mv_data = jkey;
		mrc = mdb_get(txn, s->dbi[STORE_JOBS], &k, &v);
		if (mrc == 0)
			continue; /* never reset a job that exists */
		if (mrc != MDB_NOTFOUND)
			return err_set(CL_ESTORE, "cannot read job '%s': %s", jkey, mdb_strerror(mrc));
		job = store_job_new(b->now);
		if (!job)
			return CL_ENOMEM;
		rc = store_put(s, txn, STORE_JOBS, jkey, job);
		json_decref(job);
		if (rc)
			return rc;
		b->c.jobs_added++;
	}
	return 0;
}

static int import_fn(struct store *s, MDB_txn *txn, void *arg)
{
	struct import_batch *b = arg;

	memset(&b->c, 0, sizeof(b->c)); /* a retry after map growth starts over */
	for (size_t i = 0; i < b->n; i++) {
		int rc = import_one(s, txn, b, &b->items[i]);

		if (rc)
			return rc;
	}
	return 0;
}

int store_import(struct store *s, struct store_problem *items, size_t n,
		 unsigned cats, struct import_counts *c)
{
	struct import_batch b = { .items = items, .n = n, .cats = cats, .now = time_now() };
	int rc;

	if (n == 0)
		return 0;
	rc = store_write(s, import_fn, &b);
	if (rc)
		return rc;
	c->added += b.c.added;
	c->updated += b.c.updated;
	c->unchanged += b.c.unchanged;
	c->jobs_added += b.c.jobs_added;
	c->skipped += b.c.skipped;
	return 0;
}
