import CFFmpeg
import LibAV
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A width x height yuv420p window in memory: the planes' pointers at the window's top-left corner and their
/// strides. Source pictures, spilled frames and the frame to encode are all reached through one.
struct PlaneWindow {
    var y: UnsafeMutablePointer<UInt8>, u: UnsafeMutablePointer<UInt8>, v: UnsafeMutablePointer<UInt8>
    var lumaStride: Int, chromaStride: Int
    var width: Int, height: Int

    /// A whole yuv420p frame.
    init(frame: UnsafeMutablePointer<AVFrame>) {
        let f = frame.pointee
        self.init(y: f.data.0!, u: f.data.1!, v: f.data.2!, lumaStride: Int(f.linesize.0), chromaStride: Int(f.linesize.1),
                  width: Int(f.width), height: Int(f.height))
    }

    init(y: UnsafeMutablePointer<UInt8>, u: UnsafeMutablePointer<UInt8>, v: UnsafeMutablePointer<UInt8>,
         lumaStride: Int, chromaStride: Int, width: Int, height: Int) {
        self.y = y; self.u = u; self.v = v
        self.lumaStride = lumaStride; self.chromaStride = chromaStride
        self.width = width; self.height = height
    }

    /// The window of `width` x `height` at (x, y) inside a decoded yuv420p frame.
    init(frame: UnsafeMutablePointer<AVFrame>, x: Int, y top: Int, width: Int, height: Int) {
        let f = frame.pointee
        let x0 = x & ~1, y0 = top & ~1
        let ls = Int(f.linesize.0), cs = Int(f.linesize.1)
        self.init(y: f.data.0! + y0 * ls + x0, u: f.data.1! + (y0 / 2) * cs + x0 / 2, v: f.data.2! + (y0 / 2) * cs + x0 / 2,
                  lumaStride: ls, chromaStride: cs, width: width, height: height)
    }

    /// Bytes of the window's pixels, packed (the spill file's frame size).
    var packedBytes: Int { width * height + 2 * (width / 2) * (height / 2) }

    func copy(to d: PlaneWindow) {
        for row in 0..<height { memcpy(d.y + row * d.lumaStride, y + row * lumaStride, width) }
        for row in 0..<(height / 2) {
            memcpy(d.u + row * d.chromaStride, u + row * chromaStride, width / 2)
            memcpy(d.v + row * d.chromaStride, v + row * chromaStride, width / 2)
        }
    }

    /// One iovec a row, luma then the two chroma planes: the packed layout of a spilled frame.
    var rows: [iovec] {
        var out: [iovec] = []
        out.reserveCapacity(height * 2)
        for row in 0..<height { out.append(iovec(iov_base: UnsafeMutableRawPointer(y + row * lumaStride), iov_len: width)) }
        for plane in [u, v] {
            for row in 0..<(height / 2) { out.append(iovec(iov_base: UnsafeMutableRawPointer(plane + row * chromaStride), iov_len: width / 2)) }
        }
        return out
    }
}

/// The frames of a background clip that has to loop, decoded once. The first pass writes each cropped picture
/// to a scratch file beside the output (unlinked as soon as it is created, so nothing is left behind whatever
/// happens); later
/// passes read the pictures back straight into the frame to encode instead of decoding the clip again. Reading
/// a frame back is a copy, about a tenth of decoding it, and the file lives in the page cache, not in the
/// process: memory stays what it was. Bounded by a byte budget and by the free space of the scratch directory;
/// any failure to write just ends spilling (the clip is decoded again, as without it).
final class LoopSpill {
    private let fd: Int32
    let frameBytes: Int
    private let maxFrames: Int
    /// Clip times of the spilled frames, in order.
    private(set) var times: [Double] = []

    /// Nil when the clip's frames would not fit the budget or the directory's free space, or no file can be made.
    init?(directory: URL, frameBytes: Int, expectedFrames: Int, budget: Int) {
        guard frameBytes > 0, budget > 0, expectedFrames > 0 else { return nil }
        maxFrames = budget / frameBytes
        guard expectedFrames <= maxFrames else { return nil }
        var fs = statvfs()
        guard statvfs(directory.path, &fs) == 0,
              Int(fs.f_bavail) * Int(fs.f_frsize) > 2 * expectedFrames * frameBytes + (256 << 20) else { return nil }
        var template = Array(directory.appendingPathComponent(".reelforge-loop-XXXXXX").path.utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else { return nil }
        template.withUnsafeBufferPointer { _ = unlink($0.baseAddress!) }
        self.fd = fd
        self.frameBytes = frameBytes
    }

    deinit { close(fd) }

    var count: Int { times.count }

    /// Writes the next frame; false when it could not (over budget, disk full): stop spilling.
    func append(_ window: PlaneWindow, time: Double) -> Bool {
        guard times.count < maxFrames, window.packedBytes == frameBytes else { return false }
        guard transfer(window.rows, offset: times.count * frameBytes, write: true) else { return false }
        times.append(time)
        return true
    }

    /// Reads frame `index` into `window`.
    func read(_ index: Int, into window: PlaneWindow) throws {
        guard index < times.count, transfer(window.rows, offset: index * frameBytes, write: false) else {
            throw AVError(code: -1, what: "read back a background frame")
        }
    }

    /// All of `rows` at `offset`, in as many calls as IOV_MAX and short transfers need.
    private func transfer(_ rows: [iovec], offset: Int, write: Bool) -> Bool {
        var rows = rows, index = 0, offset = offset
        return rows.withUnsafeMutableBufferPointer { iov in
            while index < iov.count {
                let n = min(1024, iov.count - index)
                let done = write ? pwritev(fd, iov.baseAddress! + index, Int32(n), off_t(offset))
                                 : preadv(fd, iov.baseAddress! + index, Int32(n), off_t(offset))
                if done < 0 && errno == EINTR { continue }
                guard done > 0 else { return false }
                offset += done
                // Step over the rows done; a row done in part continues from where it stopped.
                var left = done
                while left > 0 && index < iov.count {
                    if left >= iov[index].iov_len { left -= iov[index].iov_len; index += 1 }
                    else {
                        iov[index].iov_base = iov[index].iov_base! + left
                        iov[index].iov_len -= left
                        left = 0
                    }
                }
            }
            return true
        }
    }
}
