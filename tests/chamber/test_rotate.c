/*
 * test_rotate.c — the pure parts of chamber/rotate.c (no network):
 *   - the re-split of one master key: every threshold-sized subset of the new
 *     shares rebuilds it (n ≤ 6), and old and new shares of the SAME key never
 *     mix into it (why the old KMS keys are useless after `rotate kms`);
 *   - the `pending` attribute round trip and its refusals;
 *   - the conditions and item transforms of the rotation writes: other
 *     modules' attributes survive, the revision only grows;
 *   - the key decision table, and a walk of the master-rotation protocol
 *     over the real item transforms with a "crash" after every step: at each
 *     step every key is sealed under a version the state item holds.
 */
#include <openssl/rand.h>
#include <string.h>

#include "chamber/master.h"
#include "chamber/rotate.h"
#include "chamber/shamir.h"
#include "chamber/state.h"
#include "test.h"

#define K CC_MASTER_KEY_LEN

static int combine_ok(const uint8_t *shares, const unsigned *idx, unsigned m, const uint8_t *master)
{
    uint8_t xs[8], ys[8 * K], back[K];
    for (unsigned j = 0; j < m; j++) {
        xs[j] = (uint8_t)(idx[j] + 1);
        memcpy(ys + j * K, shares + idx[j] * K, K);
    }
    return cc_shamir_combine(xs, ys, m, K, back, NULL) == CC_OK && memcmp(back, master, K) == 0;
}

TEST(resplit_every_subset)
{
    uint8_t master[K], shares[6 * K];
    RAND_bytes(master, K);
    cc_error err;
    for (unsigned n = 1; n <= 6; n++)
        for (unsigned m = 1; m <= n; m++) {
            CHECK(cc_rotate_split_checked(master, m, n, shares, &err) == CC_OK);
            unsigned good = 0, subsets = 0;
            for (unsigned mask = 0; mask < (1u << n); mask++) {
                if ((unsigned)__builtin_popcount(mask) != m)
                    continue;
                unsigned idx[6], k = 0;
                for (unsigned i = 0; i < n; i++)
                    if (mask & (1u << i))
                        idx[k++] = i;
                subsets++;
                good += combine_ok(shares, idx, m, master);
            }
            CHECK_MSG(good == subsets, "m=%u n=%u: %u of %u subsets rebuild the key", m, n, good, subsets);
        }
    CHECK(cc_rotate_split_checked(master, 3, 2, shares, &err) == CC_EINVAL);
    CHECK(cc_rotate_split_checked(master, 0, 2, shares, &err) == CC_EINVAL);
}

TEST(old_and_new_shares_do_not_mix)
{
    uint8_t master[K], old_shares[3 * K], new_shares[3 * K];
    RAND_bytes(master, K);
    CHECK(cc_rotate_split_checked(master, 2, 3, old_shares, NULL) == CC_OK);
    CHECK(cc_rotate_split_checked(master, 2, 3, new_shares, NULL) == CC_OK);
    /* one old share (x=1) with one new share (x=2): a 2-of-3 threshold, but not the key */
    uint8_t xs[2] = {1, 2}, ys[2 * K], back[K];
    memcpy(ys, old_shares, K);
    memcpy(ys + K, new_shares + K, K);
    CHECK(cc_shamir_combine(xs, ys, 2, K, back, NULL) == CC_OK);
    CHECK(memcmp(back, master, K) != 0);
    uint8_t check[CC_MASTER_CHECK_LEN];
    CHECK(cc_master_check(master, 1, check, NULL) == CC_OK);
    CHECK(cc_master_verify(back, 1, check, NULL) == CC_ECRYPTO);
}

