// The remoting frame codec on its own (remoting/src/command.cc): the header of one
// SEND_MESSAGE_V2 request as client-lite's producer builds it (fields a..m, properties with
// TAGS, KEYS, UNIQ_KEY and WAIT), with a 1 KiB body.
//
//   BM_EncodeSendRequest  one EncodeFramePrefix per iteration (the body is not copied: the
//                         transport writes it from the command)
//   BM_DecodeSendRequest  one DecodeFrame per iteration, body copy included, as the broker's
//                         connection does for every frame it reads
//   BM_EncodeSendResponse / BM_DecodeSendResponse  the broker's answer to that send (six
//                         fields, no body): encoded by the broker, decoded by the producer
//
// `binary`: 0 = JSON header (serialize type 0), 1 = RocketMQ's binary layout (type 1,
// docs/design/0019-binary-send-headers.md). items/s counts frames.
#include <benchmark/benchmark.h>

#include <string>

#include "remoting/codes.h"
#include "remoting/command.h"

namespace mqbench {
namespace {

using mqremoting::RemotingCommand;
using mqremoting::SerializeType;

RemotingCommand SendRequest(SerializeType type) {
  RemotingCommand request = RemotingCommand::Request(mqremoting::request_code::kSendMessageV2);
  request.opaque = 123456;
  request.version = 479;
  request.serialize_type = type;
  request.SetExt("a", "PID_BENCH");
  request.SetExt("b", "BenchTopic");
  request.SetExt("c", "TBW102");
  request.SetExt("d", "4");
  request.SetExt("e", "3");
  request.SetExt("f", "0");
  request.SetExt("g", "1795312577074");
  request.SetExt("h", "0");
  request.SetExt("i", std::string("TAGS\x01TagA\x02KEYS\x01order-42\x02UNIQ_KEY\x01"
                                  "7F0000010001B4A7C6F60C2A1E3D0000\x02WAIT\x01true\x02"));
  request.SetExt("j", "0");
  request.SetExt("k", "false");
  request.SetExt("m", "false");
  request.body = std::string(1024, 'x');
  return request;
}

// The response the broker's SendProcessor builds (SetSendResponseFields).
RemotingCommand SendResponse(SerializeType type) {
  RemotingCommand request;
  request.opaque = 123456;
  request.serialize_type = type;
  RemotingCommand response =
      RemotingCommand::ResponseTo(request, mqremoting::response_code::kSuccess);
  response.SetExt("MSG_REGION", "DefaultRegion");
  response.SetExt("TRACE_ON", "true");
  response.SetExt("msgId", "7F00000100002A9F000000001A2B3C4D");
  response.SetExt("queueId", "3");
  response.SetExt("queueOffset", "1234567");
  response.SetExt("transactionId", "7F0000010001B4A7C6F60C2A1E3D0000");
  return response;
}

SerializeType TypeOf(const benchmark::State& state) {
  return state.range(0) != 0 ? SerializeType::kRocketMq : SerializeType::kJson;
}

void BM_EncodeSendRequest(benchmark::State& state) {
  const RemotingCommand request = SendRequest(TypeOf(state));
  for (auto _ : state) {
    std::string prefix = mqremoting::EncodeFramePrefix(request);
    benchmark::DoNotOptimize(prefix.data());
  }
  state.SetItemsProcessed(state.iterations());
}

// One DecodeFrame of `command`'s frame per iteration.
void DecodeEach(benchmark::State& state, const RemotingCommand& command) {
  const std::string frame = mqremoting::EncodeFrame(command);
  const std::string_view after_prefix = std::string_view(frame).substr(4);
  for (auto _ : state) {
    mqremoting::Result<RemotingCommand> decoded = mqremoting::DecodeFrame(after_prefix);
    if (!decoded.ok()) {
      state.SkipWithError(std::string(decoded.status().message()).c_str());
      break;
    }
    benchmark::DoNotOptimize(decoded->ext_fields.size());
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_DecodeSendRequest(benchmark::State& state) {
  DecodeEach(state, SendRequest(TypeOf(state)));
}

void BM_EncodeSendResponse(benchmark::State& state) {
  const RemotingCommand response = SendResponse(TypeOf(state));
  for (auto _ : state) {
    std::string frame = mqremoting::EncodeFrame(response);
    benchmark::DoNotOptimize(frame.data());
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_DecodeSendResponse(benchmark::State& state) {
  DecodeEach(state, SendResponse(TypeOf(state)));
}

BENCHMARK(BM_EncodeSendRequest)->ArgNames({"binary"})->Arg(0)->Arg(1);
BENCHMARK(BM_DecodeSendRequest)->ArgNames({"binary"})->Arg(0)->Arg(1);
BENCHMARK(BM_EncodeSendResponse)->ArgNames({"binary"})->Arg(0)->Arg(1);
BENCHMARK(BM_DecodeSendResponse)->ArgNames({"binary"})->Arg(0)->Arg(1);

}  // namespace
}  // namespace mqbench
