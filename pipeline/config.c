/*
 * config.c - the table-driven configuration loader (after tmux's
 * options-table.c and redis's static_configs[]).
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

#include "config.h"

enum cfg_type { CFG_STR, CFG_INT, CFG_LEVEL, CFG_CATEGORIES };

struct cfg_key {
	const char *name;
	enum cfg_type type;
	size_t off;
	int64_t min, max;
	const char *dflt;
	const char *help;
};

#define OFF(f) offsetof(struct config, f)

static const struct cfg_key cfg_keys[] = {
	{ "store.path", CFG_STR, OFF(store.path), 0, 0, "/var/lib/clarifyd",
	  "directory of the LMDB store (also -s DIR or CLARIFY_STORE)" },
	{ "store.map_size_mb", CFG_INT, OFF(store.map_size_mb), 1, 1 << 22, "256",
	  "initial LMDB map size in MiB; doubled whenever it fills" },
	{ "store.batch_records", CFG_INT, OFF(store.batch_records), 1, 100000, "512",
	  "records written per LMDB write transaction" },
	{ "store.zstd_level", CFG_INT, OFF(store.zstd_level), 1, 19, "3",
	  "zstd compression level of stored records" },
	{ "store.max_record_mb", CFG_INT, OFF(store.max_record_mb), 1, 1024, "64",
	  "largest decompressed record accepted" },
	{ "import.max_file_mb", CFG_INT, OFF(import.max_file_mb), 1, 4096, "32",
	  "largest APPS file or JSONL line imported; larger ones are skipped" },
	{ "jobs.categories", CFG_CATEGORIES, OFF(jobs.categories), 0, 0,
	  "ambiguous, inconsistent, incomplete",
	  "categories a job is created for, per problem" },
	{ "log.level", CFG_LEVEL, OFF(log.level), 0, 0, "info",
	  "least severe level logged: error, warn, info or debug" },
};

struct cfg_loader {
	struct config *cfg;
	const char *name;
	yaml_document_t doc;
	unsigned char seen[CL_ARRAY_SIZE(cfg_keys)];
};

static int cfg_error(const struct cfg_loader *l, const yaml_node_t *n, const char *fmt, ...)
	CL_PRINTF(3, 4);

static int cfg_error(const struct cfg_loader *l, const yaml_node_t *n, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return err_set(CL_ECONFIG, "%s:%zu:%zu: %s", l->name,
		       n ? n->start_mark.line + 1 : 1,
		       n ? n->start_mark.column + 1 : 1, msg);
}

static const struct cfg_key *cfg_find(const char *name)
{
	for (size_t i = 0; i < CL_ARRAY_SIZE(cfg_keys); i++)
		if (strcmp(cfg_keys[i].name, name) == 0)
			return &cfg_keys[i];
	return NULL;
}

static int cfg_is_section(const char *prefix)
{
	size_t n = strlen(prefix);

	for (size_t i = 0; i < CL_ARRAY_SIZE(cfg_keys); i++)
		if (strncmp(cfg_keys[i].name, prefix, n) == 0 && cfg_keys[i].name[n] == '.')
			return 1;
	return 0;
}

static int parse_categories(const char *s, unsigned *out, const char **bad)
{
	char tmp[256], *p, *save = NULL;
	unsigned set = 0;

	if (strlen(s) >= sizeof(tmp))
		return CL_EINVAL;
	memcpy(tmp, s, strlen(s) + 1);
	for (p = strtok_r(tmp, ", ", &save); p; p = strtok_r(NULL, ", ", &save)) {
		int c = category_parse(p);

		if (c < 0) {
			*bad = s;
			return CL_EINVAL;
		}
		set |= 1u << c;
	}
	*out = set;
	return 0;
}

/* Set one key from its text form; the message describes what is wrong. */
static int cfg_set(struct config *cfg, const struct cfg_key *k, const char *text,
		   char *why, size_t whylen)
{
	char *field = (char *)cfg + k->off;
	int64_t v;
	int rc;

	switch (k->type) {
	case CFG_STR: {
		char *dup = strdup(text);

		if (!dup)
			return CL_ENOMEM;
		if (!*dup) {
			free(dup);
			snprintf(why, whylen, "'%s' must not be empty", k->name);
			return CL_EINVAL;
		}
		free(*(char **)field);
		*(char **)field = dup;
		return 0;
	}
	case CFG_INT:
		rc = parse_i64(text, k->min, k->max, &v);
		if (rc == CL_EPARSE) {
			snprintf(why, whylen, "'%s' must be an integer, got '%s'", k->name, text);
			return rc;
		}
		if (rc) {
			snprintf(why, whylen, "'%s' must be between %lld and %lld, got %s",
				 k->name, (long long)k->min, (long long)k->max, text);
			return rc;
		}
		*(int64_t *)field = v;
		return 0;
	case CFG_LEVEL:
		v = log_level_parse(text);
		if (v < 0) {
			snprintf(why, whylen, "'%s' must be error, warn, info or debug, got '%s'",
				 k->name, text);
			return CL_EINVAL;
		}
		*(int64_t *)field = v;
		return 0;
	case CFG_CATEGORIES: {
		const char *bad = NULL;

		rc = parse_categories(text, (unsigned *)field, &bad);
		if (rc) {
			snprintf(why, whylen, "'%s' takes ambiguous, inconsistent, incomplete; got '%s'",
				 k->name, text);
			return rc;
		}
		return 0;
	}
	}
	return CL_EINVAL;
}

