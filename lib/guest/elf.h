/*
 * lib/guest/elf.h - what the dynamic loader reads of an ELF file (private).
 *
 * kt__elf_parse reads a file image in memory: the loader (PT_INTERP) and
 * the dynamic section's DT_NEEDED, DT_SONAME, DT_RPATH, DT_RUNPATH and
 * DT_FLAGS_1, found through the program headers as the loader finds them
 * (section headers may be stripped). Files are untrusted: every offset and
 * size is bounded by the buffer, nothing is written, and a truncated or
 * corrupt file is an error, never a crash, so the parse can run under a
 * fuzzer on its own. Only 64-bit little-endian x86_64 is accepted.
 */
#ifndef KTSTR_LIB_GUEST_ELF_H
#define KTSTR_LIB_GUEST_ELF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include "base/vec.h"
#include "ktstr/error.h"

typedef struct kt__elf {
    uint16_t type;          /* e_type: 2 ET_EXEC, 3 ET_DYN, ... */
    const char *interp;     /* PT_INTERP path, or NULL (a static program) */
    const char *soname;     /* DT_SONAME, or NULL */
    const char *rpath;      /* DT_RPATH, or NULL; NULL too when DT_RUNPATH is
                               set, since the loader then ignores it */
    const char *runpath;    /* DT_RUNPATH, or NULL */
    bool nodeflib;          /* DF_1_NODEFLIB: no ld.so.cache, no system dirs */
    bool dynamic;           /* has a PT_DYNAMIC segment */
    kt__vec needed;         /* const char *: DT_NEEDED names, in file order */
} kt__elf;

/* Parses len bytes at buf into out; the strings point into buf, so buf
 * outlives out. 0, or -1 with err: code ENOEXEC when the file is not a
 * 64-bit little-endian x86_64 ELF (the loader skips such a candidate and
 * searches on), EINVAL when it is one but truncated or corrupt, ENOMEM.
 * Messages do not name the file: the caller prefixes its name. out needs
 * kt__elf_free even after a failure. */
int kt__elf_parse(const void *buf, size_t len, kt__elf *out, kt_err *err);

/* Frees what kt__elf_parse allocated (not buf). */
void kt__elf_free(kt__elf *e);

/* An ELF file read whole: its bytes, its stat (symlinks followed) and
 * the parse of them. */
typedef struct kt__elf_file {
    void *buf;
    size_t len;
    struct stat st;
    kt__elf elf;
} kt__elf_file;

/* Reads and parses path; errors as kt__elf_parse's, prefixed with the
 * path ("/bin/x: 32-bit ELF ..."), or the open/read failure. f needs
 * kt__elf_file_free even after a failure. */
int kt__elf_load(const char *path, kt__elf_file *f, kt_err *err);
void kt__elf_file_free(kt__elf_file *f);

#endif
