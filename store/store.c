/*
 * store.c - the LMDB environment, its writer lock, map growth, and the
 * zstd+JSON codec for values.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>
#include <zstd.h>

#include "store.h"

struct store_dict {
	ZSTD_CDict *c;
	ZSTD_DDict *d;
	unsigned id;
	size_t size;
};

static const char *const db_names[STORE_DB_COUNT] = {
	[STORE_META] = "meta",
	[STORE_PROBLEMS] = "problems",
	[STORE_JOBS] = "jobs",
	[STORE_RESULTS] = "results",
	[STORE_CACHE] = "cache",
	[STORE_LSH] = "lsh",
	[STORE_BATCHES] = "batches",
};

static const char *const state_names[JOB_STATE_COUNT] = {
	[JOB_PENDING] = "pending",
	[JOB_MODIFY] = "modify",
	[JOB_CLARIFY] = "clarify",
	[JOB_ANSWER] = "answer",
	[JOB_DONE] = "done",
	[JOB_REJECTED] = "rejected",
	[JOB_FAILED] = "failed",
};

const char *store_db_name(enum store_db db)
{
	return db < STORE_DB_COUNT ? db_names[db] : "?";
}

const char *job_state_name(int state)
{
	return state >= 0 && state < JOB_STATE_COUNT ? state_names[state] : "?";
}

int job_state_parse(const char *name)
{
	for (int i = 0; i < JOB_STATE_COUNT; i++)
		if (strcmp(name, state_names[i]) == 0)
			return i;
	return -1;
}

void store_options_default(struct store_options *opt)
{
	opt->map_size = (size_t)256 << 20;
	opt->zstd_level = 3;
	opt->max_record = (size_t)64 << 20;
}

/*
 * Free bytes for an unprivileged writer on the file system of the store,
 * or -1 when that cannot be told.
 */
static long long store_free_bytes(const struct store *s)
{
	struct statvfs v;

	if (!s->path || statvfs(s->path, &v) != 0)
		return -1;
	return (long long)v.f_bavail * (long long)v.f_frsize;
}

/* ---- the zstd dictionaries ---------------------------------------------------- */

static const char *const dict_keys[STORE_DICTS] = {
	[STORE_DICT_RECORDS] = STORE_META_DICT,
	[STORE_DICT_PROBLEMS] = STORE_META_DICT_PROBLEMS,
};

/* db's dictionary: the problems' or the records'; meta has none, since its
 * schema record is read before any dictionary is loaded. */
static int dict_kind(enum store_db db)
{
	if (db == STORE_META)
		return -1;
	return db == STORE_PROBLEMS ? STORE_DICT_PROBLEMS : STORE_DICT_RECORDS;
}

/* The dictionary s encodes db's records with, NULL when none.  A codec's
 * come from the store it follows, which may load them meanwhile. */
static const struct store_dict *dict_get(const struct store *s, int kind)
{
	const struct store *from = s->dict_of ? s->dict_of : s;

	if (kind < 0)
		return NULL;
	return __atomic_load_n(&from->dict[kind], __ATOMIC_ACQUIRE);
}

/* The dictionary a frame names (id), NULL when s has none of that id. */
static const struct store_dict *dict_find(const struct store *s, unsigned id)
{
	for (int k = 0; k < STORE_DICTS; k++) {
		const struct store_dict *d = dict_get(s, k);

		if (d && d->id == id)
			return d;
	}
	return NULL;
}

static void dict_free(struct store_dict *d)
{
	if (!d)
		return;
	ZSTD_freeCDict(d->c);
	ZSTD_freeDDict(d->d);
	free(d);
}

