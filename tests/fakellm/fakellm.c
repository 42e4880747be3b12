/*
 * fakellm.c - a fake LLM HTTP server for tests and benchmarks.
 *
 * It speaks the OpenAI chat completions API and the Gemini generateContent
 * API on 127.0.0.1 only.  A reply is a deterministic function of the
 * request (see text_build()).  Faults - error statuses, hangs, slow or cut
 * bodies, bad JSON, refusals, a 64 MiB reply - are injected on demand
 * ("FAULT:KIND" or "FAULT:KIND*N" in the prompt) or at seeded rates, and
 * a seeded latency is applied before answering.  Each request is logged as
 * one JSON line when it arrives.  README.md in this folder is the manual.
 *
 * Threads: libmicrohttpd runs one thread per connection (or a pool with
 * --threads); handlers block in them while they wait.  The main thread
 * only waits for SIGTERM or SIGINT, which every thread keeps blocked.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <jansson.h>
#include <microhttpd.h>

#include "../../common/common.h"
#include "batch.h"
#include "opts.h"
#include "reply.h"

#define BODY_MAX ((size_t)16 << 20)          /* request bodies; 413 past it */
#define OVERSIZED_FILL ((uint64_t)64 << 20)  /* bytes of 'x' in "oversized" */
#define NAP_STEP_MS 20                       /* how often sleepers look up */
#define SLOW_BYTE_MS 200                     /* "slow": one byte this often */
#define LATENCY_MAX_MS 3600000.0
#define THREAD_STACK ((size_t)1 << 20)
#define COUNT_BUCKETS 256


/* ---- fault kinds ------------------------------------------------------ */

enum fault_kind {
	F_429, F_429DATE, F_500, F_503, F_408, F_400, F_404, F_422, F_401,
	F_HANG, F_SLOW, F_TRUNCATED, F_BADJSON, F_EMPTY, F_LENGTH,
	F_OVERSIZED, F_BLOCKED, F_SAFETY, F_COUNT
};

/* One row per kind: the status the client sees (OpenAI's, for "blocked"),
 * and for the kinds answered with an error body, that body. */
static const struct fault_def {
	const char *name;
	int status;
	const char *message;
	const char *type;
	const char *code;
} faults[F_COUNT] = {
	[F_429] = { "429", 429, "Rate limit reached", "requests", "rate_limit_exceeded" },
	[F_429DATE] = { "429date", 429, "Rate limit reached", "requests",
			"rate_limit_exceeded" },
	[F_500] = { "500", 500, "The server had an error while processing your request",
		    "server_error", NULL },
	[F_503] = { "503", 503, "The server is overloaded or not ready yet",
		    "server_error", NULL },
	[F_408] = { "408", 408, "Request timed out", "timeout", NULL },
	[F_400] = { "400", 400, "Invalid request (injected fault)",
		    "invalid_request_error", NULL },
	[F_404] = { "404", 404, "The model does not exist or you do not have access to it",
		    "invalid_request_error", "model_not_found" },
	[F_422] = { "422", 422, "Unprocessable request (injected fault)",
		    "invalid_request_error", NULL },
	[F_401] = { "401", 401, "Incorrect API key provided", "invalid_request_error",
		    "invalid_api_key" },
	[F_HANG] = { "hang", 0, NULL, NULL, NULL },
	[F_SLOW] = { "slow", 200, NULL, NULL, NULL },
	[F_TRUNCATED] = { "truncated", 200, NULL, NULL, NULL },
	[F_BADJSON] = { "badjson", 200, NULL, NULL, NULL },
	[F_EMPTY] = { "empty", 200, NULL, NULL, NULL },
	[F_LENGTH] = { "length", 200, NULL, NULL, NULL },
	[F_OVERSIZED] = { "oversized", 200, NULL, NULL, NULL },
	[F_BLOCKED] = { "blocked", 400,
			"The response was filtered due to the prompt triggering the content "
			"management policy", "invalid_request_error", "content_filter" },
	[F_SAFETY] = { "safety", 200, NULL, NULL, NULL },
};

static int fault_find(const char *name, size_t n)
{
	for (int i = 0; i < F_COUNT; i++)
		if (strlen(faults[i].name) == n && memcmp(faults[i].name, name, n) == 0)
			return i;
	return -1;
}

/* ---- the server ------------------------------------------------------- */

enum api { API_OTHER, API_OPENAI, API_GEMINI };
enum auth { AUTH_NONE, AUTH_OK, AUTH_MISSING, AUTH_WRONG };
enum latency_kind { LAT_NONE, LAT_FIXED, LAT_UNIFORM, LAT_LOGNORMAL };

static const char *const api_names[] = { "other", "openai", "gemini" };
static const char *const auth_names[] = { "none", "ok", "missing", "wrong" };

struct fault_rate {
	int kind;
	double rate;
};

/* "FAULT:KIND*N": how many requests with this prompt were seen. */
struct counter {
	struct counter *next;
	unsigned char sha[HASH_SHA256_LEN];
	int64_t n;
};

struct server {
	/* options */
	int port;
	const char *port_file;
	const char *log_path;
	const char *key;
	int lat_kind;
	double lat_a, lat_b;
	struct fault_rate rates[F_COUNT];
	size_t nrates;
	uint64_t seed;
	int retry_after_ms;      /* what 429 faults advertise */
	int threads;
	int max_conn;
	int help;
	double batch_seconds;
	const char *batch_faults;
	const char *batch_hold;
	struct fbatch *fb;            /* the batch endpoints (batch.c) */

	/* state */
	FILE *log;
	pthread_mutex_t log_lock;     /* the log file and seq */
	uint64_t seq;                 /* requests logged */
	atomic_uint_fast64_t drawn;   /* valid API requests: the next draw index */
	atomic_int stopping;
	pthread_mutex_t count_lock;
	struct counter *counts[COUNT_BUCKETS];
	struct MHD_Daemon *mhd;
};

static void server_init(struct server *s)
{
	memset(s, 0, sizeof(*s));
	s->retry_after_ms = 1000;
	s->max_conn = 4096;
	s->batch_seconds = 1;
	pthread_mutex_init(&s->log_lock, NULL);
	pthread_mutex_init(&s->count_lock, NULL);
	atomic_init(&s->drawn, 0);
	atomic_init(&s->stopping, 0);
}

