//! Opening inputs: files or stdin, gzip detected by its magic bytes, limits applied.

use flate2::read::{MultiGzDecoder, ZlibDecoder};
use std::cell::Cell;
use std::io::{self, BufRead, BufReader, Read};
use std::rc::Rc;

use crate::limits::{CountingReader, LimitedReader, Limits};

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];
const BUFFER: usize = 256 << 10;

/// The compression of a byte stream, told by its first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    None,
    Gzip,
    Zlib,
}

/// Tells gzip (`1f 8b`) and zlib (`78 01|5e|9c|da`) from plain bytes.
pub fn sniff_compression(head: &[u8]) -> Compression {
    match head {
        [0x1f, 0x8b, ..] => Compression::Gzip,
        [0x78, second, ..] if (0x7800u16 | *second as u16) % 31 == 0 => Compression::Zlib,
        _ => Compression::None,
    }
}

/// A decoded input stream and the count of raw bytes read from its source.
pub struct Input<'a> {
    pub reader: Box<dyn BufRead + 'a>,
    pub raw_bytes: Rc<Cell<u64>>,
    pub compression: Compression,
}

/// Wraps a raw byte source: counts it, detects gzip, enforces the limits.
/// Concatenated gzip members (as Firehose writes them) are read as one stream.
pub fn open_reader<'a>(source: Box<dyn Read + 'a>, limits: Limits) -> io::Result<Input<'a>> {
    let (counting, raw_bytes) = CountingReader::new(source);
    let mut buffered = BufReader::with_capacity(BUFFER, counting);
    let head = buffered.fill_buf()?;
    let compression = if head.starts_with(&GZIP_MAGIC) {
        Compression::Gzip
    } else {
        Compression::None
    };
    let reader: Box<dyn BufRead + 'a> = match compression {
        Compression::Gzip => Box::new(BufReader::with_capacity(
            BUFFER,
            LimitedReader::new(MultiGzDecoder::new(buffered), raw_bytes.clone(), limits),
        )),
        _ => Box::new(buffered),
    };
    Ok(Input {
        reader,
        raw_bytes,
        compression,
    })
}

/// Decompresses an in-memory payload (gzip or zlib, as CloudWatch Logs and
/// Kinesis deliver them) within `max_bytes` and the expansion ratio.
pub fn decompress_payload(bytes: &[u8], limits: Limits, max_bytes: usize) -> io::Result<Vec<u8>> {
    let limits = Limits {
        max_decompressed_bytes: max_bytes as u64,
        ..limits
    };
    let (counting, count) = CountingReader::new(bytes);
    let mut out = Vec::with_capacity(bytes.len() * 4);
    match sniff_compression(bytes) {
        Compression::Gzip => LimitedReader::new(MultiGzDecoder::new(counting), count, limits)
            .read_to_end(&mut out)?,
        Compression::Zlib => {
            LimitedReader::new(ZlibDecoder::new(counting), count, limits).read_to_end(&mut out)?
        }
        Compression::None => {
            if bytes.len() > max_bytes {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("payload exceeds the limit of {max_bytes} bytes"),
                ));
            }
            out.extend_from_slice(bytes);
            bytes.len()
        }
    };
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compression_is_told_by_magic() {
        assert_eq!(sniff_compression(&[0x1f, 0x8b, 8]), Compression::Gzip);
        assert_eq!(sniff_compression(&[0x78, 0x9c, 1]), Compression::Zlib);
        assert_eq!(sniff_compression(&[0x78, 0xda]), Compression::Zlib);
        assert_eq!(sniff_compression(b"x{"), Compression::None);
        assert_eq!(sniff_compression(b"{\"a\""), Compression::None);
    }
}
