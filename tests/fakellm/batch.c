/*
 * batch.c - fakellm's batch endpoints: the files and batches both APIs
 * hold (in memory, under one lock: a test's files are small), the run of
 * an input file, and OpenAI's Files and Batches API, as published:
 *
 *   POST /v1/files                  multipart: purpose=batch, file
 *   GET  /v1/files?purpose=batch    a list, paginated (limit, after)
 *   GET  /v1/files/{id}/content     the file's bytes
 *   POST /v1/batches                {input_file_id, endpoint, completion_window, metadata}
 *   GET  /v1/batches/{id}, GET /v1/batches (a list), POST /v1/batches/{id}/cancel
 *
 * Gemini's are in batch_gemini.c.  A batch validates its input file line
 * by line (OpenAI: custom_id, method POST, url equal to the endpoint, a
 * body with model and messages; custom_ids unique) and fails whole when a
 * line does not; else it answers every line as the one-by-one endpoint
 * would (reply.c's text) and goes validating -> in_progress -> completed
 * over the configured time.  Faults: stuck (the first batch stays
 * in_progress), expire (expired, half the lines answered), errors (every
 * fifth line fails), upload500 (the first upload answers 500), dupid (the
 * first output line twice), slowpoll (the first GET of a batch answers
 * after 30 s).
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "batch_int.h"

static const char *const fault_names[] = { "stuck",	"expire", "errors",
					   "upload500", "dupid",  "slowpoll" };

static double mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int fbatch_check_faults(const char *faults)
{
	const char *p = faults;

	while (p && *p) {
		size_t n = strcspn(p, ","), k;

		for (k = 0; k < CL_ARRAY_SIZE(fault_names); k++)
			if (strlen(fault_names[k]) == n && !memcmp(fault_names[k], p, n))
				break;
		if (k == CL_ARRAY_SIZE(fault_names)) {
			fprintf(stderr, "fakellm: option '--batch-fault': unknown kind '%.*s' "
					"(stuck, expire, errors, upload500, dupid, slowpoll)\n", (int)n, p);
			return -1;
		}
		p += n + (p[n] == ',');
	}
	return 0;
}

struct fbatch *fbatch_new(double seconds, const char *faults, const char *hold, FILE *log,
			  pthread_mutex_t *log_lock)
{
	struct fbatch *fb = calloc(1, sizeof(*fb));

	if (!fb)
		return NULL;
	pthread_mutex_init(&fb->mu, NULL);
	fb->seconds = seconds;
	fb->hold = hold;
	fb->log = log;
	fb->log_lock = log_lock;
	if (faults) {
		fb->stuck = strstr(faults, "stuck") != NULL;
		fb->expire = strstr(faults, "expire") != NULL;
		fb->errors = strstr(faults, "errors") != NULL;
		fb->upload500 = strstr(faults, "upload500") != NULL;
		fb->dupid = strstr(faults, "dupid") != NULL;
		fb->slowpoll = strstr(faults, "slowpoll") != NULL;
	}
	return fb;
}

void fbatch_free(struct fbatch *fb)
{
	if (!fb)
		return;
	for (size_t i = 0; i < fb->nfiles; i++)
		free(fb->files[i].data);
	for (size_t i = 0; i < fb->nbatches; i++)
		json_decref(fb->batches[i].obj);
	free(fb->files);
	free(fb->batches);
	free(fb->sessions);
	pthread_mutex_destroy(&fb->mu);
	free(fb);
}

void fb_log(struct fbatch *fb, json_t *event)
{
	char *line = event ? json_dumps(event, JSON_COMPACT) : NULL;

	json_decref(event);
	if (fb->log && line) {
		pthread_mutex_lock(fb->log_lock);
		fprintf(fb->log, "%s\n", line);
		fflush(fb->log);
		pthread_mutex_unlock(fb->log_lock);
	}
	free(line);
}

int fbatch_route(const char *url, const char *method)
{
	(void)method;
	if (!strcmp(url, "/v1/files") || fb_starts(url, "/v1/files/") ||
	    !strcmp(url, "/v1/batches") || fb_starts(url, "/v1/batches/"))
		return FB_OPENAI;
	if (!strcmp(url, "/upload/v1beta/files"))
		return FB_GEMINI_SESSION; /* the start checks the key itself */
	if (!strcmp(url, "/v1beta/files") || fb_starts(url, "/download/v1beta/files/") ||
	    !strcmp(url, "/v1beta/batches") || fb_starts(url, "/v1beta/batches/") ||
	    (fb_starts(url, "/v1beta/models/") && fb_ends(url, ":batchGenerateContent")))
		return FB_GEMINI;
	return FB_NONE;
}

