/* test_llm.c - the providers' request bodies and reply parsers, cache keys,
 * options from the configuration */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "../../pipeline/config.h"
#include "../../llm/batch.h"
#include "../../llm/provider.h"

static struct llm_request request(void)
{
	struct llm_request r;

	memset(&r, 0, sizeof(r));
	r.system = "You rewrite problems.";
	r.user = "Sum two numbers.";
	r.temperature = 0.2;
	r.max_tokens = 100;
	r.top_p = -1;
	r.seed = -1;
	return r;
}

static void options(struct llm_options *o, int provider)
{
	llm_options_init(o);
	o->provider = provider;
	o->model = strdup("m1");
	o->base_url = strdup("");
	o->api_key = strdup("sk-test-key");
}

/* provider.h: the table names every provider, each has what the
 * transport calls, and the statuses read as documented. */
static void provider_table_is_complete_and_classifies_statuses(void **state)
{
	static const char bad_key[] = "{\"error\": {\"code\": 400, \"status\": "
		"\"INVALID_ARGUMENT\", \"details\": [{\"reason\": \"API_KEY_INVALID\"}]}}";
	int n = 0;

	(void)state;
	for (int id = 0; llm_provider_get(id); id++, n++) {
		const struct llm_provider *p = llm_provider_get(id);

		assert_int_equal(llm_provider_parse(p->name), id);
		assert_string_equal(llm_provider_name(id), p->name);
		if (p->answer)
			continue;
		assert_non_null(p->base_url);
		assert_true(p->url && p->auth_header && p->body && p->parse && p->classify);
		assert_int_equal(p->classify(200, "{}", 2), LLM_CLASS_OK);
		assert_int_equal(p->classify(401, "", 0), LLM_CLASS_AUTH);
		assert_int_equal(p->classify(429, "", 0), LLM_CLASS_THROTTLED);
		assert_int_equal(p->classify(503, "", 0), LLM_CLASS_SERVER);
		assert_int_equal(p->classify(408, "", 0), LLM_CLASS_RETRY);
		assert_int_equal(p->classify(422, "", 0), LLM_CLASS_REFUSED);
	}
	assert_int_equal(n, 3);
	assert_null(llm_provider_get(-1));
	assert_int_equal(llm_provider_parse("nosuch"), -1);
	/* Gemini answers an unknown key with 400 API_KEY_INVALID: credentials */
	assert_int_equal(llm_provider_gemini.classify(400, bad_key, strlen(bad_key)), LLM_CLASS_AUTH);
	assert_int_equal(llm_provider_openai.classify(400, bad_key, strlen(bad_key)),
			 LLM_CLASS_REFUSED);
	assert_int_equal(llm_provider_gemini.classify(400, "{}", 2), LLM_CLASS_REFUSED);
}

static void openai_body_has_messages_and_parameters(void **state)
{
	struct llm_options o;
	struct llm_request r = request();
	json_t *b, *msgs;

	(void)state;
	options(&o, LLM_OPENAI);
	o.extra_body = json_pack("{s:f}", "repetition_penalty", 1.1);
	r.seed = 7;
	b = llm_provider_openai.body(&o, &r);
	assert_string_equal(jsonx_str(b, "model"), "m1");
	msgs = json_object_get(b, "messages");
	assert_int_equal(json_array_size(msgs), 2);
	assert_string_equal(jsonx_str(json_array_get(msgs, 0), "role"), "system");
	assert_string_equal(jsonx_str(json_array_get(msgs, 1), "content"), "Sum two numbers.");
	assert_int_equal(jsonx_int(b, "max_tokens", 0), 100);
	assert_int_equal(jsonx_int(b, "seed", 0), 7);
	assert_null(json_object_get(b, "top_p"));
	assert_true(json_is_real(json_object_get(b, "repetition_penalty")));
	json_decref(b);
	assert_string_equal(llm_base_url(&o), "https://api.openai.com/v1");
	llm_options_release(&o);
}

