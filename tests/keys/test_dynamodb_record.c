/*
 * test_dynamodb_record.c — the key table's item encoding (keys/dynamodb.h),
 * pure: record → item → record round trips, the status shard, and every
 * malformed attribute refused with CC_EINVAL naming it.
 */
#include <jansson.h>
#include <string.h>

#include "../test.h"
#include "keys/dynamodb.h"

static void sample(cc_key_record *r)
{
    memset(r, 0, sizeof *r);
    for (int i = 0; i < 48; i++)
        r->pubkey[i] = (uint8_t)(0xa0 + i);
    r->pubkey[47] = 0x35; /* 53 % 16 = 5 */
    r->status = CC_KEY_ACTIVE;
    for (int i = 0; i < CC_SEALED_KEY_LEN; i++)
        r->sealed[i] = (uint8_t)(i * 7 + 1);
    r->sealed_len = CC_SEALED_KEY_LEN;
    r->master_version = 3;
    strcpy(r->origin, "generated");
    strcpy(r->path, "m/12381/3600/7/0/0");
    r->mnemonic_age = strdup("-----BEGIN AGE ENCRYPTED FILE-----\nabc\n-----END AGE ENCRYPTED FILE-----\n");
    strcpy(r->created_at, "2026-11-26T00:01:02Z");
    strcpy(r->updated_at, "2026-11-26T00:01:03Z");
}

static const char *s_of(json_t *item, const char *name, const char *type)
{
    return json_string_value(json_object_get(json_object_get(item, name), type));
}

TEST(round_trip_all_fields)
{
    cc_key_record r, back;
    sample(&r);
    json_t *item = NULL;
    cc_error err;
    CHECK_EQ_INT(cc_key_record_to_item(&r, &item, &err), CC_OK);
    CHECK_EQ_STR(s_of(item, "status", "S"), "active");
    CHECK_EQ_STR(s_of(item, "status_shard", "S"), "active#05");
    CHECK_EQ_STR(s_of(item, "master_version", "N"), "3");
    CHECK_EQ_STR(s_of(item, "origin", "S"), "generated");
    CHECK_EQ_STR(s_of(item, "path", "S"), "m/12381/3600/7/0/0");
    const char *pk = s_of(item, "pk", "S");
    CHECK(pk && strlen(pk) == 98 && strncmp(pk, "0xa0a1a2", 8) == 0 && strcmp(pk + 96, "35") == 0);
    CHECK(s_of(item, "sealed", "B") != NULL);
    CHECK_EQ_INT(cc_key_record_from_item(item, &back, &err), CC_OK);
    CHECK(memcmp(back.pubkey, r.pubkey, 48) == 0);
    CHECK_EQ_INT(back.status, CC_KEY_ACTIVE);
    CHECK_EQ_INT(back.sealed_len, CC_SEALED_KEY_LEN);
    CHECK(memcmp(back.sealed, r.sealed, CC_SEALED_KEY_LEN) == 0);
    CHECK_EQ_INT(back.master_version, 3);
    CHECK_EQ_STR(back.origin, "generated");
    CHECK_EQ_STR(back.path, r.path);
    CHECK_EQ_STR(back.mnemonic_age, r.mnemonic_age);
    CHECK_EQ_STR(back.created_at, r.created_at);
    CHECK_EQ_STR(back.updated_at, r.updated_at);
    cc_key_record_clear(&back);
    cc_key_record_clear(&r);
    CHECK(r.mnemonic_age == NULL);
    json_decref(item);
}

TEST(round_trip_without_optional_fields)
{
    cc_key_record r, back;
    sample(&r);
    cc_key_record_clear(&r);
    r.path[0] = '\0';
    r.status = CC_KEY_INACTIVE;
    r.pubkey[47] = 0x10; /* shard 0 */
    strcpy(r.origin, "imported");
    json_t *item = NULL;
    cc_error err;
    CHECK_EQ_INT(cc_key_record_to_item(&r, &item, &err), CC_OK);
    CHECK(json_object_get(item, "path") == NULL);
    CHECK(json_object_get(item, "mnemonic_age") == NULL);
    CHECK_EQ_STR(s_of(item, "status_shard", "S"), "inactive#00");
    CHECK_EQ_INT(cc_key_record_from_item(item, &back, &err), CC_OK);
    CHECK_EQ_INT(back.status, CC_KEY_INACTIVE);
    CHECK_EQ_STR(back.path, "");
    CHECK(back.mnemonic_age == NULL);
    CHECK_EQ_STR(back.origin, "imported");
    json_decref(item);
}

