#include "proxy/codec/http2_codec.h"

#include <nghttp2/nghttp2.h>

#include <algorithm>
#include <cstring>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace causeway::proxy::http2 {

// Per stream: the head or trailers being received, and the DATA the caller
// queued that the peer's window has not taken yet.
struct Codec::Stream {
  // Receiving.
  bool head_seen = false;     // the final head arrived (delivered or refused)
  bool delivered = false;     // the caller knows the stream (head or request)
  bool remote_ended = false;  // END_STREAM from the peer
  bool too_large = false;     // the header list being received is over the bound
  size_t header_bytes = 0;    // of the header list being received (RFC 9113 6.5.2)
  uint32_t local_error = 0;   // why we reset it, if the close does not say
  size_t unconsumed = 0;      // DATA delivered and not yet given back
  int status = 0;             // client: :status of the head being received
  RequestHead request;        // server: pseudo-headers of the head being received
  HeaderList fields;          // regular fields of the head or trailers being received
  // Sending.
  ByteBuffer queued;
  bool sending_body = false;  // a head went out without END_STREAM
  bool local_ended = false;   // the caller ended its side (no more Submit*)
  bool end_queued = false;    // END_STREAM (or trailers) after the queue
  bool has_trailers = false;
  HeaderList trailers;
  bool deferred = false;  // the DATA source is waiting for SubmitData
};

namespace {

// Header lists this far over the bound end the connection rather than the
// stream: nghttp2 decodes a header block even for a stream we refused, so
// an endless block would otherwise cost CPU without limit.
constexpr size_t kHeaderAbuseFactor = 4;

std::vector<nghttp2_nv> H2Nv(const HeaderList& fields) {
  std::vector<nghttp2_nv> nva;
  nva.reserve(fields.size());
  for (const Header& h : fields) {
    nva.push_back({reinterpret_cast<uint8_t*>(const_cast<char*>(h.name.data())),
                   reinterpret_cast<uint8_t*>(const_cast<char*>(h.value.data())), h.name.size(),
                   h.value.size(), NGHTTP2_NV_FLAG_NONE});
  }
  return nva;
}

const uint8_t* H2Bytes(std::string_view s) { return reinterpret_cast<const uint8_t*>(s.data()); }

// Fields the caller submits: lower-case valid names (pseudo-headers are
// ours to add), values without CR, LF or NUL; the error names the field.
absl::Status CheckH2Fields(const HeaderList& fields) {
  for (const Header& h : fields) {
    bool lower =
        std::none_of(h.name.begin(), h.name.end(), [](char c) { return c >= 'A' && c <= 'Z'; });
    if (h.name.empty() || h.name[0] == ':' || !lower ||
        !nghttp2_check_header_name(H2Bytes(h.name), h.name.size())) {
      return absl::InvalidArgumentError(
          absl::StrCat("http2: invalid header name \"", h.name, "\""));
    }
    if (!nghttp2_check_header_value(H2Bytes(h.value), h.value.size())) {
      return absl::InvalidArgumentError(
          absl::StrCat("http2: invalid value for header \"", h.name, "\""));
    }
    if (IsConnectionSpecific(h.name, h.value)) {
      return absl::InvalidArgumentError(
          absl::StrCat("http2: connection-specific header \"", h.name, "\" not allowed"));
    }
  }
  return absl::OkStatus();
}

absl::Status Nghttp2Failure(std::string_view what, int rv) {
  return absl::InternalError(
      absl::StrCat("http2: ", std::string(what), ": ", nghttp2_strerror(rv)));
}

absl::Status CheckRequestHead(const RequestHead& head) {
  if (head.method.empty()) return absl::InvalidArgumentError("http2: request without :method");
  if (!head.protocol.empty()) {
    // RFC 8441 4: an extended CONNECT carries all four pseudo-headers.
    if (head.method != "CONNECT" || head.scheme.empty() || head.path.empty() ||
        head.authority.empty()) {
      return absl::InvalidArgumentError(
          "http2: :protocol needs CONNECT with :scheme, :authority and :path");
    }
  } else if (head.method == "CONNECT") {
    if (head.authority.empty())
      return absl::InvalidArgumentError("http2: CONNECT without :authority");
    if (!head.path.empty() || !head.scheme.empty()) {
      return absl::InvalidArgumentError("http2: CONNECT with :path or :scheme");
    }
  } else if (head.scheme.empty() || head.path.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("http2: request without ", head.scheme.empty() ? ":scheme" : ":path"));
  }
  HeaderList pseudo = {{"method", head.method},
                       {"scheme", head.scheme},
                       {"authority", head.authority},
                       {"path", head.path},
                       {"protocol", head.protocol}};
  for (const Header& h : pseudo) {
    if (!nghttp2_check_header_value(H2Bytes(h.value), h.value.size())) {
      return absl::InvalidArgumentError(absl::StrCat("http2: invalid :", h.name));
    }
  }
  return CheckH2Fields(head.headers);
}

}  // namespace

