/* test_apps.c - reading APPS problems: both layouts give the same records,
 * bad records are skipped with their place and reason, the rest is read. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zstd.h>

#include "../../pipeline/apps.h"
#include "testutil.h"

/* What a read produced: problems by key, and the skips. */
struct got {
	json_t *problems; /* key -> record */
	json_t *skips;    /* list of "where: why" */
	uint64_t total;
};

static void on_total(void *arg, uint64_t n)
{
	((struct got *)arg)->total += n;
}

static int on_problem(void *arg, const char *key, json_t *rec)
{
	struct got *g = arg;

	json_object_set_new(g->problems, key, rec);
	return 0;
}

static void on_skip(void *arg, const char *where, const char *why)
{
	struct got *g = arg;
	char line[4096];

	snprintf(line, sizeof(line), "%s: %s", where, why);
	json_array_append_new(g->skips, json_string(line));
}

static int read_path(const char *path, const char *split, uint64_t limit, struct got *g)
{
	struct apps_opts o = { .split = split, .max_file = 1 << 20, .limit = limit };
	struct apps_sink sink = { on_total, on_problem, on_skip, g };

	g->problems = json_object();
	g->skips = json_array();
	g->total = 0;
	err_clear();
	return apps_read(path, &o, &sink);
}

static void got_release(struct got *g)
{
	json_decref(g->problems);
	json_decref(g->skips);
}

static const char *shared(void)
{
	static char path[4096];
	const char *env = getenv("SHARED_DATA");

	snprintf(path, sizeof(path), "%s", env ? env : "../shared/data");
	return path;
}

static int have_shared(void)
{
	char p[4200];

	snprintf(p, sizeof(p), "%s/apps/train", shared());
	return dir_exists(p);
}

/* The record without where it was read from. */
static char *content(json_t *rec)
{
	json_t *c = json_copy(rec);
	char *s;

	json_object_del(c, "source");
	s = jsonx_canonical(c);
	json_decref(c);
	return s;
}

static void assert_same_problems(struct got *a, struct got *b)
{
	const char *key;
	json_t *rec;

	assert_int_equal(json_object_size(a->problems), json_object_size(b->problems));
	json_object_foreach(a->problems, key, rec) {
		json_t *other = json_object_get(b->problems, key);
		char *x, *y;

		assert_non_null(other);
		x = content(rec);
		y = content(other);
		assert_string_equal(x, y);
		free(x);
		free(y);
	}
}

struct tmp {
	char dir[256];
};

static int setup(void **state)
{
	struct tmp *t = calloc(1, sizeof(*t));

	if (test_tmpdir(t->dir, sizeof(t->dir), "test_apps"))
		return -1;
	*state = t;
	return 0;
}

static int teardown(void **state)
{
	struct tmp *t = *state;
	int rc = test_rmtree(t->dir);

	free(t);
	return rc;
}

static void write_file(const char *dir, const char *name, const void *data, size_t n)
{
	char path[1024];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, n, f), n);
	fclose(f);
}

static void write_text(const char *dir, const char *name, const char *text)
{
	write_file(dir, name, text, strlen(text));
}

static void tarball_root_reads_every_split_folder(void **state)
{
	struct got g;
	json_t *p;

	(void)state;
	assert_int_equal(read_path("tests/data/apps", NULL, 0, &g), 0);
	assert_true(json_object_size(g.problems) >= 10);
	assert_int_equal(json_array_size(g.skips), 0);
	assert_int_equal(g.total, json_object_size(g.problems));
	p = json_object_get(g.problems, "apps/train/0042");
	assert_non_null(p);
	assert_true(strlen(jsonx_str(p, "starter_code")) > 0);
	assert_non_null(json_object_get(json_object_get(p, "input_output"), "fn_name"));
	assert_true(json_array_size(json_object_get(p, "solutions")) >= 1);
	assert_string_equal(jsonx_str(p, "source"), "tests/data/apps/train/0042");
	got_release(&g);
}

static void split_folder_takes_its_split_from_its_name(void **state)
{
	struct got g;

	(void)state;
	assert_int_equal(read_path("tests/data/apps/train/", NULL, 0, &g), 0);
	assert_non_null(json_object_get(g.problems, "apps/train/0000"));
	got_release(&g);
	assert_int_equal(read_path("tests/data/apps/train", "test", 0, &g), 0);
	assert_non_null(json_object_get(g.problems, "apps/test/0000"));
	got_release(&g);
}

