//! File writes that never leave a half-written file behind and never write through a link
//! planted where the temporary file would go ([`write_atomic`]), and outputs the user names,
//! which are never replaced when they are not plain files ([`write_output`]).

use std::io::Write;
use std::path::Path;

/// Writes `bytes` to `path` through a temporary file in the same folder and a rename, so a
/// reader (or an interrupted run) sees either the old file or the complete new one.
///
/// The temporary file has an unpredictable name and is created exclusively (`tempfile`), so a
/// symbolic link planted in the folder cannot redirect the write; the rename replaces `path`
/// itself (a link there is replaced, its target untouched).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let name = path.file_name().ok_or_else(|| std::io::Error::other("not a file path"))?;
    let mut tmp = tempfile::Builder::new()
        .prefix(&temporary_prefix(&name.to_string_lossy()))
        .suffix(TEMPORARY_SUFFIX)
        .tempfile_in(dir)?;
    tmp.write_all(bytes)?;
    tmp.as_file().set_permissions(permissions_for(path))?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// Where an output named on the command line goes, by what is at its path now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// `-`: standard output.
    Stdout,
    /// Something that is not a plain file (a character device, a FIFO, a socket, or a link
    /// to one, such as `/dev/stdout`): written in place, streaming, never replaced.
    Stream,
    /// A regular file, a link to one, or a path where nothing is yet: written whole through
    /// [`write_atomic`].
    File,
}

impl Target {
    /// What `path` is as an output.
    pub fn of(path: &Path) -> Self {
        if path.as_os_str() == "-" {
            return Self::Stdout;
        }
        match std::fs::metadata(path) {
            Ok(m) if !m.is_file() && !m.is_dir() => Self::Stream,
            _ => Self::File,
        }
    }
}

/// Writes an output the user named: `-` to standard output; a device, FIFO or socket (or a
/// link to one) in place, streaming, as a shell's `>` would (the node itself is never
/// replaced: `--json /dev/stdout` works, and a device stays a device); anything else through
/// [`write_atomic`]. A FIFO blocks until something reads it, as with a shell.
pub fn write_output(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    match Target::of(path) {
        Target::Stdout => {
            let mut out = std::io::stdout().lock();
            out.write_all(bytes)?;
            out.flush()
        }
        Target::Stream => {
            let mut f = std::fs::OpenOptions::new().write(true).open(path)?;
            f.write_all(bytes)?;
            f.flush()
        }
        Target::File => write_atomic(path, bytes),
    }
}

/// Reads the text file `path`, at most `max` bytes: a larger one (or an endless one, such as
/// `/dev/zero` or a FIFO that never ends) is an error of kind `InvalidData` saying so, not an
/// allocation without bound.
pub fn read_text_capped(path: &Path, max: u64) -> std::io::Result<String> {
    use std::io::Read;
    let mut bytes = Vec::new();
    std::fs::File::open(path)?.take(max + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > max {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("larger than {} MiB, more than such a file ever holds", max >> 20),
        ));
    }
    String::from_utf8(bytes)
        .map_err(|_| std::io::Error::new(std::io::ErrorKind::InvalidData, "not UTF-8 text"))
}

/// How [`write_atomic`]'s temporary file for a file named `name` begins: `.<name>.`, then
/// random characters, then [`TEMPORARY_SUFFIX`].
fn temporary_prefix(name: &str) -> String {
    format!(".{name}.")
}

/// How [`write_atomic`]'s temporary files end.
const TEMPORARY_SUFFIX: &str = ".tmp";

/// Whether the file name `name` is that of [`write_atomic`]'s temporary file for a file named
/// `target` in the same folder (one being written at this moment, or left by a killed writer):
/// the prefix, `tempfile`'s random ASCII letters and digits, the suffix.
pub fn is_temporary_of(name: &str, target: &str) -> bool {
    name.strip_prefix(&temporary_prefix(target))
        .and_then(|rest| rest.strip_suffix(TEMPORARY_SUFFIX))
        .is_some_and(|random| {
            !random.is_empty() && random.chars().all(|c| c.is_ascii_alphanumeric())
        })
}

