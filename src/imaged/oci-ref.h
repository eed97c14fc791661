/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdbool.h>

#include "macro.h"

/* An OCI image reference, normalised the way Docker does:
 * "busybox" is docker.io/library/busybox:latest. */
typedef struct OciRef {
        char *registry;   /* "docker.io", "127.0.0.1:5000", "[::1]:5000" */
        char *repository; /* "library/busybox" */
        char *tag;        /* NULL when only a digest was given */
        char *digest;     /* "sha256:<64 hex>" or NULL */
} OciRef;

#define OCI_DEFAULT_REGISTRY "docker.io"
#define OCI_DEFAULT_TAG "latest"
#define OCI_NAME_MAX 255

/* Returns -EINVAL for a malformed reference and sets *ret_error (static
 * string) to the reason when non-NULL. */
int oci_ref_parse(const char *s, OciRef **ret, const char **ret_error);
OciRef *oci_ref_free(OciRef *r);
DEFINE_TRIVIAL_CLEANUP_FUNC(OciRef *, oci_ref_free);
#define _cleanup_oci_ref_ _cleanup_(oci_ref_freep)

/* "docker.io/library/busybox:latest", with "@digest" when present. */
char *oci_ref_to_string(const OciRef *r);
/* The host to speak the registry API to: docker.io is served by registry-1.docker.io. */
const char *oci_ref_api_host(const OciRef *r);
/* True for registries on a loopback address (plain HTTP is allowed there). */
bool oci_registry_is_loopback(const char *registry);

bool oci_digest_is_valid(const char *digest);
bool oci_tag_is_valid(const char *tag);
