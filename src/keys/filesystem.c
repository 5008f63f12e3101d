/*
 * filesystem.c — the filesystem key source: Web3Signer key descriptors.
 *
 * Each configured directory is scanned (not recursively) for *.yaml / *.yml
 * files, each one a Web3Signer descriptor:
 *
 *   type: file-raw                      type: file-keystore
 *   keyType: BLS        (optional)      keystoreFile: key.json
 *   privateKey: 0x<64 hex>              keystorePasswordFile: key.pass
 *
 * Relative keystore and password paths resolve against the descriptor's own
 * directory, and a password is the first line of its file, as Web3Signer
 * reads them.
 *
 * Decryption dominates: a real scrypt keystore costs ~1 s of CPU and 256 MiB,
 * so a pool of min(cores, MemAvailable / 256 MiB) threads takes descriptors
 * off a shared counter and adds keys to one keyset; progress is logged every
 * 10% (for large loads) and at least every 2 s.  A bad descriptor or keystore
 * is logged at warn with its file and the reason, counted as failed, and
 * skipped.  The finished set replaces this source's previous keys in one
 * step (cc_keyring_replace_origin), so the same call serves start-up and
 * /reload, and signing continues throughout.
 *
 * Descriptor text (which may hold a raw private key) and password files are
 * read into secret memory, and every YAML scalar is wiped before libyaml
 * frees its document.
 */
#include "keys/keys.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <yaml.h>

#include "keys/eip2335.h"
#include "util/hex.h"
#include "util/log.h"
#include "util/secret.h"

#define DESCRIPTOR_MAX (1u << 20)
#define KEYSTORE_MAX (1u << 20)
#define PASSWORD_MAX (64u << 10)
#define SCRYPT_BYTES ((uint64_t)256 << 20)
#define PROGRESS_SECONDS 2.0

typedef struct fs_source {
    cc_key_source base;
    char **paths;
    size_t count;
    pthread_mutex_t load_lock; /* one load at a time */
} fs_source;

/* ------------------------------------------------------------------------ */
/* Files                                                                    */

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * Reads a whole file (at most max bytes) into a NUL-terminated buffer, in
 * secret memory when secret is set.  *cap receives the allocation size (for
 * cc_secret_free).  `what` names the field in messages.
 */
