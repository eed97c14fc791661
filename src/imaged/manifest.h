/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "macro.h"

/* Bounds on what a registry may send us. */
#define MANIFEST_SIZE_MAX (4u * 1024u * 1024u)  /* as the distribution spec suggests */
#define CONFIG_SIZE_MAX (8u * 1024u * 1024u)
#define LAYER_SIZE_MAX (UINT64_C(64) * 1024 * 1024 * 1024)
#define LAYERS_MAX 256u
#define INDEX_ENTRIES_MAX 1024u

#define MEDIA_TYPE_OCI_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define MEDIA_TYPE_OCI_INDEX "application/vnd.oci.image.index.v1+json"
#define MEDIA_TYPE_DOCKER_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"
#define MEDIA_TYPE_DOCKER_LIST "application/vnd.docker.distribution.manifest.list.v2+json"
#define MEDIA_TYPE_OCI_CONFIG "application/vnd.oci.image.config.v1+json"
#define MEDIA_TYPE_DOCKER_CONFIG "application/vnd.docker.container.image.v1+json"

/* Every manifest type we take, for the Accept header. */
#define MANIFEST_ACCEPT MEDIA_TYPE_OCI_MANIFEST ", " MEDIA_TYPE_OCI_INDEX ", " \
        MEDIA_TYPE_DOCKER_MANIFEST ", " MEDIA_TYPE_DOCKER_LIST

typedef enum MediaKind {
        MEDIA_UNKNOWN,
        MEDIA_MANIFEST, /* OCI or Docker schema 2 image manifest */
        MEDIA_INDEX,    /* OCI index or Docker manifest list */
        MEDIA_CONFIG,
        MEDIA_LAYER_TAR,
        MEDIA_LAYER_GZIP,
        MEDIA_LAYER_ZSTD,
} MediaKind;

MediaKind media_kind(const char *media_type);
/* The OCI name of a layer type (Docker's gzip layers are OCI tar+gzip), so the
 * converter sees three types only; NULL for anything that is not a layer. */
const char *layer_media_type_canonical(const char *media_type);

typedef struct Descriptor {
        char *media_type;
        char *digest;
        uint64_t size;
        /* only in index entries */
        char *os;
        char *architecture;
        char *variant;
} Descriptor;

typedef struct Manifest {
        char *media_type;
        Descriptor config;
        Descriptor *layers;
        size_t n_layers;
} Manifest;

typedef struct ImageIndex {
        char *media_type;
        Descriptor *manifests;
        size_t n_manifests;
} ImageIndex;

void descriptor_done(Descriptor *d);
Manifest *manifest_free(Manifest *m);
ImageIndex *image_index_free(ImageIndex *i);
DEFINE_TRIVIAL_CLEANUP_FUNC(Manifest *, manifest_free);
DEFINE_TRIVIAL_CLEANUP_FUNC(ImageIndex *, image_index_free);

bool digest_is_sha256(const char *digest);

/* Which kind a fetched manifest document is: its mediaType field, else the
 * Content-Type it was served with. -EMEDIUMTYPE for anything else. */
int manifest_document_kind(const char *buf, size_t size, const char *content_type, MediaKind *ret,
                           char **ret_error);
/* Each returns -EBADMSG/-EMEDIUMTYPE/-EFBIG with *ret_error (malloc'd) saying why. */
int manifest_parse(const char *buf, size_t size, Manifest **ret, char **ret_error);
int image_index_parse(const char *buf, size_t size, ImageIndex **ret, char **ret_error);
/* Picks the entry for os/architecture[/variant]; variant NULL matches any
 * (preferring none or the first). -ENOENT with a list of what exists. */
int image_index_select(const ImageIndex *idx, const char *os, const char *architecture,
                       const char *variant, const Descriptor **ret, char **ret_error);
/* Splits "linux/arm64/v8" (os optional: "arm64"). */
int platform_parse(const char *s, char **ret_os, char **ret_arch, char **ret_variant);
