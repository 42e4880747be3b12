/*
 * plan.c - the cost of the pending work before it is run (see plan.h):
 * the store's results give the history, then every pending job's prompts
 * are rendered and priced.  Reads only.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "plan.h"

int64_t plan_tokens(size_t len)
{
	return (int64_t)((len + 3) / 4);
}

double plan_money(int64_t tokens, double price_per_mtok)
{
	return (double)tokens * price_per_mtok / 1e6;
}

void plan_expect_from(const struct plan_history *h, struct plan_expect *e)
{
	for (int k = 0; k < PROMPT_STAGES; k++) {
		e->reply[k] = NAN;
		e->tries[k] = 1;
		e->reach[k] = 1;
	}
	e->modified = NAN;
	e->questions = PLAN_PRIOR_QUESTIONS;
	e->from_history = h->results > 0;
	if (!h->results)
		return;
	for (int k = 0; k < PROMPT_STAGES; k++) {
		if (!h->reached[k] || !h->requests[k]) {
			/* never asked (stage 3 newly enabled): as many as the stage before */
			e->reach[k] = k ? e->reach[k - 1] : 1;
			continue;
		}
		e->reply[k] = (double)h->tokens_out[k] / (double)h->requests[k];
		e->tries[k] = (double)h->requests[k] / (double)h->reached[k];
		e->reach[k] = k ? (double)h->reached[k] / (double)h->results : 1;
	}
	if (h->with_text) {
		e->modified = (double)h->modified_tokens / (double)h->with_text;
		e->questions = (double)h->questions_tokens / (double)h->with_text;
	}
}

/* The reply a request of stage k is expected to get. */
static double expected_reply(const struct plan_expect *e, int k, int64_t orig, int64_t max_out)
{
	static const double prior[PROMPT_STAGES] = { PLAN_PRIOR_REASONING, PLAN_PRIOR_CLARIFY,
						     PLAN_PRIOR_ANSWER };
	double r = isnan(e->reply[k]) ? prior[k] + (k == PROMPT_MODIFY ? (double)orig : 0)
				      : e->reply[k];

	return max_out > 0 && r > (double)max_out ? (double)max_out : r;
}

void plan_add_job(struct plan *p, const struct plan_expect *e, int first,
		  const int64_t t_in[PROMPT_STAGES], int64_t orig,
		  const int64_t max_out[PROMPT_STAGES])
{
	double mod = isnan(e->modified) ? (double)orig : e->modified;

	p->jobs++;
	if (first == PROMPT_ANSWER)
		p->resumed++;
	for (int k = first; k < p->stages && k < PROMPT_STAGES; k++) {
		double n = (k == first ? 1 : e->reach[k]) * e->tries[k];
		double in = (double)t_in[k];

		if (k > first)
			in += mod + (k == PROMPT_ANSWER ? e->questions : 0);
		p->st[k].requests += n;
		p->st[k].tokens_in += n * in;
		p->st[k].tokens_out += n * expected_reply(e, k, orig, max_out[k]);
		p->st[k].max_out += max_out[k] > 0 ? max_out[k] : 0;
	}
}

/* ---- the history: the store's results --------------------------------------- */

static int add_result(const char *key, size_t klen, json_t *v, int rc, void *arg)
{
	struct plan_history *h = arg;
	const json_t *stages = json_object_get(json_object_get(v, "usage"), "stages");
	const json_t *qs = json_object_get(v, "questions"), *q;
	const char *mod = jsonx_str(v, "modified_problem");
	size_t i, qlen = 0;

	(void)key;
	(void)klen;
	if (rc || !json_is_object(stages))
		return 0; /* unreadable, or from before usage had its stages */
	h->results++;
	for (int k = 0; k < PROMPT_STAGES; k++) {
		const json_t *st = json_object_get(stages, prompt_stage_name(k));
		int64_t n = jsonx_int(st, "requests", 0);

		if (n <= 0)
			continue;
		h->reached[k]++;
		h->requests[k] += (uint64_t)n;
		h->tokens_out[k] += jsonx_int(st, "tokens_out", 0);
	}
	if (!mod || !json_array_size(qs))
		return 0;
	/* the questions as {{questions}} shows them: "N. text", one a line */
	json_array_foreach(qs, i, q)
		qlen += json_string_length(q) + (i ? 4 : 3);
	h->modified_tokens += plan_tokens(strlen(mod));
	h->questions_tokens += plan_tokens(qlen);
	h->with_text++;
	return 0;
}

