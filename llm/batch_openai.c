/*
 * batch_openai.c - OpenAI's Files and Batches API, as published:
 * POST /files (multipart, purpose "batch"), GET /files?purpose=batch,
 * GET /files/{id}/content, POST /batches, GET /batches[/{id}],
 * POST /batches/{id}/cancel.  An input line is {custom_id, method, url,
 * body}, body the CreateChatCompletionRequest the one-by-one client sends.
 */
#include <stdlib.h>
#include <string.h>

#include "batch_int.h"

static int line(const char *custom_id, json_t *body, struct buf *out)
{
	json_t *v = json_pack("{s:s, s:s, s:s, s:o}", "custom_id", custom_id, "method", "POST",
			      "url", "/v1/chat/completions", "body", body);

	return bline_add(v, out);
}

static void info_of(const json_t *v, struct llm_batch_info *out)
{
	const json_t *rc = json_object_get(v, "request_counts");
	const json_t *errs = json_object_get(json_object_get(v, "errors"), "data");

	memset(out, 0, sizeof(*out));
	bstr_copy(out->id, sizeof(out->id), v, "id");
	bstr_copy(out->status, sizeof(out->status), v, "status");
	bstr_copy(out->input_file, sizeof(out->input_file), v, "input_file_id");
	bstr_copy(out->output_file, sizeof(out->output_file), v, "output_file_id");
	bstr_copy(out->error_file, sizeof(out->error_file), v, "error_file_id");
	bstr_copy(out->tag, sizeof(out->tag), json_object_get(v, "metadata"), "clarifyd_batch");
	out->total = jsonx_int(rc, "total", 0);
	out->completed = jsonx_int(rc, "completed", 0);
	out->failed = jsonx_int(rc, "failed", 0);
	out->created_at = jsonx_int(v, "created_at", 0);
	if (json_array_size(errs)) {
		const json_t *e0 = json_array_get(errs, 0);

		snprintf(out->errors, sizeof(out->errors), "%s%s%s",
			 jsonx_str(e0, "code") ? jsonx_str(e0, "code") : "",
			 jsonx_str(e0, "code") ? ": " : "",
			 jsonx_str(e0, "message") ? jsonx_str(e0, "message") : "invalid input");
	}
}

/* ---- files ----------------------------------------------------------------------- */

struct upload_arg {
	const char *path, *filename;
};

static curl_mime *upload_form(CURL *e, void *arg)
{
	const struct upload_arg *u = arg;
	curl_mime *m = curl_mime_init(e);
	curl_mimepart *part;

	if (!m)
		return NULL;
	part = curl_mime_addpart(m);
	curl_mime_name(part, "purpose");
	curl_mime_data(part, "batch", CURL_ZERO_TERMINATED);
	part = curl_mime_addpart(m);
	curl_mime_name(part, "file");
	if (curl_mime_filedata(part, u->path) != CURLE_OK) {
		curl_mime_free(m);
		return NULL;
	}
	curl_mime_filename(part, u->filename);
	curl_mime_type(part, "application/jsonl");
	return m;
}

static int upload(const struct llm_options *o, const char *path, const char *filename,
		  char file_id[LLM_BATCH_ID_MAX])
{
	struct upload_arg u = { path, filename };
	struct bcall c = { .method = "POST", .path = "/files", .form = upload_form,
			   .form_arg = &u };
	json_t *v;
	int rc;

	buf_init(&c.body, 0);
	rc = bcall_run(o, &c);
	if (!rc) {
		v = jsonx_parse(c.body.data ? c.body.data : "", c.body.len, "/files");
		bstr_copy(file_id, LLM_BATCH_ID_MAX, v, "id");
		json_decref(v);
		if (!file_id[0])
			rc = err_set(CL_EIO, "POST /files: the reply has no file id");
	}
	bcall_release(&c);
	return rc;
}

/* Every page of a list endpoint: match(item) 1 stops with it in *found. */
static int list_find(const struct llm_options *o, const char *path,
		     int (*match)(const json_t *item, const void *arg), const void *arg,
		     json_t **found)
{
	char url[1024], after[LLM_BATCH_ID_MAX] = "";
	int rc;

	*found = NULL;
	for (int page = 0; page < 10000; page++) {
		json_t *v, *item;
		size_t i;

		snprintf(url, sizeof(url), "%s%slimit=100%s%s", path, strchr(path, '?') ? "&" : "?",
			 after[0] ? "&after=" : "", after);
		rc = bcall_json(o, "GET", url, NULL, &v);
		if (rc)
			return rc;
		json_array_foreach(json_object_get(v, "data"), i, item)
			if (match(item, arg)) {
				*found = json_incref(item);
				json_decref(v);
				return 1;
			}
		item = json_array_get(json_object_get(v, "data"),
				      json_array_size(json_object_get(v, "data")) - 1);
		if (!json_is_true(json_object_get(v, "has_more")) || !item) {
			json_decref(v);
			return 0;
		}
		if (jsonx_str(v, "last_id"))
			bstr_copy(after, sizeof(after), v, "last_id");
		else
			bstr_copy(after, sizeof(after), item, "id");
		json_decref(v);
	}
	return 0;
}

