/*
 * test_common.c - the helpers in common/: capped buffers, growable arrays,
 * per-thread error messages, hashing, strict number parsing, files, time,
 * JSON, categories and the journald-aware log.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <setjmp.h>
#include <cmocka.h>

#include "../../common/common.h"
#include "testutil.h"

/* ---- fixtures --------------------------------------------------------- */


static int group_setup(void **state)
{
	(void)state;
	if (test_tmpdir(tmp_root, sizeof(tmp_root), "test_common"))
		return -1;
	log_init("test_common", LOG_INFO);
	return 0;
}

static void write_file(const char *path, const void *p, size_t n)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	if (n)
		assert_int_equal(fwrite(p, 1, n, f), n);
	assert_int_equal(fclose(f), 0);
}

/* Read a whole small file into out (NUL-terminated); returns its length. */
static size_t slurp(const char *path, char *out, size_t n)
{
	FILE *f = fopen(path, "rb");
	size_t got;

	assert_non_null(f);
	got = fread(out, 1, n - 1, f);
	out[got] = '\0';
	fclose(f);
	return got;
}

/*
 * Point stderr (fd 2) at a fresh file for the duration of a capture.
 * capture_begin returns the saved fd 2; capture_end puts it back.
 */
static int capture_begin(const char *path)
{
	int saved, fd;

	fflush(stderr);
	saved = dup(2);
	assert_true(saved >= 0);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(dup2(fd, 2), 2);
	close(fd);
	return saved;
}

static void capture_end(int saved)
{
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
}

/* ---- struct buf ------------------------------------------------------- */

static void buf_init_starts_empty_with_given_max(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b, 100);
	assert_null(b.data);
	assert_int_equal(b.len, 0);
	assert_int_equal(b.cap, 0);
	assert_int_equal(b.max, 100);
	buf_release(&b);
}

static void buf_init_zero_max_means_default_cap(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b, 0);
	assert_int_equal(b.max, BUF_MAX_DEFAULT);
	buf_release(&b);
}

static void buf_add_appends_bytes_and_nul_terminates(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b, 0);
	assert_int_equal(buf_add(&b, "ab\0cd", 5), 0);
	assert_int_equal(b.len, 5);
	assert_memory_equal(b.data, "ab\0cd", 5);
	assert_int_equal(b.data[5], '\0');
	assert_true(b.cap > b.len);
	buf_release(&b);
}

static void buf_add_of_nothing_gives_empty_string(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b, 0);
	assert_int_equal(buf_add(&b, NULL, 0), 0);
	assert_non_null(b.data);
	assert_int_equal(b.len, 0);
	assert_string_equal(b.data, "");
	buf_release(&b);
}

static void buf_adds_and_addc_append_text(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b, 0);
	assert_int_equal(buf_adds(&b, "hello"), 0);
	assert_int_equal(buf_addc(&b, ','), 0);
	assert_int_equal(buf_adds(&b, " world"), 0);
	assert_int_equal(buf_addc(&b, '!'), 0);
	assert_string_equal(b.data, "hello, world!");
	assert_int_equal(b.len, strlen("hello, world!"));
	buf_release(&b);
}

static void buf_addf_formats_and_appends(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b, 0);
	assert_int_equal(buf_adds(&b, "n="), 0);
	assert_int_equal(buf_addf(&b, "%d, s='%s', x=%04x", 42, "str", 0xbeef), 0);
	assert_string_equal(b.data, "n=42, s='str', x=beef");
	assert_int_equal(b.len, strlen("n=42, s='str', x=beef"));
	assert_int_equal(buf_addf(&b, "%s", ""), 0);
	assert_int_equal(b.len, strlen("n=42, s='str', x=beef"));
	buf_release(&b);
}

static void buf_grows_across_many_appends(void **state)
{
	struct buf b;
	char expect[16];

	(void)state;
	buf_init(&b, 0);
	for (int i = 0; i < 10000; i++)
		assert_int_equal(buf_addf(&b, "%05d,", i), 0);
	assert_int_equal(b.len, 10000 * 6);
	assert_true(b.cap > b.len);
	assert_int_equal(b.data[b.len], '\0');
	assert_int_equal(strlen(b.data), b.len);
	for (int i = 0; i < 10000; i += 997) {
		snprintf(expect, sizeof(expect), "%05d,", i);
		assert_memory_equal(b.data + 6 * i, expect, 6);
	}
	buf_release(&b);
}

static void buf_accepts_exactly_max_bytes(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b, 8);
	assert_int_equal(buf_adds(&b, "1234"), 0);
	assert_int_equal(buf_adds(&b, "5678"), 0);
	assert_int_equal(b.len, 8);
	assert_string_equal(b.data, "12345678");
	buf_release(&b);
}

static void buf_append_past_max_is_refused_and_leaves_content(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b, 8);
	assert_int_equal(buf_adds(&b, "12345"), 0);
	assert_int_equal(buf_adds(&b, "6789"), CL_ETOOBIG);
	assert_int_equal(b.len, 5);
	assert_string_equal(b.data, "12345");
	assert_int_equal(buf_add(&b, "6789", 4), CL_ETOOBIG);
	assert_int_equal(b.len, 5);
	assert_string_equal(b.data, "12345");
	assert_int_equal(buf_addf(&b, "%s", "6789"), CL_ETOOBIG);
	assert_int_equal(b.len, 5);
	assert_string_equal(b.data, "12345");
	/* what still fits is still accepted */
	assert_int_equal(buf_adds(&b, "678"), 0);
	assert_int_equal(buf_addc(&b, '9'), CL_ETOOBIG);
	assert_string_equal(b.data, "12345678");
	assert_int_equal(b.len, 8);
	buf_release(&b);
}

static void buf_append_larger_than_max_on_empty_buf_is_refused(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b, 4);
	assert_int_equal(buf_adds(&b, "12345"), CL_ETOOBIG);
	assert_int_equal(b.len, 0);
	assert_int_equal(buf_reserve(&b, SIZE_MAX), CL_ETOOBIG);
	assert_int_equal(b.len, 0);
	buf_release(&b);
}

static void buf_reset_empties_but_keeps_memory(void **state)
{
	struct buf b;
	char *data;
	size_t cap;

	(void)state;
	buf_init(&b, 0);
	assert_int_equal(buf_adds(&b, "some text"), 0);
	data = b.data;
	cap = b.cap;
	buf_reset(&b);
	assert_int_equal(b.len, 0);
	assert_ptr_equal(b.data, data);
	assert_int_equal(b.cap, cap);
	assert_string_equal(b.data, "");
	assert_int_equal(buf_adds(&b, "again"), 0);
	assert_string_equal(b.data, "again");
	buf_release(&b);
}

