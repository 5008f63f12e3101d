/*
 * policy.c — the key-policy evaluator: the subset of the IAM policy language
 * that KMS key policies use in this project, evaluated as AWS does.
 *
 *   Statement   an object or a list; each has Effect (Allow|Deny), Principal,
 *               Action, optional Resource, optional Condition.
 *   Principal   "*", {"AWS": "*"}, {"AWS": ARN | account-id | [...]}.  An
 *               account root ("arn:aws:iam::<acct>:root" or "<acct>") stands
 *               for every principal of that account (kms-local has no IAM to
 *               delegate to); a role ARN also matches that role's STS
 *               assumed-role sessions.
 *   Action      "kms:Decrypt", "kms:*", any glob (* and ?), case-insensitive.
 *   Resource    "*" or a glob on the key ARN.
 *   Condition   {Operator: {Key: value | [values]}}: every operator and every
 *               key must hold (AND); any of a key's values may match (OR).
 *               Operators StringEquals, StringNotEquals, StringEqualsIgnoreCase,
 *               StringNotEqualsIgnoreCase, StringLike, StringNotLike, each
 *               also with the IfExists suffix.  A key absent from the request
 *               fails a positive operator and satisfies a negated one (and
 *               any ...IfExists), as in IAM.
 *   Keys        kms:RecipientAttestation:ImageSha384 (= PCR0) and
 *               kms:RecipientAttestation:PCR<n> — lower-case hex of the
 *               verified attestation document, present only on requests with
 *               a Recipient; kms:EncryptionContext:<key>; kms:CallerAccount;
 *               aws:PrincipalArn.  Key names are case-insensitive except the
 *               encryption-context key after the prefix.
 *
 * An explicit Deny wins over any Allow; without a matching Allow the answer
 * is an implicit deny.  NotPrincipal, NotAction, NotResource and other
 * operators are refused by kl_policy_validate, so a policy is never silently
 * evaluated differently from AWS.
 */
#include "kmslocal/kmslocal.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/hex.h"

/* Glob match with '*' and '?'; icase folds ASCII case. Iterative with one backtrack point. */
static int glob_match(const char *pat, const char *s, int icase)
{
    const char *star = NULL, *ss = NULL;
    while (*s) {
        char pc = *pat, sc = *s;
        if (icase) {
            pc = (char)tolower((unsigned char)pc);
            sc = (char)tolower((unsigned char)sc);
        }
        if (*pat == '*') {
            star = pat++;
            ss = s;
        } else if (*pat && (*pat == '?' || pc == sc)) {
            pat++;
            s++;
        } else if (star) {
            pat = star + 1;
            s = ++ss;
        } else {
            return 0;
        }
    }
    while (*pat == '*')
        pat++;
    return *pat == '\0';
}

/* Field i (0-based) of an ARN split on ':' into out; "" if absent. */
static void arn_field(const char *arn, int i, char *out, size_t cap)
{
    out[0] = '\0';
    const char *p = arn;
    for (int f = 0; f < i; f++) {
        p = strchr(p, ':');
        if (!p)
            return;
        p++;
    }
    size_t n = strcspn(p, ":");
    if (n >= cap)
        n = cap - 1;
    memcpy(out, p, n);
    out[n] = '\0';
}

static int all_digits12(const char *s)
{
    if (strlen(s) != 12)
        return 0;
    for (; *s; s++)
        if (!isdigit((unsigned char)*s))
            return 0;
    return 1;
}

