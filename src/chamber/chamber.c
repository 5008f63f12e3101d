/*
 * chamber.c — the seal state machine, KMS-only mode (chamber.h).
 *
 * Locks, always taken in this order:
 *   op_lock   serialises the slow operations (init, unseal) — they talk to
 *             KMS and DynamoDB for seconds and must not race each other;
 *   lock      the small state: record, setup token, seal generation, hooks;
 *   key_lock  (rwlock) the master key: readers are cc_chamber_with_master_key,
 *             the writers install or wipe it.
 * A seal never takes op_lock, so it is immediate even while an unseal is in
 * flight; it bumps seal_gen, and an unseal that finishes afterwards sees the
 * generation moved and throws its key away instead of installing it.
 *
 * KMS unseal: one detached thread per wrapped share.  The threads share a
 * reference-counted job; the caller waits on the job's condition variable and
 * combines as soon as M shares are in, so one slow or unreachable KMS key
 * never delays an unseal the others can complete.  Threads that finish after
 * the caller left drop their plaintext (wiped) and the last one frees the job.
 * cc_chamber_close waits until every such thread has ended.
 */
#include "chamber/chamber.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/rand.h>

#include "aws/credentials.h"
#include "aws/dynamodb.h"
#include "aws/http.h"
#include "aws/kms.h"
#include "chamber/autounseal.h" /* Nitro (issue 8) */
#include "chamber/master.h"
#include "chamber/shamir.h"
#include "chamber/state.h"
#include "chamber/unwrap.h"     /* Nitro (issue 8) */
#include "chamber/quorum_session.h" /* operator quorum (issue 7) */
#include "chamber/rotate.h"         /* rotation (issue 7 parts 3-4) */
#include "util/hex.h"
#include "util/log.h"
#include "util/secret.h"

#define SETUP_PREFIX "cc-setup-"
#define SETUP_RANDOM 16                                   /* bytes, hex-encoded after the prefix */
#define SETUP_LEN (sizeof SETUP_PREFIX - 1 + 2 * SETUP_RANDOM)
#define RETRY_SECONDS 60                                  /* automatic unseal retry below threshold */
#define MAX_HOOKS 8
#define MAX_COMBINATIONS 4096

typedef struct seal_hook {
    void (*fn)(void *arg);
    void *arg;
} seal_hook;

struct cc_chamber {
    char table[256];
    unsigned refresh_seconds;
    unsigned unseal_timeout_minutes;
    cc_aws_http *http;
    cc_aws_credentials_provider *creds;
    cc_dynamodb ddb;
    cc_kms kms;
    /* Nitro (issue 8): how shares are decrypted, and the auto-unseal blob's key ("" = none) */
    cc_unwrapper *unwrapper, *own_unwrapper;
    char auto_unseal_arn[CC_STATE_ARN_MAX + 1];
    /* operator quorum (issue 7): in-memory secrets between steps, and the submission window */
    cc_quorum_session *quorum;
    unsigned quorum_timeout_seconds;

    pthread_mutex_t op_lock;
    pthread_mutex_t lock;
    pthread_rwlock_t key_lock;
    _Atomic int state;             /* cc_chamber_state_t */

    /* under lock */
    cc_state_record record;
    int have_record;
    char *token;                   /* setup token, cc_secret memory; NULL once used or never needed */
    unsigned long seal_gen;
    int operator_sealed;           /* sealed by an operator: no automatic unseal until unseal or restart */
    time_t next_retry;
    seal_hook hooks[MAX_HOOKS];
    size_t hook_count;
    int warned_version;
    int poll_failing;

    /* under key_lock */
    uint8_t *master;               /* CC_MASTER_KEY_LEN bytes of cc_secret memory, NULL when sealed */
    uint32_t version;
    /* ---- rotation (issue 7; chamber/rotate.c) ---- */
    uint8_t *old_master;           /* a second, older master held while a master-key rotation is in flight */
    uint32_t old_version;
    cc_rotation *rot;
    /* ---- end rotation ---- */

    /* share threads still running (under lock); close waits for 0 */
    unsigned running;
    pthread_cond_t idle;

    /* the poller */
    pthread_t poller;
    int poller_started;
    int stopping;                  /* under lock */
    pthread_cond_t wake;
};

/* ---- operator quorum (issue 7): hooks, defined at the end of this file ---- */
static int quorum_mode(const cc_state_record *rec);
static int quorum_secret_ok(const cc_state_record *rec, const uint8_t *cand);
static cc_status quorum_kms_stage(cc_chamber *ch, const cc_state_record *rec, cc_error *err);
static cc_chamber_state_t quorum_poll(cc_chamber *ch, const cc_state_record *rec, cc_chamber_state_t s);
/* ---- end operator quorum ---- */

const char *cc_chamber_state_name(cc_chamber_state_t s)
{
    switch (s) {
    case CC_CHAMBER_UNINITIALIZED: return "uninitialized";
    case CC_CHAMBER_AWAITING_REGISTRATION: return "awaiting_registration";
    case CC_CHAMBER_SEALED: return "sealed";
    case CC_CHAMBER_KMS_UNSEALED: return "kms_unsealed";
    case CC_CHAMBER_UNSEALED: return "unsealed";
    case CC_CHAMBER_AWAITING_ROTATION: return "awaiting_rotation";
    }
    return "unknown";
}

cc_chamber_state_t cc_chamber_state(cc_chamber *ch)
{
    return (cc_chamber_state_t)atomic_load(&ch->state);
}

int cc_chamber_can_sign(cc_chamber *ch)
{
    cc_chamber_state_t s = cc_chamber_state(ch);
    return s == CC_CHAMBER_UNSEALED || s == CC_CHAMBER_AWAITING_ROTATION;
}

/* ---------------------------------------------------------------- record copies */

static cc_status record_copy(cc_state_record *dst, const cc_state_record *src, cc_error *err)
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

/* Replaces the held record with r (taking its blobs). Under lock. */
static void record_take(cc_chamber *ch, cc_state_record *r)
{
    cc_state_record_clear(&ch->record);
    ch->record = *r;
    ch->have_record = 1;
    memset(r, 0, sizeof *r);
}

static void token_wipe(cc_chamber *ch)
{
    if (ch->token) {
        cc_secret_free(ch->token, SETUP_LEN + 1);
        ch->token = NULL;
    }
}

/* ---------------------------------------------------------------- key install / wipe */

/* Installs master (copied) unless a seal happened since gen.  Returns 1 if installed. */
static int install_master(cc_chamber *ch, const uint8_t *master, uint32_t version, unsigned long gen)
{
    pthread_mutex_lock(&ch->lock);
    int ok = ch->seal_gen == gen;
    if (ok) {
        pthread_rwlock_wrlock(&ch->key_lock);
        if (!ch->master)
            ch->master = cc_secret_alloc(CC_MASTER_KEY_LEN);
        if (ch->master) {
            memcpy(ch->master, master, CC_MASTER_KEY_LEN);
            ch->version = version;
            atomic_store(&ch->state, CC_CHAMBER_UNSEALED);
        } else {
            ok = 0;
        }
        pthread_rwlock_unlock(&ch->key_lock);
        ch->warned_version = 0;
    }
    pthread_mutex_unlock(&ch->lock);
    return ok;
}

/* ---------------------------------------------------------------- KMS unseal */

typedef struct share_result {
    cc_status status;
    cc_kms_bytes plaintext;        /* secret; 32 bytes when status is CC_OK */
    char reason[CC_ERROR_MSG_MAX];
    int done;
} share_result;

typedef struct unseal_job {
    pthread_mutex_t lock;
    pthread_cond_t cv;
    int refs;
    cc_chamber *ch;
    cc_state_record rec;           /* a copy: the threads read blobs and ARNs from it */
    share_result res[CC_STATE_MAX_SHARES];
    unsigned finished, succeeded;
    int order[CC_STATE_MAX_SHARES]; /* successful shares in arrival order */
    cc_unwrapper *unwrapper;       /* Nitro (issue 8): the session every share thread decrypts through */
    cc_unwrap_session *session;
} unseal_job;

typedef struct share_arg {
    unseal_job *job;
    unsigned i;
} share_arg;

static void job_unref(unseal_job *job)
{
    pthread_mutex_lock(&job->lock);
    int last = --job->refs == 0;
    pthread_mutex_unlock(&job->lock);
    if (!last)
        return;
    for (unsigned i = 0; i < CC_STATE_MAX_SHARES; i++)
        cc_kms_bytes_free(&job->res[i].plaintext);
    cc_state_record_clear(&job->rec);
    if (job->session) /* Nitro (issue 8): the ephemeral key dies with the last share thread */
        job->unwrapper->ops->end(job->session);
    pthread_mutex_destroy(&job->lock);
    pthread_cond_destroy(&job->cv);
    free(job);
}

