import Foundation

/// The words of a script that carry its subject, per language: what hashtags and visual keywords are drawn from.
/// The stop lists (function words, question words, auxiliaries, the verbs of a request such as "explain") and the
/// number words are stated here once; the template writer and the answer reader both use them.
public enum ContentWords {
    static let stopWords: [String: Set<String>] = [
        "en": Set("""
        a an the and or but nor of to in on at by for with about from into onto over under as than then so if \
        is are was were be been being am do does did done doing have has had having can could should would will \
        shall may might must isn aren wasn weren don doesn didn haven hasn hadn cannot couldn shouldn wouldn \
        won why how what who whom whose when where which whether that this these those it its they them their \
        there here you your yours we our us i me my mine he she his her him not no yes very just ever really \
        some any all every each more most much many such own same other another only also out up down off again \
        too quite rather still even s t ll ve re d m let lets explain describe tell show teach talk give list \
        discuss summarize summarise introduce present wonder wondered come comes came go goes went get gets got \
        make makes made see sees saw seen know knows knew think thinks take takes took use used need needs want \
        wants like look looks say says said keep keeps work works worked thing things way ways
        """.split(whereSeparator: \.isWhitespace).map(String.init)),
        "fr": Set("""
        le la les l un une des du de d et ou mais ni donc or car à au aux en dans sur sous par pour avec sans chez \
        entre vers contre ce cet cette ces c ça cela ceci qu que qui quoi quel quelle quels quelles pourquoi \
        comment quand où combien est sont était étaient être été es suis sommes êtes a as ai ont avait avaient \
        avoir eu fait font faire peut peuvent il elle ils elles on nous vous je j tu me m te se s n ne pas plus \
        moins très trop y son sa ses leur leurs mon ma mes ton ta tes notre votre nos vos t si comme tout tous \
        toute toutes bien aussi encore déjà là ici moi toi lui eux explique expliquez expliquer raconte racontez \
        parle parlez décris décrivez dis dites montre montrez présente présentez résume résumez demandé
        """.split(whereSeparator: \.isWhitespace).map(String.init)),
    ]

    static let numberWords: [String: Set<String>] = [
        "en": Set("""
        zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen \
        seventeen eighteen nineteen twenty thirty forty fifty sixty seventy eighty ninety hundred hundreds \
        thousand thousands million millions billion billions first second third fourth fifth half dozen once twice
        """.split(whereSeparator: \.isWhitespace).map(String.init)),
        "fr": Set("""
        zéro un une deux trois quatre cinq six sept huit neuf dix onze douze treize quatorze quinze seize vingt \
        trente quarante cinquante soixante cent cents mille million millions milliard milliards premier première \
        deuxième second seconde troisième quatrième cinquième moitié douzaine fois
        """.split(whereSeparator: \.isWhitespace).map(String.init)),
    ]

    /// Whether `word` (any case) is a stop word or a number word of `language`.
    public static func isStopWord(_ word: String, language: String) -> Bool {
        let w = word.lowercased()
        let lang = language == "fr" ? "fr" : "en"
        return stopWords[lang]!.contains(w) || numberWords[lang]!.contains(w)
    }

    /// Lowercased words of `text` (letters only; apostrophes and hyphens separate words).
    static func words(_ text: String) -> [String] {
        text.lowercased().split(whereSeparator: { !$0.isLetter }).map(String.init)
    }

    /// The content words of `text` in order, each once: at least three letters, not a stop or number word.
    public static func of(_ text: String, language: String) -> [String] {
        var seen = Set<String>()
        return words(text).filter { $0.count >= 3 && !isStopWord($0, language: language) && seen.insert($0).inserted }
    }

    /// At most five hashtags from the content words of `text`: `#word`, lowercased, each once, never empty.
    public static func hashtags(_ text: String, language: String, limit: Int = 5) -> [String] {
        of(text, language: language).prefix(limit).map { "#" + $0 }
    }
}
