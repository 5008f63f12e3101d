/*
 * fuzz_key_record — cc_key_record_from_item (src/keys/dynamodb.c), the
 * decoder of one DynamoDB key-table item (pk, status, status_shard, sealed,
 * master_version, origin, path, mnemonic_age, created_at, updated_at): what
 * every replica's refresh reads from a table anyone with write access (or a
 * corrupted backup) controls.  The input is the item as DynamoDB JSON text.
 *
 * Invariants: a failure carries its code (CC_EINVAL / CC_ENOMEM) and message;
 * a decoded record is well-formed (status, 61-byte sealed blob, version >= 1,
 * known origin) and round-trips: from_item → to_item → JSON text → from_item
 * gives the same record, whose item's pk is the canonical lower-case hex.
 * The one refusal allowed on the way back is to_item's of an empty
 * created_at / updated_at, which from_item accepts (docs/testing.md).
 */
#include <jansson.h>

#include "fuzz.h"
#include "keys/dynamodb.h"
#include "util/hex.h"
#include "util/log.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    cc_log_set_level(CC_LOG_ERROR);
    return 0;
}

static void same(const cc_key_record *a, const cc_key_record *b)
{
    FUZZ_ASSERT(memcmp(a->pubkey, b->pubkey, sizeof a->pubkey) == 0);
    FUZZ_ASSERT(a->status == b->status);
    FUZZ_ASSERT(a->sealed_len == b->sealed_len && memcmp(a->sealed, b->sealed, a->sealed_len) == 0);
    FUZZ_ASSERT(a->master_version == b->master_version);
    FUZZ_ASSERT(strcmp(a->origin, b->origin) == 0 && strcmp(a->path, b->path) == 0);
    FUZZ_ASSERT(strcmp(a->created_at, b->created_at) == 0 && strcmp(a->updated_at, b->updated_at) == 0);
    FUZZ_ASSERT((a->mnemonic_age == NULL) == (b->mnemonic_age == NULL));
    if (a->mnemonic_age)
        FUZZ_ASSERT(strcmp(a->mnemonic_age, b->mnemonic_age) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *item = json_loadb((const char *)data, size, 0, NULL);
    if (!item)
        return 0;
    cc_error err = {0};
    cc_key_record r;
    cc_status st = cc_key_record_from_item(item, &r, &err);
    json_decref(item);
    if (st != CC_OK) {
        FUZZ_ASSERT_ERR(st, err);
        FUZZ_ASSERT(st == CC_EINVAL || st == CC_ENOMEM);
        cc_key_record_clear(&r);
        return 0;
    }
    FUZZ_ASSERT(r.status == CC_KEY_ACTIVE || r.status == CC_KEY_INACTIVE);
    FUZZ_ASSERT(r.sealed_len == CC_SEALED_KEY_LEN && r.master_version >= 1);
    FUZZ_ASSERT(strcmp(r.origin, "generated") == 0 || strcmp(r.origin, "imported") == 0);
    FUZZ_ASSERT(memchr(r.path, '\0', sizeof r.path) && memchr(r.created_at, '\0', sizeof r.created_at) &&
                memchr(r.updated_at, '\0', sizeof r.updated_at));

    json_t *again = NULL;
    cc_error err2 = {0};
    st = cc_key_record_to_item(&r, &again, &err2);
    if (st != CC_OK) {
        FUZZ_ASSERT_ERR(st, err2);
        FUZZ_ASSERT(st == CC_EINVAL && (r.created_at[0] == '\0' || r.updated_at[0] == '\0'));
        cc_key_record_clear(&r);
        return 0;
    }
    char hex[2 + 96 + 1];
    cc_hex_encode0x(r.pubkey, 48, hex);
    FUZZ_ASSERT(strcmp(json_string_value(json_object_get(json_object_get(again, "pk"), "S")), hex) == 0);
    char *text = json_dumps(again, JSON_COMPACT);
    json_decref(again);
    FUZZ_ASSERT(text != NULL);
    json_t *reread = json_loads(text, 0, NULL);
    free(text);
    FUZZ_ASSERT(reread != NULL);
    cc_key_record r2;
    cc_error err3 = {0};
    st = cc_key_record_from_item(reread, &r2, &err3);
    json_decref(reread);
    if (st != CC_OK)
        fprintf(stderr, "re-decode: %s\n", err3.msg);
    FUZZ_ASSERT(st == CC_OK);
    same(&r, &r2);
    cc_key_record_clear(&r);
    cc_key_record_clear(&r2);
    return 0;
}
