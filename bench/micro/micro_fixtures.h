// Process-wide fixtures of the micro benchmarks that outlive a single benchmark run.
#ifndef MQSTORE_BENCH_MICRO_MICRO_FIXTURES_H_
#define MQSTORE_BENCH_MICRO_MICRO_FIXTURES_H_

namespace mqbench {

// Closes the pre-filled stores of BM_StoreSequentialRead and removes their directories.
// Called by main() after the benchmarks ran, while the library is still fully alive.
void ReleaseReadFixtures();

}  // namespace mqbench

#endif  // MQSTORE_BENCH_MICRO_MICRO_FIXTURES_H_
