/* SPDX-License-Identifier: Apache-2.0 */
/* The converter's path, whiteout and layer-merging rules (src/imaged/squash). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "layer-reader.h"
#include "squash-path.h"
#include "tree.h"

static void check_norm(const char *in, const char *want) {
        char *out = NULL;
        const char *reason = NULL;
        int r = squash_path_normalize(in, &out, &reason);

        if (want) {
                assert_int_equal(r, 0);
                assert_string_equal(out, want);
        } else {
                assert_true(r < 0);
                assert_non_null(reason);
        }
        free(out);
}

static void test_normalize(void **state) {
        char longname[300], longpath[4200];

        check_norm("./", "");
        check_norm(".", "");
        check_norm("./etc/passwd", "etc/passwd");
        check_norm("etc//./passwd", "etc/passwd");
        check_norm("usr/bin/", "usr/bin");
        check_norm("././a/./b/", "a/b");
        check_norm("a/..b/c..", "a/..b/c..");
        check_norm("/etc/passwd", NULL);
        check_norm("../x", NULL);
        check_norm("a/../b", NULL);
        check_norm("a/..", NULL);
        check_norm(NULL, NULL);

        memset(longname, 'n', sizeof longname - 1);
        longname[sizeof longname - 1] = 0;
        check_norm(longname, NULL);
        longname[255] = 0;
        check_norm(longname, longname);

        for (size_t i = 0; i < sizeof longpath - 1; i++)
                longpath[i] = i % 100 == 99 ? '/' : 'd';
        longpath[sizeof longpath - 1] = 0;
        check_norm(longpath, NULL);
}

static void check_wh(const char *path, SquashWhiteout want, const char *want_target) {
        SquashWhiteout kind;
        char *t = NULL;

        assert_int_equal(squash_path_whiteout(path, &kind, &t), 0);
        assert_int_equal(kind, want);
        if (want_target) {
                assert_non_null(t);
                assert_string_equal(t, want_target);
        } else
                assert_null(t);
        free(t);
}

static void test_whiteout(void **state) {
        check_wh("etc/passwd", SQUASH_WHITEOUT_NONE, NULL);
        check_wh("etc/.wh.passwd", SQUASH_WHITEOUT_FILE, "etc/passwd");
        check_wh(".wh.etc", SQUASH_WHITEOUT_FILE, "etc");
        check_wh("a/b/.wh..wh..opq", SQUASH_WHITEOUT_OPAQUE, "a/b");
        check_wh(".wh..wh..opq", SQUASH_WHITEOUT_OPAQUE, "");
        check_wh("a/.wh..wh.plnk", SQUASH_WHITEOUT_IGNORED, NULL);
        check_wh("a/.wh.", SQUASH_WHITEOUT_INVALID, NULL);
        check_wh("a/.wh..", SQUASH_WHITEOUT_INVALID, NULL);
        check_wh("a/.wh...", SQUASH_WHITEOUT_INVALID, NULL);
        check_wh("a/x.wh.y", SQUASH_WHITEOUT_NONE, NULL);

        assert_true(squash_xattr_name_supported("security.capability"));
        assert_true(squash_xattr_name_supported("user.foo"));
        assert_true(squash_xattr_name_supported("trusted.overlay.opaque"));
        assert_false(squash_xattr_name_supported("system.posix_acl_access"));
}

static void test_media_types(void **state) {
        SquashCompression c;

        assert_int_equal(squash_media_type_parse("application/vnd.oci.image.layer.v1.tar+gzip", &c), 0);
        assert_int_equal(c, SQUASH_COMPRESSION_GZIP);
        assert_int_equal(squash_media_type_parse("application/vnd.oci.image.layer.v1.tar+zstd", &c), 0);
        assert_int_equal(c, SQUASH_COMPRESSION_ZSTD);
        assert_int_equal(squash_media_type_parse("application/vnd.oci.image.layer.v1.tar", &c), 0);
        assert_int_equal(c, SQUASH_COMPRESSION_NONE);
        assert_int_equal(squash_media_type_parse("application/vnd.docker.image.rootfs.diff.tar.gzip", &c), 0);
        assert_int_equal(c, SQUASH_COMPRESSION_GZIP);
        assert_int_equal(squash_media_type_parse("application/vnd.oci.image.layer.v1.tar+bzip2", &c),
                         -EPROTONOSUPPORT);
        assert_int_equal(squash_media_type_parse("application/vnd.oci.image.manifest.v1+json", &c),
                         -EPROTONOSUPPORT);
}

/* Layers are applied top first: 3, then 2, then 1. */
static void test_tree_shadowing(void **state) {
        Tree *t = NULL;
        Node *n;

        assert_int_equal(tree_new(&t), 0);
        /* layer 3 */
        assert_int_equal(tree_place(t, "etc/passwd", 3, false, &n), PLACE_NEW);
        assert_int_equal(tree_whiteout(t, "var/cache", 3), 0);
        assert_int_equal(tree_opaque(t, "opt", 3), 0);
        assert_int_equal(tree_place(t, "opt/new", 3, false, &n), PLACE_NEW);
        assert_int_equal(tree_place(t, "swap", 3, false, &n), PLACE_NEW);
        /* layer 2 */
        assert_int_equal(tree_place(t, "etc", 2, true, &n), PLACE_FILL);     /* implicit so far */
        assert_int_equal(tree_place(t, "etc/passwd", 2, false, &n), PLACE_HIDDEN);
        assert_int_equal(tree_place(t, "etc/group", 2, false, &n), PLACE_NEW);
        assert_int_equal(tree_place(t, "var/cache", 2, true, &n), PLACE_HIDDEN);
        assert_int_equal(tree_place(t, "var/cache/apt/x", 2, false, &n), PLACE_HIDDEN);
        assert_int_equal(tree_place(t, "var/lib", 2, true, &n), PLACE_NEW);
        assert_int_equal(tree_place(t, "opt", 2, true, &n), PLACE_FILL);
        assert_int_equal(tree_place(t, "opt/old", 2, false, &n), PLACE_HIDDEN);
        assert_int_equal(tree_place(t, "swap/child", 2, false, &n), PLACE_HIDDEN);
        /* layer 1 */
        assert_int_equal(tree_place(t, "etc", 1, true, &n), PLACE_MERGED);
        assert_int_equal(tree_place(t, "etc/group", 1, false, &n), PLACE_HIDDEN);
        assert_int_equal(tree_place(t, "etc/hosts", 1, false, &n), PLACE_NEW);
        assert_int_equal(tree_place(t, "var/cache", 1, true, &n), PLACE_HIDDEN);
        assert_int_equal(tree_place(t, "swap", 1, true, &n), PLACE_HIDDEN);

        /* what the whiteout left: the marker node is not emitted */
        n = tree_lookup(t, "var/cache");
        assert_non_null(n);
        assert_false(node_emitted(n));
        n = tree_lookup(t, "opt/new");
        assert_non_null(n);
        assert_true(node_emitted(n));
        assert_null(tree_lookup(t, "opt/old"));
        tree_free(t);
}