static void buf_reset_of_unused_buf_is_safe(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b, 0);
	buf_reset(&b);
	assert_null(b.data);
	assert_int_equal(b.len, 0);
}

static void buf_detach_hands_over_data_and_leaves_buf_reusable(void **state)
{
	struct buf b;
	size_t len = 0;
	char *p;

	(void)state;
	buf_init(&b, 32);
	assert_int_equal(buf_adds(&b, "detach me"), 0);
	p = buf_detach(&b, &len);
	assert_non_null(p);
	assert_string_equal(p, "detach me");
	assert_int_equal(len, 9);
	assert_null(b.data);
	assert_int_equal(b.len, 0);
	assert_int_equal(b.cap, 0);
	assert_int_equal(b.max, 32);
	assert_int_equal(buf_adds(&b, "reused"), 0);
	assert_string_equal(b.data, "reused");
	assert_true(b.data != p);
	free(p);
	buf_release(&b);
}

static void buf_detach_of_empty_buf_returns_empty_string(void **state)
{
	struct buf b;
	size_t len = 99;
	char *p;

	(void)state;
	buf_init(&b, 0);
	p = buf_detach(&b, &len);
	assert_non_null(p);
	assert_string_equal(p, "");
	assert_int_equal(len, 0);
	free(p);
	p = buf_detach(&b, NULL);
	assert_non_null(p);
	free(p);
}

static void buf_release_frees_and_keeps_max(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b, 1000);
	assert_int_equal(buf_adds(&b, "to be freed"), 0);
	buf_release(&b);
	assert_null(b.data);
	assert_int_equal(b.len, 0);
	assert_int_equal(b.cap, 0);
	assert_int_equal(b.max, 1000);
	/* releasing twice is harmless, and the buf is usable again */
	buf_release(&b);
	assert_int_equal(buf_adds(&b, "x"), 0);
	assert_string_equal(b.data, "x");
	buf_release(&b);
}

/* ---- growable arrays --------------------------------------------------- */

static void array_grow_starts_at_first_then_doubles(void **state)
{
	int *v = NULL;
	size_t n = 0, cap = 0;

	(void)state;
	for (int i = 0; i < 100; i++) {
		assert_int_equal(ARRAY_GROW(v, cap, n, 4), 0);
		assert_true(n < cap);
		v[n++] = i;
		/* 4, 8, 16, 32, 64, 128: the first size, then twice */
		assert_true(cap == 4 || cap == 8 || cap == 16 || cap == 32 || cap == 64 ||
			    cap == 128);
		assert_true(cap < 2 * n + 4);
	}
	assert_int_equal(cap, 128);
	for (int i = 0; i < 100; i++)
		assert_int_equal(v[i], i);
	free(v);
}

static void array_grow_with_room_left_changes_nothing(void **state)
{
	long *v = NULL, *before;
	size_t cap = 0;

	(void)state;
	assert_int_equal(ARRAY_GROW(v, cap, 0, 10), 0);
	assert_int_equal(cap, 10);
	before = v;
	for (size_t n = 0; n < 10; n++) {
		assert_int_equal(ARRAY_GROW(v, cap, n, 10), 0);
		assert_ptr_equal(v, before);
		assert_int_equal(cap, 10);
	}
	free(v);
}

static void array_grow_first_zero_means_one(void **state)
{
	char *v = NULL;
	size_t cap = 0;

	(void)state;
	assert_int_equal(array_grow((void **)&v, &cap, 0, 1, 0), 0);
	assert_int_equal(cap, 1);
	v[0] = 'x';
	assert_int_equal(array_grow((void **)&v, &cap, 1, 1, 0), 0);
	assert_int_equal(cap, 2);
	free(v);
}

static void array_grow_past_size_max_is_enomem_and_keeps_array(void **state)
{
	char marker[16];
	void *v = marker; /* never passed to realloc: the size check comes first */
	size_t cap, elem = 16;

	(void)state;
	/* full at the most elements of 16 bytes that SIZE_MAX bytes hold */
	cap = SIZE_MAX / elem;
	assert_int_equal(array_grow(&v, &cap, cap, elem, 8), CL_ENOMEM);
	assert_ptr_equal(v, marker);
	assert_int_equal(cap, SIZE_MAX / elem);
	/* bytes: a full array of SIZE_MAX one-byte elements */
	cap = SIZE_MAX;
	assert_int_equal(array_grow(&v, &cap, SIZE_MAX, 1, 8), CL_ENOMEM);
	assert_ptr_equal(v, marker);
	assert_int_equal(cap, SIZE_MAX);
}

/* ---- errors ----------------------------------------------------------- */

static void err_set_returns_code_and_formats_message(void **state)
{
	(void)state;
	err_clear();
	assert_int_equal(err_set(CL_EIO, "cannot open '%s': %s", "x.yaml", "denied"), CL_EIO);
	assert_string_equal(err_msg(CL_EIO), "cannot open 'x.yaml': denied");
	/* the message is returned whatever code is asked about */
	assert_string_equal(err_msg(CL_EPARSE), "cannot open 'x.yaml': denied");
	err_clear();
}

static void err_set_may_wrap_the_previous_message(void **state)
{
	(void)state;
	err_set(CL_EIO, "inner reason");
	err_set(CL_EIO, "outer '%s': %s", "ctx", err_msg(CL_EIO));
	assert_string_equal(err_msg(CL_EIO), "outer 'ctx': inner reason");
}

static void err_msg_falls_back_to_err_str_after_clear(void **state)
{
	(void)state;
	err_set(CL_EIO, "something specific");
	err_clear();
	assert_string_equal(err_msg(CL_ENOTFOUND), err_str(CL_ENOTFOUND));
	assert_string_equal(err_msg(CL_ENOMEM), "out of memory");
}

static void err_str_describes_every_code(void **state)
{
	static const int codes[] = {
		CL_OK, CL_ENOMEM, CL_EIO, CL_EPARSE, CL_ECONFIG, CL_ESTORE, CL_ENOTFOUND,
		CL_ELOCKED, CL_ESCHEMA, CL_ETOOBIG, CL_EUTF8, CL_EINVAL, CL_ECODEC, CL_EFULL,
	};

	(void)state;
	assert_string_equal(err_str(CL_OK), "success");
	assert_string_equal(err_str(CL_ETOOBIG), "over the size limit");
	for (size_t i = 0; i < CL_ARRAY_SIZE(codes); i++) {
		assert_non_null(err_str(codes[i]));
		assert_string_not_equal(err_str(codes[i]), "unknown error");
		for (size_t j = 0; j < i; j++)
			assert_string_not_equal(err_str(codes[i]), err_str(codes[j]));
	}
	assert_string_equal(err_str(-1000), "unknown error");
	assert_string_equal(err_str(5), "unknown error");
}