/* ---- the pending jobs -------------------------------------------------------------- */

struct walk {
	struct store *s;
	MDB_txn *txn;
	const struct plan_opts *o;
	struct plan *p;
	struct buf sys, user;
	char pkey[STORE_KEY_MAX];
	json_t *problem;            /* of pkey: a problem's jobs come together */
};

static int in_shard(const struct plan_opts *o, const char *pkey)
{
	return o->shards <= 1 || hash_shard(pkey, (unsigned)o->shards) == (unsigned)o->shard;
}

/* Tokens of t rendered with v into *out; 0 when t is NULL. */
static int render(struct walk *w, const struct prompt_template *t, const struct prompt_vars *v,
		  int64_t *out)
{
	int rc;

	*out = 0;
	if (!t)
		return 0;
	buf_reset(&w->sys);
	buf_reset(&w->user);
	rc = prompt_render(t, v, &w->sys, &w->user);
	if (rc)
		return rc;
	*out = plan_tokens(w->sys.len + w->user.len);
	return 0;
}

/* A job waiting for stage 3: its prompt with the stored rewrite and questions. */
static int render_resumed(struct walk *w, const char *jkey, struct prompt_vars *v,
			  int64_t *out)
{
	const struct prompt_template *t = prompt_set_get(w->o->ps, PROMPT_ANSWER, v->category);
	const char *qv[64];
	json_t *res = NULL, *qs, *q;
	size_t i;
	int rc;

	rc = store_get(w->s, w->txn, STORE_RESULTS, jkey, &res);
	if (rc)
		return rc;
	qs = json_object_get(res, "questions");
	v->modified = jsonx_str(res, "modified_problem");
	json_array_foreach(qs, i, q)
		if (i < CL_ARRAY_SIZE(qv))
			qv[i] = json_string_value(q) ? json_string_value(q) : "";
	v->questions = qv;
	v->nquestions = json_array_size(qs) < CL_ARRAY_SIZE(qv) ? json_array_size(qs)
								 : CL_ARRAY_SIZE(qv);
	rc = v->modified ? render(w, t, v, out) : CL_EPARSE;
	json_decref(res);
	return rc;
}

static int add_job(const char *key, size_t klen, json_t *v, int rc, void *arg)
{
	struct walk *w = arg;
	const char *state = jsonx_str(v, "state"), *hash = memchr(key, '#', klen);
	int64_t t_in[PROMPT_STAGES] = { 0 }, max_out[PROMPT_STAGES] = { 0 };
	char pkey[STORE_KEY_MAX], jkey[STORE_KEY_MAX + 32], cat[32];
	struct prompt_vars pv = { .modified = "" };
	int first = PROMPT_MODIFY;

	if (rc || !state || !hash || klen >= sizeof(jkey) ||
	    (size_t)(hash - key) >= sizeof(pkey)) {
		w->p->skipped += rc != 0;
		return 0;
	}
	/* what daemon.c takes: pending, or where an older clarifyd stopped */
	if (!strcmp(state, "answer") && w->o->stages >= 3)
		first = PROMPT_ANSWER;
	else if (strcmp(state, "pending") && strcmp(state, "modify") && strcmp(state, "clarify"))
		return 0;
	snprintf(pkey, sizeof(pkey), "%.*s", (int)(hash - key), key);
	snprintf(jkey, sizeof(jkey), "%.*s", (int)klen, key);
	snprintf(cat, sizeof(cat), "%.*s", (int)(klen - (size_t)(hash + 1 - key)), hash + 1);
	if (!in_shard(w->o, pkey))
		return 0;
	pv.category = category_parse(cat);
	if (pv.category < 0) {
		w->p->skipped++;
		return 0;
	}
	if (!w->problem || strcmp(pkey, w->pkey)) {
		json_decref(w->problem);
		w->problem = NULL;
		snprintf(w->pkey, sizeof(w->pkey), "%s", pkey);
		if (store_get(w->s, w->txn, STORE_PROBLEMS, pkey, &w->problem)) {
			w->problem = NULL;
			w->p->skipped++;
			return 0;
		}
	}
	pv.original = jsonx_str(w->problem, "question");
	pv.starter_code = jsonx_str(w->problem, "starter_code");
	pv.difficulty = jsonx_str(w->problem, "difficulty");
	if (!pv.original) {
		w->p->skipped++;
		return 0;
	}
	for (int k = 0; k < PROMPT_STAGES; k++) {
		const struct prompt_template *t = prompt_set_get(w->o->ps, k, pv.category);

		max_out[k] = t ? t->max_tokens : 0;
		if (k >= w->o->stages || (first == PROMPT_ANSWER && k < PROMPT_ANSWER))
			continue;
		rc = first == PROMPT_ANSWER ? render_resumed(w, jkey, &pv, &t_in[k])
					    : render(w, t, &pv, &t_in[k]);
		if (rc == CL_ENOMEM)
			return rc;
		if (rc) {
			w->p->skipped++;
			return 0;
		}
	}
	plan_add_job(w->p, &w->p->e, first, t_in, plan_tokens(strlen(pv.original)), max_out);
	return 0;
}

