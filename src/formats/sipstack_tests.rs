//! Tests of the SIPStack parser (kept apart to keep `sipstack.rs` readable).
use super::*;

const E1: &str = "TL_INFO(TF_PROTOCOL) [0]06E4.0EB4::01/18/2012-05:00:43.101.00005386 (SIPStack,SIPAdminLog::TraceProtocolRecord:SIPAdminLog.cpp(125))$$begin_record\r\nTrace-Correlation-Id: 2003888399\r\nInstance-Id: 0000C23F\r\nDirection: incoming;source=\"internal edge\";destination=\"external edge\"\r\nPeer: lyncservr.contoso.com:61182\r\nMessage-Type: request\r\nStart-Line: OPTIONS sip:Options_User@fabrikam.com SIP/2.0\r\nCSeq: 1 OPTIONS\r\nUSER-AGENT: RTCC/4.0.0.0\r\nMessage-Body: -\r\n$$end_record\r\n";
const E2: &str = "TL_ERROR(TF_COMPONENT) [0]0860.0CDC::01/18/2012-05:07:42.622.000d0b31 (SIPStack,CSIPRequest::GetNextHopByRouteHeader:SIPRequest.cpp(2440))( 00000000028FDD70 ) Exit - route headers from untrusted source. Result 0xC3E93C5E(SIPPROXY_E_ROUTING)\nLogType: diagnostic\nSeverity: warning\nText: Cannot process Route headers from a non-trusted source, or with first Route field in the set not matching the connection on which the request arrived\nResult-Code: 0xc3e93c5e SIPPROXY_E_ROUTING\nSIP-Start-Line: OPTIONS sip:Options_User@fabrikam.com SIP/2.0\nSIP-Call-ID: c00bc6180f284b948be61febf274d05e\nSIP-CSeq: 1 OPTIONS\n$$end_record\n";
const E3: &str = "TL_ERROR(TF_CONNECTION) [0]0AC0.1278::12/20/2011-20:45:01.704.000003ca (SIPStack,SIPAdminLog::TraceConnectionRecord:SIPAdminLog.cpp(160))$$begin_record\nLogType: connection\nSeverity: error\nText: The peer is not a configured server on this network interface\nTransport: TLS\nData: fqdn=\"deitterick.com\"\n";
const E4: &str = "TL_WARN(TF_DIAG) [sfvedge\\sfvedge]0584.0A44::03/02/2017-07:10:46.230.0000773E (SIPStack,SIPAdminLog::WriteDiagnosticEvent:SIPAdminLog.cpp(830)) [156659184] $$begin_record\nSeverity: warning\nResult-Code: 0xc3e93d6f SIPPROXY_E_EPROUTING_MSG_ALLOWED_DOMAIN_NO_SRV_MATCH\n$$end_record\n";
const E5: &str = "TL_ERROR(TF_DIAG) [sfvedge\\sfvedge]0B60.0D6C::03/02/2017-06:30:40.025.00005602 (SIPStack,SIPAdminLog::WriteDiagnosticEvent:SIPAdminLog.cpp(833)) [3634190282] $$begin_record\nSeverity: error\nText: Message cannot be routed because the peer's certificate does not contain a matching FQDN Result-Code: 0xc3e93d67 SIPPROXY_E_ROUTING_MSG_CERT_MISMATCH\nSIP-Call-ID: e144704c-1dd0-4ea7-929f-77e7e071c24c\nPeer: vcse.steven.lab:25001\nData: expected-fqdn =\" vcse.acano.steven.lab \"; certName =\" vcse.steven.lab \";info=\"The peer certificate does not contain a matching FQDN\"\n$$end_record\n";
/// Synthetic: a 504 response with ms-diagnostics 1047 as a Front End would log it.
const P504: &str = "TL_INFO(TF_PROTOCOL) [0]1A2B.3C4D::11/20/2023-14:15:44.012.000000ff (SIPStack,SIPAdminLog::TraceProtocolRecord:SIPAdminLog.cpp(125))$$begin_record\nTrace-Correlation-Id: 1234\nDirection: outgoing\nPeer: ex01.contoso.local:5061\nMessage-Type: response\nStart-Line: SIP/2.0 504 Server time-out\nCall-ID: abc\nms-diagnostics: 1047;reason=\"Failed to complete TLS negotiation with a federated peer server\";WinsockFailureCode=\"10054(WSAECONNRESET)\"\nServer: RTC/6.0.0.0\nUSER-AGENT: RTCC/5.0.0.0 OWA\nMessage-Body: -\n$$end_record\n";

