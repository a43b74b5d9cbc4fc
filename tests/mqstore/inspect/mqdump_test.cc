// The mqdump binary: exit codes and the shape of its output, run as a user would.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "meta/lmdb_env.h"
#include "meta/meta_codec.h"
#include "mqstore/compression.h"
#include "mqstore/inspect/keyed_store.h"
#include "mqstore/store.h"
#include "support/test_util.h"
#include "util/filename.h"

namespace mqstore {
namespace {

const std::string kMqdump = std::string(MQ_BINARY_DIR) + "/tools/mqdump/mqdump";

struct ToolRun {
  int exit_code = -1;
  std::string out;  // stdout and stderr
  bool Says(const std::string& text) const { return out.find(text) != std::string::npos; }
};

ToolRun RunTool(const std::string& args, const std::string& out_path) {
  std::string cmd = kMqdump + " " + args + " >" + out_path + " 2>&1";
  int status = std::system(cmd.c_str());
  ToolRun r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  std::ifstream in(out_path);
  std::stringstream ss;
  ss << in.rdbuf();
  r.out = ss.str();
  return r;
}

class MqdumpTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!std::filesystem::exists(kMqdump)) GTEST_SKIP() << kMqdump << " is not built";
    StoreOptions options;
    options.commitlog_segment_bytes = 16 * 1024;
    ASSERT_OK_AND_ASSIGN(auto store, Store::Open(options, store_dir_));
    for (int i = 0; i < 50; ++i) {
      Message m = test::MakeMessage("TopicA", i % 2, "hello " + std::to_string(i), "tagA");
      if (i == 7) m.body = std::string("\x00\x01\x02\xff", 4);  // binary body
      std::string props;
      ASSERT_OK_AND_ASSIGN(PutResult put, store->Put(m.View(&props)));
      offsets_.push_back(put.physical_offset);
    }
    ASSERT_OK(store->Close());
  }

  ToolRun Mqdump(const std::string& args) { return RunTool(args, tmp_.Sub("out.txt")); }

  test::TempDir tmp_;
  std::string store_dir_ = tmp_.Sub("store");
  std::vector<int64_t> offsets_;
};

