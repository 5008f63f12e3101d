/*
 * kms.c — KMS JSON 1.1 requests over aws/http (see kms.h).
 *
 * Plaintext hygiene: requests that carry plaintext (Encrypt) have their
 * base64 text wiped inside the jansson value before it is freed, and the
 * serialised body is wiped by cc_aws_json_request; answers that carry
 * plaintext are wiped with cc_aws_json_wipe before json_decref.  jansson's
 * parser may still leave transient copies in freed heap memory; the process
 * that runs KMS Decrypt for real keys is the enclave, whose memory is not
 * shared.
 */
#include "aws/kms.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "aws/base64.h"
#include "util/secret.h"

#define TARGET "TrentService"
#define CONTENT_TYPE "application/x-amz-json-1.1"

void cc_kms_bytes_free(cc_kms_bytes *b)
{
    if (!b)
        return;
    if (b->secret)
        cc_secret_free(b->data, b->cap);
    else
        free(b->data);
    memset(b, 0, sizeof *b);
}

cc_status cc_kms_init(cc_kms *kms, cc_aws_http *http, cc_aws_credentials_provider *creds, const char *region,
                      const char *endpoint, cc_error *err)
{
    return cc_aws_service_init(&kms->svc, http, creds, "kms", region, endpoint, TARGET, CONTENT_TYPE, err);
}

cc_status cc_kms_call(const cc_kms *kms, const char *operation, json_t *request, json_t **response,
                      cc_aws_call_info *info, cc_error *err)
{
    return cc_aws_json_request(&kms->svc, operation, request, response, info, err);
}

/* Sets field to base64(data); secret = the text is plaintext (wiped when req is). */
static cc_status set_b64(json_t *req, const char *field, const uint8_t *data, size_t len, int secret, cc_error *err)
{
    char *b64;
    size_t cap;
    cc_status st = cc_aws_b64_encode(data, len, secret, &b64, &cap, err);
    if (st != CC_OK)
        return st;
    int bad = json_object_set_new(req, field, json_string(b64)) != 0;
    if (secret)
        cc_secret_free(b64, cap);
    else
        free(b64);
    return bad ? cc_error_set(err, CC_ENOMEM, "kms: out of memory") : CC_OK;
}

/* Decodes a base64 field of an answer into out. */
static cc_status get_b64(json_t *resp, const char *op, const char *field, int secret, cc_kms_bytes *out,
                         cc_error *err)
{
    json_t *v = json_object_get(resp, field);
    if (!json_is_string(v))
        return cc_error_set(err, CC_EIO, "kms %s: answer has no %s", op, field);
    char where[64];
    snprintf(where, sizeof where, "kms %s: %s", op, field);
    out->secret = secret;
    return cc_aws_b64_decode(json_string_value(v), json_string_length(v), secret, where, &out->data, &out->len,
                             &out->cap, err);
}

static json_t *base_request(const char *key_id, json_t *context)
{
    json_t *req = json_object();
    if (!req)
        return NULL;
    if (key_id && *key_id)
        json_object_set_new(req, "KeyId", json_string(key_id));
    if (context)
        json_object_set(req, "EncryptionContext", context);
    return req;
}

static void wipe_decref(json_t *j)
{
    cc_aws_json_wipe(j);
    json_decref(j);
}

cc_status cc_kms_encrypt(const cc_kms *kms, const char *key_id, const uint8_t *plaintext, size_t len,
                         json_t *context, cc_kms_bytes *blob, cc_error *err)
{
    memset(blob, 0, sizeof *blob);
    if (!key_id || !*key_id)
        return cc_error_set(err, CC_EINVAL, "kms Encrypt: no key id");
    if (len == 0 || len > 4096)
        return cc_error_set(err, CC_EINVAL, "kms Encrypt: plaintext must be 1..4096 bytes, not %zu", len);
    json_t *req = base_request(key_id, context);
    if (!req)
        return cc_error_set(err, CC_ENOMEM, "kms Encrypt: out of memory");
    json_object_set_new(req, "EncryptionAlgorithm", json_string("SYMMETRIC_DEFAULT"));
    cc_status st = set_b64(req, "Plaintext", plaintext, len, 1, err);
    json_t *resp = NULL;
    if (st == CC_OK)
        st = cc_kms_call(kms, "Encrypt", req, &resp, NULL, err);
    /* Only the Plaintext field is secret; the caller's context is left alone. */
    cc_aws_json_wipe(json_object_get(req, "Plaintext"));
    json_decref(req);
    if (st == CC_OK)
        st = get_b64(resp, "Encrypt", "CiphertextBlob", 0, blob, err);
    json_decref(resp);
    return st;
}

