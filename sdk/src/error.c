/* error.c — error names, texts and jt_errinfo helpers. */
#include <stdio.h>
#include <string.h>

#include "internal.h"
#include "jt/error.h"

static const char *const texts[] = {
#define X(name, text) text,
    JT_ERRORS(X)
#undef X
};

static const char *const names[] = {
#define X(name, text) #name,
    JT_ERRORS(X)
#undef X
};

const char *jt_strerror(jt_err err)
{
    if ((unsigned)err >= JT__ARRAY_LEN(texts))
        return "unknown error";
    return texts[err];
}

const char *jt_errname(jt_err err)
{
    if ((unsigned)err >= JT__ARRAY_LEN(names))
        return "?";
    return names[err];
}

void jt_errinfo_clear(jt_errinfo *ei)
{
    if (!ei)
        return;
    ei->code = JT_OK;
    ei->offset = -1;
    ei->field[0] = '\0';
    ei->msg[0] = '\0';
}

jt_err jt__err(jt_errinfo *ei, jt_err code, const char *field, long offset, const char *fmt, ...)
{
    if (!ei)
        return code;
    ei->code = code;
    ei->offset = offset;
    snprintf(ei->field, sizeof ei->field, "%s", field ? field : "");
    if (fmt) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(ei->msg, sizeof ei->msg, fmt, ap);
        va_end(ap);
    } else {
        snprintf(ei->msg, sizeof ei->msg, "%s", jt_strerror(code));
    }
    return code;
}

jt_err jt__err_wrap(jt_errinfo *ei, jt_err code, const char *path)
{
    if (!ei)
        return code;
    if (ei->code != code || ei->msg[0] == '\0') {
        ei->code = code;
        snprintf(ei->msg, sizeof ei->msg, "%s", jt_strerror(code));
    }
    if (path && path[0] && ei->field[0] == '\0') {
        char tmp[sizeof ei->msg];
        size_t pl = strlen(path), ml = strlen(ei->msg);
        snprintf(ei->field, sizeof ei->field, "%s", path);
        if (pl + 2 + ml + 1 <= sizeof tmp) {
            memcpy(tmp, path, pl);
            memcpy(tmp + pl, ": ", 2);
            memcpy(tmp + pl + 2, ei->msg, ml + 1);
            memcpy(ei->msg, tmp, sizeof tmp);
        }
    }
    return code;
}
