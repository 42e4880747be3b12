/* test_store.c - the LMDB+zstd store: schema, codec, locking, map growth,
 * import batches.  Every test runs on a real LMDB environment in a fresh
 * temporary directory. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zstd.h>

#include "../../store/store.h"
#include "testutil.h"

struct fx {
	char dir[256];
	struct store s;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (test_tmpdir(f->dir, sizeof(f->dir), "test_store"))
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	int rc;

	store_close(&f->s);
	rc = test_rmtree(f->dir);
	free(f);
	return rc;
}

static void open_writer(struct fx *f, size_t map_size)
{
	struct store_options o;

	store_options_default(&o);
	if (map_size)
		o.map_size = map_size;
	assert_int_equal(store_open(&f->s, f->dir, STORE_WRITER, &o), 0);
}

static int put_fn(struct store *s, MDB_txn *txn, void *arg)
{
	json_t *v = json_pack("{s:s, s:i, s:[i,i]}", "b", "two", "a", 1, "c", 3, 4);
	int rc = store_put(s, txn, STORE_PROBLEMS, arg, v);

	json_decref(v);
	return rc;
}

static void writer_creates_named_databases_and_schema(void **state)
{
	struct fx *f = *state;
	static const char *names[] = { "meta", "problems", "jobs", "results", "cache" };
	MDB_txn *txn;
	json_t *meta;

	open_writer(f, 0);
	assert_int_equal(store_read_begin(&f->s, &txn), 0);
	for (size_t i = 0; i < 5; i++) {
		MDB_dbi dbi;

		assert_int_equal(mdb_dbi_open(txn, names[i], 0, &dbi), 0);
	}
	assert_int_equal(store_get(&f->s, txn, STORE_META, "schema", &meta), 0);
	assert_int_equal(jsonx_int(meta, "version", 0), STORE_SCHEMA_VERSION);
	json_decref(meta);
	store_read_end(txn);
}

static void values_are_zstd_frames_of_canonical_json(void **state)
{
	struct fx *f = *state;
	MDB_txn *txn;
	MDB_val k = { 3, "key" }, v;
	char out[256];
	size_t n;
	json_t *back;

	open_writer(f, 0);
	assert_int_equal(store_write(&f->s, put_fn, "key"), 0);
	assert_int_equal(store_read_begin(&f->s, &txn), 0);
	assert_int_equal(mdb_get(txn, f->s.dbi[STORE_PROBLEMS], &k, &v), 0);
	assert_true(v.mv_size > 4);
	assert_memory_equal(v.mv_data, "\x28\xb5\x2f\xfd", 4); /* zstd magic */
	n = ZSTD_decompress(out, sizeof(out) - 1, v.mv_data, v.mv_size);
	assert_false(ZSTD_isError(n));
	out[n] = '\0';
	assert_string_equal(out, "{\"a\":1,\"b\":\"two\",\"c\":[3,4]}");
	assert_int_equal(store_get(&f->s, txn, STORE_PROBLEMS, "key", &back), 0);
	assert_string_equal(jsonx_str(back, "b"), "two");
	json_decref(back);
	store_read_end(txn);
}

static void get_of_a_missing_key_is_notfound(void **state)
{
	struct fx *f = *state;
	MDB_txn *txn;
	json_t *v = (json_t *)1;

	open_writer(f, 0);
	assert_int_equal(store_read_begin(&f->s, &txn), 0);
	assert_int_equal(store_get(&f->s, txn, STORE_JOBS, "nope", &v), CL_ENOTFOUND);
	assert_null(v);
	store_read_end(txn);
}

static void reader_of_a_missing_store_is_refused(void **state)
{
	struct fx *f = *state;
	char path[300];
	int rc;

	snprintf(path, sizeof(path), "%s/absent", f->dir);
	err_clear();
	rc = store_open(&f->s, path, STORE_RDONLY, NULL);
	assert_int_equal(rc, CL_ENOTFOUND);
	assert_non_null(strstr(err_msg(rc), "no store at"));
}

static int bump_schema(struct store *s, MDB_txn *txn, void *arg)
{
	json_t *v = json_pack("{s:i}", "version", 99);
	int rc = store_put(s, txn, STORE_META, "schema", v);

	(void)arg;
	json_decref(v);
	return rc;
}

static void newer_schema_is_refused(void **state)
{
	struct fx *f = *state;
	int rc;

	open_writer(f, 0);
	assert_int_equal(store_write(&f->s, bump_schema, NULL), 0);
	store_close(&f->s);
	err_clear();
	rc = store_open(&f->s, f->dir, STORE_RDONLY, NULL);
	assert_int_equal(rc, CL_ESCHEMA);
	assert_non_null(strstr(err_msg(rc), "schema version 99"));
	assert_non_null(strstr(err_msg(rc), "upgrade"));
}

static int schema_v2_fn(struct store *s, MDB_txn *txn, void *arg)
{
	json_t *v = json_pack("{s:i}", "version", 2);
	json_t *job = json_pack("{s:s, s:i}", "state", "done", "attempts", 1);
	int rc = store_put(s, txn, STORE_META, "schema", v);

	(void)arg;
	if (!rc)
		rc = store_put(s, txn, STORE_JOBS, "apps/train/0001#ambiguous", job);
	json_decref(v);
	json_decref(job);
	return rc;
}

/* A store of version 2 opened by a writer is upgraded in place, its jobs
 * intact; a reader leaves it as it is. */
