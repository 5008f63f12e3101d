/*
 * rotate_quorum.c — `rotate quorum` (alias `rotate unseal`): a new operator
 * set / threshold for the SAME master key (rotate.h; docs/chamber.md
 * "Rotation").
 *
 * master = HKDF(kms_part ‖ operator_part) (chamber/quorum.h), so the same
 * master needs the same operator_part: an unsealed quorum replica holds both
 * parts (quorum_session.h, wiped by a seal).  A rotation:
 *
 *   start     the held parts are checked (they must derive the master of the
 *             item's version and its check), operator_part is re-split T-of-K
 *             over the new operators (checked split), K one-time
 *             registration tokens are made.  NOTHING is written: the new set,
 *             its tokens' hashes and the shares live only in this replica's
 *             memory (shares in cc_secret memory).  State awaiting_rotation.
 *   register  each new operator registers against this replica with its
 *             token (the ordinary `operator register`); its sealed share
 *             is kept in memory.  The old operators still unseal meanwhile.
 *   switch    when all K have registered: ONE conditional PutItem of the item
 *             as read, q_* replaced by the new set (q_revision + 1, same
 *             kms_check, a new q_init_id), `revision` bumped, everything
 *             else — `pending` included — carried over; conditional on
 *             revision, version and updated_at as read, after checking that
 *             the item still holds the operator set the rotation started from.
 *             A failed write is retried by the poller (the memory state stays).
 *
 * Abort: a seal (seal hook), a process restart, or a new `rotate quorum`
 * (which replaces the one in memory) drops the in-memory set: the item was
 * never touched, the old operators keep working, the new tokens are void.
 *
 * `rotate mode --to quorum` (end of this file) reuses the same in-memory set
 * and registration path for a KMS-only chamber, with a NEW master (v+1):
 * the last registration writes a master-rotation pending entry (to_mode
 * quorum, the new q_* set, next_wrapped) instead of switching q_*, and the
 * master rotation of rotate.c re-seals and promotes.
 *
 * Locks: q->reg serialises registrations (one Argon2id at a time); q->lock
 * guards the fields below and is a leaf (never held while calling the
 * chamber: the seal hook takes it under the chamber's locks).  The switch
 * takes rotate.c's state-item write lock.
 */
#include "chamber/rotate.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aws/dynamodb.h"
#include "chamber/master.h"
#include "chamber/quorum_session.h"
#include "util/log.h"
#include "util/secret.h"

#define SWITCH_RETRY_SECONDS 10

struct cc_quorum_rotation {
    cc_chamber *ch;
    pthread_mutex_t reg;  /* one registration at a time */
    pthread_mutex_t lock; /* everything below; a leaf */
    int active;
    unsigned long id;           /* bumped by every start / drop: a registration that saw it move is void */
    unsigned long gen;          /* the chamber's seal generation at start */
    cc_quorum_record *next;     /* the new set (public metadata + sealed shares as registered) */
    uint8_t *shares;            /* K × 32, cc_secret memory: the new split of operator_part */
    unsigned k;
    uint32_t version;           /* master version the rotation is for */
    char base_init_id[CC_QUORUM_INIT_ID_LEN + 1]; /* the operator set it replaces */
    char started_at[32];
    time_t switch_retry;
    char last_error[CC_ERROR_MSG_MAX];
    char last_result[64];
    /* rotate mode --to quorum: a NEW master (version = from_version + 1) whose pending entry waits for the registrations */
    int to_quorum;
    uint32_t from_version;   /* the KMS-only master it replaces */
    cc_state_record *pend;   /* the pending record: kms_part' shares (KMS-wrapped), check of master' */
    uint8_t *new_master;     /* master' = HKDF(kms_part' ‖ operator_part'), cc_secret memory */
};

/* Under q->lock. */
static void drop_locked(cc_quorum_rotation *q)
{
    if (q->shares)
        cc_secret_free(q->shares, (size_t)q->k * CC_QUORUM_PART_LEN);
    if (q->next) {
        cc_secret_wipe(q->next, sizeof *q->next);
        free(q->next);
    }
    q->shares = NULL;
    q->next = NULL;
    q->k = 0;
    q->active = 0;
    q->id++;
    if (q->pend) { /* rotate mode --to quorum */
        cc_state_record_clear(q->pend);
        cc_secret_wipe(q->pend, sizeof *q->pend);
        free(q->pend);
        q->pend = NULL;
    }
    cc_secret_free(q->new_master, CC_MASTER_KEY_LEN);
    q->new_master = NULL;
    q->to_quorum = 0;
}

static void on_seal(void *arg) /* under the chamber's locks: q->lock only */
{
    cc_quorum_rotation *q = arg;
    pthread_mutex_lock(&q->lock);
    if (q->active) {
        drop_locked(q);
        snprintf(q->last_result, sizeof q->last_result, "aborted: sealed");
    }
    pthread_mutex_unlock(&q->lock);
}

cc_status cc_quorum_rotation_new(cc_chamber *ch, cc_quorum_rotation **out, cc_error *err)
{
    *out = NULL;
    cc_quorum_rotation *q = calloc(1, sizeof *q);
    if (!q)
        return cc_error_set(err, CC_ENOMEM, "out of memory");
    q->ch = ch;
    pthread_mutex_init(&q->reg, NULL);
    pthread_mutex_init(&q->lock, NULL);
    cc_status st = cc_chamber_on_seal(ch, on_seal, q, err);
    if (st != CC_OK) {
        pthread_mutex_destroy(&q->reg);
        pthread_mutex_destroy(&q->lock);
        free(q);
        return st;
    }
    *out = q;
    return CC_OK;
}

