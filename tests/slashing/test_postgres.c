/*
 * Tests for the postgres anti-slashing backend against a real server: every
 * rule of slashing.h (same verdicts and messages as sqlite), imports (merge,
 * watermarks, null roots, all or nothing with an injected fault, GVR), export
 * round trips, TLS by default, no password in messages, and a race of two
 * backend instances (two pools, as two processes would be) on conflicting
 * checks, through both the synchronous calls and the asynchronous submit.
 *
 * CC_PG_URL (a libpq URI of a database this test may wipe) selects the server;
 * without it the test skips cleanly ("0 passed, 0 failed").
 * tests/integration/slashing_postgres.sh starts a throwaway cluster and runs it.
 */
#include <inttypes.h>
#include <libpq-fe.h>
#include <pthread.h>

#include "helpers.h"
#include "test.h"
#include "util/hex.h"

static const char *pg_url;

/* Empties the test database: every test starts from nothing. */
static void wipe(void)
{
    PGconn *c = PQconnectdb(pg_url);
    if (PQstatus(c) != CONNECTION_OK) {
        fprintf(stderr, "  wipe: %s", PQerrorMessage(c));
    } else {
        PQclear(PQexec(c, "SET client_min_messages = warning; DROP TABLE IF EXISTS metadata, validators, "
                          "signed_blocks, signed_attestations, low_watermarks CASCADE"));
    }
    PQfinish(c);
}

static int sql(const char *q)
{
    PGconn *c = PQconnectdb(pg_url);
    int ok = 0;
    if (PQstatus(c) == CONNECTION_OK) {
        PGresult *r = PQexec(c, q);
        ok = PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK;
        if (!ok)
            fprintf(stderr, "  sql: %s", PQresultErrorMessage(r));
        PQclear(r);
    }
    PQfinish(c);
    return ok;
}

static long long sql_count(const char *q)
{
    PGconn *c = PQconnectdb(pg_url);
    long long n = -1;
    if (PQstatus(c) == CONNECTION_OK) {
        PGresult *r = PQexec(c, q);
        if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1)
            n = atoll(PQgetvalue(r, 0, 0));
        PQclear(r);
    }
    PQfinish(c);
    return n;
}

static cc_slashing *open_gvr(const uint8_t *gvr, unsigned pool, cc_error *err)
{
    cc_slashing *db = NULL;
    cc_status st = cc_slashing_postgres_open(pg_url, pool, gvr, &db, err);
    if (st != CC_OK)
        fprintf(stderr, "  open: %s\n", err->msg);
    return db;
}

