//! Output stage: where a command writes and how. Output-folder naming, the folders a command may
//! not write (its inputs, `/`, the working folder), the lock on an output folder, the record of
//! capplan's own files in it, and writing a folder as a whole live here once: every command
//! makes a [`Product`] (its files and the names it owns), claims its folder with [`resolve`] and
//! writes with [`write`] (or [`write_in_place`], a shard's files in a shared folder), so `run`,
//! `chart`, `compare`, `resilience`, `sweep` and `merge` all behave alike.
//!
//! A folder is written whole: the new folder is built beside the old one
//! (`.NAME.capplan-new-PID`: the product's files, and every file of the old folder that is not
//! replaced, hard-linked), then swapped with it in one step (`renameat2(RENAME_EXCHANGE)` on
//! Linux, `RENAME_SWAP` on macOS; elsewhere, or where the file system cannot, two renames, a kill
//! between which the next command into the folder undoes), and the old one removed. A kill at
//! any moment leaves the old folder or the new one, never a mix; the next command into the same
//! folder removes what a killed one left beside it.

use std::collections::BTreeSet;
use std::ffi::OsString;
use std::fs::{self, File, OpenOptions};
use std::io::{ErrorKind, Read, Write};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
pub use crate::export::{OutputFile, Product};
use crate::load::flags::{cut_with_hash, WhatIfFlags};

/// capplan's record of the files it wrote in an output folder, one name a line: the only files
/// it ever replaces or removes there (unless `--force`).
pub const MANIFEST: &str = ".capplan-manifest";

const MANIFEST_HEADER: &str =
    "# The files capplan wrote in this folder: it replaces or removes these, never any other.\n";

/// The default output folder of a scenario: `output/<scenario name as a folder name>`.
pub fn default_folder(scenario_name: &str) -> PathBuf {
    PathBuf::from("output").join(folder_name(scenario_name))
}

/// The default output folder of a comparison: `output/compare-<names>`, cut to 80 characters
/// with a short hash of the full name when longer.
pub fn compare_folder(labels: &[String]) -> PathBuf {
    let names: Vec<String> = labels.iter().map(|l| folder_name(l)).collect();
    let name = format!("compare-{}", names.join("+"));
    PathBuf::from("output").join(cut_with_hash(&name, &name))
}

/// The default output folder of a scenario run with what-if flags:
/// `output/<scenario name><flags' folder suffix>` (`output/frontier-2026+demand-scale-1.3`), at most
/// 80 characters, cut with a hash of the flags' label when longer.
pub fn default_folder_with(scenario_name: &str, flags: &WhatIfFlags) -> PathBuf {
    if flags.is_empty() {
        return default_folder(scenario_name);
    }
    let name = format!("{}{}", folder_name(scenario_name), flags.folder_suffix());
    PathBuf::from("output").join(cut_with_hash(&name, &flags.label()))
}

/// The default output folder of a held run (`--reservations-from PLAN`): the re-plan's folder
/// name plus `+held-<plan folder>` (and `+emergency` under emergency rules), so a held dispatch
/// never overwrites the re-planned run of the same scenario and flags, and says what it holds.
pub fn held_folder(replanned: &Path, plan_dir: &Path, emergency: bool) -> PathBuf {
    let base = replanned
        .file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
    let plan = plan_dir
        .canonicalize()
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "plan".to_string());
    let rules = if emergency { "+emergency" } else { "" };
    let name = format!("{base}+held-{}{rules}", folder_name(&plan));
    replanned.with_file_name(cut_with_hash(&name, &name))
}

/// A name as a folder name: letters, digits, `.`, `_`, `-`; anything else becomes `-`.
pub fn folder_name(name: &str) -> String {
    let s: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '-'
            }
        })
        .collect();
    let s = s.trim_matches(|c| c == '-' || c == '.').to_string();
    if s.is_empty() {
        "scenario".into()
    } else {
        s
    }
}

/// The default output folder of a sweep: `output/sweep-<sweep name>`.
pub fn sweep_folder(name: &str) -> PathBuf {
    PathBuf::from("output").join(format!("sweep-{}", folder_name(name)))
}

/// The default output folder of a robust plan: `output/robust-<sweep name>`.
pub fn robust_folder(name: &str) -> PathBuf {
    PathBuf::from("output").join(format!("robust-{}", folder_name(name)))
}

/// The default output folder of a resilience matrix: `output/resilience-<scenario name>`.
pub fn resilience_folder(scenario_name: &str) -> PathBuf {
    PathBuf::from("output").join(format!("resilience-{}", folder_name(scenario_name)))
}

/// A folder a command reads, which its output folder may neither be, lie in nor hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Input {
    pub folder: PathBuf,
    /// What it is, for messages: `scenario folder`, `sweep file's folder`.
    pub what: String,
    /// Said after the folder in messages: ` (which scenarios/aws-delay extends)`.
    pub after: String,
    /// An output folder may lie inside it (the folder of an input file, whose other contents
    /// are not inputs): only being it or holding it is refused.
    pub inside_allowed: bool,
}

impl Input {
    pub fn new(folder: impl Into<PathBuf>, what: impl Into<String>) -> Input {
        Input {
            folder: folder.into(),
            what: what.into(),
            after: String::new(),
            inside_allowed: false,
        }
    }

    /// The folder of an input file (a sweep file): an output folder may be made inside it, as
    /// `output/` beside a sweep file in the working folder, but may not be it or hold it.
    pub fn file_folder(folder: impl Into<PathBuf>, what: impl Into<String>) -> Input {
        Input {
            inside_allowed: true,
            ..Input::new(folder, what)
        }
    }

    /// A scenario folder that `child` extends.
    pub fn extended(folder: impl Into<PathBuf>, child: &Path) -> Input {
        Input {
            after: format!(" (which {} extends)", child.display()),
            ..Input::new(folder, "scenario folder")
        }
    }

    /// How messages name it: `scenario folder s (which t extends)`.
    fn named(&self) -> String {
        format!("{} {}{}", self.what, self.folder.display(), self.after)
    }
}

