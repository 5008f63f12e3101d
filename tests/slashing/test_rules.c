/*
 * Tests for the anti-slashing rules of the sqlite backend (every rule of
 * slashing.h), imports (merge, watermarks, null roots, all or nothing, GVR),
 * export round trips, backend selection and the noop backend.
 */
#include <sqlite3.h>
#include <sys/stat.h>

#include "helpers.h"
#include "test.h"
#include "util/hex.h"

static cc_slashing *open_a(const char *name)
{
    cc_slashing *db = NULL;
    cc_error err;
    cc_status st = cc_slashing_sqlite_open(tmp_db(name), GVR_A, &db, &err);
    if (st != CC_OK)
        fprintf(stderr, "  open: %s\n", err.msg);
    return db;
}

static cc_status blk(cc_slashing *db, uint32_t v, uint64_t slot, uint32_t r)
{
    uint8_t pk[48], root[32];
    cc_error err;
    pk_n(pk, v);
    root_n(root, r);
    return cc_slashing_check_block(db, pk, slot, root, &err);
}

static cc_status att(cc_slashing *db, uint32_t v, uint64_t s, uint64_t t, uint32_t r)
{
    uint8_t pk[48], root[32];
    cc_error err;
    pk_n(pk, v);
    root_n(root, r);
    return cc_slashing_check_attestation(db, pk, s, t, root, &err);
}

static cc_interchange *parse(const char *json, cc_error *err)
{
    cc_interchange *ic = NULL;
    if (cc_interchange_parse(json, strlen(json), &ic, err) != CC_OK)
        return NULL;
    return ic;
}

/* An interchange for GVR_A from a printf body of data[]. */
static cc_status import_json(cc_slashing *db, const char *data, cc_error *err)
{
    char gvr[67], buf[8192];
    cc_hex_encode0x(GVR_A, 32, gvr);
    snprintf(buf, sizeof buf,
             "{\"metadata\":{\"interchange_format_version\":\"5\",\"genesis_validators_root\":\"%s\"},"
             "\"data\":[%s]}", gvr, data);
    cc_interchange *ic = parse(buf, err);
    if (!ic)
        return err->code;
    cc_status st = db->ops->import(db, ic, err);
    cc_interchange_free(ic);
    return st;
}

static const char *pkhex(uint32_t v)
{
    static char buf[4][99];
    static int k;
    uint8_t pk[48];
    pk_n(pk, v);
    k = (k + 1) % 4;
    cc_hex_encode0x(pk, 48, buf[k]);
    return buf[k];
}

static const char *roothex(uint32_t r)
{
    static char buf[4][67];
    static int k;
    uint8_t root[32];
    root_n(root, r);
    k = (k + 1) % 4;
    cc_hex_encode0x(root, 32, buf[k]);
    return buf[k];
}

TEST(block_double_and_repeat)
{
    cc_slashing *db = open_a("blocks");
    CHECK(db != NULL);
    if (!db)
        return;
    uint8_t pk[48], r2[32];
    cc_error err;
    CHECK_EQ_INT(blk(db, 1, 10, 1), CC_OK);
    CHECK_EQ_INT(blk(db, 1, 10, 1), CC_OK); /* identical retry */
    pk_n(pk, 1);
    root_n(r2, 2);
    CHECK_EQ_INT(cc_slashing_check_block(db, pk, 10, r2, &err), CC_ESLASHABLE);
    CHECK(strstr(err.msg, "double proposal") != NULL);
    CHECK_EQ_INT(blk(db, 1, 9, 3), CC_OK);  /* out of order is not slashable without an import */
    CHECK_EQ_INT(blk(db, 2, 10, 2), CC_OK); /* another validator */
    CHECK_EQ_INT(blk(db, 1, 11, 2), CC_OK);
    cc_slashing_close(db);
}

