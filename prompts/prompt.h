/*
 * prompt.h - the prompt templates (prompts/NAME.yaml): one per stage and
 * category, loaded strictly, rendered with the problem's variables, and
 * the parser of the tagged replies they ask for.
 *
 *   name: modify-ambiguous
 *   version: 3
 *   stage: modify            # modify | clarify | answer
 *   category: ambiguous
 *   params: { temperature: 0.2, max_tokens: 2048 }   # also top_p, seed
 *   system: |
 *     ...
 *   user: |
 *     ... {{original}} ...
 *   output: [reasoning, modified_problem]
 *
 * Variables: {{original}}, {{modified}} (clarify and answer stages),
 * {{questions}} (answer stage: the questions numbered, one a line),
 * {{category}}, {{starter_code}}, {{difficulty}}.  Output fields:
 * reasoning, modified_problem (modify stage), questions (clarify stage),
 * answers and verdict (answer stage), each asked for between <field> and
 * </field>.
 *
 * The answer stage (stage 3) answers each question from the original only
 * and judges the record: its <verdict> is a JSON object
 *
 *   { "recovers": true, "targets_change": [true, false], "self_announced": false,
 *     "mentions_original": false, "reason": "one line" }
 */
#ifndef CLARIFY_PROMPT_H
#define CLARIFY_PROMPT_H

#include "../common/common.h"

enum prompt_stage { PROMPT_MODIFY, PROMPT_CLARIFY, PROMPT_ANSWER, PROMPT_STAGES };

enum prompt_field {
	PROMPT_REASONING = 1,
	PROMPT_MODIFIED = 2,   /* <modified_problem> */
	PROMPT_QUESTIONS = 4,
	PROMPT_ANSWERS = 8,
	PROMPT_VERDICT = 16,
};

const char *prompt_stage_name(int stage); /* "modify", "clarify", "answer" */

struct prompt_template {
	char *name;
	char *file;
	int64_t version;
	int stage;               /* PROMPT_MODIFY, PROMPT_CLARIFY or PROMPT_ANSWER */
	int category;            /* CAT_* */
	double temperature;      /* < 0: not set */
	int64_t max_tokens;      /* <= 0: not set */
	double top_p;            /* < 0: not set */
	int64_t seed;            /* < 0: not set */
	char *system;
	char *user;
	unsigned outputs;        /* PROMPT_* fields the reply must hold */
	char hash[HASH_SHA256_HEX]; /* of the file's bytes */
};

void prompt_template_release(struct prompt_template *t);

/*
 * Load one template.  A malformed file, an unknown key, a missing field, an
 * unknown variable or output field, or a variable of the wrong stage is
 * refused with CL_ECONFIG and "FILE:LINE:COLUMN: why" in err_msg().
 */
int prompt_template_load_buffer(struct prompt_template *t, const char *data, size_t len,
				const char *name);

/* The templates, one per stage and category. */
struct prompt_set {
	struct prompt_template t[PROMPT_STAGES][CAT_COUNT];
	int stages;                        /* 2, or 3 with the answer stage */
	char fingerprint[HASH_SHA256_HEX]; /* of the hashes, stage by stage */
};

/* Load every *.yaml of dir; the six modify and clarify templates must be
 * there, once each, and the answer stage's three either all or none (a
 * set without them has the fingerprint it had before stage 3 existed).
 * On error nothing is kept. */
int prompt_set_load_dir(struct prompt_set *ps, const char *dir);
void prompt_set_release(struct prompt_set *ps);
const struct prompt_template *prompt_set_get(const struct prompt_set *ps, int stage, int cat);

struct prompt_vars {
	const char *original;
	const char *modified;    /* clarify and answer stages */
	const char *const *questions; /* answer stage */
	size_t nquestions;
	const char *starter_code;
	const char *difficulty;
	int category;
};

/* Render the system and user messages (appended to the buffers). */
int prompt_render(const struct prompt_template *t, const struct prompt_vars *v,
		  struct buf *system, struct buf *user);

/* The judge's verdict on a record (the answer stage's <verdict>). */
struct prompt_verdict {
	int recovers;          /* the rewrite plus the answers specify the original's task */
	int *targets_change;   /* per question: it asks about what was changed */
	size_t ntargets;
	int self_announced;    /* the rewrite talks about its own ambiguity */
	int mentions_original; /* the rewrite refers to an original version */
	char *reason;          /* one line */
};

/* What a reply holds: each field's text (trimmed, malloc'd), the
 * questions and the answers one an item, list markers stripped, and the
 * verdict (has_verdict) when the template asks for one. */
struct prompt_reply {
	char *reasoning;
	char *modified;
	char **questions;
	size_t nquestions;
	char **answers;
	size_t nanswers;
	struct prompt_verdict verdict;
	int has_verdict;
};

/*
 * Take the fields t asks for out of reply.  CL_EPARSE with the missing
 * field's name in err_msg() when one is absent or empty (the caller asks
 * again).  out is released and filled anew.
 */
int prompt_parse_reply(const struct prompt_template *t, const char *reply,
		       struct prompt_reply *out);

/*
 * The answer stage's reply to nquestions questions: <answers> with one
 * answer per question, in order ("1. ..." items; a line without a marker
 * continues the answer before it), and a <verdict> JSON object with every
 * key of struct prompt_verdict of the right type and targets_change as
 * long as the questions.  Any other shape is CL_EPARSE with the reason
 * (the caller asks again, then fails the job with it).
 */
int prompt_parse_answers(const struct prompt_template *t, const char *reply, size_t nquestions,
			 struct prompt_reply *out);

/* The verdict alone: text is the JSON between <verdict> and </verdict>
 * (a ```json fence around it is allowed).  0, or CL_EPARSE with why. */
int prompt_parse_verdict(const char *text, size_t nquestions, struct prompt_verdict *v);
void prompt_verdict_release(struct prompt_verdict *v);
void prompt_reply_release(struct prompt_reply *r);

/* The trimmed text between the last complete <tag> and </tag> of reply
 * (malloc'd), or NULL when there is none or it is empty. */
char *prompt_tag_text(const char *reply, const char *tag);

#endif