// nghttp2's C callbacks, with access to the codec's state.
struct Codec::Callbacks {
  static Codec& Self(void* user_data) { return *static_cast<Codec*>(user_data); }

  static int OnBeginHeaders(nghttp2_session*, const nghttp2_frame* frame, void* user_data) {
    Codec& c = Self(user_data);
    if (frame->hd.type != NGHTTP2_HEADERS) return 0;
    Stream* s = c.Find(frame->hd.stream_id);
    if (s == nullptr && c.server_ && frame->headers.cat == NGHTTP2_HCAT_REQUEST) {
      s = &c.Add(frame->hd.stream_id);
    }
    if (s == nullptr) return 0;
    s->fields.clear();
    s->header_bytes = 0;
    s->too_large = false;
    return 0;
  }

  static int OnHeader(nghttp2_session*, const nghttp2_frame* frame, const uint8_t* name,
                      size_t namelen, const uint8_t* value, size_t valuelen, uint8_t,
                      void* user_data) {
    Codec& c = Self(user_data);
    Stream* s = c.Find(frame->hd.stream_id);
    if (s == nullptr) return 0;
    s->header_bytes += namelen + valuelen + 32;
    if (s->header_bytes > c.settings_.max_header_list_size) {
      s->too_large = true;
      if (s->header_bytes > kHeaderAbuseFactor * size_t{c.settings_.max_header_list_size}) {
        c.error_ = absl::ResourceExhaustedError(
            absl::StrCat("http2: header list of stream ", frame->hd.stream_id, " over ",
                         kHeaderAbuseFactor * size_t{c.settings_.max_header_list_size}, " bytes"));
        return NGHTTP2_ERR_CALLBACK_FAILURE;
      }
    }
    if (s->too_large) return 0;
    std::string_view n(reinterpret_cast<const char*>(name), namelen);
    std::string_view v(reinterpret_cast<const char*>(value), valuelen);
    if (n.empty() || n[0] != ':') {
      s->fields.push_back({std::string(n), std::string(v)});
    } else if (n == ":status") {
      // nghttp2 has checked it is three digits.
      s->status = (v[0] - '0') * 100 + (v[1] - '0') * 10 + (v[2] - '0');
    } else if (n == ":method") {
      s->request.method = v;
    } else if (n == ":scheme") {
      s->request.scheme = v;
    } else if (n == ":authority") {
      s->request.authority = v;
    } else if (n == ":path") {
      s->request.path = v;
    } else if (n == ":protocol") {
      s->request.protocol = v;
    }
    return 0;
  }

  // A complete header block: a head, an interim head or trailers.
  static void OnHeaders(Codec& c, Stream& s, const nghttp2_frame* frame) {
    const int32_t id = frame->hd.stream_id;
    if (s.too_large) return c.RefuseTooLarge(id, s);
    if (s.head_seen) {
      // Trailers of a stream answered 431 are nobody's business.
      if (s.delivered) c.events_->OnTrailers(id, std::move(s.fields));
    } else if (c.server_) {
      s.head_seen = s.delivered = true;
      s.request.headers = std::move(s.fields);
      c.events_->OnRequestHead(id, std::move(s.request));
    } else if (s.status >= 200) {
      s.head_seen = true;
      c.events_->OnResponseHead(id, ResponseHead{s.status, std::move(s.fields)});
    }
    s.fields.clear();
  }