static void server_release(struct server *s)
{
	for (size_t i = 0; i < COUNT_BUCKETS; i++) {
		while (s->counts[i]) {
			struct counter *c = s->counts[i];

			s->counts[i] = c->next;
			free(c);
		}
	}
	pthread_mutex_destroy(&s->count_lock);
	pthread_mutex_destroy(&s->log_lock);
}

/* Count one more request for this prompt; returns the count. */
static int64_t count_bump(struct server *s, const unsigned char sha[HASH_SHA256_LEN])
{
	size_t b = ((size_t)sha[0] | (size_t)sha[1] << 8) % COUNT_BUCKETS;
	struct counter *c;
	int64_t n;

	pthread_mutex_lock(&s->count_lock);
	for (c = s->counts[b]; c; c = c->next)
		if (memcmp(c->sha, sha, HASH_SHA256_LEN) == 0)
			break;
	if (!c) {
		c = calloc(1, sizeof(*c));
		if (!c) {
			pthread_mutex_unlock(&s->count_lock);
			return INT64_MAX; /* no memory: answer normally */
		}
		memcpy(c->sha, sha, HASH_SHA256_LEN);
		c->next = s->counts[b];
		s->counts[b] = c;
	}
	n = ++c->n;
	pthread_mutex_unlock(&s->count_lock);
	return n;
}

/*
 * Wait ms milliseconds (ms < 0: until the server stops), looking up every
 * NAP_STEP_MS.  Returns 0 when the time is up, -1 as soon as the server
 * is stopping or, when fd >= 0, the client has hung up.
 */
static int nap(struct server *s, int fd, double ms)
{
	double end = time_mono() + ms / 1000.0;

	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLRDHUP };
		struct timespec ts = { 0, NAP_STEP_MS * 1000000L };
		int n;

		if (atomic_load(&s->stopping))
			return -1;
		if (ms >= 0) {
			double left = end - time_mono();

			if (left <= 0)
				return 0;
			if (left < NAP_STEP_MS / 1000.0)
				ts.tv_nsec = (long)(left * 1e9);
		}
		n = ppoll(&pfd, fd >= 0 ? 1 : 0, &ts, NULL);
		if (n > 0 && (pfd.revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL)))
			return -1;
	}
}

/* ---- seeded draws (no libm: the link line has none) ------------------ */

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static double rng_unit(uint64_t *x) /* [0, 1) */
{
	return (double)(splitmix64(x) >> 11) * 0x1.0p-53;
}

/* e^x for |x| <= 40 by range reduction and a Taylor series. */
static double exp_small(double x)
{
	const double ln2 = 0.69314718055994530942;
	double r, term = 1.0, sum = 1.0;
	int k;

	if (x > 40)
		x = 40;
	if (x < -40)
		x = -40;
	k = (int)(x / ln2 + (x >= 0 ? 0.5 : -0.5));
	r = x - k * ln2;
	for (int i = 1; i < 24; i++) {
		term *= r / i;
		sum += term;
	}
	for (; k > 0; k--)
		sum *= 2.0;
	for (; k < 0; k++)
		sum *= 0.5;
	return sum;
}

static double latency_draw(const struct server *s, uint64_t *rng)
{
	double ms = 0, z = -6.0;

	switch (s->lat_kind) {
	case LAT_FIXED:
		ms = s->lat_a;
		break;
	case LAT_UNIFORM:
		ms = s->lat_a + (s->lat_b - s->lat_a) * rng_unit(rng);
		break;
	case LAT_LOGNORMAL:
		/* a standard normal, near enough: the sum of 12 uniforms - 6 */
		for (int i = 0; i < 12; i++)
			z += rng_unit(rng);
		ms = exp_small(s->lat_a + s->lat_b * z);
		break;
	default:
		break;
	}
	return ms > LATENCY_MAX_MS ? LATENCY_MAX_MS : ms;
}

/* ---- one request ------------------------------------------------------ */

/* What the connection accumulates (con_cls). */
struct req {
	struct buf body;
	int too_big;
	int answered;
};

/* What a request will get, decided before it is logged. */
struct plan {
	int api;
	int auth;
	int status;            /* what the client sees; 0 for a hang */
	int fault;             /* F_* or -1 */
	const char *err;       /* a request error: message, type, code */
	const char *err_type;
	const char *err_code;
	char *model;           /* as requested; NULL when not given */
	json_t *body;
	struct buf prompt;     /* every message's text */
	struct buf user;       /* the last user message's text */
	int have_sha;
	char sha[HASH_SHA256_HEX];
	uint64_t id;
	double latency_ms;
	char errbuf[256];
};

static void plan_init(struct plan *p)
{
	memset(p, 0, sizeof(*p));
	p->fault = -1;
	buf_init(&p->prompt, BODY_MAX);
	buf_init(&p->user, BODY_MAX);
}

static void plan_release(struct plan *p)
{
	free(p->model);
	json_decref(p->body);
	buf_release(&p->prompt);
	buf_release(&p->user);
}

static int ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && memcmp(s + n - m, suffix, m) == 0;
}

static void plan_error(struct plan *p, int status, const char *type, const char *code)
{
	p->status = status;
	p->err = p->errbuf;
	p->err_type = type;
	p->err_code = code;
}

/* Which API a request is for; the Gemini model comes from the path. */
static int route(struct plan *p, const char *url, const char *method)
{
	if ((strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0) &&
	    strcmp(url, "/health") == 0) {
		p->status = 200;
		return 0;
	}
	if (strcmp(method, "POST") == 0 && ends_with(url, "/chat/completions")) {
		p->api = API_OPENAI;
		return 0;
	}
	if (strcmp(method, "POST") == 0 && strstr(url, "/models/") &&
	    ends_with(url, ":generateContent")) {
		const char *m = url, *next = strstr(url, "/models/");
		size_t n;

		while (next) {
			m = next + 8;
			next = strstr(m, "/models/");
		}
		n = strlen(m) - strlen(":generateContent");
		p->api = API_GEMINI;
		p->model = strndup(m, n);
		return p->model ? 0 : CL_ENOMEM;
	}
	snprintf(p->errbuf, sizeof(p->errbuf), "Invalid URL (%s %s)", method, url);
	plan_error(p, 404, "invalid_request_error", "unknown_url");
	return 0;
}

