/*
 * log.c — JSON-lines logging to stderr.  Each line is built in one buffer and
 * written with a single write(2), so lines from concurrent threads never
 * interleave.
 */
#include "util/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static cc_log_level min_level = CC_LOG_INFO;

void cc_log_set_level(cc_log_level level) { min_level = level; }

int cc_log_level_parse(const char *name)
{
    static const char *names[] = {"debug", "info", "warn", "error"};
    for (int i = 0; i < 4; i++)
        if (strcmp(name, names[i]) == 0)
            return i;
    return -1;
}

/* Appends s as a JSON string (with quotes) to buf at *len, never past cap - 2. */
static void append_json_string(char *buf, size_t *len, size_t cap, const char *s)
{
    size_t n = *len;
    if (n + 1 < cap)
        buf[n++] = '"';
    for (; *s && n + 8 < cap; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            buf[n++] = '\\';
            buf[n++] = (char)c;
        } else if (c == '\n') {
            buf[n++] = '\\';
            buf[n++] = 'n';
        } else if (c < 0x20) {
            n += (size_t)snprintf(buf + n, cap - n, "\\u%04x", c);
        } else {
            buf[n++] = (char)c;
        }
    }
    if (n + 1 < cap)
        buf[n++] = '"';
    *len = n;
}

static void append_raw(char *buf, size_t *len, size_t cap, const char *s)
{
    size_t n = *len;
    while (*s && n + 1 < cap)
        buf[n++] = *s++;
    *len = n;
}

static void vlog(cc_log_level level, const char *msg, va_list ap)
{
    static const char *names[] = {"debug", "info", "warn", "error"};
    char buf[4096];
    size_t len = 0, cap = sizeof buf - 2;
    struct timespec ts;
    struct tm tm;
    char tsbuf[96];

    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    snprintf(tsbuf, sizeof tsbuf, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (long)(ts.tv_nsec / 1000000) % 1000);

    append_raw(buf, &len, cap, "{\"ts\":\"");
    append_raw(buf, &len, cap, tsbuf);
    append_raw(buf, &len, cap, "\",\"level\":\"");
    append_raw(buf, &len, cap, names[level]);
    append_raw(buf, &len, cap, "\",\"msg\":");
    append_json_string(buf, &len, cap, msg);
    for (;;) {
        const char *key = va_arg(ap, const char *);
        if (!key)
            break;
        const char *value = va_arg(ap, const char *);
        append_raw(buf, &len, cap, ",");
        append_json_string(buf, &len, cap, key);
        append_raw(buf, &len, cap, ":");
        if (value)
            append_json_string(buf, &len, cap, value);
        else
            append_raw(buf, &len, cap, "null");
    }
    buf[len++] = '}';
    buf[len++] = '\n';
    ssize_t w = write(STDERR_FILENO, buf, len);
    (void)w;
}

void cc_log(cc_log_level level, const char *msg, ...)
{
    if (level < min_level)
        return;
    va_list ap;
    va_start(ap, msg);
    vlog(level, msg, ap);
    va_end(ap);
}

void cc_logf(cc_log_level level, const char *fmt, ...)
{
    if (level < min_level)
        return;
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    cc_log(level, msg, NULL);
}