  static int OnFrameRecv(nghttp2_session*, const nghttp2_frame* frame, void* user_data) {
    Codec& c = Self(user_data);
    const int32_t id = frame->hd.stream_id;
    switch (frame->hd.type) {
      case NGHTTP2_HEADERS:
      case NGHTTP2_DATA: {
        Stream* s = c.Find(id);
        if (s == nullptr) break;
        if (frame->hd.type == NGHTTP2_HEADERS) OnHeaders(c, *s, frame);
        if (s->local_error != 0) break;  // refused: its end is the reset
        if ((frame->hd.flags & NGHTTP2_FLAG_END_STREAM) && s->delivered && !s->remote_ended) {
          s->remote_ended = true;
          c.events_->OnEndStream(id);
        }
        break;
      }
      case NGHTTP2_GOAWAY:
        c.events_->OnGoaway(frame->goaway.last_stream_id, frame->goaway.error_code);
        break;
      case NGHTTP2_WINDOW_UPDATE:
        c.events_->OnWindowUpdate(id);
        break;
      case NGHTTP2_PING:
        if (frame->hd.flags & NGHTTP2_FLAG_ACK) ++c.ping_acks_;
        break;
      case NGHTTP2_SETTINGS:
        // A larger SETTINGS_INITIAL_WINDOW_SIZE grows every stream's window.
        if (!(frame->hd.flags & NGHTTP2_FLAG_ACK)) c.events_->OnWindowUpdate(0);
        break;
      default:
        break;
    }
    return 0;
  }

  static int OnDataChunk(nghttp2_session* session, uint8_t, int32_t id, const uint8_t* data,
                         size_t len, void* user_data) {
    Codec& c = Self(user_data);
    Stream* s = c.Find(id);
    if (s == nullptr || !s->delivered || !s->head_seen || s->local_error != 0) {
      // Nobody will pass these bytes on: give the window back at once.
      nghttp2_session_consume(session, id, len);
      return 0;
    }
    s->unconsumed += len;
    c.events_->OnData(id, std::string_view(reinterpret_cast<const char*>(data), len));
    return 0;
  }

  static int OnStreamClose(nghttp2_session* session, int32_t id, uint32_t error_code,
                           void* user_data) {
    Codec& c = Self(user_data);
    auto it = c.streams_.find(id);
    if (it == c.streams_.end()) return 0;
    // A stream we reset after the peer ended it closes without a code.
    if (error_code == kNoError) error_code = it->second->local_error;
    const bool notify =
        it->second->delivered && (error_code != kNoError || !it->second->remote_ended);
    // What the caller never gave back would shrink the connection's window
    // for good; the caller forgets the stream now, so the codec returns it.
    if (it->second->unconsumed > 0) {
      nghttp2_session_consume_connection(session, it->second->unconsumed);
    }
    c.streams_.erase(it);
    if (notify) c.events_->OnReset(id, error_code);
    return 0;
  }

  static int OnFrameSend(nghttp2_session*, const nghttp2_frame* frame, void* user_data) {
    Codec& c = Self(user_data);
    // nghttp2 answers a connection error with a GOAWAY naming it.
    if (frame->hd.type == NGHTTP2_GOAWAY && frame->goaway.error_code != kNoError && c.error_.ok() &&
        !c.local_goaway_) {
      c.error_ = absl::InvalidArgumentError(
          absl::StrCat("http2: connection error ", nghttp2_http2_strerror(frame->goaway.error_code),
                       c.last_error_.empty() ? "" : ": ", c.last_error_));
    }
    return 0;
  }

  static int OnError(nghttp2_session*, int, const char* msg, size_t len, void* user_data) {
    Self(user_data).last_error_.assign(msg, std::min<size_t>(len, 200));
    return 0;
  }

  // The DATA source of every stream: what the caller queued, as much as the
  // windows allow (nghttp2 passes that as `length`); trailers after it.
  static ssize_t ReadData(nghttp2_session* session, int32_t id, uint8_t* buf, size_t length,
                          uint32_t* data_flags, nghttp2_data_source*, void* user_data) {
    Codec& c = Self(user_data);
    Stream* s = c.Find(id);
    if (s == nullptr) return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
    const size_t n = std::min(length, s->queued.size());
    if (n > 0) std::memcpy(buf, s->queued.data(), n);
    s->queued.Consume(n);
    if (!s->queued.empty()) return static_cast<ssize_t>(n);
    if (!s->end_queued) {
      if (n > 0) return static_cast<ssize_t>(n);
      s->deferred = true;
      return NGHTTP2_ERR_DEFERRED;
    }
    *data_flags |= NGHTTP2_DATA_FLAG_EOF;
    if (s->has_trailers) {
      std::vector<nghttp2_nv> nva = H2Nv(s->trailers);
      if (nghttp2_submit_trailer(session, id, nva.data(), nva.size()) == 0) {
        *data_flags |= NGHTTP2_DATA_FLAG_NO_END_STREAM;
      }
    }
    return static_cast<ssize_t>(n);
  }

