/*
 * client.c - the transport: one I/O thread drives libcurl's multi interface
 * for whichever provider (provider.h) the options name.
 *
 * Requests move through these lists, each owned by one side:
 *   inbox    submitted by callers, under mu
 *   ready    waiting for room (in-flight cap, rate limits, Retry-After,
 *            the circuit breaker), I/O thread only
 *   delayed  waiting for their retry time, I/O thread only
 *   active   attached to the multi handle, I/O thread only
 *   done     finished, under mu, handed out by llm_wait()
 */
#include <curl/curl.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "provider.h"

/* One request's transport state. */
struct attempt {
	CURL *easy;
	const char *payload;    /* the request body: the caller's r->payload, or built */
	size_t payload_len;
	char *built;            /* the body when the client built it */
	struct buf body;        /* the response, capped */
	int oversize;
	double start;
	double due;             /* when a delayed retry may start */
	double retry_after;     /* from the last response's headers, or -1 */
	int64_t est_tokens;
	int counted;            /* est_tokens is in tokens_used */
	struct llm_request *req;
	struct attempt *prev, *next; /* the active list */
};

/* A token bucket: rate per second, up to burst. */
struct bucket {
	double rate, burst, level, last;
};

struct llm_client {
	struct llm_options o;
	const struct llm_provider *p;
	char url[2048];
	struct curl_slist *headers; /* holds the key: wiped at free */

	pthread_mutex_t mu;
	pthread_cond_t done_cv;
	struct llm_request *inbox, *inbox_tail;
	struct llm_request *done, *done_tail;
	uint64_t outstanding;
	int woken;                  /* llm_wake() was called */
	int stopping;
	int fatal;
	char fatal_msg[256];
	struct llm_stats st;

	/* the I/O thread's own */
	pthread_t io;
	int io_started;
	CURLM *multi;
	struct llm_request *ready, *ready_tail;
	struct llm_request *delayed;  /* sorted by due time */
	CURL **free_easy;             /* idle transfers, max_in_flight at most */
	int nfree_easy;
	struct attempt *active_list;
	int active;
	double cap;                   /* the adaptive in-flight cap */
	double last_cut;
	double blocked_until;         /* Retry-After: no request before this */
	int failures;                 /* consecutive, for the breaker */
	double circuit_until;
	double cooldown;
	int probing;                  /* half-open: one request is testing */
	struct bucket rpm, tpm;
	int64_t tokens_used;          /* estimate until corrected */
	uint64_t rng;
};

const char *llm_status_name(int st)
{
	switch (st) {
	case LLM_OK: return "ok";
	case LLM_EREFUSED: return "refused";
	case LLM_EGAVEUP: return "gave up";
	case LLM_EAUTH: return "credentials rejected";
	case LLM_EBUDGET: return "token budget reached";
	case LLM_ECANCELLED: return "cancelled";
	}
	return "?";
}

void llm_options_init(struct llm_options *o)
{
	memset(o, 0, sizeof(*o));
	o->provider = LLM_OFFLINE;
	o->max_in_flight = 64;
	o->connect_timeout = 10;
	o->request_timeout = 600;
	o->stall_timeout = 120;
	o->max_response = (size_t)8 << 20;
	o->max_retries = 8;
	o->backoff_base = 1;
	o->backoff_max = 60;
	o->circuit_failures = 20;
	o->circuit_cooldown = 10;
}

static void wipe(char *s)
{
	if (s)
		explicit_bzero(s, strlen(s));
}

void llm_options_release(struct llm_options *o)
{
	free(o->base_url);
	free(o->model);
	wipe(o->api_key);
	free(o->api_key);
	json_decref(o->extra_body);
	memset(o, 0, sizeof(*o));
}

void llm_request_release(struct llm_request *r)
{
	free(r->text);
	r->text = NULL;
}

/* ---- cache keys and replies as JSON ----------------------------------- */

static json_t *request_body(const struct llm_options *o, const struct llm_request *r)
{
	const struct llm_provider *v = llm_provider_get(o->provider);

	return v && v->body ? v->body(o, r) : NULL;
}

int llm_request_key_payload(const struct llm_options *o, const struct llm_request *r,
			    struct buf *payload, char out[HASH_SHA256_HEX])
{
	const struct llm_provider *v = llm_provider_get(o->provider);
	const char *provider = llm_provider_name(o->provider), *base = llm_base_url(o);
	json_t *body;
	char *text;
	int rc;

