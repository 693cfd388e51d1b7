/*
 * test_auth_jwt.c: JWT verification and HMAC minting against vectors made by
 * an independent implementation (Node's crypto module and the openssl CLI,
 * tests/unit/cases/jwt/gen_vectors.js), pasted below.  now_ms is fixed at
 * 1700000000000 so exp/nbf cases are deterministic.  Key files are written to
 * a private temporary directory and removed at the end.
 *
 * Table-driven: the verifiers are built once from a table of configurations
 * (algorithms, secret, PEM and JWKS files, issuer, audience, leeway); the
 * verdicts are one table of {verifier, token, mutation of the token, time,
 * status}, the refused configurations one table of {configuration, message},
 * the reasons one table of {verifier, token, time, status, reason}.
 */
#include <stdlib.h>
#include <unistd.h>

#include "app/auth_jwt.h"
#include "core/base64.h"
#include "unit.h"

#define NOW_MS INT64_C(1700000000000)

/* BEGIN GENERATED VECTORS (node tests/unit/cases/jwt/gen_vectors.js) */
static const char SECRET[] = "siogate-unit-test-secret-0123456789";
static const char HS256_VALID[] =
	"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJhbGljZSIsImlzcyI6Imh0dHBzOi8vaXNzdWVyLmV"
	"4YW1wbGUiLCJhdWQiOiJzaW9nYXRlIiwiaWF0IjoxNjk5OTk5MDAwLCJleHAiOjE3MDAwMDM2MDB9.yB74tW2vLU"
	"d2BSS77lag2mxXMBvEIpLlyTGqeFXX028";
static const char HS384_VALID[] =
	"eyJhbGciOiJIUzM4NCIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJhbGljZSIsImlzcyI6Imh0dHBzOi8vaXNzdWVyLmV"
	"4YW1wbGUiLCJhdWQiOiJzaW9nYXRlIiwiaWF0IjoxNjk5OTk5MDAwLCJleHAiOjE3MDAwMDM2MDB9.k8rty6B2Up"
	"24n4OOSkJi-sTVUgG5YPo7Bwc8zbOy-mZyDha_VxZMx_4CAFMCOPg5";
static const char HS512_VALID[] =
	"eyJhbGciOiJIUzUxMiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJhbGljZSIsImlzcyI6Imh0dHBzOi8vaXNzdWVyLmV"
	"4YW1wbGUiLCJhdWQiOiJzaW9nYXRlIiwiaWF0IjoxNjk5OTk5MDAwLCJleHAiOjE3MDAwMDM2MDB9.akWFihmBSD"
	"DNkllp7C0pVo73Ag2Ba--oojZh7iS8-E1e90ErPROWX180GZEKV8UUoV-WUhGd3JsVYrRdYlodIQ";
static const char HS256_EXPIRED_10S[] =
	"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJhbGljZSIsImlzcyI6Imh0dHBzOi8vaXNzdWVyLmV"
	"4YW1wbGUiLCJhdWQiOiJzaW9nYXRlIiwiaWF0IjoxNjk5OTk5MDAwLCJleHAiOjE2OTk5OTk5OTB9.GrS2YsKPBy"
	"qoI3rSXNChaCf1gvofsqvbhMXU0F23rII";
static const char HS256_EXP_NOW[] =
	"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJhbGljZSIsImlzcyI6Imh0dHBzOi8vaXNzdWVyLmV"
	"4YW1wbGUiLCJhdWQiOiJzaW9nYXRlIiwiaWF0IjoxNjk5OTk5MDAwLCJleHAiOjE3MDAwMDAwMDB9.TWrk2cn8f3"
	"_Tu4MKhMGadyD-ASCf09S0s9oRm15t1LA";
static const char HS256_EXP_FRACTION[] =
	"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJhbGljZSIsImlzcyI6Imh0dHBzOi8vaXNzdWVyLmV"
	"4YW1wbGUiLCJhdWQiOiJzaW9nYXRlIiwiaWF0IjoxNjk5OTk5MDAwLCJleHAiOjE3MDAwMDAwMDAuNX0.5T_n_Ni"
	"uhxF3uqk8QQeD1gRoOTMeL6MDqJKYaWUyHHg";
static const char HS256_NBF_60S[] =
	"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJhbGljZSIsImlzcyI6Imh0dHBzOi8vaXNzdWVyLmV"
	"4YW1wbGUiLCJhdWQiOiJzaW9nYXRlIiwiaWF0IjoxNjk5OTk5MDAwLCJleHAiOjE3MDAwMDM2MDAsIm5iZiI6MTc"
	"wMDAwMDA2MH0.b2EAbsIG_YuppQlKeuoOhX4XFYeboPYrvSIS3YpqkY4";
static const char HS256_EXP_STRING[] =
	"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJhbGljZSIsImlzcyI6Imh0dHBzOi8vaXNzdWVyLmV"
	"4YW1wbGUiLCJhdWQiOiJzaW9nYXRlIiwiaWF0IjoxNjk5OTk5MDAwLCJleHAiOiIxNzAwMDAzNjAwIn0.WoFTEH3"
	"XiLAh6q-Lnr-WVwcoW6nOY55aQ54g5ftaMp8";
static const char HS256_NBF_BOOL[] =
	"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJhbGljZSIsImlzcyI6Imh0dHBzOi8vaXNzdWVyLmV"
	"4YW1wbGUiLCJhdWQiOiJzaW9nYXRlIiwiaWF0IjoxNjk5OTk5MDAwLCJleHAiOjE3MDAwMDM2MDAsIm5iZiI6dHJ"
	"1ZX0.i-KgwjL8UJUnzXYjQ3AXW56N3THlKDueG5XzW6OQxG4";
static const char HS256_NO_EXP[] =
	"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJhbGljZSIsImlzcyI6Imh0dHBzOi8vaXNzdWVyLmV"
	"4YW1wbGUiLCJhdWQiOiJzaW9nYXRlIiwiaWF0IjoxNjk5OTk5MDAwfQ.VZyQa9sMF_D3LMQaMdOSFmVmNTHrgH0T"
	"6uk0I4XQpcI";
static const char HS256_ISS_EVIL[] =
	"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJhbGljZSIsImlzcyI6Imh0dHBzOi8vZXZpbC5leGF"
	"tcGxlIiwiYXVkIjoic2lvZ2F0ZSIsImlhdCI6MTY5OTk5OTAwMCwiZXhwIjoxNzAwMDAzNjAwfQ.-lodbDP1aPPg"
	"KOSZVZXc6z3xdHbPtRmVKI2coic2Y9Y";
static const char HS256_ISS_MISSING[] =
	"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJhbGljZSIsImF1ZCI6InNpb2dhdGUiLCJpYXQiOjE"
	"2OTk5OTkwMDAsImV4cCI6MTcwMDAwMzYwMH0.wQ9LdnUSoPl5TWmcrgkX89QH2qk8GZD9qzDNRTMOpPc";
static const char HS256_AUD_OTHER[] =
	"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJhbGljZSIsImlzcyI6Imh0dHBzOi8vaXNzdWVyLmV"
	"4YW1wbGUiLCJhdWQiOiJvdGhlciIsImlhdCI6MTY5OTk5OTAwMCwiZXhwIjoxNzAwMDAzNjAwfQ.5_8d7bB3YBp0"
	"uv00qFm6pPbWp_yZ_ZDPAkJgFPz47zk";
static const char HS256_AUD_ARRAY_OK[] =
	"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJhbGljZSIsImlzcyI6Imh0dHBzOi8vaXNzdWVyLmV"
	"4YW1wbGUiLCJhdWQiOlsiYXBpIiwic2lvZ2F0ZSJdLCJpYXQiOjE2OTk5OTkwMDAsImV4cCI6MTcwMDAwMzYwMH0"
	".7cfTRvgJz_4PXhSHvb2kirtLcAP1MhiOBZHZ0gsjpJQ";
static const char HS256_AUD_ARRAY_BAD[] =
	"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJhbGljZSIsImlzcyI6Imh0dHBzOi8vaXNzdWVyLmV"
	"4YW1wbGUiLCJhdWQiOlsiYXBpIiwid2ViIl0sImlhdCI6MTY5OTk5OTAwMCwiZXhwIjoxNzAwMDAzNjAwfQ.vqpQ"
	"9GEFjEPzOF0YUkYXl4grgzwtn6QoBW2b5er9YiY";
static const char HS256_AUD_MISSING[] =
	"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJhbGljZSIsImlzcyI6Imh0dHBzOi8vaXNzdWVyLmV"
	"4YW1wbGUiLCJpYXQiOjE2OTk5OTkwMDAsImV4cCI6MTcwMDAwMzYwMH0.HVBPAyHJoDzZbr7KZl9fWYfhzaYfBNN"
	"yOb6qVzoYRj4";
static const char HS256_PAYLOAD_ARRAY[] =
	"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.WzEsMiwzXQ.zAiXTay5wqYXj29kWKFwSD6Urt3QbM7qOQSvmB5x"
	"Tmk";
static const char HS256_PAYLOAD_NOT_JSON[] =
	"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.aGVsbG8.CgT3sdwWphe1o-cCy2WklqLIWnYKDpGeyQrsB_QCYl4";
static const char HS256_HEADER_NOT_JSON[] =
	"eyJhbGciOiJIUzI1NiI.eyJzdWIiOiJhbGljZSIsImlzcyI6Imh0dHBzOi8vaXNzdWVyLmV4YW1wbGUiLCJhdWQi"
	"OiJzaW9nYXRlIiwiaWF0IjoxNjk5OTk5MDAwLCJleHAiOjE3MDAwMDM2MDB9.1nAzq01Nml48aYpriJL5Ic8nooc"
	"kjrpF08ce4WcCYZc";
static const char HS256_HEADER_ARRAY[] =
	"WyJIUzI1NiJd.eyJzdWIiOiJhbGljZSIsImlzcyI6Imh0dHBzOi8vaXNzdWVyLmV4YW1wbGUiLCJhdWQiOiJzaW9"
	"nYXRlIiwiaWF0IjoxNjk5OTk5MDAwLCJleHAiOjE3MDAwMDM2MDB9.Lf_el090jwinz6E8b6c5BjQSNXZjBb4jjA"
	"1YR2mkQGw";
static const char HS256_HEADER_NO_ALG[] =
	"eyJ0eXAiOiJKV1QifQ.eyJzdWIiOiJhbGljZSIsImlzcyI6Imh0dHBzOi8vaXNzdWVyLmV4YW1wbGUiLCJhdWQiO"
	"iJzaW9nYXRlIiwiaWF0IjoxNjk5OTk5MDAwLCJleHAiOjE3MDAwMDM2MDB9.lF1xhmeSmJTAISt2YbPH3at5joZG"
	"ZPZ-FhQC6sIkepw";
static const char HS256_HEADER_ALG_NUMBER[] =
	"eyJhbGciOjI1Nn0.eyJzdWIiOiJhbGljZSIsImlzcyI6Imh0dHBzOi8vaXNzdWVyLmV4YW1wbGUiLCJhdWQiOiJz"
	"aW9nYXRlIiwiaWF0IjoxNjk5OTk5MDAwLCJleHAiOjE3MDAwMDM2MDB9.wSiyyFlRwtxmt2KJ9S0mXGS9ycAp9Yi"
	"EMiKtiH2Hf9I";
static const char HS256_HEADER_CRIT[] =
	"eyJhbGciOiJIUzI1NiIsImNyaXQiOlsiZXhwIl0sImV4cCI6MX0.eyJzdWIiOiJhbGljZSIsImlzcyI6Imh0dHBz"
	"Oi8vaXNzdWVyLmV4YW1wbGUiLCJhdWQiOiJzaW9nYXRlIiwiaWF0IjoxNjk5OTk5MDAwLCJleHAiOjE3MDAwMDM2"
	"MDB9.LxTBEWeWDOmBAjpV096iZIAi-VGBifJtDOsyPnV4doo";
static const char HS256_HEADER_KID_NUMBER[] =
	"eyJhbGciOiJIUzI1NiIsImtpZCI6N30.eyJzdWIiOiJhbGljZSIsImlzcyI6Imh0dHBzOi8vaXNzdWVyLmV4YW1w"
	"bGUiLCJhdWQiOiJzaW9nYXRlIiwiaWF0IjoxNjk5OTk5MDAwLCJleHAiOjE3MDAwMDM2MDB9.KZZlTeVmsziPmB3"
	"NlRGMJTRQ1-gAGIr8fHJoLjHDQ8w";
static const char HS256_HEADER_DUP_ALG[] =
	"eyJhbGciOiJIUzI1NiIsImFsZyI6Im5vbmUifQ.eyJzdWIiOiJhbGljZSIsImlzcyI6Imh0dHBzOi8vaXNzdWVyL"
	"mV4YW1wbGUiLCJhdWQiOiJzaW9nYXRlIiwiaWF0IjoxNjk5OTk5MDAwLCJleHAiOjE3MDAwMDM2MDB9.B4jGY7Ku"
	"dgZwaM4VdxDnblSVU5_-LikRITrKbktPQF0";
