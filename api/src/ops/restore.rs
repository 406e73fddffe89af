//! Rebuilding a data folder: `quire restore --from-git <url-or-path>` (from the mirrored
//! repository alone) and `quire restore --from-backup <file>` (from `quire backup`'s archive).
//! Both fill an empty log with the original events, then render git and the site from it.
//!
//! From git, the events are read back from the commits' trailers and files (and, for pushed
//! commits Quire adopted, from their notes in `refs/notes/quire`, fetched too) and each is checked
//! to give the very commit it came from (`quire_storage::git::events_from_git`); the rebuilt
//! `content.git` must then end in the source's tip. Users and secrets are not in git: the
//! restored folder has none, and the next start asks for a first admin as on a first start.

use std::io::{BufRead as _, BufReader, Read as _};
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::Context as _;
use indicatif::ProgressBar;
use quire_storage::{GitSettings, SecretRecord, SecretStore as _, SledStore, Store as _};

use super::archive::{entry_name, Manifest, FORMAT};
use crate::config::Config;

/// Opens the log of a fresh data folder (no events, no `content.git`; with `no_users` no users
/// either) and runs `fill`, which imports into it. If `fill` fails, a log folder this call
/// created is removed again.
pub(crate) fn into_fresh_log(
    config: &Config,
    no_users: bool,
    total: u64,
    fill: impl FnOnce(&SledStore, &ProgressBar) -> anyhow::Result<u64>,
) -> anyhow::Result<u64> {
    let repo = crate::git::repo_dir(config);
    let has_repo = std::fs::read_dir(&repo).is_ok_and(|mut entries| entries.next().is_some());
    anyhow::ensure!(
        !has_repo,
        "{} already exists: restore and import need a fresh data folder (use another --data-dir)",
        repo.display()
    );
    let log_dir = config.data_dir.join("log");
    let created = !log_dir.exists();
    std::fs::create_dir_all(&config.data_dir)
        .with_context(|| format!("creating data folder {}", config.data_dir.display()))?;
    let store = super::open_log(config)?;
    let users = store.user_count()?;
    anyhow::ensure!(
        store.head() == 0 && (users == 0 || !no_users),
        "{} already holds {} events and {users} users: restore and import need a fresh data folder \
         (use another --data-dir)",
        log_dir.display(),
        store.head()
    );
    let bar = super::progress_bar(total, "events")?;
    let result = fill(&store, &bar);
    bar.finish_and_clear();
    drop(store);
    if result.is_err() && created {
        let _ = std::fs::remove_dir_all(&log_dir);
    }
    result
}

/// Renders `content.git` and the site from the log (each when enabled), with progress bars.
pub(crate) fn rederive(config: &Config) -> anyhow::Result<()> {
    if config.git.enabled {
        crate::git::cli::rebuild(config)?;
    }
    if config.site.enabled {
        crate::site::rebuild::rebuild_site(config)?;
    }
    Ok(())
}

/// `quire restore --from-git`.
pub fn from_git(config: &Config, source: &str) -> anyhow::Result<()> {
    config.validate()?;
    let fetched = config.data_dir.join("content.git.source");
    let _ = std::fs::remove_dir_all(&fetched);
    std::fs::create_dir_all(&config.data_dir)?;
    git(&[
        "clone",
        "--quiet",
        "--bare",
        "--single-branch",
        "--branch",
        "main",
        "--",
        source,
    ])
    .arg(&fetched)
    .status()
    .context("running git (is it installed?)")?
    .success()
    .then_some(())
    .with_context(|| format!("`git clone {source}` failed (see above)"))?;
    // The notes say which events adopted pushed commits carry; a repository without them
    // fetches nothing here.
    let notes = git(&["fetch", "--quiet", "--", source, "+refs/notes/*:refs/notes/*"])
        .env("GIT_DIR", &fetched)
        .status()
        .context("running git (is it installed?)")?;
    if !notes.success() {
        eprintln!("warning: fetching refs/notes/* from {source} failed; restoring without notes");
    }
    let result = restore_from_repo(config, &fetched, source);
    let _ = std::fs::remove_dir_all(&fetched);
    result
}

