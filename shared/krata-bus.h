/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* The D-Bus contract between krata's processes, in one place: bus names,
 * object paths, interfaces, error names, polkit action IDs and the keys of
 * the a{sv} option dictionaries. The man pages org.krata.*(5) document it
 * for people; this header is what the code spells. Header-only, no sd-bus
 * dependency, so krata-init and tests may include it too. */

#include <stdint.h>

/* org.krata.Images1: krata-imaged */
#define IMAGES_BUS_NAME "org.krata.Images1"
#define IMAGES_PATH "/org/krata/images1"
#define IMAGES_INTERFACE "org.krata.Images1"
#define IMAGES_TRANSFER_INTERFACE "org.krata.Images1.Transfer"
#define IMAGES_TRANSFER_PATH_PREFIX "/org/krata/images1/transfer"
/* Images1.Pull/PullPlatform flags */
#define IMAGES_PULL_FORCE (UINT64_C(1) << 0)            /* download and convert even when cached */
/* Images1.Prune flags */
#define IMAGES_PRUNE_ALL_BLOBS (UINT64_C(1) << 0)       /* also blobs complete images still list */

/* org.krata.Zones1: krata-zoned */
#define ZONES_BUS_NAME "org.krata.Zones1"
#define ZONES_PATH "/org/krata/zones1"
#define ZONES_INTERFACE "org.krata.Zones1"
#define ZONE_PATH_PREFIX "/org/krata/zone"
#define ZONE_INTERFACE "org.krata.Zone1"
/* Where krata-zoned's object manager sits (covers every zone object). */
#define KRATA_OBJECT_MANAGER_PATH "/org/krata"

/* org.krata.Console1: krata-consoled */
#define CONSOLE_BUS_NAME "org.krata.Console1"
#define CONSOLE_PATH "/org/krata/console1"
#define CONSOLE_INTERFACE "org.krata.Console1"

/* org.krata.Network1: krata-networkd */
#define NETWORK_BUS_NAME "org.krata.Network1"
#define NETWORK_PATH "/org/krata/network1"
#define NETWORK_INTERFACE "org.krata.Network1"

/* Error names; bus_register_krata_errors() maps each to an errno. */
#define KRATA_ERROR_NO_SUCH_IMAGE "org.krata.Error.NoSuchImage"
#define KRATA_ERROR_NO_SUCH_ZONE "org.krata.Error.NoSuchZone"
#define KRATA_ERROR_NO_SUCH_TRANSFER "org.krata.Error.NoSuchTransfer"
#define KRATA_ERROR_NO_SUCH_FORWARD "org.krata.Error.NoSuchForward"
#define KRATA_ERROR_ZONE_EXISTS "org.krata.Error.ZoneExists"
#define KRATA_ERROR_BAD_IMAGE "org.krata.Error.BadImage"
#define KRATA_ERROR_REGISTRY "org.krata.Error.Registry"
#define KRATA_ERROR_NOT_SUPPORTED "org.krata.Error.NotSupported"

/* polkit actions (units/org.krata.policy) */
#define POLKIT_ACTION_ZONE_MANAGE "org.krata.zone.manage"
#define POLKIT_ACTION_IMAGE_PULL "org.krata.image.pull"
#define POLKIT_ACTION_CONSOLE_ATTACH "org.krata.console.attach"
#define POLKIT_ACTION_NETWORK_MANAGE "org.krata.network.manage"
#define POLKIT_ACTION_KERNEL_MANAGE "org.krata.kernel.manage"

/* Zones1.CreateZone(name, image, a{sv} options) */
#define ZONE_OPT_MEMORY "memory"                        /* t, bytes */
#define ZONE_OPT_VCPUS "vcpus"                          /* u */
#define ZONE_OPT_KERNEL "kernel"                        /* s */
#define ZONE_OPT_WORKING_DIRECTORY "working-directory"  /* s */
#define ZONE_OPT_USER "user"                            /* s */
#define ZONE_OPT_COMMAND "command"                      /* as */
#define ZONE_OPT_ENVIRONMENT "environment"              /* as */
#define ZONE_OPT_PORTS "ports"                          /* as, "HOST:ZONE[/PROTO]" */
#define ZONE_OPT_TTY "tty"                              /* b */
#define ZONE_OPT_AUTO_REMOVE "auto-remove"              /* b */
#define ZONE_OPT_START "start"                          /* b */

/* Zones1.ReportState(name, a{sv} state): what a supervisor tells krata-zoned */
#define REPORT_STATE "state"                            /* s, zone_state_to_string() */
#define REPORT_DOMID "domid"                            /* u */
#define REPORT_EXIT_STATUS "exit-status"                /* i */
#define REPORT_ERROR "error"                            /* s */
#define REPORT_RESULT "result"                          /* s */
#define REPORT_STATUS "status"                          /* s, progress for people */
#define REPORT_IMAGE_DIGEST "image-digest"              /* s */
#define REPORT_KERNEL "kernel"                          /* s */
#define REPORT_ADDRESSES "addresses"                    /* as */

/* Zones1.InstallDefaultKernel(h image, h addons, a{sv} options) and
 * Zones1.PrepareKernel(a{sv} source): krata-zoned is the one writer of the
 * default kernel and the kernel cache. Files are passed open, read with the
 * caller's rights. PrepareKernel's source: none (the system default), image +
 * metadata (+ addons), or squashfs. No options are defined yet. */
#define KERNEL_SOURCE_IMAGE "image"                     /* h, a kernel image (bzImage) */
#define KERNEL_SOURCE_ADDONS "addons"                   /* h, its addons.squashfs */
#define KERNEL_SOURCE_METADATA "metadata"               /* h, its KEY=VALUE metadata */
#define KERNEL_SOURCE_SQUASHFS "squashfs"               /* h, an OCI kernel image's rootfs squashfs */
/* ... and the a{sv} both reply with: the kernel as prepared (all s) */
#define KERNEL_PREPARED_KERNEL "kernel"                 /* what the domain builder loads */
#define KERNEL_PREPARED_IMAGE "image"                   /* the kernel image as stored */
#define KERNEL_PREPARED_INITRD "initrd"
#define KERNEL_PREPARED_ADDONS "addons"                 /* absent: none */
#define KERNEL_PREPARED_RELEASE "release"
#define KERNEL_PREPARED_DIGEST "digest"                 /* sha256 of the image: the cache key */
#define KERNEL_PREPARED_CMDLINE "cmdline"

/* Network1.AttachZone(zone, ifname, a{sv} options) and its reply's a{sv} */
#define NET_OPT_ALLOW_HOST_LOOPBACK "allow-host-loopback" /* b */
#define NET_OPT_IPV6 "ipv6"                             /* b */
#define NET_OPT_MTU "mtu"                               /* u */
#define NET_OPT_PORT_FORWARDS "port-forwards"           /* a(sqq): protocol, host port, zone port */
#define NET_REPLY_DNS "dns"                             /* as */
#define NET_REPLY_IPV4_ADDRESS "ipv4-address"           /* s */
#define NET_REPLY_IPV4_PREFIX_LENGTH "ipv4-prefix-length" /* u */
#define NET_REPLY_IPV4_GATEWAY "ipv4-gateway"           /* s */
#define NET_REPLY_IPV6_ADDRESS "ipv6-address"           /* s */
#define NET_REPLY_IPV6_PREFIX_LENGTH "ipv6-prefix-length" /* u */
#define NET_REPLY_IPV6_GATEWAY "ipv6-gateway"           /* s */
