// main() of mqstore_micro_bench: BENCHMARK_MAIN plus an explicit release of the shared
// fixtures, so that stores are closed and scratch directories removed before exit rather
// than during static destruction.
#include <benchmark/benchmark.h>

#include "micro_fixtures.h"

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  mqbench::ReleaseReadFixtures();
  return 0;
}