size_t fbatch_body_max(const char *url, const char *method)
{
	if (!strcmp(method, "POST") &&
	    (!strcmp(url, "/v1/files") || !strcmp(url, "/upload/v1beta/files")))
		return FBATCH_UPLOAD_MAX;
	return 0;
}

/* ---- the reply --------------------------------------------------------------- */

int fb_reply(struct fb_http *h, int status, json_t *v)
{
	h->status = status;
	h->type = "application/json";
	h->out = v ? json_dumps(v, JSON_COMPACT) : NULL;
	json_decref(v);
	if (!h->out)
		return -1;
	h->len = strlen(h->out);
	return 0;
}

static int error_reply(struct fb_http *h, int st, const char *msg)
{
	return fb_reply(h, st, json_pack("{s:{s:s, s:s, s:n}}", "error", "message", msg, "type",
					  "invalid_request_error", "code"));
}

/* ---- files and batches ------------------------------------------------------- */

struct ffile *fb_file_get(struct fbatch *fb, const char *id, size_t n)
{
	for (size_t i = 0; i < fb->nfiles; i++)
		if (strlen(fb->files[i].id) == n && !memcmp(fb->files[i].id, id, n))
			return &fb->files[i];
	return NULL;
}

struct ffile *fb_file_add(struct fbatch *fb, const char *prefix, const char *name, char *data,
			  size_t len)
{
	struct ffile *f;

	if (fb->nfiles == fb->capfiles && ARRAY_GROW(fb->files, fb->capfiles, fb->nfiles, 16))
		return NULL;
	f = &fb->files[fb->nfiles++];
	memset(f, 0, sizeof(*f));
	snprintf(f->id, sizeof(f->id), "%s%06u", prefix, ++fb->seq);
	snprintf(f->name, sizeof(f->name), "%s", name);
	f->data = data;
	f->len = len;
	f->created = (int64_t)time(NULL);
	return f;
}

struct fb_batch *fb_batch_get(struct fbatch *fb, const char *id, size_t n)
{
	for (size_t i = 0; i < fb->nbatches; i++)
		if (strlen(fb->batches[i].id) == n && !memcmp(fb->batches[i].id, id, n))
			return &fb->batches[i];
	return NULL;
}

struct fb_batch *fb_batch_new(struct fbatch *fb, const char *prefix, int api)
{
	struct fb_batch *bt;

	if (fb->nbatches == fb->capbatches &&
	    ARRAY_GROW(fb->batches, fb->capbatches, fb->nbatches, 16))
		return NULL;
	bt = &fb->batches[fb->nbatches++];
	memset(bt, 0, sizeof(*bt));
	snprintf(bt->id, sizeof(bt->id), "%s%06u", prefix, ++fb->seq);
	bt->api = api;
	bt->t0 = mono();
	bt->stuck = fb->stuck;
	fb->stuck = 0; /* the first batch only: the next ones end */
	bt->held = fb->hold && access(fb->hold, F_OK) == 0;
	return bt;
}

enum fb_phase fb_phase(const struct fbatch *fb, const struct fb_batch *bt)
{
	double age = mono() - bt->t0;

	if (bt->failed)
		return FB_FAILED;
	if (bt->cancelled)
		return FB_CANCELLED;
	if (age < fb->seconds * 0.2)
		return FB_VALIDATING;
	if (bt->stuck || (bt->held && access(fb->hold, F_OK) == 0) || age < fb->seconds)
		return FB_RUNNING;
	return fb->expire ? FB_EXPIRED : FB_COMPLETED;
}

static int out_add(struct buf *b, json_t *line)
{
	char *s = line ? json_dumps(line, JSON_COMPACT) : NULL;
	int rc = s ? buf_adds(b, s) : -1;

	json_decref(line);
	free(s);
	return rc ? rc : buf_addc(b, '\n');
}