static const char HS256_LOWERCASE_ALG[] =
	"eyJhbGciOiJoczI1NiJ9.eyJzdWIiOiJhbGljZSIsImlzcyI6Imh0dHBzOi8vaXNzdWVyLmV4YW1wbGUiLCJhdWQ"
	"iOiJzaW9nYXRlIiwiaWF0IjoxNjk5OTk5MDAwLCJleHAiOjE3MDAwMDM2MDB9.lnspbZQI9_y3HCoIq_GWtp4p2B"
	"M1OYflxMo8HLnbA-k";
static const char NONE_TOKEN[] =
	"eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJzdWIiOiJhbGljZSIsImlzcyI6Imh0dHBzOi8vaXNzdWVyLmV4"
	"YW1wbGUiLCJhdWQiOiJzaW9nYXRlIiwiaWF0IjoxNjk5OTk5MDAwLCJleHAiOjE3MDAwMDM2MDB9.";
static const char NONE_UPPER_TOKEN[] =
	"eyJhbGciOiJOT05FIiwidHlwIjoiSldUIn0.eyJzdWIiOiJhbGljZSIsImlzcyI6Imh0dHBzOi8vaXNzdWVyLmV4"
	"YW1wbGUiLCJhdWQiOiJzaW9nYXRlIiwiaWF0IjoxNjk5OTk5MDAwLCJleHAiOjE3MDAwMDM2MDB9.";
static const char NONE_MIXED_SIGNED[] =
	"eyJhbGciOiJuT25FIiwidHlwIjoiSldUIn0.eyJzdWIiOiJhbGljZSIsImlzcyI6Imh0dHBzOi8vaXNzdWVyLmV4"
	"YW1wbGUiLCJhdWQiOiJzaW9nYXRlIiwiaWF0IjoxNjk5OTk5MDAwLCJleHAiOjE3MDAwMDM2MDB9.TFW89VA6ptk"
	"TmtPoX9IwfwBwnZtFmu0oVicGGsEM0fk";
static const char RT_HS256[] =
	"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJhbGljZSIsImlhdCI6MTcwMDAwMDAwMCwiZXhwIjo"
	"xNzAwMDAzNjAwLCJyb29tIjoiYS9iIiwibmFtZSI6Ilpvw6sifQ.Fjq4XX-bUMWK5vOd0GIT2kqNdURckmbZvy82"
	"jbsSl_o";
static const char RT_HS512_KID[] =
	"eyJhbGciOiJIUzUxMiIsInR5cCI6IkpXVCIsImtpZCI6ImsxIn0.eyJzdWIiOiJhbGljZSIsImlhdCI6MTcwMDAw"
	"MDAwMCwiZXhwIjoxNzAwMDAzNjAwLCJyb29tIjoiYS9iIiwibmFtZSI6Ilpvw6sifQ.0QeK1p0hQNSqyJ2k21Z0t"
	"AHN2NSmsgJ4UyosDBJDJTuyfQ7E4lTIKdhcVKTIbavdEf96P5QoxP-BzgFuibOdwg";
static const char RSA1_PEM[] =
	"-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAm+gS0l2D79zmSWgV"
	"cqXO\nMBy53E1V9IZgY9CsareyhJsftaktbLhRSuoOYmM69mDAPpR/+QWBhlYGGhtjW6Td\n5tQIPZWBtwOLKTIe"
	"6GwGpehB3cRNS1JLR40P2a4dFg8PQf8/G3S5RuGWzoe7GeDn\n7xRPVTg4rvdNo9pBCsoKk46Ixdt4USVAreVmiW"
	"Ut5HIS38MS40oSktOiQoqTFKCA\nyVPlHHqMf8dBtIapaNRWWTTAiDO7dH5aX4ECWhvUpOyWISVYxY3y+cDR6Q0F"
	"zffZ\nxZ1hoKPA1yLI2E3eSxENLwk5xBovMi/sB8+SJWeO8+e45nYhubsD0roKiEVPcdFd\nlwIDAQAB\n-----E"
	"ND PUBLIC KEY-----\n";
static const char RSA1_PKCS1_PEM[] =
	"-----BEGIN RSA PUBLIC KEY-----\nMIIBCgKCAQEAm+gS0l2D79zmSWgVcqXOMBy53E1V9IZgY9CsareyhJsf"
	"taktbLhR\nSuoOYmM69mDAPpR/+QWBhlYGGhtjW6Td5tQIPZWBtwOLKTIe6GwGpehB3cRNS1JL\nR40P2a4dFg8P"
	"Qf8/G3S5RuGWzoe7GeDn7xRPVTg4rvdNo9pBCsoKk46Ixdt4USVA\nreVmiWUt5HIS38MS40oSktOiQoqTFKCAyV"
	"PlHHqMf8dBtIapaNRWWTTAiDO7dH5a\nX4ECWhvUpOyWISVYxY3y+cDR6Q0FzffZxZ1hoKPA1yLI2E3eSxENLwk5"
	"xBovMi/s\nB8+SJWeO8+e45nYhubsD0roKiEVPcdFdlwIDAQAB\n-----END RSA PUBLIC KEY-----\n";
static const char RSA_SMALL_PEM[] =
	"-----BEGIN PUBLIC KEY-----\nMIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDc9bqYfykLMLRXS0gQXNbQ"
	"jL1B\nv1uakwCW/5ITatCIXlDqKEAT4skGYc6FoWAiQKrFVu5MinF2w2xl0d2l+Z4LEGCd\notCcp/fVRkOl/rBj"
	"P1xq8HQjk0eVmhUqkN1F/pxLz/Lzci66vmSgSBJJqOMBRAQN\nL20dDjlX2R5pBLt0pwIDAQAB\n-----END PUB"
	"LIC KEY-----\n";
static const char EC256_PEM[] =
	"-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEGEVwKqsZVDy2szl9QHqioGT9"
	"2vgz\nv4S0a9gvYbCZ5DRZeL3FJp1eUzRaRX22uYSaPSw3wUj6oqNbVTlCEcawKg==\n-----END PUBLIC KEY-"
	"----\n";
static const char EC384_PEM[] =
	"-----BEGIN PUBLIC KEY-----\nMHYwEAYHKoZIzj0CAQYFK4EEACIDYgAE1A3Ix+KRvhzSt+XI/0mVrNnaXsHm"
	"M5pb\nQA4Awb8Wp41/p1FJdbXOezCXMR+gfROaOKqfV9lXVPoXFlWVzyCGxycodvzo+RgC\nxJeUP3/6zfgotTH1"
	"p+n+GdsPtbbrwJKD\n-----END PUBLIC KEY-----\n";
static const char EC521_PEM[] =
	"-----BEGIN PUBLIC KEY-----\nMIGbMBAGByqGSM49AgEGBSuBBAAjA4GGAAQBCiGhy3RfGkt9w7g4KqWmn1co"
	"1Jsh\nSjF3MemRncL6db4QLDrFqbXdnl7JWzwpxxtgDTNKIxSNzlA8d9+az4oFps8A5PxM\nciH5xCJKiQicwLvp"
	"jXV6cXGLselJ++M+o1yy6PkuMEe9ebxQBww9TzQ7MZVq7S4F\nUusY97ijMrfHVB0jImA=\n-----END PUBLIC "
	"KEY-----\n";
static const char ED25519_PEM[] =
	"-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEAky5mnzKZwNYmKb7w2gTJrIrxLoTA68orfzjM9eFznGY="
	"\n-----END PUBLIC KEY-----\n";
static const char RSA1_CERT_PEM[] =
	"-----BEGIN CERTIFICATE-----\nMIIDDzCCAfegAwIBAgIUYl+Vu5sltiEnE1zPHwNO7bxYk5YwDQYJKoZIhvc"
	"NAQEL\nBQAwFzEVMBMGA1UEAwwMc2lvZ2F0ZS10ZXN0MB4XDTI2MTEyNjEwMjUxNVoXDTM2\nMTEyMzEwMjUxNVo"
	"wFzEVMBMGA1UEAwwMc2lvZ2F0ZS10ZXN0MIIBIjANBgkqhkiG\n9w0BAQEFAAOCAQ8AMIIBCgKCAQEAm+gS0l2D7"
	"9zmSWgVcqXOMBy53E1V9IZgY9Cs\nareyhJsftaktbLhRSuoOYmM69mDAPpR/+QWBhlYGGhtjW6Td5tQIPZWBtwO"
	"LKTIe\n6GwGpehB3cRNS1JLR40P2a4dFg8PQf8/G3S5RuGWzoe7GeDn7xRPVTg4rvdNo9pB\nCsoKk46Ixdt4USV"
	"AreVmiWUt5HIS38MS40oSktOiQoqTFKCAyVPlHHqMf8dBtIap\naNRWWTTAiDO7dH5aX4ECWhvUpOyWISVYxY3y+"
	"cDR6Q0FzffZxZ1hoKPA1yLI2E3e\nSxENLwk5xBovMi/sB8+SJWeO8+e45nYhubsD0roKiEVPcdFdlwIDAQABo1M"
	"wUTAd\nBgNVHQ4EFgQU3Gu5wseoPS77PG1dfbx0+7dnrpwwHwYDVR0jBBgwFoAU3Gu5wseo\nPS77PG1dfbx0+7d"
	"nrpwwDwYDVR0TAQH/BAUwAwEB/zANBgkqhkiG9w0BAQsFAAOC\nAQEAGJYWrgy0vpd4DQT9teRL5TgV0ml9/Nvy4"
	"gvSBTxdXMf9R/uUTmII2yhJmdhq\nl2rKSjMaAkSDIduPVIrUunMtHPlSwqtVXA6SnJAGEeEDR5KtYwy1KLH425A"
	"s0MBM\nwuQE6tdONaY0jV82BME+7ibeIjuWknmWIkpjUcAbIBKOOik2CXWw/dJVNI7s1Q0O\n3XxLNWJ2+tY6fsd"
	"I37lbbshUlFKjObd9Uxir8dUL0I2EQWemBXaOyTPJKgA7toND\nTrC5FEVaE2B0r5iJdmoiNTPeRFfCg2ZmT628Q"
	"PwJwPCTpjwQNn+s3y1NMpZrAr12\nn98SANK8wyT1I2Z+Ar20UnlylQ==\n-----END CERTIFICATE-----\n";
static const char RS256_VALID[] =
	"eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJhbGljZSIsImlzcyI6Imh0dHBzOi8vaXNzdWVyLmV"
	"4YW1wbGUiLCJhdWQiOiJzaW9nYXRlIiwiaWF0IjoxNjk5OTk5MDAwLCJleHAiOjE3MDAwMDM2MDB9.X8EykgCOWy"
	"xzUC7bJZugOCwfIhKi_HHOnRpPQVWVQ8oO0QjLdoaxC7u7MwS5qMIP_PsPmUwmC6ohJREgCiO37RMg72qnR1Ye8B"
	"Q8XTrltmu63R-w8yPsrvNYTvM7eyu1Tkm6u-y0TpdJ2Uc9ZZ4HtJxUKi1HxONCA1g1wHaGqQQO-WzKzOWicqOcjZ"
	"7R6dMyQDcTgfWWEvIR6zcPh5_gPZ3_RYDA8kgJmovOJ3ZmYYa1rcrZ8VBTb2nBYnlOqbbPWXtREmVWKDBrKyvW0v"
	"4DUUuvbsGQIDjRwg6CWhA7RQiHRQFVUHZtg7KTsD0KcNbDWD76a5_1hQ4qT9NjQhmjcQ";
static const char RS384_VALID[] =
	"eyJhbGciOiJSUzM4NCIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJhbGljZSIsImlzcyI6Imh0dHBzOi8vaXNzdWVyLmV"
	"4YW1wbGUiLCJhdWQiOiJzaW9nYXRlIiwiaWF0IjoxNjk5OTk5MDAwLCJleHAiOjE3MDAwMDM2MDB9.WmCd15igqk"
	"9HWkqZ5fWb1APh5F2Zw8ROhHc-InrQJvgc_EOljYJqzJYyugEr9qjujvAdjmzU0xVcKJ_xzs4RmQNN8O_9cvo48u"
	"Po5HkeBicSJCwgxPB3ZZeoI1Mh7hWyEVIpnHQvk-TG_29-rRJ3TOrWVGhG83KMHyNbc1Qtf0dLAkLlf6AkOsk1Ht"
	"zjWbIWQMsviKcNHbFNm_Ni8E3A0EZQ7svgEuapuc6iDYjJtcd3vePoTr-it4OtVyr5Vq8Ywl7tidmpVvBhGROQR-"
	"D__0heNr0V8kqiCDcJH4JiKG0AJWsTTiKuSOeeyzWEyQXeZywiJeR01Yj2XT4PSllf_g";
static const char RS512_VALID[] =
	"eyJhbGciOiJSUzUxMiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJhbGljZSIsImlzcyI6Imh0dHBzOi8vaXNzdWVyLmV"
	"4YW1wbGUiLCJhdWQiOiJzaW9nYXRlIiwiaWF0IjoxNjk5OTk5MDAwLCJleHAiOjE3MDAwMDM2MDB9.D41RmMBx0k"
	"RT_by0MriS_ov7k1hKFtxOQb4ceGNZsTO8d_y8-bmwtQ2xSR7CCFc8P2v1fIL8J9j0_dLWe18Gae8CqF9cc3PSix"
	"vxdQIr8K5l8WF9wkma3gQP7Kh6_4LHq8AwG9mMX_VS-bUaKRhQ8E-yODfW2Q8eKyYcADc5UsmwxM-TiH8d6etSE1"
	"MEtFOddVyekrMxVHeNBezRUvoACipsjP7eSrAk4uNHoFDyizfQ3n75h3TLbA2LFb32NF3Vh8jOo-lpp6h4YYOXYi"
	"vI5Eflgjy5wPWOjuXgLH9xzoQtoRrP_cBcbfwh4rZUKJrPVLRevqHOXTqM1IeGBE3xxw";
