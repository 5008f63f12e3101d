/*
 * quorum_session.c — the in-memory secrets of operator-quorum mode
 * (quorum_session.h).
 */
#include "chamber/quorum_session.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "chamber/master.h"
#include "chamber/shamir.h"
#include "util/secret.h"

struct cc_quorum_session {
    pthread_mutex_t lock;
    pthread_mutex_t submit_lock;   /* one submission (one Argon2id) at a time */
    unsigned long gen;             /* bumped by every wipe */

    /* pending registration */
    char pending_id[CC_QUORUM_INIT_ID_LEN + 1];
    uint8_t *pending_shares;       /* K × 32, cc_secret memory */
    unsigned pending_k;
    uint8_t *pending_master;       /* 32, cc_secret memory */

    /* unseal */
    uint8_t *kms_part;             /* 32, cc_secret memory; NULL before the KMS stage */
    uint8_t *shares;               /* CC_QUORUM_MAX_OPERATORS × 32, cc_secret memory, slot = operator position */
    int have[CC_QUORUM_MAX_OPERATORS];
    unsigned count;
    struct timespec first;         /* CLOCK_MONOTONIC of the first accepted submission */
    unsigned long failed;          /* wrong credentials since start */

    /* rotation (issue 7): the two parts of the master key held while unsealed (rotate quorum) */
    uint8_t *pending_kms;          /* 32, cc_secret memory: kms_part of the pending initialisation */
    uint8_t *held_kms, *held_op;   /* 32 each, cc_secret memory; NULL unless unsealed through this session */
    uint32_t held_version;
};

static double since(const struct timespec *t)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - t->tv_sec) + (double)(now.tv_nsec - t->tv_nsec) / 1e9;
}

cc_quorum_session *cc_quorum_session_new(void)
{
    cc_quorum_session *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->shares = cc_secret_alloc((size_t)CC_QUORUM_MAX_OPERATORS * CC_QUORUM_PART_LEN);
    if (!s->shares) {
        free(s);
        return NULL;
    }
    pthread_mutex_init(&s->lock, NULL);
    pthread_mutex_init(&s->submit_lock, NULL);
    return s;
}

/* Under lock. */
static void drop_submissions(cc_quorum_session *s)
{
    cc_secret_wipe(s->shares, (size_t)CC_QUORUM_MAX_OPERATORS * CC_QUORUM_PART_LEN);
    memset(s->have, 0, sizeof s->have);
    s->count = 0;
}

static void drop_held(cc_quorum_session *s) /* rotation (issue 7) */
{
    cc_secret_free(s->held_kms, CC_QUORUM_PART_LEN);
    cc_secret_free(s->held_op, CC_QUORUM_PART_LEN);
    s->held_kms = s->held_op = NULL;
    s->held_version = 0;
}

static void drop_pending(cc_quorum_session *s)
{
    cc_secret_free(s->pending_kms, CC_QUORUM_PART_LEN); /* rotation (issue 7) */
    s->pending_kms = NULL;
    cc_secret_free(s->pending_shares, (size_t)s->pending_k * CC_QUORUM_PART_LEN);
    cc_secret_free(s->pending_master, CC_QUORUM_PART_LEN);
    s->pending_shares = s->pending_master = NULL;
    s->pending_k = 0;
    s->pending_id[0] = '\0';
}

void cc_quorum_session_wipe(cc_quorum_session *s, int also_pending)
{
    pthread_mutex_lock(&s->lock);
    s->gen++;
    drop_submissions(s);
    cc_secret_free(s->kms_part, CC_QUORUM_PART_LEN);
    s->kms_part = NULL;
    drop_held(s); /* rotation (issue 7): every wipe (a seal) drops the held parts */
    if (also_pending)
        drop_pending(s);
    pthread_mutex_unlock(&s->lock);
}

void cc_quorum_session_free(cc_quorum_session *s)
{
    if (!s)
        return;
    cc_quorum_session_wipe(s, 1);
    cc_secret_free(s->shares, (size_t)CC_QUORUM_MAX_OPERATORS * CC_QUORUM_PART_LEN);
    pthread_mutex_destroy(&s->lock);
    pthread_mutex_destroy(&s->submit_lock);
    free(s);
}