TEST(attestation_rules)
{
    cc_slashing *db = open_a("atts");
    CHECK(db != NULL);
    if (!db)
        return;
    uint8_t pk[48], root[32];
    cc_error err;
    pk_n(pk, 1);
    CHECK_EQ_INT(att(db, 1, 2, 3, 1), CC_OK);
    CHECK_EQ_INT(att(db, 1, 2, 3, 1), CC_OK);         /* identical retry */
    root_n(root, 2);
    CHECK_EQ_INT(cc_slashing_check_attestation(db, pk, 2, 3, root, &err), CC_ESLASHABLE); /* double vote */
    CHECK(strstr(err.msg, "double vote") != NULL);
    CHECK_EQ_INT(att(db, 1, 1, 3, 3), CC_ESLASHABLE); /* same target, other source */
    CHECK_EQ_INT(att(db, 1, 5, 4, 4), CC_ESLASHABLE); /* source > target */
    CHECK_EQ_INT(att(db, 1, 3, 4, 5), CC_OK);
    CHECK_EQ_INT(att(db, 1, 10, 20, 6), CC_OK);
    root_n(root, 7);
    CHECK_EQ_INT(cc_slashing_check_attestation(db, pk, 9, 21, root, &err), CC_ESLASHABLE); /* surrounds (10,20) */
    CHECK(strstr(err.msg, "would surround") != NULL);
    CHECK_EQ_INT(cc_slashing_check_attestation(db, pk, 11, 19, root, &err), CC_ESLASHABLE); /* surrounded */
    CHECK(strstr(err.msg, "surrounded") != NULL);
    CHECK_EQ_INT(att(db, 1, 10, 21, 8), CC_OK);  /* same source, later target: fine */
    CHECK_EQ_INT(att(db, 1, 21, 21, 9), CC_ESLASHABLE); /* double vote at 21 */
    CHECK_EQ_INT(att(db, 1, 5, 8, 10), CC_OK);   /* out of order, no surround: allowed */
    CHECK_EQ_INT(att(db, 1, 4, 9, 11), CC_ESLASHABLE); /* surrounds (5,8) */
    CHECK_EQ_INT(att(db, 1, 0, 0, 12), CC_OK);  /* genesis-like, source == target */
    CHECK_EQ_INT(att(db, 2, 9, 21, 7), CC_OK);  /* another validator is independent */
    cc_slashing_close(db);
}

TEST(import_low_watermarks_and_null_roots)
{
    cc_slashing *db = open_a("import_lw");
    CHECK(db != NULL);
    if (!db)
        return;
    cc_error err;
    char data[2048];
    snprintf(data, sizeof data,
             "{\"pubkey\":\"%s\",\"signed_blocks\":[{\"slot\":\"5\",\"signing_root\":\"%s\"},{\"slot\":\"8\"}],"
             "\"signed_attestations\":[{\"source_epoch\":\"2\",\"target_epoch\":\"3\",\"signing_root\":\"%s\"},"
             "{\"source_epoch\":\"3\",\"target_epoch\":\"6\"}]}",
             pkhex(1), roothex(50), roothex(30));
    CHECK_EQ_INT(import_json(db, data, &err), CC_OK);
    CHECK_EQ_INT(blk(db, 1, 5, 50), CC_OK);        /* same-root repeat of an imported block */
    CHECK_EQ_INT(blk(db, 1, 5, 51), CC_ESLASHABLE);
    CHECK_EQ_INT(blk(db, 1, 8, 0), CC_ESLASHABLE); /* imported without a root: conflicts with anything */
    CHECK_EQ_INT(blk(db, 1, 7, 1), CC_ESLASHABLE); /* at or below the watermark */
    CHECK_EQ_INT(blk(db, 1, 9, 1), CC_OK);
    CHECK_EQ_INT(att(db, 1, 2, 3, 30), CC_OK);     /* same-root repeat */
    CHECK_EQ_INT(att(db, 1, 3, 6, 0), CC_ESLASHABLE); /* null root at target 6 */
    CHECK_EQ_INT(att(db, 1, 2, 7, 1), CC_ESLASHABLE); /* source below watermark 3 */
    CHECK_EQ_INT(att(db, 1, 3, 5, 1), CC_ESLASHABLE); /* target at or below watermark 6 */
    CHECK_EQ_INT(att(db, 1, 3, 7, 1), CC_OK);
    /* A later import keeps history and only raises the watermarks. */
    snprintf(data, sizeof data,
             "{\"pubkey\":\"%s\",\"signed_blocks\":[{\"slot\":\"3\"}],"
             "\"signed_attestations\":[{\"source_epoch\":\"1\",\"target_epoch\":\"2\"}]}", pkhex(1));
    CHECK_EQ_INT(import_json(db, data, &err), CC_OK);
    CHECK_EQ_INT(blk(db, 1, 9, 1), CC_OK);         /* own record kept, still a repeat */
    CHECK_EQ_INT(blk(db, 1, 9, 2), CC_ESLASHABLE);
    CHECK_EQ_INT(blk(db, 1, 10, 1), CC_OK);
    CHECK_EQ_INT(att(db, 1, 3, 8, 1), CC_OK);
    /* Import a conflicting root over a signed one: the slot becomes the null marker. */
    snprintf(data, sizeof data,
             "{\"pubkey\":\"%s\",\"signed_blocks\":[{\"slot\":\"20\",\"signing_root\":\"%s\"}],"
             "\"signed_attestations\":[]}", pkhex(2), roothex(7));
    CHECK_EQ_INT(blk(db, 2, 20, 6), CC_OK);
    CHECK_EQ_INT(import_json(db, data, &err), CC_OK);
    CHECK_EQ_INT(blk(db, 2, 20, 6), CC_ESLASHABLE);
    CHECK_EQ_INT(blk(db, 2, 20, 7), CC_ESLASHABLE);
    CHECK_EQ_INT(blk(db, 2, 21, 7), CC_OK);
    cc_slashing_close(db);
}

