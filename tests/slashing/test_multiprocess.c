/*
 * Two processes on one SQLite file race 1,000 conflicting attestation pairs
 * for a few validators: for every pair at most one may be allowed, and what
 * was allowed is exactly what the file holds.  Each process runs several
 * threads, so the race is between two group-committing writers.
 */
#include <pthread.h>
#include <sqlite3.h>
#include <sys/wait.h>

#include "helpers.h"
#include "test.h"

#define PAIRS 1000
#define MP_VALIDATORS 4
#define MP_THREADS 4

typedef struct mp_thread {
    cc_slashing *db;
    int side, thread;
    unsigned char *ok; /* ok[pair] */
    int errors;
} mp_thread;

/* Pair k: validator k % 4, target k / 4 + 1, source target - 1; side s signs root 2k + s. */
static void *mp_main(void *arg)
{
    mp_thread *m = arg;
    for (int k = m->thread; k < PAIRS; k += MP_THREADS) {
        uint8_t pk[48], root[32];
        cc_error err;
        uint64_t target = (uint64_t)(k / MP_VALIDATORS) + 1;
        pk_n(pk, (uint32_t)(k % MP_VALIDATORS));
        root_n(root, (uint32_t)(2 * k + m->side));
        cc_status st = cc_slashing_check_attestation(m->db, pk, target - 1, target, root, &err);
        m->ok[k] = st == CC_OK;
        if (st != CC_OK && st != CC_ESLASHABLE)
            m->errors++;
    }
    return NULL;
}

/* One side: open, race, write ok[] to fd. Runs in a child process. */
static int run_side(const char *path, int side, int fd, int ready_fd, int go_fd)
{
    cc_slashing *db = NULL;
    cc_error err;
    if (cc_slashing_sqlite_open(path, GVR_A, &db, &err) != CC_OK) {
        fprintf(stderr, "side %d: %s\n", side, err.msg);
        return 2;
    }
    /* Both sides open, then start together. */
    char c = 'r';
    if (write(ready_fd, &c, 1) != 1 || read(go_fd, &c, 1) != 1)
        return 2;
    static unsigned char ok[PAIRS];
    mp_thread m[MP_THREADS];
    pthread_t th[MP_THREADS];
    for (int t = 0; t < MP_THREADS; t++) {
        m[t] = (mp_thread){.db = db, .side = side, .thread = t, .ok = ok};
        pthread_create(&th[t], NULL, mp_main, &m[t]);
    }
    int errors = 0;
    for (int t = 0; t < MP_THREADS; t++) {
        pthread_join(th[t], NULL);
        errors += m[t].errors;
    }
    cc_slashing_close(db);
    if (write(fd, ok, sizeof ok) != (ssize_t)sizeof ok)
        return 2;
    if (errors)
        fprintf(stderr, "side %d: %d errors\n", side, errors);
    return errors ? 1 : 0;
}

TEST(two_processes_race_conflicting_pairs)
{
    const char *p = tmp_db("multiprocess");
    char path[512];
    snprintf(path, sizeof path, "%s", p);
    /* Create and bind the file first so both sides open an existing database. */
    cc_slashing *db = NULL;
    cc_error err;
    CHECK_EQ_INT(cc_slashing_sqlite_open(path, GVR_A, &db, &err), CC_OK);
    cc_slashing_close(db);

    int fds[2][2], ready[2], go[2];
    pid_t pid[2];
    CHECK(pipe(ready) == 0 && pipe(go) == 0);
    for (int s = 0; s < 2; s++) {
        CHECK(pipe(fds[s]) == 0);
        fflush(NULL);
        pid[s] = fork();
        if (pid[s] == 0) {
            close(fds[s][0]);
            _exit(run_side(path, s, fds[s][1], ready[1], go[0]));
        }
        close(fds[s][1]);
    }
    char c[2];
    CHECK(read(ready[0], c, 1) == 1 && read(ready[0], c, 1) == 1);
    CHECK(write(go[1], "gg", 2) == 2);
    close(ready[0]);
    close(ready[1]);
    close(go[0]);
    close(go[1]);
    static unsigned char ok[2][PAIRS];
    for (int s = 0; s < 2; s++) {
        size_t got = 0;
        while (got < PAIRS) {
            ssize_t n = read(fds[s][0], ok[s] + got, PAIRS - got);
            if (n <= 0)
                break;
            got += (size_t)n;
        }
        CHECK_EQ_INT(got, PAIRS);
        close(fds[s][0]);
        int status = 0;
        waitpid(pid[s], &status, 0);
        CHECK_MSG(WIFEXITED(status) && WEXITSTATUS(status) == 0, "side %d exit status %d", s, status);
    }
    int both = 0, none = 0, wins[2] = {0, 0};
    for (int k = 0; k < PAIRS; k++) {
        both += ok[0][k] && ok[1][k];
        none += !ok[0][k] && !ok[1][k];
        wins[0] += ok[0][k];
        wins[1] += ok[1][k];
    }
    CHECK_EQ_INT(both, 0);
    CHECK_EQ_INT(none, 0); /* no errors, so one side always won */
    printf("  %d pairs: process A won %d, process B won %d, both %d\n", PAIRS, wins[0], wins[1], both);

    /* The file holds exactly the winners. */
    sqlite3 *raw = NULL;
    CHECK_EQ_INT(sqlite3_open_v2(path, &raw, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_stmt *s = NULL;
    sqlite3_prepare_v2(raw,
                       "SELECT a.signing_root FROM signed_attestations a JOIN validators v ON v.id = a.validator_id "
                       "WHERE v.public_key = ?1 AND a.target_epoch = ?2",
                       -1, &s, NULL);
    int match = 0;
    for (int k = 0; k < PAIRS; k++) {
        uint8_t pk[48], root[32];
        pk_n(pk, (uint32_t)(k % MP_VALIDATORS));
        root_n(root, (uint32_t)(2 * k + (ok[1][k] ? 1 : 0)));
        sqlite3_reset(s);
        sqlite3_bind_blob(s, 1, pk, 48, SQLITE_TRANSIENT);
        sqlite3_bind_int64(s, 2, k / MP_VALIDATORS + 1);
        if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_bytes(s, 0) == 32 &&
            memcmp(sqlite3_column_blob(s, 0), root, 32) == 0)
            match++;
    }
    sqlite3_finalize(s);
    sqlite3_close(raw);
    CHECK_EQ_INT(match, PAIRS);
}

int main(void)
{
    RUN(two_processes_race_conflicting_pairs);
    tmp_cleanup();
    TEST_MAIN_END();
}