static const char PS256_VALID[] =
	"eyJhbGciOiJQUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJhbGljZSIsImlzcyI6Imh0dHBzOi8vaXNzdWVyLmV"
	"4YW1wbGUiLCJhdWQiOiJzaW9nYXRlIiwiaWF0IjoxNjk5OTk5MDAwLCJleHAiOjE3MDAwMDM2MDB9.KKSJq1rX9F"
	"fhjVTc93saLKrZ8TuoHqngKbu6ZnsXYRfYC72e_Ui_Oj_Gqlu4esSU5q_uKNd9rS8gXVx74a--6GfsrPgGtR_HHG"
	"N2emJ9UZtDcrPLs7wJScWwjBwdcLLCeux_a2mxdmNu_ZRT8mjTNmxZmgs8C1tcQMtg-U6uoSSGbhXF5aWuzwTZqE"
	"cRNfKVD8WEHu4ITg4Pi6RDv2XXvjfLYadGD4wY3PCV3MXxHNsgh6eS0tk_jcNBuIxhkxt4xNCjMRzczt0ueCebXx"
	"eBhXcQltKwDYbDa2AktOGhTuMrPRXEwHNfdVm9qBWYIAjR3dg_Vubc1CrHgj_YfJKJOw";
static const char PS384_VALID[] =
	"eyJhbGciOiJQUzM4NCIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJhbGljZSIsImlzcyI6Imh0dHBzOi8vaXNzdWVyLmV"
	"4YW1wbGUiLCJhdWQiOiJzaW9nYXRlIiwiaWF0IjoxNjk5OTk5MDAwLCJleHAiOjE3MDAwMDM2MDB9.FvUmLf-_SR"
	"Z0XPXA9Onp3bwI0IHo1vdKuMWzgDZPa-0ZXM17_8ET_UqEoiBjiUhuhn6SsBsz2OrSOTzA8NUy9M1hKX4fzyXb6h"
	"SubDjAyw-QzGM9GaJ2FZC6U8BxXpD59uRoJMUvAdEYPDMYBDBcT0RHIgFupn2hC2SIN84UZs6W9ZGozvPfnZhJa-"
	"x2ZknfEPje7FET5aPIRX4UyxM8Fts4S396IxAsGpOZLsTMft8fwMMUd4KH-TfR0I1IQHnoJwHw8p9bY0ahBS7_hl"
	"oCGNjVuBP1_FsUvu6ZtDm3lOaSOrFoPjV9WnirAr7nFkp17VQNFmDuUv5D8WtvC26SfQ";
static const char PS512_VALID[] =
	"eyJhbGciOiJQUzUxMiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJhbGljZSIsImlzcyI6Imh0dHBzOi8vaXNzdWVyLmV"
	"4YW1wbGUiLCJhdWQiOiJzaW9nYXRlIiwiaWF0IjoxNjk5OTk5MDAwLCJleHAiOjE3MDAwMDM2MDB9.intjBn55a9"
	"XmWJra15yrhS64kPHkvXLbhkTFeF8lNKg5gSFE0wmKuExQsC3tHfJuZViFHIdp1qEXWGIqc0zeBsp3G2WiqOFNnV"
	"nwmJtMrpPw20LCsYs7TX4tNyahJjpNshxq-vJ3B5jPVcRaiRtxtRz25W5xinWLBN83cFWUUzTnUJDlk5cvpoIvdw"
	"0rYyNK6uSysuXitUVnPE1GfhB06C-TKmTEjkpi-r33fNEbm4vlVl3YjHJliFy4d-GigAoWF4hZsU_aMJzEYcWzGg"
	"fSbyivGJ4N1dF81TzMwrCg6Oj8MepPZ_rW1GlvO5QLKBSXig5kOli28dyPxzoZ9vxRXA";
static const char PS256_MAX_SALT[] =
	"eyJhbGciOiJQUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJhbGljZSIsImlzcyI6Imh0dHBzOi8vaXNzdWVyLmV"
	"4YW1wbGUiLCJhdWQiOiJzaW9nYXRlIiwiaWF0IjoxNjk5OTk5MDAwLCJleHAiOjE3MDAwMDM2MDB9.MwZOGihDul"
	"QbuJIrh-lCX3E5lHmUPm9mgKiWGD1iXD73i8QMVJwC97kWgp357_1aMt_ZV2x82AasyrJs_kXd2t34Y15aPtSEiY"
	"AVxw-DdR3dsxUvQBYy6OT3BxE6KAnD1UqHdKyw-2OZg9dmQB-5mOLKrqpBZKUng7mGz5RTh_4V7dh-AeewppKyzv"
	"BrZw5FjGTagtXhfbjDPfukSGdhp9cnpFTvu0EuvcyMoUhw5tepnllBVBrAwVXo4-OgHnHRP4NiXCwl21wcTaHejk"
	"hK91y2M08Z07ZRZ8rW_9XDHU6XMjm9EhfbGkso_1LnU6uqwA812KBoXiwycSob1HcC-w";
static const char PS256_HEADER_RS256_SIG[] =
	"eyJhbGciOiJQUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJhbGljZSIsImlzcyI6Imh0dHBzOi8vaXNzdWVyLmV"
	"4YW1wbGUiLCJhdWQiOiJzaW9nYXRlIiwiaWF0IjoxNjk5OTk5MDAwLCJleHAiOjE3MDAwMDM2MDB9.TZmho1YDOV"
	"PuaTZtAvEoqDWsCQOaXaqzMJMfD6KzgEUaTSbQAVQnnsOE2WjJz-fcHT43p5jFEyoK0W0nwaMo5bYPN_IxX7A6QJ"
	"641okJ5FNQ9lE9m3SpXSXQU9dCGjWwVnQsNYj1sbZefG9t85kZ4VEQ0uMnRtfTVcaJZW2iFDa6I_PSCfbSzeXR_3"
	"zprxmhHQA-cn1npqYVm0ryjCu37bEGf6XxRJWQ7BOXxlHaGMCWSo_FD8IzaTFx1O43sLMTyGmWZKqCB-ODYHMnTf"
	"EIoQMLwkwGAzg1ggJ8Sy97evQRdtRFYtsIQc6x8AmmJUln3Rj3qujC150n9Q2Ga4Dlxg";
static const char RS256_EXPIRED[] =
	"eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJhbGljZSIsImlzcyI6Imh0dHBzOi8vaXNzdWVyLmV"
	"4YW1wbGUiLCJhdWQiOiJzaW9nYXRlIiwiaWF0IjoxNjk5OTk5MDAwLCJleHAiOjE2OTk5OTk5OTB9.GQnyqPZrcf"
	"mjDuB3eDLym3PmT2Rg7fpNkXv8uDn1bEkPxEioK19ZmBaoXOmtPtknTCLNdpCTTNdT6jlcrOkm6dxERe9r4SeIgY"
	"rHNuDvuaAd4uCEw4f3LhdEZFaYzRtAOnbS4ZKqANVrJEggHkKagq2HZ4iW7jouocDlabdAta6z21uJzKvfIwxB_l"
	"SgbGCiawh7vCTvQIGaESo1eoO-TC3AsvLx3MTsfqg5u1Qdo1PP7jKnIwmEvX146B-_uRvdOcFqOlkb6a43CC7Hjz"
	"HOfvdLmWU0D0qT4oD4JWLvnLWg3KPwUWKrGS-OC2Kg4KWVsOUbBBg5yv1kBwAnYCZ8xw";
static const char ES256_VALID[] =
	"eyJhbGciOiJFUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJhbGljZSIsImlzcyI6Imh0dHBzOi8vaXNzdWVyLmV"
	"4YW1wbGUiLCJhdWQiOiJzaW9nYXRlIiwiaWF0IjoxNjk5OTk5MDAwLCJleHAiOjE3MDAwMDM2MDB9.s1CVOImSiH"
	"EI70pH8EJuEj_u2VJHRjKGnOPqTnJyZm-CTNNoQkYbDGZ6h2JSbyKmj3jEmFWp2cY3XrBRRz7Tow";
static const char ES256_DER_SIG[] =
	"eyJhbGciOiJFUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJhbGljZSIsImlzcyI6Imh0dHBzOi8vaXNzdWVyLmV"
	"4YW1wbGUiLCJhdWQiOiJzaW9nYXRlIiwiaWF0IjoxNjk5OTk5MDAwLCJleHAiOjE3MDAwMDM2MDB9.MEQCIC0VSe"
	"KX6dsSdPnFDT0jbSiH7R9k6KUwnJO5Af2_Lhy6AiBY_oKdtpyH_-LDOnrbttqZqb_DhoKXuUN0bs2O4DBIMQ";
static const char ES256_AS_ES384[] =
	"eyJhbGciOiJFUzM4NCIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJhbGljZSIsImlzcyI6Imh0dHBzOi8vaXNzdWVyLmV"
	"4YW1wbGUiLCJhdWQiOiJzaW9nYXRlIiwiaWF0IjoxNjk5OTk5MDAwLCJleHAiOjE3MDAwMDM2MDB9.se1auUhtUW"
	"JrIo9gT6RXG1W6T1HBR8kNph5Z2sUtpYh0r1yoigLz38mM1zac_QrFWABlKxIpx9WglVqNLPfs1Q";
static const char ES384_VALID[] =
	"eyJhbGciOiJFUzM4NCIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJhbGljZSIsImlzcyI6Imh0dHBzOi8vaXNzdWVyLmV"
	"4YW1wbGUiLCJhdWQiOiJzaW9nYXRlIiwiaWF0IjoxNjk5OTk5MDAwLCJleHAiOjE3MDAwMDM2MDB9.shWCaQSdAx"
	"Sn5_5n92OY0OfM9qeHyy1i5WCN4-e7L506jNYGyPSnoJ5a5h5j6AeQ66b_u0Gjb7H50M3516p1N7C8JRmIm9cAWi"
	"q08L44Vf2chgn2Fgni6scotcusYfGC";
static const char EDDSA_VALID[] =
	"eyJhbGciOiJFZERTQSIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJhbGljZSIsImlzcyI6Imh0dHBzOi8vaXNzdWVyLmV"
	"4YW1wbGUiLCJhdWQiOiJzaW9nYXRlIiwiaWF0IjoxNjk5OTk5MDAwLCJleHAiOjE3MDAwMDM2MDB9.RvQXnOLuNC"
	"geDbTVZF4QM3W4_y4wE2k3yHkeGzxHqsFom3r3bkZPAFtgo0skz2DeUVY0-VZW4HcN-F5vyF83AA";
static const char HS256_KEYED_WITH_RSA1_PEM[] =
	"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJhbGljZSIsImlzcyI6Imh0dHBzOi8vaXNzdWVyLmV"
	"4YW1wbGUiLCJhdWQiOiJzaW9nYXRlIiwiaWF0IjoxNjk5OTk5MDAwLCJleHAiOjE3MDAwMDM2MDB9.-PWwfv01eS"
	"baTiTt3BKopNAUALdvpU4NdG4IWbAMQqo";