cc_status cc_quorum_session_hold_pending(cc_quorum_session *s, const char *init_id, const uint8_t *shares, unsigned k,
                                         const uint8_t master[CC_QUORUM_PART_LEN], cc_error *err)
{
    uint8_t *sh = cc_secret_alloc((size_t)k * CC_QUORUM_PART_LEN), *m = cc_secret_alloc(CC_QUORUM_PART_LEN);
    if (!sh || !m || strlen(init_id) != CC_QUORUM_INIT_ID_LEN) {
        cc_secret_free(sh, (size_t)k * CC_QUORUM_PART_LEN);
        cc_secret_free(m, CC_QUORUM_PART_LEN);
        return cc_error_set(err, CC_ENOMEM, "out of memory");
    }
    memcpy(sh, shares, (size_t)k * CC_QUORUM_PART_LEN);
    memcpy(m, master, CC_QUORUM_PART_LEN);
    pthread_mutex_lock(&s->lock);
    drop_pending(s);
    s->pending_shares = sh;
    s->pending_master = m;
    s->pending_k = k;
    memcpy(s->pending_id, init_id, CC_QUORUM_INIT_ID_LEN + 1);
    pthread_mutex_unlock(&s->lock);
    return CC_OK;
}

int cc_quorum_session_pending_for(cc_quorum_session *s, const char *init_id)
{
    pthread_mutex_lock(&s->lock);
    int yes = s->pending_master && init_id && strcmp(s->pending_id, init_id) == 0;
    pthread_mutex_unlock(&s->lock);
    return yes;
}

cc_status cc_quorum_session_pending_share(cc_quorum_session *s, const char *init_id, unsigned index,
                                          uint8_t out[CC_QUORUM_PART_LEN], cc_error *err)
{
    pthread_mutex_lock(&s->lock);
    cc_status st = CC_OK;
    if (!s->pending_master || strcmp(s->pending_id, init_id) != 0 || index < 1 || index > s->pending_k)
        st = cc_error_set(err, CC_ENOTFOUND, "this replica does not hold the pending initialisation");
    else
        memcpy(out, s->pending_shares + (size_t)(index - 1) * CC_QUORUM_PART_LEN, CC_QUORUM_PART_LEN);
    pthread_mutex_unlock(&s->lock);
    return st;
}

cc_status cc_quorum_session_pending_master(cc_quorum_session *s, const char *init_id,
                                           uint8_t out[CC_QUORUM_PART_LEN], cc_error *err)
{
    pthread_mutex_lock(&s->lock);
    cc_status st = CC_OK;
    if (!s->pending_master || strcmp(s->pending_id, init_id) != 0)
        st = cc_error_set(err, CC_ENOTFOUND, "this replica does not hold the pending initialisation");
    else
        memcpy(out, s->pending_master, CC_QUORUM_PART_LEN);
    pthread_mutex_unlock(&s->lock);
    return st;
}

void cc_quorum_session_set_kms_part(cc_quorum_session *s, const uint8_t kms_part[CC_QUORUM_PART_LEN])
{
    pthread_mutex_lock(&s->lock);
    if (!s->kms_part)
        s->kms_part = cc_secret_alloc(CC_QUORUM_PART_LEN);
    if (s->kms_part)
        memcpy(s->kms_part, kms_part, CC_QUORUM_PART_LEN);
    drop_submissions(s);
    pthread_mutex_unlock(&s->lock);
}

int cc_quorum_session_has_kms_part(cc_quorum_session *s)
{
    pthread_mutex_lock(&s->lock);
    int yes = s->kms_part != NULL;
    pthread_mutex_unlock(&s->lock);
    return yes;
}

/* Under lock. */
static unsigned expire_locked(cc_quorum_session *s, unsigned timeout_seconds)
{
    if (s->count == 0 || since(&s->first) < (double)timeout_seconds)
        return 0;
    unsigned n = s->count;
    drop_submissions(s);
    return n;
}

unsigned cc_quorum_session_expire(cc_quorum_session *s, unsigned timeout_seconds)
{
    pthread_mutex_lock(&s->lock);
    unsigned n = expire_locked(s, timeout_seconds);
    pthread_mutex_unlock(&s->lock);
    return n;
}

