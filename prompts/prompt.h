/*
 * prompt.h - the prompt templates (prompts/NAME.yaml): one per stage and
 * category, loaded strictly, rendered with the problem's variables, and
 * the parser of the tagged replies they ask for.
 *
 *   name: modify-ambiguous
 *   version: 3
 *   stage: modify            # modify | clarify
 *   category: ambiguous
 *   params: { temperature: 0.2, max_tokens: 2048 }   # also top_p, seed
 *   system: |
 *     ...
 *   user: |
 *     ... {{original}} ...
 *   output: [reasoning, modified_problem]
 *
 * Variables: {{original}}, {{modified}} (clarify stage only), {{category}},
 * {{starter_code}}, {{difficulty}}.  Output fields: reasoning,
 * modified_problem (modify stage), questions (clarify stage), each asked
 * for between <field> and </field>.
 */
#ifndef CLARIFY_PROMPT_H
#define CLARIFY_PROMPT_H

#include "../common/common.h"

enum prompt_stage { PROMPT_MODIFY, PROMPT_CLARIFY, PROMPT_STAGES };

enum prompt_field {
	PROMPT_REASONING = 1,
	PROMPT_MODIFIED = 2,   /* <modified_problem> */
	PROMPT_QUESTIONS = 4,
};

struct prompt_template {
	char *name;
	char *file;
	int64_t version;
	int stage;               /* PROMPT_MODIFY or PROMPT_CLARIFY */
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

/* The six templates, one per stage and category. */
struct prompt_set {
	struct prompt_template t[PROMPT_STAGES][CAT_COUNT];
	char fingerprint[HASH_SHA256_HEX]; /* of the six hashes */
};

/* Load every *.yaml of dir; all six (stage, category) pairs must be there,
 * once each.  On error nothing is kept. */
int prompt_set_load_dir(struct prompt_set *ps, const char *dir);
void prompt_set_release(struct prompt_set *ps);
const struct prompt_template *prompt_set_get(const struct prompt_set *ps, int stage, int cat);

struct prompt_vars {
	const char *original;
	const char *modified;    /* clarify stage */
	const char *starter_code;
	const char *difficulty;
	int category;
};

/* Render the system and user messages (appended to the buffers). */
int prompt_render(const struct prompt_template *t, const struct prompt_vars *v,
		  struct buf *system, struct buf *user);

/* What a reply holds: each field's text (trimmed, malloc'd) and the
 * questions one an item, list markers stripped. */
struct prompt_reply {
	char *reasoning;
	char *modified;
	char **questions;
	size_t nquestions;
};

/*
 * Take the fields t asks for out of reply.  CL_EPARSE with the missing
 * field's name in err_msg() when one is absent or empty (the caller asks
 * again).  out is released and filled anew.
 */
int prompt_parse_reply(const struct prompt_template *t, const char *reply,
		       struct prompt_reply *out);
void prompt_reply_release(struct prompt_reply *r);

#endif
