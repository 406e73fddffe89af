//! Writing the objects of a page of events straight into one pack, with its index.
//!
//! A commit rewrites its year folder's tree: at 10k posts that is ~700 KB, of which one entry
//! changed. Written loose, every version was deflated and written whole, then read again and
//! deltified by `git pack-objects`: O(posts) of CPU and disk per commit. Here each new version of
//! a tree is stored as an `OFS_DELTA` against the version before it in the same pack ("copy the
//! common prefix, insert the changed bytes, copy the common suffix"), found by comparing the two
//! encodings, so a commit costs the hashing of its trees (the ids need it) plus a few hundred
//! bytes. A tree is stored whole only at the start of each pack; every [`MAX_DEPTH`] versions the
//! chain starts again from that whole version, with a delta that copies the entries the two
//! share ([`make_tree_delta`]: a few KB for a page's new posts, where a whole year folder of 30k
//! posts is ~2 MB), so a pack holds each folder whole once. Chains stay short (10) so that the
//! roll-up can store those whole versions as deltas of each other: git never lets a chain grow
//! past its `pack.depth` (50), so a whole version with 50-deep chains below it stays whole
//! forever (at 30k posts in one year, 69 of them made 20 of a 33 MB pack).
//!
//! The pack is kept in memory (at most about [`MAX_PACK_BYTES`], then it is finished and a new one
//! begun) and written with its `.idx` (version 2) by [`PackWriter::finish`]: pack, then index,
//! each written to a temporary file, fsynced and renamed, then the folder fsynced. Git and gix
//! only see a pack through its index, so a crash leaves either nothing or a complete pack that
//! nothing references yet; the caller moves `main` only after `finish` returned.

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use flate2::{Compress, Compression, Crc, FlushCompress, Status};
use gix::objs::{Kind, WriteTo};
use gix::ObjectId;

use super::error::{gix_err, io_err, Result};
use super::tree::ObjectSink;

/// Longest delta chain written: a fifth of git's `pack.depth` (see the module docs).
const MAX_DEPTH: u32 = 10;
/// A pack is finished once it is this big, so a page with large media stays bounded in memory.
const MAX_PACK_BYTES: usize = 16 << 20;
/// Copy instructions of a delta copy at most this many bytes each (what git itself emits).
const MAX_COPY: usize = 0x10000;
/// Pack entry types.
const OFS_DELTA: u8 = 6;

/// The last version of a tree written into the current pack, the base of its next version.
#[derive(Debug, Default)]
struct Base {
    offset: u64,
    depth: u32,
    bytes: Vec<u8>,
    /// Whether it is in the current pack (bases are kept allocated from one pack to the next).
    live: bool,
    /// The version stored whole in the current pack: where a chain at [`MAX_DEPTH`] starts again.
    root_offset: u64,
    root: Vec<u8>,
}

/// One object of the pack, for the index.
#[derive(Debug, Clone, Copy)]
struct IndexEntry {
    id: ObjectId,
    offset: u64,
    crc: u32,
}

/// The pack being written. Buffers are kept allocated from one pack to the next.
#[derive(Debug)]
pub(crate) struct PackWriter {
    dir: PathBuf,
    /// The pack's entries, after its 12-byte header (written by `finish`).
    body: Vec<u8>,
    entries: Vec<IndexEntry>,
    ids: HashSet<ObjectId>,
    bases: HashMap<Vec<u8>, Base>,
    /// Scratch: the object being written, encoded; and its delta.
    encoded: Vec<u8>,
    delta: Vec<u8>,
    /// zlib streams at the default level and at the fast one, reset for each object: a new one
    /// allocates and zeroes a few hundred KiB, which cost more than deflating a small object.
    zlib: Compress,
    zlib_fast: Compress,
    /// Packs finished since the last call to [`PackWriter::take_finished`].
    finished: usize,
}