static void *share_main(void *arg)
{
    share_arg *a = arg;
    unseal_job *job = a->job;
    unsigned i = a->i;
    free(a);
    cc_chamber *ch = job->ch;
    const cc_state_share *s = &job->rec.shares[i];
    cc_kms_bytes pt = {0};
    cc_error err;
    cc_error_clear(&err);
    json_t *ctx = cc_state_share_context(s->index, job->rec.version);
    cc_status st = ctx ? job->unwrapper->ops->decrypt(job->session, &ch->kms, s->kms_key_arn, s->blob, s->blob_len, ctx,
                                                      &pt, &err)
                       : cc_error_set(&err, CC_ENOMEM, "out of memory");
    json_decref(ctx);
    if (st == CC_OK && pt.len != CC_MASTER_KEY_LEN) {
        st = cc_error_set(&err, CC_ECRYPTO, "the share decrypted to %zu bytes, not %d", pt.len, CC_MASTER_KEY_LEN);
        cc_kms_bytes_free(&pt);
    }
    if (st != CC_OK) {
        char idx[8];
        snprintf(idx, sizeof idx, "%u", (unsigned)s->index);
        cc_log(CC_LOG_WARN, "chamber: a KMS key could not decrypt its share", "kms_key_arn", s->kms_key_arn, "share",
               idx, "reason", err.msg, NULL);
    }
    pthread_mutex_lock(&job->lock);
    share_result *r = &job->res[i];
    r->status = st;
    r->plaintext = pt;
    snprintf(r->reason, sizeof r->reason, "%s", st == CC_OK ? "" : err.msg);
    r->done = 1;
    job->finished++;
    if (st == CC_OK)
        job->order[job->succeeded++] = (int)i;
    pthread_cond_broadcast(&job->cv);
    pthread_mutex_unlock(&job->lock);
    job_unref(job);

    pthread_mutex_lock(&ch->lock);
    if (--ch->running == 0)
        pthread_cond_broadcast(&ch->idle);
    pthread_mutex_unlock(&ch->lock);
    return NULL;
}

/*
 * Tries the threshold-sized subsets of the successful shares that contain
 * the newest one (the others were tried before).  Under job->lock.  Returns 1
 * and fills master when one passes the integrity check.
 */
static int try_combinations(unseal_job *job, uint8_t *master, unsigned *tries)
{
    unsigned m = job->rec.threshold, k = job->succeeded;
    if (k < m)
        return 0;
    int newest = job->order[k - 1];
    unsigned c[CC_STATE_MAX_SHARES]; /* indices into order[0..k-2], m-1 of them */
    for (unsigned j = 0; j + 1 < m; j++)
        c[j] = j;
    uint8_t xs[CC_STATE_MAX_SHARES];
    uint8_t *ys = cc_secret_alloc((size_t)m * CC_MASTER_KEY_LEN);
    uint8_t *cand = cc_secret_alloc(CC_MASTER_KEY_LEN);
    int found = 0;
    if (!ys || !cand)
        goto out;
    for (;;) {
        if (++*tries > MAX_COMBINATIONS)
            break;
        for (unsigned j = 0; j + 1 < m; j++) {
            int s = job->order[c[j]];
            xs[j] = job->rec.shares[s].index;
            memcpy(ys + (size_t)j * CC_MASTER_KEY_LEN, job->res[s].plaintext.data, CC_MASTER_KEY_LEN);
        }
        xs[m - 1] = job->rec.shares[newest].index;
        memcpy(ys + (size_t)(m - 1) * CC_MASTER_KEY_LEN, job->res[newest].plaintext.data, CC_MASTER_KEY_LEN);
        if (cc_shamir_combine(xs, ys, m, CC_MASTER_KEY_LEN, cand, NULL) == CC_OK &&
            quorum_secret_ok(&job->rec, cand)) { /* master check, or kms_part's in quorum mode (issue 7) */
            memcpy(master, cand, CC_MASTER_KEY_LEN);
            found = 1;
            break;
        }
        /* next (m-1)-combination of 0..k-2 */
        if (m == 1)
            break;
        int j = (int)m - 2;
        while (j >= 0 && c[j] == (unsigned)j + (k - 1) - (m - 1))
            j--;
        if (j < 0)
            break;
        c[j]++;
        for (unsigned l = (unsigned)j + 1; l + 1 < m; l++)
            c[l] = c[l - 1] + 1;
    }
out:
    cc_secret_free(ys, (size_t)m * CC_MASTER_KEY_LEN);
    cc_secret_free(cand, CC_MASTER_KEY_LEN);
    return found;
}

/*
 * Decrypts the shares of rec concurrently and rebuilds the master key into
 * master (cc_secret memory).  CC_EUNAVAILABLE below threshold (logged with the
 * failing key ARNs).
 */
static cc_status kms_unseal(cc_chamber *ch, const cc_state_record *rec, uint8_t *master, cc_error *err)
{
    if (strcmp(rec->mode, "kms") != 0 && !quorum_mode(rec))
        return cc_error_set(err, CC_ECONFIG, "signer state mode \"%s\" is not supported by this version (kms, quorum)",
                            rec->mode);
    unseal_job *job = calloc(1, sizeof *job);
    if (!job)
        return cc_error_set(err, CC_ENOMEM, "out of memory");
    if (record_copy(&job->rec, rec, err) != CC_OK) {
        free(job);
        return err ? err->code : CC_ENOMEM;
    }
    pthread_mutex_init(&job->lock, NULL);
    pthread_cond_init(&job->cv, NULL);
    job->ch = ch;
    job->refs = 1;
    job->unwrapper = ch->unwrapper; /* Nitro (issue 8): one session (one ephemeral key) per unseal */
    cc_status bst = ch->unwrapper->ops->begin(ch->unwrapper, &job->session, err);
    if (bst != CC_OK) {
        cc_log(CC_LOG_ERROR, "chamber stays sealed: cannot start a share decryption session", "unwrapper",
               ch->unwrapper->ops->name, "reason", err ? err->msg : "", NULL);
        job_unref(job);
        return bst;
    }
    unsigned n = rec->share_count, started = 0;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    for (unsigned i = 0; i < n; i++) {
        share_arg *a = malloc(sizeof *a);
        pthread_mutex_lock(&job->lock);
        job->refs++;
        pthread_mutex_unlock(&job->lock);
        pthread_mutex_lock(&ch->lock);
        ch->running++;
        pthread_mutex_unlock(&ch->lock);
        pthread_t t;
        if (a) {
            *a = (share_arg){job, i};
            if (pthread_create(&t, &attr, share_main, a) == 0) {
                started++;
                continue;
            }
            free(a);
        }
        /* could not start: count it as a failed share */
        pthread_mutex_lock(&ch->lock);
        ch->running--;
        pthread_mutex_unlock(&ch->lock);
        pthread_mutex_lock(&job->lock);
        job->refs--;
        job->res[i].status = CC_ENOMEM;
        snprintf(job->res[i].reason, sizeof job->res[i].reason, "cannot start a thread");
        job->res[i].done = 1;
        job->finished++;
        pthread_mutex_unlock(&job->lock);
    }
    pthread_attr_destroy(&attr);
    (void)started;

    int ok = 0;
    unsigned seen = 0, tries = 0;
    pthread_mutex_lock(&job->lock);
    for (;;) {
        while (job->succeeded > seen) {
            seen++;
            /* try with the shares that had arrived up to this one */
            unsigned saved = job->succeeded;
            job->succeeded = seen;
            ok = try_combinations(job, master, &tries);
            job->succeeded = saved;
            if (ok)
                break;
        }
        if (ok || job->finished == n)
            break;
        pthread_cond_wait(&job->cv, &job->lock);
    }
    cc_status st = CC_OK;
    if (!ok) {
        char failed[4096];
        size_t len = 0;
        failed[0] = '\0';
        for (unsigned i = 0; i < n; i++) {
            if (job->res[i].status == CC_OK)
                continue;
            int w = snprintf(failed + len, sizeof failed - len, "%s%s (%s)", len ? "; " : "",
                             job->rec.shares[i].kms_key_arn, job->res[i].reason);
            if (w < 0 || (size_t)w >= sizeof failed - len) {
                len = sizeof failed - 1;
                break;
            }
            len += (size_t)w;
        }
        char thr[16], got[16];
        snprintf(thr, sizeof thr, "%u", rec->threshold);
        snprintf(got, sizeof got, "%u", job->succeeded);
        if (job->succeeded >= rec->threshold) {
            cc_log(CC_LOG_ERROR, "chamber stays sealed: the decrypted shares do not rebuild the master key",
                   "threshold", thr, "decrypted", got, "failed_keys", failed, NULL);
            st = cc_error_set(err, CC_ECRYPTO,
                              "%u shares decrypted but no %u of them pass the master key's integrity check",
                              job->succeeded, rec->threshold);
        } else {
            cc_log(CC_LOG_ERROR, "chamber stays sealed: fewer KMS keys than the threshold could decrypt their shares",
                   "threshold", thr, "decrypted", got, "failed_keys", failed, NULL);
            st = cc_error_set(err, CC_EUNAVAILABLE,
                              "sealed: %u of %u shares decrypted, threshold %u; failed: %s", job->succeeded, n,
                              rec->threshold, failed);
        }
    }
    pthread_mutex_unlock(&job->lock);
    job_unref(job);
    return st;
}

/* ---- Nitro (issue 8): auto-unseal blob (chamber/autounseal.h) ---- */

/*
 * Tries the auto-unseal blob; 1 when master holds the key.  Failures are
 * logged, never fatal; *by_blob is 1 when the blob opened, -1 when a blob is
 * stored but did not open (the next store replaces it), 0 otherwise.
 */
