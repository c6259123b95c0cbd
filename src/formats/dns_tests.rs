//! Tests of the nslookup / Resolve-DnsName parser (kept apart to keep `dns.rs` readable).
use super::*;

/// `tool|query|type|answers|error` of every record, and (parsed, rejected, warnings).
fn run(t: &str) -> (Vec<String>, (u64, u64, usize)) {
    let p = parse(&FileCtx::new("dns.txt"), t);
    let warn = p
        .diagnostics
        .iter()
        .filter(|d| d.level == DiagLevel::Warning);
    let counts = (p.parsed, p.rejected, warn.count());
    let recs = p.events.iter().map(|e| match &e.body {
        Body::Dns(r) => {
            let (err, ans) = (r.error.as_deref().unwrap_or(""), r.answers.join(","));
            format!("{}|{}|{}|{ans}|{err}", r.tool, r.query, r.rtype)
        }
        _ => String::new(),
    });
    (recs.collect(), counts)
}

#[test]
fn nslookup_answer_with_aliases_and_nxdomain() {
    let t = "Server:  dc01.contoso.local\r\nAddress:  10.0.0.10\r\n\r\nNon-authoritative answer:\r\nName:    mail.contoso.com\r\nAddresses:  2001:db8::20\r\n          10.0.0.20\r\nAliases:  autodiscover.contoso.com\r\n          owa.contoso.com.\r\n\r\n";
    let (r, n) = run(t);
    assert_eq!(
        r,
        [
            "nslookup|autodiscover.contoso.com|CNAME|owa.contoso.com|",
            "nslookup|owa.contoso.com|CNAME|mail.contoso.com|",
            "nslookup|mail.contoso.com||2001:db8::20,10.0.0.20|"
        ]
    );
    assert_eq!(n, (3, 0, 0));
    let p = parse(&FileCtx::new("x"), t);
    let loc = &p.events[2].loc;
    assert_eq!((loc.line, loc.record, loc.offset), (5, 3, 79));
    assert_eq!(p.events[0].ts_kind, crate::model::TsKind::None);
    let t = "Server:  dc01.contoso.local\nAddress:  10.0.0.10\n\n*** dc01.contoso.local can't find Autodiscover.Contoso.com.: Non-existent domain\n";
    let (r, n) = run(t);
    assert_eq!(
        (r, n),
        (
            vec!["nslookup|autodiscover.contoso.com|||nxdomain".into()],
            (1, 0, 0)
        )
    );
}

#[test]
fn nslookup_interactive_srv() {
    let t = "Default Server:  dc01.contoso.local
Address:  10.0.0.10

> set type=srv
> _autodiscover._tcp.contoso.com
Server:  dc01.contoso.local
Address:  10.0.0.10

_autodiscover._tcp.contoso.com  SRV service location:
      priority       = 0
      weight         = 0
      port           = 443
      svr hostname   = mail.contoso.com
_autodiscover._tcp.contoso.com  SRV service location:
      priority       = 10
      weight         = 0
      port           = 443
      svr hostname   = mail2.contoso.com
mail.contoso.com        internet address = 10.0.0.20
> _autodiscover._tcp.fabrikam.com
Server:  dc01.contoso.local
Address:  10.0.0.10

*** dc01.contoso.local can't find _autodiscover._tcp.fabrikam.com: Non-existent domain
> _autodiscover._tcp.contoso.net
Server:  dc01.contoso.local
Address:  10.0.0.10

contoso.net
    primary name server = ns1.contoso.net
    responsible mail addr = hostmaster.contoso.net
> set q=a
> mail.contoso.com
*** Request to dc01.contoso.local timed-out
> exit
";
    let (r, n) = run(t);
    assert_eq!(r, [
        "nslookup|_autodiscover._tcp.contoso.com|SRV|0 0 443 mail.contoso.com,10 0 443 mail2.contoso.com|",
        "nslookup|mail.contoso.com|A|10.0.0.20|",
        "nslookup|_autodiscover._tcp.fabrikam.com|SRV||nxdomain",
        "nslookup|_autodiscover._tcp.contoso.net|SRV||no-records",
        "nslookup|mail.contoso.com|A||timeout",
    ]);
    assert_eq!(n, (5, 0, 0));
}

