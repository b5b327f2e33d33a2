/// The speech providers REELFORGE_TTS_PROVIDER names, and the pause marks each one reads. The adapt stage writes
/// the configured provider's marks; the audio stage speaks with that provider.
public enum SpeechProvider: String, Sendable, CaseIterable {
    /// The default: the Piper voice for English when it is installed, espeak-ng for the other languages (and for
    /// English without it).
    case offline
    case piper, espeak, elevenlabs, openai

    public static let variable = "REELFORGE_TTS_PROVIDER"

    public var pauseStyle: PauseStyle { self == .elevenlabs ? .elevenlabs : .punctuation }

    /// The provider the settings name (`offline` when unset).
    public static func configured(_ settings: SettingsReader) throws -> SpeechProvider {
        let known = allCases.filter { $0 != .offline }.map(\.rawValue)
        return try settings.provider(variable, offline: Self.offline.rawValue, known: known).flatMap(Self.init) ?? .offline
    }
}
