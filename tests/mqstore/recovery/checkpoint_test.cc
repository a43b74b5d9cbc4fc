#include "recovery/checkpoint.h"

#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>

#include "mqstore/mem_env.h"
#include "mqstore/queue/log_harness.h"
#include "support/test_util.h"
#include "mqstore/coding.h"
#include "util/crc32.h"
#include "util/sequence.h"

namespace mqstore {
namespace {

using test::OverwriteFile;
using test::ReadWholeFile;

const std::string kPath = "/store/checkpoint";

CheckpointData MakeData(int64_t n) {
  CheckpointData d;
  d.log_durable_offset = 1000 * n;
  d.dispatch_durable_offset = 1000 * n - 7;
  d.log_min_offset = 4096 * n;
  d.segment_bytes = 8192;
  d.written_at_ms = 1'700'000'000'000 + n;
  return d;
}

void ExpectSameData(const CheckpointData& a, const CheckpointData& b) {
  EXPECT_EQ(a.log_durable_offset, b.log_durable_offset);
  EXPECT_EQ(a.dispatch_durable_offset, b.dispatch_durable_offset);
  EXPECT_EQ(a.log_min_offset, b.log_min_offset);
  EXPECT_EQ(a.segment_bytes, b.segment_bytes);
  EXPECT_EQ(a.written_at_ms, b.written_at_ms);
}

// Re-seals a slot whose payload the test edited, so that only the edit is wrong.
void Reseal(std::string* slot) {
  EncodeBig32(slot->data() + kCheckpointSlotPayload,
              crc32::Value(slot->data(), kCheckpointSlotPayload));
}

TEST(CheckpointSlotTest, EncodeDecodeRoundTrip) {
  CheckpointData d = MakeData(3);
  d.sequence = 77;
  std::string slot = EncodeCheckpointSlot(d);
  ASSERT_EQ(slot.size(), kCheckpointSlotSize);
  EXPECT_EQ(DecodeBig32(slot.data()), kCheckpointMagic);
  EXPECT_EQ(DecodeBig32(slot.data() + 4), kCheckpointVersion);
  EXPECT_EQ(slot.find_first_not_of('\0', kCheckpointSlotPayload + 4), std::string::npos);
  CheckpointData out;
  ASSERT_OK(DecodeCheckpointSlot(slot, &out));
  EXPECT_EQ(out.sequence, 77u);
  ExpectSameData(out, d);
}

TEST(CheckpointSlotTest, AnyFlippedPayloadByteIsCorruption) {
  std::string good = EncodeCheckpointSlot(MakeData(1));
  for (size_t i = 0; i < kCheckpointSlotPayload + 4; ++i) {
    std::string slot = good;
    slot[i] = static_cast<char>(slot[i] ^ 0x10);
    CheckpointData out;
    EXPECT_TRUE(DecodeCheckpointSlot(slot, &out).IsCorruption()) << "byte " << i;
  }
}

TEST(CheckpointSlotTest, RejectsShortZeroBadMagicAndNegativeOffsets) {
  CheckpointData out;
  std::string good = EncodeCheckpointSlot(MakeData(1));
  EXPECT_TRUE(DecodeCheckpointSlot(good.substr(0, 40), &out).IsCorruption());
  EXPECT_TRUE(DecodeCheckpointSlot(std::string(kCheckpointSlotSize, '\0'), &out).IsCorruption());

  std::string bad_magic = good;
  EncodeBig32(bad_magic.data(), 0x12345678);
  Reseal(&bad_magic);
  EXPECT_TRUE(DecodeCheckpointSlot(bad_magic, &out).IsCorruption());

  CheckpointData negative = MakeData(1);
  negative.log_durable_offset = -1;
  EXPECT_TRUE(DecodeCheckpointSlot(EncodeCheckpointSlot(negative), &out).IsCorruption());
}

TEST(CheckpointSlotTest, AnotherVersionIsNotSupported) {
  std::string slot = EncodeCheckpointSlot(MakeData(1));
  EncodeBig32(slot.data() + 4, kCheckpointVersion + 1);
  Reseal(&slot);
  CheckpointData out;
  Status s = DecodeCheckpointSlot(slot, &out);
  EXPECT_EQ(s.code(), Status::Code::kNotSupported) << s.ToString();
}

class CheckpointFileTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_OK(env_->CreateDir("/store")); }

  // Writes MakeData(1..n) through a Checkpoint, as the store does over time.
  void WriteCheckpoints(int n) {
    ASSERT_OK_AND_ASSIGN(auto cp, Checkpoint::OpenForWrite(env_.get(), kPath, std::nullopt));
    for (int i = 1; i <= n; ++i) ASSERT_OK(cp->Write(MakeData(i)));
  }
  Result<std::optional<CheckpointData>> Read(Env* env = nullptr) {
    return Checkpoint::Read(env ? env : env_.get(), kPath);
  }