static int secret_eq(const char *a, const char *b)
{
	size_t n = strlen(a), m = strlen(b);
	unsigned char d = n != m;

	for (size_t i = 0; i < n && i < m; i++)
		d |= (unsigned char)(a[i] ^ b[i]);
	return d == 0;
}

static int auth_check(const struct server *s, struct MHD_Connection *conn, int api)
{
	const char *v;

	if (!s->key || api == API_OTHER)
		return AUTH_NONE;
	if (api == API_OPENAI) {
		v = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Authorization");
		if (!v)
			return AUTH_MISSING;
		if (strncasecmp(v, "Bearer ", 7) != 0)
			return AUTH_WRONG;
		v += 7;
	} else {
		v = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "x-goog-api-key");
		if (!v)
			return AUTH_MISSING;
	}
	return secret_eq(v, s->key) ? AUTH_OK : AUTH_WRONG;
}

/* PROMPT and the last user message of an OpenAI body. */
static int openai_prompt(struct plan *p)
{
	const json_t *msgs = json_object_get(p->body, "messages");
	const char *model = jsonx_str(p->body, "model");
	json_t *m;
	size_t i;
	int rc;

	if (model) {
		p->model = strdup(model);
		if (!p->model)
			return CL_ENOMEM;
	}
	if (!json_is_array(msgs)) {
		snprintf(p->errbuf, sizeof(p->errbuf), "'messages' must be an array");
		plan_error(p, 400, "invalid_request_error", NULL);
		return 0;
	}
	json_array_foreach(msgs, i, m) {
		const json_t *content = json_object_get(m, "content");
		const char *role = jsonx_str(m, "role");

		rc = content_text(content, &p->prompt);
		if (rc)
			return rc;
		if (role && strcmp(role, "user") == 0) {
			buf_reset(&p->user);
			rc = content_text(content, &p->user);
			if (rc)
				return rc;
		}
	}
	return 0;
}

/* PROMPT and the last user turn of a Gemini body. */
static int gemini_prompt(struct plan *p)
{
	const json_t *sys = json_object_get(p->body, "systemInstruction");
	const json_t *contents = json_object_get(p->body, "contents");
	json_t *c;
	size_t i;
	int rc;

	if (!sys)
		sys = json_object_get(p->body, "system_instruction");
	if (!json_is_array(contents)) {
		snprintf(p->errbuf, sizeof(p->errbuf), "'contents' must be an array");
		plan_error(p, 400, "invalid_request_error", NULL);
		return 0;
	}
	rc = content_text(json_object_get(sys, "parts"), &p->prompt);
	if (rc)
		return rc;
	json_array_foreach(contents, i, c) {
		const json_t *parts = json_object_get(c, "parts");
		const char *role = jsonx_str(c, "role");

		rc = content_text(parts, &p->prompt);
		if (rc)
			return rc;
		if (!role || strcmp(role, "user") == 0) {
			buf_reset(&p->user);
			rc = content_text(parts, &p->user);
			if (rc)
				return rc;
		}
	}
	return 0;
}

/* A "FAULT:KIND" or "FAULT:KIND*N" in the prompt: the kind, and N (0 for
 * every request).  Unknown kinds are skipped. */
static int fault_demanded(const struct buf *prompt, int *kind, int64_t *times)
{
	const char *s = buf_str(prompt), *end = s + prompt->len;
	const char *f = memmem(s, prompt->len, "FAULT:", 6);

	for (; f; f = memmem(f, (size_t)(end - f), "FAULT:", 6)) {
		const char *name = f + 6, *q = name;
		int k;

		while (q < end && (is_digit(*q) || (*q >= 'a' && *q <= 'z') ||
				   (*q >= 'A' && *q <= 'Z') || *q == '_'))
			q++;
		k = fault_find(name, (size_t)(q - name));
		f = name;
		if (k < 0)
			continue;
		*kind = k;
		*times = 0;
		if (q + 1 < end && *q == '*' && is_digit(q[1])) {
			int64_t n = 0;

			for (q++; q < end && is_digit(*q) && n < INT64_MAX / 10 - 9; q++)
				n = n * 10 + (*q - '0');
			*times = n;
		}
		return 1;
	}
	return 0;
}

static int fault_status(int kind, int api)
{
	if (kind == F_BLOCKED && api == API_GEMINI)
		return 200;
	return faults[kind].status;
}

/* The fault, latency and reply id of a valid API request. */
static void plan_draw(struct server *s, struct plan *p, const unsigned char sha[HASH_SHA256_LEN])
{
	uint64_t n = atomic_fetch_add(&s->drawn, 1);
	uint64_t rng = s->seed ^ (n * 0xd1b54a32d192ed03ULL);
	double u, acc = 0;
	int64_t times;
	int kind;

	p->id = splitmix64(&rng);
	u = rng_unit(&rng);
	p->latency_ms = latency_draw(s, &rng);
	if (fault_demanded(&p->prompt, &kind, &times)) {
		if (times == 0 || count_bump(s, sha) <= times)
			p->fault = kind;
	} else {
		for (size_t i = 0; i < s->nrates; i++) {
			acc += s->rates[i].rate;
			if (u < acc) {
				p->fault = s->rates[i].kind;
				break;
			}
		}
	}
	p->status = p->fault >= 0 ? fault_status(p->fault, p->api) : 200;
}

/* Decide everything about a request: 0, or CL_ENOMEM. */
static int plan_make(struct server *s, struct MHD_Connection *conn, const char *url,
		     const char *method, struct req *rq, struct plan *p)
{
	unsigned char sha[HASH_SHA256_LEN];
	json_error_t jerr;
	int rc;

	rc = route(p, url, method);
	if (rc || p->api == API_OTHER)
		return rc;
	p->auth = auth_check(s, conn, p->api);
	if (p->auth == AUTH_MISSING || p->auth == AUTH_WRONG) {
		snprintf(p->errbuf, sizeof(p->errbuf), "%s", faults[F_401].message);
		plan_error(p, 401, faults[F_401].type, faults[F_401].code);
		return 0;
	}
	if (rq->too_big) {
		snprintf(p->errbuf, sizeof(p->errbuf), "request body over %zu bytes", BODY_MAX);
		plan_error(p, 413, "invalid_request_error", "request_too_large");
		return 0;
	}
	p->body = json_loadb(buf_str(&rq->body), rq->body.len, 0, &jerr);
	if (!p->body || !json_is_object(p->body)) {
		if (p->body)
			snprintf(p->errbuf, sizeof(p->errbuf), "the body must be a JSON object");
		else
			snprintf(p->errbuf, sizeof(p->errbuf),
				 "could not parse the JSON body: %s (line %d column %d)",
				 jerr.text, jerr.line, jerr.column);
		plan_error(p, 400, "invalid_request_error", NULL);
		return 0;
	}
	rc = p->api == API_OPENAI ? openai_prompt(p) : gemini_prompt(p);
	if (rc || p->err)
		return rc;
	hash_sha256(buf_str(&p->prompt), p->prompt.len, sha);
	hash_hex(sha, HASH_SHA256_LEN, p->sha);
	p->have_sha = 1;
	plan_draw(s, p, sha);
	return 0;
}