static int nitro_before_unseal(cc_chamber *ch, const cc_state_record *rec, uint8_t *master, int *by_blob)
{
    *by_blob = 0;
    if (!ch->auto_unseal_arn[0])
        return 0;
    cc_error e;
    cc_error_clear(&e);
    cc_status st = cc_autounseal_open(&ch->ddb, ch->table, &ch->kms, ch->unwrapper, rec, master, &e);
    if (st != CC_OK) {
        *by_blob = st == CC_ENOTFOUND ? 0 : -1;
        cc_log(st == CC_ENOTFOUND ? CC_LOG_INFO : CC_LOG_WARN, "chamber: no auto-unseal; unsealing from the shares",
               "reason", e.msg, NULL);
        return 0;
    }
    cc_log(CC_LOG_INFO, "chamber: master key released by the auto-unseal blob", "kms_key_arn", ch->auto_unseal_arn,
           NULL);
    *by_blob = 1;
    return 1;
}

/* After an unseal (or init) from the shares: make sure the table holds a current blob (force: replace it). */
static void nitro_after_unseal(cc_chamber *ch, const uint8_t *master, uint32_t version, int force)
{
    if (!ch->auto_unseal_arn[0])
        return;
    cc_error e;
    cc_error_clear(&e);
    int written = 0;
    if (cc_autounseal_store(&ch->ddb, ch->table, &ch->kms, ch->auto_unseal_arn, master, version, force, &written,
                            &e) != CC_OK)
        cc_log(CC_LOG_WARN, "chamber: cannot store the auto-unseal blob", "kms_key_arn", ch->auto_unseal_arn, "reason",
               e.msg, NULL);
    else if (written)
        cc_log(CC_LOG_INFO, "chamber: auto-unseal blob stored", "kms_key_arn", ch->auto_unseal_arn, NULL);
}
/* ---- end Nitro ---- */

/* Unseals from rec if no seal happens meanwhile.  Called with op_lock held. */
static cc_status unseal_from(cc_chamber *ch, const cc_state_record *rec, cc_error *err)
{
    if (quorum_mode(rec)) /* operator quorum (issue 7): KMS rebuilds kms_part only → kms_unsealed */
        return quorum_kms_stage(ch, rec, err);
    pthread_mutex_lock(&ch->lock);
    unsigned long gen = ch->seal_gen;
    pthread_mutex_unlock(&ch->lock);
    uint8_t *master = cc_secret_alloc(CC_MASTER_KEY_LEN);
    if (!master)
        return cc_error_set(err, CC_ENOMEM, "out of memory");
    /* Nitro (issue 8): the auto-unseal blob first, the shares when it is missing or refused. */
    int by_blob = 0;
    cc_rotate_before_install(ch->rot); /* rotation (issue 7): a pending master is rebuilt too */
    cc_status st = nitro_before_unseal(ch, rec, master, &by_blob) ? CC_OK : kms_unseal(ch, rec, master, err);
    if (st == CC_OK && by_blob != 1)
        nitro_after_unseal(ch, master, rec->version, by_blob == -1);
    if (st == CC_OK) {
        if (install_master(ch, master, rec->version, gen)) {
            cc_rotate_after_install(ch->rot, gen); /* rotation (issue 7): hold it, resume the rotation */
            char v[16], t[16], n[16];
            snprintf(v, sizeof v, "%u", (unsigned)rec->version);
            snprintf(t, sizeof t, "%u", rec->threshold);
            snprintf(n, sizeof n, "%u", rec->share_count);
            cc_log(CC_LOG_INFO, "chamber unsealed", "mode", "kms", "version", v, "threshold", t, "kms_keys", n, NULL);
        } else {
            st = cc_error_set(err, CC_EUNAVAILABLE, "sealed by an operator while unsealing; the key was discarded");
        }
    }
    cc_secret_free(master, CC_MASTER_KEY_LEN);
    return st;
}

/* ---------------------------------------------------------------- poller */

static void poll_round(cc_chamber *ch)
{
    cc_state_record rec;
    memset(&rec, 0, sizeof rec);
    int found = 0;
    cc_error err;
    cc_error_clear(&err);
    cc_status st = cc_rotate_state_load(ch->rot, &rec, &found, &err); /* rotation (issue 7): + pending */
    pthread_mutex_lock(&ch->lock);
    if (st != CC_OK) {
        if (!ch->poll_failing)
            cc_log(CC_LOG_WARN, "chamber: cannot read the signer state table", "table", ch->table, "reason", err.msg,
                   NULL);
        ch->poll_failing = 1;
        pthread_mutex_unlock(&ch->lock);
        return;
    }
    if (ch->poll_failing)
        cc_log(CC_LOG_INFO, "chamber: the signer state table is readable again", "table", ch->table, NULL);
    ch->poll_failing = 0;
    if (!found) {
        pthread_mutex_unlock(&ch->lock);
        return;
    }
    cc_chamber_state_t s = cc_chamber_state(ch);
    s = quorum_poll(ch, &rec, s); /* operator quorum (issue 7): registration, submission window */
    if (s == CC_CHAMBER_UNINITIALIZED) {
        token_wipe(ch);
        atomic_store(&ch->state, CC_CHAMBER_SEALED);
        ch->next_retry = 0;
        cc_log(CC_LOG_INFO, "chamber: initialised by another replica; unsealing from the stored shares", NULL);
        s = CC_CHAMBER_SEALED;
    }
    if (s == CC_CHAMBER_UNSEALED && rec.version != ch->version && !ch->warned_version && !ch->rot) {
        char have[16], now[16];
        snprintf(have, sizeof have, "%u", (unsigned)ch->version);
        snprintf(now, sizeof now, "%u", (unsigned)rec.version);
        cc_log(CC_LOG_WARN, "chamber: the master key version changed in the table; rotation is not supported by this "
               "version, keeping the key in memory", "version", have, "table_version", now, NULL);
        ch->warned_version = 1;
    }
    record_take(ch, &rec);
    int retry = s == CC_CHAMBER_SEALED && !ch->operator_sealed && time(NULL) >= ch->next_retry;
    pthread_mutex_unlock(&ch->lock);
    cc_rotate_poll(ch->rot); /* rotation (issue 7): follow rotations made elsewhere, resume one in flight */
    if (!retry)
        return;

    /* A sealed chamber unseals itself with KMS (KMS-only mode). */
    if (pthread_mutex_trylock(&ch->op_lock) != 0)
        return; /* an init or unseal is running */
    pthread_mutex_lock(&ch->lock);
    cc_state_record copy;
    memset(&copy, 0, sizeof copy);
    st = ch->have_record ? record_copy(&copy, &ch->record, &err) : cc_error_set(&err, CC_EINTERNAL, "no record");
    pthread_mutex_unlock(&ch->lock);
    if (st == CC_OK && cc_chamber_state(ch) == CC_CHAMBER_SEALED) {
        st = unseal_from(ch, &copy, &err);
        pthread_mutex_lock(&ch->lock);
        ch->next_retry = st == CC_OK ? 0 : time(NULL) + RETRY_SECONDS;
        pthread_mutex_unlock(&ch->lock);
        if (st != CC_OK) {
            char r[16];
            snprintf(r, sizeof r, "%d", RETRY_SECONDS);
            cc_log(CC_LOG_WARN, "chamber: automatic unseal failed; retrying later", "retry_seconds", r, "reason",
                   err.msg, NULL);
        }
    }
    cc_state_record_clear(&copy);
    pthread_mutex_unlock(&ch->op_lock);
}

static void *poller_main(void *arg)
{
    cc_chamber *ch = arg;
    for (;;) {
        poll_round(ch);
        pthread_mutex_lock(&ch->lock);
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += ch->refresh_seconds;
        while (!ch->stopping) {
            if (pthread_cond_timedwait(&ch->wake, &ch->lock, &until) != 0)
                break;
        }
        int stop = ch->stopping;
        pthread_mutex_unlock(&ch->lock);
        if (stop)
            return NULL;
    }
}

/* ---------------------------------------------------------------- open / close */

static cc_status make_token(cc_chamber *ch, cc_error *err)
{
    uint8_t *rnd = cc_secret_alloc(SETUP_RANDOM);
    ch->token = cc_secret_alloc(SETUP_LEN + 1);
    if (!rnd || !ch->token) {
        cc_secret_free(rnd, SETUP_RANDOM);
        return cc_error_set(err, CC_ENOMEM, "out of memory");
    }
    if (RAND_priv_bytes(rnd, SETUP_RANDOM) != 1) {
        cc_secret_free(rnd, SETUP_RANDOM);
        return cc_error_set(err, CC_ECRYPTO, "the random generator failed");
    }
    memcpy(ch->token, SETUP_PREFIX, sizeof SETUP_PREFIX - 1);
    cc_hex_encode(rnd, SETUP_RANDOM, ch->token + sizeof SETUP_PREFIX - 1);
    ch->token[SETUP_LEN] = '\0';
    cc_secret_free(rnd, SETUP_RANDOM);
    return CC_OK;
}

