/* SPDX-License-Identifier: Apache-2.0 */
/* The daemon skeleton's command line (shared/service.c). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "log.h"
#include "service.h"

static const char *seen_arg;
static int seen_option;

enum { ARG_SIZE = 0x100, ARG_FLAG };

static int parse_option(int option, const char *arg) {
        seen_option = option;
        seen_arg = arg;
        if (option == ARG_SIZE && strcmp(arg, "bad") == 0)
                return -EINVAL;
        return 0;
}

static const struct option options[] = {
        { "size", required_argument, NULL, ARG_SIZE },
        { "flag", no_argument, NULL, ARG_FLAG },
        {}
};

static const ServiceDefinition with_options = {
        .name = "krata-test",
        .bus_name = "org.krata.Test",
        .summary = "A test.",
        .options_help = "     --size=SIZE            A size\n",
        .options = options,
        .parse_option = parse_option,
        .ready_status = "Testing.",
};

static const ServiceDefinition plain = {
        .name = "krata-plain",
        .bus_name = "org.krata.Plain",
        .summary = "No options of its own.",
        .ready_status = "Testing.",
};

static int parse(const ServiceDefinition *def, int argc, const char *const *args) {
        char *argv[8] = {};

        assert_true(argc < 8);
        for (int i = 0; i < argc; i++)
                argv[i] = (char *) args[i];
        seen_option = 0;
        seen_arg = NULL;
        return service_parse_argv(def, argc, argv);
}

#define PARSE(def, ...) parse(def, ELEMENTSOF(((const char *[]) { __VA_ARGS__ })), (const char *[]) { __VA_ARGS__ })

static void test_common(void **state) {
        printf("# --help, --version and --log-level are every daemon's\n");
        assert_int_equal(PARSE(&plain, "krata-plain"), 1);
        assert_int_equal(PARSE(&plain, "krata-plain", "--help"), 0);
        assert_int_equal(PARSE(&plain, "krata-plain", "-h"), 0);
        assert_int_equal(PARSE(&with_options, "krata-test", "--version"), 0);
        assert_int_equal(PARSE(&plain, "krata-plain", "--log-level=debug"), 1);
        assert_int_equal(log_get_max_level(), LOG_DEBUG);
        assert_int_equal(PARSE(&plain, "krata-plain", "--log-level", "warning"), 1);
        assert_int_equal(log_get_max_level(), LOG_WARNING);
}

static void test_refused(void **state) {
        printf("# unknown options, bad values and arguments are usage errors\n");
        log_set_max_level(LOG_EMERG); /* the refusals log on purpose */
        assert_true(PARSE(&plain, "krata-plain", "--log-level=loud") < 0);
        assert_true(PARSE(&plain, "krata-plain", "--size=1") < 0);
        assert_true(PARSE(&plain, "krata-plain", "extra") < 0);
        assert_true(PARSE(&with_options, "krata-test", "--log-level") < 0);
        assert_true(PARSE(&with_options, "krata-test", "--size=bad") < 0);
        assert_int_equal(seen_option, ARG_SIZE);
        log_set_max_level(LOG_INFO);
}

static void test_own_options(void **state) {
        printf("# a daemon's own options reach its parser\n");
        assert_int_equal(PARSE(&with_options, "krata-test", "--size=4K", "--log-level=info"), 1);
        assert_int_equal(seen_option, ARG_SIZE);
        assert_string_equal(seen_arg, "4K");
        assert_int_equal(PARSE(&with_options, "krata-test", "--flag"), 1);
        assert_int_equal(seen_option, ARG_FLAG);
        assert_null(seen_arg);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_common),
                cmocka_unit_test(test_refused),
                cmocka_unit_test(test_own_options),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
