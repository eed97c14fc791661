/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "launch-spec.h"
#include "zone-file.h"
#include "zone-state.h"

#define ZONE_MAX_DISKS 3
/* Start-up phases that may outlast the unit's TimeoutStartSec= (a pull on a
 * slow link, a kernel inflated under emulation, a domain built under
 * emulation) push systemd's deadline out by this much while they make
 * progress (EXTEND_TIMEOUT_USEC=); the pull has its own deadline. */
#define START_EXTEND_USEC (120ULL * 1000000)

struct xs_handle;
typedef struct xc_interface_core xc_interface;

/* A read-only loop device over a file (squashfs image, config disk, addons). */
typedef struct LoopDevice {
        int fd;            /* held open until teardown; autoclear frees it after the last close */
        char *path;        /* /dev/loopN */
        dev_t devnum;
        uint32_t vdev;     /* xen virtual-device number (51712 = xvda) */
        const char *role;  /* "image", "config", "addons" */
} LoopDevice;

/* Everything a supervisor sets up, each field recording whether that step
 * happened, so teardown() can undo exactly what was done, on any path. */
typedef struct Supervisor {
        ZoneSpec *spec;
        char *uuid;
        uint8_t handle[16];
        ZoneRecord *record;
        sd_event *event;
        sd_bus *bus;                    /* NULL when there is no bus: peers are optional then */

        /* inputs prepared before the domain */
        char *image_path;               /* rootfs.squashfs */
        char *image_digest;
        char *image_config;             /* OCI image config JSON */
        char *kernel_path, *initrd_path, *addons_path, *kernel_cmdline;
        char *config_disk_path;         /* the launch spec disk we wrote */

        /* Xen */
        xc_interface *xch;
        struct xs_handle *xsh;
        bool domain_created;
        uint32_t domid;
        unsigned console_port, store_port;
        unsigned long console_mfn, store_mfn;
        bool xs_domain_written, introduced, vif_written, console_written;
        LoopDevice disks[ZONE_MAX_DISKS];
        size_t n_disks;
        char mac[18];

        /* peers */
        bool console_registered, network_attached;
        bool has_network;
        LaunchNetwork network;          /* from AttachZone, until the launch spec takes it */

        /* waiting */
        sd_event_source *xs_source, *stop_timer, *poll_timer;
        bool stop_requested, kill_requested, domain_gone;
        int exit_status;
        char *result;
        char *reason;                   /* why the last setup step failed, for people */
        bool torn_down;
} Supervisor;

/* Exit statuses of the supervisor itself when no zone status exists. */
#define EXIT_ZONE_NO_STATUS 255   /* the guest ended without writing krata/exit-code */
#define EXIT_ZONE_KILLED 137      /* destroyed by Kill or after the stop timeout */

/* domain.c: the PV domain (libxenctrl + libxenguest's xc_dom_* builder). */
int domain_open(Supervisor *s);
int domain_build(Supervisor *s);
int domain_unpause(Supervisor *s);
/* 1 when the domain is gone, dying or shut down; 0 when it runs. */
int domain_has_ended(Supervisor *s, unsigned *ret_shutdown_reason);
int domain_destroy(Supervisor *s);

/* xs-devices.c: xenstore trees for the domain and its devices. */
int xs_write_domain(Supervisor *s);
int xs_introduce(Supervisor *s);
int xs_add_vbd(Supervisor *s, const LoopDevice *d);
int xs_add_vif(Supervisor *s);
int xs_request_shutdown(Supervisor *s, const char *how);
/* Validates a guest-written exit code ("0".."255", optional trailing
 * newline/blanks, at most 16 bytes): the status, or -EBADMSG. */
int exit_code_parse(const char *v, size_t len);
/* Reads krata/exit-code: 0..255, or -ENODATA / -EBADMSG. */
int xs_read_exit_code(Supervisor *s);
/* Validates a guest-written krata/status: 0 with *ret_reason NULL for
 * starting/running/exited, 0 with krata-init's own reason string for
 * "failed:<reason>", -EBADMSG for anything else. */
int init_status_parse(const char *v, size_t len, const char **ret_reason);
/* Copies krata/status = "failed:<reason>" into the record's error. */
void xs_read_init_failure(Supervisor *s);
/* Asks backends to close, waits briefly, removes every path we wrote. */
void xs_remove_all(Supervisor *s);
void xs_remove_for_domid(struct xs_handle *xsh, uint32_t domid, const char *uuid);

/* loop.c */
int loop_attach_ro(const char *file, LoopDevice *ret);
void loop_detach(LoopDevice *d);
/* For cleanup of an orphan: clears /dev/loopN if its backing file is krata's. */
int loop_clear_by_path(const char *dev);

/* supervise.c */
/* SIGTERM/SIGINT arrived before the zone ran (they stay blocked until
 * supervise() takes them): the setup steps check this and abort cleanly. */
bool stop_pending(void);
int supervise(Supervisor *s);
void teardown(Supervisor *s);
void supervisor_record(Supervisor *s, ZoneState state, const char *error);
int cleanup_orphan(const char *name);

/* peers.c (see peers.h for the interfaces still being merged) */
/* Sends the zone's current state to krata-zoned (best effort). */
int peers_report(Supervisor *s, const char *status_text);
