//! Tests of the EWS trace parser. The `faultcode` / `faultstring` / `e:ResponseCode` lines and the
//! `<Trace Tag="EwsResponse" Tid="37" Time="2018-10-30 17:00:18Z" Version="2.2.0.1">` framing are
//! VERIFIED (formats.md §8.5); everything around them is synthetic.

use super::*;

fn run(text: &str) -> Parsed {
    parse(&FileCtx::new("IMP01/ews_trace.xml"), text)
}

fn fields(e: &Event) -> &Props {
    match &e.body {
        Body::LogRow { log_type, fields } if log_type == LOG_TYPE => fields,
        other => panic!("not an ews-trace row: {other:?}"),
    }
}

fn items<'a>(p: &'a Props, name: &str) -> Vec<&'a str> {
    p.get(name).map(Value::items).unwrap_or_default()
}

const REAL_FAULT: &str = r#"<Trace Tag="EwsResponse" Tid="37" Time="2018-10-30 17:00:18Z" Version="2.2.0.1">
  <s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/">
    <s:Body>
      <s:Fault>
        <faultcode xmlns:a="http://schemas.microsoft.com/exchange/services/2006/types">a:ErrorInvalidExchangeImpersonationHeaderData</faultcode>
        <faultstring xml:lang="en-US">ExchangeImpersonation SOAP header must not exist for this type of OAuth token.</faultstring>
        <detail>
          <e:ResponseCode xmlns:e="http://schemas.microsoft.com/exchange/services/2006/errors">ErrorInvalidExchangeImpersonationHeaderData</e:ResponseCode>
          <e:Message xmlns:e="http://schemas.microsoft.com/exchange/services/2006/errors">ExchangeImpersonation SOAP header must not exist for this type of OAuth token.</e:Message>
        </detail>
      </s:Fault>
    </s:Body>
  </s:Envelope>
</Trace>
"#;

#[test]
fn real_soap_fault_prefix_stripped() {
    let p = run(REAL_FAULT);
    assert_eq!((p.parsed, p.rejected), (1, 0), "{:?}", p.diagnostics);
    assert!(p.diagnostics.is_empty());
    let e = &p.events[0];
    let f = fields(e);
    assert_eq!(
        f.text("faultcode"),
        Some("ErrorInvalidExchangeImpersonationHeaderData")
    );
    assert_eq!(
        f.text("ResponseCode"),
        Some("ErrorInvalidExchangeImpersonationHeaderData")
    );
    assert_eq!(
        f.text("faultstring"),
        Some("ExchangeImpersonation SOAP header must not exist for this type of OAuth token.")
    );
    assert_eq!(
        f.text("MessageText"),
        Some("ExchangeImpersonation SOAP header must not exist for this type of OAuth token.")
    );
    assert_eq!(f.text("Tag"), Some("EwsResponse"));
    assert_eq!(f.text("Tid"), Some("37"));
    assert_eq!(f.text("Version"), Some("2.2.0.1"));
    assert_eq!(f.get("SoapAction"), None);
    assert_eq!(
        e.time.map(|t| t.to_rfc3339()).as_deref(),
        Some("2018-10-30T17:00:18+00:00")
    );
    assert_eq!(e.ts_kind, TsKind::Utc);
    assert_eq!((e.loc.line, e.loc.record, e.loc.offset), (1, 1, 0));
    assert_eq!(e.host, None);
    assert_eq!(
        e.excerpt,
        "EwsResponse Tid=37 ResponseCode=ErrorInvalidExchangeImpersonationHeaderData: ExchangeImpersonation SOAP header must not exist for this type of OAuth token."
    );
}

