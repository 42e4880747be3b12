/*
 * batch_gemini.c - fakellm's Gemini files and batch mode, as published
 * (v1beta), over the files and batches batch.c holds:
 *
 *   POST /upload/v1beta/files       resumable: X-Goog-Upload-Command start
 *                                   ({file: {display_name}}) answers the
 *                                   session URL in X-Goog-Upload-URL; "upload,
 *                                   finalize" to it with the bytes answers {file}
 *   GET  /v1beta/files              {files, nextPageToken} (pageSize, pageToken)
 *   GET  /download/v1beta/files/{id}:download?alt=media
 *   POST /v1beta/models/{m}:batchGenerateContent
 *        {batch: {display_name, input_config: {file_name}}} -> an Operation
 *   GET  /v1beta/batches/{id}, GET /v1beta/batches ({operations, nextPageToken}),
 *   POST /v1beta/batches/{id}:cancel
 *
 * An input line is {key, request: GenerateContentRequest}; an output line
 * {key, response: GenerateContentResponse} or {key, error: Status}, both
 * in the one responses file.  The faults are batch.c's.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "batch_int.h"

/* google.rpc.Status as the API answers an error */
static int gerror(struct fb_http *h, int code, const char *status, const char *msg)
{
	return fb_reply(h, code, json_pack("{s:{s:i, s:s, s:s}}", "error", "code", code, "message",
					    msg, "status", status));
}

static void rfc3339(int64_t t, char out[32])
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* ---- files ------------------------------------------------------------------- */

static json_t *file_json(const struct ffile *f)
{
	char when[32], size[32];

	rfc3339(f->created, when);
	snprintf(size, sizeof(size), "%zu", f->len);
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "name", f->id, "displayName",
			 f->name, "mimeType", "application/jsonl", "sizeBytes", size, "createTime",
			 when, "state", "ACTIVE", "uri", f->id);
}

/* start: a session for {file: {display_name}}, its URL in a header */
static int upload_start(struct fbatch *fb, struct fb_http *h)
{
	json_t *req = json_loadb(h->body, h->n, 0, NULL), *file = json_object_get(req, "file");
	const char *name = jsonx_str(file, "display_name"), *len, *host = fb_arg(h, 1, "Host");
	struct fb_session *s;
	int64_t declared = -1;

	if (!name)
		name = jsonx_str(file, "displayName");
	len = fb_arg(h, 1, "X-Goog-Upload-Header-Content-Length");
	if (len && parse_i64(len, 0, (int64_t)FBATCH_UPLOAD_MAX, &declared))
		declared = -1;
	if (fb->upload500) {
		fb->upload500 = 0;
		json_decref(req);
		return gerror(h, 500, "INTERNAL", "the upload failed (a fault)");
	}
	if (!fb_arg(h, 1, "X-Goog-Upload-Protocol") ||
	    strcmp(fb_arg(h, 1, "X-Goog-Upload-Protocol"), "resumable") || declared < 0 || !host) {
		json_decref(req);
		return gerror(h, 400, "INVALID_ARGUMENT",
			      "X-Goog-Upload-Protocol resumable and "
			      "X-Goog-Upload-Header-Content-Length (at most 512 MiB) are required");
	}
	if (fb->nsessions == fb->capsessions &&
	    ARRAY_GROW(fb->sessions, fb->capsessions, fb->nsessions, 8)) {
		json_decref(req);
		return -1;
	}
	s = &fb->sessions[fb->nsessions++];
	s->id = ++fb->seq;
	s->declared = declared;
	snprintf(s->name, sizeof(s->name), "%s", name ? name : "upload.jsonl");
	json_decref(req);
	snprintf(h->hdr_name, sizeof(h->hdr_name), "%s", "X-Goog-Upload-URL");
	snprintf(h->hdr_value, sizeof(h->hdr_value),
		 "http://%.900s/upload/v1beta/files?upload_id=%u", host, s->id);
	h->out = strdup("");
	h->len = 0;
	h->status = 200;
	h->type = "text/plain";
	return h->out ? 0 : -1;
}

