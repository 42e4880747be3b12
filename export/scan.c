/*
 * scan.c - a scanner over the stored JSON of a record: spans of its fields,
 * without building a tree.
 */
#include <math.h>
#include <string.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "export_int.h"

/* ---- reading records: a scanner over the stored JSON ------------------------- */

static const char *js_ws(const char *p, const char *e)
{
	while (p < e && (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r'))
		p++;
	return p;
}

static int is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/*
 * From p, the first byte that is '"', '\\' or below 0x20, or a point less
 * than eight bytes before it from which to go on byte by byte: sixteen
 * bytes at a time with SSE2, eight with plain 64-bit words.
 */
static const char *js_plain(const char *p, const char *e)
{
	const uint64_t ones = UINT64_C(0x0101010101010101), highs = ones << 7;
#if defined(__SSE2__)
	const __m128i quote = _mm_set1_epi8('"'), bslash = _mm_set1_epi8('\\');
	const __m128i ctl = _mm_set1_epi8(0x1f);

	while (e - p >= 16) {
		__m128i w = _mm_loadu_si128((const __m128i *)(const void *)p);
		/* max(w, 0x1f) == 0x1f: the bytes up to 0x1f, unsigned */
		__m128i hit = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(w, quote),
							_mm_cmpeq_epi8(w, bslash)),
					   _mm_cmpeq_epi8(_mm_max_epu8(w, ctl), ctl));
		unsigned m = (unsigned)_mm_movemask_epi8(hit);

		if (m)
			return p + __builtin_ctz(m);
		p += 16;
	}
#endif
	while (e - p >= 8) {
		uint64_t w, q, b;

		memcpy(&w, p, 8);
		q = w ^ (ones * '"');
		b = w ^ (ones * '\\');
		if (((q - ones) & ~q & highs) | ((b - ones) & ~b & highs) |
		    ((w - ones * 0x20) & ~w & highs))
			break;
		p += 8;
	}
	return p;
}

/* From just after an opening quote to its closing quote; NULL when the
 * string is malformed or unterminated. */
static const char *js_str_end(const char *p, const char *e)
{
	while (p < e) {
		unsigned char c;

		p = js_plain(p, e);
		if (p >= e)
			break;
		c = (unsigned char)*p;

		if (c == '"')
			return p;
		if (c < 0x20)
			return NULL;
		if (c != '\\') {
			p++;
			continue;
		}
		if (p + 1 >= e)
			return NULL;
		c = (unsigned char)p[1];
		if (c == 'u') {
			if (e - p < 6 || !is_hex(p[2]) || !is_hex(p[3]) || !is_hex(p[4]) ||
			    !is_hex(p[5]))
				return NULL;
			p += 6;
		} else if (c == '"' || c == '\\' || c == '/' || c == 'b' || c == 'f' || c == 'n' ||
			   c == 'r' || c == 't') {
			p += 2;
		} else {
			return NULL;
		}
	}
	return NULL;
}

static int js_literal(const char *p, const char *e, const char *word)
{
	size_t n = strlen(word);

	return (size_t)(e - p) >= n && memcmp(p, word, n) == 0;
}

/* One value from p: its span in *v, and where it ends; NULL when malformed. */
static const char *js_value(const char *p, const char *e, struct jspan *v)
{
	const char *start, *q;
	int depth = 0;

	p = js_ws(p, e);
	if (p >= e)
		return NULL;
	start = p;
	switch (*p) {
	case '"':
		q = js_str_end(p + 1, e);
		if (!q)
			return NULL;
		*v = (struct jspan){ JS_STR, p + 1, (size_t)(q - p - 1) };
		return q + 1;
	case '{':
	case '[':
		while (p < e) {
			char c = *p;

			if (c == '"') {
				q = js_str_end(p + 1, e);
				if (!q)
					return NULL;
				p = q + 1;
				continue;
			}
			if (c == '{' || c == '[') {
				depth++;
			} else if ((c == '}' || c == ']') && --depth == 0) {
				*v = (struct jspan){ *start == '{' ? JS_OBJ : JS_ARR, start,
						     (size_t)(p + 1 - start) };
				return p + 1;
			}
			p++;
		}
		return NULL;
	case 't':
		*v = (struct jspan){ JS_TRUE, p, 4 };
		return js_literal(p, e, "true") ? p + 4 : NULL;
	case 'f':
		*v = (struct jspan){ JS_FALSE, p, 5 };
		return js_literal(p, e, "false") ? p + 5 : NULL;
	case 'n':
		*v = (struct jspan){ JS_NULL, p, 4 };
		return js_literal(p, e, "null") ? p + 4 : NULL;
	default:
		while (p < e && strchr("-+0123456789.eE", *p) && *p)
			p++;
		if (p == start)
			return NULL;
		*v = (struct jspan){ JS_NUM, start, (size_t)(p - start) };
		return p;
	}
}

