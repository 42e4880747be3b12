/*
 * offline_rules.c - the offline provider's rule file (llm/offline.yaml):
 * the questions per edit, the reasoning, the questions of last resort,
 * the words of a blurred bound.
 * Read with libyaml's document API; a bad file is refused with its line
 * and the reason.  The shipped file is built into the program (below) and
 * read once, at the first reply or when clarifyd checks it at start.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <yaml.h>

#include "offline_int.h"

/*
 * The shipped llm/offline.yaml, built in so that the provider needs no
 * file at run time: the assembler copies it into the object (.incbin, as
 * gcc and clang both do; make compiles from the repository root, and the
 * Makefile makes this object depend on the file).
 */
__asm__(".section .rodata\n"
	".global off_rules_text\n"
	"off_rules_text:\n"
	".incbin \"llm/offline.yaml\"\n"
	".byte 0\n"
	".previous\n");
extern const char off_rules_text[];

static const char *const kind_names[EK_COUNT] = {
	[EK_DROP_BOUND] = "drop-bound", [EK_DROP_SENT] = "drop-sentence",
	[EK_DROP_GENERIC] = "drop-generic", [EK_VAGUE_BOUND] = "vague-bound",
	[EK_VAGUE_ATMOST] = "vague-at-most", [EK_VAGUE_ATLEAST] = "vague-at-least",
	[EK_VAGUE_SORTED] = "vague-sorted", [EK_VAGUE_EXACTLY] = "vague-exactly",
	[EK_VAGUE_DISTINCT] = "vague-distinct", [EK_VAGUE_BEST] = "vague-best",
	[EK_VAGUE_MODULO] = "vague-modulo", [EK_VAGUE_LEX] = "vague-lex",
	[EK_VAGUE_INDEXED] = "vague-indexed", [EK_VAGUE_INTEGER] = "vague-integer",
	[EK_VAGUE_CASE] = "vague-case", [EK_VAGUE_SIGN] = "vague-sign",
	[EK_VAGUE_VALUE] = "vague-value", [EK_VAGUE_GENERIC] = "vague-generic",
	[EK_CONFLICT_OUTPUT] = "conflict-output", [EK_CONFLICT_NOTE] = "conflict-note",
	[EK_CONFLICT_BOUND] = "conflict-bound", [EK_CONFLICT_VALUE] = "conflict-value",
	[EK_CONFLICT_APPEND] = "conflict-append", [EK_CONFLICT_GENERIC] = "conflict-generic",
};

/* the classes of the kinds that have them, in the order of their enums */
static const char *const sent_classes[] = { "none", "guarantee-answer", "guarantee", "modulo",
					    "distinct", "limit", "order", "if", "each", "relation",
					    NULL };
static const char *const best_classes[] = { "minmax", "size", "length", "count", NULL };
static const char *const append_classes[] = { "program", "function", NULL };

static const char *const *classes_of(int kind)
{
	return kind == EK_DROP_SENT ? sent_classes : kind == EK_VAGUE_BEST ? best_classes :
	       kind == EK_CONFLICT_APPEND ? append_classes : NULL;
}

static const char *const cond_names[] = { "var", "what", "example", "lines" };
static const char *const vague_names[] = { "paren", "paren_plural", "singular", "plural" };

struct loader {
	yaml_document_t doc;
	const char *name;
	struct off_rules *r;
};

static int bad(const struct loader *l, const yaml_node_t *n, const char *fmt, ...) CL_PRINTF(3, 4);