TEST(import_gap_is_closed)
{
    /* Two imports at 40 and 50: nothing in between may be signed (EIP-3076's gap warning). */
    cc_slashing *db = open_a("gap");
    CHECK(db != NULL);
    if (!db)
        return;
    cc_error err;
    char data[1024];
    snprintf(data, sizeof data, "{\"pubkey\":\"%s\",\"signed_blocks\":[{\"slot\":\"40\"}],\"signed_attestations\":[]}",
             pkhex(1));
    CHECK_EQ_INT(import_json(db, data, &err), CC_OK);
    snprintf(data, sizeof data, "{\"pubkey\":\"%s\",\"signed_blocks\":[{\"slot\":\"50\"}],\"signed_attestations\":[]}",
             pkhex(1));
    CHECK_EQ_INT(import_json(db, data, &err), CC_OK);
    CHECK_EQ_INT(blk(db, 1, 45, 1), CC_ESLASHABLE);
    CHECK_EQ_INT(blk(db, 1, 50, 1), CC_ESLASHABLE);
    CHECK_EQ_INT(blk(db, 1, 51, 1), CC_OK);
    cc_slashing_close(db);
}

TEST(import_is_all_or_nothing)
{
    const char *path = tmp_db("atomic");
    cc_slashing *db = NULL;
    cc_error err;
    CHECK_EQ_INT(cc_slashing_sqlite_open(path, GVR_A, &db, &err), CC_OK);
    if (!db)
        return;
    /* Inject a failure in the middle of the import with a trigger on the second validator's block. */
    sqlite3 *raw = NULL;
    CHECK_EQ_INT(sqlite3_open(path, &raw), SQLITE_OK);
    sqlite3_busy_timeout(raw, 5000);
    CHECK_EQ_INT(sqlite3_exec(raw,
                              "CREATE TRIGGER boom BEFORE INSERT ON signed_blocks WHEN NEW.slot = 999 "
                              "BEGIN SELECT RAISE(ABORT, 'injected fault'); END;",
                              NULL, NULL, NULL),
                 SQLITE_OK);
    char data[2048];
    snprintf(data, sizeof data,
             "{\"pubkey\":\"%s\",\"signed_blocks\":[{\"slot\":\"100\"}],"
             "\"signed_attestations\":[{\"source_epoch\":\"5\",\"target_epoch\":\"6\"}]},"
             "{\"pubkey\":\"%s\",\"signed_blocks\":[{\"slot\":\"999\"}],\"signed_attestations\":[]}",
             pkhex(1), pkhex(2));
    CHECK_EQ_INT(import_json(db, data, &err), CC_EIO);
    CHECK(strstr(err.msg, "injected fault") != NULL);
    CHECK(strstr(err.msg, "data[1].signed_blocks[0]") != NULL);
    /* Nothing of the first validator stayed: no record, no watermark. */
    CHECK_EQ_INT(blk(db, 1, 50, 1), CC_OK);
    CHECK_EQ_INT(att(db, 1, 1, 2, 1), CC_OK);
    sqlite3_stmt *s;
    sqlite3_prepare_v2(raw, "SELECT COUNT(*) FROM low_watermarks", -1, &s, NULL);
    CHECK(sqlite3_step(s) == SQLITE_ROW && sqlite3_column_int(s, 0) == 0);
    sqlite3_finalize(s);
    CHECK_EQ_INT(sqlite3_exec(raw, "DROP TRIGGER boom", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(raw);
    /* The writer's id cache did not keep the rolled-back validator 2. */
    CHECK_EQ_INT(blk(db, 2, 1000, 1), CC_OK);
    cc_slashing_close(db);
}

TEST(gvr_binding)
{
    const char *path = tmp_db("gvr");
    char p[512];
    snprintf(p, sizeof p, "%s", path);
    cc_slashing *db = NULL;
    cc_error err;
    CHECK_EQ_INT(cc_slashing_sqlite_open(p, GVR_A, &db, &err), CC_OK);
    CHECK_EQ_INT(blk(db, 1, 1, 1), CC_OK);
    /* An interchange for another network is refused. */
    char gvr[67], buf[1024];
    cc_hex_encode0x(GVR_B, 32, gvr);
    snprintf(buf, sizeof buf,
             "{\"metadata\":{\"interchange_format_version\":\"5\",\"genesis_validators_root\":\"%s\"},\"data\":[]}",
             gvr);
    cc_interchange *ic = parse(buf, &err);
    CHECK(ic != NULL);
    if (ic) {
        CHECK_EQ_INT(db->ops->import(db, ic, &err), CC_EFORBIDDEN);
        CHECK(strstr(err.msg, gvr) != NULL);
        cc_interchange_free(ic);
    }
    cc_slashing_close(db);
    /* Reopening with another root is refused, naming both. */
    db = NULL;
    CHECK_EQ_INT(cc_slashing_sqlite_open(p, GVR_B, &db, &err), CC_EFORBIDDEN);
    CHECK(db == NULL);
    CHECK(strstr(err.msg, gvr) != NULL);
    cc_hex_encode0x(GVR_A, 32, gvr);
    CHECK(strstr(err.msg, gvr) != NULL);
    /* And with the right one the history is there. */
    CHECK_EQ_INT(cc_slashing_sqlite_open(p, GVR_A, &db, &err), CC_OK);
    if (db) {
        CHECK_EQ_INT(blk(db, 1, 1, 2), CC_ESLASHABLE);
        cc_slashing_close(db);
    }
    struct stat sb;
    CHECK(stat(p, &sb) == 0 && (sb.st_mode & 0777) == 0600);
}

TEST(interchange_parse_errors_name_the_field)
{
    static const struct {
        const char *json, *want;
    } cases[] = {
        {"{", "not valid JSON"},
        {"[]", "expected a JSON object"},
        {"{\"data\":[]}", "metadata: missing"},
        {"{\"metadata\":{\"interchange_format_version\":\"4\",\"genesis_validators_root\":\"0x00\"},\"data\":[]}",
         "metadata.interchange_format_version"},
        {"{\"metadata\":{\"interchange_format_version\":5,\"genesis_validators_root\":\"0x00\"},\"data\":[]}",
         "metadata.interchange_format_version"},
        {"{\"metadata\":{\"interchange_format_version\":\"5\",\"genesis_validators_root\":\"0x00\"},\"data\":[]}",
         "metadata.genesis_validators_root"},
        {"{\"metadata\":{\"interchange_format_version\":\"5\",\"genesis_validators_root\":\"GVR\"}}", "data: missing"},
        {"{\"metadata\":{\"interchange_format_version\":\"5\",\"genesis_validators_root\":\"GVR\"},\"data\":{}}",
         "data: expected an array"},
        {"{\"metadata\":{\"interchange_format_version\":\"5\",\"genesis_validators_root\":\"GVR\"},\"data\":[1]}",
         "data[0]: expected an object"},
        {"{\"metadata\":{\"interchange_format_version\":\"5\",\"genesis_validators_root\":\"GVR\"},\"data\":["
         "{\"pubkey\":\"0x12\",\"signed_blocks\":[],\"signed_attestations\":[]}]}",
         "data[0].pubkey"},
        {"{\"metadata\":{\"interchange_format_version\":\"5\",\"genesis_validators_root\":\"GVR\"},\"data\":["
         "{\"pubkey\":\"PK\",\"signed_attestations\":[]}]}",
         "data[0].signed_blocks: missing"},
        {"{\"metadata\":{\"interchange_format_version\":\"5\",\"genesis_validators_root\":\"GVR\"},\"data\":["
         "{\"pubkey\":\"PK\",\"signed_blocks\":[],\"signed_attestations\":[]},"
         "{\"pubkey\":\"PK\",\"signed_blocks\":[{\"slot\":12}],\"signed_attestations\":[]}]}",
         "data[1].signed_blocks[0].slot: expected a decimal string"},
        {"{\"metadata\":{\"interchange_format_version\":\"5\",\"genesis_validators_root\":\"GVR\"},\"data\":["
         "{\"pubkey\":\"PK\",\"signed_blocks\":[{\"slot\":\"1\",\"signing_root\":\"0xzz\"}],\"signed_attestations\":[]}]}",
         "data[0].signed_blocks[0].signing_root"},
        {"{\"metadata\":{\"interchange_format_version\":\"5\",\"genesis_validators_root\":\"GVR\"},\"data\":["
         "{\"pubkey\":\"PK\",\"signed_blocks\":[],\"signed_attestations\":[]},{\"pubkey\":\"PK\",\"signed_blocks\":[],"
         "\"signed_attestations\":[{\"source_epoch\":\"1\",\"target_epoch\":\"-2\"}]}]}",
         "data[1].signed_attestations[0].target_epoch: not a decimal uint64"},
        {"{\"metadata\":{\"interchange_format_version\":\"5\",\"genesis_validators_root\":\"GVR\"},\"data\":["
         "{\"pubkey\":\"PK\",\"signed_blocks\":[],\"signed_attestations\":[{\"target_epoch\":\"2\"}]}]}",
         "data[0].signed_attestations[0].source_epoch: missing"},
        {"{\"metadata\":{\"interchange_format_version\":\"5\",\"genesis_validators_root\":\"GVR\"},\"data\":["
         "{\"pubkey\":\"PK\",\"signed_blocks\":[{\"slot\":\"18446744073709551616\"}],\"signed_attestations\":[]}]}",
         "data[0].signed_blocks[0].slot: exceeds uint64"},
    };
    char gvr[67];
    cc_hex_encode0x(GVR_A, 32, gvr);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        /* Substitute a valid GVR and PK so each case fails only where intended. */
        char json[2048], *o = json;
        for (const char *p = cases[i].json; *p;) {
            if (strncmp(p, "\"GVR\"", 5) == 0) {
                o += sprintf(o, "\"%s\"", gvr);
                p += 5;
            } else if (strncmp(p, "\"PK\"", 4) == 0) {
                o += sprintf(o, "\"%s\"", pkhex(1));
                p += 4;
            } else {
                *o++ = *p++;
            }
        }
        *o = '\0';
        cc_error err;
        cc_interchange *ic = (cc_interchange *)1;
        CHECK_EQ_INT(cc_interchange_parse(json, strlen(json), &ic, &err), CC_EINVAL);
        CHECK(ic == NULL);
        CHECK_MSG(strstr(err.msg, cases[i].want) != NULL, "case %zu: \"%s\" lacks \"%s\"", i, err.msg,
                  cases[i].want);
    }
}

TEST(every_official_interchange_parses)
{
    /* Each step's interchange of the EIP-3076 suite parses (extra fields and minified forms included). */
    char path[4096];
    snprintf(path, sizeof path, "%s", test_vectors_path("eip3076/slashing-protection-interchange-tests/tests/generated"));
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "ls '%s'/*.json", path);
    FILE *ls = popen(cmd, "r");
    CHECK(ls != NULL);
    if (!ls)
        return;
    char file[4096];
    int files = 0, steps = 0;
    while (fgets(file, sizeof file, ls)) {
        file[strcspn(file, "\n")] = '\0';
        FILE *f = fopen(file, "rb");
        CHECK(f != NULL);
        if (!f)
            continue;
        static char buf[1 << 20];
        size_t n = fread(buf, 1, sizeof buf - 1, f);
        fclose(f);
        buf[n] = '\0';
        /* Find each "interchange": {...} by brace matching (no JSON library in the test). */
        for (char *p = buf; (p = strstr(p, "\"interchange\"")); ) {
            char *s = strchr(p, '{'), *e = s;
            int depth = 0;
            do {
                if (*e == '{') depth++;
                if (*e == '}') depth--;
                e++;
            } while (depth && *e);
            cc_interchange *ic = NULL;
            cc_error err;
            CHECK_MSG(cc_interchange_parse(s, (size_t)(e - s), &ic, &err) == CC_OK, "%s: %s", file, err.msg);
            cc_interchange_free(ic);
            steps++;
            p = e;
        }
        files++;
    }
    pclose(ls);
    CHECK_EQ_INT(files, 38);
    CHECK(steps >= 38);
}