impl PackWriter {
    /// A writer of packs into `<git_dir>/objects/pack`.
    pub(crate) fn new(git_dir: &Path) -> Self {
        Self {
            dir: git_dir.join("objects").join("pack"),
            body: Vec::new(),
            entries: Vec::new(),
            ids: HashSet::new(),
            bases: HashMap::new(),
            encoded: Vec::new(),
            delta: Vec::new(),
            zlib: Compress::new(Compression::default(), true),
            zlib_fast: Compress::new(Compression::fast(), true),
            finished: 0,
        }
    }

    /// Forgets whatever was written and not finished (after a failed page).
    pub(crate) fn discard(&mut self) {
        self.body.clear();
        self.entries.clear();
        self.ids.clear();
        self.bases.values_mut().for_each(|b| b.live = false);
    }

    /// Gives back the buffers kept allocated for the next pack when no pack is in progress:
    /// the pack's bytes, the encoded object, its delta and the delta bases (which only serve
    /// within one pack), ~2 MB with a year folder of 10,000 posts. An idle projection need
    /// not hold them; the next page allocates them again.
    pub(crate) fn release_scratch(&mut self) {
        if self.entries.is_empty() {
            self.body = Vec::new();
            self.entries = Vec::new();
            self.ids = HashSet::new();
            self.bases = HashMap::new();
            self.encoded = Vec::new();
            self.delta = Vec::new();
        }
    }

    /// The bytes held by the buffers [`PackWriter::release_scratch`] gives back.
    #[cfg(test)]
    pub(crate) fn scratch_bytes(&self) -> usize {
        let bases: usize = self
            .bases
            .values()
            .map(|b| b.bytes.capacity() + b.root.capacity())
            .sum();
        self.body.capacity() + self.encoded.capacity() + self.delta.capacity() + bases
    }

    /// How many packs were finished since the last call.
    pub(crate) fn take_finished(&mut self) -> usize {
        std::mem::take(&mut self.finished)
    }

    /// Adds `object`; if `key` names the tree it is a version of, as a delta against the
    /// version before it.
    fn add(&mut self, key: Option<&[u8]>, object: &dyn WriteTo) -> Result<ObjectId> {
        let mut encoded = std::mem::take(&mut self.encoded);
        encoded.clear();
        object
            .write_to(&mut encoded)
            .map_err(|e| gix_err("encoding an object")(gix::Error::from_error(e)))?;
        let kind = object.kind();
        let id = super::hash::object_id(kind, &encoded);
        if self.body.len() > MAX_PACK_BYTES {
            self.finish()?;
        }
        if self.ids.insert(id) {
            self.append(key, kind, id, &encoded)?;
        }
        if let Some(key) = key {
            // The next version is a delta against this one, wherever it is in the pack.
            if let Some(base) = self.bases.get_mut(key).filter(|b| b.live) {
                if let Some(entry) = self.entries.iter().rev().find(|e| e.id == id) {
                    if entry.offset != base.offset {
                        base.offset = entry.offset;
                        base.depth = MAX_DEPTH; // unknown: the next version starts again from the whole one
                        std::mem::swap(&mut base.bytes, &mut encoded);
                    }
                }
            }
        }
        self.encoded = encoded;
        Ok(id)
    }