  static nghttp2_data_provider BodySource() {
    nghttp2_data_provider provider{};
    provider.read_callback = &ReadData;
    return provider;
  }
};

bool IsConnectionSpecific(std::string_view lower_name, std::string_view value) {
  if (lower_name == "te") {
    absl::string_view v = absl::StripAsciiWhitespace(absl::string_view(value.data(), value.size()));
    return !absl::EqualsIgnoreCase(v, "trailers");
  }
  return lower_name == "connection" || lower_name == "keep-alive" ||
         lower_name == "proxy-connection" || lower_name == "transfer-encoding" ||
         lower_name == "upgrade";
}

absl::Status ValidateSettings(const Settings& s) {
  if (s.max_concurrent_streams == 0) {
    return absl::InvalidArgumentError("http2: max_concurrent_streams must be at least 1");
  }
  if (s.initial_window_size > NGHTTP2_MAX_WINDOW_SIZE) {
    return absl::InvalidArgumentError(
        absl::StrCat("http2: initial_window_size ", s.initial_window_size, " over 2^31-1"));
  }
  if (s.connection_window_size < NGHTTP2_INITIAL_CONNECTION_WINDOW_SIZE ||
      s.connection_window_size > NGHTTP2_MAX_WINDOW_SIZE) {
    return absl::InvalidArgumentError(absl::StrCat(
        "http2: connection_window_size ", s.connection_window_size, " not in [65535, 2^31-1]"));
  }
  if (s.max_header_list_size < 1024) {
    return absl::InvalidArgumentError(
        absl::StrCat("http2: max_header_list_size ", s.max_header_list_size, " under 1024"));
  }
  if (s.max_queued_data == 0 || s.max_pending_output == 0) {
    return absl::InvalidArgumentError("http2: max_queued_data and max_pending_output must be > 0");
  }
  return absl::OkStatus();
}

Codec::Codec(bool server, const Settings& settings, Events* events)
    : events_(events), settings_(settings), server_(server) {}

Codec::~Codec() { nghttp2_session_del(session_); }

absl::Status Codec::Init() {
  if (events_ == nullptr) return absl::InvalidArgumentError("http2: a codec needs its Events");
  if (absl::Status st = ValidateSettings(settings_); !st.ok()) return st;
  nghttp2_session_callbacks* cbs;
  if (int rv = nghttp2_session_callbacks_new(&cbs); rv != 0) return Nghttp2Failure("callbacks", rv);
  nghttp2_session_callbacks_set_on_begin_headers_callback(cbs, &Callbacks::OnBeginHeaders);
  nghttp2_session_callbacks_set_on_header_callback(cbs, &Callbacks::OnHeader);
  nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, &Callbacks::OnFrameRecv);
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, &Callbacks::OnDataChunk);
  nghttp2_session_callbacks_set_on_stream_close_callback(cbs, &Callbacks::OnStreamClose);
  nghttp2_session_callbacks_set_on_frame_send_callback(cbs, &Callbacks::OnFrameSend);
  nghttp2_session_callbacks_set_error_callback2(cbs, &Callbacks::OnError);
  nghttp2_option* opt;
  if (int rv = nghttp2_option_new(&opt); rv != 0) {
    nghttp2_session_callbacks_del(cbs);
    return Nghttp2Failure("options", rv);
  }
  // The window opens when the caller has passed the bytes on (ConsumeData).
  nghttp2_option_set_no_auto_window_update(opt, 1);
  int rv = server_ ? nghttp2_session_server_new2(&session_, cbs, this, opt)
                   : nghttp2_session_client_new2(&session_, cbs, this, opt);
  nghttp2_option_del(opt);
  nghttp2_session_callbacks_del(cbs);
  if (rv != 0) return Nghttp2Failure("session", rv);

  std::vector<nghttp2_settings_entry> entries = {
      {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, settings_.max_concurrent_streams},
      {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, settings_.initial_window_size},
      {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, settings_.max_header_list_size}};
  if (!server_) entries.push_back({NGHTTP2_SETTINGS_ENABLE_PUSH, 0});
  if (server_ && settings_.enable_connect_protocol) {
    entries.push_back({NGHTTP2_SETTINGS_ENABLE_CONNECT_PROTOCOL, 1});
  }
  rv = nghttp2_submit_settings(session_, NGHTTP2_FLAG_NONE, entries.data(), entries.size());
  if (rv != 0) return Nghttp2Failure("settings", rv);
  if (settings_.connection_window_size != NGHTTP2_INITIAL_CONNECTION_WINDOW_SIZE) {
    rv = nghttp2_session_set_local_window_size(
        session_, NGHTTP2_FLAG_NONE, 0, static_cast<int32_t>(settings_.connection_window_size));
    if (rv != 0) return Nghttp2Failure("connection window", rv);
  }
  return absl::OkStatus();
}

