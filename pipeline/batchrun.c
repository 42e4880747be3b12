/*
 * batchrun.c - llm.mode batch (see batchrun.h).
 *
 * A batch goes: gathered (its JSONL file being written, in memory only)
 * -> written (file synced, record committed with its jobs: from here a
 * kill resumes it) -> uploaded (input file id recorded) -> submitted (the
 * provider's batch id recorded) -> polled until final -> its output and
 * error files downloaded and read into the response cache -> done.  The
 * provider's calls block, so they run one at a time on a thread of their
 * own; everything that touches the store runs on the caller's thread.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "batchrun.h"
#include "../llm/batch.h"
#include "../prompts/prompt.h"

enum bstate { B_GATHER, B_WRITTEN, B_UPLOADED, B_SUBMITTED, B_DONE };

static const char *const state_names[] = { "gathering", "written", "uploaded", "submitted",
					   "done" };

/* One request of a batch: the job that asked it and its custom_id. */
struct breq {
	char *job;
	char id[HASH_SHA256_HEX];
};

struct bjob {
	char local[96];            /* its key in the store, and the file's name */
	int stage;
	enum bstate state;
	int resumed;               /* read back from the store: look before making */
	int lost;                  /* resumed before its upload, without its file */
	char file_id[LLM_BATCH_ID_MAX], batch_id[LLM_BATCH_ID_MAX];
	char out_id[LLM_BATCH_ID_MAX], err_id[LLM_BATCH_ID_MAX];
	char status[32];           /* the provider's */
	char reason[300];
	struct breq *rq;
	size_t n, cap, lines;      /* requests, and lines written (ids are unique) */
	json_t *ids;               /* custom_id -> index of its first request */
	FILE *f;                   /* while gathering */
	size_t bytes;
	int64_t created;
	double next, wait;         /* the next call to the provider, and the backoff */
	int64_t counts[3];         /* the provider's request_counts */
	struct bjob *next_b;
};

enum { OP_NONE, OP_UPLOAD, OP_CREATE, OP_POLL, OP_DOWNLOAD };

struct op {
	int kind;
	struct bjob *bj;
	pthread_t th;
	atomic_int done;
	int rc;
	char err[512];
	char file_id[LLM_BATCH_ID_MAX];
	struct llm_batch_info info;
	char path[4200];
};

struct batch_run {
	struct store *s;
	struct batch_run_opts o;
	char dir[4096];
	struct bjob *gather[PROMPT_STAGES];
	struct bjob *live;         /* written and on: by creation */
	json_t *held;              /* job key -> 1 */
	json_t *failed;            /* custom_id -> why its line failed */
	json_t *tries;             /* custom_id -> batches it was unanswered in */
	struct op op;
	struct llm_options lo;     /* o.llm's, with abort: the provider's calls */
	atomic_int stopping;       /* set by batch_run_free: a call in progress ends */
	unsigned seq;
	int came_in;
};

static double now_s(void)
{
	return time_mono();
}

static void bjob_free(struct bjob *bj)
{
	if (!bj)
		return;
	for (size_t i = 0; i < bj->n; i++)
		free(bj->rq[i].job);
	free(bj->rq);
	json_decref(bj->ids);
	if (bj->f)
		fclose(bj->f);
	free(bj);
}

static void path_of(const struct batch_run *b, const struct bjob *bj, const char *ext,
		    char *out, size_t n)
{
	snprintf(out, n, "%s/%s%s", b->dir, bj->local, ext);
}

static int add_request(struct bjob *bj, const char *job, const char *id)
{
	if (bj->n == bj->cap && ARRAY_GROW(bj->rq, bj->cap, bj->n, 256))
		return CL_ENOMEM;
	bj->rq[bj->n].job = strdup(job);
	if (!bj->rq[bj->n].job)
		return CL_ENOMEM;
	snprintf(bj->rq[bj->n].id, sizeof(bj->rq[bj->n].id), "%s", id);
	if (!json_object_get(bj->ids, id))
		json_object_set_new(bj->ids, id, json_integer((json_int_t)bj->n));
	bj->n++;
	return 0;
}

