// The shared test fixtures (dnsmasq, NSD, the SMTP TestClient) live in Sources/TestSupport.
@_exported import TestSupport
