/*
 * manifest.c - the manifest written beside the export: counts, files,
 * generations, the options.
 */
#include <math.h>
#include <string.h>

#include "export_int.h"

/* ---- the manifest ---------------------------------------------------------------- */

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The entries of gen as an array sorted by key; NULL when out of memory. */
static json_t *gen_list(json_t *gen)
{
	size_t n = json_object_size(gen), i = 0;
	const char **keys = calloc(n ? n : 1, sizeof(*keys));
	json_t *list = json_array(), *v;
	const char *k;

	if (!keys || !list) {
		free(keys);
		json_decref(list);
		return NULL;
	}
	json_object_foreach(gen, k, v)
		keys[i++] = k;
	qsort(keys, n, sizeof(*keys), cmp_str);
	for (i = 0; i < n; i++)
		json_array_append(list, json_object_get(gen, keys[i]));
	free(keys);
	return list;
}

/* The fingerprint of how the records were made: the models and the
 * templates (name, version, content hash), whatever their counts. */
static json_t *fingerprint(const json_t *models, const json_t *templates)
{
	json_t *fp = json_pack("{s:[], s:[]}", "models", "templates");
	const json_t *it;
	char hex[HASH_SHA256_HEX];
	char *text;
	size_t i;

	if (!fp)
		return NULL;
	json_array_foreach(models, i, it)
		json_array_append_new(json_object_get(fp, "models"),
				      json_pack("{s:O?, s:O?}", "provider",
						json_object_get(it, "provider"), "model",
						json_object_get(it, "model")));
	json_array_foreach(templates, i, it)
		json_array_append_new(json_object_get(fp, "templates"),
				      json_pack("{s:O?, s:O?, s:O?}", "name",
						json_object_get(it, "name"), "version",
						json_object_get(it, "version"), "hash",
						json_object_get(it, "hash")));
	text = jsonx_canonical(fp);
	json_decref(fp);
	if (!text)
		return NULL;
	hash_sha256_hex(text, strlen(text), hex);
	free(text);
	return json_string(hex);
}

static json_t *file_json(const struct export_file *f)
{
	json_t *o = json_object(), *counts = json_object();

	/* Original first, then the categories: the paper's order */
	for (int i = 0; i < EXPORT_TYPE_COUNT; i++) {
		int t = (i + EXPORT_ORIGINAL) % EXPORT_TYPE_COUNT;

		json_object_set_new(counts, export_type_name(t),
				    json_integer((json_int_t)f->by_type[t]));
	}
	json_object_set_new(o, "file", json_string(f->path));
	json_object_set_new(o, "records", json_integer((json_int_t)f->records));
	json_object_set_new(o, "counts", counts);
	json_object_set_new(o, "clarify_records",
			    json_integer((json_int_t)(f->records - f->by_type[EXPORT_ORIGINAL])));
	json_object_set_new(o, "original_records",
			    json_integer((json_int_t)f->by_type[EXPORT_ORIGINAL]));
	json_object_set_new(o, "distinct", json_pack("{s:I, s:I}", "clarify",
						     (json_int_t)f->unique[EXPORT_CLARIFY],
						     "original", (json_int_t)f->unique[EXPORT_OG]));
	json_object_set_new(o, "stages",
			    json_pack("{s:I, s:I}", "modify,clarify", (json_int_t)f->by_stages[0],
				      "modify,clarify,answer", (json_int_t)f->by_stages[1]));
	json_object_set_new(o, "bytes", json_integer((json_int_t)f->bytes));
	json_object_set_new(o, "jsonl_bytes", json_integer((json_int_t)f->jsonl_bytes));
	json_object_set_new(o, "sha256", json_string(f->sha256));
	return o;
}

static json_t *bound_json(double v)
{
	return isnan(v) ? json_null() : json_real(v);
}

/* The tokens the written clarify records took, and their money at the
 * configured prices (null when none is set). */
static json_t *usage_json(const struct export_result *r, const struct export_opts *o)
{
	/* a batch's tokens at o->batch_discount of the price */
	double disc = o->batch_discount;
	double in = ((double)(r->tokens_in - r->batch_in) + disc * (double)r->batch_in) *
		    o->price_in_per_mtok / 1e6;
	double out = ((double)(r->tokens_out - r->batch_out) + disc * (double)r->batch_out) *
		     o->price_out_per_mtok / 1e6;
	int priced = o->price_in_per_mtok > 0 || o->price_out_per_mtok > 0;

	return json_pack("{s:I, s:I, s:I, s:{s:I, s:I, s:I}, s:o}", "tokens_in",
			 (json_int_t)r->tokens_in, "tokens_out", (json_int_t)r->tokens_out, "tokens",
			 (json_int_t)(r->tokens_in + r->tokens_out), "batch", "records",
			 (json_int_t)r->batch_records, "tokens_in", (json_int_t)r->batch_in,
			 "tokens_out", (json_int_t)r->batch_out, "money",
			 priced ? json_pack("{s:f, s:f, s:f, s:f, s:f}", "in", in, "out", out,
					    "total", in + out, "in_per_mtok",
					    o->price_in_per_mtok, "out_per_mtok",
					    o->price_out_per_mtok)
				: json_null());
}

