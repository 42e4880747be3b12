/*
 * batch_int.h - what the batch APIs of batch_openai.c and batch_gemini.c
 * share: one blocking HTTP call over libcurl (batch.c), and the table of
 * functions each provider fills.  batch.h's functions pick the table of
 * o->provider; adding a provider's batch API is a file and a table entry.
 */
#ifndef CLARIFY_LLM_BATCH_INT_H
#define CLARIFY_LLM_BATCH_INT_H

#include <curl/curl.h>

#include "batch.h"
#include "provider.h"

/* One call: what to send, and what came back. */
struct bcall {
	const char *method;
	const char *path;          /* under the base URL, or */
	const char *url;           /* a whole URL (Gemini's upload and download) */
	int no_key;                /* send no key (an upload session's own URL) */
	const char *json;          /* a JSON body, or */
	curl_mime *(*form)(CURL *e, void *arg); /* a multipart form, or */
	void *form_arg;
	FILE *upload;              /* the bytes of a file, upload_len of them */
	curl_off_t upload_len;
	const char *headers[4];    /* more request headers, NULL-ended */
	FILE *f;                   /* a 2xx body streamed here, not held */
	const char *catch_header;  /* a response header wanted, as "name:" */
	/* out */
	struct buf body;
	long http;
	char caught[2048];         /* catch_header's value, "" when absent */
};

/*
 * Make the call: 0 for a 2xx, else CL_EINVAL (refused: 4xx), CL_EIO (a
 * transport failure, 408, 429, 5xx: passing), with the reason.  The key
 * never reaches the message.  bcall_release() after, either way.
 */
int bcall_run(const struct llm_options *o, struct bcall *c);
void bcall_release(struct bcall *c);
/* A call whose 2xx reply is JSON, parsed into *out. */
int bcall_json(const struct llm_options *o, const char *method, const char *path,
	       const char *json, json_t **out);

/* line (a reference it takes) as one line of JSON, with its newline. */
int bline_add(json_t *line, struct buf *out);

/* dst = v[key] (a string), "" when absent. */
void bstr_copy(char *dst, size_t n, const json_t *v, const char *key);

struct llm_batch_api {
	/* the input line of a request: body is a reference it takes */
	int (*line)(const char *custom_id, json_t *body, struct buf *out);
	int (*upload)(const struct llm_options *o, const char *path, const char *filename,
		      char file_id[LLM_BATCH_ID_MAX]);
	int (*find_file)(const struct llm_options *o, const char *filename,
			 char file_id[LLM_BATCH_ID_MAX]);
	int (*create)(const struct llm_options *o, const char *file_id, const char *tag,
		      struct llm_batch_info *out);
	int (*find)(const struct llm_options *o, const char *tag, struct llm_batch_info *out);
	int (*get)(const struct llm_options *o, const char *id, struct llm_batch_info *out);
	int (*cancel)(const struct llm_options *o, const char *id, struct llm_batch_info *out);
	int (*download)(const struct llm_options *o, const char *file_id, FILE *f);
	/* a line of an output or error file, parsed: its id, and r (see batch.h) */
	int (*parse_line)(const struct llm_provider *p, json_t *v, char id[LLM_BATCH_ID_MAX],
			  struct llm_request *r);
};

/* The reply object of a line, parsed as a one-by-one reply into r
 * (status LLM_OK, or LLM_EREFUSED with why). */
int bparse_reply(const struct llm_provider *p, const json_t *resp, struct llm_request *r);

extern const struct llm_batch_api llm_batch_openai, llm_batch_gemini;

#endif
