/*
 * test_common.c: what every module shares (common.c): the error record
 * (truncation, NULL), the allocators' zero sizes, the growable buffer (always
 * a C string, growth, reset, steal, printf), string lists, the RFC 9110
 * token characters and hex digits over all 256 byte values, the HTTP list
 * walker and its case-insensitive lookup, and sg_fatal (in a child process:
 * it must print file:line and abort).
 */
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/common.h"
#include "unit.h"

static void test_err_set(void)
{
	struct sg_err err = { 0 };
	char long_text[400];

	CHECK_INT(sg_err_set(&err, "bad %s at %d", "key", 7), -1);
	CHECK_STR(err.msg, "bad key at 7");
	CHECK_INT(sg_err_set(NULL, "ignored %d", 1), -1);
	memset(long_text, 'x', sizeof(long_text) - 1);
	long_text[sizeof(long_text) - 1] = '\0';
	CHECK_INT(sg_err_set(&err, "%s", long_text), -1);
	CHECK_INT(strlen(err.msg), sizeof(err.msg) - 1); /* truncated, terminated */
}

static void test_alloc(void)
{
	void *p = sg_malloc(0), *q = sg_calloc(0, 0), *r = sg_realloc(NULL, 0);
	char *s = sg_strndup("abcdef", 3), *t = sg_strdup("");
	char *u = sg_strndup("a\0b", 3);

	/* zero sizes still give distinct, freeable blocks */
	CHECK(p != NULL && q != NULL && r != NULL);
	CHECK_STR(s, "abc");
	CHECK_STR(t, "");
	CHECK(memcmp(u, "a\0b", 4) == 0); /* n bytes copied, then a NUL */
	q = sg_realloc(q, 100);
	memset(q, 1, 100);
	free(p);
	free(q);
	free(r);
	free(s);
	free(t);
	free(u);
}

static void test_buf(void)
{
	struct sg_buf b;
	char *stolen;

	sg_buf_init(&b);
	CHECK(b.data == NULL && b.len == 0 && b.cap == 0);
	sg_buf_reserve(&b, 0); /* even an empty buffer is a string once it has memory */
	CHECK_STR(b.data, "");
	sg_buf_append(&b, NULL, 0);
	CHECK_INT(b.len, 0);
	sg_buf_append(&b, "ab\0c", 4); /* binary: len counts the NUL */
	CHECK_INT(b.len, 4);
	CHECK(memcmp(b.data, "ab\0c\0", 5) == 0);
	sg_buf_reset(&b);
	CHECK_INT(b.len, 0);
	CHECK_STR(b.data, "");
	CHECK(b.cap >= 5); /* the memory is kept */
	sg_buf_append_str(&b, "x");
	sg_buf_append_char(&b, 'y');
	sg_buf_printf(&b, "%d-%s", 42, "z");
	sg_buf_printf(&b, "%s", "");
	CHECK_STR(b.data, "xy42-z");
	stolen = sg_buf_steal(&b);
	CHECK_STR(stolen, "xy42-z");
	CHECK(b.data == NULL && b.len == 0 && b.cap == 0);
	free(stolen);
	/* stealing an empty buffer gives an empty string, not NULL */
	stolen = sg_buf_steal(&b);
	CHECK_STR(stolen, "");
	free(stolen);
	sg_buf_fini(&b);
	CHECK(b.data == NULL);
}

/* The buffer grows by doubling and stays NUL-terminated at every size;
 * a printf longer than the buffer's room comes out whole. */
