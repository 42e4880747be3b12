/*
 * common.h - the small helpers every clarifyd module uses: error codes,
 * logging, capped growable buffers, growable arrays, hashing, time, files
 * and JSON.
 *
 * Conventions (see STYLE.md): a fallible function returns int, 0 on success
 * or a negative CL_E* code.  Functions that can say more than the code
 * record a message with err_set(); the caller reads it with err_msg() in
 * the same thread, before the next call that may fail.
 */
#ifndef CLARIFY_COMMON_H
#define CLARIFY_COMMON_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#define CLARIFY_VERSION "0.1.0"

#define CL_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define CL_PRINTF(f, a) __attribute__((format(printf, f, a)))

/* ---- errors ---------------------------------------------------------- */

enum cl_err {
	CL_OK = 0,
	CL_ENOMEM = -1,    /* out of memory */
	CL_EIO = -2,       /* a system call failed; errno is in the message */
	CL_EPARSE = -3,    /* malformed input: JSON, YAML, a number */
	CL_ECONFIG = -4,   /* a configuration value is refused */
	CL_ESTORE = -5,    /* LMDB reported an error */
	CL_ENOTFOUND = -6, /* no such record, file or key */
	CL_ELOCKED = -7,   /* another process holds the writer lock */
	CL_ESCHEMA = -8,   /* the store's schema is not one we support */
	CL_ETOOBIG = -9,   /* a buffer, file or record is over its cap */
	CL_EUTF8 = -10,    /* text is not valid UTF-8 */
	CL_EINVAL = -11,   /* an argument or record is invalid */
	CL_ECODEC = -12,   /* zstd could not compress or decompress */
	CL_EFULL = -13,    /* the LMDB map is full: grow it and try again */
};

/* A short fixed description of a CL_E* code ("out of memory"). */
const char *err_str(int code);

/*
 * Record a message for the calling thread and return code, so a failing
 * path reads:  return err_set(CL_EIO, "cannot open '%s': %s", p, strerror(errno));
 */
int err_set(int code, const char *fmt, ...) CL_PRINTF(2, 3);

/* The calling thread's last message, or err_str() of code when none was
 * set since err_clear().  Valid until the thread's next err_set(). */
const char *err_msg(int code);
void err_clear(void);

/* ---- logging --------------------------------------------------------- */

enum log_level { LOG_ERR = 3, LOG_WARN = 4, LOG_INFO = 6, LOG_DEBUG = 7 };

extern int log_threshold;

/*
 * log_init() names the program and decides the line format: when stderr
 * is the systemd journal (JOURNAL_STREAM names stderr's device and inode)
 * each line starts with the syslog "<N>" prefix journald reads, otherwise
 * with "PROG: level: ".
 */
void log_init(const char *prog, int level);
/* Change the level while threads may be logging (a reload). */
void log_set_level(int level);
int log_level_parse(const char *name); /* "info" -> LOG_INFO, -1 if unknown */
const char *log_level_name(int level);
void log_write(int level, const char *fmt, ...) CL_PRINTF(2, 3);
/*
 * A status line at the bottom of a terminal, redrawn in place: log lines
 * are written above it (it is erased, the line written, it is drawn
 * again).  "" erases it; NULL leaves it on the screen, a line of its own,
 * and forgets it.  Only for a terminal: the caller checks.
 */
void log_status(const char *line);

/* The level is checked before any argument is formatted. */
#define log_msg(lvl, ...)                                                     \
	do {                                                                  \
		if ((lvl) <= __atomic_load_n(&log_threshold, __ATOMIC_RELAXED)) \
			log_write((lvl), __VA_ARGS__);                        \
	} while (0)
#define log_err(...) log_msg(LOG_ERR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)

/* ---- growable buffers with a hard cap -------------------------------- */

/*
 * struct buf owns data (NUL-terminated whenever len < cap).  It never
 * grows past max bytes: an append that would is refused with CL_ETOOBIG
 * and leaves the buffer as it was.
 */
struct buf {
	char *data;
	size_t len;
	size_t cap;
	size_t max;
};

#define BUF_MAX_DEFAULT ((size_t)64 << 20)

void buf_init(struct buf *b, size_t max);
void buf_release(struct buf *b);          /* frees data, then init again */
void buf_reset(struct buf *b);            /* len = 0, keeps memory */
int buf_reserve(struct buf *b, size_t extra);
int buf_add(struct buf *b, const void *p, size_t n);
int buf_adds(struct buf *b, const char *s);
int buf_addc(struct buf *b, char c);
int buf_addf(struct buf *b, const char *fmt, ...) CL_PRINTF(2, 3);
/* Hands data to the caller (free() it) and leaves b empty. */
char *buf_detach(struct buf *b, size_t *len);

/* ---- growable arrays ------------------------------------------------- */

/*
 * Make room for at least one more element in the array *items of n used
 * and *cap allocated elements of elem bytes (n <= *cap): nothing when
 * n < *cap, else realloc() to first elements when *cap is 0 and to twice
 * *cap after, never past SIZE_MAX bytes.  The caller owns *items (free()
 * it) and keeps n.  0, or CL_ENOMEM with *items and *cap unchanged.
 */
