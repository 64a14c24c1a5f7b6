#ifndef RETENTION_PREFETCH_H
#define RETENTION_PREFETCH_H

/// Asks the CPU to start loading the cache line at `address` for writing (a hint: no fault, no effect on the
/// program's results). Swift has no prefetch; the report kernel uses this to overlap the cache misses of
/// per-customer state updates that a row-ordered pass makes in random customer order.
static inline void retention_prefetch_for_write(const void *address) {
    __builtin_prefetch(address, 1, 3);
}

#if defined(__linux__)
#include <stddef.h>
extern void *mremap(void *old_address, size_t old_size, size_t new_size, int flags, ...);

/// Grows (or moves) a private anonymous mapping to `new_size` bytes, keeping its pages: no copy, and the pages
/// already touched stay; the new ones are zero on first touch. `MAP_FAILED` ((void *)-1) when it cannot.
/// (`mremap` is variadic, so Swift cannot call it directly.)
static inline void *retention_remap(void *address, size_t old_size, size_t new_size) {
    return mremap(address, old_size, new_size, 1 /* MREMAP_MAYMOVE */);
}
#endif

#endif