fn whole(t: &str) -> Parsed {
    parse_chunk(&FileCtx::new("b/FE01/sip.txt"), &Chunk::whole(t))
}

fn sip(e: &Event) -> &SipRecord {
    match &e.body {
        Body::Sip(s) => s,
        b => panic!("not sip: {b:?}"),
    }
}

/// One event as text: position, time, kind, then every part of the record.
fn show(e: &Event) -> String {
    let s = sip(e);
    let kv = |p: &Props| -> Vec<String> {
        let t = |(k, v): &(String, Value)| format!("{k}={}", v.as_text().unwrap_or("?"));
        p.0.iter().map(t).collect()
    };
    let diags: Vec<String> = s
        .diagnostics
        .iter()
        .map(|d| format!("{}:{}{:?}", d.header, d.code, d.attrs))
        .collect();
    let time = e.time.map(|t| t.to_rfc3339()).unwrap_or_default();
    format!(
        "L{} R{} @{} {time} {:?} {} {} {}\nstart={:?}\ntext={}\nfields={}\nheaders={}\ncodes={}\ndiags={}\nexcerpt={}",
        e.loc.line, e.loc.record, e.loc.offset, e.ts_kind, s.level, s.flag, s.kind, s.start_line, s.text,
        kv(&s.fields).join("|"), kv(&s.headers).join("|"), s.codes.join(","), diags.join(","), e.excerpt
    )
}

fn messages(p: &Parsed) -> Vec<String> {
    p.diagnostics
        .iter()
        .map(|d| format!("{:?} L{} R{}: {}", d.level, d.line, d.record, d.message))
        .collect()
}