fn restore_from_repo(config: &Config, fetched: &Path, source: &str) -> anyhow::Result<()> {
    let settings = crate::git::settings(config);
    let found = quire_storage::git::settings_of(fetched)?.with_context(|| format!("{source} has no commits"))?;
    let differences = setting_differences(&settings, &found);
    anyhow::ensure!(
        differences.is_empty(),
        "{source} was written with other git settings; the same commit ids need the same ones. Set them \
         in quire.toml (or QUIRE_GIT__…) and run the restore again:\n\n[git]\n{}",
        differences.join("\n")
    );
    let tip = rev_parse(fetched)?;
    let media = quire_storage::MediaBlobs::new(config.data_dir.join("media"));
    let events = quire_storage::git::events_from_git(fetched, &settings)?.restore_media_into(media);
    let total = events.remaining() as u64;
    let restored = into_fresh_log(config, false, total, |store, bar| {
        let mut failure = None;
        let events = events.map_while(|event| event.map_err(|e| failure = Some(e)).ok());
        let restored = store.import(events, &mut |done| bar.set_position(done))?;
        match failure {
            Some(e) => Err(anyhow::Error::new(e).context(format!("restored events 1 to {restored}, then"))),
            None => Ok(restored),
        }
    })?;
    println!("restored events 1 to {restored} from {source}");
    rederive(config)?;
    if config.git.enabled {
        let rebuilt = rev_parse(&crate::git::repo_dir(config))?;
        anyhow::ensure!(
            rebuilt == tip,
            "the rebuilt repository ends in {rebuilt}, the source in {tip}: please report this"
        );
        println!("content.git has the same {restored} commits as {source} (main at {tip})");
    }
    println!(
        "\nUsers, passwords and API tokens are not kept in git, so none were restored. Start quire: \
         with no user it prints a one-time setup token for the first admin (or set QUIRE_ADMIN_USER \
         and QUIRE_ADMIN_PASSWORD, or run `quire user add NAME --role admin` first)."
    );
    Ok(())
}

/// `key = value` lines for every git setting in which `found` differs from `ours`.
fn setting_differences(ours: &GitSettings, found: &GitSettings) -> Vec<String> {
    let quote = |s: &str| serde_json::to_string(s).unwrap_or_default();
    let mut out = Vec::new();
    let mut check = |key: &str, a: &str, b: &str| {
        if a != b {
            out.push(format!("{key} = {}", quote(b)));
        }
    };
    check("site_title", &ours.site_title, &found.site_title);
    check("base_url", &ours.base_url, &found.base_url);
    check("committer_name", &ours.committer_name, &found.committer_name);
    check("committer_email", &ours.committer_email, &found.committer_email);
    match &found.author_email {
        Some(email) => check("author_email", ours.author_email.as_deref().unwrap_or(""), email),
        None => {
            check(
                "author_email_domain",
                &ours.author_email_domain,
                &found.author_email_domain,
            );
            if ours.author_email.is_some() {
                out.push("# and remove author_email".into());
            }
        }
    }
    out
}

fn git(args: &[&str]) -> Command {
    let mut command = Command::new("git");
    command.args(args);
    command
}

