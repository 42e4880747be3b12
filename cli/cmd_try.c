/*
 * cmd_try.c - clarify try KEY --category C: one job through both stages,
 * stored nowhere, everything shown: the rendered prompts, the replies, the
 * parsed fields, every filter verdict and the scores.  The loop for people
 * who tune templates.
 */
#include <stdlib.h>
#include <string.h>

#include "../filters/filter.h"
#include "../llm/llm.h"
#include "../prompts/prompt.h"
#include "../stats/stats.h"
#include "cli.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: clarify try KEY --category C [--json]\n\n"
		   "Run one problem of the store (KEY as apps/train/0001) through both stages\n"
		   "with the configured provider and templates, without storing anything, and\n"
		   "print the rendered prompts, the replies, the parsed fields, every filter\n"
		   "verdict and the scores.\n\n"
		   "options:\n"
		   "  --category C  ambiguous, inconsistent or incomplete\n"
		   "  --json        everything as one JSON object\n"
		   "  -h, --help    this help\n");
}

struct stage_out {
	json_t *j;            /* what is shown */
	struct prompt_reply reply;
};

/* Render, ask (again while the reply lacks a tag), parse. */
static int run_stage(struct llm_client *llm, const struct prompt_template *t,
		     const struct prompt_vars *v, int retries, struct stage_out *out)
{
	struct buf sys, user;
	struct llm_request r;
	int rc = 0;

	buf_init(&sys, 0);
	buf_init(&user, 0);
	rc = prompt_render(t, v, &sys, &user);
	if (rc)
		goto out;
	out->j = json_pack("{s:s, s:I, s:s, s:s, s:s}", "template", t->name,
			   "version", (json_int_t)t->version, "hash", t->hash, "system", sys.data,
			   "user", user.data);
	for (int attempt = 0; attempt <= retries; attempt++) {
		struct llm_request *done;

		memset(&r, 0, sizeof(r));
		r.system = sys.data;
		r.user = user.data;
		r.temperature = t->temperature;
		r.max_tokens = (int)t->max_tokens;
		r.top_p = t->top_p;
		r.seed = t->seed;
		r.stage = t->stage == PROMPT_MODIFY ? LLM_STAGE_MODIFY : LLM_STAGE_CLARIFY;
		r.category = t->category;
		r.original = v->original;
		r.modified = v->modified;
		llm_submit(llm, &r);
		done = llm_wait(llm, -1);
		if (!done || r.status != LLM_OK) {
			rc = err_set(CL_EIO, "%s: %s", t->name, r.error[0] ? r.error : "no reply");
			llm_request_release(&r);
			goto out;
		}
		json_object_set_new(out->j, "reply", json_string(r.text));
		json_object_set_new(out->j, "finish_reason", json_string(r.finish_reason));
		json_object_set_new(out->j, "tokens_in", json_integer(r.tokens_in));
		json_object_set_new(out->j, "tokens_out", json_integer(r.tokens_out));
		json_object_set_new(out->j, "latency", json_real(r.latency));
		json_object_set_new(out->j, "attempts", json_integer(attempt + 1));
		err_clear();
		rc = prompt_parse_reply(t, r.text, &out->reply);
		llm_request_release(&r);
		if (!rc)
			break;
		log_warn("%s: %s%s", t->name, err_msg(rc), attempt < retries ? ": asking again" : "");
	}
	if (rc)
		rc = err_set(CL_EPARSE, "%s: %s", t->name, err_msg(rc));
out:
	buf_release(&sys);
	buf_release(&user);
	return rc;
}

static void print_text(const char *title, const char *text)
{
	printf("\n===== %s =====\n%s\n", title, text ? text : "");
}

