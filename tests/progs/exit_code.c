/* exit_code.c: exits with the status given in argv[1] (after printing it), through exit(). */
#include "check.h"

int main(int argc, char **argv)
{
	CHECK(argc == 2, "usage: exit_code N");
	int code = atoi(argv[1]);
	printf("exiting with %d\n", code);
	exit(code);
}
