/* log.c - one line per event on stderr, journald-aware */
#include <stdio.h>
#include <stdlib.h>
#include <pthread.h>
#include <string.h>
#include <sys/stat.h>

#include "common.h"

int log_threshold = LOG_INFO;
static const char *log_prog = "clarify";
static int log_journal;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static char log_line[512];    /* the status line on the terminal; "" none */

static const struct {
	const char *name;
	int level;
} log_levels[] = {
	{ "error", LOG_ERR },
	{ "warn", LOG_WARN },
	{ "info", LOG_INFO },
	{ "debug", LOG_DEBUG },
};

/* systemd sets JOURNAL_STREAM=DEV:INODE; it applies only while stderr is
 * still that very stream (not after a redirect by a child shell). */
static int stderr_is_journal(void)
{
	const char *js = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	if (!js || sscanf(js, "%llu:%llu", &dev, &ino) != 2)
		return 0;
	if (fstat(2, &st) != 0)
		return 0;
	return (unsigned long long)st.st_dev == dev &&
	       (unsigned long long)st.st_ino == ino;
}

void log_init(const char *prog, int level)
{
	log_prog = prog;
	log_threshold = level;
	log_journal = stderr_is_journal();
}

void log_set_level(int level)
{
	__atomic_store_n(&log_threshold, level, __ATOMIC_RELAXED);
}

int log_level_parse(const char *name)
{
	for (size_t i = 0; i < CL_ARRAY_SIZE(log_levels); i++)
		if (strcmp(name, log_levels[i].name) == 0)
			return log_levels[i].level;
	return -1;
}

const char *log_level_name(int level)
{
	for (size_t i = 0; i < CL_ARRAY_SIZE(log_levels); i++)
		if (log_levels[i].level == level)
			return log_levels[i].name;
	return "?";
}

void log_write(int level, const char *fmt, ...)
{
	char line[4096];
	int off;
	va_list ap;

	if (log_journal)
		off = snprintf(line, sizeof(line), "<%d>", level);
	else
		off = snprintf(line, sizeof(line), "%s: %s: ", log_prog,
			       level == LOG_ERR ? "error" :
			       level == LOG_WARN ? "warning" : log_level_name(level));
	if (off < 0 || (size_t)off >= sizeof(line))
		off = 0; /* an absurd program name: drop the prefix */
	va_start(ap, fmt);
	vsnprintf(line + off, sizeof(line) - (size_t)off, fmt, ap);
	va_end(ap);
	/* one write per line so concurrent lines do not interleave */
	pthread_mutex_lock(&log_lock);
	if (*log_line)
		fprintf(stderr, "\r\033[K%s\n%s", line, log_line);
	else
		fprintf(stderr, "%s\n", line);
	fflush(stderr);
	pthread_mutex_unlock(&log_lock);
}

void log_status(const char *line)
{
	pthread_mutex_lock(&log_lock);
	if (!line) {
		if (*log_line)
			fputc('\n', stderr);
		*log_line = '\0';
	} else {
		snprintf(log_line, sizeof(log_line), "%s", line);
		fprintf(stderr, "\r\033[K%s", log_line);
	}
	fflush(stderr);
	pthread_mutex_unlock(&log_lock);
}
