import AdaptStage
import Testing
import VideoStage

/// The deterministic adapter, case by case: what a voice must say for what a script writes, in English and French.
@Suite("Adapter tables")
struct AdapterTableTests {
    // BEGIN TABLES
    static let english: [(String, String)] = [
        // Cardinals and thousands separators.
        ("3 hearts", "three hearts"),
        ("Octopuses have 3 hearts.", "Octopuses have three hearts."),
        ("13 species", "thirteen species"),
        ("42 arms", "forty-two arms"),
        ("101 dalmatians", "one hundred one dalmatians"),
        ("It has 1,500 cells.", "It has one thousand five hundred cells."),
        ("1,000,000 stars", "one million stars"),
        ("2,500,000,000 years", "two billion five hundred million years"),
        ("over 1500 species", "over one thousand five hundred species"),
        ("He won. 3 times!", "He won. Three times!"),
        // Ordinals.
        ("1st place", "first place"),
        ("2nd and 3rd", "second and third"),
        ("the 21st century", "the twenty-first century"),
        ("the 11th, 12th and 13th", "the eleventh, twelfth and thirteenth"),
        ("his 100th game", "his one hundredth game"),
        // Decimals and percentages.
        ("3.5 times", "three point five times"),
        ("pi is 3.14", "pi is three point one four"),
        ("25% of people", "twenty-five percent of people"),
        ("25 %", "twenty-five percent"),
        ("3.5% growth", "three point five percent growth"),
        ("-2%", "minus two percent"),
        // Currencies.
        ("$5", "five dollars"),
        ("$1", "one dollar"),
        ("5 $", "five dollars"),
        ("$2.50", "two dollars and fifty cents"),
        ("$0.99", "ninety-nine cents"),
        ("€5", "five euros"),
        ("5€", "five euros"),
        ("£10", "ten pounds"),
        ("$1,500", "one thousand five hundred dollars"),
        ("$1.5 million", "one point five million dollars"),
        ("$10k", "ten thousand dollars"),
        // Years and dates.
        ("in 1999", "in nineteen ninety-nine"),
        ("in 2024", "in twenty twenty-four"),
        ("in 2000", "in two thousand"),
        ("in 1905", "in nineteen oh five"),
        ("in 2005", "in two thousand five"),
        ("in 1066", "in ten sixty-six"),
        ("the 1990s", "the nineteen nineties"),
        ("the '80s", "the eighties"),
        ("1939–1945", "nineteen thirty-nine to nineteen forty-five"),
        ("May 5, 2024", "May fifth, twenty twenty-four"),
        ("2024-05-01", "May first, twenty twenty-four"),
        // Times.
        ("at 3:30 pm", "at three thirty PM"),
        ("at 14:30", "at two thirty PM"),
        ("at 9:05", "at nine oh five"),
        ("at 9:00", "at nine o'clock"),
        ("at 3pm", "at three PM"),
        ("at 10 a.m.", "at ten AM."),
        // Abbreviations.
        ("Dr. Smith", "Doctor Smith"),
        ("Mr. and Mrs. Smith", "Mister and Missus Smith"),
        ("St. Louis", "Saint Louis"),
        ("I live on Baker St.", "I live on Baker Street."),
        ("apples, pears, etc.", "apples, pears, et cetera."),
        ("e.g., apples", "for example, apples"),
        ("i.e., fruit", "that is, fruit"),
        ("cats vs. dogs", "cats versus dogs"),
        ("No. 5", "number five"),
        // Symbols and units.
        ("Tom & Jerry", "Tom and Jerry"),
        ("2 + 2 = 4", "two plus two equals four"),
        ("20°C", "twenty degrees Celsius"),
        ("-5 °C", "minus five degrees Celsius"),
        ("1°C", "one degree Celsius"),
        ("90 km/h", "ninety kilometers per hour"),
        ("5 kg", "five kilograms"),
        ("1 km", "one kilometer"),
        ("45 min", "forty-five minutes"),
        // Fractions, ranges, Roman numerals and the rest.
        ("3/4 of them", "three quarters of them"),
        ("9/10 dentists", "nine out of ten dentists"),
        ("open 24/7", "open twenty-four seven"),
        ("10-20 people", "ten to twenty people"),
        ("10x faster", "ten times faster"),
        ("World War II", "World War Two"),
        ("Louis XIV", "Louis the Fourteenth"),
        ("MP3 files", "MP three files"),
        ("#1 hit", "number one hit"),
        ("version 2.1.3", "version two point one point three"),
        ("a 20-year-old", "a twenty-year-old"),
        ("a 50/50 chance", "a fifty-fifty chance"),
        ("$5/month", "five dollars per month"),
        ("COVID-19", "COVID nineteen"),
        ("call 911", "call nine one one"),
    ]

