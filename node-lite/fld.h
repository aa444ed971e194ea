/*
 * fld.h — field handles resolved once per call site.
 *
 * FLD("Sequence") is jt_field_by_name("Sequence"), looked up the first time
 * that line runs and kept in a static of its own, for use with libjt's
 * jt_obj_*_f accessors. The engine touches the same few fields for every
 * transaction; this keeps name hashing out of that path. The cache is an
 * atomic pointer, so any thread may use it (the value is the same for all).
 */
#ifndef JN_FLD_H
#define JN_FLD_H

#include <stdatomic.h>

#include <jt/jt.h>

#define FLD(name)                                                                    \
    __extension__({                                                                  \
        static _Atomic(const jt_field *) fld_cache_;                                 \
        const jt_field *fld_ = atomic_load_explicit(&fld_cache_, memory_order_relaxed); \
        if (!fld_) {                                                                 \
            fld_ = jt_field_by_name(name);                                           \
            atomic_store_explicit(&fld_cache_, fld_, memory_order_relaxed);          \
        }                                                                            \
        fld_;                                                                        \
    })

#endif
