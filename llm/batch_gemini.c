/*
 * batch_gemini.c - Gemini's batch mode, as published (v1beta):
 *
 *   POST /upload/v1beta/files          resumable upload: start (the file's
 *                                      display name), then the bytes to the
 *                                      session URL in X-Goog-Upload-URL
 *   GET  {base}/files                  a list (pageSize, pageToken)
 *   POST {base}/models/{m}:batchGenerateContent
 *        {batch: {display_name, input_config: {file_name}}} -> an Operation
 *   GET  {base}/batches/{id}, GET {base}/batches (a list of Operations),
 *   POST {base}/batches/{id}:cancel
 *   GET  /download/v1beta/files/{id}:download?alt=media
 *
 * An input line is {key, request}, request the GenerateContentRequest the
 * one-by-one client sends; an output line {key, response} or {key, error}
 * (the error as google.rpc.Status).  The batch's state (BATCH_STATE_*, or
 * JOB_STATE_* as some replies spell it) is told in batch.h's words, so the
 * caller sees one vocabulary: validating, in_progress, completed, failed,
 * cancelled, expired.  Gemini has no error file: failed lines are in the
 * responses file.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "batch_int.h"

static int line(const char *custom_id, json_t *body, struct buf *out)
{
	json_t *v = json_pack("{s:s, s:o}", "key", custom_id, "request", body);

	return bline_add(v, out);
}

/*
 * The base URL with prefix before its path: the upload and download
 * endpoints live beside the API's, https://host/upload/v1beta/... for
 * https://host/v1beta.
 */
static void beside(const struct llm_options *o, const char *prefix, const char *rest,
		   char *out, size_t n)
{
	const char *base = llm_base_url(o), *host = strstr(base, "://");
	const char *path = host ? strchr(host + 3, '/') : NULL;
	size_t hlen = path ? (size_t)(path - base) : strlen(base);

	snprintf(out, n, "%.*s%s%s%s", (int)hlen, base, prefix, path ? path : "", rest);
}

/* A count of BatchStats: int64 is a JSON string in Google's APIs. */
static int64_t count(const json_t *v, const char *key)
{
	const json_t *c = json_object_get(v, key);
	int64_t n = 0;

	if (json_is_integer(c))
		return json_integer_value(c);
	if (json_is_string(c) && parse_i64(json_string_value(c), 0, INT64_MAX, &n) == 0)
		return n;
	return 0;
}

static const char *status_of(const char *state)
{
	static const struct {
		const char *suffix, *status;
	} map[] = {
		{ "_PENDING", "validating" },   { "_RUNNING", "in_progress" },
		{ "_SUCCEEDED", "completed" },  { "_FAILED", "failed" },
		{ "_CANCELLED", "cancelled" },  { "_EXPIRED", "expired" },
	};

	if (!state)
		return "validating";
	for (size_t i = 0; i < CL_ARRAY_SIZE(map); i++) {
		size_t n = strlen(state), k = strlen(map[i].suffix);

		if (n > k && !strcmp(state + n - k, map[i].suffix))
			return map[i].status;
	}
	return "in_progress"; /* a state this file does not know: not final */
}

/* An Operation (or the GenerateContentBatch it holds as metadata). */
static void info_of(const json_t *op, struct llm_batch_info *out)
{
	const json_t *m = json_object_get(op, "metadata");
	const json_t *st, *resp = json_object_get(op, "response"), *err;

	if (!json_is_object(m))
		m = op; /* a bare GenerateContentBatch */
	st = json_object_get(m, "batchStats");
	memset(out, 0, sizeof(*out));
	bstr_copy(out->id, sizeof(out->id), op, "name");
	if (!out->id[0])
		bstr_copy(out->id, sizeof(out->id), m, "name");
	snprintf(out->status, sizeof(out->status), "%s", status_of(jsonx_str(m, "state")));
	bstr_copy(out->input_file, sizeof(out->input_file), json_object_get(m, "inputConfig"),
	      "fileName");
	bstr_copy(out->output_file, sizeof(out->output_file), resp, "responsesFile");
	if (!out->output_file[0])
		bstr_copy(out->output_file, sizeof(out->output_file), json_object_get(m, "output"),
		      "responsesFile");
	bstr_copy(out->tag, sizeof(out->tag), m, "displayName");
	out->total = count(st, "requestCount");
	out->completed = count(st, "successfulRequestCount");
	out->failed = count(st, "failedRequestCount");
	err = json_object_get(op, "error");
	if (json_is_object(err))
		snprintf(out->errors, sizeof(out->errors), "%lld: %s",
			 (long long)jsonx_int(err, "code", 0),
			 jsonx_str(err, "message") ? jsonx_str(err, "message") : "failed");
}