cc_status cc_chamber_open(const cc_chamber_config *cfg, cc_chamber **out, cc_error *err)
{
    *out = NULL;
    if (!cfg->table || !*cfg->table || strlen(cfg->table) >= sizeof ((cc_chamber *)0)->table)
        return cc_error_set(err, CC_ECONFIG, "signer_state.table: required (at most 255 characters)");
    cc_chamber *ch = calloc(1, sizeof *ch);
    if (!ch)
        return cc_error_set(err, CC_ENOMEM, "out of memory");
    snprintf(ch->table, sizeof ch->table, "%s", cfg->table);
    ch->refresh_seconds = cfg->refresh_interval_seconds ? cfg->refresh_interval_seconds : 1;
    ch->unseal_timeout_minutes = cfg->unseal_timeout_minutes;
    /* operator quorum (issue 7) */
    ch->quorum_timeout_seconds = cfg->unseal_timeout_seconds ? cfg->unseal_timeout_seconds
                                 : cfg->unseal_timeout_minutes ? cfg->unseal_timeout_minutes * 60 : 30 * 60;
    if (!(ch->quorum = cc_quorum_session_new())) {
        free(ch);
        return cc_error_set(err, CC_ENOMEM, "out of memory");
    }
    /* Nitro (issue 8) */
    if (cfg->auto_unseal_kms_key_arn)
        snprintf(ch->auto_unseal_arn, sizeof ch->auto_unseal_arn, "%s", cfg->auto_unseal_kms_key_arn);
    pthread_mutex_init(&ch->op_lock, NULL);
    pthread_mutex_init(&ch->lock, NULL);
    pthread_rwlock_init(&ch->key_lock, NULL);
    pthread_cond_init(&ch->idle, NULL);
    pthread_cond_init(&ch->wake, NULL);
    atomic_store(&ch->state, CC_CHAMBER_SEALED);

    cc_status st;
    if ((st = cc_aws_http_new(NULL, &ch->http, err)) != CC_OK ||
        (st = cc_aws_credentials_default_new(ch->http, cfg->aws_region, cfg->aws_endpoint_sts, &ch->creds, err)) !=
            CC_OK ||
        (st = cc_dynamodb_init(&ch->ddb, ch->http, ch->creds, cfg->aws_region, cfg->aws_endpoint_dynamodb, err)) !=
            CC_OK ||
        (st = cc_kms_init(&ch->kms, ch->http, ch->creds, cfg->aws_region, cfg->aws_endpoint_kms, err)) != CC_OK)
        goto fail;
    /* Nitro (issue 8): the share unwrapper (plain KMS Decrypt unless one is given) */
    if (cfg->unwrapper)
        ch->unwrapper = cfg->unwrapper;
    else if ((st = cc_unwrapper_plain_new(&ch->own_unwrapper, err)) != CC_OK)
        goto fail;
    else
        ch->unwrapper = ch->own_unwrapper;

    cc_state_record rec;
    memset(&rec, 0, sizeof rec);
    int found = 0;
    /* rotation (issue 7): the state item is read through rotate.c, which also keeps its pending entry */
    if ((st = cc_rotation_new(ch, cfg->key_table, cfg->rotation_test_delay_ms, &ch->rot, err)) != CC_OK)
        goto fail;
    if ((st = cc_rotate_state_load(ch->rot, &rec, &found, err)) != CC_OK) {
        if (st == CC_ENOTFOUND)
            st = cc_error_set(err, CC_ECONFIG,
                              "signer_state.table: dynamodb table %s does not exist (create it with "
                              "`containment-chamber dynamodb create-tables -c <config>`)", ch->table);
        goto fail;
    }
    if (found && quorum_mode(&rec) && !rec.quorum.complete) { /* operator quorum (issue 7) */
        record_take(ch, &rec);
        atomic_store(&ch->state, CC_CHAMBER_AWAITING_REGISTRATION);
        if ((st = make_token(ch, err)) != CC_OK)
            goto fail;
        cc_log(CC_LOG_WARN, "chamber: an operator-quorum initialisation awaits registration; only the process that ran "
               "init can complete it (its operator part is in that process's memory only). If that process is gone, "
               "run `operator init` again with this one-time setup token (shown once, never stored)",
               "setup_token", ch->token, "table", ch->table, NULL);
    } else if (found) {
        record_take(ch, &rec);
        char v[16];
        snprintf(v, sizeof v, "%u", (unsigned)ch->record.version);
        cc_log(CC_LOG_INFO, "chamber sealed: unsealing with KMS", "table", ch->table, "version", v, NULL);
    } else {
        atomic_store(&ch->state, CC_CHAMBER_UNINITIALIZED);
        if ((st = make_token(ch, err)) != CC_OK)
            goto fail;
        cc_log(CC_LOG_WARN, "chamber uninitialized: one-time setup token (shown once, never stored); initialise with "
               "`containment-chamber operator init`", "setup_token", ch->token, "table", ch->table, NULL);
    }
    if (pthread_create(&ch->poller, NULL, poller_main, ch) != 0) {
        st = cc_error_set(err, CC_ENOMEM, "cannot start the signer state poller");
        goto fail;
    }
    ch->poller_started = 1;
    *out = ch;
    return CC_OK;
fail:
    cc_chamber_close(ch);
    return st;
}

void cc_chamber_close(cc_chamber *ch)
{
    if (!ch)
        return;
    pthread_mutex_lock(&ch->lock);
    ch->stopping = 1;
    pthread_cond_broadcast(&ch->wake);
    pthread_mutex_unlock(&ch->lock);
    if (ch->poller_started)
        pthread_join(ch->poller, NULL);
    cc_rotation_free(ch->rot); /* rotation (issue 7): stops a running driver first */
    ch->rot = NULL;
    pthread_mutex_lock(&ch->lock);
    while (ch->running)
        pthread_cond_wait(&ch->idle, &ch->lock);
    token_wipe(ch);
    pthread_mutex_unlock(&ch->lock);
    pthread_rwlock_wrlock(&ch->key_lock);
    cc_secret_free(ch->master, CC_MASTER_KEY_LEN);
    ch->master = NULL;
    cc_secret_free(ch->old_master, CC_MASTER_KEY_LEN); /* rotation (issue 7) */
    ch->old_master = NULL;
    pthread_rwlock_unlock(&ch->key_lock);
    cc_state_record_clear(&ch->record);
    cc_quorum_session_free(ch->quorum); /* operator quorum (issue 7): wipes every held secret */
    cc_aws_credentials_provider_free(ch->creds);
    cc_aws_http_free(ch->http);
    cc_unwrapper_free(ch->own_unwrapper); /* Nitro (issue 8) */
    pthread_mutex_destroy(&ch->op_lock);
    pthread_mutex_destroy(&ch->lock);
    pthread_rwlock_destroy(&ch->key_lock);
    pthread_cond_destroy(&ch->idle);
    pthread_cond_destroy(&ch->wake);
    free(ch);
}

/* ---------------------------------------------------------------- operations */

static cc_status check_token(cc_chamber *ch, const char *given, cc_error *err)
{
    /* Under lock. The length is public (fixed by the format); the bytes are compared in constant time. */
    if (!ch->token)
        return cc_error_set(err, CC_ECONFLICT, "the chamber is already initialised");
    if (!given || strlen(given) != SETUP_LEN || !cc_ct_equal(given, ch->token, SETUP_LEN))
        return cc_error_set(err, CC_EFORBIDDEN, "setup_token: does not match this replica's setup token");
    return CC_OK;
}


/* Makes the record of a new master key: shares wrapped by KMS.  master is filled (secret). */
static cc_status build_record(cc_chamber *ch, const char *const *arns, size_t n, unsigned threshold,
                              uint8_t *master, cc_state_record *r, cc_error *err)
{
    memset(r, 0, sizeof *r);
    snprintf(r->mode, sizeof r->mode, "kms");
    r->threshold = threshold;
    r->version = 1;
    cc_state_now(r->created_at);
    memcpy(r->updated_at, r->created_at, sizeof r->updated_at);
    cc_status st;
    if ((st = cc_master_generate(master, err)) != CC_OK || (st = cc_master_check(master, r->version, r->check, err)) !=
                                                                    CC_OK)
        return st;
    size_t cap = n * CC_MASTER_KEY_LEN;
    uint8_t *shares = cc_secret_alloc(cap);
    if (!shares)
        return cc_error_set(err, CC_ENOMEM, "out of memory");
    if ((st = cc_shamir_split(master, CC_MASTER_KEY_LEN, threshold, (unsigned)n, shares, err)) != CC_OK)
        goto out;
    for (size_t i = 0; i < n; i++) {
        cc_state_share *s = &r->shares[i];
        s->index = (uint8_t)(i + 1);
        snprintf(s->kms_key_arn, sizeof s->kms_key_arn, "%s", arns[i]);
        json_t *ctx = cc_state_share_context(s->index, r->version);
        cc_kms_bytes blob = {0};
        st = ctx ? cc_kms_encrypt(&ch->kms, arns[i], shares + i * CC_MASTER_KEY_LEN, CC_MASTER_KEY_LEN, ctx, &blob, err)
                 : cc_error_set(err, CC_ENOMEM, "out of memory");
        json_decref(ctx);
        if (st != CC_OK) {
            cc_error_prefix(err, "kms_key_arns[%zu] (%.200s)", i, arns[i]);
            goto out;
        }
        s->blob = blob.data; /* not secret: plain malloc */
        s->blob_len = blob.len;
        r->share_count = (unsigned)i + 1;
    }
out:
    cc_secret_free(shares, cap);
    if (st != CC_OK)
        cc_state_record_clear(r);
    return st;
}

