/*
 * offline_answer.c - stage 3 without a model: answer each question from
 * the original and judge the record, from what the rewrite changed (the
 * line diff of stage 2).
 *
 * A question targets a change when it is one this provider's stage 2 asks
 * about the same rewrite (same category and seed), or when it shares a
 * content word with the lines the change touched (the original's and the rewrite's): a word of
 * four letters or more that is not a function word, or a one-letter name
 * (n, k) that stands alone in those lines.  Its answer is the original's
 * line that shares the most ("The complete problem says: ..."), and it
 * counts as asked about every line it shares a word with; or, for a line the rewrite
 * added, that the line is not part of the task.  The record recovers the
 * original when every change is targeted by some question.  A rewrite
 * announces itself, or speaks of an original, when it holds one of the
 * rule file's judge phrases that the original does not.
 */
#include <ctype.h>

#include "offline_int.h"

#define MAX_UNITS 16
#define ANSWER_MAX 300

/* Words too common to tie a question to a line (four letters or more). */
static const char *const function_words[] = {
	"what", "which", "does", "there", "that", "this", "with", "should", "must", "will",
	"given", "when", "from", "have", "into", "them", "they", "than", "then", "about",
	"would", "could", "problem", "statement", "exactly", "also", "only", "every", "some",
	"were", "been", "being", "their", "your", "here", "where", "while", "other",
};

struct region {
	size_t a, b;   /* a whole trimmed line of the text it is in */
	int in_m;      /* of the rewrite (a line it added) rather than of the original */
	size_t ma, mb; /* the rewrite's line, when the original's was replaced */
	int has_m;
};

static int word_at(const char *p, size_t n, size_t i)
{
	return i < n && (isalnum((unsigned char)p[i]) || p[i] == '_');
}

/* Does p[a..b) hold word w (lower case) on word boundaries, case aside? */
static int holds_word(const char *p, size_t a, size_t b, const char *w, size_t wn)
{
	for (size_t i = a; i + wn <= b; i++) {
		if ((i > a && word_at(p, b, i - 1)) || (i + wn < b && word_at(p, b, i + wn)))
			continue;
		if (strncasecmp(p + i, w, wn) == 0)
			return 1;
	}
	return 0;
}

static int is_function_word(const char *w, size_t n)
{
	for (size_t i = 0; i < CL_ARRAY_SIZE(function_words); i++)
		if (strlen(function_words[i]) == n && strncasecmp(function_words[i], w, n) == 0)
			return 1;
	return 0;
}

/* How many content words of question q the region's lines hold. */
static int overlap(const char *q, const char *o, const char *m, const struct region *r)
{
	size_t qn = strlen(q);
	int score = 0;

	for (size_t i = 0; i < qn;) {
		size_t j = i;
		char w[64];

		if (!word_at(q, qn, i)) {
			i++;
			continue;
		}
		while (j < qn && word_at(q, qn, j))
			j++;
		if (j - i < sizeof(w) && (j - i >= 4 || (j - i == 1 && isalpha((unsigned char)q[i])))) {
			size_t n = j - i;

			for (size_t k = 0; k < n; k++)
				w[k] = (char)tolower((unsigned char)q[i + k]);
			w[n] = '\0';
			if (!is_function_word(w, n) &&
			    ((!r->in_m && holds_word(o, r->a, r->b, w, n)) ||
			     (r->in_m && holds_word(m, r->a, r->b, w, n)) ||
			     (r->has_m && holds_word(m, r->ma, r->mb, w, n))))
				score++;
		}
		i = j;
	}
	return score;
}

static void whole_line(const char *p, size_t n, size_t *a, size_t *b)
{
	while (*a > 0 && p[*a - 1] != '\n')
		(*a)--;
	while (*b < n && p[*b] != '\n')
		(*b)++;
	off_trim(p, a, b);
}