void cc_quorum_rotation_free(cc_quorum_rotation *q)
{
    if (!q)
        return;
    pthread_mutex_lock(&q->lock);
    drop_locked(q);
    pthread_mutex_unlock(&q->lock);
    pthread_mutex_destroy(&q->reg);
    pthread_mutex_destroy(&q->lock);
    free(q);
}

int cc_quorum_rotation_active(cc_quorum_rotation *q)
{
    if (!q)
        return 0;
    pthread_mutex_lock(&q->lock);
    int a = q->active;
    pthread_mutex_unlock(&q->lock);
    return a;
}

static unsigned registered_count(const cc_quorum_record *r)
{
    unsigned n = 0;
    for (unsigned i = 0; i < r->count; i++)
        n += r->ops[i].registered != 0;
    return n;
}

void cc_quorum_rotation_status(cc_quorum_rotation *q, json_t *rotation)
{
    if (!q || !rotation)
        return;
    pthread_mutex_lock(&q->lock);
    json_t *j = json_object();
    if (j) {
        json_object_set_new(j, "active", json_boolean(q->active));
        if (q->active && q->next) {
            json_t *ops = json_array();
            for (unsigned i = 0; ops && i < q->next->count; i++)
                json_array_append_new(ops, json_pack("{s:s, s:b}", "name", q->next->ops[i].name, "registered",
                                                     q->next->ops[i].registered));
            json_object_set_new(j, "operators", ops ? ops : json_null());
            json_object_set_new(j, "operator_threshold", json_integer(q->next->threshold));
            json_object_set_new(j, "registered", json_integer(registered_count(q->next)));
            json_object_set_new(j, "started_at", json_string(q->started_at));
            if (q->to_quorum) /* rotate mode --to quorum: the pending entry is written after the last registration */
                json_object_set_new(j, "to_mode", json_string("quorum"));
        }
        if (q->last_result[0])
            json_object_set_new(j, "last_result", json_string(q->last_result));
        if (q->last_error[0])
            json_object_set_new(j, "last_error", json_string(q->last_error));
        json_object_set_new(rotation, "quorum", j);
    }
    pthread_mutex_unlock(&q->lock);
}

/* The state item as it is now (consistent read): raw item and parsed record. */
static cc_status read_state(cc_chamber *ch, json_t **item, cc_state_record *rec, cc_error *err)
{
    *item = NULL;
    memset(rec, 0, sizeof *rec);
    json_t *key = json_pack("{s:{s:s}}", "pk", "S", CC_STATE_PK);
    if (!key)
        return cc_error_set(err, CC_ENOMEM, "out of memory");
    cc_status st = cc_dynamodb_get_item(cc_chamber_dynamodb(ch), cc_chamber_table(ch), key, 1, item, err);
    json_decref(key);
    if (st != CC_OK)
        return st;
    if (!*item)
        return cc_error_set(err, CC_ENOTFOUND, "signer state table %s: no state item", cc_chamber_table(ch));
    if ((st = cc_state_record_from_item(*item, rec, err)) != CC_OK) {
        json_decref(*item);
        *item = NULL;
        return cc_error_prefix(err, "signer state table %s", cc_chamber_table(ch));
    }
    return CC_OK;
}

/* ---------------------------------------------------------------- start */

