/*
 * answer.c - the answer stage's reply: the answers, one per question, and
 * the judge's verdict, a JSON object read with jansson and checked key by
 * key, so that a malformed verdict is a reason the caller can retry on.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "prompt.h"

void prompt_verdict_release(struct prompt_verdict *v)
{
	free(v->targets_change);
	free(v->reason);
	memset(v, 0, sizeof(*v));
}

static int blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Where a list item's text starts ("- ", "* ", "+ ", "1. ", "1) ",
 * "A1: "...), or NULL when the line is no item. */
static const char *item_start(const char *a, const char *b)
{
	const char *d = a;

	if (a + 1 < b && (*a == '-' || *a == '*' || *a == '+') && a[1] == ' ')
		return a + 2;
	if (d < b && (*d == 'A' || *d == 'a') && d + 1 < b && d[1] >= '0' && d[1] <= '9')
		d++;
	if (d < b && *d >= '0' && *d <= '9') {
		while (d < b && *d >= '0' && *d <= '9')
			d++;
		if (d + 1 < b && (*d == '.' || *d == ')' || *d == ':') && d[1] == ' ')
			return d + 2;
	}
	return NULL;
}

static int add_answer(struct prompt_reply *r, size_t *cap, const char *a, const char *b)
{
	char *s;

	if (ARRAY_GROW(r->answers, *cap, r->nanswers, 8))
		return CL_ENOMEM;
	s = malloc((size_t)(b - a) + 1);
	if (!s)
		return CL_ENOMEM;
	memcpy(s, a, (size_t)(b - a));
	s[b - a] = '\0';
	r->answers[r->nanswers++] = s;
	return 0;
}

/* Append the line [a, b) to the last answer, after a space. */
static int continue_answer(struct prompt_reply *r, const char *a, const char *b)
{
	char *last = r->answers[r->nanswers - 1];
	size_t n = strlen(last), m = (size_t)(b - a);
	char *s = realloc(last, n + 1 + m + 1);

	if (!s)
		return CL_ENOMEM;
	s[n] = ' ';
	memcpy(s + n + 1, a, m);
	s[n + 1 + m] = '\0';
	r->answers[r->nanswers - 1] = s;
	return 0;
}

/*
 * The answers: when any line is a list item, each item is one answer and
 * the lines after it (not items) continue it; otherwise each non-empty
 * line is one answer.
 */
static int split_answers(const char *text, struct prompt_reply *r)
{
	size_t cap = 0;
	int items = 0, rc = 0;

	for (const char *p = text; *p;) {
		const char *e = strchr(p, '\n'), *a = p;

		if (!e)
			e = p + strlen(p);
		while (a < e && blank(*a))
			a++;
		if (item_start(a, e))
			items = 1;
		p = *e ? e + 1 : e;
	}
	for (const char *p = text; *p && !rc;) {
		const char *e = strchr(p, '\n'), *a = p, *b, *i;

		if (!e)
			e = p + strlen(p);
		b = e;
		while (a < b && blank(*a))
			a++;
		p = *e ? e + 1 : e;
		i = item_start(a, b);
		if (i)
			a = i;
		while (a < b && blank(*a))
			a++;
		while (b > a && blank(b[-1]))
			b--;
		if (a == b)
			continue;
		if (items && !i && r->nanswers)
			rc = continue_answer(r, a, b);
		else
			rc = add_answer(r, &cap, a, b);
	}
	return rc;
}

static const char *json_kind(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return "an object";
	case JSON_ARRAY:
		return "a list";
	case JSON_STRING:
		return "a string";
	case JSON_INTEGER:
	case JSON_REAL:
		return "a number";
	case JSON_TRUE:
	case JSON_FALSE:
		return "true or false";
	case JSON_NULL:
		return "null";
	}
	return "?";
}

static int get_bool(const json_t *o, const char *key, int *out)
{
	const json_t *v = json_object_get(o, key);

	if (!v)
		return err_set(CL_EPARSE, "the <verdict> has no '%s'", key);
	if (!json_is_boolean(v))
		return err_set(CL_EPARSE, "the <verdict>'s '%s' must be true or false, not %s", key,
			       json_kind(v));
	*out = json_is_true(v);
	return 0;
}