static void openai_reply_is_parsed(void **state)
{
	struct llm_request r = request();
	const char *ok = "{\"choices\":[{\"message\":{\"role\":\"assistant\",\"content\":\"hi\"},"
			 "\"finish_reason\":\"length\"}],\"usage\":{\"prompt_tokens\":12,"
			 "\"completion_tokens\":3}}";

	(void)state;
	assert_int_equal(llm_provider_openai.parse(ok, strlen(ok), &r), 0);
	assert_string_equal(r.text, "hi");
	assert_string_equal(r.finish_reason, "length");
	assert_int_equal(r.tokens_in, 12);
	assert_int_equal(r.tokens_out, 3);
	llm_request_release(&r);
}

static void openai_bad_replies_are_told_apart(void **state)
{
	struct llm_request r = request();
	const char *empty = "{\"choices\":[]}";
	const char *trunc = "{\"choices\": [";
	const char *filtered = "{\"choices\":[{\"message\":{\"content\":null},"
			       "\"finish_reason\":\"content_filter\"}]}";
	const char *refusal = "{\"choices\":[{\"message\":{\"content\":null,"
			      "\"refusal\":\"I can't\"},\"finish_reason\":\"stop\"}]}";

	(void)state;
	assert_int_equal(llm_provider_openai.parse(empty, strlen(empty), &r), CL_EPARSE);
	assert_non_null(strstr(r.error, "no choices"));
	assert_int_equal(llm_provider_openai.parse(trunc, strlen(trunc), &r), CL_EPARSE);
	assert_int_equal(llm_provider_openai.parse(filtered, strlen(filtered), &r), CL_EINVAL);
	assert_int_equal(llm_provider_openai.parse(refusal, strlen(refusal), &r), CL_EINVAL);
	assert_non_null(strstr(r.error, "refused"));
	assert_null(r.text);
}

static void gemini_body_has_system_contents_and_config(void **state)
{
	struct llm_options o;
	struct llm_request r = request();
	json_t *b;

	(void)state;
	options(&o, LLM_GEMINI);
	r.top_p = 0.9;
	b = llm_provider_gemini.body(&o, &r);
	assert_string_equal(jsonx_str(json_array_get(json_object_get(json_object_get(b,
		"systemInstruction"), "parts"), 0), "text"), "You rewrite problems.");
	assert_string_equal(jsonx_str(json_array_get(json_object_get(json_array_get(
		json_object_get(b, "contents"), 0), "parts"), 0), "text"), "Sum two numbers.");
	assert_int_equal(jsonx_int(json_object_get(b, "generationConfig"), "maxOutputTokens", 0), 100);
	assert_true(json_is_real(json_object_get(json_object_get(b, "generationConfig"), "topP")));
	json_decref(b);
	assert_string_equal(llm_base_url(&o), "https://generativelanguage.googleapis.com/v1beta");
	llm_options_release(&o);
}

static void gemini_reply_joins_parts_and_skips_thoughts(void **state)
{
	struct llm_request r = request();
	const char *ok = "{\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"plan\",\"thought\":true},"
			 "{\"text\":\"a\"},{\"text\":\"b\"}]},\"finishReason\":\"MAX_TOKENS\"}],"
			 "\"usageMetadata\":{\"promptTokenCount\":5,\"candidatesTokenCount\":2,"
			 "\"thoughtsTokenCount\":4}}";

	(void)state;
	assert_int_equal(llm_provider_gemini.parse(ok, strlen(ok), &r), 0);
	assert_string_equal(r.text, "ab");
	assert_string_equal(r.finish_reason, "length");
	assert_int_equal(r.tokens_in, 5);
	assert_int_equal(r.tokens_out, 6);
	llm_request_release(&r);
}