#[test]
fn nslookup_timeouts_and_resolver_noise() {
    let t = "PS C:\\> nslookup -type=a autodiscover.contoso.com 10.0.0.10
*** Can't find server name for address 10.0.0.10: Non-existent domain
DNS request timed out.
timeout was 2 seconds.
Server:  UnKnown
Address:  10.0.0.10

DNS request timed out.
timeout was 2 seconds.
DNS request timed out.
timeout was 2 seconds.
PS C:\\> nslookup lyncdiscover.contoso.com
No response from server
";
    let (r, n) = run(t);
    assert_eq!(
        r,
        [
            "nslookup|autodiscover.contoso.com|A||timeout",
            "nslookup|lyncdiscover.contoso.com|||timeout"
        ]
    );
    assert_eq!(n, (2, 0, 1));
    // A timeout with no echoed name: kept with an empty query and a warning.
    let (r, n) = run(
        "Server:  x\nAddress:  10.0.0.1\n\nDNS request timed out.\n*** Request to x timed-out\n",
    );
    assert_eq!((r, n), (vec!["nslookup||||timeout".to_string()], (1, 0, 1)));
}

#[test]
fn resolve_dnsname_tables_lists_and_errors() {
    let t = "PS C:\\> Resolve-DnsName autodiscover.contoso.com

Name                           Type   TTL   Section    NameHost
----                           ----   ---   -------    --------
autodiscover.contoso.com       CNAME  3600  Answer     mail.contoso.com

Name       : mail.contoso.com
QueryType  : A
TTL        : 3600
Section    : Answer
IP4Address : 10.0.0.20


PS C:\\> Resolve-DnsName -Name mail.contoso.com

Name                                           Type   TTL   Section    IPAddress
----                                           ----   ---   -------    ---------
mail.contoso.com                               AAAA   3600  Answer     2001:db8::20
mail.contoso.com                               A      3600  Answer     10.0.0.20
mail.contoso.com                               A      3600  Answer     10.0.0.21

PS C:\\> Resolve-DnsName _autodiscover._tcp.contoso.com -Type SRV

Name                                     Type   TTL   Section    NameTarget                     Priority Weight Port
----                                     ----   ---   -------    ----------                     -------- ------ ----
_autodiscover._tcp.contoso.com           SRV    3600  Answer     mail.contoso.com               0        0      443
mail.contoso.com                         A      3600  Additional                                                   

Resolve-DnsName : autodiscover.fabrikam.com : DNS name does not exist
At line:1 char:1
+ Resolve-DnsName autodiscover.fabrikam.com -Type A
+ ~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~
+ CategoryInfo          : ResourceUnavailable: (autodiscover.fabrikam.com:String) [Resolve-DnsName], Win32Exception
+ FullyQualifiedErrorId : DNS_ERROR_RCODE_NAME_ERROR,Microsoft.DnsClient.Commands.ResolveDnsName

Resolve-DnsName: lyncdiscover.contoso.com : This operation returned because the timeout period expired.
";
    let (r, n) = run(t);
    assert_eq!(
        r,
        [
            "Resolve-DnsName|autodiscover.contoso.com|CNAME|mail.contoso.com|",
            "Resolve-DnsName|mail.contoso.com|A|10.0.0.20|",
            "Resolve-DnsName|mail.contoso.com|AAAA|2001:db8::20|",
            "Resolve-DnsName|mail.contoso.com|A|10.0.0.20,10.0.0.21|",
            "Resolve-DnsName|_autodiscover._tcp.contoso.com|SRV|0 0 443 mail.contoso.com|",
            "Resolve-DnsName|mail.contoso.com|A||",
            "Resolve-DnsName|autodiscover.fabrikam.com|A||nxdomain",
            "Resolve-DnsName|lyncdiscover.contoso.com|||timeout",
        ]
    );
    assert_eq!(n, (8, 0, 0));
}

#[test]
fn junk_is_reported_not_dropped() {
    assert_eq!(run(""), (vec![], (0, 0, 0)));
    let (r, n) = run("Server:  a\nAddress:  b\n\u{0}junk \u{fffd}\nName:    x.contoso.com\n\nName  Type\n----  ----\n  \n");
    assert_eq!((r.len(), n), (0, (0, 1, 1)));
    let (_, n) = run(&"garbage line\n".repeat(60));
    assert_eq!(n, (0, 0, 51));
    let tokens: Vec<&str> = "\n|\r\n| |Server:|Address:|Name:|***|:|=|> |set type=srv|x.com|10.0.0.1|SRV service location:|Resolve-DnsName : |----|Name Type|é|\u{0}|+|Name : a|Type : A".split('|').collect();
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    for _ in 0..3000 {
        let mut t = String::new();
        for _ in 0..(x % 50) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            t.push_str(tokens[(x % tokens.len() as u64) as usize]);
        }
        x = x.wrapping_add(0x2545_F491_4F6C_DD1D);
        let p = parse(&FileCtx::new("r"), &t);
        assert_eq!(p.parsed, p.events.len() as u64);
    }
}