int store_dict_use(struct store *s, enum store_db db, const void *dict, size_t len)
{
	int kind = dict_kind(db);
	struct store_dict *d;

	if (kind < 0)
		return err_set(CL_EINVAL, "meta has no zstd dictionary");
	if (s->dict[kind])
		return 0; /* one of each per store, for good */
	d = calloc(1, sizeof(*d));
	if (!d)
		return CL_ENOMEM;
	d->id = ZSTD_getDictID_fromDict(dict, len);
	d->size = len;
	d->c = ZSTD_createCDict(dict, len, s->opt.zstd_level);
	d->d = ZSTD_createDDict(dict, len);
	if (!d->id || !d->c || !d->d) {
		dict_free(d);
		return err_set(CL_ECODEC, "zstd will not load the dictionary (%zu bytes)", len);
	}
	__atomic_store_n(&s->dict[kind], d, __ATOMIC_RELEASE);
	return 0;
}

unsigned store_dict_id(const struct store *s, enum store_db db)
{
	const struct store_dict *d = dict_get(s, dict_kind(db));

	return d ? d->id : 0;
}

size_t store_dict_size(const struct store *s, enum store_db db)
{
	const struct store_dict *d = dict_get(s, dict_kind(db));

	return d ? d->size : 0;
}

const char *store_dict_key(enum store_db db)
{
	int kind = dict_kind(db);

	return kind < 0 ? NULL : dict_keys[kind];
}

void store_codec_follow(struct store *codec, struct store *s)
{
	codec->dict_of = s;
}

/* Load meta's dictionaries, those there are, at the first transaction that
 * sees them: a reader may have opened the store before the writer made them. */
static void dict_load(struct store *s, MDB_txn *txn)
{
	for (int k = 0; k < STORE_DICTS; k++) {
		MDB_val key = { strlen(dict_keys[k]), (void *)dict_keys[k] }, v;
		int rc;

		if (s->dict[k] || (s->dict_bad & (1u << k)) ||
		    mdb_get(txn, s->dbi[STORE_META], &key, &v) != 0)
			continue;
		rc = store_dict_use(s, k == STORE_DICT_PROBLEMS ? STORE_PROBLEMS : STORE_RESULTS,
				    v.mv_data, v.mv_size);
		if (rc) {
			s->dict_bad |= 1u << k;
			log_warn("store '%s': its zstd dictionary '%s' is unusable, so the records "
				 "that need it cannot be read: %s", s->path, dict_keys[k],
				 err_msg(rc));
		}
	}
}

static int mdb_fail(struct store *s, int mrc, const char *what)
{
	long long avail;

	if (mrc == MDB_MAP_FULL)
		return CL_EFULL;
	/*
	 * A full disk: LMDB passes ENOSPC on, but a write that stops part way
	 * (pwrite returning short, which is how a full file system answers a
	 * large write) becomes EIO in mdb_page_flush.  Say what happened.
	 */
	if (mrc == ENOSPC || mrc == EIO) {
		avail = store_free_bytes(s);
		if (mrc == ENOSPC || (avail >= 0 && avail < STORE_FULL_BYTES))
			return err_set(CL_ESTORE, "store '%s': %s: No space left on device "
				       "(%lld KiB free on its file system)", s->path, what,
				       avail < 0 ? 0 : avail >> 10);
	}
	return err_set(CL_ESTORE, "store '%s': %s: %s", s->path, what, mdb_strerror(mrc));
}

/*
 * The writer lock: a POSIX record lock on DIR/clarify.lock.  The kernel
 * drops it when the process dies, so a crash never leaves a stale lock,
 * and F_GETLK names the holder.
 */
static int store_lock(struct store *s)
{
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
	char path[4096], pid[32];
	int fd, n;

	snprintf(path, sizeof(path), "%s/clarify.lock", s->path);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		return err_set(CL_EIO, "cannot open '%s': %s", path, strerror(errno));
	if (fcntl(fd, F_SETLK, &fl) != 0) {
		struct flock who = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
		int e = errno;

		if (e == EACCES || e == EAGAIN) {
			long holder = 0;

			if (fcntl(fd, F_GETLK, &who) == 0 && who.l_type != F_UNLCK)
				holder = (long)who.l_pid;
			close(fd);
			return err_set(CL_ELOCKED, "store '%s' is in use by another writer (pid %ld)",
				       s->path, holder);
		}
		close(fd);
		return err_set(CL_EIO, "cannot lock '%s': %s", path, strerror(e));
	}
	n = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) != 0 || pwrite(fd, pid, (size_t)n, 0) != n)
		log_warn("cannot write pid to '%s': %s", path, strerror(errno));
	s->lock_fd = fd;
	return 0;
}