static void older_schema_is_upgraded_in_place(void **state)
{
	struct fx *f = *state;
	json_t *schema = NULL, *job = NULL;
	MDB_txn *txn;

	open_writer(f, 0);
	assert_int_equal(store_write(&f->s, schema_v2_fn, NULL), 0);
	store_close(&f->s);
	assert_int_equal(store_open(&f->s, f->dir, STORE_RDONLY, NULL), 0);
	assert_int_equal(store_read_begin(&f->s, &txn), 0);
	assert_int_equal(store_get(&f->s, txn, STORE_META, "schema", &schema), 0);
	store_read_end(txn);
	assert_int_equal(jsonx_int(schema, "version", 0), 2);
	json_decref(schema);
	store_close(&f->s);

	open_writer(f, 0);
	assert_int_equal(store_read_begin(&f->s, &txn), 0);
	assert_int_equal(store_get(&f->s, txn, STORE_META, "schema", &schema), 0);
	assert_int_equal(store_get(&f->s, txn, STORE_JOBS, "apps/train/0001#ambiguous", &job), 0);
	store_read_end(txn);
	assert_int_equal(jsonx_int(schema, "version", 0), STORE_SCHEMA_VERSION);
	assert_int_equal(jsonx_int(schema, "upgraded_from", 0), 2);
	assert_string_equal(jsonx_str(job, "state"), "done");
	assert_int_equal(job_state_parse("answer"), JOB_ANSWER);
	json_decref(schema);
	json_decref(job);
}

static void second_writer_is_refused_with_holder_pid(void **state)
{
	struct fx *f = *state;
	int ready[2], hold[2], rc;
	char msg[64], c;
	pid_t pid;

	assert_int_equal(pipe(ready), 0);
	assert_int_equal(pipe(hold), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct store s;

		close(ready[0]);
		close(hold[1]);
		if (store_open(&s, f->dir, STORE_WRITER, NULL) != 0)
			_exit(1);
		if (write(ready[1], "r", 1) != 1)
			_exit(1);
		if (read(hold[0], &c, 1) < 0) /* until the parent closes */
			_exit(1);
		store_close(&s);
		_exit(0);
	}
	close(ready[1]);
	close(hold[0]);
	assert_int_equal(read(ready[0], &c, 1), 1);
	err_clear();
	rc = store_open(&f->s, f->dir, STORE_WRITER, NULL);
	assert_int_equal(rc, CL_ELOCKED);
	snprintf(msg, sizeof(msg), "pid %ld", (long)pid);
	assert_non_null(strstr(err_msg(rc), msg));
	/* a reader is welcome meanwhile */
	assert_int_equal(store_open(&f->s, f->dir, STORE_RDONLY, NULL), 0);
	store_close(&f->s);
	/* the lock dies with its holder */
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	close(hold[1]);
	close(ready[0]);
	open_writer(f, 0);
}

static int put_open(struct store *s, MDB_txn *txn, void *arg)
{
	int *fds = arg;
	char c;
	json_t *v = json_pack("{s:s}", "state", "uncommitted");
	int rc = store_put(s, txn, STORE_PROBLEMS, "k", v);

	json_decref(v);
	/* let the reader look while this transaction is open */
	if (write(fds[1], "w", 1) != 1 || read(fds[2], &c, 1) != 1)
		return CL_EIO;
	return rc;
}