int plan_run(struct store *s, const struct plan_opts *o, struct plan *p)
{
	struct walk w = { .s = s, .o = o, .p = p };
	int rc;

	memset(p, 0, sizeof(*p));
	p->stages = o->stages < PROMPT_STAGES ? o->stages : PROMPT_STAGES;
	if (o->ps->stages < p->stages)
		p->stages = o->ps->stages;
	rc = store_read_begin(s, &w.txn);
	if (rc)
		return rc;
	rc = store_each(s, w.txn, STORE_RESULTS, "", add_result, &p->h);
	plan_expect_from(&p->h, &p->e);
	buf_init(&w.sys, 0);
	buf_init(&w.user, 0);
	if (!rc)
		rc = store_each(s, w.txn, STORE_JOBS, "", add_job, &w);
	json_decref(w.problem);
	buf_release(&w.sys);
	buf_release(&w.user);
	store_read_end(w.txn);
	return rc;
}

/* ---- the report ------------------------------------------------------------------------ */

static int priced(const struct plan_price *pr)
{
	return pr->in_per_mtok > 0 || pr->out_per_mtok > 0;
}

static json_t *money_json(const struct plan_price *pr, int64_t in, int64_t out)
{
	double a = plan_money(in, pr->in_per_mtok), b = plan_money(out, pr->out_per_mtok);

	if (!priced(pr))
		return json_null();
	return json_pack("{s:f, s:f, s:f}", "in", a, "out", b, "total", a + b);
}

static json_t *row_json(const char *name, const struct plan_price *pr, double req,
			int64_t in, int64_t out, int64_t max_out)
{
	return json_pack("{s:s, s:I, s:I, s:I, s:I, s:I, s:o}", "stage", name, "requests",
			 (json_int_t)llround(req), "tokens_in", (json_int_t)in, "tokens_out",
			 (json_int_t)out, "tokens", (json_int_t)(in + out), "max_tokens_out",
			 (json_int_t)max_out, "money", money_json(pr, in, out));
}

json_t *plan_json(const struct plan *p, const struct plan_price *pr, const char *store)
{
	json_t *stages = json_array(), *o;
	double req = 0;
	int64_t in = 0, out = 0, max = 0;

	for (int k = 0; stages && k < p->stages; k++) {
		const struct plan_stage *st = &p->st[k];

		json_array_append_new(stages, row_json(prompt_stage_name(k), pr, st->requests,
						       llround(st->tokens_in),
						       llround(st->tokens_out), st->max_out));
		req += st->requests;
		in += llround(st->tokens_in);
		out += llround(st->tokens_out);
		max += st->max_out;
	}
	o = json_pack("{s:s, s:s?, s:s?, s:I, s:I, s:I, s:i, s:o, s:o, s:o, s:{s:s, s:I}, s:s}",
		      "store", store, "provider", pr->provider, "model", pr->model, "jobs",
		      (json_int_t)p->jobs, "resumed", (json_int_t)p->resumed, "skipped",
		      (json_int_t)p->skipped, "stages_enabled", p->stages, "stages", stages,
		      "total", row_json("total", pr, req, in, out, max), "price",
		      priced(pr) ? json_pack("{s:f, s:f}", "in_per_mtok", pr->in_per_mtok,
					     "out_per_mtok", pr->out_per_mtok)
				 : json_null(),
		      "replies", "from", p->e.from_history ? "history" : "priors", "results",
		      (json_int_t)p->h.results, "method", PLAN_METHOD);
	return o;
}

