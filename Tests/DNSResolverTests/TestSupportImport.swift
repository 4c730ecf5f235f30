// The shared test fixtures (a real dnsmasq on loopback) live in Sources/TestSupport.
@_exported import TestSupport
