//! Writing output files atomically: a file is either absent or complete.
//!
//! Each file is written to a temporary file in the destination directory
//! (the `tempfile` crate), flushed to disk, then renamed over the final name
//! (rename is atomic within a directory on POSIX file systems). A temporary
//! file is removed when it is dropped, so an error mid-write leaves nothing
//! behind. [`write_all`] stages every file of a run before renaming any, so a
//! run that cannot write one of its files writes none of them and the
//! previous run's files stay as they were.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use tempfile::NamedTempFile;

/// A file to write: a path relative to the output directory and its bytes.
#[derive(Clone, Debug)]
pub struct OutputFile {
    pub relative: PathBuf,
    pub bytes: Vec<u8>,
}

/// Writes and flushes `bytes` to a temporary file beside `path`, named after
/// it (`.summary.json.XXXXXX.tmp`) so a leftover after a crash says whose it is.
fn stage(path: &Path, bytes: &[u8]) -> io::Result<NamedTempFile> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "path has no file name"))?;
    let prefix = format!(".{}.", name.to_string_lossy());
    let mut builder = tempfile::Builder::new();
    builder.prefix(&prefix).suffix(".tmp");
    // tempfile makes private (0600) files; outputs are ordinary files, so ask
    // for 0666 and let the umask narrow it as it does for any new file.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(fs::Permissions::from_mode(0o666));
    }
    let mut tmp = builder.tempfile_in(dir)?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    Ok(tmp)
}

/// Writes `bytes` to `path` atomically.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    stage(path, bytes)?.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// `e` with the file it is about: "cannot write PATH: ...".
fn naming(path: &Path, e: io::Error) -> io::Error {
    io::Error::new(e.kind(), format!("cannot write {}: {e}", path.display()))
}

/// Writes every file under `dir` (created if needed) and returns their
/// paths in order. All files are staged under temporary names first; only
/// when every one is on disk are they renamed into place. If staging fails,
/// the staged files are removed (dropped) and no file of the run appears.
pub fn write_all(dir: &Path, files: &[OutputFile]) -> io::Result<Vec<PathBuf>> {
    let mut staging = Staging::new(dir);
    for f in files {
        staging.add(f)?;
    }
    staging.commit()
}

/// Files of one run written all or nothing, staged one by one as they are
/// made, so that their bytes need not all be held at once: each is on disk
/// under a temporary name once [`Staging::add`] returns; [`Staging::commit`]
/// renames them all into place. Dropped without a commit, it removes them.
pub struct Staging {
    dir: PathBuf,
    staged: Vec<(NamedTempFile, PathBuf)>,
}

impl Staging {
    pub fn new(dir: &Path) -> Staging {
        Staging {
            dir: dir.to_path_buf(),
            staged: Vec::new(),
        }
    }

    /// Writes `f` under a temporary name beside its final path.
    pub fn add(&mut self, f: &OutputFile) -> io::Result<()> {
        let path = self.dir.join(&f.relative);
        let tmp = path
            .parent()
            .map_or(Ok(()), fs::create_dir_all)
            .and_then(|()| stage(&path, &f.bytes))
            .map_err(|e| naming(&path, e))?;
        self.staged.push((tmp, path));
        Ok(())
    }

    /// Renames every staged file into place; their paths in order.
    pub fn commit(self) -> io::Result<Vec<PathBuf>> {
        let mut written = Vec::with_capacity(self.staged.len());
        for (tmp, path) in self.staged {
            tmp.persist(&path).map_err(|e| naming(&path, e.error))?;
            written.push(path);
        }
        Ok(written)
    }
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
    fn staged_files_appear_only_on_commit_and_vanish_without_it() {
        let d = tempdir("staging");
        let file = |name: &str| OutputFile {
            relative: name.into(),
            bytes: name.as_bytes().to_vec(),
        };
        let list = || {
            let mut names: Vec<String> = fs::read_dir(&d)
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect();
            names.sort();
            names
        };
        let mut s = Staging::new(&d);
        s.add(&file("a.csv")).unwrap();
        s.add(&file("b.json")).unwrap();
        // On disk under temporary names only.
        assert!(
            list()
                .iter()
                .all(|n| n.starts_with('.') && n.ends_with(".tmp"))
        );
        assert_eq!(list().len(), 2);
        drop(s);
        assert!(list().is_empty(), "{:?}", list());
        let mut s = Staging::new(&d);
        s.add(&file("a.csv")).unwrap();
        s.add(&file("b.json")).unwrap();
        let written = s.commit().unwrap();
        assert_eq!(written, vec![d.join("a.csv"), d.join("b.json")]);
        assert_eq!(list(), vec!["a.csv", "b.json"]);
        assert_eq!(fs::read(d.join("b.json")).unwrap(), b"b.json");
        fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn write_all_writes_nothing_when_one_file_cannot_be_written() {
        let d = tempdir("none");
        let out = d.join("out");
        fs::create_dir_all(&out).unwrap();
        fs::write(out.join("summary.json"), b"previous run").unwrap();
        // `plots` is a file, so plots/a.svg cannot be created.
        fs::write(out.join("plots"), b"in the way").unwrap();
        let files = vec![
            OutputFile {
                relative: "summary.json".into(),
                bytes: b"{}".to_vec(),
            },
            OutputFile {
                relative: "events.csv".into(),
                bytes: b"a,b".to_vec(),
            },
            OutputFile {
                relative: "plots/a.svg".into(),
                bytes: b"<svg/>".to_vec(),
            },
        ];
        let e = write_all(&out, &files).unwrap_err();
        assert!(e.to_string().contains("plots/a.svg"), "{e}");
        let mut names: Vec<_> = fs::read_dir(&out)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        assert_eq!(names, ["plots", "summary.json"]);
        assert_eq!(fs::read(out.join("summary.json")).unwrap(), b"previous run");
        fs::remove_dir_all(&d).unwrap();
    }

    #[cfg(unix)]
    #[test]
    fn written_files_have_the_mode_of_a_newly_created_file() {
        use std::os::unix::fs::PermissionsExt;
        let d = tempdir("mode");
        let plain = d.join("plain");
        fs::File::create(&plain).unwrap();
        write_atomic(&d.join("a.json"), b"{}").unwrap();
        let files = [OutputFile {
            relative: "b.csv".into(),
            bytes: b"a,b".to_vec(),
        }];
        write_all(&d, &files).unwrap();
        let mode = |name: &str| fs::metadata(d.join(name)).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode("a.json"), mode("plain"));
        assert_eq!(mode("b.csv"), mode("plain"));
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
