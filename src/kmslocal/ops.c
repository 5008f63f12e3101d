/*
 * ops.c — the KMS operations kms-local answers, each checked against the key
 * policy as AWS would:
 *
 *   CreateKey, ListKeys                 any authenticated caller (no IAM here)
 *   DescribeKey, GetKeyPolicy,          key policy (kms:<Op>), or nobody's
 *   PutKeyPolicy, EnableKey, DisableKey   business but the caller's with --admin-open
 *   Encrypt, Decrypt, GenerateDataKey   key policy, always
 *   GenerateRandom                      any authenticated caller
 *
 * Decrypt, GenerateDataKey and GenerateRandom take a Recipient: the
 * attestation document is verified against the pinned root first, its PCRs
 * feed the kms:RecipientAttestation:* condition keys, and the answer carries
 * CiphertextForRecipient (CMS for the document's RSA key) instead of
 * Plaintext.  The whole operation runs under the store's mutex.
 */
#include "kmslocal/kmslocal.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "util/secret.h"

#define MAX_PLAINTEXT 4096

typedef struct op_env {
    kl_server_ctx *ctx;
    const kl_cred *caller;
    json_t *in;
    kl_reply *reply;
} op_env;

static json_t *key_metadata(const kl_store *st, const kl_key *k)
{
    return json_pack("{s:s, s:s, s:s, s:I, s:b, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:[s], s:b}", "AWSAccountId",
                     st->account, "KeyId", k->key_id, "Arn", k->arn, "CreationDate", (json_int_t)k->created, "Enabled",
                     k->enabled, "Description", k->description, "KeyUsage", "ENCRYPT_DECRYPT", "KeyState",
                     k->enabled ? "Enabled" : "Disabled", "Origin", "AWS_KMS", "KeyManager", "CUSTOMER", "KeySpec",
                     "SYMMETRIC_DEFAULT", "CustomerMasterKeySpec", "SYMMETRIC_DEFAULT", "EncryptionAlgorithms",
                     "SYMMETRIC_DEFAULT", "MultiRegion", 0);
}

static kl_key *need_key(op_env *e, const char *field)
{
    const char *ref = json_string_value(json_object_get(e->in, field));
    if (!ref) {
        kl_reply_error(e->reply, 400, "ValidationException", "%s is required", field);
        return NULL;
    }
    kl_key *k = kl_store_find(e->ctx->store, ref);
    if (!k)
        kl_reply_error(e->reply, 400, "NotFoundException", "Key '%s' does not exist", ref);
    return k;
}

/* 1 if the key policy lets the caller do action; else the reply holds AccessDeniedException. */
static int authorize(op_env *e, const kl_key *k, const char *action, json_t *context, const kl_attestation *att)
{
    kl_policy_request pr = {.principal = e->caller->principal_arn, .action = action, .resource = k->arn,
                            .context = context, .att = att};
    kl_decision d;
    cc_error err;
    if (kl_policy_evaluate(k->policy, &pr, &d, &err) != CC_OK) {
        kl_reply_error(e->reply, 400, "AccessDeniedException", "key policy of %s cannot be read: %s", k->arn, err.msg);
        return 0;
    }
    if (d == KL_ALLOW)
        return 1;
    kl_reply_error(e->reply, 400, "AccessDeniedException",
                   "User: %s is not authorized to perform: %s on resource: %s because %s", pr.principal, action, k->arn,
                   d == KL_DENY_EXPLICIT ? "of an explicit deny in a resource-based policy"
                                         : "no resource-based policy allows the action");
    return 0;
}

static int authorize_admin(op_env *e, const kl_key *k, const char *action)
{
    return e->ctx->cfg->admin_open || authorize(e, k, action, NULL, NULL);
}

