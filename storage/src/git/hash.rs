//! SHA-1 of the objects, packs and pack indexes the projection writes.
//!
//! gix hashes with `sha1-checked` (SHA-1 with collision detection): in a burst of creates that
//! was an eighth of all the server's CPU, spent re-hashing the year folder's tree for every
//! commit. Detection protects a reader from objects made by someone else to collide; here the
//! bytes are the projection's own encoding of the log (trees, commits, the posts' files) and its
//! own packs, so plain SHA-1 (the `sha1` crate, which uses the CPU's SHA instructions where there
//! are some) gives the same ids without the extra checks. Measured on x86 with SHA instructions
//! the saving is small (~0.9x the samples); CPUs without them, such as a Pi 4's, run the
//! detection in software, where the gap should be larger (not measured). Objects that come from
//! outside (a forge's push, an imported repository) are still read and checked by gix and git.

use gix::objs::Kind;
use gix::ObjectId;
use sha1::{Digest, Sha1};

/// The id of an object of `kind` whose encoding is `encoded`: SHA-1 of `<kind> <len>\0` and it.
pub(crate) fn object_id(kind: Kind, encoded: &[u8]) -> ObjectId {
    let mut hasher = Sha1::new();
    hasher.update(kind.as_bytes());
    hasher.update(format!(" {}\0", encoded.len()));
    hasher.update(encoded);
    ObjectId::Sha1(hasher.finalize().into())
}

/// SHA-1 of `parts` one after the other: a pack's or a pack index's trailing checksum.
pub(crate) fn checksum(parts: &[&[u8]]) -> ObjectId {
    let mut hasher = Sha1::new();
    for part in parts {
        hasher.update(part);
    }
    ObjectId::Sha1(hasher.finalize().into())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The same ids as gix (and git) for every kind and for sizes around SHA-1's 64-byte blocks.
    #[test]
    fn ids_are_gix_ids() {
        for kind in [Kind::Blob, Kind::Tree, Kind::Commit, Kind::Tag] {
            for len in [0usize, 1, 55, 56, 63, 64, 65, 1000, 70_001] {
                let bytes: Vec<u8> = (0..len).map(|i| (i * 31 % 251) as u8).collect();
                let expected = gix::objs::compute_hash(gix::hash::Kind::Sha1, kind, &bytes).expect("gix hash");
                assert_eq!(object_id(kind, &bytes), expected, "{kind} of {len} bytes");
            }
        }
    }

    #[test]
    fn the_empty_blob_and_tree_have_gits_well_known_ids() {
        assert_eq!(
            object_id(Kind::Blob, b"").to_string(),
            "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391"
        );
        assert_eq!(
            object_id(Kind::Tree, b"").to_string(),
            "4b825dc642cb6eb9a060e54bf8d69288fbee4904"
        );
    }

    #[test]
    fn a_checksum_is_sha1_of_the_parts_in_order() {
        let mut hasher = gix::hash::hasher(gix::hash::Kind::Sha1);
        hasher.update(b"PACK");
        hasher.update(b"body");
        let expected = hasher.try_finalize().expect("gix hash");
        assert_eq!(checksum(&[b"PACK", b"body"]), expected);
        assert_ne!(checksum(&[b"body", b"PACK"]), expected);
    }
}