/* One JSON line, written and flushed under the lock. */
static void log_request(struct server *s, const struct plan *p, const char *method,
			const char *url)
{
	struct timespec ts;
	json_t *o;
	char *line;

	pthread_mutex_lock(&s->log_lock);
	s->seq++;
	if (!s->log)
		goto unlock;
	clock_gettime(CLOCK_REALTIME, &ts);
	o = json_pack("{s:I, s:f, s:o, s:o, s:s, s:o?, s:o?, s:o?, s:i, s:s}",
		      "seq", (json_int_t)s->seq,
		      "t", (double)ts.tv_sec + (double)(ts.tv_nsec / 1000) * 1e-6,
		      "method", jstr_lossy(method),
		      "path", jstr_lossy(url),
		      "api", api_names[p->api],
		      "model", p->model ? jstr_lossy(p->model) : NULL,
		      "prompt_sha256", p->have_sha ? json_string(p->sha) : NULL,
		      "fault", p->fault >= 0 ? json_string(faults[p->fault].name) : NULL,
		      "status", p->status,
		      "auth", auth_names[p->auth]);
	line = o ? json_dumps(o, JSON_REAL_PRECISION(16)) : NULL;
	json_decref(o);
	if (!line) {
		log_warn("cannot format the log line of request %" PRIu64, s->seq);
		goto unlock;
	}
	fputs(line, s->log);
	fputc('\n', s->log);
	if (fflush(s->log) != 0)
		log_warn("cannot write '%s': %s", s->log_path, strerror(errno));
	free(line);
unlock:
	pthread_mutex_unlock(&s->log_lock);
}

/* ---- responses -------------------------------------------------------- */

/* The reply's shape, for the normal answer and its variants. */
struct shape {
	const char *text;      /* NULL: no text (OpenAI content null) */
	size_t len;
	const char *finish;    /* OpenAI's word; Gemini's is mapped */
	int64_t out_tokens;
	int no_choices;        /* "empty" */
	int safety;            /* "safety" */
};

static const char *gemini_finish(const char *finish)
{
	if (strcmp(finish, "length") == 0)
		return "MAX_TOKENS";
	if (strcmp(finish, "content_filter") == 0)
		return "SAFETY";
	return "STOP";
}

static json_t *reply_openai(const struct plan *p, const struct shape *sh)
{
	json_t *content = sh->text ? json_stringn(sh->text, sh->len) : json_null();
	int64_t in = tokens(p->prompt.len);
	json_t *choices;
	char id[32];

	snprintf(id, sizeof(id), "fake-%016" PRIx64, p->id);
	if (sh->no_choices) {
		json_decref(content);
		choices = json_array();
	} else {
		choices = json_pack("[{s:i, s:{s:s, s:o}, s:s}]", "index", 0, "message",
				    "role", "assistant", "content", content,
				    "finish_reason", sh->finish);
	}
	return json_pack("{s:s, s:s, s:I, s:o, s:o, s:{s:I, s:I, s:I}}",
			 "id", id, "object", "chat.completion",
			 "created", (json_int_t)time(NULL),
			 "model", jstr_lossy(p->model ? p->model : "fakellm"),
			 "choices", choices,
			 "usage", "prompt_tokens", (json_int_t)in,
			 "completion_tokens", (json_int_t)sh->out_tokens,
			 "total_tokens", (json_int_t)(in + sh->out_tokens));
}

static json_t *reply_gemini(const struct plan *p, const struct shape *sh)
{
	int64_t in = tokens(p->prompt.len);
	json_t *cands, *cand;

	if (sh->safety)
		cand = json_pack("{s:s, s:i, s:[{s:s, s:s, s:b}]}", "finishReason", "SAFETY",
				 "index", 0, "safetyRatings", "category",
				 "HARM_CATEGORY_DANGEROUS_CONTENT", "probability", "HIGH",
				 "blocked", 1);
	else
		cand = json_pack("{s:{s:s, s:[{s:o}]}, s:s, s:i}", "content", "role", "model",
				 "parts", "text", json_stringn(sh->text ? sh->text : "", sh->len),
				 "finishReason", gemini_finish(sh->finish), "index", 0);
	if (sh->no_choices) {
		json_decref(cand);
		cands = json_array();
	} else {
		cands = cand ? json_pack("[o]", cand) : NULL;
	}
	return json_pack("{s:o, s:{s:I, s:I, s:I}, s:o}", "candidates", cands,
			 "usageMetadata", "promptTokenCount", (json_int_t)in,
			 "candidatesTokenCount", (json_int_t)sh->out_tokens,
			 "totalTokenCount", (json_int_t)(in + sh->out_tokens),
			 "modelVersion", jstr_lossy(p->model ? p->model : "fakellm"));
}

/* compact JSON, by common/'s writer (json_dumps's bytes, faster) */
static char *dump_compact(json_t *v)
{
	struct buf b;
	char *s = NULL;

	buf_init(&b, 0);
	if (v && jsonx_dump(v, 0, &b) == 0)
		s = buf_detach(&b, NULL);
	buf_release(&b);
	json_decref(v);
	return s;
}

static char *reply_dump(const struct plan *p, const struct shape *sh)
{
	return dump_compact(p->api == API_OPENAI ? reply_openai(p, sh) : reply_gemini(p, sh));
}

/* A response owning the malloc'd s (freed even on failure). */
static struct MHD_Response *resp_owned(char *s, size_t n, const char *type)
{
	struct MHD_Response *r;

	if (!s)
		return NULL;
	r = MHD_create_response_from_buffer(n, s, MHD_RESPMEM_MUST_FREE);
	if (!r) {
		free(s);
		return NULL;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	return r;
}

static struct MHD_Response *resp_json(json_t *v)
{
	char *s = dump_compact(v);

