/*
 * network.c — presets, the built-in networks and consensus-spec config.yaml loading.
 *
 * Built-in values: consensus-specs configs/mainnet.yaml and eth-clients/{sepolia,hoodi}
 * metadata/config.yaml; genesis_validators_root from staking-deposit-cli settings.py
 * (NOTES §2.4).  A devnet config.yaml is read with libyaml: only the keys below
 * matter, every other key (there are dozens, some nested such as BLOB_SCHEDULE)
 * is skipped, and a fork that has no version or epoch is unscheduled.
 */
#include "signing/network.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

#include "util/hex.h"

static const char *const fork_names[CC_FORK_COUNT] = {
    "PHASE0", "ALTAIR", "BELLATRIX", "CAPELLA", "DENEB", "ELECTRA", "FULU",
};

const char *cc_fork_name(cc_fork fork)
{
    return (unsigned)fork < CC_FORK_COUNT ? fork_names[fork] : "UNKNOWN";
}

cc_status cc_fork_parse(const char *name, cc_fork *out, cc_error *err)
{
    for (int f = 0; name && f < CC_FORK_COUNT; f++) {
        if (strcasecmp(name, fork_names[f]) == 0) {
            *out = (cc_fork)f;
            return CC_OK;
        }
    }
    return cc_error_set(err, CC_EINVAL, "unknown fork \"%.32s\" (expected PHASE0, ALTAIR, BELLATRIX, "
                                        "CAPELLA, DENEB, ELECTRA or FULU)", name ? name : "");
}

cc_status cc_preset_by_name(const char *name, cc_preset *out, cc_error *err)
{
    static const cc_preset mainnet = {"mainnet", 32, 512, 4, 64, 2048};
    static const cc_preset minimal = {"minimal", 8, 32, 4, 4, 2048};
    if (name && strcmp(name, "mainnet") == 0)
        *out = mainnet;
    else if (name && strcmp(name, "minimal") == 0)
        *out = minimal;
    else
        return cc_error_set(err, CC_ECONFIG, "unknown preset \"%.32s\" (expected mainnet or minimal)",
                            name ? name : "");
    return CC_OK;
}

cc_fork cc_network_fork_at_epoch(const cc_network *net, uint64_t epoch)
{
    cc_fork at = CC_FORK_PHASE0;
    for (int f = 1; f < CC_FORK_COUNT; f++) {
        uint64_t e = net->fork_epoch[f];
        if (e != CC_FAR_FUTURE_EPOCH && e <= epoch)
            at = (cc_fork)f;
    }
    return at;
}

/* ---- built-in networks ------------------------------------------------------------- */

typedef struct builtin {
    const char *name;
    uint32_t version[CC_FORK_COUNT]; /* big-endian reading of the 4 version bytes */
    uint64_t epoch[CC_FORK_COUNT];
    const char *gvr;
} builtin;

static const builtin builtins[] = {
    {"mainnet",
     {0x00000000, 0x01000000, 0x02000000, 0x03000000, 0x04000000, 0x05000000, 0x06000000},
     {0, 74240, 144896, 194048, 269568, 364032, 411392},
     "0x4b363db94e286120d76eb905340fdd4e54bfe9f06bf33ff6cf5ad27f511bfe95"},
    {"sepolia",
     {0x90000069, 0x90000070, 0x90000071, 0x90000072, 0x90000073, 0x90000074, 0x90000075},
     {0, 50, 100, 56832, 132608, 222464, 272640},
     "0xd8ea171f3c94aea21ebc42a1ed61052acf3f9209c00e4efbaaddac09ed9b8078"},
    {"hoodi",
     {0x10000910, 0x20000910, 0x30000910, 0x40000910, 0x50000910, 0x60000910, 0x70000910},
     {0, 0, 0, 0, 0, 2048, 50688},
     "0x212f13fc4df078b6cb7db228f1c8307566dcecf900867401a92023d7ba99cb5f"},
};

static void load_builtin(const builtin *b, cc_network *out)
{
    memset(out, 0, sizeof *out);
    snprintf(out->name, sizeof out->name, "%s", b->name);
    (void)cc_preset_by_name("mainnet", &out->preset, NULL); /* all three are PRESET_BASE: mainnet */
    for (int f = 0; f < CC_FORK_COUNT; f++) {
        for (int i = 0; i < 4; i++)
            out->fork_version[f][i] = (uint8_t)(b->version[f] >> (24 - 8 * i));
        out->fork_epoch[f] = b->epoch[f];
    }
    (void)cc_hex_decode_exact(b->gvr, out->genesis_validators_root, 32, NULL);
    out->has_genesis_validators_root = 1;
}

/* ---- config.yaml ------------------------------------------------------------------- */

