import SkiffRuntime
import SkiffSystem

/// skiff: an OCI runtime with runc's command line.
let arguments = CommandLine.arguments
let exitCode = CLI.main(Array(arguments.dropFirst()))
ProcessControl.exit(exitCode)
