// Options of the embedded directory (dtrustd --data-dir).
#ifndef DTRUST_SERVER_EMBEDDED_OPTIONS_H_
#define DTRUST_SERVER_EMBEDDED_OPTIONS_H_

#include <string>

#include "absl/time/time.h"

namespace dtrust {

struct EmbeddedDirectoryOptions {
  std::string data_dir;  // Created (mode 0700) if missing.
  std::string base_dn = "o=dtrust";
  std::string slapd_path = "/usr/sbin/slapd";
  std::string slapadd_path = "/usr/sbin/slapadd";
  std::string slapindex_path = "/usr/sbin/slapindex";
  std::string module_path = "/usr/lib/ldap";    // Holds back_mdb, syncprov.
  std::string schema_dir = "/etc/ldap/schema";  // core.schema, cosine.schema
  // How long one slapd start may take until it answers.
  absl::Duration start_timeout = absl::Seconds(10);
};

}  // namespace dtrust

#endif  // DTRUST_SERVER_EMBEDDED_OPTIONS_H_