static const char JWKS[] =
	"{\"keys\":[{\"kty\":\"oct\",\"kid\":\"oct-1\",\"k\":\"c2lvZ2F0ZS11bml0LXRlc3Qtc2VjcmV0LT"
	"AxMjM0NTY3ODk\"},{\"kty\":\"RSA\",\"n\":\"m-gS0l2D79zmSWgVcqXOMBy53E1V9IZgY9CsareyhJsfta"
	"ktbLhRSuoOYmM69mDAPpR_-QWBhlYGGhtjW6Td5tQIPZWBtwOLKTIe6GwGpehB3cRNS1JLR40P2a4dFg8PQf8_G3"
	"S5RuGWzoe7GeDn7xRPVTg4rvdNo9pBCsoKk46Ixdt4USVAreVmiWUt5HIS38MS40oSktOiQoqTFKCAyVPlHHqMf8"
	"dBtIapaNRWWTTAiDO7dH5aX4ECWhvUpOyWISVYxY3y-cDR6Q0FzffZxZ1hoKPA1yLI2E3eSxENLwk5xBovMi_sB8"
	"-SJWeO8-e45nYhubsD0roKiEVPcdFdlw\",\"e\":\"AQAB\",\"kid\":\"rsa-1\",\"use\":\"sig\"},{\""
	"kty\":\"RSA\",\"n\":\"vHadiCq5pAY_OKVYUVTJpxwYDJNfw2Vo6mFRvpH56GHV7Wc3hhLiolGcfprXKYgp0f"
	"lSE9YmHHF_02z9q76jkiKs2al9dXHzVgDd40DhTRO1FQrmxhTyztCiXOXXvq4ZuHImCt0_d4SiVT38muq18OlNx_"
	"9Tc_-Gj5RP325wyHYcTmTdi00LpmcFdN9SPl9S0W1gKpzbnlTzRnM2m-TUTFBfwCMsTal6TiySk2zqoHKfmJeGuo"
	"euizx9uxxnWm5MyFDV-59-0hLPNJZI7VM9_Gfk9qhuKR19QfaZmO1KxckxDstsVpM1Qf2WEMsWttruZ2g2yfVQ88"
	"3yzXr5i5u-8Q\",\"e\":\"AQAB\",\"kid\":\"rsa-2\",\"alg\":\"RS256\"},{\"kty\":\"RSA\",\"n"
	"\":\"3PW6mH8pCzC0V0tIEFzW0Iy9Qb9bmpMAlv-SE2rQiF5Q6ihAE-LJBmHOhaFgIkCqxVbuTIpxdsNsZdHdpfm"
	"eCxBgnaLQnKf31UZDpf6wYz9cavB0I5NHlZoVKpDdRf6cS8_y83Iuur5koEgSSajjAUQEDS9tHQ45V9keaQS7dKc"
	"\",\"e\":\"AQAB\",\"kid\":\"rsa-enc\",\"use\":\"enc\"},{\"kty\":\"EC\",\"x\":\"GEVwKqsZV"
	"Dy2szl9QHqioGT92vgzv4S0a9gvYbCZ5DQ\",\"y\":\"WXi9xSadXlM0WkV9trmEmj0sN8FI-qKjW1U5QhHGsCo"
	"\",\"crv\":\"P-256\",\"kid\":\"ec-256\"},{\"kty\":\"EC\",\"x\":\"1A3Ix-KRvhzSt-XI_0mVrNn"
	"aXsHmM5pbQA4Awb8Wp41_p1FJdbXOezCXMR-gfROa\",\"y\":\"OKqfV9lXVPoXFlWVzyCGxycodvzo-RgCxJeU"
	"P3_6zfgotTH1p-n-GdsPtbbrwJKD\",\"crv\":\"P-384\",\"kid\":\"ec-384\"},{\"kty\":\"EC\",\"x"
	"\":\"AQohoct0XxpLfcO4OCqlpp9XKNSbIUoxdzHpkZ3C-nW-ECw6xam13Z5eyVs8KccbYA0zSiMUjc5QPHffms-"
	"KBabP\",\"y\":\"AOT8THIh-cQiSokInMC76Y11enFxi7HpSfvjPqNcsuj5LjBHvXm8UAcMPU80OzGVau0uBVLr"
	"GPe4ozK3x1QdIyJg\",\"crv\":\"P-521\",\"kid\":\"ec-521\"},{\"crv\":\"Ed25519\",\"x\":\"ky"
	"5mnzKZwNYmKb7w2gTJrIrxLoTA68orfzjM9eFznGY\",\"kty\":\"OKP\",\"kid\":\"ed-1\"}]}";
static const char JWK_RSA1_N[] =
	"m-gS0l2D79zmSWgVcqXOMBy53E1V9IZgY9CsareyhJsftaktbLhRSuoOYmM69mDAPpR_-QWBhlYGGhtjW6Td5tQI"
	"PZWBtwOLKTIe6GwGpehB3cRNS1JLR40P2a4dFg8PQf8_G3S5RuGWzoe7GeDn7xRPVTg4rvdNo9pBCsoKk46Ixdt4"
	"USVAreVmiWUt5HIS38MS40oSktOiQoqTFKCAyVPlHHqMf8dBtIapaNRWWTTAiDO7dH5aX4ECWhvUpOyWISVYxY3y"
	"-cDR6Q0FzffZxZ1hoKPA1yLI2E3eSxENLwk5xBovMi_sB8-SJWeO8-e45nYhubsD0roKiEVPcdFdlw";
static const char JWK_EC256_X[] = "GEVwKqsZVDy2szl9QHqioGT92vgzv4S0a9gvYbCZ5DQ";
static const char JWK_EC256_Y[] = "WXi9xSadXlM0WkV9trmEmj0sN8FI-qKjW1U5QhHGsCo";
static const char JWK_EC384_Y[] =
	"OKqfV9lXVPoXFlWVzyCGxycodvzo-RgCxJeUP3_6zfgotTH1p-n-GdsPtbbrwJKD";
static const char JWKS_RS256_RSA2_KID2[] =
	"eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCIsImtpZCI6InJzYS0yIn0.eyJzdWIiOiJhbGljZSIsImlzcyI6Imh0"
	"dHBzOi8vaXNzdWVyLmV4YW1wbGUiLCJhdWQiOiJzaW9nYXRlIiwiaWF0IjoxNjk5OTk5MDAwLCJleHAiOjE3MDAw"
	"MDM2MDB9.aZMN8fXlfhkDA9O7hnZWTyRNzfzfK7_ORIe7xFJ9yM6VmAHMFefZvYL62Iw1dXdItIKrJy6JIzAPZgW"
	"XTDXfNpDbZ2iRza4xcUjeDgb6A41-zBUDlrhke4ND9Tqz0X5iiksGSeLsDoh4gSAfoOnN9tQjgNGvZHuWDfDlv63"
	"n-Dn6NwCj2rH0OcKJRsgTcp1IaGmhVvIcmonl4xz_wKCWsCu1PKk8vNDMrDHrmBDMN3w7RV8yF6kuADyMMR-YsSP"
	"dPWEvv0kx0dcBJsTpSBSrR5SuQSBHoE-JaB-CfzDb_c3PuyfrbQFHx5hqnodnYz7FGhgystrjvgiHnzlmRManTw";
static const char JWKS_RS256_RSA2_KID1[] =
	"eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCIsImtpZCI6InJzYS0xIn0.eyJzdWIiOiJhbGljZSIsImlzcyI6Imh0"
	"dHBzOi8vaXNzdWVyLmV4YW1wbGUiLCJhdWQiOiJzaW9nYXRlIiwiaWF0IjoxNjk5OTk5MDAwLCJleHAiOjE3MDAw"
	"MDM2MDB9.qya9u27n0WCmqlyazeJpw7Df4_2JJYrNGrgzXlwdhWXgMOeSIp2aA2Oicba7rfSxw3Wa2KoqIZzWCj9"
	"A1NkSQ4OGKL7swYcF5NxD-JC8vO2fzDpqQ9jSNcSW_WRdba3g1eMyFN4OMFWiLcxD2Q9cpb9ybAGVZ2ILnEc4TON"
	"39meVJiOcENITZqb5raIBWNiQ6NPU3i3WjhnznsSg-Elu3J2ncLjRlOeAnpmeaZrwUWSoVbMQcqasQRzV5rxIaKq"
	"MIWIpxLbAXfLyRPLV1FOgMU57SEKj0uRGsiV_ehXAnWJABG_6xJww2J6SwrRUDiuj4l88nCG1qzTHdVnscE04zg";
static const char JWKS_RS256_RSA2_KID9[] =
	"eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCIsImtpZCI6InJzYS05In0.eyJzdWIiOiJhbGljZSIsImlzcyI6Imh0"
	"dHBzOi8vaXNzdWVyLmV4YW1wbGUiLCJhdWQiOiJzaW9nYXRlIiwiaWF0IjoxNjk5OTk5MDAwLCJleHAiOjE3MDAw"
	"MDM2MDB9.FgtitF4PIX4T-tdZPLSSxlvEcMQFlxdhnYG5yJpupXyGmEIQwD3DQ9Xq26_WofDZeBYCeOczyFMYqi0"
	"Bt21xPJRkhXAI7c3HvPmsYykMfudzNA_LVTEoexvv9JjFBR97t2URIdwywsooRQcn9iDS5ZwX_cfL7CSamLEe-CU"
	"EeBWTRxRGGZmhb96BTslvNUKG02eNzQwK2wm9JaZzhhqRK3D1jX5DvTM99_vXhPIqAqRBgUVW7Q5QvgZa1kLE-lH"
	"f5HR17zz4TON7Tc3g6M_sStbK5TEHA3XlIephdTkNH-_cukqYb7BN-2yufpNv6g-R5169a360xL4BGxWlJ8TEyA";
static const char JWKS_RS256_RSA2_NOKID[] =
	"eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJhbGljZSIsImlzcyI6Imh0dHBzOi8vaXNzdWVyLmV"
	"4YW1wbGUiLCJhdWQiOiJzaW9nYXRlIiwiaWF0IjoxNjk5OTk5MDAwLCJleHAiOjE3MDAwMDM2MDB9.Rn-yAXXyQ7"
	"yZx5gp6AHmO0sKE--SuphfKawGeRyKrLw5Oecn6LeHfo8j20wyRi42ekdO8NLoM9ygnvPoX8B0Z4mc0ic8aRqlhE"
	"3dOd5r5PBOrZNy5agRSqmBbp9Ygq770aobngjrbXB_nQXBuKGfDnKdqhbub92YyhsEuyasOQkCUp2ZLib5T7Xvrj"
	"Vb_E8oo1pSAdu0ifGKhxNihwBFUeoPi37fOQAxDX1YHS8AnYj4_Ht36tln6z6HE8oOKKPJv0bmOPF86ZCf8XDdEq"
	"kg7KmHppuqs1tYoJiH86iBqEAfMZ5W53lwTEt2lzCG7q0-j7CbWvFfhFwvZchL4IQl3g";
static const char JWKS_PS256_RSA2_KID2[] =
	"eyJhbGciOiJQUzI1NiIsInR5cCI6IkpXVCIsImtpZCI6InJzYS0yIn0.eyJzdWIiOiJhbGljZSIsImlzcyI6Imh0"
	"dHBzOi8vaXNzdWVyLmV4YW1wbGUiLCJhdWQiOiJzaW9nYXRlIiwiaWF0IjoxNjk5OTk5MDAwLCJleHAiOjE3MDAw"
	"MDM2MDB9.IW067bbkEnhYGu831f6W_4TqHEvAGbXwLDWx_jWoG-5UsWyXSLvJVFdseDWaAn2-HoNNfa_FxfqXra4"
	"lAuT_g-5CzdHHDhoVGy6j9cJ_lp54tgTG6LKy7C_i4X5vycjujaLX-yR8JvzNYKLOpHA-Ol8-RHZGzW0gi5CenzS"
	"PzGF6kQpwno6Y_rzQg3MjuBlAFaY8N6jSKkQ-MtK9aLvNkAzz1-kZOgpOUx8iuVP6wc3-q6oBQRknY0ZgN6g7mw-"
	"UKHKNl5u1-QVuLiEH5HFlB6J_PCvJMTCYpI9cN4Qlw-urFFly4m1hIrUIyTM45fVhsJiO3G-SX6Zgz3dlERap9w";
static const char JWKS_PS256_RSA1_KID1[] =
	"eyJhbGciOiJQUzI1NiIsInR5cCI6IkpXVCIsImtpZCI6InJzYS0xIn0.eyJzdWIiOiJhbGljZSIsImlzcyI6Imh0"
	"dHBzOi8vaXNzdWVyLmV4YW1wbGUiLCJhdWQiOiJzaW9nYXRlIiwiaWF0IjoxNjk5OTk5MDAwLCJleHAiOjE3MDAw"
	"MDM2MDB9.Q6woBa9qHYa0AkqKLHaH9tDujD5gXxYMlHf__ASUJtuQ7VOvEaWdPX1dLoR4k5TYqaYSOJCvWAHfJ8J"
	"3AbG5EA4D-XCyjc_SUkZdTyYW8nCkKbqImb8_hDoC2uEutkPx_-BpzRTR9VUXFUpE2UE-sPtmgSOKR2_EUDwTvTY"
	"lZ2Kx-_aqThkws88sjy_jGcO7XIuSNDwAtYxHTuexWoXrkUFog8AClVP7v_Oi15yiKGkmO4U7jtGHxzfrZ_JaqKT"
	"NxoJiFGya9AEp2JqJm0tBcso8rdy1pdWPfcAFA0UUWsDWcfzknjdaZdV8cNs06NHVpWfJIasY6iTa6IX7nO2DSA";
static const char JWKS_ES256_KID_RSA1[] =
	"eyJhbGciOiJFUzI1NiIsInR5cCI6IkpXVCIsImtpZCI6InJzYS0xIn0.eyJzdWIiOiJhbGljZSIsImlzcyI6Imh0"
	"dHBzOi8vaXNzdWVyLmV4YW1wbGUiLCJhdWQiOiJzaW9nYXRlIiwiaWF0IjoxNjk5OTk5MDAwLCJleHAiOjE3MDAw"
	"MDM2MDB9.kwMVPrXlk0GSj3FGIyOskWxdW4BFHPeLtpeNS6mLwuM0o8RuTqaGAsIMj31R_HsQAIfZ-j3oHddaI1s"
	"K3NnDUQ";