int array_grow(void **items, size_t *cap, size_t n, size_t elem, size_t first);

/* array_grow() for a typed array a with capacity cap (both lvalues):
 *   if (ARRAY_GROW(s->v, s->cap, s->n, 16)) return CL_ENOMEM;  */
#define ARRAY_GROW(a, cap, n, first)                                          \
	array_grow((void **)&(a), &(cap), (n), sizeof(*(a)), (first))

/* ---- hashing --------------------------------------------------------- */

/* FNV-1a, 64 bits: for sharding and hash tables, not for security. */
uint64_t hash_fnv1a64(const void *p, size_t n);

/* The shard of N (0 <= shard < n) a problem key belongs to: FNV-1a of
 * the key modulo n, for clarifyd --shard, clarify import --shards and
 * the export's check alike.  Always 0 when n <= 1. */
unsigned hash_shard(const char *key, unsigned n);

#define HASH_SHA256_LEN 32
#define HASH_SHA256_HEX (2 * HASH_SHA256_LEN + 1)

/* SHA-256 (OpenSSL libcrypto) of p, as bytes or as lower-case hex. */
void hash_sha256(const void *p, size_t n, unsigned char out[HASH_SHA256_LEN]);
void hash_sha256_hex(const void *p, size_t n, char out[HASH_SHA256_HEX]);
void hash_hex(const unsigned char *p, size_t n, char *out); /* out: 2n+1 */

/* ---- time ------------------------------------------------------------ */

int64_t time_now(void);          /* Unix seconds */
double time_mono(void);          /* monotonic seconds, for durations */
double time_cpu(void);           /* CPU seconds of the calling thread: "on one core" */
/* "2026-11-21T20:52:06Z" into out (at least 21 bytes). */
void time_iso(int64_t t, char *out, size_t n);

/* ---- files and text -------------------------------------------------- */

/*
 * Read a whole file into out (appended; out->max caps it: a larger file
 * fails with CL_ETOOBIG, leaving out as it was).  CL_ENOTFOUND when
 * missing.  Devices and pipes are read to their end; directories refused.
 */
int file_read(const char *path, struct buf *out);
int file_exists(const char *path);
int dir_exists(const char *path);
int dir_make(const char *path, int mode); /* mkdir -p */

/*
 * What to say of libyaml's problem at line (0-based) of data: a tab in a
 * line's indentation gets "tabs cannot indent YAML" instead of libyaml's
 * "found character that cannot start any token"; NULL is "malformed YAML".
 */
const char *yaml_problem(const char *problem, const char *data, size_t len, size_t line);


/* Strict decimal parsing: whole string, no sign surprises, range checked. */
int parse_i64(const char *s, int64_t min, int64_t max, int64_t *out);
int parse_double(const char *s, double *out);

/* ---- JSON helpers over jansson ---------------------------------------- */

/* Borrowed references; NULL when missing or of another type. */
const char *jsonx_str(const json_t *obj, const char *key);
int64_t jsonx_int(const json_t *obj, const char *key, int64_t dflt);

/* Canonical text: compact, sorted keys, UTF-8.  Caller frees. */
char *jsonx_canonical(const json_t *v);

/*
 * v as compact JSON appended to out, sorted keys with JSONX_SORT_KEYS:
 * the very bytes json_dumps(v, JSON_COMPACT [| JSON_SORT_KEYS] |
 * JSON_ENCODE_ANY) gives (test_json holds it to that), in a fifth of its
 * time on long strings: the request bodies, results and cached replies of
 * every job go through it.  On failure out is as it was.
 */
#define JSONX_SORT_KEYS 1u
int jsonx_dump(const json_t *v, unsigned flags, struct buf *out);

/* Parse n bytes of JSON; on failure err_set() with "line L column C: why"
 * and return NULL. */
json_t *jsonx_parse(const char *p, size_t n, const char *what);

/* Print v to f, indented when pretty, compact otherwise; newline after. */
int jsonx_print(FILE *f, const json_t *v, int pretty);

/* ---- problem categories ---------------------------------------------- */

/* The three ways a problem is made unclear (ClarifyCoder, section 3). */
enum category {
	CAT_AMBIGUOUS,
	CAT_INCONSISTENT,
	CAT_INCOMPLETE,
	CAT_COUNT
};

#define CAT_ALL ((1u << CAT_COUNT) - 1)

const char *category_name(int cat);        /* "ambiguous" */
int category_parse(const char *name);      /* -1 when unknown */

/* ---- progress on a terminal ------------------------------------------ */

/*
 * A one-line progress indicator on stderr, drawn only when stderr is a
 * terminal and at most ten times a second; silent in pipes and logs.
 */
struct progress {
	const char *what;
	uint64_t total; /* 0 when unknown */
	uint64_t done;
	double last;
	double start;
	int tty;
};

void progress_init(struct progress *p, const char *what, uint64_t total, int enabled);
void progress_update(struct progress *p, uint64_t done);
void progress_finish(struct progress *p);

#endif
