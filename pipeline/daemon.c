/*
 * daemon.c - the generation loop of clarifyd: pending jobs through stage 1
 * (modify) and stage 2 (clarify), the filters and the scores, into the
 * store, exactly once.
 *
 * One thread runs this loop and owns the store; the LLM client's I/O
 * thread keeps the requests in flight; a small pool of worker threads
 * (pool.c) does the CPU work of a reply (parsing, filters, scores, the
 * result and the next stage's prompt) and hands the job back.  In batch
 * mode (batchrun.c) the requests the cache cannot answer are gathered
 * into provider batches instead.  A job's state in the store stays "pending" until
 * its result and its new state ("done", "rejected" or "failed") commit in
 * one transaction, so a crash at any moment loses no finished job and
 * repeats none.  Every reply is written to the response cache as it
 * arrives, so a job redone after a crash asks the model nothing it has
 * already answered.
 */
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-daemon.h>
#include <time.h>
#include <unistd.h>

#include "../llm/batch.h"
#include "daemon_int.h"

static int daemon_reply(struct daemon *d, struct job *j);
static json_t *result_of(struct daemon *d, struct job *j, const struct filter_result *res,
			 json_t *signals);

static void sleep_short(void)
{
	struct timespec ts = { 0, 50 * 1000 * 1000 };

	nanosleep(&ts, NULL);
}

static volatile sig_atomic_t got_term, got_hup;

static void on_term(int sig)
{
	(void)sig;
	got_term = 1;
}

static void on_hup(int sig)
{
	(void)sig;
	got_hup = 1;
}

/* ---- the store -------------------------------------------------------------- */

static int commit_fn(struct store *s, MDB_txn *txn, void *arg)
{
	struct pending_write *w = arg;
	const char *k;
	json_t *v;
	int rc;

	for (size_t i = 0; i < w->nraw; i++) {
		rc = store_put_raw(s, txn, w->raw[i].db, w->raw[i].key, w->raw[i].data,
				   w->raw[i].len);
		if (rc)
			return rc;
	}
	json_object_foreach(w->jobs, k, v) {
		rc = store_put(s, txn, STORE_JOBS, k, v);
		if (rc)
			return rc;
	}
	return w->progress ? store_put(s, txn, STORE_META, STORE_META_PROGRESS, w->progress) : 0;
}

/* Queue an encoded value for the next commit; it takes data. */
static int put_raw(struct daemon *d, enum store_db db, const char *key, void *data, size_t len)
{
	struct pending_write *w = &d->w;

	if (w->nraw == w->rawcap && ARRAY_GROW(w->raw, w->rawcap, w->nraw, 256)) {
		free(data);
		return CL_ENOMEM;
	}
	w->raw[w->nraw].db = db;
	snprintf(w->raw[w->nraw].key, sizeof(w->raw[w->nraw].key), "%s", key);
	w->raw[w->nraw].data = data;
	w->raw[w->nraw].len = len;
	w->nraw++;
	d->writes++;
	return 0;
}

static void raw_clear(struct pending_write *w)
{
	for (size_t i = 0; i < w->nraw; i++)
		free(w->raw[i].data);
	w->nraw = 0;
}

static void progress(struct daemon *d)
{
	struct llm_stats st;

	llm_stats(d->llm, &st);
	json_decref(d->w.progress);
	d->w.progress = json_pack("{s:I, s:I, s:f, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:i, "
				  "s:i}",
				  "pid", (json_int_t)getpid(), "started", (json_int_t)d->started,
				  "seconds", time_mono() - d->started_mono,
				  "updated", (json_int_t)time_now(),
				  "accepted", (json_int_t)d->n.accepted,
				  "rejected", (json_int_t)d->n.rejected,
				  "failed", (json_int_t)d->n.failed,
				  "requests", (json_int_t)d->n.requests,
				  "retries", (json_int_t)st.retries,
				  "cache_hits", (json_int_t)d->n.cache_hits,
				  "tokens", (json_int_t)d->n.tokens,
				  "in_flight", (int)d->in_flight, "running", d->running);
	/* the jobs in flight by category and stage: still "pending" in the
	 * store, clarify status shows them in their stage's column */
	{
		static const char *const stage_names[] = { "modify", "clarify", "answer" };
		json_t *by = json_object();

		for (struct job *j = d->jobs; j; j = j->next) {
			int sg = j->shown_stage;
			json_t *c;

			if (j->category < 0 || sg < 0 || sg >= PROMPT_STAGES)
				continue;
			c = json_object_get(by, category_name(j->category));
			if (!c) {
				c = json_object();
				json_object_set_new(by, category_name(j->category), c);
			}
			json_object_set_new(c, stage_names[sg],
					    json_integer(jsonx_int(c, stage_names[sg], 0) + 1));
		}
		json_object_set_new(d->w.progress, "in_flight_by", by);
	}
	if (d->batch) {
		size_t nb, nr;

		batch_run_counts(d->batch, &nb, &nr);
		json_object_set_new(d->w.progress, "batches",
				    json_pack("{s:I, s:I, s:I}", "live", (json_int_t)nb, "requests",
					      (json_int_t)nr, "replies",
					      (json_int_t)d->n.batch_requests));
	}
	json_object_set_new(d->w.progress, "by_stage",
			    json_pack("{s:{s:I, s:I}, s:{s:I, s:I}, s:{s:I, s:I}}", "modify",
				      "requests", (json_int_t)d->n.stage_requests[PROMPT_MODIFY],
				      "cached", (json_int_t)d->n.stage_cached[PROMPT_MODIFY],
				      "clarify", "requests",
				      (json_int_t)d->n.stage_requests[PROMPT_CLARIFY], "cached",
				      (json_int_t)d->n.stage_cached[PROMPT_CLARIFY], "answer",
				      "requests", (json_int_t)d->n.stage_requests[PROMPT_ANSWER],
				      "cached", (json_int_t)d->n.stage_cached[PROMPT_ANSWER]));
}

/*
 * Once the store holds dict_after results and has no dictionary for them,
 * train one (about 0.1 s for 1,000 results): the records written from then
 * on are about half the size and decode twice as fast.  A failure costs
 * nothing but the dictionary.
 */
