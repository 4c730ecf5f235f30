import Crypto
import Foundation

/// The ACME account key: P-256, PKCS#8 PEM in `<data_dir>/state/acme/account.pem` (mode 0600), made
/// on first use. Losing it only means a new account at the CA.
enum AccountKey {
    static func loadOrCreate(directory: String) throws -> P256.Signing.PrivateKey {
        let path = "\(directory)/account.pem"
        if let data = FileManager.default.contents(atPath: path) {
            do {
                return try P256.Signing.PrivateKey(pemRepresentation: String(decoding: data, as: UTF8.self))
            } catch {
                throw ACMEError("\(path): not a P-256 private key (\(error)); remove it to create a new ACME account")
            }
        }
        let key = P256.Signing.PrivateKey()
        try FileWriter.replace(path, contents: Array(key.pemRepresentation.utf8), mode: 0o600)
        return key
    }
}