static int file_named(const json_t *item, const void *arg)
{
	const char *name = jsonx_str(item, "filename");

	return name && !strcmp(name, arg);
}

static int find_file(const struct llm_options *o, const char *filename,
		     char file_id[LLM_BATCH_ID_MAX])
{
	json_t *f;
	int rc = list_find(o, "/files?purpose=batch", file_named, filename, &f);

	if (rc == 1)
		bstr_copy(file_id, LLM_BATCH_ID_MAX, f, "id");
	json_decref(f);
	return rc;
}

static int download(const struct llm_options *o, const char *file_id, FILE *f)
{
	char path[LLM_BATCH_ID_MAX + 32];
	struct bcall c = { .method = "GET", .path = path, .f = f };
	int rc;

	snprintf(path, sizeof(path), "/files/%s/content", file_id);
	buf_init(&c.body, 0);
	rc = bcall_run(o, &c);
	bcall_release(&c);
	return rc;
}

/* ---- batches ------------------------------------------------------------------- */

static int create(const struct llm_options *o, const char *file_id, const char *tag,
		  struct llm_batch_info *out)
{
	json_t *req = json_pack("{s:s, s:s, s:s, s:{s:s}}", "input_file_id", file_id, "endpoint",
				"/v1/chat/completions", "completion_window", "24h", "metadata",
				"clarifyd_batch", tag);
	char *body = req ? json_dumps(req, JSON_COMPACT) : NULL;
	json_t *v = NULL;
	int rc;

	json_decref(req);
	if (!body)
		return CL_ENOMEM;
	rc = bcall_json(o, "POST", "/batches", body, &v);
	free(body);
	if (!rc) {
		info_of(v, out);
		if (!out->id[0])
			rc = err_set(CL_EIO, "POST /batches: the reply has no batch id");
	}
	json_decref(v);
	return rc;
}

static int batch_tagged(const json_t *item, const void *arg)
{
	const char *tag = jsonx_str(json_object_get(item, "metadata"), "clarifyd_batch");

	return tag && !strcmp(tag, arg);
}

static int find(const struct llm_options *o, const char *tag, struct llm_batch_info *out)
{
	json_t *b;
	int rc = list_find(o, "/batches", batch_tagged, tag, &b);

	if (rc == 1)
		info_of(b, out);
	json_decref(b);
	return rc;
}

static int batch_call(const struct llm_options *o, const char *method, const char *id,
		      const char *suffix, struct llm_batch_info *out)
{
	char path[LLM_BATCH_ID_MAX + 32];
	json_t *v;
	int rc;

	snprintf(path, sizeof(path), "/batches/%s%s", id, suffix);
	rc = bcall_json(o, method, path, NULL, &v);
	if (!rc)
		info_of(v, out);
	json_decref(v);
	return rc;
}

static int get(const struct llm_options *o, const char *id, struct llm_batch_info *out)
{
	return batch_call(o, "GET", id, "", out);
}

static int cancel(const struct llm_options *o, const char *id, struct llm_batch_info *out)
{
	return batch_call(o, "POST", id, "/cancel", out);
}

/* ---- output lines -------------------------------------------------------------- */

/* {custom_id, response: {status_code, body}, error}: error set for a
 * request that failed, status_code other than 200 for one refused. */
static int parse_line(const struct llm_provider *p, json_t *v, char id[LLM_BATCH_ID_MAX],
		      struct llm_request *r)
{
	const char *cid = jsonx_str(v, "custom_id");
	const json_t *resp = json_object_get(v, "response"), *err = json_object_get(v, "error");

	if (!cid)
		return CL_EPARSE;
	snprintf(id, LLM_BATCH_ID_MAX, "%s", cid);
	r->status = LLM_EREFUSED;
	if (json_is_object(err)) {
		llm_set_error(r, "batch: %s: %s",
			      jsonx_str(err, "code") ? jsonx_str(err, "code") : "error",
			      jsonx_str(err, "message") ? jsonx_str(err, "message") : "failed");
	} else if (!json_is_object(resp)) {
		llm_set_error(r, "%s", "batch: the line has neither response nor error");
	} else if (jsonx_int(resp, "status_code", 0) != 200) {
		const json_t *e = json_object_get(json_object_get(resp, "body"), "error");

		llm_set_error(r, "batch: HTTP %lld: %.200s",
			      (long long)jsonx_int(resp, "status_code", 0),
			      jsonx_str(e, "message") ? jsonx_str(e, "message") : "");
	} else {
		return bparse_reply(p, json_object_get(resp, "body"), r);
	}
	return 0;
}

const struct llm_batch_api llm_batch_openai = {
	.line = line,
	.upload = upload,
	.find_file = find_file,
	.create = create,
	.find = find,
	.get = get,
	.cancel = cancel,
	.download = download,
	.parse_line = parse_line,
};
