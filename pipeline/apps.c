/* apps.c - reading APPS problems in the tarball and Hugging Face layouts */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zstd.h>

#include "../store/store.h"
#include "apps.h"

struct apps_run {
	const struct apps_opts *o;
	const struct apps_sink *sink;
	uint64_t emitted;
	int stop;              /* limit reached */
};

static int valid_split(const char *s)
{
	return s && (strcmp(s, "train") == 0 || strcmp(s, "test") == 0);
}

static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	/* "APPS/train/" -> "train/": callers strip trailing slashes first */
	return slash ? slash + 1 : path;
}

static int ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && strcmp(s + n - m, suffix) == 0;
}

static int emit(struct apps_run *r, const char *key, json_t *rec)
{
	int rc = r->sink->problem(r->sink->arg, key, rec);

	if (rc)
		return rc;
	r->emitted++;
	if (r->o->limit && r->emitted >= r->o->limit)
		r->stop = 1;
	return 0;
}

/* A JSON text that must be a list of strings (solutions); "" means none. */
static int parse_solutions(const char *p, size_t n, const char *what, json_t **out)
{
	json_t *v;
	size_t i;
	json_t *it;

	if (n == 0) {
		*out = json_array();
		return *out ? 0 : CL_ENOMEM;
	}
	v = jsonx_parse(p, n, what);
	if (!v)
		return CL_EPARSE;
	if (!json_is_array(v)) {
		json_decref(v);
		return err_set(CL_EINVAL, "%s: expected a list of solutions", what);
	}
	json_array_foreach(v, i, it) {
		if (!json_is_string(it)) {
			json_decref(v);
			return err_set(CL_EINVAL, "%s: solution %zu is not a string", what, i);
		}
	}
	*out = v;
	return 0;
}

/* input_output: a JSON object, or null when there is none. */
static int parse_io(const char *p, size_t n, const char *what, json_t **out)
{
	json_t *v;

	if (n == 0) {
		*out = json_null();
		return 0;
	}
	v = jsonx_parse(p, n, what);
	if (!v)
		return CL_EPARSE;
	if (!json_is_object(v) && !json_is_null(v)) {
		json_decref(v);
		return err_set(CL_EINVAL, "%s: expected an object", what);
	}
	*out = v;
	return 0;
}

static int is_blank(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\n' && s[i] != '\r')
			return 0;
	return 1;
}

/* A string member, validated as UTF-8 by jansson. */
static int text_value(const char *p, size_t n, const char *what, json_t **out)
{
	*out = json_stringn(p, n);
	if (!*out)
		return err_set(CL_EUTF8, "%s is not valid UTF-8", what);
	return 0;
}

static json_t *new_record(json_t *question, json_t *starter, const char *difficulty,
			  const char *url, json_t *solutions, json_t *io, const char *source)
{
	json_t *rec = json_object();

	if (!rec)
		return NULL;
	json_object_set_new(rec, "question", question);
	json_object_set_new(rec, "starter_code", starter);
	json_object_set_new(rec, "difficulty", json_string(difficulty ? difficulty : ""));
	json_object_set_new(rec, "url", json_string(url ? url : ""));
	json_object_set_new(rec, "solutions", solutions);
	json_object_set_new(rec, "input_output", io);
	json_object_set_new(rec, "source", json_string(source));
	return rec;
}

/* ---- the tarball layout ----------------------------------------------- */

/* metadata.json: an object (difficulty, url), or nothing when empty. */
static int parse_meta(const char *p, size_t n, const char *what, json_t **out)
{
	json_t *v;

	if (n == 0)
		return 0;
	v = jsonx_parse(p, n, what);
	if (!v)
		return CL_EPARSE;
	if (!json_is_object(v)) {
		json_decref(v);
		return err_set(CL_EINVAL, "%s: expected an object", what);
	}
	*out = v;
	return 0;
}

