/* err.c - error codes and the per-thread last error message */
#include <stdio.h>
#include <string.h>

#include "common.h"

static _Thread_local char err_buf[1024];
static _Thread_local int err_have;

const char *err_str(int code)
{
	switch (code) {
	case CL_OK: return "success";
	case CL_ENOMEM: return "out of memory";
	case CL_EIO: return "input/output error";
	case CL_EPARSE: return "malformed input";
	case CL_ECONFIG: return "invalid configuration";
	case CL_ESTORE: return "store error";
	case CL_ENOTFOUND: return "not found";
	case CL_ELOCKED: return "locked by another process";
	case CL_ESCHEMA: return "unsupported store schema";
	case CL_ETOOBIG: return "over the size limit";
	case CL_EUTF8: return "invalid UTF-8";
	case CL_EINVAL: return "invalid argument";
	case CL_ECODEC: return "compression error";
	case CL_EFULL: return "store map full";
	}
	return "unknown error";
}

int err_set(int code, const char *fmt, ...)
{
	char tmp[sizeof(err_buf)];
	va_list ap;

	/* format aside: the arguments may include err_msg() itself */
	va_start(ap, fmt);
	vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	memcpy(err_buf, tmp, sizeof(tmp));
	err_have = 1;
	return code;
}

const char *err_msg(int code)
{
	return err_have ? err_buf : err_str(code);
}

void err_clear(void)
{
	err_have = 0;
	err_buf[0] = '\0';
}
