/*
 * provider.h - what a provider is to the transport (client.c): a table of
 * functions that build a request, parse a reply and say what an HTTP
 * error means.  A provider includes this file and nothing of the
 * transport's; the transport knows providers only through the table in
 * provider.c.  Adding one is a new file (a const struct llm_provider) and
 * one entry of that table.
 */
#ifndef CLARIFY_LLM_PROVIDER_H
#define CLARIFY_LLM_PROVIDER_H

#include "llm.h"

/* What the transport does with a finished HTTP exchange. */
enum llm_class {
	LLM_CLASS_OK,        /* 2xx: parse the reply */
	LLM_CLASS_AUTH,      /* the credentials were refused: the client stops */
	LLM_CLASS_THROTTLED, /* rate limited: retry later, fewer in flight */
	LLM_CLASS_RETRY,     /* a transient failure of the request (408, 409) */
	LLM_CLASS_SERVER,    /* the endpoint failed (5xx): retry, count for the breaker */
	LLM_CLASS_REFUSED,   /* the request is wrong: not retried */
};

struct llm_provider {
	const char *name;             /* llm.provider in the config */
	const char *base_url;         /* the default, NULL for no network */
	/* the endpoint (base is llm_base_url()) and the header with the key */
	void (*url)(const struct llm_options *o, const char *base, char *out, size_t n);
	void (*auth_header)(const struct llm_options *o, char *out, size_t n);
	/* the request body, a new reference (NULL when out of memory) */
	json_t *(*body)(const struct llm_options *o, const struct llm_request *r);
	/*
	 * Parse a 2xx body into r (text, finish_reason, tokens).  Returns 0,
	 * or CL_EPARSE for a body that is not the API's shape (retried), or
	 * CL_EINVAL for a refusal the model made (a blocked prompt, a safety
	 * stop: not retried), with the reason in r->error.
	 */
	int (*parse)(const char *body, size_t n, struct llm_request *r);
	/* What HTTP status http with this body means (llm_classify_http for
	 * the common case). */
	int (*classify)(long http, const char *body, size_t n);
	/* A provider without a network answers here instead (the others: NULL). */
	int (*answer)(const struct llm_request *r, uint64_t seed, struct buf *out);
	/* What it needs checked before a client starts (the offline provider's
	 * rule file): 0, or an error with its message; NULL for nothing. */
	int (*check)(void);
};

extern const struct llm_provider llm_provider_offline, llm_provider_openai, llm_provider_gemini;

/* The provider of id (enum llm_provider_id, an index of the table), or NULL. */
const struct llm_provider *llm_provider_get(int id);

/* The common reading of an HTTP status: 2xx ok, 401/403 auth, 429
 * throttled, 408/409 retry, 5xx server, any other refused. */
int llm_classify_http(long http, const char *body, size_t n);

/* ---- for providers ---------------------------------------------------- */

/* A token count of a provider's usage object (or a cached reply): 0 when
 * absent, not an integer or negative, at most LLM_TOKENS_MAX, so that sums
 * of them cannot overflow. */
int64_t llm_usage_tokens(const json_t *usage, const char *key);

/* r->error, formatted and made valid UTF-8 (llm_text_fit). */
void llm_set_error(struct llm_request *r, const char *fmt, ...) CL_PRINTF(2, 3);

/* ---- the offline provider (offline.c) ---------------------------------- */

/*
 * Answer r as a model following the templates would, without a network:
 * stage modify gives "<reasoning>...</reasoning>\n<modified_problem>...
 * </modified_problem>", stage clarify "<reasoning>...</reasoning>\n
 * <questions>\none question per line\n</questions>".  Deterministic in
 * (r->original, r->modified, r->category, r->stage, seed).
 */
int llm_offline_reply(const struct llm_request *r, uint64_t seed, struct buf *out);

/* Check the offline provider's built-in rule file (llm/offline.yaml), as
 * start-up does: 0, or CL_ECONFIG with "llm/offline.yaml:LINE: why". */
int llm_offline_check(void);
/* The same for a rule file held in data (a test, a new file). */
int llm_offline_check_text(const char *data, size_t len, const char *name);

#endif