static const char JWKS_RS256_KID_EC256[] =
	"eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCIsImtpZCI6ImVjLTI1NiJ9.eyJzdWIiOiJhbGljZSIsImlzcyI6Imh"
	"0dHBzOi8vaXNzdWVyLmV4YW1wbGUiLCJhdWQiOiJzaW9nYXRlIiwiaWF0IjoxNjk5OTk5MDAwLCJleHAiOjE3MDA"
	"wMDM2MDB9.Yam0O9jv5ljzE79Sx8ORxKEj1d61iS3q0K53cPAIOb5whEGmXyfV_zlLKZRzhIkQTIshgtZpA9zNdK"
	"gt2HBXdX5wn5CQRgywWxhOh_BTxb9a2Cy2UZjcE0cDAyXSmVNPlY68I5elUsTTYXrefizf5r2iz_heb8P1HbXuOp"
	"vbb4qw1MQmhIS9wfYjvHSw4Xhtc5EBEdkgQutfvmcAQzxVBlyoeHkqCw8vtwae1lISPXmAsjwUlMYwPCh34muSF-"
	"vJYiKucw6KmkC-aNI4uWOL5eUbcgykgb72HvqHNG7l_NTVXWqnDqQ1YKGZyDZOAC64t0jHpknwwUi3zHYQtmBktg";
static const char JWKS_ES256_KID[] =
	"eyJhbGciOiJFUzI1NiIsInR5cCI6IkpXVCIsImtpZCI6ImVjLTI1NiJ9.eyJzdWIiOiJhbGljZSIsImlzcyI6Imh"
	"0dHBzOi8vaXNzdWVyLmV4YW1wbGUiLCJhdWQiOiJzaW9nYXRlIiwiaWF0IjoxNjk5OTk5MDAwLCJleHAiOjE3MDA"
	"wMDM2MDB9.dMzCl9MQvHWzZIMQzDnCf2pbi-cGiaYveuCEqVJkjGNgjil4m8DgE3b0qzxCXuyHasqNSLU6B3aq79"
	"-V0mGBQA";
static const char JWKS_ES384_KID[] =
	"eyJhbGciOiJFUzM4NCIsInR5cCI6IkpXVCIsImtpZCI6ImVjLTM4NCJ9.eyJzdWIiOiJhbGljZSIsImlzcyI6Imh"
	"0dHBzOi8vaXNzdWVyLmV4YW1wbGUiLCJhdWQiOiJzaW9nYXRlIiwiaWF0IjoxNjk5OTk5MDAwLCJleHAiOjE3MDA"
	"wMDM2MDB9.WrEPCykrJoMa55w4UY-m9dlgVZc7vQeyK-lcghpf8ohxoLcFTUfLKdGo2_CR55R_vMjLFvT0ews-hT"
	"fWK1H2EiHwaq9GOLrNf1W1b07uKuFw9UANIAm1K1HE9Yy1nD82";
static const char JWKS_EDDSA_KID[] =
	"eyJhbGciOiJFZERTQSIsInR5cCI6IkpXVCIsImtpZCI6ImVkLTEifQ.eyJzdWIiOiJhbGljZSIsImlzcyI6Imh0d"
	"HBzOi8vaXNzdWVyLmV4YW1wbGUiLCJhdWQiOiJzaW9nYXRlIiwiaWF0IjoxNjk5OTk5MDAwLCJleHAiOjE3MDAwM"
	"DM2MDB9.MuRJ73ZIvQZiwxHtmXPeXtiiF0oCpQlCFHpm9xsrX61OqQEJKGe1J18l0ubCsH_wmNxPxOM-L4NnwbVB"
	"lbB5Dg";
static const char JWKS_EDDSA_NOKID[] =
	"eyJhbGciOiJFZERTQSIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJhbGljZSIsImlzcyI6Imh0dHBzOi8vaXNzdWVyLmV"
	"4YW1wbGUiLCJhdWQiOiJzaW9nYXRlIiwiaWF0IjoxNjk5OTk5MDAwLCJleHAiOjE3MDAwMDM2MDB9.RvQXnOLuNC"
	"geDbTVZF4QM3W4_y4wE2k3yHkeGzxHqsFom3r3bkZPAFtgo0skz2DeUVY0-VZW4HcN-F5vyF83AA";
static const char JWKS_HS256_KID_OCT[] =
	"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCIsImtpZCI6Im9jdC0xIn0.eyJzdWIiOiJhbGljZSIsImlzcyI6Imh0"
	"dHBzOi8vaXNzdWVyLmV4YW1wbGUiLCJhdWQiOiJzaW9nYXRlIiwiaWF0IjoxNjk5OTk5MDAwLCJleHAiOjE3MDAw"
	"MDM2MDB9.ESVMPlOrVWNhIY-T3CgdZ-HJhtURGsGIGxbd0apaXIo";
/* END GENERATED VECTORS */

/* the JSON text node signed for RT_HS256 / RT_HS512_KID ("Zo\u00eb" in UTF-8) */
#define RT_CLAIMS                                                   \
	"{\"sub\":\"alice\",\"iat\":1700000000,\"exp\":1700003600," \
	"\"room\":\"a/b\",\"name\":\"Zo\xc3\xab\"}"

static char tmp_dir[256];
static char tmp_files[64][300];
static size_t n_tmp_files;

/* Writes content to a new file in the test's directory; returns its path. */
static const char *tmp_file(const char *name, const char *content)
{
	char *path;
	FILE *f;

	if (n_tmp_files == SG_ARRAY_LEN(tmp_files))
		abort();
	path = tmp_files[n_tmp_files++];
	snprintf(path, sizeof(tmp_files[0]), "%s/%s", tmp_dir, name);
	f = fopen(path, "w");
	if (f == NULL || fputs(content, f) == EOF || fclose(f) != 0)
		abort();
	return path;
}

/* ---- configurations ------------------------------------------------- */

/* JWKS texts composed at run time from the generated JWK values. */
static void jwks_ec_wrong_y_size(struct sg_buf *b)
{
	sg_buf_printf(b,
		      "{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"%s\",\"y\":\"%s\"}]}",
		      JWK_EC256_X, JWK_EC384_Y);
}

/* A point off the curve: y of the key with one character changed. */
static void jwks_ec_off_curve(struct sg_buf *b)
{
	char y[sizeof(JWK_EC256_Y)];

	memcpy(y, JWK_EC256_Y, sizeof(y));
	y[5] = y[5] == 'A' ? 'B' : 'A';
	sg_buf_printf(b,
		      "{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"%s\",\"y\":\"%s\"}]}",
		      JWK_EC256_X, y);
}

static void jwks_rsa_alg_es256(struct sg_buf *b)
{
	sg_buf_printf(
		b, "{\"keys\":[{\"kty\":\"RSA\",\"alg\":\"ES256\",\"n\":\"%s\",\"e\":\"AQAB\"}]}",
		JWK_RSA1_N);
}

static void jwks_rsa(struct sg_buf *b)
{
	sg_buf_printf(b, "{\"keys\":[{\"kty\":\"RSA\",\"n\":\"%s\",\"e\":\"AQAB\"}]}", JWK_RSA1_N);
}

/* One auth.jwt configuration: what jwt_verifier_new is given. */
struct jwt_cfg {
	const char *algorithms; /* comma-separated */
	const char *secret;
	const char *pem[3];   /* concatenated into public_key_file */
	const char *pem_path; /* public_key_file as it is */
	const char *jwks;     /* jwks_file's content */
	void (*jwks_build)(struct sg_buf *b);
	const char *issuer;
	const char *audience;
	int64_t leeway_ms;
};

#define ISS "https://issuer.example"

/* The verifiers the verdict tables use, built once. */
enum vid {
	V_HS, /* HS256/384/512, the secret, issuer and audience */
	V_HS_LEEWAY_10S,
	V_HS_LEEWAY_30S,
	V_HS_LEEWAY_60S,
	V_HS_LEEWAY_59999MS,
	V_HS_LEEWAY_1500MS,
	V_HS256,	/* HS256 and the secret only */
	V_WRONG_SECRET, /* HS256 and the secret with its last byte changed */
	V_HS256_HS512,
	V_PEM_AS_SECRET, /* HS256 keyed with the text of RSA1's PEM */
	V_RS256,	 /* RS256 and RSA1's PEM only */
	V_HS_AND_RS,	 /* HS256 with the secret, RS256 with the PEM */
	V_RSA,		 /* every RS and PS, RSA1's PEM, issuer */
	V_RSA_PKCS1,	 /* an "RSA PUBLIC KEY" PEM */
	V_RSA_CERT,	 /* a certificate */
	V_EC,		 /* ES256 and ES384, both keys in one file */
	V_EC256,
	V_EDDSA,
	V_FAMILIES,	/* RSA, EC and Ed25519 keys in one file */
	V_JWKS,		/* RS256, PS256, ES256, ES384, EdDSA and HS256; JWKS and secret */
	V_JWKS_AND_PEM, /* RS256: the JWKS and RSA1's PEM (keys without a kid) */
	V_JWKS_RS_ES,	/* RS256 and ES256 from the JWKS */
	V_JWKS_PLAIN,	/* RS256 from a JWK without "alg" */
	N_VERIFIERS
};

static const struct jwt_cfg verifiers_cfg[N_VERIFIERS] = {
	[V_HS] = { .algorithms = "HS256,HS384,HS512",
		   .secret = SECRET,
		   .issuer = ISS,
		   .audience = "siogate" },
	[V_HS_LEEWAY_10S] = { .algorithms = "HS256,HS384,HS512",
			      .secret = SECRET,
			      .issuer = ISS,
			      .audience = "siogate",
			      .leeway_ms = 10000 },
	[V_HS_LEEWAY_30S] = { .algorithms = "HS256,HS384,HS512",
			      .secret = SECRET,
			      .issuer = ISS,
			      .audience = "siogate",
			      .leeway_ms = 30000 },
	[V_HS_LEEWAY_60S] = { .algorithms = "HS256,HS384,HS512",
			      .secret = SECRET,
			      .issuer = ISS,
			      .audience = "siogate",
			      .leeway_ms = 60000 },
	[V_HS_LEEWAY_59999MS] = { .algorithms = "HS256,HS384,HS512",
				  .secret = SECRET,
				  .issuer = ISS,
				  .audience = "siogate",
				  .leeway_ms = 59999 },
	[V_HS_LEEWAY_1500MS] = { .algorithms = "HS256,HS384,HS512",
				 .secret = SECRET,
				 .issuer = ISS,
				 .audience = "siogate",
				 .leeway_ms = 1500 },
	[V_HS256] = { .algorithms = "HS256", .secret = SECRET },
	[V_WRONG_SECRET] = { .algorithms = "HS256",
			     .secret = "siogate-unit-test-secret-0123456788" },
	[V_HS256_HS512] = { .algorithms = "HS256,HS512", .secret = SECRET },
	[V_PEM_AS_SECRET] = { .algorithms = "HS256", .secret = RSA1_PEM },
	[V_RS256] = { .algorithms = "RS256", .pem = { RSA1_PEM } },
	[V_HS_AND_RS] = { .algorithms = "HS256,RS256", .secret = SECRET, .pem = { RSA1_PEM } },
	[V_RSA] = { .algorithms = "RS256,RS384,RS512,PS256,PS384,PS512",
		    .pem = { RSA1_PEM },
		    .issuer = ISS },
	[V_RSA_PKCS1] = { .algorithms = "RS256", .pem = { RSA1_PKCS1_PEM } },
	[V_RSA_CERT] = { .algorithms = "RS256,PS256", .pem = { RSA1_CERT_PEM } },
	[V_EC] = { .algorithms = "ES256,ES384", .pem = { EC256_PEM, EC384_PEM } },
	[V_EC256] = { .algorithms = "ES256", .pem = { EC256_PEM } },
	[V_EDDSA] = { .algorithms = "EdDSA", .pem = { ED25519_PEM } },
	[V_FAMILIES] = { .algorithms = "RS256,PS256,ES256,EdDSA",
			 .pem = { RSA1_PEM, EC256_PEM, ED25519_PEM } },
	[V_JWKS] = { .algorithms = "RS256,PS256,ES256,ES384,EdDSA,HS256",
		     .secret = SECRET,
		     .jwks = JWKS },
	[V_JWKS_AND_PEM] = { .algorithms = "RS256", .jwks = JWKS, .pem = { RSA1_PEM } },
	[V_JWKS_RS_ES] = { .algorithms = "RS256,ES256", .jwks = JWKS },
	[V_JWKS_PLAIN] = { .algorithms = "RS256", .jwks_build = jwks_rsa },
};

static struct jwt_verifier *verifiers[N_VERIFIERS];

/* A config from c, its files written under name; caller config_free()s it
 * with cfg_free. */
static struct sg_config *cfg_of(const struct jwt_cfg *c, const char *name)
{
	struct sg_config *cfg = calloc(1, sizeof(*cfg));
	char *list = strdup(c->algorithms), *save = NULL;
	char file[64];

	for (char *a = strtok_r(list, ",", &save); a; a = strtok_r(NULL, ",", &save))
		sg_strv_push(&cfg->auth.jwt.algorithms, a);
	free(list);
	if (c->secret != NULL) {
		cfg->auth.jwt.secret = strdup(c->secret);
		cfg->auth.jwt.secret_len = strlen(c->secret);
	}
	if (c->pem[0] != NULL) {
		struct sg_buf pem;
		sg_buf_init(&pem);
		for (size_t i = 0; i < SG_ARRAY_LEN(c->pem) && c->pem[i]; i++)
			sg_buf_append_str(&pem, c->pem[i]);
		snprintf(file, sizeof(file), "%s.pem", name);
		cfg->auth.jwt.public_key_file = strdup(tmp_file(file, pem.data));
		sg_buf_fini(&pem);
	}
	if (c->pem_path != NULL)
		cfg->auth.jwt.public_key_file = strdup(c->pem_path);
	if (c->jwks != NULL || c->jwks_build != NULL) {
		struct sg_buf jwks;
		sg_buf_init(&jwks);
		if (c->jwks_build != NULL)
			c->jwks_build(&jwks);
		else
			sg_buf_append_str(&jwks, c->jwks);
		snprintf(file, sizeof(file), "%s.jwks", name);
		cfg->auth.jwt.jwks_file = strdup(tmp_file(file, jwks.data));
		sg_buf_fini(&jwks);
	}
	cfg->auth.jwt.issuer = c->issuer ? strdup(c->issuer) : NULL;
	cfg->auth.jwt.audience = c->audience ? strdup(c->audience) : NULL;
	cfg->auth.jwt.leeway_ms = c->leeway_ms;
	return cfg;
}

