/*
 * fuzz_state_record — the signer state item every replica reads to rebuild
 * the master key: cc_state_record_from_item (src/chamber/state.c) with its
 * operator-quorum attributes cc_quorum_from_item (src/chamber/quorum.c,
 * mode "quorum"), the master-key rotation's `pending` entry
 * cc_rotate_pending_decode and the revision / condition readers
 * (src/chamber/rotate.c).  The input is the item as DynamoDB JSON text.
 *
 * Invariants: a failure carries its code (CC_EINVAL / CC_ENOMEM) and message;
 * a decoded record respects its bounds (threshold 1..share_count <= 32,
 * distinct share indexes 1..255, version >= 1; quorum threshold <= count <= 16,
 * distinct operator names and indexes, complete only when all registered)
 * and round-trips: from_item → to_item → JSON text → from_item gives the
 * same record (quorum included); a decoded pending entry re-encodes
 * (cc_rotate_pending_encode) and decodes to the same record.
 */
#include <jansson.h>

#include "chamber/quorum.h"
#include "chamber/rotate.h"
#include "chamber/state.h"
#include "fuzz.h"
#include "util/log.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    cc_log_set_level(CC_LOG_ERROR);
    return 0;
}

static void check_bounds(const cc_state_record *r)
{
    FUZZ_ASSERT(memchr(r->mode, '\0', sizeof r->mode) && memchr(r->created_at, '\0', sizeof r->created_at) &&
                memchr(r->updated_at, '\0', sizeof r->updated_at));
    FUZZ_ASSERT(r->threshold >= 1 && r->threshold <= r->share_count && r->share_count <= CC_STATE_MAX_SHARES);
    FUZZ_ASSERT(r->version >= 1);
    for (unsigned i = 0; i < r->share_count; i++) {
        const cc_state_share *s = &r->shares[i];
        FUZZ_ASSERT(s->index >= 1);
        FUZZ_ASSERT(s->kms_key_arn[0] != '\0' && strlen(s->kms_key_arn) <= CC_STATE_ARN_MAX);
        FUZZ_ASSERT(s->blob_len == 0 || s->blob != NULL);
        for (unsigned j = 0; j < i; j++)
            FUZZ_ASSERT(r->shares[j].index != s->index);
    }
    if (strcmp(r->mode, "quorum") == 0) {
        const cc_quorum_record *q = &r->quorum;
        FUZZ_ASSERT(strlen(q->init_id) == CC_QUORUM_INIT_ID_LEN);
        FUZZ_ASSERT(q->threshold >= 1 && q->threshold <= q->count && q->count <= CC_QUORUM_MAX_OPERATORS);
        FUZZ_ASSERT(cc_quorum_kdf_check(&q->kdf, NULL) == CC_OK);
        unsigned registered = 0;
        for (unsigned i = 0; i < q->count; i++) {
            const cc_quorum_operator *op = &q->ops[i];
            FUZZ_ASSERT(cc_quorum_name_check(op->name, NULL) == CC_OK);
            FUZZ_ASSERT(op->index >= 1 && op->index <= CC_QUORUM_MAX_OPERATORS);
            for (unsigned j = 0; j < i; j++)
                FUZZ_ASSERT(q->ops[j].index != op->index && strcmp(q->ops[j].name, op->name) != 0);
            if (op->registered) {
                registered++;
                FUZZ_ASSERT(op->kind == CC_QUORUM_KIND_PASSPHRASE || op->kind == CC_QUORUM_KIND_YUBIKEY);
                FUZZ_ASSERT(cc_quorum_kdf_check(&op->kdf, NULL) == CC_OK);
            }
            FUZZ_ASSERT(cc_quorum_find_operator(q, op->name) == (int)i);
        }
        FUZZ_ASSERT(!q->complete || registered == q->count);
    }
}

