/*
 * cmdrun.c: a shell command run in the background of a libevent loop, its
 * standard output collected through a pipe, bounded in time and size (see
 * cmdrun.h).  The end of a run is the end of its output and then the exit
 * of the shell, polled every few milliseconds; the deadline covers both.
 */
#include "cmdrun.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/common.h"

#define CMDRUN_POLL_MS 10
#define CMDRUN_FD_LIMIT 65536 /* the descriptors a child closes without close_range */

extern char **environ;

struct cmdrun {
	pid_t pid; /* 0 once reaped */
	int fd;	   /* read end of the output pipe; -1 once at EOF */
	struct event *ev_read;
	struct event *ev_deadline;
	struct event *ev_poll;
	struct sg_buf out;
	size_t max_out;
	unsigned timeout_ms;
	cmdrun_fn done;
	void *user;
};

static char **build_env(const char *const *env);
static void close_from(int lowest, long limit);
static void run_child(const char *cmd, int out_fd, char **envp, long fd_limit)
	__attribute__((noreturn));
static void stop(struct cmdrun *r);
static void finish(struct cmdrun *r, const char *error);
static void on_read(evutil_socket_t fd, short what, void *arg);
static void on_poll(evutil_socket_t fd, short what, void *arg);
static void on_deadline(evutil_socket_t fd, short what, void *arg);

/* environ, minus the names env sets, plus env (pointers borrowed). */
static char **build_env(const char *const *env)
{
	size_t n = 0, k = 0, i, j;
	char **v;

	while (environ[n] != NULL)
		n++;
	for (j = 0; env != NULL && env[j] != NULL; j++) {
	}
	v = sg_calloc(n + j + 1, sizeof(*v));
	for (i = 0; i < n; i++) {
		bool overridden = false;
		for (j = 0; env != NULL && env[j] != NULL && !overridden; j++) {
			size_t nl = strcspn(env[j], "=");
			overridden = strncmp(environ[i], env[j], nl) == 0 && environ[i][nl] == '=';
		}
		if (!overridden)
			v[k++] = environ[i];
	}
	for (j = 0; env != NULL && env[j] != NULL; j++)
		v[k++] = (char *)env[j];
	return v;
}

/* Closes every descriptor from lowest up (in the child: async-signal-safe). */
static void close_from(int lowest, long limit)
{
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))
	if (close_range((unsigned)lowest, ~0U, 0) == 0)
		return;
#endif
	for (long fd = lowest; fd < limit; fd++)
		close((int)fd);
}

/* In the forked child: its own group, stdin /dev/null, stdout the pipe,
 * nothing else open, default signals, then the shell. */
static void run_child(const char *cmd, int out_fd, char **envp, long fd_limit)
{
	char *argv[] = { "sh", "-c", (char *)cmd, NULL };
	struct sigaction sa;
	sigset_t none;
	int nul;

	setpgid(0, 0);
	nul = open("/dev/null", O_RDONLY);
	if (nul < 0 || dup2(nul, STDIN_FILENO) < 0 || dup2(out_fd, STDOUT_FILENO) < 0)
		_exit(127);
	close_from(STDERR_FILENO + 1, fd_limit);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	sigaction(SIGPIPE, &sa, NULL); /* siocat ignores it; ignoring survives exec */
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	execve("/bin/sh", argv, envp);
	_exit(127);
}

