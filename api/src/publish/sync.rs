//! One publish: compare the site folder with the bucket's manifest and upload, tier by tier,
//! exactly the files whose bytes differ, then delete what the site no longer has.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use futures_util::{StreamExt as _, TryStreamExt as _};
use object_store::{Attribute, Attributes, PutOptions, PutPayload};

use super::files::{self, LocalFile, Tier};
use super::manifest::{BucketManifest, Entry};
use super::target::Target;

/// Why a publish stopped.
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    #[error("reading {path}: {source}")]
    Site { path: PathBuf, source: std::io::Error },
    #[error("writing the publish manifest in {path}: {source}")]
    Manifest { path: PathBuf, source: std::io::Error },
    #[error("{action} {key} in the bucket: {source}")]
    Bucket {
        action: &'static str,
        key: String,
        source: object_store::Error,
    },
    #[error("stopped: the server is shutting down")]
    Stopped,
}

/// What one publish did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SyncReport {
    /// Files uploaded.
    pub uploaded: usize,
    /// Objects deleted.
    pub deleted: usize,
    /// Files the bucket already had.
    pub unchanged: usize,
}

/// One file to upload.
struct Upload {
    file: LocalFile,
    tier: Tier,
}

/// Publishes `site_dir` (and the uploaded images of the media store beside it) to `target`. With `full`, every file is uploaded and objects under the
/// prefix that the site does not have are deleted (from the bucket's listing, not only from
/// the manifest). `progress` gets (done, total) requests; `stopping` ends it early. On success
/// the manifest is complete at `seq`.
pub async fn sync(
    target: &Target,
    site_dir: &Path,
    manifest: &mut BucketManifest,
    (full, seq): (bool, u64),
    progress: &mut dyn FnMut(usize, usize),
    stopping: &dyn Fn() -> bool,
) -> Result<SyncReport, PublishError> {
    let site_error = |source| PublishError::Site {
        path: site_dir.to_path_buf(),
        source,
    };
    let mut local = files::scan(site_dir).map_err(site_error)?;
    // The pages show uploaded images at `/media/<file>`, which Quire serves from the media store
    // beside the site folder: the bucket needs them as well.
    let media_dir = site_dir.parent().unwrap_or(site_dir).join("media");
    local.extend(files::scan_media(&media_dir).map_err(|source| PublishError::Site {
        path: media_dir.clone(),
        source,
    })?);
    local.sort_by(|a, b| a.key.cmp(&b.key));
    let mut report = SyncReport::default();
    let mut uploads = Vec::new();
    let mut buffer = vec![0u8; 64 * 1024];
    for file in local.iter() {
        let known = manifest.objects().get(&file.key);
        let same_file = known.is_some_and(|e| e.size == file.size && e.modified_ns == file.modified_ns);
        if !full && same_file {
            report.unchanged += 1;
            continue;
        }
        if !full {
            let hash = files::hash_file(&file.path, &mut buffer).map_err(site_error)?;
            match hash {
                None => continue,
                Some(hash) if known.is_some_and(|e| e.sha256 == hash) => {
                    report.unchanged += 1;
                    continue;
                }
                Some(_) => {}
            }
        }
        let tier = files::tier(&file.key);
        uploads.push(Upload {
            file: file.clone(),
            tier,
        });
    }
    uploads.sort_by_key(|u| u.tier);
    let keep: BTreeSet<&str> = local.iter().map(|f| f.key.as_str()).collect();
    let mut deletes: BTreeSet<String> = manifest
        .objects()
        .keys()
        .filter(|k| !keep.contains(k.as_str()))
        .cloned()
        .collect();
    if full {
        deletes.extend(strays(target, &keep).await?);
    }
    let total = uploads.len() + deletes.len();
    let mut done = 0;
    progress(done, total);
    for tier in [Tier::Asset, Tier::Page, Tier::Front] {
        let batch = uploads
            .iter()
            .filter(|u| u.tier == tier)
            .map(|u| upload(target, &u.file));
        let mut running = futures_util::stream::iter(batch).buffer_unordered(target.concurrency);
        while let Some(result) = running.next().await {
            if let Some((key, entry)) = result? {
                record(manifest, |m| m.put(&key, entry))?;
                report.uploaded += 1;
            }
            done += 1;
            progress(done, total);
            if stopping() {
                return Err(PublishError::Stopped);
            }
        }
    }
    let removals = deletes.iter().map(|key| delete(target, key));
    let mut running = futures_util::stream::iter(removals).buffer_unordered(target.concurrency);
    while let Some(key) = running.next().await {
        let key = key?;
        record(manifest, |m| m.delete(&key))?;
        report.deleted += 1;
        done += 1;
        progress(done, total);
    }
    record(manifest, |m| m.complete(seq))?;
    Ok(report)
}

fn record(
    manifest: &mut BucketManifest,
    write: impl FnOnce(&mut BucketManifest) -> std::io::Result<()>,
) -> Result<(), PublishError> {
    write(manifest).map_err(|source| PublishError::Manifest {
        path: manifest.dir().to_path_buf(),
        source,
    })
}

/// Uploads one file with its headers; `None` if it vanished meanwhile (the next publish
/// deletes its object).
async fn upload(target: &Target, file: &LocalFile) -> Result<Option<(String, Entry)>, PublishError> {
    let bytes = match tokio::fs::read(&file.path).await {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(PublishError::Site {
                path: file.path.clone(),
                source,
            })
        }
    };
    let entry = Entry {
        sha256: files::sha256_hex(&bytes),
        size: bytes.len() as u64,
        modified_ns: file.modified_ns,
    };
    let cache_control = if files::immutable(&file.key) {
        &target.cache_control_media
    } else {
        &target.cache_control
    };
    let mut attributes = Attributes::new();
    attributes.insert(Attribute::ContentType, files::content_type(&file.key).into());
    attributes.insert(Attribute::CacheControl, cache_control.clone().into());
    let options = PutOptions {
        attributes,
        ..PutOptions::default()
    };
    target
        .store
        .put_opts(&target.object(&file.key), PutPayload::from(bytes), options)
        .await
        .map_err(|source| PublishError::Bucket {
            action: "uploading",
            key: file.key.clone(),
            source,
        })?;
    Ok(Some((file.key.clone(), entry)))
}

async fn delete(target: &Target, key: &str) -> Result<String, PublishError> {
    match object_store::ObjectStoreExt::delete(target.store.as_ref(), &target.object(key)).await {
        Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(key.to_owned()),
        Err(source) => Err(PublishError::Bucket {
            action: "deleting",
            key: key.to_owned(),
            source,
        }),
    }
}

/// Objects under the prefix that are not files of the site.
async fn strays(target: &Target, keep: &BTreeSet<&str>) -> Result<Vec<String>, PublishError> {
    let prefix = target.list_prefix();
    let listed: Vec<_> = target
        .store
        .list(prefix.as_ref())
        .try_collect()
        .await
        .map_err(|source| PublishError::Bucket {
            action: "listing",
            key: prefix.as_ref().map_or_else(String::new, |p| p.to_string()),
            source,
        })?;
    Ok(listed
        .iter()
        .filter_map(|meta| target.key_of(&meta.location))
        .filter(|key| !keep.contains(key.as_str()))
        .collect())
}
