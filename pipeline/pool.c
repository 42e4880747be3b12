/*
 * pool.c - the worker pool of clarifyd: the CPU work of a reply (parsing,
 * filters, scores, the result and the next stage's prompt) on threads of
 * its own.  Jobs with work go in todo and come back in done, in order;
 * the sets (templates, filters) stay put while a job is out: a reload
 * waits for the pool to be idle (pool_quiesce) before it swaps them.
 */
#include <stdlib.h>
#include <string.h>

#include "daemon_int.h"

static void *worker_main(void *arg)
{
	struct daemon *d = arg;
	struct pool *p = &d->pool;
	struct filter_scratch *scratch = NULL;
	struct store codec;
	unsigned gen = 0;
	int have_codec = store_codec_open(&codec, &d->s->opt) == 0;

	if (have_codec)
		store_codec_follow(&codec, d->s);

	pthread_mutex_lock(&p->mu);
	for (;;) {
		struct job *j;

		while (!p->todo && !p->stop)
			pthread_cond_wait(&p->todo_cv, &p->mu);
		if (!p->todo)
			break;
		j = p->todo;
		p->todo = j->qnext;
		if (!p->todo)
			p->todo_tail = NULL;
		p->busy++;
		if (!scratch || gen != p->gen) {
			/* the set was reloaded (the pool was idle): a scratch for it */
			filter_scratch_free(scratch);
			scratch = filter_scratch_new(&d->fs);
			gen = p->gen;
		}
		pthread_mutex_unlock(&p->mu);

		if (scratch && have_codec) {
			daemon_job_work(d, scratch, &codec, j);
		} else {
			j->outcome = OUT_FAILED;
			j->error = strdup("out of memory");
		}

		pthread_mutex_lock(&p->mu);
		j->qnext = NULL;
		if (p->done_tail)
			p->done_tail->qnext = j;
		else
			p->done = j;
		p->done_tail = j;
		p->busy--;
		if (!p->busy && !p->todo)
			pthread_cond_broadcast(&p->idle_cv);
		pthread_mutex_unlock(&p->mu);
		llm_wake(d->llm);
		pthread_mutex_lock(&p->mu);
	}
	pthread_mutex_unlock(&p->mu);
	filter_scratch_free(scratch);
	if (have_codec)
		store_close(&codec);
	return NULL;
}

int pool_start(struct daemon *d, size_t n)
{
	struct pool *p = &d->pool;

	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->todo_cv, NULL);
	pthread_cond_init(&p->idle_cv, NULL);
	p->threads = calloc(n, sizeof(*p->threads));
	if (!p->threads)
		return CL_ENOMEM;
	for (; p->n < n; p->n++)
		if (pthread_create(&p->threads[p->n], NULL, worker_main, d))
			return err_set(CL_ENOMEM, "cannot start worker threads");
	return 0;
}

void pool_stop(struct daemon *d)
{
	struct pool *p = &d->pool;

	if (!p->threads)
		return;
	pthread_mutex_lock(&p->mu);
	p->stop = 1;
	pthread_cond_broadcast(&p->todo_cv);
	pthread_mutex_unlock(&p->mu);
	for (size_t i = 0; i < p->n; i++)
		pthread_join(p->threads[i], NULL);
	free(p->threads);
	p->threads = NULL;
	pthread_cond_destroy(&p->todo_cv);
	pthread_cond_destroy(&p->idle_cv);
	pthread_mutex_destroy(&p->mu);
}

void pool_push(struct daemon *d, struct job *j, int task)
{
	struct pool *p = &d->pool;

	j->qnext = NULL;
	j->task = task;
	j->shown_stage = j->stage;
	pthread_mutex_lock(&p->mu);
	if (p->todo_tail)
		p->todo_tail->qnext = j;
	else
		p->todo = j;
	p->todo_tail = j;
	pthread_cond_signal(&p->todo_cv);
	pthread_mutex_unlock(&p->mu);
}

/* The jobs the pool has finished, in the order they were. */
struct job *pool_take(struct daemon *d)
{
	struct pool *p = &d->pool;
	struct job *j;

	pthread_mutex_lock(&p->mu);
	j = p->done;
	p->done = p->done_tail = NULL;
	pthread_mutex_unlock(&p->mu);
	return j;
}

/* Wait until no worker holds a job: the sets may then change. */
void pool_quiesce(struct daemon *d)
{
	struct pool *p = &d->pool;

	pthread_mutex_lock(&p->mu);
	while (p->busy || p->todo)
		pthread_cond_wait(&p->idle_cv, &p->mu);
	p->gen++;
	pthread_mutex_unlock(&p->mu);
}
