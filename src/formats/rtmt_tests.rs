//! Tests of the RTMT manifest reader (`rtmt.rs`). Every manifest here is synthetic: the element
//! names of `TraceCollectionResult*.xml` are NOT KNOWN (formats.md §8.1).

use super::*;

fn ctx() -> FileCtx {
    FileCtx::new("rtmt/TraceCollectionResult_synthetic.xml")
}

fn obj(e: &Event) -> (&Option<String>, &Props) {
    match &e.body {
        Body::Object { command, props, .. } => (command, props),
        other => panic!("not an object: {other:?}"),
    }
}

fn list<'a>(p: &'a Props, name: &str) -> Vec<&'a str> {
    match p.get(name) {
        Some(Value::List {
            items,
            truncated: false,
        }) => items.iter().map(String::as_str).collect(),
        other => panic!("{name} is not a list: {other:?}"),
    }
}

const TWO_NODES: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<!-- synthetic: element names NOT KNOWN -->
<TraceCollectionResult xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
  <Node name="imp-pub.example.com">
    <Service name="Cisco Presence Engine">
      <File name="/var/log/active/epas/trace/epe/sdi/epe000001.txt.gz" status="Success"/>
      <File name="/var/log/active/epas/trace/epe/sdi/epe000002.txt.gz" status="Failed"/>
      <File name="/var/log/active/epas/trace/epe/sdi/epe000001.txt.gz"/>
    </Service>
  </Node>
  <Node>
    <SuccessFiles>
      <FileName>/var/log/active/epas/trace/esp/sdi/esp000001.txt.gz</FileName>
      <FileName>/var/log/active/epas/trace/xcp/log/rtr-jsm-1.log.gz</FileName>
    </SuccessFiles>
    <Name>imp-sub</Name>
  </Node>
</TraceCollectionResult>
"#;

