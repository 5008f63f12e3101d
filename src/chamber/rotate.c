/*
 * rotate.c — KMS key-set and master-key rotation (rotate.h; the protocol and
 * its crash points are in docs/chamber.md "Rotation").
 *
 * Every write to the state item here is read-modify-write of the whole item
 * as DynamoDB returned it (attributes other modules own are carried over
 * untouched), conditional on the revision, version and updated_at that were
 * read.  Every write to a key item is an UpdateItem of `sealed`,
 * `master_version` and `updated_at` only, conditional on the old version.
 *
 * Locks: rot->op serialises this module's state-item writes (rotate kms,
 * the pending write and the promotion); rot->lock guards the small state
 * below.  Neither is held while calling into the chamber's locks except
 * through the chamber's own functions, which never call back here.
 */
#include "chamber/rotate.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aws/base64.h"
#include "aws/dynamodb.h"
#include "chamber/master.h"
#include "chamber/shamir.h"
#include "keys/dynamodb.h"
#include "keys/sealed_key.h"
#include "util/hex.h"
#include "util/log.h"
#include "util/secret.h"

#define FOLLOW_RETRY_SECONDS 30   /* a replica that cannot rebuild a pending / new master retries this often */
#define RESUME_RETRY_SECONDS 10   /* a failed driver on this replica resumes after this long */
#define RELEASE_LINGER_SECONDS 60 /* the old master stays held this long after the promotion was seen */
#define MAX_PASSES 50             /* re-seal passes over the key table before giving up (keys keep appearing at v) */
#define PROMOTE_ATTEMPTS 5

struct cc_rotation {
    cc_chamber *ch;
    char key_table[256];
    unsigned test_delay_ms;

    pthread_mutex_t op;   /* serialises state-item writes of this module */
    pthread_mutex_t lock; /* everything below */
    pthread_cond_t cv;    /* wakes the driver's sleeps on stop */

    /* from the last consistent read of the state item */
    int have_record;
    cc_state_record record;
    int have_pending;
    cc_state_record pending;
    uint64_t revision;
    int have_next;                                  /* the pending entry's next_wrapped (rotate_next.c) */
    uint8_t next_wrapped[CC_ROTATE_NEXT_WRAPPED_LEN];
    char next_mode[16];                             /* the pending entry's to_mode ("kms" when none) */

    /* the driver */
    pthread_t thread;
    int joinable, running, stopping;
    int resume_wanted;
    time_t resume_at;
    char phase[24];
    uint32_t from, to;
    size_t keys_total, keys_done, keys_stranded;
    char last_error[CC_ERROR_MSG_MAX];

    /* following */
    time_t follow_retry;
    uint32_t release_version;
    time_t release_at;

    /* a pending master rebuilt before an unseal installs the current one (cc_secret memory) */
    uint8_t *prebuilt;
    uint32_t prebuilt_version;

    cc_quorum_rotation *qrot; /* rotate quorum (rotate_quorum.c) */
    char want_mode[16];       /* rotate mode: the mode a fresh master rotation moves to ("" = the same) */
};

/* ================================================================ pure parts */

cc_status cc_rotate_split_checked(const uint8_t master[32], unsigned m, unsigned n, uint8_t *shares, cc_error *err)
{
    cc_status st = cc_shamir_split(master, CC_MASTER_KEY_LEN, m, n, shares, err);
    if (st != CC_OK)
        return st;
    uint8_t xs[CC_STATE_MAX_SHARES];
    uint8_t *ys = cc_secret_alloc((size_t)m * CC_MASTER_KEY_LEN), *back = cc_secret_alloc(CC_MASTER_KEY_LEN);
    if (!ys || !back || n > CC_STATE_MAX_SHARES) {
        st = cc_error_set(err, !ys || !back ? CC_ENOMEM : CC_EINVAL, "shamir: cannot check the split");
        goto out;
    }
    for (int pass = 0; pass < 2 && st == CC_OK; pass++) {
        unsigned first = pass == 0 ? 0 : n - m; /* the first m shares, then the last m */
        for (unsigned j = 0; j < m; j++) {
            xs[j] = (uint8_t)(first + j + 1);
            memcpy(ys + (size_t)j * CC_MASTER_KEY_LEN, shares + (size_t)(first + j) * CC_MASTER_KEY_LEN,
                   CC_MASTER_KEY_LEN);
        }
        if ((st = cc_shamir_combine(xs, ys, m, CC_MASTER_KEY_LEN, back, err)) == CC_OK &&
            !cc_ct_equal(back, master, CC_MASTER_KEY_LEN))
            st = cc_error_set(err, CC_EINTERNAL, "shamir: shares %u..%u do not rebuild the key", first + 1, first + m);
    }
out:
    cc_secret_free(ys, (size_t)m * CC_MASTER_KEY_LEN);
    cc_secret_free(back, CC_MASTER_KEY_LEN);
    return st;
}

cc_status cc_rotate_pending_encode(const cc_state_record *p, json_t **attr, cc_error *err)
{
    *attr = NULL;
    json_t *item = NULL;
    cc_status st = cc_state_record_to_item(p, &item, err);
    if (st != CC_OK)
        return st;
    json_t *m = json_object();
    const char *names[] = {"version", "threshold", "check", "shares"};
    for (size_t i = 0; m && i < sizeof names / sizeof *names; i++)
        json_object_set(m, names[i], json_object_get(item, names[i]));
    if (m)
        json_object_set_new(m, "started_at", json_pack("{s:s}", "S", p->created_at));
    if (m && strcmp(p->mode, "quorum") == 0) { /* rotate mode --to quorum: the new q_* set rides along */
        json_t *q = json_object();
        const char *key;
        json_t *v;
        json_object_foreach(item, key, v)
            if (q && strncmp(key, "q_", 2) == 0)
                json_object_set(q, key, v);
        if (!q || json_object_set_new(m, "quorum", json_pack("{s:o}", "M", q)) != 0) {
            json_decref(m);
            m = NULL;
        }
    }
    json_decref(item);
    *attr = m ? json_pack("{s:o}", "M", m) : NULL;
    return *attr ? CC_OK : cc_error_set(err, CC_ENOMEM, "pending: out of memory");
}

cc_status cc_rotate_pending_decode(json_t *attr, cc_state_record *p, cc_error *err)
{
    memset(p, 0, sizeof *p);
    json_t *m = json_object_get(attr, "M");
    if (!json_is_object(m))
        return cc_error_set(err, CC_EINVAL, "signer state item: attribute pending is not a map");
    const char *started = json_string_value(json_object_get(json_object_get(m, "started_at"), "S"));
    json_t *q = json_object_get(json_object_get(m, "quorum"), "M"); /* rotate mode --to quorum */
    json_t *item = json_pack("{s:{s:s}, s:{s:s}, s:{s:s}, s:{s:s}}", "pk", "S", CC_STATE_PK, "mode", "S",
                             q ? "quorum" : "kms", "created_at", "S", started ? started : "", "updated_at", "S",
                             started ? started : "");
    if (item && q) {
        const char *key;
        json_t *v;
        json_object_foreach(q, key, v)
            if (strncmp(key, "q_", 2) == 0)
                json_object_set(item, key, v);
    }
    if (!item)
        return cc_error_set(err, CC_ENOMEM, "pending: out of memory");
    const char *names[] = {"version", "threshold", "check", "shares"};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++)
        if (json_object_get(m, names[i]))
            json_object_set(item, names[i], json_object_get(m, names[i]));
    cc_status st = cc_state_record_from_item(item, p, err);
    json_decref(item);
    if (st != CC_OK)
        return cc_error_prefix(err, "pending");
    return CC_OK;
}

uint64_t cc_rotate_item_revision(json_t *item)
{
    const char *s = json_string_value(json_object_get(json_object_get(item, "revision"), "N"));
    if (!s || !*s)
        return 0;
    char *end = NULL;
    unsigned long long v = strtoull(s, &end, 10);
    return *end ? 0 : (uint64_t)v;
}