    static let french: [(String, String)] = [
        // Cardinals (traditional spelling) and thousands separators: space, no-break space, narrow no-break space.
        ("3 cœurs", "trois cœurs"),
        ("21 ans", "vingt et un ans"),
        ("71 ans", "soixante et onze ans"),
        ("80 ans", "quatre-vingts ans"),
        ("81 ans", "quatre-vingt-un ans"),
        ("91 ans", "quatre-vingt-onze ans"),
        ("101 ans", "cent un ans"),
        ("200 ans", "deux cents ans"),
        ("201 ans", "deux cent un ans"),
        ("1 000 ans", "mille ans"),
        ("80 000 ans", "quatre-vingt mille ans"),
        ("200 000 ans", "deux cent mille ans"),
        ("1\u{00A0}500 habitants", "mille cinq cents habitants"),
        ("1 000 000 d'habitants", "un million d'habitants"),
        ("2 000 000 de personnes", "deux millions de personnes"),
        ("Il a gagné. 3 fois !", "Il a gagné. Trois fois !"),
        // Feminine nouns.
        ("1 heure", "une heure"),
        ("21 fois", "vingt et une fois"),
        ("1 personne", "une personne"),
        // Ordinals, with Roman numerals.
        ("le 1er jour", "le premier jour"),
        ("la 1re fois", "la première fois"),
        ("la 1ère fois", "la première fois"),
        ("le 2e jour", "le deuxième jour"),
        ("le 2ème étage", "le deuxième étage"),
        ("la 2nde guerre", "la seconde guerre"),
        ("le 21e siècle", "le vingt et unième siècle"),
        ("le 80e anniversaire", "le quatre-vingtième anniversaire"),
        ("XIXe siècle", "dix-neuvième siècle"),
        ("le XXIe siècle", "le vingt et unième siècle"),
        ("la Ve République", "la cinquième République"),
        ("François Ier", "François premier"),
        ("Louis XIV", "Louis quatorze"),
        ("Henri IV", "Henri quatre"),
        // Decimals and percentages.
        ("3,5", "trois virgule cinq"),
        ("3,14", "trois virgule quatorze"),
        ("0,5", "zéro virgule cinq"),
        ("3,05", "trois virgule zéro cinq"),
        ("25 %", "vingt-cinq pour cent"),
        ("25%", "vingt-cinq pour cent"),
        ("25\u{202F}%", "vingt-cinq pour cent"),
        ("3,5 %", "trois virgule cinq pour cent"),
        // Currencies.
        ("1 500 €", "mille cinq cents euros"),
        ("1\u{202F}500 €", "mille cinq cents euros"),
        ("5 $", "cinq dollars"),
        ("$5", "cinq dollars"),
        ("5€", "cinq euros"),
        ("€5", "cinq euros"),
        ("2,50 €", "deux euros cinquante"),
        ("1 €", "un euro"),
        ("0,99 €", "quatre-vingt-dix-neuf centimes"),
        ("10 £", "dix livres"),
        ("1 £", "une livre"),
        ("1 000 000 €", "un million d'euros"),
        ("5 M€", "cinq millions d'euros"),
        // Years and dates: read as numbers.
        ("en 1999", "en mille neuf cent quatre-vingt-dix-neuf"),
        ("en 2024", "en deux mille vingt-quatre"),
        ("en 2000", "en deux mille"),
        ("en 1905", "en mille neuf cent cinq"),
        ("le 14 juillet 1789", "le quatorze juillet mille sept cent quatre-vingt-neuf"),
        ("le 1er mai", "le premier mai"),
        ("les années 80", "les années quatre-vingt"),
        // Times.
        ("à 14h30", "à quatorze heures trente"),
        ("à 14:30", "à quatorze heures trente"),
        ("à 14 h 30", "à quatorze heures trente"),
        ("à 9h", "à neuf heures"),
        ("à 1h", "à une heure"),
        ("à 21h", "à vingt et une heures"),
        ("de 9h à 17h", "de neuf heures à dix-sept heures"),
        // Abbreviations.
        ("Bonjour M. Dupont.", "Bonjour monsieur Dupont."),
        ("Mme Curie est née en 1867.", "Madame Curie est née en mille huit cent soixante-sept."),
        ("le Dr Martin", "le docteur Martin"),
        ("pommes, poires, etc.", "pommes, poires, et cetera."),
        ("le n° 5", "le numéro cinq"),
        ("p. ex. ceci", "par exemple ceci"),
        ("en 50 av. J.-C.", "en cinquante avant Jésus-Christ."),
        ("St-Étienne", "Saint-Étienne"),
        // Symbols and units.
        ("Tom & Jerry", "Tom et Jerry"),
        ("2 + 2 = 4", "deux plus deux égale quatre"),
        ("20 °C", "vingt degrés Celsius"),
        ("-5 °C", "moins cinq degrés Celsius"),
        ("1 °C", "un degré Celsius"),
        ("90 km/h", "quatre-vingt-dix kilomètres par heure"),
        ("5 kg", "cinq kilogrammes"),
        ("10 km", "dix kilomètres"),
        ("45 min", "quarante-cinq minutes"),
        ("1,80 m", "un mètre quatre-vingts"),
        ("9,99 €/mois", "neuf euros quatre-vingt-dix-neuf par mois"),
        ("1 chienne", "une chienne"),
        ("le 25/12", "le vingt-cinq décembre"),
        ("le Covid-19", "le Covid dix-neuf"),
        // Fractions, ranges and the rest.
        ("1/2", "un demi"),
        ("3/4", "trois quarts"),
        ("9/10", "neuf sur dix"),
        ("10-20", "dix à vingt"),
        ("3x plus", "trois fois plus"),
        ("Bonjour ! Ça va ?", "Bonjour ! Ça va ?"),
    ]

