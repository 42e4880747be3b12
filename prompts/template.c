/* template.c - prompt templates: strict loading, rendering, reply parsing */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "prompt.h"

static const char *const stage_names[PROMPT_STAGES] = { "modify", "clarify", "answer" };

const char *prompt_stage_name(int stage)
{
	return stage >= 0 && stage < PROMPT_STAGES ? stage_names[stage] : "?";
}

static const struct {
	const char *name;
	unsigned bit;
	const char *tag;
} fields[] = {
	{ "reasoning", PROMPT_REASONING, "reasoning" },
	{ "modified_problem", PROMPT_MODIFIED, "modified_problem" },
	{ "questions", PROMPT_QUESTIONS, "questions" },
	{ "answers", PROMPT_ANSWERS, "answers" },
	{ "verdict", PROMPT_VERDICT, "verdict" },
};

static const char *const variables[] = { "original", "modified", "category", "starter_code",
					 "difficulty", "questions" };

void prompt_template_release(struct prompt_template *t)
{
	free(t->name);
	free(t->file);
	free(t->system);
	free(t->user);
	memset(t, 0, sizeof(*t));
}

struct loader {
	const char *name;
	const char *data;
	size_t len;
	yaml_document_t doc;
};

static int tpl_error(const struct loader *l, size_t line, size_t col, const char *fmt, ...)
	CL_PRINTF(4, 5);