/* ---- the record -------------------------------------------------------------- */

static json_t *record_of(const struct batch_run *b, const struct bjob *bj)
{
	json_t *jobs = json_array(), *failed = json_object(), *rec;

	for (size_t i = 0; i < bj->n; i++) {
		const json_t *why = json_object_get(b->failed, bj->rq[i].id);

		json_array_append_new(jobs, json_pack("[s, s]", bj->rq[i].job, bj->rq[i].id));
		if (why && bj->state == B_DONE)
			json_object_set(failed, bj->rq[i].id, (json_t *)why);
	}
	rec = json_pack("{s:s, s:s?, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:I, "
			"s:I, s:I, s:I, s:o, s:o}",
			"provider", llm_provider_name(b->lo.provider), "model", b->lo.model,
			"stage", prompt_stage_name(bj->stage), "state", state_names[bj->state],
			"status", bj->status, "input_file_id", bj->file_id, "batch_id",
			bj->batch_id, "output_file_id", bj->out_id, "error_file_id", bj->err_id,
			"reason", bj->reason, "requests", (json_int_t)bj->n, "created",
			(json_int_t)bj->created, "updated", (json_int_t)time_now(), "completed",
			(json_int_t)bj->counts[1], "failed_count", (json_int_t)bj->counts[2],
			"total", (json_int_t)bj->counts[0], "jobs", jobs, "failed", failed);
	return rec;
}

struct put_ctx {
	const char *key;
	json_t *rec;
};

static int put_fn(struct store *s, MDB_txn *txn, void *arg)
{
	struct put_ctx *p = arg;

	return store_put(s, txn, STORE_BATCHES, p->key, p->rec);
}

/* The batch's record, as it stands, committed. */
static int record(struct batch_run *b, const struct bjob *bj)
{
	struct put_ctx p = { bj->local, record_of(b, bj) };
	int rc;

	if (!p.rec)
		return CL_ENOMEM;
	rc = store_write(b->s, put_fn, &p);
	json_decref(p.rec);
	if (rc)
		log_err("batch %s: cannot record it in the store: %s", bj->local, err_msg(rc));
	return rc;
}

static const char *str_or(const json_t *v, const char *key)
{
	const char *s = jsonx_str(v, key);

	return s ? s : "";
}