    /// Markdown, emojis and web addresses, in both languages.
    static let cleanup: [(String, String, String)] = [
        ("en", "**Bold** and _italic_", "Bold and italic"),
        ("en", "# Octopus facts\nThey have 3 hearts.", "Octopus facts.\n\nThey have three hearts."),
        ("en", "- eggs\n- milk", "eggs.\n\nmilk."),
        ("en", "1. Mix\n2. Bake", "Mix.\n\nBake."),
        ("en", "> A quote\n\n---\n\nThe end.", "A quote\n\nThe end."),
        ("en", "Use `reelforge make` now", "Use reelforge make now"),
        ("en", "Great news 🎉🐙!", "Great news!"),
        ("en", "Love ❤️ it 👍🏽 🇫🇷", "Love it"),
        ("en", "Visit https://www.example.com/page?x=1 for more.", "Visit example dot com for more."),
        ("en", "Read [the docs](https://example.com/docs) now.", "Read the docs now."),
        ("en", "Write to hello@reelforge.dev today.", "Write to hello at reelforge dot dev today."),
        ("fr", "**Gras** et _italique_", "Gras et italique"),
        ("fr", "# Les pieuvres\nElles ont 3 cœurs.", "Les pieuvres.\n\nElles ont trois cœurs."),
        ("fr", "- œufs\n- lait", "œufs.\n\nlait."),
        ("fr", "Super 🎉 !", "Super !"),
        ("fr", "Voir https://www.exemple.fr/page pour plus.", "Voir exemple point fr pour plus."),
        ("fr", "Lisez [la doc](https://exemple.fr/doc).", "Lisez la doc."),
        ("fr", "Écrivez à contact@reelforge.fr.", "Écrivez à contact arobase reelforge point fr."),
    ]
    // END TABLES

    @Test(arguments: english)
    func englishIsSpeakable(_ input: String, _ expected: String) {
        #expect(RuleBasedAdapter().adapt(input, language: "en").text == expected)
    }

    @Test(arguments: french)
    func frenchIsSpeakable(_ input: String, _ expected: String) {
        #expect(RuleBasedAdapter().adapt(input, language: "fr").text == expected)
    }

    @Test(arguments: cleanup)
    func markdownEmojisAndAddressesAreNotRead(_ language: String, _ input: String, _ expected: String) {
        let text = RuleBasedAdapter().adapt(input, language: language).text
        #expect(text == expected)
        #expect(!text.contains { "*_#`[]()".contains($0) } && !text.contains("http") && !text.contains("@"))
        #expect(!text.unicodeScalars.contains { $0.properties.isEmojiPresentation })
    }

    @Test func tablesAreLargeEnough() {
        #expect(Self.english.count >= 45 && Self.french.count >= 45)
    }

    /// The audio stage adapts the stored text again for another pause style: adapting adapted text changes nothing.
    @Test func adaptingTwiceChangesNothing() {
        for (language, table) in [("en", Self.english), ("fr", Self.french)] {
            for (input, _) in table + Self.cleanup.filter({ $0.0 == language }).map({ ($0.1, $0.2) }) {
                let once = RuleBasedAdapter().adapt(input, language: language).text
                #expect(RuleBasedAdapter().adapt(once, language: language).text == once, "\(input)")
            }
        }
    }

    @Test func numberWordsFollowOneFrenchSpelling() {
        #expect(NumberWords.french(80) == "quatre-vingts" && NumberWords.french(84) == "quatre-vingt-quatre")
        #expect(NumberWords.french(300) == "trois cents" && NumberWords.french(310) == "trois cent dix")
        #expect(NumberWords.french(21_000) == "vingt et un mille" && NumberWords.french(2_000_000) == "deux millions")
        #expect(NumberWords.frenchOrdinal(80) == "quatre-vingtième" && NumberWords.frenchOrdinal(200) == "deux centième")
        #expect(NumberWords.frenchOrdinal(9) == "neuvième" && NumberWords.frenchOrdinal(5) == "cinquième")
        #expect(NumberWords.englishOrdinal(42) == "forty-second" && NumberWords.englishYear(2024) == "twenty twenty-four")
    }

