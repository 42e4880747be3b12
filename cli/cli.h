/* cli.h - what the clarify commands share */
#ifndef CLARIFY_CLI_H
#define CLARIFY_CLI_H

#include <getopt.h>

#include "../common/common.h"
#include "../pipeline/config.h"
#include "../store/store.h"

/* Exit statuses: 0 success, 1 the work failed, 2 bad usage or config. */
enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2 };

struct cli {
	struct config cfg;
	const char *config_path; /* -c, or NULL for $CLARIFY_CONFIG and the rest */
	const char *store_dir;   /* -s, or NULL */
	int log_level;           /* -v / -q, or -1 for the config's */
	int loaded;              /* cfg holds the configuration */
};

/* Load the configuration into c->cfg once; prints the reason and returns
 * 2 when it is refused. */
int cli_load_config(struct cli *c);

/* Load the configuration (c->cfg), then open its store.  On failure
 * prints the reason and returns the exit status to use (2 for a bad
 * config, 1 for a store that cannot be opened). */
int cli_open_store(struct cli *c, struct store *s, unsigned flags);

/* The store options the configuration asks for. */
void cli_store_options(const struct cli *c, struct store_options *opt);

/* Print "clarify CMD: unknown option" style usage errors. */
int cli_usage_error(const char *cmd, const char *fmt, ...) CL_PRINTF(2, 3);

/* Parse a command that takes only --json and --help.  Returns -1 to go on
 * (optind at the first operand), else the exit status to return. */
int cli_json_opts(const char *cmd, int argc, char **argv, void (*help)(FILE *), int *json);

/* ---- shards (cmd_shards.c) --------------------------------------------------
 * clarify import --shards N --out BASE makes the stores BASE/shard-0 ...
 * BASE/shard-(N-1), each knowing its shard (store_shard_get). */
#define SHARDS_MAX 256

/* "BASE/shard-K" into out (n bytes); CL_ETOOBIG when it does not fit. */
int shard_dir(char *out, size_t n, const char *base, unsigned k);

/* How many shards BASE holds, from the first shard store found in it.
 * Prints the reason and returns the exit status when none is. */
int shards_count(struct cli *c, const char *base, unsigned *count);

/* Open every shard of BASE read-only into stores (SHARDS_MAX of them),
 * refusing a missing shard, a store that is not BASE's shard K of N, or a
 * shard beyond N.  Prints the reason and returns the exit status. */
int shards_open(struct cli *c, const char *base, struct store *stores, unsigned *count);

/* Open (and create) the N shards of BASE as their writer, recording each
 * one's shard; refuses a BASE that holds another count.  Prints the reason
 * and returns the exit status. */
int shards_create(struct cli *c, const char *base, unsigned count, struct store *stores);

void shards_close(struct store *stores, unsigned count);

int cmd_shards(struct cli *c, int argc, char **argv);
int cmd_import(struct cli *c, int argc, char **argv);
int cmd_status(struct cli *c, int argc, char **argv);
int cmd_show(struct cli *c, int argc, char **argv);
int cmd_verify(struct cli *c, int argc, char **argv);
int cmd_ask(struct cli *c, int argc, char **argv);
int cmd_filters(struct cli *c, int argc, char **argv);
int cmd_lm(struct cli *c, int argc, char **argv);
int cmd_try(struct cli *c, int argc, char **argv);
int cmd_plan(struct cli *c, int argc, char **argv);
int cmd_requeue(struct cli *c, int argc, char **argv);
int cmd_stats(struct cli *c, int argc, char **argv);
int cmd_export(struct cli *c, int argc, char **argv);
int cmd_compact(struct cli *c, int argc, char **argv);
int cmd_samples(struct cli *c, int argc, char **argv);
int cmd_batches(struct cli *c, int argc, char **argv);

#endif