/* ---- files ----------------------------------------------------------------------- */

static int upload(const struct llm_options *o, const char *path, const char *filename,
		  char file_id[LLM_BATCH_ID_MAX])
{
	char url[2048], len_hdr[96];
	struct bcall c = { .method = "POST", .path = "/files (upload start)", .url = url,
			   .catch_header = "x-goog-upload-url:" };
	json_t *req, *v;
	struct stat st;
	char *json;
	FILE *f;
	int rc;

	f = fopen(path, "rb");
	if (!f || fstat(fileno(f), &st)) {
		if (f)
			fclose(f);
		return err_set(CL_EIO, "cannot read '%s'", path);
	}
	beside(o, "/upload", "/files", url, sizeof(url));
	snprintf(len_hdr, sizeof(len_hdr), "X-Goog-Upload-Header-Content-Length: %lld",
		 (long long)st.st_size);
	req = json_pack("{s:{s:s}}", "file", "display_name", filename);
	json = req ? json_dumps(req, JSON_COMPACT) : NULL;
	json_decref(req);
	if (!json) {
		fclose(f);
		return CL_ENOMEM;
	}
	c.json = json;
	c.headers[0] = "X-Goog-Upload-Protocol: resumable";
	c.headers[1] = "X-Goog-Upload-Command: start";
	c.headers[2] = len_hdr;
	c.headers[3] = "X-Goog-Upload-Header-Content-Type: application/jsonl";
	buf_init(&c.body, 0);
	rc = bcall_run(o, &c);
	free(json);
	if (!rc && !c.caught[0])
		rc = err_set(CL_EIO, "POST /upload/files: the reply has no X-Goog-Upload-URL");
	if (!rc) {
		/* the session's own URL: it carries the upload's authority, not the key */
		struct bcall u = { .method = "POST", .path = "/files (upload)", .url = c.caught,
				   .no_key = 1, .upload = f, .upload_len = (curl_off_t)st.st_size };

		u.headers[0] = "X-Goog-Upload-Offset: 0";
		u.headers[1] = "X-Goog-Upload-Command: upload, finalize";
		buf_init(&u.body, 0);
		rc = bcall_run(o, &u);
		if (!rc) {
			v = jsonx_parse(u.body.data ? u.body.data : "", u.body.len, "/upload/files");
			bstr_copy(file_id, LLM_BATCH_ID_MAX, json_object_get(v, "file"), "name");
			json_decref(v);
			if (!file_id[0])
				rc = err_set(CL_EIO, "POST /upload/files: the reply has no file name");
		}
		bcall_release(&u);
	}
	bcall_release(&c);
	fclose(f);
	return rc;
}

/* Every page of a list: items under key, match(item) 1 stops with it. */
static int list_find(const struct llm_options *o, const char *path, const char *key,
		     int (*match)(const json_t *item, const void *arg), const void *arg,
		     json_t **found)
{
	char url[1024], token[512] = ""; /* the next page's token, escaped for the URL */
	int rc;

	*found = NULL;
	for (int page = 0; page < 10000; page++) {
		json_t *v, *item;
		char *esc;
		size_t i;

		snprintf(url, sizeof(url), "%s?pageSize=100%s%s", path, token[0] ? "&pageToken=" : "",
			 token);
		rc = bcall_json(o, "GET", url, NULL, &v);
		if (rc)
			return rc;
		json_array_foreach(json_object_get(v, key), i, item)
			if (match(item, arg)) {
				*found = json_incref(item);
				json_decref(v);
				return 1;
			}
		esc = jsonx_str(v, "nextPageToken") ?
			      curl_easy_escape(NULL, jsonx_str(v, "nextPageToken"), 0) : NULL;
		snprintf(token, sizeof(token), "%s", esc ? esc : "");
		curl_free(esc);
		json_decref(v);
		if (!token[0])
			return 0;
	}
	return 0;
}

static int file_named(const json_t *item, const void *arg)
{
	const char *name = jsonx_str(item, "displayName");

	return name && !strcmp(name, arg);
}

static int find_file(const struct llm_options *o, const char *filename,
		     char file_id[LLM_BATCH_ID_MAX])
{
	json_t *f;
	int rc = list_find(o, "/files", "files", file_named, filename, &f);

	if (rc == 1)
		bstr_copy(file_id, LLM_BATCH_ID_MAX, f, "name");
	json_decref(f);
	return rc;
}