static int tpl_error(const struct loader *l, size_t line, size_t col, const char *fmt, ...)
{
	char msg[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return err_set(CL_ECONFIG, "%s:%zu:%zu: %s", l->name, line, col, msg);
}

static int node_error(const struct loader *l, const yaml_node_t *n, const char *fmt, ...)
	CL_PRINTF(3, 4);

static int node_error(const struct loader *l, const yaml_node_t *n, const char *fmt, ...)
{
	char msg[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return tpl_error(l, n ? n->start_mark.line + 1 : 1, n ? n->start_mark.column + 1 : 1, "%s",
			 msg);
}

static const char *scalar(const yaml_node_t *n)
{
	return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

/*
 * Where byte off of a block scalar's value is in the file: its lines start
 * on the line after the scalar's indicator, each indented as in the file.
 */
static void value_position(const struct loader *l, const yaml_node_t *n, const char *value,
			   size_t off, size_t *line, size_t *col)
{
	size_t nl = 0, bol = 0, fline, fpos = 0, indent = 0;

	for (size_t i = 0; i < off; i++) {
		if (value[i] == '\n') {
			nl++;
			bol = i + 1;
		}
	}
	if (n->data.scalar.style == YAML_LITERAL_SCALAR_STYLE ||
	    n->data.scalar.style == YAML_FOLDED_SCALAR_STYLE) {
		fline = n->start_mark.line + 1 + nl;
		/* find that line in the file to learn its indentation */
		for (size_t k = 0, cur = 0; k < l->len && cur < fline; k++)
			if (l->data[k] == '\n' && ++cur == fline)
				fpos = k + 1;
		while (fpos + indent < l->len && l->data[fpos + indent] == ' ')
			indent++;
		*line = fline + 1;
		*col = indent + (off - bol) + 1;
	} else {
		*line = n->start_mark.line + 1 + nl;
		*col = (nl ? 0 : n->start_mark.column + 1) + (off - bol) + 1;
	}
}

static int is_name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_';
}

/* Every {{name}} of a message must be a known variable of this stage. */
static int check_variables(const struct loader *l, const yaml_node_t *n, const char *text,
			   int stage)
{
	for (const char *p = strstr(text, "{{"); p; p = strstr(p + 2, "{{")) {
		const char *e = strstr(p + 2, "}}");
		size_t line, col, len;
		size_t i;

		value_position(l, n, text, (size_t)(p - text), &line, &col);
		/* a name is a word: anything else before the '}}' (a line's end,
		 * another '{{') means this one was never closed */
		for (len = 0; is_name_char(p[2 + len]) || p[2 + len] == ' '; len++)
			;
		if (!e || p + 2 + len != e)
			return tpl_error(l, line, col, "unclosed '{{'");
		for (i = 0; i < CL_ARRAY_SIZE(variables); i++)
			if (strlen(variables[i]) == len && memcmp(variables[i], p + 2, len) == 0)
				break;
		if (i == CL_ARRAY_SIZE(variables))
			return tpl_error(l, line, col, "unknown variable '{{%.*s}}' (original, "
					 "modified, category, starter_code, difficulty, questions)",
					 (int)len, p + 2);
		if (strcmp(variables[i], "modified") == 0 && stage == PROMPT_MODIFY)
			return tpl_error(l, line, col, "'{{modified}}' exists in the clarify and answer "
					 "stages only");
		if (strcmp(variables[i], "questions") == 0 && stage != PROMPT_ANSWER)
			return tpl_error(l, line, col, "'{{questions}}' exists in the answer stage only");
	}
	return 0;
}

static int parse_params(struct loader *l, yaml_node_t *v, struct prompt_template *t)
{
	if (v->type != YAML_MAPPING_NODE)
		return node_error(l, v, "'%s' must be a mapping such as { temperature: 0.2 }",
				  "params");
	for (yaml_node_pair_t *p = v->data.mapping.pairs.start; p < v->data.mapping.pairs.top; p++) {
		yaml_node_t *kn = yaml_document_get_node(&l->doc, p->key);
		yaml_node_t *vn = yaml_document_get_node(&l->doc, p->value);
		const char *k = scalar(kn), *s = scalar(vn);
		double d;
		int64_t i;

		if (!k || !s)
			return node_error(l, kn, "%s", "params are names with numbers");
		if (strcmp(k, "temperature") == 0 || strcmp(k, "top_p") == 0) {
			if (parse_double(s, &d) || d < 0 || d > 2)
				return node_error(l, vn, "'%s' must be a number from 0 to 2", k);
			if (k[0] == 't')
				t->temperature = d;
			else
				t->top_p = d;
		} else if (strcmp(k, "max_tokens") == 0 || strcmp(k, "seed") == 0) {
			if (parse_i64(s, k[0] == 'm' ? 1 : 0, k[0] == 'm' ? 1 << 20 : INT64_MAX, &i))
				return node_error(l, vn, "'%s' must be a whole number in range", k);
			if (k[0] == 'm')
				t->max_tokens = i;
			else
				t->seed = i;
		} else {
			return node_error(l, kn, "unknown param '%s' (temperature, max_tokens, top_p, "
					  "seed)", k);
		}
	}
	return 0;
}

static int parse_outputs(struct loader *l, yaml_node_t *v, struct prompt_template *t)
{
	if (v->type != YAML_SEQUENCE_NODE)
		return node_error(l, v, "'%s' must be a list of fields", "output");
	for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top;
	     it++) {
		yaml_node_t *n = yaml_document_get_node(&l->doc, *it);
		const char *s = scalar(n);
		size_t i;

		for (i = 0; s && i < CL_ARRAY_SIZE(fields); i++)
			if (strcmp(s, fields[i].name) == 0)
				break;
		if (!s || i == CL_ARRAY_SIZE(fields))
			return node_error(l, n, "unknown output field '%s' (reasoning, "
					  "modified_problem, questions)", s ? s : "?");
		t->outputs |= fields[i].bit;
	}
	return 0;
}

static int set_text(char **dst, const char *s)
{
	free(*dst);
	*dst = strdup(s);
	return *dst ? 0 : CL_ENOMEM;
}

int prompt_template_load_buffer(struct prompt_template *t, const char *data, size_t len,
				const char *name)
{
	struct loader l = { .name = name, .data = data, .len = len };
	yaml_node_t *root, *system_node = NULL, *user_node = NULL;
	yaml_parser_t parser;
	unsigned seen = 0;
	int rc = 0;

	memset(t, 0, sizeof(*t));
	t->stage = -1;
	t->category = -1;
	t->temperature = -1;
	t->top_p = -1;
	t->seed = -1;
	if (!yaml_parser_initialize(&parser))
		return CL_ENOMEM;
	yaml_parser_set_input_string(&parser, (const unsigned char *)data, len);
	if (!yaml_parser_load(&parser, &l.doc)) {
		rc = tpl_error(&l, parser.problem_mark.line + 1, parser.problem_mark.column + 1, "%s",
			       yaml_problem(parser.problem, data, len, parser.problem_mark.line));
		yaml_parser_delete(&parser);
		return rc;
	}
	root = yaml_document_get_root_node(&l.doc);
	if (!root || root->type != YAML_MAPPING_NODE) {
		rc = node_error(&l, root, "%s", "a template is a mapping of name, version, stage, "
				"category, system, user, output");
		goto out;
	}
	for (yaml_node_pair_t *p = root->data.mapping.pairs.start;
	     !rc && p < root->data.mapping.pairs.top; p++) {
		static const char *const keys[] = { "name", "version", "stage", "category", "params",
						    "system", "user", "output" };
		yaml_node_t *kn = yaml_document_get_node(&l.doc, p->key);
		yaml_node_t *vn = yaml_document_get_node(&l.doc, p->value);
		const char *k = scalar(kn), *s = scalar(vn);
		size_t i;

		for (i = 0; k && i < CL_ARRAY_SIZE(keys); i++)
			if (strcmp(k, keys[i]) == 0)
				break;
		if (!k || i == CL_ARRAY_SIZE(keys)) {
			rc = node_error(&l, kn, "unknown key '%s' (name, version, stage, category, "
					"params, system, user, output)", k ? k : "?");
			break;
		}
		if (seen & (1u << i)) {
			rc = node_error(&l, kn, "duplicate key '%s'", k);
			break;
		}
		seen |= 1u << i;
		if (i != 4 && i != 7 && (!s || !*s)) {
			rc = node_error(&l, vn, "'%s' must be a non-empty text", k);
			break;
		}
		switch (i) {
		case 0:
			rc = set_text(&t->name, s);
			break;
		case 1:
			if (parse_i64(s, 1, INT64_MAX, &t->version))
				rc = node_error(&l, vn, "'%s' must be a positive whole number", k);
			break;
		case 2:
			t->stage = strcmp(s, "modify") == 0 ? PROMPT_MODIFY :
				   strcmp(s, "clarify") == 0 ? PROMPT_CLARIFY :
				   strcmp(s, "answer") == 0 ? PROMPT_ANSWER : -1;
			if (t->stage < 0)
				rc = node_error(&l, vn, "stage must be modify, clarify or answer, not '%s'",
						s);
			break;
		case 3:
			t->category = category_parse(s);
			if (t->category < 0)
				rc = node_error(&l, vn, "unknown category '%s' (ambiguous, inconsistent, "
						"incomplete)", s);
			break;
		case 4:
			rc = parse_params(&l, vn, t);
			break;
		case 5:
			rc = set_text(&t->system, s);
			system_node = vn;
			break;
		case 6:
			rc = set_text(&t->user, s);
			user_node = vn;
			break;
		case 7:
			rc = parse_outputs(&l, vn, t);
			break;
		}
	}
	if (!rc && (seen & 0xef) != 0xef) {
		static const char *const need[] = { "name", "version", "stage", "category", "",
						    "system", "user", "output" };

		for (int i = 0; i < 8; i++)
			if (i != 4 && !(seen & (1u << i))) {
				rc = node_error(&l, root, "missing '%s'", need[i]);
				break;
			}
	}
	if (!rc && t->stage == PROMPT_MODIFY && !(t->outputs & PROMPT_MODIFIED))
		rc = node_error(&l, root, "%s", "a modify template's output must include "
				"modified_problem");
	if (!rc && t->stage == PROMPT_CLARIFY && !(t->outputs & PROMPT_QUESTIONS))
		rc = node_error(&l, root, "%s", "a clarify template's output must include questions");
	if (!rc && t->stage == PROMPT_ANSWER &&
	    (t->outputs & (PROMPT_ANSWERS | PROMPT_VERDICT)) != (PROMPT_ANSWERS | PROMPT_VERDICT))
		rc = node_error(&l, root, "%s", "an answer template's output must include answers "
				"and verdict");
	if (!rc)
		rc = check_variables(&l, system_node, t->system, t->stage);
	if (!rc)
		rc = check_variables(&l, user_node, t->user, t->stage);
	if (!rc && !strstr(t->user, "{{original}}") && !strstr(t->system, "{{original}}"))
		rc = node_error(&l, user_node, "%s", "the template never shows '{{original}}'");
	if (!rc && t->stage != PROMPT_MODIFY && !strstr(t->user, "{{modified}}") &&
	    !strstr(t->system, "{{modified}}"))
		rc = node_error(&l, user_node, "a%s %s template must show '{{modified}}'",
				t->stage == PROMPT_ANSWER ? "n" : "", stage_names[t->stage]);
	if (!rc && t->stage == PROMPT_ANSWER && !strstr(t->user, "{{questions}}") &&
	    !strstr(t->system, "{{questions}}"))
		rc = node_error(&l, user_node, "%s", "an answer template must show '{{questions}}'");
	if (!rc)
		rc = set_text(&t->file, name);
	if (!rc)
		hash_sha256_hex(data, len, t->hash);
out:
	yaml_document_delete(&l.doc);
	yaml_parser_delete(&parser);
	if (rc)
		prompt_template_release(t);
	return rc;
}

/* ---- the set: six templates, nine with the answer stage ---------------------- */

void prompt_set_release(struct prompt_set *ps)
{
	for (int s = 0; s < PROMPT_STAGES; s++)
		for (int c = 0; c < CAT_COUNT; c++)
			prompt_template_release(&ps->t[s][c]);
	memset(ps, 0, sizeof(*ps));
}

const struct prompt_template *prompt_set_get(const struct prompt_set *ps, int stage, int cat)
{
	if (stage < 0 || stage >= PROMPT_STAGES || cat < 0 || cat >= CAT_COUNT)
		return NULL;
	return ps->t[stage][cat].name ? &ps->t[stage][cat] : NULL;
}

static int ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && strcmp(s + n - m, suffix) == 0;
}