TEST_F(MqdumpTest, VerifyExitCodes) {
  ToolRun clean = Mqdump("verify " + store_dir_);
  EXPECT_EQ(clean.exit_code, 0) << clean.out;
  EXPECT_NE(clean.out.find(": OK"), std::string::npos) << clean.out;

  std::string segment = filename::CommitLogSegment(store_dir_, 0);
  {
    std::fstream f(segment, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(offsets_[3] + 90);
    f.put('#');
  }
  ToolRun corrupt = Mqdump("verify " + store_dir_);
  EXPECT_EQ(corrupt.exit_code, 1) << corrupt.out;
  EXPECT_NE(corrupt.out.find("corruption: " + segment + " @ " + std::to_string(offsets_[3])),
            std::string::npos)
      << corrupt.out;
  EXPECT_NE(corrupt.out.find("CORRUPT"), std::string::npos);
}

TEST_F(MqdumpTest, Dumps) {
  ToolRun log = Mqdump("commitlog " + store_dir_ + " --limit 5 --json");
  EXPECT_EQ(log.exit_code, 0) << log.out;
  std::istringstream lines(log.out);
  int n = 0;
  for (std::string line; std::getline(lines, line); ++n) {
    EXPECT_EQ(line.front(), '{') << line;
    EXPECT_EQ(line.back(), '}') << line;
    EXPECT_NE(line.find("\"offset\":" + std::to_string(offsets_[n])), std::string::npos) << line;
  }
  EXPECT_EQ(n, 5);

  ToolRun queue = Mqdump("consumequeue " + store_dir_ + " TopicA 1 --from 2 --limit 3");
  EXPECT_EQ(queue.exit_code, 0) << queue.out;
  EXPECT_NE(queue.out.find("queue_offset=2 offset=" + std::to_string(offsets_[5])),
            std::string::npos)
      << queue.out;

  ToolRun message = Mqdump("message " + store_dir_ + " --offset " + std::to_string(offsets_[4]));
  EXPECT_EQ(message.exit_code, 0) << message.out;
  EXPECT_NE(message.out.find("offset message id"), std::string::npos) << message.out;
  EXPECT_NE(message.out.find("TAGS = tagA"), std::string::npos) << message.out;
  EXPECT_NE(message.out.find("hello 4"), std::string::npos) << message.out;

  ToolRun binary = Mqdump("message " + store_dir_ + " --offset " + std::to_string(offsets_[7]));
  EXPECT_NE(binary.out.find("4 bytes, binary"), std::string::npos) << binary.out;
  EXPECT_NE(binary.out.find("00 01 02 ff"), std::string::npos) << binary.out;

  ToolRun stats = Mqdump("stats " + store_dir_);
  EXPECT_EQ(stats.exit_code, 0) << stats.out;
  EXPECT_NE(stats.out.find("TopicA/1 min=0 max=25"), std::string::npos) << stats.out;
}

TEST_F(MqdumpTest, ErrorsAreCleanExitsNotCrashes) {
  EXPECT_EQ(Mqdump("verify " + tmp_.Sub("missing")).exit_code, 2);
  EXPECT_EQ(Mqdump("stats " + tmp_.path()).exit_code, 2);  // a directory, not a store
  EXPECT_EQ(Mqdump("message " + store_dir_ + " --offset 3").exit_code, 2);
  EXPECT_EQ(Mqdump("consumequeue " + store_dir_ + " Nope 0").exit_code, 2);
  EXPECT_EQ(Mqdump("").exit_code, 2);
  EXPECT_EQ(Mqdump("commitlog").exit_code, 2);
  ToolRun help = Mqdump("verify --help");
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.out.find("Exit status"), std::string::npos) << help.out;
}

// Records whose bodies are compressed as RocketMQ producers mark them (sysflag): shown
// decompressed, with type and sizes; a body that does not decompress is shown as stored.
class MqdumpCompressedTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!std::filesystem::exists(kMqdump)) GTEST_SKIP() << kMqdump << " is not built";
    StoreOptions options;
    options.commitlog_segment_bytes = 16 * 1024;
    ASSERT_OK_AND_ASSIGN(auto store, Store::Open(options, dir_));
    auto put = [&](Message m) {
      std::string props;
      auto r = store->Put(m.View(&props));
      ASSERT_TRUE(r.ok()) << r.status().ToString();
      offsets_.push_back(r->physical_offset);
    };
    Message zstd = test::MakeMessage("TopicZ", 0, "", "tagZ", "zkey");
    ASSERT_OK_AND_ASSIGN(zstd.body, CompressBody(text_, CompressionType::kZstd, 5, &zstd.sys_flag));
    put(zstd);
    Message zlib = test::MakeMessage("TopicZ", 0, "", "tagZ", "zkey");
    ASSERT_OK_AND_ASSIGN(zlib.body, CompressBody(text_, CompressionType::kZlib, 6, &zlib.sys_flag));
    put(zlib);
    Message bad = zstd;  // marked zstd, but the bytes are not a zstd frame
    bad.body = "definitely not zstd";
    put(bad);
    ASSERT_OK(store->Close());
  }

  ToolRun Mqdump(const std::string& args) { return RunTool(args, tmp_.Sub("out.txt")); }
  std::string Offset(int i) const { return std::to_string(offsets_[i]); }

  test::TempDir tmp_;
  std::string dir_ = tmp_.Sub("store");
  std::string text_ = std::string(200, 'a') + " the end of a repetitive body";
  std::vector<int64_t> offsets_;
};