static int resume_one(const char *key, size_t klen, json_t *v, int drc, void *arg)
{
	struct batch_run *b = arg;
	const char *state = jsonx_str(v, "state");
	struct bjob *bj, **tail;
	const json_t *jobs, *e, *why;
	const char *id;
	size_t i;

	if (drc || !state || klen >= sizeof(bj->local)) {
		log_warn("batches: the record '%.*s' cannot be read: left alone", (int)klen, key);
		return 0;
	}
	json_object_foreach((json_t *)json_object_get(v, "failed"), id, why)
		json_object_set(b->failed, id, (json_t *)why);
	if (!strcmp(state, "done"))
		return 0;
	bj = calloc(1, sizeof(*bj));
	if (!bj || !(bj->ids = json_object())) {
		free(bj);
		return CL_ENOMEM;
	}
	memcpy(bj->local, key, klen);
	bj->resumed = 1;
	bj->stage = 0;
	for (int k = 0; k < PROMPT_STAGES; k++)
		if (!strcmp(prompt_stage_name(k), str_or(v, "stage")))
			bj->stage = k;
	bj->state = !strcmp(state, "written") ? B_WRITTEN : !strcmp(state, "uploaded") ? B_UPLOADED
										  : B_SUBMITTED;
	snprintf(bj->file_id, sizeof(bj->file_id), "%s", str_or(v, "input_file_id"));
	snprintf(bj->batch_id, sizeof(bj->batch_id), "%s", str_or(v, "batch_id"));
	snprintf(bj->status, sizeof(bj->status), "%s", str_or(v, "status"));
	/* a kill after the final poll: its files are downloaded again */
	snprintf(bj->out_id, sizeof(bj->out_id), "%s", str_or(v, "output_file_id"));
	snprintf(bj->err_id, sizeof(bj->err_id), "%s", str_or(v, "error_file_id"));
	if (bj->state == B_SUBMITTED && !bj->batch_id[0])
		bj->state = B_UPLOADED;
	if (bj->state == B_UPLOADED && !bj->file_id[0])
		bj->state = B_WRITTEN;
	bj->created = jsonx_int(v, "created", 0);
	if (bj->state == B_WRITTEN) {
		char path[4200];

		path_of(b, bj, ".jsonl", path, sizeof(path));
		bj->lost = access(path, R_OK) != 0;
	}
	jobs = json_object_get(v, "jobs");
	json_array_foreach(jobs, i, e) {
		const char *job = json_string_value(json_array_get(e, 0));
		const char *cid = json_string_value(json_array_get(e, 1));

		if (!job || !cid)
			continue;
		if (add_request(bj, job, cid)) {
			bjob_free(bj);
			return CL_ENOMEM;
		}
		json_object_set_new(b->held, job, json_integer(1));
	}
	bj->lines = json_object_size(bj->ids);
	bj->wait = b->o.poll_s;
	for (tail = &b->live; *tail; tail = &(*tail)->next_b)
		;
	*tail = bj;
	log_info("batch %s (%s, %zu requests): resumed, %s%s%s", bj->local,
		 prompt_stage_name(bj->stage), bj->n, state_names[bj->state],
		 bj->batch_id[0] ? " as " : "", bj->batch_id);
	return 0;
}

int batch_run_open(struct batch_run **out, struct store *s, const struct batch_run_opts *o)
{
	struct batch_run *b;
	MDB_txn *txn;
	int rc;

	*out = NULL;
	rc = llm_batch_check((int)o->llm->provider);
	if (rc)
		return rc;
	b = calloc(1, sizeof(*b));
	if (!b)
		return CL_ENOMEM;
	b->s = s;
	b->o = *o;
	b->lo = *o->llm;
	b->lo.abort = &b->stopping;
	if (b->o.max_requests == 0)
		b->o.max_requests = 50000;
	if (b->o.max_bytes == 0)
		b->o.max_bytes = (size_t)190 << 20;
	if (b->o.poll_s <= 0)
		b->o.poll_s = 60;
	if (b->o.max_tries <= 0)
		b->o.max_tries = 3;
	b->held = json_object();
	b->failed = json_object();
	b->tries = json_object();
	snprintf(b->dir, sizeof(b->dir), "%s/batches", s->path);
	if (!b->held || !b->failed || !b->tries) {
		batch_run_free(b);
		return CL_ENOMEM;
	}
	if (mkdir(b->dir, 0700) && errno != EEXIST) {
		rc = err_set(CL_EIO, "cannot make '%s': %s", b->dir, strerror(errno));
		batch_run_free(b);
		return rc;
	}
	rc = store_read_begin(s, &txn);
	if (!rc) {
		rc = store_each(s, txn, STORE_BATCHES, "", resume_one, b);
		store_read_end(txn);
	}
	if (rc) {
		batch_run_free(b);
		return rc;
	}
	*out = b;
	return 0;
}

static void op_join(struct batch_run *b)
{
	if (b->op.kind != OP_NONE) {
		pthread_join(b->op.th, NULL);
		b->op.kind = OP_NONE;
	}
}

void batch_run_free(struct batch_run *b)
{
	struct bjob *bj;

	if (!b)
		return;
	/* a call in progress ends now (a shutdown does not wait on a transfer);
	 * its batch stays recorded in the state it had, and is resumed */
	atomic_store(&b->stopping, 1);
	op_join(b);
	for (int k = 0; k < PROMPT_STAGES; k++)
		bjob_free(b->gather[k]);
	while ((bj = b->live)) {
		b->live = bj->next_b;
		bjob_free(bj);
	}
	json_decref(b->held);
	json_decref(b->failed);
	json_decref(b->tries);
	free(b);
}