  std::unique_ptr<MemEnv> env_ = NewMemEnv();
};

TEST_F(CheckpointFileTest, MissingFileReadsAsNoCheckpoint) {
  ASSERT_OK_AND_ASSIGN(std::optional<CheckpointData> cp, Read());
  EXPECT_FALSE(cp.has_value());
}

TEST_F(CheckpointFileTest, TheNewestSlotWins) {
  ASSERT_OK_AND_ASSIGN(auto writer, Checkpoint::OpenForWrite(env_.get(), kPath, std::nullopt));
  for (int n = 1; n <= 4; ++n) {
    ASSERT_OK(writer->Write(MakeData(n)));
    ASSERT_OK_AND_ASSIGN(std::optional<CheckpointData> cp, Read());
    ASSERT_TRUE(cp.has_value());
    EXPECT_EQ(cp->sequence, static_cast<uint64_t>(n));
    ExpectSameData(*cp, MakeData(n));
  }
}

TEST_F(CheckpointFileTest, WritesAlternateBetweenTheTwoSlots) {
  WriteCheckpoints(3);
  ASSERT_OK_AND_ASSIGN(std::string file, ReadWholeFile(env_.get(), kPath));
  ASSERT_EQ(file.size(), 2 * kCheckpointSlotSize);
  CheckpointData slot0, slot1;
  ASSERT_OK(DecodeCheckpointSlot(file.substr(0, kCheckpointSlotSize), &slot0));
  ASSERT_OK(DecodeCheckpointSlot(file.substr(kCheckpointSlotSize), &slot1));
  EXPECT_EQ(slot0.sequence, 2u);  // write N goes to slot N % 2
  EXPECT_EQ(slot1.sequence, 3u);
}

TEST_F(CheckpointFileTest, ATornNewestSlotFallsBackToTheOther) {
  WriteCheckpoints(3);  // slot 1 holds sequence 3, slot 0 sequence 2
  ASSERT_OK(OverwriteFile(env_.get(), kPath, kCheckpointSlotSize + 20, "garbage"));
  ASSERT_OK_AND_ASSIGN(std::optional<CheckpointData> cp, Read());
  ASSERT_TRUE(cp.has_value());
  EXPECT_EQ(cp->sequence, 2u);
  ExpectSameData(*cp, MakeData(2));
}

TEST_F(CheckpointFileTest, ATornOlderSlotIsIgnored) {
  WriteCheckpoints(3);
  ASSERT_OK(OverwriteFile(env_.get(), kPath, 8, std::string(30, '\xFF')));
  ASSERT_OK_AND_ASSIGN(std::optional<CheckpointData> cp, Read());
  ASSERT_TRUE(cp.has_value());
  EXPECT_EQ(cp->sequence, 3u);
}

TEST_F(CheckpointFileTest, BothSlotsBadIsCorruption) {
  WriteCheckpoints(2);
  ASSERT_OK(OverwriteFile(env_.get(), kPath, 0, "garbage"));
  ASSERT_OK(OverwriteFile(env_.get(), kPath, kCheckpointSlotSize, "garbage"));
  EXPECT_TRUE(Read().status().IsCorruption()) << Read().status().ToString();
}

TEST_F(CheckpointFileTest, AFileNeverWrittenIsCorruption) {
  // Created (two zero slots) but the process died before the first write.
  ASSERT_OK(Checkpoint::OpenForWrite(env_.get(), kPath, std::nullopt).status());
  EXPECT_TRUE(Read().status().IsCorruption());
}

TEST_F(CheckpointFileTest, AShortFileIsCorruption) {
  ASSERT_OK_AND_ASSIGN(auto file, env_->OpenFile(kPath, OpenMode::kCreate));
  ASSERT_OK(file->Write(0, "short"));
  EXPECT_TRUE(Read().status().IsCorruption());
}

TEST_F(CheckpointFileTest, OneSlotFileIsReadable) {
  // A file holding only slot 0 (e.g. written by hand) is still read.
  CheckpointData d = MakeData(5);
  d.sequence = 8;  // slot 0 holds even sequences
  ASSERT_OK_AND_ASSIGN(auto file, env_->OpenFile(kPath, OpenMode::kCreate));
  ASSERT_OK(file->Write(0, EncodeCheckpointSlot(d)));
  ASSERT_OK_AND_ASSIGN(std::optional<CheckpointData> cp, Read());
  ASSERT_TRUE(cp.has_value());
  EXPECT_EQ(cp->sequence, 8u);
}

