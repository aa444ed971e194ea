/* ter.c — engine result codes: lookups over the JT_TER_CODES table (jt/ter.h). */
#include <string.h>

#include "internal.h"
#include "jt/ter.h"

static const jt_ter table[] = {
#define X(token, code, message) {#token, code, message},
    JT_TER_CODES(X)
#undef X
};

/* Each code's row number, so that a lookup by code is one switch (the
 * compiler makes it a jump table or a binary search): the codec looks up a
 * TransactionResult for every metadata it writes. */
enum {
#define X(token, code, message) ROW_##token,
    JT_TER_CODES(X)
#undef X
        ROW_COUNT
};

_Static_assert(ROW_COUNT == JT_TER_COUNT, "JT_TER_COUNT matches JT_TER_CODES");
_Static_assert(JT__ARRAY_LEN(table) == JT_TER_COUNT, "one row per code");

const jt_ter *jt_ter_by_code(int code)
{
    switch (code) {
#define X(token, c, message)                                                                       \
    case c: return &table[ROW_##token];
        JT_TER_CODES(X)
#undef X
    default: return NULL;
    }
}

const jt_ter *jt_ter_by_token(const char *token)
{
    if (!token)
        return NULL;
    for (size_t i = 0; i < JT__ARRAY_LEN(table); i++)
        if (strcmp(table[i].token, token) == 0)
            return &table[i];
    return NULL;
}

const char *jt_ter_token(int code)
{
    const jt_ter *t = jt_ter_by_code(code);
    return t ? t->token : NULL;
}

const char *jt_ter_message(int code)
{
    const jt_ter *t = jt_ter_by_code(code);
    return t ? t->message : NULL;
}

bool jt_ter_from_token(const char *token, int *code)
{
    const jt_ter *t = jt_ter_by_token(token);
    if (!t)
        return false;
    *code = t->code;
    return true;
}

jt_ter_kind jt_ter_class(int code)
{
    if (code >= -399 && code <= -300)
        return JT_TER_KIND_TEL;
    if (code >= -299 && code <= -200)
        return JT_TER_KIND_TEM;
    if (code >= -199 && code <= -100)
        return JT_TER_KIND_TEF;
    if (code >= -99 && code <= -1)
        return JT_TER_KIND_TER;
    if (code == 0)
        return JT_TER_KIND_TES;
    if (code >= 100 && code <= 255)
        return JT_TER_KIND_TEC;
    return JT_TER_KIND_UNKNOWN;
}

const jt_ter *jt_ter_table(size_t *count)
{
    *count = JT__ARRAY_LEN(table);
    return table;
}
