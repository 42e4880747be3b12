/*
 * batch.c - the providers' batch APIs (see batch.h): one blocking HTTP
 * call over libcurl's easy interface, shared by batch_openai.c and
 * batch_gemini.c, and batch.h's functions, each passed to the table of
 * the options' provider.  A batch makes a handful of calls in a day, each
 * made and waited for on the daemon's batch thread.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "batch_int.h"

#define BODY_MAX (4 << 20) /* a reply held in memory: a list page, an error */

static const struct llm_batch_api *api_of(const struct llm_options *o)
{
	switch (o->provider) {
	case LLM_OPENAI:
		return &llm_batch_openai;
	case LLM_GEMINI:
		return &llm_batch_gemini;
	default:
		return NULL;
	}
}

int llm_batch_check(int provider)
{
	struct llm_options o = { .provider = provider };

	return api_of(&o) ? 0 : err_set(CL_ECONFIG, "llm.mode batch needs llm.provider openai or "
					 "gemini (the providers with a batch API)");
}

#define API(o, fn, ...) (api_of(o) ? api_of(o)->fn(__VA_ARGS__) : llm_batch_check(o->provider))

int llm_batch_final(const char *status)
{
	return status && (!strcmp(status, "completed") || !strcmp(status, "failed") ||
			  !strcmp(status, "expired") || !strcmp(status, "cancelled"));
}

void bstr_copy(char *dst, size_t n, const json_t *v, const char *key)
{
	const char *s = jsonx_str(v, key);

	snprintf(dst, n, "%s", s ? s : "");
}

int bline_add(json_t *line, struct buf *out)
{
	char *text = line ? json_dumps(line, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	int rc;

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

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
	struct bcall *c = arg;

	if (c->f && c->http / 100 == 2)
		return fwrite(p, size, n, c->f) == n ? size * n : 0;
	if (c->body.len + size * n > BODY_MAX)
		return 0;
	return buf_add(&c->body, p, size * n) ? 0 : size * n;
}

static size_t on_header(char *p, size_t size, size_t n, void *arg)
{
	struct bcall *c = arg;
	size_t len = size * n, k = c->catch_header ? strlen(c->catch_header) : 0;

	/* the status line of each response (a redirect, a 100) comes first */
	if (len > 5 && !memcmp(p, "HTTP/", 5)) {
		long code = 0;

		if (sscanf(p, "HTTP/%*s %ld", &code) == 1)
			c->http = code;
	}
	if (k && len > k && !strncasecmp(p, c->catch_header, k)) {
		const char *v = p + k, *end = p + len;

		while (v < end && (*v == ' ' || *v == '\t'))
			v++;
		while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' '))
			end--;
		snprintf(c->caught, sizeof(c->caught), "%.*s", (int)(end - v), v);
	}
	return len;
}

/* A call ends at once when its options' abort flag is set (a shutdown). */
static int on_progress(void *arg, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
	const atomic_int *abort = arg;

	(void)dt, (void)dn, (void)ut, (void)un;
	return abort && atomic_load(abort) ? 1 : 0;
}

int bcall_run(const struct llm_options *o, struct bcall *c)
{
	const struct llm_provider *p = llm_provider_get(o->provider);
	const char *where = c->path ? c->path : "the upload";
	char url[2048], auth[1024];
	struct curl_slist *h = NULL;
	curl_mime *mime = NULL;
	CURL *e;
	CURLcode cc;
	int rc = 0;

	c->http = 0;
	c->caught[0] = '\0';
	if (!p || !p->auth_header || !api_of(o))
		return llm_batch_check(o->provider);
	e = curl_easy_init();
	if (!e)
		return CL_ENOMEM;
	if (c->url)
		snprintf(url, sizeof(url), "%s", c->url);
	else
		snprintf(url, sizeof(url), "%s%s", llm_base_url(o), c->path);
	if (!c->no_key) {
		p->auth_header(o, auth, sizeof(auth));
		h = curl_slist_append(h, auth);
		memset(auth, 0, sizeof(auth));
	}
	if (c->json)
		h = curl_slist_append(h, "Content-Type: application/json");
	for (int i = 0; i < 4 && c->headers[i]; i++)
		h = curl_slist_append(h, c->headers[i]);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)(o->connect_timeout * 1000));
	/* a file's bytes take as long as they take: the stall limit guards them */
	if (!c->f && !c->form && !c->upload)
		curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)(o->request_timeout * 1000));
	curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, (long)fmax(1, o->stall_timeout));
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, c);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, c);
	if (o->abort) {
		curl_easy_setopt(e, CURLOPT_NOPROGRESS, 0L);
		curl_easy_setopt(e, CURLOPT_XFERINFOFUNCTION, on_progress);
		curl_easy_setopt(e, CURLOPT_XFERINFODATA, (void *)o->abort);
	}
	if (c->json) {
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, c->json);
	} else if (c->form) {
		mime = c->form(e, c->form_arg);
		if (!mime) {
			rc = CL_ENOMEM;
			goto out;
		}
		curl_easy_setopt(e, CURLOPT_MIMEPOST, mime);
	} else if (c->upload) {
		curl_easy_setopt(e, CURLOPT_POST, 1L);
		curl_easy_setopt(e, CURLOPT_READDATA, c->upload);
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, c->upload_len);
	} else if (strcmp(c->method, "GET")) {
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, "");
	}
	cc = curl_easy_perform(e);
	curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &c->http);
	if (cc != CURLE_OK && !(cc == CURLE_WRITE_ERROR && c->http / 100 != 2)) {
		rc = err_set(CL_EIO, "%s %s: %s", c->method, where, curl_easy_strerror(cc));
		goto out;
	}
	if (c->http / 100 != 2) {
		int code = c->http >= 500 || c->http == 429 || c->http == 408 ? CL_EIO : CL_EINVAL;

		rc = err_set(code, "%s %s: HTTP %ld: %.*s", c->method, where, c->http,
			     (int)(c->body.len < 200 ? c->body.len : 200),
			     c->body.len ? c->body.data : "");
	}
