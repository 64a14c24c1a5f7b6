// The physical floor of the ledger report's row pass on this machine: the least time a pass takes that, like the
// row pass over an `OrderLedger`, reads 10^7 customer numbers in file order and updates one 64-byte state each of
// 3,333,333 customers in random order (two threads, each owning half of the customers, prefetching 32 rows ahead,
// states in fresh zero-filled memory with transparent huge pages), with almost no work per row.
// Whatever the report does per row can only add to this. Not part of any build; run it by hand:
//
//   cc -O2 -pthread -o /tmp/random-update Benchmarks/Floor/random-update.c && /tmp/random-update [distance] [bytes]
//
// Prints, for five rounds, the pass over fresh memory (first touch zeroes the pages) and the same pass again.
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "floor.h"

typedef struct { int64_t sum, last, count; } Touch;

static int32_t *customers;
static char *states;
static long rows = 10000000, customerCount = 3333333;
static int distance = 32, stateBytes = 64;

typedef struct { int32_t low, high; int64_t checksum; } Worker;

static void *pass(void *argument) {
    Worker *worker = argument;
    int64_t checksum = 0;
    for (long row = 0; row < rows; row++) {
        if (row + distance < rows) {
            int32_t next = customers[row + distance];
            if (next >= worker->low && next < worker->high)
                __builtin_prefetch(states + (long)next * stateBytes, 1, 3);
        }
        int32_t customer = customers[row];
        if (customer < worker->low || customer >= worker->high) continue;
        Touch *state = (Touch *)(states + (long)customer * stateBytes);
        state->sum += row;
        if (row > state->last) state->last = row;
        state->count += 1;
        checksum += state->count;
    }
    worker->checksum = checksum;
    return NULL;
}

static void run(Worker *workers) { runOnTwoThreads(pass, &workers[0], &workers[1]); }

int main(int argc, char **argv) {
    if (argc > 1) distance = atoi(argv[1]);
    if (argc > 2) stateBytes = atoi(argv[2]);
    if (stateBytes < (int)sizeof(Touch)) stateBytes = sizeof(Touch);
    customers = malloc(rows * sizeof(int32_t));
    uint64_t random = 42;
    for (long row = 0; row < rows; row++) customers[row] = (int32_t)(nextRandom(&random) % customerCount);
    const size_t huge = 2 << 20;
    size_t bytes = ((size_t)customerCount * stateBytes + huge - 1) / huge * huge;
    for (int round = 0; round < 5; round++) {
        states = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (states == MAP_FAILED) return 1;
        madvise(states, bytes, MADV_HUGEPAGE);
        Worker workers[2] = {{0, (int32_t)(customerCount / 2), 0}, {(int32_t)(customerCount / 2), (int32_t)customerCount, 0}};
        double start = now();
        run(workers);
        double fresh = now();
        run(workers);
        double again = now();
        printf("distance %d, %d-byte states: fresh memory %.1f ms, again %.1f ms (checksum %lld)\n", distance,
            stateBytes, (fresh - start) * 1e3, (again - fresh) * 1e3,
            (long long)(workers[0].checksum + workers[1].checksum));
        munmap(states, bytes);
    }
    return 0;
}