TEST_F(MqdumpCompressedTest, MessageShowsTheBodyDecompressed) {
  ToolRun zstd = Mqdump("message " + dir_ + " --offset " + Offset(0));
  EXPECT_EQ(zstd.exit_code, 0) << zstd.out;
  EXPECT_TRUE(zstd.Says("body:                  229 bytes, text (decompressed: zstd, "))
      << zstd.out;
  EXPECT_TRUE(zstd.Says(text_ + "\n")) << zstd.out;
  ToolRun zlib = Mqdump("message " + dir_ + " --offset " + Offset(1));
  EXPECT_TRUE(zlib.Says("229 bytes, text (decompressed: zlib, ")) << zlib.out;
  EXPECT_TRUE(zlib.Says(text_)) << zlib.out;

  ToolRun json = Mqdump("message " + dir_ + " --offset " + Offset(0) + " --json");
  EXPECT_EQ(json.exit_code, 0) << json.out;
  EXPECT_TRUE(json.Says("\"body\":\"" + text_ + "\"")) << json.out;
  EXPECT_TRUE(json.Says("\"body_decompressed_bytes\":229")) << json.out;
  EXPECT_TRUE(json.Says("\"compression\":\"zstd\"")) << json.out;
}

TEST_F(MqdumpCompressedTest, ABodyThatDoesNotDecompressIsShownAsStored) {
  ToolRun bad = Mqdump("message " + dir_ + " --offset " + Offset(2));
  EXPECT_EQ(bad.exit_code, 0) << bad.out;
  EXPECT_TRUE(
      bad.Says("body:                  19 bytes, text as stored (zstd-compressed, DOES "
               "NOT DECOMPRESS: body does not decompress as zstd"))
      << bad.out;
  EXPECT_TRUE(bad.Says("definitely not zstd\n")) << bad.out;
  ToolRun json = Mqdump("message " + dir_ + " --offset " + Offset(2) + " --json");
  EXPECT_EQ(json.exit_code, 0) << json.out;
  EXPECT_TRUE(json.Says("\"decompress_error\":\"body does not decompress as zstd")) << json.out;
  EXPECT_TRUE(json.Says("\"body\":\"definitely not zstd\"")) << json.out;
}

TEST_F(MqdumpCompressedTest, ListingsGiveBothSizesAndPreviewsDecompress) {
  ToolRun log = Mqdump("commitlog " + dir_);
  EXPECT_EQ(log.exit_code, 0) << log.out;
  EXPECT_TRUE(log.Says("(zstd, 229 decompressed) sysflag=0x201 (compressed, compression=zstd)"))
      << log.out;
  EXPECT_TRUE(log.Says("(zlib, 229 decompressed) sysflag=0x301")) << log.out;
  EXPECT_TRUE(log.Says("body=19 (zstd, does not decompress)")) << log.out;

  ToolRun index = Mqdump("index " + dir_ + " --key zkey --topic TopicZ");
  EXPECT_EQ(index.exit_code, 0) << index.out;
  EXPECT_TRUE(index.Says("preview=\"" + text_.substr(0, 64) + "...\"")) << index.out;
  EXPECT_TRUE(index.Says("preview=\"definitely not zstd\"")) << index.out;
  EXPECT_TRUE(Mqdump("verify " + dir_).Says(": OK")) << Mqdump("verify " + dir_).out;
}

// A store with keys, unique ids, a tiny hash index (two files) and metadata.
class MqdumpIndexMetaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!std::filesystem::exists(kMqdump)) GTEST_SKIP() << kMqdump << " is not built";
    puts_ = test::CopyKeyedStore(dir_);
    ASSERT_EQ(puts_.size(), 40u);
  }

  ToolRun Mqdump(const std::string& args) { return RunTool(args, tmp_.Sub("out.txt")); }
  std::string Offset(int i) const { return std::to_string(puts_[i].result.physical_offset); }
  std::vector<std::string> IndexFiles() const {
    std::vector<std::string> files;
    for (const auto& f : std::filesystem::directory_iterator(dir_ + "/index")) {
      files.push_back(f.path().string());
    }
    std::sort(files.begin(), files.end());
    return files;
  }

  test::TempDir tmp_;
  std::string dir_ = tmp_.Sub("store");
  std::vector<test::KeyedPut> puts_;
};

