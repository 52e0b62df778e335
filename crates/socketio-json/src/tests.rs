use std::collections::BTreeMap;

use bytes::Bytes;
use proptest::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::*;

/// serde_json's own recursion limit, expressed as our depth limit.
const SERDE_JSON_LIMITS: Limits = Limits { max_depth: 127 };

fn ours(input: &[u8]) -> Result<Value, Error> {
    value_from_slice(input, &SERDE_JSON_LIMITS)
}

fn theirs(input: &[u8]) -> Option<Value> {
    serde_json::from_slice::<Value>(input).ok()
}

/// Both parsers agree on accept/reject and on the value; `validate` agrees too.
fn agree(input: &[u8]) {
    let a = ours(input);
    let b = theirs(input);
    match (&a, &b) {
        (Ok(x), Some(y)) => assert_eq!(x, y, "input {:?}", String::from_utf8_lossy(input)),
        (Err(_), None) => {}
        _ => panic!(
            "disagree on {:?}: ours {a:?}, serde_json {b:?}",
            String::from_utf8_lossy(input)
        ),
    }
    assert_eq!(
        validate(input, &SERDE_JSON_LIMITS).is_ok(),
        b.is_some(),
        "validate {input:?}"
    );
    // The serde path through `Value` agrees too.
    let c = from_slice::<Value>(input, &[], &SERDE_JSON_LIMITS);
    assert_eq!(c.ok(), b, "from_slice {:?}", String::from_utf8_lossy(input));
}

#[test]
fn accepts_what_serde_json_accepts() {
    let cases: &[&[u8]] = &[
        b"null",
        b"true",
        b"false",
        b" 0 ",
        b"-0",
        b"-0.0",
        b"1e5",
        b"1E+5",
        b"1e-5",
        b"0.5",
        b"123456789012345678901234567890",
        b"18446744073709551615",
        b"18446744073709551616",
        b"-9223372036854775808",
        b"-9223372036854775809",
        b"1.7976931348623157e308",
        b"1e309",
        b"-1e309",
        b"1e-400",
        b"0e999999999999",
        b"1e999999999999",
        b"0.1e-999999999999",
        b"2.2250738585072011e-308",
        b"4.9e-324",
        b"123.456e-7",
        b"0.30000000000000004",
        b"9007199254740993",
        b"1.00000000000000011102230246251565404236316680908203125",
        b"\"\"",
        b"\"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t\"",
        b"\"\\u00e9\\u20AC\"",
        b"\"\\ud83d\\ude00\"",
        b"\"\\ud83d\"",
        b"\"\\ude00\"",
        b"\"\\ud83d\\u0041\"",
        b"\"\\ud83dx\"",
        b"\"\\u12\"",
        b"\"\\x\"",
        b"\"a\nb\"",
        b"\"\x7f\"",
        "\"é😀\"".as_bytes(),
        b"\"\xff\"",
        b"\"\xc3\"",
        b"[]",
        b"[ ]",
        b"[1,]",
        b"[,1]",
        b"[1 2]",
        b"{}",
        b"{\"a\":1,}",
        b"{\"a\" 1}",
        b"{1:2}",
        b"{\"a\":1,\"a\":2}",
        b"{\"b\":1,\"a\":[{}]}",
        b"[1]x",
        b"01",
        b"-",
        b"-a",
        b"1.",
        b"1.e3",
        b".5",
        b"+1",
        b"1e",
        b"1e+",
        b"NaN",
        b"Infinity",
        b"tru",
        b"nul",
        b"truex",
        b"[true false]",
        b"/* */1",
        b"1 // c",
        b"",
        b" ",
        b"[\"a\"\x00]",
        b"\t[\r\n1\r\n]\t",
        b"\xef\xbb\xbf1",
        b"[1e2,-1.5E-2,0.0]",
        b"{\"\":\"\"}",
        b"[[[[]]]]",
        b"\"\\u0000\"",
    ];
    for c in cases {
        agree(c);
    }
}

