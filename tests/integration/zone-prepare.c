/* SPDX-License-Identifier: Apache-2.0 */
/* Test helper: krata-zone's steps before the domain, against the real peers:
 * loads zone NAME's spec, gets its image from krata-imaged (Pull, transfer,
 * InspectImage), writes the launch-spec disk, prints the disk's path and the
 * image's digest. No hypervisor involved. */
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "peers.h"
#include "string-util.h"
#include "zone.h"

int main(int argc, char *argv[]) {
        _cleanup_free_ char *path = NULL, *err = NULL, *disk = NULL;
        ImageInfo img = {};
        Supervisor s = {};
        int r;

        log_setup(argv[0]);
        if (argc != 2) {
                log_error("Usage: %s NAME", argv[0]);
                return 2;
        }
        if (zone_spec_find(argv[1], NULL, &path) < 0 || zone_spec_load(path, &s.spec, &err) < 0) {
                log_error("Cannot load zone %s: %s", argv[1], strempty(err));
                return 1;
        }
        s.uuid = strdup("0123abcd-0000-4000-8000-00000000abcd");
        s.record = zone_record_new(argv[1]);
        r = sd_bus_open_system(&s.bus);
        if (r < 0)
                return log_error_errno(r, "No bus: %m"), 1;
        r = image_acquire(&s, s.spec->image, &img);
        if (r < 0)
                return 1;
        s.image_config = TAKE_PTR(img.config_json);
        r = config_disk_write(&s, &disk);
        if (r < 0)
                return 1;
        printf("%s\n%s\n%s\n", disk, strempty(img.digest), img.squashfs_path);
        image_info_done(&img);
        free(s.image_config);
        free(s.reason);
        free(s.uuid);
        zone_spec_free(s.spec);
        zone_record_free(s.record);
        sd_bus_flush_close_unref(s.bus);
        return 0;
}
