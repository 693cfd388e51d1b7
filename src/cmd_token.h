/*
 * cmd_token.h: `siogate token`, which mints a development JWT signed with
 * the configuration's secret.
 */
#ifndef SG_CMD_TOKEN_H
#define SG_CMD_TOKEN_H

/* argv[0] is "token".  Prints the token on stdout; returns the exit status
 * (0, or 1 with a message on stderr). */
int cmd_token(int argc, char **argv, const char *default_config);

#endif
