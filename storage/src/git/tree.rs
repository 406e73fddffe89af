//! The repository's tree, kept in memory between commits, and where objects go.
//!
//! Only these folders matter: the root, `content/`, `content/posts/`, one folder per year, and
//! `static/media/` for media files, `data/` and `static/data/` for datasets.
//! Each is held decoded (sorted entries) so a commit edits one year folder in place and writes
//! just the trees on the changed path: the year, `posts`, `content` and the root. Nothing is read
//! back from the object database while projecting, which is what makes a commit cheap.
//!
//! Objects go to an [`ObjectSink`]: the repository when projecting, or a hasher that only
//! computes ids when `verify` replays the log to know what every commit should be.

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::Write as _;

use gix::bstr::{BString, ByteSlice};
use gix::objs::tree::{Entry, EntryKind, EntryMode};
use gix::objs::{Kind, Tree, WriteTo};
use gix::ObjectId;

use super::error::{gix_err, Result};
use super::render::{DATA_DIR, HUGO_TOML, MEDIA_DIR, POSTS_DIR};

/// Where objects are written (or only hashed).
pub(crate) trait ObjectSink {
    /// Stores `object` and returns its id.
    fn put<O: WriteTo>(&mut self, object: &O) -> Result<ObjectId>;

    /// Stores `object`, a new version of the tree at path `key`: a sink that can store it as a
    /// delta against the version before does (see [`super::packfile`]).
    fn put_version<O: WriteTo>(&mut self, key: &[u8], object: &O) -> Result<ObjectId> {
        let _ = key;
        self.put(object)
    }

    /// Whether the repository already holds `id` (objects the log does not make, such as the
    /// forge's side of a merge: [`crate::git::import`]); `false` when there is no repository.
    fn contains(&self, id: &ObjectId) -> bool {
        let _ = id;
        false
    }
}

/// Writes objects into a repository as loose objects (skipping those already present): how Quire
/// wrote them before it wrote packs, kept to make such repositories in tests.
pub(crate) struct RepoSink<'a> {
    pub(crate) repo: &'a gix::Repository,
}

impl ObjectSink for RepoSink<'_> {
    fn put<O: WriteTo>(&mut self, object: &O) -> Result<ObjectId> {
        self.repo
            .write_object(object)
            .map(gix::Id::detach)
            .map_err(gix_err("writing an object"))
    }
    fn contains(&self, id: &ObjectId) -> bool {
        self.repo.has_object(id)
    }
}

/// Computes object ids without storing anything.
#[derive(Default)]
pub(crate) struct HashSink {
    buf: Vec<u8>,
    /// The repository being checked, whose objects [`ObjectSink::contains`] finds.
    known: Option<gix::Repository>,
}

impl HashSink {
    /// A hasher that knows the objects of `repo`.
    pub(crate) fn knowing(repo: &gix::Repository) -> Self {
        Self {
            buf: Vec::new(),
            known: Some(repo.clone()),
        }
    }
}

impl ObjectSink for HashSink {
    fn put<O: WriteTo>(&mut self, object: &O) -> Result<ObjectId> {
        self.buf.clear();
        object
            .write_to(&mut self.buf)
            .map_err(|e| gix_err("encoding an object")(gix::Error::from_error(e)))?;
        Ok(super::hash::object_id(object.kind(), &self.buf))
    }
    fn contains(&self, id: &ObjectId) -> bool {
        self.known.as_ref().is_some_and(|repo| repo.has_object(id))
    }
}

/// A blob given as bytes, so sinks can take it like any other object.
pub(crate) struct BlobBytes<'a>(pub(crate) &'a [u8]);

impl WriteTo for BlobBytes<'_> {
    fn write_to(&self, out: &mut dyn std::io::Write) -> std::io::Result<()> {
        out.write_all(self.0)
    }
    fn kind(&self) -> Kind {
        Kind::Blob
    }
    fn size(&self) -> u64 {
        self.0.len() as u64
    }
}

/// A tree, encoded the way gix encodes it (`<mode> <name>\0<id>` per entry, NUL in a name
/// refused) but through a buffer: gix writes each of an entry's five parts through
/// `dyn Write`, which for a year folder of 10,000 posts re-encoded on every commit was a
/// tenth of the server's CPU in a burst of creates.
pub(crate) struct Encode<'a>(pub(crate) &'a Tree);

