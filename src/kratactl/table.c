/* SPDX-License-Identifier: Apache-2.0 */
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "json-util.h"
#include "string-util.h"
#include "table.h"

struct Table {
        const TableColumn *columns;
        size_t n_columns;
        json_object *rows; /* array */
};

Table *table_new(const TableColumn *columns, size_t n_columns) {
        Table *t = calloc(1, sizeof *t);

        assert(columns || n_columns == 0);

        if (!t)
                return NULL;
        t->columns = columns;
        t->n_columns = n_columns;
        t->rows = json_object_new_array();
        if (!t->rows)
                return mfree(t);
        return t;
}

Table *table_free(Table *t) {
        if (!t)
                return NULL;
        json_object_put(t->rows);
        return mfree(t);
}

int table_add_row(Table *t, json_object *row) {
        assert(t);
        assert(row);

        if (json_object_array_add(t->rows, row) < 0) {
                json_object_put(row);
                return -ENOMEM;
        }
        return 0;
}

const char *format_size(char *buf, size_t len, uint64_t bytes) {
        static const char suffix[] = "KMGTPE";
        double v = (double) bytes;
        size_t i = 0;

        assert(buf);

        if (bytes < 1024) {
                snprintf(buf, len, "%" PRIu64 "B", bytes);
                return buf;
        }
        while (v >= 1024 && i < sizeof suffix - 1) {
                v /= 1024;
                i++;
        }
        snprintf(buf, len, "%.1f%c", v, suffix[i - 1]);
        return buf;
}

static char *cell_string(const TableColumn *c, json_object *row) {
        json_object *v = NULL;
        char buf[64];

        if (!json_object_object_get_ex(row, c->key, &v) || !v)
                return strdup("-");
        switch (c->format) {
        case COLUMN_SIZE:
                return strdup(format_size(buf, sizeof buf, (uint64_t) json_object_get_int64(v)));
        case COLUMN_TIMESTAMP: {
                time_t s = (time_t) (json_object_get_int64(v) / 1000000);
                struct tm tm;
                if (s <= 0 || !localtime_r(&s, &tm))
                        return strdup("-");
                strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
                return strdup(buf);
        }
        default:
                break;
        }
        if (json_object_is_type(v, json_type_string))
                return strdup(json_object_get_string(v));
        if (json_object_is_type(v, json_type_array)) {
                _cleanup_strv_free_ char **l = calloc(1, sizeof(char *));
                size_t n = json_object_array_length(v);
                if (!l)
                        return NULL;
                for (size_t i = 0; i < n; i++)
                        if (strv_extend(&l, json_object_get_string(json_object_array_get_idx(v, i))) < 0)
                                return NULL;
                return n ? strv_join(l, ",") : strdup("-");
        }
        return strdup(json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN));
}

int table_print(Table *t, OutputMode mode) {
        size_t n_rows = json_object_array_length(t->rows);
        _cleanup_free_ size_t *width = NULL;
        _cleanup_free_ char **cells = NULL;
        int r = 0;

        assert(t);

        if (mode == OUTPUT_JSON)
                return json_print(stdout, t->rows, true);

        width = calloc(t->n_columns, sizeof(size_t));
        cells = calloc(n_rows * t->n_columns + 1, sizeof(char *));
        if (!width || !cells)
                return -ENOMEM;
        for (size_t c = 0; c < t->n_columns; c++)
                width[c] = strlen(t->columns[c].header);
        for (size_t i = 0; i < n_rows; i++)
                for (size_t c = 0; c < t->n_columns; c++) {
                        char *s = cell_string(&t->columns[c], json_object_array_get_idx(t->rows, i));
                        if (!s) {
                                r = -ENOMEM;
                                goto finish;
                        }
                        cells[i * t->n_columns + c] = s;
                        width[c] = MAX(width[c], strlen(s));
                }
        if (arg_legend) {
                for (size_t c = 0; c < t->n_columns; c++)
                        printf("%-*s%s", c + 1 < t->n_columns ? (int) width[c] : 0,
                               t->columns[c].header, c + 1 < t->n_columns ? "  " : "\n");
        }
        for (size_t i = 0; i < n_rows; i++)
                for (size_t c = 0; c < t->n_columns; c++)
                        printf("%-*s%s", c + 1 < t->n_columns ? (int) width[c] : 0,
                               cells[i * t->n_columns + c], c + 1 < t->n_columns ? "  " : "\n");
finish:
        for (size_t i = 0; i < n_rows * t->n_columns; i++)
                free(cells[i]);
        return r;
}