TEST(export_import_round_trip)
{
    cc_slashing *db = open_a("rt1");
    CHECK(db != NULL);
    if (!db)
        return;
    cc_error err;
    char data[2048];
    snprintf(data, sizeof data,
             "{\"pubkey\":\"%s\",\"signed_blocks\":[{\"slot\":\"5\",\"signing_root\":\"%s\"},{\"slot\":\"8\"}],"
             "\"signed_attestations\":[{\"source_epoch\":\"2\",\"target_epoch\":\"3\",\"signing_root\":\"%s\"},"
             "{\"source_epoch\":\"3\",\"target_epoch\":\"6\"}]}",
             pkhex(1), roothex(50), roothex(30));
    CHECK_EQ_INT(import_json(db, data, &err), CC_OK);
    CHECK_EQ_INT(blk(db, 1, 9, 1), CC_OK);
    CHECK_EQ_INT(att(db, 1, 6, 7, 2), CC_OK);
    CHECK_EQ_INT(blk(db, 2, 100, 3), CC_OK);
    CHECK_EQ_INT(att(db, 2, 10, 11, 4), CC_OK);

    cc_interchange *ic = NULL;
    char *json1 = NULL, *json2 = NULL;
    CHECK_EQ_INT(db->ops->export_(db, NULL, 0, &ic, &err), CC_OK);
    CHECK(ic && ic->validator_count == 2);
    if (ic) {
        CHECK_EQ_INT(ic->validators[0].block_count, 3);
        CHECK_EQ_INT(ic->validators[0].attestation_count, 3);
        CHECK(ic->validators[0].blocks[0].has_signing_root && !ic->validators[0].blocks[1].has_signing_root);
        CHECK_EQ_INT(cc_interchange_write(ic, &json1, &err), CC_OK);
        cc_interchange_free(ic);
    }
    /* Only some pubkeys. */
    uint8_t only[1][48];
    pk_n(only[0], 2);
    CHECK_EQ_INT(db->ops->export_(db, (const uint8_t(*)[48])only, 1, &ic, &err), CC_OK);
    CHECK(ic && ic->validator_count == 1 && memcmp(ic->validators[0].pubkey, only[0], 48) == 0);
    cc_interchange_free(ic);
    cc_slashing_close(db);

    /* Into a fresh database, and out again: the same JSON. */
    db = open_a("rt2");
    CHECK(db != NULL && json1 != NULL);
    if (!db || !json1)
        return;
    ic = NULL;
    CHECK_EQ_INT(cc_interchange_parse(json1, strlen(json1), &ic, &err), CC_OK);
    CHECK_EQ_INT(db->ops->import(db, ic, &err), CC_OK);
    cc_interchange_free(ic);
    ic = NULL;
    CHECK_EQ_INT(db->ops->export_(db, NULL, 0, &ic, &err), CC_OK);
    CHECK_EQ_INT(cc_interchange_write(ic, &json2, &err), CC_OK);
    cc_interchange_free(ic);
    CHECK(json2 && strcmp(json1, json2) == 0);
    /* The imported history protects: repeats pass, everything at or below the records is refused. */
    CHECK_EQ_INT(blk(db, 1, 9, 1), CC_OK);
    CHECK_EQ_INT(blk(db, 1, 9, 2), CC_ESLASHABLE);
    CHECK_EQ_INT(blk(db, 2, 99, 2), CC_ESLASHABLE);
    CHECK_EQ_INT(att(db, 2, 10, 11, 4), CC_OK);
    CHECK_EQ_INT(att(db, 2, 10, 11, 5), CC_ESLASHABLE);
    CHECK_EQ_INT(att(db, 2, 11, 12, 5), CC_OK);
    free(json1);
    free(json2);
    cc_slashing_close(db);
}