	buf_reset(payload);
	if (!v)
		return err_set(CL_EINVAL, "llm: unknown provider %d", o->provider);
	if (v->answer) {
		/* no body: the key names what a rewrite without a model depends on */
		json_t *k = json_pack("{s:s, s:I, s:i, s:i, s:s, s:s}", "provider", v->name,
				      "seed", (json_int_t)o->seed, "stage", r->stage,
				      "category", r->category,
				      "original", r->original ? r->original : "",
				      "modified", r->modified ? r->modified : "");

		text = k ? jsonx_canonical(k) : NULL;
		json_decref(k);
		if (!text)
			return CL_ENOMEM;
		hash_sha256_hex(text, strlen(text), out);
		free(text);
		return 0;
	}
	body = request_body(o, r);
	rc = body ? jsonx_dump(body, 0, payload) : CL_ENOMEM;
	json_decref(body);
	/* the key covers body, provider and base URL, each ended by a NUL (no
	 * two requests that differ in any of them share it); the body alone
	 * stays in payload */
	if (!rc)
		rc = buf_addc(payload, '\0');
	if (!rc)
		rc = buf_add(payload, provider, strlen(provider) + 1);
	if (!rc)
		rc = buf_add(payload, base, strlen(base) + 1);
	if (rc)
		return rc;
	hash_sha256_hex(payload->data, payload->len, out);
	payload->len = strlen(payload->data); /* the body, NUL-ended as added */
	return 0;
}

void llm_request_key(const struct llm_options *o, const struct llm_request *r,
		     char out[HASH_SHA256_HEX])
{
	struct buf b;

	buf_init(&b, 0);
	if (llm_request_key_payload(o, r, &b, out))
		memset(out, 0, HASH_SHA256_HEX);
	buf_release(&b);
}

json_t *llm_response_json(const struct llm_request *r)
{
	return json_pack("{s:s, s:s, s:I, s:I}", "text", r->text ? r->text : "",
			 "finish_reason", r->finish_reason, "tokens_in", (json_int_t)r->tokens_in,
			 "tokens_out", (json_int_t)r->tokens_out);
}

int llm_response_from_json(struct llm_request *r, const json_t *v)
{
	const char *text = jsonx_str(v, "text");

	if (!text)
		return err_set(CL_EINVAL, "cached response has no text");
	free(r->text);
	r->text = strdup(text);
	if (!r->text)
		return CL_ENOMEM;
	snprintf(r->finish_reason, sizeof(r->finish_reason), "%s",
		 jsonx_str(v, "finish_reason") ? jsonx_str(v, "finish_reason") : "");
	llm_text_fit(r->finish_reason);
	r->tokens_in = llm_usage_tokens(v, "tokens_in");
	r->tokens_out = llm_usage_tokens(v, "tokens_out");
	r->status = LLM_OK;
	r->error[0] = '\0';
	return 0;
}

/* ---- lists ---------------------------------------------------------- */

static void push(struct llm_request **head, struct llm_request **tail, struct llm_request *r)
{
	r->next = NULL;
	if (*tail)
		(*tail)->next = r;
	else
		*head = r;
	*tail = r;
}

static struct llm_request *pop(struct llm_request **head, struct llm_request **tail)
{
	struct llm_request *r = *head;

	if (r) {
		*head = r->next;
		if (!*head)
			*tail = NULL;
		r->next = NULL;
	}
	return r;
}

/* Hand a finished request to llm_wait(). */
static void finish(struct llm_client *c, struct llm_request *r, int status)
{
	struct attempt *a = r->priv;

	r->status = status;
	if (a) {
		if (status != LLM_OK && a->counted)
			c->tokens_used -= a->est_tokens; /* the estimate was not spent */
		free(a->built);
		buf_release(&a->body);
		free(a);
		r->priv = NULL;
	}
	pthread_mutex_lock(&c->mu);
	if (status == LLM_OK) {
		c->st.completed++;
		c->st.tokens_in += r->tokens_in;
		c->st.tokens_out += r->tokens_out;
	} else {
		c->st.failed++;
	}
	push(&c->done, &c->done_tail, r);
	pthread_cond_broadcast(&c->done_cv);
	pthread_mutex_unlock(&c->mu);
}

static void fail(struct llm_client *c, struct llm_request *r, int status, const char *fmt, ...)
	CL_PRINTF(4, 5);

static void fail(struct llm_client *c, struct llm_request *r, int status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->error, sizeof(r->error), fmt, ap);
	va_end(ap);
	llm_text_fit(r->error);
	finish(c, r, status);
}

/* ---- the I/O thread --------------------------------------------------- */

