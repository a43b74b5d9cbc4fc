// Golden bytes for docs/format/checkpoint.md.
#include <gtest/gtest.h>
#include <zlib.h>

#include <fstream>
#include <string>

#include "mqstore/format/golden.h"
#include "recovery/checkpoint.h"
#include "support/test_util.h"
#include "mqstore/coding.h"

namespace mqstore {
namespace {

using test::Hex;
using test::HexLines;
using test::ReadFormatDoc;

CheckpointData ExampleData() {
  CheckpointData d;
  d.sequence = 5;
  d.log_durable_offset = 4096;
  d.dispatch_durable_offset = 4000;
  d.log_min_offset = 0;
  d.segment_bytes = 1ull << 30;
  d.written_at_ms = 1700000000500;
  return d;
}

TEST(CheckpointFormatTest, WorkedExampleSlot) {
  std::string slot = EncodeCheckpointSlot(ExampleData());
  ASSERT_EQ(slot.size(), 4096u);
  std::string head = slot.substr(0, kCheckpointSlotPayload + 4);
  // clang-format off
  EXPECT_EQ(Hex(head),
            "4d514350" "00000001" "0000000000000005"          // "MQCP", version, sequence
            "0000000000001000" "0000000000000fa0"             // log durable, dispatch durable
            "0000000000000000" "0000000040000000"             // log min, segment bytes
            "0000018bcfe569f4" "2f753039");                   // written at, CRC
  // clang-format on
  EXPECT_EQ(slot.find_first_not_of('\0', head.size()), std::string::npos);  // zero padding
  std::string doc = ReadFormatDoc("checkpoint.md");
  ASSERT_FALSE(doc.empty()) << "docs/format/checkpoint.md is missing";
  EXPECT_NE(doc.find(HexLines(head)), std::string::npos)
      << "checkpoint.md must show the example slot as:\n"
      << HexLines(head);
}

TEST(CheckpointFormatTest, CrcIsUnmaskedZlibCrc32OfTheFirst56Bytes) {
  std::string slot = EncodeCheckpointSlot(ExampleData());
  uint32_t crc = static_cast<uint32_t>(
      ::crc32(0, reinterpret_cast<const Bytef*>(slot.data()), kCheckpointSlotPayload));
  EXPECT_EQ(DecodeBig32(slot.data() + kCheckpointSlotPayload), crc);
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

TEST(CheckpointFormatTest, WriteNGoesToSlotNMod2AndTheHigherValidSequenceWins) {
  test::TempDir dir;
  std::string path = dir.Sub("checkpoint");
  Env* env = Env::Default();
  ASSERT_OK_AND_ASSIGN(auto cp, Checkpoint::OpenForWrite(env, path, std::nullopt));
  CheckpointData d = ExampleData();
  d.log_durable_offset = 100;
  ASSERT_OK(cp->Write(d));  // sequence 1 -> slot 1
  d.log_durable_offset = 200;
  ASSERT_OK(cp->Write(d));  // sequence 2 -> slot 0
  std::string file = ReadFile(path);
  ASSERT_EQ(file.size(), 2 * kCheckpointSlotSize);
  CheckpointData slot0, slot1;
  ASSERT_OK(DecodeCheckpointSlot(std::string_view(file).substr(0, 4096), &slot0));
  ASSERT_OK(DecodeCheckpointSlot(std::string_view(file).substr(4096), &slot1));
  EXPECT_EQ(slot0.sequence, 2u);
  EXPECT_EQ(slot0.log_durable_offset, 200);
  EXPECT_EQ(slot1.sequence, 1u);
  ASSERT_OK_AND_ASSIGN(auto newest, Checkpoint::Read(env, path));
  EXPECT_EQ(newest->sequence, 2u);

  // A torn write of slot 0 leaves slot 1's older checkpoint in charge.
  {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(20);
    f.put('\x7f');
  }
  ASSERT_OK_AND_ASSIGN(auto fallback, Checkpoint::Read(env, path));
  EXPECT_EQ(fallback->sequence, 1u);
  EXPECT_EQ(fallback->log_durable_offset, 100);
}

}  // namespace
}  // namespace mqstore
