//! Opening change logs and saved plans. Both are input a pull request or a CI job can point
//! anywhere: only regular files are read, within a size limit, so that a FIFO, `/dev/zero` or
//! `/dev/urandom` is refused at once instead of hanging the tool or exhausting its memory. Logs
//! are then read a line at a time ([`LineReader`]), never whole.

use std::fs::{File, OpenOptions};
use std::io::{self, BufRead, Read};
use std::path::Path;

/// The largest change log read or appended to (4 GiB). A log is streamed, so this bounds the
/// time `log verify` takes rather than memory: at 1-2 KB a record, years of changes of a large
/// organization. A full log is archived (its chain head noted) and a new one started.
pub const MAX_LOG_BYTES: u64 = 4 << 30;

/// The longest record line read (16 MiB): the most held in memory at once. Records carry an
/// attribute's values before and after a change; the largest AWS documents are tens of KB.
pub const MAX_RECORD_BYTES: usize = 16 << 20;

/// The largest saved plan read (256 MiB). A plan of a very large organization is tens of MB.
pub const MAX_SAVED_PLAN_BYTES: u64 = 256 << 20;

/// `bytes` as the limits above are written: `4 GiB`, `16 MiB`.
pub fn size(bytes: u64) -> String {
    match bytes {
        b if b >= 1 << 30 && b % (1 << 30) == 0 => format!("{} GiB", b >> 30),
        b if b >= 1 << 20 && b % (1 << 20) == 0 => format!("{} MiB", b >> 20),
        b => format!("{b} bytes"),
    }
}

/// Open the regular file at `path` (symlinks followed) with `options`, refusing anything else
/// and a file larger than `limit`. The error says why, without the path.
pub fn open_regular(path: &Path, options: &OpenOptions, limit: u64) -> Result<File, String> {
    // Checked before opening: opening some devices has effects (a tape rewinds).
    match std::fs::metadata(path) {
        Ok(m) => check(&m, limit)?,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(e.to_string()),
    }
    let mut options = options.clone();
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        // A FIFO swapped in after the check must not block the open; O_NONBLOCK has no
        // effect on the reads and writes of a regular file.
        options.custom_flags(libc::O_NONBLOCK);
    }
    let file = options.open(path).map_err(|e| e.to_string())?;
    check(&file.metadata().map_err(|e| e.to_string())?, limit)?;
    Ok(file)
}

fn check(metadata: &std::fs::Metadata, limit: u64) -> Result<(), String> {
    let kind = metadata.file_type();
    if !kind.is_file() {
        return Err(format!(
            "is {}, not a regular file",
            crate::lang::input::file_kind(&kind)
        ));
    }
    if metadata.len() > limit {
        return Err(format!(
            "is larger than {}, the most baseline reads",
            size(limit)
        ));
    }
    Ok(())
}

/// A change log, opened for reading.
pub fn open_log(path: &Path) -> Result<io::BufReader<io::Take<File>>, String> {
    let file = open_regular(path, OpenOptions::new().read(true), MAX_LOG_BYTES)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    // A file growing while it is read stops at the limit too.
    Ok(io::BufReader::new(file.take(MAX_LOG_BYTES)))
}

/// One line of a log, as read.
#[derive(Debug, PartialEq, Eq)]
pub enum Line<'a> {
    /// A whole line, without its `\n`.
    Complete(&'a [u8]),
    /// The last line, with no `\n`: cut off.
    Unterminated,
    /// Longer than [`MAX_RECORD_BYTES`]; the rest of it is skipped.
    TooLong,
}

/// The lines of a log, one at a time, each at most [`MAX_RECORD_BYTES`] in memory.
pub struct LineReader<R> {
    inner: R,
    buf: Vec<u8>,
    number: usize,
}

impl<R: BufRead> LineReader<R> {
    pub fn new(inner: R) -> LineReader<R> {
        LineReader {
            inner,
            buf: Vec::new(),
            number: 0,
        }
    }

    /// The next line and its 1-based number, or `None` at the end.
    pub fn next_line(&mut self) -> io::Result<Option<(usize, Line<'_>)>> {
        self.buf.clear();
        let read = (&mut self.inner)
            .take(MAX_RECORD_BYTES as u64 + 1)
            .read_until(b'\n', &mut self.buf)?;
        if read == 0 {
            return Ok(None);
        }
        self.number += 1;
        let line = if self.buf.last() == Some(&b'\n') {
            self.buf.pop();
            Line::Complete(&self.buf)
        } else if self.buf.len() > MAX_RECORD_BYTES {
            self.skip_line()?;
            Line::TooLong
        } else {
            Line::Unterminated
        };
        Ok(Some((self.number, line)))
    }

    /// Consume up to and including the next `\n`, keeping nothing.
    fn skip_line(&mut self) -> io::Result<()> {
        loop {
            let chunk = self.inner.fill_buf()?;
            if chunk.is_empty() {
                return Ok(());
            }
            match chunk.iter().position(|&b| b == b'\n') {
                Some(i) => {
                    self.inner.consume(i + 1);
                    return Ok(());
                }
                None => {
                    let n = chunk.len();
                    self.inner.consume(n);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_complete_cut_off_or_too_long() {
        let long = "x".repeat(MAX_RECORD_BYTES + 1);
        let text = format!("a\n{long}\nb\nc");
        let mut lines = LineReader::new(text.as_bytes());
        assert_eq!(lines.next_line().unwrap(), Some((1, Line::Complete(b"a"))));
        assert_eq!(lines.next_line().unwrap(), Some((2, Line::TooLong)));
        assert_eq!(lines.next_line().unwrap(), Some((3, Line::Complete(b"b"))));
        assert_eq!(lines.next_line().unwrap(), Some((4, Line::Unterminated)));
        assert_eq!(lines.next_line().unwrap(), None);
    }

    #[test]
    fn a_line_of_exactly_the_limit_is_read() {
        let text = format!("{}\n", "x".repeat(MAX_RECORD_BYTES));
        let mut lines = LineReader::new(text.as_bytes());
        assert!(matches!(
            lines.next_line().unwrap(),
            Some((1, Line::Complete(l))) if l.len() == MAX_RECORD_BYTES
        ));
    }

    #[test]
    fn only_regular_files_within_the_limit_open() {
        let read = OpenOptions::new().read(true).clone();
        let err = open_regular(Path::new("/dev/zero"), &read, 1).unwrap_err();
        assert_eq!(err, "is a device, not a regular file");
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("fifo");
        let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        // SAFETY: a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        let err = open_regular(&fifo, &read, 1).unwrap_err();
        assert_eq!(err, "is a FIFO, not a regular file");
        let file = dir.path().join("f");
        std::fs::write(&file, "12").unwrap();
        assert!(open_regular(&file, &read, 2).is_ok());
        assert_eq!(
            open_regular(&file, &read, 1).unwrap_err(),
            "is larger than 1 bytes, the most baseline reads"
        );
        assert_eq!(size(MAX_LOG_BYTES), "4 GiB");
        assert_eq!(size(MAX_SAVED_PLAN_BYTES), "256 MiB");
    }
}