impl WriteTo for Encode<'_> {
    fn write_to(&self, out: &mut dyn std::io::Write) -> std::io::Result<()> {
        let mut out = std::io::BufWriter::with_capacity(64 << 10, out);
        let mut mode = Default::default();
        for Entry { mode: m, filename, oid } in &self.0.entries {
            if filename.contains(&0) {
                return Err(std::io::Error::other(format!(
                    "a NUL byte in the file name {filename:?} of a tree"
                )));
            }
            out.write_all(m.as_bytes(&mut mode))?;
            out.write_all(b" ")?;
            out.write_all(filename)?;
            out.write_all(b"\0")?;
            out.write_all(oid.as_bytes())?;
        }
        out.flush()
    }
    fn kind(&self) -> Kind {
        Kind::Tree
    }
    fn size(&self) -> u64 {
        self.0.size()
    }
}

/// An object given as its kind and encoded bytes (a pushed commit, written exactly as it came).
pub(crate) struct RawObject<'a>(pub(crate) Kind, pub(crate) &'a [u8]);

impl WriteTo for RawObject<'_> {
    fn write_to(&self, out: &mut dyn std::io::Write) -> std::io::Result<()> {
        out.write_all(self.1)
    }
    fn kind(&self) -> Kind {
        self.0
    }
    fn size(&self) -> u64 {
        self.1.len() as u64
    }
}

/// The in-memory state of the repository's tree.
#[derive(Debug, Clone, Default)]
pub(crate) struct ContentTree {
    root: Tree,
    content: Tree,
    posts: Tree,
    years: BTreeMap<BString, Tree>,
    /// Each year folder's encoding as of its last write, patched entry by entry as posts change
    /// (a year of 10,000 posts is half a MiB that encoding afresh per commit cost a tenth of a
    /// burst's CPU); a folder not here is encoded whole at its next write.
    encoded_years: HashMap<BString, Vec<u8>>,
    dirty_years: BTreeSet<BString>,
    dirty: bool,
    statics: Tree,
    media: Tree,
    media_dirty: bool,
    /// `data/`: datasets' metadata (`<name>.json`), Hugo's data folder.
    data: Tree,
    data_dirty: bool,
    /// `static/data/`: datasets' CSV files (`<name>.csv`), served by Hugo at `/data/<name>.csv`.
    static_data: Tree,
    static_data_dirty: bool,
}

impl ContentTree {
    /// Loads the tree of an existing commit (any entries the projection does not own are kept).
    pub(crate) fn load(repo: &gix::Repository, root: ObjectId) -> Result<Self> {
        let root = read_tree(repo, root)?;
        let content = subtree(repo, &root, POSTS_DIR[0])?;
        let posts = subtree(repo, &content, POSTS_DIR[1])?;
        let mut years = BTreeMap::new();
        for entry in posts.entries.iter().filter(|e| e.mode.is_tree()) {
            years.insert(entry.filename.clone(), read_tree(repo, entry.oid)?);
        }
        let statics = subtree(repo, &root, MEDIA_DIR[0])?;
        let media = subtree(repo, &statics, MEDIA_DIR[1])?;
        let data = subtree(repo, &root, DATA_DIR)?;
        let static_data = subtree(repo, &statics, DATA_DIR)?;
        Ok(Self {
            data,
            static_data,
            root,
            content,
            posts,
            years,
            statics,
            media,
            ..Self::default()
        })
    }

    /// Whether the root has an entry called `name`.
    pub(crate) fn has_root_file(&self, name: &str) -> bool {
        find(&self.root, name.as_bytes()).is_some()
    }

    /// Sets a file at the root.
    pub(crate) fn set_root_file(&mut self, name: &str, blob: ObjectId) {
        set(&mut self.root, name.as_bytes(), EntryKind::Blob.into(), blob);
        self.dirty = true;
    }