    // MARK: Pauses

    static let paragraphs = "Octopuses have 3 hearts.\n\nThey are 500 million years old."

    @Test func punctuationKeepsPlainText() {
        let a = RuleBasedAdapter(pauseStyle: .punctuation).adapt(Self.paragraphs, language: "en")
        #expect(a.text == "Octopuses have three hearts.\n\nThey are five hundred million years old.")
        #expect(a.speechText == a.text)
        #expect(!a.speechText.contains("<"))
    }

    @Test func elevenLabsBreaksBetweenParagraphs() {
        let a = RuleBasedAdapter(pauseStyle: .elevenlabs).adapt(Self.paragraphs, language: "en")
        #expect(a.speechText == "Octopuses have three hearts. <break time=\"0.4s\"/> They are five hundred million years old.")
        #expect(a.text == "Octopuses have three hearts.\n\nThey are five hundred million years old.")
    }

    // MARK: Cues

    static let cueTexts: [(String, String)] = [
        ("en", "Octopuses have 3 hearts. Two pump blood to the gills, and one to the body. Their blood is blue, because it carries copper instead of iron! Isn't that strange? They can taste with their arms, which hold about 500 million neurons in total."),
        ("fr", "Les pieuvres ont 3 cœurs. Deux envoient le sang aux branchies, et un au corps. Leur sang est bleu, car il transporte du cuivre au lieu du fer ! Étrange, non ? Elles goûtent avec leurs bras, qui portent environ 500 millions de neurones au total."),
        ("en", "Supercalifragilisticexpialidocious is a long word... and antidisestablishmentarianism is longer; both fit somewhere."),
    ]

    @Test(arguments: cueTexts, [12, 20, 32, 42])
    func cuesHoldTwoLinesThatFitAndKeepEveryWord(_ sample: (String, String), _ width: Int) {
        let adapter = RuleBasedAdapter(maxCharactersPerLine: width)
        let adapted = adapter.adapt(sample.1, language: sample.0)
        let cues = adapted.cues
        #expect(!cues.isEmpty)
        #expect(cues.map(\.index) == Array(1...cues.count))
        for cue in cues {
            #expect((1...2).contains(cue.lines.count), "\(cue)")
            #expect(cue.lines.joined(separator: " ") == cue.text)
            for line in cue.lines { #expect(line.count <= width || !line.contains(" "), "\(line)") }
        }
        let words = adapted.text.split(whereSeparator: \.isWhitespace).map(String.init)
        #expect(cues.flatMap { $0.text.split(whereSeparator: \.isWhitespace).map(String.init) } == words)
    }

    @Test func cuesSplitAtSentencesThenPhrases() {
        let cues = RuleBasedAdapter(maxCharactersPerLine: 32).adapt(
            "Octopuses have 3 hearts. Two pump blood to the gills, and one to the body.", language: "en").cues
        #expect(cues.map(\.text) == ["Octopuses have three hearts.", "Two pump blood to the gills, and one to the body."])
        #expect(cues[1].lines == ["Two pump blood to the gills,", "and one to the body."])
        let narrow = RuleBasedAdapter(maxCharactersPerLine: 16).adapt(
            "Octopuses have 3 hearts. Two pump blood to the gills, and one to the body.", language: "en").cues
        #expect(narrow.map(\.text) == ["Octopuses have three hearts.", "Two pump blood to the gills,", "and one to the body."])
    }

    /// A sentence just too long for two lines is cut in halves, not into two lines and a lone last word (as the
    /// template script's "… than anyone expected." was).
    @Test func aSentenceTooLongForTwoLinesIsCutInHalvesNotALoneWord() {
        let cues = RuleBasedAdapter(maxCharactersPerLine: 32).adapt(
            "Small differences turn out to matter more than anyone expected.", language: "en").cues
        #expect(cues.map(\.text) == ["Small differences turn out to", "matter more than anyone expected."])
        #expect(cues[1].lines == ["matter more than", "anyone expected."])
        for text in Self.cueTexts.map(\.1) {
            for width in [12, 20, 32, 42] {
                let lone = RuleBasedAdapter(maxCharactersPerLine: width).adapt(text, language: "en").cues.filter { cue in
                    !cue.text.contains(" ") && cue.text.count < width / 2 && cue.text.last.map { ".!?".contains($0) } == true
                }
                #expect(lone.isEmpty, "width \(width): \(lone.map(\.text))")
            }
        }
    }
}