/* The regions the rewrite changed; their count or CL_ENOMEM. */
static int regions(const char *o, size_t on, const char *m, size_t mn, struct region *rg)
{
	struct doc od, md;
	struct unit u[MAX_UNITS];
	int nu, k = 0, rc;

	rc = off_doc_parse(&od, o, on);
	if (rc)
		return rc;
	rc = off_doc_parse(&md, m, mn);
	if (rc) {
		off_doc_release(&od);
		return rc;
	}
	nu = off_diff_units(&od, &md, u, MAX_UNITS);
	off_doc_release(&od);
	off_doc_release(&md);
	if (nu < 0)
		return nu;
	for (int i = 0; i < nu; i++) {
		struct region *r = &rg[k];

		memset(r, 0, sizeof(*r));
		if (u[i].ob > u[i].oa) {
			r->a = u[i].oa;
			r->b = u[i].ob;
			whole_line(o, on, &r->a, &r->b);
			if (u[i].has_m && u[i].mb > u[i].ma) {
				r->ma = u[i].ma;
				r->mb = u[i].mb;
				whole_line(m, mn, &r->ma, &r->mb);
				r->has_m = 1;
			}
		} else if (u[i].has_m && u[i].mb > u[i].ma) {
			r->a = u[i].ma;
			r->b = u[i].mb;
			whole_line(m, mn, &r->a, &r->b);
			r->in_m = 1;
		} else {
			continue;
		}
		if (r->b > r->a)
			k++;
	}
	return k;
}

/* Does the rewrite hold a phrase of the list that the original does not? */
static int says(const char *const *list, size_t n, const char *o, size_t on, const char *m,
		size_t mn)
{
	for (size_t i = 0; i < n; i++) {
		size_t wn = strlen(list[i]);

		if (holds_word(m, 0, mn, list[i], wn) && !holds_word(o, 0, on, list[i], wn))
			return 1;
	}
	return 0;
}

/* Does s[0..n) start one of the reply's tag names, "/" aside? */
static int reply_tag(const char *s, size_t n)
{
	static const char *const tags[] = { "answers", "verdict", "reasoning" };

	if (n && *s == '/') {
		s++;
		n--;
	}
	for (size_t i = 0; i < CL_ARRAY_SIZE(tags); i++)
		if (n >= strlen(tags[i]) && strncasecmp(s, tags[i], strlen(tags[i])) == 0)
			return 1;
	return 0;
}

/* A line quoted for an answer: at most ANSWER_MAX bytes, cut between words. */
static int quote_line(struct buf *out, const char *p, size_t a, size_t b)
{
	size_t n = b - a;

	if (n > ANSWER_MAX) {
		n = ANSWER_MAX;
		while (n > 0 && word_at(p + a, ANSWER_MAX, n - 1))
			n--;
		if (!n)
			n = ANSWER_MAX;
	}
	for (size_t i = 0; i < n; i++) {
		char c = p[a + i];
		int rc;

		if (c == '\n' || c == '\r' || c == '\t')
			c = ' ';
		else if (c == '<' && reply_tag(p + a + i + 1, n - i - 1))
			c = '['; /* a quoted tag of the reply's own would end it early */
		rc = buf_add(out, &c, 1);
		if (rc)
			return rc;
	}
	return n < b - a ? buf_adds(out, " ...") : 0;
}

/* JSON text of s (the reason is ours, but quote it properly). */
static int json_text(struct buf *out, const char *s)
{
	json_t *j = json_string(s);
	char *t = j ? json_dumps(j, JSON_ENCODE_ANY) : NULL;
	int rc = t ? buf_adds(out, t) : CL_ENOMEM;

	free(t);
	json_decref(j);
	return rc;
}

/* Is q one of the questions stage 2 of this provider asks about (o, m)?
 * Those are asked about its edits, whatever words they use. */
static int own_question(const char *own, const char *q)
{
	size_t qn = strlen(q);

	for (const char *p = own; p && *p;) {
		const char *e = strchr(p, '\n');
		size_t a = 0, b = e ? (size_t)(e - p) : strlen(p);

		off_trim(p, &a, &b);
		if (b - a == qn && memcmp(p + a, q, qn) == 0)
			return 1;
		p = e ? e + 1 : NULL;
	}
	return 0;
}