    /// Sets `content/posts/<year>/<name>`.
    pub(crate) fn upsert_post(&mut self, year: &str, name: &str, blob: ObjectId) {
        let dir = self.years.entry(year.into()).or_default();
        let change = set(dir, name.as_bytes(), EntryKind::Blob.into(), blob);
        patch(&mut self.encoded_years, year.as_bytes(), dir, change);
        self.dirty_years.insert(year.into());
    }

    /// Removes `content/posts/<year>/<name>` (no error if it is not there).
    pub(crate) fn remove_post(&mut self, year: &str, name: &str) {
        if let Some(dir) = self.years.get_mut(year.as_bytes()) {
            if let Some(at) = find(dir, name.as_bytes()) {
                let removed = dir.entries.remove(at);
                patch(
                    &mut self.encoded_years,
                    year.as_bytes(),
                    dir,
                    Change::Removed(at, removed),
                );
                self.dirty_years.insert(year.into());
            }
        }
    }

    /// Sets `static/media/<name>`.
    pub(crate) fn upsert_media(&mut self, name: &str, blob: ObjectId) {
        set(&mut self.media, name.as_bytes(), EntryKind::Blob.into(), blob);
        self.media_dirty = true;
    }

    /// Removes `static/media/<name>` (no error if it is not there).
    pub(crate) fn remove_media(&mut self, name: &str) {
        self.media_dirty |= remove(&mut self.media, name.as_bytes());
    }

    /// Sets `data/<name>`.
    pub(crate) fn upsert_data(&mut self, name: &str, blob: ObjectId) {
        set(&mut self.data, name.as_bytes(), EntryKind::Blob.into(), blob);
        self.data_dirty = true;
    }

    /// Removes `data/<name>` (no error if it is not there).
    pub(crate) fn remove_data(&mut self, name: &str) {
        self.data_dirty |= remove(&mut self.data, name.as_bytes());
    }

    /// Sets `static/data/<name>`.
    pub(crate) fn upsert_static_data(&mut self, name: &str, blob: ObjectId) {
        set(&mut self.static_data, name.as_bytes(), EntryKind::Blob.into(), blob);
        self.static_data_dirty = true;
    }

    /// Removes `static/data/<name>` (no error if it is not there).
    pub(crate) fn remove_static_data(&mut self, name: &str) {
        self.static_data_dirty |= remove(&mut self.static_data, name.as_bytes());
    }

    /// Writes the trees changed since the last call and returns the root tree id.
    pub(crate) fn write(&mut self, sink: &mut impl ObjectSink) -> Result<ObjectId> {
        if self.data_dirty {
            put_dir(sink, &self.data, &mut self.root, DATA_DIR, b"data")?;
            self.data_dirty = false;
        }
        if self.media_dirty || self.static_data_dirty {
            if self.media_dirty {
                put_dir(sink, &self.media, &mut self.statics, MEDIA_DIR[1], b"static/media")?;
            }
            if self.static_data_dirty {
                put_dir(sink, &self.static_data, &mut self.statics, DATA_DIR, b"static/data")?;
            }
            put_dir(sink, &self.statics, &mut self.root, MEDIA_DIR[0], b"static")?;
            self.media_dirty = false;
            self.static_data_dirty = false;
        }
        if self.dirty_years.is_empty() && !self.dirty {
            return sink.put(&Encode(&self.root));
        }
        let mut key = BString::from("content/posts/");
        for year in std::mem::take(&mut self.dirty_years) {
            let dir = self.years.get(&year).filter(|d| !d.entries.is_empty());
            key.truncate("content/posts/".len());
            key.extend_from_slice(&year);
            match dir {
                Some(dir) => {
                    let encoded = match self.encoded_years.entry(year.clone()) {
                        std::collections::hash_map::Entry::Occupied(kept) => kept.into_mut(),
                        std::collections::hash_map::Entry::Vacant(none) => {
                            let mut bytes = Vec::with_capacity(dir.size() as usize);
                            Encode(dir)
                                .write_to(&mut bytes)
                                .map_err(|e| gix_err("encoding a tree")(gix::Error::from_error(e)))?;
                            none.insert(bytes)
                        }
                    };
                    let id = sink.put_version(&key, &RawObject(Kind::Tree, encoded))?;
                    set(&mut self.posts, &year, EntryKind::Tree.into(), id);
                }
                None => {
                    self.years.remove(&year);
                    self.encoded_years.remove(&year);
                    remove(&mut self.posts, &year);
                }
            }
        }
        put_dir(sink, &self.posts, &mut self.content, POSTS_DIR[1], b"content/posts")?;
        put_dir(sink, &self.content, &mut self.root, POSTS_DIR[0], b"content")?;
        self.dirty = false;
        sink.put_version(b"", &Encode(&self.root))
    }