static void err_set_truncates_overlong_messages(void **state)
{
	char big[3000];
	const char *m;

	(void)state;
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	err_set(CL_EINVAL, "%s", big);
	m = err_msg(CL_EINVAL);
	assert_true(strlen(m) > 0);
	assert_true(strlen(m) < sizeof(big) - 1);
	assert_int_equal(strspn(m, "x"), strlen(m));
	err_clear();
}

struct err_thread_result {
	char before[128];
	char after[128];
};

static void *err_thread(void *arg)
{
	struct err_thread_result *r = arg;

	snprintf(r->before, sizeof(r->before), "%s", err_msg(CL_EPARSE));
	err_set(CL_EIO, "message of the second thread");
	snprintf(r->after, sizeof(r->after), "%s", err_msg(CL_EIO));
	return NULL;
}

static void err_messages_are_per_thread(void **state)
{
	struct err_thread_result r;
	pthread_t t;

	(void)state;
	memset(&r, 0, sizeof(r));
	err_set(CL_ECONFIG, "message of the main thread");
	assert_int_equal(pthread_create(&t, NULL, err_thread, &r), 0);
	assert_int_equal(pthread_join(t, NULL), 0);
	/* a new thread starts with no message of its own */
	assert_string_equal(r.before, err_str(CL_EPARSE));
	assert_string_equal(r.after, "message of the second thread");
	assert_string_equal(err_msg(CL_ECONFIG), "message of the main thread");
	err_clear();
}

/* ---- hashing ---------------------------------------------------------- */

static void fnv1a64_matches_reference_vectors(void **state)
{
	(void)state;
	assert_int_equal(hash_fnv1a64("", 0), 0xcbf29ce484222325ULL);
	assert_int_equal(hash_fnv1a64("a", 1), 0xaf63dc4c8601ec8cULL);
	assert_int_equal(hash_fnv1a64("foobar", 6), 0x85944171f73967e8ULL);
}

/* the shard of a key is FNV-1a modulo n, as clarifyd --shard has always
 * taken it, and the keys of a real import spread over every shard */
static void shard_is_fnv1a_modulo_n_and_spreads(void **state)
{
	unsigned count[8] = { 0 };
	char key[64];

	(void)state;
	assert_int_equal(hash_shard("apps/train/0042", 1), 0);
	assert_int_equal(hash_shard("apps/train/0042", 0), 0);
	assert_int_equal(hash_shard("apps/train/0042", 7),
			 hash_fnv1a64("apps/train/0042", 15) % 7);
	for (int i = 0; i < 8000; i++) {
		snprintf(key, sizeof(key), "apps/train/%04d", i);
		count[hash_shard(key, 8)]++;
	}
	for (int k = 0; k < 8; k++) /* 1000 each, within 10% */
		assert_in_range(count[k], 900, 1100);
}

static void fnv1a64_uses_exactly_n_bytes(void **state)
{
	(void)state;
	assert_int_equal(hash_fnv1a64("foobarbaz", 6), 0x85944171f73967e8ULL);
	assert_int_not_equal(hash_fnv1a64("a\0b", 3), hash_fnv1a64("a", 1));
}