cc_status cc_chamber_rotate_quorum(cc_chamber *ch, const char *const *names, size_t k, unsigned threshold,
                                   const cc_quorum_kdf *kdf, json_t **tokens, cc_error *err)
{
    *tokens = NULL;
    cc_rotation *rot = cc_chamber_rotation(ch);
    cc_quorum_rotation *q = rot ? cc_rotate_quorum_state(rot) : NULL;
    cc_chamber_state_t s = cc_chamber_state(ch);
    if (!q)
        return cc_error_set(err, CC_EUNAVAILABLE, "rotate quorum: no signer state table");
    pthread_mutex_lock(&q->lock);
    int ours = q->active;
    pthread_mutex_unlock(&q->lock);
    if (s != CC_CHAMBER_UNSEALED && !(s == CC_CHAMBER_AWAITING_ROTATION && ours))
        return cc_error_set(err, cc_chamber_can_sign(ch) ? CC_ECONFLICT : CC_EUNAVAILABLE,
                            "rotate quorum: the chamber must be unsealed with no other rotation running (state %s)",
                            cc_chamber_state_name(s));
    if (!cc_rotate_op_trylock(rot))
        return cc_error_set(err, CC_ECONFLICT, "rotate quorum: another rotation is writing the state item");
    cc_status st = CC_OK;
    json_t *item = NULL, *answer = NULL;
    cc_state_record rec;
    memset(&rec, 0, sizeof rec);
    size_t tok_cap = CC_QUORUM_MAX_OPERATORS * (CC_QUORUM_TOKEN_LEN + 1);
    uint8_t *kms_part = cc_secret_alloc(CC_QUORUM_PART_LEN), *op_part = cc_secret_alloc(CC_QUORUM_PART_LEN);
    uint8_t *master = cc_secret_alloc(CC_MASTER_KEY_LEN);
    uint8_t *shares = cc_secret_alloc((size_t)CC_QUORUM_MAX_OPERATORS * CC_QUORUM_PART_LEN);
    char *toks = cc_secret_alloc(tok_cap);
    cc_quorum_record *next = calloc(1, sizeof *next);
    unsigned long gen = cc_chamber_seal_gen(ch);
    if (!kms_part || !op_part || !master || !shares || !toks || !next) {
        st = cc_error_set(err, CC_ENOMEM, "out of memory");
        goto out;
    }
    if (cc_rotate_master_busy(rot)) {
        st = cc_error_set(err, CC_ECONFLICT, "rotate quorum: a master-key rotation is pending or running");
        goto out;
    }
    if ((st = read_state(ch, &item, &rec, err)) != CC_OK)
        goto out;
    if (strcmp(rec.mode, "quorum") != 0 || !rec.quorum.complete) {
        st = cc_error_set(err, CC_ECONFLICT, "rotate quorum: the chamber is in mode \"%s\"%s; rotate quorum needs a "
                          "complete operator-quorum chamber (rotate mode changes the mode)", rec.mode,
                          strcmp(rec.mode, "quorum") == 0 ? " (registration incomplete)" : "");
        goto out;
    }
    if (json_object_get(item, "pending")) {
        st = cc_error_set(err, CC_ECONFLICT, "rotate quorum: a master-key rotation is pending in the table");
        goto out;
    }
    /* The held parts must be the ones of the item's master key: a wrong operator_part would lock the keys out. */
    if ((st = cc_quorum_session_parts(cc_chamber_quorum_session(ch), rec.version, kms_part, op_part, err)) != CC_OK ||
        (st = cc_quorum_kms_verify(kms_part, rec.version, rec.quorum.kms_check, err)) != CC_OK ||
        (st = cc_quorum_derive_master(kms_part, op_part, rec.version, master, err)) != CC_OK ||
        (st = cc_master_verify(master, rec.version, rec.check, err)) != CC_OK) {
        cc_error_prefix(err, "rotate quorum: the held parts do not rebuild the master key of version %u",
                        (unsigned)rec.version);
        goto out;
    }
    if ((st = cc_quorum_setup(next, names, k, threshold, kdf ? kdf : &rec.quorum.kdf, kms_part, rec.version, toks, err)) !=
            CC_OK ||
        (st = cc_rotate_split_checked(op_part, threshold, (unsigned)k, shares, err)) != CC_OK)
        goto out;
    if (cc_chamber_seal_gen(ch) != gen) {
        st = cc_error_set(err, CC_EUNAVAILABLE, "rotate quorum: sealed meanwhile");
        goto out;
    }
    answer = json_object();
    for (size_t i = 0; answer && i < k; i++)
        json_object_set_new(answer, next->ops[i].name, json_string(toks + i * (CC_QUORUM_TOKEN_LEN + 1)));
    if (!answer) {
        st = cc_error_set(err, CC_ENOMEM, "out of memory");
        goto out;
    }
    uint8_t *held = cc_secret_alloc(k * CC_QUORUM_PART_LEN);
    if (!held) {
        st = cc_error_set(err, CC_ENOMEM, "out of memory");
        goto out;
    }
    memcpy(held, shares, k * CC_QUORUM_PART_LEN);
    int replaced;
    pthread_mutex_lock(&q->lock);
    replaced = q->active;
    drop_locked(q);
    q->next = next;
    next = NULL;
    q->shares = held;
    q->k = (unsigned)k;
    q->version = rec.version;
    q->gen = gen;
    memcpy(q->base_init_id, rec.quorum.init_id, sizeof q->base_init_id);
    cc_state_now(q->started_at);
    q->last_error[0] = '\0';
    q->last_result[0] = '\0';
    q->switch_retry = 0;
    q->active = 1;
    pthread_mutex_unlock(&q->lock);
    cc_chamber_set_rotating(ch, 1);
    if (cc_chamber_seal_gen(ch) != gen) { /* a seal between the check and here: its hook may have missed us */
        on_seal(q);
        cc_chamber_set_rotating(ch, 0);
        st = cc_error_set(err, CC_EUNAVAILABLE, "rotate quorum: sealed meanwhile");
        goto out;
    }
    *tokens = answer;
    answer = NULL;
    {
        char kk[16], t[16];
        snprintf(kk, sizeof kk, "%zu", k);
        snprintf(t, sizeof t, "%u", threshold);
        cc_log(CC_LOG_INFO, "chamber: operator-set rotation started; awaiting registration of the new operators",
               "operators", kk, "operator_threshold", t, "replaced_rotation", replaced ? "true" : "false", NULL);
    }
out:
    json_decref(answer);
    json_decref(item);
    cc_state_record_clear(&rec);
    cc_secret_free(kms_part, CC_QUORUM_PART_LEN);
    cc_secret_free(op_part, CC_QUORUM_PART_LEN);
    cc_secret_free(master, CC_MASTER_KEY_LEN);
    cc_secret_free(shares, (size_t)CC_QUORUM_MAX_OPERATORS * CC_QUORUM_PART_LEN);
    cc_secret_free(toks, tok_cap);
    if (next) {
        cc_secret_wipe(next, sizeof *next);
        free(next);
    }
    cc_rotate_op_unlock(rot);
    if (st != CC_OK)
        cc_log(CC_LOG_WARN, "chamber: operator-set rotation refused; the old operators stay", "reason",
               err ? err->msg : "", NULL);
    return st;
}

/* ---------------------------------------------------------------- switch */

/*
 * The single write: the item as read, q_* ← the new set.  Called with every
 * new operator registered.  On success the rotation is over (dropped); on a
 * conflict with another operator set it is aborted; otherwise it stays for
 * the poller's retry.
 */
/*
 * After the table write of rotation `id` failed: record why and when the
 * poller retries; abort (the table changed under it) drops the rotation.
 */
