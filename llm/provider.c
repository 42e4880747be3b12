/*
 * provider.c - the table of providers, and what every provider shares:
 * the common reading of HTTP statuses, token counts, error text.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "provider.h"

/* Indexed by enum llm_provider_id; a new provider is one more entry here. */
static const struct llm_provider *const providers[] = {
	[LLM_OFFLINE] = &llm_provider_offline,
	[LLM_OPENAI] = &llm_provider_openai,
	[LLM_GEMINI] = &llm_provider_gemini,
};

const struct llm_provider *llm_provider_get(int id)
{
	return id >= 0 && id < (int)CL_ARRAY_SIZE(providers) ? providers[id] : NULL;
}

const char *llm_provider_name(int p)
{
	const struct llm_provider *v = llm_provider_get(p);

	return v ? v->name : "?";
}

int llm_provider_parse(const char *name)
{
	for (size_t i = 0; i < CL_ARRAY_SIZE(providers); i++)
		if (providers[i] && strcmp(name, providers[i]->name) == 0)
			return (int)i;
	return -1;
}

const char *llm_base_url(const struct llm_options *o)
{
	const struct llm_provider *v = llm_provider_get(o->provider);

	if (o->base_url && *o->base_url)
		return o->base_url;
	return v && v->base_url ? v->base_url : "";
}

int llm_classify_http(long http, const char *body, size_t n)
{
	(void)body;
	(void)n;
	if (http >= 200 && http <= 299)
		return LLM_CLASS_OK;
	if (http == 401 || http == 403)
		return LLM_CLASS_AUTH;
	if (http == 429)
		return LLM_CLASS_THROTTLED;
	if (http == 408 || http == 409)
		return LLM_CLASS_RETRY;
	if (http >= 500)
		return LLM_CLASS_SERVER;
	return LLM_CLASS_REFUSED;
}

void llm_set_error(struct llm_request *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->error, sizeof(r->error), fmt, ap);
	va_end(ap);
	llm_text_fit(r->error);
}

int64_t llm_usage_tokens(const json_t *usage, const char *key)
{
	int64_t n = jsonx_int(usage, key, 0);

	if (n < 0)
		return 0;
	return n > LLM_TOKENS_MAX ? LLM_TOKENS_MAX : n;
}

/* The length of the UTF-8 character at p (n bytes left), or 0 when p does
 * not start one: overlong forms, surrogates and code points past U+10FFFF
 * are refused, as jansson refuses them. */
static size_t utf8_char(const unsigned char *p, size_t n)
{
	size_t need;
	uint32_t cp;

	if (p[0] < 0x80)
		return 1;
	if (p[0] < 0xc2 || p[0] > 0xf4)
		return 0;
	need = p[0] < 0xe0 ? 2 : p[0] < 0xf0 ? 3 : 4;
	if (n < need)
		return 0;
	cp = p[0] & (0x7f >> need);
	for (size_t i = 1; i < need; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	if ((need == 3 && cp < 0x800) || (need == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return need;
}

void llm_text_fit(char *s)
{
	unsigned char *p = (unsigned char *)s;
	size_t n = strlen(s), i = 0, k, j;

	while (i < n) {
		k = utf8_char(p + i, n - i);
		if (k) {
			i += k;
			continue;
		}
		/* a lead byte and only continuation bytes to the end: cut */
		for (j = i + 1; j < n && (p[j] & 0xc0) == 0x80; j++)
			;
		if (j == n && p[i] >= 0xc2 && p[i] <= 0xf4 && n - i < 4) {
			p[i] = '\0';
			return;
		}
		p[i++] = '?';
	}
}
