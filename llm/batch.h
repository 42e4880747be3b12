/*
 * batch.h - the providers' batch APIs: OpenAI's Files and Batches
 * (batch_openai.c) and Gemini's batch mode (batch_gemini.c), behind one
 * set of calls that take the provider from the options.
 *
 * Blocking calls over libcurl's easy interface: a batch makes a handful
 * of them in a day, so the daemon runs them on a thread of their own and
 * the one-by-one client (client.c) is not involved.  Each call takes the
 * options the client takes (base URL, key, timeouts) and returns 0 or a
 * CL_* code with its message in err_msg() (the key never in it).
 *
 * Idempotence is the caller's, with two lookups: a file is uploaded under
 * a name the caller chooses and found again by it (llm_batch_find_file),
 * a batch is created with metadata {"clarifyd_batch": tag} and found
 * again by its tag (llm_batch_find), so that a caller killed between a
 * request and its record never uploads or creates twice.
 */
#ifndef CLARIFY_LLM_BATCH_H
#define CLARIFY_LLM_BATCH_H

#include <stdint.h>
#include <stdio.h>

#include "llm.h"

#define LLM_BATCH_ID_MAX 128

/* What the provider says of a batch (the Batch object). */
struct llm_batch_info {
	char id[LLM_BATCH_ID_MAX];
	char status[32];          /* validating, in_progress, finalizing, completed,
				   * failed, expired, cancelling, cancelled: OpenAI's
				   * words, Gemini's states told in them */
	char input_file[LLM_BATCH_ID_MAX];
	char output_file[LLM_BATCH_ID_MAX]; /* "" until there is one */
	char error_file[LLM_BATCH_ID_MAX];  /* "" when none (always, for Gemini) */
	char tag[LLM_BATCH_ID_MAX];         /* metadata.clarifyd_batch, "" when none */
	int64_t total, completed, failed;   /* request_counts */
	int64_t created_at;
	char errors[256];         /* the batch's own errors (failed validation), "" */
};

/* 0 when provider (enum llm_provider_id) has a batch API here, else
 * CL_ECONFIG with the reason; every call below refuses such a provider so. */
int llm_batch_check(int provider);

/* Non-zero when status is final: completed, failed, expired, cancelled. */
int llm_batch_final(const char *status);

/* Append to out the input line for one request, with its newline:
 * OpenAI's {"custom_id": id, "method": "POST", "url":
 * "/v1/chat/completions", "body": body}, Gemini's {"key": id, "request":
 * body}; body is the request's JSON as the one-by-one client
 * sends it (llm_request_key_payload()).  0, or CL_EINVAL for a body that
 * is not a JSON object, CL_ENOMEM. */
int llm_batch_line(const struct llm_options *o, const char *custom_id, const char *body,
		   size_t body_len, struct buf *out);

/* Upload the file at path (multipart/form-data, purpose "batch") under
 * filename; its id in file_id. */
int llm_batch_upload(const struct llm_options *o, const char *path, const char *filename,
		     char file_id[LLM_BATCH_ID_MAX]);
/* A file of purpose "batch" named filename: 1 and its id, or 0 for none
 * (GET /files?purpose=batch, every page), or a negative CL_* code. */
int llm_batch_find_file(const struct llm_options *o, const char *filename,
			char file_id[LLM_BATCH_ID_MAX]);

/* Create the batch of input file file_id for /v1/chat/completions, window
 * 24h, metadata {"clarifyd_batch": tag}. */
int llm_batch_create(const struct llm_options *o, const char *file_id, const char *tag,
		     struct llm_batch_info *out);
/* The batch whose metadata has tag: 1 and its info, 0 for none (GET
 * /batches, every page), or a negative CL_* code. */
int llm_batch_find(const struct llm_options *o, const char *tag, struct llm_batch_info *out);
int llm_batch_get(const struct llm_options *o, const char *id, struct llm_batch_info *out);
int llm_batch_cancel(const struct llm_options *o, const char *id, struct llm_batch_info *out);

/* Write the content of file_id to f as it arrives (an output or error
 * file: JSONL), without holding it in memory. */
int llm_batch_download(const struct llm_options *o, const char *file_id, FILE *f);

/*
 * One line of an output or error file: its custom_id (key) into id, and either
 * the reply into r (text, finish_reason, tokens: as the provider's parse
 * of a one-by-one reply; status LLM_OK) or why it failed into r->error
 * (status LLM_EREFUSED: a per-request error, an HTTP status other than
 * 200, a body that does not parse).  0, or CL_EPARSE for a line that is
 * not a batch output line at all (no custom_id: id is then "").
 */
int llm_batch_parse_line(const struct llm_options *o, const char *line, size_t n,
			 char id[LLM_BATCH_ID_MAX], struct llm_request *r);

#endif