	return resp_owned(s, s ? strlen(s) : 0, "application/json");
}

static struct MHD_Response *resp_error(const char *message, const char *type,
				       const char *code)
{
	return resp_json(json_pack("{s:{s:o, s:s, s:s?}}", "error", "message",
				   jstr_lossy(message), "type", type, "code", code));
}


/* ms as seconds: "1" for 1000, "0.25" for 250, then suffix. */
static void seconds_text(char *out, size_t n, int ms, const char *suffix)
{
	if (ms % 1000 == 0)
		snprintf(out, n, "%d%s", ms / 1000, suffix);
	else
		snprintf(out, n, "%d.%03d%s", ms / 1000, ms % 1000, suffix);
}

static struct MHD_Response *resp_429(const struct server *s, int date)
{
	struct MHD_Response *r = resp_error(faults[F_429].message, faults[F_429].type,
					    faults[F_429].code);
	char v[64];

	if (!r)
		return NULL;
	if (date) {
		struct timespec now;
		struct tm tm;
		time_t t;

		/* whole seconds: rounded up, so the date is at least S s ahead */
		clock_gettime(CLOCK_REALTIME, &now);
		t = now.tv_sec + (now.tv_nsec > 0) + (s->retry_after_ms + 999) / 1000;

		gmtime_r(&t, &tm);
		strftime(v, sizeof(v), "%a, %d %b %Y %H:%M:%S GMT", &tm);
	} else {
		seconds_text(v, sizeof(v), s->retry_after_ms, "");
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_RETRY_AFTER, v);
	snprintf(v, sizeof(v), "%d", s->retry_after_ms);
	MHD_add_response_header(r, "retry-after-ms", v);
	seconds_text(v, sizeof(v), s->retry_after_ms, "s");
	MHD_add_response_header(r, "x-ratelimit-reset-requests", v);
	return r;
}

/* A body produced by a content-reader callback. */
enum stream_mode { STREAM_SLOW, STREAM_TRUNCATED, STREAM_OVERSIZED };

struct stream {
	struct server *srv;
	int mode;
	char *head;            /* the body; for "oversized" what precedes the fill */
	size_t head_len;
	char *tail;            /* "oversized": what follows the fill (into head) */
	size_t tail_len;
	uint64_t fill;
};

static void stream_free(void *cls)
{
	struct stream *st = cls;

	free(st->head);
	free(st);
}

static ssize_t stream_read(void *cls, uint64_t pos, char *out, size_t max)
{
	struct stream *st = cls;
	size_t done = 0;

	switch (st->mode) {
	case STREAM_SLOW:
		if (pos >= st->head_len)
			return MHD_CONTENT_READER_END_OF_STREAM;
		if (pos > 0 && nap(st->srv, -1, SLOW_BYTE_MS) != 0)
			return MHD_CONTENT_READER_END_WITH_ERROR;
		out[0] = st->head[pos];
		return 1;
	case STREAM_TRUNCATED:
		if (pos >= st->head_len / 2)
			return MHD_CONTENT_READER_END_WITH_ERROR;
		done = st->head_len / 2 - (size_t)pos;
		done = done < max ? done : max;
		memcpy(out, st->head + pos, done);
		return (ssize_t)done;
	default:
		break;
	}
	/* oversized: head, fill, tail */
	while (done < max && !atomic_load(&st->srv->stopping)) {
		uint64_t at = pos + done;
		size_t n;

		if (at < st->head_len) {
			n = st->head_len - (size_t)at;
			n = n < max - done ? n : max - done;
			memcpy(out + done, st->head + at, n);
		} else if (at < st->head_len + st->fill) {
			uint64_t left = st->head_len + st->fill - at;

			n = left < max - done ? (size_t)left : max - done;
			memset(out + done, 'x', n);
		} else if (at < st->head_len + st->fill + st->tail_len) {
			size_t off = (size_t)(at - st->head_len - st->fill);

			n = st->tail_len - off;
			n = n < max - done ? n : max - done;
			memcpy(out + done, st->tail + off, n);
		} else {
			break;
		}
		done += n;
	}
	if (atomic_load(&st->srv->stopping))
		return MHD_CONTENT_READER_END_WITH_ERROR;
	return done ? (ssize_t)done : MHD_CONTENT_READER_END_OF_STREAM;
}

/* A stream over the malloc'd body (owned from here on). */
static struct MHD_Response *resp_stream(struct server *s, int mode, char *body, size_t n,
					size_t tail_at, uint64_t fill)
{
	struct stream *st;
	struct MHD_Response *r;
	uint64_t total = n + fill;

	if (!body)
		return NULL;
	st = calloc(1, sizeof(*st));
	if (!st) {
		free(body);
		return NULL;
	}
	st->srv = s;
	st->mode = mode;
	st->head = body;
	st->head_len = mode == STREAM_OVERSIZED ? tail_at : n;
	st->tail = body + tail_at;
	st->tail_len = n - tail_at;
	st->fill = fill;
	r = MHD_create_response_from_callback(total, mode == STREAM_OVERSIZED ? 65536 : 4096,
					      stream_read, st, stream_free);
	if (!r) {
		stream_free(st);
		return NULL;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
	return r;
}

/* "oversized": the reply around a marker, the marker replaced by the fill. */
static struct MHD_Response *resp_oversized(struct server *s, const struct plan *p)
{
	struct shape sh = { .finish = "stop", .out_tokens = tokens(OVERSIZED_FILL) };
	char marker[64], *body, *at;
	size_t n, mlen;

	mlen = (size_t)snprintf(marker, sizeof(marker), "@@fakellm-fill-%016" PRIx64 "@@",
				p->id);
	sh.text = marker;
	sh.len = mlen;
	body = reply_dump(p, &sh);
	if (!body)
		return NULL;
	at = strstr(body, marker);
	if (!at) {
		free(body);
		return NULL;
	}
	n = strlen(body);
	memmove(at, at + mlen, n - (size_t)(at - body) - mlen + 1);
	return resp_stream(s, STREAM_OVERSIZED, body, n - mlen, (size_t)(at - body),
			   OVERSIZED_FILL);
}

static struct MHD_Response *resp_answer(struct server *s, const struct plan *p)
{
	struct shape sh = { .finish = "stop" };
	struct buf text;
	struct MHD_Response *r = NULL;
	char *body;
	int kind = p->fault;

	switch (kind) {
	case F_429:
	case F_429DATE:
		return resp_429(s, kind == F_429DATE);
	case F_BADJSON:
		body = strdup(p->api == API_OPENAI ? "{\"choices\": [" : "{\"candidates\": [");
		return resp_owned(body, body ? strlen(body) : 0, "application/json");
	case F_OVERSIZED:
		return resp_oversized(s, p);
	case F_BLOCKED:
		if (p->api == API_GEMINI)
			return resp_json(json_pack(
				"{s:{s:s}, s:{s:I, s:I}, s:o}", "promptFeedback", "blockReason",
				"SAFETY", "usageMetadata", "promptTokenCount",
				(json_int_t)tokens(p->prompt.len), "totalTokenCount",
				(json_int_t)tokens(p->prompt.len), "modelVersion",
				jstr_lossy(p->model ? p->model : "fakellm")));
		return resp_error(faults[kind].message, faults[kind].type, faults[kind].code);
	default:
		break;
	}
	if (kind >= 0 && faults[kind].message)
		return resp_error(faults[kind].message, faults[kind].type, faults[kind].code);

	buf_init(&text, BODY_MAX + 4096);
	if (text_build(&p->prompt, &p->user, &text) != 0)
		goto out;
	sh.text = buf_str(&text);
	sh.len = text.len;
	if (kind == F_LENGTH) {
		size_t half = text.len / 2;

		while (half > 0 && ((unsigned char)text.data[half] & 0xc0) == 0x80)
			half--; /* a UTF-8 boundary */
		sh.len = half;
		sh.finish = "length";
	} else if (kind == F_EMPTY) {
		sh.no_choices = 1;
		sh.len = 0;
	} else if (kind == F_SAFETY) {
		sh.text = NULL;
		sh.len = 0;
		sh.finish = "content_filter";
		sh.safety = 1;
	}
	sh.out_tokens = tokens(sh.len);
	body = reply_dump(p, &sh);
	if (kind == F_SLOW || kind == F_TRUNCATED)
		r = resp_stream(s, kind == F_SLOW ? STREAM_SLOW : STREAM_TRUNCATED, body,
				body ? strlen(body) : 0, 0, 0);
	else
		r = resp_owned(body, body ? strlen(body) : 0, "application/json");
out:
	buf_release(&text);
	return r;
}

static int conn_fd(struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);

	return ci ? (int)ci->connect_fd : -1;
}

/* Queue r (NULL: close the connection without an answer). */
static enum MHD_Result respond(struct server *s, struct MHD_Connection *conn,
			       const struct plan *p)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	if (p->api == API_OTHER && !p->err) {
		char *ok = strdup("ok");

		r = resp_owned(ok, 2, "text/plain");
	} else if (p->err) {
		r = resp_error(p->err, p->err_type, p->err_code);
	} else if (p->fault == F_HANG) {
		nap(s, conn_fd(conn), -1);
		return MHD_NO;
	} else {
		if (p->latency_ms > 0 && nap(s, conn_fd(conn), p->latency_ms) != 0)
			return MHD_NO;
		r = resp_answer(s, p);
	}
	if (!r)
		return MHD_NO;
	ret = MHD_queue_response(conn, (unsigned int)p->status, r);
	MHD_destroy_response(r);
	return ret;
}