static void reader_sees_committed_data_while_writer_writes(void **state)
{
	struct fx *f = *state;
	int to_child[2], to_parent[2], fds[3];
	pid_t pid;
	int status;
	json_t *v = json_pack("{s:s}", "state", "committed");

	open_writer(f, 0);
	assert_int_equal(store_write(&f->s, put_fn, "k"), 0);
	json_decref(v);
	assert_int_equal(pipe(to_child), 0);
	assert_int_equal(pipe(to_parent), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct store r;
		MDB_txn *txn;
		json_t *got;
		char c;
		int ok;

		if (read(to_child[0], &c, 1) != 1)
			_exit(2);
		if (store_open(&r, f->dir, STORE_RDONLY, NULL) || store_read_begin(&r, &txn))
			_exit(3);
		if (store_get(&r, txn, STORE_PROBLEMS, "k", &got))
			_exit(4);
		ok = jsonx_str(got, "b") && strcmp(jsonx_str(got, "b"), "two") == 0;
		json_decref(got);
		store_read_end(txn);
		store_close(&r);
		if (write(to_parent[1], "d", 1) != 1)
			_exit(5);
		_exit(ok ? 0 : 6);
	}
	fds[1] = to_child[1];
	fds[2] = to_parent[0];
	assert_int_equal(store_write(&f->s, put_open, fds), 0);
	waitpid(pid, &status, 0);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

struct bulk {
	int from, to;
};

static int put_bulk(struct store *s, MDB_txn *txn, void *arg)
{
	struct bulk *b = arg;
	char key[32], text[4096];

	for (int i = b->from; i < b->to; i++) {
		json_t *v;
		int rc;
		uint64_t x = (uint64_t)i * 0x9e3779b97f4a7c15ULL + 1;

		/* incompressible text so the map really fills */
		for (size_t j = 0; j < sizeof(text) - 1; j++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			text[j] = (char)('a' + x % 26);
		}
		text[sizeof(text) - 1] = '\0';
		snprintf(key, sizeof(key), "k%06d", i);
		v = json_pack("{s:s, s:i}", "text", text, "i", i);
		rc = store_put(s, txn, STORE_CACHE, key, v);
		json_decref(v);
		if (rc)
			return rc;
	}
	return 0;
}

static void full_map_grows_and_the_batch_is_retried(void **state)
{
	struct fx *f = *state;
	MDB_txn *txn;
	uint64_t n;
	json_t *v;

	open_writer(f, 1 << 20); /* 1 MiB: full after ~200 records */
	for (int i = 0; i < 2000; i += 500) {
		struct bulk b = { i, i + 500 };

		assert_int_equal(store_write(&f->s, put_bulk, &b), 0);
	}
	assert_true(f->s.grows >= 2);
	assert_int_equal(store_read_begin(&f->s, &txn), 0);
	assert_int_equal(store_count(&f->s, txn, STORE_CACHE, &n), 0);
	assert_int_equal(n, 2000);
	assert_int_equal(store_get(&f->s, txn, STORE_CACHE, "k001999", &v), 0);
	assert_int_equal(jsonx_int(v, "i", -1), 1999);
	json_decref(v);
	store_read_end(txn);
}

static int collect(const char *key, size_t klen, json_t *v, int rc, void *arg)
{
	json_t *list = arg;

	(void)v;
	if (rc)
		return rc;
	json_array_append_new(list, json_stringn(key, klen));
	return 0;
}

static int put_keys(struct store *s, MDB_txn *txn, void *arg)
{
	static const char *keys[] = { "apps/train/0002", "apps/test/0001", "apps/train/0001",
				      "apps/trainx/0001" };
	json_t *v = json_pack("{s:s}", "question", "q");

	(void)arg;
	for (size_t i = 0; i < 4; i++) {
		int rc = store_put(s, txn, STORE_PROBLEMS, keys[i], v);

		if (rc) {
			json_decref(v);
			return rc;
		}
	}
	json_decref(v);
	return 0;
}

static void each_walks_a_prefix_in_key_order(void **state)
{
	struct fx *f = *state;
	json_t *list = json_array();
	MDB_txn *txn;

	open_writer(f, 0);
	assert_int_equal(store_write(&f->s, put_keys, NULL), 0);
	assert_int_equal(store_read_begin(&f->s, &txn), 0);
	assert_int_equal(store_each(&f->s, txn, STORE_PROBLEMS, "apps/train/", collect, list), 0);
	assert_int_equal(json_array_size(list), 2);
	assert_string_equal(json_string_value(json_array_get(list, 0)), "apps/train/0001");
	assert_string_equal(json_string_value(json_array_get(list, 1)), "apps/train/0002");
	json_array_clear(list);
	assert_int_equal(store_each(&f->s, txn, STORE_PROBLEMS, "", collect, list), 0);
	assert_int_equal(json_array_size(list), 4);
	store_read_end(txn);
	json_decref(list);
}

static void decode_refuses_garbage_truncation_and_oversize(void **state)
{
	struct fx *f = *state;
	struct store_options o;
	char big[4096], frame[8192];
	size_t z;
	json_t *v;

	store_options_default(&o);
	o.max_record = 1024;
	assert_int_equal(store_open(&f->s, f->dir, STORE_WRITER, &o), 0);
	assert_int_equal(store_decode(&f->s, "not zstd", 8, &v), CL_ECODEC);
	assert_null(v);
	memset(big, ' ', sizeof(big));
	big[0] = '"';
	big[sizeof(big) - 1] = '"';
	z = ZSTD_compress(frame, sizeof(frame), big, sizeof(big), 3);
	assert_false(ZSTD_isError(z));
	assert_int_equal(store_decode(&f->s, frame, z, &v), CL_ETOOBIG);
	z = ZSTD_compress(frame, sizeof(frame), "{\"a\":1}", 7, 3);
	assert_int_equal(store_decode(&f->s, frame, z, &v), 0);
	json_decref(v);
	assert_int_equal(store_decode(&f->s, frame, z - 2, &v), CL_ECODEC);
	z = ZSTD_compress(frame, sizeof(frame), "{\"a\":", 5, 3);
	assert_int_equal(store_decode(&f->s, frame, z, &v), CL_EPARSE);
}

static size_t compress_unsized(const char *text, size_t n, char *dst, size_t cap)
{
	ZSTD_CCtx *c = ZSTD_createCCtx();
	size_t z;

	ZSTD_CCtx_setParameter(c, ZSTD_c_contentSizeFlag, 0);
	z = ZSTD_compress2(c, dst, cap, text, n);
	ZSTD_freeCCtx(c);
	return z;
}

static void decode_accepts_frames_without_a_content_size(void **state)
{
	struct fx *f = *state;
	struct store_options o;
	static char text[300000], frame[400000];
	size_t z;
	json_t *v;

	store_options_default(&o);
	o.max_record = 200000;
	assert_int_equal(store_open(&f->s, f->dir, STORE_WRITER, &o), 0);
	z = compress_unsized("{\"a\":[1,2]}", 11, frame, sizeof(frame));
	assert_false(ZSTD_isError(z));
	assert_int_equal(ZSTD_getFrameContentSize(frame, z), ZSTD_CONTENTSIZE_UNKNOWN);
	assert_int_equal(store_decode(&f->s, frame, z, &v), 0);
	assert_int_equal(json_array_size(json_object_get(v, "a")), 2);
	json_decref(v);
	/* a larger one decodes in steps, within the cap */
	memset(text, ' ', sizeof(text));
	text[0] = '[';
	text[150000] = ']';
	z = compress_unsized(text, 150001, frame, sizeof(frame));
	assert_int_equal(store_decode(&f->s, frame, z, &v), 0);
	assert_true(json_is_array(v));
	json_decref(v);
	text[150000] = ' ';
	text[sizeof(text) - 1] = ']';
	z = compress_unsized(text, sizeof(text), frame, sizeof(frame));
	assert_int_equal(store_decode(&f->s, frame, z, &v), CL_ETOOBIG);
	z = compress_unsized("{\"a\":[1,2]}", 11, frame, sizeof(frame));
	assert_int_equal(store_decode(&f->s, frame, z - 3, &v), CL_ECODEC);
}

static struct store_problem problem(const char *key, const char *question, const char *source)
{
	struct store_problem p;

	snprintf(p.key, sizeof(p.key), "%s", key);
	p.rec = json_pack("{s:s, s:s, s:s, s:s, s:[s], s:n, s:s}", "question", question,
			  "starter_code", "", "difficulty", "interview", "url", "",
			  "solutions", "print(1)", "input_output", "source", source);
	return p;
}

static void release_problems(struct store_problem *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		json_decref(p[i].rec);
}

static const char *job_state_of(struct store *s, const char *key)
{
	static char state[32];
	MDB_txn *txn;
	json_t *j;

	state[0] = '\0';
	if (store_read_begin(s, &txn))
		return state;
	if (store_get(s, txn, STORE_JOBS, key, &j) == 0) {
		snprintf(state, sizeof(state), "%s", jsonx_str(j, "state"));
		json_decref(j);
	}
	store_read_end(txn);
	return state;
}

static int progress_job(struct store *s, MDB_txn *txn, void *arg)
{
	json_t *j = store_job_new(1);
	int rc;

	json_object_set_new(j, "state", json_string("done"));
	rc = store_put(s, txn, STORE_JOBS, arg, j);
	json_decref(j);
	return rc;
}

static void import_counts_new_unchanged_updated_and_keeps_jobs(void **state)
{
	struct fx *f = *state;
	struct import_counts c = { 0 };
	struct store_problem p[2];

	open_writer(f, 0);
	p[0] = problem("apps/train/0001", "Sum two numbers.", "a/0001");
	p[1] = problem("apps/train/0002", "Sort a list.", "a/0002");
	assert_int_equal(store_import(&f->s, p, 2, CAT_ALL, &c), 0);
	release_problems(p, 2);
	assert_int_equal(c.added, 2);
	assert_int_equal(c.jobs_added, 6);
	assert_string_equal(job_state_of(&f->s, "apps/train/0001#incomplete"), "pending");

	/* a job that progressed is never reset */
	assert_int_equal(store_write(&f->s, progress_job, "apps/train/0001#ambiguous"), 0);

	/* same content from another source: unchanged; new question: updated */
	memset(&c, 0, sizeof(c));
	p[0] = problem("apps/train/0001", "Sum two numbers.", "b.jsonl:1");
	p[1] = problem("apps/train/0002", "Sort a list, descending.", "b.jsonl:2");
	assert_int_equal(store_import(&f->s, p, 2, CAT_ALL, &c), 0);
	release_problems(p, 2);
	assert_int_equal(c.added, 0);
	assert_int_equal(c.unchanged, 1);
	assert_int_equal(c.updated, 1);
	assert_int_equal(c.jobs_added, 0);
	assert_string_equal(job_state_of(&f->s, "apps/train/0001#ambiguous"), "done");
}

static void import_creates_jobs_only_for_configured_categories(void **state)
{
	struct fx *f = *state;
	struct import_counts c = { 0 };
	struct store_problem p = problem("apps/test/0042", "Count words.", "x");

	open_writer(f, 0);
	assert_int_equal(store_import(&f->s, &p, 1, 1u << CAT_INCOMPLETE, &c), 0);
	release_problems(&p, 1);
	assert_int_equal(c.jobs_added, 1);
	assert_string_equal(job_state_of(&f->s, "apps/test/0042#incomplete"), "pending");
	assert_string_equal(job_state_of(&f->s, "apps/test/0042#ambiguous"), "");
}

static void import_survives_map_growth_with_exact_counts(void **state)
{
	struct fx *f = *state;
	struct import_counts c = { 0 };
	struct store_problem p[300];
	char text[3000];

	open_writer(f, 1 << 20);
	for (int i = 0; i < 300; i++) {
		char key[64];
		uint64_t x = (uint64_t)i + 7;

		for (size_t j = 0; j < sizeof(text) - 1; j++) {
			x = x * 6364136223846793005ULL + 1442695040888963407ULL;
			text[j] = (char)('a' + (x >> 33) % 26);
		}
		text[sizeof(text) - 1] = '\0';
		snprintf(key, sizeof(key), "apps/train/%04d", i);
		p[i] = problem(key, text, "gen");
	}
	assert_int_equal(store_import(&f->s, p, 300, CAT_ALL, &c), 0);
	release_problems(p, 300);
	assert_true(f->s.grows >= 1);
	assert_int_equal(c.added, 300);
	assert_int_equal(c.jobs_added, 900);
}

static void keys_have_the_documented_form(void **state)
{
	char k[STORE_KEY_MAX], j[STORE_KEY_MAX + 32];

	(void)state;
	assert_int_equal(store_problem_key(k, sizeof(k), "train", 1), 0);
	assert_string_equal(k, "apps/train/0001");
	assert_int_equal(store_problem_key(k, sizeof(k), "test", 12345), 0);
	assert_string_equal(k, "apps/test/12345");
	assert_int_equal(store_problem_key(k, sizeof(k), "train", -1), CL_EINVAL);
	assert_int_equal(store_job_key(j, sizeof(j), "apps/train/0001", CAT_INCONSISTENT), 0);
	assert_string_equal(j, "apps/train/0001#inconsistent");
	assert_int_equal(job_state_parse("rejected"), JOB_REJECTED);
	assert_int_equal(job_state_parse("bogus"), -1);
	assert_string_equal(job_state_name(JOB_CLARIFY), "clarify");
}

static int shard_fn(struct store *s, MDB_txn *txn, void *arg)
{
	const unsigned *kn = arg;

	return store_shard_set(s, txn, kn[0], kn[1]);
}

static int bad_shard_fn(struct store *s, MDB_txn *txn, void *arg)
{
	json_t *v = json_pack("{s:i, s:i}", "index", 4, "count", 4);
	int rc = store_put(s, txn, STORE_META, STORE_META_SHARD, v);

	(void)arg;
	json_decref(v);
	return rc;
}

static void shard_record_round_trips_and_is_checked(void **state)
{
	struct fx *f = *state;
	unsigned kn[2] = { 2, 4 }, k = 9, n = 9;
	MDB_txn *txn;

	open_writer(f, 0);
	assert_int_equal(store_read_begin(&f->s, &txn), 0);
	assert_int_equal(store_shard_get(&f->s, txn, &k, &n), CL_ENOTFOUND);
	store_read_end(txn);
	assert_int_equal(store_write(&f->s, shard_fn, kn), 0);
	assert_int_equal(store_read_begin(&f->s, &txn), 0);
	assert_int_equal(store_shard_get(&f->s, txn, &k, &n), 0);
	store_read_end(txn);
	assert_int_equal(k, 2);
	assert_int_equal(n, 4);
	/* an index out of its count is no shard record at all */
	assert_int_equal(store_write(&f->s, bad_shard_fn, NULL), 0);
	assert_int_equal(store_read_begin(&f->s, &txn), 0);
	err_clear();
	assert_int_equal(store_shard_get(&f->s, txn, &k, &n), CL_ESCHEMA);
	assert_non_null(strstr(err_msg(CL_ESCHEMA), "invalid shard record"));
	store_read_end(txn);
}

/* a codec without an environment encodes and decodes, as fuzz_record uses it */
static void codec_without_an_environment(void **state)
{
	struct store s;
	json_t *v = json_pack("{s:s, s:i}", "state", "done", "attempts", 1), *back = NULL;
	const void *data;
	size_t len;

	(void)state;
	assert_int_equal(store_codec_open(&s, NULL), 0);
	assert_null(s.env);
	assert_int_equal(store_encode(&s, v, &data, &len), 0);
	assert_int_equal(store_decode(&s, data, len, &back), 0);
	assert_true(json_equal(v, back));
	json_decref(back);
	json_decref(v);
	store_close(&s);
}

/* ---- the zstd dictionary ---------------------------------------------------- */

/* Result i: a record shaped like clarifyd's, its text from a small vocabulary. */
static json_t *dict_record(int i)
{
	static const char *const words[] = {
		"the", "array", "integers", "print", "output", "each", "test", "case",
		"given", "string", "minimum", "number", "of", "operations", "query", "line",
		"first", "contains", "second", "value", "maximum", "graph", "vertices", "edges",
	};
	uint64_t x = 0x9e3779b97f4a7c15ULL * (uint64_t)(i + 1);
	char text[1600];
	size_t n = 0;

	while (n < sizeof(text) - 16) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		n += (size_t)snprintf(text + n, sizeof(text) - n, "%s%s",
				      words[x % CL_ARRAY_SIZE(words)], x % 11 ? " " : ".\n");
	}
	return json_pack("{s:s, s:[s], s:s, s:b, s:{s:s, s:i, s:s}, s:{s:f, s:f}}",
			 "modified_problem", text, "questions", "What is the maximum value?",
			 "category", i % 3 == 0 ? "ambiguous" : i % 3 == 1 ? "incomplete"
					       : "inconsistent", "accepted", 1, "template", "name",
			 "modify-ambiguous", "version", 3, "hash", "4f1c2a9e0b7d", "stats",
			 "perplexity", 40.0 + i % 50, "entropy", 4.0 + (i % 7) / 10.0);
}