/// The permissions a file written at `path` gets: those of the file it replaces, else
/// `rw-r--r--` (a temporary file is created `rw-------`, which a result must not keep).
pub fn permissions_for(path: &Path) -> std::fs::Permissions {
    match std::fs::metadata(path) {
        Ok(m) if m.is_file() => m.permissions(),
        _ => default_permissions(0o644),
    }
}

/// `mode` on Unix; the platform's default elsewhere.
pub fn default_permissions(mode: u32) -> std::fs::Permissions {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::Permissions::from_mode(mode)
    }
    #[cfg(not(unix))]
    {
        let _ = mode;
        std::fs::metadata(".").map(|m| m.permissions()).expect("the current folder")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_whole_files_and_leaves_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.json");
        write_atomic(&p, b"one").unwrap();
        write_atomic(&p, b"two").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"two");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o644, "a result is readable by others, as any file written plainly");
        }
    }

    #[test]
    fn temporary_names_are_recognized_as_the_writes_own() {
        let dir = tempfile::tempdir().unwrap();
        // The name write_atomic's temporary file really gets (kept, not renamed).
        let kept = tempfile::Builder::new()
            .prefix(&temporary_prefix("plan.json"))
            .suffix(TEMPORARY_SUFFIX)
            .tempfile_in(dir.path())
            .unwrap();
        let name = kept.path().file_name().unwrap().to_str().unwrap();
        assert!(is_temporary_of(name, "plan.json"), "{name}");
        assert!(!is_temporary_of(name, "plan"), "{name}");
        assert!(is_temporary_of(".plan.json.Xa3kq9.tmp", "plan.json"));
        for other in ["plan.json.tmp", ".plan.json.swp", ".plan.json..tmp", ".plan.json.a.b.tmp"] {
            assert!(!is_temporary_of(other, "plan.json"), "{other}");
        }
    }

    /// A character device (the null device's numbers) and a FIFO made in a private folder,
    /// never the system's own nodes: written in place, never replaced by a regular file.
    #[cfg(target_os = "linux")]
    #[test]
    fn devices_and_fifos_are_written_in_place() {
        use std::os::unix::fs::FileTypeExt;
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("fifo");
        assert!(std::process::Command::new("mkfifo").arg(&fifo).status().unwrap().success());
        let reader = {
            let f = fifo.clone();
            std::thread::spawn(move || std::fs::read(f).unwrap())
        };
        write_output(&fifo, b"through the pipe").unwrap();
        assert_eq!(reader.join().unwrap(), b"through the pipe");
        assert!(std::fs::symlink_metadata(&fifo).unwrap().file_type().is_fifo());
        let null = dir.path().join("null");
        let made = std::process::Command::new("mknod").arg(&null).args(["c", "1", "3"]).status();
        if made.is_ok_and(|s| s.success()) {
            write_output(&null, b"gone").unwrap();
            let t = std::fs::symlink_metadata(&null).unwrap().file_type();
            assert!(t.is_char_device(), "the device was replaced by a {t:?}");
        } else {
            eprintln!("mknod needs root: the device case is skipped");
        }
        let plain = dir.path().join("plain.json");
        write_output(&plain, b"{}").unwrap();
        assert_eq!(Target::of(&plain), Target::File);
        assert_eq!(Target::of(Path::new("-")), Target::Stdout);
    }

    #[cfg(unix)]
    #[test]
    fn a_planted_link_is_replaced_not_followed() {
        let dir = tempfile::tempdir().unwrap();
        let outside = dir.path().join("outside.txt");
        std::fs::write(&outside, b"keep").unwrap();
        let inside = dir.path().join("results");
        std::fs::create_dir(&inside).unwrap();
        let p = inside.join("a.json");
        std::os::unix::fs::symlink(&outside, &p).unwrap();
        // The old predictable temporary name, planted too.
        let pid = std::process::id();
        std::os::unix::fs::symlink(&outside, inside.join(format!(".a.json.{pid}.tmp"))).unwrap();
        write_atomic(&p, b"new").unwrap();
        assert_eq!(std::fs::read(&outside).unwrap(), b"keep");
        assert_eq!(std::fs::read(&p).unwrap(), b"new");
        assert!(!std::fs::symlink_metadata(&p).unwrap().file_type().is_symlink());
    }
}
