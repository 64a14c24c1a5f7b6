// The same pass as random-update.c, reordered first: the 10^7 rows (customer, instant, amount: 24 bytes) are
// partitioned by customer block (`customer >> shift`, stable, two threads each counting and scattering half of
// the rows), then each thread updates the states of its half of the blocks with the rows in block order, so that a
// block's states (4,096 customers x 64 bytes = 256 KiB for shift 12) stay in the second-level cache and in one huge
// page. Memory-bound instead of latency-bound: on this machine 54-72 ms over fresh memory (78-89 ms again), against
// random-update.c's 85-100 ms (77-81 ms again).
// The report kernel's row pass, partitioned the same way in Swift, was no faster (Documentation/Performance.md,
// eleventh session): its per-row work already overlaps the misses, and the scatter costs what the pass gains.
// Not part of any build; run it by hand:
//
//   cc -O2 -pthread -o /tmp/partitioned-update Benchmarks/Floor/partitioned-update.c && /tmp/partitioned-update [shift]
//
// Prints, for five rounds, the three phases over fresh memory (states and partitioned rows) and all three again.
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "floor.h"

typedef struct { int64_t sum, last, count; } Touch;
typedef struct { int32_t customer, pad; int64_t instant, amount; } Row;

static int32_t *customers;
static int64_t *instants, *amounts;
static char *states;
static Row *parted;
static long rows = 10000000, customerCount = 3333333;
static int stateBytes = 64, shift = 12, blocks;
static long *counts[2], *cursors[2], *blockStart;

typedef struct { int half; int64_t checksum; } Worker;

static void *count(void *argument) {
    Worker *worker = argument;
    long low = worker->half ? rows / 2 : 0, high = worker->half ? rows : rows / 2;
    long *mine = counts[worker->half];
    memset(mine, 0, blocks * sizeof(long));
    for (long row = low; row < high; row++) mine[customers[row] >> shift]++;
    return NULL;
}

static void *scatter(void *argument) {
    Worker *worker = argument;
    long low = worker->half ? rows / 2 : 0, high = worker->half ? rows : rows / 2;
    long *cursor = cursors[worker->half];
    for (long row = low; row < high; row++) {
        int32_t customer = customers[row];
        Row *target = parted + cursor[customer >> shift]++;
        target->customer = customer;
        target->instant = instants[row];
        target->amount = amounts[row];
    }
    return NULL;
}

static void *update(void *argument) {
    Worker *worker = argument;
    int64_t checksum = 0;
    int first = worker->half ? blocks / 2 : 0, last = worker->half ? blocks : blocks / 2;
    for (long index = blockStart[first]; index < blockStart[last]; index++) {
        Row *row = parted + index;
        Touch *state = (Touch *)(states + (long)row->customer * stateBytes);
        state->sum += row->amount;
        if (row->instant > state->last) state->last = row->instant;
        state->count += 1;
        checksum += state->count;
    }
    worker->checksum = checksum;
    return NULL;
}

static void run(void *(*body)(void *), Worker *workers) { runOnTwoThreads(body, &workers[0], &workers[1]); }

// Block b holds the first half's rows of b, then the second half's: each customer's rows stay in row order.
static void place(void) {
    long position = 0;
    for (int block = 0; block < blocks; block++) {
        blockStart[block] = position;
        cursors[0][block] = position;
        position += counts[0][block];
        cursors[1][block] = position;
        position += counts[1][block];
    }
    blockStart[blocks] = position;
}

static void *mapHuge(size_t bytes) {
    const size_t huge = 2 << 20;
    bytes = (bytes + huge - 1) / huge * huge;
    void *memory = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (memory == MAP_FAILED) exit(1);
    madvise(memory, bytes, MADV_HUGEPAGE);
    return memory;
}

int main(int argc, char **argv) {
    if (argc > 1) shift = atoi(argv[1]);
    blocks = (int)((customerCount + (1L << shift) - 1) >> shift);
    customers = malloc(rows * sizeof(int32_t));
    instants = malloc(rows * sizeof(int64_t));
    amounts = malloc(rows * sizeof(int64_t));
    uint64_t random = 42;
    for (long row = 0; row < rows; row++) {
        nextRandom(&random);
        customers[row] = (int32_t)(random % customerCount);
        instants[row] = row;
        amounts[row] = (int64_t)(random >> 40);
    }
    for (int t = 0; t < 2; t++) {
        counts[t] = malloc(blocks * sizeof(long));
        cursors[t] = malloc(blocks * sizeof(long));
    }
    blockStart = malloc((blocks + 1) * sizeof(long));
    size_t stateSize = (size_t)customerCount * stateBytes, rowSize = (size_t)rows * sizeof(Row);
    for (int round = 0; round < 5; round++) {
        states = mapHuge(stateSize);
        parted = mapHuge(rowSize);
        Worker workers[2] = {{0, 0}, {1, 0}};
        double start = now();
        run(count, workers);
        place();
        double counted = now();
        run(scatter, workers);
        double scattered = now();
        run(update, workers);
        double updated = now();
        run(count, workers);
        place();
        run(scatter, workers);
        run(update, workers);
        double again = now();
        printf("shift %d (%d blocks): count %.1f, scatter %.1f, update %.1f = %.1f ms over fresh memory; again %.1f ms"
               " (checksum %lld)\n",
            shift, blocks, (counted - start) * 1e3, (scattered - counted) * 1e3, (updated - scattered) * 1e3,
            (updated - start) * 1e3, (again - updated) * 1e3, (long long)(workers[0].checksum + workers[1].checksum));
        munmap(states, stateSize);
        munmap(parted, rowSize);
    }
    return 0;
}
