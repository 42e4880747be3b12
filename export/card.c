/*
 * card.c - the dataset card: README.md beside the export, in the layout of
 * a Hugging Face dataset card (a YAML header with the configs, the splits,
 * the features and their counts; the manifest's facts in prose), so that
 * the folder documents itself and loads with
 * datasets.load_dataset("json", data_files=...).
 *
 * A README.md already there is replaced only when an earlier export wrote
 * it (its header starts with CARD_MARK); any other is left as it is.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "export_int.h"

#define CARD_MARK "---\n# written by clarify export"

static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

/* A string as YAML reads it: a JSON string is a double-quoted YAML scalar. */
static int yq(struct buf *b, const char *s)
{
	return export_json_string(b, s ? s : "", s ? strlen(s) : 0);
}

static const char *size_category(json_int_t n)
{
	return n < 1000 ? "n<1K" : n < 10000 ? "1K<n<10K" : n < 100000 ? "10K<n<100K" :
	       n < 1000000 ? "100K<n<1M" : "1M<n<10M";
}

static int feature(struct buf *b, const char *name)
{
	return buf_addf(b, "  - name: %s\n    dtype: string\n", name);
}

static int features(struct buf *b, const char *format, int provenance)
{
	int rc = buf_adds(b, "  features:\n");

	if (!rc && !strcmp(format, "paper")) {
		rc = feature(b, "problem");
		if (!rc)
			rc = feature(b, "answer");
		if (!rc)
			rc = feature(b, "type");
	} else if (!rc) {
		rc = buf_adds(b, "  - name: messages\n    list:\n"
				 "    - name: role\n      dtype: string\n"
				 "    - name: content\n      dtype: string\n");
		if (!rc)
			rc = feature(b, "category");
		if (!rc)
			rc = feature(b, "id");
	}
	if (!rc && provenance) {
		rc = feature(b, "model");
		if (!rc)
			rc = feature(b, "template");
	}
	return rc;
}

static int split_yaml(struct buf *b, const char *name, const json_t *f)
{
	return buf_addf(b, "  - name: %s\n    num_bytes: %lld\n    num_examples: %lld\n", name,
			(long long)jsonx_int(f, "jsonl_bytes", 0), (long long)jsonx_int(f, "records", 0));
}

static int counts_row(struct buf *b, const char *split, const json_t *f)
{
	const json_t *c = json_object_get(f, "counts");

	return buf_addf(b, "| %s | %lld | %lld | %lld | %lld | %lld |\n", split,
			(long long)jsonx_int(c, "Original", 0), (long long)jsonx_int(c, "Ambiguous", 0),
			(long long)jsonx_int(c, "Inconsistent", 0),
			(long long)jsonx_int(c, "Incomplete", 0), (long long)jsonx_int(f, "records", 0));
}

