/*
 * interchange.c — the EIP-3076 slashing-protection interchange, format v5,
 * between JSON and the in-memory cc_interchange.
 *
 * Parsing is strict about what the EIP requires (metadata with version "5"
 * and a 32-byte genesis_validators_root; data[] of pubkey, signed_blocks,
 * signed_attestations; numbers as decimal strings) and tolerant of what it
 * does not mention (extra fields are ignored, signing_root is optional).
 * Every rejection names the field path, e.g.
 * "data[3].signed_attestations[0].target_epoch: not a decimal uint64: ...",
 * so an operator can find the offending line of a file of 10k validators.
 */
#include "slashing/slashing.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/hex.h"

/* Reads obj[key] as a decimal-string uint64; path names obj for the message. */
static cc_status get_u64(json_t *obj, const char *key, const char *path, uint64_t *out, cc_error *err)
{
    json_t *v = json_object_get(obj, key);
    if (!v)
        return cc_error_set(err, CC_EINVAL, "%s.%s: missing", path, key);
    if (!json_is_string(v))
        return cc_error_set(err, CC_EINVAL, "%s.%s: expected a decimal string", path, key);
    if (cc_parse_u64(json_string_value(v), out, err) != CC_OK)
        return cc_error_prefix(err, "%s.%s", path, key);
    return CC_OK;
}

/* Reads an optional obj[key] hex root; *has is 0 when absent or null. */
static cc_status get_root(json_t *obj, const char *key, const char *path, uint8_t out[32], int *has,
                          cc_error *err)
{
    json_t *v = json_object_get(obj, key);
    *has = 0;
    if (!v || json_is_null(v))
        return CC_OK;
    if (!json_is_string(v))
        return cc_error_set(err, CC_EINVAL, "%s.%s: expected a 0x-hex string", path, key);
    if (cc_hex_decode_exact(json_string_value(v), out, 32, err) != CC_OK)
        return cc_error_prefix(err, "%s.%s", path, key);
    *has = 1;
    return CC_OK;
}

static cc_status parse_validator(json_t *item, size_t idx, cc_ic_validator *v, cc_error *err)
{
    char path[96], sub[160];
    snprintf(path, sizeof path, "data[%zu]", idx);
    if (!json_is_object(item))
        return cc_error_set(err, CC_EINVAL, "%s: expected an object", path);

    json_t *pk = json_object_get(item, "pubkey");
    if (!pk)
        return cc_error_set(err, CC_EINVAL, "%s.pubkey: missing", path);
    if (!json_is_string(pk))
        return cc_error_set(err, CC_EINVAL, "%s.pubkey: expected a 0x-hex string", path);
    if (cc_hex_decode_exact(json_string_value(pk), v->pubkey, 48, err) != CC_OK)
        return cc_error_prefix(err, "%s.pubkey", path);

    json_t *blocks = json_object_get(item, "signed_blocks");
    if (!blocks)
        return cc_error_set(err, CC_EINVAL, "%s.signed_blocks: missing", path);
    if (!json_is_array(blocks))
        return cc_error_set(err, CC_EINVAL, "%s.signed_blocks: expected an array", path);
    size_t nb = json_array_size(blocks);
    if (nb) {
        v->blocks = calloc(nb, sizeof *v->blocks);
        if (!v->blocks)
            return cc_error_set(err, CC_ENOMEM, "%s.signed_blocks: out of memory", path);
    }
    for (size_t i = 0; i < nb; i++) {
        json_t *b = json_array_get(blocks, i);
        snprintf(sub, sizeof sub, "%s.signed_blocks[%zu]", path, i);
        if (!json_is_object(b))
            return cc_error_set(err, CC_EINVAL, "%s: expected an object", sub);
        cc_ic_block *blk = &v->blocks[i];
        if (get_u64(b, "slot", sub, &blk->slot, err) != CC_OK ||
            get_root(b, "signing_root", sub, blk->signing_root, &blk->has_signing_root, err) != CC_OK)
            return err ? err->code : CC_EINVAL;
        v->block_count = i + 1;
    }

    json_t *atts = json_object_get(item, "signed_attestations");
    if (!atts)
        return cc_error_set(err, CC_EINVAL, "%s.signed_attestations: missing", path);
    if (!json_is_array(atts))
        return cc_error_set(err, CC_EINVAL, "%s.signed_attestations: expected an array", path);
    size_t na = json_array_size(atts);
    if (na) {
        v->attestations = calloc(na, sizeof *v->attestations);
        if (!v->attestations)
            return cc_error_set(err, CC_ENOMEM, "%s.signed_attestations: out of memory", path);
    }
    for (size_t i = 0; i < na; i++) {
        json_t *a = json_array_get(atts, i);
        snprintf(sub, sizeof sub, "%s.signed_attestations[%zu]", path, i);
        if (!json_is_object(a))
            return cc_error_set(err, CC_EINVAL, "%s: expected an object", sub);
        cc_ic_attestation *att = &v->attestations[i];
        if (get_u64(a, "source_epoch", sub, &att->source_epoch, err) != CC_OK ||
            get_u64(a, "target_epoch", sub, &att->target_epoch, err) != CC_OK ||
            get_root(a, "signing_root", sub, att->signing_root, &att->has_signing_root, err) != CC_OK)
            return err ? err->code : CC_EINVAL;
        v->attestation_count = i + 1;
    }
    return CC_OK;
}