static uint64_t next_rand(struct llm_client *c)
{
	/* splitmix64: retry jitter only */
	uint64_t z = (c->rng += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static double uniform01(struct llm_client *c)
{
	return (double)(next_rand(c) >> 11) / 9007199254740992.0;
}

static void bucket_init(struct bucket *b, double per_min, double now)
{
	b->rate = per_min / 60.0;
	/* a burst of five seconds' worth, and at least one request */
	b->burst = per_min > 0 ? fmax(1.0, per_min / 12.0) : 0;
	b->level = b->burst;
	b->last = now;
}

static void bucket_fill(struct bucket *b, double now)
{
	b->level = fmin(b->burst, b->level + (now - b->last) * b->rate);
	b->last = now;
}

/* Seconds until need fits (0 when it does now); a need larger than the
 * burst waits for a full bucket and then overdraws it. */
static double bucket_wait(struct bucket *b, double need, double now)
{
	double want;

	if (b->rate <= 0)
		return 0;
	bucket_fill(b, now);
	want = fmin(need, b->burst);
	if (b->level >= want)
		return 0;
	return (want - b->level) / b->rate;
}

static void bucket_take(struct bucket *b, double n)
{
	if (b->rate > 0)
		b->level -= n;
}

static int64_t estimate_tokens(const struct llm_request *r)
{
	size_t n = (r->system ? strlen(r->system) : 0) + (r->user ? strlen(r->user) : 0);

	return (int64_t)(n / 4) + (r->max_tokens > 0 ? r->max_tokens : 512);
}

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
	struct attempt *a = arg;

	if (buf_add(&a->body, p, size * n)) {
		a->oversize = 1;
		return 0; /* aborts the transfer: CURLE_WRITE_ERROR */
	}
	return size * n;
}

/* "1s", "6m0s", "20ms", "1h2m3.5s" (OpenAI's x-ratelimit-reset-*). */
static double parse_duration(const char *s)
{
	double total = 0;
	int any = 0;

	while (*s == ' ')
		s++;
	while (*s) {
		char *end;
		double v = strtod(s, &end);

		if (end == s)
			break;
		s = end;
		if (strncmp(s, "ms", 2) == 0) {
			total += v / 1000;
			s += 2;
		} else if (*s == 'h') {
			total += v * 3600;
			s++;
		} else if (*s == 'm') {
			total += v * 60;
			s++;
		} else if (*s == 's') {
			total += v;
			s++;
		} else {
			total += v; /* bare seconds */
		}
		any = 1;
	}
	return any ? total : -1;
}

static int header_is(const char *line, size_t n, const char *name, const char **value)
{
	size_t k = strlen(name);

	if (n <= k || line[k] != ':' || strncasecmp(line, name, k) != 0)
		return 0;
	*value = line + k + 1;
	return 1;
}

/* The delay a response asks for, in seconds: the longest of Retry-After
 * (seconds or an HTTP date), retry-after-ms and x-ratelimit-reset-*. */
static size_t on_header(char *p, size_t size, size_t n, void *arg)
{
	struct attempt *a = arg;
	size_t len = size * n;
	char line[256];
	const char *v;
	double d = -1;

	if (len >= sizeof(line))
		return len;
	memcpy(line, p, len);
	line[len] = '\0';
	while (len && (line[len - 1] == '\r' || line[len - 1] == '\n'))
		line[--len] = '\0';
	if (header_is(line, len, "retry-after", &v)) {
		char *end;

		while (*v == ' ')
			v++;
		d = strtod(v, &end);
		if (end == v || *end) {
			time_t t = curl_getdate(v, NULL);

			d = t > 0 ? difftime(t, time(NULL)) : -1;
		}
	} else if (header_is(line, len, "retry-after-ms", &v)) {
		d = strtod(v, NULL) / 1000;
	} else if (header_is(line, len, "x-ratelimit-reset-requests", &v) ||
		   header_is(line, len, "x-ratelimit-reset-tokens", &v)) {
		d = parse_duration(v);
	} else if (len > 5 && strncmp(line, "HTTP/", 5) == 0) {
		a->retry_after = -1; /* a new response (after a redirect or 100) */
	}
	if (d >= 0 && d > a->retry_after)
		a->retry_after = d;
	return size * n;
}

static CURL *easy_get(struct llm_client *c)
{
	CURL *e;

	if (c->nfree_easy)
		return c->free_easy[--c->nfree_easy];
	e = curl_easy_init();
	if (!e)
		return NULL;
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_URL, c->url);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, c->headers);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
	/* over TLS, wait to learn whether the first connection speaks HTTP/2
	 * and multiplex on it; over plain HTTP/1.1 that wait would hold every
	 * new transfer until the first response */
	if (strncasecmp(c->url, "https:", 6) == 0)
		curl_easy_setopt(e, CURLOPT_PIPEWAIT, 1L);
	curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)(c->o.connect_timeout * 1000));
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)(c->o.request_timeout * 1000));
	curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, (long)fmax(1, c->o.stall_timeout));
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	return e;
}

