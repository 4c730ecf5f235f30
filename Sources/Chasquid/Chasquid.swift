/// Reading a chasquid installation, for `apus import chasquid` (docs/migrate.md).
///
/// chasquid keeps everything in plain files: `chasquid.conf` (settings), `domains/<d>/users` (scrypt
/// password hashes), `domains/<d>/aliases` (the same syntax Apus reads), `domains/<d>/dkim:<selector>.pem`
/// (chasquid 1.14+), `certs/<name>/` and, under its data directory, `queue/m:<id>` (one message each).
/// Three of them are protobuf text format, read by `ProtoText` into fields with line numbers; the typed
/// readers (`ChasquidConfig`, `ChasquidUserDB`, `ChasquidQueueItem`) check the schema and say which line is
/// wrong. The `+Apus` extensions turn each into its Apus form plus `ImportNote`s for what has no equivalent.
/// Everything here is pure: the CLI reads the files and writes the results.
public enum Chasquid {
    /// The chasquid version whose files these readers were checked against (Debian 12's package), and the
    /// first version that keeps DKIM keys as `dkim:<selector>.pem`.
    public static let testedVersion = "1.11"
    public static let dkimKeysSince = "1.14"
}