int batch_run_holds(const struct batch_run *b, const char *job_key, size_t klen)
{
	char key[STORE_KEY_MAX + 32];

	if (klen >= sizeof(key))
		return 0;
	memcpy(key, job_key, klen);
	key[klen] = '\0';
	return json_object_get(b->held, key) != NULL;
}

int batch_run_idle(const struct batch_run *b)
{
	for (int k = 0; k < PROMPT_STAGES; k++)
		if (b->gather[k])
			return 0;
	return b->live == NULL;
}

void batch_run_counts(const struct batch_run *b, size_t *batches, size_t *requests)
{
	*batches = *requests = 0;
	for (const struct bjob *bj = b->live; bj; bj = bj->next_b) {
		(*batches)++;
		*requests += bj->n;
	}
}

/* ---- gathering --------------------------------------------------------------- */

static int flush(struct batch_run *b, int stage);

static struct bjob *gather_new(struct batch_run *b, int stage)
{
	struct bjob *bj = calloc(1, sizeof(*bj));
	char path[4200];

	if (!bj || !(bj->ids = json_object())) {
		free(bj);
		return NULL;
	}
	bj->stage = stage;
	bj->created = time_now();
	snprintf(bj->local, sizeof(bj->local), "%010lld-%s-%d-%u", (long long)bj->created,
		 prompt_stage_name(stage), (int)getpid(), b->seq++);
	path_of(b, bj, ".jsonl", path, sizeof(path));
	bj->f = fopen(path, "w");
	if (!bj->f) {
		err_set(CL_EIO, "cannot write '%s': %s", path, strerror(errno));
		bjob_free(bj);
		return NULL;
	}
	bj->wait = b->o.poll_s;
	return bj;
}

int batch_run_gather(struct batch_run *b, int stage, const char *job_key,
		     const char *cache_key, const char *body, size_t len, const char **why)
{
	const json_t *failed = json_object_get(b->failed, cache_key);
	struct bjob *bj;
	struct buf line;
	int rc;

	*why = NULL;
	if (failed) {
		*why = json_string_value(failed);
		return 1;
	}
	if (jsonx_int(b->tries, cache_key, 0) >= b->o.max_tries) {
		*why = "its request went unanswered in too many batches";
		return 1;
	}
	if (stage < 0 || stage >= PROMPT_STAGES)
		return err_set(CL_EINVAL, "batch: stage %d", stage);
	if (!b->gather[stage] && !(b->gather[stage] = gather_new(b, stage)))
		return CL_ENOMEM;
	bj = b->gather[stage];
	if (!json_object_get(bj->ids, cache_key)) {
		buf_init(&line, 0);
		rc = llm_batch_line(&b->lo, cache_key, body, len, &line);
		if (!rc && fwrite(line.data, 1, line.len, bj->f) != line.len)
			rc = err_set(CL_EIO, "cannot write batch %s: %s", bj->local, strerror(errno));
		bj->bytes += line.len;
		buf_release(&line);
		if (rc)
			return rc;
		bj->lines++;
	}
	rc = add_request(bj, job_key, cache_key);
	if (rc)
		return rc;
	json_object_set_new(b->held, job_key, json_integer(1));
	/* full: it goes now, so that no batch holds more than its limits */
	if ((bj->n >= b->o.max_requests || bj->bytes >= b->o.max_bytes) && (rc = flush(b, stage)))
		log_err("batch of stage %s: %s; its jobs stay pending", prompt_stage_name(stage),
			err_msg(rc));
	return 0;
}

