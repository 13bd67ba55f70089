/*
 * service_test.c
 *	  Unit tests of the service library's framework-independent modules:
 *	  tokens and configuration.  Prints "N passed, N failed" last.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "service/config.h"
#include "service/token.h"
#include "unit.h"

/* Tokens: format, uniqueness, hashing and matching. */
static void
test_tokens(void)
{
	char		a[SVC_TOKEN_HEX + 1],
				b[SVC_TOKEN_HEX + 1];
	uint8_t		h[SVC_TOKEN_SHA256],
				h2[SVC_TOKEN_SHA256];
	char		wrong[SVC_TOKEN_HEX + 1];

	check(svc_token_new(a) == 0 && svc_token_new(b) == 0, "tokens generated");
	check(strlen(a) == SVC_TOKEN_HEX && svc_token_well_formed(a, strlen(a)), "48 lowercase hex");
	check(strcmp(a, b) != 0, "two tokens differ");
	svc_token_hash(a, strlen(a), h);
	svc_token_hash(a, strlen(a), h2);
	check(memcmp(h, h2, sizeof(h)) == 0, "hash is deterministic");
	check(svc_token_matches(a, strlen(a), h), "token matches its hash");
	check(!svc_token_matches(b, strlen(b), h), "other token does not match");
	memcpy(wrong, a, sizeof(wrong));
	wrong[SVC_TOKEN_HEX - 1] = wrong[SVC_TOKEN_HEX - 1] == '0' ? '1' : '0';
	check(!svc_token_matches(wrong, strlen(wrong), h), "one changed character does not match");
	check(!svc_token_matches(a, SVC_TOKEN_HEX - 1, h), "a prefix does not match");
	check(!svc_token_well_formed("ABCDEF", 6), "short token malformed");
	{
		char		upper[SVC_TOKEN_HEX + 1];

		memset(upper, 'A', SVC_TOKEN_HEX);
		upper[SVC_TOKEN_HEX] = '\0';
		check(!svc_token_well_formed(upper, SVC_TOKEN_HEX), "uppercase malformed");
	}
	/* SHA-256 known answer: "abc". */
	{
		static const uint8_t abc[32] = {
			0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea, 0x41, 0x41, 0x40, 0xde, 0x5d, 0xae, 0x22, 0x23,
			0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17, 0x7a, 0x9c, 0xb4, 0x10, 0xff, 0x61, 0xf2, 0x00, 0x15, 0xad
		};

		svc_token_hash("abc", 3, h);
		check(memcmp(h, abc, 32) == 0, "SHA-256 known answer");
	}
}

/* Configuration: NAME, NAME_FILE, both, fallbacks, redaction. */
static void
test_config(void)
{
	char	   *v;
	char		err[256],
				out[256];
	char		path[] = "/tmp/pprl-config-XXXXXX";
	int			fd = mkstemp(path);

	check(fd >= 0 && write(fd, "s3cret\n", 7) == 7, "temp file written");
	close(fd);
	unsetenv("PPRL_T");
	unsetenv("PPRL_T_FILE");
	check(svc_config_get("PPRL_T", "dflt", &v, err, sizeof(err)) == 0 && strcmp(v, "dflt") == 0,
		  "fallback when unset");
	free(v);
	check(svc_config_get("PPRL_T", NULL, &v, err, sizeof(err)) == 0 && v == NULL, "unset is NULL");
	setenv("PPRL_T", "direct", 1);
	check(svc_config_get("PPRL_T", "dflt", &v, err, sizeof(err)) == 0 && strcmp(v, "direct") == 0,
		  "environment value");
	free(v);
	setenv("PPRL_T_FILE", path, 1);
	check(svc_config_get("PPRL_T", NULL, &v, err, sizeof(err)) == -1 && strstr(err, "both") != NULL,
		  "both set is an error");
	unsetenv("PPRL_T");
	check(svc_config_get("PPRL_T", NULL, &v, err, sizeof(err)) == 0 && strcmp(v, "s3cret") == 0,
		  "file value, newline stripped");
	free(v);
	setenv("PPRL_T_FILE", "/nonexistent/pprl", 1);
	check(svc_config_get("PPRL_T", NULL, &v, err, sizeof(err)) == -1 && strstr(err, "/nonexistent/pprl") != NULL,
		  "missing file is an error naming it");
	unsetenv("PPRL_T_FILE");
	unlink(path);

	svc_config_describe("TOKEN", "s3cret", true, out, sizeof(out));
	check(strstr(out, "s3cret") == NULL && strstr(out, "redacted") != NULL, "secret redacted");
	svc_config_describe("DATABASE_URL", "postgresql://app:pw123@db:5432/x", false, out, sizeof(out));
	check(strstr(out, "pw123") == NULL && strstr(out, "postgresql://app:") != NULL &&
		  strstr(out, "@db:5432/x") != NULL, "URL password redacted");
	svc_config_describe("DATABASE_URL", "host=db password=pw456 user=app", false, out, sizeof(out));
	check(strstr(out, "pw456") == NULL && strstr(out, "user=app") != NULL, "keyword password redacted");
	svc_config_describe("PORT", "8851", false, out, sizeof(out));
	check(strcmp(out, "PORT=8851") == 0, "plain value shown");
	svc_config_describe("X", NULL, false, out, sizeof(out));
	check(strcmp(out, "X=(unset)") == 0, "unset shown");
}

int
main(void)
{
	test_tokens();
	test_config();
	return test_summary();
}
