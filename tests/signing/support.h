/*
 * support.h — helpers shared by the signing tests (header-only, test code only):
 * YAML → jansson conversion for the published vectors, whole-file reading, the
 * interop secret keys of dev chains, and hand-built networks.
 */
#ifndef CC_TEST_SIGNING_SUPPORT_H
#define CC_TEST_SIGNING_SUPPORT_H

#include <jansson.h>
#include <openssl/bn.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "signing/bls.h"
#include "signing/network.h"
#include "util/hex.h"

#define SUPPORT_FN static __attribute__((unused))

/* Every scalar becomes a JSON string: uint64 values may exceed int64 and our reader accepts strings. */
SUPPORT_FN json_t *support_yaml_node_to_json(yaml_document_t *doc, yaml_node_t *node, int depth)
{
    if (!node || depth > 64)
        return NULL;
    switch (node->type) {
    case YAML_SCALAR_NODE:
        return json_stringn((const char *)node->data.scalar.value, node->data.scalar.length);
    case YAML_SEQUENCE_NODE: {
        json_t *arr = json_array();
        for (yaml_node_item_t *it = node->data.sequence.items.start; it < node->data.sequence.items.top; it++)
            json_array_append_new(arr, support_yaml_node_to_json(doc, yaml_document_get_node(doc, *it), depth + 1));
        return arr;
    }
    case YAML_MAPPING_NODE: {
        json_t *obj = json_object();
        for (yaml_node_pair_t *p = node->data.mapping.pairs.start; p < node->data.mapping.pairs.top; p++) {
            yaml_node_t *k = yaml_document_get_node(doc, p->key);
            if (!k || k->type != YAML_SCALAR_NODE)
                continue;
            json_object_set_new(obj, (const char *)k->data.scalar.value,
                                support_yaml_node_to_json(doc, yaml_document_get_node(doc, p->value), depth + 1));
        }
        return obj;
    }
    default:
        return NULL;
    }
}

/* Loads the first document of a YAML file as JSON; NULL on failure. */
SUPPORT_FN json_t *support_yaml_file_to_json(const char *path)
{
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return NULL;
    yaml_parser_t parser;
    yaml_document_t doc;
    json_t *out = NULL;
    yaml_parser_initialize(&parser);
    yaml_parser_set_input_file(&parser, fp);
    if (yaml_parser_load(&parser, &doc)) {
        out = support_yaml_node_to_json(&doc, yaml_document_get_root_node(&doc), 0);
        yaml_document_delete(&doc);
    }
    yaml_parser_delete(&parser);
    fclose(fp);
    return out;
}

/* Reads a whole file (NUL-terminated); NULL on failure. */
SUPPORT_FN char *support_read_file(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return NULL;
    fseek(fp, 0, SEEK_END);
    long n = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    if (buf && fread(buf, 1, (size_t)n, fp) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    fclose(fp);
    if (buf) {
        buf[n] = '\0';
        if (len)
            *len = (size_t)n;
    }
    return buf;
}

/* Interop key i: int_LE(SHA256(i as 32-byte little-endian)) mod r, as 32 big-endian bytes. */
SUPPORT_FN int support_interop_sk(unsigned i, cc_bls_sk *sk)
{
    uint8_t le[32] = {0}, h[32], be[32];
    for (int b = 0; b < 4; b++)
        le[b] = (uint8_t)(i >> (8 * b));
    SHA256(le, 32, h);
    BIGNUM *x = BN_lebin2bn(h, 32, NULL), *r = NULL, *m = BN_new();
    BN_CTX *ctx = BN_CTX_new();
    BN_hex2bn(&r, "73eda753299d7d483339d80809a1d80553bda402fffe5bfeffffffff00000001");
    int ok = BN_mod(m, x, r, ctx) && BN_bn2binpad(m, be, 32) == 32;
    BN_free(x);
    BN_free(r);
    BN_free(m);
    BN_CTX_free(ctx);
    return ok && cc_bls_sk_from_bytes(sk, be, NULL) == CC_OK;
}

/*
 * A network in the given preset with only the genesis fork scheduled (others
 * unscheduled), genesis version and GVR from hex.
 */
SUPPORT_FN void support_network(cc_network *net, const char *preset, const char *genesis_version_hex,
                            const char *gvr_hex)
{
    memset(net, 0, sizeof *net);
    snprintf(net->name, sizeof net->name, "test-%s", preset);
    cc_preset_by_name(preset, &net->preset, NULL);
    for (int f = 0; f < CC_FORK_COUNT; f++)
        net->fork_epoch[f] = CC_FAR_FUTURE_EPOCH;
    net->fork_epoch[CC_FORK_PHASE0] = 0;
    cc_hex_decode_exact(genesis_version_hex, net->fork_version[CC_FORK_PHASE0], 4, NULL);
    if (gvr_hex) {
        cc_hex_decode_exact(gvr_hex, net->genesis_validators_root, 32, NULL);
        net->has_genesis_validators_root = 1;
    }
}

SUPPORT_FN void support_hex(const uint8_t *b, size_t n, char *out)
{
    cc_hex_encode0x(b, n, out);
}

#endif
