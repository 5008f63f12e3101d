/*
 * keys.c — kms-local's key store: every key in one JSON state file.
 *
 *   {"version":1,"region":"us-east-1","account":"000000000000","keys":[
 *     {"KeyId":"<uuid>","Arn":"arn:aws:kms:<region>:<account>:key/<uuid>",
 *      "Enabled":true,"Description":"","CreationDate":1764115200,
 *      "Policy":"<policy JSON text>","Material":"<base64 of 32 bytes>"}]}
 *
 * The key material sits in the file in the clear: kms-local is a test
 * stand-in, not a vault (docs/kms-local.md says so).  Every change rewrites
 * the whole file through a temporary file, fsync, rename and an fsync of the
 * directory, so a crash leaves either the old state or the new one.
 */
#include "kmslocal/kmslocal.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "util/secret.h"

static void key_free(kl_key *k)
{
    free(k->arn);
    free(k->description);
    free(k->policy);
    cc_secret_free(k->material, 32);
    memset(k, 0, sizeof *k);
}

static cc_status grow(kl_store *st, cc_error *err)
{
    if (st->nkeys < st->cap)
        return CC_OK;
    size_t cap = st->cap ? st->cap * 2 : 8;
    kl_key *k = realloc(st->keys, cap * sizeof *k);
    if (!k)
        return cc_error_set(err, CC_ENOMEM, "out of memory");
    st->keys = k;
    st->cap = cap;
    return CC_OK;
}

static char *make_arn(const kl_store *st, const char *id)
{
    size_t n = strlen(st->region) + strlen(st->account) + strlen(id) + 32;
    char *a = malloc(n);
    if (a)
        snprintf(a, n, "arn:aws:kms:%s:%s:key/%s", st->region, st->account, id);
    return a;
}

static cc_status load(kl_store *st, cc_error *err)
{
    json_error_t je;
    json_t *root = json_load_file(st->path, 0, &je);
    if (!root) {
        if (access(st->path, F_OK) != 0 && errno == ENOENT)
            return CC_OK;
        return cc_error_set(err, CC_EIO, "%s: line %d: %s", st->path, je.line, je.text);
    }
    cc_status s = CC_OK;
    json_t *keys = json_object_get(root, "keys");
    if (!json_is_array(keys)) {
        s = cc_error_set(err, CC_EINVAL, "%s: 'keys' must be an array", st->path);
        goto out;
    }
    size_t i;
    json_t *jk;
    json_array_foreach(keys, i, jk) {
        const char *id = json_string_value(json_object_get(jk, "KeyId"));
        const char *arn = json_string_value(json_object_get(jk, "Arn"));
        const char *pol = json_string_value(json_object_get(jk, "Policy"));
        const char *mat = json_string_value(json_object_get(jk, "Material"));
        const char *desc = json_string_value(json_object_get(jk, "Description"));
        if (!id || strlen(id) != 36 || !arn || !pol || !mat) {
            s = cc_error_set(err, CC_EINVAL, "%s: keys[%zu] needs KeyId, Arn, Policy and Material", st->path, i);
            goto out;
        }
        uint8_t *raw = NULL;
        size_t rawn = 0;
        if (kl_b64_decode(mat, &raw, &rawn, err) != CC_OK || rawn != 32) {
            if (raw)
                cc_secret_wipe(raw, rawn);
            free(raw);
            s = cc_error_set(err, CC_EINVAL, "%s: keys[%zu].Material must be base64 of 32 bytes", st->path, i);
            goto out;
        }
        if ((s = grow(st, err)) != CC_OK) {
            cc_secret_wipe(raw, rawn);
            free(raw);
            goto out;
        }
        kl_key *k = &st->keys[st->nkeys];
        memset(k, 0, sizeof *k);
        memcpy(k->key_id, id, 37);
        k->arn = strdup(arn);
        k->policy = strdup(pol);
        k->description = strdup(desc ? desc : "");
        k->enabled = json_is_true(json_object_get(jk, "Enabled"));
        k->created = (long long)json_integer_value(json_object_get(jk, "CreationDate"));
        k->material = cc_secret_alloc(32);
        if (k->material)
            memcpy(k->material, raw, 32);
        cc_secret_wipe(raw, rawn);
        free(raw);
        st->nkeys++;
        if (!k->arn || !k->policy || !k->description || !k->material) {
            s = cc_error_set(err, CC_ENOMEM, "out of memory");
            goto out;
        }
    }
out:
    json_decref(root);
    return s;
}

cc_status kl_store_open(kl_store *st, const char *path, const char *region, const char *account, cc_error *err)
{
    memset(st, 0, sizeof *st);
    pthread_mutex_init(&st->mu, NULL);
    st->path = strdup(path);
    st->region = strdup(region);
    st->account = strdup(account);
    if (!st->path || !st->region || !st->account) {
        kl_store_close(st);
        return cc_error_set(err, CC_ENOMEM, "out of memory");
    }
    cc_status s = load(st, err);
    if (s != CC_OK)
        kl_store_close(st);
    return s;
}

