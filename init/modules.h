/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Loads every module listed in dir/modules.dep (the initrd carries only the
 * ones the zone needs before its disks exist), dependencies first, with
 * finit_module(). A missing dir means a kernel with everything built in. */
int modules_load_all(const char *dir);
