/* SPDX-License-Identifier: Apache-2.0 */
/* krata-imaged's image cache (src/imaged/store.c) in a temporary
 * $KRATA_STATE_DIR: commit, tag, look up, remove, prune. No bus, no registry. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "fs-util.h"
#include "log.h"
#include "paths.h"
#include "store.h"
#include "string-util.h"

#define HEX_A "aaaaaaaaaaaa1111111111111111111111111111111111111111111111111111"
#define HEX_B "aaaaaaaaaaaa2222222222222222222222222222222222222222222222222222"
#define LAYER "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc"
#define CONFIG "dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd"
#define STRAY "eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee"

static char state_dir[] = "/tmp/krata-test-store-XXXXXX";

static int setup(void **state) {
        if (!mkdtemp(state_dir))
                return -1;
        setenv("KRATA_STATE_DIR", state_dir, 1);
        log_set_max_level(LOG_ERR);
        return store_init();
}

static int teardown(void **state) {
        return rm_rf(state_dir);
}

static void write_blob(const char *hex) {
        _cleanup_free_ char *digest = strjoin("sha256:", hex), *path = store_blob_path(digest);

        assert_non_null(path);
        assert_int_equal(write_string_file_atomic(path, hex, 0644), 0);
}

/* What a pull leaves: a temporary directory with the squashfs and a record. */
static void commit(const char *hex, const char *resolved, const char *reference) {
        _cleanup_free_ char *images = store_images_dir(), *tmp = NULL, *sq = NULL;
        _cleanup_(image_record_freep) ImageRecord *rec = calloc(1, sizeof *rec);

        assert_non_null(rec);
        tmp = path_join(images, ".tmp-pull-XXXXXX");
        assert_non_null(mkdtemp(tmp));
        sq = path_join(tmp, "rootfs.squashfs");
        assert_int_equal(write_string_file_atomic(sq, "squash", 0644), 0);
        rec->digest = strjoin("sha256:", hex);
        rec->resolved_digest = strdup(resolved);
        rec->platform = strdup("linux/amd64");
        rec->config_digest = strdup("sha256:" CONFIG);
        assert_int_equal(strv_extend(&rec->layers, "sha256:" LAYER), 0);
        rec->size = 6;
        rec->created_usec = 1;
        rec->dir = strdup(tmp);
        assert_int_equal(store_commit_image(tmp, rec, reference), 0);
        assert_int_equal(access(tmp, F_OK), -1);
}

static void assert_found(const char *what, const char *hex) {
        _cleanup_(image_record_freep) ImageRecord *r = NULL;

        assert_int_equal(store_find_image(what, &r), 0);
        assert_string_equal(r->digest + 7, hex);
}

static void test_commit_and_find(void **state) {
        _cleanup_(image_record_freep) ImageRecord *r = NULL;
        ImageRecord **l = NULL;
        size_t n = 0;

        printf("# committed images are found by reference, digest and unique prefix\n");
        commit(HEX_A, "sha256:" HEX_A, "example.org/a:latest");
        commit(HEX_B, "sha256:index", "example.org/b:latest");
        assert_int_equal(store_list_images(&l, &n), 0);
        assert_int_equal(n, 2);
        image_record_list_free(l, n);

        assert_found("example.org/a:latest", HEX_A);
        assert_found("sha256:" HEX_B, HEX_B);
        assert_found("aaaaaaaaaaaa2", HEX_B);
        assert_found("sha256:aaaaaaaaaaaa1", HEX_A);
        assert_int_equal(store_find_image("aaaaaaaaaaaa", &r), -ENOTUNIQ);
        assert_int_equal(store_find_image("aaaaaaaaaaa", &r), -ENOENT); /* a prefix needs 12 digits */
        assert_int_equal(store_find_image("example.org/c:latest", &r), -ENOENT);

        printf("# a tag or index digest resolves to its image, for its platform only\n");
        assert_int_equal(store_find_by_resolved("sha256:index", "linux/amd64", &r), 0);
        assert_string_equal(r->digest + 7, HEX_B);
        r = image_record_free(r);
        assert_int_equal(store_find_by_resolved("sha256:index", "linux/arm64", &r), -ENOENT);
}

static void test_tag(void **state) {
        _cleanup_(image_record_freep) ImageRecord *a = NULL, *b = NULL;

        printf("# a reference names one image: tagging moves it\n");
        assert_int_equal(store_tag_image("sha256:" HEX_B, "example.org/a:latest"), 0);
        assert_found("example.org/a:latest", HEX_B);
        assert_int_equal(store_find_image("sha256:" HEX_A, &a), 0);
        assert_int_equal(strv_length(a->references), 0);
        assert_int_equal(store_find_image("sha256:" HEX_B, &b), 0);
        assert_int_equal(strv_length(b->references), 2);
}

static void test_damaged_record(void **state) {
        _cleanup_free_ char *images = store_images_dir(), *dir = NULL, *record = NULL;
        ImageRecord **l = NULL;
        size_t n = 0;

        printf("# a damaged image.json hides its image, not the others\n");
        dir = path_join(images, "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff");
        record = path_join(dir, "image.json");
        assert_int_equal(mkdir_p(dir, 0755), 0);
        assert_int_equal(write_string_file_atomic(record, "{\"digest\": 5}", 0644), 0);
        assert_int_equal(store_list_images(&l, &n), 0);
        assert_int_equal(n, 2);
        image_record_list_free(l, n);
        assert_int_equal(rm_rf(dir), 0);
}

static void test_prune(void **state) {
        _cleanup_(image_record_freep) ImageRecord *r = NULL;
        _cleanup_free_ char *layer = store_blob_path("sha256:" LAYER), *stray = store_blob_path("sha256:" STRAY);
        unsigned images = 0, blobs = 0;
        uint64_t bytes = 0;

        printf("# prune removes untagged images and blobs no image lists\n");
        write_blob(LAYER);
        write_blob(CONFIG);
        write_blob(STRAY);
        assert_int_equal(store_prune(0, &images, &blobs, &bytes), 0);
        assert_int_equal(images, 1); /* HEX_A lost its tag to HEX_B */
        assert_int_equal(blobs, 1);
        assert_true(bytes >= 6 + 64);
        assert_int_equal(access(layer, F_OK), 0);
        assert_int_equal(access(stray, F_OK), -1);
        assert_int_equal(store_find_image("sha256:" HEX_A, &r), -ENOENT);

        printf("# prune --all also removes the blobs images list; removing an image drops all its names\n");
        assert_int_equal(store_prune(IMAGES_PRUNE_ALL_BLOBS, &images, &blobs, &bytes), 0);
        assert_int_equal(images, 0);
        assert_int_equal(blobs, 2);
        assert_int_equal(access(layer, F_OK), -1);
        assert_int_equal(store_find_image("example.org/b:latest", &r), 0);
        assert_int_equal(store_remove_image(r), 0);
        r = image_record_free(r);
        assert_int_equal(store_find_image("example.org/a:latest", &r), -ENOENT);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_commit_and_find),
                cmocka_unit_test(test_tag),
                cmocka_unit_test(test_damaged_record),
                cmocka_unit_test(test_prune),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
