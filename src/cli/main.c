/* py-mon: the command-line tool (being built on libpymon; see issue 3). */
#include "pymon.h"

#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
	if (argc > 1 && (strcmp(argv[1], "-V") == 0 || strcmp(argv[1], "--version") == 0)) {
		printf("py-mon %s\n", PYMON_VERSION);
		return 0;
	}
	fprintf(stderr, "py-mon: the command line is not built yet\n");
	return 2;
}
