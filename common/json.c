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

char *jsonx_canonical(const json_t *v)
{
	return json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
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
