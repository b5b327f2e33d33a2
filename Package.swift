// swift-tools-version:6.0
import PackageDescription

let magickIncludes = ["/usr/include/ImageMagick-6", "/usr/include/x86_64-linux-gnu/ImageMagick-6",
                      "/usr/include/aarch64-linux-gnu/ImageMagick-6"].map { "-I" + $0 }

let package = Package(
    name: "ReelForge",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "reelforge", targets: ["reelforge"]),
        .executable(name: "ScriptWorker", targets: ["ScriptWorker"]),
        .executable(name: "AudioWorker", targets: ["AudioWorker"]),
        .executable(name: "VideoWorker", targets: ["VideoWorker"]),
        .library(name: "Shared", targets: ["Shared"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        // The probes' HTTP server (/healthz, /readyz, /metrics); the coming HTTP API will use it too.
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        // SHA-256 and HMAC for the API (token digests, idempotency keys, webhook signatures).
        .package(url: "https://github.com/apple/swift-crypto", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        // The MCP server of `reelforge mcp` (tools for AI agents, over stdio).
        .package(url: "https://github.com/modelcontextprotocol/swift-sdk.git", from: "0.12.1"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        // Metrics: the libraries emit through swift-metrics; the executables expose them with swift-prometheus.
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        // Spans for stage runs, store calls, publishes and provider calls; the W3C trace context (traceparent,
        // tracestate) travels in the messages' headers. See docs/tracing.md.
        .package(url: "https://github.com/apple/swift-distributed-tracing", from: "1.7.3"),
        .package(url: "https://github.com/swift-otel/swift-w3c-trace-context", from: "1.0.0"),
    ],
    targets: [
        // C libraries from Debian, each behind a thin module with a shim header.
        .systemLibrary(name: "CRabbitMQ", pkgConfig: "librabbitmq", providers: [.apt(["librabbitmq-dev"])]),
        .systemLibrary(name: "CMongoC", pkgConfig: "libmongoc-1.0", providers: [.apt(["libmongoc-dev"])]),
        .systemLibrary(name: "CEspeak", pkgConfig: "espeak-ng", providers: [.apt(["libespeak-ng-dev"])]),
        // MagickWand's pkg-config flags carry -D and -fopenmp, which SwiftPM refuses for system libraries: the
        // macros are defined in the shim and the include folders given here (amd64 and arm64 Debian layouts).
        .target(
            name: "CMagickWand",
            cSettings: [.unsafeFlags(magickIncludes)],
            linkerSettings: [.linkedLibrary("MagickWand-6.Q16"), .linkedLibrary("MagickCore-6.Q16")]),
        // sherpa-onnx's C API and ONNX Runtime: from PyPI (sherpa-onnx-core), installed with a pkg-config file by
        // deploy/neural-voice.sh (scripts/install and the image's build stage); they run the Piper voice.
        .systemLibrary(name: "CSherpaOnnx", pkgConfig: "sherpa-onnx-c-api"),
        .systemLibrary(name: "CFontconfig", pkgConfig: "fontconfig", providers: [.apt(["libfontconfig-dev"])]),
        .systemLibrary(name: "CSQLite", pkgConfig: "sqlite3", providers: [.apt(["libsqlite3-dev"])]),
        .systemLibrary(
            name: "CFFmpeg", pkgConfig: "libavformat libavcodec libswscale libswresample libavutil",
            providers: [.apt(["libavformat-dev", "libavcodec-dev", "libswscale-dev", "libswresample-dev"])]),

        // Domain, ports, the shared StageRunner and in-memory backends. Imports no C module.
        .target(name: "Shared", dependencies: [.product(name: "Logging", package: "swift-log"),
                                              .product(name: "Tracing", package: "swift-distributed-tracing"),
                                              .product(name: "W3CTraceContext", package: "swift-w3c-trace-context")]),

        // The runner's events and the executors' provider work as swift-metrics counters, timers and gauges.
        // Outside Shared so that the domain (and scripts/fuzz, which compiles it alone) needs no metrics package.
        .target(name: "StageMetrics", dependencies: ["Shared", .product(name: "Metrics", package: "swift-metrics")]),

        // Backends: thin Swift over the C libraries, each implementing a port of Shared.
        .target(name: "RabbitMQBroker", dependencies: ["Shared", "CRabbitMQ"]),
        .target(name: "MongoStore", dependencies: ["Shared", "CMongoC", .product(name: "Logging", package: "swift-log")]),
        .target(name: "EmbeddedStore", dependencies: ["Shared", "CSQLite"]),

        // Thin Swift over C libraries more than one stage uses: the providers' HTTP client (URLSession, libcurl)
        // and the ffmpeg calls of the audio and video stages.
        .target(name: "ProviderClient", dependencies: ["Shared", .product(name: "Tracing", package: "swift-distributed-tracing")]),
        .target(name: "LibAV", dependencies: ["CFFmpeg"]),

        // One library per stage: its executor, its providers and its settings (a StageModule). A worker links the
        // libraries of its stages only: the ScriptWorker no ffmpeg, MagickWand or espeak-ng.
        .target(name: "ScriptStage", dependencies: ["Shared", "ProviderClient"]),
        .target(name: "AdaptStage", dependencies: ["Shared"]),
        .target(name: "AudioStage", dependencies: ["Shared", "AdaptStage", "ProviderClient", "LibAV", "CEspeak", "CFFmpeg", "CSherpaOnnx"]),
        .target(name: "VideoStage", dependencies: ["Shared", "ProviderClient", "LibAV", "CFFmpeg", "CMagickWand", "CFontconfig"],
                swiftSettings: [.unsafeFlags(magickIncludes.flatMap { ["-Xcc", $0] })]),

        // Wiring shared by the three workers and the CLI.
        .target(
            name: "WorkerRuntime",
            dependencies: ["Shared", "RabbitMQBroker", "MongoStore", "EmbeddedStore", "StageMetrics",
                           .product(name: "Logging", package: "swift-log"),
                           .product(name: "Hummingbird", package: "hummingbird"),
                           .product(name: "NIOCore", package: "swift-nio"),
                           .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                           .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                           .product(name: "Metrics", package: "swift-metrics"),
                           .product(name: "Prometheus", package: "swift-prometheus"),
                           .product(name: "Tracing", package: "swift-distributed-tracing")]),

        // The HTTP API and the dashboard (`reelforge serve`): routes over Operations and the ports, no stage.
        .target(
            name: "ApiServer",
            dependencies: ["Shared",
                           .product(name: "Logging", package: "swift-log"),
                           .product(name: "Hummingbird", package: "hummingbird"),
                           .product(name: "NIOCore", package: "swift-nio"),
                           .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                           .product(name: "Crypto", package: "swift-crypto"),
                           .product(name: "HTTPTypes", package: "swift-http-types"),
                           .product(name: "MCP", package: "swift-sdk")]),

        .executableTarget(name: "ScriptWorker", dependencies: ["WorkerRuntime", "ScriptStage", "AdaptStage",
                                                               .product(name: "Metrics", package: "swift-metrics")]),
        .executableTarget(name: "AudioWorker", dependencies: ["WorkerRuntime", "AudioStage", .product(name: "Metrics", package: "swift-metrics")]),
        .executableTarget(name: "VideoWorker", dependencies: ["WorkerRuntime", "VideoStage", .product(name: "Metrics", package: "swift-metrics")]),
        .executableTarget(
            name: "reelforge",
            dependencies: ["WorkerRuntime", "ApiServer", "ScriptStage", "AdaptStage", "AudioStage", "VideoStage",
                           .product(name: "ArgumentParser", package: "swift-argument-parser"),
                           .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                           .product(name: "UnixSignals", package: "swift-service-lifecycle")]),

        // Test support shared by the test targets: counting executors, waiting helpers.
        .target(name: "ReelForgeTestKit", dependencies: ["Shared", .product(name: "Logging", package: "swift-log"),
                                                        .product(name: "Tracing", package: "swift-distributed-tracing")]),

        .testTarget(name: "SharedTests", dependencies: ["Shared", "StageMetrics", "ReelForgeTestKit",
                                                        .product(name: "MetricsTestKit", package: "swift-metrics")]),
        .testTarget(
            name: "IntegrationTests",
            dependencies: ["Shared", "RabbitMQBroker", "MongoStore", "EmbeddedStore", "ScriptStage", "AdaptStage", "AudioStage",
                           "VideoStage", "WorkerRuntime", "StageMetrics", "ProviderClient", "ApiServer",
                           .product(name: "Hummingbird", package: "hummingbird"), .product(name: "Crypto", package: "swift-crypto"),
                           "ReelForgeTestKit", .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                           .product(name: "Tracing", package: "swift-distributed-tracing"),
                           .product(name: "W3CTraceContext", package: "swift-w3c-trace-context")]),
    ],
    swiftLanguageModes: [.v6]
)