/* "upload, finalize" to the session's URL: the bytes become a file */
static int upload_finish(struct fbatch *fb, struct fb_http *h, const char *upload_id)
{
	int64_t id = 0;
	struct fb_session *s = NULL;
	struct ffile *f;
	char *copy;

	if (parse_i64(upload_id, 1, UINT32_MAX, &id) == 0)
		for (size_t i = 0; i < fb->nsessions; i++)
			if (fb->sessions[i].id == (unsigned)id)
				s = &fb->sessions[i];
	if (!s)
		return gerror(h, 404, "NOT_FOUND", "no such upload session");
	if ((int64_t)h->n != s->declared)
		return gerror(h, 400, "INVALID_ARGUMENT",
			      "the bytes sent are not the length the start declared");
	copy = malloc(h->n + 1);
	if (!copy)
		return -1;
	memcpy(copy, h->body, h->n);
	copy[h->n] = '\0';
	f = fb_file_add(fb, "files/in", s->name, copy, h->n);
	if (!f) {
		free(copy);
		return -1;
	}
	*s = fb->sessions[--fb->nsessions];
	fb_log(fb, json_pack("{s:s, s:s, s:s, s:I}", "event", "file-upload", "id", f->id,
			     "filename", f->name, "bytes", (json_int_t)f->len));
	return fb_reply(h, 200, json_pack("{s:o}", "file", file_json(f)));
}

/* A page of items: pageSize (default 10, at most 100), pageToken "pN". */
static int page(struct fb_http *h, json_t *items, const char *key)
{
	const char *size = fb_arg(h, 0, "pageSize"), *token = fb_arg(h, 0, "pageToken");
	long lim = size ? strtol(size, NULL, 10) : 10, start = 0;
	json_t *out = json_object(), *part = json_array();
	size_t i;

	if (lim <= 0 || lim > 100)
		lim = 10;
	if (token && token[0] == 'p')
		start = strtol(token + 1, NULL, 10);
	if (start < 0)
		start = 0;
	for (i = (size_t)start; i < json_array_size(items) && i < (size_t)(start + lim); i++)
		json_array_append(part, json_array_get(items, i));
	json_object_set_new(out, key, part);
	if (i < json_array_size(items)) {
		char next[32];

		snprintf(next, sizeof(next), "p%zu", i);
		json_object_set_new(out, "nextPageToken", json_string(next));
	}
	return fb_reply(h, 200, out);
}

/* ---- batches ----------------------------------------------------------------- */

static const char *gcheck(const json_t *v, const char **why)
{
	const json_t *req = json_object_get(v, "request"), *c;
	const char *key = jsonx_str(v, "key");
	size_t i;

	if (!key)
		*why = "key is missing";
	else if (!json_is_object(req) || !json_array_size(json_object_get(req, "contents")))
		*why = "request must be a GenerateContentRequest with contents";
	json_array_foreach(json_object_get(req, "contents"), i, c)
		if (!*why && !json_is_array(json_object_get(c, "parts")))
			*why = "each of contents must have parts";
	return *why ? NULL : key;
}

/* The request answered as :generateContent would answer it. */
static json_t *ganswer(const json_t *v, const char *id)
{
	const json_t *req = json_object_get(v, "request"), *c;
	const json_t *sys = json_object_get(req, "systemInstruction");
	struct buf prompt, user, text;
	json_t *line = NULL;
	size_t i;

	if (!sys)
		sys = json_object_get(req, "system_instruction");
	buf_init(&prompt, 0);
	buf_init(&user, 0);
	buf_init(&text, 0);
	content_text(json_object_get(sys, "parts"), &prompt);
	json_array_foreach(json_object_get(req, "contents"), i, c) {
		const char *role = jsonx_str(c, "role");

		content_text(json_object_get(c, "parts"), &prompt);
		if (!role || !strcmp(role, "user")) {
			buf_reset(&user);
			content_text(json_object_get(c, "parts"), &user);
		}
	}
	if (text_build(&prompt, &user, &text) == 0)
		line = json_pack("{s:s, s:{s:[{s:{s:[{s:s%}], s:s}, s:s, s:i}], s:{s:I, s:I, s:I}, "
				 "s:s}}",
				 "key", id, "response", "candidates", "content", "parts", "text",
				 text.data ? text.data : "", text.len, "role", "model",
				 "finishReason", "STOP", "index", 0, "usageMetadata",
				 "promptTokenCount", (json_int_t)tokens(prompt.len),
				 "candidatesTokenCount", (json_int_t)tokens(text.len),
				 "totalTokenCount", (json_int_t)(tokens(prompt.len) + tokens(text.len)),
				 "modelVersion", "fakellm");
	buf_release(&prompt);
	buf_release(&user);
	buf_release(&text);
	return line;
}

