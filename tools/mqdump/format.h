// Output helpers shared by the mqdump subcommands: escaping, times, hex, JSON lines.
#ifndef MQSTORE_TOOLS_MQDUMP_FORMAT_H_
#define MQSTORE_TOOLS_MQDUMP_FORMAT_H_

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "mqstore/inspect.h"

namespace mqdump {

// Opens the store read-only, or prints why not to stderr and returns null.
std::unique_ptr<mqstore::StoreInspector> OpenOrReport(const std::string& dir);
// Prints "mqdump: <status>" to stderr and returns kExitError.
int ReportError(const mqstore::Status& status);

// "2023-11-14T22:13:20.123Z".
std::string FormatTime(int64_t ms);
// `text` with bytes outside printable ASCII shown as \xNN, for one-line output.
std::string Escape(std::string_view text);
// True when `bytes` are valid UTF-8 without control characters other than tab and newlines.
bool IsPrintableText(std::string_view bytes);
// Classic hex dump: offset, 16 bytes in hex, the printable ones as text; each line indented.
std::string HexDump(std::string_view bytes, std::string_view indent);
// "0x2 (multi-tags, transaction=prepared)".
std::string DescribeSysFlag(int32_t sys_flag);

// Writes one JSON object on one line; invalid UTF-8 in strings is replaced, never thrown.
void PrintJsonLine(const nlohmann::json& value);

}  // namespace mqdump

#endif  // MQSTORE_TOOLS_MQDUMP_FORMAT_H_
