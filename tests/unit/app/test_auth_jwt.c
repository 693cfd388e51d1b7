/*
 * test_auth_jwt.c: JWT verification and HMAC minting against vectors made by
 * an independent implementation (Node's crypto module and the openssl CLI,
 * tests/unit/cases/jwt/gen_vectors.js), pasted below.  now_ms is fixed at
 * 1700000000000 so exp/nbf cases are deterministic.  Key files are written to
 * a private temporary directory and removed at the end.
 */
#include <stdlib.h>
#include <unistd.h>

#include "app/auth_jwt.h"
#include "core/base64.h"
#include "unit.h"

#define NOW_MS INT64_C(1700000000000)

/* BEGIN GENERATED VECTORS (node tests/unit/cases/jwt/gen_vectors.js) */
static const char SECRET[] =
	"siogate-unit-test-secret-0123456789";
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
static const char JWK_EC256_X[] =
	"GEVwKqsZVDy2szl9QHqioGT92vgzv4S0a9gvYbCZ5DQ";
static const char JWK_EC256_Y[] =
	"WXi9xSadXlM0WkV9trmEmj0sN8FI-qKjW1U5QhHGsCo";
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
#define RT_CLAIMS                                                              \
	"{\"sub\":\"alice\",\"iat\":1700000000,\"exp\":1700003600,"              \
	"\"room\":\"a/b\",\"name\":\"Zo\xc3\xab\"}"

static char tmp_dir[256];
static char tmp_files[64][300];
static size_t n_tmp_files;

static const char *tmp_file(const char *name, const char *content);
static struct sg_config *cfg_new(const char *algorithms);
static void cfg_free(struct sg_config *c);
static void cfg_secret(struct sg_config *c, const char *secret);
static struct jwt_verifier *verifier(struct sg_config *c);
static enum jwt_status verify_at(const struct jwt_verifier *v, const char *token, int64_t now);
static enum jwt_status verify(const struct jwt_verifier *v, const char *token);
static char *tweak(const char *token, size_t pos);
static size_t sig_start(const char *token);
static int new_fails(struct sg_config *c, const char *needle);
static char *with_header(const char *header_json, const char *token);
static void why_case(const struct jwt_verifier *v, const char *token, int64_t now,
		     enum jwt_status want, const char *reason);

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

/* A zeroed config with auth.jwt.algorithms from a comma-separated list. */
static struct sg_config *cfg_new(const char *algorithms)
{
	struct sg_config *c = calloc(1, sizeof(*c));
	char *list = strdup(algorithms), *save = NULL;

	for (char *a = strtok_r(list, ",", &save); a; a = strtok_r(NULL, ",", &save))
		sg_strv_push(&c->auth.jwt.algorithms, a);
	free(list);
	return c;
}

