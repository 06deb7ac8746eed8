// CRC32: the IEEE 802.3 checksum (zlib's crc32) used by snapshot manifests.

/// CRC-32 (reflected polynomial 0xEDB88320, as zlib and PNG use). `CRC32.checksum("123456789")`
/// is 0xCBF43926.
enum CRC32 {
    private static let table: [UInt32] = (0..<256).map { n in
        var c = UInt32(n)
        for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        return c
    }

    /// - Complexity: O(bytes.count).
    static func checksum(_ bytes: [UInt8]) -> UInt32 {
        bytes.withUnsafeBufferPointer { buffer in
            table.withUnsafeBufferPointer { t in
                var crc: UInt32 = 0xFFFF_FFFF
                for b in buffer { crc = t[Int((crc ^ UInt32(b)) & 0xFF)] ^ (crc >> 8) }
                return crc ^ 0xFFFF_FFFF
            }
        }
    }
}