static int cfg_scalar(struct cfg_loader *l, const struct cfg_key *k, yaml_node_t *v)
{
	const char *text = (const char *)v->data.scalar.value;
	char why[400];
	int rc;

	if (k->type == CFG_CATEGORIES) {
		return cfg_error(l, v, "'%s' must be a list, such as [ambiguous, incomplete]",
				 k->name);
	}
	if (k->type == CFG_INT && v->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return cfg_error(l, v, "'%s' must be an integer, got a quoted string", k->name);
	rc = cfg_set(l->cfg, k, text, why, sizeof(why));
	if (rc == CL_ENOMEM)
		return rc;
	if (rc)
		return cfg_error(l, v, "%s", why);
	return 0;
}

static int cfg_sequence(struct cfg_loader *l, const struct cfg_key *k, yaml_node_t *v)
{
	unsigned set = 0;

	if (k->type != CFG_CATEGORIES)
		return cfg_error(l, v, "'%s' takes a single value, not a list", k->name);
	for (yaml_node_item_t *it = v->data.sequence.items.start;
	     it < v->data.sequence.items.top; it++) {
		yaml_node_t *item = yaml_document_get_node(&l->doc, *it);
		int c;

		if (!item || item->type != YAML_SCALAR_NODE)
			return cfg_error(l, item, "'%s' items must be category names", k->name);
		c = category_parse((const char *)item->data.scalar.value);
		if (c < 0)
			return cfg_error(l, item, "unknown category '%s' in '%s' "
					 "(ambiguous, inconsistent, incomplete)",
					 (const char *)item->data.scalar.value, k->name);
		if (set & (1u << c))
			return cfg_error(l, item, "category '%s' listed twice in '%s'",
					 category_name(c), k->name);
		set |= 1u << c;
	}
	if (!set)
		return cfg_error(l, v, "'%s' must name at least one category", k->name);
	*(unsigned *)((char *)l->cfg + k->off) = set;
	return 0;
}

static int cfg_mapping(struct cfg_loader *l, yaml_node_t *map, const char *prefix)
{
	for (yaml_node_pair_t *pair = map->data.mapping.pairs.start;
	     pair < map->data.mapping.pairs.top; pair++) {
		yaml_node_t *kn = yaml_document_get_node(&l->doc, pair->key);
		yaml_node_t *vn = yaml_document_get_node(&l->doc, pair->value);
		const struct cfg_key *k;
		char name[256];
		int rc;

		if (!kn || kn->type != YAML_SCALAR_NODE)
			return cfg_error(l, kn, "keys must be plain names");
		if (snprintf(name, sizeof(name), "%s%s%s", prefix, *prefix ? "." : "",
			     (const char *)kn->data.scalar.value) >= (int)sizeof(name))
			return cfg_error(l, kn, "key too long");
		if (!vn)
			return cfg_error(l, kn, "missing value for '%s'", name);
		if (vn->type == YAML_MAPPING_NODE) {
			if (!cfg_is_section(name)) {
				if (cfg_find(name))
					return cfg_error(l, vn, "'%s' takes a single value, not a mapping",
							 name);
				return cfg_error(l, kn, "unknown key '%s'", name);
			}
			rc = cfg_mapping(l, vn, name);
			if (rc)
				return rc;
			continue;
		}
		k = cfg_find(name);
		if (!k) {
			if (cfg_is_section(name))
				return cfg_error(l, vn, "'%s' is a section and takes keys", name);
			return cfg_error(l, kn, "unknown key '%s'", name);
		}
		if (l->seen[k - cfg_keys])
			return cfg_error(l, kn, "duplicate key '%s'", name);
		l->seen[k - cfg_keys] = 1;
		if (vn->type == YAML_SEQUENCE_NODE)
			rc = cfg_sequence(l, k, vn);
		else
			rc = cfg_scalar(l, k, vn);
		if (rc)
			return rc;
	}
	return 0;
}

/* A config file is one YAML document: a second one would be ignored
 * silently, so it is refused. */
static int cfg_single_document(yaml_parser_t *parser, const char *name)
{
	yaml_document_t next;
	yaml_node_t *root;
	size_t line = 0, col = 0;
	int more;

	if (!yaml_parser_load(parser, &next))
		return err_set(CL_ECONFIG, "%s:%zu:%zu: %s", name, parser->problem_mark.line + 1,
			       parser->problem_mark.column + 1,
			       parser->problem ? parser->problem : "malformed YAML");
	root = yaml_document_get_root_node(&next);
	more = root && !(root->type == YAML_SCALAR_NODE && root->data.scalar.length == 0);
	if (more) {
		line = root->start_mark.line + 1;
		col = root->start_mark.column + 1;
	}
	yaml_document_delete(&next);
	if (more)
		return err_set(CL_ECONFIG, "%s:%zu:%zu: only one YAML document is allowed",
			       name, line, col);
	return 0;
}

int config_init(struct config *cfg)
{
	char why[400];

	memset(cfg, 0, sizeof(*cfg));
	for (size_t i = 0; i < CL_ARRAY_SIZE(cfg_keys); i++) {
		int rc = cfg_set(cfg, &cfg_keys[i], cfg_keys[i].dflt, why, sizeof(why));

		if (rc) {
			config_release(cfg);
			return rc;
		}
	}
	return 0;
}

void config_release(struct config *cfg)
{
	for (size_t i = 0; i < CL_ARRAY_SIZE(cfg_keys); i++)
		if (cfg_keys[i].type == CFG_STR)
			free(*(char **)((char *)cfg + cfg_keys[i].off));
	free(cfg->file);
	memset(cfg, 0, sizeof(*cfg));
}

int config_load_buffer(struct config *cfg, const char *data, size_t len, const char *name)
{
	struct cfg_loader l = { .cfg = cfg, .name = name };
	yaml_parser_t parser;
	yaml_node_t *root;
	int rc;

	rc = config_init(cfg);
	if (rc)
		return rc;
	if (!yaml_parser_initialize(&parser)) {
		config_release(cfg);
		return CL_ENOMEM;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)data, len);
	if (!yaml_parser_load(&parser, &l.doc)) {
		rc = err_set(CL_ECONFIG, "%s:%zu:%zu: %s", name,
			     parser.problem_mark.line + 1, parser.problem_mark.column + 1,
			     parser.problem ? parser.problem : "malformed YAML");
		goto parser_delete;
	}
	rc = cfg_single_document(&parser, name);
	if (rc)
		goto doc_delete;
	root = yaml_document_get_root_node(&l.doc);
	if (!root)
		goto set_name; /* an empty file: the defaults */
	if (root->type == YAML_SCALAR_NODE && root->data.scalar.length == 0)
		goto set_name;
	if (root->type != YAML_MAPPING_NODE) {
		rc = cfg_error(&l, root, "the top level must be a mapping of sections");
		goto doc_delete;
	}
	rc = cfg_mapping(&l, root, "");
	if (rc)
		goto doc_delete;
set_name:
	cfg->file = strdup(name);
	if (!cfg->file)
		rc = CL_ENOMEM;
doc_delete:
	yaml_document_delete(&l.doc);
parser_delete:
	yaml_parser_delete(&parser);
	if (rc)
		config_release(cfg);
	return rc;
}