struct dict_range {
	enum store_db db;
	int from, to;
};

static int dict_put_fn(struct store *s, MDB_txn *txn, void *arg)
{
	const struct dict_range *r = arg;
	int rc = 0;

	for (int i = r->from; !rc && i < r->to; i++) {
		char key[32];
		json_t *v = dict_record(i);

		snprintf(key, sizeof(key), "apps/train/%04d#x", i);
		rc = store_put(s, txn, r->db, key, v);
		json_decref(v);
	}
	return rc;
}

static void dict_put_db(struct store *s, enum store_db db, int from, int to)
{
	struct dict_range r = { db, from, to };

	assert_int_equal(store_write(s, dict_put_fn, &r), 0);
}

static void dict_put(struct store *s, int from, int to)
{
	dict_put_db(s, STORE_RESULTS, from, to);
}

/* Every record of db from..to decodes to what was written; their frames
 * name dictionary id (0: none); returns their total compressed size. */
static size_t dict_check_db(struct store *s, enum store_db db, int from, int to, unsigned id)
{
	MDB_txn *txn;
	size_t total = 0;

	assert_int_equal(store_read_begin(s, &txn), 0);
	for (int i = from; i < to; i++) {
		char key[32];
		const void *data;
		size_t len;
		json_t *got = NULL, *want = dict_record(i);

		snprintf(key, sizeof(key), "apps/train/%04d#x", i);
		assert_int_equal(store_get_raw(s, txn, db, key, &data, &len), 0);
		assert_int_equal(ZSTD_getDictID_fromFrame(data, len), id);
		total += len;
		assert_int_equal(store_get(s, txn, db, key, &got), 0);
		assert_true(json_equal(got, want));
		json_decref(got);
		json_decref(want);
	}
	store_read_end(txn);
	return total;
}

