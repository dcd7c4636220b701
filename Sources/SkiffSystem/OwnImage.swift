import CSkiffSys

/// skiff's own executable image in memory (Sources/CSkiffSys/faultaround.c).
public enum OwnImage {
    /// On kernels that cannot map the image page by page (before 6.7): drops the mapped code
    /// pages (they stay in the page cache) so that code only an earlier phase ran does not
    /// count in the peak RSS. Does nothing elsewhere.
    public static func trim() { sk_image_trim() }
}
