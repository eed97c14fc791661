/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdint.h>

#include "kernel-prepare.h"

/* krata's kernels, as krata-zoned writes them for its callers (kratactl
 * kernel install-default and prepare): the system default in
 * $KRATA_STATE_DIR/zone/, and kernels handed over as open files, stored under
 * $KRATA_CACHE_DIR/kernels/images/KEY/kernel/ and prepared there. Files come
 * as descriptors the caller opened, so nothing is read with more rights than
 * the caller had; each must be a regular file within its bound, and is read
 * from offset 0 whatever the caller's offset. Nothing is half-written: files
 * are copied beside their final names, checked, then renamed. */

#define KERNEL_ADDONS_MAX (1ULL << 30)
#define KERNEL_METADATA_MAX (64ULL << 10)
#define KERNEL_SQUASHFS_MAX (2ULL << 30)

/* Checks that fd is a regular file open for reading, of at most max bytes. */
int kernel_check_fd(int fd, uint64_t max, const char *what);

/* Copies image and addons (an addons.squashfs: the kernel's
 * /lib/modules/RELEASE) beside $KRATA_STATE_DIR/zone/kernel and
 * addons.squashfs, validates the pair with kernel_prepare() (release, the
 * modules' vermagic), installs them and returns them prepared. */
int kernel_install_default(int image_fd, int addons_fd, const KernelPrepareOptions *opts, KernelPrepared *ret);

/* A kernel as a directory of files holds them (image, addons.squashfs or -1,
 * metadata or -1): stored under the key "local-" + a digest of their
 * digests, then prepared. A kernel that does not prepare is not kept. */
int kernel_prepare_fds(int image_fd, int addons_fd, int metadata_fd, const KernelPrepareOptions *opts,
                       KernelPrepared *ret);

/* An OCI kernel image's rootfs squashfs: stored under its sha256, extracted
 * as kernel_source_from_image_squashfs() does, then prepared. */
int kernel_prepare_squashfs_fd(int fd, const KernelPrepareOptions *opts, KernelPrepared *ret);
