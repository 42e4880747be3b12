/* rules.c - rule files: YAML in, PCRE2 patterns compiled (JIT when allowed) */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <dirent.h>
#include <errno.h>
#include <pcre2.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "filter_int.h"

void filter_limits_default(struct filter_limits *l)
{
	l->leak_ngram = 5;
	l->drift_min_overlap = 0.2;
	l->drift_min_content = 0.3;
	l->max_line_repeats = 4;
	l->max_ngram_repeat = 0.4;
	l->min_questions = 1;
	l->max_questions = 20;
}

const char *const filter_checks[FILTER_NCHECKS] = {
	"unchanged", "drift", "hidden-leak", "repeated-lines", "repeated-ngrams",
	"repeated-questions", "empty", "truncated", "no-questions", "not-a-question",
	"inline-commentary", "invalid-utf8", "judge-not-recovered", "judge-off-target",
	"judge-self-announced", "judge-mentions-original", "near-duplicate",
};

int filter_action_parse(const char *s)
{
	if (strcmp(s, "reject") == 0)
		return FILTER_REJECT;
	if (strcmp(s, "flag") == 0 || strcmp(s, "soft") == 0)
		return FILTER_FLAG;
	if (strcmp(s, "off") == 0)
		return FILTER_OFF;
	return -1;
}

const char *filter_action_name(int a)
{
	return a == FILTER_REJECT ? "reject" : a == FILTER_FLAG ? "flag" : "off";
}

int filter_check_index(const char *id)
{
	for (int i = 0; i < FILTER_NCHECKS; i++)
		if (strcmp(filter_checks[i], id) == 0)
			return i;
	return -1;
}

int filter_set_action(struct filter_set *fs, const char *id, int action)
{
	int k = filter_check_index(id);

	if (k >= 0) {
		fs->check_action[k] = (signed char)action;
		return 0;
	}
	for (size_t i = 0; i < fs->n; i++)
		if (strcmp(fs->rules[i].id, id) == 0) {
			fs->rules[i].action = action;
			return 0;
		}
	return CL_ENOTFOUND;
}

void filter_set_init(struct filter_set *fs)
{
	memset(fs, 0, sizeof(*fs));
	filter_limits_default(&fs->limits);
	fs->jit = 1;
	/* FILTER_REJECT is 0: every check rejects until told otherwise */
}

static void rule_release(struct filter_rule *r)
{
	free(r->id);
	free(r->description);
	free(r->file);
	for (size_t i = 0; i < r->nkeywords; i++)
		free(r->keywords[i]);
	free(r->keywords);
	for (size_t i = 0; i < r->nalso; i++)
		free(r->also[i]);
	free(r->also);
	pcre2_code_free(r->re);
}

void filter_set_release(struct filter_set *fs)
{
	for (size_t i = 0; i < fs->n; i++)
		rule_release(&fs->rules[i]);
	free(fs->rules);
	filter_keywords_free(fs->keywords);
	memset(fs, 0, sizeof(*fs));
}

const char *filter_rule_id(const struct filter_set *fs, size_t i)
{
	return i < fs->n ? fs->rules[i].id : "?";
}

const char *filter_rule_description(const struct filter_set *fs, size_t i)
{
	return i < fs->n ? fs->rules[i].description : "?";
}

int filter_rule_action(const struct filter_set *fs, size_t i)
{
	return i < fs->n ? fs->rules[i].action : FILTER_FLAG;
}

struct loader {
	struct filter_set *fs;
	const char *name;
	yaml_document_t doc;
};

static int rule_error(const struct loader *l, const yaml_node_t *n, const char *id,
		      const char *fmt, ...) CL_PRINTF(4, 5);

static int rule_error(const struct loader *l, const yaml_node_t *n, const char *id,
		      const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (id)
		return err_set(CL_ECONFIG, "%s:%zu:%zu: rule '%s': %s", l->name,
			       n ? n->start_mark.line + 1 : 1, n ? n->start_mark.column + 1 : 1,
			       id, msg);
	return err_set(CL_ECONFIG, "%s:%zu:%zu: %s", l->name, n ? n->start_mark.line + 1 : 1,
		       n ? n->start_mark.column + 1 : 1, msg);
}

static const char *scalar(const yaml_node_t *n)
{
	return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

static int valid_id(const char *s)
{
	if (!*s || strlen(s) >= 64)
		return 0;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '-' || *s == '_'))
			return 0;
	return 1;
}

