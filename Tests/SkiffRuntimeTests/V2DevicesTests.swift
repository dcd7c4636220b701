import Testing
import SkiffSpec
@testable import SkiffRuntime

@Suite struct V2DevicesTests {
    /// Decodes the program back into (opcode, dst, src, off, imm) tuples.
    func decode(_ bytes: [UInt8]) -> [(op: UInt8, dst: UInt8, src: UInt8, off: Int16, imm: Int32)] {
        stride(from: 0, to: bytes.count, by: 8).map { i in
            let off = Int16(bitPattern: UInt16(bytes[i + 2]) | UInt16(bytes[i + 3]) << 8)
            let imm = Int32(bitPattern: UInt32(bytes[i + 4]) | UInt32(bytes[i + 5]) << 8 | UInt32(bytes[i + 6]) << 16 | UInt32(bytes[i + 7]) << 24)
            return (bytes[i], bytes[i + 1] & 0xf, bytes[i + 1] >> 4, off, imm)
        }
    }

    @Test func endsWithDefaultDenyAndChecksRulesLastFirst() throws {
        let program = try V2Devices.program([LinuxDeviceCgroup(allow: true, type: "c", major: 10, minor: 229, access: "rw")])
        let insns = decode(program)
        #expect(program.count % 8 == 0)
        // default deny: mov r0, 0; exit
        #expect(insns[insns.count - 2].op == 0xb7 && insns[insns.count - 2].imm == 0)
        #expect(insns.last?.op == 0x95)
        // The first rule checked is the last default (c 10:200 rwm): type char, major 10, minor 200.
        #expect(insns[6].op == 0x55 && insns[6].dst == 2 && insns[6].imm == 2)
        #expect(insns[7].op == 0x55 && insns[7].dst == 4 && insns[7].imm == 10)
        #expect(insns[8].op == 0x55 && insns[8].dst == 5 && insns[8].imm == 200)
        #expect(insns[9].op == 0xb7 && insns[9].imm == 1)
        // Every jump lands inside the program.
        for (i, ins) in insns.enumerated() where ins.op == 0x55 || ins.op == 0x15 {
            #expect(i + 1 + Int(ins.off) < insns.count)
        }
    }

    @Test func unconditionalRuleEndsTheProgram() throws {
        // "allow a" last in the list overrides everything before it.
        let insns = decode(try V2Devices.program([LinuxDeviceCgroup(allow: true, access: "rwm")]))
        #expect(insns[insns.count - 2].op == 0xb7 && insns[insns.count - 2].imm == 1, "ends allowing")
        #expect(insns.last?.op == 0x95)
        // Nothing after the unconditional verdict: no default deny appended.
        #expect(!insns.dropLast(2).suffix(1).contains { $0.op == 0xb7 && $0.imm == 0 })
    }

    @Test func partialDenyMatchesAnyRequestedBit() throws {
        let insns = decode(try V2Devices.program([LinuxDeviceCgroup(allow: false, type: "c", major: 1, minor: 3, access: "w")]))
        // Somewhere: and32 r1, 4 (write) followed by jeq r1, 0 and a deny verdict.
        let found = insns.indices.dropLast(2).contains { i in
            insns[i].op == 0x54 && insns[i].imm == 4 && insns[i + 1].op == 0x15 && insns[i + 2].op == 0xb7 && insns[i + 2].imm == 0
        }
        #expect(found)
    }

    @Test func rejectsUnknownAccess() {
        #expect(throws: CgroupPlanError.self) {
            _ = try V2Devices.program([LinuxDeviceCgroup(allow: true, type: "c", major: 1, minor: 3, access: "x")])
        }
    }
}
