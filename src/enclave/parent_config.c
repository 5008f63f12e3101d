/*
 * parent_config.c — parent.yaml (parent_config.h), read with libyaml's
 * document API.
 */
#include "enclave/parent_config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "enclave/credfeed.h"
#include "enclave/transport.h"

void cc_parent_config_free(cc_parent_config *c)
{
    for (size_t i = 0; i < c->n; i++) {
        free((char *)c->routes[i].name);
        free((char *)c->routes[i].listen);
        free((char *)c->routes[i].connect);
    }
    free(c->cred_listen);
    free(c->cred_region);
    memset(c, 0, sizeof *c);
}

static const char *scalar(yaml_document_t *d, yaml_node_t *n)
{
    (void)d;
    return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

/* credentials: {listen, enclave_cid, lifetime_seconds, region} (credfeed.h). */
static cc_status load_credentials(yaml_document_t *d, yaml_node_t *m, const char *path, cc_parent_config *out,
                                  cc_error *err)
{
    if (m->type != YAML_MAPPING_NODE)
        return cc_error_set(err, CC_ECONFIG, "%s: credentials: expected a mapping", path);
    out->cred_enclave_cid = -1;
    out->cred_lifetime_seconds = 900;
    for (yaml_node_pair_t *pr = m->data.mapping.pairs.start; pr < m->data.mapping.pairs.top; pr++) {
        const char *k = scalar(d, yaml_document_get_node(d, pr->key));
        const char *v = scalar(d, yaml_document_get_node(d, pr->value));
        if (!k)
            return cc_error_set(err, CC_ECONFIG, "%s: credentials: keys must be scalars", path);
        if (!v || !*v)
            return cc_error_set(err, CC_ECONFIG, "%s: credentials.%.64s: expected a value", path, k);
        char *end;
        errno = 0;
        if (strcmp(k, "listen") == 0 || strcmp(k, "region") == 0) {
            char **dst = k[0] == 'l' ? &out->cred_listen : &out->cred_region;
            free(*dst);
            if (!(*dst = strdup(v)))
                return cc_error_set(err, CC_ENOMEM, "out of memory");
        } else if (strcmp(k, "enclave_cid") == 0) {
            long long x = strtoll(v, &end, 10);
            if (errno || *end || x < -1 || x > 0xFFFFFFFFLL)
                return cc_error_set(err, CC_ECONFIG, "%s: credentials.enclave_cid: expected -1..4294967295", path);
            out->cred_enclave_cid = x;
        } else if (strcmp(k, "lifetime_seconds") == 0) {
            unsigned long x = strtoul(v, &end, 10);
            if (errno || *end || v[0] == '-' || x < CC_CREDFEED_LIFETIME_MIN || x > CC_CREDFEED_LIFETIME_MAX)
                return cc_error_set(err, CC_ECONFIG, "%s: credentials.lifetime_seconds: expected %d..%d", path,
                                    CC_CREDFEED_LIFETIME_MIN, CC_CREDFEED_LIFETIME_MAX);
            out->cred_lifetime_seconds = (unsigned)x;
        } else {
            return cc_error_set(err, CC_ECONFIG, "%s: credentials: unknown key %.64s", path, k);
        }
    }
    if (!out->cred_listen)
        return cc_error_set(err, CC_ECONFIG, "%s: credentials.listen: required", path);
    const cc_transport_ops *ops;
    cc_transport_addr a;
    if (cc_transport_parse(out->cred_listen, &ops, &a, err) != CC_OK)
        return cc_error_prefix(err, "%s: credentials.listen", path);
    return CC_OK;
}

cc_status cc_parent_config_load(const char *path, cc_parent_config *out, cc_error *err)
{
    memset(out, 0, sizeof *out);
    FILE *f = fopen(path, "rb");
    if (!f)
        return cc_error_set(err, CC_ECONFIG, "%s: cannot open", path);
    yaml_parser_t p;
    yaml_document_t d;
    yaml_parser_initialize(&p);
    yaml_parser_set_input_file(&p, f);
    cc_status st = CC_OK;
    if (!yaml_parser_load(&p, &d)) {
        st = cc_error_set(err, CC_ECONFIG, "%s: YAML error at line %zu: %s", path, p.problem_mark.line + 1,
                          p.problem ? p.problem : "?");
        yaml_parser_delete(&p);
        fclose(f);
        return st;
    }
    yaml_node_t *root = yaml_document_get_root_node(&d);
    yaml_node_t *routes = NULL, *creds = NULL;
    if (!root || root->type != YAML_MAPPING_NODE) {
        st = cc_error_set(err, CC_ECONFIG, "%s: expected a mapping with routes", path);
        goto out;
    }
    for (yaml_node_pair_t *pr = root->data.mapping.pairs.start; pr < root->data.mapping.pairs.top; pr++) {
        const char *k = scalar(&d, yaml_document_get_node(&d, pr->key));
        if (k && strcmp(k, "routes") == 0)
            routes = yaml_document_get_node(&d, pr->value);
        else if (k && strcmp(k, "credentials") == 0)
            creds = yaml_document_get_node(&d, pr->value);
        else {
            st = cc_error_set(err, CC_ECONFIG, "%s: unknown key %.64s", path, k ? k : "?");
            goto out;
        }
    }
    if (!routes || routes->type != YAML_SEQUENCE_NODE) {
        st = cc_error_set(err, CC_ECONFIG, "%s: routes: required, a list", path);
        goto out;
    }
    for (yaml_node_item_t *it = routes->data.sequence.items.start; it < routes->data.sequence.items.top; it++) {
        size_t i = out->n;
        if (i >= CC_RELAY_MAX_ROUTES) {
            st = cc_error_set(err, CC_ECONFIG, "%s: routes: at most %d", path, CC_RELAY_MAX_ROUTES);
            goto out;
        }
        yaml_node_t *r = yaml_document_get_node(&d, *it);
        if (!r || r->type != YAML_MAPPING_NODE) {
            st = cc_error_set(err, CC_ECONFIG, "%s: routes[%zu]: expected {name, listen, connect}", path, i);
            goto out;
        }
        const char *v[3] = {NULL, NULL, NULL};
        static const char *const names[3] = {"name", "listen", "connect"};
        for (yaml_node_pair_t *pr = r->data.mapping.pairs.start; pr < r->data.mapping.pairs.top; pr++) {
            const char *k = scalar(&d, yaml_document_get_node(&d, pr->key));
            int j = 0;
            while (j < 3 && (!k || strcmp(k, names[j]) != 0))
                j++;
            if (j == 3) {
                st = cc_error_set(err, CC_ECONFIG, "%s: routes[%zu]: unknown key %.64s", path, i, k ? k : "?");
                goto out;
            }
            v[j] = scalar(&d, yaml_document_get_node(&d, pr->value));
        }
        for (int j = 0; j < 3; j++)
            if (!v[j] || !*v[j]) {
                st = cc_error_set(err, CC_ECONFIG, "%s: routes[%zu].%s: required", path, i, names[j]);
                goto out;
            }
        const cc_transport_ops *ops;
        cc_transport_addr a;
        for (int j = 1; j < 3; j++)
            if (cc_transport_parse(v[j], &ops, &a, err) != CC_OK) {
                st = cc_error_prefix(err, "%s: routes[%zu].%s", path, i, names[j]);
                goto out;
            }
        out->routes[i].name = strdup(v[0]);
        out->routes[i].listen = strdup(v[1]);
        out->routes[i].connect = strdup(v[2]);
        out->n++;
        if (!out->routes[i].name || !out->routes[i].listen || !out->routes[i].connect) {
            st = cc_error_set(err, CC_ENOMEM, "out of memory");
            goto out;
        }
    }
    if (out->n == 0) {
        st = cc_error_set(err, CC_ECONFIG, "%s: routes: empty", path);
        goto out;
    }
    if (creds)
        st = load_credentials(&d, creds, path, out, err);
out:
    if (st != CC_OK)
        cc_parent_config_free(out);
    yaml_document_delete(&d);
    yaml_parser_delete(&p);
    fclose(f);
    return st;
}