// Regression tests (found by checkpoint_fuzzer, twice): a slot with the largest sequence,
// or one below it, made the next write's sequence wrap or be rejected, and a stale
// checkpoint was read back. Sequences now wrap (util/sequence.h): the write after the
// largest is 0, in slot 0, and it is the newest.
TEST_F(CheckpointFileTest, WritesAfterTheLargestSequencesStillWin) {
  for (uint64_t start : {UINT64_MAX - 2, UINT64_MAX - 1, UINT64_MAX}) {
    if (env_->FileExists(kPath)) ASSERT_OK(env_->RemoveFile(kPath));
    CheckpointData d = MakeData(1);
    d.sequence = start;
    {
      ASSERT_OK_AND_ASSIGN(auto file, env_->OpenFile(kPath, OpenMode::kCreate));
      ASSERT_OK(file->Write(CopyOfSequence(start) * kCheckpointSlotSize, EncodeCheckpointSlot(d)));
    }
    ASSERT_OK_AND_ASSIGN(std::optional<CheckpointData> last, Read());
    ASSERT_TRUE(last.has_value());
    ASSERT_EQ(last->sequence, start);
    ASSERT_OK_AND_ASSIGN(auto writer, Checkpoint::OpenForWrite(env_.get(), kPath, last));
    for (int n = 2; n <= 4; ++n) {
      ASSERT_OK(writer->Write(MakeData(n)));
      ASSERT_OK_AND_ASSIGN(std::optional<CheckpointData> cp, Read());
      ASSERT_TRUE(cp.has_value());
      EXPECT_EQ(cp->sequence, start + static_cast<uint64_t>(n - 1)) << "from " << start;
      ExpectSameData(*cp, MakeData(n));
    }
  }
}

// Write N goes to slot N % 2: a valid slot holding the other parity is damage, not a
// checkpoint (the next write would overwrite it and could lose to the other slot).
TEST_F(CheckpointFileTest, ASlotWithTheWrongParityIsNotACheckpoint) {
  CheckpointData d = MakeData(5);
  d.sequence = 9;
  ASSERT_OK_AND_ASSIGN(auto file, env_->OpenFile(kPath, OpenMode::kCreate));
  ASSERT_OK(file->Write(0, EncodeCheckpointSlot(d)));
  auto cp = Read();
  EXPECT_TRUE(cp.status().IsCorruption()) << cp.status().ToString();
  d.sequence = 4;
  ASSERT_OK(file->Write(kCheckpointSlotSize, EncodeCheckpointSlot(d)));
  EXPECT_TRUE(Read().status().IsCorruption());
}

TEST_F(CheckpointFileTest, OpenForWriteContinuesTheSequence) {
  WriteCheckpoints(5);
  ASSERT_OK_AND_ASSIGN(std::optional<CheckpointData> last, Read());
  ASSERT_OK_AND_ASSIGN(auto cp, Checkpoint::OpenForWrite(env_.get(), kPath, last));
  ASSERT_OK(cp->Write(MakeData(6)));
  ASSERT_OK_AND_ASSIGN(std::optional<CheckpointData> now, Read());
  ASSERT_TRUE(now.has_value());
  EXPECT_EQ(now->sequence, 6u);
  ExpectSameData(*now, MakeData(6));
}

TEST_F(CheckpointFileTest, EveryWriteIsDurable) {
  WriteCheckpoints(4);
  std::unique_ptr<MemEnv> after = env_->CrashCopy({CrashMode::kDropUnsynced, 0});
  ASSERT_OK_AND_ASSIGN(std::optional<CheckpointData> cp, Read(after.get()));
  ASSERT_TRUE(cp.has_value());
  EXPECT_EQ(cp->sequence, 4u);
}

TEST_F(CheckpointFileTest, ACrashInTheMiddleOfAWriteLeavesOneOfTheTwoCheckpoints) {
  WriteCheckpoints(3);
  // Sequence 4 goes to slot 0; the crash hits while its bytes are on the way.
  CheckpointData next = MakeData(4);
  next.sequence = 4;
  ASSERT_OK_AND_ASSIGN(auto file, env_->OpenFile(kPath, OpenMode::kReadWrite));
  ASSERT_OK(file->Write(0, EncodeCheckpointSlot(next)));
  int saw_old = 0, saw_new = 0;
  for (uint64_t seed = 0; seed < 64; ++seed) {
    for (CrashMode mode : {CrashMode::kTornPrefix, CrashMode::kRandomPages}) {
      std::unique_ptr<MemEnv> after = env_->CrashCopy({mode, seed});
      ASSERT_OK_AND_ASSIGN(std::optional<CheckpointData> cp, Read(after.get()));
      ASSERT_TRUE(cp.has_value());
      ASSERT_TRUE(cp->sequence == 3 || cp->sequence == 4) << cp->sequence;
      ExpectSameData(*cp, MakeData(static_cast<int64_t>(cp->sequence)));
      (cp->sequence == 3 ? saw_old : saw_new)++;
    }
  }
  EXPECT_GT(saw_old, 0);
  EXPECT_GT(saw_new, 0);
}

}  // namespace
}  // namespace mqstore
