// Inbound Domain Security: may this SMTP client deliver mail from this sender
// domain? The decision behind Postfix's policy delegation (server/postfix),
// independent of the protocol.
#ifndef DTRUST_SERVER_CORE_INBOUND_POLICY_H_
#define DTRUST_SERVER_CORE_INBOUND_POLICY_H_

#include <optional>
#include <string>

#include "server/core/digest.h"
#include "server/core/directory.h"
#include "server/core/trust_service.h"

namespace dtrust {

// What the MTA knows about one SMTP transaction at one protocol stage.
struct InboundQuery {
  std::string sender{};  // Envelope sender address; empty for bounces.
  std::string client_name{};
  std::string client_address{};
  std::string helo_name{};
  bool tls = false;  // The session is encrypted (STARTTLS done).
  // The client certificate's fingerprints, when it presented one.
  std::optional<Sha256Digest> cert_sha256{};
  std::optional<Sha256Digest> spki_sha256{};
  // The caller already added the X-DirectTrust header to this message (an
  // earlier recipient of the same message): add it no more.
  bool header_added = false;
};

struct InboundDecision {
  enum class Action {
    kDunno,    // Not ours to decide: let the other restrictions speak.
    kPrepend,  // Continue like kDunno, adding `header` to the message.
    kReject,   // Refuse permanently with `reply` (5.x.x).
    kDefer,    // Refuse temporarily with `reply` (4.x.x).
  };
  Action action = Action::kDunno;
  std::string header{};  // "X-DirectTrust: ..." for kPrepend.
  std::string reply{};   // "550 5.7.1 ..." / "451 4.3.0 ..." for refusals.
  // One line for the log, naming sender domain, client, digest and reason;
  // empty when the sender domain is on no list.
  std::string log{};
};

// Decides from the sender's domain (exact match on the Domain Security list;
// subdomains are not covered):
// - on no receive list, or no sender: kDunno;
// - receive-secure and the client certificate is published for a server of
//   that domain: kPrepend of "X-DirectTrust: domain-secured; ..." (kDunno if
//   `header_added`);
// - receive-secure and no TLS / no certificate / not published / published
//   for another domain / outside its dates: kReject (enforce) naming the
//   reason, or kPrepend of "X-DirectTrust: testing; ..." (testing);
// - directory unavailable: kDefer, never accept-as-secured, never kReject.
// Thread-safe; does not own its arguments, which must outlive it.
class InboundPolicy {
 public:
  InboundPolicy(Directory* directory, TrustService* trust_service)
      : directory_(directory), trust_service_(trust_service) {}

  InboundDecision Decide(const InboundQuery& query);

 private:
  Directory* const directory_;
  TrustService* const trust_service_;
};

}  // namespace dtrust

#endif  // DTRUST_SERVER_CORE_INBOUND_POLICY_H_