static cc_slashing *open_fresh(void)
{
    cc_error err;
    wipe();
    return open_gvr(GVR_A, 2, &err);
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

static cc_status import_json_gvr(cc_slashing *db, const uint8_t *gvr_bytes, const char *data, cc_error *err)
{
    char gvr[67], buf[8192];
    cc_hex_encode0x(gvr_bytes, 32, gvr);
    snprintf(buf, sizeof buf,
             "{\"metadata\":{\"interchange_format_version\":\"5\",\"genesis_validators_root\":\"%s\"},"
             "\"data\":[%s]}", gvr, data);
    cc_interchange *ic = NULL;
    if (cc_interchange_parse(buf, strlen(buf), &ic, err) != CC_OK)
        return err->code;
    cc_status st = db->ops->import(db, ic, err);
    cc_interchange_free(ic);
    return st;
}

static cc_status import_json(cc_slashing *db, const char *data, cc_error *err)
{
    return import_json_gvr(db, GVR_A, data, err);
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
    cc_slashing *db = open_fresh();
    CHECK(db != NULL);
    if (!db)
        return;
    CHECK(strcmp(db->ops->name, "postgres") == 0);
    uint8_t pk[48], r2[32];
    cc_error err;
    CHECK_EQ_INT(blk(db, 1, 10, 1), CC_OK);
    CHECK_EQ_INT(blk(db, 1, 10, 1), CC_OK); /* identical retry */
    pk_n(pk, 1);
    root_n(r2, 2);
    CHECK_EQ_INT(cc_slashing_check_block(db, pk, 10, r2, &err), CC_ESLASHABLE);
    char want[400], have[67], refused[67];
    uint8_t r1[32];
    root_n(r1, 1);
    cc_hex_encode0x(r1, 32, have);
    cc_hex_encode0x(r2, 32, refused);
    snprintf(want, sizeof want,
             "double proposal: a block at slot 10 was already signed with signing root %s, refusing signing root %s",
             have, refused);
    CHECK_EQ_STR(err.msg, want); /* word for word as sqlite.c */
    CHECK_EQ_INT(blk(db, 1, 9, 3), CC_OK);  /* out of order is not slashable without an import */
    CHECK_EQ_INT(blk(db, 2, 10, 2), CC_OK); /* another validator */
    CHECK_EQ_INT(blk(db, 1, 11, 2), CC_OK);
    cc_slashing_close(db);
}

TEST(attestation_rules)
{
    cc_slashing *db = open_fresh();
    CHECK(db != NULL);
    if (!db)
        return;
    uint8_t pk[48], root[32];
    cc_error err;
    pk_n(pk, 1);
    CHECK_EQ_INT(att(db, 1, 2, 3, 1), CC_OK);
    CHECK_EQ_INT(att(db, 1, 2, 3, 1), CC_OK); /* identical retry */
    root_n(root, 2);
    CHECK_EQ_INT(cc_slashing_check_attestation(db, pk, 2, 3, root, &err), CC_ESLASHABLE); /* double vote */
    CHECK(strstr(err.msg, "double vote: an attestation with target epoch 3 (source 2) was already signed") != NULL);
    CHECK_EQ_INT(att(db, 1, 1, 3, 3), CC_ESLASHABLE); /* same target, other source */
    CHECK_EQ_INT(cc_slashing_check_attestation(db, pk, 5, 4, root, &err), CC_ESLASHABLE); /* source > target */
    CHECK_EQ_STR(err.msg, "attestation source epoch 5 is greater than target epoch 4");
    CHECK_EQ_INT(att(db, 1, 3, 4, 5), CC_OK);
    CHECK_EQ_INT(att(db, 1, 10, 20, 6), CC_OK);
    root_n(root, 7);
    CHECK_EQ_INT(cc_slashing_check_attestation(db, pk, 9, 21, root, &err), CC_ESLASHABLE); /* surrounds (10,20) */
    CHECK_EQ_STR(err.msg, "surround vote: attestation (source 9, target 21) would surround the signed attestation "
                          "(source 10, target 20)");
    CHECK_EQ_INT(cc_slashing_check_attestation(db, pk, 11, 19, root, &err), CC_ESLASHABLE); /* surrounded */
    CHECK_EQ_STR(err.msg, "surround vote: attestation (source 11, target 19) would be surrounded by the signed "
                          "attestation (source 10, target 20)");
    CHECK_EQ_INT(att(db, 1, 10, 21, 8), CC_OK);        /* same source, later target: fine */
    CHECK_EQ_INT(att(db, 1, 21, 21, 9), CC_ESLASHABLE); /* double vote at 21 */
    CHECK_EQ_INT(att(db, 1, 5, 8, 10), CC_OK);          /* out of order, no surround: allowed */
    CHECK_EQ_INT(att(db, 1, 4, 9, 11), CC_ESLASHABLE);  /* surrounds (5,8) */
    CHECK_EQ_INT(att(db, 1, 0, 0, 12), CC_OK);          /* genesis-like, source == target */
    CHECK_EQ_INT(att(db, 2, 9, 21, 7), CC_OK);          /* another validator is independent */
    cc_slashing_close(db);
}

TEST(import_low_watermarks_and_null_roots)
{
    cc_slashing *db = open_fresh();
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
    CHECK_EQ_INT(blk(db, 1, 5, 50), CC_OK); /* same-root repeat of an imported block */
    CHECK_EQ_INT(blk(db, 1, 5, 51), CC_ESLASHABLE);
    uint8_t pk[48], root[32];
    pk_n(pk, 1);
    root_n(root, 0);
    CHECK_EQ_INT(cc_slashing_check_block(db, pk, 8, root, &err), CC_ESLASHABLE); /* null root: conflicts */
    CHECK(strstr(err.msg, "(none, imported without signing root)") != NULL);
    root_n(root, 1);
    CHECK_EQ_INT(cc_slashing_check_block(db, pk, 7, root, &err), CC_ESLASHABLE); /* at or below the watermark */
    CHECK_EQ_STR(err.msg, "block at slot 7 is at or below the low watermark slot 8 set by an interchange import");
    CHECK_EQ_INT(blk(db, 1, 9, 1), CC_OK);
    CHECK_EQ_INT(att(db, 1, 2, 3, 30), CC_OK);        /* same-root repeat */
    CHECK_EQ_INT(att(db, 1, 3, 6, 0), CC_ESLASHABLE); /* null root at target 6 */
    CHECK_EQ_INT(cc_slashing_check_attestation(db, pk, 2, 7, root, &err), CC_ESLASHABLE);
    CHECK_EQ_STR(err.msg, "attestation source epoch 2 is below the low watermark source epoch 3 set by an "
                          "interchange import");
    CHECK_EQ_INT(cc_slashing_check_attestation(db, pk, 3, 5, root, &err), CC_ESLASHABLE);
    CHECK_EQ_STR(err.msg, "attestation target epoch 5 is at or below the low watermark target epoch 6 set by an "
                          "interchange import");
    CHECK_EQ_INT(att(db, 1, 3, 7, 1), CC_OK);
    /* A later import keeps history and only raises the watermarks. */
    snprintf(data, sizeof data,
             "{\"pubkey\":\"%s\",\"signed_blocks\":[{\"slot\":\"3\"}],"
             "\"signed_attestations\":[{\"source_epoch\":\"1\",\"target_epoch\":\"2\"}]}", pkhex(1));
    CHECK_EQ_INT(import_json(db, data, &err), CC_OK);
    CHECK_EQ_INT(blk(db, 1, 9, 1), CC_OK); /* own record kept, still a repeat */
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
    /* The same pubkey twice in one interchange: one validator, the maxima of both. */
    snprintf(data, sizeof data,
             "{\"pubkey\":\"%s\",\"signed_blocks\":[{\"slot\":\"100\"}],\"signed_attestations\":[]},"
             "{\"pubkey\":\"%s\",\"signed_blocks\":[],\"signed_attestations\":[{\"source_epoch\":\"40\","
             "\"target_epoch\":\"41\"}]}", pkhex(3), pkhex(3));
    CHECK_EQ_INT(import_json(db, data, &err), CC_OK);
    CHECK_EQ_INT(blk(db, 3, 100, 1), CC_ESLASHABLE);
    CHECK_EQ_INT(blk(db, 3, 101, 1), CC_OK);
    CHECK_EQ_INT(att(db, 3, 40, 41, 1), CC_ESLASHABLE);
    CHECK_EQ_INT(att(db, 3, 41, 42, 1), CC_OK);
    CHECK_EQ_INT(sql_count("SELECT count(*) FROM validators"), 3);
    cc_slashing_close(db);
}

TEST(import_gap_is_closed)
{
    cc_slashing *db = open_fresh();
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
    cc_slashing *db = open_fresh();
    CHECK(db != NULL);
    if (!db)
        return;
    /* Inject a failure in the middle of the import: a trigger on the second validator's block. */
    CHECK(sql("CREATE FUNCTION cc_test_boom() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
              "IF NEW.slot = 999 THEN RAISE EXCEPTION 'injected fault'; END IF; RETURN NEW; END $$;"
              "CREATE TRIGGER boom BEFORE INSERT ON signed_blocks FOR EACH ROW EXECUTE FUNCTION cc_test_boom()"));
    cc_error err;
    char data[2048];
    snprintf(data, sizeof data,
             "{\"pubkey\":\"%s\",\"signed_blocks\":[{\"slot\":\"100\"}],"
             "\"signed_attestations\":[{\"source_epoch\":\"5\",\"target_epoch\":\"6\"}]},"
             "{\"pubkey\":\"%s\",\"signed_blocks\":[{\"slot\":\"999\"}],\"signed_attestations\":[]}",
             pkhex(1), pkhex(2));
    CHECK_EQ_INT(import_json(db, data, &err), CC_EIO);
    CHECK(strstr(err.msg, "injected fault") != NULL);
    CHECK(strstr(err.msg, "data[1]") != NULL);
    /* Nothing of the first validator stayed: no record, no watermark. */
    CHECK_EQ_INT(sql_count("SELECT count(*) FROM low_watermarks"), 0);
    CHECK_EQ_INT(blk(db, 1, 50, 1), CC_OK);
    CHECK_EQ_INT(att(db, 1, 1, 2, 1), CC_OK);
    /* A failing check fails its whole batch, answered as an error, nothing signed. */
    uint8_t pk[48], root[32];
    pk_n(pk, 2);
    root_n(root, 1);
    CHECK_EQ_INT(cc_slashing_check_block(db, pk, 999, root, &err), CC_EIO);
    CHECK(strstr(err.msg, "not recorded") != NULL && strstr(err.msg, "injected fault") != NULL);
    CHECK(sql("DROP TRIGGER boom ON signed_blocks; DROP FUNCTION cc_test_boom()"));
    CHECK_EQ_INT(blk(db, 2, 999, 1), CC_OK); /* and the workers carry on */
    cc_slashing_close(db);
}

TEST(gvr_binding)
{
    cc_slashing *db = open_fresh();
    CHECK(db != NULL);
    if (!db)
        return;
    cc_error err;
    CHECK_EQ_INT(blk(db, 1, 1, 1), CC_OK);
    char gvr[67];
    cc_hex_encode0x(GVR_B, 32, gvr);
    CHECK_EQ_INT(import_json_gvr(db, GVR_B, "", &err), CC_EFORBIDDEN);
    CHECK(strstr(err.msg, gvr) != NULL);
    cc_slashing_close(db);
    /* Reopening with another root is refused, naming both. */
    db = NULL;
    CHECK_EQ_INT(cc_slashing_postgres_open(pg_url, 1, GVR_B, &db, &err), CC_EFORBIDDEN);
    CHECK(db == NULL);
    CHECK(strstr(err.msg, gvr) != NULL);
    cc_hex_encode0x(GVR_A, 32, gvr);
    CHECK(strstr(err.msg, gvr) != NULL);
    /* And with the right one the history is there. */
    CHECK_EQ_INT(cc_slashing_postgres_open(pg_url, 1, GVR_A, &db, &err), CC_OK);
    if (db) {
        CHECK_EQ_INT(blk(db, 1, 1, 2), CC_ESLASHABLE);
        cc_slashing_close(db);
    }
}

TEST(export_import_round_trip)
{
    cc_slashing *db = open_fresh();
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
    uint8_t only[1][48];
    pk_n(only[0], 2);
    CHECK_EQ_INT(db->ops->export_(db, (const uint8_t(*)[48])only, 1, &ic, &err), CC_OK);
    CHECK(ic && ic->validator_count == 1 && memcmp(ic->validators[0].pubkey, only[0], 48) == 0);
    if (ic)
        CHECK(ic->validators[0].block_count == 1 && ic->validators[0].attestation_count == 1);
    cc_interchange_free(ic);
    cc_slashing_close(db);

    db = open_fresh();
    CHECK(db != NULL && json1 != NULL);
    if (!db || !json1) {
        free(json1);
        cc_slashing_close(db);
        return;
    }
    ic = NULL;
    CHECK_EQ_INT(cc_interchange_parse(json1, strlen(json1), &ic, &err), CC_OK);
    CHECK_EQ_INT(db->ops->import(db, ic, &err), CC_OK);
    cc_interchange_free(ic);
    ic = NULL;
    CHECK_EQ_INT(db->ops->export_(db, NULL, 0, &ic, &err), CC_OK);
    CHECK_EQ_INT(cc_interchange_write(ic, &json2, &err), CC_OK);
    cc_interchange_free(ic);
    CHECK(json2 && strcmp(json1, json2) == 0);
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

TEST(out_of_range_values_are_refused)
{
    cc_slashing *db = open_fresh();
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

/* The URL without sslmode: verify-full, so without a root certificate the connection is refused. */
TEST(tls_verify_full_by_default_and_no_password_in_messages)
{
    char url[2048];
    snprintf(url, sizeof url, "%s", pg_url);
    char *q = strchr(url, '?');
    if (q)
        *q = '\0';
    if (access("/root/.postgresql/root.crt", F_OK) == 0 || getenv("HOME") == NULL) {
        printf("  (skipped: a default root certificate exists)\n");
        return;
    }
    cc_slashing *db = NULL;
    cc_error err;
    CHECK_EQ_INT(cc_slashing_postgres_open(url, 1, GVR_A, &db, &err), CC_EUNAVAILABLE);
    CHECK_MSG(strstr(err.msg, "root certificate") != NULL, "%s", err.msg);
    CHECK(db == NULL);
    /* The password of the URL appears in no message. */
    PQconninfoOption *o = PQconninfoParse(pg_url, NULL);
    for (PQconninfoOption *p = o; p && p->keyword; p++)
        if (strcmp(p->keyword, "password") == 0 && p->val && *p->val)
            CHECK(strstr(err.msg, p->val) == NULL);
    PQconninfoFree(o);
    /* Bad URL syntax and an empty URL name the key. */
    CHECK_EQ_INT(cc_slashing_postgres_open("postgresql://x:y@[::1", 1, GVR_A, &db, &err), CC_ECONFIG);
    CHECK(strncmp(err.msg, "anti_slashing.url", 17) == 0);
    cc_slashing_config cfg = {.backend = "postgres", .url = ""};
    CHECK_EQ_INT(cc_slashing_open(&cfg, GVR_A, &db, &err), CC_ECONFIG);
    CHECK(strncmp(err.msg, "anti_slashing.url", 17) == 0);
}

/* A worker whose connection died answers its batch 503 (nothing recorded) and reconnects for the next. */
TEST(lost_connection_is_503_then_reconnects)
{
    cc_slashing *db = open_fresh();
    CHECK(db != NULL);
    if (!db)
        return;
    cc_slashing_close(db);
    cc_error err;
    db = open_gvr(GVR_A, 1, &err);
    CHECK(db != NULL);
    if (!db)
        return;
    CHECK_EQ_INT(blk(db, 1, 1, 1), CC_OK);
    CHECK(sql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
              "WHERE datname = current_database() AND pid <> pg_backend_pid() AND usename = current_user"));
    uint8_t pk[48], root[32];
    pk_n(pk, 1);
    root_n(root, 2);
    cc_status st = cc_slashing_check_block(db, pk, 2, root, &err);
    CHECK_MSG(st == CC_EUNAVAILABLE, "status %d: %s", (int)st, err.msg);
    CHECK(strstr(err.msg, "not recorded") != NULL);
    CHECK_EQ_INT(sql_count("SELECT count(*) FROM signed_blocks WHERE slot = 2"), 0);
    CHECK_EQ_INT(cc_slashing_check_block(db, pk, 2, root, &err), CC_OK); /* the retry, on a new connection */
    CHECK_EQ_INT(blk(db, 1, 2, 3), CC_ESLASHABLE);
    cc_slashing_close(db);
}

/* ---- two instances race ------------------------------------------------------ */

#define RACE_GROUPS 600
#define RACE_VALIDATORS 8
#define RACE_THREADS 4

typedef struct race_arg {
    cc_slashing *db;
    int side, thread, async;
    unsigned char *ok; /* ok[group] */
    int errors;
} race_arg;

typedef struct async_wait {
    pthread_mutex_t m;
    pthread_cond_t cv;
    int done;
} async_wait;

static void async_done(cc_slashing_check *c)
{
    async_wait *w = c->arg;
    pthread_mutex_lock(&w->m);
    w->done = 1;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->m);
}

/* Group k: validator k % V; kinds by k % 3: double vote, surround pair, double block.  Side s sends its half. */
static cc_status race_one(race_arg *a, int k)
{
    uint8_t pk[48], root[32];
    cc_error err;
    uint64_t w = (uint64_t)(k / RACE_VALIDATORS), base = 100 + 10 * w;
    pk_n(pk, (uint32_t)(k % RACE_VALIDATORS));
    root_n(root, (uint32_t)(2 * k + a->side));
    cc_slashing_check c = {0};
    memcpy(c.pubkey, pk, 48);
    memcpy(c.signing_root, root, 32);
    switch (k % 3) {
    case 0: c.kind = CC_SLASHING_ATTESTATION, c.source_epoch = base, c.target_epoch = base + 1; break;
    case 1:
        c.kind = CC_SLASHING_ATTESTATION;
        c.source_epoch = base + (uint64_t)a->side;
        c.target_epoch = base + 5 - (uint64_t)a->side;
        break;
    default: c.kind = CC_SLASHING_BLOCK, c.slot = 1000 + w; break;
    }
    if (!a->async) {
        if (c.kind == CC_SLASHING_BLOCK)
            return cc_slashing_check_block(a->db, c.pubkey, c.slot, c.signing_root, &err);
        return cc_slashing_check_attestation(a->db, c.pubkey, c.source_epoch, c.target_epoch, c.signing_root, &err);
    }
    async_wait wt = {.done = 0};
    pthread_mutex_init(&wt.m, NULL);
    pthread_cond_init(&wt.cv, NULL);
    c.done = async_done;
    c.arg = &wt;
    cc_slashing_submit(a->db, &c);
    pthread_mutex_lock(&wt.m);
    while (!wt.done)
        pthread_cond_wait(&wt.cv, &wt.m);
    pthread_mutex_unlock(&wt.m);
    pthread_mutex_destroy(&wt.m);
    pthread_cond_destroy(&wt.cv);
    return c.status;
}

static void *race_main(void *p)
{
    race_arg *a = p;
    for (int k = a->thread; k < RACE_GROUPS; k += RACE_THREADS) {
        cc_status st = race_one(a, k);
        a->ok[k] = st == CC_OK;
        if (st != CC_OK && st != CC_ESLASHABLE)
            a->errors++;
    }
    return NULL;
}

static void race(int async)
{
    cc_slashing *db[2];
    cc_error err;
    wipe();
    db[0] = open_gvr(GVR_A, 3, &err);
    db[1] = open_gvr(GVR_A, 3, &err);
    CHECK(db[0] && db[1]);
    if (!db[0] || !db[1]) {
        cc_slashing_close(db[0]);
        cc_slashing_close(db[1]);
        return;
    }
    static unsigned char ok[2][RACE_GROUPS];
    memset(ok, 0, sizeof ok);
    race_arg args[2][RACE_THREADS];
    pthread_t th[2][RACE_THREADS];
    for (int s = 0; s < 2; s++)
        for (int t = 0; t < RACE_THREADS; t++) {
            args[s][t] = (race_arg){.db = db[s], .side = s, .thread = t, .async = async, .ok = ok[s]};
            pthread_create(&th[s][t], NULL, race_main, &args[s][t]);
        }
    int errors = 0;
    for (int s = 0; s < 2; s++)
        for (int t = 0; t < RACE_THREADS; t++) {
            pthread_join(th[s][t], NULL);
            errors += args[s][t].errors;
        }
    int both = 0, none = 0;
    for (int k = 0; k < RACE_GROUPS; k++) {
        both += ok[0][k] && ok[1][k];
        none += !ok[0][k] && !ok[1][k];
    }
    CHECK_EQ_INT(errors, 0);
    CHECK_EQ_INT(both, 0);
    CHECK_EQ_INT(none, 0);
    /* What was allowed is what the database holds: one record per group. */
    CHECK_EQ_INT(sql_count("SELECT (SELECT count(*) FROM signed_attestations) + (SELECT count(*) FROM signed_blocks)"),
                 RACE_GROUPS);
    uint64_t batches = 0, checks = 0;
    cc_slashing_postgres_stats(db[0], &batches, &checks);
    printf("  %s: %d groups, two instances x %d threads: both=%d none=%d; instance 0 ran %" PRIu64
           " checks in %" PRIu64 " transactions\n",
           async ? "submit" : "sync", RACE_GROUPS, RACE_THREADS, both, none, checks, batches);
    cc_slashing_close(db[0]);
    cc_slashing_close(db[1]);
}

TEST(two_instances_race_sync)
{
    race(0);
}

TEST(two_instances_race_submit)
{
    race(1);
}

int main(void)
{
    pg_url = getenv("CC_PG_URL");
    if (!pg_url || !*pg_url) {
        printf("CC_PG_URL is not set: postgres tests skipped (tests/integration/slashing_postgres.sh runs them)\n");
        TEST_MAIN_END();
    }
    unsetenv("PGSSLMODE");
    RUN(block_double_and_repeat);
    RUN(attestation_rules);
    RUN(import_low_watermarks_and_null_roots);
    RUN(import_gap_is_closed);
    RUN(import_is_all_or_nothing);
    RUN(gvr_binding);
    RUN(export_import_round_trip);
    RUN(out_of_range_values_are_refused);
    RUN(tls_verify_full_by_default_and_no_password_in_messages);
    RUN(lost_connection_is_503_then_reconnects);
    RUN(two_instances_race_sync);
    RUN(two_instances_race_submit);
    tmp_cleanup();
    TEST_MAIN_END();
}
