#include "tap.h"
static void t(void) {}
static const struct tap_case cases[] = {{"todo", t}};
TAP_MAIN(cases)