static void cfg_free(struct sg_config *c)
{
	sg_strv_free(&c->auth.jwt.algorithms);
	free(c->auth.jwt.secret);
	free(c->auth.jwt.public_key_file);
	free(c->auth.jwt.jwks_file);
	free(c->auth.jwt.issuer);
	free(c->auth.jwt.audience);
	free(c);
}

/* Builds every verifier of the table; the configs are freed at once (the
 * verifiers must not keep references into them). */
static int build_verifiers(void)
{
	for (int i = 0; i < N_VERIFIERS; i++) {
		char name[16];
		struct sg_err err = { 0 };
		struct sg_config *c;

		snprintf(name, sizeof(name), "v%d", i);
		c = cfg_of(&verifiers_cfg[i], name);
		verifiers[i] = jwt_verifier_new(c, &err);
		cfg_free(c);
		if (verifiers[i] == NULL) {
			fprintf(stderr, "verifier %d: %s\n", i, err.msg);
			return -1;
		}
	}
	return 0;
}

/* ---- tokens and their mutations ------------------------------------- */

enum mut_kind {
	M_NONE,
	M_TWEAK,  /* the character at pos replaced by another base64url one */
	M_SET,	  /* the character at pos replaced by text[0] */
	M_CUT,	  /* only the first pos bytes */
	M_SHORT,  /* the token whole, but a length of pos given to jwt_verify */
	M_APPEND, /* text appended */
	M_HEADER, /* the header replaced by base64url(text); payload and signature kept */
};

enum anchor {
	A_START,
	A_PAYLOAD,
	A_SIG,
	A_END
};

struct mutation {
	enum mut_kind kind;
	enum anchor at; /* where pos counts from */
	int pos;
	const char *text;
};

static size_t anchor_of(const char *token, enum anchor at)
{
	switch (at) {
	case A_START:
		return 0;
	case A_PAYLOAD:
		return (size_t)(strchr(token, '.') - token) + 1;
	case A_SIG:
		return (size_t)(strrchr(token, '.') - token) + 1;
	case A_END:
		return strlen(token);
	}
	return 0;
}

/* The token after m (caller frees), and the length jwt_verify is given. */
static char *mutate(const char *token, const struct mutation *m, size_t *len)
{
	size_t p = anchor_of(token, m->at) + (size_t)m->pos;
	struct sg_buf b;
	char *t;

	switch (m->kind) {
	case M_HEADER:
		sg_buf_init(&b);
		base64url_encode(&b, m->text, strlen(m->text));
		sg_buf_append_str(&b, strchr(token, '.'));
		t = sg_buf_steal(&b);
		break;
	case M_APPEND:
		sg_buf_init(&b);
		sg_buf_printf(&b, "%s%s", token, m->text);
		t = sg_buf_steal(&b);
		break;
	case M_CUT:
		t = strndup(token, p);
		break;
	default:
		t = strdup(token);
		if (m->kind == M_TWEAK)
			t[p] = t[p] == 'A' ? 'B' : 'A';
		else if (m->kind == M_SET)
			t[p] = m->text[0];
	}
	*len = m->kind == M_SHORT ? p : strlen(t);
	return t;
}

/* initializers, one per line */
/* clang-format off */
#define TWEAK(at, pos) { M_TWEAK, at, pos, NULL }
#define SET(at, pos, c) { M_SET, at, pos, c }
#define CUT(at, pos) { M_CUT, at, pos, NULL }
#define SHORT(at, pos) { M_SHORT, at, pos, NULL }
#define APPEND(s) { M_APPEND, A_END, 0, s }
#define HEADER(s) { M_HEADER, A_START, 0, s }
#define AS_IS { M_NONE, A_START, 0, NULL }
/* clang-format on */

/* jwt_verify(token) at NOW_MS + at_ms by verifier v is want (or, with
 * not_ok, anything but JWT_OK). */
