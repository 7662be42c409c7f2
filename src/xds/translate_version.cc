// Deterministic serialization and content versions of resources.
#include <openssl/evp.h>

#include "absl/strings/escaping.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "xds/translate.h"

namespace causeway::xds {

std::string SerializeDeterministic(const google::protobuf::Message& message) {
  std::string bytes;
  {
    google::protobuf::io::StringOutputStream stream(&bytes);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    message.SerializePartialToCodedStream(&coded);
  }
  return bytes;
}

google::protobuf::Any PackDeterministic(const google::protobuf::Message& message) {
  google::protobuf::Any any;
  any.set_type_url("type.googleapis.com/" + message.GetDescriptor()->full_name());
  any.set_value(SerializeDeterministic(message));
  return any;
}

std::string ResourceVersion(const google::protobuf::Message& message) {
  // The type name is hashed too, so that resources of different types never
  // share a version by accident.
  std::string input = message.GetDescriptor()->full_name();
  input.push_back('\0');
  input += SerializeDeterministic(message);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  EVP_Digest(input.data(), input.size(), digest, &size, EVP_sha256(), nullptr);
  return absl::BytesToHexString(absl::string_view(reinterpret_cast<const char*>(digest), 8));
}

}  // namespace causeway::xds