TEST(open_dispatch_and_noop)
{
    cc_slashing *db = NULL;
    cc_error err;
    cc_slashing_config cfg = {.backend = "mysql"};
    CHECK_EQ_INT(cc_slashing_open(&cfg, GVR_A, &db, &err), CC_ECONFIG);
    CHECK_EQ_STR(err.msg, "anti_slashing.backend: unknown backend 'mysql' (expected sqlite, postgres, dynamodb, noop)");
    cfg.backend = "noop";
    CHECK_EQ_INT(cc_slashing_open(&cfg, GVR_A, &db, &err), CC_OK);
    CHECK(db && strcmp(db->ops->name, "noop") == 0);
    if (db) {
        CHECK_EQ_INT(blk(db, 1, 1, 1), CC_OK);
        CHECK_EQ_INT(blk(db, 1, 1, 2), CC_OK);
        CHECK_EQ_INT(att(db, 1, 5, 1, 2), CC_OK);
        cc_interchange *ic = NULL;
        CHECK_EQ_INT(db->ops->export_(db, NULL, 0, &ic, &err), CC_OK);
        CHECK(ic && ic->validator_count == 0);
        cc_interchange_free(ic);
        cc_slashing_close(db);
    }
    cfg.backend = "sqlite";
    cfg.path = tmp_db("dispatch");
    db = NULL;
    CHECK_EQ_INT(cc_slashing_open(&cfg, GVR_A, &db, &err), CC_OK);
    CHECK(db && strcmp(db->ops->name, "sqlite") == 0);
    cc_slashing_close(db);
    cfg.path = "/nonexistent-dir/x.sqlite";
    CHECK_EQ_INT(cc_slashing_open(&cfg, GVR_A, &db, &err), CC_EIO);
    CHECK(strstr(err.msg, "/nonexistent-dir/x.sqlite") != NULL);
}

