import SkiffSystem
import Testing

struct CleanPathTests {
    @Test(arguments: [
        ("/sys", "/sys"), ("/sys/", "/sys"), ("//sys//.", "/sys"), ("/a/../sys", "/sys"), ("/..", "/"),
        ("", "."), ("a/./b/..", "a"), ("../x", "../x"),
    ])
    func cleansPathsLikeGo(input: String, cleaned: String) {
        #expect(cleanPath(input) == cleaned)
    }
}
