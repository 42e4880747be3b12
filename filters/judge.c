/*
 * judge.c - the judge's filters: stage 3's verdict on a record turned into
 * verdicts like any other check's, each with the action the config gives
 * it (filters.actions), so that a record the judge finds wanting is
 * rejected or flagged beside the rules.
 */
#include <stdio.h>

#include "filter.h"

static int judge_add(const struct filter_set *fs, int check, const char *detail,
		     struct filter_result *out)
{
	int action = fs->check_action[check];

	if (action == FILTER_OFF)
		return 0;
	return filter_result_add(out, filter_checks[check], action, 0, detail);
}

int filter_judge(const struct filter_set *fs, const struct filter_judgement *j,
		 struct filter_result *out)
{
	char detail[192];
	int rc = 0;

	if (!j->recovers) {
		snprintf(detail, sizeof(detail), "the answers do not give the task back: %.150s",
			 j->reason && *j->reason ? j->reason : "(no reason given)");
		rc = judge_add(fs, FILTER_CHECK_JUDGE, detail, out);
	}
	if (!rc && j->ntargets && !j->targeted) {
		snprintf(detail, sizeof(detail), "none of the %zu questions asks about the change",
			 j->ntargets);
		rc = judge_add(fs, FILTER_CHECK_JUDGE + 1, detail, out);
	}
	if (!rc && j->self_announced)
		rc = judge_add(fs, FILTER_CHECK_JUDGE + 2,
			       "the rewrite talks about its own ambiguity", out);
	if (!rc && j->mentions_original)
		rc = judge_add(fs, FILTER_CHECK_JUDGE + 3,
			       "the rewrite refers to an original version", out);
	return rc;
}