static void write_failed(cc_chamber *ch, cc_quorum_rotation *q, unsigned long id, cc_status st, const cc_error *err,
                         int abort, const char *abandoned, const char *retried)
{
    const char *why = err ? err->msg : cc_status_str(st);
    pthread_mutex_lock(&q->lock);
    if (q->id == id) {
        snprintf(q->last_error, sizeof q->last_error, "%s", why);
        q->switch_retry = time(NULL) + SWITCH_RETRY_SECONDS;
        if (abort) {
            drop_locked(q);
            snprintf(q->last_result, sizeof q->last_result, "aborted: the table changed");
        }
    }
    pthread_mutex_unlock(&q->lock);
    if (abort)
        cc_chamber_set_rotating(ch, 0);
    cc_log(CC_LOG_WARN, abort ? abandoned : retried, "reason", why, NULL);
}

/*
 * The one table write of rotation `id`, made only if the chamber was not
 * sealed since the rotation read the state (gen; else *abort is set) and the
 * rotation is still the current one.  what: the message prefix.
 */
static cc_status put_if_current(cc_chamber *ch, cc_quorum_rotation *q, unsigned long id, unsigned long gen,
                                const char *what, json_t *item, const char *cond, json_t *names, json_t *values,
                                int *abort, cc_error *err)
{
    if (cc_chamber_seal_gen(ch) != gen) {
        *abort = 1;
        return cc_error_set(err, CC_EUNAVAILABLE, "%s: sealed meanwhile; nothing written", what);
    }
    pthread_mutex_lock(&q->lock);
    int same = q->active && q->id == id;
    pthread_mutex_unlock(&q->lock);
    if (!same)
        return cc_error_set(err, CC_ECONFLICT, "%s: the rotation was replaced or aborted; nothing written", what);
    return cc_dynamodb_put_item(cc_chamber_dynamodb(ch), cc_chamber_table(ch), item, cond, names, values, NULL, err);
}

static cc_status do_pending_quorum(cc_chamber *ch, cc_quorum_rotation *q, cc_error *err);

static cc_status do_switch(cc_chamber *ch, cc_quorum_rotation *q, cc_error *err)
{
    cc_rotation *rot = cc_chamber_rotation(ch);
    pthread_mutex_lock(&q->lock);
    int to_quorum = q->to_quorum;
    pthread_mutex_unlock(&q->lock);
    if (to_quorum)
        return do_pending_quorum(ch, q, err);
    if (!cc_rotate_op_trylock(rot))
        return cc_error_set(err, CC_ECONFLICT, "rotate quorum: another rotation is writing the state item; retried");
    cc_quorum_record *nq = malloc(sizeof *nq);
    json_t *item = NULL, *names = NULL, *values = NULL;
    cc_state_record rec;
    memset(&rec, 0, sizeof rec);
    cc_status st = nq ? CC_OK : cc_error_set(err, CC_ENOMEM, "out of memory");
    pthread_mutex_lock(&q->lock);
    unsigned long id = q->id;
    int ready = st == CC_OK && q->active && q->next && registered_count(q->next) == q->next->count;
    if (ready)
        *nq = *q->next;
    char base[CC_QUORUM_INIT_ID_LEN + 1];
    memcpy(base, q->base_init_id, sizeof base);
    uint32_t version = q->version;
    unsigned long gen = q->gen;
    pthread_mutex_unlock(&q->lock);
    int abort = 0;
    char cond[256], now[32];
    if (st != CC_OK || !ready)
        goto out;
    if ((st = read_state(ch, &item, &rec, err)) != CC_OK)
        goto out;
    if (strcmp(rec.mode, "quorum") != 0 || !rec.quorum.complete || strcmp(rec.quorum.init_id, base) != 0 ||
        rec.version != version) {
        st = cc_error_set(err, CC_ECONFLICT, "rotate quorum: the operator set or master version in the table changed "
                          "since the rotation started (another rotation?); this one is abandoned, nothing written");
        abort = 1;
        goto out;
    }
    nq->revision = rec.quorum.revision + 1;
    nq->complete = 1;
    cc_state_now(now);
    if ((st = cc_rotate_item_condition(item, cond, &names, &values, err)) != CC_OK ||
        (st = cc_quorum_to_item(nq, item, err)) != CC_OK || (st = cc_rotate_item_bump(item, now, err)) != CC_OK)
        goto out;
    st = put_if_current(ch, q, id, gen, "rotate quorum", item, cond, names, values, &abort, err);
    if (st == CC_ECONFLICT)
        st = cc_error_set(err, CC_ECONFLICT, "signer state table %s: the state item changed meanwhile; retried",
                          cc_chamber_table(ch));
    if (st != CC_OK)
        goto out;
    cc_state_record done;
    memset(&done, 0, sizeof done);
    if (cc_state_record_from_item(item, &done, NULL) == CC_OK) {
        cc_chamber_replace_record(ch, &done);
        cc_state_record_clear(&done);
    }
    pthread_mutex_lock(&q->lock);
    if (q->id == id) {
        drop_locked(q);
        snprintf(q->last_result, sizeof q->last_result, "completed at %s", now);
        q->last_error[0] = '\0';
    }
    pthread_mutex_unlock(&q->lock);
    cc_chamber_set_rotating(ch, 0);
    {
        char kk[16], t[16];
        snprintf(kk, sizeof kk, "%u", nq->count);
        snprintf(t, sizeof t, "%u", nq->threshold);
        cc_log(CC_LOG_WARN, "chamber: operator set rotated; the old operators no longer unseal", "operators", kk,
               "operator_threshold", t, NULL);
    }
out:
    if (st != CC_OK && ready)
        write_failed(ch, q, id, st, err, abort, "chamber: operator-set rotation abandoned; the old operators stay",
                     "chamber: operator-set switch failed; retried by the poller");
    if (nq) {
        cc_secret_wipe(nq, sizeof *nq);
        free(nq);
    }
    cc_state_record_clear(&rec);
    json_decref(item);
    json_decref(names);
    json_decref(values);
    cc_rotate_op_unlock(rot);
    return st;
}