long store_writer_pid(const char *dir)
{
	struct flock who = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
	char path[4096];
	int fd;

	if (snprintf(path, sizeof(path), "%s/clarify.lock", dir) >= (int)sizeof(path))
		return 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	/* F_GETLK only asks: it takes nothing, even on a read-only descriptor */
	if (fcntl(fd, F_GETLK, &who) != 0 || who.l_type == F_UNLCK)
		who.l_pid = 0;
	close(fd);
	return (long)who.l_pid;
}

static int store_schema(struct store *s, MDB_txn *txn)
{
	json_t *meta = NULL;
	int64_t version;
	int rc;

	rc = store_get(s, txn, STORE_META, "schema", &meta);
	if (rc == CL_ENOTFOUND && (s->flags & STORE_WRITER)) {
		meta = json_pack("{s:i, s:I, s:s}", "version", STORE_SCHEMA_VERSION,
				 "created", (json_int_t)time_now(),
				 "created_by", "clarify " CLARIFY_VERSION);
		if (!meta)
			return CL_ENOMEM;
		rc = store_put(s, txn, STORE_META, "schema", meta);
		json_decref(meta);
		return rc;
	}
	if (rc == CL_ENOTFOUND)
		return err_set(CL_ESCHEMA, "'%s' is not a clarify store (no schema record)", s->path);
	if (rc)
		return rc;
	version = jsonx_int(meta, "version", -1);
	if (version >= 1 && version < STORE_SCHEMA_VERSION && (s->flags & STORE_WRITER)) {
		/* in place: what the newer version adds, the older data never has */
		json_object_set_new(meta, "version", json_integer(STORE_SCHEMA_VERSION));
		json_object_set_new(meta, "upgraded_from", json_integer(version));
		json_object_set_new(meta, "upgraded", json_integer(time_now()));
		rc = store_put(s, txn, STORE_META, "schema", meta);
		json_decref(meta);
		if (!rc)
			log_info("store '%s': schema upgraded from version %lld to %d", s->path,
				 (long long)version, STORE_SCHEMA_VERSION);
		return rc;
	}
	json_decref(meta);
	if (version > STORE_SCHEMA_VERSION)
		return err_set(CL_ESCHEMA, "store '%s' has schema version %lld, newer than "
			       "this clarify (%s) reads (%d): upgrade clarify",
			       s->path, (long long)version, CLARIFY_VERSION, STORE_SCHEMA_VERSION);
	if (version < 1)
		return err_set(CL_ESCHEMA, "store '%s' has an invalid schema record", s->path);
	return 0;
}

static int store_open_dbs(struct store *s)
{
	unsigned dflags = (s->flags & STORE_WRITER) ? MDB_CREATE : 0;
	MDB_txn *txn;
	int mrc, rc = 0;

	mrc = mdb_txn_begin(s->env, NULL, (s->flags & STORE_WRITER) ? 0 : MDB_RDONLY, &txn);
	if (mrc)
		return mdb_fail(s, mrc, "cannot begin transaction");
	for (int i = 0; i < STORE_DB_COUNT; i++) {
		mrc = mdb_dbi_open(txn, db_names[i], dflags, &s->dbi[i]);
		if (mrc == MDB_NOTFOUND && (i == STORE_LSH || i == STORE_BATCHES)) {
			s->absent |= 1u << i; /* older than the database: read as empty */
			continue;
		}
		if (mrc == MDB_NOTFOUND) {
			rc = err_set(CL_ESCHEMA, "'%s' is not a clarify store (no '%s' database)",
				     s->path, db_names[i]);
			goto abort;
		}
		if (mrc) {
			rc = mdb_fail(s, mrc, "cannot open database");
			goto abort;
		}
	}
	dict_load(s, txn);
	rc = store_schema(s, txn);
	if (rc)
		goto abort;
	mrc = mdb_txn_commit(txn);
	if (mrc)
		return mdb_fail(s, mrc, "cannot commit");
	return 0;
abort:
	mdb_txn_abort(txn);
	return rc;
}