cc_status cc_rotate_item_condition(json_t *item, char cond[256], json_t **names, json_t **values, cc_error *err)
{
    *names = json_pack("{s:s, s:s, s:s}", "#rev", "revision", "#ver", "version", "#upd", "updated_at");
    *values = json_object();
    if (!*names || !*values) {
        json_decref(*names);
        json_decref(*values);
        *names = *values = NULL;
        return cc_error_set(err, CC_ENOMEM, "out of memory");
    }
    size_t len = 0;
    cond[0] = '\0';
    json_t *rev = json_object_get(item, "revision"), *ver = json_object_get(item, "version"),
           *upd = json_object_get(item, "updated_at");
    const char *parts[3];
    if (rev) {
        json_object_set(*values, ":rev", rev);
        parts[0] = "#rev = :rev";
    } else {
        parts[0] = "attribute_not_exists(#rev)";
    }
    if (ver) {
        json_object_set(*values, ":ver", ver);
        parts[1] = "#ver = :ver";
    } else {
        parts[1] = "attribute_not_exists(#ver)";
    }
    if (upd) {
        json_object_set(*values, ":upd", upd);
        parts[2] = "#upd = :upd";
    } else {
        parts[2] = "attribute_not_exists(#upd)";
    }
    for (int i = 0; i < 3; i++)
        len += (size_t)snprintf(cond + len, 256 - len, "%s%s", i ? " AND " : "", parts[i]);
    if (json_object_size(*values) == 0) {
        json_decref(*values);
        *values = NULL;
    }
    return CC_OK;
}

cc_status cc_rotate_item_bump(json_t *item, const char *now, cc_error *err)
{
    char rev[24];
    snprintf(rev, sizeof rev, "%llu", (unsigned long long)(cc_rotate_item_revision(item) + 1));
    if (json_object_set_new(item, "revision", json_pack("{s:s}", "N", rev)) != 0 ||
        json_object_set_new(item, "updated_at", json_pack("{s:s}", "S", now)) != 0)
        return cc_error_set(err, CC_ENOMEM, "out of memory");
    return CC_OK;
}

cc_status cc_rotate_item_install(json_t *item, const cc_state_record *r, const char *now, cc_error *err)
{
    json_t *enc = NULL;
    cc_status st = cc_state_record_to_item(r, &enc, err);
    if (st != CC_OK)
        return st;
    const char *names[] = {"threshold", "version", "check", "shares"};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++)
        json_object_set(item, names[i], json_object_get(enc, names[i]));
    json_decref(enc);
    json_object_del(item, "pending");
    return cc_rotate_item_bump(item, now, err);
}

cc_status cc_rotate_item_set_pending(json_t *item, const cc_state_record *p, const char *now, cc_error *err)
{
    json_t *attr = NULL;
    cc_status st = cc_rotate_pending_encode(p, &attr, err);
    if (st != CC_OK)
        return st;
    json_object_set_new(item, "pending", attr);
    return cc_rotate_item_bump(item, now, err);
}

int cc_rotate_pending_next(json_t *attr, uint8_t out[CC_ROTATE_NEXT_WRAPPED_LEN])
{
    const char *b64 = json_string_value(json_object_get(json_object_get(json_object_get(attr, "M"), "next_wrapped"), "B"));
    uint8_t *raw = NULL;
    size_t len = 0, cap = 0;
    if (!b64 || cc_aws_b64_decode(b64, strlen(b64), 0, "pending.next_wrapped", &raw, &len, &cap, NULL) != CC_OK)
        return 0;
    int ok = len == CC_ROTATE_NEXT_WRAPPED_LEN;
    if (ok)
        memcpy(out, raw, len);
    free(raw);
    return ok;
}

const char *cc_rotate_pending_to_mode(json_t *attr)
{
    const char *m = json_string_value(json_object_get(json_object_get(json_object_get(attr, "M"), "to_mode"), "S"));
    return m && strcmp(m, "quorum") == 0 ? "quorum" : "kms";
}

cc_status cc_rotate_item_set_pending_next(json_t *item, const cc_state_record *p, const char *to_mode,
                                          const uint8_t current[32], uint32_t from, const uint8_t next[32],
                                          const char *now, cc_error *err)
{
    uint8_t blob[CC_ROTATE_NEXT_WRAPPED_LEN];
    char *b64 = NULL;
    size_t cap = 0;
    cc_status st = cc_rotate_next_wrap(current, from, p->version, to_mode ? to_mode : "kms", next, blob, err);
    if (st == CC_OK)
        st = cc_aws_b64_encode(blob, sizeof blob, 0, &b64, &cap, err);
    if (st == CC_OK)
        st = cc_rotate_item_set_pending(item, p, now, err);
    json_t *m = json_object_get(json_object_get(item, "pending"), "M");
    if (st == CC_OK && (!m || json_object_set_new(m, "next_wrapped", json_pack("{s:s}", "B", b64)) != 0 ||
                        (to_mode && json_object_set_new(m, "to_mode", json_pack("{s:s}", "S", to_mode)) != 0)))
        st = cc_error_set(err, CC_ENOMEM, "out of memory");
    free(b64);
    return st;
}

cc_rotate_key_action cc_rotate_key_action_for(uint32_t key_version, uint32_t from, uint32_t to)
{
    if (key_version == to)
        return CC_ROTATE_KEY_DONE;
    if (key_version == from)
        return CC_ROTATE_KEY_RESEAL;
    return CC_ROTATE_KEY_STRANDED;
}

/* ================================================================ helpers */

static cc_status rec_copy(cc_state_record *dst, const cc_state_record *src, cc_error *err)
{
    *dst = *src;
    for (unsigned i = 0; i < CC_STATE_MAX_SHARES; i++)
        dst->shares[i].blob = NULL;
    for (unsigned i = 0; i < src->share_count; i++) {
        dst->shares[i].blob = malloc(src->shares[i].blob_len ? src->shares[i].blob_len : 1);
        if (!dst->shares[i].blob) {
            cc_state_record_clear(dst);
            return cc_error_set(err, CC_ENOMEM, "out of memory");
        }
        memcpy(dst->shares[i].blob, src->shares[i].blob, src->shares[i].blob_len);
    }
    return CC_OK;
}

static void u32s(char out[16], uint32_t v) { snprintf(out, 16, "%u", (unsigned)v); }

static cc_status rebuild_pending(cc_rotation *rot, const cc_state_record *p, uint8_t out[32], cc_error *err);

/* Sleeps ms unless stopped; 1 when the rotation must stop (close, or a seal since gen). */
static int rot_sleep(cc_rotation *rot, unsigned ms, unsigned long gen)
{
    pthread_mutex_lock(&rot->lock);
    if (ms) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += ms / 1000;
        until.tv_nsec += (long)(ms % 1000) * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        while (!rot->stopping && pthread_cond_timedwait(&rot->cv, &rot->lock, &until) == 0)
            ;
    }
    int stop = rot->stopping;
    pthread_mutex_unlock(&rot->lock);
    return stop || cc_chamber_seal_gen(rot->ch) != gen || !cc_chamber_can_sign(rot->ch);
}

static void set_phase(cc_rotation *rot, const char *phase)
{
    pthread_mutex_lock(&rot->lock);
    snprintf(rot->phase, sizeof rot->phase, "%s", phase);
    pthread_mutex_unlock(&rot->lock);
}

/*
 * Consistent GetItem of the raw state item, parsed into rec / pending.  No
 * item: CC_ENOTFOUND with *absent = 1 (a missing table is CC_ENOTFOUND too, *absent = 0).
 */
static cc_status read_item_ex(cc_rotation *rot, json_t **item, cc_state_record *rec, cc_state_record *pending,
                              int *have_pending, int *absent, cc_error *err)
{
    *absent = 0;
    *item = NULL;
    *have_pending = 0;
    memset(rec, 0, sizeof *rec);
    memset(pending, 0, sizeof *pending);
    json_t *key = json_pack("{s:{s:s}}", "pk", "S", CC_STATE_PK);
    if (!key)
        return cc_error_set(err, CC_ENOMEM, "out of memory");
    const char *table = cc_chamber_table(rot->ch);
    cc_status st = cc_dynamodb_get_item(cc_chamber_dynamodb(rot->ch), table, key, 1, item, err);
    json_decref(key);
    if (st != CC_OK)
        return st;
    if (!*item) {
        *absent = 1;
        return cc_error_set(err, CC_ENOTFOUND, "signer state table %s: no state item (the chamber is not initialised)",
                            table);
    }
    if ((st = cc_state_record_from_item(*item, rec, err)) != CC_OK)
        goto bad;
    json_t *p = json_object_get(*item, "pending");
    if (p) {
        if ((st = cc_rotate_pending_decode(p, pending, err)) != CC_OK) {
            cc_state_record_clear(rec);
            goto bad;
        }
        *have_pending = 1;
    }
    return CC_OK;
bad:
    json_decref(*item);
    *item = NULL;
    return cc_error_prefix(err, "signer state table %s", table);
}

