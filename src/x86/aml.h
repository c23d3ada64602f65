/* aml.h: a small builder for ACPI Machine Language (the DSDT's byte code) over a caller's buffer.
 *
 * Errors are sticky: the first failure (-ENOSPC when the buffer is full, -EINVAL for a bad name
 * or value) is kept in a->err, later calls do nothing, and the builder never writes past cap.
 * Check aml_error() once at the end. Blocks (scope, device, method, package, buffer, resource
 * template) are opened with a *_begin call returning a mark and closed with the matching *_end
 * call; closing computes the smallest PkgLength encoding and slides the body into place. */
#ifndef TV_AML_H
#define TV_AML_H

#include <stddef.h>
#include <stdint.h>

struct aml {
	uint8_t *buf;
	size_t cap; /* bytes available at buf */
	size_t len; /* bytes written so far */
	int err;    /* 0, or the first -errno */
};

/* AML opcodes the builder and its callers use (ACPI 6.x, section 20.3). */
enum {
	AML_ZERO_OP = 0x00,
	AML_ONE_OP = 0x01,
	AML_NAME_OP = 0x08,
	AML_BYTE_PREFIX = 0x0a,
	AML_WORD_PREFIX = 0x0b,
	AML_DWORD_PREFIX = 0x0c,
	AML_STRING_PREFIX = 0x0d,
	AML_QWORD_PREFIX = 0x0e,
	AML_SCOPE_OP = 0x10,
	AML_BUFFER_OP = 0x11,
	AML_PACKAGE_OP = 0x12,
	AML_METHOD_OP = 0x14,
	AML_DUAL_NAME_PREFIX = 0x2e,
	AML_MULTI_NAME_PREFIX = 0x2f,
	AML_EXT_OP_PREFIX = 0x5b,
	AML_EXT_DEVICE_OP = 0x82,
	AML_ROOT_CHAR = 0x5c,
	AML_PARENT_PREFIX = 0x5e,
	AML_RETURN_OP = 0xa4,
	AML_ONES_OP = 0xff,
};

/* Start building into buf (cap bytes). */
void aml_init(struct aml *a, uint8_t *buf, size_t cap);

/* The sticky error: 0 if every call so far succeeded, else the first -errno. */
int aml_error(const struct aml *a);

/* Encode a PkgLength value (the length including the encoding itself) into out, 1-4 bytes.
 * Returns the number of bytes, or -EINVAL if pkglen exceeds 0x0fffffff. Pure. */
int aml_pkglen_encode(uint8_t out[4], uint32_t pkglen);

/* Append raw bytes (opcodes, descriptor contents). */
void aml_bytes(struct aml *a, const void *p, size_t n);
void aml_byte(struct aml *a, uint8_t b);

/* Append an integer in its smallest encoding: Zero, One, Ones (all bits set), then
 * BytePrefix, WordPrefix, DWordPrefix or QWordPrefix data. */
void aml_integer(struct aml *a, uint64_t v);

/* Append a NameString from its ASL spelling: optional '\' or '^' prefixes, then NameSegs of
 * 1-4 characters ([A-Z_][A-Z0-9_]*, padded with '_') separated by '.'; "\" alone is the root.
 * Uses DualNamePrefix / MultiNamePrefix for 2 / 3+ segments. -EINVAL if malformed. */
void aml_namestring(struct aml *a, const char *name);

/* Append a String object (StringPrefix, ASCII bytes 0x01-0x7f, NUL). */
void aml_string(struct aml *a, const char *s);

/* Append the 32-bit compressed EISA id of a "PNP0A03"-style string as an integer. -EINVAL if
 * the string is not three letters A-Z and four hex digits. */
void aml_eisaid(struct aml *a, const char *id);

/* Name(name, ...): append NameOp and the name; the caller appends one data object next.
 * aml_name_int / aml_name_eisaid / aml_name_string do both. */
void aml_name(struct aml *a, const char *name);
void aml_name_int(struct aml *a, const char *name, uint64_t v);
void aml_name_eisaid(struct aml *a, const char *name, const char *id);
void aml_name_string(struct aml *a, const char *name, const char *s);

/* Scope(name) {...}, Device(name) {...}: the body follows until the matching end. */
size_t aml_scope_begin(struct aml *a, const char *name);
size_t aml_device_begin(struct aml *a, const char *name);
/* Method(name, nargs (0-7), NotSerialized / Serialized) {...}. */
size_t aml_method_begin(struct aml *a, const char *name, unsigned nargs, int serialized);
/* Package(nelems) {...}: nelems (at most 255) data objects follow. */
size_t aml_package_begin(struct aml *a, unsigned nelems);
/* Close a scope, device, method or package opened at mark. */
void aml_end(struct aml *a, size_t mark);

/* Buffer() {...}: raw bytes follow; aml_buffer_end fills in the BufferSize. */
size_t aml_buffer_begin(struct aml *a);
void aml_buffer_end(struct aml *a, size_t mark);

/* Method(name) { Return (v) }, the usual shape of _STA and friends. */
void aml_method_return_int(struct aml *a, const char *name, uint64_t v);

/* ResourceTemplate() {...}: a Buffer of resource descriptors closed by an EndTag whose checksum
 * makes the descriptor bytes sum to zero. */
size_t aml_rt_begin(struct aml *a);
void aml_rt_end(struct aml *a, size_t mark);
/* IO(Decode16, min, max, align, len). */
void aml_rt_io(struct aml *a, uint16_t min, uint16_t max, uint8_t align, uint8_t len);
/* IRQNoFlags() {irq}, irq 0-15. */
void aml_rt_irq_noflags(struct aml *a, unsigned irq);
/* WordBusNumber / WordIO (ResourceProducer, MinFixed, MaxFixed, PosDecode[, EntireRange])
 * and DWordMemory (the same, NonCacheable, ReadWrite) windows covering [min, max]. */
void aml_rt_word_bus(struct aml *a, uint16_t min, uint16_t max);
void aml_rt_word_io(struct aml *a, uint16_t min, uint16_t max);
void aml_rt_dword_mem(struct aml *a, uint32_t min, uint32_t max);
/* QWordMemory window (ResourceProducer, MinFixed, MaxFixed, PosDecode, Prefetchable,
 * ReadWrite) covering [min, max]: the 64-bit PCI window. */
void aml_rt_qword_mem_pref(struct aml *a, uint64_t min, uint64_t max);
/* Memory32Fixed(ReadWrite, base, len). */
void aml_rt_mem32_fixed(struct aml *a, uint32_t base, uint32_t len);
/* Interrupt(ResourceConsumer, Edge|Level, ActiveHigh|ActiveLow, Exclusive) {gsi}. */
void aml_rt_interrupt(struct aml *a, uint32_t gsi, int edge, int active_low);

#endif