static void dict_train(struct daemon *d)
{
	int rc = store_dict_when(d->s, STORE_RESULTS, (uint64_t)d->o->dict_after, &d->dict_tried);

	if (rc)
		log_warn("going on without a zstd dictionary: %s", err_msg(rc));
}

static int commit(struct daemon *d)
{
	int rc;

	if (!d->writes)
		return 0;
	progress(d);
	rc = store_write(d->s, commit_fn, &d->w);
	if (rc) {
		/* nothing of the batch is in: its jobs stay pending */
		log_err("cannot write to store '%s': %s", d->s->path, err_msg(rc));
		d->store_failed = 1;
		return rc;
	}
	raw_clear(&d->w);
	dedup_committed(&d->dedup);
	json_object_clear(d->w.jobs);
	d->writes = 0;
	d->last_commit = time_mono();
	dict_train(d);
	/* a long run touches the whole map: let its pages go now and then,
	 * so that the resident size does not grow with the store */
	if (d->last_commit - d->last_drop > 0.25) {
		store_drop_pages(d->s);
		/* and the heap's free pages: the workers' arenas keep what the
		 * biggest reply needed */
		malloc_trim(0);
		d->last_drop = d->last_commit;
	}
	return 0;
}

/* The job's new state, with its result (encoded, taken) when it has one. */
static int job_finish(struct daemon *d, struct job *j, const char *state, const char *error)
{
	json_t *rec = j->rec;
	int64_t now = time_now();
	int rc = 0, failed = !strcmp(state, "failed");

	if (!strcmp(state, "done") && !j->resumed && j->category >= 0) {
		targets_accepted(&d->targets, d->o, j->category);
	}
	/* a requeued stage 3 that failed leaves the record as it was: done */
	if (failed && j->resumed)
		state = "done";
	j->rec = NULL;
	if (!rec)
		rec = store_job_new(now);
	json_object_set_new(rec, "state", json_string(state));
	json_object_set_new(rec, "attempts", json_integer(jsonx_int(rec, "attempts", 0) + 1));
	json_object_set_new(rec, "last_error", error ? json_string(error) : json_null());
	json_object_set_new(rec, "updated", json_integer(now));
	json_object_set_new(d->w.jobs, j->key, rec);
	if (j->result) {
		rc = put_raw(d, STORE_RESULTS, j->key, j->result, j->result_len);
		j->result = NULL;
	}
	d->writes++;
	if (failed)
		d->n.failed++;
	else if (!strcmp(state, "done"))
		d->n.accepted++;
	else
		d->n.rejected++;
	return rc;
}

/* ---- jobs -------------------------------------------------------------------- */

static void job_free(struct daemon *d, struct job *j)
{
	if (!j)
		return;
	if (j->in_target)
		d->targets.flight[j->category]--;
	if (j->prev)
		j->prev->next = j->next;
	else if (d->jobs == j)
		d->jobs = j->next;
	if (j->next)
		j->next->prev = j->prev;
	json_decref(j->problem);
	buf_release(&j->system);
	buf_release(&j->user);
	llm_request_release(&j->req);
	prompt_reply_release(&j->r1);
	prompt_reply_release(&j->r2);
	prompt_reply_release(&j->r3);
	if (j->judging)
		filter_result_release(&j->res);
	json_decref(j->signals);
	free(j->result);
	free(j->reply);
	free(j->error);
	json_decref(j->rec);
	buf_release(&j->payload);
	free(j);
}

/* Render the job's current stage into its request, with the request's
 * cache key.  Called by the main thread or by a worker. */
static int job_prepare(struct daemon *d, struct job *j)
{
	const struct prompt_template *t = prompt_set_get(&d->ps, j->stage, j->category);
	struct prompt_vars v = {
		.original = jsonx_str(j->problem, "question"),
		.modified = j->r1.modified,
		.starter_code = jsonx_str(j->problem, "starter_code"),
		.difficulty = jsonx_str(j->problem, "difficulty"),
		.category = j->category,
		.questions = (const char *const *)j->r2.questions,
		.nquestions = j->r2.nquestions,
	};
	int rc;

	buf_reset(&j->system);
	buf_reset(&j->user);
	rc = prompt_render(t, &v, &j->system, &j->user);
	if (rc)
		return rc;
	llm_request_release(&j->req);
	memset(&j->req, 0, sizeof(j->req));
	j->req.system = j->system.data;
	j->req.user = j->user.data;
	j->req.temperature = t->temperature;
	j->req.max_tokens = (int)t->max_tokens;
	j->req.top_p = t->top_p;
	/* a re-ask after an unparsable reply must not get the same reply back */
	j->req.seed = j->parse_tries ? t->seed + j->parse_tries + (t->seed < 0) : t->seed;
	j->req.stage = j->stage == PROMPT_MODIFY ? LLM_STAGE_MODIFY :
		       j->stage == PROMPT_CLARIFY ? LLM_STAGE_CLARIFY : LLM_STAGE_ANSWER;
	j->req.category = j->category;
	j->req.original = v.original;
	j->req.modified = v.modified;
	if (j->stage == PROMPT_ANSWER) {
		j->req.questions = v.questions;
		j->req.nquestions = v.nquestions;
	}
	j->req.udata = j;
	rc = llm_request_key_payload(&d->lo, &j->req, &j->payload, j->cache_key);
	if (rc)
		return rc;
	j->req.payload = j->payload.len ? j->payload.data : NULL;
	j->req.payload_len = j->payload.len;
	return 0;
}


/* A reply paid for (the network's or a batch's): its tokens counted, the
 * job to the pool. */
static void daemon_account(struct daemon *d, struct job *j)
{
	j->tokens_in += j->req.tokens_in;
	j->tokens_out += j->req.tokens_out;
	j->stage_req[j->stage]++;
	j->stage_in[j->stage] += j->req.tokens_in;
	j->stage_out[j->stage] += j->req.tokens_out;
	j->latency += j->req.latency;
	d->n.tokens += j->req.tokens_in + j->req.tokens_out;
	d->n.tokens_in += j->req.tokens_in;
	d->n.tokens_out += j->req.tokens_out;
	pool_push(d, j, TASK_REPLY);
}