int cmd_try(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "category", required_argument, NULL, 'c' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct stage_out s1 = { 0 }, s2 = { 0 };
	struct prompt_set ps;
	struct filter_set fs;
	struct filter_scratch *scratch = NULL;
	struct filter_result res;
	struct llm_options lo;
	struct llm_client *llm = NULL;
	struct stats_lm *lm = NULL;
	struct stats_bounds bounds;
	struct prompt_vars v = { 0 };
	struct store s;
	MDB_txn *txn = NULL;
	json_t *problem = NULL, *out = NULL, *signals = NULL;
	char dir[4096];
	int cat = -1, json = 0, status = EXIT_FAIL, rc, have_ps = 0, have_fs = 0;
	const void *blob;
	size_t bloblen;

	optind = 0;
	for (;;) {
		int opt = getopt_long(argc, argv, "h", opts, NULL);

		if (opt == -1)
			break;
		if (opt == 'c') {
			cat = category_parse(optarg);
			if (cat < 0)
				return cli_usage_error("try", "unknown category '%s'", optarg);
		} else if (opt == 'j') {
			json = 1;
		} else if (opt == 'h') {
			usage(stdout);
			return EXIT_OK;
		} else {
			return cli_usage_error("try", "unknown option");
		}
	}
	if (argc - optind != 1 || cat < 0)
		return cli_usage_error("try", "expects one KEY and --category C");

	/* the problem, and the store's language model if it has one */
	rc = cli_open_store(c, &s, STORE_RDONLY);
	if (rc)
		return rc;
	rc = store_read_begin(&s, &txn);
	if (!rc)
		rc = store_get(&s, txn, STORE_PROBLEMS, argv[optind], &problem);
	if (!rc && store_get_raw(&s, txn, STORE_META, STORE_META_LM, &blob, &bloblen) == 0 &&
	    stats_lm_load(&lm, blob, bloblen) != 0)
		lm = NULL;
	store_read_end(txn);
	store_close(&s);
	if (rc == CL_ENOTFOUND) {
		log_err("no problem '%s' in the store", argv[optind]);
		return EXIT_FAIL;
	}
	if (rc) {
		log_err("%s", err_msg(rc));
		return EXIT_FAIL;
	}

	/* templates, filters, bounds, the LLM */
	config_data_dir(c->cfg.prompts.dir, "prompts", dir, sizeof(dir));
	err_clear();
	rc = prompt_set_load_dir(&ps, dir);
	if (rc) {
		log_err("%s", err_msg(rc));
		status = EXIT_USAGE;
		goto out;
	}
	have_ps = 1;
	rc = config_filter_set(&c->cfg, NULL, &fs);
	if (rc) {
		log_err("%s", err_msg(rc));
		status = EXIT_USAGE;
		goto out;
	}
	have_fs = 1;
	config_stats_bounds(&c->cfg, &bounds);
	rc = config_llm_options(&c->cfg, &lo);
	if (!rc) {
		rc = llm_client_new(&llm, &lo);
		llm_options_release(&lo);
	}
	if (rc) {
		log_err("%s", err_msg(rc));
		status = EXIT_USAGE;
		goto out;
	}

	v.original = jsonx_str(problem, "question");
	v.starter_code = jsonx_str(problem, "starter_code");
	v.difficulty = jsonx_str(problem, "difficulty");
	v.category = cat;
	filter_result_init(&res);
	scratch = filter_scratch_new(&fs);

	/* stage 1, then its filters */
	rc = run_stage(llm, prompt_set_get(&ps, PROMPT_MODIFY, cat), &v, (int)c->cfg.prompts.max_parse_retries, &s1);
	if (rc)
		goto failed;
	v.modified = s1.reply.modified;
	{
		struct filter_input in = { .original = v.original, .modified = v.modified,
					   .reasoning = s1.reply.reasoning, .category = cat };

		if (filter_run(&fs, scratch, &in, &res))
			goto failed;
	}
	/* stage 2, then the filters of the whole record, then the scores */
	rc = run_stage(llm, prompt_set_get(&ps, PROMPT_CLARIFY, cat), &v, (int)c->cfg.prompts.max_parse_retries, &s2);
	if (rc)
		goto failed;
	{
		struct filter_input in = {
			.original = v.original, .modified = v.modified,
			.questions = (const char *const *)s2.reply.questions,
			.nquestions = s2.reply.nquestions, .questions_expected = 1, .category = cat,
		};

		if (filter_run(&fs, scratch, &in, &res))
			goto failed;
	}
	signals = stats_record(lm, v.original, v.modified, (const char *const *)s2.reply.questions,
			       s2.reply.nquestions);
	if (signals)
		stats_validate(&bounds, signals, &res);
	status = EXIT_OK;
failed:
	if (rc)
		log_err("%s", err_msg(rc));
	out = json_pack("{s:s, s:s, s:s, s:o?, s:o?}", "key", argv[optind], "category",
			category_name(cat), "verdict", status ? "failed" : res.rejected ?
			"rejected" : "accepted", "modify", s1.j, "clarify", s2.j);
	s1.j = s2.j = NULL;
	if (s1.reply.modified)
		json_object_set_new(out, "modified_problem", json_string(s1.reply.modified));
	if (s2.reply.nquestions) {
		json_t *qs = json_array();

		for (size_t i = 0; i < s2.reply.nquestions; i++)
			json_array_append_new(qs, json_string(s2.reply.questions[i]));
		json_object_set_new(out, "questions", qs);
	}
	json_object_set_new(out, "verdicts", filter_result_json(&res));
	if (signals)
		json_object_set(out, "signals", signals);
	if (json) {
		jsonx_print(stdout, out, 1);
	} else {
		json_t *m = json_object_get(out, "modify"), *k = json_object_get(out, "clarify");
		size_t i;
		json_t *it;

		if (m) {
			print_text("stage 1 system", jsonx_str(m, "system"));
			print_text("stage 1 user", jsonx_str(m, "user"));
			print_text("stage 1 reply", jsonx_str(m, "reply"));
		}
		if (k) {
			print_text("stage 2 user", jsonx_str(k, "user"));
			print_text("stage 2 reply", jsonx_str(k, "reply"));
		}
		print_text("modified problem", jsonx_str(out, "modified_problem"));
		printf("\n===== questions =====\n");
		json_array_foreach(json_object_get(out, "questions"), i, it)
			printf("- %s\n", json_string_value(it));
		printf("\n===== verdicts =====\n");
		json_array_foreach(json_object_get(out, "verdicts"), i, it)
			printf("%s %s (%s): %s\n", jsonx_str(it, "action"), jsonx_str(it, "rule"),
			       jsonx_str(it, "field"), jsonx_str(it, "detail"));
		if (signals) {
			printf("\n===== scores =====\n");
			jsonx_print(stdout, signals, 1);
		}
		printf("\n%s: %s\n", argv[optind], jsonx_str(out, "verdict"));
	}
	json_decref(out);
	json_decref(signals);
	filter_result_release(&res);
out:
	json_decref(s1.j);
	json_decref(s2.j);
	prompt_reply_release(&s1.reply);
	prompt_reply_release(&s2.reply);
	filter_scratch_free(scratch);
	llm_client_free(llm);
	stats_lm_free(lm);
	if (have_fs)
		filter_set_release(&fs);
	if (have_ps)
		prompt_set_release(&ps);
	json_decref(problem);
	return status;
}
