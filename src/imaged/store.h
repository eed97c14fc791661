/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

#include "krata-bus.h"
#include "macro.h"

/* The image cache under $KRATA_STATE_DIR:
 *   blobs/sha256/<hex>                  verified blobs (layers, configs)
 *   images/<manifest-hex>/rootfs.squashfs
 *   images/<manifest-hex>/config.json   the OCI image config
 *   images/<manifest-hex>/image.json    this record
 * Temporary names start with ".tmp-" and are never listed. An image directory
 * appears by rename() once complete; image.json is replaced atomically. */
typedef struct ImageRecord {
        char *digest;          /* manifest digest "sha256:..." */
        char *resolved_digest; /* what the tag pointed to (an index or the manifest) */
        char *platform;        /* "linux/amd64" */
        char **references;     /* normalised references naming this image */
        char *config_digest;
        char **layers;         /* layer digests, bottom to top */
        uint64_t size;         /* bytes of rootfs.squashfs */
        uint64_t created_usec; /* when it was pulled */
        /* derived, not stored */
        char *dir;
} ImageRecord;

ImageRecord *image_record_free(ImageRecord *r);
DEFINE_TRIVIAL_CLEANUP_FUNC(ImageRecord *, image_record_free);
void image_record_list_free(ImageRecord **l, size_t n);

int store_init(void);
char *store_images_dir(void);
char *store_blob_path(const char *digest);
char *store_image_dir(const char *digest);
char *store_squashfs_path(const ImageRecord *r);

json_object *image_record_to_json(const ImageRecord *r);
int image_record_from_json(json_object *o, ImageRecord **ret);
int store_write_record(const char *dir, const ImageRecord *r);
int store_load_image(const char *dir, ImageRecord **ret);
/* Complete images, sorted by creation time. */
int store_list_images(ImageRecord ***ret, size_t *ret_n);
/* By normalised reference, full digest, "sha256:" prefix of at least 12 hex
 * digits, or bare hex prefix. -ENOENT if none, -ENOTUNIQ if ambiguous. */
int store_find_image(const char *ref_or_digest, ImageRecord **ret);
/* An image whose resolved or manifest digest is digest for platform. */
int store_find_by_resolved(const char *digest, const char *platform, ImageRecord **ret);

/* Moves the completed temp dir into place (keeps an existing one instead)
 * and makes reference name this image only. */
int store_commit_image(const char *tmp_dir, ImageRecord *rec, const char *reference);
/* Points reference at an existing image, dropping it from any other. */
int store_tag_image(const char *digest, const char *reference);
int store_remove_image(const ImageRecord *r);

/* flags: IMAGES_PRUNE_ALL_BLOBS */
int store_prune(uint64_t flags, unsigned *ret_images, unsigned *ret_blobs, uint64_t *ret_bytes);