cc_status cc_chamber_init(cc_chamber *ch, const char *setup_token, const char *const *kms_key_arns, size_t n,
                          unsigned threshold, cc_error *err)
{
    pthread_mutex_lock(&ch->op_lock);
    cc_status st;
    pthread_mutex_lock(&ch->lock);
    if (cc_chamber_state(ch) != CC_CHAMBER_UNINITIALIZED)
        st = cc_error_set(err, CC_ECONFLICT, "the chamber is already initialised (state %s)",
                          cc_chamber_state_name(cc_chamber_state(ch)));
    else
        st = check_token(ch, setup_token, err);
    unsigned long gen = ch->seal_gen;
    pthread_mutex_unlock(&ch->lock);
    if (st == CC_OK)
        st = cc_state_check_arns(kms_key_arns, n, threshold, err);
    if (st != CC_OK) {
        pthread_mutex_unlock(&ch->op_lock);
        return st;
    }

    cc_state_record rec;
    uint8_t *master = cc_secret_alloc(CC_MASTER_KEY_LEN);
    if (!master) {
        pthread_mutex_unlock(&ch->op_lock);
        return cc_error_set(err, CC_ENOMEM, "out of memory");
    }
    if ((st = build_record(ch, kms_key_arns, n, threshold, master, &rec, err)) != CC_OK)
        goto out;
    st = cc_state_put_initial(&ch->ddb, ch->table, &rec, err);
    if (st == CC_OK) {
        pthread_mutex_lock(&ch->lock);
        token_wipe(ch);
        cc_state_record copy;
        if (record_copy(&copy, &rec, NULL) == CC_OK)
            record_take(ch, &copy);
        atomic_store(&ch->state, CC_CHAMBER_SEALED);
        pthread_mutex_unlock(&ch->lock);
        char t[16], k[16];
        snprintf(t, sizeof t, "%u", threshold);
        snprintf(k, sizeof k, "%zu", n);
        cc_log(CC_LOG_INFO, "chamber initialised", "mode", "kms", "version", "1", "threshold", t, "kms_keys", k, NULL);
        nitro_after_unseal(ch, master, rec.version, 0); /* Nitro (issue 8) */
        if (!install_master(ch, master, rec.version, gen))
            cc_log(CC_LOG_WARN, "chamber: sealed by an operator during initialisation; stays sealed", NULL);
        else
            cc_log(CC_LOG_INFO, "chamber unsealed", "mode", "kms", "version", "1", NULL);
    } else if (st == CC_ECONFLICT) {
        /* Another replica won: follow it. */
        cc_error first = *err;
        cc_state_record won;
        memset(&won, 0, sizeof won);
        int found = 0;
        cc_error e2;
        cc_log(CC_LOG_INFO, "chamber: another replica initialised first; unsealing from its shares", NULL);
        if (cc_state_load(&ch->ddb, ch->table, &won, &found, &e2) == CC_OK && found) {
            pthread_mutex_lock(&ch->lock);
            token_wipe(ch);
            atomic_store(&ch->state, CC_CHAMBER_SEALED);
            cc_state_record copy;
            int have_copy = record_copy(&copy, &won, NULL) == CC_OK;
            if (have_copy)
                record_take(ch, &copy);
            pthread_mutex_unlock(&ch->lock);
            cc_error e3;
            cc_status u = unseal_from(ch, &won, &e3);
            cc_state_record_clear(&won);
            cc_error_set(err, CC_ECONFLICT, "%s; this replica %s", first.msg,
                         u == CC_OK ? "unsealed from the stored shares" : "stays sealed (see its log)");
        }
        st = CC_ECONFLICT;
    }
    cc_state_record_clear(&rec);
out:
    cc_secret_free(master, CC_MASTER_KEY_LEN);
    pthread_mutex_unlock(&ch->op_lock);
    return st;
}

cc_status cc_chamber_check_setup_token(cc_chamber *ch, const char *setup_token, cc_error *err)
{
    pthread_mutex_lock(&ch->lock);
    /* operator quorum (issue 7): an unfinished quorum init this replica does not hold may be redone */
    int redo = cc_chamber_state(ch) == CC_CHAMBER_AWAITING_REGISTRATION && ch->token;
    cc_status st = cc_chamber_state(ch) != CC_CHAMBER_UNINITIALIZED && !redo
                       ? cc_error_set(err, CC_ECONFLICT, "the chamber is already initialised (state %s)",
                                      cc_chamber_state_name(cc_chamber_state(ch)))
                       : check_token(ch, setup_token, err);
    pthread_mutex_unlock(&ch->lock);
    return st;
}

const struct cc_dynamodb *cc_chamber_dynamodb(cc_chamber *ch) { return &ch->ddb; }
const char *cc_chamber_table(cc_chamber *ch) { return ch->table; }
unsigned cc_chamber_refresh_seconds(cc_chamber *ch) { return ch->refresh_seconds; }

cc_status cc_chamber_seal(cc_chamber *ch, cc_error *err)
{
    pthread_mutex_lock(&ch->lock);
    if (cc_chamber_state(ch) == CC_CHAMBER_UNINITIALIZED) {
        pthread_mutex_unlock(&ch->lock);
        return cc_error_set(err, CC_ECONFLICT, "the chamber is not initialised: nothing to seal");
    }
    ch->seal_gen++;
    ch->operator_sealed = 1;
    /* operator quorum (issue 7): kms_part and submissions go too; a pending initialisation is abandoned */
    int pending = cc_chamber_state(ch) == CC_CHAMBER_AWAITING_REGISTRATION;
    cc_quorum_session_wipe(ch->quorum, pending);
    if (pending && !ch->token && make_token(ch, NULL) == CC_OK)
        cc_log(CC_LOG_WARN, "chamber: sealed during registration, the initialisation is abandoned; run `operator "
               "init` again with this one-time setup token (shown once, never stored)", "setup_token", ch->token, NULL);
    pthread_rwlock_wrlock(&ch->key_lock);
    cc_secret_free(ch->master, CC_MASTER_KEY_LEN);
    ch->master = NULL;
    cc_secret_free(ch->old_master, CC_MASTER_KEY_LEN); /* rotation (issue 7) */
    ch->old_master = NULL;
    atomic_store(&ch->state, pending ? CC_CHAMBER_AWAITING_REGISTRATION : CC_CHAMBER_SEALED);
    for (size_t i = 0; i < ch->hook_count; i++)
        ch->hooks[i].fn(ch->hooks[i].arg);
    pthread_rwlock_unlock(&ch->key_lock);
    pthread_mutex_unlock(&ch->lock);
    cc_log(CC_LOG_WARN, "chamber sealed by an operator: master key wiped (this replica only)", NULL);
    return CC_OK;
}

cc_status cc_chamber_unseal(cc_chamber *ch, cc_error *err)
{
    pthread_mutex_lock(&ch->op_lock);
    pthread_mutex_lock(&ch->lock);
    cc_chamber_state_t s = cc_chamber_state(ch);
    cc_status st = CC_OK;
    cc_state_record copy;
    memset(&copy, 0, sizeof copy);
    if (s == CC_CHAMBER_UNINITIALIZED)
        st = cc_error_set(err, CC_ECONFLICT, "the chamber is not initialised");
    else if (s == CC_CHAMBER_SEALED && ch->have_record) {
        ch->operator_sealed = 0;
        st = record_copy(&copy, &ch->record, err);
    }
    pthread_mutex_unlock(&ch->lock);
    if (st == CC_OK && s == CC_CHAMBER_SEALED) {
        st = unseal_from(ch, &copy, err);
        pthread_mutex_lock(&ch->lock);
        ch->next_retry = st == CC_OK ? 0 : time(NULL) + RETRY_SECONDS;
        pthread_mutex_unlock(&ch->lock);
    }
    cc_state_record_clear(&copy);
    pthread_mutex_unlock(&ch->op_lock);
    return st;
}

json_t *cc_chamber_status_json(cc_chamber *ch)
{
    pthread_mutex_lock(&ch->lock);
    cc_chamber_state_t s = cc_chamber_state(ch);
    json_t *j = json_pack("{s:s, s:b}", "state", cc_chamber_state_name(s), "initialized",
                          s != CC_CHAMBER_UNINITIALIZED);
    if (j && ch->have_record) {
        json_t *arns = json_array();
        for (unsigned i = 0; arns && i < ch->record.share_count; i++)
            json_array_append_new(arns, json_string(ch->record.shares[i].kms_key_arn));
        json_object_set_new(j, "mode", json_string(ch->record.mode));
        json_object_set_new(j, "threshold", json_integer(ch->record.threshold));
        json_object_set_new(j, "kms_key_arns", arns ? arns : json_array());
        json_object_set_new(j, "version", json_integer(ch->record.version));
        json_object_set_new(j, "created_at", json_string(ch->record.created_at));
        json_object_set_new(j, "updated_at", json_string(ch->record.updated_at));
        json_object_set_new(j, "sealed_by_operator", json_boolean(s == CC_CHAMBER_SEALED && ch->operator_sealed));
    }
    if (j && ch->have_record && quorum_mode(&ch->record)) { /* operator quorum (issue 7): never a secret */
        cc_quorum_status(&ch->record.quorum, j);
        cc_quorum_session_status(ch->quorum, ch->quorum_timeout_seconds, j);
        json_object_set_new(j, "unseal_timeout_seconds", json_integer(ch->quorum_timeout_seconds));
        json_object_set_new(j, "holds_pending_registration",
                            json_boolean(cc_quorum_session_pending_for(ch->quorum, ch->record.quorum.init_id)));
    }
    if (j)
        json_object_set_new(j, "can_sign", json_boolean(s == CC_CHAMBER_UNSEALED || s == CC_CHAMBER_AWAITING_ROTATION));
    if (j && ch->have_record)
        cc_rotate_status_json(ch->rot, j); /* rotation (issue 7) */
    pthread_mutex_unlock(&ch->lock);
    return j;
}