int apps_parse_member(const char *name, const char *p, size_t n, json_t **out)
{
	*out = NULL;
	if (!p)
		p = "";
	if (strcmp(name, "question.txt") == 0) {
		if (is_blank(p, n))
			return err_set(CL_EINVAL, "empty question");
		return text_value(p, n, name, out);
	}
	if (strcmp(name, "starter_code.py") == 0)
		return text_value(p, n, name, out);
	if (strcmp(name, "solutions.json") == 0)
		return parse_solutions(p, n, name, out);
	if (strcmp(name, "input_output.json") == 0)
		return parse_io(p, n, name, out);
	if (strcmp(name, "metadata.json") == 0)
		return parse_meta(p, n, name, out);
	return err_set(CL_EINVAL, "'%s' is not a file of an APPS problem", name);
}

/* Read DIR/NAME into b; a missing optional file leaves b empty. */
static int read_member(const char *dir, const char *name, int required, struct buf *b,
		       char *why, size_t whylen)
{
	char path[4096];
	int rc;

	buf_reset(b);
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	rc = file_read(path, b);
	if (rc == CL_ENOTFOUND && !required)
		return 0;
	if (rc == CL_ENOTFOUND) {
		snprintf(why, whylen, "missing %s", name);
		return rc;
	}
	if (rc == CL_ETOOBIG) {
		snprintf(why, whylen, "%s is over the %zu byte limit", name, b->max);
		return rc;
	}
	if (rc)
		snprintf(why, whylen, "%s", err_msg(rc));
	return rc;
}

static int read_problem_dir(struct apps_run *r, const char *dir, const char *split, int64_t id)
{
	struct buf b;
	char why[600], key[STORE_KEY_MAX];
	json_t *question = NULL, *starter = NULL, *solutions = NULL, *io = NULL, *meta = NULL;
	json_t *rec;
	int rc;

	buf_init(&b, r->o->max_file);
	rc = read_member(dir, "question.txt", 1, &b, why, sizeof(why));
	if (rc)
		goto skip;
	rc = apps_parse_member("question.txt", b.data, b.len, &question);
	if (rc)
		goto skip_msg;
	rc = read_member(dir, "starter_code.py", 0, &b, why, sizeof(why));
	if (rc)
		goto skip;
	rc = apps_parse_member("starter_code.py", b.data, b.len, &starter);
	if (rc)
		goto skip_msg;
	rc = read_member(dir, "solutions.json", 0, &b, why, sizeof(why));
	if (rc)
		goto skip;
	rc = apps_parse_member("solutions.json", b.data, b.len, &solutions);
	if (rc)
		goto skip_msg;
	rc = read_member(dir, "input_output.json", 0, &b, why, sizeof(why));
	if (rc)
		goto skip;
	rc = apps_parse_member("input_output.json", b.data, b.len, &io);
	if (rc)
		goto skip_msg;
	rc = read_member(dir, "metadata.json", 0, &b, why, sizeof(why));
	if (rc)
		goto skip;
	rc = apps_parse_member("metadata.json", b.data, b.len, &meta);
	if (rc)
		goto skip_msg;
	rc = store_problem_key(key, sizeof(key), split, id);
	if (rc)
		goto skip_msg;
	rec = new_record(question, starter, jsonx_str(meta, "difficulty"),
			 jsonx_str(meta, "url"), solutions, io, dir);
	question = starter = solutions = io = NULL; /* now rec's */
	json_decref(meta);
	buf_release(&b);
	if (!rec)
		return CL_ENOMEM;
	return emit(r, key, rec);

skip_msg:
	snprintf(why, sizeof(why), "%s", err_msg(rc));
skip:
	if (rc != CL_ENOMEM) {
		r->sink->skip(r->sink->arg, dir, why);
		rc = 0;
	}
	json_decref(question);
	json_decref(starter);
	json_decref(solutions);
	json_decref(io);
	json_decref(meta);
	buf_release(&b);
	return rc;
}

static int all_digits(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return 0;
	return 1;
}

struct dir_entry {
	int64_t id;
	char name[64];
};

static int cmp_entry(const void *a, const void *b)
{
	const struct dir_entry *x = a, *y = b;

	return (x->id > y->id) - (x->id < y->id);
}