#[test]
fn two_nodes_with_one_failed_file() {
    let p = parse(&ctx(), TWO_NODES);
    assert_eq!((p.parsed, p.rejected, p.diagnostics.len()), (2, 0, 0));
    let (cmd, a) = obj(&p.events[0]);
    assert_eq!(cmd.as_deref(), Some("TraceCollectionResult"));
    assert_eq!(a.text("Node"), Some("imp-pub.example.com"));
    assert_eq!(
        list(a, "Files"),
        ["/var/log/active/epas/trace/epe/sdi/epe000001.txt.gz"]
    );
    assert_eq!(
        list(a, "Failed"),
        ["/var/log/active/epas/trace/epe/sdi/epe000002.txt.gz"]
    );
    let (_, b) = obj(&p.events[1]);
    assert_eq!(b.text("Node"), Some("imp-sub"));
    assert_eq!(
        list(b, "Files"),
        [
            "/var/log/active/epas/trace/esp/sdi/esp000001.txt.gz",
            "/var/log/active/epas/trace/xcp/log/rtr-jsm-1.log.gz"
        ]
    );
    assert!(list(b, "Failed").is_empty());
    let locs: Vec<_> = p
        .events
        .iter()
        .map(|e| (e.loc.line, e.loc.record))
        .collect();
    assert_eq!(locs, [(4, 1), (11, 2)]);
    assert_eq!(p.events[0].excerpt, r#"<Node name="imp-pub.example.com">"#);
    assert!(p
        .events
        .iter()
        .all(|e| e.format == Format::RtmtManifest && e.time.is_none()));
}

#[test]
fn relative_paths_status_children_and_unattributed_files() {
    let xml = r#"<Result>
  <Files><File>imp-pub/epas/trace/epe/sdi/epe000001.txt.gz</File></Files>
  <FailedFiles><File>imp-pub/epas/trace/epe/sdi/epe000003.txt.gz</File></FailedFiles>
  <File collected="false">var/log/active/a.log</File>
  <File><Path>C:\RTMT\esp000001.txt</Path><Status>Not collected (overwritten)</Status></File>
  <File host="10.0.0.5" path="/epas/trace/xcp/log/client-cm-1.log.gz" error="none"/>
  <Note>see https://example.com/a.xml; 12/03/2011; N/A</Note>
</Result>"#;
    let p = parse(&ctx(), xml);
    assert_eq!((p.parsed, p.rejected, p.diagnostics.len()), (3, 0, 0));
    let (_, a) = obj(&p.events[0]);
    assert_eq!(a.text("Node"), Some("imp-pub"));
    assert_eq!(
        list(a, "Files"),
        ["imp-pub/epas/trace/epe/sdi/epe000001.txt.gz"]
    );
    assert_eq!(
        list(a, "Failed"),
        ["imp-pub/epas/trace/epe/sdi/epe000003.txt.gz"]
    );
    let (_, none) = obj(&p.events[1]);
    assert_eq!(none.get("Node"), Some(&Value::Null));
    assert!(list(none, "Files").is_empty());
    assert_eq!(
        list(none, "Failed"),
        ["var/log/active/a.log", r"C:\RTMT\esp000001.txt"]
    );
    let (_, ip) = obj(&p.events[2]);
    assert_eq!(ip.text("Node"), Some("10.0.0.5"));
    assert_eq!(
        list(ip, "Files"),
        ["/epas/trace/xcp/log/client-cm-1.log.gz"]
    );
}

#[test]
fn malformed_and_odd_inputs() {
    let bad = "<Result>\n  <Node name=\"a\">\n    <File>/x/y.log</Fil>\n</Result>\n";
    let p = parse(&ctx(), bad);
    assert_eq!(
        (p.parsed, p.rejected, p.events.len(), p.diagnostics.len()),
        (0, 1, 0, 1)
    );
    let d = &p.diagnostics[0];
    assert_eq!(
        (d.level, d.line, d.format),
        (DiagLevel::Error, 3, Some(Format::RtmtManifest))
    );
    assert!(
        d.message.starts_with("malformed manifest XML: "),
        "{}",
        d.message
    );
    // Cut short: the file ends inside an element.
    let p = parse(
        &ctx(),
        "<Result>\n<Node name=\"a\">\n<File>/x/y.log</File>\n",
    );
    assert_eq!((p.parsed, p.rejected), (0, 1));
    assert!(
        p.diagnostics[0].message.contains("end of file"),
        "{}",
        p.diagnostics[0].message
    );
    // Not XML at all, binary, mojibake.
    for t in ["hello /x/y.log", "\u{0}\u{1}PK\u{3}\u{4}", "Ã©<<>>&&"] {
        let p = parse(&ctx(), t);
        assert_eq!(
            (p.parsed, p.rejected, p.diagnostics.len()),
            (0, 1, 1),
            "{t:?}"
        );
    }
    // Empty, blank: nothing at all.
    for t in ["", "  \r\n"] {
        let p = parse(&ctx(), t);
        assert_eq!((p.parsed, p.rejected, p.diagnostics.len()), (0, 0, 0));
    }
    // Well-formed without any path: one warning, no event; a named node alone is still reported.
    let p = parse(&ctx(), "<Result><Status>done</Status></Result>");
    assert_eq!((p.parsed, p.rejected, p.diagnostics.len()), (0, 0, 1));
    assert_eq!(
        p.diagnostics[0].message,
        "no file path found in the manifest"
    );
    let p = parse(&ctx(), "<Result server=\"imp-pub\"/>");
    assert_eq!((p.parsed, p.diagnostics.len()), (1, 1));
    assert_eq!(obj(&p.events[0]).1.text("Node"), Some("imp-pub"));
}

#[test]
fn path_host_and_status_rules() {
    for yes in [
        "/var/log/active/epas/trace/esp/sdi/esp000001.log",
        "epe000001.txt.gz",
        r"C:\RTMT\node\catalina.out",
        "/var/log/active/syslog/messages",
        "a/b.c",
    ] {
        assert!(is_path_like(yes), "{yes}");
    }
    for no in [
        "http://www.w3.org/2001/XMLSchema-instance",
        "12/03/2011",
        "N/A",
        "imp-pub",
        "/var/log/",
        "ab",
        "a/b c.txtx",
        "x\ny.log",
    ] {
        assert!(!is_path_like(no), "{no}");
    }
    assert!(host_like("imp-pub.example.com") && host_like("10.0.0.5") && host_like("IMP01"));
    assert!(!host_like("10.0.0") && !host_like("a b") && !host_like("-a") && !host_like(""));
    assert_eq!(host_of_relative("imp-pub/epas/x.log"), Some("imp-pub"));
    assert_eq!(host_of_relative("epas/trace/x.log"), None);
    assert_eq!(host_of_relative("imp-pub/x.log"), None);
    assert_eq!(host_of_relative("/imp-pub/a/x.log"), None);
    assert_eq!(attr_status("collected", "false"), Some(true));
    assert_eq!(attr_status("Failed", "no"), Some(false));
    assert_eq!(attr_status("errorMessage", "file overwritten"), Some(true));
    assert_eq!(attr_status("status", "Success"), Some(false));
    assert_eq!(attr_status("name", "failed.log"), None);
    assert_eq!(name_status("FailedFiles"), Some(true));
    assert_eq!(name_status("NotCollected"), Some(true));
    assert_eq!(name_status("Successful_Files"), Some(false));
    assert_eq!(name_status("TraceCollectionResult"), None);
    assert!(is_node_key("Node_Name") && is_node_key("SERVER") && !is_node_key("ServiceName"));
}
