/*
 * http.c — response helpers and content negotiation shared by every route.
 */
#include "api/http.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void cc_http_reply(cc_http_response *res, int status, const char *content_type, const char *fmt, ...)
{
    va_list ap;
    char *body = NULL;
    va_start(ap, fmt);
    int n = vasprintf(&body, fmt, ap);
    va_end(ap);
    free(res->body);
    res->status = status;
    res->content_type = content_type;
    res->body = n < 0 ? NULL : body;
    res->body_len = n < 0 ? 0 : (size_t)n;
}

void cc_http_reply_json(cc_http_response *res, int status, json_t *j)
{
    char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    if (!text) {
        cc_http_reply_error(res, 500, "out of memory");
        return;
    }
    free(res->body);
    res->status = status;
    res->content_type = "application/json";
    res->body = text;
    res->body_len = strlen(text);
}

void cc_http_reply_error(cc_http_response *res, int status, const char *message)
{
    json_t *obj = json_pack("{s:s}", "error", message ? message : "");
    char *text = obj ? json_dumps(obj, JSON_COMPACT) : NULL;
    json_decref(obj);
    free(res->body);
    res->status = status;
    res->content_type = "application/json";
    res->body = text;
    res->body_len = text ? strlen(text) : 0;
}

/*
 * Web3Signer answers JSON when any Accept entry is application/json or * / *,
 * and the bare signature as text/plain otherwise — including when Accept is
 * absent.  Parameters such as ;q=0.9 are ignored (their meaning there is
 * unspecified and no client we know sends q=0).
 */
const char *cc_http_query(const cc_http_request *req, const char *name)
{
    for (size_t i = 0; i < req->query_count && i < CC_HTTP_MAX_QUERY_ARGS; i++)
        if (req->query_names[i] && strcmp(req->query_names[i], name) == 0)
            return req->query_values[i] ? req->query_values[i] : "";
    return NULL;
}

int cc_http_accepts_json(const char *accept)
{
    if (!accept)
        return 0;
    const char *p = accept;
    while (*p) {
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        const char *start = p;
        while (*p && *p != ',' && *p != ';')
            p++;
        const char *end = p;
        while (end > start && (end[-1] == ' ' || end[-1] == '\t'))
            end--;
        size_t n = (size_t)(end - start);
        if ((n == 16 && strncasecmp(start, "application/json", 16) == 0) ||
            (n == 3 && strncmp(start, "*/*", 3) == 0))
            return 1;
        while (*p && *p != ',')
            p++;
    }
    return 0;
}
