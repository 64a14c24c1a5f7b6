#ifndef RETENTION_PREFETCH_H
#define RETENTION_PREFETCH_H

/// Asks the CPU to start loading the cache line at `address` for writing (a hint: no fault, no effect on the
/// program's results). Swift has no prefetch; the report kernel uses this to overlap the cache misses of
/// per-customer state updates that a row-ordered pass makes in random customer order.
static inline void retention_prefetch_for_write(const void *address) {
    __builtin_prefetch(address, 1, 3);
}

#endif