    /// Appends the entry of a new object to the pack.
    fn append(&mut self, key: Option<&[u8]>, kind: Kind, id: ObjectId, encoded: &[u8]) -> Result<()> {
        let offset = 12 + self.body.len() as u64;
        let start = self.body.len();
        let base = key.and_then(|k| self.bases.get(k)).filter(|b| b.live);
        let delta_of = base.and_then(|b| {
            let (offset, depth) = if b.depth < MAX_DEPTH {
                make_delta(&b.bytes, encoded, &mut self.delta);
                (b.offset, b.depth)
            } else {
                make_tree_delta(&b.root, encoded, &mut self.delta)?;
                (b.root_offset, 0)
            };
            (self.delta.len() < encoded.len() / 2).then_some((offset, depth))
        });
        let depth = match delta_of {
            Some((base_offset, depth)) => {
                entry_header(&mut self.body, OFS_DELTA, self.delta.len() as u64);
                ofs_distance(&mut self.body, offset - base_offset);
                deflate(&mut self.zlib, &mut self.body, &self.delta)?;
                depth + 1
            }
            None => {
                entry_header(&mut self.body, type_code(kind), encoded.len() as u64);
                // Trees are mostly hashes, which do not compress: spend little time trying.
                let zlib = if kind == Kind::Tree {
                    &mut self.zlib_fast
                } else {
                    &mut self.zlib
                };
                deflate(zlib, &mut self.body, encoded)?;
                0
            }
        };
        let mut crc = Crc::new();
        crc.update(&self.body[start..]);
        self.entries.push(IndexEntry {
            id,
            offset,
            crc: crc.sum(),
        });
        if let Some(key) = key {
            let base = self.bases.entry(key.to_vec()).or_default();
            base.offset = offset;
            base.depth = depth;
            base.bytes.clear();
            base.bytes.extend_from_slice(encoded);
            if depth == 0 || !base.live {
                base.root_offset = offset;
                base.root.clear();
                base.root.extend_from_slice(encoded);
            }
            base.live = true;
        }
        Ok(())
    }

    /// Writes the pack and its index durably (nothing if the pack is empty) and begins a new one.
    pub(crate) fn finish(&mut self) -> Result<()> {
        if self.entries.is_empty() {
            return Ok(());
        }
        let mut header = Vec::with_capacity(12);
        header.extend_from_slice(b"PACK");
        header.extend_from_slice(&2u32.to_be_bytes());
        header.extend_from_slice(&(self.entries.len() as u32).to_be_bytes());
        let checksum = super::hash::checksum(&[&header, &self.body]);
        let index = index_bytes(&mut self.entries, &checksum)?;
        let name = format!("pack-{checksum}");
        let pack = self.dir.join(format!("{name}.pack"));
        write_durably(&self.dir, &pack, &[&header, &self.body, checksum.as_bytes()])?;
        write_durably(&self.dir, &self.dir.join(format!("{name}.idx")), &[&index])?;
        let dir = File::open(&self.dir).map_err(io_err("opening the pack folder", &self.dir))?;
        dir.sync_all().map_err(io_err("syncing the pack folder", &self.dir))?;
        self.finished += 1;
        self.discard();
        Ok(())
    }
}

/// Objects go into a [`PackWriter`]; the trees of the projection's folders as deltas.
impl ObjectSink for PackWriter {
    fn put<O: WriteTo>(&mut self, object: &O) -> Result<ObjectId> {
        self.add(None, object)
    }
    fn put_version<O: WriteTo>(&mut self, key: &[u8], object: &O) -> Result<ObjectId> {
        self.add(Some(key), object)
    }
}

fn type_code(kind: Kind) -> u8 {
    match kind {
        Kind::Commit => 1,
        Kind::Tree => 2,
        Kind::Blob => 3,
        Kind::Tag => 4,
    }
}

/// An entry's header: type and (inflated) size, 4 bits then 7 bits a byte.
fn entry_header(out: &mut Vec<u8>, code: u8, size: u64) {
    let mut byte = (code << 4) | (size & 0x0f) as u8;
    let mut rest = size >> 4;
    while rest != 0 {
        out.push(byte | 0x80);
        byte = (rest & 0x7f) as u8;
        rest >>= 7;
    }
    out.push(byte);
}

/// An `OFS_DELTA`'s distance back to its base, big-endian 7 bits a byte with git's off-by-one.
fn ofs_distance(out: &mut Vec<u8>, distance: u64) {
    let mut bytes = [0u8; 10];
    let mut at = bytes.len() - 1;
    let mut n = distance;
    bytes[at] = (n & 0x7f) as u8;
    n >>= 7;
    while n != 0 {
        n -= 1;
        at -= 1;
        bytes[at] = 0x80 | (n & 0x7f) as u8;
        n >>= 7;
    }
    out.extend_from_slice(&bytes[at..]);
}

