/* category.c - names of the problem categories */
#include <string.h>

#include "common.h"

static const char *const category_names[CAT_COUNT] = {
	[CAT_AMBIGUOUS] = "ambiguous",
	[CAT_INCONSISTENT] = "inconsistent",
	[CAT_INCOMPLETE] = "incomplete",
};

const char *category_name(int cat)
{
	return cat >= 0 && cat < CAT_COUNT ? category_names[cat] : "?";
}

int category_parse(const char *name)
{
	for (int i = 0; i < CAT_COUNT; i++)
		if (strcmp(name, category_names[i]) == 0)
			return i;
	return -1;
}
