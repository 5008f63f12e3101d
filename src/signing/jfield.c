/*
 * jfield.c — typed, path-naming access to jansson objects (see jfield.h).
 */
#include "signing/jfield.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "util/hex.h"

void cc_path_render(const cc_path *path, const char *leaf, char *buf, size_t cap)
{
    const cc_path *links[32];
    size_t n = 0;
    for (const cc_path *p = path; p && n < 32; p = p->up)
        links[n++] = p;
    size_t off = 0;
    buf[0] = '\0';
    for (size_t i = n; i-- > 0 && off < cap;) {
        int w;
        if (links[i]->name)
            w = snprintf(buf + off, cap - off, "%s%s", off ? "." : "", links[i]->name);
        else
            w = snprintf(buf + off, cap - off, "[%zu]", links[i]->index);
        if (w < 0)
            break;
        off += (size_t)w;
    }
    if (leaf && off < cap)
        snprintf(buf + off, cap - off, "%s%s", off ? "." : "", leaf);
}

cc_status cc_path_fail(cc_error *err, const cc_path *path, const char *leaf, const char *fmt, ...)
{
    if (!err)
        return CC_EINVAL;
    char where[256];
    cc_path_render(path, leaf, where, sizeof where);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    err->code = CC_EINVAL;
    if (where[0])
        cc_error_prefix(err, "%s", where);
    return CC_EINVAL;
}

json_t *cc_jf_get(const json_t *obj, const char *snake)
{
    json_t *v = json_object_get(obj, snake);
    if (v || !strchr(snake, '_'))
        return v;
    char camel[64];
    size_t o = 0;
    for (const char *s = snake; *s && o + 1 < sizeof camel; s++) {
        if (*s == '_' && s[1]) {
            s++;
            camel[o++] = (char)((*s >= 'a' && *s <= 'z') ? *s - 'a' + 'A' : *s);
        } else {
            camel[o++] = *s;
        }
    }
    camel[o] = '\0';
    return json_object_get(obj, camel);
}

static const char *type_name(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT:  return "an object";
    case JSON_ARRAY:   return "an array";
    case JSON_STRING:  return "a string";
    case JSON_INTEGER: return "a number";
    case JSON_REAL:    return "a number";
    case JSON_TRUE:
    case JSON_FALSE:   return "a boolean";
    case JSON_NULL:    return "null";
    }
    return "an unknown value";
}

/* Looks key up; a missing or null member is reported as missing. */
static cc_status member(const json_t *obj, const char *key, const cc_path *path, json_t **out, cc_error *err)
{
    json_t *v = json_is_object(obj) ? cc_jf_get(obj, key) : NULL;
    if (!v || json_is_null(v))
        return cc_path_fail(err, path, key, "missing field");
    *out = v;
    return CC_OK;
}

cc_status cc_jf_object(const json_t *obj, const char *key, const cc_path *path, json_t **out, cc_error *err)
{
    json_t *v = NULL;
    if (member(obj, key, path, &v, err) != CC_OK)
        return CC_EINVAL;
    if (!json_is_object(v))
        return cc_path_fail(err, path, key, "expected an object, got %s", type_name(v));
    *out = v;
    return CC_OK;
}

cc_status cc_jf_array(const json_t *obj, const char *key, const cc_path *path, size_t max, json_t **out,
                      cc_error *err)
{
    json_t *v = NULL;
    if (member(obj, key, path, &v, err) != CC_OK)
        return CC_EINVAL;
    if (!json_is_array(v))
        return cc_path_fail(err, path, key, "expected an array, got %s", type_name(v));
    if (json_array_size(v) > max)
        return cc_path_fail(err, path, key, "%zu items exceed the limit of %zu", json_array_size(v), max);
    *out = v;
    return CC_OK;
}

cc_status cc_jf_string(const json_t *obj, const char *key, const cc_path *path, const char **out,
                       cc_error *err)
{
    json_t *v = NULL;
    if (member(obj, key, path, &v, err) != CC_OK)
        return CC_EINVAL;
    if (!json_is_string(v))
        return cc_path_fail(err, path, key, "expected a string, got %s", type_name(v));
    *out = json_string_value(v);
    return CC_OK;
}

static cc_status value_u64(const json_t *v, const cc_path *path, const char *leaf, uint64_t *out,
                           cc_error *err)
{
    if (json_is_string(v)) {
        cc_error e;
        if (cc_parse_u64(json_string_value(v), out, &e) != CC_OK)
            return cc_path_fail(err, path, leaf, "%s", e.msg);
        return CC_OK;
    }
    /* jansson refuses integers beyond int64 at parse time, so this range is exact. */
    if (json_is_integer(v) && json_integer_value(v) >= 0) {
        *out = (uint64_t)json_integer_value(v);
        return CC_OK;
    }
    return cc_path_fail(err, path, leaf, "expected a decimal uint64 string, got %s", type_name(v));
}

cc_status cc_jf_u64(const json_t *obj, const char *key, const cc_path *path, uint64_t *out, cc_error *err)
{
    json_t *v = NULL;
    if (member(obj, key, path, &v, err) != CC_OK)
        return CC_EINVAL;
    return value_u64(v, path, key, out, err);
}

static cc_status value_bytes(const json_t *v, const cc_path *path, const char *leaf, uint8_t *out, size_t len,
                             cc_error *err)
{
    if (!json_is_string(v))
        return cc_path_fail(err, path, leaf, "expected a 0x-hex string, got %s", type_name(v));
    cc_error e;
    if (cc_hex_decode_exact(json_string_value(v), out, len, &e) != CC_OK)
        return cc_path_fail(err, path, leaf, "%s", e.msg);
    return CC_OK;
}

cc_status cc_jf_bytes(const json_t *obj, const char *key, const cc_path *path, uint8_t *out, size_t len,
                      cc_error *err)
{
    json_t *v = NULL;
    if (member(obj, key, path, &v, err) != CC_OK)
        return CC_EINVAL;
    return value_bytes(v, path, key, out, len, err);
}

cc_status cc_jf_bytes_var(const json_t *obj, const char *key, const cc_path *path, uint8_t *out, size_t cap,
                          size_t *len, cc_error *err)
{
    json_t *v = NULL;
    if (member(obj, key, path, &v, err) != CC_OK)
        return CC_EINVAL;
    if (!json_is_string(v))
        return cc_path_fail(err, path, key, "expected a 0x-hex string, got %s", type_name(v));
    cc_error e;
    if (cc_hex_decode(json_string_value(v), out, cap, len, &e) != CC_OK)
        return cc_path_fail(err, path, key, "%s", e.msg);
    return CC_OK;
}

cc_status cc_jv_u64(const json_t *v, const cc_path *path, uint64_t *out, cc_error *err)
{
    return value_u64(v, path, NULL, out, err);
}

cc_status cc_jv_bytes(const json_t *v, const cc_path *path, uint8_t *out, size_t len, cc_error *err)
{
    return value_bytes(v, path, NULL, out, len, err);
}

cc_status cc_jv_object(const json_t *v, const cc_path *path, cc_error *err)
{
    if (!json_is_object(v))
        return cc_path_fail(err, path, NULL, "expected an object, got %s", type_name(v));
    return CC_OK;
}