void js_iter(struct jiter *it, const struct jspan *v)
{
	it->p = v->p + 1;
	it->e = v->p + v->n - 1;
	it->first = 1;
}

/* 1 with the next member (key NULL for an array), 0 at the end, -1 when malformed. */
int js_next(struct jiter *it, struct jspan *key, struct jspan *val)
{
	const char *p = js_ws(it->p, it->e);

	if (p >= it->e)
		return 0;
	if (!it->first) {
		if (*p != ',')
			return -1;
		p++;
	}
	it->first = 0;
	if (key) {
		p = js_value(p, it->e, key);
		if (!p || key->type != JS_STR)
			return -1;
		p = js_ws(p, it->e);
		if (p >= it->e || *p != ':')
			return -1;
		p++;
	}
	p = js_value(p, it->e, val);
	if (!p)
		return -1;
	it->p = p;
	return 1;
}

int js_is(const struct jspan *s, const char *name)
{
	return s->type == JS_STR && s->n == strlen(name) && memcmp(s->p, name, s->n) == 0;
}

/* The top-level object of a record's text. */
int js_root(const char *text, size_t n, struct jspan *root)
{
	const char *p = js_ws(text, text + n), *e = text + n;

	/* the members are checked as they are read (js_next) */
	while (e > p && (e[-1] == ' ' || e[-1] == '\n' || e[-1] == '\t' || e[-1] == '\r'))
		e--;
	if (e - p < 2 || *p != '{' || e[-1] != '}')
		return err_set(CL_EPARSE, "record is not a JSON object");
	*root = (struct jspan){ JS_OBJ, p, (size_t)(e - p) };
	return 0;
}

/* The members of obj named in names[] into out[] (type 0 when absent). */
int js_fields(const struct jspan *obj, const char *const *names, size_t n,
		     struct jspan *out)
{
	struct jiter it;
	struct jspan k, v;
	int rc;

	memset(out, 0, n * sizeof(*out));
	if (obj->type != JS_OBJ)
		return 0;
	js_iter(&it, obj);
	while ((rc = js_next(&it, &k, &v)) == 1) {
		for (size_t i = 0; i < n; i++)
			if (js_is(&k, names[i]))
				out[i] = v;
	}
	return rc < 0 ? err_set(CL_EPARSE, "malformed JSON record") : 0;
}

double js_number(const struct jspan *v)
{
	char tmp[64];

	if (v->type != JS_NUM || v->n >= sizeof(tmp))
		return NAN;
	memcpy(tmp, v->p, v->n);
	tmp[v->n] = '\0';
	return strtod(tmp, NULL);
}

/* A short string member as text (escapes undone) into out; "" when absent. */
void js_text(const struct jspan *v, char *out, size_t n)
{
	json_t *j;
	char *quoted;

	out[0] = '\0';
	if (v->type != JS_STR)
		return;
	if (!memchr(v->p, '\\', v->n)) {
		snprintf(out, n, "%.*s", (int)v->n, v->p);
		return;
	}
	quoted = malloc(v->n + 3);
	if (!quoted)
		return;
	quoted[0] = '"';
	memcpy(quoted + 1, v->p, v->n);
	quoted[v->n + 1] = '"';
	quoted[v->n + 2] = '\0';
	j = json_loads(quoted, JSON_DECODE_ANY, NULL);
	if (json_is_string(j))
		snprintf(out, n, "%s", json_string_value(j));
	json_decref(j);
	free(quoted);
}