TEST_F(MqdumpIndexMetaTest, IndexFindsRecordsByKey) {
  ToolRun found = Mqdump("index " + dir_ + " --key buyer-2 --topic TopicA");
  EXPECT_EQ(found.exit_code, 0) << found.out;
  EXPECT_EQ(found.out.rfind("offset=" + Offset(32) + " ", 0), 0u) << found.out;  // newest first
  EXPECT_TRUE(found.Says("topic=TopicA queue=0 queue_offset=8 ")) << found.out;
  EXPECT_TRUE(found.Says("keys=order-2 buyer-2 uniq_key=" + test::UniqueKeyOf(2) +
                         " preview=\"body of message 2\"\n"))
      << found.out;
  EXPECT_TRUE(
      found.Says("4 records with key buyer-2 in topic TopicA (index: 2 files, 4 "
                 "candidates, 0 other keys with the same hash)"))
      << found.out;

  ToolRun json = Mqdump("index " + dir_ + " --key buyer-2 --topic TopicA --limit 1 --json");
  EXPECT_EQ(json.exit_code, 0) << json.out;
  EXPECT_EQ(std::count(json.out.begin(), json.out.end(), '\n'), 1) << json.out;
  EXPECT_TRUE(json.Says("\"offset\":" + Offset(32))) << json.out;
  EXPECT_TRUE(json.Says("\"body_preview\":\"body of message 32\"")) << json.out;

  ToolRun none = Mqdump("index " + dir_ + " --key nope --topic TopicA");
  EXPECT_EQ(none.exit_code, 0) << none.out;
  EXPECT_TRUE(none.Says("0 records with key nope in topic TopicA")) << none.out;

  ToolRun scan = Mqdump("index " + dir_ + " --key buyer-3");
  EXPECT_EQ(scan.exit_code, 0) << scan.out;
  EXPECT_TRUE(
      scan.Says("8 records with key buyer-3 in any topic (commit log scanned: 40 "
                "records)"))
      << scan.out;

  EXPECT_EQ(Mqdump("index " + dir_ + " --topic TopicA").exit_code, 2);  // no --key
  ToolRun help = Mqdump("index --help");
  EXPECT_TRUE(help.Says("Without --topic the index cannot be used")) << help.out;
}

TEST_F(MqdumpIndexMetaTest, MessageByOffsetIdOrUniqueId) {
  const test::KeyedPut& p = puts_[9];
  std::string offset_id = MakeOffsetMessageId(p.result.store_host, p.result.physical_offset);
  ToolRun by_offset = Mqdump("message " + dir_ + " --id " + offset_id);
  EXPECT_EQ(by_offset.exit_code, 0) << by_offset.out;
  EXPECT_TRUE(by_offset.Says("found by:              offset message id")) << by_offset.out;
  EXPECT_TRUE(by_offset.Says("body of message 9")) << by_offset.out;

  ToolRun by_unique = Mqdump("message " + dir_ + " --id " + p.unique_key + " --topic TopicB");
  EXPECT_EQ(by_unique.exit_code, 0) << by_unique.out;
  EXPECT_TRUE(by_unique.Says("unique id (UNIQ_KEY) in the index of topic TopicB")) << by_unique.out;
  EXPECT_TRUE(by_unique.Says("offset:                " + Offset(9))) << by_unique.out;

  ToolRun json = Mqdump("message " + dir_ + " --id " + p.unique_key + " --topic TopicB --json");
  EXPECT_TRUE(json.Says("\"found_by\":\"unique_id\"")) << json.out;

  EXPECT_EQ(Mqdump("message " + dir_ + " --id " + p.unique_key).exit_code, 2);  // needs a topic
  EXPECT_EQ(Mqdump("message " + dir_).exit_code, 2);
  EXPECT_EQ(Mqdump("message " + dir_ + " --topic TopicB").exit_code, 2);
  EXPECT_EQ(Mqdump("message " + dir_ + " --offset 0 --id " + offset_id).exit_code, 2);
}