/* Under lock, with count ≥ threshold: combines the first `threshold` shares held and derives the master key. */
static cc_status finish(cc_quorum_session *s, const cc_quorum_record *q, uint32_t version, const uint8_t check[32],
                        uint8_t master[CC_QUORUM_PART_LEN], cc_error *err)
{
    uint8_t xs[CC_QUORUM_MAX_OPERATORS];
    size_t ys_len = (size_t)q->threshold * CC_QUORUM_PART_LEN;
    uint8_t *ys = cc_secret_alloc(ys_len), *op_part = cc_secret_alloc(CC_QUORUM_PART_LEN);
    cc_status st = CC_OK;
    if (!ys || !op_part) {
        st = cc_error_set(err, CC_ENOMEM, "out of memory");
        goto out;
    }
    unsigned m = 0;
    for (unsigned i = 0; i < q->count && m < q->threshold; i++) {
        if (!s->have[i])
            continue;
        xs[m] = q->ops[i].index;
        memcpy(ys + (size_t)m * CC_QUORUM_PART_LEN, s->shares + (size_t)i * CC_QUORUM_PART_LEN, CC_QUORUM_PART_LEN);
        m++;
    }
    if ((st = cc_shamir_combine(xs, ys, m, CC_QUORUM_PART_LEN, op_part, err)) != CC_OK ||
        (st = cc_quorum_derive_master(s->kms_part, op_part, version, master, err)) != CC_OK)
        goto out;
    if (cc_master_verify(master, version, check, NULL) != CC_OK) {
        cc_secret_wipe(master, CC_QUORUM_PART_LEN);
        st = cc_error_set(err, CC_ECRYPTO, "the operator shares and the KMS part do not rebuild the master key of "
                          "version %u (integrity check failed)", (unsigned)version);
        goto out;
    }
    /* rotation (issue 7): both parts stay held (cc_secret memory) while unsealed, for `rotate quorum` */
    drop_held(s);
    if ((s->held_kms = cc_secret_alloc(CC_QUORUM_PART_LEN)) && (s->held_op = cc_secret_alloc(CC_QUORUM_PART_LEN))) {
        memcpy(s->held_kms, s->kms_part, CC_QUORUM_PART_LEN);
        memcpy(s->held_op, op_part, CC_QUORUM_PART_LEN);
        s->held_version = version;
    } else {
        drop_held(s); /* not fatal: rotate quorum then asks for an operator unseal first */
    }
out:
    cc_secret_free(ys, ys_len);
    cc_secret_free(op_part, CC_QUORUM_PART_LEN);
    return st;
}

cc_status cc_quorum_session_submit(cc_quorum_session *s, const cc_quorum_record *q, uint32_t version,
                                   const uint8_t check[32], const char *name, const uint8_t *secret, size_t len,
                                   unsigned timeout_seconds, uint8_t master[CC_QUORUM_PART_LEN], int *complete,
                                   cc_error *err)
{
    *complete = 0;
    int pos = cc_quorum_find_operator(q, name);
    if (pos < 0)
        return cc_error_set(err, CC_ENOTFOUND, "operator: no operator named '%.40s'", name ? name : "");
    pthread_mutex_lock(&s->submit_lock);
    pthread_mutex_lock(&s->lock);
    cc_status st = CC_OK;
    unsigned long gen = s->gen;
    expire_locked(s, timeout_seconds);
    if (!s->kms_part)
        st = cc_error_set(err, CC_EUNAVAILABLE, "the KMS stage of the unseal has not completed on this replica "
                          "(state must be kms_unsealed)");
    else if (s->have[pos])
        st = cc_error_set(err, CC_ECONFLICT, "operator %s: already submitted in this unseal window (%u of %u)",
                          q->ops[pos].name, s->count, q->threshold);
    pthread_mutex_unlock(&s->lock);
    uint8_t *share = st == CC_OK ? cc_secret_alloc(CC_QUORUM_PART_LEN) : NULL;
    if (st == CC_OK && !share)
        st = cc_error_set(err, CC_ENOMEM, "out of memory");
    if (st == CC_OK) /* the slow part (Argon2id): outside the lock */
        st = cc_quorum_unlock(&q->ops[pos], version, secret, len, share, err);
    pthread_mutex_lock(&s->lock);
    if (st == CC_EFORBIDDEN)
        s->failed++;
    if (st == CC_OK && (s->gen != gen || !s->kms_part))
        st = cc_error_set(err, CC_EUNAVAILABLE, "sealed while the submission was checked; submit again");
    if (st == CC_OK) {
        memcpy(s->shares + (size_t)pos * CC_QUORUM_PART_LEN, share, CC_QUORUM_PART_LEN);
        s->have[pos] = 1;
        if (s->count++ == 0)
            clock_gettime(CLOCK_MONOTONIC, &s->first);
        if (s->count >= q->threshold) {
            st = finish(s, q, version, check, master, err);
            *complete = st == CC_OK;
            drop_submissions(s); /* either way: done, or a corrupt state that more shares will not fix */
            if (st == CC_OK) {
                cc_secret_free(s->kms_part, CC_QUORUM_PART_LEN);
                s->kms_part = NULL;
            }
        }
    }
    pthread_mutex_unlock(&s->lock);
    cc_secret_free(share, CC_QUORUM_PART_LEN);
    pthread_mutex_unlock(&s->submit_lock);
    return st;
}

