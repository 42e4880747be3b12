/*
 * filter.h - leak and quality filters: PCRE2 rules from filters/NAME.yaml and
 * built-in checks, run over one generated record.
 *
 * A rule file:
 *
 *   rules:
 *     - id: ref-original
 *       description: refers to an original or earlier version of the problem
 *       applies_to: [modified, questions]     # modified, questions, reasoning
 *       pattern: '\b(?:the|this)\s+original\s+(?:problem|statement)\b'
 *       flags: [caseless]                     # caseless, multiline, dotall
 *       keywords: [original]                  # optional prefilter, see below
 *       action: reject                        # reject or flag
 *
 * Patterns are UTF-8 and compiled once, with PCRE2's JIT when the system
 * allows it (under MemoryDenyWriteExecute= it does not: they then run in
 * the interpreter, and a warning says so).  keywords, when given, are
 * words of which at least one must be in the text (compared in lower
 * case; "__word__" counts as "word") for the pattern to run at all, and
 * and_keywords, when given, a second list of which one must be there too:
 * one pass over the words of a text decides which patterns can match,
 * which keeps many rules cheap.  A rule with keywords promises that each
 * match contains one of them and reaches at most 200 bytes before or
 * after it: its pattern then runs only in windows from 200 bytes before
 * to 200 bytes (and on to the next white space) after each keyword;
 * "^", "$" and \b see the text around a window as it is.  A rule whose
 * match may lie farther from its keywords must not declare any.
 *
 * Built-in checks (ids fixed, filter_checks[]): unchanged, drift,
 * hidden-leak, repeated-lines, repeated-ngrams, repeated-questions, empty,
 * truncated, no-questions, not-a-question, inline-commentary,
 * invalid-utf8, and the judge's four (stage 3, filter_judge()):
 * judge-not-recovered, judge-off-target, judge-self-announced,
 * judge-mentions-original.  Their thresholds are in struct filter_limits;
 * each rejects unless filter_set_action() says otherwise.
 *
 * A set is read-only once loaded and may be shared by threads; each
 * thread runs it with its own struct filter_scratch.
 */
#ifndef CLARIFY_FILTER_H
#define CLARIFY_FILTER_H

#include <stddef.h>
#include <stdint.h>

#include "../common/common.h"

enum filter_field {
	FIELD_MODIFIED = 1,
	FIELD_QUESTIONS = 2,
	FIELD_REASONING = 4,
};

/*
 * What a rule or check does when it fires: reject the record (kept in the
 * store with its reasons, left out of exports), flag it (also written
 * "soft": the record is accepted and the verdict kept, for auditors), or
 * nothing at all (off: it does not run).
 */
enum filter_action { FILTER_REJECT, FILTER_FLAG, FILTER_OFF };

/* "reject", "flag" or "soft", "off"; -1 for anything else. */
int filter_action_parse(const char *s);
const char *filter_action_name(int action);     /* "reject", "flag", "off" */

/* The built-in checks' ids, in a fixed order. */
#define FILTER_NCHECKS 17
#define FILTER_CHECK_UTF8 11     /* filter_checks[] index of invalid-utf8 */
#define FILTER_CHECK_NEAR_DUP 16 /* near-duplicate: run by clarifyd over the store */
#define FILTER_CHECK_JUDGE 12    /* ... of the first judge-* check */
extern const char *const filter_checks[FILTER_NCHECKS];
int filter_check_index(const char *id);          /* -1 when no check has it */

struct filter_limits {
	int leak_ngram;           /* n: tokens a question must quote to leak;
				     drift and repetition use n-word runs too */
	double drift_min_overlap; /* share of the modified problem's n-word
				     runs found in the original, at least */
	double drift_min_content; /* or share of its content words (each
				     once) found there: drift needs both low */
	int max_line_repeats;     /* a line of 20+ characters this many times
				     (one of 80+ counts twice) */
	double max_ngram_repeat;  /* share of repeated n-word runs, at most */
	int min_questions;
	int max_questions;
};

void filter_limits_default(struct filter_limits *l);

struct filter_rule;

struct filter_set {
	struct filter_rule *rules;
	size_t n, cap;
	struct filter_limits limits;
	int jit;                  /* every pattern is JIT-compiled */
	void *keywords;           /* the prefilter: word -> rule bits */
	signed char check_action[FILTER_NCHECKS]; /* per built-in check */
	char fingerprint[HASH_SHA256_HEX]; /* of the rule files' contents */
};