cc_status cc_interchange_parse(const char *json, size_t len, cc_interchange **out, cc_error *err)
{
    cc_error local;
    if (!err)
        err = &local;
    *out = NULL;

    json_error_t jerr;
    json_t *root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root)
        return cc_error_set(err, CC_EINVAL, "not valid JSON at line %d column %d: %s", jerr.line, jerr.column,
                            jerr.text);

    cc_status st = CC_OK;
    cc_interchange *ic = calloc(1, sizeof *ic);
    if (!ic) {
        st = cc_error_set(err, CC_ENOMEM, "interchange: out of memory");
        goto done;
    }
    if (!json_is_object(root)) {
        st = cc_error_set(err, CC_EINVAL, "interchange: expected a JSON object");
        goto done;
    }

    json_t *meta = json_object_get(root, "metadata");
    if (!meta) {
        st = cc_error_set(err, CC_EINVAL, "metadata: missing");
        goto done;
    }
    if (!json_is_object(meta)) {
        st = cc_error_set(err, CC_EINVAL, "metadata: expected an object");
        goto done;
    }
    json_t *ver = json_object_get(meta, "interchange_format_version");
    if (!ver) {
        st = cc_error_set(err, CC_EINVAL, "metadata.interchange_format_version: missing");
        goto done;
    }
    if (!json_is_string(ver) || strcmp(json_string_value(ver), "5") != 0) {
        st = cc_error_set(err, CC_EINVAL, "metadata.interchange_format_version: unsupported (expected \"5\")");
        goto done;
    }
    json_t *gvr = json_object_get(meta, "genesis_validators_root");
    if (!gvr) {
        st = cc_error_set(err, CC_EINVAL, "metadata.genesis_validators_root: missing");
        goto done;
    }
    if (!json_is_string(gvr)) {
        st = cc_error_set(err, CC_EINVAL, "metadata.genesis_validators_root: expected a 0x-hex string");
        goto done;
    }
    if ((st = cc_hex_decode_exact(json_string_value(gvr), ic->genesis_validators_root, 32, err)) != CC_OK) {
        cc_error_prefix(err, "metadata.genesis_validators_root");
        goto done;
    }

    json_t *data = json_object_get(root, "data");
    if (!data) {
        st = cc_error_set(err, CC_EINVAL, "data: missing");
        goto done;
    }
    if (!json_is_array(data)) {
        st = cc_error_set(err, CC_EINVAL, "data: expected an array");
        goto done;
    }
    size_t n = json_array_size(data);
    if (n) {
        ic->validators = calloc(n, sizeof *ic->validators);
        if (!ic->validators) {
            st = cc_error_set(err, CC_ENOMEM, "data: out of memory");
            goto done;
        }
    }
    for (size_t i = 0; i < n; i++) {
        /* Count first so a failure half-way still frees what was allocated. */
        ic->validator_count = i + 1;
        if ((st = parse_validator(json_array_get(data, i), i, &ic->validators[i], err)) != CC_OK)
            goto done;
    }