    /// Every file, as `(path, mode, id)` sorted by path: what `verify` compares.
    pub(crate) fn files(&self) -> Vec<(String, EntryMode, ObjectId)> {
        let mut out = Vec::new();
        let prefix_posts = POSTS_DIR.join("/");
        let root = except(&self.root, POSTS_DIR[0]).filter(|e| e.filename != MEDIA_DIR[0]);
        push_entries(&mut out, "", root);
        push_entries(&mut out, MEDIA_DIR[0], except(&self.statics, MEDIA_DIR[1]));
        push_entries(&mut out, &MEDIA_DIR.join("/"), self.media.entries.iter().cloned());
        push_entries(&mut out, POSTS_DIR[0], except(&self.content, POSTS_DIR[1]));
        let non_years = self
            .posts
            .entries
            .iter()
            .filter(|e| !self.years.contains_key(&e.filename));
        push_entries(&mut out, &prefix_posts, non_years.cloned());
        for (year, dir) in &self.years {
            push_entries(&mut out, &format!("{prefix_posts}/{year}"), dir.entries.iter().cloned());
        }
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out
    }
}

/// Writes `dir`, the tree at path `key` (or drops it when empty) as entry `name` of `parent`.
fn put_dir(sink: &mut impl ObjectSink, dir: &Tree, parent: &mut Tree, name: &str, key: &[u8]) -> Result<()> {
    if dir.entries.is_empty() {
        remove(parent, name.as_bytes());
    } else {
        set(
            parent,
            name.as_bytes(),
            EntryKind::Tree.into(),
            sink.put_version(key, &Encode(dir))?,
        );
    }
    Ok(())
}

/// The entries of `tree` other than `name`.
fn except<'a>(tree: &'a Tree, name: &'a str) -> impl Iterator<Item = Entry> + 'a {
    tree.entries.iter().filter(move |e| e.filename != name).cloned()
}

fn push_entries(out: &mut Vec<(String, EntryMode, ObjectId)>, prefix: &str, entries: impl Iterator<Item = Entry>) {
    for e in entries {
        let name = e.filename.to_str_lossy();
        let path = if prefix.is_empty() {
            name.into_owned()
        } else {
            format!("{prefix}/{name}")
        };
        out.push((path, e.mode, e.oid));
    }
}

/// Git's order of entries in a tree: by name, a folder's name as if it ended in `/` (what gix's
/// `Ord` for [`Entry`] does, without building an entry to compare with).
fn git_order(a: &[u8], a_is_tree: bool, b: &[u8], b_is_tree: bool) -> Ordering {
    let common = a.len().min(b.len());
    a[..common].cmp(&b[..common]).then_with(|| {
        let next = |name: &[u8], is_tree: bool| name.get(common).copied().or(is_tree.then_some(b'/'));
        next(a, a_is_tree).cmp(&next(b, b_is_tree))
    })
}

/// Where entry `name` is, by binary search (entries are in git's order: a tree read from a
/// repository is, and [`set`] keeps it so). A name is looked for as a file, then as a folder.
fn find(tree: &Tree, name: &[u8]) -> Option<usize> {
    [false, true].into_iter().find_map(|is_tree| {
        let at = tree
            .entries
            .partition_point(|e| git_order(&e.filename, e.mode.is_tree(), name, is_tree) == Ordering::Less);
        tree.entries.get(at).filter(|e| e.filename == name).map(|_| at)
    })
}

/// What [`set`] did to a tree's entries, for patching an encoding of it.
#[derive(Debug)]
pub(crate) enum Change {
    /// Entry `.0` got a new id, same name and mode.
    NewId(usize),
    /// An entry was inserted at `.0`.
    Inserted(usize),
    /// The entry at `.0` was removed (it was `.1`).
    Removed(usize, Entry),
    /// Anything else (an entry changed its mode): encode the tree afresh.
    Other,
}

