/*
 * batchrun.h - llm.mode batch: the daemon's requests gathered into
 * provider batches, their life recorded in the store's batches database,
 * and their replies brought back into the response cache.
 *
 * The daemon asks as in online mode; a request the cache cannot answer is
 * gathered here instead of sent, and its job leaves memory (it stays
 * pending in the store, held by its batch, so no pass takes it again).
 * A batch is written to a JSONL file under the store, recorded in the
 * store with its jobs, uploaded, created, polled; its output lines go to
 * the response cache; then its jobs are let go, and the daemon's next pass
 * takes them again: each request of theirs is now a cache hit, and the
 * reply runs through the same parse, filters and scores as an online one.
 * A kill at any moment leaves the record to resume from: a file or batch
 * whose creation was not recorded is found again by its name or tag, so
 * none is made twice.
 */
#ifndef CLARIFY_BATCHRUN_H
#define CLARIFY_BATCHRUN_H

#include <stddef.h>

#include "../store/store.h"
#include "../llm/llm.h"

struct batch_run;

struct batch_run_opts {
	const struct llm_options *llm; /* borrowed, for the whole run */
	size_t max_requests;           /* llm.batch_max_requests */
	size_t max_bytes;              /* the provider's input file limit */
	double poll_s;                 /* llm.batch_poll_s: the first wait */
	int max_tries;                 /* batches a request may be in before its job fails */
};

/* Open the batch mode over s (the writer): the live batches recorded in
 * it are resumed.  0, or CL_E* with a message. */
int batch_run_open(struct batch_run **out, struct store *s, const struct batch_run_opts *o);
void batch_run_free(struct batch_run *b);

/* Non-zero when a batch holds the job (gathered, or in a live batch). */
int batch_run_holds(const struct batch_run *b, const char *job_key, size_t klen);

/*
 * Gather a request (its cache key, and the body as the one-by-one client
 * would send it) of job_key at stage.  0 when gathered: the job may leave
 * memory.  1 when the request already failed in a batch, or was in too
 * many: *why says it, and the job fails with it.  CL_E* on an error.
 */
int batch_run_gather(struct batch_run *b, int stage, const char *job_key,
		     const char *cache_key, const char *body, size_t len, const char **why);

/*
 * Move the batches on: flush the gathered requests (all of them when
 * flush is set, else only a full batch), and start or finish the calls to
 * the provider.  Returns the number of batches whose replies came in
 * since the last call (the daemon then takes their jobs again), or CL_E*
 * when the store cannot be written.
 */
int batch_run_step(struct batch_run *b, int flush);

/* Non-zero when nothing is gathered and no batch is live. */
int batch_run_idle(const struct batch_run *b);

/* The live batches and the requests they hold, for the progress record. */
void batch_run_counts(const struct batch_run *b, size_t *batches, size_t *requests);

#endif
