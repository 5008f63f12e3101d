/*
 * Tests of the sqlite backend's group commit: many threads at once, batches
 * really forming, every CC_OK durable (checked by reopening the file with
 * plain SQLite), and conflicting requests racing: exactly one wins.
 */
#include <pthread.h>
#include <sqlite3.h>

#include "helpers.h"
#include "test.h"

#define THREADS 64
#define PER_THREAD 100
#define VALIDATORS 16

typedef struct result {
    uint32_t validator;
    uint64_t source, target;
    uint32_t root;
    cc_status st;
} result;

typedef struct worker {
    cc_slashing *db;
    int index;
    pthread_barrier_t *barrier;
    result res[PER_THREAD];
} worker;

/* Thread t signs, for validator (t % VALIDATORS), targets that interleave with its siblings':
 * target = i * (THREADS / VALIDATORS) + t / VALIDATORS + 1, source = target - 1.  Siblings never
 * collide on a target, and (target-1, target) never surrounds another such pair, so every check
 * should be allowed. */
static void *worker_main(void *arg)
{
    worker *w = arg;
    uint32_t v = (uint32_t)(w->index % VALIDATORS);
    pthread_barrier_wait(w->barrier);
    for (int i = 0; i < PER_THREAD; i++) {
        result *r = &w->res[i];
        uint8_t pk[48], root[32];
        cc_error err;
        r->validator = v;
        r->target = (uint64_t)i * (THREADS / VALIDATORS) + (uint64_t)(w->index / VALIDATORS) + 1;
        r->source = r->target - 1;
        r->root = (uint32_t)(w->index * 100000 + i);
        pk_n(pk, v);
        root_n(root, r->root);
        r->st = cc_slashing_check_attestation(w->db, pk, r->source, r->target, root, &err);
    }
    return NULL;
}

