/*
 * batch.c - OpenAI's Files and Batches API (see batch.h), over libcurl's
 * easy interface: a batch makes a handful of calls in a day, each made
 * and waited for on the daemon's batch thread.
 */
#include <curl/curl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "batch.h"
#include "provider.h"

#define ERROR_BODY_MAX (64 * 1024)

int llm_batch_final(const char *status)
{
	return status && (!strcmp(status, "completed") || !strcmp(status, "failed") ||
			  !strcmp(status, "expired") || !strcmp(status, "cancelled"));
}

int llm_batch_line(const struct llm_options *o, const char *custom_id, const char *body,
		   size_t body_len, struct buf *out)
{
	json_t *b = jsonx_parse(body, body_len, "request body"), *line;
	char *text;
	int rc;

	(void)o;
	if (!json_is_object(b)) {
		json_decref(b);
		return err_set(CL_EINVAL, "batch line %s: the body is not a JSON object", custom_id);
	}
	line = json_pack("{s:s, s:s, s:s, s:o}", "custom_id", custom_id, "method", "POST", "url",
			 "/v1/chat/completions", "body", b);
	text = line ? json_dumps(line, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	json_decref(line);
	if (!text)
		return CL_ENOMEM;
	rc = buf_adds(out, text);
	if (!rc)
		rc = buf_addc(out, '\n');
	free(text);
	return rc;
}

/* ---- one call ------------------------------------------------------------------ */

struct call {
	struct buf body;           /* the reply, unless streamed to f */
	FILE *f;
	long http;
};

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
	struct call *c = arg;

	if (c->f)
		return fwrite(p, size, n, c->f) == n ? size * n : 0;
	if (c->body.len + size * n > ERROR_BODY_MAX * 64)
		return 0;
	return buf_add(&c->body, p, size * n) ? 0 : size * n;
}

/*
 * method path (under the base URL): with a JSON body (json), a form
 * (mime), or none; the reply into c->body, or into f when it is a 2xx.
 * 0 for a 2xx, else CL_EINVAL (refused), CL_EIO (a transport failure or
 * 5xx: passing), with the reason.
 */
static int call(const struct llm_options *o, const char *method, const char *path,
		const char *json, curl_mime *(*form)(CURL *, void *), void *form_arg,
		struct call *c, int stream)
{
	const struct llm_provider *p = llm_provider_get(o->provider);
	char url[2048], auth[1024];
	struct curl_slist *h = NULL;
	curl_mime *mime = NULL;
	CURL *e;
	CURLcode cc;
	int rc = 0;

	if (!p || !p->auth_header)
		return err_set(CL_EINVAL, "llm.mode batch needs llm.provider openai");
	e = curl_easy_init();
	if (!e)
		return CL_ENOMEM;
	snprintf(url, sizeof(url), "%s%s", llm_base_url(o), path);
	p->auth_header(o, auth, sizeof(auth));
	h = curl_slist_append(h, auth);
	memset(auth, 0, sizeof(auth));
	if (json)
		h = curl_slist_append(h, "Content-Type: application/json");
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)(o->connect_timeout * 1000));
	if (!stream && !form)
		curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)(o->request_timeout * 1000));
	curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, (long)fmax(1, o->stall_timeout));
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, c);
	if (json) {
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, json);
	} else if (form) {
		mime = form(e, form_arg);
		if (!mime) {
			rc = CL_ENOMEM;
			goto out;
		}
		curl_easy_setopt(e, CURLOPT_MIMEPOST, mime);
	}
	if (strcmp(method, "GET") && !json && !form)
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, "");
	cc = curl_easy_perform(e);
	curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &c->http);
	if (cc != CURLE_OK && !(cc == CURLE_WRITE_ERROR && c->f == NULL && c->http >= 300)) {
		rc = err_set(CL_EIO, "%s %s: %s", method, path, curl_easy_strerror(cc));
		goto out;
	}
	if (c->http / 100 != 2) {
		int code = c->http >= 500 || c->http == 429 || c->http == 408 ? CL_EIO : CL_EINVAL;

		rc = err_set(code, "%s %s: HTTP %ld: %.200s", method, path, c->http,
			     c->body.len ? c->body.data : "");
	}
out:
	curl_mime_free(mime);
	curl_slist_free_all(h);
	curl_easy_cleanup(e);
	return rc;
}

/* A JSON reply of a 2xx call. */
static int call_json(const struct llm_options *o, const char *method, const char *path,
		     const char *body, json_t **out)
{
	struct call c = { .f = NULL };
	int rc;

	*out = NULL;
	buf_init(&c.body, 0);
	rc = call(o, method, path, body, NULL, NULL, &c, 0);
	if (!rc) {
		*out = jsonx_parse(c.body.data ? c.body.data : "", c.body.len, path);
		if (!*out)
			rc = err_set(CL_EIO, "%s %s: the reply is not JSON", method, path);
	}
	buf_release(&c.body);
	return rc;
}