int fb_run(struct fbatch *fb, struct fb_batch *bt, const struct ffile *in,
	   const struct fb_line_api *la)
{
	struct buf outb, errb;
	json_t *seen = json_object(), *errs = json_array();
	const char *p = in->data, *end = in->data + in->len;
	int64_t lineno = 0, answered = 0, nerr = 0;
	char first[2048] = "";

	buf_init(&outb, FBATCH_OUTPUT_MAX);
	buf_init(&errb, FBATCH_OUTPUT_MAX);
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		json_t *v = json_loadb(p, n, 0, NULL);
		const char *id = NULL, *why = NULL;

		p += n + (nl != NULL);
		if (n == 0) {
			json_decref(v);
			continue;
		}
		lineno++;
		if (!v)
			why = "the line is not JSON";
		else if ((id = la->check(v, &why)) && json_object_get(seen, id))
			why = la->not_unique;
		if (why) {
			json_array_append_new(errs, json_pack("{s:s, s:s, s:I}", "code",
							      "invalid_request", "message", why,
							      "line", (json_int_t)lineno));
			if (!bt->why[0])
				snprintf(bt->why, sizeof(bt->why), "line %lld: %s",
					 (long long)lineno, why);
			json_decref(v);
			continue;
		}
		json_object_set_new(seen, id, json_true());
		if (fb->expire && lineno % 2 == 0) {
			json_decref(v);
			continue; /* unanswered when the batch expires */
		}
		if (fb->errors && lineno % 5 == 0) {
			if (out_add(la->errors_apart ? &errb : &outb, la->error(id))) {
				json_decref(v);
				goto fail;
			}
			nerr++;
		} else {
			json_t *line = la->answer(v, id);
			char *s = line ? json_dumps(line, JSON_COMPACT) : NULL;

			if (s && !first[0] && strlen(s) < sizeof(first))
				snprintf(first, sizeof(first), "%s", s);
			free(s);
			if (out_add(&outb, line)) {
				json_decref(v);
				goto fail;
			}
			answered++;
		}
		json_decref(v);
	}
	if (fb->dupid && first[0]) {
		buf_adds(&outb, first);
		buf_addc(&outb, '\n');
	}
	bt->total = lineno;
	bt->answered = answered;
	bt->errors = nerr;
	json_decref(seen);
	if (json_array_size(errs)) {
		bt->failed = 1;
		if (bt->api == FB_OPENAI)
			json_object_set_new(bt->obj, "errors",
					    json_pack("{s:s, s:o}", "object", "list", "data", errs));
		else
			json_decref(errs);
		buf_release(&outb);
		buf_release(&errb);
		return 0;
	}
	json_decref(errs);
	if (outb.len) {
		struct ffile *f = fb_file_add(fb, bt->api == FB_OPENAI ? "file-" : "files/out",
					      "batch_output.jsonl", outb.data, outb.len);

		if (!f)
			return -1;
		snprintf(bt->out_id, sizeof(bt->out_id), "%s", f->id);
	} else {
		buf_release(&outb);
	}
	if (errb.len) {
		struct ffile *f = fb_file_add(fb, "file-", "batch_errors.jsonl", errb.data, errb.len);

		if (!f)
			return -1;
		snprintf(bt->err_id, sizeof(bt->err_id), "%s", f->id);
	} else {
		buf_release(&errb);
	}
	return 0;
fail: /* out of memory, or an output file past its limit */
	json_decref(seen);
	json_decref(errs);
	buf_release(&outb);
	buf_release(&errb);
	return -1;
}

/* ---- OpenAI: files ----------------------------------------------------------- */

static json_t *file_json(const struct ffile *f, const char *purpose)
{
	return json_pack("{s:s, s:s, s:I, s:I, s:s, s:s}", "id", f->id, "object", "file", "bytes",
			 (json_int_t)f->len, "created_at", (json_int_t)f->created, "filename",
			 f->name, "purpose", purpose);
}