int store_codec_open(struct store *s, const struct store_options *opt)
{
	memset(s, 0, sizeof(*s));
	s->lock_fd = -1;
	if (opt)
		s->opt = *opt;
	else
		store_options_default(&s->opt);
	buf_init(&s->zbuf, s->opt.max_record + 1024);
	buf_init(&s->jbuf, s->opt.max_record);
	s->cctx = ZSTD_createCCtx();
	s->dctx = ZSTD_createDCtx();
	if (!s->cctx || !s->dctx) {
		store_close(s);
		return CL_ENOMEM;
	}
	return 0;
}

int store_open(struct store *s, const char *dir, unsigned flags,
	       const struct store_options *opt)
{
	char data[4096];
	unsigned eflags = MDB_NOTLS;
	int mrc, rc, fresh;

	rc = store_codec_open(s, opt);
	if (rc)
		return rc;
	s->flags = flags;
	s->path = strdup(dir);
	if (!s->path) {
		rc = CL_ENOMEM;
		goto fail;
	}
	snprintf(data, sizeof(data), "%s/data.mdb", dir);
	fresh = !file_exists(data);
	if (fresh && access(data, F_OK) != 0 && errno != ENOENT) {
		/* there may be a store, but it cannot be seen: say why */
		rc = err_set(CL_EIO, "cannot open store '%s': %s", dir, strerror(errno));
		goto fail;
	}
	if (flags & STORE_WRITER) {
		rc = dir_make(dir, 0755);
		if (rc)
			goto fail;
		rc = store_lock(s);
		if (rc)
			goto fail;
	} else {
		if (fresh) {
			rc = err_set(CL_ENOTFOUND, "no store at '%s' (create one with 'clarify import')",
				     dir);
			goto fail;
		}
		eflags |= MDB_RDONLY;
	}
	mrc = mdb_env_create(&s->env);
	if (mrc) {
		rc = mdb_fail(s, mrc, "cannot create environment");
		goto fail;
	}
	mdb_env_set_maxdbs(s->env, STORE_DB_COUNT + 3);
	mdb_env_set_maxreaders(s->env, 256);
	if (fresh)
		mdb_env_set_mapsize(s->env, s->opt.map_size);
	mrc = mdb_env_open(s->env, dir, eflags, 0644);
	if (mrc == EACCES && !(flags & STORE_WRITER)) {
		rc = err_set(CL_EIO, "cannot open store '%s': permission denied", dir);
		goto fail;
	}
	if (mrc) {
		rc = mdb_fail(s, mrc, "cannot open");
		goto fail;
	}
	rc = store_open_dbs(s);
	if (rc)
		goto fail;
	return 0;
fail:
	store_close(s);
	return rc;
}

void store_close(struct store *s)
{
	if (s->env)
		mdb_env_close(s->env);
	ZSTD_freeCCtx(s->cctx);
	ZSTD_freeDCtx(s->dctx);
	for (int k = 0; k < STORE_DICTS; k++)
		dict_free(s->dict[k]);
	buf_release(&s->zbuf);
	buf_release(&s->jbuf);
	if (s->lock_fd >= 0)
		close(s->lock_fd); /* releases the writer lock */
	free(s->path);
	memset(s, 0, sizeof(*s));
	s->lock_fd = -1;
}

