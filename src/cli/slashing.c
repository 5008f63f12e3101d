/*
 * slashing.c — `containment-chamber slashing ...`: the anti-slashing database
 * from the command line, a thin shell over src/slashing.
 *
 *   slashing import --file F             EIP-3076 interchange v5 into the database (all or nothing)
 *   slashing export --file F|-           every validator (or --pubkey P, repeatable) out
 *   slashing check-block --pubkey P --slot S --signing-root R
 *   slashing check-attestation --pubkey P --source-epoch S --target-epoch T --signing-root R
 *
 * The backend comes from -c config.yaml (anti_slashing.*), or directly from
 * --backend sqlite --path FILE (flags win).  --genesis-validators-root binds
 * or opens the database; import defaults it to the file's root, and it also
 * defaults to the config's.  Exit codes: 0 allowed and recorded (or import /
 * export done), 3 refused as slashable, 1 error, 2 usage.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "config/config.h"
#include "signing/network.h"
#include "slashing/slashing.h"
#include "util/hex.h"

extern char **environ;

#define EXIT_REFUSED 3
#define EXIT_ERROR 1
#define EXIT_USAGE 2
#define MAX_PUBKEYS 4096

typedef struct slashing_args {
    const char *sub, *config, *backend, *path, *gvr, *file;
    const char *pubkey, *slot, *root, *source, *target;
    const char *pubkeys[MAX_PUBKEYS];
    size_t pubkey_count;
} slashing_args;

static void usage(FILE *f)
{
    fprintf(f,
            "usage: containment-chamber slashing <subcommand> [options]\n"
            "\n"
            "subcommands:\n"
            "  import --file F                  import an EIP-3076 interchange (v5); all or nothing\n"
            "  export --file F|- [--pubkey P]   export every validator (or those listed)\n"
            "  check-block --pubkey P --slot S --signing-root R\n"
            "  check-attestation --pubkey P --source-epoch S --target-epoch T --signing-root R\n"
            "                                   check and record, as signing does\n"
            "\n"
            "options:\n"
            "  -c, --config FILE                configuration (anti_slashing.*, genesis_validators_root)\n"
            "  --backend sqlite|noop             overrides anti_slashing.backend (postgres, dynamodb: use -c)\n"
            "  --path FILE                      overrides anti_slashing.path (sqlite)\n"
            "  --genesis-validators-root G      the network the database is bound to\n"
            "                                   (import: defaults to the file's)\n"
            "\n"
            "exit: 0 allowed (or done), 3 refused as slashable, 1 error, 2 usage\n");
}

static int parse_args(int argc, char **argv, slashing_args *a)
{
    memset(a, 0, sizeof *a);
    if (argc < 2) {
        usage(stderr);
        return -1;
    }
    a->sub = argv[1];
    if (strcmp(a->sub, "help") == 0 || strcmp(a->sub, "--help") == 0 || strcmp(a->sub, "-h") == 0) {
        usage(stdout);
        return 1;
    }
    static const struct {
        const char *name;
        size_t off;
    } flags[] = {
        {"-c", offsetof(slashing_args, config)},
        {"--config", offsetof(slashing_args, config)},
        {"--backend", offsetof(slashing_args, backend)},
        {"--path", offsetof(slashing_args, path)},
        {"--genesis-validators-root", offsetof(slashing_args, gvr)},
        {"--file", offsetof(slashing_args, file)},
        {"--pubkey", offsetof(slashing_args, pubkey)},
        {"--slot", offsetof(slashing_args, slot)},
        {"--signing-root", offsetof(slashing_args, root)},
        {"--source-epoch", offsetof(slashing_args, source)},
        {"--target-epoch", offsetof(slashing_args, target)},
    };
    for (int i = 2; i < argc; i++) {
        const char *arg = argv[i], *val = NULL;
        const char *eq = strchr(arg, '=');
        size_t nlen = eq ? (size_t)(eq - arg) : strlen(arg);
        size_t k = 0;
        for (; k < sizeof flags / sizeof flags[0]; k++)
            if (strlen(flags[k].name) == nlen && strncmp(flags[k].name, arg, nlen) == 0)
                break;
        if (k == sizeof flags / sizeof flags[0]) {
            fprintf(stderr, "containment-chamber slashing: unknown option '%s'\n", arg);
            return -1;
        }
        if (eq) {
            val = eq + 1;
        } else if (i + 1 < argc) {
            val = argv[++i];
        } else {
            fprintf(stderr, "containment-chamber slashing: %s needs a value\n", flags[k].name);
            return -1;
        }
        *(const char **)((char *)a + flags[k].off) = val;
        if (flags[k].off == offsetof(slashing_args, pubkey)) {
            if (a->pubkey_count == MAX_PUBKEYS) {
                fprintf(stderr, "containment-chamber slashing: too many --pubkey\n");
                return -1;
            }
            a->pubkeys[a->pubkey_count++] = val;
        }
    }
    return 0;
}

static char *read_all(const char *file, size_t *len, cc_error *err)
{
    FILE *f = strcmp(file, "-") == 0 ? stdin : fopen(file, "rb");
    if (!f) {
        cc_error_set(err, CC_EIO, "%s: cannot open", file);
        return NULL;
    }
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        if (n == cap) {
            char *nb = realloc(buf, cap *= 2);
            if (!nb) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
        }
        size_t r = fread(buf + n, 1, cap - n, f);
        n += r;
        if (r == 0)
            break;
    }
    int bad = ferror(f);
    if (f != stdin)
        fclose(f);
    if (!buf || bad) {
        free(buf);
        cc_error_set(err, buf ? CC_EIO : CC_ENOMEM, "%s: cannot read", file);
        return NULL;
    }
    *len = n;
    return buf;
}

static int status_exit(cc_status st)
{
    return st == CC_OK ? 0 : st == CC_ESLASHABLE ? EXIT_REFUSED : EXIT_ERROR;
}

static int fail(const cc_error *err)
{
    fprintf(stderr, "containment-chamber slashing: %s\n", err->msg);
    return status_exit(err->code);
}

/* Resolves the backend settings (config file, then flags) and opens it bound to gvr. */
static cc_status open_backend(const slashing_args *a, cc_config *cfg, int have_cfg, const uint8_t gvr[32],
                              cc_slashing **db, cc_error *err)
{
    cc_slashing_config sc = {0};
    if (have_cfg) {
        sc.backend = cfg->anti_slashing_backend;
        sc.path = cfg->anti_slashing_path;
        sc.url = cfg->anti_slashing_url;
        sc.pool_size = cfg->anti_slashing_pool_size;
        sc.table = cfg->anti_slashing_table;
        sc.aws_region = cfg->aws_region;
        sc.aws_endpoint_dynamodb = cfg->aws_endpoint_dynamodb;
        sc.aws_endpoint_sts = cfg->aws_endpoint_sts;
    } else {
        sc.backend = "sqlite";
        sc.path = "./slashing_protection.sqlite";
    }
    if (a->backend)
        sc.backend = a->backend;
    if (a->path)
        sc.path = a->path;
    return cc_slashing_open(&sc, gvr, db, err);
}

