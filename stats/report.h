/*
 * report.h - the data of `clarify stats`: the results aggregated by group
 * (category, template pair or model) and overall, and its HTML page.
 *
 * A struct report is fed one result record at a time (report_add, while
 * walking the store), so it holds only the numbers the percentiles need:
 * a few doubles per record and group.  report_json() turns it into the
 * document that `clarify stats --json` prints and that every other view
 * (the text table, the HTML page) is drawn from:
 *
 *   {"by", "include_rejected", "records", "accepted", "rejected",
 *    "unreadable", "groups": {NAME: GROUP, ...}, "overall": GROUP}
 *
 *   GROUP = {"records", "accepted", "rejected",
 *            "rejected_by_rule": {RULE: n},
 *            "usage": {"tokens_in", "tokens_out", "tokens", "cached", "latency_s",
 *                      "batch": {"records", "tokens_in", "tokens_out"}},
 *            "modified":  {"perplexity": AGG, "entropy": AGG, "tokens": AGG},
 *            "questions": {"perplexity": AGG, "entropy": AGG, "tokens": AGG,
 *                          "per_record": AGG},
 *            "answers": {"tokens": AGG, "per_record": AGG},
 *            "judge": {"judged", "recovered", "off_target", "self_announced",
 *                      "mentions_original", "recovered_rate", "off_target_rate",
 *                      "self_announced_rate", "mentions_original_rate"},
 *            "histograms": {"perplexity": HIST, "entropy": HIST}}
 *
 * "judge" counts the records that went through stage 3 (rejected ones
 * too: they are what the judge is for), its rates are of "judged" (null
 * when none was); "off_target" is a verdict with no question that targets
 * the change.  "answers" are stage 3's, over the same records as AGG.
 *
 *   AGG  = stats_agg_json(): {"count", "mean", "sd", "min", "p5", "p50",
 *          "p95", "max", "histogram"}; all but "count" are null when it is 0
 *   HIST = {"lo", "hi", "scale", "bins", "above", "modified": [n...],
 *          "questions": [n...]}: both fields binned over the same range so
 *          that they can be drawn side by side, in equal steps of the value
 *          ("scale": "linear", entropy) or of its logarithm ("log",
 *          perplexity, whose problems and questions lie far apart).  hi is
 *          the largest value, or the larger of the two 99th percentiles when
 *          the top 1% would squeeze the rest into a third of the axis;
 *          "above" counts the values past hi (they are in the last bin).
 *
 * The distributions (AGG, HIST) are over the accepted records, or over
 * every record that has signals when include_rejected is set; the counts
 * of records, the rejections and the usage are over every result.
 * Functions that can fail return 0 or a negative CL_E* code.
 */
#ifndef CLARIFY_REPORT_H
#define CLARIFY_REPORT_H

#include <stddef.h>
#include <stdint.h>

#include "../common/common.h"
#include "stats.h"

enum report_by { REPORT_BY_CATEGORY, REPORT_BY_TEMPLATE, REPORT_BY_MODEL };

/* "category" -> REPORT_BY_CATEGORY, -1 when unknown; and back. */
int report_by_parse(const char *name);
const char *report_by_name(int by);

/* Longest group name kept (longer ones are cut at a character boundary). */
#define REPORT_NAME_MAX 256
/* Groups at most; the records of any further group go to "(other)". */
#define REPORT_GROUPS_MAX 1024

struct report_field {
	struct stats_agg perplexity, entropy, tokens;
};

struct report_group {
	char name[REPORT_NAME_MAX];
	uint64_t records, accepted, rejected;
	struct report_field modified, questions;
	struct stats_agg per_record;   /* questions per record */
	struct stats_agg answer_tokens, answers_per_record;
	uint64_t judged, recovered, off_target, self_announced, mentions_original;
	json_t *by_rule;               /* rule -> count; owned */
	uint64_t near_dup;      /* records with a near-duplicate verdict, any action */
	uint64_t tokens_in, tokens_out, cached;
	uint64_t batch_records, batch_in, batch_out; /* made from provider batches */
	double latency;
};

struct report {
	int by;                        /* enum report_by */
	int include_rejected;
	struct report_group *groups;   /* in category order, else sorted by report_json */
	size_t n, cap;
	struct report_group overall;
	uint64_t unreadable;           /* results that could not be decoded */
};

/* Set up an empty report (for REPORT_BY_CATEGORY: one empty group per
 * category, so that a category without records shows zeros).  0 or
 * CL_ENOMEM (the report is then released). */
int report_init(struct report *r, int by, int include_rejected);
void report_release(struct report *r);

/*
 * Count one result record (borrowed; a record of pipeline/daemon.c's
 * result_of) stored under the job key key[0..klen).  The key gives the
 * category when the record does not.  0 or CL_ENOMEM.
 */
int report_add(struct report *r, const char *key, size_t klen, const json_t *result);

/*
 * The report as described above (a new reference the caller owns; NULL
 * when out of memory), with bins histogram bins (1..200).  Sorts the
 * groups and the values kept: further report_add() calls are allowed.
 */
json_t *report_json(struct report *r, int bins);

/*
 * Histogram two value lists over one range (see HIST above), bins clamped
 * to 1..200, in steps of the logarithm when log_scale is set and every
 * value is positive; sorts their values.  A new reference, NULL when out
 * of memory.  With no values at all: lo = hi = 0 and every count 0.
 */
json_t *report_histogram(struct stats_agg *modified, struct stats_agg *questions, int bins,
			 int log_scale);

/* ---- the HTML page (stats/report_html.c) -------------------------------- */

/* Append s with &, <, >, " and ' escaped; bytes that are not valid UTF-8
 * and control characters (but \n and \t) become U+FFFD. */
int report_html_escape(struct buf *out, const char *s);

/*
 * Append one SVG bar chart of a HIST (report_histogram): per bin a
 * <rect class="bar modified"> and a <rect class="bar questions">, each with
 * data-count, in that order (2 * bins rects, zero-height for empty bins;
 * a non-empty bin is at least one pixel high), the y axis scaled to the
 * largest count, ticks and labels on both axes, and a legend.  title and
 * xlabel are escaped.
 */
int report_svg_histogram(struct buf *out, const char *title, const char *xlabel,
			 const json_t *hist);

/*
 * Append a whole self-contained HTML page (inline CSS and SVG; no script,
 * no external resource) for report (report_json(), with the optional keys
 * "store" (a string) and "daemon" (clarifyd's progress record from meta)).
 */
int report_html(struct buf *out, const json_t *report);

#endif