/* A list of names, each mapped to a bit by names[]. */
static int name_list(struct loader *l, yaml_node_t *v, const char *id, const char *key,
		     const char *const *names, const unsigned *bits, size_t count, unsigned *out)
{
	if (!v || v->type != YAML_SEQUENCE_NODE)
		return rule_error(l, v, id, "'%s' must be a list", key);
	*out = 0;
	for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top;
	     it++) {
		yaml_node_t *item = yaml_document_get_node(&l->doc, *it);
		const char *s = scalar(item);
		size_t i;

		for (i = 0; s && i < count; i++)
			if (strcmp(s, names[i]) == 0)
				break;
		if (!s || i == count)
			return rule_error(l, item, id, "unknown %s '%s'", key, s ? s : "(not a name)");
		*out |= bits[i];
	}
	return 0;
}

static int keyword_list(struct loader *l, yaml_node_t *v, const char *id, const char *key,
			char ***out, size_t *count)
{
	size_t n;

	if (*out)
		return rule_error(l, v, id, "duplicate key '%s'", key);
	if (!v || v->type != YAML_SEQUENCE_NODE)
		return rule_error(l, v, id, "'%s' must be a list of words", key);
	n = (size_t)(v->data.sequence.items.top - v->data.sequence.items.start);
	*out = calloc(n ? n : 1, sizeof(**out));
	if (!*out)
		return CL_ENOMEM;
	for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top;
	     it++) {
		yaml_node_t *item = yaml_document_get_node(&l->doc, *it);
		const char *s = scalar(item);
		char *w;

		if (!s || !*s || strlen(s) >= 32)
			return rule_error(l, item, id, "a keyword is one word of 1 to 31 bytes");
		w = strdup(s);
		if (!w)
			return CL_ENOMEM;
		for (char *p = w; *p; p++) {
			if (*p >= 'A' && *p <= 'Z')
				*p = (char)(*p - 'A' + 'a');
			if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_' ||
			      (unsigned char)*p >= 0x80)) {
				free(w);
				return rule_error(l, item, id,
						  "keyword '%s' is not one word (letters, digits, _)", s);
			}
		}
		(*out)[(*count)++] = w;
	}
	if (!*count)
		return rule_error(l, v, id, "'%s' must not be empty (leave it out instead)", key);
	return 0;
}

static int compile(struct loader *l, yaml_node_t *pn, struct filter_rule *r, const char *pattern,
		   unsigned flags)
{
	uint32_t opts = PCRE2_UTF | PCRE2_UCP;
	PCRE2_SIZE off;
	int err;

	if (flags & 1)
		opts |= PCRE2_CASELESS;
	if (flags & 2)
		opts |= PCRE2_MULTILINE;
	if (flags & 4)
		opts |= PCRE2_DOTALL;
	r->re = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED, opts, &err, &off, NULL);
	if (!r->re) {
		PCRE2_UCHAR msg[256];

		pcre2_get_error_message(err, msg, sizeof(msg));
		return rule_error(l, pn, r->id, "pattern error at offset %zu: %s", (size_t)off,
				  (const char *)msg);
	}
	err = pcre2_jit_compile(r->re, PCRE2_JIT_COMPLETE);
	if (err != 0) {
		if (l->fs->jit)
			log_warn("filters: PCRE2 JIT is unavailable (%s): patterns run in the "
				 "interpreter, slower", err == PCRE2_ERROR_JIT_BADOPTION ?
				 "not built in" : "no executable memory");
		l->fs->jit = 0;
	}
	return 0;
}

