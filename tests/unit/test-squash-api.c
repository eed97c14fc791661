/* SPDX-License-Identifier: Apache-2.0 */
/* squash_layers() as krata-imaged calls it: sniffing, size checks, progress
 * and cancellation, and that a failure leaves nothing behind. */
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "fs-util.h"
#include "squash.h"
#include "string-util.h"

static char dir[] = "/tmp/krata-test-squash-api.XXXXXX";

static void write_layer(const char *path, bool gzip, const char *name, const char *data) {
        struct archive *a = archive_write_new();
        struct archive_entry *e = archive_entry_new();

        assert_non_null(a);
        assert_int_equal(archive_write_set_format_pax_restricted(a), ARCHIVE_OK);
        if (gzip)
                assert_int_equal(archive_write_add_filter_gzip(a), ARCHIVE_OK);
        assert_int_equal(archive_write_open_filename(a, path), ARCHIVE_OK);

        archive_entry_set_pathname(e, "./");
        archive_entry_set_filetype(e, AE_IFDIR);
        archive_entry_set_perm(e, 0755);
        assert_int_equal(archive_write_header(a, e), ARCHIVE_OK);
        archive_entry_clear(e);

        archive_entry_set_pathname(e, name);
        archive_entry_set_filetype(e, AE_IFREG);
        archive_entry_set_perm(e, 0644);
        archive_entry_set_size(e, (la_int64_t) strlen(data));
        assert_int_equal(archive_write_header(a, e), ARCHIVE_OK);
        assert_int_equal(archive_write_data(a, data, strlen(data)), (la_ssize_t) strlen(data));

        archive_entry_free(e);
        assert_int_equal(archive_write_free(a), ARCHIVE_OK);
}

static uint64_t file_size(const char *path) {
        struct stat st;
        assert_int_equal(stat(path, &st), 0);
        return (uint64_t) st.st_size;
}

/* Entries in the output directory (the layers live elsewhere). */
static unsigned count_outputs(const char *outdir) {
        DIR *d = opendir(outdir);
        struct dirent *de;
        unsigned n = 0;

        assert_non_null(d);
        while ((de = readdir(d)))
                if (!streq(de->d_name, ".") && !streq(de->d_name, ".."))
                        n++;
        closedir(d);
        return n;
}

typedef struct Progress {
        uint64_t last_done, total;
        unsigned calls;
        bool cancel;
} Progress;

static int on_progress(uint64_t done, uint64_t total, void *userdata) {
        Progress *p = userdata;

        assert_true(done >= p->last_done);
        assert_true(done <= total);
        p->last_done = done;
        p->total = total;
        p->calls++;
        return p->cancel ? -1 : 0;
}

static int setup(void **state) {
        char path[256];

        assert_non_null(mkdtemp(dir));
        snprintf(path, sizeof path, "%s/out", dir);
        assert_int_equal(mkdir(path, 0755), 0);
        snprintf(path, sizeof path, "%s/l1.tar.gz", dir);
        write_layer(path, true, "etc/hostname", "lower\n");
        snprintf(path, sizeof path, "%s/l2.tar", dir);
        write_layer(path, false, "etc/hostname", "upper\n");
        return 0;
}

static int teardown(void **state) {
        rm_rf(dir);
        return 0;
}

static void test_api(void **state) {
        char l1[256], l2[256], out[256], outdir[256], magic[4];
        SquashLayer layers[2];
        Progress p = {};
        char *error = NULL;
        FILE *f;

        snprintf(l1, sizeof l1, "%s/l1.tar.gz", dir);
        snprintf(l2, sizeof l2, "%s/l2.tar", dir);
        snprintf(outdir, sizeof outdir, "%s/out", dir);
        snprintf(out, sizeof out, "%s/out/rootfs.squashfs", dir);

        /* media types sniffed, sizes checked, progress reaches the total */
        layers[0] = (SquashLayer) { .path = l1, .size = file_size(l1) };
        layers[1] = (SquashLayer) { .path = l2, .media_type = "application/vnd.oci.image.layer.v1.tar",
                                    .size = file_size(l2) };
        assert_int_equal(squash_layers(layers, 2, out,
                                       &(SquashOptions) { .workers = 2, .progress = on_progress, .userdata = &p },
                                       &error), 0);
        assert_null(error);
        assert_true(p.calls >= 2);
        assert_int_equal(p.last_done, p.total);
        assert_int_equal(p.total, file_size(l1) + file_size(l2));
        assert_int_equal(file_size(out) % 4096, 0);
        f = fopen(out, "re");
        assert_non_null(f);
        assert_int_equal(fread(magic, 1, 4, f), 4);
        fclose(f);
        assert_memory_equal(magic, "hsqs", 4);
        assert_int_equal(count_outputs(outdir), 1);
        assert_int_equal(unlink(out), 0);

        /* a size that disagrees with the descriptor */
        layers[0].size++;
        assert_int_equal(squash_layers(layers, 2, out, NULL, &error), -EBADMSG);
        assert_non_null(error);
        assert_non_null(strstr(error, "descriptor says"));
        error = mfree(error);
        assert_int_equal(count_outputs(outdir), 0);
        layers[0].size--;

        /* cancelled from the progress callback */
        p = (Progress) { .cancel = true };
        assert_int_equal(squash_layers(layers, 2, out,
                                       &(SquashOptions) { .progress = on_progress, .userdata = &p }, &error),
                         -ECANCELED);
        assert_non_null(strstr(error, "cancelled"));
        error = mfree(error);
        assert_int_equal(count_outputs(outdir), 0);

        /* unknown media type, bad level, unwritable output */
        layers[1].media_type = "application/vnd.oci.image.layer.v1.tar+lz4";
        assert_int_equal(squash_layers(layers, 2, out, NULL, &error), -EPROTONOSUPPORT);
        assert_non_null(strstr(error, "unsupported media type"));
        error = mfree(error);
        layers[1].media_type = NULL;
        assert_int_equal(squash_layers(layers, 2, out, &(SquashOptions) { .compression_level = 30 }, &error),
                         -EINVAL);
        error = mfree(error);
        assert_int_equal(squash_layers(layers, 2, "/nonexistent-dir/x.squashfs", NULL, &error), -ENOENT);
        assert_non_null(strstr(error, "/nonexistent-dir"));
        error = mfree(error);
        assert_int_equal(count_outputs(outdir), 0);

        /* no layers: an empty root directory */
        assert_int_equal(squash_layers(NULL, 0, out, NULL, &error), 0);
        assert_int_equal(count_outputs(outdir), 1);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_api, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
