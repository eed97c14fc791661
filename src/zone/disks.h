/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "xs-tree.h"

#define ZONE_MAX_DISKS 3

/* A file (squashfs image, config disk, addons) on a read-only loop device,
 * and the vbd blkback serves from it. */
typedef struct Disk {
        int fd;            /* held until teardown; autoclear frees the device after the last close */
        char *path;        /* /dev/loopN */
        dev_t devnum;
        uint32_t vdev;     /* Xen virtual-device number (51712 = xvda) */
} Disk;

typedef struct Disks {
        Disk disk[ZONE_MAX_DISKS];
        size_t n;
} Disks;

/* Attaches FILE to a loop device and adds it to the domain as VDEV. */
int disks_add(Disks *disks, XsTree *x, const char *file, uint32_t vdev);
/* Remembers loop devices a dead supervisor recorded (no fd), for disks_detach(). */
int disks_adopt(Disks *disks, char *const *paths);
/* Detaches every loop device: through our fd, or for an adopted one only if
 * it still backs a file of krata's. */
void disks_detach(Disks *disks);
/* The /dev/loopN of each disk (for the zone's record). */
int disks_paths(const Disks *disks, char ***ret);