#[test]
fn real_excerpts_e1_to_e5() {
    let t = format!("{E1}{E2}{E3}{E4}{E5}");
    let p = whole(&t);
    assert_eq!((p.parsed, p.rejected), (5, 0));
    assert_eq!(messages(&p), ["Warning L21 R3: 1 records without $$end_record (ended at the next header or at the end of the text)"]);
    let shown: Vec<String> = p.events.iter().map(show).collect();
    assert_eq!(
        shown[0],
        r#"L1 R1 @0 2012-01-18T05:00:43.101+00:00 AssumedUtc TL_INFO TF_PROTOCOL protocol
start=Some("OPTIONS sip:Options_User@fabrikam.com SIP/2.0")
text=
fields=Trace-Correlation-Id=2003888399|Instance-Id=0000C23F|Direction=incoming;source="internal edge";destination="external edge"|Peer=lyncservr.contoso.com:61182|Message-Type=request|Message-Body=-|_context=0|_pid=06E4|_tid=0EB4|_seq=00005386|_source=SIPStack,SIPAdminLog::TraceProtocolRecord:SIPAdminLog.cpp(125)
headers=CSeq=1 OPTIONS|USER-AGENT=RTCC/4.0.0.0
codes=
diags=
excerpt=TL_INFO TF_PROTOCOL protocol: OPTIONS sip:Options_User@fabrikam.com SIP/2.0"#
    );
    assert_eq!(
        shown[1],
        format!(
            r#"L12 R2 @{} 2012-01-18T05:07:42.622+00:00 AssumedUtc TL_ERROR TF_COMPONENT trace_text
start=None
text=( 00000000028FDD70 ) Exit - route headers from untrusted source. Result 0xC3E93C5E(SIPPROXY_E_ROUTING)
fields=LogType=diagnostic|Severity=warning|Text=Cannot process Route headers from a non-trusted source, or with first Route field in the set not matching the connection on which the request arrived|Result-Code=0xc3e93c5e SIPPROXY_E_ROUTING|SIP-Start-Line=OPTIONS sip:Options_User@fabrikam.com SIP/2.0|SIP-Call-ID=c00bc6180f284b948be61febf274d05e|SIP-CSeq=1 OPTIONS|_context=0|_pid=0860|_tid=0CDC|_seq=000d0b31|_source=SIPStack,CSIPRequest::GetNextHopByRouteHeader:SIPRequest.cpp(2440)
headers=
codes=0xC3E93C5E SIPPROXY_E_ROUTING
diags=
excerpt=TL_ERROR TF_COMPONENT trace_text: ( 00000000028FDD70 ) Exit - route headers from untrusted source. Result 0xC3E93C5E(SIPPROXY_E_ROUTING); Result-Code: 0xc3e93c5e SIPPROXY_E_ROUTING"#,
            E1.len()
        )
    );
    assert_eq!(
        shown[2],
        format!(
            r#"L21 R3 @{} 2011-12-20T20:45:01.704+00:00 AssumedUtc TL_ERROR TF_CONNECTION connection
start=None
text=The peer is not a configured server on this network interface
fields=LogType=connection|Severity=error|Text=The peer is not a configured server on this network interface|Transport=TLS|Data=fqdn="deitterick.com"|Data.fqdn=deitterick.com|_context=0|_pid=0AC0|_tid=1278|_seq=000003ca|_source=SIPStack,SIPAdminLog::TraceConnectionRecord:SIPAdminLog.cpp(160)
headers=
codes=
diags=
excerpt=TL_ERROR TF_CONNECTION connection: The peer is not a configured server on this network interface; Data: fqdn="deitterick.com""#,
            E1.len() + E2.len()
        )
    );
    assert_eq!(
        shown[3].lines().next(),
        Some(
            format!(
                "L27 R4 @{} 2017-03-02T07:10:46.230+00:00 AssumedUtc TL_WARN TF_DIAG diagnostic",
                t.find(E4).unwrap()
            )
            .as_str()
        )
    );
    assert!(shown[3].contains("|_context=sfvedge\\sfvedge|_pid=0584|_tid=0A44|_seq=0000773E|_source=SIPStack,SIPAdminLog::WriteDiagnosticEvent:SIPAdminLog.cpp(830)|_begin_id=156659184\n"));
    assert!(shown[3]
        .contains("\ncodes=0xC3E93D6F SIPPROXY_E_EPROUTING_MSG_ALLOWED_DOMAIN_NO_SRV_MATCH\n"));
    assert_eq!(
        shown[4].split_once('\n').unwrap().1,
        r#"start=None
text=Message cannot be routed because the peer's certificate does not contain a matching FQDN
fields=Severity=error|Text=Message cannot be routed because the peer's certificate does not contain a matching FQDN|Result-Code=0xc3e93d67 SIPPROXY_E_ROUTING_MSG_CERT_MISMATCH|SIP-Call-ID=e144704c-1dd0-4ea7-929f-77e7e071c24c|Peer=vcse.steven.lab:25001|Data=expected-fqdn =" vcse.acano.steven.lab "; certName =" vcse.steven.lab ";info="The peer certificate does not contain a matching FQDN"|Data.expected-fqdn=vcse.acano.steven.lab|Data.certName=vcse.steven.lab|Data.info=The peer certificate does not contain a matching FQDN|_context=sfvedge\sfvedge|_pid=0B60|_tid=0D6C|_seq=00005602|_source=SIPStack,SIPAdminLog::WriteDiagnosticEvent:SIPAdminLog.cpp(833)|_begin_id=3634190282
headers=
codes=0xC3E93D67 SIPPROXY_E_ROUTING_MSG_CERT_MISMATCH
diags=
excerpt=TL_ERROR TF_DIAG diagnostic: Message cannot be routed because the peer's certificate does not contain a matching FQDN; Result-Code: 0xc3e93d67 SIPPROXY_E_ROUTING_MSG_CERT_MISMATCH; Data: expected-fqdn =" vcse.acano.steven.lab "; certName ="…"#
    );
    assert!(p.events.iter().all(|e| e.host.is_none()));
}