static int bad(const struct loader *l, const yaml_node_t *n, const char *fmt, ...)
{
	char msg[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return err_set(CL_ECONFIG, "%s:%zu: %s", l->name, n ? n->start_mark.line + 1 : 1, msg);
}

static const char *scalar(const yaml_node_t *n)
{
	return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

static yaml_node_t *node(const struct loader *l, int id)
{
	return yaml_document_get_node((yaml_document_t *)&l->doc, id);
}

static int find_name(const char *const *names, size_t n, const char *s)
{
	for (size_t i = 0; i < n && names[i]; i++)
		if (strcmp(names[i], s) == 0)
			return (int)i;
	return -1;
}

/* A text of the file: fills checked, kept for the life of the rules. */
static int text(const struct loader *l, const yaml_node_t *n, const char *what, char **out)
{
	const char *s = scalar(n);

	if (!s || !*s)
		return bad(l, n, "%s must be a text", what);
	if (strlen(s) > 200)
		return bad(l, n, "%s is over 200 bytes", what);
	for (const char *p = strchr(s, '{'); p; p = strchr(p + 1, '{'))
		if (!p[1] || !strchr("vwxXk", p[1]) || p[2] != '}')
			return bad(l, n, "%s: unknown fill '%.3s' (fills are {v}, {w}, {x}, {X}, {k})",
				   what, p);
	*out = strdup(s);
	return *out ? 0 : CL_ENOMEM;
}

static int conditions(const struct loader *l, const yaml_node_t *n, unsigned *out)
{
	if (n->type != YAML_SEQUENCE_NODE)
		return bad(l, n, "conditions are a list of var, what, example, lines");
	for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top;
	     it++) {
		const yaml_node_t *c = node(l, *it);
		const char *s = scalar(c);
		int k = s ? find_name(cond_names, CL_ARRAY_SIZE(cond_names), s) : -1;

		if (k < 0)
			return bad(l, c, "unknown condition '%s' (var, what, example, lines)",
				   s ? s : "?");
		*out |= 1u << k;
	}
	return 0;
}

/* ask: [[wording, ...], [wording, ...]] */
static int asks(const struct loader *l, const yaml_node_t *n, struct off_rule *e)
{
	if (n->type != YAML_SEQUENCE_NODE)
		return bad(l, n, "'ask' is a list of one or two questions, each a list of wordings");
	for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top;
	     it++) {
		const yaml_node_t *q = node(l, *it);
		int k = 0, rc;

		if (e->nask == 2)
			return bad(l, q, "at most two questions per entry");
		if (q->type != YAML_SEQUENCE_NODE || q->data.sequence.items.start ==
							     q->data.sequence.items.top)
			return bad(l, q, "a question is a list of one to three wordings");
		for (yaml_node_item_t *w = q->data.sequence.items.start;
		     w < q->data.sequence.items.top; w++, k++) {
			if (k == 3)
				return bad(l, node(l, *w), "at most three wordings per question");
			rc = text(l, node(l, *w), "a wording", &e->ask[e->nask][k]);
			if (rc)
				return rc;
		}
		e->nask++;
	}
	if (!e->nask)
		return bad(l, n, "'ask' has no question");
	return 0;
}

/* One entry of questions (say == 0) or reasoning (say == 1). */
static int entry(const struct loader *l, const yaml_node_t *n, int say, struct off_rule *e)
{
	const yaml_node_t *cls = NULL;
	int rc = 0, have = 0;

	memset(e, 0, sizeof(*e));
	e->kind = -2;
	e->cls = -1;
	e->line = n->start_mark.line + 1;
	if (n->type != YAML_MAPPING_NODE)
		return bad(l, n, "an entry is a mapping of edit, class, when, unless and %s",
			   say ? "say" : "ask");
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top && !rc;
	     p++) {
		const yaml_node_t *k = node(l, p->key), *v = node(l, p->value);
		const char *key = scalar(k), *s = scalar(v);

		if (!key) {
			rc = bad(l, k, "keys must be names");
		} else if (strcmp(key, "edit") == 0) {
			int kn = s ? find_name(kind_names, EK_COUNT, s) : -1;

			e->kind = s && strcmp(s, "any") == 0 ? -1 : kn >= 0 ? kn : -2;
			if (e->kind == -2)
				rc = bad(l, v, "unknown edit '%s' (see the list at the top of the file)",
					 s ? s : "?");
		} else if (strcmp(key, "class") == 0) {
			cls = v;
		} else if (strcmp(key, "when") == 0) {
			rc = conditions(l, v, &e->when);
		} else if (strcmp(key, "unless") == 0) {
			rc = conditions(l, v, &e->unless);
		} else if (!say && strcmp(key, "ask") == 0) {
			rc = asks(l, v, e);
			have = 1;
		} else if (say && strcmp(key, "say") == 0) {
			rc = text(l, v, "'say'", &e->say);
			have = 1;
		} else {
			rc = bad(l, k, "unknown key '%s' (edit, class, when, unless, %s)", key,
				 say ? "say" : "ask");
		}
	}
	if (rc)
		return rc;
	if (e->kind == -2)
		return bad(l, n, "an entry without 'edit'");
	if (!have)
		return bad(l, n, "an entry without '%s'", say ? "say" : "ask");
	if (cls) {
		const char *const *names = e->kind >= 0 ? classes_of(e->kind) : NULL;
		const char *s = scalar(cls);

		if (!names)
			return bad(l, cls, "edit '%s' has no classes",
				   e->kind >= 0 ? kind_names[e->kind] : "any");
		e->cls = s ? find_name(names, 16, s) : -1;
		if (e->cls < 0)
			return bad(l, cls, "unknown class '%s' of edit '%s'", s ? s : "?",
				   kind_names[e->kind]);
	}
	return 0;
}