static int download(const struct llm_options *o, const char *file_id, FILE *f)
{
	char url[2048], rest[LLM_BATCH_ID_MAX + 40];
	struct bcall c = { .method = "GET", .path = file_id, .url = url, .f = f };
	int rc;

	snprintf(rest, sizeof(rest), "/%s:download?alt=media", file_id);
	beside(o, "/download", rest, url, sizeof(url));
	buf_init(&c.body, 0);
	rc = bcall_run(o, &c);
	bcall_release(&c);
	return rc;
}

/* ---- batches ------------------------------------------------------------------- */

static int create(const struct llm_options *o, const char *file_id, const char *tag,
		  struct llm_batch_info *out)
{
	json_t *req = json_pack("{s:{s:s, s:{s:s}}}", "batch", "display_name", tag,
				"input_config", "file_name", file_id);
	char *body = req ? json_dumps(req, JSON_COMPACT) : NULL;
	char path[512];
	json_t *v = NULL;
	int rc;

	json_decref(req);
	if (!body)
		return CL_ENOMEM;
	snprintf(path, sizeof(path), "/models/%s:batchGenerateContent", o->model ? o->model : "");
	rc = bcall_json(o, "POST", path, body, &v);
	free(body);
	if (!rc) {
		info_of(v, out);
		if (!out->id[0])
			rc = err_set(CL_EIO, "POST %s: the reply has no batch name", path);
	}
	json_decref(v);
	return rc;
}

static int batch_tagged(const json_t *item, const void *arg)
{
	const json_t *m = json_object_get(item, "metadata");
	const char *tag = jsonx_str(json_is_object(m) ? m : item, "displayName");

	return tag && !strcmp(tag, arg);
}

static int find(const struct llm_options *o, const char *tag, struct llm_batch_info *out)
{
	json_t *b;
	int rc = list_find(o, "/batches", "operations", batch_tagged, tag, &b);

	if (rc == 1)
		info_of(b, out);
	json_decref(b);
	return rc;
}

/* A batch's name is batches/{id}: its path is the name, and suffix. */
static int batch_path(const char *id, const char *suffix, char *out, size_t n)
{
	if (strncmp(id, "batches/", 8))
		return err_set(CL_EINVAL, "'%s' is not a Gemini batch name (batches/...)", id);
	snprintf(out, n, "/%s%s", id, suffix);
	return 0;
}

static int get(const struct llm_options *o, const char *id, struct llm_batch_info *out)
{
	char path[LLM_BATCH_ID_MAX + 32];
	json_t *v = NULL;
	int rc = batch_path(id, "", path, sizeof(path));

	if (!rc)
		rc = bcall_json(o, "GET", path, NULL, &v);
	if (!rc)
		info_of(v, out);
	json_decref(v);
	return rc;
}

/* :cancel answers an empty object: the batch as it stands is a GET. */
static int cancel(const struct llm_options *o, const char *id, struct llm_batch_info *out)
{
	char path[LLM_BATCH_ID_MAX + 32];
	json_t *v = NULL;
	int rc = batch_path(id, ":cancel", path, sizeof(path));

	if (!rc)
		rc = bcall_json(o, "POST", path, "{}", &v);
	json_decref(v);
	return rc ? rc : get(o, id, out);
}

/* ---- output lines -------------------------------------------------------------- */

/* {key, response: GenerateContentResponse} or {key, error|status: Status} */
static int parse_line(const struct llm_provider *p, json_t *v, char id[LLM_BATCH_ID_MAX],
		      struct llm_request *r)
{
	const char *key = jsonx_str(v, "key");
	const json_t *resp = json_object_get(v, "response"), *err = json_object_get(v, "error");

	if (!key)
		return CL_EPARSE;
	snprintf(id, LLM_BATCH_ID_MAX, "%s", key);
	if (!json_is_object(err))
		err = json_object_get(v, "status");
	r->status = LLM_EREFUSED;
	if (json_is_object(err) && jsonx_int(err, "code", 0) != 0) {
		llm_set_error(r, "batch: %lld %s: %s", (long long)jsonx_int(err, "code", 0),
			      jsonx_str(err, "status") ? jsonx_str(err, "status") : "error",
			      jsonx_str(err, "message") ? jsonx_str(err, "message") : "failed");
	} else if (!json_is_object(resp)) {
		llm_set_error(r, "%s", "batch: the line has neither response nor error");
	} else {
		return bparse_reply(p, resp, r);
	}
	return 0;
}

const struct llm_batch_api llm_batch_gemini = {
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
