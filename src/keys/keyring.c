/*
 * keyring.c — the set of keys the signer can sign with, and keysets (the
 * batches loaders build before handing them over).
 *
 * Both are the same chained hash table keyed by the 48-byte compressed public
 * key.  Each entry — public key, origin, chain link and the BLS scalar — is
 * one cc_secret_alloc block, so the scalar is locked in memory and wiped
 * when the entry is freed, and the table itself never copies it.
 *
 * Locking.  The keyring has a writer-preferring pthread rwlock: signing takes
 * it shared for one signature; add/remove/replace take it exclusive for a
 * few pointer moves only.  Anything slow (secret → public key, freeing and
 * wiping replaced entries) happens outside the lock, so a reload of
 * thousands of keystores never stalls signing.  A keyset has a plain mutex
 * so a pool of loader threads can add to one set.
 */
#include "keys/keys.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "util/hex.h"
#include "util/secret.h"

typedef struct key_entry {
    struct key_entry *next;
    cc_bls_sk sk;
    uint8_t pubkey[CC_BLS_PUBKEY_LEN];
    cc_key_origin origin;
} key_entry;

typedef struct key_table {
    key_entry **buckets;
    size_t nbuckets; /* a power of two, or 0 before the first insert */
    size_t count;
} key_table;

struct cc_keyring {
    pthread_rwlock_t lock;
    key_table tab;
    size_t per_origin[CC_KEY_ORIGIN_COUNT];
};

struct cc_keyset {
    pthread_mutex_t lock;
    key_table tab;
};

const char *cc_key_origin_name(cc_key_origin origin)
{
    switch (origin) {
    case CC_KEY_FILESYSTEM: return "filesystem";
    case CC_KEY_MEMORY:     return "memory";
    case CC_KEY_DYNAMODB:   return "dynamodb";
    default:                return "unknown";
    }
}

/* ------------------------------------------------------------------------ */
/* Entries and the table                                                    */

/* Builds an entry (secret → public key costs ~0.1 ms, so never under a lock). */
static cc_status entry_new(const uint8_t sk_be32[32], key_entry **out, cc_error *err)
{
    *out = NULL;
    key_entry *e = cc_secret_alloc(sizeof *e);
    if (!e)
        return cc_error_set(err, CC_ENOMEM, "out of memory for a key");
    cc_status st = cc_bls_sk_from_bytes(&e->sk, sk_be32, err);
    if (st != CC_OK) {
        cc_secret_free(e, sizeof *e);
        return st;
    }
    cc_bls_sk_to_pk(&e->sk, e->pubkey);
    *out = e;
    return CC_OK;
}

static void entry_free(key_entry *e) { cc_secret_free(e, sizeof *e); }

static void entry_list_free(key_entry *e)
{
    while (e) {
        key_entry *next = e->next;
        entry_free(e);
        e = next;
    }
}

/* The pubkey is a curve point chosen by key generation, so its bytes are
 * already uniform; FNV-1a over all of it is plenty. */
static size_t hash_pubkey(const uint8_t pk[CC_BLS_PUBKEY_LEN])
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < CC_BLS_PUBKEY_LEN; i++) {
        h ^= pk[i];
        h *= 1099511628211ull;
    }
    return (size_t)(h ^ (h >> 32));
}

static key_entry **table_slot(const key_table *t, const uint8_t pk[CC_BLS_PUBKEY_LEN])
{
    if (t->nbuckets == 0)
        return NULL;
    key_entry **p = &t->buckets[hash_pubkey(pk) & (t->nbuckets - 1)];
    while (*p && memcmp((*p)->pubkey, pk, CC_BLS_PUBKEY_LEN) != 0)
        p = &(*p)->next;
    return p;
}

static key_entry *table_find(const key_table *t, const uint8_t pk[CC_BLS_PUBKEY_LEN])
{
    key_entry **p = table_slot(t, pk);
    return p ? *p : NULL;
}