/// How a command holds its output folder.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Claim {
    /// Replace and remove files of the product's names that capplan's record does not list
    /// (`--force`): files of an earlier capplan without the record, or a user's.
    pub force: bool,
    /// The folder is shared with other commands writing their own files at the same time (the
    /// shards of a sweep): locked only while each write lasts, a second writer waiting its turn,
    /// and written in place ([`write_in_place`]), never swapped whole.
    pub shared: bool,
}

/// An output folder claimed by a command: checked against its inputs, and (unless shared) locked
/// until the command ends, so no other capplan writes it meanwhile.
#[derive(Debug)]
pub struct Folder {
    /// As the user named it: what messages show.
    shown: PathBuf,
    /// Absolute, links resolved: where the folder is written and swapped.
    real: PathBuf,
    force: bool,
    /// Held until the command ends; `None` for a shared folder, locked for each write instead.
    lock: Option<Lock>,
}

impl Folder {
    /// The folder as the user named it.
    pub fn path(&self) -> &Path {
        &self.shown
    }
}

/// The folder to write: `out` when given, else the default; refused when it is the root of a
/// file system, the working folder or one holding it (it is replaced whole), when it is, lies
/// in or holds one of the input folders (inputs are never modified), or when something else
/// has its name. Unless `claim.shared`, it is locked for the rest of the command: a second
/// capplan writing the same folder fails at once, naming it and the process that holds it.
pub fn resolve(
    out: Option<&Path>,
    default: PathBuf,
    inputs: &[Input],
    claim: Claim,
) -> Result<Folder> {
    let given = out.is_some();
    let shown = out.map(Path::to_path_buf).unwrap_or(default);
    let real = real_path(&shown)?;
    let fix = if given {
        "choose another --out"
    } else {
        "pass --out with a folder outside it, e.g. --out /tmp/capplan-run"
    };
    if real.parent().is_none() || real.file_name().is_none() {
        return Err(Error::Usage(format!(
            "output folder {}: the root of a file system cannot be an output folder (capplan replaces its output folder as a whole); choose a folder of its own, e.g. --out /tmp/capplan-run",
            shown.display()
        )));
    }
    for input in inputs {
        let Ok(folder) = input.folder.canonicalize() else {
            continue;
        };
        if real.starts_with(&folder) && !(input.inside_allowed && real != folder) {
            return Err(Error::Usage(format!(
                "output folder {} is inside the {}; capplan never writes into its inputs ({fix})",
                shown.display(),
                input.named()
            )));
        }
        if folder.starts_with(&real) {
            return Err(Error::Usage(format!(
                "output folder {} holds the {}; capplan replaces its output folder as a whole and never touches its inputs ({fix})",
                shown.display(),
                input.named()
            )));
        }
    }
    if let Ok(cwd) = std::env::current_dir().and_then(|d| d.canonicalize()) {
        if cwd.starts_with(&real) {
            return Err(Error::Usage(format!(
                "output folder {} is the working folder or holds it; capplan replaces its output folder as a whole, which would leave this shell in a removed folder: choose another --out, or run capplan from outside it",
                shown.display()
            )));
        }
    }
    if fs::metadata(&real).is_ok_and(|m| !m.is_dir()) {
        return Err(Error::Usage(format!(
            "output folder {} exists and is not a folder; {fix}",
            shown.display()
        )));
    }
    if mount_point(&real) {
        return Err(Error::Usage(format!(
            "output folder {} is a mount point, which capplan cannot replace as a whole (it builds the new folder beside the old one and swaps them); write into a folder inside it, e.g. --out {}",
            shown.display(),
            shown.join("run").display()
        )));
    }
    // Checked writable before any work (a shard finds out now, not after its samples), under
    // the lock: a shared folder's is taken for the check only, as for each later write.
    let lock = Lock::take(&real, &shown, claim.shared)?;
    if !claim.shared {
        recover(&real, &shown)?;
    }
    probe(&real, &shown, claim.shared)?;
    let lock = (!claim.shared).then_some(lock);
    Ok(Folder {
        shown,
        real,
        force: claim.force,
        lock,
    })
}

/// Whether `real` is an existing folder on another file system than the folder holding it.
fn mount_point(real: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        match (fs::metadata(real), real.parent().map(fs::metadata)) {
            (Ok(m), Some(Ok(p))) => m.is_dir() && m.dev() != p.dev(),
            _ => false,
        }
    }
    #[cfg(not(unix))]
    {
        let _ = real;
        false
    }
}

/// `dir` absolute, with links and `..` resolved: the deepest existing ancestor canonicalised,
/// the rest (not made yet) appended.
fn real_path(dir: &Path) -> Result<PathBuf> {
    let absolute = if dir.is_absolute() {
        dir.to_path_buf()
    } else {
        std::env::current_dir()
            .map_err(|e| Error::io(".", e))?
            .join(dir)
    };
    let mut existing = absolute.as_path();
    let mut rest = Vec::new();
    while fs::symlink_metadata(existing).is_err() {
        match (existing.parent(), existing.file_name()) {
            (Some(parent), Some(name)) => {
                rest.push(name.to_os_string());
                existing = parent;
            }
            _ => break,
        }
    }
    let mut resolved = existing
        .canonicalize()
        .unwrap_or_else(|_| existing.to_path_buf());
    for name in rest.iter().rev() {
        if name == ".." {
            resolved.pop();
        } else if name != "." {
            resolved.push(name);
        }
    }
    Ok(resolved)
}

/// The name of a file or folder capplan keeps beside the output folder `real`:
/// `.NAME.capplan-TAG` (a hash of NAME for a name too long to bear more).
fn sibling(real: &Path, tag: &str) -> PathBuf {
    let name = real
        .file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
    let key = if name.len() <= 160 {
        name
    } else {
        use sha2::{Digest, Sha256};
        let digest = Sha256::digest(name.as_bytes());
        digest.iter().take(8).map(|b| format!("{b:02x}")).collect()
    };
    real.with_file_name(format!(".{key}.capplan-{tag}"))
}