/* Batch mode: the request goes in the stage's batch and the job leaves
 * memory (pending in the store, held by its batch), or fails when a batch
 * already failed its request. */
static void batch_gather(struct daemon *d, struct job *j)
{
	const char *why = NULL;
	int rc = batch_run_gather(d->batch, j->stage, j->key, j->cache_key, j->payload.data,
				  j->payload.len, &why);

	if (rc == 1 || rc < 0)
		job_finish(d, j, "failed", rc == 1 ? why : err_msg(rc));
	d->in_flight--;
	job_free(d, j);
}

/* A cached reply that a batch fetched for job (the first job that asked
 * it; a reply cached before the mark named its job: any job). */
static int batch_reply_of(const json_t *hit, const char *job)
{
	const char *who = jsonx_str(hit, "job");

	return json_object_get(hit, "batch") && (!who || !strcmp(who, job));
}

/* Send the prepared request, or take its reply from the cache (the job
 * then goes straight to the pool). */
static void job_submit(struct daemon *d, struct job *j)
{
	json_t *hit = NULL;
	MDB_txn *txn;

	j->cached = 0;
	if ((d->o->cache || d->batch) && store_read_begin(d->s, &txn) == 0) {
		if (store_get(d->s, txn, STORE_CACHE, j->cache_key, &hit) == 0 &&
		    llm_response_from_json(&j->req, hit) == 0)
			j->cached = batch_reply_of(hit, j->key) ? 2 : 1;
		json_decref(hit);
		store_read_end(txn);
	}
	j->req_batch = j->cached == 2;
	if (j->cached == 2) {
		/* a reply its batch fetched for this job: paid, at batch price,
		 * each time the job passes (its record counts its last pass) */
		j->cached = 0;
		j->batched = 1;
		d->n.batch_requests++;
		d->n.batch_tokens += j->req.tokens_in + j->req.tokens_out;
		d->n.requests++;
		d->n.stage_requests[j->stage]++;
		daemon_account(d, j);
		return;
	}
	if (j->cached) {
		d->n.cache_hits++;
		d->n.stage_cached[j->stage]++;
		pool_push(d, j, TASK_REPLY);
		return;
	}
	if (d->batch) {
		batch_gather(d, j);
		return;
	}
	llm_submit(d->llm, &j->req);
	d->n.requests++;
	d->n.stage_requests[j->stage]++;
}

/* Take the next pending job of this shard, after the cursor. */
struct next_ctx {
	struct daemon *d;
	char key[STORE_KEY_MAX + 32];
	json_t *rec;
	size_t seen;
};

static int find_pending(const char *key, size_t klen, json_t *v, int rc, void *arg)
{
	struct next_ctx *n = arg;
	const char *state = jsonx_str(v, "state");
	const char *hash = memchr(key, '#', klen);
	char pkey[STORE_KEY_MAX];

	/* a walk past many jobs that are not free (a batch holds 50,000) maps
	 * the whole jobs database: its pages go as it goes */
	if (++n->seen % 4096 == 0)
		store_drop_pages(n->d->s);
	if (rc || klen >= sizeof(n->key) || !hash)
		return 0;
	/* "modify" and "clarify" are where an older clarifyd stopped: redo;
	 * "answer" waits for stage 3 over its stored result (requeue --stage) */
	if (!state || (strcmp(state, "pending") && strcmp(state, "modify") &&
		       strcmp(state, "clarify") &&
		       (strcmp(state, "answer") || n->d->o->stages < 3)))
		return 0;
	snprintf(pkey, sizeof(pkey), "%.*s", (int)(hash - key), key);
	if (!daemon_in_shard(n->d->o, pkey))
		return 0;
	if (strcmp(state, "answer") && targets_hold(&n->d->targets, n->d->o, key, klen))
		return 0;
	if (n->d->batch && batch_run_holds(n->d->batch, key, klen))
		return 0;
	memcpy(n->key, key, klen);
	n->key[klen] = '\0';
	n->rec = json_incref(v);
	return 1;
}

static char *dup_str(const json_t *o, const char *key)
{
	const char *s = jsonx_str(o, key);

	return s ? strdup(s) : NULL;
}

/*
 * A job requeued for stage 3: its stages 1 and 2 (the rewrite, the
 * reasoning, the questions, the tokens they took) from its stored result.
 */
static int job_resume(struct daemon *d, struct job *j)
{
	const json_t *qs, *q, *usage;
	json_t *res = NULL;
	MDB_txn *txn;
	size_t i;
	int rc;

	j->resumed = 1;
	rc = store_read_begin(d->s, &txn);
	if (!rc) {
		rc = store_get(d->s, txn, STORE_RESULTS, j->key, &res);
		store_read_end(txn);
	}
	if (rc) {
		char why[256];

		snprintf(why, sizeof(why), "%s", err_msg(rc));
		return err_set(rc, "stage 3: its result cannot be read: %s", why);
	}
	qs = json_object_get(res, "questions");
	j->r1.modified = dup_str(res, "modified_problem");
	j->r1.reasoning = dup_str(res, "reasoning");
	j->r2.questions = calloc(json_array_size(qs) + 1, sizeof(char *));
	if (!j->r1.modified || !json_array_size(qs) || !j->r2.questions) {
		json_decref(res);
		return err_set(CL_EPARSE, "stage 3: its result has no rewrite or no questions");
	}
	json_array_foreach(qs, i, q) {
		if (!json_is_string(q) || !(j->r2.questions[i] = strdup(json_string_value(q)))) {
			json_decref(res);
			return err_set(CL_EPARSE, "stage 3: its result's questions are malformed");
		}
		j->r2.nquestions++;
	}
	usage = json_object_get(res, "usage");
	j->tokens_in = jsonx_int(usage, "tokens_in", 0);
	j->tokens_out = jsonx_int(usage, "tokens_out", 0);
	for (int k = 0; k < PROMPT_ANSWER; k++) {
		const json_t *st = json_object_get(json_object_get(usage, "stages"),
						   prompt_stage_name(k));

		j->stage_req[k] = jsonx_int(st, "requests", 0);
		j->stage_in[k] = jsonx_int(st, "tokens_in", 0);
		j->stage_out[k] = jsonx_int(st, "tokens_out", 0);
	}
	j->latency = json_number_value(json_object_get(usage, "latency"));
	j->stage = PROMPT_CLARIFY;
	json_decref(res);
	return 0;
}