const AVAILABILITY: &str = r#"<?xml version="1.0" encoding="utf-16"?>
<Trace Tag="EwsRequest" Tid="12" Time="2023-11-20 14:15:43Z" Version="2.2.1.0">
  <?xml version="1.0" encoding="utf-8"?>
  <soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types" xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages">
    <soap:Header>
      <t:RequestServerVersion Version="Exchange2013_SP1" />
      <t:ExchangeImpersonation>
        <t:ConnectingSID>
          <t:PrimarySmtpAddress>alice@contoso.com</t:PrimarySmtpAddress>
        </t:ConnectingSID>
      </t:ExchangeImpersonation>
    </soap:Header>
    <soap:Body>
      <m:GetUserAvailabilityRequest>
        <m:MailboxDataArray><t:MailboxData><t:Email><t:Address>alice@contoso.com</t:Address></t:Email></t:MailboxData></m:MailboxDataArray>
      </m:GetUserAvailabilityRequest>
    </soap:Body>
  </soap:Envelope>
</Trace>
<?xml version="1.0" encoding="utf-16"?>
<Trace Tag="EwsResponseHttpHeaders" Tid="12" Time="2023-11-20 14:15:44Z">
HTTP/1.1 200 OK
Content-Type: text/xml; charset=utf-8
</Trace>
<?xml version="1.0" encoding="utf-16"?>
<Trace Tag="EwsResponse" Tid="12" Time="2023-11-20 14:15:44Z" Version="2.2.1.0">
  <s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/">
    <s:Header>
      <h:ServerVersionInfo MajorVersion="15" MinorVersion="1" MajorBuildNumber="2507" MinorBuildNumber="6" xmlns:h="http://schemas.microsoft.com/exchange/services/2006/types" />
    </s:Header>
    <s:Body>
      <GetUserAvailabilityResponse xmlns="http://schemas.microsoft.com/exchange/services/2006/messages">
        <FreeBusyResponseArray>
          <FreeBusyResponse>
            <ResponseMessage ResponseClass="Error">
              <MessageText>The account does not have permission to impersonate the requested user.</MessageText>
              <ResponseCode>ErrorImpersonateUserDenied</ResponseCode>
              <DescriptiveLinkKey>0</DescriptiveLinkKey>
            </ResponseMessage>
          </FreeBusyResponse>
          <FreeBusyResponse>
            <ResponseMessage ResponseClass="Success">
              <ResponseCode>NoError</ResponseCode>
            </ResponseMessage>
          </FreeBusyResponse>
        </FreeBusyResponseArray>
      </GetUserAvailabilityResponse>
    </s:Body>
  </s:Envelope>
</Trace>
"#;

#[test]
fn availability_response_with_per_item_impersonation_denied() {
    let p = run(AVAILABILITY);
    assert_eq!((p.parsed, p.rejected), (1, 0), "{:?}", p.diagnostics);
    assert!(p.diagnostics.is_empty());
    let e = &p.events[0];
    let f = fields(e);
    assert_eq!(f.text("ResponseCode"), Some("ErrorImpersonateUserDenied"));
    assert_eq!(
        items(f, "ResponseCodes"),
        vec!["ErrorImpersonateUserDenied", "NoError"]
    );
    assert_eq!(
        f.text("MessageText"),
        Some("The account does not have permission to impersonate the requested user.")
    );
    assert_eq!(f.text("SoapAction"), Some("GetUserAvailabilityResponse"));
    assert_eq!(f.text("Operation"), Some("GetUserAvailability"));
    assert_eq!(f.text("HttpStatus"), Some("200"));
    assert_eq!(f.text("ImpersonatedUser"), Some("alice@contoso.com"));
    assert_eq!(f.text("ServerVersion"), Some("15.1.2507.6"));
    assert_eq!(f.get("faultcode"), None);
    assert_eq!(e.loc.line, 26);
    assert_eq!(
        e.time.map(|t| t.to_rfc3339()).as_deref(),
        Some("2023-11-20T14:15:44+00:00")
    );
    assert_eq!(
        e.excerpt,
        "EwsResponse Tid=12 GetUserAvailabilityResponse ResponseCode=ErrorImpersonateUserDenied HTTP=200: The account does not have permission to impersonate the requested user."
    );
}

#[test]
fn response_on_another_thread_takes_the_last_request() {
    let t = AVAILABILITY.replace(
        "<Trace Tag=\"EwsResponse\" Tid=\"12\"",
        "<Trace Tag=\"EwsResponse\" Tid=\"27\"",
    );
    let p = run(&t);
    let f = fields(&p.events[0]);
    assert_eq!(f.text("ImpersonatedUser"), Some("alice@contoso.com"));
    assert_eq!(f.text("HttpStatus"), Some("200"));
}