static int list(const struct loader *l, const yaml_node_t *n, int say, struct off_rule **out,
		size_t *count)
{
	size_t cap = 0;

	if (n->type != YAML_SEQUENCE_NODE)
		return bad(l, n, "'%s' is a list of entries", say ? "reasoning" : "questions");
	for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top;
	     it++) {
		int rc = ARRAY_GROW(*out, cap, *count, 32);

		if (rc)
			return rc;
		rc = entry(l, node(l, *it), say, &(*out)[*count]);
		(*count)++;
		if (rc)
			return rc;
	}
	return 0;
}

/* Every kind must meet an entry without conditions, its own or an any. */
static int complete(const struct loader *l, const yaml_node_t *n, const struct off_rule *v,
		    size_t count, const char *what)
{
	for (int k = 0; k < EK_COUNT; k++) {
		size_t i;

		for (i = 0; i < count; i++)
			if ((v[i].kind == k || v[i].kind == -1) && v[i].cls < 0 && !v[i].when &&
			    !v[i].unless)
				break;
		if (i == count)
			return bad(l, n, "%s: edit '%s' has no entry without conditions (nor has 'any')",
				   what, kind_names[k]);
	}
	return 0;
}

/* vague_bounds: four lists of the same length, 1 to 8 */
static int vague(const struct loader *l, const yaml_node_t *n, struct off_rules *r)
{
	size_t len[4] = { 0 };
	int seen = 0;

	if (n->type != YAML_MAPPING_NODE)
		return bad(l, n, "'vague_bounds' is a mapping of paren, paren_plural, singular, plural");
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
		const yaml_node_t *k = node(l, p->key), *v = node(l, p->value);
		const char *key = scalar(k);
		int c = key ? find_name(vague_names, 4, key) : -1;

		if (c < 0)
			return bad(l, k, "unknown key '%s' (paren, paren_plural, singular, plural)",
				   key ? key : "?");
		if (seen & (1 << c))
			return bad(l, k, "duplicate key '%s'", key);
		seen |= 1 << c;
		if (v->type != YAML_SEQUENCE_NODE)
			return bad(l, v, "'%s' is a list of phrases", key);
		for (yaml_node_item_t *it = v->data.sequence.items.start;
		     it < v->data.sequence.items.top; it++) {
			int rc;

			if (len[c] == 8)
				return bad(l, node(l, *it), "'%s' has more than 8 phrases", key);
			rc = text(l, node(l, *it), "a phrase", &r->vague[c][len[c]]);
			if (rc)
				return rc;
			len[c]++;
		}
	}
	if (seen != 15)
		return bad(l, n, "'vague_bounds' needs paren, paren_plural, singular and plural");
	if (!len[0] || len[1] != len[0] || len[2] != len[0] || len[3] != len[0])
		return bad(l, n, "the lists of 'vague_bounds' must be as long as each other (%zu, %zu, "
			   "%zu, %zu)", len[0], len[1], len[2], len[3]);
	r->nvague = len[0];
	return 0;
}