/* Reads the optional Recipient; returns -1 (reply set) on error, 0 if absent, 1 if verified into att. */
static int read_recipient(op_env *e, kl_attestation *att)
{
    json_t *r = json_object_get(e->in, "Recipient");
    if (!r || json_is_null(r))
        return 0;
    const char *alg = json_string_value(json_object_get(r, "KeyEncryptionAlgorithm"));
    const char *doc64 = json_string_value(json_object_get(r, "AttestationDocument"));
    if (!json_is_object(r) || !doc64) {
        kl_reply_error(e->reply, 400, "ValidationException", "Recipient.AttestationDocument is required");
        return -1;
    }
    if (alg && strcmp(alg, "RSAES_OAEP_SHA_256") != 0) {
        kl_reply_error(e->reply, 400, "ValidationException",
                       "Recipient.KeyEncryptionAlgorithm must be RSAES_OAEP_SHA_256, not '%s'", alg);
        return -1;
    }
    if (!e->ctx->cfg->attestation_root) {
        kl_reply_error(e->reply, 400, "UnsupportedOperationException",
                       "kms-local was started without --attestation-root: Recipient is not available");
        return -1;
    }
    uint8_t *doc = NULL;
    size_t len = 0;
    cc_error err;
    if (kl_b64_decode(doc64, &doc, &len, &err) != CC_OK) {
        kl_reply_error(e->reply, 400, "ValidationException", "Recipient.AttestationDocument: %s", err.msg);
        return -1;
    }
    cc_status s = kl_attestation_verify(doc, len, e->ctx->cfg->attestation_root, time(NULL),
                                        e->ctx->cfg->attestation_max_age_s, att, &err);
    free(doc);
    if (s != CC_OK) {
        kl_reply_error(e->reply, 400, "ValidationException", "Recipient.AttestationDocument: %s", err.msg);
        return -1;
    }
    if (!att->public_key) {
        kl_attestation_free(att);
        kl_reply_error(e->reply, 400, "ValidationException", "Recipient.AttestationDocument has no public_key");
        return -1;
    }
    return 1;
}

/* Puts either Plaintext or (with a Recipient) CiphertextForRecipient into out. */
static int put_secret(op_env *e, json_t *out, const uint8_t *pt, size_t len, const kl_attestation *att)
{
    cc_error err;
    if (att) {
        uint8_t *cms = NULL;
        size_t cl = 0;
        if (kl_cms_envelope(att->public_key, att->public_key_len, pt, len, &cms, &cl, &err) != CC_OK) {
            kl_reply_error(e->reply, err.code == CC_EINVAL ? 400 : 500,
                           err.code == CC_EINVAL ? "ValidationException" : "KMSInternalException", "%s", err.msg);
            return 0;
        }
        char *b = kl_b64_encode(cms, cl);
        free(cms);
        json_object_set_new(out, "CiphertextForRecipient", json_string(b ? b : ""));
        free(b);
        return 1;
    }
    char *b = kl_b64_encode(pt, len);
    if (!b) {
        kl_reply_error(e->reply, 500, "KMSInternalException", "out of memory");
        return 0;
    }
    json_object_set_new(out, "Plaintext", json_string(b));
    cc_secret_wipe(b, strlen(b));
    free(b);
    return 1;
}

static int check_algorithm(op_env *e)
{
    const char *a = json_string_value(json_object_get(e->in, "EncryptionAlgorithm"));
    if (a && strcmp(a, "SYMMETRIC_DEFAULT") != 0) {
        kl_reply_error(e->reply, 400, "InvalidKeyUsageException", "kms-local keys support SYMMETRIC_DEFAULT only");
        return 0;
    }
    return 1;
}

static int canonical_context(op_env *e, char **canon)
{
    cc_error err;
    if (kl_context_canonical(json_object_get(e->in, "EncryptionContext"), canon, &err) != CC_OK) {
        kl_reply_error(e->reply, 400, "ValidationException", "%s", err.msg);
        return 0;
    }
    return 1;
}

static void op_create_key(op_env *e)
{
    const char *usage = json_string_value(json_object_get(e->in, "KeyUsage"));
    const char *spec = json_string_value(json_object_get(e->in, "KeySpec"));
    if ((usage && strcmp(usage, "ENCRYPT_DECRYPT") != 0) || (spec && strcmp(spec, "SYMMETRIC_DEFAULT") != 0)) {
        kl_reply_error(e->reply, 400, "UnsupportedOperationException",
                       "kms-local creates SYMMETRIC_DEFAULT ENCRYPT_DECRYPT keys only");
        return;
    }
    const char *policy = json_string_value(json_object_get(e->in, "Policy"));
    cc_error err;
    if (policy && kl_policy_validate(policy, &err) != CC_OK) {
        kl_reply_error(e->reply, 400, "MalformedPolicyDocumentException", "%s", err.msg);
        return;
    }
    kl_key *k;
    if (kl_store_create(e->ctx->store, json_string_value(json_object_get(e->in, "Description")), policy, &k, &err) !=
        CC_OK) {
        kl_reply_error(e->reply, 500, "KMSInternalException", "%s", err.msg);
        return;
    }
    kl_reply_json(e->reply, json_pack("{s:o}", "KeyMetadata", key_metadata(e->ctx->store, k)));
}

