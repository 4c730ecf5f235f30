#include "CTLSOptions.h"
#include <stdint.h>

// Defined in swift-nio-ssl's CNIOBoringSSL (BoringSSL's SSL_CTX_set_options under its symbol prefix).
extern uint32_t CNIOBoringSSL_SSL_CTX_set_options(void *ctx, uint32_t options);

// BoringSSL's include/openssl/ssl.h: #define SSL_OP_CIPHER_SERVER_PREFERENCE 0x00400000L
#define APUS_SSL_OP_CIPHER_SERVER_PREFERENCE 0x00400000u

void apus_tls_prefer_server_ciphers(void *ssl_ctx) {
    CNIOBoringSSL_SSL_CTX_set_options(ssl_ctx, APUS_SSL_OP_CIPHER_SERVER_PREFERENCE);
}