json_t *export_manifest(struct exporter *x)
{
	const struct export_opts *o = x->o;
	const struct export_skipped *sk = &x->r->skipped;
	json_t *m = file_json(&x->r->file[EXPORT_TRAIN]), *stores = json_array(), *cats = json_array();
	json_t *models = gen_list(x->models), *templates = gen_list(x->templates);
	char when[32];

	if (!m || !stores || !cats || !models || !templates) {
		json_decref(m);
		json_decref(stores);
		json_decref(cats);
		json_decref(models);
		json_decref(templates);
		return NULL;
	}
	json_object_set_new(m, "format", json_string(export_format_name(o->format)));
	json_object_set_new(m, "provenance", json_boolean(o->provenance));
	json_object_set_new(m, "compressed", json_boolean(x->out[0].cctx != NULL));
	json_object_set_new(m, "ratio", o->ratio > 0 ? json_real(o->ratio) : json_null());
	if (x->r->file[0].records)
		json_object_set_new(m, "achieved_ratio",
				    json_real((double)(x->r->file[0].records -
						       x->r->file[0].by_type[EXPORT_ORIGINAL]) /
					      (double)x->r->file[0].records));
	json_object_set_new(m, "sampling", json_string(export_sampling_name(o->sampling)));
	json_object_set_new(m, "seed", json_integer((json_int_t)o->seed));
	json_object_set_new(m, "available",
			    json_pack("{s:I, s:I}", "clarify",
				      (json_int_t)(x->r->avail[0][EXPORT_CLARIFY] +
						   x->r->avail[1][EXPORT_CLARIFY]),
				      "original",
				      (json_int_t)(x->r->avail[0][EXPORT_OG] + x->r->avail[1][EXPORT_OG])));
	for (int c = 0; c < CAT_COUNT; c++)
		if (o->categories & (1u << c))
			json_array_append_new(cats, json_string(category_name(c)));
	json_object_set_new(m, "selection",
			    json_pack("{s:o, s:b, s:{s:o, s:o}, s:{s:o, s:o}, s:{s:o, s:o}}",
				      "categories", cats, "include_rejected", o->include_rejected,
				      "perplexity", "min", bound_json(o->min_perplexity), "max",
				      bound_json(o->max_perplexity), "entropy", "min",
				      bound_json(o->min_entropy), "max", bound_json(o->max_entropy),
				      "tokens", "min", bound_json(o->min_tokens), "max",
				      bound_json(o->max_tokens)));
	json_object_set_new(m, "skipped",
			    json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "rejected",
				      (json_int_t)sk->rejected, "category", (json_int_t)sk->category,
				      "stat_bounds", (json_int_t)sk->stat_bounds, "incomplete",
				      (json_int_t)sk->incomplete, "unreadable",
				      (json_int_t)sk->unreadable, "no_solution",
				      (json_int_t)sk->no_solution, "orphan", (json_int_t)sk->orphan,
				      "duplicate", (json_int_t)sk->duplicate, "unanswered",
				      (json_int_t)sk->unanswered));
	if (x->nsplit > 1) {
		json_t *t = file_json(&x->r->file[EXPORT_TEST]);

		json_object_set_new(t, "fraction", json_real(o->test_fraction));
		json_object_set_new(m, "test", t);
	} else {
		json_object_set_new(m, "test", json_null());
	}
	for (size_t i = 0; i < x->nsrc; i++) {
		json_t *schema = NULL;

		if (store_get(x->src[i].s, x->src[i].txn, STORE_META, "schema", &schema))
			schema = NULL;
		json_array_append_new(stores, json_pack("{s:s, s:I, s:I, s:o?}", "path",
							x->src[i].s->path, "problems",
							(json_int_t)x->src[i].problems, "results",
							(json_int_t)x->src[i].results, "schema",
							schema));
	}
	json_object_set_new(m, "stores", stores);
	json_object_set_new(m, "usage", usage_json(x->r, o));
	json_object_set_new(m, "problems", json_integer((json_int_t)x->r->problems));
	json_object_set_new(m, "config_fingerprint", fingerprint(models, templates));
	json_object_set_new(m, "models", models);
	json_object_set_new(m, "templates", templates);
	if (x->gen_more)
		json_object_set_new(m, "generation_not_listed",
				    json_integer((json_int_t)x->gen_more));
	time_iso(time_now(), when, sizeof(when));
	json_object_set_new(m, "created", json_string(when));
	json_object_set_new(m, "created_by", json_string("clarify " CLARIFY_VERSION));
	return m;
}

int export_write_manifest(struct out *w, const json_t *m)
{
	char *text = json_dumps(m, JSON_INDENT(2));
	int rc;

	if (!text)
		return CL_ENOMEM;
	rc = out_add(w, text, strlen(text));
	if (!rc)
		rc = out_add(w, "\n", 1);
	free(text);
	if (!rc)
		rc = out_finish(w);
	return rc;
}