/* The NNNN/ folders of a split folder, in numeric order. */
static int list_problems(const char *dir, struct dir_entry **out, size_t *n)
{
	struct dir_entry *v = NULL;
	size_t len = 0, cap = 0;
	struct dirent *de;
	DIR *d;

	d = opendir(dir);
	if (!d)
		return err_set(CL_EIO, "cannot read '%s': %s", dir, strerror(errno));
	for (;;) {
		int64_t id;

		de = readdir(d);
		if (!de)
			break;
		if (!all_digits(de->d_name) || strlen(de->d_name) >= sizeof(v->name))
			continue;
		if (parse_i64(de->d_name, 0, 99999999, &id) != 0)
			continue;
		if (ARRAY_GROW(v, cap, len, 1024)) {
			free(v);
			closedir(d);
			return CL_ENOMEM;
		}
		v[len].id = id;
		memcpy(v[len].name, de->d_name, strlen(de->d_name) + 1);
		len++;
	}
	closedir(d);
	if (len)
		qsort(v, len, sizeof(*v), cmp_entry);
	*out = v;
	*n = len;
	return 0;
}

static int read_split_dir(struct apps_run *r, const char *dir, const char *split)
{
	struct dir_entry *ents;
	size_t n;
	int rc;

	rc = list_problems(dir, &ents, &n);
	if (rc)
		return rc;
	if (r->sink->total)
		r->sink->total(r->sink->arg, r->o->limit && r->o->limit < n ? r->o->limit : n);
	for (size_t i = 0; i < n && !r->stop; i++) {
		char path[4096];

		snprintf(path, sizeof(path), "%s/%s", dir, ents[i].name);
		if (!dir_exists(path))
			continue;
		rc = read_problem_dir(r, path, split, ents[i].id);
		if (rc)
			break;
	}
	free(ents);
	return rc;
}

static int read_tree(struct apps_run *r, const char *path)
{
	static const char *const splits[] = { "train", "test" };
	char sub[4096];
	int found = 0, rc;
	struct dir_entry *ents;
	size_t n;

	/* APPS/: holds train/ and test/ */
	for (size_t i = 0; i < CL_ARRAY_SIZE(splits); i++) {
		snprintf(sub, sizeof(sub), "%s/%s", path, splits[i]);
		if (!dir_exists(sub))
			continue;
		found = 1;
		if (r->o->split && strcmp(r->o->split, splits[i]) != 0)
			continue;
		rc = read_split_dir(r, sub, splits[i]);
		if (rc || r->stop)
			return rc;
	}
	if (found)
		return 0;
	/* the tarball's top folder: APPS/APPS? look one level down */
	snprintf(sub, sizeof(sub), "%s/APPS", path);
	if (dir_exists(sub))
		return read_tree(r, sub);
	/* a split folder of NNNN/ folders */
	rc = list_problems(path, &ents, &n);
	if (rc)
		return rc;
	free(ents);
	if (n == 0)
		return err_set(CL_EINVAL, "'%s' is not an APPS folder: it has no train/, test/ "
			       "or NNNN/ problem folders", path);
	if (r->o->split)
		return read_split_dir(r, path, r->o->split);
	if (valid_split(base_name(path)))
		return read_split_dir(r, path, base_name(path));
	return err_set(CL_EINVAL, "cannot tell the split of '%s': pass --split train|test", path);
}

/* ---- the Hugging Face JSONL layout ------------------------------------ */

