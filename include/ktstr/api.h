/*
 * ktstr/api.h - the mark on every public declaration.
 *
 * The library is built with -fvisibility=hidden, so only what a header in
 * include/ declares with KT_API is exported from libktstr.so; private
 * cross-file helpers (kt__name) stay inside it.
 */
#ifndef KTSTR_API_H
#define KTSTR_API_H

#if defined(__GNUC__) || defined(__clang__)
#define KT_API __attribute__((visibility("default")))
#else
#define KT_API
#endif

#endif