/* A gathered batch, its file synced, recorded: from here it survives a kill. */
static int flush(struct batch_run *b, int stage)
{
	struct bjob *bj = b->gather[stage], **tail;
	int rc;

	b->gather[stage] = NULL;
	if (fflush(bj->f) || fsync(fileno(bj->f))) {
		rc = err_set(CL_EIO, "cannot write batch %s: %s", bj->local, strerror(errno));
		goto fail;
	}
	fclose(bj->f);
	bj->f = NULL;
	bj->state = B_WRITTEN;
	rc = record(b, bj);
	if (rc)
		goto fail;
	for (tail = &b->live; *tail; tail = &(*tail)->next_b)
		;
	*tail = bj;
	bj->next_b = NULL;
	bj->next = 0;
	log_info("batch %s: %zu requests of stage %s gathered (%zu bytes)", bj->local, bj->n,
		 prompt_stage_name(stage), bj->bytes);
	return 0;
fail:
	/* not recorded: its jobs are pending and free to be taken again */
	for (size_t i = 0; i < bj->n; i++)
		json_object_del(b->held, bj->rq[i].job);
	bjob_free(bj);
	return rc;
}

/* ---- the provider's calls, on their thread ------------------------------------- */

static void *op_main(void *arg)
{
	struct batch_run *b = arg;
	struct op *op = &b->op;
	struct bjob *bj = op->bj;
	const struct llm_options *lo = &b->lo;
	int rc = 0;

	err_clear();
	switch (op->kind) {
	case OP_UPLOAD: {
		char name[128];

		snprintf(name, sizeof(name), "%s.jsonl", bj->local);
		rc = bj->resumed ? llm_batch_find_file(lo, name, op->file_id) : 0;
		if (rc == 0)
			rc = llm_batch_upload(lo, op->path, name, op->file_id);
		else if (rc == 1)
			rc = 0;
		break;
	}
	case OP_CREATE:
		rc = bj->resumed ? llm_batch_find(lo, bj->local, &op->info) : 0;
		if (rc == 0)
			rc = llm_batch_create(lo, bj->file_id, bj->local, &op->info);
		else if (rc == 1)
			rc = 0;
		break;
	case OP_POLL:
		rc = llm_batch_get(lo, bj->batch_id, &op->info);
		break;
	case OP_DOWNLOAD: {
		const char *ids[2] = { bj->out_id, bj->err_id };
		const char *ext[2] = { ".out", ".err" };

		for (int k = 0; !rc && k < 2; k++) {
			char path[4200];
			FILE *f;

			path_of(b, bj, ext[k], path, sizeof(path));
			if (!ids[k][0]) {
				unlink(path);
				continue;
			}
			f = fopen(path, "w");
			if (!f) {
				rc = err_set(CL_EIO, "cannot write '%s': %s", path, strerror(errno));
				break;
			}
			rc = llm_batch_download(lo, ids[k], f);
			if (fclose(f) && !rc)
				rc = err_set(CL_EIO, "cannot write '%s': %s", path, strerror(errno));
		}
		break;
	}
	}
	op->rc = rc;
	snprintf(op->err, sizeof(op->err), "%s", rc ? err_msg(rc) : "");
	atomic_store(&op->done, 1);
	return NULL;
}

static int op_start(struct batch_run *b, struct bjob *bj, int kind)
{
	struct op *op = &b->op;

	memset(&op->info, 0, sizeof(op->info));
	op->file_id[0] = '\0';
	op->err[0] = '\0';
	op->rc = 0;
	op->bj = bj;
	op->kind = kind;
	atomic_store(&op->done, 0);
	path_of(b, bj, ".jsonl", op->path, sizeof(op->path));
	if (pthread_create(&op->th, NULL, op_main, b)) {
		op->kind = OP_NONE;
		return err_set(CL_ENOMEM, "cannot start the batch thread");
	}
	return 0;
}

/* ---- replies in ---------------------------------------------------------------- */

struct cache_batch {
	struct raw_kv {
		char key[LLM_BATCH_ID_MAX];
		void *data;
		size_t len;
	} *kv;
	size_t n, cap;
};

static int cache_fn(struct store *s, MDB_txn *txn, void *arg)
{
	struct cache_batch *c = arg;

	for (size_t i = 0; i < c->n; i++) {
		int rc = store_put_raw(s, txn, STORE_CACHE, c->kv[i].key, c->kv[i].data,
				       c->kv[i].len);

		if (rc)
			return rc;
	}
	return 0;
}