/// Inserts or replaces entry `name`, keeping git's entry order.
pub(crate) fn set(tree: &mut Tree, name: &[u8], mode: EntryMode, oid: ObjectId) -> Change {
    if let Some(i) = find(tree, name) {
        if tree.entries[i].mode == mode {
            tree.entries[i].oid = oid;
            return Change::NewId(i);
        }
        tree.entries.remove(i);
        insert_entry(tree, name, mode, oid);
        return Change::Other;
    }
    Change::Inserted(insert_entry(tree, name, mode, oid))
}

fn insert_entry(tree: &mut Tree, name: &[u8], mode: EntryMode, oid: ObjectId) -> usize {
    let entry = Entry {
        mode,
        filename: name.into(),
        oid,
    };
    let at = tree.entries.partition_point(|e| *e < entry);
    tree.entries.insert(at, entry);
    at
}

fn remove(tree: &mut Tree, name: &[u8]) -> bool {
    find(tree, name).map(|i| tree.entries.remove(i)).is_some()
}

/// The length of `entry` in a tree's encoding: `<mode> <name>\0<20-byte id>`.
fn encoded_len(entry: &Entry) -> usize {
    let mut mode = Default::default();
    entry.mode.as_bytes(&mut mode).len() + 1 + entry.filename.len() + 1 + entry.oid.as_bytes().len()
}

/// Brings the kept encoding of year folder `year` (if any) in line with `dir` after `change`;
/// drops it when patching is not possible, so the folder is encoded afresh.
fn patch(encoded: &mut HashMap<BString, Vec<u8>>, year: &[u8], dir: &Tree, change: Change) {
    let Some(bytes) = encoded.get_mut(year) else {
        return;
    };
    let offset = |at: usize| dir.entries[..at].iter().map(encoded_len).sum::<usize>();
    match change {
        Change::NewId(at) => {
            let end = offset(at) + encoded_len(&dir.entries[at]);
            bytes[end - 20..end].copy_from_slice(dir.entries[at].oid.as_bytes());
        }
        Change::Inserted(at) if !dir.entries[at].filename.contains(&0) => {
            let entry = &dir.entries[at];
            let mut mode = Default::default();
            let mut new = Vec::with_capacity(encoded_len(entry));
            new.extend_from_slice(entry.mode.as_bytes(&mut mode));
            new.push(b' ');
            new.extend_from_slice(&entry.filename);
            new.push(0);
            new.extend_from_slice(entry.oid.as_bytes());
            let at = offset(at);
            bytes.splice(at..at, new);
        }
        Change::Removed(at, entry) => {
            let at = offset(at);
            bytes.drain(at..at + encoded_len(&entry));
        }
        // A NUL in a name, or a changed mode: the next write encodes (and refuses) it whole.
        Change::Inserted(_) | Change::Other => {
            encoded.remove(year);
        }
    }
}

/// Reads a tree object into its owned, decoded form.
pub(crate) fn read_tree(repo: &gix::Repository, id: ObjectId) -> Result<Tree> {
    let tree = repo.find_tree(id).map_err(gix_err(format!("reading tree {id}")))?;
    let decoded = tree.decode().map_err(gix_err(format!("decoding tree {id}")))?;
    Ok(decoded.into())
}

fn subtree(repo: &gix::Repository, parent: &Tree, name: &str) -> Result<Tree> {
    match parent.entries.iter().find(|e| e.filename == name && e.mode.is_tree()) {
        Some(entry) => read_tree(repo, entry.oid),
        None => Ok(Tree::empty()),
    }
}

