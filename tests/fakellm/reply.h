/* reply.h - fakellm's model (reply.c) */
#ifndef CLARIFY_FAKELLM_REPLY_H
#define CLARIFY_FAKELLM_REPLY_H

#include <jansson.h>
#include <stdint.h>

#include "../../common/common.h"

json_t *jstr_lossy(const char *s);
const char *buf_str(const struct buf *b);
int content_text(const json_t *content, struct buf *out);
int text_build(const struct buf *prompt, const struct buf *user, struct buf *out);
int64_t tokens(size_t bytes);

static inline int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

#endif