TEST(to_item_refuses_bad_records)
{
    cc_key_record r;
    json_t *item = NULL;
    cc_error err;
    sample(&r);
    r.sealed_len = 60;
    CHECK_EQ_INT(cc_key_record_to_item(&r, &item, &err), CC_EINVAL);
    CHECK(strstr(err.msg, "sealed") != NULL);
    r.sealed_len = CC_SEALED_KEY_LEN;
    r.master_version = 0;
    CHECK_EQ_INT(cc_key_record_to_item(&r, &item, &err), CC_EINVAL);
    CHECK(strstr(err.msg, "master_version") != NULL);
    r.master_version = 1;
    strcpy(r.origin, "found");
    CHECK_EQ_INT(cc_key_record_to_item(&r, &item, &err), CC_EINVAL);
    CHECK(strstr(err.msg, "origin") != NULL);
    strcpy(r.origin, "imported");
    r.status = (cc_key_status)7;
    CHECK_EQ_INT(cc_key_record_to_item(&r, &item, &err), CC_EINVAL);
    CHECK(strstr(err.msg, "status") != NULL);
    CHECK(item == NULL);
    cc_key_record_clear(&r);
}

/* Encodes the sample, applies one change (attribute name, new JSON value or NULL to delete), decodes. */
static void expect_malformed(const char *attr_name, const char *json_value, const char *named)
{
    cc_key_record r, back;
    sample(&r);
    json_t *item = NULL;
    cc_error err;
    CHECK_EQ_INT(cc_key_record_to_item(&r, &item, &err), CC_OK);
    cc_key_record_clear(&r);
    if (json_value)
        json_object_set_new(item, attr_name, json_loads(json_value, JSON_DECODE_ANY, NULL));
    else
        json_object_del(item, attr_name);
    cc_error_clear(&err);
    cc_status st = cc_key_record_from_item(item, &back, &err);
    CHECK_MSG(st == CC_EINVAL, "%s=%s: status %d", attr_name, json_value ? json_value : "(deleted)", (int)st);
    CHECK_MSG(strstr(err.msg, named) != NULL, "%s: message \"%s\" does not name %s", attr_name, err.msg, named);
    if (st == CC_OK)
        cc_key_record_clear(&back);
    json_decref(item);
}

TEST(malformed_items_are_named)
{
    expect_malformed("pk", NULL, "pk");
    expect_malformed("pk", "{\"S\":\"0xA0A1\"}", "pk");
    expect_malformed("pk", "{\"N\":\"1\"}", "pk");
    char upper[99] = "0x";
    for (int i = 0; i < 96; i++)
        upper[2 + i] = 'A';
    upper[98] = '\0';
    char v[128];
    snprintf(v, sizeof v, "{\"S\":\"%s\"}", upper);
    expect_malformed("pk", v, "pk");
    expect_malformed("status", NULL, "status");
    expect_malformed("status", "{\"S\":\"paused\"}", "status");
    expect_malformed("status", "{\"S\":\"inactive\"}", "status_shard"); /* shard no longer matches */
    expect_malformed("status_shard", "{\"S\":\"active#06\"}", "status_shard");
    expect_malformed("status_shard", NULL, "status_shard");
    expect_malformed("sealed", NULL, "sealed");
    expect_malformed("sealed", "{\"S\":\"AAAA\"}", "sealed");
    expect_malformed("sealed", "{\"B\":\"AAAA\"}", "sealed");       /* 3 bytes */
    expect_malformed("sealed", "{\"B\":\"not base64!\"}", "sealed");
    expect_malformed("master_version", NULL, "master_version");
    expect_malformed("master_version", "{\"N\":\"0\"}", "master_version");
    expect_malformed("master_version", "{\"N\":\"4294967296\"}", "master_version");
    expect_malformed("master_version", "{\"N\":\"1x\"}", "master_version");
    expect_malformed("origin", NULL, "origin");
    expect_malformed("origin", "{\"S\":\"stolen\"}", "origin");
    expect_malformed("created_at", NULL, "created_at");
    expect_malformed("updated_at", "{\"N\":\"5\"}", "updated_at");
    expect_malformed("path", "{\"S\":\"m/12381/3600/0/0/0/00000000000000000000000000000000000000000000000000\"}", "path");
    expect_malformed("path", "{\"N\":\"1\"}", "path");
    expect_malformed("mnemonic_age", "{\"B\":\"AAAA\"}", "mnemonic_age");
}

TEST(status_names)
{
    CHECK_EQ_STR(cc_key_status_name(CC_KEY_ACTIVE), "active");
    CHECK_EQ_STR(cc_key_status_name(CC_KEY_INACTIVE), "inactive");
}

int main(void)
{
    RUN(round_trip_all_fields);
    RUN(round_trip_without_optional_fields);
    RUN(to_item_refuses_bad_records);
    RUN(malformed_items_are_named);
    RUN(status_names);
    TEST_MAIN_END();
}
