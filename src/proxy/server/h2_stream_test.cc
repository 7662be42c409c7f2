#include "proxy/server/h2_stream.h"

#include <gtest/gtest.h>

#include <string>

namespace causeway::proxy {
namespace {

// Feeds `framed` to a decoder in pieces of `step` bytes.
std::string DecodeInPieces(std::string_view framed, size_t step) {
  ChunkedBodyDecoder decoder;
  std::string out;
  for (size_t i = 0; i < framed.size(); i += step) decoder.Decode(framed.substr(i, step), &out);
  return out;
}

TEST(ChunkedBodyDecoderTest, StripsFramingExtensionsAndTrailers) {
  const std::string framed =
      "5\r\nhello\r\n1a;ext=1\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\nx-trailer: t\r\n\r\n";
  const std::string payload = "helloabcdefghijklmnopqrstuvwxyz";
  for (size_t step : {size_t{1}, size_t{2}, size_t{7}, framed.size()}) {
    EXPECT_EQ(DecodeInPieces(framed, step), payload) << "pieces of " << step;
  }
}

TEST(ChunkedBodyDecoderTest, TrailersInAnyPiecesLowerCasedWithoutForbiddenFields) {
  const std::string framed =
      "3\r\nabc\r\n0\r\nGrpc-Status: 0\r\ngrpc-message: ok%20then\r\n"
      "Content-Length: 3\r\nConnection: close\r\n\r\n";
  for (size_t step : {size_t{1}, size_t{3}, framed.size()}) {
    ChunkedBodyDecoder decoder;
    std::string out;
    for (size_t i = 0; i < framed.size(); i += step) {
      EXPECT_TRUE(decoder.Trailers().empty());  // not before the section ends
      decoder.Decode(framed.substr(i, step), &out);
    }
    EXPECT_TRUE(decoder.done());
    EXPECT_EQ(out, "abc");
    EXPECT_EQ(decoder.Trailers(),
              (http2::HeaderList{{"grpc-status", "0"}, {"grpc-message", "ok%20then"}}))
        << "pieces of " << step;
  }
}

TEST(ChunkedBodyDecoderTest, NoBodyNoTrailers) {
  ChunkedBodyDecoder decoder;
  std::string out;
  decoder.Decode("0\r\n\r\n", &out);
  EXPECT_TRUE(decoder.done());
  EXPECT_TRUE(out.empty());
  EXPECT_TRUE(decoder.Trailers().empty());
}

TEST(ChunkedBodyDecoderTest, UpperCaseSizesAndNothingAfterTheLastChunk) {
  ChunkedBodyDecoder decoder;
  std::string out;
  decoder.Decode("A\r\n0123456789\r\n0\r\n\r\n", &out);
  decoder.Decode("3\r\nbad\r\n", &out);  // past the end: not body
  EXPECT_EQ(out, "0123456789");
}

}  // namespace
}  // namespace causeway::proxy