/*
 * Load every *.yaml file of dir (in name order), or one file.  On error
 * nothing is kept, the code is CL_ECONFIG (or CL_EIO, CL_ENOTFOUND) and
 * err_msg() reads "FILE:LINE:COLUMN: rule 'ID': why" (for a pattern, with
 * PCRE2's message and the offset in the pattern).
 */
int filter_set_load_dir(struct filter_set *fs, const char *dir);
int filter_set_load_file(struct filter_set *fs, const char *path);
/* From memory (name for messages); appends to fs, which must be
 * initialised with filter_set_init(). */
void filter_set_init(struct filter_set *fs);
int filter_set_add_buffer(struct filter_set *fs, const char *data, size_t len, const char *name);
/* Build the prefilter once every file is added (the loaders do it). */
int filter_set_finish(struct filter_set *fs);
void filter_set_release(struct filter_set *fs);

/* Set what the rule or built-in check of that id does (FILTER_REJECT,
 * FILTER_FLAG, FILTER_OFF): 0, or CL_ENOTFOUND when none has the id. */
int filter_set_action(struct filter_set *fs, const char *id, int action);

const char *filter_rule_id(const struct filter_set *fs, size_t i);
const char *filter_rule_description(const struct filter_set *fs, size_t i);
int filter_rule_action(const struct filter_set *fs, size_t i);

/* What filter_run() reads. */
struct filter_input {
	const char *original;
	const char *modified;
	const char *reasoning;        /* may be NULL */
	const char *const *questions; /* may be NULL when nquestions is 0 */
	size_t nquestions;
	const char *finish_reason;    /* may be NULL */
	int questions_expected;       /* stage 2 done: check the questions */
	int category;
};

/* Stage 3: what the judge said of a record (the answer stage's verdict). */
struct filter_judgement {
	int recovers;          /* the rewrite plus the answers specify the original's task */
	size_t ntargets;       /* questions judged */
	size_t targeted;       /* of them, those that ask about the change */
	int self_announced;
	int mentions_original;
	const char *reason;    /* the judge's line, may be NULL */
};

struct filter_result;

/* Add the judge-* verdicts the judgement calls for, each with its action
 * (off: none).  0 or CL_ENOMEM. */
int filter_judge(const struct filter_set *fs, const struct filter_judgement *j,
		 struct filter_result *out);

struct filter_verdict {
	char rule[64];                /* a rule id or a built-in check */
	int action;                   /* FILTER_REJECT or FILTER_FLAG */
	int field;                    /* FIELD_*, 0 for whole-record checks */
	char detail[192];             /* what matched, for auditors */
};

struct filter_result {
	struct filter_verdict *v;
	size_t n, cap;
	int rejected;                 /* any verdict with FILTER_REJECT */
};

void filter_result_init(struct filter_result *r);
void filter_result_reset(struct filter_result *r);
void filter_result_release(struct filter_result *r);
/* Add a verdict (once per rule and field), as the checks of other modules
 * do (the language-model bounds of stats/).  0 or CL_ENOMEM. */
int filter_result_add(struct filter_result *r, const char *rule, int action, int field,
		      const char *detail);

/* The verdicts as JSON: [{"rule", "action", "field", "detail"}]. */
json_t *filter_result_json(const struct filter_result *r);

/* Per-thread working memory of filter_run(). */
struct filter_scratch;
struct filter_scratch *filter_scratch_new(const struct filter_set *fs);
void filter_scratch_free(struct filter_scratch *s);

/*
 * Run every rule and check over in; verdicts are appended to out (one per
 * rule per field at most).  Returns 0, or CL_ENOMEM.
 */
int filter_run(const struct filter_set *fs, struct filter_scratch *s,
	       const struct filter_input *in, struct filter_result *out);

/* ---- the checks, for tests and the stats module (filters/checks.c) ---- */

/* Tokens by \w+|[^\w\s] (a UTF-8 multi-byte character counts as a word
 * character), compared in lower case.  Calls fn(tok, len, arg) with each
 * token's bytes as they are in text; returns the count. */
size_t filter_tokens(const char *text, void (*fn)(const char *, size_t, void *), void *arg);

#endif
