/* dtrust-tls-client: completes a TLS handshake only when the server's
 * certificate is published for NAME (and DOMAIN); prints the verdict. Exit 0:
 * trusted; 1: refused for trust (by us or the server); 2: bad usage or no
 * connection; 3: dtrust could not answer. --in-process: from a local copy. */
#include <dtrust/dtrust.h>
#include <getopt.h>
#include <netdb.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int Fail(int code, const char* what, const char* why) {
  fprintf(stderr, "dtrust-tls-client: %s: %s\n", what, why);
  return code;
}

/* A TCP connection to "HOST:PORT" with 10 s send/receive deadlines, or -1. */
static int Connect(char* host_port) {
  char* colon = strrchr(host_port, ':');
  struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *address = NULL;
  if (colon == NULL) return -1;
  *colon = '\0'; /* getaddrinfo(HOST, PORT) */
  if (getaddrinfo(host_port, colon + 1, &hints, &address) != 0) return -1;
  int fd = socket(address->ai_family, SOCK_STREAM, 0);
  struct timeval deadline = {.tv_sec = 10};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &deadline, sizeof deadline);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &deadline, sizeof deadline);
  if (connect(fd, address->ai_addr, address->ai_addrlen) != 0) {
    close(fd);
    fd = -1;
  }
  freeaddrinfo(address);
  return fd;
}

/* Prints the verdict (or why the server refused us); returns the exit code. */
static int Report(SSL* ssl, int handshake_ok) {
  char line[256];
  int n = handshake_ok ? SSL_read(ssl, line, sizeof line) : 0;
  if (n > 0) {
    printf("TRUSTED %s\nserver: %.*s", dtrust_ssl_reason(ssl), n, line);
    return 0;
  }
  if (dtrust_ssl_status(ssl) == DTRUST_ERR_UNAVAILABLE) {
    printf("UNAVAILABLE %s\n", dtrust_ssl_reason(ssl));
    return 3;
  }
  if (dtrust_ssl_verdict(ssl) == DTRUST_VERDICT_TRUSTED ||
      !*dtrust_ssl_reason(ssl))
    printf("REFUSED %s\n", ERR_error_string(ERR_peek_last_error(), NULL));
  else
    printf("%s %s\n", dtrust_verdict_name(dtrust_ssl_verdict(ssl)),
           dtrust_ssl_reason(ssl));
  return 1;
}

enum { kConnect, kServer, kDomain, kCert, kKey, kEndpoint, kInProc };

int main(int argc, char** argv) {
  static const struct option kOptions[] = {
      {"connect", 1, 0, kConnect},   {"server", 1, 0, kServer},
      {"domain", 1, 0, kDomain},     {"cert", 1, 0, kCert},
      {"key", 1, 0, kKey},           {"endpoint", 1, 0, kEndpoint},
      {"in-process", 0, 0, kInProc}, {0, 0, 0, 0}};
  static const char kUsage[] =
      "--connect HOST:PORT --server NAME [--domain D] [--cert F --key F] "
      "[--endpoint E] [--in-process]";
  char* value[kInProc + 1] = {0};
  for (int c; (c = getopt_long(argc, argv, "", kOptions, NULL)) != -1;) {
    if (c < kConnect || c > kInProc) return Fail(2, "usage", kUsage);
    value[c] = optarg ? optarg : "1";
  }
  if (!value[kConnect] || !value[kServer] || !value[kCert] != !value[kKey])
    return Fail(2, "usage", kUsage);
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  if (value[kCert] &&
      (SSL_CTX_use_certificate_chain_file(ctx, value[kCert]) != 1 ||
       SSL_CTX_use_PrivateKey_file(ctx, value[kKey], SSL_FILETYPE_PEM) != 1))
    return Fail(2, value[kCert], "cannot use this certificate and key");
  dtrust_client* client = dtrust_client_new();
  if (dtrust_client_set_from_environment(client) != DTRUST_OK ||
      (value[kEndpoint] &&
       dtrust_client_set(client, "endpoint", value[kEndpoint])) ||
      (value[kInProc] && dtrust_client_set(client, "in-process", "1")) ||
      dtrust_client_connect(client) != DTRUST_OK ||
      dtrust_ssl_ctx_install(ctx, client, 0) != DTRUST_OK)
    return Fail(2, "dtrust", dtrust_last_error());
  int fd = Connect(value[kConnect]);
  if (fd < 0) return Fail(2, value[kConnect], "cannot connect");
  SSL* ssl = SSL_new(ctx);
  SSL_set_fd(ssl, fd);
  SSL_set_tlsext_host_name(ssl, value[kServer]);
  dtrust_ssl_expect(ssl, value[kServer], value[kDomain]);
  return Report(ssl, SSL_connect(ssl) == 1);
}
