/*
 * store.h - the record store: one LMDB environment (a directory) with the
 * named databases of DESIGN.md; values are JSON compressed with zstd.
 *
 *   meta      name                      schema version, creation, fingerprints
 *   problems  apps/<split>/<NNNN>       the problem as imported
 *   jobs      <problem key>#<category>  state, attempts, last error, times
 *   results   <job key>                 the generated record and its verdicts
 *   cache     request hash              an LLM response
 *
 * One process at a time opens it as the writer (STORE_WRITER takes an
 * fcntl lock on DIR/clarify.lock; a second writer gets CL_ELOCKED with the
 * holder's pid in the message); any number of readers may open it
 * meanwhile.  A struct store is used by one thread at a time: its zstd
 * contexts and scratch buffers are its own.
 */
#ifndef CLARIFY_STORE_H
#define CLARIFY_STORE_H

#include <lmdb.h>
#include <stdint.h>

#include "../common/common.h"

/*
 * The schema version in meta "schema": 1, every value a plain zstd frame;
 * 2, values may need the store's zstd dictionaries (meta "zdict" and
 * "zdict.problems"), which a clarify of version 1 cannot read.  A store of
 * version 1 becomes 2 when its first dictionary is written.  3, jobs may
 * be in state "answer" (stage 3 waits over a stored result), which a
 * clarifyd of version 2 would not run and its verify would call unknown:
 * a writer opening a store of version 1 or 2 upgrades it in place (the
 * schema record only: every job and record stays as it is), noting
 * "upgraded_from" and "upgraded".
 */
#define STORE_SCHEMA_VERSION 3

/*
 * An I/O error while the store's file system has less than this free is
 * reported as "No space left on device": LMDB turns a short write (a full
 * disk) into EIO.  The store stays as it was before the failed transaction.
 */
#define STORE_FULL_BYTES ((long long)1 << 20)

enum store_db {
	STORE_META,
	STORE_PROBLEMS,
	STORE_JOBS,
	STORE_RESULTS,
	STORE_CACHE,
	STORE_LSH,        /* the near-duplicate index: raw values, not records
			     (absent from stores older than it: empty) */
	STORE_BATCHES,    /* provider batches, by their local id (absent from
			     stores older than batch mode: empty) */
	STORE_DB_COUNT
};

enum job_state {
	JOB_PENDING,
	JOB_MODIFY,
	JOB_CLARIFY,
	JOB_ANSWER,       /* stages 1 and 2 stored: stage 3 to run (requeue --stage answer) */
	JOB_DONE,
	JOB_REJECTED,
	JOB_FAILED,
	JOB_STATE_COUNT
};

enum store_flags {
	STORE_RDONLY = 1, /* read transactions only */
	STORE_WRITER = 2, /* the single writer: creates the store if absent */
};

struct store_options {
	size_t map_size;    /* initial map size for a new store, bytes */
	int zstd_level;
	size_t max_record;  /* largest decompressed value accepted */
};

struct store_dict;

/* The store's zstd dictionaries: one for problems, one for the rest. */
enum { STORE_DICT_RECORDS, STORE_DICT_PROBLEMS, STORE_DICTS };

struct store {
	MDB_env *env;
	MDB_dbi dbi[STORE_DB_COUNT];
	char *path;
	unsigned flags;
	int lock_fd;
	struct store_options opt;
	void *cctx;         /* ZSTD_CCtx */
	void *dctx;         /* ZSTD_DCtx */
	struct buf zbuf;    /* compressed output of the last store_put */
	struct buf jbuf;    /* decompressed input of the last decode */
	uint64_t grows;     /* times the map was grown */
	struct store_dict *dict[STORE_DICTS];  /* zstd dictionaries, once loaded; owned */
	struct store *dict_of;    /* a codec's: use that store's dictionaries */
	unsigned dict_bad;        /* bit k: meta's dictionary k would not load */
	unsigned absent;          /* opened read-only, the store lacks these optional
				   * databases (bit 1 << db): they read as empty */
};

const char *store_db_name(enum store_db db);
const char *job_state_name(int state);
int job_state_parse(const char *name); /* -1 when unknown */

void store_options_default(struct store_options *opt);

/*
 * Open the store in dir.  STORE_WRITER creates dir and the databases when
 * missing and writes the schema version; STORE_RDONLY requires an existing
 * store.  Errors: CL_ENOTFOUND (no store there), CL_ELOCKED (another
 * writer), CL_ESCHEMA (a newer or foreign schema), CL_ESTORE, CL_EIO; the
 * message says which directory and why.
 */
int store_open(struct store *s, const char *dir, unsigned flags,
	       const struct store_options *opt);
void store_close(struct store *s);

