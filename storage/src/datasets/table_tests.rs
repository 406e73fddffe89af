//! Tests of `table.rs`: type inference, errors naming the line, limits, JSON bodies.

use super::*;

fn kinds(t: &Table) -> Vec<Kind> {
    t.columns.iter().map(|c| c.kind).collect()
}

#[test]
fn csv_columns_get_their_types() {
    let body = "day,count,ratio,at,note\n2026-01-01,3,0.5,2026-01-01T10:00:00Z,hi\n2026-01-02,-4,2,2026-01-02 11:30,\n";
    let t = read(body.as_bytes(), Format::Csv, &TableLimits::default()).expect("reads");
    assert_eq!(t.rows, 2);
    assert_eq!(
        kinds(&t),
        [Kind::Date, Kind::Integer, Kind::Number, Kind::Datetime, Kind::Text]
    );
    assert!(String::from_utf8(t.csv)
        .expect("utf-8")
        .starts_with("day,count,ratio,at,note\n"));
}

#[test]
fn a_malformed_csv_names_its_line() {
    let body = "a,b\n1,2\n3,4,5\n";
    let err = read(body.as_bytes(), Format::Csv, &TableLimits::default()).expect_err("refused");
    match err {
        Error::DatasetMalformed { line, message } => {
            assert_eq!(line, Some(3));
            assert!(message.contains("3 fields"), "{message}");
        }
        other => panic!("unexpected {other:?}"),
    }
    let dup = read(b"a,a\n1,2\n", Format::Csv, &TableLimits::default()).expect_err("duplicate header");
    assert!(matches!(dup, Error::DatasetMalformed { line: Some(1), .. }));
}

#[test]
fn limits_on_rows_and_bytes_are_enforced() {
    let limits = TableLimits {
        max_rows: 2,
        ..TableLimits::default()
    };
    let err = read(b"a\n1\n2\n3\n", Format::Csv, &limits).expect_err("too many rows");
    assert!(matches!(err, Error::DatasetTooLarge { .. }));
    let limits = TableLimits {
        max_bytes: 4,
        ..TableLimits::default()
    };
    assert!(matches!(
        read(b"a\n12345\n", Format::Csv, &limits),
        Err(Error::DatasetTooLarge { .. })
    ));
}

#[test]
fn json_arrays_of_objects_become_csv() {
    let body = br#"[{"day":"2026-01-01","n":1},{"n":2.5,"day":"2026-01-02","x":"a,b"}]"#;
    let t = read(body, Format::Json, &TableLimits::default()).expect("reads");
    assert_eq!(t.rows, 2);
    assert_eq!(
        t.columns.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(),
        ["day", "n", "x"]
    );
    assert_eq!(kinds(&t), [Kind::Date, Kind::Number, Kind::Text]);
    assert_eq!(
        String::from_utf8(t.csv).expect("utf-8"),
        "day,n,x\n2026-01-01,1,\n2026-01-02,2.5,\"a,b\"\n"
    );
    assert!(matches!(
        read(b"{\"a\":1}", Format::Json, &TableLimits::default()),
        Err(Error::DatasetMalformed { .. })
    ));
}