/// Whether `tree` (of the root) carries `hugo.toml`; used to write it with the first commit.
pub(crate) fn needs_hugo(tree: &ContentTree) -> bool {
    !tree.has_root_file(HUGO_TOML)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(n: u32) -> ObjectId {
        super::super::hash::object_id(Kind::Blob, &n.to_be_bytes())
    }

    fn encoded(object: &impl WriteTo) -> std::io::Result<Vec<u8>> {
        let mut out = Vec::new();
        object.write_to(&mut out)?;
        Ok(out)
    }

    /// Byte for byte what gix writes, for files, folders and executables, large and small.
    #[test]
    fn a_tree_is_encoded_as_gix_encodes_it() {
        for size in [0u32, 1, 3, 5000] {
            let mut tree = Tree::empty();
            for n in 0..size {
                let mode = match n % 3 {
                    0 => EntryKind::Blob,
                    1 => EntryKind::Tree,
                    _ => EntryKind::BlobExecutable,
                };
                set(&mut tree, format!("entry-{n}.md").as_bytes(), mode.into(), id(n));
            }
            let ours = encoded(&Encode(&tree)).expect("ours");
            assert_eq!(ours, encoded(&tree).expect("gix"), "{size} entries");
            assert_eq!(Encode(&tree).size(), ours.len() as u64);
        }
    }

    /// Names that sort differently as files and as folders (`-` and `.` sort before `/`, `0`
    /// after it), in both modes: ours orders them as gix does, and finds each one.
    #[test]
    fn entries_are_ordered_and_found_as_git_orders_them() {
        let names: [&[u8]; 11] = [
            b"a", b"a-b", b"a.b", b"a0", b"ab", b"a-", b"b", b"", b"a\xff", b"aa", b"a!",
        ];
        let entries: Vec<Entry> = names
            .iter()
            .flat_map(|n| {
                [EntryKind::Blob, EntryKind::Tree].map(|kind| Entry {
                    mode: kind.into(),
                    filename: (*n).into(),
                    oid: id(1),
                })
            })
            .collect();
        for a in &entries {
            for b in &entries {
                assert_eq!(
                    git_order(&a.filename, a.mode.is_tree(), &b.filename, b.mode.is_tree()),
                    a.cmp(b),
                    "{a:?} {b:?}"
                );
            }
        }
        let mut tree = Tree::empty();
        for (n, name) in names.iter().enumerate() {
            let kind = if n % 2 == 0 { EntryKind::Tree } else { EntryKind::Blob };
            set(&mut tree, name, kind.into(), id(n as u32));
        }
        assert!(tree.entries.windows(2).all(|w| w[0] < w[1]), "{tree:?}");
        for (n, name) in names.iter().enumerate() {
            let at = find(&tree, name).expect("found");
            assert_eq!(tree.entries[at].oid, id(n as u32));
        }
        assert_eq!(find(&tree, b"a-c"), None);
        assert_eq!(find(&tree, b"zz"), None);
    }

    /// The year folders' kept encodings, patched per change, stay byte-identical to encoding
    /// each folder afresh, through a few thousand random creates, edits and removals.
    #[test]
    fn kept_year_encodings_match_a_fresh_encoding() {
        let mut tree = ContentTree::default();
        let mut sink = HashSink::default();
        let mut seed = 0x2545_f491_u64;
        let mut next = move |bound: u64| {
            seed = seed
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (seed >> 33) % bound
        };
        for round in 0..200u32 {
            for step in 0..20u32 {
                let year = ["2024", "2025", "2026"][next(3) as usize];
                let name = format!("post-{}.md", next(400));
                match next(4) {
                    0 => tree.remove_post(year, &name),
                    _ => tree.upsert_post(year, &name, id(round * 100 + step)),
                }
            }
            let root = tree.write(&mut sink).expect("written");
            for (year, bytes) in &tree.encoded_years {
                let fresh = encoded(&Encode(&tree.years[year])).expect("encoded");
                assert!(*bytes == fresh, "round {round}, year {year}");
            }
            let mut afresh = tree.clone();
            afresh.encoded_years.clear();
            afresh.dirty_years = afresh.years.keys().cloned().collect();
            assert_eq!(afresh.write(&mut sink).expect("written"), root, "round {round}");
        }
        assert_eq!(tree.encoded_years.len(), 3);
    }

    #[test]
    fn a_nul_in_a_name_is_refused() {
        let mut tree = Tree::empty();
        set(&mut tree, b"bad\0name.md", EntryKind::Blob.into(), id(1));
        let error = encoded(&Encode(&tree)).expect_err("refused");
        assert!(error.to_string().contains("NUL"), "{error}");
    }
}