static const struct verdict {
	enum vid v;
	const char *token;
	struct mutation m;
	int64_t at_ms;
	enum jwt_status want;
	bool not_ok;
} verdicts[] = {
	/* HMAC */
	{ V_HS, HS256_VALID, AS_IS, 0, JWT_OK, false },
	{ V_HS, HS384_VALID, AS_IS, 0, JWT_OK, false },
	{ V_HS, HS512_VALID, AS_IS, 0, JWT_OK, false },
	{ V_HS, HS256_VALID, SHORT(A_END, -1), 0, JWT_OK, true }, /* len is honoured */
	{ V_HS256, HS256_VALID, AS_IS, 0, JWT_OK, false },
	{ V_HS256, HS512_VALID, AS_IS, 0, JWT_ERR_ALG, false },
	{ V_HS256, HS384_VALID, AS_IS, 0, JWT_ERR_ALG, false },
	{ V_HS256, RS256_VALID, AS_IS, 0, JWT_ERR_ALG, false },
	{ V_HS256, HS256_LOWERCASE_ALG, AS_IS, 0, JWT_ERR_ALG, false },
	{ V_WRONG_SECRET, HS256_VALID, AS_IS, 0, JWT_ERR_SIGNATURE, false },
	/* exp: 10 s ago; exactly now is expired; fractions; none; not a number */
	{ V_HS, HS256_EXPIRED_10S, AS_IS, 0, JWT_ERR_EXPIRED, false },
	{ V_HS, HS256_EXPIRED_10S, AS_IS, -10001, JWT_OK, false },
	{ V_HS, HS256_EXP_NOW, AS_IS, 0, JWT_ERR_EXPIRED, false },
	{ V_HS, HS256_EXP_NOW, AS_IS, -1, JWT_OK, false },
	{ V_HS, HS256_EXP_FRACTION, AS_IS, 499, JWT_OK, false },
	{ V_HS, HS256_EXP_FRACTION, AS_IS, 500, JWT_ERR_EXPIRED, false },
	{ V_HS, HS256_NO_EXP, AS_IS, NOW_MS * 9, JWT_OK, false },
	{ V_HS, HS256_EXP_STRING, AS_IS, 0, JWT_ERR_MALFORMED, false },
	/* within leeway: exp + leeway must be > now */
	{ V_HS_LEEWAY_10S, HS256_EXPIRED_10S, AS_IS, 0, JWT_ERR_EXPIRED, false },
	{ V_HS_LEEWAY_10S, HS256_EXP_NOW, AS_IS, 0, JWT_OK, false },
	{ V_HS_LEEWAY_30S, HS256_EXPIRED_10S, AS_IS, 0, JWT_OK, false },
	{ V_HS_LEEWAY_30S, HS256_EXPIRED_10S, AS_IS, 20000, JWT_ERR_EXPIRED, false },
	{ V_HS_LEEWAY_30S, HS256_EXPIRED_10S, AS_IS, 19999, JWT_OK, false },
	/* nbf */
	{ V_HS, HS256_NBF_60S, AS_IS, 0, JWT_ERR_NOT_YET_VALID, false },
	{ V_HS, HS256_NBF_60S, AS_IS, 59999, JWT_ERR_NOT_YET_VALID, false },
	{ V_HS, HS256_NBF_60S, AS_IS, 60000, JWT_OK, false },
	{ V_HS, HS256_NBF_BOOL, AS_IS, 0, JWT_ERR_MALFORMED, false },
	{ V_HS_LEEWAY_60S, HS256_NBF_60S, AS_IS, 0, JWT_OK, false },
	{ V_HS_LEEWAY_59999MS, HS256_NBF_60S, AS_IS, 0, JWT_ERR_NOT_YET_VALID, false },
	/* issuer and audience, checked when configured */
	{ V_HS, HS256_ISS_EVIL, AS_IS, 0, JWT_ERR_ISSUER, false },
	{ V_HS, HS256_ISS_MISSING, AS_IS, 0, JWT_ERR_ISSUER, false },
	{ V_HS, HS256_AUD_OTHER, AS_IS, 0, JWT_ERR_AUDIENCE, false },
	{ V_HS, HS256_AUD_ARRAY_OK, AS_IS, 0, JWT_OK, false },
	{ V_HS, HS256_AUD_ARRAY_BAD, AS_IS, 0, JWT_ERR_AUDIENCE, false },
	{ V_HS, HS256_AUD_MISSING, AS_IS, 0, JWT_ERR_AUDIENCE, false },
	{ V_HS256, HS256_ISS_EVIL, AS_IS, 0, JWT_OK, false },
	{ V_HS256, HS256_ISS_MISSING, AS_IS, 0, JWT_OK, false },
	{ V_HS256, HS256_AUD_OTHER, AS_IS, 0, JWT_OK, false },
	{ V_HS256, HS256_AUD_MISSING, AS_IS, 0, JWT_OK, false },
	/* a changed character in the signature, the payload, the header */
	{ V_HS, HS256_VALID, TWEAK(A_SIG, 5), 0, JWT_ERR_SIGNATURE, false },
	{ V_HS, HS256_VALID, TWEAK(A_PAYLOAD, 9), 0, JWT_ERR_SIGNATURE, false },
	{ V_HS, HS256_VALID, TWEAK(A_START, 3), 0, JWT_OK, true },
	{ V_HS, HS384_VALID, TWEAK(A_SIG, 5), 0, JWT_ERR_SIGNATURE, false },
	{ V_HS, HS384_VALID, TWEAK(A_PAYLOAD, 9), 0, JWT_ERR_SIGNATURE, false },
	{ V_HS, HS384_VALID, TWEAK(A_START, 3), 0, JWT_OK, true },
	{ V_HS, HS512_VALID, TWEAK(A_SIG, 5), 0, JWT_ERR_SIGNATURE, false },
	{ V_HS, HS512_VALID, TWEAK(A_PAYLOAD, 9), 0, JWT_ERR_SIGNATURE, false },
	{ V_HS, HS512_VALID, TWEAK(A_START, 3), 0, JWT_OK, true },
	/* alg none, in any case, signed or not */
	{ V_HS, NONE_TOKEN, AS_IS, 0, JWT_ERR_ALG, false },
	{ V_HS, NONE_UPPER_TOKEN, AS_IS, 0, JWT_ERR_ALG, false },
	{ V_HS, NONE_MIXED_SIGNED, AS_IS, 0, JWT_ERR_ALG, false },
	/* malformed: two parts, four parts, an empty fourth, one part, empty */
	{ V_HS, HS256_VALID, CUT(A_SIG, -1), 0, JWT_ERR_MALFORMED, false },
	{ V_HS, HS256_VALID, APPEND(".abc"), 0, JWT_ERR_MALFORMED, false },
	{ V_HS, HS256_VALID, APPEND("."), 0, JWT_ERR_MALFORMED, false },
	{ V_HS, "eyJhbGciOiJIUzI1NiJ9", AS_IS, 0, JWT_ERR_MALFORMED, false },
	{ V_HS, "", AS_IS, 0, JWT_ERR_MALFORMED, false },
	{ V_HS, "..", AS_IS, 0, JWT_ERR_MALFORMED, false },
	/* non-base64url characters: '+', '/', padding, space */
	{ V_HS, HS256_VALID, SET(A_SIG, -10, "+"), 0, JWT_ERR_MALFORMED, false },
	{ V_HS, HS256_VALID, SET(A_SIG, 3, "/"), 0, JWT_ERR_MALFORMED, false },
	{ V_HS, HS256_VALID, APPEND("="), 0, JWT_ERR_MALFORMED, false },
	{ V_HS, HS256_VALID, SET(A_START, 5, " "), 0, JWT_ERR_MALFORMED, false },
	/* header: not JSON, an array, no alg, alg a number, crit, kid a
	 * number, duplicate alg */
	{ V_HS, HS256_HEADER_NOT_JSON, AS_IS, 0, JWT_ERR_MALFORMED, false },
	{ V_HS, HS256_HEADER_ARRAY, AS_IS, 0, JWT_ERR_MALFORMED, false },
	{ V_HS, HS256_HEADER_NO_ALG, AS_IS, 0, JWT_ERR_MALFORMED, false },
	{ V_HS, HS256_HEADER_ALG_NUMBER, AS_IS, 0, JWT_ERR_MALFORMED, false },
	{ V_HS, HS256_HEADER_CRIT, AS_IS, 0, JWT_ERR_MALFORMED, false },
	{ V_HS, HS256_HEADER_KID_NUMBER, AS_IS, 0, JWT_ERR_MALFORMED, false },
	{ V_HS, HS256_HEADER_DUP_ALG, AS_IS, 0, JWT_ERR_MALFORMED, false },
	/* payload: an array, not JSON (both correctly signed) */
	{ V_HS, HS256_PAYLOAD_ARRAY, AS_IS, 0, JWT_ERR_MALFORMED, false },
	{ V_HS, HS256_PAYLOAD_NOT_JSON, AS_IS, 0, JWT_ERR_MALFORMED, false },
	/* truncated (the signature is 43 characters): an impossible base64
	 * length (4n+1), or gone */
	{ V_HS, HS256_VALID, CUT(A_SIG, 41), 0, JWT_ERR_MALFORMED, false },
	{ V_HS, HS256_VALID, CUT(A_SIG, 0), 0, JWT_ERR_SIGNATURE, false },
	{ V_HS, HS256_VALID, CUT(A_SIG, 40), 0, JWT_ERR_SIGNATURE, false },
	/* HMAC and public keys never stand in for each other: the vector is a
	 * real HS256 token keyed with the PEM text */
	{ V_PEM_AS_SECRET, HS256_KEYED_WITH_RSA1_PEM, AS_IS, 0, JWT_OK, false },
	{ V_RS256, RS256_VALID, AS_IS, 0, JWT_OK, false },
	{ V_RS256, HS256_KEYED_WITH_RSA1_PEM, AS_IS, 0, JWT_ERR_ALG, false },
	{ V_HS_AND_RS, HS256_KEYED_WITH_RSA1_PEM, AS_IS, 0, JWT_ERR_SIGNATURE, false },
	{ V_HS_AND_RS, HS256_VALID, AS_IS, 0, JWT_OK, false },
	{ V_HS_AND_RS, RS256_VALID, AS_IS, 0, JWT_OK, false },
	/* RSA */
	{ V_RSA, RS256_VALID, AS_IS, 0, JWT_OK, false },
	{ V_RSA, RS384_VALID, AS_IS, 0, JWT_OK, false },
	{ V_RSA, RS512_VALID, AS_IS, 0, JWT_OK, false },
	{ V_RSA, PS256_VALID, AS_IS, 0, JWT_OK, false },
	{ V_RSA, PS384_VALID, AS_IS, 0, JWT_OK, false },
	{ V_RSA, PS512_VALID, AS_IS, 0, JWT_OK, false },
	{ V_RSA, PS256_MAX_SALT, AS_IS, 0, JWT_ERR_SIGNATURE, false }, /* salt = hash length */
	{ V_RSA, PS256_HEADER_RS256_SIG, AS_IS, 0, JWT_ERR_SIGNATURE, false },
	{ V_RSA, RS256_EXPIRED, AS_IS, 0, JWT_ERR_EXPIRED, false },
	{ V_RSA, RS256_VALID, TWEAK(A_SIG, 100), 0, JWT_ERR_SIGNATURE, false },
	{ V_RSA, ES256_VALID, AS_IS, 0, JWT_ERR_ALG, false },
	{ V_RSA, HS256_VALID, AS_IS, 0, JWT_ERR_ALG, false },
	{ V_RSA_PKCS1, RS256_VALID, AS_IS, 0, JWT_OK, false },
	{ V_RSA_CERT, RS256_VALID, AS_IS, 0, JWT_OK, false },
	{ V_RSA_CERT, PS256_VALID, AS_IS, 0, JWT_OK, false },
	/* EC and EdDSA: a DER signature is not a JOSE one; an ES256 signature
	 * labelled ES384 */
	{ V_EC, ES256_VALID, AS_IS, 0, JWT_OK, false },
	{ V_EC, ES384_VALID, AS_IS, 0, JWT_OK, false },
	{ V_EC, ES256_DER_SIG, AS_IS, 0, JWT_ERR_SIGNATURE, false },
	{ V_EC, ES256_AS_ES384, AS_IS, 0, JWT_ERR_SIGNATURE, false },
	{ V_EC, ES256_VALID, TWEAK(A_SIG, 20), 0, JWT_ERR_SIGNATURE, false },
	{ V_EC256, ES256_VALID, AS_IS, 0, JWT_OK, false },
	{ V_EC256, ES384_VALID, AS_IS, 0, JWT_ERR_ALG, false },
	{ V_EDDSA, EDDSA_VALID, AS_IS, 0, JWT_OK, false },
	{ V_EDDSA, EDDSA_VALID, TWEAK(A_SIG, 20), 0, JWT_ERR_SIGNATURE, false },
	{ V_EDDSA, EDDSA_VALID, TWEAK(A_START, 40), 0, JWT_ERR_SIGNATURE, false },
	/* several families in one file: each key verifies its own only */
	{ V_FAMILIES, RS256_VALID, AS_IS, 0, JWT_OK, false },
	{ V_FAMILIES, PS256_VALID, AS_IS, 0, JWT_OK, false },
	{ V_FAMILIES, ES256_VALID, AS_IS, 0, JWT_OK, false },
	{ V_FAMILIES, EDDSA_VALID, AS_IS, 0, JWT_OK, false },
	{ V_FAMILIES, ES256_DER_SIG, AS_IS, 0, JWT_ERR_SIGNATURE, false },
	/* JWKS: kid selects the key */
	{ V_JWKS, JWKS_RS256_RSA2_KID2, AS_IS, 0, JWT_OK, false },
	{ V_JWKS, JWKS_RS256_RSA2_KID1, AS_IS, 0, JWT_ERR_SIGNATURE, false },
	{ V_JWKS, JWKS_RS256_RSA2_KID9, AS_IS, 0, JWT_ERR_KEY, false },
	/* without kid every key of the family is tried */
	{ V_JWKS, JWKS_RS256_RSA2_NOKID, AS_IS, 0, JWT_OK, false },
	{ V_JWKS, RS256_VALID, AS_IS, 0, JWT_OK, false },
	/* the JWK "alg" restricts the key: rsa-2 is RS256 only */
	{ V_JWKS, JWKS_PS256_RSA2_KID2, AS_IS, 0, JWT_ERR_KEY, false },
	{ V_JWKS, JWKS_PS256_RSA1_KID1, AS_IS, 0, JWT_OK, false },
	/* a kid naming a key of another family finds no key */
	{ V_JWKS, JWKS_ES256_KID_RSA1, AS_IS, 0, JWT_ERR_KEY, false },
	{ V_JWKS, JWKS_RS256_KID_EC256, AS_IS, 0, JWT_ERR_KEY, false },
	{ V_JWKS, JWKS_ES256_KID, AS_IS, 0, JWT_OK, false },
	{ V_JWKS, JWKS_ES384_KID, AS_IS, 0, JWT_OK, false },
	{ V_JWKS, JWKS_EDDSA_KID, AS_IS, 0, JWT_OK, false },
	{ V_JWKS, JWKS_EDDSA_NOKID, AS_IS, 0, JWT_OK, false },
	{ V_JWKS, ES256_VALID, AS_IS, 0, JWT_OK, false },
	{ V_JWKS, ES384_VALID, AS_IS, 0, JWT_OK, false },
	{ V_JWKS, EDDSA_VALID, AS_IS, 0, JWT_OK, false },
	/* HMAC: the secret, whatever kid says */
	{ V_JWKS, JWKS_HS256_KID_OCT, AS_IS, 0, JWT_OK, false },
	/* key selection by family, headers rewritten (signature left stale) */
	{ V_JWKS, RS256_VALID, HEADER("{\"alg\":\"PS256\",\"kid\":\"ec-256\"}"), 0, JWT_ERR_KEY,
	  false },
	{ V_JWKS, RS256_VALID, HEADER("{\"alg\":\"PS256\",\"kid\":\"ed-1\"}"), 0, JWT_ERR_KEY,
	  false },
	{ V_JWKS, RS256_VALID, HEADER("{\"alg\":\"RS256\",\"kid\":\"ed-1\"}"), 0, JWT_ERR_KEY,
	  false },
	{ V_JWKS, RS256_VALID, HEADER("{\"alg\":\"EdDSA\",\"kid\":\"rsa-1\"}"), 0, JWT_ERR_KEY,
	  false },
	{ V_JWKS, RS256_VALID, HEADER("{\"alg\":\"ES384\",\"kid\":\"ec-256\"}"), 0, JWT_ERR_KEY,
	  false },
	{ V_JWKS, RS256_VALID, HEADER("{\"alg\":\"ES256\",\"kid\":\"ec-384\"}"), 0, JWT_ERR_KEY,
	  false },
	{ V_JWKS, RS256_VALID, HEADER("{\"alg\":\"ES256\",\"kid\":\"oct-1\"}"), 0, JWT_ERR_KEY,
	  false },
	{ V_JWKS, RS256_VALID, HEADER("{\"alg\":\"ES256\",\"kid\":\"rsa-enc\"}"), 0, JWT_ERR_KEY,
	  false },
	{ V_JWKS, RS256_VALID, HEADER("{\"alg\":\"PS256\",\"kid\":\"rsa-1\"}"), 0,
	  JWT_ERR_SIGNATURE, false },
	{ V_JWKS, RS256_VALID, HEADER("{\"alg\":\"ES256\",\"kid\":\"ec-256\"}"), 0,
	  JWT_ERR_SIGNATURE, false },
	{ V_JWKS, RS256_VALID, HEADER("{\"alg\":\"ES256\"}"), 0, JWT_ERR_SIGNATURE, false },
	/* an unknown kid falls back to keys without a kid (the PEM file) */
	{ V_JWKS_AND_PEM, JWKS_RS256_RSA2_KID9, AS_IS, 0, JWT_ERR_SIGNATURE, false },
	{ V_JWKS_AND_PEM, JWKS_RS256_RSA2_KID2, AS_IS, 0, JWT_OK, false },
	/* a JWK without "alg" */
	{ V_JWKS_PLAIN, RS256_VALID, AS_IS, 0, JWT_OK, false },
};

/* Each verdict, through jwt_verify (claims wanted and not) and
 * jwt_verify_why: the same status; claims only on JWT_OK. */
static void test_verdicts(void)
{
	for (size_t i = 0; i < SG_ARRAY_LEN(verdicts); i++) {
		const struct verdict *c = &verdicts[i];
		size_t len;
		char *t = mutate(c->token, &c->m, &len);
		json_t *claims = (json_t *)&claims; /* must be overwritten */
		struct sg_err why = { 0 };
		enum jwt_status st =
			jwt_verify(verifiers[c->v], t, len, NOW_MS + c->at_ms, &claims);
		bool ok = c->not_ok ? st != JWT_OK : st == c->want;

		if (!ok)
			fprintf(stderr, "  verdict %zu: %s, expected %s%s\n", i, jwt_status_str(st),
				c->not_ok ? "not " : "", jwt_status_str(c->want));
		CHECK(ok);
		CHECK(st == JWT_OK ? json_is_object(claims) : claims == NULL);
		if (st == JWT_OK)
			json_decref(claims);
		CHECK_INT(jwt_verify(verifiers[c->v], t, len, NOW_MS + c->at_ms, NULL), st);
		CHECK_INT(jwt_verify_why(verifiers[c->v], t, len, NOW_MS + c->at_ms, NULL, &why),
			  st);
		CHECK(st == JWT_OK || why.msg[0] != '\0');
		free(t);
	}
}

/* The claims come back whole. */
static void test_claims(void)
{
	static const struct {
		enum vid v;
		const char *token;
	} cases[] = { { V_HS, HS256_VALID }, { V_RSA, RS256_VALID } };

	for (size_t i = 0; i < SG_ARRAY_LEN(cases); i++) {
		json_t *claims = NULL;

		CHECK_INT(jwt_verify(verifiers[cases[i].v], cases[i].token, strlen(cases[i].token),
				     NOW_MS, &claims),
			  JWT_OK);
		CHECK_STR(json_string_value(json_object_get(claims, "sub")), "alice");
		CHECK_INT(json_integer_value(json_object_get(claims, "exp")), 1700003600);
		json_decref(claims);
	}
}

/* No token, and one over JWT_MAX_TOKEN_LEN even when otherwise fine. */
static void test_bounds(void)
{
	char *big = calloc(1, JWT_MAX_TOKEN_LEN + 2);

	CHECK_INT(strlen(HS256_VALID) - anchor_of(HS256_VALID, A_SIG), 43);
	CHECK_INT(jwt_verify(verifiers[V_HS], NULL, 0, NOW_MS, NULL), JWT_ERR_MALFORMED);
	memset(big, 'A', JWT_MAX_TOKEN_LEN + 1);
	memcpy(big, HS256_VALID, strlen(HS256_VALID));
	CHECK_INT(jwt_verify(verifiers[V_HS], big, strlen(big), NOW_MS, NULL), JWT_ERR_MALFORMED);
	free(big);
}

/* ---- configurations refused ----------------------------------------- */