out:
	curl_mime_free(mime);
	curl_slist_free_all(h);
	curl_easy_cleanup(e);
	return rc;
}

void bcall_release(struct bcall *c)
{
	buf_release(&c->body);
}

int bcall_json(const struct llm_options *o, const char *method, const char *path,
	       const char *json, json_t **out)
{
	struct bcall c = { .method = method, .path = path, .json = json };
	int rc;

	*out = NULL;
	buf_init(&c.body, 0);
	rc = bcall_run(o, &c);
	if (!rc) {
		/* an empty 2xx (Gemini's cancel) is an empty object */
		*out = c.body.len ? jsonx_parse(c.body.data, c.body.len, path) : json_object();
		if (!*out)
			rc = err_set(CL_EIO, "%s %s: the reply is not JSON", method, path);
	}
	bcall_release(&c);
	return rc;
}

/* ---- batch.h: the provider's table -------------------------------------------- */

int llm_batch_line(const struct llm_options *o, const char *custom_id, const char *body,
		   size_t body_len, struct buf *out)
{
	json_t *b = jsonx_parse(body, body_len, "request body");

	if (!json_is_object(b)) {
		json_decref(b);
		return err_set(CL_EINVAL, "batch line %s: the body is not a JSON object", custom_id);
	}
	if (!api_of(o)) {
		json_decref(b);
		return llm_batch_check(o->provider);
	}
	return api_of(o)->line(custom_id, b, out);
}

int llm_batch_upload(const struct llm_options *o, const char *path, const char *filename,
		     char file_id[LLM_BATCH_ID_MAX])
{
	file_id[0] = '\0';
	return API(o, upload, o, path, filename, file_id);
}

int llm_batch_find_file(const struct llm_options *o, const char *filename,
			char file_id[LLM_BATCH_ID_MAX])
{
	file_id[0] = '\0';
	return API(o, find_file, o, filename, file_id);
}

int llm_batch_create(const struct llm_options *o, const char *file_id, const char *tag,
		     struct llm_batch_info *out)
{
	memset(out, 0, sizeof(*out));
	return API(o, create, o, file_id, tag, out);
}

int llm_batch_find(const struct llm_options *o, const char *tag, struct llm_batch_info *out)
{
	memset(out, 0, sizeof(*out));
	return API(o, find, o, tag, out);
}

int llm_batch_get(const struct llm_options *o, const char *id, struct llm_batch_info *out)
{
	memset(out, 0, sizeof(*out));
	return API(o, get, o, id, out);
}

int llm_batch_cancel(const struct llm_options *o, const char *id, struct llm_batch_info *out)
{
	memset(out, 0, sizeof(*out));
	return API(o, cancel, o, id, out);
}

int llm_batch_download(const struct llm_options *o, const char *file_id, FILE *f)
{
	int rc = API(o, download, o, file_id, f);

	if (!rc && fflush(f))
		rc = err_set(CL_EIO, "cannot write the content of %s", file_id);
	return rc;
}

int llm_batch_parse_line(const struct llm_options *o, const char *line, size_t n,
			 char id[LLM_BATCH_ID_MAX], struct llm_request *r)
{
	const struct llm_provider *p = llm_provider_get(o->provider);
	json_t *v;
	int rc;

	id[0] = '\0';
	if (!api_of(o) || !p)
		return llm_batch_check(o->provider);
	v = jsonx_parse(line, n, "batch output line");
	if (!json_is_object(v)) {
		json_decref(v);
		return CL_EPARSE;
	}
	rc = api_of(o)->parse_line(p, v, id, r);
	json_decref(v);
	return rc;
}

/* The reply of a line (a JSON object), parsed as a one-by-one reply. */
int bparse_reply(const struct llm_provider *p, const json_t *resp, struct llm_request *r)
{
	char *body = json_dumps(resp, JSON_COMPACT);
	int rc = 0;

	if (!body)
		return CL_ENOMEM;
	if (p->parse(body, strlen(body), r) == 0)
		r->status = LLM_OK;
	else if (!r->error[0])
		llm_set_error(r, "%s", "batch: the reply does not parse");
	free(body);
	return rc;
}