static void test_buf_growth(void)
{
	struct sg_buf b;
	char big[1000];
	bool terminated = true, room = true;

	sg_buf_init(&b);
	for (int i = 0; i < 5000; i++) {
		sg_buf_append_char(&b, (char)('a' + i % 26));
		terminated = terminated && b.data[b.len] == '\0';
		room = room && b.cap > b.len && (b.cap & (b.cap - 1)) == 0 && b.cap >= 64;
	}
	CHECK(terminated);
	CHECK(room);
	CHECK_INT(b.len, 5000);
	CHECK_INT(b.data[4999], 'a' + 4999 % 26);
	sg_buf_reset(&b);
	memset(big, 'q', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	sg_buf_append_str(&b, "<");
	sg_buf_printf(&b, "%s>%s", big, big);
	CHECK_INT(b.len, 1 + 999 + 1 + 999);
	CHECK_INT(b.data[1000], '>');
	CHECK_INT(b.data[b.len], '\0');
	sg_buf_fini(&b);
}

static void test_strv(void)
{
	struct sg_strv a = { 0 }, b = { 0 };
	char name[] = "mutable";

	CHECK(!sg_strv_contains(&a, "x"));
	sg_strv_push(&a, "one");
	sg_strv_push(&a, "");
	sg_strv_push(&a, name);
	name[0] = 'M'; /* the list holds copies */
	CHECK_INT(a.n, 3);
	CHECK(sg_strv_contains(&a, "one"));
	CHECK(sg_strv_contains(&a, ""));
	CHECK(sg_strv_contains(&a, "mutable"));
	CHECK(!sg_strv_contains(&a, "Mutable"));
	CHECK(!sg_strv_contains(&a, "on"));
	sg_strv_copy(&b, &a);
	CHECK_INT(b.n, 3);
	CHECK(b.v[0] != a.v[0]);
	CHECK_STR(b.v[2], "mutable");
	sg_strv_free(&a);
	CHECK(a.v == NULL && a.n == 0);
	CHECK(sg_strv_contains(&b, "one"));
	sg_strv_copy(&a, &a); /* an empty copy */
	CHECK_INT(a.n, 0);
	sg_strv_free(&b);
	sg_strv_free(&b); /* twice is harmless */
}

/* Every byte value against the RFC 9110 definitions, written out here
 * independently of the implementation. */
static void test_tchar_and_hex(void)
{
	static const char tchars[] = "!#$%&'*+-.^_`|~0123456789"
				     "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
	static const char hex[] = "0123456789abcdef";
	int wrong_tchar = 0, wrong_hex = 0;

	for (int c = 0; c < 256; c++) {
		bool want = c != 0 && memchr(tchars, c, sizeof(tchars) - 1) != NULL;
		const char *h = c ? memchr(hex, c >= 'A' && c <= 'F' ? c + 32 : c, 16) : NULL;
		int want_hex = h ? (int)(h - hex) : -1;

		if (sg_is_tchar((unsigned char)c) != want) {
			fprintf(stderr, "  sg_is_tchar(0x%02x) wrong\n", c);
			wrong_tchar++;
		}
		if (sg_hex_value((char)c) != want_hex) {
			fprintf(stderr, "  sg_hex_value(0x%02x) wrong\n", c);
			wrong_hex++;
		}
	}
	CHECK_INT(wrong_tchar, 0);
	CHECK_INT(wrong_hex, 0);
	CHECK_INT(sg_hex_value('F'), 15);
	CHECK_INT(sg_hex_value('g'), -1);
}

/* sg_list_next: each element trimmed of SP and HTAB, empty ones skipped. */
static void test_list_next(void)
{
	static const struct {
		const char *list;
		const char *want; /* the elements joined by '|' */
	} cases[] = {
		{ "", "" },
		{ "a", "a" },
		{ "a,b", "a|b" },
		{ " a , b ", "a|b" },
		{ "\ta\t,\t b", "a|b" },
		{ ",,a,,b,,", "a|b" },
		{ " , ,\t, ", "" },
		{ "keep-alive, Upgrade", "keep-alive|Upgrade" },
		{ "a b, c\td", "a b|c\td" }, /* inner whitespace is kept */
		{ "x;q=0.5,y", "x;q=0.5|y" },
		{ "\"a,b\"", "\"a|b\"" }, /* no quoted-string handling */
		{ "a,\r", "a|\r" },	  /* only SP and HTAB are trimmed */
	};

	for (size_t i = 0; i < SG_ARRAY_LEN(cases); i++) {
		const char *p = cases[i].list, *e = p + strlen(p), *tok;
		size_t tl;
		struct sg_buf got;

		sg_buf_init(&got);
		sg_buf_reserve(&got, 0);
		while (sg_list_next(&p, e, &tok, &tl)) {
			if (got.len)
				sg_buf_append_char(&got, '|');
			sg_buf_append(&got, tok, tl);
		}
		CHECK_STR(got.data, cases[i].want);
		CHECK(p == e);
		sg_buf_fini(&got);
	}
}

static void test_list_has(void)
{
	static const struct {
		const char *list;
		size_t len; /* 0: strlen */
		const char *token;
		bool want;
	} cases[] = {
		{ "keep-alive, Upgrade", 0, "upgrade", true },
		{ "keep-alive, Upgrade", 0, "KEEP-ALIVE", true },
		{ "keep-alive, Upgrade", 0, "keep", false },
		{ "upgrades", 0, "upgrade", false },
		{ "Upgrade", 0, "upgrad", false },
		{ "", 0, "upgrade", false },
		{ " , upgrade ,", 0, "upgrade", true },
		{ "a,b", 1, "b", false }, /* the length is honoured */
		{ "a,b", 3, "b", true },
		{ "100-continue", 0, "100-Continue", true },
		{ "a b", 0, "a", false },
	};

	for (size_t i = 0; i < SG_ARRAY_LEN(cases); i++) {
		size_t len = cases[i].len ? cases[i].len : strlen(cases[i].list);
		bool got = sg_list_has(cases[i].list, len, cases[i].token);

		if (got != cases[i].want)
			fprintf(stderr, "  case %zu: \"%s\" has \"%s\"\n", i, cases[i].list,
				cases[i].token);
		CHECK(got == cases[i].want);
	}
}

/* A bug, not an operator mistake: the message names the file and line, and
 * the process aborts (checked in a child). */
static void test_fatal(void)
{
	int fds[2], status = 0;
	char out[256] = "";
	ssize_t n;
	pid_t pid;

	if (pipe(fds) != 0) {
		CHECK(!"pipe");
		return;
	}
	pid = fork();
	if (pid == 0) {
		signal(SIGABRT, SIG_DFL);
		dup2(fds[1], 2);
		sg_fatal("broken invariant %d", 7);
	}
	close(fds[1]);
	/* until EOF: the message may come in more than one write */
	for (size_t got = 0;; got += (size_t)n) {
		n = read(fds[0], out + got, sizeof(out) - 1 - got);
		if (n <= 0) {
			out[got] = '\0';
			break;
		}
	}
	close(fds[0]);
	CHECK(waitpid(pid, &status, 0) == pid);
	CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT);
	CHECK(strstr(out, "siogate: fatal: tests/unit/core/test_common.c:") == out);
	CHECK(strstr(out, ": broken invariant 7\n") != NULL);
}

int main(void)
{
	RUN(test_err_set);
	RUN(test_alloc);
	RUN(test_buf);
	RUN(test_buf_growth);
	RUN(test_strv);
	RUN(test_tchar_and_hex);
	RUN(test_list_next);
	RUN(test_list_has);
	RUN(test_fatal);
	return UNIT_END();
}
