/*
 * gemini.c - the Gemini provider: POST {base}/models/{model}:generateContent
 * with the key in x-goog-api-key.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "provider.h"

static json_t *body_of(const struct llm_options *o, const struct llm_request *r)
{
	json_t *body = json_object(), *gen = json_object();

	if (r->system && *r->system)
		json_object_set_new(body, "systemInstruction",
				    json_pack("{s:[{s:s}]}", "parts", "text", r->system));
	json_object_set_new(body, "contents",
			    json_pack("[{s:s, s:[{s:s}]}]", "role", "user", "parts", "text",
				      r->user ? r->user : ""));
	if (r->temperature >= 0)
		json_object_set_new(gen, "temperature", json_real(r->temperature));
	if (r->max_tokens > 0)
		json_object_set_new(gen, "maxOutputTokens", json_integer(r->max_tokens));
	if (r->top_p >= 0)
		json_object_set_new(gen, "topP", json_real(r->top_p));
	if (r->seed >= 0)
		json_object_set_new(gen, "seed", json_integer(r->seed));
	if (json_object_size(gen))
		json_object_set_new(body, "generationConfig", gen);
	else
		json_decref(gen);
	if (o->extra_body)
		json_object_update(body, o->extra_body);
	return body;
}

/* finishReason values that mean the model would not answer */
static int is_refusal(const char *reason)
{
	static const char *const stops[] = { "SAFETY", "RECITATION", "BLOCKLIST",
					     "PROHIBITED_CONTENT", "SPII", "LANGUAGE",
					     "IMAGE_SAFETY" };

	for (size_t i = 0; i < CL_ARRAY_SIZE(stops); i++)
		if (strcmp(reason, stops[i]) == 0)
			return 1;
	return 0;
}

static int parse(const char *body, size_t n, struct llm_request *r)
{
	json_t *v, *cand, *parts, *part, *usage;
	const char *block, *finish;
	struct buf text;
	size_t i;
	int rc = 0, have = 0;

	v = jsonx_parse(body, n, "response");
	if (!v) {
		snprintf(r->error, sizeof(r->error), "%s", err_msg(CL_EPARSE));
		llm_text_fit(r->error);
		return CL_EPARSE;
	}
	buf_init(&text, 0);
	block = jsonx_str(json_object_get(v, "promptFeedback"), "blockReason");
	if (block) {
		snprintf(r->error, sizeof(r->error), "the prompt was blocked: %s", block);
		llm_text_fit(r->error);
		rc = CL_EINVAL;
		goto out;
	}
	cand = json_array_get(json_object_get(v, "candidates"), 0);
	if (!json_is_object(cand)) {
		snprintf(r->error, sizeof(r->error), "response has no candidates");
		rc = CL_EPARSE;
		goto out;
	}
	finish = jsonx_str(cand, "finishReason");
	if (finish && is_refusal(finish)) {
		snprintf(r->error, sizeof(r->error), "the model stopped for %s", finish);
		llm_text_fit(r->error);
		rc = CL_EINVAL;
		goto out;
	}
	parts = json_object_get(json_object_get(cand, "content"), "parts");
	json_array_foreach(parts, i, part) {
		const char *t = jsonx_str(part, "text");

		if (!t || json_is_true(json_object_get(part, "thought")))
			continue; /* a thinking model's thoughts are not the answer */
		if (buf_adds(&text, t)) {
			rc = CL_ENOMEM;
			goto out;
		}
		have = 1;
	}
	if (!have) {
		snprintf(r->error, sizeof(r->error), "response has no text");
		rc = CL_EPARSE;
		goto out;
	}
	free(r->text);
	r->text = buf_detach(&text, NULL);
	/* in OpenAI's words, so callers see one vocabulary */
	if (!finish || strcmp(finish, "STOP") == 0) {
		snprintf(r->finish_reason, sizeof(r->finish_reason), "stop");
	} else if (strcmp(finish, "MAX_TOKENS") == 0) {
		snprintf(r->finish_reason, sizeof(r->finish_reason), "length");
	} else {
		snprintf(r->finish_reason, sizeof(r->finish_reason), "%s", finish);
		llm_text_fit(r->finish_reason);
		for (char *p = r->finish_reason; *p; p++)
			*p = (char)tolower((unsigned char)*p);
	}
	usage = json_object_get(v, "usageMetadata");
	r->tokens_in = llm_usage_tokens(usage, "promptTokenCount");
	r->tokens_out = llm_usage_tokens(usage, "candidatesTokenCount") +
			llm_usage_tokens(usage, "thoughtsTokenCount");
	if (r->tokens_out > LLM_TOKENS_MAX)
		r->tokens_out = LLM_TOKENS_MAX;
out:
	buf_release(&text);
	json_decref(v);
	return rc;
}

static void url(const struct llm_options *o, const char *base, char *out, size_t n)
{
	snprintf(out, n, "%s/models/%s:generateContent", base, o->model ? o->model : "");
}

static void auth_header(const struct llm_options *o, char *out, size_t n)
{
	snprintf(out, n, "x-goog-api-key: %s", o->api_key ? o->api_key : "");
}

/* Gemini answers a key it does not know with 400 INVALID_ARGUMENT and the
 * reason API_KEY_INVALID: credentials, not a bad request. */
static int classify(long http, const char *body, size_t n)
{
	if (http == 400 && body && memmem(body, n, "API_KEY_INVALID", 15))
		return LLM_CLASS_AUTH;
	return llm_classify_http(http, body, n);
}

const struct llm_provider llm_provider_gemini = {
	.name = "gemini",
	.base_url = "https://generativelanguage.googleapis.com/v1beta",
	.url = url,
	.auth_header = auth_header,
	.body = body_of,
	.parse = parse,
	.classify = classify,
};
