/*
 * test_log.c: the log sink (log.c) as a reader of stderr sees it: text and
 * JSON records with their facts, the journal's priority prefix when
 * JOURNAL_STREAM names stderr (and only then), and the rate limiter.  Each
 * case points fd 2 at a pipe, logs, puts fd 2 back and reads the pipe.
 */
#include <jansson.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/log.h"
#include "unit.h"

static int saved_stderr = -1;
static int pipe_fds[2];

/* fd 2 becomes the write end of a new pipe. */
static void capture_begin(void)
{
	fflush(stderr);
	if (pipe(pipe_fds) != 0)
		abort();
	saved_stderr = dup(STDERR_FILENO);
	dup2(pipe_fds[1], STDERR_FILENO);
	close(pipe_fds[1]);
}

/* fd 2 back; returns what was written (static buffer). */
static const char *capture_end(void)
{
	static char buf[8192];
	ssize_t n, got = 0;

	dup2(saved_stderr, STDERR_FILENO);
	close(saved_stderr);
	while ((n = read(pipe_fds[0], buf + got, sizeof(buf) - 1 - (size_t)got)) > 0)
		got += n;
	close(pipe_fds[0]);
	buf[got] = '\0';
	return buf;
}

static bool matches(const char *s, const char *re)
{
	regex_t r;
	bool ok;

	if (regcomp(&r, re, REG_EXTENDED | REG_NOSUB) != 0)
		abort();
	ok = regexec(&r, s, 0, NULL, 0) == 0;
	regfree(&r);
	return ok;
}

static const struct log_facts sample = {
	.addr = "127.0.0.1:4242",
	.sid = "SID1",
	.socket = "SOCK1",
	.nsp = "/chat",
	.user = "alice",
	.reason = "transport close",
	.worker = 1,
};

static void test_text_line_with_facts(void)
{
	const char *out;

	unsetenv("JOURNAL_STREAM");
	log_configure(SG_LOG_DEBUG, SG_LOG_TEXT);
	capture_begin();
	log_with(SG_LOG_DEBUG, &sample, "client closed: %s", "transport close");
	out = capture_end();
	/* the reason is in the words, the other facts follow as key=value */
	CHECK(matches(out, "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]{12}Z debug client closed: "
			   "transport close addr=127\\.0\\.0\\.1:4242 sid=SID1 socket=SOCK1 "
			   "nsp=/chat user=alice worker=1\n$"));
	CHECK(strstr(out, "reason=") == NULL);
}

static void test_text_values_are_quoted_and_escaped(void)
{
	struct log_facts f = { .user = "a b\"c\n", .worker = -1 };
	const char *out;

	unsetenv("JOURNAL_STREAM");
	log_configure(SG_LOG_INFO, SG_LOG_TEXT);
	capture_begin();
	log_with(SG_LOG_INFO, &f, "x");
	f.user = "";
	log_with(SG_LOG_INFO, &f, "y");
	out = capture_end();
	CHECK(strstr(out, " info x user=\"a b\\\"c\\x0a\"\n") != NULL);
	CHECK(strstr(out, " info y user=\"\"\n") != NULL);
	CHECK(strstr(out, "worker") == NULL);
}

static void test_json_fields(void)
{
	json_error_t err;
	json_t *doc;
	const char *out;

	unsetenv("JOURNAL_STREAM");
	log_configure(SG_LOG_DEBUG, SG_LOG_JSON);
	capture_begin();
	log_with(SG_LOG_DEBUG, &sample, "client closed: transport close");
	out = capture_end();
	doc = json_loads(out, 0, &err);
	CHECK(doc != NULL);
	CHECK_STR(json_string_value(json_object_get(doc, "level")), "debug");
	CHECK_STR(json_string_value(json_object_get(doc, "msg")), "client closed: transport close");
	CHECK_STR(json_string_value(json_object_get(doc, "addr")), "127.0.0.1:4242");
	CHECK_STR(json_string_value(json_object_get(doc, "sid")), "SID1");
	CHECK_STR(json_string_value(json_object_get(doc, "socket")), "SOCK1");
	CHECK_STR(json_string_value(json_object_get(doc, "nsp")), "/chat");
	CHECK_STR(json_string_value(json_object_get(doc, "user")), "alice");
	CHECK_STR(json_string_value(json_object_get(doc, "reason")), "transport close");
	CHECK_INT(json_integer_value(json_object_get(doc, "worker")), 1);
	CHECK(json_is_string(json_object_get(doc, "time")));
	json_decref(doc);
}