static void copy(char *dst, size_t n, const json_t *v, const char *key)
{
	const char *s = jsonx_str(v, key);

	snprintf(dst, n, "%s", s ? s : "");
}

static void info_of(const json_t *v, struct llm_batch_info *out)
{
	const json_t *rc = json_object_get(v, "request_counts");
	const json_t *errs = json_object_get(json_object_get(v, "errors"), "data");

	memset(out, 0, sizeof(*out));
	copy(out->id, sizeof(out->id), v, "id");
	copy(out->status, sizeof(out->status), v, "status");
	copy(out->input_file, sizeof(out->input_file), v, "input_file_id");
	copy(out->output_file, sizeof(out->output_file), v, "output_file_id");
	copy(out->error_file, sizeof(out->error_file), v, "error_file_id");
	copy(out->tag, sizeof(out->tag), json_object_get(v, "metadata"), "clarifyd_batch");
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

struct upload {
	const char *path, *filename;
};

static curl_mime *upload_form(CURL *e, void *arg)
{
	const struct upload *u = arg;
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

int llm_batch_upload(const struct llm_options *o, const char *path, const char *filename,
		     char file_id[LLM_BATCH_ID_MAX])
{
	struct upload u = { path, filename };
	struct call c = { .f = NULL };
	json_t *v;
	int rc;

	file_id[0] = '\0';
	buf_init(&c.body, 0);
	rc = call(o, "POST", "/files", NULL, upload_form, &u, &c, 0);
	if (!rc) {
		v = jsonx_parse(c.body.data ? c.body.data : "", c.body.len, "/files");
		copy(file_id, LLM_BATCH_ID_MAX, v, "id");
		json_decref(v);
		if (!file_id[0])
			rc = err_set(CL_EIO, "POST /files: the reply has no file id");
	}
	buf_release(&c.body);
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
		rc = call_json(o, "GET", url, NULL, &v);
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
			copy(after, sizeof(after), v, "last_id");
		else
			copy(after, sizeof(after), item, "id");
		json_decref(v);
	}
	return 0;
}

static int file_named(const json_t *item, const void *arg)
{
	const char *name = jsonx_str(item, "filename");

	return name && !strcmp(name, arg);
}

int llm_batch_find_file(const struct llm_options *o, const char *filename,
			char file_id[LLM_BATCH_ID_MAX])
{
	json_t *f;
	int rc = list_find(o, "/files?purpose=batch", file_named, filename, &f);

	file_id[0] = '\0';
	if (rc == 1)
		copy(file_id, LLM_BATCH_ID_MAX, f, "id");
	json_decref(f);
	return rc;
}

int llm_batch_download(const struct llm_options *o, const char *file_id, FILE *f)
{
	struct call c = { .f = f };
	char path[LLM_BATCH_ID_MAX + 32];
	int rc;

	buf_init(&c.body, 0);
	snprintf(path, sizeof(path), "/files/%s/content", file_id);
	rc = call(o, "GET", path, NULL, NULL, NULL, &c, 1);
	buf_release(&c.body);
	if (!rc && fflush(f))
		rc = err_set(CL_EIO, "cannot write the content of %s", file_id);
	return rc;
}

/* ---- batches ------------------------------------------------------------------- */

int llm_batch_create(const struct llm_options *o, const char *file_id, const char *tag,
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
	rc = call_json(o, "POST", "/batches", body, &v);
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

int llm_batch_find(const struct llm_options *o, const char *tag, struct llm_batch_info *out)
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
	rc = call_json(o, method, path, NULL, &v);
	if (!rc)
		info_of(v, out);
	json_decref(v);
	return rc;
}

int llm_batch_get(const struct llm_options *o, const char *id, struct llm_batch_info *out)
{
	return batch_call(o, "GET", id, "", out);
}

int llm_batch_cancel(const struct llm_options *o, const char *id, struct llm_batch_info *out)
{
	return batch_call(o, "POST", id, "/cancel", out);
}

/* ---- output lines -------------------------------------------------------------- */

int llm_batch_parse_line(const struct llm_options *o, const char *line, size_t n,
			 char id[LLM_BATCH_ID_MAX], struct llm_request *r)
{
	const struct llm_provider *p = llm_provider_get(o->provider);
	json_t *v = jsonx_parse(line, n, "batch output line"), *resp, *err;
	const char *cid = jsonx_str(v, "custom_id");
	int rc = 0;

	id[0] = '\0';
	if (!cid) {
		json_decref(v);
		return CL_EPARSE;
	}
	snprintf(id, LLM_BATCH_ID_MAX, "%s", cid);
	resp = json_object_get(v, "response");
	err = json_object_get(v, "error");
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
		char *body = json_dumps(json_object_get(resp, "body"), JSON_COMPACT);

		if (!body) {
			rc = CL_ENOMEM;
		} else if (p->parse(body, strlen(body), r) == 0) {
			r->status = LLM_OK;
		}
		free(body);
	}
	json_decref(v);
	return rc;
}