static cc_status read_item(cc_rotation *rot, json_t **item, cc_state_record *rec, cc_state_record *pending,
                           int *have_pending, cc_error *err)
{
    int absent = 0;
    return read_item_ex(rot, item, rec, pending, have_pending, &absent, err);
}

/* Conditional PutItem of item (already modified) under the condition of the item as read (cond/names/values). */
static cc_status put_item(cc_rotation *rot, json_t *item, const char *cond, json_t *names, json_t *values,
                          cc_error *err)
{
    cc_status st = cc_dynamodb_put_item(cc_chamber_dynamodb(rot->ch), cc_chamber_table(rot->ch), item, cond, names,
                                        values, NULL, err);
    if (st == CC_ECONFLICT)
        return cc_error_set(err, CC_ECONFLICT,
                            "signer state table %s: the state item changed meanwhile (another rotation or replica); "
                            "nothing was written", cc_chamber_table(rot->ch));
    return st;
}

/* Re-reads the state item into rot and the chamber (after this module wrote it). */
static void refresh_record(cc_rotation *rot)
{
    cc_state_record rec;
    int found = 0;
    cc_error e;
    if (cc_rotate_state_load(rot, &rec, &found, &e) == CC_OK && found) {
        cc_chamber_replace_record(rot->ch, &rec);
        cc_state_record_clear(&rec);
    }
}

/*
 * Fills r->shares with master split m-of-n over arns, each wrapped with KMS
 * Encrypt under the EncryptionContext (index, version), then checks through
 * the chamber's unwrapper that the wrapped shares rebuild master.
 */
static cc_status wrap_shares(cc_rotation *rot, const uint8_t *master, const char *const *arns, size_t n, unsigned m,
                             cc_state_record *r, cc_error *err)
{
    size_t cap = n * CC_MASTER_KEY_LEN;
    uint8_t *shares = cc_secret_alloc(cap), *back = cc_secret_alloc(CC_MASTER_KEY_LEN);
    cc_status st = CC_OK;
    if (!shares || !back) {
        st = cc_error_set(err, CC_ENOMEM, "out of memory");
        goto out;
    }
    r->threshold = m;
    r->share_count = 0;
    if ((st = cc_rotate_split_checked(master, m, (unsigned)n, shares, err)) != CC_OK)
        goto out;
    for (size_t i = 0; i < n; i++) {
        cc_state_share *s = &r->shares[i];
        s->index = (uint8_t)(i + 1);
        snprintf(s->kms_key_arn, sizeof s->kms_key_arn, "%s", arns[i]);
        json_t *ctx = cc_state_share_context(s->index, r->version);
        cc_kms_bytes blob = {0};
        st = ctx ? cc_kms_encrypt(cc_chamber_kms(rot->ch), arns[i], shares + i * CC_MASTER_KEY_LEN, CC_MASTER_KEY_LEN,
                                  ctx, &blob, err)
                 : cc_error_set(err, CC_ENOMEM, "out of memory");
        json_decref(ctx);
        if (st != CC_OK) {
            cc_error_prefix(err, "kms_key_arns[%zu] (%.200s): Encrypt", i, arns[i]);
            goto out;
        }
        s->blob = blob.data;
        s->blob_len = blob.len;
        r->share_count = (unsigned)i + 1;
    }
    /* The new shares must rebuild the key through the same path an unseal takes (kms_part in mode quorum). */
    if ((st = strcmp(r->mode, "quorum") == 0 ? cc_chamber_rebuild_kms_part(rot->ch, r, back, err)
                                              : cc_chamber_rebuild_master(rot->ch, r, back, err)) != CC_OK) {
        cc_error_prefix(err, "the new shares do not unseal (nothing was written)");
        goto out;
    }
    if (!cc_ct_equal(back, master, CC_MASTER_KEY_LEN))
        st = cc_error_set(err, CC_EINTERNAL, "the new shares rebuild another key (nothing was written)");
out:
    cc_secret_free(shares, cap);
    cc_secret_free(back, CC_MASTER_KEY_LEN);
    if (st != CC_OK)
        cc_state_record_clear(r);
    return st;
}

cc_status cc_rotate_wrap_shares(cc_rotation *rot, const uint8_t *secret, const char *const *arns, size_t n,
                                unsigned m, cc_state_record *r, cc_error *err)
{
    return wrap_shares(rot, secret, arns, n, m, r, err);
}

void cc_rotate_refresh(cc_rotation *rot) { refresh_record(rot); }

static cc_status copy_key(void *arg, const uint8_t *ka, const uint8_t *kb)
{
    (void)kb;
    memcpy(arg, ka, CC_MASTER_KEY_LEN);
    return CC_OK;
}


/* ================================================================ rotate kms */

cc_status cc_chamber_rotate_kms(cc_chamber *ch, const char *const *kms_key_arns, size_t n, unsigned threshold,
                                cc_error *err)
{
    cc_rotation *rot = cc_chamber_rotation(ch);
    cc_status st = cc_state_check_arns(kms_key_arns, n, threshold, err);
    if (st != CC_OK)
        return st;
    if (!rot || cc_chamber_state(ch) != CC_CHAMBER_UNSEALED)
        return cc_error_set(err, cc_chamber_can_sign(ch) ? CC_ECONFLICT : CC_EUNAVAILABLE,
                            "rotate kms: the chamber must be unsealed with no rotation running (state %s)",
                            cc_chamber_state_name(cc_chamber_state(ch)));
    if (pthread_mutex_trylock(&rot->op) != 0)
        return cc_error_set(err, CC_ECONFLICT, "rotate kms: another rotation is writing the state item");
    pthread_mutex_lock(&rot->lock);
    int busy = rot->running;
    pthread_mutex_unlock(&rot->lock);
    if (busy) {
        pthread_mutex_unlock(&rot->op);
        return cc_error_set(err, CC_ECONFLICT, "rotate kms: a master-key rotation is running on this replica");
    }
    unsigned long gen = cc_chamber_seal_gen(ch);
    cc_chamber_set_rotating(ch, 1);
    json_t *item = NULL, *names = NULL, *values = NULL;
    cc_state_record rec, pending, nr;
    memset(&nr, 0, sizeof nr);
    int have_pending = 0;
    uint8_t *master = cc_secret_alloc(CC_MASTER_KEY_LEN);
    char cond[256], now[32];
    if (!master) {
        st = cc_error_set(err, CC_ENOMEM, "out of memory");
        goto out_nothing;
    }
    if ((st = read_item(rot, &item, &rec, &pending, &have_pending, err)) != CC_OK)
        goto out_nothing;
    if (have_pending) {
        st = cc_error_set(err, CC_ECONFLICT,
                          "rotate kms: a master-key rotation to version %u is pending; let it finish (rotate master "
                          "resumes it) first", (unsigned)pending.version);
        goto out;
    }
    if (strcmp(rec.mode, "kms") != 0) {
        st = cc_error_set(err, CC_ECONFLICT, "rotate kms: the chamber is in mode \"%s\"; only kms is supported here",
                          rec.mode);
        goto out;
    }
    if ((st = cc_chamber_with_master_pair(ch, rec.version, rec.version, copy_key, master, err)) != CC_OK ||
        (st = cc_master_verify(master, rec.version, rec.check, err)) != CC_OK) {
        cc_error_prefix(err, "rotate kms: the held master key is not the table's version %u", (unsigned)rec.version);
        goto out;
    }
    snprintf(nr.mode, sizeof nr.mode, "%s", rec.mode);
    nr.version = rec.version;
    memcpy(nr.check, rec.check, sizeof nr.check);
    memcpy(nr.created_at, rec.created_at, sizeof nr.created_at);
    if ((st = wrap_shares(rot, master, kms_key_arns, n, threshold, &nr, err)) != CC_OK)
        goto out;
    if (cc_chamber_seal_gen(ch) != gen) {
        st = cc_error_set(err, CC_EUNAVAILABLE, "rotate kms: sealed meanwhile; nothing was written");
        goto out;
    }
    cc_state_now(now);
    if ((st = cc_rotate_item_condition(item, cond, &names, &values, err)) != CC_OK ||
        (st = cc_rotate_item_install(item, &nr, now, err)) != CC_OK ||
        (st = put_item(rot, item, cond, names, values, err)) != CC_OK)
        goto out;
    refresh_record(rot);
    {
        char v[16], t[16], k[16];
        u32s(v, nr.version);
        u32s(t, threshold);
        snprintf(k, sizeof k, "%zu", n);
        cc_log(CC_LOG_WARN, "chamber: KMS key set rotated; the old KMS keys no longer unseal", "version", v,
               "threshold", t, "kms_keys", k, NULL);
    }
out:
    cc_state_record_clear(&rec);
    cc_state_record_clear(&pending);
out_nothing:
    cc_state_record_clear(&nr);
    json_decref(item);
    json_decref(names);
    json_decref(values);
    cc_secret_free(master, CC_MASTER_KEY_LEN);
    cc_chamber_set_rotating(ch, 0);
    pthread_mutex_unlock(&rot->op);
    if (st != CC_OK)
        cc_log(CC_LOG_WARN, "chamber: KMS key rotation refused; the old configuration stays", "reason",
               err ? err->msg : "", NULL);
    return st;
}

