/*
 * daemon.h - the generation loop of clarifyd (pipeline/daemon.c): pending
 * jobs through both stages, the filters and the scores, into the store.
 */
#ifndef CLARIFY_DAEMON_H
#define CLARIFY_DAEMON_H

#include "../filters/filter.h"
#include "../stats/stats.h"
#include "../store/store.h"
#include "../llm/llm.h"

struct daemon_opts {
	struct llm_options llm;       /* borrowed */
	const char *prompts_dir;
	const char *filters_dir;
	struct filter_limits limits;
	struct stats_bounds bounds;
	int cache;                    /* use and fill the response cache */
	int max_parse_retries;
	int stages;                   /* 2: modify, clarify; 3: and answer (jobs.stages) */
	int64_t target[CAT_COUNT];    /* jobs.target_accepted, by CAT_*; 0: none */
	double near_dup;              /* filters.near_duplicate; 0: no check */
	const char *filter_actions;   /* filters.actions, as config.c keeps them */
	const char *config_file;      /* for their messages; may be NULL */
	int once;                     /* return when no job is left */
	int shard, shards;            /* --shard K/N; shards <= 1: all */
	int batch;                    /* writes per transaction */
	int64_t dict_after;           /* train the store's zstd dictionary once
					 this many results exist; 0: never */
	int workers;                  /* CPU worker threads; 0: one per CPU */
	double drain_seconds;         /* SIGTERM: in-flight requests get this long */
	int log_level;                /* LOG_*, or -1 to leave it */
	double price_in, price_out;   /* money per million tokens in and out; 0: none */
	int batch_mode;               /* llm.mode batch: requests go in provider batches */
	size_t batch_max_requests;    /* llm.batch_max_requests */
	double batch_poll_s;          /* llm.batch_poll_s */
	double batch_discount;        /* llm.batch_discount */
	int progress;                 /* the live line: 1 on, 0 off, -1 when stderr is a
					 terminal and info is logged */
	/*
	 * SIGHUP: read the configuration again into a new set of options
	 * (*out, released with release() once nothing uses it); non-zero,
	 * with the reason logged, refuses it.  NULL: only the templates and
	 * the filters are read again.
	 */
	int (*reload)(void *arg, struct daemon_opts **out);
	void (*release)(void *arg, struct daemon_opts *o);
	void *reload_arg;
};

struct daemon_counts {
	uint64_t accepted, rejected, failed;
	uint64_t requests, cache_hits, tokens;
	uint64_t tokens_in, tokens_out;
	uint64_t stage_requests[3], stage_cached[3]; /* by PROMPT_MODIFY .. PROMPT_ANSWER */
	uint64_t batch_requests, batch_tokens;       /* replies that came from a batch */
};

/*
 * What start-up and SIGHUP check besides the keys: the templates, the rule
 * files and their actions, and the LLM client's options (the offline rule
 * file).  0, or the CL_E* code with its message set; nothing is started.
 */
int daemon_check(const struct daemon_opts *o);

/*
 * Run until SIGTERM (or, with once, until no pending job is left).  s is
 * the store opened as the writer.  0 on a clean stop; CL_EINVAL when the
 * credentials were rejected; other CL_E* codes with a message logged.
 */
int daemon_run(const struct daemon_opts *o, struct store *s, struct daemon_counts *out);

#endif
