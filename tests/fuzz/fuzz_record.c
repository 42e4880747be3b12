/*
 * fuzz_record.c - libFuzzer harness for the store's value decoder (one
 * zstd frame of JSON).  The input is decoded as a stored value; when it is
 * not a zstd frame it is taken as the JSON text and compressed first, as
 * one frame that records its size and as a streamed one that does not, so
 * that both decoding paths see it, and once more with a zstd dictionary
 * (trained at start-up on records made up here, as a store trains its
 * own), read by a codec that has it.  A refused value keeps nothing; a
 * decoded one encodes and decodes to an equal value, and reads as a cached
 * LLM response or a job as the daemon would read it.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <zdict.h>
#include <zstd.h>

#include "../../llm/llm.h"
#include "../../store/store.h"

static struct store codec, dcodec;  /* without and with a dictionary */
static ZSTD_CCtx *cctx;
static ZSTD_CDict *cdict;

/* A dictionary trained on 300 made-up records: the same every run. */
static void dict_init(void)
{
	static char samples[300 * 512], dict[16 << 10];
	size_t sizes[300], n = 0, len;
	uint64_t x = 88172645463325252ULL;

	for (int i = 0; i < 300; i++) {
		int k = snprintf(samples + n, 512, "{\"accepted\":true,\"category\":\"%s\","
				 "\"modified_problem\":\"",
				 i % 3 ? "ambiguous" : "incomplete");

		while (k < 400) {
			static const char *const w[] = { "array ", "print ", "the ", "query ",
							 "minimum ", "graph ", "\\n", "edges " };

			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			k += snprintf(samples + n + k, 512 - (size_t)k, "%s", w[x % 8]);
		}
		k += snprintf(samples + n + k, 512 - (size_t)k, "\",\"questions\":[\"Which?\"]}");
		sizes[i] = (size_t)k;
		n += (size_t)k;
	}
	len = ZDICT_trainFromBuffer(dict, sizeof(dict), samples, sizes, 300);
	if (ZDICT_isError(len) || store_dict_use(&dcodec, STORE_RESULTS, dict, len))
		__builtin_trap();
	cdict = ZSTD_createCDict(dict, len, 3);
	if (!cdict)
		__builtin_trap();
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct store_options opt;

	(void)argc;
	(void)argv;
	store_options_default(&opt);
	opt.max_record = 1 << 20; /* small, so that the cap is reached */
	cctx = ZSTD_createCCtx();
	if (!cctx || store_codec_open(&codec, &opt) || store_codec_open(&dcodec, &opt))
		__builtin_trap();
	dict_init();
	/* as the zstd tool writes to a pipe: no content size */
	if (ZSTD_isError(ZSTD_CCtx_setParameter(cctx, ZSTD_c_contentSizeFlag, 0)))
		__builtin_trap();
	return 0;
}

static void decode(struct store *codec, const void *data, size_t size)
{
	struct llm_request r;
	const void *enc;
	size_t len;
	json_t *v = (json_t *)1, *again = NULL;
	int rc;

	err_clear();
	rc = store_decode(codec, data, size, &v);
	if (rc) {
		if (v || (rc != CL_ECODEC && rc != CL_ETOOBIG && rc != CL_EPARSE))
			__builtin_trap();
		return;
	}
	if (!v)
		__builtin_trap();
	/* what decodes is stored again the same (jansson refuses deep
	 * nesting on encode as on decode: both or neither) */
	if (store_encode(codec, v, &enc, &len) == 0) {
		if (store_decode(codec, enc, len, &again) || !json_equal(v, again))
			__builtin_trap();
		json_decref(again);
	}
	/* the cache's and the jobs' readers */
	memset(&r, 0, sizeof(r));
	if (llm_response_from_json(&r, v) == 0) {
		json_t *back = llm_response_json(&r);

		if (!r.text || !back || r.tokens_in < 0 || r.tokens_in > LLM_TOKENS_MAX ||
		    r.tokens_out < 0 || r.tokens_out > LLM_TOKENS_MAX)
			__builtin_trap();
		json_decref(back);
	}
	llm_request_release(&r);
	(void)job_state_parse(jsonx_str(v, "state") ? jsonx_str(v, "state") : "");
	json_decref(v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t magic[4] = { 0x28, 0xb5, 0x2f, 0xfd };
	ZSTD_inBuffer in = { data, size, 0 };
	ZSTD_outBuffer out;
	size_t bound, z;
	void *frame;

	log_threshold = -1; /* silent */
	decode(&codec, data, size);
	decode(&dcodec, data, size);
	if (size >= 4 && memcmp(data, magic, 4) == 0)
		return 0;
	bound = ZSTD_compressBound(size);
	frame = malloc(bound);
	if (!frame)
		return 0;
	z = ZSTD_compress(frame, bound, data, size, 1);
	if (ZSTD_isError(z))
		__builtin_trap();
	decode(&codec, frame, z);
	decode(&dcodec, frame, z);
	/* with the dictionary: only the codec that has it reads it */
	z = ZSTD_compress_usingCDict(cctx, frame, bound, data, size, cdict);
	if (ZSTD_isError(z))
		__builtin_trap();
	decode(&dcodec, frame, z);
	decode(&codec, frame, z);
	/* streamed: no content size in the frame header */
	ZSTD_CCtx_reset(cctx, ZSTD_reset_session_only);
	out.dst = frame;
	out.size = bound;
	out.pos = 0;
	z = ZSTD_compressStream2(cctx, &out, &in, ZSTD_e_end);
	if (ZSTD_isError(z) || z != 0)
		__builtin_trap();
	decode(&codec, frame, out.pos);
	/* and streamed with the dictionary */
	ZSTD_CCtx_reset(cctx, ZSTD_reset_session_only);
	if (ZSTD_isError(ZSTD_CCtx_refCDict(cctx, cdict)))
		__builtin_trap();
	in.pos = 0;
	out.pos = 0;
	z = ZSTD_compressStream2(cctx, &out, &in, ZSTD_e_end);
	if (ZSTD_isError(z) || z != 0)
		__builtin_trap();
	decode(&dcodec, frame, out.pos);
	ZSTD_CCtx_refCDict(cctx, NULL);
	free(frame);
	return 0;
}