static int job_start_next(struct daemon *d)
{
	struct next_ctx n = { .d = d };
	char pkey[STORE_KEY_MAX], cat[32];
	struct job *j;
	MDB_txn *txn;
	const char *hash;
	int rc;

	/* the batch not yet committed is counted too: committed first */
	rc = d->targets.counted || !targets_any(d->o) ? 0 : commit(d);
	if (!rc)
		rc = targets_count(&d->targets, d->o, d->s);
	if (!rc)
		rc = store_read_begin(d->s, &txn);
	if (rc)
		return rc;
	/* walk on from the cursor: keys sort, so each job is taken once a pass */
	rc = store_each_after(d->s, txn, STORE_JOBS, d->cursor, find_pending, &n);
	store_read_end(txn);
	if (rc < 0)
		return rc;
	if (!n.key[0]) {
		d->exhausted = 1;
		return 0;
	}
	snprintf(d->cursor, sizeof(d->cursor), "%s", n.key);
	j = calloc(1, sizeof(*j));
	if (!j) {
		json_decref(n.rec);
		return CL_ENOMEM;
	}
	j->rec = n.rec;
	j->next = d->jobs;
	if (d->jobs)
		d->jobs->prev = j;
	d->jobs = j;
	snprintf(j->key, sizeof(j->key), "%s", n.key);
	hash = strchr(n.key, '#');
	snprintf(pkey, sizeof(pkey), "%.*s", (int)(hash - n.key), n.key);
	snprintf(cat, sizeof(cat), "%s", hash + 1);
	j->category = category_parse(cat);
	buf_init(&j->system, 0);
	buf_init(&j->user, 0);
	buf_init(&j->payload, 0);
	/* a problem's jobs come one after another: read it once for them */
	if (d->last_problem && strcmp(pkey, d->last_pkey) == 0) {
		j->problem = json_incref(d->last_problem);
		rc = 0;
	} else {
		rc = store_read_begin(d->s, &txn);
		if (!rc) {
			rc = store_get(d->s, txn, STORE_PROBLEMS, pkey, &j->problem);
			store_read_end(txn);
		}
		json_decref(d->last_problem);
		d->last_problem = rc ? NULL : json_incref(j->problem);
		snprintf(d->last_pkey, sizeof(d->last_pkey), "%s", pkey);
	}
	if (rc || j->category < 0) {
		job_finish(d, j, "failed", rc ? "its problem cannot be read" : "unknown category");
		job_free(d, j);
		return 0;
	}
	d->targets.flight[j->category]++;
	j->in_target = 1;
	if (strcmp(jsonx_str(j->rec, "state"), "answer") == 0) {
		rc = job_resume(d, j);
		if (rc) {
			job_finish(d, j, "failed", err_msg(rc));
			job_free(d, j);
			return rc == CL_ENOMEM ? rc : 0;
		}
		d->in_flight++;
		pool_push(d, j, TASK_RESUME);
		return 0;
	}
	j->stage = PROMPT_MODIFY;
	d->in_flight++;
	/* the prompt and its key are made by a worker too */
	pool_push(d, j, TASK_PREPARE);
	return 0;
}

/* ---- replies ----------------------------------------------------------------- */

/* The job's tokens, in all and per stage asked (what clarify plan learns
 * the expected replies from). */
static json_t *reply_usage(const struct job *j)
{
	json_t *u = json_pack("{s:I, s:I, s:f, s:b, s:{}}", "tokens_in", (json_int_t)j->tokens_in,
			      "tokens_out", (json_int_t)j->tokens_out, "latency", j->latency,
			      "cached", j->cached, "stages");

	if (u && j->batched)
		json_object_set_new(u, "batch", json_true());
	for (int k = 0; u && k < PROMPT_STAGES; k++)
		if (j->stage_req[k])
			json_object_set_new(json_object_get(u, "stages"), prompt_stage_name(k),
					    json_pack("{s:I, s:I, s:I}", "requests",
						      (json_int_t)j->stage_req[k], "tokens_in",
						      (json_int_t)j->stage_in[k], "tokens_out",
						      (json_int_t)j->stage_out[k]));
	return u;
}

static json_t *template_json(const struct prompt_template *t)
{
	return json_pack("{s:s, s:I, s:s}", "name", t->name, "version", (json_int_t)t->version,
			 "hash", t->hash);
}

/* The judge's verdict, as stage 3 gave it. */
static json_t *judge_json(const struct prompt_verdict *v)
{
	json_t *tc = json_array();

	for (size_t i = 0; i < v->ntargets; i++)
		json_array_append_new(tc, json_boolean(v->targets_change[i]));
	return json_pack("{s:b, s:o, s:b, s:b, s:s}", "recovers", v->recovers, "targets_change", tc,
			 "self_announced", v->self_announced, "mentions_original",
			 v->mentions_original, "reason", v->reason ? v->reason : "");
}

static json_t *result_of(struct daemon *d, struct job *j, const struct filter_result *res,
			 json_t *signals)
{
	const struct prompt_template *t1 = prompt_set_get(&d->ps, PROMPT_MODIFY, j->category);
	const struct prompt_template *t2 = prompt_set_get(&d->ps, PROMPT_CLARIFY, j->category);
	const struct prompt_template *t3 = prompt_set_get(&d->ps, PROMPT_ANSWER, j->category);
	int answered = j->r3.has_verdict;
	json_t *qs = json_array(), *tpl = json_array(), *stages = json_array(), *out;

	for (size_t i = 0; i < j->r2.nquestions; i++)
		json_array_append_new(qs, json_string(j->r2.questions[i]));
	json_array_append_new(tpl, template_json(t1));
	json_array_append_new(tpl, template_json(t2));
	json_array_append_new(stages, json_string("modify"));
	if (j->stage != PROMPT_MODIFY)
		json_array_append_new(stages, json_string("clarify"));
	if (answered && t3) {
		json_array_append_new(tpl, template_json(t3));
		json_array_append_new(stages, json_string("answer"));
	}
	out = json_pack("{s:s?, s:o, s:s?, s:s, s:s, s:s, s:o, s:o, s:o, s:o?, s:o, s:b, s:I}",
			"modified_problem", j->r1.modified, "questions", qs,
			"reasoning", j->r1.reasoning, "category", category_name(j->category),
			"provider", llm_provider_name(d->lo.provider), "model", d->lo.model,
			"templates", tpl, "stages", stages, "usage", reply_usage(j), "stats", signals,
			"verdicts", filter_result_json(res), "accepted", !res->rejected,
			"created", (json_int_t)time_now());
	if (out && answered) {
		json_t *as = json_array();

		for (size_t i = 0; i < j->r3.nanswers; i++)
			json_array_append_new(as, json_string(j->r3.answers[i]));
		json_object_set_new(out, "answers", as);
		json_object_set_new(out, "judge", judge_json(&j->r3.verdict));
	}
	return out;
}