/* The part named name of a multipart body: its bytes, and its filename. */
static const char *part(const char *body, size_t n, const char *boundary, const char *name,
			size_t *plen, char *filename, size_t fnlen)
{
	char want[128], delim[256];
	const char *p = body, *end = body + n;

	snprintf(want, sizeof(want), "name=\"%s\"", name);
	snprintf(delim, sizeof(delim), "\r\n--%s", boundary);
	while (p < end) {
		const char *hdr_end = memmem(p, (size_t)(end - p), "\r\n\r\n", 4);
		const char *data, *next;

		if (!hdr_end)
			return NULL;
		data = hdr_end + 4;
		next = memmem(data, (size_t)(end - data), delim, strlen(delim));
		if (!next)
			return NULL;
		if (memmem(p, (size_t)(hdr_end - p), want, strlen(want))) {
			const char *fn = memmem(p, (size_t)(hdr_end - p), "filename=\"", 10);

			if (fn && filename) {
				size_t k = strcspn(fn + 10, "\"");

				snprintf(filename, fnlen, "%.*s", (int)k, fn + 10);
			}
			*plen = (size_t)(next - data);
			return data;
		}
		p = next + strlen(delim);
	}
	return NULL;
}

static int upload(struct fbatch *fb, struct fb_http *h)
{
	const char *ctype = fb_arg(h, 1, "Content-Type");
	const char *b = ctype ? strstr(ctype, "boundary=") : NULL;
	char boundary[128], name[256] = "upload.jsonl";
	const char *purpose, *data;
	size_t plen, dlen;
	struct ffile *f;
	char *copy;

	if (fb->upload500) {
		fb->upload500 = 0;
		return error_reply(h, 500, "the upload failed (a fault)");
	}
	if (!b)
		return error_reply(h, 400, "multipart/form-data expected");
	snprintf(boundary, sizeof(boundary), "%.*s", (int)strcspn(b + 9, "; \""), b + 9);
	purpose = part(h->body, h->n, boundary, "purpose", &plen, NULL, 0);
	data = part(h->body, h->n, boundary, "file", &dlen, name, sizeof(name));
	if (!purpose || plen != 5 || memcmp(purpose, "batch", 5))
		return error_reply(h, 400, "purpose must be 'batch'");
	if (!data)
		return error_reply(h, 400, "no 'file' part");
	copy = malloc(dlen + 1);
	if (!copy)
		return -1;
	memcpy(copy, data, dlen);
	copy[dlen] = '\0';
	f = fb_file_add(fb, "file-", name, copy, dlen);
	if (!f) {
		free(copy);
		return -1;
	}
	fb_log(fb, json_pack("{s:s, s:s, s:s, s:I}", "event", "file-upload", "id", f->id,
			     "filename", f->name, "bytes", (json_int_t)dlen));
	return fb_reply(h, 200, file_json(f, "batch"));
}

/* ---- OpenAI: batches --------------------------------------------------------- */

/* One input line answered as /chat/completions would answer its body. */
static json_t *answer_body(const json_t *body)
{
	const json_t *msgs = json_object_get(body, "messages"), *m;
	struct buf prompt, user, text;
	json_t *completion = NULL;
	size_t i;

	buf_init(&prompt, 0);
	buf_init(&user, 0);
	buf_init(&text, 0);
	json_array_foreach(msgs, i, m) {
		content_text(json_object_get(m, "content"), &prompt);
		if (jsonx_str(m, "role") && !strcmp(jsonx_str(m, "role"), "user")) {
			buf_reset(&user);
			content_text(json_object_get(m, "content"), &user);
		}
	}
	if (text_build(&prompt, &user, &text) == 0)
		completion = json_pack("{s:s, s:s, s:I, s:s, s:[{s:i, s:{s:s, s:s%}, s:s}], "
				       "s:{s:I, s:I, s:I}}",
				       "id", "chatcmpl-batch", "object", "chat.completion", "created",
				       (json_int_t)time(NULL), "model",
				       jsonx_str(body, "model") ? jsonx_str(body, "model") : "fakellm",
				       "choices", "index", 0, "message", "role", "assistant",
				       "content", text.data ? text.data : "", text.len,
				       "finish_reason", "stop", "usage", "prompt_tokens",
				       (json_int_t)tokens(prompt.len), "completion_tokens",
				       (json_int_t)tokens(text.len), "total_tokens",
				       (json_int_t)(tokens(prompt.len) + tokens(text.len)));
	buf_release(&prompt);
	buf_release(&user);
	buf_release(&text);
	return completion;
}