static void gemini_blocks_and_safety_stops_are_refusals(void **state)
{
	struct llm_request r = request();
	const char *blocked = "{\"promptFeedback\":{\"blockReason\":\"SAFETY\"}}";
	const char *safety = "{\"candidates\":[{\"finishReason\":\"SAFETY\",\"content\":{}}]}";
	const char *none = "{\"candidates\":[]}";

	(void)state;
	assert_int_equal(llm_provider_gemini.parse(blocked, strlen(blocked), &r), CL_EINVAL);
	assert_non_null(strstr(r.error, "blocked: SAFETY"));
	assert_int_equal(llm_provider_gemini.parse(safety, strlen(safety), &r), CL_EINVAL);
	assert_non_null(strstr(r.error, "SAFETY"));
	assert_int_equal(llm_provider_gemini.parse(none, strlen(none), &r), CL_EPARSE);
	assert_null(r.text);
}

/* found by fuzz_gemini: candidates + thoughts overflowed int64 */
static void token_counts_are_clamped(void **state)
{
	struct llm_request r = request();
	const char *g = "{\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"a\"}]}}],"
			"\"usageMetadata\":{\"promptTokenCount\":-5,"
			"\"candidatesTokenCount\":9223372036854775807,\"thoughtsTokenCount\":1}}";
	const char *o = "{\"choices\":[{\"message\":{\"content\":\"a\"}}],"
			"\"usage\":{\"prompt_tokens\":-1,\"completion_tokens\":\"7\"}}";

	(void)state;
	assert_int_equal(llm_provider_gemini.parse(g, strlen(g), &r), 0);
	assert_int_equal(r.tokens_in, 0);
	assert_true(r.tokens_out == LLM_TOKENS_MAX);
	assert_int_equal(llm_provider_openai.parse(o, strlen(o), &r), 0);
	assert_int_equal(r.tokens_in, 0);
	assert_int_equal(r.tokens_out, 0);
	llm_request_release(&r);
}

/* found by fuzz_openai: a finish reason or refusal cut inside a character
 * was not UTF-8, and the cache entry or the job's last_error was lost */
static void errors_and_finish_reasons_stay_utf8(void **state)
{
	struct llm_request r = request();
	char refusal[1024] = "{\"choices\":[{\"message\":{\"content\":null,\"refusal\":\"";
	const char *o = "{\"choices\":[{\"message\":{\"content\":\"a\"},"
			"\"finish_reason\":\"0123456789012345678901234567890\\u00e9\"}]}";
	char bad[] = "ok \xff\xfe then \xe2\x82";
	json_t *v;

	(void)state;
	assert_int_equal(llm_provider_openai.parse(o, strlen(o), &r), 0);
	assert_string_equal(r.finish_reason, "0123456789012345678901234567890");
	v = llm_response_json(&r);
	assert_non_null(v);
	json_decref(v);
	/* a refusal of 199 ASCII bytes and then 'é': %.200s splits it */
	for (int i = 0; i < 199; i++)
		strcat(refusal, "x");
	strcat(refusal, "\\u00e9\"}}]}");
	assert_int_equal(llm_provider_openai.parse(refusal, strlen(refusal), &r), CL_EINVAL);
	v = json_string(r.error);
	assert_non_null(v);
	json_decref(v);
	llm_text_fit(bad);
	assert_string_equal(bad, "ok ?? then ");
	llm_request_release(&r);
}

static void cache_key_changes_with_every_parameter(void **state)
{
	struct llm_options o;
	struct llm_request r = request();
	char k0[HASH_SHA256_HEX], k1[HASH_SHA256_HEX];

	(void)state;
	options(&o, LLM_OPENAI);
	llm_request_key(&o, &r, k0);
	llm_request_key(&o, &r, k1);
	assert_string_equal(k0, k1);
	assert_int_equal(strlen(k0), 64);
	r.temperature = 0.3;
	llm_request_key(&o, &r, k1);
	assert_string_not_equal(k0, k1);
	r = request();
	r.max_tokens = 101;
	llm_request_key(&o, &r, k1);
	assert_string_not_equal(k0, k1);
	r = request();
	free(o.model);
	o.model = strdup("m2");
	llm_request_key(&o, &r, k1);
	assert_string_not_equal(k0, k1);
	free(o.model);
	o.model = strdup("m1");
	free(o.base_url);
	o.base_url = strdup("http://127.0.0.1:1/v1");
	llm_request_key(&o, &r, k1);
	assert_string_not_equal(k0, k1);
	o.provider = LLM_GEMINI;
	llm_request_key(&o, &r, k0);
	assert_string_not_equal(k0, k1);
	/* the key itself is not part of it: rotating it keeps the cache */
	free(o.api_key);
	o.api_key = strdup("another");
	llm_request_key(&o, &r, k1);
	assert_string_equal(k0, k1);
	llm_options_release(&o);
}