int apps_parse_jsonl(const char *line, size_t len, const char *split, const char *source,
		     char key[128], json_t **rec)
{
	json_t *row, *v, *question = NULL, *starter = NULL, *solutions = NULL, *io = NULL;
	const char *s;
	int64_t id;
	int rc;

	*rec = NULL;
	row = jsonx_parse(line, len, "malformed JSON");
	if (!row)
		return CL_EPARSE;
	if (!json_is_object(row)) {
		rc = err_set(CL_EINVAL, "expected a JSON object");
		goto out;
	}
	v = json_object_get(row, "problem_id");
	if (json_is_integer(v)) {
		id = json_integer_value(v);
	} else if (!json_is_string(v) || parse_i64(json_string_value(v), 0, 99999999, &id)) {
		rc = err_set(CL_EINVAL, "missing or invalid problem_id");
		goto out;
	}
	rc = store_problem_key(key, 128, split, id);
	if (rc)
		goto out;
	s = jsonx_str(row, "question");
	if (!s || is_blank(s, strlen(s))) {
		rc = err_set(CL_EINVAL, "missing or empty question");
		goto out;
	}
	question = json_string(s);
	s = jsonx_str(row, "starter_code");
	starter = json_string(s ? s : "");
	/* solutions and input_output are JSON texts inside strings; tolerate
	 * rows where they are already decoded */
	v = json_object_get(row, "solutions");
	if (json_is_string(v))
		rc = parse_solutions(json_string_value(v), json_string_length(v), "solutions",
				     &solutions);
	else if (!v || json_is_null(v))
		rc = parse_solutions("", 0, "solutions", &solutions);
	else
		rc = err_set(CL_EINVAL, "solutions: expected a JSON text in a string");
	if (rc)
		goto out;
	v = json_object_get(row, "input_output");
	if (json_is_string(v)) {
		rc = parse_io(json_string_value(v), json_string_length(v), "input_output", &io);
	} else if (json_is_object(v)) {
		io = json_incref(v);
	} else {
		io = json_null();
	}
	if (rc)
		goto out;
	*rec = new_record(question, starter, jsonx_str(row, "difficulty"),
			  jsonx_str(row, "url"), solutions, io, source);
	question = starter = solutions = io = NULL;
	rc = *rec ? 0 : CL_ENOMEM;
out:
	json_decref(question);
	json_decref(starter);
	json_decref(solutions);
	json_decref(io);
	json_decref(row);
	return rc;
}

/* Bytes from a plain or zstd-compressed file, a chunk at a time. */
struct chunk_src {
	int fd;
	ZSTD_DCtx *z;
	char in[1 << 17];
	ZSTD_inBuffer zin;
	size_t zr;      /* the decoder's last word: 0 when a frame just ended */
	int eof;
};

static ssize_t chunk_read(struct chunk_src *c, char *dst, size_t cap)
{
	if (!c->z) {
		ssize_t n;

		do
			n = read(c->fd, dst, cap);
		while (n < 0 && errno == EINTR);
		return n;
	}
	for (;;) {
		ZSTD_outBuffer out = { dst, cap, 0 };
		size_t zr, before;

		if (c->zin.pos == c->zin.size && !c->eof) {
			ssize_t n = read(c->fd, c->in, sizeof(c->in));

			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0)
				return -1;
			if (n == 0)
				c->eof = 1;
			c->zin.src = c->in;
			c->zin.size = (size_t)n;
			c->zin.pos = 0;
		}
		before = c->zin.pos;
		zr = ZSTD_decompressStream(c->z, &out, &c->zin);
		if (ZSTD_isError(zr))
			return -2;
		if (out.pos > 0 || c->zin.pos > before)
			c->zr = zr;
		if (out.pos > 0)
			return (ssize_t)out.pos;
		if (c->eof && c->zin.pos == c->zin.size)
			return c->zr == 0 ? 0 : -3; /* -3: the last frame is cut short */
	}
}

/* One complete line: skipped when over the cap or malformed, else emitted. */
static int jsonl_line(struct apps_run *r, const char *path, uint64_t lineno,
		      const struct buf *line, int overlong, const char *split)
{
	char where[4200], key[STORE_KEY_MAX];
	json_t *rec;
	int rc;

	snprintf(where, sizeof(where), "%s:%llu", path, (unsigned long long)lineno);
	if (overlong) {
		char why[128];

		snprintf(why, sizeof(why), "line is over the %zu byte limit", line->max);
		r->sink->skip(r->sink->arg, where, why);
		return 0;
	}
	if (is_blank(line->data ? line->data : "", line->len))
		return 0;
	err_clear();
	rc = apps_parse_jsonl(line->data, line->len, split, where, key, &rec);
	if (rc == CL_ENOMEM)
		return rc;
	if (rc) {
		r->sink->skip(r->sink->arg, where, err_msg(rc));
		return 0;
	}
	return emit(r, key, rec);
}