done:
    json_decref(root);
    if (st != CC_OK) {
        cc_interchange_free(ic);
        return st;
    }
    *out = ic;
    return CC_OK;
}

static json_t *u64_string(uint64_t v)
{
    char buf[24];
    snprintf(buf, sizeof buf, "%llu", (unsigned long long)v);
    return json_string(buf);
}

static json_t *hex_string(const uint8_t *b, size_t n)
{
    char buf[2 * 48 + 3];
    cc_hex_encode0x(b, n, buf);
    return json_string(buf);
}

cc_status cc_interchange_write(const cc_interchange *ic, char **json_out, cc_error *err)
{
    *json_out = NULL;
    json_t *root = json_object();
    json_t *meta = json_object();
    json_t *data = json_array();
    int bad = !root || !meta || !data;
    bad |= json_object_set_new(meta, "interchange_format_version", json_string("5"));
    bad |= json_object_set_new(meta, "genesis_validators_root", hex_string(ic->genesis_validators_root, 32));
    bad |= json_object_set_new(root, "metadata", meta);
    bad |= json_object_set_new(root, "data", data);
    for (size_t i = 0; i < ic->validator_count && !bad; i++) {
        const cc_ic_validator *v = &ic->validators[i];
        json_t *item = json_object();
        json_t *blocks = json_array();
        json_t *atts = json_array();
        bad |= json_array_append_new(data, item);
        bad |= json_object_set_new(item, "pubkey", hex_string(v->pubkey, 48));
        bad |= json_object_set_new(item, "signed_blocks", blocks);
        bad |= json_object_set_new(item, "signed_attestations", atts);
        for (size_t j = 0; j < v->block_count && !bad; j++) {
            json_t *b = json_object();
            bad |= json_array_append_new(blocks, b);
            bad |= json_object_set_new(b, "slot", u64_string(v->blocks[j].slot));
            if (v->blocks[j].has_signing_root)
                bad |= json_object_set_new(b, "signing_root", hex_string(v->blocks[j].signing_root, 32));
        }
        for (size_t j = 0; j < v->attestation_count && !bad; j++) {
            json_t *a = json_object();
            bad |= json_array_append_new(atts, a);
            bad |= json_object_set_new(a, "source_epoch", u64_string(v->attestations[j].source_epoch));
            bad |= json_object_set_new(a, "target_epoch", u64_string(v->attestations[j].target_epoch));
            if (v->attestations[j].has_signing_root)
                bad |= json_object_set_new(a, "signing_root",
                                           hex_string(v->attestations[j].signing_root, 32));
        }
    }
    if (!bad)
        *json_out = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(root);
    if (!*json_out)
        return cc_error_set(err, CC_ENOMEM, "interchange: out of memory while writing JSON");
    return CC_OK;
}

void cc_interchange_free(cc_interchange *ic)
{
    if (!ic)
        return;
    for (size_t i = 0; i < ic->validator_count; i++) {
        free(ic->validators[i].blocks);
        free(ic->validators[i].attestations);
    }
    free(ic->validators);
    free(ic);
}

cc_status cc_interchange_check_root(const cc_interchange *ic, const uint8_t gvr[32], cc_error *err)
{
    if (memcmp(ic->genesis_validators_root, gvr, 32) == 0)
        return CC_OK;
    char want[67], got[67];
    cc_hex_encode0x(gvr, 32, want);
    cc_hex_encode0x(ic->genesis_validators_root, 32, got);
    return cc_error_set(err, CC_EFORBIDDEN,
                        "metadata.genesis_validators_root: interchange is for %s, the database is bound to %s", got,
                        want);
}