static void folder_of_unknown_split_asks_for_split(void **state)
{
	struct tmp *t = *state;
	char sub[512];
	struct got g;
	int rc;

	snprintf(sub, sizeof(sub), "%s/0003", t->dir);
	assert_int_equal(dir_make(sub, 0755), 0);
	write_text(sub, "question.txt", "Print the sum.");
	rc = read_path(t->dir, NULL, 0, &g);
	assert_int_equal(rc, CL_EINVAL);
	assert_non_null(strstr(err_msg(rc), "--split"));
	got_release(&g);
	assert_int_equal(read_path(t->dir, "train", 0, &g), 0);
	assert_int_equal(json_object_size(g.problems), 1);
	got_release(&g);
}

static void not_an_apps_folder_is_refused(void **state)
{
	struct tmp *t = *state;
	struct got g;
	int rc;

	rc = read_path(t->dir, NULL, 0, &g);
	assert_int_equal(rc, CL_EINVAL);
	assert_non_null(strstr(err_msg(rc), "not an APPS folder"));
	got_release(&g);
	rc = read_path("/nonexistent/apps", NULL, 0, &g);
	assert_int_equal(rc, CL_ENOTFOUND);
	got_release(&g);
}

static void jsonl_layout_gives_the_same_records(void **state)
{
	struct got dir, jsonl;

	(void)state;
	assert_int_equal(read_path("tests/data/apps/train", NULL, 0, &dir), 0);
	assert_int_equal(read_path("tests/data/apps-hf/train.jsonl", NULL, 0, &jsonl), 0);
	assert_int_equal(json_array_size(jsonl.skips), 0);
	assert_same_problems(&dir, &jsonl);
	got_release(&dir);
	got_release(&jsonl);
}

static void zstd_jsonl_gives_the_same_records(void **state)
{
	struct tmp *t = *state;
	struct buf raw;
	char *z, path[512];
	size_t zn;
	struct got plain, packed;

	buf_init(&raw, 0);
	assert_int_equal(file_read("tests/data/apps-hf/train.jsonl", &raw), 0);
	z = malloc(ZSTD_compressBound(raw.len));
	zn = ZSTD_compress(z, ZSTD_compressBound(raw.len), raw.data, raw.len, 3);
	assert_false(ZSTD_isError(zn));
	write_file(t->dir, "train.jsonl.zst", z, zn);
	snprintf(path, sizeof(path), "%s/train.jsonl.zst", t->dir);
	assert_int_equal(read_path("tests/data/apps-hf/train.jsonl", NULL, 0, &plain), 0);
	assert_int_equal(read_path(path, NULL, 0, &packed), 0);
	assert_same_problems(&plain, &packed);
	got_release(&plain);
	got_release(&packed);

	/* cut short: an error, after the problems before the cut */
	write_file(t->dir, "train.jsonl.zst", z, zn / 2);
	assert_int_equal(read_path(path, NULL, 0, &packed), CL_EIO);
	assert_non_null(strstr(err_msg(CL_EIO), "zstd"));
	got_release(&packed);
	free(z);
	buf_release(&raw);
}

static void bad_jsonl_lines_are_skipped_with_line_numbers(void **state)
{
	struct tmp *t = *state;
	char path[512];
	struct got g;

	write_text(t->dir, "train.jsonl",
		   "{\"problem_id\": 1, \"question\": \"Add two numbers.\", \"solutions\": \"\","
		   " \"input_output\": \"\", \"difficulty\": \"introductory\", \"url\": \"u\","
		   " \"starter_code\": \"\"}\n"
		   "{\"problem_id\": 2, \"question\": \n"
		   "{\"problem_id\": 3, \"question\": \"   \"}\n"
		   "[1, 2]\n"
		   "\n"
		   "{\"problem_id\": \"4\", \"question\": \"Reverse it.\", \"solutions\": \"[1]\"}\n"
		   "{\"question\": \"No id.\"}\n"
		   "{\"problem_id\": 6, \"question\": \"Last, no newline.\", \"input_output\":"
		   " \"{\\\"inputs\\\": [\\\"1\\\\n\\\"], \\\"outputs\\\": [\\\"1\\\\n\\\"]}\"}");
	snprintf(path, sizeof(path), "%s/train.jsonl", t->dir);
	assert_int_equal(read_path(path, NULL, 0, &g), 0);
	assert_int_equal(json_object_size(g.problems), 2);
	assert_non_null(json_object_get(g.problems, "apps/train/0001"));
	assert_non_null(json_object_get(g.problems, "apps/train/0006"));
	assert_true(json_is_array(json_object_get(json_object_get(g.problems, "apps/train/0001"),
						  "solutions")));
	assert_true(json_is_null(json_object_get(json_object_get(g.problems, "apps/train/0001"),
						 "input_output")));
	assert_true(json_is_object(json_object_get(json_object_get(g.problems, "apps/train/0006"),
						   "input_output")));
	assert_int_equal(json_array_size(g.skips), 5);
	assert_non_null(strstr(json_string_value(json_array_get(g.skips, 0)), "train.jsonl:2:"));
	assert_non_null(strstr(json_string_value(json_array_get(g.skips, 1)), "empty question"));
	assert_non_null(strstr(json_string_value(json_array_get(g.skips, 2)), "object"));
	assert_non_null(strstr(json_string_value(json_array_get(g.skips, 3)), "train.jsonl:6:"));
	assert_non_null(strstr(json_string_value(json_array_get(g.skips, 3)), "not a string"));
	assert_non_null(strstr(json_string_value(json_array_get(g.skips, 4)), "problem_id"));
	got_release(&g);
}