static int cache_commit(struct batch_run *b, struct cache_batch *c)
{
	int rc = c->n ? store_write(b->s, cache_fn, c) : 0;

	for (size_t i = 0; i < c->n; i++)
		free(c->kv[i].data);
	c->n = 0;
	/* 50,000 lines touch much of the map: its pages go as they are read */
	store_drop_pages(b->s);
	return rc;
}

/* A reply line, into the cache with its batch's name (the daemon counts
 * its tokens at batch price the first time a job takes it). */
static int cache_add(struct batch_run *b, struct cache_batch *c, const struct bjob *bj,
		     const char *id, const struct llm_request *r)
{
	json_t *v = llm_response_json(r);
	const json_t *ix;
	const void *enc;
	size_t len;
	int rc;

	if (!v)
		return CL_ENOMEM;
	json_object_set_new(v, "batch", json_string(bj->local));
	/* and the job it was asked for: that job counts its tokens, each
	 * time it passes; another job asking the same is a cache hit */
	ix = json_object_get(bj->ids, id);
	if (ix)
		json_object_set_new(v, "job", json_string(bj->rq[json_integer_value(ix)].job));
	rc = store_encode(b->s, v, &enc, &len);
	json_decref(v);
	if (rc)
		return rc;
	if (c->n == c->cap && ARRAY_GROW(c->kv, c->cap, c->n, 256))
		return CL_ENOMEM;
	snprintf(c->kv[c->n].key, sizeof(c->kv[c->n].key), "%s", id);
	c->kv[c->n].data = malloc(len);
	if (!c->kv[c->n].data)
		return CL_ENOMEM;
	memcpy(c->kv[c->n].data, enc, len);
	c->kv[c->n].len = len;
	c->n++;
	return c->n >= 1000 ? cache_commit(b, c) : 0;
}

/* One downloaded file's lines: replies to the cache, errors to failed. */
static int read_lines(struct batch_run *b, struct bjob *bj, const char *path,
		      unsigned char *seen, size_t *answered, size_t *errors)
{
	struct cache_batch c = { 0 };
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0, lineno = 0;
	ssize_t n;
	int rc = 0;

	if (!f)
		return errno == ENOENT ? 0 : err_set(CL_EIO, "cannot read '%s': %s", path,
						    strerror(errno));
	while (!rc && (n = getline(&line, &cap, f)) > 0) {
		struct llm_request r = { 0 };
		char id[LLM_BATCH_ID_MAX];
		const json_t *ix;
		size_t k;

		lineno++;
		if (n == 1 && line[0] == '\n')
			continue;
		if (llm_batch_parse_line(&b->lo, line, (size_t)n, id, &r)) {
			log_warn("%s:%zu: not a batch output line: ignored", path, lineno);
			llm_request_release(&r);
			continue;
		}
		ix = json_object_get(bj->ids, id);
		if (!ix) {
			log_warn("%s:%zu: custom_id '%.80s' is not one of batch %s: ignored", path,
				 lineno, id, bj->local);
		} else if (seen[k = (size_t)json_integer_value(ix)]) {
			log_warn("%s:%zu: custom_id '%.80s' again: the first line kept", path,
				 lineno, id);
		} else {
			seen[k] = 1;
			if (r.status == LLM_OK) {
				rc = cache_add(b, &c, bj, id, &r);
				++*answered;
			} else {
				json_object_set_new(b->failed, id, json_string(r.error));
				++*errors;
			}
		}
		llm_request_release(&r);
	}
	free(line);
	fclose(f);
	if (!rc)
		rc = cache_commit(b, &c);
	for (size_t i = 0; i < c.n; i++)
		free(c.kv[i].data);
	free(c.kv);
	return rc;
}