/// A size in a delta's header: little-endian 7 bits a byte.
fn delta_size(out: &mut Vec<u8>, size: usize) {
    let mut n = size;
    while n >= 0x80 {
        out.push(0x80 | (n & 0x7f) as u8);
        n >>= 7;
    }
    out.push(n as u8);
}

/// A delta from `base` to `target`: the common prefix and suffix are copied, the rest inserted.
fn make_delta(base: &[u8], target: &[u8], out: &mut Vec<u8>) {
    out.clear();
    delta_size(out, base.len());
    delta_size(out, target.len());
    let prefix = common_prefix(base, target);
    let most = base.len().min(target.len()) - prefix;
    let suffix = common_suffix(&base[prefix..], &target[prefix..]).min(most);
    copy(out, 0, prefix);
    insert(out, &target[prefix..target.len() - suffix]);
    copy(out, base.len() - suffix, suffix);
}

/// How many bytes `a` and `b` begin with in common. Compares 64-byte blocks first (one `memcmp`
/// each): it runs over a whole year folder's tree at every commit.
fn common_prefix(a: &[u8], b: &[u8]) -> usize {
    let n = a.len().min(b.len());
    let mut i = 0;
    while i + 64 <= n && a[i..i + 64] == b[i..i + 64] {
        i += 64;
    }
    i + a[i..n].iter().zip(&b[i..n]).take_while(|(x, y)| x == y).count()
}

/// How many bytes `a` and `b` end with in common (see [`common_prefix`]).
fn common_suffix(a: &[u8], b: &[u8]) -> usize {
    let (a, b) = (
        &a[a.len().saturating_sub(b.len())..],
        &b[b.len().saturating_sub(a.len())..],
    );
    let mut end = a.len();
    while end >= 64 && a[end - 64..end] == b[end - 64..end] {
        end -= 64;
    }
    a.len() - end
        + a[..end]
            .iter()
            .rev()
            .zip(b[..end].iter().rev())
            .take_while(|(x, y)| x == y)
            .count()
}

/// A delta from tree `base` to tree `target` that copies every entry of `target` found in
/// `base` (runs of them with one instruction) and inserts the others: what two versions of a
/// folder many changes apart need, where [`make_delta`] would insert everything between the
/// first and the last change. `None` if either is not a well-formed tree encoding.
fn make_tree_delta(base: &[u8], target: &[u8], out: &mut Vec<u8>) -> Option<()> {
    let base_entries = tree_entries(base)?;
    let mut known = HashMap::with_capacity(base_entries.len());
    for (start, end) in base_entries {
        known.entry(&base[start..end]).or_insert(start);
    }
    let entries = tree_entries(target)?;
    out.clear();
    delta_size(out, base.len());
    delta_size(out, target.len());
    // The copy being extended (base offset, length) and where the pending insert starts.
    let mut run: Option<(usize, usize)> = None;
    let mut insert_from: Option<usize> = None;
    for (start, end) in entries {
        match known.get(&target[start..end]) {
            Some(&from) => {
                if let Some(at) = insert_from.take() {
                    insert(out, &target[at..start]);
                }
                run = match run {
                    Some((offset, len)) if offset + len == from => Some((offset, len + end - start)),
                    Some((offset, len)) => {
                        copy(out, offset, len);
                        Some((from, end - start))
                    }
                    None => Some((from, end - start)),
                };
            }
            None => {
                if let Some((offset, len)) = run.take() {
                    copy(out, offset, len);
                }
                insert_from.get_or_insert(start);
            }
        }
    }
    if let Some((offset, len)) = run {
        copy(out, offset, len);
    }
    if let Some(at) = insert_from {
        insert(out, &target[at..]);
    }
    Some(())
}