static void easy_put(struct llm_client *c, CURL *e)
{
	if (c->nfree_easy < c->o.max_in_flight)
		c->free_easy[c->nfree_easy++] = e;
	else
		curl_easy_cleanup(e);
}

static int start(struct llm_client *c, struct llm_request *r, double now)
{
	struct attempt *a = r->priv;

	a->easy = easy_get(c);
	if (!a->easy) {
		fail(c, r, LLM_EGAVEUP, "cannot create a transfer");
		return -1;
	}
	buf_reset(&a->body);
	a->oversize = 0;
	a->retry_after = -1;
	a->start = now;
	curl_easy_setopt(a->easy, CURLOPT_PRIVATE, r);
	curl_easy_setopt(a->easy, CURLOPT_WRITEDATA, a);
	curl_easy_setopt(a->easy, CURLOPT_HEADERDATA, a);
	curl_easy_setopt(a->easy, CURLOPT_POSTFIELDS, a->payload);
	curl_easy_setopt(a->easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)a->payload_len);
	if (curl_multi_add_handle(c->multi, a->easy) != CURLM_OK) {
		easy_put(c, a->easy);
		a->easy = NULL;
		fail(c, r, LLM_EGAVEUP, "cannot start a transfer");
		return -1;
	}
	r->attempts++;
	c->active++;
	a->req = r;
	a->prev = NULL;
	a->next = c->active_list;
	if (a->next)
		a->next->prev = a;
	c->active_list = a;
	if (!a->counted) {
		c->tokens_used += a->est_tokens;
		a->counted = 1;
	}
	bucket_take(&c->rpm, 1);
	bucket_take(&c->tpm, (double)a->est_tokens);
	pthread_mutex_lock(&c->mu);
	c->st.http_requests++;
	c->st.in_flight = c->active;
	pthread_mutex_unlock(&c->mu);
	return 0;
}

/* The earliest time the ready queue may move, or 0 when it may now. */
static double gate(struct llm_client *c, const struct llm_request *r, double now)
{
	const struct attempt *a = r->priv;
	double t = 0, w;

	if (now < c->blocked_until)
		t = c->blocked_until;
	if (now < c->circuit_until)
		t = fmax(t, c->circuit_until);
	if (c->probing)
		return now + 0.05; /* half open: wait for the probe */
	w = bucket_wait(&c->rpm, 1, now);
	if (w > 0)
		t = fmax(t, now + w);
	w = bucket_wait(&c->tpm, (double)a->est_tokens, now);
	if (w > 0)
		t = fmax(t, now + w);
	return t;
}

static int budget_spent(const struct llm_client *c)
{
	return c->o.max_total_tokens > 0 && c->tokens_used >= c->o.max_total_tokens;
}

/* Start what may start; returns when the queue may next move (0: none). */
static double start_ready(struct llm_client *c, double now)
{
	while (c->ready) {
		struct llm_request *r = c->ready;
		double t;

		if (c->fatal) {
			pop(&c->ready, &c->ready_tail);
			fail(c, r, LLM_EAUTH, "%s", c->fatal_msg);
			continue;
		}
		if (budget_spent(c)) {
			pop(&c->ready, &c->ready_tail);
			fail(c, r, LLM_EBUDGET, "the token budget (llm.max_total_tokens = %lld) is spent",
			     (long long)c->o.max_total_tokens);
			continue;
		}
		if (c->active >= (int)c->cap)
			return 0;
		t = gate(c, r, now);
		if (t > 0)
			return t;
		if (c->circuit_until > 0) {
			c->probing = 1; /* the breaker is half open: this one tests it */
			c->circuit_until = 0;
		}
		pop(&c->ready, &c->ready_tail);
		start(c, r, now);
	}
	return 0;
}

static void schedule_retry(struct llm_client *c, struct llm_request *r, double now,
			   const char *why)
{
	struct attempt *a = r->priv;
	double exp = c->o.backoff_base * pow(2.0, r->attempts - 1);
	double delay = uniform01(c) * fmin(c->o.backoff_max, exp); /* full jitter */
	struct llm_request **pp;

	if (r->attempts > c->o.max_retries) {
		log_warn("llm: giving up after %d attempts: %s", r->attempts, why);
		fail(c, r, LLM_EGAVEUP, "gave up after %d attempts: %s", r->attempts, why);
		return;
	}
	if (a->retry_after >= 0) {
		/* the server's word holds for the endpoint, not just this request */
		delay = fmax(delay, a->retry_after);
		c->blocked_until = fmax(c->blocked_until, now + a->retry_after);
	}
	a->due = now + delay;
	log_debug("llm: %s; retry %d in %.2f s", why, r->attempts, delay);
	pthread_mutex_lock(&c->mu);
	c->st.retries++;
	pthread_mutex_unlock(&c->mu);
	for (pp = &c->delayed; *pp && ((struct attempt *)(*pp)->priv)->due <= a->due;
	     pp = &(*pp)->next)
		;
	r->next = *pp;
	*pp = r;
}