static json_t *gfail(const char *id)
{
	return json_pack("{s:s, s:{s:i, s:s, s:s}}", "key", id, "error", "code", 500, "message",
			 "the request failed (a fault)", "status", "INTERNAL");
}

static const struct fb_line_api gemini_lines = { gcheck, ganswer, gfail, 0, "key is not unique" };

/* The Operation of a batch as it stands now. */
static json_t *op_json(const struct fbatch *fb, const struct fb_batch *bt)
{
	static const char *const states[] = { "BATCH_STATE_PENDING",   "BATCH_STATE_RUNNING",
					      "BATCH_STATE_SUCCEEDED", "BATCH_STATE_EXPIRED",
					      "BATCH_STATE_FAILED",    "BATCH_STATE_CANCELLED" };
	enum fb_phase ph = fb_phase(fb, bt);
	int done = ph >= FB_COMPLETED, out = done && ph != FB_FAILED && bt->out_id[0];
	json_t *m = json_deep_copy(bt->obj), *op;
	char n[4][32];

	snprintf(n[0], 32, "%lld", (long long)bt->total);
	snprintf(n[1], 32, "%lld", (long long)(done ? bt->answered : 0));
	snprintf(n[2], 32, "%lld", (long long)(done ? bt->errors : 0));
	snprintf(n[3], 32, "%lld", (long long)(done ? 0 : bt->total));
	json_object_set_new(m, "state", json_string(states[ph]));
	json_object_set_new(m, "batchStats",
			    json_pack("{s:s, s:s, s:s, s:s}", "requestCount", n[0],
				      "successfulRequestCount", n[1], "failedRequestCount", n[2],
				      "pendingRequestCount", n[3]));
	if (out)
		json_object_set_new(m, "output", json_pack("{s:s}", "responsesFile", bt->out_id));
	op = json_pack("{s:s, s:o, s:b}", "name", bt->id, "metadata", m, "done", done);
	if (out)
		json_object_set_new(op, "response",
				    json_pack("{s:s, s:s}", "@type",
					      "type.googleapis.com/google.ai.generativelanguage."
					      "v1main.GenerateContentBatchOutput",
					      "responsesFile", bt->out_id));
	if (ph == FB_FAILED)
		json_object_set_new(op, "error", json_pack("{s:i, s:s}", "code", 3, "message",
							   bt->why[0] ? bt->why : "invalid input"));
	return op;
}