int prompt_set_load_dir(struct prompt_set *ps, const char *dir)
{
	struct dirent *de;
	struct buf all;
	DIR *d;
	int rc = 0;

	memset(ps, 0, sizeof(*ps));
	d = opendir(dir);
	if (!d)
		return err_set(errno == ENOENT ? CL_ENOTFOUND : CL_EIO,
			       "cannot read template folder '%s': %s", dir, strerror(errno));
	for (;;) {
		struct prompt_template t;
		char path[4096];
		struct buf b;

		de = readdir(d);
		if (!de)
			break;
		if (de->d_name[0] == '.' || !ends_with(de->d_name, ".yaml"))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		buf_init(&b, 1 << 20);
		rc = file_read(path, &b);
		if (!rc)
			rc = prompt_template_load_buffer(&t, b.data ? b.data : "", b.len, path);
		buf_release(&b);
		if (rc)
			break;
		if (ps->t[t.stage][t.category].name) {
			rc = err_set(CL_ECONFIG, "%s: a second %s-%s template (the first is %s)", path,
				     stage_names[t.stage], category_name(t.category),
				     ps->t[t.stage][t.category].file);
			prompt_template_release(&t);
			break;
		}
		ps->t[t.stage][t.category] = t;
	}
	closedir(d);
	ps->stages = PROMPT_ANSWER;
	for (int c = 0; c < CAT_COUNT; c++)
		if (ps->t[PROMPT_ANSWER][c].name)
			ps->stages = PROMPT_STAGES; /* then all three must be there */
	for (int s = 0; !rc && s < ps->stages; s++)
		for (int c = 0; !rc && c < CAT_COUNT; c++)
			if (!ps->t[s][c].name)
				rc = err_set(CL_ECONFIG, "'%s' has no %s template for %s%s", dir,
					     stage_names[s], category_name(c),
					     s == PROMPT_ANSWER ? " (the answer stage needs all "
								  "three or none)" : "");
	if (rc) {
		prompt_set_release(ps);
		return rc;
	}
	buf_init(&all, 0);
	for (int s = 0; s < ps->stages; s++)
		for (int c = 0; c < CAT_COUNT; c++)
			buf_adds(&all, ps->t[s][c].hash);
	hash_sha256_hex(all.data, all.len, ps->fingerprint);
	buf_release(&all);
	return 0;
}