static size_t dict_check(struct store *s, int from, int to, unsigned id)
{
	return dict_check_db(s, STORE_RESULTS, from, to, id);
}

static int schema_v1_fn(struct store *s, MDB_txn *txn, void *arg)
{
	json_t *v = json_pack("{s:i}", "version", 1);
	int rc = store_put(s, txn, STORE_META, "schema", v);

	(void)arg;
	json_decref(v);
	return rc;
}

/*
 * The dictionary is trained from the results, kept in meta, and used from
 * then on: the frames written after it name it and are much smaller, the
 * ones before stay plain, and both decode, also after the store reopens.
 */
static void dictionary_shrinks_new_records_and_old_ones_still_decode(void **state)
{
	struct fx *f = *state;
	const void *raw;
	size_t before, after, rawlen;
	json_t *schema = NULL;
	unsigned id;
	MDB_txn *txn;

	open_writer(f, 0);
	/* a store of schema version 1, from before there were dictionaries */
	assert_int_equal(store_write(&f->s, schema_v1_fn, NULL), 0);
	dict_put(&f->s, 0, 400);
	assert_int_equal(store_dict_id(&f->s, STORE_RESULTS), 0);
	assert_int_equal(store_dict_create(&f->s, STORE_RESULTS), 0);
	assert_int_equal(store_read_begin(&f->s, &txn), 0);
	assert_int_equal(store_get(&f->s, txn, STORE_META, "schema", &schema), 0);
	store_read_end(txn);
	assert_int_equal(jsonx_int(schema, "version", 0), STORE_SCHEMA_VERSION); /* not 1 */
	json_decref(schema);
	id = store_dict_id(&f->s, STORE_RESULTS);
	assert_true(id != 0);
	assert_true(store_dict_size(&f->s, STORE_RESULTS) > 1024 && store_dict_size(&f->s, STORE_RESULTS) <= STORE_DICT_BYTES);
	dict_put(&f->s, 400, 800);
	before = dict_check(&f->s, 0, 400, 0);
	after = dict_check(&f->s, 400, 800, id);
	assert_true(after * 10 < before * 7); /* at least 30% smaller */
	/* trained once: a second call keeps it */
	assert_int_equal(store_dict_create(&f->s, STORE_RESULTS), 0);
	assert_int_equal(store_dict_id(&f->s, STORE_RESULTS), id);
	assert_int_equal(store_read_begin(&f->s, &txn), 0);
	assert_int_equal(store_get_raw(&f->s, txn, STORE_META, STORE_META_DICT, &raw, &rawlen), 0);
	assert_int_equal(rawlen, store_dict_size(&f->s, STORE_RESULTS));
	store_read_end(txn);
	assert_true(store_meta_is_raw(STORE_META_DICT, strlen(STORE_META_DICT)));
	store_close(&f->s);

	assert_int_equal(store_open(&f->s, f->dir, STORE_RDONLY, NULL), 0);
	dict_check(&f->s, 0, 400, 0);
	dict_check(&f->s, 400, 800, id);
	assert_int_equal(store_dict_id(&f->s, STORE_RESULTS), id);
	assert_int_equal(store_dict_create(&f->s, STORE_RESULTS), 0); /* has one: nothing to do */
}