/* The endpoint failed (5xx, timeout, connection): count toward the breaker. */
static void endpoint_failed(struct llm_client *c, double now, int probe)
{
	c->failures++;
	if (probe || c->failures >= c->o.circuit_failures) {
		/* doubling while it keeps failing, up to 32 times the first pause */
		c->cooldown = c->cooldown > 0 ? fmin(c->cooldown * 2, 32 * c->o.circuit_cooldown)
					      : c->o.circuit_cooldown;
		c->circuit_until = now + c->cooldown;
		log_warn("llm: %d failures in a row from %s: pausing it for %.1f s", c->failures,
			 llm_base_url(&c->o), c->cooldown);
		pthread_mutex_lock(&c->mu);
		c->st.circuit_open = 1;
		pthread_mutex_unlock(&c->mu);
	}
}

static void endpoint_ok(struct llm_client *c)
{
	c->failures = 0;
	c->cooldown = 0;
	c->circuit_until = 0;
	/* additive increase: one more slot per cap's worth of successes */
	c->cap = fmin((double)c->o.max_in_flight, c->cap + 1.0 / c->cap);
	pthread_mutex_lock(&c->mu);
	c->st.circuit_open = 0;
	pthread_mutex_unlock(&c->mu);
}

static void throttled(struct llm_client *c, double now)
{
	/* multiplicative decrease, at most once a second: a burst of 429s
	 * from one window is one signal */
	if (now - c->last_cut >= 1.0) {
		c->cap = fmax(1.0, c->cap / 2);
		c->last_cut = now;
		log_info("llm: rate limited by %s: in-flight cap now %d", llm_base_url(&c->o),
			 (int)c->cap);
	}
	pthread_mutex_lock(&c->mu);
	c->st.throttled++;
	c->st.cap = (int)c->cap;
	pthread_mutex_unlock(&c->mu);
}

/* An API error's own message, for the reason a request failed. */
static void api_error(const struct buf *body, char *out, size_t n)
{
	json_t *v = body->len ? json_loadb(body->data, body->len, 0, NULL) : NULL;
	json_t *e = json_object_get(v, "error");
	const char *msg = json_is_string(e) ? json_string_value(e) : jsonx_str(e, "message");

	snprintf(out, n, "%.200s", msg ? msg : "");
	llm_text_fit(out);
	json_decref(v);
}

static int parse_reply(struct llm_client *c, struct llm_request *r, struct attempt *a)
{
	return c->p->parse(a->body.data ? a->body.data : "", a->body.len, r);
}

static void set_fatal(struct llm_client *c, int http)
{
	pthread_mutex_lock(&c->mu);
	if (!c->fatal) {
		c->fatal = 1;
		snprintf(c->fatal_msg, sizeof(c->fatal_msg), "credentials rejected by %s (HTTP %d)",
			 llm_base_url(&c->o), http);
	}
	pthread_mutex_unlock(&c->mu);
	log_err("llm: credentials rejected by %s (HTTP %d)", llm_base_url(&c->o), http);
}

