/* dtrust-tls-server: a TLS server requiring a client certificate that dtrust
 * trusts for DOMAIN. Per connection one line on stdout ("TRUSTED reason" or
 * "VERDICT reason"); a trusted client gets "OK TRUSTED". Exit 2: bad setup. */
#include <dtrust/dtrust.h>
#include <getopt.h>
#include <netdb.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int Fail(const char* what, const char* why) {
  fprintf(stderr, "dtrust-tls-server: %s: %s\n", what, why);
  return 2;
}

/* A listening TCP socket on "HOST:PORT", or -1. */
static int Listen(char* host_port) {
  char* colon = strrchr(host_port, ':');
  struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE},
                  *address = NULL;
  if (colon == NULL) return -1;
  *colon = '\0'; /* getaddrinfo(HOST, PORT) */
  if (getaddrinfo(host_port, colon + 1, &hints, &address) != 0) return -1;
  int fd = socket(address->ai_family, SOCK_STREAM, 0);
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &(int){1}, sizeof(int));
  if (bind(fd, address->ai_addr, address->ai_addrlen) || listen(fd, 16)) {
    close(fd);
    fd = -1;
  }
  freeaddrinfo(address);
  return fd;
}

/* Handshake, one line to stdout, "OK TRUSTED" to a trusted client. */
static void Serve(SSL_CTX* ctx, int fd, const char* domain) {
  struct timeval deadline = {.tv_sec = 10}; /* For stuck clients. */
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &deadline, sizeof deadline);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &deadline, sizeof deadline);
  SSL* ssl = SSL_new(ctx);
  SSL_set_fd(ssl, fd);
  dtrust_ssl_expect(ssl, NULL, domain);
  if (SSL_accept(ssl) == 1) {
    printf("TRUSTED %s\n", dtrust_ssl_reason(ssl));
    SSL_write(ssl, "OK TRUSTED\n", 11);
    SSL_shutdown(ssl);
  } else if (*dtrust_ssl_reason(ssl) == '\0') { /* Failed before dtrust. */
    printf("REFUSED %s\n", ERR_error_string(ERR_peek_last_error(), NULL));
  } else {
    printf("%s %s\n", dtrust_ssl_outcome(ssl), dtrust_ssl_reason(ssl));
  }
  ERR_clear_error();
  SSL_free(ssl);
  close(fd);
}

enum { kListen, kCert, kKey, kDomain, kEndpoint, kInProc };

int main(int argc, char** argv) {
  static const struct option kOptions[] = {{"listen", 1, 0, kListen},
                                           {"cert", 1, 0, kCert},
                                           {"key", 1, 0, kKey},
                                           {"domain", 1, 0, kDomain},
                                           {"endpoint", 1, 0, kEndpoint},
                                           {"in-process", 0, 0, kInProc},
                                           {0, 0, 0, 0}};
  static const char kUsage[] =
      "--listen HOST:PORT --cert F --key F "
      "--domain D [--endpoint E] [--in-process]";
  char* value[kInProc + 1] = {0};
  for (int c; (c = getopt_long(argc, argv, "", kOptions, NULL)) != -1;) {
    if (c < kListen || c > kInProc) return Fail("usage", kUsage);
    value[c] = optarg ? optarg : "1";
  }
  if (!value[kListen] || !value[kCert] || !value[kKey] || !value[kDomain])
    return Fail("usage", kUsage);
  SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
  if (SSL_CTX_use_certificate_chain_file(ctx, value[kCert]) != 1 ||
      SSL_CTX_use_PrivateKey_file(ctx, value[kKey], SSL_FILETYPE_PEM) != 1)
    return Fail(value[kCert], "cannot use this certificate and key");
  dtrust_client* client = dtrust_client_new();
  if (dtrust_client_set_from_environment(client) != DTRUST_OK ||
      (value[kEndpoint] &&
       dtrust_client_set(client, "endpoint", value[kEndpoint])) ||
      (value[kInProc] && dtrust_client_set(client, "in-process", "1")) ||
      dtrust_client_connect(client) != DTRUST_OK ||
      dtrust_ssl_ctx_install(ctx, client, 0) != DTRUST_OK)
    return Fail("dtrust", dtrust_last_error());
  int listener = Listen(value[kListen]);
  if (listener < 0) return Fail(value[kListen], "cannot listen there");
  setvbuf(stdout, NULL, _IOLBF, 0);
  fprintf(stderr, "dtrust-tls-server: listening\n");
  for (;;) {
    int fd = accept(listener, NULL, NULL);
    if (fd >= 0) Serve(ctx, fd, value[kDomain]);
  }
}