void cc_quorum_rotation_poll(cc_rotation *rot)
{
    cc_quorum_rotation *q = rot ? cc_rotate_quorum_state(rot) : NULL;
    if (!q)
        return;
    pthread_mutex_lock(&q->lock);
    int due = q->active && q->next && registered_count(q->next) == q->next->count && time(NULL) >= q->switch_retry;
    pthread_mutex_unlock(&q->lock);
    if (due) {
        cc_error e;
        cc_error_clear(&e);
        (void)do_switch(q->ch, q, &e); /* logs itself */
    }
}

/* ---------------------------------------------------------------- registration */

int cc_rotate_quorum_owns_token(cc_rotation *rot, const char *token)
{
    cc_quorum_rotation *q = rot ? cc_rotate_quorum_state(rot) : NULL;
    if (!q)
        return 0;
    pthread_mutex_lock(&q->lock);
    int yes = q->active && q->next && cc_quorum_find_token(q->next, token) >= 0;
    pthread_mutex_unlock(&q->lock);
    return yes;
}

cc_status cc_rotate_quorum_register(cc_chamber *ch, const char *token, cc_quorum_kind kind, const uint8_t *secret,
                                    size_t len, char name[CC_QUORUM_NAME_MAX + 1], cc_error *err)
{
    name[0] = '\0';
    cc_quorum_rotation *q = cc_rotate_quorum_state(cc_chamber_rotation(ch));
    cc_quorum_operator *op = malloc(sizeof *op);
    uint8_t *share = cc_secret_alloc(CC_QUORUM_PART_LEN);
    cc_status st = op && share ? CC_OK : cc_error_set(err, CC_ENOMEM, "out of memory");
    pthread_mutex_lock(&q->reg);
    pthread_mutex_lock(&q->lock);
    unsigned long id = q->id;
    int pos = st == CC_OK && q->active && q->next ? cc_quorum_find_token(q->next, token) : -1;
    cc_quorum_kdf kdf = {0, 0, 0};
    uint32_t version = q->version;
    if (st == CC_OK && pos < 0)
        st = cc_error_set(err, CC_EFORBIDDEN, "registration_token: not a registration token of the operator-set "
                          "rotation in flight (aborted by a seal, a restart or a newer rotation?)");
    if (pos >= 0) {
        *op = q->next->ops[pos];
        kdf = q->next->kdf;
        memcpy(share, q->shares + (size_t)(op->index - 1) * CC_QUORUM_PART_LEN, CC_QUORUM_PART_LEN);
        snprintf(name, CC_QUORUM_NAME_MAX + 1, "%s", op->name);
        if (op->registered)
            st = cc_error_set(err, CC_ECONFLICT, "registration_token: already used (operator %s is registered)",
                              op->name);
    }
    pthread_mutex_unlock(&q->lock);
    if (st == CC_OK) /* Argon2id: outside q->lock */
        st = cc_quorum_register(op, version, kind, &kdf, secret, len, share, err);
    int complete = 0;
    unsigned done = 0, count = 0;
    if (st == CC_OK) {
        pthread_mutex_lock(&q->lock);
        if (!q->active || q->id != id || !q->next) {
            st = cc_error_set(err, CC_EUNAVAILABLE, "registration_token: the operator-set rotation was aborted "
                              "meanwhile (a seal?)");
        } else {
            q->next->ops[pos] = *op;
            done = registered_count(q->next);
            count = q->next->count;
            complete = done == count;
        }
        pthread_mutex_unlock(&q->lock);
    }
    if (st == CC_OK) {
        char r[16], k[16];
        snprintf(r, sizeof r, "%u", done);
        snprintf(k, sizeof k, "%u", count);
        cc_log(CC_LOG_INFO, "chamber: new operator registered (operator-set rotation)", "operator", name, "kind",
               cc_quorum_kind_name(kind), "registered", r, "operators", k, NULL);
        if (complete) {
            cc_error e;
            cc_error_clear(&e);
            /* A failed switch is not this registration's failure: it is kept and the poller retries. */
            (void)do_switch(ch, q, &e);
        }
    }
    pthread_mutex_unlock(&q->reg);
    if (op) {
        cc_secret_wipe(op, sizeof *op);
        free(op);
    }
    cc_secret_free(share, CC_QUORUM_PART_LEN);
    return st;
}

/* ================================================================ rotate mode --to quorum
 *
 * KMS-only (master v) → operator quorum (master v+1 = HKDF(kms_part' ‖
 * operator_part')).  Start makes everything in memory; the pending entry is
 * written only when every new operator has registered here (an abort before
 * that leaves nothing).  The entry carries the new q_* set, the KMS shares of
 * kms_part' and next_wrapped (master v+1 under master v), so every replica
 * holding v follows without KMS or operators; the rotation then runs as
 * rotate master (rotate.c) and the promotion installs mode "quorum".
 */