static int principal_matches_one(const char *want, const char *caller)
{
    if (strcmp(want, "*") == 0)
        return 1;
    char acct[64];
    arn_field(caller, 4, acct, sizeof acct);
    if (all_digits12(want))
        return strcmp(want, acct) == 0;
    char wacct[64], wres[512];
    arn_field(want, 4, wacct, sizeof wacct);
    arn_field(want, 5, wres, sizeof wres);
    if (strncmp(want, "arn:aws:iam::", 13) == 0 && strcmp(wres, "root") == 0)
        return strcmp(wacct, acct) == 0;
    if (strcmp(want, caller) == 0)
        return 1;
    /* role ARN vs assumed-role session of that role */
    char cres[512];
    arn_field(caller, 5, cres, sizeof cres);
    if (strncmp(want, "arn:aws:iam::", 13) == 0 && strncmp(wres, "role/", 5) == 0 &&
        strncmp(caller, "arn:aws:sts::", 13) == 0 && strncmp(cres, "assumed-role/", 13) == 0 &&
        strcmp(wacct, acct) == 0) {
        const char *rname = strrchr(wres, '/') + 1;
        const char *sess = cres + 13;
        size_t n = strcspn(sess, "/");
        return strlen(rname) == n && strncmp(rname, sess, n) == 0;
    }
    return 0;
}

/* Calls fn on a string or each string of a list; returns 1 if any call returned 1. */
static int any_string(json_t *v, int (*fn)(const char *, const void *), const void *arg)
{
    if (json_is_string(v))
        return fn(json_string_value(v), arg);
    size_t i;
    json_t *e;
    json_array_foreach(v, i, e) {
        if (json_is_string(e) && fn(json_string_value(e), arg))
            return 1;
    }
    return 0;
}

static int principal_cb(const char *want, const void *caller) { return principal_matches_one(want, caller); }
static int action_cb(const char *pat, const void *action) { return glob_match(pat, action, 1); }
static int resource_cb(const char *pat, const void *res) { return glob_match(pat, res, 0); }

static int principal_matches(json_t *p, const char *caller)
{
    if (json_is_string(p))
        return strcmp(json_string_value(p), "*") == 0;
    json_t *aws = json_object_get(p, "AWS");
    return aws && any_string(aws, principal_cb, caller);
}

/* The request's value for a condition key into buf, or NULL when the key is absent. */
static const char *condition_value(const char *key, const kl_policy_request *req, char *buf, size_t cap)
{
    static const char att[] = "kms:RecipientAttestation:";
    static const char ec[] = "kms:EncryptionContext:";
    if (strncasecmp(key, att, sizeof att - 1) == 0) {
        if (!req->att)
            return NULL;
        const char *rest = key + sizeof att - 1;
        long n = -1;
        if (strcasecmp(rest, "ImageSha384") == 0) {
            n = 0;
        } else if (strncasecmp(rest, "PCR", 3) == 0 && rest[3]) {
            char *end;
            n = strtol(rest + 3, &end, 10);
            if (*end || n < 0 || n >= KL_MAX_PCRS)
                return NULL;
        }
        if (n < 0 || !req->att->pcr_len[n] || cap < 2 * req->att->pcr_len[n] + 1)
            return NULL;
        cc_hex_encode(req->att->pcr[n], req->att->pcr_len[n], buf);
        return buf;
    }
    if (strncasecmp(key, ec, sizeof ec - 1) == 0) {
        json_t *v = req->context ? json_object_get(req->context, key + sizeof ec - 1) : NULL;
        return json_string_value(v);
    }
    if (strcasecmp(key, "kms:CallerAccount") == 0) {
        arn_field(req->principal, 4, buf, cap);
        return buf;
    }
    if (strcasecmp(key, "aws:PrincipalArn") == 0)
        return req->principal;
    return NULL;
}

typedef enum op_kind { OP_EQ, OP_EQ_ICASE, OP_LIKE } op_kind;

typedef struct op_desc {
    op_kind kind;
    int negated;
    int if_exists;
} op_desc;

static int parse_operator(const char *name, op_desc *d)
{
    static const struct { const char *n; op_kind k; int neg; } ops[] = {
        {"StringEquals", OP_EQ, 0},           {"StringNotEquals", OP_EQ, 1},
        {"StringEqualsIgnoreCase", OP_EQ_ICASE, 0}, {"StringNotEqualsIgnoreCase", OP_EQ_ICASE, 1},
        {"StringLike", OP_LIKE, 0},           {"StringNotLike", OP_LIKE, 1},
    };
    size_t n = strlen(name);
    d->if_exists = n > 8 && strcmp(name + n - 8, "IfExists") == 0;
    if (d->if_exists)
        n -= 8;
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
        if (strlen(ops[i].n) == n && strncmp(ops[i].n, name, n) == 0) {
            d->kind = ops[i].k;
            d->negated = ops[i].neg;
            return 0;
        }
    }
    return -1;
}