/// The lock on an output folder: `flock` on `.NAME.capplan-lock` beside it (the folder itself is
/// swapped, so it cannot hold its own lock), the holder's process id written inside. Dropped: the
/// lock file removed (still locked, so no one else holds it), and the folders made to hold it
/// removed again when nothing else was put there.
#[derive(Debug)]
struct Lock {
    /// Held open: the lock lasts as long as the file is open.
    _file: File,
    path: PathBuf,
    made: Vec<PathBuf>,
}

impl Lock {
    /// Locks `real`'s lock file; `wait`: until the holder lets go (saying so on stderr), else an
    /// error naming the folder and the holder.
    fn take(real: &Path, shown: &Path, wait: bool) -> Result<Lock> {
        let parent = real.parent().expect("a root is refused");
        let made = Made(make_folders(parent).map_err(|e| {
            // create_dir_all's word for a file where a folder should be.
            let e = match e.kind() {
                ErrorKind::AlreadyExists => std::io::Error::new(
                    ErrorKind::NotADirectory,
                    "a file is in the way of a folder",
                ),
                _ => e,
            };
            unwritable(shown, Some(parent), e)
        })?);
        let path = sibling(real, "lock");
        loop {
            let file = OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .open(&path)
                .map_err(|e| Error::io(shown, lock_error(e, parent)))?;
            match fs4::FileExt::try_lock(&file) {
                Ok(()) => {}
                Err(fs4::TryLockError::WouldBlock) => {
                    let holder = holder(&file);
                    if !wait {
                        return Err(Error::io(
                            shown,
                            std::io::Error::new(
                                ErrorKind::WouldBlock,
                                format!(
                                    "{holder} is writing this output folder (lock {}); wait for it to finish, or choose another --out",
                                    path.display()
                                ),
                            ),
                        ));
                    }
                    eprintln!("waiting for {holder}, which is writing {}", shown.display());
                    fs4::FileExt::lock(&file)
                        .map_err(|e| Error::io(shown, lock_error(e, parent)))?;
                }
                Err(fs4::TryLockError::Error(e)) => {
                    return Err(Error::io(shown, lock_error(e, parent)))
                }
            }
            // The holder may have removed the file (and another process made a new one) between
            // our open and our lock: a lock on a removed file locks nothing.
            if same_file(&file, &path) {
                let mut file = file;
                let _ = file
                    .set_len(0)
                    .and_then(|()| write!(file, "{}", std::process::id()));
                return Ok(Lock {
                    _file: file,
                    path,
                    made: made.keep(),
                });
            }
        }
    }
}

impl Drop for Lock {
    fn drop(&mut self) {
        // Removed while still locked: a process that opened it meanwhile finds it gone
        // (`same_file`) and opens the next one.
        let _ = fs::remove_file(&self.path);
        remove_empty(&self.made);
    }
}

/// Folders made for an output folder, removed again (when empty) unless kept.
struct Made(Vec<PathBuf>);

impl Made {
    fn keep(mut self) -> Vec<PathBuf> {
        std::mem::take(&mut self.0)
    }
}

impl Drop for Made {
    fn drop(&mut self) {
        remove_empty(&self.0);
    }
}

/// Removes the folders, deepest first, while they are empty.
fn remove_empty(made: &[PathBuf]) {
    for dir in made {
        if fs::remove_dir(dir).is_err() {
            break;
        }
    }
}

/// Makes `dir` and its missing ancestors; returns those it made, deepest first.
fn make_folders(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut missing = Vec::new();
    let mut d = dir;
    while fs::symlink_metadata(d).is_err() {
        missing.push(d.to_path_buf());
        match d.parent() {
            Some(p) => d = p,
            None => break,
        }
    }
    fs::create_dir_all(dir)?;
    Ok(missing)
}

/// Says what a failure to make or lock the lock file means: the folder holding the output folder
/// cannot be written, or the file system has no locks.
fn lock_error(e: std::io::Error, parent: &Path) -> std::io::Error {
    if cannot_write(&e) {
        return unwritable_because(Some(parent), e);
    }
    std::io::Error::new(
        e.kind(),
        format!(
            "cannot lock the output folder ({e}); capplan locks it with a file beside it and replaces it as a whole, which needs a file system with locks and write permission on {}",
            parent.display()
        ),
    )
}

/// Whether an error says a place cannot be written (permissions, a read-only file system, a file
/// where a folder should be), rather than that something else went wrong.
fn cannot_write(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        ErrorKind::PermissionDenied | ErrorKind::ReadOnlyFilesystem | ErrorKind::NotADirectory
    )
}

/// The error of an output folder that cannot be written (`holder`: the folder that holds it, or
/// would, when that is what cannot be written): said before any work, naming the user capplan
/// runs as and the ways out.
fn unwritable(shown: &Path, holder: Option<&Path>, e: std::io::Error) -> Error {
    Error::io(shown, unwritable_because(holder, e))
}

fn unwritable_because(holder: Option<&Path>, e: std::io::Error) -> std::io::Error {
    let place = match holder {
        None => "the output folder cannot be written".to_string(),
        Some(h) => format!(
            "{}, which holds the output folder, cannot be made or written",
            h.display()
        ),
    };
    let fix = match e.kind() {
        ErrorKind::PermissionDenied => {
            #[cfg(any(target_os = "linux", target_os = "macos"))]
            let user = format!("user {}", rustix::process::geteuid().as_raw());
            #[cfg(not(any(target_os = "linux", target_os = "macos")))]
            let user = "the user capplan runs as".to_string();
            format!("choose another --out, or let {user} (the user capplan runs as) write there")
        }
        ErrorKind::ReadOnlyFilesystem => {
            "choose another --out, or mount the file system read-write".to_string()
        }
        _ => "choose another --out".to_string(),
    };
    std::io::Error::new(
        e.kind(),
        format!("{place} ({e}); found before any work: {fix}"),
    )
}

