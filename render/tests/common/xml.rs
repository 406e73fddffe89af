//! Reading the feeds back with quick-xml: proves they are well-formed and gives element text.

#![allow(dead_code)]

use quick_xml::events::Event;
use quick_xml::Reader;

/// One element of a parsed document: its path from the root (`feed/entry/title`), attributes
/// and text (entity references resolved).
#[derive(Debug, Clone)]
pub struct Element {
    pub path: String,
    pub attrs: Vec<(String, String)>,
    pub text: String,
}

/// Parses `xml`, panicking with the position if it is not well-formed.
pub fn parse(xml: &str) -> Vec<Element> {
    let mut reader = Reader::from_str(xml);
    let mut stack: Vec<usize> = Vec::new();
    let mut names: Vec<String> = Vec::new();
    let mut elements: Vec<Element> = Vec::new();
    let mut roots = 0;
    loop {
        let event = reader
            .read_event()
            .unwrap_or_else(|e| panic!("not well-formed at {}: {e}", reader.buffer_position()));
        match event {
            Event::Start(ref e) | Event::Empty(ref e) => {
                let empty = matches!(event, Event::Empty(_));
                let name = String::from_utf8_lossy(e.name().as_ref()).into_owned();
                if names.is_empty() {
                    roots += 1;
                }
                names.push(name);
                let attrs = e
                    .attributes()
                    .map(|a| {
                        let a = a.expect("attribute");
                        let key = String::from_utf8_lossy(a.key.as_ref()).into_owned();
                        (key, a.unescape_value().expect("attribute value").into_owned())
                    })
                    .collect();
                elements.push(Element {
                    path: names.join("/"),
                    attrs,
                    text: String::new(),
                });
                stack.push(elements.len() - 1);
                if empty {
                    names.pop();
                    stack.pop();
                }
            }
            Event::End(_) => {
                names.pop();
                stack.pop();
            }
            Event::Text(t) => {
                if let Some(&i) = stack.last() {
                    elements[i].text.push_str(&t.decode().expect("utf-8"));
                }
            }
            Event::GeneralRef(r) => {
                let name = r.decode().expect("utf-8");
                let reference = format!("&{name};");
                let resolved = quick_xml::escape::unescape(&reference)
                    .unwrap_or_else(|e| panic!("unknown entity {reference}: {e}"));
                if let Some(&i) = stack.last() {
                    elements[i].text.push_str(&resolved);
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    assert!(names.is_empty(), "unclosed elements: {names:?}");
    assert_eq!(roots, 1, "exactly one root element");
    elements
}

/// The texts of the elements at `path`.
pub fn texts<'a>(elements: &'a [Element], path: &str) -> Vec<&'a str> {
    elements
        .iter()
        .filter(|e| e.path == path)
        .map(|e| e.text.as_str())
        .collect()
}
