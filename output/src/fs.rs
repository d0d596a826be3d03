//! Writing output files atomically: a file is either absent or complete.
//!
//! Each file is written to a temporary name in the destination directory,
//! flushed to disk, then renamed over the final name (rename is atomic within a
//! directory on POSIX file systems). A crash or error mid-write leaves at most
//! a temporary file, which is removed on error.

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// A file to write: a path relative to the output directory and its bytes.
#[derive(Clone, Debug)]
pub struct OutputFile {
    pub relative: PathBuf,
    pub bytes: Vec<u8>,
}

/// Writes `bytes` to `path` atomically.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "path has no file name"))?;
    let tmp = dir.join(format!(
        ".{}.tmp-{}",
        name.to_string_lossy(),
        std::process::id()
    ));
    let result = (|| {
        let mut f = File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// Writes every file under `dir` (created if needed), each atomically, and
/// returns their paths in order.
pub fn write_all(dir: &Path, files: &[OutputFile]) -> io::Result<Vec<PathBuf>> {
    let mut written = Vec::with_capacity(files.len());
    for f in files {
        let path = dir.join(&f.relative);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent)?;
        }
        write_atomic(&path, &f.bytes).map_err(|e| {
            io::Error::new(e.kind(), format!("cannot write {}: {e}", path.display()))
        })?;
        written.push(path);
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tempdir(tag: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("capsim-fs-{tag}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn writes_and_replaces_without_leftovers() {
        let d = tempdir("replace");
        let p = d.join("a.json");
        write_atomic(&p, b"first").unwrap();
        write_atomic(&p, b"second").unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"second");
        let names: Vec<_> = fs::read_dir(&d)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 1, "no temporary files left: {names:?}");
        fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn a_failed_write_leaves_nothing() {
        let d = tempdir("fail");
        // The destination is a directory, so the rename fails after the write.
        let p = d.join("taken");
        fs::create_dir(&p).unwrap();
        fs::write(p.join("x"), b"keep").unwrap();
        assert!(write_atomic(&p, b"data").is_err());
        let names: Vec<_> = fs::read_dir(&d)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("taken")]);
        fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn write_all_creates_subdirectories() {
        let d = tempdir("all");
        let files = vec![
            OutputFile {
                relative: "summary.json".into(),
                bytes: b"{}".to_vec(),
            },
            OutputFile {
                relative: "plots/a.svg".into(),
                bytes: b"<svg/>".to_vec(),
            },
        ];
        let written = write_all(&d.join("out"), &files).unwrap();
        assert_eq!(written.len(), 2);
        assert!(d.join("out/plots/a.svg").exists());
        fs::remove_dir_all(&d).unwrap();
    }
}