static void test_level_filter(void)
{
	unsetenv("JOURNAL_STREAM");
	log_configure(SG_LOG_INFO, SG_LOG_TEXT);
	capture_begin();
	log_debug("not at info");
	log_with(SG_LOG_DEBUG, &sample, "nor this");
	CHECK_STR(capture_end(), "");
}

/* JOURNAL_STREAM as systemd sets it: decimal st_dev:st_ino of fd 2. */
static void set_journal_stream_to_stderr(bool right)
{
	struct stat st;
	char v[64];

	if (fstat(STDERR_FILENO, &st) != 0)
		abort();
	snprintf(v, sizeof(v), "%llu:%llu", (unsigned long long)st.st_dev,
		 (unsigned long long)st.st_ino + (right ? 0 : 1));
	setenv("JOURNAL_STREAM", v, 1);
}

static void test_journal_prefix(void)
{
	const char *out;

	capture_begin();
	set_journal_stream_to_stderr(true);
	log_configure(SG_LOG_DEBUG, SG_LOG_TEXT);
	log_error("e");
	log_warn("w");
	log_info("i");
	log_debug("d");
	log_always("ready");
	out = capture_end();
	CHECK_STR(out, "<3>error e\n<4>warn w\n<6>info i\n<7>debug d\n<6>info ready\n");

	capture_begin();
	set_journal_stream_to_stderr(true);
	log_configure(SG_LOG_INFO, SG_LOG_JSON);
	log_warn("w");
	out = capture_end();
	CHECK(matches(out, "^<4>\\{\"time\":\"[^\"]+\",\"level\":\"warn\",\"msg\":\"w\"\\}\n$"));

	/* another file's numbers: not the journal, lines as usual */
	capture_begin();
	set_journal_stream_to_stderr(false);
	log_configure(SG_LOG_INFO, SG_LOG_TEXT);
	log_warn("w");
	out = capture_end();
	CHECK(matches(out, "^[0-9]{4}-[^ ]+Z warn w\n$"));
	unsetenv("JOURNAL_STREAM");
}

static void test_limited(void)
{
	struct log_limit l = { 0 };
	const char *out;

	unsetenv("JOURNAL_STREAM");
	log_configure(SG_LOG_INFO, SG_LOG_TEXT);
	capture_begin();
	log_limited(&l, SG_LOG_WARN, NULL, "refused %d", 1);
	log_limited(&l, SG_LOG_WARN, NULL, "refused %d", 2);
	log_limited(&l, SG_LOG_WARN, NULL, "refused %d", 3);
	l.quiet_until_ms = 0; /* the window has passed */
	log_limited(&l, SG_LOG_WARN, &sample, "refused %d", 4);
	out = capture_end();
	CHECK(strstr(out, "warn refused 1\n") != NULL);
	CHECK(strstr(out, "refused 2") == NULL);
	CHECK(strstr(out, "refused 3") == NULL);
	CHECK(strstr(out, "warn refused 4 addr=127.0.0.1:4242") != NULL);
	CHECK(strstr(out, " worker=1 suppressed=2\n") != NULL);
	CHECK_INT(l.suppressed, 0);
}

int main(void)
{
	RUN(test_text_line_with_facts);
	RUN(test_text_values_are_quoted_and_escaped);
	RUN(test_json_fields);
	RUN(test_level_filter);
	RUN(test_journal_prefix);
	RUN(test_limited);
	return UNIT_END();
}
