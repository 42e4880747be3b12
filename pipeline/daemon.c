/*
 * daemon.c - the generation loop of clarifyd: pending jobs through stage 1
 * (modify) and stage 2 (clarify), the filters and the scores, into the
 * store, exactly once.
 *
 * One thread runs this loop; the LLM client's I/O thread keeps the
 * requests in flight.  A job's state in the store stays "pending" until
 * its result and its new state ("done", "rejected" or "failed") commit in
 * one transaction, so a crash at any moment loses no finished job and
 * repeats none.  Every reply is written to the response cache as it
 * arrives, so a job redone after a crash asks the model nothing it has
 * already answered.
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-daemon.h>
#include <time.h>
#include <unistd.h>

#include "../filters/filter.h"
#include "../prompts/prompt.h"
#include "../stats/stats.h"
#include "daemon.h"
#include "llm.h"

/* One job on its way. */
struct job {
	char key[STORE_KEY_MAX + 32];
	int category;
	int stage;                 /* PROMPT_MODIFY, PROMPT_CLARIFY */
	int parse_tries;
	json_t *problem;
	struct buf system, user;
	struct llm_request req;
	char cache_key[HASH_SHA256_HEX];
	int cached;                /* the reply came from the cache */
	struct prompt_reply r1, r2;
	int64_t tokens_in, tokens_out;
	double latency;
	struct job *prev, *next;   /* every job on its way, for the last word */
};

/* What the next write transaction commits. */
struct pending_write {
	json_t *cache;             /* cache key -> reply */
	json_t *results;           /* job key -> result */
	json_t *jobs;              /* job key -> job record */
	json_t *progress;          /* meta "progress": what clarify status shows */
};

struct daemon {
	const struct daemon_opts *o;
	struct store *s;
	struct llm_options lo;
	struct llm_client *llm;
	struct prompt_set ps;
	struct filter_set fs;
	struct filter_scratch *scratch;
	struct stats_lm *lm;
	struct stats_bounds bounds;
	struct pending_write w;
	char cursor[STORE_KEY_MAX + 32];  /* the last job key taken */
	int exhausted;             /* the scan found no more pending jobs */
	size_t in_flight, writes;
	struct daemon_counts n;
	double last_commit, last_status;
	struct job *jobs;
	int64_t started;
	int running;
};

static int daemon_reply(struct daemon *d, struct job *j);

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

	json_object_foreach(w->cache, k, v) {
		rc = store_put(s, txn, STORE_CACHE, k, v);
		if (rc)
			return rc;
	}
	json_object_foreach(w->results, k, v) {
		rc = store_put(s, txn, STORE_RESULTS, k, v);
		if (rc)
			return rc;
	}
	json_object_foreach(w->jobs, k, v) {
		rc = store_put(s, txn, STORE_JOBS, k, v);
		if (rc)
			return rc;
	}
	return w->progress ? store_put(s, txn, STORE_META, "progress", w->progress) : 0;
}

static void progress(struct daemon *d)
{
	struct llm_stats st;

	llm_stats(d->llm, &st);
	json_decref(d->w.progress);
	d->w.progress = json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:i, s:i}",
				  "pid", (json_int_t)getpid(), "started", (json_int_t)d->started,
				  "updated", (json_int_t)time_now(),
				  "accepted", (json_int_t)d->n.accepted,
				  "rejected", (json_int_t)d->n.rejected,
				  "failed", (json_int_t)d->n.failed,
				  "requests", (json_int_t)d->n.requests,
				  "retries", (json_int_t)st.retries,
				  "cache_hits", (json_int_t)d->n.cache_hits,
				  "tokens", (json_int_t)d->n.tokens,
				  "in_flight", (int)d->in_flight, "running", d->running);
}

static int commit(struct daemon *d)
{
	int rc;

	if (!d->writes)
		return 0;
	progress(d);
	rc = store_write(d->s, commit_fn, &d->w);
	if (rc) {
		log_err("cannot write to store '%s': %s", d->s->path, err_msg(rc));
		return rc;
	}
	json_object_clear(d->w.cache);
	json_object_clear(d->w.results);
	json_object_clear(d->w.jobs);
	d->writes = 0;
	d->last_commit = time_mono();
	return 0;
}

