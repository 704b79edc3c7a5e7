/* libdtrust's C API: ask dtrustd whether a peer's certificate is published
 * (Direct Trust), and an OpenSSL hook that decides inside the TLS handshake.
 *
 * Build: cc prog.c $(pkg-config --cflags --libs dtrust)
 *
 * Thread safety: a dtrust_client is configured (dtrust_client_set*) by one
 * thread, then dtrust_client_connect; after that every function taking it is
 * safe to call from any number of threads at once. Results and per-SSL state
 * belong to the caller's thread like the SSL they come with.
 *
 * Errors: functions returning dtrust_status leave a one-line message for the
 * calling thread in dtrust_last_error(). Verification outcomes never go
 * there: they are in the dtrust_result or on the SSL. */
#ifndef DTRUST_DTRUST_H_
#define DTRUST_DTRUST_H_

#include <stddef.h>

#if defined(__GNUC__)
#define DTRUST_EXPORT __attribute__((visibility("default")))
#else
#define DTRUST_EXPORT
#endif

#ifdef __cplusplus
extern "C" {
#endif

struct ssl_st;     /* OpenSSL's SSL */
struct ssl_ctx_st; /* OpenSSL's SSL_CTX */

typedef struct dtrust_client dtrust_client;
typedef struct dtrust_result dtrust_result;

typedef enum dtrust_status {
  DTRUST_OK = 0,
  /* A bad option, value, certificate or argument; nothing changed. */
  DTRUST_ERR_INVALID_ARGUMENT = 1,
  /* dtrust could not answer: dtrustd unreachable, no answer within the
   * timeout, not serving (its data is too old), or it refused this client. */
  DTRUST_ERR_UNAVAILABLE = 2,
  /* Called in the wrong state (e.g. dtrust_client_set after connect). */
  DTRUST_ERR_STATE = 3
} dtrust_status;

/* dtrustd's verdicts (the same numbers as dtrust.v1.Verdict). */
typedef enum dtrust_verdict {
  DTRUST_VERDICT_NONE = 0, /* No answer: see the status and reason. */
  DTRUST_VERDICT_TRUSTED = 1,
  DTRUST_VERDICT_NOT_PUBLISHED = 2,
  DTRUST_VERDICT_WRONG_SERVER = 3,
  DTRUST_VERDICT_WRONG_DOMAIN = 4,
  DTRUST_VERDICT_EXPIRED = 5,
  DTRUST_VERDICT_NOT_YET_VALID = 6,
  DTRUST_VERDICT_PIN_EXPIRED = 7,
  DTRUST_VERDICT_PIN_NOT_YET_ACTIVE = 8
} dtrust_verdict;

/* "TRUSTED", "NOT_PUBLISHED", ... ("NONE" for DTRUST_VERDICT_NONE and
 * unknown values). A static string. */
DTRUST_EXPORT const char* dtrust_verdict_name(dtrust_verdict verdict);

/* The message of the calling thread's last failed call returning a
 * dtrust_status ("" if none); valid until its next libdtrust call. */
DTRUST_EXPORT const char* dtrust_last_error(void);

/* A client with the defaults: endpoint unix:/run/dtrust/dtrustd.sock, no
 * TLS, a 2000 ms deadline per call. NULL only when out of memory. */
DTRUST_EXPORT dtrust_client* dtrust_client_new(void);

/* Sets one option before dtrust_client_connect:
 *   "endpoint"       unix:PATH or HOST:PORT (as `dtrust --endpoint`)
 *   "timeout-ms"     deadline of each call to dtrustd, 1..60000
 *   "in-process"     "1": answer from an in-process copy of dtrustd's pins,
 *                    fed by its Watch stream (no call per check); "0"
 *                    (default): one Verify call per check. The copy answers
 *                    only while dtrustd's data is within dtrustd's staleness
 *                    bound (--max-staleness): before its first snapshot,
 *                    when dtrustd says it is not serving, or once dtrustd
 *                    has been gone past the bound, checks fail with
 *                    DTRUST_ERR_UNAVAILABLE (fail closed). Until the first
 *                    snapshot a check waits up to the timeout for it.
 *   "tls-cert", "tls-key"  client certificate and key files (PEM)
 *   "server-sha256"  SHA-256 of dtrustd's certificate (hex), or
 *   "ca"             a CA file authenticating dtrustd
 * DTRUST_ERR_INVALID_ARGUMENT for an unknown option or a bad value. */
DTRUST_EXPORT dtrust_status dtrust_client_set(dtrust_client* client,
                                              const char* option,
                                              const char* value);

/* Sets the options the dtrust CLI reads from the environment, for those set:
 * DTRUST_ENDPOINT, DTRUST_CERT, DTRUST_KEY, DTRUST_SERVER_SHA256. */
DTRUST_EXPORT dtrust_status
dtrust_client_set_from_environment(dtrust_client* client);

/* Reads the files and prepares the channel; the connection itself is made
 * on the first verification (so this never blocks on dtrustd). After it the
 * client is immutable and thread-safe. DTRUST_ERR_INVALID_ARGUMENT naming
 * the option and file when TLS settings are unusable. */
DTRUST_EXPORT dtrust_status dtrust_client_connect(dtrust_client* client);

/* Waits up to timeout_ms until the client can answer: for an "in-process"
 * client, until its copy holds a complete, fresh snapshot (DTRUST_OK) or
 * the time is up (DTRUST_ERR_UNAVAILABLE, dtrust_last_error() saying why);
 * otherwise DTRUST_OK at once. DTRUST_ERR_STATE before
 * dtrust_client_connect. Thread-safe. */
DTRUST_EXPORT dtrust_status dtrust_client_wait_ready(dtrust_client* client,
                                                     int timeout_ms);

/* Frees the client. Every SSL_CTX it was installed on must be freed (or no
 * longer handshake) first. NULL is ignored. */
DTRUST_EXPORT void dtrust_client_free(dtrust_client* client);

/* Asks dtrustd about the certificate `der` (DER, der_len bytes) presented by
 * a peer expected to be `expected_server` and/or to serve the mail domain
 * `expected_domain` (either may be NULL or "", not both). Blocks at most the
 * client's timeout. Never NULL except when out of memory; free with
 * dtrust_result_free. */
DTRUST_EXPORT dtrust_result* dtrust_verify(dtrust_client* client,
                                           const unsigned char* der,
                                           size_t der_len,
                                           const char* expected_server,
                                           const char* expected_domain);
/* DTRUST_OK when dtrustd gave a verdict. */
DTRUST_EXPORT dtrust_status dtrust_result_status(const dtrust_result* result);
/* DTRUST_VERDICT_NONE unless the status is DTRUST_OK. */
DTRUST_EXPORT dtrust_verdict dtrust_result_verdict(const dtrust_result* result);
/* dtrustd's one-line reason (naming digest and cause), or why there is no
 * verdict. Owned by the result. */
DTRUST_EXPORT const char* dtrust_result_reason(const dtrust_result* result);
DTRUST_EXPORT void dtrust_result_free(dtrust_result* result);

/* ---- The OpenSSL hook ---- */

/* Let handshakes complete when dtrust cannot answer (verdict NONE); by
 * default they fail (fail closed). Untrusted certificates fail either way. */
#define DTRUST_SSL_FAIL_OPEN 0x1u

/* Makes every handshake of `ctx` decide the peer's certificate with dtrust
 * instead of chain validation (which is ignored by design: self-signed
 * certificates are fine): sets SSL_VERIFY_PEER |
 * SSL_VERIFY_FAIL_IF_NO_PEER_CERT (a server then requires a client
 * certificate) and a certificate verify callback. The handshake completes
 * only when dtrustd judges the peer's leaf TRUSTED for the expectations set
 * with dtrust_ssl_expect; otherwise the peer gets a certificate_expired
 * (verdict EXPIRED), bad_certificate (other verdicts) or certificate_unknown
 * (no answer, no expectations) alert. `client` must be connected and outlive
 * `ctx`. Call before creating SSLs from `ctx`. */
DTRUST_EXPORT dtrust_status dtrust_ssl_ctx_install(struct ssl_ctx_st* ctx,
                                                   dtrust_client* client,
                                                   unsigned flags);

/* What the peer of `ssl` must be: a server name and/or a mail domain (NULL
 * or "" for none, not both). Call before the handshake. Without it the
 * handshake is refused. */
DTRUST_EXPORT dtrust_status dtrust_ssl_expect(struct ssl_st* ssl,
                                              const char* expected_server,
                                              const char* expected_domain);

/* After (or during a failed) handshake: what dtrust decided. Before the
 * check ran: status DTRUST_OK, verdict NONE, reason "". A refused handshake
 * has a verdict other than TRUSTED or a status other than DTRUST_OK. */
DTRUST_EXPORT dtrust_status dtrust_ssl_status(const struct ssl_st* ssl);
DTRUST_EXPORT dtrust_verdict dtrust_ssl_verdict(const struct ssl_st* ssl);
/* Valid while `ssl` lives. */
DTRUST_EXPORT const char* dtrust_ssl_reason(const struct ssl_st* ssl);
/* One word for logging beside the reason: "UNAVAILABLE" when dtrust could
 * not answer, else dtrust_verdict_name(dtrust_ssl_verdict(ssl)). Static. */
DTRUST_EXPORT const char* dtrust_ssl_outcome(const struct ssl_st* ssl);

#ifdef __cplusplus
}
#endif

#endif /* DTRUST_DTRUST_H_ */
