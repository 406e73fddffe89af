//! Making an upload safe to publish: sniff the type, decode, turn upright, shrink, re-encode.
//!
//! The type is read from the bytes, never from a header: JPEG, PNG, WebP and GIF are taken,
//! anything else (SVG above all, which can carry scripts) is refused. The EXIF orientation is
//! applied to the pixels, then the image is encoded anew, which drops EXIF, XMP and IPTC (GPS
//! positions, camera serials) because the encoder writes none of it. JPEG stays JPEG; PNG, GIF
//! (its first frame) and WebP with transparency become PNG; an opaque WebP becomes JPEG.
//!
//! Decoding is CPU- and memory-heavy: callers run it off the HTTP workers, a bounded number
//! at a time, and the decoder's own limits refuse images whose pixels would not fit.

use std::fs::File;
use std::io::{BufReader, Read as _};
use std::path::Path;

use image::codecs::jpeg::JpegEncoder;
use image::codecs::png::PngEncoder;
use image::{DynamicImage, ImageDecoder as _, ImageError, ImageFormat, ImageReader};

use crate::{Error, Result};

/// JPEG quality of re-encoded photos.
const JPEG_QUALITY: u8 = 88;

/// What uploads may be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImageLimits {
    /// Largest upload, in bytes (checked while the body streams in).
    pub max_bytes: u64,
    /// Longest side of a stored image; larger ones are scaled down to it.
    pub max_dimension: u32,
    /// Most memory the decoder may allocate for one image, in bytes.
    pub max_decode_bytes: u64,
}

impl Default for ImageLimits {
    fn default() -> Self {
        Self {
            max_bytes: 20 * 1024 * 1024,
            max_dimension: 2560,
            max_decode_bytes: 256 * 1024 * 1024,
        }
    }
}

/// An image ready to store.
#[derive(Debug, Clone)]
pub struct Processed {
    pub bytes: Vec<u8>,
    /// `image/jpeg` or `image/png`.
    pub content_type: &'static str,
    /// `jpg` or `png`.
    pub extension: &'static str,
    pub width: u32,
    pub height: u32,
}

/// The format of an upload, from its first bytes.
pub fn sniff(head: &[u8]) -> Result<ImageFormat> {
    let riff_webp = head.len() >= 12 && &head[..4] == b"RIFF" && &head[8..12] == b"WEBP";
    if head.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Ok(ImageFormat::Jpeg)
    } else if head.starts_with(b"\x89PNG\r\n\x1a\n") {
        Ok(ImageFormat::Png)
    } else if head.starts_with(b"GIF87a") || head.starts_with(b"GIF89a") {
        Ok(ImageFormat::Gif)
    } else if riff_webp {
        Ok(ImageFormat::WebP)
    } else {
        Err(Error::UnsupportedMedia {
            message: "the body is not a JPEG, PNG, WebP or GIF image (SVG is not taken: it can carry scripts)".into(),
        })
    }
}

/// Reads the upload at `path` and makes the image to store (see the module docs). Blocks.
pub fn process(path: &Path, limits: &ImageLimits) -> Result<Processed> {
    let open = |what: &str| {
        let path = path.to_path_buf();
        let context = format!("{what} {}", path.display());
        move |source| Error::Io { context, source }
    };
    let mut head = [0u8; 16];
    let mut file = File::open(path).map_err(open("opening upload"))?;
    let n = read_head(&mut file, &mut head).map_err(open("reading upload"))?;
    let format = sniff(&head[..n])?;
    let file = File::open(path).map_err(open("opening upload"))?;
    let mut reader = ImageReader::with_format(BufReader::new(file), format);
    let mut decode_limits = image::Limits::default();
    decode_limits.max_alloc = Some(limits.max_decode_bytes);
    reader.limits(decode_limits);
    let mut decoder = reader.into_decoder().map_err(unreadable)?;
    let orientation = decoder.orientation().map_err(unreadable)?;
    let has_alpha = decoder.color_type().has_alpha();
    let mut img = DynamicImage::from_decoder(decoder).map_err(unreadable)?;
    img.apply_orientation(orientation);
    if img.width().max(img.height()) > limits.max_dimension {
        // Area averaging in integers: no float copy of the image (a 12 MP photo's would be
        // ~130 MB), and for shrinking photos it looks as good as a windowed filter.
        img = img.thumbnail(limits.max_dimension, limits.max_dimension);
    }
    let as_jpeg = format == ImageFormat::Jpeg || (format == ImageFormat::WebP && !has_alpha);
    encode(img, as_jpeg)
}

