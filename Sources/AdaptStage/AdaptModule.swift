import Shared

extension StageModule {
    /// The adapt stage: the rule-based adapter, writing the pause marks of the configured speech provider.
    public static let adapt = StageModule(
        stage: .adapt,
        variables: [(SpeechProvider.variable, "the speech provider (see the audio stage): the adapted text carries its pause marks")]
    ) { settings in
        let style = try SpeechProvider.configured(settings).pauseStyle
        return Built(executor: AdaptStageExecutor(adapter: RuleBasedAdapter(pauseStyle: style)), summary: "adapt=rules pauses=\(style.rawValue)")
    }
}
