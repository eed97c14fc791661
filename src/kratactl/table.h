/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <json-c/json.h>

#include "kratactl.h"
#include "macro.h"

/* Output of list-like commands: rows are JSON objects, so `--output json`
 * prints exactly the data the table shows (typed, unabbreviated). */
typedef enum ColumnFormat {
        COLUMN_STRING,
        COLUMN_SIZE,      /* bytes, printed as 1.2M in tables */
        COLUMN_TIMESTAMP, /* microseconds since the epoch, printed as a date */
} ColumnFormat;

typedef struct TableColumn {
        const char *key;    /* JSON key */
        const char *header; /* table header */
        ColumnFormat format;
} TableColumn;

typedef struct Table Table;

Table *table_new(const TableColumn *columns, size_t n_columns);
Table *table_free(Table *t);
DEFINE_TRIVIAL_CLEANUP_FUNC(Table *, table_free);
#define _cleanup_table_ _cleanup_(table_freep)
/* Takes ownership of row. */
int table_add_row(Table *t, json_object *row);
/* Prints a table (or a JSON array in json mode) to stdout. */
int table_print(Table *t, OutputMode mode);
/* Human-readable size ("1.5M"); buf needs 16 bytes. */
const char *format_size(char *buf, size_t len, uint64_t bytes);