int config_load(struct config *cfg, const char *path)
{
	struct buf b;
	int rc;

	buf_init(&b, 4 << 20);
	rc = file_read(path, &b);
	if (rc) {
		memset(cfg, 0, sizeof(*cfg));
		if (rc == CL_ENOTFOUND)
			err_set(rc, "cannot read config '%s': no such file", path);
		buf_release(&b);
		return rc;
	}
	rc = config_load_buffer(cfg, b.data, b.len, path);
	buf_release(&b);
	return rc;
}

int config_set_store(struct config *cfg, const char *dir)
{
	char why[400];
	int rc = cfg_set(cfg, cfg_find("store.path"), dir, why, sizeof(why));

	if (rc && rc != CL_ENOMEM)
		return err_set(rc, "invalid store directory: %s", why);
	return rc;
}

void config_print(const struct config *cfg, FILE *f)
{
	for (size_t i = 0; i < CL_ARRAY_SIZE(cfg_keys); i++) {
		const struct cfg_key *k = &cfg_keys[i];
		const char *field = (const char *)cfg + k->off;

		fprintf(f, "%s: ", k->name);
		switch (k->type) {
		case CFG_STR:
			fputc('\'', f);
			for (const char *s = *(char *const *)field; *s; s++) {
				if (*s == '\'')
					fputc('\'', f);
				fputc(*s, f);
			}
			fputc('\'', f);
			break;
		case CFG_INT:
			fprintf(f, "%lld", (long long)*(const int64_t *)field);
			break;
		case CFG_LEVEL:
			fprintf(f, "%s", log_level_name((int)*(const int64_t *)field));
			break;
		case CFG_CATEGORIES: {
			const char *sep = "";

			fputc('[', f);
			for (int c = 0; c < CAT_COUNT; c++) {
				if (*(const unsigned *)field & (1u << c)) {
					fprintf(f, "%s%s", sep, category_name(c));
					sep = ", ";
				}
			}
			fputc(']', f);
			break;
		}
		}
		fprintf(f, "    # %s\n", k->help);
	}
}