/*
 * A store without an environment, for encoding and decoding values only
 * (tools, tests, fuzzers): store_encode and store_decode work on it,
 * nothing else does.  opt NULL means the defaults.  Errors: CL_ENOMEM.
 * Release it with store_close().
 */
int store_codec_open(struct store *s, const struct store_options *opt);

/* A read transaction; end it with store_read_end(). */
int store_read_begin(struct store *s, MDB_txn **txn);
void store_read_end(MDB_txn *txn);

/*
 * Run fn inside one write transaction and commit.  When LMDB reports the
 * map full (in fn, through store_put, or at commit) the transaction is
 * aborted, the map doubled and fn run again from the start: fn must
 * compute everything it reports afresh on each call.  fn's non-zero
 * return aborts the transaction and is returned.
 */
typedef int (*store_write_fn)(struct store *s, MDB_txn *txn, void *arg);
int store_write(struct store *s, store_write_fn fn, void *arg);

/*
 * Records.  store_get decodes into a new reference the caller owns
 * (json_decref); CL_ENOTFOUND when absent.  store_put encodes v
 * canonically (sorted keys, compact) and compresses it.
 */
int store_get(struct store *s, MDB_txn *txn, enum store_db db, const char *key, json_t **out);
int store_put(struct store *s, MDB_txn *txn, enum store_db db, const char *key, const json_t *v);
int store_del(struct store *s, MDB_txn *txn, enum store_db db, const char *key);

/*
 * Raw values, for what is not a JSON record: the language model in meta
 * ("lm"), kept as it is so that it can be used in place.  store_get_raw's
 * *data points into the map: valid until the transaction ends.
 */
#define STORE_META_LM "lm"
int store_put_raw(struct store *s, MDB_txn *txn, enum store_db db, const char *key,
		  const void *data, size_t len);
int store_get_raw(struct store *s, MDB_txn *txn, enum store_db db, const char *key,
		  const void **data, size_t *len);
/*
 * meta "progress": clarifyd's counts as it last committed them (pid,
 * started, updated, seconds, accepted, rejected, failed, requests,
 * retries, cache_hits, tokens, in_flight, running), and that record as one
 * line for people: "clarifyd (pid N) stopped at T: N requests, N retries,
 * N cached, N tokens" (cut to fit n).
 */
#define STORE_META_PROGRESS "progress"
void store_progress_line(const json_t *prog, char *out, size_t n);

/*
 * meta "zdict" and "zdict.problems": the store's zstd dictionaries,
 * trained once each from its own records (store_dict_create): one for the
 * problems, one for the results and everything else.  Each record is a
 * small zstd frame of its own; with a dictionary it is about half the size
 * and decodes about twice as fast, since its entropy tables and common
 * strings come from the dictionary.  A frame names the dictionary it needs
 * (its id), so records written before there was one still decode.  A store
 * loads the dictionaries meta has when it opens; a reader looks again as
 * each transaction begins until it has both, since the writer may make
 * them meanwhile.  From then on store_put (and store_encode, for everything
 * but problems) uses them.
 */
#define STORE_META_DICT "zdict"
#define STORE_META_DICT_PROBLEMS "zdict.problems"
/*
 * Train the dictionary of db's kind (STORE_PROBLEMS, or anything else for
 * the results' one) from up to STORE_DICT_SAMPLES records of db spread
 * over it, write it to meta in a transaction of its own, and use it.  The
 * writer only; does nothing when the store has one.  Errors: CL_EINVAL
 * when the records are too few or too alike to train on (the store goes
 * on without), and store_write's.
 */
#define STORE_DICT_SAMPLES 2000
#define STORE_DICT_BYTES (110 << 10)
int store_dict_create(struct store *s, enum store_db db);
/*
 * The same, once db holds `after` records (0: never) and the store has
 * none of that kind: the writer calls it after each batch.  *tried (0 at
 * first) is set when it trains, so that a failure is not tried again.
 */
int store_dict_when(struct store *s, enum store_db db, uint64_t after, int *tried);
/*
 * Rewrite the records of db that do not use the store's dictionary for
 * db's kind (those written before it), batch per write transaction:
 * decoded and stored again.  A record that will not decode is left as it
 * is and counted.  Nothing to do when the store has no such dictionary.
 * progress (may be NULL) gets the records looked at so far after each
 * transaction.  The writer only.
 */
struct store_recompress {
	uint64_t rewritten, kept, unreadable;
	uint64_t bytes_before, bytes_after;  /* of the rewritten ones */
};
int store_recompress(struct store *s, enum store_db db, size_t batch,
		     struct store_recompress *c, void (*progress)(uint64_t done, void *arg),
		     void *arg);
/* Use dict (a zstd dictionary, copied) for db's kind.  Errors: CL_ECODEC
 * when zstd will not load it, CL_ENOMEM. */
