//! Size limits on records and decompression, and the reader that enforces them.

use std::cell::Cell;
use std::io::{self, Read};
use std::rc::Rc;

/// Limits that keep memory bounded whatever the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The largest single record (a line, an array element, a log event) kept;
    /// a larger one is dead-lettered with its first bytes.
    pub max_record_bytes: usize,
    /// The largest JSON document held whole in memory (a decoded subscription
    /// payload, a pretty-printed record). CloudTrail `Records` arrays are
    /// streamed element by element and do not count against it.
    pub max_document_bytes: usize,
    /// The most bytes one compressed input may expand to.
    pub max_decompressed_bytes: u64,
    /// The largest ratio of decompressed to compressed bytes (gzip bombs).
    pub max_expansion_ratio: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_record_bytes: 1 << 20,
            max_document_bytes: 64 << 20,
            max_decompressed_bytes: 16 << 30,
            max_expansion_ratio: 200,
        }
    }
}

/// Slack before the expansion ratio is enforced: tiny inputs can legitimately
/// expand far more than large ones (a 30-byte gzip of a 10 KB log line).
const RATIO_SLACK_BYTES: u64 = 1 << 20;

/// Counts the bytes read through it into a shared cell.
pub struct CountingReader<R> {
    inner: R,
    count: Rc<Cell<u64>>,
}

impl<R: Read> CountingReader<R> {
    pub fn new(inner: R) -> (Self, Rc<Cell<u64>>) {
        let count = Rc::new(Cell::new(0));
        (
            CountingReader {
                inner,
                count: count.clone(),
            },
            count,
        )
    }
}

impl<R: Read> Read for CountingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.set(self.count.get() + n as u64);
        Ok(n)
    }
}

/// Wraps a decompressor and fails with a clear error once the output passes
/// the absolute limit or the expansion ratio against the compressed bytes read.
pub struct LimitedReader<R> {
    inner: R,
    produced: u64,
    compressed: Rc<Cell<u64>>,
    limits: Limits,
}

impl<R: Read> LimitedReader<R> {
    pub fn new(inner: R, compressed: Rc<Cell<u64>>, limits: Limits) -> Self {
        LimitedReader {
            inner,
            produced: 0,
            compressed,
            limits,
        }
    }
}

impl<R: Read> Read for LimitedReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.produced += n as u64;
        if self.produced > self.limits.max_decompressed_bytes {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "decompressed size exceeds the limit of {} bytes",
                    self.limits.max_decompressed_bytes
                ),
            ));
        }
        let compressed = self.compressed.get().max(1);
        if self.produced > RATIO_SLACK_BYTES
            && self.produced / compressed > self.limits.max_expansion_ratio
        {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "decompression ratio exceeds {}:1 ({} bytes from {} compressed): refusing a likely gzip bomb",
                    self.limits.max_expansion_ratio, self.produced, compressed
                ),
            ));
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::{write::GzEncoder, Compression};
    use std::io::Write;

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut enc = GzEncoder::new(Vec::new(), Compression::best());
        enc.write_all(data).unwrap();
        enc.finish().unwrap()
    }

    #[test]
    fn a_gzip_bomb_is_refused_by_ratio() {
        let bomb = gzip(&vec![0u8; 64 << 20]);
        let (counting, count) = CountingReader::new(&bomb[..]);
        let mut reader = LimitedReader::new(
            flate2::read::MultiGzDecoder::new(counting),
            count,
            Limits::default(),
        );
        let err = io::copy(&mut reader, &mut io::sink()).unwrap_err();
        assert!(err.to_string().contains("gzip bomb"), "{err}");
    }

    #[test]
    fn ordinary_text_passes() {
        let text: Vec<u8> = (0..200_000u32)
            .flat_map(|i| format!("line {i} with some varied content {}\n", i * 7919).into_bytes())
            .collect();
        let gz = gzip(&text);
        let (counting, count) = CountingReader::new(&gz[..]);
        let mut reader = LimitedReader::new(
            flate2::read::MultiGzDecoder::new(counting),
            count,
            Limits::default(),
        );
        let mut out = Vec::new();
        reader.read_to_end(&mut out).unwrap();
        assert_eq!(out, text);
    }

    #[test]
    fn absolute_limit_applies() {
        let gz = gzip(&vec![b'a'; 10_000]);
        let (counting, count) = CountingReader::new(&gz[..]);
        let limits = Limits {
            max_decompressed_bytes: 5_000,
            ..Limits::default()
        };
        let mut reader =
            LimitedReader::new(flate2::read::MultiGzDecoder::new(counting), count, limits);
        let err = io::copy(&mut reader, &mut io::sink()).unwrap_err();
        assert!(err.to_string().contains("exceeds the limit"), "{err}");
    }
}
