/* batch_int.h - what fakellm's two batch APIs share (batch.c): the files
 * and batches held in memory, one lock, and the run of an input file. */
#ifndef CLARIFY_FAKELLM_BATCH_INT_H
#define CLARIFY_FAKELLM_BATCH_INT_H

#include <jansson.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

#include "batch.h"
#include "reply.h"

struct ffile {
	char id[40], name[256];
	char *data;
	size_t len;
	int64_t created;
};

/* A batch's phase now: its status in OpenAI's words, and whether final. */
enum fb_phase { FB_VALIDATING, FB_RUNNING, FB_COMPLETED, FB_EXPIRED, FB_FAILED, FB_CANCELLED };

struct fb_batch {
	char id[40];
	int api;                   /* FB_OPENAI, FB_GEMINI */
	json_t *obj;               /* the Batch object (Gemini: its metadata), less its state */
	double t0;                 /* created, monotonic seconds */
	int failed;                /* validation failed */
	char why[256];             /* and the first reason (Gemini's error) */
	int cancelled;
	int stuck;                 /* the stuck fault: stays in_progress */
	int held;                  /* created while the hold file existed */
	char out_id[40], err_id[40];
	int64_t total, answered, errors;
};

/* A Gemini upload session: started, its bytes not yet sent. */
struct fb_session {
	unsigned id;
	char name[256];
	int64_t declared;
};

struct fbatch {
	pthread_mutex_t mu;
	double seconds;
	int stuck, expire, errors, upload500, dupid;
	atomic_int slowpoll;       /* taken by the first GET of a batch, without the lock */
	const char *hold;          /* --batch-hold FILE, or NULL */
	FILE *log;
	pthread_mutex_t *log_lock;
	struct ffile *files;
	size_t nfiles, capfiles;
	struct fb_batch *batches;
	size_t nbatches, capbatches;
	struct fb_session *sessions;
	size_t nsessions, capsessions;
	unsigned seq;
};

/* A line of an input file, as one API reads it. */
struct fb_line_api {
	/* its id, or why it is not a valid line (id NULL) */
	const char *(*check)(const json_t *v, const char **why);
	/* the answer line, and an error line (the errors fault) */
	json_t *(*answer)(const json_t *v, const char *id);
	json_t *(*error)(const char *id);
	int errors_apart;          /* error lines in an error file of their own */
	const char *not_unique;    /* why a line whose id came before is refused */
};

static inline int fb_starts(const char *s, const char *prefix)
{
	return !strncmp(s, prefix, strlen(prefix));
}

static inline int fb_ends(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);

	return n > k && !strcmp(s + n - k, suffix);
}

/* A query argument (header 0) or a request header (header 1) of h, or NULL. */
static inline const char *fb_arg(struct fb_http *h, int header, const char *name)
{
	return h->arg ? h->arg(h->conn, header, name) : NULL;
}

/* The answer's body (a new reference), with its status. */
int fb_reply(struct fb_http *h, int status, json_t *v);
void fb_log(struct fbatch *fb, json_t *event);
struct ffile *fb_file_get(struct fbatch *fb, const char *id, size_t n);
/* A new file holding data (taken); id made from prefix. */
struct ffile *fb_file_add(struct fbatch *fb, const char *prefix, const char *name, char *data,
			  size_t len);
struct fb_batch *fb_batch_get(struct fbatch *fb, const char *id, size_t n);
/* A new batch, its id made from prefix; NULL out of memory. */
struct fb_batch *fb_batch_new(struct fbatch *fb, const char *prefix, int api);
/* Validate and answer the input file: 0, or -1 out of memory. */
int fb_run(struct fbatch *fb, struct fb_batch *bt, const struct ffile *in,
	   const struct fb_line_api *la);
enum fb_phase fb_phase(const struct fbatch *fb, const struct fb_batch *bt);

/* The bytes of f as the answer (404 for NULL). */
int fb_content(struct fb_http *h, const struct ffile *f);
/* Gemini's endpoints (batch_gemini.c), under the lock. */
int fb_gemini_answer(struct fbatch *fb, struct fb_http *h);

#endif
