/*
 * lib/guest/deps.h - the files a dynamically linked program needs, found
 * the way glibc's loader finds them (private).
 *
 *   kt__deps d;
 *   kt__deps_init(&d, NULL, err);               // this machine's ld.so.cache
 *   kt__deps_add(&d, "build/x.t", "/init", err);
 *   for (size_t i = 0; i < d.list.n; i++) ...   // kt__dep: host -> guest
 *   kt__deps_free(&d);
 *
 * For each program: its PT_INTERP, then its DT_NEEDED names breadth-first
 * (the loader's order), each searched as ld.so does: the DT_RPATHs of the
 * requesting object and the objects that loaded it and of the program
 * (only when the requester has no DT_RUNPATH), its DT_RUNPATH, then
 * /etc/ld.so.cache (or, when that is unusable, the directories of
 * /etc/ld.so.conf) and the system directories, both skipped under
 * DF_1_NODEFLIB. A name already loaded (as a DT_NEEDED name or a
 * DT_SONAME) or a file already loaded (same device and inode) is not
 * loaded twice. Candidates that are not 64-bit x86_64 ELF are skipped, as
 * the loader skips a 32-bit library in a shared directory.
 *
 * $ORIGIN is expanded twice: with the object's directory here (the
 * program's real path, a library's path as opened) to find the file, and
 * with its directory in the image (the program runs as /init, so its
 * $ORIGIN there is "/") to place it where the guest's loader will look.
 * $LIB and $PLATFORM elements are skipped. LD_LIBRARY_PATH is ignored on
 * purpose: the guest's /init does not inherit the host's environment.
 */
#ifndef KTSTR_LIB_GUEST_DEPS_H
#define KTSTR_LIB_GUEST_DEPS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>

#include "base/vec.h"
#include "ktstr/error.h"
#include "guest/ldcache.h"

typedef enum kt__dep_via {
    KT__VIA_INTERP,     /* a program's PT_INTERP */
    KT__VIA_PATH,       /* a DT_NEEDED name holding a '/' */
    KT__VIA_RPATH,
    KT__VIA_RUNPATH,
    KT__VIA_CACHE,      /* /etc/ld.so.cache */
    KT__VIA_CONFDIR,    /* a directory of ld.so.conf (the cache unusable) */
    KT__VIA_SYSDIR,     /* the loader's built-in directories */
} kt__dep_via;

typedef struct kt__dep {
    char *name;         /* the DT_NEEDED name, or the PT_INTERP path */
    char *host;         /* the path the loader opens here */
    char *guest;        /* where it goes in the image: absolute, normalised */
    char *link;         /* NULL, or the guest path of an earlier dep that is
                           the same file: the image holds a symlink to it, so
                           the guest's loader sees one inode as this one does */
    kt__dep_via via;
    struct stat st;     /* of host, symlinks followed */
} kt__dep;

/* Where the system's loader configuration is; NULL fields take the
 * defaults, "" means none. For tests and for a sysroot. */
typedef struct kt__ldconf {
    const char *cache;              /* /etc/ld.so.cache */
    const char *conf;               /* /etc/ld.so.conf */
    const char *const *sysdirs;     /* NULL-terminated; glibc's x86_64 list */
} kt__ldconf;

typedef struct kt__deps {
    kt__vec list;               /* kt__dep, over every program added */
    kt__ldcache cache;
    bool cache_ok;              /* false: confdirs stand in for it */
    char cache_path[256];
    kt__vec confdirs;           /* char *, read only when !cache_ok */
    const char *const *sysdirs;
} kt__deps;

/* Reads the cache (or the ld.so.conf directories when it is unusable);
 * conf may be NULL. 0, or -1 (out of memory only: a missing cache or conf
 * is not an error). */
int kt__deps_init(kt__deps *d, const kt__ldconf *conf, kt_err *err);

/* Adds what program (a path here) needs to run at guest in the image:
 * its loader and libraries, each once over all programs. A static program
 * adds nothing. 0, or -1 with err naming the file: not a 64-bit x86_64
 * ELF, corrupt, or a library not found ("libx.so.1, needed by
 * /path/prog: not found (searched ...)"), or two different files for one
 * guest path. The list keeps what was added before a failure. */
int kt__deps_add(kt__deps *d, const char *program, const char *guest, kt_err *err);

void kt__deps_free(kt__deps *d);

/* Writes in (absolute, or taken from "/") as an absolute path without
 * ".", ".." or repeated slashes ("/../lib//x" -> "/lib/x"); 0, or -1
 * with ENAMETOOLONG when it does not fit in outsz. */
int kt__guest_path(const char *in, char *out, size_t outsz, kt_err *err);

#endif
