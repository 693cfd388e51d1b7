/*
 * users.c: a user's sockets on one worker (see users.h).  Sockets are
 * collected before anything is done to them: revoking one may close
 * another of the same session (their memory stays until the end of the
 * loop turn, and they are skipped once closing).
 */
#include "cluster/users.h"

#include <stdlib.h>
#include <string.h>

#include "app/authflow.h"
#include "core/log.h"
#include "core/worker.h"
#include "sio/sio.h"

size_t users_select(struct worker *w, const char *nsp, const char *sub, struct sio_socket ***out)
{
	struct sio_socket **v = NULL;
	size_t n = 0, cap = 0;

	for (size_t i = 0; i < w->n_nsps; i++) {
		if (nsp != NULL && strcmp(nsp, w->nsps[i]->name) != 0)
			continue;
		for (struct sio_socket *s = w->nsps[i]->all; s; s = s->next) {
			const char *user = authflow_user(s);
			if (s->closing || user == NULL || strcmp(user, sub) != 0)
				continue;
			if (n == cap)
				v = sg_realloc(v, (cap = cap ? cap * 2 : 8) * sizeof(*v));
			v[n++] = s;
		}
	}
	*out = v;
	return n;
}

size_t users_count(struct worker *w, const char *sub)
{
	struct sio_socket **v;
	size_t n = users_select(w, NULL, sub, &v);

	free(v);
	return n;
}

size_t users_revoke(struct worker *w, const char *nsp, const char *sub, const char *by)
{
	struct sio_socket **v;
	size_t n = users_select(w, nsp, sub, &v), done = 0;

	for (size_t i = 0; i < n; i++) {
		if (v[i]->closing)
			continue;
		authflow_log(SG_LOG_DEBUG, v[i], NULL, "revoked by %s", by);
		authflow_revoke(v[i]);
		done++;
	}
	free(v);
	return done;
}
