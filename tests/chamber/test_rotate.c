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
#include "chamber/quorum.h"
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

/* ---- next_wrapped (rotate_next.c): the new master under the current one */

static int all_zero(const uint8_t *p, size_t n)
{
    uint8_t acc = 0;
    for (size_t i = 0; i < n; i++)
        acc |= p[i];
    return acc == 0;
}

TEST(next_wrapped_roundtrip_and_refusals)
{
    uint8_t cur[K], nxt[K], other[K], blob[CC_ROTATE_NEXT_WRAPPED_LEN], blob2[CC_ROTATE_NEXT_WRAPPED_LEN], back[K];
    RAND_bytes(cur, K);
    RAND_bytes(nxt, K);
    RAND_bytes(other, K);
    cc_error err;
    CHECK(cc_rotate_next_wrap(cur, 4, 5, "quorum", nxt, blob, &err) == CC_OK);
    CHECK(cc_rotate_next_unwrap(cur, 4, 5, "quorum", blob, sizeof blob, back, &err) == CC_OK);
    CHECK(memcmp(back, nxt, K) == 0);
    /* the new master is not in the blob in the clear, and a second wrap differs (random nonce) */
    CHECK(memmem(blob, sizeof blob, nxt, K) == NULL);
    CHECK(cc_rotate_next_wrap(cur, 4, 5, "quorum", nxt, blob2, &err) == CC_OK);
    CHECK(memcmp(blob, blob2, sizeof blob) != 0);

    /* a wrong current master */
    memset(back, 0xAA, K);
    CHECK(cc_rotate_next_unwrap(other, 4, 5, "quorum", blob, sizeof blob, back, &err) == CC_ECRYPTO);
    CHECK(strstr(err.msg, "next_wrapped") != NULL);
    CHECK(all_zero(back, K)); /* nothing of a failed open is left */
    /* the new master itself is not the key either */
    CHECK(cc_rotate_next_unwrap(nxt, 4, 5, "quorum", blob, sizeof blob, back, &err) == CC_ECRYPTO);
    /* another version step (both versions are bound: HKDF info and associated data) */
    CHECK(cc_rotate_next_unwrap(cur, 5, 6, "quorum", blob, sizeof blob, back, &err) == CC_ECRYPTO);
    CHECK(cc_rotate_next_unwrap(cur, 3, 4, "quorum", blob, sizeof blob, back, &err) == CC_ECRYPTO);
    /* not a step of one */
    CHECK(cc_rotate_next_unwrap(cur, 4, 6, "quorum", blob, sizeof blob, back, &err) == CC_EINVAL);
    CHECK(cc_rotate_next_wrap(cur, 4, 4, "kms", nxt, blob2, &err) == CC_EINVAL);
    CHECK(cc_rotate_next_wrap(cur, 0, 1, "kms", nxt, blob2, &err) == CC_EINVAL);
    /* another mode */
    CHECK(cc_rotate_next_unwrap(cur, 4, 5, "kms", blob, sizeof blob, back, &err) == CC_ECRYPTO);
    CHECK(cc_rotate_next_unwrap(cur, 4, 5, "", blob, sizeof blob, back, &err) == CC_EINVAL);
    /* every single bit flipped anywhere (nonce, ciphertext, tag) is refused */
    int refused = 0;
    for (size_t i = 0; i < sizeof blob; i++)
        for (int bit = 0; bit < 8; bit++) {
            memcpy(blob2, blob, sizeof blob);
            blob2[i] ^= (uint8_t)(1u << bit);
            refused += cc_rotate_next_unwrap(cur, 4, 5, "quorum", blob2, sizeof blob2, back, NULL) == CC_ECRYPTO;
        }
    CHECK_EQ_INT(refused, (int)(sizeof blob * 8));
    /* a truncated or extended blob */
    CHECK(cc_rotate_next_unwrap(cur, 4, 5, "quorum", blob, sizeof blob - 1, back, &err) == CC_EINVAL);
    /* and the original still opens */
    CHECK(cc_rotate_next_unwrap(cur, 4, 5, "quorum", blob, sizeof blob, back, &err) == CC_OK);
    CHECK(memcmp(back, nxt, K) == 0);
}

