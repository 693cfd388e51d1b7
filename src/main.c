/*
 * main.c: the command line, the start-up order and the exit status of
 * siogate; everything else lives in its module.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd_token.h"
#include "config/config.h"
#include "config/config_secret.h"
#include "core/log.h"
#include "ops/metrics.h"
#include "server.h"

#define DEFAULT_CONFIG "/etc/siogate/siogate.yaml"

static void usage(FILE *out);
static void print_version(void);
static struct sg_config *load_or_report(const char *path);
static void list_metrics(void);

static void usage(FILE *out)
{
	fprintf(out,
		"usage: siogate [-c FILE]\n"
		"       siogate -t | --check -c FILE\n"
		"       siogate --list-keys | --list-metrics\n"
		"       siogate token --sub NAME [--ttl DURATION] [--claim k=v]... [--alg ALG]\n"
		"                     [--kid KID] [--key PRIVATE_KEY.pem] -c FILE\n"
		"       siogate token --verify TOKEN|- -c FILE\n"
		"       siogate --version | --help\n"
		"\n"
		"  -c, --config FILE   configuration file (default " DEFAULT_CONFIG ")\n"
		"  -t, --check         validate the configuration and exit\n"
		"      --list-keys     print every configuration key and exit\n"
		"      --list-metrics  print every metric of /metrics (name, type, labels, help)\n"
		"                      and exit\n"
		"  -V, --version       print versions and exit\n"
		"  -h, --help          print this help and exit\n"
		"\n"
		"token --verify prints the claims of TOKEN (- : read it from standard input) as\n"
		"JSON and exits 0, or prints why FILE's verifier refuses it and exits 1.\n"
		"\n"
		"Signals: SIGTERM/SIGINT stop gracefully; SIGHUP reloads the configuration.\n"
		"See siogate(8), siogate.yaml(5).\n");
}

static void print_version(void)
{
	char versions[256];

	printf("siogate %s\n%s\n", SG_VERSION, server_versions(versions, sizeof(versions)));
}

static void list_metrics(void)
{
	struct sg_buf b;

	sg_buf_init(&b);
	metrics_list(&b);
	fwrite(b.data, 1, b.len, stdout);
	sg_buf_fini(&b);
}

static struct sg_config *load_or_report(const char *path)
{
	struct sg_config_errors errs = { 0 };
	struct sg_config *cfg = config_load(path, &errs);

	if (cfg == NULL) {
		for (size_t i = 0; i < errs.n; i++)
			fprintf(stderr, "%s\n", errs.v[i]);
		if (errs.n == 0)
			fprintf(stderr, "%s: cannot load the configuration\n", path);
		config_errors_free(&errs);
	}
	return cfg;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "check", no_argument, NULL, 'C' },
		{ "list-keys", no_argument, NULL, 'L' },
		{ "list-metrics", no_argument, NULL, 'M' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *path = DEFAULT_CONFIG;
	bool check = false;
	struct sg_config *cfg;
	int c, status;

	if (argc > 1 && strcmp(argv[1], "token") == 0)
		return cmd_token(argc - 1, argv + 1, DEFAULT_CONFIG);
	while ((c = getopt_long(argc, argv, "c:tVh", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			path = optarg;
			break;
		case 'C':
		case 't': /* as nginx -t and sshd -t */
			check = true;
			break;
		case 'L':
			for (size_t i = 0; config_key_name(i) != NULL; i++)
				printf("%s\n", config_key_name(i));
			return 0;
		case 'M':
			list_metrics();
			return 0;
		case 'V':
			print_version();
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "siogate: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return 1;
	}
	cfg = load_or_report(path);
	if (cfg == NULL)
		return 1;
	if (check) {
		struct sg_buf weak;

		sg_buf_init(&weak);
		if (cfg_weak_secret_accepted(cfg, &weak))
			fprintf(stderr,
				"%s: warning: auth.jwt.allow_weak_secret: accepting a weak key: %s\n",
				path, weak.data);
		sg_buf_fini(&weak);
		printf("%s: configuration OK\n", path);
		config_free(cfg);
		return 0;
	}
	log_configure(cfg->log.level, cfg->log.format);
	status = server_run(cfg);
	config_free(cfg);
	return status;
}