static void done_transfer(struct llm_client *c, CURL *e, CURLcode res, double now)
{
	struct llm_request *r;
	struct attempt *a;
	long http = 0;
	char why[320];
	int rc, probe;

	curl_easy_getinfo(e, CURLINFO_PRIVATE, (char **)&r);
	curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &http);
	curl_multi_remove_handle(c->multi, e);
	c->active--;
	a = r->priv;
	a->easy = NULL;
	if (a->prev)
		a->prev->next = a->next;
	else
		c->active_list = a->next;
	if (a->next)
		a->next->prev = a->prev;
	a->prev = a->next = NULL;
	easy_put(c, e);
	probe = c->probing;
	c->probing = 0;
	r->http_status = (int)http;
	r->latency = now - a->start;
	pthread_mutex_lock(&c->mu);
	c->st.in_flight = c->active;
	pthread_mutex_unlock(&c->mu);
	log_debug("llm: POST %s -> %ld in %.3f s (attempt %d)%s%s", c->url, http, r->latency,
		  r->attempts, res ? ": " : "", res ? curl_easy_strerror(res) : "");

	if (res != CURLE_OK) {
		if (a->oversize)
			snprintf(why, sizeof(why), "response over %zu bytes", c->o.max_response);
		else
			snprintf(why, sizeof(why), "%s", curl_easy_strerror(res));
		if (res == CURLE_URL_MALFORMAT || res == CURLE_UNSUPPORTED_PROTOCOL) {
			fail(c, r, LLM_EREFUSED, "%s: %s", c->url, why);
			return;
		}
		endpoint_failed(c, now, probe);
		schedule_retry(c, r, now, why);
		return;
	}
	switch (c->p->classify(http, a->body.data, a->body.len)) {
	case LLM_CLASS_OK:
		break;
	case LLM_CLASS_AUTH:
		set_fatal(c, (int)http);
		fail(c, r, LLM_EAUTH, "%s", c->fatal_msg);
		return;
	case LLM_CLASS_THROTTLED:
		throttled(c, now);
		snprintf(why, sizeof(why), "HTTP %ld (rate limited)", http);
		schedule_retry(c, r, now, why);
		return;
	case LLM_CLASS_SERVER:
		endpoint_failed(c, now, probe);
		/* fall through */
	case LLM_CLASS_RETRY:
		snprintf(why, sizeof(why), "HTTP %ld", http);
		schedule_retry(c, r, now, why);
		return;
	default: {
		char msg[256];

		api_error(&a->body, msg, sizeof(msg));
		fail(c, r, LLM_EREFUSED, "HTTP %ld from %s%s%s", http, c->url, *msg ? ": " : "", msg);
		return;
	}
	}
	rc = parse_reply(c, r, a);
	if (rc == CL_EINVAL) {
		endpoint_ok(c);
		finish(c, r, LLM_EREFUSED);
		return;
	}
	if (rc) {
		/* invalid JSON, no choices: the server's fault, try again */
		endpoint_failed(c, now, probe);
		snprintf(why, sizeof(why), "%s", r->error);
		r->error[0] = '\0';
		schedule_retry(c, r, now, why);
		return;
	}
	/* correct the estimate with what was used */
	c->tokens_used += r->tokens_in + r->tokens_out - a->est_tokens;
	bucket_take(&c->tpm, (double)(r->tokens_in + r->tokens_out - a->est_tokens));
	endpoint_ok(c);
	pthread_mutex_lock(&c->mu);
	c->st.latency_sum += r->latency;
	c->st.cap = (int)c->cap;
	pthread_mutex_unlock(&c->mu);
	finish(c, r, LLM_OK);
}

/* New requests: build their bodies once, then queue them. */
static void intake(struct llm_client *c, struct llm_request *list)
{
	while (list) {
		struct llm_request *r = list;
		struct attempt *a;
		json_t *body;

		list = list->next;
		a = calloc(1, sizeof(*a));
		if (!a) {
			fail(c, r, LLM_EGAVEUP, "out of memory");
			continue;
		}
		r->priv = a;
		buf_init(&a->body, c->o.max_response);
		if (r->payload) {
			/* made with the cache key, valid as long as r: used as it is */
			a->payload = r->payload;
			a->payload_len = r->payload_len;
		} else {
			struct buf t;

			buf_init(&t, 0);
			body = request_body(&c->o, r);
			a->built = body && jsonx_dump(body, 0, &t) == 0 ? buf_detach(&t, NULL) : NULL;
			buf_release(&t);
			json_decref(body);
			if (!a->built) {
				fail(c, r, LLM_EGAVEUP, "cannot encode the request");
				continue;
			}
			a->payload = a->built;
			a->payload_len = strlen(a->built);
		}
		a->est_tokens = estimate_tokens(r);
		push(&c->ready, &c->ready_tail, r);
	}
}

static void *io_main(void *arg)
{
	struct llm_client *c = arg;

	for (;;) {
		struct llm_request *in, *r;
		double now, next = 0;
		CURLMsg *m;
		int running, left, timeout_ms, finished;

		pthread_mutex_lock(&c->mu);
		in = c->inbox;
		c->inbox = c->inbox_tail = NULL;
		if (c->stopping) {
			pthread_mutex_unlock(&c->mu);
			while (in) {
				r = in;
				in = in->next;
				fail(c, r, LLM_ECANCELLED, "the client stopped");
			}
			break;
		}
		pthread_mutex_unlock(&c->mu);
		intake(c, in);

		now = time_mono();
		/* retries that are due go first, in due order (all of them once
		 * the credentials were rejected: they fail at once) */
		while (c->delayed && (c->fatal || ((struct attempt *)c->delayed->priv)->due <= now)) {
			r = c->delayed;
			c->delayed = r->next;
			r->next = c->ready;
			c->ready = r;
			if (!c->ready_tail)
				c->ready_tail = r;
		}
		next = start_ready(c, now);
		curl_multi_perform(c->multi, &running);
		finished = 0;
		while ((m = curl_multi_info_read(c->multi, &left)) != NULL) {
			if (m->msg == CURLMSG_DONE) {
				done_transfer(c, m->easy_handle, m->data.result, time_mono());
				finished++;
			}
		}
		/* freed slots: start the next requests and drive them before
		 * sleeping, or they would wait for the next socket event */
		if (finished)
			continue;
		now = time_mono();
		if (c->delayed) {
			double due = ((struct attempt *)c->delayed->priv)->due;

			if (next == 0 || due < next)
				next = due;
		}
		timeout_ms = 1000;
		if (next > 0)
			timeout_ms = (int)fmin(1000, fmax(0, ceil((next - now) * 1000)));
		curl_multi_poll(c->multi, NULL, 0, timeout_ms, NULL);
	}

	/* stopping: everything still held is cancelled */
	for (;;) {
		struct llm_request *r = NULL;

		if (c->ready) {
			r = pop(&c->ready, &c->ready_tail);
		} else if (c->delayed) {
			r = c->delayed;
			c->delayed = r->next;
		}
		if (!r)
			break;
		fail(c, r, LLM_ECANCELLED, "the client stopped");
	}
	return NULL;
}

