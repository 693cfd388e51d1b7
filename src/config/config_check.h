/*
 * config_check.h: the checks across keys of a loaded configuration, and the
 * secret files it names (config_check.c).  For config.c.
 */
#ifndef SG_CONFIG_CHECK_H
#define SG_CONFIG_CHECK_H

struct cfg_loader;

/* Runs every check that involves more than one key on ld->cfg, whose keys
 * all have their values (the user's or the defaults), reading the secret
 * files it names (auth.jwt.secret becomes the content of
 * auth.jwt.secret_file) and filling in server.id when unset.  Problems go
 * to the loader's errors, at the position of the key they are about. */
void cfg_check_cross(struct cfg_loader *ld);

#endif
