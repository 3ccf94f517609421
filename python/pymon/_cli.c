/* The py-mon command-line tool, compiled into the extension so that
 * `python3 -m pymon` and the `py-mon` console script run the same C code as
 * the binary. main() is renamed; pymon/_pymon.c calls it. */
#define main pymon_cli_main
int pymon_cli_main(int argc, char **argv);
#include "cli/main.c"