void off_rules_free(struct off_rules *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->nq; i++)
		for (int a = 0; a < 2; a++)
			for (int w = 0; w < 3; w++)
				free(r->q[i].ask[a][w]);
	for (size_t i = 0; i < r->nwhy; i++)
		free(r->why[i].say);
	for (size_t i = 0; i < r->ngeneric; i++)
		free(r->generic[i]);
	free(r->q);
	free(r->why);
	free(r->generic);
	free(r->close);
	for (int c = 0; c < 4; c++)
		for (int i = 0; i < 8; i++)
			free(r->vague[c][i]);
	for (int j = 0; j < 2; j++) {
		for (size_t i = 0; i < r->njudge[j]; i++)
			free(r->judge[j][i]);
		free(r->judge[j]);
	}
	free(r);
}

/* judge: { self_announced: [phrase, ...], mentions_original: [phrase, ...] },
 * each phrase lower case, matched on word boundaries */
static int judge(const struct loader *l, const yaml_node_t *n, struct off_rules *r)
{
	static const char *const names[2] = { "self_announced", "mentions_original" };

	if (n->type != YAML_MAPPING_NODE)
		return bad(l, n, "'judge' is a mapping of self_announced and mentions_original");
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
		const yaml_node_t *k = node(l, p->key), *v = node(l, p->value);
		const char *key = scalar(k);
		int j = key ? find_name(names, 2, key) : -1;
		size_t cap = 0;

		if (j < 0)
			return bad(l, k, "unknown key '%s' (self_announced, mentions_original)",
				   key ? key : "?");
		if (r->njudge[j])
			return bad(l, k, "duplicate key '%s'", key);
		if (v->type != YAML_SEQUENCE_NODE ||
		    v->data.sequence.items.start == v->data.sequence.items.top)
			return bad(l, v, "'%s' is a list of at least one phrase", key);
		for (yaml_node_item_t *it = v->data.sequence.items.start;
		     it < v->data.sequence.items.top; it++) {
			const yaml_node_t *e = node(l, *it);
			int rc = ARRAY_GROW(r->judge[j], cap, r->njudge[j], 8);

			if (rc)
				return rc;
			r->judge[j][r->njudge[j]] = NULL;
			rc = text(l, e, "a phrase", &r->judge[j][r->njudge[j]]);
			r->njudge[j]++;
			if (rc)
				return rc;
			for (const char *c = r->judge[j][r->njudge[j] - 1]; *c; c++)
				if (*c >= 'A' && *c <= 'Z')
					return bad(l, e, "a phrase of '%s' is written in lower case", key);
		}
	}
	return 0;
}

