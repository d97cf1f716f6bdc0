/*
 * test_version.c - wn_version() and the WN_VERSION_* macros: the library reports the
 * version of the header it was built with, as MAJOR.MINOR.PATCH.
 */
#include "winnow.h"
#include "tap.h"

int main(void)
{
	char want[64];
	const char *v = wn_version();
	OK(v != NULL, "wn_version() is not NULL");
	if (!v)
		v = "";
	tap_is_str(v, WN_VERSION_STRING, "wn_version() is the header's WN_VERSION_STRING");
	snprintf(want, sizeof want, "%d.%d.%d", WN_VERSION_MAJOR, WN_VERSION_MINOR, WN_VERSION_PATCH);
	tap_is_str(WN_VERSION_STRING, want, "WN_VERSION_STRING is MAJOR.MINOR.PATCH");
	tap_is_str(WINNOW_VERSION, WN_VERSION_STRING, "WINNOW_VERSION is the same string");
	OK(wn_version() == v, "the same static string every call");
	return tap_done();
}