/* ================================================================ master rotation: the driver */

/* (a) Writes the pending entry: a fresh master of version rec->version + 1 over rec's KMS keys. */
static cc_status write_pending(cc_rotation *rot, json_t *item, const cc_state_record *rec, unsigned long gen,
                               cc_state_record *pending, cc_error *err)
{
    memset(pending, 0, sizeof *pending);
    uint8_t *fresh = cc_secret_alloc(CC_MASTER_KEY_LEN), *cur = cc_secret_alloc(CC_MASTER_KEY_LEN);
    json_t *names = NULL, *values = NULL;
    char cond[256], now[32];
    cc_status st;
    if (!fresh || !cur) {
        cc_secret_free(fresh, CC_MASTER_KEY_LEN);
        cc_secret_free(cur, CC_MASTER_KEY_LEN);
        return cc_error_set(err, CC_ENOMEM, "out of memory");
    }
    if (rec->version == UINT32_MAX) {
        st = cc_error_set(err, CC_EINVAL, "master-key version %u is the last one", (unsigned)rec->version);
        goto out;
    }
    snprintf(pending->mode, sizeof pending->mode, "kms");
    pending->version = rec->version + 1;
    cc_state_now(pending->created_at);
    memcpy(pending->updated_at, pending->created_at, sizeof pending->updated_at);
    const char *arns[CC_STATE_MAX_SHARES];
    for (unsigned i = 0; i < rec->share_count; i++)
        arns[i] = rec->shares[i].kms_key_arn;
    if ((st = cc_master_generate(fresh, err)) != CC_OK ||
        (st = cc_master_check(fresh, pending->version, pending->check, err)) != CC_OK ||
        (st = wrap_shares(rot, fresh, arns, rec->share_count, rec->threshold, pending, err)) != CC_OK)
        goto out;
    cc_state_now(now);
    /* next_wrapped: the fresh master under the current one, so every replica holding v follows without KMS */
    if ((st = cc_chamber_with_master_pair(rot->ch, rec->version, rec->version, copy_key, cur, err)) != CC_OK ||
        (st = cc_master_verify(cur, rec->version, rec->check, err)) != CC_OK) {
        cc_error_prefix(err, "the held master key is not the table's version %u", (unsigned)rec->version);
        goto out;
    }
    /* rotate mode --to kms (a quorum chamber): to_mode "kms", the promotion also switches the mode */
    if ((st = cc_rotate_item_condition(item, cond, &names, &values, err)) != CC_OK ||
        (st = cc_rotate_item_set_pending_next(item, pending, strcmp(rec->mode, "kms") != 0 ? "kms" : NULL, cur,
                                              rec->version, fresh, now, err)) != CC_OK)
        goto out;
    st = put_item(rot, item, cond, names, values, err);
    if (st == CC_ECONFLICT) {
        /* Our own write may have landed before a retry: the stored check then is ours. */
        json_t *again = NULL;
        cc_state_record r2, p2;
        int hp = 0;
        cc_error e2;
        if (read_item(rot, &again, &r2, &p2, &hp, &e2) == CC_OK) {
            if (hp && p2.version == pending->version && cc_ct_equal(p2.check, pending->check, CC_MASTER_CHECK_LEN))
                st = CC_OK;
            cc_state_record_clear(&r2);
            cc_state_record_clear(&p2);
            json_decref(again);
        }
    }
    if (st != CC_OK)
        goto out;
    if (!cc_chamber_hold_master(rot->ch, fresh, pending->version, gen)) {
        st = cc_error_set(err, CC_EUNAVAILABLE, "sealed right after the pending entry was written; resumes at unseal");
        goto out;
    }
    {
        char f[16], t[16];
        u32s(f, rec->version);
        u32s(t, pending->version);
        cc_log(CC_LOG_WARN, "chamber: master-key rotation started (pending entry written)", "from_version", f,
               "to_version", t, NULL);
    }
out:
    if (st != CC_OK)
        cc_state_record_clear(pending);
    json_decref(names);
    json_decref(values);
    cc_secret_free(fresh, CC_MASTER_KEY_LEN);
    cc_secret_free(cur, CC_MASTER_KEY_LEN);
    return st;
}

typedef struct reseal_arg {
    const cc_key_record *rec;
    uint32_t from, to;
    uint8_t blob[CC_SEALED_KEY_LEN];
    size_t blob_len;
    cc_error err;
} reseal_arg;

/* Under the key read lock: open with the old master, seal with the new one; the secret lives only here. */
static cc_status reseal_fn(void *arg, const uint8_t *kfrom, const uint8_t *kto)
{
    reseal_arg *a = arg;
    uint8_t *sk = cc_secret_alloc(32);
    if (!sk)
        return cc_error_set(&a->err, CC_ENOMEM, "out of secret memory");
    cc_status st = cc_sealed_key_open(kfrom, a->from, a->rec->pubkey, a->rec->sealed, a->rec->sealed_len, sk, &a->err);
    if (st == CC_OK)
        st = cc_sealed_key_seal(kto, a->to, a->rec->pubkey, sk, a->blob, &a->blob_len, &a->err);
    cc_secret_free(sk, 32);
    return st;
}

/* (b) for one key: consistent read, re-seal, conditional update.  *did = 1 when this call moved it. */
static cc_status reseal_one(cc_rotation *rot, const uint8_t pubkey[48], uint32_t from, uint32_t to, int *did,
                            cc_error *err)
{
    *did = 0;
    const cc_dynamodb *ddb = cc_chamber_dynamodb(rot->ch);
    cc_key_record rec;
    int found = 0;
    cc_status st = cc_key_table_get(ddb, rot->key_table, pubkey, &rec, &found, err);
    if (st != CC_OK || !found)
        return st; /* deleted meanwhile: nothing to do */
    char hex[2 + 96 + 1];
    cc_hex_encode0x(pubkey, 48, hex);
    if (cc_rotate_key_action_for(rec.master_version, from, to) != CC_ROTATE_KEY_RESEAL) {
        cc_key_record_clear(&rec);
        return CC_OK;
    }
    reseal_arg a = {.rec = &rec, .from = from, .to = to};
    st = cc_chamber_with_master_pair(rot->ch, from, to, reseal_fn, &a, err);
    if (st == CC_OK && a.err.code != CC_OK)
        st = a.err.code;
    if (st != CC_OK) {
        if (a.err.msg[0] && err)
            *err = a.err;
        cc_key_record_clear(&rec);
        return cc_error_prefix(err, "key %s", hex);
    }
    char *b64 = NULL, now[32], vto[16], vfrom[16];
    size_t cap = 0;
    cc_state_now(now);
    u32s(vto, to);
    u32s(vfrom, from);
    st = cc_aws_b64_encode(a.blob, a.blob_len, 0, &b64, &cap, err);
    json_t *key = st == CC_OK ? json_pack("{s:{s:s}}", "pk", "S", hex) : NULL;
    json_t *names = json_pack("{s:s, s:s, s:s, s:s}", "#pk", "pk", "#s", "sealed", "#mv", "master_version", "#u",
                              "updated_at");
    json_t *values = b64 ? json_pack("{s:{s:s}, s:{s:s}, s:{s:s}, s:{s:s}}", ":b", "B", b64, ":to", "N", vto, ":from",
                                     "N", vfrom, ":u", "S", now)
                         : NULL;
    free(b64);
    if (st == CC_OK && (!key || !names || !values))
        st = cc_error_set(err, CC_ENOMEM, "out of memory");
    if (st == CC_OK) {
        st = cc_dynamodb_update_item(ddb, rot->key_table, key, "SET #s = :b, #mv = :to, #u = :u",
                                     "attribute_exists(#pk) AND #mv = :from", names, values, NULL, NULL, err);
        if (st == CC_OK)
            *did = 1;
        else if (st == CC_ECONFLICT)
            st = CC_OK; /* re-sealed by another driver, or deleted: the next pass sees it */
        else
            cc_error_prefix(err, "key table %s, key %s", rot->key_table, hex);
    }
    json_decref(key);
    json_decref(names);
    json_decref(values);
    cc_secret_wipe(&a, sizeof a);
    cc_key_record_clear(&rec);
    return st;
}

