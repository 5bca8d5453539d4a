import CKernels
import Glibc

/// SHA-256 (FIPS 180-4), incremental: the content hash that identifies model files in PNG metadata, so a
/// renamed checkpoint is still recognised. Whole blocks go to a C kernel chosen at run time: the x86 SHA
/// extensions when the CPU has them (`Kernel.shaNI`), else a portable version with identical results.
/// `var-gen inspect FILE --hash` prints a file's digest and the time it took (docs/cli.md, "Reproducing an image").
public struct SHA256: Sendable {
    /// The block function.
    public enum Kernel: String, Sendable, CaseIterable {
        case portable
        case shaNI = "sha-ni"

        /// Whether this CPU runs the kernel.
        public var isAvailable: Bool { self == .portable || vg_cpu_has_sha_ni() != 0 }
        /// The fastest kernel this CPU runs.
        public static var best: Kernel { vg_cpu_has_sha_ni() != 0 ? .shaNI : .portable }
    }

    public let kernel: Kernel
    private var state: [UInt32] = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                   0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]   // FIPS 180-4 §5.3.3
    private var pending: [UInt8] = []       // < 64 bytes not yet compressed
    private var length: UInt64 = 0          // bytes seen

    /// A fresh hash; `kernel` must be available (`Kernel.isAvailable`), else the portable one is used.
    public init(kernel: Kernel = .best) {
        self.kernel = kernel.isAvailable ? kernel : .portable
        pending.reserveCapacity(64)
    }

    /// Adds bytes.
    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        guard var p = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self), bytes.count > 0 else { return }
        var n = bytes.count
        length &+= UInt64(n)
        if !pending.isEmpty {
            let take = min(64 - pending.count, n)
            pending.append(contentsOf: UnsafeBufferPointer(start: p, count: take))
            p += take; n -= take
            if pending.count < 64 { return }
            pending.withUnsafeBufferPointer { compress($0.baseAddress!, blocks: 1) }
            pending.removeAll(keepingCapacity: true)
        }
        let whole = n / 64
        if whole > 0 { compress(p, blocks: whole) }
        pending.append(contentsOf: UnsafeBufferPointer(start: p + whole * 64, count: n - whole * 64))
    }

    /// Adds bytes.
    public mutating func update(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { update($0) }
    }

    /// The 32-byte digest (padding per FIPS 180-4 §5.1.1); the hash should not be updated afterwards.
    public mutating func finalize() -> [UInt8] {
        let bits = length &* 8
        var tail = pending + [0x80]
        while tail.count % 64 != 56 { tail.append(0) }
        for k in (0..<8).reversed() { tail.append(UInt8(truncatingIfNeeded: bits >> (8 * UInt64(k)))) }
        tail.withUnsafeBufferPointer { compress($0.baseAddress!, blocks: tail.count / 64) }
        pending.removeAll()
        return state.flatMap { w in (0..<4).map { UInt8(truncatingIfNeeded: w >> (24 - 8 * UInt32($0))) } }
    }

    private mutating func compress(_ p: UnsafePointer<UInt8>, blocks: Int) {
        let kernel = self.kernel
        state.withUnsafeMutableBufferPointer { h in
            switch kernel {
            case .portable: vg_sha256_blocks_portable(h.baseAddress!, p, blocks)
            case .shaNI: vg_sha256_blocks_shani(h.baseAddress!, p, blocks)
            }
        }
    }

    /// The digest of `bytes`.
    public static func hash(_ bytes: [UInt8], kernel: Kernel = .best) -> [UInt8] {
        var h = SHA256(kernel: kernel)
        h.update(bytes)
        return h.finalize()
    }

    /// Lower-case hexadecimal of a digest.
    public static func hex(_ digest: [UInt8]) -> String {
        let digits = Array("0123456789abcdef")
        return String(digest.flatMap { [digits[Int($0 >> 4)], digits[Int($0 & 15)]] })
    }

    /// The hex digest of a whole file, read in 8 MiB pieces (reading costs fewer page faults than a memory
    /// map). Throws `RuntimeError.io` naming the file when it cannot be opened, is not a regular file, or
    /// fails to read.
    public static func hashFile(_ path: String, kernel: Kernel = .best) throws -> String {
        func fail(_ message: String) -> RuntimeError { .io(path: path, operation: "hash", message: message) }
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw fail(FileIO.errnoText()) }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw fail(FileIO.errnoText()) }
        guard (st.st_mode & S_IFMT) == S_IFREG else { throw fail("not a regular file") }
        var h = SHA256(kernel: kernel)
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 8 << 20, alignment: 64)
        defer { buffer.deallocate() }
        while true {
            let n = read(fd, buffer.baseAddress, buffer.count)
            if n < 0 && errno == EINTR { continue }
            guard n >= 0 else { throw fail(FileIO.errnoText()) }
            if n == 0 { break }
            h.update(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
        }
        return hex(h.finalize())
    }
}