static int card_text(struct buf *b, const json_t *m)
{
	const json_t *test = json_object_get(m, "test"), *usage = json_object_get(m, "usage");
	const json_t *money = json_object_get(usage, "money"), *sel = json_object_get(m, "selection");
	const json_t *it, *ratio = json_object_get(m, "ratio");
	const char *train = base_name(jsonx_str(m, "file") ? jsonx_str(m, "file") : "");
	const char *format = jsonx_str(m, "format") ? jsonx_str(m, "format") : "paper";
	int has_test = json_is_object(test);
	int prov = json_is_true(json_object_get(m, "provenance"));
	json_int_t total = jsonx_int(m, "records", 0) + (has_test ? jsonx_int(test, "records", 0) : 0);
	size_t i;
	int rc;

	rc = buf_adds(b, CARD_MARK ": the next export into this folder replaces it\n"
			 "pretty_name: Clarification-aware code problems (ClarifyCoder)\n"
			 "language:\n- en\ntask_categories:\n- text-generation\n"
			 "tags:\n- code\n- clarification\n- synthetic\n- apps\n");
	if (!rc)
		rc = buf_addf(b, "size_categories:\n- %s\n", size_category(total));
	if (!rc)
		rc = buf_adds(b, "configs:\n- config_name: default\n  data_files:\n"
				 "  - split: train\n    path: ");
	if (!rc)
		rc = yq(b, train);
	if (!rc && has_test) {
		rc = buf_adds(b, "\n  - split: test\n    path: ");
		if (!rc)
			rc = yq(b, base_name(jsonx_str(test, "file") ? jsonx_str(test, "file") : ""));
	}
	if (!rc)
		rc = buf_adds(b, "\ndataset_info:\n");
	if (!rc)
		rc = features(b, format, prov);
	if (!rc)
		rc = buf_adds(b, "  splits:\n");
	if (!rc)
		rc = split_yaml(b, "train", m);
	if (!rc && has_test)
		rc = split_yaml(b, "test", test);
	if (!rc)
		rc = buf_addf(b, "  download_size: %lld\n  dataset_size: %lld\n---\n\n",
			      (long long)(jsonx_int(m, "bytes", 0) +
					  (has_test ? jsonx_int(test, "bytes", 0) : 0)),
			      (long long)(jsonx_int(m, "jsonl_bytes", 0) +
					  (has_test ? jsonx_int(test, "jsonl_bytes", 0) : 0)));
	if (rc)
		return rc;

	rc = buf_addf(b,
		      "# Clarification-aware code problems\n\n"
		      "Programming problems from APPS rewritten by a language model to be "
		      "**ambiguous**, **inconsistent** or **incomplete**, each paired with the "
		      "clarifying questions that recover what the rewrite took away, as in "
		      "ClarifyCoder (arXiv 2504.16331), mixed with original problems and their "
		      "human solutions. Written by `%s` on %s in the `%s` format%s.\n\n",
		      jsonx_str(m, "created_by") ? jsonx_str(m, "created_by") : "clarify export",
		      jsonx_str(m, "created") ? jsonx_str(m, "created") : "?", format,
		      prov ? ", each row with the model and the templates that made it" : "");
	if (!rc)
		rc = buf_adds(b, "## Contents\n\n| split | Original | Ambiguous | Inconsistent | "
				 "Incomplete | rows |\n|---|---:|---:|---:|---:|---:|\n");
	if (!rc)
		rc = counts_row(b, "train", m);
	if (!rc && has_test)
		rc = counts_row(b, "test", test);
	if (!rc && json_is_number(ratio))
		rc = buf_addf(b, "\nThe mix ratio r = |D_clarify| / (|D_og| + |D_clarify|) asked "
				 "was %g (%s-sampling, seed %lld); the training file has %.4f.\n",
			      json_number_value(ratio), jsonx_str(m, "sampling"),
			      (long long)jsonx_int(m, "seed", 0),
			      json_number_value(json_object_get(m, "achieved_ratio")));
	else if (!rc)
		rc = buf_adds(b, "\nOnly clarification records (no --ratio).\n");
	if (!rc && has_test)
		rc = buf_addf(b, "The test split holds out %.0f%% of the problems (by a hash of "
				 "their key), with all their records.\n",
			      100 * json_number_value(json_object_get(test, "fraction")));

	if (!rc)
		rc = buf_adds(b, "\n## How it was made\n\nModels:\n\n");
	json_array_foreach(json_object_get(m, "models"), i, it)
		if (!rc)
			rc = buf_addf(b, "- `%s` (%s): %lld records\n", jsonx_str(it, "model"),
				      jsonx_str(it, "provider"), (long long)jsonx_int(it, "records", 0));
	if (!rc)
		rc = buf_adds(b, "\nPrompt templates (name@version, content SHA-256):\n\n");
	json_array_foreach(json_object_get(m, "templates"), i, it)
		if (!rc)
			rc = buf_addf(b, "- `%s@%lld` `%.16s`: %lld records\n", jsonx_str(it, "name"),
				      (long long)jsonx_int(it, "version", 0), jsonx_str(it, "hash"),
				      (long long)jsonx_int(it, "records", 0));
	if (!rc)
		rc = buf_addf(b, "\nEvery record passed the leak and quality filters%s. Left out: "
				 "%lld rejected, %lld unreadable, %lld outside the stat bounds, "
				 "%lld incomplete, %lld problems without a solution.\n",
			      json_is_true(json_object_get(sel, "include_rejected")) ?
			      " or was kept with --include-rejected" : "",
			      (long long)jsonx_int(json_object_get(m, "skipped"), "rejected", 0),
			      (long long)jsonx_int(json_object_get(m, "skipped"), "unreadable", 0),
			      (long long)jsonx_int(json_object_get(m, "skipped"), "stat_bounds", 0),
			      (long long)jsonx_int(json_object_get(m, "skipped"), "incomplete", 0),
			      (long long)jsonx_int(json_object_get(m, "skipped"), "no_solution", 0));
	if (!rc)
		rc = buf_addf(b, "The clarification records took %lld tokens in and %lld out",
			      (long long)jsonx_int(usage, "tokens_in", 0),
			      (long long)jsonx_int(usage, "tokens_out", 0));
	if (!rc && json_is_object(money))
		rc = buf_addf(b, " (%.2f at %g in and %g out per million tokens)",
			      json_number_value(json_object_get(money, "total")),
			      json_number_value(json_object_get(money, "in_per_mtok")),
			      json_number_value(json_object_get(money, "out_per_mtok")));
	if (!rc)
		rc = buf_adds(b, ".\n\n## Loading\n\n```python\nfrom datasets import load_dataset\n\n"
				 "ds = load_dataset(\"json\", data_files={\"train\": ");
	if (!rc)
		rc = yq(b, train);
	if (!rc && has_test) {
		rc = buf_adds(b, ", \"test\": ");
		if (!rc)
			rc = yq(b, base_name(jsonx_str(test, "file")));
	}
	if (!rc)
		rc = buf_adds(b, "})\n```\n\n(or `load_dataset(\"path/to/this/folder\")`, which "
				 "reads the configs above).\n\n## Files\n\n");
	if (!rc)
		rc = buf_addf(b, "- `%s`: %lld rows, SHA-256 `%s`\n", train,
			      (long long)jsonx_int(m, "records", 0), jsonx_str(m, "sha256"));
	if (!rc && has_test)
		rc = buf_addf(b, "- `%s`: %lld rows, SHA-256 `%s`\n",
			      base_name(jsonx_str(test, "file")), (long long)jsonx_int(test, "records", 0),
			      jsonx_str(test, "sha256"));
	if (!rc)
		rc = buf_addf(b, "- `%s.manifest.json`: every count, option and fingerprint of "
				 "this export (configuration fingerprint `%.16s`)\n\n"
				 "The source problems are APPS (Hendrycks et al., 2021; MIT license).\n",
			      train, jsonx_str(m, "config_fingerprint") ?
			      jsonx_str(m, "config_fingerprint") : "");
	return rc;
}

