/* SPDX-License-Identifier: Apache-2.0 */
/* krata-zone NAME: the supervisor of one zone (krata-zone@NAME.service). */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <xenctrl.h>
#include <xenstore.h>
#include <systemd/sd-daemon.h>
#include <systemd/sd-id128.h>

#include "time-util.h"
#include "log.h"
#include "peers.h"
#include "string-util.h"
#include "zone.h"


static void fail(Supervisor *s, const char *result, int r, const char *what) {
        char msg[512];

        if (r == 0) /* the message says it all */
                snprintf(msg, sizeof msg, "%s", what);
        else if (s->reason) /* the failing step said why */
                snprintf(msg, sizeof msg, "%s: %s", what, s->reason);
        else
                snprintf(msg, sizeof msg, "%s: %s", what, strerror(ERRNO_VALUE(r)));
        free(s->result);
        s->result = strdup(result);
        log_error("Zone %s failed: %s", s->spec->name, msg);
        (void) sd_notifyf(false, "STATUS=Failed: %s", msg);
        teardown(s);
        supervisor_record(s, ZONE_FAILED, msg);
}

static int load(const char *name, Supervisor *s) {
        _cleanup_free_ char *path = NULL, *err = NULL;
        sd_id128_t id;
        char buf[SD_ID128_UUID_STRING_MAX];
        int r;

        if (!zone_name_is_valid(name))
                return log_error_errno(SYNTHETIC_ERRNO(EINVAL), "Invalid zone name '%s'.", name);
        r = zone_spec_find(name, NULL, &path);
        if (r == -ENOENT)
                return log_error_errno(r, "No zone %s: no %s.zone in the config, runtime or state directory.", name, name);
        if (r < 0)
                return log_error_errno(r, "Cannot look up zone %s: %m", name);
        r = zone_spec_load(path, &s->spec, &err);
        if (r < 0)
                return log_error_errno(r, "%s", err ?: "Cannot load the zone spec.");
        if (s->spec->uuid)
                r = sd_id128_from_string(s->spec->uuid, &id);
        else
                r = sd_id128_randomize(&id); /* a declared zone without Uuid=: new each start */
        if (r < 0)
                return log_error_errno(r, "Cannot get a UUID for zone %s: %m", name);
        memcpy(s->handle, id.bytes, sizeof s->handle);
        s->uuid = strdup(sd_id128_to_uuid_string(id, buf));
        s->record = zone_record_new(name);
        if (!s->uuid || !s->record)
                return log_oom();
        s->record->uuid = strdup(s->uuid);
        s->record->pid = getpid();
        s->record->started = now(CLOCK_REALTIME);
        s->exit_status = -1;
        return 0;
}

static int add_disk(Supervisor *s, const char *file, uint32_t vdev, const char *role) {
        LoopDevice *d = &s->disks[s->n_disks];
        int r;

        *d = (LoopDevice) { .fd = -EBADF, .vdev = vdev, .role = role };
        r = loop_attach_ro(file, d);
        if (r < 0)
                return r;
        s->n_disks++;
        return xs_add_vbd(s, d);
}

static int run(Supervisor *s) {
        ImageInfo image = {};
        KernelInfo kernel = {};
        int r;

        supervisor_record(s, ZONE_STARTING, NULL);
        (void) zoned_register(s);

        /* Cheapest refusal first: without Xen nothing else is worth doing. */
        r = domain_open(s);
        if (r < 0) {
                fail(s, "no-hypervisor", 0,
                     "No Xen hypervisor: /dev/xen/privcmd is missing (not a Xen dom0, or xen-privcmd is not loaded).");
                return r;
        }
        r = image_acquire(s, s->spec->image, &image);
        if (r < 0) {
                fail(s, "image", r, "Cannot get the image");
                goto out;
        }
        s->image_path = TAKE_PTR(image.squashfs_path);
        s->image_digest = TAKE_PTR(image.digest);
        s->image_config = TAKE_PTR(image.config_json);
        if (s->image_digest)
                s->record->image_digest = strdup(s->image_digest);

        if (stop_pending()) {
                fail(s, "canceled", 0, "Stopped before the zone started.");
                r = -ECANCELED;
                goto out;
        }
        r = kernel_acquire(s, s->spec->kernel, &kernel);
        if (r < 0) {
                fail(s, "kernel", r, "Cannot get the kernel");
                goto out;
        }
        s->kernel_path = TAKE_PTR(kernel.kernel_path);
        s->initrd_path = TAKE_PTR(kernel.initrd_path);
        s->addons_path = TAKE_PTR(kernel.addons_path);
        s->kernel_cmdline = TAKE_PTR(kernel.cmdline);
        s->record->kernel = strdup(kernel.release ?: s->kernel_path);

        (void) sd_notifyf(false, "STATUS=Building the domain\nEXTEND_TIMEOUT_USEC=%llu", START_EXTEND_USEC);
        r = domain_build(s);
        if (r < 0) {
                fail(s, "domain", r, "Building the domain failed");
                goto out;
        }
        supervisor_record(s, ZONE_STARTING, NULL); /* the record now names the domain */
        r = xs_write_domain(s);
        if (r >= 0)
                r = xs_introduce(s);
        if (r >= 0)
                r = xs_add_vif(s);
        if (r < 0) {
                fail(s, "devices", r, "Setting up the zone's xenstore entries failed");
                goto out;
        }
        /* The vif exists now (netback makes vif<domid>.0); its addresses go into the launch spec. */
        (void) network_attach(s);
        r = config_disk_write(s, &s->config_disk_path);
        if (r < 0) {
                fail(s, "resources", r, "Cannot write the launch spec");
                goto out;
        }
        r = add_disk(s, s->image_path, KRATA_VDEV_IMAGE, "image");
        if (r >= 0)
                r = add_disk(s, s->config_disk_path, KRATA_VDEV_CONFIG, "config");
        if (r >= 0 && s->addons_path)
                r = add_disk(s, s->addons_path, KRATA_VDEV_ADDONS, "addons");
        if (r < 0) {
                fail(s, "devices", r, "Attaching the zone's disks failed");
                goto out;
        }
        (void) console_register(s);

        if (stop_pending()) {
                fail(s, "canceled", 0, "Stopped before the zone started.");
                r = -ECANCELED;
                goto out;
        }
        r = domain_unpause(s);
        if (r < 0) {
                fail(s, "domain", r, "Starting the domain failed");
                goto out;
        }
        supervisor_record(s, ZONE_RUNNING, NULL);
        (void) sd_notifyf(false, "READY=1\nSTATUS=Running as domain %u", s->domid);
        log_info("Zone %s runs as domain %u.", s->spec->name, s->domid);

        r = supervise(s);
        if (r < 0 && !s->domain_gone) {
                fail(s, "supervisor", r, "Supervising the zone failed");
                goto out;
        }
        r = s->exit_status;
out:
        image_info_done(&image);
        kernel_info_done(&kernel);
        return r;
}