cc_status cc_chamber_on_seal(cc_chamber *ch, void (*fn)(void *arg), void *arg, cc_error *err)
{
    pthread_mutex_lock(&ch->lock);
    cc_status st = CC_OK;
    if (ch->hook_count >= MAX_HOOKS)
        st = cc_error_set(err, CC_EINTERNAL, "chamber: too many seal hooks");
    else
        ch->hooks[ch->hook_count++] = (seal_hook){fn, arg};
    pthread_mutex_unlock(&ch->lock);
    return st;
}

cc_status cc_chamber_with_master_key(cc_chamber *ch,
                                     cc_status (*fn)(void *arg, const uint8_t master[32], uint32_t version),
                                     void *arg, cc_error *err)
{
    pthread_rwlock_rdlock(&ch->key_lock);
    cc_status st;
    if (!ch->master)
        st = cc_error_set(err, CC_EUNAVAILABLE, "sealed");
    else
        st = fn(arg, ch->master, ch->version);
    pthread_rwlock_unlock(&ch->key_lock);
    return st;
}

/* ---------------------------------------------------------------- operator quorum (issue 7)
 *
 * The state-machine side of chamber/quorum.h; the crypto, tokens and item
 * attributes are in quorum.c, the held secrets in quorum_session.c.
 */

static int quorum_mode(const cc_state_record *rec)
{
    return strcmp(rec->mode, "quorum") == 0;
}

/* The check a KMS-rebuilt secret must pass: the master key's, or kms_part's in quorum mode. */
static int quorum_secret_ok(const cc_state_record *rec, const uint8_t *cand)
{
    if (quorum_mode(rec))
        return cc_quorum_kms_verify(cand, rec->version, rec->quorum.kms_check, NULL) == CC_OK;
    return cc_master_verify(cand, rec->version, rec->check, NULL) == CC_OK;
}

/* sealed → kms_unsealed: KMS rebuilds kms_part, which waits in the session for the operators.  op_lock held. */
static cc_status quorum_kms_stage(cc_chamber *ch, const cc_state_record *rec, cc_error *err)
{
    if (!rec->quorum.complete)
        return cc_error_set(err, CC_EUNAVAILABLE, "operator quorum: registration is not complete");
    pthread_mutex_lock(&ch->lock);
    unsigned long gen = ch->seal_gen;
    pthread_mutex_unlock(&ch->lock);
    uint8_t *kms_part = cc_secret_alloc(CC_QUORUM_PART_LEN);
    if (!kms_part)
        return cc_error_set(err, CC_ENOMEM, "out of memory");
    cc_status st = kms_unseal(ch, rec, kms_part, err);
    if (st == CC_OK) {
        pthread_mutex_lock(&ch->lock);
        if (ch->seal_gen == gen && cc_chamber_state(ch) == CC_CHAMBER_SEALED) {
            cc_quorum_session_set_kms_part(ch->quorum, kms_part);
            atomic_store(&ch->state, CC_CHAMBER_KMS_UNSEALED);
            char t[16];
            snprintf(t, sizeof t, "%u", rec->quorum.threshold);
            cc_log(CC_LOG_INFO, "chamber kms_unsealed: waiting for operator unseal submissions", "mode", "quorum",
                   "operator_threshold", t, NULL);
        } else {
            st = cc_error_set(err, CC_EUNAVAILABLE, "sealed while unsealing; the KMS part was discarded");
        }
        pthread_mutex_unlock(&ch->lock);
    }
    cc_secret_free(kms_part, CC_QUORUM_PART_LEN);
    return st;
}

/* One poll round's quorum transitions (under lock); returns the state to continue with. */
static cc_chamber_state_t quorum_poll(cc_chamber *ch, const cc_state_record *rec, cc_chamber_state_t s)
{
    if (!quorum_mode(rec)) {
        if (s == CC_CHAMBER_KMS_UNSEALED) { /* rotation (issue 7): moved to KMS-only (rotate mode) meanwhile */
            cc_quorum_session_wipe(ch->quorum, 0);
            atomic_store(&ch->state, CC_CHAMBER_SEALED);
            ch->next_retry = 0;
            ch->operator_sealed = 0;
            cc_log(CC_LOG_INFO, "chamber: the chamber moved to KMS-only mode; unsealing with KMS", NULL);
            return CC_CHAMBER_SEALED;
        }
        return s;
    }
    const cc_quorum_record *q = &rec->quorum;
    int ours = cc_quorum_session_pending_for(ch->quorum, q->init_id);
    if (!q->complete) {
        if (ours || (s != CC_CHAMBER_UNINITIALIZED && s != CC_CHAMBER_AWAITING_REGISTRATION))
            return s;
        if (s == CC_CHAMBER_AWAITING_REGISTRATION && ch->have_record && quorum_mode(&ch->record) &&
            strcmp(ch->record.quorum.init_id, q->init_id) != 0 &&
            cc_quorum_session_pending_for(ch->quorum, ch->record.quorum.init_id)) {
            cc_quorum_session_wipe(ch->quorum, 1);
            cc_log(CC_LOG_WARN, "chamber: the initialisation this replica held was replaced by another one; its "
                   "operator part is wiped", NULL);
        }
        atomic_store(&ch->state, CC_CHAMBER_AWAITING_REGISTRATION);
        if (!ch->token && make_token(ch, NULL) == CC_OK)
            cc_log(CC_LOG_WARN, "chamber: an operator-quorum initialisation awaits registration on another process; if "
                   "that process is gone, run `operator init` again with this one-time setup token (shown once, never "
                   "stored)", "setup_token", ch->token, NULL);
        return CC_CHAMBER_AWAITING_REGISTRATION;
    }
    if (s == CC_CHAMBER_AWAITING_REGISTRATION && !ours) {
        token_wipe(ch);
        atomic_store(&ch->state, CC_CHAMBER_SEALED);
        ch->next_retry = 0;
        ch->operator_sealed = 0;
        cc_log(CC_LOG_INFO, "chamber: operator registration completed elsewhere; unsealing the KMS part", NULL);
        return CC_CHAMBER_SEALED;
    }
    if (s == CC_CHAMBER_KMS_UNSEALED) {
        unsigned n = cc_quorum_session_expire(ch->quorum, ch->quorum_timeout_seconds);
        if (n) {
            char c[16], t[16];
            snprintf(c, sizeof c, "%u", n);
            snprintf(t, sizeof t, "%u", ch->quorum_timeout_seconds);
            cc_log(CC_LOG_WARN, "chamber: operator unseal submissions expired and were discarded", "discarded", c,
                   "unseal_timeout_seconds", t, NULL);
        }
    }
    return s;
}

/* Writes the quorum item r: fresh (no item), over an unfinished init prev_id, or as revision prev_rev + 1. */
static cc_status quorum_put(cc_chamber *ch, const cc_state_record *r, const char *prev_id, uint32_t prev_rev,
                            int reinit, cc_error *err)
{
    if (!prev_id)
        return cc_state_put_initial(&ch->ddb, ch->table, r, err);
    json_t *item = NULL;
    cc_status st = cc_state_record_to_item(r, &item, err);
    if (st != CC_OK)
        return st;
    char rev[16];
    snprintf(rev, sizeof rev, "%u", (unsigned)prev_rev);
    json_t *values = reinit ? json_pack("{s:{s:s}, s:{s:b}}", ":id", "S", prev_id, ":f", "BOOL", 0)
                            : json_pack("{s:{s:s}, s:{s:s}}", ":id", "S", prev_id, ":r", "N", rev);
    const char *cond = reinit ? "q_init_id = :id AND q_complete = :f" : "q_init_id = :id AND q_revision = :r";
    st = values ? cc_dynamodb_put_item(&ch->ddb, ch->table, item, cond, NULL, values, NULL, err)
                : cc_error_set(err, CC_ENOMEM, "out of memory");
    json_decref(item);
    json_decref(values);
    if (st == CC_ECONFLICT)
        return cc_error_set(err, CC_ECONFLICT, "the signer state in table %s was changed by another replica "
                            "meanwhile; check `operator status`", ch->table);
    return st;
}