int off_answer(const char *o, size_t on, const char *m, size_t mn, int cat, uint64_t seed,
	       const char *const *q, size_t nq, struct buf *reply)
{
	const struct off_rules *R = off_rules_shipped(); /* checked by llm_offline_reply */
	struct region rg[MAX_UNITS];
	int *best, covered[MAX_UNITS] = { 0 };
	const char *qs = NULL;
	struct buf own;
	int nr, ntarget = 0, nuncovered = 0, announced, mentions, rc = 0;
	char reason[200];

	nr = regions(o, on, m, mn, rg);
	if (nr < 0)
		return nr;
	best = malloc((nq ? nq : 1) * sizeof(*best));
	if (!best)
		return CL_ENOMEM;
	buf_init(&own, 0);
	if (nr) {
		/* the questions this provider's stage 2 asks about this rewrite */
		rc = off_clarify(o, on, m, mn, cat, seed, &own);
		if (rc) {
			free(best);
			buf_release(&own);
			return rc;
		}
		qs = strstr(own.data, "<questions>");
	}
	for (size_t i = 0; i < nq; i++) {
		int top = 0;

		best[i] = -1;
		for (int r = 0; r < nr; r++) {
			int s = overlap(q[i], o, m, &rg[r]);

			if (s > top) {
				top = s;
				best[i] = r;
			}
			if (s)
				covered[r] = 1; /* a question may ask about several lines */
		}
		if (best[i] < 0 && qs && own_question(qs, q[i])) {
			/* asked about an edit in words of its own: the first one not yet asked */
			best[i] = 0;
			for (int r = 0; r < nr; r++)
				if (!covered[r]) {
					best[i] = r;
					break;
				}
		}
		if (best[i] >= 0) {
			covered[best[i]] = 1;
			ntarget++;
		}
	}
	for (int r = 0; r < nr; r++)
		nuncovered += !covered[r];
	announced = says((const char *const *)R->judge[OFF_JUDGE_ANNOUNCED],
			 R->njudge[OFF_JUDGE_ANNOUNCED], o, on, m, mn);
	mentions = says((const char *const *)R->judge[OFF_JUDGE_MENTIONS],
			R->njudge[OFF_JUDGE_MENTIONS], o, on, m, mn);
	if (!nr)
		snprintf(reason, sizeof(reason), "the statement is the complete problem: nothing "
			 "was changed");
	else if (!ntarget)
		snprintf(reason, sizeof(reason), "no question asks about the %d changed line%s", nr,
			 nr == 1 ? "" : "s");
	else if (nuncovered)
		snprintf(reason, sizeof(reason), "%d of the %d changed lines %s asked about",
			 nuncovered, nr, nuncovered == 1 ? "is not" : "are not");
	else
		snprintf(reason, sizeof(reason), "the answers give back every changed line (%d)", nr);

	rc = buf_addf(reply, "<reasoning>\nThe statement differs from the complete problem in %d "
		      "line%s; %d of %zu question%s ask%s about them.\n</reasoning>\n<answers>\n",
		      nr, nr == 1 ? "" : "s", ntarget, nq, nq == 1 ? "" : "s",
		      nq == 1 ? "s" : "");
	for (size_t i = 0; !rc && i < nq; i++) {
		const struct region *r = best[i] >= 0 ? &rg[best[i]] : NULL;

		rc = buf_addf(reply, "%zu. ", i + 1);
		if (!rc && !r)
			rc = buf_adds(reply, "The complete problem says nothing more about this than "
					     "the statement does.");
		else if (!rc && r->in_m) {
			rc = buf_adds(reply, "That line is not part of the task; disregard it: ");
			if (!rc)
				rc = quote_line(reply, m, r->a, r->b);
		} else if (!rc) {
			rc = buf_adds(reply, "The complete problem says: ");
			if (!rc)
				rc = quote_line(reply, o, r->a, r->b);
		}
		if (!rc)
			rc = buf_adds(reply, "\n");
	}
	if (!rc)
		rc = buf_addf(reply, "</answers>\n<verdict>\n{\"recovers\": %s, \"targets_change\": [",
			      !nr || (ntarget && !nuncovered) ? "true" : "false");
	for (size_t i = 0; !rc && i < nq; i++)
		rc = buf_addf(reply, "%s%s", i ? ", " : "", best[i] >= 0 ? "true" : "false");
	if (!rc)
		rc = buf_addf(reply, "], \"self_announced\": %s, \"mentions_original\": %s, "
			      "\"reason\": ", announced ? "true" : "false", mentions ? "true" : "false");
	if (!rc)
		rc = json_text(reply, reason);
	if (!rc)
		rc = buf_adds(reply, "}\n</verdict>");
	free(best);
	buf_release(&own);
	return rc;
}
