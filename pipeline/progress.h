/*
 * progress.h - what a run of clarifyd has to do and has done: the
 * per-category targets (jobs.target_accepted) and the live line drawn on
 * a terminal.  The loop of daemon.c owns both; nothing here is shared
 * between threads.
 */
#ifndef CLARIFY_PROGRESS_H
#define CLARIFY_PROGRESS_H

#include "../store/store.h"
#include "daemon.h"

/* Whether the problem of that key falls in the run's shard (--shard). */
int daemon_in_shard(const struct daemon_opts *o, const char *problem_key);

/*
 * jobs.target_accepted: accepted records (counted over the store once,
 * when a target is first set) and jobs in flight, by category, and the
 * jobs a pass left pending because their category had enough.
 */
struct run_targets {
	uint64_t accepted[CAT_COUNT], flight[CAT_COUNT], held[CAT_COUNT];
	int counted;
	unsigned said;             /* bit set: "target reached" was logged */
};

/* Whether any category has a target. */
int targets_any(const struct daemon_opts *o);
/* Count the store's accepted records by category, once a target is set
 * (the caller commits its batch first).  0 or CL_E*. */
int targets_count(struct run_targets *t, const struct daemon_opts *o, struct store *s);
/* A job of category c was accepted. */
void targets_accepted(struct run_targets *t, const struct daemon_opts *o, int c);
/* Whether the job of KEY is held back: its category has as many accepted
 * (and in flight) as its target. */
int targets_hold(struct run_targets *t, const struct daemon_opts *o, const char *key,
		 size_t klen);
/* After a pass: whether a category held jobs back while still short of
 * its target (jobs in flight were rejected), so that another pass is due.
 * Forgets the holds. */
int targets_short(struct run_targets *t, const struct daemon_opts *o);

/* The live line: the jobs to do when last counted, when it was drawn. */
struct live_line {
	int on;
	uint64_t todo;
	double last, counted;
};

/* Count the jobs the run has to do (done is what it has done so far). */
void live_count(struct live_line *l, const struct daemon_opts *o, struct store *s,
		uint64_t done);
/* Draw done/total, accepted, rejected, failed, jobs/s, ETA, tokens, money,
 * retries and jobs in flight, at most four times a second unless forced. */
void live_draw(struct live_line *l, const struct daemon_opts *o, const struct daemon_counts *n,
	       uint64_t retries, size_t in_flight, double secs, double now, int force);

#endif
