/* SPDX-License-Identifier: Apache-2.0 */
#include <assert.h>
#include <errno.h>
#include <stdlib.h>

#include "bus-polkit.h"
#include "bus-util.h"
#include "log.h"
#include "string-util.h"

typedef struct Query Query;
struct Query {
        Query *next;
        PolkitRegistry *registry;
        sd_bus_message *call;  /* the method call being authorized */
        sd_bus_slot *slot;     /* the CheckAuthorization call in flight, NULL when answered */
        char *action;
        int result;            /* 1 allowed, 0 pending, <0 errno */
        sd_bus_error error;
};

struct PolkitRegistry {
        Query *queries;
};

static Query *query_free(Query *q) {
        if (!q)
                return NULL;
        sd_bus_slot_unref(q->slot);
        sd_bus_message_unref(q->call);
        sd_bus_error_free(&q->error);
        free(q->action);
        return mfree(q);
}

static void query_unlink(Query *q) {
        for (Query **i = &q->registry->queries; *i; i = &(*i)->next)
                if (*i == q) {
                        *i = q->next;
                        return;
                }
}

PolkitRegistry *polkit_registry_free(PolkitRegistry *r) {
        if (!r)
                return NULL;
        while (r->queries) {
                Query *q = r->queries;
                r->queries = q->next;
                query_free(q);
        }
        return mfree(r);
}

int polkit_registry_busy(PolkitRegistry *r) {
        return r && r->queries;
}

static int check_reply(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        Query *q = userdata;
        const sd_bus_error *e = sd_bus_message_get_error(reply);
        int authorized = 0, challenge = 0, r;

        q->slot = sd_bus_slot_unref(q->slot);

        if (e) {
                if (sd_bus_error_has_names(e, SD_BUS_ERROR_SERVICE_UNKNOWN, SD_BUS_ERROR_NAME_HAS_NO_OWNER))
                        q->result = -EACCES, sd_bus_error_setf(&q->error, SD_BUS_ERROR_ACCESS_DENIED,
                                        "Access denied to %s: polkit is not running, so only root may do this.",
                                        q->action);
                else
                        q->result = -EACCES, sd_bus_error_setf(&q->error, SD_BUS_ERROR_ACCESS_DENIED,
                                        "Access denied to %s: polkit check failed: %s", q->action,
                                        strempty(e->message));
        } else {
                r = sd_bus_message_enter_container(reply, 'r', "bba{ss}");
                if (r >= 0)
                        r = sd_bus_message_read(reply, "bb", &authorized, &challenge);
                if (r < 0) {
                        q->result = -EACCES;
                        sd_bus_error_setf(&q->error, SD_BUS_ERROR_ACCESS_DENIED,
                                          "Access denied to %s: malformed polkit reply.", q->action);
                } else if (authorized)
                        q->result = 1;
                else {
                        q->result = -EACCES;
                        sd_bus_error_setf(&q->error,
                                          challenge ? SD_BUS_ERROR_INTERACTIVE_AUTHORIZATION_REQUIRED
                                                    : SD_BUS_ERROR_ACCESS_DENIED,
                                          challenge ? "Authentication is required for %s."
                                                    : "Access denied: you are not allowed %s "
                                                      "(root and members of the 'krata' group are).",
                                          q->action);
                }
        }

        /* Run the original method again; this time the handler finds the answer. */
        r = sd_bus_enqueue_for_read(sd_bus_message_get_bus(q->call), q->call);
        if (r < 0) {
                log_error_errno(r, "Failed to re-dispatch authorized call: %m");
                query_unlink(q);
                query_free(q);
        }
        return 1;
}

static Query *find_query(PolkitRegistry *r, sd_bus_message *call, const char *action) {
        if (!r)
                return NULL;
        for (Query *q = r->queries; q; q = q->next)
                if (q->call == call && streq(q->action, action))
                        return q;
        return NULL;
}

int bus_verify_polkit_async(sd_bus_message *call, const char *action, PolkitRegistry **registry,
                            sd_bus_error *error) {
        _cleanup_bus_message_ sd_bus_message *req = NULL;
        _cleanup_(sd_bus_creds_unrefp) sd_bus_creds *creds = NULL;
        const char *sender;

        assert(call);
        assert(action);
        assert(registry);

        uid_t uid;
        Query *q;
        int r;

        r = sd_bus_query_sender_creds(call, SD_BUS_CREDS_EUID | SD_BUS_CREDS_AUGMENT, &creds);
        if (r < 0)
                return r;
        r = sd_bus_creds_get_euid(creds, &uid);
        if (r < 0)
                return r;
        if (uid == 0)
                return 1;

        q = find_query(*registry, call, action);
        if (q) {
                if (q->result == 0)
                        return 0; /* still waiting */
                query_unlink(q);
                r = q->result;
                if (r < 0)
                        sd_bus_error_copy(error, &q->error);
                query_free(q);
                return r;
        }

        sender = sd_bus_message_get_sender(call);
        if (!sender)
                return sd_bus_error_set(error, SD_BUS_ERROR_ACCESS_DENIED, "Access denied: caller unknown.");

        if (!*registry) {
                *registry = calloc(1, sizeof(PolkitRegistry));
                if (!*registry)
                        return -ENOMEM;
        }
        q = calloc(1, sizeof *q);
        if (!q)
                return -ENOMEM;
        q->registry = *registry;
        q->call = sd_bus_message_ref(call);
        q->action = strdup(action);
        if (!q->action) {
                query_free(q);
                return -ENOMEM;
        }

        r = sd_bus_message_new_method_call(sd_bus_message_get_bus(call), &req,
                                           "org.freedesktop.PolicyKit1",
                                           "/org/freedesktop/PolicyKit1/Authority",
                                           "org.freedesktop.PolicyKit1.Authority", "CheckAuthorization");
        if (r >= 0)
                r = sd_bus_message_append(req, "(sa{sv})sa{ss}us", "system-bus-name", 1, "name", "s",
                                          sender, action, 0,
                                          (uint32_t) sd_bus_message_get_allow_interactive_authorization(call),
                                          "");
        if (r >= 0)
                r = sd_bus_call_async(sd_bus_message_get_bus(call), &q->slot, req, check_reply, q,
                                      /* polkit may wait for a password */ 120ULL * 1000000ULL);
        if (r < 0) {
                query_free(q);
                return r;
        }
        q->next = (*registry)->queries;
        (*registry)->queries = q;
        return 0;
}