static const char *openai_check(const json_t *v, const char **why)
{
	const json_t *body = json_object_get(v, "body");
	const char *cid = jsonx_str(v, "custom_id");

	if (!cid)
		*why = "custom_id is missing";
	else if (!jsonx_str(v, "method") || strcmp(jsonx_str(v, "method"), "POST"))
		*why = "method must be POST";
	else if (!jsonx_str(v, "url") || strcmp(jsonx_str(v, "url"), "/v1/chat/completions"))
		*why = "url must be the batch's endpoint";
	else if (!json_is_object(body) || !jsonx_str(body, "model") ||
		 !json_is_array(json_object_get(body, "messages")))
		*why = "body must have model and messages";
	return *why ? NULL : cid;
}

static json_t *openai_answer(const json_t *v, const char *id)
{
	return json_pack("{s:s, s:s, s:{s:i, s:s, s:o}, s:n}", "id", "batch_req", "custom_id", id,
			 "response", "status_code", 200, "request_id", "req-fake", "body",
			 answer_body(json_object_get(v, "body")), "error");
}

static json_t *openai_error(const char *id)
{
	return json_pack("{s:s, s:s, s:n, s:{s:s, s:s}}", "id", "batch_req", "custom_id", id,
			 "response", "error", "code", "server_error", "message",
			 "the request failed (a fault)");
}

static const struct fb_line_api openai_lines = { openai_check, openai_answer, openai_error, 1,
							"custom_id is not unique" };

/* The Batch object as it stands now. */
static json_t *batch_json(const struct fbatch *fb, const struct fb_batch *bt)
{
	static const char *const names[] = { "validating", "in_progress", "completed",
					     "expired",    "failed",      "cancelled" };
	enum fb_phase ph = fb_phase(fb, bt);
	int final = ph == FB_COMPLETED || ph == FB_EXPIRED || ph == FB_CANCELLED;
	json_t *o = json_deep_copy(bt->obj);

	json_object_set_new(o, "status", json_string(names[ph]));
	json_object_set_new(o, "request_counts",
			    json_pack("{s:I, s:I, s:I}", "total", (json_int_t)bt->total, "completed",
				      (json_int_t)(final ? bt->answered : 0), "failed",
				      (json_int_t)(final ? bt->errors : 0)));
	json_object_set_new(o, "output_file_id",
			    final && bt->out_id[0] ? json_string(bt->out_id) : json_null());
	json_object_set_new(o, "error_file_id",
			    final && bt->err_id[0] ? json_string(bt->err_id) : json_null());
	return o;
}

static int create(struct fbatch *fb, struct fb_http *h)
{
	json_t *req = json_loadb(h->body, h->n, 0, NULL);
	const char *fid = jsonx_str(req, "input_file_id"), *ep = jsonx_str(req, "endpoint");
	const json_t *meta = json_object_get(req, "metadata");
	struct ffile *in = fid ? fb_file_get(fb, fid, strlen(fid)) : NULL;
	struct fb_batch *bt;
	int rc;

	if (!in || !ep || strcmp(ep, "/v1/chat/completions") ||
	    !jsonx_str(req, "completion_window") ||
	    strcmp(jsonx_str(req, "completion_window"), "24h")) {
		json_decref(req);
		return error_reply(h, 400,
				   "input_file_id (an uploaded file), endpoint /v1/chat/completions "
				   "and completion_window 24h are required");
	}
	if (in->len > FBATCH_INPUT_MAX) {
		json_decref(req);
		return error_reply(h, 400, "the input file is over 200 MB, the batch limit");
	}
	bt = fb_batch_new(fb, "batch_", FB_OPENAI);
	if (!bt) {
		json_decref(req);
		return -1;
	}
	bt->obj = json_pack("{s:s, s:s, s:s, s:n, s:s, s:s, s:I, s:O}", "id", bt->id, "object",
			    "batch", "endpoint", ep, "errors", "input_file_id", fid,
			    "completion_window", "24h", "created_at", (json_int_t)time(NULL),
			    "metadata", json_is_object(meta) ? meta : json_null());
	rc = bt->obj ? fb_run(fb, bt, in, &openai_lines) : -1;
	if (rc) {
		json_decref(req);
		return -1;
	}
	fb_log(fb, json_pack("{s:s, s:s, s:s, s:I}", "event", "batch-create", "id", bt->id,
			     "tag", jsonx_str(meta, "clarifyd_batch") ?
				    jsonx_str(meta, "clarifyd_batch") : "",
			     "lines", (json_int_t)bt->total));
	json_decref(req);
	return fb_reply(h, 200, batch_json(fb, bt));
}