void kl_store_close(kl_store *st)
{
    for (size_t i = 0; i < st->nkeys; i++)
        key_free(&st->keys[i]);
    free(st->keys);
    free(st->path);
    free(st->region);
    free(st->account);
    pthread_mutex_destroy(&st->mu);
    memset(st, 0, sizeof *st);
}

cc_status kl_store_save(kl_store *st, cc_error *err)
{
    json_t *root = json_pack("{s:i, s:s, s:s, s:[]}", "version", 1, "region", st->region, "account", st->account,
                             "keys");
    if (!root)
        return cc_error_set(err, CC_ENOMEM, "out of memory");
    json_t *keys = json_object_get(root, "keys");
    for (size_t i = 0; i < st->nkeys; i++) {
        kl_key *k = &st->keys[i];
        char *mat = kl_b64_encode(k->material, 32);
        json_t *jk = mat ? json_pack("{s:s, s:s, s:b, s:s, s:I, s:s, s:s}", "KeyId", k->key_id, "Arn", k->arn,
                                     "Enabled", k->enabled, "Description", k->description, "CreationDate",
                                     (json_int_t)k->created, "Policy", k->policy, "Material", mat)
                         : NULL;
        if (mat) {
            cc_secret_wipe(mat, strlen(mat));
            free(mat);
        }
        if (!jk || json_array_append_new(keys, jk) != 0) {
            json_decref(root);
            return cc_error_set(err, CC_ENOMEM, "out of memory");
        }
    }
    char *text = json_dumps(root, JSON_INDENT(1));
    json_decref(root);
    if (!text)
        return cc_error_set(err, CC_ENOMEM, "out of memory");

    size_t tl = strlen(st->path) + 8;
    char *tmp = malloc(tl);
    char *dircopy = strdup(st->path);
    cc_status s = CC_OK;
    if (!tmp || !dircopy) {
        s = cc_error_set(err, CC_ENOMEM, "out of memory");
        goto out;
    }
    snprintf(tmp, tl, "%s.tmp", st->path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        s = cc_error_set(err, CC_EIO, "%s: %s", tmp, strerror(errno));
        goto out;
    }
    size_t len = strlen(text), off = 0;
    while (off < len) {
        ssize_t w = write(fd, text + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            s = cc_error_set(err, CC_EIO, "%s: %s", tmp, strerror(errno));
            break;
        }
        off += (size_t)w;
    }
    if (s == CC_OK && fsync(fd) != 0)
        s = cc_error_set(err, CC_EIO, "%s: fsync: %s", tmp, strerror(errno));
    close(fd);
    if (s == CC_OK && rename(tmp, st->path) != 0)
        s = cc_error_set(err, CC_EIO, "%s: rename: %s", st->path, strerror(errno));
    if (s != CC_OK) {
        unlink(tmp);
        goto out;
    }
    int dfd = open(dirname(dircopy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
out:
    cc_secret_wipe(text, strlen(text));
    free(text);
    free(tmp);
    free(dircopy);
    return s;
}

kl_key *kl_store_find(kl_store *st, const char *ref)
{
    if (!ref)
        return NULL;
    for (size_t i = 0; i < st->nkeys; i++) {
        kl_key *k = &st->keys[i];
        if (strcmp(k->key_id, ref) == 0 || strcmp(k->arn, ref) == 0)
            return k;
    }
    return NULL;
}

static cc_status uuid4(char out[37], cc_error *err)
{
    uint8_t b[16];
    if (RAND_bytes(b, sizeof b) != 1)
        return cc_error_set(err, CC_ECRYPTO, "no randomness for a key id");
    b[6] = (uint8_t)((b[6] & 0x0f) | 0x40);
    b[8] = (uint8_t)((b[8] & 0x3f) | 0x80);
    snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1], b[2], b[3],
             b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
    return CC_OK;
}

cc_status kl_store_create(kl_store *st, const char *description, const char *policy, kl_key **out, cc_error *err)
{
    cc_status s = grow(st, err);
    if (s != CC_OK)
        return s;
    kl_key k = {0};
    if ((s = uuid4(k.key_id, err)) != CC_OK)
        return s;
    k.arn = make_arn(st, k.key_id);
    k.description = strdup(description ? description : "");
    k.policy = policy ? strdup(policy) : kl_policy_default(st->account);
    k.material = cc_secret_alloc(32);
    k.enabled = 1;
    k.created = (long long)time(NULL);
    if (!k.arn || !k.description || !k.policy || !k.material) {
        key_free(&k);
        return cc_error_set(err, CC_ENOMEM, "out of memory");
    }
    if (RAND_bytes(k.material, 32) != 1) {
        key_free(&k);
        return cc_error_set(err, CC_ECRYPTO, "no randomness for key material");
    }
    st->keys[st->nkeys++] = k;
    if ((s = kl_store_save(st, err)) != CC_OK) {
        key_free(&st->keys[--st->nkeys]);
        return s;
    }
    *out = &st->keys[st->nkeys - 1];
    return CC_OK;
}