/// Checks, before any work, that the output folder can be written, where capplan will write: a
/// folder that is replaced whole is built beside the old one, so a folder is made and removed
/// there (`.NAME.capplan-probe-PID`, beside it like the half-built folders, so the old folder is
/// never touched and a kill at this moment leaves it as it was); a shared folder (a shard's) is
/// written into, so a file is made and removed in it; a folder that does not exist yet is made
/// and removed again (the folder holding it exists by now: the lock file is in it). Called under
/// the lock.
fn probe(real: &Path, shown: &Path, shared: bool) -> Result<()> {
    let parent = real.parent().expect("a root is refused");
    if !shared && fs::symlink_metadata(real).is_ok() {
        let beside = sibling(real, &format!("probe-{}", std::process::id()));
        let _ = fs::remove_dir(&beside);
        return fs::create_dir(&beside)
            .and_then(|()| fs::remove_dir(&beside))
            .map_err(|e| unwritable(shown, Some(parent), e));
    }
    if fs::symlink_metadata(real).is_ok() {
        // Named as a temporary file of capplan's record (`..capplan-manifest.XXXXXX.tmp`, as
        // `replace` names one), which the next write removes should a kill leave it.
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos())
            ^ std::process::id();
        let mut attempt: u32 = 0;
        return loop {
            let mark = seed.wrapping_add(attempt.wrapping_mul(0x9e37_79b9)) & 0xff_ffff;
            let probe = real.join(format!(".{MANIFEST}.{mark:06x}.tmp"));
            match OpenOptions::new().write(true).create_new(true).open(&probe) {
                Ok(_) => {
                    let _ = fs::remove_file(&probe);
                    break Ok(());
                }
                Err(e) if e.kind() == ErrorKind::AlreadyExists && attempt < 100 => attempt += 1,
                Err(e) => break Err(unwritable(shown, None, e)),
            }
        };
    }
    fs::create_dir(real)
        .and_then(|()| fs::remove_dir(real))
        .map_err(|e| unwritable(shown, Some(parent), e))
}

/// Who holds a lock: the process id its file names.
fn holder(mut file: &File) -> String {
    let mut text = String::new();
    let _ = file.read_to_string(&mut text);
    match text.trim().parse::<u32>() {
        Ok(pid) => format!("another capplan (process {pid})"),
        Err(_) => "another capplan".to_string(),
    }
}

/// Whether the open file is still the one at `path`.
fn same_file(file: &File, path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        match (file.metadata(), fs::metadata(path)) {
            (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
            _ => false,
        }
    }
    #[cfg(not(unix))]
    {
        let _ = (file, path);
        true
    }
}

/// Under the lock: what a killed command left beside the folder. A new folder it was building,
/// an old one it swapped out, or the empty folder of its writability probe, is removed; an old folder moved aside when the folder itself is
/// missing (a kill between the two renames of a swap where the file system cannot exchange) is
/// moved back.
fn recover(real: &Path, shown: &Path) -> Result<()> {
    let parent = real.parent().expect("a root is refused");
    let prefix = sibling(real, "")
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let Ok(entries) = fs::read_dir(parent) else {
        return Ok(());
    };
    let mut leftovers: Vec<(String, PathBuf)> = Vec::new();
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let Some(rest) = name.strip_prefix(&prefix) else {
            continue;
        };
        let kind = ["new-", "old-", "probe-"].into_iter().find(|k| {
            rest.strip_prefix(k)
                .is_some_and(|pid| !pid.is_empty() && pid.bytes().all(|b| b.is_ascii_digit()))
        });
        if let Some(kind) = kind {
            leftovers.push((kind.to_string(), e.path()));
        }
    }
    leftovers.sort();
    for (kind, path) in leftovers {
        if kind == "old-" && fs::symlink_metadata(real).is_err() {
            fs::rename(&path, real).map_err(|e| Error::io(shown, e))?;
            continue;
        }
        remove_any(&path).map_err(|e| Error::io(&path, e))?;
    }
    Ok(())
}

/// Removes a file, a link or a folder with everything in it (a link is removed, not followed).
fn remove_any(path: &Path) -> std::io::Result<()> {
    match fs::symlink_metadata(path) {
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
        Ok(m) if m.is_dir() => fs::remove_dir_all(path),
        Ok(_) => fs::remove_file(path),
    }
}

/// The names capplan's record in `dir` lists, and whether there is a record.
fn read_manifest(dir: &Path, shown: &Path) -> Result<(BTreeSet<String>, bool)> {
    let path = dir.join(MANIFEST);
    match fs::read_to_string(&path) {
        Ok(text) => Ok((
            text.lines()
                .map(str::trim)
                .filter(|l| !l.is_empty() && !l.starts_with('#'))
                .map(str::to_string)
                .collect(),
            true,
        )),
        Err(e) if e.kind() == ErrorKind::NotFound => Ok((BTreeSet::new(), false)),
        Err(e) => Err(Error::io(shown.join(MANIFEST), e)),
    }
}

fn manifest_text(names: &BTreeSet<String>) -> String {
    let mut text = MANIFEST_HEADER.to_string();
    for n in names {
        text.push_str(n);
        text.push('\n');
    }
    text
}

/// What a product does to the entries of an existing folder.
struct Plan {
    /// Every entry name of the old folder at the time it was read.
    seen: BTreeSet<OsString>,
    /// Entries carried into the new folder.
    carry: Vec<OsString>,
    /// capplan's record of the new folder.
    manifest: BTreeSet<String>,
}

