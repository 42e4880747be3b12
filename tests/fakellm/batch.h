/* batch.h - fakellm's OpenAI Files and Batches endpoints (batch.c) */
#ifndef CLARIFY_FAKELLM_BATCH_H
#define CLARIFY_FAKELLM_BATCH_H

#include <stdio.h>
#include <pthread.h>

struct fbatch;

/* OpenAI's published limits: an uploaded file, and a batch's input file */
#define FBATCH_UPLOAD_MAX ((size_t)512 << 20)
#define FBATCH_INPUT_MAX ((size_t)200 << 20)
/* and fakellm's own limit on an output or error file it makes */
#define FBATCH_OUTPUT_MAX ((size_t)1 << 30)

/* seconds: how long a batch takes from creation to completed; faults: a
 * list of stuck, expire, errors, upload500, dupid (NULL: none); hold: a
 * batch created while this file exists stays in_progress until it is
 * removed (NULL: none); log and its lock: where "batch-create" and
 * "file-upload" lines go (log may be NULL). */
struct fbatch *fbatch_new(double seconds, const char *faults, const char *hold, FILE *log,
			  pthread_mutex_t *log_lock);
void fbatch_free(struct fbatch *fb);
/* 0, or -1 with a message on stderr for an unknown fault name. */
int fbatch_check_faults(const char *faults);

/* Non-zero when method url is one of the batch endpoints. */
int fbatch_route(const char *url, const char *method);

/*
 * Answer it: *status, and the body (malloc'd, *len bytes, of *type).
 * ctype is the request's Content-Type (the upload's multipart boundary).
 * 0, or -1 out of memory.
 */
int fbatch_answer(struct fbatch *fb, const char *url, const char *method, const char *query_after,
		  const char *query_limit, const char *query_purpose, const char *ctype,
		  const char *body, size_t n, int *status, char **out, size_t *len,
		  const char **type);

#endif