TEST(many_threads_every_ok_is_durable)
{
    const char *p = tmp_db("group");
    char path[512];
    snprintf(path, sizeof path, "%s", p);
    cc_slashing *db = NULL;
    cc_error err;
    CHECK_EQ_INT(cc_slashing_sqlite_open(path, GVR_A, &db, &err), CC_OK);
    if (!db)
        return;
    static worker w[THREADS];
    pthread_t th[THREADS];
    pthread_barrier_t barrier;
    pthread_barrier_init(&barrier, NULL, THREADS);
    for (int t = 0; t < THREADS; t++) {
        w[t].db = db;
        w[t].index = t;
        w[t].barrier = &barrier;
        pthread_create(&th[t], NULL, worker_main, &w[t]);
    }
    for (int t = 0; t < THREADS; t++)
        pthread_join(th[t], NULL);
    pthread_barrier_destroy(&barrier);
    uint64_t batches = 0, checks = 0;
    cc_slashing_sqlite_stats(db, &batches, &checks);
    cc_slashing_close(db);

    CHECK_EQ_INT(checks, THREADS * PER_THREAD);
    CHECK_MSG(batches < checks / 4, "batches %llu for %llu checks: group commit is not grouping",
              (unsigned long long)batches, (unsigned long long)checks);
    printf("  %llu checks in %llu batches (mean %.1f)\n", (unsigned long long)checks, (unsigned long long)batches,
           batches ? (double)checks / (double)batches : 0.0);

    /* Reopen with plain SQLite: every allowed attestation is there with its root. */
    sqlite3 *raw = NULL;
    CHECK_EQ_INT(sqlite3_open_v2(path, &raw, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_stmt *s = NULL;
    CHECK_EQ_INT(sqlite3_prepare_v2(raw,
                                    "SELECT a.source_epoch, a.signing_root FROM signed_attestations a "
                                    "JOIN validators v ON v.id = a.validator_id "
                                    "WHERE v.public_key = ?1 AND a.target_epoch = ?2",
                                    -1, &s, NULL),
                 SQLITE_OK);
    int ok = 0, durable = 0;
    for (int t = 0; t < THREADS; t++) {
        for (int i = 0; i < PER_THREAD; i++) {
            result *r = &w[t].res[i];
            CHECK_EQ_INT(r->st, CC_OK);
            if (r->st != CC_OK)
                continue;
            ok++;
            uint8_t pk[48], root[32];
            pk_n(pk, r->validator);
            root_n(root, r->root);
            sqlite3_reset(s);
            sqlite3_bind_blob(s, 1, pk, 48, SQLITE_TRANSIENT);
            sqlite3_bind_int64(s, 2, (int64_t)r->target);
            if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_int64(s, 0) == (int64_t)r->source &&
                sqlite3_column_bytes(s, 1) == 32 && memcmp(sqlite3_column_blob(s, 1), root, 32) == 0)
                durable++;
        }
    }
    sqlite3_finalize(s);
    CHECK_EQ_INT(sqlite3_prepare_v2(raw, "SELECT COUNT(*) FROM signed_attestations", -1, &s, NULL), SQLITE_OK);
    CHECK(sqlite3_step(s) == SQLITE_ROW);
    CHECK_EQ_INT(sqlite3_column_int(s, 0), ok);
    sqlite3_finalize(s);
    sqlite3_close(raw);
    CHECK_EQ_INT(ok, THREADS * PER_THREAD);
    CHECK_EQ_INT(durable, ok);
}

/* Conflicting pairs released together: for each pair exactly one may pass. */
#define PAIRS 32
#define ROUNDS 40

typedef struct racer {
    cc_slashing *db;
    int pair, side;
    pthread_barrier_t *barrier;
    cc_status st[ROUNDS];
} racer;

static void *racer_main(void *arg)
{
    racer *r = arg;
    for (int round = 0; round < ROUNDS; round++) {
        uint8_t pk[48], root[32];
        cc_error err;
        pk_n(pk, (uint32_t)(100000 + round * PAIRS + r->pair)); /* rounds never interact */
        root_n(root, (uint32_t)(round * 2 + r->side));
        pthread_barrier_wait(r->barrier);
        if (round % 3 == 0) {
            /* double proposal */
            r->st[round] = cc_slashing_check_block(r->db, pk, (uint64_t)round + 1, root, &err);
        } else if (round % 3 == 1) {
            /* double vote */
            r->st[round] = cc_slashing_check_attestation(r->db, pk, (uint64_t)round, (uint64_t)round + 1, root, &err);
        } else {
            /* side 0 surrounds what side 1 asks for */
            uint64_t s = r->side ? (uint64_t)round + 10 : (uint64_t)round + 9;
            uint64_t t = r->side ? (uint64_t)round + 11 : (uint64_t)round + 13;
            r->st[round] = cc_slashing_check_attestation(r->db, pk, s, t, root, &err);
        }
    }
    return NULL;
}

TEST(conflicting_pairs_exactly_one_wins)
{
    cc_slashing *db = NULL;
    cc_error err;
    CHECK_EQ_INT(cc_slashing_sqlite_open(tmp_db("pairs"), GVR_A, &db, &err), CC_OK);
    if (!db)
        return;
    static racer r[PAIRS * 2];
    pthread_t th[PAIRS * 2];
    pthread_barrier_t barrier;
    pthread_barrier_init(&barrier, NULL, PAIRS * 2);
    for (int i = 0; i < PAIRS * 2; i++) {
        r[i].db = db;
        r[i].pair = i / 2;
        r[i].side = i % 2;
        r[i].barrier = &barrier;
        pthread_create(&th[i], NULL, racer_main, &r[i]);
    }
    for (int i = 0; i < PAIRS * 2; i++)
        pthread_join(th[i], NULL);
    pthread_barrier_destroy(&barrier);
    uint64_t batches = 0, checks = 0;
    cc_slashing_sqlite_stats(db, &batches, &checks);
    cc_slashing_close(db);
    int wins[2] = {0, 0}, bad = 0;
    for (int p = 0; p < PAIRS; p++) {
        for (int round = 0; round < ROUNDS; round++) {
            cc_status a = r[2 * p].st[round], b = r[2 * p + 1].st[round];
            int oks = (a == CC_OK) + (b == CC_OK);
            int refused = (a == CC_ESLASHABLE) + (b == CC_ESLASHABLE);
            if (oks != 1 || refused != 1)
                bad++;
            if (a == CC_OK)
                wins[0]++;
            if (b == CC_OK)
                wins[1]++;
        }
    }
    CHECK_EQ_INT(bad, 0);
    CHECK_EQ_INT(wins[0] + wins[1], PAIRS * ROUNDS);
    CHECK(batches < checks); /* pairs did share batches */
    printf("  %d pairs: side 0 won %d, side 1 won %d; %llu batches for %llu checks\n", PAIRS * ROUNDS, wins[0],
           wins[1], (unsigned long long)batches, (unsigned long long)checks);
}

TEST(close_with_nothing_pending_and_reopen)
{
    const char *p = tmp_db("reopen");
    char path[512];
    snprintf(path, sizeof path, "%s", p);
    for (int i = 0; i < 3; i++) {
        cc_slashing *db = NULL;
        cc_error err;
        CHECK_EQ_INT(cc_slashing_sqlite_open(path, GVR_A, &db, &err), CC_OK);
        if (!db)
            return;
        uint8_t pk[48], root[32];
        pk_n(pk, 1);
        root_n(root, 1);
        CHECK_EQ_INT(cc_slashing_check_block(db, pk, 10, root, &err), CC_OK);
        root_n(root, 2);
        CHECK_EQ_INT(cc_slashing_check_block(db, pk, 10, root, &err), CC_ESLASHABLE);
        cc_slashing_close(db);
    }
}

int main(void)
{
    RUN(many_threads_every_ok_is_durable);
    RUN(conflicting_pairs_exactly_one_wins);
    RUN(close_with_nothing_pending_and_reopen);
    tmp_cleanup();
    TEST_MAIN_END();
}