#[test]
fn synthetic_504_with_ms_diagnostics_and_message_body() {
    let p = whole(P504);
    assert_eq!((p.parsed, p.rejected, p.diagnostics.len()), (1, 0, 0));
    let shown = show(&p.events[0]);
    let want = r#"start=Some("SIP/2.0 504 Server time-out")
text=
fields=Trace-Correlation-Id=1234|Direction=outgoing|Peer=ex01.contoso.local:5061|Message-Type=response|Message-Body=-|_context=0|_pid=1A2B|_tid=3C4D|_seq=000000ff|_source=SIPStack,SIPAdminLog::TraceProtocolRecord:SIPAdminLog.cpp(125)
headers=Call-ID=abc|ms-diagnostics=1047;reason="Failed to complete TLS negotiation with a federated peer server";WinsockFailureCode="10054(WSAECONNRESET)"|Server=RTC/6.0.0.0|USER-AGENT=RTCC/5.0.0.0 OWA
codes=
diags=ms-diagnostics:1047[("reason", "Failed to complete TLS negotiation with a federated peer server"), ("WinsockFailureCode", "10054(WSAECONNRESET)")]
excerpt=TL_INFO TF_PROTOCOL protocol: SIP/2.0 504 Server time-out; ms-diagnostics: 1047;reason="Failed to complete TLS negotiation with a federated peer server";WinsockFailureCode="10054(WSAECONNRESET)""#;
    assert_eq!(shown.split_once('\n').unwrap().1, want);
    // SDP / XML lines after Message-Body are body text; a folded header continues; stray lines.
    let t = "TL_INFO(TF_PROTOCOL) [0]0001.0002::01/01/2020-00:00:00.000.00000001 (SIPStack,SIPAdminLog::TraceProtocolRecord:SIPAdminLog.cpp(1))$$begin_record\nStart-Line: INVITE sip:a@b SIP/2.0\nVia: x\n ;folded\nMessage-Body: v=0\no=- 1 1 IN IP4 1.2.3.4\nBadKey: 0x80090322\n\n$$end_record\nstray line\n$$end_record\n";
    let p = whole(t);
    let s = sip(&p.events[0]);
    assert_eq!(s.headers.text("Via"), Some("x\n ;folded"));
    assert_eq!(
        s.fields.text("Message-Body"),
        Some("v=0\no=- 1 1 IN IP4 1.2.3.4\nBadKey: 0x80090322\n")
    );
    assert_eq!(s.codes, ["0x80090322 SEC_E_WRONG_PRINCIPAL"]);
    assert_eq!(
        messages(&p),
        ["Warning L10 R0: 1 lines between records ignored"]
    );
}

#[test]
fn truncated_header_and_truncated_file() {
    let t = format!(
        "{}\nSeverity: error\nText: lost\n{E1}{}",
        &E3[..60],
        &E5[..300]
    );
    let p = whole(&t);
    assert_eq!((p.parsed, p.rejected), (2, 1));
    assert_eq!(messages(&p), [
        "Error L1 R1: header line does not match the SIPStack header grammar",
        "Warning L15 R3: 1 records without $$end_record (ended at the next header or at the end of the text)",
    ]);
    assert_eq!([p.events[0].loc.line, p.events[1].loc.record], [4, 3]);
    assert_eq!(sip(&p.events[1]).fields.text("Severity"), Some("error"));
}

