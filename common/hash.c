/* hash.c - FNV-1a for tables and shards, SHA-256 from OpenSSL for content */
#include <openssl/evp.h>
#include <string.h>

#include "common.h"

uint64_t hash_fnv1a64(const void *p, size_t n)
{
	const unsigned char *s = p;
	uint64_t h = 0xcbf29ce484222325ULL;

	for (size_t i = 0; i < n; i++) {
		h ^= s[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

unsigned hash_shard(const char *key, unsigned n)
{
	if (n <= 1)
		return 0;
	return (unsigned)(hash_fnv1a64(key, strlen(key)) % n);
}

void hash_sha256(const void *p, size_t n, unsigned char out[HASH_SHA256_LEN])
{
	unsigned int len = HASH_SHA256_LEN;

	/* EVP_Digest is one-shot and thread-safe with the default provider */
	EVP_Digest(p, n, out, &len, EVP_sha256(), NULL);
}

void hash_hex(const unsigned char *p, size_t n, char *out)
{
	static const char hex[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hex[p[i] >> 4];
		out[2 * i + 1] = hex[p[i] & 15];
	}
	out[2 * n] = '\0';
}

void hash_sha256_hex(const void *p, size_t n, char out[HASH_SHA256_HEX])
{
	unsigned char md[HASH_SHA256_LEN];

	hash_sha256(p, n, md);
	hash_hex(md, sizeof(md), out);
}