/* (b) every key: passes over the table until none is left at `from`. */
static cc_status reseal_all(cc_rotation *rot, uint32_t from, uint32_t to, unsigned long gen, cc_error *err)
{
    if (!rot->key_table[0])
        return CC_OK;
    const cc_dynamodb *ddb = cc_chamber_dynamodb(rot->ch);
    for (int pass = 0; pass < MAX_PASSES; pass++) {
        cc_key_record *recs = NULL;
        size_t n = 0;
        cc_status st = cc_key_table_read_all(ddb, rot->key_table, -1, 16, &recs, &n, err);
        if (st != CC_OK)
            return cc_error_prefix(err, "key table %s", rot->key_table);
        size_t todo = 0, done = 0, stranded = 0;
        for (size_t i = 0; i < n; i++) {
            cc_rotate_key_action act = cc_rotate_key_action_for(recs[i].master_version, from, to);
            todo += act == CC_ROTATE_KEY_RESEAL;
            done += act == CC_ROTATE_KEY_DONE;
            if (act == CC_ROTATE_KEY_STRANDED) {
                stranded++;
                char hex[2 + 96 + 1], v[16];
                cc_hex_encode0x(recs[i].pubkey, 48, hex);
                u32s(v, recs[i].master_version);
                if (pass == 0)
                    cc_log(CC_LOG_ERROR, "chamber: a key is sealed under a master-key version this rotation does "
                           "not hold; left as it is", "pubkey", hex, "master_version", v, NULL);
            }
        }
        pthread_mutex_lock(&rot->lock);
        rot->keys_total = n;
        rot->keys_done = done;
        rot->keys_stranded = stranded;
        pthread_mutex_unlock(&rot->lock);
        size_t moved = 0;
        for (size_t i = 0; i < n && st == CC_OK && todo; i++) {
            if (cc_rotate_key_action_for(recs[i].master_version, from, to) != CC_ROTATE_KEY_RESEAL)
                continue;
            if (rot_sleep(rot, rot->test_delay_ms, gen)) {
                st = cc_error_set(err, CC_EUNAVAILABLE, "stopped (sealed or shutting down); resumes at the next unseal");
                break;
            }
            int did = 0;
            if ((st = reseal_one(rot, recs[i].pubkey, from, to, &did, err)) == CC_OK && did) {
                moved++;
                pthread_mutex_lock(&rot->lock);
                rot->keys_done++;
                pthread_mutex_unlock(&rot->lock);
            }
        }
        for (size_t i = 0; i < n; i++)
            cc_key_record_clear(&recs[i]);
        free(recs);
        if (st != CC_OK)
            return st;
        if (todo == 0)
            return CC_OK;
        /* The index is eventually consistent: what it still shows at `from` may already be done. */
        if (moved == 0 && rot_sleep(rot, 1000, gen))
            return cc_error_set(err, CC_EUNAVAILABLE, "stopped (sealed or shutting down); resumes at the next unseal");
    }
    return cc_error_set(err, CC_ECONFLICT, "key table %s: keys are still at master-key version %u after %d passes",
                        rot->key_table, (unsigned)from, MAX_PASSES);
}

/* (c) pending → current, in one conditional write. */
static cc_status promote(cc_rotation *rot, uint32_t from, uint32_t to, cc_error *err)
{
    cc_status st = CC_ECONFLICT;
    for (int attempt = 0; attempt < PROMOTE_ATTEMPTS && st == CC_ECONFLICT; attempt++) {
        json_t *item = NULL, *names = NULL, *values = NULL;
        cc_state_record rec, pending;
        int hp = 0;
        char cond[256], now[32];
        if ((st = read_item(rot, &item, &rec, &pending, &hp, err)) != CC_OK)
            return st;
        if (!hp) {
            st = rec.version == to ? CC_OK /* promoted by another driver */
                                   : cc_error_set(err, CC_ECONFLICT, "the pending entry of version %u disappeared "
                                                  "(table at version %u)", (unsigned)to, (unsigned)rec.version);
        } else if (pending.version != to || rec.version != from) {
            st = cc_error_set(err, CC_ECONFLICT, "the table moved to version %u / pending %u, not %u → %u",
                              (unsigned)rec.version, (unsigned)pending.version, (unsigned)from, (unsigned)to);
            attempt = PROMOTE_ATTEMPTS;
        } else {
            snprintf(pending.mode, sizeof pending.mode, "%s", rec.mode);
            cc_state_now(now);
            /* rotate mode --to kms: the pending entry says so; the mode and the q_* attributes change with it */
            json_t *pm = json_object_get(json_object_get(item, "pending"), "M");
            const char *to_mode = json_string_value(json_object_get(json_object_get(pm, "to_mode"), "S"));
            int to_kms = to_mode && strcmp(to_mode, "kms") == 0;
            /* rotate mode --to quorum: the new q_* set waits in the pending entry (dropped with it) */
            json_t *nq = to_mode && strcmp(to_mode, "quorum") == 0 ? json_object_get(json_object_get(pm, "quorum"), "M")
                                                                   : NULL;
            json_incref(nq);
            if (to_mode && strcmp(to_mode, "quorum") == 0 && !nq)
                st = cc_error_set(err, CC_EINVAL, "pending: to_mode quorum without its operator set");
            else if ((st = cc_rotate_item_condition(item, cond, &names, &values, err)) == CC_OK &&
                     (st = cc_rotate_item_install(item, &pending, now, err)) == CC_OK && (to_kms || nq))
                st = cc_rotate_item_to_kms_mode(item, err); /* drops every q_* (none in KMS-only mode) */
            if (st == CC_OK && nq) {
                const char *key;
                json_t *v;
                json_object_foreach(nq, key, v)
                    if (strncmp(key, "q_", 2) == 0)
                        json_object_set(item, key, v);
                json_object_set_new(item, "mode", json_pack("{s:s}", "S", "quorum"));
            }
            json_decref(nq);
            if (st == CC_OK)
                st = put_item(rot, item, cond, names, values, err);
        }
        cc_state_record_clear(&rec);
        cc_state_record_clear(&pending);
        json_decref(item);
        json_decref(names);
        json_decref(values);
    }
    return st;
}

