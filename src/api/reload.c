/*
 * reload.c — POST /reload: re-scan the filesystem key source in the
 * background.  Signing goes on meanwhile: the key source builds the new key
 * set outside the keyring's lock and swaps it in at the end.
 */
#include <string.h>

#include "api/app.h"
#include "api/metrics.h"
#include "util/log.h"

const char *cc_reload_state_name(cc_reload_state state)
{
    switch (state) {
    case CC_RELOAD_IDLE:                  return "idle";
    case CC_RELOAD_RUNNING:               return "running";
    case CC_RELOAD_COMPLETED:             return "completed";
    case CC_RELOAD_COMPLETED_WITH_ERRORS: return "completed_with_errors";
    case CC_RELOAD_FAILED:                return "failed";
    }
    return "unknown";
}

static void *reload_main(void *arg)
{
    cc_app *app = arg;
    cc_key_load_report rep = {0};
    cc_error err;
    cc_reload_state done = CC_RELOAD_COMPLETED;
    if (app->filesystem) {
        if (app->filesystem->ops->load(app->filesystem, app->keyring, &rep, &err) != CC_OK) {
            cc_log(CC_LOG_ERROR, "reload failed", "reason", err.msg, NULL);
            done = CC_RELOAD_FAILED;
        } else if (rep.failed) {
            done = CC_RELOAD_COMPLETED_WITH_ERRORS;
        }
    }
    cc_metrics_add_key_load_failures(rep.failed);
    pthread_mutex_lock(&app->reload_lock);
    app->reload_state = done;
    app->last_load = rep;
    pthread_mutex_unlock(&app->reload_lock);
    cc_log(CC_LOG_INFO, "reload finished", "status", cc_reload_state_name(done), NULL);
    return NULL;
}

cc_status cc_app_reload_start(cc_app *app, cc_error *err)
{
    pthread_mutex_lock(&app->reload_lock);
    if (app->reload_state == CC_RELOAD_RUNNING) {
        pthread_mutex_unlock(&app->reload_lock);
        return cc_error_set(err, CC_ECONFLICT, "a reload is already running");
    }
    if (app->reload_thread_started) {
        pthread_join(app->reload_thread, NULL);
        app->reload_thread_started = 0;
    }
    app->reload_state = CC_RELOAD_RUNNING;
    if (pthread_create(&app->reload_thread, NULL, reload_main, app) != 0) {
        app->reload_state = CC_RELOAD_FAILED;
        pthread_mutex_unlock(&app->reload_lock);
        return cc_error_set(err, CC_EINTERNAL, "cannot start the reload thread");
    }
    app->reload_thread_started = 1;
    pthread_mutex_unlock(&app->reload_lock);
    cc_log(CC_LOG_INFO, "reload started", NULL);
    return CC_OK;
}

void cc_app_reload_join(cc_app *app)
{
    pthread_mutex_lock(&app->reload_lock);
    int started = app->reload_thread_started;
    app->reload_thread_started = 0;
    pthread_mutex_unlock(&app->reload_lock);
    if (started)
        pthread_join(app->reload_thread, NULL);
}