/* The batch's files read: it is done, its jobs let go. */
static int come_in(struct batch_run *b, struct bjob *bj)
{
	unsigned char *seen = calloc(bj->n ? bj->n : 1, 1);
	size_t answered = 0, errors = 0, missing = 0;
	double t0 = now_s();
	char path[4200];
	int rc;

	if (!seen)
		return CL_ENOMEM;
	path_of(b, bj, ".out", path, sizeof(path));
	rc = read_lines(b, bj, path, seen, &answered, &errors);
	path_of(b, bj, ".err", path, sizeof(path));
	if (!rc)
		rc = read_lines(b, bj, path, seen, &answered, &errors);
	if (rc) {
		free(seen);
		return rc;
	}
	for (size_t i = 0; i < bj->n; i++) {
		const json_t *ix = json_object_get(bj->ids, bj->rq[i].id);

		if (ix && (size_t)json_integer_value(ix) == i && !seen[i]) {
			missing++;
			json_object_set_new(b->tries, bj->rq[i].id,
					    json_integer(jsonx_int(b->tries, bj->rq[i].id, 0) + 1));
		}
	}
	free(seen);
	if (missing && !bj->reason[0])
		snprintf(bj->reason, sizeof(bj->reason), "%s: %zu requests unanswered",
			 bj->status, missing);
	bj->state = B_DONE;
	rc = record(b, bj);
	if (rc)
		return rc;
	for (size_t i = 0; i < bj->n; i++)
		json_object_del(b->held, bj->rq[i].job);
	if (missing)
		log_warn("batch %s (%s): %s; %zu answered, %zu failed, %zu back to pending",
			 bj->local, prompt_stage_name(bj->stage), bj->reason, answered, errors,
			 missing);
	else
		log_info("batch %s (%s): in, %zu answered, %zu failed (read in %.1f s)", bj->local,
			 prompt_stage_name(bj->stage), answered, errors, now_s() - t0);
	for (const char *ext[] = { ".jsonl", ".out", ".err", NULL }, **e = ext; *e; e++) {
		path_of(b, bj, *e, path, sizeof(path));
		unlink(path);
	}
	b->came_in++;
	return 0;
}

/* ---- moving on ------------------------------------------------------------------ */

static void unlink_live(struct batch_run *b, struct bjob *bj)
{
	for (struct bjob **p = &b->live; *p; p = &(*p)->next_b)
		if (*p == bj) {
			*p = bj->next_b;
			return;
		}
}

/* A call that failed: a passing fault is tried again later, a refusal
 * ends the batch and its jobs go back to pending. */
static int call_failed(struct batch_run *b, struct bjob *bj, const char *what)
{
	struct op *op = &b->op;

	if (op->rc == CL_EIO) {
		log_warn("batch %s: %s: %s: trying again in %.0f s", bj->local, what, op->err,
			 bj->wait);
		bj->next = now_s() + bj->wait;
		bj->wait = bj->wait * 2 < b->o.poll_s * 16 ? bj->wait * 2 : b->o.poll_s * 16;
		return 0;
	}
	snprintf(bj->reason, sizeof(bj->reason), "%s: %.200s", what, op->err);
	snprintf(bj->status, sizeof(bj->status), "%s", "refused");
	log_err("batch %s: %s", bj->local, bj->reason);
	bj->out_id[0] = bj->err_id[0] = '\0';
	return come_in(b, bj);
}

static void take_info(struct bjob *bj, const struct llm_batch_info *in)
{
	snprintf(bj->status, sizeof(bj->status), "%s", in->status);
	snprintf(bj->out_id, sizeof(bj->out_id), "%s", in->output_file);
	snprintf(bj->err_id, sizeof(bj->err_id), "%s", in->error_file);
	bj->counts[0] = in->total;
	bj->counts[1] = in->completed;
	bj->counts[2] = in->failed;
	if (in->errors[0] && !bj->reason[0])
		snprintf(bj->reason, sizeof(bj->reason), "%s", in->errors);
}