static int need(const char *val, const char *flag, const char *sub)
{
    if (val)
        return 1;
    fprintf(stderr, "containment-chamber slashing %s: %s is required\n", sub, flag);
    return 0;
}

static int cmd_import(const slashing_args *a, cc_slashing *db, const cc_interchange *ic)
{
    cc_error err;
    if (db->ops->import(db, ic, &err) != CC_OK) {
        cc_error_prefix(&err, "%s", a->file);
        return fail(&err);
    }
    printf("imported %zu validator entries from %s\n", ic->validator_count, a->file);
    return 0;
}

static int cmd_export(const slashing_args *a, cc_slashing *db)
{
    cc_error err;
    uint8_t (*pks)[48] = NULL;
    if (a->pubkey_count) {
        pks = calloc(a->pubkey_count, sizeof *pks);
        if (!pks) {
            fprintf(stderr, "containment-chamber slashing export: out of memory\n");
            return EXIT_ERROR;
        }
        for (size_t i = 0; i < a->pubkey_count; i++) {
            if (cc_hex_decode_exact(a->pubkeys[i], pks[i], 48, &err) != CC_OK) {
                free(pks);
                cc_error_prefix(&err, "--pubkey %s", a->pubkeys[i]);
                return fail(&err);
            }
        }
    }
    cc_interchange *ic = NULL;
    char *json = NULL;
    cc_status st = db->ops->export_(db, (const uint8_t(*)[48])pks, a->pubkey_count, &ic, &err);
    free(pks);
    if (st == CC_OK)
        st = cc_interchange_write(ic, &json, &err);
    cc_interchange_free(ic);
    if (st != CC_OK)
        return fail(&err);
    int to_stdout = strcmp(a->file, "-") == 0;
    FILE *f = to_stdout ? stdout : fopen(a->file, "w");
    int bad = !f;
    if (f) {
        bad |= fputs(json, f) < 0 || fputc('\n', f) == EOF;
        bad |= to_stdout ? fflush(f) != 0 : fclose(f) != 0;
    }
    free(json);
    if (bad) {
        fprintf(stderr, "containment-chamber slashing export: %s: cannot write\n", a->file);
        return EXIT_ERROR;
    }
    return 0;
}