cc_status cc_chamber_init_quorum(cc_chamber *ch, const char *setup_token, const char *const *kms_key_arns, size_t n,
                                 unsigned kms_threshold, const cc_chamber_quorum_params *qp, json_t **tokens,
                                 cc_error *err)
{
    *tokens = NULL;
    pthread_mutex_lock(&ch->op_lock);
    pthread_mutex_lock(&ch->lock);
    cc_chamber_state_t s = cc_chamber_state(ch);
    int redo = s == CC_CHAMBER_AWAITING_REGISTRATION && ch->token && ch->have_record && quorum_mode(&ch->record);
    char prev_id[CC_QUORUM_INIT_ID_LEN + 1] = "";
    if (redo)
        memcpy(prev_id, ch->record.quorum.init_id, sizeof prev_id);
    cc_status st = s != CC_CHAMBER_UNINITIALIZED && !redo
                       ? cc_error_set(err, CC_ECONFLICT, "the chamber is already initialised (state %s)",
                                      cc_chamber_state_name(s))
                       : check_token(ch, setup_token, err);
    pthread_mutex_unlock(&ch->lock);
    if (st == CC_OK)
        st = cc_state_check_arns(kms_key_arns, n, kms_threshold, err);
    if (st != CC_OK) {
        pthread_mutex_unlock(&ch->op_lock);
        return st;
    }
    size_t k = qp->count, tok_cap = CC_QUORUM_MAX_OPERATORS * (CC_QUORUM_TOKEN_LEN + 1);
    size_t sh_cap = CC_QUORUM_MAX_OPERATORS * CC_QUORUM_PART_LEN;
    uint8_t *kms_part = cc_secret_alloc(CC_QUORUM_PART_LEN), *op_part = cc_secret_alloc(CC_QUORUM_PART_LEN);
    uint8_t *master = cc_secret_alloc(CC_MASTER_KEY_LEN), *shares = cc_secret_alloc(sh_cap);
    char *toks = cc_secret_alloc(tok_cap);
    cc_state_record *rec = calloc(1, sizeof *rec);
    if (!kms_part || !op_part || !master || !shares || !toks || !rec) {
        st = cc_error_set(err, CC_ENOMEM, "out of memory");
        goto out;
    }
    /* build_record makes a random secret and wraps its M-of-N shares: that secret is kms_part. */
    if ((st = build_record(ch, kms_key_arns, n, kms_threshold, kms_part, rec, err)) != CC_OK)
        goto out;
    snprintf(rec->mode, sizeof rec->mode, "quorum");
    if ((st = cc_quorum_setup(&rec->quorum, qp->operators, k, qp->threshold, &qp->kdf, kms_part, rec->version, toks,
                              err)) != CC_OK ||
        (st = cc_master_generate(op_part, err)) != CC_OK ||
        (st = cc_quorum_derive_master(kms_part, op_part, rec->version, master, err)) != CC_OK ||
        (st = cc_master_check(master, rec->version, rec->check, err)) != CC_OK ||
        (st = cc_shamir_split(op_part, CC_QUORUM_PART_LEN, qp->threshold, (unsigned)k, shares, err)) != CC_OK)
        goto out;
    cc_secret_wipe(op_part, CC_QUORUM_PART_LEN); /* from here on only the K shares exist */
    if ((st = cc_quorum_session_hold_pending(ch->quorum, rec->quorum.init_id, shares, (unsigned)k, master, err)) !=
        CC_OK)
        goto out;
    cc_quorum_session_hold_pending_kms_part(ch->quorum, rec->quorum.init_id, kms_part); /* rotation (issue 7) */
    st = quorum_put(ch, rec, redo ? prev_id : NULL, 0, 1, err);
    if (st != CC_OK) {
        cc_quorum_session_wipe(ch->quorum, 1);
        goto out;
    }
    json_t *answer = json_object();
    for (size_t i = 0; answer && i < k; i++)
        json_object_set_new(answer, rec->quorum.ops[i].name, json_string(toks + i * (CC_QUORUM_TOKEN_LEN + 1)));
    *tokens = answer;
    pthread_mutex_lock(&ch->lock);
    token_wipe(ch);
    cc_state_record copy;
    if (record_copy(&copy, rec, NULL) == CC_OK)
        record_take(ch, &copy);
    atomic_store(&ch->state, CC_CHAMBER_AWAITING_REGISTRATION);
    pthread_mutex_unlock(&ch->lock);
    char t[16], kk[16], mt[16], nn[16];
    snprintf(t, sizeof t, "%u", qp->threshold);
    snprintf(kk, sizeof kk, "%zu", k);
    snprintf(mt, sizeof mt, "%u", kms_threshold);
    snprintf(nn, sizeof nn, "%zu", n);
    cc_log(CC_LOG_INFO, "chamber initialised: awaiting operator registration", "mode", "quorum", "version", "1",
           "kms_threshold", mt, "kms_keys", nn, "operator_threshold", t, "operators", kk, "replaced_init",
           redo ? prev_id : NULL, NULL);
out:
    if (rec) {
        cc_state_record_clear(rec);
        free(rec);
    }
    cc_secret_free(kms_part, CC_QUORUM_PART_LEN);
    cc_secret_free(op_part, CC_QUORUM_PART_LEN);
    cc_secret_free(master, CC_MASTER_KEY_LEN);
    cc_secret_free(shares, sh_cap);
    cc_secret_free(toks, tok_cap);
    pthread_mutex_unlock(&ch->op_lock);
    return st;
}

cc_status cc_chamber_register(cc_chamber *ch, const char *registration_token, cc_quorum_kind kind,
                              const uint8_t *secret, size_t len, char name[CC_QUORUM_NAME_MAX + 1], cc_error *err)
{
    name[0] = '\0';
    /* rotation (issue 7): a registration token of a `rotate quorum` held by this replica (chamber/rotate_quorum.c) */
    if (cc_rotate_quorum_owns_token(ch->rot, registration_token))
        return cc_rotate_quorum_register(ch, registration_token, kind, secret, len, name, err);
    pthread_mutex_lock(&ch->op_lock);
    cc_state_record *rec = calloc(1, sizeof *rec);
    uint8_t *share = cc_secret_alloc(CC_QUORUM_PART_LEN), *master = cc_secret_alloc(CC_MASTER_KEY_LEN);
    cc_status st = rec && share && master ? CC_OK : cc_error_set(err, CC_ENOMEM, "out of memory");
    pthread_mutex_lock(&ch->lock);
    unsigned long gen = ch->seal_gen;
    if (st == CC_OK && (cc_chamber_state(ch) != CC_CHAMBER_AWAITING_REGISTRATION || !ch->have_record ||
                        !quorum_mode(&ch->record)))
        st = cc_error_set(err, CC_ECONFLICT, "registration_token: the chamber is not awaiting operator registration "
                          "(state %s)", cc_chamber_state_name(cc_chamber_state(ch)));
    pthread_mutex_unlock(&ch->lock);
    /* The item as it is now (consistent read): the poller's copy may be a round behind. */
    int found = 0;
    if (st == CC_OK && (st = cc_state_load(&ch->ddb, ch->table, rec, &found, err)) == CC_OK &&
        (!found || !quorum_mode(rec) || rec->quorum.complete))
        st = cc_error_set(err, CC_ECONFLICT, "registration_token: the chamber is not awaiting operator registration");
    int idx = st == CC_OK ? cc_quorum_find_token(&rec->quorum, registration_token) : -1;
    if (st == CC_OK && idx < 0)
        st = cc_error_set(err, CC_EFORBIDDEN, "registration_token: not a registration token of this initialisation");
    cc_quorum_operator *op = idx >= 0 ? &rec->quorum.ops[idx] : NULL;
    if (op)
        snprintf(name, CC_QUORUM_NAME_MAX + 1, "%s", op->name);
    if (st == CC_OK && op->registered)
        st = cc_error_set(err, CC_ECONFLICT, "registration_token: already used (operator %s is registered)", op->name);
    if (st == CC_OK &&
        cc_quorum_session_pending_share(ch->quorum, rec->quorum.init_id, op->index, share, NULL) != CC_OK)
        st = cc_error_set(err, CC_EUNAVAILABLE, "this replica does not hold the pending initialisation (it was run by "
                          "another replica, or before a restart or a seal): register with the replica that ran init, "
                          "or run init again");
    if (st == CC_OK)
        st = cc_quorum_register(op, rec->version, kind, &rec->quorum.kdf, secret, len, share, err);
    int complete = 0;
    if (st == CC_OK) {
        uint32_t prev = rec->quorum.revision;
        rec->quorum.revision++;
        complete = 1;
        for (unsigned i = 0; i < rec->quorum.count; i++)
            complete &= rec->quorum.ops[i].registered;
        rec->quorum.complete = complete;
        cc_state_now(rec->updated_at);
        st = quorum_put(ch, rec, rec->quorum.init_id, prev, 0, err);
    }
    if (st == CC_OK) {
        if (complete)
            st = cc_quorum_session_pending_master(ch->quorum, rec->quorum.init_id, master, err);
        pthread_mutex_lock(&ch->lock);
        cc_state_record copy;
        if (record_copy(&copy, rec, NULL) == CC_OK)
            record_take(ch, &copy);
        pthread_mutex_unlock(&ch->lock);
        char r[16], k[16];
        unsigned done = 0;
        for (unsigned i = 0; i < rec->quorum.count; i++)
            done += rec->quorum.ops[i].registered != 0;
        snprintf(r, sizeof r, "%u", done);
        snprintf(k, sizeof k, "%u", rec->quorum.count);
        cc_log(CC_LOG_INFO, "chamber: operator registered", "operator", op->name, "kind", cc_quorum_kind_name(kind),
               "registered", r, "operators", k, NULL);
        int installed = 0; /* rotation (issue 7): the parts are kept while unsealed */
        if (complete && st == CC_OK) {
            if ((installed = install_master(ch, master, rec->version, gen)))
                cc_log(CC_LOG_INFO, "chamber unsealed: every operator registered", "mode", "quorum", NULL);
            else
                cc_log(CC_LOG_WARN, "chamber: sealed during registration; stays sealed", NULL);
        }
        if (complete) /* the operator part's shares are gone: only the sealed shares remain */
            cc_quorum_session_finish_registration(ch->quorum, rec->quorum.init_id, rec->quorum.threshold,
                                                  rec->version, installed);
    }
    if (rec) {
        cc_state_record_clear(rec);
        free(rec);
    }
    cc_secret_free(share, CC_QUORUM_PART_LEN);
    cc_secret_free(master, CC_MASTER_KEY_LEN);
    pthread_mutex_unlock(&ch->op_lock);
    return st;
}

