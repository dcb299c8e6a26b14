//! File writes that never leave a half-written file behind and never write through a link
//! planted where the temporary file would go ([`write_atomic`]).

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