static void response_round_trips_through_json(void **state)
{
	struct llm_request r = request(), back = request();
	json_t *v;

	(void)state;
	r.text = strdup("<questions>\nWhy?\n</questions>");
	snprintf(r.finish_reason, sizeof(r.finish_reason), "stop");
	r.tokens_in = 10;
	r.tokens_out = 4;
	v = llm_response_json(&r);
	assert_int_equal(llm_response_from_json(&back, v), 0);
	assert_string_equal(back.text, r.text);
	assert_string_equal(back.finish_reason, "stop");
	assert_int_equal(back.tokens_out, 4);
	json_decref(v);
	llm_request_release(&r);
	llm_request_release(&back);
}

static void config_gives_llm_options_and_reads_the_key(void **state)
{
	struct config cfg;
	struct llm_options o;
	const char *yaml = "llm:\n  provider: gemini\n  model: gemini-2.0-flash\n"
			   "  api_key_env: TEST_LLM_KEY\n  max_in_flight: 7\n"
			   "  extra_body: '{\"safetySettings\": []}'\n  cache: false\n";
	int rc;

	(void)state;
	assert_int_equal(config_load_buffer(&cfg, yaml, strlen(yaml), "t.yaml"), 0);
	assert_int_equal(cfg.llm.provider, LLM_GEMINI);
	assert_int_equal(cfg.llm.cache, 0);
	unsetenv("TEST_LLM_KEY");
	err_clear();
	rc = config_llm_options(&cfg, &o);
	assert_int_equal(rc, CL_ECONFIG);
	assert_non_null(strstr(err_msg(rc), "TEST_LLM_KEY"));
	setenv("TEST_LLM_KEY", "k-123", 1);
	assert_int_equal(config_llm_options(&cfg, &o), 0);
	assert_string_equal(o.api_key, "k-123");
	assert_int_equal(o.max_in_flight, 7);
	assert_true(json_is_array(json_object_get(o.extra_body, "safetySettings")));
	llm_options_release(&o);
	config_release(&cfg);
}

static void config_refuses_bad_llm_values(void **state)
{
	struct config cfg;
	const char *bad[] = {
		"llm:\n  provider: claude\n",
		"llm:\n  extra_body: '[1, 2]'\n",
		"llm:\n  extra_body: '{'\n",
		"llm:\n  cache: maybe\n",
		"llm:\n  backoff_base_s: fast\n",
		"llm:\n  max_in_flight: 0\n",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err_clear();
		assert_int_equal(config_load_buffer(&cfg, bad[i], strlen(bad[i]), "t.yaml"), CL_ECONFIG);
		assert_non_null(strstr(err_msg(CL_ECONFIG), "t.yaml:2:"));
	}
}

static void offline_client_answers_without_a_network(void **state)
{
	struct llm_options o;
	struct llm_client *c;
	struct llm_request r = request(), *got;

	(void)state;
	llm_options_init(&o);
	o.model = strdup("offline");
	o.base_url = strdup("");
	r.original = "Print the sum of a and b.\n\n-----Input-----\n1 <= a, b <= 100\n";
	r.category = CAT_INCOMPLETE;
	assert_int_equal(llm_client_new(&c, &o), 0);
	llm_submit(c, &r);
	got = llm_wait(c, 5);
	assert_ptr_equal(got, &r);
	assert_int_equal(r.status, LLM_OK);
	assert_non_null(strstr(r.text, "<modified_problem>"));
	assert_int_equal(llm_outstanding(c), 0);
	assert_null(llm_wait(c, 0));
	llm_request_release(&r);
	llm_client_free(c);
	llm_options_release(&o);
}