/// A stored image (see [`process`]: JPEG or PNG, upright, no metadata) scaled down to `width`
/// pixels wide, in its own format: the smaller copies a site offers in `srcset`. Blocks.
pub fn variant(path: &Path, width: u32, limits: &ImageLimits) -> Result<Vec<u8>> {
    let open = |what: &str| {
        let context = format!("{what} {}", path.display());
        move |source| Error::Io { context, source }
    };
    let mut head = [0u8; 16];
    let mut file = File::open(path).map_err(open("opening"))?;
    let n = read_head(&mut file, &mut head).map_err(open("reading"))?;
    let format = sniff(&head[..n])?;
    let file = File::open(path).map_err(open("opening"))?;
    let mut reader = ImageReader::with_format(BufReader::new(file), format);
    let mut decode_limits = image::Limits::default();
    decode_limits.max_alloc = Some(limits.max_decode_bytes);
    reader.limits(decode_limits);
    let img = reader.decode().map_err(unreadable)?;
    let img = img.thumbnail(width, u32::MAX);
    Ok(encode(img, format == ImageFormat::Jpeg)?.bytes)
}

fn read_head(file: &mut File, head: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < head.len() {
        match file.read(&mut head[n..])? {
            0 => break,
            read => n += read,
        }
    }
    Ok(n)
}

fn encode(img: DynamicImage, as_jpeg: bool) -> Result<Processed> {
    let (width, height) = (img.width(), img.height());
    let mut bytes = Vec::new();
    let written = if as_jpeg {
        let rgb = DynamicImage::ImageRgb8(img.into_rgb8());
        rgb.write_with_encoder(JpegEncoder::new_with_quality(&mut bytes, JPEG_QUALITY))
    } else {
        img.write_with_encoder(PngEncoder::new(&mut bytes))
    };
    written.map_err(unreadable)?;
    let (content_type, extension) = match as_jpeg {
        true => ("image/jpeg", "jpg"),
        false => ("image/png", "png"),
    };
    Ok(Processed {
        bytes,
        content_type,
        extension,
        width,
        height,
    })
}

/// An image error as the domain reports it: too many pixels is "too large", the rest "unreadable".
fn unreadable(e: ImageError) -> Error {
    match e {
        ImageError::Limits(limit) => Error::MediaTooLarge {
            message: format!("the image has too many pixels to decode here: {limit}"),
        },
        ImageError::Unsupported(u) => Error::UnsupportedMedia {
            message: format!("this image uses a feature Quire cannot read: {u}"),
        },
        other => Error::UnreadableMedia {
            message: format!("the image could not be decoded (truncated or damaged?): {other}"),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffing_reads_magic_bytes_not_names() {
        assert_eq!(sniff(&[0xFF, 0xD8, 0xFF, 0xE0]).expect("jpeg"), ImageFormat::Jpeg);
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n....").expect("png"), ImageFormat::Png);
        assert_eq!(sniff(b"GIF89a").expect("gif"), ImageFormat::Gif);
        assert_eq!(sniff(b"RIFF\0\0\0\0WEBPVP8 ").expect("webp"), ImageFormat::WebP);
        assert!(sniff(b"<svg xmlns=").is_err());
        assert!(sniff(b"").is_err());
    }
}