/// Decides, for the folder `dir` (which may not exist), what `product` replaces, removes and
/// carries; refuses to replace a file capplan's record does not list unless `force`.
fn plan(dir: &Path, shown: &Path, product: &Product, force: bool) -> Result<Plan> {
    let (recorded, has_record) = read_manifest(dir, shown)?;
    let writing: BTreeSet<&str> = product.files.iter().map(|f| f.name.as_str()).collect();
    let mut seen = BTreeSet::new();
    let mut carry = Vec::new();
    let mut manifest: BTreeSet<String> = writing.iter().map(|n| n.to_string()).collect();
    let mut foreign = Vec::new();
    let entries = match fs::read_dir(dir) {
        Ok(entries) => Some(entries),
        Err(e) if e.kind() == ErrorKind::NotFound => None,
        Err(e) => return Err(Error::io(shown, e)),
    };
    for e in entries.into_iter().flatten() {
        let e = e.map_err(|e| Error::io(shown, e))?;
        let os = e.file_name();
        seen.insert(os.clone());
        let Some(name) = os.to_str() else {
            carry.push(os);
            continue;
        };
        let ours = recorded.contains(name);
        if name == MANIFEST {
            continue;
        }
        if writing.contains(name) {
            if !ours && !force {
                foreign.push(name.to_string());
            }
            continue;
        }
        if product.owned.iter().any(|n| n == name) && (ours || force) {
            continue;
        }
        if stale_temp(name, product, &recorded) {
            continue;
        }
        if ours {
            manifest.insert(name.to_string());
        }
        carry.push(os);
    }
    if !foreign.is_empty() {
        foreign.sort();
        let shown_names: Vec<&str> = foreign.iter().take(3).map(String::as_str).collect();
        let more = match foreign.len() {
            n if n > 3 => format!(" and {} more", n - 3),
            _ => String::new(),
        };
        let why = if has_record {
            format!(
                "{} does not list {}",
                shown.join(MANIFEST).display(),
                if foreign.len() == 1 { "it" } else { "them" }
            )
        } else {
            format!(
                "the folder has no {MANIFEST}, capplan's record of its own files: an earlier capplan, or something else, wrote it"
            )
        };
        return Err(Error::Usage(format!(
            "output folder {} holds {}{more}, which capplan did not write ({why}); capplan never replaces a file it did not write: move {} away, choose another --out, or pass --force to replace {}",
            shown.display(),
            shown_names.join(", "),
            if foreign.len() == 1 { "it" } else { "them" },
            if foreign.len() == 1 { "it" } else { "them" },
        )));
    }
    Ok(Plan {
        seen,
        carry,
        manifest,
    })
}

/// A temporary file an earlier capplan left when killed while writing one of its files in place
/// (or checking the folder can be written): `.NAME.XXXXXX.tmp`, NAME being a file of this
/// product, of capplan's record, or the record itself.
fn stale_temp(name: &str, product: &Product, recorded: &BTreeSet<String>) -> bool {
    let Some(inner) = name.strip_prefix('.').and_then(|n| n.strip_suffix(".tmp")) else {
        return false;
    };
    let Some((file, random)) = inner.rsplit_once('.') else {
        return false;
    };
    random.len() == 6
        && random.bytes().all(|b| b.is_ascii_alphanumeric())
        && (file == MANIFEST
            || recorded.contains(file)
            || product.owned.iter().any(|n| n == file)
            || product.files.iter().any(|f| f.name == file))
}

/// Removes from a claimed folder, in one swap (see [`write`]), the files of `product`'s names that
/// capplan wrote there: an earlier result. Every other file stays; a folder holding none is left
/// alone. A command that fails after this leaves no earlier result that looks like its own (a
/// merge refusing a missing shard). Returns whether anything was removed.
pub fn clear(folder: &Folder, product: &Product) -> Result<bool> {
    let (recorded, _) = read_manifest(&folder.real, &folder.shown)?;
    let stale = product
        .owned
        .iter()
        .any(|n| recorded.contains(n) && fs::symlink_metadata(folder.real.join(n)).is_ok());
    if stale {
        write(folder, &Product::new(Vec::new(), product.owned.clone()))?;
    }
    Ok(stale)
}

/// Writes a product into its folder as a whole — the one way every command but a shard writes.
///
/// The new folder is built beside the old one: the product's files (each written and synced),
/// every entry of the old folder that this product neither replaces nor removes (hard-linked, or
/// copied where links cannot be made), and capplan's record of its files. It is then swapped
/// with the old folder in one step and the old one removed (an entry another program made in the
/// old folder meanwhile is moved across first). A file of the product's names that capplan's
/// record does not list is never replaced nor removed, but refused (unless `--force`); no other
/// file is touched. A failed write leaves the old folder as it was, and no new folder.
pub fn write(folder: &Folder, product: &Product) -> Result<Vec<PathBuf>> {
    let _lock = match folder.lock {
        Some(_) => None,
        None => {
            let lock = Lock::take(&folder.real, &folder.shown, true)?;
            recover(&folder.real, &folder.shown)?;
            Some(lock)
        }
    };
    let real = &folder.real;
    let shown = &folder.shown;
    let plan = plan(real, shown, product, folder.force)?;
    let new = sibling(real, &format!("new-{}", std::process::id()));
    remove_any(&new).map_err(|e| Error::io(&new, e))?;
    if let Err(e) = build(folder, product, &plan, &new) {
        let _ = remove_any(&new);
        return Err(e);
    }
    let old = match swap(&new, real) {
        Ok(old) => old,
        Err(e) => {
            let _ = remove_any(&new);
            return Err(Error::io(shown, e));
        }
    };
    if let Some(old) = old {
        // Entries made in the old folder after it was read: moved into the new one, not lost.
        if let Ok(entries) = fs::read_dir(&old) {
            for e in entries.flatten() {
                let name = e.file_name();
                if !plan.seen.contains(&name) && fs::symlink_metadata(real.join(&name)).is_err() {
                    let _ = fs::rename(e.path(), real.join(&name));
                }
            }
        }
        remove_any(&old).map_err(|e| Error::io(&old, e))?;
    }
    if let Some(parent) = real.parent() {
        sync_folder(parent, shown)?;
    }
    Ok(product.files.iter().map(|f| shown.join(&f.name)).collect())
}

