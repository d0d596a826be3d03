//! Where a long run's closed intervals go, so that what a replication holds
//! in memory does not grow with its horizon: an interval the run has passed
//! takes no more additions, and its figures wait in a temporary file until
//! the replication's results are made.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};

/// Closed intervals a series gathers before it writes them out: a run of
/// at most this many intervals never writes.
pub const SPILL_CHUNK: usize = 128;

/// A replication's store of closed intervals: an unlinked temporary file
/// (`tempfile`), made at the first write and gone with the store, or when
/// the process ends. Words are written once and read back whole.
///
/// If no file can be made or written (no writable temporary directory, a
/// full disk), the words stay in memory: a run does not fail for want of
/// scratch space, it only holds more.
#[derive(Debug, Default)]
pub struct Spill {
    active: bool,
    file: Option<File>,
    /// The file could not be made or written: memory from now on.
    broken: bool,
    /// Bytes written.
    end: u64,
    scratch: Vec<u8>,
}

/// Words written to a [`Spill`].
#[derive(Clone, Debug)]
pub enum Chunk {
    File { at: u64, words: usize },
    Memory(Box<[u64]>),
}

impl Chunk {
    pub fn words(&self) -> usize {
        match self {
            Chunk::File { words, .. } => *words,
            Chunk::Memory(w) => w.len(),
        }
    }
}

impl Spill {
    /// A store for series of `len` intervals: it writes only if they are
    /// longer than [`SPILL_CHUNK`] (a short run touches no file).
    pub fn for_series(len: usize) -> Self {
        Spill {
            active: len > SPILL_CHUNK,
            ..Spill::default()
        }
    }

    /// A store that never writes: series keep every interval in memory.
    pub fn off() -> Self {
        Spill::default()
    }

    /// Whether series write their closed intervals here.
    pub fn is_active(&self) -> bool {
        self.active
    }

    /// Writes `words` and says where they are.
    pub fn write(&mut self, words: impl IntoIterator<Item = u64>) -> Chunk {
        if self.broken {
            return Chunk::Memory(words.into_iter().collect());
        }
        self.scratch.clear();
        for w in words {
            self.scratch.extend_from_slice(&w.to_le_bytes());
        }
        let n = self.scratch.len() / 8;
        match self.append() {
            Ok(at) => Chunk::File { at, words: n },
            Err(_) => {
                self.broken = true;
                Chunk::Memory(self.scratch.chunks_exact(8).map(word).collect())
            }
        }
    }

    /// Appends the scratch bytes to the file; returns their offset.
    fn append(&mut self) -> std::io::Result<u64> {
        let file = match &mut self.file {
            Some(f) => f,
            None => self.file.insert(tempfile::tempfile()?),
        };
        let at = self.end;
        file.seek(SeekFrom::Start(at))?;
        file.write_all(&self.scratch)?;
        self.end += self.scratch.len() as u64;
        Ok(at)
    }

    /// Calls `f` on every word of `chunks`, in order; a chunk at a time is
    /// read into memory.
    ///
    /// # Panics
    /// If the file written a moment ago cannot be read back: the run's
    /// figures are lost, and no result can be made without them.
    pub fn read_each(&self, chunks: &[Chunk], mut f: impl FnMut(u64)) {
        let mut bytes = Vec::new();
        for chunk in chunks {
            match chunk {
                Chunk::Memory(w) => w.iter().for_each(|&w| f(w)),
                Chunk::File { at, words } => {
                    bytes.resize(8 * words, 0);
                    let mut file = self.file.as_ref().expect("a file chunk has its file");
                    file.seek(SeekFrom::Start(*at))
                        .and_then(|_| file.read_exact(&mut bytes))
                        .unwrap_or_else(|e| {
                            panic!("reading back the run's series from its temporary file: {e}")
                        });
                    bytes.chunks_exact(8).for_each(|b| f(word(b)));
                }
            }
        }
    }
}

fn word(b: &[u8]) -> u64 {
    u64::from_le_bytes(b.try_into().expect("8 bytes"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_come_back_as_written_from_file_or_memory() {
        let mut s = Spill::for_series(SPILL_CHUNK + 1);
        assert!(s.is_active());
        let a = s.write([1u64, u64::MAX, 0]);
        let b = s.write((0..1000u64).map(|x| (x as f64 * 0.1).to_bits()));
        assert!(matches!(a, Chunk::File { at: 0, words: 3 }));
        assert!(matches!(
            b,
            Chunk::File {
                at: 24,
                words: 1000
            }
        ));
        // A chunk written to memory (as after a failed write) reads the same.
        let c = Chunk::Memory(vec![7, 8].into_boxed_slice());
        let mut all = Vec::new();
        s.read_each(&[b.clone(), a.clone(), c], |w| all.push(w));
        assert_eq!(&all[1000..], &[1, u64::MAX, 0, 7, 8]);
        for (i, w) in all[..1000].iter().enumerate() {
            assert_eq!(f64::from_bits(*w).to_bits(), (i as f64 * 0.1).to_bits());
        }
        assert!(!Spill::for_series(SPILL_CHUNK).is_active());
        assert!(!Spill::off().is_active());
    }
}