fn rev_parse(repo: &Path) -> anyhow::Result<String> {
    let out = git(&["rev-parse", "--verify", "main"])
        .env("GIT_DIR", repo)
        .output()
        .context("running git (is it installed?)")?;
    anyhow::ensure!(out.status.success(), "{} has no branch main", repo.display());
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

/// `quire restore --from-backup`.
pub fn from_backup(config: &Config, file: &Path) -> anyhow::Result<()> {
    config.validate()?;
    let archive_file = std::fs::File::open(file).with_context(|| format!("opening {}", file.display()))?;
    let mut archive = tar::Archive::new(BufReader::new(archive_file));
    let mut entries = archive.entries().context("reading the archive")?;
    let manifest: Manifest =
        serde_json::from_reader(expect_entry(&mut entries, "manifest.json")?).context("reading manifest.json")?;
    anyhow::ensure!(
        manifest.format <= FORMAT,
        "the backup has format {} (Quire {}); this Quire reads format {FORMAT} and older",
        manifest.format,
        manifest.quire_version
    );
    let head = manifest.head;
    let events = expect_entry(&mut entries, "events.jsonl")?;
    let mut secrets = Vec::new();
    let mut keys = Vec::new();
    let mut shown = Vec::new();
    let mut media = 0;
    into_fresh_log(config, true, head, |store, bar| {
        let imported = super::export::read_lines(store, BufReader::new(events), &mut |d| bar.set_position(d))?;
        anyhow::ensure!(
            imported == head,
            "the backup holds {imported} events, its manifest says {head}"
        );
        expect_entry(&mut entries, "secrets.jsonl")?.read_to_end(&mut secrets)?;
        let records = secrets
            .lines()
            .filter(|l| l.as_ref().map_or(true, |l| !l.is_empty()))
            .map(|line| Ok(serde_json::from_str::<SecretRecord>(&line?)?))
            .collect::<anyhow::Result<Vec<_>>>()
            .context("reading secrets.jsonl")?;
        store.restore_records(&mut records.into_iter())?;
        expect_entry(&mut entries, "keys/signing.json")?.read_to_end(&mut keys)?;
        expect_entry(&mut entries, "config.json")?.read_to_end(&mut shown)?;
        media = restore_media(config, &mut entries)?;
        Ok(imported)
    })?;
    write_keys(&config.data_dir.join("keys"), &keys)?;
    let shown_path = config.data_dir.join("backup-config.json");
    std::fs::write(&shown_path, &shown).with_context(|| format!("writing {}", shown_path.display()))?;
    println!(
        "restored events 1 to {head}, users, tokens, signing keys and {media} media files from {} \
         (taken {} by Quire {}); its configuration is in {} for reference",
        file.display(),
        manifest.created_at,
        manifest.quire_version,
        shown_path.display()
    );
    rederive(config)
}

/// The next entry of the archive, which must be `want`.
fn expect_entry<'a>(
    entries: &mut tar::Entries<'a, BufReader<std::fs::File>>,
    want: &str,
) -> anyhow::Result<tar::Entry<'a, BufReader<std::fs::File>>> {
    let entry = entries
        .next()
        .with_context(|| format!("the archive ends before {want}"))??;
    let name = entry_name(&entry.path()?).unwrap_or_default();
    anyhow::ensure!(
        name == want,
        "expected {want} in the archive, found {name:?}: not a Quire backup?"
    );
    Ok(entry)
}

/// Stores the archive's `media/` files (the rest of it) in the media store, each checked against
/// the hash that names it (before it is stored); returns how many. Backups taken before media
/// were archived have none.
fn restore_media(config: &Config, entries: &mut tar::Entries<'_, BufReader<std::fs::File>>) -> anyhow::Result<usize> {
    let blobs = quire_storage::MediaBlobs::new(config.data_dir.join("media"));
    let mut restored = 0;
    for entry in entries {
        let mut entry = entry.context("reading the archive")?;
        let name = entry_name(&entry.path()?).unwrap_or_default();
        let Some(file) = name.strip_prefix("media/") else {
            anyhow::bail!("unexpected entry {name:?} in the archive");
        };
        let (hash, ext) = file
            .split_once('.')
            .filter(|_| quire_storage::media::blobs::valid_file_name(file))
            .with_context(|| format!("{name:?} in the archive is not a media file Quire stores"))?;
        let mut bytes = Vec::with_capacity(entry.size().min(64 << 20) as usize);
        entry
            .read_to_end(&mut bytes)
            .with_context(|| format!("reading {name}"))?;
        let actual = quire_storage::media::blobs::sha256_hex(&bytes);
        anyhow::ensure!(
            actual == hash,
            "{name} in the archive is damaged: its bytes hash to {actual}"
        );
        blobs.put(&bytes, ext)?;
        restored += 1;
    }
    Ok(restored)
}

/// Puts the backup's signing keys in place (folder 0700, file 0600), replacing any.
fn write_keys(dir: &Path, keys: &[u8]) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let path: PathBuf = dir.join("signing.json");
    super::write_atomically(&path, |file| {
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
        }
        std::io::Write::write_all(file, keys)?;
        Ok(())
    })
}