/*
 * A worker's part of a reply: parse it, run the filters, and then either
 * build the result (a rejection, or stage 2 passed: scores too) or
 * prepare stage 2.  Touches the job and the shared, read-only sets only.
 */
/* v encoded for the store by the worker's codec, into a copy of its own */
static void *encode(struct store *codec, json_t *v, size_t *len)
{
	const void *out;
	void *copy = NULL;

	if (v && store_encode(codec, v, &out, len) == 0) {
		copy = malloc(*len);
		if (copy)
			memcpy(copy, out, *len);
	}
	json_decref(v);
	return copy;
}

/* Stage 2's texts in hand: filtered and scored, then judged by stage 3
 * (when the stages include it and they passed) or ended. */
static void clarified(struct daemon *d, struct filter_scratch *scratch, struct store *codec,
		      struct job *j, struct filter_result *res)
{
	struct filter_input in = {
		.original = jsonx_str(j->problem, "question"), .modified = j->r1.modified,
		.questions = (const char *const *)j->r2.questions,
		.nquestions = j->r2.nquestions, .finish_reason = j->req.finish_reason,
		.questions_expected = 1, .category = j->category,
	};
	json_t *signals;
	int rc;

	filter_run(&d->fs, scratch, &in, res);
	signals = stats_record(d->lm, in.original, in.modified, in.questions, in.nquestions);
	if (signals)
		stats_validate(&d->bounds, signals, res);
	if (!res->rejected && d->o->stages >= 3) {
		/* passed: stage 3 answers and judges it; a rejected one never pays for it */
		j->res = *res;
		filter_result_init(res);
		j->signals = signals;
		j->judging = 1;
		j->stage = PROMPT_ANSWER;
		j->parse_tries = 0;
		rc = job_prepare(d, j);
		j->outcome = rc ? OUT_FAILED : OUT_NEXT;
		if (rc)
			j->error = strdup(err_msg(rc));
	} else {
		j->result = encode(codec, result_of(d, j, res, signals), &j->result_len);
		j->outcome = !j->result ? OUT_FAILED : res->rejected ? OUT_REJECTED : OUT_DONE;
	}
}

/* An accepted record's signature, for the loop's near-duplicate check. */
static void job_signature(struct daemon *d, struct job *j)
{
	const char *original;

	j->has_mh = 0;
	if (j->outcome != OUT_DONE || d->o->near_dup <= 0 || !j->r1.modified)
		return;
	original = jsonx_str(j->problem, "question");
	j->has_mh = minhash_pair(&j->mh.full, &j->mh.change, j->r1.modified,
				 strlen(j->r1.modified), original ? original : "",
				 original ? strlen(original) : 0) == 0 && j->mh.full.shingles > 0;
}

void daemon_job_work(struct daemon *d, struct filter_scratch *scratch, struct store *codec,
		     struct job *j)
{
	const struct prompt_template *t = prompt_set_get(&d->ps, j->stage, j->category);
	struct prompt_reply *r = j->stage == PROMPT_MODIFY ? &j->r1 :
				 j->stage == PROMPT_CLARIFY ? &j->r2 : &j->r3;
	const char *original = jsonx_str(j->problem, "question");
	struct filter_result res;
	int rc;

	err_clear();
	if (j->task == TASK_PREPARE) {
		rc = job_prepare(d, j);
		j->outcome = rc ? OUT_FAILED : OUT_NEXT;
		if (rc)
			j->error = strdup(err_msg(rc));
		return;
	}
	if (j->task == TASK_RESUME) {
		/* requeued for stage 3: its stored texts are filtered and scored again */
		filter_result_init(&res);
		clarified(d, scratch, codec, j, &res);
		filter_result_release(&res);
		if (j->outcome == OUT_FAILED && !j->error)
			j->error = strdup(err_msg(CL_ENOMEM));
		job_signature(d, j);
		return;
	}
	rc = j->stage == PROMPT_ANSWER ? prompt_parse_answers(t, j->req.text, j->r2.nquestions, r)
				       : prompt_parse_reply(t, j->req.text, r);
	if (rc) {
		j->outcome = j->parse_tries + 1 <= d->o->max_parse_retries ? OUT_RETRY : OUT_FAILED;
		free(j->error);
		j->error = strdup(err_msg(rc));
		return;
	}
	/* a good reply is worth keeping: redone jobs get it from the cache */
	free(j->reply);
	j->reply = !j->cached && !j->req_batch && d->o->cache ? encode(codec, llm_response_json(&j->req),
						      &j->reply_len)
					     : NULL;
	memcpy(j->reply_key, j->cache_key, sizeof(j->reply_key));
	filter_result_init(&res);
	if (j->stage == PROMPT_MODIFY) {
		struct filter_input in = { .original = original, .modified = j->r1.modified,
					   .reasoning = j->r1.reasoning,
					   .finish_reason = j->req.finish_reason,
					   .category = j->category };

		if (filter_run(&d->fs, scratch, &in, &res) == 0 && res.rejected) {
			/* rejected at stage 1: kept with its verdicts, stage 2 not paid for */
			j->result = encode(codec, result_of(d, j, &res, NULL), &j->result_len);
			j->outcome = j->result ? OUT_REJECTED : OUT_FAILED;
		} else {
			j->stage = PROMPT_CLARIFY;
			j->parse_tries = 0;
			rc = job_prepare(d, j);
			j->outcome = rc ? OUT_FAILED : OUT_NEXT;
			if (rc)
				j->error = strdup(err_msg(rc));
		}
	} else if (j->stage == PROMPT_ANSWER) {
		/* stage 3: the judge's verdict beside the verdicts of stages 1 and 2 */
		struct filter_judgement jm = {
			.recovers = j->r3.verdict.recovers, .ntargets = j->r3.verdict.ntargets,
			.self_announced = j->r3.verdict.self_announced,
			.mentions_original = j->r3.verdict.mentions_original,
			.reason = j->r3.verdict.reason,
		};

		for (size_t i = 0; i < j->r3.verdict.ntargets; i++)
			jm.targeted += j->r3.verdict.targets_change[i] != 0;
		if (j->signals)
			stats_record_answers(d->lm, j->signals,
					     (const char *const *)j->r3.answers, j->r3.nanswers);
		if (filter_judge(&d->fs, &jm, &j->res) == 0)
			j->result = encode(codec, result_of(d, j, &j->res, json_incref(j->signals)),
					   &j->result_len);
		j->outcome = !j->result ? OUT_FAILED : j->res.rejected ? OUT_REJECTED : OUT_DONE;
	} else {
		clarified(d, scratch, codec, j, &res);
	}
	filter_result_release(&res);
	if (j->outcome == OUT_FAILED && !j->error)
		j->error = strdup(err_msg(CL_ENOMEM));
	job_signature(d, j);
}

