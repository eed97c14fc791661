/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* /proc, /sys, /dev (devtmpfs), /dev/pts, /dev/shm on the current root. */
int mount_api_filesystems(void);

/* The image's squashfs read-only at /krata/image, a tmpfs at /krata/rw and
 * an overlay of both at newroot: a writable root whose writes stay in memory
 * and vanish with the zone. */
int mount_root(const char *image_dev, const char *newroot);

/* The kernel addons squashfs read-only at newroot/lib/modules/release. */
int mount_addons(const char *addons_dev, const char *newroot, const char *release);

/* Moves /dev, /proc, /sys into newroot, frees the initramfs when that is
 * what we are leaving, and makes newroot the root. */
int switch_root(const char *newroot);