struct cmdrun *cmdrun_start(struct event_base *base, const char *cmd, const char *const *env,
			    size_t max_out, unsigned timeout_ms, cmdrun_fn done, void *user,
			    char *err, size_t errlen)
{
	struct timeval tv = { timeout_ms / 1000, (timeout_ms % 1000) * 1000 };
	struct cmdrun *r;
	long fd_limit = sysconf(_SC_OPEN_MAX);
	char **envp;
	int p[2];

	if (fd_limit < 0 || fd_limit > CMDRUN_FD_LIMIT)
		fd_limit = CMDRUN_FD_LIMIT;
	if (pipe2(p, O_CLOEXEC) != 0) {
		snprintf(err, errlen, "cannot create a pipe: %s", strerror(errno));
		return NULL;
	}
	envp = build_env(env);
	fflush(NULL); /* the child must not write our buffered output again */
	r = sg_calloc(1, sizeof(*r));
	r->pid = fork();
	if (r->pid < 0) {
		snprintf(err, errlen, "cannot start the command: %s", strerror(errno));
		close(p[0]);
		close(p[1]);
		free(envp);
		free(r);
		return NULL;
	}
	if (r->pid == 0)
		run_child(cmd, p[1], envp, fd_limit);
	setpgid(r->pid, r->pid); /* also here: a kill may come before the child ran */
	close(p[1]);
	free(envp);
	r->fd = p[0];
	evutil_make_socket_nonblocking(r->fd);
	sg_buf_init(&r->out);
	sg_buf_append(&r->out, "", 0);
	r->max_out = max_out;
	r->timeout_ms = timeout_ms;
	r->done = done;
	r->user = user;
	r->ev_read = event_new(base, r->fd, EV_READ | EV_PERSIST, on_read, r);
	r->ev_deadline = evtimer_new(base, on_deadline, r);
	r->ev_poll = event_new(base, -1, EV_PERSIST, on_poll, r);
	if (r->ev_read == NULL || r->ev_deadline == NULL || r->ev_poll == NULL)
		sg_fatal("libevent: cannot create the events of a command");
	event_add(r->ev_read, NULL);
	evtimer_add(r->ev_deadline, &tv);
	return r;
}

/* Kills and reaps what still runs, closes the pipe, drops the events. */
static void stop(struct cmdrun *r)
{
	if (r->pid > 0) {
		kill(-r->pid, SIGKILL);
		while (waitpid(r->pid, NULL, 0) < 0 && errno == EINTR) {
		}
		r->pid = 0;
	}
	if (r->fd >= 0)
		close(r->fd);
	r->fd = -1;
	event_free(r->ev_read);
	event_free(r->ev_deadline);
	event_free(r->ev_poll);
}

/* Ends the run: reports error, or the output when error is NULL. */
static void finish(struct cmdrun *r, const char *error)
{
	stop(r);
	if (error != NULL)
		r->done(r->user, NULL, 0, error);
	else
		r->done(r->user, r->out.data, r->out.len, NULL);
	sg_buf_fini(&r->out);
	free(r);
}

void cmdrun_cancel(struct cmdrun *r)
{
	if (r == NULL)
		return;
	stop(r);
	sg_buf_fini(&r->out);
	free(r);
}

static void on_read(evutil_socket_t fd, short what, void *arg)
{
	struct cmdrun *r = arg;
	char buf[4096];
	struct timeval tv = { 0, CMDRUN_POLL_MS * 1000 };
	ssize_t n;

	SG_UNUSED(what);
	n = read(fd, buf, sizeof(buf));
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n > 0) {
		char msg[80];
		if (r->out.len + (size_t)n > r->max_out) {
			snprintf(msg, sizeof(msg), "printed more than %zu bytes", r->max_out);
			finish(r, msg);
			return;
		}
		sg_buf_append(&r->out, buf, (size_t)n);
		return;
	}
	/* end of output (or a read error, taken as one): wait for the exit */
	event_del(r->ev_read);
	close(r->fd);
	r->fd = -1;
	event_add(r->ev_poll, &tv);
	event_active(r->ev_poll, EV_TIMEOUT, 0);
}

static void on_poll(evutil_socket_t fd, short what, void *arg)
{
	struct cmdrun *r = arg;
	char msg[80];
	pid_t got;
	int st;

	SG_UNUSED(fd);
	SG_UNUSED(what);
	got = waitpid(r->pid, &st, WNOHANG);
	if (got == 0 || (got < 0 && errno == EINTR))
		return;
	r->pid = 0; /* reaped (or lost to someone else's waitpid: not ours to kill) */
	if (got < 0)
		snprintf(msg, sizeof(msg), "cannot wait for the command: %s", strerror(errno));
	else if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
		msg[0] = '\0';
	else if (WIFEXITED(st))
		snprintf(msg, sizeof(msg), "exited with status %d", WEXITSTATUS(st));
	else
		snprintf(msg, sizeof(msg), "was killed by signal %d", WTERMSIG(st));
	finish(r, msg[0] ? msg : NULL);
}

static void on_deadline(evutil_socket_t fd, short what, void *arg)
{
	struct cmdrun *r = arg;
	char msg[80];

	SG_UNUSED(fd);
	SG_UNUSED(what);
	snprintf(msg, sizeof(msg), "did not finish within %u ms (killed)", r->timeout_ms);
	finish(r, msg);
}