static int value_matches(op_kind k, const char *want, const char *got)
{
    switch (k) {
    case OP_EQ:       return strcmp(want, got) == 0;
    case OP_EQ_ICASE: return strcasecmp(want, got) == 0;
    case OP_LIKE:     return glob_match(want, got, 0);
    }
    return 0;
}

/* 1 if every operator/key of the Condition block holds for req. */
static int conditions_hold(json_t *cond, const kl_policy_request *req)
{
    if (!cond)
        return 1;
    const char *opname;
    json_t *keys;
    json_object_foreach(cond, opname, keys) {
        op_desc d;
        if (parse_operator(opname, &d) != 0)
            return 0; /* validate() refuses these; never let one widen access */
        const char *key;
        json_t *vals;
        json_object_foreach(keys, key, vals) {
            char buf[160];
            const char *got = condition_value(key, req, buf, sizeof buf);
            if (!got) {
                if (d.if_exists || d.negated)
                    continue;
                return 0;
            }
            int any = 0;
            if (json_is_string(vals)) {
                any = value_matches(d.kind, json_string_value(vals), got);
            } else {
                size_t i;
                json_t *v;
                json_array_foreach(vals, i, v) {
                    if (json_is_string(v) && value_matches(d.kind, json_string_value(v), got)) {
                        any = 1;
                        break;
                    }
                }
            }
            if (d.negated ? any : !any)
                return 0;
        }
    }
    return 1;
}

static int is_string_or_strings(json_t *v)
{
    if (json_is_string(v))
        return 1;
    if (!json_is_array(v) || json_array_size(v) == 0)
        return 0;
    size_t i;
    json_t *e;
    json_array_foreach(v, i, e) {
        if (!json_is_string(e))
            return 0;
    }
    return 1;
}

static cc_status validate_statement(json_t *st, size_t i, cc_error *err)
{
    if (!json_is_object(st))
        return cc_error_set(err, CC_EINVAL, "Statement[%zu] must be an object", i);
    static const char *const unsupported[] = {"NotPrincipal", "NotAction", "NotResource"};
    for (size_t u = 0; u < 3; u++)
        if (json_object_get(st, unsupported[u]))
            return cc_error_set(err, CC_EINVAL, "Statement[%zu].%s is not supported by kms-local", i, unsupported[u]);
    const char *eff = json_string_value(json_object_get(st, "Effect"));
    if (!eff || (strcmp(eff, "Allow") != 0 && strcmp(eff, "Deny") != 0))
        return cc_error_set(err, CC_EINVAL, "Statement[%zu].Effect must be Allow or Deny", i);
    json_t *p = json_object_get(st, "Principal");
    if (!p || !(json_is_string(p) ? strcmp(json_string_value(p), "*") == 0 : json_is_object(p)))
        return cc_error_set(err, CC_EINVAL, "Statement[%zu].Principal must be \"*\" or an object", i);
    if (json_is_object(p)) {
        const char *k;
        json_t *v;
        json_object_foreach(p, k, v) {
            if (!is_string_or_strings(v))
                return cc_error_set(err, CC_EINVAL, "Statement[%zu].Principal.%s must be a string or list", i, k);
        }
    }
    if (!is_string_or_strings(json_object_get(st, "Action")))
        return cc_error_set(err, CC_EINVAL, "Statement[%zu].Action must be a string or a list of strings", i);
    json_t *r = json_object_get(st, "Resource");
    if (r && !is_string_or_strings(r))
        return cc_error_set(err, CC_EINVAL, "Statement[%zu].Resource must be a string or a list of strings", i);
    json_t *c = json_object_get(st, "Condition");
    if (c) {
        if (!json_is_object(c))
            return cc_error_set(err, CC_EINVAL, "Statement[%zu].Condition must be an object", i);
        const char *op;
        json_t *keys;
        json_object_foreach(c, op, keys) {
            op_desc d;
            if (parse_operator(op, &d) != 0)
                return cc_error_set(err, CC_EINVAL, "Statement[%zu].Condition operator '%s' is not supported by kms-local",
                                    i, op);
            if (!json_is_object(keys))
                return cc_error_set(err, CC_EINVAL, "Statement[%zu].Condition.%s must be an object", i, op);
            const char *k;
            json_t *v;
            json_object_foreach(keys, k, v) {
                if (!is_string_or_strings(v))
                    return cc_error_set(err, CC_EINVAL, "Statement[%zu].Condition.%s.%s must be a string or list", i,
                                        op, k);
            }
        }
    }
    return CC_OK;
}