static void same(const cc_state_record *a, const cc_state_record *b)
{
    FUZZ_ASSERT(strcmp(a->mode, b->mode) == 0 && a->threshold == b->threshold && a->share_count == b->share_count);
    FUZZ_ASSERT(a->version == b->version && memcmp(a->check, b->check, sizeof a->check) == 0);
    FUZZ_ASSERT(strcmp(a->created_at, b->created_at) == 0 && strcmp(a->updated_at, b->updated_at) == 0);
    for (unsigned i = 0; i < a->share_count; i++) {
        const cc_state_share *x = &a->shares[i], *y = &b->shares[i];
        FUZZ_ASSERT(x->index == y->index && strcmp(x->kms_key_arn, y->kms_key_arn) == 0);
        FUZZ_ASSERT(x->blob_len == y->blob_len && (x->blob_len == 0 || memcmp(x->blob, y->blob, x->blob_len) == 0));
    }
    if (strcmp(a->mode, "quorum") == 0) /* both memset before decoding: padding included */
        FUZZ_ASSERT(memcmp(&a->quorum, &b->quorum, sizeof a->quorum) == 0);
}

/* to_item → JSON text → from_item, which must give r back. */
static void round_trip(const cc_state_record *r)
{
    json_t *item = NULL;
    cc_error err = {0};
    cc_status st = cc_state_record_to_item(r, &item, &err);
    if (st != CC_OK)
        fprintf(stderr, "to_item: %s\n", err.msg);
    FUZZ_ASSERT(st == CC_OK);
    char *text = json_dumps(item, JSON_COMPACT);
    json_decref(item);
    FUZZ_ASSERT(text != NULL);
    json_t *back = json_loads(text, 0, NULL);
    free(text);
    FUZZ_ASSERT(back != NULL);
    cc_state_record r2;
    st = cc_state_record_from_item(back, &r2, &err);
    json_decref(back);
    if (st != CC_OK)
        fprintf(stderr, "re-decode: %s\n", err.msg);
    FUZZ_ASSERT(st == CC_OK);
    same(r, &r2);
    cc_state_record_clear(&r2);
}

static cc_state_record rec, pend, pend2; /* ~70 KB each: not on the stack */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *item = json_loadb((const char *)data, size, 0, NULL);
    if (!item)
        return 0;
    cc_error err = {0};
    cc_status st = cc_state_record_from_item(item, &rec, &err);
    if (st != CC_OK) {
        FUZZ_ASSERT_ERR(st, err);
        FUZZ_ASSERT(st == CC_EINVAL || st == CC_ENOMEM);
    } else {
        check_bounds(&rec);
        round_trip(&rec);
        if (strcmp(rec.mode, "quorum") == 0) {
            json_t *status = json_object();
            FUZZ_ASSERT(status != NULL);
            cc_quorum_status(&rec.quorum, status);
            FUZZ_ASSERT(json_array_size(json_object_get(status, "operators")) == rec.quorum.count);
            json_decref(status);
        }
    }
    cc_state_record_clear(&rec);

    json_t *p = json_object_get(item, "pending");
    if (p) {
        cc_error perr = {0};
        st = cc_rotate_pending_decode(p, &pend, &perr);
        if (st != CC_OK) {
            FUZZ_ASSERT_ERR(st, perr);
            FUZZ_ASSERT(st == CC_EINVAL || st == CC_ENOMEM);
        } else {
            check_bounds(&pend);
            FUZZ_ASSERT(strcmp(pend.mode, "kms") == 0);
            json_t *attr = NULL;
            st = cc_rotate_pending_encode(&pend, &attr, &perr);
            FUZZ_ASSERT(st == CC_OK);
            char *text = json_dumps(attr, JSON_COMPACT);
            json_decref(attr);
            FUZZ_ASSERT(text != NULL);
            json_t *back = json_loads(text, 0, NULL);
            free(text);
            FUZZ_ASSERT(back != NULL);
            st = cc_rotate_pending_decode(back, &pend2, &perr);
            json_decref(back);
            FUZZ_ASSERT(st == CC_OK);
            same(&pend, &pend2);
            cc_state_record_clear(&pend2);
        }
        cc_state_record_clear(&pend);
    }

    (void)cc_rotate_item_revision(item);
    char cond[256];
    json_t *names = NULL, *values = NULL;
    if (cc_rotate_item_condition(item, cond, &names, &values, NULL) == CC_OK) {
        FUZZ_ASSERT(memchr(cond, '\0', sizeof cond) != NULL);
        json_decref(names);
        json_decref(values);
    }
    json_decref(item);
    return 0;
}