static const char *conn_arg(void *conn, int header, const char *name)
{
	return MHD_lookup_connection_value(conn, header ? MHD_HEADER_KIND : MHD_GET_ARGUMENT_KIND,
					   name);
}

/* The batch endpoints (batch*.c), behind their API's key; an upload
 * session's URL is its own authority, as Gemini's are. */
static enum MHD_Result batch_answer(struct server *s, struct MHD_Connection *conn,
				    const char *url, const char *method, struct req *rq, int who)
{
	struct fb_http h = { .url = url, .method = method, .body = buf_str(&rq->body),
			     .n = rq->body.len, .arg = conn_arg, .conn = conn, .status = 500,
			     .type = "application/json" };
	int session = who == FB_GEMINI_SESSION && conn_arg(conn, 0, "upload_id");
	int auth = session ? AUTH_NONE
			   : auth_check(s, conn, who == FB_OPENAI ? API_OPENAI : API_GEMINI);
	struct MHD_Response *r;
	enum MHD_Result ret;

	if (auth == AUTH_MISSING || auth == AUTH_WRONG || rq->too_big) {
		r = resp_error(rq->too_big ? "request body too large" : faults[F_401].message,
			       "invalid_request_error", NULL);
		h.status = rq->too_big ? 413 : 401;
	} else if (fbatch_answer(s->fb, &h)) {
		return MHD_NO;
	} else {
		r = resp_owned(h.out, h.len, h.type);
		if (r && h.hdr_name[0])
			MHD_add_response_header(r, h.hdr_name, h.hdr_value);
	}
	if (!r)
		return MHD_NO;
	ret = MHD_queue_response(conn, (unsigned int)h.status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result answer(struct server *s, struct MHD_Connection *conn,
			      const char *url, const char *method, struct req *rq)
{
	struct plan p;
	enum MHD_Result ret = MHD_NO;

	rq->answered = 1;
	if (fbatch_route(url, method) != FB_NONE)
		return batch_answer(s, conn, url, method, rq, fbatch_route(url, method));
	plan_init(&p);
	if (plan_make(s, conn, url, method, rq, &p) != 0) {
		log_warn("out of memory answering '%s %s'", method, url);
		goto out;
	}
	log_request(s, &p, method, url);
	ret = respond(s, conn, &p);
out:
	plan_release(&p);
	return ret;
}

static int length_over(struct MHD_Connection *conn, size_t max)
{
	const char *v = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
						    MHD_HTTP_HEADER_CONTENT_LENGTH);
	int64_t n;

	return v && parse_i64(v, 0, INT64_MAX, &n) == 0 && (uint64_t)n > max;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version,
				  const char *upload, size_t *upload_size, void **con_cls)
{
	struct server *s = cls;
	struct req *rq = *con_cls;
	int rc;

	(void)version;
	if (!rq) {
		rq = calloc(1, sizeof(*rq));
		if (!rq)
			return MHD_NO;
		size_t max = fbatch_body_max(url, method) ? fbatch_body_max(url, method)
							  : BODY_MAX;

		buf_init(&rq->body, max);
		*con_cls = rq;
		if (!length_over(conn, max))
			return MHD_YES;
		rq->too_big = 1; /* answer now, without reading the body */
		return answer(s, conn, url, method, rq);
	}
	if (*upload_size) {
		if (!rq->too_big && !rq->answered) {
			rc = buf_add(&rq->body, upload, *upload_size);
			if (rc == CL_ENOMEM)
				return MHD_NO;
			if (rc) {
				rq->too_big = 1;
				buf_release(&rq->body);
			}
		}
		*upload_size = 0;
		return MHD_YES;
	}
	if (rq->answered)
		return MHD_YES;
	return answer(s, conn, url, method, rq);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			 enum MHD_RequestTerminationCode why)
{
	struct req *rq = *con_cls;

	(void)cls;
	(void)conn;
	(void)why;
	if (!rq)
		return;
	buf_release(&rq->body);
	free(rq);
	*con_cls = NULL;
}

__attribute__((format(printf, 2, 0)))
static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[512];
	size_t n;

	(void)cls;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	n = strlen(msg);
	while (n > 0 && msg[n - 1] == '\n')
		msg[--n] = '\0';
	/* what hang and truncated do on purpose */
	if (strcasestr(msg, "application reported"))
		log_debug("libmicrohttpd: %s", msg);
	else
		log_warn("libmicrohttpd: %s", msg);
}

