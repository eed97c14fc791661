/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <curl/curl.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "auth.h"
#include "imaged-config.h"
#include "macro.h"
#include "oci-ref.h"

/* A blocking client for one repository of one registry (OCI distribution
 * spec), used from a transfer's worker thread. Errors return -errno and leave
 * a one-line reason in ->error that names the registry and the object. */
typedef struct Registry {
        const ImagedConfig *config;
        char *registry;   /* as written in the reference: "127.0.0.1:5000" */
        char *base_url;   /* "https://registry-1.docker.io" */
        char *repository; /* "library/busybox" */
        bool insecure;    /* plain HTTP allowed */
        AuthCredentials creds;
        bool have_creds;
        char *authorization; /* value of the Authorization header, once authenticated */
        const atomic_bool *cancel;
        char *error;
        unsigned n_requests; /* for tests and the re-pull promise */
} Registry;

int registry_new(const OciRef *ref, const ImagedConfig *config, const atomic_bool *cancel, Registry **ret);
Registry *registry_free(Registry *r);
DEFINE_TRIVIAL_CLEANUP_FUNC(Registry *, registry_free);

/* Records the reason for a failure and returns err. */
int registry_error(Registry *r, int err, const char *fmt, ...) _printf_(3, 4);

/* Common options of every request: protocols, TLS, redirects, timeouts, cancellation. */
int registry_setup_easy(Registry *r, CURL *c, const char *url, bool bounded_total);
/* Request headers: Accept (when given) and Authorization. */
struct curl_slist *registry_headers(Registry *r, const char *accept, const char *range);
/* Answers a 401's WWW-Authenticate challenge: fetches a bearer token or
 * selects Basic credentials. Fails when there is nothing (new) to try. */
int registry_authenticate(Registry *r, const char *www_authenticate);

/* GETs a manifest by tag or digest. The body's sha256 is computed and, when
 * the registry sent Docker-Content-Digest, checked against it. */
int registry_get_manifest(Registry *r, const char *reference, char **ret_body, size_t *ret_size,
                          char **ret_content_type, char **ret_digest);

bool curl_code_is_transient(CURLcode c);
/* Copies the trimmed value of header "name:" from a raw header line; 1 if it matched. */
int header_value(const char *line, size_t len, const char *name, char **ret);