static cc_status read_file(const char *path, const char *what, size_t max, int secret, char **out, size_t *len,
                           size_t *cap, cc_error *err)
{
    *out = NULL;
    *len = *cap = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return cc_error_set(err, errno == ENOENT ? CC_ENOTFOUND : CC_EIO, "%s %s: cannot open: %s", what, path,
                            strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return cc_error_set(err, CC_EIO, "%s %s: not a regular file", what, path);
    }
    if ((uint64_t)st.st_size > max) {
        close(fd);
        return cc_error_set(err, CC_EINVAL, "%s %s: larger than %zu bytes", what, path, max);
    }
    size_t n = (size_t)st.st_size + 1;
    char *buf = secret ? cc_secret_alloc(n) : calloc(1, n);
    if (!buf) {
        close(fd);
        return cc_error_set(err, CC_ENOMEM, "%s %s: out of memory", what, path);
    }
    size_t got = 0;
    while (got < n - 1) {
        ssize_t r = read(fd, buf + got, n - 1 - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    int failed = got != n - 1;
    int saved = errno;
    close(fd);
    if (failed) {
        if (secret)
            cc_secret_free(buf, n);
        else
            free(buf);
        return cc_error_set(err, CC_EIO, "%s %s: read failed: %s", what, path, strerror(saved));
    }
    buf[got] = '\0';
    *out = buf;
    *len = got;
    *cap = n;
    return CC_OK;
}

/* A relative path resolves against the descriptor's directory. malloc'ed. */
static char *resolve(const char *dir, const char *p)
{
    if (p[0] == '/')
        return strdup(p);
    size_t n = strlen(dir) + 1 + strlen(p) + 1;
    char *s = malloc(n);
    if (s)
        snprintf(s, n, "%s/%s", dir, p);
    return s;
}

/* ------------------------------------------------------------------------ */
/* One descriptor                                                           */

typedef struct descriptor {
    char type[32];
    char key_type[32];
    char *keystore_file;      /* malloc'ed, as written */
    char *password_file;      /* malloc'ed, as written */
    int has_type, has_key_type, has_private_key;
    uint8_t *sk;              /* secret memory, 32 bytes: file-raw's privateKey */
    cc_status sk_status;
    cc_error sk_err;
} descriptor;

static void copy_field(char *dst, size_t cap, const yaml_node_t *v)
{
    size_t n = v->data.scalar.length < cap - 1 ? v->data.scalar.length : cap - 1;
    memcpy(dst, v->data.scalar.value, n);
    dst[n] = '\0';
}

static cc_status parse_descriptor(const char *text, size_t len, descriptor *d, cc_error *err)
{
    yaml_parser_t parser;
    yaml_document_t doc;
    if (!yaml_parser_initialize(&parser))
        return cc_error_set(err, CC_ENOMEM, "out of memory for the YAML parser");
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    if (!yaml_parser_load(&parser, &doc)) {
        cc_status st = cc_error_set(err, CC_EINVAL, "invalid YAML at line %zu: %s",
                                    parser.problem_mark.line + 1, parser.problem ? parser.problem : "parse error");
        yaml_parser_delete(&parser);
        return st;
    }
    cc_status st = CC_OK;
    yaml_node_t *root = yaml_document_get_root_node(&doc);
    if (!root) {
        st = cc_error_set(err, CC_EINVAL, "empty descriptor");
        goto out;
    }
    if (root->type != YAML_MAPPING_NODE) {
        st = cc_error_set(err, CC_EINVAL, "descriptor is not a YAML mapping");
        goto out;
    }
    for (yaml_node_pair_t *pr = root->data.mapping.pairs.start; pr < root->data.mapping.pairs.top; pr++) {
        yaml_node_t *k = yaml_document_get_node(&doc, pr->key);
        yaml_node_t *v = yaml_document_get_node(&doc, pr->value);
        if (!k || !v || k->type != YAML_SCALAR_NODE)
            continue;
        const char *key = (const char *)k->data.scalar.value;
        int known = !strcmp(key, "type") || !strcmp(key, "keyType") || !strcmp(key, "privateKey") ||
                    !strcmp(key, "keystoreFile") || !strcmp(key, "keystorePasswordFile");
        if (!known)
            continue;
        if (v->type != YAML_SCALAR_NODE) {
            st = cc_error_set(err, CC_EINVAL, "%s: not a plain value", key);
            goto out;
        }
        const char *val = (const char *)v->data.scalar.value;
        if (!strcmp(key, "type")) {
            copy_field(d->type, sizeof d->type, v);
            d->has_type = 1;
        } else if (!strcmp(key, "keyType")) {
            copy_field(d->key_type, sizeof d->key_type, v);
            d->has_key_type = 1;
        } else if (!strcmp(key, "privateKey")) {
            d->has_private_key = 1;
            d->sk_status = cc_hex_decode_exact(val, d->sk, 32, &d->sk_err);
        } else if (!strcmp(key, "keystoreFile")) {
            free(d->keystore_file);
            d->keystore_file = strdup(val);
        } else {
            free(d->password_file);
            d->password_file = strdup(val);
        }
    }
out:
    /* libyaml frees without wiping; the privateKey scalar must not linger. */
    for (yaml_node_t *n = doc.nodes.start; n < doc.nodes.top; n++)
        if (n->type == YAML_SCALAR_NODE)
            cc_secret_wipe(n->data.scalar.value, n->data.scalar.length);
    yaml_document_delete(&doc);
    yaml_parser_delete(&parser);
    return st;
}

/* The first line of a password file, as Web3Signer reads it; blank is refused. */
static cc_status first_line(const char *path, char *buf, size_t *len, cc_error *err)
{
    size_t n = strcspn(buf, "\r\n");
    if (n < *len)
        *len = n;
    int blank = 1;
    for (size_t i = 0; i < *len; i++)
        if (buf[i] != ' ' && buf[i] != '\t' && buf[i] != '\f' && buf[i] != '\v')
            blank = 0;
    if (blank)
        return cc_error_set(err, CC_EINVAL, "keystorePasswordFile %s: password is empty", path);
    return CC_OK;
}

static cc_status load_keystore(const char *dir, const descriptor *d, uint8_t sk[32], cc_error *err)
{
    if (!d->keystore_file)
        return cc_error_set(err, CC_EINVAL, "keystoreFile: missing");
    if (!d->password_file)
        return cc_error_set(err, CC_EINVAL, "keystorePasswordFile: missing");
    char *ks_path = resolve(dir, d->keystore_file);
    char *pw_path = resolve(dir, d->password_file);
    char *json = NULL, *pw = NULL;
    size_t json_len, json_cap, pw_len, pw_cap = 0;
    cc_status st;
    if (!ks_path || !pw_path) {
        st = cc_error_set(err, CC_ENOMEM, "out of memory");
        goto out;
    }
    if ((st = read_file(ks_path, "keystoreFile", KEYSTORE_MAX, 0, &json, &json_len, &json_cap, err)) != CC_OK ||
        (st = read_file(pw_path, "keystorePasswordFile", PASSWORD_MAX, 1, &pw, &pw_len, &pw_cap, err)) != CC_OK ||
        (st = first_line(pw_path, pw, &pw_len, err)) != CC_OK)
        goto out;
    if ((st = cc_eip2335_decrypt(json, json_len, pw, pw_len, sk, NULL, err)) != CC_OK)
        cc_error_prefix(err, "keystoreFile %s", ks_path);
out:
    free(json);
    cc_secret_free(pw, pw_cap);
    free(ks_path);
    free(pw_path);
    return st;
}

/*
 * Loads one descriptor into set.  CC_OK (pubkey set), CC_ECONFLICT for a key
 * already in the set (pubkey set), anything else is a failure with err filled.
 */
/* Parses a descriptor's text into d (d->sk allocated) and checks its type, keyType and privateKey. */
static cc_status check_descriptor(const char *text, size_t len, descriptor *d, cc_error *err)
{
    cc_status st = parse_descriptor(text, len, d, err);
    if (st != CC_OK)
        return st;
    if (!d->has_type)
        return cc_error_set(err, CC_EINVAL, "type: missing (file-raw or file-keystore)");
    if (d->has_key_type && strcasecmp(d->key_type, "BLS") != 0)
        return cc_error_set(err, CC_EINVAL, "keyType: unsupported \"%s\" (only BLS)", d->key_type);
    if (!strcmp(d->type, "file-raw")) {
        if (!d->has_private_key)
            return cc_error_set(err, CC_EINVAL, "privateKey: missing");
        if (d->sk_status != CC_OK) {
            if (err) {
                *err = d->sk_err;
                cc_error_prefix(err, "privateKey");
            }
            return d->sk_status;
        }
    }
    return CC_OK;
}

cc_status cc_key_descriptor_check(const char *text, size_t len, int *is_keystore, cc_error *err)
{
    descriptor d;
    memset(&d, 0, sizeof d);
    d.sk = cc_secret_alloc(32);
    if (!d.sk)
        return cc_error_set(err, CC_ENOMEM, "out of memory");
    cc_status st = check_descriptor(text, len, &d, err);
    if (st == CC_OK && strcmp(d.type, "file-raw") != 0 && strcmp(d.type, "file-keystore") != 0)
        st = cc_error_set(err, CC_EINVAL, "type: unsupported \"%s\" (file-raw or file-keystore)", d.type);
    if (st == CC_OK && is_keystore)
        *is_keystore = !strcmp(d.type, "file-keystore");
    cc_secret_free(d.sk, 32);
    free(d.keystore_file);
    free(d.password_file);
    return st;
}

static cc_status load_descriptor(const char *path, cc_keyset *set, uint8_t pubkey[CC_BLS_PUBKEY_LEN],
                                 cc_error *err)
{
    char *text = NULL;
    size_t len, cap = 0;
    descriptor d;
    memset(&d, 0, sizeof d);
    cc_status st = read_file(path, "descriptor", DESCRIPTOR_MAX, 1, &text, &len, &cap, err);
    if (st != CC_OK)
        return st;
    d.sk = cc_secret_alloc(32);
    if (!d.sk) {
        st = cc_error_set(err, CC_ENOMEM, "out of memory");
        goto out;
    }
    if ((st = check_descriptor(text, len, &d, err)) != CC_OK)
        goto out;
    if (!strcmp(d.type, "file-raw")) {
        /* privateKey decoded by check_descriptor */
    } else if (!strcmp(d.type, "file-keystore")) {
        char *dir = strdup(path);
        if (!dir) {
            st = cc_error_set(err, CC_ENOMEM, "out of memory");
            goto out;
        }
        char *slash = strrchr(dir, '/');
        if (slash)
            *slash = '\0';
        st = load_keystore(slash ? (dir[0] ? dir : "/") : ".", &d, d.sk, err);
        free(dir);
        if (st != CC_OK)
            goto out;
    } else {
        st = cc_error_set(err, CC_EINVAL, "type: unsupported \"%s\" (file-raw or file-keystore)", d.type);
        goto out;
    }
    if ((st = cc_keyset_add(set, d.sk, pubkey, err)) != CC_OK && st != CC_ECONFLICT)
        cc_error_prefix(err, "privateKey");
out:
    cc_secret_free(d.sk, 32);
    free(d.keystore_file);
    free(d.password_file);
    cc_secret_free(text, cap);
    return st;
}

/* ------------------------------------------------------------------------ */
/* The loader pool                                                          */

typedef struct loader {
    char **files;
    size_t total;
    size_t next; /* atomic: the next descriptor to take */
    cc_keyset *set;
    pthread_mutex_t mu; /* guards the counters below */
    size_t done, failed, duplicates;
    size_t last_decile;
    double start, last_log;
} loader;

static void progress(loader *l, cc_status st)
{
    pthread_mutex_lock(&l->mu);
    l->done++;
    if (st == CC_ECONFLICT)
        l->duplicates++;
    else if (st != CC_OK)
        l->failed++;
    double t = now_seconds();
    size_t decile = l->done * 10 / l->total;
    int due = (l->total >= 50 && decile > l->last_decile) || t - l->last_log >= PROGRESS_SECONDS;
    if (due && l->done < l->total) {
        char done[32], total[32], failed[32], secs[32];
        snprintf(done, sizeof done, "%zu", l->done);
        snprintf(total, sizeof total, "%zu", l->total);
        snprintf(failed, sizeof failed, "%zu", l->failed);
        snprintf(secs, sizeof secs, "%.1f", t - l->start);
        cc_log(CC_LOG_INFO, "loading keys", "source", "filesystem", "processed", done, "total", total, "failed",
               failed, "seconds", secs, NULL);
        l->last_decile = decile;
        l->last_log = t;
    }
    pthread_mutex_unlock(&l->mu);
}

static void *loader_run(void *arg)
{
    loader *l = arg;
    for (;;) {
        size_t i = __atomic_fetch_add(&l->next, 1, __ATOMIC_RELAXED);
        if (i >= l->total)
            break;
        cc_error err;
        cc_error_clear(&err);
        uint8_t pk[CC_BLS_PUBKEY_LEN];
        cc_status st = load_descriptor(l->files[i], l->set, pk, &err);
        if (st == CC_ECONFLICT) {
            char hex[2 * CC_BLS_PUBKEY_LEN + 3];
            cc_hex_encode0x(pk, sizeof pk, hex);
            cc_log(CC_LOG_WARN, "duplicate key skipped", "file", l->files[i], "pubkey", hex, NULL);
        } else if (st != CC_OK) {
            cc_log(CC_LOG_WARN, "key descriptor skipped", "file", l->files[i], "reason", err.msg, NULL);
        }
        progress(l, st);
    }
    return NULL;
}

/* min(online cores, MemAvailable / 256 MiB), at least 1. */
static size_t worker_count(void)
{
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    size_t n = cores > 0 ? (size_t)cores : 1;
    FILE *f = fopen("/proc/meminfo", "re");
    if (f) {
        char line[256];
        unsigned long long kb;
        while (fgets(line, sizeof line, f))
            if (sscanf(line, "MemAvailable: %llu kB", &kb) == 1) {
                size_t by_mem = (size_t)(kb * 1024 / SCRYPT_BYTES);
                if (by_mem < n)
                    n = by_mem;
                break;
            }
        fclose(f);
    }
    return n ? n : 1;
}

static int has_yaml_suffix(const char *name)
{
    size_t n = strlen(name);
    return (n > 5 && !strcasecmp(name + n - 5, ".yaml")) || (n > 4 && !strcasecmp(name + n - 4, ".yml"));
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Collects descriptor paths from every directory; a missing directory counts as failed. */
static cc_status scan(const fs_source *fs, char ***out, size_t *count, size_t *failed, cc_error *err)
{
    char **files = NULL;
    size_t n = 0, cap = 0;
    for (size_t d = 0; d < fs->count; d++) {
        DIR *dir = opendir(fs->paths[d]);
        if (!dir) {
            cc_log(CC_LOG_WARN, "key directory unreadable", "dir", fs->paths[d], "reason", strerror(errno), NULL);
            (*failed)++;
            continue;
        }
        struct dirent *de;
        while ((de = readdir(dir))) {
            if (!has_yaml_suffix(de->d_name))
                continue;
            char *p = resolve(fs->paths[d], de->d_name);
            struct stat st;
            if (p && (stat(p, &st) != 0 || !S_ISREG(st.st_mode))) {
                free(p);
                continue;
            }
            if (p && n == cap) {
                size_t ncap = cap ? cap * 2 : 64;
                char **nf = realloc(files, ncap * sizeof *nf);
                if (nf) {
                    files = nf;
                    cap = ncap;
                } else {
                    free(p);
                    p = NULL;
                }
            }
            if (!p) {
                closedir(dir);
                for (size_t i = 0; i < n; i++)
                    free(files[i]);
                free(files);
                return cc_error_set(err, CC_ENOMEM, "out of memory listing %s", fs->paths[d]);
            }
            files[n++] = p;
        }
        closedir(dir);
    }
    if (n)
        qsort(files, n, sizeof *files, cmp_str);
    *out = files;
    *count = n;
    return CC_OK;
}

static cc_status fs_load(cc_key_source *src, cc_keyring *ring, cc_key_load_report *report, cc_error *err)
{
    fs_source *fs = (fs_source *)src;
    if (pthread_mutex_trylock(&fs->load_lock) != 0)
        return cc_error_set(err, CC_ECONFLICT, "a filesystem key load is already running");

    loader l;
    memset(&l, 0, sizeof l);
    l.start = l.last_log = now_seconds();
    size_t dir_failed = 0;
    cc_status st = scan(fs, &l.files, &l.total, &dir_failed, err);
    if (st != CC_OK) {
        pthread_mutex_unlock(&fs->load_lock);
        return st;
    }
    l.set = cc_keyset_new();
    if (!l.set) {
        st = cc_error_set(err, CC_ENOMEM, "out of memory for a keyset");
        goto out;
    }
    pthread_mutex_init(&l.mu, NULL);

    size_t workers = worker_count();
    if (workers > l.total)
        workers = l.total ? l.total : 1;
    char total[32], nworkers[32];
    snprintf(total, sizeof total, "%zu", l.total);
    snprintf(nworkers, sizeof nworkers, "%zu", workers);
    cc_log(CC_LOG_INFO, "loading keys", "source", "filesystem", "descriptors", total, "workers", nworkers, NULL);

    /* The calling thread is worker 0; if a thread cannot start, the others take its share. */
    pthread_t *threads = calloc(workers, sizeof *threads);
    size_t started = 0;
    for (size_t i = 1; threads && i < workers; i++)
        if (pthread_create(&threads[started], NULL, loader_run, &l) == 0)
            started++;
    loader_run(&l);
    for (size_t i = 0; i < started; i++)
        pthread_join(threads[i], NULL);
    free(threads);
    pthread_mutex_destroy(&l.mu);

    cc_keyring_replace_origin(ring, CC_KEY_FILESYSTEM, l.set);
    l.set = NULL;

    cc_key_load_report r;
    r.loaded = cc_keyring_count(ring, CC_KEY_FILESYSTEM);
    r.failed = l.failed + dir_failed;
    r.seconds = now_seconds() - l.start;
    if (report)
        *report = r;
    char loaded[32], failed[32], dups[32], secs[32];
    snprintf(loaded, sizeof loaded, "%zu", r.loaded);
    snprintf(failed, sizeof failed, "%zu", r.failed);
    snprintf(dups, sizeof dups, "%zu", l.duplicates);
    snprintf(secs, sizeof secs, "%.2f", r.seconds);
    cc_log(r.failed ? CC_LOG_WARN : CC_LOG_INFO, "keys loaded", "source", "filesystem", "count", loaded,
           "failed", failed, "duplicates", dups, "seconds", secs, NULL);
    st = CC_OK;
out:
    cc_keyset_free(l.set);
    for (size_t i = 0; i < l.total; i++)
        free(l.files[i]);
    free(l.files);
    pthread_mutex_unlock(&fs->load_lock);
    return st;
}

static void fs_free(cc_key_source *src)
{
    fs_source *fs = (fs_source *)src;
    if (!fs)
        return;
    for (size_t i = 0; i < fs->count; i++)
        free(fs->paths[i]);
    free(fs->paths);
    pthread_mutex_destroy(&fs->load_lock);
    free(fs);
}

static const cc_key_source_ops fs_ops = {
    .name = "filesystem",
    .load = fs_load,
    .free = fs_free,
};

cc_status cc_key_source_filesystem_new(char *const *paths, size_t count, cc_key_source **out, cc_error *err)
{
    *out = NULL;
    fs_source *fs = calloc(1, sizeof *fs);
    if (!fs || (count && !(fs->paths = calloc(count, sizeof *fs->paths)))) {
        free(fs);
        return cc_error_set(err, CC_ENOMEM, "out of memory for the filesystem key source");
    }
    fs->base.ops = &fs_ops;
    pthread_mutex_init(&fs->load_lock, NULL);
    for (size_t i = 0; i < count; i++) {
        if (!paths[i] || !paths[i][0]) {
            fs->count = i;
            fs_free(&fs->base);
            return cc_error_set(err, CC_ECONFIG, "key_sources.filesystem.paths[%zu]: empty path", i);
        }
        fs->paths[i] = strdup(paths[i]);
        if (!fs->paths[i]) {
            fs->count = i;
            fs_free(&fs->base);
            return cc_error_set(err, CC_ENOMEM, "out of memory for the filesystem key source");
        }
    }
    fs->count = count;
    *out = &fs->base;
    return CC_OK;
}