TEST(pending_to_quorum_with_next_wrapped)
{
    /* A KMS-only item at version 7; the pending entry of rotate mode --to quorum (version 8). */
    cc_state_record cur_rec, p, back;
    make_record(&cur_rec, 7, 2, 3, "arn:aws:kms:eu-west-1:111122223333:key/c");
    make_record(&p, 8, 2, 3, "arn:aws:kms:eu-west-1:111122223333:key/c");
    snprintf(p.mode, sizeof p.mode, "quorum");
    uint8_t kms_part[K], cur[K], nxt[K], out[K];
    RAND_bytes(kms_part, K);
    RAND_bytes(cur, K);
    RAND_bytes(nxt, K);
    const char *names[] = {"dave", "erin", "frank"};
    char toks[3 * (CC_QUORUM_TOKEN_LEN + 1)];
    cc_quorum_kdf kdf = {1, 8192, 1};
    cc_error err;
    CHECK(cc_quorum_setup(&p.quorum, names, 3, 2, &kdf, kms_part, 8, toks, &err) == CC_OK);
    uint8_t share[K];
    RAND_bytes(share, K);
    for (unsigned i = 0; i < 3; i++) /* every new operator registered (the only time the entry is written) */
        CHECK(cc_quorum_register(&p.quorum.ops[i], 8, CC_QUORUM_KIND_PASSPHRASE, &kdf,
                                 (const uint8_t *)"a long enough passphrase", 24, share, &err) == CC_OK);
    p.quorum.complete = 1;
    p.quorum.revision = 1;
    json_t *item = NULL;
    CHECK(cc_state_record_to_item(&cur_rec, &item, &err) == CC_OK);
    json_object_set_new(item, "auth_x", json_pack("{s:s}", "S", "other module"));
    CHECK(cc_rotate_item_set_pending_next(item, &p, "quorum", cur, 7, nxt, "2026-02-03T04:05:06Z", &err) == CC_OK);
    json_t *pa = json_object_get(item, "pending");
    /* the current item stays KMS-only (no q_* at the top), the new set rides in the pending entry */
    CHECK_EQ_STR(json_string_value(json_object_get(json_object_get(item, "mode"), "S")), "kms");
    CHECK(json_object_get(item, "q_operators") == NULL);
    CHECK(json_object_get(json_object_get(json_object_get(pa, "M"), "quorum"), "M") != NULL);
    CHECK(json_object_get(item, "auth_x") != NULL);
    CHECK_EQ_STR(cc_rotate_pending_to_mode(pa), "quorum");
    /* no secret in the entry: the tokens are hashed, the new master only wrapped */
    char *dump = json_dumps(item, JSON_COMPACT);
    CHECK(dump && strstr(dump, "cc-reg-") == NULL);
    free(dump);
    uint8_t blob[CC_ROTATE_NEXT_WRAPPED_LEN];
    CHECK(cc_rotate_pending_next(pa, blob) == 1);
    CHECK(cc_rotate_next_unwrap(cur, 7, 8, cc_rotate_pending_to_mode(pa), blob, sizeof blob, out, &err) == CC_OK);
    CHECK(memcmp(out, nxt, K) == 0);
    /* decode: mode quorum with the new operators and kms_check */
    CHECK_MSG(cc_rotate_pending_decode(pa, &back, &err) == CC_OK, "decode: %s", err.msg);
    CHECK_EQ_STR(back.mode, "quorum");
    CHECK(same_record(&p, &back));
    CHECK_EQ_INT((int)back.quorum.count, 3);
    CHECK_EQ_INT((int)back.quorum.threshold, 2);
    CHECK(back.quorum.complete == 1);
    CHECK_EQ_STR(back.quorum.ops[1].name, "erin");
    CHECK(memcmp(back.quorum.kms_check, p.quorum.kms_check, sizeof p.quorum.kms_check) == 0);
    cc_state_record_clear(&back);
    /* a KMS pending entry (rotate master) has next_wrapped too, with mode kms, and decodes as kms */
    json_object_del(item, "pending");
    snprintf(p.mode, sizeof p.mode, "kms");
    CHECK(cc_rotate_item_set_pending_next(item, &p, NULL, cur, 7, nxt, "2026-02-03T04:05:06Z", &err) == CC_OK);
    pa = json_object_get(item, "pending");
    CHECK_EQ_STR(cc_rotate_pending_to_mode(pa), "kms");
    CHECK(json_object_get(json_object_get(pa, "M"), "quorum") == NULL);
    CHECK(cc_rotate_pending_next(pa, blob) == 1);
    CHECK(cc_rotate_next_unwrap(cur, 7, 8, "kms", blob, sizeof blob, out, &err) == CC_OK);
    CHECK(cc_rotate_next_unwrap(cur, 7, 8, "quorum", blob, sizeof blob, out, &err) == CC_ECRYPTO);
    CHECK(cc_rotate_pending_decode(pa, &back, &err) == CC_OK);
    CHECK_EQ_STR(back.mode, "kms");
    cc_state_record_clear(&back);
    /* a tampered next_wrapped in the item is refused */
    json_object_set_new(json_object_get(pa, "M"), "next_wrapped", json_pack("{s:s}", "B", "AAAA"));
    CHECK(cc_rotate_pending_next(pa, blob) == 0);
    json_decref(item);
    cc_state_record_clear(&cur_rec);
    cc_state_record_clear(&p);
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
    RUN(next_wrapped_roundtrip_and_refusals);
    RUN(pending_to_quorum_with_next_wrapped);
    TEST_MAIN_END();
}