/* Grows to keep the load factor at most 1. 0 on success. */
static int table_reserve(key_table *t, size_t want)
{
    if (want <= t->nbuckets)
        return 0;
    size_t n = t->nbuckets ? t->nbuckets : 64;
    while (n < want)
        n *= 2;
    key_entry **nb = calloc(n, sizeof *nb);
    if (!nb)
        return -1;
    for (size_t i = 0; i < t->nbuckets; i++) {
        key_entry *e = t->buckets[i];
        while (e) {
            key_entry *next = e->next;
            size_t b = hash_pubkey(e->pubkey) & (n - 1);
            e->next = nb[b];
            nb[b] = e;
            e = next;
        }
    }
    free(t->buckets);
    t->buckets = nb;
    t->nbuckets = n;
    return 0;
}

/* Links e in; the caller has checked it is absent and reserved room. */
static void table_link(key_table *t, key_entry *e)
{
    size_t b = hash_pubkey(e->pubkey) & (t->nbuckets - 1);
    e->next = t->buckets[b];
    t->buckets[b] = e;
    t->count++;
}

/* Unlinks every entry into one list (returned); the table becomes empty. */
static key_entry *table_drain(key_table *t)
{
    key_entry *all = NULL;
    for (size_t i = 0; i < t->nbuckets; i++) {
        key_entry *e = t->buckets[i];
        while (e) {
            key_entry *next = e->next;
            e->next = all;
            all = e;
            e = next;
        }
        t->buckets[i] = NULL;
    }
    t->count = 0;
    return all;
}

static void table_destroy(key_table *t)
{
    entry_list_free(table_drain(t));
    free(t->buckets);
    t->buckets = NULL;
    t->nbuckets = 0;
}

/* ------------------------------------------------------------------------ */
/* Keyring                                                                  */

cc_keyring *cc_keyring_new(void)
{
    cc_keyring *ring = calloc(1, sizeof *ring);
    if (!ring)
        return NULL;
    pthread_rwlockattr_t attr;
    pthread_rwlockattr_init(&attr);
    /* glibc's default lets a steady stream of signers starve a reload. */
    pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    int rc = pthread_rwlock_init(&ring->lock, &attr);
    pthread_rwlockattr_destroy(&attr);
    if (rc != 0 || table_reserve(&ring->tab, 64) != 0) {
        if (rc == 0)
            pthread_rwlock_destroy(&ring->lock);
        free(ring);
        return NULL;
    }
    return ring;
}

void cc_keyring_free(cc_keyring *ring)
{
    if (!ring)
        return;
    table_destroy(&ring->tab);
    pthread_rwlock_destroy(&ring->lock);
    free(ring);
}

cc_status cc_keyring_sign(cc_keyring *ring, const uint8_t pubkey[CC_BLS_PUBKEY_LEN], const uint8_t *msg,
                          size_t msg_len, uint8_t sig[CC_BLS_SIG_LEN], cc_error *err)
{
    pthread_rwlock_rdlock(&ring->lock);
    key_entry *e = table_find(&ring->tab, pubkey);
    if (e)
        cc_bls_sign(&e->sk, msg, msg_len, sig);
    pthread_rwlock_unlock(&ring->lock);
    if (!e) {
        char hex[2 * CC_BLS_PUBKEY_LEN + 3];
        cc_hex_encode0x(pubkey, CC_BLS_PUBKEY_LEN, hex);
        return cc_error_set(err, CC_ENOTFOUND, "no key for public key %s", hex);
    }
    return CC_OK;
}

int cc_keyring_contains(cc_keyring *ring, const uint8_t pubkey[CC_BLS_PUBKEY_LEN])
{
    pthread_rwlock_rdlock(&ring->lock);
    int found = table_find(&ring->tab, pubkey) != NULL;
    pthread_rwlock_unlock(&ring->lock);
    return found;
}

int cc_keyring_origin(cc_keyring *ring, const uint8_t pubkey[CC_BLS_PUBKEY_LEN])
{
    pthread_rwlock_rdlock(&ring->lock);
    key_entry *e = table_find(&ring->tab, pubkey);
    int origin = e ? (int)e->origin : -1;
    pthread_rwlock_unlock(&ring->lock);
    return origin;
}

size_t cc_keyring_count(cc_keyring *ring, int origin)
{
    pthread_rwlock_rdlock(&ring->lock);
    size_t n = 0;
    if (origin < 0)
        n = ring->tab.count;
    else if (origin < CC_KEY_ORIGIN_COUNT)
        n = ring->per_origin[origin];
    pthread_rwlock_unlock(&ring->lock);
    return n;
}