static cc_status parse_policy(const char *policy, json_t **root, json_t **stmts, cc_error *err)
{
    json_error_t je;
    *root = json_loads(policy ? policy : "", 0, &je);
    if (!*root || !json_is_object(*root)) {
        json_decref(*root);
        *root = NULL;
        return cc_error_set(err, CC_EINVAL, "policy is not a JSON object: %s", je.text);
    }
    json_t *s = json_object_get(*root, "Statement");
    if (json_is_object(s)) {
        json_t *a = json_array();
        json_array_append(a, s);
        json_object_set_new(*root, "Statement", a);
        s = a;
    }
    if (!json_is_array(s)) {
        json_decref(*root);
        *root = NULL;
        return cc_error_set(err, CC_EINVAL, "policy needs a Statement list");
    }
    *stmts = s;
    return CC_OK;
}

cc_status kl_policy_validate(const char *policy, cc_error *err)
{
    json_t *root, *stmts;
    cc_status s = parse_policy(policy, &root, &stmts, err);
    if (s != CC_OK)
        return s;
    size_t i;
    json_t *st;
    json_array_foreach(stmts, i, st) {
        if ((s = validate_statement(st, i, err)) != CC_OK)
            break;
    }
    json_decref(root);
    return s;
}

cc_status kl_policy_evaluate(const char *policy, const kl_policy_request *req, kl_decision *out, cc_error *err)
{
    json_t *root, *stmts;
    cc_status s = parse_policy(policy, &root, &stmts, err);
    if (s != CC_OK)
        return s;
    int allowed = 0, denied = 0;
    size_t i;
    json_t *st;
    json_array_foreach(stmts, i, st) {
        if (validate_statement(st, i, NULL) != CC_OK)
            continue; /* a statement we cannot read grants nothing */
        json_t *res = json_object_get(st, "Resource");
        if (!principal_matches(json_object_get(st, "Principal"), req->principal) ||
            !any_string(json_object_get(st, "Action"), action_cb, req->action) ||
            (res && !any_string(res, resource_cb, req->resource)) ||
            !conditions_hold(json_object_get(st, "Condition"), req))
            continue;
        if (strcmp(json_string_value(json_object_get(st, "Effect")), "Deny") == 0)
            denied = 1;
        else
            allowed = 1;
    }
    json_decref(root);
    *out = denied ? KL_DENY_EXPLICIT : allowed ? KL_ALLOW : KL_DENY_IMPLICIT;
    return CC_OK;
}

char *kl_policy_default(const char *account)
{
    const char *fmt = "{\"Version\":\"2012-10-17\",\"Id\":\"key-default-1\",\"Statement\":[{\"Sid\":"
                      "\"Enable IAM User Permissions\",\"Effect\":\"Allow\",\"Principal\":{\"AWS\":"
                      "\"arn:aws:iam::%s:root\"},\"Action\":\"kms:*\",\"Resource\":\"*\"}]}";
    size_t n = strlen(fmt) + strlen(account) + 1;
    char *p = malloc(n);
    if (p)
        snprintf(p, n, fmt, account);
    return p;
}