static void http_client_needs_a_key(void **state)
{
	struct llm_options o;
	struct llm_client *c;

	(void)state;
	options(&o, LLM_OPENAI);
	free(o.api_key);
	o.api_key = NULL;
	assert_int_equal(llm_client_new(&c, &o), CL_EINVAL);
	llm_options_release(&o);
}

/* batch.h: the input line each provider's batch API takes */
static void batch_lines_follow_each_providers_format(void **state)
{
	static const char body[] = "{\"model\":\"m1\",\"messages\":[]}";
	struct llm_options o;
	struct buf b;
	json_t *v;

	(void)state;
	options(&o, LLM_OPENAI);
	buf_init(&b, 0);
	assert_int_equal(llm_batch_line(&o, "k1", body, strlen(body), &b), 0);
	assert_int_equal(b.data[b.len - 1], '\n');
	v = json_loadb(b.data, b.len, 0, NULL);
	assert_int_equal(json_object_size(v), 4);
	assert_string_equal(jsonx_str(v, "custom_id"), "k1");
	assert_string_equal(jsonx_str(v, "method"), "POST");
	assert_string_equal(jsonx_str(v, "url"), "/v1/chat/completions");
	assert_string_equal(jsonx_str(json_object_get(v, "body"), "model"), "m1");
	json_decref(v);
	llm_options_release(&o);

	options(&o, LLM_GEMINI);
	buf_reset(&b);
	assert_int_equal(llm_batch_line(&o, "k2", "{\"contents\":[]}", 15, &b), 0);
	v = json_loadb(b.data, b.len, 0, NULL);
	assert_int_equal(json_object_size(v), 2);
	assert_string_equal(jsonx_str(v, "key"), "k2");
	assert_true(json_is_array(json_object_get(json_object_get(v, "request"), "contents")));
	json_decref(v);
	/* a body that is not an object is refused, not sent */
	assert_int_equal(llm_batch_line(&o, "k3", "[1]", 3, &b), CL_EINVAL);
	llm_options_release(&o);

	options(&o, LLM_OFFLINE);
	assert_int_equal(llm_batch_check(LLM_OFFLINE), CL_ECONFIG);
	assert_true(llm_batch_check(LLM_OPENAI) == 0 && llm_batch_check(LLM_GEMINI) == 0);
	assert_int_equal(llm_batch_line(&o, "k4", body, strlen(body), &b), CL_ECONFIG);
	llm_options_release(&o);
	buf_release(&b);
}

/* parse one output line: 0 with r's status, or CL_EPARSE */
static int parse(int provider, const char *line, char id[LLM_BATCH_ID_MAX],
		 struct llm_request *r)
{
	struct llm_options o;
	int rc;

	options(&o, provider);
	memset(r, 0, sizeof(*r));
	rc = llm_batch_parse_line(&o, line, strlen(line), id, r);
	llm_options_release(&o);
	return rc;
}

