//! Tests of the Presence Gateway capture parser. All captures are synthetic (the page layout as
//! text is NOT KNOWN, §8.3); the status strings are the VERIFIED published spellings.

use super::*;

fn run(text: &str) -> Parsed {
    parse(&FileCtx::new("IMP01/presence_gateway.txt"), text)
}

fn props(e: &Event) -> &Props {
    match &e.body {
        Body::Object {
            command: Some(c),
            props,
            ..
        } if c == COMMAND => props,
        other => panic!("not a gateway: {other:?}"),
    }
}

fn list<'a>(p: &'a Props, name: &str) -> Vec<&'a str> {
    p.get(name).map(Value::items).unwrap_or_default()
}

/// The status strings exactly as published in the 12.5(1) guide (spacing as found), then the
/// green wording of the same guide.
const PUBLISHED: [(&str, &str); 10] = [
    (
        "Exchange Reachability (pingable)",
        "Exchange Reachability (pingable)",
    ),
    (
        "Exchange Reachability (unreachable)",
        "Exchange Reachability (unreachable)",
    ),
    (
        "SSL Connection/Certificate Verification - Verified",
        "SSL Connection/Certificate Verification - Verified",
    ),
    (
        "SSL Connection/Certificate Verification Failed - Certificate Missing From Chain",
        "SSL Connection/Certificate Verification Failed - Certificate Missing From Chain",
    ),
    (
        "SSL Connection/Certificate Verification Failed- Subject CN Mismatch",
        "SSL Connection/Certificate Verification Failed - Subject CN Mismatch",
    ),
    (
        "SSL Connection/Certificate Verification Failed - SAN Mismatch",
        "SSL Connection/Certificate Verification Failed - SAN Mismatch",
    ),
    (
        "SSL Connection/Certificate Verification Failed - Bad Certificates",
        "SSL Connection/Certificate Verification Failed - Bad Certificates",
    ),
    (
        "SSL Connection / Certificate Verification Failed - Network Error",
        "SSL Connection/Certificate Verification Failed - Network Error",
    ),
    (
        "SSL Connection/Certificate Verification Failed",
        "SSL Connection/Certificate Verification Failed",
    ),
    (
        "Exchange SSL Connection/Certification Verification",
        "Exchange SSL Connection/Certification Verification",
    ),
];

#[test]
fn every_published_status_maps_to_its_canonical_string() {
    for (published, canonical) in PUBLISHED {
        assert_eq!(status_line(published), vec![canonical], "{published}");
        // Extra spacing, case and dash variants normalise the same way.
        let odd = published
            .replace('/', " /  ")
            .replace(" - ", " -- ")
            .to_uppercase();
        assert_eq!(status_line(&odd), vec![canonical], "{odd}");
        assert_eq!(
            status_line(&format!("  {published}\t")),
            vec![canonical],
            "{published}"
        );
    }
    assert!(STATUSES.iter().all(|s| status_line(s) == vec![*s]));
    assert!(status_line("Presence Gateway Type: Exchange - EWS Server").is_empty());
    assert_eq!(
        status_line(
            "Exchange Reachability (pingable)   SSL Connection/Certificate Verification Failed-SAN Mismatch"
        ),
        vec![
            "Exchange Reachability (pingable)",
            "SSL Connection/Certificate Verification Failed - SAN Mismatch"
        ]
    );
}

#[test]
fn normalisation_rules() {
    assert_eq!(
        normalise("Exchange -- EWS  Server"),
        "exchange - ews server"
    );
    assert_eq!(normalise("Exchange - EWS Server"), "exchange - ews server");
    assert_eq!(normalise("a / b-c"), "a/b - c");
}

const TWO: &str = "Presence Gateway Configuration\r\n\r\nPresence Gateway Type*: Exchange - EWS Server\r\nDescription*: Exchange 2016 CAS\r\nPresence Gateway*: mail.contoso.com\r\nAccount Name*: CONTOSO\\svc-cup\r\nAccount Password*: ********\r\nPort*: 443\r\nExchange Server Status\r\nExchange Reachability (pingable)\r\nSSL Connection/Certificate Verification Failed- Subject CN Mismatch\r\n\r\nPresence Gateway Type*\tExchange -- EWS Server\r\nDescription*\tsecond\r\nPresence Gateway*\t10.0.0.21\r\nAccount Name\tsvc-cup@contoso.com\r\nPort\t443\r\n--------------------------\r\nPresence Gateway Type    Office 365 Server\r\nPresence Gateway    outlook.office365.com\r\nCustom Label    x:y\r\nSSL Connection / Certificate Verification Failed - Network Error\r\n";