static int create(struct fbatch *fb, struct fb_http *h)
{
	json_t *req = json_loadb(h->body, h->n, 0, NULL), *b = json_object_get(req, "batch");
	const json_t *ic = json_object_get(b, "input_config");
	const char *name = jsonx_str(b, "display_name"), *fid;
	char model[256], when[32];
	struct ffile *in;
	struct fb_batch *bt;
	size_t mlen;

	if (!ic)
		ic = json_object_get(b, "inputConfig");
	if (!name)
		name = jsonx_str(b, "displayName");
	fid = jsonx_str(ic, "file_name") ? jsonx_str(ic, "file_name") : jsonx_str(ic, "fileName");
	in = fid ? fb_file_get(fb, fid, strlen(fid)) : NULL;
	if (!name || !in) {
		json_decref(req);
		return gerror(h, 400, "INVALID_ARGUMENT",
			      "batch.display_name and batch.input_config.file_name (an uploaded "
			      "file) are required");
	}
	mlen = strlen(h->url) - strlen("/v1beta/") - strlen(":batchGenerateContent");
	snprintf(model, sizeof(model), "%.*s", (int)mlen, h->url + strlen("/v1beta/"));
	bt = fb_batch_new(fb, "batches/b", FB_GEMINI);
	if (!bt) {
		json_decref(req);
		return -1;
	}
	rfc3339((int64_t)time(NULL), when);
	bt->obj = json_pack("{s:s, s:s, s:s, s:s, s:{s:s}, s:s}", "@type",
			    "type.googleapis.com/google.ai.generativelanguage.v1main."
			    "GenerateContentBatch",
			    "name", bt->id, "model", model, "displayName", name, "inputConfig",
			    "fileName", fid, "createTime", when);
	if (!bt->obj || fb_run(fb, bt, in, &gemini_lines)) {
		json_decref(req);
		return -1;
	}
	fb_log(fb, json_pack("{s:s, s:s, s:s, s:I}", "event", "batch-create", "id", bt->id, "tag",
			     name, "lines", (json_int_t)bt->total));
	json_decref(req);
	return fb_reply(h, 200, op_json(fb, bt));
}

int fb_gemini_answer(struct fbatch *fb, struct fb_http *h)
{
	const char *url = h->url, *upload_id = fb_arg(h, 0, "upload_id");
	int post = !strcmp(h->method, "POST"), rc;

	if (post && !strcmp(url, "/upload/v1beta/files")) {
		const char *cmd = fb_arg(h, 1, "X-Goog-Upload-Command");

		if (upload_id && cmd && strstr(cmd, "upload") && strstr(cmd, "finalize"))
			rc = upload_finish(fb, h, upload_id);
		else if (!upload_id && cmd && !strcmp(cmd, "start"))
			rc = upload_start(fb, h);
		else
			rc = gerror(h, 400, "INVALID_ARGUMENT",
				    "X-Goog-Upload-Command must be start, or upload, finalize "
				    "to a session's URL");
	} else if (!post && !strcmp(url, "/v1beta/files")) {
		json_t *items = json_array();

		for (size_t i = 0; i < fb->nfiles; i++)
			if (fb_starts(fb->files[i].id, "files/"))
				json_array_append_new(items, file_json(&fb->files[i]));
		rc = page(h, items, "files");
		json_decref(items);
	} else if (!post && fb_starts(url, "/download/v1beta/files/") &&
		   fb_ends(url, ":download")) {
		const char *id = url + strlen("/download/v1beta/");
		const char *alt = fb_arg(h, 0, "alt");

		if (!alt || strcmp(alt, "media"))
			rc = gerror(h, 400, "INVALID_ARGUMENT", "alt=media is required");
		else
			rc = fb_content(h, fb_file_get(fb, id, strlen(id) - strlen(":download")));
	} else if (post && fb_ends(url, ":batchGenerateContent")) {
		rc = create(fb, h);
	} else if (!post && !strcmp(url, "/v1beta/batches")) {
		json_t *items = json_array();

		for (size_t i = fb->nbatches; i-- > 0;)
			if (fb->batches[i].api == FB_GEMINI)
				json_array_append_new(items, op_json(fb, &fb->batches[i]));
		rc = page(h, items, "operations");
		json_decref(items);
	} else if (fb_starts(url, "/v1beta/batches/")) {
		const char *id = url + strlen("/v1beta/");
		int cancel = post && fb_ends(id, ":cancel");
		size_t idn = cancel ? strlen(id) - strlen(":cancel") : strlen(id);
		struct fb_batch *bt = fb_batch_get(fb, id, idn);

		if (!bt || bt->api != FB_GEMINI || (post && !cancel)) {
			rc = gerror(h, 404, "NOT_FOUND", "no such batch");
		} else if (cancel) {
			bt->cancelled = 1;
			rc = fb_reply(h, 200, json_object());
		} else {
			rc = fb_reply(h, 200, op_json(fb, bt));
		}
	} else {
		rc = gerror(h, 404, "NOT_FOUND", "no such endpoint");
	}
	return rc;
}