/*
 * Problems have a dictionary of their own, trained (by store_dict_when, as
 * clarify import calls it) once there are enough of them; the results'
 * stays as it was, and each kind of record uses its own.
 */
static void problems_have_their_own_dictionary(void **state)
{
	struct fx *f = *state;
	const void *raw;
	size_t rawlen;
	MDB_txn *txn;
	unsigned pid, rid;
	int tried = 0, rtried = 0;

	open_writer(f, 0);
	assert_int_equal(store_write(&f->s, schema_v1_fn, NULL), 0);
	dict_put_db(&f->s, STORE_PROBLEMS, 0, 200);
	assert_int_equal(store_dict_when(&f->s, STORE_PROBLEMS, 300, &tried), 0);
	assert_int_equal(tried, 0); /* 200 < 300: not yet */
	assert_int_equal(store_dict_id(&f->s, STORE_PROBLEMS), 0);
	dict_put_db(&f->s, STORE_PROBLEMS, 200, 400);
	assert_int_equal(store_dict_when(&f->s, STORE_PROBLEMS, 300, &tried), 0);
	assert_int_equal(tried, 1);
	pid = store_dict_id(&f->s, STORE_PROBLEMS);
	assert_true(pid != 0);
	assert_int_equal(store_dict_id(&f->s, STORE_RESULTS), 0); /* only the problems' */
	dict_put_db(&f->s, STORE_PROBLEMS, 400, 500);
	dict_put(&f->s, 0, 300);
	dict_check_db(&f->s, STORE_PROBLEMS, 0, 400, 0);
	dict_check_db(&f->s, STORE_PROBLEMS, 400, 500, pid);
	dict_check(&f->s, 0, 300, 0); /* results do not use the problems' */
	assert_int_equal(store_dict_when(&f->s, STORE_RESULTS, 300, &rtried), 0);
	rid = store_dict_id(&f->s, STORE_RESULTS);
	assert_true(rid != 0 && rid != pid);
	dict_put(&f->s, 300, 400);
	dict_check(&f->s, 300, 400, rid);
	dict_put_db(&f->s, STORE_PROBLEMS, 500, 600);
	dict_check_db(&f->s, STORE_PROBLEMS, 500, 600, pid);
	assert_true(store_meta_is_raw(STORE_META_DICT_PROBLEMS, strlen(STORE_META_DICT_PROBLEMS)));
	/* meta's records stay plain frames, whatever dictionaries there are:
	 * the schema is read before they are loaded */
	assert_int_equal(store_write(&f->s, schema_v1_fn, NULL), 0);
	{
		struct store_options o;
		struct store g;

		store_options_default(&o);
		store_close(&f->s);
		assert_int_equal(store_open(&g, f->dir, STORE_WRITER, &o), 0);
		assert_int_equal(store_dict_create(&g, STORE_META), CL_EINVAL);
		assert_int_equal(store_read_begin(&g, &txn), 0);
		assert_int_equal(store_get_raw(&g, txn, STORE_META, "schema", &raw, &rawlen), 0);
		assert_int_equal(ZSTD_getDictID_fromFrame(raw, rawlen), 0);
		store_read_end(txn);
		store_close(&g);
	}
	assert_int_equal(store_open(&f->s, f->dir, STORE_RDONLY, NULL), 0);
	assert_int_equal(store_dict_id(&f->s, STORE_PROBLEMS), pid);
	assert_int_equal(store_dict_id(&f->s, STORE_RESULTS), rid);
	dict_check_db(&f->s, STORE_PROBLEMS, 400, 600, pid);
	dict_check(&f->s, 300, 400, rid);
}