/* ---- near-duplicates ---------------------------------------------------------- */

/* An index entry for the next commit, not counted as a job's write. */
static int index_put(void *arg, const char *key, void *data, size_t len)
{
	struct daemon *d = arg;
	int rc = put_raw(d, STORE_LSH, key, data, len);

	if (!rc)
		d->writes--;
	return rc;
}

/*
 * An accepted record, in commit order: a near-duplicate of an indexed one
 * gets the verdict (its result written again with it: rejected, or kept
 * and flagged); any other enters the index.  Only a store that cannot be
 * read stops the run.
 */
static int near_duplicate(struct daemon *d, struct job *j)
{
	int action = d->fs.check_action[FILTER_CHECK_NEAR_DUP];
	char like[STORE_KEY_MAX], detail[STORE_KEY_MAX + 96];
	double full, change;
	int rc;

	if (action == FILTER_OFF || d->o->near_dup <= 0)
		return 0;
	rc = dedup_find(&d->dedup, d->s, j->key, &j->mh, like, &full, &change);
	if (rc < 0 || rc > 1)
		return rc;
	if (rc == 0 || full < d->o->near_dup || change < d->o->near_dup)
		return dedup_add(&d->dedup, d->s, j->key, &j->mh, index_put, d);
	snprintf(detail, sizeof(detail), "Jaccard %.2f with %s (%.2f of what each changed)", full,
		 like, change);
	log_debug("%s: near-duplicate: %s", j->key, detail);
	if (action == FILTER_REJECT)
		j->outcome = OUT_REJECTED;
	return dedup_mark(d->s, &j->result, &j->result_len, filter_action_name(action),
			  action == FILTER_REJECT, detail);
}

/* A reply from the LLM client: errors here, the rest to the pool. */
static int daemon_reply(struct daemon *d, struct job *j)
{
	if (j->req.status != LLM_OK) {
		if (j->req.status == LLM_EBUDGET || j->req.status == LLM_ECANCELLED ||
		    j->req.status == LLM_EAUTH) {
			/* not the job's fault: it stays pending for the next run */
			d->in_flight--;
			job_free(d, j);
			return 0;
		}
		job_finish(d, j, "failed", j->req.error);
		d->in_flight--;
		job_free(d, j);
		return 0;
	}
	daemon_account(d, j);
	return 0;
}

/* A job back from the pool: commit its end, or ask its next question. */
static int job_back(struct daemon *d, struct job *j)
{
	int rc;

	if (j->reply) {
		rc = put_raw(d, STORE_CACHE, j->reply_key, j->reply, j->reply_len);
		j->reply = NULL;
		if (rc)
			return rc;
	}
	switch (j->outcome) {
	case OUT_RETRY:
		j->parse_tries++;
		log_debug("%s: %s: asking again", j->key, j->error);
		rc = job_prepare(d, j);
		if (rc)
			return rc;
		job_submit(d, j);
		return 0;
	case OUT_NEXT:
		job_submit(d, j);
		return 0;
	case OUT_FAILED:
		rc = job_finish(d, j, "failed", j->error);
		break;
	default:
		rc = j->outcome == OUT_DONE && j->has_mh ? near_duplicate(d, j) : 0;
		if (!rc)
			rc = job_finish(d, j, j->outcome == OUT_DONE ? "done" : "rejected", NULL);
		break;
	}
	d->in_flight--;
	job_free(d, j);
	return rc;
}

/* Act on every job back from the pool. */
static int pool_drain(struct daemon *d)
{
	struct job *j = pool_take(d);

	while (j) {
		struct job *next = j->qnext;
		int rc;

		j->shown_stage = j->stage;
		rc = job_back(d, j);
		if (rc)
			return rc;
		j = next;
	}
	return 0;
}

/* ---- the loop ---------------------------------------------------------------- */

static void status(struct daemon *d, const char *what)
{
	char line[256];

	snprintf(line, sizeof(line), "STATUS=%s: %llu done, %llu rejected, %llu failed, %zu in "
		 "flight, %llu requests, %llu cached, %llu tokens", what,
		 (unsigned long long)d->n.accepted, (unsigned long long)d->n.rejected,
		 (unsigned long long)d->n.failed, d->in_flight, (unsigned long long)d->n.requests,
		 (unsigned long long)d->n.cache_hits, (unsigned long long)d->n.tokens);
	sd_notify(0, line);
	sd_notify(0, "WATCHDOG=1");
	/* on a terminal the live line says it, redrawn in place */
	if (!d->live.on || (strcmp(what, "running") && strcmp(what, "idle")))
		log_info("%s", line + 7);
	d->last_status = time_mono();
}