/* Another process grew the map: adopt its size, then begin again. */
static int txn_begin(struct store *s, unsigned flags, MDB_txn **txn)
{
	int mrc = mdb_txn_begin(s->env, NULL, flags, txn);

	if (mrc == MDB_MAP_RESIZED) {
		mrc = mdb_env_set_mapsize(s->env, 0);
		if (!mrc)
			mrc = mdb_txn_begin(s->env, NULL, flags, txn);
	}
	if (mrc)
		return mdb_fail(s, mrc, "cannot begin transaction");
	/* a reader may meet dictionaries the writer made since: the writer
	 * itself has all there are (loaded at open, or made by it) */
	if (!(s->flags & STORE_WRITER) &&
	    (!s->dict[STORE_DICT_RECORDS] || !s->dict[STORE_DICT_PROBLEMS]))
		dict_load(s, *txn);
	return 0;
}

int store_read_begin(struct store *s, MDB_txn **txn)
{
	return txn_begin(s, MDB_RDONLY, txn);
}

void store_read_end(MDB_txn *txn)
{
	if (txn)
		mdb_txn_abort(txn);
}

static int store_grow(struct store *s)
{
	MDB_envinfo info;
	size_t size;
	int mrc;

	mdb_env_info(s->env, &info);
	size = info.me_mapsize * 2;
	mrc = mdb_env_set_mapsize(s->env, size);
	if (mrc)
		return mdb_fail(s, mrc, "cannot grow the map");
	s->grows++;
	log_debug("store '%s': map grown to %zu MiB", s->path, size >> 20);
	return 0;
}

int store_write(struct store *s, store_write_fn fn, void *arg)
{
	if (!(s->flags & STORE_WRITER))
		return err_set(CL_EINVAL, "store '%s' is open read-only", s->path);
	for (;;) {
		MDB_txn *txn;
		int rc, mrc;

		rc = txn_begin(s, 0, &txn);
		if (rc)
			return rc;
		rc = fn(s, txn, arg);
		if (rc) {
			mdb_txn_abort(txn);
			if (rc != CL_EFULL)
				return rc;
		} else {
			mrc = mdb_txn_commit(txn);
			if (!mrc)
				return 0;
			rc = mdb_fail(s, mrc, "cannot commit");
			if (rc != CL_EFULL)
				return rc;
		}
		rc = store_grow(s);
		if (rc)
			return rc;
	}
}

static int encode(struct store *s, int kind, const json_t *v, const void **out, size_t *len)
{
	char *text = jsonx_canonical(v);
	const struct store_dict *dict;
	size_t n, bound, z;
	int rc;

	if (!text)
		return CL_ENOMEM;
	n = strlen(text);
	if (n > s->opt.max_record) {
		free(text);
		return err_set(CL_ETOOBIG, "record of %zu bytes is over the %zu byte limit",
			       n, s->opt.max_record);
	}
	bound = ZSTD_compressBound(n);
	buf_reset(&s->zbuf);
	rc = buf_reserve(&s->zbuf, bound);
	if (rc) {
		free(text);
		return rc;
	}
	dict = dict_get(s, kind);
	if (dict)
		z = ZSTD_compress_usingCDict(s->cctx, s->zbuf.data, bound, text, n, dict->c);
	else
		z = ZSTD_compressCCtx(s->cctx, s->zbuf.data, bound, text, n, s->opt.zstd_level);
	free(text);
	if (ZSTD_isError(z))
		return err_set(CL_ECODEC, "zstd: %s", ZSTD_getErrorName(z));
	s->zbuf.len = z;
	*out = s->zbuf.data;
	*len = z;
	return 0;
}

int store_encode(struct store *s, const json_t *v, const void **out, size_t *len)
{
	return encode(s, STORE_DICT_RECORDS, v, out, len);
}

/* A frame that does not record its size (zstd's streaming mode, as the
 * zstd tool writes to a pipe) is decoded in steps, within the cap. */
