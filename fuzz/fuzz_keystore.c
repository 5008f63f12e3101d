/*
 * fuzz_keystore — cc_eip2335_decrypt (src/keys/eip2335.c), every keystore the
 * filesystem key source reads, with the password "testpassword" (the one the
 * seeds are encrypted under: fuzz/make-seeds.py), and
 * cc_eip2335_normalize_password on the input's first bytes (password files).
 *
 * The parser sees every input, but a KDF at the EIP's cost (scrypt n=2^18)
 * would hold one execution for a second: when the input is JSON whose
 * crypto.kdf.params ask for more than scrypt n=16, r=2, p=1 or pbkdf2 c=16,
 * those fields are lowered (a power of two stays a power of two, anything else
 * stays refused) and the re-serialised keystore is what is fed.  The limits
 * the library enforces (n ≤ 2^32-1 and 260 MiB, r ≤ 1024, p ≤ 16, c ≤ 2^24)
 * are exercised by the raw inputs that fail before the KDF.
 *
 * Invariants: a failure carries its code and message; a success yields a
 * secret key whose public key is the keystore's "pubkey" when one is given.
 */
#include <jansson.h>

#include "fuzz.h"
#include "keys/eip2335.h"
#include "util/hex.h"
#include "util/log.h"
#include "util/secret.h"

static const char password[] = "testpassword";

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    cc_log_set_level(CC_LOG_ERROR);
    return 0;
}

/* Lowers an integer field above max to max (or to max+1 when it must stay a non-power-of-two). */
static int lower(json_t *params, const char *key, json_int_t max, int pow2)
{
    json_t *v = json_object_get(params, key);
    if (!json_is_integer(v) || json_integer_value(v) <= max)
        return 0;
    json_int_t x = json_integer_value(v);
    json_int_t to = max;
    if (pow2 && (x & (x - 1)) != 0)
        to = max + 1;
    json_integer_set(v, to);
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* Passwords: any bytes. */
    uint8_t *pw = NULL;
    size_t pw_len = 0;
    cc_error err = {0};
    cc_status st = cc_eip2335_normalize_password((const char *)data, size < 256 ? size : 256, &pw, &pw_len, &err);
    if (st == CC_OK)
        cc_secret_free(pw, pw_len);
    else
        FUZZ_ASSERT_ERR(st, err);

    char *patched = NULL;
    json_t *root = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);
    if (root) {
        json_t *params = json_object_get(json_object_get(json_object_get(root, "crypto"), "kdf"), "params");
        if (json_is_object(params)) {
            int changed = lower(params, "n", 16, 1);
            changed |= lower(params, "r", 2, 0);
            changed |= lower(params, "p", 1, 0);
            changed |= lower(params, "c", 16, 0);
            if (changed && !(patched = json_dumps(root, JSON_COMPACT | JSON_ENCODE_ANY))) {
                json_decref(root);
                return 0;
            }
        }
        json_decref(root);
    }
    const char *json = patched ? patched : (const char *)data;
    size_t json_len = patched ? strlen(patched) : size;

    uint8_t sk[32], pk[48];
    memset(&err, 0, sizeof err);
    st = cc_eip2335_decrypt(json, json_len, password, sizeof password - 1, sk, pk, &err);
    if (st != CC_OK) {
        FUZZ_ASSERT_ERR(st, err);
    } else {
        /* The derived pubkey matches the keystore's when it carries one. */
        json_t *again = json_loadb(json, json_len, JSON_REJECT_DUPLICATES, NULL);
        FUZZ_ASSERT(again != NULL);
        const char *want = json_string_value(json_object_get(again, "pubkey"));
        if (want && *want) {
            uint8_t want_pk[48];
            FUZZ_ASSERT(cc_hex_decode_exact(want, want_pk, 48, NULL) == CC_OK);
            FUZZ_ASSERT(memcmp(want_pk, pk, 48) == 0);
        }
        json_decref(again);
        cc_secret_wipe(sk, sizeof sk);
    }
    free(patched);
    return 0;
}
