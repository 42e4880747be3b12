/* llm_openai.c - the OpenAI chat completions request and response */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "llm.h"

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

json_t *llm_openai_body(const struct llm_options *o, const struct llm_request *r)
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

static void set_error(struct llm_request *r, const char *fmt, ...) CL_PRINTF(2, 3);

static void set_error(struct llm_request *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->error, sizeof(r->error), fmt, ap);
	va_end(ap);
	llm_text_fit(r->error);
}

int llm_openai_parse(const char *body, size_t n, struct llm_request *r)
{
	json_t *v, *choice, *msg, *usage;
	const char *content, *finish, *refusal;
	int rc = 0;

	v = jsonx_parse(body, n, "response");
	if (!v) {
		set_error(r, "%s", err_msg(CL_EPARSE));
		return CL_EPARSE;
	}
	choice = json_array_get(json_object_get(v, "choices"), 0);
	if (!json_is_object(choice)) {
		set_error(r, "%s", "response has no choices");
		rc = CL_EPARSE;
		goto out;
	}
	msg = json_object_get(choice, "message");
	content = jsonx_str(msg, "content");
	finish = jsonx_str(choice, "finish_reason");
	refusal = jsonx_str(msg, "refusal");
	if (finish && strcmp(finish, "content_filter") == 0) {
		set_error(r, "%s", "the model's content filter stopped the reply");
		rc = CL_EINVAL;
		goto out;
	}
	if (!content && refusal) {
		set_error(r, "the model refused: %.200s", refusal);
		rc = CL_EINVAL;
		goto out;
	}
	if (!content) {
		set_error(r, "%s", "response has no message content");
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