static void cfg_secret(struct sg_config *c, const char *secret)
{
	free(c->auth.jwt.secret);
	c->auth.jwt.secret = strdup(secret);
	c->auth.jwt.secret_len = strlen(secret);
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

/* Builds a verifier that must succeed; the config is freed (the verifier
 * must not keep references into it). */
static struct jwt_verifier *verifier(struct sg_config *c)
{
	struct sg_err err = { 0 };
	struct jwt_verifier *v = jwt_verifier_new(c, &err);

	if (v == NULL) {
		fprintf(stderr, "jwt_verifier_new: %s\n", err.msg);
		abort();
	}
	cfg_free(c);
	return v;
}

/* 1 when jwt_verifier_new fails with needle in its message (printed when
 * not); frees c. */
static int new_fails(struct sg_config *c, const char *needle)
{
	struct sg_err err = { 0 };
	struct jwt_verifier *v = jwt_verifier_new(c, &err);
	int ok = v == NULL && strstr(err.msg, needle) != NULL;

	if (!ok)
		fprintf(stderr, "  expected failure with '%s', got %s '%s'\n", needle,
			v ? "success" : "failure", err.msg);
	jwt_verifier_free(v);
	cfg_free(c);
	return ok;
}

static enum jwt_status verify_at(const struct jwt_verifier *v, const char *token, int64_t now)
{
	json_t *claims = (json_t *)&claims; /* must be overwritten */
	enum jwt_status st = jwt_verify(v, token, strlen(token), now, &claims);

	if (st == JWT_OK) {
		if (!json_is_object(claims))
			abort();
		json_decref(claims);
	} else if (claims != NULL) {
		fprintf(stderr, "claims not NULL on failure\n");
		abort();
	}
	return st;
}

static enum jwt_status verify(const struct jwt_verifier *v, const char *token)
{
	return verify_at(v, token, NOW_MS);
}

/* A copy of token with the character at pos replaced by another base64url
 * character (caller frees). */
static char *tweak(const char *token, size_t pos)
{
	char *t = strdup(token);
	t[pos] = t[pos] == 'A' ? 'B' : 'A';
	return t;
}

static size_t sig_start(const char *token)
{
	return (size_t)(strrchr(token, '.') - token) + 1;
}

/* token with its header replaced by base64url(header_json); payload and
 * signature kept (caller frees). */
static char *with_header(const char *header_json, const char *token)
{
	struct sg_buf b;

	sg_buf_init(&b);
	base64url_encode(&b, header_json, strlen(header_json));
	sg_buf_append_str(&b, strchr(token, '.'));
	return sg_buf_steal(&b);
}

static struct sg_config *hs_cfg(void);
static struct sg_config *hs_cfg(void)
{
	struct sg_config *c = cfg_new("HS256,HS384,HS512");
	cfg_secret(c, SECRET);
	c->auth.jwt.issuer = strdup("https://issuer.example");
	c->auth.jwt.audience = strdup("siogate");
	return c;
}

static void test_hs_valid(void)
{
	struct jwt_verifier *v = verifier(hs_cfg());
	json_t *claims = NULL;

	CHECK_INT(jwt_verify(v, HS256_VALID, strlen(HS256_VALID), NOW_MS, &claims), JWT_OK);
	CHECK(json_is_object(claims));
	CHECK_STR(json_string_value(json_object_get(claims, "sub")), "alice");
	CHECK_INT(json_integer_value(json_object_get(claims, "exp")), 1700003600);
	json_decref(claims);
	CHECK_INT(verify(v, HS384_VALID), JWT_OK);
	CHECK_INT(verify(v, HS512_VALID), JWT_OK);
	/* claims may be NULL */
	CHECK_INT(jwt_verify(v, HS512_VALID, strlen(HS512_VALID), NOW_MS, NULL), JWT_OK);
	/* len is honoured: the same token cut by one is not valid */
	CHECK(jwt_verify(v, HS256_VALID, strlen(HS256_VALID) - 1, NOW_MS, NULL) != JWT_OK);
	jwt_verifier_free(v);
}

static void test_hs_alg_not_listed(void)
{
	struct sg_config *c = cfg_new("HS256");
	struct jwt_verifier *v;

	cfg_secret(c, SECRET);
	v = verifier(c);
	CHECK_INT(verify(v, HS256_VALID), JWT_OK);
	CHECK_INT(verify(v, HS512_VALID), JWT_ERR_ALG);
	CHECK_INT(verify(v, HS384_VALID), JWT_ERR_ALG);
	CHECK_INT(verify(v, RS256_VALID), JWT_ERR_ALG);
	CHECK_INT(verify(v, HS256_LOWERCASE_ALG), JWT_ERR_ALG);
	jwt_verifier_free(v);
}

static void test_wrong_secret(void)
{
	struct sg_config *c = cfg_new("HS256");
	struct jwt_verifier *v;

	cfg_secret(c, "siogate-unit-test-secret-0123456788");
	v = verifier(c);
	CHECK_INT(verify(v, HS256_VALID), JWT_ERR_SIGNATURE);
	jwt_verifier_free(v);
}

static void test_exp(void)
{
	struct sg_config *c = hs_cfg();
	struct jwt_verifier *v = verifier(hs_cfg());

	/* exp 10 s ago */
	CHECK_INT(verify(v, HS256_EXPIRED_10S), JWT_ERR_EXPIRED);
	CHECK_INT(verify_at(v, HS256_EXPIRED_10S, NOW_MS - 10001), JWT_OK);
	/* exp == now is expired; one ms before is not */
	CHECK_INT(verify(v, HS256_EXP_NOW), JWT_ERR_EXPIRED);
	CHECK_INT(verify_at(v, HS256_EXP_NOW, NOW_MS - 1), JWT_OK);
	/* fractional exp: now + 0.5 s */
	CHECK_INT(verify_at(v, HS256_EXP_FRACTION, NOW_MS + 499), JWT_OK);
	CHECK_INT(verify_at(v, HS256_EXP_FRACTION, NOW_MS + 500), JWT_ERR_EXPIRED);
	/* no exp: never expires */
	CHECK_INT(verify_at(v, HS256_NO_EXP, NOW_MS * 10), JWT_OK);
	/* exp must be a number */
	CHECK_INT(verify(v, HS256_EXP_STRING), JWT_ERR_MALFORMED);
	jwt_verifier_free(v);

	/* within leeway: exp + leeway must be > now */
	c->auth.jwt.leeway_ms = 10000;
	v = verifier(c);
	CHECK_INT(verify(v, HS256_EXPIRED_10S), JWT_ERR_EXPIRED);
	CHECK_INT(verify(v, HS256_EXP_NOW), JWT_OK);
	jwt_verifier_free(v);
	c = hs_cfg();
	c->auth.jwt.leeway_ms = 30000;
	v = verifier(c);
	CHECK_INT(verify(v, HS256_EXPIRED_10S), JWT_OK);
	CHECK_INT(verify_at(v, HS256_EXPIRED_10S, NOW_MS + 20000), JWT_ERR_EXPIRED);
	CHECK_INT(verify_at(v, HS256_EXPIRED_10S, NOW_MS + 19999), JWT_OK);
	jwt_verifier_free(v);
}

static void test_nbf(void)
{
	struct jwt_verifier *v = verifier(hs_cfg());
	struct sg_config *c;

	CHECK_INT(verify(v, HS256_NBF_60S), JWT_ERR_NOT_YET_VALID);
	CHECK_INT(verify_at(v, HS256_NBF_60S, NOW_MS + 59999), JWT_ERR_NOT_YET_VALID);
	CHECK_INT(verify_at(v, HS256_NBF_60S, NOW_MS + 60000), JWT_OK);
	CHECK_INT(verify(v, HS256_NBF_BOOL), JWT_ERR_MALFORMED);
	jwt_verifier_free(v);

	c = hs_cfg();
	c->auth.jwt.leeway_ms = 60000;
	v = verifier(c);
	CHECK_INT(verify(v, HS256_NBF_60S), JWT_OK);
	jwt_verifier_free(v);
	c = hs_cfg();
	c->auth.jwt.leeway_ms = 59999;
	v = verifier(c);
	CHECK_INT(verify(v, HS256_NBF_60S), JWT_ERR_NOT_YET_VALID);
	jwt_verifier_free(v);
}

static void test_issuer_audience(void)
{
	struct jwt_verifier *v = verifier(hs_cfg());
	struct sg_config *c;

	CHECK_INT(verify(v, HS256_ISS_EVIL), JWT_ERR_ISSUER);
	CHECK_INT(verify(v, HS256_ISS_MISSING), JWT_ERR_ISSUER);
	CHECK_INT(verify(v, HS256_AUD_OTHER), JWT_ERR_AUDIENCE);
	CHECK_INT(verify(v, HS256_AUD_ARRAY_OK), JWT_OK);
	CHECK_INT(verify(v, HS256_AUD_ARRAY_BAD), JWT_ERR_AUDIENCE);
	CHECK_INT(verify(v, HS256_AUD_MISSING), JWT_ERR_AUDIENCE);
	jwt_verifier_free(v);

	/* not configured: not checked */
	c = cfg_new("HS256");
	cfg_secret(c, SECRET);
	v = verifier(c);
	CHECK_INT(verify(v, HS256_ISS_EVIL), JWT_OK);
	CHECK_INT(verify(v, HS256_ISS_MISSING), JWT_OK);
	CHECK_INT(verify(v, HS256_AUD_OTHER), JWT_OK);
	CHECK_INT(verify(v, HS256_AUD_MISSING), JWT_OK);
	jwt_verifier_free(v);
}

static void test_bad_signature(void)
{
	struct jwt_verifier *v = verifier(hs_cfg());
	const char *toks[] = { HS256_VALID, HS384_VALID, HS512_VALID };

	for (size_t i = 0; i < SG_ARRAY_LEN(toks); i++) {
		size_t s = sig_start(toks[i]);
		char *t = tweak(toks[i], s + 5);              /* in the signature */
		CHECK_INT(verify(v, t), JWT_ERR_SIGNATURE);
		free(t);
		t = tweak(toks[i], strchr(toks[i], '.') - toks[i] + 10); /* in the payload */
		CHECK_INT(verify(v, t), JWT_ERR_SIGNATURE);
		free(t);
		t = tweak(toks[i], 3);                        /* in the header */
		CHECK(verify(v, t) != JWT_OK);
		free(t);
	}
	jwt_verifier_free(v);
}

static void test_alg_none(void)
{
	struct jwt_verifier *v = verifier(hs_cfg());

	CHECK_INT(verify(v, NONE_TOKEN), JWT_ERR_ALG);
	CHECK_INT(verify(v, NONE_UPPER_TOKEN), JWT_ERR_ALG);
	CHECK_INT(verify(v, NONE_MIXED_SIGNED), JWT_ERR_ALG);
	jwt_verifier_free(v);

	/* and it cannot be configured */
	CHECK(new_fails(cfg_new("none"), "'none' is never accepted"));
	CHECK(new_fails(cfg_new("HS256,NoNe"), "'none' is never accepted"));
}

static void test_malformed(void)
{
	struct jwt_verifier *v = verifier(hs_cfg());
	size_t s = sig_start(HS256_VALID);
	char buf[1024];
	char *big;

	/* two parts, four parts, one part, empty */
	snprintf(buf, sizeof(buf), "%.*s", (int)(s - 1), HS256_VALID);
	CHECK_INT(verify(v, buf), JWT_ERR_MALFORMED);
	snprintf(buf, sizeof(buf), "%s.abc", HS256_VALID);
	CHECK_INT(verify(v, buf), JWT_ERR_MALFORMED);
	snprintf(buf, sizeof(buf), "%s.", HS256_VALID);
	CHECK_INT(verify(v, buf), JWT_ERR_MALFORMED);
	CHECK_INT(verify(v, "eyJhbGciOiJIUzI1NiJ9"), JWT_ERR_MALFORMED);
	CHECK_INT(verify(v, ""), JWT_ERR_MALFORMED);
	CHECK_INT(verify(v, ".."), JWT_ERR_MALFORMED);
	CHECK_INT(jwt_verify(v, NULL, 0, NOW_MS, NULL), JWT_ERR_MALFORMED);
	/* non-base64url characters: '+', '/', padding, space */
	snprintf(buf, sizeof(buf), "%s", HS256_VALID);
	buf[s - 10] = '+';
	CHECK_INT(verify(v, buf), JWT_ERR_MALFORMED);
	snprintf(buf, sizeof(buf), "%s", HS256_VALID);
	buf[s + 3] = '/';
	CHECK_INT(verify(v, buf), JWT_ERR_MALFORMED);
	snprintf(buf, sizeof(buf), "%s=", HS256_VALID);
	CHECK_INT(verify(v, buf), JWT_ERR_MALFORMED);
	snprintf(buf, sizeof(buf), "%s", HS256_VALID);
	buf[5] = ' ';
	CHECK_INT(verify(v, buf), JWT_ERR_MALFORMED);
	/* header: not JSON, an array, no alg, alg a number, crit, kid a number,
	 * duplicate alg */
	CHECK_INT(verify(v, HS256_HEADER_NOT_JSON), JWT_ERR_MALFORMED);
	CHECK_INT(verify(v, HS256_HEADER_ARRAY), JWT_ERR_MALFORMED);
	CHECK_INT(verify(v, HS256_HEADER_NO_ALG), JWT_ERR_MALFORMED);
	CHECK_INT(verify(v, HS256_HEADER_ALG_NUMBER), JWT_ERR_MALFORMED);
	CHECK_INT(verify(v, HS256_HEADER_CRIT), JWT_ERR_MALFORMED);
	CHECK_INT(verify(v, HS256_HEADER_KID_NUMBER), JWT_ERR_MALFORMED);
	CHECK_INT(verify(v, HS256_HEADER_DUP_ALG), JWT_ERR_MALFORMED);
	/* payload: an array, not JSON (both correctly signed) */
	CHECK_INT(verify(v, HS256_PAYLOAD_ARRAY), JWT_ERR_MALFORMED);
	CHECK_INT(verify(v, HS256_PAYLOAD_NOT_JSON), JWT_ERR_MALFORMED);
	/* truncated: signature of an impossible base64 length (4n+1), or gone */
	CHECK_INT(strlen(HS256_VALID) - s, 43);
	snprintf(buf, sizeof(buf), "%.*s", (int)(s + 41), HS256_VALID);
	CHECK_INT(verify(v, buf), JWT_ERR_MALFORMED);
	snprintf(buf, sizeof(buf), "%.*s", (int)s, HS256_VALID);
	CHECK_INT(verify(v, buf), JWT_ERR_SIGNATURE);
	snprintf(buf, sizeof(buf), "%.*s", (int)(s + 40), HS256_VALID);
	CHECK_INT(verify(v, buf), JWT_ERR_SIGNATURE);
	/* too long, even when otherwise fine */
	big = calloc(1, JWT_MAX_TOKEN_LEN + 2);
	memset(big, 'A', JWT_MAX_TOKEN_LEN + 1);
	memcpy(big, HS256_VALID, strlen(HS256_VALID));
	CHECK_INT(verify(v, big), JWT_ERR_MALFORMED);
	free(big);
	jwt_verifier_free(v);
}

static void test_hmac_public_key_confusion(void)
{
	struct sg_config *c;
	struct jwt_verifier *v;

	/* the vector is a real HS256 token keyed with the PEM text */
	c = cfg_new("HS256");
	cfg_secret(c, RSA1_PEM);
	v = verifier(c);
	CHECK_INT(verify(v, HS256_KEYED_WITH_RSA1_PEM), JWT_OK);
	jwt_verifier_free(v);

	/* only a public key and RS256: refused */
	c = cfg_new("RS256");
	c->auth.jwt.public_key_file = strdup(tmp_file("confusion.pem", RSA1_PEM));
	v = verifier(c);
	CHECK_INT(verify(v, RS256_VALID), JWT_OK);
	CHECK_INT(verify(v, HS256_KEYED_WITH_RSA1_PEM), JWT_ERR_ALG);
	jwt_verifier_free(v);

	/* HS256 allowed too: verified with the secret only, never the key */
	c = cfg_new("HS256,RS256");
	cfg_secret(c, SECRET);
	c->auth.jwt.public_key_file = strdup(tmp_files[n_tmp_files - 1]);
	v = verifier(c);
	CHECK_INT(verify(v, HS256_KEYED_WITH_RSA1_PEM), JWT_ERR_SIGNATURE);
	CHECK_INT(verify(v, HS256_VALID), JWT_OK);
	CHECK_INT(verify(v, RS256_VALID), JWT_OK);
	jwt_verifier_free(v);

	/* HS256 listed without a secret: the key file does not stand in */
	c = cfg_new("HS256,RS256");
	c->auth.jwt.public_key_file = strdup(tmp_files[n_tmp_files - 1]);
	CHECK(new_fails(c, "HS256 listed but no auth.jwt.secret"));
}

static void test_rsa(void)
{
	struct sg_config *c = cfg_new("RS256,RS384,RS512,PS256,PS384,PS512");
	struct jwt_verifier *v;
	json_t *claims = NULL;
	char *t;

	c->auth.jwt.public_key_file = strdup(tmp_file("rsa1.pem", RSA1_PEM));
	c->auth.jwt.issuer = strdup("https://issuer.example");
	v = verifier(c);
	CHECK_INT(jwt_verify(v, RS256_VALID, strlen(RS256_VALID), NOW_MS, &claims), JWT_OK);
	CHECK_STR(json_string_value(json_object_get(claims, "sub")), "alice");
	json_decref(claims);
	CHECK_INT(verify(v, RS384_VALID), JWT_OK);
	CHECK_INT(verify(v, RS512_VALID), JWT_OK);
	CHECK_INT(verify(v, PS256_VALID), JWT_OK);
	CHECK_INT(verify(v, PS384_VALID), JWT_OK);
	CHECK_INT(verify(v, PS512_VALID), JWT_OK);
	/* PSS salt must be the hash length (RFC 7518 3.5) */
	CHECK_INT(verify(v, PS256_MAX_SALT), JWT_ERR_SIGNATURE);
	/* a PKCS#1 v1.5 signature labelled PS256 */
	CHECK_INT(verify(v, PS256_HEADER_RS256_SIG), JWT_ERR_SIGNATURE);
	CHECK_INT(verify(v, RS256_EXPIRED), JWT_ERR_EXPIRED);
	t = tweak(RS256_VALID, sig_start(RS256_VALID) + 100);
	CHECK_INT(verify(v, t), JWT_ERR_SIGNATURE);
	free(t);
	/* other families are not listed */
	CHECK_INT(verify(v, ES256_VALID), JWT_ERR_ALG);
	CHECK_INT(verify(v, HS256_VALID), JWT_ERR_ALG);
	jwt_verifier_free(v);

	/* PKCS#1 "RSA PUBLIC KEY" PEM */
	c = cfg_new("RS256");
	c->auth.jwt.public_key_file = strdup(tmp_file("rsa1-pkcs1.pem", RSA1_PKCS1_PEM));
	v = verifier(c);
	CHECK_INT(verify(v, RS256_VALID), JWT_OK);
	jwt_verifier_free(v);

	/* a certificate (made by the openssl CLI) */
	c = cfg_new("RS256,PS256");
	c->auth.jwt.public_key_file = strdup(tmp_file("rsa1-cert.pem", RSA1_CERT_PEM));
	v = verifier(c);
	CHECK_INT(verify(v, RS256_VALID), JWT_OK);
	CHECK_INT(verify(v, PS256_VALID), JWT_OK);
	jwt_verifier_free(v);
}

static void test_ec_eddsa(void)
{
	struct sg_config *c = cfg_new("ES256,ES384");
	struct jwt_verifier *v;
	char both[2048];
	char *t;

	snprintf(both, sizeof(both), "%s%s", EC256_PEM, EC384_PEM);
	c->auth.jwt.public_key_file = strdup(tmp_file("ec.pem", both));
	v = verifier(c);
	CHECK_INT(verify(v, ES256_VALID), JWT_OK);
	CHECK_INT(verify(v, ES384_VALID), JWT_OK);
	/* a DER signature is not a JOSE one */
	CHECK_INT(verify(v, ES256_DER_SIG), JWT_ERR_SIGNATURE);
	/* an ES256 signature labelled ES384 */
	CHECK_INT(verify(v, ES256_AS_ES384), JWT_ERR_SIGNATURE);
	t = tweak(ES256_VALID, sig_start(ES256_VALID) + 20);
	CHECK_INT(verify(v, t), JWT_ERR_SIGNATURE);
	free(t);
	jwt_verifier_free(v);

	c = cfg_new("ES256");
	c->auth.jwt.public_key_file = strdup(tmp_file("ec256.pem", EC256_PEM));
	v = verifier(c);
	CHECK_INT(verify(v, ES256_VALID), JWT_OK);
	CHECK_INT(verify(v, ES384_VALID), JWT_ERR_ALG);
	jwt_verifier_free(v);

	c = cfg_new("EdDSA");
	c->auth.jwt.public_key_file = strdup(tmp_file("ed.pem", ED25519_PEM));
	v = verifier(c);
	CHECK_INT(verify(v, EDDSA_VALID), JWT_OK);
	t = tweak(EDDSA_VALID, sig_start(EDDSA_VALID) + 20);
	CHECK_INT(verify(v, t), JWT_ERR_SIGNATURE);
	free(t);
	t = tweak(EDDSA_VALID, 40);
	CHECK_INT(verify(v, t), JWT_ERR_SIGNATURE);
	free(t);
	jwt_verifier_free(v);
}

static void test_key_families(void)
{
	struct sg_config *c;
	struct jwt_verifier *v;
	char all[4096];

	/* a listed algorithm without a key of its family is a config error */
	c = cfg_new("RS256,ES256");
	c->auth.jwt.public_key_file = strdup(tmp_file("fam-rsa.pem", RSA1_PEM));
	CHECK(new_fails(c, "ES256 listed but no key of its type"));
	c = cfg_new("ES384");
	c->auth.jwt.public_key_file = strdup(tmp_file("fam-ec.pem", EC256_PEM));
	CHECK(new_fails(c, "ES384 listed but no key of its type"));

	/* several families in one file: each key only verifies its own */
	snprintf(all, sizeof(all), "%s%s%s", RSA1_PEM, EC256_PEM, ED25519_PEM);
	c = cfg_new("RS256,PS256,ES256,EdDSA");
	c->auth.jwt.public_key_file = strdup(tmp_file("fam-all.pem", all));
	v = verifier(c);
	CHECK_INT(verify(v, RS256_VALID), JWT_OK);
	CHECK_INT(verify(v, PS256_VALID), JWT_OK);
	CHECK_INT(verify(v, ES256_VALID), JWT_OK);
	CHECK_INT(verify(v, EDDSA_VALID), JWT_OK);
	CHECK_INT(verify(v, ES256_DER_SIG), JWT_ERR_SIGNATURE);
	jwt_verifier_free(v);
}

static void test_jwks(void)
{
	struct sg_config *c = cfg_new("RS256,PS256,ES256,ES384,EdDSA,HS256");
	struct jwt_verifier *v;
	const char *jwks = tmp_file("keys.jwks", JWKS);

	cfg_secret(c, SECRET);
	c->auth.jwt.jwks_file = strdup(jwks);
	v = verifier(c);
	/* kid selects the key */
	CHECK_INT(verify(v, JWKS_RS256_RSA2_KID2), JWT_OK);
	CHECK_INT(verify(v, JWKS_RS256_RSA2_KID1), JWT_ERR_SIGNATURE);
	CHECK_INT(verify(v, JWKS_RS256_RSA2_KID9), JWT_ERR_KEY);
	/* without kid every key of the family is tried */
	CHECK_INT(verify(v, JWKS_RS256_RSA2_NOKID), JWT_OK);
	CHECK_INT(verify(v, RS256_VALID), JWT_OK);
	/* the JWK "alg" restricts the key: rsa-2 is RS256 only */
	CHECK_INT(verify(v, JWKS_PS256_RSA2_KID2), JWT_ERR_KEY);
	CHECK_INT(verify(v, JWKS_PS256_RSA1_KID1), JWT_OK);
	/* a kid naming a key of another family finds no key */
	CHECK_INT(verify(v, JWKS_ES256_KID_RSA1), JWT_ERR_KEY);
	CHECK_INT(verify(v, JWKS_RS256_KID_EC256), JWT_ERR_KEY);
	CHECK_INT(verify(v, JWKS_ES256_KID), JWT_OK);
	CHECK_INT(verify(v, JWKS_ES384_KID), JWT_OK);
	CHECK_INT(verify(v, JWKS_EDDSA_KID), JWT_OK);
	CHECK_INT(verify(v, JWKS_EDDSA_NOKID), JWT_OK);
	CHECK_INT(verify(v, ES256_VALID), JWT_OK);
	CHECK_INT(verify(v, ES384_VALID), JWT_OK);
	CHECK_INT(verify(v, EDDSA_VALID), JWT_OK);
	/* HMAC: the secret, whatever kid says */
	CHECK_INT(verify(v, JWKS_HS256_KID_OCT), JWT_OK);
	/* key selection by family, headers rewritten (signature left stale) */
	{
		static const struct {
			const char *header;
			enum jwt_status want;
		} cases[] = {
			{ "{\"alg\":\"PS256\",\"kid\":\"ec-256\"}", JWT_ERR_KEY },
			{ "{\"alg\":\"PS256\",\"kid\":\"ed-1\"}", JWT_ERR_KEY },
			{ "{\"alg\":\"RS256\",\"kid\":\"ed-1\"}", JWT_ERR_KEY },
			{ "{\"alg\":\"EdDSA\",\"kid\":\"rsa-1\"}", JWT_ERR_KEY },
			{ "{\"alg\":\"ES384\",\"kid\":\"ec-256\"}", JWT_ERR_KEY },
			{ "{\"alg\":\"ES256\",\"kid\":\"ec-384\"}", JWT_ERR_KEY },
			{ "{\"alg\":\"ES256\",\"kid\":\"oct-1\"}", JWT_ERR_KEY },
			{ "{\"alg\":\"ES256\",\"kid\":\"rsa-enc\"}", JWT_ERR_KEY },
			{ "{\"alg\":\"PS256\",\"kid\":\"rsa-1\"}", JWT_ERR_SIGNATURE },
			{ "{\"alg\":\"ES256\",\"kid\":\"ec-256\"}", JWT_ERR_SIGNATURE },
			{ "{\"alg\":\"ES256\"}", JWT_ERR_SIGNATURE },
		};
		for (size_t i = 0; i < SG_ARRAY_LEN(cases); i++) {
			char *t = with_header(cases[i].header, RS256_VALID);
			CHECK_INT(verify(v, t), cases[i].want);
			free(t);
		}
	}
	jwt_verifier_free(v);

	/* an "oct" JWK is never an HMAC key */
	c = cfg_new("HS256,RS256");
	c->auth.jwt.jwks_file = strdup(jwks);
	CHECK(new_fails(c, "HS256 listed but no auth.jwt.secret"));

	/* an unknown kid falls back to keys without a kid (the PEM file) */
	c = cfg_new("RS256");
	c->auth.jwt.jwks_file = strdup(jwks);
	c->auth.jwt.public_key_file = strdup(tmp_file("jwks-rsa1.pem", RSA1_PEM));
	v = verifier(c);
	CHECK_INT(verify(v, JWKS_RS256_RSA2_KID9), JWT_ERR_SIGNATURE);
	CHECK_INT(verify(v, JWKS_RS256_RSA2_KID2), JWT_OK);
	jwt_verifier_free(v);
}

static void test_bad_key_files(void)
{
	struct sg_config *c;
	char text[4096];

	c = cfg_new("RS256");
	c->auth.jwt.public_key_file = strdup("/nonexistent/siogate-key.pem");
	CHECK(new_fails(c, "public_key_file /nonexistent/siogate-key.pem: No such file"));
	c = cfg_new("RS256");
	c->auth.jwt.public_key_file = strdup(tmp_file("garbage.pem", "not a key\n"));
	CHECK(new_fails(c, "no PEM public key or certificate"));
	c = cfg_new("RS256");
	c->auth.jwt.public_key_file = strdup(tmp_file(
		"private.pem", "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"));
	CHECK(new_fails(c, "a private key"));
	c = cfg_new("RS256");
	c->auth.jwt.public_key_file = strdup(tmp_file(
		"broken.pem", "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"));
	CHECK(new_fails(c, "cannot parse"));
	c = cfg_new("RS256");
	c->auth.jwt.public_key_file = strdup(tmp_file("small.pem", RSA_SMALL_PEM));
	CHECK(new_fails(c, "RSA key of 1024 bits"));
	c = cfg_new("ES256");
	c->auth.jwt.public_key_file = strdup(tmp_file("p521.pem", EC521_PEM));
	CHECK(new_fails(c, "EC curve secp521r1 is not supported"));

	/* JWKS problems */
	c = cfg_new("RS256");
	c->auth.jwt.jwks_file = strdup(tmp_file("bad1.jwks", "{\"keys\": ["));
	CHECK(new_fails(c, "jwks_file"));
	c = cfg_new("RS256");
	c->auth.jwt.jwks_file = strdup(tmp_file("bad2.jwks", "{\"keys\": {}}"));
	CHECK(new_fails(c, "no \"keys\" array"));
	c = cfg_new("RS256");
	c->auth.jwt.jwks_file = strdup(tmp_file("bad3.jwks", "{\"keys\": []}"));
	CHECK(new_fails(c, "no usable signature key"));
	c = cfg_new("RS256");
	c->auth.jwt.jwks_file = strdup(tmp_file("bad4.jwks", "{\"keys\": [{\"kty\":\"RSA\","
							     "\"e\":\"AQAB\"}]}"));
	CHECK(new_fails(c, "keys[0]: \"n\" missing"));
	snprintf(text, sizeof(text),
		 "{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"%s\",\"y\":\"%s\"}]}",
		 JWK_EC256_X, JWK_EC384_Y);
	c = cfg_new("ES256");
	c->auth.jwt.jwks_file = strdup(tmp_file("bad5.jwks", text));
	CHECK(new_fails(c, "must be 32 bytes"));
	/* a point off the curve: y of the key with one bit changed */
	snprintf(text, sizeof(text),
		 "{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"%s\",\"y\":\"%s\"}]}",
		 JWK_EC256_X, JWK_EC256_Y);
	{
		char *y = strstr(text, JWK_EC256_Y) + 5;
		*y = *y == 'A' ? 'B' : 'A';
	}
	c = cfg_new("ES256");
	c->auth.jwt.jwks_file = strdup(tmp_file("bad6.jwks", text));
	CHECK(new_fails(c, "invalid EC key"));
	c = cfg_new("EdDSA");
	c->auth.jwt.jwks_file = strdup(tmp_file(
		"bad7.jwks", "{\"keys\":[{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"AAAA\"}]}"));
	CHECK(new_fails(c, "must be 32 bytes"));
	snprintf(text, sizeof(text),
		 "{\"keys\":[{\"kty\":\"RSA\",\"alg\":\"ES256\",\"n\":\"%s\",\"e\":\"AQAB\"}]}",
		 JWK_RSA1_N);
	c = cfg_new("RS256");
	c->auth.jwt.jwks_file = strdup(tmp_file("bad8.jwks", text));
	CHECK(new_fails(c, "\"alg\" ES256 does not fit a RSA key"));
	/* the same key without the wrong alg is fine */
	snprintf(text, sizeof(text),
		 "{\"keys\":[{\"kty\":\"RSA\",\"n\":\"%s\",\"e\":\"AQAB\"}]}", JWK_RSA1_N);
	c = cfg_new("RS256");
	c->auth.jwt.jwks_file = strdup(tmp_file("good.jwks", text));
	{
		struct jwt_verifier *v = verifier(c);
		CHECK_INT(verify(v, RS256_VALID), JWT_OK);
		jwt_verifier_free(v);
	}

	/* algorithm lists */
	CHECK(new_fails(cfg_new(""), "empty list"));
	c = cfg_new("HS1024");
	cfg_secret(c, SECRET);
	CHECK(new_fails(c, "unsupported algorithm 'HS1024'"));
	CHECK(new_fails(cfg_new("HS256"), "HS256 listed but no auth.jwt.secret"));
	CHECK(new_fails(cfg_new("EdDSA"), "EdDSA listed but no key"));
}

static void test_sign_hmac(void)
{
	struct sg_err err = { 0 };
	json_t *claims = json_loads(RT_CLAIMS, 0, NULL);
	struct sg_config *c = cfg_new("HS256,HS512");
	struct jwt_verifier *v;
	json_t *got = NULL;
	char *tok = NULL;

	cfg_secret(c, SECRET);
	v = verifier(c);
	CHECK(claims != NULL);

	CHECK_INT(jwt_sign_hmac("HS256", SECRET, strlen(SECRET), NULL, claims, &tok, &err), 0);
	CHECK_STR(tok, RT_HS256);
	CHECK_INT(jwt_verify(v, tok, strlen(tok), NOW_MS, &got), JWT_OK);
	CHECK(json_equal(got, claims));
	json_decref(got);
	free(tok);

	CHECK_INT(jwt_sign_hmac("HS512", SECRET, strlen(SECRET), "k1", claims, &tok, &err), 0);
	CHECK_STR(tok, RT_HS512_KID);
	CHECK_INT(verify(v, tok), JWT_OK);
	free(tok);

	/* HS384 is not listed in this verifier, but verifies in hs_cfg's */
	CHECK_INT(jwt_sign_hmac("HS384", SECRET, strlen(SECRET), NULL, claims, &tok, &err), 0);
	CHECK_INT(verify(v, tok), JWT_ERR_ALG);
	jwt_verifier_free(v);
	v = verifier(hs_cfg());
	CHECK_INT(verify(v, tok), JWT_ERR_ISSUER); /* RT claims have no iss */
	jwt_verifier_free(v);
	free(tok);

	tok = (char *)"x";
	CHECK_INT(jwt_sign_hmac("RS256", SECRET, strlen(SECRET), NULL, claims, &tok, &err), -1);
	CHECK(tok == NULL);
	CHECK(strstr(err.msg, "RS256") != NULL);
	CHECK_INT(jwt_sign_hmac("none", SECRET, strlen(SECRET), NULL, claims, &tok, &err), -1);
	CHECK_INT(jwt_sign_hmac(NULL, SECRET, strlen(SECRET), NULL, claims, &tok, &err), -1);
	CHECK_INT(jwt_sign_hmac("HS256", SECRET, 0, NULL, claims, &tok, &err), -1);
	CHECK_STR(err.msg, "token: empty secret");
	json_decref(claims);
	claims = json_array();
	CHECK_INT(jwt_sign_hmac("HS256", SECRET, strlen(SECRET), NULL, claims, &tok, &err), -1);
	CHECK_STR(err.msg, "token: claims must be a JSON object");
	CHECK(tok == NULL);
	json_decref(claims);
}

/* jwt_verify_why: the same verdicts as jwt_verify, each with its reason. */
static void why_case(const struct jwt_verifier *v, const char *token, int64_t now,
		     enum jwt_status want, const char *reason)
{
	struct sg_err why = { 0 };
	json_t *claims = NULL;
	enum jwt_status st = jwt_verify_why(v, token, strlen(token), now, &claims, &why);

	CHECK_INT(st, want);
	CHECK_INT(st, jwt_verify(v, token, strlen(token), now, NULL));
	if (st == JWT_OK) {
		CHECK(json_is_object(claims));
		json_decref(claims);
	} else {
		CHECK(claims == NULL);
		CHECK_STR(why.msg, reason);
	}
}

static void test_reasons(void)
{
	struct sg_config *c = hs_cfg();
	struct jwt_verifier *v;
	char *t;

	v = verifier(hs_cfg());
	why_case(v, HS256_VALID, NOW_MS, JWT_OK, NULL);
	why_case(v, HS256_EXPIRED_10S, NOW_MS, JWT_ERR_EXPIRED,
		 "token expired at 2023-11-14T22:13:10Z (leeway 0s)");
	why_case(v, HS256_NBF_60S, NOW_MS, JWT_ERR_NOT_YET_VALID,
		 "token not valid before 2023-11-14T22:14:20Z (leeway 0s)");
	why_case(v, HS256_EXP_STRING, NOW_MS, JWT_ERR_MALFORMED, "the exp claim is not a number");
	why_case(v, HS256_NBF_BOOL, NOW_MS, JWT_ERR_MALFORMED, "the nbf claim is not a number");
	why_case(v, HS256_ISS_EVIL, NOW_MS, JWT_ERR_ISSUER,
		 "issuer \"https://evil.example\" is not auth.jwt.issuer "
		 "\"https://issuer.example\"");
	why_case(v, HS256_ISS_MISSING, NOW_MS, JWT_ERR_ISSUER,
		 "no iss claim, and auth.jwt.issuer is \"https://issuer.example\"");
	why_case(v, HS256_AUD_OTHER, NOW_MS, JWT_ERR_AUDIENCE,
		 "the aud claim does not name auth.jwt.audience \"siogate\"");
	why_case(v, HS256_AUD_MISSING, NOW_MS, JWT_ERR_AUDIENCE,
		 "no aud claim, and auth.jwt.audience is \"siogate\"");
	why_case(v, HS256_PAYLOAD_NOT_JSON, NOW_MS, JWT_ERR_MALFORMED,
		 "the payload is not a JSON object");
	why_case(v, HS256_HEADER_NOT_JSON, NOW_MS, JWT_ERR_MALFORMED,
		 "the header is not a base64url JSON object");
	why_case(v, HS256_HEADER_NO_ALG, NOW_MS, JWT_ERR_MALFORMED, "the header has no alg");
	why_case(v, HS256_HEADER_CRIT, NOW_MS, JWT_ERR_MALFORMED,
		 "the header has crit (no extension is understood)");
	why_case(v, HS256_HEADER_KID_NUMBER, NOW_MS, JWT_ERR_MALFORMED,
		 "the header's kid is not a string");
	why_case(v, HS256_LOWERCASE_ALG, NOW_MS, JWT_ERR_ALG, "algorithm hs256 is not supported");
	why_case(v, NONE_TOKEN, NOW_MS, JWT_ERR_ALG,
		 "algorithm none: unsigned tokens are never accepted");
	why_case(v, RS256_VALID, NOW_MS, JWT_ERR_ALG, "algorithm RS256 not in auth.jwt.algorithms");
	why_case(v, "a.b", NOW_MS, JWT_ERR_MALFORMED, "not a JWT: not three parts separated by dots");
	why_case(v, "", NOW_MS, JWT_ERR_MALFORMED, "empty token");
	t = tweak(HS256_VALID, sig_start(HS256_VALID) + 3);
	why_case(v, t, NOW_MS, JWT_ERR_SIGNATURE, "signature does not verify");
	free(t);
	jwt_verifier_free(v);

	c->auth.jwt.leeway_ms = 1500;
	v = verifier(c);
	why_case(v, HS256_EXP_NOW, NOW_MS + 1500, JWT_ERR_EXPIRED,
		 "token expired at 2023-11-14T22:13:20Z (leeway 1500ms)");
	jwt_verifier_free(v);

	/* keys picked by kid */
	c = cfg_new("RS256,ES256");
	c->auth.jwt.jwks_file = strdup(tmp_file("why.jwks", JWKS));
	v = verifier(c);
	why_case(v, JWKS_RS256_RSA2_KID2, NOW_MS, JWT_OK, NULL);
	why_case(v, JWKS_RS256_RSA2_KID1, NOW_MS, JWT_ERR_SIGNATURE, "signature does not verify");
	why_case(v, JWKS_RS256_RSA2_KID9, NOW_MS, JWT_ERR_KEY,
		 "no key with kid \"rsa-9\" (and no RS256 key without a kid) in "
		 "auth.jwt.public_key_file or jwks_file");
	why_case(v, JWKS_ES256_KID_RSA1, NOW_MS, JWT_ERR_KEY,
		 "the key with kid \"rsa-1\" is not for ES256");
	jwt_verifier_free(v);
}

static void test_status_str(void)
{
	CHECK_STR(jwt_status_str(JWT_OK), "ok");
	CHECK_STR(jwt_status_str(JWT_ERR_MALFORMED), "malformed");
	CHECK_STR(jwt_status_str(JWT_ERR_ALG), "algorithm refused");
	CHECK_STR(jwt_status_str(JWT_ERR_KEY), "no key");
	CHECK_STR(jwt_status_str(JWT_ERR_SIGNATURE), "bad signature");
	CHECK_STR(jwt_status_str(JWT_ERR_EXPIRED), "expired");
	CHECK_STR(jwt_status_str(JWT_ERR_NOT_YET_VALID), "not yet valid");
	CHECK_STR(jwt_status_str(JWT_ERR_ISSUER), "wrong issuer");
	CHECK_STR(jwt_status_str(JWT_ERR_AUDIENCE), "wrong audience");
}

int main(void)
{
	const char *base = getenv("TMPDIR");
	int rc;

	snprintf(tmp_dir, sizeof(tmp_dir), "%s/sg-jwt-XXXXXX", base && *base ? base : "/tmp");
	if (mkdtemp(tmp_dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	RUN(test_hs_valid);
	RUN(test_hs_alg_not_listed);
	RUN(test_wrong_secret);
	RUN(test_exp);
	RUN(test_nbf);
	RUN(test_issuer_audience);
	RUN(test_bad_signature);
	RUN(test_alg_none);
	RUN(test_malformed);
	RUN(test_hmac_public_key_confusion);
	RUN(test_rsa);
	RUN(test_ec_eddsa);
	RUN(test_key_families);
	RUN(test_jwks);
	RUN(test_bad_key_files);
	RUN(test_sign_hmac);
	RUN(test_reasons);
	RUN(test_status_str);
	rc = UNIT_END();
	for (size_t i = 0; i < n_tmp_files; i++)
		unlink(tmp_files[i]);
	rmdir(tmp_dir);
	return rc;
}