const NO_ERROR: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/">
  <s:Body>
    <m:GetFolderResponse xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages" xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types">
      <m:ResponseMessages>
        <m:GetFolderResponseMessage ResponseClass="Success">
          <m:ResponseCode>NoError</m:ResponseCode>
          <m:Folders><t:CalendarFolder><t:DisplayName>Calendar &amp; more</t:DisplayName></t:CalendarFolder></m:Folders>
        </m:GetFolderResponseMessage>
      </m:ResponseMessages>
    </m:GetFolderResponse>
  </s:Body>
</s:Envelope>
"#;

#[test]
fn no_error_response_document() {
    assert_eq!(
        crate::input::sniff::sniff_text(NO_ERROR, "resp.xml"),
        Some(Format::EwsTrace)
    );
    let p = run(NO_ERROR);
    assert_eq!((p.parsed, p.rejected), (1, 0));
    let e = &p.events[0];
    let f = fields(e);
    assert_eq!(f.text("ResponseCode"), Some("NoError"));
    assert_eq!(items(f, "ResponseCodes"), vec!["NoError"]);
    assert_eq!(f.text("SoapAction"), Some("GetFolderResponse"));
    assert_eq!(f.text("Operation"), Some("GetFolder"));
    assert_eq!(f.get("Tag"), None);
    assert_eq!((e.time, e.ts_kind), (None, TsKind::None));
    assert_eq!(e.loc.line, 2);
    assert_eq!(e.excerpt, "Envelope GetFolderResponse ResponseCode=NoError");
}

#[test]
fn http_401_trace() {
    let t = "<Trace Tag=\"EwsRequestHttpHeaders\" Tid=\"5\" Time=\"2020-01-02 03:04:05Z\">\nPOST /EWS/Exchange.asmx HTTP/1.1\n</Trace>\n<Trace Tag=\"EwsResponseHttpHeaders\" Tid=\"5\" Time=\"2020-01-02 03:04:06Z\">\nHTTP/1.1 401 Unauthorized\nServer: Microsoft-IIS/8.5\nWWW-Authenticate: Negotiate\nWWW-Authenticate: NTLM\n</Trace>\n";
    let p = run(t);
    assert_eq!((p.parsed, p.rejected), (1, 0), "{:?}", p.diagnostics);
    let e = &p.events[0];
    let f = fields(e);
    assert_eq!(f.text("HttpStatus"), Some("401"));
    assert_eq!(f.text("Tag"), Some("EwsResponseHttpHeaders"));
    assert_eq!(items(f, "WwwAuthenticate"), vec!["Negotiate", "NTLM"]);
    assert_eq!(f.get("ResponseCode"), None);
    assert_eq!(e.loc.line, 4);
    assert_eq!(
        e.excerpt,
        "EwsResponseHttpHeaders Tid=5 HTTP=401: HTTP/1.1 401 Unauthorized"
    );
}

#[test]
fn http_status_shapes() {
    // VERIFIED strings (§8.5) and the header line shapes.
    assert_eq!(
        http_status("The remote server returned an error: (401) Unauthorized.").as_deref(),
        Some("401")
    );
    assert_eq!(
        http_status("Error in calling service, error code:401 server: Microsoft-IIS/8.5 request-id: x www-authenticate: Negotiate, NTLM").as_deref(),
        Some("401")
    );
    assert_eq!(http_status("\n  HTTP/1.1 200 OK\n").as_deref(), Some("200"));
    assert_eq!(
        http_status("503 Service Unavailable").as_deref(),
        Some("503")
    );
    assert_eq!(http_status("Determining which endpoints are enabled"), None);
    assert_eq!(http_status("2018 things (12) x"), None);
    assert_eq!(http_status(""), None);
}