static void test_tree_same_layer(void **state) {
        Tree *t = NULL;
        Node *n, *n2;

        assert_int_equal(tree_new(&t), 0);
        /* the later entry of a layer wins */
        assert_int_equal(tree_place(t, "a", 2, false, &n), PLACE_NEW);
        assert_int_equal(tree_place(t, "a", 2, false, &n2), PLACE_NEW);
        assert_ptr_equal(n, n2);
        assert_int_equal(tree_place(t, "a", 2, true, &n), -EEXIST);
        assert_int_equal(tree_place(t, "a/b", 2, false, &n), -ENOTDIR);
        /* whiteout and the re-created path in one layer: lower content hidden */
        assert_int_equal(tree_whiteout(t, "d", 2), 0);
        assert_int_equal(tree_place(t, "d", 2, true, &n), PLACE_NEW);
        assert_int_equal(tree_place(t, "d/old", 1, false, &n), PLACE_HIDDEN);
        /* a whiteout beneath a non-directory of its own layer is moot */
        assert_int_equal(tree_whiteout(t, "a/x", 2), 0);
        /* the root: first "./" gives metadata, lower ones merge */
        assert_int_equal(tree_place(t, "", 2, true, &n), PLACE_FILL);
        assert_int_equal(tree_place(t, "", 1, true, &n), PLACE_MERGED);
        assert_int_equal(tree_place(t, "", 1, false, &n), -ENOTDIR);
        tree_free(t);
}

static void test_tree_between(void **state) {
        Tree *t = NULL;
        Node *n;

        assert_int_equal(tree_new(&t), 0);
        /* layer 4 deletes etc/passwd; layer 3 links to it; layer 2 whites out
         * usr/lib; the link from layer 3 still sees layer 1's etc/passwd */
        assert_int_equal(tree_whiteout(t, "etc/passwd", 4), 0);
        assert_int_equal(tree_place(t, "x/link", 3, false, &n), PLACE_NEW);
        assert_int_equal(tree_whiteout(t, "usr/lib", 2), 0);
        assert_false(tree_hidden_between(t, "etc/passwd", 1, 3));
        assert_true(tree_hidden_between(t, "etc/passwd", 1, 4));
        assert_true(tree_hidden_between(t, "usr/lib/libc.so", 1, 3));
        assert_false(tree_hidden_between(t, "usr/lib/libc.so", 2, 3));
        assert_true(tree_hidden_between(t, "x/link/below", 1, 3)); /* x/link is a file of layer 3 */
        tree_free(t);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_normalize),
                cmocka_unit_test(test_whiteout),
                cmocka_unit_test(test_media_types),
                cmocka_unit_test(test_tree_shadowing),
                cmocka_unit_test(test_tree_same_layer),
                cmocka_unit_test(test_tree_between),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
