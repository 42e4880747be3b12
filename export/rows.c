/*
 * rows.c - a record as one JSONL row (paper or chat), and the test file's name.
 */
#include <string.h>

#include "export_int.h"

/* ---- rows -------------------------------------------------------------------- */

/* s[0..n) escaped for the inside of a JSON string. */
static int json_body(struct buf *out, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t start = 0;
	int rc = buf_reserve(out, n);

	for (size_t i = 0; !rc && i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		char esc[7] = "\\u00";
		size_t elen = 2;

		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		rc = buf_add(out, s + start, i - start);
		start = i + 1;
		switch (c) {
		case '"': esc[1] = '"'; break;
		case '\\': esc[1] = '\\'; break;
		case '\n': esc[1] = 'n'; break;
		case '\t': esc[1] = 't'; break;
		case '\r': esc[1] = 'r'; break;
		case '\b': esc[1] = 'b'; break;
		case '\f': esc[1] = 'f'; break;
		default:
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 15];
			elen = 6;
		}
		if (!rc)
			rc = buf_add(out, esc, elen);
	}
	if (!rc)
		rc = buf_add(out, s + start, n - start);
	return rc;
}

int export_json_string(struct buf *out, const char *s, size_t n)
{
	size_t len = out->len;
	int rc = buf_addc(out, '"');

	if (!rc)
		rc = json_body(out, s, n);
	if (!rc)
		rc = buf_addc(out, '"');
	if (rc) {
		out->len = len;
		if (out->data)
			out->data[len] = '\0';
	}
	return rc;
}

static int row_text(struct buf *out, const struct export_row *row, const struct export_text *t)
{
	return row->escaped ? buf_add(out, t->p, t->n) : json_body(out, t->p, t->n);
}

static int row_problem(struct buf *out, const struct export_row *row)
{
	int rc = buf_addc(out, '"');

	if (!rc)
		rc = row_text(out, row, &row->problem);
	if (!rc && row->starter_code.n) {
		rc = json_body(out, "\n", 1);
		if (!rc)
			rc = row_text(out, row, &row->starter_code);
	}
	if (!rc)
		rc = buf_addc(out, '"');
	return rc;
}

/* Lines t[0..n), joined with "\n", as one JSON string. */
static int row_lines(struct buf *out, const struct export_row *row, const struct export_text *t,
		     size_t n)
{
	int rc = buf_addc(out, '"');

	for (size_t i = 0; !rc && i < n; i++) {
		if (i)
			rc = json_body(out, "\n", 1);
		if (!rc)
			rc = row_text(out, row, &t[i]);
	}
	if (!rc)
		rc = buf_addc(out, '"');
	return rc;
}

/* ,"model":...,"template":... (null for an original) */
static int row_provenance(struct buf *out, const struct export_row *row)
{
	int rc = buf_adds(out, ",\"model\":");

	if (!rc && row->type != EXPORT_ORIGINAL && row->model.p) {
		rc = buf_addc(out, '"');
		if (!rc)
			rc = row_text(out, row, &row->model);
		if (!rc)
			rc = buf_addc(out, '"');
	} else if (!rc) {
		rc = buf_adds(out, "null");
	}
	if (!rc)
		rc = buf_adds(out, ",\"template\":");
	if (!rc && row->type != EXPORT_ORIGINAL && row->tmpl)
		rc = export_json_string(out, row->tmpl, strlen(row->tmpl));
	else if (!rc)
		rc = buf_adds(out, "null");
	return rc;
}

int export_row_append(struct buf *out, int format, const struct export_row *row)
{
	size_t len = out->len;
	int rc;

	if (row->type < 0 || row->type >= EXPORT_TYPE_COUNT || !row->problem.p)
		return err_set(CL_EINVAL, "invalid export row");
	if (format == EXPORT_PAPER) {
		rc = buf_adds(out, "{\"problem\":");
		if (!rc)
			rc = row_problem(out, row);
		if (!rc)
			rc = buf_adds(out, ",\"answer\":");
		if (!rc)
			rc = row_lines(out, row, row->answer, row->nanswer);
		if (!rc)
			rc = buf_adds(out, ",\"type\":\"");
		if (!rc)
			rc = buf_adds(out, export_type_name(row->type));
		if (!rc)
			rc = buf_addc(out, '"');
		if (!rc && row->provenance)
			rc = row_provenance(out, row);
		if (!rc)
			rc = buf_adds(out, "}\n");
	} else {
		rc = buf_adds(out, "{\"messages\":[{\"role\":\"system\",\"content\":");
		if (!rc)
			rc = export_json_string(out, export_chat_system, strlen(export_chat_system));
		if (!rc)
			rc = buf_adds(out, "},{\"role\":\"user\",\"content\":");
		if (!rc)
			rc = row_problem(out, row);
		if (!rc)
			rc = buf_adds(out, "},{\"role\":\"assistant\",\"content\":");
		if (!rc)
			rc = row_lines(out, row, row->answer, row->nanswer);
		if (!rc && format == EXPORT_DIALOGUE && row->nreply) {
			/* the asker's answers, then the code they make possible */
			rc = buf_adds(out, "},{\"role\":\"user\",\"content\":");
			if (!rc)
				rc = row_lines(out, row, row->reply, row->nreply);
			if (!rc)
				rc = buf_adds(out, "},{\"role\":\"assistant\",\"content\":");
			if (!rc)
				rc = row_lines(out, row, &row->solution, 1);
		}
		if (!rc)
			rc = buf_adds(out, "}],\"category\":\"");
		if (!rc)
			rc = buf_adds(out, export_type_category(row->type));
		if (!rc)
			rc = buf_adds(out, "\",\"id\":");
		if (!rc)
			rc = export_json_string(out, row->id ? row->id : "",
						row->id ? strlen(row->id) : 0);
		if (!rc && row->provenance)
			rc = row_provenance(out, row);
		if (!rc)
			rc = buf_adds(out, "}\n");
	}
	if (rc) {
		out->len = len;
		if (out->data)
			out->data[len] = '\0';
		if (rc == CL_ETOOBIG)
			return err_set(rc, "row '%s' is over the %zu-byte buffer cap",
				       row->id ? row->id : "?", out->max);
	}
	return rc;
}

int export_ends_with(const char *s, size_t n, const char *suffix)
{
	size_t k = strlen(suffix);

	return n >= k && memcmp(s + n - k, suffix, k) == 0;
}

int export_test_path(const char *path, char *out, size_t n)
{
	size_t base = strlen(path), slash = 0;
	const char *p = strrchr(path, '/');
	int len;

	if (p)
		slash = (size_t)(p - path) + 1;
	if (export_ends_with(path, base, ".zst") && base - 4 > slash)
		base -= 4;
	if (export_ends_with(path, base, ".jsonl") && base - 6 > slash)
		base -= 6;
	else if (export_ends_with(path, base, ".json") && base - 5 > slash)
		base -= 5;
	len = snprintf(out, n, "%.*s.test%s", (int)base, path, path + base);
	if (len < 0 || (size_t)len >= n)
		return err_set(CL_ETOOBIG, "path '%s' is too long", path);
	return 0;
}