TEST(out_of_range_values_are_refused)
{
    cc_slashing *db = open_a("range");
    CHECK(db != NULL);
    if (!db)
        return;
    CHECK_EQ_INT(blk(db, 1, (uint64_t)INT64_MAX + 1, 1), CC_EINVAL);
    CHECK_EQ_INT(att(db, 1, 1, UINT64_MAX, 1), CC_EINVAL);
    CHECK_EQ_INT(blk(db, 1, (uint64_t)INT64_MAX, 1), CC_OK);
    cc_error err;
    char data[512];
    snprintf(data, sizeof data,
             "{\"pubkey\":\"%s\",\"signed_blocks\":[{\"slot\":\"18446744073709551615\"}],\"signed_attestations\":[]}",
             pkhex(3));
    CHECK_EQ_INT(import_json(db, data, &err), CC_EINVAL);
    CHECK(strstr(err.msg, "data[0].signed_blocks[0].slot") != NULL);
    cc_slashing_close(db);
}

int main(void)
{
    RUN(block_double_and_repeat);
    RUN(attestation_rules);
    RUN(import_low_watermarks_and_null_roots);
    RUN(import_gap_is_closed);
    RUN(import_is_all_or_nothing);
    RUN(gvr_binding);
    RUN(interchange_parse_errors_name_the_field);
    RUN(every_official_interchange_parses);
    RUN(export_import_round_trip);
    RUN(open_dispatch_and_noop);
    RUN(out_of_range_values_are_refused);
    tmp_cleanup();
    TEST_MAIN_END();
}