static void bad_problem_folders_are_skipped_and_the_rest_read(void **state)
{
	struct tmp *t = *state;
	char d[512], big[2 << 20];
	struct got g;
	static const char *dirs[] = { "0001", "0002", "0003", "0004", "0005", "0006", "0007" };

	for (size_t i = 0; i < 7; i++) {
		snprintf(d, sizeof(d), "%s/train/%s", t->dir, dirs[i]);
		assert_int_equal(dir_make(d, 0755), 0);
	}
	snprintf(d, sizeof(d), "%s/train/0001", t->dir);
	write_text(d, "question.txt", "A good problem.");
	snprintf(d, sizeof(d), "%s/train/0002", t->dir); /* no question.txt */
	write_text(d, "solutions.json", "[]");
	snprintf(d, sizeof(d), "%s/train/0003", t->dir);
	write_text(d, "question.txt", " \n\t\n");
	snprintf(d, sizeof(d), "%s/train/0004", t->dir);
	write_text(d, "question.txt", "Bad bytes \xff\xfe here.");
	snprintf(d, sizeof(d), "%s/train/0005", t->dir);
	write_text(d, "question.txt", "Broken solutions.");
	write_text(d, "solutions.json", "[\"x\", ");
	snprintf(d, sizeof(d), "%s/train/0006", t->dir);
	write_text(d, "question.txt", "Huge tests.");
	memset(big, 'x', sizeof(big));
	write_file(d, "input_output.json", big, sizeof(big));
	snprintf(d, sizeof(d), "%s/train/0007", t->dir);
	write_text(d, "question.txt", "Also good.");
	write_text(d, "metadata.json", "{\"difficulty\": \"competition\", \"url\": \"https://x\"}");

	assert_int_equal(read_path(t->dir, NULL, 0, &g), 0);
	assert_int_equal(json_object_size(g.problems), 2);
	assert_string_equal(jsonx_str(json_object_get(g.problems, "apps/train/0007"), "difficulty"),
			    "competition");
	assert_int_equal(json_array_size(g.skips), 5);
	assert_non_null(strstr(json_string_value(json_array_get(g.skips, 0)), "0002: missing question.txt"));
	assert_non_null(strstr(json_string_value(json_array_get(g.skips, 1)), "0003: empty question"));
	assert_non_null(strstr(json_string_value(json_array_get(g.skips, 2)), "UTF-8"));
	assert_non_null(strstr(json_string_value(json_array_get(g.skips, 3)), "solutions.json"));
	assert_non_null(strstr(json_string_value(json_array_get(g.skips, 4)), "byte limit"));
	got_release(&g);
}

static void limit_stops_after_n_problems(void **state)
{
	struct got g;

	(void)state;
	assert_int_equal(read_path("tests/data/apps", NULL, 3, &g), 0);
	assert_int_equal(json_object_size(g.problems), 3);
	assert_int_equal(g.total, 3);
	got_release(&g);
	assert_int_equal(read_path("tests/data/apps-hf/train.jsonl", NULL, 2, &g), 0);
	assert_int_equal(json_object_size(g.problems), 2);
	got_release(&g);
}

static void unknown_split_is_refused(void **state)
{
	struct got g;

	(void)state;
	assert_int_equal(read_path("tests/data/apps", "valid", 0, &g), CL_EINVAL);
	got_release(&g);
}