#[test]
fn gateways_split_on_blank_and_dash_lines_with_every_separator() {
    let p = run(TWO);
    assert_eq!((p.parsed, p.rejected), (3, 0), "{:?}", p.diagnostics);
    let a = props(&p.events[0]);
    assert_eq!(a.text("Type"), Some("Exchange - EWS Server"));
    assert_eq!(a.text("Description"), Some("Exchange 2016 CAS"));
    assert_eq!(a.text("Host"), Some("mail.contoso.com"));
    assert_eq!(a.text("AccountName"), Some("CONTOSO\\svc-cup"));
    assert_eq!(a.text("Account Password"), Some("(redacted)"));
    assert_eq!(a.text("Port"), Some("443"));
    assert_eq!(a.text("Index"), Some("1"));
    assert_eq!(
        list(a, "Status"),
        vec![
            "Exchange Reachability (pingable)",
            "SSL Connection/Certificate Verification Failed - Subject CN Mismatch"
        ]
    );
    assert_eq!(
        list(a, "StatusRaw")[1],
        "SSL Connection/Certificate Verification Failed- Subject CN Mismatch"
    );
    let e = &p.events[0];
    assert_eq!((e.loc.line, e.loc.record), (3, 1));
    assert_eq!(e.ts_kind, crate::model::TsKind::None);
    assert_eq!(e.host, None);
    assert_eq!(
        e.excerpt,
        "PresenceGateway mail.contoso.com Exchange - EWS Server: Exchange Reachability (pingable); SSL Connection/Certificate Verification Failed - Subject CN Mismatch"
    );
    let b = props(&p.events[1]);
    assert_eq!(b.text("Type"), Some("Exchange -- EWS Server"));
    assert_eq!(b.text("Host"), Some("10.0.0.21"));
    assert_eq!(b.text("AccountName"), Some("svc-cup@contoso.com"));
    assert!(list(b, "Status").is_empty());
    assert_eq!(p.events[1].loc.line, 13);
    let c = props(&p.events[2]);
    assert_eq!(c.text("Type"), Some("Office 365 Server"));
    assert_eq!(c.text("Host"), Some("outlook.office365.com"));
    assert_eq!(c.text("Custom Label"), Some("x:y"));
    assert_eq!(
        list(c, "Status"),
        vec!["SSL Connection/Certificate Verification Failed - Network Error"]
    );
    // The heading block before the first gateway is reported, not silently dropped.
    assert_eq!(p.diagnostics.len(), 1, "{:?}", p.diagnostics);
    assert_eq!(p.diagnostics[0].level, DiagLevel::Warning);
    assert_eq!(p.diagnostics[0].line, 1);
}

#[test]
fn status_outside_any_block_goes_to_the_single_gateway() {
    let t = "Presence Gateway Type: Exchange - EWS Server\nPresence Gateway: mail.contoso.com\nPort: 443\n\nExchange Server Status\nExchange Reachability (unreachable)\n";
    let p = run(t);
    assert_eq!((p.parsed, p.rejected), (1, 0));
    assert!(p.diagnostics.is_empty(), "{:?}", p.diagnostics);
    let g = props(&p.events[0]);
    assert_eq!(
        list(g, "Status"),
        vec!["Exchange Reachability (unreachable)"]
    );
    assert_eq!(
        list(g, "StatusRaw"),
        vec!["Exchange Reachability (unreachable)"]
    );
}

#[test]
fn status_outside_any_block_with_two_gateways_is_a_warning() {
    let t = "Presence Gateway Type: Exchange - EWS Server\nPresence Gateway: a.contoso.com\n\nPresence Gateway Type: Exchange - EWS Server\nPresence Gateway: b.contoso.com\n\nSSL Connection/Certificate Verification - Verified\n";
    let p = run(t);
    assert_eq!((p.parsed, p.rejected), (2, 0));
    assert!(p.events.iter().all(|e| list(props(e), "Status").is_empty()));
    assert_eq!(p.diagnostics.len(), 1);
    let d = &p.diagnostics[0];
    assert_eq!((d.level, d.line), (DiagLevel::Warning, 7));
    assert!(d.message.contains("not attached"), "{}", d.message);
}

#[test]
fn repeated_type_label_in_one_block_starts_a_new_gateway() {
    let t = "Presence Gateway Type: Exchange - EWS Server\nPresence Gateway: a\nExchange Reachability (pingable)\nPresence Gateway Type: Exchange - EWS Server\nPresence Gateway: b\nExchange Reachability (unreachable)\n";
    let p = run(t);
    assert_eq!(p.parsed, 2);
    assert_eq!(props(&p.events[1]).text("Host"), Some("b"));
    assert_eq!(
        list(props(&p.events[1]), "Status"),
        vec!["Exchange Reachability (unreachable)"]
    );
    assert_eq!(p.events[1].loc.record, 2);
}

#[test]
fn garbage_and_empty_inputs_reject_once() {
    for t in [
        "",
        "\n\n",
        "just some text",
        "\u{0}\u{1}:::\t\t",
        "Exchange Reachability (pingable)\n",
        "-----\n=====\n",
    ] {
        let p = run(t);
        assert_eq!((p.parsed, p.rejected), (0, 1), "{t:?}");
        let errors = p.diagnostics.iter().filter(|d| d.level == DiagLevel::Error);
        assert_eq!(errors.count(), 1, "{t:?}");
    }
}

#[test]
fn random_texts_do_not_panic() {
    let tokens = [
        "Presence Gateway Type",
        "Presence Gateway",
        "*",
        ":",
        "\t",
        "  ",
        "\n",
        "\r\n",
        "---",
        " - ",
        "/",
        "Exchange Reachability (pingable)",
        "SSL Connection",
        "Certificate Verification Failed",
        "é",
        "x",
    ];
    for t in crate::formats::exlog::tests::junk_texts(&tokens, 3000) {
        let p = run(&t);
        assert_eq!(p.parsed, p.events.len() as u64);
        assert!(p.parsed + p.rejected >= 1, "{t:?}");
    }
}

#[test]
fn grammar_examples_parse_cleanly() {
    let md = include_str!("../../grammars/cisco-gateway.md");
    let blocks = crate::formats::exlog::tests::grammar_examples(md);
    assert!(!blocks.is_empty());
    for b in &blocks {
        assert_eq!(
            crate::input::sniff::sniff_text(b, "example.txt"),
            Some(Format::CiscoGateway)
        );
        let p = run(b);
        assert!(p.parsed >= 1 && p.rejected == 0, "{b}: {:?}", p.diagnostics);
        assert!(p.diagnostics.is_empty(), "{:?}", p.diagnostics);
    }
}
