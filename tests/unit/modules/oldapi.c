/* oldapi: a test module built for another API version (written out by hand). */
#include <winch/winch.h>

const struct winch_module winch_module = {999, "oldapi", NULL, NULL, NULL, NULL};