static void make_record(cc_state_record *r, uint32_t version, unsigned m, unsigned n, const char *arn_prefix)
{
    memset(r, 0, sizeof *r);
    snprintf(r->mode, sizeof r->mode, "kms");
    r->version = version;
    r->threshold = m;
    RAND_bytes(r->check, sizeof r->check);
    snprintf(r->created_at, sizeof r->created_at, "2026-01-02T03:04:05Z");
    snprintf(r->updated_at, sizeof r->updated_at, "2026-01-02T03:04:05Z");
    for (unsigned i = 0; i < n; i++) {
        r->shares[i].index = (uint8_t)(i + 1);
        snprintf(r->shares[i].kms_key_arn, sizeof r->shares[i].kms_key_arn, "%s%u", arn_prefix, i);
        r->shares[i].blob_len = 40 + i;
        r->shares[i].blob = malloc(r->shares[i].blob_len);
        RAND_bytes(r->shares[i].blob, (int)r->shares[i].blob_len);
    }
    r->share_count = n;
}

static int same_record(const cc_state_record *a, const cc_state_record *b)
{
    if (a->version != b->version || a->threshold != b->threshold || a->share_count != b->share_count ||
        memcmp(a->check, b->check, sizeof a->check) != 0)
        return 0;
    for (unsigned i = 0; i < a->share_count; i++)
        if (a->shares[i].index != b->shares[i].index || strcmp(a->shares[i].kms_key_arn, b->shares[i].kms_key_arn) ||
            a->shares[i].blob_len != b->shares[i].blob_len ||
            memcmp(a->shares[i].blob, b->shares[i].blob, a->shares[i].blob_len) != 0)
            return 0;
    return 1;
}

TEST(pending_roundtrip_and_refusals)
{
    cc_state_record p, back;
    make_record(&p, 8, 2, 3, "arn:aws:kms:eu-west-1:111122223333:key/p");
    json_t *attr = NULL;
    cc_error err;
    CHECK(cc_rotate_pending_encode(&p, &attr, &err) == CC_OK);
    CHECK(json_is_object(json_object_get(attr, "M")));
    CHECK_EQ_STR(json_string_value(json_object_get(json_object_get(json_object_get(attr, "M"), "started_at"), "S")),
                 "2026-01-02T03:04:05Z");
    CHECK(cc_rotate_pending_decode(attr, &back, &err) == CC_OK);
    CHECK(same_record(&p, &back));
    cc_state_record_clear(&back);

    json_object_del(json_object_get(attr, "M"), "check");
    CHECK(cc_rotate_pending_decode(attr, &back, &err) == CC_EINVAL);
    CHECK(strstr(err.msg, "pending") && strstr(err.msg, "check"));
    json_t *s = json_pack("{s:s}", "S", "x");
    CHECK(cc_rotate_pending_decode(s, &back, &err) == CC_EINVAL);
    CHECK(strstr(err.msg, "pending") != NULL);
    json_decref(s);
    json_decref(attr);
    cc_state_record_clear(&p);
}

TEST(conditions)
{
    cc_state_record r;
    make_record(&r, 3, 2, 3, "arn:a/");
    json_t *item = NULL, *names = NULL, *values = NULL;
    CHECK(cc_state_record_to_item(&r, &item, NULL) == CC_OK);
    char cond[256];
    CHECK(cc_rotate_item_condition(item, cond, &names, &values, NULL) == CC_OK);
    CHECK_EQ_STR(cond, "attribute_not_exists(#rev) AND #ver = :ver AND #upd = :upd");
    CHECK_EQ_STR(json_string_value(json_object_get(json_object_get(values, ":ver"), "N")), "3");
    CHECK_EQ_STR(json_string_value(json_object_get(names, "#rev")), "revision");
    json_decref(names);
    json_decref(values);
    json_object_set_new(item, "revision", json_pack("{s:s}", "N", "41"));
    CHECK(cc_rotate_item_condition(item, cond, &names, &values, NULL) == CC_OK);
    CHECK_EQ_STR(cond, "#rev = :rev AND #ver = :ver AND #upd = :upd");
    CHECK_EQ_STR(json_string_value(json_object_get(json_object_get(values, ":rev"), "N")), "41");
    CHECK(cc_rotate_item_revision(item) == 41);
    json_decref(names);
    json_decref(values);
    json_decref(item);
    cc_state_record_clear(&r);
}