#[test]
fn garbage_binary_empty_mojibake_and_avaya() {
    let avaya = "01/08/2022-11:36:14.354 [0x000021ac] - --> Message to Send (Dest Address IP:  10.50.14.2:4165):$$begin_record\nDirection: out\nStart-Line: INVITE sip:x SIP/2.0\n$$end_record\n";
    let bad_date = "TL_INFO(TF_DIAG) [0]0001.0002::13/45/2020-25:00:00.000.00000001 (SIPStack,F:f.cpp(1))$$begin_record\n";
    let cases: [(&str, u64, u64, usize); 8] = [
        ("", 0, 0, 0),
        ("\n\r\n \t\r", 0, 0, 0),
        (
            "\u{0}\u{1}\u{fffd}garbage\r\r\n\"\"\n$$end_record\nTL_\n",
            0,
            0,
            1,
        ),
        ("TL_X\nTL_INFO(\nTL_INFO(TF_DIAG) [0]zzzz\n", 0, 3, 3),
        ("MicrosoftÂ® WindowsÂ®\nTL_INFOÂ(TF_DIAG)\n", 0, 0, 1),
        (avaya, 0, 0, 1),
        (bad_date, 1, 0, 2),
        (
            "TL_INFO(TF_DIAG) [0]0001.0002::01/01/2020-00:00:00.000.00000001 (é,ü:ö(1))é\u{0}",
            1,
            0,
            1,
        ),
    ];
    for (t, parsed, rejected, diags) in cases {
        let p = whole(t);
        assert_eq!(
            (p.parsed, p.rejected, p.diagnostics.len()),
            (parsed, rejected, diags),
            "{t:?} {:?}",
            p.diagnostics
        );
        for n in [1, 3, 50] {
            check_split(t, n);
        }
    }
    assert_eq!(
        messages(&whole(avaya)),
        ["Warning L1 R0: 4 lines before the first record"]
    );
    assert!(header(avaya.lines().next().unwrap()).is_none());
    let p = whole(bad_date);
    assert_eq!(
        (p.events[0].time, p.events[0].ts_kind),
        (None, TsKind::None)
    );
}

#[test]
fn reject_details_are_capped() {
    let p = whole(&"TL_INFO(TF_DIAG) [0\n".repeat(80));
    assert_eq!(
        (p.parsed, p.rejected, p.diagnostics.len()),
        (0, 80, crate::formats::DETAIL_CAP + 1)
    );
    assert!(p.diagnostics[crate::formats::DETAIL_CAP]
        .message
        .starts_with("30 more header lines rejected"));
}