TEST_F(MqdumpIndexMetaTest, MetaListsTopicsGroupsOffsetsAndSchedule) {
  ToolRun meta = Mqdump("meta " + dir_);
  EXPECT_EQ(meta.exit_code, 0) << meta.out;
  EXPECT_TRUE(
      meta.Says("topics:                2\n  TopicA read_queues=2 write_queues=2 "
                "perm=6 (RW-)"))
      << meta.out;
  EXPECT_TRUE(meta.Says("  Billing consume=yes")) << meta.out;
  EXPECT_TRUE(meta.Says("  group=Billing topic=TopicA queue=1 offset=2\n")) << meta.out;
  EXPECT_TRUE(meta.Says("  delay-level-3 offset=17 timestamp=1700000000000")) << meta.out;

  ToolRun json = Mqdump("meta " + dir_ + " --json");
  EXPECT_EQ(json.exit_code, 0) << json.out;
  EXPECT_TRUE(
      json.Says("{\"group\":\"Billing\",\"offset\":3,\"queue_id\":0,\"topic\":"
                "\"TopicA\"}"))
      << json.out;

  std::filesystem::remove_all(dir_ + "/meta");
  ToolRun missing = Mqdump("meta " + dir_);
  EXPECT_EQ(missing.exit_code, 2) << missing.out;
  EXPECT_TRUE(missing.Says("has no meta/")) << missing.out;
}

TEST_F(MqdumpIndexMetaTest, VerifyChecksTheIndexAndTheMetadata) {
  ToolRun clean = Mqdump("verify " + dir_);
  EXPECT_EQ(clean.exit_code, 0) << clean.out;
  EXPECT_TRUE(
      clean.Says("2 index files with 120 entries, metadata with 6 entries; 0 "
                 "corruptions, 0 warnings, 0 notes: OK"))
      << clean.out;

  std::string file = IndexFiles()[0];
  test::FlipByteAt(file, test::IndexEntryPos(5) + 11);
  ToolRun entry = Mqdump("verify " + dir_);
  EXPECT_EQ(entry.exit_code, 1) << entry.out;
  EXPECT_TRUE(entry.Says("corruption: " + file + " @ " + std::to_string(test::IndexEntryPos(5)) +
                         ": entry 5"))
      << entry.out;
  test::FlipByteAt(file, test::IndexEntryPos(5) + 11);  // repaired
  EXPECT_EQ(Mqdump("verify " + dir_ + " -q").exit_code, 0);

  {
    LmdbEnvOptions options;
    options.create_if_missing = false;
    ASSERT_OK_AND_ASSIGN(auto env, LmdbEnv::Open(dir_ + "/meta", options));
    ASSERT_OK(env->Write([](LmdbWriteTxn& txn) -> Status {
      MQ_ASSIGN_OR_RETURN(LmdbDb db, txn.OpenDb(kGroupsDb, /*create=*/false));
      return txn.Put(db, "Billing", std::string("\x01\x17", 2));
    }));
  }
  ToolRun meta = Mqdump("verify " + dir_);
  EXPECT_EQ(meta.exit_code, 1) << meta.out;
  EXPECT_TRUE(meta.Says("corruption: " + dir_ + "/meta/data.mdb: groups['Billing']")) << meta.out;
  EXPECT_EQ(Mqdump("meta " + dir_).exit_code, 2);
}

}  // namespace
}  // namespace mqstore