static int job_finish(struct daemon *d, struct job *j, const char *state, json_t *result,
		      const char *error)
{
	json_t *rec = NULL;
	MDB_txn *txn;
	int64_t now = time_now();

	if (store_read_begin(d->s, &txn) == 0) {
		store_get(d->s, txn, STORE_JOBS, j->key, &rec);
		store_read_end(txn);
	}
	if (!rec)
		rec = store_job_new(now);
	json_object_set_new(rec, "state", json_string(state));
	json_object_set_new(rec, "attempts", json_integer(jsonx_int(rec, "attempts", 0) + 1));
	json_object_set_new(rec, "last_error", error ? json_string(error) : json_null());
	json_object_set_new(rec, "updated", json_integer(now));
	json_object_set_new(d->w.jobs, j->key, rec);
	if (result)
		json_object_set_new(d->w.results, j->key, result);
	d->writes++;
	if (!strcmp(state, "done"))
		d->n.accepted++;
	else if (!strcmp(state, "rejected"))
		d->n.rejected++;
	else
		d->n.failed++;
	return 0;
}

/* ---- jobs -------------------------------------------------------------------- */

static void job_free(struct daemon *d, struct job *j)
{
	if (!j)
		return;
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
	free(j);
}

static int in_shard(const struct daemon_opts *o, const char *problem_key)
{
	return o->shards <= 1 ||
	       hash_fnv1a64(problem_key, strlen(problem_key)) % (uint64_t)o->shards ==
		       (uint64_t)o->shard;
}

/* Ask for the job's current stage: from the cache when it has the reply. */
static int job_ask(struct daemon *d, struct job *j)
{
	const struct prompt_template *t = prompt_set_get(&d->ps, j->stage, j->category);
	struct prompt_vars v = {
		.original = jsonx_str(j->problem, "question"),
		.modified = j->r1.modified,
		.starter_code = jsonx_str(j->problem, "starter_code"),
		.difficulty = jsonx_str(j->problem, "difficulty"),
		.category = j->category,
	};
	json_t *hit = NULL;
	MDB_txn *txn;
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
	j->req.stage = j->stage == PROMPT_MODIFY ? LLM_STAGE_MODIFY : LLM_STAGE_CLARIFY;
	j->req.category = j->category;
	j->req.original = v.original;
	j->req.modified = v.modified;
	j->req.udata = j;
	llm_request_key(&d->lo, &j->req, j->cache_key);
	j->cached = 0;
	if (d->o->cache && store_read_begin(d->s, &txn) == 0) {
		if (store_get(d->s, txn, STORE_CACHE, j->cache_key, &hit) == 0 &&
		    llm_response_from_json(&j->req, hit) == 0)
			j->cached = 1;
		json_decref(hit);
		store_read_end(txn);
	}
	if (!j->cached) {
		llm_submit(d->llm, &j->req);
		d->n.requests++;
	} else {
		d->n.cache_hits++;
	}
	return 0;
}

/* Take the next pending job of this shard, after the cursor. */
struct next_ctx {
	struct daemon *d;
	char key[STORE_KEY_MAX + 32];
};

static int find_pending(const char *key, size_t klen, json_t *v, int rc, void *arg)
{
	struct next_ctx *n = arg;
	const char *state = jsonx_str(v, "state");
	const char *hash = memchr(key, '#', klen);
	char pkey[STORE_KEY_MAX];

	if (rc || klen >= sizeof(n->key) || !hash)
		return 0;
	/* "modify" and "clarify" are where an older clarifyd stopped: redo */
	if (!state || (strcmp(state, "pending") && strcmp(state, "modify") &&
		       strcmp(state, "clarify")))
		return 0;
	snprintf(pkey, sizeof(pkey), "%.*s", (int)(hash - key), key);
	if (!in_shard(n->d->o, pkey))
		return 0;
	memcpy(n->key, key, klen);
	n->key[klen] = '\0';
	return 1;
}

static int job_start_next(struct daemon *d)
{
	struct next_ctx n = { .d = d };
	char pkey[STORE_KEY_MAX], cat[32];
	struct job *j;
	MDB_txn *txn;
	const char *hash;
	int rc;

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
	if (!j)
		return CL_ENOMEM;
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
	rc = store_read_begin(d->s, &txn);
	if (!rc) {
		rc = store_get(d->s, txn, STORE_PROBLEMS, pkey, &j->problem);
		store_read_end(txn);
	}
	if (rc || j->category < 0) {
		job_finish(d, j, "failed", NULL, rc ? "its problem cannot be read" : "unknown category");
		job_free(d, j);
		return 0;
	}
	j->stage = PROMPT_MODIFY;
	rc = job_ask(d, j);
	if (rc) {
		job_free(d, j);
		return rc;
	}
	d->in_flight++;
	if (j->cached)
		return daemon_reply(d, j);
	return 0;
}

/* ---- replies ----------------------------------------------------------------- */

