/* The loader's view of an ELF file, read from the program headers with
 * every offset checked against the buffer before it is used. Fields are
 * decoded byte by byte as little-endian: no struct is overlaid on the
 * buffer, so alignment and the host's byte order do not matter. */
#include "guest/elf.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define EHDR_LEN 64
#define PHDR_LEN 56
#define DYN_LEN 16

enum {
    PT_LOAD_ = 1, PT_DYNAMIC_ = 2, PT_INTERP_ = 3,
    DT_NULL_ = 0, DT_NEEDED_ = 1, DT_STRTAB_ = 5, DT_STRSZ_ = 10,
    DT_SONAME_ = 14, DT_RPATH_ = 15, DT_RUNPATH_ = 29,
    EM_X86_64_ = 62,
};
#define DT_FLAGS_1_ 0x6ffffffbULL
#define DF_1_NODEFLIB_ 0x800ULL

static uint16_t rd16(const unsigned char *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t rd32(const unsigned char *p) { return rd16(p) | (uint32_t)rd16(p + 2) << 16; }
static uint64_t rd64(const unsigned char *p) { return rd32(p) | (uint64_t)rd32(p + 4) << 32; }

/* [off, off + n) lies inside a buffer of len bytes (no overflow). */
static bool inside(uint64_t off, uint64_t n, size_t len)
{
    return off <= len && n <= len - off;
}

static const char *machine_name(unsigned m)
{
    switch (m) {
    case 3: return "i386";
    case 8: return "MIPS";
    case 20: return "PowerPC";
    case 21: return "PowerPC64";
    case 22: return "S/390";
    case 40: return "ARM";
    case 183: return "AArch64";
    case 243: return "RISC-V";
    case 258: return "LoongArch";
    default: return "unknown";
    }
}

/* e_ident and the header fields the loader checks before anything else. */
static int check_ident(const unsigned char *b, size_t len, kt_err *err)
{
    if (len < 4 || memcmp(b, "\177ELF", 4) != 0) {
        if (len < 4)
            return kt_err_set(err, ENOEXEC, "not an ELF file (%zu bytes)", len);
        return kt_err_set(err, ENOEXEC, "not an ELF file (starts with %02x %02x %02x %02x)",
                          b[0], b[1], b[2], b[3]);
    }
    if (len < 7)
        return kt_err_set(err, EINVAL, "truncated ELF header (%zu of %d bytes)", len, EHDR_LEN);
    if (b[4] == 1)
        return kt_err_set(err, ENOEXEC, "32-bit ELF (ELFCLASS32): only 64-bit x86_64 is supported");
    if (b[4] != 2)
        return kt_err_set(err, ENOEXEC, "ELF class %u unknown: only 64-bit x86_64 is supported",
                          b[4]);
    if (b[5] == 2)
        return kt_err_set(err, ENOEXEC, "big-endian ELF (ELFDATA2MSB): only little-endian x86_64 "
                          "is supported");
    if (b[5] != 1)
        return kt_err_set(err, ENOEXEC, "ELF data encoding %u unknown", b[5]);
    if (b[6] != 1)
        return kt_err_set(err, ENOEXEC, "ELF version %u unknown", b[6]);
    if (len < EHDR_LEN)
        return kt_err_set(err, EINVAL, "truncated ELF header (%zu of %d bytes)", len, EHDR_LEN);
    if (rd16(b + 18) != EM_X86_64_)
        return kt_err_set(err, ENOEXEC, "ELF for machine %u (%s): only x86_64 is supported",
                          rd16(b + 18), machine_name(rd16(b + 18)));
    return 0;
}

typedef struct phdrs {
    const unsigned char *at;    /* the first program header */
    unsigned n;
} phdrs;

/* File offset of n bytes at virtual address a, through the PT_LOAD that
 * holds them in its file part; -1 when none does. */
static int64_t vaddr_to_off(const phdrs *ph, uint64_t a, uint64_t n, size_t len)
{
    for (unsigned i = 0; i < ph->n; i++) {
        const unsigned char *p = ph->at + (size_t)i * PHDR_LEN;
        uint64_t off = rd64(p + 8), va = rd64(p + 16), filesz = rd64(p + 32);

        if (rd32(p) != PT_LOAD_ || a < va || a - va >= filesz || n > filesz - (a - va))
            continue;
        if (!inside(off, filesz, len))
            return -1;
        return (int64_t)(off + (a - va));
    }
    return -1;
}

typedef struct strtab {
    const char *at;
    uint64_t size;
} strtab;

static const char *string_at(const strtab *st, uint64_t off, const char *tag, kt_err *err)
{
    const char *s;

    if (!st->at) {
        kt_err_set(err, EINVAL, "dynamic section has %s but no DT_STRTAB/DT_STRSZ", tag);
        return NULL;
    }
    if (off >= st->size) {
        kt_err_set(err, EINVAL, "%s string at %llu is outside the string table (%llu bytes)",
                   tag, (unsigned long long)off, (unsigned long long)st->size);
        return NULL;
    }
    s = st->at + off;
    if (!memchr(s, '\0', st->size - off)) {
        kt_err_set(err, EINVAL, "%s string at %llu runs past the string table's end",
                   tag, (unsigned long long)off);
        return NULL;
    }
    return s;
}

static int parse_dynamic(const unsigned char *b, size_t len, const phdrs *ph,
                         uint64_t doff, uint64_t dsize, kt__elf *out, kt_err *err)
{
    uint64_t n = dsize / DYN_LEN, strtab_va = 0, strsz = 0;
    bool have_strtab = false, have_strsz = false;
    strtab st = { NULL, 0 };

    /* Pass 1: where the strings are. */
    for (uint64_t i = 0; i < n; i++) {
        const unsigned char *d = b + doff + i * DYN_LEN;
        uint64_t tag = rd64(d), val = rd64(d + 8);

        if (tag == DT_NULL_)
            break;
        if (tag == DT_STRTAB_) {
            strtab_va = val;
            have_strtab = true;
        } else if (tag == DT_STRSZ_) {
            strsz = val;
            have_strsz = true;
        } else if (tag == DT_FLAGS_1_) {
            out->nodeflib = (val & DF_1_NODEFLIB_) != 0;
        }
    }
    if (have_strtab && have_strsz) {
        int64_t off = vaddr_to_off(ph, strtab_va, strsz, len);

        if (off < 0)
            return kt_err_set(err, EINVAL, "string table (vaddr 0x%llx, %llu bytes) is not in "
                              "the file (truncated?)", (unsigned long long)strtab_va,
                              (unsigned long long)strsz);
        st.at = (const char *)b + off;
        st.size = strsz;
    }
    /* Pass 2: the strings. */
    for (uint64_t i = 0; i < n; i++) {
        const unsigned char *d = b + doff + i * DYN_LEN;
        uint64_t tag = rd64(d), val = rd64(d + 8);
        const char *s;

        if (tag == DT_NULL_)
            break;
        if (tag == DT_NEEDED_) {
            if (!(s = string_at(&st, val, "DT_NEEDED", err)))
                return -1;
            if (*s == '\0')
                return kt_err_set(err, EINVAL, "empty DT_NEEDED name (entry %llu)",
                                  (unsigned long long)i);
            if (kt__vec_push(&out->needed, &s, err, "DT_NEEDED names") < 0)
                return -1;
        } else if (tag == DT_SONAME_ || tag == DT_RPATH_ || tag == DT_RUNPATH_) {
            const char *name = tag == DT_SONAME_ ? "DT_SONAME" :
                               tag == DT_RPATH_ ? "DT_RPATH" : "DT_RUNPATH";

            if (!(s = string_at(&st, val, name, err)))
                return -1;
            *(tag == DT_SONAME_ ? &out->soname : tag == DT_RPATH_ ? &out->rpath
                                                                  : &out->runpath) = s;
        }
    }
    if (out->runpath)
        out->rpath = NULL;
    return 0;
}

int kt__elf_parse(const void *buf, size_t len, kt__elf *out, kt_err *err)
{
    const unsigned char *b = buf;
    uint64_t phoff;
    unsigned phentsize;
    phdrs ph;
    bool seen_interp = false, seen_dyn = false;
    uint64_t doff = 0, dsize = 0;

    *out = (kt__elf){ .needed = KT__VEC_INIT(const char *) };
    if (check_ident(b, len, err) < 0)
        return -1;
    out->type = rd16(b + 16);
    phoff = rd64(b + 32);
    phentsize = rd16(b + 54);
    ph.n = rd16(b + 56);
    if (ph.n == 0xffff)
        return kt_err_set(err, EINVAL, "more than 65534 program headers (PN_XNUM) "
                          "is not supported");
    if (ph.n > 0 && phentsize != PHDR_LEN)
        return kt_err_set(err, EINVAL, "program header size %u, expected %d", phentsize,
                          PHDR_LEN);
    if (!inside(phoff, (uint64_t)ph.n * PHDR_LEN, len))
        return kt_err_set(err, EINVAL, "%u program headers at offset %llu run past the end "
                          "of the file (%zu bytes; truncated?)", ph.n,
                          (unsigned long long)phoff, len);
    ph.at = b + phoff;
    for (unsigned i = 0; i < ph.n; i++) {
        const unsigned char *p = ph.at + (size_t)i * PHDR_LEN;
        uint32_t type = rd32(p);
        uint64_t off = rd64(p + 8), filesz = rd64(p + 32);

        if (type == PT_INTERP_ && !seen_interp) {
            seen_interp = true;
            if (!inside(off, filesz, len))
                return kt_err_set(err, EINVAL, "PT_INTERP (offset %llu, %llu bytes) runs past "
                                  "the end of the file (%zu bytes; truncated?)",
                                  (unsigned long long)off, (unsigned long long)filesz, len);
            /* The kernel wants the NUL as the segment's last byte. */
            if (filesz < 2 || b[off + filesz - 1] != '\0' || b[off] == '\0')
                return kt_err_set(err, EINVAL, "PT_INTERP is not a NUL-terminated path");
            out->interp = (const char *)b + off;
        } else if (type == PT_DYNAMIC_ && !seen_dyn) {
            seen_dyn = true;
            if (!inside(off, filesz, len))
                return kt_err_set(err, EINVAL, "PT_DYNAMIC (offset %llu, %llu bytes) runs past "
                                  "the end of the file (%zu bytes; truncated?)",
                                  (unsigned long long)off, (unsigned long long)filesz, len);
            doff = off;
            dsize = filesz;
        }
    }
    out->dynamic = seen_dyn;
    if (seen_dyn)
        return parse_dynamic(b, len, &ph, doff, dsize, out, err);
    return 0;
}

void kt__elf_free(kt__elf *e)
{
    kt__vec_free(&e->needed);
}

/* Prefixes err's message with name (the parse does not know it). */
static int prefix(kt_err *err, const char *name)
{
    char m[KT_ERR_MSG_MAX];

    if (!err)
        return -1;
    memcpy(m, err->msg, sizeof(m));
    return kt_err_set(err, err->code, "%s: %s", name, m);
}

int kt__elf_load(const char *path, kt__elf_file *f, kt_err *err)
{
    int fd;
    size_t got = 0;

    *f = (kt__elf_file){ .elf = { .needed = KT__VEC_INIT(const char *) } };
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return kt_err_sys(err, errno, "%s: open", path);
    if (fstat(fd, &f->st) < 0) {
        int e = errno;

        close(fd);
        return kt_err_sys(err, e, "%s: fstat", path);
    }
    if (!S_ISREG(f->st.st_mode)) {
        close(fd);
        return kt_err_set(err, ENOEXEC, "%s: not a regular file", path);
    }
    /* One read of the whole file: a file that changes under us is read as
     * far as it goes, and the parse bounds everything by what was read. */
    f->buf = malloc(f->st.st_size > 0 ? (size_t)f->st.st_size : 1);
    if (!f->buf) {
        close(fd);
        return kt_err_sys(err, ENOMEM, "%s: %lld bytes", path, (long long)f->st.st_size);
    }
    while (got < (size_t)f->st.st_size) {
        ssize_t r = read(fd, (char *)f->buf + got, (size_t)f->st.st_size - got);

        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            int e = errno;

            close(fd);
            return kt_err_sys(err, e, "%s: read", path);
        }
        if (r == 0)
            break;
        got += (size_t)r;
    }
    close(fd);
    f->len = got;
    if (kt__elf_parse(f->buf, f->len, &f->elf, err) < 0)
        return prefix(err, path);
    return 0;
}

void kt__elf_file_free(kt__elf_file *f)
{
    kt__elf_free(&f->elf);
    free(f->buf);
    f->buf = NULL;
    f->len = 0;
}
