/*
 * fuzz_record.c - libFuzzer harness for the store's value decoder (one
 * zstd frame of JSON).  The input is decoded as a stored value; when it is
 * not a zstd frame it is taken as the JSON text and compressed first, as
 * one frame that records its size and as a streamed one that does not, so
 * that both decoding paths see it.  A refused value keeps nothing; a
 * decoded one encodes and decodes to an equal value, and reads as a cached
 * LLM response or a job as the daemon would read it.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include "../../pipeline/llm.h"
#include "../../store/store.h"

static struct store codec;
static ZSTD_CCtx *cctx;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct store_options opt;

	(void)argc;
	(void)argv;
	store_options_default(&opt);
	opt.max_record = 1 << 20; /* small, so that the cap is reached */
	cctx = ZSTD_createCCtx();
	if (!cctx || store_codec_open(&codec, &opt))
		__builtin_trap();
	/* as the zstd tool writes to a pipe: no content size */
	if (ZSTD_isError(ZSTD_CCtx_setParameter(cctx, ZSTD_c_contentSizeFlag, 0)))
		__builtin_trap();
	return 0;
}

static void decode(const void *data, size_t size)
{
	struct llm_request r;
	const void *enc;
	size_t len;
	json_t *v = (json_t *)1, *again = NULL;
	int rc;

	err_clear();
	rc = store_decode(&codec, data, size, &v);
	if (rc) {
		if (v || (rc != CL_ECODEC && rc != CL_ETOOBIG && rc != CL_EPARSE))
			__builtin_trap();
		return;
	}
	if (!v)
		__builtin_trap();
	/* what decodes is stored again the same (jansson refuses deep
	 * nesting on encode as on decode: both or neither) */
	if (store_encode(&codec, v, &enc, &len) == 0) {
		if (store_decode(&codec, enc, len, &again) || !json_equal(v, again))
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
	decode(data, size);
	if (size >= 4 && memcmp(data, magic, 4) == 0)
		return 0;
	bound = ZSTD_compressBound(size);
	frame = malloc(bound);
	if (!frame)
		return 0;
	z = ZSTD_compress(frame, bound, data, size, 1);
	if (ZSTD_isError(z))
		__builtin_trap();
	decode(frame, z);
	/* streamed: no content size in the frame header */
	ZSTD_CCtx_reset(cctx, ZSTD_reset_session_only);
	out.dst = frame;
	out.size = bound;
	out.pos = 0;
	z = ZSTD_compressStream2(cctx, &out, &in, ZSTD_e_end);
	if (ZSTD_isError(z) || z != 0)
		__builtin_trap();
	decode(frame, out.pos);
	free(frame);
	return 0;
}
