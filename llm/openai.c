/*
 * openai.c - the OpenAI-compatible provider: POST {base}/chat/completions
 * (OpenAI, vLLM, llama.cpp's server, Ollama, Gemini's OpenAI endpoint).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "provider.h"

static void set_params(json_t *o, const struct llm_request *r, const char *temp,
		       const char *maxtok, const char *top_p, const char *seed)
{
	if (r->temperature >= 0)
		json_object_set_new(o, temp, json_real(r->temperature));
	if (r->max_tokens > 0)
		json_object_set_new(o, maxtok, json_integer(r->max_tokens));
	if (r->top_p >= 0)
		json_object_set_new(o, top_p, json_real(r->top_p));
	if (r->seed >= 0)
		json_object_set_new(o, seed, json_integer(r->seed));
}

static json_t *body_of(const struct llm_options *o, const struct llm_request *r)
{
	json_t *body = json_object(), *msgs = json_array();

	if (r->system && *r->system)
		json_array_append_new(msgs, json_pack("{s:s, s:s}", "role", "system",
						      "content", r->system));
	json_array_append_new(msgs, json_pack("{s:s, s:s}", "role", "user",
					      "content", r->user ? r->user : ""));
	json_object_set_new(body, "model", json_string(o->model));
	json_object_set_new(body, "messages", msgs);
	set_params(body, r, "temperature", "max_tokens", "top_p", "seed");
	if (o->extra_body)
		json_object_update(body, o->extra_body);
	return body;
}

static int parse(const char *body, size_t n, struct llm_request *r)
{
	json_t *v, *choice, *msg, *usage;
	const char *content, *finish, *refusal;
	int rc = 0;

	v = jsonx_parse(body, n, "response");
	if (!v) {
		llm_set_error(r, "%s", err_msg(CL_EPARSE));
		return CL_EPARSE;
	}
	choice = json_array_get(json_object_get(v, "choices"), 0);
	if (!json_is_object(choice)) {
		llm_set_error(r, "%s", "response has no choices");
		rc = CL_EPARSE;
		goto out;
	}
	msg = json_object_get(choice, "message");
	content = jsonx_str(msg, "content");
	finish = jsonx_str(choice, "finish_reason");
	refusal = jsonx_str(msg, "refusal");
	if (finish && strcmp(finish, "content_filter") == 0) {
		llm_set_error(r, "%s", "the model's content filter stopped the reply");
		rc = CL_EINVAL;
		goto out;
	}
	if (!content && refusal) {
		llm_set_error(r, "the model refused: %.200s", refusal);
		rc = CL_EINVAL;
		goto out;
	}
	if (!content) {
		llm_set_error(r, "%s", "response has no message content");
		rc = CL_EPARSE;
		goto out;
	}
	free(r->text);
	r->text = strdup(content);
	if (!r->text) {
		rc = CL_ENOMEM;
		goto out;
	}
	snprintf(r->finish_reason, sizeof(r->finish_reason), "%s", finish ? finish : "");
	llm_text_fit(r->finish_reason);
	usage = json_object_get(v, "usage");
	r->tokens_in = llm_usage_tokens(usage, "prompt_tokens");
	r->tokens_out = llm_usage_tokens(usage, "completion_tokens");
out:
	json_decref(v);
	return rc;
}

static void url(const struct llm_options *o, const char *base, char *out, size_t n)
{
	(void)o;
	snprintf(out, n, "%s/chat/completions", base);
}

static void auth_header(const struct llm_options *o, char *out, size_t n)
{
	snprintf(out, n, "Authorization: Bearer %s", o->api_key ? o->api_key : "");
}

const struct llm_provider llm_provider_openai = {
	.name = "openai",
	.base_url = "https://api.openai.com/v1",
	.url = url,
	.auth_header = auth_header,
	.body = body_of,
	.parse = parse,
	.classify = llm_classify_http,
};
