import Foundation
import GRDB

extension SQLiteMailStore: TLSReportStore {
    static func createTLSResultTable(_ db: Database) throws {
        try db.execute(sql: """
            CREATE TABLE tls_result (
                day TEXT NOT NULL, policy_domain TEXT NOT NULL, policy_type TEXT NOT NULL,
                policy_strings TEXT NOT NULL, mx_hosts TEXT NOT NULL, result_type TEXT NOT NULL,
                sending_ip TEXT NOT NULL, receiving_mx TEXT NOT NULL, receiving_ip TEXT NOT NULL,
                count INTEGER NOT NULL,
                PRIMARY KEY (day, policy_domain, policy_type, policy_strings, mx_hosts, result_type, sending_ip,
                             receiving_mx, receiving_ip));
            """)
    }

    public func addTLSResults(_ rows: [TLSResultRow]) async throws {
        guard !rows.isEmpty else { return }
        try await pool.write { db in
            for row in rows {
                try db.execute(sql: """
                    INSERT INTO tls_result (day, policy_domain, policy_type, policy_strings, mx_hosts, result_type,
                        sending_ip, receiving_mx, receiving_ip, count) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT (day, policy_domain, policy_type, policy_strings, mx_hosts, result_type, sending_ip,
                        receiving_mx, receiving_ip) DO UPDATE SET count = count + excluded.count
                    """, arguments: [row.day, row.policyDomain, row.policyType, Self.encodeList(row.policyStrings),
                                     Self.encodeList(row.mxHosts), row.resultType, row.sendingIP, row.receivingMX,
                                     row.receivingIP, row.count])
            }
        }
    }

    public func tlsResults(through day: String) async throws -> [TLSResultRow] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM tls_result WHERE day <= ? ORDER BY day, policy_domain, rowid",
                             arguments: [day]).map { row in
                TLSResultRow(day: row["day"], policyDomain: row["policy_domain"], policyType: row["policy_type"],
                             policyStrings: Self.decodeList(row["policy_strings"]), mxHosts: Self.decodeList(row["mx_hosts"]),
                             resultType: row["result_type"], sendingIP: row["sending_ip"], receivingMX: row["receiving_mx"],
                             receivingIP: row["receiving_ip"], count: row["count"])
            }
        }
    }

    public func removeTLSResults(day: String, policyDomain: String) async throws {
        try await pool.write { db in
            try db.execute(sql: "DELETE FROM tls_result WHERE day = ? AND policy_domain = ?", arguments: [day, policyDomain])
        }
    }

    static func encodeList(_ list: [String]) -> String {
        String(decoding: (try? JSONEncoder().encode(list)) ?? Data("[]".utf8), as: UTF8.self)
    }

    static func decodeList(_ text: String) -> [String] {
        (try? JSONDecoder().decode([String].self, from: Data(text.utf8))) ?? []
    }
}
