/*
 * log.h — the one log convention: one JSON object per line on stderr.
 *
 *     {"ts":"2026-11-26T00:01:02.345Z","level":"info","msg":"keys loaded","count":"1000"}
 *
 * cc_log() takes a message and then key/value string pairs ending with NULL,
 * so every field is named and the line always parses as JSON:
 *
 *     cc_log(CC_LOG_INFO, "keys loaded", "count", buf, "failed", buf2, NULL);
 *
 * Never pass secret material: no field is ever redacted for you.
 */
#ifndef CC_LOG_H
#define CC_LOG_H

typedef enum cc_log_level {
    CC_LOG_DEBUG = 0,
    CC_LOG_INFO,
    CC_LOG_WARN,
    CC_LOG_ERROR
} cc_log_level;

/* Lines below this level are dropped. Default CC_LOG_INFO. */
void cc_log_set_level(cc_log_level level);
/* Parses "debug", "info", "warn", "error"; returns -1 if unknown. */
int cc_log_level_parse(const char *name);

/* msg, then (const char *key, const char *value) pairs, then NULL. A NULL value is written as null. */
void cc_log(cc_log_level level, const char *msg, ...) __attribute__((sentinel));

/* printf-style convenience for a message without fields. */
void cc_logf(cc_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