int off_rules_parse(const char *data, size_t len, const char *name, struct off_rules **out)
{
	struct loader l = { .name = name };
	yaml_parser_t parser;
	yaml_node_t *root, *qs = NULL, *why = NULL, *gen = NULL, *close = NULL, *vb = NULL, *jg = NULL;
	size_t gcap = 0;
	int rc = 0;

	*out = NULL;
	l.r = calloc(1, sizeof(*l.r));
	if (!l.r || !yaml_parser_initialize(&parser)) {
		free(l.r);
		return CL_ENOMEM;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)data, len);
	if (!yaml_parser_load(&parser, &l.doc)) {
		rc = err_set(CL_ECONFIG, "%s:%zu: %s", name, parser.problem_mark.line + 1,
			     yaml_problem(parser.problem, data, len, parser.problem_mark.line));
		yaml_parser_delete(&parser);
		free(l.r);
		return rc;
	}
	root = yaml_document_get_root_node(&l.doc);
	if (!root || root->type != YAML_MAPPING_NODE) {
		rc = bad(&l, root, "expected a mapping of questions, generic_questions, reasoning "
				   "and reasoning_close");
		goto out;
	}
	for (yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *k = node(&l, p->key), *v = node(&l, p->value);
		const char *key = scalar(k);
		yaml_node_t **slot = !key ? NULL : strcmp(key, "questions") == 0 ? &qs :
				     strcmp(key, "reasoning") == 0 ? &why :
				     strcmp(key, "generic_questions") == 0 ? &gen :
				     strcmp(key, "reasoning_close") == 0 ? &close :
				     strcmp(key, "vague_bounds") == 0 ? &vb :
				     strcmp(key, "judge") == 0 ? &jg : NULL;

		if (!slot) {
			rc = bad(&l, k, "unknown key '%s' (questions, generic_questions, reasoning, "
					"reasoning_close, vague_bounds, judge)", key ? key : "?");
			goto out;
		}
		if (*slot) {
			rc = bad(&l, k, "duplicate key '%s'", key);
			goto out;
		}
		*slot = v;
	}
	if (qs)
		rc = list(&l, qs, 0, &l.r->q, &l.r->nq);
	if (!rc && why)
		rc = list(&l, why, 1, &l.r->why, &l.r->nwhy);
	if (!rc && gen && (gen->type != YAML_SEQUENCE_NODE ||
			   gen->data.sequence.items.start == gen->data.sequence.items.top))
		rc = bad(&l, gen, "'generic_questions' is a list of at least one question");
	for (yaml_node_item_t *it = rc || !gen ? NULL : gen->data.sequence.items.start;
	     it && it < gen->data.sequence.items.top && !rc; it++) {
		rc = ARRAY_GROW(l.r->generic, gcap, l.r->ngeneric, 8);
		if (!rc) {
			l.r->generic[l.r->ngeneric] = NULL;
			rc = text(&l, node(&l, *it), "a generic question", &l.r->generic[l.r->ngeneric]);
			l.r->ngeneric++;
		}
	}
	if (!rc && close)
		rc = text(&l, close, "'reasoning_close'", &l.r->close);
	if (!rc && vb)
		rc = vague(&l, vb, l.r);
	if (!rc && jg)
		rc = judge(&l, jg, l.r);
	if (!rc && (!qs || !why || !gen || !close || !vb))
		rc = bad(&l, root, "missing '%s'", !qs ? "questions" : !why ? "reasoning" :
				   !gen ? "generic_questions" : !close ? "reasoning_close" :
				   "vague_bounds");
	if (!rc)
		rc = complete(&l, qs, l.r->q, l.r->nq, "questions");
	if (!rc)
		rc = complete(&l, why, l.r->why, l.r->nwhy, "reasoning");
out:
	yaml_document_delete(&l.doc);
	yaml_parser_delete(&parser);
	if (rc) {
		off_rules_free(l.r);
		return rc;
	}
	*out = l.r;
	return 0;
}

static int cond_holds(const struct edit *e, int k)
{
	switch (k) {
	case 0: return e->var[0] != '\0';
	case 1: return e->what[0] != '\0';
	case 2: return e->ex != 0;
	default: return e->exlines > 1 && e->exline > 0;
	}
}

const struct off_rule *off_rules_find(const struct off_rule *v, size_t n, const struct edit *e)
{
	for (size_t i = 0; i < n; i++) {
		int ok = (v[i].kind == e->kind || v[i].kind == -1) && (v[i].cls < 0 || v[i].cls == e->cls);

		for (int k = 0; ok && k < (int)CL_ARRAY_SIZE(cond_names); k++) {
			if ((v[i].when & (1u << k)) && !cond_holds(e, k))
				ok = 0;
			if ((v[i].unless & (1u << k)) && cond_holds(e, k))
				ok = 0;
		}
		if (ok)
			return &v[i];
	}
	return NULL;
}

static pthread_once_t shipped_once = PTHREAD_ONCE_INIT;
static struct off_rules *shipped;
static int shipped_rc;
static char shipped_err[512];

static void shipped_load(void)
{
	shipped_rc = off_rules_parse(off_rules_text, strlen(off_rules_text), "llm/offline.yaml",
				     &shipped);
	if (shipped_rc)
		snprintf(shipped_err, sizeof(shipped_err), "%s", err_msg(shipped_rc));
}

const struct off_rules *off_rules_shipped(void)
{
	pthread_once(&shipped_once, shipped_load);
	if (shipped_rc)
		err_set(shipped_rc, "the offline provider's rules: %s", shipped_err);
	return shipped;
}

int llm_offline_check(void)
{
	return off_rules_shipped() ? 0 : shipped_rc;
}

int llm_offline_check_text(const char *data, size_t len, const char *name)
{
	struct off_rules *r;
	int rc = off_rules_parse(data, len, name, &r);

	off_rules_free(r);
	return rc;
}
