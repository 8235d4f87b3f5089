/* main.c - placeholder until the daemon lands. */
#include <stdio.h>

int main(void)
{
	fprintf(stderr, "quorumfs: not built yet\n");
	return 1;
}