#[test]
fn malformed_trace_is_rejected_and_reading_resumes() {
    let bad = "<Trace Tag=\"EwsResponse\" Tid=\"9\" Time=\"2018-10-30 17:00:19Z\">\n  <s:Envelope xmlns:s=\"x\"><s:Body><m:FindItemResponse>\n  </s:Body></s:Envelope>\n</Trace>\n";
    let truncated = "<Trace Tag=\"EwsResponse\" Tid=\"10\">\n  <s:Envelope xmlns:s=\"x\">\n";
    let t = format!("{REAL_FAULT}{bad}{truncated}{REAL_FAULT}");
    let p = run(&t);
    assert_eq!((p.parsed, p.rejected), (2, 2), "{:?}", p.diagnostics);
    let lines: Vec<u64> = p.diagnostics.iter().map(|d| d.line).collect();
    assert_eq!(lines, vec![17, 19]);
    assert!(p.diagnostics.iter().all(|d| d.level == DiagLevel::Error));
    assert!(p.diagnostics[1]
        .message
        .contains("before the previous one ended"));
    assert_eq!(p.events[1].loc.line, 21);
    let records: Vec<u64> = p.events.iter().map(|e| e.loc.record).collect();
    assert_eq!(records, vec![1, 4]);
    // Truncated at the end of the file.
    let p = run(&format!("{REAL_FAULT}<Trace Tag=\"EwsResponse\"><a>"));
    assert_eq!((p.parsed, p.rejected), (1, 1));
}

#[test]
fn garbage_and_empty_inputs() {
    for (t, parsed, rejected) in [
        ("", 0, 1),
        ("just text", 0, 1),
        ("<<<>>>", 0, 1),
        ("<Trace Tag=\"EwsLog\">Determining endpoints</Trace>", 0, 0),
        ("<Trace Tag=\"EwsResponse\"></Trace>", 0, 0),
        ("</Trace>", 0, 1),
    ] {
        let p = run(t);
        assert_eq!(
            (p.parsed, p.rejected),
            (parsed, rejected),
            "{t:?}: {:?}",
            p.diagnostics
        );
        if parsed + rejected == 0 {
            assert_eq!(p.diagnostics.len(), 1);
            assert_eq!(p.diagnostics[0].level, DiagLevel::Warning);
        }
    }
}

#[test]
fn random_texts_do_not_panic() {
    let tokens = [
        "<Trace Tag=\"EwsResponse\" Tid=\"1\" Time=\"2018-10-30 17:00:18Z\">",
        "</Trace>",
        "<s:Envelope>",
        "</s:Envelope>",
        "<s:Body>",
        "</s:Body>",
        "<ResponseCode>",
        "</ResponseCode>",
        "ErrorX",
        "HTTP/1.1 401 Unauthorized\n",
        "<faultcode>a:ErrorY</faultcode>",
        "&amp;",
        "&bogus;",
        "<",
        ">",
        "\n",
        "é",
        "<?xml version=\"1.0\"?>",
    ];
    for t in crate::formats::exlog::tests::junk_texts(&tokens, 3000) {
        let p = run(&t);
        assert_eq!(p.parsed, p.events.len() as u64);
    }
}

#[test]
fn grammar_examples_parse_cleanly() {
    let md = include_str!("../../grammars/ews-trace.md");
    let blocks = crate::formats::exlog::tests::grammar_examples(md);
    assert!(!blocks.is_empty());
    for b in &blocks {
        assert_eq!(
            crate::input::sniff::sniff_text(b, "example.txt"),
            Some(Format::EwsTrace)
        );
        let p = run(b);
        assert!(p.parsed >= 1 && p.rejected == 0, "{b}: {:?}", p.diagnostics);
        assert!(p.diagnostics.is_empty(), "{:?}", p.diagnostics);
    }
}

#[test]
fn multibyte_start_and_bom_do_not_stop_resume() {
    let t = format!("é</x>{REAL_FAULT}");
    let p = run(&t);
    assert_eq!((p.parsed, p.rejected), (1, 1), "{:?}", p.diagnostics);
    let p = run(&format!("\u{feff}{REAL_FAULT}"));
    assert_eq!((p.parsed, p.rejected), (1, 0));
}