static int cmp_pubkey(const void *a, const void *b) { return memcmp(a, b, CC_BLS_PUBKEY_LEN); }

cc_status cc_keyring_pubkeys(cc_keyring *ring, uint8_t (**out)[CC_BLS_PUBKEY_LEN], size_t *count, cc_error *err)
{
    *out = NULL;
    *count = 0;
    uint8_t(*arr)[CC_BLS_PUBKEY_LEN] = NULL;
    size_t n = 0;
    /* Allocate outside the lock; retry in the rare case the ring grew meanwhile. */
    for (;;) {
        size_t want = cc_keyring_count(ring, -1);
        free(arr);
        arr = malloc((want ? want : 1) * sizeof *arr);
        if (!arr)
            return cc_error_set(err, CC_ENOMEM, "out of memory listing %zu public keys", want);
        pthread_rwlock_rdlock(&ring->lock);
        if (ring->tab.count > want) {
            pthread_rwlock_unlock(&ring->lock);
            continue;
        }
        for (size_t i = 0; i < ring->tab.nbuckets; i++)
            for (key_entry *e = ring->tab.buckets[i]; e; e = e->next)
                memcpy(arr[n++], e->pubkey, CC_BLS_PUBKEY_LEN);
        pthread_rwlock_unlock(&ring->lock);
        break;
    }
    qsort(arr, n, sizeof *arr, cmp_pubkey);
    *out = arr;
    *count = n;
    return CC_OK;
}

cc_status cc_keyring_add(cc_keyring *ring, const uint8_t sk_be32[32], cc_key_origin origin,
                         uint8_t pubkey_out[CC_BLS_PUBKEY_LEN], cc_error *err)
{
    if ((int)origin < 0 || origin >= CC_KEY_ORIGIN_COUNT)
        return cc_error_set(err, CC_EINVAL, "unknown key origin %d", (int)origin);
    key_entry *e;
    cc_status est = entry_new(sk_be32, &e, err);
    if (est != CC_OK)
        return est;
    e->origin = origin;
    if (pubkey_out)
        memcpy(pubkey_out, e->pubkey, CC_BLS_PUBKEY_LEN);

    cc_status st = CC_OK;
    pthread_rwlock_wrlock(&ring->lock);
    key_entry *have = table_find(&ring->tab, e->pubkey);
    if (have) {
        st = cc_error_set(err, CC_ECONFLICT, "key already present (from %s)", cc_key_origin_name(have->origin));
    } else if (table_reserve(&ring->tab, ring->tab.count + 1) != 0) {
        st = cc_error_set(err, CC_ENOMEM, "out of memory growing the keyring");
    } else {
        table_link(&ring->tab, e);
        ring->per_origin[origin]++;
        e = NULL;
    }
    pthread_rwlock_unlock(&ring->lock);
    if (e)
        entry_free(e);
    return st;
}

cc_status cc_keyring_remove(cc_keyring *ring, const uint8_t pubkey[CC_BLS_PUBKEY_LEN], cc_error *err)
{
    pthread_rwlock_wrlock(&ring->lock);
    key_entry **p = table_slot(&ring->tab, pubkey);
    key_entry *e = p ? *p : NULL;
    if (e) {
        *p = e->next;
        ring->tab.count--;
        ring->per_origin[e->origin]--;
    }
    pthread_rwlock_unlock(&ring->lock);
    if (!e)
        return cc_error_set(err, CC_ENOTFOUND, "no such key");
    entry_free(e);
    return CC_OK;
}

