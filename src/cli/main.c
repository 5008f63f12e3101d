/*
 * main.c — containment-chamber's command line: picks the subcommand and hands
 * over.  Each subcommand lives in its own file under src/cli and is a thin
 * shell over the library.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "util/secret.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: containment-chamber <command> [options]\n"
            "\n"
            "commands:\n"
            "  server -c config.yaml        run the signer\n"
            "  slashing import|export|check-block|check-attestation\n"
            "                               EIP-3076 anti-slashing database tools\n"
            "  keystore generate            write EIP-2335 keystores and Web3Signer descriptors\n"
            "  dynamodb create-tables -c config.yaml\n"
            "                               create the DynamoDB tables the configuration names\n"
            "  operator init|status|seal|unseal --signer-url URL\n"
            "                               Chamber API client (initialise, inspect, seal a signer)\n"
            "  attestation verify --document FILE | --url https://HOST:PORT [--root PEM] [--at S] ...\n"
            "                               verify a Nitro attestation document or an aTLS endpoint\n"
            "  pcr --signing-certificate cert.pem\n"
            "                               PCR8 of an EIF signing certificate\n"
            "  describe-eif --eif-path f.eif\n"
            "                               an enclave image's measurements (PCR0/1/2/8)\n"
            "  parent -c parent.yaml        the relay on a Nitro Enclave's parent instance\n"
            "  version                      print the version\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    cc_secret_init();
    const char *cmd = argv[1];
    if (strcmp(cmd, "server") == 0)
        return cc_cmd_server(argc - 1, argv + 1);
    if (strcmp(cmd, "slashing") == 0)
        return cc_cmd_slashing(argc - 1, argv + 1);
    if (strcmp(cmd, "keystore") == 0)
        return cc_cmd_keystore(argc - 1, argv + 1);
    if (strcmp(cmd, "dynamodb") == 0)
        return cc_cmd_dynamodb(argc - 1, argv + 1);
    if (strcmp(cmd, "operator") == 0)
        return cc_cmd_operator(argc - 1, argv + 1);
    if (strcmp(cmd, "attestation") == 0)
        return cc_cmd_attestation(argc - 1, argv + 1);
    if (strcmp(cmd, "pcr") == 0)
        return cc_cmd_pcr(argc - 1, argv + 1);
    if (strcmp(cmd, "describe-eif") == 0)
        return cc_cmd_describe_eif(argc - 1, argv + 1);
    if (strcmp(cmd, "parent") == 0) /* Nitro (issue 8) */
        return cc_cmd_parent(argc - 1, argv + 1);
    if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
        printf("containment-chamber %s\n", CC_VERSION);
        return 0;
    }
    if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
        usage(stdout);
        return 0;
    }
    fprintf(stderr, "containment-chamber: unknown command '%s'\n", cmd);
    usage(stderr);
    return 2;
}
