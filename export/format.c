/*
 * format.c - the names of the export's formats, sampling modes and record
 * types, and the chat format's system prompt.
 */
#include <string.h>

#include "export_int.h"

/* ---- names ----------------------------------------------------------------- */

static const char *const format_names[] = { [EXPORT_PAPER] = "paper", [EXPORT_CHAT] = "chat",
					     [EXPORT_DIALOGUE] = "dialogue" };
static const char *const sampling_names[] = { [EXPORT_DOWN] = "down", [EXPORT_OVER] = "over" };
static const char *const type_names[EXPORT_TYPE_COUNT] = {
	[CAT_AMBIGUOUS] = "Ambiguous",
	[CAT_INCONSISTENT] = "Inconsistent",
	[CAT_INCOMPLETE] = "Incomplete",
	[EXPORT_ORIGINAL] = "Original",
};

const char export_chat_system[] =
	"You are a programming assistant. When a problem statement is ambiguous, "
	"inconsistent or incomplete, ask the clarifying questions that would resolve it "
	"instead of guessing; when it is clear, write the solution.";

int export_format_parse(const char *name)
{
	for (size_t i = 0; i < CL_ARRAY_SIZE(format_names); i++)
		if (strcmp(name, format_names[i]) == 0)
			return (int)i;
	return -1;
}

const char *export_format_name(int format)
{
	return format >= 0 && (size_t)format < CL_ARRAY_SIZE(format_names) ? format_names[format]
									    : "?";
}

int export_sampling_parse(const char *name)
{
	for (size_t i = 0; i < CL_ARRAY_SIZE(sampling_names); i++)
		if (strcmp(name, sampling_names[i]) == 0)
			return (int)i;
	return -1;
}

const char *export_sampling_name(int sampling)
{
	return sampling >= 0 && (size_t)sampling < CL_ARRAY_SIZE(sampling_names)
		       ? sampling_names[sampling]
		       : "?";
}

const char *export_type_name(int type)
{
	return type >= 0 && type < EXPORT_TYPE_COUNT ? type_names[type] : "?";
}

const char *export_type_category(int type)
{
	return type == EXPORT_ORIGINAL ? "original" : category_name(type);
}
