/*
 * cli.h — the subcommands; each returns the process exit code.
 */
#ifndef CC_CLI_H
#define CC_CLI_H

#define CC_VERSION "0.1.0"

int cc_cmd_server(int argc, char **argv);
int cc_cmd_slashing(int argc, char **argv);
int cc_cmd_keystore(int argc, char **argv);
int cc_cmd_dynamodb(int argc, char **argv);
int cc_cmd_operator(int argc, char **argv);
int cc_cmd_attestation(int argc, char **argv);
int cc_cmd_pcr(int argc, char **argv);
int cc_cmd_describe_eif(int argc, char **argv);
int cc_cmd_parent(int argc, char **argv); /* Nitro (issue 8): the parent-side relay */

#endif
