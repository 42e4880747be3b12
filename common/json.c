/* json.c - small conveniences over jansson */
#include <string.h>

#include "common.h"

const char *jsonx_str(const json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);

	return json_is_string(v) ? json_string_value(v) : NULL;
}

int64_t jsonx_int(const json_t *obj, const char *key, int64_t dflt)
{
	json_t *v = json_object_get(obj, key);

	return json_is_integer(v) ? (int64_t)json_integer_value(v) : dflt;
}

/*
 * A JSON writer of our own beside jansson's: json_dumps() walks a string
 * code point by code point through a callback, a third of the CPU a job
 * costs clarifyd at zero latency.  This one copies the runs between the
 * bytes that need escaping whole and escapes as jansson does (\" \\ \b
 * \f \n \r \t, other control characters as \u00XX, nothing else:
 * UTF-8 stays as it is), prints numbers as jansson does, and orders
 * members as it does (insertion order, or strcmp order when sorted).
 */
static int dump_string(const char *s, size_t n, struct buf *out)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t run = 0;
	int rc = buf_reserve(out, n + 2);

	if (!rc)
		rc = buf_addc(out, '"');
	for (size_t i = 0; !rc && i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		char esc[6] = { '\\', 0 };
		size_t elen = 2;

		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		rc = buf_add(out, s + run, i - run);
		run = i + 1;
		switch (c) {
		case '"': esc[1] = '"'; break;
		case '\\': esc[1] = '\\'; break;
		case '\b': esc[1] = 'b'; break;
		case '\f': esc[1] = 'f'; break;
		case '\n': esc[1] = 'n'; break;
		case '\r': esc[1] = 'r'; break;
		case '\t': esc[1] = 't'; break;
		default:
			memcpy(esc + 1, "u00", 3);
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 15];
			elen = 6;
		}
		if (!rc)
			rc = buf_add(out, esc, elen);
	}
	if (!rc)
		rc = buf_add(out, s + run, n - run);
	if (!rc)
		rc = buf_addc(out, '"');
	return rc;
}

/* jansson's jsonp_dtostr: %.17g, a ".0" when it reads as an integer, the
 * exponent without '+' or leading zeros. */
static int dump_real(double d, struct buf *out)
{
	char t[64], *e;
	int n = snprintf(t, sizeof(t), "%.17g", d);

	if (n < 0 || (size_t)n >= sizeof(t) - 3)
		return CL_EINVAL;
	if (!strchr(t, '.') && !strchr(t, 'e'))
		memcpy(t + n, ".0", 3);
	e = strchr(t, 'e');
	if (e) {
		char *from = e + 1, *to = e + 1;

		if (*from == '-')
			*to++ = *from++;
		else if (*from == '+')
			from++;
		while (*from == '0' && from[1])
			from++;
		memmove(to, from, strlen(from) + 1);
	}
	return buf_adds(out, t);
}

static int cmp_key(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int dump_value(const json_t *v, unsigned flags, struct buf *out, int depth)
{
	const char *k;
	json_t *m;
	size_t i;
	int rc = 0;

	if (depth > 2048)
		return CL_EINVAL; /* jansson's own limit */
	switch (json_typeof(v)) {
	case JSON_STRING:
		return dump_string(json_string_value(v), json_string_length(v), out);
	case JSON_INTEGER: {
		char t[32];
		int n = snprintf(t, sizeof(t), "%" JSON_INTEGER_FORMAT, json_integer_value(v));

		return buf_add(out, t, (size_t)n);
	}
	case JSON_REAL:
		return dump_real(json_real_value(v), out);
	case JSON_TRUE:
		return buf_add(out, "true", 4);
	case JSON_FALSE:
		return buf_add(out, "false", 5);
	case JSON_NULL:
		return buf_add(out, "null", 4);
	case JSON_ARRAY:
		rc = buf_addc(out, '[');
		json_array_foreach(v, i, m) {
			if (!rc && i)
				rc = buf_addc(out, ',');
			if (!rc)
				rc = dump_value(m, flags, out, depth + 1);
		}
		return rc ? rc : buf_addc(out, ']');
	case JSON_OBJECT:
		rc = buf_addc(out, '{');
		if (!(flags & JSONX_SORT_KEYS) || json_object_size(v) < 2) {
			i = 0;
			json_object_foreach((json_t *)v, k, m) {
				if (!rc && i++)
					rc = buf_addc(out, ',');
				if (!rc)
					rc = dump_string(k, strlen(k), out);
				if (!rc)
					rc = buf_addc(out, ':');
				if (!rc)
					rc = dump_value(m, flags, out, depth + 1);
			}
		} else {
			size_t n = 0, size = json_object_size(v);
			const char **keys = malloc(size * sizeof(*keys));

			if (!keys)
				return CL_ENOMEM;
			json_object_foreach((json_t *)v, k, m)
				keys[n++] = k;
			qsort(keys, n, sizeof(*keys), cmp_key);
			for (i = 0; !rc && i < n; i++) {
				if (i)
					rc = buf_addc(out, ',');
				if (!rc)
					rc = dump_string(keys[i], strlen(keys[i]), out);
				if (!rc)
					rc = buf_addc(out, ':');
				if (!rc)
					rc = dump_value(json_object_get(v, keys[i]), flags, out,
							depth + 1);
			}
			free(keys);
		}
		return rc ? rc : buf_addc(out, '}');
	}
	return CL_EINVAL;
}

int jsonx_dump(const json_t *v, unsigned flags, struct buf *out)
{
	size_t len = out->len;
	int rc = v ? dump_value(v, flags, out, 0) : CL_EINVAL;

	if (rc) {
		out->len = len;
		if (out->data)
			out->data[len] = '\0';
	}
	return rc;
}

char *jsonx_canonical(const json_t *v)
{
	struct buf b;

	buf_init(&b, 0);
	if (jsonx_dump(v, JSONX_SORT_KEYS, &b)) {
		buf_release(&b);
		return NULL;
	}
	return buf_detach(&b, NULL);
}

json_t *jsonx_parse(const char *p, size_t n, const char *what)
{
	json_error_t e;
	json_t *v;

	v = json_loadb(p, n, JSON_DECODE_ANY | JSON_ALLOW_NUL, &e);
	if (!v)
		err_set(CL_EPARSE, "%s: line %d column %d: %s", what, e.line, e.column, e.text);
	return v;
}

int jsonx_print(FILE *f, const json_t *v, int pretty)
{
	size_t flags = JSON_ENCODE_ANY | (pretty ? JSON_INDENT(2) : JSON_COMPACT);

	if (json_dumpf(v, f, flags) != 0)
		return CL_EIO;
	fputc('\n', f);
	return 0;
}