static int parse_common(const char *pubkey_hex, const char *root_hex, uint8_t pk[48], uint8_t root[32])
{
    cc_error err;
    if (cc_hex_decode_exact(pubkey_hex, pk, 48, &err) != CC_OK) {
        cc_error_prefix(&err, "--pubkey");
        return fail(&err);
    }
    if (cc_hex_decode_exact(root_hex, root, 32, &err) != CC_OK) {
        cc_error_prefix(&err, "--signing-root");
        return fail(&err);
    }
    return 0;
}

static int report_check(cc_status st, const cc_error *err)
{
    if (st == CC_OK) {
        printf("allowed\n");
        return 0;
    }
    if (st == CC_ESLASHABLE) {
        fprintf(stderr, "refused: %s\n", err->msg);
        return EXIT_REFUSED;
    }
    return fail(err);
}

static int cmd_check_block(const slashing_args *a, cc_slashing *db)
{
    uint8_t pk[48], root[32];
    uint64_t slot;
    cc_error err;
    int rc = parse_common(a->pubkey, a->root, pk, root);
    if (rc)
        return rc;
    if (cc_parse_u64(a->slot, &slot, &err) != CC_OK) {
        cc_error_prefix(&err, "--slot");
        return fail(&err);
    }
    cc_status st = cc_slashing_check_block(db, pk, slot, root, &err);
    return report_check(st, &err);
}

static int cmd_check_attestation(const slashing_args *a, cc_slashing *db)
{
    uint8_t pk[48], root[32];
    uint64_t source, target;
    cc_error err;
    int rc = parse_common(a->pubkey, a->root, pk, root);
    if (rc)
        return rc;
    if (cc_parse_u64(a->source, &source, &err) != CC_OK) {
        cc_error_prefix(&err, "--source-epoch");
        return fail(&err);
    }
    if (cc_parse_u64(a->target, &target, &err) != CC_OK) {
        cc_error_prefix(&err, "--target-epoch");
        return fail(&err);
    }
    cc_status st = cc_slashing_check_attestation(db, pk, source, target, root, &err);
    return report_check(st, &err);
}

