import Foundation
import WorkerRuntime

// Wiring only: everything else lives in the WorkerRuntime, Shared and Stages libraries.
ProcessSetup.ignoreBrokenPipes()
exit(await WorkerMain.run(name: "ScriptWorker", stages: [.script, .adapt]))
