//! Tests of `query.rs`: filters, sort order and cursors over small tables.

use super::*;
use crate::datasets::table::{read, Format, TableLimits};
use crate::datasets::Column;

fn dataset(csv: &str) -> (Dataset, Vec<u8>) {
    let t = read(csv.as_bytes(), Format::Csv, &TableLimits::default()).expect("table");
    let set = Dataset {
        id: ulid::Ulid::nil(),
        name: "t".into(),
        owner: "ada".into(),
        hash: String::new(),
        bytes: t.csv.len() as u64,
        rows: t.rows,
        columns: t.columns.clone(),
        meta: Default::default(),
        created_at: time::OffsetDateTime::UNIX_EPOCH,
        updated_at: time::OffsetDateTime::UNIX_EPOCH,
        data_updated_at: time::OffsetDateTime::UNIX_EPOCH,
        version: 1,
        deleted_at: None,
    };
    (set, t.csv)
}

fn q(set: &Dataset, s: &str) -> Query {
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(s.as_bytes()).into_owned().collect();
    Query::parse(set, &pairs).expect("query")
}

fn column(page: &Page, i: usize) -> Vec<String> {
    page.rows.iter().map(|(_, c)| c[i].clone()).collect()
}

#[test]
fn sorted_pages_follow_their_cursor_to_the_end() {
    let mut csv = String::from("day,count\n");
    for i in 0..25 {
        csv.push_str(&format!("2026-01-{:02},{}\n", i + 1, (i * 7) % 10));
    }
    let (set, bytes) = dataset(&csv);
    assert_eq!(
        set.columns[1],
        Column {
            name: "count".into(),
            kind: Kind::Integer
        }
    );
    let mut seen = Vec::new();
    let mut next = String::new();
    loop {
        let query = q(&set, &format!("_sort_desc=count&_size=4&_next={next}"));
        let page = query.run(bytes.as_slice()).expect("page");
        seen.extend(page.rows.iter().map(|(id, c)| (*id, c[1].parse::<i64>().expect("int"))));
        match page.next {
            Some(n) => next = url::form_urlencoded::byte_serialize(n.as_bytes()).collect(),
            None => break,
        }
    }
    assert_eq!(seen.len(), 25);
    assert!(seen
        .windows(2)
        .all(|w| w[0].1 > w[1].1 || (w[0].1 == w[1].1 && w[0].0 < w[1].0)));
}

#[test]
fn filters_compare_numbers_as_numbers() {
    let (set, bytes) = dataset("name,n\nb,10\na,9\nc,100\nab,\n");
    let page = q(&set, "n__gt=9").run(bytes.as_slice()).expect("page");
    assert_eq!(column(&page, 0), ["b", "c"]);
    let page = q(&set, "name__contains=a&_sort=name")
        .run(bytes.as_slice())
        .expect("page");
    assert_eq!(column(&page, 0), ["a", "ab"]);
    let page = q(&set, "n=100").run(bytes.as_slice()).expect("page");
    assert_eq!(column(&page, 0), ["c"]);
    let page = q(&set, "_size=2").run(bytes.as_slice()).expect("page");
    assert_eq!(page.next.as_deref(), Some("2"));
    let page = q(&set, "_size=2&_next=2").run(bytes.as_slice()).expect("page");
    assert_eq!(column(&page, 0), ["c", "ab"]);
    assert!(page.next.is_none());
    let pairs = vec![("nope".to_owned(), "1".to_owned())];
    assert!(Query::parse(&set, &pairs).is_err());
}

#[test]
fn pages_in_file_order_cover_every_row_once() {
    let mut csv = String::from("n\n");
    for i in 1..=7 {
        csv.push_str(&format!("{i}\n"));
    }
    let (_, bytes) = dataset(&csv);
    let mut pages = Vec::new();
    for_each_page(bytes.as_slice(), 3, |rows| {
        pages.push(rows.iter().map(|(id, c)| (*id, c[0].clone())).collect::<Vec<_>>());
        Ok::<_, Error>(())
    })
    .expect("pages");
    let sizes: Vec<usize> = pages.iter().map(Vec::len).collect();
    assert_eq!(sizes, [3, 3, 1]);
    assert_eq!(pages[2], [(7, "7".to_owned())]);
    let (_, empty) = dataset("n\n");
    let mut calls = 0;
    for_each_page(empty.as_slice(), 3, |rows| {
        assert!(rows.is_empty());
        calls += 1;
        Ok::<_, Error>(())
    })
    .expect("pages");
    assert_eq!(calls, 1, "an empty table still has its (empty) first page");
}
