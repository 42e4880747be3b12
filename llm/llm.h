/*
 * llm.h - the LLM client: OpenAI-compatible and Gemini providers over
 * libcurl's multi interface, and an offline provider.  The transport is
 * client.c; each provider is a file of its own behind provider.h.
 *
 * One I/O thread drives every HTTP request; callers on any thread submit
 * requests and collect them when finished.  The client enforces the
 * in-flight cap, the requests/min and tokens/min budgets, retries with
 * backoff (honouring Retry-After and rate-limit headers), adaptive
 * concurrency and a circuit breaker.  The response cache is the caller's
 * (it belongs in the store's transactions): llm_request_key() names a
 * request, llm_response_json()/llm_response_from_json() carry a reply.
 *
 * The API key lives only in struct llm_options.api_key and the request
 * headers; it is never logged, at any level.
 */
#ifndef CLARIFY_LLM_H
#define CLARIFY_LLM_H

#include <stdatomic.h>
#include <stdint.h>

#include "../common/common.h"

enum llm_provider_id { LLM_OFFLINE, LLM_OPENAI, LLM_GEMINI };

enum llm_stage { LLM_STAGE_MODIFY, LLM_STAGE_CLARIFY, LLM_STAGE_ANSWER };

const char *llm_provider_name(int p);
int llm_provider_parse(const char *name); /* -1 when unknown */

struct llm_options {
	int provider;
	char *base_url;          /* "" for the provider's default */
	char *model;
	char *api_key;           /* owned; wiped by llm_options_release() */
	json_t *extra_body;      /* object merged into every request body, or NULL */
	int max_in_flight;
	double requests_per_min; /* 0: unlimited */
	double tokens_per_min;   /* 0: unlimited */
	double connect_timeout;  /* seconds */
	double request_timeout;  /* seconds, whole request */
	double stall_timeout;    /* seconds without a byte */
	size_t max_response;     /* bytes */
	int max_retries;         /* attempts after the first */
	double backoff_base;     /* seconds */
	double backoff_max;      /* seconds */
	int circuit_failures;    /* consecutive failures that open the breaker */
	double circuit_cooldown; /* seconds the breaker stays open at first */
	int64_t max_total_tokens;/* 0: unlimited */
	uint64_t seed;           /* jitter and the offline provider */
	const atomic_int *abort; /* set: a batch call (batch.h) ends now; NULL: never */
};

void llm_options_init(struct llm_options *o);
void llm_options_release(struct llm_options *o);
/* The provider's default base URL when o->base_url is empty. */
const char *llm_base_url(const struct llm_options *o);

/* How a request ended. */
enum llm_status {
	LLM_OK = 0,
	LLM_EREFUSED,   /* not retryable: 400, 404, 422, a blocked prompt */
	LLM_EGAVEUP,    /* retryable failures until max_retries */
	LLM_EAUTH,      /* 401/403: the client stops */
	LLM_EBUDGET,    /* max_total_tokens reached before it was sent */
	LLM_ECANCELLED, /* the client was stopped */
};

const char *llm_status_name(int st);

struct llm_request {
	/* in: set by the caller, owned by the caller, unchanged by the client */
	const char *system;
	const char *user;
	double temperature;      /* < 0: provider default */
	int max_tokens;          /* <= 0: provider default */
	double top_p;            /* < 0: not sent */
	int64_t seed;            /* < 0: not sent */
	/* for the offline provider, which rewrites without a model */
	int stage;               /* LLM_STAGE_* */
	int category;            /* CAT_* */
	const char *original;    /* the problem */
	const char *modified;    /* stages 2 and 3: the rewritten problem */
	const char *const *questions; /* stage 3: the questions to answer */
	size_t nquestions;
	void *udata;             /* the caller's */
	/* optional: the body llm_request_key_payload() made for these fields
	 * (the caller's, sent as it is: valid until llm_wait() returns r);
	 * NULL: the client builds it */
	const char *payload;
	size_t payload_len;

	/* out: valid once the request is returned by llm_wait() */
	int status;              /* LLM_OK or an llm_status */
	char error[256];         /* why, when status != LLM_OK */
	char *text;              /* the reply (malloc'd; llm_request_release) */
	char finish_reason[32];  /* "stop", "length", ... as the provider says */
	int64_t tokens_in, tokens_out;
	double latency;          /* seconds, the last attempt */
	int attempts;
	int http_status;         /* of the last attempt, 0 for none */
	int cached;              /* set by callers that answered from a cache */

	/* the client's */
	struct llm_request *next;
	void *priv;
};

/* Free what the client attached (text); the caller's fields stay. */
void llm_request_release(struct llm_request *r);

/* The cache key: SHA-256 hex of the request as sent (provider, base URL,
 * and the body: model, messages, parameters, extra body). */
void llm_request_key(const struct llm_options *o, const struct llm_request *r,
		     char out[HASH_SHA256_HEX]);
/* The same key, and the body in payload (reset first; empty for the
 * offline provider, which sends none), to set as r->payload so that the
 * client does not build it again.  0, or CL_ENOMEM. */
int llm_request_key_payload(const struct llm_options *o, const struct llm_request *r,
			    struct buf *payload, char out[HASH_SHA256_HEX]);
/* A finished request's reply as JSON (text, finish_reason, usage), and back. */
json_t *llm_response_json(const struct llm_request *r);
int llm_response_from_json(struct llm_request *r, const json_t *v);

struct llm_stats {
	uint64_t submitted, completed, failed;
	uint64_t http_requests;  /* attempts sent */
	uint64_t retries;
	uint64_t throttled;      /* 429s */
	int64_t tokens_in, tokens_out;
	double latency_sum;      /* of successful attempts */
	int in_flight;
	int cap;                 /* the adaptive in-flight cap now */
	int circuit_open;
};

struct llm_client;

/* Start a client (and its I/O thread for the HTTP providers).  o is
 * copied.  Returns CL_EINVAL with a message for a bad option. */
int llm_client_new(struct llm_client **out, const struct llm_options *o);

/* Stop: requests not finished complete as LLM_ECANCELLED; then free. */
void llm_client_free(struct llm_client *c);

/* Queue r (thread-safe, never blocks on the network).  r must stay valid
 * until llm_wait() returns it. */
void llm_submit(struct llm_client *c, struct llm_request *r);

/* A finished request, waiting up to timeout seconds (< 0: forever);
 * NULL on timeout, or when nothing is outstanding. */
struct llm_request *llm_wait(struct llm_client *c, double timeout);

/* As llm_wait(), but also waits when nothing is outstanding, and returns
 * NULL early once llm_wake() is called (thread-safe): for a caller that
 * waits on other threads' work too. */
struct llm_request *llm_wait_or_wake(struct llm_client *c, double timeout);
void llm_wake(struct llm_client *c);

/* Requests submitted and not yet returned by llm_wait(). */
uint64_t llm_outstanding(struct llm_client *c);

void llm_stats(struct llm_client *c, struct llm_stats *out);

/* Non-zero once credentials were rejected: the message is in *why. */
int llm_fatal(struct llm_client *c, char *why, size_t n);

/* The largest token count a reply is believed to report. */
#define LLM_TOKENS_MAX ((int64_t)1 << 40)

/* Make the NUL-terminated text s valid UTF-8 in place, for the store and
 * the logs: a character that a copy bounded in bytes (snprintf into
 * r->error or r->finish_reason) cut at the end is dropped, any other byte
 * that is not UTF-8 (a parser's message may quote the input) becomes '?'. */
void llm_text_fit(char *s);

#endif