typedef struct yaml_state {
    const char *path;
    cc_network *net;
    int have_preset, have_genesis;
    int have_version[CC_FORK_COUNT];
    int have_epoch[CC_FORK_COUNT];
} yaml_state;

static cc_status apply_key(yaml_state *st, const char *key, const char *val, cc_error *err)
{
    cc_network *net = st->net;
    cc_error e;
    if (strcmp(key, "PRESET_BASE") == 0) {
        if (cc_preset_by_name(val, &net->preset, &e) != CC_OK)
            return cc_error_set(err, CC_ECONFIG, "%s: PRESET_BASE: %s", st->path, e.msg);
        st->have_preset = 1;
        return CC_OK;
    }
    if (strcmp(key, "CONFIG_NAME") == 0) {
        snprintf(net->name, sizeof net->name, "%s", val);
        return CC_OK;
    }
    if (strcmp(key, "GENESIS_FORK_VERSION") == 0) {
        if (cc_hex_decode_exact(val, net->fork_version[CC_FORK_PHASE0], 4, &e) != CC_OK)
            return cc_error_set(err, CC_ECONFIG, "%s: GENESIS_FORK_VERSION: %s", st->path, e.msg);
        st->have_genesis = 1;
        return CC_OK;
    }
    for (int f = 1; f < CC_FORK_COUNT; f++) {
        size_t n = strlen(fork_names[f]);
        if (strncmp(key, fork_names[f], n) != 0)
            continue;
        if (strcmp(key + n, "_FORK_VERSION") == 0) {
            if (cc_hex_decode_exact(val, net->fork_version[f], 4, &e) != CC_OK)
                return cc_error_set(err, CC_ECONFIG, "%s: %s: %s", st->path, key, e.msg);
            st->have_version[f] = 1;
        } else if (strcmp(key + n, "_FORK_EPOCH") == 0) {
            if (cc_parse_u64(val, &net->fork_epoch[f], &e) != CC_OK)
                return cc_error_set(err, CC_ECONFIG, "%s: %s: %s", st->path, key, e.msg);
            st->have_epoch[f] = 1;
        }
        return CC_OK;
    }
    return CC_OK; /* every other key of the consensus config is not ours */
}

/* Skips a nested sequence or mapping whose start event was just read. */
static int skip_nested(yaml_parser_t *p)
{
    int depth = 1;
    while (depth > 0) {
        yaml_event_t ev;
        if (!yaml_parser_parse(p, &ev))
            return 0;
        if (ev.type == YAML_SEQUENCE_START_EVENT || ev.type == YAML_MAPPING_START_EVENT)
            depth++;
        else if (ev.type == YAML_SEQUENCE_END_EVENT || ev.type == YAML_MAPPING_END_EVENT)
            depth--;
        else if (ev.type == YAML_STREAM_END_EVENT)
            depth = 0;
        yaml_event_delete(&ev);
    }
    return 1;
}

static cc_status parse_yaml(yaml_parser_t *p, yaml_state *st, cc_error *err)
{
    yaml_event_t ev;
    /* stream start, document start, then the top-level mapping */
    for (int want = 0; want < 3; want++) {
        if (!yaml_parser_parse(p, &ev))
            return cc_error_set(err, CC_ECONFIG, "%s: YAML error at line %zu: %s", st->path,
                                p->problem_mark.line + 1, p->problem ? p->problem : "?");
        yaml_event_type_t t = ev.type;
        yaml_event_delete(&ev);
        if (want == 2 && t != YAML_MAPPING_START_EVENT)
            return cc_error_set(err, CC_ECONFIG, "%s: not a YAML mapping of config keys", st->path);
        if (want < 2 && t != (want == 0 ? YAML_STREAM_START_EVENT : YAML_DOCUMENT_START_EVENT))
            return cc_error_set(err, CC_ECONFIG, "%s: not a YAML mapping of config keys", st->path);
    }
    for (;;) {
        if (!yaml_parser_parse(p, &ev))
            return cc_error_set(err, CC_ECONFIG, "%s: YAML error at line %zu: %s", st->path,
                                p->problem_mark.line + 1, p->problem ? p->problem : "?");
        if (ev.type == YAML_MAPPING_END_EVENT) {
            yaml_event_delete(&ev);
            return CC_OK;
        }
        if (ev.type != YAML_SCALAR_EVENT) {
            yaml_event_delete(&ev);
            return cc_error_set(err, CC_ECONFIG, "%s: top-level keys must be plain scalars", st->path);
        }
        char key[128];
        snprintf(key, sizeof key, "%s", (const char *)ev.data.scalar.value);
        yaml_event_delete(&ev);

        if (!yaml_parser_parse(p, &ev))
            return cc_error_set(err, CC_ECONFIG, "%s: YAML error at line %zu: %s", st->path,
                                p->problem_mark.line + 1, p->problem ? p->problem : "?");
        cc_status s = CC_OK;
        if (ev.type == YAML_SCALAR_EVENT) {
            s = apply_key(st, key, (const char *)ev.data.scalar.value, err);
            yaml_event_delete(&ev);
        } else if (ev.type == YAML_SEQUENCE_START_EVENT || ev.type == YAML_MAPPING_START_EVENT) {
            yaml_event_delete(&ev);
            if (!skip_nested(p))
                return cc_error_set(err, CC_ECONFIG, "%s: YAML error at line %zu: %s", st->path,
                                    p->problem_mark.line + 1, p->problem ? p->problem : "?");
        } else {
            yaml_event_delete(&ev); /* an alias: never one of our keys */
        }
        if (s != CC_OK)
            return s;
    }
}