static const struct refusal {
	struct jwt_cfg cfg;
	const char *needle; /* in the message */
} refusals[] = {
	/* none cannot be configured */
	{ { .algorithms = "none" }, "'none' is never accepted" },
	{ { .algorithms = "HS256,NoNe" }, "'none' is never accepted" },
	/* HS256 listed without a secret: a key file does not stand in */
	{ { .algorithms = "HS256,RS256", .pem = { RSA1_PEM } },
	  "HS256 listed but no auth.jwt.secret" },
	/* nor does an "oct" JWK */
	{ { .algorithms = "HS256,RS256", .jwks = JWKS }, "HS256 listed but no auth.jwt.secret" },
	/* a listed algorithm without a key of its family */
	{ { .algorithms = "RS256,ES256", .pem = { RSA1_PEM } },
	  "ES256 listed but no key of its type" },
	{ { .algorithms = "ES384", .pem = { EC256_PEM } }, "ES384 listed but no key of its type" },
	/* key files */
	{ { .algorithms = "RS256", .pem_path = "/nonexistent/siogate-key.pem" },
	  "public_key_file /nonexistent/siogate-key.pem: No such file" },
	{ { .algorithms = "RS256", .pem = { "not a key\n" } }, "no PEM public key or certificate" },
	{ { .algorithms = "RS256",
	    .pem = { "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n" } },
	  "a private key" },
	{ { .algorithms = "RS256",
	    .pem = { "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n" } },
	  "cannot parse" },
	{ { .algorithms = "RS256", .pem = { RSA_SMALL_PEM } }, "RSA key of 1024 bits" },
	{ { .algorithms = "ES256", .pem = { EC521_PEM } }, "EC curve secp521r1 is not supported" },
	/* JWKS problems */
	{ { .algorithms = "RS256", .jwks = "{\"keys\": [" }, "jwks_file" },
	{ { .algorithms = "RS256", .jwks = "{\"keys\": {}}" }, "no \"keys\" array" },
	{ { .algorithms = "RS256", .jwks = "{\"keys\": []}" }, "no usable signature key" },
	{ { .algorithms = "RS256", .jwks = "{\"keys\": [{\"kty\":\"RSA\",\"e\":\"AQAB\"}]}" },
	  "keys[0]: \"n\" missing" },
	{ { .algorithms = "ES256", .jwks_build = jwks_ec_wrong_y_size }, "must be 32 bytes" },
	{ { .algorithms = "ES256", .jwks_build = jwks_ec_off_curve }, "invalid EC key" },
	{ { .algorithms = "EdDSA",
	    .jwks = "{\"keys\":[{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"AAAA\"}]}" },
	  "must be 32 bytes" },
	{ { .algorithms = "RS256", .jwks_build = jwks_rsa_alg_es256 },
	  "\"alg\" ES256 does not fit a RSA key" },
	/* algorithm lists */
	{ { .algorithms = "" }, "empty list" },
	{ { .algorithms = "HS1024", .secret = SECRET }, "unsupported algorithm 'HS1024'" },
	{ { .algorithms = "HS256" }, "HS256 listed but no auth.jwt.secret" },
	{ { .algorithms = "EdDSA" }, "EdDSA listed but no key" },
};

static void test_refusals(void)
{
	for (size_t i = 0; i < SG_ARRAY_LEN(refusals); i++) {
		char name[16];
		struct sg_err err = { 0 };
		struct sg_config *c;
		struct jwt_verifier *v;

		snprintf(name, sizeof(name), "r%zu", i);
		c = cfg_of(&refusals[i].cfg, name);
		v = jwt_verifier_new(c, &err);
		if (v != NULL || strstr(err.msg, refusals[i].needle) == NULL)
			fprintf(stderr, "  refusal %zu: expected '%s', got %s '%s'\n", i,
				refusals[i].needle, v ? "success" : "failure", err.msg);
		CHECK(v == NULL && strstr(err.msg, refusals[i].needle) != NULL);
		jwt_verifier_free(v);
		cfg_free(c);
	}
}

/* ---- minting -------------------------------------------------------- */

static void test_sign_hmac(void)
{
	static const struct {
		const char *alg;
		const char *kid;
		const char *want; /* the exact token, or NULL */
		enum vid v;	  /* then verified by */
		enum jwt_status verdict;
	} signs[] = {
		{ "HS256", NULL, RT_HS256, V_HS256_HS512, JWT_OK },
		{ "HS512", "k1", RT_HS512_KID, V_HS256_HS512, JWT_OK },
		/* HS384 is not listed there, but verifies in V_HS (which wants an
		 * iss the RT claims lack) */
		{ "HS384", NULL, NULL, V_HS256_HS512, JWT_ERR_ALG },
		{ "HS384", NULL, NULL, V_HS, JWT_ERR_ISSUER },
	};
	static const struct {
		const char *alg;
		size_t secret_len; /* 0: none */
		bool array_claims;
		const char *msg; /* exact, or a part when partial */
		bool partial;
	} refused[] = {
		{ "RS256", sizeof(SECRET) - 1, false, "RS256", true },
		{ "none", sizeof(SECRET) - 1, false, NULL, false },
		{ NULL, sizeof(SECRET) - 1, false, NULL, false },
		{ "HS256", 0, false, "token: empty secret", false },
		{ "HS256", sizeof(SECRET) - 1, true, "token: claims must be a JSON object", false },
	};
	json_t *claims = json_loads(RT_CLAIMS, 0, NULL);

	CHECK(claims != NULL);
	for (size_t i = 0; i < SG_ARRAY_LEN(signs); i++) {
		struct sg_err err = { 0 };
		json_t *got = NULL;
		char *tok = NULL;

		CHECK_INT(jwt_sign_hmac(signs[i].alg, SECRET, strlen(SECRET), signs[i].kid, claims,
					&tok, &err),
			  0);
		if (signs[i].want != NULL)
			CHECK_STR(tok, signs[i].want);
		CHECK_INT(jwt_verify(verifiers[signs[i].v], tok, strlen(tok), NOW_MS, &got),
			  signs[i].verdict);
		if (signs[i].verdict == JWT_OK)
			CHECK(json_equal(got, claims));
		json_decref(got);
		free(tok);
	}
	for (size_t i = 0; i < SG_ARRAY_LEN(refused); i++) {
		struct sg_err err = { 0 };
		json_t *c = refused[i].array_claims ? json_array() : json_incref(claims);
		char *tok = (char *)"x";

		CHECK_INT(jwt_sign_hmac(refused[i].alg, SECRET, refused[i].secret_len, NULL, c,
					&tok, &err),
			  -1);
		CHECK(tok == NULL);
		if (refused[i].msg != NULL && refused[i].partial)
			CHECK(strstr(err.msg, refused[i].msg) != NULL);
		else if (refused[i].msg != NULL)
			CHECK_STR(err.msg, refused[i].msg);
		json_decref(c);
	}
	json_decref(claims);
}

/* ---- reasons -------------------------------------------------------- */

/* jwt_verify_why: the same verdicts as jwt_verify, each with its reason. */
static const struct reason {
	enum vid v;
	const char *token;
	struct mutation m;
	int64_t at_ms;
	enum jwt_status want;
	const char *reason;
} reasons[] = {
	{ V_HS, HS256_VALID, AS_IS, 0, JWT_OK, NULL },
	{ V_HS, HS256_EXPIRED_10S, AS_IS, 0, JWT_ERR_EXPIRED,
	  "token expired at 2023-11-14T22:13:10Z (leeway 0s)" },
	{ V_HS, HS256_NBF_60S, AS_IS, 0, JWT_ERR_NOT_YET_VALID,
	  "token not valid before 2023-11-14T22:14:20Z (leeway 0s)" },
	{ V_HS, HS256_EXP_STRING, AS_IS, 0, JWT_ERR_MALFORMED, "the exp claim is not a number" },
	{ V_HS, HS256_NBF_BOOL, AS_IS, 0, JWT_ERR_MALFORMED, "the nbf claim is not a number" },
	{ V_HS, HS256_ISS_EVIL, AS_IS, 0, JWT_ERR_ISSUER,
	  "issuer \"https://evil.example\" is not auth.jwt.issuer \"https://issuer.example\"" },
	{ V_HS, HS256_ISS_MISSING, AS_IS, 0, JWT_ERR_ISSUER,
	  "no iss claim, and auth.jwt.issuer is \"https://issuer.example\"" },
	{ V_HS, HS256_AUD_OTHER, AS_IS, 0, JWT_ERR_AUDIENCE,
	  "the aud claim does not name auth.jwt.audience \"siogate\"" },
	{ V_HS, HS256_AUD_MISSING, AS_IS, 0, JWT_ERR_AUDIENCE,
	  "no aud claim, and auth.jwt.audience is \"siogate\"" },
	{ V_HS, HS256_PAYLOAD_NOT_JSON, AS_IS, 0, JWT_ERR_MALFORMED,
	  "the payload is not a JSON object" },
	{ V_HS, HS256_HEADER_NOT_JSON, AS_IS, 0, JWT_ERR_MALFORMED,
	  "the header is not a base64url JSON object" },
	{ V_HS, HS256_HEADER_NO_ALG, AS_IS, 0, JWT_ERR_MALFORMED, "the header has no alg" },
	{ V_HS, HS256_HEADER_CRIT, AS_IS, 0, JWT_ERR_MALFORMED,
	  "the header has crit (no extension is understood)" },
	{ V_HS, HS256_HEADER_KID_NUMBER, AS_IS, 0, JWT_ERR_MALFORMED,
	  "the header's kid is not a string" },
	{ V_HS, HS256_LOWERCASE_ALG, AS_IS, 0, JWT_ERR_ALG, "algorithm hs256 is not supported" },
	{ V_HS, NONE_TOKEN, AS_IS, 0, JWT_ERR_ALG,
	  "algorithm none: unsigned tokens are never accepted" },
	{ V_HS, RS256_VALID, AS_IS, 0, JWT_ERR_ALG, "algorithm RS256 not in auth.jwt.algorithms" },
	{ V_HS, "a.b", AS_IS, 0, JWT_ERR_MALFORMED,
	  "not a JWT: not three parts separated by dots" },
	{ V_HS, "", AS_IS, 0, JWT_ERR_MALFORMED, "empty token" },
	{ V_HS, HS256_VALID, TWEAK(A_SIG, 3), 0, JWT_ERR_SIGNATURE, "signature does not verify" },
	{ V_HS_LEEWAY_1500MS, HS256_EXP_NOW, AS_IS, 1500, JWT_ERR_EXPIRED,
	  "token expired at 2023-11-14T22:13:20Z (leeway 1500ms)" },
	/* keys picked by kid */
	{ V_JWKS_RS_ES, JWKS_RS256_RSA2_KID2, AS_IS, 0, JWT_OK, NULL },
	{ V_JWKS_RS_ES, JWKS_RS256_RSA2_KID1, AS_IS, 0, JWT_ERR_SIGNATURE,
	  "signature does not verify" },
	{ V_JWKS_RS_ES, JWKS_RS256_RSA2_KID9, AS_IS, 0, JWT_ERR_KEY,
	  "no key with kid \"rsa-9\" (and no RS256 key without a kid) in "
	  "auth.jwt.public_key_file or jwks_file" },
	{ V_JWKS_RS_ES, JWKS_ES256_KID_RSA1, AS_IS, 0, JWT_ERR_KEY,
	  "the key with kid \"rsa-1\" is not for ES256" },
};

static void test_reasons(void)
{
	for (size_t i = 0; i < SG_ARRAY_LEN(reasons); i++) {
		const struct reason *c = &reasons[i];
		struct sg_err why = { 0 };
		json_t *claims = NULL;
		size_t len;
		char *t = mutate(c->token, &c->m, &len);
		enum jwt_status st =
			jwt_verify_why(verifiers[c->v], t, len, NOW_MS + c->at_ms, &claims, &why);

		CHECK_INT(st, c->want);
		CHECK_INT(st, jwt_verify(verifiers[c->v], t, len, NOW_MS + c->at_ms, NULL));
		if (st == JWT_OK) {
			CHECK(json_is_object(claims));
			json_decref(claims);
		} else {
			CHECK(claims == NULL);
			CHECK_STR(why.msg, c->reason);
		}
		free(t);
	}
}

static void test_status_str(void)
{
	static const struct {
		enum jwt_status st;
		const char *text;
	} cases[] = {
		{ JWT_OK, "ok" },
		{ JWT_ERR_MALFORMED, "malformed" },
		{ JWT_ERR_ALG, "algorithm refused" },
		{ JWT_ERR_KEY, "no key" },
		{ JWT_ERR_SIGNATURE, "bad signature" },
		{ JWT_ERR_EXPIRED, "expired" },
		{ JWT_ERR_NOT_YET_VALID, "not yet valid" },
		{ JWT_ERR_ISSUER, "wrong issuer" },
		{ JWT_ERR_AUDIENCE, "wrong audience" },
	};

	for (size_t i = 0; i < SG_ARRAY_LEN(cases); i++)
		CHECK_STR(jwt_status_str(cases[i].st), cases[i].text);
}

int main(void)
{
	const char *base = getenv("TMPDIR");
	int rc = 1;

	snprintf(tmp_dir, sizeof(tmp_dir), "%s/sg-jwt-XXXXXX", base && *base ? base : "/tmp");
	if (mkdtemp(tmp_dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	if (build_verifiers() == 0) {
		RUN(test_verdicts);
		RUN(test_claims);
		RUN(test_bounds);
		RUN(test_refusals);
		RUN(test_sign_hmac);
		RUN(test_reasons);
		RUN(test_status_str);
		rc = UNIT_END();
	}
	for (int i = 0; i < N_VERIFIERS; i++)
		jwt_verifier_free(verifiers[i]);
	for (size_t i = 0; i < n_tmp_files; i++)
		unlink(tmp_files[i]);
	rmdir(tmp_dir);
	return rc;
}
