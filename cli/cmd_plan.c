/* cmd_plan.c - clarify plan: what the pending jobs will cost, before the
 * run (the same report as clarifyd --dry-run; pipeline/plan.c) */
#include "../llm/llm.h"
#include "../pipeline/plan.h"
#include "cli.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: clarify plan [--json]\n\n"
		   "Print what clarifyd will spend on the store's pending jobs, per stage\n"
		   "(modify, clarify, and answer when jobs.stages has it): requests, tokens\n"
		   "in and out, and money at llm.price_in_per_mtok and llm.price_out_per_mtok\n"
		   "for llm.model.  The same report as 'clarifyd --dry-run'.  Nothing is\n"
		   "sent and nothing is written: the store is opened read-only.\n\n"
		   "Tokens are estimated as ceil(bytes / 4) of each rendered prompt (no\n"
		   "byte-pair tokenizer: a model's own count differs, most for code and\n"
		   "numbers).  Stages 2 and 3 show the rewrite and the questions, which do\n"
		   "not exist yet: their input is the template plus the expected rewrite and\n"
		   "questions.  Expected replies are the mean tokens per request of each\n"
		   "stage in the store's results, with their retries and the share of jobs\n"
		   "that reached the stage; without results, priors: a rewrite as long as\n"
		   "the original plus 64 tokens, 128 for stage 2, 192 for stage 3, each\n"
		   "within its template's max_tokens.\n\n"
		   "options:\n"
		   "  --json      print the estimate as JSON\n"
		   "  -h, --help  this help\n");
}

int cmd_plan(struct cli *c, int argc, char **argv)
{
	struct plan_opts po = { .shards = 1 };
	struct plan_price pr;
	char dir[4096];
	struct store s;
	int json = 0, rc;

	rc = cli_json_opts("plan", argc, argv, usage, &json);
	if (rc >= 0)
		return rc;
	if (optind != argc)
		return cli_usage_error("plan", "takes no arguments");
	rc = cli_open_store(c, &s, STORE_RDONLY);
	if (rc)
		return rc;
	po.stages = (int)c->cfg.jobs.stages;
	pr.provider = llm_provider_name((int)c->cfg.llm.provider);
	pr.model = c->cfg.llm.model;
	pr.in_per_mtok = c->cfg.llm.price_in_per_mtok;
	pr.out_per_mtok = c->cfg.llm.price_out_per_mtok;
	config_data_dir(c->cfg.prompts.dir, "prompts", dir, sizeof(dir));
	err_clear();
	rc = plan_report(&s, dir, &po, &pr, json, stdout);
	if (rc)
		log_err("%s", err_msg(rc));
	store_close(&s);
	return rc == CL_ECONFIG ? EXIT_USAGE : rc ? EXIT_FAIL : EXIT_OK;
}