int cc_cmd_slashing(int argc, char **argv)
{
    slashing_args a;
    int prc = parse_args(argc, argv, &a);
    if (prc)
        return prc > 0 ? 0 : EXIT_USAGE;

    enum { IMPORT, EXPORT, CHECK_BLOCK, CHECK_ATT } sub;
    if (strcmp(a.sub, "import") == 0)
        sub = IMPORT;
    else if (strcmp(a.sub, "export") == 0)
        sub = EXPORT;
    else if (strcmp(a.sub, "check-block") == 0)
        sub = CHECK_BLOCK;
    else if (strcmp(a.sub, "check-attestation") == 0)
        sub = CHECK_ATT;
    else {
        fprintf(stderr, "containment-chamber slashing: unknown subcommand '%s'\n", a.sub);
        usage(stderr);
        return EXIT_USAGE;
    }
    switch (sub) {
    case IMPORT:
    case EXPORT:
        if (!need(a.file, "--file", a.sub))
            return EXIT_USAGE;
        break;
    case CHECK_BLOCK:
        if (!need(a.pubkey, "--pubkey", a.sub) || !need(a.slot, "--slot", a.sub) ||
            !need(a.root, "--signing-root", a.sub))
            return EXIT_USAGE;
        break;
    case CHECK_ATT:
        if (!need(a.pubkey, "--pubkey", a.sub) || !need(a.source, "--source-epoch", a.sub) ||
            !need(a.target, "--target-epoch", a.sub) || !need(a.root, "--signing-root", a.sub))
            return EXIT_USAGE;
        break;
    }

    cc_error err;
    cc_config cfg;
    int have_cfg = 0;
    if (a.config) {
        if (cc_config_load(&cfg, a.config, environ, 0, NULL, &err) != CC_OK)
            return fail(&err); /* the loader names the file and the key */
        have_cfg = 1;
    }

    int rc = EXIT_ERROR;
    cc_interchange *ic = NULL;
    cc_slashing *db = NULL;
    uint8_t gvr[32];
    int have_gvr = 0;

    if (sub == IMPORT) {
        /* Parse first: a malformed file is refused before the database is touched. */
        size_t len = 0;
        char *text = read_all(a.file, &len, &err);
        if (!text) {
            rc = fail(&err);
            goto out;
        }
        cc_status st = cc_interchange_parse(text, len, &ic, &err);
        free(text);
        if (st != CC_OK) {
            cc_error_prefix(&err, "%s", a.file);
            rc = fail(&err);
            goto out;
        }
    }
    if (a.gvr) {
        if (cc_hex_decode_exact(a.gvr, gvr, 32, &err) != CC_OK) {
            cc_error_prefix(&err, "--genesis-validators-root");
            rc = fail(&err);
            goto out;
        }
        have_gvr = 1;
    } else if (have_cfg) {
        /* The configured network (named, or a devnet config.yaml + genesis_validators_root) binds the database. */
        cc_network net;
        if (cc_network_load(cfg.network, cfg.genesis_validators_root[0] ? cfg.genesis_validators_root : NULL, &net,
                            &err) != CC_OK) {
            cc_error_prefix(&err, "network");
            rc = fail(&err);
            goto out;
        }
        memcpy(gvr, net.genesis_validators_root, 32);
        have_gvr = 1;
    } else if (ic) {
        memcpy(gvr, ic->genesis_validators_root, 32);
        have_gvr = 1;
    }
    if (!have_gvr) {
        fprintf(stderr, "containment-chamber slashing %s: --genesis-validators-root is required "
                        "(or genesis_validators_root in the configuration)\n", a.sub);
        rc = EXIT_USAGE;
        goto out;
    }

    if (open_backend(&a, &cfg, have_cfg, gvr, &db, &err) != CC_OK) {
        rc = fail(&err);
        goto out;
    }
    switch (sub) {
    case IMPORT:      rc = cmd_import(&a, db, ic); break;
    case EXPORT:      rc = cmd_export(&a, db); break;
    case CHECK_BLOCK: rc = cmd_check_block(&a, db); break;
    case CHECK_ATT:   rc = cmd_check_attestation(&a, db); break;
    }
out:
    cc_slashing_close(db);
    cc_interchange_free(ic);
    if (have_cfg)
        cc_config_free(&cfg);
    return rc;
}