void cc_keyring_replace_origin(cc_keyring *ring, cc_key_origin origin, cc_keyset *set)
{
    if ((int)origin < 0 || origin >= CC_KEY_ORIGIN_COUNT) {
        cc_keyset_free(set);
        return;
    }
    key_entry *incoming = NULL;
    size_t n_in = 0;
    if (set) {
        pthread_mutex_lock(&set->lock);
        n_in = set->tab.count;
        incoming = table_drain(&set->tab);
        pthread_mutex_unlock(&set->lock);
        cc_keyset_free(set);
    }
    key_entry *dropped = NULL;

    pthread_rwlock_wrlock(&ring->lock);
    /* Room for the worst case first, so the swap below cannot fail half-way.
     * If even that allocation fails we keep going with longer chains. */
    (void)table_reserve(&ring->tab, ring->tab.count + n_in);
    for (size_t i = 0; i < ring->tab.nbuckets; i++) {
        key_entry **p = &ring->tab.buckets[i];
        while (*p) {
            key_entry *e = *p;
            if (e->origin == origin) {
                *p = e->next;
                e->next = dropped;
                dropped = e;
                ring->tab.count--;
            } else {
                p = &e->next;
            }
        }
    }
    ring->per_origin[origin] = 0;
    while (incoming) {
        key_entry *e = incoming;
        incoming = e->next;
        if (table_find(&ring->tab, e->pubkey)) { /* held by another origin: keep it there */
            e->next = dropped;
            dropped = e;
            continue;
        }
        e->origin = origin;
        table_link(&ring->tab, e);
        ring->per_origin[origin]++;
    }
    pthread_rwlock_unlock(&ring->lock);

    entry_list_free(dropped); /* wiping happens outside the lock */
}

/* ------------------------------------------------------------------------ */
/* Keysets                                                                  */

cc_keyset *cc_keyset_new(void)
{
    cc_keyset *set = calloc(1, sizeof *set);
    if (!set)
        return NULL;
    if (pthread_mutex_init(&set->lock, NULL) != 0) {
        free(set);
        return NULL;
    }
    return set;
}

void cc_keyset_free(cc_keyset *set)
{
    if (!set)
        return;
    table_destroy(&set->tab);
    pthread_mutex_destroy(&set->lock);
    free(set);
}

/* Links e into set (consuming it either way): CC_ECONFLICT for a pubkey the set already has. */
static cc_status keyset_link(cc_keyset *set, key_entry *e, cc_error *err)
{
    cc_status st = CC_OK;
    pthread_mutex_lock(&set->lock);
    if (table_find(&set->tab, e->pubkey))
        st = cc_error_set(err, CC_ECONFLICT, "duplicate key");
    else if (table_reserve(&set->tab, set->tab.count + 1) != 0)
        st = cc_error_set(err, CC_ENOMEM, "out of memory growing a keyset");
    else {
        table_link(&set->tab, e);
        e = NULL;
    }
    pthread_mutex_unlock(&set->lock);
    if (e)
        entry_free(e);
    return st;
}

cc_status cc_keyset_add(cc_keyset *set, const uint8_t sk_be32[32], uint8_t pubkey_out[CC_BLS_PUBKEY_LEN],
                        cc_error *err)
{
    key_entry *e;
    cc_status est = entry_new(sk_be32, &e, err);
    if (est != CC_OK)
        return est;
    if (pubkey_out)
        memcpy(pubkey_out, e->pubkey, CC_BLS_PUBKEY_LEN);
    return keyset_link(set, e, err);
}

cc_status cc_keyset_add_checked(cc_keyset *set, const uint8_t sk_be32[32], const uint8_t pubkey[CC_BLS_PUBKEY_LEN],
                                cc_error *err)
{
    key_entry *e = cc_secret_alloc(sizeof *e);
    if (!e)
        return cc_error_set(err, CC_ENOMEM, "out of memory for a key");
    cc_status st = cc_bls_sk_from_bytes(&e->sk, sk_be32, err);
    if (st != CC_OK) {
        cc_secret_free(e, sizeof *e);
        return st;
    }
    memcpy(e->pubkey, pubkey, CC_BLS_PUBKEY_LEN);
    return keyset_link(set, e, err);
}

int cc_keyset_remove(cc_keyset *set, const uint8_t pubkey[CC_BLS_PUBKEY_LEN])
{
    pthread_mutex_lock(&set->lock);
    key_entry **p = table_slot(&set->tab, pubkey);
    key_entry *e = p ? *p : NULL;
    if (e) {
        *p = e->next;
        set->tab.count--;
    }
    pthread_mutex_unlock(&set->lock);
    if (e)
        entry_free(e);
    return e != NULL;
}

size_t cc_keyset_count(const cc_keyset *set)
{
    /* The mutex is internal state; the set itself is not modified. */
    cc_keyset *s = (cc_keyset *)set;
    pthread_mutex_lock(&s->lock);
    size_t n = s->tab.count;
    pthread_mutex_unlock(&s->lock);
    return n;
}