/* ---- options ---------------------------------------------------------- */

static int opt_latency(struct server *s, const char *v)
{
	char copy[128], *a, *b;
	int rc;

	if (strlen(v) >= sizeof(copy))
		return err_set(CL_ECONFIG, "option '--latency': '%s' is too long", v);
	snprintf(copy, sizeof(copy), "%s", v);
	a = strchr(copy, ':');
	if (!a)
		return err_set(CL_ECONFIG, "option '--latency': '%s' has no ':'", v);
	*a++ = '\0';
	b = strchr(a, ':');
	if (b)
		*b++ = '\0';
	if (strcmp(copy, "fixed") == 0 && !b) {
		s->lat_kind = LAT_FIXED;
		return opt_double("latency", a, 0, &s->lat_a);
	}
	if (strcmp(copy, "uniform") == 0 && b) {
		s->lat_kind = LAT_UNIFORM;
		rc = opt_double("latency", a, 0, &s->lat_a);
		if (rc)
			return rc;
		rc = opt_double("latency", b, s->lat_a, &s->lat_b);
		return rc;
	}
	if (strcmp(copy, "lognormal") == 0 && b) {
		s->lat_kind = LAT_LOGNORMAL;
		rc = opt_double("latency", a, -1e9, &s->lat_a);
		if (rc)
			return rc;
		return opt_double("latency", b, 0, &s->lat_b);
	}
	return err_set(CL_ECONFIG, "option '--latency': '%s' is not fixed:MS, "
		       "uniform:MIN:MAX or lognormal:MU:SIGMA", v);
}

/* KIND:RATE[,KIND:RATE...], the rates summing to at most 1 */
static int opt_faults(struct server *s, const char *v)
{
	const char *p = v;
	double sum = 0;

	while (*p) {
		const char *comma = strchr(p, ','), *end = comma ? comma : p + strlen(p);
		const char *colon = memchr(p, ':', (size_t)(end - p));
		char rate[64];
		int kind;

		if (!colon || (size_t)(end - colon) >= sizeof(rate))
			return err_set(CL_ECONFIG, "option '--fault': '%.*s' is not KIND:RATE",
				       (int)(end - p), p);
		kind = fault_find(p, (size_t)(colon - p));
		if (kind < 0)
			return err_set(CL_ECONFIG, "option '--fault': unknown kind '%.*s'",
				       (int)(colon - p), p);
		if (s->nrates == CL_ARRAY_SIZE(s->rates))
			return err_set(CL_ECONFIG, "option '--fault': too many kinds");
		snprintf(rate, sizeof(rate), "%.*s", (int)(end - colon - 1), colon + 1);
		if (parse_double(rate, &s->rates[s->nrates].rate) != 0 ||
		    s->rates[s->nrates].rate < 0 || s->rates[s->nrates].rate > 1)
			return err_set(CL_ECONFIG, "option '--fault': rate '%s' is not in [0, 1]",
				       rate);
		s->rates[s->nrates].kind = kind;
		sum += s->rates[s->nrates++].rate;
		p = comma ? comma + 1 : end;
	}
	if (sum > 1 + 1e-9)
		return err_set(CL_ECONFIG, "option '--fault': the rates sum to %g, over 1", sum);
	return 0;
}

static int options_parse(struct server *s, int argc, char **argv)
{
	static const struct option longs[] = {
		{ "port", required_argument, NULL, 'p' },
		{ "port-file", required_argument, NULL, 'P' },
		{ "log", required_argument, NULL, 'l' },
		{ "latency", required_argument, NULL, 'L' },
		{ "fault", required_argument, NULL, 'f' },
		{ "seed", required_argument, NULL, 's' },
		{ "key", required_argument, NULL, 'k' },
		{ "key-env", required_argument, NULL, 'K' },
		{ "retry-after", required_argument, NULL, 'r' },
		{ "threads", required_argument, NULL, 't' },
		{ "max-connections", required_argument, NULL, 'c' },
		{ "batch-seconds", required_argument, NULL, 'B' },
		{ "batch-fault", required_argument, NULL, 'F' },
		{ "batch-hold", required_argument, NULL, 'H' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int64_t seed;
	int c, rc = 0;

	opterr = 0;
	while (rc == 0) {
		c = getopt_long(argc, argv, "h", longs, NULL);
		if (c == -1)
			break;
		switch (c) {
		case 'p':
			rc = opt_int("port", optarg, 0, 65535, &s->port);
			break;
		case 'P':
			s->port_file = optarg;
			break;
		case 'l':
			s->log_path = optarg;
			break;
		case 'L':
			rc = opt_latency(s, optarg);
			break;
		case 'f':
			rc = opt_faults(s, optarg);
			break;
		case 's':
			if (parse_i64(optarg, 0, INT64_MAX, &seed) != 0)
				rc = err_set(CL_ECONFIG, "option '--seed': '%s' is not an integer"
					     " >= 0", optarg);
			else
				s->seed = (uint64_t)seed;
			break;
		case 'k':
			if (!*optarg)
				rc = err_set(CL_ECONFIG, "option '--key': the key is empty");
			s->key = optarg;
			break;
		case 'K':
			s->key = getenv(optarg);
			if (!s->key || !*s->key)
				rc = err_set(CL_ECONFIG, "option '--key-env': environment variable"
					     " '%s' is unset or empty", optarg);
			break;
		case 'r':
			rc = opt_seconds_ms("retry-after", optarg, &s->retry_after_ms);
			break;
		case 't':
			rc = opt_int("threads", optarg, 0, 1024, &s->threads);
			break;
		case 'c':
			rc = opt_int("max-connections", optarg, 1, 1000000, &s->max_conn);
			break;
		case 'B':
			rc = opt_double("batch-seconds", optarg, 0, &s->batch_seconds);
			break;
		case 'F':
			s->batch_faults = optarg;
			if (fbatch_check_faults(optarg))
				rc = CL_ECONFIG;
			break;
		case 'H':
			s->batch_hold = optarg;
			break;
		case 'h':
			s->help = 1;
			break;
		default:
			rc = err_set(CL_ECONFIG, "unknown option or missing value '%s'",
				     argv[optind - 1]);
			break;
		}
	}
	if (rc == 0 && optind < argc)
		rc = err_set(CL_ECONFIG, "unexpected argument '%s'", argv[optind]);
	return rc;
}

/* ---- start and stop --------------------------------------------------- */

static void raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == rl.rlim_max)
		return;
	rl.rlim_cur = rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
		log_warn("cannot raise the open file limit: %s", strerror(errno));
}

