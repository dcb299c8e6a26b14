//! The reader on real files: generated IDX files raw and gzipped, every error case on disk,
//! and the real MNIST files when they are present.

use std::path::{Path, PathBuf};
use twinnet_data::idx::{encode_images, encode_labels};
use twinnet_data::{DataError, Dataset, Splits, FILES, PIXELS};
use twinnet_testkit::gz;

/// A small valid data folder: `n_train`/`n_test` images, pixel `i` of image `k` = `(k + i) % 256`.
fn write_folder(dir: &Path, n_train: usize, n_test: usize, gzip: bool) {
    for (names, n) in [(&FILES[..2], n_train), (&FILES[2..], n_test)] {
        let px: Vec<u8> =
            (0..n * PIXELS).map(|i| ((i / PIXELS + i % PIXELS) % 256) as u8).collect();
        let ls: Vec<u8> = (0..n).map(|k| (k % 10) as u8).collect();
        for (name, bytes) in
            [(names[0], encode_images(&px, 28, 28)), (names[1], encode_labels(&ls))]
        {
            let (path, data) = if gzip {
                (dir.join(format!("{name}.gz")), gz(&bytes))
            } else {
                (dir.join(name), bytes)
            };
            std::fs::write(path, data).unwrap();
        }
    }
}

#[test]
fn round_trip_raw_and_gzip() {
    for gzip in [false, true] {
        let dir = tempfile::tempdir().unwrap();
        write_folder(dir.path(), 12, 5, gzip);
        let m = Splits::load(dir.path()).unwrap();
        assert_eq!((m.train.len(), m.test.len()), (12, 5));
        assert_eq!(m.train.image(3)[0], 3);
        assert_eq!(m.train.image(3)[10], 13);
        assert_eq!(m.test.labels(), &[0, 1, 2, 3, 4]);
        assert_eq!(m.train.label_counts(), [2, 2, 1, 1, 1, 1, 1, 1, 1, 1]);
    }
}

#[test]
fn torchvision_layout_is_found() {
    let dir = tempfile::tempdir().unwrap();
    let raw = dir.path().join("MNIST").join("raw");
    std::fs::create_dir_all(&raw).unwrap();
    write_folder(&raw, 3, 2, true);
    assert_eq!(Splits::load(dir.path()).unwrap().train.len(), 3);
}

fn err_of(setup: impl FnOnce(&Path)) -> (DataError, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    write_folder(dir.path(), 4, 3, false);
    setup(dir.path());
    let err = Splits::load(dir.path()).unwrap_err();
    (err, dir.path().to_path_buf())
}

#[test]
fn missing_folder_and_file() {
    let err = Splits::load(Path::new("/nonexistent/twinnet")).unwrap_err();
    assert!(matches!(err, DataError::MissingDir { .. }));
    assert!(err.to_string().contains("/nonexistent/twinnet"));
    let (err, _) = err_of(|d| std::fs::remove_file(d.join(FILES[3])).unwrap());
    assert!(matches!(err, DataError::MissingFile { name: "t10k-labels-idx1-ubyte", .. }), "{err}");
}

#[test]
fn file_level_errors_name_the_file() {
    type Case = (&'static str, Box<dyn Fn(&Path)>, fn(&DataError) -> bool);
    let cases: Vec<Case> = vec![
        ("empty", Box::new(|d| std::fs::write(d.join(FILES[0]), b"").unwrap()), |e| {
            matches!(e, DataError::Truncated { part: "header", found: 0, .. })
        }),
        (
            "directory",
            Box::new(|d| {
                std::fs::remove_file(d.join(FILES[0])).unwrap();
                std::fs::create_dir(d.join(FILES[0])).unwrap();
            }),
            |e| matches!(e, DataError::IsDir { .. }),
        ),
        (
            "gz that is not gzip",
            Box::new(|d| {
                std::fs::remove_file(d.join(FILES[0])).unwrap();
                std::fs::write(d.join(format!("{}.gz", FILES[0])), b"plain text").unwrap();
            }),
            |e| matches!(e, DataError::Gzip { .. }),
        ),
        (
            "gz cut short",
            Box::new(|d| {
                let bytes = gz(&std::fs::read(d.join(FILES[0])).unwrap());
                std::fs::remove_file(d.join(FILES[0])).unwrap();
                std::fs::write(d.join(format!("{}.gz", FILES[0])), &bytes[..bytes.len() / 2])
                    .unwrap();
            }),
            |e| matches!(e, DataError::Gzip { .. }),
        ),
        (
            "label count",
            Box::new(|d| std::fs::write(d.join(FILES[1]), encode_labels(&[1, 2, 3])).unwrap()),
            |e| matches!(e, DataError::CountMismatch { n_images: 4, n_labels: 3, .. }),
        ),
    ];
    for (what, setup, check) in cases {
        let (err, dir) = err_of(setup);
        assert!(check(&err), "{what}: unexpected error {err:?}");
        let msg = err.to_string();
        assert!(
            msg.contains(&dir.display().to_string()),
            "{what}: message does not name the file: {msg}"
        );
    }
}

/// The real files, as `make data` installs them.
#[test]
#[ignore = "needs MNIST"]
fn real_mnist_label_counts() {
    let m = twinnet_testkit::mnist();
    assert_eq!(
        m.train.label_counts(),
        [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
    );
    assert_eq!(m.test.label_counts(), [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]);
    assert_eq!(m.train.pixels().len(), 60_000 * PIXELS);
    let _: &Dataset = &m.test;
}
