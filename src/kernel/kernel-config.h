/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "macro.h"

/* Kernel configuration requirements for zone and dom0 kernels. */

typedef enum KernelRole {
        KERNEL_ROLE_ZONE,
        KERNEL_ROLE_HOST, /* dom0: the zone list plus the backend list */
} KernelRole;

typedef enum OptionLevel {
        OPTION_REQUIRED,    /* absent: the check fails */
        OPTION_RECOMMENDED, /* absent: reported, the check passes */
} OptionLevel;

typedef enum OptionState {
        OPTION_OK,
        OPTION_MODULE,    /* wanted built in, is =m (fine when krata's initrd loads it) */
        OPTION_DIFFERENT, /* a different value (numbers, strings) */
        OPTION_MISSING,
} OptionState;

typedef struct KernelOption {
        const char *name;  /* without CONFIG_ */
        const char *value; /* "y", "m" (y or m will do), or an exact value */
        KernelRole role;
        OptionLevel level;
        const char *why;   /* for non-seed rows and downgraded ones */
} KernelOption;

typedef struct OptionResult {
        const KernelOption *option;
        OptionState state;
        char *have; /* NULL when absent */
} OptionResult;

typedef struct KernelConfig KernelConfig;

KernelConfig *kernel_config_free(KernelConfig *c);
DEFINE_TRIVIAL_CLEANUP_FUNC(KernelConfig *, kernel_config_free);

/* Parses .config text ("CONFIG_X=y", "# CONFIG_X is not set"). */
int kernel_config_parse(const char *text, size_t size, KernelConfig **ret);
/* Reads a .config, /proc/config.gz (gzip is detected), bounded. */
int kernel_config_load(const char *path, KernelConfig **ret);
/* The value of CONFIG_<name> or NULL. */
const char *kernel_config_get(const KernelConfig *c, const char *name);

const KernelOption *kernel_options(size_t *ret_n);
const char *option_state_to_string(OptionState s);

/* Checks c against the options for role; *ret_results has one row per
 * option; returns the number of absent required options (0 = pass). */
int kernel_config_check(const KernelConfig *c, KernelRole role, OptionResult **ret_results, size_t *ret_n);
void option_results_free(OptionResult *r, size_t n);