Codec::Stream* Codec::Find(int32_t stream_id) const {
  auto it = streams_.find(stream_id);
  return it == streams_.end() ? nullptr : it->second.get();
}

Codec::Stream& Codec::Add(int32_t stream_id) {
  auto& slot = streams_[stream_id];
  slot = std::make_unique<Stream>();
  return *slot;
}

absl::Status Codec::Receive(std::string_view bytes) {
  if (in_callback_) return absl::FailedPreconditionError("http2: Receive called from a callback");
  if (!error_.ok()) return error_;
  in_callback_ = true;
  ssize_t rv = nghttp2_session_mem_recv(session_, H2Bytes(bytes), bytes.size());
  in_callback_ = false;
  if (rv < 0 && error_.ok()) {
    error_ =
        absl::InvalidArgumentError(absl::StrCat("http2: ", nghttp2_strerror(static_cast<int>(rv))));
  }
  // Frames nghttp2 queued in answer; a connection error shows as its GOAWAY.
  Fill();
  return error_;
}

void Codec::Fill() {
  in_callback_ = true;
  while (out_.size() < settings_.max_pending_output) {
    const uint8_t* data = nullptr;
    ssize_t n = nghttp2_session_mem_send(session_, &data);
    if (n < 0) {
      if (error_.ok()) error_ = Nghttp2Failure("send", static_cast<int>(n));
      break;
    }
    if (n == 0) break;
    out_.Append(std::string_view(reinterpret_cast<const char*>(data), static_cast<size_t>(n)));
  }
  in_callback_ = false;
}

std::string_view Codec::Pending() {
  if (!in_callback_) Fill();
  return out_.View();
}

void Codec::Consumed(size_t n) { out_.Consume(std::min(n, out_.size())); }

bool Codec::WantsClose() const {
  if (!error_.ok()) return true;
  return nghttp2_session_want_read(session_) == 0 && nghttp2_session_want_write(session_) == 0;
}

absl::Status Codec::CheckSendable(int32_t stream_id, Stream*& s) const {
  s = Find(stream_id);
  if (s == nullptr) return absl::NotFoundError(absl::StrCat("http2: no open stream ", stream_id));
  if (!s->sending_body || s->local_ended) {
    return absl::FailedPreconditionError(
        absl::StrCat("http2: stream ", stream_id, " has no body open for sending"));
  }
  return absl::OkStatus();
}

void Codec::Resume(int32_t stream_id, Stream& s) {
  if (!s.deferred) return;
  s.deferred = false;
  nghttp2_session_resume_data(session_, stream_id);
}

absl::Status Codec::SubmitData(int32_t stream_id, std::string_view data, bool end_stream) {
  Stream* s;
  if (absl::Status st = CheckSendable(stream_id, s); !st.ok()) return st;
  if (s->queued.size() + data.size() > settings_.max_queued_data) {
    return absl::ResourceExhaustedError(
        absl::StrCat("http2: stream ", stream_id, ": ", s->queued.size() + data.size(),
                     " bytes queued, over max_queued_data ", settings_.max_queued_data));
  }
  s->queued.Append(data);
  if (end_stream) s->end_queued = s->local_ended = true;
  Resume(stream_id, *s);
  return absl::OkStatus();
}

absl::Status Codec::SubmitTrailers(int32_t stream_id, const HeaderList& trailers) {
  Stream* s;
  if (absl::Status st = CheckSendable(stream_id, s); !st.ok()) return st;
  if (absl::Status st = CheckH2Fields(trailers); !st.ok()) return st;
  s->has_trailers = !trailers.empty();
  s->trailers = trailers;
  s->end_queued = s->local_ended = true;
  Resume(stream_id, *s);
  return absl::OkStatus();
}