static void supervisor_done(Supervisor *s) {
        if (!s->torn_down && s->spec)
                teardown(s);
        if (s->xsh)
                xs_close(s->xsh);
        if (s->xch)
                xc_interface_close(s->xch);
        sd_bus_flush_close_unref(s->bus);
        sd_event_unref(s->event);
        zone_spec_free(s->spec);
        zone_record_free(s->record);
        free(s->uuid);
        free(s->image_path);
        free(s->image_digest);
        free(s->image_config);
        free(s->kernel_path);
        free(s->initrd_path);
        free(s->addons_path);
        free(s->kernel_cmdline);
        free(s->config_disk_path);
        free(s->result);
        free(s->reason);
        free(s->network.ipv4.address);
        free(s->network.ipv4.gateway);
        free(s->network.ipv6.address);
        free(s->network.ipv6.gateway);
        strv_free(s->network.dns);
}

static void help(void) {
        printf("krata-zone [OPTIONS] NAME\n\n"
               "Supervise zone NAME: build its Xen domain, wait for it, exit with its status.\n"
               "Run by krata-zone@NAME.service (or by krata-zoned without systemd).\n\n"
               "  -h --help              Show this help\n"
               "     --version           Show the version\n"
               "     --cleanup           Tear down what a dead supervisor of NAME left behind\n"
               "     --log-level=LEVEL   debug, info, notice, warning, err\n\n"
               "See krata-zone@.service(8).\n");
}

int main(int argc, char *argv[]) {
        enum { ARG_VERSION = 0x100, ARG_LOG_LEVEL, ARG_CLEANUP };
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, ARG_VERSION },
                { "cleanup", no_argument, NULL, ARG_CLEANUP },
                { "log-level", required_argument, NULL, ARG_LOG_LEVEL },
                {}
        };
        Supervisor s = {};
        bool cleanup = false;
        sigset_t mask;
        int c, r;

        log_setup("krata-zone");
        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        help();
                        return 0;
                case ARG_VERSION:
                        printf("krata-zone %s\n", PACKAGE_VERSION);
                        return 0;
                case ARG_CLEANUP:
                        cleanup = true;
                        break;
                case ARG_LOG_LEVEL:
                        if (log_parse_level_arg(optarg) < 0)
                                return 2;
                        break;
                default:
                        return 2;
                }
        if (argc - optind != 1) {
                log_error("Usage: krata-zone [--cleanup] NAME");
                return 2;
        }
        if (cleanup)
                return cleanup_orphan(argv[optind]) < 0 ? 1 : 0;

        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigprocmask(SIG_BLOCK, &mask, NULL);

        r = load(argv[optind], &s);
        if (r < 0) {
                (void) sd_notifyf(false, "STATUS=Failed: cannot load zone %s", argv[optind]);
                supervisor_done(&s);
                return 1;
        }
        r = sd_event_default(&s.event);
        if (r < 0) {
                log_error_errno(r, "Failed to allocate event loop: %m");
                supervisor_done(&s);
                return 1;
        }
        r = sd_bus_open_system(&s.bus);
        if (r < 0) {
                log_notice_errno(r, "No system bus (%m): running without krata-zoned, imaged, consoled, networkd.");
                s.bus = NULL;
        }
        r = run(&s);
        supervisor_done(&s);
        /* The zone's own status when it ran; 1 when the supervisor failed. */
        return r < 0 ? 1 : r;
}
