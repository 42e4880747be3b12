/*
 * offline.c - the offline provider: deterministic rule-based rewrites and
 * template questions, without a network or a model (offline_int.h).
 */
#include "offline_int.h"

/* ---- the provider ------------------------------------------------------------ */

/* The stage 1 reply: the reasoning, then the rewrite without its outer blanks. */
static int modify_reply(const struct rewrite *w, struct buf *out)
{
	size_t a = 0, b = w->text.len;
	int rc;

	off_trim(w->text.data, &a, &b);
	rc = buf_adds(out, "<reasoning>\n");
	if (!rc)
		rc = buf_add(out, w->why.data, w->why.len);
	if (!rc)
		rc = buf_adds(out, "\n</reasoning>\n<modified_problem>\n");
	if (!rc)
		rc = buf_add(out, w->text.data + a, b - a);
	if (!rc)
		rc = buf_adds(out, "\n</modified_problem>");
	return rc;
}

static const char *stage_name(int stage)
{
	return stage == LLM_STAGE_MODIFY ? "modify" : stage == LLM_STAGE_CLARIFY ? "clarify" :
									      "answer";
}

int llm_offline_reply(const struct llm_request *r, uint64_t seed, struct buf *out)
{
	size_t start, on, a, b;
	struct rewrite w;
	int rc;

	if (!r || !out)
		return err_set(CL_EINVAL, "no request or no buffer for the reply");
	if (!r->original || !r->original[0])
		return err_set(CL_EINVAL, "the request has no original problem");
	if (r->category < 0 || r->category >= CAT_COUNT)
		return err_set(CL_EINVAL, "unknown category %d", r->category);
	if (r->stage != LLM_STAGE_MODIFY && r->stage != LLM_STAGE_CLARIFY &&
	    r->stage != LLM_STAGE_ANSWER)
		return err_set(CL_EINVAL, "unknown stage %d", r->stage);
	if (r->stage != LLM_STAGE_MODIFY && (!r->modified || !r->modified[0]))
		return err_set(CL_EINVAL, "stage %s needs the modified problem", stage_name(r->stage));
	if (r->stage == LLM_STAGE_ANSWER && (!r->questions || !r->nquestions))
		return err_set(CL_EINVAL, "stage answer needs the questions");
	if (!off_rules_shipped())
		return CL_ECONFIG; /* its message is set */
	on = strlen(r->original);
	a = 0;
	b = on;
	off_trim(r->original, &a, &b);
	if (a == b)
		return err_set(CL_EINVAL, "the original problem is blank");
	start = out->len;
	if (r->stage == LLM_STAGE_MODIFY) {
		rc = off_rewrite_compute(r->original, on, r->category, seed, &w);
		if (!rc) {
			rc = modify_reply(&w, out);
			off_rewrite_release(&w);
		}
	} else if (r->stage == LLM_STAGE_CLARIFY) {
		rc = off_clarify(r->original, on, r->modified, strlen(r->modified), r->category, seed,
			     out);
	} else {
		rc = off_answer(r->original, on, r->modified, strlen(r->modified), r->category,
				seed, r->questions, r->nquestions, out);
	}
	if (rc) {
		/* nothing half-written stays in the caller's buffer */
		out->len = start;
		if (out->data)
			out->data[start] = '\0';
		return err_set(rc, "cannot write the %s reply: %s", stage_name(r->stage),
			       err_str(rc));
	}
	return 0;
}

const struct llm_provider llm_provider_offline = {
	.name = "offline",
	.answer = llm_offline_reply,
	.check = llm_offline_check,
};