static int decode_stream(struct store *s, const void *data, size_t len,
			 const ZSTD_DDict *dd)
{
	ZSTD_inBuffer in = { data, len, 0 };
	size_t zr = 1;

	ZSTD_DCtx_reset(s->dctx, ZSTD_reset_session_and_parameters);
	if (dd)
		ZSTD_DCtx_refDDict(s->dctx, dd);
	while (zr != 0) {
		ZSTD_outBuffer out;
		size_t room;
		int rc;

		if (s->jbuf.cap < s->jbuf.len + 4096 + 1) {
			/* double, or take what is left below the cap */
			rc = buf_reserve(&s->jbuf, s->jbuf.cap > 4096 ? s->jbuf.cap : 4096);
			if (rc == CL_ETOOBIG && s->jbuf.len < s->jbuf.max)
				rc = buf_reserve(&s->jbuf, s->jbuf.max - s->jbuf.len);
			if (rc)
				return err_set(CL_ETOOBIG, "record is over the %zu byte limit",
					       s->opt.max_record);
		}
		room = s->jbuf.cap - s->jbuf.len - 1;
		if (room == 0)
			return err_set(CL_ETOOBIG, "record is over the %zu byte limit",
				       s->opt.max_record);
		out.dst = s->jbuf.data + s->jbuf.len;
		out.size = room;
		out.pos = 0;
		zr = ZSTD_decompressStream(s->dctx, &out, &in);
		if (ZSTD_isError(zr))
			return err_set(CL_ECODEC, "zstd: %s", ZSTD_getErrorName(zr));
		s->jbuf.len += out.pos;
		if (zr != 0 && in.pos == in.size && out.pos < room)
			return err_set(CL_ECODEC, "zstd frame is cut short");
	}
	return 0;
}

int store_decode(struct store *s, const void *data, size_t len, json_t **out)
{
	const char *text;
	size_t n;
	int rc;

	*out = NULL;
	rc = store_decompress(s, data, len, &text, &n);
	if (rc)
		return rc;
	*out = jsonx_parse(text, n, "record");
	return *out ? 0 : CL_EPARSE;
}

int store_decompress_to(struct store *s, const void *data, size_t len, struct buf *out)
{
	unsigned long long size = ZSTD_getFrameContentSize(data, len);
	const struct store_dict *dict = NULL;
	unsigned id;
	size_t z;
	int rc;

	if (size == ZSTD_CONTENTSIZE_ERROR)
		return err_set(CL_ECODEC, "not a zstd frame");
	id = ZSTD_getDictID_fromFrame(data, len);
	if (id) {
		dict = dict_find(s, id);
		if (!dict)
			return err_set(CL_ECODEC, "the record needs zstd dictionary %u, which the "
				       "store does not have", id);
	}
	if (size == ZSTD_CONTENTSIZE_UNKNOWN) {
		/* rare (frames from outside): in steps into jbuf, then copied */
		buf_reset(&s->jbuf);
		rc = decode_stream(s, data, len, dict ? dict->d : NULL);
		if (!rc && out != &s->jbuf)
			rc = buf_add(out, s->jbuf.data ? s->jbuf.data : "", s->jbuf.len);
		return rc;
	}
	if (size > s->opt.max_record)
		return err_set(CL_ETOOBIG, "record of %llu bytes is over the %zu byte limit",
			       size, s->opt.max_record);
	rc = buf_reserve(out, (size_t)size);
	if (rc)
		return err_set(rc, "record of %llu bytes does not fit its buffer", size);
	if (dict)
		z = ZSTD_decompress_usingDDict(s->dctx, out->data + out->len, (size_t)size + 1,
					       data, len, dict->d);
	else
		z = ZSTD_decompress_usingDict(s->dctx, out->data + out->len, (size_t)size + 1,
					      data, len, NULL, 0);
	if (ZSTD_isError(z))
		return err_set(CL_ECODEC, "zstd: %s", ZSTD_getErrorName(z));
	if (z != size)
		return err_set(CL_ECODEC, "zstd frame is %zu bytes, header says %llu", z, size);
	out->len += z;
	out->data[out->len] = '\0';
	return 0;
}