static int read_jsonl(struct apps_run *r, const char *path)
{
	char split[16], chunk[1 << 16];
	const char *sp = r->o->split;
	struct chunk_src *c;
	struct buf line;
	uint64_t lineno = 0;
	int rc = 0, overlong = 0;
	ssize_t n = 0;

	if (!sp) {
		const char *b = base_name(path);

		if (strncmp(b, "train.", 6) == 0)
			sp = "train";
		else if (strncmp(b, "test.", 5) == 0)
			sp = "test";
		else
			return err_set(CL_EINVAL, "cannot tell the split of '%s': pass --split train|test",
				       path);
	}
	snprintf(split, sizeof(split), "%s", sp);
	c = calloc(1, sizeof(*c));
	if (!c)
		return CL_ENOMEM;
	c->fd = strcmp(path, "-") == 0 ? dup(0) : open(path, O_RDONLY | O_CLOEXEC);
	if (c->fd < 0) {
		rc = err_set(CL_EIO, "cannot open '%s': %s", path, strerror(errno));
		free(c);
		return rc;
	}
	if (ends_with(path, ".zst")) {
		c->z = ZSTD_createDCtx();
		if (!c->z) {
			rc = CL_ENOMEM;
			goto close_fd;
		}
	}
	buf_init(&line, r->o->max_file);
	while (!rc && !r->stop && (n = chunk_read(c, chunk, sizeof(chunk))) > 0) {
		const char *p = chunk, *end = chunk + n;

		while (!rc && p < end && !r->stop) {
			const char *nl = memchr(p, '\n', (size_t)(end - p));
			size_t take = nl ? (size_t)(nl - p) : (size_t)(end - p);

			if (!overlong && buf_add(&line, p, take) != 0) {
				overlong = 1;
				buf_reset(&line);
			}
			p += take;
			if (!nl)
				break;
			p++;
			rc = jsonl_line(r, path, ++lineno, &line, overlong, split);
			overlong = 0;
			buf_reset(&line);
		}
	}
	if (!rc && !r->stop && n < 0)
		rc = err_set(CL_EIO, "cannot read '%s': %s", path,
			     n == -1 ? strerror(errno) : n == -2 ? "corrupt zstd data"
							       : "truncated zstd data");
	if (!rc && !r->stop && (line.len || overlong)) /* no final newline */
		rc = jsonl_line(r, path, ++lineno, &line, overlong, split);
	buf_release(&line);
	ZSTD_freeDCtx(c->z);
close_fd:
	close(c->fd);
	free(c);
	return rc;
}

int apps_read(const char *path, const struct apps_opts *o, const struct apps_sink *sink)
{
	struct apps_run r = { .o = o, .sink = sink };
	char clean[4096];
	size_t n;

	if (o->split && !valid_split(o->split))
		return err_set(CL_EINVAL, "unknown split '%s' (train or test)", o->split);
	n = strlen(path);
	if (n == 0 || n >= sizeof(clean))
		return err_set(CL_EINVAL, "invalid path '%s'", path);
	memcpy(clean, path, n + 1);
	while (n > 1 && clean[n - 1] == '/')
		clean[--n] = '\0';
	if (strcmp(clean, "-") == 0) {
		if (!o->split)
			return err_set(CL_EINVAL, "reading JSONL from standard input needs --split train|test");
		return read_jsonl(&r, clean);
	}
	if (dir_exists(clean))
		return read_tree(&r, clean);
	if (file_exists(clean))
		return read_jsonl(&r, clean); /* zstd-compressed when named *.zst */
	return err_set(CL_ENOTFOUND, "cannot import '%s': no such file or folder", path);
}