static int list(struct fb_http *h, json_t *items)
{
	const char *after = fb_arg(h, 0, "after"), *limit = fb_arg(h, 0, "limit");
	long lim = limit ? strtol(limit, NULL, 10) : 20;
	size_t start = 0, i;
	json_t *data = json_array(), *it;

	if (lim <= 0 || lim > 100)
		lim = 20;
	if (after)
		json_array_foreach(items, i, it)
			if (!strcmp(jsonx_str(it, "id"), after))
				start = i + 1;
	for (i = start; i < json_array_size(items) && i < start + (size_t)lim; i++)
		json_array_append(data, json_array_get(items, i));
	it = json_array_get(data, json_array_size(data) - 1);
	return fb_reply(h, 200,
			json_pack("{s:s, s:o, s:b, s:s?, s:s?}", "object", "list", "data", data,
				  "has_more", i < json_array_size(items), "first_id",
				  json_array_size(data) ? jsonx_str(json_array_get(data, 0), "id")
							: NULL,
				  "last_id", it ? jsonx_str(it, "id") : NULL));
}

/* The bytes of a file (its content, or Gemini's download). */
int fb_content(struct fb_http *h, const struct ffile *f)
{
	if (!f)
		return error_reply(h, 404, "no such file");
	h->out = malloc(f->len + 1);
	if (!h->out)
		return -1;
	memcpy(h->out, f->data, f->len);
	h->len = f->len;
	h->status = 200;
	h->type = "application/jsonl";
	return 0;
}

static int openai_answer_http(struct fbatch *fb, struct fb_http *h)
{
	const char *url = h->url;
	int post = !strcmp(h->method, "POST"), rc;

	if (post && !strcmp(url, "/v1/files")) {
		rc = upload(fb, h);
	} else if (!post && !strcmp(url, "/v1/files")) {
		const char *purpose = fb_arg(h, 0, "purpose");
		json_t *items = json_array();

		for (size_t i = 0; i < fb->nfiles; i++)
			if (fb_starts(fb->files[i].id, "file-") && (!purpose || !strcmp(purpose, "batch")))
				json_array_append_new(items, file_json(&fb->files[i], "batch"));
		rc = list(h, items);
		json_decref(items);
	} else if (!post && fb_starts(url, "/v1/files/") && fb_ends(url, "/content")) {
		rc = fb_content(h, fb_file_get(fb, url + 10, strlen(url + 10) - 8));
	} else if (post && !strcmp(url, "/v1/batches")) {
		rc = create(fb, h);
	} else if (!post && !strcmp(url, "/v1/batches")) {
		json_t *items = json_array();

		/* newest first, as the API lists them */
		for (size_t i = fb->nbatches; i-- > 0;)
			if (fb->batches[i].api == FB_OPENAI)
				json_array_append_new(items, batch_json(fb, &fb->batches[i]));
		rc = list(h, items);
		json_decref(items);
	} else if (fb_starts(url, "/v1/batches/")) {
		const char *id = url + 12;
		int cancel = post && fb_ends(id, "/cancel");
		size_t idn = cancel ? strlen(id) - 7 : strlen(id);
		struct fb_batch *bt = fb_batch_get(fb, id, idn);

		if (!bt || bt->api != FB_OPENAI) {
			rc = error_reply(h, 404, "no such batch");
		} else {
			if (cancel)
				bt->cancelled = 1;
			rc = fb_reply(h, 200, batch_json(fb, bt));
		}
	} else {
		rc = error_reply(h, 404, "no such endpoint");
	}
	return rc;
}

int fbatch_answer(struct fbatch *fb, struct fb_http *h)
{
	int rc;

	h->hdr_name[0] = '\0';
	if (!strcmp(h->method, "GET") &&
	    (fb_starts(h->url, "/v1/batches/") || fb_starts(h->url, "/v1beta/batches/")) &&
	    atomic_exchange(&fb->slowpoll, 0)) {
		struct timespec ts = { 30, 0 };

		nanosleep(&ts, NULL); /* outside the lock: the rest goes on */
	}
	pthread_mutex_lock(&fb->mu);
	rc = fbatch_route(h->url, h->method) == FB_OPENAI ? openai_answer_http(fb, h)
							   : fb_gemini_answer(fb, h);
	pthread_mutex_unlock(&fb->mu);
	return rc;
}
