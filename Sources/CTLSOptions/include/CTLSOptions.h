// Options of a BoringSSL SSL_CTX that swift-nio-ssl's TLSConfiguration does not expose.
//
// swift-nio-ssl links BoringSSL into every binary that uses it, with each symbol prefixed by
// `CNIOBoringSSL_`; its C target is not a public product, so the one function needed is declared here
// and resolved by the linker against that copy.
#ifndef APUS_CTLSOPTIONS_H
#define APUS_CTLSOPTIONS_H

/// Makes the server choose the TLS 1.2 cipher suite by its own order (SSL_OP_CIPHER_SERVER_PREFERENCE)
/// rather than the client's. `ssl_ctx` is a BoringSSL `SSL_CTX *`.
void apus_tls_prefer_server_ciphers(void *ssl_ctx);

#endif