/// The byte ranges of a tree's entries (`<mode> <name>\0<20-byte id>`), `None` if malformed.
fn tree_entries(tree: &[u8]) -> Option<Vec<(usize, usize)>> {
    let mut entries = Vec::new();
    let mut at = 0;
    while at < tree.len() {
        let nul = at + tree[at..].iter().position(|&b| b == 0)?;
        let end = nul + 1 + 20;
        if end > tree.len() {
            return None;
        }
        entries.push((at, end));
        at = end;
    }
    Some(entries)
}

/// Insert instructions for `bytes` (at most 127 bytes each).
fn insert(out: &mut Vec<u8>, bytes: &[u8]) {
    for chunk in bytes.chunks(0x7f) {
        out.push(chunk.len() as u8);
        out.extend_from_slice(chunk);
    }
}

/// Copy instructions for `len` bytes of the base from `offset`.
fn copy(out: &mut Vec<u8>, mut offset: usize, mut len: usize) {
    while len > 0 {
        let size = len.min(MAX_COPY);
        let at = out.len();
        out.push(0x80);
        for i in 0..4 {
            let byte = (offset >> (8 * i)) as u8;
            if byte != 0 {
                out[at] |= 1 << i;
                out.push(byte);
            }
        }
        // A size of 0x10000 is written as no size bytes at all.
        let encoded = if size == MAX_COPY { 0 } else { size };
        for i in 0..3 {
            let byte = (encoded >> (8 * i)) as u8;
            if byte != 0 {
                out[at] |= 0x10 << i;
                out.push(byte);
            }
        }
        offset += size;
        len -= size;
    }
}

/// Appends `data`, zlib-compressed by `zlib` (reset first), to `out`.
fn deflate(zlib: &mut Compress, out: &mut Vec<u8>, data: &[u8]) -> Result<()> {
    zlib.reset();
    // Deflate never grows data by more than a few bytes per 16 KiB block.
    out.reserve(data.len() + data.len() / 1024 + 64);
    loop {
        let consumed = usize::try_from(zlib.total_in()).unwrap_or(data.len()).min(data.len());
        let status = zlib
            .compress_vec(&data[consumed..], out, FlushCompress::Finish)
            .map_err(|e| gix_err("compressing an object")(gix::Error::from_error(e)))?;
        if status == Status::StreamEnd {
            return Ok(());
        }
        out.reserve(out.capacity().max(64));
    }
}

/// The `.idx` (version 2) of a pack whose entries are `entries` and checksum `checksum`.
fn index_bytes(entries: &mut [IndexEntry], checksum: &ObjectId) -> Result<Vec<u8>> {
    entries.sort_unstable_by_key(|e| e.id);
    let mut out = Vec::with_capacity(8 + 1024 + entries.len() * 28 + 40);
    out.extend_from_slice(b"\xfftOc");
    out.extend_from_slice(&2u32.to_be_bytes());
    for first in 0..=255u8 {
        let count = entries.partition_point(|e| e.id.as_bytes()[0] <= first);
        out.extend_from_slice(&(count as u32).to_be_bytes());
    }
    entries.iter().for_each(|e| out.extend_from_slice(e.id.as_bytes()));
    entries.iter().for_each(|e| out.extend_from_slice(&e.crc.to_be_bytes()));
    let mut large = Vec::new();
    for e in entries.iter() {
        let small = u32::try_from(e.offset).ok().filter(|o| *o < 0x8000_0000);
        let word = small.unwrap_or_else(|| {
            large.push(e.offset);
            0x8000_0000 | (large.len() as u32 - 1)
        });
        out.extend_from_slice(&word.to_be_bytes());
    }
    large.iter().for_each(|o| out.extend_from_slice(&o.to_be_bytes()));
    out.extend_from_slice(checksum.as_bytes());
    let own = super::hash::checksum(&[&out]);
    out.extend_from_slice(own.as_bytes());
    Ok(out)
}

