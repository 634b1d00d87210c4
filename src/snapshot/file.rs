//! Snapshot files in insta's format (`.snap`: a YAML header between `---`
//! lines, then the contents), so that `cargo insta review` and `cargo insta
//! accept` work on them. Writes are atomic ([`crate::source::atomic_file`]).

use std::fs;
use std::io;
use std::path::Path;

/// The part of a snapshot file that is compared.
pub fn read_contents(path: &Path) -> io::Result<Option<String>> {
    let text = match fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    let mut lines = text.split_inclusive('\n');
    let first = lines.next().unwrap_or_default();
    if first.trim_end() != "---" {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!(
                "{} is not a snapshot file: it does not start with a `---` header",
                path.display()
            ),
        ));
    }
    let mut in_header = true;
    let mut contents = String::new();
    for line in lines {
        if in_header {
            in_header = line.trim_end() != "---";
            continue;
        }
        contents.push_str(line);
    }
    if in_header {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("{}: the `---` header is never closed", path.display()),
        ));
    }
    Ok(Some(normalize(&contents)))
}

/// Line ends and trailing blank lines do not count, as in insta.
pub fn normalize(contents: &str) -> String {
    let mut text = contents.replace("\r\n", "\n").trim_end().to_string();
    text.push('\n');
    text
}

/// Writes a snapshot: `source` is the scenario file, `expression` the
/// request, as insta shows them when reviewing.
pub fn write(path: &Path, source: &str, expression: &str, contents: &str) -> io::Result<()> {
    let mut text = String::from("---\n");
    text.push_str(&format!("source: {}\n", quoted(source)));
    text.push_str(&format!("expression: {}\n", quoted(expression)));
    text.push_str("---\n");
    text.push_str(&normalize(contents));
    crate::source::atomic_file::write(path, text.as_bytes())
}

/// A YAML scalar written as insta writes it, so that `cargo insta accept`
/// leaves the header as it was: plain when that is safe, else double-quoted
/// (a JSON string is a YAML double-quoted scalar).
fn quoted(text: &str) -> String {
    let plain = !text.is_empty()
        && text.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '/' || c == '.')
        && !text.ends_with(' ')
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, ' ' | '_' | '.' | '/' | '-'));
    if plain {
        text.to_string()
    } else {
        serde_json::Value::String(text.to_string()).to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    #[test]
    fn insta_reads_what_is_written() {
        let dir = tempfile_dir("insta-reads");
        let path = dir.join("api__scenario__1.snap");
        let contents =
            "status: 200\ncontent-type: application/json\n\n{\n  \"id\": \"[uuid]\"\n}\n";
        write(
            &path,
            "scenarios/api/x.yaml",
            "GET /v2/\"quoted\"",
            contents,
        )
        .expect("written");
        let snapshot = insta::Snapshot::from_file(&path).expect("insta parses the file");
        assert_eq!(snapshot.metadata().source(), Some("scenarios/api/x.yaml"));
        assert_eq!(snapshot.metadata().expression(), Some("GET /v2/\"quoted\""));
        let text = snapshot
            .contents()
            .as_text()
            .expect("a text snapshot")
            .to_string();
        assert_eq!(format!("{text}\n"), contents);
        assert_eq!(
            read_contents(&path).expect("read").as_deref(),
            Some(contents)
        );
        let left: Vec<_> = fs::read_dir(&dir).expect("dir").collect();
        assert_eq!(left.len(), 1, "no temporary file is left behind");
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_file_that_is_not_a_snapshot_is_an_error_that_names_it() {
        let dir = tempfile_dir("not-a-snapshot");
        let path = dir.join("x.snap");
        fs::write(&path, "status: 200\n").expect("written");
        let error = read_contents(&path).expect_err("refused");
        assert!(error.to_string().contains("x.snap"), "{error}");
        fs::write(&path, "---\nsource: x\n").expect("written");
        let error = read_contents(&path).expect_err("refused");
        assert!(error.to_string().contains("never closed"), "{error}");
        assert_eq!(
            read_contents(&dir.join("absent.snap")).expect("absent"),
            None
        );
        let _ = fs::remove_dir_all(&dir);
    }

    fn tempfile_dir(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("understudy-snapshot-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).expect("temp dir");
        dir
    }
}