TEST(item_transforms_keep_other_attributes)
{
    cc_state_record cur, next;
    make_record(&cur, 5, 2, 3, "arn:old/");
    make_record(&next, 5, 3, 4, "arn:new/"); /* rotate kms: same version, new keys and threshold */
    memcpy(next.check, cur.check, sizeof cur.check);
    json_t *item = NULL;
    CHECK(cc_state_record_to_item(&cur, &item, NULL) == CC_OK);
    json_object_set_new(item, "q_other_module", json_pack("{s:s}", "S", "kept"));
    CHECK(cc_rotate_item_install(item, &next, "2026-02-03T04:05:06Z", NULL) == CC_OK);
    cc_state_record back;
    CHECK(cc_state_record_from_item(item, &back, NULL) == CC_OK);
    CHECK(same_record(&back, &next));
    CHECK_EQ_STR(back.created_at, "2026-01-02T03:04:05Z");
    CHECK_EQ_STR(back.updated_at, "2026-02-03T04:05:06Z");
    CHECK(cc_rotate_item_revision(item) == 1);
    CHECK_EQ_STR(json_string_value(json_object_get(json_object_get(item, "q_other_module"), "S")), "kept");
    cc_state_record_clear(&back);

    /* master rotation (a): pending added, current shares kept */
    cc_state_record pend;
    make_record(&pend, 6, 3, 4, "arn:new/");
    CHECK(cc_rotate_item_set_pending(item, &pend, "2026-02-03T04:05:07Z", NULL) == CC_OK);
    CHECK(cc_state_record_from_item(item, &back, NULL) == CC_OK);
    CHECK(same_record(&back, &next));
    cc_state_record_clear(&back);
    CHECK(cc_rotate_pending_decode(json_object_get(item, "pending"), &back, NULL) == CC_OK);
    CHECK(same_record(&back, &pend));
    cc_state_record_clear(&back);
    CHECK(cc_rotate_item_revision(item) == 2);
    /* (c): pending becomes current, pending gone */
    CHECK(cc_rotate_item_install(item, &pend, "2026-02-03T04:05:08Z", NULL) == CC_OK);
    CHECK(json_object_get(item, "pending") == NULL);
    CHECK(cc_state_record_from_item(item, &back, NULL) == CC_OK);
    CHECK(same_record(&back, &pend));
    CHECK(cc_rotate_item_revision(item) == 3);
    CHECK_EQ_STR(json_string_value(json_object_get(json_object_get(item, "q_other_module"), "S")), "kept");
    cc_state_record_clear(&back);
    json_decref(item);
    cc_state_record_clear(&cur);
    cc_state_record_clear(&next);
    cc_state_record_clear(&pend);
}

TEST(key_actions)
{
    CHECK(cc_rotate_key_action_for(4, 4, 5) == CC_ROTATE_KEY_RESEAL);
    CHECK(cc_rotate_key_action_for(5, 4, 5) == CC_ROTATE_KEY_DONE);
    CHECK(cc_rotate_key_action_for(3, 4, 5) == CC_ROTATE_KEY_STRANDED);
    CHECK(cc_rotate_key_action_for(6, 4, 5) == CC_ROTATE_KEY_STRANDED);
}

/* Versions the state item lets a restarted replica rebuild. */
static int held(json_t *item, uint32_t v)
{
    cc_state_record r, p;
    int ok = 0;
    if (cc_state_record_from_item(item, &r, NULL) == CC_OK) {
        ok = r.version == v;
        cc_state_record_clear(&r);
    }
    json_t *pa = json_object_get(item, "pending");
    if (!ok && pa && cc_rotate_pending_decode(pa, &p, NULL) == CC_OK) {
        ok = p.version == v;
        cc_state_record_clear(&p);
    }
    return ok;
}