static cc_status drive(cc_rotation *rot, int fresh, cc_error *err)
{
    cc_chamber *ch = rot->ch;
    unsigned long gen = cc_chamber_seal_gen(ch);
    if (!cc_chamber_can_sign(ch))
        return cc_error_set(err, CC_EUNAVAILABLE, "sealed");
    json_t *item = NULL;
    cc_state_record rec, pending;
    int hp = 0;
    set_phase(rot, "prepare");
    pthread_mutex_lock(&rot->lock);
    int want_kms = strcmp(rot->want_mode, "kms") == 0; /* rotate mode --to kms */
    rot->want_mode[0] = '\0';
    pthread_mutex_unlock(&rot->lock);
    pthread_mutex_lock(&rot->op);
    cc_status st = read_item(rot, &item, &rec, &pending, &hp, err);
    if (st == CC_OK && !hp) {
        if (!fresh)
            st = cc_error_set(err, CC_ENOTFOUND, "no master-key rotation is pending");
        else if (strcmp(rec.mode, "kms") != 0 && !(strcmp(rec.mode, "quorum") == 0 && rec.quorum.complete && want_kms))
            st = cc_error_set(err, CC_ECONFLICT, "master-key rotation: mode \"%s\" is not supported here (rotate "
                              "mode --to kms moves a quorum chamber to KMS-only with a new master key)", rec.mode);
        else if (!cc_chamber_holds_version(ch, rec.version))
            st = cc_error_set(err, CC_EUNAVAILABLE, "this replica does not hold master-key version %u",
                              (unsigned)rec.version);
        else
            st = write_pending(rot, item, &rec, gen, &pending, err);
    }
    pthread_mutex_unlock(&rot->op);
    json_decref(item);
    if (st != CC_OK) {
        cc_state_record_clear(&rec);
        return st;
    }
    refresh_record(rot);
    uint32_t from = rec.version, to = pending.version;
    cc_state_record_clear(&rec);
    pthread_mutex_lock(&rot->lock);
    rot->from = from;
    rot->to = to;
    pthread_mutex_unlock(&rot->lock);
    if (to != from + 1 || !cc_chamber_holds_version(ch, from)) {
        cc_state_record_clear(&pending);
        return cc_error_set(err, CC_EUNAVAILABLE, "pending version %u over table version %u: cannot drive it here",
                            (unsigned)to, (unsigned)from);
    }
    if (!cc_chamber_holds_version(ch, to)) {
        uint8_t *k = cc_secret_alloc(CC_MASTER_KEY_LEN);
        st = k ? rebuild_pending(rot, &pending, k, err) : cc_error_set(err, CC_ENOMEM, "out of memory");
        if (st == CC_OK && !cc_chamber_hold_master(ch, k, to, gen))
            st = cc_error_set(err, CC_EUNAVAILABLE, "sealed meanwhile");
        cc_secret_free(k, CC_MASTER_KEY_LEN);
    }
    cc_state_record_clear(&pending);
    if (st != CC_OK)
        return cc_error_prefix(err, "the pending master key");
    cc_chamber_set_rotating(ch, 1);

    /* Let every replica's poller see the pending entry (and rebuild it) before any key moves to it. */
    set_phase(rot, "settle");
    if (rot_sleep(rot, (2 * cc_chamber_refresh_seconds(ch) + 1) * 1000, gen))
        return cc_error_set(err, CC_EUNAVAILABLE, "stopped (sealed or shutting down); resumes at the next unseal");
    set_phase(rot, "reseal");
    if ((st = reseal_all(rot, from, to, gen, err)) != CC_OK)
        return st;
    set_phase(rot, "promote");
    if (rot_sleep(rot, rot->test_delay_ms, gen))
        return cc_error_set(err, CC_EUNAVAILABLE, "stopped (sealed or shutting down); resumes at the next unseal");
    pthread_mutex_lock(&rot->op);
    st = promote(rot, from, to, err);
    pthread_mutex_unlock(&rot->op);
    if (st != CC_OK)
        return st;
    refresh_record(rot);
    pthread_mutex_lock(&rot->lock);
    rot->release_version = from;
    rot->release_at = time(NULL) + RELEASE_LINGER_SECONDS;
    pthread_mutex_unlock(&rot->lock);
    char f[16], t[16];
    u32s(f, from);
    u32s(t, to);
    cc_log(CC_LOG_WARN, "chamber: master-key rotation complete; every key is sealed under the new version", "from_version",
           f, "to_version", t, NULL);
    return CC_OK;
}

typedef struct driver_arg {
    cc_rotation *rot;
    int fresh;
} driver_arg;

static void *driver_main(void *arg)
{
    driver_arg *a = arg;
    cc_rotation *rot = a->rot;
    int fresh = a->fresh;
    free(a);
    cc_error err;
    cc_error_clear(&err);
    cc_status st = drive(rot, fresh, &err);
    cc_chamber_set_rotating(rot->ch, 0);
    pthread_mutex_lock(&rot->lock);
    rot->running = 0;
    snprintf(rot->phase, sizeof rot->phase, "%s", st == CC_OK ? "done" : "interrupted");
    snprintf(rot->last_error, sizeof rot->last_error, "%s", st == CC_OK ? "" : err.msg);
    /* A pending entry left behind is resumed by this replica later (poll). */
    rot->resume_wanted = st != CC_OK && st != CC_ENOTFOUND && !rot->stopping;
    rot->resume_at = time(NULL) + RESUME_RETRY_SECONDS;
    pthread_mutex_unlock(&rot->lock);
    if (st != CC_OK && st != CC_ENOTFOUND)
        cc_log(CC_LOG_WARN, "chamber: master-key rotation interrupted; every key stays readable and it resumes later",
               "reason", err.msg, NULL);
    return NULL;
}

/* Starts the driver unless one runs.  Under nothing. */
static cc_status start_driver(cc_rotation *rot, int fresh, cc_error *err)
{
    pthread_mutex_lock(&rot->lock);
    if (rot->running || rot->stopping) {
        int stopping = rot->stopping;
        pthread_mutex_unlock(&rot->lock);
        return cc_error_set(err, stopping ? CC_EUNAVAILABLE : CC_ECONFLICT,
                            stopping ? "shutting down" : "a master-key rotation is already running on this replica");
    }
    if (rot->joinable) {
        pthread_join(rot->thread, NULL); /* the previous driver has finished (running == 0) */
        rot->joinable = 0;
    }
    driver_arg *a = malloc(sizeof *a);
    if (!a) {
        pthread_mutex_unlock(&rot->lock);
        return cc_error_set(err, CC_ENOMEM, "out of memory");
    }
    *a = (driver_arg){rot, fresh};
    rot->running = 1;
    rot->resume_wanted = 0;
    rot->last_error[0] = '\0';
    rot->keys_total = rot->keys_done = rot->keys_stranded = 0;
    snprintf(rot->phase, sizeof rot->phase, "starting");
    if (pthread_create(&rot->thread, NULL, driver_main, a) != 0) {
        rot->running = 0;
        free(a);
        pthread_mutex_unlock(&rot->lock);
        return cc_error_set(err, CC_ENOMEM, "cannot start the rotation thread");
    }
    rot->joinable = 1;
    pthread_mutex_unlock(&rot->lock);
    return CC_OK;
}

cc_status cc_rotate_resume(cc_rotation *rot, cc_error *err) { return start_driver(rot, 0, err); }

cc_status cc_rotate_item_to_kms_mode(json_t *item, cc_error *err)
{
    if (json_object_set_new(item, "mode", json_pack("{s:s}", "S", "kms")) != 0)
        return cc_error_set(err, CC_ENOMEM, "out of memory");
    const char *key;
    json_t *v, *del = json_array();
    if (!del)
        return cc_error_set(err, CC_ENOMEM, "out of memory");
    json_object_foreach(item, key, v)
        if (strncmp(key, "q_", 2) == 0)
            json_array_append_new(del, json_string(key));
    size_t i;
    json_array_foreach(del, i, v)
        json_object_del(item, json_string_value(v));
    json_decref(del);
    return CC_OK;
}

cc_status cc_chamber_rotate_mode(cc_chamber *ch, const char *to, cc_error *err)
{
    cc_rotation *rot = cc_chamber_rotation(ch);
    if (!to || strcmp(to, "kms") != 0)
        return cc_error_set(err, CC_EINVAL, "to: \"kms\" here; \"quorum\" needs operators and operator_threshold "
                            "(cc_chamber_rotate_mode_quorum)");
    if (!rot || cc_chamber_state(ch) != CC_CHAMBER_UNSEALED)
        return cc_error_set(err, cc_chamber_can_sign(ch) ? CC_ECONFLICT : CC_EUNAVAILABLE,
                            "rotate mode: the chamber must be unsealed with no rotation running (state %s)",
                            cc_chamber_state_name(cc_chamber_state(ch)));
    pthread_mutex_lock(&rot->lock);
    int pending = rot->have_pending, quorum = rot->have_record && strcmp(rot->record.mode, "quorum") == 0;
    pthread_mutex_unlock(&rot->lock);
    if (pending)
        return cc_error_set(err, CC_ECONFLICT, "rotate mode: a master-key rotation is pending; let it finish (rotate "
                            "master resumes it) first");
    if (!quorum)
        return cc_error_set(err, CC_ECONFLICT, "rotate mode: the chamber is not in mode quorum (already kms?)");
    pthread_mutex_lock(&rot->lock);
    snprintf(rot->want_mode, sizeof rot->want_mode, "kms");
    pthread_mutex_unlock(&rot->lock);
    cc_status st = start_driver(rot, 1, err);
    if (st != CC_OK) {
        pthread_mutex_lock(&rot->lock);
        rot->want_mode[0] = '\0';
        pthread_mutex_unlock(&rot->lock);
    }
    return st;
}

