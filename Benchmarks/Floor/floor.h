// What the floor programs in this folder share: a clock, two threads running one function, the rows' random
// customer numbers. Each program is one file to compile by hand (see its header); this one is included.
#ifndef RETENTION_FLOOR_H
#define RETENTION_FLOOR_H
#include <pthread.h>
#include <stdint.h>
#include <time.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

// Runs body(first) and body(second) on two threads and waits for both.
static void runOnTwoThreads(void *(*body)(void *), void *first, void *second) {
    pthread_t threads[2];
    pthread_create(&threads[0], NULL, body, first);
    pthread_create(&threads[1], NULL, body, second);
    pthread_join(threads[0], NULL);
    pthread_join(threads[1], NULL);
}

// The next value of a xorshift64 generator (the same rows in every program for the same seed).
static uint64_t nextRandom(uint64_t *state) {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    return *state;
}
#endif