static void print_row(FILE *f, const char *name, const struct plan_price *pr, double req,
		      int64_t in, int64_t out)
{
	fprintf(f, "%-8s %9lld %12lld %12lld %12lld", name, (long long)llround(req),
		(long long)in, (long long)out, (long long)(in + out));
	if (priced(pr))
		fprintf(f, " %10.4f %10.4f %10.4f\n", plan_money(in, pr->in_per_mtok),
			plan_money(out, pr->out_per_mtok),
			plan_money(in, pr->in_per_mtok) + plan_money(out, pr->out_per_mtok));
	else
		fprintf(f, " %10s %10s %10s\n", "-", "-", "-");
}

void plan_print(const struct plan *p, const struct plan_price *pr, const char *store, FILE *f)
{
	double req = 0;
	int64_t in = 0, out = 0;

	fprintf(f, "store    %s: %llu pending jobs", store, (unsigned long long)p->jobs);
	if (p->resumed)
		fprintf(f, " (%llu waiting for stage 3)", (unsigned long long)p->resumed);
	if (p->skipped)
		fprintf(f, ", %llu unreadable skipped", (unsigned long long)p->skipped);
	fprintf(f, "\nmodel    %s (%s)", pr->model ? pr->model : "?",
		pr->provider ? pr->provider : "?");
	if (priced(pr))
		fprintf(f, " at %g in, %g out a million tokens\n", pr->in_per_mtok,
			pr->out_per_mtok);
	else
		fprintf(f, ", not priced (set llm.price_in_per_mtok, llm.price_out_per_mtok)\n");
	if (p->e.from_history)
		fprintf(f, "replies  as the store's %llu results had them\n",
			(unsigned long long)p->h.results);
	else
		fprintf(f, "replies  priors (no results yet): a rewrite as long as the original "
			   "+ %d, stage 2 %d, stage 3 %d tokens, within max_tokens\n",
			PLAN_PRIOR_REASONING, PLAN_PRIOR_CLARIFY, PLAN_PRIOR_ANSWER);
	fprintf(f, "method   %s\n\n", PLAN_METHOD);
	fprintf(f, "%-8s %9s %12s %12s %12s %10s %10s %10s\n", "stage", "requests", "tokens in",
		"tokens out", "tokens", "money in", "money out", "money");
	for (int k = 0; k < p->stages; k++) {
		const struct plan_stage *st = &p->st[k];

		print_row(f, prompt_stage_name(k), pr, st->requests, llround(st->tokens_in),
			  llround(st->tokens_out));
		req += st->requests;
		in += llround(st->tokens_in);
		out += llround(st->tokens_out);
	}
	print_row(f, "total", pr, req, in, out);
}

int plan_report(struct store *s, const char *prompts_dir, const struct plan_opts *o,
		const struct plan_price *pr, int json, FILE *f)
{
	struct plan_opts po = *o;
	struct prompt_set ps;
	struct plan *p;
	json_t *j;
	int rc;

	p = calloc(1, sizeof(*p));
	if (!p)
		return CL_ENOMEM;
	rc = prompt_set_load_dir(&ps, prompts_dir);
	if (rc)
		goto out;
	po.ps = &ps;
	rc = plan_run(s, &po, p);
	if (rc)
		goto release_set;
	if (json) {
		j = plan_json(p, pr, s->path);
		rc = j ? jsonx_print(f, j, 1) : CL_ENOMEM;
		json_decref(j);
	} else {
		plan_print(p, pr, s->path, f);
	}
	if (!rc && fflush(f) != 0)
		rc = err_set(CL_EIO, "cannot write the plan: %s", strerror(errno));
release_set:
	prompt_set_release(&ps);
out:
	free(p);
	return rc;
}