static cc_status copy_master(void *arg, const uint8_t *ka, const uint8_t *kb)
{
    (void)kb;
    memcpy(arg, ka, CC_MASTER_KEY_LEN);
    return CC_OK;
}

cc_status cc_chamber_rotate_mode_quorum(cc_chamber *ch, const char *const *names, size_t k, unsigned threshold,
                                        const cc_quorum_kdf *kdf, json_t **tokens, cc_error *err)
{
    *tokens = NULL;
    cc_rotation *rot = cc_chamber_rotation(ch);
    cc_quorum_rotation *q = rot ? cc_rotate_quorum_state(rot) : NULL;
    cc_chamber_state_t s = cc_chamber_state(ch);
    if (!q)
        return cc_error_set(err, CC_EUNAVAILABLE, "rotate mode: no signer state table");
    const cc_quorum_kdf defaults = {CC_QUORUM_T_DEFAULT, CC_QUORUM_M_DEFAULT, CC_QUORUM_P_DEFAULT};
    if (!kdf)
        kdf = &defaults;
    pthread_mutex_lock(&q->lock);
    int ours = q->active && q->to_quorum;
    pthread_mutex_unlock(&q->lock);
    if (s != CC_CHAMBER_UNSEALED && !(s == CC_CHAMBER_AWAITING_ROTATION && ours))
        return cc_error_set(err, cc_chamber_can_sign(ch) ? CC_ECONFLICT : CC_EUNAVAILABLE,
                            "rotate mode: the chamber must be unsealed with no other rotation running (state %s)",
                            cc_chamber_state_name(s));
    if (!cc_rotate_op_trylock(rot))
        return cc_error_set(err, CC_ECONFLICT, "rotate mode: another rotation is writing the state item");
    cc_status st = CC_OK;
    json_t *item = NULL, *answer = NULL;
    cc_state_record rec;
    memset(&rec, 0, sizeof rec);
    size_t tok_cap = CC_QUORUM_MAX_OPERATORS * (CC_QUORUM_TOKEN_LEN + 1);
    uint8_t *cur = cc_secret_alloc(CC_MASTER_KEY_LEN), *kms_part = cc_secret_alloc(CC_QUORUM_PART_LEN);
    uint8_t *op_part = cc_secret_alloc(CC_QUORUM_PART_LEN), *master = cc_secret_alloc(CC_MASTER_KEY_LEN);
    uint8_t *shares = cc_secret_alloc((size_t)CC_QUORUM_MAX_OPERATORS * CC_QUORUM_PART_LEN);
    char *toks = cc_secret_alloc(tok_cap);
    cc_quorum_record *next = calloc(1, sizeof *next);
    cc_state_record *pend = calloc(1, sizeof *pend);
    uint8_t *held = NULL;
    unsigned long gen = cc_chamber_seal_gen(ch);
    if (!cur || !kms_part || !op_part || !master || !shares || !toks || !next || !pend) {
        st = cc_error_set(err, CC_ENOMEM, "out of memory");
        goto out;
    }
    if (cc_rotate_master_busy(rot)) {
        st = cc_error_set(err, CC_ECONFLICT, "rotate mode: a master-key rotation is pending or running");
        goto out;
    }
    if ((st = read_state(ch, &item, &rec, err)) != CC_OK)
        goto out;
    if (strcmp(rec.mode, "kms") != 0) {
        st = cc_error_set(err, CC_ECONFLICT, "rotate mode: the chamber is in mode \"%s\"; --to quorum needs a KMS-only "
                          "chamber (rotate quorum changes the operators of a quorum chamber)", rec.mode);
        goto out;
    }
    if (json_object_get(item, "pending")) {
        st = cc_error_set(err, CC_ECONFLICT, "rotate mode: a master-key rotation is pending in the table; let it "
                          "finish (rotate master resumes it) first");
        goto out;
    }
    if (rec.version == UINT32_MAX) {
        st = cc_error_set(err, CC_EINVAL, "rotate mode: master-key version %u is the last one", (unsigned)rec.version);
        goto out;
    }
    /* The held master must be the table's: next_wrapped is made with it. */
    if ((st = cc_chamber_with_master_pair(ch, rec.version, rec.version, copy_master, cur, err)) != CC_OK ||
        (st = cc_master_verify(cur, rec.version, rec.check, err)) != CC_OK) {
        cc_error_prefix(err, "rotate mode: the held master key is not the table's version %u", (unsigned)rec.version);
        goto out;
    }
    uint32_t nv = rec.version + 1;
    /* kms_part', operator_part' and master' as init in quorum mode makes them (quorum.c) */
    if ((st = cc_master_generate(kms_part, err)) != CC_OK || (st = cc_master_generate(op_part, err)) != CC_OK ||
        (st = cc_quorum_derive_master(kms_part, op_part, nv, master, err)) != CC_OK ||
        (st = cc_quorum_setup(next, names, k, threshold, kdf, kms_part, nv, toks, err)) != CC_OK ||
        (st = cc_rotate_split_checked(op_part, threshold, (unsigned)k, shares, err)) != CC_OK)
        goto out;
    snprintf(pend->mode, sizeof pend->mode, "quorum");
    pend->version = nv;
    pend->quorum = *next;
    cc_state_now(pend->created_at);
    memcpy(pend->updated_at, pend->created_at, sizeof pend->updated_at);
    const char *arns[CC_STATE_MAX_SHARES];
    for (unsigned i = 0; i < rec.share_count; i++)
        arns[i] = rec.shares[i].kms_key_arn;
    /* kms_part' over the same KMS keys and threshold (EncryptionContext v+1), checked through the unwrapper */
    if ((st = cc_master_check(master, nv, pend->check, err)) != CC_OK ||
        (st = cc_rotate_wrap_shares(rot, kms_part, arns, rec.share_count, rec.threshold, pend, err)) != CC_OK) {
        cc_error_prefix(err, "rotate mode");
        goto out;
    }
    answer = json_object();
    for (size_t i = 0; answer && i < k; i++)
        json_object_set_new(answer, next->ops[i].name, json_string(toks + i * (CC_QUORUM_TOKEN_LEN + 1)));
    held = cc_secret_alloc(k * CC_QUORUM_PART_LEN);
    uint8_t *nm = cc_secret_alloc(CC_MASTER_KEY_LEN);
    if (!answer || !held || !nm) {
        cc_secret_free(nm, CC_MASTER_KEY_LEN);
        st = cc_error_set(err, CC_ENOMEM, "out of memory");
        goto out;
    }
    memcpy(held, shares, k * CC_QUORUM_PART_LEN);
    memcpy(nm, master, CC_MASTER_KEY_LEN);
    if (cc_chamber_seal_gen(ch) != gen) {
        cc_secret_free(nm, CC_MASTER_KEY_LEN);
        st = cc_error_set(err, CC_EUNAVAILABLE, "rotate mode: sealed meanwhile; nothing was written");
        goto out;
    }
    int replaced;
    pthread_mutex_lock(&q->lock);
    replaced = q->active;
    drop_locked(q);
    q->next = next;
    next = NULL;
    q->shares = held;
    held = NULL;
    q->k = (unsigned)k;
    q->version = nv; /* the new operators' shares are sealed for v+1 */
    q->gen = gen;
    q->base_init_id[0] = '\0';
    cc_state_now(q->started_at);
    q->last_error[0] = '\0';
    q->last_result[0] = '\0';
    q->switch_retry = 0;
    q->to_quorum = 1;
    q->from_version = rec.version;
    q->pend = pend;
    pend = NULL;
    q->new_master = nm;
    q->active = 1;
    pthread_mutex_unlock(&q->lock);
    cc_chamber_set_rotating(ch, 1);
    if (cc_chamber_seal_gen(ch) != gen) {
        on_seal(q);
        cc_chamber_set_rotating(ch, 0);
        st = cc_error_set(err, CC_EUNAVAILABLE, "rotate mode: sealed meanwhile; nothing was written");
        goto out;
    }
    *tokens = answer;
    answer = NULL;
    {
        char kk[16], t[16], f[16], tv[16];
        snprintf(kk, sizeof kk, "%zu", k);
        snprintf(t, sizeof t, "%u", threshold);
        snprintf(f, sizeof f, "%u", (unsigned)rec.version);
        snprintf(tv, sizeof tv, "%u", (unsigned)nv);
        cc_log(CC_LOG_INFO, "chamber: rotation to operator quorum started; awaiting registration of the new operators "
               "(nothing written yet)", "operators", kk, "operator_threshold", t, "from_version", f, "to_version", tv,
               "replaced_rotation", replaced ? "true" : "false", NULL);
    }
out:
    json_decref(answer);
    json_decref(item);
    cc_state_record_clear(&rec);
    cc_secret_free(cur, CC_MASTER_KEY_LEN);
    cc_secret_free(kms_part, CC_QUORUM_PART_LEN);
    cc_secret_free(op_part, CC_QUORUM_PART_LEN);
    cc_secret_free(master, CC_MASTER_KEY_LEN);
    cc_secret_free(shares, (size_t)CC_QUORUM_MAX_OPERATORS * CC_QUORUM_PART_LEN);
    cc_secret_free(toks, tok_cap);
    cc_secret_free(held, k * CC_QUORUM_PART_LEN);
    if (next) {
        cc_secret_wipe(next, sizeof *next);
        free(next);
    }
    if (pend) {
        cc_state_record_clear(pend);
        cc_secret_wipe(pend, sizeof *pend);
        free(pend);
    }
    cc_rotate_op_unlock(rot);
    if (st != CC_OK)
        cc_log(CC_LOG_WARN, "chamber: rotation to operator quorum refused; nothing changed", "reason",
               err ? err->msg : "", NULL);
    return st;
}

