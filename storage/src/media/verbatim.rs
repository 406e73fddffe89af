//! Images that arrive in git (`static/media/` files of a push or a forge's commits) are stored
//! **as they are**. An API upload is decoded, turned upright and re-encoded ([`super::image`]),
//! but doing that to a pushed file would make the bytes Quire stores and publishes differ from
//! the file in the pusher's commit. So a pushed image is taken only when it already is what
//! Quire would store: a JPEG or PNG by its bytes, within `media.max_bytes` and
//! `media.max_dimension`, decodable, and **without metadata** (EXIF, XMP, IPTC, PNG text
//! chunks), so a GPS position or a camera serial is never published by accident. Anything else
//! is refused with what to do (strip the metadata, scale it down, or upload it through the API,
//! which does both).

use std::io::Cursor;

use image::{ImageFormat, ImageReader};

use super::image::{sniff, ImageLimits};

/// What a pushed image is, once found fit to store as it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verbatim {
    /// `image/jpeg` or `image/png`.
    pub content_type: &'static str,
    /// `jpg` or `png`.
    pub extension: &'static str,
    pub width: u32,
    pub height: u32,
}

/// Checks `bytes` (see the module docs); `Err` says why they are refused and what to do.
pub fn check_verbatim(bytes: &[u8], limits: &ImageLimits) -> Result<Verbatim, String> {
    if bytes.len() as u64 > limits.max_bytes {
        return Err(format!("the image is larger than {} bytes", limits.max_bytes));
    }
    let head = &bytes[..bytes.len().min(16)];
    let (format, content_type, extension) =
        match sniff(head).map_err(|e| e.to_string())? {
            ImageFormat::Jpeg => (ImageFormat::Jpeg, "image/jpeg", "jpg"),
            ImageFormat::Png => (ImageFormat::Png, "image/png", "png"),
            _ => return Err(
                "only JPEG and PNG files are imported from git as they are; convert it, or upload it through the API"
                    .into(),
            ),
        };
    let metadata = match format {
        ImageFormat::Jpeg => jpeg_metadata(bytes),
        _ => png_metadata(bytes),
    };
    if let Some(kind) = metadata {
        return Err(format!(
            "the image carries {kind} metadata (camera, GPS position…), which Quire does not publish; \
             strip it (e.g. `exiftool -all= FILE`) or upload it through the API, which strips it"
        ));
    }
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    let mut decode_limits = image::Limits::default();
    decode_limits.max_alloc = Some(limits.max_decode_bytes);
    reader.limits(decode_limits);
    let image = reader
        .decode()
        .map_err(|e| format!("the image could not be decoded (truncated or damaged?): {e}"))?;
    let (width, height) = (image.width(), image.height());
    if width.max(height) > limits.max_dimension {
        return Err(format!(
            "the image is {width}×{height} pixels; at most {} on its longer side is stored as it is \
             (scale it down, or upload it through the API, which does)",
            limits.max_dimension
        ));
    }
    Ok(Verbatim {
        content_type,
        extension,
        width,
        height,
    })
}

/// The kind of metadata segment a JPEG carries before its image data, if any: APP1 (EXIF,
/// XMP) or APP13 (IPTC).
fn jpeg_metadata(bytes: &[u8]) -> Option<&'static str> {
    let mut i = 2;
    while i + 4 <= bytes.len() && bytes[i] == 0xFF {
        let marker = bytes[i + 1];
        if marker == 0xFF {
            i += 1; // fill byte
            continue;
        }
        if marker == 0xDA || marker == 0xD9 {
            return None; // start of scan, end of image: no more segments
        }
        match marker {
            0xE1 => return Some("EXIF or XMP"),
            0xED => return Some("IPTC"),
            _ => {}
        }
        let len = usize::from(u16::from_be_bytes([bytes[i + 2], bytes[i + 3]]));
        i += 2 + len;
    }
    None
}

/// The kind of metadata chunk a PNG carries, if any: `eXIf` or a text chunk (`tEXt`, `zTXt`,
/// `iTXt`, where XMP lives).
fn png_metadata(bytes: &[u8]) -> Option<&'static str> {
    let mut i = 8;
    while i + 8 <= bytes.len() {
        let len = u32::from_be_bytes([bytes[i], bytes[i + 1], bytes[i + 2], bytes[i + 3]]) as usize;
        match &bytes[i + 4..i + 8] {
            b"eXIf" => return Some("EXIF"),
            b"tEXt" | b"zTXt" | b"iTXt" => return Some("text (XMP or comments)"),
            b"IEND" => return None,
            _ => {}
        }
        i = i.saturating_add(12).saturating_add(len);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(width: u32, height: u32) -> Vec<u8> {
        let mut bytes = Vec::new();
        image::DynamicImage::new_rgb8(width, height)
            .write_to(&mut Cursor::new(&mut bytes), ImageFormat::Png)
            .expect("encode");
        bytes
    }

    fn jpeg() -> Vec<u8> {
        let mut bytes = Vec::new();
        image::DynamicImage::new_rgb8(8, 8)
            .write_to(&mut Cursor::new(&mut bytes), ImageFormat::Jpeg)
            .expect("encode");
        bytes
    }

    #[test]
    fn clean_jpegs_and_pngs_are_taken_as_they_are() {
        let limits = ImageLimits::default();
        let taken = check_verbatim(&png(4, 3), &limits).expect("png");
        assert_eq!((taken.extension, taken.width, taken.height), ("png", 4, 3));
        assert_eq!(
            check_verbatim(&jpeg(), &limits).expect("jpeg").content_type,
            "image/jpeg"
        );
    }

    #[test]
    fn metadata_size_and_other_formats_are_refused_with_what_to_do() {
        let limits = ImageLimits {
            max_dimension: 10,
            ..ImageLimits::default()
        };
        let clean = jpeg();
        let mut exif = clean[..2].to_vec();
        exif.extend_from_slice(&[0xFF, 0xE1, 0x00, 0x08]);
        exif.extend_from_slice(b"Exif\0\0");
        exif.extend_from_slice(&clean[2..]);
        assert!(check_verbatim(&exif, &limits).expect_err("exif").contains("exiftool"));
        assert!(check_verbatim(&png(20, 5), &limits).expect_err("big").contains("20×5"));
        assert!(check_verbatim(b"GIF89a......", &limits)
            .expect_err("gif")
            .contains("JPEG and PNG"));
        assert!(check_verbatim(b"<svg/>", &limits).is_err());
        let mut broken = png(4, 4);
        broken.truncate(40);
        assert!(check_verbatim(&broken, &limits)
            .expect_err("truncated")
            .contains("decoded"));
    }
}
