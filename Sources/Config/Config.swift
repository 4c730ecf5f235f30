// Config: the schema of `apus.toml` (DESIGN.md §3), its defaults, validation and rendering.
//
// `apus.toml` is read with a small parser for the part of TOML that Apus uses (`TOMLDocument`):
// comments, `[table]` headers, `key = value` with strings, integers, booleans and arrays. Everything else
// (floats, dates, inline tables, multi-line strings, arrays of tables) is refused with a message.
//
// Every error is a `ConfigError` whose text reads `PATH:LINE: reason` and names the key, so an operator can
// go straight to the line:
//
//     /etc/apus/apus.toml:12: unknown key "max_recipient" in [limits] (did you mean "max_recipients"?)
//
// `ApusConfig.render()` writes a complete, commented file (every key, what it does, its default);
// `apus init` and `apus dev` use it, and `parse(render(c)) == c` for every valid configuration.
