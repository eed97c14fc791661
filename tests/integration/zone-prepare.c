/* SPDX-License-Identifier: Apache-2.0 */
/* Test helper: krata-zone's steps before the domain, against the real peers:
 * loads zone NAME's spec, gets its image from krata-imaged (image_ensure():
 * Pull, transfer, InspectImage), writes the launch-spec disk (boot.c),
 * prints the disk's path and the image's digest. No hypervisor involved. */
#include <stdio.h>
#include <string.h>

#include "boot.h"
#include "bus-util.h"
#include "image.h"
#include "log.h"
#include "string-util.h"

int main(int argc, char *argv[]) {
        _cleanup_free_ char *path = NULL, *err = NULL, *reason = NULL;
        _cleanup_zone_spec_ ZoneSpec *zone = NULL;
        _cleanup_(image_info_done) ImageInfo image = {};
        _cleanup_(boot_material_done) BootMaterial boot = {};
        _cleanup_bus_ sd_bus *bus = NULL;
        int r;

        log_setup(argv[0]);
        if (argc != 2) {
                log_error("Usage: %s NAME", argv[0]);
                return 2;
        }
        if (zone_spec_find(argv[1], NULL, &path) < 0 || zone_spec_load(path, &zone, &err) < 0) {
                log_error("Cannot load zone %s: %s", argv[1], strempty(err));
                return 1;
        }
        r = sd_bus_open_system(&bus);
        if (r < 0)
                return log_error_errno(r, "No bus: %m"), 1;
        if (image_ensure(bus, zone->image, NULL, NULL, &image, &reason) < 0 ||
            boot_config_disk_write(&boot, zone, image.config_json, NULL, &reason) < 0)
                return 1;
        printf("%s\n%s\n%s\n", boot.config_disk, strempty(image.digest), image.squashfs_path);
        return 0;
}
