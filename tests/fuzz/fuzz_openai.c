/*
 * fuzz_openai.c - libFuzzer harness for the OpenAI chat completions
 * response parser (the checks: fuzz_provider.h).
 */
#include "fuzz_provider.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fuzz_provider(llm_provider_openai.parse, data, size);
}