/*
 * The protocol's steps applied to a model table through the real item
 * transforms and key decisions; after every step (a crash there leaves the
 * table as it is) every key must be at a held version, and a resumption
 * from that point must finish with every key at v+1.
 */
TEST(protocol_walk_crash_after_every_step)
{
    enum { NK = 5 };
    cc_state_record cur, pend;
    make_record(&cur, 1, 2, 3, "arn:k/");
    make_record(&pend, 2, 2, 3, "arn:k/");
    for (int crash = 0; crash <= NK + 2; crash++) {
        json_t *item = NULL;
        CHECK(cc_state_record_to_item(&cur, &item, NULL) == CC_OK);
        uint32_t keys[NK];
        for (int i = 0; i < NK; i++)
            keys[i] = 1;
        int step = 0, bad = 0;
        /* run until the crash point, then "restart" and resume to the end */
        for (int phase = 0; phase < 2; phase++) {
            int limit = phase == 0 ? crash : 1 << 20;
            if (!json_object_get(item, "pending") && step < limit && step == 0) { /* (a) */
                CHECK(cc_rotate_item_set_pending(item, &pend, "t", NULL) == CC_OK);
                step++;
            }
            for (int i = 0; i < NK && step < limit; i++) /* (b) */
                if (cc_rotate_key_action_for(keys[i], 1, 2) == CC_ROTATE_KEY_RESEAL) {
                    keys[i] = 2;
                    step++;
                    for (int j = 0; j < NK; j++)
                        bad += !held(item, keys[j]);
                }
            if (step < limit && json_object_get(item, "pending")) { /* (c): only with no key left at 1 */
                int left = 0;
                for (int i = 0; i < NK; i++)
                    left += keys[i] == 1;
                CHECK(left == 0);
                CHECK(cc_rotate_item_install(item, &pend, "t", NULL) == CC_OK);
                step++;
            }
            for (int j = 0; j < NK; j++)
                bad += !held(item, keys[j]);
        }
        CHECK_MSG(bad == 0, "crash after step %d: %d key states at a version the item does not hold", crash, bad);
        for (int i = 0; i < NK; i++)
            CHECK(keys[i] == 2);
        CHECK(json_object_get(item, "pending") == NULL && held(item, 2) && !held(item, 1));
        json_decref(item);
    }
    cc_state_record_clear(&cur);
    cc_state_record_clear(&pend);
}

/* rotate mode --to kms: the promotion sets mode kms and drops exactly the q_* attributes */
TEST(item_to_kms_mode)
{
    json_t *item = json_pack("{s:{s:s}, s:{s:s}, s:{s:s}, s:{s:s}, s:{s:s}, s:{s:[]}, s:{s:s}, s:{s:s}}", "pk", "S",
                             "STATE", "mode", "S", "quorum", "q_init_id", "S", "00ff", "q_threshold", "N", "2",
                             "q_kms_check", "B", "AAAA", "q_operators", "L", "version", "N", "2", "quirk", "S", "kept");
    CHECK(item != NULL);
    CHECK(cc_rotate_item_to_kms_mode(item, NULL) == CC_OK);
    CHECK(strcmp(json_string_value(json_object_get(json_object_get(item, "mode"), "S")), "kms") == 0);
    const char *key;
    json_t *v;
    int q = 0;
    json_object_foreach(item, key, v) q += strncmp(key, "q_", 2) == 0;
    CHECK_EQ_INT(q, 0);
    CHECK(json_object_get(item, "pk") && json_object_get(item, "version") && json_object_get(item, "quirk"));
    CHECK_EQ_INT(json_object_size(item), 4);
    json_decref(item);
}

int main(void)
{
    RUN(resplit_every_subset);
    RUN(old_and_new_shares_do_not_mix);
    RUN(pending_roundtrip_and_refusals);
    RUN(conditions);
    RUN(item_transforms_keep_other_attributes);
    RUN(key_actions);
    RUN(protocol_walk_crash_after_every_step);
    RUN(item_to_kms_mode);
    TEST_MAIN_END();
}