/* A reader that opened the store before the writer trained its dictionary
 * picks it up with its next transaction. */
static void reader_opened_before_the_dictionary_reads_its_frames(void **state)
{
	struct fx *f = *state;
	struct store r;

	open_writer(f, 0);
	dict_put(&f->s, 0, 300);
	assert_int_equal(store_open(&r, f->dir, STORE_RDONLY, NULL), 0);
	dict_check(&r, 0, 300, 0);
	assert_int_equal(store_dict_id(&r, STORE_RESULTS), 0);
	assert_int_equal(store_dict_create(&f->s, STORE_RESULTS), 0);
	dict_put(&f->s, 300, 400);
	dict_check(&r, 300, 400, store_dict_id(&f->s, STORE_RESULTS));
	assert_int_equal(store_dict_id(&r, STORE_RESULTS), store_dict_id(&f->s, STORE_RESULTS));
	store_close(&r);
	/* one opened later has it from the start */
	assert_int_equal(store_open(&r, f->dir, STORE_RDONLY, NULL), 0);
	assert_int_equal(store_dict_id(&r, STORE_RESULTS), store_dict_id(&f->s, STORE_RESULTS));
	store_close(&r);
}

/* A worker's codec follows its store's dictionary; a codec without one
 * refuses such a frame with a reason instead of guessing. */
static void codec_follows_its_store_and_a_stranger_refuses(void **state)
{
	struct fx *f = *state;
	struct store codec, plain;
	json_t *v = dict_record(7), *back = NULL;
	const void *data;
	size_t len;
	int rc;

	open_writer(f, 0);
	assert_int_equal(store_codec_open(&codec, &f->s.opt), 0);
	store_codec_follow(&codec, &f->s);
	assert_int_equal(store_encode(&codec, v, &data, &len), 0);
	assert_int_equal(ZSTD_getDictID_fromFrame(data, len), 0); /* none yet */
	dict_put(&f->s, 0, 300);
	assert_int_equal(store_dict_create(&f->s, STORE_RESULTS), 0);
	assert_int_equal(store_dict_id(&codec, STORE_RESULTS), store_dict_id(&f->s, STORE_RESULTS));
	assert_int_equal(store_encode(&codec, v, &data, &len), 0);
	assert_int_equal(ZSTD_getDictID_fromFrame(data, len), store_dict_id(&f->s, STORE_RESULTS));
	assert_int_equal(store_decode(&f->s, data, len, &back), 0);
	assert_true(json_equal(v, back));
	json_decref(back);

	assert_int_equal(store_codec_open(&plain, NULL), 0);
	rc = store_decode(&plain, data, len, &back);
	assert_int_equal(rc, CL_ECODEC);
	assert_null(back);
	assert_non_null(strstr(err_msg(rc), "needs zstd dictionary"));
	store_close(&plain);
	store_close(&codec);
	json_decref(v);
}

static int junk_dict_fn(struct store *s, MDB_txn *txn, void *arg)
{
	return store_put_raw(s, txn, STORE_META, STORE_META_DICT, arg, strlen(arg));
}