int store_decompress(struct store *s, const void *data, size_t len, const char **text,
		     size_t *n)
{
	int rc;

	*text = NULL;
	*n = 0;
	buf_reset(&s->jbuf);
	rc = store_decompress_to(s, data, len, &s->jbuf);
	if (rc)
		return rc;
	*text = s->jbuf.data ? s->jbuf.data : "";
	*n = s->jbuf.len;
	return 0;
}

int store_get(struct store *s, MDB_txn *txn, enum store_db db, const char *key, json_t **out)
{
	MDB_val k = { strlen(key), (void *)key }, v;
	int mrc, rc;

	*out = NULL;
	mrc = mdb_get(txn, s->dbi[db], &k, &v);
	if (mrc == MDB_NOTFOUND)
		return CL_ENOTFOUND;
	if (mrc)
		return mdb_fail(s, mrc, "cannot read");
	rc = store_decode(s, v.mv_data, v.mv_size, out);
	if (rc)
		return err_set(rc, "%s '%s': %s", db_names[db], key, err_msg(rc));
	return 0;
}

int store_put(struct store *s, MDB_txn *txn, enum store_db db, const char *key, const json_t *v)
{
	MDB_val k = { strlen(key), (void *)key }, val;
	const void *data;
	size_t len;
	int rc, mrc;

	if (k.mv_size == 0 || k.mv_size > 511)
		return err_set(CL_EINVAL, "invalid key '%s'", key);
	rc = encode(s, dict_kind(db), v, &data, &len);
	if (rc)
		return rc;
	val.mv_data = (void *)data;
	val.mv_size = len;
	mrc = mdb_put(txn, s->dbi[db], &k, &val, 0);
	if (mrc)
		return mdb_fail(s, mrc, "cannot write");
	return 0;
}

int store_put_raw(struct store *s, MDB_txn *txn, enum store_db db, const char *key,
		  const void *data, size_t len)
{
	MDB_val k = { strlen(key), (void *)key }, val = { len, (void *)data };
	int mrc;

	if (k.mv_size == 0 || k.mv_size > 511)
		return err_set(CL_EINVAL, "invalid key '%s'", key);
	mrc = mdb_put(txn, s->dbi[db], &k, &val, 0);
	if (mrc)
		return mdb_fail(s, mrc, "cannot write");
	return 0;
}

int store_get_raw(struct store *s, MDB_txn *txn, enum store_db db, const char *key,
		  const void **data, size_t *len)
{
	MDB_val k = { strlen(key), (void *)key }, v;
	int mrc;

	if (s->absent & (1u << db))
		return CL_ENOTFOUND;
	mrc = mdb_get(txn, s->dbi[db], &k, &v);
	if (mrc == MDB_NOTFOUND)
		return CL_ENOTFOUND;
	if (mrc)
		return mdb_fail(s, mrc, "cannot read");
	*data = v.mv_data;
	*len = v.mv_size;
	return 0;
}

void store_progress_line(const json_t *prog, char *out, size_t n)
{
	char when[32];

	time_iso(jsonx_int(prog, "updated", 0), when, sizeof(when));
	snprintf(out, n, "clarifyd (pid %lld) %s at %s: %lld requests, %lld retries, %lld cached, "
		 "%lld tokens", (long long)jsonx_int(prog, "pid", 0),
		 jsonx_int(prog, "running", 0) ? "running" : "stopped", when,
		 (long long)jsonx_int(prog, "requests", 0), (long long)jsonx_int(prog, "retries", 0),
		 (long long)jsonx_int(prog, "cache_hits", 0), (long long)jsonx_int(prog, "tokens", 0));
}

int store_meta_is_raw(const char *key, size_t klen)
{
	static const char *const raw[] = { STORE_META_LM, STORE_META_DICT,
					   STORE_META_DICT_PROBLEMS };

	for (size_t i = 0; i < CL_ARRAY_SIZE(raw); i++)
		if (klen == strlen(raw[i]) && memcmp(key, raw[i], klen) == 0)
			return 1;
	return 0;
}