int store_dict_use(struct store *s, enum store_db db, const void *dict, size_t len);
/* The id (as frames name it) and size of db's kind's dictionary, 0 when
 * none; its key in meta (NULL for meta itself, whose records are always
 * plain frames: its schema record is read before any dictionary). */
unsigned store_dict_id(const struct store *s, enum store_db db);
size_t store_dict_size(const struct store *s, enum store_db db);
const char *store_dict_key(enum store_db db);
/*
 * A codec (store_codec_open) that uses s's dictionaries, whenever s has
 * them: for worker threads encoding what s's thread writes.  s must
 * outlive the codec; s may load its dictionaries while the codec is in use.
 */
void store_codec_follow(struct store *codec, struct store *s);

/* Keys of meta that hold raw values, not zstd JSON. */
int store_meta_is_raw(const char *key, size_t klen);

/* Encode / decode one value: canonical JSON, one zstd frame (encoded with
 * the results' dictionary when the store has one: not for problems). */
int store_encode(struct store *s, const json_t *v, const void **out, size_t *len);
int store_decode(struct store *s, const void *data, size_t len, json_t **out);
/* Only the zstd half of store_decode: the JSON text, not parsed, into
 * *text (s's scratch buffer: valid until the next decode on s). */
int store_decompress(struct store *s, const void *data, size_t len, const char **text,
		     size_t *n);
/* The same, appended to out (NUL-terminated; out as it was on error). */
int store_decompress_to(struct store *s, const void *data, size_t len, struct buf *out);

/*
 * Call fn for each record of db whose key starts with prefix ("" for all),
 * in key order.  fn gets the key (not NUL-terminated) and either the
 * decoded value (borrowed for the call; NULL when decoding failed, with
 * the reason in err_msg(rc)) and the decode status rc; a raw value of meta
 * (see store_meta_is_raw) comes with v NULL and rc 0.  A non-zero return
 * from fn stops the walk and is returned.
 */
typedef int (*store_each_fn)(const char *key, size_t klen, json_t *v, int rc, void *arg);
int store_each(struct store *s, MDB_txn *txn, enum store_db db, const char *prefix,
	       store_each_fn fn, void *arg);

/*
 * Let go of the pages of the map this process has touched.  They are the
 * file's (in the page cache) and are faulted in again when read, so this
 * only keeps a long writer's resident size from growing with the store.
 * Call it between transactions.
 */
void store_drop_pages(struct store *s);

/* The same from the first key after `after` (all keys when "") on. */
int store_each_after(struct store *s, MDB_txn *txn, enum store_db db, const char *after,
		     store_each_fn fn, void *arg);

/*
 * The pid of the process that holds dir's writer lock (a running
 * clarifyd, an import), or 0 when none does or it cannot be told.
 */
long store_writer_pid(const char *dir);

/* Number of records in db. */
int store_count(struct store *s, MDB_txn *txn, enum store_db db, uint64_t *n);

/* ---- problems and jobs (store/problems.c) ----------------------------- */

/* "apps/train/0001"; out at least STORE_KEY_MAX bytes. */
#define STORE_KEY_MAX 128
int store_problem_key(char *out, size_t n, const char *split, int64_t id);
/* "apps/train/0001#ambiguous" */
int store_job_key(char *out, size_t n, const char *problem_key, int cat);

/*
 * meta "shard": the shard this store holds, {"index": K, "count": N}, as
 * clarify import --shards wrote it (its problems are those with
 * hash_shard(key, N) == K).  store_shard_get gives CL_ENOTFOUND for a
 * store that is not a shard; store_shard_set writes it in txn.
 */
#define STORE_META_SHARD "shard"
int store_shard_get(struct store *s, MDB_txn *txn, unsigned *index, unsigned *count);
int store_shard_set(struct store *s, MDB_txn *txn, unsigned index, unsigned count);

/* A fresh pending job record (new reference). */
json_t *store_job_new(int64_t now);

struct store_problem {
	char key[STORE_KEY_MAX];
	json_t *rec;        /* question, starter_code, difficulty, url,
			       solutions, input_output, source; owned */
};

struct import_counts {
	uint64_t added;
	uint64_t updated;
	uint64_t unchanged;
	uint64_t jobs_added;
	uint64_t skipped;   /* over the record size cap: logged, not written */
};

/*
 * Write a batch of problems in one transaction: a new key is added, a
 * known one updated only when its content (all but source and times)
 * differs.  Each problem gets a pending job per category in cats unless
 * that job exists, whatever its state.  Counts are added to *c.
 */
int store_import(struct store *s, struct store_problem *items, size_t n,
		 unsigned cats, struct import_counts *c);

#endif