static void batch_output_lines_are_replies_or_their_errors(void **state)
{
	struct llm_request r;
	char id[LLM_BATCH_ID_MAX];

	(void)state;
	assert_int_equal(parse(LLM_OPENAI,
			       "{\"custom_id\":\"a\",\"response\":{\"status_code\":200,"
			       "\"body\":{\"choices\":[{\"message\":{\"content\":\"hi\"},"
			       "\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":3,"
			       "\"completion_tokens\":1}}},\"error\":null}", id, &r), 0);
	assert_string_equal(id, "a");
	assert_int_equal(r.status, LLM_OK);
	assert_string_equal(r.text, "hi");
	assert_int_equal(r.tokens_in, 3);
	llm_request_release(&r);
	assert_int_equal(parse(LLM_OPENAI,
			       "{\"custom_id\":\"b\",\"response\":{\"status_code\":400,"
			       "\"body\":{\"error\":{\"message\":\"bad\"}}}}", id, &r), 0);
	assert_int_equal(r.status, LLM_EREFUSED);
	assert_string_equal(r.error, "batch: HTTP 400: bad");
	llm_request_release(&r);
	assert_int_equal(parse(LLM_OPENAI, "{\"custom_id\":\"c\",\"response\":null,"
			       "\"error\":{\"code\":\"server_error\",\"message\":\"x\"}}",
			       id, &r), 0);
	assert_string_equal(r.error, "batch: server_error: x");
	llm_request_release(&r);
	assert_int_equal(parse(LLM_OPENAI, "{\"key\":\"d\"}", id, &r), CL_EPARSE);
	assert_string_equal(id, "");
	llm_request_release(&r);

	assert_int_equal(parse(LLM_GEMINI,
			       "{\"key\":\"e\",\"response\":{\"candidates\":[{\"content\":"
			       "{\"parts\":[{\"text\":\"yo\"}]},\"finishReason\":\"STOP\"}],"
			       "\"usageMetadata\":{\"promptTokenCount\":5,"
			       "\"candidatesTokenCount\":2}}}", id, &r), 0);
	assert_string_equal(id, "e");
	assert_int_equal(r.status, LLM_OK);
	assert_string_equal(r.text, "yo");
	assert_int_equal(r.tokens_out, 2);
	llm_request_release(&r);
	assert_int_equal(parse(LLM_GEMINI, "{\"key\":\"f\",\"error\":{\"code\":500,"
			       "\"message\":\"boom\",\"status\":\"INTERNAL\"}}", id, &r), 0);
	assert_int_equal(r.status, LLM_EREFUSED);
	assert_string_equal(r.error, "batch: 500 INTERNAL: boom");
	llm_request_release(&r);
	/* a blocked prompt is the model's refusal, told as one */
	assert_int_equal(parse(LLM_GEMINI, "{\"key\":\"g\",\"response\":{\"promptFeedback\":"
			       "{\"blockReason\":\"SAFETY\"}}}", id, &r), 0);
	assert_int_equal(r.status, LLM_EREFUSED);
	assert_true(r.error[0] != '\0');
	llm_request_release(&r);
	assert_int_equal(parse(LLM_GEMINI, "{\"custom_id\":\"h\"}", id, &r), CL_EPARSE);
	assert_int_equal(parse(LLM_GEMINI, "not json", id, &r), CL_EPARSE);
	llm_request_release(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(provider_table_is_complete_and_classifies_statuses),
		cmocka_unit_test(openai_body_has_messages_and_parameters),
		cmocka_unit_test(openai_reply_is_parsed),
		cmocka_unit_test(openai_bad_replies_are_told_apart),
		cmocka_unit_test(gemini_body_has_system_contents_and_config),
		cmocka_unit_test(gemini_reply_joins_parts_and_skips_thoughts),
		cmocka_unit_test(gemini_blocks_and_safety_stops_are_refusals),
		cmocka_unit_test(token_counts_are_clamped),
		cmocka_unit_test(errors_and_finish_reasons_stay_utf8),
		cmocka_unit_test(cache_key_changes_with_every_parameter),
		cmocka_unit_test(response_round_trips_through_json),
		cmocka_unit_test(config_gives_llm_options_and_reads_the_key),
		cmocka_unit_test(config_refuses_bad_llm_values),
		cmocka_unit_test(offline_client_answers_without_a_network),
		cmocka_unit_test(http_client_needs_a_key),
		cmocka_unit_test(batch_lines_follow_each_providers_format),
		cmocka_unit_test(batch_output_lines_are_replies_or_their_errors),
	};

	log_init("test_llm", LOG_ERR);
	return cmocka_run_group_tests_name("llm", tests, NULL, NULL);
}