/* Too little to train on, or a dictionary in meta that zstd will not load:
 * the store goes on without, and says so. */
static void no_dictionary_from_too_little_or_a_broken_one(void **state)
{
	struct fx *f = *state;
	static const char junk[] = "\x37\xa4\x30\xec not a dictionary at all";
	struct store r;
	int rc;

	open_writer(f, 0);
	dict_put(&f->s, 0, 2);
	assert_int_equal(store_open(&r, f->dir, STORE_RDONLY, NULL), 0);
	rc = store_dict_create(&r, STORE_RESULTS);
	assert_int_equal(rc, CL_EINVAL);
	assert_non_null(strstr(err_msg(rc), "read-only"));
	store_close(&r);
	rc = store_dict_create(&f->s, STORE_RESULTS);
	assert_int_equal(rc, CL_EINVAL);
	assert_non_null(strstr(err_msg(rc), "cannot train"));
	assert_int_equal(store_dict_id(&f->s, STORE_RESULTS), 0);
	dict_put(&f->s, 2, 4);
	dict_check(&f->s, 0, 4, 0);
	store_close(&f->s);

	open_writer(f, 0);
	assert_int_equal(store_write(&f->s, junk_dict_fn, (void *)junk), 0);
	store_close(&f->s);
	assert_int_equal(store_open(&f->s, f->dir, STORE_RDONLY, NULL), 0);
	dict_check(&f->s, 0, 4, 0); /* the plain frames still read */
	assert_int_equal(store_dict_id(&f->s, STORE_RESULTS), 0);
}

/* One record of n pseudo-random hex digits (compresses to about half). */
static int big_fn(struct store *s, MDB_txn *txn, void *arg)
{
	static uint64_t x = 88172645463325252ULL;
	int *i = arg;
	char key[32], *text = malloc(65537);
	json_t *v;
	int rc;

	if (!text)
		return CL_ENOMEM;
	for (int k = 0; k < 65536; k++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		text[k] = "0123456789abcdef"[x & 15];
	}
	text[65536] = '\0';
	v = json_pack("{s:s}", "blob", text);
	free(text);
	snprintf(key, sizeof(key), "k%06d", *i);
	rc = store_put(s, txn, STORE_RESULTS, key, v);
	json_decref(v);
	return rc;
}

/*
 * A full file system (a 512 KiB tmpfs; root only, else skipped): the
 * failing write says "No space left on device" and names the store, which
 * still opens and holds every record committed before.
 */
static void full_disk_is_named_and_harmless(void **state)
{
	struct fx *f = *state;
	struct store_options o;
	MDB_txn *txn;
	uint64_t n = 0;
	int rc = 0, i;

	if (geteuid() != 0 || mount("tmpfs", f->dir, "tmpfs", 0, "size=512k") != 0) {
		skip();
		return;
	}
	store_options_default(&o);
	o.map_size = (size_t)1 << 20; /* grows past the file system's size */
	rc = store_open(&f->s, f->dir, STORE_WRITER, &o);
	for (i = 0; !rc && i < 256; i++)
		rc = store_write(&f->s, big_fn, &i);
	if (rc) {
		assert_int_equal(rc, CL_ESTORE);
		assert_non_null(strstr(err_msg(rc), "No space left on device"));
		assert_non_null(strstr(err_msg(rc), f->dir));
	}
	store_close(&f->s);
	if (!rc) {
		umount2(f->dir, MNT_DETACH);
		fail_msg("256 writes of 32 KiB fitted in a 512 KiB file system");
	}
	assert_int_equal(store_open(&f->s, f->dir, STORE_RDONLY, &o), 0);
	assert_int_equal(store_read_begin(&f->s, &txn), 0);
	assert_int_equal(store_count(&f->s, txn, STORE_RESULTS, &n), 0);
	store_read_end(txn);
	assert_int_equal(n, i - 1); /* all but the write that failed */
	store_close(&f->s);
	assert_int_equal(umount2(f->dir, MNT_DETACH), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(writer_creates_named_databases_and_schema),
		T(shard_record_round_trips_and_is_checked),
		T(values_are_zstd_frames_of_canonical_json),
		T(get_of_a_missing_key_is_notfound),
		T(reader_of_a_missing_store_is_refused),
		T(newer_schema_is_refused),
		T(older_schema_is_upgraded_in_place),
		T(second_writer_is_refused_with_holder_pid),
		T(reader_sees_committed_data_while_writer_writes),
		T(full_map_grows_and_the_batch_is_retried),
		T(each_walks_a_prefix_in_key_order),
		T(decode_refuses_garbage_truncation_and_oversize),
		T(decode_accepts_frames_without_a_content_size),
		T(import_counts_new_unchanged_updated_and_keeps_jobs),
		T(import_creates_jobs_only_for_configured_categories),
		T(import_survives_map_growth_with_exact_counts),
		T(full_disk_is_named_and_harmless),
		T(dictionary_shrinks_new_records_and_old_ones_still_decode),
		T(problems_have_their_own_dictionary),
		T(reader_opened_before_the_dictionary_reads_its_frames),
		T(codec_follows_its_store_and_a_stranger_refuses),
		T(no_dictionary_from_too_little_or_a_broken_one),
		cmocka_unit_test(keys_have_the_documented_form),
		cmocka_unit_test(codec_without_an_environment),
#undef T
	};

	log_init("test_store", LOG_ERR);
	return cmocka_run_group_tests_name("store", tests, NULL, NULL);
}