static int load_rule(struct loader *l, yaml_node_t *map)
{
	static const char *const fields[] = { "modified", "questions", "reasoning" };
	static const unsigned field_bits[] = { FIELD_MODIFIED, FIELD_QUESTIONS, FIELD_REASONING };
	static const char *const flag_names[] = { "caseless", "multiline", "dotall" };
	static const unsigned flag_bits[] = { 1, 2, 4 };
	struct filter_rule r = { 0 };
	const char *pattern = NULL, *action = NULL;
	yaml_node_t *pattern_node = NULL, *flags_node = NULL;
	unsigned flags = 0;
	int rc = 0;

	if (map->type != YAML_MAPPING_NODE)
		return rule_error(l, map, NULL, "a rule must be a mapping of id, description, "
				  "applies_to, pattern, action");
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *k = yaml_document_get_node(&l->doc, p->key);
		yaml_node_t *v = yaml_document_get_node(&l->doc, p->value);
		const char *key = scalar(k), *s = scalar(v);

		if (!key) {
			rc = rule_error(l, k, r.id, "keys must be names");
			goto fail;
		}
		if (strcmp(key, "id") == 0) {
			if (!s || !valid_id(s)) {
				rc = rule_error(l, v, NULL, "rule id must be lower-case letters, digits, "
						"'-' or '_' (at most 63)");
				goto fail;
			}
			free(r.id);
			r.id = strdup(s);
		} else if (strcmp(key, "description") == 0) {
			if (!s || !*s) {
				rc = rule_error(l, v, r.id, "'description' must be text");
				goto fail;
			}
			free(r.description);
			r.description = strdup(s);
		} else if (strcmp(key, "applies_to") == 0) {
			rc = name_list(l, v, r.id, "applies_to", fields, field_bits, 3, &r.fields);
			if (rc)
				goto fail;
		} else if (strcmp(key, "pattern") == 0) {
			if (!s || !*s) {
				rc = rule_error(l, v, r.id, "'pattern' must be a non-empty string");
				goto fail;
			}
			pattern = s;
			pattern_node = v;
		} else if (strcmp(key, "flags") == 0) {
			flags_node = v;
		} else if (strcmp(key, "keywords") == 0) {
			rc = keyword_list(l, v, r.id, key, &r.keywords, &r.nkeywords);
			if (rc)
				goto fail;
		} else if (strcmp(key, "and_keywords") == 0) {
			rc = keyword_list(l, v, r.id, key, &r.also, &r.nalso);
			if (rc)
				goto fail;
		} else if (strcmp(key, "action") == 0) {
			if (!s || filter_action_parse(s) < 0) {
				rc = rule_error(l, v, r.id, "'action' must be reject, flag (or soft) or off");
				goto fail;
			}
			action = s;
		} else if (strcmp(key, "unless_in_original") == 0) {
			if (!s || (strcmp(s, "true") && strcmp(s, "false"))) {
				rc = rule_error(l, v, r.id, "'unless_in_original' must be true or false");
				goto fail;
			}
			r.unless_original = strcmp(s, "true") == 0;
		} else {
			rc = rule_error(l, k, r.id, "unknown key '%s' (id, description, applies_to, "
					"pattern, flags, keywords, and_keywords, action, unless_in_original)", key);
			goto fail;
		}
	}
	if (!r.id) {
		rc = rule_error(l, map, NULL, "rule without an 'id'");
		goto fail;
	}
	if (!r.description || !r.fields || !pattern || !action) {
		rc = rule_error(l, map, r.id, "missing %s", !r.description ? "'description'" :
				!r.fields ? "'applies_to'" : !pattern ? "'pattern'" : "'action'");
		goto fail;
	}
	for (size_t i = 0; i < l->fs->n; i++) {
		if (strcmp(l->fs->rules[i].id, r.id) == 0) {
			rc = rule_error(l, map, r.id, "duplicate id (first in %s:%zu)",
					l->fs->rules[i].file, l->fs->rules[i].line);
			goto fail;
		}
	}
	if (r.also && !r.keywords) {
		rc = rule_error(l, map, r.id, "'and_keywords' needs 'keywords'");
		goto fail;
	}
	if (flags_node) {
		rc = name_list(l, flags_node, r.id, "flags", flag_names, flag_bits, 3, &flags);
		if (rc)
			goto fail;
	}
	r.action = filter_action_parse(action);
	r.file = strdup(l->name);
	r.line = map->start_mark.line + 1;
	if (!r.id || !r.description || !r.file) {
		rc = CL_ENOMEM;
		goto fail;
	}
	rc = compile(l, pattern_node, &r, pattern, flags);
	if (rc)
		goto fail;
	rc = ARRAY_GROW(l->fs->rules, l->fs->cap, l->fs->n, 16);
	if (rc)
		goto fail;
	l->fs->rules[l->fs->n++] = r;
	return 0;
fail:
	rule_release(&r);
	return rc;
}