cc_status cc_chamber_rotate_master(cc_chamber *ch, int *resumed, cc_error *err)
{
    cc_rotation *rot = cc_chamber_rotation(ch);
    *resumed = 0;
    if (!rot || !cc_chamber_can_sign(ch))
        return cc_error_set(err, CC_EUNAVAILABLE, "rotate master: the chamber is %s",
                            cc_chamber_state_name(cc_chamber_state(ch)));
    if (cc_quorum_rotation_active(rot->qrot))
        return cc_error_set(err, CC_ECONFLICT, "rotate master: an operator-set or mode rotation awaits registration "
                            "on this replica (status.rotation.quorum); let it finish or seal to abort it");
    pthread_mutex_lock(&rot->lock);
    *resumed = rot->have_pending;
    pthread_mutex_unlock(&rot->lock);
    return start_driver(rot, 1, err);
}

/* ================================================================ chamber hooks */

cc_status cc_rotation_new(cc_chamber *ch, const char *key_table, unsigned test_delay_ms, cc_rotation **out,
                          cc_error *err)
{
    *out = NULL;
    if (key_table && strlen(key_table) >= sizeof ((cc_rotation *)0)->key_table)
        return cc_error_set(err, CC_ECONFIG, "key_sources.dynamodb.table: at most 255 characters");
    cc_rotation *rot = calloc(1, sizeof *rot);
    if (!rot)
        return cc_error_set(err, CC_ENOMEM, "out of memory");
    rot->ch = ch;
    snprintf(rot->key_table, sizeof rot->key_table, "%s", key_table ? key_table : "");
    rot->test_delay_ms = test_delay_ms;
    pthread_mutex_init(&rot->op, NULL);
    pthread_mutex_init(&rot->lock, NULL);
    pthread_cond_init(&rot->cv, NULL);
    snprintf(rot->phase, sizeof rot->phase, "idle");
    cc_status st = cc_quorum_rotation_new(ch, &rot->qrot, err); /* rotate quorum */
    if (st != CC_OK) {
        pthread_mutex_destroy(&rot->op);
        pthread_mutex_destroy(&rot->lock);
        pthread_cond_destroy(&rot->cv);
        free(rot);
        return st;
    }
    *out = rot;
    return CC_OK;
}

cc_quorum_rotation *cc_rotate_quorum_state(cc_rotation *rot) { return rot ? rot->qrot : NULL; }
int cc_rotate_op_trylock(cc_rotation *rot) { return pthread_mutex_trylock(&rot->op) == 0; }
void cc_rotate_op_unlock(cc_rotation *rot) { pthread_mutex_unlock(&rot->op); }

int cc_rotate_master_busy(cc_rotation *rot)
{
    pthread_mutex_lock(&rot->lock);
    int busy = rot->running || rot->have_pending;
    pthread_mutex_unlock(&rot->lock);
    return busy;
}

void cc_rotation_free(cc_rotation *rot)
{
    if (!rot)
        return;
    pthread_mutex_lock(&rot->lock);
    rot->stopping = 1;
    pthread_cond_broadcast(&rot->cv);
    int join = rot->joinable;
    rot->joinable = 0;
    pthread_mutex_unlock(&rot->lock);
    if (join)
        pthread_join(rot->thread, NULL);
    cc_state_record_clear(&rot->record);
    cc_state_record_clear(&rot->pending);
    cc_secret_free(rot->prebuilt, CC_MASTER_KEY_LEN);
    cc_quorum_rotation_free(rot->qrot); /* rotate quorum: wipes the in-memory set */
    pthread_mutex_destroy(&rot->op);
    pthread_mutex_destroy(&rot->lock);
    pthread_cond_destroy(&rot->cv);
    free(rot);
}

cc_status cc_rotate_state_load(cc_rotation *rot, cc_state_record *r, int *found, cc_error *err)
{
    *found = 0;
    json_t *item = NULL;
    cc_state_record rec, pending;
    int hp = 0, absent = 0;
    cc_status st = read_item_ex(rot, &item, &rec, &pending, &hp, &absent, err);
    if (st == CC_ENOTFOUND && absent) {
        if (err)
            cc_error_clear(err);
        return CC_OK; /* no state item: uninitialized */
    }
    if (st != CC_OK)
        return st;
    uint64_t revision = cc_rotate_item_revision(item);
    uint8_t next[CC_ROTATE_NEXT_WRAPPED_LEN];
    int have_next = hp && cc_rotate_pending_next(json_object_get(item, "pending"), next);
    char next_mode[16];
    snprintf(next_mode, sizeof next_mode, "%s", cc_rotate_pending_to_mode(json_object_get(item, "pending")));
    json_decref(item);
    cc_state_record copy;
    if ((st = rec_copy(&copy, &rec, err)) != CC_OK) {
        cc_state_record_clear(&rec);
        cc_state_record_clear(&pending);
        return st;
    }
    pthread_mutex_lock(&rot->lock);
    cc_state_record_clear(&rot->record);
    rot->record = copy;
    rot->have_record = 1;
    cc_state_record_clear(&rot->pending);
    rot->pending = pending; /* zeroed when there is none */
    rot->have_pending = hp;
    rot->revision = revision;
    rot->have_next = have_next;
    memcpy(rot->next_wrapped, next, sizeof next);
    memcpy(rot->next_mode, next_mode, sizeof next_mode);
    pthread_mutex_unlock(&rot->lock);
    *r = rec;
    *found = 1;
    return CC_OK;
}

/* A copy of the pending entry known from the last read; 0 when there is none. */
static int pending_copy(cc_rotation *rot, cc_state_record *out)
{
    memset(out, 0, sizeof *out);
    pthread_mutex_lock(&rot->lock);
    int have = rot->have_pending && rec_copy(out, &rot->pending, NULL) == CC_OK;
    pthread_mutex_unlock(&rot->lock);
    return have;
}

typedef struct unwrap_arg {
    uint32_t from, to;
    const char *mode;
    const uint8_t *blob;
    uint8_t *out;
    cc_error *err;
} unwrap_arg;

static cc_status unwrap_fn(void *arg, const uint8_t *ka, const uint8_t *kb)
{
    (void)kb;
    unwrap_arg *a = arg;
    return cc_rotate_next_unwrap(ka, a->from, a->to, a->mode, a->blob, CC_ROTATE_NEXT_WRAPPED_LEN, a->out, a->err);
}

/*
 * The master of the pending entry p (last read): from next_wrapped with the
 * held current master when the entry has one (no KMS, no operators), else
 * with KMS (an entry of an older version, KMS-only); checked against p->check.
 */
static cc_status rebuild_pending(cc_rotation *rot, const cc_state_record *p, uint8_t out[32], cc_error *err)
{
    pthread_mutex_lock(&rot->lock);
    int have_next = rot->have_next && rot->have_pending && rot->pending.version == p->version;
    uint8_t blob[CC_ROTATE_NEXT_WRAPPED_LEN];
    char mode[16];
    memcpy(blob, rot->next_wrapped, sizeof blob);
    memcpy(mode, rot->next_mode, sizeof mode);
    pthread_mutex_unlock(&rot->lock);
    if (!have_next) {
        if (strcmp(p->mode, "kms") != 0)
            return cc_error_set(err, CC_EUNAVAILABLE, "pending version %u (mode %s) has no next_wrapped: it cannot be "
                                "rebuilt here", (unsigned)p->version, p->mode);
        return cc_chamber_rebuild_master(rot->ch, p, out, err);
    }
    unwrap_arg a = {p->version - 1, p->version, mode, blob, out, err};
    cc_status st = cc_chamber_with_master_pair(rot->ch, a.from, a.from, unwrap_fn, &a, err);
    if (st == CC_OK && (st = cc_master_verify(out, p->version, p->check, err)) != CC_OK)
        cc_error_prefix(err, "next_wrapped opens to a key that fails the pending check");
    if (st != CC_OK)
        cc_secret_wipe(out, 32);
    return st;
}

/* 1 when the pending entry last read carries next_wrapped (then the current master, once held, gives it). */
static int pending_has_next(cc_rotation *rot)
{
    pthread_mutex_lock(&rot->lock);
    int yes = rot->have_pending && rot->have_next;
    pthread_mutex_unlock(&rot->lock);
    return yes;
}