cc_status cc_kms_decrypt(const cc_kms *kms, const char *key_id, const uint8_t *blob, size_t blob_len,
                         json_t *context, cc_kms_bytes *plaintext, cc_error *err)
{
    memset(plaintext, 0, sizeof *plaintext);
    json_t *req = base_request(key_id, context);
    if (!req)
        return cc_error_set(err, CC_ENOMEM, "kms Decrypt: out of memory");
    cc_status st = set_b64(req, "CiphertextBlob", blob, blob_len, 0, err);
    json_t *resp = NULL;
    if (st == CC_OK)
        st = cc_kms_call(kms, "Decrypt", req, &resp, NULL, err);
    json_decref(req);
    if (st == CC_OK)
        st = get_b64(resp, "Decrypt", "Plaintext", 1, plaintext, err);
    wipe_decref(resp);
    return st;
}

cc_status cc_kms_decrypt_for_recipient(const cc_kms *kms, const char *key_id, const uint8_t *blob, size_t blob_len,
                                       json_t *context, const uint8_t *attestation_doc, size_t doc_len,
                                       cc_kms_bytes *cms, cc_error *err)
{
    memset(cms, 0, sizeof *cms);
    if (!attestation_doc || doc_len == 0)
        return cc_error_set(err, CC_EINVAL, "kms Decrypt: Recipient needs an attestation document");
    json_t *req = base_request(key_id, context);
    json_t *recipient = json_pack("{s:s}", "KeyEncryptionAlgorithm", "RSAES_OAEP_SHA_256");
    if (!req || !recipient) {
        json_decref(req);
        json_decref(recipient);
        return cc_error_set(err, CC_ENOMEM, "kms Decrypt: out of memory");
    }
    cc_status st = set_b64(req, "CiphertextBlob", blob, blob_len, 0, err);
    if (st == CC_OK)
        st = set_b64(recipient, "AttestationDocument", attestation_doc, doc_len, 0, err);
    json_object_set_new(req, "Recipient", recipient);
    json_t *resp = NULL;
    if (st == CC_OK)
        st = cc_kms_call(kms, "Decrypt", req, &resp, NULL, err);
    json_decref(req);
    if (st == CC_OK && json_object_get(resp, "Plaintext") && !json_is_null(json_object_get(resp, "Plaintext")))
        st = cc_error_set(err, CC_ECRYPTO, "kms Decrypt: answer to a Recipient request carries Plaintext; refused");
    if (st == CC_OK)
        st = get_b64(resp, "Decrypt", "CiphertextForRecipient", 0, cms, err);
    wipe_decref(resp);
    return st;
}

cc_status cc_kms_generate_random(const cc_kms *kms, size_t n, cc_kms_bytes *out, cc_error *err)
{
    memset(out, 0, sizeof *out);
    if (n == 0 || n > 1024)
        return cc_error_set(err, CC_EINVAL, "kms GenerateRandom: NumberOfBytes must be 1..1024, not %zu", n);
    json_t *req = json_pack("{s:I}", "NumberOfBytes", (json_int_t)n);
    if (!req)
        return cc_error_set(err, CC_ENOMEM, "kms GenerateRandom: out of memory");
    json_t *resp = NULL;
    cc_status st = cc_kms_call(kms, "GenerateRandom", req, &resp, NULL, err);
    json_decref(req);
    if (st == CC_OK)
        st = get_b64(resp, "GenerateRandom", "Plaintext", 1, out, err);
    if (st == CC_OK && out->len != n) {
        cc_kms_bytes_free(out);
        st = cc_error_set(err, CC_EIO, "kms GenerateRandom: asked for %zu bytes, got another count", n);
    }
    wipe_decref(resp);
    return st;
}

cc_status cc_kms_describe_key(const cc_kms *kms, const char *key_id, json_t **metadata, cc_error *err)
{
    *metadata = NULL;
    json_t *req = json_pack("{s:s}", "KeyId", key_id ? key_id : "");
    if (!req)
        return cc_error_set(err, CC_ENOMEM, "kms DescribeKey: out of memory");
    json_t *resp = NULL;
    cc_status st = cc_kms_call(kms, "DescribeKey", req, &resp, NULL, err);
    json_decref(req);
    if (st == CC_OK) {
        json_t *m = json_object_get(resp, "KeyMetadata");
        if (json_is_object(m))
            *metadata = json_incref(m);
        else
            st = cc_error_set(err, CC_EIO, "kms DescribeKey: answer has no KeyMetadata");
    }
    json_decref(resp);
    return st;
}
