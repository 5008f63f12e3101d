/*
 * keystore.c — `containment-chamber keystore generate`: writes EIP-2335
 * keystores with Web3Signer descriptors beside them, ready for
 * key_sources.filesystem.paths.
 *
 *   containment-chamber keystore generate --out-dir DIR --count N
 *       [--interop] [--first I] [--kdf pbkdf2|scrypt] [--light] [--password P|env:VAR]
 *
 * --interop writes the well-known insecure interop keys (dev chains, demos);
 * otherwise every key is fresh from the OS's CSPRNG.  --light uses small KDF
 * costs and is for tests and demos only.  Each key gets
 * keystore-<pubkey>.json, its password file and a file-keystore descriptor.
 */
#include <errno.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "keys/eip2335.h"
#include "keys/interop.h"
#include "signing/bls.h"
#include "util/hex.h"
#include "util/secret.h"

static int usage(void)
{
    fprintf(stderr, "usage: containment-chamber keystore generate --out-dir DIR --count N [--interop] [--first I]\n"
                    "           [--kdf pbkdf2|scrypt] [--light] [--password P|env:VAR]\n");
    return 2;
}

static int write_file(const char *path, const char *text, mode_t mode)
{
    FILE *f = fopen(path, "w");
    if (!f) {
        fprintf(stderr, "containment-chamber: cannot write %s: %s\n", path, strerror(errno));
        return -1;
    }
    fputs(text, f);
    if (fclose(f) != 0) {
        fprintf(stderr, "containment-chamber: cannot write %s: %s\n", path, strerror(errno));
        return -1;
    }
    chmod(path, mode);
    return 0;
}

static int generate(int argc, char **argv)
{
    const char *dir = NULL, *kdf = "scrypt", *password = NULL;
    long count = 1, first = 0;
    int interop = 0, light = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--out-dir") == 0 && v) dir = argv[++i];
        else if (strcmp(a, "--count") == 0 && v) count = strtol(argv[++i], NULL, 10);
        else if (strcmp(a, "--first") == 0 && v) first = strtol(argv[++i], NULL, 10);
        else if (strcmp(a, "--kdf") == 0 && v) kdf = argv[++i];
        else if (strcmp(a, "--password") == 0 && v) password = argv[++i];
        else if (strcmp(a, "--interop") == 0) interop = 1;
        else if (strcmp(a, "--light") == 0) light = 1;
        else return usage();
    }
    if (!dir || count < 1 || count > 1000000 || first < 0)
        return usage();
    if (strcmp(kdf, "scrypt") != 0 && strcmp(kdf, "pbkdf2") != 0) {
        fprintf(stderr, "containment-chamber: --kdf must be scrypt or pbkdf2\n");
        return 2;
    }
    if (password && strncmp(password, "env:", 4) == 0) {
        password = getenv(password + 4);
        if (!password) {
            fprintf(stderr, "containment-chamber: --password env:VAR names an unset variable\n");
            return 2;
        }
    }
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        fprintf(stderr, "containment-chamber: cannot create %s: %s\n", dir, strerror(errno));
        return 1;
    }
    uint8_t *sk = cc_secret_alloc(32);
    char *pw = cc_secret_alloc(65);
    cc_bls_sk *bsk = cc_secret_alloc(sizeof *bsk);
    int rc = 0;
    for (long k = 0; k < count && rc == 0; k++) {
        cc_error err;
        if (interop) {
            if (cc_interop_secret((uint32_t)(first + k), sk, &err) != CC_OK) {
                fprintf(stderr, "containment-chamber: %s\n", err.msg);
                rc = 1;
                break;
            }
        } else {
            do {
                if (RAND_priv_bytes(sk, 32) != 1) {
                    fprintf(stderr, "containment-chamber: no randomness available\n");
                    rc = 1;
                    break;
                }
            } while (cc_bls_sk_from_bytes(bsk, sk, NULL) != CC_OK);
            if (rc)
                break;
        }
        if (cc_bls_sk_from_bytes(bsk, sk, &err) != CC_OK) {
            fprintf(stderr, "containment-chamber: key %ld: %s\n", first + k, err.msg);
            rc = 1;
            break;
        }
        uint8_t pk[CC_BLS_PUBKEY_LEN];
        cc_bls_sk_to_pk(bsk, pk);
        char pkhex[2 * CC_BLS_PUBKEY_LEN + 3];
        cc_hex_encode0x(pk, sizeof pk, pkhex);
        if (password) {
            snprintf(pw, 65, "%s", password);
        } else {
            uint8_t rnd[16];
            RAND_priv_bytes(rnd, sizeof rnd);
            cc_hex_encode(rnd, sizeof rnd, pw);
            cc_secret_wipe(rnd, sizeof rnd);
        }
        char path[64];
        snprintf(path, sizeof path, "m/12381/3600/%ld/0/0", first + k);
        char *json = NULL;
        if (cc_eip2335_encrypt(sk, pw, kdf, light, interop ? path : "", &json, &err) != CC_OK) {
            fprintf(stderr, "containment-chamber: key %ld: %s\n", first + k, err.msg);
            rc = 1;
            break;
        }
        char ks[4096], pwf[4096], desc[4096], yaml[8192];
        snprintf(ks, sizeof ks, "%s/keystore-%s.json", dir, pkhex);
        snprintf(pwf, sizeof pwf, "%s/keystore-%s.password", dir, pkhex);
        snprintf(desc, sizeof desc, "%s/%s.yaml", dir, pkhex);
        snprintf(yaml, sizeof yaml,
                 "type: file-keystore\nkeyType: BLS\nkeystoreFile: keystore-%s.json\n"
                 "keystorePasswordFile: keystore-%s.password\n",
                 pkhex, pkhex);
        if (write_file(ks, json, 0600) || write_file(pwf, pw, 0600) || write_file(desc, yaml, 0644))
            rc = 1;
        free(json);
        if (rc == 0)
            printf("%s\n", pkhex);
    }
    cc_secret_free(sk, 32);
    cc_secret_free(pw, 65);
    cc_secret_free(bsk, sizeof *bsk);
    return rc;
}

int cc_cmd_keystore(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "generate") == 0)
        return generate(argc - 1, argv + 1);
    return usage();
}