/// Writes `parts` to `path` through a temporary file in `dir`, fsynced, then renamed.
fn write_durably(dir: &Path, path: &Path, parts: &[&[u8]]) -> Result<()> {
    let temp = dir.join(format!("tmp_quire_{}", std::process::id()));
    let result = (|| {
        let mut file = File::create(&temp)?;
        for part in parts {
            file.write_all(part)?;
        }
        file.sync_all()?;
        std::fs::rename(&temp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    result.map_err(io_err("writing a pack", path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_idle_writer_gives_its_buffers_back_and_still_writes_deltas() {
        use crate::git::tree::RawObject;
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::create_dir_all(dir.path().join("objects").join("pack")).expect("pack folder");
        let mut writer = PackWriter::new(dir.path());
        let version = |n: u32| -> Vec<u8> {
            let mut bytes: Vec<u8> = (0..200_000u32).map(|i| (i * 7 % 251) as u8).collect();
            bytes.extend_from_slice(format!("version {n}").as_bytes());
            bytes
        };
        let pack_sizes = |writer: &mut PackWriter, first: u32| -> usize {
            for n in first..first + 2 {
                writer
                    .put_version(b"folder", &RawObject(Kind::Blob, &version(n)))
                    .expect("put");
            }
            let size = writer.body.len();
            writer.finish().expect("finish");
            size
        };
        let whole_then_delta = pack_sizes(&mut writer, 0);
        assert!(
            writer.scratch_bytes() > 400_000,
            "{} bytes kept",
            writer.scratch_bytes()
        );
        writer.release_scratch();
        assert_eq!(writer.scratch_bytes(), 0);
        // The next pack is written as before: the second version a delta of the first.
        let again = pack_sizes(&mut writer, 2);
        assert!(again < whole_then_delta + 64, "{again} against {whole_then_delta}");
        let whole = {
            let mut zlib = Compress::new(Compression::default(), true);
            let mut out = Vec::new();
            deflate(&mut zlib, &mut out, &version(2)).expect("deflate");
            out.len()
        };
        assert!(
            again < whole * 3 / 2,
            "{again} bytes: the second version was not a delta ({whole} whole)"
        );
    }

    #[test]
    fn common_prefixes_and_suffixes_match_a_byte_by_byte_count() {
        let naive_prefix = |a: &[u8], b: &[u8]| a.iter().zip(b).take_while(|(x, y)| x == y).count();
        let naive_suffix = |a: &[u8], b: &[u8]| a.iter().rev().zip(b.iter().rev()).take_while(|(x, y)| x == y).count();
        let text: Vec<u8> = (0..300u32).map(|i| (i * 7 % 251) as u8).collect();
        for len in [0, 1, 63, 64, 65, 128, 200, 300] {
            for at in [0, 1, 31, 63, 64, 65, 127, 128, 199, 299] {
                let a = &text[..len];
                let mut b = a.to_vec();
                if at < len {
                    b[at] ^= 0xff;
                }
                for (x, y) in [(a, &b[..]), (a, &b[..len / 2]), (&a[len / 3..], &b[..])] {
                    assert_eq!(
                        common_prefix(x, y),
                        naive_prefix(x, y),
                        "prefix, len {len}, change at {at}"
                    );
                    assert_eq!(
                        common_suffix(x, y),
                        naive_suffix(x, y),
                        "suffix, len {len}, change at {at}"
                    );
                }
            }
        }
    }

    /// Applies a delta as git does (enough for the instructions `make_delta` writes).
    fn apply(base: &[u8], delta: &[u8]) -> Vec<u8> {
        let mut at = 0;
        let mut size = || {
            let (mut n, mut shift) = (0usize, 0);
            loop {
                let b = delta[at];
                at += 1;
                n |= ((b & 0x7f) as usize) << shift;
                shift += 7;
                if b & 0x80 == 0 {
                    return n;
                }
            }
        };
        assert_eq!(size(), base.len());
        let target_len = size();
        let mut out = Vec::new();
        while at < delta.len() {
            let cmd = delta[at];
            at += 1;
            if cmd & 0x80 == 0 {
                out.extend_from_slice(&delta[at..at + cmd as usize]);
                at += cmd as usize;
                continue;
            }
            let (mut offset, mut len) = (0usize, 0usize);
            for i in 0..4 {
                if cmd & (1 << i) != 0 {
                    offset |= (delta[at] as usize) << (8 * i);
                    at += 1;
                }
            }
            for i in 0..3 {
                if cmd & (0x10 << i) != 0 {
                    len |= (delta[at] as usize) << (8 * i);
                    at += 1;
                }
            }
            let len = if len == 0 { 0x10000 } else { len };
            out.extend_from_slice(&base[offset..offset + len]);
        }
        assert_eq!(out.len(), target_len);
        out
    }

    #[test]
    fn a_delta_rebuilds_the_target_from_the_base() {
        let base: Vec<u8> = (0..300_000u32).map(|i| (i * 7 % 251) as u8).collect();
        let mut changed = base.clone();
        changed.splice(150_000..150_010, b"a new entry, longer than the old".iter().copied());
        let cases: [(&[u8], &[u8]); 5] = [
            (&base, &changed),
            (&changed, &base),
            (&base, &base),
            (b"", b"something"),
            (&base[..0x10000], &base[..0x20000]),
        ];
        let mut delta = Vec::new();
        for (from, to) in cases {
            make_delta(from, to, &mut delta);
            assert_eq!(apply(from, &delta), to);
        }
        make_delta(&base, &changed, &mut delta);
        assert!(delta.len() < 100, "{} bytes", delta.len());
    }

    /// A tree's encoding with an entry for each name, ids made from the name and `version`.
    fn tree(names: &[String], version: u8) -> Vec<u8> {
        let mut out = Vec::new();
        for name in names {
            out.extend_from_slice(b"100644 ");
            out.extend_from_slice(name.as_bytes());
            out.push(0);
            let id = gix::objs::compute_hash(
                gix::hash::Kind::Sha1,
                Kind::Blob,
                &[name.as_bytes(), &[version]].concat(),
            )
            .expect("hash");
            out.extend_from_slice(id.as_bytes());
        }
        out
    }

    #[test]
    fn a_tree_delta_copies_the_shared_entries_of_versions_many_changes_apart() {
        let mut names: Vec<String> = (0..3000).map(|i| format!("post-{:05}.md", i * 10)).collect();
        names.sort();
        let base = tree(&names, 0);
        // 60 new posts spread over the folder, one removed, one changed: 62 changes apart.
        let mut later = names.clone();
        later.extend((0..60).map(|i| format!("post-{:05}.md", i * 500 + 5)));
        later.retain(|n| n != "post-00100.md");
        later.sort();
        let mut target = tree(&later, 0);
        let changed = tree(&["post-20000.md".to_owned()], 1);
        let at = tree(&later, 0)
            .windows(13)
            .position(|w| w == b"post-20000.md")
            .expect("entry")
            - 7;
        target.splice(at..at + changed.len(), changed.iter().copied());

        let mut delta = Vec::new();
        make_tree_delta(&base, &target, &mut delta).expect("trees");
        assert_eq!(apply(&base, &delta), target);
        // 61 new or changed entries of ~34 bytes, plus copies between them.
        assert!(
            delta.len() < 4_000,
            "{} bytes for a {} byte tree",
            delta.len(),
            target.len()
        );
        // The prefix-and-suffix delta inserts nearly the whole tree.
        make_delta(&base, &target, &mut delta);
        assert!(delta.len() > target.len() / 2);

        for (from, to) in [
            (&base, &base),
            (&target, &base),
            (&Vec::new(), &base),
            (&base, &Vec::new()),
        ] {
            make_tree_delta(from, to, &mut delta).expect("trees");
            assert_eq!(&apply(from, &delta), to);
        }
        assert!(make_tree_delta(b"100644 broken", &base, &mut delta).is_none());
    }
}
