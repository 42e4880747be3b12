/*
 * reply.c - what fakellm's model says: the text of a reply, a
 * deterministic function of the prompt (stage 1: the problem with its
 * bounds made vague; stage 2: questions; stage 3: answers and a verdict,
 * broken on demand by a JUDGE:KIND in the prompt), and the JSON helpers
 * it needs.
 */
#include <stdlib.h>
#include <string.h>

#include "reply.h"

/* ---- JSON helpers ----------------------------------------------------- */

/* A JSON string of s; bytes that are not valid UTF-8 become '?'. */
json_t *jstr_lossy(const char *s)
{
	json_t *v = json_string(s);
	char *copy;

	if (v)
		return v;
	copy = strdup(s);
	if (!copy)
		return NULL;
	for (char *p = copy; *p; p++)
		if ((unsigned char)*p >= 0x80)
			*p = '?';
	v = json_string(copy);
	free(copy);
	return v;
}

const char *buf_str(const struct buf *b)
{
	return b->data ? b->data : "";
}

/* Append the text of an OpenAI content (a string or an array of parts) or
 * of a Gemini parts array. */
int content_text(const json_t *content, struct buf *out)
{
	size_t i;
	json_t *part;
	int rc;

	if (json_is_string(content))
		return buf_add(out, json_string_value(content), json_string_length(content));
	if (!json_is_array(content))
		return 0;
	json_array_foreach(content, i, part) {
		const json_t *t = json_is_string(part) ? part : json_object_get(part, "text");

		if (!json_is_string(t))
			continue;
		rc = buf_add(out, json_string_value(t), json_string_length(t));
		if (rc)
			return rc;
	}
	return 0;
}

/* ---- the reply text --------------------------------------------------- */

static int is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

/* The length of a comparison operator at s[i], or 0.  A lone '<' or '>'
 * counts only between blanks ("1 < n"), so that tags do not. */
static size_t op_at(const char *s, size_t n, size_t i)
{
	if (i + 1 < n && (s[i] == '<' || s[i] == '>') && s[i + 1] == '=')
		return 2;
	if (i + 2 < n && memcmp(s + i, "\xe2\x89", 2) == 0 &&
	    (s[i + 2] == '\xa4' || s[i + 2] == '\xa5')) /* U+2264, U+2265 */
		return 3;
	if ((s[i] == '<' || s[i] == '>') && i > 0 && is_blank(s[i - 1]) &&
	    i + 1 < n && is_blank(s[i + 1]))
		return 1;
	return 0;
}

/* A line states a bound: it contains "\le", or a comparison whose nearest
 * non-blank neighbour on either side is a digit ("1 <= n <= 100"). */
static int line_is_bound(const char *s, size_t n)
{
	if (memmem(s, n, "\\le", 3))
		return 1;
	for (size_t i = 0; i < n; i++) {
		size_t len = op_at(s, n, i), l = i, r = i + len;

		if (!len)
			continue;
		while (l > 0 && is_blank(s[l - 1]))
			l--;
		while (r < n && is_blank(s[r]))
			r++;
		if ((l > 0 && is_digit(s[l - 1])) || (r < n && is_digit(s[r])))
			return 1;
		i += len - 1;
	}
	return 0;
}

/* The problem without its bound lines, or without its last line when it
 * has none; trailing white space dropped. */
static int modified_problem(const char *text, size_t n, struct buf *out)
{
	size_t start = out->len, pos = 0, last_keep = out->len;
	int removed = 0, rc;

	while (n > 0 && (text[n - 1] == '\n' || is_blank(text[n - 1])))
		n--;
	while (pos < n) {
		const char *nl = memchr(text + pos, '\n', n - pos);
		size_t end = nl ? (size_t)(nl - text) : n;

		if (line_is_bound(text + pos, end - pos)) {
			removed = 1;
		} else {
			last_keep = out->len;
			if (out->len > start) {
				rc = buf_addc(out, '\n');
				if (rc)
					return rc;
			}
			rc = buf_add(out, text + pos, end - pos);
			if (rc)
				return rc;
		}
		pos = end + 1;
	}
	if (!removed)
		out->len = last_keep; /* drop the last line */
	while (out->len > start &&
	       (out->data[out->len - 1] == '\n' || is_blank(out->data[out->len - 1])))
		out->len--;
	if (out->data)
		out->data[out->len] = '\0';
	return 0;
}

static const char questions_text[] =
	"<reasoning>\nThe statement leaves the input bounds unstated.\n</reasoning>\n"
	"<questions>\nWhat is the range of n?\nCan the input be empty?\n</questions>";

/* ---- stage 3 ------------------------------------------------------------ */