#[test]
fn depth_limit() {
    let deep = |n: usize| {
        let mut s = "[".repeat(n);
        s.push_str(&"]".repeat(n));
        s
    };
    let limits = Limits { max_depth: 3 };
    assert!(value_from_slice(deep(3).as_bytes(), &limits).is_ok());
    assert_eq!(
        value_from_slice(deep(4).as_bytes(), &limits),
        Err(Error::DepthLimit)
    );
    assert_eq!(
        validate(deep(4).as_bytes(), &limits),
        Err(Error::DepthLimit)
    );
    assert!(validate(deep(3).as_bytes(), &limits).is_ok());
    assert_eq!(
        from_slice::<Value>(deep(4).as_bytes(), &[], &limits),
        Err(Error::DepthLimit)
    );
    assert_eq!(
        value_from_slice(br#"{"a":{"b":{"c":{}}}}"#, &limits),
        Err(Error::DepthLimit)
    );
    // The outer array of a packet counts.
    assert_eq!(
        values_from_array(b"[1,[[]]]", 0, &limits).unwrap(),
        vec![json!(1), json!([[]])]
    );
    assert_eq!(
        values_from_array(b"[1,[[[]]]]", 0, &limits),
        Err(Error::DepthLimit)
    );
    assert_eq!(
        values_from_array(b"[[[[]]],1]", 1, &limits),
        Err(Error::DepthLimit)
    );
    assert_eq!(
        from_array_tail::<Value>(b"[1,[[[]]]]", 1, &[], &limits),
        Err(Error::DepthLimit)
    );
    // Same boundary as serde_json with the default limit minus one.
    agree(deep(127).as_bytes());
    agree(deep(128).as_bytes());
    // Very deep input neither overflows the stack nor is accepted.
    let huge = deep(1_000_000);
    let big = Limits {
        max_depth: 2_000_000,
    };
    assert!(validate(huge.as_bytes(), &big).is_ok());
    assert_eq!(
        value_from_slice(huge.as_bytes(), &Limits::default()),
        Err(Error::DepthLimit)
    );
    // (Dropping a `serde_json::Value` recurses, so keep the built one moderate.)
    assert!(value_from_slice(deep(3000).as_bytes(), &big).is_ok());
    assert_eq!(
        validate(huge.as_bytes(), &Limits::default()),
        Err(Error::DepthLimit)
    );
}

#[test]
fn first_str() {
    assert_eq!(
        array_first_str(br#"["message"]"#).unwrap(),
        ("message".into(), 10)
    );
    assert_eq!(array_first_str(br#" [ "a" , 1]"#).unwrap(), ("a".into(), 7));
    let (s, at) = array_first_str(br#"["a\nb\u00e9\ud83d\ude00",1]"#).unwrap();
    assert_eq!((&*s, at), ("a\nbé😀", 25));
    assert!(matches!(s, std::borrow::Cow::Owned(_)));
    // The rest is not looked at.
    assert_eq!(array_first_str(b"[\"a\",\xff").unwrap(), ("a".into(), 4));
    for bad in [
        &b"[1]"[..],
        b"{}",
        b"[",
        b"[\"a",
        b"[\"a\"",
        b"[\"a\" x",
        b"[\"\\ud800\"]",
        b"[\"\xff\"]",
        b"[\"a\x01\"]",
        b"",
        b"[]",
        b"[\"\\q\"]",
    ] {
        assert!(array_first_str(bad).is_err(), "{bad:?}");
    }
    assert_eq!(
        array_first_str(b"[\"a"),
        Err(Error::Syntax {
            offset: 3,
            kind: SyntaxError::Eof
        })
    );
}

#[test]
fn values_after_skip() {
    let limits = Limits::default();
    let input = br#"["ev",{"_placeholder":true,"num":0},[1,"x"],-2.5]"#;
    assert_eq!(
        values_from_array(input, 1, &limits).unwrap(),
        vec![
            json!({"_placeholder":true,"num":0}),
            json!([1, "x"]),
            json!(-2.5)
        ]
    );
    assert_eq!(
        values_from_array(input, 4, &limits).unwrap(),
        Vec::<Value>::new()
    );
    assert_eq!(
        values_from_array(input, 9, &limits).unwrap(),
        Vec::<Value>::new()
    );
    assert_eq!(
        values_from_array(b"[]", 0, &limits).unwrap(),
        Vec::<Value>::new()
    );
    // Skipped elements are validated, and so is the tail.
    assert!(values_from_array(br#"["ev",1,]"#, 1, &limits).is_err());
    assert!(values_from_array(br#"[tru,1]"#, 1, &limits).is_err());
    assert!(values_from_array(br#"["ev",1] x"#, 1, &limits).is_err());
    assert!(values_from_array(br#"{"a":1}"#, 0, &limits).is_err());
}

#[test]
fn write_value_matches_serde_json() {
    let v = json!({
        "s": "quote\" backslash\\ nl\n tab\t ctl\u{1} del\u{7f} é 😀 </script>",
        "n": [0, -1, u64::MAX, i64::MIN, 1.5, -0.0, 1e300, 5e-324, 0.1, 100.0, 1e21, 1e-7],
        "b": [true, false, null], "o": {"z": {}, "a": []}
    });
    let mut out = Vec::new();
    write_value(&mut out, &v);
    assert_eq!(out, serde_json::to_vec(&v).unwrap());
    let mut out2 = Vec::new();
    to_writer(&mut out2, &v, &mut Vec::new()).unwrap();
    assert_eq!(out2, out);
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
enum Kind {
    Unit,
    New(i32),
    Tuple(u8, String),
    Struct { a: bool, b: Option<f64> },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Rich {
    name: String,
    id: u64,
    delta: i32,
    ratio: f64,
    small: f32,
    flag: bool,
    tags: Vec<String>,
    opt: Option<Box<Rich>>,
    kinds: Vec<Kind>,
    map: BTreeMap<u32, i8>,
    tuple: (char, i128, u128),
    unit: (),
}

fn rich() -> Rich {
    Rich {
        name: "ñame \"q\"\n".into(),
        id: u64::MAX,
        delta: -7,
        ratio: 0.1 + 0.2,
        small: 1.1,
        flag: true,
        tags: vec!["a".into(), String::new()],
        opt: Some(Box::new(Rich {
            name: "inner".into(),
            id: 0,
            delta: 0,
            ratio: -1e-300,
            small: f32::MAX,
            flag: false,
            tags: vec![],
            opt: None,
            kinds: vec![],
            map: BTreeMap::new(),
            tuple: ('\u{0}', i128::MIN, u128::MAX),
            unit: (),
        })),
        kinds: vec![
            Kind::Unit,
            Kind::New(-3),
            Kind::Tuple(9, "t".into()),
            Kind::Struct { a: true, b: None },
            Kind::Struct {
                a: false,
                b: Some(2.5),
            },
        ],
        map: [(1, -1), (20, 2)].into_iter().collect(),
        tuple: ('😀', -5, 6),
        unit: (),
    }
}

#[test]
fn serde_round_trip_matches_serde_json() {
    let r = rich();
    let mut out = Vec::new();
    let mut attachments = Vec::new();
    to_writer(&mut out, &r, &mut attachments).unwrap();
    assert!(attachments.is_empty());
    assert_eq!(out, serde_json::to_vec(&r).unwrap());
    let back: Rich = from_slice(&out, &[], &Limits::default()).unwrap();
    assert_eq!(back, r);
    let theirs: Rich = serde_json::from_slice(&out).unwrap();
    assert_eq!(back, theirs);
    // Floats and non-finite values as serde_json writes them.
    let mut out = Vec::new();
    to_writer(
        &mut out,
        &(f64::NAN, f32::INFINITY, 1e21f64),
        &mut attachments,
    )
    .unwrap();
    assert_eq!(
        out,
        serde_json::to_vec(&(f64::NAN, f32::INFINITY, 1e21f64)).unwrap()
    );
}

#[test]
fn borrowed_strings() {
    #[derive(Deserialize)]
    struct B<'a> {
        #[serde(borrow)]
        s: &'a str,
        #[serde(borrow)]
        c: std::borrow::Cow<'a, str>,
    }
    let input = br#"{"s":"plain","c":"esc\n"}"#;
    let b: B<'_> = from_slice(input, &[], &Limits::default()).unwrap();
    assert_eq!(b.s, "plain");
    assert_eq!(b.c, "esc\n");
    assert!(from_slice::<B<'_>>(br#"{"s":"e\n","c":""}"#, &[], &Limits::default()).is_err());
}

#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct File {
    name: String,
    data: Bytes,
    more: Vec<Bytes>,
}

#[test]
fn placeholders_round_trip() {
    let f = File {
        name: "f".into(),
        data: Bytes::from_static(b"\x00\x01"),
        more: vec![Bytes::from_static(b"a"), Bytes::new()],
    };
    let mut out = Vec::new();
    let mut attachments = Vec::new();
    to_writer(&mut out, &f, &mut attachments).unwrap();
    assert_eq!(
        out,
        br#"{"name":"f","data":{"_placeholder":true,"num":0},"more":[{"_placeholder":true,"num":1},{"_placeholder":true,"num":2}]}"#
    );
    assert_eq!(
        attachments,
        vec![f.data.clone(), f.more[0].clone(), f.more[1].clone()]
    );
    let back: File = from_slice(&out, &attachments, &Limits::default()).unwrap();
    assert_eq!(back, f);
}

#[test]
fn placeholder_rules_follow_socket_io_parser() {
    let att = [Bytes::from_static(b"zero"), Bytes::from_static(b"one")];
    let limits = Limits::default();
    let bytes = |json: &str| from_slice::<Bytes>(json.as_bytes(), &att, &limits);
    assert_eq!(bytes(r#"{"_placeholder":true,"num":1}"#).unwrap(), att[1]);
    // Any key order, extra keys, number spellings that are integers in JS.
    assert_eq!(
        bytes(r#"{"num":0,"x":[],"_placeholder":true}"#).unwrap(),
        att[0]
    );
    assert_eq!(bytes(r#"{"_placeholder":true,"num":1.0}"#).unwrap(), att[1]);
    assert_eq!(bytes(r#"{"_placeholder":true,"num":-0}"#).unwrap(), att[0]);
    assert_eq!(bytes(r#"{"_placeholder":true,"num":1e0}"#).unwrap(), att[1]);
    // Out of range, negative, missing, not a number.
    assert_eq!(
        bytes(r#"{"_placeholder":true,"num":2}"#),
        Err(Error::Placeholder(PlaceholderError::OutOfRange {
            num: 2,
            available: 2
        }))
    );
    for bad in [
        r#"{"_placeholder":true,"num":-1}"#,
        r#"{"_placeholder":true,"num":0.5}"#,
        r#"{"_placeholder":true}"#,
        r#"{"_placeholder":true,"num":"0"}"#,
    ] {
        assert!(matches!(bytes(bad), Err(Error::Placeholder(_))), "{bad}");
    }
    // The canonical form's fast path keeps the general rules: syntax, range, depth.
    assert!(matches!(
        bytes(r#"{"_placeholder":true,"num":01}"#),
        Err(Error::Syntax { .. })
    ));
    assert!(matches!(
        bytes(r#"{"_placeholder":true,"num":0}}"#),
        Err(Error::Syntax { .. })
    ));
    assert!(matches!(
        bytes(r#"{"_placeholder":true,"num":99999999999}"#),
        Err(Error::Placeholder(PlaceholderError::OutOfRange { .. }))
    ));
    assert_eq!(
        from_slice::<Bytes>(
            br#"{"_placeholder":true,"num":0}"#,
            &att,
            &Limits { max_depth: 0 }
        ),
        Err(Error::DepthLimit)
    );
    assert_eq!(
        from_slice::<Vec<Bytes>>(
            br#"[{"_placeholder":true,"num":1} ,{"_placeholder":true,"num":0}]"#,
            &att,
            &limits
        )
        .unwrap(),
        [att[1].clone(), att[0].clone()]
    );
    // `_placeholder` must be exactly `true`: otherwise it is a plain object.
    assert!(matches!(
        bytes(r#"{"_placeholder":1,"num":0}"#),
        Err(Error::Custom(_))
    ));
    // A string still works for bytes (its UTF-8), as in serde_json.
    assert_eq!(bytes(r#""ab""#).unwrap(), Bytes::from_static(b"ab"));

    // `deserialize_any`: untagged enums see bytes.
    #[derive(Debug, PartialEq, Deserialize)]
    #[serde(untagged)]
    enum Arg {
        Bin(Bytes),
        Other(Value),
    }
    let a: Vec<Arg> = from_slice(
        br#"[{"_placeholder":true,"num":1},{"_placeholder":false,"num":1},{"a":1}]"#,
        &att,
        &limits,
    )
    .unwrap();
    assert_eq!(
        a,
        vec![
            Arg::Bin(att[1].clone()),
            Arg::Other(json!({"_placeholder":false,"num":1})),
            Arg::Other(json!({"a":1}))
        ]
    );
    // Values keep placeholders as objects.
    let v: Value = from_slice(br#"{"_placeholder":false,"num":1}"#, &att, &limits).unwrap();
    assert_eq!(v, json!({"_placeholder":false,"num":1}));
}

#[test]
fn array_tail_rules() {
    let limits = Limits::default();
    let input = br#"["ev",{"a":1},"x",3]"#;
    // Tuples take the arguments; extra ones are ignored.
    let (a, b): (Value, String) = from_array_tail(input, 1, &[], &limits).unwrap();
    assert_eq!((a, b.as_str()), (json!({"a":1}), "x"));
    // Sequences take all of them.
    let all: Vec<Value> = from_array_tail(input, 1, &[], &limits).unwrap();
    assert_eq!(all, vec![json!({"a":1}), json!("x"), json!(3)]);
    // Anything else takes the first.
    #[derive(Deserialize, PartialEq, Debug)]
    struct A {
        a: u8,
    }
    assert_eq!(
        from_array_tail::<A>(input, 1, &[], &limits).unwrap(),
        A { a: 1 }
    );
    // `Value`: the single argument, else all of them.
    assert_eq!(
        from_array_tail::<Value>(input, 1, &[], &limits).unwrap(),
        json!([{"a":1},"x",3])
    );
    assert_eq!(
        from_array_tail::<Value>(input, 3, &[], &limits).unwrap(),
        json!(3)
    );
    assert_eq!(
        from_array_tail::<Value>(input, 4, &[], &limits).unwrap(),
        json!([])
    );
    // No argument reads as null.
    assert_eq!(
        from_array_tail::<Option<u8>>(input, 4, &[], &limits).unwrap(),
        None
    );
    assert_eq!(
        from_array_tail::<Option<u8>>(input, 3, &[], &limits).unwrap(),
        Some(3)
    );
    assert!(from_array_tail::<A>(input, 4, &[], &limits).is_err());
    // A 1-tuple to take one array argument.
    let (v,): (Vec<u8>,) = from_array_tail(br#"["ev",[1,2]]"#, 1, &[], &limits).unwrap();
    assert_eq!(v, vec![1, 2]);
    // Skip 0 (ack arguments).
    let (x, y): (u8, u8) = from_array_tail(b"[1,2]", 0, &[], &limits).unwrap();
    assert_eq!((x, y), (1, 2));
    // The whole input is validated, ignored elements included.
    assert!(from_array_tail::<(u8,)>(br#"["ev",1,tru]"#, 1, &[], &limits).is_err());
    assert!(from_array_tail::<(u8,)>(br#"["ev",1] x"#, 1, &[], &limits).is_err());
    assert!(from_array_tail::<(u8,)>(br#"["ev",1,]"#, 1, &[], &limits).is_err());
    assert!(from_array_tail::<(u8,)>(br#"{"a":1}"#, 1, &[], &limits).is_err());
    // Binary arguments.
    let att = [Bytes::from_static(b"bin")];
    let (s, b): (String, Bytes) = from_array_tail(
        br#"["ev","n",{"_placeholder":true,"num":0}]"#,
        1,
        &att,
        &limits,
    )
    .unwrap();
    assert_eq!((s.as_str(), b), ("n", att[0].clone()));
}

#[test]
fn write_elements_rules() {
    let mut att = Vec::new();
    let w = |v: &dyn erased::Ser, att: &mut Vec<Bytes>| {
        let mut out = b"[\"e\"".to_vec();
        v.write(&mut out, att);
        out.push(b']');
        String::from_utf8(out).unwrap()
    };
    assert_eq!(w(&(1, "a"), &mut att), r#"["e",1,"a"]"#);
    assert_eq!(w(&vec![json!(1), json!(null)], &mut att), r#"["e",1,null]"#);
    assert_eq!(w(&json!([1, 2]), &mut att), r#"["e",1,2]"#);
    assert_eq!(w(&json!({"a": 1}), &mut att), r#"["e",{"a":1}]"#);
    assert_eq!(w(&(), &mut att), r#"["e",null]"#);
    assert_eq!(w(&[(); 0], &mut att), r#"["e"]"#);
    assert_eq!(w(&"s", &mut att), r#"["e","s"]"#);
    assert_eq!(w(&Some(5), &mut att), r#"["e",5]"#);
    assert_eq!(w(&None::<u8>, &mut att), r#"["e",null]"#);
    assert_eq!(w(&Kind::Unit, &mut att), r#"["e","Unit"]"#);
    assert_eq!(w(&Kind::New(1), &mut att), r#"["e",{"New":1}]"#);
    assert_eq!(
        w(&Kind::Tuple(1, "x".into()), &mut att),
        r#"["e",{"Tuple":[1,"x"]}]"#
    );
    assert_eq!(
        w(&Kind::Struct { a: true, b: None }, &mut att),
        r#"["e",{"Struct":{"a":true,"b":null}}]"#
    );
    assert_eq!(
        w(&Bytes::from_static(b"x"), &mut att),
        r#"["e",{"_placeholder":true,"num":0}]"#
    );
    assert_eq!(
        w(&(Bytes::from_static(b"y"), 2), &mut att),
        r#"["e",{"_placeholder":true,"num":1},2]"#
    );
    assert_eq!(att.len(), 2);
}

mod erased {
    pub(super) trait Ser {
        fn write(&self, out: &mut Vec<u8>, att: &mut Vec<bytes::Bytes>);
    }
    impl<T: serde::Serialize> Ser for T {
        fn write(&self, out: &mut Vec<u8>, att: &mut Vec<bytes::Bytes>) {
            crate::write_elements(out, self, att).unwrap();
        }
    }
}

#[test]
fn duplicate_keys_last_wins() {
    // Small objects are built by inserting member by member, larger ones in bulk: both keep the
    // last value of a repeated key, as serde_json does.
    let cases: &[&[u8]] = &[
        br#"{"a":1,"a":2}"#,
        br#"{"b":1,"a":2,"b":3}"#,
        br#"{"a":1,"b":2,"a":3,"b":{"a":4,"a":5}}"#,
        br#"{"a":1,"b":2,"c":3,"d":4,"a":5}"#,
        br#"{"e":1,"d":2,"c":3,"b":4,"a":5,"c":6,"e":[7,{"x":1,"x":null}]}"#,
        br#"{"k":1,"k":2,"k":3,"k":4,"k":5,"k":6,"k":7,"k":8,"k":9,"k":10,"k":11,"k":12}"#,
    ];
    for case in cases {
        agree(case);
        let mut packet = b"[\"ev\",".to_vec();
        packet.extend_from_slice(case);
        packet.push(b']');
        let args = values_from_array(&packet, 1, &Limits::default()).unwrap();
        assert_eq!(args, vec![theirs(case).unwrap()]);
    }
}

#[test]
fn map_keys() {
    let m: BTreeMap<i64, bool> = [(-1, true), (5, false)].into_iter().collect();
    let mut out = Vec::new();
    to_writer(&mut out, &m, &mut Vec::new()).unwrap();
    assert_eq!(out, serde_json::to_vec(&m).unwrap());
    let back: BTreeMap<i64, bool> = from_slice(&out, &[], &Limits::default()).unwrap();
    assert_eq!(back, m);
    let bad: BTreeMap<(u8, u8), u8> = [((1, 2), 3)].into_iter().collect();
    assert!(matches!(
        to_writer(&mut Vec::new(), &bad, &mut Vec::new()),
        Err(Error::Serialize(_))
    ));
}

#[test]
fn errors_carry_offsets() {
    assert_eq!(
        ours(b"[1,]"),
        Err(Error::Syntax {
            offset: 3,
            kind: SyntaxError::ExpectedValue
        })
    );
    assert_eq!(
        ours(b"{\"a\" 1}"),
        Err(Error::Syntax {
            offset: 5,
            kind: SyntaxError::ExpectedColon
        })
    );
    assert_eq!(
        ours(b"\"\xff\""),
        Err(Error::Syntax {
            offset: 1,
            kind: SyntaxError::InvalidUtf8
        })
    );
    assert_eq!(
        ours(b"\"\\ud800\""),
        Err(Error::Syntax {
            offset: 7,
            kind: SyntaxError::LoneSurrogate
        })
    );
    assert!(Error::DepthLimit.is_peer_fault());
    assert!(!Error::Serialize(String::new()).is_peer_fault());
}

// ---- property tests against serde_json ----

fn arb_f64() -> impl Strategy<Value = f64> {
    prop_oneof![
        any::<f64>().prop_filter("finite", |f| f.is_finite()),
        (-1000i64..1000, -30i32..30).prop_map(|(m, e)| m as f64 * 10f64.powi(e)),
        Just(0.1),
        Just(-0.0),
        Just(5e-324),
        Just(f64::MAX),
    ]
}

fn arb_string() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z_]{0,12}",
        any::<String>(),
        prop::collection::vec(
            prop_oneof![
                Just('"'),
                Just('\\'),
                Just('\n'),
                Just('\u{1}'),
                Just('é'),
                Just('😀'),
                Just('a')
            ],
            0..20
        )
        .prop_map(|v| v.into_iter().collect()),
    ]
}

fn arb_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<u64>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        arb_f64().prop_map(Value::from),
        arb_string().prop_map(Value::String),
    ];
    leaf.prop_recursive(6, 64, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
            prop::collection::btree_map(arb_string(), inner, 0..8)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Whitespace-sprinkled and mutated JSON texts.
fn arb_text() -> impl Strategy<Value = Vec<u8>> {
    (
        arb_value(),
        prop::collection::vec((any::<prop::sample::Index>(), 0u8..8, any::<u8>()), 0..4),
    )
        .prop_map(|(v, muts)| {
            let mut t = serde_json::to_vec(&v).unwrap();
            for (idx, op, byte) in muts {
                if t.is_empty() {
                    break;
                }
                let i = idx.index(t.len());
                let pick = b" \t\n,:[]{}\"\\-+.eE0123456789tfnu\x00\xff\xc3";
                let b = pick[usize::from(byte) % pick.len()];
                match op {
                    0 => t.insert(i, b' '),
                    1 => {
                        t.remove(i);
                    }
                    2 => t.insert(i, b),
                    3 => t[i] = b,
                    4 => t.truncate(i),
                    5 => t.insert(i, b'\n'),
                    6 => t.insert(i, byte),
                    _ => {
                        let last = t.len() - 1;
                        t.swap(i, last);
                    }
                }
            }
            t
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn value_round_trip(v in arb_value()) {
        let mut out = Vec::new();
        write_value(&mut out, &v);
        prop_assert_eq!(&out, &serde_json::to_vec(&v).unwrap());
        let mut out2 = Vec::new();
        to_writer(&mut out2, &v, &mut Vec::new()).unwrap();
        prop_assert_eq!(&out2, &out);
        // serde_json's default float parser is not exact, so the reference is its parse of the
        // text, not `v` itself.
        let reference = theirs(&out).unwrap();
        prop_assert_eq!(ours(&out).unwrap(), reference.clone());
        prop_assert_eq!(from_slice::<Value>(&out, &[], &Limits::default()).unwrap(), reference.clone());
        // As the arguments of a packet.
        let mut packet = b"[\"ev\"".to_vec();
        write_elements(&mut packet, &v, &mut Vec::new()).unwrap();
        packet.push(b']');
        let args = values_from_array(&packet, 1, &Limits::default()).unwrap();
        match reference {
            Value::Array(a) => prop_assert_eq!(args, a),
            other => prop_assert_eq!(args, vec![other]),
        }
    }

    #[test]
    fn mutated_json_agrees(t in arb_text()) {
        agree(&t);
    }

    #[test]
    fn random_bytes_agree(t in prop::collection::vec(any::<u8>(), 0..32)) {
        agree(&t);
    }

    #[test]
    fn numbers_agree(
        neg in any::<bool>(),
        int in "(0|[1-9][0-9]{0,25})",
        frac in prop::option::of("[0-9]{1,25}"),
        exp in prop::option::of(("[eE]", "[+-]?", "[0-9]{1,4}")),
    ) {
        let mut s = String::new();
        if neg { s.push('-'); }
        s.push_str(&int);
        if let Some(f) = frac { s.push('.'); s.push_str(&f); }
        if let Some((e, sign, d)) = exp { s.push_str(&e); s.push_str(&sign); s.push_str(&d); }
        let a = ours(s.as_bytes()).ok();
        let b = theirs(s.as_bytes());
        prop_assert_eq!(&a, &b, "{}", s);
        if let (Some(Value::Number(x)), Some(Value::Number(y))) = (&a, &b) {
            if let (Some(x), Some(y)) = (x.as_f64(), y.as_f64()) {
                prop_assert_eq!(x.to_bits(), y.to_bits(), "{}", s);
            }
        }
    }

    #[test]
    fn typed_round_trip(name in arb_string(), id in any::<u64>(), delta in any::<i32>(), ratio in arb_f64(), small in any::<f32>()) {
        let mut r = rich();
        r.name = name;
        r.id = id;
        r.delta = delta;
        r.ratio = ratio;
        r.small = small;
        let mut out = Vec::new();
        to_writer(&mut out, &r, &mut Vec::new()).unwrap();
        prop_assert_eq!(&out, &serde_json::to_vec(&r).unwrap());
        let back: Result<Rich, _> = from_slice(&out, &[], &Limits::default());
        let theirs: Result<Rich, _> = serde_json::from_slice(&out);
        match (back, theirs) {
            (Ok(a), Ok(b)) => prop_assert_eq!(a, b),
            (Err(_), Err(_)) => {} // e.g. a NaN f32 written as null
            (a, b) => prop_assert!(false, "{:?} vs {:?}", a, b),
        }
    }
}

#[test]
fn swar_edges_match_serde_json() {
    // Every length around the word size, with each kind of special byte at each position.
    for len in 0..40usize {
        let plain: String = (0..len).map(|i| (b'a' + (i % 26) as u8) as char).collect();
        let mut cases = vec![plain.clone()];
        for pos in 0..len {
            for special in ['"', '\\', '\n', '\u{1}', '\u{1f}', 'é', '\u{7f}'] {
                let mut s: Vec<char> = plain.chars().collect();
                s[pos] = special;
                cases.push(s.into_iter().collect());
            }
        }
        for s in cases {
            let v = Value::String(s.clone());
            let mut out = Vec::new();
            write_value(&mut out, &v);
            assert_eq!(out, serde_json::to_vec(&v).unwrap(), "{s:?}");
            // As an object key, and read back through every reader.
            let o = json!({ s.clone(): s.clone() });
            let mut out = Vec::new();
            write_value(&mut out, &o);
            assert_eq!(out, serde_json::to_vec(&o).unwrap(), "{s:?}");
            agree(&out);
            let mut packet = b"[".to_vec();
            write_value(&mut packet, &v);
            packet.extend_from_slice(b",1]");
            assert_eq!(array_first_str(&packet).unwrap().0, s.as_str());
        }
    }
}

#[test]
fn integers_match_itoa() {
    let mut n: u64 = 1;
    let mut cases = vec![0u64, u64::MAX, 9, 10, 99, 100];
    while let Some(m) = n.checked_mul(10) {
        cases.extend([n - 1, n, n + 1]);
        n = m;
    }
    for u in cases {
        let mut out = Vec::new();
        write_value(&mut out, &json!(u));
        assert_eq!(out, u.to_string().as_bytes());
        if let Ok(i) = i64::try_from(u) {
            let mut out = Vec::new();
            write_value(&mut out, &json!(-i));
            assert_eq!(out, (-i).to_string().as_bytes());
        }
    }
    let mut out = Vec::new();
    write_value(&mut out, &json!(i64::MIN));
    assert_eq!(out, i64::MIN.to_string().as_bytes());
}

#[test]
fn resumed_tail_validates_everything_after_the_name() {
    let l = Limits::default();
    for (input, ok) in [
        (r#"["ev",1,"x"]"#, true),
        (r#"["ev"]"#, true),
        (r#"["ev" , 1 ]"#, true),
        (r#"["ev",1,]"#, false),
        (r#"["ev",1"#, false),
        (r#"["ev"1]"#, false),
        (r#"["ev",1] x"#, false),
        (r#"["ev",{"a":}]"#, false),
    ] {
        let Ok((_, at)) = crate::array_first_str_of_str(input) else {
            // Refused already where the name is read (the decoder).
            assert!(!ok, "{input}");
            continue;
        };
        let typed =
            crate::from_array_tail_str_at::<Vec<serde_json::Value>>(input, at, false, &[], &l);
        let values = crate::values_from_array_str_at(input, at, false, &l);
        let skipped = crate::values_from_array_str(input, 1, &l);
        assert_eq!(typed.is_ok(), ok, "{input}");
        assert_eq!(values.is_ok(), ok, "{input}");
        assert_eq!(skipped.ok(), values.ok(), "{input}");
    }
    // Nothing read yet: right after the `[`.
    let (x, y): (u8, String) =
        crate::from_array_tail_str_at(r#"[7,"y"]"#, 1, true, &[], &l).unwrap();
    assert_eq!((x, y.as_str()), (7, "y"));
    assert!(
        crate::values_from_array_str_at("[ ]", 1, true, &l)
            .unwrap()
            .is_empty()
    );
    // A position past the input (or at usize::MAX) is an error, not a panic.
    for at in [4, usize::MAX] {
        assert!(crate::values_from_array_str_at("[1]", at, true, &l).is_err());
        assert!(crate::from_array_tail_str_at::<(u8,)>("[1]", at, true, &[], &l).is_err());
    }
    let none = Limits { max_depth: 0 };
    assert!(crate::values_from_array_str_at("[1]", 1, true, &none).is_err());
    assert!(crate::from_array_tail_str_at::<(u8,)>("[1]", 1, true, &[], &none).is_err());
}

#[test]
fn digit_runs_match_serde_json() {
    // Integer and fraction runs of every length up to and past the u64 overflow point (where
    // serde_json switches to a float), followed by every byte that can end a number, and by
    // ':' and '/', the bytes on either side of the digits.
    let digits = "18446744073709551615999999999999123456789";
    let mut cases = Vec::new();
    for len in 1..=digits.len() {
        let run = &digits[..len];
        cases.push(run.to_owned());
        cases.push(format!("-{run}"));
        cases.push(format!("0.{run}"));
        cases.push(format!("7.{run}e-3"));
        cases.push(format!("{run}.{run}"));
        cases.push("9".repeat(len));
        cases.push(format!("1{}", "0".repeat(len - 1)));
    }
    for case in cases {
        for end in [
            "", "]", ",1]", " ]", "e2]", "E+1]", ":]", "/]", ".]", ".5]", "x]",
        ] {
            let text = format!("[{case}{end}");
            agree(text.as_bytes());
            let typed_u = from_slice::<(u64,)>(text.as_bytes(), &[], &SERDE_JSON_LIMITS).ok();
            assert_eq!(
                typed_u,
                serde_json::from_str::<(u64,)>(&text).ok(),
                "{text}"
            );
            let typed_f = from_slice::<(f64,)>(text.as_bytes(), &[], &SERDE_JSON_LIMITS).ok();
            let reference = serde_json::from_str::<(f64,)>(&text).ok();
            assert_eq!(
                typed_f.map(|(f,)| f.to_bits()),
                reference.map(|(f,)| f.to_bits()),
                "{text}"
            );
        }
    }
}

/// Our float writer against serde_json's (zmij) for one value, reusing two buffers.
struct FloatCheck {
    ours: Vec<u8>,
    theirs: Vec<u8>,
}

impl FloatCheck {
    fn new() -> Self {
        FloatCheck {
            ours: Vec::with_capacity(64),
            theirs: Vec::new(),
        }
    }

    /// Writes `v` after a prefix (as in an array), with enough spare capacity for the fast
    /// path.
    fn check(&mut self, v: f64) {
        use serde_json::ser::Formatter as _;
        self.ours.clear();
        self.theirs.clear();
        self.ours.extend_from_slice(b"[1,");
        self.theirs.extend_from_slice(b"[1,");
        crate::write::f64(&mut self.ours, v);
        if v.is_finite() {
            serde_json::ser::CompactFormatter
                .write_f64(&mut self.theirs, v)
                .unwrap();
        } else {
            self.theirs.extend_from_slice(b"null");
        }
        assert_eq!(
            self.ours,
            self.theirs,
            "{v:?} ({:#018x}): ours {:?}, serde_json {:?}",
            v.to_bits(),
            String::from_utf8_lossy(&self.ours),
            String::from_utf8_lossy(&self.theirs)
        );
    }

    /// `v`, `-v` and their neighbours.
    fn around(&mut self, v: f64) {
        for x in [v, -v] {
            self.check(x);
            self.check(f64::from_bits(x.to_bits().wrapping_add(1)));
            self.check(f64::from_bits(x.to_bits().wrapping_sub(1)));
        }
    }
}

/// A seeded xorshift generator, so the random float tests are reproducible.
fn xorshift(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

#[test]
fn floats_match_serde_json_at_edges() {
    let mut c = FloatCheck::new();
    for v in [
        0.0,
        -0.0,
        f64::NAN,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::MIN_POSITIVE,
        f64::MAX,
        f64::MIN,
        f64::EPSILON,
        f64::from_bits(1),
        f64::from_bits((1 << 52) - 1),
        1.0,
        3.0,
        0.5,
        0.1 + 0.2,
        1e15,
        1e16,
        1e17,
        1e21,
        1e22,
        1e23,
        9007199254740992.0,
        9007199254740993.0,
        4503599627370496.5,
        67108864.0,
        67108863.5,
        67108863.99999999,
        0.00048828125,
        0.000488281,
        0.0004882813,
        0.001,
        0.0001,
        0.00001,
        0.000001,
        1e-7,
        99999999.99999999,
        9999999.99999999,
        12345678.12345678,
        0.99999999,
        0.999999999,
        47.3769,
        8.5417,
        -23.5505,
        -46.6333,
        35.6762,
        139.6503,
        50.0647,
        19.945,
    ] {
        c.around(v);
    }
    // Powers of two and of ten across the whole range, and their neighbours.
    for e in -1074..=1023 {
        c.around(2f64.powi(e));
        c.around(3.0 * 2f64.powi(e - 1));
    }
    for e in -325..=308 {
        c.around(format!("1e{e}").parse().unwrap());
        c.around(format!("9.999999e{e}").parse().unwrap());
        c.around(format!("1.2345678e{e}").parse().unwrap());
    }
    // Around the fast path's borders: 2^-11, 2^26 and 2^53, with short and long fractions.
    for e in [-12, -11, -10, 25, 26, 27, 52, 53, 54] {
        let p = 2f64.powi(e);
        for k in 0..64u64 {
            c.around(f64::from_bits(p.to_bits() + k));
            c.around(f64::from_bits(p.to_bits() - k));
        }
        for k in 0..1000 {
            c.around(p + f64::from(k) * 0.001);
            c.around(p - f64::from(k) * 0.001);
            c.around(p + f64::from(k) * 0.25);
            c.around(p - f64::from(k) * 0.25);
        }
    }
}

/// Every decimal d / 10^k (the float serde_json parses from it) with d <= 10^6 and k in
/// `ks`; a sample of the negative ones, of the integers and of the neighbours (which need 16
/// or 17 digits), to keep the test fast in debug builds.
fn short_decimals_match_serde_json(ks: std::ops::RangeInclusive<i32>) {
    let mut c = FloatCheck::new();
    for k in ks {
        let p = 10f64.powi(k);
        for d in 0..=1_000_000u32 {
            let v = f64::from(d) / p;
            if k > 0 || d % 10 == 7 {
                c.check(v);
            }
            if d % 10 == 3 {
                c.check(-v);
            }
            if d % 31 == 0 {
                c.check(f64::from_bits(v.to_bits() + 1));
                c.check(-f64::from_bits(v.to_bits().wrapping_sub(1)));
            }
        }
    }
}

#[test]
fn short_decimals_up_to_4_digits_match_serde_json() {
    short_decimals_match_serde_json(0..=4);
}

#[test]
fn short_decimals_of_5_to_8_digits_match_serde_json() {
    short_decimals_match_serde_json(5..=8);
}

#[test]
fn random_floats_match_serde_json() {
    let mut c = FloatCheck::new();
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    for _ in 0..1_000_000 {
        // Any bit pattern.
        c.check(f64::from_bits(xorshift(&mut state)));
    }
    for _ in 0..1_000_000 {
        // Magnitudes around the fast path (2^-16 .. 2^58), any significand.
        let r = xorshift(&mut state);
        let exp = 1023 - 16 + (r >> 52) % 75;
        c.check(f64::from_bits(r & (1 << 63 | ((1 << 52) - 1)) | exp << 52));
    }
    for _ in 0..1_000_000 {
        // Decimals with up to 16 significant digits and up to 12 fractional digits.
        let r = xorshift(&mut state);
        let d = (r >> 11) % 10u64.pow(1 + (r % 16) as u32);
        let v = d as f64 / 10f64.powi(((r >> 4) % 13) as i32);
        c.check(if r & 1 << 10 != 0 { -v } else { v });
    }
}

/// A map with float keys, to reach the map key serializer.
struct FloatKeys(Vec<f64>);

impl Serialize for FloatKeys {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.0.iter().map(|k| (k, *k)))
    }
}

proptest! {
    #[test]
    fn floats_through_serde_match_serde_json(
        v in prop::collection::vec(prop_oneof![
            any::<f64>(),
            (0..100_000_000u64, 0..10i32).prop_map(|(d, k)| d as f64 / 10f64.powi(k)),
        ], 0..8)
    ) {
        let finite: Vec<f64> = v.iter().copied().filter(|x| x.is_finite()).collect();
        let mut out = Vec::new();
        to_writer(&mut out, &v, &mut Vec::new()).unwrap();
        prop_assert_eq!(&out, &serde_json::to_vec(&v).unwrap());
        let keys = FloatKeys(finite);
        let mut out = Vec::new();
        to_writer(&mut out, &keys, &mut Vec::new()).unwrap();
        prop_assert_eq!(&out, &serde_json::to_vec(&keys).unwrap());
        for x in &v {
            let mut o = Vec::new();
            crate::write::f64(&mut o, *x);
            prop_assert_eq!(String::from_utf8(o).unwrap(), serde_json::to_string(x).unwrap());
        }
    }
}

#[test]
fn short_floats_take_the_fast_path() {
    for v in [
        0.0,
        -0.0,
        47.3769,
        -23.5505,
        139.6503,
        8.5417,
        19.945,
        0.5,
        1.75,
        24.25,
        3.0,
        -8.0,
        0.001,
        0.000489,
        12345678.12345678,
        67108863.5,
        1e15,
        -9007199254740991.0,
    ] {
        let mut out = Vec::with_capacity(16);
        crate::write::f64_or(&mut out, v, |_, _| panic!("{v} took the slow path"));
        assert_eq!(out, serde_json::to_vec(&v).unwrap());
    }
    for v in [
        0.1 + 0.2,
        1.0 / 3.0,
        0.000488281,
        67108864.5,
        1e-5,
        1e16,
        f64::NAN,
    ] {
        let mut out = Vec::with_capacity(16);
        let mut slow = false;
        crate::write::f64_or(&mut out, v, |_, _| slow = true);
        assert!(slow && out.is_empty(), "{v}");
    }
    // Without spare capacity.
    let mut out = Vec::new();
    let mut slow = false;
    crate::write::f64_or(&mut out, 1.5, |_, _| slow = true);
    assert!(slow && out.is_empty());
}

/// The long version of the float tests, for release builds:
/// `cargo test --release -p socketio-json floats_exhaustively -- --ignored`.
#[test]
#[ignore = "minutes; run in release mode"]
fn floats_exhaustively_match_serde_json() {
    let mut c = FloatCheck::new();
    // Every decimal below 10^8 * 10^-k with k = 1..=8 fractional digits (so up to 8
    // digits), and neighbours.
    for k in 1..=8 {
        let p = 10f64.powi(k);
        for d in 0..100_000_000u64 {
            let v = d as f64 / p;
            c.check(v);
            if d % 3 == 0 {
                c.check(-f64::from_bits(v.to_bits() + 1));
                c.check(f64::from_bits(v.to_bits().wrapping_sub(1)));
            }
        }
    }
    // Random significands at every exponent of the fast path and around it.
    let mut state = 0x2545_f491_4f6c_dd1du64;
    for exp in 1023 - 16..=1023 + 58 {
        for _ in 0..4_000_000 {
            let r = xorshift(&mut state);
            c.check(f64::from_bits(r & (1 << 63 | ((1 << 52) - 1)) | exp << 52));
        }
    }
}

#[test]
fn values_into_replaces_the_vector_and_leaves_it_empty_on_errors() {
    let limits = Limits::default();
    let mut out = vec![serde_json::json!("old")];
    crate::values_from_array_str_at_into(r#"["ev",1,{"a":[2]}]"#, 5, false, &limits, &mut out)
        .unwrap();
    assert_eq!(
        out,
        vec![serde_json::json!(1), serde_json::json!({"a": [2]})]
    );
    for bad in [r#"["ev",1,]"#, r#"["ev",1] x"#, r#"["ev",1"#, r#"["ev"}"#] {
        let mut out = vec![serde_json::json!("old")];
        assert!(crate::values_from_array_str_at_into(bad, 5, false, &limits, &mut out).is_err());
        assert!(out.is_empty(), "{bad}");
    }
}
