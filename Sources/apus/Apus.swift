import CLI
@main struct Main { static func main() async { await ApusCommand.main() } }