static cc_status load_config_yaml(const char *path, cc_network *out, cc_error *err)
{
    memset(out, 0, sizeof *out);
    for (int f = 0; f < CC_FORK_COUNT; f++)
        out->fork_epoch[f] = CC_FAR_FUTURE_EPOCH;
    out->fork_epoch[CC_FORK_PHASE0] = 0;

    FILE *fp = fopen(path, "rb");
    if (!fp)
        return cc_error_set(err, CC_EIO, "%s: cannot open the network config", path);
    yaml_parser_t parser;
    if (!yaml_parser_initialize(&parser)) {
        fclose(fp);
        return cc_error_set(err, CC_ENOMEM, "%s: cannot initialise the YAML parser", path);
    }
    yaml_parser_set_input_file(&parser, fp);
    yaml_state st = {.path = path, .net = out};
    cc_status s = parse_yaml(&parser, &st, err);
    yaml_parser_delete(&parser);
    fclose(fp);
    if (s != CC_OK)
        return s;

    if (!st.have_preset)
        return cc_error_set(err, CC_ECONFIG, "%s: PRESET_BASE is missing", path);
    if (!st.have_genesis)
        return cc_error_set(err, CC_ECONFIG, "%s: GENESIS_FORK_VERSION is missing", path);
    for (int f = 1; f < CC_FORK_COUNT; f++) {
        /* A fork with an epoch but no version cannot be signed for: refuse rather than guess. */
        if (!st.have_version[f] && st.have_epoch[f] && out->fork_epoch[f] != CC_FAR_FUTURE_EPOCH)
            return cc_error_set(err, CC_ECONFIG, "%s: %s_FORK_EPOCH is set but %s_FORK_VERSION is missing",
                                path, fork_names[f], fork_names[f]);
        if (!st.have_version[f] || !st.have_epoch[f])
            out->fork_epoch[f] = CC_FAR_FUTURE_EPOCH;
        if (out->fork_epoch[f] < out->fork_epoch[f - 1])
            return cc_error_set(err, CC_ECONFIG, "%s: %s_FORK_EPOCH comes before the previous fork's epoch",
                                path, fork_names[f]);
    }
    if (!out->name[0])
        snprintf(out->name, sizeof out->name, "%s", path);
    return CC_OK;
}

static int is_path(const char *s)
{
    size_t n = strlen(s);
    return strchr(s, '/') || (n > 5 && strcmp(s + n - 5, ".yaml") == 0) ||
           (n > 4 && strcmp(s + n - 4, ".yml") == 0);
}

cc_status cc_network_load(const char *name_or_path, const char *gvr_hex, cc_network *out, cc_error *err)
{
    if (!name_or_path || !*name_or_path)
        return cc_error_set(err, CC_ECONFIG, "network: empty name");
    uint8_t gvr[32];
    cc_error e;
    if (gvr_hex && cc_hex_decode_exact(gvr_hex, gvr, 32, &e) != CC_OK)
        return cc_error_set(err, CC_ECONFIG, "genesis_validators_root: %s", e.msg);
    if (is_path(name_or_path)) {
        cc_status s = load_config_yaml(name_or_path, out, err);
        if (s != CC_OK)
            return s;
        if (gvr_hex) {
            memcpy(out->genesis_validators_root, gvr, 32);
            out->has_genesis_validators_root = 1;
        }
        return CC_OK;
    }
    for (size_t i = 0; i < sizeof builtins / sizeof builtins[0]; i++) {
        if (strcmp(name_or_path, builtins[i].name) != 0)
            continue;
        load_builtin(&builtins[i], out);
        if (gvr_hex && memcmp(gvr, out->genesis_validators_root, 32) != 0)
            return cc_error_set(err, CC_ECONFIG, "genesis_validators_root %s is not %s's", gvr_hex, out->name);
        return CC_OK;
    }
    return cc_error_set(err, CC_ECONFIG, "network: unknown network \"%.64s\" (expected mainnet, sepolia, hoodi "
                                         "or the path of a config.yaml)", name_or_path);
}
