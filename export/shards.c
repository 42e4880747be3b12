/* shards.c - before the shards of a run are merged: one schema, each key in its own shard, the same templates */
#include <string.h>

#include "export_int.h"

static int schema_version(struct store *s, MDB_txn *txn, int64_t *version)
{
	json_t *v = NULL;
	int rc = store_get(s, txn, STORE_META, "schema", &v);

	if (rc)
		return rc;
	*version = jsonx_int(v, "version", -1);
	json_decref(v);
	return 0;
}

/*
 * Every problem and job of shard k must hash to k.  One that does not is
 * either in its own shard too (the same job in two shards: the merge would
 * count it twice or pick one) or in no other (a store of another import).
 */
static int keys_in_shard(struct store *const *st, MDB_txn **txn, size_t n, size_t k,
			 enum store_db db)
{
	char key[STORE_KEY_MAX + 32];
	MDB_cursor *cur;
	MDB_val kv, vv;
	int mrc, rc = 0;

	if (st[k]->absent & (1u << db))
		return 0;
	mrc = mdb_cursor_open(txn[k], st[k]->dbi[db], &cur);
	if (mrc)
		return err_set(CL_ESTORE, "cannot read '%s': %s", st[k]->path, mdb_strerror(mrc));
	for (mrc = mdb_cursor_get(cur, &kv, &vv, MDB_FIRST); !rc && mrc == 0;
	     mrc = mdb_cursor_get(cur, &kv, &vv, MDB_NEXT)) {
		size_t len = kv.mv_size < sizeof(key) ? kv.mv_size : sizeof(key) - 1;
		const char *what = db == STORE_JOBS ? "job" : "problem";
		unsigned owner;
		char *hash;
		MDB_val ov;

		memcpy(key, kv.mv_data, len);
		key[len] = '\0';
		hash = strchr(key, '#');
		if (hash)
			*hash = '\0';
		owner = hash_shard(key, (unsigned)n);
		if (owner == k)
			continue;
		if (hash)
			*hash = '#';
		if (mdb_get(txn[owner], st[owner]->dbi[db], &kv, &ov) == 0)
			rc = err_set(CL_EINVAL, "%s '%s' is in two shards, '%s' and '%s'", what, key,
				     st[k]->path, st[owner]->path);
		else
			rc = err_set(CL_EINVAL, "%s '%s' is in '%s', but it belongs to shard %u of "
				     "%zu (a store of another import?)", what, key, st[k]->path,
				     owner, n);
	}
	mdb_cursor_close(cur);
	if (!rc && mrc != MDB_NOTFOUND)
		rc = err_set(CL_ESTORE, "cannot read '%s': %s", st[k]->path, mdb_strerror(mrc));
	return rc;
}

/* The templates a shard made its records with: name -> {"vN hash": true}. */
static int note_templates(const char *key, size_t klen, json_t *v, int rc, void *arg)
{
	json_t *by = arg, *t;
	size_t i;

	(void)key;
	(void)klen;
	if (rc) /* an unreadable record: the export reports it */
		return 0;
	json_array_foreach(json_object_get(v, "templates"), i, t) {
		const char *name = jsonx_str(t, "name"), *hash = jsonx_str(t, "hash");
		char which[256];
		json_t *set;

		if (!name || !hash)
			continue;
		snprintf(which, sizeof(which), "version %lld (hash %.12s)",
			 (long long)jsonx_int(t, "version", 0), hash);
		set = json_object_get(by, name);
		if (!set) {
			set = json_object();
			json_object_set_new(by, name, set);
		}
		json_object_set_new(set, which, json_true());
	}
	return 0;
}

/* The first of a set's members, for the message. */
static const char *first_member(const json_t *set)
{
	void *it = json_object_iter((json_t *)set);

	return it ? json_object_iter_key(it) : "none";
}

/* Each template that two shards used must have been used alike in both. */
static int templates_agree(struct store *const *st, size_t n, json_t *const *by)
{
	for (size_t k = 1; k < n; k++) {
		const char *name;
		json_t *set;

		json_object_foreach(by[k], name, set) {
			for (size_t j = 0; j < k; j++) {
				json_t *other = json_object_get(by[j], name);

				if (!other || json_equal(other, set))
					continue;
				return err_set(CL_EINVAL, "the shards made records with different "
					       "templates: '%s' used %s of '%s', '%s' used %s",
					       st[j]->path, first_member(other), name, st[k]->path,
					       first_member(set));
			}
		}
	}
	return 0;
}

int export_check_shards(struct store *const *st, size_t n)
{
	MDB_txn *txn[EXPORT_MAX_STORES] = { 0 };
	json_t *by[EXPORT_MAX_STORES] = { 0 };
	int64_t version[EXPORT_MAX_STORES];
	int rc = 0;
	size_t k;

	if (n > EXPORT_MAX_STORES)
		return err_set(CL_EINVAL, "at most %d shards, not %zu", EXPORT_MAX_STORES, n);
	for (k = 0; !rc && k < n; k++) {
		rc = store_read_begin(st[k], &txn[k]);
		if (!rc)
			rc = schema_version(st[k], txn[k], &version[k]);
		if (!rc && version[k] != version[0])
			rc = err_set(CL_EINVAL, "the shards have different schemas: '%s' version "
				     "%lld, '%s' version %lld", st[0]->path, (long long)version[0],
				     st[k]->path, (long long)version[k]);
	}
	for (k = 0; !rc && k < n; k++) {
		rc = keys_in_shard(st, txn, n, k, STORE_PROBLEMS);
		if (!rc)
			rc = keys_in_shard(st, txn, n, k, STORE_JOBS);
	}
	for (k = 0; !rc && k < n; k++) {
		by[k] = json_object();
		rc = by[k] ? store_each(st[k], txn[k], STORE_RESULTS, "", note_templates, by[k])
			   : CL_ENOMEM;
		store_drop_pages(st[k]);
	}
	if (!rc)
		rc = templates_agree(st, n, by);
	for (k = 0; k < n; k++) {
		if (txn[k])
			store_read_end(txn[k]);
		json_decref(by[k]);
	}
	return rc;
}