/* How the verdict comes out: JUDGE:KIND in the prompt. */
enum judge_kind {
	J_OK, J_NOT_RECOVERED, J_OFF_TARGET, J_SELF_ANNOUNCED, J_MENTIONS_ORIGINAL, J_MALFORMED,
	J_MISSING_KEY, J_WRONG_TYPE, J_SHORT, J_COUNT
};

static const char *const judge_names[J_COUNT] = {
	"ok", "not-recovered", "off-target", "self-announced", "mentions-original", "malformed",
	"missing-key", "wrong-type", "short",
};

static int judge_kind(const struct buf *prompt)
{
	const char *s = buf_str(prompt), *j = memmem(s, prompt->len, "JUDGE:", 6);

	if (!j)
		return J_OK;
	j += 6;
	for (int k = J_COUNT - 1; k > 0; k--) {
		size_t n = strlen(judge_names[k]);

		if ((size_t)(s + prompt->len - j) >= n && memcmp(j, judge_names[k], n) == 0)
			return k;
	}
	return J_OK;
}

/* The questions shown in the last <questions> block of the user message:
 * its non-blank lines; at least one. */
static size_t count_questions(const struct buf *user)
{
	const char *s = buf_str(user), *a = NULL, *b, *p;
	size_t n = 0;

	for (p = memmem(s, user->len, "<questions>", 11); p;
	     p = memmem(p + 1, user->len - (size_t)(p + 1 - s), "<questions>", 11))
		a = p + 11;
	b = a ? memmem(a, user->len - (size_t)(a - s), "</questions>", 12) : NULL;
	for (p = a; b && p < b;) {
		const char *nl = memchr(p, '\n', (size_t)(b - p)), *e = nl ? nl : b;
		int blank = 1;

		for (const char *c = p; c < e; c++)
			if (!is_blank(*c) && *c != '\r')
				blank = 0;
		n += !blank;
		p = e + 1;
	}
	return n ? n : 1;
}

static int answer_build(const struct buf *prompt, const struct buf *user, struct buf *out)
{
	int kind = judge_kind(prompt);
	size_t nq = count_questions(user), na = kind == J_SHORT && nq > 1 ? nq - 1 : nq;
	int rc = buf_adds(out, "<reasoning>\nThe statement lost its bound on n.\n</reasoning>\n"
			       "<answers>\n");

	for (size_t i = 0; !rc && i < na; i++)
		rc = buf_addf(out, "%zu. The complete problem says 1 <= n <= 100.\n", i + 1);
	if (!rc)
		rc = buf_adds(out, "</answers>\n<verdict>\n");
	if (rc)
		return rc;
	if (kind == J_MALFORMED)
		return buf_adds(out, "recovers: probably\n</verdict>");
	rc = buf_addf(out, "{%s\"targets_change\": [", kind == J_MISSING_KEY ? "" :
			   kind == J_WRONG_TYPE ? "\"recovers\": \"yes\", " :
			   kind == J_NOT_RECOVERED ? "\"recovers\": false, " : "\"recovers\": true, ");
	for (size_t i = 0; !rc && i < nq; i++)
		rc = buf_addf(out, "%s%s", i ? ", " : "", kind == J_OFF_TARGET ? "false" : "true");
	if (!rc)
		rc = buf_addf(out, "], \"self_announced\": %s, \"mentions_original\": %s, "
			      "\"reason\": \"%s\"}\n</verdict>",
			      kind == J_SELF_ANNOUNCED ? "true" : "false",
			      kind == J_MENTIONS_ORIGINAL ? "true" : "false",
			      kind == J_NOT_RECOVERED ? "the answers leave the bound open" :
							"the answers give the bound back");
	return rc;
}

/* TEXT: the answers and verdict when the prompt asks for a verdict, the
 * questions when it asks for them, else the last user
 * message rewritten: the problem inside its <problem> tags when the
 * prompt wraps it so (as clarifyd's templates do), else the whole message. */
int text_build(const struct buf *prompt, const struct buf *user, struct buf *out)
{
	const char *text = buf_str(user), *a, *b;
	size_t n = user->len;
	int rc;

	if (memmem(buf_str(prompt), prompt->len, "<verdict>", 9))
		return answer_build(prompt, user, out);
	if (memmem(buf_str(prompt), prompt->len, "<questions>", 11))
		return buf_adds(out, questions_text);
	a = memmem(text, n, "<problem>", 9);
	b = a ? memmem(a, n - (size_t)(a - text), "</problem>", 10) : NULL;
	if (a && b) {
		text = a + 9;
		n = (size_t)(b - text);
	}
	rc = buf_adds(out, "<reasoning>\nI will remove the bound on n.\n</reasoning>\n"
			   "<modified_problem>\n");
	if (rc)
		return rc;
	rc = modified_problem(text, n, out);
	if (rc)
		return rc;
	return buf_adds(out, "\n</modified_problem>");
}

int64_t tokens(size_t bytes)
{
	return (int64_t)((bytes + 3) / 4);
}