/* ---- rendering ------------------------------------------------------------- */

static int render_one(const char *tpl, const struct prompt_vars *v, struct buf *out)
{
	const char *p = tpl;

	for (;;) {
		const char *o = strstr(p, "{{"), *e, *val = "";
		size_t len;
		int rc;

		if (!o)
			return buf_adds(out, p);
		rc = buf_add(out, p, (size_t)(o - p));
		if (rc)
			return rc;
		e = strstr(o + 2, "}}");
		if (!e)
			return buf_adds(out, o); /* the loader refuses this */
		len = (size_t)(e - o - 2);
		if (len == 8 && memcmp(o + 2, "original", 8) == 0)
			val = v->original;
		else if (len == 8 && memcmp(o + 2, "modified", 8) == 0)
			val = v->modified;
		else if (len == 8 && memcmp(o + 2, "category", 8) == 0)
			val = category_name(v->category);
		else if (len == 12 && memcmp(o + 2, "starter_code", 12) == 0)
			val = v->starter_code;
		else if (len == 10 && memcmp(o + 2, "difficulty", 10) == 0)
			val = v->difficulty;
		else if (len == 9 && memcmp(o + 2, "questions", 9) == 0) {
			for (size_t i = 0; !rc && i < v->nquestions; i++)
				rc = buf_addf(out, "%s%zu. %s", i ? "\n" : "", i + 1, v->questions[i]);
		}
		if (!rc)
			rc = buf_adds(out, val ? val : "");
		if (rc)
			return rc;
		p = e + 2;
	}
}

