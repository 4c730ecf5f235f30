// Directory: the local domains and their users (DESIGN.md §3).
//
// A directory under `<config>/domains/` makes that domain local; its name (lowercased) is the domain.
// `domains/<domain>/users` lists the domain's users, one a line:
//
//     # comment
//     alice   $scrypt$ln=15,r=8,p=1$<salt-b64>$<hash-b64>
//
// The password hash is an scrypt PHC string (see `PasswordHash`). Blank lines and lines starting with `#`
// are ignored; any other malformed line is an error `PATH:LINE: reason`.
//
// `domains/<domain>/aliases` maps names to other addresses and commands (see `AliasesFile` for the syntax,
// `MailDirectory.resolve` for the lookup order); SRS addresses are made and checked by `SRS`.
//
// `domains/<domain>/api-keys` holds the send API's keys, hashed (see `APIKeysFile` for the syntax,
// `APIKeySecret` for the key itself); `APIKeyFileEditor` edits it for `apus key create|revoke`.
//
// `MailDirectory` is an immutable snapshot of all of it, loaded at start and on reload; it answers "is this
// domain local", "which user does this local part reach", and checks passwords. `UserFileEditor` changes a
// users file atomically for `apus user add|remove|passwd`, keeping comments and other lines as they are.
