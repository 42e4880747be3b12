/*
 * plan.h - the cost of the pending work before it is run: clarifyd
 * --dry-run and clarify plan (pipeline/plan.c).
 *
 * Every pending job's stage-1 prompt is rendered as clarifyd would send
 * it, and its tokens counted by the estimate clarifyd's rate limiter and
 * offline provider use: ceil(bytes / 4) of the messages' text, the usual
 * four bytes a token of English (no byte-pair tokenizer: a model's own
 * count differs, most for code, numbers and non-English text).  Stages 2
 * and 3 show stage 1's rewrite (and stage 2's questions), which do not
 * exist yet: their prompts are the template rendered without them plus
 * the expected size of what they show.  Expected replies come from the
 * store's own results (the mean tokens per request of each stage, the
 * requests per job, the share of jobs that reach each stage) once it has
 * results with per-stage usage; before that from priors: a rewrite is as
 * long as the original plus PLAN_PRIOR_REASONING, stage 2 replies
 * PLAN_PRIOR_CLARIFY tokens, stage 3 PLAN_PRIOR_ANSWER, each capped by
 * its template's max_tokens, and every job reaches every stage.  Nothing
 * is sent and nothing is written.
 */
#ifndef CLARIFY_PLAN_H
#define CLARIFY_PLAN_H

#include <stdio.h>

#include "../prompts/prompt.h"
#include "../store/store.h"

#define PLAN_PRIOR_REASONING 64   /* stage 1's <reasoning>, tokens */
#define PLAN_PRIOR_CLARIFY 128    /* a stage 2 reply */
#define PLAN_PRIOR_QUESTIONS 64   /* the questions in it */
#define PLAN_PRIOR_ANSWER 192     /* a stage 3 reply */

/* Estimated tokens of len bytes of text: ceil(len / 4). */
int64_t plan_tokens(size_t len);

/* The price of tokens at price_per_mtok a million. */
double plan_money(int64_t tokens, double price_per_mtok);

/* What the store's results say a request of each stage gets back. */
struct plan_history {
	uint64_t results;                    /* results with per-stage usage */
	uint64_t reached[PROMPT_STAGES];     /* of them, those asked stage k */
	uint64_t requests[PROMPT_STAGES];    /* requests of stage k */
	int64_t tokens_out[PROMPT_STAGES];   /* completion tokens of stage k */
	int64_t modified_tokens;             /* plan_tokens of the rewrites */
	int64_t questions_tokens;            /* of the questions as stage 3 shows them */
	uint64_t with_text;                  /* results holding both */
};

/* The expectations one job is priced with. */
struct plan_expect {
	double reply[PROMPT_STAGES];    /* tokens per request; NAN: the prior */
	double tries[PROMPT_STAGES];    /* requests per job that reaches the stage */
	double reach[PROMPT_STAGES];    /* share of the jobs that reach the stage */
	double modified;                /* tokens of the rewrite; NAN: the prior */
	double questions;               /* tokens of the questions shown */
	int from_history;
};

/* The expectations of h (zeroed: the priors). */
void plan_expect_from(const struct plan_history *h, struct plan_expect *e);

struct plan_stage {
	double requests;
	double tokens_in, tokens_out;
	int64_t max_out;                /* the templates' max_tokens, summed: the ceiling */
};

struct plan {
	uint64_t jobs;                  /* pending jobs priced */
	uint64_t resumed;               /* of them, jobs waiting for stage 3 only */
	uint64_t skipped;               /* unreadable job or problem, unknown category */
	int stages;
	struct plan_stage st[PROMPT_STAGES];
	struct plan_history h;
	struct plan_expect e;
};

/*
 * Add one job: t_in[k] are the tokens of stage k's prompt as rendered
 * (stages 2 and 3 without the rewrite and questions they show), orig the
 * original problem's tokens, max_out[k] the templates' max_tokens (<= 0:
 * none).  first is the first stage the job runs (PROMPT_ANSWER for a job
 * waiting for stage 3 over its stored result, whose prompt t_in[2] is
 * then whole).
 */
void plan_add_job(struct plan *p, const struct plan_expect *e, int first,
		  const int64_t t_in[PROMPT_STAGES], int64_t orig,
		  const int64_t max_out[PROMPT_STAGES]);

struct plan_opts {
	const struct prompt_set *ps;
	int stages;                     /* 2 or 3 (jobs.stages) */
	int shard, shards;              /* --shard K/N; shards <= 1: all */
};

/*
 * Price every pending job of s (open read-only is enough) into p: the
 * store's results first (the history), then the jobs.  0, or the
 * store's CL_E* code with its message.
 */
int plan_run(struct store *s, const struct plan_opts *o, struct plan *p);

struct plan_price {
	const char *provider, *model;
	double in_per_mtok, out_per_mtok;   /* both 0: not priced */
};

/* The plan as JSON (new reference; NULL when out of memory), and as a
 * table for people. */
json_t *plan_json(const struct plan *p, const struct plan_price *pr, const char *store);
void plan_print(const struct plan *p, const struct plan_price *pr, const char *store, FILE *f);

/*
 * All of it, for clarifyd --dry-run and clarify plan: load the templates
 * of prompts_dir, price s's pending jobs and print the table (or the
 * JSON) to f.  0, or the CL_E* code with its message set (CL_ECONFIG for
 * a bad template).
 */
int plan_report(struct store *s, const char *prompts_dir, const struct plan_opts *o,
		const struct plan_price *pr, int json, FILE *f);

/* The method, one line, for --help and the report. */
#define PLAN_METHOD                                                                       \
	"tokens estimated as ceil(bytes / 4) of the rendered messages (no byte-pair "    \
	"tokenizer); stages 2 and 3: their template plus the expected rewrite and questions"

#endif
