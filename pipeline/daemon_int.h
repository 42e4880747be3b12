/*
 * daemon_int.h - what daemon.c and pool.c share: a job on its way, the
 * worker pool, the write about to commit, the daemon's state.  Private
 * to pipeline/daemon*.c and pool.c; the rest of clarifyd sees daemon.h.
 */
#ifndef CLARIFY_DAEMON_INT_H
#define CLARIFY_DAEMON_INT_H

#include <pthread.h>

#include "../filters/filter.h"
#include "../prompts/prompt.h"
#include "../stats/stats.h"
#include "../llm/llm.h"
#include "batchrun.h"
#include "config.h"
#include "daemon.h"
#include "dedup.h"
#include "progress.h"

/* One job on its way. */
struct job {
	char key[STORE_KEY_MAX + 32];
	int category;
	int stage;                 /* PROMPT_MODIFY, PROMPT_CLARIFY, PROMPT_ANSWER */
	int shown_stage;           /* stage as the main thread last saw it: progress reads it
				    * while a worker may be changing stage */
	int parse_tries;
	json_t *problem;
	struct buf system, user;
	struct llm_request req;
	char cache_key[HASH_SHA256_HEX];
	int cached;                /* the reply came from the cache */
	int batched;               /* a reply of it came from a provider batch */
	int req_batch;             /* the request in hand: answered by its batch */
	struct prompt_reply r1, r2, r3;
	struct filter_result res;  /* stages 1 and 2's verdicts, while stage 3 is asked */
	json_t *signals;           /* and the scores */
	int judging;               /* res and signals are kept for stage 3 */
	int resumed;               /* a job in state answer: stages 1 and 2 from its result */
	int in_target;             /* counted in its category's cat_flight */
	int has_mh;                /* mh holds the record's signatures */
	struct dedup_sig mh;       /* for the near-duplicate check */
	int64_t tokens_in, tokens_out;
	int64_t stage_req[PROMPT_STAGES], stage_in[PROMPT_STAGES], stage_out[PROMPT_STAGES];
	double latency;
	json_t *rec;               /* its record in jobs, as it was taken */
	struct buf payload;        /* the request body, made with the cache key */
	/* what a worker made of it, for the main thread */
	int task;                  /* TASK_* */
	int outcome;               /* OUT_* */
	void *result;              /* the result, encoded for the store */
	size_t result_len;
	void *reply;               /* the reply for the cache, encoded, under reply_key */
	size_t reply_len;
	char reply_key[HASH_SHA256_HEX];
	char *error;               /* why the job failed */
	struct job *qnext;         /* in the pool's queues */
	struct job *prev, *next;   /* every job on its way, for the last word */
};

enum {
	TASK_PREPARE,              /* render stage 1 and its cache key */
	TASK_REPLY,                /* a reply to parse, filter and score */
	TASK_RESUME,               /* stages 1 and 2 read back: filter, score, ask stage 3 */
};

enum {
	OUT_RETRY,                 /* the reply did not parse: ask again */
	OUT_FAILED,                /* ... too often: the job fails */
	OUT_REJECTED,              /* filters or bounds rejected it */
	OUT_NEXT,                  /* a stage passed: the next is ready to ask */
	OUT_DONE,                  /* the last stage passed: the job is done */
};

/*
 * The worker pool: jobs with a reply go in todo, come back in done.  The
 * sets (templates, filters) stay put while a job is out: a reload waits
 * for the pool to be idle before it swaps them.
 */
struct pool {
	pthread_mutex_t mu;
	pthread_cond_t todo_cv, idle_cv;
	struct job *todo, *todo_tail, *done, *done_tail;
	size_t busy;               /* jobs being worked on */
	unsigned gen;              /* the filter set's generation */
	int stop;
	pthread_t *threads;
	size_t n;
};

/* A value a worker encoded, to put as it is. */
struct raw_put {
	enum store_db db;
	char key[STORE_KEY_MAX + 32];
	void *data;
	size_t len;
};

/* What the next write transaction commits. */
struct pending_write {
	struct raw_put *raw;       /* results and cached replies, encoded */
	size_t nraw, rawcap;
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
	double started_mono;
	int running;
	struct pool pool;
	double last_drop;          /* when the map's pages were last let go */
	int store_failed;          /* a write failed: no more tries */
	int dict_tried;            /* the store's dictionary was trained (or failed) */
	char last_pkey[STORE_KEY_MAX];  /* the problem of the last job taken */
	json_t *last_problem;
	/* after a reload: the client of the old options, until its requests
	 * are back, and the old options, released with it */
	struct llm_client *old_llm;
	const struct daemon_opts *old_o;
	const struct daemon_opts *first_o;  /* the caller's: never released */
	struct run_targets targets;  /* jobs.target_accepted */
	struct dedup dedup;          /* the near-duplicate check's batch */
	struct live_line live;       /* on a terminal */
	struct batch_run *batch;     /* llm.mode batch, or NULL */
	int batch_in;                /* a batch came in: another pass when this one ends */
};

/* The CPU work of a job a worker took (pool.c calls it, daemon.c has it). */
void daemon_job_work(struct daemon *d, struct filter_scratch *scratch, struct store *codec,
		     struct job *j);

/* The pool (pool.c): workers take jobs pushed, the main thread takes them back. */
int pool_start(struct daemon *d, size_t n);
void pool_stop(struct daemon *d);
void pool_push(struct daemon *d, struct job *j, int task);
struct job *pool_take(struct daemon *d);
/* Wait until no worker holds a job: the sets may then change. */
void pool_quiesce(struct daemon *d);

#endif
