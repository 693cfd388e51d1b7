/*
 * test_cors.c: server.cors applied to a request (cors.c), on requests
 * parsed by the real HTTP parser: no origins configured means no headers
 * and no check; "*" without credentials answers "*"; with credentials, or
 * with a list, the request's Origin is echoed with Vary: Origin; an Origin
 * not listed is refused (and nothing is appended); an Origin or a requested
 * header list that is not visible ASCII is never copied into the answer.
 * Origins compare exactly: case, prefixes and trailing slashes count.
 */
#include "proto/cors.h"
#include "proto/http.h"
#include "unit.h"

/* The policy from "a|b|c" (empty: no origins). */
static void policy_of(struct cors_policy *p, const char *origins, bool credentials)
{
	char copy[256], *save = NULL;

	memset(p, 0, sizeof(*p));
	p->credentials = credentials;
	snprintf(copy, sizeof(copy), "%s", origins);
	for (char *o = strtok_r(copy, "|", &save); o; o = strtok_r(NULL, "|", &save))
		sg_strv_push(&p->origins, o);
}

/* Parses "GET / HTTP/1.1" with Host and the given extra header lines
 * (CRLF-terminated, or ""); buf must outlive req. */
static int request_of(char *buf, size_t size, const char *headers, struct http_request *req)
{
	int status;
	int n = snprintf(buf, size, "GET /socket.io/?EIO=4 HTTP/1.1\r\nHost: x\r\n%s\r\n", headers);

	return http_request_parse(buf, (size_t)n, size, req, &status, NULL);
}

static void test_headers(void)
{
	static const struct {
		const char *origins;
		bool creds;
		const char *request; /* extra request header lines */
		int rc;
		const char *want;
	} cases[] = {
		/* CORS off: nothing, whatever the Origin */
		{ "", false, "Origin: https://evil.example\r\n", 0, "" },
		{ "", true, "", 0, "" },
		/* "*" without credentials */
		{ "*", false, "Origin: https://a.example\r\n", 0,
		  "Access-Control-Allow-Origin: *\r\n" },
		{ "*", false, "", 0, "Access-Control-Allow-Origin: *\r\n" },
		{ "https://a.example|*", false, "Origin: https://z.example\r\n", 0,
		  "Access-Control-Allow-Origin: *\r\n" },
		/* "*" with credentials: the Origin echoed */
		{ "*", true, "Origin: https://a.example\r\n", 0,
		  "Access-Control-Allow-Origin: https://a.example\r\nVary: Origin\r\n"
		  "Access-Control-Allow-Credentials: true\r\n" },
		{ "*", true, "", 0, "Vary: Origin\r\nAccess-Control-Allow-Credentials: true\r\n" },
		/* a list */
		{ "https://a.example", false, "Origin: https://a.example\r\n", 0,
		  "Access-Control-Allow-Origin: https://a.example\r\nVary: Origin\r\n" },
		{ "https://a.example|https://b.example", true, "Origin: https://b.example\r\n", 0,
		  "Access-Control-Allow-Origin: https://b.example\r\nVary: Origin\r\n"
		  "Access-Control-Allow-Credentials: true\r\n" },
		{ "https://a.example", false, "", 0,
		  "Access-Control-Allow-Origin: https://a.example\r\nVary: Origin\r\n" },
		{ "https://a.example|https://b.example", false, "", 0, "Vary: Origin\r\n" },
		{ "null", false, "Origin: null\r\n", 0,
		  "Access-Control-Allow-Origin: null\r\nVary: Origin\r\n" },
		/* refused: not listed, compared exactly */
		{ "https://a.example", false, "Origin: https://b.example\r\n", -1, "" },
		{ "https://a.example", true, "Origin: https://A.example\r\n", -1, "" },
		{ "https://a.example", false, "Origin: https://a.example.evil\r\n", -1, "" },
		{ "https://a.example", false, "Origin: https://a.exampl\r\n", -1, "" },
		{ "https://a.example", false, "Origin: https://a.example/\r\n", -1, "" },
		{ "https://a.example", false, "Origin: \r\n", -1, "" },
		/* refused: bytes that could split the answer, even with "*" */
		{ "*", true, "Origin: https://a.example\tX\r\n", -1, "" },
		{ "*", false, "Origin: https://caf\xc3\xa9.example\r\n", -1, "" },
		/* the first Origin header counts */
		{ "https://a.example", false, "Origin: https://a.example\r\nOrigin: https://b\r\n",
		  0, "Access-Control-Allow-Origin: https://a.example\r\nVary: Origin\r\n" },
	};

	for (size_t i = 0; i < SG_ARRAY_LEN(cases); i++) {
		struct cors_policy p;
		struct http_request req;
		struct sg_buf out;
		char buf[512];

		policy_of(&p, cases[i].origins, cases[i].creds);
		CHECK_INT(request_of(buf, sizeof(buf), cases[i].request, &req), 1);
		CHECK(cors_enabled(&p) == (cases[i].origins[0] != '\0'));
		sg_buf_init(&out);
		sg_buf_append_str(&out, "|");
		CHECK_INT(cors_headers(&p, &req, &out), cases[i].rc);
		CHECK_STR(out.data + 1, cases[i].want);
		if (strcmp(out.data + 1, cases[i].want) != 0)
			fprintf(stderr, "  case %zu\n", i);
		sg_buf_fini(&out);
		sg_strv_free(&p.origins);
	}
}

static void test_preflight(void)
{
	static const char methods[] =
		"Access-Control-Allow-Methods: GET,HEAD,PUT,PATCH,POST,DELETE\r\n";
	static const struct {
		const char *request;
		const char *want_after_methods;
	} cases[] = {
		{ "", "" },
		{ "Access-Control-Request-Headers: x-token\r\n",
		  "Access-Control-Allow-Headers: x-token\r\nVary: Access-Control-Request-Headers\r\n" },
		{ "access-control-request-headers:  content-type, x-a \r\n",
		  "Access-Control-Allow-Headers: content-type, x-a\r\n"
		  "Vary: Access-Control-Request-Headers\r\n" },
		/* not copied when it could split the answer */
		{ "Access-Control-Request-Headers: x-a\tx-b\r\n", "" },
		{ "Access-Control-Request-Headers: x-\xc3\xa9\r\n", "" },
	};

	for (size_t i = 0; i < SG_ARRAY_LEN(cases); i++) {
		struct http_request req;
		struct sg_buf out, want;
		char buf[512];

		CHECK_INT(request_of(buf, sizeof(buf), cases[i].request, &req), 1);
		sg_buf_init(&out);
		sg_buf_init(&want);
		sg_buf_printf(&want, "%s%s", methods, cases[i].want_after_methods);
		cors_preflight_headers(&req, &out);
		CHECK_STR(out.data, want.data);
		sg_buf_fini(&out);
		sg_buf_fini(&want);
	}
}

int main(void)
{
	RUN(test_headers);
	RUN(test_preflight);
	return UNIT_END();
}