static int server_start(struct server *s)
{
	struct sockaddr_in sa;
	const union MHD_DaemonInfo *info;
	unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG | MHD_USE_ITC;

	/* poll, not select: descriptors go past FD_SETSIZE */
	if (s->threads > 0)
		flags |= MHD_USE_EPOLL;
	else
		flags |= MHD_USE_THREAD_PER_CONNECTION | MHD_USE_POLL;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)s->port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	struct MHD_OptionItem opts[] = {
		{ MHD_OPTION_SOCK_ADDR, 0, &sa },
		{ MHD_OPTION_CONNECTION_LIMIT, s->max_conn, NULL },
		{ MHD_OPTION_LISTEN_BACKLOG_SIZE, s->max_conn < 65535 ? s->max_conn : 65535, NULL },
		{ MHD_OPTION_CONNECTION_TIMEOUT, 0, NULL },
		{ MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)on_completed, s },
		{ MHD_OPTION_THREAD_STACK_SIZE, (intptr_t)THREAD_STACK, NULL },
		{ s->threads > 0 ? MHD_OPTION_THREAD_POOL_SIZE : MHD_OPTION_END, s->threads, NULL },
		{ MHD_OPTION_END, 0, NULL },
	};

	s->mhd = MHD_start_daemon(flags, (uint16_t)s->port, NULL, NULL, on_request, s,
				  MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, s,
				  MHD_OPTION_ARRAY, opts, MHD_OPTION_END);
	if (!s->mhd)
		return err_set(CL_EIO, "cannot listen on 127.0.0.1:%d", s->port);
	info = MHD_get_daemon_info(s->mhd, MHD_DAEMON_INFO_BIND_PORT);
	if (!info || !info->port)
		return err_set(CL_EIO, "cannot learn the port listened on");
	s->port = info->port;
	return 0;
}

/* The port, written to a temporary name then renamed into place. */
static int port_file_write(const struct server *s)
{
	char tmp[4096];
	FILE *f;
	int rc;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", s->port_file,
			     (long)getpid()) >= sizeof(tmp))
		return err_set(CL_EINVAL, "port file name '%s' is too long", s->port_file);
	f = fopen(tmp, "w");
	if (!f)
		return err_set(CL_EIO, "cannot create '%s': %s", tmp, strerror(errno));
	fprintf(f, "%d\n", s->port);
	rc = ferror(f);
	if (fclose(f) != 0 || rc) {
		rc = err_set(CL_EIO, "cannot write '%s': %s", tmp, strerror(errno));
		unlink(tmp);
		return rc;
	}
	if (rename(tmp, s->port_file) != 0) {
		rc = err_set(CL_EIO, "cannot rename '%s' to '%s': %s", tmp, s->port_file,
			     strerror(errno));
		unlink(tmp);
		return rc;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct server s;
	sigset_t sigs;
	int rc, sig = 0;

	/* blocked before any thread starts, so that only sigwait() sees them */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);
	log_init("fakellm", LOG_INFO);
	server_init(&s);

	rc = options_parse(&s, argc, argv);
	if (rc) {
		log_err("%s (see 'fakellm --help')", err_msg(rc));
		goto release;
	}
	if (s.help) {
		fputs(fakellm_usage, stdout);
		goto release;
	}
	raise_nofile();
	if (s.log_path) {
		s.log = fopen(s.log_path, "w");
		if (!s.log) {
			rc = err_set(CL_EIO, "cannot open '%s': %s", s.log_path, strerror(errno));
			log_err("%s", err_msg(rc));
			goto release;
		}
	}
	s.fb = fbatch_new(s.batch_seconds, s.batch_faults, s.batch_hold, s.log, &s.log_lock);
	rc = s.fb ? server_start(&s) : CL_ENOMEM;
	if (rc) {
		log_err("%s", err_msg(rc));
		goto close_log;
	}
	if (s.port_file) {
		rc = port_file_write(&s);
		if (rc) {
			log_err("%s", err_msg(rc));
			goto stop;
		}
	}
	printf("fakellm listening on 127.0.0.1:%d\n", s.port);
	fflush(stdout);

	while (sig != SIGINT && sig != SIGTERM) {
		if (sigwait(&sigs, &sig) != 0)
			sig = 0;
	}
stop:
	atomic_store(&s.stopping, 1);
	MHD_stop_daemon(s.mhd);
close_log:
	fbatch_free(s.fb);
	if (s.log && fclose(s.log) != 0 && !rc) {
		rc = err_set(CL_EIO, "cannot write '%s': %s", s.log_path, strerror(errno));
		log_err("%s", err_msg(rc));
	}
release:
	server_release(&s);
	return rc ? EXIT_FAILURE : EXIT_SUCCESS;
}
