/*
 * fuzz_provider.h - what the two providers' response-parser harnesses
 * share (fuzz_openai.c, fuzz_gemini.c): the input is a 2xx response body.
 * A refused body says why and is one of the two kinds the client tells
 * apart (CL_EPARSE: retry; CL_EINVAL: the model refused) in UTF-8 text; an
 * accepted one gives a reply, with token counts in range, that goes into
 * the response cache and comes back out the same.
 */
#ifndef CLARIFY_FUZZ_PROVIDER_H
#define CLARIFY_FUZZ_PROVIDER_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "../../llm/provider.h"

/* What the cache keeps of r reads back as r. */
static void check_cached(const struct llm_request *r)
{
	struct llm_request back;
	json_t *v = llm_response_json(r);

	if (!v)
		__builtin_trap();
	memset(&back, 0, sizeof(back));
	if (llm_response_from_json(&back, v) || strcmp(back.text, r->text) != 0 ||
	    strcmp(back.finish_reason, r->finish_reason) != 0 ||
	    back.tokens_in != r->tokens_in || back.tokens_out != r->tokens_out)
		__builtin_trap();
	llm_request_release(&back);
	json_decref(v);
}

/* One response body through parse, checked as the file says. */
static int fuzz_provider(int (*parse)(const char *, size_t, struct llm_request *),
			 const uint8_t *data, size_t size)
{
	struct llm_request r;
	int rc;

	log_threshold = -1; /* silent */
	memset(&r, 0, sizeof(r));
	rc = parse((const char *)data, size, &r);
	if (rc == 0) {
		if (!r.text || r.tokens_in < 0 || r.tokens_out < 0 ||
		    r.tokens_in > LLM_TOKENS_MAX || r.tokens_out > LLM_TOKENS_MAX ||
		    memchr(r.finish_reason, '\0', sizeof(r.finish_reason)) == NULL)
			__builtin_trap();
		check_cached(&r);
	} else {
		/* the reason goes into the job's last_error: UTF-8 text */
		json_t *why = json_string(r.error);

		if ((rc != CL_EPARSE && rc != CL_EINVAL) || !r.error[0] || r.text || !why)
			__builtin_trap();
		json_decref(why);
	}
	llm_request_release(&r);
	return 0;
}

#endif