static json_t *reply_usage(const struct job *j)
{
	return json_pack("{s:I, s:I, s:f, s:b}", "tokens_in", (json_int_t)j->tokens_in,
			 "tokens_out", (json_int_t)j->tokens_out, "latency", j->latency,
			 "cached", j->cached);
}

static json_t *result_of(struct daemon *d, struct job *j, const struct filter_result *res,
			 json_t *signals)
{
	const struct prompt_template *t1 = prompt_set_get(&d->ps, PROMPT_MODIFY, j->category);
	const struct prompt_template *t2 = prompt_set_get(&d->ps, PROMPT_CLARIFY, j->category);
	json_t *qs = json_array();

	for (size_t i = 0; i < j->r2.nquestions; i++)
		json_array_append_new(qs, json_string(j->r2.questions[i]));
	return json_pack("{s:s?, s:o, s:s?, s:s, s:s, s:s, s:[{s:s, s:I, s:s}, {s:s, s:I, s:s}], "
			 "s:o, s:o?, s:o, s:b, s:I}",
			 "modified_problem", j->r1.modified, "questions", qs,
			 "reasoning", j->r1.reasoning, "category", category_name(j->category),
			 "provider", llm_provider_name(d->lo.provider), "model", d->lo.model,
			 "templates", "name", t1->name, "version", (json_int_t)t1->version,
			 "hash", t1->hash, "name", t2->name, "version", (json_int_t)t2->version,
			 "hash", t2->hash, "usage", reply_usage(j), "stats", signals,
			 "verdicts", filter_result_json(res), "accepted", !res->rejected,
			 "created", (json_int_t)time_now());
}

static int daemon_reply(struct daemon *d, struct job *j)
{
	const struct prompt_template *t = prompt_set_get(&d->ps, j->stage, j->category);
	struct prompt_reply *r = j->stage == PROMPT_MODIFY ? &j->r1 : &j->r2;
	struct filter_result res;
	int rc;

	if (j->req.status != LLM_OK) {
		if (j->req.status == LLM_EBUDGET || j->req.status == LLM_ECANCELLED ||
		    j->req.status == LLM_EAUTH) {
			/* not the job's fault: it stays pending for the next run */
			d->in_flight--;
			job_free(d, j);
			return 0;
		}
		job_finish(d, j, "failed", NULL, j->req.error);
		d->in_flight--;
		job_free(d, j);
		return 0;
	}
	j->tokens_in += j->req.tokens_in;
	j->tokens_out += j->req.tokens_out;
	j->latency += j->req.latency;
	d->n.tokens += j->req.tokens_in + j->req.tokens_out;
	err_clear();
	rc = prompt_parse_reply(t, j->req.text, r);
	if (rc) {
		if (++j->parse_tries <= d->o->max_parse_retries) {
			log_debug("%s: %s: asking again", j->key, err_msg(rc));
			return job_ask(d, j) ? CL_ENOMEM : j->cached ? daemon_reply(d, j) : 0;
		}
		job_finish(d, j, "failed", NULL, err_msg(rc));
		d->in_flight--;
		job_free(d, j);
		return 0;
	}
	/* a good reply is worth keeping: redone jobs get it from the cache */
	if (!j->cached && d->o->cache) {
		json_object_set_new(d->w.cache, j->cache_key, llm_response_json(&j->req));
		d->writes++;
	}
	filter_result_init(&res);
	if (j->stage == PROMPT_MODIFY) {
		struct filter_input in = { .original = jsonx_str(j->problem, "question"),
					   .modified = j->r1.modified, .reasoning = j->r1.reasoning,
					   .finish_reason = j->req.finish_reason,
					   .category = j->category };

		if (filter_run(&d->fs, d->scratch, &in, &res) == 0 && res.rejected) {
			/* rejected at stage 1: kept with its verdicts, stage 2 not paid for */
			job_finish(d, j, "rejected", result_of(d, j, &res, NULL), NULL);
			filter_result_release(&res);
			d->in_flight--;
			job_free(d, j);
			return 0;
		}
		filter_result_release(&res);
		j->stage = PROMPT_CLARIFY;
		j->parse_tries = 0;
		rc = job_ask(d, j);
		if (rc)
			return rc;
		return j->cached ? daemon_reply(d, j) : 0;
	}
	{
		struct filter_input in = {
			.original = jsonx_str(j->problem, "question"), .modified = j->r1.modified,
			.questions = (const char *const *)j->r2.questions,
			.nquestions = j->r2.nquestions, .finish_reason = j->req.finish_reason,
			.questions_expected = 1, .category = j->category,
		};
		json_t *signals;

		filter_run(&d->fs, d->scratch, &in, &res);
		signals = stats_record(d->lm, in.original, in.modified, in.questions, in.nquestions);
		if (signals)
			stats_validate(&d->bounds, signals, &res);
		job_finish(d, j, res.rejected ? "rejected" : "done", result_of(d, j, &res, signals),
			   NULL);
		filter_result_release(&res);
	}
	d->in_flight--;
	job_free(d, j);
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
	log_info("%s", line + 7);
	d->last_status = time_mono();
}