absl::Status Codec::SubmitReset(int32_t stream_id, uint32_t error_code) {
  if (Find(stream_id) == nullptr) {
    return absl::NotFoundError(absl::StrCat("http2: no open stream ", stream_id));
  }
  int rv = nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, stream_id, error_code);
  return rv == 0 ? absl::OkStatus() : Nghttp2Failure("RST_STREAM", rv);
}

absl::Status Codec::SubmitPing() {
  int rv = nghttp2_submit_ping(session_, NGHTTP2_FLAG_NONE, nullptr);
  return rv == 0 ? absl::OkStatus() : Nghttp2Failure("PING", rv);
}

absl::Status Codec::SubmitGoaway(uint32_t error_code) {
  local_goaway_ = true;
  int rv = nghttp2_submit_goaway(session_, NGHTTP2_FLAG_NONE,
                                 nghttp2_session_get_last_proc_stream_id(session_), error_code,
                                 nullptr, 0);
  return rv == 0 ? absl::OkStatus() : Nghttp2Failure("GOAWAY", rv);
}

void Codec::ConsumeData(int32_t stream_id, size_t n) {
  // Bytes of a closed stream were returned when it closed; more than was
  // delivered would open the window beyond what the peer may send.
  Stream* s = Find(stream_id);
  if (s == nullptr) return;
  n = std::min(n, s->unconsumed);
  s->unconsumed -= n;
  if (n > 0) nghttp2_session_consume(session_, stream_id, n);
}

size_t Codec::Writable(int32_t stream_id) const {
  Stream* s = Find(stream_id);
  if (s == nullptr || !s->sending_body || s->local_ended) return 0;
  int64_t window = nghttp2_session_get_stream_remote_window_size(session_, stream_id);
  if (window < 0) {  // the stream's HEADERS are not out yet: the peer's initial window
    window = nghttp2_session_get_remote_settings(session_, NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE);
  }
  window = std::min<int64_t>(window, nghttp2_session_get_remote_window_size(session_));
  const int64_t room = std::min<int64_t>(window, static_cast<int64_t>(settings_.max_queued_data)) -
                       static_cast<int64_t>(s->queued.size());
  return room > 0 ? static_cast<size_t>(room) : 0;
}

size_t Codec::Queued(int32_t stream_id) const {
  Stream* s = Find(stream_id);
  return s == nullptr ? 0 : s->queued.size();
}

// The server's side.

absl::StatusOr<std::unique_ptr<ServerCodec>> ServerCodec::Create(const Settings& settings,
                                                                 Events* events) {
  std::unique_ptr<ServerCodec> codec(new ServerCodec(true, settings, events));
  if (absl::Status st = codec->Init(); !st.ok()) return st;
  return codec;
}

absl::Status ServerCodec::SubmitResponse(int32_t stream_id, const ResponseHead& head,
                                         bool end_stream) {
  Stream* s = Find(stream_id);
  if (s == nullptr || !s->delivered) {
    return absl::NotFoundError(absl::StrCat("http2: no open request stream ", stream_id));
  }
  if (s->sending_body || s->local_ended) {
    return absl::FailedPreconditionError(
        absl::StrCat("http2: stream ", stream_id, " already has a response"));
  }
  if (head.status < 200 || head.status > 999) {
    return absl::InvalidArgumentError(
        absl::StrCat("http2: response status ", head.status, " not in [200, 999]"));
  }
  if (absl::Status st = CheckH2Fields(head.headers); !st.ok()) return st;
  HeaderList fields = {{":status", std::to_string(head.status)}};
  fields.insert(fields.end(), head.headers.begin(), head.headers.end());
  std::vector<nghttp2_nv> nva = H2Nv(fields);
  nghttp2_data_provider body = Callbacks::BodySource();
  int rv = nghttp2_submit_response(session_, stream_id, nva.data(), nva.size(),
                                   end_stream ? nullptr : &body);
  if (rv != 0) return Nghttp2Failure("response", rv);
  s->sending_body = !end_stream;
  s->local_ended = end_stream;
  return absl::OkStatus();
}