void cc_rotate_before_install(cc_rotation *rot)
{
    cc_state_record p;
    if (!rot || pending_has_next(rot)) /* next_wrapped: after_install unwraps it with the installed master */
        return;
    if (!pending_copy(rot, &p))
        return;
    uint8_t *k = cc_secret_alloc(CC_MASTER_KEY_LEN);
    cc_error e;
    cc_error_clear(&e);
    if (k && cc_chamber_rebuild_master(rot->ch, &p, k, &e) == CC_OK) {
        pthread_mutex_lock(&rot->lock);
        cc_secret_free(rot->prebuilt, CC_MASTER_KEY_LEN);
        rot->prebuilt = k;
        rot->prebuilt_version = p.version;
        pthread_mutex_unlock(&rot->lock);
        k = NULL;
    } else {
        char v[16];
        u32s(v, p.version);
        cc_log(CC_LOG_ERROR, "chamber: cannot rebuild the pending master key of a rotation in flight; keys already "
               "re-sealed to it do not open here until it does", "pending_version", v, "reason", e.msg, NULL);
    }
    cc_secret_free(k, CC_MASTER_KEY_LEN);
    cc_state_record_clear(&p);
}

void cc_rotate_after_install(cc_rotation *rot, unsigned long gen)
{
    if (!rot)
        return;
    pthread_mutex_lock(&rot->lock);
    uint8_t *k = rot->prebuilt;
    uint32_t v = rot->prebuilt_version;
    rot->prebuilt = NULL;
    int pending = rot->have_pending;
    if (pending) {
        rot->resume_wanted = 1; /* this replica unsealed with a rotation in flight: it resumes it */
        rot->resume_at = 0;
    }
    pthread_mutex_unlock(&rot->lock);
    if (!k && pending) { /* next_wrapped (or a KMS rebuild): the current master is installed now */
        cc_state_record p;
        if (pending_copy(rot, &p)) {
            cc_error e;
            cc_error_clear(&e);
            k = cc_secret_alloc(CC_MASTER_KEY_LEN);
            if (k && rebuild_pending(rot, &p, k, &e) == CC_OK) {
                v = p.version;
            } else {
                char vs[16];
                u32s(vs, p.version);
                cc_log(CC_LOG_ERROR, "chamber: cannot obtain the pending master key of a rotation in flight; keys "
                       "already re-sealed to it do not open here until it does", "pending_version", vs, "reason",
                       e.msg, NULL);
                cc_secret_free(k, CC_MASTER_KEY_LEN);
                k = NULL;
            }
            cc_state_record_clear(&p);
        }
    }
    if (k) {
        if (cc_chamber_hold_master(rot->ch, k, v, gen)) {
            char vs[16];
            u32s(vs, v);
            cc_log(CC_LOG_INFO, "chamber: holding the pending master key of a rotation in flight", "pending_version",
                   vs, NULL);
        }
        cc_secret_free(k, CC_MASTER_KEY_LEN);
    }
}

/* Rebuilds rec's master with KMS and holds it (following a rotation made elsewhere). */
static void follow(cc_rotation *rot, const cc_state_record *rec, const char *what, int pending)
{
    unsigned long gen = cc_chamber_seal_gen(rot->ch);
    uint8_t *k = cc_secret_alloc(CC_MASTER_KEY_LEN);
    cc_error e;
    cc_error_clear(&e);
    char v[16];
    u32s(v, rec->version);
    if (k &&
        (pending ? rebuild_pending(rot, rec, k, &e) : cc_chamber_rebuild_master(rot->ch, rec, k, &e)) == CC_OK &&
        cc_chamber_hold_master(rot->ch, k, rec->version, gen)) {
        cc_log(CC_LOG_INFO, "chamber: following a master-key rotation: holding the new master key", "what", what,
               "version", v, NULL);
    } else {
        cc_log(CC_LOG_ERROR, "chamber: cannot rebuild the master key of a rotation made elsewhere; retrying", "what",
               what, "version", v, "reason", e.msg, NULL);
        pthread_mutex_lock(&rot->lock);
        rot->follow_retry = time(NULL) + FOLLOW_RETRY_SECONDS;
        pthread_mutex_unlock(&rot->lock);
    }
    cc_secret_free(k, CC_MASTER_KEY_LEN);
}

void cc_rotate_poll(cc_rotation *rot)
{
    if (!rot || !cc_chamber_can_sign(rot->ch))
        return;
    cc_quorum_rotation_poll(rot); /* rotate quorum: retries a switch that failed */
    time_t now = time(NULL);
    cc_state_record rec, pend;
    memset(&rec, 0, sizeof rec);
    memset(&pend, 0, sizeof pend);
    pthread_mutex_lock(&rot->lock);
    if (rot->stopping) {
        pthread_mutex_unlock(&rot->lock);
        return;
    }
    int have_rec = rot->have_record && rec_copy(&rec, &rot->record, NULL) == CC_OK;
    int have_pend = rot->have_pending && rec_copy(&pend, &rot->pending, NULL) == CC_OK;
    int can_follow = now >= rot->follow_retry;
    int resume = rot->resume_wanted && !rot->running && now >= rot->resume_at;
    uint32_t release = rot->release_version;
    int do_release = release && now >= rot->release_at;
    pthread_mutex_unlock(&rot->lock);

    /* The table's current master (promoted elsewhere while this replica did not hold it). */
    if (have_rec && can_follow && !cc_chamber_holds_version(rot->ch, rec.version) && strcmp(rec.mode, "kms") == 0)
        follow(rot, &rec, "current", 0); /* a quorum master is never rebuilt with KMS alone */
    /* A pending master written elsewhere: hold it before any key is re-sealed to it. */
    if (have_pend && can_follow && !cc_chamber_holds_version(rot->ch, pend.version))
        follow(rot, &pend, "pending", 1);
    /* After a promotion, an older master is kept a while (a key-source read in flight may need it), then wiped. */
    if (have_rec && !have_pend && !do_release && !release) {
        for (uint32_t old = rec.version - 1; old >= 1 && old + 4 >= rec.version; old--)
            if (cc_chamber_holds_version(rot->ch, old)) {
                pthread_mutex_lock(&rot->lock);
                rot->release_version = old;
                rot->release_at = now + RELEASE_LINGER_SECONDS;
                pthread_mutex_unlock(&rot->lock);
                break;
            }
    }
    if (do_release && have_rec && !have_pend && release < rec.version) {
        cc_chamber_release_master(rot->ch, release);
        pthread_mutex_lock(&rot->lock);
        rot->release_version = 0;
        pthread_mutex_unlock(&rot->lock);
        char v[16];
        u32s(v, release);
        cc_log(CC_LOG_INFO, "chamber: the old master key is wiped (rotation complete)", "version", v, NULL);
    }
    cc_state_record_clear(&rec);
    cc_state_record_clear(&pend);
    if (resume && have_pend) {
        cc_error e;
        if (start_driver(rot, 0, &e) == CC_OK)
            cc_log(CC_LOG_INFO, "chamber: resuming the master-key rotation in flight", NULL);
    } else if (resume) {
        pthread_mutex_lock(&rot->lock);
        rot->resume_wanted = 0;
        pthread_mutex_unlock(&rot->lock);
    }
}

void cc_rotate_status_json(cc_rotation *rot, json_t *status)
{
    if (!rot || !status)
        return;
    pthread_mutex_lock(&rot->lock);
    json_t *r = json_pack("{s:b, s:s, s:I, s:I, s:I}", "running", rot->running, "phase", rot->phase, "keys_total",
                          (json_int_t)rot->keys_total, "keys_done", (json_int_t)rot->keys_done, "keys_stranded",
                          (json_int_t)rot->keys_stranded);
    if (r) {
        if (rot->have_pending)
            json_object_set_new(r, "pending_version", json_integer(rot->pending.version));
        json_object_set_new(r, "revision", json_integer((json_int_t)rot->revision));
        if (rot->last_error[0])
            json_object_set_new(r, "last_error", json_string(rot->last_error));
        cc_quorum_rotation_status(rot->qrot, r); /* rotate quorum: rotation.quorum (leaf lock) */
        json_object_set_new(status, "rotation", r);
    }
    pthread_mutex_unlock(&rot->lock);
}