static void live_tick(struct daemon *d, double now, int force)
{
	struct llm_stats st;

	if (!d->live.on || (!force && now - d->live.last < 0.25))
		return;
	llm_stats(d->llm, &st);
	live_draw(&d->live, d->o, &d->n, st.retries, d->in_flight, now - d->started_mono, now,
		  force);
}

/* The templates and the filters the options name, into ps and fs. */
static int load_parts(const struct daemon_opts *o, struct prompt_set *ps, struct filter_set *fs)
{
	int rc;

	rc = prompt_set_load_dir(ps, o->prompts_dir);
	if (rc)
		return rc;
	if (o->stages > ps->stages) {
		prompt_set_release(ps);
		return err_set(CL_ECONFIG, "jobs.stages includes answer, but '%s' has no answer "
			       "templates (answer-CATEGORY.yaml)", o->prompts_dir);
	}
	rc = filter_set_load_dir(fs, o->filters_dir);
	if (!rc)
		rc = config_filter_actions(o->filter_actions, o->config_file, fs);
	if (rc) {
		prompt_set_release(ps);
		return rc;
	}
	fs->limits = o->limits;
	return 0;
}

int daemon_check(const struct daemon_opts *o)
{
	struct prompt_set ps;
	struct filter_set fs;
	struct llm_client *c = NULL;
	int rc = load_parts(o, &ps, &fs);

	if (rc)
		return rc;
	if (o->batch_mode)
		rc = llm_batch_check((int)o->llm.provider);
	if (!rc)
		rc = llm_client_new(&c, &o->llm);
	llm_client_free(c);
	prompt_set_release(&ps);
	filter_set_release(&fs);
	return rc;
}

/* The old client's requests are all back: let it and its options go. */
static void retire_old(struct daemon *d)
{
	llm_client_free(d->old_llm);
	d->old_llm = NULL;
	if (d->old_o && d->old_o != d->first_o && d->o->release)
		d->o->release(d->o->reload_arg, (struct daemon_opts *)d->old_o);
	d->old_o = NULL;
}

/*
 * SIGHUP: the configuration, the templates and the filters, read again
 * and checked whole before any of it replaces the running set; a bad one
 * is refused, with the reason, and the running one kept.  A new LLM
 * client takes the new requests; the old one finishes those it has.
 */
static void reload(struct daemon *d)
{
	struct daemon_opts *no = NULL;
	struct prompt_set ps;
	struct filter_set fs;
	struct llm_client *nllm = NULL;
	int rc;

	sd_notify(0, "RELOADING=1");
	if (d->o->reload) {
		rc = d->o->reload(d->o->reload_arg, &no);
		if (rc) {
			log_err("reload refused, the running configuration is kept");
			goto done;
		}
	}
	err_clear();
	rc = load_parts(no ? no : d->o, &ps, &fs);
	if (rc) {
		log_err("reload refused, the running set is kept: %s", err_msg(rc));
		goto refused;
	}
	if (no) {
		rc = llm_client_new(&nllm, &no->llm);
		if (rc) {
			log_err("reload refused: %s", err_msg(rc));
			prompt_set_release(&ps);
			filter_set_release(&fs);
			goto refused;
		}
	}
	/* no worker may hold a job while the sets and options change */
	pool_quiesce(d);
	prompt_set_release(&d->ps);
	filter_set_release(&d->fs);
	d->ps = ps;
	d->fs = fs;
	if (no) {
		d->old_o = d->o;
		d->old_llm = d->llm;
		d->o = no;
		d->lo = no->llm;
		d->llm = nllm;
		d->bounds = no->bounds;
		if (no->log_level >= 0)
			log_set_level(no->log_level);
		log_info("reloaded the configuration, the templates and the filters");
	} else {
		log_info("reloaded the templates and the filters");
	}
	goto done;
refused:
	if (no && d->o->release)
		d->o->release(d->o->reload_arg, no);
done:
	sd_notify(0, "READY=1");
}

/* Batch mode with nothing else to do: the batches moved on, the loop
 * waiting for them, until one comes in (another pass) or a signal. */
static int batch_wait(struct daemon *d, double ping)
{
	double t0 = time_mono();
	int rc = batch_run_step(d->batch, 1);

	while (rc == 0 && !d->batch_in && !got_term && !got_hup && time_mono() - t0 < ping &&
	       !batch_run_idle(d->batch)) {
		sleep_short();
		rc = batch_run_step(d->batch, 1);
	}
	if (rc < 0)
		return rc;
	if (rc > 0 || d->batch_in || batch_run_idle(d->batch)) {
		d->batch_in = 0;
		d->exhausted = 0;
		d->cursor[0] = '\0';
	}
	d->writes++; /* the progress, with the batches */
	return commit(d);
}