absl::Status ServerCodec::SubmitInterim(int32_t stream_id, const ResponseHead& head) {
  Stream* s = Find(stream_id);
  if (s == nullptr || !s->delivered) {
    return absl::NotFoundError(absl::StrCat("http2: no open request stream ", stream_id));
  }
  if (s->sending_body || s->local_ended) {
    return absl::FailedPreconditionError(
        absl::StrCat("http2: stream ", stream_id, " already has its final response"));
  }
  if (head.status < 100 || head.status > 199 || head.status == 101) {
    return absl::InvalidArgumentError(
        absl::StrCat("http2: interim status ", head.status, " not 1xx (or is 101)"));
  }
  if (absl::Status st = CheckH2Fields(head.headers); !st.ok()) return st;
  HeaderList fields = {{":status", std::to_string(head.status)}};
  fields.insert(fields.end(), head.headers.begin(), head.headers.end());
  std::vector<nghttp2_nv> nva = H2Nv(fields);
  int rv = nghttp2_submit_headers(session_, NGHTTP2_FLAG_NONE, stream_id, nullptr, nva.data(),
                                  nva.size(), nullptr);
  return rv < 0 ? Nghttp2Failure("interim response", rv) : absl::OkStatus();
}

absl::Status ServerCodec::SubmitShutdownNotice() {
  int rv = nghttp2_submit_shutdown_notice(session_);
  return rv == 0 ? absl::OkStatus() : Nghttp2Failure("shutdown notice", rv);
}

void Codec::RefuseTooLarge(int32_t stream_id, Stream& s) {
  s.fields.clear();
  if (server_ && !s.head_seen) {
    // RFC 9113 10.5.1: a server may answer 431. The caller never sees the
    // stream; DATA the client still sends is dropped with its window given back.
    s.head_seen = true;
    const nghttp2_nv status = {reinterpret_cast<uint8_t*>(const_cast<char*>(":status")),
                               reinterpret_cast<uint8_t*>(const_cast<char*>("431")), 7, 3,
                               NGHTTP2_NV_FLAG_NONE};
    if (nghttp2_submit_response(session_, stream_id, &status, 1, nullptr) == 0) {
      s.local_ended = true;
      return;
    }
  }
  s.local_error = kInternalError;
  nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, stream_id, NGHTTP2_INTERNAL_ERROR);
}

// The client's side.

absl::StatusOr<std::unique_ptr<ClientCodec>> ClientCodec::Create(const Settings& settings,
                                                                 Events* events) {
  std::unique_ptr<ClientCodec> codec(new ClientCodec(false, settings, events));
  if (absl::Status st = codec->Init(); !st.ok()) return st;
  return codec;
}

uint32_t ClientCodec::PeerMaxConcurrentStreams() const {
  return nghttp2_session_get_remote_settings(session_, NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS);
}

absl::StatusOr<int32_t> ClientCodec::SubmitRequest(const RequestHead& head, bool end_stream) {
  if (absl::Status st = CheckRequestHead(head); !st.ok()) return st;
  if (!nghttp2_session_check_request_allowed(session_)) {
    return absl::UnavailableError("http2: the peer sent GOAWAY; no new streams");
  }
  if (!head.protocol.empty() && nghttp2_session_get_remote_settings(
                                    session_, NGHTTP2_SETTINGS_ENABLE_CONNECT_PROTOCOL) != 1) {
    return absl::FailedPreconditionError(
        "http2: the peer has not enabled extended CONNECT (SETTINGS_ENABLE_CONNECT_PROTOCOL)");
  }
  if (ActiveStreams() >= PeerMaxConcurrentStreams()) {
    return absl::UnavailableError(
        absl::StrCat("http2: ", ActiveStreams(), " streams open, the peer's limit"));
  }
  HeaderList fields = {{":method", head.method}};
  if (!head.scheme.empty()) fields.push_back({":scheme", head.scheme});
  if (!head.authority.empty()) fields.push_back({":authority", head.authority});
  if (!head.path.empty()) fields.push_back({":path", head.path});
  if (!head.protocol.empty()) fields.push_back({":protocol", head.protocol});
  fields.insert(fields.end(), head.headers.begin(), head.headers.end());
  std::vector<nghttp2_nv> nva = H2Nv(fields);
  nghttp2_data_provider body = Callbacks::BodySource();
  int32_t id = nghttp2_submit_request(session_, nullptr, nva.data(), nva.size(),
                                      end_stream ? nullptr : &body, nullptr);
  if (id < 0) return Nghttp2Failure("request", id);
  Stream& s = Add(id);
  s.delivered = true;
  s.sending_body = !end_stream;
  s.local_ended = end_stream;
  return id;
}

}  // namespace causeway::proxy::http2
