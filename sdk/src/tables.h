/* tables.h — the generated protocol tables (tables.c) and lookups over them. */
#ifndef JT_TABLES_H
#define JT_TABLES_H

#include "jt/codec.h"

typedef struct jt__named_code {
    const char *name;
    int code;
} jt__named_code;

/* Sorted by (type, code). */
extern const jt_field jt__fields[];
extern const size_t jt__field_count;
/* Sorted by code. */
extern const jt__named_code jt__tx_types[];
extern const size_t jt__tx_type_count;
extern const jt__named_code jt__ledger_types[];
extern const size_t jt__ledger_type_count;

#endif
