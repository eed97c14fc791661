/* SPDX-License-Identifier: Apache-2.0 */
/* Test helper: reads a launch spec (JSON) on stdin, validates it with the real
 * parser and writes a config disk image with launch_disk_write(). */
#include <stdio.h>

#include "launch-spec.h"
#include "log.h"

int main(int argc, char *argv[]) {
        _cleanup_launch_spec_ LaunchSpec *s = NULL;
        static char buf[LAUNCH_SPEC_JSON_MAX + 1];
        size_t n;

        log_setup(argv[0]);
        if (argc != 2) {
                log_error("Usage: %s OUTPUT < spec.json", argv[0]);
                return 2;
        }
        n = fread(buf, 1, sizeof buf, stdin);
        if (launch_spec_parse(buf, n, &s) < 0)
                return 1;
        return launch_disk_write(argv[1], s) < 0 ? 1 : 0;
}
