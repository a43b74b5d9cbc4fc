// NamesrvConfig: loading and validation (see namesrv_config.h).
#include "namesrv_config.h"

#include "server_common/config_reader.h"

namespace mqnamesrv {

using mqstore::Result;
using mqstore::Status;

namespace {

constexpr int32_t kMaxPort = 65535;
constexpr int32_t kMinScanInterval = 1;
constexpr int32_t kMaxScanInterval = 3'600'000;

Status OutOfRange(std::string_view key, int64_t value, int64_t min, int64_t max) {
  return Status::InvalidArgument(std::string(key) + " = \"" + std::to_string(value) +
                                 "\": out of range; allowed: " + std::to_string(min) + ".." +
                                 std::to_string(max));
}

}  // namespace

Result<NamesrvConfig> LoadNamesrvConfig(const mqserver::Properties& props,
                                        std::vector<std::string>* warnings) {
  std::vector<std::string> dropped;
  if (warnings == nullptr) warnings = &dropped;
  NamesrvConfig config;
  mqserver::ConfigReader reader(props);
  MQ_RETURN_IF_ERROR(reader.ReadInt32("listenPort", 0, kMaxPort, &config.listenPort));
  MQ_RETURN_IF_ERROR(reader.ReadInt32("scanNotActiveBrokerInterval", kMinScanInterval,
                                      kMaxScanInterval, &config.scanNotActiveBrokerInterval));
  MQ_RETURN_IF_ERROR(reader.ReadBool("enableAllTopicList", &config.enableAllTopicList));
  MQ_RETURN_IF_ERROR(reader.ReadNonEmptyString("bindAddress", &config.bindAddress));
  reader.AppendWarnings(warnings);
  return config;
}

Status ValidateNamesrvConfig(const NamesrvConfig& config) {
  if (config.listenPort < 0 || config.listenPort > kMaxPort) {
    return OutOfRange("listenPort", config.listenPort, 0, kMaxPort);
  }
  if (config.scanNotActiveBrokerInterval < kMinScanInterval ||
      config.scanNotActiveBrokerInterval > kMaxScanInterval) {
    return OutOfRange("scanNotActiveBrokerInterval", config.scanNotActiveBrokerInterval,
                      kMinScanInterval, kMaxScanInterval);
  }
  return Status::OK();
}

}  // namespace mqnamesrv