int daemon_run(const struct daemon_opts *o, struct store *s, struct daemon_counts *out)
{
	struct daemon d = { .o = o, .s = s, .first_o = o };
	struct sigaction sa = { 0 };
	MDB_txn *txn;
	const void *blob;
	size_t bloblen;
	double deadline = 0, ping = 10;
	int rc;

	got_term = got_hup = 0;
	sa.sa_handler = on_term;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = on_hup;
	sigaction(SIGHUP, &sa, NULL);
	d.w.jobs = json_object();
	dedup_init(&d.dedup);
	d.bounds = o->bounds;
	d.started = time_now();
	d.started_mono = time_mono();
	d.running = 1;
	rc = load_parts(o, &d.ps, &d.fs);
	if (!rc) {
		d.lo = o->llm;
		rc = llm_client_new(&d.llm, &o->llm);
	}
	if (!rc) {
		long cpus = sysconf(_SC_NPROCESSORS_ONLN);

		rc = pool_start(&d, o->workers > 0 ? (size_t)o->workers
						    : cpus > 0 ? (size_t)cpus : 1);
	}
	if (!rc && o->batch_mode) {
		struct batch_run_opts bo = {
			.llm = &d.first_o->llm, .max_requests = o->batch_max_requests,
			.poll_s = o->batch_poll_s, .max_tries = 3,
		};

		rc = batch_run_open(&d.batch, s, &bo);
	}
	if (rc) {
		log_err("%s", err_msg(rc));
		goto out;
	}
	if (store_read_begin(s, &txn) == 0) {
		if (store_get_raw(s, txn, STORE_META, STORE_META_LM, &blob, &bloblen) == 0 &&
		    stats_lm_load(&d.lm, blob, bloblen) != 0)
			d.lm = NULL;
		store_read_end(txn);
	}
	if (!d.lm)
		log_info("no language model in the store: records get no perplexity "
			 "(clarify lm train)");
	/* ping at half the watchdog's timeout (WatchdogSec=), every 10 s at most */
	{
		uint64_t usec = 0;

		if (sd_watchdog_enabled(0, &usec) > 0 && usec && (double)usec / 2e6 < ping)
			ping = (double)usec / 2e6;
	}
	sd_notify(0, "READY=1");
	d.live.on = o->progress > 0 ||
		    (o->progress < 0 && isatty(2) && log_threshold >= LOG_INFO);
	live_count(&d.live, o, s, 0);
	status(&d, "started");
	for (;;) {
		struct llm_request *r;
		double now = time_mono();

		/* STATUS= and the watchdog's ping, busy or idle */
		if (now - d.last_status > ping)
			status(&d, d.in_flight ? "running" : "idle");
		live_tick(&d, now, 0);

		if (got_hup && !d.old_llm) {
			/* a reload waits for the one before to be done with */
			got_hup = 0;
			reload(&d);
		}
		if (d.old_llm) {
			/* the old client's requests come back to the old client */
			while ((r = llm_wait(d.old_llm, 0)) != NULL) {
				rc = daemon_reply(&d, r->udata);
				if (rc)
					goto out;
			}
			if (llm_outstanding(d.old_llm) == 0)
				retire_old(&d);
		}
		if (got_term && !deadline) {
			sd_notify(0, "STOPPING=1");
			deadline = now + d.o->drain_seconds;
			log_info("stopping: %zu requests in flight get %.0f s", d.in_flight,
				 d.o->drain_seconds);
		}
		/* start jobs while there is room */
		while (!got_term && !d.exhausted && d.in_flight < (size_t)d.o->llm.max_in_flight &&
		       !llm_fatal(d.llm, NULL, 0)) {
			rc = job_start_next(&d);
			if (rc)
				goto out;
		}
		if (llm_fatal(d.llm, NULL, 0) && !got_term) {
			char why[256];

			llm_fatal(d.llm, why, sizeof(why));
			log_err("%s: stopping", why);
			got_term = 1;
			rc = CL_EINVAL;
			continue;
		}
		if (d.in_flight == 0 && (d.exhausted || got_term)) {
			if (!got_term && d.exhausted && targets_short(&d.targets, d.o)) {
				/* another pass for the jobs held back, over the
				 * store as committed (the jobs taken are not pending) */
				rc = commit(&d);
				if (rc)
					goto out;
				d.exhausted = 0;
				d.cursor[0] = '\0';
				continue;
			}
			if (!got_term && d.batch && (d.batch_in || !batch_run_idle(d.batch))) {
				/* all that can be gathered is: the batches go out, and
				 * the loop waits for them; one that came in lets its jobs
				 * go, taken by another pass over the store as committed */
				rc = commit(&d);
				if (!rc)
					rc = batch_wait(&d, ping);
				if (rc)
					goto out;
				continue;
			}
			if (got_term || d.o->once)
				break;
			/* wait for new jobs (an import may add some) */
			rc = commit(&d);
			if (rc)
				goto out;
			d.exhausted = 0;
			d.cursor[0] = '\0';
			if (d.live.on && now - d.live.counted > 10) {
				live_count(&d.live, d.o, d.s,
					   d.n.accepted + d.n.rejected + d.n.failed);
				d.live.counted = now;
			}
			for (int i = 0; i < 20 && !got_term && !got_hup && time_mono() - now < ping;
			     i++)
				sleep_short();
			continue;
		}
		if (deadline && now > deadline)
			break;
		r = llm_wait_or_wake(d.llm, d.old_llm ? 0.02 : 0.2);
		if (r) {
			int rrc = daemon_reply(&d, r->udata);

			if (rrc) {
				rc = rrc;
				goto out;
			}
		}
		{
			int drc = pool_drain(&d);

			if (drc) {
				rc = drc;
				goto out;
			}
		}
		if (d.batch) {
			int brc = batch_run_step(d.batch, 0);

			if (brc < 0) {
				rc = brc;
				goto out;
			}
			d.batch_in |= brc > 0;
		}
		/* clarify status reads the progress: once a second while
		 * requests are out, even when nothing else is to be written */
		if (d.in_flight && !d.writes && time_mono() - d.last_commit > 1.0)
			d.writes++;
		if (d.writes >= (size_t)d.o->batch ||
		    (d.writes && time_mono() - d.last_commit > 1.0)) {
			rc = commit(&d);
			if (rc)
				goto out;
		}
	}
	{
		int crc = commit(&d);

		rc = crc ? crc : rc == CL_EINVAL ? CL_EINVAL : 0;
	}
	if (d.live.on) { /* the last state of the line stays on the screen */
		live_tick(&d, time_mono(), 1);
		log_status(NULL);
		d.live.on = 0;
	}
	status(&d, "stopped");
out:
	/* requests still out are cancelled; their jobs stay pending */
	d.running = 0;
	pool_stop(&d);
	if (d.llm && !d.store_failed) {
		d.writes++; /* the last word on progress: stopped */
		commit(&d);
	}
	llm_client_free(d.llm);
	llm_client_free(d.old_llm);
	if (d.old_o && d.old_o != d.first_o && d.o->release)
		d.o->release(d.o->reload_arg, (struct daemon_opts *)d.old_o);
	if (d.o != d.first_o && d.o->release)
		d.o->release(d.o->reload_arg, (struct daemon_opts *)d.o);
	while (d.jobs)
		job_free(&d, d.jobs);
	batch_run_free(d.batch);
	json_decref(d.w.progress);
	if (out)
		*out = d.n;
	raw_clear(&d.w);
	free(d.w.raw);
	json_decref(d.last_problem);
	json_decref(d.w.jobs);
	filter_set_release(&d.fs);
	dedup_release(&d.dedup);
	prompt_set_release(&d.ps);
	stats_lm_free(d.lm);
	return rc;
}