#[test]
fn grammar_examples_parse_cleanly() {
    let md = include_str!("../../grammars/sipstack.md");
    let blocks: Vec<&str> = md
        .split("```example synthetic\n")
        .skip(1)
        .map(|b| b.split("```").next().unwrap())
        .collect();
    let got: Vec<String> = blocks
        .iter()
        .map(|b| {
            let sniffed = crate::input::sniff::sniff_text(b, "example.txt");
            assert_eq!(sniffed, Some(Format::SipStack));
            let p = whole(b);
            assert_eq!(
                (p.parsed, p.rejected, p.diagnostics.len()),
                (1, 0, 0),
                "{b}"
            );
            let s = sip(&p.events[0]);
            let d: Vec<u32> = s.diagnostics.iter().map(|d| d.code).collect();
            format!(
                "{} {:?} {:?} {d:?}",
                s.kind,
                s.fields.text("Data.fqdn"),
                s.codes
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            r#"connection Some("mail.contoso.com") [] []"#,
            r#"diagnostic None ["0xC3E93D67 SIPPROXY_E_ROUTING_MSG_CERT_MISMATCH"] []"#,
            "protocol None [] [1047]",
            r#"trace_text None ["0xC3E93C5E SIPPROXY_E_ROUTING"] []"#,
        ]
    );
}

/// Parses `text` whole and as chunks; events must match after rebasing record numbers.
fn check_split(text: &str, target: usize) -> usize {
    let reference = whole(text);
    let chunks = split(text, target);
    assert_eq!(chunks.iter().map(|c| c.text).collect::<String>(), text);
    let mut parts = Vec::new();
    for c in &chunks {
        let ends = text[..c.offset as usize]
            .replace("\r\n", "\n")
            .matches(['\n', '\r'])
            .count();
        assert_eq!(c.line, 1 + ends as u64);
        assert!(c.offset == 0 || header(c.text.lines().next().unwrap()).is_some());
        parts.push(parse_chunk(&FileCtx::new("b/FE01/sip.txt"), c));
    }
    let merged = crate::pipeline::merge_chunks(parts);
    assert_eq!(
        (merged.parsed, merged.rejected),
        (reference.parsed, reference.rejected)
    );
    assert_eq!(merged.events, reference.events);
    chunks.len()
}

/// A trace of about `bytes` bytes: two threads interleaved, every known record shape, records
/// without `$$end_record`, truncated headers, CRLF and LF line ends. Returns (text, parsed, rejected).
fn generated(bytes: usize) -> (String, u64, u64) {
    let (mut t, mut counts) = (String::with_capacity(bytes + 4096), (0, 0));
    let recs = [E1, E3, P504, E5, E2, E5];
    for i in 0u64.. {
        if t.len() >= bytes {
            break;
        }
        let rec = recs[(i % 6) as usize];
        let tid = if i % 2 == 0 { "0EB4" } else { "1278" };
        let head = format!(
            "06E4.{tid}::01/18/2012-05:{:02}:{:02}.{:03}.{:08x}",
            (i / 60000) % 60,
            (i / 1000) % 60,
            i % 1000,
            i
        );
        let at = rec.find(']').unwrap() + 1;
        t.push_str(&rec[..at]);
        t.push_str(&head);
        let rest = &rec[at + head.len()..];
        t.push_str(if i % 6 == 5 {
            rest.trim_end_matches("$$end_record\n")
        } else {
            rest
        });
        counts.0 += 1;
        if i % 5 == 4 {
            t.push_str(&E4[..50]);
            t.push_str("\nSeverity: x\n");
            counts.1 += 1;
        }
    }
    (t, counts.0, counts.1)
}

#[test]
fn split_then_parse_equals_whole_parse() {
    let (big, parsed, rejected) = generated(3 << 20);
    let p = whole(&big);
    assert_eq!((p.parsed, p.rejected), (parsed, rejected));
    assert!(p
        .events
        .iter()
        .any(|e| sip(e).fields.text("_tid") == Some("1278")));
    for target in [1 << 16, 1 << 20] {
        assert!(check_split(&big, target) > 2);
    }
    let small = format!("junk\n{E1}{E3}{}\nx\n{E5}{E2}", &E4[..70]);
    for target in [1, 10, 200, 1000] {
        check_split(&small, target);
    }
    assert_eq!(split("", 10).len(), 1);
}

#[test]
fn random_texts_keep_the_split_invariant() {
    let mut tokens: Vec<&str> = "\n¦\r\n¦\r¦TL_INFO(TF_DIAG) ¦$$end_record\n¦$$begin_record¦Key: v¦Data: a=\"b;c\"¦ ¦é¦\u{0}¦0x80090322".split('¦').collect();
    tokens.extend([&E1[..60], E3]);
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    for _ in 0..2000 {
        let t: String = (0..next() % 40)
            .map(|_| tokens[(next() % tokens.len() as u64) as usize])
            .collect();
        let p = whole(&t);
        assert_eq!(p.parsed, p.events.len() as u64);
        for target in [1, 37] {
            check_split(&t, target);
        }
    }
}

#[test]
fn huge_body_and_large_trace_are_linear() {
    let mut t = String::from(&E1[..E1.find("Message-Body").unwrap()]);
    t.push_str("Message-Body: ");
    let line = format!(
        "{}\r\n",
        "a=candidate:1 1 UDP 2130706431 10.0.0.1 5000 typ host ".repeat(4)
    );
    while t.len() < 50 << 20 {
        t.push_str(&line);
    }
    t.push_str("$$end_record\r\n");
    let start = std::time::Instant::now();
    let p = whole(&t);
    let body_secs = start.elapsed().as_secs_f64();
    assert_eq!((p.parsed, p.rejected), (1, 0));
    assert!(sip(&p.events[0]).fields.text("Message-Body").unwrap().len() <= VALUE_MAX + 4);
    assert!(p.events[0].excerpt.len() <= EXCERPT_MAX + 4);
    assert!(p.diagnostics[0].message.starts_with("record values cut"));
    let (big, parsed, rejected) = generated(20 << 20);
    let start = std::time::Instant::now();
    let p = whole(&big);
    let secs = start.elapsed().as_secs_f64();
    assert_eq!((p.parsed, p.rejected), (parsed, rejected));
    let mb = big.len() as f64 / 1e6;
    eprintln!(
        "50 MB body: {body_secs:.2}s; {mb:.1} MB trace: {secs:.2}s = {:.1} MB/s",
        mb / secs
    );
    assert!(secs < 60.0 && body_secs < 60.0);
}