/* The call that finished: its result into the batch and the store. */
static int op_finish(struct batch_run *b)
{
	struct op *op = &b->op;
	struct bjob *bj = op->bj;
	int kind = op->kind, rc;

	op_join(b);
	switch (kind) {
	case OP_UPLOAD:
		if (op->rc)
			return call_failed(b, bj, "upload");
		snprintf(bj->file_id, sizeof(bj->file_id), "%s", op->file_id);
		bj->state = B_UPLOADED;
		bj->wait = b->o.poll_s;
		return record(b, bj);
	case OP_CREATE:
		if (op->rc)
			return call_failed(b, bj, "create");
		snprintf(bj->batch_id, sizeof(bj->batch_id), "%s", op->info.id);
		take_info(bj, &op->info);
		bj->state = B_SUBMITTED;
		bj->next = now_s() + b->o.poll_s;
		bj->wait = b->o.poll_s;
		log_info("batch %s: submitted as %s", bj->local, bj->batch_id);
		return record(b, bj);
	case OP_POLL: {
		char was[32];

		if (op->rc)
			return call_failed(b, bj, "poll");
		snprintf(was, sizeof(was), "%s", bj->status);
		take_info(bj, &op->info);
		if (strcmp(was, bj->status)) {
			log_info("batch %s: %s, %lld of %lld done", bj->local, bj->status,
				 (long long)bj->counts[1], (long long)bj->counts[0]);
			bj->wait = b->o.poll_s;
			rc = record(b, bj);
			if (rc)
				return rc;
		} else {
			bj->wait = bj->wait * 1.5 < b->o.poll_s * 16 ? bj->wait * 1.5
								   : b->o.poll_s * 16;
		}
		bj->next = now_s() + bj->wait;
		if (llm_batch_final(bj->status))
			bj->next = 0; /* its files next */
		return 0;
	}
	case OP_DOWNLOAD:
		if (op->rc)
			return call_failed(b, bj, "download");
		rc = come_in(b, bj);
		return rc;
	}
	return 0;
}

int batch_run_step(struct batch_run *b, int flush_all)
{
	double now = now_s();
	int rc = 0, in;

	for (int k = 0; !rc && k < PROMPT_STAGES; k++)
		if (b->gather[k] && (flush_all || b->gather[k]->n >= b->o.max_requests ||
				     b->gather[k]->bytes >= b->o.max_bytes))
			rc = flush(b, k);
	if (rc)
		return rc;
	if (b->op.kind != OP_NONE) {
		if (!atomic_load(&b->op.done))
			goto out;
		rc = op_finish(b);
		if (rc)
			return rc;
	}
	for (struct bjob *bj = b->live; bj && b->op.kind == OP_NONE; bj = bj->next_b)
		if (bj->lost && bj->state != B_DONE) {
			snprintf(bj->status, sizeof(bj->status), "%s", "lost");
			snprintf(bj->reason, sizeof(bj->reason), "%s",
				 "its input file is gone before its upload");
			bj->out_id[0] = bj->err_id[0] = '\0';
			rc = come_in(b, bj);
			if (rc)
				return rc;
		}
	/* the batches that are done leave the list */
	for (struct bjob *bj = b->live, *next; bj; bj = next) {
		next = bj->next_b;
		if (bj->state == B_DONE) {
			unlink_live(b, bj);
			bjob_free(bj);
		}
	}
	/* the next call: the first batch that is due */
	for (struct bjob *bj = b->live; bj && b->op.kind == OP_NONE; bj = bj->next_b) {
		if (bj->next > now)
			continue;
		switch (bj->state) {
		case B_WRITTEN:
			rc = op_start(b, bj, OP_UPLOAD);
			break;
		case B_UPLOADED:
			rc = op_start(b, bj, OP_CREATE);
			break;
		case B_SUBMITTED:
			rc = op_start(b, bj, llm_batch_final(bj->status) ? OP_DOWNLOAD : OP_POLL);
			break;
		default:
			break;
		}
		if (rc)
			return rc;
	}
out:
	in = b->came_in;
	b->came_in = 0;
	return in;
}
