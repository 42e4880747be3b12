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

/* A template of a record into the set: name -> {"version N (hash H)": true}. */
static int note_template(json_t *by, const struct jspan *t)
{
	static const char *const names[] = { "name", "version", "hash" };
	char name[256], hash[80], which[128];
	struct jspan f[3];
	json_t *set;

	if (js_fields(t, names, 3, f))
		return 0;
	js_text(&f[0], name, sizeof(name));
	js_text(&f[2], hash, sizeof(hash));
	if (!*name || !*hash)
		return 0;
	snprintf(which, sizeof(which), "version %.0f (hash %.12s)", js_number(&f[1]), hash);
	set = json_object_get(by, name);
	if (!set) {
		set = json_object();
		if (!set || json_object_set_new(by, name, set))
			return CL_ENOMEM;
	}
	return json_object_set_new(set, which, json_true()) ? CL_ENOMEM : 0;
}

/*
 * The templates a shard made its records with.  The records are scanned,
 * not parsed (scan.c), and a record whose templates are the bytes of the
 * one before (most are: a run has one set per category) is passed over.
 */
static int shard_templates(struct store *s, MDB_txn *txn, json_t *by)
{
	static const char *const want[] = { "templates" };
	struct buf text, last;
	MDB_cursor *cur;
	MDB_val k, v;
	uint64_t bytes = 0;
	int mrc, rc = 0;

	if (s->absent & (1u << STORE_RESULTS))
		return 0;
	mrc = mdb_cursor_open(txn, s->dbi[STORE_RESULTS], &cur);
	if (mrc)
		return err_set(CL_ESTORE, "cannot read '%s': %s", s->path, mdb_strerror(mrc));
	buf_init(&text, BUF_MAX_DEFAULT);
	buf_init(&last, BUF_MAX_DEFAULT);
	for (mrc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); !rc && mrc == 0;
	     mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		struct jspan root, tpl, t;
		struct jiter it;

		bytes += v.mv_size;
		if (bytes > DROP_EVERY) { /* keep the resident size flat */
			store_drop_pages(s);
			bytes = 0;
		}
		text.len = 0;
		if (store_decompress_to(s, v.mv_data, v.mv_size, &text) ||
		    js_root(text.data, text.len, &root) || js_fields(&root, want, 1, &tpl) ||
		    tpl.type != JS_ARR)
			continue; /* unreadable or without templates: the export says so */
		if (tpl.n == last.len && !memcmp(tpl.p, last.data, tpl.n))
			continue;
		last.len = 0;
		rc = buf_add(&last, tpl.p, tpl.n);
		js_iter(&it, &tpl);
		while (!rc && js_next(&it, NULL, &t) == 1)
			rc = note_template(by, &t);
	}
	mdb_cursor_close(cur);
	buf_release(&text);
	buf_release(&last);
	if (!rc && mrc != MDB_NOTFOUND)
		rc = err_set(CL_ESTORE, "cannot read '%s': %s", s->path, mdb_strerror(mrc));
	return rc;
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
		rc = by[k] ? shard_templates(st[k], txn[k], by[k]) : CL_ENOMEM;
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