static void op_list_keys(op_env *e)
{
    json_t *keys = json_array();
    for (size_t i = 0; i < e->ctx->store->nkeys; i++) {
        kl_key *k = &e->ctx->store->keys[i];
        json_array_append_new(keys, json_pack("{s:s, s:s}", "KeyId", k->key_id, "KeyArn", k->arn));
    }
    kl_reply_json(e->reply, json_pack("{s:o, s:b}", "Keys", keys, "Truncated", 0));
}

static void op_describe_key(op_env *e)
{
    kl_key *k = need_key(e, "KeyId");
    if (k && authorize_admin(e, k, "kms:DescribeKey"))
        kl_reply_json(e->reply, json_pack("{s:o}", "KeyMetadata", key_metadata(e->ctx->store, k)));
}

static void op_set_enabled(op_env *e, int enabled)
{
    kl_key *k = need_key(e, "KeyId");
    if (!k || !authorize_admin(e, k, enabled ? "kms:EnableKey" : "kms:DisableKey"))
        return;
    int old = k->enabled;
    k->enabled = enabled;
    cc_error err;
    if (kl_store_save(e->ctx->store, &err) != CC_OK) {
        k->enabled = old;
        kl_reply_error(e->reply, 500, "KMSInternalException", "%s", err.msg);
        return;
    }
    kl_reply_json(e->reply, json_object());
}

static void op_get_key_policy(op_env *e)
{
    kl_key *k = need_key(e, "KeyId");
    if (k && authorize_admin(e, k, "kms:GetKeyPolicy"))
        kl_reply_json(e->reply, json_pack("{s:s, s:s}", "Policy", k->policy, "PolicyName", "default"));
}

static void op_put_key_policy(op_env *e)
{
    kl_key *k = need_key(e, "KeyId");
    if (!k || !authorize_admin(e, k, "kms:PutKeyPolicy"))
        return;
    const char *name = json_string_value(json_object_get(e->in, "PolicyName"));
    const char *policy = json_string_value(json_object_get(e->in, "Policy"));
    cc_error err;
    if (name && strcmp(name, "default") != 0) {
        kl_reply_error(e->reply, 400, "ValidationException", "PolicyName must be 'default'");
        return;
    }
    if (!policy || kl_policy_validate(policy, &err) != CC_OK) {
        kl_reply_error(e->reply, 400, "MalformedPolicyDocumentException", "%s", policy ? err.msg : "Policy is required");
        return;
    }
    char *copy = strdup(policy);
    if (!copy) {
        kl_reply_error(e->reply, 500, "KMSInternalException", "out of memory");
        return;
    }
    char *old = k->policy;
    k->policy = copy;
    if (kl_store_save(e->ctx->store, &err) != CC_OK) {
        k->policy = old;
        free(copy);
        kl_reply_error(e->reply, 500, "KMSInternalException", "%s", err.msg);
        return;
    }
    free(old);
    kl_reply_json(e->reply, json_object());
}