/// Builds the new folder at `new` (see [`write`]); errors name the output folder's files.
fn build(folder: &Folder, product: &Product, plan: &Plan, new: &Path) -> Result<()> {
    let (real, shown) = (&folder.real, &folder.shown);
    fs::create_dir(new).map_err(|e| Error::io(shown, e))?;
    for name in &plan.carry {
        carry(&real.join(name), &new.join(name)).map_err(|e| Error::io(shown.join(name), e))?;
    }
    let manifest = manifest_text(&plan.manifest);
    let files: Vec<(&str, &[u8])> = product
        .files
        .iter()
        .map(|f| (f.name.as_str(), f.bytes.as_slice()))
        .chain([(MANIFEST, manifest.as_bytes())])
        .collect();
    let mut written = Vec::with_capacity(files.len());
    for (name, bytes) in &files {
        debug_assert!(
            *name == MANIFEST || plain_name(name),
            "an output file name: {name}"
        );
        let file = write_new(&new.join(name), bytes).map_err(|e| Error::io(shown.join(name), e))?;
        written.push((*name, file));
    }
    // Every file made durable before the swap (a power cut must not swap in empty files); synced
    // together, so the file system commits them at once instead of one by one.
    use rayon::prelude::*;
    written
        .par_iter()
        .try_for_each(|(name, file)| file.sync_all().map_err(|e| Error::io(shown.join(name), e)))?;
    if let Ok(m) = fs::metadata(real) {
        fs::set_permissions(new, m.permissions()).map_err(|e| Error::io(shown, e))?;
    }
    sync_folder(new, shown)
}

/// A file name of an output folder: one component, not capplan's record.
fn plain_name(name: &str) -> bool {
    !name.is_empty()
        && name != MANIFEST
        && name != "."
        && name != ".."
        && !name.contains(['/', '\\', '\0'])
}

/// A new file with `bytes` (not yet synced).
fn write_new(path: &Path, bytes: &[u8]) -> std::io::Result<File> {
    let mut f = OpenOptions::new().write(true).create_new(true).open(path)?;
    f.write_all(bytes)?;
    Ok(f)
}

/// An entry of the old folder into the new one: a file hard-linked (copied where links cannot be
/// made), a link made again, a folder made again with its entries carried.
fn carry(from: &Path, to: &Path) -> std::io::Result<()> {
    let meta = fs::symlink_metadata(from)?;
    let kind = meta.file_type();
    if kind.is_symlink() {
        #[cfg(unix)]
        return std::os::unix::fs::symlink(fs::read_link(from)?, to);
        #[cfg(not(unix))]
        return fs::copy(from, to).map(|_| ());
    }
    if kind.is_dir() {
        fs::create_dir(to)?;
        for e in fs::read_dir(from)? {
            let e = e?;
            carry(&e.path(), &to.join(e.file_name()))?;
        }
        return fs::set_permissions(to, meta.permissions());
    }
    if kind.is_file() {
        if fs::hard_link(from, to).is_err() {
            fs::copy(from, to)?;
        }
        return Ok(());
    }
    Err(std::io::Error::other(
        "neither a file, a folder nor a link, so capplan cannot carry it into the new output folder; move it out of the folder",
    ))
}

/// Puts the built folder `new` in the place of `real`; returns where the old folder now is.
fn swap(new: &Path, real: &Path) -> std::io::Result<Option<PathBuf>> {
    if fs::symlink_metadata(real).is_err() {
        fs::rename(new, real)?;
        return Ok(None);
    }
    #[cfg(any(target_os = "linux", target_os = "macos"))]
    {
        use rustix::fs::{renameat_with, RenameFlags, CWD};
        use rustix::io::Errno;
        match renameat_with(CWD, new, CWD, real, RenameFlags::EXCHANGE) {
            Ok(()) => return Ok(Some(new.to_path_buf())),
            // The file system (or kernel) cannot exchange: two renames instead.
            Err(e)
                if [Errno::INVAL, Errno::NOSYS, Errno::NOTSUP, Errno::OPNOTSUPP].contains(&e) => {}
            Err(e) => return Err(e.into()),
        }
    }
    // Between these renames the folder is missing; a kill there is undone by `recover`.
    let old = sibling(real, &format!("old-{}", std::process::id()));
    fs::rename(real, &old)?;
    if let Err(e) = fs::rename(new, real) {
        let _ = fs::rename(&old, real);
        return Err(e);
    }
    Ok(Some(old))
}

/// Writes a shard's files (or a checkpoint) into a folder in place: each file through a
/// temporary file beside it, written, synced and renamed. capplan's record lists a file before it
/// is renamed in and loses it after it is removed, so it never misses a file of capplan's. For a
/// folder other commands write their own files into at the same time: the shards of one sweep
/// (each has its own files; a merge checks them). The rules of [`write`] hold for each file.
pub fn write_in_place(folder: &Folder, product: &Product) -> Result<Vec<PathBuf>> {
    let _lock = match folder.lock {
        Some(_) => None,
        None => {
            let lock = Lock::take(&folder.real, &folder.shown, true)?;
            recover(&folder.real, &folder.shown)?;
            Some(lock)
        }
    };
    let (real, shown) = (&folder.real, &folder.shown);
    let made = fs::symlink_metadata(real).is_err();
    let written = in_place(folder, product);
    if written.is_err() && made {
        let _ = remove_any(real);
    }
    written.map(|()| product.files.iter().map(|f| shown.join(&f.name)).collect())
}

fn in_place(folder: &Folder, product: &Product) -> Result<()> {
    let (real, shown) = (&folder.real, &folder.shown);
    fs::create_dir_all(real).map_err(|e| Error::io(shown, e))?;
    let plan = plan(real, shown, product, folder.force)?;
    let (recorded, _) = read_manifest(real, shown)?;
    let mut listed: BTreeSet<String> = recorded.union(&plan.manifest).cloned().collect();
    replace(real, shown, MANIFEST, manifest_text(&listed).as_bytes())?;
    for f in &product.files {
        debug_assert!(plain_name(&f.name), "an output file name: {}", f.name);
        replace(real, shown, &f.name, &f.bytes)?;
    }
    let carried: BTreeSet<&str> = plan.carry.iter().filter_map(|n| n.to_str()).collect();
    let mut removed = false;
    for name in &plan.seen {
        let Some(name) = name.to_str() else { continue };
        let written = product.files.iter().any(|f| f.name == name);
        if name != MANIFEST && !written && !carried.contains(name) {
            remove_any(&real.join(name)).map_err(|e| Error::io(shown.join(name), e))?;
            removed |= listed.remove(name);
        }
    }
    if removed {
        replace(real, shown, MANIFEST, manifest_text(&listed).as_bytes())?;
    }
    sync_folder(real, shown)
}

