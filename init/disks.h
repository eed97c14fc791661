/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

/* Disk roles from the kernel command line, as Xen virtual-device numbers
 * (krata.image=51712 krata.config=51728 krata.addons=51744); 0 = absent. */
typedef struct DiskRoles {
        unsigned image, config, addons;
} DiskRoles;

int cmdline_parse_disk_roles(const char *cmdline, DiskRoles *ret);

/* Finds the block device whose device/nodename is "device/vbd/<vdev>" under
 * sysfs_root ("/sys"); returns its name ("xvda"). -ENOENT if none yet. */
int disk_find_by_vdev(const char *sysfs_root, unsigned vdev, char **ret_name);

/* Waits up to timeout_ms for that disk (blkfront probes asynchronously) and
 * returns "/dev/NAME". */
int disk_wait_by_vdev(unsigned vdev, unsigned timeout_ms, char **ret_path);

/* Attaches a regular file to a read-only, auto-clearing loop device; used
 * when init is given image files instead of disks (test mode). */
int loop_attach_readonly(int file_fd, char **ret_path);
