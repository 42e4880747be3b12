/* batch.h - fakellm's batch endpoints: OpenAI's Files and Batches
 * (batch.c), Gemini's files and batch mode (batch_gemini.c) */
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

/* Whose batch endpoint method url is, and whose key it needs. */
enum { FB_NONE, FB_OPENAI, FB_GEMINI, FB_GEMINI_SESSION /* an upload session: no key */ };
int fbatch_route(const char *url, const char *method);
/* The largest body the endpoint takes (an upload), or 0 for the default. */
size_t fbatch_body_max(const char *url, const char *method);

/* One request, and its answer. */
struct fb_http {
	const char *url, *method, *body;
	size_t n;
	/* a query argument (header 0) or a request header (header 1), or NULL */
	const char *(*arg)(void *conn, int header, const char *name);
	void *conn;
	/* the answer: status, the body (malloc'd, len bytes, of type), and
	 * one more header when hdr_name is not "" */
	int status;
	char *out;
	size_t len;
	const char *type;
	char hdr_name[64], hdr_value[1024];
};

/* Answer h (fbatch_route() said it is a batch endpoint): 0, or -1 out of memory. */
int fbatch_answer(struct fbatch *fb, struct fb_http *h);

#endif