/// One file of a folder replaced through a temporary file beside it (`.NAME.XXXXXX.tmp`).
fn replace(dir: &Path, shown: &Path, name: &str, bytes: &[u8]) -> Result<()> {
    let fail = |e| Error::io(shown.join(name), e);
    let prefix = format!(".{name}.");
    let mut builder = tempfile::Builder::new();
    builder.prefix(&prefix).suffix(".tmp");
    // As any file a program creates (0666 less the umask), not a temporary file's 0600.
    #[cfg(unix)]
    builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o666));
    let mut tmp = builder.tempfile_in(dir).map_err(fail)?;
    tmp.write_all(bytes)
        .and_then(|()| tmp.as_file().sync_all())
        .map_err(fail)?;
    tmp.persist(dir.join(name)).map_err(|e| fail(e.error))?;
    Ok(())
}

/// Makes the renames of a folder durable (a no-op where folders cannot be opened as files).
fn sync_folder(dir: &Path, shown: &Path) -> Result<()> {
    #[cfg(unix)]
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| Error::io(shown, e))?;
    #[cfg(not(unix))]
    let _ = (dir, shown);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folder_names_are_safe() {
        assert_eq!(folder_name("Base plan 2026/2027"), "Base-plan-2026-2027");
        assert_eq!(folder_name("../x"), "x");
        assert_eq!(folder_name("///"), "scenario");
    }

    fn product(files: &[(&str, &str)], owned: &[&str]) -> Product {
        Product::new(
            files
                .iter()
                .map(|(n, b)| OutputFile::new(*n, b.as_bytes()))
                .collect(),
            owned.iter().copied(),
        )
    }

    fn claim(dir: &Path) -> Folder {
        resolve(Some(dir), PathBuf::new(), &[], Claim::default()).unwrap()
    }

    fn names(dir: &Path) -> Vec<String> {
        let mut n: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        n.sort();
        n
    }

    #[test]
    fn a_folder_is_written_whole_with_its_record_and_nothing_beside_it() {
        let root = tempfile::tempdir().unwrap();
        let out = root.path().join("a/b/out");
        let folder = claim(&out);
        // Locked while claimed: a second command into it is refused at once, naming both.
        let e = resolve(Some(&out), PathBuf::new(), &[], Claim::default()).unwrap_err();
        let text = e.to_string();
        assert_eq!(e.exit_code(), 4, "{text}");
        assert!(text.contains(&out.display().to_string()), "{text}");
        assert!(
            text.contains(&format!("process {}", std::process::id())),
            "{text}"
        );
        write(
            &folder,
            &product(&[("x.csv", "1"), ("y.csv", "2")], &["z.csv"]),
        )
        .unwrap();
        assert_eq!(names(&out), [MANIFEST, "x.csv", "y.csv"]);
        assert_eq!(
            fs::read_to_string(out.join(MANIFEST)).unwrap(),
            format!("{MANIFEST_HEADER}x.csv\ny.csv\n")
        );
        drop(folder);
        // The lock file goes with the command; nothing else is left beside the folder.
        assert_eq!(names(&root.path().join("a/b")), ["out"]);
    }

    #[test]
    fn only_files_capplan_wrote_are_removed_and_a_users_are_never_replaced() {
        let root = tempfile::tempdir().unwrap();
        let out = root.path().join("out");
        write(
            &claim(&out),
            &product(&[("x.csv", "1"), ("z.csv", "old")], &[]),
        )
        .unwrap();
        fs::write(out.join("notes.txt"), "mine").unwrap();
        fs::write(out.join("plan.xlsx"), "my own workbook").unwrap();
        fs::create_dir(out.join("sub")).unwrap();
        fs::write(out.join("sub/deep.txt"), "deep").unwrap();
        // An earlier capplan's temporary files, killed mid-write (of x.csv, of its record or
        // while checking the folder could be written): removed.
        fs::write(out.join(".x.csv.Ab3dE9.tmp"), "half").unwrap();
        fs::write(out.join(format!(".{MANIFEST}.Zz9yX8.tmp")), "").unwrap();
        // z.csv (capplan's, not written now) goes; plan.xlsx (the user's, of a name this kind
        // of product owns) stays, and so does every other file of the user's.
        write(
            &claim(&out),
            &product(&[("x.csv", "2")], &["z.csv", "plan.xlsx"]),
        )
        .unwrap();
        assert_eq!(
            names(&out),
            [MANIFEST, "notes.txt", "plan.xlsx", "sub", "x.csv"]
        );
        assert_eq!(fs::read_to_string(out.join("x.csv")).unwrap(), "2");
        assert_eq!(
            fs::read_to_string(out.join("plan.xlsx")).unwrap(),
            "my own workbook"
        );
        assert_eq!(
            fs::read_to_string(out.join("sub/deep.txt")).unwrap(),
            "deep"
        );
        // Writing plan.xlsx over the user's is refused, naming it and the way out.
        let e = write(&claim(&out), &product(&[("plan.xlsx", "ours")], &[])).unwrap_err();
        let text = e.to_string();
        assert_eq!(e.exit_code(), 2, "{text}");
        for part in [
            "holds plan.xlsx, which capplan did not write",
            "--force",
            MANIFEST,
        ] {
            assert!(text.contains(part), "{part}: {text}");
        }
        assert_eq!(
            fs::read_to_string(out.join("plan.xlsx")).unwrap(),
            "my own workbook"
        );
        // --force replaces it, and from then on it is capplan's.
        let forced = resolve(
            Some(&out),
            PathBuf::new(),
            &[],
            Claim {
                force: true,
                shared: false,
            },
        )
        .unwrap();
        write(&forced, &product(&[("plan.xlsx", "ours")], &[])).unwrap();
        assert_eq!(fs::read_to_string(out.join("plan.xlsx")).unwrap(), "ours");
        assert!(fs::read_to_string(out.join(MANIFEST))
            .unwrap()
            .contains("\nplan.xlsx\n"));
    }

    #[test]
    fn a_folder_without_a_record_is_not_taken_for_capplans() {
        let root = tempfile::tempdir().unwrap();
        let out = root.path().join("out");
        fs::create_dir(&out).unwrap();
        fs::write(out.join("summary.json"), "{}").unwrap();
        let e = write(&claim(&out), &product(&[("summary.json", "new")], &[])).unwrap_err();
        assert!(
            e.to_string()
                .contains("the folder has no .capplan-manifest"),
            "{e}"
        );
        assert_eq!(fs::read_to_string(out.join("summary.json")).unwrap(), "{}");
    }

    #[test]
    fn a_failed_write_leaves_no_folder_and_names_the_output_folder() {
        let root = tempfile::tempdir().unwrap();
        let out = root.path().join("made/for/it");
        let folder = claim(&out);
        // A plain name too long for any file system (over 255 bytes): the write fails after
        // the new folder was begun.
        let long = "x".repeat(300);
        let bad = product(&[("ok.csv", "1"), (long.as_str(), "2")], &[]);
        let e = write(&folder, &bad).unwrap_err().to_string();
        assert!(e.contains(&out.join(&long).display().to_string()), "{e}");
        assert!(!e.contains("capplan-new"), "{e}");
        drop(folder);
        // Neither the folder nor the folders made to hold it remain.
        assert_eq!(names(root.path()), Vec::<String>::new());
        // An existing folder is left as it was.
        write(&claim(&out), &product(&[("ok.csv", "old")], &[])).unwrap();
        assert!(write(&claim(&out), &bad).is_err());
        assert_eq!(names(&out), [MANIFEST, "ok.csv"]);
        assert_eq!(fs::read_to_string(out.join("ok.csv")).unwrap(), "old");
        assert_eq!(names(&root.path().join("made/for")), ["it"]);
    }

    #[test]
    fn what_a_killed_command_left_is_cleaned_or_put_back() {
        let root = tempfile::tempdir().unwrap();
        let out = root.path().join("out");
        write(&claim(&out), &product(&[("x.csv", "1")], &[])).unwrap();
        // A half-built folder, a swapped-out one and a probe of killed commands: removed.
        for left in [
            ".out.capplan-new-4242",
            ".out.capplan-old-4243",
            ".out.capplan-probe-4244",
        ] {
            fs::create_dir(root.path().join(left)).unwrap();
            fs::write(root.path().join(left).join("x.csv"), "left").unwrap();
        }
        // Not leftovers of this folder: kept.
        fs::create_dir(root.path().join(".out.capplan-new-7.capplan-new-8")).unwrap();
        fs::create_dir(root.path().join("other")).unwrap();
        drop(claim(&out));
        assert_eq!(
            names(root.path()),
            [".out.capplan-new-7.capplan-new-8", "other", "out"]
        );
        // Killed between the two renames of a swap: the old folder is put back.
        fs::rename(&out, root.path().join(".out.capplan-old-99")).unwrap();
        drop(claim(&out));
        assert_eq!(fs::read_to_string(out.join("x.csv")).unwrap(), "1");
    }

    #[test]
    fn a_shared_folder_is_written_in_place_and_locked_per_write() {
        let root = tempfile::tempdir().unwrap();
        let out = root.path().join("shared");
        let shared = Claim {
            force: false,
            shared: true,
        };
        let a = resolve(Some(&out), PathBuf::new(), &[], shared).unwrap();
        let b = resolve(Some(&out), PathBuf::new(), &[], shared).unwrap();
        // Claiming checked the folder could be written and left nothing: not even the folder.
        assert_eq!(names(root.path()), Vec::<String>::new());
        write_in_place(
            &a,
            &product(&[("shard-0.csv", "a"), ("a.partial", "p")], &[]),
        )
        .unwrap();
        write_in_place(&b, &product(&[("shard-1.csv", "b")], &[])).unwrap();
        write_in_place(&a, &product(&[("shard-0.csv", "A")], &["a.partial"])).unwrap();
        assert_eq!(names(&out), [MANIFEST, "shard-0.csv", "shard-1.csv"]);
        assert_eq!(
            fs::read_to_string(out.join(MANIFEST)).unwrap(),
            format!("{MANIFEST_HEADER}shard-0.csv\nshard-1.csv\n")
        );
        assert_eq!(names(root.path()), ["shared"]);
    }

    #[test]
    fn an_output_folder_may_lie_beside_a_sweep_file_but_not_be_its_folder() {
        let root = tempfile::tempdir().unwrap();
        let sweeps = root.path().join("sweeps");
        fs::create_dir_all(&sweeps).unwrap();
        let inputs = [Input::file_folder(&sweeps, "sweep file's folder")];
        let resolve_out =
            |out: &Path| resolve(Some(out), PathBuf::new(), &inputs, Claim::default());
        assert!(resolve_out(&sweeps.join("output/sweep-x")).is_ok());
        let e = resolve_out(&sweeps).unwrap_err().to_string();
        assert!(e.contains("sweep file's folder"), "{e}");
        let e = resolve_out(root.path()).unwrap_err().to_string();
        assert!(e.contains("holds the sweep file's folder"), "{e}");
    }

    #[test]
    fn roots_the_working_folder_and_inputs_are_refused() {
        let root = tempfile::tempdir().unwrap();
        let scenario = root.path().join("s");
        fs::create_dir_all(scenario.join("child")).unwrap();
        let inputs = [Input::extended(scenario.join("child"), Path::new("t"))];
        let refused = |out: &Path| {
            resolve(Some(out), PathBuf::new(), &inputs, Claim::default())
                .unwrap_err()
                .to_string()
        };
        assert!(refused(Path::new("/")).contains("the root of a file system"));
        assert!(refused(&scenario.join("child/x")).contains("is inside the scenario folder"));
        assert!(refused(&scenario).contains("(which t extends); capplan replaces"));
        let cwd = std::env::current_dir().unwrap();
        assert!(refused(&cwd).contains("the working folder or holds it"));
        assert!(refused(Path::new(".")).contains("the working folder or holds it"));
        fs::write(root.path().join("file"), "").unwrap();
        assert!(refused(&root.path().join("file")).contains("exists and is not a folder"));
    }
}