static void op_encrypt(op_env *e)
{
    kl_key *k = need_key(e, "KeyId");
    json_t *ctxj = json_object_get(e->in, "EncryptionContext");
    if (!k || !check_algorithm(e) || !authorize(e, k, "kms:Encrypt", ctxj, NULL))
        return;
    if (!k->enabled) {
        kl_reply_error(e->reply, 400, "DisabledException", "%s is disabled.", k->arn);
        return;
    }
    const char *pt64 = json_string_value(json_object_get(e->in, "Plaintext"));
    uint8_t *pt = NULL, *blob = NULL;
    size_t pl = 0, bl = 0;
    char *canon = NULL;
    cc_error err;
    if (!pt64 || kl_b64_decode(pt64, &pt, &pl, &err) != CC_OK || pl < 1 || pl > MAX_PLAINTEXT) {
        kl_reply_error(e->reply, 400, "ValidationException", "Plaintext must be base64 of 1 to %d bytes", MAX_PLAINTEXT);
        goto out;
    }
    if (!canonical_context(e, &canon))
        goto out;
    if (kl_blob_seal(k, canon, pt, pl, &blob, &bl, &err) != CC_OK) {
        kl_reply_error(e->reply, 500, "KMSInternalException", "%s", err.msg);
        goto out;
    }
    char *b = kl_b64_encode(blob, bl);
    kl_reply_json(e->reply, json_pack("{s:s, s:s, s:s}", "CiphertextBlob", b ? b : "", "KeyId", k->arn,
                                      "EncryptionAlgorithm", "SYMMETRIC_DEFAULT"));
    free(b);
out:
    if (pt) {
        cc_secret_wipe(pt, pl);
        free(pt);
    }
    free(blob);
    free(canon);
}

static void op_decrypt(op_env *e)
{
    const char *blob64 = json_string_value(json_object_get(e->in, "CiphertextBlob"));
    uint8_t *blob = NULL, *pt = NULL;
    size_t bl = 0, pl = 0;
    char *canon = NULL;
    kl_attestation att;
    int has_att = 0;
    cc_error err;
    char id[37];
    if (!check_algorithm(e))
        return;
    if (!blob64 || kl_b64_decode(blob64, &blob, &bl, &err) != CC_OK || kl_blob_key_id(blob, bl, id, &err) != CC_OK) {
        kl_reply_error(e->reply, 400, "InvalidCiphertextException", "CiphertextBlob is not a kms-local ciphertext");
        goto out;
    }
    kl_key *k = kl_store_find(e->ctx->store, id);
    if (!k) {
        kl_reply_error(e->reply, 400, "InvalidCiphertextException", "CiphertextBlob names a key kms-local does not hold");
        goto out;
    }
    const char *want = json_string_value(json_object_get(e->in, "KeyId"));
    if (want) {
        kl_key *w = kl_store_find(e->ctx->store, want);
        if (!w) {
            kl_reply_error(e->reply, 400, "NotFoundException", "Key '%s' does not exist", want);
            goto out;
        }
        if (w != k) {
            kl_reply_error(e->reply, 400, "IncorrectKeyException",
                           "The key ID in the request does not identify a KMS key that can perform this operation.");
            goto out;
        }
    }
    if ((has_att = read_recipient(e, &att)) < 0) {
        has_att = 0;
        goto out;
    }
    json_t *ctxj = json_object_get(e->in, "EncryptionContext");
    if (!authorize(e, k, "kms:Decrypt", ctxj, has_att ? &att : NULL))
        goto out;
    if (!k->enabled) {
        kl_reply_error(e->reply, 400, "DisabledException", "%s is disabled.", k->arn);
        goto out;
    }
    if (!canonical_context(e, &canon))
        goto out;
    if (kl_blob_open(k, canon, blob, bl, &pt, &pl, &err) != CC_OK) {
        kl_reply_error(e->reply, 400, "InvalidCiphertextException", "%s", err.msg);
        goto out;
    }
    json_t *o = json_pack("{s:s, s:s}", "KeyId", k->arn, "EncryptionAlgorithm", "SYMMETRIC_DEFAULT");
    if (put_secret(e, o, pt, pl, has_att ? &att : NULL))
        kl_reply_json(e->reply, o);
    else
        json_decref(o);
out:
    if (pt)
        cc_secret_free(pt, pl + 1);
    if (has_att)
        kl_attestation_free(&att);
    free(blob);
    free(canon);
}

