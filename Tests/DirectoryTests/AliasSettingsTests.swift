import Testing
import Directory

@Suite struct AliasSettingsTests {
    @Test(arguments: [
        ("jdoe", "jdoe"),
        ("J.Doe", "jdoe"),
        ("j.doe+news", "jdoe"),
        ("j.doe+news.letters+x", "jdoe"),  // suffix first: dots after "+" go with it
        ("+tag", ""),
        ("ÄLICE", "älice"),
    ])
    func normalizesWithDefaults(localPart: String, expected: String) {
        #expect(AliasSettings().normalize(localPart: localPart) == expected)
    }

    @Test func customSettings() {
        let settings = AliasSettings(dropCharacters: "._", suffixSeparators: "-+")
        #expect(settings.normalize(localPart: "j_d.oe-x+y") == "jdoe")
        let none = AliasSettings(dropCharacters: "", suffixSeparators: "")
        #expect(none.normalize(localPart: "J.Doe+x") == "j.doe+x")
    }
}