void cc_quorum_session_status(cc_quorum_session *s, unsigned timeout_seconds, json_t *status)
{
    pthread_mutex_lock(&s->lock);
    json_object_set_new(status, "submissions", json_integer(s->count));
    json_object_set_new(status, "failed_submissions", json_integer((json_int_t)s->failed));
    if (s->count) {
        double left = (double)timeout_seconds - since(&s->first);
        json_object_set_new(status, "window_seconds_left", json_integer(left > 0 ? (json_int_t)left : 0));
    }
    pthread_mutex_unlock(&s->lock);
}

/* ---- rotation (issue 7): the parts held while unsealed ---- */

void cc_quorum_session_hold_pending_kms_part(cc_quorum_session *s, const char *init_id,
                                            const uint8_t kms_part[CC_QUORUM_PART_LEN])
{
    pthread_mutex_lock(&s->lock);
    if (s->pending_master && strcmp(s->pending_id, init_id) == 0) {
        if (!s->pending_kms)
            s->pending_kms = cc_secret_alloc(CC_QUORUM_PART_LEN);
        if (s->pending_kms)
            memcpy(s->pending_kms, kms_part, CC_QUORUM_PART_LEN);
    }
    pthread_mutex_unlock(&s->lock);
}

void cc_quorum_session_finish_registration(cc_quorum_session *s, const char *init_id, unsigned threshold,
                                           uint32_t version, int keep)
{
    pthread_mutex_lock(&s->lock);
    s->gen++;
    drop_submissions(s);
    cc_secret_free(s->kms_part, CC_QUORUM_PART_LEN);
    s->kms_part = NULL;
    drop_held(s);
    if (keep && s->pending_master && s->pending_kms && strcmp(s->pending_id, init_id) == 0 && threshold >= 1 &&
        threshold <= s->pending_k && threshold <= CC_QUORUM_MAX_OPERATORS) {
        uint8_t xs[CC_QUORUM_MAX_OPERATORS];
        for (unsigned i = 0; i < threshold; i++)
            xs[i] = (uint8_t)(i + 1); /* pending share i has x = i + 1 (cc_quorum_setup) */
        uint8_t *op = cc_secret_alloc(CC_QUORUM_PART_LEN), *m = cc_secret_alloc(CC_QUORUM_PART_LEN);
        int ok = op && m && cc_shamir_combine(xs, s->pending_shares, threshold, CC_QUORUM_PART_LEN, op, NULL) == CC_OK &&
                 cc_quorum_derive_master(s->pending_kms, op, version, m, NULL) == CC_OK &&
                 cc_ct_equal(m, s->pending_master, CC_QUORUM_PART_LEN);
        cc_secret_free(m, CC_QUORUM_PART_LEN);
        if (ok && (s->held_kms = cc_secret_alloc(CC_QUORUM_PART_LEN))) {
            memcpy(s->held_kms, s->pending_kms, CC_QUORUM_PART_LEN);
            s->held_op = op;
            s->held_version = version;
            op = NULL;
        }
        cc_secret_free(op, CC_QUORUM_PART_LEN);
    }
    drop_pending(s);
    pthread_mutex_unlock(&s->lock);
}

cc_status cc_quorum_session_parts(cc_quorum_session *s, uint32_t version, uint8_t kms_part[CC_QUORUM_PART_LEN],
                                  uint8_t operator_part[CC_QUORUM_PART_LEN], cc_error *err)
{
    pthread_mutex_lock(&s->lock);
    cc_status st = CC_OK;
    if (!s->held_kms || !s->held_op)
        st = cc_error_set(err, CC_EUNAVAILABLE, "this replica does not hold the operator part of the master key (it "
                          "was unsealed otherwise); seal it and unseal it with the operators, then retry");
    else if (s->held_version != version)
        st = cc_error_set(err, CC_ECONFLICT, "the held operator part is of master version %u, the table's is %u",
                          (unsigned)s->held_version, (unsigned)version);
    else {
        memcpy(kms_part, s->held_kms, CC_QUORUM_PART_LEN);
        memcpy(operator_part, s->held_op, CC_QUORUM_PART_LEN);
    }
    pthread_mutex_unlock(&s->lock);
    return st;
}
