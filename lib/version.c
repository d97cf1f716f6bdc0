/*
 * version.c - the library's version, at run time.
 *
 * winnow.h's WN_VERSION_* macros say which header a program was compiled with; a
 * program linked with another build of libwinnow runs that build's code, and only the
 * library itself can say which it is. wn_version() does, so that `winnow --version` (and
 * any program that wants to check) reports the code that runs. The macros are the one
 * place the version is written: the Makefile reads its VERSION, and so winnow.pc's,
 * from them.
 */
#include "winnow.h"

const char *wn_version(void)
{
	return WN_VERSION_STRING;
}