int prompt_render(const struct prompt_template *t, const struct prompt_vars *v,
		  struct buf *system, struct buf *user)
{
	int rc = render_one(t->system, v, system);

	return rc ? rc : render_one(t->user, v, user);
}

/* ---- replies ----------------------------------------------------------------- */

void prompt_reply_release(struct prompt_reply *r)
{
	free(r->reasoning);
	free(r->modified);
	for (size_t i = 0; i < r->nquestions; i++)
		free(r->questions[i]);
	free(r->questions);
	for (size_t i = 0; i < r->nanswers; i++)
		free(r->answers[i]);
	free(r->answers);
	prompt_verdict_release(&r->verdict);
	memset(r, 0, sizeof(*r));
}

static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* The trimmed text between <tag> and </tag> (the last complete pair, as a
 * model may quote the tags in its reasoning), or NULL. */
char *prompt_tag_text(const char *reply, const char *tag)
{
	char open[64], close[64];
	const char *a = NULL, *b, *p;
	size_t n;
	char *out;

	snprintf(open, sizeof(open), "<%s>", tag);
	snprintf(close, sizeof(close), "</%s>", tag);
	for (p = strstr(reply, open); p; p = strstr(p + 1, open))
		if (strstr(p + strlen(open), close))
			a = p + strlen(open);
	if (!a)
		return NULL;
	b = strstr(a, close);
	while (a < b && is_space(*a))
		a++;
	while (b > a && is_space(b[-1]))
		b--;
	n = (size_t)(b - a);
	if (!n)
		return NULL;
	out = malloc(n + 1);
	if (out) {
		memcpy(out, a, n);
		out[n] = '\0';
	}
	return out;
}

/* One question a line; "- ", "* ", "1. ", "1) " markers go. */
static int split_questions(const char *text, struct prompt_reply *r)
{
	size_t cap = 0;
	const char *p = text;

	while (*p) {
		const char *e = strchr(p, '\n'), *a = p, *b;
		char *q;

		if (!e)
			e = p + strlen(p);
		b = e;
		while (a < b && is_space(*a))
			a++;
		if (a < b && (*a == '-' || *a == '*' || *a == '+') && a + 1 < b && a[1] == ' ')
			a += 2;
		else if (a < b && *a >= '0' && *a <= '9') {
			const char *d = a;

			while (d < b && *d >= '0' && *d <= '9')
				d++;
			if (d < b && (*d == '.' || *d == ')') && d + 1 < b && d[1] == ' ')
				a = d + 2;
		}
		while (b > a && is_space(b[-1]))
			b--;
		p = *e ? e + 1 : e;
		if (a == b)
			continue;
		if (ARRAY_GROW(r->questions, cap, r->nquestions, 8))
			return CL_ENOMEM;
		q = malloc((size_t)(b - a) + 1);
		if (!q)
			return CL_ENOMEM;
		memcpy(q, a, (size_t)(b - a));
		q[b - a] = '\0';
		r->questions[r->nquestions++] = q;
	}
	return 0;
}

int prompt_parse_reply(const struct prompt_template *t, const char *reply,
		       struct prompt_reply *out)
{
	char *q;
	int rc;

	if (t->stage == PROMPT_ANSWER)
		return prompt_parse_answers(t, reply, 0, out);
	prompt_reply_release(out);
	if (!reply)
		return err_set(CL_EPARSE, "empty reply");
	if (t->outputs & PROMPT_REASONING)
		out->reasoning = prompt_tag_text(reply, "reasoning"); /* optional in practice */
	if (t->outputs & PROMPT_MODIFIED) {
		out->modified = prompt_tag_text(reply, "modified_problem");
		if (!out->modified)
			return err_set(CL_EPARSE, "the reply has no <modified_problem>");
	}
	if (t->outputs & PROMPT_QUESTIONS) {
		q = prompt_tag_text(reply, "questions");
		if (!q)
			return err_set(CL_EPARSE, strstr(reply, "<questions>") ? "empty <questions>" :
					   "the reply has no <questions>");
		rc = split_questions(q, out);
		free(q);
		if (rc)
			return rc;
		if (!out->nquestions)
			return err_set(CL_EPARSE, "empty <questions>");
	}
	return 0;
}