static int load_parts(struct daemon *d)
{
	int rc;

	rc = prompt_set_load_dir(&d->ps, d->o->prompts_dir);
	if (!rc)
		rc = filter_set_load_dir(&d->fs, d->o->filters_dir);
	if (rc)
		return rc;
	d->fs.limits = d->o->limits;
	d->scratch = filter_scratch_new(&d->fs);
	return d->scratch ? 0 : CL_ENOMEM;
}

int daemon_run(const struct daemon_opts *o, struct store *s, struct daemon_counts *out)
{
	struct daemon d = { .o = o, .s = s };
	struct sigaction sa = { 0 };
	MDB_txn *txn;
	const void *blob;
	size_t bloblen;
	double deadline = 0;
	int rc;

	got_term = got_hup = 0;
	sa.sa_handler = on_term;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = on_hup;
	sigaction(SIGHUP, &sa, NULL);
	d.w.cache = json_object();
	d.w.results = json_object();
	d.w.jobs = json_object();
	d.bounds = o->bounds;
	d.started = time_now();
	d.running = 1;
	rc = load_parts(&d);
	if (!rc) {
		d.lo = o->llm;
		rc = llm_client_new(&d.llm, &o->llm);
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
	sd_notify(0, "READY=1");
	status(&d, "started");
	for (;;) {
		struct llm_request *r;
		double now = time_mono();

		if (got_hup) {
			/* templates and filters are reloaded whole; a bad set is
			 * refused and the running one kept */
			struct daemon nd = d;

			got_hup = 0;
			sd_notify(0, "RELOADING=1");
			if (load_parts(&nd) == 0) {
				prompt_set_release(&d.ps);
				filter_scratch_free(d.scratch);
				filter_set_release(&d.fs);
				d.ps = nd.ps;
				d.fs = nd.fs;
				d.scratch = nd.scratch;
				log_info("reloaded the templates and the filters");
			} else {
				log_err("reload refused, the running set is kept: %s", err_msg(CL_ECONFIG));
			}
			sd_notify(0, "READY=1");
		}
		if (got_term && !deadline) {
			sd_notify(0, "STOPPING=1");
			deadline = now + o->drain_seconds;
			log_info("stopping: %zu requests in flight get %.0f s", d.in_flight,
				 o->drain_seconds);
		}
		/* start jobs while there is room */
		while (!got_term && !d.exhausted && d.in_flight < (size_t)o->llm.max_in_flight &&
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
			if (got_term || o->once)
				break;
			/* wait for new jobs (an import may add some) */
			commit(&d);
			d.exhausted = 0;
			d.cursor[0] = '\0';
			for (int i = 0; i < 20 && !got_term && !got_hup; i++)
				sleep_short();
			continue;
		}
		if (deadline && now > deadline)
			break;
		r = llm_wait(d.llm, 0.2);
		if (r) {
			int rrc = daemon_reply(&d, r->udata);

			if (rrc) {
				rc = rrc;
				goto out;
			}
		}
		if (d.writes >= (size_t)o->batch || (d.writes && time_mono() - d.last_commit > 1.0))
			if (commit(&d))
				goto out;
		if (time_mono() - d.last_status > 10)
			status(&d, "running");
	}
	rc = commit(&d) ? CL_ESTORE : rc == CL_EINVAL ? CL_EINVAL : 0;
	status(&d, "stopped");
out:
	/* requests still out are cancelled; their jobs stay pending */
	d.running = 0;
	if (d.llm) {
		d.writes++; /* the last word on progress: stopped */
		commit(&d);
	}
	llm_client_free(d.llm);
	while (d.jobs)
		job_free(&d, d.jobs);
	json_decref(d.w.progress);
	if (out)
		*out = d.n;
	json_decref(d.w.cache);
	json_decref(d.w.results);
	json_decref(d.w.jobs);
	filter_scratch_free(d.scratch);
	filter_set_release(&d.fs);
	prompt_set_release(&d.ps);
	stats_lm_free(d.lm);
	return rc;
}