static void op_generate_data_key(op_env *e)
{
    kl_key *k = need_key(e, "KeyId");
    if (!k)
        return;
    json_t *nb = json_object_get(e->in, "NumberOfBytes");
    const char *spec = json_string_value(json_object_get(e->in, "KeySpec"));
    size_t n = 0;
    if (nb && json_is_integer(nb) && json_integer_value(nb) >= 1 && json_integer_value(nb) <= 1024 && !spec)
        n = (size_t)json_integer_value(nb);
    else if (!nb && spec && strcmp(spec, "AES_256") == 0)
        n = 32;
    else if (!nb && spec && strcmp(spec, "AES_128") == 0)
        n = 16;
    if (!n) {
        kl_reply_error(e->reply, 400, "ValidationException", "give exactly one of KeySpec (AES_256|AES_128) or "
                                                             "NumberOfBytes (1..1024)");
        return;
    }
    kl_attestation att;
    int has_att = read_recipient(e, &att);
    if (has_att < 0)
        return;
    uint8_t *dk = cc_secret_alloc(n), *blob = NULL;
    size_t bl = 0;
    char *canon = NULL;
    cc_error err;
    json_t *ctxj = json_object_get(e->in, "EncryptionContext");
    if (!dk) {
        kl_reply_error(e->reply, 500, "KMSInternalException", "out of memory");
        goto out;
    }
    if (!authorize(e, k, "kms:GenerateDataKey", ctxj, has_att ? &att : NULL))
        goto out;
    if (!k->enabled) {
        kl_reply_error(e->reply, 400, "DisabledException", "%s is disabled.", k->arn);
        goto out;
    }
    if (!canonical_context(e, &canon))
        goto out;
    if (RAND_bytes(dk, (int)n) != 1 || kl_blob_seal(k, canon, dk, n, &blob, &bl, &err) != CC_OK) {
        kl_reply_error(e->reply, 500, "KMSInternalException", "cannot generate the data key");
        goto out;
    }
    char *b = kl_b64_encode(blob, bl);
    json_t *o = json_pack("{s:s, s:s}", "CiphertextBlob", b ? b : "", "KeyId", k->arn);
    free(b);
    if (put_secret(e, o, dk, n, has_att ? &att : NULL))
        kl_reply_json(e->reply, o);
    else
        json_decref(o);
out:
    cc_secret_free(dk, n);
    free(blob);
    free(canon);
    if (has_att)
        kl_attestation_free(&att);
}

static void op_generate_random(op_env *e)
{
    json_t *nb = json_object_get(e->in, "NumberOfBytes");
    if (!json_is_integer(nb) || json_integer_value(nb) < 1 || json_integer_value(nb) > 1024) {
        kl_reply_error(e->reply, 400, "ValidationException", "NumberOfBytes must be 1..1024");
        return;
    }
    size_t n = (size_t)json_integer_value(nb);
    kl_attestation att;
    int has_att = read_recipient(e, &att);
    if (has_att < 0)
        return;
    uint8_t *r = cc_secret_alloc(n);
    if (!r || RAND_bytes(r, (int)n) != 1) {
        kl_reply_error(e->reply, 500, "KMSInternalException", "no randomness");
    } else {
        json_t *o = json_object();
        if (put_secret(e, o, r, n, has_att ? &att : NULL))
            kl_reply_json(e->reply, o);
        else
            json_decref(o);
    }
    cc_secret_free(r, n);
    if (has_att)
        kl_attestation_free(&att);
}

void kl_ops_dispatch(kl_server_ctx *ctx, const kl_cred *caller, const char *op, json_t *in, kl_reply *reply)
{
    static const struct {
        const char *name;
        void (*fn)(op_env *);
    } ops[] = {
        {"CreateKey", op_create_key},       {"ListKeys", op_list_keys},
        {"DescribeKey", op_describe_key},   {"GetKeyPolicy", op_get_key_policy},
        {"PutKeyPolicy", op_put_key_policy}, {"Encrypt", op_encrypt},
        {"Decrypt", op_decrypt},            {"GenerateDataKey", op_generate_data_key},
        {"GenerateRandom", op_generate_random},
    };
    op_env e = {.ctx = ctx, .caller = caller, .in = in, .reply = reply};
    pthread_mutex_lock(&ctx->store->mu);
    int done = 0;
    if (strcmp(op, "EnableKey") == 0 || strcmp(op, "DisableKey") == 0) {
        op_set_enabled(&e, op[0] == 'E');
        done = 1;
    }
    for (size_t i = 0; !done && i < sizeof ops / sizeof ops[0]; i++) {
        if (strcmp(ops[i].name, op) == 0) {
            ops[i].fn(&e);
            done = 1;
        }
    }
    pthread_mutex_unlock(&ctx->store->mu);
    if (!done)
        kl_reply_error(reply, 400, "UnknownOperationException", "kms-local does not implement %s", op);
}