static void sha256_hex_matches_published_vectors(void **state)
{
	static const char *const abc448 =
		"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
	char hex[HASH_SHA256_HEX];

	(void)state;
	hash_sha256_hex("", 0, hex);
	assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	hash_sha256_hex("abc", 3, hex);
	assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	hash_sha256_hex(abc448, strlen(abc448), hex);
	assert_string_equal(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

static void sha256_bytes_agree_with_hex(void **state)
{
	unsigned char md[HASH_SHA256_LEN];
	char hex[HASH_SHA256_HEX], hex2[HASH_SHA256_HEX];

	(void)state;
	hash_sha256("abc", 3, md);
	assert_int_equal(md[0], 0xba);
	assert_int_equal(md[31], 0xad);
	hash_hex(md, sizeof(md), hex);
	hash_sha256_hex("abc", 3, hex2);
	assert_string_equal(hex, hex2);
}

static void hash_hex_is_lower_case_and_terminated(void **state)
{
	static const unsigned char in[] = { 0x00, 0x0f, 0xa0, 0xff };
	char out[2 * sizeof(in) + 2];

	(void)state;
	memset(out, '#', sizeof(out));
	hash_hex(in, sizeof(in), out);
	assert_string_equal(out, "000fa0ff");
	assert_int_equal(out[sizeof(out) - 1], '#');
}

/* ---- number parsing --------------------------------------------------- */

static void parse_i64_accepts_valid_decimal(void **state)
{
	int64_t v = -1;

	(void)state;
	assert_int_equal(parse_i64("0", INT64_MIN, INT64_MAX, &v), 0);
	assert_true(v == 0);
	assert_int_equal(parse_i64("42", 0, 100, &v), 0);
	assert_true(v == 42);
	assert_int_equal(parse_i64("-17", -20, 0, &v), 0);
	assert_true(v == -17);
	assert_int_equal(parse_i64("9223372036854775807", INT64_MIN, INT64_MAX, &v), 0);
	assert_true(v == INT64_MAX);
	assert_int_equal(parse_i64("-9223372036854775808", INT64_MIN, INT64_MAX, &v), 0);
	assert_true(v == INT64_MIN);
}

static void parse_i64_accepts_the_bounds_themselves(void **state)
{
	int64_t v = 0;

	(void)state;
	assert_int_equal(parse_i64("1", 1, 19, &v), 0);
	assert_true(v == 1);
	assert_int_equal(parse_i64("19", 1, 19, &v), 0);
	assert_true(v == 19);
}

static void parse_i64_out_of_bounds_is_einval_and_keeps_out(void **state)
{
	int64_t v = 7;

	(void)state;
	assert_int_equal(parse_i64("20", 1, 19, &v), CL_EINVAL);
	assert_int_equal(parse_i64("0", 1, 19, &v), CL_EINVAL);
	assert_int_equal(parse_i64("-1", 0, INT64_MAX, &v), CL_EINVAL);
	assert_true(v == 7);
}

static void parse_i64_junk_is_eparse_and_keeps_out(void **state)
{
	static const char *const bad[] = {
		"", "abc", "12abc", "12 ", "1.5", "0x10", "1e3", "--1", "-", "+", " ", "1,000",
		"12\n",
	};
	int64_t v = 7;

	(void)state;
	for (size_t i = 0; i < CL_ARRAY_SIZE(bad); i++) {
		if (parse_i64(bad[i], INT64_MIN, INT64_MAX, &v) != CL_EPARSE)
			fail_msg("parse_i64(\"%s\") is not CL_EPARSE", bad[i]);
	}
	assert_int_equal(parse_i64(NULL, INT64_MIN, INT64_MAX, &v), CL_EPARSE);
	assert_true(v == 7);
}

static void parse_i64_overflow_is_eparse(void **state)
{
	int64_t v = 7;

	(void)state;
	assert_int_equal(parse_i64("9223372036854775808", INT64_MIN, INT64_MAX, &v), CL_EPARSE);
	assert_int_equal(parse_i64("-9223372036854775809", INT64_MIN, INT64_MAX, &v), CL_EPARSE);
	assert_int_equal(parse_i64("99999999999999999999999", 0, 10, &v), CL_EPARSE);
	assert_true(v == 7);
}

/* "Strict decimal parsing: whole string": leading blanks are junk too. */
static void parse_i64_rejects_leading_whitespace(void **state)
{
	int64_t v = 7;

	(void)state;
	assert_int_equal(parse_i64(" 42", INT64_MIN, INT64_MAX, &v), CL_EPARSE);
	assert_int_equal(parse_i64("\t42", INT64_MIN, INT64_MAX, &v), CL_EPARSE);
	assert_int_equal(parse_i64("\n42", INT64_MIN, INT64_MAX, &v), CL_EPARSE);
	assert_true(v == 7);
}

static void parse_double_accepts_valid_numbers(void **state)
{
	double v = -1;

	(void)state;
	assert_int_equal(parse_double("0", &v), 0);
	assert_true(v == 0.0);
	assert_int_equal(parse_double("1.5", &v), 0);
	assert_true(v == 1.5);
	assert_int_equal(parse_double("-2e3", &v), 0);
	assert_true(v == -2000.0);
	assert_int_equal(parse_double("0.25", &v), 0);
	assert_true(v == 0.25);
	assert_int_equal(parse_double("7", &v), 0);
	assert_true(v == 7.0);
}

static void parse_double_junk_and_non_finite_are_eparse(void **state)
{
	static const char *const bad[] = {
		"", "abc", "1.5x", "1.5 ", "nan", "inf", "-inf", "infinity", "1e999", ".", "e3",
	};
	double v = 7;

	(void)state;
	for (size_t i = 0; i < CL_ARRAY_SIZE(bad); i++) {
		if (parse_double(bad[i], &v) != CL_EPARSE)
			fail_msg("parse_double(\"%s\") is not CL_EPARSE", bad[i]);
	}
	assert_int_equal(parse_double(NULL, &v), CL_EPARSE);
	assert_true(v == 7.0);
}

static void parse_double_rejects_leading_whitespace(void **state)
{
	double v = 7;

	(void)state;
	assert_int_equal(parse_double(" 1.5", &v), CL_EPARSE);
	assert_int_equal(parse_double("\t1.5", &v), CL_EPARSE);
	assert_true(v == 7.0);
}

/* "Strict decimal": C99 hexadecimal floats are not decimal. */
static void parse_double_rejects_hexadecimal(void **state)
{
	double v = 7;

	(void)state;
	assert_int_equal(parse_double("0x10", &v), CL_EPARSE);
	assert_int_equal(parse_double("0x1p3", &v), CL_EPARSE);
	assert_true(v == 7.0);
}

/* ---- files ------------------------------------------------------------ */

static void file_read_reads_whole_file(void **state)
{
	static const char text[] = "line one\nline two\0with a NUL\n";
	char path[PATH_MAX];
	struct buf b;

	(void)state;
	tmp_path(path, sizeof(path), "read.txt");
	write_file(path, text, sizeof(text) - 1);
	buf_init(&b, 0);
	assert_int_equal(file_read(path, &b), 0);
	assert_int_equal(b.len, sizeof(text) - 1);
	assert_memory_equal(b.data, text, sizeof(text) - 1);
	assert_int_equal(b.data[b.len], '\0');
	buf_release(&b);
}

static void file_read_appends_to_existing_content(void **state)
{
	char path[PATH_MAX];
	struct buf b;

	(void)state;
	tmp_path(path, sizeof(path), "append.txt");
	write_file(path, "tail", 4);
	buf_init(&b, 0);
	assert_int_equal(buf_adds(&b, "head:"), 0);
	assert_int_equal(file_read(path, &b), 0);
	assert_string_equal(b.data, "head:tail");
	assert_int_equal(b.len, 9);
	buf_release(&b);
}

static void file_read_of_empty_file_gives_empty_string(void **state)
{
	char path[PATH_MAX];
	struct buf b;

	(void)state;
	tmp_path(path, sizeof(path), "empty.txt");
	write_file(path, "", 0);
	buf_init(&b, 0);
	assert_int_equal(file_read(path, &b), 0);
	assert_int_equal(b.len, 0);
	assert_non_null(b.data);
	assert_string_equal(b.data, "");
	buf_release(&b);
}

static void file_read_larger_than_a_buffer_growth_step(void **state)
{
	char path[PATH_MAX];
	struct buf b;
	char *big;
	size_t n = 100000;

	(void)state;
	big = malloc(n);
	assert_non_null(big);
	for (size_t i = 0; i < n; i++)
		big[i] = (char)('a' + i % 26);
	tmp_path(path, sizeof(path), "big.txt");
	write_file(path, big, n);
	buf_init(&b, 0);
	assert_int_equal(file_read(path, &b), 0);
	assert_int_equal(b.len, n);
	assert_memory_equal(b.data, big, n);
	free(big);
	buf_release(&b);
}

static void file_read_missing_file_is_enotfound(void **state)
{
	char path[PATH_MAX];
	struct buf b;

	(void)state;
	tmp_path(path, sizeof(path), "no-such-file");
	buf_init(&b, 0);
	err_clear();
	assert_int_equal(file_read(path, &b), CL_ENOTFOUND);
	assert_non_null(strstr(err_msg(CL_ENOTFOUND), path));
	assert_int_equal(b.len, 0);
	buf_release(&b);
	err_clear();
}

static void file_read_over_max_is_etoobig_and_reads_nothing(void **state)
{
	char path[PATH_MAX];
	struct buf b;

	(void)state;
	tmp_path(path, sizeof(path), "toobig.txt");
	write_file(path, "0123456789abcdefX", 17);
	buf_init(&b, 16);
	assert_int_equal(file_read(path, &b), CL_ETOOBIG);
	assert_int_equal(b.len, 0);
	/* the cap counts what the buffer already holds */
	assert_int_equal(buf_adds(&b, "0123456789"), 0);
	write_file(path, "abcdefg", 7);
	assert_int_equal(file_read(path, &b), CL_ETOOBIG);
	assert_int_equal(b.len, 10);
	assert_string_equal(b.data, "0123456789");
	buf_release(&b);
}

/* The header: "a larger file fails"; one of exactly max bytes fits. */
static void file_read_of_exactly_max_bytes_succeeds(void **state)
{
	char path[PATH_MAX];
	struct buf b;
	size_t len;
	int rc, same;

	(void)state;
	tmp_path(path, sizeof(path), "exact.txt");
	write_file(path, "0123456789abcdef", 16);
	buf_init(&b, 16);
	rc = file_read(path, &b);
	len = b.len;
	same = b.data && strcmp(b.data, "0123456789abcdef") == 0;
	buf_release(&b); /* before asserting, so a failure leaks nothing */
	assert_int_equal(rc, 0);
	assert_int_equal(len, 16);
	assert_true(same);
	err_clear();
}

static void file_read_of_directory_is_an_error(void **state)
{
	struct buf b;
	int rc;

	(void)state;
	buf_init(&b, 0);
	rc = file_read(tmp_root, &b);
	assert_true(rc < 0);
	assert_int_not_equal(rc, CL_ENOTFOUND);
	assert_int_equal(b.len, 0);
	assert_non_null(strstr(err_msg(rc), tmp_root));
	buf_release(&b);
	err_clear();
}

static void dir_make_creates_nested_directories(void **state)
{
	char path[PATH_MAX];

	(void)state;
	tmp_path(path, sizeof(path), "d1/d2/d3");
	assert_false(dir_exists(path));
	assert_int_equal(dir_make(path, 0755), 0);
	assert_true(dir_exists(path));
}

static void dir_make_of_existing_directory_succeeds(void **state)
{
	char path[PATH_MAX];

	(void)state;
	tmp_path(path, sizeof(path), "again/sub");
	assert_int_equal(dir_make(path, 0755), 0);
	assert_int_equal(dir_make(path, 0755), 0);
	assert_int_equal(dir_make(tmp_root, 0755), 0);
	tmp_path(path, sizeof(path), "again/sub/");
	assert_int_equal(dir_make(path, 0755), 0);
	assert_true(dir_exists(path));
}

static void dir_make_over_a_file_is_refused(void **state)
{
	char path[PATH_MAX];

	(void)state;
	tmp_path(path, sizeof(path), "plainfile");
	write_file(path, "x", 1);
	assert_int_equal(dir_make(path, 0755), CL_EIO);
	assert_true(file_exists(path));
	tmp_path(path, sizeof(path), "plainfile/below");
	assert_int_equal(dir_make(path, 0755), CL_EIO);
	assert_int_equal(dir_make("", 0755), CL_EINVAL);
	err_clear();
}

static void file_exists_and_dir_exists_tell_kinds_apart(void **state)
{
	char file[PATH_MAX], dir[PATH_MAX], missing[PATH_MAX];

	(void)state;
	tmp_path(file, sizeof(file), "kind.txt");
	tmp_path(dir, sizeof(dir), "kinddir");
	tmp_path(missing, sizeof(missing), "kind-missing");
	write_file(file, "x", 1);
	assert_int_equal(dir_make(dir, 0755), 0);
	assert_true(file_exists(file));
	assert_false(dir_exists(file));
	assert_true(dir_exists(dir));
	assert_false(file_exists(dir));
	assert_false(file_exists(missing));
	assert_false(dir_exists(missing));
}

/* ---- time ------------------------------------------------------------- */

static void time_iso_formats_utc(void **state)
{
	char out[32];

	(void)state;
	time_iso(0, out, sizeof(out));
	assert_string_equal(out, "1970-01-01T00:00:00Z");
	time_iso(1700000000, out, sizeof(out));
	assert_string_equal(out, "2023-11-14T22:13:20Z");
	time_iso(951782400, out, sizeof(out)); /* a leap day */
	assert_string_equal(out, "2000-02-29T00:00:00Z");
}

static void time_iso_fits_the_documented_21_bytes(void **state)
{
	char out[21];

	(void)state;
	time_iso(1700000000, out, sizeof(out));
	assert_string_equal(out, "2023-11-14T22:13:20Z");
}

static void time_now_and_time_mono_advance(void **state)
{
	double a, b;
	int64_t t;

	(void)state;
	t = time_now();
	assert_true(t > 1700000000);
	a = time_mono();
	b = time_mono();
	assert_true(b >= a);
}

/* ---- JSON ------------------------------------------------------------- */

static void jsonx_canonical_sorts_keys_and_is_compact(void **state)
{
	static const char in[] = "{ \"b\" : 1,\n  \"a\" : { \"d\": [1, 2], \"c\": \"x\" } }";
	json_t *v;
	char *s;

	(void)state;
	v = jsonx_parse(in, strlen(in), "in");
	assert_non_null(v);
	s = jsonx_canonical(v);
	assert_non_null(s);
	assert_string_equal(s, "{\"a\":{\"c\":\"x\",\"d\":[1,2]},\"b\":1}");
	free(s);
	json_decref(v);
}

static void jsonx_canonical_is_independent_of_insertion_order(void **state)
{
	json_t *x = json_object(), *y = json_object();
	char *sx, *sy;

	(void)state;
	json_object_set_new(x, "zeta", json_integer(1));
	json_object_set_new(x, "alpha", json_integer(2));
	json_object_set_new(y, "alpha", json_integer(2));
	json_object_set_new(y, "zeta", json_integer(1));
	sx = jsonx_canonical(x);
	sy = jsonx_canonical(y);
	assert_non_null(sx);
	assert_non_null(sy);
	assert_string_equal(sx, sy);
	assert_string_equal(sx, "{\"alpha\":2,\"zeta\":1}");
	free(sx);
	free(sy);
	json_decref(x);
	json_decref(y);
}

static void jsonx_canonical_keeps_utf8_and_encodes_scalars(void **state)
{
	json_t *v = json_string("caf\xc3\xa9");
	json_t *n = json_integer(42);
	char *s;

	(void)state;
	s = jsonx_canonical(v);
	assert_string_equal(s, "\"caf\xc3\xa9\"");
	free(s);
	s = jsonx_canonical(n);
	assert_string_equal(s, "42");
	free(s);
	json_decref(v);
	json_decref(n);
}

static void jsonx_parse_reads_exactly_n_bytes(void **state)
{
	json_t *v;

	(void)state;
	v = jsonx_parse("[1,2]garbage", 5, "prefix");
	assert_non_null(v);
	assert_true(json_is_array(v));
	assert_int_equal(json_array_size(v), 2);
	json_decref(v);
}

static void jsonx_parse_bad_json_is_null_with_line_in_message(void **state)
{
	static const char bad[] = "{\n  \"a\": 1,\n  \"b\": }\n";
	const char *m;
	json_t *v;

	(void)state;
	err_clear();
	v = jsonx_parse(bad, strlen(bad), "record.json");
	assert_null(v);
	m = err_msg(CL_EPARSE);
	assert_non_null(strstr(m, "record.json"));
	assert_non_null(strstr(m, "line 3"));
	assert_non_null(strstr(m, "column"));
	err_clear();
}

static void jsonx_parse_empty_input_is_null(void **state)
{
	(void)state;
	err_clear();
	assert_null(jsonx_parse("", 0, "empty"));
	assert_non_null(strstr(err_msg(CL_EPARSE), "line"));
	err_clear();
}

static void jsonx_str_returns_strings_only(void **state)
{
	static const char in[] = "{\"s\":\"text\",\"n\":5,\"z\":null,\"o\":{}}";
	json_t *v = jsonx_parse(in, strlen(in), "in");

	(void)state;
	assert_non_null(v);
	assert_string_equal(jsonx_str(v, "s"), "text");
	assert_null(jsonx_str(v, "missing"));
	assert_null(jsonx_str(v, "n"));
	assert_null(jsonx_str(v, "z"));
	assert_null(jsonx_str(v, "o"));
	assert_null(jsonx_str(NULL, "s"));
	json_decref(v);
}

static void jsonx_int_returns_integers_or_default(void **state)
{
	static const char in[] = "{\"i\":-12,\"big\":1099511627776,\"s\":\"5\",\"r\":1.5,\"z\":null}";
	json_t *v = jsonx_parse(in, strlen(in), "in");

	(void)state;
	assert_non_null(v);
	assert_true(jsonx_int(v, "i", 0) == -12);
	assert_true(jsonx_int(v, "big", 0) == 1099511627776LL);
	assert_true(jsonx_int(v, "missing", 77) == 77);
	assert_true(jsonx_int(v, "s", 77) == 77);
	assert_true(jsonx_int(v, "r", 77) == 77);
	assert_true(jsonx_int(v, "z", 77) == 77);
	assert_true(jsonx_int(NULL, "i", 77) == 77);
	json_decref(v);
}

static void jsonx_print_compact_and_pretty_end_with_newline(void **state)
{
	json_t *v = json_pack("{s:i}", "a", 1);
	char *text = NULL;
	size_t len = 0;
	FILE *f;

	(void)state;
	f = open_memstream(&text, &len);
	assert_non_null(f);
	assert_int_equal(jsonx_print(f, v, 0), 0);
	assert_int_equal(jsonx_print(f, v, 1), 0);
	assert_int_equal(fclose(f), 0);
	assert_string_equal(text, "{\"a\":1}\n{\n  \"a\": 1\n}\n");
	free(text);
	json_decref(v);
}

/* ---- categories ------------------------------------------------------- */

static void category_names_round_trip(void **state)
{
	(void)state;
	assert_string_equal(category_name(CAT_AMBIGUOUS), "ambiguous");
	assert_string_equal(category_name(CAT_INCONSISTENT), "inconsistent");
	assert_string_equal(category_name(CAT_INCOMPLETE), "incomplete");
	for (int c = 0; c < CAT_COUNT; c++)
		assert_int_equal(category_parse(category_name(c)), c);
	assert_int_equal(CAT_ALL, 7);
}

static void category_unknown_names_and_numbers(void **state)
{
	(void)state;
	assert_int_equal(category_parse("vague"), -1);
	assert_int_equal(category_parse(""), -1);
	assert_int_equal(category_parse("Ambiguous"), -1);
	assert_int_equal(category_parse("ambiguous "), -1);
	assert_int_equal(category_parse("?"), -1);
	assert_string_equal(category_name(-1), "?");
	assert_string_equal(category_name(CAT_COUNT), "?");
}

/* ---- logging ---------------------------------------------------------- */

static void log_level_names_round_trip(void **state)
{
	static const int levels[] = { LOG_ERR, LOG_WARN, LOG_INFO, LOG_DEBUG };

	(void)state;
	assert_int_equal(log_level_parse("error"), LOG_ERR);
	assert_int_equal(log_level_parse("warn"), LOG_WARN);
	assert_int_equal(log_level_parse("info"), LOG_INFO);
	assert_int_equal(log_level_parse("debug"), LOG_DEBUG);
	for (size_t i = 0; i < CL_ARRAY_SIZE(levels); i++)
		assert_int_equal(log_level_parse(log_level_name(levels[i])), levels[i]);
}

static void log_level_unknown_names_and_numbers(void **state)
{
	(void)state;
	assert_int_equal(log_level_parse("loud"), -1);
	assert_int_equal(log_level_parse(""), -1);
	assert_int_equal(log_level_parse("INFO"), -1);
	assert_int_equal(log_level_parse("warning"), -1);
	assert_string_equal(log_level_name(0), "?");
	assert_string_equal(log_level_name(5), "?");
}

static void log_write_plain_format_names_program_and_level(void **state)
{
	char path[PATH_MAX], out[512];
	int saved;

	(void)state;
	tmp_path(path, sizeof(path), "log-plain.txt");
	unsetenv("JOURNAL_STREAM");
	saved = capture_begin(path);
	log_init("PROG", LOG_DEBUG);
	log_write(LOG_WARN, "msg %d", 1);
	log_write(LOG_ERR, "bad '%s'", "x");
	log_write(LOG_INFO, "fyi");
	log_write(LOG_DEBUG, "detail");
	capture_end(saved);
	log_init("test_common", LOG_INFO);
	slurp(path, out, sizeof(out));
	assert_string_equal(out,
			    "PROG: warning: msg 1\n"
			    "PROG: error: bad 'x'\n"
			    "PROG: info: fyi\n"
			    "PROG: debug: detail\n");
}

static void log_write_uses_syslog_prefix_when_stderr_is_the_journal(void **state)
{
	char path[PATH_MAX], out[512], js[64];
	struct stat st;
	int saved;

	(void)state;
	tmp_path(path, sizeof(path), "log-journal.txt");
	saved = capture_begin(path);
	assert_int_equal(fstat(2, &st), 0);
	snprintf(js, sizeof(js), "%llu:%llu", (unsigned long long)st.st_dev,
		 (unsigned long long)st.st_ino);
	setenv("JOURNAL_STREAM", js, 1);
	log_init("PROG", LOG_INFO);
	log_write(LOG_WARN, "msg");
	log_write(LOG_ERR, "e %d", 2);
	capture_end(saved);
	unsetenv("JOURNAL_STREAM");
	log_init("test_common", LOG_INFO);
	slurp(path, out, sizeof(out));
	assert_string_equal(out, "<4>msg\n<3>e 2\n");
}

static void log_write_ignores_journal_stream_of_another_file(void **state)
{
	char path[PATH_MAX], other[PATH_MAX], out[512], js[64];
	struct stat st;
	int saved;

	(void)state;
	tmp_path(other, sizeof(other), "log-other.txt");
	write_file(other, "", 0);
	assert_int_equal(stat(other, &st), 0);
	snprintf(js, sizeof(js), "%llu:%llu", (unsigned long long)st.st_dev,
		 (unsigned long long)st.st_ino);
	tmp_path(path, sizeof(path), "log-notjournal.txt");
	saved = capture_begin(path);
	setenv("JOURNAL_STREAM", js, 1);
	log_init("PROG", LOG_INFO);
	log_write(LOG_WARN, "msg");
	capture_end(saved);
	unsetenv("JOURNAL_STREAM");
	log_init("test_common", LOG_INFO);
	slurp(path, out, sizeof(out));
	assert_string_equal(out, "PROG: warning: msg\n");
}

static int log_side_effects;

static int log_count(void)
{
	return ++log_side_effects;
}

static void log_msg_does_not_evaluate_arguments_above_threshold(void **state)
{
	char path[PATH_MAX], out[64];
	int saved;

	(void)state;
	tmp_path(path, sizeof(path), "log-threshold.txt");
	log_side_effects = 0;
	saved = capture_begin(path);
	log_init("PROG", LOG_WARN);
	log_debug("count %d", log_count());
	log_info("count %d", log_count());
	log_msg(LOG_DEBUG, "count %d", log_count());
	capture_end(saved);
	log_init("test_common", LOG_INFO);
	assert_int_equal(log_side_effects, 0);
	assert_int_equal(slurp(path, out, sizeof(out)), 0);
}

static void log_msg_at_or_below_threshold_writes_once(void **state)
{
	char path[PATH_MAX], out[256];
	int saved;

	(void)state;
	tmp_path(path, sizeof(path), "log-enabled.txt");
	unsetenv("JOURNAL_STREAM");
	log_side_effects = 0;
	saved = capture_begin(path);
	log_init("PROG", LOG_WARN);
	log_warn("count %d", log_count());
	log_err("count %d", log_count());
	capture_end(saved);
	log_init("test_common", LOG_INFO);
	assert_int_equal(log_side_effects, 2);
	slurp(path, out, sizeof(out));
	assert_string_equal(out, "PROG: warning: count 1\nPROG: error: count 2\n");
}

static void log_init_sets_the_threshold(void **state)
{
	(void)state;
	log_init("test_common", LOG_DEBUG);
	assert_int_equal(log_threshold, LOG_DEBUG);
	log_init("test_common", LOG_INFO);
	assert_int_equal(log_threshold, LOG_INFO);
}

/* ---- jsonx_dump: the bytes of json_dumps ---------------------------------- */

static void same_as_jansson(const json_t *v)
{
	struct buf b;
	char *want = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
	char *want_sorted = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
	char *canon = jsonx_canonical(v);

	assert_non_null(want);
	buf_init(&b, 0);
	assert_int_equal(jsonx_dump(v, 0, &b), 0);
	assert_string_equal(b.data, want);
	buf_reset(&b);
	assert_int_equal(jsonx_dump(v, JSONX_SORT_KEYS, &b), 0);
	assert_string_equal(b.data, want_sorted);
	assert_string_equal(canon, want_sorted);
	buf_release(&b);
	free(want);
	free(want_sorted);
	free(canon);
}

static void jsonx_dump_gives_the_bytes_of_json_dumps(void **state)
{
	static const double reals[] = { 0.0, -0.0, 0.1, 0.7, 1.0, 5.0, -2.5, 1e20, 1e21, 1e-7,
					123456789012345678.0, -1e-300, 1.7976931348623157e308,
					4.9e-324, 3.141592653589793, 1e100, 2.5e-5 };
	static const char *const texts[] = {
		"", "plain", "quote \" and \\ backslash", "tab\tnew\nline\rcr\bbs\fff",
		"\x01\x02\x1f\x7f", "/slash/", "caf\xc3\xa9 \xe2\x80\x94 \xf0\x9f\x98\x80 \xe2\x80\xa8",
		"$1 \\le n \\le 10^5$",
	};
	uint64_t x = 88172645463325252ull;
	json_t *o = json_object(), *a = json_array(), *nested;
	char s[64];

	(void)state;
	for (size_t i = 0; i < CL_ARRAY_SIZE(reals); i++) {
		json_t *r = json_real(reals[i]);

		same_as_jansson(r);
		json_array_append_new(a, r);
	}
	for (size_t i = 0; i < CL_ARRAY_SIZE(texts); i++) {
		json_t *t = json_string(texts[i]);

		assert_non_null(t);
		same_as_jansson(t);
		json_array_append_new(a, t);
	}
	/* random ASCII strings, every control character among them */
	for (int i = 0; i < 500; i++) {
		size_t n = 0;
		json_t *t;

		for (; n < sizeof(s) - 1; n++) {
			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			s[n] = (char)(1 + x % 127);
		}
		s[n] = '\0';
		t = json_string(s);
		same_as_jansson(t);
		json_decref(t);
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		t = json_real((double)(int64_t)x / (double)(1ull << (x % 60)));
		same_as_jansson(t);
		json_decref(t);
	}
	json_array_append_new(a, json_integer(-9223372036854775807LL - 1));
	json_array_append_new(a, json_true());
	json_array_append_new(a, json_false());
	json_array_append_new(a, json_null());
	json_array_append_new(a, json_object());
	json_array_append_new(a, json_array());
	nested = json_pack("{s:i, s:s, s:[i, {s:n, s:b}], s:f}", "zeta", 1, "alpha", "a\"b",
			   "mid", 2, "y", "x", 1, "beta", 0.25);
	json_object_set_new(o, "z", a);
	json_object_set_new(o, "a", nested);
	json_object_set_new(o, "m\n", json_string("key with a newline"));
	json_object_set_new(o, "", json_string("empty key"));
	same_as_jansson(o);
	json_decref(o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(buf_init_starts_empty_with_given_max),
		cmocka_unit_test(buf_init_zero_max_means_default_cap),
		cmocka_unit_test(buf_add_appends_bytes_and_nul_terminates),
		cmocka_unit_test(buf_add_of_nothing_gives_empty_string),
		cmocka_unit_test(buf_adds_and_addc_append_text),
		cmocka_unit_test(buf_addf_formats_and_appends),
		cmocka_unit_test(buf_grows_across_many_appends),
		cmocka_unit_test(buf_accepts_exactly_max_bytes),
		cmocka_unit_test(buf_append_past_max_is_refused_and_leaves_content),
		cmocka_unit_test(buf_append_larger_than_max_on_empty_buf_is_refused),
		cmocka_unit_test(buf_reset_empties_but_keeps_memory),
		cmocka_unit_test(buf_reset_of_unused_buf_is_safe),
		cmocka_unit_test(buf_detach_hands_over_data_and_leaves_buf_reusable),
		cmocka_unit_test(buf_detach_of_empty_buf_returns_empty_string),
		cmocka_unit_test(buf_release_frees_and_keeps_max),

		cmocka_unit_test(array_grow_starts_at_first_then_doubles),
		cmocka_unit_test(array_grow_with_room_left_changes_nothing),
		cmocka_unit_test(array_grow_first_zero_means_one),
		cmocka_unit_test(array_grow_past_size_max_is_enomem_and_keeps_array),

		cmocka_unit_test(err_set_returns_code_and_formats_message),
		cmocka_unit_test(err_set_may_wrap_the_previous_message),
		cmocka_unit_test(err_msg_falls_back_to_err_str_after_clear),
		cmocka_unit_test(err_str_describes_every_code),
		cmocka_unit_test(err_set_truncates_overlong_messages),
		cmocka_unit_test(err_messages_are_per_thread),

		cmocka_unit_test(fnv1a64_matches_reference_vectors),
		cmocka_unit_test(shard_is_fnv1a_modulo_n_and_spreads),
		cmocka_unit_test(fnv1a64_uses_exactly_n_bytes),
		cmocka_unit_test(sha256_hex_matches_published_vectors),
		cmocka_unit_test(sha256_bytes_agree_with_hex),
		cmocka_unit_test(hash_hex_is_lower_case_and_terminated),

		cmocka_unit_test(parse_i64_accepts_valid_decimal),
		cmocka_unit_test(parse_i64_accepts_the_bounds_themselves),
		cmocka_unit_test(parse_i64_out_of_bounds_is_einval_and_keeps_out),
		cmocka_unit_test(parse_i64_junk_is_eparse_and_keeps_out),
		cmocka_unit_test(parse_i64_overflow_is_eparse),
		cmocka_unit_test(parse_i64_rejects_leading_whitespace),
		cmocka_unit_test(parse_double_accepts_valid_numbers),
		cmocka_unit_test(parse_double_junk_and_non_finite_are_eparse),
		cmocka_unit_test(parse_double_rejects_leading_whitespace),
		cmocka_unit_test(parse_double_rejects_hexadecimal),

		cmocka_unit_test(file_read_reads_whole_file),
		cmocka_unit_test(file_read_appends_to_existing_content),
		cmocka_unit_test(file_read_of_empty_file_gives_empty_string),
		cmocka_unit_test(file_read_larger_than_a_buffer_growth_step),
		cmocka_unit_test(file_read_missing_file_is_enotfound),
		cmocka_unit_test(file_read_over_max_is_etoobig_and_reads_nothing),
		cmocka_unit_test(file_read_of_exactly_max_bytes_succeeds),
		cmocka_unit_test(file_read_of_directory_is_an_error),
		cmocka_unit_test(dir_make_creates_nested_directories),
		cmocka_unit_test(dir_make_of_existing_directory_succeeds),
		cmocka_unit_test(dir_make_over_a_file_is_refused),
		cmocka_unit_test(file_exists_and_dir_exists_tell_kinds_apart),

		cmocka_unit_test(time_iso_formats_utc),
		cmocka_unit_test(time_iso_fits_the_documented_21_bytes),
		cmocka_unit_test(time_now_and_time_mono_advance),

		cmocka_unit_test(jsonx_canonical_sorts_keys_and_is_compact),
		cmocka_unit_test(jsonx_canonical_is_independent_of_insertion_order),
		cmocka_unit_test(jsonx_canonical_keeps_utf8_and_encodes_scalars),
		cmocka_unit_test(jsonx_parse_reads_exactly_n_bytes),
		cmocka_unit_test(jsonx_parse_bad_json_is_null_with_line_in_message),
		cmocka_unit_test(jsonx_parse_empty_input_is_null),
		cmocka_unit_test(jsonx_str_returns_strings_only),
		cmocka_unit_test(jsonx_int_returns_integers_or_default),
		cmocka_unit_test(jsonx_print_compact_and_pretty_end_with_newline),

		cmocka_unit_test(category_names_round_trip),
		cmocka_unit_test(category_unknown_names_and_numbers),

		cmocka_unit_test(log_level_names_round_trip),
		cmocka_unit_test(log_level_unknown_names_and_numbers),
		cmocka_unit_test(log_write_plain_format_names_program_and_level),
		cmocka_unit_test(log_write_uses_syslog_prefix_when_stderr_is_the_journal),
		cmocka_unit_test(log_write_ignores_journal_stream_of_another_file),
		cmocka_unit_test(log_msg_does_not_evaluate_arguments_above_threshold),
		cmocka_unit_test(log_msg_at_or_below_threshold_writes_once),
		cmocka_unit_test(log_init_sets_the_threshold),
		cmocka_unit_test(jsonx_dump_gives_the_bytes_of_json_dumps),
	};

	return cmocka_run_group_tests_name("common", tests, group_setup, test_group_teardown);
}