int filter_set_add_buffer(struct filter_set *fs, const char *data, size_t len, const char *name)
{
	struct loader l = { .fs = fs, .name = name };
	yaml_parser_t parser;
	yaml_node_t *root, *rules = NULL;
	size_t before = fs->n;
	int rc = 0;

	if (!yaml_parser_initialize(&parser))
		return CL_ENOMEM;
	yaml_parser_set_input_string(&parser, (const unsigned char *)data, len);
	if (!yaml_parser_load(&parser, &l.doc)) {
		rc = err_set(CL_ECONFIG, "%s:%zu:%zu: %s", name, parser.problem_mark.line + 1,
			     parser.problem_mark.column + 1,
			     yaml_problem(parser.problem, data, len, parser.problem_mark.line));
		yaml_parser_delete(&parser);
		return rc;
	}
	root = yaml_document_get_root_node(&l.doc);
	if (root && root->type == YAML_MAPPING_NODE) {
		for (yaml_node_pair_t *p = root->data.mapping.pairs.start;
		     p < root->data.mapping.pairs.top; p++) {
			yaml_node_t *k = yaml_document_get_node(&l.doc, p->key);
			const char *key = scalar(k);

			if (!key || strcmp(key, "rules") != 0) {
				rc = rule_error(&l, k, NULL, "unknown key '%s' (a rule file holds 'rules:')",
						key ? key : "?");
				goto out;
			}
			rules = yaml_document_get_node(&l.doc, p->value);
		}
	}
	if (!rules || rules->type != YAML_SEQUENCE_NODE) {
		rc = rule_error(&l, rules ? rules : root, NULL, "expected 'rules:' with a list of rules");
		goto out;
	}
	for (yaml_node_item_t *it = rules->data.sequence.items.start;
	     it < rules->data.sequence.items.top; it++) {
		rc = load_rule(&l, yaml_document_get_node(&l.doc, *it));
		if (rc)
			goto out;
	}
out:
	if (rc) {
		/* nothing of a bad file is kept */
		while (fs->n > before)
			rule_release(&fs->rules[--fs->n]);
	}
	yaml_document_delete(&l.doc);
	yaml_parser_delete(&parser);
	return rc;
}

static int ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && strcmp(s + n - m, suffix) == 0;
}

static int add_file(struct filter_set *fs, const char *path, struct buf *all)
{
	struct buf b;
	int rc;

	buf_init(&b, 16 << 20);
	rc = file_read(path, &b);
	if (rc) {
		rc = err_set(rc, "cannot read rule file '%s': %s", path, err_msg(rc));
		buf_release(&b);
		return rc;
	}
	rc = filter_set_add_buffer(fs, b.data ? b.data : "", b.len, path);
	if (!rc && all)
		rc = buf_add(all, b.data ? b.data : "", b.len);
	buf_release(&b);
	return rc;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int filter_set_load_file(struct filter_set *fs, const char *path)
{
	struct buf all;
	int rc;

	filter_set_init(fs);
	buf_init(&all, 0);
	rc = add_file(fs, path, &all);
	if (!rc)
		rc = filter_set_finish(fs);
	if (!rc)
		hash_sha256_hex(all.data ? all.data : "", all.len, fs->fingerprint);
	buf_release(&all);
	if (rc)
		filter_set_release(fs);
	return rc;
}

int filter_set_load_dir(struct filter_set *fs, const char *dir)
{
	struct dirent *de;
	char **names = NULL;
	size_t n = 0, cap = 0;
	struct buf all;
	DIR *d;
	int rc = 0;

	filter_set_init(fs);
	d = opendir(dir);
	if (!d)
		return err_set(errno == ENOENT ? CL_ENOTFOUND : CL_EIO,
			       "cannot read rule folder '%s': %s", dir, strerror(errno));
	for (;;) {
		de = readdir(d);
		if (!de)
			break;
		if (de->d_name[0] == '.' || !ends_with(de->d_name, ".yaml"))
			continue;
		rc = ARRAY_GROW(names, cap, n, 16);
		if (rc)
			break;
		names[n] = strdup(de->d_name);
		if (!names[n]) {
			rc = CL_ENOMEM;
			break;
		}
		n++;
	}
	closedir(d);
	if (n)
		qsort(names, n, sizeof(*names), cmp_str);
	buf_init(&all, 0);
	for (size_t i = 0; !rc && i < n; i++) {
		char path[4096];

		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		rc = add_file(fs, path, &all);
	}
	if (!rc && n == 0)
		rc = err_set(CL_ENOTFOUND, "no rule files (*.yaml) in '%s'", dir);
	if (!rc)
		rc = filter_set_finish(fs);
	if (!rc)
		hash_sha256_hex(all.data ? all.data : "", all.len, fs->fingerprint);
	buf_release(&all);
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	if (rc)
		filter_set_release(fs);
	return rc;
}