/* Whether the README.md at path may be (re)written: absent, or ours. */
static int card_ours(const char *path, int *ours)
{
	char head[sizeof(CARD_MARK)];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	*ours = 0;
	if (fd < 0) {
		if (errno == ENOENT) {
			*ours = 1;
			return 0;
		}
		return err_set(CL_EIO, "cannot read '%s': %s", path, strerror(errno));
	}
	n = read(fd, head, sizeof(head) - 1);
	close(fd);
	*ours = n == (ssize_t)sizeof(head) - 1 && memcmp(head, CARD_MARK, n) == 0;
	return 0;
}

int export_card_open(struct out *w, const char *path, const json_t *manifest,
		     const struct export_opts *o, int *opened)
{
	char cpath[4200];
	const char *slash = strrchr(path, '/');
	struct buf b;
	int rc, ours, len;

	(void)o;
	*opened = 0;
	if (slash)
		len = snprintf(cpath, sizeof(cpath), "%.*s/README.md", (int)(slash - path), path);
	else
		len = snprintf(cpath, sizeof(cpath), "README.md");
	if (len < 0 || (size_t)len >= sizeof(cpath))
		return err_set(CL_ETOOBIG, "path '%s' is too long", path);
	rc = card_ours(cpath, &ours);
	if (rc)
		return rc;
	if (!ours) {
		log_warn("'%s' was not written by clarify export: left as it is, no dataset card "
			 "(export into a folder of its own, or --no-card)", cpath);
		return 0;
	}
	buf_init(&b, 1 << 24);
	rc = card_text(&b, manifest);
	if (!rc)
		rc = out_open(w, cpath, 0);
	if (!rc)
		rc = out_add(w, b.data, b.len);
	if (!rc)
		rc = out_finish(w);
	buf_release(&b);
	if (!rc)
		*opened = 1;
	return rc;
}