int store_del(struct store *s, MDB_txn *txn, enum store_db db, const char *key)
{
	MDB_val k = { strlen(key), (void *)key };
	int mrc = mdb_del(txn, s->dbi[db], &k, NULL);

	if (mrc == MDB_NOTFOUND)
		return CL_ENOTFOUND;
	if (mrc)
		return mdb_fail(s, mrc, "cannot delete");
	return 0;
}

/*
 * The walk of store_each and store_each_after: from start (the first key
 * after it when after is set), while keys begin with prefix.
 */
static int walk(struct store *s, MDB_txn *txn, enum store_db db, const char *start, int after,
		const char *prefix, store_each_fn fn, void *arg)
{
	size_t slen = strlen(start), plen = strlen(prefix);
	MDB_cursor *cur;
	MDB_val k = { slen, (void *)start }, v;
	int mrc, rc = 0;

	if (s->absent & (1u << db))
		return 0;
	mrc = mdb_cursor_open(txn, s->dbi[db], &cur);
	if (mrc)
		return mdb_fail(s, mrc, "cannot open cursor");
	mrc = slen ? mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE)
		   : mdb_cursor_get(cur, &k, &v, MDB_FIRST);
	if (!mrc && after && slen && k.mv_size == slen && memcmp(k.mv_data, start, slen) == 0)
		mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
	while (!mrc) {
		json_t *val;
		int drc;

		if (k.mv_size < plen || memcmp(k.mv_data, prefix, plen) != 0)
			break;
		err_clear();
		if (db == STORE_META && store_meta_is_raw(k.mv_data, k.mv_size)) {
			val = NULL;
			drc = 0; /* not JSON: the walker sees it with v NULL */
		} else {
			drc = store_decode(s, v.mv_data, v.mv_size, &val);
		}
		rc = fn(k.mv_data, k.mv_size, val, drc, arg);
		json_decref(val);
		if (rc)
			break;
		mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
	}
	if (mrc && mrc != MDB_NOTFOUND)
		rc = mdb_fail(s, mrc, "cannot read");
	mdb_cursor_close(cur);
	return rc;
}

int store_each(struct store *s, MDB_txn *txn, enum store_db db, const char *prefix,
	       store_each_fn fn, void *arg)
{
	return walk(s, txn, db, prefix, 0, prefix, fn, arg);
}

int store_each_after(struct store *s, MDB_txn *txn, enum store_db db, const char *after,
		     store_each_fn fn, void *arg)
{
	return walk(s, txn, db, after, 1, "", fn, arg);
}

void store_drop_pages(struct store *s)
{
	char path[4096], line[4608];
	struct stat st;
	FILE *maps;

	/*
	 * LMDB does not tell where it mapped the file (me_mapaddr is set only
	 * for MDB_FIXEDMAP), so find the mapping of data.mdb by its inode in
	 * /proc/self/maps.  Safe: without MDB_WRITEMAP the map is a read-only
	 * shared file mapping and LMDB writes through the file descriptor.
	 */
	snprintf(path, sizeof(path), "%s/data.mdb", s->path);
	if (stat(path, &st) != 0)
		return;
	maps = fopen("/proc/self/maps", "re");
	if (!maps)
		return;
	while (fgets(line, sizeof(line), maps)) {
		unsigned long lo, hi, ino;

		if (sscanf(line, "%lx-%lx %*s %*s %*s %lu", &lo, &hi, &ino) != 3)
			continue;
		if (ino == (unsigned long)st.st_ino && strstr(line, "/data.mdb"))
			madvise((void *)lo, hi - lo, MADV_DONTNEED);
	}
	fclose(maps);
}

int store_count(struct store *s, MDB_txn *txn, enum store_db db, uint64_t *n)
{
	MDB_stat st;
	int mrc;

	if (s->absent & (1u << db)) {
		*n = 0;
		return 0;
	}
	mrc = mdb_stat(txn, s->dbi[db], &st);
	if (mrc)
		return mdb_fail(s, mrc, "cannot stat");
	*n = st.ms_entries;
	return 0;
}
