/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <sys/types.h>

#include "xs-tree.h"

#define ZONE_MAX_DISKS 3

/* A file (image, config disk, addons) on a read-only loop device, a vbd. */
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

int disks_add(Disks *disks, XsTree *x, const char *file, uint32_t vdev);
/* Loop devices a dead supervisor recorded, for disks_detach(). */
int disks_adopt(Disks *disks, char *const *paths);
/* An adopted one only if it still backs a file of krata's. */
void disks_detach(Disks *disks);
int disks_paths(const Disks *disks, char ***ret);