cc_status cc_chamber_unseal_submit(cc_chamber *ch, const char *operator_name, const uint8_t *secret, size_t len,
                                   cc_error *err)
{
    pthread_mutex_lock(&ch->lock);
    cc_chamber_state_t s = cc_chamber_state(ch);
    int quorum = ch->have_record && quorum_mode(&ch->record);
    pthread_mutex_unlock(&ch->lock);
    if (!quorum)
        return cc_error_set(err, CC_ECONFLICT, "operator: the chamber is not in operator-quorum mode (unseal takes no "
                            "body)");
    if (s == CC_CHAMBER_SEALED) { /* run the KMS stage first */
        cc_status st = cc_chamber_unseal(ch, err);
        if (st != CC_OK)
            return st;
        s = cc_chamber_state(ch);
    }
    if (s != CC_CHAMBER_KMS_UNSEALED)
        return cc_error_set(err, CC_ECONFLICT, "operator: nothing to submit in state %s", cc_chamber_state_name(s));
    cc_quorum_record *q = malloc(sizeof *q);
    uint8_t *master = cc_secret_alloc(CC_MASTER_KEY_LEN);
    if (!q || !master) {
        free(q);
        cc_secret_free(master, CC_MASTER_KEY_LEN);
        return cc_error_set(err, CC_ENOMEM, "out of memory");
    }
    uint8_t check[CC_MASTER_CHECK_LEN];
    pthread_mutex_lock(&ch->lock);
    *q = ch->record.quorum;
    uint32_t version = ch->record.version;
    memcpy(check, ch->record.check, sizeof check);
    unsigned long gen = ch->seal_gen;
    pthread_mutex_unlock(&ch->lock);
    int complete = 0;
    cc_status st = cc_quorum_session_submit(ch->quorum, q, version, check, operator_name, secret, len,
                                            ch->quorum_timeout_seconds, master, &complete, err);
    char t[16];
    snprintf(t, sizeof t, "%u", q->threshold);
    if (st != CC_OK) {
        cc_log(st == CC_EFORBIDDEN ? CC_LOG_WARN : CC_LOG_INFO, "chamber: operator unseal submission refused",
               "operator", cc_quorum_find_operator(q, operator_name) >= 0 ? operator_name : "(unknown)", "reason",
               err ? err->msg : cc_status_str(st), NULL);
    } else if (complete) {
        if (install_master(ch, master, version, gen)) {
            cc_log(CC_LOG_INFO, "chamber unsealed", "mode", "quorum", "operator", operator_name, "operator_threshold",
                   t, NULL);
            cc_rotate_after_install(ch->rot, gen); /* rotation (issue 7): resumes a rotation in flight (rotate mode) */
        } else
            st = cc_error_set(err, CC_EUNAVAILABLE, "sealed by an operator while unsealing; the key was discarded");
    } else {
        cc_log(CC_LOG_INFO, "chamber: operator unseal submission accepted", "operator", operator_name,
               "operator_threshold", t, NULL);
    }
    free(q);
    cc_secret_free(master, CC_MASTER_KEY_LEN);
    return st;
}
/* ---------------------------------------------------------------- end operator quorum */

/* ---- rotation (issue 7 parts 3-4): what chamber/rotate.c needs from the chamber (rotate.h) ---- */

cc_rotation *cc_chamber_rotation(cc_chamber *ch) { return ch->rot; }
cc_quorum_session *cc_chamber_quorum_session(cc_chamber *ch) { return ch->quorum; }
const cc_kms *cc_chamber_kms(cc_chamber *ch) { return &ch->kms; }

unsigned long cc_chamber_seal_gen(cc_chamber *ch)
{
    pthread_mutex_lock(&ch->lock);
    unsigned long g = ch->seal_gen;
    pthread_mutex_unlock(&ch->lock);
    return g;
}

cc_status cc_chamber_rebuild_master(cc_chamber *ch, const cc_state_record *rec, uint8_t master[32], cc_error *err)
{
    if (quorum_mode(rec)) /* KMS alone yields kms_part there: never hand it out as a master key */
        return cc_error_set(err, CC_EINVAL, "a master key of mode quorum (version %u) cannot be rebuilt with KMS alone",
                            (unsigned)rec->version);
    return kms_unseal(ch, rec, master, err);
}

cc_status cc_chamber_rebuild_kms_part(cc_chamber *ch, const cc_state_record *rec, uint8_t kms_part[32], cc_error *err)
{
    if (!quorum_mode(rec))
        return cc_error_set(err, CC_EINVAL, "kms_part: the record is not of mode quorum");
    return kms_unseal(ch, rec, kms_part, err);
}

int cc_chamber_hold_master(cc_chamber *ch, const uint8_t key[32], uint32_t version, unsigned long gen)
{
    pthread_mutex_lock(&ch->lock);
    int ok = ch->seal_gen == gen;
    if (ok) {
        pthread_rwlock_wrlock(&ch->key_lock);
        if (!ch->master) {
            ok = 0;
        } else if (version != ch->version && !(ch->old_master && version == ch->old_version)) {
            uint8_t *k = cc_secret_alloc(CC_MASTER_KEY_LEN);
            if (!k) {
                ok = 0;
            } else {
                memcpy(k, key, CC_MASTER_KEY_LEN);
                cc_secret_free(ch->old_master, CC_MASTER_KEY_LEN);
                if (version > ch->version) { /* the newer one is handed out; the current one stays for old records */
                    ch->old_master = ch->master;
                    ch->old_version = ch->version;
                    ch->master = k;
                    ch->version = version;
                } else {
                    ch->old_master = k;
                    ch->old_version = version;
                }
            }
        }
        pthread_rwlock_unlock(&ch->key_lock);
    }
    pthread_mutex_unlock(&ch->lock);
    return ok;
}

void cc_chamber_release_master(cc_chamber *ch, uint32_t version)
{
    pthread_rwlock_wrlock(&ch->key_lock);
    if (ch->old_master && ch->old_version == version) {
        cc_secret_free(ch->old_master, CC_MASTER_KEY_LEN);
        ch->old_master = NULL;
        ch->old_version = 0;
    }
    pthread_rwlock_unlock(&ch->key_lock);
}

static const uint8_t *held_key(cc_chamber *ch, uint32_t version) /* under key_lock */
{
    if (ch->master && ch->version == version)
        return ch->master;
    if (ch->old_master && ch->old_version == version)
        return ch->old_master;
    return NULL;
}

int cc_chamber_holds_version(cc_chamber *ch, uint32_t version)
{
    pthread_rwlock_rdlock(&ch->key_lock);
    int held = held_key(ch, version) != NULL;
    pthread_rwlock_unlock(&ch->key_lock);
    return held;
}

cc_status cc_chamber_with_master_pair(cc_chamber *ch, uint32_t va, uint32_t vb,
                                      cc_status (*fn)(void *arg, const uint8_t *ka, const uint8_t *kb), void *arg,
                                      cc_error *err)
{
    pthread_rwlock_rdlock(&ch->key_lock);
    const uint8_t *ka = held_key(ch, va), *kb = held_key(ch, vb);
    cc_status st = ka && kb ? fn(arg, ka, kb)
                            : cc_error_set(err, CC_EUNAVAILABLE, "master-key version %u is not held (sealed?)",
                                           (unsigned)(ka ? vb : va));
    pthread_rwlock_unlock(&ch->key_lock);
    return st;
}

const uint8_t *cc_chamber_other_master_locked(cc_chamber *ch, uint32_t *version)
{
    *version = ch->old_master ? ch->old_version : 0;
    return ch->old_master;
}

void cc_chamber_set_rotating(cc_chamber *ch, int on)
{
    int from = on ? CC_CHAMBER_UNSEALED : CC_CHAMBER_AWAITING_ROTATION;
    atomic_compare_exchange_strong(&ch->state, &from, on ? CC_CHAMBER_AWAITING_ROTATION : CC_CHAMBER_UNSEALED);
}

void cc_chamber_replace_record(cc_chamber *ch, const cc_state_record *rec)
{
    cc_state_record copy;
    if (record_copy(&copy, rec, NULL) != CC_OK)
        return;
    pthread_mutex_lock(&ch->lock);
    record_take(ch, &copy);
    pthread_mutex_unlock(&ch->lock);
}
/* ---- end rotation ---- */
