import Testing
@testable import SkiffRuntime

@Suite struct StatusTests {
    @Test func derivesRuncStatuses() {
        #expect(ContainerStatus.derive(initAlive: false, execFifoExists: true, frozen: true) == .stopped)
        #expect(ContainerStatus.derive(initAlive: true, execFifoExists: true, frozen: false) == .created)
        #expect(ContainerStatus.derive(initAlive: true, execFifoExists: false, frozen: false) == .running)
        #expect(ContainerStatus.derive(initAlive: true, execFifoExists: false, frozen: true) == .paused)
    }

    @Test func startErrorsMatchRunc() {
        #expect(ContainerStatus.created.startError == nil)
        #expect(ContainerStatus.stopped.startError == "cannot start a container that has stopped")
        #expect(ContainerStatus.running.startError == "cannot start an already running container")
        #expect(ContainerStatus.paused.startError == "cannot start a container in the paused state")
    }

    @Test func containerIDRules() throws {
        try ContainerID.validate("abc-DEF_1.2+3")
        for bad in ["", ".", "..", "a/b", "a b", "x\u{0}"] {
            #expect(throws: RuntimeError.self) { try ContainerID.validate(bad) }
        }
    }
}