int prompt_parse_verdict(const char *text, size_t nquestions, struct prompt_verdict *v)
{
	const char *a = text, *b = text + strlen(text);
	const json_t *tc, *reason;
	json_error_t jerr;
	json_t *o;
	int rc;

	prompt_verdict_release(v);
	/* a model may fence it: ```json ... ``` */
	while (a < b && blank(*a))
		a++;
	while (b > a && blank(b[-1]))
		b--;
	if (b - a >= 6 && memcmp(a, "```", 3) == 0 && memcmp(b - 3, "```", 3) == 0) {
		a += 3;
		while (a < b - 3 && *a != '\n')
			a++; /* the fence's language word */
		b -= 3;
	}
	o = json_loadb(a, (size_t)(b - a), JSON_REJECT_DUPLICATES, &jerr);
	if (!o)
		return err_set(CL_EPARSE, "the <verdict> is not JSON: %s (line %d, column %d)",
			       jerr.text, jerr.line, jerr.column);
	if (!json_is_object(o)) {
		rc = err_set(CL_EPARSE, "the <verdict> must be a JSON object, not %s", json_kind(o));
		goto out;
	}
	rc = get_bool(o, "recovers", &v->recovers);
	if (!rc)
		rc = get_bool(o, "self_announced", &v->self_announced);
	if (!rc)
		rc = get_bool(o, "mentions_original", &v->mentions_original);
	if (rc)
		goto out;
	tc = json_object_get(o, "targets_change");
	if (!tc) {
		rc = err_set(CL_EPARSE, "the <verdict> has no 'targets_change'");
		goto out;
	}
	if (!json_is_array(tc)) {
		rc = err_set(CL_EPARSE, "the <verdict>'s 'targets_change' must be a list of true or "
			     "false, one per question, not %s", json_kind(tc));
		goto out;
	}
	if (nquestions && json_array_size(tc) != nquestions) {
		rc = err_set(CL_EPARSE, "the <verdict>'s 'targets_change' has %zu entries for %zu "
			     "questions", json_array_size(tc), nquestions);
		goto out;
	}
	v->ntargets = json_array_size(tc);
	v->targets_change = calloc(v->ntargets ? v->ntargets : 1, sizeof(*v->targets_change));
	if (!v->targets_change) {
		rc = CL_ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < v->ntargets; i++) {
		const json_t *e = json_array_get(tc, i);

		if (!json_is_boolean(e)) {
			rc = err_set(CL_EPARSE, "the <verdict>'s 'targets_change' entry %zu must be true "
				     "or false, not %s", i + 1, json_kind(e));
			goto out;
		}
		v->targets_change[i] = json_is_true(e);
	}
	reason = json_object_get(o, "reason");
	if (!reason) {
		rc = err_set(CL_EPARSE, "the <verdict> has no 'reason'");
		goto out;
	}
	if (!json_is_string(reason) || !json_string_length(reason)) {
		rc = err_set(CL_EPARSE, "the <verdict>'s 'reason' must be a non-empty text, not %s",
			     json_is_string(reason) ? "an empty one" : json_kind(reason));
		goto out;
	}
	v->reason = strdup(json_string_value(reason));
	if (!v->reason) {
		rc = CL_ENOMEM;
		goto out;
	}
	/* one line: a model's newlines become spaces */
	for (char *p = v->reason; *p; p++)
		if (*p == '\n' || *p == '\r' || *p == '\t')
			*p = ' ';
out:
	json_decref(o);
	if (rc)
		prompt_verdict_release(v);
	return rc;
}

int prompt_parse_answers(const struct prompt_template *t, const char *reply, size_t nquestions,
			 struct prompt_reply *out)
{
	char *text;
	int rc;

	prompt_reply_release(out);
	if (!reply)
		return err_set(CL_EPARSE, "empty reply");
	if (t->outputs & PROMPT_REASONING)
		out->reasoning = prompt_tag_text(reply, "reasoning");
	if (t->outputs & PROMPT_ANSWERS) {
		text = prompt_tag_text(reply, "answers");
		if (!text)
			return err_set(CL_EPARSE, strstr(reply, "<answers>") ? "empty <answers>" :
					   "the reply has no <answers>");
		rc = split_answers(text, out);
		free(text);
		if (rc)
			return rc;
		if (!out->nanswers)
			return err_set(CL_EPARSE, "empty <answers>");
		if (nquestions && out->nanswers != nquestions)
			return err_set(CL_EPARSE, "the reply has %zu answer%s for %zu question%s",
				       out->nanswers, out->nanswers == 1 ? "" : "s", nquestions,
				       nquestions == 1 ? "" : "s");
	}
	if (t->outputs & PROMPT_VERDICT) {
		text = prompt_tag_text(reply, "verdict");
		if (!text)
			return err_set(CL_EPARSE, strstr(reply, "<verdict>") ? "empty <verdict>" :
					   "the reply has no <verdict>");
		rc = prompt_parse_verdict(text, nquestions, &out->verdict);
		free(text);
		if (rc)
			return rc;
		out->has_verdict = 1;
	}
	return 0;
}