/* Requests in flight at stop: detach and cancel them. */
static void cancel_active(struct llm_client *c)
{
	while (c->active_list) {
		struct attempt *a = c->active_list;

		c->active_list = a->next;
		curl_multi_remove_handle(c->multi, a->easy);
		curl_easy_cleanup(a->easy);
		a->easy = NULL;
		a->next = NULL;
		c->active--;
		fail(c, a->req, LLM_ECANCELLED, "the client stopped");
	}
}

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void curl_setup(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

int llm_client_new(struct llm_client **out, const struct llm_options *o)
{
	const struct llm_provider *p;
	struct llm_client *c;
	char hdr[4096];
	const char *base;
	int rc = 0;

	*out = NULL;
	p = llm_provider_get(o->provider);
	if (!p)
		return err_set(CL_EINVAL, "llm: unknown provider %d", o->provider);
	if (p->check && (rc = p->check()) != 0)
		return rc;
	if (!p->answer && (!o->model || !*o->model))
		return err_set(CL_EINVAL, "llm: no model named");
	if (!p->answer && (!o->api_key || !*o->api_key))
		return err_set(CL_EINVAL, "llm: no API key for the %s provider",
			       llm_provider_name(o->provider));
	pthread_once(&curl_once, curl_setup);
	c = calloc(1, sizeof(*c));
	if (!c)
		return CL_ENOMEM;
	c->o = *o;
	c->p = p;
	c->o.base_url = strdup(o->base_url ? o->base_url : "");
	c->o.model = strdup(o->model ? o->model : "");
	c->o.api_key = o->api_key ? strdup(o->api_key) : NULL;
	c->o.extra_body = o->extra_body ? json_deep_copy(o->extra_body) : NULL;
	if (c->o.max_in_flight < 1)
		c->o.max_in_flight = 1;
	c->cap = c->o.max_in_flight;
	c->st.cap = (int)c->cap;
	c->rng = o->seed ^ 0x5deece66dULL;
	pthread_mutex_init(&c->mu, NULL);
	pthread_cond_init(&c->done_cv, NULL);
	bucket_init(&c->rpm, c->o.requests_per_min, time_mono());
	bucket_init(&c->tpm, c->o.tokens_per_min, time_mono());
	if (!c->o.base_url || !c->o.model) {
		llm_client_free(c);
		return CL_ENOMEM;
	}
	if (p->answer) {
		*out = c;
		return 0;
	}

	base = llm_base_url(&c->o);
	p->url(&c->o, base, c->url, sizeof(c->url));
	c->headers = curl_slist_append(NULL, "Content-Type: application/json");
	c->headers = curl_slist_append(c->headers, "Expect:");
	p->auth_header(&c->o, hdr, sizeof(hdr));
	c->headers = curl_slist_append(c->headers, hdr);
	explicit_bzero(hdr, sizeof(hdr));
	c->multi = curl_multi_init();
	c->free_easy = calloc((size_t)c->o.max_in_flight, sizeof(*c->free_easy));
	if (!c->headers || !c->multi || !c->free_easy) {
		llm_client_free(c);
		return CL_ENOMEM;
	}
	curl_multi_setopt(c->multi, CURLMOPT_PIPELINING, (long)CURLPIPE_MULTIPLEX);
	curl_multi_setopt(c->multi, CURLMOPT_MAXCONNECTS, (long)c->o.max_in_flight);
	if (pthread_create(&c->io, NULL, io_main, c) != 0) {
		rc = err_set(CL_EIO, "llm: cannot start the I/O thread");
		llm_client_free(c);
		return rc;
	}
	c->io_started = 1;
	*out = c;
	return 0;
}

void llm_client_free(struct llm_client *c)
{
	if (!c)
		return;
	pthread_mutex_lock(&c->mu);
	c->stopping = 1;
	pthread_mutex_unlock(&c->mu);
	if (c->io_started) {
		curl_multi_wakeup(c->multi);
		pthread_join(c->io, NULL);
	}
	cancel_active(c);
	while (c->nfree_easy)
		curl_easy_cleanup(c->free_easy[--c->nfree_easy]);
	free(c->free_easy);
	if (c->multi)
		curl_multi_cleanup(c->multi);
	for (struct curl_slist *h = c->headers; h; h = h->next)
		wipe(h->data);
	curl_slist_free_all(c->headers);
	llm_options_release(&c->o);
	pthread_cond_destroy(&c->done_cv);
	pthread_mutex_destroy(&c->mu);
	free(c);
}

/* A provider without a network answers on the caller's thread. */
static void local_answer(struct llm_client *c, struct llm_request *r)
{
	struct buf out;
	double t0 = time_mono();
	int rc;

	buf_init(&out, c->o.max_response);
	err_clear();
	rc = c->p->answer(r, c->o.seed, &out);
	r->attempts = 1;
	r->latency = time_mono() - t0;
	if (rc) {
		snprintf(r->error, sizeof(r->error), "%s: %s", c->p->name, err_msg(rc));
		buf_release(&out);
		finish(c, r, LLM_EREFUSED);
		return;
	}
	free(r->text);
	r->tokens_in = (int64_t)((r->system ? strlen(r->system) : 0) +
				 (r->user ? strlen(r->user) : 0) + 3) / 4;
	r->tokens_out = (int64_t)(out.len + 3) / 4;
	r->text = buf_detach(&out, NULL);
	snprintf(r->finish_reason, sizeof(r->finish_reason), "stop");
	finish(c, r, LLM_OK);
}

void llm_submit(struct llm_client *c, struct llm_request *r)
{
	r->status = LLM_OK;
	r->error[0] = '\0';
	r->text = NULL;
	r->finish_reason[0] = '\0';
	r->tokens_in = r->tokens_out = 0;
	r->attempts = 0;
	r->http_status = 0;
	r->latency = 0;
	r->priv = NULL;
	r->next = NULL;
	pthread_mutex_lock(&c->mu);
	c->outstanding++;
	c->st.submitted++;
	if (c->p->answer) {
		pthread_mutex_unlock(&c->mu);
		local_answer(c, r);
		return;
	}
	push(&c->inbox, &c->inbox_tail, r);
	pthread_mutex_unlock(&c->mu);
	curl_multi_wakeup(c->multi);
}

static struct llm_request *wait_done(struct llm_client *c, double timeout, int any)
{
	struct llm_request *r = NULL;
	struct timespec until;

	if (timeout >= 0) {
		double t;

		clock_gettime(CLOCK_REALTIME, &until);
		t = (double)until.tv_sec + (double)until.tv_nsec / 1e9 + timeout;
		until.tv_sec = (time_t)t;
		until.tv_nsec = (long)((t - floor(t)) * 1e9);
	}
	pthread_mutex_lock(&c->mu);
	while (!c->done && (any ? !c->woken : c->outstanding > 0)) {
		int rc = timeout >= 0 ? pthread_cond_timedwait(&c->done_cv, &c->mu, &until)
				      : pthread_cond_wait(&c->done_cv, &c->mu);

		if (rc == ETIMEDOUT)
			break;
	}
	if (any)
		c->woken = 0;
	r = pop(&c->done, &c->done_tail);
	if (r)
		c->outstanding--;
	pthread_mutex_unlock(&c->mu);
	return r;
}

struct llm_request *llm_wait(struct llm_client *c, double timeout)
{
	return wait_done(c, timeout, 0);
}

struct llm_request *llm_wait_or_wake(struct llm_client *c, double timeout)
{
	return wait_done(c, timeout, 1);
}

void llm_wake(struct llm_client *c)
{
	pthread_mutex_lock(&c->mu);
	c->woken = 1;
	pthread_cond_broadcast(&c->done_cv);
	pthread_mutex_unlock(&c->mu);
}

uint64_t llm_outstanding(struct llm_client *c)
{
	uint64_t n;

	pthread_mutex_lock(&c->mu);
	n = c->outstanding;
	pthread_mutex_unlock(&c->mu);
	return n;
}

void llm_stats(struct llm_client *c, struct llm_stats *out)
{
	pthread_mutex_lock(&c->mu);
	*out = c->st;
	pthread_mutex_unlock(&c->mu);
}

int llm_fatal(struct llm_client *c, char *why, size_t n)
{
	int f;

	pthread_mutex_lock(&c->mu);
	f = c->fatal;
	if (f && why)
		snprintf(why, n, "%s", c->fatal_msg);
	pthread_mutex_unlock(&c->mu);
	return f;
}