static void shared_apps_problems_field_by_field(void **state)
{
	char path[4200];
	struct got dir, jsonl;
	json_t *p;
	int with_starter = 0;
	const char *key;

	(void)state;
	if (!have_shared()) {
		fprintf(stderr, "shared data missing: %s\n", shared());
		skip();
	}
	snprintf(path, sizeof(path), "%s/apps", shared());
	assert_int_equal(read_path(path, NULL, 0, &dir), 0);
	assert_int_equal(json_object_size(dir.problems), 5);
	json_object_foreach(dir.problems, key, p)
		with_starter += strlen(jsonx_str(p, "starter_code")) > 0;
	assert_int_equal(with_starter, 2);
	p = json_object_get(dir.problems, "apps/train/0001");
	assert_non_null(p);
	assert_string_equal(jsonx_str(p, "difficulty"), "interview");
	assert_string_equal(jsonx_str(p, "url"), "https://codeforces.com/problemset/problem/1036/B");
	assert_true(strncmp(jsonx_str(p, "question"), "Mikhail walks on a Cartesian plane.", 35) == 0);
	assert_string_equal(json_string_value(json_array_get(json_object_get(
				    json_object_get(p, "input_output"), "outputs"), 0)),
			    "1\n6\n-1\n");
	p = json_object_get(dir.problems, "apps/train/2287");
	assert_string_equal(jsonx_str(p, "difficulty"), "competition");
	p = json_object_get(dir.problems, "apps/train/2404");
	assert_string_equal(jsonx_str(p, "difficulty"), "introductory");
	assert_non_null(strstr(jsonx_str(p, "starter_code"), "def findKthPositive"));
	assert_true(json_array_size(json_object_get(p, "solutions")) > 1);
	assert_non_null(json_object_get(dir.problems, "apps/train/0111"));
	assert_non_null(json_object_get(dir.problems, "apps/train/4184"));

	snprintf(path, sizeof(path), "%s/apps-hf/train.jsonl", shared());
	assert_int_equal(read_path(path, "train", 0, &jsonl), 0);
	assert_same_problems(&dir, &jsonl);
	got_release(&dir);
	got_release(&jsonl);
}

/* each file of a problem folder parses on its own, as fuzz_apps drives it */
static void problem_files_parse_one_by_one(void **state)
{
	json_t *v;

	(void)state;
	assert_int_equal(apps_parse_member("question.txt", "Add.", 4, &v), 0);
	assert_string_equal(json_string_value(v), "Add.");
	json_decref(v);
	assert_int_equal(apps_parse_member("question.txt", " \n", 2, &v), CL_EINVAL);
	assert_null(v);
	assert_int_equal(apps_parse_member("starter_code.py", NULL, 0, &v), 0);
	assert_string_equal(json_string_value(v), "");
	json_decref(v);
	assert_int_equal(apps_parse_member("solutions.json", "[\"a\", 1]", 8, &v), CL_EINVAL);
	assert_non_null(strstr(err_msg(CL_EINVAL), "solutions.json"));
	assert_int_equal(apps_parse_member("input_output.json", "null", 4, &v), 0);
	assert_true(json_is_null(v));
	json_decref(v);
	assert_int_equal(apps_parse_member("metadata.json", "", 0, &v), 0);
	assert_null(v);
	assert_int_equal(apps_parse_member("metadata.json", "[]", 2, &v), CL_EINVAL);
	assert_int_equal(apps_parse_member("notes.txt", "x", 1, &v), CL_EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(tarball_root_reads_every_split_folder),
		cmocka_unit_test(split_folder_takes_its_split_from_its_name),
		cmocka_unit_test_setup_teardown(folder_of_unknown_split_asks_for_split, setup, teardown),
		cmocka_unit_test_setup_teardown(not_an_apps_folder_is_refused, setup, teardown),
		cmocka_unit_test(jsonl_layout_gives_the_same_records),
		cmocka_unit_test_setup_teardown(zstd_jsonl_gives_the_same_records, setup, teardown),
		cmocka_unit_test_setup_teardown(bad_jsonl_lines_are_skipped_with_line_numbers, setup,
						teardown),
		cmocka_unit_test_setup_teardown(bad_problem_folders_are_skipped_and_the_rest_read,
						setup, teardown),
		cmocka_unit_test(limit_stops_after_n_problems),
		cmocka_unit_test(unknown_split_is_refused),
		cmocka_unit_test(problem_files_parse_one_by_one),
		cmocka_unit_test(shared_apps_problems_field_by_field),
	};

	log_init("test_apps", LOG_ERR);
	return cmocka_run_group_tests_name("apps", tests, NULL, NULL);
}
