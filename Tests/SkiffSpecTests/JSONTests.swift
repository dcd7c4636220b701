import Testing
@testable import SkiffSpec

@Suite("JSON parser and writer")
struct JSONTests {
    private func parse(_ text: String) throws -> JSONValue { try JSONValue.parse(text) }

    @Test func parsesEveryValueKindAndKeepsKeyOrder() throws {
        let value = try parse(#" { "z": null, "b": true, "a": false, "n": -12.5e-1, "s": "x", "arr": [1, [], {}], "o": {"k": "v"} } "#)
        guard case .object(let object) = value else {
            Issue.record("expected an object, got \(value)")
            return
        }
        #expect(object.keys == ["z", "b", "a", "n", "s", "arr", "o"])
        #expect(object["z"] == .null)
        #expect(object["b"] == .bool(true))
        #expect(object["a"] == .bool(false))
        #expect(object["n"]?.numberValue?.doubleValue == -1.25)
        #expect(object["s"] == .string("x"))
        #expect(object["arr"] == [1, [], [:]])
        #expect(value["o"]?["k"] == "v")
        #expect(object["missing"] == nil)
    }

    @Test func decodesEveryEscape() throws {
        let value = try parse(#""q\"b\\s\/b\bf\fn\nr\rt\t\u0041\u00e9\u20AC""#)
        #expect(value == .string("q\"b\\s/b\u{8}f\u{C}n\nr\rt\tAé€"))
    }

    @Test func decodesSurrogatePairsAndReplacesLoneSurrogates() throws {
        #expect(try parse(#""\ud83d\ude00""#) == .string("😀"))
        #expect(try parse(#""a\ud83db""#) == .string("a\u{FFFD}b"))
        #expect(try parse(#""\ude00""#) == .string("\u{FFFD}"))
        // A high surrogate followed by a non-surrogate escape keeps the second escape.
        #expect(try parse(#""\ud83d\u0041""#) == .string("\u{FFFD}A"))
        // Raw UTF-8 passes through untouched.
        #expect(try parse("\"größe 😀\"") == .string("größe 😀"))
    }

    @Test func keepsIntegersExact() throws {
        let max = try #require(parse("18446744073709551615").numberValue)
        #expect(max.uint64Value == UInt64.max)
        #expect(max.int64Value == nil)
        #expect(max.description == "18446744073709551615")

        let minusOne = try #require(parse("-1").numberValue)
        #expect(minusOne.int64Value == -1)
        #expect(minusOne.uint64Value == nil)

        let min = try #require(parse("-9223372036854775808").numberValue)
        #expect(min.int64Value == Int64.min)

        let tooBig = try #require(parse("18446744073709551616").numberValue)
        #expect(!tooBig.isInteger)
        #expect(tooBig.description == "18446744073709551616")

        let exponent = try #require(parse("1.5E+3").numberValue)
        #expect(!exponent.isInteger)
        #expect(exponent.doubleValue == 1500)
        #expect(exponent.exactly(Int.self) == nil)

        #expect(try parse("0") == 0)
        #expect(try parse("[-0]") == [0])
    }

    @Test(arguments: [
        ("", 1, 1, "unexpected end of input, expected a value"),
        (#"{"a": 1,}"#, 1, 9, "unexpected '}', expected a string object key"),
        ("{\n  \"a\": tru\n}", 2, 11, "invalid literal, expected true"),
        ("[1 2]", 1, 4, "unexpected '2', expected ',' or ']' after array element"),
        (#"{"a" 1}"#, 1, 6, "unexpected '1', expected ':' after object key"),
        (#"{"a": 1 "b": 2}"#, 1, 9, "unexpected '\"', expected ',' or '}' after object member"),
        (#""abc"#, 1, 5, "unexpected end of input in string"),
        ("01", 1, 2, "invalid number: leading zeros are not allowed"),
        ("-", 1, 2, "invalid number: expected a digit after '-'"),
        ("1.", 1, 3, "invalid number: expected a digit after '.'"),
        ("1e+", 1, 4, "invalid number: expected a digit in the exponent"),
        (#""\x""#, 1, 3, "invalid escape sequence '\\x' in string"),
        (#""\u12"x"#, 1, 6, "invalid hexadecimal digit '\"' in \\u escape"),
        (#"{"a":1} x"#, 1, 9, "unexpected 'x' after the top-level value"),
        ("[\"é\", x]", 1, 7, "unexpected 'x', expected a value"),
        ("\"a\tb\"", 1, 3, "control character U+0009 in string must be escaped"),
        ("[1,\r\n\r\n  @]", 3, 3, "unexpected '@', expected a value"),
        ("nul", 1, 4, "unexpected end of input in literal null"),
    ])
    func reportsMalformedInputWithLineAndColumn(input: String, line: Int, column: Int, reason: String) {
        #expect(throws: JSONError.self) { try JSONValue.parse(input) }
        do {
            _ = try JSONValue.parse(input)
        } catch {
            #expect(error.line == line)
            #expect(error.column == column)
            #expect(error.reason == reason)
            #expect(error.description == "invalid JSON at line \(line) column \(column): \(reason)")
        }
    }

    @Test func reportsByteOffset() {
        do {
            _ = try JSONValue.parse("[\"é\", x]")
            Issue.record("expected an error")
        } catch {
            #expect(error.offset == 7)  // é is two bytes
        }
    }

    @Test func rejectsExcessiveNesting() {
        let deep = String(repeating: "[", count: 600) + String(repeating: "]", count: 600)
        #expect(throws: JSONError.self) { try JSONValue.parse(deep) }
        let fine = String(repeating: "[", count: 100) + String(repeating: "]", count: 100)
        #expect(throws: Never.self) { try JSONValue.parse(fine) }
    }

    @Test func duplicateKeysKeepTheLastValueInTheFirstPosition() throws {
        let value = try parse(#"{"a": 1, "b": 2, "a": 3}"#)
        #expect(value.objectValue?.keys == ["a", "b"])
        #expect(value["a"] == 3)
    }

    @Test func objectEqualityIgnoresOrderButSerializationKeepsIt() throws {
        let ab = try parse(#"{"a":1,"b":2}"#)
        let ba = try parse(#"{"b":2,"a":1}"#)
        #expect(ab == ba)
        #expect(ab.serialized() == #"{"a":1,"b":2}"#)
        #expect(ba.serialized() == #"{"b":2,"a":1}"#)
        #expect(try parse(#"{"a":1}"#) != parse(#"{"a":2}"#))
        #expect(try parse(#"{"a":1}"#) != parse(#"{"b":1}"#))
    }

    @Test func largeObjectsUseTheIndexCorrectly() throws {
        var object = JSONObject()
        for i in 0..<100 { object["k\(i)"] = .number(JSONNumber(i)) }
        object["k50"] = "replaced"
        object["k10"] = nil
        #expect(object.count == 99)
        #expect(object["k50"] == "replaced")
        #expect(object["k10"] == nil)
        #expect(object["k99"] == 99)
        #expect(object.keys.first == "k0")
        #expect(object.keys.last == "k99")
    }

    @Test func writesCompactAndIndentedLikeGo() throws {
        let value: JSONValue = ["a": [1, "x", nil, true], "b": [:], "c": [], "d": ["e": 1.5]]
        #expect(value.serialized() == #"{"a":[1,"x",null,true],"b":{},"c":[],"d":{"e":1.5}}"#)
        let expected = """
            {
              "a": [
                1,
                "x",
                null,
                true
              ],
              "b": {},
              "c": [],
              "d": {
                "e": 1.5
              }
            }
            """
        #expect(value.serialized(indent: 2) == expected)
        #expect(value.serialized(indentString: "\t") == expected.replacingTwoSpaceIndentWithTabs())
    }

    @Test func escapesLikeGo() {
        #expect(jsonQuoted("plain") == #""plain""#)
        #expect(jsonQuoted("<a&b>") == #""<a&b>""#)
        #expect(jsonQuoted("q\"b\\") == #""q\"b\\""#)
        #expect(jsonQuoted("\n\r\t\u{8}\u{C}") == #""\n\r\t\b\f""#)
        #expect(jsonQuoted("\u{0}\u{1}\u{1F}\u{7F}") == "\"\\u0000\\u0001\\u001f\u{7F}\"")
        #expect(jsonQuoted("a\u{2028}b\u{2029}c") == #""a\u2028b\u2029c""#)
        #expect(jsonQuoted("é€😀") == "\"é€😀\"")
    }

    @Test func roundTripsThroughText() throws {
        let text = #"""
            {"ociVersion":"1.2.0","n":[0,-1,18446744073709551615,-9223372036854775808,1.25,1e400,3.0],
             "s":"tab\there \u00e9 \ud83d\ude00 \u0007","nested":{"deep":[[[{"x":null}]]]},"empty":{}}
            """#
        let value = try parse(text)
        #expect(try parse(value.serialized()) == value)
        #expect(try parse(value.serialized(indent: 4)) == value)
        // Number literals survive verbatim, including ones Double cannot hold.
        #expect(value.serialized().contains("18446744073709551615,-9223372036854775808,1.25,1e400,3.0"))
    }

    @Test func numberLiteralInitializer() {
        #expect(JSONNumber(literal: "42")?.int64Value == 42)
        #expect(JSONNumber(literal: "4x") == nil)
        #expect(JSONNumber(literal: " 4") == nil)
        #expect(JSONNumber(literal: "-1e-2")?.doubleValue == -0.01)
        #expect(JSONNumber(literal: "\"4\"") == nil)
        #expect(JSONNumber(3.0).isInteger)
        #expect(JSONNumber(0.5).description == "0.5")
        #expect(JSONNumber(UInt64.max).uint64Value == UInt64.max)
    }

    @Test func parsesFromAnyByteCollection() throws {
        let bytes = Array(#"{"a":[1,2]}"#.utf8)
        #expect(try JSONValue.parse(bytes[...]) == ["a": [1, 2]])
        #expect(try JSONValue.parse(bytes.reversed().reversed()) == ["a": [1, 2]])
    }
}

extension String {
    func replacingTwoSpaceIndentWithTabs() -> String {
        var result = ""
        var atLineStart = true
        var pendingSpaces = 0
        for character in self {
            if atLineStart && character == " " {
                pendingSpaces += 1
                if pendingSpaces == 2 {
                    result.append("\t")
                    pendingSpaces = 0
                }
                continue
            }
            atLineStart = character == "\n"
            result.append(character)
        }
        return result
    }
}