/*
 * Every new operator registered: ONE conditional PutItem adds the pending
 * entry (mode quorum, the new q_* set complete, kms_part' shares, check of
 * master', next_wrapped under master v), then this replica holds master' and
 * the master rotation (rotate.c) re-seals and promotes.  A table that moved
 * (not KMS-only at v, or a pending entry) abandons the rotation; any other
 * failure is retried by the poller.
 */
static cc_status do_pending_quorum(cc_chamber *ch, cc_quorum_rotation *q, cc_error *err)
{
    cc_rotation *rot = cc_chamber_rotation(ch);
    if (!cc_rotate_op_trylock(rot))
        return cc_error_set(err, CC_ECONFLICT, "rotate mode: another rotation is writing the state item; retried");
    cc_state_record *p = calloc(1, sizeof *p);
    uint8_t *cur = cc_secret_alloc(CC_MASTER_KEY_LEN), *nm = cc_secret_alloc(CC_MASTER_KEY_LEN);
    json_t *item = NULL, *names = NULL, *values = NULL;
    cc_state_record rec;
    memset(&rec, 0, sizeof rec);
    cc_status st = p && cur && nm ? CC_OK : cc_error_set(err, CC_ENOMEM, "out of memory");
    int abort = 0, ready = 0;
    unsigned long id = 0, gen = 0;
    uint32_t from = 0;
    char cond[256], now[32];
    if (st == CC_OK) {
        pthread_mutex_lock(&q->lock);
        id = q->id;
        ready = q->active && q->to_quorum && q->next && q->pend && q->new_master &&
                registered_count(q->next) == q->next->count;
        if (ready) {
            *p = *q->pend; /* the blobs are copied below */
            for (unsigned i = 0; i < CC_STATE_MAX_SHARES; i++)
                p->shares[i].blob = NULL;
            for (unsigned i = 0; i < q->pend->share_count && st == CC_OK; i++) {
                p->shares[i].blob = malloc(q->pend->shares[i].blob_len ? q->pend->shares[i].blob_len : 1);
                if (!p->shares[i].blob)
                    st = cc_error_set(err, CC_ENOMEM, "out of memory");
                else
                    memcpy(p->shares[i].blob, q->pend->shares[i].blob, q->pend->shares[i].blob_len);
            }
            p->quorum = *q->next;
            memcpy(nm, q->new_master, CC_MASTER_KEY_LEN);
            from = q->from_version;
            gen = q->gen;
        }
        pthread_mutex_unlock(&q->lock);
    }
    if (st != CC_OK || !ready)
        goto out;
    p->quorum.revision = 1;
    p->quorum.complete = 1;
    if ((st = read_state(ch, &item, &rec, err)) != CC_OK)
        goto out;
    if (strcmp(rec.mode, "kms") != 0 || rec.version != from || json_object_get(item, "pending")) {
        st = cc_error_set(err, CC_ECONFLICT, "rotate mode: the table is no longer KMS-only at version %u with no "
                          "rotation pending (another rotation?); this one is abandoned, nothing written",
                          (unsigned)from);
        abort = 1;
        goto out;
    }
    if ((st = cc_chamber_with_master_pair(ch, from, from, copy_master, cur, err)) != CC_OK ||
        (st = cc_master_verify(cur, from, rec.check, err)) != CC_OK) {
        cc_error_prefix(err, "rotate mode: the held master key is not the table's version %u", (unsigned)from);
        abort = 1;
        goto out;
    }
    cc_state_now(now);
    if ((st = cc_rotate_item_condition(item, cond, &names, &values, err)) != CC_OK ||
        (st = cc_rotate_item_set_pending_next(item, p, "quorum", cur, from, nm, now, err)) != CC_OK)
        goto out;
    st = put_if_current(ch, q, id, gen, "rotate mode", item, cond, names, values, &abort, err);
    if (st == CC_ECONFLICT) { /* our own write may have landed before a retry: the stored check then is ours */
        json_t *again = NULL;
        cc_state_record r2, p2;
        memset(&r2, 0, sizeof r2);
        memset(&p2, 0, sizeof p2);
        if (read_state(ch, &again, &r2, NULL) == CC_OK) {
            json_t *pa = json_object_get(again, "pending");
            if (pa && cc_rotate_pending_decode(pa, &p2, NULL) == CC_OK && p2.version == p->version &&
                cc_ct_equal(p2.check, p->check, CC_MASTER_CHECK_LEN))
                st = CC_OK;
            cc_state_record_clear(&p2);
            cc_state_record_clear(&r2);
            json_decref(again);
        }
        if (st != CC_OK)
            st = cc_error_set(err, CC_ECONFLICT, "signer state table %s: the state item changed meanwhile; retried",
                              cc_chamber_table(ch));
    }
    if (st != CC_OK)
        goto out;
    /* Written: the rest is the master rotation's (rotate.c), resumable by any replica holding v. */
    pthread_mutex_lock(&q->lock);
    if (q->id == id) {
        drop_locked(q);
        snprintf(q->last_result, sizeof q->last_result, "pending entry written at %s", now);
        q->last_error[0] = '\0';
    }
    pthread_mutex_unlock(&q->lock);
    cc_rotate_refresh(rot);
    if (!cc_chamber_hold_master(ch, nm, p->version, gen))
        cc_log(CC_LOG_WARN, "chamber: sealed right after the pending entry was written; the rotation resumes at the "
               "next unseal", NULL);
    cc_chamber_set_rotating(ch, 0);
    {
        char f[16], t[16];
        snprintf(f, sizeof f, "%u", (unsigned)from);
        snprintf(t, sizeof t, "%u", (unsigned)p->version);
        cc_log(CC_LOG_WARN, "chamber: every new operator registered; rotation to operator quorum pending (entry "
               "written), re-sealing every key", "from_version", f, "to_version", t, NULL);
    }
out:
    if (st != CC_OK && ready)
        write_failed(ch, q, id, st, err, abort, "chamber: rotation to operator quorum abandoned; nothing written",
                     "chamber: the pending write of the rotation to operator quorum failed; retried by the poller");
    cc_rotate_op_unlock(rot);
    if (st == CC_OK) {
        cc_error e;
        cc_error_clear(&e);
        if (cc_rotate_resume(rot, &e) != CC_OK) /* the poller resumes it otherwise (pending entry seen) */
            cc_log(CC_LOG_WARN, "chamber: cannot start the re-seal now; it resumes later", "reason", e.msg, NULL);
    }
    if (p) {
        cc_state_record_clear(p);
        cc_secret_wipe(p, sizeof *p);
        free(p);
    }
    cc_secret_free(cur, CC_MASTER_KEY_LEN);
    cc_secret_free(nm, CC_MASTER_KEY_LEN);
    cc_state_record_clear(&rec);
    json_decref(item);
    json_decref(names);
    json_decref(values);
    return st;
}
